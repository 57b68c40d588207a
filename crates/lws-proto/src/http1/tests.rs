use std::time::{Duration, Instant};

use super::*;

/// A server engine plus helpers that read like the wire.
struct Harness {
    conn: H1Conn,
    now: Instant,
    out: Vec<u8>,
}

impl Harness {
    fn new() -> Self {
        Self::with(H1Config::default())
    }

    fn with(cfg: H1Config) -> Self {
        let now = Instant::now();
        Harness {
            conn: H1Conn::new(cfg, now),
            now,
            out: Vec::new(),
        }
    }

    fn input(&mut self, data: &[u8]) -> Vec<Event> {
        self.conn.handle_input(self.now, data);
        self.events()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }

    fn respond(&mut self, status: u16, body: &[u8]) -> String {
        self.conn
            .start_response(status, ResponseLength::Known(body.len() as u64))
            .header("x-test", b"1")
            .finish();
        self.conn.send_data(body);
        self.conn.finish_response(self.now);
        self.take_output()
    }

    fn take_output(&mut self) -> String {
        self.out.clear();
        self.conn.poll_transmit(&mut self.out);
        String::from_utf8_lossy(&self.out).into_owned()
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
    }
}

fn error_of(events: &[Event]) -> Option<H1Error> {
    events.iter().find_map(|e| match e {
        Event::Error(e) => Some(*e),
        _ => None,
    })
}

fn request_of(events: &[Event]) -> &RequestHead {
    events
        .iter()
        .find_map(|e| match e {
            Event::Request(h) => Some(h),
            _ => None,
        })
        .expect("a request head")
}

fn body_of(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data(d) => Some(d.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn ended(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::End(_)))
}

#[test]
fn simple_get_and_response_framing() {
    let mut h = Harness::new();
    let ev = h.input(b"GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n");
    let req = request_of(&ev);
    assert_eq!(req.method(), "GET");
    assert_eq!(req.target(), "/index.html?x=1");
    assert_eq!(req.version(), Version::Http11);
    assert_eq!(req.header_str("user-agent"), Some("t"));
    assert_eq!(req.header_str("HOST"), Some("example"));
    assert!(req.keep_alive());
    assert!(ended(&ev));
    let out = h.respond(200, b"hello");
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\nx-test: 1\r\ncontent-length: 5\r\n\r\nhello"
    );
    assert!(!h.conn.is_closed());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut h = Harness::new();
    let ev = h.input(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(request_of(&ev).target(), "/a");
    assert_eq!(
        ev.len(),
        2,
        "the second request waits for the first response"
    );
    h.respond(200, b"a");
    let ev = h.events();
    assert_eq!(request_of(&ev).target(), "/b");
    assert_eq!(h.conn.requests(), 2);
}

