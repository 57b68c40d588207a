//! The HTTP client (`lws::client::http`, `HttpClient`) against our own server on `127.0.0.1:0`, and against
//! raw TCP peers that misbehave.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lws::client::{self, ClientError, HttpClient, HttpResponseError, HttpVersion, Multipart};
use lws::{HttpCtx, Mount, Protocol, ProtocolHandle, Pvo, Response, Vhost};
use support::{any_port, start, streamed_body, Deferred, Server, Streamer, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const STREAM_PIECES: usize = 50;

/// Answers `METHOD target`, the content type and the body it received, with the client's port in
/// `x-peer-port`; every client port it has seen is recorded (one per connection).
#[derive(Debug, Default)]
struct Echo {
    peers: Arc<Mutex<HashSet<u16>>>,
}

impl Protocol for Echo {
    type Session = Vec<u8>;

    fn http(&self, _s: &mut Vec<u8>, cx: &mut HttpCtx<'_>) {
        cx.set_body_limit(4 * 1024 * 1024);
    }

    fn http_body(&self, s: &mut Vec<u8>, _cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        s.extend_from_slice(chunk);
    }

    fn http_body_completion(&self, s: &mut Vec<u8>, cx: &mut HttpCtx<'_>) {
        let req = cx.request();
        let port = req.peer_addr().map_or(0, |a| a.port());
        self.peers.lock().unwrap().insert(port);
        let mut text = format!(
            "{} {}\ncontent-type: {}\n\n",
            req.method(),
            req.raw_target(),
            req.header("content-type").unwrap_or("-")
        )
        .into_bytes();
        text.extend_from_slice(s);
        let resp = Response::text(200, text).header("x-peer-port", port.to_string());
        cx.respond(resp);
    }
}

/// `/redir/chain/N` redirects (301, relative) to `N-1` and answers at 0; `/redir/loop` redirects to
/// itself; `/redir/307` and `/redir/303` send to `/echo/after`; `/redir/abs` gives an absolute URL.
struct Redirects;

impl Protocol for Redirects {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let path = cx.request().path().to_string();
        let resp = if let Some(n) = path.strip_prefix("/redir/chain/") {
            match n.parse::<u32>() {
                Ok(0) => Response::text(200, "end of chain"),
                Ok(n) => Response::redirect(301, &(n - 1).to_string()),
                Err(_) => Response::error(400),
            }
        } else if path == "/redir/loop" {
            Response::redirect(302, "/redir/loop")
        } else if path == "/redir/307" {
            Response::redirect(307, "/echo/after")
        } else if path == "/redir/303" {
            Response::redirect(303, "../echo/after")
        } else {
            Response::error(404)
        };
        cx.respond(resp);
    }
}

struct Setup {
    _server: Server,
    base: String,
    peers: Arc<Mutex<HashSet<u16>>>,
    deferred: mpsc::UnboundedReceiver<(String, lws::Responder)>,
    _dir: tempfile::TempDir,
}

fn vhost(
    peers: Arc<Mutex<HashSet<u16>>>,
    tx: mpsc::UnboundedSender<(String, lws::Responder)>,
    dir: &std::path::Path,
) -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("echo", Echo { peers }))
        .protocol(ProtocolHandle::new("redir", Redirects))
        .protocol(ProtocolHandle::new("defer", Deferred { tx }))
        .protocol(ProtocolHandle::new(
            "stream",
            Streamer {
                pieces: STREAM_PIECES,
            },
        ))
        .protocol(ProtocolHandle::new(
            "protocol-post-demo",
            lws_plugins::PostDemo::from_pvo(&Pvo::default()).expect("post demo"),
        ))
        .mount(Mount::files("/files", dir))
        .mount(Mount::callback("/echo", "echo"))
        .mount(Mount::callback("/redir", "redir"))
        .mount(Mount::callback("/defer", "defer"))
        .mount(Mount::callback("/stream", "stream"))
        .mount(Mount::callback("/post", "protocol-post-demo"))
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("hello.txt"), "hello from a file\n").expect("write file");
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 100_000]).expect("write file");
    let peers = Arc::default();
    let (tx, deferred) = mpsc::unbounded_channel();
    let server = start(vec![vhost(Arc::clone(&peers), tx, dir.path())]);
    let base = format!("http://{}", server.addr);
    Setup {
        _server: server,
        base,
        peers,
        deferred,
        _dir: dir,
    }
}

/// Runs a future with the test-wide deadline.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(IO_TIMEOUT, f)
        .await
        .expect("timed out")
}

