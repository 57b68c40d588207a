//! The static Huffman code of RFC 7541 Appendix B: encoding and a table-driven decoder.
//!
//! Decoding keeps up to 64 input bits in an accumulator and looks up the next [`LOOKUP_BITS`] bits in one
//! table built at compile time by a `const fn`: every code of at most that length (all letters, digits and
//! the usual punctuation, 99% of real header text) is one lookup and one shift. The rare longer codes all
//! start with eight ones and are decoded canonically (the RFC's code is canonical: codes of one length are
//! consecutive and ordered by symbol), comparing the next bits against the first code of each length.
//!
//! A string must end in fewer than 8 padding bits, all ones (the most significant bits of EOS), and must
//! never contain EOS itself (RFC 7541 §5.2).

use super::DecoderError;

/// `(code, length in bits)` for each symbol 0..=255 and EOS (256), from RFC 7541 Appendix B.
const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    // ' ' .. '/'
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    // '0' .. '?'
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    // '@' .. 'O'
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    // 'P' .. '_'
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    // '`' .. 'o'
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    // 'p' .. 127
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    // 128 ..
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    // 160 ..
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    // 192 ..
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    // 224 ..
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    // EOS
    (0x3fffffff, 30),
];

/// The symbol number of EOS, which must never appear inside a string.
const EOS: u16 = 256;

/// Bits looked up at once by the decoder: every code this long or shorter decodes in one step.
const LOOKUP_BITS: u32 = 11;

/// The longest code (EOS and three control characters).
const MAX_CODE_BITS: u32 = 30;

/// Indexed by the next [`LOOKUP_BITS`] input bits: `symbol | length << 9` of the code they start with, or 0
/// when that code is longer than [`LOOKUP_BITS`].
static LOOKUP: [u16; 1 << LOOKUP_BITS] = build_lookup();

/// The canonical form of the code, for codes longer than [`LOOKUP_BITS`].
static CANONICAL: Canonical = build_canonical();

/// Per code length `l`: the first code of that length, how many there are, and where their symbols start in
/// `symbols` (sorted by length, then code).
struct Canonical {
    first: [u32; MAX_CODE_BITS as usize + 1],
    count: [u32; MAX_CODE_BITS as usize + 1],
    offset: [u16; MAX_CODE_BITS as usize + 1],
    symbols: [u16; 257],
}

const fn build_lookup() -> [u16; 1 << LOOKUP_BITS] {
    let mut table = [0u16; 1 << LOOKUP_BITS];
    let mut sym = 0;
    while sym < CODES.len() {
        let (code, len) = CODES[sym];
        let len = len as u32;
        if len <= LOOKUP_BITS {
            let shift = LOOKUP_BITS - len;
            let start = (code << shift) as usize;
            let mut i = 0;
            while i < 1 << shift {
                table[start + i] = sym as u16 | (len as u16) << 9;
                i += 1;
            }
        }
        sym += 1;
    }
    table
}

const fn build_canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; MAX_CODE_BITS as usize + 1],
        count: [0; MAX_CODE_BITS as usize + 1],
        offset: [0; MAX_CODE_BITS as usize + 1],
        symbols: [0; 257],
    };
    let mut sym = 0;
    while sym < CODES.len() {
        c.count[CODES[sym].1 as usize] += 1;
        sym += 1;
    }
    // The canonical construction: the first code of each length follows the last of the shorter ones.
    let mut code = 0u32;
    let mut next = 0u16;
    let mut len = 1;
    while len <= MAX_CODE_BITS as usize {
        c.first[len] = code;
        c.offset[len] = next;
        let mut sym = 0;
        while sym < CODES.len() {
            if CODES[sym].1 as usize == len {
                c.symbols[next as usize] = sym as u16;
                next += 1;
            }
            sym += 1;
        }
        code = (code + c.count[len]) << 1;
        len += 1;
    }
    c
}

/// Length in bytes of `src` once Huffman-encoded, padding included.
pub(crate) fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| CODES[usize::from(b)].1 as usize).sum();
    bits.div_ceil(8)
}

/// Appends `src` Huffman-encoded, padded with the most significant bits of EOS (ones) to a whole byte.
pub(crate) fn encode(src: &[u8], dst: &mut Vec<u8>) {
    dst.reserve(encoded_len(src));
    // The low `nbits` bits of `acc` are pending output; bits above them are stale and never read.
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    for &b in src {
        let (code, len) = CODES[usize::from(b)];
        let len = u32::from(len);
        if nbits + len > 64 {
            // nbits > 34 here, so 32 bits go out and at most 32 + 30 remain.
            nbits -= 32;
            dst.extend_from_slice(&((acc >> nbits) as u32).to_be_bytes());
        }
        acc = acc << len | u64::from(code);
        nbits += len;
    }
    while nbits >= 8 {
        nbits -= 8;
        dst.push((acc >> nbits) as u8);
    }
    if nbits > 0 {
        dst.push((acc << (8 - nbits)) as u8 | 0xff >> nbits);
    }
}

