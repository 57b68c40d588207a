//! Engine tests: conversations between a client and a server engine, and raw frames fed to a server,
//! checked frame by frame against what RFC 9113 requires.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::frame::{self, flags, Kind, PREFACE};
use super::*;

/// A frame as seen on the wire.
#[derive(Debug, Clone)]
struct Wire {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

fn parse_frames(mut b: &[u8]) -> Vec<Wire> {
    let mut v = Vec::new();
    if b.starts_with(PREFACE) {
        b = &b[PREFACE.len()..];
    }
    while b.len() >= 9 {
        let len = (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize;
        let stream = u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff;
        v.push(Wire {
            kind: b[3],
            flags: b[4],
            stream,
            payload: b[9..9 + len].to_vec(),
        });
        b = &b[9 + len..];
    }
    v
}

fn raw(kind: u8, fl: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let l = (payload.len() as u32).to_be_bytes();
    v.extend_from_slice(&[l[1], l[2], l[3], kind, fl]);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const PRIORITY: u8 = 2;
const RST: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const CONTINUATION: u8 = 9;

/// A server engine driven by hand-made frames, with an HPACK encoder for request blocks.
struct Peer {
    server: H2Conn,
    enc: hpack::Encoder,
    dec: hpack::Decoder,
    now: Instant,
}

impl Peer {
    fn new() -> Peer {
        Peer::with(H2Config::default())
    }

    fn with(config: H2Config) -> Peer {
        let now = Instant::now();
        let mut p = Peer {
            server: H2Conn::server(config, now),
            enc: hpack::Encoder::new(),
            dec: hpack::Decoder::new(4096),
            now,
        };
        let mut hello = PREFACE.to_vec();
        hello.extend(raw(SETTINGS, 0, 0, &[]));
        p.send(&hello);
        p.out(); // server SETTINGS, WINDOW_UPDATE, SETTINGS ACK
        p
    }

    fn send(&mut self, b: &[u8]) {
        self.server.handle_input(self.now, b);
    }

    fn out(&mut self) -> Vec<Wire> {
        let mut o = Vec::new();
        self.server.poll_transmit(&mut o);
        parse_frames(&o)
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        self.enc.encode(
            fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            &mut b,
        );
        b
    }

    fn get(&mut self, stream: u32, path: &str) -> Vec<u8> {
        let b = self.block(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", path),
        ]);
        raw(HEADERS, flags::END_HEADERS | flags::END_STREAM, stream, &b)
    }

    fn decode(&mut self, block: &[u8]) -> Vec<(String, String)> {
        let mut v = Vec::new();
        self.dec
            .decode(block, 1 << 20, &mut |n: &[u8], val: &[u8], _| {
                v.push((
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(val).into_owned(),
                ))
            })
            .expect("server header block decodes");
        v
    }
}

fn goaway_code(frames: &[Wire]) -> Option<u32> {
    frames
        .iter()
        .find(|f| f.kind == GOAWAY)
        .map(|f| u32::from_be_bytes([f.payload[4], f.payload[5], f.payload[6], f.payload[7]]))
}

fn rst_code(frames: &[Wire], stream: u32) -> Option<u32> {
    frames
        .iter()
        .find(|f| f.kind == RST && f.stream == stream)
        .map(|f| u32::from_be_bytes([f.payload[0], f.payload[1], f.payload[2], f.payload[3]]))
}

fn assert_goaway(p: &mut Peer, reason: Reason) {
    let frames = p.out();
    assert_eq!(goaway_code(&frames), Some(reason.0), "frames: {frames:?}");
    assert!(p.server.is_closed());
    assert!(p.server.error().is_some());
}

fn assert_rst(p: &mut Peer, stream: u32, reason: Reason) {
    let frames = p.out();
    assert_eq!(
        rst_code(&frames, stream),
        Some(reason.0),
        "frames: {frames:?}"
    );
    assert!(
        goaway_code(&frames).is_none(),
        "connection survives: {frames:?}"
    );
}

#[test]
fn server_announces_settings_and_acks_the_clients() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(SETTINGS, 0, 0, &[0, 4, 0, 1, 0, 0]));
    s.handle_input(now, &hello);
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    let f = parse_frames(&o);
    assert_eq!(f[0].kind, SETTINGS);
    assert_eq!(f[0].flags, 0);
    let pairs: Vec<(u16, u32)> = f[0]
        .payload
        .chunks(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect();
    assert!(
        pairs.contains(&(3, 128)),
        "max concurrent streams 128: {pairs:?}"
    );
    assert!(
        pairs.contains(&(8, 1)),
        "extended CONNECT enabled: {pairs:?}"
    );
    assert!(
        !pairs.iter().any(|(id, _)| *id == 2),
        "no ENABLE_PUSH from a server"
    );
    assert_eq!(f[1].kind, WINDOW_UPDATE);
    assert!(f
        .iter()
        .any(|w| w.kind == SETTINGS && w.flags == flags::ACK));
    assert_eq!(s.peer_settings().initial_window_size, 65_536);
}

/// Runs a client and a server engine against each other until neither has anything to send.
fn pump(c: &mut H2Conn, s: &mut H2Conn, now: Instant) {
    for _ in 0..10_000 {
        let mut a = Vec::new();
        c.poll_transmit(&mut a);
        if !a.is_empty() {
            s.handle_input(now, &a);
        }
        let mut b = Vec::new();
        s.poll_transmit(&mut b);
        if !b.is_empty() {
            c.handle_input(now, &b);
        }
        if a.is_empty() && b.is_empty() {
            return;
        }
    }
    panic!("engines did not settle");
}

fn line<'a>(method: &'a str, path: &'a str) -> RequestLine<'a> {
    RequestLine {
        method,
        scheme: "https",
        authority: "example.com",
        path,
        protocol: None,
    }
}

#[test]
fn request_and_response_between_engines() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    let id = c
        .send_request(
            line("GET", "/index.html?x=1"),
            [(&b"Accept"[..], &b"*/*"[..])],
            true,
        )
        .unwrap();
    assert_eq!(id, 1);
    pump(&mut c, &mut s, now);
    let mut got = None;
    while let Some(ev) = s.poll_event() {
        if let Event::Headers {
            stream,
            block,
            end_stream,
        } = ev
        {
            assert!(end_stream);
            got = Some((stream, block));
        }
    }
    let (stream, block) = got.expect("request arrived");
    assert_eq!(block.method(), Some("GET"));
    assert_eq!(block.path(), Some("/index.html?x=1"));
    assert_eq!(
        block.get("accept"),
        Some(&b"*/*"[..]),
        "names arrive lowercased"
    );
    assert_eq!(
        block.get("host"),
        Some(&b"example.com"[..]),
        "host from :authority"
    );
    s.send_response(
        stream,
        200,
        [(&b"content-type"[..], &b"text/plain"[..])],
        false,
    )
    .unwrap();
    s.send_data(stream, Bytes::from_static(b"hello"), true)
        .unwrap();
    pump(&mut c, &mut s, now);
    let evs: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    let status = evs.iter().find_map(|e| match e {
        Event::Headers { block, .. } => block.status(),
        _ => None,
    });
    assert_eq!(status, Some(200));
    let body: Vec<u8> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Data { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(body, b"hello");
    assert!(matches!(
        evs.last(),
        Some(Event::Data {
            end_stream: true,
            ..
        })
    ));
    assert_eq!(s.active_streams(), 0);
    assert_eq!(c.active_streams(), 0);
}

#[test]
fn large_bodies_respect_flow_control_both_ways() {
    let now = Instant::now();
    // Small windows so many WINDOW_UPDATEs are needed.
    let small = H2Config {
        stream_window: 65_535,
        connection_window: 65_535,
        ..H2Config::default()
    };
    let mut c = H2Conn::client(small.clone(), now);
    let mut s = H2Conn::server(small, now);
    let body: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    let id = c.send_request(line("POST", "/up"), [], false).unwrap();
    c.send_data(id, Bytes::from(body.clone()), true).unwrap();
    pump(&mut c, &mut s, now);
    let mut received = Vec::new();
    let mut ended = false;
    while let Some(ev) = s.poll_event() {
        if let Event::Data {
            data, end_stream, ..
        } = ev
        {
            received.extend_from_slice(&data);
            ended |= end_stream;
        }
    }
    assert!(ended);
    assert_eq!(received, body, "1 MiB upload arrives intact");
    s.send_response(id, 200, [], false).unwrap();
    s.send_data(id, Bytes::from(body.clone()), true).unwrap();
    pump(&mut c, &mut s, now);
    let mut down = Vec::new();
    while let Some(ev) = c.poll_event() {
        if let Event::Data { data, .. } = ev {
            down.extend_from_slice(&data);
        }
    }
    assert_eq!(down, body, "1 MiB download arrives intact");
}

#[test]
fn frames_never_exceed_windows() {
    let mut p = Peer::new();
    // Client announces a 100-byte stream window.
    p.send(&raw(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 100]));
    let g = p.get(1, "/");
    p.send(&g);
    p.out();
    p.server.send_response(1, 200, [], false).unwrap();
    p.server
        .send_data(1, Bytes::from(vec![7u8; 1000]), true)
        .unwrap();
    let f = p.out();
    let sent: usize = f
        .iter()
        .filter(|w| w.kind == DATA)
        .map(|w| w.payload.len())
        .sum();
    assert_eq!(sent, 100);
    assert_eq!(p.server.stream_backlog(1), Some(900));
    p.send(&raw(WINDOW_UPDATE, 0, 1, &900u32.to_be_bytes()));
    let f = p.out();
    let sent: usize = f
        .iter()
        .filter(|w| w.kind == DATA)
        .map(|w| w.payload.len())
        .sum();
    assert_eq!(sent, 900);
    assert!(f
        .iter()
        .any(|w| w.kind == DATA && w.flags & flags::END_STREAM != 0));
}

