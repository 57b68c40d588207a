//! The parsed request head: method, target, version and header lines, kept as ranges into one buffer.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::{H1Config, H1Error};

/// HTTP/1.x protocol version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: no chunked coding, keep-alive only on request.
    Http10,
    /// HTTP/1.1.
    Http11,
    /// HTTP/2: a request that arrived on an HTTP/2 stream and was given an HTTP/1-style head so that routing
    /// and handlers treat both alike.
    Http2,
}

impl Version {
    /// The version as it appears on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::Http2 => "HTTP/2.0",
        }
    }
}

/// How the request body is delimited, decided from the head (RFC 9112 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// Exactly this many bytes follow.
    Length(u64),
    /// Chunked transfer coding, possibly with trailers.
    Chunked,
}

/// One request head as received: cheap to clone, headers looked up case-insensitively.
///
/// All text is kept in one shared buffer; accessors return slices of it, so parsing a head costs one small
/// allocation for the header index.
#[derive(Debug, Clone)]
pub struct RequestHead {
    buf: Bytes,
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
    headers: Vec<(Range<usize>, Range<usize>)>,
    body: BodyKind,
    keep_alive: bool,
    expect_continue: bool,
}

impl RequestHead {
    /// A bare `GET / HTTP/1.1` head without header lines, for answering a request whose own head could not
    /// be parsed (so error responses and logs can treat it like any other).
    pub fn placeholder() -> RequestHead {
        const LINE: &[u8] = b"GET / HTTP/1.1";
        RequestHead {
            buf: Bytes::from_static(LINE),
            method: 0..3,
            target: 4..5,
            version: Version::Http11,
            headers: Vec::new(),
            body: BodyKind::Empty,
            keep_alive: false,
            expect_continue: false,
        }
    }

    /// A head built from parts decoded elsewhere (an HTTP/2 request): `buf` holds every text and the ranges
    /// point into it. Method, target and names must be UTF-8 (HTTP/2 checked them to be tokens and visible
    /// ASCII); a body of `content_length` bytes, or of unknown length, may follow.
    pub fn from_parts(
        buf: Bytes,
        method: Range<usize>,
        target: Range<usize>,
        headers: Vec<(Range<usize>, Range<usize>)>,
        body: BodyKind,
    ) -> RequestHead {
        RequestHead {
            buf,
            method,
            target,
            version: Version::Http2,
            headers,
            body,
            keep_alive: true,
            expect_continue: false,
        }
    }

    /// The head of an internal `GET` for `target` made on behalf of this request (a CGI local redirect, RFC
    /// 3875 §6.2.2; a `HEAD` stays a `HEAD`): the same version and header fields except those that describe a
    /// body, and no body.
    pub fn redirected(&self, target: &str) -> RequestHead {
        const BODY_FIELDS: [&str; 4] = [
            "content-length",
            "transfer-encoding",
            "content-type",
            "expect",
        ];
        let method_name: &[u8] = if self.method() == "HEAD" {
            b"HEAD"
        } else {
            b"GET"
        };
        let mut buf = Vec::with_capacity(self.buf.len() + target.len());
        buf.extend_from_slice(method_name);
        let method = 0..buf.len();
        buf.extend_from_slice(target.as_bytes());
        let target = method.end..buf.len();
        let mut headers = Vec::with_capacity(self.headers.len());
        for (n, v) in self.headers() {
            if BODY_FIELDS.iter().any(|b| n.eq_ignore_ascii_case(b)) {
                continue;
            }
            let start = buf.len();
            buf.extend_from_slice(n.as_bytes());
            let mid = buf.len();
            buf.extend_from_slice(v);
            headers.push((start..mid, mid..buf.len()));
        }
        RequestHead {
            buf: buf.into(),
            method,
            target,
            version: self.version,
            headers,
            body: BodyKind::Empty,
            keep_alive: self.keep_alive,
            expect_continue: false,
        }
    }

