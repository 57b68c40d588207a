//! Feeds arbitrary header blocks to an HPACK decoder, with our table size limit changing between blocks, and
//! checks that it never panics, stays within its limits, and that whatever it decoded survives an
//! encode -> decode round trip through a second encoder/decoder pair (sensitivity included).
//!
//! Input: a sequence of operations. A byte with the top bit set changes the table size limit to the next
//! two bytes (mod 8192); otherwise it and the next byte give a block length (mod 2048), and that many bytes
//! are one header block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::hpack::{Decoder, DecoderError, Encoder};

const MAX_LIST: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut peer = Decoder::new(4096);
    let mut enc = Encoder::new();
    let mut dec = Decoder::new(4096);
    let mut rest = data;
    while let [op, a, tail @ ..] = rest {
        if op & 0x80 != 0 {
            let Some((&b, tail)) = tail.split_first() else {
                return;
            };
            let n = usize::from(u16::from_be_bytes([*a, b])) % 8192;
            peer.set_max_table_size(n);
            enc.set_peer_max_table_size(n);
            dec.set_max_table_size(n);
            rest = tail;
            continue;
        }
        let len = (usize::from(*op) << 8 | usize::from(*a)) % 2048;
        let (block, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;

        let mut fields: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
        let mut size = 0;
        let r = peer.decode(block, MAX_LIST, &mut |n, v, s| {
            size += n.len() + v.len() + 32;
            fields.push((n.to_vec(), v.to_vec(), s));
        });
        assert!(size <= MAX_LIST);
        assert!(peer.table_size() <= peer.max_table_size());
        match r {
            Ok(()) | Err(DecoderError::HeaderListTooLarge) => {}
            // A compression error ends the connection.
            Err(e) => {
                assert!(e.is_compression_error());
                return;
            }
        }

        let mut out = Vec::new();
        enc.encode_fields(
            fields.iter().map(|(n, v, s)| (&n[..], &v[..], *s)),
            &mut out,
        );
        let mut again = Vec::new();
        dec.decode(&out, usize::MAX, &mut |n, v, s| {
            again.push((n.to_vec(), v.to_vec(), s))
        })
        .expect("our own block decodes");
        // Never-indexed stays never-indexed; the encoder may add the flag to credentials by policy.
        assert_eq!(again.len(), fields.len());
        for (a, f) in again.iter().zip(&fields) {
            assert_eq!((&a.0, &a.1), (&f.0, &f.1));
            assert!(a.2 || !f.2);
        }
        assert_eq!(enc.table_size(), dec.table_size());
        assert_eq!(enc.table_len(), dec.table_len());
    }
});
