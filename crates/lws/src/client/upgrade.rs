//! The server's answer to the opening handshake: over HTTP/1.1 (RFC 6455 §4.1) the response head read off
//! the socket (bounded, keeping the frames that may follow it) and checked against the request; over
//! HTTP/2 (RFC 8441) the 200's fields; for both, the permessage-deflate answer. The builder decides what to
//! offer; this file only judges the answer.

use std::io;

use lws_proto::h2::HeaderBlock;
use lws_proto::ws::handshake::{self, HandshakeError};
use lws_proto::ws::pmd::{self, PermessageDeflate, PmdConfig};
use tokio::io::AsyncReadExt;

use super::error::ClientError;
use super::transport::Transport;

/// Most response header lines accepted in the 101 response.
const MAX_RESPONSE_HEADERS: usize = 64;

/// Reads until the end of the response head; returns the head and the bytes read past it.
pub(crate) async fn read_head(
    io: &mut Transport,
    limit: usize,
) -> Result<(Vec<u8>, Vec<u8>), ClientError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = io.read(&mut chunk).await.map_err(ClientError::Io)?;
        if n == 0 {
            return Err(ClientError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let searched_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = find_head_end(&buf[searched_from..]) {
            let end = searched_from + pos;
            if end > limit {
                return Err(ClientError::ResponseTooLarge);
            }
            let leftover = buf.split_off(end);
            return Ok((buf, leftover));
        }
        if buf.len() > limit {
            return Err(ClientError::ResponseTooLarge);
        }
    }
}

/// The offset just past the first `\r\n\r\n`.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses the response head and checks it as the answer to our upgrade request.
pub(crate) fn parse_response(
    head: &[u8],
    key: &str,
    protocols: &[&str],
) -> Result<handshake::ClientAccepted, ClientError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(ClientError::ResponseTooLarge),
        _ => return Err(ClientError::MalformedResponse),
    }
    let status = resp.code.ok_or(ClientError::MalformedResponse)?;
    let fields: Vec<(&str, &[u8])> = resp.headers.iter().map(|h| (h.name, h.value)).collect();
    handshake::check_response(status, &fields, key, protocols).map_err(|e| match e {
        HandshakeError::Status(s) => ClientError::Status(s),
        e => ClientError::Handshake(e),
    })
}

/// The extension the server accepted: `None` without an answer, permessage-deflate as negotiated when it
/// answers our offer, an error when it answers an offer we did not make or breaks RFC 7692.
pub(crate) fn accept_extension(
    answer: Option<&str>,
    offered: bool,
    config: &PmdConfig,
) -> Result<Option<PermessageDeflate>, ClientError> {
    match (answer, offered) {
        (None, _) => Ok(None),
        (Some(_), false) => Err(ClientError::UnofferedExtension),
        (Some(answer), true) => {
            let params = pmd::client_accept(answer, config).map_err(ClientError::Extension)?;
            Ok(Some(PermessageDeflate::new(params, false, config)))
        }
    }
}

/// Checks the 200 to an extended CONNECT: the subprotocol must be one we offered, the extension answer
/// one we can accept. Returns the subprotocol and the negotiated permessage-deflate.
pub(crate) fn check_h2_answer(
    block: &HeaderBlock,
    protocols: &[&str],
    offered: bool,
    config: &PmdConfig,
) -> Result<(Option<String>, Option<PermessageDeflate>), ClientError> {
    let text = |name: &str| {
        block
            .get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let protocol = text("sec-websocket-protocol");
    if let Some(p) = &protocol {
        if !protocols.iter().any(|o| o == p) {
            return Err(ClientError::Handshake(HandshakeError::UnofferedProtocol));
        }
    }
    let codec = accept_extension(text("sec-websocket-extensions").as_deref(), offered, config)?;
    Ok((protocol, codec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end() {
        assert_eq!(find_head_end(b"HTTP/1.1 101 x\r\n\r\nabc"), Some(18));
        assert_eq!(find_head_end(b"HTTP/1.1 101 x\r\n\r"), None);
    }

    #[test]
    fn refusal_is_status() {
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(head, "k", &[]),
            Err(ClientError::Status(400))
        ));
        assert!(matches!(
            parse_response(b"garbage\r\n\r\n", "k", &[]),
            Err(ClientError::MalformedResponse)
        ));
    }

    #[test]
    fn accept_is_checked() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: b\r\n\r\n";
        let ok = parse_response(good, key, &["a", "b"]).unwrap();
        assert_eq!(ok.protocol.as_deref(), Some("b"));
        assert!(matches!(
            parse_response(good, key, &["a"]),
            Err(ClientError::Handshake(HandshakeError::UnofferedProtocol))
        ));
        assert!(matches!(
            parse_response(good, "AAAAAAAAAAAAAAAAAAAAAA==", &["b"]),
            Err(ClientError::Handshake(HandshakeError::BadAccept))
        ));
    }
}
