//! Request-target canonicalisation: the one place where the raw request-target of the request line becomes the
//! path that every route, mount and file lookup sees.
//!
//! Nothing downstream ever looks at the raw target, so every traversal trick has to die here. The contract of
//! [`Target::parse`], applied in this order:
//!
//! 1. The raw target is at most [`MAX_TARGET_LEN`] bytes ([`UriError::TooLong`], 414), is not empty
//!    ([`UriError::EmptyTarget`]) and is in origin form, i.e. starts with `/` ([`UriError::NotOriginForm`]):
//!    `*`, `http://host/x`, `host:80`, `./a` are all refused. `OPTIONS *` and `CONNECT` are handled by the runtime
//!    before it calls us. A target starting with `//` is an ordinary path with an empty first segment.
//! 2. The raw bytes are scanned once: a `#` anywhere ([`UriError::Fragment`]: a fragment is never sent by a
//!    client), a raw NUL ([`UriError::Nul`]) or another control byte, `0x01..=0x1f` or `0x7f`
//!    ([`UriError::ControlChar`]) refuse the target; the first offending byte decides which error.
//! 3. The query is split off at the first `?` and kept raw (not decoded); it must be UTF-8.
//! 4. The path is percent-decoded **exactly once**: a `%` not followed by two hex digits is
//!    [`UriError::BadPercentEscape`], a decoded NUL is [`UriError::Nul`], a decoded control byte is
//!    [`UriError::ControlChar`] (first offending position wins), and the decoded bytes must be UTF-8
//!    ([`UriError::InvalidUtf8`], which also refuses overlong forms such as `%c0%ae`, surrogates and lone
//!    continuation bytes). `+` is not special in the path.
//! 5. Only then are dot segments removed (RFC 3986 section 5.2.4, clamped at the root so `/../../x` is `/x`) and
//!    runs of `/` collapsed into one; a trailing slash is kept (`/a/b/..` and `/a/.` are `/a/`).
//!
//! Because decoding comes first, `%2e%2e`, `.%2e`, `%2E.` and `%2f` used as a separator are ordinary dots and
//! slashes by the time dot segments are removed, so they cannot smuggle a traversal past step 5. Because decoding
//! happens once, `%252e%252e` becomes the literal segment `%2e%2e`, which is a normal name: whoever decodes the
//! path a second time (a CGI, a proxy origin) gets no help from us, and must not. The canonical path may therefore
//! contain `%`, `?` and `#` as literal characters (from `%25`, `%3f`, `%23`).
//!
//! Only the exact segments `.` and `..` are dot segments. lws-rs serves Unix file systems, where a backslash is an
//! ordinary byte: `..\..` (raw or as `%5c`) is one segment with a strange name, not a traversal, and is kept as
//! it is. Look-alikes such as `%e2%80%a4` (ONE DOT LEADER) or `%ef%bc%8e` (FULLWIDTH FULL STOP) are kept as
//! literal names too.
//!
//! Every error maps to an HTTP status through [`UriError::status`]: 414 for [`UriError::TooLong`], 403 for the rest,
//! as libwebsockets does. All work is linear in the length of the target and nothing panics on any input.
//!
//! The query's `name=value` pairs ("urlargs") are decoded on demand by [`Target::args`], [`Target::arg`] and
//! [`parse_urlargs`], with the form-encoding rules described on [`parse_urlargs`].

mod args;
mod error;
mod path;
mod percent;

pub use args::parse_urlargs;
pub use error::UriError;

/// Default limit on the length of a raw request-target, in bytes; longer targets are [`UriError::TooLong`] (414).
///
/// It matches the default request head limit, so a target that fits in a head is never refused by this check;
/// use [`Target::parse_with_limit`] to apply a runtime-configured limit instead.
pub const MAX_TARGET_LEN: usize = 8192;

/// Result of canonicalising an origin-form request target: the canonical path and the raw query.
///
/// Built only by [`Target::parse`] (or [`Target::parse_with_limit`]), so holding a `Target` proves the path passed
/// every check described in the [module documentation](crate::uri).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    path: String,
    query: Option<String>,
}

