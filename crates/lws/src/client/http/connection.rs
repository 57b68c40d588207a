//! One connection to an origin, whatever protocol it speaks: the enum the pool and the request logic see.
//! HTTP/1.1 ([`H1Connection`], one exchange at a time) or HTTP/2 ([`H2Connection`], one stream of a shared
//! connection), chosen by ALPN for `https` or by prior knowledge for `http`.

use std::time::Duration;

use bytes::Bytes;

use super::super::dial::connect_transport;
use super::super::error::ClientError;
use super::super::origin::Origin;
use super::h1::H1Connection;
use super::h2::H2Connection;
use super::h2_handle::H2Handle;
use super::head::ResponseStart;
use super::request::PreparedRequest;

/// How connections are opened and what their engine accepts.
#[derive(Debug, Clone)]
pub(crate) struct ConnectOptions {
    /// Time allowed for resolving, connecting and TLS.
    pub(crate) connect_timeout: Duration,
    /// Largest HTTP/1.1 response head accepted.
    pub(crate) max_response_head: usize,
    /// An HTTP/2 connection without streams for this long goes away.
    pub(crate) idle_timeout: Duration,
}

/// An open connection.
#[derive(Debug)]
pub(crate) enum Connection {
    /// HTTP/1.1: one exchange at a time.
    H1(Box<H1Connection>),
    /// HTTP/2: this exchange's stream on a connection other requests may share.
    H2(H2Connection),
}

impl Connection {
    /// Resolves, connects and runs TLS for `https`, within the connect timeout.
    pub(crate) async fn open(
        origin: &Origin,
        opts: &ConnectOptions,
    ) -> Result<Connection, ClientError> {
        let (io, h2) =
            match tokio::time::timeout(opts.connect_timeout, connect_transport(origin)).await {
                Ok(r) => r?,
                Err(_) => return Err(ClientError::Timeout),
            };
        Ok(if h2 {
            Connection::H2(H2Connection::new(H2Handle::spawn(
                io,
                origin.tls,
                opts.idle_timeout,
            )))
        } else {
            Connection::H1(Box::new(H1Connection::new(io, opts.max_response_head)))
        })
    }

    /// Sends a request and waits for its response head.
    pub(crate) async fn send(
        &mut self,
        req: &PreparedRequest,
    ) -> Result<ResponseStart, ClientError> {
        match self {
            Connection::H1(c) => c.send(req).await,
            Connection::H2(c) => c.send(req).await,
        }
    }

    /// The next piece of the current response body; `None` once it is complete.
    pub(crate) async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        match self {
            Connection::H1(c) => c.chunk().await,
            Connection::H2(c) => c.chunk().await,
        }
    }

    /// The trailer section of the response whose body just ended, if it had one.
    pub(crate) fn take_trailers(&mut self) -> Option<Vec<(String, Bytes)>> {
        match self {
            Connection::H1(c) => c.take_trailers().map(|t| t.fields),
            Connection::H2(c) => c.take_trailers(),
        }
    }

    /// Whether another request may be sent now: the last exchange ended and left the connection usable.
    pub(crate) fn is_ready(&self) -> bool {
        match self {
            Connection::H1(c) => c.is_ready(),
            Connection::H2(c) => c.is_ready(),
        }
    }

    /// Whether an idle connection can no longer be used: the server closed it, reset it, or sent something
    /// nobody asked for. Checked without waiting before reuse.
    pub(crate) fn is_stale(&mut self) -> bool {
        match self {
            Connection::H1(c) => c.is_stale(),
            Connection::H2(c) => !c.handle().is_usable(),
        }
    }
}
