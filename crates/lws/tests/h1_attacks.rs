//! The raw-socket attack suite: request smuggling shapes, malformed heads, chunked-encoding abuse, floods,
//! odd request targets and path traversal. Each case checks the exact status (or a clean close), that a
//! fresh connection still gets a 200 afterwards, and for path cases that no byte of a secret file outside
//! the origin (or of `/etc/passwd`) is ever returned.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use lws::{HttpLimits, Mount, ProtocolHandle, Vhost};
use support::{any_port, assert_serves, contains, flood, start, Client, Server, Upload};
use tempfile::TempDir;

const MARKER: &str = "SECRET-7f3a9c1e-do-not-serve";

struct Fixture {
    dir: TempDir,
    server: Server,
}

impl Fixture {
    fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }
}

/// `www/` is the origin of `/`; `secret.txt` sits next to it, `www/` holds symlinks to it and to
/// `/etc/passwd`; `/up` is a callback mount that reads bodies (for chunked cases).
fn fixture_with(limits: HttpLimits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("etc")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>ok</h1>").unwrap();
    std::fs::write(dir.path().join("secret.txt"), MARKER).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), www.join("link-secret.txt")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", www.join("link-passwd")).unwrap();
    let v = Vhost::new("localhost")
        .listen(any_port())
        .limits(limits)
        .protocol(ProtocolHandle::new("up", Upload { limit: None }))
        .mount(Mount::files("/", &www))
        .mount(Mount::callback("/up", "up"));
    Fixture {
        server: start(vec![v]),
        dir,
    }
}

fn fixture() -> Fixture {
    fixture_with(HttpLimits::default())
}

/// The first line of `/etc/passwd`, which must never be served.
fn passwd_line() -> Option<Vec<u8>> {
    let p = std::fs::read("/etc/passwd").ok()?;
    let line = p.split(|&b| b == b'\n').next()?.to_vec();
    (!line.is_empty()).then_some(line)
}

fn assert_no_secret(bytes: &[u8]) {
    assert!(!contains(bytes, MARKER.as_bytes()), "secret file leaked");
    if let Some(line) = passwd_line() {
        assert!(!contains(bytes, &line), "/etc/passwd leaked");
    }
}

/// Sends `raw` on a fresh connection and expects `status`, then a close; then a fresh connection is served.
async fn status_then_close(f: &Fixture, raw: &[u8], status: u16) {
    let (resp, rest) = flood(f.addr(), raw.to_vec()).await;
    let resp = resp.unwrap_or_else(|| panic!("closed without the expected {status}"));
    assert_eq!(
        resp.status,
        status,
        "for {:?}: {resp:?}",
        String::from_utf8_lossy(&raw[..raw.len().min(120)])
    );
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(
        rest.is_empty(),
        "more bytes after the error: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert_no_secret(&resp.body);
    assert_serves(f.addr(), "/").await;
}

// ---- request smuggling and framing ----

#[tokio::test]
async fn content_length_with_transfer_encoding_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn transfer_encoding_before_content_length_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn duplicate_differing_content_length_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
        400,
    )
    .await;
}

#[tokio::test]
async fn non_numeric_content_length_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: +5\r\n\r\nabcde",
        400,
    )
    .await;
}

#[tokio::test]
async fn unknown_final_transfer_coding_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn chunked_not_last_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn unsupported_coding_before_chunked_is_501() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    )
    .await;
}

#[tokio::test]
async fn obs_fold_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: one\r\n  folded\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn bare_lf_line_endings_are_400() {
    let f = fixture();
    status_then_close(&f, b"GET / HTTP/1.1\nHost: localhost\n\n", 400).await;
}

#[tokio::test]
async fn bare_cr_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: 1\rX-B: 2\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn nul_in_header_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn missing_or_repeated_host_is_400() {
    let f = fixture();
    status_then_close(&f, b"GET / HTTP/1.1\r\n\r\n", 400).await;
    status_then_close(
        &f,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: other\r\n\r\n",
        400,
    )
    .await;
}

// ---- chunked abuse ----

#[tokio::test]
async fn huge_chunk_size_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn endless_chunk_size_line_is_400() {
    let f = fixture();
    let mut raw =
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 4096));
    status_then_close(&f, &raw, 400).await;
}

#[tokio::test]
async fn chunk_size_without_data_then_close_is_a_clean_close() {
    let f = fixture();
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(f.addr()).await.unwrap();
    s.write_all(
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n",
    )
    .await
    .unwrap();
    // Half-close: the announced chunk can never arrive.
    s.shutdown().await.unwrap();
    let mut c = Client::new(s);
    c.expect_closed().await;
    assert_serves(f.addr(), "/").await;
}

