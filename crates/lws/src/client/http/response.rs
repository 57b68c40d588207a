//! [`HttpResponse`]: status, headers, and the body read as a stream or whole.

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::super::error::ClientError;
use super::head::{HttpVersion, ResponseStart};
use super::headers::Headers;
use super::pool::Checkout;

/// A response whose head has arrived; the body is read with [`HttpResponse::chunk`] (streaming) or
/// [`HttpResponse::bytes`] / [`HttpResponse::text`] (whole, bounded by
/// [`super::HttpRequestBuilder::max_body`]).
///
/// The connection stays with the response until its body has been read to the end; then a keep-alive
/// connection goes back to its [`super::HttpClient`] for the next request. Dropping a response before the end
/// closes the connection (the rest of the body is not read).
pub struct HttpResponse {
    /// See [`HttpResponse::status`].
    status: u16,
    /// See [`HttpResponse::version`].
    version: HttpVersion,
    /// See [`HttpResponse::headers`].
    headers: Headers,
    /// See [`HttpResponse::url`].
    url: String,
    /// See [`HttpResponse::content_length`].
    content_length: Option<u64>,
    /// The connection, while the body is not completely read.
    body: Option<Checkout>,
    /// When the request's timeout expires, if it has one: reading the body counts too.
    deadline: Option<tokio::time::Instant>,
    /// The limit of [`HttpResponse::bytes`].
    max_body: usize,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// The response whose head `start` arrived on `conn`; a bodiless one frees the connection at once.
    pub(crate) fn new(
        start: ResponseStart,
        conn: Checkout,
        url: String,
        deadline: Option<tokio::time::Instant>,
        max_body: usize,
    ) -> HttpResponse {
        HttpResponse {
            status: start.status,
            version: start.version,
            headers: start.headers,
            url,
            content_length: start.content_length,
            // A response without a body is complete: its connection is free at once.
            body: (!start.bodiless).then_some(conn),
            deadline,
            max_body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The protocol version of the response.
    pub fn version(&self) -> HttpVersion {
        self.version
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The first value of a header field (case-insensitive name), if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The URL that answered: the requested one, or where the redirects led.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body length the server announced (`Content-Length`), if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The next piece of the body as it arrives; `None` at its end. Not bounded by `max_body`: the caller
    /// decides how much to keep. An error ends the body (and the connection).
    pub async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        let conn = self.body.as_mut()?.conn();
        let next = match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, conn.chunk())
                .await
                .unwrap_or(Some(Err(ClientError::RequestTimeout))),
            None => conn.chunk().await,
        };
        if !matches!(next, Some(Ok(_))) {
            // The body ended (a keep-alive connection goes back to the pool) or failed (it is closed).
            self.body = None;
        }
        next
    }

    /// The whole body, at most `max_body` bytes ([`ClientError::BodyTooLarge`] beyond; an announced length
    /// over the limit fails before anything is read).
    pub async fn bytes(mut self) -> Result<Bytes, ClientError> {
        let limit = self.max_body;
        if self.content_length.is_some_and(|n| n > limit as u64) {
            return Err(ClientError::BodyTooLarge { limit });
        }
        let mut whole: Option<Bytes> = None;
        let mut acc = BytesMut::new();
        while let Some(piece) = self.chunk().await {
            let piece = piece?;
            let len = whole.as_ref().map_or(0, Bytes::len) + acc.len() + piece.len();
            if len > limit {
                return Err(ClientError::BodyTooLarge { limit });
            }
            // A body that arrives in one piece is returned as it is, without a copy.
            match whole.take() {
                None if acc.is_empty() => whole = Some(piece),
                None => acc.extend_from_slice(&piece),
                Some(first) => {
                    acc.extend_from_slice(&first);
                    acc.extend_from_slice(&piece);
                }
            }
        }
        Ok(whole.unwrap_or_else(|| acc.freeze()))
    }

    /// The whole body as text (invalid UTF-8 replaced by U+FFFD), bounded like [`HttpResponse::bytes`].
    pub async fn text(self) -> Result<String, ClientError> {
        let b = self.bytes().await?;
        Ok(match String::from_utf8(b.to_vec()) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Reads and discards the rest of a small body so its connection can be reused; a larger one is left
    /// unread and its connection closed.
    pub(crate) async fn discard(mut self, up_to: usize) {
        let mut seen = 0;
        while let Some(Ok(piece)) = self.chunk().await {
            seen += piece.len();
            if seen > up_to {
                return;
            }
        }
    }
}