#[test]
fn bad_preface_is_a_protocol_error() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    s.handle_input(now, b"GET / HTTP/1.1\r\n\r\n");
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    assert_eq!(
        goaway_code(&parse_frames(&o)),
        Some(Reason::PROTOCOL_ERROR.0)
    );
    assert!(s.is_closed());
}

#[test]
fn preface_may_arrive_byte_by_byte() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(SETTINGS, 0, 0, &[]));
    for b in &hello {
        s.handle_input(now, std::slice::from_ref(b));
    }
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    assert!(parse_frames(&o)
        .iter()
        .any(|w| w.kind == SETTINGS && w.flags == flags::ACK));
    assert!(s.error().is_none());
}

#[test]
fn first_frame_must_be_settings() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(PING, 0, 0, &[0; 8]));
    s.handle_input(now, &hello);
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    assert_eq!(
        goaway_code(&parse_frames(&o)),
        Some(Reason::PROTOCOL_ERROR.0)
    );
}

#[test]
fn connection_errors_from_frame_checks() {
    type Case = (&'static str, Vec<u8>, Reason);
    let cases: Vec<Case> = vec![
        (
            "DATA on stream 0",
            raw(DATA, 0, 0, b"x"),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "DATA on idle stream",
            raw(DATA, 0, 5, b"x"),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "HEADERS on stream 0",
            raw(HEADERS, 4, 0, &[0x82]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "HEADERS on even stream",
            raw(HEADERS, 5, 2, &[0x82]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "PRIORITY on stream 0",
            raw(PRIORITY, 0, 0, &[0, 0, 0, 1, 0]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "RST_STREAM on stream 0",
            raw(RST, 0, 0, &[0, 0, 0, 8]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "RST_STREAM on idle stream",
            raw(RST, 0, 9, &[0, 0, 0, 8]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "RST_STREAM wrong length",
            raw(RST, 0, 1, &[0, 0, 8]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "SETTINGS on a stream",
            raw(SETTINGS, 0, 1, &[]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "SETTINGS length",
            raw(SETTINGS, 0, 0, &[0, 4, 0]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "SETTINGS ACK with payload",
            raw(SETTINGS, 1, 0, &[0; 6]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "ENABLE_PUSH 2",
            raw(SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 2]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "INITIAL_WINDOW_SIZE 2^31",
            raw(SETTINGS, 0, 0, &[0, 4, 0x80, 0, 0, 0]),
            Reason::FLOW_CONTROL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE too small",
            raw(SETTINGS, 0, 0, &[0, 5, 0, 0, 0x3f, 0xff]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "PING length",
            raw(PING, 0, 0, &[0; 7]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "PING on a stream",
            raw(PING, 0, 1, &[0; 8]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "GOAWAY on a stream",
            raw(GOAWAY, 0, 1, &[0; 8]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "WINDOW_UPDATE length",
            raw(WINDOW_UPDATE, 0, 0, &[0; 3]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "WINDOW_UPDATE 0 on conn",
            raw(WINDOW_UPDATE, 0, 0, &[0; 4]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "WINDOW_UPDATE overflow",
            raw(WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes()),
            Reason::FLOW_CONTROL_ERROR,
        ),
        (
            "CONTINUATION alone",
            raw(CONTINUATION, 4, 1, &[0x82]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "PUSH_PROMISE",
            raw(5, 4, 1, &[0, 0, 0, 2, 0x82]),
            Reason::PROTOCOL_ERROR,
        ),
        (
            "frame too large",
            raw(DATA, 0, 1, &[0; 16_385]),
            Reason::FRAME_SIZE_ERROR,
        ),
        (
            "bad HPACK index",
            raw(HEADERS, 5, 1, &[0xff, 0x7f]),
            Reason::COMPRESSION_ERROR,
        ),
        (
            "DATA padding",
            raw(DATA, flags::PADDED, 1, &[5, 1, 2]),
            Reason::PROTOCOL_ERROR,
        ),
    ];
    for (name, bytes, reason) in cases {
        let mut p = Peer::new();
        p.send(&bytes);
        let frames = p.out();
        assert_eq!(goaway_code(&frames), Some(reason.0), "{name}: {frames:?}");
        let err = p.server.error().expect(name);
        assert_eq!(err.reason, reason, "{name}");
        // Sticky: more input changes nothing and produces nothing.
        let g = p.get(1, "/");
        p.send(&g);
        assert!(
            p.out().is_empty(),
            "{name}: nothing after the connection error"
        );
    }
}

#[test]
fn malformed_requests_are_stream_errors() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "uppercase name",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                ("Accept", "x"),
            ],
        ),
        ("missing :path", &[(":method", "GET"), (":scheme", "http")]),
        (
            "empty :path",
            &[(":method", "GET"), (":scheme", "http"), (":path", "")],
        ),
        ("missing :method", &[(":scheme", "http"), (":path", "/")]),
        ("missing :scheme", &[(":method", "GET"), (":path", "/")]),
        (
            "pseudo after regular",
            &[
                (":method", "GET"),
                ("accept", "x"),
                (":scheme", "http"),
                (":path", "/"),
            ],
        ),
        (
            "duplicate :path",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":path", "/"),
            ],
        ),
        (
            "unknown pseudo",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":foo", "x"),
            ],
        ),
        (
            "response pseudo",
            &[
                (":status", "200"),
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
            ],
        ),
        (
            "connection header",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                ("connection", "close"),
            ],
        ),
        (
            "te gzip",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                ("te", "gzip"),
            ],
        ),
        (
            "value with LF",
            &[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                ("x", "a\nb"),
            ],
        ),
        (
            "protocol without CONNECT",
            &[
                (":method", "GET"),
                (":protocol", "websocket"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "a"),
            ],
        ),
        (
            "content-length on empty body",
            &[
                (":method", "POST"),
                (":scheme", "http"),
                (":path", "/"),
                ("content-length", "5"),
            ],
        ),
    ];
    for (name, fields) in cases {
        let mut p = Peer::new();
        let b = p.block(fields);
        p.send(&raw(HEADERS, flags::END_HEADERS | flags::END_STREAM, 1, &b));
        assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
        assert!(
            !p.events()
                .iter()
                .any(|e| matches!(e, Event::Headers { .. })),
            "{name}: not delivered"
        );
        // The connection still serves the next stream.
        let g = p.get(3, "/ok");
        p.send(&g);
        assert!(
            p.events()
                .iter()
                .any(|e| matches!(e, Event::Headers { stream: 3, .. })),
            "{name}: next stream served"
        );
    }
}

#[test]
fn content_length_must_match_the_data() {
    for (declared, sent) in [(5u64, 3usize), (2, 3)] {
        let mut p = Peer::new();
        let cl = declared.to_string();
        let b = p.block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/"),
            ("content-length", &cl),
        ]);
        p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
        p.send(&raw(DATA, flags::END_STREAM, 1, &vec![b'x'; sent]));
        assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
        assert!(p.events().iter().any(|e| matches!(
            e,
            Event::Reset {
                stream: 1,
                remote: false,
                ..
            }
        )));
    }
}

#[test]
fn stream_state_violations() {
    // DATA after END_STREAM: STREAM_CLOSED.
    let mut p = Peer::new();
    let g = p.get(1, "/");
    p.send(&g);
    p.send(&raw(DATA, 0, 1, b"late"));
    assert_rst(&mut p, 1, Reason::STREAM_CLOSED);

    // Stream identifiers must increase.
    let mut p = Peer::new();
    let g = p.get(5, "/");
    p.send(&g);
    let g = p.get(3, "/");
    p.send(&g);
    assert_goaway(&mut p, Reason::PROTOCOL_ERROR);

    // HEADERS on a stream that completed: STREAM_CLOSED.
    let mut p = Peer::new();
    let g = p.get(1, "/");
    p.send(&g);
    p.server.send_response(1, 204, [], true).unwrap();
    p.out();
    let g = p.get(1, "/");
    p.send(&g);
    assert_goaway(&mut p, Reason::STREAM_CLOSED);

    // A stream window overflow is a stream error.
    let mut p = Peer::new();
    let b = p.block(&[(":method", "POST"), (":scheme", "http"), (":path", "/")]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    p.send(&raw(WINDOW_UPDATE, 0, 1, &0x7fff_ffffu32.to_be_bytes()));
    assert_rst(&mut p, 1, Reason::FLOW_CONTROL_ERROR);

    // PRIORITY on itself.
    let mut p = Peer::new();
    p.send(&raw(PRIORITY, 0, 3, &[0, 0, 0, 3, 16]));
    assert_rst(&mut p, 3, Reason::PROTOCOL_ERROR);
}

#[test]
fn headers_in_continuation_frames() {
    let mut p = Peer::new();
    let b = p.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/split"),
        (":authority", "a.example"),
        ("x-long", &"v".repeat(300)),
    ]);
    let (a, rest) = b.split_at(10);
    let (m, z) = rest.split_at(100);
    p.send(&raw(HEADERS, flags::END_STREAM, 1, a));
    p.send(&raw(CONTINUATION, 0, 1, m));
    p.send(&raw(CONTINUATION, flags::END_HEADERS, 1, z));
    let evs = p.events();
    let path = evs.iter().find_map(|e| match e {
        Event::Headers { block, .. } => block.path().map(str::to_string),
        _ => None,
    });
    assert_eq!(path.as_deref(), Some("/split"));

    // Interleaving another frame inside a header block is a connection error.
    let mut p = Peer::new();
    let b = p.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    p.send(&raw(HEADERS, flags::END_STREAM, 1, &b[..2]));
    p.send(&raw(PING, 0, 0, &[0; 8]));
    assert_goaway(&mut p, Reason::PROTOCOL_ERROR);

    // Unknown frame types inside a header block too.
    let mut p = Peer::new();
    p.send(&raw(HEADERS, flags::END_STREAM, 1, &b[..2]));
    p.send(&raw(0x42, 0, 1, b"??"));
    assert_goaway(&mut p, Reason::PROTOCOL_ERROR);

    // CONTINUATION on another stream.
    let mut p = Peer::new();
    p.send(&raw(HEADERS, flags::END_STREAM, 1, &b[..2]));
    p.send(&raw(CONTINUATION, flags::END_HEADERS, 3, &b[2..]));
    assert_goaway(&mut p, Reason::PROTOCOL_ERROR);
}

#[test]
fn continuation_flood_is_refused() {
    let mut p = Peer::new();
    p.send(&raw(HEADERS, 0, 1, &[0x82]));
    for _ in 0..100 {
        p.send(&raw(CONTINUATION, 0, 1, &[]));
    }
    assert_goaway(&mut p, Reason::ENHANCE_YOUR_CALM);
}

#[test]
fn unknown_frames_are_ignored() {
    let mut p = Peer::new();
    p.send(&raw(0x42, 0xff, 0, b"extension"));
    let g = p.get(1, "/");
    p.send(&g);
    assert!(p
        .events()
        .iter()
        .any(|e| matches!(e, Event::Headers { stream: 1, .. })));
    assert!(p.server.error().is_none());
}

#[test]
fn excess_streams_are_refused_not_the_connection() {
    let mut p = Peer::with(H2Config {
        max_concurrent_streams: 2,
        ..H2Config::default()
    });
    for id in [1, 3, 5] {
        let b = p.block(&[(":method", "POST"), (":scheme", "http"), (":path", "/")]);
        p.send(&raw(HEADERS, flags::END_HEADERS, id, &b));
    }
    assert_rst(&mut p, 5, Reason::REFUSED_STREAM);
    assert_eq!(p.server.active_streams(), 2);
    // The refused stream's header block still updated the HPACK table: a later stream decodes.
    p.server.reset(1, Reason::CANCEL);
    let g = p.get(7, "/after");
    p.send(&g);
    assert!(p
        .events()
        .iter()
        .any(|e| matches!(e, Event::Headers { stream: 7, .. })));
}

#[test]
fn rapid_reset_ends_the_connection() {
    let mut p = Peer::new();
    let mut id = 1;
    for _ in 0..1000 {
        let b = p.block(&[(":method", "GET"), (":scheme", "http"), (":path", "/")]);
        p.send(&raw(HEADERS, flags::END_HEADERS, id, &b));
        p.send(&raw(RST, 0, id, &[0, 0, 0, 8]));
        id += 2;
        if p.server.error().is_some() {
            break;
        }
    }
    assert_goaway(&mut p, Reason::ENHANCE_YOUR_CALM);
}

#[test]
fn ping_and_settings_floods_end_the_connection() {
    let mut p = Peer::new();
    for _ in 0..1000 {
        p.send(&raw(PING, 0, 0, &[1; 8]));
    }
    assert_goaway(&mut p, Reason::ENHANCE_YOUR_CALM);
    let mut p = Peer::new();
    for _ in 0..1000 {
        p.send(&raw(SETTINGS, 0, 0, &[]));
    }
    assert_goaway(&mut p, Reason::ENHANCE_YOUR_CALM);
    let mut p = Peer::new();
    let b = p.block(&[(":method", "POST"), (":scheme", "http"), (":path", "/")]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    for _ in 0..1000 {
        p.send(&raw(DATA, 0, 1, &[]));
    }
    assert_goaway(&mut p, Reason::ENHANCE_YOUR_CALM);
}

#[test]
fn ping_is_echoed() {
    let mut p = Peer::new();
    p.send(&raw(PING, 0, 0, b"12345678"));
    let f = p.out();
    let ack = f.iter().find(|w| w.kind == PING).expect("ping ack");
    assert_eq!(ack.flags, flags::ACK);
    assert_eq!(ack.payload, b"12345678");
}

#[test]
fn oversized_header_list_gets_431() {
    let mut p = Peer::with(H2Config {
        max_header_list_size: 1024,
        ..H2Config::default()
    });
    let big = "x".repeat(2000);
    let b = p.block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        ("cookie", &big),
    ]);
    p.send(&raw(HEADERS, flags::END_HEADERS | flags::END_STREAM, 1, &b));
    let f = p.out();
    let h = f
        .iter()
        .find(|w| w.kind == HEADERS && w.stream == 1)
        .expect("response");
    let fields = p.decode(&h.payload.clone());
    assert_eq!(fields[0], (":status".into(), "431".into()));
    assert!(p.server.error().is_none());
}

#[test]
fn trailers_arrive_after_data() {
    let mut p = Peer::new();
    let b = p.block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/"),
        ("te", "trailers"),
    ]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    p.send(&raw(DATA, 0, 1, b"body"));
    let t = p.block(&[("x-checksum", "abc")]);
    p.send(&raw(HEADERS, flags::END_HEADERS | flags::END_STREAM, 1, &t));
    let evs = p.events();
    let tr = evs.iter().find_map(|e| match e {
        Event::Trailers { block, .. } => block.get("x-checksum").map(<[u8]>::to_vec),
        _ => None,
    });
    assert_eq!(tr.as_deref(), Some(&b"abc"[..]));

    // Trailers without END_STREAM are malformed.
    let mut p = Peer::new();
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    let t = p.block(&[("x-checksum", "abc")]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &t));
    assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
}

#[test]
fn response_trailers_and_lowercased_names() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    let id = c.send_request(line("GET", "/"), [], true).unwrap();
    pump(&mut c, &mut s, now);
    while s.poll_event().is_some() {}
    s.send_response(
        id,
        200,
        [
            (&b"Content-Type"[..], &b"text/plain"[..]),
            (b"Connection", b"close"),
        ],
        false,
    )
    .unwrap();
    s.send_data(id, Bytes::from_static(b"abc"), false).unwrap();
    s.send_trailers(
        id,
        vec![(Bytes::from_static(b"Grpc-Status"), Bytes::from_static(b"0"))],
    )
    .unwrap();
    pump(&mut c, &mut s, now);
    let evs: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    let head = evs.iter().find_map(|e| match e {
        Event::Headers { block, .. } => Some(block.clone()),
        _ => None,
    });
    let head = head.expect("response head");
    assert_eq!(head.get("content-type"), Some(&b"text/plain"[..]));
    assert_eq!(
        head.get("connection"),
        None,
        "connection-specific field dropped"
    );
    assert!(evs.iter().any(|e| matches!(e, Event::Trailers { block, .. } if block.get("grpc-status") == Some(&b"0"[..]))));
}

