//! WebSocket engine (RFC 6455): framing, masking, fragmentation, control frames, the closing handshake,
//! UTF-8 checks and limits, for both roles; permessage-deflate (RFC 7692) plugs in through [`MessageCodec`].
//!
//! [`WsConn`] is sans-IO and has the shape every lws-proto engine has:
//! - getters: [`WsConn::state`], [`WsConn::is_closed`], [`WsConn::pending_transmit`], [`WsConn::error`];
//! - input: [`WsConn::handle_input`], [`WsConn::handle_eof`], [`WsConn::handle_timeout`], all taking `now`;
//! - commands: [`WsConn::send_message`], [`WsConn::send_fragment`], [`WsConn::send_ping`], [`WsConn::close`];
//! - outputs, drained in this order: [`WsConn::poll_event`], [`WsConn::poll_transmit`],
//!   [`WsConn::poll_timeout`].
//!
//! The opening handshake happens before the engine exists: [`handshake`] checks an upgrade request parsed by
//! the HTTP/1.1 engine (server) or writes the request and checks the 101 response (client). Bytes that
//! arrived after the handshake's head belong to this engine and go to [`WsConn::handle_input`] first.
//!
//! Failing is sticky: a protocol violation by the peer is reported once as [`WsEvent::Error`], our Close
//! frame with [`WsError::close_code`] is queued, and no further input is processed (RFC 6455 §7.1.7); once
//! the Close is drained through [`WsConn::poll_transmit`], [`WsConn::is_closed`] turns true and the runtime
//! closes the socket. Memory is bounded: the engine buffers at most one frame header, one control payload
//! and one message of [`WsConfig::max_message`] bytes, and never more than a frame's declared length
//! allows, checked before its payload arrives.
//!
//! Driving it (the runtime's side): after each read, call `handle_input`, drain `poll_event` to the
//! application (which may call the commands), then `poll_transmit` and write; re-arm one timer from
//! `poll_timeout` and call `handle_timeout` when it fires; call `handle_eof` when the peer's side ends. For
//! backpressure, stop reading from the socket and stop asking the application for more data while
//! [`WsConn::pending_transmit`] plus the runtime's own unwritten bytes is above its high-water mark: the
//! engine answers pings and closes by itself, but only ever keeps one Pong pending, so a peer that floods
//! pings without reading cannot make it grow. When [`WsConn::is_closed`] turns true, write out what was
//! already taken from `poll_transmit`, shut down the write side and close the socket (briefly draining
//! input first avoids a reset that could destroy our Close frame in flight).

pub mod close;
mod error;
pub mod frame;
pub mod handshake;
pub mod pmd;
pub mod utf8;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use error::WsError;

use frame::{apply_mask, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER};
use utf8::Utf8Validator;

/// Which end of the connection this engine is: it decides masking (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection: sends unmasked frames, requires masked ones.
    Server,
    /// Opened the connection: sends masked frames, requires unmasked ones.
    Client,
}

/// Limits and delivery options of one WebSocket connection.
#[derive(Clone, Debug)]
pub struct WsConfig {
    /// Largest message, reassembled and after decompression; a bigger one fails with close 1009.
    /// Default 16 MiB (DESIGN §5). Applies to streamed fragments too (their sum per message).
    pub max_message: usize,
    /// Largest payload of one frame as declared in its header; a bigger one fails with close 1009 before
    /// its payload is read. Default 16 MiB, like `max_message`.
    pub max_frame: usize,
    /// `false` (default): deliver whole messages as [`WsEvent::Message`]. `true`: deliver each data frame
    /// when it is complete as [`WsEvent::Fragment`], so the engine buffers at most one frame.
    pub stream_fragments: bool,
    /// Check that text messages and close reasons are UTF-8 (close 1007 otherwise). Default true.
    pub validate_utf8: bool,
    /// After a Close is sent (or received and answered), how long to wait for the exchange to finish before
    /// considering the connection closed anyway. Default 5 s.
    pub close_timeout: Duration,
}

/// Default [`WsConfig::max_message`]: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Messages of at most this many bytes are sent uncompressed by codecs that keep the default
/// [`MessageCodec::should_compress`]: deflate cannot make them meaningfully smaller and the codec call would
/// cost more than it saves.
pub const COMPRESS_THRESHOLD: usize = 16;

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message: DEFAULT_MAX_MESSAGE,
            max_frame: DEFAULT_MAX_MESSAGE,
            stream_fragments: false,
            validate_utf8: true,
            close_timeout: Duration::from_secs(5),
        }
    }
}

