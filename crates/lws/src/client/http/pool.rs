//! [`HttpClient`]: keep-alive connections kept per origin and reused, with a cap on concurrent connections
//! per origin beyond which requests queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::super::ClientError;
use super::builder::HttpRequestBuilder;
use super::connection::{ConnectOptions, Connection, Origin};

/// Default [`HttpClientBuilder::max_connections_per_origin`]: 6, as browsers do for HTTP/1.1.
pub const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN: usize = 6;
/// Default [`HttpClientBuilder::idle_timeout`]: 30 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP client that reuses connections: a cheap, cloneable handle (clones share one pool).
///
/// Idle keep-alive connections are kept per origin (scheme, host, port, and the TLS trust settings of the
/// request) and reused by later requests; a connection found closed by the server is replaced. At most
/// [`HttpClientBuilder::max_connections_per_origin`] connections to one origin are open at a time; further
/// requests wait in line (first come, first served) until a connection is free.
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
    pub(crate) pool: Arc<Pool>,
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
        }
    }

    /// Starts building a request (GET unless changed) sent through this client's connections.
    pub fn request(&self, url: &str) -> HttpRequestBuilder {
        HttpRequestBuilder::new(Some(self.clone()), url)
    }

    /// Number of idle connections currently kept, over all origins.
    pub fn idle_connections(&self) -> usize {
        self.pool.lock().values().map(|o| o.idle.len()).sum()
    }
}

/// The settings of an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    max_per_origin: usize,
    idle_timeout: Duration,
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

    /// Builds the client.
    pub fn build(self) -> HttpClient {
        HttpClient {
            pool: Arc::new(Pool {
                max_per_origin: self.max_per_origin,
                idle_timeout: self.idle_timeout,
                origins: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// The connections of one client.
#[derive(Debug)]
pub(crate) struct Pool {
    max_per_origin: usize,
    idle_timeout: Duration,
    origins: Mutex<HashMap<Origin, OriginSlots>>,
}

/// One origin's connection slots and idle connections.
#[derive(Debug)]
struct OriginSlots {
    /// One permit per connection that may be in use; held by a [`Checkout`] for its whole life.
    permits: Arc<Semaphore>,
    /// Idle connections and when they became idle, most recent last.
    idle: Vec<(Connection, Instant)>,
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Origin, OriginSlots>> {
        // A panic while holding the lock leaves only plain data behind; keep using it.
        self.origins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection to `origin`: waits for a free slot, then reuses the most recently idle live connection
    /// or opens a new one.
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        origin: &Origin,
        opts: &ConnectOptions,
    ) -> Result<Checkout, ClientError> {
        let permits = self
            .lock()
            .entry(origin.clone())
            .or_insert_with(|| OriginSlots {
                permits: Arc::new(Semaphore::new(self.max_per_origin)),
                idle: Vec::new(),
            })
            .permits
            .clone();
        // The semaphore is never closed.
        let permit = permits
            .acquire_owned()
            .await
            .map_err(|_| ClientError::Closed)?;
        let lease = Lease {
            pool: self.clone(),
            origin: origin.clone(),
            _permit: permit,
        };
        loop {
            let idle = self
                .lock()
                .get_mut(origin)
                .and_then(|slots| slots.idle.pop());
            match idle {
                Some((mut conn, since)) => {
                    if since.elapsed() < self.idle_timeout && !conn.is_stale() {
                        return Ok(Checkout {
                            conn: Some(conn),
                            lease: Some(lease),
                            reused: true,
                        });
                    }
                }
                None => break,
            }
        }
        let conn = Connection::open(origin, opts).await?;
        Ok(Checkout {
            conn: Some(conn),
            lease: Some(lease),
            reused: false,
        })
    }

    fn put_idle(&self, origin: &Origin, conn: Connection) {
        let mut origins = self.lock();
        if let Some(slots) = origins.get_mut(origin) {
            let timeout = self.idle_timeout;
            slots.idle.retain(|(_, since)| since.elapsed() < timeout);
            slots.idle.push((conn, Instant::now()));
        }
    }
}

/// The right to use one connection slot of an origin.
#[derive(Debug)]
struct Lease {
    pool: Arc<Pool>,
    origin: Origin,
    _permit: OwnedSemaphorePermit,
}

/// A connection in use by one request. Dropped when the exchange is over: a connection ready for another
/// request goes back to its pool (before the slot is released, so the next waiter finds it), anything else
/// is closed.
#[derive(Debug)]
pub(crate) struct Checkout {
    conn: Option<Connection>,
    lease: Option<Lease>,
    /// The connection carried an earlier exchange (so a failure may just mean the server closed it idle).
    pub(crate) reused: bool,
}

impl Checkout {
    /// A connection of its own, not pooled.
    pub(crate) fn one_shot(conn: Connection) -> Checkout {
        Checkout {
            conn: Some(conn),
            lease: None,
            reused: false,
        }
    }

    pub(crate) fn conn(&mut self) -> &mut Connection {
        // `conn` is only taken in `drop`.
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let (Some(conn), Some(lease)) = (self.conn.take(), self.lease.as_ref()) {
            if conn.is_ready() {
                lease.pool.put_idle(&lease.origin, conn);
            }
        }
    }
}
