//! The connection entry: every accepted socket comes through here once. It reads what it must to tell what
//! the peer speaks ([`sniff`]), lets [`route::choose`] pick exactly one role, replays the bytes it read to
//! that role, and starts what a role hands over when its connection switches protocol (a WebSocket after
//! an HTTP/1.1 upgrade, HTTP/2 after `Upgrade: h2c`, a WebSocket on an HTTP/2 stream).
//!
//! Roles (`http::h1`, `http::h2`, `ws::driver`) know nothing of each other; only this layer imports them.

mod route;
mod sniff;
#[cfg(feature = "tls")]
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::DuplexStream;
use tokio::sync::watch;

use crate::conn::{ConnGuard, ConnInfo, H2Start, Handoff, PortShared};
use crate::raw::{RawConn, RawInfo, RawIo};
use crate::transport::Transport;
use crate::ws::setup::WsSetup;
use crate::ProtocolHandle;
use route::{Need, Role};

/// Serves one accepted connection with the role its port and first bytes call for. `guard` counts it as
/// live until it ends. What a connection switches to (a WebSocket, HTTP/2 after `Upgrade: h2c`, a proxied
/// WebSocket, HTTP/2 after a TLS handshake) runs here in place, after the state of the phase before it (kept
/// in an allocation of its own) has been freed: no task is spawned for it.
///
/// Not an `async fn`: that would keep a second copy of its arguments in the connection task's state.
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve<S>(
    mut io: S,
    peer: Option<SocketAddr>,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    guard: ConnGuard,
) -> impl Future<Output = ()> + Send
where
    S: RawIo,
{
    // Taken by a raw connection, which keeps it; every other role runs within this task, which keeps it.
    let mut guard = Some(guard);
    async move {
        let (role, initial) = match route::need(&port) {
            Need::Nothing(role) => (role, Bytes::new()),
            Need::Sniff { hello, wait } => {
                let until = move |b: &[u8]| route::verdict(b, hello);
                let sniffed = sniff::sniff(&mut io, wait, until).await;
                let role = route::choose(&port, &sniffed);
                (role, sniffed.bytes)
            }
        };
        let first = start(role, io, initial, peer, port, shutdown, &mut guard);
        // A phase before a switch runs in an allocation of its own, freed at the end of this statement,
        // before what follows it starts.
        let next = match first {
            Start::Then(first) => first.await,
            Start::Next(next) => Some(next),
            Start::Raw(serving) => {
                serving.await;
                None
            }
            Start::Nothing => None,
        };
        if let Some(next) = next {
            next.await;
        }
    }
}

/// How a connection's role starts.
enum Start {
    /// A phase that may switch to another (HTTP/1.x, TLS).
    Then(Pin<Box<dyn Future<Output = Option<Phase>> + Send>>),
    /// A phase that does not switch (HTTP/2).
    Next(Phase),
    /// A raw connection, which holds the connection's guard itself.
    Raw(crate::raw::Serving),
    Nothing,
}

/// Makes the future of the role chosen for a connection. A function of its own: the values it builds from
/// take no room in the connection task's state.
fn start<S: RawIo>(
    role: Role,
    io: S,
    initial: Bytes,
    peer: Option<SocketAddr>,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    guard: &mut Option<ConnGuard>,
) -> Start {
    match role {
        Role::Http1 { plain_on_tls } => {
            let info = ConnInfo {
                plain_on_tls,
                ..ConnInfo::plain(peer)
            };
            Start::Then(Box::pin(serve_http1(io, initial, info, port, shutdown)))
        }
        Role::Http2 => {
            let start = H2Start::Direct { initial };
            Start::Next(http2(io, ConnInfo::plain(peer), port, shutdown, start))
        }
        Role::Tls => Start::Then(Box::pin(serve_tls(io, initial, peer, port, shutdown))),
        Role::Raw(protocol) => {
            let Some(guard) = guard.take() else {
                return Start::Nothing;
            };
            let conn = raw_conn(
                Box::new(io),
                initial,
                peer,
                &port,
                &protocol,
                shutdown,
                guard,
            );
            start_raw(*protocol, conn).map_or(Start::Nothing, Start::Raw)
        }
        Role::Close => Start::Nothing,
    }
}

/// The phase a connection switches to, to be run in place by the entry.
type Phase = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The future serving a raw connection, made outside the entry's `async` body so that only it (a pointer)
/// takes room in the connection task.
fn start_raw(protocol: ProtocolHandle, conn: RawConn) -> Option<crate::raw::Serving> {
    protocol.raw.map(|raw| raw.serve(conn))
}

/// A connection the raw role takes, with what it needs to know about it.
fn raw_conn(
    io: Box<dyn RawIo>,
    initial: Bytes,
    peer: Option<SocketAddr>,
    port: &PortShared,
    protocol: &ProtocolHandle,
    shutdown: watch::Receiver<bool>,
    guard: ConnGuard,
) -> RawConn {
    let vhost = port.first();
    let mut info = RawInfo::new(io.transport(), protocol.name.clone());
    info.peer = peer;
    info.vhost = Some(vhost.name.clone());
    RawConn {
        io,
        initial,
        info,
        shutdown: Some(shutdown),
        guard: Some(guard),
        members: Some(vhost.members(&protocol.name)),
    }
}

