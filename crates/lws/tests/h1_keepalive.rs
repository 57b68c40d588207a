//! Connection reuse and response delivery over HTTP/1.x: keep-alive, pipelining, HTTP/1.0 rules,
//! `Connection: close`, `Expect: 100-continue`, streamed and deferred responses, and graceful shutdown with
//! a request in flight.

mod support;

use std::time::Duration;

use lws::{Mount, ProtocolHandle, Response, Vhost};
use support::{
    any_port, start, streamed_body, Client, Deferred, Hello, Server, Streamer, Upload, IO_TIMEOUT,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const STREAM_PIECES: usize = 40;

/// `/` says hello, `/up` reads bodies, `/stream` streams, `/defer` hands its responder to the test.
fn server() -> (Server, mpsc::UnboundedReceiver<(String, lws::Responder)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let v = Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("hello", Hello))
        .protocol(ProtocolHandle::new("up", Upload { limit: None }))
        .protocol(ProtocolHandle::new(
            "stream",
            Streamer {
                pieces: STREAM_PIECES,
            },
        ))
        .protocol(ProtocolHandle::new("defer", Deferred { tx }))
        .mount(Mount::callback("/", "hello"))
        .mount(Mount::callback("/up", "up"))
        .mount(Mount::callback("/stream", "stream"))
        .mount(Mount::callback("/defer", "defer"));
    (start(vec![v]), rx)
}

#[tokio::test]
async fn many_requests_share_one_connection() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    for i in 0..25 {
        let r = c.get(&format!("/n{i}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), format!("hello /n{i} on localhost"));
        assert_ne!(r.header("connection"), Some("close"));
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n\
          GET /two HTTP/1.1\r\nHost: localhost\r\n\r\n\
          GET /three HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    for name in ["one", "two", "three"] {
        let r = c.read_response().await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), format!("hello /{name} on localhost"));
    }
    // And the connection is still good afterwards.
    assert_eq!(c.get("/four").await.text(), "hello /four on localhost");
}

#[tokio::test]
async fn pipelined_post_and_get_are_answered_in_order() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello\
          GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "pieces=1 bytes=5");
    let r = c.read_response().await;
    assert_eq!(r.text(), "hello /after on localhost");
}

#[tokio::test]
async fn http10_without_keepalive_closes() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /old HTTP/1.0\r\n\r\n").await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello /old on localhost");
    c.expect_closed().await;
}

#[tokio::test]
async fn http10_with_keepalive_stays_open() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    for i in 0..3 {
        c.send(format!("GET /k{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes())
            .await;
        let r = c.read_response().await;
        assert_eq!(r.status, 200);
        assert_eq!(r.version, "HTTP/1.1");
        assert!(r
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")));
        assert_eq!(r.text(), format!("hello /k{i} on localhost"));
    }
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /bye HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    c.expect_closed().await;
}

#[tokio::test]
async fn expect_100_continue_gets_interim_then_final_response() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    let interim = c.read_response().await;
    assert_eq!(interim.status, 100);
    c.send(b"hello world").await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "pieces=1 bytes=11");
}

#[tokio::test]
async fn streamed_response_arrives_chunked_and_complete() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    let r = c.get("/stream").await;
    assert_eq!(r.status, 200);
    assert!(r.chunked, "HTTP/1.1 streamed response not chunked: {r:?}");
    assert!(r.header("content-length").is_none());
    assert_eq!(r.text(), streamed_body(STREAM_PIECES));
    assert!(r.chunks > 1);
    // The chunked framing ended cleanly: the connection is reusable.
    assert_eq!(c.get("/x").await.status, 200);
}

#[tokio::test]
async fn streamed_response_to_http10_is_close_delimited() {
    let (s, _rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /stream HTTP/1.0\r\n\r\n").await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert!(!r.chunked);
    assert_eq!(r.text(), streamed_body(STREAM_PIECES));
}

#[tokio::test]
async fn deferred_response_arrives() {
    let (s, mut rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /defer/job HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let (path, responder) = tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .expect("handler not called")
        .expect("channel open");
    assert_eq!(path, "/defer/job");
    tokio::spawn(async move {
        responder
            .respond(Response::text(200, "done later"))
            .expect("connection still there");
    });
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "done later");
    assert_eq!(c.get("/next").await.status, 200);
}

#[tokio::test]
async fn dropped_responder_answers_500() {
    let (s, mut rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /defer/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let (_, responder) = tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    drop(responder);
    assert_eq!(c.read_response().await.status, 500);
}

#[tokio::test]
async fn graceful_shutdown_completes_in_flight_request_and_refuses_new_ones() {
    let (mut s, mut rx) = server();
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /defer/slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let (_, responder) = tokio::time::timeout(IO_TIMEOUT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    let join = s.take_join();
    s.handle.shutdown();
    // While the request is still in flight, the listener stops taking connections (polled, bounded).
    let mut refused = false;
    for _ in 0..200 {
        if !new_connection_served(s.addr).await {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "new connections still served after shutdown()");
    assert!(!join.is_finished(), "server ended with a request in flight");
    responder
        .respond(Response::text(200, "finished during drain"))
        .expect("in-flight connection kept open during drain");
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "finished during drain");
    assert_eq!(r.header("connection"), Some("close"));
    c.expect_closed().await;
    tokio::time::timeout(IO_TIMEOUT, join)
        .await
        .expect("server did not finish after draining")
        .expect("server task panicked")
        .expect("server error");
    assert!(!new_connection_served(s.addr).await);
}

/// Whether a fresh connection gets an answer to a GET.
async fn new_connection_served(addr: std::net::SocketAddr) -> bool {
    let Ok(Ok(stream)) =
        tokio::time::timeout(IO_TIMEOUT, tokio::net::TcpStream::connect(addr)).await
    else {
        return false;
    };
    let mut c = Client::new(stream);
    if c.try_send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    c.read_response_for(false).await.is_some()
}

#[tokio::test]
async fn a_client_that_half_closes_while_its_answer_is_deferred_still_gets_it() {
    let (s, mut rx) = server();
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /defer/late HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    c.shutdown().await.unwrap();
    let (path, responder) = rx.recv().await.unwrap();
    assert_eq!(path, "/defer/late");
    // Meanwhile the server must wait for the answer, not read the closed side again and again: the next
    // request on the server (from another client) is served at once.
    assert_eq!(Client::connect(s.addr).await.get("/x").await.status, 200);
    responder.respond(Response::text(200, "late")).unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut all))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&all).ends_with("\r\n\r\nlate"));
}
