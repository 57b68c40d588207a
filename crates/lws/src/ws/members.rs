//! The live connections of one protocol on one vhost, for broadcast (`request_writable_all`) and shared
//! flow control (`rx_flow_all`), with the validity policy they run under.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use super::ValidityPolicy;

/// What other tasks may ask of one connection's task.
#[derive(Debug, Default)]
pub(crate) struct ConnShared {
    pub(crate) id: u64,
    writable: AtomicBool,
    rx_paused: AtomicBool,
    /// Bytes written by the protocol but not yet accepted by the socket (kept by the driver).
    pub(crate) unsent: AtomicUsize,
    /// The connection task's waker. The flags above are set before it is woken and read after it was
    /// registered, so a request is never missed; the driver reads them on every turn instead of polling a
    /// wake-up future.
    waker: Mutex<Option<Waker>>,
}

impl ConnShared {
    pub(crate) fn new(id: u64) -> Self {
        ConnShared {
            id,
            ..ConnShared::default()
        }
    }

    pub(crate) fn request_writable(&self) {
        self.writable.store(true, Ordering::Release);
        self.wake();
    }

    /// Wakes the connection's task, which then looks at the flags (and at the shutdown signal).
    pub(crate) fn wake(&self) {
        if let Ok(w) = self.waker.lock() {
            if let Some(w) = w.as_ref() {
                w.wake_by_ref();
            }
        }
    }

    /// Makes `waker` the one `wake` uses.
    pub(crate) fn register(&self, waker: &Waker) {
        if let Ok(mut w) = self.waker.lock() {
            *w = Some(waker.clone());
        }
    }

    /// Takes a pending writable request.
    pub(crate) fn take_writable(&self) -> bool {
        // Asked on every turn of the driver: a load keeps the common answer free of a read-modify-write.
        self.writable_requested() && self.writable.swap(false, Ordering::AcqRel)
    }

    /// Whether a writable request is pending, without taking it.
    pub(crate) fn writable_requested(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    pub(crate) fn set_rx_paused(&self, paused: bool) {
        if self.rx_paused.swap(paused, Ordering::AcqRel) != paused {
            self.wake();
        }
    }

    pub(crate) fn rx_paused(&self) -> bool {
        self.rx_paused.load(Ordering::Acquire)
    }
}

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
