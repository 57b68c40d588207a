//! Responses built by handlers: status, headers and a body that is whole, streamed, or a file.

use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;

/// A response to send. Framing headers (`content-length`, `transfer-encoding`, `connection`) and `date` /
/// `server` are added by the runtime.
#[derive(Debug)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Body,
}

/// The body of a [`Response`].
#[derive(Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// The whole body at once.
    Full(Bytes),
    /// Pieces produced by another task through a [`BodySender`]; chunked on HTTP/1.1.
    Stream(mpsc::Receiver<Bytes>),
    /// A file sent from disk (length known).
    File(PathBuf),
}

impl Response {
    /// An empty response with this status.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A `text/html; charset=utf-8` response.
    pub fn html(status: u16, body: impl Into<Bytes>) -> Self {
        Response::new(status)
            .header("content-type", "text/html; charset=utf-8")
            .body(body)
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Response::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body)
    }

    /// The small HTML error page the server uses for this status.
    pub fn error(status: u16) -> Self {
        crate::http::error_page::page(status)
    }

    /// A redirect (`301`, `302`, `303`, `307` or `308`) to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        let text = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Moved</title></head><body><p>Moved to \
             <a href=\"{0}\">{0}</a></p></body></html>",
            crate::html_escape(location)
        );
        Response::html(status, text).header("location", location)
    }

    /// A response whose body is produced piece by piece by another task. `capacity` pieces may wait in the
    /// queue; beyond that `BodySender::send` waits, so a slow client slows the producer.
    pub fn stream(status: u16, capacity: usize) -> (Self, BodySender) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Response {
                status,
                headers: Vec::new(),
                body: Body::Stream(rx),
            },
            BodySender { tx },
        )
    }

    /// Adds a header (names are sent lowercase as given; a value with CR, LF or NUL is refused on send).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Sets the whole body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::Full(body.into());
        self
    }

    /// Sends a file from disk as the body.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.body = Body::File(path.into());
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether a header of this name is set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// The producing end of a streamed response body.
#[derive(Debug, Clone)]
pub struct BodySender {
    tx: mpsc::Sender<Bytes>,
}

impl BodySender {
    /// Queues the next piece, waiting while the queue is full. Fails when the client has gone away.
    pub async fn send(&self, data: impl Into<Bytes>) -> Result<(), ClientGone> {
        self.tx.send(data.into()).await.map_err(|_| ClientGone)
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
