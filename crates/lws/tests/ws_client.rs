//! The WebSocket client (`lws::client`) against our own server, started in-process on `127.0.0.1:0`.

mod support;

use std::future::poll_fn;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use lws::client::{self, ClientError, Message, WebSocket};
use lws::ws::{ValidityPolicy, WsCtx, WsMessage};
use lws::{Protocol, ProtocolHandle, Vhost};
use support::{any_port, start, Server, IO_TIMEOUT};

/// Echoes every message; "close-me" makes the server close with 4001 "bye now".
struct Echo;

impl Protocol for Echo {
    type Session = ();

    fn message(&self, _session: &mut (), cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        match msg.text() {
            Some("close-me") => cx.close(4001, "bye now"),
            Some(t) => cx.send_text(t),
            None => cx.send_binary(msg.data),
        }
    }
}

/// Answers every message with the name of the protocol serving the connection.
struct Named;

impl Protocol for Named {
    type Session = ();

    fn message(&self, _session: &mut (), cx: &mut WsCtx<'_>, _msg: WsMessage<'_>) {
        let name = cx.info().protocol().to_string();
        cx.send_text(&name);
    }
}

fn cert(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/certs")).join(name)
}

fn echo_vhost() -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("echo", Echo))
}

fn echo_server() -> (Server, String) {
    let server = start(vec![echo_vhost()]);
    let url = format!("ws://{}/", server.addr);
    (server, url)
}

fn tls_server() -> (Server, u16) {
    let server = start(vec![
        echo_vhost().tls(cert("localhost.cert.pem"), cert("localhost.key.pem"))
    ]);
    let port = server.addr.port();
    (server, port)
}

async fn connect(b: client::WsClientBuilder) -> WebSocket {
    tokio::time::timeout(IO_TIMEOUT, b.connect())
        .await
        .expect("connect timed out")
        .expect("connect failed")
}

async fn recv(ws: &mut WebSocket) -> Option<Message> {
    tokio::time::timeout(IO_TIMEOUT, ws.recv())
        .await
        .expect("recv timed out")
        .map(|r| r.expect("recv failed"))
}

async fn round_trip(ws: &mut WebSocket, msg: Message) {
    ws.send(msg.clone()).await.expect("send");
    assert_eq!(recv(ws).await, Some(msg));
}

#[tokio::test]
async fn echo_text_and_binary() {
    let (_server, url) = echo_server();
    let mut ws = connect(client::ws(&url)).await;
    assert_eq!(ws.protocol(), None);
    round_trip(&mut ws, Message::Text("hello".into())).await;
    round_trip(&mut ws, Message::Text(String::new())).await;
    round_trip(&mut ws, Message::Text("ünïcødé ✓".into())).await;
    round_trip(
        &mut ws,
        Message::Binary(Bytes::from_static(&[0, 1, 2, 255])),
    )
    .await;
    ws.close(1000, "").await.expect("close");
}

#[tokio::test]
async fn one_mebibyte_messages() {
    let (_server, url) = echo_server();
    for deflate in [false, true] {
        let mut ws = connect(client::ws(&url).permessage_deflate(deflate)).await;
        assert_eq!(ws.compressed(), deflate);
        let data: Vec<u8> = (0..1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        round_trip(&mut ws, Message::Binary(Bytes::from(data))).await;
        let text = "0123456789abcdef".repeat(64 * 1024);
        round_trip(&mut ws, Message::Text(text)).await;
        ws.close(1000, "").await.expect("close");
    }
}

#[tokio::test]
async fn stream_and_sink_traits() {
    let (_server, url) = echo_server();
    let mut ws = connect(client::ws(&url)).await;
    // Queue several messages through the Sink, flush once, read them back through the Stream.
    for i in 0..10 {
        poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx))
            .await
            .expect("ready");
        Pin::new(&mut ws)
            .start_send(Message::Text(format!("m{i}")))
            .expect("start_send");
    }
    poll_fn(|cx| Pin::new(&mut ws).poll_flush(cx))
        .await
        .expect("flush");
    for i in 0..10 {
        let got = tokio::time::timeout(IO_TIMEOUT, poll_fn(|cx| Pin::new(&mut ws).poll_next(cx)))
            .await
            .expect("timely")
            .expect("a message")
            .expect("no error");
        assert_eq!(got, Message::Text(format!("m{i}")));
    }
    poll_fn(|cx| Pin::new(&mut ws).poll_close(cx))
        .await
        .expect("close");
    // After the closing handshake the stream yields the server's Close, then ends.
    assert_eq!(
        recv(&mut ws).await,
        Some(Message::Close(Some((1000, String::new()))))
    );
    assert_eq!(recv(&mut ws).await, None);
    assert!(matches!(
        ws.send(Message::Text("late".into())).await,
        Err(ClientError::Closed)
    ));
}

