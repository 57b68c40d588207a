//! The server side of the TLS handshake, with the port's wait.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

/// Runs the handshake; `None` (logged) when it fails or does not finish within `limit`.
pub(super) async fn handshake<S>(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: S,
    limit: Duration,
    peer: Option<SocketAddr>,
) -> Option<Box<tokio_rustls::server::TlsStream<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(Box::new(s)),
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