    /// The method token, e.g. `GET`.
    pub fn method(&self) -> &str {
        // The common methods without a UTF-8 check: several layers ask for the method of every request.
        match &self.buf[self.method.clone()] {
            b"GET" => "GET",
            b"HEAD" => "HEAD",
            b"POST" => "POST",
            _ => self.text(&self.method),
        }
    }

    /// The request target exactly as sent (not canonicalised; see `lws_proto::uri`).
    pub fn target(&self) -> &str {
        self.text(&self.target)
    }

    /// The request target's bytes exactly as sent.
    pub fn target_bytes(&self) -> &[u8] {
        &self.buf[self.target.clone()]
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// How the body is delimited.
    pub fn body_kind(&self) -> BodyKind {
        self.body
    }

    /// Whether the connection may carry another request after this one (before the response has a say).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.expect_continue
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

    /// Whether the request asks to switch protocols (`Connection: upgrade` plus an `Upgrade` header).
    pub fn is_upgrade(&self) -> bool {
        self.header("upgrade").is_some() && self.header_has_token("connection", "upgrade")
    }

    fn text(&self, r: &Range<usize>) -> &str {
        // Ranges only ever cover bytes that `parse` checked to be UTF-8 (method, target, header names).
        std::str::from_utf8(&self.buf[r.clone()]).unwrap_or("")
    }
}

/// Header lines kept as ranges into one buffer: the lookups request and response heads share. Names are
/// ASCII tokens (httparse checked them, or HTTP/2 validation did).
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) lines: &'a [(Range<usize>, Range<usize>)],
}

impl<'a> Fields<'a> {
    /// The first value of the named header (case-insensitive name).
    pub(crate) fn first(self, name: &str) -> Option<&'a [u8]> {
        self.lines
            .iter()
            .find(|(n, _)| self.buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.buf[v.clone()])
    }

    /// Every value of the named header (case-insensitive name), in order.
    pub(crate) fn named(self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines
            .iter()
            .filter(move |(n, _)| self.buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(move |(_, v)| &self.buf[v.clone()])
    }

    /// All lines as (name, value) bytes in the order received.
    pub(crate) fn raw(self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.lines
            .iter()
            .map(move |(n, v)| (&self.buf[n.clone()], &self.buf[v.clone()]))
    }

    /// All lines as (name, value) in the order received.
    pub(crate) fn all(self) -> impl Iterator<Item = (&'a str, &'a [u8])> + Clone + 'a {
        self.lines.iter().map(move |(n, v)| {
            let name = std::str::from_utf8(&self.buf[n.clone()]).unwrap_or("");
            (name, &self.buf[v.clone()])
        })
    }
}

/// Whether a comma-separated list value contains `token` (case-insensitive, whitespace trimmed).
pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Outcome of trying to parse a head from the front of the receive buffer.
pub(crate) enum HeadParse {
    /// More bytes are needed.
    Partial,
    /// A complete head, taken off the buffer.
    Complete(RequestHead),
}

/// Parses a request head from the front of `rx`, applying every limit of `cfg`. A complete head is taken
/// off `rx` without a copy: the request keeps the bytes it arrived in.
pub(crate) fn parse_head(rx: &mut BytesMut, cfg: &H1Config) -> Result<HeadParse, H1Error> {
    let Some(lines) = head_lines(rx, cfg)? else {
        return Ok(HeadParse::Partial);
    };
    let head = RequestHead {
        buf: rx.split_to(lines.len).freeze(),
        method: lines.method,
        target: lines.target,
        version: lines.version,
        headers: lines.headers,
        body: BodyKind::Empty,
        keep_alive: false,
        expect_continue: false,
    };
    finish_head(head).map(HeadParse::Complete)
}

/// Where the parts of a complete head lie in the buffer it was parsed from.
struct HeadLines {
    len: usize,
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
    headers: Vec<(Range<usize>, Range<usize>)>,
}