impl WsConfig {
    /// Sets [`WsConfig::max_message`], and lowers [`WsConfig::max_frame`] to it if it was larger.
    pub fn max_message(mut self, n: usize) -> Self {
        self.max_message = n;
        self.max_frame = self.max_frame.min(n);
        self
    }

    /// Sets [`WsConfig::max_frame`].
    pub fn max_frame(mut self, n: usize) -> Self {
        self.max_frame = n;
        self
    }

    /// Sets [`WsConfig::stream_fragments`].
    pub fn stream_fragments(mut self, on: bool) -> Self {
        self.stream_fragments = on;
        self
    }

    /// Sets [`WsConfig::validate_utf8`].
    pub fn validate_utf8(mut self, on: bool) -> Self {
        self.validate_utf8 = on;
        self
    }

    /// Sets [`WsConfig::close_timeout`].
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.close_timeout = d;
        self
    }
}

/// The type of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// UTF-8 text (checked unless [`WsConfig::validate_utf8`] is off).
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl MessageKind {
    fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// Something the engine learned from the peer, in arrival order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// A whole data message ([`WsConfig::stream_fragments`] off), decompressed if it was compressed.
    Message {
        /// Text or binary.
        kind: MessageKind,
        /// The payload; for text, valid UTF-8 when validation is on.
        data: Bytes,
    },
    /// One data frame of a message ([`WsConfig::stream_fragments`] on). Text may be split inside a code
    /// point; the message as a whole is checked incrementally.
    Fragment {
        /// Text or binary (the kind of the message's first frame).
        kind: MessageKind,
        /// This frame's payload, decompressed.
        data: Bytes,
        /// The first frame of its message.
        first: bool,
        /// The last frame of its message.
        fin: bool,
    },
    /// A Ping from the peer; the engine answers it with a Pong by itself.
    Ping(Bytes),
    /// A Pong from the peer (an answer to our Ping, or an unsolicited heartbeat).
    Pong(Bytes),
    /// The peer's Close frame. If we had not sent a Close yet, the engine answered with the same code (or an
    /// empty Close when this one had none).
    Close {
        /// The peer's close code; `None` when its Close had no body (reported as 1005 by convention).
        code: Option<u16>,
        /// The peer's reason, possibly empty.
        reason: String,
    },
    /// The connection failed: a protocol violation by the peer (our Close with [`WsError::close_code`] is
    /// queued), a local codec failure, or a transport closed without a closing handshake. Reported once.
    Error(WsError),
}

/// Where the closing handshake stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsState {
    /// Data flows both ways.
    Open,
    /// We sent a Close (or failed the connection) and wait for the peer's Close or for our output to drain.
    Closing,
    /// The peer sent a Close; our answer is queued but not yet taken by [`WsConn::poll_transmit`].
    CloseReceived,
    /// Nothing more will be sent or received: the runtime closes the socket.
    Closed,
}

/// A per-message compression extension (permessage-deflate implements it in [`pmd`]).
///
/// The engine calls it only for messages whose first frame has RSV1 set (incoming), and for whole messages
/// sent with [`WsConn::send_message`] that [`MessageCodec::should_compress`] accepts (outgoing). Fragments sent with
/// [`WsConn::send_fragment`] are sent uncompressed.
pub trait MessageCodec {
    /// Whether an outgoing message of `len` bytes is worth compressing; one that is not goes as it is (no
    /// RSV1), which RFC 7692 §6 allows message by message. Default: longer than [`COMPRESS_THRESHOLD`].
    fn should_compress(&self, len: usize) -> bool {
        len > COMPRESS_THRESHOLD
    }

    /// Compress one whole outgoing message payload into `out` (the trailing 00 00 ff ff already removed).
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WsError>;

    /// Decompress part of an incoming compressed message, appending to `out`; `fin` marks the last part (the
    /// codec appends the 00 00 ff ff tail itself). Must fail with [`WsError::MessageTooBig`] rather than let
    /// `out.len()` grow beyond `limit` bytes. The engine passes the message's output so far with the message
    /// limit (or, when streaming fragments, a fresh buffer per frame with the limit left for the message),
    /// feeds input as it arrives (possibly in small pieces, possibly empty with `fin`), and calls with
    /// `fin = true` exactly once per message.
    fn decompress(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), WsError>;
}

