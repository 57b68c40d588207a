//! The server TLS stream against rustls's own client over loopback TCP: records split and merged across
//! reads, small and large writes with backpressure, key updates, close_notify, garbage, TLS 1.2.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::{accept, Accepted, TlsStream, OUT_LIMIT};
use crate::transport::Transport;

/// Longest any step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(10);

type Client = tokio_rustls::client::TlsStream<TcpStream>;

/// The server configuration the runtime builds for one vhost with the repository's test certificate.
fn server_config(alpn: &[&str]) -> Arc<rustls::ServerConfig> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/certs");
    let mut vhost = crate::Vhost::new("localhost").tls(
        format!("{dir}/localhost.cert.pem"),
        format!("{dir}/localhost.key.pem"),
    );
    if !alpn.is_empty() {
        vhost = vhost.alpn(alpn);
    }
    let inner = Arc::new(crate::vhost::VhostInner::build(vhost).unwrap());
    crate::tls::server_config(&[inner]).unwrap()
}

fn client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&str],
) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(crate::client::any_cert_for_tests(provider))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    config
}

fn tls13() -> ClientConfig {
    client_config(&[&rustls::version::TLS13], &[])
}

/// Reads at most one byte per read from the socket: every record, the handshake's included, arrives split.
struct Trickle(TcpStream);

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut one = [0u8; 1];
        let mut b = ReadBuf::new(&mut one);
        std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut b))?;
        buf.put_slice(b.filled());
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Transport for Trickle {}

/// A loopback TCP pair, the accepted end wrapped by `wrap`.
async fn tcp_pair<S>(wrap: impl FnOnce(TcpStream) -> S) -> (S, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let connect = TcpStream::connect(listener.local_addr().unwrap());
    let (client, accepted) = tokio::join!(connect, listener.accept());
    (wrap(accepted.unwrap().0), client.unwrap())
}

/// A finished handshake between our server stream (over `wrap` of the accepted socket) and rustls's client.
async fn handshake_with<S: Transport>(
    wrap: impl FnOnce(TcpStream) -> S,
    client: ClientConfig,
    alpn: &[&str],
) -> (Accepted<S>, Client) {
    let (server, tcp) = tcp_pair(wrap).await;
    let name = ServerName::try_from("localhost").unwrap();
    let connect = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp);
    let serve = accept(server_config(alpn), server, bytes::Bytes::new());
    let (client, accepted) = tokio::time::timeout(STEP, async { tokio::join!(connect, serve) })
        .await
        .expect("handshake timed out");
    (
        accepted.expect("server handshake"),
        client.expect("client handshake"),
    )
}

async fn pair(client: ClientConfig) -> (Box<TlsStream<TcpStream>>, Client) {
    let (accepted, client) = handshake_with(|s| s, client, &["http/1.1"]).await;
    (accepted.stream, client)
}

/// Reads `n` bytes in reads of at most 16 KiB, as the HTTP drivers do.
/// Sends `data` from the client to the server, then back, each side reading while the other writes.
async fn both_ways<A, B>(server: &mut A, client: &mut B, data: &[u8])
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut server_rx, mut server_tx) = tokio::io::split(server);
    let (mut client_rx, mut client_tx) = tokio::io::split(client);
    let up = async {
        client_tx.write_all(data).await.unwrap();
        client_tx.flush().await.unwrap();
    };
    let (_, got) = tokio::join!(up, read_n(&mut server_rx, data.len()));
    assert!(got == data, "client to server");
    let down = async {
        server_tx.write_all(data).await.unwrap();
        server_tx.flush().await.unwrap();
    };
    let (_, got) = tokio::join!(down, read_n(&mut client_rx, data.len()));
    assert!(got == data, "server to client");
}

