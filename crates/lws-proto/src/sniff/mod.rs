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

/// How much of a request line with an unregistered method is read looking for its version.
const MAX_REQUEST_LINE: usize = 8 * 1024;

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
    if first.starts_with(b"PRI ") {
        // A preface gone wrong: `PRI` exists so that no HTTP/1 server takes it for a request (RFC 9113
        // §3.4); it is an HTTP/2 client's, and an HTTP/1 answer would reach it as a broken frame.
        return Verdict::Other;
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

/// Methods registered for HTTP (RFC 9110 and the IANA method registry's common ones): a request line that
/// starts with one of these and a space is HTTP at once, so a client sending a byte at a time is not held up.
const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"ACL",
    b"BIND",
    b"UNBIND",
    b"REBIND",
    b"LINK",
    b"UNLINK",
    b"MKCALENDAR",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"UPDATE",
    b"LABEL",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"MKWORKSPACE",
    b"ORDERPATCH",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PURGE",
    b"QUERY",
];

/// HTTP/1 when a registered method is followed by a space; for any other method token (RFC 9110 §9.1:
/// methods are extensible), only once the whole request line is there and ends in an `HTTP/` version,
/// so that a line-based protocol (`HELO host`, `USER name`) is not taken for HTTP.
fn request_line_verdict(first: &[u8]) -> Verdict {
    let Some(sp) = first.iter().position(|&b| !is_tchar(b)) else {
        return if first.len() > MAX_METHOD {
            Verdict::Other
        } else {
            Verdict::NeedMore
        };
    };
    if sp == 0 || sp > MAX_METHOD || first[sp] != b' ' {
        return Verdict::Other;
    }
    if KNOWN_METHODS.contains(&&first[..sp]) {
        return Verdict::Http1;
    }
    let Some(eol) = first[sp..].iter().position(|&b| b == b'\n').map(|i| sp + i) else {
        return if first.len() >= MAX_REQUEST_LINE {
            Verdict::Other
        } else {
            Verdict::NeedMore
        };
    };
    let line = first[..eol].strip_suffix(b"\r").unwrap_or(&first[..eol]);
    match line.iter().rposition(|&b| b == b' ') {
        Some(v) if v > sp && line[v + 1..].starts_with(b"HTTP/") => Verdict::Http1,
        _ => Verdict::Other,
    }
}

/// RFC 9110 §5.6.2 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests;