// ---- floods and slowloris ----

#[tokio::test]
async fn header_flood_is_431() {
    let f = fixture();
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..10_000 {
        raw.push_str(&format!("X-{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    status_then_close(&f, raw.as_bytes(), 431).await;
}

/// Listeners defer accepting until the client's first bytes (TCP_DEFER_ACCEPT, 1 s by default): a client
/// that never speaks must still be taken over by the server after that and closed at the head timeout, not
/// left waiting in the kernel.
#[tokio::test]
async fn silent_connection_is_still_closed() {
    let f = fixture_with(HttpLimits {
        head_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    });
    let stream = tokio::net::TcpStream::connect(f.addr()).await.unwrap();
    let mut c = Client::new(stream);
    let got = tokio::time::timeout(Duration::from_secs(20), c.read_to_close())
        .await
        .expect("a silent connection was never closed");
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
}

#[tokio::test]
async fn slowloris_is_closed_at_head_timeout() {
    let f = fixture_with(HttpLimits {
        head_timeout: Duration::from_millis(300),
        ..HttpLimits::default()
    });
    let stream = tokio::net::TcpStream::connect(f.addr()).await.unwrap();
    let (r, mut w) = stream.into_split();
    // Trickle one header line every 50 ms: steady progress must not extend the deadline.
    let trickle = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        if w.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .is_err()
        {
            return;
        }
        for i in 0..200 {
            if w.write_all(format!("X-{i}: v\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let t0 = Instant::now();
    let mut c = Client::new(ReadOnly(r));
    let got = c.read_to_close().await;
    trickle.abort();
    assert!(
        got.is_empty(),
        "slowloris got an answer: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "trickled head kept the connection open for {:?}",
        t0.elapsed()
    );
    assert_serves(f.addr(), "/").await;
}

// ---- pipelining and odd request lines ----

#[tokio::test]
async fn pipelined_garbage_after_good_request() {
    let f = fixture();
    let mut c = Client::connect(f.addr()).await;
    c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGARBAGE\r\n\r\n")
        .await;
    let first = c.read_response().await;
    assert_eq!(first.status, 200);
    assert_eq!(first.text(), "<h1>ok</h1>");
    let second = c.read_response().await;
    assert_eq!(second.status, 400);
    assert_eq!(second.header("connection"), Some("close"));
    c.expect_closed().await;
    assert_serves(f.addr(), "/").await;
}

/// Sends `raw` and expects `status` on a connection that may stay open; then checks a fresh connection.
async fn status_only(f: &Fixture, raw: &[u8], status: u16) {
    let mut c = Client::connect(f.addr()).await;
    c.send(raw).await;
    let r = c.read_response().await;
    assert_eq!(
        r.status,
        status,
        "for {:?}: {r:?}",
        String::from_utf8_lossy(raw)
    );
    assert_no_secret(&r.body);
    assert_serves(f.addr(), "/").await;
}

#[tokio::test]
async fn absolute_form_target_is_403() {
    let f = fixture();
    status_only(
        &f,
        b"GET http://localhost/index.html HTTP/1.1\r\nHost: localhost\r\n\r\n",
        403,
    )
    .await;
}

#[tokio::test]
async fn authority_form_connect_is_403() {
    let f = fixture();
    status_only(
        &f,
        b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
        403,
    )
    .await;
}

#[tokio::test]
async fn options_asterisk_is_403() {
    let f = fixture();
    status_only(&f, b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", 403).await;
}

#[tokio::test]
async fn overlong_method_is_400_or_a_close_where_h2c_is_accepted() {
    let raw = format!("{} / HTTP/1.1\r\nHost: localhost\r\n\r\n", "A".repeat(100));
    let h1_only = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .alpn(&["http/1.1"])]);
    let (resp, _) = flood(h1_only.addr, raw.as_bytes().to_vec()).await;
    assert_eq!(resp.map(|r| r.status), Some(400));
    // Where HTTP/2 prior knowledge is accepted too, bytes that are no request line the sniff knows are
    // closed on without an HTTP/1 answer (an HTTP/2 client would read one as a broken frame).
    let f = fixture();
    let (resp, rest) = flood(f.addr(), raw.into_bytes()).await;
    assert!(resp.is_none() && rest.is_empty(), "{resp:?} {rest:?}");
}

#[tokio::test]
async fn a_protocol_name_that_is_not_http_is_400_not_505() {
    let f = fixture();
    for line in ["GET / FOO/1.1", "GET / http/1.1", "GET / HTTP/x.y"] {
        let raw = format!("{line}\r\nHost: localhost\r\n\r\n");
        status_then_close(&f, raw.as_bytes(), 400).await;
    }
}

#[tokio::test]
async fn garbage_or_a_broken_preface_on_an_h2c_port_is_closed_without_an_answer() {
    let f = fixture();
    for raw in [
        &b"INVALID CONNECTION PREFACE\r\n\r\n"[..],
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
        b"\x00\x01\x02\x03 not http\r\n\r\n",
    ] {
        let (resp, rest) = flood(f.addr(), raw.to_vec()).await;
        assert!(
            resp.is_none() && rest.is_empty(),
            "{}: {resp:?} {rest:?}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_serves(f.addr(), "/index.html").await;
}

#[tokio::test]
async fn unknown_version_is_505() {
    let f = fixture();
    status_then_close(&f, b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n", 505).await;
}

#[tokio::test]
async fn garbage_version_is_400() {
    let f = fixture();
    status_then_close(&f, b"GET / HTTP/1.12\r\nHost: localhost\r\n\r\n", 400).await;
}

#[tokio::test]
async fn tls_client_hello_on_plain_port_is_400() {
    let f = fixture();
    let hello = client_hello();
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    status_then_close(&f, &hello, 400).await;
}

/// The first flight of a real rustls client.
fn client_hello() -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

// ---- paths ----

/// Requests `target` and expects one of `allowed`; never the secret.
async fn path_case(f: &Fixture, target: &[u8], allowed: &[u16]) {
    let mut raw = b"GET ".to_vec();
    raw.extend_from_slice(target);
    raw.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut c = Client::connect(f.addr()).await;
    c.send(&raw).await;
    let r = c.read_response().await;
    assert_no_secret(&r.body);
    assert!(
        allowed.contains(&r.status),
        "{:?} answered {} (allowed {allowed:?})",
        String::from_utf8_lossy(target),
        r.status
    );
    assert_serves(f.addr(), "/").await;
}

#[tokio::test]
async fn traversal_attempts_never_reach_the_secret() {
    let f = fixture();
    let cases: &[&[u8]] = &[
        b"/../secret.txt",
        b"/%2e%2e/secret.txt",
        b"/%2E%2e%2fsecret.txt",
        b"/..%2fsecret.txt",
        b"/%252e%252e/secret.txt",
        b"/.%2e/.%2e/etc/passwd",
        b"/..\\secret.txt",
        b"/%5c..%5csecret.txt",
        b"//etc/passwd",
        b"/./././../secret.txt",
        b"/../../../../../../etc/passwd",
        b"/etc/../../secret.txt",
        b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ];
    for target in cases {
        path_case(&f, target, &[403, 404]).await;
    }
}

#[tokio::test]
async fn overlong_utf8_dots_are_403() {
    let f = fixture();
    path_case(&f, b"/%c0%ae%c0%ae/secret.txt", &[403]).await;
}

#[tokio::test]
async fn raw_nul_in_path_is_400() {
    let f = fixture();
    status_then_close(
        &f,
        b"GET /index.html\0.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    )
    .await;
}

#[tokio::test]
async fn percent_encoded_nul_is_403() {
    let f = fixture();
    path_case(&f, b"/index.html%00.txt", &[403]).await;
}

#[tokio::test]
async fn symlink_out_of_origin_is_403() {
    let f = fixture();
    assert!(f.dir.path().join("www/link-secret.txt").exists());
    path_case(&f, b"/link-secret.txt", &[403]).await;
    path_case(&f, b"/link-passwd", &[403]).await;
}

#[tokio::test]
async fn fragment_in_target_is_403() {
    let f = fixture();
    path_case(&f, b"/index.html#frag", &[403]).await;
}

#[tokio::test]
async fn origin_dir_is_still_served_normally() {
    // The fixture's own content is reachable, so the refusals above are not a broken server.
    let f = fixture();
    let mut c = Client::connect(f.addr()).await;
    let r = c.get("/index.html").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "<h1>ok</h1>");
}

/// A read half usable as a [`Client`] stream.
struct ReadOnly(tokio::net::tcp::OwnedReadHalf);

impl tokio::io::AsyncRead for ReadOnly {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ReadOnly {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
