//! Responses built by handlers: status, headers and a body that is whole, streamed, or a file.

use std::borrow::Cow;
use std::path::PathBuf;

use bytes::Bytes;

use super::body::{Body, BodySender};

/// A response to send. Framing headers (`content-length`, `transfer-encoding`, `connection`) and `date` /
/// `server` are added by the runtime.
#[derive(Debug)]
pub struct Response {
    pub(crate) status: u16,
    /// Names lowercase; the same shape as the wire form, so sending a response copies no field.
    pub(crate) headers: Vec<(Cow<'static, str>, Bytes)>,
    pub(crate) body: Body,
    /// A proxied upgrade's origin connection, joined to the client's once this `101` (or HTTP/2 `200`) is
    /// sent.
    pub(crate) tunnel: Option<Box<crate::proxy::OriginTunnel>>,
    /// Serve this local path instead, as a `GET` on the same vhost (a CGI local redirect, RFC 3875 §6.2.2).
    pub(crate) local_redirect: Option<Box<str>>,
}

impl Response {
    /// An empty response with this status.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Body::empty(),
            tunnel: None,
            local_redirect: None,
        }
    }

    /// An answer that is not sent: the server serves `path` (with its query) instead, as a `GET` on the same
    /// vhost with the request's other header fields.
    pub(crate) fn local_redirect(path: &str) -> Self {
        let mut r = Response::new(302);
        r.local_redirect = Some(path.into());
        r
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
        let (tx, body) = Body::channel(capacity);
        (Response::new(status).with_body(body), tx)
    }

    /// Adds a header (names are sent lowercase as given; a value with CR, LF or NUL is refused on send).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers.push((
            Cow::Owned(name.to_ascii_lowercase()),
            Bytes::copy_from_slice(value.as_ref()),
        ));
        self
    }

    /// Sets the whole body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::full(body);
        self
    }

    /// Sets any body: whole, a file, or a [`super::BodySource`] such as a proxied or generated stream.
    pub fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sends a file from disk as the body.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.body = Body::file(path);
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of a header, if set.
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &v[..])
    }

    /// Whether a header of this name is set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}
