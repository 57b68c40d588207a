//! HTTP/1.1 server engine (RFC 9112): request heads, bodies, keep-alive, pipelining and response framing.
//!
//! [`H1Conn`] is sans-IO. It has the shape every lws-proto engine has:
//! - getters: [`H1Conn::is_closed`], [`H1Conn::wants_input`], [`H1Conn::requests`], ...
//! - input: [`H1Conn::handle_input`], [`H1Conn::handle_eof`], [`H1Conn::handle_timeout`], all taking `now`;
//! - commands: [`H1Conn::start_response`], [`H1Conn::send_data`], [`H1Conn::finish_response`],
//!   [`H1Conn::accept_body`], [`H1Conn::set_body_limit`];
//! - outputs, drained in this order: [`H1Conn::poll_event`], [`H1Conn::poll_transmit`], [`H1Conn::poll_timeout`].
//!
//! Requests are handled one at a time: bytes of a pipelined request stay buffered until the response to the
//! previous one is finished, so responses always leave in request order. A fatal error is sticky: it is reported
//! once as [`Event::Error`], the runtime may still send the error response it maps to, and then the connection
//! closes.

mod chunked;
pub mod client;
mod config;
mod error;
mod head;
mod response;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

pub use config::{H1Config, MAX_HEAD_LIMIT};
pub use error::H1Error;
pub use head::{BodyKind, RequestHead, Version};
pub(crate) use response::TCHAR;
pub use response::{
    is_valid_header, reason, HeaderBlock, HeaderBlockBuilder, ResponseLength, ResponseWriter,
};

use chunked::{Chunk, ChunkedDecoder};
use head::HeadParse;

/// Capacity of the output buffer kept once its bytes were taken (see [`H1Conn::poll_transmit`]).
const TX_KEEP_CAPACITY: usize = 4 * 1024;

/// Something the engine learned from the peer, in arrival order.
#[derive(Debug)]
pub enum Event {
    /// A complete request head; body events follow.
    Request(RequestHead),
    /// A piece of the request body.
    Data(Bytes),
    /// The request body is complete (trailers, if any, are attached).
    End(Trailers),
    /// A fatal protocol error; see [`H1Error::status`] for the reaction.
    Error(H1Error),
}

/// Trailer fields received after a chunked body, names lowercased.
#[derive(Debug, Default, Clone)]
pub struct Trailers {
    /// (name, value) pairs in order.
    pub fields: Vec<(String, Bytes)>,
}

/// Where the engine is in reading the current request.
#[derive(Debug)]
enum Reading {
    /// Between requests, since this instant (keep-alive idle).
    Idle(Instant),
    /// Receiving a head that started at this instant.
    Head(Instant),
    /// Receiving a body with this many bytes left.
    Length(u64),
    /// Receiving a chunked body.
    Chunked(ChunkedDecoder),
    /// Dropping the rest of a body the application did not read, to keep the connection usable.
    Discard(u64),
    /// The request is complete; waiting for its response to finish before reading the next one.
    Waiting,
    /// A 101 response switched protocols: remaining bytes belong to the next protocol.
    Upgraded,
    /// No more requests on this connection.
    Closed,
}

/// Where the engine is in writing the current response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    /// No response started.
    Idle,
    /// Head written, body bytes left to write (`None` = chunked or close-delimited).
    Body(Option<u64>),
}

/// One HTTP/1.1 server connection's protocol state.
#[derive(Debug)]
pub struct H1Conn {
    /// Shared: every connection of a vhost has the same limits, and an idle connection should not carry a
    /// copy of them.
    cfg: Arc<H1Config>,
    rx: BytesMut,
    tx: Vec<u8>,
    reading: Reading,
    writing: Writing,
    events: VecDeque<Event>,
    error: Option<H1Error>,
    /// The current exchange may be followed by another on this connection.
    keep_alive: bool,
    /// The current request is HEAD: response bodies are not sent.
    head_request: bool,
    chunked_response: bool,
    /// The last chunk and trailers of the current response went out already.
    last_chunk_sent: bool,
    /// The peer closed its sending side.
    peer_eof: bool,
    body_limit: u64,
    body_received: u64,
    body_deadline_base: Option<Instant>,
    expect_continue: bool,
    requests: u64,
    close_after_response: bool,
    /// The current request is HTTP/1.0: no chunked responses.
    http10: bool,
    /// Reading stopped after a request head until the application calls `accept_body`.
    paused: bool,
    /// The connection closed while the peer may still be sending (an error, or a body left unread).
    abandoned_input: bool,
}