/// Finds a complete head at the front of `buf` (`None`: more bytes are needed).
fn head_lines(buf: &[u8], cfg: &H1Config) -> Result<Option<HeadLines>, H1Error> {
    // Uninitialised slots: filling 128 empty headers (4 KiB) on every request cost more than parsing a
    // typical head.
    let mut slots = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; 128];
    let max_headers = cfg.max_headers.min(slots.len());
    let mut req = httparse::Request::new(&mut []);
    let status = match req.parse_with_uninit_headers(buf, &mut slots[..max_headers]) {
        Ok(s) => s,
        Err(e) => return Err(map_httparse_error(e, buf, cfg)),
    };
    let len = match status {
        httparse::Status::Partial => {
            check_partial(buf, cfg)?;
            return Ok(None);
        }
        httparse::Status::Complete(len) => len,
    };
    if len > cfg.max_head {
        return Err(oversize(buf, cfg));
    }
    check_crlf(&buf[..len])?;
    let base = buf.as_ptr() as usize;
    let range = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        start..start + s.len()
    };
    let method = req.method.unwrap_or("");
    if method.len() > cfg.max_method {
        return Err(H1Error::MethodTooLong);
    }
    let target = req.path.unwrap_or("");
    let version = match req.version {
        Some(0) => Version::Http10,
        Some(1) => Version::Http11,
        _ => return Err(H1Error::UnsupportedVersion),
    };
    let mut headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        headers.push((range(h.name.as_bytes()), range(h.value)));
    }
    Ok(Some(HeadLines {
        len,
        method: range(method.as_bytes()),
        target: range(target.as_bytes()),
        version,
        headers,
    }))
}

/// Derives body framing, keep-alive and expectations from the header lines, rejecting smuggling shapes.
fn finish_head(mut head: RequestHead) -> Result<RequestHead, H1Error> {
    let (body, keep_alive, expect_continue) = {
        let framing = Framing::of(&head);
        let hosts_ok = match head.version {
            Version::Http11 => framing.hosts == 1,
            _ => framing.hosts <= 1,
        };
        if !hosts_ok {
            return Err(H1Error::BadHost);
        }
        let body = match (framing.te.is_empty(), framing.cl.is_empty()) {
            (false, false) => return Err(H1Error::ConflictingLength),
            (false, true) => {
                if head.version == Version::Http10 {
                    return Err(H1Error::BadTransferEncoding);
                }
                transfer_coding(&framing.te)?
            }
            (true, false) => match content_length(&framing.cl)? {
                0 => BodyKind::Empty,
                n => BodyKind::Length(n),
            },
            (true, true) => BodyKind::Empty,
        };
        let connection_has = |token: &str| framing.connection.iter().any(|v| has_token(v, token));
        let keep_alive = match head.version {
            Version::Http11 => !connection_has("close"),
            Version::Http10 => connection_has("keep-alive"),
            Version::Http2 => true,
        };
        let expect_continue = head.version == Version::Http11
            && framing
                .expect
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
        (body, keep_alive, expect_continue)
    };
    head.body = body;
    head.keep_alive = keep_alive;
    head.expect_continue = expect_continue;
    Ok(head)
}

/// The header lines that decide a request's framing and connection handling, found in one pass.
#[derive(Default)]
struct Framing<'a> {
    hosts: usize,
    te: Vec<&'a [u8]>,
    cl: Vec<&'a [u8]>,
    connection: Vec<&'a [u8]>,
    /// The first `Expect` line.
    expect: Option<&'a [u8]>,
}

