//! Feeds arbitrary bytes to the HTTP/1.1 server engine in pieces, answering every request, and checks that
//! it never panics, never buffers without bound, and keeps its invariants.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use lws_proto::http1::{Event, H1Config, H1Conn, ResponseLength};

fuzz_target!(|data: &[u8]| {
    let Some((&split, wire)) = data.split_first() else {
        return;
    };
    let piece = usize::from(split % 64) + 1;
    let now = Instant::now();
    let cfg = H1Config {
        max_head: 2048,
        max_headers: 16,
        ..H1Config::default()
    };
    let mut conn = H1Conn::new(cfg, now);
    let mut out = Vec::new();
    for (i, chunk) in wire.chunks(piece).enumerate() {
        let t = now + Duration::from_millis(i as u64);
        if conn.wants_input() {
            conn.handle_input(t, chunk);
        }
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Request(head) => {
                    assert!(!head.method().is_empty());
                    conn.set_body_limit(4096);
                    conn.accept_body(t);
                }
                Event::Data(d) => assert!(!d.is_empty()),
                Event::End(_) => {
                    conn.start_response(200, ResponseLength::Known(2)).finish();
                    conn.send_data(b"ok");
                    conn.finish_response(t);
                }
                Event::Error(e) => {
                    if let Some(status) = e.status() {
                        if !conn.response_in_progress() {
                            conn.start_response(status, ResponseLength::Empty).finish();
                            conn.finish_response(t);
                        }
                    }
                }
            }
        }
        out.clear();
        conn.poll_transmit(&mut out);
    }
    conn.handle_eof(now + Duration::from_secs(1));
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
});
