//! Engine tests: a client engine against a server engine in memory with virtual time, scripted byte exchanges
//! built with frame builders that read like RFC 6455, and the RFC §5.7 vectors from `tests/vectors/`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handshake::{self, HandshakeError};
use super::*;
use crate::http1::{Event as H1Event, H1Config, H1Conn, RequestHead};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

// ---------------------------------------------------------------------------------------------------------
// Frame builders and wire readers

/// A frame to put on the wire, built like the RFC describes it.
struct F {
    b0: u8,
    payload: Vec<u8>,
    mask: Option<[u8; 4]>,
    /// A declared length different from the payload's (for limit tests) or a forced 64-bit form.
    declared: Option<u64>,
    long_form: bool,
}

fn frame(op: u8, payload: &[u8]) -> F {
    F {
        b0: 0x80 | op,
        payload: payload.to_vec(),
        mask: Some(KEY),
        declared: None,
        long_form: false,
    }
}
fn text(p: &[u8]) -> F {
    frame(0x1, p)
}
fn binary(p: &[u8]) -> F {
    frame(0x2, p)
}
fn cont(p: &[u8]) -> F {
    frame(0x0, p)
}
fn ping(p: &[u8]) -> F {
    frame(0x9, p)
}
fn pong(p: &[u8]) -> F {
    frame(0xA, p)
}
fn close_frame(code: u16, reason: &[u8]) -> F {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    frame(0x8, &p)
}

impl F {
    fn nofin(mut self) -> Self {
        self.b0 &= 0x7F;
        self
    }
    fn rsv(mut self, bits: u8) -> Self {
        self.b0 |= bits << 4;
        self
    }
    fn unmasked(mut self) -> Self {
        self.mask = None;
        self
    }
    fn declared(mut self, len: u64) -> Self {
        self.declared = Some(len);
        self
    }
    fn long_form(mut self) -> Self {
        self.long_form = true;
        self
    }
    fn wire(&self) -> Vec<u8> {
        let len = self.declared.unwrap_or(self.payload.len() as u64);
        let m = if self.mask.is_some() { 0x80 } else { 0 };
        let mut out = vec![self.b0];
        if self.long_form || len > 0xFFFF {
            out.push(m | 127);
            out.extend_from_slice(&len.to_be_bytes());
        } else if len > 125 {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(m | len as u8);
        }
        let mut p = self.payload.clone();
        if let Some(k) = self.mask {
            out.extend_from_slice(&k);
            for (i, b) in p.iter_mut().enumerate() {
                *b ^= k[i % 4];
            }
        }
        out.extend_from_slice(&p);
        out
    }
}

fn wire(frames: &[F]) -> Vec<u8> {
    frames.iter().flat_map(F::wire).collect()
}

/// A frame read back from an engine's output.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Out {
    opcode: OpCode,
    fin: bool,
    rsv1: bool,
    masked: bool,
    payload: Vec<u8>,
}

fn read_frames(mut bytes: &[u8]) -> Vec<Out> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (h, n) = FrameHeader::decode(bytes).unwrap().expect("whole header");
        let len = h.len as usize;
        let mut payload = bytes[n..n + len].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut payload, k, 0);
        }
        frames.push(Out {
            opcode: h.opcode,
            fin: h.fin,
            rsv1: h.rsv1,
            masked: h.mask.is_some(),
            payload,
        });
        bytes = &bytes[n + len..];
    }
    frames
}

/// The close code in the last frame of `out`, which must be a Close.
fn close_code_of(out: &[Out]) -> Option<u16> {
    let last = out.last().expect("a frame");
    assert_eq!(last.opcode, OpCode::Close, "{out:?}");
    (last.payload.len() >= 2).then(|| u16::from_be_bytes([last.payload[0], last.payload[1]]))
}

// ---------------------------------------------------------------------------------------------------------
// One engine driven by scripted bytes

struct Harness {
    conn: WsConn,
    now: Instant,
}