/// Appends the decoding of the Huffman string `src` to `dst`.
pub(crate) fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), DecoderError> {
    // Every code is at least 5 bits long.
    dst.reserve(src.len() * 8 / 5);
    // The next `nbits` input bits, most significant first; the bits below them are zero.
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    let mut pos = 0;
    loop {
        // Refilling stops only above 56 bits or at the end of the input: a code longer than `nbits` can
        // only be the padding at the end.
        while nbits <= 56 {
            let Some(&b) = src.get(pos) else { break };
            acc |= u64::from(b) << (56 - nbits);
            nbits += 8;
            pos += 1;
        }
        if nbits == 0 {
            return Ok(());
        }
        let entry = LOOKUP[(acc >> (64 - LOOKUP_BITS)) as usize];
        let len = u32::from(entry >> 9);
        if len != 0 {
            if len > nbits {
                return check_padding(acc, nbits);
            }
            // Codes this short are never EOS, so the symbol is a byte.
            dst.push(entry as u8);
            acc <<= len;
            nbits -= len;
            continue;
        }
        let (sym, len) = decode_long(acc);
        if len > nbits {
            return check_padding(acc, nbits);
        }
        if sym == EOS {
            return Err(DecoderError::InvalidHuffman);
        }
        dst.push(sym as u8);
        acc <<= len;
        nbits -= len;
    }
}

/// Decodes a code longer than [`LOOKUP_BITS`] at the top of `acc`: returns its symbol and length.
fn decode_long(acc: u64) -> (u16, u32) {
    let c = &CANONICAL;
    let mut len = LOOKUP_BITS + 1;
    loop {
        let top = (acc >> (64 - len)) as u32;
        let l = len as usize;
        // Canonical: a code of this length is below the first code of this length plus their count. At 30
        // bits every pattern is a code, so the loop ends there at the latest.
        if top.wrapping_sub(c.first[l]) < c.count[l] || len == MAX_CODE_BITS {
            let i = c.offset[l] as usize + top.wrapping_sub(c.first[l]) as usize;
            return (c.symbols[i.min(256)], len);
        }
        len += 1;
    }
}

/// The input ended with `nbits` bits that are not a whole code: valid only as at most 7 ones (RFC 7541 §5.2).
fn check_padding(acc: u64, nbits: u32) -> Result<(), DecoderError> {
    let ones = (1u64 << nbits) - 1;
    if nbits <= 7 && acc >> (64 - nbits) == ones {
        Ok(())
    } else {
        Err(DecoderError::InvalidHuffman)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode(s, &mut v);
        assert_eq!(v.len(), encoded_len(s));
        v
    }

    fn dec(s: &[u8]) -> Result<Vec<u8>, DecoderError> {
        let mut v = Vec::new();
        decode(s, &mut v).map(|()| v)
    }

    #[test]
    fn the_code_is_complete_and_canonical() {
        // Kraft equality: the code is a complete prefix code.
        let kraft: u64 = CODES
            .iter()
            .map(|&(_, l)| 1u64 << (MAX_CODE_BITS - u32::from(l)))
            .sum();
        assert_eq!(kraft, 1 << MAX_CODE_BITS);
        for (sym, &(code, len)) in CODES.iter().enumerate() {
            let l = usize::from(len);
            let i = CANONICAL.offset[l] as usize + (code - CANONICAL.first[l]) as usize;
            assert_eq!(usize::from(CANONICAL.symbols[i]), sym);
        }
    }

    #[test]
    fn every_symbol_round_trips_alone_and_in_a_run() {
        for b in 0..=255u8 {
            assert_eq!(dec(&enc(&[b])).unwrap(), [b], "symbol {b}");
            let run = vec![b; 9];
            assert_eq!(dec(&enc(&run)).unwrap(), run, "run of {b}");
        }
        let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
    }

    #[test]
    fn eos_is_refused() {
        // EOS alone (30 ones) padded with two more ones.
        assert_eq!(
            dec(&[0xff, 0xff, 0xff, 0xff]),
            Err(DecoderError::InvalidHuffman)
        );
        // 'a' (00011), then EOS, then padding.
        let mut bits: u64 = 0b00011;
        bits = bits << 30 | 0x3fff_ffff;
        bits = bits << 5 | 0b11111;
        assert_eq!(
            dec(&bits.to_be_bytes()[3..]),
            Err(DecoderError::InvalidHuffman)
        );
    }

    #[test]
    fn padding_must_be_short_and_all_ones() {
        // 'a' = 00011 plus 3 ones: fine.
        assert_eq!(dec(&[0b0001_1111]).unwrap(), b"a");
        // 'a' plus 3 bits with a zero: refused.
        assert_eq!(dec(&[0b0001_1110]), Err(DecoderError::InvalidHuffman));
        // 'a' plus 11 ones: padding longer than 7 bits.
        assert_eq!(dec(&[0b0001_1111, 0xff]), Err(DecoderError::InvalidHuffman));
        // Eight ones alone: padding of a whole byte.
        assert_eq!(dec(&[0xff]), Err(DecoderError::InvalidHuffman));
        // '0' (00000) padded with zeros.
        assert_eq!(dec(&[0b0000_0000]), Err(DecoderError::InvalidHuffman));
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn rfc_c_4_1_strings() {
        assert_eq!(enc(b"www.example.com"), hex("f1e3c2e5f23a6ba0ab90f4ff"));
        assert_eq!(
            dec(&hex("f1e3c2e5f23a6ba0ab90f4ff")).unwrap(),
            b"www.example.com"
        );
        assert_eq!(enc(b"no-cache"), hex("a8eb10649cbf"));
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
