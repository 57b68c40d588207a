//! Queries: autocomplete of a prefix, and the files and lines containing a word.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;

use crate::error::{Error, Result};
use crate::format::LINES_PER_CHUNK;
pub use crate::limits::QueryLimits;
use crate::reader::{Cursor, Index, Source};
use crate::tokenize::fold;

/// One completion of a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The complete (case-folded) word.
    pub word: String,
    /// Occurrences of exactly this word.
    pub own: u64,
    /// Occurrences of this word and of every longer word it is a prefix of.
    pub agg: u64,
}

/// The answer to [`Index::autocomplete`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Autocomplete {
    /// Completions, most frequent (`own`) first; ties in byte order of the word.
    pub completions: Vec<Completion>,
    /// True if more completions exist than were returned.
    pub elided: bool,
    /// Occurrences of all words starting with the prefix.
    pub total: u64,
}

/// What [`Index::search`] returns and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Most files returned. Default 10.
    pub max_files: usize,
    /// Most line hits returned per file. Default 20.
    pub max_lines: usize,
    /// Read each hit line's text (up to 255 bytes) from the indexed file, if it is still there.
    pub quote: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            max_files: 10,
            max_lines: 20,
            quote: false,
        }
    }
}

/// A file containing the searched word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHits {
    /// The file's path as indexed.
    pub path: String,
    /// The file's priority.
    pub priority: u32,
    /// Occurrences of the word in the file.
    pub matches: u64,
    /// Lines in the file.
    pub lines: u64,
    /// Distinct lines holding the word, ascending, at most [`SearchOptions::max_lines`].
    pub hits: Vec<LineHit>,
    /// True if more lines hold the word than `hits` lists.
    pub hits_elided: bool,
}

/// One line holding the searched word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHit {
    /// Line number, from 1.
    pub line: u32,
    /// Byte offset of the start of the line in the file.
    pub offset: u64,
    /// The line's text (without its line ending, at most 255 bytes, cut on a character boundary) when
    /// [`SearchOptions::quote`] was set and the file could be read.
    pub text: Option<String>,
}

/// The answer to [`Index::search`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchResult {
    /// Files containing the word: higher priority first, then more matches, then index order; at most
    /// [`SearchOptions::max_files`].
    pub files: Vec<FileHits>,
    /// Files containing the word in all (may exceed `files.len()`).
    pub total_files: usize,
    /// Occurrences of the word in all files.
    pub matches: u64,
}

/// Longest quoted line.
const MAX_QUOTE: usize = 255;

impl<S: Source> Index<S> {
    /// The `max` most frequent words starting with `prefix` (case-folded like indexed text), best first.
    pub fn autocomplete(&self, prefix: &str, max: usize) -> Result<Autocomplete> {
        let max = max.min(self.limits.max_completions);
        let mut c = self.cursor();
        let mut visits = 0;
        let Some((off, path)) = self.find(&mut c, &fold(prefix), &mut visits)? else {
            return Ok(Autocomplete::default());
        };
        let mut heap = BinaryHeap::new();
        heap.push(Item {
            key: u64::MAX,
            node: true,
            path,
            off,
            own: 0,
            agg: 0,
        });
        let mut out = Autocomplete::default();
        let mut first = true;
        while let Some(item) = heap.pop() {
            if !item.node {
                if out.completions.len() == max {
                    out.elided = true;
                    break;
                }
                out.completions.push(Completion {
                    word: String::from_utf8_lossy(&item.path).into_owned(),
                    own: item.own,
                    agg: item.agg,
                });
                continue;
            }
            visits += 1;
            if visits > self.limits.max_visits {
                return Err(Error::TooMuchWork);
            }
            let node = self.node(&mut c, item.off, None)?;
            let agg = node
                .children
                .iter()
                .fold(node.own, |a, ch| a.saturating_add(ch.agg));
            if first {
                out.total = agg;
                first = false;
            }
            if node.own > 0 {
                heap.push(Item {
                    key: node.own,
                    node: false,
                    path: item.path.clone(),
                    off: 0,
                    own: node.own,
                    agg,
                });
            }
            for ch in node.children {
                if ch.agg == 0 {
                    continue;
                }
                let mut path = item.path.clone();
                path.extend_from_slice(&ch.label);
                heap.push(Item {
                    key: ch.agg,
                    node: true,
                    path,
                    off: ch.off,
                    own: ch.own,
                    agg: ch.agg,
                });
            }
            if max == 0 && !heap.is_empty() {
                out.elided = true;
                break;
            }
        }
        Ok(out)
    }

