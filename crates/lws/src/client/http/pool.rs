//! [`Pool`]: the connections behind an [`HttpClient`](super::HttpClient) — keep-alive connections kept per
//! origin and reused, HTTP/2 connections shared, with a cap on concurrent connections per origin beyond
//! which requests queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::super::error::ClientError;
use super::super::origin::{H2Mode, Origin};
use super::connection::{ConnectOptions, Connection};
use super::h2::H2Connection;
use super::h2_handle::H2Handle;

/// Default [`HttpClientBuilder::idle_timeout`](super::HttpClientBuilder::idle_timeout): 30 s. Also how long
/// an HTTP/2 connection opened for a single request or WebSocket, outside any pool, stays up without
/// streams.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The settings of a [`Pool`], chosen with an [`HttpClientBuilder`](super::HttpClientBuilder).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSettings {
    /// Most connections open to one origin at a time (at least 1).
    pub(crate) max_per_origin: usize,
    /// How long an idle connection is kept for reuse.
    pub(crate) idle_timeout: Duration,
    /// Requests default to HTTP/1.1 only.
    pub(crate) http1_only: bool,
    /// `http://` requests default to HTTP/2 with prior knowledge.
    pub(crate) h2_prior_knowledge: bool,
}

/// The connections of one client.
#[derive(Debug)]
pub(crate) struct Pool {
    /// Most connections open to one origin at a time.
    max_per_origin: usize,
    /// How long an idle connection is kept; also given to HTTP/2 connections as theirs.
    pub(crate) idle_timeout: Duration,
    /// Requests default to HTTP/1.1 only.
    http1_only: bool,
    /// `http://` requests default to h2c with prior knowledge.
    h2_prior_knowledge: bool,
    /// Each origin's slots and connections.
    origins: Mutex<HashMap<Origin, OriginSlots>>,
}

/// One origin's connection slots and idle connections.
#[derive(Debug)]
struct OriginSlots {
    /// One permit per connection that may be in use; held by a [`Checkout`] for its whole life.
    permits: Arc<Semaphore>,
    /// Idle connections and when they became idle, most recent last.
    idle: Vec<(Connection, Instant)>,
    /// HTTP/2 connections, shared by concurrent requests.
    h2: Vec<H2Handle>,
    /// Held while a connection that may turn out to speak HTTP/2 is opened, so that concurrent requests
    /// wait for it and share it instead of each opening one.
    connecting: Arc<tokio::sync::Mutex<()>>,
    /// The origin answered ALPN with HTTP/1.1: connections are opened in parallel again.
    speaks_h1: bool,
}

