//! [`HttpClient`]: the public handle to a pool of connections, and where pooled requests and WebSockets are
//! started. It sits above both builders so that they depend only on the pool, not on the handle that makes
//! them.

use std::sync::Arc;
use std::time::Duration;

use super::super::builder::WsClientBuilder;
use super::builder::HttpRequestBuilder;
use super::pool::{Pool, PoolSettings, DEFAULT_IDLE_TIMEOUT};

/// Default [`HttpClientBuilder::max_connections_per_origin`]: 6, as browsers do for HTTP/1.1.
pub const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN: usize = 6;

/// An HTTP client that reuses connections: a cheap, cloneable handle (clones share one pool).
///
/// Idle keep-alive connections are kept per origin (scheme, host, port, and the TLS trust settings of the
/// request) and reused by later requests; a connection found closed by the server is replaced. At most
/// [`HttpClientBuilder::max_connections_per_origin`] connections to one origin are open at a time; further
/// requests wait in line (first come, first served) until a connection is free.
///
/// HTTP/2 (ALPN `h2` on `https`, or [`HttpClientBuilder::http2_prior_knowledge`] on `http`): a live HTTP/2
/// connection with room for another stream is shared by every request to its origin, concurrent ones
/// included, and takes a single connection slot. While the first connection to such an origin is being
/// opened, concurrent requests wait for it rather than opening their own. A connection that goes away
/// (GOAWAY) or fails is no longer used; requests it refused are sent again once on a new connection when
/// their method is idempotent.
///
/// ```no_run
/// # async fn demo() -> Result<(), lws::client::ClientError> {
/// let client = lws::client::HttpClient::new();
/// for path in ["/a", "/b", "/c"] {
///     let body = client.request(&format!("http://127.0.0.1:7681{path}")).send().await?.bytes().await?;
///     println!("{path}: {} bytes", body.len());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// The connections, shared by the clones and by the builders made from them.
    pool: Arc<Pool>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client with the default settings.
    pub fn new() -> HttpClient {
        HttpClient::builder().build()
    }

    /// Settings for a client.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder {
            max_per_origin: DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            http1_only: false,
            h2_prior_knowledge: false,
        }
    }

    /// Starts building a request (GET unless changed) sent through this client's connections.
    pub fn request(&self, url: &str) -> HttpRequestBuilder {
        HttpRequestBuilder::new(Some(self.pool.clone()), url)
    }

    /// Starts building a WebSocket connection whose HTTP/2 connections (with
    /// [`WsClientBuilder::http2`]) come from this client's pool: several WebSockets, and HTTP requests, to
    /// one origin then share one HTTP/2 connection. HTTP/1.1 upgrades still use a connection of their own.
    pub fn ws(&self, url: &str) -> WsClientBuilder {
        WsClientBuilder::new(url).with_pool(self.pool.clone())
    }

    /// Number of idle HTTP/1.1 connections currently kept, over all origins.
    pub fn idle_connections(&self) -> usize {
        self.pool.idle_connections()
    }

    /// Number of live HTTP/2 connections currently kept, over all origins.
    pub fn http2_connections(&self) -> usize {
        self.pool.http2_connections()
    }
}

/// The settings of an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    /// See [`HttpClientBuilder::max_connections_per_origin`].
    max_per_origin: usize,
    /// See [`HttpClientBuilder::idle_timeout`].
    idle_timeout: Duration,
    /// See [`HttpClientBuilder::http1_only`].
    http1_only: bool,
    /// See [`HttpClientBuilder::http2_prior_knowledge`].
    h2_prior_knowledge: bool,
}

impl HttpClientBuilder {
    /// Most connections open to one origin at a time (at least 1); default 6. Requests beyond wait.
    pub fn max_connections_per_origin(mut self, n: usize) -> Self {
        self.max_per_origin = n.max(1);
        self
    }

    /// How long an idle connection is kept for reuse; default 30 s. (A connection the server closed sooner
    /// is noticed before reuse and replaced.)
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Requests default to HTTP/1.1 only: `https` offers ALPN `http/1.1` alone (see
    /// [`HttpRequestBuilder::http1_only`]).
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self
    }

    /// `http://` requests default to HTTP/2 with prior knowledge (h2c, see
    /// [`HttpRequestBuilder::http2_prior_knowledge`]).
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.h2_prior_knowledge = true;
        self
    }

    /// Builds the client.
    pub fn build(self) -> HttpClient {
        HttpClient {
            pool: Arc::new(Pool::new(PoolSettings {
                max_per_origin: self.max_per_origin,
                idle_timeout: self.idle_timeout,
                http1_only: self.http1_only,
                h2_prior_knowledge: self.h2_prior_knowledge,
            })),
        }
    }
}
