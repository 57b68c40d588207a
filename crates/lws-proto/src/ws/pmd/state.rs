//! Where the zlib states of permessage-deflate connections live between messages.
//!
//! Why not one compressor and one inflater per connection: zlib-rs zeroes a deflate state's window, chain
//! and 64 Ki-entry hash table when it creates it, so a 32 KiB-window compressor is about 310 KiB of resident
//! memory from its first message on, and an inflater about 18 KiB plus its window. Kept per connection, that
//! made an idle compressed connection cost over 300 KiB.
//!
//! What a connection must keep between messages is much smaller:
//! - Compressing, nothing: taking over the previous message's window is only an option for a sender (RFC 7692
//!   §7.2.1, "MAY take over the LZ77 sliding window"), so a message compressed from an empty window is always
//!   valid. Connections that keep sending still want their context (a repeated or similar message costs a
//!   fraction to compress and send), so a [`CompressorPool`] keeps a bounded number of compressors together
//!   with their connection's context; any other message is compressed by a per-thread scratch compressor.
//! - Inflating, the peer's window: the last up to 2^window_bits bytes the peer's messages inflated to, unless
//!   it resets per message. [`History`] keeps exactly that, and a per-thread scratch inflater is primed with it
//!   (`set_dictionary`, a copy) at the start of each message, so an idle connection holds only what it has
//!   received, never an inflate state.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress};

/// How many compressors the process-wide pool keeps with their connections' context by default: at about
/// 310 KiB each for a 32 KiB window, 64 of them are about 20 MiB at most, whatever the number of connections.
pub const DEFAULT_POOL_LIMIT: usize = 64;

/// How long a kept compressor must have gone unused before another connection may take it over. Shorter
/// would let connections beyond the limit take turns and all lose their context on every message; longer
/// would keep compressors with connections that went quiet.
const MIN_IDLE: Duration = Duration::from_secs(1);

/// Scratch compressors kept per thread: one per (window, level) in use, a handful at most in practice.
const MAX_SCRATCH: usize = 4;

/// The compressor settings a state was created with: zlib-rs cannot change the window of an existing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeflateKey {
    pub(super) window_bits: u8,
    pub(super) level: u32,
}

impl DeflateKey {
    fn create(self) -> Compress {
        Compress::new_with_window_bits(Compression::new(self.level), false, self.window_bits)
    }
}

/// A bounded set of compressors that keep their connection's LZ77 context between messages (RFC 7692 context
/// takeover), shared by the connections built from [`PmdConfig`](super::PmdConfig)s that hold a clone of it.
///
/// A connection gets a compressor on its first compressed message, while fewer than the limit are kept or
/// when one has gone unused for a second (that connection's next message then starts from an empty window,
/// which RFC 7692 allows); otherwise it compresses each message from an empty window with a per-thread
/// scratch compressor until a kept one frees up. Closing a connection frees its compressor for another.
/// So compressor memory is bounded by the limit, not by the number of connections. Limit 0 never keeps
/// context: every message is compressed on its own, like `server_no_context_takeover`.
///
/// Cloning is cheap (one `Arc`); [`CompressorPool::global`] is the process-wide pool that
/// [`PmdConfig::default`](super::PmdConfig) uses.
#[derive(Clone)]
pub struct CompressorPool {
    slots: Arc<Mutex<Slots>>,
}

struct Slots {
    limit: usize,
    entries: Vec<Entry>,
}

/// One kept compressor. `state` is `None` while its owner compresses with it (taken out so that compressing
/// runs without the lock) or when creating it failed to complete.
struct Entry {
    /// The connection's [`Owner`] id, or [`FREE`].
    owner: u64,
    key: DeflateKey,
    last_use: Instant,
    state: Option<Compress>,
}

const FREE: u64 = 0;

/// Owner ids: never reused, so a connection whose compressor was taken over cannot mistake another
/// connection's entry for its own.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

static GLOBAL: LazyLock<CompressorPool> = LazyLock::new(|| CompressorPool::new(DEFAULT_POOL_LIMIT));

