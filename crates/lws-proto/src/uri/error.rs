//! The ways a request-target or a query can be refused.

use std::fmt;

/// Why a request-target or its urlargs were refused; each variant names one violation.
///
/// The runtime answers with [`UriError::status`] and never routes the request, so a refused target cannot reach
/// a mount, a file or a handler.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriError {
    /// A `%` not followed by two hex digits (`%`, `%4`, `%zz`, `%u002e`): ambiguous input is refused rather than
    /// guessed at.
    BadPercentEscape,
    /// A control byte (`0x01..=0x1f` or `0x7f`), raw anywhere in the target or percent-encoded in the path: such
    /// bytes enable header and log injection and never name a real resource.
    ControlChar,
    /// The request-target is empty.
    EmptyTarget,
    /// The target contains `#`: clients never send fragments, so one is a sign of a confused or hostile peer.
    Fragment,
    /// The decoded path, a raw query or a decoded urlarg is not UTF-8; this includes overlong encodings such as
    /// `%c0%ae`, which old decoders turned into `.`.
    InvalidUtf8,
    /// The target does not start with `/` (`*`, absolute form `http://host/x`, authority form `host:80`, a
    /// relative path): the runtime handles `OPTIONS *` and `CONNECT` itself, everything else must be origin form.
    NotOriginForm,
    /// A NUL byte, raw anywhere in the target, percent-encoded (`%00`) in the path, or in a urlarg name: C code
    /// and file systems would truncate the name there.
    Nul,
    /// The raw target is longer than the limit ([`super::MAX_TARGET_LEN`] by default).
    TooLong,
}

impl UriError {
    /// The HTTP status the runtime answers with: 414 (URI Too Long) for [`UriError::TooLong`], 403 (Forbidden)
    /// for every other variant, as libwebsockets does.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLong => 414,
            _ => 403,
        }
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadPercentEscape => "malformed percent escape in request target",
            Self::ControlChar => "control character in request target",
            Self::EmptyTarget => "empty request target",
            Self::Fragment => "fragment in request target",
            Self::InvalidUtf8 => "request target is not valid UTF-8 after decoding",
            Self::NotOriginForm => "request target does not start with '/'",
            Self::Nul => "NUL byte in request target",
            Self::TooLong => "request target too long",
        })
    }
}

impl std::error::Error for UriError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_403_except_too_long() {
        let all = [
            UriError::BadPercentEscape,
            UriError::ControlChar,
            UriError::EmptyTarget,
            UriError::Fragment,
            UriError::InvalidUtf8,
            UriError::NotOriginForm,
            UriError::Nul,
            UriError::TooLong,
        ];
        for error in all {
            let expected = if error == UriError::TooLong { 414 } else { 403 };
            assert_eq!(error.status(), expected, "{error:?}");
            assert!(!error.to_string().is_empty());
        }
    }
}
