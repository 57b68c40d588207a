//! Server-Sent Events on the wire, over HTTP/1.1 and HTTP/2: the format, events leaving one by one,
//! `Last-Event-ID`, a client that leaves, quiet streams outliving every idle timeout, and the shared ring
//! that drops a slow client.

mod support;

use std::time::{Duration, Instant};

use lws::http::sse::{Event, EventSender};
use lws::http::sse_ring::{EventRing, FollowEnd};
use lws::{HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use lws_proto::h2::H2Config;
use support::h2::{frame, frame_bytes, get, h2_open, headers};
use support::{any_port, contains, start, Server, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What a test gets for each SSE request: the `Last-Event-ID` the handler saw, and the stream's sender.
type Opened = (Option<String>, EventSender);

/// `/ka`: a stream with a keep-alive comment every 50 ms; anything else: a plain stream. The sender goes
/// to the test, which plays the producer.
struct Sse {
    opened: mpsc::UnboundedSender<Opened>,
}

impl Protocol for Sse {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let (response, tx) = if cx.request().path() == "/ka" {
            Response::sse_with_keep_alive(4, Duration::from_millis(50))
        } else {
            Response::sse(4)
        };
        let last = cx.request().last_event_id().map(str::to_string);
        cx.respond(response);
        let _ = self.opened.send((last, tx));
    }
}

/// A server whose vhost has every idle timeout at 200 ms (HTTP/1 keep-alive and head, HTTP/2 idle).
fn server() -> (Server, mpsc::UnboundedReceiver<Opened>) {
    let (opened, rx) = mpsc::unbounded_channel();
    let h2 = H2Config {
        idle_timeout: Duration::from_millis(200),
        ..H2Config::default()
    };
    let limits = lws::HttpLimits {
        head_timeout: Duration::from_millis(200),
        keepalive_timeout: Duration::from_millis(200),
        ..lws::HttpLimits::default()
    };
    let vhost = Vhost::new("localhost")
        .listen(any_port())
        .http2(h2)
        .limits(limits)
        .protocol(ProtocolHandle::new("sse", Sse { opened }))
        .mount(Mount::callback("/", "sse"));
    (start(vec![vhost]), rx)
}

async fn opened(rx: &mut mpsc::UnboundedReceiver<Opened>) -> Opened {
    tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .expect("the handler ran")
        .expect("the server is up")
}

/// An HTTP/1.1 SSE request on a fresh connection, with these extra header lines.
async fn h1_open(server: &Server, path: &str, extra: &str) -> TcpStream {
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n{extra}\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    c
}

/// Reads into `seen` until it holds `want` (a read that waits longer than the I/O timeout fails the test).
async fn read_until(c: &mut TcpStream, seen: &mut Vec<u8>, want: &[u8]) {
    let mut buf = [0u8; 16 * 1024];
    while !contains(seen, want) {
        let n = tokio::time::timeout(IO_TIMEOUT, c.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "waiting for {:?}; got {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(seen)
                )
            })
            .unwrap();
        assert!(n > 0, "closed before {:?}", String::from_utf8_lossy(want));
        seen.extend_from_slice(&buf[..n]);
    }
}

/// Reads HTTP/2 frames of stream 1, collecting DATA, until the data holds `want` (acknowledging SETTINGS;
/// a reset, a GOAWAY or the end of the stream fails the test).
async fn h2_read_until(c: &mut TcpStream, data: &mut Vec<u8>, want: &[u8]) {
    while !contains(data, want) {
        let (kind, flags, stream, payload) = frame(c).await;
        match (kind, stream) {
            (0, 1) => {
                data.extend_from_slice(&payload);
                assert_eq!(flags & 1, 0, "the stream ended");
            }
            (3, 1) | (7, 0) => panic!("stream or connection ended: frame type {kind}"),
            (4, 0) if flags & 1 == 0 => c.write_all(&frame_bytes(4, 1, 0, &[])).await.unwrap(),
            _ => {}
        }
    }
}

fn every_field() -> Event {
    Event::data("first line\nsecond line")
        .event("tick")
        .unwrap()
        .id("41")
        .unwrap()
        .retry(Duration::from_millis(1500))
}

const EVERY_FIELD: &[u8] =
    b"retry: 1500\nevent: tick\nid: 41\ndata: first line\ndata: second line\n\n";