/// A compressor checked out of a pool for one message.
pub(super) struct Checkout {
    pub(super) state: Compress,
    /// The state continues this connection's previous message (false: it starts from an empty window).
    /// The codec does not need to know (either is valid to compress with); the pool's tests check it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) context: bool,
}

impl CompressorPool {
    /// A pool of its own that keeps at most `limit` compressors.
    pub fn new(limit: usize) -> Self {
        Self {
            slots: Arc::new(Mutex::new(Slots {
                limit,
                entries: Vec::new(),
            })),
        }
    }

    /// The process-wide pool ([`DEFAULT_POOL_LIMIT`] unless changed with [`set_limit`](Self::set_limit)).
    pub fn global() -> Self {
        GLOBAL.clone()
    }

    /// How many compressors this pool keeps at most.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Change the limit. Lowering it frees the kept compressors beyond the new limit as their connections
    /// next use them or close; free ones go at once.
    pub fn set_limit(&self, limit: usize) {
        let mut slots = self.lock();
        slots.limit = limit;
        slots.trim();
    }

    /// How many compressors the pool holds now (with a connection or free for the next one).
    pub fn kept(&self) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|entry| entry.state.is_some() || entry.owner != FREE)
            .count()
    }

    /// A fresh owner id for one connection's codec.
    pub(super) fn new_owner() -> u64 {
        NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
    }

    /// The compressor for `owner`'s next message: its own with its context when it still has it, else a
    /// free, new or taken-over one (reset), or `None` when every kept compressor is busy or recently used.
    /// `slot` remembers which entry is the owner's.
    pub(super) fn acquire(
        &self,
        owner: u64,
        slot: &mut Option<usize>,
        key: DeflateKey,
    ) -> Option<Checkout> {
        let now = Instant::now();
        let mut slots = self.lock();
        if let Some(entry) = slot.and_then(|i| slots.entries.get_mut(i)) {
            if entry.owner == owner {
                if let Some(state) = entry.state.take() {
                    return Some(Checkout {
                        state,
                        context: true,
                    });
                }
            }
        }
        *slot = None;
        let index = slots.pick(key, now)?;
        let entry = &mut slots.entries[index];
        entry.owner = owner;
        let previous = entry.state.take().filter(|_| entry.key == key);
        entry.key = key;
        entry.last_use = now;
        drop(slots);
        *slot = Some(index);
        // Resetting (clearing the 128 KiB hash table) or creating happens outside the lock.
        let state = match previous {
            Some(mut state) => {
                state.reset();
                state
            }
            None => key.create(),
        };
        Some(Checkout {
            state,
            context: false,
        })
    }

    /// Give back the compressor `acquire` handed out for `slot`, now holding `owner`'s context.
    pub(super) fn release(&self, owner: u64, slot: usize, state: Compress) {
        let mut slots = self.lock();
        let limit = slots.limit;
        match slots.entries.get_mut(slot) {
            Some(entry) if entry.owner == owner && slot < limit => {
                entry.state = Some(state);
                entry.last_use = Instant::now();
            }
            Some(entry) if entry.owner == owner => {
                // Beyond a lowered limit: drop it, the owner compresses without context from now on.
                entry.owner = FREE;
                slots.trim();
            }
            _ => {}
        }
    }

    /// `owner` is gone: its compressor, if it still has one, is free for another connection.
    pub(super) fn forget(&self, owner: u64, slot: Option<usize>) {
        let Some(slot) = slot else { return };
        let mut slots = self.lock();
        if let Some(entry) = slots.entries.get_mut(slot) {
            if entry.owner == owner {
                entry.owner = FREE;
                slots.trim();
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // The entries stay consistent at every await-free step, so a panic elsewhere leaves them usable.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Slots {
    /// The entry a connection without a compressor gets: a free one (of the same settings first), a new one
    /// while below the limit, else the least recently used one idle for at least [`MIN_IDLE`].
    fn pick(&mut self, key: DeflateKey, now: Instant) -> Option<usize> {
        let usable = self.entries.len().min(self.limit);
        let free = |entry: &Entry| entry.owner == FREE;
        if let Some(i) = self.entries[..usable]
            .iter()
            .position(|entry| free(entry) && entry.key == key && entry.state.is_some())
            .or_else(|| self.entries[..usable].iter().position(free))
        {
            return Some(i);
        }
        if self.entries.len() < self.limit {
            self.entries.push(Entry {
                owner: FREE,
                key,
                last_use: now,
                state: None,
            });
            return Some(self.entries.len() - 1);
        }
        self.entries[..usable]
            .iter()
            .enumerate()
            .filter(|(_, entry)| {
                entry.state.is_some() && now.saturating_duration_since(entry.last_use) >= MIN_IDLE
            })
            .min_by_key(|(_, entry)| entry.last_use)
            .map(|(i, _)| i)
    }

    /// Drop free entries past the limit from the end, so a lowered limit returns their memory.
    fn trim(&mut self) {
        while self.entries.len() > self.limit
            && self.entries.last().is_some_and(|entry| entry.owner == FREE)
        {
            self.entries.pop();
        }
        let limit = self.limit;
        for entry in self.entries.iter_mut().skip(limit) {
            if entry.owner == FREE {
                entry.state = None;
            }
        }
    }
}

impl fmt::Debug for CompressorPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.lock();
        f.debug_struct("CompressorPool")
            .field("limit", &slots.limit)
            .field("entries", &slots.entries.len())
            .finish()
    }
}