async fn send(b: client::HttpRequestBuilder) -> client::HttpResponse {
    bounded(b.send()).await.expect("request failed")
}

async fn text(b: client::HttpRequestBuilder) -> (u16, String) {
    let r = send(b).await;
    let status = r.status();
    (status, bounded(r.text()).await.expect("body"))
}

#[tokio::test]
async fn get_a_file() {
    let s = setup();
    let r = send(client::http(&format!("{}/files/hello.txt", s.base))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), HttpVersion::Http11);
    assert!(r
        .header("Content-Type")
        .is_some_and(|t| t.starts_with("text/plain")));
    assert_eq!(r.content_length(), Some(18));
    assert_eq!(bounded(r.text()).await.unwrap(), "hello from a file\n");
}

#[tokio::test]
async fn head_has_no_body() {
    let s = setup();
    let r = send(client::http(&format!("{}/files/big.bin", s.base)).method("HEAD")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("content-length"), Some("100000"));
    assert!(bounded(r.bytes()).await.unwrap().is_empty());
}

#[tokio::test]
async fn not_found_is_a_response() {
    let s = setup();
    let (status, _) = text(client::http(&format!("{}/files/missing", s.base))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn post_urlencoded_is_echoed() {
    let s = setup();
    let (status, body) = text(
        client::http(&format!("{}/echo/form", s.base))
            .method("POST")
            .form_urlencoded(&[("a", "b c"), ("x&y", "é=1")]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "POST /echo/form\ncontent-type: application/x-www-form-urlencoded\n\na=b+c&x%26y=%C3%A9%3D1"
    );
}

#[tokio::test]
async fn post_forms_are_parsed_by_the_post_demo() {
    let s = setup();
    let (status, page) = text(
        client::http(&format!("{}/post", s.base))
            .method("POST")
            .form_urlencoded(&[("text", "<hello & bye>"), ("send", "Send")]),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<td>text</td><td>13</td><td>&lt;hello &amp; bye&gt;</td>"),
        "{page}"
    );

    let form = Multipart::new().text("text", "multi part").file(
        "file",
        "data.bin",
        "application/octet-stream",
        vec![0xAAu8; 5000],
    );
    let (status, page) = text(
        client::http(&format!("{}/post", s.base))
            .method("POST")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<td>text</td><td>10</td><td>multi part</td>"),
        "{page}"
    );
    assert!(page.contains("<code>data.bin</code>: 5000 bytes"), "{page}");
}

#[tokio::test]
async fn chunked_response_streams() {
    let s = setup();
    let mut r = send(client::http(&format!("{}/stream", s.base))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.content_length(), None);
    let mut body = Vec::new();
    let mut pieces = 0;
    while let Some(piece) = bounded(r.chunk()).await {
        body.extend_from_slice(&piece.expect("chunk"));
        pieces += 1;
    }
    assert!(pieces > 1, "a streamed body arrives in pieces");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        streamed_body(STREAM_PIECES)
    );
}

#[tokio::test]
async fn redirect_chain_is_followed() {
    let s = setup();
    let r = send(client::http(&format!("{}/redir/chain/4", s.base))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.url(), format!("{}/redir/chain/0", s.base));
    assert_eq!(bounded(r.text()).await.unwrap(), "end of chain");
}

#[tokio::test]
async fn redirect_307_keeps_method_and_body_303_does_not() {
    let s = setup();
    let (_, body) = text(
        client::http(&format!("{}/redir/307", s.base))
            .method("POST")
            .header("content-type", "text/plain")
            .body("the body"),
    )
    .await;
    assert_eq!(
        body,
        "POST /echo/after\ncontent-type: text/plain\n\nthe body"
    );
    let (_, body) = text(
        client::http(&format!("{}/redir/303", s.base))
            .method("POST")
            .header("content-type", "text/plain")
            .body("the body"),
    )
    .await;
    assert_eq!(body, "GET /echo/after\ncontent-type: -\n\n");
}

#[tokio::test]
async fn redirect_loop_fails_after_the_maximum() {
    let s = setup();
    let e = bounded(
        client::http(&format!("{}/redir/loop", s.base))
            .follow_redirects(3)
            .send(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, ClientError::TooManyRedirects { followed: 3 }),
        "{e}"
    );
    // Too long a chain fails the same way with the default of 5.
    let e = bounded(client::http(&format!("{}/redir/chain/6", s.base)).send())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::TooManyRedirects { followed: 5 }),
        "{e}"
    );
}

#[tokio::test]
async fn redirects_can_be_opted_out_of() {
    let s = setup();
    let r = send(client::http(&format!("{}/redir/chain/2", s.base)).follow_redirects(0)).await;
    assert_eq!(r.status(), 301);
    assert_eq!(r.header("location"), Some("1"));
}