impl Harness {
    fn server() -> Self {
        Self::with(Role::Server, WsConfig::default())
    }
    fn client() -> Self {
        Self::with(Role::Client, WsConfig::default())
    }
    fn with(role: Role, cfg: WsConfig) -> Self {
        let now = Instant::now();
        let mut conn = WsConn::new(role, cfg, now);
        conn.set_mask_source(Box::new(|| KEY));
        Harness { conn, now }
    }
    fn input(&mut self, data: &[u8]) -> Vec<WsEvent> {
        self.conn.handle_input(self.now, data);
        self.events()
    }
    fn events(&mut self) -> Vec<WsEvent> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }
    /// [`Harness::input`] through `handle_input_in_place`, with each message handed over in place turned into
    /// the event the usual path gives for it (a one-frame `Fragment` when fragments are streamed).
    fn input_in_place(&mut self, data: &[u8]) -> Vec<WsEvent> {
        let mut buf = data.to_vec();
        let mut pos = 0;
        let mut events = Vec::new();
        while pos < buf.len() {
            let got = self.conn.handle_input_in_place(self.now, &mut buf[pos..]);
            assert!(
                got.consumed > 0 && got.consumed <= buf.len() - pos,
                "{got:?}"
            );
            events.extend(self.events());
            if let Some((kind, range)) = got.message {
                assert!(range.end <= got.consumed);
                let data = Bytes::copy_from_slice(&buf[pos + range.start..pos + range.end]);
                events.push(if self.conn.cfg.stream_fragments {
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
    fn output(&mut self) -> Vec<Out> {
        let mut buf = Vec::new();
        self.conn.poll_transmit(&mut buf);
        read_frames(&buf)
    }
    fn raw_output(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.conn.poll_transmit(&mut buf);
        buf
    }
}

fn msg(kind: MessageKind, data: &[u8]) -> WsEvent {
    WsEvent::Message {
        kind,
        data: Bytes::copy_from_slice(data),
    }
}

fn error_of(events: &[WsEvent]) -> Option<WsError> {
    events.iter().find_map(|e| match e {
        WsEvent::Error(e) => Some(*e),
        _ => None,
    })
}

/// Feeds `bytes` to a fresh engine and checks that it fails with `expected`, sending back a Close with the
/// error's close code, and that the connection is closed once that Close is taken.
fn assert_fails(h: Harness, bytes: &[u8], expected: WsError, code: u16) {
    let role = h.conn.role();
    let cfg = h.conn.cfg.clone();
    assert_fails_with(h, bytes, expected, code, Harness::input);
    assert_fails_with(
        Harness::with(role, cfg),
        bytes,
        expected,
        code,
        Harness::input_in_place,
    );
}

fn assert_fails_with(
    mut h: Harness,
    bytes: &[u8],
    expected: WsError,
    code: u16,
    feed: fn(&mut Harness, &[u8]) -> Vec<WsEvent>,
) {
    let events = feed(&mut h, bytes);
    assert_eq!(error_of(&events), Some(expected), "events {events:?}");
    assert_eq!(expected.close_code(), code);
    assert_eq!(h.conn.error(), Some(expected));
    assert_eq!(h.conn.state(), WsState::Closing);
    let out = h.output();
    assert_eq!(close_code_of(&out), Some(code), "{out:?}");
    assert!(h.conn.is_closed());
    // Sticky: nothing further is processed or reported.
    assert!(feed(&mut h, &text(b"more").wire()).is_empty());
    assert!(h.output().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// Client and server engines connected in memory

struct Pair {
    client: WsConn,
    server: WsConn,
    now: Instant,
    client_events: Vec<WsEvent>,
    server_events: Vec<WsEvent>,
    /// Every byte that went client -> server.
    to_server: Vec<u8>,
    /// Every byte that went server -> client.
    to_client: Vec<u8>,
}

impl Pair {
    fn new() -> Self {
        Self::with(WsConfig::default(), WsConfig::default())
    }
    fn with(client_cfg: WsConfig, server_cfg: WsConfig) -> Self {
        let now = Instant::now();
        let mut client = WsConn::new(Role::Client, client_cfg, now);
        let mut n = 0u32;
        client.set_mask_source(Box::new(move || {
            n = n.wrapping_add(0x9E37_79B9);
            n.to_le_bytes()
        }));
        Pair {
            client,
            server: WsConn::new(Role::Server, server_cfg, now),
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_server: Vec::new(),
            to_client: Vec::new(),
        }
    }

    /// Moves bytes both ways until neither side has anything to send; collects events.
    fn drive(&mut self) {
        loop {
            let mut c2s = Vec::new();
            self.client.poll_transmit(&mut c2s);
            let mut s2c = Vec::new();
            self.server.poll_transmit(&mut s2c);
            if c2s.is_empty() && s2c.is_empty() {
                break;
            }
            self.server.handle_input(self.now, &c2s);
            self.client.handle_input(self.now, &s2c);
            self.to_server.extend_from_slice(&c2s);
            self.to_client.extend_from_slice(&s2c);
            self.client_events
                .extend(std::iter::from_fn(|| self.client.poll_event()));
            self.server_events
                .extend(std::iter::from_fn(|| self.server.poll_event()));
        }
    }

    fn take_events(&mut self) -> (Vec<WsEvent>, Vec<WsEvent>) {
        (
            std::mem::take(&mut self.client_events),
            std::mem::take(&mut self.server_events),
        )
    }
}

// ---------------------------------------------------------------------------------------------------------
// Pair: messages, fragmentation, closing

#[test]
fn pair_exchanges_messages() {
    let mut p = Pair::new();
    p.client.send_message(MessageKind::Text, "héllo".as_bytes());
    p.server.send_message(MessageKind::Binary, &[0, 1, 2, 255]);
    let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    p.client.send_message(MessageKind::Binary, &big);
    p.drive();
    let (c, s) = p.take_events();
    assert_eq!(
        s,
        vec![
            msg(MessageKind::Text, "héllo".as_bytes()),
            msg(MessageKind::Binary, &big)
        ]
    );
    assert_eq!(c, vec![msg(MessageKind::Binary, &[0, 1, 2, 255])]);
    assert!(read_frames(&p.to_server).iter().all(|f| f.masked));
    assert!(read_frames(&p.to_client).iter().all(|f| !f.masked));
    assert_eq!(p.client.state(), WsState::Open);
    assert_eq!(p.server.poll_timeout(), None);
}

#[test]
fn pair_fragmentation_with_interleaved_ping_both_ways() {
    let mut p = Pair::new();
    for (sender_is_client, payload) in [(true, b"ping from client"), (false, b"ping from server")] {
        let sender = if sender_is_client {
            &mut p.client
        } else {
            &mut p.server
        };
        sender.send_fragment(MessageKind::Text, b"Hel", true, false);
        sender.send_ping(payload).unwrap();
        sender.send_fragment(MessageKind::Text, b"", false, false);
        sender.send_fragment(MessageKind::Text, "lo wörld".as_bytes(), false, true);
        p.drive();
        let (c, s) = p.take_events();
        let (receiver, answerer) = if sender_is_client { (s, c) } else { (c, s) };
        assert_eq!(
            receiver,
            vec![
                WsEvent::Ping(Bytes::copy_from_slice(payload)),
                msg(MessageKind::Text, "Hello wörld".as_bytes()),
            ]
        );
        assert_eq!(
            answerer,
            vec![WsEvent::Pong(Bytes::copy_from_slice(payload))]
        );
    }
}

#[test]
fn pair_streams_fragments_when_asked() {
    let cfg = WsConfig::default().stream_fragments(true);
    let mut p = Pair::with(cfg.clone(), cfg);
    p.client
        .send_fragment(MessageKind::Text, &[b'a', 0xce], true, false);
    p.client.send_ping(b"x").unwrap();
    p.client
        .send_fragment(MessageKind::Text, &[0xba, b'b'], false, true);
    p.client.send_message(MessageKind::Binary, b"whole");
    p.drive();
    let (_, s) = p.take_events();
    let frag = |kind, data: &[u8], first, fin| WsEvent::Fragment {
        kind,
        data: Bytes::copy_from_slice(data),
        first,
        fin,
    };
    assert_eq!(
        s,
        vec![
            frag(MessageKind::Text, &[b'a', 0xce], true, false),
            WsEvent::Ping(Bytes::from_static(b"x")),
            frag(MessageKind::Text, &[0xba, b'b'], false, true),
            frag(MessageKind::Binary, b"whole", true, true),
        ]
    );
}

#[test]
fn send_fragment_ignores_broken_sequences() {
    let mut h = Harness::server();
    h.conn.send_fragment(MessageKind::Binary, b"x", false, true); // no message open
    assert!(h.output().is_empty());
    h.conn.send_fragment(MessageKind::Binary, b"a", true, false);
    h.conn.send_fragment(MessageKind::Binary, b"b", true, false); // first while open
    h.conn.send_message(MessageKind::Binary, b"c"); // would interleave
    h.conn.send_fragment(MessageKind::Binary, b"d", false, true);
    let out = h.output();
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].opcode, out[0].fin), (OpCode::Binary, false));
    assert_eq!(
        (out[1].opcode, out[1].fin, &out[1].payload[..]),
        (OpCode::Continuation, true, &b"d"[..])
    );
}

#[test]
fn server_initiated_close() {
    let mut p = Pair::new();
    p.server.close(1001, "going away");
    assert_eq!(p.server.state(), WsState::Closing);
    assert_eq!(
        p.server.poll_timeout(),
        Some(p.now + Duration::from_secs(5))
    );
    p.server
        .send_message(MessageKind::Text, b"ignored after close");
    p.drive();
    let (c, s) = p.take_events();
    assert_eq!(
        c,
        vec![WsEvent::Close {
            code: Some(1001),
            reason: "going away".into()
        }]
    );
    assert_eq!(
        s,
        vec![WsEvent::Close {
            code: Some(1001),
            reason: String::new()
        }]
    );
    assert!(p.server.is_closed() && p.client.is_closed());
    assert_eq!(p.server.poll_timeout(), None);
    assert_eq!(read_frames(&p.to_client).len(), 1, "no data after close");
}

#[test]
fn client_initiated_close_and_data_in_flight() {
    let mut p = Pair::new();
    p.client.close(1000, "");
    // The server's data queued before it saw the Close still arrives.
    p.server.send_message(MessageKind::Text, b"late");
    p.drive();
    let (c, s) = p.take_events();
    assert_eq!(
        c,
        vec![
            msg(MessageKind::Text, b"late"),
            WsEvent::Close {
                code: Some(1000),
                reason: String::new()
            }
        ]
    );
    assert_eq!(
        s,
        vec![WsEvent::Close {
            code: Some(1000),
            reason: String::new()
        }]
    );
    assert!(p.server.is_closed() && p.client.is_closed());
}

#[test]
fn close_received_state_until_answer_taken() {
    let mut h = Harness::server();
    let ev = h.input(&close_frame(1000, b"done").wire());
    assert_eq!(
        ev,
        vec![WsEvent::Close {
            code: Some(1000),
            reason: "done".into()
        }]
    );
    assert_eq!(h.conn.state(), WsState::CloseReceived);
    assert!(!h.conn.is_closed());
    h.conn.send_message(MessageKind::Text, b"ignored");
    let out = h.output();
    assert_eq!(out.len(), 1);
    assert_eq!(close_code_of(&out), Some(1000));
    assert!(out[0].payload.len() == 2, "answer has no reason");
    assert!(h.conn.is_closed());
    // Frames after the peer's Close are ignored.
    assert!(h.input(&text(b"after").wire()).is_empty());
}

#[test]
fn empty_close_is_answered_empty() {
    let mut h = Harness::server();
    let ev = h.input(&frame(0x8, b"").wire());
    assert_eq!(
        ev,
        vec![WsEvent::Close {
            code: None,
            reason: String::new()
        }]
    );
    let out = h.output();
    assert_eq!(out.len(), 1);
    assert!(out[0].payload.is_empty());
}

#[test]
fn close_timeout() {
    let mut h = Harness::client();
    h.conn.close(1000, "bye");
    let deadline = h.now + Duration::from_secs(5);
    assert_eq!(h.conn.poll_timeout(), Some(deadline));
    assert_eq!(close_code_of(&h.output()), Some(1000));
    h.conn.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(h.conn.state(), WsState::Closing);
    h.conn.handle_timeout(deadline);
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.poll_timeout(), None);
}

#[test]
fn close_timeout_drops_output_the_peer_does_not_read() {
    let mut h = Harness::server();
    h.conn.send_message(MessageKind::Binary, &[0; 1000]);
    h.conn.close(1000, "");
    assert!(h.conn.pending_transmit() > 1000);
    h.conn.handle_timeout(h.now + Duration::from_secs(5));
    assert_eq!(h.conn.pending_transmit(), 0);
    assert!(h.conn.is_closed());
}

#[test]
fn close_reason_is_truncated_at_char_boundary() {
    let mut h = Harness::server();
    h.conn.close(4000, &"ü".repeat(100));
    let out = h.output();
    let reason = &out[0].payload[2..];
    assert_eq!(reason.len(), 122);
    assert!(std::str::from_utf8(reason).is_ok());
    assert!(out[0].payload.len() <= 125);
}

#[test]
fn close_with_unsendable_code_has_no_body() {
    let mut h = Harness::server();
    h.conn.close(1005, "x");
    let out = h.output();
    assert_eq!(out[0].opcode, OpCode::Close);
    assert!(out[0].payload.is_empty());
}

#[test]
fn eof_without_close_is_connection_lost() {
    let mut h = Harness::server();
    h.input(&text(b"par").nofin().wire());
    h.conn.handle_eof(h.now);
    assert_eq!(h.events(), vec![WsEvent::Error(WsError::ConnectionLost)]);
    assert!(h.conn.is_closed());
    assert!(h.output().is_empty());
}

#[test]
fn eof_after_close_exchange_is_quiet() {
    let mut h = Harness::server();
    h.input(&close_frame(1000, b"").wire());
    h.output();
    h.conn.handle_eof(h.now);
    assert!(h.events().is_empty());
    assert!(h.conn.is_closed());
}

// ---------------------------------------------------------------------------------------------------------
// Control frames

#[test]
fn every_ping_is_answered_in_order() {
    let mut h = Harness::server();
    let ev = h.input(&wire(&[ping(b"one"), ping(b"two")]));
    assert_eq!(
        ev,
        vec![
            WsEvent::Ping(Bytes::from_static(b"one")),
            WsEvent::Ping(Bytes::from_static(b"two"))
        ]
    );
    assert_eq!(h.conn.pending_transmit(), 2 * (2 + 3));
    let out = h.output();
    let pongs: Vec<_> = out.iter().map(|f| (f.opcode, &f.payload[..])).collect();
    assert_eq!(
        pongs,
        vec![(OpCode::Pong, &b"one"[..]), (OpCode::Pong, &b"two"[..])]
    );
}

#[test]
fn pong_leaves_before_a_later_close() {
    let mut h = Harness::server();
    h.input(&ping(b"p").wire());
    h.conn.close(1000, "");
    let out = h.output();
    assert_eq!(
        out.iter().map(|f| f.opcode).collect::<Vec<_>>(),
        [OpCode::Pong, OpCode::Close]
    );
}

#[test]
fn ping_limits() {
    let mut h = Harness::client();
    assert_eq!(h.conn.send_ping(&[0; 126]), Err(WsError::ControlTooLong));
    assert!(h.output().is_empty());
    assert_eq!(h.conn.send_ping(&[7; 125]), Ok(()));
    let out = h.output();
    assert_eq!(
        (out[0].opcode, out[0].payload.len(), out[0].masked),
        (OpCode::Ping, 125, true)
    );
    let ev = h.input(&pong(&[1; 125]).unmasked().wire());
    assert_eq!(ev, vec![WsEvent::Pong(Bytes::from(vec![1; 125]))]);
}

// ---------------------------------------------------------------------------------------------------------
// Every peer violation: the Error event and the exact close code on the wire

#[test]
fn protocol_violations() {
    use WsError::*;
    let mut huge = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
    huge.extend_from_slice(&KEY);
    let cases: Vec<(&str, Vec<u8>, WsError, u16)> = vec![
        (
            "unmasked client frame",
            text(b"hi").unmasked().wire(),
            UnmaskedFrame,
            1002,
        ),
        (
            "rsv1 without extension",
            text(b"hi").rsv(4).wire(),
            ReservedBits,
            1002,
        ),
        ("rsv2", binary(b"hi").rsv(2).wire(), ReservedBits, 1002),
        ("rsv3", binary(b"hi").rsv(1).wire(), ReservedBits, 1002),
        ("rsv on ping", ping(b"").rsv(2).wire(), ReservedBits, 1002),
        (
            "ping over 125",
            ping(&[0; 126]).wire(),
            ControlTooLong,
            1002,
        ),
        (
            "close over 125",
            close_frame(1000, &[b'a'; 124]).wire(),
            ControlTooLong,
            1002,
        ),
        (
            "fragmented ping",
            ping(b"x").nofin().wire(),
            FragmentedControl,
            1002,
        ),
        (
            "fragmented close",
            close_frame(1000, b"").nofin().wire(),
            FragmentedControl,
            1002,
        ),
        (
            "lone continuation",
            cont(b"x").wire(),
            UnexpectedContinuation,
            1002,
        ),
        (
            "continuation after finished message",
            wire(&[text(b"a"), cont(b"b")]),
            UnexpectedContinuation,
            1002,
        ),
        (
            "new message inside a fragmented one",
            wire(&[text(b"a").nofin(), text(b"b")]),
            ExpectedContinuation,
            1002,
        ),
        (
            "binary inside a fragmented text",
            wire(&[text(b"a").nofin(), ping(b""), binary(b"b")]),
            ExpectedContinuation,
            1002,
        ),
        ("64-bit length with top bit", huge, BadLength, 1002),
        (
            "close with 1-byte payload",
            frame(0x8, &[3]).wire(),
            BadClosePayload,
            1002,
        ),
        ("text not utf-8", text(b"ok\xff").wire(), InvalidUtf8, 1007),
        (
            "text ends mid code point",
            wire(&[text(b"ok\xce").nofin(), cont(b"").nofin(), cont(b"")]),
            InvalidUtf8,
            1007,
        ),
        (
            "surrogate in text",
            text(b"\xed\xa0\x80").wire(),
            InvalidUtf8,
            1007,
        ),
        (
            "close reason not utf-8",
            close_frame(1000, b"\xc0\xaf").wire(),
            InvalidUtf8,
            1007,
        ),
    ];
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        assert_fails(
            Harness::server(),
            &frame(op, b"").wire(),
            UnknownOpcode,
            1002,
        );
    }
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let bytes = close_frame(code, b"").wire();
        assert_fails(Harness::server(), &bytes, InvalidCloseCode, 1002);
    }
    for (name, bytes, err, code) in cases {
        eprintln!("case: {name}");
        assert_fails(Harness::server(), &bytes, err, code);
    }
}

