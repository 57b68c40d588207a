//! One port, several protocols: the connection entry reads the first bytes until they decide (never on a
//! short first read), then HTTP/1, HTTP/2 prior knowledge, TLS, the libwebsockets fallback
//! (`fallback-listen-accept`, `allow-non-tls`) or an sslh-style rule (SSH, TLS by SNI, silence) takes the
//! connection, with the bytes read so far replayed to it.

mod support;

use std::time::Duration;

use lws::raw::{RawCtx, RawProtocol};
use lws::{HttpLimits, Mount, ProtocolHandle, SniffMatch, SniffRule, Vhost};
use support::tls::{cert_path, client_config};
use support::{any_port, assert_serves, start, Hello, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers `<tag>:` and then echoes; a greeting on `established` shows which protocol took the connection.
struct Tagged(&'static str);

impl RawProtocol for Tagged {
    type Session = ();
    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.send(format!("{}:", self.0).as_bytes());
    }
    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        cx.send(data);
    }
    fn peer_shutdown(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.shutdown_write();
    }
}

fn tagged(tag: &'static str) -> ProtocolHandle {
    ProtocolHandle::raw(tag, Tagged(tag))
}

fn http_vhost() -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("hello", Hello))
        .mount(Mount::callback("/", "hello"))
}

/// Sends `data` (in pieces of `piece` bytes, each flushed on its own), half-closes, and reads to the end.
async fn converse(addr: std::net::SocketAddr, data: &[u8], piece: usize) -> Vec<u8> {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.set_nodelay(true).unwrap();
    for p in data.chunks(piece) {
        c.write_all(p).await.unwrap();
        c.flush().await.unwrap();
        tokio::task::yield_now().await;
    }
    c.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
        .await
        .expect("no end of stream")
        .ok();
    got
}