#[tokio::test]
async fn timeout_covers_the_whole_request() {
    let mut s = setup();
    let started = tokio::time::Instant::now();
    let req = client::http(&format!("{}/defer/never", s.base))
        .timeout(Duration::from_millis(300))
        .send();
    let (result, held) = tokio::join!(req, s.deferred.recv());
    let e = result.unwrap_err();
    assert!(matches!(e, ClientError::RequestTimeout), "{e}");
    assert!(e.is_transient());
    assert!(started.elapsed() < IO_TIMEOUT);
    // The handler still holds its responder: the server never answered.
    drop(held);
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let s = setup();
    let client = HttpClient::new();
    for i in 0..10 {
        let (status, body) = text(client.request(&format!("{}/echo/{i}", s.base))).await;
        assert_eq!(status, 200);
        assert!(body.starts_with(&format!("GET /echo/{i}\n")), "{body}");
    }
    assert_eq!(
        s.peers.lock().unwrap().len(),
        1,
        "10 sequential requests, 1 connection"
    );
    assert_eq!(client.idle_connections(), 1);
    // A one-shot request does not use the pool.
    text(client::http(&format!("{}/echo/x", s.base))).await;
    assert_eq!(s.peers.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_connection_closed_by_the_server_is_replaced() {
    let s = setup();
    let client = HttpClient::new();
    let r = send(
        client
            .request(&format!("{}/echo/a", s.base))
            .header("connection", "close"),
    )
    .await;
    bounded(r.bytes()).await.unwrap();
    assert_eq!(
        client.idle_connections(),
        0,
        "a connection: close exchange is not pooled"
    );
    for _ in 0..2 {
        let (status, _) = text(client.request(&format!("{}/echo/b", s.base))).await;
        assert_eq!(status, 200);
    }
    assert_eq!(s.peers.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn concurrency_per_origin_is_limited() {
    let mut s = setup();
    let client = HttpClient::builder().max_connections_per_origin(2).build();
    let mut tasks = Vec::new();
    for i in 0..5 {
        let req = client.request(&format!("{}/defer/{i}", s.base));
        tasks.push(tokio::spawn(async move {
            let r = req.send().await?;
            r.text().await
        }));
    }
    let mut ports = HashSet::new();
    // Two requests reach the server at once; each further one only when an answer frees a connection.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(bounded(s.deferred.recv()).await.expect("deferred request"));
    }
    for _ in 0..3 {
        let (path, responder) = held.remove(0);
        let _ = responder.respond(Response::text(200, path));
        held.push(bounded(s.deferred.recv()).await.expect("queued request"));
    }
    for (path, responder) in held {
        let _ = responder.respond(Response::text(200, path));
    }
    let mut answered = Vec::new();
    for t in tasks {
        answered.push(bounded(t).await.unwrap().expect("request"));
    }
    answered.sort();
    assert_eq!(
        answered,
        ["/defer/0", "/defer/1", "/defer/2", "/defer/3", "/defer/4"]
    );
    // Five requests were in flight together, yet only two connections were ever opened.
    assert_eq!(client.idle_connections(), 2);
    // The deferred protocol does not record ports; count connections through the echo protocol instead.
    for _ in 0..4 {
        let r = send(client.request(&format!("{}/echo/p", s.base))).await;
        ports.insert(r.header("x-peer-port").unwrap().to_string());
        bounded(r.bytes()).await.unwrap();
    }
    assert_eq!(
        ports.len(),
        1,
        "sequential requests reuse the most recently idle connection"
    );
}

#[tokio::test]
async fn body_limit() {
    let s = setup();
    let url = format!("{}/files/big.bin", s.base);
    let r = send(client::http(&url).max_body(1000)).await;
    let e = bounded(r.bytes()).await.unwrap_err();
    assert!(
        matches!(e, ClientError::BodyTooLarge { limit: 1000 }),
        "{e}"
    );
    // Without a declared length the limit applies while reading.
    let r = send(client::http(&format!("{}/stream", s.base)).max_body(100)).await;
    let e = bounded(r.bytes()).await.unwrap_err();
    assert!(matches!(e, ClientError::BodyTooLarge { limit: 100 }), "{e}");
    let body = bounded(send(client::http(&url)).await.bytes())
        .await
        .unwrap();
    assert_eq!(body.len(), 100_000);
}

fn cert(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/certs")).join(name)
}

#[tokio::test]
async fn https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "over tls").unwrap();
    let (tx, _rx) = mpsc::unbounded_channel();
    let v = vhost(Arc::default(), tx, dir.path())
        .tls(cert("localhost.cert.pem"), cert("localhost.key.pem"));
    let server = start(vec![v]);
    let url = format!("https://localhost:{}/files/hello.txt", server.addr.port());
    let (status, body) = text(client::http(&url).allow_self_signed_for_tests()).await;
    assert_eq!((status, body.as_str()), (200, "over tls"));
    let (status, body) = text(client::http(&url).ca_file(cert("localhost.cert.pem"))).await;
    assert_eq!((status, body.as_str()), (200, "over tls"));
    // Reused through a pool, too.
    let client = HttpClient::new();
    for _ in 0..3 {
        let (status, _) = text(client.request(&url).ca_file(cert("localhost.cert.pem"))).await;
        assert_eq!(status, 200);
    }
    // The server picks h2 by ALPN: one shared HTTP/2 connection, no idle HTTP/1.1 one.
    assert_eq!(client.http2_connections(), 1);
    assert_eq!(client.idle_connections(), 0);
    // An untrusted certificate fails the handshake.
    let e = bounded(
        client::http(&url)
            .ca_file(cert("a.example.cert.pem"))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::Tls(_)), "{e}");
}