#[test]
fn extended_connect_between_engines() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    let ws = RequestLine {
        method: "CONNECT",
        protocol: Some("websocket"),
        ..line("CONNECT", "/chat")
    };
    assert_eq!(
        c.send_request(ws, [], false),
        Err(SendError::ConnectProtocolNotEnabled),
        "not before the server's SETTINGS"
    );
    pump(&mut c, &mut s, now);
    assert!(c.peer_settings().enable_connect_protocol);
    let id = c
        .send_request(ws, [(&b"sec-websocket-version"[..], &b"13"[..])], false)
        .unwrap();
    pump(&mut c, &mut s, now);
    let block = std::iter::from_fn(|| s.poll_event())
        .find_map(|e| match e {
            Event::Headers {
                block,
                end_stream: false,
                ..
            } => Some(block),
            _ => None,
        })
        .expect("extended CONNECT arrives");
    assert_eq!(block.method(), Some("CONNECT"));
    assert_eq!(block.protocol(), Some("websocket"));
    assert_eq!(block.path(), Some("/chat"));
    s.send_response(id, 200, [], false).unwrap();
    s.send_data(id, Bytes::from_static(b"\x81\x02hi"), false)
        .unwrap();
    c.send_data(id, Bytes::from_static(b"\x81\x82...."), false)
        .unwrap();
    pump(&mut c, &mut s, now);
    assert!(std::iter::from_fn(|| c.poll_event())
        .any(|e| matches!(e, Event::Data { ref data, .. } if &data[..] == b"\x81\x02hi")));
    assert!(std::iter::from_fn(|| s.poll_event())
        .any(|e| matches!(e, Event::Data { ref data, .. } if &data[..] == b"\x81\x82....")));
}

