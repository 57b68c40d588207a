//! urlargs: the `name=value` pairs of a query string, decoded with form-encoding rules.

use super::{percent, UriError};

/// Decode a raw query string (without the `?`) into its `(name, value)` pairs, in order.
///
/// Rules, as libwebsockets applies them:
/// - pairs are separated by `&` or `;`; empty pieces (`a=1&&b=2`, a trailing `&`) are skipped;
/// - the first literal `=` separates the name from the value, so the value may contain further `=`; a piece
///   without `=` has the value `""` (and `=x` has the name `""`);
/// - in both name and value a raw `+` is a space and `%XX` escapes are decoded once (a `%` not followed by two
///   hex digits is [`UriError::BadPercentEscape`]);
/// - an encoded `=` (`%3d`) inside a name becomes `_`, so a name can never pretend to contain a split;
/// - a NUL (`%00` or raw) in a name is [`UriError::Nul`]; in a value it is kept, because values may be binary;
/// - decoded names and values must be UTF-8 ([`UriError::InvalidUtf8`]).
///
/// One malformed pair fails the whole query, so no caller acts on half of an ambiguous request. Linear in the
/// length of the query.
pub fn parse_urlargs(query: &str) -> Result<Vec<(String, String)>, UriError> {
    query
        .split(['&', ';'])
        .filter(|piece| !piece.is_empty())
        .map(parse_pair)
        .collect()
}

/// Decode one non-empty `name[=value]` piece.
fn parse_pair(piece: &str) -> Result<(String, String), UriError> {
    let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
    let name = percent::decode(name.as_bytes(), true, |byte, encoded| match byte {
        0 => Err(UriError::Nul),
        b'=' if encoded => Ok(b'_'),
        _ => Ok(byte),
    })?;
    let value = percent::decode(value.as_bytes(), true, |byte, _| Ok(byte))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        parse_urlargs(query).unwrap()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn splits_on_ampersand_and_semicolon() {
        assert_eq!(
            pairs("a=1&b=2;c=3"),
            owned(&[("a", "1"), ("b", "2"), ("c", "3")])
        );
        assert_eq!(pairs("&;&a&;"), owned(&[("a", "")]));
        assert!(pairs("").is_empty());
    }

    #[test]
    fn first_literal_equals_splits() {
        assert_eq!(pairs("a=b=c"), owned(&[("a", "b=c")]));
        assert_eq!(pairs("=x"), owned(&[("", "x")]));
    }

    #[test]
    fn encoded_equals_in_name_becomes_underscore() {
        assert_eq!(pairs("a%3Db=c%3d"), owned(&[("a_b", "c=")]));
    }

    #[test]
    fn plus_is_space_in_name_and_value() {
        assert_eq!(pairs("a+b=c+d%2b"), owned(&[("a b", "c d+")]));
    }

    #[test]
    fn nul_refused_in_name_kept_in_value() {
        assert_eq!(parse_urlargs("a%00=1"), Err(UriError::Nul));
        assert_eq!(parse_urlargs("a\0=1"), Err(UriError::Nul));
        assert_eq!(pairs("a=x%00y"), owned(&[("a", "x\0y")]));
    }

    #[test]
    fn one_bad_pair_fails_all() {
        assert_eq!(parse_urlargs("a=1&b=%4"), Err(UriError::BadPercentEscape));
        assert_eq!(parse_urlargs("a=1&b=%c0%ae"), Err(UriError::InvalidUtf8));
    }
}
