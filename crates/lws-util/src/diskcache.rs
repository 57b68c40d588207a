//! A managed on-disk object cache with least-recently-used trimming, after libwebsockets' `lws_diskcache`.
//!
//! Objects live in a directory, named by the lowercase hex SHA-256 of their key and spread over 256
//! subdirectories by the first two hex digits: `dir/<h0>/<h1>/<64 hex digits>`. [`DiskCache::query`] either opens an
//! existing object (and marks it recently used by setting its mtime to now), or hands out a [`PendingObject`]: a
//! uniquely named temporary file in the object's subdirectory that the caller fills and then
//! [finalizes](PendingObject::finalize), which fsyncs it and renames it into place atomically. A pending object
//! dropped without finalizing is deleted.
//!
//! [`DiskCache::trim`] keeps the cache under its size limit. It is cheap enough to call every second: each call
//! lists and stats **one** subdirectory, round-robin, so a full pass takes 256 calls. During a pass it adds up the
//! sizes of everything it sees and keeps the `batch_len` oldest objects (by mtime) in a bounded max-heap, so its
//! memory is fixed however big the cache grows. When a pass completes and the total is over the limit, it deletes
//! from that batch, oldest first, until the total is under the limit; an object whose mtime changed since it was
//! seen (it was used meanwhile) is spared. If the batch was not enough, the next pass takes the next-oldest batch.
//! Temporary files older than `temp_max_age` (abandoned by a crashed or stuck writer) are deleted as they are met;
//! younger ones count towards the size.
//!
//! Several processes may share the directory: temporary names hold the pid, a per-process counter and random bits;
//! rename is atomic, so readers see no object or a complete one, and when two creators race the last rename wins
//! with an equally complete object; trimming tolerates files vanishing under it. Files whose names are neither
//! objects nor temporaries are left alone and not counted.
//!
//! Differences from libwebsockets: keys are hashed here (lws takes the hex hash from the caller); the trim does not
//! compute its own back-off (`lws_diskcache_secs_to_idle`), since a call costs one directory listing; there is no
//! `chown` step (`lws_diskcache_prepare`), the directories are created with the process's umask; mtimes are set to
//! the current time explicitly rather than by re-opening the file, so recency has the clock's resolution.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// Default for [`DiskCacheBuilder::batch_len`]: how many eviction candidates one trim pass keeps (as in lws).
pub const DEFAULT_BATCH_LEN: usize = 128;

/// Default for [`DiskCacheBuilder::temp_max_age`]: a temporary file untouched this long is abandoned.
pub const DEFAULT_TEMP_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Default for [`DiskCacheBuilder::size_limit`]: 256 MiB, the libwebsockets fallback.
pub const DEFAULT_SIZE_LIMIT: u64 = 256 * 1024 * 1024;

/// The number of subdirectories objects are spread over, and so the number of [`DiskCache::trim`] calls in a pass.
pub const SUBDIRS: usize = 256;

/// Settings for a [`DiskCache`], from [`DiskCache::builder`].
#[derive(Clone, Debug)]
pub struct DiskCacheBuilder {
    dir: PathBuf,
    size_limit: u64,
    batch_len: usize,
    temp_max_age: Duration,
}

impl DiskCacheBuilder {
    /// The total size in bytes that [`DiskCache::trim`] brings the cache back under (default
    /// [`DEFAULT_SIZE_LIMIT`]).
    pub fn size_limit(mut self, bytes: u64) -> Self {
        self.size_limit = bytes;
        self
    }

    /// How many of the oldest objects a trim pass remembers as eviction candidates (default [`DEFAULT_BATCH_LEN`],
    /// at least 1). This is the trim's whole memory, and the most it deletes per pass.
    pub fn batch_len(mut self, candidates: usize) -> Self {
        self.batch_len = candidates.max(1);
        self
    }

    /// How old (by mtime) a temporary file must be before a trim deletes it as abandoned (default
    /// [`DEFAULT_TEMP_MAX_AGE`]). A writer that pauses longer than this loses its file and its
    /// [`PendingObject::finalize`] fails.
    pub fn temp_max_age(mut self, age: Duration) -> Self {
        self.temp_max_age = age;
        self
    }

