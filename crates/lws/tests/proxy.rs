//! Reverse proxy mounts: path mapping, forwarding headers, streamed bodies both ways, unix-socket origins,
//! several origins, and every way an origin can misbehave (each answered with the right status or an
//! aborted response, while the proxy keeps serving).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use lws::proxy::{HostHeader, ReverseProxy};
use lws::{Body, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use support::{any_port, start, Client, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// FNV-1a, to compare large bodies without keeping them.
fn fnv(h: &mut u64, data: &[u8]) {
    for b in data {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The byte at `i` of the test pattern.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// An lws origin: `/app/echo` describes the request it got and the hash of its body; `/app/big?n=N` sends
/// N pattern bytes; `/app/redirect` redirects to `/app/echo` and sets a cookie for `/app`.
struct Origin;

impl Protocol for Origin {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let req = cx.request();
        match req.path() {
            "/app/echo" | "/app/" | "/app" => {
                let h = |n: &str| req.header(n).unwrap_or("-").to_string();
                let head = format!(
                    "{} {}?{} ver={} host={} xff={} xfp={} xfh={} fwd={} conn={} secret={}",
                    req.method(),
                    req.path(),
                    req.query().unwrap_or(""),
                    req.version().as_str(),
                    h("host"),
                    h("x-forwarded-for"),
                    h("x-forwarded-proto"),
                    h("x-forwarded-host"),
                    h("forwarded"),
                    h("connection"),
                    h("x-secret"),
                );
                cx.set_body_limit(1 << 30);
                let Some(mut body) = cx.take_body() else {
                    return cx.respond(Response::text(200, format!("{head} len=0")));
                };
                let responder = cx.defer();
                tokio::spawn(async move {
                    use lws::{BodySource, Frame};
                    let (mut len, mut hash, mut trailers) = (0usize, FNV_START, String::new());
                    loop {
                        let frame =
                            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx))
                                .await;
                        match frame {
                            Some(Ok(Frame::Data(d))) => {
                                len += d.len();
                                fnv(&mut hash, &d);
                            }
                            Some(Ok(Frame::Trailers(t))) => {
                                for (n, v) in t {
                                    trailers += &format!(" {n}={}", String::from_utf8_lossy(&v));
                                }
                            }
                            _ => break,
                        }
                    }
                    let text = format!("{head} len={len} hash={hash:x}{trailers}");
                    let _ = responder.respond(Response::text(200, text));
                });
            }
            "/app/big" => {
                let n: usize = req
                    .query()
                    .and_then(|q| q.strip_prefix("n="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let (tx, body) = Body::channel_with_length(4, Some(n as u64));
                cx.respond(Response::new(200).with_body(body));
                tokio::spawn(async move {
                    let mut at = 0;
                    while at < n {
                        let k = (n - at).min(32 * 1024);
                        let piece: Vec<u8> = (at..at + k).map(pattern).collect();
                        if tx.send(piece).await.is_err() {
                            return;
                        }
                        at += k;
                    }
                });
            }
            "/app/redirect" => cx.respond(
                Response::redirect(302, "/app/echo")
                    .header("set-cookie", "sid=1; Path=/app; HttpOnly"),
            ),
            _ => cx.respond(Response::error(404)),
        }
    }
}

/// A WebSocket protocol for the origin: echoes every message.
struct WsEcho;

impl Protocol for WsEcho {
    type Session = ();

    fn message(&self, _s: &mut (), cx: &mut lws::ws::WsCtx<'_>, msg: lws::ws::WsMessage<'_>) {
        match msg.text() {
            Some(t) => cx.send_text(t),
            None => cx.send_binary(msg.data),
        }
    }
}

fn origin_vhost() -> Vhost {
    Vhost::new("origin")
        .protocol(ProtocolHandle::new("origin", Origin))
        .protocol(ProtocolHandle::new("echo", WsEcho))
        .mount(Mount::callback("/app", "origin"))
}

fn lws_origin() -> Server {
    start(vec![origin_vhost().listen(any_port())])
}

fn proxy_to(p: ReverseProxy) -> Server {
    start(vec![Vhost::new("localhost")
        .listen(any_port())
        .mount(Mount::proxy("/mnt", p))])
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

async fn get(addr: SocketAddr, path: &str) -> support::Resp {
    Client::connect(addr).await.get(path).await
}

#[tokio::test]
async fn paths_queries_and_forwarding_headers_reach_the_origin() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let mut c = Client::connect(p.addr).await;
    c.send(
        b"GET /mnt/echo?x=1&y=%20 HTTP/1.1\r\nHost: front.example\r\nConnection: X-Secret\r\n\
X-Secret: 1\r\nX-Forwarded-For: 10.1.1.1\r\n\r\n",
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(
        t.starts_with("GET /app/echo?x=1&y=%20 ver=HTTP/1.1 "),
        "{t}"
    );
    assert!(
        t.contains("host=front.example"),
        "the client's Host is kept: {t}"
    );
    assert!(t.contains("xff=10.1.1.1, 127.0.0.1"), "{t}");
    assert!(t.contains("xfp=http xfh=front.example"), "{t}");
    assert!(
        t.contains("fwd=for=127.0.0.1;host=front.example;proto=http"),
        "{t}"
    );
    assert!(
        t.contains("secret=-"),
        "fields named by Connection stay behind: {t}"
    );
    // The same client connection and the pooled origin connection serve a second request.
    assert!(c.get("/mnt/").await.text().starts_with("GET /app/?"));
}

#[tokio::test]
async fn host_can_be_rewritten_to_the_origins() {
    let o = lws_origin();
    let p = proxy_to(
        ReverseProxy::new(&url(o.addr, "/app"))
            .unwrap()
            .host(HostHeader::Origin),
    );
    let t = get(p.addr, "/mnt/echo").await.text();
    assert!(t.contains(&format!("host={}", o.addr)), "{t}");
}

#[tokio::test]
async fn location_and_cookie_paths_are_rewritten_when_asked() {
    let o = lws_origin();
    let p = proxy_to(
        ReverseProxy::new(&url(o.addr, "/app"))
            .unwrap()
            .rewrite_paths(true),
    );
    let r = get(p.addr, "/mnt/redirect").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/mnt/echo"));
    assert_eq!(r.header("set-cookie"), Some("sid=1; Path=/mnt/; HttpOnly"));
}

#[tokio::test]
async fn uploads_and_downloads_stream_whole_through_the_proxy() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let n = 8 << 20;
    // Upload with a length and chunked: the origin sees every byte in order.
    for chunked in [false, true] {
        let mut s = TcpStream::connect(p.addr).await.unwrap();
        let head = if chunked {
            "POST /mnt/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()
        } else {
            format!("POST /mnt/echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n")
        };
        s.write_all(head.as_bytes()).await.unwrap();
        let (rd, mut wr) = s.into_split();
        let writer = tokio::spawn(async move {
            let mut hash = FNV_START;
            for at in (0..n).step_by(64 * 1024) {
                let piece: Vec<u8> = (at..at + 64 * 1024).map(pattern).collect();
                fnv(&mut hash, &piece);
                if chunked {
                    wr.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                        .await
                        .unwrap();
                    wr.write_all(&piece).await.unwrap();
                    wr.write_all(b"\r\n").await.unwrap();
                } else {
                    wr.write_all(&piece).await.unwrap();
                }
            }
            if chunked {
                wr.write_all(b"0\r\n\r\n").await.unwrap();
            }
            (wr, hash)
        });
        let mut c = Client::new(tokio::io::join(rd, tokio::io::sink()));
        let r = c.read_response().await;
        let (_wr, hash) = writer.await.unwrap();
        assert_eq!(r.status, 200);
        assert!(
            r.text().ends_with(&format!("len={n} hash={hash:x}")),
            "{}",
            r.text()
        );
    }
    // Download: length kept, every byte right.
    let r = get(p.addr, &format!("/mnt/big?n={n}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
    assert!(r.body.iter().enumerate().all(|(i, b)| *b == pattern(i)));
    assert_eq!(r.body.len(), n);
}

#[tokio::test]
async fn a_unix_socket_origin_as_lwsws_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("origin.sock");
    let _o = start(vec![origin_vhost().listen(any_port()).listen_unix(&sock)]);
    let origin = format!("http://+{}:/app", sock.display());
    let p = proxy_to(ReverseProxy::new(&origin).unwrap());
    let r = get(p.addr, "/mnt/echo?via=unix").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().starts_with("GET /app/echo?via=unix"),
        "{}",
        r.text()
    );
}

/// A scripted origin: for every connection, reads a request head (and `read_body` bytes of body), then
/// writes `answer` and, when `close`, closes.
async fn scripted(answer: &'static [u8], read_body: usize, close: bool) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !support::contains(&got, b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let mut body = got.len() - (support::find(&got, b"\r\n\r\n").unwrap() + 4);
                while body < read_body {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => body += n,
                    }
                }
                let _ = s.write_all(answer).await;
                if !close {
                    // Keep the connection open (and silent) until the proxy gives up on it.
                    let _ = s.read(&mut buf).await;
                }
            });
        }
    });
    addr
}

