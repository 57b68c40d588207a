//! Runs the raw-role examples for real: servers are started with `--port 0` and tell us their port by
//! printing `listening on 127.0.0.1:PORT`; peers they talk to (echo listeners, onward targets) are bound
//! here on 127.0.0.1:0. Every wait is for an event (a printed line, a byte read, the end of the output)
//! with a bound, and every child process is killed when its guard drops (also when an assertion panics).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use lws::client::{self, Message};

/// How long any single wait may take.
const LIMIT: Duration = Duration::from_secs(20);

/// A running example, killed when dropped; its stdout arrives line by line, its stderr is collected.
struct Example {
    child: Child,
    name: &'static str,
    lines: mpsc::Receiver<String>,
    /// Every stdout line received so far.
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    /// Collects stderr until the example closes it.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Example {
    /// Starts `bin <args>` with stdin piped (taken with [`Example::stdin`]).
    fn start(name: &'static str, bin: &str, args: &[&str]) -> Example {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        // Forwards every line, and keeps draining so the example never blocks on a full pipe; the channel
        // disconnects when the example's stdout closes (it exited).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buf) {
                if let Ok(mut s) = collected.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        Example {
            child,
            name,
            lines,
            seen: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// The example's stdin (once).
    fn stdin(&mut self) -> std::process::ChildStdin {
        self.child.stdin.take().expect("stdin taken once")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits for the first stdout line `want` accepts and returns what it made of it.
    fn wait_line<T>(&mut self, what: &str, mut want: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = want(&line);
                    self.seen.push(line);
                    if let Some(v) = found {
                        return v;
                    }
                }
                Err(e) => panic!(
                    "{}: no line {what} ({e:?}); stdout so far: {:?}; stderr: {}",
                    self.name,
                    self.seen,
                    self.stderr()
                ),
            }
        }
    }

    /// Waits for a line containing `text`.
    fn wait_for(&mut self, text: &str) {
        self.wait_line(&format!("containing {text:?}"), |l| {
            l.contains(text).then_some(())
        });
    }

    /// The port of the `listening on [udp ]127.0.0.1:PORT` line.
    fn port(&mut self) -> u16 {
        self.wait_line("listening on 127.0.0.1:PORT", listening_port)
    }

    /// Waits until the example exits (its stdout ends, then the process is reaped and its stderr read to
    /// the end); returns its status and all of its stdout.
    fn wait_exit(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "{} did not exit within {LIMIT:?}; stdout: {:?}; stderr: {}",
                    self.name,
                    self.seen,
                    self.stderr()
                ),
            }
        }
        let status = self.child.wait().expect("wait");
        // Its stderr is closed too now: take all of it.
        if let Some(r) = self.stderr_reader.take() {
            let _ = r.join();
        }
        (status, self.seen.join("\n"))
    }
}

/// The port in `listening on 127.0.0.1:PORT` or `listening on udp 127.0.0.1:PORT`.
fn listening_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("listening on ")?;
    let rest = rest.strip_prefix("udp ").unwrap_or(rest);
    let rest = rest.strip_prefix("127.0.0.1:")?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A TCP connection to 127.0.0.1:`port` with bounded reads.
fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(LIMIT)).expect("read timeout");
    s
}

/// Reads exactly `n` bytes.
fn read_n(s: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("read");
    buf
}

/// Reads until the peer closes.
fn read_to_end(s: &mut impl Read) -> Vec<u8> {
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("read to the end");
    got
}

