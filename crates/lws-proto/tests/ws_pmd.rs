//! permessage-deflate (RFC 7692): the RFC's examples and a negotiation table from `tests/vectors/pmd-*.txt`,
//! round trips over every negotiated shape, and the inflater's limits (deflate bombs, corrupt streams).

use std::path::Path;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use lws_proto::ws::pmd::{
    client_accept, client_offer, server_negotiate, ContextPool, PermessageDeflate, PmdConfig,
    PmdParams,
};
use lws_proto::ws::{MessageCodec, WsError};

const MIB: usize = 1 << 20;

fn vectors(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Non-comment, non-blank lines with their 1-based line numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
}

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|byte| u8::from_str_radix(byte, 16).unwrap_or_else(|_| panic!("bad hex {byte:?}")))
        .collect()
}

fn pair(params: PmdParams, config: &PmdConfig) -> (PermessageDeflate, PermessageDeflate) {
    (
        PermessageDeflate::new(params, true, config),
        PermessageDeflate::new(params, false, config),
    )
}

fn compress(codec: &mut PermessageDeflate, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    codec.compress(payload, &mut out).expect("compress");
    out
}

fn decompress(
    codec: &mut PermessageDeflate,
    frames: &[&[u8]],
    limit: usize,
) -> Result<Vec<u8>, WsError> {
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        codec.decompress(frame, i + 1 == frames.len(), &mut out, limit)?;
    }
    Ok(out)
}