thread_local! {
    /// Compressors for messages compressed from an empty window, reset after each use.
    static SCRATCH_DEFLATE: RefCell<Vec<(DeflateKey, Compress)>> = const { RefCell::new(Vec::new()) };
    /// One reset inflater for the next message any connection on this thread starts to inflate.
    static SPARE_INFLATE: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's reset compressor for `key`, and reset it afterwards for the next message.
pub(super) fn with_scratch_deflate<R>(key: DeflateKey, f: impl FnOnce(&mut Compress) -> R) -> R {
    // Taken out of the thread-local rather than borrowed in place, so `f` runs without a RefCell borrow; a
    // thread that is exiting (no thread-locals any more) gets a state of its own.
    let taken = SCRATCH_DEFLATE
        .try_with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let i = scratch.iter().position(|(k, _)| *k == key)?;
            Some(scratch.swap_remove(i).1)
        })
        .ok()
        .flatten();
    let mut state = taken.unwrap_or_else(|| key.create());
    let result = f(&mut state);
    state.reset();
    let _ = SCRATCH_DEFLATE.try_with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < MAX_SCRATCH {
            scratch.push((key, state));
        }
    });
    result
}

/// A reset 15-bit raw inflater for one message: this thread's spare, or a new one when another connection
/// on this thread holds the spare in the middle of a message.
pub(super) fn take_inflater() -> Decompress {
    SPARE_INFLATE
        .try_with(|spare| spare.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_else(|| Decompress::new(false))
}

/// Hand back an inflater after its message: reset, it becomes this thread's spare, or is dropped when the
/// thread already has one.
pub(super) fn put_inflater(mut inflater: Decompress) {
    inflater.reset(false);
    let _ = SPARE_INFLATE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.is_none() {
            *spare = Some(inflater);
        }
    });
}

/// The last up to `cap` bytes that the peer's messages inflated to: what its compressor may still refer back
/// to (its LZ77 window) when it takes over context. Grows only as data arrives, so a connection that has
/// received 32 bytes keeps 32 bytes.
pub(super) struct History {
    /// Oldest byte first while filling; once `cap` bytes long, a ring whose oldest byte is at `head`.
    buf: Vec<u8>,
    head: usize,
    cap: usize,
}

