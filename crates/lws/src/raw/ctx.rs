//! What raw callbacks use to act on their connection ([`RawCtx`]), and what other tasks use ([`RawHandle`]).

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::RawInfo;
use crate::conn::{ConnShared, Members};
use crate::transport::SendNow;

/// Stop reading from a peer while this much is queued for it.
pub(crate) const HIGH_WATER: usize = 256 * 1024;
/// `writable` is delivered once the queue is below this.
pub(crate) const LOW_WATER: usize = 64 * 1024;
/// Datagrams waiting for a UDP socket that would block; beyond this, new ones are dropped (as the kernel
/// itself drops datagrams it has no room for).
pub(crate) const MAX_QUEUED_DATAGRAMS: usize = 256;

/// Bytes queued for the peer: `buf[sent..]` is not written yet.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    pub(crate) buf: Vec<u8>,
    pub(crate) sent: usize,
    /// Datagrams for UDP sockets, with their destination (`None`: the connected peer).
    pub(crate) datagrams: VecDeque<(Option<SocketAddr>, Bytes)>,
}

impl SendQueue {
    /// Bytes (or datagram payload bytes) not yet written.
    pub(crate) fn queued(&self) -> usize {
        self.buf.len() - self.sent + self.datagrams.iter().map(|d| d.1.len()).sum::<usize>()
    }

    /// Whether nothing is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.sent == self.buf.len() && self.datagrams.is_empty()
    }

    fn push_datagram(&mut self, to: Option<SocketAddr>, data: Bytes) {
        if self.datagrams.len() >= MAX_QUEUED_DATAGRAMS {
            tracing::debug!("raw udp: send queue full, datagram dropped");
            return;
        }
        self.datagrams.push_back((to, data));
    }
}

/// What a callback asked of its connection beyond sending.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    pub(crate) writable: bool,
    /// Close once everything queued is written.
    pub(crate) close: bool,
    /// Shut our sending side once everything queued is written.
    pub(crate) shutdown_write: bool,
    /// `Some(None)` cancels the timer, `Some(Some(d))` sets it.
    pub(crate) timer: Option<Option<Duration>>,
}

/// A command from a [`RawHandle`].
#[derive(Debug)]
pub(crate) enum Command {
    Send(Bytes),
    SendTo(SocketAddr, Bytes),
    ShutdownWrite,
    Close,
}

/// Commands from [`RawHandle`]s; the channel exists only once a handle was taken.
#[derive(Debug, Default)]
pub(crate) struct CommandQueue {
    chan: Option<Box<(mpsc::Sender<Command>, mpsc::Receiver<Command>)>>,
}

impl CommandQueue {
    fn sender(&mut self) -> mpsc::Sender<Command> {
        let chan = self.chan.get_or_insert_with(|| Box::new(mpsc::channel(64)));
        chan.0.clone()
    }

    pub(crate) fn receiver(&mut self) -> Option<&mut mpsc::Receiver<Command>> {
        self.chan.as_mut().map(|c| &mut c.1)
    }
}

/// Applies a handle's command as if a callback had made it.
pub(crate) fn apply(out: &mut SendQueue, requests: &mut Requests, cmd: Command) {
    match cmd {
        Command::Send(data) if requests.close || requests.shutdown_write => drop(data),
        Command::Send(data) => out.buf.extend_from_slice(&data),
        Command::SendTo(to, data) => out.push_datagram(Some(to), data),
        Command::ShutdownWrite => requests.shutdown_write = true,
        Command::Close => requests.close = true,
    }
}

/// The per-callback view of a raw connection: send, close, ask for `writable`, pause reading, set timers.
pub struct RawCtx<'a> {
    pub(crate) out: &'a mut SendQueue,
    pub(crate) requests: &'a mut Requests,
    pub(crate) info: &'a Arc<RawInfo>,
    pub(crate) shared: &'a Arc<ConnShared>,
    pub(crate) commands: &'a mut CommandQueue,
    /// The vhost's connections of this protocol (accepted connections only).
    pub(crate) members: Option<&'a Arc<Members>>,
    /// The socket, while nothing is waiting to be written to it: sends may go straight to it.
    pub(crate) direct: Option<&'a dyn SendNow>,
    /// Set on UDP connections: datagrams go out from it.
    pub(crate) datagram: bool,
}

