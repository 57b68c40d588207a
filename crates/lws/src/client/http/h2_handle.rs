//! [`H2Handle`]: a cloneable handle to one HTTP/2 connection's task — what the pool keeps and shares, and how
//! requests and WebSocket streams are started on the connection.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use super::super::error::ClientError;
use super::super::transport::Transport;
use super::h2_link::{Cmd, Head, Shared, Tunnelled};
use super::h2_task;
use super::request::PreparedRequest;

/// A cloneable handle to one HTTP/2 connection's task. The task ends when the connection closes, or when
/// every handle is gone and no stream is open.
#[derive(Debug, Clone)]
pub(crate) struct H2Handle {
    /// Where commands go; closed once the task has ended.
    tx: mpsc::UnboundedSender<Cmd>,
    /// What the task publishes.
    shared: Arc<Shared>,
}

impl H2Handle {
    /// Starts the connection task on `io`, where `h2` was agreed (ALPN) or is assumed (prior knowledge).
    pub(crate) fn spawn(io: Transport, tls: bool, idle_timeout: Duration) -> H2Handle {
        let (tx, shared) = h2_task::spawn(io, tls, idle_timeout);
        H2Handle { tx, shared }
    }

    /// Whether new streams may still be opened on this connection (it may be at its stream limit).
    pub(crate) fn is_usable(&self) -> bool {
        self.shared.usable.load(Ordering::Acquire) && !self.tx.is_closed()
    }

    /// Whether a new stream can be opened right now.
    pub(crate) fn has_room(&self) -> bool {
        self.is_usable() && self.shared.room.load(Ordering::Acquire)
    }

    /// Makes the connection hold its origin's connection slot until it ends.
    pub(crate) fn hold(&self, permit: OwnedSemaphorePermit) {
        if let Ok(mut p) = self.shared.permit.lock() {
            *p = Some(permit);
        }
        if !self.is_usable() {
            self.shared.release_slot();
        }
    }

    /// Sends a request (its body whole in `req`, or streamed from `stream`); waits for its response head.
    pub(crate) async fn request(
        &self,
        req: PreparedRequest,
        stream: Option<crate::http::RequestBody>,
    ) -> Result<Head, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Request { req, stream, reply })
            .map_err(|_| ClientError::Http2Refused)?;
        rx.await.unwrap_or(Err(ClientError::Http2Refused))
    }

    /// Opens an RFC 8441 WebSocket stream (`:protocol websocket`) once the server's SETTINGS are known. Fails
    /// with [`ClientError::Http2ConnectUnsupported`] when the server did not enable extended CONNECT.
    pub(crate) async fn websocket(
        &self,
        authority: String,
        path: String,
        fields: Vec<(String, String)>,
    ) -> Result<Tunnelled, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Connect {
                authority,
                path,
                fields,
                reply,
            })
            .map_err(|_| ClientError::Http2Refused)?;
        rx.await.unwrap_or(Err(ClientError::Http2Refused))
    }

    /// Gives `n` bytes of `stream`'s receive window back to the server, as its reader took them.
    pub(crate) fn release(&self, stream: u32, n: usize) {
        let _ = self.tx.send(Cmd::Release(stream, n));
    }

    /// Resets `stream`, whose reader gave up on it.
    pub(crate) fn cancel(&self, stream: u32) {
        let _ = self.tx.send(Cmd::Cancel(stream));
    }
}
