//! Close codes (RFC 6455 §7.4) and the Close frame body: a 2-byte code plus a UTF-8 reason.

use super::WsError;

/// 1000: the purpose of the connection has been fulfilled.
pub const NORMAL: u16 = 1000;
/// 1001: the endpoint is going away (server shutdown, page navigation).
pub const GOING_AWAY: u16 = 1001;
/// 1002: the peer violated the protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: a data type the endpoint cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: no code was present. Reserved: only ever reported, never sent.
pub const NO_STATUS: u16 = 1005;
/// 1006: the connection closed without a Close frame. Reserved: only ever reported, never sent.
pub const ABNORMAL: u16 = 1006;
/// 1007: message data inconsistent with its type (e.g. text that is not UTF-8).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: the message violates the endpoint's policy.
pub const POLICY: u16 = 1008;
/// 1009: a message too big to process.
pub const TOO_BIG: u16 = 1009;
/// 1010: the client expected an extension the server did not negotiate.
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: the server met an unexpected condition.
pub const INTERNAL: u16 = 1011;

/// The longest close reason that fits a control frame (125 bytes minus the 2-byte code).
pub const MAX_REASON: usize = 123;

/// Whether `code` may appear in a Close frame on the wire, sent or received (RFC 6455 §7.4.1-2, IANA
/// registry): 1000-1003, 1007-1014 and the application/private range 3000-4999. 1004 (reserved), 1005, 1006
/// and 1015 (reserved for reporting), below 1000, 1016-2999 and 5000 and up are invalid.
pub fn is_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Decodes a received Close frame body into its code and reason (RFC 6455 §5.5.1).
///
/// An empty body has no code. A 1-byte body, a code not valid on the wire, or (with `check_utf8`) a reason
/// that is not UTF-8 fail the connection.
pub(crate) fn decode(payload: &[u8], check_utf8: bool) -> Result<(Option<u16>, String), WsError> {
    match payload {
        [] => Ok((None, String::new())),
        [_] => Err(WsError::BadClosePayload),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid(code) {
                return Err(WsError::InvalidCloseCode);
            }
            if check_utf8 && std::str::from_utf8(reason).is_err() {
                return Err(WsError::InvalidUtf8);
            }
            Ok((Some(code), String::from_utf8_lossy(reason).into_owned()))
        }
    }
}

/// Writes a Close body for `code` and `reason` into `out`.
///
/// A code that may not be sent (e.g. 1005 "no status") gives an empty body; the reason is cut at a character
/// boundary to [`MAX_REASON`] bytes.
pub(crate) fn encode(code: Option<u16>, reason: &str, out: &mut Vec<u8>) {
    let Some(code) = code.filter(|c| is_valid(*c)) else {
        return;
    };
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(truncate(reason, MAX_REASON).as_bytes());
}

/// The longest prefix of `s` no longer than `max` bytes that ends at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes() {
        for c in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
        ] {
            assert!(is_valid(c), "{c}");
        }
        for c in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid(c), "{c}");
        }
    }

    #[test]
    fn decode_cases() {
        assert_eq!(decode(b"", true), Ok((None, String::new())));
        assert_eq!(decode(b"\x03", true), Err(WsError::BadClosePayload));
        assert_eq!(decode(b"\x03\xe8", true), Ok((Some(1000), String::new())));
        assert_eq!(decode(b"\x03\xe8bye", true), Ok((Some(1000), "bye".into())));
        assert_eq!(decode(b"\x03\xed", true), Err(WsError::InvalidCloseCode));
        assert_eq!(decode(b"\x03\xe8\xff", true), Err(WsError::InvalidUtf8));
        assert_eq!(decode(b"\x03\xe8\xce", true), Err(WsError::InvalidUtf8));
        assert!(decode(b"\x03\xe8\xff", false).is_ok());
    }

    #[test]
    fn encode_truncates_at_char_boundary() {
        let mut out = Vec::new();
        let reason = "é".repeat(70); // 140 bytes
        encode(Some(1001), &reason, &mut out);
        assert_eq!(&out[..2], &[0x03, 0xe9]);
        assert_eq!(out.len() - 2, 122);
        assert!(std::str::from_utf8(&out[2..]).is_ok());
        out.clear();
        encode(Some(1005), "x", &mut out);
        assert!(out.is_empty());
        encode(None, "x", &mut out);
        assert!(out.is_empty());
    }
}
