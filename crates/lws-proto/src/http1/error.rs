//! Errors of the HTTP/1.1 engine, each naming the violation and the reaction it calls for.

use std::fmt;

/// Why the HTTP/1.1 engine stopped processing a connection.
///
/// Every variant maps to the protocol's reaction through [`H1Error::status`]: a status code to answer with
/// (when no response has started yet) before closing, or `None` for a plain close.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H1Error {
    /// The request head (request line plus header lines) exceeded the configured size.
    HeadTooLarge,
    /// The request line alone exceeded the configured head size.
    UriTooLong,
    /// More header lines than the configured maximum.
    TooManyHeaders,
    /// The request line or a header line is not valid HTTP/1.x syntax (includes obs-fold, bare CR, NUL,
    /// whitespace before the colon).
    MalformedHead,
    /// A line ended with a bare LF; we require CRLF so that no two parsers disagree on where a line ends.
    BareLf,
    /// The method token is longer than any method we could handle.
    MethodTooLong,
    /// The protocol version is not HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// The request target is not valid UTF-8.
    BadTarget,
    /// An HTTP/1.1 request without a Host header, or with more than one.
    BadHost,
    /// Content-Length is not one non-negative decimal number, or appears with different values.
    BadContentLength,
    /// Both Content-Length and Transfer-Encoding were sent (a classic request-smuggling shape).
    ConflictingLength,
    /// Transfer-Encoding whose final coding is not `chunked`, or `chunked` applied twice, or sent in HTTP/1.0.
    BadTransferEncoding,
    /// A transfer coding other than `chunked` that this server does not implement.
    UnsupportedTransferCoding,
    /// A chunk-size line that is not hex, overflows, or carries oversized extensions.
    BadChunk,
    /// The trailer section after the last chunk exceeded the head limits or is malformed.
    BadTrailers,
    /// The request body is larger than the limit the application set for it.
    BodyTooLarge,
    /// The peer closed the connection in the middle of a request.
    UnexpectedEof,
    /// No complete request head arrived within the head timeout (slowloris).
    HeadTimeout,
    /// The connection stayed idle between requests for longer than the keep-alive timeout.
    KeepAliveTimeout,
    /// No body bytes arrived within the body timeout.
    BodyTimeout,
}

impl H1Error {
    /// The status code to answer with before closing, or `None` when the connection is just closed.
    pub fn status(&self) -> Option<u16> {
        use H1Error::*;
        match self {
            HeadTooLarge | TooManyHeaders => Some(431),
            UriTooLong => Some(414),
            MalformedHead | BareLf | MethodTooLong | BadTarget | BadHost | BadContentLength
            | ConflictingLength | BadTransferEncoding | BadChunk | BadTrailers => Some(400),
            UnsupportedVersion => Some(505),
            UnsupportedTransferCoding => Some(501),
            BodyTooLarge => Some(413),
            UnexpectedEof | HeadTimeout | KeepAliveTimeout | BodyTimeout => None,
        }
    }
}

impl fmt::Display for H1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use H1Error::*;
        let text = match self {
            HeadTooLarge => "request head too large",
            UriTooLong => "request line too long",
            TooManyHeaders => "too many header lines",
            MalformedHead => "malformed request head",
            BareLf => "bare LF line ending in request head",
            MethodTooLong => "method too long",
            UnsupportedVersion => "unsupported HTTP version",
            BadTarget => "request target is not UTF-8",
            BadHost => "missing or repeated Host header",
            BadContentLength => "invalid Content-Length",
            ConflictingLength => "both Content-Length and Transfer-Encoding",
            BadTransferEncoding => "invalid Transfer-Encoding",
            UnsupportedTransferCoding => "unsupported transfer coding",
            BadChunk => "malformed chunk",
            BadTrailers => "malformed or oversized trailers",
            BodyTooLarge => "request body too large",
            UnexpectedEof => "connection closed mid-request",
            HeadTimeout => "request head not received in time",
            KeepAliveTimeout => "keep-alive idle timeout",
            BodyTimeout => "request body stalled",
        };
        f.write_str(text)
    }
}

impl std::error::Error for H1Error {}
