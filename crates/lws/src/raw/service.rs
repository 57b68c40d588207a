//! How the runtime hands a raw connection to what serves it: a callback protocol run by the raw driver, or a
//! service that takes the stream over itself (the proxy).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::watch;

use super::{RawCtx, RawInfo, RawProtocol, RawTransport};
use crate::conn::ConnGuard;
use crate::transport::Transport;

/// A byte stream a raw connection can run on, type-erased: raw connections are few next to HTTP ones, and
/// one driver for every transport keeps the binary small.
pub(crate) trait RawIo: Transport + Send + 'static {
    /// What the stream is, for [`super::RawInfo::transport`].
    fn transport(&self) -> RawTransport;

    /// The stream as a TCP socket, for services that can do better with one (the proxy's `splice`).
    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        None
    }
}

impl RawIo for tokio::net::TcpStream {
    fn transport(&self) -> RawTransport {
        RawTransport::Tcp
    }

    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        Some(self)
    }
}

impl RawIo for tokio::net::UnixStream {
    fn transport(&self) -> RawTransport {
        RawTransport::Unix(None)
    }
}

impl RawIo for super::fd::FdStream {
    fn transport(&self) -> RawTransport {
        RawTransport::Fd
    }
}

impl Transport for Box<dyn RawIo> {
    fn read_drained(&self) {
        (**self).read_drained()
    }

    fn send_now(&self) -> Option<&dyn crate::transport::SendNow> {
        (**self).send_now()
    }
}

/// A raw connection about to be served.
pub(crate) struct RawConn {
    pub(crate) io: Box<dyn RawIo>,
    /// Bytes already read from it (while sniffing), to be handled first.
    pub(crate) initial: Bytes,
    pub(crate) info: RawInfo,
    pub(crate) shutdown: Option<watch::Receiver<bool>>,
    /// Counts the connection as live while it is served (accepted connections).
    pub(crate) guard: Option<ConnGuard>,
    /// The vhost's list of this protocol's connections (accepted connections), which wakes them at shutdown.
    pub(crate) members: Option<Arc<crate::conn::Members>>,
}

impl RawConn {
    /// A connection the application opened or handed over (a client, an adopted socket): no bytes read
    /// yet, and no server whose drain or shutdown it belongs to.
    pub(crate) fn unmanaged(io: Box<dyn RawIo>, info: RawInfo) -> RawConn {
        RawConn {
            io,
            initial: Bytes::new(),
            info,
            shutdown: None,
            guard: None,
            members: None,
        }
    }
}

/// The future that serves one raw connection.
pub(crate) type Serving = Pin<Box<dyn Future<Output = super::RawClose> + Send>>;

/// Whatever serves raw connections for a protocol.
pub(crate) trait RawService: Send + Sync {
    /// Serves `conn` until it ends.
    fn serve(&self, conn: RawConn) -> Serving;
}

/// A [`RawProtocol`] with its session type erased, as the driver calls it.
pub(crate) trait DynRaw: Send + Sync {
    fn new_session(&self) -> Box<dyn Any + Send>;
    fn established(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>);
    fn rx(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>, data: &[u8]);
    fn peer_shutdown(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>);
    fn datagram(
        &self,
        session: &mut (dyn Any + Send),
        cx: &mut RawCtx<'_>,
        data: &[u8],
        from: std::net::SocketAddr,
    );
    fn writable(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>);
    fn timer(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>);
    fn closed(&self, session: &mut (dyn Any + Send), close: &super::RawClose);
}

/// Calls `f` with the session as `P::Session` (it always is: the driver made it with `new_session`).
fn with<P: RawProtocol>(session: &mut (dyn Any + Send), f: impl FnOnce(&mut P::Session)) {
    if let Some(s) = session.downcast_mut::<P::Session>() {
        f(s);
    }
}

impl<P: RawProtocol> DynRaw for P {
    fn new_session(&self) -> Box<dyn Any + Send> {
        Box::new(P::Session::default())
    }

    fn established(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>) {
        with::<P>(session, |s| self.established(s, cx));
    }

    fn rx(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>, data: &[u8]) {
        with::<P>(session, |s| self.rx(s, cx, data));
    }

    fn peer_shutdown(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>) {
        with::<P>(session, |s| self.peer_shutdown(s, cx));
    }

    fn datagram(
        &self,
        session: &mut (dyn Any + Send),
        cx: &mut RawCtx<'_>,
        data: &[u8],
        from: std::net::SocketAddr,
    ) {
        with::<P>(session, |s| self.datagram(s, cx, data, from));
    }

    fn writable(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>) {
        with::<P>(session, |s| self.writable(s, cx));
    }

    fn timer(&self, session: &mut (dyn Any + Send), cx: &mut RawCtx<'_>) {
        with::<P>(session, |s| self.timer(s, cx));
    }

    fn closed(&self, session: &mut (dyn Any + Send), close: &super::RawClose) {
        with::<P>(session, |s| self.closed(s, close));
    }
}
