//! Streaming parser for HTML form bodies: the role of libwebsockets' `lws_spa`.
//!
//! A request body of type `application/x-www-form-urlencoded` or `multipart/form-data` (RFC 7578, with the
//! boundary rules of RFC 2046 section 5.1) is fed in chunks of any size, split anywhere: inside a percent
//! escape, inside a part header, inside the boundary. The parser delivers [`FormEvent`]s as soon as they are
//! complete. File parts are streamed in pieces ([`FormEvent::FileData`]) and never buffered whole.
//!
//! # Memory
//!
//! The parser holds at most one field name ([`FormLimits::max_name`]), one field value
//! ([`FormLimits::max_value`]), the header block of one part ([`FormLimits::max_part_header`]) and
//! `boundary.len() + 3` bytes that might be the start of a delimiter. Input that would need more is refused with
//! a [`FormError`] as soon as the limit is crossed, whatever the chunking.
//!
//! # Strictness
//!
//! - Multipart part headers must end their lines with CRLF; a bare LF or CR is [`FormError::MalformedPart`].
//!   Obsolete header folding is refused too.
//! - Every part needs `Content-Disposition: form-data` with a `name` parameter. A part with a `filename`
//!   parameter (even an empty one, which browsers send for an empty file input) is a file part.
//! - In quoted parameter values a backslash escapes the next byte only when that byte is a MIME `tspecial`
//!   (such as `"` or `\`); otherwise it is kept, so Windows paths sent by old browsers survive.
//! - The part body ends at `CRLF--boundary`. After the delimiter only transport padding (spaces, tabs) then
//!   CRLF, or `--` for the closing delimiter, is accepted. The preamble and the epilogue are ignored.
//! - Names, values and filenames must be UTF-8 (after percent-decoding for urlencoded bodies).
//!
//! # Filenames
//!
//! [`FormEvent::FileStart`] delivers the filename exactly as the client sent it. It is attacker-controlled:
//! never use it as a path. [`safe_filename`] reduces it to a single, harmless path component.
//!
//! For most handlers [`Spa`] is the convenient entry point: it keeps the parameters a handler asks for and
//! passes file parts to a callback.

use std::fmt;

mod multipart;
mod spa;
mod urlencoded;

pub use spa::{FileEvent, Spa};

/// Size and count limits of one form body; every one is checked while bytes arrive, so they bound memory use.
#[derive(Debug, Clone)]
pub struct FormLimits {
    /// Longest field name in bytes (after decoding). Default 256.
    pub max_name: usize,
    /// Longest value of a non-file field in bytes (after decoding). Default 1024, the per-parameter storage of
    /// `lws_spa`.
    pub max_value: usize,
    /// Most fields in one body, file parts included. Default 64.
    pub max_fields: usize,
    /// Most bytes of all header lines of one multipart part, CRLFs included. Default 4096.
    pub max_part_header: usize,
    /// Largest file part in bytes, or `None` to let the caller decide. Default `None`.
    pub max_file_size: Option<u64>,
}

impl FormLimits {
    /// Sets [`FormLimits::max_name`].
    pub fn max_name(mut self, bytes: usize) -> Self {
        self.max_name = bytes;
        self
    }

    /// Sets [`FormLimits::max_value`].
    pub fn max_value(mut self, bytes: usize) -> Self {
        self.max_value = bytes;
        self
    }

    /// Sets [`FormLimits::max_fields`].
    pub fn max_fields(mut self, count: usize) -> Self {
        self.max_fields = count;
        self
    }

    /// Sets [`FormLimits::max_part_header`].
    pub fn max_part_header(mut self, bytes: usize) -> Self {
        self.max_part_header = bytes;
        self
    }

    /// Sets [`FormLimits::max_file_size`].
    pub fn max_file_size(mut self, bytes: Option<u64>) -> Self {
        self.max_file_size = bytes;
        self
    }
}

impl Default for FormLimits {
    fn default() -> Self {
        FormLimits {
            max_name: 256,
            max_value: 1024,
            max_fields: 64,
            max_part_header: 4096,
            max_file_size: None,
        }
    }
}

/// What the body is, from the `Content-Type` request header value; chooses the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    /// `application/x-www-form-urlencoded`: `name=value` pairs joined by `&` (or `;`).
    UrlEncoded,
    /// `multipart/form-data`: parts separated by `--boundary` lines.
    Multipart {
        /// The boundary parameter, without the leading `--`.
        boundary: Vec<u8>,
    },
}

