//! The body model on the wire: trailers and aborts of response bodies, and request bodies a handler pulls at
//! its own pace (HTTP/1 stops reading the connection, HTTP/2 keeps the stream window shut).

mod support;

use std::sync::Arc;

use lws::{Body, BodyError, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use support::h2::{frame, frame_bytes, get, h2_open, h2_response, headers};
use support::{any_port, start, Client, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};

/// `/trailers`: `hello` then a trailer; `/abort`: `partial` then an abort; `/pull`: reads the body at the
/// pace the test allows (one permit per piece) and answers with its length.
struct Bodies {
    permits: Arc<Semaphore>,
    seen: mpsc::UnboundedSender<usize>,
}

impl Protocol for Bodies {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        match cx.request().path() {
            "/trailers" | "/abort" => {
                let (tx, body) = Body::channel(2);
                cx.respond(Response::new(200).with_body(body));
                let abort = cx.request().path() == "/abort";
                tokio::spawn(async move {
                    let first = if abort { "partial" } else { "hello" };
                    tx.send(first).await.unwrap();
                    if abort {
                        tx.abort(BodyError::new("origin died")).await;
                    } else {
                        let t = vec![("x-checksum".to_string(), b"42".to_vec())];
                        tx.send_trailers(t).await.unwrap();
                    }
                });
            }
            "/pull" => {
                cx.set_body_limit(1 << 30);
                let mut body = cx.take_body().expect("the request has a body");
                assert!(cx.take_body().is_none(), "a body is taken once");
                let responder = cx.defer();
                let (permits, seen) = (self.permits.clone(), self.seen.clone());
                tokio::spawn(async move {
                    let mut total = 0;
                    loop {
                        permits.acquire().await.unwrap().forget();
                        match body.data().await {
                            Some(Ok(d)) => total += d.len(),
                            Some(Err(e)) => panic!("{e}"),
                            None => break,
                        }
                        let _ = seen.send(total);
                    }
                    let _ = responder.respond(Response::text(200, total.to_string()));
                });
            }
            _ => cx.respond(Response::error(404)),
        }
    }
}

fn server() -> (
    support::Server,
    Arc<Semaphore>,
    mpsc::UnboundedReceiver<usize>,
) {
    let permits = Arc::new(Semaphore::new(0));
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let p = Bodies {
        permits: permits.clone(),
        seen,
    };
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("bodies", p))
        .mount(Mount::callback("/", "bodies"))]);
    (s, permits, seen_rx)
}

#[tokio::test]
async fn h1_trailers_end_the_chunked_body() {
    let (s, _, _) = server();
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /trailers HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n\r\n") || !support::contains(&got, b"0\r\n") {
        let mut b = [0u8; 1];
        tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut b))
            .await
            .expect("the body ends")
            .unwrap();
        got.push(b[0]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.ends_with("5\r\nhello\r\n0\r\nx-checksum: 42\r\n\r\n"),
        "{text}"
    );
    // The connection stays usable after a complete chunked body with trailers.
    let mut c = Client::new(c);
    assert_eq!(c.get("/trailers").await.status, 200);
}

#[tokio::test]
async fn h1_abort_closes_without_the_last_chunk() {
    let (s, _, _) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /abort HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let all = c.read_to_close().await;
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("7\r\npartial\r\n"), "{text}");
    assert!(
        !text.contains("0\r\n\r\n"),
        "an aborted body must not look complete: {text}"
    );
}

#[tokio::test]
async fn h2_trailers_follow_the_data_and_end_the_stream() {
    let (s, _, _) = server();
    let mut c = h2_open(s.addr).await;
    c.write_all(&get("/trailers")).await.unwrap();
    let (data, trailers, reset) = h2_response(&mut c).await;
    assert_eq!(data, b"hello");
    assert!(trailers, "a trailing HEADERS frame ends the stream");
    assert_eq!(reset, None);
}

#[tokio::test]
async fn h2_abort_resets_the_stream() {
    let (s, _, _) = server();
    let mut c = h2_open(s.addr).await;
    c.write_all(&get("/abort")).await.unwrap();
    let (data, _, reset) = h2_response(&mut c).await;
    assert_eq!(data, b"partial");
    assert_eq!(reset, Some(2), "INTERNAL_ERROR, never END_STREAM");
}

#[tokio::test]
async fn h2_window_stays_shut_until_the_handler_reads() {
    let (s, permits, mut seen) = server();
    let mut c = h2_open(s.addr).await;
    let total = 300 * 1024;
    let block = headers(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/pull"),
        (":authority", "localhost"),
        ("content-length", &total.to_string()),
    ]);
    let mut out = frame_bytes(1, 0x4, 1, &block);
    // 200 KiB: more than half the 256 KiB stream window, which would have been given back at once.
    let piece = vec![b'x'; 16 * 1024];
    for _ in 0..(200 / 16) {
        out.extend(frame_bytes(0, 0, 1, &piece));
    }
    out.extend(frame_bytes(0, 0, 1, &piece[..8 * 1024]));
    // A PING behind the data: its ACK comes after any WINDOW_UPDATE the data caused.
    out.extend(frame_bytes(6, 0, 0, b"12345678"));
    c.write_all(&out).await.unwrap();
    loop {
        let (kind, flags, stream, _) = frame(&mut c).await;
        assert!(
            !(kind == 8 && stream == 1),
            "the stream window reopened although nothing was read"
        );
        if kind == 6 && flags & 1 != 0 {
            break;
        }
    }
    // Let the handler read everything received so far: now the window opens.
    permits.add_permits(1000);
    loop {
        let (kind, _, stream, _) = frame(&mut c).await;
        if kind == 8 && stream == 1 {
            break;
        }
    }
    let rest = total - 200 * 1024;
    let rest = vec![b'y'; rest];
    let pieces: Vec<&[u8]> = rest.chunks(16 * 1024).collect();
    for (i, p) in pieces.iter().enumerate() {
        let end = u8::from(i + 1 == pieces.len());
        c.write_all(&frame_bytes(0, end, 1, p)).await.unwrap();
    }
    let (data, _, reset) = h2_response(&mut c).await;
    assert_eq!(reset, None);
    assert_eq!(String::from_utf8_lossy(&data), total.to_string());
    while seen.try_recv().is_ok() {}
}

#[tokio::test]
async fn h1_reading_pauses_while_the_handler_does_not_read() {
    let (s, permits, mut seen) = server();
    let total: usize = 64 << 20;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let head = format!("POST /pull HTTP/1.1\r\nHost: localhost\r\nContent-Length: {total}\r\n\r\n");
    c.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = c.into_split();
    let writer = tokio::spawn(async move {
        let piece = vec![b'z'; 1 << 20];
        for _ in 0..64 {
            wr.write_all(&piece).await.unwrap();
        }
        wr
    });
    // One piece read: the handler has seen at most what the pipe holds plus one socket read.
    permits.add_permits(1);
    let first = seen.recv().await.unwrap();
    assert!(first <= 80 * 1024, "{first}");
    // The server reads no further while the handler waits: the upload cannot complete. (A server that
    // buffered it would take the 64 MiB from loopback in well under the half second allowed.)
    let mut writer = writer;
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut writer).await;
    assert!(
        early.is_err(),
        "the whole upload was taken although the handler read one piece"
    );
    permits.add_permits(1 << 20);
    tokio::time::timeout(IO_TIMEOUT * 4, async {
        while seen.recv().await != Some(total) {}
    })
    .await
    .expect("the handler gets the whole body once it reads");
    writer.await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).ends_with(&total.to_string()) {
        let n = tokio::time::timeout(IO_TIMEOUT, rd.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the answer");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}
