//! Listening sockets and accept loops: bind (before privileges are dropped), accept, apply the per-IP limit,
//! detect TLS versus plain HTTP, and start one task per connection.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::sync::{watch, Notify};

use crate::http::h1::{self, ConnInfo};
use crate::vhost::{Listen, VhostInner};

/// State shared by every listener of a context.
#[derive(Debug)]
pub(crate) struct ServerShared {
    pub(crate) server_string: String,
    pub(crate) ip_limit: Option<u32>,
    pub(crate) per_ip: Mutex<HashMap<IpAddr, u32>>,
    pub(crate) live: AtomicUsize,
    pub(crate) idle: Notify,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) handshake_timeout: Duration,
}

/// State of one listening address: the vhosts on it (first is the default) and its TLS setup.
pub(crate) struct PortShared {
    pub(crate) vhosts: Vec<Arc<VhostInner>>,
    pub(crate) server: Arc<ServerShared>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for PortShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vhosts.iter().map(|v| &*v.name).collect();
        f.debug_struct("PortShared")
            .field("vhosts", &names)
            .finish()
    }
}

impl PortShared {
    /// What to do with plain HTTP on a TLS port: `Some(true)` redirect, `Some(false)` serve, `None` refuse.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    fn plain_on_tls(&self) -> Option<bool> {
        let v = &self.vhosts[0];
        if v.redirect_http {
            Some(true)
        } else if v.allow_http_on_https {
            Some(false)
        } else {
            None
        }
    }
}

/// A socket bound at build time.
#[derive(Debug)]
pub(crate) enum BoundSocket {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

/// A bound socket and the port state its connections use.
#[derive(Debug)]
pub(crate) struct BoundListener {
    pub(crate) socket: BoundSocket,
    pub(crate) port: Arc<PortShared>,
    /// The service thread that accepts on this socket and runs its connections.
    pub(crate) thread: usize,
}

impl BoundListener {
    /// The address actually bound (with the real port when 0 was asked for).
    pub(crate) fn local(&self) -> Listen {
        match &self.socket {
            BoundSocket::Tcp(l) => l
                .local_addr()
                .map(Listen::Tcp)
                .unwrap_or(Listen::Unix(PathBuf::new())),
            BoundSocket::Unix(_, p) => Listen::Unix(p.clone()),
        }
    }
}

/// Binds a listening socket; `[::]` is bound dual-stack where the system allows it. With `reuse_port`,
/// several sockets (one per service thread) share the address and the kernel spreads connections over them.
/// `defer_accept`: see [`crate::ContextBuilder::defer_accept`].
pub(crate) fn bind(
    listen: &Listen,
    reuse_port: bool,
    defer_accept: Option<Duration>,
) -> io::Result<BoundSocket> {
    match listen {
        Listen::Tcp(addr) => {
            let domain = socket2::Domain::for_address(*addr);
            let s =
                socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
            s.set_reuse_address(true)?;
            if reuse_port {
                s.set_reuse_port(true)?;
            }
            if addr.is_ipv6() && addr.ip().is_unspecified() {
                let _ = s.set_only_v6(false);
            }
            s.set_nonblocking(true)?;
            s.bind(&(*addr).into())?;
            s.listen(1024)?;
            if let Some(wait) = defer_accept {
                set_defer_accept(&s, wait);
            }
            Ok(BoundSocket::Tcp(s.into()))
        }
        Listen::Unix(path) => {
            use std::os::unix::fs::FileTypeExt;
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if meta.file_type().is_socket() {
                    std::fs::remove_file(path)?;
                }
            }
            let l = std::os::unix::net::UnixListener::bind(path)?;
            l.set_nonblocking(true)?;
            Ok(BoundSocket::Unix(l, path.clone()))
        }
    }
}

/// Asks the kernel to hand over connections only once they have data (or `wait` has passed). Best effort:
/// a kernel that refuses it only costs the optimisation.
#[cfg(target_os = "linux")]
fn set_defer_accept(socket: &socket2::Socket, wait: Duration) {
    use std::os::fd::AsRawFd;
    let secs = libc::c_int::try_from(wait.as_secs().max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads exactly `size_of::<c_int>()` bytes from `&secs`, a live c_int, and the
    // descriptor is owned by `socket` for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&secs as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        tracing::debug!("TCP_DEFER_ACCEPT: {}", io::Error::last_os_error());
    }
}

#[cfg(not(target_os = "linux"))]
fn set_defer_accept(_socket: &socket2::Socket, _wait: Duration) {}