    /// Create the directory and its 256 subdirectories if needed, and open the cache.
    pub fn open(self) -> io::Result<DiskCache> {
        for i in 0..SUBDIRS {
            fs::create_dir_all(subdir_path(&self.dir, i))?;
        }
        Ok(DiskCache {
            trim: Mutex::new(TrimState {
                next_subdir: 0,
                pass_bytes: 0,
                estimated_size: None,
                oldest: BinaryHeap::with_capacity(self.batch_len),
            }),
            dir: self.dir,
            size_limit: self.size_limit,
            batch_len: self.batch_len,
            temp_max_age: self.temp_max_age,
        })
    }
}

/// A managed cache directory; see the module documentation. Share it between threads by reference or `Arc`.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    size_limit: u64,
    batch_len: usize,
    temp_max_age: Duration,
    trim: Mutex<TrimState>,
}

/// The answer of [`DiskCache::query`].
#[non_exhaustive]
#[derive(Debug)]
pub enum Lookup {
    /// The object exists: opened read-only at its start, and marked as recently used.
    Exists(File),
    /// The object does not exist: fill the pending object and finalize it to add it.
    Creating(PendingObject),
    /// The object does not exist and will not be created: [`DiskCache::query_existing`] was used, or the temporary
    /// file could not be created (permissions, disk full); carry on without the cache.
    NotCacheable,
}

/// An object being created: a temporary file next to its final place, removed on drop unless finalized.
#[derive(Debug)]
pub struct PendingObject {
    file: File,
    temp: PathBuf,
    dest: PathBuf,
    finalized: bool,
}

/// What one [`DiskCache::trim`] call did.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrimReport {
    /// The subdirectory scanned (0..=255, `h0 * 16 + h1`).
    pub subdir: usize,
    /// Whether this call completed a pass over all subdirectories (and so may have evicted).
    pub pass_complete: bool,
    /// Objects found in the subdirectory.
    pub scanned_objects: u64,
    /// Objects deleted to get under the size limit.
    pub evicted_objects: u64,
    /// Bytes freed by those deletions.
    pub evicted_bytes: u64,
    /// Abandoned temporary files deleted.
    pub removed_temps: u64,
    /// The total size found by the last complete pass, less what was evicted since; `None` before the first pass.
    pub estimated_size: Option<u64>,
}

impl DiskCache {
    /// Settings for a cache in `dir`, with the defaults.
    pub fn builder(dir: impl Into<PathBuf>) -> DiskCacheBuilder {
        DiskCacheBuilder {
            dir: dir.into(),
            size_limit: DEFAULT_SIZE_LIMIT,
            batch_len: DEFAULT_BATCH_LEN,
            temp_max_age: DEFAULT_TEMP_MAX_AGE,
        }
    }

