//! The HTTP/1 security limits of DESIGN §5 as a client meets them: oversized heads, too many headers, long
//! request lines, bodies over the default limit, a handler raising its limit, slow heads, idle keep-alive and
//! the per-peer connection limit. After every refusal the server must still serve a fresh connection.

mod support;

use std::time::{Duration, Instant};

use lws::{Context, HttpLimits, Mount, ProtocolHandle, Vhost};
use support::{any_port, assert_serves, flood, start, start_with, Client, Server, Upload};

const MIB: usize = 1024 * 1024;

/// `/up` reads bodies with the default limit, `/big` raises it to 4 MiB; `/` answers GETs with 200.
fn vhost() -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("up", Upload { limit: None }))
        .protocol(ProtocolHandle::new(
            "big",
            Upload {
                limit: Some(4 * MIB as u64),
            },
        ))
        .mount(Mount::callback("/", "up"))
        .mount(Mount::callback("/big", "big"))
}

fn server() -> Server {
    start(vec![vhost()])
}

/// Sends `raw`, expects `status` with `connection: close`, then a close, then a healthy server.
async fn refused_then_closed(s: &Server, raw: Vec<u8>, status: u16) {
    let (resp, rest) = flood(s.addr, raw).await;
    let resp = resp.expect("an error response before the close");
    assert_eq!(resp.status, status, "{resp:?}");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(
        rest.is_empty(),
        "bytes after the error response: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert_serves(s.addr, "/").await;
}

#[tokio::test]
async fn oversized_head_is_431_then_close() {
    let s = server();
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    refused_then_closed(&s, raw.into_bytes(), 431).await;
}

#[tokio::test]
async fn configured_larger_head_is_accepted() {
    let s = start(vec![vhost().limits(HttpLimits {
        max_head: 32 * 1024,
        ..HttpLimits::default()
    })]);
    let raw = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let mut c = Client::connect(s.addr).await;
    c.send(raw.as_bytes()).await;
    assert_eq!(c.read_response().await.status, 200);
}

#[tokio::test]
async fn too_many_headers_is_431() {
    let s = server();
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..101 {
        raw.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    raw.push_str("\r\n");
    refused_then_closed(&s, raw.into_bytes(), 431).await;
}

#[tokio::test]
async fn hundred_headers_are_fine() {
    let s = server();
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..99 {
        raw.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    raw.push_str("\r\n");
    let mut c = Client::connect(s.addr).await;
    c.send(raw.as_bytes()).await;
    assert_eq!(c.read_response().await.status, 200);
}

#[tokio::test]
async fn over_long_request_line_is_414() {
    let s = server();
    let raw = format!(
        "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    refused_then_closed(&s, raw.into_bytes(), 414).await;
}

#[tokio::test]
async fn unterminated_over_long_request_line_is_414() {
    let s = server();
    // No line end at all: the server must not wait for one.
    let raw = format!("GET /{}", "a".repeat(9 * 1024));
    refused_then_closed(&s, raw.into_bytes(), 414).await;
}

#[tokio::test]
async fn body_over_default_limit_is_413() {
    let s = server();
    let mut raw = format!(
        "POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        2 * MIB
    )
    .into_bytes();
    raw.extend_from_slice(&[b'x'; 4096]);
    refused_then_closed(&s, raw, 413).await;
}

#[tokio::test]
async fn chunked_body_crossing_default_limit_is_413() {
    let s = server();
    let mut raw =
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let piece = vec![b'y'; 64 * 1024];
    for _ in 0..17 {
        raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        raw.extend_from_slice(&piece);
        raw.extend_from_slice(b"\r\n");
    }
    refused_then_closed(&s, raw, 413).await;
}

#[tokio::test]
async fn raised_limit_accepts_2mib_upload_in_pieces() {
    let s = server();
    let mut c = Client::connect(s.addr).await;
    c.send(
        format!(
            "POST /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
            2 * MIB
        )
        .as_bytes(),
    )
    .await;
    let piece = vec![b'z'; 64 * 1024];
    for _ in 0..32 {
        c.send(&piece).await;
    }
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    let text = r.text();
    let (pieces, bytes) = text
        .strip_prefix("pieces=")
        .and_then(|t| t.split_once(" bytes="))
        .unwrap_or_else(|| panic!("unexpected body {text:?}"));
    let pieces: usize = pieces.parse().unwrap();
    assert!(
        pieces > 1,
        "the upload reached the handler whole, not streamed"
    );
    assert_eq!(bytes, (2 * MIB).to_string());
    // The connection stays usable after a body that was read completely.
    assert_eq!(c.get("/").await.status, 200);
}

#[tokio::test]
async fn slow_head_is_closed_after_head_timeout() {
    let s = start(vec![vhost().limits(HttpLimits {
        head_timeout: Duration::from_millis(200),
        ..HttpLimits::default()
    })]);
    let mut c = Client::connect(s.addr).await;
    let t0 = Instant::now();
    c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n").await;
    c.expect_closed().await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(150),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "closed too late: {waited:?}"
    );
    assert_serves(s.addr, "/").await;
}

#[tokio::test]
async fn idle_keepalive_connection_is_closed() {
    let s = start(vec![vhost().keepalive_timeout(Duration::from_millis(300))]);
    let mut c = Client::connect(s.addr).await;
    assert_eq!(c.get("/").await.status, 200);
    let t0 = Instant::now();
    c.expect_closed().await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "closed too late: {waited:?}"
    );
    assert_serves(s.addr, "/").await;
}

#[tokio::test]
async fn third_connection_from_one_peer_is_refused_at_accept() {
    let s = start_with(Context::builder().vhost(vhost()).ip_limit_per_peer(2));
    // Two connections, each proven accepted by a served request.
    let mut a = Client::connect(s.addr).await;
    let mut b = Client::connect(s.addr).await;
    assert_eq!(a.get("/").await.status, 200);
    assert_eq!(b.get("/").await.status, 200);
    let mut third = Client::connect(s.addr).await;
    let _ = third
        .try_send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let got = third.read_to_close().await;
    assert!(
        got.is_empty(),
        "third connection was served: {:?}",
        String::from_utf8_lossy(&got)
    );
    // The two admitted connections are unaffected.
    assert_eq!(a.get("/").await.status, 200);
    // Once one leaves, a new connection is admitted (the server notices the close asynchronously).
    drop(b);
    let mut served = false;
    for _ in 0..100 {
        let mut c = Client::connect(s.addr).await;
        let _ = c
            .try_send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await;
        if let Some(r) = c.read_response_for(false).await {
            assert_eq!(r.status, 200);
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        served,
        "a slot freed by a closed connection was never reused"
    );
}
