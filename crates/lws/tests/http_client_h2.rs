//! The HTTP and WebSocket clients over HTTP/2 (ALPN `h2` on TLS, h2c prior knowledge on cleartext, RFC 8441
//! WebSockets) against our own server on `127.0.0.1:0`.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lws::client::{self, HttpClient, HttpVersion, Message, WebSocket};
use lws::{HttpCtx, Mount, Protocol, ProtocolHandle, Pvo, Response, Vhost};
use lws_proto::h2::H2Config;
use support::{any_port, start, Server, IO_TIMEOUT};
use tokio::sync::mpsc;

/// Size of the file larger than every flow-control window involved.
const BIG: usize = 5 * 1024 * 1024 + 123;
/// Piece size of the throttled stream.
const PIECE: usize = 16 * 1024;
/// Pieces of the throttled stream: 8 MiB, far beyond what the windows let through unread.
const PIECES: usize = 512;

/// Answers `METHOD target` and the body it received, with the client's port in `x-peer-port`; every client
/// port seen is recorded (one per connection).
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
        let mut text = format!("{} {}\n", req.method(), req.raw_target()).into_bytes();
        text.extend_from_slice(s);
        cx.respond(Response::text(200, text).header("x-peer-port", port.to_string()));
    }
}

/// `/redir/N` redirects to `N-1` and answers at 0.
struct Redirects;

impl Protocol for Redirects {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let path = cx.request().path().to_string();
        let resp = match path.strip_prefix("/redir/").map(str::parse::<u32>) {
            Some(Ok(0)) => Response::text(200, "end of chain"),
            Some(Ok(n)) => Response::redirect(301, &(n - 1).to_string()),
            _ => Response::error(404),
        };
        cx.respond(resp);
    }
}

/// What the throttled producer reports: bytes handed to the response so far, and whether its next `send`
/// found the queue full (the server is held back).
#[derive(Debug, Clone, Copy)]
struct Progress {
    sent: usize,
    blocked: bool,
}

/// Streams [`PIECES`] pieces of [`PIECE`] bytes (piece `i` filled with `i as u8`), reporting progress.
struct Throttled {
    progress: mpsc::UnboundedSender<Progress>,
}

impl Protocol for Throttled {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let (resp, sender) = Response::stream(200, 4);
        cx.respond(resp);
        let progress = self.progress.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            for i in 0..PIECES {
                let send = sender.send(vec![i as u8; PIECE]);
                tokio::pin!(send);
                let blocked = futures_poll_once(send.as_mut()).await.is_none();
                if blocked {
                    let _ = progress.send(Progress {
                        sent,
                        blocked: true,
                    });
                    if send.await.is_err() {
                        return;
                    }
                }
                sent += PIECE;
                let _ = progress.send(Progress {
                    sent,
                    blocked: false,
                });
            }
        });
    }
}

/// Polls a future once: its output if it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
    let mut f = f;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

fn cert(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/certs")).join(name)
}

struct Setup {
    server: Server,
    peers: Arc<Mutex<HashSet<u16>>>,
    progress: mpsc::UnboundedReceiver<Progress>,
    _dir: tempfile::TempDir,
}

impl Setup {
    fn https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.server.addr.port())
    }

    fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }
}

fn vhost(
    peers: Arc<Mutex<HashSet<u16>>>,
    progress: mpsc::UnboundedSender<Progress>,
    dir: &std::path::Path,
) -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new(
            "lws-echo",
            lws_plugins::Echo::from_pvo(&Pvo::default()).expect("echo plugin"),
        ))
        .protocol(ProtocolHandle::new("echo", Echo { peers }))
        .protocol(ProtocolHandle::new("redir", Redirects))
        .protocol(ProtocolHandle::new("throttled", Throttled { progress }))
        .mount(Mount::files("/files", dir))
        .mount(Mount::callback("/echo", "echo"))
        .mount(Mount::callback("/redir", "redir"))
        .mount(Mount::callback("/throttled", "throttled"))
}

/// A server with a file larger than every window; over TLS when `tls`, h2c (prior knowledge) otherwise.
fn setup_with(tls: bool, h2: Option<H2Config>) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("hello.txt"), "hello over h2\n").expect("write file");
    std::fs::write(dir.path().join("big.bin"), big_body()).expect("write file");
    let peers = Arc::default();
    let (tx, progress) = mpsc::unbounded_channel();
    let mut v = vhost(Arc::clone(&peers), tx, dir.path());
    if tls {
        v = v.tls(cert("localhost.cert.pem"), cert("localhost.key.pem"));
    }
    if let Some(c) = h2 {
        v = v.http2(c);
    }
    Setup {
        server: start(vec![v]),
        peers,
        progress,
        _dir: dir,
    }
}

fn setup(tls: bool) -> Setup {
    setup_with(tls, None)
}

fn big_body() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(IO_TIMEOUT, f)
        .await
        .expect("timed out")
}