fn quick(addr: SocketAddr) -> ReverseProxy {
    ReverseProxy::new(&url(addr, "/"))
        .unwrap()
        .header_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(300))
}

#[tokio::test]
async fn an_unreachable_origin_is_503() {
    let (dead, _held) = support::refusing_port();
    let p = proxy_to(ReverseProxy::new(&url(dead, "/")).unwrap());
    assert_eq!(get(p.addr, "/mnt/x").await.status, 503);
    assert_eq!(get(p.addr, "/mnt/x").await.status, 503, "still serving");
}

#[tokio::test]
async fn an_origin_that_answers_garbage_is_502() {
    for answer in [
        &b"HTTP/9 banana\r\n\r\n"[..],
        b"NOT HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
        b"HTTP/1.1 101 Switching\r\n\r\n",
        b"",
    ] {
        let o = scripted(answer, 0, true).await;
        let p = proxy_to(quick(o));
        // Again and again: passive health never takes a mount's only origin out of service (as nginx).
        for _ in 0..5 {
            let r = get(p.addr, "/mnt/x").await;
            assert_eq!(r.status, 502, "{:?}", String::from_utf8_lossy(answer));
        }
    }
}

#[tokio::test]
async fn head_keeps_the_origins_length() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    for http2 in [false, true] {
        let client = match http2 {
            true => lws::client::HttpClient::builder()
                .http2_prior_knowledge()
                .build(),
            false => lws::client::HttpClient::new(),
        };
        let r = client
            .request(&url(p.addr, "/mnt/big?n=300000"))
            .method("HEAD")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.header("content-length"), Some("300000"), "http2: {http2}");
        assert!(r.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn oversized_or_endless_origin_headers_are_502() {
    let big: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n",
            "a".repeat(64 * 1024)
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let o = scripted(big, 0, true).await;
    let p = proxy_to(quick(o));
    assert_eq!(get(p.addr, "/mnt/x").await.status, 502);
    // Header lines that never end: refused at the head limit, not read forever.
    let endless: &'static [u8] = Box::leak(
        format!("HTTP/1.1 200 OK\r\n{}", "x-more: y\r\n".repeat(20_000))
            .into_bytes()
            .into_boxed_slice(),
    );
    let o = scripted(endless, 0, false).await;
    let p = proxy_to(quick(o));
    assert_eq!(get(p.addr, "/mnt/x").await.status, 502);
}