impl RawCtx<'_> {
    /// Facts about the connection.
    pub fn info(&self) -> &RawInfo {
        self.info
    }

    /// Sends bytes: written at once as far as the socket takes them, the rest queued in order. On a UDP
    /// socket, sends one datagram to the connected peer (see [`RawCtx::send_to`]). Ignored once the
    /// connection is closing or its sending side is shut.
    pub fn send(&mut self, data: &[u8]) {
        if self.requests.close || self.requests.shutdown_write {
            return;
        }
        if self.datagram {
            self.out.push_datagram(None, Bytes::copy_from_slice(data));
            return;
        }
        let mut rest = data;
        if let Some(socket) = self.direct.filter(|_| self.out.is_empty()) {
            let n = socket.send_now(&[IoSlice::new(data)]);
            rest = &data[n..];
        }
        if !rest.is_empty() {
            self.direct = None;
            self.out.buf.extend_from_slice(rest);
        }
    }

    /// Sends one datagram to `to` (UDP connections only; ignored on streams).
    pub fn send_to(&mut self, to: SocketAddr, data: &[u8]) {
        if self.datagram {
            self.out
                .push_datagram(Some(to), Bytes::copy_from_slice(data));
        }
    }

    /// Bytes queued for the peer and not yet written (libwebsockets' `lws_send_pipe_choked` asks this).
    pub fn queued(&self) -> usize {
        self.out.queued()
    }

    /// Whether the send queue is over its high-water mark: a producer should wait for `writable`.
    pub fn choked(&self) -> bool {
        self.queued() >= HIGH_WATER
    }

    /// Asks for one `writable` callback once the send queue is below its low-water mark.
    pub fn request_writable(&mut self) {
        self.requests.writable = true;
    }

    /// Asks for `writable` on every connection of this protocol on this vhost, raw and WebSocket alike
    /// (libwebsockets' `lws_callback_on_writable_all_protocol`); on clients and adopted connections, which
    /// belong to no vhost, on this connection only.
    pub fn request_writable_all(&mut self) {
        match self.members {
            Some(m) => m.request_writable_all(),
            None => self.request_writable(),
        }
    }

    /// Pauses (false) or resumes (true) reading from every connection of this protocol on this vhost
    /// (libwebsockets' `lws_rx_flow_allow_all_protocol`); on clients and adopted connections, this one only.
    pub fn rx_flow_all(&mut self, allow: bool) {
        match self.members {
            Some(m) => m.rx_flow_all(allow),
            None => self.rx_flow(allow),
        }
    }

    /// Pauses (false) or resumes (true) reading from this connection (libwebsockets' `lws_rx_flow_control`):
    /// while paused, the peer's bytes wait in the kernel and TCP flow control slows the peer.
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

    /// Shuts our sending side once everything queued is written (TCP half-close); reading goes on.
    pub fn shutdown_write(&mut self) {
        self.requests.shutdown_write = true;
    }

    /// Closes the connection once everything queued is written.
    pub fn close(&mut self) {
        self.requests.close = true;
    }

    /// A handle for sending to this connection from another task.
    pub fn handle(&mut self) -> RawHandle {
        RawHandle {
            shared: self.shared.clone(),
            commands: self.commands.sender(),
        }
    }
}

/// Sends to a raw connection from any task; cheap to clone. The connection takes commands only while its
/// send queue is below the high-water mark, so once its peer falls behind the command queue fills and
/// `send` waits: a slow peer slows its producers.
#[derive(Debug, Clone)]
pub struct RawHandle {
    shared: Arc<ConnShared>,
    commands: mpsc::Sender<Command>,
}

impl RawHandle {
    /// Queues bytes (one datagram on UDP connections).
    pub async fn send(&self, data: impl Into<Bytes>) -> Result<(), crate::ws::ConnectionClosed> {
        self.command(Command::Send(data.into())).await
    }

    /// Queues one datagram to `to` (UDP connections).
    pub async fn send_to(
        &self,
        to: SocketAddr,
        data: impl Into<Bytes>,
    ) -> Result<(), crate::ws::ConnectionClosed> {
        self.command(Command::SendTo(to, data.into())).await
    }

    /// Shuts the sending side once what is queued is written.
    pub async fn shutdown_write(&self) -> Result<(), crate::ws::ConnectionClosed> {
        self.command(Command::ShutdownWrite).await
    }

    /// Closes the connection once what is queued is written.
    pub async fn close(&self) -> Result<(), crate::ws::ConnectionClosed> {
        self.command(Command::Close).await
    }

    /// Queues bytes without waiting: fails if the connection is closed or its command queue is full (for
    /// callbacks of other connections, which must not block).
    pub fn try_send(&self, data: impl Into<Bytes>) -> Result<(), crate::ws::ConnectionClosed> {
        self.commands
            .try_send(Command::Send(data.into()))
            .map_err(|_| crate::ws::ConnectionClosed)
    }

    /// Closes the connection once what is queued is written, without waiting; fails if the command queue
    /// is full or the connection closed.
    pub fn try_close(&self) -> Result<(), crate::ws::ConnectionClosed> {
        self.commands
            .try_send(Command::Close)
            .map_err(|_| crate::ws::ConnectionClosed)
    }

    /// Asks for a `writable` callback on the connection.
    pub fn request_writable(&self) {
        self.shared.request_writable();
    }

    /// Pauses (false) or resumes (true) reading from the connection.
    pub fn rx_flow(&self, allow: bool) {
        self.shared.set_rx_paused(!allow);
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.commands.is_closed()
    }

    async fn command(&self, cmd: Command) -> Result<(), crate::ws::ConnectionClosed> {
        self.commands
            .send(cmd)
            .await
            .map_err(|_| crate::ws::ConnectionClosed)
    }
}
