//! Prefix integers (RFC 7541 §5.1): an N-bit prefix in the first byte, then 7 bits per continuation byte.
//!
//! Decoding is bounded: values above 2^32 - 1 and encodings longer than such a value needs are refused, so
//! a peer cannot make us loop over continuation bytes or overflow arithmetic.

use super::DecoderError;

/// The largest value [`decode`] accepts. Every HPACK integer (index, length, table size) fits in 32 bits.
pub(crate) const MAX_VALUE: u64 = u32::MAX as u64;

/// Continuation bytes needed to carry [`MAX_VALUE`] above any prefix: 5 × 7 = 35 bits.
const MAX_CONTINUATION: usize = 5;

/// Appends `value` with an N-bit prefix (`prefix_bits` in 1..=8); `flags` holds the bits above the prefix in
/// the first byte.
pub(crate) fn encode(value: usize, prefix_bits: u8, flags: u8, dst: &mut Vec<u8>) {
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        dst.push(flags | value as u8);
        return;
    }
    dst.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 0x80 {
        dst.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    dst.push(rest as u8);
}

/// Reads an integer with an N-bit prefix starting at `buf[*pos]` and advances `pos` past it.
pub(crate) fn decode(buf: &[u8], pos: &mut usize, prefix_bits: u8) -> Result<u64, DecoderError> {
    let max_prefix = (1u64 << prefix_bits) - 1;
    let first = *buf.get(*pos).ok_or(DecoderError::Truncated)?;
    *pos += 1;
    let mut value = u64::from(first) & max_prefix;
    if value < max_prefix {
        return Ok(value);
    }
    for i in 0..MAX_CONTINUATION {
        let b = *buf.get(*pos).ok_or(DecoderError::Truncated)?;
        *pos += 1;
        value += u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return if value > MAX_VALUE {
                Err(DecoderError::IntegerOverflow)
            } else {
                Ok(value)
            };
        }
    }
    Err(DecoderError::IntegerOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(value: usize, prefix: u8) -> Vec<u8> {
        let mut v = Vec::new();
        encode(value, prefix, 0, &mut v);
        v
    }

    fn dec(bytes: &[u8], prefix: u8) -> Result<u64, DecoderError> {
        let mut pos = 0;
        let r = decode(bytes, &mut pos, prefix);
        if r.is_ok() {
            assert_eq!(pos, bytes.len(), "decode must consume the whole integer");
        }
        r
    }

    #[test]
    fn rfc_c_1_1_ten_in_5_bit_prefix() {
        assert_eq!(enc(10, 5), [0x0a]);
        assert_eq!(dec(&[0x0a], 5), Ok(10));
    }

    #[test]
    fn rfc_c_1_2_1337_in_5_bit_prefix() {
        assert_eq!(enc(1337, 5), [0x1f, 0x9a, 0x0a]);
        assert_eq!(dec(&[0x1f, 0x9a, 0x0a], 5), Ok(1337));
    }

    #[test]
    fn rfc_c_1_3_42_at_octet_boundary() {
        assert_eq!(enc(42, 8), [0x2a]);
        assert_eq!(dec(&[0x2a], 8), Ok(42));
    }

    #[test]
    fn flags_above_the_prefix_are_kept_and_ignored() {
        let mut v = Vec::new();
        encode(3, 7, 0x80, &mut v);
        assert_eq!(v, [0x83]);
        assert_eq!(dec(&[0xff, 0x00], 7), Ok(127));
    }

    #[test]
    fn round_trip_at_every_prefix_and_boundary() {
        for prefix in 1..=8u8 {
            let m = (1usize << prefix) - 1;
            for v in [
                0,
                1,
                m - 1,
                m,
                m + 1,
                m + 127,
                m + 128,
                16_383,
                1 << 20,
                u32::MAX as usize,
            ] {
                assert_eq!(
                    dec(&enc(v, prefix), prefix),
                    Ok(v as u64),
                    "value {v} prefix {prefix}"
                );
            }
        }
    }

    #[test]
    fn truncated_integers_are_refused() {
        assert_eq!(dec(&[], 5), Err(DecoderError::Truncated));
        assert_eq!(dec(&[0x1f], 5), Err(DecoderError::Truncated));
        assert_eq!(dec(&[0x1f, 0x9a], 5), Err(DecoderError::Truncated));
    }

    #[test]
    fn values_above_32_bits_are_refused() {
        let mut v = Vec::new();
        encode(u32::MAX as usize + 1, 5, 0, &mut v);
        assert_eq!(dec(&v, 5), Err(DecoderError::IntegerOverflow));
        assert_eq!(
            dec(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f], 5),
            Err(DecoderError::IntegerOverflow)
        );
    }

    #[test]
    fn overlong_encodings_are_refused() {
        // Zero-valued continuation bytes carry nothing; six of them cannot be a bounded integer.
        assert_eq!(
            dec(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(DecoderError::IntegerOverflow)
        );
        // Five continuation bytes are still fine when the value fits.
        assert_eq!(dec(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x00], 5), Ok(31));
    }
}
