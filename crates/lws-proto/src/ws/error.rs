//! Errors of the WebSocket engine, each naming the violation and the close code it calls for.

use std::fmt;

/// Why the WebSocket engine failed a connection (RFC 6455 §7.1.7), or refused a local command.
///
/// Every variant maps to the close code sent to the peer through [`WsError::close_code`]: protocol violations
/// 1002, invalid UTF-8 or undecodable compressed data 1007, a policy violation 1008, oversized frames and
/// messages 1009, an internal failure 1011.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsError {
    /// A frame header set RSV2 or RSV3, or RSV1 where no extension allows it (RFC 6455 §5.2).
    ReservedBits,
    /// A frame with an opcode RFC 6455 reserves (3-7, 0xB-0xF).
    UnknownOpcode,
    /// A client sent a frame without a mask (RFC 6455 §5.1: the server must fail the connection).
    UnmaskedFrame,
    /// A server sent a masked frame (RFC 6455 §5.1: the client must fail the connection).
    MaskedFrame,
    /// A control frame with a payload over 125 bytes (RFC 6455 §5.5).
    ControlTooLong,
    /// A control frame without FIN: control frames cannot be fragmented (RFC 6455 §5.5).
    FragmentedControl,
    /// A continuation frame with no fragmented message in progress (RFC 6455 §5.4).
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is still open (RFC 6455 §5.4).
    ExpectedContinuation,
    /// A 64-bit payload length with the most significant bit set (RFC 6455 §5.2).
    BadLength,
    /// A close frame whose payload is a single byte (RFC 6455 §5.5.1: a body starts with a 2-byte code).
    BadClosePayload,
    /// A close frame carrying a code that is not allowed on the wire (RFC 6455 §7.4).
    InvalidCloseCode,
    /// A text message or close reason that is not UTF-8 (RFC 6455 §8.1).
    InvalidUtf8,
    /// Compressed data that the negotiated extension could not decode (RFC 7692 §8.2.3.5 style failure).
    BadCompressedData,
    /// The application refused the peer's behaviour (policy violation).
    Policy,
    /// One frame's declared payload length exceeds the frame limit.
    FrameTooBig,
    /// A message (reassembled, after decompression) exceeds the message limit.
    MessageTooBig,
    /// The extension failed to compress an outgoing message, or another internal failure.
    Internal,
    /// The peer closed the transport without a closing handshake. Reported only: its code 1006 is never sent.
    ConnectionLost,
}

impl WsError {
    /// The close code our Close frame carries when this error fails the connection (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> u16 {
        use WsError::*;
        match self {
            ReservedBits
            | UnknownOpcode
            | UnmaskedFrame
            | MaskedFrame
            | ControlTooLong
            | FragmentedControl
            | UnexpectedContinuation
            | ExpectedContinuation
            | BadLength
            | BadClosePayload
            | InvalidCloseCode => 1002,
            InvalidUtf8 | BadCompressedData => 1007,
            Policy => 1008,
            FrameTooBig | MessageTooBig => 1009,
            Internal => 1011,
            ConnectionLost => 1006,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use WsError::*;
        let text = match self {
            ReservedBits => "reserved frame header bits set",
            UnknownOpcode => "unknown opcode",
            UnmaskedFrame => "unmasked frame from a client",
            MaskedFrame => "masked frame from a server",
            ControlTooLong => "control frame payload over 125 bytes",
            FragmentedControl => "fragmented control frame",
            UnexpectedContinuation => "continuation frame without a message in progress",
            ExpectedContinuation => "new data frame inside a fragmented message",
            BadLength => "payload length with the top bit set",
            BadClosePayload => "close frame with a 1-byte payload",
            InvalidCloseCode => "invalid close code",
            InvalidUtf8 => "invalid UTF-8 in text",
            BadCompressedData => "undecodable compressed data",
            Policy => "policy violation",
            FrameTooBig => "frame too big",
            MessageTooBig => "message too big",
            Internal => "internal error",
            ConnectionLost => "connection closed without a closing handshake",
        };
        f.write_str(text)
    }
}

impl std::error::Error for WsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sendable() {
        use WsError::*;
        for e in [
            ReservedBits,
            UnknownOpcode,
            UnmaskedFrame,
            MaskedFrame,
            ControlTooLong,
            FragmentedControl,
            UnexpectedContinuation,
            ExpectedContinuation,
            BadLength,
            BadClosePayload,
            InvalidCloseCode,
            InvalidUtf8,
            BadCompressedData,
            Policy,
            FrameTooBig,
            MessageTooBig,
            Internal,
        ] {
            assert!(crate::ws::close::is_valid(e.close_code()), "{e:?}");
            assert!(!e.to_string().is_empty());
        }
        assert!(!crate::ws::close::is_valid(ConnectionLost.close_code()));
    }
}
