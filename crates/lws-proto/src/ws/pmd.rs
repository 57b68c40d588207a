//! permessage-deflate (RFC 7692): extension negotiation and the per-message codec.
//!
//! Negotiation is three pure functions over header values: [`server_negotiate`] picks the first acceptable
//! offer from a client's `Sec-WebSocket-Extensions` headers, [`client_offer`] writes a client's offer and
//! [`client_accept`] checks the server's answer against it. Both ends then build a [`PermessageDeflate`] from
//! the negotiated [`PmdParams`] and hand it to the WebSocket engine as its [`MessageCodec`].
//!
//! Two limits of zlib shape the negotiation:
//! - zlib cannot compress with an 8-bit window (it silently uses 9), so we never agree to compress with 8:
//!   a server declines an offer asking `server_max_window_bits=8`, and a client fails a response imposing
//!   `client_max_window_bits=8`. We do decode data from peers that compress with 8.
//! - The inflater always runs with a 15-bit window. A larger window decodes everything a smaller one does,
//!   zlib-rs allocates the full 32 KiB window whatever the size asked for, and a 15-bit inflater resets
//!   without reallocating, which lets one per thread serve every connection.
//!
//! Memory: a connection owns no zlib state. It keeps the peer's window as plain bytes; compressors and
//! inflaters that keep a connection's context come from a bounded [`ContextPool`], and past its limit
//! messages are compressed from an empty window and inflated by a per-thread inflater primed with the
//! peer's window (see the `state` module for why and what it costs).
//!
//! Inflating is bounded: output grows in steps that never pass the caller's limit by more than one byte, so
//! a deflate bomb fails with [`WsError::MessageTooBig`] after at most `limit + 1` bytes of output, and `out`
//! never holds more than `limit` bytes when the call returns.

use std::borrow::Cow;
use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::{MessageCodec, WsError};

mod state;

use state::PoolStates;
use state::{Checkout, DeflateKey, History};
pub use state::{ContextPool, DEFAULT_POOL_LIMIT};

/// The extension token, compared case-insensitively.
const EXTENSION_NAME: &str = "permessage-deflate";
/// The empty stored block a sync flush ends with; removed by the sender, appended by the receiver
/// (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// The default and largest LZ77 window (32 KiB).
const MAX_WINDOW_BITS: u8 = 15;
/// The smallest window RFC 7692 allows a peer to ask for.
const MIN_WINDOW_BITS: u8 = 8;
/// The smallest window zlib compresses with.
const MIN_DEFLATE_WINDOW_BITS: u8 = 9;
/// Largest inflate output step; keeps the zero-filled scratch area at the end of `out` small.
const MAX_INFLATE_STEP: usize = 64 * 1024;
/// Smallest inflate output step, so tiny inputs still make progress in few calls.
const MIN_INFLATE_STEP: usize = 1024;
/// Smallest deflate output reservation.
const MIN_DEFLATE_STEP: usize = 256;

/// The parameters both ends agreed on, from one role-neutral point of view: `server_*` describe the data
/// the server compresses (and the client inflates), `client_*` the data the client compresses.
///
/// Why a plain value: it is produced by negotiation on either side and consumed by [`PermessageDeflate::new`],
/// and tests compare it directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmdParams {
    /// The server resets its compressor after each message (RFC 7692 §7.1.1.1).
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message (RFC 7692 §7.1.1.2).
    pub client_no_context_takeover: bool,
    /// Base-2 logarithm of the server's LZ77 window, 8..=15 (RFC 7692 §7.1.2.1); 15 when not negotiated.
    pub server_max_window_bits: u8,
    /// Base-2 logarithm of the client's LZ77 window, 8..=15 (RFC 7692 §7.1.2.2); 15 when not negotiated.
    pub client_max_window_bits: u8,
}

