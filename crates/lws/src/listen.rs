//! Listening sockets and accept loops: bind (before privileges are dropped), accept, apply the per-IP limit,
//! and start one task per connection at the connection entry ([`crate::entry`]).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::sync::watch;

use crate::conn::{ConnGuard, PortShared};
use crate::vhost::Listen;

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
                        wake_members(&l.port);
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
                            let guard = ConnGuard::new(&l.port.server, None);
                            let serve = crate::entry::serve(stream, None, l.port.clone(), shutdown.clone(), guard);
                            tokio::spawn(serve);
                        }
                        Err(e) => accept_error(e).await,
                    },
                    _ = shutdown.changed() => {
                        wake_members(&l.port);
                        break Ok(());
                    }
                }
            };
            let _ = std::fs::remove_file(&path);
            result
        }
    }
}

/// WebSocket and raw connections do not wait on the shutdown signal (that would cost every one of them a
/// wake-up future polled on each turn); they look at it whenever woken, so wake them all once it changed.
fn wake_members(port: &PortShared) {
    port.vhosts.iter().for_each(|v| v.wake_members());
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
    tokio::spawn(crate::entry::serve(
        stream,
        Some(peer),
        port,
        shutdown,
        guard,
    ));
}

#[cfg(test)]
mod tests {
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
}