#[test]
fn default_mask_source_varies_keys() {
    let mut conn = WsConn::new(Role::Client, WsConfig::default(), Instant::now());
    let mut keys = std::collections::HashSet::new();
    for _ in 0..100 {
        conn.send_message(MessageKind::Binary, b"x");
        let mut buf = Vec::new();
        conn.poll_transmit(&mut buf);
        let (h, _) = FrameHeader::decode(&buf).unwrap().unwrap();
        keys.insert(h.mask.expect("client frames are masked"));
    }
    assert!(keys.len() > 90, "{} distinct keys", keys.len());
}

#[test]
fn client_rejects_masked_server_frames() {
    assert_fails(
        Harness::client(),
        &text(b"hi").wire(),
        WsError::MaskedFrame,
        1002,
    );
}

#[test]
fn valid_close_codes_are_accepted() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let mut h = Harness::server();
        let ev = h.input(&close_frame(code, b"r").wire());
        assert_eq!(
            ev,
            vec![WsEvent::Close {
                code: Some(code),
                reason: "r".into()
            }],
            "{code}"
        );
        assert_eq!(close_code_of(&h.output()), Some(code));
    }
}

#[test]
fn non_minimal_lengths_are_accepted() {
    let mut h = Harness::server();
    let ev = h.input(&wire(&[binary(b"abc").long_form(), ping(b"").long_form()]));
    assert_eq!(
        ev,
        vec![
            msg(MessageKind::Binary, b"abc"),
            WsEvent::Ping(Bytes::new())
        ]
    );
}

