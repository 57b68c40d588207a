//! A response head as both wire drivers report it: [`ResponseStart`] (status, version, headers, what the
//! framing says of the body) and [`HttpVersion`]. Everything above the drivers reads this one shape.

use std::fmt;

use super::headers::Headers;

/// The HTTP version a response came with.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
    /// HTTP/2.
    Http2,
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        })
    }
}

/// The head of a response, protocol-independent.
#[derive(Debug)]
pub(crate) struct ResponseStart {
    /// The status code.
    pub(crate) status: u16,
    /// The protocol that carried the response.
    pub(crate) version: HttpVersion,
    /// The header fields.
    pub(crate) headers: Headers,
    /// The body's announced length, when the framing says it.
    pub(crate) content_length: Option<u64>,
    /// The response has no body at all (HEAD, 204, 304, 101, `content-length: 0`).
    pub(crate) bodiless: bool,
}
