//! What an HTTP/2 endpoint announces and enforces: SETTINGS values, windows, timeouts and abuse limits.

use std::time::Duration;

/// Limits and settings of one HTTP/2 connection. The defaults are the server defaults of DESIGN.md §5.
#[derive(Debug, Clone)]
pub struct H2Config {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we announce; new streams beyond it get RST_STREAM(REFUSED_STREAM).
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce: how much request body a stream may send ahead.
    pub stream_window: u32,
    /// The connection-level receive window we open right after the preface.
    pub connection_window: u32,
    /// SETTINGS_MAX_FRAME_SIZE we announce.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE we announce and enforce on decoded header blocks.
    pub max_header_list_size: u32,
    /// SETTINGS_HEADER_TABLE_SIZE we announce (our HPACK decoder's table).
    pub header_table_size: u32,
    /// Largest HPACK table our encoder uses, whatever the peer allows.
    pub encoder_table_size: u32,
    /// Announce SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441) and accept `:protocol` (server side).
    pub enable_connect_protocol: bool,
    /// Release receive window as soon as DATA is delivered (true), or only through `release_capacity`.
    pub auto_release: bool,
    /// A connection without streams for this long is closed with GOAWAY(NO_ERROR).
    pub idle_timeout: Duration,
    /// How long the peer has to acknowledge our SETTINGS before GOAWAY(SETTINGS_TIMEOUT).
    pub settings_timeout: Duration,
    /// Most CONTINUATION frames in one header block.
    pub max_continuation_frames: u32,
    /// PING, SETTINGS, empty DATA and unknown frames allowed per [`H2Config::flood_window`] (each kind).
    pub flood_limit: u32,
    /// Streams reset by the peer, or refused by us, allowed per [`H2Config::flood_window`] (rapid reset).
    pub reset_limit: u32,
    /// The window the flood limits count in.
    pub flood_window: Duration,
    /// Bytes of control frames (acks, resets) we queue for a peer that does not read before we stop reading.
    pub max_pending_control: usize,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            max_concurrent_streams: 128,
            stream_window: 256 * 1024,
            connection_window: 1024 * 1024,
            max_frame_size: 16_384,
            max_header_list_size: 64 * 1024,
            header_table_size: 4096,
            encoder_table_size: 4096,
            enable_connect_protocol: true,
            auto_release: true,
            idle_timeout: Duration::from_secs(30),
            settings_timeout: Duration::from_secs(10),
            max_continuation_frames: 32,
            flood_limit: 200,
            reset_limit: 400,
            flood_window: Duration::from_secs(10),
            max_pending_control: 64 * 1024,
        }
    }
}

impl H2Config {
    /// Client defaults: no extended CONNECT offered, a larger window for downloads.
    pub fn client() -> H2Config {
        H2Config {
            enable_connect_protocol: false,
            stream_window: 1024 * 1024,
            connection_window: 4 * 1024 * 1024,
            ..H2Config::default()
        }
    }
}
