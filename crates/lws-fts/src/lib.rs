//! Full-text search for lws-rs, after libwebsockets' `lws_fts`: a compact trie index file with autocomplete
//! and search over huge UTF-8 corpora on small machines.
//!
//! * **Build** with [`IndexBuilder`]: add files with a priority, feed their text in chunks of any size
//!   (words are split on UTF-8 boundaries and case-folded; line numbers and line starts are tracked), then
//!   [`IndexBuilder::finish`] writes one index file. Building memory is bounded by
//!   [`IndexBuilder::memory_budget`], not by the corpus: occurrences are gathered in an arena that is spilled
//!   to sorted runs on disk and merged, and the trie is written bottom-up while the merge streams.
//! * **Query** with [`Index`]: [`Index::autocomplete`] gives the most frequent completions of a prefix with
//!   their own and aggregate counts; [`Index::search`] gives the files holding a word, with match counts,
//!   line numbers, line-start offsets and optionally the quoted lines. An index is read on demand through a
//!   [`Source`] (positioned reads on a file, or a byte slice), never loaded whole.
//! * The file format is documented in [`format`]; a truncated, foreign or damaged file gives an [`Error`].
//!
//! The crate is synchronous and needs neither an async runtime nor sockets.
//!
//! ```no_run
//! use lws_fts::{Index, IndexBuilder, SearchOptions};
//! # fn main() -> Result<(), lws_fts::Error> {
//! let mut b = IndexBuilder::create("/tmp/corpus.idx")?;
//! let f = b.add_file("/tmp/a.txt", 0)?;
//! b.fill(f, b"Hello world\nhello again\n")?;
//! b.finish()?;
//! let index = Index::open("/tmp/corpus.idx")?;
//! let ac = index.autocomplete("he", 10)?;
//! assert_eq!(ac.completions[0].word, "hello");
//! let hits = index.search("hello", &SearchOptions::default())?;
//! assert_eq!(hits.files[0].matches, 2);
//! # Ok(()) }
//! ```

mod builder;
mod error;
pub mod format;
mod limits;
mod pos_writer;
mod query;
mod reader;
mod run;
mod tokenize;
mod trie;
mod varint;

pub use builder::{
    BuildStats, IndexBuilder, Phase, Progress, DEFAULT_MAX_WORD_LEN, DEFAULT_MEMORY_BUDGET,
    DEFAULT_PROGRESS_INTERVAL,
};
pub use error::{Error, Result};
pub use format::Header;
pub use query::{
    Autocomplete, Completion, FileHits, LineHit, QueryLimits, SearchOptions, SearchResult,
};
pub use reader::{FileInfo, Index, Source};
