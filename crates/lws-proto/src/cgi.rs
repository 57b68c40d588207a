//! The head of a CGI script's output (RFC 3875 section 6): header lines up to an empty line, then the body.
//!
//! Sans-IO like every parser here: [`parse_head`] looks at the bytes read so far and says "need more",
//! "here is the head and where the body starts", or why the output is not a CGI head. Limits on the size
//! of the head and the number of fields are arguments, so a script cannot make the server buffer without
//! bound. Lines may end with CRLF or a bare LF (scripts commonly print `\n`).

use std::fmt;

/// Default largest head a script may print: 64 KiB.
pub const DEFAULT_MAX_HEAD: usize = 64 * 1024;
/// Default most header fields in a head: 100.
pub const DEFAULT_MAX_FIELDS: usize = 100;

/// A parsed CGI response head.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CgiHead {
    /// The `Status` field's code, when the script gave one (always 200..=599).
    pub status: Option<u16>,
    /// The `Location` field, when given.
    pub location: Option<String>,
    /// The `Content-Type` field, when given.
    pub content_type: Option<Vec<u8>>,
    /// The `Content-Length` field, when given.
    pub content_length: Option<u64>,
    /// Every other field in order, names lowercase; fields that frame the connection (`connection`,
    /// `transfer-encoding`, `keep-alive`, `upgrade`, ...) are dropped, since the server frames the response.
    pub fields: Vec<(String, Vec<u8>)>,
}

/// What [`parse_head`] made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// No empty line yet and still under the limit: read more.
    Partial,
    /// The head, and how many bytes it took (the body starts there).
    Complete(CgiHead, usize),
}

/// Why a script's output is not a usable CGI head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadError {
    /// The head is longer than the limit.
    TooLarge,
    /// More fields than the limit.
    TooManyFields,
    /// A line that is not `name: value`.
    Malformed,
    /// `Status` is not a three-digit code in 200..=599 (optionally followed by a reason).
    BadStatus,
    /// `Content-Length` is not a number.
    BadContentLength,
    /// `Status`, `Location`, `Content-Type` or `Content-Length` appears twice.
    Duplicate,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeadError::TooLarge => "CGI head over the size limit",
            HeadError::TooManyFields => "CGI head with too many fields",
            HeadError::Malformed => "malformed CGI header line",
            HeadError::BadStatus => "invalid CGI Status field",
            HeadError::BadContentLength => "invalid CGI Content-Length field",
            HeadError::Duplicate => "CGI head repeats a field that must be single",
        })
    }
}

impl std::error::Error for HeadError {}

/// Fields a script may not set: the server frames the response and owns the connection.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Parses the head at the start of `buf`, within `max_head` bytes and `max_fields` fields.
pub fn parse_head(buf: &[u8], max_head: usize, max_fields: usize) -> Result<Parsed, HeadError> {
    let mut storage = vec![httparse::EMPTY_HEADER; max_fields.max(1)];
    let (used, raw) = match httparse::parse_headers(buf, &mut storage) {
        Ok(httparse::Status::Complete((used, raw))) => (used, raw),
        Ok(httparse::Status::Partial) if buf.len() >= max_head => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyFields),
        Err(_) => return Err(HeadError::Malformed),
    };
    if used > max_head {
        return Err(HeadError::TooLarge);
    }
    if max_fields == 0 && !raw.is_empty() {
        return Err(HeadError::TooManyFields);
    }
    let mut head = CgiHead::default();
    for h in raw.iter() {
        let value = h.value;
        if h.name.eq_ignore_ascii_case("status") {
            set_once(&mut head.status, status_code(value)?)?;
        } else if h.name.eq_ignore_ascii_case("location") {
            let text = std::str::from_utf8(value).map_err(|_| HeadError::Malformed)?;
            set_once(&mut head.location, text.to_string())?;
        } else if h.name.eq_ignore_ascii_case("content-type") {
            set_once(&mut head.content_type, value.to_vec())?;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            set_once(&mut head.content_length, content_length(value)?)?;
        } else if !HOP_BY_HOP.iter().any(|n| h.name.eq_ignore_ascii_case(n)) {
            head.fields
                .push((h.name.to_ascii_lowercase(), value.to_vec()));
        }
    }
    Ok(Parsed::Complete(head, used))
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), HeadError> {
    if slot.is_some() {
        return Err(HeadError::Duplicate);
    }
    *slot = Some(value);
    Ok(())
}