    /// Open (creating if needed) a cache in `dir` that trims to `size_limit` bytes, other settings default.
    pub fn open(dir: impl Into<PathBuf>, size_limit: u64) -> io::Result<DiskCache> {
        DiskCache::builder(dir).size_limit(size_limit).open()
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size limit in bytes.
    pub fn size_limit(&self) -> u64 {
        self.size_limit
    }

    /// Where the object for `key` lives (whether or not it exists).
    pub fn object_path(&self, key: &[u8]) -> PathBuf {
        object_path(&self.dir, &Sha256::digest(key).into())
    }

    /// Look up `key`: the existing object (marked recently used), or a pending object to create it.
    ///
    /// I/O errors other than "not found" while opening an existing object are returned; failing to create the
    /// temporary file gives [`Lookup::NotCacheable`].
    pub fn query(&self, key: &[u8]) -> io::Result<Lookup> {
        self.lookup(key, true)
    }

    /// Look up `key` without ever creating it: a missing object is [`Lookup::NotCacheable`] (libwebsockets'
    /// `is_bot`, for clients whose requests are too random to be worth caching).
    pub fn query_existing(&self, key: &[u8]) -> io::Result<Lookup> {
        self.lookup(key, false)
    }

    fn lookup(&self, key: &[u8], create: bool) -> io::Result<Lookup> {
        let id: [u8; 32] = Sha256::digest(key).into();
        let dest = object_path(&self.dir, &id);
        match File::open(&dest) {
            Ok(file) => {
                // Best effort: a file owned by another user cannot be touched, and is then just older for LRU.
                let _ = file.set_modified(SystemTime::now());
                return Ok(Lookup::Exists(file));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if !create {
            return Ok(Lookup::NotCacheable);
        }
        let temp = temp_path(&dest);
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temp)
        };
        let file = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The subdirectory was removed under us: make it again, once.
                match dest.parent().map(fs::create_dir_all) {
                    Some(Ok(())) => open(),
                    _ => Err(e),
                }
            }
            other => other,
        };
        Ok(match file {
            Ok(file) => Lookup::Creating(PendingObject {
                file,
                temp,
                dest,
                finalized: false,
            }),
            Err(_) => Lookup::NotCacheable,
        })
    }

    /// One step of keeping the cache under its size limit: scan the next subdirectory, and at the end of a pass
    /// evict the oldest objects while over the limit. See the module documentation for the algorithm.
    pub fn trim(&self) -> io::Result<TrimReport> {
        let mut state = self
            .trim
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let subdir = state.next_subdir;
        let mut report = TrimReport {
            subdir,
            ..TrimReport::default()
        };
        let now = SystemTime::now();
        let entries = match fs::read_dir(subdir_path(&self.dir, subdir)) {
            Ok(entries) => Some(entries),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        for entry in entries.into_iter().flatten() {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(kind) = name.to_str().and_then(classify) else {
                continue;
            };
            // Files may vanish between listing and stat: another process trimmed or finalized them.
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let mtime = meta.modified()?;
            match kind {
                Name::Temp => {
                    let age = now.duration_since(mtime).unwrap_or(Duration::ZERO);
                    if age > self.temp_max_age {
                        if remove_tolerant(&entry.path())? {
                            report.removed_temps += 1;
                        }
                    } else {
                        state.pass_bytes += meta.len();
                    }
                }
                Name::Object(id) => {
                    report.scanned_objects += 1;
                    state.pass_bytes += meta.len();
                    state.offer(
                        Candidate {
                            mtime,
                            size: meta.len(),
                            id,
                        },
                        self.batch_len,
                    );
                }
            }
        }

        state.next_subdir = (subdir + 1) % SUBDIRS;
        if state.next_subdir == 0 {
            report.pass_complete = true;
            let mut total = std::mem::take(&mut state.pass_bytes);
            // Oldest first; the heap's buffer is reused, so the pass allocates nothing.
            let mut batch = std::mem::take(&mut state.oldest).into_sorted_vec();
            for candidate in &batch {
                if total <= self.size_limit {
                    break;
                }
                let path = object_path(&self.dir, &candidate.id);
                match fs::symlink_metadata(&path) {
                    Ok(meta) if meta.modified()? != candidate.mtime => continue,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        total = total.saturating_sub(candidate.size);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                if remove_tolerant(&path)? {
                    report.evicted_objects += 1;
                    report.evicted_bytes += candidate.size;
                }
                total = total.saturating_sub(candidate.size);
            }
            batch.clear();
            state.oldest = BinaryHeap::from(batch);
            state.estimated_size = Some(total);
        }
        report.estimated_size = state.estimated_size;
        Ok(report)
    }
}

impl PendingObject {
    /// The temporary file to write the object into (opened read-write).
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// The temporary file's path.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Make the object visible: flush it to disk, mark it recently used and rename it into place atomically.
    /// Returns the object's file, rewound to its start, for serving what was just written.
    pub fn finalize(mut self) -> io::Result<File> {
        self.file.sync_all()?;
        let _ = self.file.set_modified(SystemTime::now());
        fs::rename(&self.temp, &self.dest)?;
        self.finalized = true;
        if let Some(parent) = self.dest.parent() {
            // Best effort: make the rename itself durable (not possible on every platform).
            if let Ok(dir) = File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

impl Drop for PendingObject {
    fn drop(&mut self) {
        if !self.finalized {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The trim's state between calls: fixed size, whatever the cache holds.
#[derive(Debug)]
struct TrimState {
    next_subdir: usize,
    pass_bytes: u64,
    estimated_size: Option<u64>,
    /// Max-heap of the oldest objects seen this pass, never more than `batch_len`.
    oldest: BinaryHeap<Candidate>,
}

impl TrimState {
    fn offer(&mut self, candidate: Candidate, batch_len: usize) {
        if self.oldest.len() < batch_len {
            self.oldest.push(candidate);
        } else if self.oldest.peek().is_some_and(|newest| candidate < *newest) {
            self.oldest.pop();
            self.oldest.push(candidate);
        }
    }
}

/// An eviction candidate, ordered by age (then name, for a stable order among equal mtimes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    mtime: SystemTime,
    size: u64,
    id: [u8; 32],
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.mtime.cmp(&other.mtime).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a file name in a subdirectory is.
enum Name {
    Object([u8; 32]),
    Temp,
}

fn classify(name: &str) -> Option<Name> {
    match name.split_once('~') {
        Some((hash, _)) => parse_id(hash).map(|_| Name::Temp),
        None => parse_id(name).map(Name::Object),
    }
}

fn parse_id(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut id = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0])?;
        let lo = hex_value(pair[1])?;
        id[i] = hi << 4 | lo;
    }
    Some(id)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn subdir_path(dir: &Path, index: usize) -> PathBuf {
    let hi = char::from(HEX[(index >> 4) & 15]).to_string();
    let lo = char::from(HEX[index & 15]).to_string();
    dir.join(hi).join(lo)
}

fn object_path(dir: &Path, id: &[u8; 32]) -> PathBuf {
    let mut name = String::with_capacity(64);
    for b in id {
        name.push(char::from(HEX[usize::from(b >> 4)]));
        name.push(char::from(HEX[usize::from(b & 15)]));
    }
    subdir_path(dir, usize::from(id[0])).join(name)
}

/// `<object path>~<pid>-<counter>-<random>`: unique across threads and processes sharing the directory.
fn temp_path(dest: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(count);
    if let Ok(since) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    let mut name = dest.as_os_str().to_owned();
    name.push(format!(
        "~{}-{count}-{:016x}",
        std::process::id(),
        hasher.finish()
    ));
    PathBuf::from(name)
}

/// Remove a file; `Ok(false)` if it was already gone (another process got there first).
fn remove_tolerant(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn layout_matches_libwebsockets() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(dir.path(), 1 << 20).unwrap();
        assert!(dir.path().join("0").join("0").is_dir());
        assert!(dir.path().join("f").join("f").is_dir());
        let path = cache.object_path(b"abc");
        // SHA-256("abc") starts ba7816bf.
        assert!(
            path.ends_with("b/a/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn create_then_exists() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(dir.path(), 1 << 20).unwrap();
        let Lookup::Creating(mut pending) = cache.query(b"k").unwrap() else {
            panic!()
        };
        assert!(pending.temp_path().to_str().unwrap().contains('~'));
        pending.file().write_all(b"hello").unwrap();
        let mut written = pending.finalize().unwrap();
        let mut s = String::new();
        written.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        let Lookup::Exists(mut file) = cache.query(b"k").unwrap() else {
            panic!()
        };
        s.clear();
        file.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn dropped_pending_object_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(dir.path(), 1 << 20).unwrap();
        let Lookup::Creating(pending) = cache.query(b"k").unwrap() else {
            panic!()
        };
        let temp = pending.temp_path().to_owned();
        assert!(temp.exists());
        drop(pending);
        assert!(!temp.exists());
        assert!(matches!(
            cache.query_existing(b"k").unwrap(),
            Lookup::NotCacheable
        ));
    }

    #[test]
    fn names_are_classified() {
        let hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(matches!(classify(hash), Some(Name::Object(_))));
        assert!(matches!(
            classify(&format!("{hash}~12-0-ab")),
            Some(Name::Temp)
        ));
        assert!(classify("README").is_none());
        assert!(classify(&hash.to_uppercase()).is_none());
    }

    #[test]
    fn batch_keeps_the_oldest() {
        let mut state = TrimState {
            next_subdir: 0,
            pass_bytes: 0,
            estimated_size: None,
            oldest: BinaryHeap::with_capacity(3),
        };
        for secs in [5u64, 1, 9, 3, 7, 2] {
            let candidate = Candidate {
                mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
                size: 1,
                id: [secs as u8; 32],
            };
            state.offer(candidate, 3);
        }
        let kept: Vec<u8> = state
            .oldest
            .into_sorted_vec()
            .iter()
            .map(|c| c.id[0])
            .collect();
        assert_eq!(kept, [1, 2, 3]);
    }
}
