//! Counting live connections: for the graceful drain (wait until none is left) and the per-IP limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// State shared by every listener of a context.
#[derive(Debug)]
pub(crate) struct ServerShared {
    pub(crate) server_string: String,
    pub(crate) ip_limit: Option<u32>,
    pub(crate) per_ip: Mutex<HashMap<IpAddr, u32>>,
    pub(crate) live: AtomicUsize,
    pub(crate) idle: Notify,
    /// How long a new connection may take to show what it speaks (TLS handshake, first bytes).
    pub(crate) handshake_timeout: Duration,
}

impl ServerShared {
    /// Shared state with no connection yet.
    pub(crate) fn new(
        server_string: String,
        ip_limit: Option<u32>,
        handshake_timeout: Duration,
    ) -> ServerShared {
        ServerShared {
            server_string,
            ip_limit,
            per_ip: Mutex::new(HashMap::new()),
            live: AtomicUsize::new(0),
            idle: Notify::new(),
            handshake_timeout,
        }
    }
}

/// Counts a live connection (for graceful drain and the per-IP limit) until dropped.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    server: Arc<ServerShared>,
    ip: Option<IpAddr>,
}

impl ConnGuard {
    /// Counts a connection that is not subject to the per-IP limit (unix sockets, adopted sockets).
    pub(crate) fn new(server: &Arc<ServerShared>, ip: Option<IpAddr>) -> ConnGuard {
        server.live.fetch_add(1, Ordering::AcqRel);
        ConnGuard {
            server: server.clone(),
            ip,
        }
    }

    /// Admits a connection from `ip` unless that address already has `ip-limit-wsi` connections.
    pub(crate) fn admit(server: &Arc<ServerShared>, ip: IpAddr) -> Option<ConnGuard> {
        let Some(limit) = server.ip_limit else {
            return Some(ConnGuard::new(server, None));
        };
        let mut map = server.per_ip.lock().ok()?;
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        drop(map);
        Some(ConnGuard::new(server, Some(ip)))
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            if let Ok(mut map) = self.server.per_ip.lock() {
                if let Some(n) = map.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        map.remove(&ip);
                    }
                }
            }
        }
        if self.server.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.server.idle.notify_waiters();
        }
    }
}
