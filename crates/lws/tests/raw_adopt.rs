//! Adoption (libwebsockets `lws_adopt_socket`, `lws_adopt_descriptor_vhost`, `lws_create_adopt_udp`) and
//! raw clients: sockets and descriptors the application opened, and connections the runtime opens, served
//! by raw callbacks.

mod support;

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use lws::raw::{self, RawClose, RawCtx, RawProtocol};
use lws::ProtocolHandle;
use support::IO_TIMEOUT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Echoes bytes and datagrams; says what transport it runs on first.
struct Echo;

impl RawProtocol for Echo {
    type Session = ();
    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        let kind = format!("{:?}:", cx.info().transport());
        if !matches!(cx.info().transport(), raw::RawTransport::Udp) {
            cx.send(kind.as_bytes());
        }
    }
    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        cx.send(data);
    }
    fn datagram(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8], from: SocketAddr) {
        let mut reply = b"echo ".to_vec();
        reply.extend_from_slice(data);
        cx.send_to(from, &reply);
    }
    fn peer_shutdown(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.shutdown_write();
    }
}

fn echo() -> ProtocolHandle {
    ProtocolHandle::raw("echo", Echo)
}

async fn talk<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    say: &[u8],
) -> Vec<u8> {
    s.write_all(say).await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, s.read_to_end(&mut got))
        .await
        .expect("no end of stream")
        .unwrap();
    got
}

#[tokio::test]
async fn an_adopted_tcp_socket_is_served_and_reports_how_it_ended() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = tokio::net::TcpStream::connect(l.local_addr().unwrap())
        .await
        .unwrap();
    let (ours, _) = l.accept().unwrap();
    let adopted = raw::adopt_tcp(ours, &echo()).unwrap();
    assert_eq!(talk(peer, b"adopt me").await, b"Tcp:adopt me");
    let close = tokio::time::timeout(IO_TIMEOUT, adopted).await.unwrap();
    assert_eq!(
        close,
        RawClose {
            by_peer: true,
            error: None
        }
    );
}

#[tokio::test]
async fn an_adopted_unix_socket_is_served() {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let _adopted = raw::adopt_unix(ours, &echo()).unwrap();
    theirs.set_nonblocking(true).unwrap();
    let theirs = tokio::net::UnixStream::from_std(theirs).unwrap();
    assert_eq!(talk(theirs, b"over unix").await, b"Unix(None):over unix");
}

#[tokio::test]
async fn an_adopted_udp_socket_answers_each_sender() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let adopted = raw::adopt_udp(socket, &echo()).unwrap();
    let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.send_to(b"from a", addr).await.unwrap();
    b.send_to(b"from b", addr).await.unwrap();
    for (s, want) in [(&a, &b"echo from a"[..]), (&b, &b"echo from b"[..])] {
        let mut buf = [0u8; 64];
        let (n, from) = tokio::time::timeout(IO_TIMEOUT, s.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((&buf[..n], from), (want, addr));
    }
    adopted.abort();
}

#[tokio::test]
async fn a_udp_socket_keeps_answering_through_a_flood() {
    /// Counts datagrams; answers a `?` with the count so far.
    struct Count(Arc<Mutex<u64>>);
    impl RawProtocol for Count {
        type Session = ();
        fn datagram(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8], from: SocketAddr) {
            let mut n = self.0.lock().unwrap();
            if data == b"?" {
                cx.send_to(from, n.to_string().as_bytes());
            } else {
                *n += 1;
            }
        }
    }
    let count = Arc::new(Mutex::new(0u64));
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let adopted =
        raw::adopt_udp(socket, &ProtocolHandle::raw("count", Count(count.clone()))).unwrap();
    let flooder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let payload = [0u8; 1200];
    for _ in 0..20_000 {
        flooder.send_to(&payload, addr).await.unwrap();
    }
    // The kernel drops what it has no room for, our question included: UDP is lossy, so ask again until
    // an answer comes (bounded by the test's I/O limit).
    let mut buf = [0u8; 32];
    let ask = async {
        loop {
            flooder.send_to(b"?", addr).await.unwrap();
            let wait = std::time::Duration::from_millis(100);
            if let Ok(r) = tokio::time::timeout(wait, flooder.recv_from(&mut buf)).await {
                return r.unwrap();
            }
        }
    };
    let (n, _) = tokio::time::timeout(IO_TIMEOUT, ask)
        .await
        .expect("no answer under a flood");
    let seen: u64 = std::str::from_utf8(&buf[..n]).unwrap().parse().unwrap();
    assert!(seen > 0 && seen <= 20_000, "{seen}");
    adopted.abort();
}