impl FormKind {
    /// Parses a `Content-Type` header value.
    ///
    /// The media type is matched case-insensitively. For `multipart/form-data` the `boundary` parameter is
    /// required; it may be quoted and must be 1 to 70 characters from the RFC 2046 `bchars` set, not ending in
    /// a space.
    pub fn from_content_type(value: &str) -> Result<FormKind, FormError> {
        let (media, params) = match value.find(';') {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        let media = media.trim_matches(is_ows);
        if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Ok(FormKind::UrlEncoded);
        }
        if !media.eq_ignore_ascii_case("multipart/form-data") {
            return Err(FormError::BadContentType);
        }
        let mut boundary = None;
        for param in parse_params(params.as_bytes()).ok_or(FormError::BadContentType)? {
            if param.name.eq_ignore_ascii_case(b"boundary") {
                if boundary.is_some() {
                    return Err(FormError::BadBoundary);
                }
                boundary = Some(param.value);
            }
        }
        let boundary = boundary.ok_or(FormError::MissingBoundary)?;
        if boundary.is_empty()
            || boundary.len() > 70
            || boundary.ends_with(b" ")
            || !boundary.iter().all(|&b| is_bchar(b))
        {
            return Err(FormError::BadBoundary);
        }
        Ok(FormKind::Multipart { boundary })
    }
}

/// One step of a parsed form body, delivered in body order while feeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormEvent<'a> {
    /// A complete non-file field: an urlencoded pair, or a multipart part without `filename`.
    Field {
        /// The field name.
        name: &'a str,
        /// The field value.
        value: &'a str,
    },
    /// A file part begins; its bytes follow as [`FormEvent::FileData`], then [`FormEvent::FileEnd`].
    FileStart {
        /// The field name.
        name: &'a str,
        /// The filename exactly as sent, possibly empty. Not a safe path: see [`safe_filename`].
        filename: &'a str,
        /// The part's `Content-Type` header, if any, trimmed.
        content_type: Option<&'a str>,
    },
    /// The next piece of the current file, never empty; pieces arrive in order.
    FileData(&'a [u8]),
    /// The current file part is complete.
    FileEnd,
}

/// Streaming form body parser: feed chunks, receive [`FormEvent`]s; memory is bounded by [`FormLimits`].
#[derive(Debug)]
pub struct FormParser {
    inner: Inner,
    limits: FormLimits,
    error: Option<FormError>,
    finished: bool,
}

#[derive(Debug)]
enum Inner {
    UrlEncoded(urlencoded::UrlEncoded),
    Multipart(Box<multipart::Multipart>),
}

impl FormParser {
    /// Creates a parser for one body of the given kind.
    pub fn new(kind: FormKind, limits: FormLimits) -> FormParser {
        let inner = match kind {
            FormKind::UrlEncoded => Inner::UrlEncoded(urlencoded::UrlEncoded::new()),
            FormKind::Multipart { boundary } => {
                Inner::Multipart(Box::new(multipart::Multipart::new(&boundary)))
            }
        };
        FormParser {
            inner,
            limits,
            error: None,
            finished: false,
        }
    }

    /// Feeds the next body chunk; calls `sink` for each event that became complete.
    ///
    /// A sink error aborts parsing and is returned. Errors are sticky: later calls return the same error again.
    /// Data fed after a successful [`FormParser::finish`] is ignored.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(FormEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        let r = match &mut self.inner {
            Inner::UrlEncoded(p) => p.feed(chunk, &self.limits, sink),
            Inner::Multipart(p) => p.feed(chunk, &self.limits, sink),
        };
        self.remember(r)
    }

    /// The body ended: flushes the last urlencoded field; for multipart, requires that the closing boundary
    /// was seen (otherwise [`FormError::Truncated`]).
    pub fn finish(
        &mut self,
        sink: &mut dyn FnMut(FormEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        let r = match &mut self.inner {
            Inner::UrlEncoded(p) => p.finish(&self.limits, sink),
            Inner::Multipart(p) => p.finish(),
        };
        self.finished = r.is_ok();
        self.remember(r)
    }

    fn remember(&mut self, r: Result<(), FormError>) -> Result<(), FormError> {
        if let Err(e) = &r {
            self.error = Some(e.clone());
        }
        r
    }
}

