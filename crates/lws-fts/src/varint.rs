//! Variable-length integers as libwebsockets writes them: 7 bits per byte, most significant group first,
//! the top bit set on every byte except the last (`0x30` = 48, `0x81 0x30` = 176, `0x81 0x80 0x00` = 16384).

/// The longest encoding of a `u64` (ten groups of seven bits).
pub(crate) const MAX_LEN: usize = 10;

/// Appends the encoding of `v` to `out`.
pub(crate) fn put(out: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; MAX_LEN];
    let n = encode(v, &mut tmp);
    out.extend_from_slice(&tmp[MAX_LEN - n..]);
}

/// Encodes `v` right-aligned into `tmp`, returning how many trailing bytes it used.
fn encode(mut v: u64, tmp: &mut [u8; MAX_LEN]) -> usize {
    let mut i = MAX_LEN;
    i -= 1;
    tmp[i] = (v & 0x7f) as u8;
    v >>= 7;
    while v != 0 {
        i -= 1;
        tmp[i] = 0x80 | (v & 0x7f) as u8;
        v >>= 7;
    }
    MAX_LEN - i
}

/// Decodes one integer from the start of `buf`: `Some((value, bytes used))`, or `None` when `buf` ends
/// inside the encoding or the value does not fit in 64 bits.
pub(crate) fn get(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(MAX_LEN) {
        if v >> 57 != 0 {
            return None;
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libwebsockets_examples() {
        let mut v = Vec::new();
        put(&mut v, 48);
        assert_eq!(v, [0x30]);
        v.clear();
        put(&mut v, 176);
        assert_eq!(v, [0x81, 0x30]);
        v.clear();
        put(&mut v, 16384);
        assert_eq!(v, [0x81, 0x80, 0x00]);
        assert_eq!(get(&[0x81, 0x80, 0x00]), Some((16384, 3)));
    }

    #[test]
    fn round_trip_and_limits() {
        for x in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut v = Vec::new();
            put(&mut v, x);
            assert_eq!(get(&v), Some((x, v.len())));
            assert_eq!(get(&v[..v.len() - 1]), None);
        }
        assert_eq!(get(&[0xff; 11]), None);
        assert_eq!(
            get(&[0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            None
        );
    }
}
