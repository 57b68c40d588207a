//! One connection to an origin, whatever protocol it speaks: the enum the pool and the request logic see.
//! HTTP/1.1 is the only variant so far; an HTTP/2 one (chosen by ALPN) slots in beside it.

use std::time::Duration;

use bytes::Bytes;

use super::super::url::WsUrl;
use super::super::ClientError;
use super::h1::H1Connection;
use super::response::{Headers, HttpVersion};

/// Where a connection goes and whom it trusts: connections are shared only between requests with the same
/// origin, so a request never rides a connection whose server certificate it would not have accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) tls: bool,
    /// Lowercased host name or IP literal (IPv6 without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    #[cfg(feature = "tls")]
    pub(crate) trust: super::super::tls::Trust,
}

impl Origin {
    pub(crate) fn new(
        url: &WsUrl,
        #[cfg(feature = "tls")] trust: &super::super::tls::Trust,
    ) -> Origin {
        Origin {
            tls: url.tls,
            host: url.host.to_ascii_lowercase(),
            port: url.port,
            #[cfg(feature = "tls")]
            trust: if url.tls {
                trust.clone()
            } else {
                Default::default()
            },
        }
    }
}

/// How connections are opened and what their engine accepts.
#[derive(Debug, Clone)]
pub(crate) struct ConnectOptions {
    pub(crate) connect_timeout: Duration,
    pub(crate) max_response_head: usize,
}

/// A request ready for the wire: its head fields and whole body.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
    pub(crate) method: String,
    /// Origin-form target (`/path?query`), ASCII.
    pub(crate) target: String,
    pub(crate) host: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Bytes>,
}

impl PreparedRequest {
    /// Whether the method is idempotent (RFC 9110 §9.2.2), so a request lost to a stale connection may be
    /// sent again.
    pub(crate) fn is_idempotent(&self) -> bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]
            .iter()
            .any(|m| self.method.eq_ignore_ascii_case(m))
    }
}

/// The head of a response, protocol-independent.
#[derive(Debug)]
pub(crate) struct ResponseStart {
    pub(crate) status: u16,
    pub(crate) version: HttpVersion,
    pub(crate) headers: Headers,
    /// The body's announced length, when the framing says it.
    pub(crate) content_length: Option<u64>,
    /// The response has no body at all (HEAD, 204, 304, 101, `content-length: 0`).
    pub(crate) bodiless: bool,
}

/// An open connection.
#[derive(Debug)]
pub(crate) enum Connection {
    /// HTTP/1.1: one exchange at a time.
    H1(H1Connection),
}

impl Connection {
    /// Resolves, connects and runs TLS for `https`, within the connect timeout.
    pub(crate) async fn open(
        origin: &Origin,
        opts: &ConnectOptions,
    ) -> Result<Connection, ClientError> {
        match tokio::time::timeout(opts.connect_timeout, H1Connection::open(origin, opts)).await {
            Ok(r) => r.map(Connection::H1),
            Err(_) => Err(ClientError::Timeout),
        }
    }

    /// Sends a request and waits for its response head.
    pub(crate) async fn send(
        &mut self,
        req: &PreparedRequest,
    ) -> Result<ResponseStart, ClientError> {
        match self {
            Connection::H1(c) => c.send(req).await,
        }
    }

    /// The next piece of the current response body; `None` once it is complete.
    pub(crate) async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        match self {
            Connection::H1(c) => c.chunk().await,
        }
    }

    /// Whether another request may be sent now: the last exchange ended and left the connection usable.
    pub(crate) fn is_ready(&self) -> bool {
        match self {
            Connection::H1(c) => c.is_ready(),
        }
    }

    /// Whether an idle connection can no longer be used: the server closed it, reset it, or sent something
    /// nobody asked for. Checked without waiting before reuse.
    pub(crate) fn is_stale(&mut self) -> bool {
        match self {
            Connection::H1(c) => c.is_stale(),
        }
    }
}
