//! Percent-decoding, shared by the path and the urlargs so both refuse the same malformed escapes.

use super::UriError;

/// Decode the raw path (query already split off), once, refusing NUL and control bytes and non-UTF-8 results.
pub(super) fn decode_path(raw: &[u8]) -> Result<String, UriError> {
    decode(raw, false, |byte, _| match byte {
        0 => Err(UriError::Nul),
        0x01..=0x1f | 0x7f => Err(UriError::ControlChar),
        _ => Ok(byte),
    })
}

/// Percent-decode `raw` once into a UTF-8 string.
///
/// With `plus_is_space` a raw `+` becomes a space (form encoding). Every resulting byte goes through `filter`
/// together with whether it came from a `%XX` escape; the filter may replace it or refuse the input. Errors come
/// from the first offending position; UTF-8 validity is checked last, on the whole result.
pub(super) fn decode(
    raw: &[u8],
    plus_is_space: bool,
    mut filter: impl FnMut(u8, bool) -> Result<u8, UriError>,
) -> Result<String, UriError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        let (decoded, encoded, tail) = match byte {
            b'%' => match tail {
                [hi, lo, tail @ ..] => match (hex_value(*hi), hex_value(*lo)) {
                    (Some(hi), Some(lo)) => (hi << 4 | lo, true, tail),
                    _ => return Err(UriError::BadPercentEscape),
                },
                _ => return Err(UriError::BadPercentEscape),
            },
            b'+' if plus_is_space => (b' ', false, tail),
            _ => (byte, false, tail),
        };
        out.push(filter(decoded, encoded)?);
        rest = tail;
    }
    String::from_utf8(out).map_err(|_| UriError::InvalidUtf8)
}

/// The value of one ASCII hex digit, either case.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(raw: &str) -> Result<String, UriError> {
        decode(raw.as_bytes(), false, |b, _| Ok(b))
    }

    #[test]
    fn decodes_both_cases_once() {
        assert_eq!(plain("%41%6a%6A%2e%2E"), Ok("Ajj..".to_owned()));
        assert_eq!(plain("%252e"), Ok("%2e".to_owned()));
        assert_eq!(plain("a+b"), Ok("a+b".to_owned()));
        assert_eq!(decode(b"a+b%2b", true, |b, _| Ok(b)), Ok("a b+".to_owned()));
        assert_eq!(plain(""), Ok(String::new()));
    }

    #[test]
    fn refuses_bad_escapes() {
        for raw in [
            "%", "%4", "a%", "%zz", "%g0", "%0g", "%%41", "%-1", "%+1", "%u002e", "% 1",
        ] {
            assert_eq!(plain(raw), Err(UriError::BadPercentEscape), "{raw}");
        }
    }

    #[test]
    fn refuses_invalid_utf8_including_overlong() {
        for raw in [
            "%c0%ae",
            "%e0%80%ae",
            "%c0%af",
            "%ed%a0%80",
            "%ff",
            "%80",
            "%c3",
        ] {
            assert_eq!(plain(raw), Err(UriError::InvalidUtf8), "{raw}");
        }
        assert_eq!(plain("%c3%a9"), Ok("\u{e9}".to_owned()));
    }

    #[test]
    fn filter_sees_encoded_flag() {
        let seen = decode(b"=%3d", false, |b, encoded| {
            Ok(if encoded && b == b'=' { b'_' } else { b })
        });
        assert_eq!(seen, Ok("=_".to_owned()));
    }

    #[test]
    fn path_refuses_nul_and_controls_first_offender_wins() {
        assert_eq!(decode_path(b"/%00"), Err(UriError::Nul));
        assert_eq!(decode_path(b"/\x00"), Err(UriError::Nul));
        assert_eq!(decode_path(b"/%0a%00"), Err(UriError::ControlChar));
        assert_eq!(decode_path(b"/%00%zz"), Err(UriError::Nul));
        assert_eq!(decode_path(b"/%zz%00"), Err(UriError::BadPercentEscape));
        assert_eq!(decode_path(b"/%7f"), Err(UriError::ControlChar));
        assert_eq!(decode_path(b"/%ff%00"), Err(UriError::Nul));
        assert_eq!(decode_path(b"/%20%7e"), Ok("/ ~".to_owned()));
    }
}
