use std::time::Instant;

use super::*;
use crate::http1::{Event as ServerEvent, H1Conn, ResponseLength, Version};

/// What one response turned into, gathered from the events.
#[derive(Debug, Default, PartialEq)]
struct Got {
    statuses: Vec<u16>,
    body: Vec<u8>,
    ends: usize,
    trailers: Vec<(String, Vec<u8>)>,
    error: Option<ResponseError>,
}

fn get(conn: &mut H1ClientConn, method: &str) {
    conn.send_request(
        Instant::now(),
        &OutgoingRequest {
            method,
            target: "/x",
            host: "h",
            headers: &[],
            body: RequestBody::Empty,
        },
    )
    .expect("request accepted");
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
}

fn drain(conn: &mut H1ClientConn, got: &mut Got) {
    while let Some(ev) = conn.poll_event() {
        match ev {
            ClientEvent::Response(h) => got.statuses.push(h.status()),
            ClientEvent::Data(d) => got.body.extend_from_slice(&d),
            ClientEvent::End(t) => {
                got.ends += 1;
                got.trailers
                    .extend(t.fields.into_iter().map(|(n, v)| (n, v.to_vec())));
            }
            ClientEvent::Error(e) => got.error = Some(e),
        }
    }
}

/// Feeds `wire` in two pieces split at `at`, then EOF when `eof`.
fn feed_split(method: &str, wire: &[u8], at: usize, eof: bool) -> (Got, H1ClientConn) {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    get(&mut conn, method);
    let mut got = Got::default();
    let now = Instant::now();
    conn.handle_input(now, &wire[..at]);
    drain(&mut conn, &mut got);
    conn.handle_input(now, &wire[at..]);
    drain(&mut conn, &mut got);
    if eof {
        conn.handle_eof(now);
        drain(&mut conn, &mut got);
    }
    (got, conn)
}

/// Checks that every split position of `wire` gives the same result as the whole, and returns it.
fn every_split(method: &str, wire: &[u8], eof: bool) -> (Got, H1ClientConn) {
    let whole = feed_split(method, wire, wire.len(), eof);
    for at in 0..wire.len() {
        let (got, _) = feed_split(method, wire, at, eof);
        assert_eq!(got, whole.0, "split at {at}");
    }
    whole
}

#[test]
fn request_head_serialisation() {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    conn.send_request(
        Instant::now(),
        &OutgoingRequest {
            method: "POST",
            target: "/form?a=1",
            host: "example.com:8080",
            headers: &[("user-agent", b"lws"), ("x-a", b"b c")],
            body: RequestBody::Length(5),
        },
    )
    .unwrap();
    conn.send_data(b"hel").unwrap();
    assert_eq!(conn.send_data(b"xyz"), Err(RequestError::BodyTooLong));
    assert_eq!(conn.finish_request(), Err(RequestError::BodyTooShort));
    conn.send_data(b"lo").unwrap();
    conn.finish_request().unwrap();
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "POST /form?a=1 HTTP/1.1\r\nhost: example.com:8080\r\nuser-agent: lws\r\nx-a: b c\r\n\
         content-length: 5\r\n\r\nhello"
    );
}

#[test]
fn chunked_request_body() {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    conn.send_request(
        Instant::now(),
        &OutgoingRequest {
            method: "PUT",
            target: "/",
            host: "h",
            headers: &[],
            body: RequestBody::Chunked,
        },
    )
    .unwrap();
    conn.send_data(b"abc").unwrap();
    conn.send_data(b"").unwrap();
    conn.send_data(&[b'x'; 17]).unwrap();
    conn.finish_request().unwrap();
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with(
        "transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n11\r\nxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"
    ));
}

#[test]
fn refused_request_heads_write_nothing() {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    let req = |method, target, headers| OutgoingRequest {
        method,
        target,
        host: "h",
        headers,
        body: RequestBody::Empty,
    };
    let now = Instant::now();
    let cases: [(OutgoingRequest<'_>, RequestError); 5] = [
        (req("GE T", "/", &[]), RequestError::InvalidMethod),
        (req("GET", "/a b", &[]), RequestError::InvalidTarget),
        (req("GET", "/\r\n", &[]), RequestError::InvalidTarget),
        (
            req("GET", "/", &[("x", b"a\r\nevil: 1")]),
            RequestError::InvalidHeader("x".into()),
        ),
        (
            req("GET", "/", &[("Content-Length", b"1")]),
            RequestError::ReservedHeader("content-length".into()),
        ),
    ];
    for (r, e) in cases {
        assert_eq!(conn.send_request(now, &r), Err(e));
        assert!(!conn.has_transmit());
        assert!(conn.is_ready());
    }
    assert_eq!(conn.send_data(b"x"), Err(RequestError::NoBody));
    conn.send_request(now, &req("GET", "/", &[])).unwrap();
    assert_eq!(
        conn.send_request(now, &req("GET", "/", &[])),
        Err(RequestError::NotReady)
    );
}

#[test]
fn content_length_body_at_every_split() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhello world";
    let (got, conn) = every_split("GET", wire, false);
    assert_eq!(got.statuses, [200]);
    assert_eq!(got.body, b"hello world");
    assert_eq!(got.ends, 1);
    assert!(conn.is_ready());
}

