//! Bounded-memory accumulation of word occurrences: an arena per *run*, flushed to a sorted run file on disk
//! when it exceeds the memory budget, and a k-way merge of the runs.
//!
//! The arena plays the role of libwebsockets' lwsac: words, per-word list heads and occurrences live in a few
//! append-only vectors that are never freed piecemeal, only dropped all at once when the run is flushed.
//! Occurrences of one word form a linked list through the occurrence vector (indices, not pointers), so
//! adding a hit is one hash lookup and one push.
//!
//! A run file is a sequence of `VLI word length, word, VLI blob length, blob`, sorted by word, where the blob
//! holds file records `VLI file index, VLI hits, hits × VLI line delta`. Merging reads at most
//! [`MAX_FAN_IN`] runs at once (merging groups into bigger runs first), so merge memory is bounded too.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::varint;

/// Most runs merged at once.
pub(crate) const MAX_FAN_IN: usize = 32;
const NONE: u32 = u32::MAX;

/// Occurrences of words gathered since the last flush.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    terms: HashMap<Box<[u8]>, u32, BuildHasherDefault<FxHasher>>,
    lists: Vec<(u32, u32)>,
    /// Fixed-size chunks, like lwsac's: growing never copies or doubles what is already there.
    occ: Vec<Vec<Occ>>,
    occ_len: usize,
    word_bytes: usize,
}

/// Occurrences per arena chunk (12 bytes each: 768 KiB chunks).
const CHUNK: usize = 1 << 16;

#[derive(Debug, Clone, Copy)]
struct Occ {
    file: u32,
    line: u32,
    next: u32,
}

impl Arena {
    /// Records one occurrence of `word`.
    pub(crate) fn add(&mut self, word: &[u8], file: u32, line: u32) {
        let id = match self.terms.get(word) {
            Some(&id) => id,
            None => {
                let id = self.lists.len() as u32;
                self.terms.insert(word.into(), id);
                self.lists.push((NONE, NONE));
                self.word_bytes += word.len();
                id
            }
        };
        let i = self.occ_len as u32;
        if self.occ_len % CHUNK == 0 {
            self.occ.push(Vec::with_capacity(CHUNK));
        }
        self.occ_len += 1;
        let Some(chunk) = self.occ.last_mut() else {
            return;
        };
        chunk.push(Occ {
            file,
            line,
            next: NONE,
        });
        let tail = self.lists[id as usize].1;
        if tail == NONE {
            self.lists[id as usize].0 = i;
        } else {
            self.at_mut(tail).next = i;
        }
        self.lists[id as usize].1 = i;
    }

    /// Bytes the arena holds (capacity, so growth spikes count too).
    pub(crate) fn bytes(&self) -> usize {
        self.occ.len() * CHUNK * std::mem::size_of::<Occ>()
            + self.lists.capacity() * 8
            + self.word_bytes
            + self.terms.capacity() * (std::mem::size_of::<(Box<[u8]>, u32)>() + 1)
    }

    /// True if nothing was recorded since the last flush.
    pub(crate) fn is_empty(&self) -> bool {
        self.occ_len == 0
    }

    fn at(&self, i: u32) -> Occ {
        self.occ[i as usize / CHUNK][i as usize % CHUNK]
    }

    fn at_mut(&mut self, i: u32) -> &mut Occ {
        &mut self.occ[i as usize / CHUNK][i as usize % CHUNK]
    }

    /// Writes the run, sorted by word, to `path`, and empties the arena (freeing its memory).
    pub(crate) fn flush(&mut self, path: &Path) -> io::Result<()> {
        let mut w = BufWriter::with_capacity(64 * 1024, File::create(path)?);
        let terms = std::mem::take(&mut self.terms);
        let mut sorted: Vec<(Box<[u8]>, u32)> = terms.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (mut blob, mut lines, mut head) = (Vec::new(), Vec::new(), Vec::new());
        for (word, id) in sorted {
            blob.clear();
            let mut i = self.lists[id as usize].0;
            while i != NONE {
                let file = self.at(i).file;
                lines.clear();
                let mut prev = 0;
                while i != NONE && self.at(i).file == file {
                    let o = self.at(i);
                    varint::put(&mut lines, u64::from(o.line - prev));
                    prev = o.line;
                    i = o.next;
                }
                let hits = count_vlis(&lines);
                varint::put(&mut blob, u64::from(file));
                varint::put(&mut blob, hits);
                blob.extend_from_slice(&lines);
            }
            head.clear();
            varint::put(&mut head, word.len() as u64);
            head.extend_from_slice(&word);
            varint::put(&mut head, blob.len() as u64);
            w.write_all(&head)?;
            w.write_all(&blob)?;
        }
        w.flush()?;
        *self = Arena::default();
        Ok(())
    }
}

