//! [`Message`]: what the WebSocket client sends and receives, one whole message or control frame at a time,
//! so applications never see fragments.

use bytes::Bytes;

/// One WebSocket message, sent or received.
///
/// The stream of a [`WebSocket`](super::WebSocket) yields `Text` and `Binary` messages, then, after the
/// closing handshake, one `Close` with the server's code and reason, then ends. Pings are answered
/// automatically and neither `Ping` nor `Pong` appears in the stream. All variants can be sent:
/// `Ping`/`Pong` send those control frames (at most 125 bytes), `Close` starts the closing handshake with
/// that code (`None`: a Close without a body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A Ping control frame.
    Ping(Bytes),
    /// A Pong control frame.
    Pong(Bytes),
    /// A Close frame: its code and reason, or `None` when it had no body.
    Close(Option<(u16, String)>),
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.to_string())
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Message::Binary(Bytes::from(v))
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}
