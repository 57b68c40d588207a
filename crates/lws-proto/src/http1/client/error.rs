//! Errors of the HTTP/1.1 client engine: what the server did wrong ([`ResponseError`]) and what the
//! application asked for that cannot be sent ([`RequestError`]).

use std::fmt;

/// Why a response could not be read. Every one is fatal to the connection (sticky): the exchange fails and
/// the connection is not reused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseError {
    /// The response head (status line plus header lines) exceeded [`super::H1ClientConfig::max_head`].
    HeadTooLarge,
    /// More header lines than [`super::H1ClientConfig::max_headers`].
    TooManyHeaders,
    /// The status line or a header line is not valid HTTP/1.x syntax.
    MalformedHead,
    /// The protocol version is not HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// The status code is outside 100..=999 (three digits are required).
    BadStatus,
    /// Content-Length is not one non-negative decimal number, or appears with different values.
    BadContentLength,
    /// Both Content-Length and Transfer-Encoding: RFC 9112 §6.3 calls this a smuggling shape to treat as an
    /// error.
    ConflictingLength,
    /// Transfer-Encoding applies `chunked` more than once or is empty.
    BadTransferEncoding,
    /// A chunk-size line that is not hex, overflows, or carries oversized extensions.
    BadChunk,
    /// The trailer section after the last chunk exceeded the head limits or is malformed.
    BadTrailers,
    /// The server closed the connection before sending any byte of a response (a reused keep-alive
    /// connection the server had already given up on: the request may be retried on a new connection).
    ClosedBeforeResponse,
    /// The server closed the connection inside the response head.
    IncompleteHead,
    /// The server closed the connection before the end of a body whose length it had announced.
    IncompleteBody,
    /// The server sent bytes while no request was waiting for an answer.
    UnsolicitedData,
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ResponseError::*;
        f.write_str(match self {
            HeadTooLarge => "response head too large",
            TooManyHeaders => "too many header lines in the response",
            MalformedHead => "malformed response head",
            UnsupportedVersion => "unsupported HTTP version in the response",
            BadStatus => "invalid status code",
            BadContentLength => "invalid Content-Length in the response",
            ConflictingLength => "response has both Content-Length and Transfer-Encoding",
            BadTransferEncoding => "invalid Transfer-Encoding in the response",
            BadChunk => "malformed chunk in the response body",
            BadTrailers => "malformed or oversized trailers in the response",
            ClosedBeforeResponse => "the server closed the connection without answering",
            IncompleteHead => "the server closed the connection inside the response head",
            IncompleteBody => "the server closed the connection before the end of the body",
            UnsolicitedData => "the server sent data without a request",
        })
    }
}

impl std::error::Error for ResponseError {}

/// Why a request cannot be sent as asked. Nothing is written when a request head is refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The method is not an RFC 9110 token.
    InvalidMethod,
    /// The request target is empty or holds whitespace, control characters or non-ASCII bytes.
    InvalidTarget,
    /// A header name is not a token, or its value holds CR, LF or NUL (it could split the request).
    InvalidHeader(String),
    /// `Content-Length`, `Transfer-Encoding` or `Host` given as an ordinary header: the engine writes these
    /// from the request's body framing and host.
    ReservedHeader(String),
    /// A request was started while the previous exchange is still in progress, or on a connection that
    /// cannot carry another one.
    NotReady,
    /// More body bytes than the announced Content-Length.
    BodyTooLong,
    /// The request was finished with fewer body bytes than the announced Content-Length.
    BodyTooShort,
    /// Body bytes or a finish without a request body in progress.
    NoBody,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidMethod => f.write_str("invalid request method"),
            RequestError::InvalidTarget => f.write_str("invalid request target"),
            RequestError::InvalidHeader(n) => write!(f, "invalid request header {n:?}"),
            RequestError::ReservedHeader(n) => {
                write!(f, "header {n:?} is set from the request itself")
            }
            RequestError::NotReady => f.write_str("the connection is not ready for a request"),
            RequestError::BodyTooLong => f.write_str("more body bytes than announced"),
            RequestError::BodyTooShort => f.write_str("fewer body bytes than announced"),
            RequestError::NoBody => f.write_str("no request body is being sent"),
        }
    }
}

impl std::error::Error for RequestError {}
