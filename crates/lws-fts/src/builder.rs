//! Building an index: add files with a priority, feed their text in chunks of any size, finish.
//!
//! Memory stays bounded whatever the corpus size: occurrences gather in an arena ([`crate::run`]) that is
//! flushed to a sorted run file next to the output whenever it exceeds [`IndexBuilder::memory_budget`];
//! line tables are streamed straight into the index while files are fed; at the end the runs are merged
//! (at most 32 at a time) and the trie is written bottom-up as the merged words stream past
//! ([`crate::trie`]). Besides the budget, the builder holds one record per file (its path and counts).

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{Header, HEADER_LEN, LINES_PER_CHUNK};
use crate::pos_writer::PosWriter;
use crate::run::{self, Arena, MergeSink, RunWriter};
use crate::tokenize::{TokenSink, Tokenizer};
use crate::trie::TrieWriter;
use crate::varint;

/// Default arena budget before a run is flushed to disk (16 MiB; smaller runs also flush faster, as their
/// occurrence lists stay in cache).
pub const DEFAULT_MEMORY_BUDGET: usize = 16 << 20;
/// Default longest indexed word, in bytes after case folding; longer words are skipped.
pub const DEFAULT_MAX_WORD_LEN: usize = 64;
/// Default number of input bytes between two progress reports (16 MiB).
pub const DEFAULT_PROGRESS_INTERVAL: u64 = 16 << 20;

/// Feed text in slices of at most this size, so the arena budget is checked often even for huge chunks.
const FEED_SLICE: usize = 64 * 1024;

/// What the builder is doing, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading and tokenizing input.
    Indexing,
    /// Writing the arena to a sorted run on disk.
    Flushing,
    /// Merging runs and writing the trie.
    Merging,
    /// The index is complete.
    Done,
}

/// A progress report, delivered to the callback set with [`IndexBuilder::on_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Input bytes fed so far.
    pub bytes: u64,
    /// Files added so far.
    pub files: u32,
    /// Sorted runs written so far.
    pub runs: u32,
    /// Distinct words written to the trie so far (during [`Phase::Merging`] and after).
    pub words: u64,
}

/// Figures about a finished build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildStats {
    /// Files indexed.
    pub files: u32,
    /// Input bytes indexed.
    pub bytes: u64,
    /// Distinct words.
    pub words: u64,
    /// Word occurrences.
    pub hits: u64,
    /// Size of the index file.
    pub index_len: u64,
    /// Sorted runs written to disk (1 when the corpus fitted the budget).
    pub runs: u32,
    /// Largest arena size reached, in bytes.
    pub peak_arena: usize,
}

type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// Builds one index file. Files are filled one at a time: adding a file ends the previous one.
pub struct IndexBuilder {
    out: PosWriter,
    path: PathBuf,
    files: Vec<FileRecord>,
    current: Option<Current>,
    arena: Arena,
    runs: Vec<PathBuf>,
    run_seq: u32,
    budget: usize,
    max_word_len: usize,
    progress: Option<ProgressFn>,
    progress_interval: u64,
    next_progress: u64,
    bytes: u64,
    peak_arena: usize,
}

struct FileRecord {
    path: String,
    priority: u32,
    line_table: u64,
    lines: u64,
    bytes: u64,
}

struct Current {
    idx: u32,
    tok: Tokenizer,
    chunk: Vec<u64>,
}

impl IndexBuilder {
    /// Creates (truncates) the index file at `path`. Sorted runs are written next to it as
    /// `<path>.run<N>` and removed when the build ends.
    pub fn create(path: impl AsRef<Path>) -> Result<IndexBuilder> {
        let path = path.as_ref().to_path_buf();
        let mut out = PosWriter::new(File::create(&path)?);
        out.write_all(&[0u8; HEADER_LEN])?;
        Ok(IndexBuilder {
            out,
            path,
            files: Vec::new(),
            current: None,
            arena: Arena::default(),
            runs: Vec::new(),
            run_seq: 0,
            budget: DEFAULT_MEMORY_BUDGET,
            max_word_len: DEFAULT_MAX_WORD_LEN,
            progress: None,
            progress_interval: DEFAULT_PROGRESS_INTERVAL,
            next_progress: DEFAULT_PROGRESS_INTERVAL,
            bytes: 0,
            peak_arena: 0,
        })
    }

