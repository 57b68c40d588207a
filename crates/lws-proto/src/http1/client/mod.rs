//! HTTP/1.1 client engine (RFC 9112): request heads and body framing out, response heads and bodies in,
//! and the keep-alive decision.
//!
//! [`H1ClientConn`] is sans-IO and has the shape of every lws-proto engine:
//! - getters: [`H1ClientConn::is_ready`], [`H1ClientConn::is_closed`], [`H1ClientConn::is_reusable`],
//!   [`H1ClientConn::error`], [`H1ClientConn::exchanges`], ...
//! - input: [`H1ClientConn::handle_input`], [`H1ClientConn::handle_eof`], both taking `now`;
//! - commands: [`H1ClientConn::send_request`], [`H1ClientConn::send_data`],
//!   [`H1ClientConn::finish_request`];
//! - outputs, drained in this order: [`H1ClientConn::poll_event`], [`H1ClientConn::poll_transmit`].
//!
//! There is no `poll_timeout`: a client's time limits (connect, whole request) are the application's
//! decision, so the runtime keeps them. One exchange runs at a time (no pipelining): a request may be sent
//! when [`H1ClientConn::is_ready`], its response is read as events, and the connection is ready again only
//! if both sides allowed keep-alive, the request went out whole and the body was delimited. A fatal error
//! is sticky: it is reported once as [`ClientEvent::Error`] and the connection is closed.
//!
//! ```
//! use std::time::Instant;
//! use lws_proto::http1::client::{ClientEvent, H1ClientConfig, H1ClientConn, OutgoingRequest, RequestBody};
//!
//! let now = Instant::now();
//! let mut conn = H1ClientConn::new(H1ClientConfig::default());
//! conn.send_request(now, &OutgoingRequest {
//!     method: "GET", target: "/", host: "example.com", headers: &[], body: RequestBody::Empty,
//! }).unwrap();
//! let mut wire = Vec::new();
//! conn.poll_transmit(&mut wire);
//! assert_eq!(wire, b"GET / HTTP/1.1\r\nhost: example.com\r\n\r\n");
//!
//! conn.handle_input(now, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
//! assert!(matches!(conn.poll_event(), Some(ClientEvent::Response(h)) if h.status() == 200));
//! assert!(matches!(conn.poll_event(), Some(ClientEvent::Data(d)) if &d[..] == b"hi"));
//! assert!(matches!(conn.poll_event(), Some(ClientEvent::End(_))));
//! assert!(conn.is_ready());
//! ```

mod error;
mod head;

use std::collections::VecDeque;
use std::io::Write;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

pub use error::{RequestError, ResponseError};
pub use head::{ResponseBody, ResponseHead};

use super::chunked::{Chunk, ChunkedDecoder};
use super::head::has_token;
use super::response::{self, write_chunk};
use super::{is_valid_header, H1Config, H1Error, Trailers};
use head::HeadParse;

/// Default [`H1ClientConfig::max_head`]: 16 KiB.
pub const DEFAULT_MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// Default [`H1ClientConfig::max_headers`]: 100.
pub const DEFAULT_MAX_RESPONSE_HEADERS: usize = 100;

/// Limits the client engine enforces on what the server sends; every one has a safe default.
#[derive(Debug, Clone)]
pub struct H1ClientConfig {
    /// Largest response head (status line + header lines), also the largest trailer section; default 16 KiB.
    pub max_head: usize,
    /// Most header lines in one head or trailer section, default 100 (at most 256 are ever accepted).
    pub max_headers: usize,
    /// Longest chunk-size line including extensions, default 1 KiB.
    pub max_chunk_line: usize,
}

impl Default for H1ClientConfig {
    fn default() -> Self {
        H1ClientConfig {
            max_head: DEFAULT_MAX_RESPONSE_HEAD,
            max_headers: DEFAULT_MAX_RESPONSE_HEADERS,
            max_chunk_line: 1024,
        }
    }
}

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// No body and no `content-length` (GET, HEAD, DELETE, ...).
    Empty,
    /// Exactly this many bytes, announced with `content-length` (also `0`, for an empty POST).
    Length(u64),
    /// Unknown length: `transfer-encoding: chunked`.
    Chunked,
}

/// A request head to send. `content-length`/`transfer-encoding` come from `body` and `host` from `host`;
/// giving them in `headers` is a [`RequestError::ReservedHeader`].
#[derive(Debug, Clone, Copy)]
pub struct OutgoingRequest<'a> {
    /// The method token, e.g. `GET`.
    pub method: &'a str,
    /// The request target in origin form (`/path?query`).
    pub target: &'a str,
    /// The `Host` header value (`host[:port]`).
    pub host: &'a str,
    /// Further header lines, in order.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body framing.
    pub body: RequestBody,
}