/// Why a form body was refused; [`FormError::status`] gives the HTTP reaction.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// The multipart boundary is empty, longer than 70, has characters outside RFC 2046 `bchars`, ends in a
    /// space, or is given twice.
    BadBoundary,
    /// The `Content-Type` is neither urlencoded nor `multipart/form-data`, or its parameters do not parse.
    BadContentType,
    /// A `%` in an urlencoded body is not followed by two hex digits.
    BadPercentEscape,
    /// A file part is larger than [`FormLimits::max_file_size`].
    FileTooLarge,
    /// A name, value, filename or content type is not UTF-8.
    InvalidUtf8,
    /// Multipart syntax error: bad delimiter line, bare CR or LF in headers, missing or malformed
    /// `Content-Disposition`, duplicate header or parameter.
    MalformedPart,
    /// `multipart/form-data` without a `boundary` parameter.
    MissingBoundary,
    /// A field name is longer than [`FormLimits::max_name`].
    NameTooLong,
    /// The header block of a part is longer than [`FormLimits::max_part_header`].
    PartHeaderTooLong,
    /// The sink refused an event.
    Rejected,
    /// The body has more than [`FormLimits::max_fields`] fields.
    TooManyFields,
    /// The multipart body ended before its closing delimiter.
    Truncated,
    /// A non-file value is longer than [`FormLimits::max_value`].
    ValueTooLong,
}

impl FormError {
    /// The HTTP status to answer with: 413 for the size and count limits, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            FormError::FileTooLarge
            | FormError::NameTooLong
            | FormError::PartHeaderTooLong
            | FormError::TooManyFields
            | FormError::ValueTooLong => 413,
            _ => 400,
        }
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormError::BadBoundary => "invalid multipart boundary",
            FormError::BadContentType => "unsupported form content type",
            FormError::BadPercentEscape => "bad percent escape in form body",
            FormError::FileTooLarge => "uploaded file too large",
            FormError::InvalidUtf8 => "form text is not UTF-8",
            FormError::MalformedPart => "malformed multipart part",
            FormError::MissingBoundary => "multipart content type without boundary",
            FormError::NameTooLong => "form field name too long",
            FormError::PartHeaderTooLong => "multipart part header too long",
            FormError::Rejected => "form rejected by handler",
            FormError::TooManyFields => "too many form fields",
            FormError::Truncated => "form body truncated",
            FormError::ValueTooLong => "form field value too long",
        })
    }
}

impl std::error::Error for FormError {}

