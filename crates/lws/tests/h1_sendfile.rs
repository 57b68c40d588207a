//! Large file bodies over HTTP/1.1, which plain TCP connections send with `sendfile(2)`: byte-exact whole
//! files and ranges, keep-alive after them, HEAD, the access log's byte count, a file that shrinks while it
//! is sent, a drain during a send, and TLS (which keeps the copy path).

mod support;

use std::path::{Path, PathBuf};

use lws::{Mount, Vhost};
use support::tls::cert_path;
use support::{any_port, start, Client, Server};
use tempfile::TempDir;
use tokio::net::{TcpSocket, TcpStream};

/// Larger than any one `sendfile` call and than the socket buffers, so a response takes several calls.
const BIG: usize = 3 * 1024 * 1024;
/// Larger than what the server's send buffer (at most 4 MiB here) and a small client receive buffer hold.
const HUGE: usize = 16 * 1024 * 1024;

/// Bytes that never repeat with a short period: a piece sent twice or at the wrong offset shows.
fn pattern(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A docroot with `big.bin` (BIG bytes of [`pattern`]) and `small.txt`.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("big.bin"), pattern(BIG)).unwrap();
        std::fs::write(dir.path().join("small.txt"), "small").unwrap();
        Site { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn serve(site: &Site) -> Server {
    start(vec![Vhost::new("localhost")
        .listen(any_port())
        .mount(Mount::files("/", site.root()))])
}

fn body_matches(got: &[u8], want: &[u8]) -> bool {
    // Not assert_eq!: a failure would print megabytes.
    got.len() == want.len() && got == want
}

#[tokio::test]
async fn a_large_file_arrives_byte_exact() {
    let site = Site::new();
    let s = serve(&site);
    let mut c = Client::connect(s.addr).await;
    let r = c.get("/big.bin").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(BIG.to_string().as_str()));
    assert!(
        body_matches(&r.body, &pattern(BIG)),
        "{} bytes",
        r.body.len()
    );
}

#[tokio::test]
async fn a_range_in_the_middle_of_a_large_file() {
    let site = Site::new();
    let s = serve(&site);
    let mut c = Client::connect(s.addr).await;
    let (first, last) = (1_000_003usize, 2_500_000usize);
    c.send(
        format!("GET /big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes={first}-{last}\r\n\r\n")
            .as_bytes(),
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes {first}-{last}/{BIG}").as_str())
    );
    assert!(body_matches(&r.body, &pattern(BIG)[first..=last]));
    // The connection goes on after a range too.
    assert_eq!(c.get("/small.txt").await.text(), "small");
}

#[tokio::test]
async fn keep_alive_two_large_responses_then_a_small_one() {
    let site = Site::new();
    let s = serve(&site);
    let mut c = Client::connect(s.addr).await;
    let want = pattern(BIG);
    for _ in 0..2 {
        let r = c.get("/big.bin").await;
        assert_eq!(r.status, 200);
        assert!(body_matches(&r.body, &want));
    }
    let r = c.get("/small.txt").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "small");
}

#[tokio::test]
async fn two_pipelined_large_requests_come_back_in_order() {
    let site = Site::new();
    let s = serve(&site);
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n\
          GET /big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=5-9\r\n\r\n",
    )
    .await;
    assert!(body_matches(&c.read_response().await.body, &pattern(BIG)));
    let r = c.read_response().await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, pattern(10)[5..]);
}

#[tokio::test]
async fn head_of_a_large_file_sends_no_body() {
    let site = Site::new();
    let s = serve(&site);
    let mut c = Client::connect(s.addr).await;
    c.send(b"HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let r = c.read_head_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(BIG.to_string().as_str()));
    // The next response starts right after the HEAD head: no body bytes were sent.
    assert_eq!(c.get("/small.txt").await.text(), "small");
}

#[tokio::test]
async fn the_access_log_counts_the_bytes_of_a_large_file() {
    let site = Site::new();
    let log = site.file("access.log");
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .access_log(&log)
        .mount(Mount::files("/", site.root()))]);
    let mut c = Client::connect(s.addr).await;
    assert_eq!(c.get("/big.bin").await.body.len(), BIG);
    // Each response is logged before the next request is read, so two answers mean two lines.
    assert_eq!(c.get("/small.txt").await.text(), "small");
    let lines = std::fs::read_to_string(&log).unwrap();
    let first = lines.lines().next().unwrap_or_default();
    assert!(
        first.contains(&format!("\"GET /big.bin HTTP/1.1\" 200 {BIG} ")),
        "{first}"
    );
}

/// A client whose small receive buffer keeps the server waiting on a large response.
async fn slow_client(s: &Server) -> Client<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    // Set before connecting so the window the client offers stays small.
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let stream = tokio::time::timeout(support::IO_TIMEOUT, socket.connect(s.addr))
        .await
        .expect("connect timed out")
        .expect("connect failed");
    Client::new(stream)
}

#[tokio::test]
async fn a_file_that_shrinks_while_sent_ends_the_connection_short() {
    let site = Site::new();
    let path = site.file("huge.bin");
    std::fs::write(&path, pattern(HUGE)).unwrap();
    let s = serve(&site);
    let mut c = slow_client(&s).await;
    c.send(b"GET /huge.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    // The head arrived, and the server is stuck on the full socket far before the end of the file.
    let r = c.read_head_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(HUGE.to_string().as_str()));
    const CUT: usize = 1024 * 1024;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(CUT as u64)
        .unwrap();
    // Reading on, the client gets at least what the file still has and then the end of the connection (a
    // read that never ends fails the test by its deadline). Bytes past the cut that were already queued in
    // the socket may show the truncation (sendfile queues page references, not copies), which is why the
    // connection must end short: the client knows the body is incomplete.
    let rest = c.read_to_close().await;
    assert!(rest.len() < HUGE, "the whole body arrived from a cut file");
    assert!(rest.len() >= CUT, "only {} bytes arrived", rest.len());
    assert!(body_matches(&rest[..CUT], &pattern(CUT)));
}

#[tokio::test]
async fn a_drain_during_a_large_send_lets_it_finish() {
    let site = Site::new();
    std::fs::write(site.file("huge.bin"), pattern(HUGE)).unwrap();
    let mut s = serve(&site);
    let mut c = slow_client(&s).await;
    c.send(b"GET /huge.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let r = c.read_head_response().await;
    assert_eq!(r.status, 200);
    s.handle.shutdown();
    let rest = c.read_to_close().await;
    assert!(body_matches(&rest, &pattern(HUGE)), "{} bytes", rest.len());
    s.shutdown_and_wait().await;
}

#[tokio::test]
async fn tls_serves_a_large_file_byte_exact() {
    let site = Site::new();
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .tls(
            cert_path("localhost.cert.pem"),
            cert_path("localhost.key.pem"),
        )
        .mount(Mount::files("/", site.root()))]);
    let mut c = support::tls::connect(s.addr, "localhost").await;
    let want = pattern(BIG);
    for _ in 0..2 {
        let r = c.get("/big.bin").await;
        assert_eq!(r.status, 200);
        assert!(body_matches(&r.body, &want), "{} bytes", r.body.len());
    }
}