impl Default for PmdParams {
    /// What an offer and response without parameters agree on: context takeover both ways, 32 KiB windows.
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

/// What a server is willing to accept, or what a client offers, plus local codec settings.
///
/// The same struct serves both roles so that one vhost or client option set configures the extension.
/// On a server the fields are what it imposes on top of the client's offer; on a client they are what it
/// asks for. Window sizes outside the usable range are clamped to 9..=15 (zlib has no 8-bit window), except
/// the `server_max_window_bits` a client asks for, which may be 8 (our inflater decodes any window).
#[derive(Debug, Clone)]
pub struct PmdConfig {
    /// Server: always reset our compressor per message (costs ratio; our connections then never take a
    /// compressor from the [`pool`](Self::pool)). Client: ask the server to reset its compressor per message.
    pub server_no_context_takeover: bool,
    /// Server: require the client to reset its compressor per message, so that we keep neither its window nor
    /// an inflater per connection. Client: announce that we reset ours.
    pub client_no_context_takeover: bool,
    /// Server: largest window our compressor uses. Client: largest window we ask the server to use.
    pub server_max_window_bits: u8,
    /// Server: largest window we let the client use, when it says it can limit it. Client: largest window
    /// we will compress with.
    pub client_max_window_bits: u8,
    /// zlib compression level 0..=9 for our compressor. Default 1: on text it gets most of level 6's ratio
    /// at several times the speed, and an echo server compresses every message it sends (libwebsockets
    /// also defaults to 1).
    pub level: u32,
    /// Messages shorter than this are sent uncompressed (see [`PermessageDeflate::should_compress`]):
    /// below it the deflate block overhead and the CPU cost outweigh any saving. Default 16 bytes.
    pub min_size: usize,
    /// Where connections keep their compressor and inflater between messages; default
    /// [`DEFAULT_POOL_LIMIT`] of each per thread ([`ContextPool::default`]). With a pool of limit 0 every
    /// message is compressed on its own and inflated by a per-thread inflater.
    pub pool: ContextPool,
}

impl Default for PmdConfig {
    /// Context takeover both ways, 32 KiB windows, level 1, compress messages of 16 bytes or more, the
    /// default per-thread compressor pools.
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
            level: 1,
            min_size: 16,
            pool: ContextPool::default(),
        }
    }
}

/// Server: pick the first acceptable permessage-deflate offer among the client's `Sec-WebSocket-Extensions`
/// header values, in order (several headers, each a comma-separated list).
///
/// An offer is declined, and the next one tried, when it has an unknown or duplicated parameter, a value on
/// a `*_no_context_takeover`, a missing or out-of-range `server_max_window_bits`, an out-of-range
/// `client_max_window_bits`, bad syntax, or asks `server_max_window_bits=8` (zlib cannot compress with an
/// 8-bit window and the answer may not exceed the request). Offers of other extensions are skipped.
///
/// Returns the negotiated parameters and the value for the response's `Sec-WebSocket-Extensions` header,
/// or `None` when nothing is acceptable: the server then continues without compression.
pub fn server_negotiate(offers: &[&str], config: &PmdConfig) -> Option<(PmdParams, String)> {
    offers
        .iter()
        .flat_map(|header| split_top_level(header, b','))
        .filter_map(parse_element)
        .filter(|element| element.name.eq_ignore_ascii_case(EXTENSION_NAME))
        .find_map(|element| accept_offer(&element.params, config))
}

