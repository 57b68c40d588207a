//! The live connections of one protocol on one vhost, for broadcast (`request_writable_all`), shared flow
//! control (`rx_flow_all`) and waking them all at shutdown, with the validity policy they run under.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::ConnShared;

/// The members of one protocol on one vhost.
#[derive(Debug, Default)]
pub(crate) struct Members {
    conns: Mutex<HashMap<u64, Arc<ConnShared>>>,
    next_id: AtomicU64,
    /// Kept here, once for all of them, rather than in every connection's state.
    pub(crate) validity: ValidityPolicy,
}

impl Members {
    /// An empty list whose connections run under `validity`.
    pub(crate) fn new(validity: ValidityPolicy) -> Members {
        Members {
            validity,
            ..Members::default()
        }
    }

    /// Registers a new connection and returns its shared state.
    pub(crate) fn join(&self) -> Arc<ConnShared> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(ConnShared::new(id));
        if let Ok(mut m) = self.conns.lock() {
            m.insert(id, shared.clone());
        }
        shared
    }

    pub(crate) fn leave(&self, id: u64) {
        if let Ok(mut m) = self.conns.lock() {
            m.remove(&id);
        }
    }

    pub(crate) fn request_writable_all(&self) {
        self.for_each(|c| c.request_writable());
    }

    pub(crate) fn rx_flow_all(&self, allow: bool) {
        self.for_each(|c| c.set_rx_paused(!allow));
    }

    /// Wakes every member, so that each notices the shutdown signal without waiting on it.
    pub(crate) fn wake_all(&self) {
        self.for_each(ConnShared::wake);
    }

    fn for_each(&self, f: impl Fn(&ConnShared)) {
        if let Ok(m) = self.conns.lock() {
            m.values().for_each(|c| f(c));
        }
    }
}

/// When to check that an idle peer is still there: PING after `ping_after` without traffic from it, hang up
/// after `hangup_after` without any (libwebsockets' validity policy; defaults 300 s and 310 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityPolicy {
    /// Idle time before we send a PING.
    pub ping_after: Duration,
    /// Idle time after which the connection is dropped.
    pub hangup_after: Duration,
}

impl Default for ValidityPolicy {
    fn default() -> Self {
        ValidityPolicy {
            ping_after: Duration::from_secs(300),
            hangup_after: Duration::from_secs(310),
        }
    }
}