#[test]
fn utf8_fails_fast_mid_frame() {
    for stream in [false, true] {
        let cfg = WsConfig::default().stream_fragments(stream);
        let mut h = Harness::with(Role::Server, cfg);
        // A 100-byte text frame whose 4th byte is invalid: the failure comes when that byte arrives.
        let mut payload = b"abc\xffdef".to_vec();
        payload.resize(100, b'x');
        let bytes = text(&payload).wire();
        assert!(h.input(&bytes[..6 + 3]).is_empty());
        let ev = h.input(&bytes[9..10]);
        assert_eq!(
            ev,
            vec![WsEvent::Error(WsError::InvalidUtf8)],
            "stream {stream}"
        );
        assert_eq!(close_code_of(&h.output()), Some(1007));
    }
}

#[test]
fn utf8_across_frame_boundaries() {
    for stream in [false, true] {
        let cfg = WsConfig::default().stream_fragments(stream);
        // Split inside a code point: fine.
        let mut h = Harness::with(Role::Server, cfg.clone());
        let ev = h.input(&wire(&[
            text(b"\xe2").nofin(),
            cont(b"\x82").nofin(),
            cont(b"\xac!"),
        ]));
        assert!(error_of(&ev).is_none(), "{ev:?}");
        // An invalid continuation in the next frame fails on its first byte, before the message completes.
        let mut h = Harness::with(Role::Server, cfg);
        assert!(error_of(&h.input(&text(b"ok\xe2").nofin().wire())).is_none());
        let ev = h.input(&cont(b"A and more").nofin().wire());
        assert_eq!(error_of(&ev), Some(WsError::InvalidUtf8), "stream {stream}");
        assert_eq!(close_code_of(&h.output()), Some(1007));
    }
}