/// Something the engine learned from the server, in arrival order.
#[derive(Debug)]
pub enum ClientEvent {
    /// The final response head (interim 1xx responses other than 101 are skipped). After a 101 the
    /// connection belongs to the new protocol: see [`H1ClientConn::take_remaining`].
    Response(ResponseHead),
    /// A piece of the response body.
    Data(Bytes),
    /// The response is complete (trailers of a chunked body attached).
    End(Trailers),
    /// A fatal error; the connection is closed.
    Error(ResponseError),
}

/// Where the engine is in reading the current response.
#[derive(Debug)]
enum Reading {
    /// No request outstanding.
    Idle,
    /// Waiting for (the rest of) a response head.
    Head,
    /// Receiving a body with this many bytes left.
    Length(u64),
    /// Receiving a chunked body.
    Chunked(ChunkedDecoder),
    /// Receiving a body that ends when the server closes.
    UntilClose,
    /// A 101 switched protocols: further bytes belong to the next protocol.
    Upgraded,
    /// No more exchanges on this connection.
    Closed,
}

/// Where the engine is in writing the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    /// No request started, or the last one ended.
    Idle,
    /// Head written, this many body bytes left.
    Length(u64),
    /// Head written, chunked body in progress.
    Chunked,
    /// The whole request is written.
    Done,
}

/// One HTTP/1.1 client connection's protocol state.
#[derive(Debug)]
pub struct H1ClientConn {
    cfg: H1ClientConfig,
    /// Limits in the shape the shared chunked decoder takes.
    chunk_cfg: H1Config,
    rx: BytesMut,
    tx: Vec<u8>,
    reading: Reading,
    writing: Writing,
    events: VecDeque<Event>,
    error: Option<ResponseError>,
    /// The current request is HEAD.
    head_request: bool,
    /// Both sides allow another exchange after this one, so far.
    keep_alive: bool,
    /// Bytes of the current response (interim ones included) have arrived.
    response_started: bool,
    exchanges: u64,
}

type Event = ClientEvent;

impl H1ClientConn {
    /// A fresh connection, ready for a first request.
    pub fn new(cfg: H1ClientConfig) -> Self {
        let chunk_cfg = H1Config {
            max_head: cfg.max_head,
            max_headers: cfg.max_headers,
            max_chunk_line: cfg.max_chunk_line,
            ..H1Config::default()
        };
        H1ClientConn {
            cfg,
            chunk_cfg,
            rx: BytesMut::new(),
            tx: Vec::new(),
            reading: Reading::Idle,
            writing: Writing::Idle,
            events: VecDeque::new(),
            error: None,
            head_request: false,
            keep_alive: true,
            response_started: false,
            exchanges: 0,
        }
    }

    /// Whether a request may be sent now: no exchange in progress, and the connection is still usable.
    pub fn is_ready(&self) -> bool {
        matches!(self.reading, Reading::Idle) && self.writing == Writing::Idle
    }

    /// Whether the connection is over: an error, a response that did not allow keep-alive, or an EOF.
    pub fn is_closed(&self) -> bool {
        matches!(self.reading, Reading::Closed)
    }

    /// Whether the connection can carry another request once the current exchange ends: nothing failed and
    /// neither side asked to close so far.
    pub fn is_reusable(&self) -> bool {
        self.keep_alive && !matches!(self.reading, Reading::Closed | Reading::Upgraded)
    }

    /// Whether a 101 response switched the connection to another protocol.
    pub fn is_upgraded(&self) -> bool {
        matches!(self.reading, Reading::Upgraded)
    }

    /// Whether the request body is still being sent ([`H1ClientConn::send_data`] is expected).
    pub fn is_sending_body(&self) -> bool {
        matches!(self.writing, Writing::Length(_) | Writing::Chunked)
    }

    /// The sticky fatal error, if one happened.
    pub fn error(&self) -> Option<ResponseError> {
        self.error
    }

    /// Number of requests started on this connection.
    pub fn exchanges(&self) -> u64 {
        self.exchanges
    }

    /// After a 101: the bytes received past its head, which belong to the next protocol.
    pub fn take_remaining(&mut self) -> Bytes {
        self.rx.split().freeze()
    }

    /// Feeds bytes received from the server.
    pub fn handle_input(&mut self, _now: Instant, data: &[u8]) {
        match self.reading {
            Reading::Closed => {}
            Reading::Upgraded => self.rx.extend_from_slice(data),
            _ if data.is_empty() => {}
            _ => {
                self.response_started |= matches!(self.reading, Reading::Head);
                self.rx.extend_from_slice(data);
                self.process();
            }
        }
    }