impl History {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            buf: Vec::new(),
            head: 0,
            cap,
        }
    }

    /// Forget everything: the peer started a new stream.
    pub(super) fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }

    /// Append what a message inflated to, keeping the last `cap` bytes.
    pub(super) fn append(&mut self, data: &[u8]) {
        let mut data = &data[data.len().saturating_sub(self.cap)..];
        if self.buf.len() < self.cap {
            let n = (self.cap - self.buf.len()).min(data.len());
            let want = self.buf.len() + n;
            if want > self.buf.capacity() {
                // Doubling, but never past `cap`: the buffer ends exactly window-sized.
                let grown = (self.buf.capacity() * 2).clamp(want, self.cap);
                self.buf.reserve_exact(grown - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        while !data.is_empty() {
            let n = (self.cap - self.head).min(data.len());
            self.buf[self.head..self.head + n].copy_from_slice(&data[..n]);
            self.head = (self.head + n) % self.cap;
            data = &data[n..];
        }
    }

    /// The window, oldest bytes first, in two pieces.
    pub(super) fn parts(&self) -> (&[u8], &[u8]) {
        (&self.buf[self.head..], &self.buf[..self.head])
    }

    #[cfg(test)]
    fn contiguous(&self) -> Vec<u8> {
        let (a, b) = self.parts();
        [a, b].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_last_cap_bytes() {
        let mut history = History::new(10);
        let mut all = Vec::new();
        for (i, len) in [3usize, 0, 4, 2, 7, 10, 25, 1, 9].into_iter().enumerate() {
            let chunk: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            history.append(&chunk);
            all.extend_from_slice(&chunk);
            let want = &all[all.len().saturating_sub(10)..];
            assert_eq!(history.contiguous(), want, "after chunk {i}");
            assert!(history.buf.capacity() <= 10);
        }
        history.clear();
        assert_eq!(history.contiguous(), b"");
    }

    #[test]
    fn history_grows_with_what_arrived() {
        let mut history = History::new(32 * 1024);
        history.append(&[7; 32]);
        assert!(history.buf.capacity() < 1024);
    }

    fn key() -> DeflateKey {
        DeflateKey {
            window_bits: 9,
            level: 1,
        }
    }

    #[test]
    fn pool_keeps_context_until_limit() {
        let pool = CompressorPool::new(2);
        let (a, b, c) = (
            CompressorPool::new_owner(),
            CompressorPool::new_owner(),
            CompressorPool::new_owner(),
        );
        let (mut slot_a, mut slot_b, mut slot_c) = (None, None, None);
        let first = pool.acquire(a, &mut slot_a, key()).unwrap();
        assert!(!first.context);
        pool.release(a, slot_a.unwrap(), first.state);
        let again = pool.acquire(a, &mut slot_a, key()).unwrap();
        assert!(again.context);
        pool.release(a, slot_a.unwrap(), again.state);
        let other = pool.acquire(b, &mut slot_b, key()).unwrap();
        pool.release(b, slot_b.unwrap(), other.state);
        // Both kept compressors were used just now: the third connection gets none.
        assert!(pool.acquire(c, &mut slot_c, key()).is_none());
        assert_eq!(pool.kept(), 2);
        // A closed connection's compressor goes to the next one, without context.
        pool.forget(a, slot_a);
        let reused = pool.acquire(c, &mut slot_c, key()).unwrap();
        assert!(!reused.context);
        assert_eq!(slot_c, slot_a);
        pool.release(c, slot_c.unwrap(), reused.state);
        assert_eq!(pool.kept(), 2);
    }

    #[test]
    fn lowering_the_limit_frees_compressors() {
        let pool = CompressorPool::new(2);
        let (a, b) = (CompressorPool::new_owner(), CompressorPool::new_owner());
        let (mut slot_a, mut slot_b) = (None, None);
        let state_a = pool.acquire(a, &mut slot_a, key()).unwrap().state;
        pool.release(a, slot_a.unwrap(), state_a);
        let state_b = pool.acquire(b, &mut slot_b, key()).unwrap().state;
        pool.set_limit(1);
        pool.release(b, slot_b.unwrap(), state_b);
        assert_eq!(pool.kept(), 1);
        pool.set_limit(0);
        pool.forget(a, slot_a);
        assert_eq!(pool.kept(), 0);
        assert!(pool.acquire(a, &mut slot_a, key()).is_none());
    }
}