#[tokio::test]
async fn h1_head_and_wire_format() {
    let (server, mut rx) = server();
    let mut c = h1_open(&server, "/", "").await;
    let (last, tx) = opened(&mut rx).await;
    assert_eq!(last, None);
    let mut seen = Vec::new();
    read_until(&mut c, &mut seen, b"\r\n\r\n").await;
    let head = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("x-accel-buffering: no"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    tx.send(&every_field()).await.unwrap();
    read_until(&mut c, &mut seen, EVERY_FIELD).await;
    tx.comment("still here").await.unwrap();
    read_until(&mut c, &mut seen, b": still here\n").await;
    // Dropping the sender ends the stream with the last chunk.
    drop(tx);
    read_until(&mut c, &mut seen, b"\r\n0\r\n\r\n").await;
}

#[tokio::test]
async fn h1_one_event_arrives_without_waiting_for_more() {
    let (server, mut rx) = server();
    let mut c = h1_open(&server, "/", "").await;
    let (_, tx) = opened(&mut rx).await;
    tx.send(&Event::data("alone")).await.unwrap();
    let mut seen = Vec::new();
    // The sender stays alive and sends nothing more: the event must not wait in a buffer.
    read_until(&mut c, &mut seen, b"data: alone\n\n").await;
    assert!(!tx.is_closed());
}

#[tokio::test]
async fn last_event_id_reaches_the_handler() {
    let (server, mut rx) = server();
    let _c = h1_open(&server, "/", "Last-Event-ID: 1234\r\n").await;
    assert_eq!(opened(&mut rx).await.0.as_deref(), Some("1234"));
    let _c = h1_open(&server, "/", "Last-Event-ID: \r\n").await;
    assert_eq!(opened(&mut rx).await.0, None);
    let long = "9".repeat(lws::http::sse::MAX_LAST_EVENT_ID + 1);
    let _c = h1_open(&server, "/", &format!("Last-Event-ID: {long}\r\n")).await;
    assert_eq!(opened(&mut rx).await.0, None);

    let mut c = h2_open(server.addr).await;
    let block = headers(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "localhost"),
        ("last-event-id", "abc-7"),
    ]);
    c.write_all(&frame_bytes(1, 0x5, 1, &block)).await.unwrap();
    assert_eq!(opened(&mut rx).await.0.as_deref(), Some("abc-7"));
}

#[tokio::test]
async fn h1_a_client_that_leaves_fails_the_sender() {
    let (server, mut rx) = server();
    let mut c = h1_open(&server, "/", "").await;
    let (_, tx) = opened(&mut rx).await;
    let mut seen = Vec::new();
    read_until(&mut c, &mut seen, b"\r\n\r\n").await;
    drop(c);
    tokio::time::timeout(IO_TIMEOUT, tx.closed())
        .await
        .expect("the connection noticed the client leaving");
    assert!(tx.send(&Event::data("x")).await.is_err());
}

#[tokio::test]
async fn h2_head_wire_format_and_one_event_at_a_time() {
    let (server, mut rx) = server();
    let mut c = h2_open(server.addr).await;
    // END_STREAM on the request: the client's side is closed, the stream stays open for the answer.
    c.write_all(&get("/")).await.unwrap();
    let (_, tx) = opened(&mut rx).await;
    let mut data = Vec::new();
    tx.send(&Event::data("alone")).await.unwrap();
    h2_read_until(&mut c, &mut data, b"data: alone\n\n").await;
    tx.send(&every_field()).await.unwrap();
    tx.comment("").await.unwrap();
    h2_read_until(&mut c, &mut data, EVERY_FIELD).await;
    h2_read_until(&mut c, &mut data, b":\n").await;
    drop(tx);
    loop {
        let (kind, flags, stream, _) = frame(&mut c).await;
        if kind == 0 && stream == 1 && flags & 1 != 0 {
            break;
        }
    }
}

#[tokio::test]
async fn h2_a_reset_or_a_closed_connection_fails_the_sender() {
    let (server, mut rx) = server();
    let mut c = h2_open(server.addr).await;
    c.write_all(&get("/")).await.unwrap();
    let (_, tx) = opened(&mut rx).await;
    // RST_STREAM(CANCEL), as a browser closing its EventSource sends.
    c.write_all(&frame_bytes(3, 0, 1, &8u32.to_be_bytes()))
        .await
        .unwrap();
    tokio::time::timeout(IO_TIMEOUT, tx.closed())
        .await
        .expect("the reset dropped the stream");

    let mut c = h2_open(server.addr).await;
    c.write_all(&get("/")).await.unwrap();
    let (_, tx) = opened(&mut rx).await;
    drop(c);
    tokio::time::timeout(IO_TIMEOUT, tx.closed())
        .await
        .expect("the closed connection dropped the stream");
}

