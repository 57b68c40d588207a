//! The opening handshake (RFC 6455 §4), both roles, on top of HTTP/1.1 heads parsed elsewhere.
//!
//! Server: the HTTP/1.1 engine delivers a [`RequestHead`]; [`parse_upgrade`] checks it and extracts the key,
//! offered subprotocols and extensions; the runtime answers `101 Switching Protocols` with
//! `Sec-WebSocket-Accept: accept_key(key)` (plus the chosen protocol and extensions), or with
//! [`HandshakeError::status`] on failure (426 also carries `Sec-WebSocket-Version: 13`).
//!
//! Client: [`client_key`] makes a key from 16 random bytes, [`client_request`] writes the request head, and
//! [`check_response`] verifies the server's answer.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::http1::{RequestHead, Version};

/// The only protocol version RFC 6455 defines; sent in `Sec-WebSocket-Version`.
pub const WS_VERSION: &str = "13";

/// The GUID appended to the key before hashing (RFC 6455 §1.3).
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What a valid upgrade request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// `Sec-WebSocket-Key`, trimmed; feed it to [`accept_key`].
    pub key: String,
    /// The offered subprotocols (`Sec-WebSocket-Protocol`, all headers, split at commas), in the client's
    /// order of preference.
    pub protocols: Vec<String>,
    /// The raw `Sec-WebSocket-Extensions` header values, one per header line, for the extension negotiator.
    pub extensions: Vec<String>,
    /// The `Origin` header, for the application's origin check.
    pub origin: Option<String>,
}

/// Why an opening handshake failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// The request method is not GET.
    Method,
    /// The request is not HTTP/1.1.
    HttpVersion,
    /// The request has no Host header.
    MissingHost,
    /// `Connection` does not contain the `upgrade` token.
    NotUpgrade,
    /// `Upgrade` does not contain `websocket`.
    NotWebSocket,
    /// No `Sec-WebSocket-Version` header.
    MissingVersion,
    /// A `Sec-WebSocket-Version` other than 13: answered with 426 and `Sec-WebSocket-Version: 13`.
    Version,
    /// No `Sec-WebSocket-Key` header.
    MissingKey,
    /// A `Sec-WebSocket-Key` that is not the base64 encoding of 16 bytes.
    BadKey,
    /// Client side: the server answered with this status instead of 101.
    Status(u16),
    /// Client side: `Sec-WebSocket-Accept` missing or not derived from our key.
    BadAccept,
    /// Client side: the server chose a subprotocol we did not offer, or several.
    UnofferedProtocol,
}