/// The negotiated per-message extension and its scratch buffers, boxed: most connections have none.
struct Extension {
    codec: Box<dyn MessageCodec + Send>,
    /// Unmasked compressed input on its way to the codec.
    inflate_in: Vec<u8>,
    /// Compressed output on its way into a frame.
    deflate_out: Vec<u8>,
}

/// Where masking keys come from (client role).
type MaskSource = Box<dyn FnMut() -> [u8; 4] + Send>;

/// What the reader is doing with the next input bytes.
#[derive(Debug, Clone, Copy)]
enum Reading {
    /// Collecting a frame header.
    Header,
    /// Inside a frame's payload.
    Payload(Frame),
    /// No more input is processed: the peer's Close arrived, or the connection failed or ended.
    Done,
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes already read (the masking key phase).
    offset: usize,
}

/// A data message whose first frame has arrived and whose last has not.
#[derive(Debug)]
struct Incoming {
    kind: MessageKind,
    compressed: bool,
    /// The message so far, or when streaming, the current frame's (decompressed) payload.
    buf: Vec<u8>,
    /// Bytes already delivered as fragments (streaming).
    delivered: usize,
    /// A fragment of this message has been delivered (streaming).
    started: bool,
}

impl Incoming {
    fn size(&self) -> usize {
        self.delivered + self.buf.len()
    }
}

/// What [`WsConn::handle_input_in_place`] did with its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InPlace {
    /// How many bytes of the input were used; the rest is to be passed again.
    pub consumed: usize,
    /// A whole message, unmasked and validated where it lies: its kind and its payload's range in the input.
    pub message: Option<(MessageKind, std::ops::Range<usize>)>,
}

/// One WebSocket connection's protocol state, either role, without any IO.
///
/// Like every lws-proto engine it has four groups of methods: getters (`state`, `is_closed`,
/// `pending_transmit`, `error`, `role`); input (`handle_input`, `handle_eof`, `handle_timeout`, each taking
/// `now`); commands from the application (`send_message`, `send_fragment`, `send_ping`, `close`); and outputs
/// drained in this order: `poll_event`, `poll_transmit`, `poll_timeout`.
pub struct WsConn {
    role: Role,
    cfg: WsConfig,
    /// The latest time the runtime passed in; `close` has no `now` of its own.
    now: Instant,
    reading: Reading,
    /// A frame header split across reads.
    hdr: [u8; MAX_HEADER],
    hdr_len: u8,
    incoming: Option<Incoming>,
    /// The payload of the control frame being read (<= 125 bytes).
    ctrl: Vec<u8>,
    utf8: Utf8Validator,
    tx: Vec<u8>,
    /// A message sent with `send_fragment` is open.
    sending_fragmented: bool,
    /// Made on the first masked frame: a server never needs one.
    mask_source: Option<MaskSource>,
    ext: Option<Box<Extension>>,
    events: Events,
    close_sent: bool,
    close_received: bool,
    /// No more exchange will happen: failed, timed out, or the transport ended.
    finished: bool,
    close_deadline: Option<Instant>,
    error: Option<WsError>,
}