#[tokio::test]
async fn an_origin_that_never_answers_is_504() {
    let o = scripted(b"", 0, false).await;
    let p = proxy_to(quick(o));
    assert_eq!(get(p.addr, "/mnt/x").await.status, 504);
}

#[tokio::test]
async fn interim_1xx_answers_are_skipped() {
    let o = scripted(
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    let r = get(p.addr, "/mnt/x").await;
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
}

/// Reads a response whose body the proxy must abort: the connection closes before the body is complete.
async fn expect_aborted(p: SocketAddr, path: &str, partial: &str) {
    let mut c = TcpStream::connect(p).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(support::IO_TIMEOUT, c.read_to_end(&mut all))
        .await
        .expect("the proxy closes the aborted response")
        .unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(partial), "{text}");
    assert!(
        !text.ends_with("\r\n0\r\n\r\n"),
        "must not look complete: {text}"
    );
    if let Some(len) = support::header_value(&all, "content-length") {
        let body = &all[support::find(&all, b"\r\n\r\n").unwrap() + 4..];
        assert!((body.len() as u64) < len.parse::<u64>().unwrap(), "{text}");
    }
}

#[tokio::test]
async fn origin_failures_mid_body_abort_the_response() {
    // Length lie: 1 MB promised, 5 bytes sent, then close. (Bodies up to 64 KiB are read whole before the
    // answer, so the same lie there is a 502: see a_small_body_that_fails_before_it_is_sent_is_a_502.)
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\nshort",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    expect_aborted(p.addr, "/mnt/a", "short").await;
    // Chunked body cut off, and a chunk size that is not hex.
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    expect_aborted(p.addr, "/mnt/b", "hello").await;
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    expect_aborted(p.addr, "/mnt/c", "hello").await;
    // Silent mid-body: the idle timeout aborts.
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\nabc",
        0,
        false,
    )
    .await;
    let p = proxy_to(quick(o));
    expect_aborted(p.addr, "/mnt/d", "abc").await;
    // The proxy keeps serving: the next request gets its own (again aborted) answer.
    expect_aborted(p.addr, "/mnt/e", "abc").await;
}