/// Accepts connections until shutdown is signalled.
pub(crate) async fn accept_loop(
    l: BoundListener,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    match l.socket {
        BoundSocket::Tcp(std) => {
            let listener = TcpListener::from_std(std)?;
            loop {
                tokio::select! {
                    r = listener.accept() => match r {
                        Ok((stream, peer)) => spawn_tcp(stream, peer, l.port.clone(), shutdown.clone()),
                        Err(e) => accept_error(e).await,
                    },
                    _ = shutdown.changed() => {
                        wake_websockets(&l.port);
                        return Ok(());
                    }
                }
            }
        }
        BoundSocket::Unix(std, path) => {
            let listener = UnixListener::from_std(std)?;
            let result = loop {
                tokio::select! {
                    r = listener.accept() => match r {
                        Ok((stream, _)) => {
                            let port = l.port.clone();
                            let guard = ConnGuard::new(&port.server, None);
                            let shutdown = shutdown.clone();
                            tokio::spawn(async move {
                                serve_maybe_tls(stream, None, port, shutdown, &guard).await;
                            });
                        }
                        Err(e) => accept_error(e).await,
                    },
                    _ = shutdown.changed() => {
                        wake_websockets(&l.port);
                        break Ok(());
                    }
                }
            };
            let _ = std::fs::remove_file(&path);
            result
        }
    }
}

/// WebSocket connections do not wait on the shutdown signal (that would cost every one of them a wake-up
/// future polled on each turn); they look at it whenever woken, so wake them all once it changed.
fn wake_websockets(port: &PortShared) {
    port.vhosts.iter().for_each(|v| v.wake_ws_members());
}

/// Running out of descriptors must not spin the loop: pause briefly before accepting again.
async fn accept_error(e: io::Error) {
    tracing::warn!("accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn spawn_tcp(
    stream: TcpStream,
    peer: SocketAddr,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) {
    let Some(guard) = ConnGuard::admit(&port.server, peer.ip()) else {
        tracing::debug!("refused {peer}: ip-limit-wsi reached");
        return;
    };
    let _ = stream.set_nodelay(true);
    tokio::spawn(async move {
        #[cfg(feature = "tls")]
        if port.tls.is_some() {
            if let Some(redirect) = port.plain_on_tls() {
                // Sniffing runs in its own allocation so its timer does not size every connection's task.
                let sniff = Box::pin(first_byte(&stream, port.server.handshake_timeout));
                match sniff.await {
                    Some(b) if b != 0x16 => {
                        let info = ConnInfo {
                            peer: Some(peer),
                            tls: false,
                            sni: None,
                            plain_on_tls: redirect,
                        };
                        return h1::serve(stream, info, port, shutdown, &guard).await;
                    }
                    Some(_) => {}
                    None => return,
                }
            }
        }
        serve_maybe_tls(stream, Some(peer), port, shutdown, &guard).await;
    });
}

/// The first byte the peer sent, without consuming it (None on timeout, error or close).
#[cfg(feature = "tls")]
async fn first_byte(stream: &TcpStream, limit: Duration) -> Option<u8> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(limit, stream.peek(&mut first)).await {
        Ok(Ok(1)) => Some(first[0]),
        _ => None,
    }
}

async fn serve_maybe_tls<S>(
    stream: S,
    peer: Option<SocketAddr>,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    guard: &ConnGuard,
) where
    S: crate::transport::Transport + Send + 'static,
{
    #[cfg(feature = "tls")]
    if let Some(acceptor) = port.tls.clone() {
        // The handshake runs in its own allocation, and the session is boxed: TLS state is large and must
        // size neither plain connections' tasks nor this one's for its whole life.
        let handshake = Box::pin(tls_handshake(
            acceptor,
            stream,
            port.server.handshake_timeout,
            peer,
        ));
        let Some(tls) = handshake.await else {
            return;
        };
        let sni = tls.get_ref().1.server_name().map(str::to_string);
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let info = ConnInfo {
            peer,
            tls: true,
            sni,
            plain_on_tls: false,
        };
        if h2 {
            return Box::pin(h1::serve_h2(tls, info, port, shutdown)).await;
        }
        let session = Box::pin(h1::serve(tls, info, port, shutdown, guard));
        return session.await;
    }
    let info = ConnInfo {
        peer,
        tls: false,
        sni: None,
        plain_on_tls: false,
    };
    h1::serve(stream, info, port, shutdown, guard).await;
}

