//! Fuzz permessage-deflate: arbitrary text as a client's `Sec-WebSocket-Extensions` offer and as a server's
//! response, and arbitrary bytes as compressed messages for the inflater. Nothing may panic, a negotiated
//! response must negotiate to the same parameters when offered back, and the inflater must never hold more
//! than its 1 MiB limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::ws::pmd::{
    client_accept, server_negotiate, PermessageDeflate, PmdConfig, PmdParams,
};
use lws_proto::ws::MessageCodec;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        negotiate(text);
    }
    // First byte: the inflater's context takeover and how the input is cut into frames and messages.
    let Some((&shape, stream)) = data.split_first() else {
        return;
    };
    let params = PmdParams {
        server_no_context_takeover: shape & 1 != 0,
        ..PmdParams::default()
    };
    let mut codec = PermessageDeflate::new(params, false, &PmdConfig::default());
    let piece = usize::from(shape >> 1 & 0x1f) + 1;
    // Bit 7 ends a message every 4 pieces, so that context carries between messages.
    let message_pieces = if shape & 0x80 != 0 { 4 } else { usize::MAX };
    let mut out = Vec::new();
    let mut pieces = stream.chunks(piece).enumerate().peekable();
    while let Some((i, chunk)) = pieces.next() {
        let fin = pieces.peek().is_none() || (i + 1) % message_pieces == 0;
        let result = codec.decompress(chunk, fin, &mut out, LIMIT);
        assert!(out.len() <= LIMIT, "{}", out.len());
        if result.is_err() || fin {
            out.clear();
        }
    }
    // One more message after whatever state the stream was left in (a message that ended mid-block
    // without error leaves the next one undefined, but never unsafe or unbounded).
    out.clear();
    let _ = codec.decompress(&[0x00], true, &mut out, LIMIT);
    assert!(out.len() <= LIMIT);
});

fn negotiate(text: &str) {
    let config = PmdConfig::default();
    let offers: Vec<&str> = text.split('\n').collect();
    if let Some((params, response)) = server_negotiate(&offers, &config) {
        let (again, _) =
            server_negotiate(&[&response], &config).expect("our response re-negotiates");
        assert_eq!(again, params, "{response}");
    }
    let _ = client_accept(text, &config);
}