/// xorshift64: deterministic incompressible bytes without a dependency.
fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn text(len: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "websocket ",
        "message ",
        "deflate ",
        "{\"id\": 42, ",
        "\"ok\": true} ",
        "frame ",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0usize;
    while out.len() < len {
        out.extend_from_slice(WORDS[(i * 7 + i / 5) % WORDS.len()].as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

#[derive(Default)]
struct ExampleCase {
    name: String,
    levels: Vec<u32>,
    messages: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

fn example_cases() -> Vec<ExampleCase> {
    let text = vectors("pmd-examples.txt");
    let mut cases: Vec<ExampleCase> = Vec::new();
    for (line_no, line) in lines(&text) {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "case" => cases.push(ExampleCase {
                name: rest.to_owned(),
                ..ExampleCase::default()
            }),
            "encode" => cases.last_mut().unwrap().levels.push(rest.parse().unwrap()),
            "msg" => {
                let (message, frames) = rest.split_once(" = ").expect("msg \"text\" = hex");
                let message = message
                    .strip_prefix('"')
                    .and_then(|m| m.strip_suffix('"'))
                    .unwrap();
                let frames = frames.split('|').map(hex).collect();
                cases
                    .last_mut()
                    .unwrap()
                    .messages
                    .push((message.as_bytes().to_vec(), frames));
            }
            _ => panic!("pmd-examples.txt:{line_no}: unknown line {line:?}"),
        }
    }
    cases
}

#[test]
fn rfc7692_examples_decode() {
    let cases = example_cases();
    assert!(cases.len() >= 7);
    for case in cases {
        let (_, mut client) = pair(PmdParams::default(), &PmdConfig::default());
        for (message, frames) in &case.messages {
            let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            assert_eq!(
                decompress(&mut client, &frames, 1024).as_deref(),
                Ok(&message[..]),
                "{}",
                case.name
            );
        }
    }
}

#[test]
fn rfc7692_examples_encode() {
    let mut checked = 0;
    for case in example_cases() {
        for &level in &case.levels {
            let config = PmdConfig {
                level,
                ..PmdConfig::default()
            };
            let (mut server, _) = pair(PmdParams::default(), &config);
            for (message, frames) in &case.messages {
                assert_eq!(
                    compress(&mut server, message),
                    frames.concat(),
                    "{} level {level}",
                    case.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4);
}

fn parse_config(settings: &str) -> PmdConfig {
    let mut config = PmdConfig::default();
    for setting in settings.split_whitespace() {
        match setting.split_once('=') {
            None if setting == "default" => {}
            None if setting == "server_no_context_takeover" => {
                config.server_no_context_takeover = true
            }
            None if setting == "client_no_context_takeover" => {
                config.client_no_context_takeover = true
            }
            Some(("server_max_window_bits", n)) => {
                config.server_max_window_bits = n.parse().unwrap()
            }
            Some(("client_max_window_bits", n)) => {
                config.client_max_window_bits = n.parse().unwrap()
            }
            _ => panic!("unknown setting {setting:?}"),
        }
    }
    config
}

/// Params as the table writes them: the non-default ones by header name, in header order.
fn describe(params: &PmdParams) -> String {
    let mut words = Vec::new();
    if params.server_no_context_takeover {
        words.push("server_no_context_takeover".to_owned());
    }
    if params.client_no_context_takeover {
        words.push("client_no_context_takeover".to_owned());
    }
    if params.server_max_window_bits != 15 {
        words.push(format!(
            "server_max_window_bits={}",
            params.server_max_window_bits
        ));
    }
    if params.client_max_window_bits != 15 {
        words.push(format!(
            "client_max_window_bits={}",
            params.client_max_window_bits
        ));
    }
    if words.is_empty() {
        "default".to_owned()
    } else {
        words.join(" ")
    }
}

/// What a server response says, in the same words (absent window bits are 15).
fn describe_response(response: &str) -> String {
    let params = response
        .split("; ")
        .skip(1)
        .filter(|p| !p.ends_with("=15"))
        .collect::<Vec<_>>();
    if params.is_empty() {
        "default".to_owned()
    } else {
        params.join(" ")
    }
}

#[test]
fn negotiation_table() {
    let table = vectors("pmd-negotiation.txt");
    let (mut server_config, mut client_config) = (PmdConfig::default(), PmdConfig::default());
    let mut checked = 0;
    for (line_no, line) in lines(&table) {
        let at = format!("pmd-negotiation.txt:{line_no}: {line}");
        if let Some(settings) = line.strip_prefix("server-config ") {
            server_config = parse_config(settings);
            continue;
        }
        if let Some(settings) = line.strip_prefix("client-config ") {
            client_config = parse_config(settings);
            continue;
        }
        let (input, expected) = line.split_once(" => ").expect(&at);
        let (kind, input) = input.split_once(' ').unwrap_or((input, ""));
        match (kind, input) {
            ("S", offers) => {
                let offers: Vec<&str> = offers.split(" ++ ").collect();
                match server_negotiate(&offers, &server_config) {
                    None => assert_eq!(expected, "declined", "{at}"),
                    Some((params, response)) => {
                        assert_eq!(response, expected, "{at}");
                        assert_eq!(describe(&params), describe_response(&response), "{at}");
                    }
                }
            }
            ("O", "") => assert_eq!(client_offer(&client_config), expected, "{at}"),
            ("C", response) => {
                let got = match client_accept(response, &client_config) {
                    Ok(params) => format!("accept {}", describe(&params)),
                    Err(error) => {
                        assert!(!error.to_string().is_empty());
                        format!("error {error:?}")
                    }
                };
                assert_eq!(got, expected, "{at}");
            }
            _ => panic!("{at}: unknown line"),
        }
        checked += 1;
    }
    assert!(checked >= 80, "{checked}");
}

#[test]
fn negotiation_round_trips_between_our_client_and_server() {
    let flags = [false, true];
    let bits = [8, 9, 12, 15];
    for server_nct in flags {
        for client_nct in flags {
            for server_bits in bits {
                for client_bits in bits {
                    let config = PmdConfig {
                        server_no_context_takeover: server_nct,
                        client_no_context_takeover: client_nct,
                        server_max_window_bits: server_bits,
                        client_max_window_bits: client_bits,
                        ..PmdConfig::default()
                    };
                    // Both ends share one configuration: the client asks exactly what the server imposes.
                    let offer = client_offer(&config);
                    let Some((server_params, response)) = server_negotiate(&[&offer], &config)
                    else {
                        // Asking the server for an 8-bit window is declined: zlib cannot compress with it.
                        assert_eq!(server_bits, 8, "{offer}");
                        continue;
                    };
                    assert_ne!(server_bits, 8, "{offer}");
                    let client_params = client_accept(&response, &config)
                        .unwrap_or_else(|e| panic!("{response}: {e}"));
                    assert_eq!(server_params, client_params, "{offer} -> {response}");
                    assert_eq!(server_params.server_no_context_takeover, server_nct);
                    assert_eq!(server_params.client_no_context_takeover, client_nct);
                    assert_eq!(server_params.server_max_window_bits, server_bits);
                    assert_eq!(server_params.client_max_window_bits, client_bits.max(9));
                }
            }
        }
    }
}

/// What zlib itself emits at `window_bits` (9 where 8 was negotiated: zlib's smallest) for these messages,
/// sync-flushed with the tail removed: the codec must match it byte for byte, which proves it compresses with
/// the negotiated window and resets exactly when no_context_takeover says so. (Decoding cannot prove it:
/// zlib-rs inflates with a 32 KiB window whatever size it is given.)
fn reference_deflate(window_bits: u8, messages: &[Vec<u8>], reset_each: bool) -> Vec<Vec<u8>> {
    let level = Compression::new(PmdConfig::default().level);
    let mut deflate = Compress::new_with_window_bits(level, false, window_bits.max(9));
    let mut encoded = Vec::new();
    for message in messages {
        let mut out = Vec::with_capacity(message.len() * 2 + 64);
        if message.is_empty() {
            // zlib will not flush twice without input; RFC 7692 §7.2.3.6 gives the encoding.
            out.push(0);
        } else {
            let before = deflate.total_in();
            deflate
                .compress_vec(message, &mut out, FlushCompress::Sync)
                .expect("deflate");
            assert_eq!((deflate.total_in() - before) as usize, message.len());
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
        }
        encoded.push(out);
        if reset_each {
            deflate.reset();
        }
    }
    encoded
}

#[test]
fn round_trips_in_both_directions_for_every_shape() {
    let messages = [
        Vec::new(),
        b"x".to_vec(),
        vec![b'a'; 64 * 1024],
        text(50_000),
        Vec::new(),
        text(50_000),
        b"Hello".to_vec(),
        random_bytes(MIB, 0x5eed),
    ];
    // The reference check leaves out the large random message, last so that the others keep their history:
    // it adds no window or reset behaviour and would double the slowest part of the test in debug builds.
    let random = messages.len() - 1;
    // Every (no_context_takeover, window bits) for the server's compressor, each paired with a different one
    // for the client's, so both roles compress and inflate in all eight shapes.
    let shapes: Vec<(bool, u8)> = [false, true]
        .into_iter()
        .flat_map(|nct| [8, 9, 12, 15].map(|bits| (nct, bits)))
        .collect();
    for (i, &(server_nct, server_bits)) in shapes.iter().enumerate() {
        let (client_nct, client_bits) = shapes[(i + 3) % shapes.len()];
        let params = PmdParams {
            server_no_context_takeover: server_nct,
            client_no_context_takeover: client_nct,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        let (mut server, mut client) = pair(params, &PmdConfig::default());
        let (mut to_client, mut to_server) = (Vec::new(), Vec::new());
        for message in &messages {
            let compressed = compress(&mut server, message);
            assert_eq!(
                decompress(&mut client, &[&compressed], 2 * MIB).as_ref(),
                Ok(message),
                "{params:?}"
            );
            to_client.push(compressed);
            let compressed = compress(&mut client, message);
            assert_eq!(
                decompress(&mut server, &[&compressed], 2 * MIB).as_ref(),
                Ok(message),
                "{params:?}"
            );
            to_server.push(compressed);
        }
        let small = &messages[..random];
        assert!(
            to_client[..random] == reference_deflate(server_bits, small, server_nct),
            "{params:?}"
        );
        assert!(
            to_server[..random] == reference_deflate(client_bits, small, client_nct),
            "{params:?}"
        );
    }
}

#[test]
fn window_bits_change_the_output() {
    // Guards the reference comparison: a repeat 1000 bytes back is found with a 32 KiB window only.
    let mut message = random_bytes(1000, 7);
    message.extend_from_within(..1000);
    let small = reference_deflate(9, &[message.clone()], false);
    let large = reference_deflate(15, &[message], false);
    assert!(
        large[0].len() + 500 < small[0].len(),
        "{} vs {}",
        large[0].len(),
        small[0].len()
    );
}

#[test]
fn context_takeover_shrinks_a_repeated_message() {
    let message = random_bytes(4000, 11);
    for nct in [false, true] {
        let params = PmdParams {
            server_no_context_takeover: nct,
            ..PmdParams::default()
        };
        let (mut server, mut client) = pair(params, &PmdConfig::default());
        let first = compress(&mut server, &message);
        let second = compress(&mut server, &message);
        if nct {
            assert_eq!(second, first);
        } else {
            assert!(
                second.len() * 4 < first.len(),
                "{} vs {}",
                second.len(),
                first.len()
            );
        }
        for compressed in [first, second] {
            assert_eq!(
                decompress(&mut client, &[&compressed], MIB),
                Ok(message.clone())
            );
        }
    }
}

#[test]
fn should_compress_follows_min_size() {
    let config = PmdConfig {
        min_size: 16,
        ..PmdConfig::default()
    };
    let (server, _) = pair(PmdParams::default(), &config);
    assert!(!server.should_compress(15));
    assert!(server.should_compress(16));
}

#[test]
fn deflate_bomb_stops_at_the_limit() {
    let bomb = {
        let config = PmdConfig {
            level: 9,
            ..PmdConfig::default()
        };
        let (mut server, _) = pair(PmdParams::default(), &config);
        compress(&mut server, &vec![0u8; 10 * MIB])
    };
    assert!(bomb.len() < 20 * 1024, "{}", bomb.len());
    let limit = MIB;
    // Whole, and in small frames: either way it fails before the output passes the limit.
    for frame_len in [bomb.len(), 1000, 1] {
        let (_, mut client) = pair(PmdParams::default(), &PmdConfig::default());
        let mut out = Vec::new();
        let mut result = Ok(());
        let mut frames = bomb.chunks(frame_len).peekable();
        while let Some(frame) = frames.next() {
            result = client.decompress(frame, frames.peek().is_none(), &mut out, limit);
            assert!(out.len() <= limit, "{}", out.len());
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(WsError::MessageTooBig), "frames of {frame_len}");
        assert!(
            out.capacity() <= 2 * limit + 128 * 1024,
            "{}",
            out.capacity()
        );
        // The codec starts the next message clean.
        assert_eq!(
            decompress(
                &mut client,
                &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]],
                5
            )
            .as_deref(),
            Ok(&b"Hello"[..])
        );
    }
}

#[test]
fn limit_counts_the_whole_message() {
    let message = text(10_000);
    let (mut server, mut client) = pair(PmdParams::default(), &PmdConfig::default());
    let compressed = compress(&mut server, &message);
    let (head, tail) = compressed.split_at(compressed.len() / 2);
    assert_eq!(
        decompress(&mut client, &[head, tail], message.len()),
        Ok(message.clone())
    );
    let compressed = compress(&mut server, &message);
    let (head, tail) = compressed.split_at(compressed.len() / 2);
    assert_eq!(
        decompress(&mut client, &[head, tail], message.len() - 1),
        Err(WsError::MessageTooBig)
    );
}

#[test]
fn corrupt_streams_are_bad_compressed_data() {
    let cases: [&[u8]; 4] = [
        &[0xff, 0xff, 0xff],                   // BTYPE 11 is reserved
        &[0x00, 0x05, 0x00, 0x00, 0x00, 0x48], // stored block whose NLEN is not ~LEN
        &[0xf2, 0x00, 0x11, 0x00, 0x00],       // a back-reference with nothing before it
        &[0xfd, 0xff, 0xff],                   // dynamic block with 288 literal/length codes
    ];
    for (i, case) in cases.iter().enumerate() {
        let (_, mut client) = pair(PmdParams::default(), &PmdConfig::default());
        assert_eq!(
            decompress(&mut client, &[case], MIB),
            Err(WsError::BadCompressedData),
            "case {i}"
        );
        assert_eq!(
            decompress(
                &mut client,
                &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]],
                5
            )
            .as_deref(),
            Ok(&b"Hello"[..])
        );
    }
}

#[test]
fn one_byte_frames_decode_the_same() {
    let messages = [
        text(70_000),
        random_bytes(5000, 3),
        Vec::new(),
        text(70_000),
    ];
    for nct in [false, true] {
        let params = PmdParams {
            server_no_context_takeover: nct,
            ..PmdParams::default()
        };
        let (mut server, mut client) = pair(params, &PmdConfig::default());
        for message in &messages {
            let compressed = compress(&mut server, message);
            let mut frames: Vec<&[u8]> = compressed.chunks(1).collect();
            if frames.is_empty() {
                frames.push(&[]);
            }
            // An empty final frame, as a fragmented message may end.
            frames.push(&[]);
            assert_eq!(decompress(&mut client, &frames, MIB).as_ref(), Ok(message));
        }
    }
}

#[test]
fn compress_appends_to_out() {
    let (mut server, mut client) = pair(PmdParams::default(), &PmdConfig::default());
    let mut out = b"header".to_vec();
    server.compress(b"Hello", &mut out).unwrap();
    assert_eq!(out, b"header\xf2\x48\xcd\xc9\xc9\x07\x00");
    // The limit bounds `out.len()`, whatever was in it before.
    let mut plain = b"prefix".to_vec();
    assert_eq!(
        client.decompress(&out[6..], true, &mut plain, 10),
        Err(WsError::MessageTooBig)
    );
    assert_eq!(plain, b"prefixHell");
    let mut plain = b"prefix".to_vec();
    client.decompress(&out[6..], true, &mut plain, 11).unwrap();
    assert_eq!(plain, b"prefixHello");
}

/// A config with a pool of its own, so that other tests running at the same time cannot take its compressors.
fn pooled(limit: usize) -> (ContextPool, PmdConfig) {
    let pool = ContextPool::new(limit);
    let config = PmdConfig {
        pool: pool.clone(),
        ..PmdConfig::default()
    };
    (pool, config)
}

#[test]
fn interleaved_connections_keep_their_own_context() {
    // Connections on one thread share its scratch inflater and take turns with the pool; each must still
    // compress against and inflate with its own history only. Incompressible messages repeated once make
    // that visible: with context the repeat is one back-reference, a few bytes.
    let (pool, config) = pooled(8);
    let mut pairs: Vec<_> = (0..4)
        .map(|_| pair(PmdParams::default(), &config))
        .collect();
    let messages: Vec<Vec<u8>> = (0..4).map(|i| random_bytes(3000, 100 + i)).collect();
    for round in 0..3 {
        for (i, (server, client)) in pairs.iter_mut().enumerate() {
            let message = &messages[i];
            let down = compress(server, message);
            let up = compress(client, message);
            if round > 0 {
                assert!(
                    down.len() < 64 && up.len() < 64,
                    "{} {}",
                    down.len(),
                    up.len()
                );
            }
            assert_eq!(decompress(client, &[&down], MIB).as_ref(), Ok(message));
            assert_eq!(decompress(server, &[&up], MIB).as_ref(), Ok(message));
        }
    }
    assert_eq!(pool.kept(), (8, 8));
    drop(pairs);
    // Closed connections leave their states to the next ones, up to the limit.
    assert_eq!(pool.kept(), (8, 8));
}

#[test]
fn a_message_in_parts_keeps_its_inflater_while_another_inflates() {
    let config = pooled(4).1;
    let (mut server_a, mut client_a) = pair(PmdParams::default(), &config);
    let (mut server_b, mut client_b) = pair(PmdParams::default(), &config);
    let (message_a, message_b) = (text(20_000), random_bytes(5000, 9));
    for _ in 0..2 {
        let a = compress(&mut server_a, &message_a);
        let b = compress(&mut server_b, &message_b);
        let (head, tail) = a.split_at(a.len() / 2);
        let mut out_a = Vec::new();
        client_a.decompress(head, false, &mut out_a, MIB).unwrap();
        assert_eq!(decompress(&mut client_b, &[&b], MIB), Ok(message_b.clone()));
        client_a.decompress(tail, true, &mut out_a, MIB).unwrap();
        assert_eq!(out_a, message_a);
    }
}

#[test]
fn past_the_pool_limit_messages_go_without_context() {
    let (pool, config) = pooled(1);
    let message = random_bytes(3000, 5);
    let alone = reference_deflate(15, std::slice::from_ref(&message), true).remove(0);
    let (mut first, first_peer) = pair(PmdParams::default(), &config);
    let (mut second, mut second_peer) = pair(PmdParams::default(), &config);
    assert_eq!(compress(&mut first, &message), alone);
    assert!(compress(&mut first, &message).len() < 64);
    // The only compressor was used just now: the second connection compresses each message on its own,
    // which its peer, keeping its window all along, decodes all the same.
    for _ in 0..2 {
        let compressed = compress(&mut second, &message);
        assert_eq!(compressed, alone);
        assert_eq!(
            decompress(&mut second_peer, &[&compressed], MIB),
            Ok(message.clone())
        );
    }
    assert_eq!(pool.kept(), (1, 1));
    // Once the first connection closes, the second one gets the compressor and its context from then on.
    drop((first, first_peer));
    assert_eq!(compress(&mut second, &message), alone);
    let repeat = compress(&mut second, &message);
    assert!(repeat.len() < 64);
    assert_eq!(
        decompress(&mut second_peer, &[&alone], MIB),
        Ok(message.clone())
    );
    assert_eq!(decompress(&mut second_peer, &[&repeat], MIB), Ok(message));
}

#[test]
fn a_pool_of_zero_compresses_each_message_on_its_own() {
    let (pool, config) = pooled(0);
    let messages = [text(10_000), text(10_000), b"Hello".to_vec(), text(3000)];
    let (mut server, mut client) = pair(PmdParams::default(), &config);
    let mut sent = Vec::new();
    for message in &messages {
        let compressed = compress(&mut server, message);
        assert_eq!(
            decompress(&mut client, &[&compressed], MIB).as_ref(),
            Ok(message)
        );
        sent.push(compressed);
    }
    // Short messages go as stored blocks: the bytes themselves after a 5-byte block header.
    assert_eq!(sent[2], [&[0x00, 5, 0, 0xfa, 0xff][..], b"Hello"].concat());
    let reference = reference_deflate(15, &messages, true);
    for i in [0, 1, 3] {
        assert!(sent[i] == reference[i], "message {i}");
    }
    assert_eq!(pool.kept(), (0, 0));
}

#[test]
fn no_context_takeover_keeps_nothing_in_the_pool() {
    let (pool, config) = pooled(4);
    let params = PmdParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..PmdParams::default()
    };
    let (mut server, mut client) = pair(params, &config);
    let message = text(5000);
    for _ in 0..3 {
        let down = compress(&mut server, &message);
        assert_eq!(decompress(&mut client, &[&down], MIB), Ok(message.clone()));
        let up = compress(&mut client, &message);
        assert_eq!(up, down);
        assert_eq!(decompress(&mut server, &[&up], MIB), Ok(message.clone()));
    }
    // Neither side keeps a window, so nothing is kept for either.
    assert_eq!(pool.kept(), (0, 0));
}

#[test]
fn a_smaller_window_decodes_with_a_full_window_inflater() {
    // A server configured to compress with 1 KiB windows while the client allowed the default 15: the answer
    // announces it (RFC 7692 7.1.2.1 lets a server add server_max_window_bits), and a plain 15-bit raw
    // inflater, as any client has, decodes what it sends with context takeover.
    let config = PmdConfig {
        server_max_window_bits: 10,
        ..pooled(2).1
    };
    let (params, answer) =
        server_negotiate(&["permessage-deflate; client_max_window_bits"], &config).unwrap();
    assert_eq!(params.server_max_window_bits, 10);
    assert!(answer.contains("server_max_window_bits=10"), "{answer}");
    let mut server = PermessageDeflate::new(params, true, &config);
    let mut inflater = Decompress::new(false);
    let messages = [text(4000), text(4000), random_bytes(2000, 1), text(100)];
    let encoded = messages
        .iter()
        .map(|m| compress(&mut server, m))
        .collect::<Vec<_>>();
    assert!(encoded == reference_deflate(10, &messages, false));
    for (message, compressed) in messages.iter().zip(&encoded) {
        let mut input = compressed.clone();
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::with_capacity(message.len() + 64);
        inflater
            .decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .unwrap();
        assert_eq!(&out, message);
    }
}

#[test]
fn a_primed_inflater_decodes_what_refers_to_earlier_messages() {
    // The receiving side's pool keeps one inflater, so of three connections two inflate each message with a
    // per-thread inflater primed from the window they kept; the senders keep their context, so every repeat
    // is a back-reference into the previous message.
    let senders = pooled(8).1;
    let (receiving_pool, receivers) = pooled(1);
    let params = PmdParams::default();
    let mut conns: Vec<_> = (0..3)
        .map(|_| {
            (
                PermessageDeflate::new(params, true, &senders),
                PermessageDeflate::new(params, false, &receivers),
            )
        })
        .collect();
    let messages: Vec<Vec<u8>> = (0..3).map(|i| random_bytes(20_000, 40 + i)).collect();
    for round in 0..3 {
        for (i, (server, client)) in conns.iter_mut().enumerate() {
            let compressed = compress(server, &messages[i]);
            if round > 0 {
                // 20 000 bytes as back-references of at most 258 bytes each.
                assert!(compressed.len() < 1000, "{}", compressed.len());
            }
            // Split, so the primed inflater is also carried over from one part to the next.
            let (head, tail) = compressed.split_at(compressed.len() / 2);
            assert_eq!(
                decompress(client, &[head, tail], MIB).as_ref(),
                Ok(&messages[i])
            );
        }
    }
    assert_eq!(receiving_pool.kept(), (0, 1));
}