#[tokio::test]
async fn a_small_body_that_fails_before_it_is_sent_is_a_502() {
    for (answer, close) in [
        (
            &b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort"[..],
            true,
        ),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", false),
    ] {
        let o = scripted(answer, 0, close).await;
        let p = proxy_to(quick(o));
        assert_eq!(get(p.addr, "/mnt/x").await.status, 502);
    }
}

#[tokio::test]
async fn trailers_from_the_origin_reach_the_client() {
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-sum: 7\r\n\r\n",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"GET /mnt/t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(support::IO_TIMEOUT, c.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.ends_with("2\r\nhi\r\n0\r\nx-sum: 7\r\n\r\n"), "{text}");
}

#[tokio::test]
async fn an_origin_that_answers_before_the_upload_ends_is_heard() {
    let o = scripted(
        b"HTTP/1.1 413 Too Big\r\ncontent-length: 3\r\n\r\nbig",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    let n = 32 << 20;
    s.write_all(
        format!("POST /mnt/u HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let (rd, mut wr) = s.into_split();
    tokio::spawn(async move {
        let piece = vec![0u8; 1 << 20];
        for _ in 0..32 {
            if wr.write_all(&piece).await.is_err() {
                return;
            }
        }
    });
    let r = Client::new(tokio::io::join(rd, tokio::io::sink()))
        .read_response()
        .await;
    assert_eq!((r.status, r.text().as_str()), (413, "big"));
}

#[tokio::test]
async fn a_dead_origin_is_skipped_and_the_others_take_turns() {
    let a = lws_origin();
    let b = lws_origin();
    let (dead, _held) = support::refusing_port();
    let p = proxy_to(
        ReverseProxy::new(&url(dead, "/app"))
            .unwrap()
            .origin(&url(a.addr, "/app"))
            .unwrap()
            .origin(&url(b.addr, "/app"))
            .unwrap()
            .host(HostHeader::Origin)
            .passive_health(1, Duration::from_secs(60)),
    );
    let mut hosts = Vec::new();
    for _ in 0..6 {
        let r = get(p.addr, "/mnt/echo").await;
        assert_eq!(r.status, 200, "a dead origin is passed over: {}", r.text());
        let t = r.text();
        let host = t
            .split("host=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        hosts.push(host);
    }
    for o in [&a, &b] {
        assert!(hosts.contains(&o.addr.to_string()), "{hosts:?}");
    }
}

#[tokio::test]
async fn http2_clients_are_proxied_too() {
    let o = lws_origin();
    let p = start(vec![Vhost::new("localhost").listen(any_port()).mount(
        Mount::proxy("/mnt", ReverseProxy::new(&url(o.addr, "/app")).unwrap()),
    )]);
    let client = lws::client::HttpClient::builder()
        .http2_prior_knowledge()
        .build();
    let r = client
        .request(&url(p.addr, "/mnt/big?n=300000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), lws::client::HttpVersion::Http2);
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 300_000);
    assert!(body.iter().enumerate().all(|(i, b)| *b == pattern(i)));
    let r = client
        .request(&url(p.addr, "/mnt/echo"))
        .method("POST")
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap();
    let t = r.text().await.unwrap();
    assert!(t.contains("len=100000"), "{t}");
}

#[tokio::test]
async fn a_client_that_aborts_mid_upload_leaves_the_proxy_serving() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let mut s = TcpStream::connect(p.addr).await.unwrap();
    s.write_all(b"POST /mnt/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        .await
        .unwrap();
    s.write_all(&[1u8; 300_000]).await.unwrap();
    drop(s);
    let r = get(p.addr, "/mnt/echo").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn ws_round_trips(mut ws: lws::client::WebSocket) {
    use lws::client::Message;
    assert_eq!(
        ws.protocol(),
        Some("echo"),
        "the origin's answer reaches the client"
    );
    for msg in [
        Message::Text("through the proxy".into()),
        Message::Binary(bytes::Bytes::from(
            (0..1_000_000).map(pattern).collect::<Vec<u8>>(),
        )),
    ] {
        ws.send(msg.clone()).await.unwrap();
        let back = tokio::time::timeout(support::IO_TIMEOUT, ws.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(back, msg);
    }
    ws.close(1000, "done").await.unwrap();
}

#[tokio::test]
async fn websockets_are_proxied_over_http1_and_http2() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let ws_url = format!("ws://{}/mnt/ws", p.addr);
    // HTTP/1.1 upgrade, with permessage-deflate negotiated end to end.
    let ws = lws::client::ws(&ws_url)
        .protocol("echo")
        .permessage_deflate(true)
        .connect()
        .await
        .unwrap();
    assert!(!ws.is_h2());
    assert!(
        ws.compressed(),
        "the origin's extension answer passes the proxy"
    );
    ws_round_trips(ws).await;
    // RFC 8441 toward the proxy, an HTTP/1.1 upgrade onward.
    let ws = lws::client::ws(&ws_url)
        .protocol("echo")
        .http2_prior_knowledge()
        .connect()
        .await
        .unwrap();
    assert!(ws.is_h2(), "the client's side is an HTTP/2 stream");
    ws_round_trips(ws).await;
}

#[tokio::test]
async fn a_websocket_the_origin_refuses_gets_the_origins_answer() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let r = lws::client::ws(&format!("ws://{}/mnt/ws", p.addr))
        .protocol("no-such-protocol")
        .connect()
        .await;
    assert!(
        matches!(r, Err(lws::client::ClientError::Status(s)) if s >= 400),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_origin() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // An origin that offers 256 MiB and counts what the proxy takes.
    let taken = Arc::new(AtomicUsize::new(0));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = l.local_addr().unwrap();
    let counter = taken.clone();
    let total: usize = 256 << 20;
    let writer = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await.unwrap();
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        let piece = vec![b'x'; 64 * 1024];
        while counter.load(Ordering::Relaxed) < total {
            if s.write_all(&piece).await.is_err() {
                return;
            }
            counter.fetch_add(piece.len(), Ordering::Relaxed);
        }
    });
    let p = proxy_to(ReverseProxy::new(&url(origin, "/")).unwrap());
    let mut c = TcpStream::connect(p.addr).await.unwrap();
    c.write_all(b"GET /mnt/huge HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 1024];
    let _ = c.read(&mut first).await.unwrap();
    // The client reads nothing more. A proxy that buffered would take the 256 MiB from loopback well within
    // the second allowed; this one takes only what the sockets and its small queue hold.
    let mut writer = writer;
    let done = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
    assert!(
        done.is_err(),
        "the origin wrote everything although nobody read it"
    );
    let held = taken.load(Ordering::Relaxed);
    assert!(held < 64 << 20, "{} MiB taken from the origin", held >> 20);
    drop(c);
    let _ = tokio::time::timeout(support::IO_TIMEOUT, writer).await;
}

#[tokio::test]
async fn request_trailers_go_onward() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap());
    let mut c = Client::connect(p.addr).await;
    c.send(
        b"POST /mnt/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
3\r\nabc\r\n0\r\nx-checksum: 294\r\n\r\n",
    )
    .await;
    let r = c.read_response().await;
    assert!(
        r.text()
            .ends_with("len=3 hash=e71fa2190541574b x-checksum=294"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn http2_onward_streams_both_ways_on_shared_connections() {
    let o = lws_origin();
    let p = proxy_to(ReverseProxy::new(&url(o.addr, "/app")).unwrap().http2(true));
    // A streamed upload with a length, and one chunked with trailers.
    let n = 3 << 20;
    let body: Vec<u8> = (0..n).map(pattern).collect();
    let mut hash = FNV_START;
    fnv(&mut hash, &body);
    let mut c = Client::connect(p.addr).await;
    let mut req =
        format!("POST /mnt/echo HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n").into_bytes();
    req.extend_from_slice(&body);
    c.send(&req).await;
    let r = c.read_response().await;
    assert!(
        r.text().ends_with(&format!("len={n} hash={hash:x}")),
        "{}",
        r.text()
    );
    assert!(r.text().contains(" ver=HTTP/2.0 "), "{}", r.text());
    c.send(b"POST /mnt/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 1\r\n\r\n")
        .await;
    let r = c.read_response().await;
    assert!(
        r.text().ends_with("len=3 hash=e71fa2190541574b x-sum=1"),
        "{}",
        r.text()
    );
    // Downloads, several at once.
    let mut all = Vec::new();
    for _ in 0..8 {
        all.push(tokio::spawn(async move {
            get(p.addr, "/mnt/big?n=200000").await
        }));
    }
    for t in all {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body.len(), 200_000);
        assert!(r.body.iter().enumerate().all(|(i, b)| *b == pattern(i)));
    }
    // WebSockets still go over an HTTP/1.1 upgrade.
    let ws = lws::client::ws(&format!("ws://{}/mnt/ws", p.addr))
        .protocol("echo")
        .connect()
        .await
        .unwrap();
    ws_round_trips(ws).await;
}

#[tokio::test]
async fn an_origin_dying_mid_body_resets_the_http2_stream() {
    use support::h2::{get as h2_get, h2_open, h2_response};
    let o = scripted(
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\nshort",
        0,
        true,
    )
    .await;
    let p = proxy_to(quick(o));
    let mut c = h2_open(p.addr).await;
    c.write_all(&h2_get("/mnt/x")).await.unwrap();
    let (data, _, reset) = h2_response(&mut c).await;
    assert_eq!(data, b"short");
    assert_eq!(
        reset,
        Some(2),
        "RST_STREAM(INTERNAL_ERROR), never END_STREAM"
    );
}
