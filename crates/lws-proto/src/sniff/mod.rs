//! Telling protocols apart by the first bytes a client sends, so one port can carry several (libwebsockets'
//! http fallback, sslh's multiplexing): HTTP/1, the HTTP/2 client preface, a TLS ClientHello (with its SNI
//! name and ALPN list), an SSH banner, or something else.
//!
//! Sans-IO like the other engines: [`classify`] looks at the bytes read so far and either decides or asks
//! for more ([`Verdict::NeedMore`]); the caller reads more and asks again, up to [`MAX_SNIFF`] bytes. A
//! verdict never rests on a short read: `"G"` is not yet HTTP (it might become anything), `"GET "` is.

mod hello;

pub use hello::{client_hello, ClientHello, HelloError};

/// The most bytes worth reading before deciding: a whole TLS record (a ClientHello fits in one, 16 KiB plus
/// its 5-byte header). Past this, whatever is still undecided is [`Verdict::Other`].
pub const MAX_SNIFF: usize = 16 * 1024 + 5;

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The longest HTTP method accepted as the start of an HTTP/1 request line (`PROPPATCH`, `UNSUBSCRIBE`...).
const MAX_METHOD: usize = 20;

/// What the first bytes of a connection are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Not enough bytes to tell yet.
    NeedMore,
    /// An HTTP/1 request line starts: a method token and a space.
    Http1,
    /// The HTTP/2 client preface, whole.
    Http2,
    /// A TLS handshake record (content type 22, version major 3).
    Tls,
    /// An SSH identification string (`SSH-`, RFC 4253 §4.2).
    Ssh,
    /// None of the above.
    Other,
}

/// Classifies the first bytes of a connection.
pub fn classify(first: &[u8]) -> Verdict {
    let Some(&b0) = first.first() else {
        return Verdict::NeedMore;
    };
    if b0 == 0x16 {
        return match first.get(1) {
            None => Verdict::NeedMore,
            Some(3) => Verdict::Tls,
            Some(_) => Verdict::Other,
        };
    }
    if let Some(v) = prefix_verdict(first, H2_PREFACE, Verdict::Http2) {
        return v;
    }
    if let Some(v) = prefix_verdict(first, b"SSH-", Verdict::Ssh) {
        return v;
    }
    request_line_verdict(first)
}

/// `Some(found)` when `first` starts with `sign`, `Some(NeedMore)` when it is a proper prefix of it, `None`
/// when it is something else.
fn prefix_verdict(first: &[u8], sign: &[u8], found: Verdict) -> Option<Verdict> {
    let n = first.len().min(sign.len());
    if first[..n] != sign[..n] {
        return None;
    }
    Some(if n == sign.len() {
        found
    } else {
        Verdict::NeedMore
    })
}

/// HTTP/1 when a method token (RFC 9110 §9: a token, here limited in length) is followed by a space.
fn request_line_verdict(first: &[u8]) -> Verdict {
    for (i, &b) in first.iter().enumerate().take(MAX_METHOD + 1) {
        if b == b' ' {
            return if i == 0 {
                Verdict::Other
            } else {
                Verdict::Http1
            };
        }
        if !is_tchar(b) {
            return Verdict::Other;
        }
    }
    if first.len() > MAX_METHOD {
        Verdict::Other
    } else {
        Verdict::NeedMore
    }
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
