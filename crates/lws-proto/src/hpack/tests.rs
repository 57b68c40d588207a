//! HPACK tests: the RFC 7541 Appendix C vectors from `tests/vectors/hpack/` in both directions, error cases,
//! the encoder's policy, table size signalling, and encoder-to-decoder round trips over random header lists
//! and table size changes.

use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------------------------
// Helpers

type Field = (Vec<u8>, Vec<u8>, bool);

/// Decodes `block` and collects the fields with their sensitivity.
fn decode(d: &mut Decoder, block: &[u8], max_list: usize) -> Result<Vec<Field>, DecoderError> {
    let mut out = Vec::new();
    d.decode(block, max_list, &mut |n, v, s| {
        out.push((n.to_vec(), v.to_vec(), s))
    })?;
    Ok(out)
}

fn encode(e: &mut Encoder, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut dst = Vec::new();
    e.encode(
        fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
        &mut dst,
    );
    dst
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn owned(fields: &[(&str, &str)]) -> Vec<Field> {
    fields
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec(), false))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// RFC 7541 Appendix C vectors

const VECTORS: [(&str, &str); 5] = [
    (
        "c2",
        include_str!("../../tests/vectors/hpack/c2-field-representations.txt"),
    ),
    (
        "c3",
        include_str!("../../tests/vectors/hpack/c3-requests-raw.txt"),
    ),
    (
        "c4",
        include_str!("../../tests/vectors/hpack/c4-requests-huffman.txt"),
    ),
    (
        "c5",
        include_str!("../../tests/vectors/hpack/c5-responses-raw.txt"),
    ),
    (
        "c6",
        include_str!("../../tests/vectors/hpack/c6-responses-huffman.txt"),
    ),
];

/// One connection of a vector file.
#[derive(Default)]
struct Case {
    name: String,
    table: usize,
    options: EncoderOptions,
    blocks: Vec<Block>,
}

/// One header block and what decoding it must give.
#[derive(Default)]
struct Block {
    name: String,
    bytes: Vec<u8>,
    fields: Vec<Field>,
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    size: usize,
}

fn split_field(s: &str) -> (Vec<u8>, Vec<u8>) {
    let at = s[1..]
        .find(": ")
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no ': ' in {s:?}"));
    (s.as_bytes()[..at].to_vec(), s.as_bytes()[at + 2..].to_vec())
}

fn parse_vectors(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        if key == "case" {
            cases.push(Case {
                name: rest.to_string(),
                table: 4096,
                ..Case::default()
            });
            continue;
        }
        let case = cases.last_mut().expect("a line before the first case");
        match key {
            "table" => case.table = rest.parse().unwrap(),
            "encoder" => {
                for opt in rest.split_whitespace() {
                    case.options = match opt {
                        "huffman=never" => case.options.huffman(Huffman::Never),
                        "huffman=always" => case.options.huffman(Huffman::Always),
                        "indexing=default" => case.options.indexing(Indexing::Default),
                        "indexing=always" => case.options.indexing(Indexing::Always),
                        "indexing=never" => case.options.indexing(Indexing::Never),
                        other => panic!("unknown encoder option {other}"),
                    }
                }
            }
            "block" => case.blocks.push(Block {
                name: rest.to_string(),
                ..Block::default()
            }),
            _ => {
                let block = case.blocks.last_mut().expect("a block line first");
                match key {
                    "hex" => block.bytes.extend(hex(rest)),
                    "field" | "never" => {
                        let (n, v) = split_field(rest);
                        block.fields.push((n, v, key == "never"));
                    }
                    "entry" => block.entries.push(split_field(rest)),
                    "size" => block.size = rest.parse().unwrap(),
                    other => panic!("unknown vector line {other}"),
                }
            }
        }
    }
    cases
}