/// Client: the `Sec-WebSocket-Extensions` value offering permessage-deflate as `config` asks.
///
/// Always includes `client_max_window_bits` so that a server may size our window; window sizes are only
/// written when below 15.
pub fn client_offer(config: &PmdConfig) -> String {
    let mut offer = String::from(EXTENSION_NAME);
    if config.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    let server_bits = peer_window(config.server_max_window_bits);
    if server_bits < MAX_WINDOW_BITS {
        offer.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    let client_bits = own_window(config.client_max_window_bits);
    if client_bits < MAX_WINDOW_BITS {
        offer.push_str(&format!("; client_max_window_bits={client_bits}"));
    } else {
        offer.push_str("; client_max_window_bits");
    }
    offer
}

/// Client: check the server's `Sec-WebSocket-Extensions` value against what [`client_offer`] sent for
/// `offered`, and return the parameters to build the codec with.
///
/// The server may add `*_no_context_takeover` and a `server_max_window_bits` of its choosing, but not
/// parameters we did not allow nor larger windows than we asked (RFC 7692 §7.1). Any error means the client
/// must fail the WebSocket connection (RFC 6455 §4.1).
pub fn client_accept(
    response: &str,
    offered: &PmdConfig,
) -> Result<PmdParams, PmdNegotiationError> {
    let mut elements = split_top_level(response, b',').filter(|element| !element.trim().is_empty());
    let (Some(element), None) = (elements.next(), elements.next()) else {
        return Err(PmdNegotiationError::NotOneExtension);
    };
    let element = parse_element(element).ok_or(PmdNegotiationError::Malformed)?;
    if !element.name.eq_ignore_ascii_case(EXTENSION_NAME) {
        return Err(PmdNegotiationError::NotOneExtension);
    }
    let response = parse_params(&element.params)?;

    let asked_server_bits = peer_window(offered.server_max_window_bits);
    let server_max_window_bits = match response.server_max_window_bits {
        Some(bits) if bits > asked_server_bits => {
            return Err(PmdNegotiationError::ServerWindowTooLarge)
        }
        Some(bits) => bits,
        None if asked_server_bits < MAX_WINDOW_BITS => {
            return Err(PmdNegotiationError::ServerWindowNotAccepted)
        }
        None => MAX_WINDOW_BITS,
    };
    if offered.server_no_context_takeover && !response.server_no_context_takeover {
        return Err(PmdNegotiationError::ServerNoContextTakeoverNotAccepted);
    }
    let own_bits = own_window(offered.client_max_window_bits);
    let client_max_window_bits = match response.client_max_window_bits {
        // client_offer always offers client_max_window_bits, so any value up to ours is allowed.
        Some(WindowBits::Value(bits)) if bits > own_bits => {
            return Err(PmdNegotiationError::ClientWindowTooLarge)
        }
        Some(WindowBits::Value(bits)) if bits < MIN_DEFLATE_WINDOW_BITS => {
            return Err(PmdNegotiationError::ClientWindowUnsupported)
        }
        Some(WindowBits::Value(bits)) => bits,
        Some(WindowBits::Unset) => return Err(PmdNegotiationError::BadWindowBits),
        None => own_bits,
    };
    Ok(PmdParams {
        server_no_context_takeover: response.server_no_context_takeover,
        client_no_context_takeover: offered.client_no_context_takeover
            || response.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    })
}

/// Why a client rejects a server's permessage-deflate response; the client then fails the connection.
///
/// One variant per violation so that logs and tests name the rule broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PmdNegotiationError {
    /// The response is not exactly one `permessage-deflate` extension element.
    NotOneExtension,
    /// The element does not follow the `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1).
    Malformed,
    /// A parameter permessage-deflate does not define.
    UnknownParameter,
    /// The same parameter twice (RFC 7692 §7).
    DuplicateParameter,
    /// A value on `server_no_context_takeover` or `client_no_context_takeover`.
    UnexpectedValue,
    /// A window size that is missing or not an integer in 8..=15.
    BadWindowBits,
    /// `server_max_window_bits` above the value we asked for (RFC 7692 §7.1.2.1).
    ServerWindowTooLarge,
    /// We asked for `server_max_window_bits` and the server did not accept it (RFC 7692 §7.1.2.1).
    ServerWindowNotAccepted,
    /// We asked for `server_no_context_takeover` and the server did not accept it (RFC 7692 §7.1.1.1).
    ServerNoContextTakeoverNotAccepted,
    /// `client_max_window_bits` above the value we offered (RFC 7692 §7.1.2.2).
    ClientWindowTooLarge,
    /// `client_max_window_bits=8`: zlib cannot compress with an 8-bit window.
    ClientWindowUnsupported,
}