#[test]
fn chunked_body_with_trailers_at_every_split() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n";
    let (got, conn) = every_split("GET", wire, false);
    assert_eq!(got.body, b"hello world");
    assert_eq!(got.ends, 1);
    assert_eq!(got.trailers, [("x-sum".to_string(), b"42".to_vec())]);
    assert!(conn.is_ready());
}

#[test]
fn close_delimited_body_at_every_split() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    let (got, conn) = every_split("GET", wire, true);
    assert_eq!(got.body, b"until the end");
    assert_eq!(got.ends, 1);
    assert!(conn.is_closed());
    assert!(!conn.is_ready());
}

#[test]
fn interim_responses_are_skipped() {
    let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                 HTTP/1.1 204 No Content\r\n\r\n";
    let (got, conn) = every_split("GET", wire, false);
    assert_eq!(got.statuses, [204]);
    assert_eq!(got.ends, 1);
    assert!(conn.is_ready());
}

#[test]
fn switching_protocols_hands_over_the_rest() {
    let wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
    let (got, mut conn) = feed_split("GET", wire, 10, false);
    assert_eq!(got.statuses, [101]);
    assert_eq!(got.ends, 0);
    assert!(conn.is_upgraded());
    assert_eq!(&conn.take_remaining()[..], b"\x81\x00");
}

