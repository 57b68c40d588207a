//! Feeds arbitrary bytes to the WebSocket server engine in pieces, answering messages and pings like an echo
//! server, and checks that it never panics, never buffers beyond its limits, and ends closed.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use lws_proto::ws::{MessageKind, Role, WsConfig, WsConn, WsEvent, WsState};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, wire)) = data.split_first() else {
        return;
    };
    let piece = usize::from(flags & 0x3F) + 1;
    let now = Instant::now();
    let cfg = WsConfig::default()
        .max_message(4096)
        .max_frame(1024)
        .stream_fragments(flags & 0x40 != 0)
        .validate_utf8(flags & 0x80 == 0);
    let mut conn = WsConn::new(Role::Server, cfg, now);
    let mut out = Vec::new();
    for (i, chunk) in wire.chunks(piece).enumerate() {
        let t = now + Duration::from_millis(i as u64);
        conn.handle_input(t, chunk);
        while let Some(ev) = conn.poll_event() {
            match ev {
                WsEvent::Message { kind, data } => {
                    assert!(data.len() <= 4096);
                    if kind == MessageKind::Text && flags & 0x80 == 0 {
                        assert!(std::str::from_utf8(&data).is_ok());
                    }
                    conn.send_message(kind, &data);
                }
                WsEvent::Fragment { data, .. } => assert!(data.len() <= 1024),
                WsEvent::Ping(p) | WsEvent::Pong(p) => assert!(p.len() <= 125),
                WsEvent::Close { code, .. } => {
                    assert!(code.is_none_or(lws_proto::ws::close::is_valid));
                }
                WsEvent::Error(e) => assert!(conn.error() == Some(e)),
                _ => {}
            }
        }
        out.clear();
        conn.poll_transmit(&mut out);
        assert_eq!(conn.pending_transmit(), 0);
    }
    conn.close(1000, "fuzz");
    conn.handle_eof(now + Duration::from_secs(1));
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
    out.clear();
    conn.poll_transmit(&mut out);
    assert_eq!(conn.state(), WsState::Closed);
    assert!(conn.is_closed());
});