async fn send(b: client::HttpRequestBuilder) -> client::HttpResponse {
    bounded(b.send()).await.expect("request failed")
}

#[tokio::test]
async fn get_head_post_over_alpn_h2() {
    let s = setup(true);
    let resp = send(client::http(&s.https("/files/hello.txt")).allow_self_signed_for_tests()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), HttpVersion::Http2);
    assert_eq!(bounded(resp.text()).await.unwrap(), "hello over h2\n");

    let resp = send(
        client::http(&s.https("/files/hello.txt"))
            .method("HEAD")
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!((resp.status(), resp.version()), (200, HttpVersion::Http2));
    assert_eq!(resp.content_length(), Some(14));
    assert!(bounded(resp.bytes()).await.unwrap().is_empty());

    let resp = send(
        client::http(&s.https("/echo/form?x=1"))
            .method("POST")
            .body("a=b")
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!(resp.version(), HttpVersion::Http2);
    assert_eq!(
        bounded(resp.text()).await.unwrap(),
        "POST /echo/form?x=1\na=b"
    );
}

#[tokio::test]
async fn h2c_prior_knowledge_and_http1_only() {
    let s = setup(false);
    let resp = send(client::http(&s.http("/files/hello.txt")).http2_prior_knowledge()).await;
    assert_eq!((resp.status(), resp.version()), (200, HttpVersion::Http2));
    assert_eq!(bounded(resp.text()).await.unwrap(), "hello over h2\n");
    // Without prior knowledge, cleartext stays HTTP/1.1.
    let resp = send(client::http(&s.http("/files/hello.txt"))).await;
    assert_eq!(resp.version(), HttpVersion::Http11);

    let s = setup(true);
    let resp = send(
        client::http(&s.https("/files/hello.txt"))
            .http1_only()
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!((resp.status(), resp.version()), (200, HttpVersion::Http11));
    let client = HttpClient::builder().http1_only().build();
    let resp = send(
        client
            .request(&s.https("/files/hello.txt"))
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!(resp.version(), HttpVersion::Http11);
}

#[tokio::test]
async fn fifty_concurrent_requests_share_one_connection() {
    for tls in [true, false] {
        let s = setup(tls);
        let client = HttpClient::builder().http2_prior_knowledge().build();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let url = if tls {
                s.https(&format!("/echo/{i}"))
            } else {
                s.http(&format!("/echo/{i}"))
            };
            let req = client.request(&url).allow_self_signed_for_tests();
            tasks.push(tokio::spawn(async move {
                let resp = req.send().await.expect("request");
                assert_eq!(resp.version(), HttpVersion::Http2);
                let text = resp.text().await.expect("body");
                assert_eq!(text, format!("GET /echo/{i}\n"));
            }));
        }
        for t in tasks {
            bounded(t).await.expect("request task");
        }
        assert_eq!(s.peers.lock().unwrap().len(), 1, "tls {tls}");
        assert_eq!(client.http2_connections(), 1);
        assert_eq!(client.idle_connections(), 0);
    }
}

#[tokio::test]
async fn bodies_larger_than_the_windows_arrive_intact() {
    let s = setup(true);
    let client = HttpClient::new();
    let resp = send(
        client
            .request(&s.https("/files/big.bin"))
            .max_body(BIG)
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!(resp.version(), HttpVersion::Http2);
    let body = bounded(resp.bytes()).await.unwrap();
    assert!(body == big_body(), "download differs");

    // An upload beyond the server's stream window (256 KiB) goes out as the window opens.
    let upload: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|i| (i % 13) as u8 + b'a')
        .collect();
    let resp = send(
        client
            .request(&s.https("/echo/up"))
            .method("POST")
            .body(upload.clone())
            .max_body(4 * 1024 * 1024)
            .allow_self_signed_for_tests(),
    )
    .await;
    let body = bounded(resp.bytes()).await.unwrap();
    assert_eq!(&body[..12], b"POST /echo/u");
    assert!(
        body[b"POST /echo/up\n".len()..] == upload[..],
        "upload differs"
    );
}

#[tokio::test]
async fn a_reader_that_does_not_read_stalls_the_server() {
    let mut s = setup(true);
    let mut resp = send(client::http(&s.https("/throttled")).allow_self_signed_for_tests()).await;
    assert_eq!(resp.version(), HttpVersion::Http2);
    // Nothing is read: the producer must end up blocked, having sent no more than the client's stream
    // window (1 MiB), what the server queues per stream (64 KiB + a piece) and its channel (4 pieces).
    let window = 1024 * 1024;
    let bound = window + 64 * 1024 + 6 * PIECE;
    loop {
        let p = bounded(s.progress.recv()).await.expect("producer alive");
        assert!(p.sent <= bound, "server sent {} unread bytes", p.sent);
        if p.blocked && p.sent >= window {
            break;
        }
    }
    // Reading releases the window: everything arrives, in order.
    let mut got = 0usize;
    while let Some(piece) = bounded(resp.chunk()).await {
        let piece = piece.expect("body piece");
        for (k, b) in piece.iter().enumerate() {
            assert_eq!(*b, ((got + k) / PIECE) as u8);
        }
        got += piece.len();
    }
    assert_eq!(got, PIECES * PIECE);
}

#[tokio::test]
async fn redirects_over_h2() {
    let s = setup(true);
    let client = HttpClient::new();
    let resp = send(
        client
            .request(&s.https("/redir/3"))
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!((resp.status(), resp.version()), (200, HttpVersion::Http2));
    assert!(resp.url().ends_with("/redir/0"));
    assert_eq!(bounded(resp.text()).await.unwrap(), "end of chain");
    assert_eq!(client.http2_connections(), 1);
}

async fn connect(b: client::WsClientBuilder) -> WebSocket {
    bounded(b.connect()).await.expect("connect failed")
}

async fn round_trip(ws: &mut WebSocket, msg: Message) {
    bounded(ws.send(msg.clone())).await.expect("send");
    let back = bounded(ws.recv()).await.expect("message").expect("recv");
    assert_eq!(back, msg);
}

#[tokio::test]
async fn websocket_over_h2_echoes() {
    let s = setup(true);
    let url = format!("wss://localhost:{}/", s.server.addr.port());
    let mut ws = connect(
        client::ws(&url)
            .protocol("lws-echo")
            .http2(true)
            .allow_self_signed_for_tests(),
    )
    .await;
    assert!(ws.is_h2());
    assert_eq!(ws.protocol(), Some("lws-echo"));
    assert!(ws.compressed());
    round_trip(&mut ws, Message::Text("hello over a stream".into())).await;
    round_trip(&mut ws, Message::Binary(vec![9u8; 200_000].into())).await;
    bounded(ws.close(1000, "done")).await.expect("close");

    // HTTP/2 is the default for wss:// when the server offers it.
    let mut ws = connect(
        client::ws(&url)
            .protocol("lws-echo")
            .allow_self_signed_for_tests(),
    )
    .await;
    assert!(ws.is_h2());
    round_trip(&mut ws, Message::Text("over h2 by default".into())).await;

    // Opting out: the HTTP/1.1 upgrade.
    let mut ws = connect(
        client::ws(&url)
            .protocol("lws-echo")
            .http2(false)
            .allow_self_signed_for_tests(),
    )
    .await;
    assert!(!ws.is_h2());
    round_trip(&mut ws, Message::Text("over h1".into())).await;

    // h2c prior knowledge on ws://.
    let s = setup(false);
    let url = format!("ws://{}/", s.server.addr);
    let mut ws = connect(
        client::ws(&url)
            .protocol("lws-echo")
            .http2(true)
            .http2_prior_knowledge(),
    )
    .await;
    assert!(ws.is_h2());
    round_trip(&mut ws, Message::Text("h2c".into())).await;
}

#[tokio::test]
async fn two_websockets_and_requests_share_one_h2_connection() {
    let s = setup(true);
    let url = format!("wss://localhost:{}/", s.server.addr.port());
    let client = HttpClient::new();
    let b = client
        .ws(&url)
        .protocol("lws-echo")
        .http2(true)
        .allow_self_signed_for_tests();
    let mut a = connect(b.clone()).await;
    let mut c = connect(b).await;
    assert!(a.is_h2() && c.is_h2());
    round_trip(&mut a, Message::Text("first".into())).await;
    round_trip(&mut c, Message::Text("second".into())).await;
    round_trip(&mut a, Message::Text("first again".into())).await;
    let resp = send(
        client
            .request(&s.https("/echo/x"))
            .allow_self_signed_for_tests(),
    )
    .await;
    assert_eq!(resp.version(), HttpVersion::Http2);
    bounded(resp.bytes()).await.unwrap();
    assert_eq!(client.http2_connections(), 1);
    bounded(a.close(1000, "done")).await.expect("close");
    round_trip(&mut c, Message::Text("still open".into())).await;
}

#[tokio::test]
async fn websocket_falls_back_to_h1_without_extended_connect() {
    let s = setup_with(
        true,
        Some(H2Config {
            enable_connect_protocol: false,
            ..H2Config::default()
        }),
    );
    let url = format!("wss://localhost:{}/", s.server.addr.port());
    let mut ws = connect(
        client::ws(&url)
            .protocol("lws-echo")
            .http2(true)
            .allow_self_signed_for_tests(),
    )
    .await;
    assert!(!ws.is_h2());
    round_trip(&mut ws, Message::Text("fell back".into())).await;
    // Through a client, too (its h2 connection stays for requests).
    let client = HttpClient::new();
    let mut ws = connect(
        client
            .ws(&url)
            .protocol("lws-echo")
            .http2(true)
            .allow_self_signed_for_tests(),
    )
    .await;
    assert!(!ws.is_h2());
    round_trip(&mut ws, Message::Text("fell back again".into())).await;
}
