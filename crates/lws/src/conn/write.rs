//! Writing to a peer that may stall: a write that cannot finish within the I/O timeout ends the connection.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The connection cannot continue (write failed or stalled, file read failed).
#[derive(Debug)]
pub(crate) struct Abort;

/// Writes all of `data` and flushes; fails if the peer does not take it within `limit`.
pub(crate) async fn write_timeout<S: AsyncWrite + Unpin>(
    io: &mut S,
    data: &[u8],
    limit: Duration,
) -> Result<(), Abort> {
    let write = async {
        io.write_all(data).await?;
        io.flush().await
    };
    match stall_limit(write, limit).await {
        Some(r) => r.map_err(|_| Abort),
        None => Err(Abort),
    }
}

/// Runs `op`, which waits for the peer to take bytes; `None` when it is still waiting after `limit`.
pub(crate) async fn stall_limit<F: Future>(op: F, limit: Duration) -> Option<F::Output> {
    tokio::pin!(op);
    // Most writes complete at once; arm the stall timer only for one that has to wait for the peer.
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(op.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(r) => Some(r),
        // Boxed: the timer would otherwise take room in every connection's state, idle or not.
        std::task::Poll::Pending => Box::pin(tokio::time::timeout(limit, op)).await.ok(),
    }
}
