//! The HTTP/2 frame layer (RFC 9113 §4 and §6): the 9-byte frame header, frame types and flags, and writers
//! that append complete frames to an output buffer.

/// Length of every frame header.
pub const HEADER_LEN: usize = 9;

/// The connection preface a client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The frame types of RFC 9113 §6; anything else is an extension frame to be ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    Unknown(u8),
}

impl Kind {
    fn from_u8(t: u8) -> Kind {
        match t {
            0 => Kind::Data,
            1 => Kind::Headers,
            2 => Kind::Priority,
            3 => Kind::RstStream,
            4 => Kind::Settings,
            5 => Kind::PushPromise,
            6 => Kind::Ping,
            7 => Kind::GoAway,
            8 => Kind::WindowUpdate,
            9 => Kind::Continuation,
            other => Kind::Unknown(other),
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Kind::Data => 0,
            Kind::Headers => 1,
            Kind::Priority => 2,
            Kind::RstStream => 3,
            Kind::Settings => 4,
            Kind::PushPromise => 5,
            Kind::Ping => 6,
            Kind::GoAway => 7,
            Kind::WindowUpdate => 8,
            Kind::Continuation => 9,
            Kind::Unknown(t) => t,
        }
    }
}

/// Frame flags (their meaning depends on the frame type).
pub(crate) mod flags {
    pub(crate) const END_STREAM: u8 = 0x1;
    pub(crate) const ACK: u8 = 0x1;
    pub(crate) const END_HEADERS: u8 = 0x4;
    pub(crate) const PADDED: u8 = 0x8;
    pub(crate) const PRIORITY: u8 = 0x20;
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub(crate) len: usize,
    pub(crate) kind: Kind,
    pub(crate) flags: u8,
    pub(crate) stream: u32,
}

impl Head {
    /// Parses the first 9 bytes of `b` (the caller checked the length). The reserved bit is ignored.
    pub(crate) fn parse(b: &[u8]) -> Head {
        Head {
            len: (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize,
            kind: Kind::from_u8(b[3]),
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Appends a frame header.
pub(crate) fn write_head(dst: &mut Vec<u8>, len: usize, kind: Kind, flags: u8, stream: u32) {
    debug_assert!(len < 1 << 24);
    let l = (len as u32).to_be_bytes();
    let s = stream.to_be_bytes();
    dst.extend_from_slice(&[
        l[1],
        l[2],
        l[3],
        kind.to_u8(),
        flags,
        s[0],
        s[1],
        s[2],
        s[3],
    ]);
}

/// Appends a SETTINGS frame with the given (identifier, value) pairs.
pub(crate) fn write_settings(dst: &mut Vec<u8>, pairs: &[(u16, u32)]) {
    write_head(dst, pairs.len() * 6, Kind::Settings, 0, 0);
    for (id, v) in pairs {
        dst.extend_from_slice(&id.to_be_bytes());
        dst.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a SETTINGS acknowledgement.
pub(crate) fn write_settings_ack(dst: &mut Vec<u8>) {
    write_head(dst, 0, Kind::Settings, flags::ACK, 0);
}

/// Appends a PING (or its acknowledgement) with the 8 opaque bytes.
pub(crate) fn write_ping(dst: &mut Vec<u8>, ack: bool, data: [u8; 8]) {
    write_head(dst, 8, Kind::Ping, if ack { flags::ACK } else { 0 }, 0);
    dst.extend_from_slice(&data);
}

/// Appends a WINDOW_UPDATE.
pub(crate) fn write_window_update(dst: &mut Vec<u8>, stream: u32, increment: u32) {
    write_head(dst, 4, Kind::WindowUpdate, 0, stream);
    dst.extend_from_slice(&increment.to_be_bytes());
}

/// Appends a RST_STREAM.
pub(crate) fn write_rst(dst: &mut Vec<u8>, stream: u32, code: u32) {
    write_head(dst, 4, Kind::RstStream, 0, stream);
    dst.extend_from_slice(&code.to_be_bytes());
}

/// Appends a GOAWAY with an optional debug text.
pub(crate) fn write_goaway(dst: &mut Vec<u8>, last_stream: u32, code: u32, debug: &[u8]) {
    write_head(dst, 8 + debug.len(), Kind::GoAway, 0, 0);
    dst.extend_from_slice(&last_stream.to_be_bytes());
    dst.extend_from_slice(&code.to_be_bytes());
    dst.extend_from_slice(debug);
}

/// Appends one DATA frame.
pub(crate) fn write_data(dst: &mut Vec<u8>, stream: u32, data: &[u8], end_stream: bool) {
    let f = if end_stream { flags::END_STREAM } else { 0 };
    write_head(dst, data.len(), Kind::Data, f, stream);
    dst.extend_from_slice(data);
}

/// Appends a header block as HEADERS plus as many CONTINUATION frames as `max_frame` requires.
pub(crate) fn write_headers(
    dst: &mut Vec<u8>,
    stream: u32,
    block: &[u8],
    end_stream: bool,
    max_frame: usize,
) {
    let mut chunks = block.chunks(max_frame.max(1));
    let first = chunks.next().unwrap_or(&[]);
    let mut f = if end_stream { flags::END_STREAM } else { 0 };
    if first.len() == block.len() {
        f |= flags::END_HEADERS;
    }
    write_head(dst, first.len(), Kind::Headers, f, stream);
    dst.extend_from_slice(first);
    let mut sent = first.len();
    for c in chunks {
        sent += c.len();
        let f = if sent == block.len() {
            flags::END_HEADERS
        } else {
            0
        };
        write_head(dst, c.len(), Kind::Continuation, f, stream);
        dst.extend_from_slice(c);
    }
}

/// Strips padding from a DATA or HEADERS payload (RFC 9113 §6.1): `None` when the pad length is too long.
pub(crate) fn unpad(head: &Head, payload: &[u8]) -> Option<(usize, usize)> {
    if !head.has(flags::PADDED) {
        return Some((0, payload.len()));
    }
    let pad = *payload.first()? as usize;
    if pad >= payload.len() {
        return None;
    }
    Some((1, payload.len() - pad))
}