#[test]
fn bodiless_responses() {
    for (method, wire) in [
        (
            "HEAD",
            &b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"[..],
        ),
        (
            "GET",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
        ),
        (
            "GET",
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ] {
        let (got, conn) = every_split(method, wire, false);
        assert_eq!(got.body, b"");
        assert_eq!(got.ends, 1, "{method} {:?}", String::from_utf8_lossy(wire));
        assert!(conn.is_ready());
    }
}

#[test]
fn keep_alive_decision() {
    let cases: [(&[u8], bool); 5] = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        (
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
            true,
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false),
    ];
    for (wire, reusable) in cases {
        let (got, conn) = feed_split("GET", wire, 0, false);
        assert_eq!(got.error, None);
        assert_eq!(
            conn.is_reusable(),
            reusable,
            "{:?}",
            String::from_utf8_lossy(wire)
        );
    }
    // Our own `connection: close` ends the connection too.
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    let now = Instant::now();
    conn.send_request(
        now,
        &OutgoingRequest {
            method: "GET",
            target: "/",
            host: "h",
            headers: &[("Connection", b"close")],
            body: RequestBody::Empty,
        },
    )
    .unwrap();
    conn.handle_input(now, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(conn.is_closed());
}

#[test]
fn response_before_the_request_body_ends_closes() {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    let now = Instant::now();
    conn.send_request(
        now,
        &OutgoingRequest {
            method: "POST",
            target: "/",
            host: "h",
            headers: &[],
            body: RequestBody::Length(100),
        },
    )
    .unwrap();
    conn.send_data(b"part").unwrap();
    conn.handle_input(
        now,
        b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n",
    );
    let mut got = Got::default();
    drain(&mut conn, &mut got);
    assert_eq!((got.statuses, got.ends), (vec![413], 1));
    assert!(conn.is_closed());
}

#[test]
fn malformed_responses_are_typed_errors() {
    let cases: [(&[u8], ResponseError); 9] = [
        (b"HTTP/1.1 2000 OK\r\n\r\n", ResponseError::BadStatus),
        (
            b"HTTP/2.0 200 OK\r\n\r\n",
            ResponseError::UnsupportedVersion,
        ),
        (
            b"SSH-2.0-OpenSSH\r\n\r\n",
            ResponseError::UnsupportedVersion,
        ),
        (
            b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
            ResponseError::MalformedHead,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            ResponseError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            ResponseError::BadContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            ResponseError::ConflictingLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ResponseError::BadChunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            ResponseError::BadTransferEncoding,
        ),
    ];
    for (wire, err) in cases {
        let (got, conn) = every_split("GET", wire, false);
        assert_eq!(got.error, Some(err), "{:?}", String::from_utf8_lossy(wire));
        assert!(conn.is_closed());
        assert_eq!(conn.error(), Some(err));
    }
}

#[test]
fn eof_errors() {
    let (got, _) = feed_split("GET", b"", 0, true);
    assert_eq!(got.error, Some(ResponseError::ClosedBeforeResponse));
    let (got, _) = feed_split("GET", b"HTTP/1.1 200 OK\r\n", 3, true);
    assert_eq!(got.error, Some(ResponseError::IncompleteHead));
    let (got, _) = feed_split(
        "GET",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
        3,
        true,
    );
    assert_eq!(got.error, Some(ResponseError::IncompleteBody));
    assert_eq!(got.body, b"abc");
    let (got, _) = feed_split(
        "GET",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        3,
        true,
    );
    assert_eq!(got.error, Some(ResponseError::IncompleteBody));
}

#[test]
fn head_limits() {
    let cfg = H1ClientConfig {
        max_head: 64,
        max_headers: 3,
        ..H1ClientConfig::default()
    };
    let run = |wire: &[u8]| {
        let mut conn = H1ClientConn::new(cfg.clone());
        get(&mut conn, "GET");
        conn.handle_input(Instant::now(), wire);
        let mut got = Got::default();
        drain(&mut conn, &mut got);
        got.error
    };
    let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n", "a".repeat(100));
    assert_eq!(run(long.as_bytes()), Some(ResponseError::HeadTooLarge));
    assert_eq!(
        run(b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
        Some(ResponseError::TooManyHeaders)
    );
    assert_eq!(run(b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n"), None);
}

#[test]
fn unsolicited_bytes_fail_an_idle_connection() {
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    conn.handle_input(Instant::now(), b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(conn.error(), Some(ResponseError::UnsolicitedData));
    // Extra bytes after a complete response: the response stands, the connection does not.
    let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxjunk";
    let (got, conn) = feed_split("GET", wire, wire.len(), false);
    assert_eq!((got.body, got.ends), (b"x".to_vec(), 1));
    assert_eq!(got.error, Some(ResponseError::UnsolicitedData));
    assert!(conn.is_closed());
}

#[test]
fn response_head_accessors() {
    let wire = b"HTTP/1.0 404 Not Found\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nConnection: keep-alive, x\r\n\
                 Content-Length: 0\r\n\r\n";
    let mut conn = H1ClientConn::new(H1ClientConfig::default());
    get(&mut conn, "GET");
    conn.handle_input(Instant::now(), wire);
    let Some(ClientEvent::Response(h)) = conn.poll_event() else {
        panic!("no head")
    };
    assert_eq!(h.status(), 404);
    assert_eq!(h.reason(), "Not Found");
    assert_eq!(h.version(), Version::Http10);
    assert_eq!(h.header_str("SET-COOKIE"), Some("a=1"));
    assert_eq!(h.headers_named("set-cookie").count(), 2);
    assert_eq!(h.headers().count(), 4);
    assert!(h.header_has_token("connection", "keep-alive"));
    assert!(h.keep_alive());
}

/// Our client engine against our server engine, in memory: three keep-alive exchanges on one connection.
#[test]
fn client_engine_against_server_engine() {
    let now = Instant::now();
    let mut client = H1ClientConn::new(H1ClientConfig::default());
    let mut server = H1Conn::new(crate::http1::H1Config::default(), now);
    let mut wire = Vec::new();
    for i in 0..3u8 {
        let body = vec![b'a' + i; 10 + usize::from(i)];
        client
            .send_request(
                now,
                &OutgoingRequest {
                    method: "POST",
                    target: "/echo",
                    host: "localhost",
                    headers: &[],
                    body: RequestBody::Chunked,
                },
            )
            .unwrap();
        client.send_data(&body).unwrap();
        client.finish_request().unwrap();
        client.poll_transmit(&mut wire);
        server.handle_input(now, &wire);
        wire.clear();
        let mut received = Vec::new();
        while let Some(ev) = server.poll_event() {
            match ev {
                ServerEvent::Request(h) => {
                    assert_eq!(h.target(), "/echo");
                    server.accept_body(now);
                }
                ServerEvent::Data(d) => received.extend_from_slice(&d),
                ServerEvent::End(_) => {
                    server
                        .start_response(200, ResponseLength::Streamed)
                        .finish();
                    server.send_data(&received);
                    server.finish_response(now);
                }
                ServerEvent::Error(e) => panic!("server error {e}"),
            }
        }
        server.poll_transmit(&mut wire);
        client.handle_input(now, &wire);
        wire.clear();
        let mut got = Got::default();
        drain(&mut client, &mut got);
        assert_eq!(got.body, body);
        assert_eq!(got.ends, 1);
        assert!(client.is_ready());
    }
    assert_eq!(client.exchanges(), 3);
    assert_eq!(server.requests(), 3);
}

#[test]
fn a_chunked_request_can_end_with_trailers() {
    let mut c = H1ClientConn::new(H1ClientConfig::default());
    let req = OutgoingRequest {
        method: "POST",
        target: "/",
        host: "h",
        headers: &[],
        body: RequestBody::Chunked,
    };
    c.send_request(Instant::now(), &req).unwrap();
    c.send_data(b"abc").unwrap();
    c.finish_request_with_trailers(&[("x-sum", b"6"), ("bad name", b"x")])
        .unwrap();
    let mut out = Vec::new();
    c.poll_transmit(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.ends_with("3\r\nabc\r\n0\r\nx-sum: 6\r\n\r\n"),
        "{text}"
    );
    assert_eq!(c.send_data(b"more"), Err(RequestError::NoBody));
}