/// `Status: 404 Not Found` -> 404.
fn status_code(value: &[u8]) -> Result<u16, HeadError> {
    let digits = value.get(..3).ok_or(HeadError::BadStatus)?;
    if !digits.iter().all(u8::is_ascii_digit) || value.get(3).is_some_and(|b| *b != b' ') {
        return Err(HeadError::BadStatus);
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(200..=599).contains(&code) {
        return Err(HeadError::BadStatus);
    }
    Ok(code)
}

fn content_length(value: &[u8]) -> Result<u64, HeadError> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::BadContentLength);
    }
    Ok(value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Checks for the fuzz target: a parsed head respects its limits and never claims bytes it was not given.
#[doc(hidden)]
pub fn fuzz_check(data: &[u8]) {
    let max_fields = usize::from(data.first().copied().unwrap_or(0) % 8);
    let max_head = 64 + usize::from(data.get(1).copied().unwrap_or(0)) * 4;
    let data = data.get(2..).unwrap_or(&[]);
    match parse_head(data, max_head, max_fields) {
        Ok(Parsed::Complete(head, used)) => {
            assert!(used <= data.len() && used <= max_head);
            assert!(head.fields.len() <= max_fields);
            assert!(head.status.is_none_or(|s| (200..=599).contains(&s)));
            // The same bytes followed by anything parse to the same head.
            let mut more = data[..used].to_vec();
            more.extend_from_slice(b"body");
            assert_eq!(
                parse_head(&more, max_head, max_fields),
                Ok(Parsed::Complete(head, used))
            );
        }
        Ok(Parsed::Partial) => assert!(data.len() < max_head),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Parsed, HeadError> {
        parse_head(s.as_bytes(), DEFAULT_MAX_HEAD, DEFAULT_MAX_FIELDS)
    }

    #[test]
    fn status_type_and_other_fields_with_bare_lf() {
        let text =
            "Status: 404 Not Found\nContent-Type: text/plain\nX-A: 1\nConnection: close\n\nbody";
        let Ok(Parsed::Complete(head, used)) = parse(text) else {
            panic!("complete head expected");
        };
        assert_eq!(&text[used..], "body");
        assert_eq!(head.status, Some(404));
        assert_eq!(head.content_type.as_deref(), Some(&b"text/plain"[..]));
        assert_eq!(head.fields, vec![("x-a".to_string(), b"1".to_vec())]);
    }

    #[test]
    fn crlf_location_and_length() {
        let text = "Location: /x\r\nContent-Length: 12\r\n\r\n";
        let Ok(Parsed::Complete(head, used)) = parse(text) else {
            panic!("complete head expected");
        };
        assert_eq!(used, text.len());
        assert_eq!(head.location.as_deref(), Some("/x"));
        assert_eq!(head.content_length, Some(12));
    }

    #[test]
    fn partial_until_the_empty_line() {
        assert_eq!(parse("Content-Type: text/plain\n"), Ok(Parsed::Partial));
        assert_eq!(parse(""), Ok(Parsed::Partial));
    }

    #[test]
    fn bad_heads_are_named() {
        assert_eq!(parse("not a header\n\n"), Err(HeadError::Malformed));
        assert_eq!(parse("Status: abc\n\n"), Err(HeadError::BadStatus));
        assert_eq!(parse("Status: 99\n\n"), Err(HeadError::BadStatus));
        assert_eq!(parse("Status: 1000\n\n"), Err(HeadError::BadStatus));
        assert_eq!(parse("Status: 101\n\n"), Err(HeadError::BadStatus));
        assert_eq!(
            parse("Content-Length: -1\n\n"),
            Err(HeadError::BadContentLength)
        );
        assert_eq!(
            parse("Status: 200\nStatus: 404\n\n"),
            Err(HeadError::Duplicate)
        );
    }

    #[test]
    fn limits_hold() {
        let long = format!("X: {}\n", "a".repeat(100));
        assert_eq!(
            parse_head(long.as_bytes(), 64, 10),
            Err(HeadError::TooLarge)
        );
        assert_eq!(
            parse_head(b"A: 1\nB: 2\nC: 3\n\n", 1024, 2),
            Err(HeadError::TooManyFields)
        );
    }

    #[test]
    fn fuzz_check_accepts_samples() {
        for s in [
            &b"\x05\x10Status: 200\n\nx"[..],
            b"",
            b"\x00\x00\n\n",
            b"\x07\xffA: b\r\n\r\n",
        ] {
            fuzz_check(s);
        }
    }
}
