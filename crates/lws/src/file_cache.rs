//! A per-thread cache of hot files: small files' content, larger files' open descriptors, and for both their
//! validators and content type, so that a hot file costs no open, stat, read or close per request.
//!
//! Entries stay current by change notification where the kernel offers it ([`crate::file_watch`]): a
//! change to a cached file or to a directory on its path empties the thread's cache before a request sent
//! after the change is served, and a hit costs no system call. Where a file cannot be watched (no inotify,
//! no tokio reactor, the watch limit reached), its hits are revalidated against the file system instead:
//! the path is stat'ed and the entry is used only if the inode, size, modification and change times are all
//! unchanged. Requests that arrived in the same read from one connection (pipelined HTTP/1.1, multiplexed
//! HTTP/2 streams) share one such check: the drivers call [`new_batch`] after every read, and an entry
//! checked in the current batch is not stat'ed again. A changed or unknown file goes through the normal
//! confined open, which refuses anything outside the origin.

use std::cell::{Cell, RefCell};
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
// Keys are paths of files that exist under an origin (inserted only after a successful open), so a client
// cannot fill a bucket; a fast hash is enough.
use rustc_hash::FxHashMap as HashMap;

use crate::file_watch::Watcher;

/// Files up to this size are cached with their content; larger ones with their open descriptor.
pub(crate) const MAX_FILE: u64 = 64 * 1024;
/// Entries per thread.
const MAX_ENTRIES: usize = 512;
/// Content bytes per thread.
const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Open descriptors of large files kept per thread.
const MAX_OPEN: usize = 64;

/// A cached file's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// The whole small file.
    Memory(Bytes),
    /// A large file, open; it is read at explicit offsets, so every response can share it.
    Open(Arc<File>),
}

/// What is known about one cached file.
#[derive(Debug)]
struct Cached {
    content: Content,
    info: Arc<crate::file_info::FileInfo>,
    stamp: Stamp,
    /// Changes are notified by the thread's watcher: hits need no check.
    watched: bool,
    /// The batch in which the stamp was last checked against the file system.
    checked: u64,
}

/// The metadata that must be unchanged for a cached copy to be current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

#[derive(Default)]
struct Cache {
    /// Per origin, entries by path below it (looked up by `&str`, so a lookup allocates nothing).
    origins: Vec<(u64, HashMap<Box<str>, Cached>)>,
    entries: usize,
    bytes: usize,
    open: usize,
    /// Change notification for the watched entries; dropped (with every watch) when the cache is emptied.
    watcher: Option<Watcher>,
}

impl Cache {
    fn origin(&mut self, id: u64) -> Option<&mut HashMap<Box<str>, Cached>> {
        self.origins
            .iter_mut()
            .find(|(o, _)| *o == id)
            .map(|(_, m)| m)
    }

    fn clear(&mut self) {
        self.origins.clear();
        self.entries = 0;
        self.bytes = 0;
        self.open = 0;
        self.watcher = None;
    }

    /// Empties the cache if a watched file changed.
    fn check_watcher(&mut self) {
        if self.watcher.as_mut().is_some_and(|w| !w.unchanged()) {
            self.clear();
        }
    }

    fn forget(&mut self, old: &Cached) {
        self.entries -= 1;
        match &old.content {
            Content::Memory(b) => self.bytes -= b.len(),
            Content::Open(_) => self.open -= 1,
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
    static BATCH: Cell<u64> = const { Cell::new(1) };
}

/// Starts a new batch on this thread: the next lookup of every unwatched entry checks the file system again.
/// Called by the connection drivers after each read.
pub(crate) fn new_batch() {
    BATCH.with(|b| b.set(b.get().wrapping_add(1)));
}

/// The cached copy of `rel` in origin `origin_id`, if there is one and the file is unchanged (notified by
/// the watcher, or for an unwatched entry, the path `full` builds stat'ed at most once per batch).
pub(crate) fn lookup(
    origin_id: u64,
    rel: &str,
    full: impl FnOnce() -> PathBuf,
) -> Option<(Content, Arc<crate::file_info::FileInfo>)> {
    let batch = BATCH.with(Cell::get);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.check_watcher();
        let entries = c.origin(origin_id)?;
        let e = entries.get_mut(rel)?;
        if e.watched || e.checked == batch {
            return Some((e.content.clone(), e.info.clone()));
        }
        match std::fs::metadata(full()) {
            Ok(m) if Stamp::of(&m) == e.stamp => {
                e.checked = batch;
                Some((e.content.clone(), e.info.clone()))
            }
            _ => {
                if let Some(old) = entries.remove(rel) {
                    c.forget(&old);
                }
                None
            }
        }
    })
}