#[test]
fn extended_connect_refused_when_not_enabled() {
    let mut p = Peer::with(H2Config {
        enable_connect_protocol: false,
        ..H2Config::default()
    });
    let b = p.block(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/"),
        (":authority", "a"),
    ]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
}

#[test]
fn graceful_goaway_finishes_open_streams() {
    let mut p = Peer::new();
    let g = p.get(1, "/");
    p.send(&g);
    p.server.go_away();
    let f = p.out();
    assert_eq!(goaway_code(&f), Some(0));
    let last = f.iter().find(|w| w.kind == GOAWAY).unwrap();
    assert_eq!(&last.payload[..4], &1u32.to_be_bytes());
    assert!(!p.server.is_closed(), "stream 1 still open");
    // New streams after GOAWAY are ignored.
    let g = p.get(3, "/");
    p.send(&g);
    assert!(!p
        .events()
        .iter()
        .any(|e| matches!(e, Event::Headers { stream: 3, .. })));
    p.server.send_response(1, 204, [], true).unwrap();
    p.out();
    assert!(p.server.is_closed());
}

#[test]
fn the_idle_timeout_counts_from_the_end_of_the_last_stream() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(SETTINGS, 0, 0, &[]));
    hello.extend(raw(SETTINGS, flags::ACK, 0, &[]));
    s.handle_input(now, &hello);
    let later = now + Duration::from_secs(300);
    s.restart_idle_timer(later);
    assert_eq!(s.poll_timeout(), Some(later + Duration::from_secs(30)));
    s.handle_timeout(now + Duration::from_secs(31));
    assert!(!s.is_closed());
}