#[test]
fn utf8_check_can_be_turned_off() {
    let mut h = Harness::with(Role::Server, WsConfig::default().validate_utf8(false));
    let ev = h.input(&wire(&[text(b"\xff"), close_frame(1000, b"\xff")]));
    assert_eq!(ev[0], msg(MessageKind::Text, b"\xff"));
    assert!(matches!(
        ev[1],
        WsEvent::Close {
            code: Some(1000),
            ..
        }
    ));
}

// ---------------------------------------------------------------------------------------------------------
// Limits

#[test]
fn declared_frame_length_over_limit_fails_before_payload() {
    let cfg = WsConfig::default().max_frame(1000);
    let mut h = Harness::with(Role::Server, cfg);
    let header = binary(b"").declared(1001).wire();
    assert_eq!(h.input(&header), vec![WsEvent::Error(WsError::FrameTooBig)]);
    assert_eq!(close_code_of(&h.output()), Some(1009));
    // Exactly at the limit is fine.
    let mut h = Harness::with(Role::Server, WsConfig::default().max_frame(1000));
    assert!(h.input(&binary(&[1; 1000]).wire()).len() == 1);
}

#[test]
fn huge_declared_length_fails_at_once() {
    let mut h = Harness::server();
    let header = binary(b"").declared(1 << 62).wire();
    assert_eq!(h.input(&header), vec![WsEvent::Error(WsError::FrameTooBig)]);
}

#[test]
fn message_over_limit_across_fragments() {
    let cfg = WsConfig::default().max_message(10);
    for stream in [false, true] {
        let mut h = Harness::with(Role::Server, cfg.clone().stream_fragments(stream));
        let ev = h.input(&wire(&[binary(&[0; 6]).nofin(), cont(&[0; 4]).nofin()]));
        assert!(error_of(&ev).is_none());
        // The next header alone announces the 11th byte.
        let ev = h.input(&cont(b"").declared(1).wire()[..6]);
        assert_eq!(
            error_of(&ev),
            Some(WsError::MessageTooBig),
            "stream {stream}"
        );
        assert_eq!(close_code_of(&h.output()), Some(1009));
    }
}

#[test]
fn max_message_also_caps_max_frame() {
    let cfg = WsConfig::default().max_message(100);
    assert_eq!(cfg.max_frame, 100);
    let mut h = Harness::with(Role::Server, cfg);
    assert_eq!(
        error_of(&h.input(&binary(&[0; 101]).wire())),
        Some(WsError::FrameTooBig)
    );
}

#[test]
fn byte_at_a_time_gives_the_same_events() {
    let script = wire(&[
        text("fragmented ".as_bytes()).nofin(),
        ping(b"in between"),
        cont("mid-€".as_bytes()[..6].as_ref()).nofin(),
        cont(&"mid-€".as_bytes()[6..]),
        binary(&[9; 300]),
        binary(&[8; 70_000]).long_form(),
        pong(b""),
        text(b""),
        close_frame(1000, b"end"),
    ]);
    for stream in [false, true] {
        let cfg = WsConfig::default().stream_fragments(stream);
        let mut whole = Harness::with(Role::Server, cfg.clone());
        let expected = whole.input(&script);
        let expected_out = whole.raw_output();
        assert_eq!(expected.len(), if stream { 9 } else { 7 }, "{expected:?}");
        assert!(error_of(&expected).is_none());
        let mut bytewise = Harness::with(Role::Server, cfg.clone());
        let mut got = Vec::new();
        for b in &script {
            got.extend(bytewise.input(std::slice::from_ref(b)));
        }
        assert_eq!(got, expected);
        assert_eq!(bytewise.raw_output(), expected_out);
        // In place: whole, and cut at every 7th byte (frames split across reads take the usual path).
        let mut in_place = Harness::with(Role::Server, cfg.clone());
        assert_eq!(in_place.input_in_place(&script), expected);
        assert_eq!(in_place.raw_output(), expected_out);
        let mut cut = Harness::with(Role::Server, cfg.clone());
        let got: Vec<WsEvent> = script
            .chunks(7)
            .flat_map(|piece| cut.input_in_place(piece))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(cut.raw_output(), expected_out);
    }
}

#[test]
fn whole_frames_are_handed_over_in_place() {
    let mut h = Harness::server();
    let mut buf = wire(&[ping(b"p"), binary(&[7; 300]), text("€uro".as_bytes())]);
    let total = buf.len();
    let first = h.conn.handle_input_in_place(h.now, &mut buf);
    // The Ping before the message is an event to drain first; the message itself is unmasked where it lies.
    assert_eq!(h.events(), vec![WsEvent::Ping(Bytes::from_static(b"p"))]);
    let (kind, range) = first.message.clone().expect("a message in place");
    assert_eq!(kind, MessageKind::Binary);
    assert_eq!(&buf[range.clone()], &[7; 300][..]);
    assert_eq!(first.consumed, range.end);
    let rest = &mut buf[first.consumed..];
    let second = h.conn.handle_input_in_place(h.now, rest);
    let (kind, range) = second.message.expect("a second message in place");
    assert_eq!(kind, MessageKind::Text);
    assert_eq!(&rest[range], "€uro".as_bytes());
    assert_eq!(first.consumed + second.consumed, total);
    assert!(h.events().is_empty());
    // A client gets unmasked frames from the server, in place as well.
    let mut c = Harness::client();
    let mut buf = text(b"hello").unmasked().wire();
    let got = c.conn.handle_input_in_place(c.now, &mut buf);
    assert_eq!(got.message, Some((MessageKind::Text, 2..7)));
    assert_eq!(&buf[2..7], b"hello");
}