#[tokio::test]
async fn http_and_raw_share_a_port_with_the_fallback() {
    let s = start(vec![http_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    assert_serves(s.addr, "/x").await;
    let got = converse(s.addr, b"\x00\x01binary hello", 64).await;
    assert_eq!(got, b"fb:\x00\x01binary hello");
}

#[tokio::test]
async fn a_request_sent_one_byte_at_a_time_is_still_http() {
    let s = start(vec![http_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    let got = converse(s.addr, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 1).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("hello /slow on localhost"), "{text}");
}

#[tokio::test]
async fn the_h2_preface_in_pieces_shorter_than_four_bytes_is_http2() {
    let s = start(vec![http_vhost()]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.set_nodelay(true).unwrap();
    for p in lws_proto::sniff::H2_PREFACE.chunks(3) {
        c.write_all(p).await.unwrap();
        tokio::task::yield_now().await;
    }
    // An empty SETTINGS frame: the server answers with its own SETTINGS (type 4), never with HTTP/1.
    c.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    let mut head = [0u8; 9];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head[3], 4, "first frame is not SETTINGS: {head:?}");
}

#[tokio::test]
async fn three_bytes_then_half_close_reach_the_fallback() {
    let s = start(vec![http_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    assert_eq!(converse(s.addr, b"abc", 3).await, b"fb:abc");
    // Without a fallback the port's own answer stands: HTTP/1 refuses the bytes.
    let plain = start(vec![http_vhost()]);
    let got = converse(plain.addr, b"\x16\x03\x01\x00\x05hello", 64).await;
    assert!(
        got.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn a_client_that_never_speaks_is_closed_after_the_head_timeout() {
    let limits = HttpLimits {
        head_timeout: Duration::from_millis(200),
        ..HttpLimits::default()
    };
    let s = start(vec![http_vhost()
        .limits(limits)
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    let mut quiet = TcpStream::connect(s.addr).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, quiet.read_to_end(&mut got))
        .await
        .expect("a silent client was never closed")
        .ok();
    assert!(got.is_empty());
    assert_serves(s.addr, "/still").await;
}

#[tokio::test]
async fn silence_goes_to_a_server_speaks_first_rule() {
    let s = start(vec![http_vhost().sniff_rule(SniffRule::new(
        SniffMatch::Silent(Duration::from_millis(100)),
        tagged("banner"),
    ))]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let mut greeting = [0u8; 7];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut greeting))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&greeting, b"banner:");
    // A client that does speak is still served HTTP.
    assert_serves(s.addr, "/").await;
}

#[tokio::test]
async fn ssh_banners_and_other_bytes_go_to_their_rules() {
    let s = start(vec![http_vhost()
        .sniff_rule(SniffRule::new(SniffMatch::Ssh, tagged("ssh")))
        .sniff_rule(SniffRule::new(SniffMatch::Any, tagged("any")))]);
    let got = converse(s.addr, b"SSH-2.0-OpenSSH_9.2\r\n", 2).await;
    assert_eq!(got, b"ssh:SSH-2.0-OpenSSH_9.2\r\n");
    assert_eq!(
        converse(s.addr, b"\x05\x01\x00", 64).await,
        b"any:\x05\x01\x00"
    );
    assert_serves(s.addr, "/").await;
}

fn tls_vhost() -> Vhost {
    http_vhost().tls(
        cert_path("localhost.cert.pem"),
        cert_path("localhost.key.pem"),
    )
}

async fn https_get(addr: std::net::SocketAddr, sni: &str) -> support::Resp {
    support::tls::connect(addr, sni).await.get("/tls").await
}

#[tokio::test]
async fn non_tls_bytes_on_a_tls_port_reach_the_fallback_only_with_allow_non_tls() {
    let open = start(vec![tls_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")
        .allow_non_tls(true)]);
    assert_eq!(https_get(open.addr, "localhost").await.status, 200);
    assert_eq!(
        converse(open.addr, b"plain bytes", 64).await,
        b"fb:plain bytes"
    );
    let closed = start(vec![tls_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    assert_eq!(converse(closed.addr, b"plain bytes", 64).await, b"");
    assert_eq!(https_get(closed.addr, "localhost").await.status, 200);
}

#[tokio::test]
async fn redirect_http_keeps_priority_over_the_fallback() {
    let s = start(vec![tls_vhost()
        .redirect_http(true)
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")
        .allow_non_tls(true)]);
    let got = converse(s.addr, b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n", 64).await;
    assert!(
        got.starts_with(b"HTTP/1.1 301"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(
        converse(s.addr, b"\x01ssh-ish", 64).await,
        b"fb:\x01ssh-ish"
    );
}

#[tokio::test]
async fn a_tls_rule_by_sni_passes_the_handshake_on_untouched() {
    let s = start(vec![tls_vhost().sniff_rule(SniffRule::new(
        SniffMatch::Tls {
            sni: vec!["other.test".into()],
            alpn: vec![],
        },
        tagged("passthrough"),
    ))]);
    // The port's own TLS still answers other names.
    assert_eq!(https_get(s.addr, "localhost").await.status, 200);
    // A ClientHello for other.test goes, byte for byte, to the rule's protocol.
    let mut hello = Vec::new();
    let mut conn = rustls::ClientConnection::new(
        client_config(),
        rustls::pki_types::ServerName::try_from("other.test").unwrap(),
    )
    .unwrap();
    conn.write_tls(&mut hello).unwrap();
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(&hello).await.unwrap();
    let mut back = vec![0u8; "passthrough:".len() + hello.len()];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back[..12], b"passthrough:");
    assert_eq!(&back[12..], &hello[..]);
    let parsed = lws_proto::sniff::client_hello(&hello).unwrap();
    assert_eq!(parsed.sni.as_deref(), Some("other.test"));
}

#[tokio::test]
async fn thousands_of_silent_connections_do_not_stop_the_port() {
    let s = start(vec![http_vhost()
        .protocol(tagged("fb"))
        .fallback_listen_accept("fb")]);
    let mut quiet = Vec::new();
    for _ in 0..2000 {
        quiet.push(TcpStream::connect(s.addr).await.unwrap());
    }
    assert_serves(s.addr, "/busy").await;
    assert_eq!(converse(s.addr, b"\x00raw", 64).await, b"fb:\x00raw");
    drop(quiet);
}
