//! The index file format.
//!
//! An index is one file written front to back in a single pass (only the header is rewritten at the end),
//! so a builder never holds the trie in memory, and a reader can answer queries by reading a few small
//! records at known offsets (`pread`) instead of loading the file.
//!
//! Integers called *VLI* are variable-length: 7 bits per byte, most significant group first, the top bit
//! set on every byte but the last (as libwebsockets: `0x30` = 48, `0x81 0x30` = 176). Fixed-size integers are
//! big-endian. Every offset stored inside a record is a *back-delta*: the record's own offset minus the
//! target's, so it is always positive (everything a record points at was written before it). That keeps
//! offsets small and guarantees that following pointers always moves towards the start of the file, so a
//! corrupt file cannot make a reader loop.
//!
//! The records, in file order:
//!
//! ## Header (48 bytes, at offset 0)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `0x4C57_5346` (`"LWSF"`) |
//! | 4 | 2 | format version, currently 1 |
//! | 6 | 2 | longest word in bytes (words longer than the builder's limit are dropped) |
//! | 8 | 8 | total file length: a reader refuses a file of any other length |
//! | 16 | 8 | offset of the root trie node |
//! | 24 | 8 | offset of the file table |
//! | 32 | 4 | number of indexed files |
//! | 36 | 4 | number of distinct words |
//! | 40 | 8 | total word occurrences |
//!
//! ## Line tables (one per file, written while the file is fed)
//!
//! A sequence of chunks; each chunk is VLI `lines` (1..=256, 0 ends the table), VLI `bytes covered` (sum of
//! the chunk's line lengths), VLI `encoded length` (bytes of the lengths that follow), then `lines` VLI line
//! lengths including the line's `\n`. A reader finds line *n* by skipping whole chunks (adding their bytes
//! covered to the offset) and summing lengths only inside one chunk.
//!
//! ## Postings (one per word, just before the word's trie node)
//!
//! A sequence of file records, ended by a VLI 0: VLI `file delta + 1` (file index minus the previous record's;
//! 0 again means "more hits in the same file"), VLI `hits`, then `hits` VLI line-number deltas (ascending line
//! numbers, starting from 0 in each record; line numbers start at 1, a 0 delta is a second hit on a line).
//! Files appear in ascending index order.
//!
//! ## Trie nodes (post-order: children before parents, the root last)
//!
//! The trie is a radix trie over the case-folded UTF-8 bytes of the words: an edge carries a label of one or
//! more bytes, and a node is stored only where a word ends or words diverge. A node is VLI `postings delta`
//! (back-delta to the word's postings, 0 if no word ends here), VLI `child count` (at most 256), VLI `own
//! hits` (occurrences of the word ending here), then per child, sorted by label so a search can stop at
//! the first label greater than what it looks for: VLI `child back-delta`, VLI child's `own hits`, VLI
//! child's `aggregate hits` (its own plus all below it, the bound autocomplete ranks by), VLI `label length`,
//! label bytes. Child labels start with distinct bytes.
//!
//! ## File table
//!
//! Per file, in index order: VLI `line table offset` (absolute), VLI `line count`, VLI `priority`, VLI `bytes`
//! (the file's length when indexed), VLI `path length`, path bytes (UTF-8). A reader loads this table (it is
//! small: one record per file) when it opens the index.

use crate::error::{Error, Result};

/// The index magic number, `"LWSF"`.
pub const MAGIC: u32 = 0x4C57_5346;
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Size of the fixed header at offset 0.
pub const HEADER_LEN: usize = 48;
/// Lines per line-table chunk.
pub(crate) const LINES_PER_CHUNK: usize = 256;
/// Most children a node can have (labels start with distinct bytes).
pub(crate) const MAX_CHILDREN: u64 = 256;

/// The decoded fixed header of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Longest word length in bytes the builder accepted.
    pub max_word_len: u16,
    /// Total file length recorded when the index was written.
    pub file_len: u64,
    /// Offset of the root trie node.
    pub root: u64,
    /// Offset of the file table.
    pub file_table: u64,
    /// Number of indexed files.
    pub files: u32,
    /// Number of distinct words.
    pub words: u32,
    /// Total word occurrences.
    pub hits: u64,
}

impl Header {
    /// Encodes the header.
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&VERSION.to_be_bytes());
        b[6..8].copy_from_slice(&self.max_word_len.to_be_bytes());
        b[8..16].copy_from_slice(&self.file_len.to_be_bytes());
        b[16..24].copy_from_slice(&self.root.to_be_bytes());
        b[24..32].copy_from_slice(&self.file_table.to_be_bytes());
        b[32..36].copy_from_slice(&self.files.to_be_bytes());
        b[36..40].copy_from_slice(&self.words.to_be_bytes());
        b[40..48].copy_from_slice(&self.hits.to_be_bytes());
        b
    }

    /// Decodes and checks a header against the actual length of the file it came from.
    pub(crate) fn decode(b: &[u8], actual_len: u64) -> Result<Header> {
        if b.len() < 4 || b[0..4] != MAGIC.to_be_bytes() {
            return Err(Error::BadMagic);
        }
        if b.len() < HEADER_LEN {
            return Err(Error::LengthMismatch {
                expected: HEADER_LEN as u64,
                actual: actual_len,
            });
        }
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| (u64::from(u32_at(i)) << 32) | u64::from(u32_at(i + 4));
        let version = u16_at(4);
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let h = Header {
            max_word_len: u16_at(6),
            file_len: u64_at(8),
            root: u64_at(16),
            file_table: u64_at(24),
            files: u32_at(32),
            words: u32_at(36),
            hits: u64_at(40),
        };
        if h.file_len != actual_len {
            return Err(Error::LengthMismatch {
                expected: h.file_len,
                actual: actual_len,
            });
        }
        let hl = HEADER_LEN as u64;
        if h.root < hl || h.root >= h.file_len {
            return Err(Error::Corrupt {
                offset: 16,
                what: "root node offset",
            });
        }
        if h.file_table < hl || h.file_table > h.file_len {
            return Err(Error::Corrupt {
                offset: 24,
                what: "file table offset",
            });
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_refusals() {
        let h = Header {
            max_word_len: 64,
            file_len: 1000,
            root: 900,
            file_table: 950,
            files: 3,
            words: 10,
            hits: 20,
        };
        let b = h.encode();
        assert_eq!(Header::decode(&b, 1000).unwrap(), h);
        assert!(matches!(
            Header::decode(&b, 999),
            Err(Error::LengthMismatch {
                expected: 1000,
                actual: 999
            })
        ));
        assert!(matches!(Header::decode(b"GIF89a", 6), Err(Error::BadMagic)));
        assert!(matches!(
            Header::decode(&b[..10], 10),
            Err(Error::LengthMismatch { .. })
        ));
        let mut v = b;
        v[5] = 9;
        assert!(matches!(
            Header::decode(&v, 1000),
            Err(Error::UnsupportedVersion(9))
        ));
    }
}
