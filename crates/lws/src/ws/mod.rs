//! The WebSocket role: upgrades from HTTP/1.1, the connection driver, and what protocols see of a
//! WebSocket connection ([`WsCtx`], [`WsMessage`], [`WsHandle`]).

pub(crate) mod driver;
pub(crate) mod setup;
pub(crate) mod upgrade;

use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use lws_proto::ws::{MessageKind, WsConn};
use tokio::sync::mpsc;

pub use crate::conn::ValidityPolicy;
pub(crate) use crate::conn::{ConnShared, Members};
pub(crate) use driver::serve;
/// permessage-deflate settings of a vhost ([`crate::Vhost::permessage_deflate_config`]).
pub use lws_proto::ws::pmd::{ContextPool, PmdConfig};

/// How a protocol wants its WebSocket connections run.
#[derive(Debug, Clone)]
pub struct WsOptions {
    /// Largest message accepted (after decompression); bigger ones close the connection with 1009.
    pub max_message: usize,
    /// Deliver each data frame as it arrives instead of whole messages.
    pub stream_fragments: bool,
    /// Accept permessage-deflate when the client offers it.
    pub permessage_deflate: bool,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            max_message: 16 * 1024 * 1024,
            stream_fragments: false,
            permessage_deflate: true,
        }
    }
}

/// One received message, or a fragment of one when the protocol streams fragments.
#[derive(Debug, Clone, Copy)]
pub struct WsMessage<'a> {
    /// Text or binary.
    pub kind: MessageKind,
    /// The payload (already decompressed; UTF-8-checked for text).
    pub data: &'a [u8],
    /// First fragment of its message (always true for whole messages).
    pub first: bool,
    /// Last fragment of its message (always true for whole messages).
    pub fin: bool,
}

impl WsMessage<'_> {
    /// The payload as text, for text messages.
    pub fn text(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Text => std::str::from_utf8(self.data).ok(),
            _ => None,
        }
    }
}

/// How a WebSocket connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code, if a close frame was exchanged.
    pub code: Option<u16>,
    /// The close reason (may be empty).
    pub reason: String,
    /// Whether the peer started the close.
    pub by_peer: bool,
}

/// Facts about a WebSocket connection, fixed at the upgrade.
#[derive(Debug, Clone)]
pub struct WsInfo {
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) protocol: Arc<str>,
    pub(crate) origin: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) vhost: Arc<str>,
    pub(crate) connected_at: SystemTime,
    pub(crate) compressed: bool,
    pub(crate) over_h2: bool,
    pub(crate) user: Option<String>,
}

impl WsInfo {
    /// The canonical request path of the upgrade.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first decoded urlarg of the upgrade request with this name (e.g. `?mirror=name`).
    pub fn arg(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        lws_proto::uri::parse_urlargs(q)
            .ok()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The protocol serving the connection.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The `Origin` header of the upgrade, if any.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The `User-Agent` header of the upgrade, if any.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// The peer's address (None on unix sockets).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The vhost serving the connection.
    pub fn vhost(&self) -> &str {
        &self.vhost
    }

    /// When the connection was established.
    pub fn connected_at(&self) -> SystemTime {
        self.connected_at
    }

    /// Whether permessage-deflate was negotiated.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Whether the WebSocket runs on an HTTP/2 stream (RFC 8441) rather than a connection of its own.
    pub fn over_h2(&self) -> bool {
        self.over_h2
    }

    /// The user that passed basic auth for the upgrade, if the protocol requires it.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

/// A command sent to a connection's task from elsewhere.
#[derive(Debug)]
pub(crate) enum Command {
    Send(MessageKind, Bytes),
    Close(u16, String),
}

/// What a protocol callback asks of its connection beyond sending.
#[derive(Debug, Default)]
pub(crate) struct CtxRequests {
    pub(crate) writable: bool,
    /// The protocol started the closing handshake.
    pub(crate) closed: bool,
    /// `Some(None)` cancels the timer, `Some(Some(d))` sets it.
    pub(crate) timer: Option<Option<Duration>>,
}

/// The per-callback view of a WebSocket connection: send, close, ask for `writable`, set timers.
pub struct WsCtx<'a> {
    pub(crate) conn: &'a mut WsConn,
    pub(crate) info: &'a Arc<WsInfo>,
    pub(crate) requests: &'a mut CtxRequests,
    pub(crate) shared: &'a Arc<ConnShared>,
    pub(crate) members: &'a Arc<Members>,
    pub(crate) commands: &'a mut driver::CommandQueue,
    /// The socket, while nothing is waiting to be written to it: sends may go straight to it.
    pub(crate) direct: Option<&'a dyn crate::transport::SendNow>,
}

impl WsCtx<'_> {
    /// Facts about the connection.
    pub fn info(&self) -> &WsInfo {
        self.info
    }

