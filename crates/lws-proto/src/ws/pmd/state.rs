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
//!   valid.
//! - Inflating, the peer's window: the last up to 2^window_bits bytes the peer's messages inflated to, unless
//!   it resets per message. [`History`] keeps exactly that, as plain bytes that grow with what arrived.
//!
//! Connections that exchange messages still want live states: a compressor with context makes a repeated or
//! similar message cheap to compress and send, and an inflater that holds the window saves priming a fresh
//! one with the history (`set_dictionary`, a copy of up to 32 KiB from memory that is usually cold) and
//! appending every message to it, together a microsecond or more per 4 KiB message. So a [`ContextPool`]
//! keeps a bounded number of each with their connection; any other message is compressed from an empty
//! window by a per-thread scratch compressor, or inflated by a per-thread inflater primed with the history.
//!
//! A kept compressor can be taken over by another connection once it has been idle a while, since losing
//! its context is allowed. A kept inflater cannot: it then holds the only copy of the peer's window (the
//! connection drops its history when it gets one, so that the window is not kept twice), which flate2
//! offers no way to read back. It stays with its connection until that closes.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress};

/// How many compressors, and how many inflaters, a pool keeps with their connections by default (the default
/// pool: this many per thread): at about 310 KiB per compressor (32 KiB window) and 50 KiB per inflater, 64 of
/// each are about 23 MiB at most per service thread, whatever the number of connections.
pub const DEFAULT_POOL_LIMIT: usize = 64;

/// How long a kept state must have gone unused before another connection may take it over. Shorter would
/// let connections beyond the limit take turns and all lose their state on every message; longer would keep
/// states with connections that went quiet.
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

/// A zlib state the pool can keep: how to make one and how to empty one for another connection.
pub(super) trait Kept: Sized {
    /// What a state was created with; a state is only reused for the same key.
    type Key: Copy + Eq;
    fn create(key: Self::Key) -> Self;
    fn clear(&mut self);
}

impl Kept for Compress {
    type Key = DeflateKey;
    fn create(key: DeflateKey) -> Self {
        key.create()
    }
    fn clear(&mut self) {
        self.reset();
    }
}

/// Inflaters always have a 15-bit window (see the module notes of `pmd`), so they need no key.
impl Kept for Decompress {
    type Key = ();
    fn create(_: ()) -> Self {
        Decompress::new(false)
    }
    fn clear(&mut self) {
        self.reset(false);
    }
}

/// A bounded set of compressors and inflaters kept with their connection's LZ77 context between messages,
/// shared by the connections built from [`PmdConfig`](super::PmdConfig)s that hold a clone of it.
///
/// A connection gets a compressor on its first compressed message while fewer than the limit are kept, or
/// takes over one that has gone unused for a second (whose connection then compresses its next message from
/// an empty window, which RFC 7692 allows). It gets an inflater on its first compressed message from the
/// peer (when the peer takes over context) while fewer than the limit are kept, and keeps it until it
/// closes. Otherwise its messages are compressed from an empty window and inflated by per-thread states
/// primed with the peer's window. Closing a connection frees its states for another. So the memory of zlib
/// states is bounded by the limit, not by the number of connections. Limit 0 keeps nothing: every message
/// is compressed on its own, like `server_no_context_takeover`, and every inflater is primed.
///
/// A pool is shared by every thread ([`ContextPool::new`], [`ContextPool::global`]) or is one pool per thread
/// ([`ContextPool::per_thread`], and the default, which [`PmdConfig::default`](super::PmdConfig) uses): with
/// a pool per thread, connections on different service threads never take the same lock or touch the same
/// cache lines per message, and the bound is the limit times the number of threads. Cloning is cheap.
#[derive(Clone)]
pub struct ContextPool {
    scope: Scope,
}

/// Who shares a pool's states.
#[derive(Clone)]
enum Scope {
    /// Every thread, behind one lock.
    Process(Arc<Mutex<Shared>>),
    /// Each thread has a pool of its own with this limit (made at its first use there), so that threads
    /// never take each other's lock or cache lines per message. `family` tells such pools apart.
    PerThread { family: u64, limit: usize },
}

pub(super) struct Shared {
    limit: usize,
    deflate: Slots<Compress>,
    inflate: Slots<Decompress>,
}

pub(super) struct Slots<S: Kept> {
    entries: Vec<Entry<S>>,
}

/// One kept state. `state` is `None` while its owner uses it (taken out so that compressing and inflating
/// run without the lock) or after the owner closed in the middle of using it.
struct Entry<S: Kept> {
    /// The connection's owner id, or [`FREE`].
    owner: u64,
    key: S::Key,
    last_use: Instant,
    state: Option<S>,
}

const FREE: u64 = 0;

