//! The parsed response head: status, reason, version and header lines, kept as ranges into one buffer.

use std::ops::Range;

use bytes::Bytes;

use super::super::head::{has_token, Fields};
use super::super::Version;
use super::{H1ClientConfig, ResponseError};

/// How a response body is delimited (RFC 9112 §6.3), decided from the request and the response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseBody {
    /// No body: a HEAD request, 1xx, 204, 304, or `content-length: 0`.
    Empty,
    /// Exactly this many bytes follow.
    Length(u64),
    /// Chunked transfer coding, possibly with trailers.
    Chunked,
    /// The body runs until the server closes the connection.
    CloseDelimited,
}

/// One response head as received: cheap to clone, headers looked up case-insensitively.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    buf: Bytes,
    status: u16,
    reason: Range<usize>,
    version: Version,
    headers: Vec<(Range<usize>, Range<usize>)>,
    body: ResponseBody,
    keep_alive: bool,
}

impl ResponseHead {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (empty when absent or not UTF-8).
    pub fn reason(&self) -> &str {
        std::str::from_utf8(&self.buf[self.reason.clone()]).unwrap_or("")
    }

    /// The protocol version the server answered with.
    pub fn version(&self) -> Version {
        self.version
    }

    /// How the body is delimited.
    pub fn body(&self) -> ResponseBody {
        self.body
    }

    /// Whether the server lets the connection carry another request (before our request or the body's
    /// framing have a say; [`super::H1ClientConn::is_reusable`] has the final answer).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// First value of the named header (case-insensitive name), as bytes.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.fields().first(name)
    }

    /// First value of the named header if it is valid UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of the named header, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields().named(name)
    }

    /// All header lines as (name, value) pairs in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + Clone + '_ {
        self.fields().all()
    }

    /// Whether a comma-separated header (e.g. Connection) contains `token`, case-insensitively.
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name).any(|v| has_token(v, token))
    }

    fn fields(&self) -> Fields<'_> {
        Fields {
            buf: &self.buf,
            lines: &self.headers,
        }
    }
}

/// Outcome of trying to parse a response head from the front of the receive buffer.
pub(crate) enum HeadParse {
    /// More bytes are needed.
    Partial,
    /// A complete head of this many bytes.
    Complete(ResponseHead, usize),
}

/// Parses a response head from `buf`, applying the limits of `cfg`; `head_request` says whether it answers
/// a HEAD request (no body, whatever the headers say).
pub(crate) fn parse_head(
    buf: &[u8],
    cfg: &H1ClientConfig,
    head_request: bool,
) -> Result<HeadParse, ResponseError> {
    let mut slots = [httparse::EMPTY_HEADER; 256];
    let max_headers = cfg.max_headers.min(slots.len());
    let mut resp = httparse::Response::new(&mut slots[..max_headers]);
    let status = match resp.parse(buf) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(ResponseError::TooManyHeaders),
        Err(httparse::Error::Version) => return Err(ResponseError::UnsupportedVersion),
        Err(httparse::Error::Status) => return Err(ResponseError::BadStatus),
        Err(_) if buf.len() > cfg.max_head => return Err(ResponseError::HeadTooLarge),
        Err(_) => return Err(ResponseError::MalformedHead),
    };
    let len = match status {
        httparse::Status::Partial if buf.len() > cfg.max_head => {
            return Err(ResponseError::HeadTooLarge)
        }
        httparse::Status::Partial => return Ok(HeadParse::Partial),
        httparse::Status::Complete(len) if len > cfg.max_head => {
            return Err(ResponseError::HeadTooLarge)
        }
        httparse::Status::Complete(len) => len,
    };
    let version = match resp.version {
        Some(0) => Version::Http10,
        Some(1) => Version::Http11,
        _ => return Err(ResponseError::UnsupportedVersion),
    };
    let status = resp.code.ok_or(ResponseError::BadStatus)?;
    if !(100..=999).contains(&status) {
        return Err(ResponseError::BadStatus);
    }
    let head_buf = &buf[..len];
    let range = |s: &[u8]| range_in(head_buf, s);
    let reason = resp.reason.map(|r| range(r.as_bytes())).unwrap_or(0..0);
    let headers = resp
        .headers
        .iter()
        .map(|h| (range(h.name.as_bytes()), range(h.value)))
        .collect();
    let mut head = ResponseHead {
        buf: Bytes::copy_from_slice(head_buf),
        status,
        reason,
        version,
        headers,
        body: ResponseBody::Empty,
        keep_alive: false,
    };
    head.body = body_kind(&head, head_request)?;
    head.keep_alive = match version {
        Version::Http11 => !head.header_has_token("connection", "close"),
        Version::Http10 => head.header_has_token("connection", "keep-alive"),
        Version::Http2 => true,
    };
    Ok(HeadParse::Complete(head, len))
}

/// The range `part` covers inside `whole`; empty when httparse handed back a slice from elsewhere.
fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let base = whole.as_ptr() as usize;
    let start = (part.as_ptr() as usize).wrapping_sub(base);
    if start <= whole.len() && part.len() <= whole.len() - start {
        start..start + part.len()
    } else {
        0..0
    }
}

/// RFC 9112 §6.3, for a response.
fn body_kind(head: &ResponseHead, head_request: bool) -> Result<ResponseBody, ResponseError> {
    let status = head.status;
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(ResponseBody::Empty);
    }
    let te: Vec<&[u8]> = head.headers_named("transfer-encoding").collect();
    let cl: Vec<&[u8]> = head.headers_named("content-length").collect();
    match (te.is_empty(), cl.is_empty()) {
        (false, false) => Err(ResponseError::ConflictingLength),
        (false, true) => transfer_coding(&te),
        (true, false) => match content_length(&cl)? {
            0 => Ok(ResponseBody::Empty),
            n => Ok(ResponseBody::Length(n)),
        },
        (true, true) => Ok(ResponseBody::CloseDelimited),
    }
}

/// `chunked` last means chunked; any other final coding means the body runs until close (§6.3 item 4).
fn transfer_coding(values: &[&[u8]]) -> Result<ResponseBody, ResponseError> {
    let codings: Vec<&[u8]> = values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|c| c.trim_ascii())
        .collect();
    let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
    if codings.iter().any(|c| c.is_empty()) || codings.iter().filter(|c| chunked(c)).count() > 1 {
        return Err(ResponseError::BadTransferEncoding);
    }
    match codings.last() {
        Some(last) if chunked(last) => Ok(ResponseBody::Chunked),
        _ => Ok(ResponseBody::CloseDelimited),
    }
}

/// One decimal number; repeated lines or list members must all agree (RFC 9110 §8.6).
fn content_length(values: &[&[u8]]) -> Result<u64, ResponseError> {
    let mut found = None;
    for v in values.iter().flat_map(|v| v.split(|&b| b == b',')) {
        let v = v.trim_ascii();
        if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
            return Err(ResponseError::BadContentLength);
        }
        let n = v
            .iter()
            .try_fold(0u64, |acc, d| {
                acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .ok_or(ResponseError::BadContentLength)?;
        if found.is_some_and(|f| f != n) {
            return Err(ResponseError::BadContentLength);
        }
        found = Some(n);
    }
    found.ok_or(ResponseError::BadContentLength)
}