impl fmt::Display for PmdNegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotOneExtension => "response is not exactly one permessage-deflate extension",
            Self::Malformed => "malformed Sec-WebSocket-Extensions value",
            Self::UnknownParameter => "unknown permessage-deflate parameter",
            Self::DuplicateParameter => "duplicate permessage-deflate parameter",
            Self::UnexpectedValue => "value on a no_context_takeover parameter",
            Self::BadWindowBits => "window bits missing or not in 8..=15",
            Self::ServerWindowTooLarge => "server_max_window_bits larger than offered",
            Self::ServerWindowNotAccepted => "server ignored the offered server_max_window_bits",
            Self::ServerNoContextTakeoverNotAccepted => {
                "server ignored the offered server_no_context_takeover"
            }
            Self::ClientWindowTooLarge => "client_max_window_bits larger than offered",
            Self::ClientWindowUnsupported => "client_max_window_bits=8 is not supported by zlib",
        })
    }
}

impl std::error::Error for PmdNegotiationError {}

/// The permessage-deflate codec of one connection: compresses what we send and inflates what we receive,
/// taking over the LZ77 window between messages as negotiated.
///
/// It owns no zlib state (see the module notes): its compressor and inflater live in the config's
/// [`ContextPool`] while there is room, the peer's window in a buffer that grows with what the peer sent,
/// up to its window size. Nothing is allocated before the first compressed message.
pub struct PermessageDeflate {
    pool: PoolStates,
    /// This codec's id in `pool`, and the pool entries it last had.
    owner: u64,
    deflate_slot: Option<usize>,
    inflate_slot: Option<usize>,
    deflate_key: DeflateKey,
    /// Every message starts from an empty window (our `*_no_context_takeover`): no pool entry is needed.
    deflate_reset: bool,
    /// The inflater of the message being received, held only from its first part to its last.
    inflate: Option<Decompress>,
    /// `inflate` came from the pool (else from this thread's spare). Once a connection has a kept inflater,
    /// that holds the peer's window and `history` stays empty.
    inflate_kept: bool,
    /// The peer's window, when it takes over context (`None` under its `*_no_context_takeover`), while no
    /// kept inflater holds it.
    history: Option<History>,
    /// The current incoming message held a final (BFINAL) block: the rest of it is ignored and the inflater
    /// starts a new stream with the next message (RFC 7692 §7.2.3.4).
    stream_ended: bool,
    min_size: usize,
}

impl PermessageDeflate {
    /// The codec for one connection in the given role, after negotiation produced `params`; `config` gives
    /// the compression level, [`min_size`](PmdConfig::min_size) and the [`pool`](PmdConfig::pool).
    ///
    /// Our compressor's window is clamped to 9..=15: negotiation never agrees to 8 for it.
    pub fn new(params: PmdParams, is_server: bool, config: &PmdConfig) -> Self {
        let (own_bits, own_reset, peer_bits, peer_reset) = if is_server {
            (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_max_window_bits,
                params.client_no_context_takeover,
            )
        } else {
            (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_max_window_bits,
                params.server_no_context_takeover,
            )
        };
        // A zlib-based peer asked for 8 bits compresses with 9 (see the module notes), so keep at least 512
        // bytes of its window.
        let history_bits = own_window(peer_bits);
        Self {
            pool: config.pool.for_this_thread(),
            owner: ContextPool::new_owner(),
            deflate_slot: None,
            inflate_slot: None,
            deflate_key: DeflateKey {
                window_bits: own_window(own_bits),
                level: config.level.min(Compression::best().level()),
            },
            deflate_reset: own_reset,
            inflate: None,
            inflate_kept: false,
            history: (!peer_reset).then(|| History::new(1 << history_bits)),
            stream_ended: false,
            min_size: config.min_size,
        }
    }

    /// Whether an outgoing message of `len` bytes should be compressed (RSV1 set); shorter messages are
    /// sent as they are, which RFC 7692 §6 allows message by message.
    pub fn should_compress(&self, len: usize) -> bool {
        len >= self.min_size
    }

