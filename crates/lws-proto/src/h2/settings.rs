//! SETTINGS (RFC 9113 §6.5, RFC 8441 §3): what each side announces, with the checks on received values.

use super::error::{conn_err, FrameError, Reason};

/// Largest flow-control window (RFC 9113 §6.9.1).
pub const MAX_WINDOW: u32 = (1 << 31) - 1;
/// Smallest value of SETTINGS_MAX_FRAME_SIZE, and the default.
pub const DEFAULT_MAX_FRAME: u32 = 16_384;
/// Largest value of SETTINGS_MAX_FRAME_SIZE.
pub const MAX_MAX_FRAME: u32 = (1 << 24) - 1;

pub(crate) const HEADER_TABLE_SIZE: u16 = 0x1;
pub(crate) const ENABLE_PUSH: u16 = 0x2;
pub(crate) const MAX_CONCURRENT_STREAMS: u16 = 0x3;
pub(crate) const INITIAL_WINDOW_SIZE: u16 = 0x4;
pub(crate) const MAX_FRAME_SIZE: u16 = 0x5;
pub(crate) const MAX_HEADER_LIST_SIZE: u16 = 0x6;
pub(crate) const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// The settings one side of a connection announced, starting from the RFC's initial values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// HPACK dynamic table size the sender's decoder allows.
    pub header_table_size: u32,
    /// Whether server push is allowed (a client setting; this implementation never pushes).
    pub enable_push: bool,
    /// Streams the sender lets its peer open at once; `None` is unlimited.
    pub max_concurrent_streams: Option<u32>,
    /// Initial stream-level flow-control window.
    pub initial_window_size: u32,
    /// Largest frame payload the sender accepts.
    pub max_frame_size: u32,
    /// Largest decoded header list the sender accepts (advisory); `None` is unlimited.
    pub max_header_list_size: Option<u32>,
    /// RFC 8441: the sender accepts extended CONNECT (`:protocol`).
    pub enable_connect_protocol: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: 65_535,
            max_frame_size: DEFAULT_MAX_FRAME,
            max_header_list_size: None,
            enable_connect_protocol: false,
        }
    }
}

impl Settings {
    /// Applies the pairs of a received SETTINGS frame in order, checking each value (RFC 9113 §6.5.2).
    pub(crate) fn apply(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        for pair in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([pair[0], pair[1]]);
            let v = u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]);
            match id {
                HEADER_TABLE_SIZE => self.header_table_size = v,
                ENABLE_PUSH => self.enable_push = flag(v, "SETTINGS_ENABLE_PUSH not 0 or 1")?,
                MAX_CONCURRENT_STREAMS => self.max_concurrent_streams = Some(v),
                INITIAL_WINDOW_SIZE if v > MAX_WINDOW => {
                    return conn_err(
                        Reason::FLOW_CONTROL_ERROR,
                        "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                    )
                }
                INITIAL_WINDOW_SIZE => self.initial_window_size = v,
                MAX_FRAME_SIZE if !(DEFAULT_MAX_FRAME..=MAX_MAX_FRAME).contains(&v) => {
                    return conn_err(
                        Reason::PROTOCOL_ERROR,
                        "SETTINGS_MAX_FRAME_SIZE out of range",
                    )
                }
                MAX_FRAME_SIZE => self.max_frame_size = v,
                MAX_HEADER_LIST_SIZE => self.max_header_list_size = Some(v),
                ENABLE_CONNECT_PROTOCOL => {
                    let on = flag(v, "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1")?;
                    // RFC 8441 §3: once announced, the setting cannot be withdrawn.
                    if self.enable_connect_protocol && !on {
                        return conn_err(
                            Reason::PROTOCOL_ERROR,
                            "SETTINGS_ENABLE_CONNECT_PROTOCOL withdrawn",
                        );
                    }
                    self.enable_connect_protocol = on;
                }
                _ => {} // Unknown settings are ignored (RFC 9113 §6.5.2).
            }
        }
        Ok(())
    }

    /// The (identifier, value) pairs that announce how `self` differs from the RFC's initial values.
    pub(crate) fn pairs(&self) -> Vec<(u16, u32)> {
        let d = Settings::default();
        let mut p = Vec::new();
        if self.header_table_size != d.header_table_size {
            p.push((HEADER_TABLE_SIZE, self.header_table_size));
        }
        if self.enable_push != d.enable_push {
            p.push((ENABLE_PUSH, self.enable_push as u32));
        }
        if let Some(n) = self.max_concurrent_streams {
            p.push((MAX_CONCURRENT_STREAMS, n));
        }
        if self.initial_window_size != d.initial_window_size {
            p.push((INITIAL_WINDOW_SIZE, self.initial_window_size));
        }
        if self.max_frame_size != d.max_frame_size {
            p.push((MAX_FRAME_SIZE, self.max_frame_size));
        }
        if let Some(n) = self.max_header_list_size {
            p.push((MAX_HEADER_LIST_SIZE, n));
        }
        if self.enable_connect_protocol {
            p.push((ENABLE_CONNECT_PROTOCOL, 1));
        }
        p
    }
}

fn flag(v: u32, detail: &'static str) -> Result<bool, FrameError> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => conn_err(Reason::PROTOCOL_ERROR, detail),
    }
}
