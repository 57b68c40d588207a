//! HTTP/2 connection engine (RFC 9113) for both roles, with RFC 8441 extended CONNECT.
//!
//! [`H2Conn`] is sans-IO and has the shape every lws-proto engine has:
//! - getters: [`H2Conn::is_closed`], [`H2Conn::wants_input`], [`H2Conn::peer_settings`],
//!   [`H2Conn::stream_backlog`], ...
//! - input: [`H2Conn::handle_input`] and [`H2Conn::handle_timeout`], both taking `now`;
//! - commands: [`H2Conn::send_response`], [`H2Conn::send_request`], [`H2Conn::send_data`],
//!   [`H2Conn::send_trailers`], [`H2Conn::reset`], [`H2Conn::release_capacity`], [`H2Conn::go_away`];
//! - outputs, drained in this order: [`H2Conn::poll_event`], [`H2Conn::poll_transmit`],
//!   [`H2Conn::poll_timeout`].
//!
//! The engine owns framing, HPACK, the stream state machine and both directions of flow control: data given
//! to [`H2Conn::send_data`] is queued per stream and framed by [`H2Conn::poll_transmit`] as the peer's windows
//! allow, round-robin across streams. Every violation becomes the stream error (RST_STREAM) or connection
//! error (GOAWAY) that RFC 9113 names; a connection error is sticky. Abuse (PING, SETTINGS, empty-frame and
//! reset floods, endless CONTINUATION) ends the connection with ENHANCE_YOUR_CALM.

mod config;
mod error;
mod field_list;
mod flood;
pub mod frame;
mod headers;
mod settings;
mod stream;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::hpack;
use crate::http1::status_digits;

pub use config::H2Config;
pub use error::{H2Error, Reason};
pub use field_list::FieldList;
pub use headers::{HeaderBlock, RequestParts};
pub use settings::{Settings, DEFAULT_MAX_FRAME, MAX_MAX_FRAME, MAX_WINDOW};

use error::{conn_err, FrameError};
use flood::FloodMeter;
use frame::{flags, Head, Kind, HEADER_LEN, PREFACE};
use headers::{BlockKind, Collector};
use stream::{Stream, TrailerFields};

/// Which end of the connection this engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts streams opened by odd identifiers and answers them.
    Server,
    /// Opens streams and reads the answers.
    Client,
}

/// Something the engine learned from the peer, in arrival order.
#[derive(Debug)]
pub enum Event {
    /// A request (server) or final response (client) head opening a stream's message.
    Headers {
        /// The stream.
        stream: u32,
        /// The decoded, validated fields.
        block: HeaderBlock,
        /// No body follows.
        end_stream: bool,
    },
    /// A piece of a stream's body.
    Data {
        /// The stream.
        stream: u32,
        /// The payload without padding (may be empty when only `end_stream` is news).
        data: Bytes,
        /// The body is complete.
        end_stream: bool,
    },
    /// A trailer section, which also ends the body.
    Trailers {
        /// The stream.
        stream: u32,
        /// The trailer fields.
        block: HeaderBlock,
    },
    /// A stream the application knows ended abnormally: the peer reset it (`remote`) or we did after a stream
    /// error. Nothing more happens on it.
    Reset {
        /// The stream.
        stream: u32,
        /// The error code.
        reason: Reason,
        /// The peer sent the RST_STREAM.
        remote: bool,
    },
    /// The peer's SETTINGS were applied (see [`H2Conn::peer_settings`]).
    Settings,
    /// The peer is shutting down: streams above `last_stream` that we opened were not processed.
    GoAway {
        /// The last stream the peer will process.
        last_stream: u32,
        /// Why.
        reason: Reason,
    },
    /// A fatal connection error; GOAWAY is queued (or was received) and the connection ends.
    Error(H2Error),
}

/// Why a command could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The stream is unknown, reset, or its sending half is already closed.
    StreamClosed,
    /// The connection failed or is going away.
    ConnectionClosed,
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached.
    TooManyStreams,
    /// Extended CONNECT was asked for but the peer did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL.
    ConnectProtocolNotEnabled,
    /// This command belongs to the other role.
    WrongRole,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::StreamClosed => "stream closed",
            SendError::ConnectionClosed => "connection closed",
            SendError::TooManyStreams => "peer's concurrent stream limit reached",
            SendError::ConnectProtocolNotEnabled => "peer does not accept extended CONNECT",
            SendError::WrongRole => "command not available in this role",
        })
    }
}

impl std::error::Error for SendError {}

/// The pseudo-headers of a request a client opens.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// `:method`.
    pub method: &'a str,
    /// `:scheme`, `http` or `https`.
    pub scheme: &'a str,
    /// `:authority`, host and optional port.
    pub authority: &'a str,
    /// `:path` with query.
    pub path: &'a str,
    /// `:protocol` for RFC 8441 extended CONNECT (with method `CONNECT`), e.g. `websocket`.
    pub protocol: Option<&'a str>,
}

#[derive(Debug)]
enum State {
    /// Server: waiting for the client preface; this many bytes of it matched so far.
    Preface(usize),
    /// The peer's first frame must be SETTINGS.
    AwaitSettings,
    Open,
    Failed(H2Error),
}

/// A header block spread over HEADERS and CONTINUATION frames.
#[derive(Debug)]
struct PendingBlock {
    stream: u32,
    end_stream: bool,
    self_dependent: bool,
    frames: u32,
    block: Vec<u8>,
}

/// How many identifiers of streams we reset or closed are remembered, to tell late frames from misbehaviour.
const RECENT_STREAMS: usize = 64;
/// Size of the buffers decoded header blocks share: a block still in use keeps its whole buffer alive, so
/// this stays small (a request block is typically under 200 bytes).
const BLOCK_ARENA: usize = 4096;
/// Bytes of DATA one `poll_transmit` call frames at most.
const TRANSMIT_BUDGET: usize = 256 * 1024;

/// Room the output buffer takes when it starts again after [`H2Conn::release_idle_buffers`]: a head and a
/// small body, in one allocation rather than a chain of reallocations as frames are appended.
const OUT_START: usize = 4 * 1024;

/// Gives a buffer released while idle (no capacity) room for `n` bytes at once.
fn reserve_released(buf: &mut Vec<u8>, n: usize) {
    if buf.capacity() == 0 {
        buf.reserve(n);
    }
}