#[tokio::test]
async fn subprotocol_selection() {
    let server = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("echo", Named))
        .protocol(ProtocolHandle::new("chat", Named))]);
    let url = format!("ws://{}/", server.addr);
    let mut ws = connect(
        client::ws(&url)
            .protocol("nope")
            .protocol("chat")
            .protocol("echo"),
    )
    .await;
    assert_eq!(ws.protocol(), Some("chat"));
    ws.send(Message::Text("who".into())).await.expect("send");
    assert_eq!(recv(&mut ws).await, Some(Message::Text("chat".into())));

    let ws = connect(client::ws(&url).protocol("echo")).await;
    assert_eq!(ws.protocol(), Some("echo"));

    let refused = client::ws(&url).protocol("unknown").connect().await;
    assert!(
        matches!(refused, Err(ClientError::Status(400))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn permessage_deflate_negotiated() {
    let (_server, url) = echo_server();
    let mut ws = connect(client::ws(&url)).await;
    assert!(ws.compressed());
    let text = "compress me please ".repeat(5000);
    round_trip(&mut ws, Message::Text(text)).await;
    // Short messages go uncompressed on a compressed connection, and still echo.
    round_trip(&mut ws, Message::Text("tiny".into())).await;
    ws.close(1000, "").await.expect("close");

    let ws = connect(client::ws(&url).permessage_deflate(false)).await;
    assert!(!ws.compressed());

    let server = start(vec![echo_vhost().permessage_deflate(false)]);
    let ws = connect(client::ws(&format!("ws://{}/", server.addr))).await;
    assert!(!ws.compressed());
}

#[tokio::test]
async fn wss_with_ca_file() {
    let (_server, port) = tls_server();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("wss://{host}:{port}/");
        let mut ws = connect(client::ws(&url).ca_file(cert("localhost.cert.pem"))).await;
        round_trip(&mut ws, Message::Text(format!("over tls to {host}"))).await;
        round_trip(&mut ws, Message::Binary(Bytes::from(vec![7u8; 300_000]))).await;
        ws.close(1000, "").await.expect("close");
    }
}

#[tokio::test]
async fn wss_with_wrong_ca_fails() {
    let (_server, port) = tls_server();
    let url = format!("wss://127.0.0.1:{port}/");
    let r = client::ws(&url)
        .ca_file(cert("a.example.cert.pem"))
        .connect()
        .await;
    assert!(matches!(r, Err(ClientError::Tls(_))), "{r:?}");
    // A certificate for another name is refused even when it is trusted.
    let server = start(vec![
        echo_vhost().tls(cert("a.example.cert.pem"), cert("a.example.key.pem"))
    ]);
    let url = format!("wss://127.0.0.1:{}/", server.addr.port());
    let r = client::ws(&url)
        .ca_file(cert("localhost.cert.pem"))
        .connect()
        .await;
    assert!(matches!(r, Err(ClientError::Tls(_))), "{r:?}");
    let r = client::ws(&url)
        .ca_file(cert("does-not-exist.pem"))
        .connect()
        .await;
    assert!(matches!(r, Err(ClientError::CaFile { .. })), "{r:?}");
    // The explicit test-only opt-in accepts it.
    let mut ws = connect(client::ws(&url).allow_self_signed_for_tests()).await;
    round_trip(&mut ws, Message::Text("insecure".into())).await;
}

#[tokio::test]
async fn client_initiated_close() {
    let (_server, url) = echo_server();
    let mut ws = connect(client::ws(&url)).await;
    round_trip(&mut ws, Message::Text("before".into())).await;
    tokio::time::timeout(IO_TIMEOUT, ws.close(4000, "done"))
        .await
        .expect("close timely")
        .expect("close");
    // The server answers with our code (RFC 6455 §5.5.1).
    assert_eq!(
        recv(&mut ws).await,
        Some(Message::Close(Some((4000, String::new()))))
    );
    assert_eq!(recv(&mut ws).await, None);
}

#[tokio::test]
async fn server_initiated_close() {
    let (_server, url) = echo_server();
    let mut ws = connect(client::ws(&url)).await;
    ws.send(Message::Text("close-me".into()))
        .await
        .expect("send");
    assert_eq!(
        recv(&mut ws).await,
        Some(Message::Close(Some((4001, "bye now".into()))))
    );
    assert_eq!(recv(&mut ws).await, None);
    assert!(matches!(
        ws.send(Message::Text("late".into())).await,
        Err(ClientError::Closed)
    ));
}

#[tokio::test]
async fn pings_are_answered_while_reading() {
    // The server pings after 200 ms of silence and hangs up after 1 s without traffic from us.
    let policy = ValidityPolicy {
        ping_after: Duration::from_millis(200),
        hangup_after: Duration::from_secs(1),
    };
    let server = start(vec![echo_vhost().ws_validity(policy)]);
    let mut ws = connect(client::ws(&format!("ws://{}/", server.addr))).await;
    let idle = tokio::time::timeout(Duration::from_millis(1800), ws.recv()).await;
    assert!(idle.is_err(), "nothing but pings should arrive: {idle:?}");
    round_trip(&mut ws, Message::Text("still here".into())).await;
    // Our own Ping's Pong does not appear in the stream; the echo sent after it does.
    ws.send(Message::Ping(Bytes::from_static(b"p")))
        .await
        .expect("ping");
    ws.send(Message::Pong(Bytes::from_static(b"unsolicited")))
        .await
        .expect("pong");
    round_trip(&mut ws, Message::Text("after ping".into())).await;
}

#[tokio::test]
async fn connect_errors() {
    let (closed, _held) = support::refusing_port();
    let r = client::ws(&format!("ws://{closed}/")).connect().await;
    assert!(matches!(r, Err(ClientError::Connect(_))), "{r:?}");

    let r = client::ws("http://127.0.0.1/").connect().await;
    assert!(matches!(r, Err(ClientError::Url(_))), "{r:?}");

    // A server that accepts and never answers: the connect timeout applies.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (_s, _) = silent.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let r = client::ws(&format!("ws://{addr}/"))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(matches!(r, Err(ClientError::Timeout)), "{r:?}");
    hold.abort();
}

#[test]
fn websocket_is_a_stream_and_a_sink() {
    fn check<T>()
    where
        T: Stream<Item = Result<Message, ClientError>>
            + Sink<Message, Error = ClientError>
            + Send
            + Unpin,
    {
    }
    check::<WebSocket>();
}

#[tokio::test]
async fn raw_handshake_host_header_and_leftover_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            s.read_exact(&mut b).await.unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .to_string();
        let accept = lws_proto::ws::handshake::accept_key(&key);
        // The 101 and the first frame in one write: the frame must reach the engine.
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        out.extend_from_slice(&[0x81, 0x02, b'h', b'i', 0x88, 0x02, 0x03, 0xe8]);
        s.write_all(&out).await.unwrap();
        // The client answers our Close with a masked Close 1000.
        let mut reply = [0u8; 8];
        s.read_exact(&mut reply).await.unwrap();
        (head, reply)
    });
    let mut ws = connect(
        client::ws(&format!("ws://{addr}/chat?room=1"))
            .origin("http://example.com")
            .header("X-Extra", "yes")
            .permessage_deflate(false),
    )
    .await;
    assert_eq!(recv(&mut ws).await, Some(Message::Text("hi".into())));
    assert_eq!(
        recv(&mut ws).await,
        Some(Message::Close(Some((1000, String::new()))))
    );
    assert_eq!(recv(&mut ws).await, None);
    let (head, reply) = tokio::time::timeout(IO_TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
    assert!(head.starts_with("GET /chat?room=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nHost: {addr}\r\n")), "{head}");
    assert!(
        head.contains("\r\nOrigin: http://example.com\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nX-Extra: yes\r\n"), "{head}");
    assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
    assert_eq!(&reply[..2], &[0x88, 0x82]);
    let key = [reply[2], reply[3], reply[4], reply[5]];
    assert_eq!([reply[6] ^ key[0], reply[7] ^ key[1]], [0x03, 0xe8]);
}

#[tokio::test]
async fn connect_with_retry_reports_after_concealing() {
    let (closed, _held) = support::refusing_port();
    let policy = client::RetryPolicy::new(vec![10, 20], 2);
    let started = std::time::Instant::now();
    let r = client::connect_with_retry(client::ws(&format!("ws://{closed}/")), policy).await;
    assert!(matches!(r, Err(ClientError::Connect(_))), "{r:?}");
    // Two concealed failures waited at least 10 + 20 ms before the third was reported.
    assert!(started.elapsed() >= Duration::from_millis(30));
    // Mistakes that repeat are reported at once.
    let r =
        client::connect_with_retry(client::ws("ftp://x/"), client::RetryPolicy::default()).await;
    assert!(matches!(r, Err(ClientError::Url(_))), "{r:?}");
}
