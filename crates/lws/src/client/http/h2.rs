//! HTTP/2 client connections: a background task owns the socket and the `lws_proto::h2::H2Conn` engine and
//! multiplexes streams over it; requests and WebSocket tunnels (RFC 8441) reach it through a cloneable
//! [`H2Handle`].
//!
//! Each request is a command over an mpsc channel; its response head comes back through a oneshot and its
//! body pieces through a channel of its own. Every stream's receive window is under manual release: window
//! is given back only as [`H2Connection::chunk`] hands pieces to the reader, so a slow reader throttles the
//! server (libwebsockets' "h2 rx flow control"). Request bodies go to the engine in pieces, topped up while
//! little is queued on the stream.
//!
//! Layout, top to bottom: this file ([`H2Connection`], one exchange at a time, as the protocol-independent
//! connection sees HTTP/2), `h2_handle` ([`H2Handle`]), `h2_task` (the task and the engine), `h2_link` (the
//! commands and replies between handles and task).

use bytes::Bytes;
use tokio::sync::mpsc;

use super::super::error::ClientError;
use super::h2_handle::H2Handle;
use super::h2_link::Piece;
use super::head::ResponseStart;
use super::request::PreparedRequest;

/// One request at a time over a shared HTTP/2 connection: what [`super::connection::Connection::H2`] holds.
#[derive(Debug)]
pub(crate) struct H2Connection {
    /// The connection.
    handle: H2Handle,
    /// The exchange in progress, if any.
    current: Option<Current>,
    /// The trailer section of the last response, once its body ended.
    trailers: Option<Vec<(String, Bytes)>>,
}

/// The stream of the exchange in progress.
#[derive(Debug)]
struct Current {
    /// Its id, to give window back on and to cancel.
    stream: u32,
    /// Its body, until the end or a failure.
    body: Option<mpsc::UnboundedReceiver<Piece>>,
}

impl H2Connection {
    /// An exchange on the connection of `handle`, nothing sent yet.
    pub(crate) fn new(handle: H2Handle) -> H2Connection {
        H2Connection {
            handle,
            current: None,
            trailers: None,
        }
    }

    /// The connection this exchange rides.
    pub(crate) fn handle(&self) -> &H2Handle {
        &self.handle
    }

    /// Opens a stream with the request and waits for its response head.
    pub(crate) async fn send(
        &mut self,
        req: &PreparedRequest,
    ) -> Result<ResponseStart, ClientError> {
        self.send_streaming(req.clone(), None).await
    }

    /// Opens a stream with the request, its body streamed from `stream` when given, and waits for its
    /// response head.
    pub(crate) async fn send_streaming(
        &mut self,
        req: PreparedRequest,
        stream: Option<crate::http::RequestBody>,
    ) -> Result<ResponseStart, ClientError> {
        self.cancel_current();
        self.trailers = None;
        let head = self.handle.request(req, stream).await?;
        self.current = Some(Current {
            stream: head.stream,
            body: head.body,
        });
        Ok(head.start)
    }

    /// The next piece of the response body (its window is given back to the server now).
    pub(crate) async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        let current = self.current.as_mut()?;
        let body = current.body.as_mut()?;
        let mut piece = body.recv().await;
        if let Some(Piece::Trailers(t)) = piece {
            self.trailers = Some(t);
            piece = body.recv().await;
        }
        match piece {
            Some(Piece::Data(d)) => {
                self.handle.release(current.stream, d.len());
                Some(Ok(d))
            }
            Some(Piece::End) => {
                current.body = None;
                None
            }
            Some(Piece::Trailers(_)) => Some(Err(ClientError::Http2("trailers twice".into()))),
            Some(Piece::Failed(e)) => {
                current.body = None;
                Some(Err(e))
            }
            None => {
                current.body = None;
                Some(Err(ClientError::Http2("the connection closed".into())))
            }
        }
    }

    /// The trailer section of the response whose body just ended, if it had one.
    pub(crate) fn take_trailers(&mut self) -> Option<Vec<(String, Bytes)>> {
        self.trailers.take()
    }

    /// Whether the exchange is over and the connection can carry more.
    pub(crate) fn is_ready(&self) -> bool {
        self.current.as_ref().is_none_or(|c| c.body.is_none()) && self.handle.is_usable()
    }

    /// Resets the stream of an exchange whose body was not read to the end, so the server stops sending it.
    fn cancel_current(&mut self) {
        if let Some(c) = self.current.take() {
            if c.body.is_some() {
                self.handle.cancel(c.stream);
            }
        }
    }
}

impl Drop for H2Connection {
    fn drop(&mut self) {
        self.cancel_current();
    }
}