impl Target {
    /// Parse and canonicalise the raw request-target bytes from the request line (e.g. `b"/a/../b%20c/?x=1"`),
    /// refusing targets longer than [`MAX_TARGET_LEN`].
    ///
    /// See the [module documentation](crate::uri) for the exact rules and the order in which they are applied.
    pub fn parse(raw: &[u8]) -> Result<Self, UriError> {
        Self::parse_with_limit(raw, MAX_TARGET_LEN)
    }

    /// Like [`Target::parse`], with a caller-chosen length limit so the runtime can apply its configured request
    /// head size instead of [`MAX_TARGET_LEN`].
    pub fn parse_with_limit(raw: &[u8], max_len: usize) -> Result<Self, UriError> {
        if raw.len() > max_len {
            return Err(UriError::TooLong);
        }
        match raw.first() {
            None => return Err(UriError::EmptyTarget),
            Some(b'/') => {}
            Some(_) => return Err(UriError::NotOriginForm),
        }
        check_raw_bytes(raw)?;
        let (raw_path, raw_query) = match memchr::memchr(b'?', raw) {
            Some(at) => (&raw[..at], Some(&raw[at + 1..])),
            None => (raw, None),
        };
        let decoded = percent::decode_path(raw_path)?;
        // Most paths are canonical already: keep the decoded string instead of building another.
        let path = if path::is_canonical(&decoded) {
            decoded
        } else {
            path::canonicalise(&decoded)
        };
        let query = match raw_query {
            Some(query) => Some(
                std::str::from_utf8(query)
                    .map_err(|_| UriError::InvalidUtf8)?
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Self { path, query })
    }

    /// The canonical, percent-decoded path: always starts with `/`, has no `.` or `..` segments, no `//`, no NUL
    /// or control characters, and is valid UTF-8. This is what mounts are matched against.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string after the first `?`, not decoded (`None` if there was no `?`, `Some("")` for a bare
    /// `?`). Raw so that a proxy or CGI can pass it on unchanged.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The decoded urlargs of the query, in order, following the rules of [`parse_urlargs`]; empty when there is
    /// no query.
    ///
    /// Decoded on every call (the query is at most [`MAX_TARGET_LEN`] bytes), so callers that need several
    /// arguments should call this once and keep the vector.
    pub fn args(&self) -> Result<Vec<(String, String)>, UriError> {
        match &self.query {
            Some(query) => parse_urlargs(query),
            None => Ok(Vec::new()),
        }
    }

    /// The value of the first urlarg named `name` (names compare exactly, after decoding).
    ///
    /// A malformed query has no arguments at all: if [`Target::args`] fails, this returns `None` rather than a
    /// value that happened to precede the malformed part.
    pub fn arg(&self, name: &str) -> Option<String> {
        self.args()
            .ok()?
            .into_iter()
            .find(|(arg_name, _)| arg_name == name)
            .map(|(_, value)| value)
    }
}

/// Step 2 of the contract: refuse a fragment, a raw NUL or a raw control byte anywhere in the target.
fn check_raw_bytes(raw: &[u8]) -> Result<(), UriError> {
    for &byte in raw {
        match byte {
            b'#' => return Err(UriError::Fragment),
            0 => return Err(UriError::Nul),
            0x01..=0x1f | 0x7f => return Err(UriError::ControlChar),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(raw: &str) -> String {
        Target::parse(raw.as_bytes()).unwrap().path().to_owned()
    }

    #[test]
    fn splits_query_at_first_question_mark() {
        let target = Target::parse(b"/a/../b%20c/?x=1?y").unwrap();
        assert_eq!(target.path(), "/b c/");
        assert_eq!(target.query(), Some("x=1?y"));
        let target = Target::parse(b"/a?").unwrap();
        assert_eq!(target.query(), Some(""));
        assert_eq!(Target::parse(b"/a").unwrap().query(), None);
    }

    #[test]
    fn query_is_not_decoded_or_canonicalised() {
        let target = Target::parse(b"/x?a=%2e%2e/../%00").unwrap();
        assert_eq!(target.path(), "/x");
        assert_eq!(target.query(), Some("a=%2e%2e/../%00"));
    }

    #[test]
    fn refuses_non_origin_forms() {
        for raw in [&b"*"[..], b"http://x/", b"host:80", b"./a", b"../a", b"a"] {
            assert_eq!(Target::parse(raw), Err(UriError::NotOriginForm), "{raw:?}");
        }
        assert_eq!(Target::parse(b""), Err(UriError::EmptyTarget));
    }

    #[test]
    fn raw_scan_reports_first_offender() {
        assert_eq!(Target::parse(b"/a#\x00"), Err(UriError::Fragment));
        assert_eq!(Target::parse(b"/a\x00#"), Err(UriError::Nul));
        assert_eq!(Target::parse(b"/a\r\n#"), Err(UriError::ControlChar));
        assert_eq!(Target::parse(b"/a?b#c"), Err(UriError::Fragment));
        assert_eq!(Target::parse(b"/a?b\x00"), Err(UriError::Nul));
    }

    #[test]
    fn length_limit_is_checked_first() {
        let mut raw = vec![b'/'; MAX_TARGET_LEN];
        assert!(Target::parse(&raw).is_ok());
        raw.push(b'a');
        assert_eq!(Target::parse(&raw), Err(UriError::TooLong));
        assert_eq!(
            Target::parse(&[b'*'; MAX_TARGET_LEN + 1]),
            Err(UriError::TooLong)
        );
        assert_eq!(Target::parse_with_limit(b"/abc", 3), Err(UriError::TooLong));
        assert!(Target::parse_with_limit(b"/abc", 4).is_ok());
    }

    #[test]
    fn decodes_before_removing_dot_segments() {
        assert_eq!(path_of("/a/%2e%2e/%2E%2e/etc%2fpasswd"), "/etc/passwd");
        assert_eq!(path_of("/%252e%252e/x"), "/%2e%2e/x");
        assert_eq!(path_of("/..%5c..%5cx"), "/..\\..\\x");
    }

    #[test]
    fn args_and_arg() {
        let target = Target::parse(b"/f?a=1&b=x+y;a=2&c").unwrap();
        let args = target.args().unwrap();
        assert_eq!(
            args,
            [("a", "1"), ("b", "x y"), ("a", "2"), ("c", "")]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        assert_eq!(target.arg("a").as_deref(), Some("1"));
        assert_eq!(target.arg("c").as_deref(), Some(""));
        assert_eq!(target.arg("d"), None);
        assert_eq!(Target::parse(b"/f").unwrap().args(), Ok(Vec::new()));
    }

    #[test]
    fn malformed_query_has_no_args() {
        let target = Target::parse(b"/f?a=1&b=%zz").unwrap();
        assert_eq!(target.args(), Err(UriError::BadPercentEscape));
        assert_eq!(target.arg("a"), None);
    }

    /// Every target up to 6 bytes after the leading '/' over an alphabet rich in traversal material: the output
    /// invariants hold and canonicalisation is idempotent.
    #[test]
    fn exhaustive_small_targets_keep_invariants() {
        const ALPHABET: &[u8] = b"/.%2efa?";
        let mut raw = Vec::with_capacity(8);
        for len in 0..=6u32 {
            for mut n in 0..ALPHABET.len().pow(len) {
                raw.clear();
                raw.push(b'/');
                for _ in 0..len {
                    raw.push(ALPHABET[n % ALPHABET.len()]);
                    n /= ALPHABET.len();
                }
                let Ok(target) = Target::parse(&raw) else {
                    continue;
                };
                let path = target.path();
                assert!(path.starts_with('/'), "{raw:?}");
                assert!(!path.contains("//"), "{raw:?}");
                assert!(path.split('/').all(|s| s != "." && s != ".."), "{raw:?}");
                if !path.contains(['%', '?', '#']) {
                    let again = Target::parse(path.as_bytes()).unwrap();
                    assert_eq!(again.path(), path, "{raw:?}");
                }
            }
        }
    }
}