    /// The inflater for a new incoming message, holding the peer's window when it takes over context: the
    /// one kept for this connection, else a kept or per-thread one primed with the window. `None` in `inflate`
    /// on error (the caller finishes the message as failed).
    fn start_inflate(&mut self) -> Result<(), WsError> {
        let Some(history) = &mut self.history else {
            self.inflate = Some(state::take_inflater());
            self.inflate_kept = false;
            return Ok(());
        };
        let mut inflater =
            match self
                .pool
                .acquire::<Decompress>(self.owner, &mut self.inflate_slot, ())
            {
                Some(Checkout { state, context }) => {
                    self.inflate_kept = true;
                    if context {
                        self.inflate = Some(state);
                        return Ok(());
                    }
                    state
                }
                None => {
                    self.inflate_kept = false;
                    state::take_inflater()
                }
            };
        let (older, newer) = history.parts();
        let primed = [older, newer]
            .into_iter()
            .filter(|part| !part.is_empty())
            .try_for_each(|part| inflater.set_dictionary(part).map(drop));
        if self.inflate_kept {
            // The kept inflater holds the window from now on, for as long as this connection lives.
            history.free();
        }
        self.inflate = Some(inflater);
        primed.map_err(|_| WsError::BadCompressedData)
    }

    /// The incoming message is complete (or failed): hand the inflater back, and forget the peer's window
    /// when its stream ended (BFINAL) or the data was bad.
    fn finish_inflate(&mut self, failed: bool) {
        let forget_window = failed || self.stream_ended;
        if let Some(mut inflater) = self.inflate.take() {
            if !self.inflate_kept {
                state::put_inflater(inflater);
            } else if let Some(slot) = self.inflate_slot {
                if forget_window {
                    inflater.reset(false);
                }
                self.pool.release(self.owner, slot, inflater);
            }
        }
        if forget_window {
            if let Some(history) = &mut self.history {
                history.clear();
            }
        }
        self.stream_ended = false;
    }

    /// Inflate `input` into `out` without letting `out.len()` pass `limit`.
    fn inflate_part(
        inflate: &mut Decompress,
        stream_ended: &mut bool,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), WsError> {
        let mut input = input;
        while !*stream_ended {
            // Room for what the limit still allows plus one byte, so that exceeding it is detected without
            // producing more; at least the step minimum keeps calls few for small inputs.
            let allowed = limit.saturating_sub(out.len()).saturating_add(1);
            let step = input
                .len()
                .saturating_mul(4)
                .clamp(MIN_INFLATE_STEP, MAX_INFLATE_STEP)
                .min(allowed);
            let start = out.len();
            out.resize(start + step, 0);
            let before_in = inflate.total_in();
            let before_out = inflate.total_out();
            let status = inflate.decompress(input, &mut out[start..], FlushDecompress::None);
            // Both counters advance by at most the slice lengths given, so they fit in usize.
            let consumed = (inflate.total_in() - before_in) as usize;
            let produced = (inflate.total_out() - before_out) as usize;
            out.truncate(start + produced);
            input = &input[consumed..];
            if produced == allowed {
                out.truncate(start + produced - 1);
                return Err(WsError::MessageTooBig);
            }
            match status {
                Ok(Status::StreamEnd) => *stream_ended = true,
                // Output room left over means the inflater has nothing pending: done once input is used up.
                Ok(Status::Ok) if produced < step && input.is_empty() => break,
                Ok(Status::Ok) => {}
                // No progress possible: input used up and nothing pending.
                Ok(Status::BufError) => break,
                Err(_) => return Err(WsError::BadCompressedData),
            }
        }
        Ok(())
    }
}

impl Drop for PermessageDeflate {
    fn drop(&mut self) {
        self.pool.forget::<Compress>(self.owner, self.deflate_slot);
        self.pool
            .forget::<Decompress>(self.owner, self.inflate_slot);
        // An inflater in the middle of a message: a kept one is simply dropped (its entry is free now).
        if let Some(inflater) = self.inflate.take().filter(|_| !self.inflate_kept) {
            state::put_inflater(inflater);
        }
    }
}

impl fmt::Debug for PermessageDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermessageDeflate")
            .field("deflate_key", &self.deflate_key)
            .field("deflate_reset", &self.deflate_reset)
            .field("inflate_reset", &self.history.is_none())
            .field("min_size", &self.min_size)
            .finish_non_exhaustive()
    }
}

