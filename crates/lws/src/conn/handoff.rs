//! What a role hands back when its connection (or one of its streams) stops speaking that role's protocol:
//! the connection entry, not the role, starts what comes next, so no role needs to know another.

use bytes::Bytes;
use lws_proto::http1::RequestHead;
use tokio::io::DuplexStream;
use tokio::sync::watch;

use crate::ws::setup::WsSetup;

/// What the connection turns into when it stops speaking HTTP/1.x.
// Moved once per connection; boxing the WebSocket setup would cost every upgrade an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Handoff {
    /// A WebSocket upgrade's 101 went out.
    Ws(WsSetup),
    /// HTTP/2 by `Upgrade: h2c`.
    H2(Box<H2cUpgrade>),
    /// A proxied WebSocket: joined to the origin's connection.
    Proxy(Box<crate::proxy::OriginTunnel>),
}

/// An HTTP/1.1 request with `Upgrade: h2c` that was answered 101: it becomes stream 1.
pub(crate) struct H2cUpgrade {
    pub(crate) head: RequestHead,
    /// The decoded `HTTP2-Settings` of the request.
    pub(crate) settings: Vec<u8>,
}

/// How a connection became HTTP/2.
pub(crate) enum H2Start {
    /// TLS with ALPN `h2`, or cleartext whose first bytes (`initial`) were the client preface.
    Direct { initial: Bytes },
    /// `Upgrade: h2c`, with the bytes read past the upgraded request (they belong to HTTP/2).
    Upgrade {
        upgrade: H2cUpgrade,
        leftover: Bytes,
    },
}

/// Starts the WebSocket that an HTTP/2 stream carries (RFC 8441) on its own task, at the far end of the
/// stream's pipe. The HTTP/2 role gets it from the connection entry.
pub(crate) type SpawnTunnel = fn(DuplexStream, WsSetup, watch::Receiver<bool>);

/// A connection whose role ended by handing it over: the stream, the bytes read past the role's last
/// message, what comes next, and the connection facts.
pub(crate) struct Switched<S> {
    pub(crate) io: S,
    pub(crate) leftover: Bytes,
    pub(crate) handoff: Handoff,
    pub(crate) info: super::ConnInfo,
}
