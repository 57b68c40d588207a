//! The part of a connection's state that other tasks may touch: requests for a `writable` callback, pausing
//! reads, and the task's waker, so that handles and broadcasts reach a connection without a channel.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Waker;

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
