//! The raw proxy (libwebsockets `raw-proxy`, pvo `onward`): bytes both ways through bounded buffers,
//! half-close passed on, a slow side pausing the other, and prompt closes when the onward side fails.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use lws::raw::{Proxy, ProxyConfig};
use lws::{ProtocolHandle, Vhost};
use support::{any_port, start, Server, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn proxy_to(onward: &str) -> Server {
    proxy_with(ProxyConfig::new(onward.parse().expect("onward target")))
}

fn proxy_with(config: ProxyConfig) -> Server {
    let handle: ProtocolHandle = Proxy::new(config).into_handle("raw-proxy");
    start(vec![Vhost::new("proxy")
        .listen(any_port())
        .protocol(handle)
        .listen_accept("raw-proxy")])
}

/// An onward server that echoes every connection, passing the half-close back.
async fn echo_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

#[tokio::test]
async fn a_large_transfer_comes_back_intact_and_the_half_close_passes_through() {
    // Both ways of forwarding: splicing bulk data (the default on Linux) and copying.
    for splice in [true, false] {
        let onward = echo_server().await;
        let mut config =
            ProxyConfig::new(format!("ipv4:127.0.0.1:{}", onward.port()).parse().unwrap());
        config.splice = splice;
        round_trip(&proxy_with(config)).await;
    }
}

async fn round_trip(s: &Server) {
    let c = TcpStream::connect(s.addr).await.unwrap();
    let (mut r, mut w) = c.into_split();
    let data = pattern(8 << 20);
    let sent = data.clone();
    // The client ends its sending: the onward echo sees EOF only if the proxy passes it on, and only then
    // ends its own side, which the proxy must pass back for the read below to finish.
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), r.read_to_end(&mut got))
        .await
        .expect("the pair never ended")
        .unwrap();
    writer.await.unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes came back changed");
}

#[tokio::test]
async fn an_onward_that_refuses_closes_the_client_promptly() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let s = proxy_to(&format!("ipv4:127.0.0.1:{port}"));
    for _ in 0..3 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"anyone there?").await.unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
            .await
            .expect("the client was left hanging")
            .ok();
        assert!(got.is_empty());
    }
}

#[tokio::test]
async fn a_client_that_never_reads_pauses_the_onward_side() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let onward = l.local_addr().unwrap();
    let s = proxy_to(&onward.to_string());
    let _quiet = TcpStream::connect(s.addr).await.unwrap();
    let (mut server_side, _) = tokio::time::timeout(IO_TIMEOUT, l.accept())
        .await
        .unwrap()
        .unwrap();
    // Far more than the kernel buffers on both hops can hold: if the proxy kept reading without writing,
    // this would finish.
    let flood = vec![7u8; 64 << 20];
    let pushed = tokio::time::timeout(Duration::from_secs(2), server_side.write_all(&flood)).await;
    assert!(
        pushed.is_err(),
        "64 MiB went into a client that reads nothing"
    );
}

#[tokio::test]
async fn an_onward_closing_mid_transfer_ends_the_client_after_what_it_sent() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let onward = l.local_addr().unwrap();
    let s = proxy_to(&format!("tcp:127.0.0.1:{}", onward.port()));
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let (mut server_side, _) = l.accept().await.unwrap();
    let part = pattern(300_000);
    server_side.write_all(&part).await.unwrap();
    drop(server_side);
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
        .await
        .expect("the client was not closed")
        .ok();
    assert!(got == part, "got {} of {} bytes", got.len(), part.len());
}

#[tokio::test]
async fn a_unix_socket_onward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("onward.sock");
    let l = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut line = [0u8; 5];
                if s.read_exact(&mut line).await.is_ok() {
                    let _ = s.write_all(b"unix:").await;
                    let _ = s.write_all(&line).await;
                }
            });
        }
    });
    let s = proxy_to(&format!("unix:{}", path.display()));
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"unix:hello");
}

#[test]
fn bad_onward_options_name_the_option() {
    let pvo = |v: &str| lws::Pvo {
        name: "raw-proxy".into(),
        value: String::new(),
        children: vec![lws::Pvo {
            name: "onward".into(),
            value: v.into(),
            children: vec![],
        }],
    };
    let e = ProxyConfig::from_pvo("raw-proxy", &pvo("ipv4:1.2.3.4:0")).unwrap_err();
    assert!(
        e.message.contains("onward") && e.message.contains("port"),
        "{e}"
    );
    let e = ProxyConfig::from_pvo("raw-proxy", &lws::Pvo::default()).unwrap_err();
    assert!(e.message.contains("needs the option \"onward\""), "{e}");
    assert!(ProxyConfig::from_pvo("raw-proxy", &pvo("ipv6:[::1]:22")).is_ok());
}

#[tokio::test]
async fn an_onward_that_never_accepts_times_out_and_closes_the_client() {
    // A listener whose backlog is full: the kernel drops further SYNs, so a connect hangs as it would to an
    // unreachable host.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let onward = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&onward.into());
        fillers.push(s);
    }
    let mut config = ProxyConfig::new(onward.to_string().parse().unwrap());
    config.connect_timeout = Duration::from_millis(300);
    let s = start(vec![Vhost::new("proxy")
        .listen(any_port())
        .protocol(Proxy::new(config).into_handle("raw-proxy"))
        .listen_accept("raw-proxy")]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"hello?").await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
        .await
        .expect("the client was left hanging past the connect timeout")
        .ok();
    assert!(got.is_empty());
    drop(fillers);
}