    /// Sets the arena size (bytes) above which gathered occurrences are flushed to a sorted run on disk.
    /// Smaller budgets use less memory and more temporary disk and merge work. Default 16 MiB.
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.budget = bytes.max(64 * 1024);
        self
    }

    /// Sets the longest word indexed, in bytes after case folding (1..=65535); longer words are skipped.
    /// Default 64.
    pub fn max_word_len(mut self, bytes: usize) -> Self {
        self.max_word_len = bytes.clamp(1, usize::from(u16::MAX));
        self
    }

    /// Sets a callback receiving [`Progress`] every [`IndexBuilder::progress_interval`] bytes of input and
    /// at every phase change.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Sets how many input bytes pass between two progress reports. Default 16 MiB.
    pub fn progress_interval(mut self, bytes: u64) -> Self {
        self.progress_interval = bytes.max(1);
        self.next_progress = self.bytes + self.progress_interval;
        self
    }

    /// Starts a new file (ending the previous one) and returns its index for [`IndexBuilder::fill`].
    /// `path` is stored in the index and used to quote lines at query time; in search results files of
    /// higher `priority` come first.
    pub fn add_file(&mut self, path: &str, priority: u32) -> Result<u32> {
        self.end_file()?;
        let idx = u32::try_from(self.files.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or(Error::TooManyFiles)?;
        self.files.push(FileRecord {
            path: path.to_string(),
            priority,
            line_table: self.out.pos(),
            lines: 0,
            bytes: 0,
        });
        self.current = Some(Current {
            idx,
            tok: Tokenizer::new(self.max_word_len),
            chunk: Vec::with_capacity(LINES_PER_CHUNK),
        });
        Ok(idx)
    }

    /// Feeds the next piece of file `idx`'s text; pieces may split words and UTF-8 sequences anywhere.
    pub fn fill(&mut self, idx: u32, data: &[u8]) -> Result<()> {
        if self.current.as_ref().map(|c| c.idx) != Some(idx) {
            return Err(Error::FileNotOpen(idx));
        }
        for slice in data.chunks(FEED_SLICE) {
            self.feed(slice, false)?;
            self.bytes += slice.len() as u64;
            if let Some(f) = self.files.last_mut() {
                f.bytes += slice.len() as u64;
            }
            if self.arena.bytes() > self.budget {
                self.flush_run()?;
            }
            if self.bytes >= self.next_progress {
                self.next_progress = self.bytes + self.progress_interval;
                self.report(Phase::Indexing, 0);
            }
        }
        Ok(())
    }

    /// Adds the file at `path` and feeds all of it, reading 64 KiB at a time.
    pub fn index_path(&mut self, path: &Path, priority: u32) -> Result<u32> {
        let mut f = File::open(path)?;
        let idx = self.add_file(&path.to_string_lossy(), priority)?;
        let mut buf = vec![0u8; FEED_SLICE];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(idx);
            }
            self.fill(idx, &buf[..n])?;
        }
    }

    /// Ends the last file, merges the runs, writes the trie, the file table and the header.
    pub fn finish(mut self) -> Result<BuildStats> {
        self.end_file()?;
        if !self.arena.is_empty() || self.runs.is_empty() {
            self.flush_run()?;
        }
        self.report(Phase::Merging, 0);
        while self.runs.len() > run::MAX_FAN_IN {
            let group: Vec<PathBuf> = self.runs.drain(..run::MAX_FAN_IN).collect();
            let merged = self.run_path();
            let mut w = RunWriter(BufWriter::with_capacity(64 * 1024, File::create(&merged)?));
            run::merge(&group, &mut w)?;
            w.0.flush()?;
            for p in &group {
                let _ = std::fs::remove_file(p);
            }
            // The merged run holds the oldest occurrences, so it goes first.
            self.runs.insert(0, merged);
        }
        let runs = std::mem::take(&mut self.runs);
        let mut sink = TrieSink {
            out: &mut self.out,
            trie: TrieWriter::new(),
            word: Vec::new(),
            postings: 0,
            own: 0,
            prev_file: 0,
            words: 0,
            hits: 0,
            progress: &mut self.progress,
            files: self.files.len() as u32,
            bytes: self.bytes,
            runs: self.run_seq,
        };
        let merged = run::merge(&runs, &mut sink);
        for p in &runs {
            let _ = std::fs::remove_file(p);
        }
        merged?;
        let (words, hits) = (sink.words, sink.hits);
        let root = sink.trie.finish(&mut self.out)?;

        let file_table = self.out.pos();
        let mut b = Vec::new();
        for f in &self.files {
            b.clear();
            varint::put(&mut b, f.line_table);
            varint::put(&mut b, f.lines);
            varint::put(&mut b, u64::from(f.priority));
            varint::put(&mut b, f.bytes);
            varint::put(&mut b, f.path.len() as u64);
            b.extend_from_slice(f.path.as_bytes());
            self.out.write_all(&b)?;
        }
        let header = Header {
            max_word_len: self.max_word_len as u16,
            file_len: self.out.pos(),
            root,
            file_table,
            files: self.files.len() as u32,
            words: u32::try_from(words).unwrap_or(u32::MAX),
            hits,
        };
        let file = self.out.flushed_file()?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header.encode())?;
        file.flush()?;
        let stats = BuildStats {
            files: header.files,
            bytes: self.bytes,
            words,
            hits,
            index_len: header.file_len,
            runs: self.run_seq,
            peak_arena: self.peak_arena,
        };
        self.report(Phase::Done, words);
        Ok(stats)
    }

    fn feed(&mut self, data: &[u8], last: bool) -> Result<()> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        let mut sink = FillSink {
            arena: &mut self.arena,
            out: &mut self.out,
            chunk: &mut cur.chunk,
            file: cur.idx,
            lines: 0,
            err: None,
        };
        if last {
            cur.tok.finish(&mut sink);
            sink.flush_chunk();
            if sink.err.is_none() {
                // Ends the line table.
                sink.err = sink.out.write_all(&[0]).err();
            }
        } else {
            cur.tok.feed(data, &mut sink);
        }
        let (lines, err) = (sink.lines, sink.err);
        if let Some(f) = self.files.last_mut() {
            f.lines += lines;
        }
        self.peak_arena = self.peak_arena.max(self.arena.bytes());
        err.map_or(Ok(()), |e| Err(e.into()))
    }

    fn end_file(&mut self) -> Result<()> {
        if self.current.is_some() {
            self.feed(&[], true)?;
            self.current = None;
        }
        Ok(())
    }

    fn flush_run(&mut self) -> Result<()> {
        self.report(Phase::Flushing, 0);
        let path = self.run_path();
        self.arena.flush(&path)?;
        self.runs.push(path);
        Ok(())
    }

    fn run_path(&mut self) -> PathBuf {
        self.run_seq += 1;
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".run{}", self.run_seq));
        PathBuf::from(name)
    }

    fn report(&mut self, phase: Phase, words: u64) {
        if let Some(f) = self.progress.as_mut() {
            f(&Progress {
                phase,
                bytes: self.bytes,
                files: self.files.len() as u32,
                runs: self.run_seq,
                words,
            });
        }
    }
}

