//! Header blocks as HTTP/2 delivers them: pseudo-header fields plus regular fields, checked against the
//! rules that make a request, a response or a trailer section well-formed (RFC 9113 §8.1-§8.3, RFC 8441 §4).

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::http1::TCHAR;

/// What a header block is expected to be, which decides the pseudo-headers it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// A request (server side); `connect_protocol` allows `:protocol` (RFC 8441).
    Request { connect_protocol: bool },
    /// A response (client side).
    Response,
    /// A trailer section: no pseudo-headers at all.
    Trailers,
}

/// One decoded and validated header block: pseudo-headers and fields, kept as ranges into one buffer.
///
/// Field names are lowercase tokens and values contain no NUL, CR or LF, so both can be handed to code written
/// for HTTP/1.1 heads. A request without a `host` field gets one made from `:authority`.
#[derive(Debug, Clone)]
pub struct HeaderBlock {
    buf: Bytes,
    method: Option<Range<usize>>,
    scheme: Option<Range<usize>>,
    authority: Option<Range<usize>>,
    path: Option<Range<usize>>,
    protocol: Option<Range<usize>>,
    status: Option<u16>,
    fields: Vec<(Range<usize>, Range<usize>)>,
    content_length: Option<u64>,
}

impl HeaderBlock {
    /// `:method`, for requests.
    pub fn method(&self) -> Option<&str> {
        self.text(&self.method)
    }

    /// `:scheme`, for requests.
    pub fn scheme(&self) -> Option<&str> {
        self.text(&self.scheme)
    }

    /// `:authority`, for requests.
    pub fn authority(&self) -> Option<&str> {
        self.text(&self.authority)
    }

    /// `:path`, for requests (absent only for plain CONNECT).
    pub fn path(&self) -> Option<&str> {
        self.text(&self.path)
    }

    /// `:protocol` of an extended CONNECT (RFC 8441), e.g. `websocket`.
    pub fn protocol(&self) -> Option<&str> {
        self.text(&self.protocol)
    }

    /// `:status`, for responses.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The declared `content-length`, if any (all copies agree; checked when decoding).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// First value of the named field (names are lowercase).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The regular fields in order, as (lowercase name, value).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> + Clone + '_ {
        self.fields.iter().map(move |(n, v)| {
            // Names were checked to be lowercase token characters, hence ASCII.
            let name = std::str::from_utf8(&self.buf[n.clone()]).unwrap_or("");
            (name, &self.buf[v.clone()])
        })
    }

    /// The underlying buffer, the method and path ranges and the field ranges, to build a request head for
    /// code shared with HTTP/1.1 without copying.
    pub fn into_parts(self) -> RequestParts {
        RequestParts {
            buf: self.buf,
            method: self.method.unwrap_or(0..0),
            path: self.path.unwrap_or(0..0),
            fields: self.fields,
            content_length: self.content_length,
        }
    }

    fn text(&self, r: &Option<Range<usize>>) -> Option<&str> {
        r.as_ref()
            .map(|r| std::str::from_utf8(&self.buf[r.clone()]).unwrap_or(""))
    }
}

/// A request block taken apart; see [`HeaderBlock::into_parts`].
#[derive(Debug)]
pub struct RequestParts {
    /// Holds every name and value.
    pub buf: Bytes,
    /// `:method` within `buf`.
    pub method: Range<usize>,
    /// `:path` within `buf` (empty for plain CONNECT).
    pub path: Range<usize>,
    /// (name, value) ranges within `buf`.
    pub fields: Vec<(Range<usize>, Range<usize>)>,
    /// The declared body length.
    pub content_length: Option<u64>,
}

/// Collects fields from the HPACK decoder and checks them one by one; [`Collector::finish`] checks the
/// block as a whole.
pub(crate) struct Collector {
    kind: BlockKind,
    buf: BytesMut,
    block: HeaderBlock,
    regular_seen: bool,
    malformed: Option<&'static str>,
}