impl HandshakeError {
    /// The HTTP status a server answers this failure with: 426 for an unsupported version, 400 otherwise
    /// (client-side variants, which a server never answers, also give 400).
    pub fn status(&self) -> u16 {
        match self {
            HandshakeError::Version => 426,
            _ => 400,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HandshakeError::*;
        match self {
            Method => f.write_str("websocket upgrade with a method other than GET"),
            HttpVersion => f.write_str("websocket upgrade not over HTTP/1.1"),
            MissingHost => f.write_str("websocket upgrade without Host"),
            NotUpgrade => f.write_str("Connection header lacks the upgrade token"),
            NotWebSocket => f.write_str("Upgrade header lacks websocket"),
            MissingVersion => f.write_str("missing Sec-WebSocket-Version"),
            Version => f.write_str("unsupported Sec-WebSocket-Version"),
            MissingKey => f.write_str("missing Sec-WebSocket-Key"),
            BadKey => f.write_str("Sec-WebSocket-Key is not 16 bytes of base64"),
            Status(s) => write!(f, "server answered {s} instead of 101"),
            BadAccept => f.write_str("wrong or missing Sec-WebSocket-Accept"),
            UnofferedProtocol => f.write_str("server chose a subprotocol that was not offered"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Checks that `head` is a valid WebSocket upgrade request (RFC 6455 §4.2.1) and extracts what it asks for.
pub fn parse_upgrade(head: &RequestHead) -> Result<UpgradeRequest, HandshakeError> {
    if head.method() != "GET" {
        return Err(HandshakeError::Method);
    }
    if head.version() != Version::Http11 {
        return Err(HandshakeError::HttpVersion);
    }
    if head.header("host").is_none() {
        return Err(HandshakeError::MissingHost);
    }
    if !head.header_has_token("connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    if !head.header_has_token("upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocket);
    }
    match head.header("sec-websocket-version") {
        None => return Err(HandshakeError::MissingVersion),
        Some(v) if v.trim_ascii() != WS_VERSION.as_bytes() => return Err(HandshakeError::Version),
        Some(_) => {}
    }
    let mut keys = head.headers_named("sec-websocket-key");
    let key = keys.next().ok_or(HandshakeError::MissingKey)?;
    if keys.next().is_some() {
        return Err(HandshakeError::BadKey);
    }
    let key = std::str::from_utf8(key.trim_ascii()).map_err(|_| HandshakeError::BadKey)?;
    // Decoded on the stack: only the length matters. Room for any key up to 24 characters (18 bytes); a
    // longer one does not fit and is no 16-byte key either.
    let mut raw = [0u8; 18];
    match BASE64.decode_slice(key, &mut raw) {
        Ok(16) => {}
        _ => return Err(HandshakeError::BadKey),
    }
    Ok(offers(head, key.to_owned()))
}

/// Checks that `head`, decoded from an HTTP/2 extended CONNECT whose `:protocol` is `websocket` (RFC 8441
/// §4), is a valid WebSocket opening and extracts what it asks for. There is no key: the answer is a 200.
pub fn parse_extended_connect(head: &RequestHead) -> Result<UpgradeRequest, HandshakeError> {
    if head.method() != "CONNECT" {
        return Err(HandshakeError::Method);
    }
    match head.header("sec-websocket-version") {
        None => return Err(HandshakeError::MissingVersion),
        Some(v) if v.trim_ascii() != WS_VERSION.as_bytes() => return Err(HandshakeError::Version),
        Some(_) => {}
    }
    Ok(offers(head, String::new()))
}

/// The subprotocols, extensions and origin a valid opening request offers.
fn offers(head: &RequestHead, key: String) -> UpgradeRequest {
    let text = |v: &[u8]| String::from_utf8_lossy(v.trim_ascii()).into_owned();
    let protocols = head
        .headers_named("sec-websocket-protocol")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(text)
        .filter(|p| !p.is_empty())
        .collect();
    let extensions = head
        .headers_named("sec-websocket-extensions")
        .map(text)
        .filter(|e| !e.is_empty())
        .collect();
    UpgradeRequest {
        key,
        protocols,
        extensions,
        origin: head.header("origin").map(text),
    }
}

/// `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2). The `sha1` crate uses the
/// CPU's SHA instructions where it has them: a tenth of the instructions per handshake of a portable SHA-1.
pub fn accept_key(key: &str) -> String {
    use sha1::Digest;
    let mut ctx = sha1::Sha1::new();
    ctx.update(key.as_bytes());
    ctx.update(GUID.as_bytes());
    BASE64.encode(ctx.finalize())
}

/// A client `Sec-WebSocket-Key` from 16 random bytes (the caller supplies them from a CSPRNG).
pub fn client_key(random16: [u8; 16]) -> String {
    BASE64.encode(random16)
}

/// Writes a complete client upgrade request head into `out` (RFC 6455 §4.1).
///
/// `protocols` become one `Sec-WebSocket-Protocol` header when not empty, `extensions` the
/// `Sec-WebSocket-Extensions` offer. CR, LF and NUL bytes in any argument are dropped so that no argument can
/// inject a header line.
pub fn client_request(
    host: &str,
    path: &str,
    key: &str,
    protocols: &[&str],
    extensions: Option<&str>,
    extra_headers: &[(&str, &str)],
    out: &mut Vec<u8>,
) {
    let path = if path.is_empty() { "/" } else { path };
    out.extend_from_slice(b"GET ");
    put_clean(out, path);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    header(out, "Host", host);
    header(out, "Upgrade", "websocket");
    header(out, "Connection", "Upgrade");
    header(out, "Sec-WebSocket-Key", key);
    header(out, "Sec-WebSocket-Version", WS_VERSION);
    if !protocols.is_empty() {
        out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
        for (i, p) in protocols.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            put_clean(out, p);
        }
        out.extend_from_slice(b"\r\n");
    }
    if let Some(ext) = extensions {
        header(out, "Sec-WebSocket-Extensions", ext);
    }
    for (name, value) in extra_headers {
        header(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
}

/// What the server agreed to in a valid 101 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccepted {
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// The server's `Sec-WebSocket-Extensions` (several header lines joined with ", "), for the extension
    /// negotiator to check against our offer.
    pub extensions: Option<String>,
}

/// Checks the server's response to our upgrade request (RFC 6455 §4.1, client requirements 1-6 except
/// extension validation, which belongs to the extension negotiator). Header names are matched
/// case-insensitively.
pub fn check_response(
    status: u16,
    headers: &[(&str, &[u8])],
    key: &str,
    offered_protocols: &[&str],
) -> Result<ClientAccepted, HandshakeError> {
    if status != 101 {
        return Err(HandshakeError::Status(status));
    }
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_ascii())
    };
    let has_token = |name: &'static str, token: &str| named(name).any(|v| has_token(v, token));
    if !has_token("upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocket);
    }
    if !has_token("connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    let mut accepts = named("sec-websocket-accept");
    match (accepts.next(), accepts.next()) {
        (Some(a), None) if a == accept_key(key).as_bytes() => {}
        _ => return Err(HandshakeError::BadAccept),
    }
    let mut chosen = named("sec-websocket-protocol").filter(|v| !v.is_empty());
    let protocol = match (chosen.next(), chosen.next()) {
        (None, _) => None,
        (Some(p), None) => {
            let p = std::str::from_utf8(p).map_err(|_| HandshakeError::UnofferedProtocol)?;
            if !offered_protocols.contains(&p) {
                return Err(HandshakeError::UnofferedProtocol);
            }
            Some(p.to_owned())
        }
        (Some(_), Some(_)) => return Err(HandshakeError::UnofferedProtocol),
    };
    let ext: Vec<String> = named("sec-websocket-extensions")
        .filter(|v| !v.is_empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let extensions = (!ext.is_empty()).then(|| ext.join(", "));
    Ok(ClientAccepted {
        protocol,
        extensions,
    })
}

/// Whether a comma-separated header value contains `token`, case-insensitively.
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    put_clean(out, name);
    out.extend_from_slice(b": ");
    put_clean(out, value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `s` without CR, LF and NUL, which would end or corrupt the header line.
fn put_clean(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().filter(|b| !matches!(b, b'\r' | b'\n' | b'\0')));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_accept_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn client_key_is_base64_of_16() {
        let k = client_key(*b"the sample nonce");
        assert_eq!(k, "dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn request_drops_line_breaks() {
        let mut out = Vec::new();
        client_request(
            "h",
            "/a\r\nX: y",
            "k",
            &["p1", "p2"],
            None,
            &[("X-A", "b\r\nEvil: 1")],
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("GET /aX: y HTTP/1.1\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: p1, p2\r\n"));
        assert!(text.contains("X-A: bEvil: 1\r\n"));
        assert!(!text.contains("\r\nEvil"));
    }
}