async fn read_n<R: AsyncRead + Unpin>(r: &mut R, n: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(n);
    let mut buf = vec![0u8; 16 * 1024];
    while got.len() < n {
        let k = tokio::time::timeout(STEP, r.read(&mut buf))
            .await
            .expect("read timed out")
            .expect("read failed");
        assert!(k > 0, "early end after {} of {n} bytes", got.len());
        got.extend_from_slice(&buf[..k]);
    }
    got
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

#[tokio::test]
async fn handshake_reports_sni_and_alpn() {
    let client = client_config(&[&rustls::version::TLS13], &["h2", "http/1.1"]);
    let (accepted, _client) = handshake_with(|s| s, client, &["h2", "http/1.1"]).await;
    assert_eq!(accepted.sni.as_deref(), Some("localhost"));
    assert_eq!(accepted.stream.alpn_protocol(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn sniffed_bytes_are_the_start_of_the_handshake() {
    let (mut server, tcp) = tcp_pair(|s| s).await;
    let name = ServerName::try_from("localhost").unwrap();
    let connect = tokio_rustls::TlsConnector::from(Arc::new(tls13())).connect(name, tcp);
    let serve = async {
        let mut first = [0u8; 3];
        server.read_exact(&mut first).await.unwrap();
        let initial = bytes::Bytes::copy_from_slice(&first);
        accept(server_config(&[]), server, initial).await
    };
    let (client, accepted) = tokio::time::timeout(STEP, async { tokio::join!(connect, serve) })
        .await
        .unwrap();
    let (mut client, mut server) = (client.unwrap(), accepted.unwrap().stream);
    client.write_all(b"ping").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(read_n(&mut server, 4).await, b"ping");
}

#[tokio::test]
async fn records_split_byte_by_byte_across_reads() {
    let (accepted, mut client) = handshake_with(Trickle, tls13(), &[]).await;
    let mut server = accepted.stream;
    let data = pattern(40_000);
    let write = async {
        client.write_all(&data).await.unwrap();
        client.flush().await.unwrap();
    };
    let (_, got) = tokio::join!(write, read_n(&mut server, data.len()));
    assert!(got == data);
    // Idle again: nothing held back, no buffer kept.
    assert_eq!(server.carry.capacity(), 0);
}

#[tokio::test]
async fn many_small_writes_each_way() {
    let (mut server, mut client) = pair(tls13()).await;
    let piece = b"seven b";
    let up = async {
        for _ in 0..2000 {
            client.write_all(piece).await.unwrap();
            client.flush().await.unwrap();
        }
    };
    let (_, got) = tokio::join!(up, read_n(&mut server, 2000 * piece.len()));
    assert!(got.chunks(piece.len()).all(|c| c == piece));
    let down = async {
        for _ in 0..2000 {
            server.write_all(piece).await.unwrap();
        }
        server.flush().await.unwrap();
    };
    let (_, got) = tokio::join!(down, read_n(&mut client, 2000 * piece.len()));
    assert!(got.chunks(piece.len()).all(|c| c == piece));
    assert!(server.records.pending_out().is_empty());
}

#[tokio::test]
async fn a_megabyte_each_way() {
    let (mut server, mut client) = pair(tls13()).await;
    let data = pattern(1 << 20);
    both_ways(&mut server, &mut client, &data).await;
}

#[tokio::test]
async fn vectored_writes_gather_slices() {
    let (mut server, mut client) = pair(tls13()).await;
    let (a, b, c) = (pattern(10), pattern(3000), pattern(20_000));
    let bufs = [
        IoSlice::new(&a),
        IoSlice::new(&[]),
        IoSlice::new(&b),
        IoSlice::new(&c),
    ];
    let n = server.write_vectored(&bufs).await.unwrap();
    assert_eq!(n, 23_010);
    server.flush().await.unwrap();
    let all: Vec<u8> = [&a[..], &b[..], &c[..]].concat();
    assert!(read_n(&mut client, n).await == all);
}

#[tokio::test]
async fn writes_wait_for_the_socket_and_queue_a_bounded_amount() {
    let (mut server, mut client) = pair(tls13()).await;
    let chunk = pattern(64 * 1024);
    let mut accepted = 0usize;
    // The client does not read: the socket fills up, and then the stream stops taking bytes.
    loop {
        let poll =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *server).poll_write(cx, &chunk)))
                .await;
        match poll {
            Poll::Ready(Ok(n)) => accepted += n,
            Poll::Ready(Err(e)) => panic!("write failed: {e}"),
            Poll::Pending => break,
        }
        assert!(accepted < 256 << 20, "the writes never waited");
    }
    assert!(server.records.pending_out().len() <= OUT_LIMIT + 4 * 64);
    let flush = async { server.flush().await.unwrap() };
    let (_, got) = tokio::join!(flush, read_n(&mut client, accepted));
    let expected: Vec<u8> = chunk.iter().copied().cycle().take(accepted).collect();
    assert!(got == expected);
}

#[tokio::test]
async fn a_client_key_update_mid_stream_is_answered() {
    let (mut server, mut client) = pair(tls13()).await;
    client.write_all(b"before").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(read_n(&mut server, 6).await, b"before");
    client.get_mut().1.refresh_traffic_keys().unwrap();
    client.write_all(b"after").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(read_n(&mut server, 5).await, b"after");
    // The server's answer goes ahead of its next data, under its new keys: the client reads it.
    server.write_all(b"reply").await.unwrap();
    server.flush().await.unwrap();
    assert_eq!(read_n(&mut client, 5).await, b"reply");
    client.write_all(b"again").await.unwrap();
    client.flush().await.unwrap();
    assert_eq!(read_n(&mut server, 5).await, b"again");
}

#[tokio::test]
async fn close_notify_from_the_peer_is_the_end_of_the_stream() {
    let (mut server, mut client) = pair(tls13()).await;
    client.write_all(b"last words").await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(read_n(&mut server, 10).await, b"last words");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(STEP, server.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    // The other direction stays open until the server closes it, with its own close_notify.
    server.write_all(b"bye").await.unwrap();
    server.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(STEP, client.read_to_end(&mut rest))
        .await
        .unwrap()
        .expect("a clean close");
    assert_eq!(rest, b"bye");
}

#[tokio::test]
async fn the_socket_ending_without_close_notify_is_an_error() {
    let (mut server, mut client) = pair(tls13()).await;
    // A round trip first, so that the client has read the session tickets: a socket closed with unread
    // bytes resets the connection instead of ending it.
    server.write_all(b"x").await.unwrap();
    server.flush().await.unwrap();
    read_n(&mut client, 1).await;
    let (tcp, _) = client.into_inner();
    drop(tcp);
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(STEP, server.read(&mut buf))
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn a_garbage_record_is_an_error_not_a_hang() {
    let (mut server, client) = pair(tls13()).await;
    let (mut tcp, _) = client.into_inner();
    let mut garbage = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    garbage.extend(pattern(0x40));
    tcp.write_all(&garbage).await.unwrap();
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(STEP, server.read(&mut buf))
        .await
        .unwrap();
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidData);
    // The peer is told why: a fatal alert (bad_record_mac) arrives before the end.
    let mut alert = Vec::new();
    drop(server);
    let _ = tokio::time::timeout(STEP, tcp.read_to_end(&mut alert))
        .await
        .unwrap();
    assert_eq!(alert.first(), Some(&0x17), "an encrypted alert record");
}

#[tokio::test]
async fn plaintext_where_a_record_belongs_is_an_error() {
    let (mut server, client) = pair(tls13()).await;
    let (mut tcp, _) = client.into_inner();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(STEP, server.read(&mut buf))
        .await
        .unwrap();
    assert!(r.is_err());
}

#[tokio::test]
async fn a_tls12_only_client_works() {
    let (mut server, mut client) = pair(client_config(&[&rustls::version::TLS12], &[])).await;
    assert_eq!(
        client.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let data = pattern(100_000);
    both_ways(&mut server, &mut client, &data).await;
    client.shutdown().await.unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(server.read(&mut buf).await.unwrap(), 0);
}

#[tokio::test]
async fn tiny_reads_get_every_byte_in_order() {
    let (mut server, mut client) = pair(tls13()).await;
    let data = pattern(50_000);
    let up = async {
        client.write_all(&data).await.unwrap();
        client.flush().await.unwrap();
    };
    let read = async {
        let mut got = Vec::new();
        let mut three = [0u8; 3];
        while got.len() < data.len() {
            let n = server.read(&mut three).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&three[..n]);
        }
        got
    };
    let (_, got) = tokio::time::timeout(STEP, async { tokio::join!(up, read) })
        .await
        .unwrap();
    assert!(got == data);
    assert!(!server.records.has_plain());
}

#[tokio::test]
async fn an_idle_connection_keeps_no_buffer() {
    let (mut server, mut client) = pair(tls13()).await;
    client.write_all(&pattern(30_000)).await.unwrap();
    client.flush().await.unwrap();
    read_n(&mut server, 30_000).await;
    server.write_all(&pattern(30_000)).await.unwrap();
    server.flush().await.unwrap();
    read_n(&mut client, 30_000).await;
    assert_eq!(server.carry.capacity(), 0);
    assert_eq!(server.records.buffer_capacity(), 0);
}

#[tokio::test]
async fn a_failed_handshake_tells_the_client_why() {
    let (server, tcp) = tcp_pair(|s| s).await;
    let client = client_config(&[&rustls::version::TLS13], &["spdy/3"]);
    let name = ServerName::try_from("localhost").unwrap();
    let connect = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp);
    let serve = accept(server_config(&["http/1.1"]), server, bytes::Bytes::new());
    let (client, accepted) = tokio::time::timeout(STEP, async { tokio::join!(connect, serve) })
        .await
        .unwrap();
    assert_eq!(accepted.err().unwrap().kind(), io::ErrorKind::InvalidData);
    let e = client.err().unwrap().to_string();
    assert!(e.contains("NoApplicationProtocol"), "{e}");
}