/// TLS, then HTTP/2 or HTTP/1.x by ALPN; returns the phase that follows, which the entry runs once this
/// state (the handshake's, and the HTTP/1 driver's when it ran here) is freed.
#[cfg(feature = "tls")]
async fn serve_tls<S>(
    io: S,
    initial: Bytes,
    peer: Option<SocketAddr>,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) -> Option<Phase>
where
    S: Transport + Send + 'static,
{
    let config = port.tls.clone()?;
    // The handshake runs in its own allocation, and the session is boxed: TLS state is large and must
    // size neither plain connections' tasks nor this one's for its whole life.
    let handshake = Box::pin(tls::handshake(
        config,
        io,
        initial,
        port.server.handshake_timeout,
        peer,
    ));
    let crate::tls_stream::Accepted { stream: tls, sni } = handshake.await?;
    let h2 = tls.alpn_protocol() == Some(b"h2");
    let info = ConnInfo {
        peer,
        tls: true,
        sni,
        plain_on_tls: false,
    };
    if h2 {
        let start = H2Start::Direct {
            initial: Bytes::new(),
        };
        return Some(http2(tls, info, port, shutdown, start));
    }
    serve_http1(tls, Bytes::new(), info, port, shutdown).await
}

#[cfg(not(feature = "tls"))]
async fn serve_tls<S>(
    _io: S,
    _initial: Bytes,
    _peer: Option<SocketAddr>,
    _port: Arc<PortShared>,
    _shutdown: watch::Receiver<bool>,
) -> Option<Phase> {
    None
}

/// HTTP/1.x; returns what the connection switches to, if it does. Not an `async fn`: its arguments would stay
/// in the future's state beside the HTTP/1 future made from them.
fn serve_http1<S>(
    io: S,
    initial: Bytes,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) -> impl Future<Output = Option<Phase>> + Send
where
    S: Transport + Send + 'static,
{
    let next_shutdown = shutdown.clone();
    let next_port = port.clone();
    crate::http::h1::serve(io, initial, info, port, shutdown, move |switched| {
        switch(switched, next_port, next_shutdown)
    })
}

/// The phase after HTTP/1.x, each in an allocation of its own, made outside any `async` body so that the
/// parts it is made from take no room in the connection task's state.
fn switch<S>(
    switched: crate::conn::Switched<S>,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) -> Phase
where
    S: Transport + Send + 'static,
{
    let crate::conn::Switched {
        io,
        leftover,
        handoff,
        info,
    } = switched;
    match handoff {
        Handoff::Ws(setup) => Box::pin(crate::ws::driver::serve_in_place(
            io, leftover, setup, shutdown,
        )),
        Handoff::Proxy(tunnel) => Box::pin(crate::proxy::join(io, leftover, *tunnel, shutdown)),
        Handoff::H2(upgrade) => {
            let start = H2Start::Upgrade {
                upgrade: *upgrade,
                leftover,
            };
            http2(io, info, port, shutdown, start)
        }
    }
}

/// The HTTP/2 role's future in an allocation of its own, with the entry's way to start RFC 8441 WebSockets.
fn http2<S: Transport + Send + 'static>(
    io: S,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    start: H2Start,
) -> Phase {
    Box::pin(crate::http::h2::serve(
        io,
        info,
        port,
        shutdown,
        start,
        spawn_tunnel,
    ))
}

/// Runs the WebSocket an HTTP/2 stream carries (RFC 8441) on a task of its own.
fn spawn_tunnel(pipe: DuplexStream, setup: WsSetup, shutdown: watch::Receiver<bool>) {
    tokio::spawn(crate::ws::driver::serve(
        pipe,
        Bytes::new(),
        setup,
        shutdown,
    ));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    fn size<F>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Idle connections must stay small: every task is allocated at the size of its largest state, so
    /// the HTTP driver, TLS sessions and what a connection switches to live in allocations of their own,
    /// and a WebSocket's is little more than its driver's state.
    #[tokio::test]
    async fn connection_task_state_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let port = Arc::new(crate::conn::PortShared {
            vhosts: vec![],
            server: Arc::new(crate::conn::ServerShared::new(
                String::new(),
                None,
                Duration::from_secs(1),
            )),
            #[cfg(feature = "tls")]
            tls: None,
        });
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let guard = crate::conn::ConnGuard::new(&port.server, None);
        let conn = super::serve(stream, None, port.clone(), rx.clone(), guard);
        // With the runtime's task header and trailer the task stays within three cache lines (tokio aligns
        // tasks to 128 bytes), one less than with a copy of the arguments kept beside them.
        assert!(size(&conn) <= 280, "connection task: {} bytes", size(&conn));
        drop(conn);
        // The HTTP/1 state an idle keep-alive connection keeps (its own allocation): with the task and the
        // socket's registration, the 2 KiB per idle connection that the benchmark measures.
        let port = Arc::new(crate::conn::PortShared {
            vhosts: vec![Arc::new(
                crate::vhost::VhostInner::build(crate::Vhost::new("v")).unwrap(),
            )],
            server: port.server.clone(),
            #[cfg(feature = "tls")]
            tls: None,
        });
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let info = crate::conn::ConnInfo::plain(None);
        let http = super::serve_http1(stream, bytes::Bytes::new(), info, port.clone(), rx.clone());
        assert!(size(&http) <= 1024, "HTTP/1 state: {} bytes", size(&http));
        drop(http);

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
        let ws = crate::ws::driver::serve_in_place(stream, bytes::Bytes::new(), setup, rx);
        assert!(size(&ws) <= 768, "WebSocket state: {} bytes", size(&ws));
    }
}