#[test]
fn idle_connection_goes_away_and_settings_ack_is_required() {
    let now = Instant::now();
    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(SETTINGS, 0, 0, &[]));
    hello.extend(raw(SETTINGS, flags::ACK, 0, &[]));
    s.handle_input(now, &hello);
    let t = s.poll_timeout().expect("idle deadline");
    assert_eq!(t, now + Duration::from_secs(30));
    s.handle_timeout(t);
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    assert_eq!(goaway_code(&parse_frames(&o)), Some(0));
    assert!(s.is_closed());

    let mut s = H2Conn::server(H2Config::default(), now);
    let mut hello = PREFACE.to_vec();
    hello.extend(raw(SETTINGS, 0, 0, &[]));
    s.handle_input(now, &hello);
    s.handle_timeout(now + Duration::from_secs(10));
    let mut o = Vec::new();
    s.poll_transmit(&mut o);
    assert_eq!(
        goaway_code(&parse_frames(&o)),
        Some(Reason::SETTINGS_TIMEOUT.0)
    );
}

#[test]
fn many_streams_on_one_connection() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    let n = 20_000u32;
    for _ in 0..n {
        let id = c.send_request(line("GET", "/"), [], true).unwrap();
        pump(&mut c, &mut s, now);
        while let Some(ev) = s.poll_event() {
            if let Event::Headers { stream, .. } = ev {
                s.send_response(stream, 200, [], false).unwrap();
                s.send_data(stream, Bytes::from_static(b"x"), true).unwrap();
            }
        }
        pump(&mut c, &mut s, now);
        let done = std::iter::from_fn(|| c.poll_event())
            .any(|e| matches!(e, Event::Data { stream, end_stream: true, .. } if stream == id));
        assert!(done, "stream {id}");
    }
    assert_eq!(s.active_streams(), 0);
    assert!(s.error().is_none() && c.error().is_none());
}

