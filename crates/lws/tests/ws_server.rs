//! The WebSocket server role end to end: upgrades (protocol choice, refusals, basic auth), framing errors
//! with their close codes, the demo protocols, broadcast, and the validity policy. The client side here is
//! the sans-IO engine over a raw socket, so every byte on the wire is ours to choose.

mod support;

use std::time::{Duration, Instant};

use lws::ws::{ValidityPolicy, WsCtx, WsMessage};
use lws::{Mount, Protocol, ProtocolHandle, Pvo, Vhost};
use lws_proto::ws::{handshake, MessageKind, Role, WsConfig, WsConn, WsEvent};
use support::{any_port, start, Client, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes every message.
struct Echo;

impl Protocol for Echo {
    type Session = ();
    fn message(&self, _: &mut (), cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        match msg.kind {
            MessageKind::Text => cx.send_text(msg.text().unwrap_or_default()),
            MessageKind::Binary => cx.send_binary(msg.data),
        }
    }
}

/// A test client: raw TCP, our own handshake bytes, the engine in client role for frames.
struct WsClient {
    io: TcpStream,
    conn: WsConn,
}

impl WsClient {
    async fn connect(
        addr: std::net::SocketAddr,
        path: &str,
        protocols: &[&str],
        extra: &[(&str, &str)],
    ) -> Result<WsClient, (u16, String)> {
        let mut io = TcpStream::connect(addr).await.unwrap();
        let key = handshake::client_key(*b"0123456789abcdef");
        let mut req = Vec::new();
        handshake::client_request(
            &addr.to_string(),
            path,
            &key,
            protocols,
            None,
            extra,
            &mut req,
        );
        io.write_all(&req).await.unwrap();
        let (status, head, rest) = read_head(&mut io).await;
        if status != 101 {
            return Err((status, head));
        }
        let mut conn = WsConn::new(Role::Client, WsConfig::default(), Instant::now());
        let mut n = 0u8;
        conn.set_mask_source(Box::new(move || {
            n = n.wrapping_add(1);
            [n, 7, 3, 1]
        }));
        conn.handle_input(Instant::now(), &rest);
        Ok(WsClient { io, conn })
    }

    async fn flush(&mut self) {
        let mut out = Vec::new();
        self.conn.poll_transmit(&mut out);
        if !out.is_empty() {
            self.io.write_all(&out).await.unwrap();
        }
    }

    async fn send(&mut self, kind: MessageKind, data: &[u8]) {
        self.conn.send_message(kind, data);
        self.flush().await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    /// The next event from the server; None when the connection ended.
    async fn next(&mut self) -> Option<WsEvent> {
        loop {
            if let Some(ev) = self.conn.poll_event() {
                self.flush().await;
                return Some(ev);
            }
            let mut buf = [0u8; 65536];
            let n = tokio::time::timeout(IO_TIMEOUT, self.io.read(&mut buf))
                .await
                .expect("server went silent");
            match n {
                Ok(0) | Err(_) => {
                    self.conn.handle_eof(Instant::now());
                    return self.conn.poll_event();
                }
                Ok(n) => self.conn.handle_input(Instant::now(), &buf[..n]),
            }
        }
    }

    async fn next_text(&mut self) -> String {
        loop {
            match self.next().await {
                Some(WsEvent::Message {
                    kind: MessageKind::Text,
                    data,
                }) => return String::from_utf8(data.to_vec()).unwrap(),
                Some(WsEvent::Ping(_)) | Some(WsEvent::Pong(_)) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// Reads until the server's Close and returns its code and reason.
    async fn close_from_server(&mut self) -> (Option<u16>, String) {
        loop {
            match self.next().await {
                Some(WsEvent::Close { code, reason }) => return (code, reason),
                Some(_) => continue,
                None => panic!("connection ended without a close frame"),
            }
        }
    }
}

async fn read_head(io: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    loop {
        let mut tmp = [0u8; 4096];
        let n = tokio::time::timeout(IO_TIMEOUT, io.read(&mut tmp))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before the response head");
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status = head[9..12].parse().unwrap();
            return (status, head, buf[end + 4..].to_vec());
        }
    }
}

fn echo_vhost() -> Vhost {
    Vhost::new("ws")
        .listen(any_port())
        .protocol(ProtocolHandle::new("echo", Echo))
}

#[tokio::test]
async fn echo_text_and_binary_and_a_big_message() {
    let server = start(vec![echo_vhost()]);
    let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    c.send(MessageKind::Text, "héllo".as_bytes()).await;
    assert_eq!(c.next_text().await, "héllo");
    let big = vec![0xA5u8; 3 * 1024 * 1024];
    c.send(MessageKind::Binary, &big).await;
    match c.next().await {
        Some(WsEvent::Message {
            kind: MessageKind::Binary,
            data,
        }) => assert_eq!(&data[..], &big[..]),
        other => panic!("{other:?}"),
    }
    c.conn.close(1000, "bye");
    c.flush().await;
    assert_eq!(
        c.close_from_server().await.0,
        Some(1000),
        "the peer close is answered with its code"
    );
}

/// Many messages of varied sizes and contents sent before reading any echo: the server's sends hit a full
/// socket, so some are written in part straight from where the message lies and the rest queued, and the
/// messages read back in place or reassembled. Every echo must come back whole, in order.
#[tokio::test]
async fn pipelined_echoes_of_every_size_come_back_intact() {
    let server = start(vec![echo_vhost()]);
    let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    let sizes: Vec<usize> = (0..120).map(|i| (i * i * 37 + i) % 150_000).collect();
    let message = |i: usize, len: usize| -> Vec<u8> {
        (0..len).map(|j| (j * 31 + i * 7 + j / 251) as u8).collect()
    };
    let WsClient { io, conn } = &mut c;
    for (i, &len) in sizes.iter().enumerate() {
        conn.send_message(MessageKind::Binary, &message(i, len));
    }
    let (mut rd, mut wr) = io.split();
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    let writer = async move {
        wr.write_all(&out).await.unwrap();
    };
    let reader = async {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65536];
        while got.len() < sizes.len() {
            let n = rd.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed after {} echoes", got.len());
            conn.handle_input(Instant::now(), &buf[..n]);
            while let Some(ev) = conn.poll_event() {
                match ev {
                    WsEvent::Message { data, .. } => got.push(data),
                    WsEvent::Error(e) => panic!("after {} echoes: {e}", got.len()),
                    _ => {}
                }
            }
        }
        got
    };
    let ((), got) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(writer, reader)
    })
    .await
    .expect("echoes stopped coming");
    for (i, (&len, data)) in sizes.iter().zip(&got).enumerate() {
        assert!(
            data[..] == message(i, len)[..],
            "echo {i} ({len} bytes) differs"
        );
    }
}

#[tokio::test]
async fn shutdown_closes_idle_websockets_with_1001_and_drains() {
    let mut server = start(vec![echo_vhost()]);
    let mut idle = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    let mut busy = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    // Both connections are past their handshake and waiting for input when the signal comes: the idle one
    // sees no traffic at all, so only the shutdown wake-up can make it close.
    busy.send(MessageKind::Text, b"hi").await;
    assert_eq!(busy.next_text().await, "hi");
    server.handle.shutdown();
    for c in [&mut idle, &mut busy] {
        let (code, reason) = c.close_from_server().await;
        assert_eq!(
            (code, reason.as_str()),
            (Some(1001), "server shutting down")
        );
        // Our answer to the server's Close; the connection then ends and the drain can finish.
        c.flush().await;
    }
    server.shutdown_and_wait().await;
}

#[tokio::test]
async fn upgrade_refusals_have_the_right_status_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "still here").unwrap();
    std::fs::create_dir(dir.path().join("static")).unwrap();
    let creds = dir.path().join("creds");
    std::fs::write(&creds, "user:pass\n").unwrap();
    let guarded = Pvo {
        name: "guarded".into(),
        value: String::new(),
        children: vec![Pvo {
            name: "basic-auth".into(),
            value: creds.display().to_string(),
            children: vec![],
        }],
    };
    let vhost = Vhost::new("ws")
        .listen(any_port())
        .mount(Mount::files("/", dir.path()))
        .mount(Mount::files("/static", dir.path().join("static")).no_ws_upgrades(true))
        .protocol(ProtocolHandle::new("echo", Echo))
        .protocol(ProtocolHandle::new("guarded", Echo).with_options(guarded))
        .disable_no_protocol_ws_upgrades(true);
    let server = start(vec![vhost]);
    let addr = server.addr;
    let refused = |r: Result<WsClient, (u16, String)>| r.err().expect("upgrade must be refused");
    assert_eq!(
        refused(WsClient::connect(addr, "/", &["nonesuch"], &[]).await).0,
        400
    );
    assert_eq!(
        refused(WsClient::connect(addr, "/", &[], &[]).await).0,
        400,
        "no subprotocol, disabled"
    );
    assert_eq!(
        refused(WsClient::connect(addr, "/static/x", &["echo"], &[]).await).0,
        403
    );
    let (status, head) = refused(WsClient::connect(addr, "/", &["guarded"], &[]).await);
    assert_eq!(status, 401);
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"lwsws\""),
        "{head}"
    );
    let wrong = [("Authorization", "Basic dXNlcjpub3Bl")];
    assert_eq!(
        refused(WsClient::connect(addr, "/", &["guarded"], &wrong).await).0,
        401
    );
    let right = [("Authorization", "Basic dXNlcjpwYXNz")];
    let mut ok = WsClient::connect(addr, "/", &["guarded"], &right)
        .await
        .unwrap();
    ok.send(MessageKind::Text, b"authorised").await;
    assert_eq!(ok.next_text().await, "authorised");

    for (name, raw) in [
        ("no key", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"),
        ("short key", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: abc\r\n\r\n"),
        ("no host", "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    ] {
        let resp = support::exchange(addr, raw.as_bytes()).await;
        assert_eq!(resp.status, 400, "{name}");
    }
    let old = "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let resp = support::exchange(addr, old.as_bytes()).await;
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("sec-websocket-version"), Some("13"));
    let mut plain = Client::connect(addr).await;
    assert_eq!(plain.get("/").await.body, b"still here");
}

#[tokio::test]
async fn unnamed_upgrades_go_to_the_default_protocol() {
    let default = Pvo {
        name: "second".into(),
        value: String::new(),
        children: vec![Pvo {
            name: "default".into(),
            value: "1".into(),
            children: vec![],
        }],
    };
    struct Tag(&'static str);
    impl Protocol for Tag {
        type Session = ();
        fn established(&self, _: &mut (), cx: &mut WsCtx<'_>) {
            cx.send_text(self.0);
        }
    }
    let vhost = Vhost::new("ws")
        .listen(any_port())
        .protocol(ProtocolHandle::new("first", Tag("first")))
        .protocol(ProtocolHandle::new("second", Tag("second")).with_options(default));
    let server = start(vec![vhost]);
    let mut c = WsClient::connect(server.addr, "/", &[], &[]).await.unwrap();
    assert_eq!(c.next_text().await, "second");
    let mut c = WsClient::connect(server.addr, "/", &["first"], &[])
        .await
        .unwrap();
    assert_eq!(c.next_text().await, "first");
}

/// Frames a client frame by hand: FIN + opcode, masked or not.
fn frame(opcode: u8, fin: bool, mask: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    let m = if mask { 0x80 } else { 0 };
    assert!(payload.len() < 126);
    f.push(m | payload.len() as u8);
    if mask {
        let key = [1u8, 2, 3, 4];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

#[tokio::test]
async fn protocol_violations_close_with_their_codes() {
    let server = start(vec![echo_vhost()]);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "unmasked client frame",
            frame(0x1, true, false, b"hi"),
            1002,
        ),
        ("reserved opcode", frame(0x3, true, true, b""), 1002),
        ("fragmented ping", frame(0x9, false, true, b""), 1002),
        (
            "continuation without start",
            frame(0x0, true, true, b"x"),
            1002,
        ),
        (
            "invalid utf-8 text",
            frame(0x1, true, true, &[0xce, 0xba, 0xff]),
            1007,
        ),
        (
            "bad close code",
            frame(0x8, true, true, &[0x03, 0xed]),
            1002,
        ),
        (
            "close reason not utf-8",
            frame(0x8, true, true, &[0x03, 0xe8, 0xff]),
            1007,
        ),
        (
            "rsv1 without extension",
            {
                let mut f = frame(0x1, true, true, b"x");
                f[0] |= 0x40;
                f
            },
            1002,
        ),
    ];
    for (name, bytes, code) in cases {
        let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
            .await
            .unwrap();
        c.send_raw(&bytes).await;
        let (got, _) = c.close_from_server().await;
        assert_eq!(got, Some(code), "{name}");
    }
    // An oversized message against a protocol with a small limit.
    struct Small;
    impl Protocol for Small {
        type Session = ();
        fn ws_options(&self) -> lws::ws::WsOptions {
            lws::ws::WsOptions {
                max_message: 1000,
                ..Default::default()
            }
        }
    }
    let small = start(vec![Vhost::new("s")
        .listen(any_port())
        .protocol(ProtocolHandle::new("small", Small))]);
    let mut c = WsClient::connect(small.addr, "/", &["small"], &[])
        .await
        .unwrap();
    c.send(MessageKind::Binary, &vec![0u8; 5000]).await;
    assert_eq!(c.close_from_server().await.0, Some(1009));
    let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    c.send(MessageKind::Text, b"still serving").await;
    assert_eq!(c.next_text().await, "still serving");
}

#[tokio::test]
async fn dumb_increment_counts_resets_and_closes_on_request() {
    let di = lws_plugins::registry()
        .instantiate("dumb-increment-protocol", &Pvo::default())
        .unwrap()
        .unwrap();
    let server = start(vec![Vhost::new("d").listen(any_port()).protocol(di)]);
    let mut c = WsClient::connect(server.addr, "/", &["dumb-increment-protocol"], &[])
        .await
        .unwrap();
    let first: u64 = c.next_text().await.parse().unwrap();
    let mut last = first;
    for _ in 0..5 {
        let n: u64 = c.next_text().await.parse().unwrap();
        assert_eq!(n, last + 1);
        last = n;
    }
    c.send(MessageKind::Text, b"reset\n").await;
    let mut saw_reset = false;
    for _ in 0..10 {
        if c.next_text().await.parse::<u64>().unwrap() < last {
            saw_reset = true;
            break;
        }
    }
    assert!(saw_reset, "counter went back after reset");
    c.send(MessageKind::Text, &vec![b'a'; 9000]).await;
    c.send(MessageKind::Text, b"closeme\n").await;
    assert_eq!(
        c.close_from_server().await,
        (Some(1001), "seeya".to_string())
    );
}

#[tokio::test]
async fn mirror_broadcasts_to_every_member_of_its_instance_only() {
    let mirror = lws_plugins::registry()
        .instantiate("lws-mirror-protocol", &Pvo::default())
        .unwrap()
        .unwrap();
    let server = start(vec![Vhost::new("m").listen(any_port()).protocol(mirror)]);
    let p = ["lws-mirror-protocol"];
    let mut a = WsClient::connect(server.addr, "/?mirror=one", &p, &[])
        .await
        .unwrap();
    let mut b = WsClient::connect(server.addr, "/?mirror=one", &p, &[])
        .await
        .unwrap();
    let mut other = WsClient::connect(server.addr, "/?mirror=two", &p, &[])
        .await
        .unwrap();
    a.send(MessageKind::Text, b"d #ff0000 1 2 3 4;").await;
    assert_eq!(a.next_text().await, "d #ff0000 1 2 3 4;");
    assert_eq!(b.next_text().await, "d #ff0000 1 2 3 4;");
    other.send(MessageKind::Text, b"only two").await;
    assert_eq!(other.next_text().await, "only two");
    b.send(MessageKind::Text, b"from b").await;
    assert_eq!(
        a.next_text().await,
        "from b",
        "instance one never sees instance two's traffic"
    );
    // A fourth instance is refused while three exist.
    let _three = WsClient::connect(server.addr, "/?mirror=three", &p, &[])
        .await
        .unwrap();
    assert_eq!(
        WsClient::connect(server.addr, "/?mirror=four", &p, &[])
            .await
            .err()
            .map(|e| e.0),
        Some(503)
    );
}

#[tokio::test]
async fn status_lists_live_connections() {
    let status = lws_plugins::registry()
        .instantiate("lws-status", &Pvo::default())
        .unwrap()
        .unwrap();
    let server = start(vec![Vhost::new("st").listen(any_port()).protocol(status)]);
    let p = ["lws-status"];
    let ua = [("User-Agent", "test \"agent\"")];
    let mut a = WsClient::connect(server.addr, "/", &p, &ua).await.unwrap();
    assert!(a.next_text().await.contains("\"wsi\":\"1\""));
    let b = WsClient::connect(server.addr, "/", &p, &ua).await.unwrap();
    let doc = a.next_text().await;
    assert!(doc.contains("\"wsi\":\"2\""), "{doc}");
    assert!(
        doc.contains("test \\\"agent\\\""),
        "user agent JSON-escaped: {doc}"
    );
    drop(b);
    let doc = a.next_text().await;
    assert!(doc.contains("\"wsi\":\"1\""), "{doc}");
}

#[tokio::test]
async fn idle_peers_are_pinged_then_dropped() {
    let vhost = echo_vhost().ws_validity(ValidityPolicy {
        ping_after: Duration::from_millis(100),
        hangup_after: Duration::from_millis(400),
    });
    let server = start(vec![vhost]);
    let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    // Read raw frames without answering: the engine would pong, so look at the bytes ourselves.
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(IO_TIMEOUT, c.io.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        buf[0] & 0x0f,
        0x9,
        "a PING after the idle time: {:?}",
        &buf[..n]
    );
    let mut rest = Vec::new();
    let end = tokio::time::timeout(IO_TIMEOUT, c.io.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(
        end.is_ok() || end.is_err(),
        "the server hangs up after the hangup time"
    );
}

#[tokio::test]
async fn a_second_upgrade_on_an_upgraded_connection_is_a_protocol_error() {
    let server = start(vec![echo_vhost()]);
    let mut c = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        .await;
    let (code, _) = c.close_from_server().await;
    assert_eq!(
        code,
        Some(1002),
        "HTTP bytes after the upgrade are not WebSocket frames"
    );
    let mut again = WsClient::connect(server.addr, "/", &["echo"], &[])
        .await
        .unwrap();
    again.send(MessageKind::Text, b"fine").await;
    assert_eq!(again.next_text().await, "fine");
}

#[tokio::test]
async fn a_slow_upgrade_request_is_cut_off_by_the_head_timeout() {
    let limits = lws::HttpLimits {
        head_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let server = start(vec![echo_vhost().limits(limits)]);
    let mut io = TcpStream::connect(server.addr).await.unwrap();
    io.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(IO_TIMEOUT, io.read_to_end(&mut rest))
        .await
        .expect("closed in time");
    assert!(read.is_ok() || rest.is_empty(), "closed without an upgrade");
    assert!(
        rest.is_empty(),
        "no response to an incomplete head: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

/// A client-side protocol in the libwebsockets callback style: greets on connect, counts echoes, closes.
struct Greeter;

#[derive(Default)]
struct GreeterState {
    echoes: u32,
}

impl Protocol for Greeter {
    type Session = GreeterState;
    fn established(&self, _: &mut GreeterState, cx: &mut WsCtx<'_>) {
        cx.send_text("hello 0");
    }
    fn message(&self, s: &mut GreeterState, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        assert_eq!(msg.text(), Some(format!("hello {}", s.echoes).as_str()));
        s.echoes += 1;
        if s.echoes == 3 {
            cx.close(1000, "done");
        } else {
            cx.send_text(&format!("hello {}", s.echoes));
        }
    }
}

#[tokio::test]
async fn a_client_runs_a_protocol_with_the_server_side_callbacks() {
    let server = start(vec![echo_vhost()]);
    let url = format!("ws://{}/", server.addr);
    let close = lws::client::ws(&url)
        .protocol("echo")
        .run(ProtocolHandle::new("greeter", Greeter))
        .await
        .expect("connects");
    assert_eq!(close.code, Some(1000), "{close:?}");
    assert!(!close.by_peer, "we closed after three echoes");
}

#[tokio::test]
async fn a_client_protocol_gives_up_on_a_silent_server() {
    // A raw listener that completes the handshake and then never says anything again.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        let key = req
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .trim()
            .to_string();
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            handshake::accept_key(&key)
        );
        s.write_all(resp.as_bytes()).await.unwrap();
        let mut sink = vec![0u8; 4096];
        while let Ok(n) = s.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    struct Quiet;
    impl Protocol for Quiet {
        type Session = ();
    }
    let started = Instant::now();
    let close = lws::client::ws(&format!("ws://{addr}/"))
        .permessage_deflate(false)
        .validity(ValidityPolicy {
            ping_after: Duration::from_millis(100),
            hangup_after: Duration::from_millis(300),
        })
        .run(ProtocolHandle::new("quiet", Quiet))
        .await
        .expect("connects");
    assert!(
        started.elapsed() < IO_TIMEOUT,
        "hung up by the validity policy"
    );
    assert_eq!(
        close.code, None,
        "no closing handshake with a silent server: {close:?}"
    );
}

#[tokio::test]
async fn a_vhost_permessage_deflate_config_shapes_the_answer_and_still_echoes() {
    use lws::ws::{ContextPool, PmdConfig};
    use lws_proto::ws::pmd::{self, PermessageDeflate};
    // Smaller windows for our compressor, the client told to reset, no compressor kept between messages:
    // the settings that use the least memory per connection.
    let config = PmdConfig {
        server_max_window_bits: 10,
        client_no_context_takeover: true,
        pool: ContextPool::new(0),
        ..PmdConfig::default()
    };
    let server = start(vec![echo_vhost().permessage_deflate_config(config)]);
    let offered = PmdConfig::default();
    let offer = pmd::client_offer(&offered);
    let mut io = TcpStream::connect(server.addr).await.unwrap();
    let key = handshake::client_key(*b"0123456789abcdef");
    let mut req = Vec::new();
    let extra = [("Sec-WebSocket-Extensions", offer.as_str())];
    handshake::client_request(
        &server.addr.to_string(),
        "/",
        &key,
        &["echo"],
        None,
        &extra,
        &mut req,
    );
    io.write_all(&req).await.unwrap();
    let (status, head, rest) = read_head(&mut io).await;
    assert_eq!(status, 101, "{head}");
    let answer = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_string())
        })
        .expect("permessage-deflate accepted");
    assert_eq!(
        answer,
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=10"
    );
    let params = pmd::client_accept(&answer, &offered).unwrap();
    let mut conn = WsConn::new(Role::Client, WsConfig::default(), Instant::now());
    conn.set_mask_source(Box::new(|| [1, 2, 3, 4]));
    conn.set_extension(Box::new(PermessageDeflate::new(params, false, &offered)));
    conn.handle_input(Instant::now(), &rest);
    let mut c = WsClient { io, conn };
    let text = "a compressible line of text\n".repeat(400);
    for _ in 0..3 {
        c.send(MessageKind::Text, text.as_bytes()).await;
        assert_eq!(c.next_text().await, text);
    }
}