impl Collector {
    /// A collector writing the block's names and values at the end of `buf`, an arena shared by the blocks
    /// of a connection (each block then costs no allocation of its own); `finish` hands it back.
    pub(crate) fn new(kind: BlockKind, buf: BytesMut) -> Collector {
        Collector {
            kind,
            buf,
            block: HeaderBlock {
                buf: Bytes::new(),
                method: None,
                scheme: None,
                authority: None,
                path: None,
                protocol: None,
                status: None,
                fields: Vec::new(),
                content_length: None,
            },
            regular_seen: false,
            malformed: None,
        }
    }

    /// Takes one decoded field; the first problem found is remembered and later fields are ignored.
    pub(crate) fn field(&mut self, name: &[u8], value: &[u8]) {
        if self.malformed.is_some() {
            return;
        }
        if let Err(why) = self.check_field(name, value) {
            self.malformed = Some(why);
        }
    }

    fn check_field(&mut self, name: &[u8], value: &[u8]) -> Result<(), &'static str> {
        if !valid_value(value) {
            return Err("field value with NUL, CR, LF or surrounding whitespace");
        }
        if let Some(pseudo) = name.strip_prefix(b":") {
            return self.pseudo(pseudo, value);
        }
        self.regular_seen = true;
        if name.is_empty() || !name.iter().all(|&c| is_lower_token(c)) {
            return Err("field name empty, uppercase or not a token");
        }
        match name {
            b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding"
            | b"upgrade" => return Err("connection-specific field"),
            b"te" if value != b"trailers" => return Err("te other than trailers"),
            b"content-length" => self.content_length(value)?,
            _ => {}
        }
        let n = self.push(name);
        let v = self.push(value);
        self.block.fields.push((n, v));
        Ok(())
    }

    fn pseudo(&mut self, name: &[u8], value: &[u8]) -> Result<(), &'static str> {
        if self.regular_seen {
            return Err("pseudo-header after a regular field");
        }
        let range = self.push(value);
        let b = &mut self.block;
        let slot = match (self.kind, name) {
            (BlockKind::Request { .. }, b"method") => &mut b.method,
            (BlockKind::Request { .. }, b"scheme") => &mut b.scheme,
            (BlockKind::Request { .. }, b"authority") => &mut b.authority,
            (BlockKind::Request { .. }, b"path") => &mut b.path,
            (
                BlockKind::Request {
                    connect_protocol: true,
                },
                b"protocol",
            ) => &mut b.protocol,
            (BlockKind::Response, b"status") => {
                if b.status.is_some() {
                    return Err("duplicate :status");
                }
                b.status = Some(parse_status(value).ok_or("malformed :status")?);
                return Ok(());
            }
            _ => return Err("unknown or misplaced pseudo-header"),
        };
        if slot.is_some() {
            return Err("duplicate pseudo-header");
        }
        *slot = Some(range);
        Ok(())
    }

    fn content_length(&mut self, value: &[u8]) -> Result<(), &'static str> {
        let n = parse_decimal(value).ok_or("malformed content-length")?;
        match self.block.content_length {
            Some(prev) if prev != n => Err("conflicting content-length"),
            _ => {
                self.block.content_length = Some(n);
                Ok(())
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        start..self.buf.len()
    }

    /// The block, or why it is malformed (a stream error of type PROTOCOL_ERROR for the caller), and the
    /// arena for the next block.
    pub(crate) fn finish(mut self) -> (Result<HeaderBlock, &'static str>, BytesMut) {
        let checked = match self.malformed {
            Some(why) => Err(why),
            None => match self.kind {
                BlockKind::Request { .. } => self.check_request(),
                BlockKind::Response if self.block.status.is_none() => Err("missing :status"),
                _ => Ok(()),
            },
        };
        let written = self.buf.split();
        match checked {
            Ok(()) => {
                self.block.buf = written.freeze();
                (Ok(self.block), self.buf)
            }
            Err(why) => {
                // Nothing refers to what this block wrote: let the arena have the space back.
                drop(written);
                self.buf.reserve(0);
                (Err(why), self.buf)
            }
        }
    }

    fn check_request(&mut self) -> Result<(), &'static str> {
        let b = &self.block;
        let method = b.method.clone().ok_or("missing :method")?;
        let connect = &self.buf[method.clone()] == b"CONNECT";
        if !self.buf[method].iter().all(|&c| is_token(c)) {
            return Err("malformed :method");
        }
        if connect && b.protocol.is_none() {
            // Plain CONNECT (RFC 9113 §8.5): authority only.
            if b.scheme.is_some() || b.path.is_some() || b.authority.is_none() {
                return Err("CONNECT needs :authority and no :scheme or :path");
            }
        } else {
            if b.protocol.is_some() && !connect {
                return Err(":protocol on a method other than CONNECT");
            }
            if b.scheme.is_none() {
                return Err("missing :scheme");
            }
            let path = b.path.clone().ok_or("missing :path")?;
            let p = &self.buf[path];
            if p.is_empty() {
                return Err("empty :path");
            }
            if !p.iter().all(|&c| (0x21..0x7f).contains(&c)) {
                return Err(":path with characters outside visible ASCII");
            }
            if b.protocol.is_some() && b.authority.is_none() {
                return Err("extended CONNECT without :authority");
            }
        }
        if let Some(a) = self.block.authority.clone() {
            if !self
                .block
                .fields
                .iter()
                .any(|(n, _)| &self.buf[n.clone()] == b"host")
            {
                let n = self.push(b"host");
                self.block.fields.push((n, a));
            }
        }
        Ok(())
    }
}

