//! HTTP/2 error codes and the errors of the engine, each naming whether it ends a stream or the connection.

use std::fmt;

/// An HTTP/2 error code as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reason(pub u32);

impl Reason {
    /// Graceful shutdown or a stream that is no longer needed.
    pub const NO_ERROR: Reason = Reason(0x0);
    /// An unspecific protocol violation.
    pub const PROTOCOL_ERROR: Reason = Reason(0x1);
    /// An unexpected internal failure.
    pub const INTERNAL_ERROR: Reason = Reason(0x2);
    /// The peer violated flow control.
    pub const FLOW_CONTROL_ERROR: Reason = Reason(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub const SETTINGS_TIMEOUT: Reason = Reason(0x4);
    /// A frame arrived for a stream that was already half-closed or closed.
    pub const STREAM_CLOSED: Reason = Reason(0x5);
    /// A frame had an invalid size.
    pub const FRAME_SIZE_ERROR: Reason = Reason(0x6);
    /// The stream was refused before any application processing; the client may retry it.
    pub const REFUSED_STREAM: Reason = Reason(0x7);
    /// The stream is no longer needed.
    pub const CANCEL: Reason = Reason(0x8);
    /// The HPACK state cannot be maintained.
    pub const COMPRESSION_ERROR: Reason = Reason(0x9);
    /// A CONNECT tunnel failed.
    pub const CONNECT_ERROR: Reason = Reason(0xa);
    /// The peer behaves in a way that may be abusive (floods, excessive load).
    pub const ENHANCE_YOUR_CALM: Reason = Reason(0xb);
    /// The transport does not meet minimum security requirements.
    pub const INADEQUATE_SECURITY: Reason = Reason(0xc);
    /// HTTP/1.1 is required for this request.
    pub const HTTP_1_1_REQUIRED: Reason = Reason(0xd);

    /// The RFC's name for this code, or `UNKNOWN`.
    pub fn name(&self) -> &'static str {
        const NAMES: [&str; 14] = [
            "NO_ERROR",
            "PROTOCOL_ERROR",
            "INTERNAL_ERROR",
            "FLOW_CONTROL_ERROR",
            "SETTINGS_TIMEOUT",
            "STREAM_CLOSED",
            "FRAME_SIZE_ERROR",
            "REFUSED_STREAM",
            "CANCEL",
            "COMPRESSION_ERROR",
            "CONNECT_ERROR",
            "ENHANCE_YOUR_CALM",
            "INADEQUATE_SECURITY",
            "HTTP_1_1_REQUIRED",
        ];
        NAMES.get(self.0 as usize).copied().unwrap_or("UNKNOWN")
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:x})", self.name(), self.0)
    }
}

/// A connection error: the engine sent GOAWAY with `reason` and the connection ends (RFC 9113 §5.4.1).
///
/// Sticky: once the engine has failed, it reports the same error and accepts no more input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2Error {
    /// The code sent in our GOAWAY, or received in the peer's.
    pub reason: Reason,
    /// What happened, for logs.
    pub detail: &'static str,
    /// Whether the peer sent the GOAWAY (true) or we did (false).
    pub remote: bool,
}

impl H2Error {
    pub(crate) fn local(reason: Reason, detail: &'static str) -> H2Error {
        H2Error {
            reason,
            detail,
            remote: false,
        }
    }
}

impl fmt::Display for H2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.remote { "peer" } else { "we" };
        write!(
            f,
            "http/2 connection error ({who} sent {}): {}",
            self.reason, self.detail
        )
    }
}

impl std::error::Error for H2Error {}

/// What went wrong while handling one frame: either only its stream is reset, or the connection fails.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// Reset this stream with RST_STREAM and carry on (RFC 9113 §5.4.2).
    Stream(u32, Reason),
    /// Fail the connection with GOAWAY (RFC 9113 §5.4.1).
    Connection(Reason, &'static str),
}

/// Shorthand for a connection error result.
pub(crate) fn conn_err<T>(reason: Reason, detail: &'static str) -> Result<T, FrameError> {
    Err(FrameError::Connection(reason, detail))
}
