//! A small per-thread cache of small files: their content, validators and content type, so that a hot file
//! costs one `statx` per request instead of open, stat, read and close.
//!
//! Every hit is revalidated against the file system: the path is stat'ed and the entry is used only if the
//! inode, size, modification and change times are all unchanged, so edits and replaced files (or a symlink
//! swapped to point elsewhere) are seen at once. A changed or unknown file goes through the normal confined
//! open, which refuses anything outside the origin.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
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
    pub(crate) info: Arc<super::files::FileInfo>,
    stamp: Stamp,
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
    entries: HashMap<(u64, Box<str>), Cached>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The cached copy of `rel` in origin `origin_id`, if there is one and `full` still has the same metadata.
pub(crate) fn lookup(
    origin_id: u64,
    rel: &str,
    full: &Path,
) -> Option<(Bytes, Arc<super::files::FileInfo>)> {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let key = (origin_id, Box::<str>::from(rel));
        let stamp = c.entries.get(&key)?.stamp;
        match std::fs::metadata(full) {
            Ok(m) if Stamp::of(&m) == stamp => {
                let e = c.entries.get(&key)?;
                Some((e.body.clone(), e.info.clone()))
            }
            _ => {
                if let Some(old) = c.entries.remove(&key) {
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
    info: Arc<super::files::FileInfo>,
) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.entries.len() >= MAX_ENTRIES || c.bytes + body.len() > MAX_BYTES {
            // Full: start over rather than track recency; hot files come back on their next request.
            c.entries.clear();
            c.bytes = 0;
        }
        c.bytes += body.len();
        let entry = Cached {
            body,
            info,
            stamp: Stamp::of(meta),
        };
        if let Some(old) = c.entries.insert((origin_id, rel.into()), entry) {
            c.bytes -= old.body.len();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileInfo;

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
            lookup(7, "a.txt", &f).map(|h| h.0),
            Some(Bytes::from_static(b"one"))
        );
        assert!(
            lookup(8, "a.txt", &f).is_none(),
            "another origin never shares entries"
        );
        // Replace the file (new inode, same size): the cached copy must not be served.
        let tmp = dir.path().join("b.txt");
        std::fs::write(&tmp, "two").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        assert!(lookup(7, "a.txt", &f).is_none());
        assert!(lookup(7, "a.txt", &f).is_none(), "the stale entry is gone");
    }
}
