//! Starts each example binary, waits until it listens, and makes real requests to it.
//!
//! Most examples are started with `--port 0` and tell us the port they got by printing their URL, so no other
//! process can take the port between our choosing it and the example binding it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::sleep;
use std::time::Duration;

/// A running example, killed when dropped (also when an assertion panics).
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `bin --port 0 <args>` in `cwd`, reads the port from the URL it prints, and waits until that
    /// port accepts connections.
    fn start(bin: &str, args: &[&str], cwd: Option<&Path>) -> Server {
        let mut server = Server::spawn(bin, 0, args, cwd);
        let stdout = server.child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reports the printed ports, then keeps draining stdout so the example never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = printed_port(&line) {
                    let _ = tx.send(port);
                }
            }
        });
        server.port = rx
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("{bin} printed no URL within 5 s"));
        assert!(server.wait_ready(server.port), "{bin} exited early");
        server
    }

    /// Spawns `bin --port <port> <args>` in `cwd` with stdout piped.
    fn spawn(bin: &str, port: u16, args: &[&str], cwd: Option<&Path>) -> Server {
        let mut cmd = Command::new(bin);
        cmd.arg("--port").arg(port.to_string()).args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let child = cmd.spawn().expect("spawn example");
        Server { child, port }
    }

    /// Polls until `port` accepts connections (true), or the example exits (false); panics after 5 s.
    fn wait_ready(&mut self, port: u16) -> bool {
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return true;
            }
            sleep(Duration::from_millis(25));
        }
        panic!("example did not listen on port {port} within 5 s");
    }

    /// Sends `head` (CRLF lines, without the final empty line) and `body`, returns the raw response.
    fn request(&self, head: &str, body: &[u8]) -> Response {
        request(self.port, head, body)
    }
}

/// A response as received: status, lowercased head, whole text (body framing included).
struct Response {
    status: u16,
    head: String,
    text: String,
}

fn request(port: u16, head: &str, body: &[u8]) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut msg = format!("{head}\r\nConnection: close\r\n");
    if !body.is_empty() {
        msg.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    msg.push_str("\r\n");
    let mut bytes = msg.into_bytes();
    bytes.extend_from_slice(body);
    // The server may answer and close before reading everything: keep whatever arrives.
    let _ = s.write_all(&bytes);
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = s.read(&mut buf) {
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Response { status, head, text }
}

/// A port P such that P and P+1 were both free a moment ago.
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().expect("addr").port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two adjacent free ports");
}