impl fmt::Debug for WsConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConn")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("reading", &self.reading)
            .field("pending_transmit", &self.pending_transmit())
            .field("extension", &self.ext.is_some())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl WsConn {
    /// A connection whose opening handshake completed at `now`.
    pub fn new(role: Role, config: WsConfig, now: Instant) -> Self {
        WsConn {
            role,
            cfg: config,
            now,
            reading: Reading::Header,
            hdr: [0; MAX_HEADER],
            hdr_len: 0,
            incoming: None,
            ctrl: Vec::new(),
            utf8: Utf8Validator::new(),
            tx: Vec::new(),
            sending_fragmented: false,
            mask_source: None,
            ext: None,
            events: Events::default(),
            close_sent: false,
            close_received: false,
            finished: false,
            close_deadline: None,
            error: None,
        }
    }

    /// Client role only: where masking keys come from (the runtime passes a CSPRNG-backed source). Without
    /// one, keys come from the operating system's random generator through `ring`.
    pub fn set_mask_source(&mut self, f: Box<dyn FnMut() -> [u8; 4] + Send>) {
        self.mask_source = Some(f);
    }

    /// Installs the negotiated per-message compression codec; call once, right after the handshake. It makes
    /// RSV1 legal on the first frame of incoming messages.
    pub fn set_extension(&mut self, ext: Box<dyn MessageCodec + Send>) {
        self.ext = Some(Box::new(Extension {
            codec: ext,
            inflate_in: Vec::new(),
            deflate_out: Vec::new(),
        }));
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> WsState {
        let drained = self.tx.is_empty();
        if (self.finished || (self.close_sent && self.close_received)) && drained {
            WsState::Closed
        } else if self.close_received {
            WsState::CloseReceived
        } else if self.close_sent || self.finished {
            WsState::Closing
        } else {
            WsState::Open
        }
    }

    /// Whether the connection is over and its output drained: the runtime writes out what it already took
    /// from [`WsConn::poll_transmit`] and closes the socket.
    pub fn is_closed(&self) -> bool {
        self.state() == WsState::Closed
    }

    /// Bytes waiting to be taken by [`WsConn::poll_transmit`]: the runtime stops reading (and stops asking
    /// the application for more data) while this plus its own unsent bytes is above its high-water mark.
    pub fn pending_transmit(&self) -> usize {
        self.tx.len()
    }

    /// The sticky error, if the connection failed.
    pub fn error(&self) -> Option<WsError> {
        self.error
    }

    /// Feeds bytes received from the peer. Input after the peer's Close, or after a failure, is ignored.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.now = now;
        let mut data = data;
        loop {
            match self.step(&mut data) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
        }
    }

    /// [`WsConn::handle_input`] that hands over the first whole message found in `data` without copying it,
    /// when that message is a single uncompressed frame lying entirely inside `data` (the common case for
    /// small and medium messages): its payload is unmasked and checked in place, and
    /// [`InPlace::message`] says where it is. Input up to the end of that frame is consumed
    /// ([`InPlace::consumed`]); call again with the rest. Events from input before the message are queued as
    /// usual and come first: drain [`WsConn::poll_event`] before using the message. Anything else (fragments,
    /// control frames, compressed messages, frames split across reads) goes the usual way through events.
    pub fn handle_input_in_place(&mut self, now: Instant, data: &mut [u8]) -> InPlace {
        self.now = now;
        let mut pos = 0;
        loop {
            match self.message_in_place(&mut data[pos..]) {
                // The payload ends the frame, so the input is used up to the payload's end.
                Ok(Some((kind, range))) => {
                    return InPlace {
                        consumed: pos + range.end,
                        message: Some((kind, pos + range.start..pos + range.end)),
                    };
                }
                Ok(None) => {}
                Err(e) => {
                    self.fail(e);
                    break;
                }
            }
            let mut rest: &[u8] = &data[pos..];
            let progressed = self.step(&mut rest);
            pos = data.len() - rest.len();
            match progressed {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.fail(e);
                    break;
                }
            }
        }
        InPlace {
            consumed: data.len(),
            message: None,
        }
    }

    /// The fast path of [`WsConn::handle_input_in_place`]: a whole single-frame message at the start of
    /// `data`, as its kind and payload range. `None` when the input is anything else; the checks of the usual
    /// path (`start_frame`) apply to the frame either way.
    fn message_in_place(
        &mut self,
        data: &mut [u8],
    ) -> Result<Option<(MessageKind, std::ops::Range<usize>)>, WsError> {
        if !matches!(self.reading, Reading::Header) || self.hdr_len != 0 || self.incoming.is_some()
        {
            return Ok(None);
        }
        let Some((header, size)) = FrameHeader::decode(data)? else {
            return Ok(None);
        };
        let whole = header.fin
            && !header.rsv1
            && matches!(header.opcode, OpCode::Text | OpCode::Binary)
            && header.len <= (data.len() - size) as u64;
        if !whole {
            return Ok(None);
        }
        self.start_frame(header)?;
        let end = size + header.len as usize;
        let payload = &mut data[size..end];
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        let kind = if header.opcode == OpCode::Text {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        if kind == MessageKind::Text
            && self.cfg.validate_utf8
            && std::str::from_utf8(payload).is_err()
        {
            return Err(WsError::InvalidUtf8);
        }
        self.incoming = None;
        self.reading = Reading::Header;
        Ok(Some((kind, size..end)))
    }

    /// The peer closed its sending side. Without a Close from it first, this is reported as
    /// [`WsError::ConnectionLost`] (close code 1006, never sent).
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.finished {
            return;
        }
        self.reading = Reading::Done;
        self.incoming = None;
        if !self.close_received && self.error.is_none() {
            self.error = Some(WsError::ConnectionLost);
            self.events
                .push_back(WsEvent::Error(WsError::ConnectionLost));
        }
        self.finished = true;
    }

    /// Applies the close timeout if it expired at `now`: the connection is then closed, and output not yet
    /// taken is dropped (a peer that neither answers nor reads gets nothing more).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now >= deadline {
            self.finished = true;
            self.reading = Reading::Done;
            self.tx.clear();
        }
    }

    /// Sends a whole message as one frame, compressed when an extension is active and its
    /// [`MessageCodec::should_compress`] accepts the length (RSV1 marks it). Ignored after a Close was sent or received, and while a
    /// message sent with [`WsConn::send_fragment`] is still open (its frames cannot be interleaved).
    pub fn send_message(&mut self, kind: MessageKind, payload: &[u8]) {
        if !self.can_send() || self.sending_fragmented {
            return;
        }
        let mask = self.next_mask();
        let opcode = kind.opcode();
        let Some(ext) = self
            .ext
            .as_deref_mut()
            .filter(|ext| ext.codec.should_compress(payload.len()))
        else {
            write_frame(&mut self.tx, mask, opcode, true, false, payload);
            return;
        };
        let out = &mut ext.deflate_out;
        out.clear();
        let result = ext.codec.compress(payload, out);
        if result.is_ok() {
            write_frame(&mut self.tx, mask, opcode, true, true, out);
        }
        // Keep the scratch buffer for the next message unless one huge message inflated it.
        if out.capacity() > 1024 * 1024 {
            *out = Vec::new();
        }
        if let Err(e) = result {
            self.fail(e);
        }
    }

    /// [`WsConn::send_message`] that offers the frame to `write` (header, then payload) when nothing is
    /// queued ahead of it, so that a server can hand an uncompressed message to its socket without copying it
    /// into the send queue first. `write` returns how many bytes it took, from the start of the header; the
    /// rest is queued as usual. A client (it masks), a message the extension compresses, or output already
    /// queued make this plain `send_message`, without calling `write`.
    pub fn send_message_direct(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        write: impl FnOnce(&[u8], &[u8]) -> usize,
    ) {
        let compress = self
            .ext
            .as_deref()
            .is_some_and(|ext| ext.codec.should_compress(payload.len()));
        let direct = self.role == Role::Server
            && self.tx.is_empty()
            && !compress
            && self.can_send()
            && !self.sending_fragmented;
        if !direct {
            return self.send_message(kind, payload);
        }
        let (head, n) = frame_head(None, kind.opcode(), true, false, payload.len());
        let written = write(&head[..n], payload).min(n + payload.len());
        if written < n {
            self.tx.extend_from_slice(&head[written..n]);
            self.tx.extend_from_slice(payload);
        } else {
            self.tx.extend_from_slice(&payload[written - n..]);
        }
    }

    /// Sends one frame of a message produced piece by piece: `first` starts the message (as `kind`), `fin`
    /// ends it. Fragments are never compressed. Ignored after a Close was sent or received, and when it would
    /// break the fragment sequence (`first` while a message is open, or a continuation with none open).
    pub fn send_fragment(&mut self, kind: MessageKind, payload: &[u8], first: bool, fin: bool) {
        if !self.can_send() || first == self.sending_fragmented {
            return;
        }
        let opcode = if first {
            kind.opcode()
        } else {
            OpCode::Continuation
        };
        let mask = self.next_mask();
        write_frame(&mut self.tx, mask, opcode, fin, false, payload);
        self.sending_fragmented = !fin;
    }

    /// Sends a Ping (at most 125 bytes of payload, else [`WsError::ControlTooLong`] and nothing is sent).
    /// Ignored after a Close was sent or received.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(WsError::ControlTooLong);
        }
        if self.can_send() {
            let mask = self.next_mask();
            write_frame(&mut self.tx, mask, OpCode::Ping, true, false, payload);
        }
        Ok(())
    }

    /// Starts the closing handshake with `code` and `reason` (cut at a character boundary to 123 bytes). A
    /// code that may not be sent (see [`close::is_valid`], e.g. 1005) gives a Close without a body. Ignored
    /// when a Close was already sent or received. The close timeout counts from the latest `now` the engine
    /// was given.
    pub fn close(&mut self, code: u16, reason: &str) {
        if !self.can_send() {
            return;
        }
        self.queue_close(Some(code), reason);
    }

    /// Next event for the application.
    pub fn poll_event(&mut self) -> Option<WsEvent> {
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

    /// The instant at which [`WsConn::handle_timeout`] must be called next: the close timeout, once a Close
    /// was sent or received or the connection failed, until it is closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state() == WsState::Closed {
            return None;
        }
        self.close_deadline
    }

    fn can_send(&self) -> bool {
        !(self.close_sent || self.close_received || self.finished)
    }

    fn next_mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => Some(self.mask_source.get_or_insert_with(default_mask_source)()),
            Role::Server => None,
        }
    }

    fn queue_close(&mut self, code: Option<u16>, reason: &str) {
        let mut body = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
        close::encode(code, reason, &mut body);
        let mask = self.next_mask();
        write_frame(&mut self.tx, mask, OpCode::Close, true, false, &body);
        self.close_sent = true;
        self.close_deadline = Some(self.now + self.cfg.close_timeout);
    }

    /// Fails the connection (RFC 6455 §7.1.7): reports `e` once, sends our Close unless one was already
    /// exchanged, and processes no more input.
    fn fail(&mut self, e: WsError) {
        if self.error.is_some() || self.finished {
            return;
        }
        self.error = Some(e);
        self.events.push_back(WsEvent::Error(e));
        self.reading = Reading::Done;
        self.incoming = None;
        if self.can_send() {
            self.queue_close(Some(e.close_code()), "");
        }
        self.finished = true;
        if self.close_deadline.is_none() {
            self.close_deadline = Some(self.now + self.cfg.close_timeout);
        }
    }

    /// Consumes as much of `data` as one step allows; `Ok(false)` when it needs more input or is done.
    fn step(&mut self, data: &mut &[u8]) -> Result<bool, WsError> {
        match &mut self.reading {
            Reading::Done => Ok(false),
            Reading::Header => {
                if data.is_empty() {
                    return Ok(false);
                }
                let old = usize::from(self.hdr_len);
                let take = (MAX_HEADER - old).min(data.len());
                self.hdr[old..old + take].copy_from_slice(&data[..take]);
                // At most MAX_HEADER (14) bytes are ever held.
                self.hdr_len += take as u8;
                match FrameHeader::decode(&self.hdr[..usize::from(self.hdr_len)])? {
                    // Any 14 bytes hold a whole header, so `take > 0` here and the loop progresses.
                    None => {
                        *data = &data[take..];
                        Ok(take > 0)
                    }
                    Some((header, size)) => {
                        *data = &data[size - old..];
                        self.hdr_len = 0;
                        self.start_frame(header)?;
                        Ok(true)
                    }
                }
            }
            Reading::Payload(frame) => {
                if frame.remaining == 0 {
                    let frame = *frame;
                    self.reading = Reading::Header;
                    self.end_frame(frame)?;
                    return Ok(true);
                }
                if data.is_empty() {
                    return Ok(false);
                }
                let n = frame.remaining.min(data.len() as u64) as usize;
                let (chunk, rest) = data.split_at(n);
                *data = rest;
                frame.remaining -= n as u64;
                let f = *frame;
                frame.offset += n;
                self.payload(f, chunk)?;
                Ok(true)
            }
        }
    }

    /// Checks a new frame header against the connection's state and starts reading its payload.
    fn start_frame(&mut self, h: FrameHeader) -> Result<(), WsError> {
        if h.rsv2 || h.rsv3 {
            return Err(WsError::ReservedBits);
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(WsError::UnmaskedFrame),
            (Role::Client, true) => return Err(WsError::MaskedFrame),
            _ => {}
        }
        let too_big = |size: usize, cfg: &WsConfig| -> Result<(), WsError> {
            if h.len > cfg.max_frame as u64 {
                return Err(WsError::FrameTooBig);
            }
            if (size as u64).saturating_add(h.len) > cfg.max_message as u64 {
                return Err(WsError::MessageTooBig);
            }
            Ok(())
        };
        match h.opcode {
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                if h.rsv1 {
                    return Err(WsError::ReservedBits);
                }
                self.ctrl.clear();
            }
            OpCode::Continuation => {
                if h.rsv1 {
                    return Err(WsError::ReservedBits);
                }
                let inc = self
                    .incoming
                    .as_ref()
                    .ok_or(WsError::UnexpectedContinuation)?;
                // Compressed input is not buffered: only its decompressed output counts against the message.
                let size = if inc.compressed { 0 } else { inc.size() };
                too_big(size, &self.cfg)?;
            }
            OpCode::Text | OpCode::Binary => {
                if self.incoming.is_some() {
                    return Err(WsError::ExpectedContinuation);
                }
                if h.rsv1 && self.ext.is_none() {
                    return Err(WsError::ReservedBits);
                }
                too_big(0, &self.cfg)?;
                let kind = if h.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.utf8.reset();
                self.incoming = Some(Incoming {
                    kind,
                    compressed: h.rsv1,
                    buf: Vec::new(),
                    delivered: 0,
                    started: false,
                });
            }
        }
        self.reading = Reading::Payload(Frame {
            opcode: h.opcode,
            fin: h.fin,
            mask: h.mask,
            remaining: h.len,
            offset: 0,
        });
        Ok(())
    }

    /// Takes the next piece of the current frame's payload.
    fn payload(&mut self, f: Frame, chunk: &[u8]) -> Result<(), WsError> {
        if f.opcode.is_control() {
            let start = self.ctrl.len();
            self.ctrl.extend_from_slice(chunk);
            if let Some(key) = f.mask {
                apply_mask(&mut self.ctrl[start..], key, f.offset);
            }
            return Ok(());
        }
        let Some(inc) = self.incoming.as_mut() else {
            return Ok(());
        };
        let start = inc.buf.len();
        if inc.compressed {
            // RSV1 is only accepted with an extension installed, so a compressed message always has one.
            let ext = self.ext.as_deref_mut().ok_or(WsError::ReservedBits)?;
            let input = &mut ext.inflate_in;
            input.clear();
            input.extend_from_slice(chunk);
            if let Some(key) = f.mask {
                apply_mask(input, key, f.offset);
            }
            inflate(&mut *ext.codec, inc, input, false, self.cfg.max_message)?;
            // Do not keep a large input scratch around between frames.
            if input.capacity() > 64 * 1024 {
                *input = Vec::new();
            }
        } else {
            // Grows with what actually arrived, not with what the header announced.
            inc.buf.extend_from_slice(chunk);
            if let Some(key) = f.mask {
                apply_mask(&mut inc.buf[start..], key, f.offset);
            }
        }
        if inc.kind == MessageKind::Text && self.cfg.validate_utf8 {
            self.utf8.feed(&inc.buf[start..])?;
        }
        Ok(())
    }

    /// Acts on a frame whose payload is complete.
    fn end_frame(&mut self, f: Frame) -> Result<(), WsError> {
        match f.opcode {
            OpCode::Ping => {
                let payload = Bytes::copy_from_slice(&self.ctrl);
                // Every Ping is answered at once, in arrival order, ahead of anything the application
                // sends in reaction to frames that came after it. A flood cannot grow this without bound:
                // the runtime stops reading while output is backed up.
                if self.can_send() {
                    let mask = self.next_mask();
                    write_frame(&mut self.tx, mask, OpCode::Pong, true, false, &payload);
                }
                self.events.push_back(WsEvent::Ping(payload));
            }
            OpCode::Pong => {
                let payload = Bytes::copy_from_slice(&self.ctrl);
                self.events.push_back(WsEvent::Pong(payload));
            }
            OpCode::Close => {
                let (code, reason) = close::decode(&self.ctrl, self.cfg.validate_utf8)?;
                self.close_received = true;
                self.reading = Reading::Done;
                self.incoming = None;
                self.events.push_back(WsEvent::Close { code, reason });
                if self.close_sent {
                    return Ok(());
                }
                // Answer with the same code and no reason; the close timeout bounds how long the answer may
                // wait for the runtime to write it.
                self.queue_close(code, "");
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => self.end_data_frame(f)?,
        }
        Ok(())
    }

    fn end_data_frame(&mut self, f: Frame) -> Result<(), WsError> {
        let Some(inc) = self.incoming.as_mut() else {
            return Ok(());
        };
        if f.fin && inc.compressed {
            let start = inc.buf.len();
            let ext = self.ext.as_deref_mut().ok_or(WsError::ReservedBits)?;
            inflate(&mut *ext.codec, inc, &[], true, self.cfg.max_message)?;
            if inc.kind == MessageKind::Text && self.cfg.validate_utf8 {
                self.utf8.feed(&inc.buf[start..])?;
            }
        }
        if f.fin && inc.kind == MessageKind::Text && self.cfg.validate_utf8 {
            self.utf8.finish()?;
        }
        if self.cfg.stream_fragments {
            let data = Bytes::from(std::mem::take(&mut inc.buf));
            inc.delivered += data.len();
            self.events.push_back(WsEvent::Fragment {
                kind: inc.kind,
                data,
                first: !inc.started,
                fin: f.fin,
            });
            inc.started = true;
        } else if f.fin {
            let data = Bytes::from(std::mem::take(&mut inc.buf));
            self.events.push_back(WsEvent::Message {
                kind: inc.kind,
                data,
            });
        }
        if f.fin {
            self.incoming = None;
        }
        Ok(())
    }
}