#[test]
fn input_split_byte_by_byte() {
    let mut h = Harness::new();
    let wire = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world";
    let mut ev = Vec::new();
    for b in wire.iter() {
        ev.extend(h.input(std::slice::from_ref(b)));
        if ev.iter().any(|e| matches!(e, Event::Request(_))) && h.conn.paused {
            h.conn.accept_body(h.now);
            ev.extend(h.events());
        }
    }
    assert_eq!(body_of(&ev), b"hello world");
    assert!(ended(&ev));
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let mut h = Harness::new();
    let ev = h.input(b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(request_of(&ev).body_kind(), BodyKind::Chunked);
    h.conn.accept_body(h.now);
    let ev = h.input(b"5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\n\r\n");
    assert_eq!(body_of(&ev), b"hello world");
    let trailers = ev.iter().find_map(|e| match e {
        Event::End(t) => Some(t.clone()),
        _ => None,
    });
    assert_eq!(trailers.unwrap().fields[0].0, "x-sum");
}

#[test]
fn expect_continue_is_sent_only_when_body_accepted() {
    let mut h = Harness::new();
    h.input(b"PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert!(h.take_output().is_empty());
    h.conn.accept_body(h.now);
    assert_eq!(h.take_output(), "HTTP/1.1 100 Continue\r\n\r\n");
    let ev = h.input(b"abc");
    assert_eq!(body_of(&ev), b"abc");
}

#[test]
fn rejecting_an_expect_continue_body_closes_after_the_response() {
    let mut h = Harness::new();
    h.input(
        b"PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\nExpect: 100-continue\r\n\r\n",
    );
    let out = h.respond(413, b"");
    assert!(out.contains("connection: close"), "{out}");
    assert!(h.conn.is_closed());
}

#[test]
fn head_response_keeps_length_but_no_body() {
    let mut h = Harness::new();
    h.input(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    let out = h.respond(200, b"hello");
    assert_eq!(
        out,
        "HTTP/1.1 200 OK\r\nx-test: 1\r\ncontent-length: 5\r\n\r\n"
    );
}

#[test]
fn http10_closes_unless_keep_alive_and_never_chunks() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.0\r\n\r\n");
    h.conn
        .start_response(200, ResponseLength::Streamed)
        .finish();
    h.conn.send_data(b"abc");
    h.conn.finish_response(h.now);
    assert_eq!(
        h.take_output(),
        "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc"
    );
    assert!(h.conn.is_closed());

    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let out = h.respond(200, b"x");
    assert!(out.contains("connection: keep-alive"));
    assert!(!h.conn.is_closed());
}

#[test]
fn streamed_response_is_chunked_on_http11() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.conn
        .start_response(200, ResponseLength::Streamed)
        .finish();
    h.conn.send_data(b"hello");
    h.conn.finish_response(h.now);
    assert_eq!(
        h.take_output(),
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
}

#[test]
fn trailers_end_a_chunked_response_and_keep_the_connection() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.conn
        .start_response(200, ResponseLength::Streamed)
        .finish();
    h.conn.send_data(b"hi");
    h.conn.finish_response_with_trailers(
        h.now,
        &[
            ("x-digest", b"abc"),
            ("bad\nname", b"x"),
            ("x-v", b"a\r\nb"),
        ],
    );
    assert_eq!(
        h.take_output(),
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-digest: abc\r\n\r\n"
    );
    assert!(
        !h.conn.is_closed(),
        "a complete chunked body keeps the connection"
    );
    let out = h.respond(200, b"x");
    assert!(
        out.ends_with("\r\n\r\nx"),
        "the next response is plain: {out}"
    );
}

#[test]
fn trailers_on_a_response_of_known_length_are_dropped() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.conn
        .start_response(200, ResponseLength::Known(2))
        .finish();
    h.conn.send_data(b"hi");
    h.conn
        .finish_response_with_trailers(h.now, &[("x-digest", b"abc")]);
    assert_eq!(
        h.take_output(),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"
    );
}

#[test]
fn connection_close_request_closes_after_response() {
    let mut h = Harness::new();
    h.input(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let out = h.respond(200, b"");
    assert!(out.contains("connection: close"));
    assert!(h.conn.is_closed());
    assert!(h.events().is_empty(), "nothing after close is parsed");
}

#[test]
fn smuggling_shapes_are_rejected() {
    let cases: &[(&[u8], H1Error)] = &[
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            H1Error::ConflictingLength,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", H1Error::BadContentLength),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", H1Error::BadContentLength),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", H1Error::BadContentLength),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", H1Error::BadContentLength),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", H1Error::BadContentLength),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", H1Error::BadTransferEncoding),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", H1Error::BadTransferEncoding),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", H1Error::UnsupportedTransferCoding),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", H1Error::BadTransferEncoding),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", H1Error::BadTransferEncoding),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/1.1\nHost: x\n\n", H1Error::BareLf),
        (b"GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/1.1\r\n\r\n", H1Error::BadHost),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", H1Error::BadHost),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", H1Error::UnsupportedVersion),
        (b"GET / HTTP/1.12\r\nHost: x\r\n\r\n", H1Error::MalformedHead),
        // Not the protocol name HTTP: malformed (400), never "unsupported version" (505).
        (b"GET / FOO/1.1\r\nHost: x\r\n\r\n", H1Error::MalformedHead),
        (b"GET / http/1.1\r\nHost: x\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTPS/1.1\r\nHost: x\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/x.1\r\nHost: x\r\n\r\n", H1Error::MalformedHead),
        (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", H1Error::UnsupportedVersion),
        (b"\x16\x03\x01\x00\x05hello", H1Error::MalformedHead),
    ];
    for (wire, want) in cases {
        let mut h = Harness::new();
        let ev = h.input(wire);
        assert_eq!(
            error_of(&ev),
            Some(*want),
            "{}",
            String::from_utf8_lossy(wire)
        );
        assert!(request_absent(&ev), "{}", String::from_utf8_lossy(wire));
        assert!(!h.conn.wants_input());
    }
}