#[test]
fn direct_sends_equal_queued_sends_at_any_cut() {
    let payload: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let mut queued = Harness::server();
    queued.conn.send_message(MessageKind::Binary, &payload);
    let expected = queued.raw_output();
    // The socket takes `cut` bytes (0: it would block; everything: nothing is queued).
    for cut in [0, 1, 3, 4, 5, 100, expected.len() - 1, expected.len()] {
        let mut h = Harness::server();
        let mut wire = Vec::new();
        h.conn
            .send_message_direct(MessageKind::Binary, &payload, |head, body| {
                let both = [head, body].concat();
                wire.extend_from_slice(&both[..cut]);
                cut
            });
        wire.extend(h.raw_output());
        assert_eq!(wire, expected, "cut {cut}");
    }
}

#[test]
fn direct_send_never_overtakes_queued_output() {
    // A Pong the engine queued must leave before the message: no direct write then.
    let mut h = Harness::server();
    h.input(&ping(b"p").wire());
    h.conn
        .send_message_direct(MessageKind::Text, b"after", |_, _| {
            panic!("wrote past the queued Pong")
        });
    let out = h.output();
    assert_eq!(out[0].opcode, OpCode::Pong);
    assert_eq!(out[1].payload, b"after");
    // A client masks, so it always queues.
    let mut c = Harness::client();
    c.conn
        .send_message_direct(MessageKind::Text, b"masked", |_, _| {
            panic!("client wrote directly")
        });
    let out = c.output();
    assert!(out[0].masked);
    assert_eq!(out[0].payload, b"masked");
    // After our Close, nothing is sent at all.
    let mut h = Harness::server();
    h.conn.close(1000, "");
    h.raw_output();
    h.conn
        .send_message_direct(MessageKind::Text, b"late", |_, _| {
            panic!("sent after Close")
        });
    assert!(h.raw_output().is_empty());
}

proptest::proptest! {
    /// Any script of frames, cut into reads anywhere, gives the same events and output in place as through
    /// `handle_input`.
    #[test]
    fn in_place_equals_the_usual_path(
        frames in proptest::collection::vec((0u8..7, 0usize..300, proptest::bool::ANY), 1..12),
        cuts in proptest::collection::vec(1usize..400, 0..6),
        stream in proptest::bool::ANY,
    ) {
        // Sequences that break the rules (a continuation with no message open, say) are welcome: both paths
        // must then fail the same way.
        let mut built = Vec::new();
        for (i, (what, len, fin)) in frames.iter().enumerate() {
            let payload: Vec<u8> = (0..*len).map(|b| ((b * 31 + i) % 128) as u8).collect();
            let f = match what {
                0 => text(&payload),
                1 => binary(&payload),
                2 => ping(&payload[..payload.len().min(125)]),
                3 => pong(&payload[..payload.len().min(20)]),
                4 => text(b"\xff\xfe"),
                5 => cont(&payload),
                _ => binary(&payload).nofin(),
            };
            built.push(if *what == 5 && !fin { f.nofin() } else { f });
        }
        let script = wire(&built);
        let cfg = WsConfig::default().stream_fragments(stream);
        let mut usual = Harness::with(Role::Server, cfg.clone());
        let expected = usual.input(&script);
        let mut in_place = Harness::with(Role::Server, cfg);
        let mut got = Vec::new();
        let mut rest = &script[..];
        for cut in cuts {
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            got.extend(in_place.input_in_place(piece));
            rest = tail;
        }
        got.extend(in_place.input_in_place(rest));
        proptest::prop_assert_eq!(got, expected);
        proptest::prop_assert_eq!(in_place.raw_output(), usual.raw_output());
    }
}

// ---------------------------------------------------------------------------------------------------------
// Compression through MessageCodec (a stand-in codec; permessage-deflate has its own tests)

/// "Compresses" by XOR with 0x55; decompression expands every input byte `expand` times, to play zip bomb.
struct XorCodec {
    expand: usize,
    fins: Arc<AtomicUsize>,
}

