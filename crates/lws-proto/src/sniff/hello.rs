//! Reading the SNI name and ALPN protocols from a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301
//! §3.1) without terminating TLS, so a port can hand different TLS services to different backends.

use std::fmt;

/// What routing needs from a ClientHello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The `server_name` host name, if the client sent one (lower-cased).
    pub sni: Option<String>,
    /// The ALPN protocol names offered, in the client's order.
    pub alpn: Vec<Vec<u8>>,
}

/// Why a ClientHello could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelloError {
    /// The first record is not complete yet: read more.
    NeedMore,
    /// The bytes are not a TLS handshake record carrying a ClientHello.
    NotHandshake,
    /// A length field points past its container, or a field is malformed.
    Malformed,
}

impl fmt::Display for HelloError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HelloError::NeedMore => "the ClientHello record is incomplete",
            HelloError::NotHandshake => "not a TLS ClientHello",
            HelloError::Malformed => "malformed ClientHello",
        })
    }
}

impl std::error::Error for HelloError {}

/// Largest TLS record payload (RFC 8446 §5.1), plus some room for the compressed/encrypted forms a peer
/// could announce; a bigger length is refused rather than waited for.
const MAX_RECORD: usize = 16 * 1024;

/// Reads the ClientHello in the first TLS record of `data`. A ClientHello split across several records is
/// read as far as the first one goes: its SNI and ALPN are then reported missing only if they lie beyond.
pub fn client_hello(data: &[u8]) -> Result<ClientHello, HelloError> {
    let mut rec = Reader::new(data);
    let (Some(22), Some(3)) = (rec.u8(), rec.u8()) else {
        return Err(if data.len() < 2 {
            HelloError::NeedMore
        } else {
            HelloError::NotHandshake
        });
    };
    rec.u8().ok_or(HelloError::NeedMore)?;
    let len = rec.u16().ok_or(HelloError::NeedMore)? as usize;
    if len > MAX_RECORD {
        return Err(HelloError::Malformed);
    }
    let Some(body) = rec.take(len) else {
        return Err(HelloError::NeedMore);
    };
    let mut hs = Reader::new(body);
    if hs.u8() != Some(1) {
        return Err(HelloError::NotHandshake);
    }
    let hs_len = hs.u24().ok_or(HelloError::Malformed)? as usize;
    // The handshake message may continue in the next record: read what this one holds.
    let msg = hs.take(hs_len.min(hs.remaining())).unwrap_or(&[]);
    let mut m = Reader::new(msg);
    m.skip(2 + 32).ok_or(HelloError::Malformed)?; // legacy_version, random
    m.vec8().ok_or(HelloError::Malformed)?; // legacy_session_id
    m.vec16().ok_or(HelloError::Malformed)?; // cipher_suites
    m.vec8().ok_or(HelloError::Malformed)?; // legacy_compression_methods
    let mut hello = ClientHello::default();
    let Some(mut exts) = m.vec16().map(Reader::new) else {
        return Ok(hello);
    };
    while exts.remaining() > 0 {
        let kind = exts.u16().ok_or(HelloError::Malformed)?;
        let ext = exts.vec16().ok_or(HelloError::Malformed)?;
        match kind {
            0 => hello.sni = server_name(ext)?,
            16 => hello.alpn = alpn(ext)?,
            _ => {}
        }
    }
    Ok(hello)
}

/// The first `host_name` entry of a `server_name` extension.
fn server_name(ext: &[u8]) -> Result<Option<String>, HelloError> {
    let mut list = Reader::new(ext)
        .vec16()
        .map(Reader::new)
        .ok_or(HelloError::Malformed)?;
    while list.remaining() > 0 {
        let kind = list.u8().ok_or(HelloError::Malformed)?;
        let name = list.vec16().ok_or(HelloError::Malformed)?;
        if kind == 0 {
            let name = std::str::from_utf8(name).map_err(|_| HelloError::Malformed)?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(HelloError::Malformed);
            }
            return Ok(Some(name.to_ascii_lowercase()));
        }
    }
    Ok(None)
}

/// The protocol names of an ALPN extension.
fn alpn(ext: &[u8]) -> Result<Vec<Vec<u8>>, HelloError> {
    let mut list = Reader::new(ext)
        .vec16()
        .map(Reader::new)
        .ok_or(HelloError::Malformed)?;
    let mut out = Vec::new();
    while list.remaining() > 0 {
        let name = list.vec8().ok_or(HelloError::Malformed)?;
        if name.is_empty() {
            return Err(HelloError::Malformed);
        }
        out.push(name.to_vec());
    }
    Ok(out)
}

/// A cursor over big-endian TLS fields; every read is checked against what is left.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn remaining(&self) -> usize {
        self.data.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.data.len() {
            return None;
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Some(head)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Option<u32> {
        self.take(3)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}