/// A listener on 127.0.0.1:0 whose connections run `serve` on threads of their own.
fn listener(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for s in l.incoming().map_while(Result::ok) {
            let serve = serve.clone();
            let _ = s.set_read_timeout(Some(LIMIT));
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Echoes until the peer shuts its side, then closes.
fn echo(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf) {
        if s.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// A port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn line(r: &mut impl BufRead) -> String {
    let mut s = String::new();
    r.read_line(&mut s).expect("read line");
    s
}

#[test]
fn raw_vhost_passes_what_one_client_says_to_all() {
    let mut ex = Example::start(
        "minimal-raw-vhost",
        env!("CARGO_BIN_EXE_minimal-raw-vhost"),
        &["--port", "0"],
    );
    let port = ex.port();
    let mut a = BufReader::new(connect(port));
    // The welcome is sent once the client is registered: after it, broadcasts reach it.
    assert_eq!(line(&mut a), "** welcome: 1 connected\n");
    let mut b = BufReader::new(connect(port));
    assert_eq!(line(&mut b), "** welcome: 2 connected\n");

    a.get_mut().write_all(b"hello from a\n").expect("write");
    assert_eq!(line(&mut a), "hello from a\n");
    assert_eq!(line(&mut b), "hello from a\n");
    b.get_mut().write_all(b"and from b\n").expect("write");
    assert_eq!(line(&mut a), "and from b\n");
    assert_eq!(line(&mut b), "and from b\n");

    // A client that leaves is dropped from the list; the others go on.
    drop(a);
    ex.wait_for("a client left (1 connected)");
    b.get_mut().write_all(b"alone\n").expect("write");
    assert_eq!(line(&mut b), "alone\n");
    let mut c = BufReader::new(connect(port));
    assert_eq!(line(&mut c), "** welcome: 2 connected\n");
}

#[test]
fn raw_adopt_udp_echoes_each_datagram_to_its_sender() {
    let mut ex = Example::start(
        "minimal-raw-adopt-udp",
        env!("CARGO_BIN_EXE_minimal-raw-adopt-udp"),
        &["--port", "0"],
    );
    let port = ex.port();
    let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let b = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for s in [&a, &b] {
        s.set_read_timeout(Some(LIMIT)).expect("timeout");
        s.connect(("127.0.0.1", port)).expect("connect");
    }
    a.send(b"ping from a").expect("send");
    b.send(b"ping from b").expect("send");
    let mut buf = [0u8; 64];
    let n = a.recv(&mut buf).expect("echo to a");
    assert_eq!(&buf[..n], b"ping from a");
    let n = b.recv(&mut buf).expect("echo to b");
    assert_eq!(&buf[..n], b"ping from b");
    ex.wait_for("datagram 2 from");
}

#[test]
fn raw_adopt_tcp_echoes_on_an_accepted_socket() {
    let mut ex = Example::start(
        "minimal-raw-adopt-tcp",
        env!("CARGO_BIN_EXE_minimal-raw-adopt-tcp"),
        &["--port", "0"],
    );
    let port = ex.port();
    let mut s = connect(port);
    s.write_all(b"echo me").expect("write");
    assert_eq!(read_n(&mut s, 7), b"echo me");
    s.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(read_to_end(&mut s), b"bye\n");
    ex.wait_for("connection closed");
}

#[test]
fn raw_adopt_tcp_adopts_an_outgoing_connection() {
    let port = listener(|mut s| {
        s.write_all(b"hello adopter\n").expect("write");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        // The example echoes; then our half-close gets its goodbye and the connection ends.
        assert_eq!(line(&mut r), "hello adopter\n");
        s.shutdown(Shutdown::Write).expect("half-close");
        assert_eq!(read_to_end(&mut r), b"bye\n");
    });
    let mut ex = Example::start(
        "minimal-raw-adopt-tcp",
        env!("CARGO_BIN_EXE_minimal-raw-adopt-tcp"),
        &["--connect", &format!("127.0.0.1:{port}")],
    );
    let (status, out) = ex.wait_exit();
    assert!(status.success(), "{status}: {out}; {}", ex.stderr());
    assert!(out.contains("connection closed"), "{out}");
}

#[test]
fn raw_proxy_forwards_both_ways_and_passes_the_half_close_on() {
    let onward = listener(echo);
    let mut ex = Example::start(
        "minimal-raw-proxy",
        env!("CARGO_BIN_EXE_minimal-raw-proxy"),
        &[
            "--port",
            "0",
            "--onward",
            &format!("ipv4:127.0.0.1:{onward}"),
        ],
    );
    let port = ex.port();
    let mut s = connect(port);
    s.write_all(b"through the proxy\n").expect("write");
    assert_eq!(read_n(&mut s, 18), b"through the proxy\n");
    s.write_all(b"last words").expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    // The echo server sees the end, ends its side, and the proxy passes that back.
    assert_eq!(read_to_end(&mut s), b"last words");
}

#[test]
fn raw_proxy_closes_the_client_when_the_onward_side_is_down() {
    let onward = closed_port();
    let mut ex = Example::start(
        "minimal-raw-proxy",
        env!("CARGO_BIN_EXE_minimal-raw-proxy"),
        &[
            "--port",
            "0",
            "--onward",
            &format!("ipv4:127.0.0.1:{onward}"),
        ],
    );
    let port = ex.port();
    let mut s = connect(port);
    assert_eq!(read_to_end(&mut s), b"");
}

#[test]
fn raw_proxy_refuses_a_bad_onward_address() {
    let mut ex = Example::start(
        "minimal-raw-proxy",
        env!("CARGO_BIN_EXE_minimal-raw-proxy"),
        &["--port", "0", "--onward", "ipv4:127.0.0.1:99999"],
    );
    let (status, _) = ex.wait_exit();
    assert!(!status.success());
    assert!(ex.stderr().contains("--onward"), "{}", ex.stderr());
}

/// Sends a GET for `/` and returns the whole answer.
fn http_get(port: u16) -> String {
    let mut s = connect(port);
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("write");
    String::from_utf8_lossy(&read_to_end(&mut s)).into_owned()
}

#[test]
fn raw_proxy_fallback_serves_http_and_forwards_the_rest_on_one_port() {
    let onward = listener(echo);
    let mut ex = Example::start(
        "minimal-raw-proxy-fallback",
        env!("CARGO_BIN_EXE_minimal-raw-proxy-fallback"),
        &[
            "--port",
            "0",
            "--onward",
            &format!("ipv4:127.0.0.1:{onward}"),
        ],
    );
    let port = ex.port();
    let page = http_get(port);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("minimal-raw-proxy-fallback"), "{page}");

    // An SSH banner is not HTTP: it goes, with what follows, to the echo server behind the proxy.
    let mut s = connect(port);
    s.write_all(b"SSH-2.0-test\r\n").expect("write");
    assert_eq!(read_n(&mut s, 14), b"SSH-2.0-test\r\n");
    s.write_all(b"more").expect("write");
    assert_eq!(read_n(&mut s, 4), b"more");

    // A line that is not an HTTP request line is forwarded too, even with a word and a space.
    let mut t = connect(port);
    t.write_all(b"hello world\n").expect("write");
    assert_eq!(read_n(&mut t, 12), b"hello world\n");

    // HTTP still works while forwarded connections are open.
    assert!(http_get(port).starts_with("HTTP/1.1 200"));
}

#[test]
fn raw_proxy_fallback_serves_a_docroot() {
    let onward = listener(echo);
    let dir = std::env::temp_dir().join(format!("lws-raw-fallback-docroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("index.html"), "<p>from the docroot</p>\n").expect("write index");
    let docroot = dir.to_string_lossy().into_owned();
    let mut ex = Example::start(
        "minimal-raw-proxy-fallback",
        env!("CARGO_BIN_EXE_minimal-raw-proxy-fallback"),
        &[
            "--port",
            "0",
            "--onward",
            &format!("ipv4:127.0.0.1:{onward}"),
            "--docroot",
            &docroot,
        ],
    );
    let port = ex.port();
    let page = http_get(port);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("from the docroot"), "{page}");
}

/// The repository's self-signed test certificate and key.
fn test_cert() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/certs");
    (
        dir.join("localhost.cert.pem"),
        dir.join("localhost.key.pem"),
    )
}

#[test]
fn raw_proxy_fallback_over_tls_lets_non_tls_bytes_through() {
    let onward = listener(echo);
    let (cert, key) = test_cert();
    let (cert_s, key_s) = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let mut ex = Example::start(
        "minimal-raw-proxy-fallback",
        env!("CARGO_BIN_EXE_minimal-raw-proxy-fallback"),
        &[
            "--port",
            "0",
            "--onward",
            &format!("ipv4:127.0.0.1:{onward}"),
            "--tls-cert",
            &cert_s,
            "--tls-key",
            &key_s,
        ],
    );
    let port = ex.port();

    let mut s = connect(port);
    s.write_all(b"SSH-2.0-test\r\n").expect("write");
    assert_eq!(read_n(&mut s, 14), b"SSH-2.0-test\r\n");

    let page = block_on_within("the https GET", async {
        let resp = client::http(&format!("https://127.0.0.1:{port}/"))
            .ca_file(&cert)
            .timeout(LIMIT)
            .send()
            .await
            .expect("https GET");
        assert_eq!(resp.status(), 200);
        resp.text().await.expect("body")
    });
    assert!(page.contains("minimal-raw-proxy-fallback"), "{page}");
}

#[test]
fn raw_client_sends_its_line_and_prints_the_reply() {
    let port = listener(|s| {
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let got = line(&mut r);
        let mut s = s;
        let _ = s.write_all(format!("got: {got}").as_bytes());
        // Closing ends the client.
    });
    let mut ex = Example::start(
        "minimal-raw-client",
        env!("CARGO_BIN_EXE_minimal-raw-client"),
        &[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--message",
            "hi there",
        ],
    );
    let (status, out) = ex.wait_exit();
    assert!(status.success(), "{status}: {out}; {}", ex.stderr());
    assert!(out.contains("got: hi there"), "{out}");
    assert!(out.contains("the server closed the connection"), "{out}");
}

#[test]
fn raw_client_gives_up_when_nothing_listens() {
    let port = closed_port();
    let mut ex = Example::start(
        "minimal-raw-client",
        env!("CARGO_BIN_EXE_minimal-raw-client"),
        &[
            "--server",
            &format!("127.0.0.1:{port}"),
            "--retries",
            "0",
            "--connect-timeout",
            "2",
        ],
    );
    let (status, out) = ex.wait_exit();
    assert!(!status.success(), "{out}");
    assert!(
        ex.stderr()
            .contains(&format!("connecting to 127.0.0.1:{port}")),
        "{}",
        ex.stderr()
    );
}

#[test]
fn raw_client_refuses_a_bad_server_address() {
    let mut ex = Example::start(
        "minimal-raw-client",
        env!("CARGO_BIN_EXE_minimal-raw-client"),
        &["--server", "no-port-here"],
    );
    let (status, _) = ex.wait_exit();
    assert!(!status.success());
    assert!(ex.stderr().contains("needs a port"), "{}", ex.stderr());
}

#[test]
fn raw_netcat_sends_stdin_half_closes_and_prints_the_reply() {
    // Replies only once the client has half-closed: proves stdin's end reached the socket.
    let port = listener(|mut s| {
        let got = read_to_end(&mut s);
        let reply = format!(
            "received {} bytes:\n{}",
            got.len(),
            String::from_utf8_lossy(&got)
        );
        let _ = s.write_all(reply.as_bytes());
    });
    let mut ex = Example::start(
        "minimal-raw-netcat",
        env!("CARGO_BIN_EXE_minimal-raw-netcat"),
        &["--server", &format!("127.0.0.1:{port}")],
    );
    let mut stdin = ex.stdin();
    stdin
        .write_all(b"line one\nline two\n")
        .expect("write stdin");
    drop(stdin);
    let (status, out) = ex.wait_exit();
    assert!(status.success(), "{status}: {out}; {}", ex.stderr());
    assert_eq!(out, "received 18 bytes:\nline one\nline two");
}

#[test]
fn raw_netcat_copies_a_large_stream_both_ways() {
    let port = listener(echo);
    let mut ex = Example::start(
        "minimal-raw-netcat",
        env!("CARGO_BIN_EXE_minimal-raw-netcat"),
        &["--server", &format!("127.0.0.1:{port}")],
    );
    let mut stdin = ex.stdin();
    // 4 MiB of lines: more than every buffer on the way, so backpressure has to work in both directions.
    let writer = std::thread::spawn(move || {
        for i in 0..(4 << 20) / 16 {
            stdin
                .write_all(format!("line {i:010}\n").as_bytes())
                .expect("write stdin");
        }
    });
    let (status, out) = ex.wait_exit();
    writer.join().expect("writer");
    assert!(status.success(), "{status}; {}", ex.stderr());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), (4 << 20) / 16);
    assert!(lines
        .iter()
        .enumerate()
        .all(|(i, l)| *l == format!("line {i:010}")));
}