/// Compress one whole message into `out` with a sync flush and remove the flush's empty stored block
/// (RFC 7692 §7.2.1). On error `out` is as it was and the caller resets `deflate`.
fn deflate_message(
    deflate: &mut Compress,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), WsError> {
    let start = out.len();
    let mut input = payload;
    loop {
        if out.capacity() - out.len() < MIN_DEFLATE_STEP {
            out.reserve(MIN_DEFLATE_STEP.max(input.len() / 2 + 64));
        }
        let before = deflate.total_in();
        let status = deflate.compress_vec(input, out, FlushCompress::Sync);
        // The counter advances by at most `input.len()`, so it fits in usize.
        input = &input[(deflate.total_in() - before) as usize..];
        match status {
            // zlib's contract: the flush is complete once all input is taken and output room is left.
            Ok(_) if input.is_empty() && out.len() < out.capacity() => break,
            Ok(_) => {}
            // Only a corrupted stream state fails, which safe code cannot produce: report it as a bad
            // stream rather than panic.
            Err(_) => {
                out.truncate(start);
                return Err(WsError::BadCompressedData);
            }
        }
    }
    // A sync flush always ends with the empty stored block, which RFC 7692 §7.2.1 removes.
    if !out[start..].ends_with(&TAIL) {
        out.truncate(start);
        return Err(WsError::BadCompressedData);
    }
    out.truncate(out.len() - TAIL.len());
    Ok(())
}

/// Messages shorter than this are sent as stored blocks when no compressor with context is free.
const STORE_BELOW: usize = 1024;

/// `payload` as stored (uncompressed) deflate blocks, which need no compressor. The peer's inflater is at a
/// byte boundary at the start of every message (each ends with a sync flush), so the block header is one
/// zero byte (not final, stored, padding) followed by LEN and its complement.
fn store_message(payload: &[u8], out: &mut Vec<u8>) {
    for chunk in payload.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

impl MessageCodec for PermessageDeflate {
    fn should_compress(&self, len: usize) -> bool {
        PermessageDeflate::should_compress(self, len)
    }

    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        if payload.is_empty() {
            // zlib refuses a second flush without input, so write the empty message itself: an empty stored
            // block without its tail (RFC 7692 §7.2.3.6). After a sync flush the stream is byte-aligned, so
            // the receiver sees a harmless extra block, and no compressor is involved.
            out.push(0x00);
            return Ok(());
        }
        let key = self.deflate_key;
        if self.deflate_reset {
            return state::with_scratch_deflate(key, |deflate| {
                deflate_message(deflate, payload, out)
            });
        }
        match self
            .pool
            .acquire::<Compress>(self.owner, &mut self.deflate_slot, key)
        {
            Some(Checkout { mut state, .. }) => {
                let result = deflate_message(&mut state, payload, out);
                if result.is_err() {
                    // The peer did not get this message: continue from an empty window.
                    state.reset();
                }
                if let Some(slot) = self.deflate_slot {
                    self.pool.release(self.owner, slot, state);
                }
                result
            }
            // Every kept compressor is in use: this message goes without context, which is always allowed. A
            // short one is not worth resetting a compressor for (zlib-rs clears a 128 KiB table each time).
            None if payload.len() < STORE_BELOW => {
                store_message(payload, out);
                Ok(())
            }
            None => {
                state::with_scratch_deflate(key, |deflate| deflate_message(deflate, payload, out))
            }
        }
    }

    fn decompress(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), WsError> {
        let start = out.len();
        if self.inflate.is_none() {
            if let Err(e) = self.start_inflate() {
                self.finish_inflate(true);
                return Err(e);
            }
        }
        let Some(mut inflate) = self.inflate.take() else {
            return Err(WsError::BadCompressedData);
        };
        let mut result =
            Self::inflate_part(&mut inflate, &mut self.stream_ended, input, out, limit);
        if fin && result.is_ok() {
            result = Self::inflate_part(&mut inflate, &mut self.stream_ended, &TAIL, out, limit);
        }
        self.inflate = Some(inflate);
        if result.is_ok() && !self.inflate_kept {
            if let Some(history) = &mut self.history {
                history.append(&out[start..]);
            }
        }
        if fin || result.is_err() {
            self.finish_inflate(result.is_err());
        }
        result
    }
}

