//! What application code implements for raw connections, and what it is told about them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use super::RawCtx;

/// Application code for raw connections: bytes in, bytes out, no framing.
///
/// A separate trait from [`crate::Protocol`] because its callbacks share names with the WebSocket ones
/// (`established`, `writable`, `timer`, `closed`) but not their meaning: there are no messages or close codes,
/// only a byte stream that may be half-closed. A type may implement both; attach it with
/// [`crate::ProtocolHandle::with_raw`]. As with the other callbacks, these run on the connection's task and
/// must not block.
pub trait RawProtocol: Send + Sync + 'static {
    /// State kept for one raw connection (libwebsockets' per-session data).
    type Session: Default + Send + 'static;

    /// The connection is open (accepted, connected or adopted).
    fn established(&self, _session: &mut Self::Session, _cx: &mut RawCtx<'_>) {}

    /// Bytes arrived (for UDP: see [`RawProtocol::datagram`]).
    fn rx(&self, _session: &mut Self::Session, _cx: &mut RawCtx<'_>, _data: &[u8]) {}

    /// The peer shut its sending side (TCP FIN, the writer of a pipe went away). The default closes the
    /// connection once everything queued is written; a protocol that still has a reply to send may keep
    /// the connection open and close it later.
    fn peer_shutdown(&self, _session: &mut Self::Session, cx: &mut RawCtx<'_>) {
        cx.close();
    }

    /// A UDP datagram arrived from `from` (adopted UDP sockets only).
    fn datagram(
        &self,
        _session: &mut Self::Session,
        _cx: &mut RawCtx<'_>,
        _data: &[u8],
        _from: SocketAddr,
    ) {
    }

    /// The send queue drained below its low-water mark after [`RawCtx::request_writable`] (or a
    /// [`super::RawHandle::request_writable`]).
    fn writable(&self, _session: &mut Self::Session, _cx: &mut RawCtx<'_>) {}

    /// The timer set with [`RawCtx::set_timer`] expired.
    fn timer(&self, _session: &mut Self::Session, _cx: &mut RawCtx<'_>) {}

    /// The connection is gone; `close` says how it ended.
    fn closed(&self, _session: &mut Self::Session, _close: &RawClose) {}
}

/// How a raw connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawClose {
    /// The peer ended it (shut down or reset its side), rather than this side closing.
    pub by_peer: bool,
    /// What went wrong, if it ended on an error (reset, write timeout, server shutdown).
    pub error: Option<String>,
}

/// What a raw connection runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawTransport {
    /// A TCP connection.
    Tcp,
    /// A unix stream socket (the path, when it has one).
    Unix(Option<PathBuf>),
    /// A UDP socket.
    Udp,
    /// An adopted descriptor: pipe, FIFO, character device...
    Fd,
}

/// Facts about a raw connection, fixed when it opened.
#[derive(Debug, Clone)]
pub struct RawInfo {
    pub(crate) transport: RawTransport,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) vhost: Option<std::sync::Arc<str>>,
    pub(crate) protocol: std::sync::Arc<str>,
    pub(crate) connected_at: SystemTime,
}

impl RawInfo {
    pub(crate) fn new(transport: RawTransport, protocol: std::sync::Arc<str>) -> RawInfo {
        RawInfo {
            transport,
            peer: None,
            local: None,
            vhost: None,
            protocol,
            connected_at: SystemTime::now(),
        }
    }

    /// What the connection runs on.
    pub fn transport(&self) -> &RawTransport {
        &self.transport
    }

    /// The peer's address (TCP; for UDP, the address the socket is connected to, if any).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Our own address (TCP and UDP).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The vhost that accepted the connection (`None` for clients and adopted sockets).
    pub fn vhost(&self) -> Option<&str> {
        self.vhost.as_deref()
    }

    /// The protocol serving it.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// When the connection opened.
    pub fn connected_at(&self) -> SystemTime {
        self.connected_at
    }
}
