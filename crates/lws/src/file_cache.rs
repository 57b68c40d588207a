//! A small per-thread cache of small files: their content, validators and content type, so that a hot file
//! costs one `statx` per request instead of open, stat, read and close.
//!
//! Hits are revalidated against the file system: the path is stat'ed and the entry is used only if the
//! inode, size, modification and change times are all unchanged, so edits and replaced files (or a symlink
//! swapped to point elsewhere) are seen by the next request. Requests that arrived in the same read from one
//! connection (pipelined HTTP/1.1, multiplexed HTTP/2 streams) share one check: the drivers call
//! [`new_batch`] after every read, and an entry checked in the current batch is not stat'ed again — the
//! requests of one batch see one version of a file, as with h2o's per-event-loop cache. A changed or unknown
//! file goes through the normal confined open, which refuses anything outside the origin.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

/// Files up to this size are cached.
pub(crate) const MAX_FILE: u64 = 64 * 1024;
/// Entries per thread.
const MAX_ENTRIES: usize = 512;
/// Content bytes per thread.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// What is known about one cached file.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) body: Bytes,
    pub(crate) info: Arc<crate::file_info::FileInfo>,
    stamp: Stamp,
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
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
    static BATCH: Cell<u64> = const { Cell::new(1) };
}

/// Starts a new batch on this thread: the next lookup of every entry checks the file system again. Called by
/// the connection drivers after each read.
pub(crate) fn new_batch() {
    BATCH.with(|b| b.set(b.get().wrapping_add(1)));
}

/// The cached copy of `rel` in origin `origin_id`, if there is one and the file (at the path `full` builds,
/// stat'ed at most once per batch) still has the same metadata.
pub(crate) fn lookup(
    origin_id: u64,
    rel: &str,
    full: impl FnOnce() -> PathBuf,
) -> Option<(Bytes, Arc<crate::file_info::FileInfo>)> {
    let batch = BATCH.with(Cell::get);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let entries = c.origin(origin_id)?;
        let e = entries.get_mut(rel)?;
        if e.checked == batch {
            return Some((e.body.clone(), e.info.clone()));
        }
        match std::fs::metadata(full()) {
            Ok(m) if Stamp::of(&m) == e.stamp => {
                e.checked = batch;
                Some((e.body.clone(), e.info.clone()))
            }
            _ => {
                if let Some(old) = entries.remove(rel) {
                    c.entries -= 1;
                    c.bytes -= old.body.len();
                }
                None
            }
        }
    })
}

/// Remembers a small file just read through the confined open; `meta` is that open file's metadata.
pub(crate) fn insert(
    origin_id: u64,
    rel: &str,
    meta: &Metadata,
    body: Bytes,
    info: Arc<crate::file_info::FileInfo>,
) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.entries >= MAX_ENTRIES || c.bytes + body.len() > MAX_BYTES {
            // Full: start over rather than track recency; hot files come back on their next request.
            c.clear();
        }
        let len = body.len();
        let entry = Cached {
            body,
            info,
            stamp: Stamp::of(meta),
            checked: BATCH.with(Cell::get),
        };
        if c.origin(origin_id).is_none() {
            c.origins.push((origin_id, HashMap::new()));
        }
        let old = c
            .origin(origin_id)
            .and_then(|m| m.insert(rel.into(), entry));
        c.entries += 1;
        c.bytes += len;
        if let Some(old) = old {
            c.entries -= 1;
            c.bytes -= old.body.len();
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

    #[test]
    fn hit_only_while_metadata_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "one").unwrap();
        let meta = std::fs::metadata(&f).unwrap();
        insert(7, "a.txt", &meta, Bytes::from_static(b"one"), info());
        assert_eq!(
            lookup(7, "a.txt", || f.clone()).map(|h| h.0),
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
}
