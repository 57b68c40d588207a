//! The body model shared by responses, request bodies and the proxy: a [`BodySource`] yields [`Frame`]s
//! (data, then optionally trailers) or a [`BodyError`] that aborts the message, and is polled only when the
//! receiving side has room, so a slow reader slows the producer.

use std::borrow::Cow;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Header fields sent after a body (HTTP/1.1 chunked trailers, an HTTP/2 trailing HEADERS frame).
pub type Trailers = Vec<(String, Vec<u8>)>;

/// One piece of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Body bytes.
    Data(Bytes),
    /// The trailer section; it ends the body.
    Trailers(Trailers),
}

/// Why a body ended before it was complete. The message it belonged to is aborted: an HTTP/1.1 connection
/// is closed without the end of the body, an HTTP/2 stream is reset, so a truncated body never looks whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    reason: Cow<'static, str>,
}

impl BodyError {
    /// An error with this reason (it is logged, never sent to the peer).
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        BodyError {
            reason: reason.into(),
        }
    }

    /// The reason given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "body aborted: {}", self.reason)
    }
}

impl std::error::Error for BodyError {}

/// Something that produces a body frame by frame, like hyper's `Body::poll_frame`.
///
/// `Ready(None)` ends the body normally; `Ready(Some(Err(_)))` aborts it. The runtime polls again only
/// when the connection can take more, so a source never needs to buffer ahead of its reader.
pub trait BodySource: Send + 'static {
    /// The next frame, or `None` at the end.
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>>;

    /// The exact length of the data still to come, when known: it becomes the `content-length`.
    fn exact_len(&self) -> Option<u64> {
        None
    }

    /// Whether the body is an open-ended stream that lasts as long as the client stays (Server-Sent
    /// Events, long poll). An HTTP/1 client that closes its sending side during such a body is taken as
    /// gone and the body is dropped at once, so its producer learns it (a half-closed HTTP/1 client of an
    /// ordinary body still gets the whole answer). A wrapper of another source passes this on.
    fn open_ended(&self) -> bool {
        false
    }
}

/// The body of a [`super::Response`]: empty, whole, a file, or frames from a [`BodySource`].
pub struct Body {
    pub(crate) kind: BodyKind,
}

/// What a [`Body`] holds.
pub(crate) enum BodyKind {
    Empty,
    Full(Bytes),
    File(PathBuf),
    Source(Pin<Box<dyn BodySource>>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("Body::Empty"),
            BodyKind::Full(b) => write!(f, "Body::Full({} bytes)", b.len()),
            BodyKind::File(p) => write!(f, "Body::File({})", p.display()),
            BodyKind::Source(_) => f.write_str("Body::Source"),
        }
    }
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body {
            kind: BodyKind::Empty,
        }
    }

    /// The whole body at once.
    pub fn full(data: impl Into<Bytes>) -> Body {
        Body {
            kind: BodyKind::Full(data.into()),
        }
    }

    /// A file sent from disk (its length becomes the `content-length`).
    pub fn file(path: impl Into<PathBuf>) -> Body {
        Body {
            kind: BodyKind::File(path.into()),
        }
    }

    /// Frames from a source, sent as it produces them (chunked on HTTP/1.1 unless it knows its length).
    pub fn from_source(source: impl BodySource) -> Body {
        Body {
            kind: BodyKind::Source(Box::pin(source)),
        }
    }

    /// A body fed by another task through the returned [`BodySender`]; `capacity` frames may wait in the
    /// queue, beyond that [`BodySender::send`] waits.
    pub fn channel(capacity: usize) -> (BodySender, Body) {
        Body::channel_with_length(capacity, None)
    }

    /// [`Body::channel`] for a body whose length is known up front: it is sent as the `content-length`,
    /// and a body that turns out longer or shorter is aborted rather than sent wrong.
    pub fn channel_with_length(capacity: usize, length: Option<u64>) -> (BodySender, Body) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let source = ChannelSource {
            rx,
            ended: false,
            length,
        };
        (BodySender { tx }, Body::from_source(source))
    }

    /// Whether this is the empty body.
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, BodyKind::Empty)
    }
}

/// What a [`BodySender`] passes to its body.
enum Message {
    Frame(Frame),
    Abort(BodyError),
}

/// The producing end of [`Body::channel`]. Dropping it ends the body normally; [`BodySender::abort`] ends
/// it as failed.
#[derive(Debug, Clone)]
pub struct BodySender {
    tx: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Frame(fr) => fr.fmt(f),
            Message::Abort(e) => e.fmt(f),
        }
    }
}

impl BodySender {
    /// Queues the next piece, waiting while the queue is full. Fails when the client has gone away.
    pub async fn send(&self, data: impl Into<Bytes>) -> Result<(), ClientGone> {
        self.send_frame(Frame::Data(data.into())).await
    }

    /// Ends the body with trailers (sent on HTTP/2 and on chunked HTTP/1.1; dropped otherwise).
    pub async fn send_trailers(self, trailers: Trailers) -> Result<(), ClientGone> {
        self.send_frame(Frame::Trailers(trailers)).await
    }

    /// Aborts the body: the client sees a failed response, never a short one that looks complete.
    pub async fn abort(self, error: BodyError) {
        let _ = self.tx.send(Message::Abort(error)).await;
    }

    async fn send_frame(&self, frame: Frame) -> Result<(), ClientGone> {
        self.tx
            .send(Message::Frame(frame))
            .await
            .map_err(|_| ClientGone)
    }
}

/// The body half of [`Body::channel`].
struct ChannelSource {
    rx: mpsc::Receiver<Message>,
    ended: bool,
    length: Option<u64>,
}

impl BodySource for ChannelSource {
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        Poll::Ready(match std::task::ready!(self.rx.poll_recv(cx)) {
            None => None,
            Some(Message::Frame(f)) => {
                self.ended = matches!(f, Frame::Trailers(_));
                Some(Ok(f))
            }
            Some(Message::Abort(e)) => {
                self.ended = true;
                Some(Err(e))
            }
        })
    }

    fn exact_len(&self) -> Option<u64> {
        self.length
    }
}

/// The connection that would have carried a response is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientGone;

impl std::fmt::Display for ClientGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the client connection is gone")
    }
}

impl std::error::Error for ClientGone {}