    /// The server closed its sending side: ends a close-delimited body, or fails an incomplete response.
    pub fn handle_eof(&mut self, _now: Instant) {
        match self.reading {
            Reading::Idle => self.reading = Reading::Closed,
            Reading::Head if !self.response_started => {
                self.fail(ResponseError::ClosedBeforeResponse)
            }
            Reading::Head => self.fail(ResponseError::IncompleteHead),
            Reading::Length(_) | Reading::Chunked(_) => self.fail(ResponseError::IncompleteBody),
            Reading::UntilClose => {
                self.events.push_back(Event::End(Trailers::default()));
                self.keep_alive = false;
                self.reading = Reading::Closed;
            }
            Reading::Upgraded | Reading::Closed => {}
        }
    }

    /// Writes a request head. The body, if any, follows with [`H1ClientConn::send_data`] and
    /// [`H1ClientConn::finish_request`]; a request without a body is complete at once. Nothing is written
    /// when the head is refused.
    pub fn send_request(
        &mut self,
        _now: Instant,
        req: &OutgoingRequest<'_>,
    ) -> Result<(), RequestError> {
        if !self.is_ready() {
            return Err(RequestError::NotReady);
        }
        if req.method.is_empty() || !is_valid_header(req.method, b"") {
            return Err(RequestError::InvalidMethod);
        }
        if req.target.is_empty() || !req.target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RequestError::InvalidTarget);
        }
        if req.host.is_empty() || !req.host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RequestError::InvalidHeader("host".into()));
        }
        for (name, value) in req.headers {
            if !is_valid_header(name, value) {
                return Err(RequestError::InvalidHeader((*name).into()));
            }
            if ["host", "content-length", "transfer-encoding"]
                .iter()
                .any(|r| name.eq_ignore_ascii_case(r))
            {
                return Err(RequestError::ReservedHeader(name.to_ascii_lowercase()));
            }
        }
        let tx = &mut self.tx;
        let _ = write!(
            tx,
            "{} {} HTTP/1.1\r\nhost: {}\r\n",
            req.method, req.target, req.host
        );
        for (name, value) in req.headers {
            tx.extend_from_slice(name.as_bytes());
            tx.extend_from_slice(b": ");
            tx.extend_from_slice(value);
            tx.extend_from_slice(b"\r\n");
            if name.eq_ignore_ascii_case("connection") && has_token(value, "close") {
                self.keep_alive = false;
            }
        }
        self.writing = match req.body {
            RequestBody::Empty => Writing::Done,
            RequestBody::Length(n) => {
                let _ = write!(tx, "content-length: {n}\r\n");
                if n == 0 {
                    Writing::Done
                } else {
                    Writing::Length(n)
                }
            }
            RequestBody::Chunked => {
                tx.extend_from_slice(b"transfer-encoding: chunked\r\n");
                Writing::Chunked
            }
        };
        tx.extend_from_slice(b"\r\n");
        self.head_request = req.method.eq_ignore_ascii_case("HEAD");
        self.reading = Reading::Head;
        self.response_started = false;
        self.exchanges += 1;
        Ok(())
    }

    /// Writes a piece of the request body (framed as a chunk for a chunked body).
    pub fn send_data(&mut self, data: &[u8]) -> Result<(), RequestError> {
        match self.writing {
            Writing::Length(n) => {
                if data.len() as u64 > n {
                    return Err(RequestError::BodyTooLong);
                }
                self.tx.extend_from_slice(data);
                let left = n - data.len() as u64;
                self.writing = if left == 0 {
                    Writing::Done
                } else {
                    Writing::Length(left)
                };
                Ok(())
            }
            Writing::Chunked => {
                if !data.is_empty() {
                    write_chunk(&mut self.tx, data);
                }
                Ok(())
            }
            Writing::Idle | Writing::Done => Err(RequestError::NoBody),
        }
    }

    /// Counts `n` body bytes of a [`RequestBody::Length`] body that the application writes to the socket
    /// itself, right after what [`H1ClientConn::poll_transmit`] gave it: a large body then goes out without
    /// a copy through the engine. A chunked body needs the engine's framing: [`RequestError::NoBody`].
    pub fn body_sent_externally(&mut self, n: u64) -> Result<(), RequestError> {
        match self.writing {
            Writing::Length(left) if n > left => Err(RequestError::BodyTooLong),
            Writing::Length(left) => {
                self.writing = if left == n {
                    Writing::Done
                } else {
                    Writing::Length(left - n)
                };
                Ok(())
            }
            _ => Err(RequestError::NoBody),
        }
    }

    /// Ends the request body: the last chunk of a chunked body, or a check that an announced length was met.
    /// Finishing a request that is already complete does nothing.
    pub fn finish_request(&mut self) -> Result<(), RequestError> {
        match self.writing {
            Writing::Length(_) => Err(RequestError::BodyTooShort),
            Writing::Chunked => {
                self.tx.extend_from_slice(b"0\r\n\r\n");
                self.writing = Writing::Done;
                self.exchange_maybe_over();
                Ok(())
            }
            Writing::Done => Ok(()),
            Writing::Idle => Err(RequestError::NoBody),
        }
    }

    /// Ends a chunked request body with a trailer section (fields that are not valid header lines are left
    /// out). A body of announced length cannot carry trailers: they are dropped and this is
    /// [`H1ClientConn::finish_request`].
    pub fn finish_request_with_trailers(
        &mut self,
        trailers: &[(&str, &[u8])],
    ) -> Result<(), RequestError> {
        if self.writing != Writing::Chunked {
            return self.finish_request();
        }
        response::write_last_chunk(&mut self.tx, trailers);
        self.writing = Writing::Done;
        self.exchange_maybe_over();
        Ok(())
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Moves all pending output bytes into `buf`.
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) {
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.tx);
        } else {
            buf.append(&mut self.tx);
        }
    }

    /// Whether output is waiting for [`H1ClientConn::poll_transmit`].
    pub fn has_transmit(&self) -> bool {
        !self.tx.is_empty()
    }

    fn fail(&mut self, err: ResponseError) {
        if self.error.is_none() {
            self.error = Some(err);
            self.events.push_back(Event::Error(err));
        }
        self.keep_alive = false;
        self.reading = Reading::Closed;
        self.rx = BytesMut::new();
    }

    /// The response ended: decides whether the connection carries another exchange.
    fn end_response(&mut self, trailers: Trailers) {
        self.events.push_back(Event::End(trailers));
        // A request body still being sent when the response ended cannot be cut short on the wire.
        if self.writing != Writing::Done {
            self.keep_alive = false;
        }
        self.reading = if self.keep_alive {
            Reading::Idle
        } else {
            Reading::Closed
        };
        self.exchange_maybe_over();
    }

    /// Frees the writer once both the request and its response are complete.
    fn exchange_maybe_over(&mut self) {
        if self.writing == Writing::Done && matches!(self.reading, Reading::Idle) {
            self.writing = Writing::Idle;
        }
    }

    /// Runs the read state machine over buffered input as far as it goes.
    fn process(&mut self) {
        loop {
            match &mut self.reading {
                Reading::Idle => {
                    if !self.rx.is_empty() {
                        self.fail(ResponseError::UnsolicitedData);
                    }
                    return;
                }
                Reading::Head => {
                    let parsed = head::parse_head(&self.rx, &self.cfg, self.head_request);
                    let (head, len) = match parsed {
                        Ok(HeadParse::Partial) => return,
                        Ok(HeadParse::Complete(head, len)) => (head, len),
                        Err(e) => return self.fail(e),
                    };
                    let _ = self.rx.split_to(len);
                    let status = head.status();
                    if (100..200).contains(&status) && status != 101 {
                        continue;
                    }
                    self.keep_alive &= head.keep_alive();
                    let body = head.body();
                    self.events.push_back(Event::Response(head));
                    if status == 101 {
                        self.keep_alive = false;
                        self.reading = Reading::Upgraded;
                        return;
                    }
                    match body {
                        ResponseBody::Empty => self.end_response(Trailers::default()),
                        ResponseBody::Length(n) => self.reading = Reading::Length(n),
                        ResponseBody::Chunked => {
                            self.reading = Reading::Chunked(ChunkedDecoder::new())
                        }
                        ResponseBody::CloseDelimited => {
                            self.keep_alive = false;
                            self.reading = Reading::UntilClose;
                        }
                    }
                }
                Reading::Length(left) => {
                    if self.rx.is_empty() {
                        return;
                    }
                    let n = (*left).min(self.rx.len() as u64) as usize;
                    *left -= n as u64;
                    let done = *left == 0;
                    let data = self.rx.split_to(n).freeze();
                    self.events.push_back(Event::Data(data));
                    if done {
                        self.end_response(Trailers::default());
                    }
                }
                Reading::Chunked(decoder) => match decoder.step(&mut self.rx, &self.chunk_cfg) {
                    Ok(Chunk::Data(d)) => self.events.push_back(Event::Data(d)),
                    Ok(Chunk::End(trailers)) => self.end_response(trailers),
                    Ok(Chunk::NeedMore) => return,
                    Err(H1Error::BadTrailers) => return self.fail(ResponseError::BadTrailers),
                    Err(_) => return self.fail(ResponseError::BadChunk),
                },
                Reading::UntilClose => {
                    if !self.rx.is_empty() {
                        let data = self.rx.split().freeze();
                        self.events.push_back(Event::Data(data));
                    }
                    return;
                }
                Reading::Upgraded | Reading::Closed => return,
            }
        }
    }
}

#[cfg(test)]
mod tests;
