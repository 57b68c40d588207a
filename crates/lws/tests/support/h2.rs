//! A raw HTTP/2 client for tests: frames written and read by hand (HPACK literals only), so tests can see
//! exactly which frames a server sends (RST_STREAM, WINDOW_UPDATE, trailing HEADERS).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::IO_TIMEOUT;

/// Reads one HTTP/2 frame: (type, flags, stream, payload).
pub(crate) async fn frame(c: &mut TcpStream) -> (u8, u8, u32, Vec<u8>) {
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

pub(crate) fn frame_bytes(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A request HEADERS block in HPACK literals (no indexing, no Huffman): enough for tests.
pub(crate) fn headers(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (n, v) in fields {
        block.push(0);
        block.push(n.len() as u8);
        block.extend_from_slice(n.as_bytes());
        block.push(v.len() as u8);
        block.extend_from_slice(v.as_bytes());
    }
    block
}

/// Opens an h2c prior-knowledge connection and reads the server's SETTINGS.
pub(crate) async fn h2_open(addr: std::net::SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut hello = lws_proto::sniff::H2_PREFACE.to_vec();
    hello.extend(frame_bytes(4, 0, 0, &[]));
    c.write_all(&hello).await.unwrap();
    c
}

/// Frames of stream 1 until it ends: (data, trailers seen, reset code).
pub(crate) async fn h2_response(c: &mut TcpStream) -> (Vec<u8>, bool, Option<u32>) {
    let mut data = Vec::new();
    let mut headers_seen = 0;
    loop {
        let (kind, flags, stream, payload) = frame(c).await;
        match (kind, stream) {
            (0, 1) => {
                data.extend_from_slice(&payload);
                if flags & 1 != 0 {
                    return (data, false, None);
                }
            }
            (1, 1) => {
                headers_seen += 1;
                if flags & 1 != 0 {
                    return (data, headers_seen > 1, None);
                }
            }
            (3, 1) => {
                let code = u32::from_be_bytes(payload[..4].try_into().unwrap());
                return (data, false, Some(code));
            }
            _ => {}
        }
    }
}

pub(crate) fn get(path: &str) -> Vec<u8> {
    let block = headers(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "localhost"),
    ]);
    frame_bytes(1, 0x5, 1, &block)
}