impl Drop for IndexBuilder {
    fn drop(&mut self) {
        for p in &self.runs {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl std::fmt::Debug for IndexBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexBuilder")
            .field("path", &self.path)
            .field("files", &self.files.len())
            .field("bytes", &self.bytes)
            .field("runs", &self.runs.len())
            .finish()
    }
}

/// Receives words and line ends from the tokenizer while a file is fed.
struct FillSink<'a> {
    arena: &'a mut Arena,
    out: &'a mut PosWriter,
    chunk: &'a mut Vec<u64>,
    file: u32,
    lines: u64,
    err: Option<io::Error>,
}

impl FillSink<'_> {
    fn flush_chunk(&mut self) {
        if self.chunk.is_empty() || self.err.is_some() {
            return;
        }
        let mut body = Vec::with_capacity(self.chunk.len() * 2);
        for &l in self.chunk.iter() {
            varint::put(&mut body, l);
        }
        let mut b = Vec::with_capacity(body.len() + 16);
        varint::put(&mut b, self.chunk.len() as u64);
        varint::put(&mut b, self.chunk.iter().sum());
        varint::put(&mut b, body.len() as u64);
        b.extend_from_slice(&body);
        self.err = self.out.write_all(&b).err();
        self.chunk.clear();
    }
}

impl TokenSink for FillSink<'_> {
    fn word(&mut self, word: &[u8], line: u32) {
        self.arena.add(word, self.file, line);
    }

    fn line_end(&mut self, len: u64) {
        self.chunk.push(len);
        self.lines += 1;
        if self.chunk.len() == LINES_PER_CHUNK {
            self.flush_chunk();
        }
    }
}

/// Writes merged words: postings first, then the trie nodes that became complete.
struct TrieSink<'a> {
    out: &'a mut PosWriter,
    trie: TrieWriter,
    word: Vec<u8>,
    postings: u64,
    own: u64,
    prev_file: u64,
    words: u64,
    hits: u64,
    progress: &'a mut Option<ProgressFn>,
    files: u32,
    bytes: u64,
    runs: u32,
}

impl MergeSink for TrieSink<'_> {
    fn begin(&mut self, word: &[u8], _blob_len: u64) -> io::Result<()> {
        self.word.clear();
        self.word.extend_from_slice(word);
        self.postings = self.out.pos();
        self.own = 0;
        self.prev_file = 0;
        Ok(())
    }

    fn part(&mut self, blob: &mut dyn Read) -> io::Result<()> {
        let mut b = Vec::new();
        while let Some(file) = run::read_vli(blob)? {
            let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad run file");
            let hits = run::read_vli(blob)?.ok_or_else(bad)?;
            b.clear();
            varint::put(
                &mut b,
                file.checked_sub(self.prev_file).ok_or_else(bad)? + 1,
            );
            varint::put(&mut b, hits);
            for _ in 0..hits {
                varint::put(&mut b, run::read_vli(blob)?.ok_or_else(bad)?);
            }
            self.out.write_all(&b)?;
            self.prev_file = file;
            self.own += hits;
        }
        Ok(())
    }

    fn end(&mut self) -> io::Result<()> {
        self.out.write_all(&[0])?;
        self.trie
            .add(self.out, &self.word, self.own, self.postings)?;
        self.words += 1;
        self.hits += self.own;
        if self.words % (1 << 18) == 0 {
            if let Some(f) = self.progress.as_mut() {
                f(&Progress {
                    phase: Phase::Merging,
                    bytes: self.bytes,
                    files: self.files,
                    runs: self.runs,
                    words: self.words,
                });
            }
        }
        Ok(())
    }
}