/// Default cap on a request body when the application sets none (DESIGN §5).
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

impl H1Conn {
    /// A fresh server connection accepted at `now`, with limits that may be shared by many connections.
    pub fn new(cfg: impl Into<Arc<H1Config>>, now: Instant) -> Self {
        let mut cfg = cfg.into();
        if cfg.max_head > MAX_HEAD_LIMIT {
            Arc::make_mut(&mut cfg).max_head = MAX_HEAD_LIMIT;
        }
        H1Conn {
            cfg,
            rx: BytesMut::with_capacity(1024),
            tx: Vec::new(),
            reading: Reading::Idle(now),
            writing: Writing::Idle,
            events: VecDeque::new(),
            error: None,
            keep_alive: false,
            head_request: false,
            chunked_response: false,
            last_chunk_sent: false,
            peer_eof: false,
            body_limit: DEFAULT_BODY_LIMIT,
            body_received: 0,
            body_deadline_base: None,
            expect_continue: false,
            requests: 0,
            close_after_response: false,
            http10: false,
            paused: false,
            abandoned_input: false,
        }
    }

    /// Number of request heads received so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The sticky fatal error, if one happened.
    pub fn error(&self) -> Option<H1Error> {
        self.error
    }

    /// Whether the runtime should read more from the socket now; false while pipelined input is backed up or
    /// when no more requests will be read.
    pub fn wants_input(&self) -> bool {
        if self.peer_eof {
            // Nothing more can come: a read would only report the end again.
            return false;
        }
        match self.reading {
            Reading::Closed | Reading::Upgraded => false,
            Reading::Waiting => self.rx.len() < self.cfg.max_head,
            _ => self.error.is_none(),
        }
    }

    /// Whether the connection is finished: nothing more will be read or written and output is drained.
    pub fn is_closed(&self) -> bool {
        matches!(self.reading, Reading::Closed)
            && self.writing == Writing::Idle
            && self.tx.is_empty()
    }

    /// Whether the connection sits between requests with nothing received, so closing it loses nothing.
    pub fn is_idle(&self) -> bool {
        matches!(self.reading, Reading::Idle(_))
            && self.rx.is_empty()
            && self.writing == Writing::Idle
    }

    /// Makes the current response (or the next one) the last on this connection, e.g. when shutting down.
    pub fn close_after_response(&mut self) {
        self.close_after_response = true;
        if self.writing == Writing::Idle && matches!(self.reading, Reading::Idle(_)) {
            self.reading = Reading::Closed;
        }
    }

    /// Whether the connection ended while the peer may still be sending: closing the socket at once could
    /// then reset it before the peer reads our last response, so the runtime should drain input briefly.
    pub fn needs_linger(&self) -> bool {
        self.abandoned_input
    }

    /// Whether a response has been started and not finished.
    pub fn response_in_progress(&self) -> bool {
        self.writing != Writing::Idle
    }

    /// Whether a 101 response handed the connection to another protocol.
    pub fn is_upgraded(&self) -> bool {
        matches!(self.reading, Reading::Upgraded)
    }

    /// After an upgrade: the bytes already received that belong to the next protocol.
    pub fn take_remaining(&mut self) -> Bytes {
        self.rx.split().freeze()
    }