/// Our compressor's window size: zlib compresses with 9..=15.
fn own_window(bits: u8) -> u8 {
    bits.clamp(MIN_DEFLATE_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// A peer's window size as RFC 7692 allows it: 8..=15.
fn peer_window(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// The server's decision on one permessage-deflate offer: `None` declines it.
fn accept_offer(params: &[&str], config: &PmdConfig) -> Option<(PmdParams, String)> {
    let offer = parse_params(params).ok()?;
    let own_bits = own_window(config.server_max_window_bits);
    let server_max_window_bits = match offer.server_max_window_bits {
        // Asked 8, and the answer may not be larger than the request: zlib cannot honour it.
        Some(bits) if bits < MIN_DEFLATE_WINDOW_BITS => return None,
        Some(bits) => bits.min(own_bits),
        None => own_bits,
    };
    // Never ask a client for 8 bits: zlib-based clients (browsers, ours) cannot compress with it.
    let limit_client = own_window(config.client_max_window_bits);
    let client_max_window_bits = match offer.client_max_window_bits {
        Some(WindowBits::Value(bits)) => Some(bits.min(limit_client)),
        Some(WindowBits::Unset) if limit_client < MAX_WINDOW_BITS => Some(limit_client),
        // Not offered: the client did not say it can limit its window, so we may not ask (RFC 7692 §7.1.2.2);
        // our 15-bit inflater decodes any window anyway.
        Some(WindowBits::Unset) | None => None,
    };
    let params = PmdParams {
        server_no_context_takeover: offer.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits: client_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
    };
    let mut response = String::from(EXTENSION_NAME);
    if params.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    // Answer whenever the client asked (RFC 7692 §7.1.2.1 requires it) or we limit ourselves.
    if offer.server_max_window_bits.is_some() || server_max_window_bits < MAX_WINDOW_BITS {
        response.push_str(&format!(
            "; server_max_window_bits={server_max_window_bits}"
        ));
    }
    if let Some(bits) = client_max_window_bits {
        response.push_str(&format!("; client_max_window_bits={bits}"));
    }
    Some((params, response))
}

/// `client_max_window_bits` may appear without a value in an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowBits {
    Unset,
    Value(u8),
}

/// The permessage-deflate parameters of one offer or response, checked for syntax, duplicates and range.
#[derive(Debug, Default)]
struct PmdParamSet {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<WindowBits>,
}

fn parse_params(params: &[&str]) -> Result<PmdParamSet, PmdNegotiationError> {
    let mut set = PmdParamSet::default();
    for param in params {
        let (name, value) = parse_param(param).ok_or(PmdNegotiationError::Malformed)?;
        if name.eq_ignore_ascii_case("server_no_context_takeover") {
            no_value_flag(&mut set.server_no_context_takeover, value)?;
        } else if name.eq_ignore_ascii_case("client_no_context_takeover") {
            no_value_flag(&mut set.client_no_context_takeover, value)?;
        } else if name.eq_ignore_ascii_case("server_max_window_bits") {
            if set.server_max_window_bits.is_some() {
                return Err(PmdNegotiationError::DuplicateParameter);
            }
            let bits = value.as_deref().and_then(window_bits);
            set.server_max_window_bits = Some(bits.ok_or(PmdNegotiationError::BadWindowBits)?);
        } else if name.eq_ignore_ascii_case("client_max_window_bits") {
            if set.client_max_window_bits.is_some() {
                return Err(PmdNegotiationError::DuplicateParameter);
            }
            set.client_max_window_bits = Some(match value.as_deref() {
                None => WindowBits::Unset,
                Some(value) => {
                    WindowBits::Value(window_bits(value).ok_or(PmdNegotiationError::BadWindowBits)?)
                }
            });
        } else {
            return Err(PmdNegotiationError::UnknownParameter);
        }
    }
    Ok(set)
}

fn no_value_flag(flag: &mut bool, value: Option<Cow<'_, str>>) -> Result<(), PmdNegotiationError> {
    if *flag {
        return Err(PmdNegotiationError::DuplicateParameter);
    }
    if value.is_some() {
        return Err(PmdNegotiationError::UnexpectedValue);
    }
    *flag = true;
    Ok(())
}

/// A window size as RFC 7692 §7.1.2 writes it: `8`..`15`, decimal, no sign or leading zero.
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || value.len() > 2 || value.starts_with('0') {
        return None;
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = value.parse().ok()?;
    (MIN_WINDOW_BITS..=MAX_WINDOW_BITS)
        .contains(&bits)
        .then_some(bits)
}

/// One element of an extension list: its name and its raw `;`-separated parameters.
struct Element<'a> {
    name: &'a str,
    params: Vec<&'a str>,
}

/// Parse `name *( ";" param )`, or `None` when the name is not a token (empty elements included).
fn parse_element(element: &str) -> Option<Element<'_>> {
    let mut parts = split_top_level(element, b';');
    let name = parts.next()?.trim_matches(is_ows);
    if !is_token(name) {
        return None;
    }
    Some(Element {
        name,
        params: parts.collect(),
    })
}

