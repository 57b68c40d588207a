//! Response compression: which responses are compressed and with what (`settings.rs`), the compressors
//! (`encoder.rs`) and their per-thread pool (`pool.rs`), and the body that compresses another as it is sent
//! (`body.rs`). Both HTTP drivers call [`apply`] on every response as it leaves routing, so files, handler
//! responses and proxied responses are treated alike; HTTP/1.1 then frames the body chunked, HTTP/2 streams it.

#[cfg(feature = "compression")]
mod body;
#[cfg(feature = "compression")]
mod encoder;
#[cfg(feature = "compression")]
mod pool;
pub(crate) mod settings;

pub use settings::{Compression, ContentCoding};

pub(crate) use settings::compressible_type;

use bytes::Bytes;
use lws_proto::coding::AcceptEncoding;

use crate::http::outgoing::{OutBody, Outgoing};
use crate::http::Request;

/// What a file mount needs to look for precompressed siblings of a file: the client's `Accept-Encoding`
/// and the codings offered. `None` when compression is off or the request must get the file as it is (a
/// `Range`, or no `Accept-Encoding`). Ranking waits until the file turns out to be of a compressible type.
pub(crate) fn sibling_accept<'a>(
    settings: &'a Compression,
    req: &Request,
) -> Option<(AcceptEncoding, &'a [ContentCoding])> {
    if !settings.is_enabled() || !settings.precompressed || req.header("range").is_some() {
        return None;
    }
    let accept = AcceptEncoding::parse(req.head.header("accept-encoding")?);
    Some((accept, &settings.codings))
}

/// Compresses the response if the settings, the request and the response all allow it; marks it as varying
/// by `Accept-Encoding` whenever its type and size are ones this server compresses.
pub(crate) fn apply(o: &mut Outgoing, req: &Request, settings: &Compression) {
    if !settings.is_enabled() || o.tunnel.is_some() {
        return;
    }
    if o.status == 304 {
        return not_modified(o, req, settings);
    }
    if matches!(o.body, OutBody::Empty) {
        return;
    }
    if matches!(o.status, 100..=199 | 204 | 206 | 304) {
        return;
    }
    let compressible = match (o.own_field(b"content-type"), &o.file) {
        (Some(ct), _) => compressible_type(ct),
        (None, Some(file)) => file.compressible_body(),
        (None, None) => false,
    };
    if !compressible {
        return;
    }
    if o.field(b"content-encoding").is_some() {
        // Already encoded (a precompressed file, an origin's gzip): sent as it is.
        return;
    }
    if o.field(b"cache-control")
        .is_some_and(|v| contains_token(v, b"no-transform"))
    {
        return;
    }
    if o.body.known_len().is_some_and(|n| n < settings.min_size) {
        return;
    }
    add_vary(o);
    if req.method() == "HEAD" || req.header("range").is_some() {
        return;
    }
    if let Some(coding) = negotiate(req, settings) {
        encode(o, coding, settings.level);
    }
}

/// The coding the client prefers among those offered, if it accepts any.
fn negotiate(req: &Request, settings: &Compression) -> Option<ContentCoding> {
    let accept = req.head.header("accept-encoding")?;
    AcceptEncoding::parse(accept).choose(&settings.codings)
}

/// A 304 for a file carries what the 200 would have: `Vary`, and the weak validator of the compressed form
/// when the client would get that form (RFC 9110 §15.4.5).
fn not_modified(o: &mut Outgoing, req: &Request, settings: &Compression) {
    let Some(file) = &o.file else { return };
    let (compressible, size) = file.representation();
    if file.coding.is_some() || !compressible || size < settings.min_size {
        return;
    }
    let transformed = req.header("range").is_none() && negotiate(req, settings).is_some();
    add_vary(o);
    if let Some(file) = &mut o.file {
        file.transformed = transformed;
    }
}

#[cfg(feature = "compression")]
fn encode(o: &mut Outgoing, coding: ContentCoding, level: Option<u32>) {
    let encoder = match pool::take(coding, level) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(
                "{} compressor: {e}; sending the body as it is",
                coding.token()
            );
            return;
        }
    };
    o.headers.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("content-length") && !n.eq_ignore_ascii_case("accept-ranges")
    });
    // The encoded body is another representation: a strong validator of the original must not match it.
    for (n, v) in o.headers.iter_mut() {
        if n.eq_ignore_ascii_case("etag") && !v.starts_with(b"W/") {
            *v = Bytes::from([&b"W/"[..], v].concat());
        }
    }
    if let Some(file) = &mut o.file {
        file.transformed = true;
    }
    o.headers.push((
        "content-encoding".into(),
        Bytes::from_static(coding.token().as_bytes()),
    ));
    let inner = std::mem::replace(&mut o.body, OutBody::Empty);
    let body = body::Compressed::new(crate::http::pump::Pump::new(inner), coding, level, encoder);
    o.body = OutBody::Source(Box::pin(body));
}

#[cfg(not(feature = "compression"))]
fn encode(_: &mut Outgoing, _: ContentCoding, _: Option<u32>) {}

/// Adds `accept-encoding` to the response's `Vary` (or adds the field), unless it varies on everything.
fn add_vary(o: &mut Outgoing) {
    let has_vary = || {
        o.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("vary"))
    };
    if o.file.is_some() && !has_vary() {
        // A file's own headers carry it: no field pushed (and allocated) per response.
        if let Some(file) = &mut o.file {
            file.varies_by_encoding = true;
        }
        return;
    }
    match o
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("vary"))
    {
        Some((_, v)) if contains_token(v, b"accept-encoding") || contains_token(v, b"*") => {}
        Some((_, v)) => *v = Bytes::from([&v[..], b", accept-encoding"].concat()),
        None => o
            .headers
            .push(("vary".into(), Bytes::from_static(b"accept-encoding"))),
    }
}

/// Whether a comma-separated field value holds `token` (case-insensitive, parameters ignored).
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    // A value shorter than the token cannot hold it: most responses' values are, and need no split.
    value.len() >= token.len()
        && value.split(|&b| b == b',').any(|member| {
            let name = member.split(|&b| b == b'=').next().unwrap_or_default();
            name.trim_ascii().eq_ignore_ascii_case(token)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_matched_whole() {
        assert!(contains_token(b"public, no-transform", b"no-transform"));
        assert!(contains_token(b"No-Transform", b"no-transform"));
        assert!(!contains_token(b"no-transformation", b"no-transform"));
        assert!(contains_token(b"origin, *", b"*"));
        assert!(!contains_token(b"max-age=5", b"age"));
    }
}