#[tokio::test]
async fn an_adopted_pipe_delivers_until_its_writer_goes_away() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    struct Collect(Arc<Mutex<Vec<u8>>>);
    impl RawProtocol for Collect {
        type Session = ();
        fn rx(&self, _: &mut (), _: &mut RawCtx<'_>, data: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(data);
        }
    }
    let mut child = std::process::Command::new("printf")
        .arg("line one\\nline two\\n")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = OwnedFd::from(child.stdout.take().unwrap());
    let adopted =
        raw::adopt_fd(pipe, &ProtocolHandle::raw("collect", Collect(seen.clone()))).unwrap();
    let close = tokio::time::timeout(IO_TIMEOUT, adopted).await.unwrap();
    child.wait().unwrap();
    assert!(close.error.is_none(), "{close:?}");
    assert_eq!(&*seen.lock().unwrap(), b"line one\nline two\n");
}

#[tokio::test]
async fn adopting_for_a_protocol_without_raw_callbacks_is_an_error() {
    struct Http;
    impl lws::Protocol for Http {
        type Session = ();
    }
    let (ours, _theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let err = raw::adopt_unix(ours, &ProtocolHandle::new("http", Http)).unwrap_err();
    assert!(err.to_string().contains("no raw callbacks"), "{err}");
}

#[tokio::test]
async fn a_raw_client_runs_its_protocol_until_the_server_closes() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut greeting = [0u8; 4];
        s.read_exact(&mut greeting).await.unwrap();
        s.write_all(b" and goodbye").await.unwrap();
        greeting
    });
    let got = Arc::new(Mutex::new(Vec::new()));
    struct Client(Arc<Mutex<Vec<u8>>>);
    impl RawProtocol for Client {
        type Session = ();
        fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
            assert!(cx.info().peer_addr().is_some());
            cx.send(b"helo");
        }
        fn rx(&self, _: &mut (), _: &mut RawCtx<'_>, data: &[u8]) {
            self.0.lock().unwrap().extend_from_slice(data);
        }
    }
    let handle = ProtocolHandle::raw("client", Client(got.clone()));
    let close = tokio::time::timeout(
        IO_TIMEOUT,
        raw::connect(&format!("localhost:{}", addr.port()))
            .unwrap()
            .run(&handle),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&server.await.unwrap(), b"helo");
    assert!(close.by_peer);
    assert_eq!(&*got.lock().unwrap(), b" and goodbye");
}

#[tokio::test]
async fn a_raw_client_reports_a_refused_connection() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nobody.sock");
    let err = raw::connect(&format!("unix:{}", missing.display()))
        .unwrap()
        .connect_stream()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(raw::connect("no-port-here").is_err());
}

#[tokio::test]
async fn an_adopted_descriptor_is_made_blocking_again_when_it_ends() {
    let mut child = std::process::Command::new("printf")
        .arg("x")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pipe = OwnedFd::from(child.stdout.take().unwrap());
    // A second descriptor for the same open pipe, as a shell and its child share a terminal.
    let shared = pipe.try_clone().unwrap();
    let nonblocking = |fd: &OwnedFd| {
        use std::os::fd::AsRawFd;
        // SAFETY: F_GETFL on a descriptor owned by `fd` for the duration of the call.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
        flags & libc::O_NONBLOCK != 0
    };
    assert!(!nonblocking(&shared));
    let adopted = raw::adopt_fd(pipe, &echo()).unwrap();
    tokio::time::timeout(IO_TIMEOUT, adopted).await.unwrap();
    child.wait().unwrap();
    assert!(
        !nonblocking(&shared),
        "the shared descriptor was left non-blocking"
    );
}