impl MessageCodec for XorCodec {
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WsError> {
        out.extend(payload.iter().map(|b| b ^ 0x55));
        Ok(())
    }
    fn decompress(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), WsError> {
        for b in input {
            for _ in 0..self.expand {
                if out.len() >= limit {
                    return Err(WsError::MessageTooBig);
                }
                out.push(b ^ 0x55);
            }
        }
        if fin {
            self.fins.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn xor_codec(expand: usize) -> (Box<XorCodec>, Arc<AtomicUsize>) {
    let fins = Arc::new(AtomicUsize::new(0));
    (
        Box::new(XorCodec {
            expand,
            fins: fins.clone(),
        }),
        fins,
    )
}

#[test]
fn compressed_messages_round_trip() {
    for stream in [false, true] {
        let cfg = WsConfig::default().stream_fragments(stream);
        let mut p = Pair::with(cfg.clone(), cfg);
        let (c, _) = xor_codec(1);
        let (s, server_fins) = xor_codec(1);
        p.client.set_extension(c);
        p.server.set_extension(s);
        let long = "a longer text message, compressed".as_bytes();
        p.client.send_message(MessageKind::Text, b"tiny");
        p.client.send_message(MessageKind::Text, long);
        p.client
            .send_fragment(MessageKind::Binary, &[1; 40], true, true);
        p.drive();
        let frames = read_frames(&p.to_server);
        assert_eq!(
            frames.iter().map(|f| f.rsv1).collect::<Vec<_>>(),
            [false, true, false]
        );
        let (_, s) = p.take_events();
        let data: Vec<Bytes> = s
            .into_iter()
            .map(|e| match e {
                WsEvent::Message { data, .. } | WsEvent::Fragment { data, .. } => data,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(data, [&b"tiny"[..], long, &[1; 40][..]]);
        assert_eq!(server_fins.load(Ordering::Relaxed), 1);
    }
}

#[test]
fn compressed_fragmented_message_is_inflated_across_frames() {
    let mut h = Harness::server();
    let (codec, fins) = xor_codec(1);
    h.conn.set_extension(codec);
    let x = |s: &[u8]| s.iter().map(|b| b ^ 0x55).collect::<Vec<u8>>();
    let ev = h.input(&wire(&[
        text(&x(b"Hel")).rsv(4).nofin(),
        ping(b""),
        cont(&x(b"lo")).nofin(),
        cont(b""),
    ]));
    assert_eq!(
        ev,
        vec![
            WsEvent::Ping(Bytes::new()),
            msg(MessageKind::Text, b"Hello")
        ]
    );
    assert_eq!(fins.load(Ordering::Relaxed), 1);
    // RSV1 on a continuation or a control frame is still a violation with an extension.
    let mut h = Harness::server();
    h.conn.set_extension(xor_codec(1).0);
    let bytes = wire(&[text(&x(b"a")).rsv(4).nofin(), cont(b"b").rsv(4)]);
    assert_fails(h, &bytes, WsError::ReservedBits, 1002);
    let mut h = Harness::server();
    h.conn.set_extension(xor_codec(1).0);
    assert_fails(h, &ping(b"").rsv(4).wire(), WsError::ReservedBits, 1002);
}

#[test]
fn inflated_size_is_limited() {
    for stream in [false, true] {
        let cfg = WsConfig::default()
            .max_message(1000)
            .stream_fragments(stream);
        let mut h = Harness::with(Role::Server, cfg);
        h.conn.set_extension(xor_codec(100).0);
        // 9 bytes inflate to 900: fine; 2 more in the next frame would make 1100.
        let ev = h.input(&binary(&[0; 9]).rsv(4).nofin().wire());
        assert!(error_of(&ev).is_none());
        let ev = h.input(&cont(&[0; 2]).wire());
        assert_eq!(
            error_of(&ev),
            Some(WsError::MessageTooBig),
            "stream {stream}"
        );
        assert_eq!(close_code_of(&h.output()), Some(1009));
    }
}

#[test]
fn compressed_text_is_utf8_checked_as_it_inflates() {
    let mut h = Harness::server();
    h.conn.set_extension(xor_codec(1).0);
    let mut payload = vec![b'a' ^ 0x55, 0xff ^ 0x55];
    payload.resize(50, 0);
    let bytes = text(&payload).rsv(4).wire();
    let ev = h.input(&bytes[..8]);
    assert_eq!(ev, vec![WsEvent::Error(WsError::InvalidUtf8)]);
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6455 §5.7 vectors

const VECTORS: &str = include_str!("../../tests/vectors/ws-frames.txt");

/// Decodes the vector file's hex notation: hex byte pairs, spaces ignored, "*N:HH" for N bytes of HH.
fn unhex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for token in s.split(' ').filter(|t| !t.is_empty()) {
        if let Some(rep) = token.strip_prefix('*') {
            let (n, byte) = rep.split_once(':').expect("*N:HH");
            let byte = u8::from_str_radix(byte, 16).expect("hex byte");
            out.extend(std::iter::repeat_n(byte, n.parse().expect("count")));
            continue;
        }
        assert!(token.len() % 2 == 0, "odd hex {token}");
        for i in (0..token.len()).step_by(2) {
            out.push(u8::from_str_radix(&token[i..i + 2], 16).expect("hex"));
        }
    }
    out
}

#[test]
fn rfc_5_7_vectors() {
    let mut cases = 0;
    for (i, line) in VECTORS.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, receiver, wire_hex, events] = fields[..] else {
            panic!("ws-frames.txt:{}: expected 4 fields", i + 1);
        };
        let ctx = format!("ws-frames.txt:{} {name}", i + 1);
        let bytes = unhex(wire_hex);
        let (role, sender_role) = match receiver {
            "client" => (Role::Client, Role::Server),
            "server" => (Role::Server, Role::Client),
            other => panic!("{ctx}: receiver {other}"),
        };
        // The receiver reports the listed events, fed whole and one byte at a time.
        let expected: Vec<WsEvent> = events
            .split(' ')
            .map(|ev| {
                let (kind, payload) = ev.split_once(':').expect("kind:payload");
                let data = Bytes::from(unhex(payload));
                match kind {
                    "text" => WsEvent::Message {
                        kind: MessageKind::Text,
                        data,
                    },
                    "binary" => WsEvent::Message {
                        kind: MessageKind::Binary,
                        data,
                    },
                    "ping" => WsEvent::Ping(data),
                    "pong" => WsEvent::Pong(data),
                    other => panic!("{ctx}: event {other}"),
                }
            })
            .collect();
        let mut h = Harness::with(role, WsConfig::default());
        assert_eq!(h.input(&bytes), expected, "{ctx}");
        let mut h = Harness::with(role, WsConfig::default());
        let got: Vec<WsEvent> = bytes.iter().flat_map(|b| h.input(&[*b])).collect();
        assert_eq!(got, expected, "{ctx} byte at a time");

        // The other role, sending the same frames with the same key, produces exactly these bytes.
        let mut sender = Harness::with(sender_role, WsConfig::default());
        for f in read_frames(&bytes) {
            match f.opcode {
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    let kind = if f.opcode == OpCode::Binary {
                        MessageKind::Binary
                    } else {
                        MessageKind::Text
                    };
                    let first = f.opcode != OpCode::Continuation;
                    sender.conn.send_fragment(kind, &f.payload, first, f.fin);
                }
                OpCode::Ping => sender.conn.send_ping(&f.payload).unwrap(),
                // A Pong is only ever an answer: have the sender answer a Ping with this payload.
                OpCode::Pong => {
                    let mut ping = ping(&f.payload);
                    if sender_role == Role::Client {
                        ping = ping.unmasked();
                    }
                    sender.input(&ping.wire());
                }
                OpCode::Close => unreachable!("no close vectors"),
            }
        }
        assert_eq!(sender.raw_output(), bytes, "{ctx} encoding");
    }
    assert_eq!(cases, 7);
}

// ---------------------------------------------------------------------------------------------------------
// Opening handshake over heads parsed by the HTTP/1.1 engine

fn head(text: &str) -> RequestHead {
    let now = Instant::now();
    let mut h1 = H1Conn::new(H1Config::default(), now);
    h1.handle_input(now, text.replace('\n', "\r\n").as_bytes());
    match h1.poll_event() {
        Some(H1Event::Request(head)) => head,
        other => panic!("no request head: {other:?}"),
    }
}

const GOOD: &str = "GET /chat HTTP/1.1
Host: server.example.com
Upgrade: websocket
Connection: keep-alive, Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Origin: http://example.com
Sec-WebSocket-Protocol: chat, superchat
Sec-WebSocket-Protocol: third
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
Sec-WebSocket-Version: 13

";

#[test]
fn parses_rfc_upgrade_request() {
    let req = handshake::parse_upgrade(&head(GOOD)).unwrap();
    assert_eq!(req.key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(req.protocols, ["chat", "superchat", "third"]);
    assert_eq!(
        req.extensions,
        ["permessage-deflate; client_max_window_bits"]
    );
    assert_eq!(req.origin.as_deref(), Some("http://example.com"));
    assert_eq!(
        handshake::accept_key(&req.key),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn upgrade_request_errors() {
    use HandshakeError::*;
    let without = |name: &str| -> String {
        GOOD.lines()
            .filter(|l| !l.starts_with(name))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let replace = |from: &str, to: &str| GOOD.replace(from, to);
    let cases: Vec<(String, HandshakeError, u16)> = vec![
        (replace("GET /chat", "POST /chat"), Method, 400),
        (replace("HTTP/1.1\n", "HTTP/1.0\n"), HttpVersion, 400),
        (without("Upgrade:"), NotWebSocket, 400),
        (
            replace("Upgrade: websocket", "Upgrade: h2c"),
            NotWebSocket,
            400,
        ),
        (without("Connection:"), NotUpgrade, 400),
        (
            replace("keep-alive, Upgrade", "keep-alive"),
            NotUpgrade,
            400,
        ),
        (without("Sec-WebSocket-Key:"), MissingKey, 400),
        (
            replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"),
            BadKey,
            400,
        ),
        (
            replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64 at all!!!!!!!"),
            BadKey,
            400,
        ),
        (
            replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZTE="),
            BadKey,
            400,
        ),
        (without("Sec-WebSocket-Version:"), MissingVersion, 400),
        (replace("Version: 13", "Version: 8"), Version, 426),
    ];
    for (text, err, status) in cases {
        assert_eq!(handshake::parse_upgrade(&head(&text)), Err(err), "{text}");
        assert_eq!(err.status(), status);
    }
    // The HTTP/1.1 engine already refuses an HTTP/1.1 head without Host; a head built without any header
    // lines shows the check here too.
    assert_eq!(
        handshake::parse_upgrade(&RequestHead::placeholder()),
        Err(MissingHost)
    );
    // Case-insensitive tokens are accepted.
    let mixed = replace("Upgrade: websocket", "Upgrade: WebSocket")
        .replace("keep-alive, Upgrade", "UPGRADE");
    assert!(handshake::parse_upgrade(&head(&mixed)).is_ok());
}

#[test]
fn client_handshake_round_trip() {
    let key = handshake::client_key([7; 16]);
    let mut req = Vec::new();
    handshake::client_request(
        "example.com:8080",
        "/ws?x=1",
        &key,
        &["chat", "superchat"],
        Some("permessage-deflate"),
        &[("Origin", "http://example.com")],
        &mut req,
    );
    // The server side accepts what the client side writes.
    let text = String::from_utf8(req).unwrap();
    assert!(text.ends_with("\r\n\r\n"));
    let h = head(&text.replace("\r\n", "\n"));
    assert_eq!(h.target(), "/ws?x=1");
    let up = handshake::parse_upgrade(&h).unwrap();
    assert_eq!(up.key, key);
    assert_eq!(up.protocols, ["chat", "superchat"]);
    assert_eq!(up.extensions, ["permessage-deflate"]);

    let accept = handshake::accept_key(&key);
    let ok: Vec<(&str, &[u8])> = vec![
        ("Upgrade", b"websocket"),
        ("connection", b"Upgrade"),
        ("Sec-WebSocket-Accept", accept.as_bytes()),
        ("Sec-WebSocket-Protocol", b"superchat"),
        ("Sec-WebSocket-Extensions", b"permessage-deflate"),
    ];
    let got = handshake::check_response(101, &ok, &key, &["chat", "superchat"]).unwrap();
    assert_eq!(got.protocol.as_deref(), Some("superchat"));
    assert_eq!(got.extensions.as_deref(), Some("permessage-deflate"));

    assert_eq!(
        handshake::check_response(403, &ok, &key, &["chat"]),
        Err(HandshakeError::Status(403))
    );
    assert_eq!(
        handshake::check_response(101, &ok, &key, &["chat"]),
        Err(HandshakeError::UnofferedProtocol)
    );
    let other_key = handshake::client_key([8; 16]);
    assert_eq!(
        handshake::check_response(101, &ok, &other_key, &["superchat"]),
        Err(HandshakeError::BadAccept)
    );
    assert_eq!(
        handshake::check_response(101, &ok[1..], &key, &["superchat"]),
        Err(HandshakeError::NotWebSocket)
    );
    let no_conn: Vec<(&str, &[u8])> = ok
        .iter()
        .copied()
        .filter(|(n, _)| *n != "connection")
        .collect();
    assert_eq!(
        handshake::check_response(101, &no_conn, &key, &["superchat"]),
        Err(HandshakeError::NotUpgrade)
    );
}

#[test]
fn pmd_min_size_decides_what_is_compressed() {
    let config = pmd::PmdConfig {
        min_size: 100,
        ..pmd::PmdConfig::default()
    };
    let cfg = WsConfig::default();
    let mut p = Pair::with(cfg.clone(), cfg);
    let params = pmd::PmdParams::default();
    p.client.set_extension(Box::new(pmd::PermessageDeflate::new(
        params, false, &config,
    )));
    p.server
        .set_extension(Box::new(pmd::PermessageDeflate::new(params, true, &config)));
    let short = [b'a'; 99];
    let long = [b'a'; 100];
    p.client.send_message(MessageKind::Binary, &short);
    p.client.send_message(MessageKind::Binary, &long);
    p.drive();
    let frames = read_frames(&p.to_server);
    assert_eq!(
        frames.iter().map(|f| f.rsv1).collect::<Vec<_>>(),
        [false, true]
    );
    let (_, s) = p.take_events();
    let data: Vec<Bytes> = s
        .into_iter()
        .map(|e| match e {
            WsEvent::Message { data, .. } => data,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(data, [&short[..], &long[..]]);
}