    /// Sends a text message: written at once when the socket takes it, queued otherwise.
    pub fn send_text(&mut self, text: &str) {
        self.send(MessageKind::Text, text.as_bytes());
    }

    /// Sends a binary message: written at once when the socket takes it, queued otherwise.
    pub fn send_binary(&mut self, data: &[u8]) {
        self.send(MessageKind::Binary, data);
    }

    fn send(&mut self, kind: MessageKind, data: &[u8]) {
        // Copying a small message into the queue costs less than writing header and payload as two pieces.
        const DIRECT_MIN: usize = 2048;
        match self.direct {
            Some(socket) if data.len() >= DIRECT_MIN => {
                self.conn.send_message_direct(kind, data, |head, body| {
                    socket.send_now(&[IoSlice::new(head), IoSlice::new(body)])
                })
            }
            _ => self.conn.send_message(kind, data),
        }
    }

    /// Queues one fragment of a message (first/fin mark its place), for producers that stream.
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], first: bool, fin: bool) {
        self.conn.send_fragment(kind, data, first, fin);
    }

    /// Bytes queued for this connection and not yet written: a producer should wait for `writable`
    /// rather than queue much beyond the high-water mark (libwebsockets' `lws_send_pipe_choked`).
    pub fn queued(&self) -> usize {
        self.conn.pending_transmit() + self.shared.unsent.load(Ordering::Relaxed)
    }

    /// Whether the send queue is over its high-water mark.
    pub fn choked(&self) -> bool {
        self.queued() >= driver::HIGH_WATER
    }

    /// Starts the closing handshake with this code and reason.
    pub fn close(&mut self, code: u16, reason: &str) {
        self.requests.closed = true;
        self.conn.close(code, reason);
    }

    /// Asks for one `writable` callback once the send queue has drained below its low-water mark.
    pub fn request_writable(&mut self) {
        self.requests.writable = true;
    }

    /// Asks for `writable` on every connection of this protocol on this vhost (broadcast producers).
    pub fn request_writable_all(&mut self) {
        self.members.request_writable_all();
    }

    /// Pauses (false) or resumes (true) reading from every connection of this protocol on this vhost
    /// (libwebsockets' `lws_rx_flow_allow_all_protocol`), e.g. while a shared buffer is nearly full.
    pub fn rx_flow_all(&mut self, allow: bool) {
        self.members.rx_flow_all(allow);
    }

    /// Pauses (false) or resumes (true) reading from this connection.
    pub fn rx_flow(&mut self, allow: bool) {
        self.shared.set_rx_paused(!allow);
    }

    /// Calls `timer` once after `delay` (replacing an earlier timer).
    pub fn set_timer(&mut self, delay: Duration) {
        self.requests.timer = Some(Some(delay));
    }

    /// Cancels the timer.
    pub fn cancel_timer(&mut self) {
        self.requests.timer = Some(None);
    }

    /// A handle for sending to this connection from another task.
    pub fn handle(&mut self) -> WsHandle {
        WsHandle {
            shared: self.shared.clone(),
            commands: self.commands.sender(),
        }
    }
}

/// Sends to a WebSocket connection from any task; cheap to clone. Sends wait while the connection's
/// command queue is full, so a slow peer slows its producers.
#[derive(Debug, Clone)]
pub struct WsHandle {
    shared: Arc<ConnShared>,
    commands: mpsc::Sender<Command>,
}

/// The connection a [`WsHandle`] pointed at is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionClosed;

impl std::fmt::Display for ConnectionClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the connection is closed")
    }
}

impl std::error::Error for ConnectionClosed {}

impl WsHandle {
    /// Queues a text message.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), ConnectionClosed> {
        let bytes = Bytes::from(text.into());
        self.commands
            .send(Command::Send(MessageKind::Text, bytes))
            .await
            .map_err(|_| ConnectionClosed)
    }

    /// Queues a binary message.
    pub async fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), ConnectionClosed> {
        self.commands
            .send(Command::Send(MessageKind::Binary, data.into()))
            .await
            .map_err(|_| ConnectionClosed)
    }

    /// Starts the closing handshake.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), ConnectionClosed> {
        self.commands
            .send(Command::Close(code, reason.to_string()))
            .await
            .map_err(|_| ConnectionClosed)
    }

    /// Starts the closing handshake without waiting; fails if the command queue is full or closed.
    pub fn try_close(&self, code: u16, reason: &str) -> Result<(), ConnectionClosed> {
        self.commands
            .try_send(Command::Close(code, reason.to_string()))
            .map_err(|_| ConnectionClosed)
    }

    /// Asks for a `writable` callback on the connection.
    pub fn request_writable(&self) {
        self.shared.request_writable();
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.commands.is_closed()
    }
}
