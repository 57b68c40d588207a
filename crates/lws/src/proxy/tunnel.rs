//! A proxied WebSocket after the origin's `101`: the client's connection (or HTTP/2 stream pipe) and the
//! origin's connection are joined byte for byte until either side ends, or the server shuts down.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::client::transport::Transport;

/// The origin's side of an upgraded connection: its socket and the bytes it sent behind its `101`.
pub(crate) struct OriginTunnel {
    pub(crate) io: Transport,
    pub(crate) leftover: Bytes,
}

impl std::fmt::Debug for OriginTunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OriginTunnel({} bytes waiting)", self.leftover.len())
    }
}

/// Joins `client` (with `client_leftover`, bytes it sent behind its upgrade request) to the origin until
/// one side closes or the server shuts down.
pub(crate) async fn join<C>(
    mut client: C,
    client_leftover: Bytes,
    tunnel: OriginTunnel,
    mut shutdown: watch::Receiver<bool>,
) where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let OriginTunnel {
        io: mut origin,
        leftover,
    } = tunnel;
    let run = async {
        client.write_all(&leftover).await?;
        origin.write_all(&client_leftover).await?;
        // Each direction runs until its own end: when the origin stops taking data (it refused a message and
        // closed), what it still sends (its Close frame) keeps flowing to the client, and the other way round.
        let (mut client_rx, mut client_tx) = tokio::io::split(client);
        let (mut origin_rx, mut origin_tx) = tokio::io::split(origin);
        let up = async {
            let r = tokio::io::copy(&mut client_rx, &mut origin_tx).await;
            let _ = origin_tx.shutdown().await;
            r
        };
        let down = async {
            let r = tokio::io::copy(&mut origin_rx, &mut client_tx).await;
            let _ = client_tx.shutdown().await;
            r
        };
        let (up, down) = tokio::join!(up, down);
        up.and(down).map(|_| ())
    };
    tokio::select! {
        r = run => {
            if let Err(e) = r {
                tracing::debug!("proxied websocket: {e}");
            }
        }
        _ = shutdown.wait_for(|down| *down) => {}
    }
}