/// Reduces a client-sent filename to one harmless path component, or `None` if nothing safe remains.
///
/// Directory components separated by `/` or `\` are stripped (`../../etc/passwd` gives `passwd`). Names that
/// are empty, `.` or `..` after stripping, or that contain NUL or other control characters, are refused.
pub fn safe_filename(raw: &str) -> Option<String> {
    if raw.chars().any(char::is_control) {
        return None;
    }
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    match last {
        "" | "." | ".." => None,
        name => Some(name.to_owned()),
    }
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 2046 `bchars`: digits, letters and `'()+_,-./:=?` plus space.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// MIME `tspecials` (RFC 2045): the bytes a backslash may escape in a quoted string.
fn is_tspecial(b: u8) -> bool {
    b"()<>@,;:\\\"/[]?=".contains(&b)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// One `name=value` header parameter, its value unquoted.
#[derive(Debug, PartialEq, Eq)]
struct Param<'a> {
    name: &'a [u8],
    value: Vec<u8>,
}

/// Parses `; name=value; name="quoted"` header parameters.
///
/// Each parameter needs `=`; a trailing `;` is allowed. `None` on a syntax error: callers pick the error.
fn parse_params(s: &[u8]) -> Option<Vec<Param<'_>>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        // Here `s[i]` is `;` (or the start of a list that began with one).
        if s[i] != b';' {
            return None;
        }
        i += 1;
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        if i == s.len() {
            break;
        }
        let eq = match memchr::memchr2(b'=', b';', &s[i..]) {
            Some(p) if s[i + p] == b'=' => i + p,
            _ => return None,
        };
        let name = trim_ows(&s[i..eq]);
        if name.is_empty() {
            return None;
        }
        i = eq + 1;
        while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
            i += 1;
        }
        let mut value = Vec::new();
        if s.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match s.get(i) {
                    None => return None,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if s.get(i + 1).is_some_and(|&n| is_tspecial(n)) => {
                        value.push(s[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            while i < s.len() && (s[i] == b' ' || s[i] == b'\t') {
                i += 1;
            }
        } else {
            let end = memchr::memchr(b';', &s[i..]).map_or(s.len(), |p| i + p);
            value.extend_from_slice(trim_ows(&s[i..end]));
            i = end;
        }
        out.push(Param { name, value });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(b: &str) -> Result<FormKind, FormError> {
        Ok(FormKind::Multipart {
            boundary: b.as_bytes().to_vec(),
        })
    }

    #[test]
    fn content_type_kinds() {
        assert_eq!(
            FormKind::from_content_type("application/x-www-form-urlencoded"),
            Ok(FormKind::UrlEncoded)
        );
        assert_eq!(
            FormKind::from_content_type("Application/X-WWW-Form-UrlEncoded; charset=UTF-8"),
            Ok(FormKind::UrlEncoded)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=abc"),
            multipart("abc")
        );
        assert_eq!(
            FormKind::from_content_type("MULTIPART/Form-Data ;charset=utf-8; BOUNDARY=\"a b:c\" "),
            multipart("a b:c")
        );
        assert_eq!(
            FormKind::from_content_type(
                "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"
            ),
            multipart("----WebKitFormBoundary7MA4YWxkTrZu0gW")
        );
    }

    #[test]
    fn content_type_errors() {
        assert_eq!(
            FormKind::from_content_type("text/plain"),
            Err(FormError::BadContentType)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/mixed; boundary=a"),
            Err(FormError::BadContentType)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data"),
            Err(FormError::MissingBoundary)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; charset=x"),
            Err(FormError::MissingBoundary)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=\"\""),
            Err(FormError::BadBoundary)
        );
        let long = format!("multipart/form-data; boundary={}", "x".repeat(71));
        assert_eq!(
            FormKind::from_content_type(&long),
            Err(FormError::BadBoundary)
        );
        let max = format!("multipart/form-data; boundary={}", "x".repeat(70));
        assert!(FormKind::from_content_type(&max).is_ok());
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=\"ab \""),
            Err(FormError::BadBoundary)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=a\u{e9}"),
            Err(FormError::BadBoundary)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=a; boundary=b"),
            Err(FormError::BadBoundary)
        );
        assert_eq!(
            FormKind::from_content_type("multipart/form-data; boundary=\"abc"),
            Err(FormError::BadContentType)
        );
    }

    #[test]
    fn status_codes() {
        assert_eq!(FormError::FileTooLarge.status(), 413);
        assert_eq!(FormError::TooManyFields.status(), 413);
        assert_eq!(FormError::MalformedPart.status(), 400);
        assert_eq!(FormError::Rejected.status(), 400);
        assert_eq!(FormError::Truncated.to_string(), "form body truncated");
    }

    #[test]
    fn safe_filenames() {
        assert_eq!(safe_filename("photo.jpg").as_deref(), Some("photo.jpg"));
        assert_eq!(safe_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(
            safe_filename("C:\\Users\\me\\cv.pdf").as_deref(),
            Some("cv.pdf")
        );
        assert_eq!(safe_filename("a/b\\..").as_deref(), None);
        assert_eq!(safe_filename(""), None);
        assert_eq!(safe_filename("."), None);
        assert_eq!(safe_filename("dir/"), None);
        assert_eq!(safe_filename("a\0b"), None);
        assert_eq!(safe_filename("a\nb"), None);
        assert_eq!(
            safe_filename("caf\u{e9} 1.txt").as_deref(),
            Some("caf\u{e9} 1.txt")
        );
    }

    #[test]
    fn params_quoting() {
        let p = parse_params(b"; a=1; b=\"x\\\"y\\z\"; c = \" q \" ;").unwrap();
        let pair = |p: &Param<'_>| (p.name.to_vec(), p.value.clone());
        assert_eq!(pair(&p[0]), (b"a".to_vec(), b"1".to_vec()));
        assert_eq!(pair(&p[1]), (b"b".to_vec(), b"x\"y\\z".to_vec()));
        assert_eq!(pair(&p[2]), (b"c".to_vec(), b" q ".to_vec()));
        assert!(parse_params(b"; a").is_none());
        assert!(parse_params(b"; a=\"x\" junk").is_none());
    }
}