/// Runs decompressed input through the codec into the message, enforcing the message limit.
fn inflate(
    codec: &mut (dyn MessageCodec + Send + '_),
    inc: &mut Incoming,
    input: &[u8],
    fin: bool,
    max_message: usize,
) -> Result<(), WsError> {
    let limit = max_message.saturating_sub(inc.delivered);
    codec.decompress(input, fin, &mut inc.buf, limit)?;
    if inc.buf.len() > limit {
        return Err(WsError::MessageTooBig);
    }
    Ok(())
}

/// Events waiting for the application, in arrival order. Input almost always yields at most one event before
/// it is drained, so the first waits in place and only a backlog takes a heap queue: an idle connection then
/// keeps no queue allocation.
#[derive(Debug, Default)]
struct Events {
    first: Option<WsEvent>,
    rest: VecDeque<WsEvent>,
}

impl Events {
    fn push_back(&mut self, ev: WsEvent) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(ev);
        } else {
            self.rest.push_back(ev);
        }
    }

    fn pop_front(&mut self) -> Option<WsEvent> {
        if let Some(ev) = self.first.take() {
            return Some(ev);
        }
        let ev = self.rest.pop_front();
        if self.rest.is_empty() && self.rest.capacity() > 0 {
            // A burst is over: do not keep its queue for the idle time that follows.
            self.rest = VecDeque::new();
        }
        ev
    }
}