fn request_absent(ev: &[Event]) -> bool {
    !ev.iter().any(|e| matches!(e, Event::Request(_)))
}

#[test]
fn bad_chunks_are_rejected() {
    let cases: &[&[u8]] = &[
        b"zz\r\n",
        b"\r\n",
        b"11111111111111111\r\n",
        b"5\nhello\r\n",
        b"5\r\nhelloXX",
        b"5 x\r\nhello\r\n",
    ];
    for body in cases {
        let mut h = Harness::new();
        h.input(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        h.conn.accept_body(h.now);
        let ev = h.input(body);
        assert_eq!(
            error_of(&ev),
            Some(H1Error::BadChunk),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn endless_chunk_size_line_is_cut_off() {
    let mut h = Harness::new();
    h.input(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    h.conn.accept_body(h.now);
    let ev = h.input(&[b'0'; 2000]);
    assert_eq!(error_of(&ev), Some(H1Error::BadChunk));
}

#[test]
fn huge_chunk_over_body_limit_is_413() {
    let mut h = Harness::new();
    h.input(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    h.conn.set_body_limit(10);
    h.conn.accept_body(h.now);
    let ev = h.input(b"ffffffff\r\n0123456789abcdef");
    assert_eq!(error_of(&ev), Some(H1Error::BodyTooLarge));
    assert_eq!(H1Error::BodyTooLarge.status(), Some(413));
}

#[test]
fn declared_length_over_limit_fails_before_reading() {
    let mut h = Harness::new();
    h.input(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    h.conn.set_body_limit(99);
    assert_eq!(h.conn.error(), Some(H1Error::BodyTooLarge));
}

#[test]
fn head_limits() {
    let mut h = Harness::new();
    let mut wire = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    wire.extend(
        std::iter::repeat_n(
            b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                .iter()
                .copied(),
            50,
        )
        .flatten(),
    );
    let _ = wire.len();
    let mut big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big.extend(vec![b'a'; 9000]);
    let ev = h.input(&big);
    assert_eq!(error_of(&ev), Some(H1Error::HeadTooLarge));
    assert_eq!(H1Error::HeadTooLarge.status(), Some(431));

    let mut h = Harness::new();
    let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..120 {
        many.extend(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend(b"\r\n");
    let ev = h.input(&many);
    assert_eq!(error_of(&ev), Some(H1Error::TooManyHeaders));

    let mut h = Harness::new();
    let mut line = b"GET /".to_vec();
    line.extend(vec![b'a'; 9000]);
    let ev = h.input(&line);
    assert_eq!(error_of(&ev), Some(H1Error::UriTooLong));

    let mut h = Harness::new();
    let ev = h.input(&[b'G'; 100]);
    assert_eq!(error_of(&ev), Some(H1Error::MethodTooLong));
}

#[test]
fn slow_head_times_out_and_idle_keepalive_times_out() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost");
    h.advance(Duration::from_secs(9));
    assert!(h.conn.error().is_none());
    h.input(b": x\r\n");
    h.advance(Duration::from_secs(2));
    assert_eq!(h.conn.error(), Some(H1Error::HeadTimeout));
    assert!(h.conn.is_closed());

    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.respond(200, b"");
    assert_eq!(h.conn.poll_timeout(), Some(h.now + Duration::from_secs(5)));
    h.advance(Duration::from_secs(5));
    assert_eq!(h.conn.error(), Some(H1Error::KeepAliveTimeout));
    assert!(h.conn.is_closed());
}

#[test]
fn eof_mid_body_is_an_error_but_after_request_the_response_still_goes() {
    let mut h = Harness::new();
    h.input(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    h.conn.handle_eof(h.now);
    assert_eq!(h.conn.error(), Some(H1Error::UnexpectedEof));

    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.conn.handle_eof(h.now);
    let out = h.respond(200, b"ok");
    assert!(out.ends_with("ok"));
    assert!(out.contains("connection: close"));
    assert!(h.conn.is_closed());
}

#[test]
fn unread_small_body_is_discarded_to_keep_the_connection() {
    let mut h = Harness::new();
    h.input(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    h.respond(404, b"");
    assert!(!h.conn.is_closed());
    let ev = h.input(b"abcdeGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(request_of(&ev).target(), "/next");
}

#[test]
fn response_header_injection_is_refused() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut w = h.conn.start_response(200, ResponseLength::Empty);
    w.header("x-a", b"a\r\nSet-Cookie: evil")
        .header("bad name", b"v");
    assert_eq!(w.skipped(), 2);
    w.finish();
    drop(w);
    h.conn.finish_response(h.now);
    let out = h.take_output();
    assert!(!out.contains("evil") && !out.contains("bad name"), "{out}");
}

#[test]
fn upgrade_hands_over_remaining_bytes() {
    let mut h = Harness::new();
    let ev = h.input(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    );
    assert!(request_of(&ev).is_upgrade());
    h.conn
        .start_response(101, ResponseLength::Empty)
        .header("upgrade", b"websocket")
        .finish();
    h.conn.finish_response(h.now);
    assert!(h.conn.is_upgraded());
    assert_eq!(&h.conn.take_remaining()[..], b"\x81\x00");
    let out = h.take_output();
    assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(!out.contains("content-length"));
}

#[test]
fn a_half_closed_peer_is_not_read_again_while_its_answer_is_pending() {
    let mut h = Harness::new();
    h.input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(h.conn.wants_input());
    h.conn.handle_eof(h.now);
    assert!(
        !h.conn.wants_input(),
        "a read after the end only reports the end again: the runtime would spin"
    );
    let out = h.respond(200, b"late");
    assert!(
        out.ends_with("\r\n\r\nlate"),
        "the half-closed peer still gets its answer"
    );
    assert!(h.conn.is_closed());
}

#[test]
fn a_redirected_head_is_a_bodiless_get_with_the_other_fields() {
    let mut s = Harness::new();
    let ev = s.input(
        b"POST /cgi/form?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\
          Content-Type: text/plain\r\nCookie: a=b\r\nExpect: 100-continue\r\n\r\nabc",
    );
    let head = request_of(&ev).redirected("/docs/page.html?y=2");
    assert_eq!(head.method(), "GET");
    assert_eq!(head.target(), "/docs/page.html?y=2");
    assert_eq!(head.version(), Version::Http11);
    assert_eq!(head.body_kind(), BodyKind::Empty);
    assert!(!head.expects_continue());
    let names: Vec<&str> = head.headers().map(|(n, _)| n).collect();
    assert_eq!(names, ["Host", "Cookie"]);
    assert_eq!(head.header_str("cookie"), Some("a=b"));
}

proptest::proptest! {
    /// The word-at-a-time value check agrees with the rule it implements, at every length and position.
    #[test]
    fn header_values_are_refused_exactly_when_they_hold_cr_lf_or_nul(
        value in proptest::collection::vec(proptest::prop_oneof![
            proptest::num::u8::ANY,
            proptest::strategy::Just(b'\r'),
            proptest::strategy::Just(b'\n'),
            proptest::strategy::Just(0u8),
            proptest::strategy::Just(b'a'),
        ], 0..40)
    ) {
        let expected = !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0));
        proptest::prop_assert_eq!(super::is_valid_header("x-test", &value), expected);
    }
}

#[test]
fn a_header_block_writes_what_header_lines_would() {
    let fields: [(&str, &[u8]); 3] = [
        ("etag", b"\"1\""),
        ("bad name", b"x"),
        ("x-split", b"a\r\nb"),
    ];
    let mut by_lines = Vec::new();
    let mut by_block = Vec::new();
    {
        let mut w = ResponseWriter::new(
            &mut by_lines,
            200,
            response::Framing::Length(0),
            response::ConnectionHeader::None,
        );
        for (n, v) in fields {
            w.header(n, v);
        }
    }
    {
        let mut w = ResponseWriter::new(
            &mut by_block,
            200,
            response::Framing::Length(0),
            response::ConnectionHeader::None,
        );
        w.block(&HeaderBlock::new(fields));
    }
    assert_eq!(by_lines, by_block);
    assert!(String::from_utf8_lossy(&by_block).contains("etag: \"1\"\r\n"));
    assert!(!String::from_utf8_lossy(&by_block).contains("x-split"));
}