fn count_vlis(b: &[u8]) -> u64 {
    b.iter().filter(|&&x| x & 0x80 == 0).count() as u64
}

/// Receives merged words in sorted order, each with the blobs of all runs holding it, in run order.
pub(crate) trait MergeSink {
    /// A word starts; its blobs total `blob_len` bytes.
    fn begin(&mut self, word: &[u8], blob_len: u64) -> io::Result<()>;
    /// One run's blob for the word (file records in ascending file order).
    fn part(&mut self, blob: &mut dyn Read) -> io::Result<()>;
    /// The word is complete.
    fn end(&mut self) -> io::Result<()>;
}

/// Merges `runs` (in run order) into `sink`.
pub(crate) fn merge(runs: &[PathBuf], sink: &mut dyn MergeSink) -> io::Result<()> {
    let mut readers = runs
        .iter()
        .map(|p| RunReader::open(p))
        .collect::<io::Result<Vec<_>>>()?;
    let mut parts = Vec::with_capacity(readers.len());
    loop {
        let mut min: Option<usize> = None;
        for (i, r) in readers.iter().enumerate() {
            if !r.done && min.is_none_or(|m| r.word < readers[m].word) {
                min = Some(i);
            }
        }
        let Some(m) = min else {
            return Ok(());
        };
        let word = readers[m].word.clone();
        parts.clear();
        parts.extend((0..readers.len()).filter(|&i| !readers[i].done && readers[i].word == word));
        let total = parts.iter().map(|&i| readers[i].blob_len).sum();
        sink.begin(&word, total)?;
        for &i in &parts {
            let r = &mut readers[i];
            let mut blob = (&mut r.inner).take(r.blob_len);
            sink.part(&mut blob)?;
            io::copy(&mut blob, &mut io::sink())?;
            r.advance()?;
        }
        sink.end()?;
    }
}

/// Writes merged words as a new run file.
pub(crate) struct RunWriter(pub(crate) BufWriter<File>);

impl MergeSink for RunWriter {
    fn begin(&mut self, word: &[u8], blob_len: u64) -> io::Result<()> {
        let mut head = Vec::with_capacity(word.len() + 20);
        varint::put(&mut head, word.len() as u64);
        head.extend_from_slice(word);
        varint::put(&mut head, blob_len);
        self.0.write_all(&head)
    }

    fn part(&mut self, blob: &mut dyn Read) -> io::Result<()> {
        io::copy(blob, &mut self.0).map(|_| ())
    }

    fn end(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct RunReader {
    inner: BufReader<File>,
    word: Vec<u8>,
    blob_len: u64,
    done: bool,
}

impl RunReader {
    fn open(path: &Path) -> io::Result<RunReader> {
        let mut r = RunReader {
            inner: BufReader::with_capacity(32 * 1024, File::open(path)?),
            word: Vec::new(),
            blob_len: 0,
            done: false,
        };
        r.advance()?;
        Ok(r)
    }

    fn advance(&mut self) -> io::Result<()> {
        let Some(len) = read_vli(&mut self.inner)? else {
            self.done = true;
            return Ok(());
        };
        self.word.resize(len as usize, 0);
        self.inner.read_exact(&mut self.word)?;
        self.blob_len = read_vli(&mut self.inner)?.ok_or_else(|| bad("run ends in a header"))?;
        Ok(())
    }
}

/// Reads one VLI; `None` at a clean end of input.
pub(crate) fn read_vli(r: &mut dyn Read) -> io::Result<Option<u64>> {
    let mut v: u64 = 0;
    for i in 0..varint::MAX_LEN {
        let mut b = [0u8];
        if r.read(&mut b)? == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(bad("truncated integer"))
            };
        }
        if v >> 57 != 0 {
            return Err(bad("integer overflow"));
        }
        v = (v << 7) | u64::from(b[0] & 0x7f);
        if b[0] & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err(bad("integer too long"))
}

fn bad(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// The multiply-rotate hash of rustc (FxHash): much faster than SipHash for short words, and the keys come
/// from the indexer's own input, not from a network peer.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
