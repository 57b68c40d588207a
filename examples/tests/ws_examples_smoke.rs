//! Runs the WebSocket examples against each other: each server is started with `--port 0` and tells us its
//! port by printing its URL; each client runs to completion and must exit 0. Every child process is killed
//! when its guard drops (also when an assertion panics), and every wait is bounded.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use lws::client::{self, Message};

/// A child process, killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Guard {
    /// Waits for the process to exit, at most `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            sleep(Duration::from_millis(20));
        }
        None
    }
}

/// A running server example and the lines it has printed so far.
struct Server {
    guard: Guard,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `bin --port 0 <args>` and waits (at most 10 s) for the URL it prints.
    fn start(bin: &str, args: &[&str]) -> Server {
        let child = Command::new(bin)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let mut guard = Guard(child);
        let stdout = guard.0.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        // Forwards every line, and keeps draining so the example never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{bin} printed no URL within 10 s"));
            if let Some(port) = printed_port(&line) {
                break port;
            }
        };
        Server { guard, port, lines }
    }

    /// The lines printed since the URL, waiting at most `limit` for more once the process is gone.
    fn output(&self, limit: Duration) -> String {
        let mut out = String::new();
        while let Ok(line) = self.lines.recv_timeout(limit) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// The port of the first `://127.0.0.1:PORT` in a line.
fn printed_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("://127.0.0.1:")? + "://127.0.0.1:".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Runs a client example to completion (killed after `limit`); returns its exit status and stdout.
fn run_client(bin: &str, args: &[&str], limit: Duration) -> (ExitStatus, String) {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let mut guard = Guard(child);
    let mut stdout = guard.0.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = guard
        .wait_exit(limit)
        .unwrap_or_else(|| panic!("{bin} {args:?} did not finish within {limit:?}"));
    let out = reader.join().unwrap_or_default();
    (status, out)
}

#[test]
fn echo_server_and_spam_client() {
    let echo = Server::start(env!("CARGO_BIN_EXE_minimal-ws-server-echo"), &[]);
    let port = echo.port.to_string();
    let (status, out) = run_client(
        env!("CARGO_BIN_EXE_minimal-ws-client-spam"),
        &["--port", &port, "-c", "4", "-l", "20"],
        Duration::from_secs(60),
    );
    assert!(status.success(), "spam failed: {out}");
    assert!(out.contains("20 ok, 0 failed"), "{out}");
}

#[test]
fn echo_server_without_pmd_and_ping_client() {
    let echo = Server::start(env!("CARGO_BIN_EXE_minimal-ws-server-echo"), &["-n"]);
    let port = echo.port.to_string();
    let (status, out) = run_client(
        env!("CARGO_BIN_EXE_minimal-ws-client-ping"),
        &[
            "--port",
            &port,
            "--protocol",
            "lws-echo",
            "--interval",
            "0.1",
            "-t",
            "--count",
            "3",
        ],
        Duration::from_secs(30),
    );
    assert!(status.success(), "ping failed: {out}");
    assert!(out.contains("round trip 3:"), "{out}");
}

/// The pmd-bulk server and client exchange a message each way and both check the content.
fn pmd_bulk(extra: &[&str], negotiated: &str) {
    let size = "3000000";
    let mut server_args = vec!["-t", "--size", size];
    server_args.extend_from_slice(extra);
    let mut server = Server::start(
        env!("CARGO_BIN_EXE_minimal-ws-server-pmd-bulk"),
        &server_args,
    );
    let port = server.port.to_string();
    let mut client_args = vec!["--port", &port, "-t", "--size", size];
    client_args.extend_from_slice(extra);
    let (status, out) = run_client(
        env!("CARGO_BIN_EXE_minimal-ws-client-pmd-bulk"),
        &client_args,
        Duration::from_secs(120),
    );
    assert!(status.success(), "pmd-bulk client failed: {out}");
    assert!(
        out.contains("received 3000000 bytes with the expected content"),
        "{out}"
    );
    assert!(out.contains(negotiated), "{out}");
    let exit = server.guard.wait_exit(Duration::from_secs(20));
    let server_out = server.output(Duration::from_secs(1));
    assert!(
        exit.is_some_and(|s| s.success()),
        "pmd-bulk server in test mode: {exit:?}: {server_out}"
    );
    assert!(server_out.contains("PASS"), "{server_out}");
}

#[test]
fn pmd_bulk_server_and_client() {
    pmd_bulk(&[], "permessage-deflate on");
}

#[test]
fn pmd_bulk_server_and_client_uncompressed() {
    pmd_bulk(&["-n"], "permessage-deflate off");
}

#[test]
fn broker_and_threaded_publishers() {
    let broker = Server::start(env!("CARGO_BIN_EXE_minimal-ws-broker"), &[]);
    let port = broker.port.to_string();
    let (status, out) = run_client(
        env!("CARGO_BIN_EXE_minimal-ws-client-tx"),
        &[
            "--port",
            &port,
            "-t",
            "--threads",
            "3",
            "--count",
            "50",
            "--interval",
            "1",
        ],
        Duration::from_secs(60),
    );
    assert!(status.success(), "client-tx failed: {out}");
    assert!(
        out.contains("subscriber received all 150 messages"),
        "{out}"
    );
}

#[test]
fn chat_server_broadcasts_to_every_member() {
    let chat = Server::start(env!("CARGO_BIN_EXE_minimal-ws-server"), &[]);
    let url = format!("ws://127.0.0.1:{}/", chat.port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let run = async {
            let builder = client::ws(&url).protocol("lws-minimal");
            let mut a = builder.connect().await.expect("connect a");
            let mut b = builder.connect().await.expect("connect b");
            assert_eq!(a.protocol(), Some("lws-minimal"));
            // Let the server register both members before anything is said.
            tokio::time::sleep(Duration::from_millis(100)).await;
            a.send(Message::Text("hello from a".into()))
                .await
                .expect("send");
            for ws in [&mut a, &mut b] {
                match ws.recv().await {
                    Some(Ok(Message::Text(t))) => assert_eq!(t, "hello from a"),
                    other => panic!("expected the broadcast, got {other:?}"),
                }
            }
            let _ = a.close(1000, "").await;
            let _ = b.close(1000, "").await;
        };
        tokio::time::timeout(Duration::from_secs(20), run)
            .await
            .expect("chat exchange timed out");
    });

    // The page is served with the strict CSP, and its script is a separate file.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", chat.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    std::io::Write::write_all(
        &mut s,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .expect("write");
    let mut page = String::new();
    let _ = s.read_to_string(&mut page);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let lower = page.to_ascii_lowercase();
    assert!(
        lower.contains("content-security-policy: default-src 'none'"),
        "{page}"
    );
    assert!(
        page.contains("<script src=\"example.js\"></script>"),
        "{page}"
    );
}
