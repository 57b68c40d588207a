//! Feeds arbitrary bytes to the HTTP/1.1 client engine as the server's answers, in pieces, sending the next
//! request whenever the connection is ready again, and checks that it never panics, never reports a body
//! after an error, and stops at the first error.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use lws_proto::http1::client::{
    ClientEvent, H1ClientConfig, H1ClientConn, OutgoingRequest, RequestBody,
};

fuzz_target!(|data: &[u8]| {
    let Some((&control, wire)) = data.split_first() else {
        return;
    };
    let piece = usize::from(control % 64) + 1;
    let methods = ["GET", "HEAD", "POST"];
    let now = Instant::now();
    let cfg = H1ClientConfig {
        max_head: 2048,
        max_headers: 16,
        ..H1ClientConfig::default()
    };
    let mut conn = H1ClientConn::new(cfg);
    let mut out = Vec::new();
    let mut sent = 0usize;
    let mut failed = false;
    for chunk in wire.chunks(piece) {
        if conn.is_ready() {
            let method = methods[(usize::from(control >> 6) + sent) % methods.len()];
            let body = if method == "POST" {
                RequestBody::Length(2)
            } else {
                RequestBody::Empty
            };
            let req = OutgoingRequest {
                method,
                target: "/",
                host: "fuzz",
                headers: &[],
                body,
            };
            conn.send_request(now, &req)
                .expect("a ready connection takes a valid request");
            if method == "POST" {
                conn.send_data(b"ok").expect("announced length");
                conn.finish_request().expect("complete body");
            }
            sent += 1;
        }
        conn.handle_input(now, chunk);
        while let Some(ev) = conn.poll_event() {
            assert!(!failed, "event after an error: {ev:?}");
            match ev {
                ClientEvent::Response(head) => assert!((100..=999).contains(&head.status())),
                ClientEvent::Data(d) => assert!(!d.is_empty()),
                ClientEvent::End(_) => {}
                ClientEvent::Error(_) => failed = true,
            }
        }
        out.clear();
        conn.poll_transmit(&mut out);
    }
    conn.handle_eof(now);
    while let Some(ev) = conn.poll_event() {
        assert!(!failed, "event after an error: {ev:?}");
        failed |= matches!(ev, ClientEvent::Error(_));
    }
});
