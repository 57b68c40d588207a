//! The link between an HTTP/2 connection's task and its handles: the commands a handle sends ([`Cmd`]),
//! what comes back ([`Head`], [`Piece`], [`Tunnelled`]), and what the task publishes for the pool to read
//! without asking it ([`Shared`]). Both sides import this file and neither imports the other's internals.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use bytes::Bytes;
use lws_proto::h2::HeaderBlock;
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use super::super::error::ClientError;
use super::head::ResponseStart;
use super::request::PreparedRequest;

/// A piece of a response body as the connection task delivers it.
#[derive(Debug)]
pub(crate) enum Piece {
    /// The next bytes of the body.
    Data(Bytes),
    /// The body is complete.
    End,
    /// The trailer section that ended the body (an `End` follows).
    Trailers(Vec<(String, Bytes)>),
    /// The stream or the connection failed before the end.
    Failed(ClientError),
}

/// A response head and where its body comes from.
#[derive(Debug)]
pub(crate) struct Head {
    /// The response head.
    pub(crate) start: ResponseStart,
    /// The stream the response came on, to give window back on and to cancel.
    pub(crate) stream: u32,
    /// `None` for a response without a body.
    pub(crate) body: Option<mpsc::UnboundedReceiver<Piece>>,
}

/// An accepted extended CONNECT: the server's 200 and the local end of the stream's pipe.
pub(crate) type Tunnelled = (HeaderBlock, DuplexStream);

/// What a handle asks of the connection task.
pub(crate) enum Cmd {
    /// Open a stream with this request and answer with its response head.
    Request {
        /// The request.
        req: PreparedRequest,
        /// A body streamed from a reader (a proxied upload) instead of `req.body`.
        stream: Option<crate::http::RequestBody>,
        /// Where the response head (or why there is none) goes.
        reply: oneshot::Sender<Result<Head, ClientError>>,
    },
    /// Open an RFC 8441 WebSocket stream and answer with its pipe.
    Connect {
        /// `:authority`.
        authority: String,
        /// `:path`.
        path: String,
        /// The other header fields of the extended CONNECT.
        fields: Vec<(String, String)>,
        /// Where the accepted stream (or why it was refused) goes.
        reply: oneshot::Sender<Result<Tunnelled, ClientError>>,
    },
    /// The reader took this many bytes of this stream's body: give the window back.
    Release(u32, usize),
    /// The reader gave up on this stream: reset it.
    Cancel(u32),
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

/// Answers a command that never opened a stream: the server did not see it.
pub(crate) fn refuse(cmd: Cmd) {
    match cmd {
        Cmd::Request { reply, .. } => {
            let _ = reply.send(Err(ClientError::Http2Refused));
        }
        Cmd::Connect { reply, .. } => {
            let _ = reply.send(Err(ClientError::Http2Refused));
        }
        Cmd::Release(..) | Cmd::Cancel(_) => {}
    }
}

/// What the pool reads about a connection without asking its task.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Not failed, closed, or going away.
    pub(crate) usable: AtomicBool,
    /// Another stream may be opened now (`H2Conn::can_open_stream`).
    pub(crate) room: AtomicBool,
    /// The connection slot of its origin this connection occupies, released when the task ends.
    pub(crate) permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Shared {
    /// A new connection: usable, with room, holding no slot yet.
    pub(crate) fn new() -> Shared {
        Shared {
            usable: AtomicBool::new(true),
            room: AtomicBool::new(true),
            permit: Mutex::new(None),
        }
    }

    /// Gives the origin's connection slot back, so that another connection may be opened in its place.
    pub(crate) fn release_slot(&self) {
        if let Ok(mut p) = self.permit.lock() {
            p.take();
        }
    }
}
