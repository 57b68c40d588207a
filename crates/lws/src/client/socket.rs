//! [`WebSocket`]: an open client connection, driving the `lws_proto::ws::WsConn` engine from its own poll
//! methods (no background task): reads feed the engine, the engine's output is written whenever the
//! connection is polled, one timer carries the engine's close timeout.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use lws_proto::ws::frame::{apply_mask, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER};
use lws_proto::ws::{MessageKind, WsConn, WsError, WsEvent, WsState};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::error::ClientError;
use super::message::Message;
use super::transport::Transport;

/// A write buffer larger than this is released once drained, so idle connections stay small.
const KEEP_OUT_CAPACITY: usize = 64 * 1024;
/// Socket reads per poll before yielding to other tasks (a fast server must not starve them).
const MAX_READS_PER_POLL: usize = 16;

/// An open WebSocket client connection: a `Stream` of received [`Message`]s and a `Sink` of messages to
/// send, plus the plain async methods [`WebSocket::recv`], [`WebSocket::send`] and [`WebSocket::close`].
///
/// Stream: yields `Text` and `Binary` messages as they complete; Pings are answered (the Pong is written
/// while the stream is polled, even if nothing is ever sent) and Ping/Pong never appear. After the closing
/// handshake — started by either side — it yields `Message::Close(code and reason of the server's Close)`
/// and ends. A failure (the server broke the protocol, the connection dropped) is yielded once as an error,
/// then the stream ends.
///
/// Sink: `poll_ready` waits while more than the high-water mark
/// ([`super::WsClientBuilder::send_high_water`]) is unwritten; `start_send` queues (framed and masked, and
/// compressed when permessage-deflate was negotiated); `poll_flush` writes; `poll_close` sends Close 1000
/// (unless a Close was already sent or received), waits for the server's Close — at most the close timeout —
/// and shuts the transport down. Data messages that arrive while `poll_close` waits are discarded; the
/// server's Close is kept for the stream.
pub struct WebSocket {
    /// The byte stream.
    io: Transport,
    /// The WebSocket engine: framing, masking, closing handshake, no I/O.
    conn: WsConn,
    /// Bytes taken from the engine; `out[sent..]` are not written yet.
    out: Vec<u8>,
    /// How much of `out` is written.
    sent: usize,
    /// Bytes were written since the last flush.
    needs_flush: bool,
    /// See [`WsClientBuilder::send_high_water`](super::WsClientBuilder::send_high_water).
    high_water: usize,
    /// The engine's close timeout, armed at `armed`.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline `timer` is set to, so it is reset only when the engine's changes.
    armed: Option<Instant>,
    /// See [`WebSocket::protocol`].
    protocol: Option<String>,
    /// See [`WebSocket::compressed`].
    compressed: bool,
    /// The server's Close, yielded once the closing handshake is over.
    close_msg: Option<Message>,
    /// A failure to yield before the stream ends.
    failure: Option<ClientError>,
    /// The transport failed: nothing more is read or written.
    io_failed: Option<io::ErrorKind>,
    /// The stream has ended.
    ended: bool,
    /// The transport was shut down (by `poll_close`).
    shut_down: bool,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .field("unwritten", &(self.out.len() - self.sent))
            .field("protocol", &self.protocol)
            .field("compressed", &self.compressed)
            .finish_non_exhaustive()
    }
}

impl WebSocket {
    /// A WebSocket over `io` whose handshake is done, driven by `conn`.
    pub(crate) fn new(
        io: Transport,
        conn: WsConn,
        protocol: Option<String>,
        compressed: bool,
        high_water: usize,
    ) -> Self {
        WebSocket {
            io,
            conn,
            out: Vec::new(),
            sent: 0,
            needs_flush: false,
            high_water,
            timer: None,
            armed: None,
            protocol,
            compressed,
            close_msg: None,
            failure: None,
            io_failed: None,
            ended: false,
            shut_down: false,
        }
    }

    /// The subprotocol the server chose, if it chose one.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether the WebSocket rides an HTTP/2 stream (RFC 8441, see [`super::WsClientBuilder::http2`]) rather
    /// than a connection of its own.
    pub fn is_h2(&self) -> bool {
        self.io.is_pipe()
    }