    /// Feeds bytes received from the peer.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if matches!(self.reading, Reading::Closed) || self.error.is_some() {
            return;
        }
        self.rx.extend_from_slice(data);
        self.process(now);
    }

    /// The peer closed its sending side.
    pub fn handle_eof(&mut self, _now: Instant) {
        self.peer_eof = true;
        match self.reading {
            Reading::Upgraded | Reading::Closed => {}
            // A half-closed peer can still read our answer to the request already received.
            Reading::Waiting => {
                self.close_after_response = true;
                self.keep_alive = false;
            }
            Reading::Idle(_) => self.reading = Reading::Closed,
            Reading::Head(_) if self.rx.is_empty() => self.reading = Reading::Closed,
            _ => self.fail(H1Error::UnexpectedEof),
        }
    }

    /// Applies timeouts that expired at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now < deadline {
            return;
        }
        let err = match self.reading {
            Reading::Idle(_) if self.requests > 0 => H1Error::KeepAliveTimeout,
            Reading::Idle(_) | Reading::Head(_) => H1Error::HeadTimeout,
            _ => H1Error::BodyTimeout,
        };
        self.fail(err);
        self.reading = Reading::Closed;
    }

    /// Sets the largest request body the application accepts for the current request (default 1 MiB).
    /// A declared Content-Length above it fails at once with 413; a chunked body fails when it crosses it.
    pub fn set_body_limit(&mut self, limit: u64) {
        self.body_limit = limit;
        if let Reading::Length(n) = self.reading {
            if self.body_received + n > limit {
                self.fail(H1Error::BodyTooLarge);
            }
        }
    }

    /// The application will read the body of the current request: sends `100 Continue` if the client waits
    /// for it, and resumes reading (the engine pauses after each request head so that the application can set
    /// its body limit first).
    pub fn accept_body(&mut self, now: Instant) {
        if self.expect_continue && self.writing == Writing::Idle {
            self.tx.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        self.expect_continue = false;
        if self.paused {
            self.paused = false;
            self.process(now);
        }
    }

    /// Starts the response to the current request. Framing headers (`content-length`, `transfer-encoding`,
    /// `connection`) are added by the engine; add the others through the returned writer.
    pub fn start_response(&mut self, status: u16, length: ResponseLength) -> ResponseWriter<'_> {
        let no_body =
            self.head_request || status == 204 || status == 304 || (100..200).contains(&status);
        if self.error.is_some() || self.close_after_response {
            self.keep_alive = false;
        }
        // An unread body that the client will only send after 100 Continue cannot be skipped safely.
        if self.expect_continue && !matches!(self.reading, Reading::Waiting) {
            self.keep_alive = false;
        }
        let (framing, remaining) = match length {
            _ if status == 101 => (response::Framing::None, Some(0)),
            ResponseLength::Known(n) => (
                response::Framing::Length(n),
                Some(if no_body { 0 } else { n }),
            ),
            ResponseLength::Empty => (response::Framing::Length(0), Some(0)),
            ResponseLength::Streamed if no_body => (response::Framing::None, Some(0)),
            ResponseLength::Streamed if self.version_is_11() => (response::Framing::Chunked, None),
            ResponseLength::Streamed => {
                self.keep_alive = false;
                (response::Framing::None, None)
            }
        };
        let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
            response::Framing::None
        } else {
            framing
        };
        self.chunked_response = framing == response::Framing::Chunked;
        self.writing = Writing::Body(remaining);
        let connection = match (status, self.keep_alive) {
            (101, _) => response::ConnectionHeader::Upgrade,
            (_, false) => response::ConnectionHeader::Close,
            (_, true) if !self.version_is_11() => response::ConnectionHeader::KeepAlive,
            (_, true) => response::ConnectionHeader::None,
        };
        if status == 101 {
            self.reading = Reading::Upgraded;
        }
        ResponseWriter::new(&mut self.tx, status, framing, connection)
    }

    /// Queues response body bytes. Bytes beyond a declared length, and any body of a HEAD/204/304 response,
    /// are dropped.
    pub fn send_data(&mut self, data: &[u8]) {
        let Writing::Body(remaining) = self.writing else {
            return;
        };
        let n = match remaining {
            Some(r) => (r.min(data.len() as u64)) as usize,
            None => data.len(),
        };
        if n == 0 || self.head_request {
            return;
        }
        if self.chunked_response {
            response::write_chunk(&mut self.tx, &data[..n]);
        } else {
            self.tx.extend_from_slice(&data[..n]);
        }
        if let Some(r) = remaining {
            self.writing = Writing::Body(Some(r - n as u64));
        }
    }

    /// Records `n` body bytes that the runtime writes to the transport itself (e.g. with sendfile), after
    /// draining [`H1Conn::poll_transmit`]. Only meaningful for a response of known length.
    pub fn body_sent_externally(&mut self, n: u64) {
        if let Writing::Body(Some(r)) = self.writing {
            self.writing = Writing::Body(Some(r.saturating_sub(n)));
        }
    }

    /// Body bytes still owed for a response of known length (`None` for chunked or no response).
    pub fn body_remaining(&self) -> Option<u64> {
        match self.writing {
            Writing::Body(r) => r,
            Writing::Idle => None,
        }
    }

    /// Whether the current response body is suppressed (HEAD request or bodiless status).
    pub fn body_suppressed(&self) -> bool {
        self.head_request || self.writing == Writing::Body(Some(0))
    }

    /// Ends a chunked response with a trailer section (fields that are not valid header lines are left
    /// out); on a response that is not chunked the trailers cannot be sent and this is
    /// [`H1Conn::finish_response`].
    pub fn finish_response_with_trailers(&mut self, now: Instant, trailers: &[(&str, &[u8])]) {
        if self.chunked_response && matches!(self.writing, Writing::Body(_)) {
            response::write_last_chunk(&mut self.tx, trailers);
            self.chunked_response = false;
            self.last_chunk_sent = true;
        }
        self.finish_response(now);
    }

    /// Restarts the body timeout: the application paused reading the body (its consumer was slow), which
    /// is not the peer's delay.
    pub fn restart_body_timer(&mut self, now: Instant) {
        if self.body_deadline_base.is_some() {
            self.body_deadline_base = Some(now);
        }
    }

    /// Ends the current response. A response that fell short of its declared length closes the connection,
    /// since the peer can no longer find the next response.
    pub fn finish_response(&mut self, now: Instant) {
        let Writing::Body(remaining) = self.writing else {
            return;
        };
        self.writing = Writing::Idle;
        self.paused = false;
        if matches!(self.reading, Reading::Upgraded) {
            return;
        }
        if self.chunked_response {
            self.tx.extend_from_slice(b"0\r\n\r\n");
        }
        let chunked = self.chunked_response || std::mem::take(&mut self.last_chunk_sent);
        match remaining {
            Some(0) => {}
            // Short fixed-length body, or a close-delimited one: only closing tells the peer where it ends.
            _ if !chunked => self.keep_alive = false,
            _ => {}
        }
        if !self.keep_alive || self.error.is_some() {
            self.abandoned_input |=
                matches!(self.reading, Reading::Length(_) | Reading::Chunked(_));
            self.reading = Reading::Closed;
            return;
        }
        match self.reading {
            Reading::Waiting => self.reading = Reading::Idle(now),
            Reading::Length(n) if n <= self.cfg.max_discard && !self.expect_continue => {
                self.reading = Reading::Discard(n);
            }
            _ => {
                self.abandoned_input = !matches!(self.reading, Reading::Closed);
                self.reading = Reading::Closed;
                return;
            }
        }
        self.process(now);
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Moves all pending output bytes into `buf`.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) {
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.tx);
        } else {
            buf.append(&mut self.tx);
            // The bytes moved on; a capacity one large piece grew is not kept for an idle connection.
            if self.tx.capacity() > TX_KEEP_CAPACITY {
                self.tx = Vec::new();
            }
        }
    }

    /// Gives up what an idle connection's buffers hold (the receive buffer's spare room and the event
    /// queue), so that a keep-alive connection waiting for its next request keeps no buffer of its own, and
    /// returns the transmit buffer's allocation for the caller to reuse (on another connection, say).
    pub fn release_idle_buffers(&mut self) -> Vec<u8> {
        if self.rx.is_empty() && self.rx.capacity() > 0 {
            self.rx = BytesMut::new();
        }
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
        if self.tx.is_empty() {
            std::mem::take(&mut self.tx)
        } else {
            Vec::new()
        }
    }

    /// Whether the engine would take an allocation to frame the next response into ([`H1Conn::lend_tx`]).
    pub fn wants_tx(&self) -> bool {
        self.tx.capacity() == 0
    }

    /// Lends the engine an allocation to frame the next response into (see
    /// [`H1Conn::release_idle_buffers`]); ignored if it has one.
    pub fn lend_tx(&mut self, mut buf: Vec<u8>) {
        if self.wants_tx() {
            buf.clear();
            self.tx = buf;
        }
    }

    /// Whether output is waiting for [`H1Conn::poll_transmit`].
    pub fn has_transmit(&self) -> bool {
        !self.tx.is_empty()
    }

    /// The instant at which [`H1Conn::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.reading {
            Reading::Idle(since) if self.requests > 0 && self.writing == Writing::Idle => {
                Some(since + self.cfg.keepalive_timeout)
            }
            Reading::Idle(since) | Reading::Head(since) if self.writing == Writing::Idle => {
                Some(since + self.cfg.head_timeout)
            }
            Reading::Length(_) | Reading::Chunked(_) | Reading::Discard(_) => {
                self.body_deadline_base.map(|t| t + self.cfg.body_timeout)
            }
            _ => None,
        }
    }

    fn version_is_11(&self) -> bool {
        !self.http10
    }

    fn fail(&mut self, err: H1Error) {
        // Timeouts and EOF leave nothing in flight from the peer worth waiting for.
        self.abandoned_input |= err.status().is_some();
        if self.error.is_none() {
            self.error = Some(err);
            self.events.push_back(Event::Error(err));
        }
        self.keep_alive = false;
        if !matches!(self.reading, Reading::Upgraded) {
            self.reading = Reading::Closed;
        }
    }

    /// Runs the read state machine over buffered input as far as it goes.
    fn process(&mut self, now: Instant) {
        loop {
            if self.error.is_some() || self.paused {
                return;
            }
            let progressed = match &mut self.reading {
                Reading::Idle(_) => {
                    if self.rx.is_empty() {
                        return;
                    }
                    let started = if self.requests == 0 {
                        match self.reading {
                            Reading::Idle(t) => t,
                            _ => now,
                        }
                    } else {
                        now
                    };
                    self.reading = Reading::Head(started);
                    true
                }
                Reading::Head(_) => self.read_head(now),
                Reading::Length(_) | Reading::Discard(_) => self.read_length(now),
                Reading::Chunked(_) => self.read_chunked(now),
                Reading::Waiting | Reading::Upgraded | Reading::Closed => return,
            };
            if !progressed {
                return;
            }
        }
    }

    fn read_head(&mut self, now: Instant) -> bool {
        match head::parse_head(&mut self.rx, &self.cfg) {
            Err(e) => {
                self.fail(e);
                false
            }
            Ok(HeadParse::Partial) => false,
            Ok(HeadParse::Complete(head)) => {
                self.requests += 1;
                self.keep_alive = head.keep_alive();
                self.http10 = head.version() == Version::Http10;
                self.head_request = head.method() == "HEAD";
                self.expect_continue = head.expects_continue();
                self.body_limit = DEFAULT_BODY_LIMIT;
                self.body_received = 0;
                self.body_deadline_base = Some(now);
                let kind = head.body_kind();
                self.events.push_back(Event::Request(head));
                self.reading = match kind {
                    BodyKind::Empty => {
                        self.events.push_back(Event::End(Trailers::default()));
                        Reading::Waiting
                    }
                    BodyKind::Length(n) => Reading::Length(n),
                    BodyKind::Chunked => Reading::Chunked(ChunkedDecoder::new()),
                };
                self.paused = kind != BodyKind::Empty;
                true
            }
        }
    }

    fn read_length(&mut self, now: Instant) -> bool {
        let (remaining, discard) = match self.reading {
            Reading::Length(n) => (n, false),
            Reading::Discard(n) => (n, true),
            _ => return false,
        };
        if remaining > 0 && self.rx.is_empty() {
            return false;
        }
        let n = remaining.min(self.rx.len() as u64) as usize;
        let data = self.rx.split_to(n).freeze();
        let left = remaining - n as u64;
        self.body_deadline_base = Some(now);
        if discard {
            self.reading = if left == 0 {
                Reading::Idle(now)
            } else {
                Reading::Discard(left)
            };
            return left == 0;
        }
        self.body_received += n as u64;
        if self.body_received + left > self.body_limit {
            self.fail(H1Error::BodyTooLarge);
            return false;
        }
        if n > 0 {
            self.events.push_back(Event::Data(data));
        }
        if left == 0 {
            self.events.push_back(Event::End(Trailers::default()));
            self.reading = Reading::Waiting;
        } else {
            self.reading = Reading::Length(left);
        }
        true
    }

    fn read_chunked(&mut self, now: Instant) -> bool {
        let Reading::Chunked(decoder) = &mut self.reading else {
            return false;
        };
        match decoder.step(&mut self.rx, &self.cfg) {
            Err(e) => {
                self.fail(e);
                false
            }
            Ok(Chunk::NeedMore) => false,
            Ok(Chunk::Data(data)) => {
                self.body_deadline_base = Some(now);
                self.body_received += data.len() as u64;
                if self.body_received > self.body_limit {
                    self.fail(H1Error::BodyTooLarge);
                    return false;
                }
                self.events.push_back(Event::Data(data));
                true
            }
            Ok(Chunk::End(trailers)) => {
                self.events.push_back(Event::End(trailers));
                self.reading = Reading::Waiting;
                true
            }
        }
    }
}

/// The three digits of a status code (clamped to 100-999), written without the formatting machinery: every
/// response head of both HTTP versions needs them.
pub(crate) fn status_digits(status: u16) -> [u8; 3] {
    let status = status.clamp(100, 999);
    [
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ]
}

#[cfg(test)]
mod tests;