#[test]
fn raw_file_prints_what_is_written_to_its_fifo() {
    let mut ex = Example::start(
        "minimal-raw-file",
        env!("CARGO_BIN_EXE_minimal-raw-file"),
        &[],
    );
    let path = ex.wait_line("reading PATH", |l| {
        l.strip_prefix("reading ").map(PathBuf::from)
    });
    // The example holds the FIFO open for reading (and writing), so opening it to write does not block.
    for text in ["hello fifo\n", "second writer\n"] {
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open the fifo");
        w.write_all(text.as_bytes()).expect("write the fifo");
    }
    ex.wait_for("hello fifo");
    ex.wait_for("second writer");
    // Ctrl-C removes the FIFO and its directory.
    let status = Command::new("kill")
        .args(["-INT", &ex.child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let (status, _) = ex.wait_exit();
    assert!(status.success(), "{status}; {}", ex.stderr());
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn raw_file_refuses_a_regular_file() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let mut ex = Example::start(
        "minimal-raw-file",
        env!("CARGO_BIN_EXE_minimal-raw-file"),
        &[file],
    );
    let (status, _) = ex.wait_exit();
    assert!(!status.success());
    assert!(ex.stderr().contains("regular file"), "{}", ex.stderr());
}

/// Runs `fut` on a fresh current-thread runtime; fails the test if it takes longer than [`LIMIT`].
fn block_on_within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(LIMIT, fut)
            .await
            .unwrap_or_else(|_| panic!("{what} timed out"))
    })
}