/// One HTTP/2 connection; see the module documentation.
#[derive(Debug)]
pub struct H2Conn {
    role: Role,
    config: H2Config,
    state: State,
    /// An incomplete frame (or preface) carried over to the next input.
    rbuf: Vec<u8>,
    /// Control frames and header blocks waiting for `poll_transmit`, in order (HPACK state depends on it).
    out: Vec<u8>,
    events: VecDeque<Event>,
    remote: Settings,
    settings_sent_at: Option<Instant>,
    decoder: hpack::Decoder,
    encoder: hpack::Encoder,
    hpack_buf: Vec<u8>,
    /// The fields of the head being sent, flattened (lowercased names).
    list_buf: Vec<u8>,
    /// Where decoded header blocks are written; see `Collector::new`.
    block_arena: bytes::BytesMut,
    /// Fields of a head sent through the iterator API, collected for the common path.
    scratch_fields: FieldList,
    /// The last head that encoded to indexed fields only: its flattened fields, its block, and the encoder
    /// generation it is valid for.
    last_head: Option<(Vec<u8>, Vec<u8>, u64)>,
    streams: Vec<Stream>,
    /// Highest stream identifier the peer opened.
    last_peer_stream: u32,
    /// Next identifier we open (client).
    next_stream: u32,
    /// Streams recently closed: (identifier, whether we reset it).
    recent: VecDeque<(u32, bool)>,
    conn_send_window: i64,
    conn_recv_window: i64,
    conn_recv_unreleased: u32,
    pending: Option<PendingBlock>,
    goaway_sent: bool,
    goaway_received: bool,
    last_input: Instant,
    ping_flood: FloodMeter,
    settings_flood: FloodMeter,
    empty_flood: FloodMeter,
    reset_flood: FloodMeter,
    rr: usize,
}

impl H2Conn {
    /// A server connection: our SETTINGS are queued and the client preface is expected first.
    pub fn server(config: H2Config, now: Instant) -> H2Conn {
        let mut c = H2Conn::new(Role::Server, config, now);
        c.state = State::Preface(0);
        c.queue_preface(now);
        c
    }

    /// A server connection taking over from an HTTP/1.1 `Upgrade: h2c` request (RFC 7540 §3.2): the client's
    /// `HTTP2-Settings` (base64url, already decoded) apply, and the upgraded request is stream 1, with its
    /// request half already complete. The response to it goes on stream 1.
    pub fn server_upgraded(
        config: H2Config,
        now: Instant,
        http2_settings: &[u8],
    ) -> Result<H2Conn, H2Error> {
        let mut c = H2Conn::server(config, now);
        if http2_settings.len() % 6 != 0 {
            return Err(H2Error::local(
                Reason::PROTOCOL_ERROR,
                "malformed HTTP2-Settings",
            ));
        }
        if let Err(FrameError::Connection(r, d)) = c.remote.apply(http2_settings) {
            return Err(H2Error::local(r, d));
        }
        c.encoder
            .set_peer_max_table_size(c.remote.header_table_size as usize);
        let mut s = Stream::new(1, c.remote.initial_window_size, c.config.stream_window);
        s.recv_closed = true;
        s.headers_received = true;
        c.streams.push(s);
        c.last_peer_stream = 1;
        Ok(c)
    }

    /// A client connection: the preface and our SETTINGS are queued; streams can be opened at once.
    pub fn client(config: H2Config, now: Instant) -> H2Conn {
        let mut c = H2Conn::new(Role::Client, config, now);
        c.out.extend_from_slice(PREFACE);
        c.queue_preface(now);
        c.state = State::AwaitSettings;
        c
    }

    fn new(role: Role, config: H2Config, now: Instant) -> H2Conn {
        let window = config.flood_window;
        let mut encoder = hpack::Encoder::new();
        encoder.set_peer_max_table_size(4096.min(config.encoder_table_size as usize));
        H2Conn {
            role,
            decoder: hpack::Decoder::new(config.header_table_size as usize),
            encoder,
            hpack_buf: Vec::new(),
            list_buf: Vec::new(),
            block_arena: bytes::BytesMut::new(),
            scratch_fields: FieldList::new(),
            last_head: None,
            ping_flood: FloodMeter::new(config.flood_limit, window),
            settings_flood: FloodMeter::new(config.flood_limit, window),
            empty_flood: FloodMeter::new(config.flood_limit, window),
            reset_flood: FloodMeter::new(config.reset_limit, window),
            config,
            state: State::Open,
            rbuf: Vec::new(),
            out: Vec::with_capacity(256),
            events: VecDeque::new(),
            remote: Settings::default(),
            settings_sent_at: None,
            streams: Vec::new(),
            last_peer_stream: 0,
            next_stream: 1,
            recent: VecDeque::new(),
            conn_send_window: 65_535,
            conn_recv_window: 65_535,
            conn_recv_unreleased: 0,
            pending: None,
            goaway_sent: false,
            goaway_received: false,
            last_input: now,
            rr: 0,
        }
    }

    fn queue_preface(&mut self, now: Instant) {
        let ours = Settings {
            header_table_size: self.config.header_table_size,
            enable_push: false,
            max_concurrent_streams: Some(self.config.max_concurrent_streams),
            initial_window_size: self.config.stream_window,
            max_frame_size: self.config.max_frame_size,
            max_header_list_size: Some(self.config.max_header_list_size),
            enable_connect_protocol: self.role == Role::Server
                && self.config.enable_connect_protocol,
        };
        let mut pairs = ours.pairs();
        if self.role == Role::Server {
            // ENABLE_PUSH is a client setting (RFC 9113 §6.5.2).
            pairs.retain(|(id, _)| *id != settings::ENABLE_PUSH);
        }
        frame::write_settings(&mut self.out, &pairs);
        self.settings_sent_at = Some(now);
        let extra = self.config.connection_window.saturating_sub(65_535);
        if extra > 0 {
            frame::write_window_update(&mut self.out, 0, extra);
            self.conn_recv_window += extra as i64;
        }
    }

    // ----- getters -----

    /// Which end this engine is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's SETTINGS as applied so far.
    pub fn peer_settings(&self) -> &Settings {
        &self.remote
    }

    /// The fatal error, once the connection failed.
    pub fn error(&self) -> Option<&H2Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the connection is over: failed, or going away with no stream left, and nothing left to send.
    pub fn is_closed(&self) -> bool {
        if !self.out.is_empty() {
            return false;
        }
        match self.state {
            State::Failed(_) => true,
            _ => (self.goaway_sent || self.goaway_received) && self.streams.is_empty(),
        }
    }

    /// Whether the runtime should read more input: false once failed, or while the peer leaves our control
    /// frames unread (so a peer that floods without reading cannot grow our output without bound).
    pub fn wants_input(&self) -> bool {
        !matches!(self.state, State::Failed(_)) && self.out.len() <= self.config.max_pending_control
    }

    /// Streams currently open.
    pub fn active_streams(&self) -> usize {
        self.streams.len()
    }

    /// Bytes queued on a stream and not yet framed; `None` when the stream is gone (closed or reset).
    pub fn stream_backlog(&self, stream: u32) -> Option<usize> {
        self.find(stream)
            .map(|i| &self.streams[i])
            .filter(|s| !s.send_closed)
            .map(|s| s.queued)
    }

    /// How many bytes a stream may send right now under both flow-control windows.
    pub fn send_capacity(&self, stream: u32) -> usize {
        self.find(stream)
            .map(|i| {
                self.streams[i]
                    .send_window
                    .min(self.conn_send_window)
                    .max(0) as usize
            })
            .unwrap_or(0)
    }