#[test]
fn client_sees_goaway_and_refused_streams() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    pump(&mut c, &mut s, now);
    let a = c.send_request(line("GET", "/a"), [], true).unwrap();
    pump(&mut c, &mut s, now);
    s.go_away();
    let b = c.send_request(line("GET", "/b"), [], true).unwrap();
    pump(&mut c, &mut s, now);
    let evs: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(evs
        .iter()
        .any(|e| matches!(e, Event::GoAway { last_stream, .. } if *last_stream == a)));
    assert!(evs.iter().any(
        |e| matches!(e, Event::Reset { stream, reason: Reason::REFUSED_STREAM, .. } if *stream == b)
    ));
    assert_eq!(
        c.send_request(line("GET", "/c"), [], true),
        Err(SendError::ConnectionClosed)
    );
}

#[test]
fn writers_split_header_blocks() {
    let mut out = Vec::new();
    frame::write_headers(&mut out, 1, &[7u8; 40_000], true, 16_384);
    let f = parse_frames(&out);
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].kind, HEADERS);
    assert_eq!(f[0].flags, flags::END_STREAM);
    assert_eq!(f[1].kind, CONTINUATION);
    assert_eq!(f[2].flags, flags::END_HEADERS);
    assert_eq!(f.iter().map(|w| w.payload.len()).sum::<usize>(), 40_000);
    let _ = Kind::Data;
}

