//! A request as handlers see it: the head as received plus its canonical path and connection facts.

use std::net::SocketAddr;

use lws_proto::http1::{RequestHead, Version};
use lws_proto::uri::Target;

/// One HTTP request, with its path already canonicalised (percent-decoded, dot segments removed) so every
/// route sees the same path a file lookup would.
#[derive(Debug)]
pub struct Request {
    pub(crate) head: RequestHead,
    pub(crate) target: Target,
    pub(crate) mountpoint_len: usize,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) tls: bool,
    pub(crate) vhost: std::sync::Arc<str>,
    pub(crate) user: Option<String>,
}

impl Request {
    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        self.head.method()
    }

    /// The canonical path, always starting with `/`.
    pub fn path(&self) -> &str {
        self.target.path()
    }

    /// The part of the path below the mountpoint that matched (libwebsockets passes this as `in`), starting
    /// with `/` or empty when the request was for the mountpoint itself.
    pub fn mount_path(&self) -> &str {
        let p = self.target.path();
        p.get(self.mountpoint_len..).unwrap_or("")
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.query()
    }

    /// The first decoded urlarg with this name.
    pub fn arg(&self, name: &str) -> Option<String> {
        self.target.arg(name)
    }

    /// Every decoded urlarg in order (empty when the query is absent or malformed).
    pub fn args(&self) -> Vec<(String, String)> {
        self.target.args().unwrap_or_default()
    }

    /// The request target exactly as received.
    pub fn raw_target(&self) -> &str {
        self.head.target()
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.head.version()
    }

    /// The first value of a header as text (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header_str(name)
    }

    /// All header lines in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.head.headers()
    }

    /// The peer's address (None for unix sockets).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Whether the request arrived over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The name of the vhost serving the request.
    pub fn vhost(&self) -> &str {
        &self.vhost
    }

    /// The user name that passed basic auth on this mount, if the mount requires it.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The head as parsed by the engine.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// Whether `target` is a path on this server (with an optional query): absolute, and not a URL or a
    /// network-path reference (`//host/...`).
    pub(crate) fn is_local_target(target: &str) -> bool {
        target.starts_with('/') && !target.starts_with("//")
    }

    /// An internal `GET` of `target` on behalf of this request (same connection facts and header fields,
    /// no body), or `None` when `target` is not an origin-form path this server would accept.
    pub(crate) fn redirected(&self, target: &str) -> Option<Request> {
        if !Request::is_local_target(target) {
            return None;
        }
        let parsed = Target::parse(target.as_bytes()).ok()?;
        Some(Request {
            head: self.head.redirected(target),
            target: parsed,
            mountpoint_len: 0,
            peer: self.peer,
            tls: self.tls,
            vhost: self.vhost.clone(),
            user: None,
        })
    }
}