/// Starts minimal-ws-raw-proxy forwarding to `onward`; returns it and its port.
fn ws_raw_proxy(onward: u16) -> (Example, u16) {
    let mut ex = Example::start(
        "minimal-ws-raw-proxy",
        env!("CARGO_BIN_EXE_minimal-ws-raw-proxy"),
        &["--port", "0", "--onward", &format!("127.0.0.1:{onward}")],
    );
    let port = ex.port();
    (ex, port)
}

/// A WebSocket to minimal-ws-raw-proxy on `port`.
async fn ws_to(port: u16) -> lws::client::WebSocket {
    client::ws(&format!("ws://127.0.0.1:{port}/"))
        .protocol("lws-ws-raw-ws")
        .connect()
        .await
        .expect("connect")
}

#[test]
fn ws_raw_proxy_links_a_websocket_to_a_raw_connection() {
    let (to_test, from_listener) = mpsc::channel::<Vec<u8>>();
    let to_test = Mutex::new(to_test);
    let onward = listener(move |mut s| {
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let got = line(&mut r);
        let _ = to_test.lock().map(|t| t.send(got.into_bytes()));
        s.write_all(b"hello websocket\n").expect("write");
        // Not UTF-8: arrives as a binary message.
        s.write_all(&[0xff, 0xfe, 0x00]).expect("write");
        // What the WebSocket sends next, then our close ends the WebSocket.
        let got = line(&mut r);
        let _ = to_test.lock().map(|t| t.send(got.into_bytes()));
    });
    let (ex, port) = ws_raw_proxy(onward);
    block_on_within("the exchange", async {
        let mut ws = ws_to(port).await;
        ws.send(Message::Text("hello raw\n".into()))
            .await
            .expect("send");
        let mut text = String::new();
        let mut binary = Vec::new();
        while text.len() < 16 || binary.len() < 3 {
            match ws.recv().await {
                Some(Ok(Message::Text(t))) => text.push_str(&t),
                Some(Ok(Message::Binary(b))) => binary.extend_from_slice(&b),
                other => panic!("expected data, got {other:?}"),
            }
        }
        assert_eq!(text, "hello websocket\n");
        assert_eq!(binary, [0xff, 0xfe, 0x00]);
        ws.send(Message::Binary(b"bytes too\n".to_vec().into()))
            .await
            .expect("send");
        // The listener closes after the second line: the WebSocket is closed in turn.
        loop {
            match ws.recv().await {
                Some(Ok(Message::Close(Some((code, _))))) => {
                    assert_eq!(code, 1000);
                    break;
                }
                Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("{e}"),
            }
        }
    });
    let first = from_listener.recv_timeout(LIMIT).expect("first line");
    assert_eq!(first, b"hello raw\n");
    let second = from_listener.recv_timeout(LIMIT).expect("second line");
    assert_eq!(second, b"bytes too\n");
    drop(ex);
}