impl Pool {
    /// An empty pool.
    pub(crate) fn new(settings: PoolSettings) -> Pool {
        Pool {
            max_per_origin: settings.max_per_origin,
            idle_timeout: settings.idle_timeout,
            http1_only: settings.http1_only,
            h2_prior_knowledge: settings.h2_prior_knowledge,
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// What a request sent through this pool defaults to: (HTTP/1.1 only, h2c prior knowledge).
    pub(crate) fn request_defaults(&self) -> (bool, bool) {
        (self.http1_only, self.h2_prior_knowledge)
    }

    /// Number of idle HTTP/1.1 connections kept, over all origins.
    pub(crate) fn idle_connections(&self) -> usize {
        self.lock().values().map(|o| o.idle.len()).sum()
    }

    /// Number of live HTTP/2 connections kept, over all origins.
    pub(crate) fn http2_connections(&self) -> usize {
        self.lock()
            .values()
            .map(|o| o.h2.iter().filter(|h| h.is_usable()).count())
            .sum()
    }

    /// The origins' slots, locked.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Origin, OriginSlots>> {
        // A panic while holding the lock leaves only plain data behind; keep using it.
        self.origins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection to `origin`: shares a live HTTP/2 connection with room for another stream, or waits for
    /// a free slot, then reuses the most recently idle live connection or opens a new one. `fresh` skips
    /// sharing and reuse (a retry after a refusal).
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        origin: &Origin,
        opts: &ConnectOptions,
        fresh: bool,
    ) -> Result<Checkout, ClientError> {
        let (permits, connecting, speaks_h1) = self.slots(origin);
        // An origin spoken to over HTTP/1.1 only has no shared connection to look for.
        if !fresh && origin.h2 != H2Mode::Off {
            if let Some(shared) = self.shared_h2(origin) {
                return Ok(shared);
            }
        }
        let _connecting = if origin.h2 != H2Mode::Off && !speaks_h1 {
            let guard = connecting.lock_owned().await;
            if !fresh {
                if let Some(shared) = self.shared_h2(origin) {
                    return Ok(shared);
                }
            }
            Some(guard)
        } else {
            None
        };
        // The semaphore is never closed.
        let permit = permits
            .acquire_owned()
            .await
            .map_err(|_| ClientError::Closed)?;
        let permit = if fresh {
            permit
        } else {
            match self.reuse_idle(origin, permit) {
                Ok(reused) => return Ok(reused),
                Err(permit) => permit,
            }
        };
        // Boxed: opening (TCP, TLS) is the rare path, and its state would otherwise sit in every checkout.
        let conn = Box::pin(Connection::open(origin, opts)).await?;
        Ok(self.adopt(origin, conn, permit))
    }

    /// What a checkout for `origin` waits on: the origin's slot permits, the lock held while a connection
    /// that may speak HTTP/2 is opened, and whether the origin answered ALPN with HTTP/1.1 (then nothing
    /// is worth waiting for). Creates the origin's entry on first use.
    fn slots(&self, origin: &Origin) -> (Arc<Semaphore>, Arc<tokio::sync::Mutex<()>>, bool) {
        let mut origins = self.lock();
        if let Some(slots) = origins.get(origin) {
            // The usual case: no key to clone.
            return (
                slots.permits.clone(),
                slots.connecting.clone(),
                slots.speaks_h1,
            );
        }
        let slots = origins
            .entry(origin.clone())
            .or_insert_with(|| OriginSlots {
                permits: Arc::new(Semaphore::new(self.max_per_origin)),
                idle: Vec::new(),
                h2: Vec::new(),
                connecting: Arc::default(),
                speaks_h1: false,
            });
        (
            slots.permits.clone(),
            slots.connecting.clone(),
            slots.speaks_h1,
        )
    }

    /// The most recently idle connection to `origin` that is still live, on `permit`'s slot; expired or
    /// stale ones met on the way are closed. Gives `permit` back when none is left.
    fn reuse_idle(
        self: &Arc<Self>,
        origin: &Origin,
        permit: OwnedSemaphorePermit,
    ) -> Result<Checkout, OwnedSemaphorePermit> {
        loop {
            let idle = self
                .lock()
                .get_mut(origin)
                .and_then(|slots| slots.idle.pop());
            let Some((mut conn, since)) = idle else {
                return Err(permit);
            };
            if since.elapsed() < self.idle_timeout && !conn.is_stale() {
                return Ok(Checkout {
                    conn: Some(conn),
                    lease: Some(self.lease(origin, permit)),
                    reused: true,
                });
            }
        }
    }

    /// Takes a new connection in. An HTTP/2 one is shared by later checkouts and holds `permit` for as
    /// long as it lives; an HTTP/1.1 one is leased on `permit`, and, when ALPN chose it, tells later
    /// checkouts not to wait for HTTP/2.
    fn adopt(
        self: &Arc<Self>,
        origin: &Origin,
        conn: Connection,
        permit: OwnedSemaphorePermit,
    ) -> Checkout {
        let mut origins = self.lock();
        let slots = origins.get_mut(origin);
        match conn {
            Connection::H2(c) => {
                // The connection holds its slot for as long as it lives.
                c.handle().hold(permit);
                if let Some(slots) = slots {
                    slots.h2.retain(|h| h.is_usable());
                    slots.h2.push(c.handle().clone());
                }
                Checkout {
                    conn: Some(Connection::H2(c)),
                    lease: None,
                    reused: false,
                }
            }
            h1 => {
                if let Some(slots) = slots {
                    slots.speaks_h1 |= origin.h2 == H2Mode::Alpn;
                }
                Checkout {
                    conn: Some(h1),
                    lease: Some(self.lease(origin, permit)),
                    reused: false,
                }
            }
        }
    }

    /// The use of `permit`'s slot of `origin`, handing the connection back to this pool when done.
    fn lease(self: &Arc<Self>, origin: &Origin, permit: OwnedSemaphorePermit) -> Lease {
        Lease {
            pool: self.clone(),
            origin: origin.clone(),
            _permit: permit,
        }
    }

    /// A stream on a live HTTP/2 connection to `origin` with room for it.
    fn shared_h2(&self, origin: &Origin) -> Option<Checkout> {
        let mut origins = self.lock();
        let slots = origins.get_mut(origin)?;
        slots.h2.retain(|h| h.is_usable());
        let handle = slots.h2.iter().find(|h| h.has_room())?.clone();
        Some(Checkout {
            conn: Some(Connection::H2(H2Connection::new(handle))),
            lease: None,
            reused: true,
        })
    }

    /// A live HTTP/2 connection to `origin` (for a WebSocket stream): a shared one, or a new one. `None` when
    /// the new connection turned out to speak HTTP/1.1 (it is then kept for requests).
    pub(crate) async fn h2_handle(
        self: &Arc<Self>,
        origin: &Origin,
        opts: &ConnectOptions,
    ) -> Result<Option<H2Handle>, ClientError> {
        let mut checkout = self.checkout(origin, opts, false).await?;
        Ok(match checkout.conn() {
            Connection::H2(c) => Some(c.handle().clone()),
            Connection::H1(_) => None,
        })
    }

    /// Keeps a connection that finished its exchange for the next request, dropping idle ones that
    /// expired meanwhile.
    fn put_idle(&self, origin: &Origin, conn: Connection) {
        let mut origins = self.lock();
        if let Some(slots) = origins.get_mut(origin) {
            // The list is in the order connections went idle: the expired ones are at its front. One clock
            // read per call, not one per connection.
            let now = Instant::now();
            let expired = slots
                .idle
                .iter()
                .take_while(|(_, since)| now.duration_since(*since) >= self.idle_timeout)
                .count();
            slots.idle.drain(..expired);
            slots.idle.push((conn, now));
        }
    }
}

/// The right to use one connection slot of an origin.
#[derive(Debug)]
struct Lease {
    /// Where the connection goes back.
    pool: Arc<Pool>,
    /// Under which origin.
    origin: Origin,
    /// The slot, released when the lease is dropped.
    _permit: OwnedSemaphorePermit,
}

/// A connection in use by one request. Dropped when the exchange is over: a connection ready for another
/// request goes back to its pool (before the slot is released, so the next waiter finds it), anything else
/// is closed.
#[derive(Debug)]
pub(crate) struct Checkout {
    /// The connection; taken only when the checkout is dropped.
    conn: Option<Connection>,
    /// The slot and the way back to the pool; `None` for HTTP/2 streams (the connection holds the slot)
    /// and one-shot connections.
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

    /// Takes the connection out of the pool for good (it switched protocols); its slot is freed.
    pub(crate) fn into_connection(mut self) -> Connection {
        self.conn.take().expect("connection present until drop")
    }

    /// The connection, to send on and read from.
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
