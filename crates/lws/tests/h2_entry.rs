//! HTTP/2 reached through `Upgrade: h2c` (RFC 7540 §3.2): the HTTP/1 role answers 101 and hands the connection
//! back to the entry, which starts HTTP/2 with the bytes the client sent right behind the request.

mod support;

use lws::{Mount, ProtocolHandle, Vhost};
use support::{any_port, start, Hello, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one HTTP/2 frame header and its payload.
async fn frame(c: &mut TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let mut head = [0u8; 9];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut head))
        .await
        .expect("no frame")
        .unwrap();
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    c.read_exact(&mut payload).await.unwrap();
    (head[3], head[4], stream, payload)
}

#[tokio::test]
async fn an_h2c_upgrade_answers_stream_1_with_the_preface_sent_behind_the_request() {
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .protocol(ProtocolHandle::new("hello", Hello))
        .mount(Mount::callback("/", "hello"))]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    // The request, the client preface and an empty SETTINGS in one write: the preface arrives as bytes the
    // HTTP/1 role read past its request, and must reach HTTP/2.
    let mut all = b"GET /up HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n\
Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
        .to_vec();
    all.extend_from_slice(lws_proto::sniff::H2_PREFACE);
    all.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    c.write_all(&all).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut b))
            .await
            .unwrap()
            .unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("upgrade: h2c"), "{head}");
    // The server's SETTINGS, then the answer to the upgraded request on stream 1.
    let (kind, _, _, _) = frame(&mut c).await;
    assert_eq!(kind, 4, "first frame is not SETTINGS");
    let mut body = Vec::new();
    loop {
        let (kind, flags, stream, payload) = frame(&mut c).await;
        if kind == 0 && stream == 1 {
            body.extend_from_slice(&payload);
            if flags & 1 != 0 {
                break;
            }
        }
    }
    assert_eq!(body, b"hello /up on localhost");
}