    /// Whether a new stream may be opened now (client): not going away, under the peer's limit.
    pub fn can_open_stream(&self) -> bool {
        self.usable()
            && !self.goaway_received
            && self.next_stream <= MAX_WINDOW
            && self
                .remote
                .max_concurrent_streams
                .is_none_or(|m| (self.streams.len() as u32) < m)
    }

    fn usable(&self) -> bool {
        !matches!(self.state, State::Failed(_)) && !self.goaway_sent
    }

    fn find(&self, id: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.id == id)
    }

    // ----- outputs -----

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Gives up what an idle connection's buffers hold (an empty carry-over buffer, the decoded-header
    /// arena, scratch space and the event queue), so that an HTTP/2 connection with no stream open keeps
    /// little besides its HPACK tables; returns the transmit buffer's allocation for the caller to reuse.
    pub fn release_idle_buffers(&mut self) -> Vec<u8> {
        if self.rbuf.is_empty() {
            self.rbuf = Vec::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        self.block_arena = bytes::BytesMut::new();
        self.encoder.release_index();
        self.hpack_buf = Vec::new();
        self.list_buf = Vec::new();
        self.scratch_fields = FieldList::new();
        if self.streams.is_empty() {
            self.streams = Vec::new();
        }
        if self.out.is_empty() {
            std::mem::take(&mut self.out)
        } else {
            Vec::new()
        }
    }

    /// Appends to `dst` the frames ready to send: control frames and header blocks first, then DATA as the
    /// windows allow (at most about 256 KiB per call; call again while it appends).
    pub fn poll_transmit(&mut self, dst: &mut Vec<u8>) {
        if dst.is_empty() {
            // Hand over the frames written so far without copying them; the caller's buffer becomes ours.
            std::mem::swap(dst, &mut self.out);
        } else {
            dst.extend_from_slice(&self.out);
        }
        self.out.clear();
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        let start = dst.len();
        while dst.len() - start < TRANSMIT_BUDGET {
            if !self.transmit_round(dst) {
                break;
            }
        }
        self.sweep(dst);
    }

    /// One frame for each stream that can send; false when none could.
    fn transmit_round(&mut self, dst: &mut Vec<u8>) -> bool {
        let n = self.streams.len();
        let mut progress = false;
        for k in 0..n {
            let i = (self.rr + k) % n;
            progress |= self.transmit_one(i, dst);
        }
        if n > 0 {
            self.rr = (self.rr + 1) % n;
        }
        progress
    }

    fn transmit_one(&mut self, i: usize, dst: &mut Vec<u8>) -> bool {
        let max_frame = self.remote.max_frame_size as usize;
        let conn_window = self.conn_send_window;
        let s = &mut self.streams[i];
        if !s.headers_sent || !s.has_pending_send() {
            return false;
        }
        if s.queued > 0 {
            let allow = s.send_window.min(conn_window).min(max_frame as i64);
            if allow <= 0 {
                return false;
            }
            let piece = s.take(allow as usize);
            let end = s.end_queued && s.queued == 0 && s.trailers.is_none();
            frame::write_data(dst, s.id, &piece, end);
            s.send_window -= piece.len() as i64;
            s.send_closed = end;
            self.conn_send_window -= piece.len() as i64;
            return true;
        }
        if let Some(fields) = s.trailers.take() {
            let id = s.id;
            s.send_closed = true;
            let pairs = fields.iter().map(|(n, v)| (n.as_ref(), v.as_ref()));
            self.hpack_buf.clear();
            self.encoder.encode(pairs, &mut self.hpack_buf);
            frame::write_headers(dst, id, &self.hpack_buf, true, max_frame);
            return true;
        }
        // Only END_STREAM is left.
        frame::write_data(dst, s.id, &[], true);
        s.send_closed = true;
        true
    }

    /// Forgets finished streams. A server that ended its response before the request ended lets the rest
    /// of the request arrive for a short while, still checking it (a body that breaks its content-length, a
    /// zero WINDOW_UPDATE: the stream errors RFC 9113 names, whatever the timing); once the peer has no window
    /// left, or the time is up (`handle_timeout`), it asks the peer to stop (RST_STREAM(NO_ERROR), §8.1).
    fn sweep(&mut self, dst: &mut Vec<u8>) {
        let mut i = 0;
        while i < self.streams.len() {
            let s = &mut self.streams[i];
            if self.role == Role::Server && s.send_closed && !s.recv_closed {
                if s.recv_window > 0 {
                    s.draining_since.get_or_insert(self.last_input);
                } else {
                    let id = s.id;
                    self.stop_draining(dst, i, id);
                }
            }
            if self.streams[i].is_done() {
                let s = self.streams.swap_remove(i);
                self.remember(s.id, false);
            } else {
                i += 1;
            }
        }
    }

    /// Ends the wait for the rest of a request whose response is complete: RST_STREAM(NO_ERROR); frames
    /// still in flight are then ignored.
    fn stop_draining(&mut self, dst: &mut Vec<u8>, i: usize, id: u32) {
        frame::write_rst(dst, id, Reason::NO_ERROR.0);
        self.streams[i].recv_closed = true;
        self.remember(id, true);
    }

    /// Notes a closed stream. Runs for every stream, so it only appends; the rare lookups (frames arriving
    /// for a closed stream) scan the whole list, where one identifier may appear twice.
    fn remember(&mut self, id: u32, reset: bool) {
        if self.recent.len() == RECENT_STREAMS {
            self.recent.pop_front();
        }
        self.recent.push_back((id, reset));
    }

    /// When [`H2Conn::handle_timeout`] wants to run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Failed(_)) {
            return None;
        }
        let settings = self
            .settings_sent_at
            .map(|t| t + self.config.settings_timeout);
        let idle = (self.streams.is_empty() && !self.goaway_sent)
            .then(|| self.last_input + self.config.idle_timeout);
        let drain = self
            .streams
            .iter()
            .filter_map(|s| s.draining_since)
            .min()
            .map(|t| t + stream::DRAIN_TIME);
        [settings, idle, drain].into_iter().flatten().min()
    }

    /// The last open stream ended at `now`: the idle timeout counts from here, not from the last input, so
    /// a connection whose long poll was answered long after its request is not sent away at once.
    pub fn restart_idle_timer(&mut self, now: Instant) {
        self.last_input = self.last_input.max(now);
    }

    /// Applies timeouts: an unacknowledged SETTINGS fails the connection; an idle one goes away.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        if let Some(t) = self.settings_sent_at {
            if now >= t + self.config.settings_timeout {
                return self.fail(Reason::SETTINGS_TIMEOUT, "SETTINGS not acknowledged");
            }
        }
        if self.streams.is_empty() && now >= self.last_input + self.config.idle_timeout {
            self.go_away();
        }
        let mut out = std::mem::take(&mut self.out);
        for i in 0..self.streams.len() {
            let s = &self.streams[i];
            if !s.recv_closed
                && s.draining_since
                    .is_some_and(|t| now >= t + stream::DRAIN_TIME)
            {
                let id = s.id;
                self.stop_draining(&mut out, i, id);
            }
        }
        self.out = out;
    }

    // ----- input -----

    /// Feeds bytes received from the peer.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        self.last_input = now;
        // Whole frames are handled straight from the caller's bytes; only an incomplete frame is copied, and
        // completed from the front of the next input before the rest is handled in place.
        let mut data = data;
        while !self.rbuf.is_empty() {
            let need = match self.rbuf.len() {
                n if n < HEADER_LEN => HEADER_LEN - n,
                n => {
                    let len = Head::parse(&self.rbuf).len;
                    if len > self.config.max_frame_size as usize {
                        // Let `process` fail the connection on it.
                        let buf = std::mem::take(&mut self.rbuf);
                        self.process(now, &buf);
                        return;
                    }
                    HEADER_LEN + len - n
                }
            };
            let take = need.min(data.len());
            self.rbuf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if take < need {
                return;
            }
            if self.rbuf.len() >= HEADER_LEN
                && self.rbuf.len() == HEADER_LEN + Head::parse(&self.rbuf).len
            {
                let mut buf = std::mem::take(&mut self.rbuf);
                self.process(now, &buf);
                buf.clear();
                self.rbuf = buf;
                if matches!(self.state, State::Failed(_)) {
                    return;
                }
                // An emptied buffer keeps its capacity in `rbuf` only while it is small.
                if self.rbuf.capacity() > 64 * 1024 {
                    self.rbuf = Vec::new();
                }
                break;
            }
        }
        let used = self.process(now, data);
        if !matches!(self.state, State::Failed(_)) {
            self.rbuf.extend_from_slice(&data[used..]);
        }
    }

    /// Handles the preface and every complete frame at the start of `buf`; returns the bytes consumed.
    fn process(&mut self, now: Instant, buf: &[u8]) -> usize {
        let mut at = 0;
        if let State::Preface(matched) = self.state {
            let n = (PREFACE.len() - matched).min(buf.len());
            if buf[..n] != PREFACE[matched..matched + n] {
                self.fail(Reason::PROTOCOL_ERROR, "invalid connection preface");
                return buf.len();
            }
            at = n;
            if matched + n < PREFACE.len() {
                self.state = State::Preface(matched + n);
                return at;
            }
            self.state = State::AwaitSettings;
        }
        while buf.len() - at >= HEADER_LEN && !matches!(self.state, State::Failed(_)) {
            let head = Head::parse(&buf[at..]);
            if head.len > self.config.max_frame_size as usize {
                self.fail(
                    Reason::FRAME_SIZE_ERROR,
                    "frame larger than SETTINGS_MAX_FRAME_SIZE",
                );
                return buf.len();
            }
            if buf.len() - at < HEADER_LEN + head.len {
                break;
            }
            let payload = &buf[at + HEADER_LEN..at + HEADER_LEN + head.len];
            at += HEADER_LEN + head.len;
            if let Err(e) = self.frame(now, head, payload) {
                self.frame_error(now, e);
            }
        }
        at
    }

    fn frame(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if matches!(self.state, State::AwaitSettings) {
            if head.kind != Kind::Settings || head.has(flags::ACK) {
                return conn_err(Reason::PROTOCOL_ERROR, "first frame is not SETTINGS");
            }
            self.state = State::Open;
        }
        if let Some(p) = &self.pending {
            if head.kind != Kind::Continuation || head.stream != p.stream {
                return conn_err(Reason::PROTOCOL_ERROR, "header block interrupted");
            }
        }
        match head.kind {
            Kind::Data => self.on_data(now, head, payload),
            Kind::Headers => self.on_headers(now, head, payload),
            Kind::Priority => self.on_priority(head, payload),
            Kind::RstStream => self.on_rst(now, head, payload),
            Kind::Settings => self.on_settings(now, head, payload),
            Kind::PushPromise => conn_err(Reason::PROTOCOL_ERROR, "PUSH_PROMISE is not accepted"),
            Kind::Ping => self.on_ping(now, head, payload),
            Kind::GoAway => self.on_goaway(head, payload),
            Kind::WindowUpdate => self.on_window_update(head, payload),
            Kind::Continuation => self.on_continuation(now, head, payload),
            Kind::Unknown(_) => self.flood(now, Flood::Empty),
        }
    }

    /// Whether `id` names a stream the peer could not have opened yet (RFC 9113 §5.1 "idle").
    fn is_idle(&self, id: u32) -> bool {
        let peer_initiated = (id % 2 == 1) == (self.role == Role::Server);
        if peer_initiated {
            id > self.last_peer_stream
        } else {
            id >= self.next_stream
        }
    }

    fn was_reset_by_us(&self, id: u32) -> bool {
        self.recent.iter().any(|&(r, reset)| r == id && reset)
    }

    fn on_data(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        let id = head.stream;
        if id == 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "DATA on stream 0");
        }
        let Some((start, end)) = frame::unpad(&head, payload) else {
            return conn_err(Reason::PROTOCOL_ERROR, "DATA padding longer than the frame");
        };
        let len = payload.len();
        self.conn_recv_window -= len as i64;
        if self.conn_recv_window < 0 {
            return conn_err(
                Reason::FLOW_CONTROL_ERROR,
                "DATA beyond the connection window",
            );
        }
        let Some(i) = self.find(id) else {
            if self.is_idle(id) {
                return conn_err(Reason::PROTOCOL_ERROR, "DATA on an idle stream");
            }
            self.release_conn(len as u32);
            if self.was_reset_by_us(id) {
                return Ok(());
            }
            return Err(FrameError::Stream(id, Reason::STREAM_CLOSED));
        };
        let end_stream = head.has(flags::END_STREAM);
        let data = Bytes::copy_from_slice(&payload[start..end]);
        let s = &mut self.streams[i];
        if s.recv_closed || !s.headers_received {
            self.release_conn(len as u32);
            return Err(FrameError::Stream(id, Reason::STREAM_CLOSED));
        }
        s.recv_window -= len as i64;
        if s.recv_window < 0 {
            self.release_conn(len as u32);
            return Err(FrameError::Stream(id, Reason::FLOW_CONTROL_ERROR));
        }
        s.received += data.len() as u64;
        let over = s.content_length.is_some_and(|cl| s.received > cl);
        let short = end_stream && s.content_length.is_some_and(|cl| s.received != cl);
        if over || short {
            self.release_conn(len as u32);
            return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
        }
        if end_stream {
            s.recv_closed = true;
        }
        if s.draining_since.is_some() {
            // The response is complete: the rest of the request is checked and dropped, and its window is
            // not given back, so the peer cannot keep sending.
            self.release_conn(len as u32);
            return Ok(());
        }
        let delivered = data.len();
        // Padding is consumed at once; the data itself when the application has it.
        self.release_conn((len - delivered) as u32);
        if self.config.auto_release {
            self.release_conn(delivered as u32);
        }
        if self.config.auto_release && !self.streams[i].manual {
            self.release_stream(i, len as u32);
        } else {
            self.release_stream(i, (len - delivered) as u32);
        }
        if delivered == 0 && !end_stream {
            return self.flood(now, Flood::Empty);
        }
        self.events.push_back(Event::Data {
            stream: id,
            data,
            end_stream,
        });
        Ok(())
    }

    fn release_conn(&mut self, n: u32) {
        self.conn_recv_unreleased += n;
        if self.conn_recv_unreleased >= self.config.connection_window / 2 {
            frame::write_window_update(&mut self.out, 0, self.conn_recv_unreleased);
            self.conn_recv_window += self.conn_recv_unreleased as i64;
            self.conn_recv_unreleased = 0;
        }
    }

    fn release_stream(&mut self, i: usize, n: u32) {
        let s = &mut self.streams[i];
        if s.recv_closed {
            return;
        }
        s.recv_unreleased += n;
        if s.recv_unreleased >= self.config.stream_window / 2 {
            frame::write_window_update(&mut self.out, s.id, s.recv_unreleased);
            s.recv_window += s.recv_unreleased as i64;
            s.recv_unreleased = 0;
        }
    }

    /// Gives back receive window for body bytes the application consumed: needed when
    /// [`H2Config::auto_release`] is off, or for a stream put under [`H2Conn::set_manual_release`].
    pub fn release_capacity(&mut self, stream: u32, n: usize) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        if !self.config.auto_release {
            self.release_conn(n as u32);
        }
        if let Some(i) = self.find(stream) {
            if !self.config.auto_release || self.streams[i].manual {
                self.release_stream(i, n as u32);
            }
        }
    }

    /// Puts one stream's receive window under the application's control (for example a tunnel that can only
    /// take data as fast as its consumer reads): the connection window is still released automatically.
    pub fn set_manual_release(&mut self, stream: u32) {
        if let Some(i) = self.find(stream) {
            self.streams[i].manual = true;
        }
    }

    fn on_headers(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if head.stream == 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "HEADERS on stream 0");
        }
        let Some((mut start, end)) = frame::unpad(&head, payload) else {
            return conn_err(
                Reason::PROTOCOL_ERROR,
                "HEADERS padding longer than the frame",
            );
        };
        let mut self_dependent = false;
        if head.has(flags::PRIORITY) {
            if end - start < 5 {
                return conn_err(
                    Reason::FRAME_SIZE_ERROR,
                    "HEADERS too short for its priority",
                );
            }
            let p = &payload[start..start + 4];
            self_dependent =
                u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & MAX_WINDOW == head.stream;
            start += 5;
        }
        let fragment = &payload[start..end];
        let end_stream = head.has(flags::END_STREAM);
        if head.has(flags::END_HEADERS) {
            return self.header_block(now, head.stream, end_stream, self_dependent, fragment);
        }
        if fragment.len() > self.block_limit() {
            return conn_err(Reason::ENHANCE_YOUR_CALM, "header block too large");
        }
        self.pending = Some(PendingBlock {
            stream: head.stream,
            end_stream,
            self_dependent,
            frames: 0,
            block: fragment.to_vec(),
        });
        Ok(())
    }

    /// Compressed header block bytes we buffer at most while CONTINUATION frames arrive.
    fn block_limit(&self) -> usize {
        self.config.max_header_list_size as usize * 2
    }

    fn on_continuation(
        &mut self,
        now: Instant,
        head: Head,
        payload: &[u8],
    ) -> Result<(), FrameError> {
        let limit = self.block_limit();
        let max_frames = self.config.max_continuation_frames;
        let Some(p) = self.pending.as_mut() else {
            return conn_err(
                Reason::PROTOCOL_ERROR,
                "CONTINUATION without a header block",
            );
        };
        p.frames += 1;
        if p.frames > max_frames || p.block.len() + payload.len() > limit {
            return conn_err(
                Reason::ENHANCE_YOUR_CALM,
                "header block too long (CONTINUATION flood)",
            );
        }
        p.block.extend_from_slice(payload);
        if !head.has(flags::END_HEADERS) {
            return Ok(());
        }
        let p = self
            .pending
            .take()
            .unwrap_or_else(|| unreachable!("checked above"));
        self.header_block(now, p.stream, p.end_stream, p.self_dependent, &p.block)
    }

    /// A complete header block arrived on `id`.
    fn header_block(
        &mut self,
        now: Instant,
        id: u32,
        end_stream: bool,
        self_dependent: bool,
        block: &[u8],
    ) -> Result<(), FrameError> {
        if let Some(i) = self.find(id) {
            return self.block_on_open(i, end_stream, self_dependent, block);
        }
        let peer_initiated = (id % 2 == 1) == (self.role == Role::Server);
        if !peer_initiated || self.role == Role::Client {
            self.decode(BlockKind::Trailers, block)?;
            if !self.is_idle(id) && self.was_reset_by_us(id) {
                return Ok(());
            }
            return conn_err(
                Reason::PROTOCOL_ERROR,
                "HEADERS on a stream the peer cannot open",
            );
        }
        if id <= self.last_peer_stream {
            self.decode(BlockKind::Trailers, block)?;
            if self.was_reset_by_us(id) {
                return Ok(());
            }
            if self.recent.iter().any(|&(r, _)| r == id) {
                return conn_err(Reason::STREAM_CLOSED, "HEADERS on a closed stream");
            }
            return conn_err(Reason::PROTOCOL_ERROR, "stream identifier went backwards");
        }
        self.last_peer_stream = id;
        self.new_stream(now, id, end_stream, self_dependent, block)
    }

    /// A request opening stream `id` (server).
    fn new_stream(
        &mut self,
        now: Instant,
        id: u32,
        end_stream: bool,
        self_dependent: bool,
        block: &[u8],
    ) -> Result<(), FrameError> {
        let kind = BlockKind::Request {
            connect_protocol: self.config.enable_connect_protocol,
        };
        let decoded = self.decode(kind, block)?;
        if self.goaway_sent {
            return Ok(()); // Above our GOAWAY's last stream: ignored (RFC 9113 §6.8).
        }
        if self.streams.len() as u32 >= self.config.max_concurrent_streams {
            self.flood(now, Flood::Reset)?;
            self.remember(id, true);
            frame::write_rst(&mut self.out, id, Reason::REFUSED_STREAM.0);
            return Ok(());
        }
        if self_dependent {
            return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
        }
        let block = match decoded {
            Decoded::Block(b) => b,
            Decoded::Malformed => return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR)),
            Decoded::TooLarge => {
                self.refuse_with_status(id, 431, end_stream);
                return Ok(());
            }
        };
        if end_stream && block.content_length().is_some_and(|n| n > 0) {
            return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
        }
        let mut s = Stream::new(
            id,
            self.remote.initial_window_size,
            self.config.stream_window,
        );
        s.headers_received = true;
        s.recv_closed = end_stream;
        s.content_length = block.content_length();
        self.streams.push(s);
        self.events.push_back(Event::Headers {
            stream: id,
            block,
            end_stream,
        });
        Ok(())
    }

    /// Answers a request the engine refuses itself with a bare status (e.g. 431 for oversized headers).
    fn refuse_with_status(&mut self, id: u32, status: u16, request_complete: bool) {
        let code = status_digits(status);
        self.hpack_buf.clear();
        self.encoder
            .encode([(&b":status"[..], &code[..])], &mut self.hpack_buf);
        let max = self.remote.max_frame_size as usize;
        frame::write_headers(&mut self.out, id, &self.hpack_buf, true, max);
        if !request_complete {
            frame::write_rst(&mut self.out, id, Reason::NO_ERROR.0);
        }
        self.remember(id, true);
    }

    /// A header block on a stream that is open: trailers, or the response (client).
    fn block_on_open(
        &mut self,
        i: usize,
        end_stream: bool,
        self_dependent: bool,
        block: &[u8],
    ) -> Result<(), FrameError> {
        let id = self.streams[i].id;
        let response = self.role == Role::Client
            && (!self.streams[i].headers_received || self.streams[i].awaiting_final);
        let kind = if response {
            BlockKind::Response
        } else {
            BlockKind::Trailers
        };
        let decoded = self.decode(kind, block)?;
        let s = &mut self.streams[i];
        if s.recv_closed {
            return Err(FrameError::Stream(id, Reason::STREAM_CLOSED));
        }
        if self_dependent {
            return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
        }
        let Decoded::Block(block) = decoded else {
            return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
        };
        if !response {
            // Trailers must end the stream (RFC 9113 §8.1).
            if !end_stream || s.content_length.is_some_and(|cl| cl != s.received) {
                return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
            }
            s.recv_closed = true;
            if s.draining_since.is_none() {
                self.events.push_back(Event::Trailers { stream: id, block });
            }
            return Ok(());
        }
        let status = block.status().unwrap_or(0);
        if (100..200).contains(&status) {
            if status == 101 || end_stream {
                return Err(FrameError::Stream(id, Reason::PROTOCOL_ERROR));
            }
            s.headers_received = true;
            s.awaiting_final = true;
            return Ok(());
        }
        s.headers_received = true;
        s.awaiting_final = false;
        s.recv_closed = end_stream;
        s.content_length = block.content_length();
        self.events.push_back(Event::Headers {
            stream: id,
            block,
            end_stream,
        });
        Ok(())
    }

    /// Runs the HPACK decoder over a block (always, to keep the table in sync) and validates the result.
    fn decode(&mut self, kind: BlockKind, block: &[u8]) -> Result<Decoded, FrameError> {
        let mut arena = std::mem::take(&mut self.block_arena);
        if arena.capacity() < block.len() * 2 {
            // A fresh buffer when the blocks still alive hold the old one, or the old one when none does.
            arena.reserve(BLOCK_ARENA.max(block.len() * 2));
        }
        let mut c = Collector::new(kind, arena);
        let limit = self.config.max_header_list_size as usize;
        let r = self
            .decoder
            .decode(block, limit, &mut |n: &[u8], v: &[u8], _| c.field(n, v));
        let (finished, arena) = c.finish();
        self.block_arena = arena;
        match r {
            Ok(()) => Ok(finished.map_or(Decoded::Malformed, Decoded::Block)),
            Err(hpack::DecoderError::HeaderListTooLarge) => Ok(Decoded::TooLarge),
            Err(_) => conn_err(Reason::COMPRESSION_ERROR, "HPACK decoding failed"),
        }
    }

    fn on_priority(&mut self, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if head.stream == 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "PRIORITY on stream 0");
        }
        if payload.len() != 5 {
            return Err(FrameError::Stream(head.stream, Reason::FRAME_SIZE_ERROR));
        }
        let dep = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & MAX_WINDOW;
        if dep == head.stream {
            return Err(FrameError::Stream(head.stream, Reason::PROTOCOL_ERROR));
        }
        Ok(()) // Priorities are accepted and ignored (RFC 9113 §5.3.2).
    }

    fn on_rst(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if payload.len() != 4 {
            return conn_err(Reason::FRAME_SIZE_ERROR, "RST_STREAM length is not 4");
        }
        if head.stream == 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "RST_STREAM on stream 0");
        }
        if self.is_idle(head.stream) {
            return conn_err(Reason::PROTOCOL_ERROR, "RST_STREAM on an idle stream");
        }
        let reason = Reason(u32::from_be_bytes([
            payload[0], payload[1], payload[2], payload[3],
        ]));
        if let Some(i) = self.find(head.stream) {
            self.streams.swap_remove(i);
            // Reset by the peer: its later DATA or HEADERS on the stream are STREAM_CLOSED (RFC 9113 §5.1),
            // not the in-flight frames that a reset of ours lets us ignore.
            self.remember(head.stream, false);
            self.events.push_back(Event::Reset {
                stream: head.stream,
                reason,
                remote: true,
            });
            self.flood(now, Flood::Reset)?;
        }
        Ok(())
    }

    fn on_settings(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if head.stream != 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "SETTINGS on a stream");
        }
        if head.has(flags::ACK) {
            if !payload.is_empty() {
                return conn_err(Reason::FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
            }
            self.settings_sent_at = None;
            return Ok(());
        }
        if payload.len() % 6 != 0 {
            return conn_err(
                Reason::FRAME_SIZE_ERROR,
                "SETTINGS length not a multiple of 6",
            );
        }
        self.flood(now, Flood::Settings)?;
        let old_window = self.remote.initial_window_size as i64;
        self.remote.apply(payload)?;
        let delta = self.remote.initial_window_size as i64 - old_window;
        if delta != 0 {
            for s in &mut self.streams {
                s.send_window += delta;
                if s.send_window > MAX_WINDOW as i64 {
                    return conn_err(
                        Reason::FLOW_CONTROL_ERROR,
                        "SETTINGS made a window too large",
                    );
                }
            }
        }
        let table = (self.remote.header_table_size).min(self.config.encoder_table_size);
        self.encoder.set_peer_max_table_size(table as usize);
        frame::write_settings_ack(&mut self.out);
        self.events.push_back(Event::Settings);
        Ok(())
    }

    fn on_ping(&mut self, now: Instant, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if payload.len() != 8 {
            return conn_err(Reason::FRAME_SIZE_ERROR, "PING length is not 8");
        }
        if head.stream != 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "PING on a stream");
        }
        if head.has(flags::ACK) {
            return Ok(());
        }
        self.flood(now, Flood::Ping)?;
        let mut data = [0u8; 8];
        data.copy_from_slice(payload);
        frame::write_ping(&mut self.out, true, data);
        Ok(())
    }

    fn on_goaway(&mut self, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if head.stream != 0 {
            return conn_err(Reason::PROTOCOL_ERROR, "GOAWAY on a stream");
        }
        if payload.len() < 8 {
            return conn_err(Reason::FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes");
        }
        let last =
            u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & MAX_WINDOW;
        let reason = Reason(u32::from_be_bytes([
            payload[4], payload[5], payload[6], payload[7],
        ]));
        self.goaway_received = true;
        // Streams we opened above `last` were never processed: the application may retry them.
        let ours = |id: u32| (id % 2 == 1) == (self.role == Role::Client);
        let mut i = 0;
        while i < self.streams.len() {
            let id = self.streams[i].id;
            if ours(id) && id > last {
                self.streams.swap_remove(i);
                self.events.push_back(Event::Reset {
                    stream: id,
                    reason: Reason::REFUSED_STREAM,
                    remote: true,
                });
            } else {
                i += 1;
            }
        }
        self.events.push_back(Event::GoAway {
            last_stream: last,
            reason,
        });
        if reason != Reason::NO_ERROR {
            let e = H2Error {
                reason,
                detail: "peer sent GOAWAY",
                remote: true,
            };
            self.events.push_back(Event::Error(e.clone()));
            self.state = State::Failed(e);
        }
        Ok(())
    }

    fn on_window_update(&mut self, head: Head, payload: &[u8]) -> Result<(), FrameError> {
        if payload.len() != 4 {
            return conn_err(Reason::FRAME_SIZE_ERROR, "WINDOW_UPDATE length is not 4");
        }
        let inc = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) & MAX_WINDOW;
        if head.stream == 0 {
            if inc == 0 {
                return conn_err(
                    Reason::PROTOCOL_ERROR,
                    "WINDOW_UPDATE of 0 on the connection",
                );
            }
            self.conn_send_window += inc as i64;
            if self.conn_send_window > MAX_WINDOW as i64 {
                return conn_err(Reason::FLOW_CONTROL_ERROR, "connection window above 2^31-1");
            }
            return Ok(());
        }
        if self.is_idle(head.stream) {
            return conn_err(Reason::PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
        }
        let Some(i) = self.find(head.stream) else {
            return Ok(()); // Closed streams may still see window updates in flight.
        };
        if inc == 0 {
            return Err(FrameError::Stream(head.stream, Reason::PROTOCOL_ERROR));
        }
        let s = &mut self.streams[i];
        s.send_window += inc as i64;
        if s.send_window > MAX_WINDOW as i64 {
            return Err(FrameError::Stream(head.stream, Reason::FLOW_CONTROL_ERROR));
        }
        Ok(())
    }

    /// Counts a frame that does the peer no good; too many end the connection.
    fn flood(&mut self, now: Instant, kind: Flood) -> Result<(), FrameError> {
        let meter = match kind {
            Flood::Ping => &mut self.ping_flood,
            Flood::Settings => &mut self.settings_flood,
            Flood::Empty => &mut self.empty_flood,
            Flood::Reset => &mut self.reset_flood,
        };
        if meter.hit(now) {
            return conn_err(Reason::ENHANCE_YOUR_CALM, kind.detail());
        }
        Ok(())
    }

    /// Reacts to an error in a frame: RST_STREAM for a stream error, GOAWAY for a connection error.
    fn frame_error(&mut self, now: Instant, e: FrameError) {
        let r = match e {
            FrameError::Stream(id, reason) => self.stream_error(now, id, reason),
            e => Err(e),
        };
        if let Err(FrameError::Connection(reason, detail)) = r {
            self.fail(reason, detail);
        }
    }

    /// Resets a stream after a stream error in its frames.
    fn stream_error(&mut self, now: Instant, id: u32, reason: Reason) -> Result<(), FrameError> {
        self.flood(now, Flood::Reset)?;
        frame::write_rst(&mut self.out, id, reason.0);
        self.remember(id, true);
        if let Some(i) = self.find(id) {
            self.streams.swap_remove(i);
            self.events.push_back(Event::Reset {
                stream: id,
                reason,
                remote: false,
            });
        }
        Ok(())
    }

    fn fail(&mut self, reason: Reason, detail: &'static str) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        frame::write_goaway(
            &mut self.out,
            self.last_peer_stream,
            reason.0,
            detail.as_bytes(),
        );
        let e = H2Error::local(reason, detail);
        self.events.push_back(Event::Error(e.clone()));
        self.state = State::Failed(e);
        self.pending = None;
    }

    // ----- commands -----

    /// Starts shutting down gracefully: GOAWAY(NO_ERROR) naming the last stream we will process; streams
    /// opened after it are ignored, and the connection closes when the remaining streams finish.
    pub fn go_away(&mut self) {
        if !self.usable() {
            return;
        }
        self.goaway_sent = true;
        frame::write_goaway(
            &mut self.out,
            self.last_peer_stream,
            Reason::NO_ERROR.0,
            &[],
        );
    }

    /// Sends a response head on a request's stream (server). Field names are lowercased; connection-specific
    /// fields (Connection, Keep-Alive, Transfer-Encoding, Upgrade) are dropped since HTTP/2 forbids them.
    pub fn send_response<'a>(
        &mut self,
        stream: u32,
        status: u16,
        fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        end_stream: bool,
    ) -> Result<(), SendError> {
        let mut list = std::mem::take(&mut self.scratch_fields);
        list.clear();
        for (n, v) in fields {
            list.push(n, v);
        }
        let sent = self.send_response_fields(stream, status, &list, end_stream);
        self.scratch_fields = list;
        sent
    }

    /// [`H2Conn::send_response`] with the fields already collected: a head equal to the previous one is then
    /// recognised by one comparison and sent without encoding it again.
    pub fn send_response_fields(
        &mut self,
        stream: u32,
        status: u16,
        fields: &FieldList,
        end_stream: bool,
    ) -> Result<(), SendError> {
        if self.role != Role::Server {
            return Err(SendError::WrongRole);
        }
        let i = self.open_for_headers(stream)?;
        let code = status_digits(status);
        let pseudo = [(&b":status"[..], &code[..])];
        self.encode_head(i, &pseudo, fields, end_stream);
        Ok(())
    }

    /// Opens a stream with a request head (client) and returns its identifier. With `line.protocol` set it
    /// is an RFC 8441 extended CONNECT, which the peer must have enabled.
    pub fn send_request<'a>(
        &mut self,
        line: RequestLine<'_>,
        fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        end_stream: bool,
    ) -> Result<u32, SendError> {
        if self.role != Role::Client {
            return Err(SendError::WrongRole);
        }
        if !self.usable() || self.goaway_received {
            return Err(SendError::ConnectionClosed);
        }
        if !self.can_open_stream() {
            return Err(SendError::TooManyStreams);
        }
        if line.protocol.is_some() && !self.remote.enable_connect_protocol {
            return Err(SendError::ConnectProtocolNotEnabled);
        }
        let id = self.next_stream;
        self.next_stream += 2;
        let mut s = Stream::new(
            id,
            self.remote.initial_window_size,
            self.config.stream_window,
        );
        s.send_closed = false;
        self.streams.push(s);
        let i = self.streams.len() - 1;
        let mut pseudo: Vec<(&[u8], &[u8])> = vec![(b":method", line.method.as_bytes())];
        if let Some(p) = line.protocol {
            pseudo.push((b":protocol", p.as_bytes()));
        }
        if line.method != "CONNECT" || line.protocol.is_some() {
            pseudo.push((b":scheme", line.scheme.as_bytes()));
            pseudo.push((b":path", line.path.as_bytes()));
        }
        pseudo.push((b":authority", line.authority.as_bytes()));
        let mut list = std::mem::take(&mut self.scratch_fields);
        list.clear();
        for (n, v) in fields {
            list.push(n, v);
        }
        self.encode_head(i, &pseudo, &list, end_stream);
        self.scratch_fields = list;
        Ok(id)
    }

    fn open_for_headers(&self, stream: u32) -> Result<usize, SendError> {
        if matches!(self.state, State::Failed(_)) {
            return Err(SendError::ConnectionClosed);
        }
        let i = self.find(stream).ok_or(SendError::StreamClosed)?;
        let s = &self.streams[i];
        if s.headers_sent || s.send_closed {
            return Err(SendError::StreamClosed);
        }
        Ok(i)
    }

    fn encode_head(
        &mut self,
        i: usize,
        pseudo: &[(&[u8], &[u8])],
        fields: &FieldList,
        end_stream: bool,
    ) {
        // A head is remembered by its pseudo-headers and its fields exactly as given.
        self.list_buf.clear();
        for &(n, v) in pseudo {
            field_list::push_raw(&mut self.list_buf, n, v);
        }
        let (p, raw) = (self.list_buf.len(), fields.as_bytes());
        let reuse = self.last_head.as_ref().is_some_and(|(key, _, generation)| {
            *generation == self.encoder.generation()
                && key.len() == p + raw.len()
                && key[..p] == self.list_buf[..]
                && key[p..] == *raw
        });
        if !reuse {
            let mut key = Vec::with_capacity(p + raw.len());
            key.extend_from_slice(&self.list_buf);
            key.extend_from_slice(raw);
            for (n, v) in fields.iter() {
                if !is_connection_specific(n) {
                    let at = self.list_buf.len() + 4;
                    field_list::push_raw(&mut self.list_buf, n, v);
                    self.list_buf[at..at + n.len()].make_ascii_lowercase();
                }
            }
            self.encode_list(key);
        }
        let block = match &self.last_head {
            Some((_, block, _)) if reuse => block,
            _ => &self.hpack_buf,
        };
        let s = &mut self.streams[i];
        s.headers_sent = true;
        let id = s.id;
        if end_stream {
            s.send_closed = true;
        }
        let max = self.remote.max_frame_size as usize;
        reserve_released(&mut self.out, OUT_START);
        frame::write_headers(&mut self.out, id, block, end_stream, max);
    }

    /// HPACK-encodes the flattened list in `list_buf` into `hpack_buf`; remembers the result under `key` (the
    /// head as given) when it used the table only by index, so an identical next head is sent without encoding.
    fn encode_list(&mut self, key: Vec<u8>) {
        self.hpack_buf.clear();
        self.encoder.start_block(&mut self.hpack_buf);
        let before = self.encoder.generation();
        let mut rest = &self.list_buf[..];
        while !rest.is_empty() {
            let (n, after) = field_list::split(rest);
            let (v, after) = field_list::split(after);
            rest = after;
            self.encoder.encode_field(n, v, &mut self.hpack_buf);
        }
        if self.encoder.generation() == before {
            let mut kept = self.last_head.take().unwrap_or_default();
            kept.0 = key;
            kept.1.clear();
            kept.1.extend_from_slice(&self.hpack_buf);
            kept.2 = before;
            self.last_head = Some(kept);
        } else {
            self.last_head = None;
        }
    }

    /// Queues body data on a stream (after its head); `end_stream` ends the body after it. The data is framed
    /// by [`H2Conn::poll_transmit`] as flow control allows: watch [`H2Conn::stream_backlog`] to bound memory.
    pub fn send_data(
        &mut self,
        stream: u32,
        data: Bytes,
        end_stream: bool,
    ) -> Result<(), SendError> {
        let i = self.open_for_data(stream)?;
        let max_frame = self.remote.max_frame_size as i64;
        let s = &mut self.streams[i];
        let len = data.len() as i64;
        if s.queued == 0
            && len > 0
            && len <= s.send_window.min(self.conn_send_window).min(max_frame)
        {
            // Fits the windows and one frame with nothing queued before it (a typical small response): framed
            // at once, behind its HEADERS, instead of queued and taken apart again.
            reserve_released(&mut self.out, OUT_START);
            frame::write_data(&mut self.out, s.id, &data, end_stream);
            s.send_window -= len;
            s.send_closed = end_stream;
            self.conn_send_window -= len;
            return Ok(());
        }
        if !data.is_empty() {
            s.queued += data.len();
            s.queue.push_back(data);
        }
        s.end_queued |= end_stream;
        Ok(())
    }

    /// Queues a trailer section that ends the stream after the queued data.
    pub fn send_trailers(
        &mut self,
        stream: u32,
        fields: Vec<(Bytes, Bytes)>,
    ) -> Result<(), SendError> {
        let i = self.open_for_data(stream)?;
        let fields: TrailerFields = fields
            .into_iter()
            .map(|(n, v)| (Bytes::from(lowercase(&n).into_owned()), v))
            .collect();
        self.streams[i].trailers = Some(fields);
        Ok(())
    }

    fn open_for_data(&self, stream: u32) -> Result<usize, SendError> {
        if matches!(self.state, State::Failed(_)) {
            return Err(SendError::ConnectionClosed);
        }
        let i = self.find(stream).ok_or(SendError::StreamClosed)?;
        let s = &self.streams[i];
        if !s.headers_sent || s.send_closed || s.end_queued || s.trailers.is_some() {
            return Err(SendError::StreamClosed);
        }
        Ok(i)
    }

    /// Resets a stream (RST_STREAM with `reason`) and forgets it; its queued data is dropped.
    pub fn reset(&mut self, stream: u32, reason: Reason) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        if let Some(i) = self.find(stream) {
            let mut s = self.streams.swap_remove(i);
            s.clear_queue();
            frame::write_rst(&mut self.out, stream, reason.0);
            self.remember(stream, true);
        }
    }
}

/// Result of decoding one header block.
enum Decoded {
    Block(HeaderBlock),
    Malformed,
    TooLarge,
}

#[derive(Clone, Copy)]
enum Flood {
    Ping,
    Settings,
    Empty,
    Reset,
}

impl Flood {
    fn detail(self) -> &'static str {
        match self {
            Flood::Ping => "PING flood",
            Flood::Settings => "SETTINGS flood",
            Flood::Empty => "empty or unknown frame flood",
            Flood::Reset => "stream reset flood",
        }
    }
}

fn is_connection_specific(name: &[u8]) -> bool {
    // Runs for every response field: sort by length before comparing text.
    let is = |c: &[u8]| name.eq_ignore_ascii_case(c);
    match name.len() {
        7 => is(b"upgrade"),
        10 => is(b"connection") || is(b"keep-alive"),
        16 => is(b"proxy-connection"),
        17 => is(b"transfer-encoding"),
        _ => false,
    }
}

fn lowercase(name: &[u8]) -> Cow<'_, [u8]> {
    if name.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}