#[test]
fn ws_raw_proxy_closes_the_websocket_when_the_onward_side_is_down() {
    let onward = closed_port();
    let (_ex, port) = ws_raw_proxy(onward);
    block_on_within("the close", async {
        let mut ws = ws_to(port).await;
        match ws.recv().await {
            Some(Ok(Message::Close(Some((code, _))))) => assert_eq!(code, 1011),
            other => panic!("expected a close, got {other:?}"),
        }
    });
}

#[test]
fn ws_raw_proxy_closes_the_raw_connection_when_the_websocket_closes() {
    let (to_test, from_listener) = mpsc::channel::<Vec<u8>>();
    let to_test = Mutex::new(to_test);
    let onward = listener(move |mut s| {
        // Everything the WebSocket sent, up to the end the proxy passes on when the WebSocket closes.
        let got = read_to_end(&mut s);
        let _ = to_test.lock().map(|t| t.send(got));
    });
    let (_ex, port) = ws_raw_proxy(onward);
    block_on_within("the exchange", async {
        let mut ws = ws_to(port).await;
        // Sent at once, possibly before the raw connection is open: kept until it is.
        for part in ["one ", "two ", "three"] {
            ws.send(Message::Text(part.into())).await.expect("send");
        }
        ws.close(1000, "done").await.expect("close");
    });
    let got = from_listener
        .recv_timeout(LIMIT)
        .expect("the raw side ended");
    assert_eq!(got, b"one two three");
}