    /// The files containing `term` (one word, case-folded like indexed text) with their matching lines.
    pub fn search(&self, term: &str, opts: &SearchOptions) -> Result<SearchResult> {
        let mut c = self.cursor();
        let word = fold(term);
        let mut visits = 0;
        let postings = match self.find(&mut c, &word, &mut visits)? {
            Some((off, path)) if path == word && !word.is_empty() => {
                self.node(&mut c, off, Some(0))?.postings
            }
            _ => None,
        };
        let Some(postings) = postings else {
            return Ok(SearchResult::default());
        };
        // (file index, matches, lines, elided)
        let mut per_file: Vec<(usize, u64, Vec<u32>, bool)> = Vec::new();
        c.seek(postings);
        let mut file: u64 = 0;
        let mut total: u64 = 0;
        loop {
            let v = c.vli("postings file delta")?;
            if v == 0 {
                break;
            }
            file = file
                .checked_add(v - 1)
                .filter(|&f| f < self.files.len() as u64)
                .ok_or_else(|| c.corrupt("postings file index"))?;
            let hits = c.vli("postings hit count")?;
            if per_file.last().map(|p| p.0 as u64) != Some(file) {
                per_file.push((file as usize, 0, Vec::new(), false));
            }
            let Some(entry) = per_file.last_mut() else {
                continue;
            };
            let mut line: u64 = 0;
            for _ in 0..hits {
                line += c.vli("postings line delta")?;
                let l = u32::try_from(line)
                    .ok()
                    .filter(|&l| l > 0)
                    .ok_or_else(|| c.corrupt("postings line number"))?;
                if entry.2.last() == Some(&l) {
                    continue;
                }
                if entry.2.last().is_some_and(|&last| l < last) {
                    return Err(c.corrupt("postings line order"));
                }
                if entry.2.len() < opts.max_lines {
                    entry.2.push(l);
                } else {
                    entry.3 = true;
                }
            }
            entry.1 = entry.1.saturating_add(hits);
            total = total.saturating_add(hits);
        }
        let total_files = per_file.len();
        per_file.sort_by(|a, b| {
            let (fa, fb) = (&self.files[a.0], &self.files[b.0]);
            fb.priority
                .cmp(&fa.priority)
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        per_file.truncate(opts.max_files);
        let mut files = Vec::with_capacity(per_file.len());
        for (idx, matches, lines, elided) in per_file {
            let info = &self.files[idx];
            let offsets = self.line_offsets(&mut c, idx, &lines)?;
            let src = if opts.quote {
                File::open(&info.path).ok()
            } else {
                None
            };
            let hits = lines
                .iter()
                .zip(offsets)
                .map(|(&line, offset)| LineHit {
                    line,
                    offset,
                    text: src.as_ref().and_then(|f| quote(f, offset)),
                })
                .collect();
            files.push(FileHits {
                path: info.path.clone(),
                priority: info.priority,
                matches,
                lines: info.lines,
                hits,
                hits_elided: elided,
            });
        }
        Ok(SearchResult {
            files,
            total_files,
            matches: total,
        })
    }

    /// Walks from the root along `prefix`: the node the prefix leads to (or into, when it ends inside an
    /// edge label) and the full path to that node.
    fn find(
        &self,
        c: &mut Cursor<'_, S>,
        prefix: &[u8],
        visits: &mut usize,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        let mut off = self.header.root;
        let mut path = Vec::with_capacity(prefix.len() + 16);
        let mut rest = prefix;
        while let Some(&want) = rest.first() {
            *visits += 1;
            if *visits > self.limits.max_visits {
                return Err(Error::TooMuchWork);
            }
            let node = self.node(c, off, Some(want))?;
            // Children are sorted by label and their first bytes differ: stop at the first one not below.
            let Some(ch) = node.children.into_iter().find(|ch| ch.label[0] >= want) else {
                return Ok(None);
            };
            if ch.label[0] != want {
                return Ok(None);
            }
            let common = ch
                .label
                .iter()
                .zip(rest)
                .take_while(|(a, b)| a == b)
                .count();
            if common == rest.len() {
                path.extend_from_slice(&ch.label);
                return Ok(Some((ch.off, path)));
            }
            if common < ch.label.len() {
                return Ok(None);
            }
            path.extend_from_slice(&ch.label);
            rest = &rest[common..];
            off = ch.off;
        }
        Ok(Some((off, path)))
    }

    /// Byte offsets of the starts of `lines` (ascending) in file `idx`, from its line table.
    fn line_offsets(&self, c: &mut Cursor<'_, S>, idx: usize, lines: &[u32]) -> Result<Vec<u64>> {
        let mut out = Vec::with_capacity(lines.len());
        c.seek(self.files[idx].line_table);
        let mut first: u64 = 1;
        let mut offset: u64 = 0;
        let mut want = lines.iter().map(|&l| u64::from(l)).peekable();
        while let Some(&target) = want.peek() {
            let n = c.vli("line chunk size")?;
            if n == 0 || n > LINES_PER_CHUNK as u64 {
                return Err(c.corrupt("line chunk size"));
            }
            let covered = c.vli("line chunk bytes")?;
            let encoded = c.vli("line chunk length")?;
            if target >= first + n {
                c.skip(encoded, "line chunk length")?;
            } else {
                let mut o = offset;
                for l in first..first + n {
                    let len = c.vli("line length")?;
                    while want.peek() == Some(&l) {
                        out.push(o);
                        want.next();
                    }
                    o = o.saturating_add(len);
                }
            }
            offset = offset.saturating_add(covered);
            first += n;
        }
        Ok(out)
    }
}

/// The text of the line starting at `offset` in `f`, cut at its end, at 255 bytes, and on a UTF-8 boundary.
fn quote(f: &File, offset: u64) -> Option<String> {
    let mut buf = vec![0u8; MAX_QUOTE];
    let n = Source::read_at(f, offset, &mut buf).ok()?;
    buf.truncate(n);
    if let Some(end) = buf.iter().position(|&b| b == b'\n') {
        buf.truncate(end);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    let valid = match std::str::from_utf8(&buf) {
        Ok(_) => buf.len(),
        Err(e) => e.valid_up_to(),
    };
    buf.truncate(valid);
    String::from_utf8(buf).ok()
}

/// An autocomplete search item: a subtree (bounded by its aggregate count) or a word (its own count).
#[derive(Debug, PartialEq, Eq)]
struct Item {
    key: u64,
    node: bool,
    path: Vec<u8>,
    off: u64,
    own: u64,
    agg: u64,
}

impl Ord for Item {
    /// Highest count first; at equal counts subtrees are opened before words are emitted (so all equally
    /// frequent words are present to be ordered), then lower byte order first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then(self.node.cmp(&other.node))
            .then_with(|| other.path.cmp(&self.path))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