/// The port of the first `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT` URL in a line.
fn printed_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("://127.0.0.1:")? + "://127.0.0.1:".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A fresh empty directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lws-examples-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn minimal_http_server() {
    let s = Server::start(env!("CARGO_BIN_EXE_minimal-http-server"), &[], None);
    let r = s.request("GET / HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("lws-rs minimal-http-server"), "{}", r.text);
    assert_eq!(
        s.request("GET /missing HTTP/1.1\r\nHost: localhost", b"")
            .status,
        404
    );
}

#[test]
fn minimal_http_server_proxy() {
    let s = Server::start(env!("CARGO_BIN_EXE_minimal-http-server-proxy"), &[], None);
    let direct = s.request("GET / HTTP/1.1\r\nHost: localhost", b"");
    let proxied = s.request("GET /proxy/ HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(proxied.status, 200, "{}", proxied.text);
    assert!(
        proxied
            .text
            .ends_with(&direct.text[direct.text.find("\r\n\r\n").unwrap()..]),
        "the built-in origin serves the same index through its unix socket: {}",
        proxied.text
    );
    let missing = s.request("GET /proxy/missing HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(
        missing.status, 404,
        "the origin's own answer: {}",
        missing.text
    );
}

#[test]
fn minimal_http_server_cgi() {
    let s = Server::start(env!("CARGO_BIN_EXE_minimal-http-server-cgi"), &[], None);
    let r = s.request("GET /some/path?x=1 HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.head.contains("content-type: text/html"), "{}", r.head);
    assert!(
        r.text.contains("path info: /some/path, query: x=1"),
        "{}",
        r.text
    );
    assert!(r.text.contains("Served by lws-rs/"), "{}", r.text);
}

#[test]
fn minimal_http_server_tls() {
    let s = Server::start(env!("CARGO_BIN_EXE_minimal-http-server-tls"), &[], None);
    let r = s.request("GET / HTTP/1.1\r\nHost: localhost", b"");
    assert_ne!(
        r.status, 200,
        "plain HTTP served on the TLS port: {}",
        r.text
    );
}

#[test]
fn minimal_http_server_multivhost() {
    let bin = env!("CARGO_BIN_EXE_minimal-http-server-multivhost");
    // This one needs two adjacent ports, so it cannot use `--port 0`: retry if another process takes one.
    let (_server, port) = (0..5)
        .find_map(|_| {
            let port = free_port_pair();
            let mut s = Server::spawn(bin, port, &[], None);
            (s.wait_ready(port) && s.wait_ready(port + 1)).then_some((s, port))
        })
        .expect("multivhost example could not bind two adjacent ports");
    for (port, host) in [
        (port, "localhost1"),
        (port + 1, "localhost2"),
        (port + 1, "localhost3"),
    ] {
        let r = request(port, &format!("GET / HTTP/1.1\r\nHost: {host}"), b"");
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.text.contains(&format!("lws-rs vhost {host}")),
            "{host}: {}",
            r.text
        );
    }
}

#[test]
fn minimal_http_server_dynamic() {
    let s = Server::start(env!("CARGO_BIN_EXE_minimal-http-server-dynamic"), &[], None);
    let r = s.request(
        "GET /dyn/some/path?tag=%3Cb%3E HTTP/1.1\r\nHost: localhost",
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<code>/some/path</code>"), "{}", r.text);
    assert!(r.text.contains("<code>&lt;b&gt;</code>"), "{}", r.text);
    let r = s.request("GET /dyn/stream HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.head.contains("transfer-encoding: chunked"), "{}", r.text);
    assert!(
        r.text.contains("piece 1 of 5") && r.text.contains("piece 5 of 5"),
        "{}",
        r.text
    );
}

#[test]
fn minimal_http_server_form_get() {
    let s = Server::start(
        env!("CARGO_BIN_EXE_minimal-http-server-form-get"),
        &[],
        None,
    );
    let r = s.request(
        "GET /formtest?text1=hello+world&send=Send HTTP/1.1\r\nHost: localhost",
        b"",
    );
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.head.contains("location: /after-form.html"), "{}", r.text);
    let r = s.request("GET /after-form.html HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Form received"), "{}", r.text);
}

#[test]
fn minimal_http_server_form_post() {
    let s = Server::start(
        env!("CARGO_BIN_EXE_minimal-http-server-form-post"),
        &[],
        None,
    );
    let head = "POST /formtest HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: application/x-www-form-urlencoded";
    let r = s.request(head, b"text1=hello%20world&send=Send");
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.head.contains("location: /after-form.html"), "{}", r.text);
    assert_eq!(
        s.request("GET /formtest HTTP/1.1\r\nHost: localhost", b"")
            .status,
        405
    );
}

#[test]
fn minimal_http_server_form_post_file() {
    let dir = TempDir::new("upload");
    let bin = env!("CARGO_BIN_EXE_minimal-http-server-form-post-file");
    let s = Server::start(bin, &["--max-size", "1000"], Some(&dir.0));
    let head = "POST /formtest HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: multipart/form-data; boundary=XyZ";
    let form = |filename: &str, content: &[u8]| {
        let mut b = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nsome <text>\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: text/plain\r\n\r\n"
        )
        .into_bytes();
        b.extend_from_slice(content);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    };

    let r = s.request(head, &form("../up.txt", b"hello upload"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("Saved <code>up.txt</code>: 12 bytes"),
        "{}",
        r.text
    );
    assert!(r.text.contains("some &lt;text&gt;"), "{}", r.text);
    let saved = std::fs::read(dir.0.join("up.txt")).expect("uploaded file saved in the cwd");
    assert_eq!(saved, b"hello upload");

    let r = s.request(head, &form("big.txt", &[b'x'; 2000]));
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(
        !dir.0.join("big.txt").exists(),
        "partial upload left behind"
    );

    let r = s.request(head, &form("..", b"x"));
    assert_eq!(r.status, 400, "{}", r.text);
}

#[test]
fn minimal_http_server_mimetypes() {
    let s = Server::start(
        env!("CARGO_BIN_EXE_minimal-http-server-mimetypes"),
        &[],
        None,
    );
    let r = s.request("GET /sample.lwsrs HTTP/1.1\r\nHost: localhost", b"");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.head.contains("content-type: text/x-lws-rs"), "{}", r.text);
    let r = s.request("GET /sample.zip HTTP/1.1\r\nHost: localhost", b"");
    assert!(
        r.head.contains("content-type: application/zip"),
        "{}",
        r.text
    );
}

#[test]
fn minimal_http_server_compression() {
    let s = Server::start(
        env!("CARGO_BIN_EXE_minimal-http-server-compression"),
        &[],
        None,
    );
    let r = s.request(
        "GET /api/items HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip;q=0.5, br",
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.head.contains("content-encoding: br"), "{}", r.head);
    assert!(r.head.contains("vary: accept-encoding"), "{}", r.head);
    let plain = s.request("GET /api/items HTTP/1.1\r\nHost: localhost", b"");
    assert!(!plain.head.contains("content-encoding"), "{}", plain.head);
    assert!(plain.text.contains("\"id\":199"), "{}", plain.text);
    let off = s.request(
        "GET /raw/index.html HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip",
        b"",
    );
    assert_eq!(off.status, 200);
    assert!(!off.head.contains("content-encoding"), "{}", off.head);
}