/// Owner ids: never reused, so a connection whose state was taken over cannot mistake another connection's
/// entry for its own.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

static GLOBAL: LazyLock<ContextPool> = LazyLock::new(|| ContextPool::new(DEFAULT_POOL_LIMIT));

/// Families of per-thread pools; 0 is the default one.
static NEXT_FAMILY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    // This thread's pool of each per-thread family it has used (a handful at most: one per configured pool).
    static THREAD_POOLS: RefCell<Vec<(u64, Arc<Mutex<Shared>>)>> = const { RefCell::new(Vec::new()) };
}

/// A state checked out of a pool for one message.
pub(super) struct Checkout<S> {
    pub(super) state: S,
    /// The state continues this connection's previous message (false: it is empty).
    pub(super) context: bool,
}

/// Which of the pool's two kinds of state a call is about.
pub(super) trait Kind: Kept {
    /// Whether an idle state may be taken from its connection (see the module notes).
    const TAKEN_OVER: bool;
    fn slots(shared: &mut Shared) -> &mut Slots<Self>;
}

impl Kind for Compress {
    const TAKEN_OVER: bool = true;
    fn slots(shared: &mut Shared) -> &mut Slots<Self> {
        &mut shared.deflate
    }
}

impl Kind for Decompress {
    const TAKEN_OVER: bool = false;
    fn slots(shared: &mut Shared) -> &mut Slots<Self> {
        &mut shared.inflate
    }
}

impl ContextPool {
    /// A pool of its own, shared by every thread, that keeps at most `limit` compressors and `limit`
    /// inflaters.
    pub fn new(limit: usize) -> Self {
        Self {
            scope: Scope::Process(Shared::new(limit)),
        }
    }

    /// The process-wide pool shared by every thread ([`DEFAULT_POOL_LIMIT`] unless changed with
    /// [`set_limit`](Self::set_limit)).
    pub fn global() -> Self {
        GLOBAL.clone()
    }

    /// A pool per thread, each keeping at most `limit` compressors and `limit` inflaters for the
    /// connections of its thread: no lock or cache line shared between threads per message, at the price of
    /// a bound that grows with the number of threads. [`limit`](Self::limit), [`set_limit`](Self::set_limit)
    /// and [`kept`](Self::kept) apply to the calling thread's pool.
    pub fn per_thread(limit: usize) -> Self {
        Self {
            scope: Scope::PerThread {
                family: NEXT_FAMILY.fetch_add(1, Ordering::Relaxed),
                limit,
            },
        }
    }

    /// The states a connection on this thread uses: the pool's own when shared by every thread, else this
    /// thread's. A codec resolves its pool once, when its connection starts.
    pub(super) fn for_this_thread(&self) -> PoolStates {
        PoolStates(self.shared())
    }

    /// The states this pool means on the calling thread.
    fn shared(&self) -> Arc<Mutex<Shared>> {
        match &self.scope {
            Scope::Process(shared) => shared.clone(),
            Scope::PerThread { family, limit } => THREAD_POOLS.with(|pools| {
                let mut pools = pools.borrow_mut();
                if let Some((_, shared)) = pools.iter().find(|(f, _)| f == family) {
                    return shared.clone();
                }
                let shared = Shared::new(*limit);
                pools.push((*family, shared.clone()));
                shared
            }),
        }
    }

    /// How many states of each kind this pool keeps at most.
    pub fn limit(&self) -> usize {
        lock(&self.shared()).limit
    }

    /// Change the limit. Lowering it frees the kept compressors beyond the new limit as their connections
    /// next use them, and kept inflaters beyond it as their connections close; free ones go at once.
    pub fn set_limit(&self, limit: usize) {
        let shared = self.shared();
        let mut shared = lock(&shared);
        shared.limit = limit;
        shared.deflate.trim(limit);
        shared.inflate.trim(limit);
    }

    /// How many (compressors, inflaters) the pool holds now, with a connection or free for the next one.
    pub fn kept(&self) -> (usize, usize) {
        let shared = self.shared();
        let shared = lock(&shared);
        (shared.deflate.kept(), shared.inflate.kept())
    }

    /// A fresh owner id for one connection's codec.
    pub(super) fn new_owner() -> u64 {
        NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
    }
}

/// The states of a pool that the connections of one thread use (see [`ContextPool::for_this_thread`]).
#[derive(Clone)]
pub(super) struct PoolStates(Arc<Mutex<Shared>>);