#[test]
fn rfc_7541_appendix_c_decodes() {
    let mut blocks = 0;
    for (file, text) in VECTORS {
        for case in parse_vectors(text) {
            let mut d = Decoder::new(case.table);
            for b in &case.blocks {
                let got = decode(&mut d, &b.bytes, usize::MAX)
                    .unwrap_or_else(|e| panic!("{}: {e}", b.name));
                assert_eq!(got, b.fields, "{file} {}: fields", b.name);
                let table: Vec<_> = d
                    .table_entries()
                    .map(|(n, v)| (n.to_vec(), v.to_vec()))
                    .collect();
                assert_eq!(table, b.entries, "{file} {}: table", b.name);
                assert_eq!(d.table_size(), b.size, "{file} {}: table size", b.name);
                blocks += 1;
            }
        }
    }
    assert_eq!(blocks, 4 + 3 * 4, "every block of C.2 to C.6");
}

#[test]
fn rfc_7541_appendix_c_encodes() {
    for (file, text) in VECTORS {
        for case in parse_vectors(text) {
            let mut e = Encoder::with_options(case.options.max_table_size(case.table));
            for (i, b) in case.blocks.iter().enumerate() {
                let mut expected = Vec::new();
                if i == 0 && case.table < 4096 {
                    // The RFC's examples assume both ends already agreed on the smaller table; a real
                    // encoder starting from the protocol's 4096 signals it first (§4.2, §6.3).
                    integer::encode(case.table, 5, 0x20, &mut expected);
                }
                expected.extend_from_slice(&b.bytes);
                let mut got = Vec::new();
                e.encode_fields(
                    b.fields.iter().map(|(n, v, s)| (&n[..], &v[..], *s)),
                    &mut got,
                );
                assert_eq!(got, expected, "{file} {} {}: bytes", case.name, b.name);
                let table: Vec<_> = e
                    .table_entries()
                    .map(|(n, v)| (n.to_vec(), v.to_vec()))
                    .collect();
                assert_eq!(table, b.entries, "{file} {}: table", b.name);
                assert_eq!(e.table_size(), b.size, "{file} {}: table size", b.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Decoder errors

#[test]
fn index_zero_and_past_the_table_are_refused() {
    let mut d = Decoder::default();
    assert_eq!(
        decode(&mut d, &[0x80], 4096),
        Err(DecoderError::InvalidIndex(0))
    );
    let mut d = Decoder::default();
    assert_eq!(
        decode(&mut d, &[0xbe], 4096),
        Err(DecoderError::InvalidIndex(62))
    );
    // A literal whose name index is past the table.
    let mut d = Decoder::default();
    assert_eq!(
        decode(&mut d, &[0x7f, 0x00, 0x01, b'v'], 4096),
        Err(DecoderError::InvalidIndex(63))
    );
    // One entry: 62 is fine, 63 is not.
    let mut d = Decoder::default();
    decode(&mut d, &hex("400161 0162"), 4096).unwrap();
    assert_eq!(decode(&mut d, &[0xbe], 4096).unwrap(), owned(&[("a", "b")]));
    assert_eq!(
        decode(&mut d, &[0xbf], 4096),
        Err(DecoderError::InvalidIndex(63))
    );
}

#[test]
fn truncated_blocks_are_refused() {
    for block in [
        &hex("ff")[..],             // indexed, integer cut
        &hex("40")[..],             // literal, no name
        &hex("4005 6162")[..],      // name shorter than its length
        &hex("4001 61")[..],        // no value
        &hex("4001 6103 6263")[..], // value shorter than its length
        &hex("417f")[..],           // value length integer cut
        &hex("3f")[..],             // size update integer cut
    ] {
        let mut d = Decoder::default();
        assert_eq!(
            decode(&mut d, block, 4096),
            Err(DecoderError::Truncated),
            "{block:02x?}"
        );
    }
}

#[test]
fn oversized_integers_are_refused() {
    let mut d = Decoder::default();
    assert_eq!(
        decode(&mut d, &hex("ff ffffffff ff01"), 4096),
        Err(DecoderError::IntegerOverflow)
    );
    let mut d = Decoder::default();
    assert_eq!(
        decode(&mut d, &hex("ff 8080808080 00"), 4096),
        Err(DecoderError::IntegerOverflow)
    );
}

#[test]
fn invalid_huffman_strings_are_refused() {
    let mut d = Decoder::default();
    // Value: Huffman, 1 byte, all ones: 8 bits of padding.
    assert_eq!(
        decode(&mut d, &hex("4001 61 81ff"), 4096),
        Err(DecoderError::InvalidHuffman)
    );
    let mut d = Decoder::default();
    // Value: EOS (30 ones) plus 2 ones.
    assert_eq!(
        decode(&mut d, &hex("4001 61 84ffffffff"), 4096),
        Err(DecoderError::InvalidHuffman)
    );
}

#[test]
fn size_updates_are_checked() {
    // Above our limit.
    let mut d = Decoder::new(4096);
    assert_eq!(
        decode(&mut d, &hex("3fe21f"), 4096),
        Err(DecoderError::TableSizeUpdateTooLarge)
    );
    // After a field.
    let mut d = Decoder::new(4096);
    assert_eq!(
        decode(&mut d, &hex("82 3f e1 01"), 4096),
        Err(DecoderError::TableSizeUpdateNotAtStart)
    );
    // Several at the start, within the limit: fine, and they evict.
    let mut d = Decoder::new(4096);
    decode(&mut d, &hex("400161 0162"), 4096).unwrap();
    assert_eq!(d.table_len(), 1);
    assert_eq!(
        decode(&mut d, &hex("20 3f e1 1f 82"), 4096).unwrap(),
        owned(&[(":method", "GET")])
    );
    assert_eq!(d.table_len(), 0);
}

#[test]
fn a_lower_limit_requires_a_size_update_before_the_table_is_used() {
    let mut d = Decoder::new(4096);
    decode(&mut d, &hex("400161 0162"), 4096).unwrap();
    d.set_max_table_size(100);
    assert_eq!(
        decode(&mut d, &[0xbe], 4096),
        Err(DecoderError::TableSizeUpdateMissing)
    );

    let mut d = Decoder::new(4096);
    decode(&mut d, &hex("400161 0162"), 4096).unwrap();
    d.set_max_table_size(100);
    // An update to 100 (or less) first: the entry (34 bytes) survives.
    assert_eq!(
        decode(&mut d, &hex("3f 45 be"), 4096).unwrap(),
        owned(&[("a", "b")])
    );
    // Raising the limit needs no update.
    d.set_max_table_size(8192);
    assert_eq!(decode(&mut d, &[0xbe], 4096).unwrap(), owned(&[("a", "b")]));
}

#[test]
fn strings_beyond_every_limit_are_refused_before_decoding() {
    let mut d = Decoder::new(100);
    let mut block = hex("4001 61 7f 82 01"); // value length 127 + 130 = 257 > max(200, 100)
    block.extend(vec![b'x'; 257]);
    assert_eq!(
        decode(&mut d, &block, 200),
        Err(DecoderError::StringTooLong)
    );
}

#[test]
fn a_header_list_over_the_limit_still_keeps_the_table_in_step() {
    let mut e = Encoder::new();
    let mut d = Decoder::new(4096);
    let big = "v".repeat(600);
    let first = [
        (":status", "200"),
        ("server", "lws"),
        ("x-big", big.as_str()),
        ("etag", "\"abc\""),
    ];
    let block = encode(&mut e, &first);
    let mut seen = Vec::new();
    let r = d.decode(&block, 500, &mut |n, v, _| {
        seen.push((n.to_vec(), v.to_vec()))
    });
    assert_eq!(r, Err(DecoderError::HeaderListTooLarge));
    assert!(!DecoderError::HeaderListTooLarge.is_compression_error());
    // Emitting stopped at the field that crossed the limit.
    assert_eq!(seen.len(), 2);
    assert_eq!(d.table_size(), e.table_size());
    // The next block refers to entries the big block added; it decodes correctly.
    let second = [
        (":status", "200"),
        ("server", "lws"),
        ("x-big", big.as_str()),
        ("etag", "\"abc\""),
    ];
    let block = encode(&mut e, &second);
    assert_eq!(decode(&mut d, &block, 4096).unwrap(), owned(&second));
}

#[test]
fn error_messages_and_classes() {
    assert!(DecoderError::InvalidIndex(70).to_string().contains("70"));
    assert!(DecoderError::Truncated.is_compression_error());
    let e: Box<dyn std::error::Error> = Box::new(DecoderError::InvalidHuffman);
    assert!(!e.to_string().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// Encoder policy and table sizes

const RESPONSE: [(&str, &str); 8] = [
    (":status", "200"),
    ("server", "lws-rs"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-length", "1234"),
    ("etag", "\"5e1b-5d0f2ab6\""),
    ("last-modified", "Sat, 01 Jun 2024 10:00:00 GMT"),
    ("cache-control", "max-age=3600"),
];

#[test]
fn repeated_response_fields_become_one_byte_each() {
    let mut e = Encoder::new();
    let mut d = Decoder::default();
    let first = encode(&mut e, &RESPONSE);
    let second = encode(&mut e, &RESPONSE);
    let third = encode(&mut e, &RESPONSE);
    assert!(first.len() > 80, "{}", first.len());
    // Stable fields are indexed at once; volatile ones (date, length, etag, last-modified) the second time.
    assert!(second.len() < first.len() - 4, "{second:02x?}");
    assert_eq!(third.len(), RESPONSE.len(), "{third:02x?}");
    assert!(third.iter().all(|b| b & 0x80 != 0));
    for block in [first, second, third] {
        assert_eq!(decode(&mut d, &block, 65536).unwrap(), owned(&RESPONSE));
    }
}

/// An idle connection drops the encoder's index; what the table holds is still found afterwards, in step with
/// the peer's decoder, and new entries keep being indexed and found.
#[test]
fn the_index_rebuilt_after_release_finds_every_entry() {
    let mut e = Encoder::new();
    let mut d = Decoder::default();
    let mut blocks = vec![encode(&mut e, &RESPONSE), encode(&mut e, &RESPONSE)];
    e.release_index();
    let third = encode(&mut e, &RESPONSE);
    assert_eq!(
        third.len(),
        RESPONSE.len(),
        "every field indexed: {third:02x?}"
    );
    blocks.push(third);
    e.release_index();
    let extra = [("x-request", "one"), ("x-request", "two")];
    blocks.push(encode(&mut e, &extra));
    e.release_index();
    let again = encode(&mut e, &extra);
    assert_eq!(
        again.len(),
        2,
        "both entries found by name and value: {again:02x?}"
    );
    blocks.push(again);
    let expected = [
        owned(&RESPONSE),
        owned(&RESPONSE),
        owned(&RESPONSE),
        owned(&extra),
        owned(&extra),
    ];
    for (block, want) in blocks.iter().zip(expected) {
        assert_eq!(decode(&mut d, block, 65536).unwrap(), want);
    }
}

#[test]
fn unique_volatile_values_do_not_evict_stable_fields() {
    let mut e = Encoder::new();
    let mut d = Decoder::default();
    for i in 0..500 {
        let length = (10_000 + i).to_string();
        let etag = format!("\"{i:08x}\"");
        let fields = [
            (":status", "200"),
            ("server", "lws-rs"),
            ("content-length", &length),
            ("etag", &etag),
        ];
        let block = encode(&mut e, &fields);
        if i > 0 {
            // :status and server: one byte each.
            assert_eq!(block[..2], [0x88, 0xbe], "response {i}");
        }
        assert_eq!(decode(&mut d, &block, 4096).unwrap(), owned(&fields));
    }
    assert_eq!(e.table_len(), 1);
}

#[test]
fn static_statuses_are_single_bytes() {
    let mut e = Encoder::new();
    for (status, byte) in [
        ("200", 0x88),
        ("204", 0x89),
        ("206", 0x8a),
        ("304", 0x8b),
        ("400", 0x8c),
        ("404", 0x8d),
        ("500", 0x8e),
    ] {
        assert_eq!(encode(&mut e, &[(":status", status)]), [byte]);
    }
    assert_eq!(e.table_len(), 0);
}

#[test]
fn credentials_are_never_indexed() {
    let mut e = Encoder::new();
    let mut d = Decoder::default();
    for name in [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ] {
        for _ in 0..2 {
            let block = encode(&mut e, &[(name, "secret")]);
            assert_eq!(block[0] & 0xf0, 0x10, "{name}: {block:02x?}");
            let got = decode(&mut d, &block, 4096).unwrap();
            assert_eq!(got, [(name.as_bytes().to_vec(), b"secret".to_vec(), true)]);
        }
    }
    assert_eq!(e.table_len(), 0);
    // The caller's flag forces it for any field; forwarding what the decoder flagged keeps it.
    let mut block = Vec::new();
    e.encode_fields([(&b"x-token"[..], &b"t"[..], true)], &mut block);
    assert_eq!(
        decode(&mut d, &block, 4096).unwrap(),
        [(b"x-token".to_vec(), b"t".to_vec(), true)]
    );
}

#[test]
fn large_values_are_not_indexed() {
    let mut e = Encoder::new();
    let big = "b".repeat(1100);
    let block = encode(&mut e, &[("x-big", &big)]);
    assert_eq!(block[0], 0x00);
    assert_eq!(e.table_len(), 0);
    let block = encode(&mut e, &[("x-small", "s")]);
    assert_eq!(block[0], 0x40);
}

#[test]
fn huffman_is_used_only_when_shorter() {
    let mut e = Encoder::with_options(EncoderOptions::default().indexing(Indexing::Never));
    // "www.example.com" codes to 12 bytes: Huffman bit set on the value's length.
    assert_eq!(
        encode(&mut e, &[(":authority", "www.example.com")])[1],
        0x80 | 12
    );
    // Rare bytes code longer than raw: sent raw.
    assert_eq!(encode(&mut e, &[(":authority", "\u{1}\u{2}")])[1], 0x02);
}

#[test]
fn table_size_changes_are_signalled_at_the_next_block() {
    let mut e = Encoder::new();
    encode(&mut e, &RESPONSE);
    // Shrink then grow between two blocks: the minimum, then the final size.
    e.set_peer_max_table_size(0);
    e.set_peer_max_table_size(1000);
    let block = encode(&mut e, &[(":status", "200")]);
    let mut expected = vec![0x20];
    integer::encode(1000, 5, 0x20, &mut expected);
    expected.push(0x88);
    assert_eq!(block, expected);
    assert_eq!(e.table_len(), 0);
    // A peer above our cap: we stay at 4096 and say so once.
    e.set_peer_max_table_size(65536);
    let block = encode(&mut e, &[(":status", "200")]);
    assert_eq!(block, [0x3f, 0xe1, 0x1f, 0x88]);
    // No change, no update.
    e.set_peer_max_table_size(4096);
    assert_eq!(encode(&mut e, &[(":status", "200")]), [0x88]);
    // A cap below 4096 is signalled in the first block.
    let mut e = Encoder::with_options(EncoderOptions::default().max_table_size(0));
    assert_eq!(encode(&mut e, &[("a", "b")]), hex("20 00 0161 0162"));
}

#[test]
fn a_dynamic_name_is_reused_for_a_new_value() {
    let mut e = Encoder::new();
    encode(&mut e, &[("x-request-id", "1")]);
    let block = encode(&mut e, &[("x-request-id", "2")]);
    // Literal with indexing, name index 62.
    assert_eq!(block[0], 0x40 | 62);
    let mut d = Decoder::default();
    decode(
        &mut d,
        &encode(&mut Encoder::new(), &[("x-request-id", "1")]),
        4096,
    )
    .unwrap();
    assert_eq!(
        decode(&mut d, &block, 4096).unwrap(),
        owned(&[("x-request-id", "2")])
    );
}

// ---------------------------------------------------------------------------------------------------------
// Round trips

/// A step of a connection: a header list, or a table size change on both ends.
#[derive(Debug, Clone)]
enum Step {
    Block(Vec<(Vec<u8>, Vec<u8>)>),
    Resize(usize),
}

fn field_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let name = prop_oneof![
        Just(b":status".to_vec()),
        Just(b"server".to_vec()),
        Just(b"cookie".to_vec()),
        Just(b"content-type".to_vec()),
        Just(b"x-custom".to_vec()),
        proptest::collection::vec(b'a'..=b'z', 1..12),
    ];
    let value = prop_oneof![
        Just(b"200".to_vec()),
        Just(b"text/html".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(b' '..=b'~', 0..300),
    ];
    (name, value)
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => proptest::collection::vec(field_strategy(), 0..12).prop_map(Step::Block),
        1 => prop_oneof![Just(0usize), Just(64), 0..5000usize].prop_map(Step::Resize),
    ]
}

proptest! {
    #[test]
    fn encoder_to_decoder_round_trips(
        steps in proptest::collection::vec(step_strategy(), 1..20),
        huffman in prop_oneof![Just(Huffman::Always), Just(Huffman::Never), Just(Huffman::Shorter)],
        indexing in prop_oneof![Just(Indexing::Always), Just(Indexing::Never), Just(Indexing::Default)],
    ) {
        let mut e = Encoder::with_options(EncoderOptions::default().huffman(huffman).indexing(indexing));
        let mut d = Decoder::new(4096);
        for step in steps {
            match step {
                Step::Resize(n) => {
                    // We advertise n; the peer ACKs; its encoder follows.
                    d.set_max_table_size(n);
                    e.set_peer_max_table_size(n);
                }
                Step::Block(fields) => {
                    let mut block = Vec::new();
                    e.encode(fields.iter().map(|(n, v)| (&n[..], &v[..])), &mut block);
                    let mut got = Vec::new();
                    d.decode(&block, usize::MAX, &mut |n, v, _| got.push((n.to_vec(), v.to_vec()))).unwrap();
                    prop_assert_eq!(got, fields);
                    prop_assert_eq!(d.table_size(), e.table_size());
                    prop_assert_eq!(d.table_len(), e.table_len());
                    prop_assert!(d.table_size() <= d.max_table_size());
                }
            }
        }
    }

    #[test]
    fn huffman_round_trips(s in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut coded = Vec::new();
        huffman::encode(&s, &mut coded);
        let mut back = Vec::new();
        huffman::decode(&coded, &mut back).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn arbitrary_blocks_never_panic(block in proptest::collection::vec(any::<u8>(), 0..200), limit in 0..300usize) {
        let mut d = Decoder::new(limit);
        let mut total = 0;
        let r = d.decode(&block, 1000, &mut |n, v, _| total += n.len() + v.len() + 32);
        prop_assert!(total <= 1000);
        prop_assert!(d.table_size() <= limit);
        let _ = r;
    }
}

/// A literal without indexing, name from static index `name_index`, Huffman-coded value.
fn huffman_literal(name_index: u8, value: &str) -> Vec<u8> {
    let mut coded = Vec::new();
    super::huffman::encode(value.as_bytes(), &mut coded);
    let mut block = vec![name_index];
    super::integer::encode(coded.len(), 7, 0x80, &mut block);
    block.extend_from_slice(&coded);
    block
}

#[test]
fn repeated_huffman_values_decode_the_same_each_time() {
    let mut d = Decoder::default();
    // :path (static 4) sent as a literal on every request, as common encoders do.
    let paths = [
        "/1k.txt",
        "/1k.txt",
        "/index.html",
        "/1k.txt",
        "",
        "/1k.txt",
    ];
    for path in paths {
        let mut block = huffman_literal(4, path);
        block.extend(huffman_literal(4, "/second"));
        let got = decode(&mut d, &block, 4096).unwrap();
        assert_eq!(got, owned(&[(":path", path), (":path", "/second")]));
    }
}