/// Where a file just opened through the confined open lies: the origin directory and the file's path in it.
pub(crate) struct Location<'a> {
    pub(crate) origin_id: u64,
    pub(crate) root: &'a Path,
    pub(crate) rel: &'a str,
}

/// Remembers a file just opened through the confined open; `meta` is that open file's metadata.
pub(crate) fn insert(
    at: &Location<'_>,
    meta: &Metadata,
    content: Content,
    info: Arc<crate::file_info::FileInfo>,
) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.check_watcher();
        let (bytes, open) = match &content {
            Content::Memory(b) => (b.len(), 0),
            Content::Open(_) => (0, 1),
        };
        if c.entries >= MAX_ENTRIES || c.bytes + bytes > MAX_BYTES || c.open + open > MAX_OPEN {
            // Full: start over rather than track recency; hot files come back on their next request.
            c.clear();
        }
        if c.watcher.is_none() {
            c.watcher = Watcher::new();
        }
        let watched = c
            .watcher
            .as_mut()
            .is_some_and(|w| w.watch(at.root, &at.root.join(at.rel)));
        let entry = Cached {
            content,
            info,
            stamp: Stamp::of(meta),
            watched,
            checked: BATCH.with(Cell::get),
        };
        if c.origin(at.origin_id).is_none() {
            c.origins.push((at.origin_id, HashMap::default()));
        }
        let old = c
            .origin(at.origin_id)
            .and_then(|m| m.insert(at.rel.into(), entry));
        c.entries += 1;
        c.bytes += bytes;
        c.open += open;
        if let Some(old) = old {
            c.forget(&old);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_info::FileInfo;

    fn info() -> Arc<FileInfo> {
        Arc::new(FileInfo::new(3, None, None))
    }

    fn memory(c: Option<(Content, Arc<FileInfo>)>) -> Option<Bytes> {
        match c?.0 {
            Content::Memory(b) => Some(b),
            Content::Open(_) => None,
        }
    }

    /// A directory holding `a.txt` ("one"), cached in origin `origin_id`.
    fn cached_one(origin_id: u64) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "one").unwrap();
        let meta = std::fs::metadata(&f).unwrap();
        let at = Location {
            origin_id,
            root: dir.path(),
            rel: "a.txt",
        };
        insert(
            &at,
            &meta,
            Content::Memory(Bytes::from_static(b"one")),
            info(),
        );
        (dir, f)
    }

    /// Without a tokio reactor there is no watcher: hits are checked with `statx`, once per batch.
    #[test]
    fn unwatched_hit_only_while_metadata_is_unchanged() {
        let (dir, f) = cached_one(7);
        assert_eq!(
            memory(lookup(7, "a.txt", || f.clone())),
            Some(Bytes::from_static(b"one"))
        );
        assert!(
            lookup(8, "a.txt", || f.clone()).is_none(),
            "another origin never shares entries"
        );
        // Replace the file (new inode, same size): the next batch must not serve the cached copy.
        let tmp = dir.path().join("b.txt");
        std::fs::write(&tmp, "two").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        assert!(
            lookup(7, "a.txt", || f.clone()).is_some(),
            "requests of one batch share one check"
        );
        new_batch();
        assert!(lookup(7, "a.txt", || f.clone()).is_none());
        assert!(
            lookup(7, "a.txt", || f.clone()).is_none(),
            "the stale entry is gone"
        );
    }

    /// With a reactor, hits cost no check and a change empties the cache before the next lookup, even
    /// within one batch.
    #[tokio::test]
    async fn watched_entries_are_dropped_on_change() {
        let (_dir, f) = cached_one(9);
        new_batch();
        let unreachable = || PathBuf::from("/nonexistent/never/stat'ed");
        assert!(
            lookup(9, "a.txt", unreachable).is_some(),
            "a watched hit does not stat the path"
        );
        std::fs::write(&f, "two").unwrap();
        tokio::task::yield_now().await;
        assert!(lookup(9, "a.txt", unreachable).is_none());
    }
}