impl PoolStates {
    /// The state for `owner`'s next message: its own with its context when it still has it, else a free,
    /// new or taken-over one (emptied), or `None` when every kept state is busy or recently used. `slot`
    /// remembers which entry is the owner's.
    pub(super) fn acquire<S: Kind>(
        &self,
        owner: u64,
        slot: &mut Option<usize>,
        key: S::Key,
    ) -> Option<Checkout<S>> {
        let now = Instant::now();
        let mut shared = self.lock();
        let limit = shared.limit;
        let slots = S::slots(&mut shared);
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
        let index = slots.pick(limit, key, now, S::TAKEN_OVER)?;
        let entry = &mut slots.entries[index];
        entry.owner = owner;
        let previous = entry.state.take().filter(|_| entry.key == key);
        entry.key = key;
        entry.last_use = now;
        drop(shared);
        *slot = Some(index);
        // Emptying (for a compressor, clearing its 128 KiB hash table) or creating happens outside the lock.
        let state = match previous {
            Some(mut state) => {
                state.clear();
                state
            }
            None => S::create(key),
        };
        Some(Checkout {
            state,
            context: false,
        })
    }

    /// Give back the state `acquire` handed out for `slot`, now holding `owner`'s context.
    pub(super) fn release<S: Kind>(&self, owner: u64, slot: usize, state: S) {
        let mut shared = self.lock();
        let limit = shared.limit;
        let slots = S::slots(&mut shared);
        match slots.entries.get_mut(slot) {
            Some(entry) if entry.owner == owner && (slot < limit || !S::TAKEN_OVER) => {
                entry.state = Some(state);
                entry.last_use = Instant::now();
            }
            Some(entry) if entry.owner == owner => {
                // A compressor beyond a lowered limit: drop it, the owner goes without context from now on.
                entry.owner = FREE;
                slots.trim(limit);
            }
            _ => {}
        }
    }