/// The header of a frame we send (RSV2/RSV3 are never set), encoded on the stack: the bytes and their count.
fn frame_head(
    mask: Option<[u8; 4]>,
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    len: usize,
) -> ([u8; MAX_HEADER], usize) {
    let header = FrameHeader {
        fin,
        rsv1,
        rsv2: false,
        rsv3: false,
        opcode,
        mask,
        len: len as u64,
    };
    let mut head = [0u8; MAX_HEADER];
    let n = header.encode(&mut head);
    (head, n)
}

/// Appends one frame to `tx`: header built on the stack, payload copied and masked in place.
fn write_frame(
    tx: &mut Vec<u8>,
    mask: Option<[u8; 4]>,
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    payload: &[u8],
) {
    let (head, n) = frame_head(mask, opcode, fin, rsv1, payload.len());
    tx.reserve(n + payload.len());
    tx.extend_from_slice(&head[..n]);
    let start = tx.len();
    tx.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut tx[start..], key, 0);
    }
}

/// Masking keys from the operating system's CSPRNG (through `ring`), fetched 64 at a time.
fn default_mask_source() -> MaskSource {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    let mut pool = [0u8; 256];
    let mut pos = pool.len();
    let mut counter = 0u64;
    Box::new(move || {
        if pos == pool.len() {
            if rng.fill(&mut pool).is_err() {
                // The OS generator failing is not something a peer can cause; degrade to a mixed counter
                // rather than panic (masking then only loses its unpredictability, not correctness).
                counter = counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = counter;
                for chunk in pool.chunks_exact_mut(8) {
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
                }
            }
            pos = 0;
        }
        let key = [pool[pos], pool[pos + 1], pool[pos + 2], pool[pos + 3]];
        pos += 4;
        key
    })
}

#[cfg(test)]
mod tests;