#[cfg(feature = "tls")]
async fn tls_handshake<S>(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: S,
    limit: Duration,
    peer: Option<SocketAddr>,
) -> Option<Box<tokio_rustls::server::TlsStream<S>>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(Box::new(s)),
        Ok(Err(e)) => {
            tracing::debug!(?peer, "tls handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!(?peer, "tls handshake timed out");
            None
        }
    }
}

/// Counts a live connection (for graceful drain and the per-IP limit) until dropped.
pub(crate) struct ConnGuard {
    server: Arc<ServerShared>,
    ip: Option<IpAddr>,
}

impl ConnGuard {
    fn new(server: &Arc<ServerShared>, ip: Option<IpAddr>) -> ConnGuard {
        server.live.fetch_add(1, Ordering::AcqRel);
        ConnGuard {
            server: server.clone(),
            ip,
        }
    }

    /// Another guard for the same connection, for a phase that outlives the task holding this one (the
    /// counts never drop to zero in between).
    pub(crate) fn handoff(&self) -> ConnGuard {
        if let Some(ip) = self.ip {
            if let Ok(mut map) = self.server.per_ip.lock() {
                *map.entry(ip).or_insert(0) += 1;
            }
        }
        ConnGuard::new(&self.server, self.ip)
    }

    /// Admits a connection from `ip` unless that address already has `ip-limit-wsi` connections.
    fn admit(server: &Arc<ServerShared>, ip: IpAddr) -> Option<ConnGuard> {
        let Some(limit) = server.ip_limit else {
            return Some(ConnGuard::new(server, None));
        };
        let mut map = server.per_ip.lock().ok()?;
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        drop(map);
        Some(ConnGuard::new(server, Some(ip)))
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            if let Ok(mut map) = self.server.per_ip.lock() {
                if let Some(n) = map.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        map.remove(&ip);
                    }
                }
            }
        }
        if self.server.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.server.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    #[cfg(target_os = "linux")]
    fn defer_accept_of(socket: &super::BoundSocket) -> libc::c_int {
        use std::os::fd::AsRawFd;
        let super::BoundSocket::Tcp(l) = socket else {
            panic!("not a TCP socket")
        };
        let mut v: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `v`, a live c_int, and updates `len`.
        let rc = unsafe {
            libc::getsockopt(
                l.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        v
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn defer_accept_is_set_only_when_asked() {
        let addr = super::Listen::Tcp("127.0.0.1:0".parse().unwrap());
        let on = super::bind(&addr, false, Some(Duration::from_secs(1))).unwrap();
        assert!(defer_accept_of(&on) > 0);
        let off = super::bind(&addr, false, None).unwrap();
        assert_eq!(defer_accept_of(&off), 0);
    }

    fn size<F>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Idle connections must stay small: every task is allocated at the size of its largest state, so
    /// the HTTP driver and TLS sessions live in allocations of their own, and a WebSocket in a task of its
    /// own whose allocation is little more than the driver's state.
    #[tokio::test]
    async fn connection_task_state_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let port = Arc::new(super::PortShared {
            vhosts: vec![],
            server: Arc::new(super::ServerShared {
                server_string: String::new(),
                ip_limit: None,
                per_ip: Default::default(),
                live: Default::default(),
                idle: Default::default(),
                handshake_timeout: Duration::from_secs(1),
            }),
            #[cfg(feature = "tls")]
            tls: None,
        });
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let guard = super::ConnGuard::new(&port.server, None);
        let conn = super::serve_maybe_tls(stream, None, port.clone(), rx.clone(), &guard);
        assert!(size(&conn) <= 512, "connection task: {} bytes", size(&conn));
        drop(conn);

        struct P;
        impl crate::Protocol for P {
            type Session = ();
        }
        let setup = crate::ws::driver::WsSetup {
            role: lws_proto::ws::Role::Server,
            protocol: crate::ProtocolHandle::new("p", P).inner,
            info: Arc::new(crate::ws::WsInfo {
                path: String::new(),
                query: None,
                protocol: "p".into(),
                origin: None,
                user_agent: None,
                peer: None,
                vhost: "v".into(),
                connected_at: std::time::SystemTime::now(),
                compressed: false,
                over_h2: false,
                user: None,
            }),
            config: Default::default(),
            codec: None,
            members: Default::default(),
        };
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let guard = super::ConnGuard::new(&port.server, None);
        let ws = crate::ws::driver::serve_keeping(stream, bytes::Bytes::new(), setup, rx, guard);
        assert!(size(&ws) <= 768, "WebSocket task: {} bytes", size(&ws));
    }
}