impl<'a> Framing<'a> {
    fn of(head: &'a RequestHead) -> Framing<'a> {
        let mut f = Framing::default();
        for (name, value) in head.fields().raw() {
            let is = |wanted: &str| name.eq_ignore_ascii_case(wanted.as_bytes());
            if is("host") {
                f.hosts += 1;
            } else if is("content-length") {
                f.cl.push(value);
            } else if is("transfer-encoding") {
                f.te.push(value);
            } else if is("connection") {
                f.connection.push(value);
            } else if is("expect") && f.expect.is_none() {
                f.expect = Some(value);
            }
        }
        f
    }
}

fn transfer_coding(values: &[&[u8]]) -> Result<BodyKind, H1Error> {
    let codings: Vec<&[u8]> = values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|c| c.trim_ascii())
        .collect();
    let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
    match codings.last() {
        Some(last) if chunked(last) => {}
        _ => return Err(H1Error::BadTransferEncoding),
    }
    if codings.iter().filter(|c| chunked(c)).count() > 1 || codings.iter().any(|c| c.is_empty()) {
        return Err(H1Error::BadTransferEncoding);
    }
    if codings.len() > 1 {
        return Err(H1Error::UnsupportedTransferCoding);
    }
    Ok(BodyKind::Chunked)
}

fn content_length(values: &[&[u8]]) -> Result<u64, H1Error> {
    if values.len() != 1 {
        return Err(H1Error::BadContentLength);
    }
    let v = values[0].trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Err(H1Error::BadContentLength);
    }
    v.iter()
        .try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or(H1Error::BadContentLength)
}

/// Rejects a bare LF anywhere in the head: httparse accepts it, but a front proxy might not.
fn check_crlf(head: &[u8]) -> Result<(), H1Error> {
    // One pass without early exit over byte pairs (it vectorises): heads are short, where memchr's setup
    // per newline cost more.
    let bare_lf = head.first() == Some(&b'\n')
        || head
            .iter()
            .zip(head.iter().skip(1))
            .fold(false, |bad, (&prev, &b)| {
                bad | ((b == b'\n') & (prev != b'\r'))
            });
    if bare_lf {
        return Err(H1Error::BareLf);
    }
    Ok(())
}

/// Applies the size limits to a head that is still incomplete, so a slow or endless head is cut off early.
fn check_partial(buf: &[u8], cfg: &H1Config) -> Result<(), H1Error> {
    if buf.len() > cfg.max_head {
        return Err(oversize(buf, cfg));
    }
    if memchr::memchr(b'\n', buf).is_none() {
        let method_len = buf.iter().position(|&b| b == b' ').unwrap_or(buf.len());
        if method_len > cfg.max_method {
            return Err(H1Error::MethodTooLong);
        }
        return Ok(());
    }
    let lines = memchr::memchr_iter(b'\n', buf).count();
    if lines > cfg.max_headers + 1 {
        return Err(H1Error::TooManyHeaders);
    }
    check_crlf(buf)
}

/// Which limit an oversized head broke: the request line alone (414) or the head as a whole (431).
fn oversize(buf: &[u8], cfg: &H1Config) -> H1Error {
    let line = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    if line > cfg.max_head {
        H1Error::UriTooLong
    } else {
        H1Error::HeadTooLarge
    }
}

/// 505 is for a well-formed `HTTP/x.y` this server does not speak; a protocol name that is not `HTTP` (or a
/// version that is not `DIGIT "." DIGIT`) makes the request line malformed: 400 (RFC 9112 §2.3, §3).
fn version_error(buf: &[u8]) -> H1Error {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = buf[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..line_end]);
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            H1Error::UnsupportedVersion
        }
        _ => H1Error::MalformedHead,
    }
}

fn map_httparse_error(e: httparse::Error, buf: &[u8], cfg: &H1Config) -> H1Error {
    match e {
        httparse::Error::TooManyHeaders => H1Error::TooManyHeaders,
        httparse::Error::Version => version_error(buf),
        httparse::Error::Token => {
            let method_len = buf.iter().position(|&b| b == b' ').unwrap_or(buf.len());
            if method_len > cfg.max_method {
                H1Error::MethodTooLong
            } else {
                H1Error::MalformedHead
            }
        }
        _ => {
            if buf.len() > cfg.max_head {
                oversize(buf, cfg)
            } else {
                H1Error::MalformedHead
            }
        }
    }
}