/// The keep-alive comments (every 50 ms, from the server's own timer) measure time: after ten of them the
/// stream has outlived every 200 ms idle timeout of the vhost, and an event still goes through. Once the
/// HTTP/2 stream ends, the connection's idle time counts from then: a next request right away is served.
#[tokio::test]
async fn a_quiet_stream_outlives_the_idle_timeouts() {
    let (server, mut rx) = server();
    let start = Instant::now();
    let mut c = h1_open(&server, "/ka", "").await;
    let (_, tx) = opened(&mut rx).await;
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.clear();
        read_until(&mut c, &mut seen, b": keep-alive\n").await;
    }
    assert!(start.elapsed() >= Duration::from_millis(450));
    tx.send(&Event::data("late")).await.unwrap();
    read_until(&mut c, &mut seen, b"data: late\n\n").await;

    let start = Instant::now();
    let mut c = h2_open(server.addr).await;
    c.write_all(&get("/ka")).await.unwrap();
    let (_, tx) = opened(&mut rx).await;
    let mut data = Vec::new();
    for _ in 0..10 {
        data.clear();
        h2_read_until(&mut c, &mut data, b": keep-alive\n").await;
    }
    assert!(start.elapsed() >= Duration::from_millis(450));
    tx.send(&Event::data("late")).await.unwrap();
    h2_read_until(&mut c, &mut data, b"data: late\n\n").await;
    drop(tx);
    loop {
        let (kind, flags, stream, _) = frame(&mut c).await;
        assert_ne!(kind, 7, "GOAWAY right after the stream ended");
        if kind == 0 && stream == 1 && flags & 1 != 0 {
            break;
        }
    }
    let block = headers(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "localhost"),
    ]);
    c.write_all(&frame_bytes(1, 0x5, 3, &block)).await.unwrap();
    opened(&mut rx).await;
}

/// A stream that sends nothing at all is not cut by the HTTP/2 idle timeout either: answered after
/// several idle timeouts' worth of time (measured by a second stream's keep-alive comments, which ends
/// first), it still reaches the client.
#[tokio::test]
async fn h2_a_silent_stream_keeps_its_connection() {
    let (server, mut rx) = server();
    let mut c = h2_open(server.addr).await;
    c.write_all(&get("/")).await.unwrap();
    let (_, silent) = opened(&mut rx).await;
    let block = headers(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/ka"),
        (":authority", "localhost"),
    ]);
    c.write_all(&frame_bytes(1, 0x5, 3, &block)).await.unwrap();
    let (_, clock) = opened(&mut rx).await;
    let mut ticks = 0;
    while ticks < 10 {
        let (kind, _, stream, payload) = frame(&mut c).await;
        assert_ne!(kind, 7, "GOAWAY while streams were open");
        if kind == 0 && stream == 3 && contains(&payload, b": keep-alive\n") {
            ticks += 1;
        }
    }
    drop(clock);
    silent.send(&Event::data("woke")).await.unwrap();
    let mut data = Vec::new();
    h2_read_until(&mut c, &mut data, b"data: woke\n\n").await;
}

/// `/ring`: every client follows one shared ring from its own tail.
struct Ring {
    ring: EventRing,
    opened: mpsc::UnboundedSender<()>,
    ended: mpsc::UnboundedSender<FollowEnd>,
}

impl Protocol for Ring {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let (response, tx) = Response::sse(2);
        cx.respond(response);
        let follow = self.ring.follow(tx, None);
        let ended = self.ended.clone();
        tokio::spawn(async move {
            let _ = ended.send(follow.await);
        });
        let _ = self.opened.send(());
    }
}

/// A client that never reads falls behind and is dropped once the ring laps it, while a client that reads
/// keeps up with every event; the ring never holds more than its slots.
#[tokio::test]
async fn the_ring_drops_a_slow_client_and_keeps_a_fast_one() {
    let ring = EventRing::new(4);
    let (opened, mut opened_rx) = mpsc::unbounded_channel();
    let (ended, mut ended_rx) = mpsc::unbounded_channel();
    let vhost = Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new(
            "ring",
            Ring {
                ring: ring.clone(),
                opened,
                ended,
            },
        ))
        .mount(Mount::callback("/", "ring"));
    let server = start(vec![vhost]);
    let slow = h1_open(&server, "/", "").await;
    let mut fast = h1_open(&server, "/", "").await;
    for _ in 0..2 {
        tokio::time::timeout(IO_TIMEOUT, opened_rx.recv())
            .await
            .expect("both clients follow the ring");
    }
    let mut seen = Vec::new();
    let big = "x".repeat(64 * 1024);
    let mut dropped = None;
    for i in 0..2000u32 {
        let id = ring.push(Event::data(format!("{i} {big}")));
        assert!(ring.len() <= ring.slots());
        // The fast client sees every event before the next is pushed.
        let tag = format!("id: {id}\ndata: {i} ");
        read_until(&mut fast, &mut seen, tag.as_bytes()).await;
        let keep = seen.len().saturating_sub(tag.len() + 64);
        seen.drain(..keep);
        if let Ok(end) = ended_rx.try_recv() {
            dropped = Some((i, end));
            break;
        }
    }
    let (at, end) = dropped.expect("the slow client was dropped");
    assert_eq!(end, FollowEnd::Lapped, "after {at} events");
    // The fast client keeps following after the slow one is gone.
    let id = ring.push(Event::data("after"));
    read_until(
        &mut fast,
        &mut seen,
        format!("id: {id}\ndata: after\n\n").as_bytes(),
    )
    .await;
    drop(slow);
}
