//! base64url without padding (RFC 7515 §2), the encoding of every JOSE binary field.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, Result};

/// Encodes `data` as base64url without padding.
pub fn encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes base64url without padding; padding, whitespace and the standard alphabet's `+` and `/` are refused,
/// as are non-canonical trailing bits.
pub fn decode(text: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Error::InvalidBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("-_8="), Err(Error::InvalidBase64));
        assert_eq!(decode("+/8"), Err(Error::InvalidBase64));
        assert_eq!(decode("a"), Err(Error::InvalidBase64));
        assert_eq!(decode("-_9"), Err(Error::InvalidBase64));
    }
}