#[tokio::test]
async fn https_to_http_redirect_is_refused() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let dir = tempfile::tempdir().unwrap();
    let v = vhost(Arc::default(), tx, dir.path())
        .tls(cert("localhost.cert.pem"), cert("localhost.key.pem"))
        .mount(Mount::redirect("/down", "http://localhost/"));
    let server = start(vec![v]);
    let url = format!("https://localhost:{}/down", server.addr.port());
    let e = bounded(client::http(&url).allow_self_signed_for_tests().send())
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::InsecureRedirect { .. }), "{e}");
}

/// A raw peer that reads one request head and answers with `answer`, then closes.
async fn raw_peer(answer: &'static [u8]) -> String {
    let l = TcpListener::bind(any_port()).await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(answer).await;
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn malformed_responses_are_typed_errors() {
    let cases: [(&[u8], HttpResponseError); 5] = [
        (b"HTTP/1.1 abc OK\r\n\r\n", HttpResponseError::BadStatus),
        (
            b"SSH-2.0-OpenSSH_9.6\r\n",
            HttpResponseError::UnsupportedVersion,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            HttpResponseError::ConflictingLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent",
            HttpResponseError::IncompleteHead,
        ),
        (b"", HttpResponseError::ClosedBeforeResponse),
    ];
    for (answer, expected) in cases {
        let url = raw_peer(answer).await;
        let e = bounded(client::http(&url).send()).await.unwrap_err();
        assert!(
            matches!(&e, ClientError::Response(got) if *got == expected),
            "{:?}: {e}",
            String::from_utf8_lossy(answer)
        );
    }
    // A broken body after a good head fails the body read.
    let url =
        raw_peer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nnot hex\r\n")
            .await;
    let r = send(client::http(&url)).await;
    let e = bounded(r.bytes()).await.unwrap_err();
    assert!(
        matches!(e, ClientError::Response(HttpResponseError::BadChunk)),
        "{e}"
    );
    let url = raw_peer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await;
    let e = bounded(send(client::http(&url)).await.bytes())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Response(HttpResponseError::IncompleteBody)),
        "{e}"
    );
    // A close-delimited body is fine.
    let url = raw_peer(b"HTTP/1.0 200 OK\r\n\r\nuntil close").await;
    let (_, body) = text(client::http(&url)).await;
    assert_eq!(body, "until close");
}

#[tokio::test]
async fn bad_requests_fail_before_sending() {
    let s = setup();
    let e = bounded(
        client::http(&format!("{}/echo", s.base))
            .header("x", "a\r\nb: c")
            .send(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::Request(_)), "{e}");
    let e = bounded(client::http("ftp://127.0.0.1/").send())
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Url(_)), "{e}");
    assert!(s.peers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn server_refuses_a_huge_url() {
    let s = setup();
    let url = format!("{}/echo/{}", s.base, "a".repeat(10_000));
    let (status, _) = text(client::http(&url)).await;
    assert!(status == 414 || status == 431, "{status}");
}

#[tokio::test]
async fn an_early_answer_beats_the_unsent_body() {
    let s = setup();
    let big = vec![b'a'; 4 * 1024 * 1024];
    let (status, _) = text(
        client::http(&format!("{}/post", s.base))
            .method("POST")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big),
    )
    .await;
    assert_eq!(status, 413);
}