fn parse_status(v: &[u8]) -> Option<u16> {
    if v.len() != 3 {
        return None;
    }
    let n = parse_decimal(v)?;
    (100..=999).contains(&n).then_some(n as u16)
}

/// A non-empty run of ASCII digits that fits a u64.
pub(crate) fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64))
}

fn valid_value(v: &[u8]) -> bool {
    let ws = |c: &u8| *c == b' ' || *c == b'\t';
    !has_nul_cr_lf(v) && !v.first().is_some_and(ws) && !v.last().is_some_and(ws)
}

/// Whether `v` holds a NUL, CR or LF. Runs over every value of every request, so it tests eight bytes at a
/// time: `x - 0x01..01 & !x & 0x80..80` is non-zero exactly when some byte of `x` is zero, and XOR with a
/// repeated byte turns that byte into zero.
fn has_nul_cr_lf(v: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let x = u64::from_le_bytes(word);
        if zero_byte(x) || zero_byte(x ^ (ONES * 0x0d)) || zero_byte(x ^ (ONES * 0x0a)) {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&c| CLASS[c as usize] & BAD_IN_VALUE != 0)
}

fn is_token(c: u8) -> bool {
    CLASS[c as usize] & TOKEN != 0
}

fn is_lower_token(c: u8) -> bool {
    CLASS[c as usize] & LOWER_TOKEN != 0
}

/// Byte classes for the checks above, one table lookup per byte (they run over every field of every request).
const TOKEN: u8 = 1;
const LOWER_TOKEN: u8 = 2;
const BAD_IN_VALUE: u8 = 4;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let token = TCHAR[c];
        if token {
            t[c] |= TOKEN;
            if !b.is_ascii_uppercase() {
                t[c] |= LOWER_TOKEN;
            }
        }
        if b == 0 || b == b'\r' || b == b'\n' {
            t[c] |= BAD_IN_VALUE;
        }
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::has_nul_cr_lf;

    #[test]
    fn nul_cr_lf_found_at_every_position() {
        for len in 0..40 {
            let clean = vec![b'a'; len];
            assert!(!has_nul_cr_lf(&clean));
            for at in 0..len {
                for bad in [0u8, b'\r', b'\n'] {
                    let mut v = clean.clone();
                    v[at] = bad;
                    assert!(has_nul_cr_lf(&v), "{bad} at {at} of {len}");
                }
                // Bytes next to the bad ones in value (and high bytes) are fine.
                for ok in [1u8, 0x0b, 0x0c, 0x0e, 0x09, 0x80, 0x8d, 0xff] {
                    let mut v = clean.clone();
                    v[at] = ok;
                    assert!(!has_nul_cr_lf(&v), "{ok} at {at} of {len}");
                }
            }
        }
    }
}
