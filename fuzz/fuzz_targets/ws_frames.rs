//! Feeds arbitrary bytes to the WebSocket server engine in pieces, answering messages and pings like an echo
//! server, and checks that it never panics, never buffers beyond its limits, and ends closed. A second engine
//! takes the same pieces through the in-place input path and answers through direct sends (the socket taking a
//! varying part of each frame): its events and every byte it puts on the wire must equal the first engine's.
#![no_main]

use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lws_proto::ws::{MessageKind, Role, WsConfig, WsConn, WsEvent, WsState};

fn check_limits(ev: &WsEvent, flags: u8, conn: &WsConn) {
    match ev {
        WsEvent::Message { kind, data } => {
            assert!(data.len() <= 4096);
            if *kind == MessageKind::Text && flags & 0x80 == 0 {
                assert!(std::str::from_utf8(data).is_ok());
            }
        }
        WsEvent::Fragment { data, .. } => assert!(data.len() <= 1024),
        WsEvent::Ping(p) | WsEvent::Pong(p) => assert!(p.len() <= 125),
        WsEvent::Close { code, .. } => {
            assert!(code.is_none_or(lws_proto::ws::close::is_valid));
        }
        WsEvent::Error(e) => assert!(conn.error() == Some(*e)),
        _ => {}
    }
}

/// One piece through the in-place path; messages handed over in place become the events the usual path gives.
fn input_in_place(conn: &mut WsConn, t: Instant, piece: &[u8], streamed: bool) -> Vec<WsEvent> {
    let mut buf = piece.to_vec();
    let mut pos = 0;
    let mut events = Vec::new();
    while pos < buf.len() {
        let got = conn.handle_input_in_place(t, &mut buf[pos..]);
        assert!(got.consumed > 0 && got.consumed <= buf.len() - pos);
        events.extend(std::iter::from_fn(|| conn.poll_event()));
        if let Some((kind, range)) = got.message {
            let data = Bytes::copy_from_slice(&buf[pos + range.start..pos + range.end]);
            events.push(if streamed {
                WsEvent::Fragment {
                    kind,
                    data,
                    first: true,
                    fin: true,
                }
            } else {
                WsEvent::Message { kind, data }
            });
        }
        pos += got.consumed;
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, wire)) = data.split_first() else {
        return;
    };
    let piece = usize::from(flags & 0x3F) + 1;
    let streamed = flags & 0x40 != 0;
    let now = Instant::now();
    let cfg = WsConfig::default()
        .max_message(4096)
        .max_frame(1024)
        .stream_fragments(streamed)
        .validate_utf8(flags & 0x80 == 0);
    let mut conn = WsConn::new(Role::Server, cfg.clone(), now);
    let mut fast = WsConn::new(Role::Server, cfg, now);
    let (mut out, mut fast_out) = (Vec::new(), Vec::new());
    let mut take = usize::from(flags);
    for (i, chunk) in wire.chunks(piece).enumerate() {
        let t = now + Duration::from_millis(i as u64);
        conn.handle_input(t, chunk);
        let events: Vec<WsEvent> = std::iter::from_fn(|| conn.poll_event()).collect();
        for ev in &events {
            check_limits(ev, flags, &conn);
            if let WsEvent::Message { kind, data } = ev {
                conn.send_message(*kind, data);
            }
        }
        conn.poll_transmit(&mut out);
        assert_eq!(conn.pending_transmit(), 0);

        let fast_events = input_in_place(&mut fast, t, chunk, streamed);
        for ev in &fast_events {
            if let WsEvent::Message { kind, data } = ev {
                take = take.wrapping_mul(31).wrapping_add(7);
                fast.send_message_direct(*kind, data, |head, body| {
                    let n = take % (head.len() + body.len() + 1);
                    fast_out.extend_from_slice(&[head, body].concat()[..n]);
                    n
                });
            }
        }
        fast.poll_transmit(&mut fast_out);
        assert_eq!(fast_events, events);
        assert_eq!(fast_out, out);
    }
    for c in [&mut conn, &mut fast] {
        c.close(1000, "fuzz");
        c.handle_eof(now + Duration::from_secs(1));
        c.handle_timeout(now + Duration::from_secs(3600));
        while c.poll_event().is_some() {}
        let mut rest = Vec::new();
        c.poll_transmit(&mut rest);
        assert_eq!(c.state(), WsState::Closed);
        assert!(c.is_closed());
    }
});
