//! Feeds arbitrary bytes (after a valid client preface) to the HTTP/2 server engine in pieces, answering every
//! request with a small response, and checks that it never panics, keeps its output bounded, and that a
//! connection error is sticky.
#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lws_proto::h2::frame::PREFACE;
use lws_proto::h2::{Event, H2Config, H2Conn};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, wire)) = data.split_first() else {
        return;
    };
    let piece = usize::from(flags & 0x3F) + 1;
    let now = Instant::now();
    let config = H2Config {
        max_concurrent_streams: 8,
        max_header_list_size: 4096,
        stream_window: 65_535,
        connection_window: 65_535,
        ..H2Config::default()
    };
    let mut conn = H2Conn::server(config, now);
    let mut input = PREFACE.to_vec();
    // A SETTINGS frame so the fuzzer starts past the handshake unless flags say otherwise.
    if flags & 0x40 == 0 {
        input.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    }
    input.extend_from_slice(wire);
    let mut out = Vec::new();
    for (i, chunk) in input.chunks(piece).enumerate() {
        let t = now + Duration::from_millis(i as u64);
        conn.handle_input(t, chunk);
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Headers { stream, block, .. } => {
                    assert!(block.fields().count() <= 4096);
                    let _ = conn.send_response(stream, 200, [(&b"x"[..], &b"y"[..])], false);
                    let _ = conn.send_data(stream, Bytes::from_static(b"hello"), true);
                }
                Event::Data { data, .. } => assert!(data.len() <= 16_384),
                Event::Error(_) => assert!(conn.error().is_some()),
                _ => {}
            }
        }
        out.clear();
        conn.poll_transmit(&mut out);
        assert!(out.len() <= 1 << 20, "bounded output per step");
        if conn.error().is_some() {
            conn.handle_input(t, b"more bytes after a connection error");
            out.clear();
            conn.poll_transmit(&mut out);
            assert!(out.is_empty(), "a connection error is sticky");
            assert!(conn.is_closed());
            return;
        }
        if let Some(deadline) = conn.poll_timeout() {
            conn.handle_timeout(deadline.min(t));
        }
    }
});