#[test]
fn input_split_anywhere_gives_the_same_events() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let id = c.send_request(line("POST", "/split"), [], false).unwrap();
    c.send_data(id, Bytes::from(vec![3u8; 40_000]), true)
        .unwrap();
    let mut wire = Vec::new();
    loop {
        let before = wire.len();
        c.poll_transmit(&mut wire);
        if wire.len() == before {
            break;
        }
    }
    for piece in [1usize, 7, 9, 10, 4096, 16_393] {
        let mut s = H2Conn::server(H2Config::default(), now);
        for chunk in wire.chunks(piece) {
            s.handle_input(now, chunk);
        }
        let mut body = 0;
        let mut path = None;
        let mut ended = false;
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::Headers { block, .. } => path = block.path().map(str::to_string),
                Event::Data {
                    data, end_stream, ..
                } => {
                    body += data.len();
                    ended |= end_stream;
                }
                other => assert!(matches!(other, Event::Settings), "{other:?}"),
            }
        }
        assert_eq!(path.as_deref(), Some("/split"), "pieces of {piece}");
        assert!(ended && body == 40_000, "pieces of {piece}: {body} bytes");
        assert!(s.error().is_none());
    }
}

#[test]
fn repeated_response_heads_decode_correctly() {
    let now = Instant::now();
    let mut c = H2Conn::client(H2Config::client(), now);
    let mut s = H2Conn::server(H2Config::default(), now);
    let full: &[(&str, &str)] = &[
        ("date", "Thu, 26 Nov 2026 15:00:00 GMT"),
        ("server", "lws-rs"),
        ("etag", "\"0000000A00000001\""),
        ("Content-Type", "text/plain"),
    ];
    let later: &[(&str, &str)] = &[
        ("date", "Thu, 26 Nov 2026 15:00:01 GMT"),
        ("server", "lws-rs"),
        ("etag", "\"0000000A00000001\""),
        ("Content-Type", "text/plain"),
    ];
    // Identical heads (sent from memory), then heads that differ from the remembered one in a value, by
    // being a prefix of it, by extending it, and in the status.
    let extended: &[(&str, &str)] = &[later[0], later[1], later[2], later[3], ("x-extra", "1")];
    let mut heads: Vec<(u16, &[(&str, &str)])> = vec![(200, full); 3];
    for other in [(200, &later[..2]), (200, extended), (404, later)] {
        // Enough repeats for the head to be remembered (it is once encoding it adds nothing to the table).
        heads.extend([(200, later); 4]);
        heads.push(other);
    }
    heads.push((200, later));
    for (status, fields) in heads {
        let id = c.send_request(line("GET", "/"), [], true).unwrap();
        pump(&mut c, &mut s, now);
        while s.poll_event().is_some() {}
        let wire = fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
        s.send_response(id, status, wire, true).unwrap();
        pump(&mut c, &mut s, now);
        let mut got = None;
        while let Some(ev) = c.poll_event() {
            if let Event::Headers { block, .. } = ev {
                let fields: Vec<(String, String)> = block
                    .fields()
                    .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                got = Some((block.status(), fields));
            }
        }
        let expected: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        assert_eq!(got, Some((Some(status), expected)));
    }
}

