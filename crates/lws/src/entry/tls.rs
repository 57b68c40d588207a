//! The server side of the TLS handshake, with the port's wait.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::tls_stream::Accepted;
use crate::transport::Transport;

/// Runs the handshake on `io`, whose first bytes (`initial`) were read while sniffing; `None` (logged) when
/// it fails or does not finish within `limit`.
pub(super) async fn handshake<S: Transport>(
    config: Arc<rustls::ServerConfig>,
    io: S,
    initial: Bytes,
    limit: Duration,
    peer: Option<SocketAddr>,
) -> Option<Accepted<S>> {
    match tokio::time::timeout(limit, crate::tls_stream::accept(config, io, initial)).await {
        Ok(Ok(accepted)) => Some(accepted),
        Ok(Err(e)) => {
            tracing::debug!(?peer, "tls handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!(?peer, "tls handshake timed out");
            None
        }
    }
}
