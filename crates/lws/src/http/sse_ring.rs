//! One producer, many Server-Sent Events clients: a ring of the last N events that every client follows
//! from its own tail (libwebsockets' `lws_ring` as used by `minimal-http-server-sse-ring`).
//!
//! Memory is bounded by the ring, not by the slowest client: each event is encoded once and shared by
//! every client; a client whose connection does not take events as fast as they come falls behind, and
//! once the ring has overwritten the next event it needs, its stream is ended (the browser reconnects
//! later and resumes from the oldest event still held). Nothing is ever queued for one client beyond its
//! [`EventSender`] queue.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::watch;

use super::sse::{Event, EventSender};

/// A ring of the last `slots` events, shared by cloning.
#[derive(Debug, Clone)]
pub struct EventRing {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// The sequence number the next event will get; followers wait for it to move.
    next: watch::Sender<u64>,
}

#[derive(Debug)]
struct State {
    /// Encoded events, oldest first.
    events: VecDeque<Bytes>,
    /// The sequence number of `events[0]`.
    first: u64,
    slots: usize,
}

/// Why [`EventRing::follow`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FollowEnd {
    /// The client went away.
    ClientGone,
    /// The client fell more than the ring behind: the event it needed next was overwritten.
    Lapped,
}

impl EventRing {
    /// A ring holding the last `slots` events (at least one).
    pub fn new(slots: usize) -> EventRing {
        let slots = slots.max(1);
        let (next, _) = watch::channel(0);
        EventRing {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    events: VecDeque::with_capacity(slots),
                    first: 0,
                    slots,
                }),
                next,
            }),
        }
    }

    /// Adds an event, overwriting the oldest when the ring is full, and wakes every follower. The ring
    /// numbers events from 0 and sets each one's id to its number, so a browser that reconnects with
    /// `Last-Event-ID` resumes right after it ([`EventRing::follow`]). Returns the number given.
    pub fn push(&self, event: Event) -> u64 {
        let mut st = self.lock();
        let seq = st.first + st.events.len() as u64;
        // A decimal number holds no NUL, CR or LF.
        let bytes = match event.id(seq.to_string()) {
            Ok(e) => e.to_bytes(),
            Err(_) => return seq,
        };
        if st.events.len() == st.slots {
            st.events.pop_front();
            st.first += 1;
        }
        st.events.push_back(bytes);
        drop(st);
        self.shared.next.send_replace(seq + 1);
        seq
    }

    /// How many slots the ring has.
    pub fn slots(&self) -> usize {
        self.lock().slots
    }

    /// How many events the ring holds now (never more than [`EventRing::slots`]).
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Whether no event was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.lock().events.is_empty()
    }

    /// Sends the ring's events to one client, from its own tail, until the client goes or falls more than
    /// the ring behind (also while it is stuck taking an event: a client that takes nothing is dropped
    /// once the ring has moved a whole ring past it). `last_seen` is the number of the last event the
    /// client has (a `Last-Event-ID` parsed as a number): it resumes after it, or at the oldest event held
    /// when that one is gone already; without it the client gets the events pushed after this call.
    ///
    /// The client's place is taken when this is called; run the returned future on a task of its own.
    /// Dropping `sender` when it ends ends the client's stream.
    pub fn follow(
        &self,
        sender: EventSender,
        last_seen: Option<u64>,
    ) -> impl Future<Output = FollowEnd> + Send + 'static {
        let ring = self.clone();
        let mut wake = self.shared.next.subscribe();
        let mut tail = {
            let st = self.lock();
            let end = st.first + st.events.len() as u64;
            match last_seen {
                Some(n) if n < end => n.saturating_add(1).max(st.first),
                _ => end,
            }
        };
        async move {
            loop {
                let end = *wake.borrow_and_update();
                while tail < end {
                    let Some(bytes) = ring.event(tail) else {
                        return FollowEnd::Lapped;
                    };
                    tokio::select! {
                        sent = sender.send_bytes(bytes) => if sent.is_err() {
                            return FollowEnd::ClientGone;
                        },
                        () = ring.lapped(&mut wake, tail) => return FollowEnd::Lapped,
                    }
                    tail += 1;
                }
                tokio::select! {
                    _ = wake.changed() => {}
                    () = sender.closed() => return FollowEnd::ClientGone,
                }
            }
        }
    }

    /// Event `seq`, or `None` when the ring overwrote it.
    fn event(&self, seq: u64) -> Option<Bytes> {
        let st = self.lock();
        let index = seq.checked_sub(st.first)?;
        st.events.get(usize::try_from(index).ok()?).cloned()
    }

    /// Returns once event `seq` is overwritten.
    async fn lapped(&self, wake: &mut watch::Receiver<u64>, seq: u64) {
        while self.lock().first <= seq {
            if wake.changed().await.is_err() {
                // Cannot happen: the watch sender lives in `shared`, which `self` holds.
                std::future::pending::<()>().await;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The lock is never held across anything that can panic while the state is half-changed.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_only_its_slots() {
        let ring = EventRing::new(3);
        for i in 0..10 {
            assert_eq!(ring.push(Event::data(format!("{i}"))), i);
            assert!(ring.len() <= 3);
        }
        let st = ring.lock();
        assert_eq!(st.first, 7);
        assert_eq!(&st.events[0][..], b"id: 7\ndata: 7\n\n");
    }
}