/// Parse `token [ "=" ( token / quoted-string ) ]` with optional whitespace around, unescaping quotes.
fn parse_param(param: &str) -> Option<(&str, Option<Cow<'_, str>>)> {
    let (name, value) = match param.split_once('=') {
        Some((name, value)) => (name, Some(value.trim_matches(is_ows))),
        None => (param, None),
    };
    let name = name.trim_matches(is_ows);
    if !is_token(name) {
        return None;
    }
    let value = match value {
        None => None,
        Some(value) if value.starts_with('"') => Some(unquote(value)?),
        Some(value) if is_token(value) => Some(Cow::Borrowed(value)),
        Some(_) => return None,
    };
    Some((name, value))
}

/// The content of a quoted-string that must span all of `value`; RFC 6455 §9.1 requires it to be a token.
fn unquote(value: &str) -> Option<Cow<'_, str>> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    let unescaped = if inner.contains('\\') {
        let mut text = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.push(chars.next()?),
                '"' => return None,
                c => text.push(c),
            }
        }
        Cow::Owned(text)
    } else {
        Cow::Borrowed(inner)
    };
    is_token(&unescaped).then_some(unescaped)
}

/// Split at `sep` outside quoted-strings (backslash escapes honoured), so `"a,b"` stays whole.
fn split_top_level(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let bytes = current.as_bytes();
        let mut quoted = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b if b == sep && !quoted => {
                    rest = Some(&current[i + 1..]);
                    return Some(&current[..i]);
                }
                _ => {}
            }
            i += 1;
        }
        rest = None;
        Some(current)
    })
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 7230 §3.2.6 token.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_quoted_separators() {
        let parts: Vec<_> = split_top_level(r#"a; b="x,\";y", c"#, b',').collect();
        assert_eq!(parts, [r#"a; b="x,\";y""#, " c"]);
    }

    #[test]
    fn window_bits_grammar() {
        assert_eq!(window_bits("8"), Some(8));
        assert_eq!(window_bits("15"), Some(15));
        for bad in ["", "7", "16", "08", "+9", "1a", "100", " 9"] {
            assert_eq!(window_bits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quoted_values_unescape() {
        assert_eq!(unquote(r#""10""#).as_deref(), Some("10"));
        assert_eq!(unquote(r#""1\0""#).as_deref(), Some("10"));
        assert_eq!(unquote(r#""a b""#), None);
        assert_eq!(unquote(r#""10"#), None);
    }

    #[test]
    fn codec_is_send() {
        // The engine holds its extension as `Box<dyn MessageCodec + Send>`.
        fn assert_send<T: Send>() {}
        assert_send::<PermessageDeflate>();
    }

    #[test]
    fn bfinal_message_resets_the_stream() {
        let params = PmdParams::default();
        let mut codec = PermessageDeflate::new(params, false, &PmdConfig::default());
        let mut out = Vec::new();
        // RFC 7692 §7.2.3.4, twice: the second message starts a new stream.
        for _ in 0..2 {
            out.clear();
            codec
                .decompress(
                    &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
                    true,
                    &mut out,
                    100,
                )
                .unwrap();
            assert_eq!(out, b"Hello");
        }
    }
}