    /// Whether permessage-deflate was negotiated (messages over 16 bytes are then sent compressed).
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Receives the next message: `None` once the stream has ended (see [`WebSocket`]).
    pub async fn recv(&mut self) -> Option<Result<Message, ClientError>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Sends one message and writes it (and anything queued before it) to the socket.
    pub async fn send(&mut self, msg: Message) -> Result<(), ClientError> {
        poll_fn(|cx| Pin::new(&mut *self).poll_ready(cx)).await?;
        Pin::new(&mut *self).start_send(msg)?;
        poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// Closes with this code and reason (see `poll_close` on [`WebSocket`]); a code that may not be sent
    /// (such as 1005) gives a Close without a body.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), ClientError> {
        self.start_close(code, reason);
        poll_fn(|cx| Pin::new(&mut *self).poll_close(cx)).await
    }

    /// Starts the closing handshake, unless it started already or the transport failed.
    fn start_close(&mut self, code: u16, reason: &str) {
        if self.conn.state() == WsState::Open && self.io_failed.is_none() {
            // The engine's close timeout counts from the latest `now` it saw: bring it up to date first.
            self.conn.handle_timeout(Instant::now());
            self.conn.close(code, reason);
        }
    }

    /// The connection is over: the closing handshake finished (or timed out) and our output is written,
    /// or the transport failed.
    fn over(&self) -> bool {
        self.io_failed.is_some() || (self.conn.is_closed() && self.sent == self.out.len())
    }

    /// Bytes queued but not written, in `out` and still in the engine: what backpressure measures.
    fn unwritten(&self) -> usize {
        self.out.len() - self.sent + self.conn.pending_transmit()
    }

    /// Why nothing more can be sent.
    fn send_error(&self) -> ClientError {
        match self.io_failed {
            Some(kind) => ClientError::Io(kind.into()),
            None => ClientError::Closed,
        }
    }

    /// Records a transport failure: nothing more is read or written, and the failure is reported unless
    /// the closing handshake had finished.
    fn io_error(&mut self, e: io::Error) {
        if self.io_failed.is_some() {
            return;
        }
        self.io_failed = Some(e.kind());
        self.out.clear();
        self.sent = 0;
        if !self.conn.is_closed() {
            self.failure.get_or_insert(ClientError::Io(e));
        }
        self.conn.handle_eof(Instant::now());
    }

    /// The next data message among the engine's events; the Close and failures are kept for the end.
    fn next_event(&mut self) -> Option<Message> {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                WsEvent::Message {
                    kind: MessageKind::Text,
                    data,
                } => return Some(Message::Text(into_string(data))),
                WsEvent::Message {
                    kind: MessageKind::Binary,
                    data,
                } => return Some(Message::Binary(data)),
                WsEvent::Close { code, reason } => {
                    self.close_msg = Some(Message::Close(code.map(|c| (c, reason))));
                }
                WsEvent::Error(e) => {
                    self.failure.get_or_insert(ClientError::Protocol(e));
                }
                // Pongs to pings are queued by the engine; fragments are not enabled.
                _ => {}
            }
        }
        None
    }

    /// What the stream yields once the connection is over: the Close, a failure, then the end.
    fn finish(&mut self) -> Option<Result<Message, ClientError>> {
        if let Some(m) = self.close_msg.take() {
            return Some(Ok(m));
        }
        if let Some(e) = self.failure.take() {
            return Some(Err(e));
        }
        self.ended = true;
        None
    }

    /// Writes the engine's output until all of it is written and flushed (`Ready`), the socket is full
    /// (`Pending`, waker registered), or the transport failed (`Ready`, recorded in `io_failed`).
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.io_failed.is_some() {
                return Poll::Ready(());
            }
            if self.sent == self.out.len() {
                crate::transport::reuse_written(&mut self.out, &mut self.sent, KEEP_OUT_CAPACITY);
                self.conn.poll_transmit(&mut self.out);
                if self.out.is_empty() {
                    if self.needs_flush {
                        match Pin::new(&mut self.io).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.needs_flush = false,
                            Poll::Ready(Err(e)) => self.io_error(e),
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    return Poll::Ready(());
                }
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]) {
                Poll::Ready(Ok(0)) => self.io_error(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.sent += n;
                    self.needs_flush = true;
                }
                Poll::Ready(Err(e)) => self.io_error(e),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads once into the engine: `Ready` when something happened (data, end of stream, failure).
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // While idle, a connection owns no read buffer: reads go through the thread's (as in the server).
        let polled = crate::transport::with_read_buf(|buf| {
            let mut rb = ReadBuf::new(buf);
            match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    let now = Instant::now();
                    if rb.filled().is_empty() {
                        self.conn.handle_eof(now);
                    } else {
                        self.conn.handle_input(now, rb.filled());
                    }
                    Poll::Ready(Ok(()))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        });
        match polled {
            Poll::Ready(Err(e)) => {
                self.io_error(e);
                Poll::Ready(())
            }
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Keeps the timer at the engine's deadline; `Ready` when it expired and was applied.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.conn.poll_timeout() else {
            self.armed = None;
            return Poll::Pending;
        };
        let at = tokio::time::Instant::from_std(deadline);
        let timer = match &mut self.timer {
            Some(t) => {
                if self.armed != Some(deadline) {
                    t.as_mut().reset(at);
                }
                t
            }
            None => self.timer.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        self.armed = Some(deadline);
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.armed = None;
        self.conn.handle_timeout(Instant::now());
        if self.conn.is_closed() {
            // The engine gave up on the peer: what we took from it but could not write goes too.
            self.out.clear();
            self.sent = 0;
        }
        Poll::Ready(())
    }

    /// Drives the connection until it has a message for the stream, is over, or must wait: writes pending
    /// output first (so pongs and Close answers leave even when the user only reads), then the timer, then
    /// reads while less than the high-water mark is unwritten.
    fn drive(&mut self, cx: &mut Context<'_>, deliver: bool) -> Poll<Option<Message>> {
        for _ in 0..MAX_READS_PER_POLL {
            let msg = self.next_event();
            if deliver && msg.is_some() {
                return Poll::Ready(msg);
            }
            let _ = self.poll_write_out(cx);
            if self.over() {
                return Poll::Ready(None);
            }
            if self.poll_timer(cx).is_ready() {
                continue;
            }
            let may_read = matches!(self.conn.state(), WsState::Open | WsState::Closing)
                && self.out.len() - self.sent < self.high_water;
            if may_read && self.poll_read_in(cx).is_ready() {
                continue;
            }
            // Every path here registered a waker: the write (when output is pending), the read, or the
            // timer (a Closed engine with output left is waiting for the write).
            return Poll::Pending;
        }
        // Budget spent with input still flowing: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Queues an unsolicited Pong (the engine only sends Pongs that answer Pings), after everything queued
    /// before it.
    fn queue_pong(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(ClientError::Protocol(WsError::ControlTooLong));
        }
        let mut key = [0u8; 4];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| ClientError::Io(io::Error::other("no randomness for the mask")))?;
        self.conn.poll_transmit(&mut self.out);
        let header = FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OpCode::Pong,
            mask: Some(key),
            len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER];
        let n = header.encode(&mut head);
        self.out.extend_from_slice(&head[..n]);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        apply_mask(&mut self.out[start..], key, 0);
        Ok(())
    }
}