    /// `owner` is gone: its state of this kind, if it still has one, is free for another connection.
    pub(super) fn forget<S: Kind>(&self, owner: u64, slot: Option<usize>) {
        let Some(slot) = slot else { return };
        let mut shared = self.lock();
        let limit = shared.limit;
        let slots = S::slots(&mut shared);
        if let Some(entry) = slots.entries.get_mut(slot) {
            if entry.owner == owner {
                entry.owner = FREE;
                slots.trim(limit);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.0)
    }
}

impl<S: Kept> Slots<S> {
    fn kept(&self) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.state.is_some() || entry.owner != FREE)
            .count()
    }

    /// The entry a connection without a state gets: a free one (of the same key first), a new one while
    /// below the limit, else, when `take_over`, the least recently used one idle for at least [`MIN_IDLE`].
    fn pick(&mut self, limit: usize, key: S::Key, now: Instant, take_over: bool) -> Option<usize> {
        let usable = self.entries.len().min(limit);
        let free = |entry: &Entry<S>| entry.owner == FREE;
        if let Some(i) = self.entries[..usable]
            .iter()
            .position(|entry| free(entry) && entry.key == key && entry.state.is_some())
            .or_else(|| self.entries[..usable].iter().position(free))
        {
            return Some(i);
        }
        if self.entries.len() < limit {
            self.entries.push(Entry {
                owner: FREE,
                key,
                last_use: now,
                state: None,
            });
            return Some(self.entries.len() - 1);
        }
        if !take_over {
            return None;
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

    /// Drop free entries past the limit from the end, and the states of free ones past it elsewhere, so a
    /// lowered limit returns their memory.
    fn trim(&mut self, limit: usize) {
        while self.entries.len() > limit
            && self.entries.last().is_some_and(|entry| entry.owner == FREE)
        {
            self.entries.pop();
        }
        for entry in self.entries.iter_mut().skip(limit) {
            if entry.owner == FREE {
                entry.state = None;
            }
        }
    }
}

impl Default for ContextPool {
    /// The default pool: [`DEFAULT_POOL_LIMIT`] states of each kind per thread, one family for every
    /// configuration that does not name a pool of its own.
    fn default() -> Self {
        Self {
            scope: Scope::PerThread {
                family: 0,
                limit: DEFAULT_POOL_LIMIT,
            },
        }
    }
}

impl Shared {
    fn new(limit: usize) -> Arc<Mutex<Shared>> {
        Arc::new(Mutex::new(Shared {
            limit,
            deflate: Slots {
                entries: Vec::new(),
            },
            inflate: Slots {
                entries: Vec::new(),
            },
        }))
    }
}

/// Locks a pool's states. Every update under the lock completes before the lock is released, so a panic
/// elsewhere leaves the entries usable.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for ContextPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared();
        let shared = lock(&shared);
        f.debug_struct("ContextPool")
            .field("limit", &shared.limit)
            .field("compressors", &shared.deflate.entries.len())
            .field("inflaters", &shared.inflate.entries.len())
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

    /// Forget everything and return the memory: a kept inflater holds the window from now on.
    pub(super) fn free(&mut self) {
        self.buf = Vec::new();
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

    /// Each thread's connections have their own states under a per-thread pool, each up to the limit: no
    /// thread takes another's lock, or finds its states full because of another's connections.
    #[test]
    fn per_thread_pools_keep_each_threads_states_apart() {
        let config = ContextPool::per_thread(1);
        let fill = |config: &ContextPool| {
            let pool = config.for_this_thread();
            let owner = ContextPool::new_owner();
            let mut slot = None;
            let got = pool.acquire::<Compress>(owner, &mut slot, key()).unwrap();
            pool.release(owner, slot.unwrap(), got.state);
            let other = ContextPool::new_owner();
            let full = pool.acquire::<Compress>(other, &mut None, key()).is_none();
            (config.kept(), full)
        };
        assert_eq!(fill(&config), ((1, 0), true));
        let elsewhere = std::thread::scope(|s| s.spawn(|| (config.kept(), fill(&config))).join());
        assert_eq!(elsewhere.unwrap(), ((0, 0), ((1, 0), true)));
        assert_eq!(config.kept(), (1, 0), "this thread's state stays with it");
        let shared = ContextPool::new(1);
        fill(&shared);
        let elsewhere = std::thread::scope(|s| s.spawn(|| shared.kept()).join());
        assert_eq!(
            elsewhere.unwrap(),
            (1, 0),
            "a pool for every thread is one set of states"
        );
    }

    #[test]
    fn pool_keeps_context_until_limit() {
        let config = ContextPool::new(2);
        let pool = config.for_this_thread();
        let (a, b, c) = (
            ContextPool::new_owner(),
            ContextPool::new_owner(),
            ContextPool::new_owner(),
        );
        let (mut slot_a, mut slot_b, mut slot_c) = (None, None, None);
        let first = pool.acquire::<Compress>(a, &mut slot_a, key()).unwrap();
        assert!(!first.context);
        pool.release(a, slot_a.unwrap(), first.state);
        let again = pool.acquire::<Compress>(a, &mut slot_a, key()).unwrap();
        assert!(again.context);
        pool.release(a, slot_a.unwrap(), again.state);
        let other = pool.acquire::<Compress>(b, &mut slot_b, key()).unwrap();
        pool.release(b, slot_b.unwrap(), other.state);
        // Both kept compressors were used just now: the third connection gets none.
        assert!(pool.acquire::<Compress>(c, &mut slot_c, key()).is_none());
        assert_eq!(config.kept().0, 2);
        // A closed connection's compressor goes to the next one, without context.
        pool.forget::<Compress>(a, slot_a);
        let reused = pool.acquire::<Compress>(c, &mut slot_c, key()).unwrap();
        assert!(!reused.context);
        assert_eq!(slot_c, slot_a);
        pool.release(c, slot_c.unwrap(), reused.state);
        assert_eq!(config.kept().0, 2);
    }

    #[test]
    fn kept_inflaters_stay_with_their_connection() {
        let config = ContextPool::new(1);
        let pool = config.for_this_thread();
        let (a, b) = (ContextPool::new_owner(), ContextPool::new_owner());
        let (mut slot_a, mut slot_b) = (None, None);
        let inflater = pool.acquire::<Decompress>(a, &mut slot_a, ()).unwrap();
        pool.release(a, slot_a.unwrap(), inflater.state);
        // However long a's inflater goes unused, b does not get it: it holds a's only copy of the window.
        assert!(pool.acquire::<Decompress>(b, &mut slot_b, ()).is_none());
        config.set_limit(0);
        let again = pool.acquire::<Decompress>(a, &mut slot_a, ()).unwrap();
        assert!(again.context);
        pool.release(a, slot_a.unwrap(), again.state);
        assert_eq!(config.kept(), (0, 1));
        pool.forget::<Decompress>(a, slot_a);
        assert_eq!(config.kept(), (0, 0));
    }

    #[test]
    fn lowering_the_limit_frees_compressors() {
        let config = ContextPool::new(2);
        let pool = config.for_this_thread();
        let (a, b) = (ContextPool::new_owner(), ContextPool::new_owner());
        let (mut slot_a, mut slot_b) = (None, None);
        let state_a = pool
            .acquire::<Compress>(a, &mut slot_a, key())
            .unwrap()
            .state;
        pool.release(a, slot_a.unwrap(), state_a);
        let state_b = pool
            .acquire::<Compress>(b, &mut slot_b, key())
            .unwrap()
            .state;
        config.set_limit(1);
        pool.release(b, slot_b.unwrap(), state_b);
        assert_eq!(config.kept().0, 1);
        config.set_limit(0);
        pool.forget::<Compress>(a, slot_a);
        assert_eq!(config.kept().0, 0);
        assert!(pool.acquire::<Compress>(a, &mut slot_a, key()).is_none());
    }
}
