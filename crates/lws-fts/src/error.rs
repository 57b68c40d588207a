//! Errors from building and querying an index.

use std::fmt;
use std::io;

/// Why building or reading an index failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    Io(io::Error),
    /// The file does not start with the index magic number: it is not an lws-fts index.
    BadMagic,
    /// The index was written by an incompatible version of the format.
    UnsupportedVersion(u16),
    /// The file's length differs from the length recorded in its header (truncated or appended to).
    LengthMismatch {
        /// Length recorded in the header when the index was written.
        expected: u64,
        /// Length of the file now.
        actual: u64,
    },
    /// A record inside the index is malformed; `what` names the record or field.
    Corrupt {
        /// Byte offset in the index where decoding failed.
        offset: u64,
        /// The field or record that was invalid.
        what: &'static str,
    },
    /// A query walked more trie nodes than [`crate::QueryLimits::max_visits`] allows.
    TooMuchWork,
    /// [`crate::IndexBuilder::fill`] named a file that is not the one currently being filled.
    FileNotOpen(u32),
    /// More files were added than the format can hold (2^32 - 1).
    TooManyFiles,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::BadMagic => f.write_str("not an lws-fts index (bad magic number)"),
            Error::UnsupportedVersion(v) => write!(f, "unsupported lws-fts index version {v}"),
            Error::LengthMismatch { expected, actual } => write!(
                f,
                "index length is {actual} bytes but its header says {expected}: truncated or damaged"
            ),
            Error::Corrupt { offset, what } => {
                write!(f, "corrupt index: bad {what} at offset {offset}")
            }
            Error::TooMuchWork => f.write_str("query exceeded its trie node visit limit"),
            Error::FileNotOpen(i) => write!(f, "file {i} is not the file being filled"),
            Error::TooManyFiles => f.write_str("too many files for one index"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