/// A text message's payload as a `String`. The engine checks UTF-8 (validation is always on for the client),
/// so the lossy fallback never runs; it only avoids a panic path.
fn into_string(data: Bytes) -> String {
    match String::from_utf8(Vec::from(data)) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match this.drive(cx, true) {
            Poll::Ready(Some(m)) => Poll::Ready(Some(Ok(m))),
            Poll::Ready(None) => Poll::Ready(this.finish()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Sink<Message> for WebSocket {
    type Error = ClientError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        let this = self.get_mut();
        if this.io_failed.is_some() || this.conn.state() != WsState::Open {
            return Poll::Ready(Err(this.send_error()));
        }
        if this.unwritten() >= this.high_water
            && this.poll_write_out(cx).is_pending()
            && this.unwritten() >= this.high_water
        {
            return Poll::Pending;
        }
        match this.io_failed {
            Some(kind) => Poll::Ready(Err(ClientError::Io(kind.into()))),
            None => Poll::Ready(Ok(())),
        }
    }

    fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<(), ClientError> {
        let this = self.get_mut();
        if this.io_failed.is_some() || this.conn.state() != WsState::Open {
            return Err(this.send_error());
        }
        match msg {
            Message::Text(t) => this.conn.send_message(MessageKind::Text, t.as_bytes()),
            Message::Binary(b) => this.conn.send_message(MessageKind::Binary, &b),
            Message::Ping(p) => this.conn.send_ping(&p).map_err(ClientError::Protocol)?,
            Message::Pong(p) => this.queue_pong(&p)?,
            Message::Close(c) => {
                let (code, reason) = c.unwrap_or((1005, String::new()));
                this.start_close(code, &reason);
            }
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        let this = self.get_mut();
        if this.poll_write_out(cx).is_pending() {
            return Poll::Pending;
        }
        match this.io_failed {
            Some(kind) => Poll::Ready(Err(ClientError::Io(kind.into()))),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ClientError>> {
        let this = self.get_mut();
        this.start_close(1000, "");
        if this.drive(cx, false).is_pending() {
            return Poll::Pending;
        }
        if !this.shut_down && this.io_failed.is_none() {
            if Pin::new(&mut this.io).poll_shutdown(cx).is_pending() {
                return Poll::Pending;
            }
            this.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }
}