#[test]
fn header_blocks_kept_alive_stay_intact() {
    // Decoded blocks share buffers: keep many alive (and interleave a malformed one and a large one) and
    // check every block still says what its request said.
    let mut p = Peer::with(H2Config {
        max_concurrent_streams: 1000,
        ..H2Config::default()
    });
    let mut kept = Vec::new();
    for i in 0..400u32 {
        let id = 2 * i + 1;
        let path = format!("/file-{i}-{}", "x".repeat((i as usize * 37) % 700));
        if i == 150 {
            let b = p.block(&[(":method", "GET"), (":path", "/no-scheme")]);
            p.send(&raw(
                HEADERS,
                flags::END_HEADERS | flags::END_STREAM,
                id,
                &b,
            ));
            continue;
        }
        let frame = p.get(id, &path);
        p.send(&frame);
        for ev in p.events() {
            if let Event::Headers { stream, block, .. } = ev {
                kept.push((stream, path.clone(), block));
            }
        }
    }
    assert_eq!(kept.len(), 399);
    for (stream, path, block) in &kept {
        assert_eq!(block.path(), Some(path.as_str()), "stream {stream}");
        assert_eq!(block.get("host"), Some(&b"example.com"[..]));
        assert_eq!(block.method(), Some("GET"));
    }
}

#[test]
fn frames_on_a_stream_the_peer_reset_are_stream_closed() {
    let mut p = Peer::new();
    let b = p.block(&[(":method", "POST"), (":scheme", "http"), (":path", "/")]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    p.send(&raw(RST, 0, 1, &Reason::CANCEL.0.to_be_bytes()));
    p.out();
    // DATA after the peer's own RST_STREAM: a stream error, never silence (RFC 9113 §5.1, "closed").
    p.send(&raw(DATA, 0, 1, b"late"));
    assert_rst(&mut p, 1, Reason::STREAM_CLOSED);
    // HEADERS on it: STREAM_CLOSED too (here a connection error, which RFC 9113 also allows).
    let mut p = Peer::new();
    p.send(&raw(HEADERS, flags::END_HEADERS, 3, &b));
    p.send(&raw(RST, 0, 3, &Reason::CANCEL.0.to_be_bytes()));
    p.out();
    let trailers = p.block(&[("x-late", "1")]);
    p.send(&raw(
        HEADERS,
        flags::END_HEADERS | flags::END_STREAM,
        3,
        &trailers,
    ));
    let frames = p.out();
    assert!(
        goaway_code(&frames) == Some(Reason::STREAM_CLOSED.0)
            || rst_code(&frames, 3) == Some(Reason::STREAM_CLOSED.0),
        "frames: {frames:?}"
    );
}

/// A POST on stream 1 declaring a 6-byte body, answered completely before any of the body arrives.
fn answered_before_the_body(p: &mut Peer) {
    let b = p.block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/"),
        ("content-length", "6"),
    ]);
    p.send(&raw(HEADERS, flags::END_HEADERS, 1, &b));
    p.events();
    p.server.send_response(1, 200, [], false).unwrap();
    p.server
        .send_data(1, Bytes::from_static(b"done"), true)
        .unwrap();
    let frames = p.out();
    assert!(frames
        .iter()
        .any(|w| w.kind == DATA && w.flags & flags::END_STREAM != 0));
    assert_eq!(rst_code(&frames, 1), None, "no early reset: {frames:?}");
}

#[test]
fn a_request_answered_early_is_still_checked_whatever_the_timing() {
    // The body breaks its content-length after the response went out: still PROTOCOL_ERROR (RFC 9113 §8.1.1).
    let mut p = Peer::new();
    answered_before_the_body(&mut p);
    p.send(&raw(DATA, flags::END_STREAM, 1, b"too long"));
    assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
    // A zero WINDOW_UPDATE on it: PROTOCOL_ERROR too (§6.9).
    let mut p = Peer::new();
    answered_before_the_body(&mut p);
    p.send(&raw(WINDOW_UPDATE, 0, 1, &0u32.to_be_bytes()));
    assert_rst(&mut p, 1, Reason::PROTOCOL_ERROR);
    // A body that fits ends the stream quietly, and the application hears nothing more of it.
    let mut p = Peer::new();
    answered_before_the_body(&mut p);
    p.send(&raw(DATA, flags::END_STREAM, 1, b"abcdef"));
    let frames = p.out();
    assert_eq!(rst_code(&frames, 1), None, "{frames:?}");
    assert!(p.events().is_empty());
}

#[test]
fn a_request_answered_early_is_stopped_after_the_drain_time() {
    let mut p = Peer::new();
    answered_before_the_body(&mut p);
    let deadline = p.server.poll_timeout().expect("a drain deadline");
    p.server.handle_timeout(deadline);
    assert_eq!(rst_code(&p.out(), 1), Some(Reason::NO_ERROR.0));
    // Frames still in flight after our reset are ignored.
    p.send(&raw(DATA, flags::END_STREAM, 1, b"abcdef"));
    let frames = p.out();
    assert_eq!(rst_code(&frames, 1), None, "{frames:?}");
    assert_eq!(goaway_code(&frames), None);
}
