//! Opening an index and decoding its records on demand.
//!
//! Nothing but the header and the file table is read at open time; queries read the few trie nodes, postings
//! and line-table chunks they need through a [`Source`], a positioned-read abstraction implemented for files
//! (`pread`, so one open index serves many threads) and for byte slices (tests, fuzzing, or an index held in
//! memory). Every offset, count and length read from the file is checked before use: a damaged index gives
//! [`Error::Corrupt`], never a panic or an out-of-bounds read.

use std::fs::File;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::{Header, HEADER_LEN, MAX_CHILDREN};
use crate::limits::QueryLimits;
use crate::varint;

/// Random-access bytes an index can be read from.
pub trait Source {
    /// Total length in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Reads up to `buf.len()` bytes at `offset`, returning how many were read (0 only at the end).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl Source for [u8] {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl Source for Vec<u8> {
    fn size(&self) -> io::Result<u64> {
        self.as_slice().size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.as_slice().read_at(offset, buf)
    }
}

impl<S: Source + ?Sized> Source for &S {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

impl Source for File {
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

/// One indexed file, as recorded in the index's file table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The path given when the file was added.
    pub path: String,
    /// The priority given when the file was added.
    pub priority: u32,
    /// Number of lines.
    pub lines: u64,
    /// Length in bytes when indexed.
    pub bytes: u64,
    pub(crate) line_table: u64,
}

/// An open index. Cheap to share between threads when `S` is (`File` is).
#[derive(Debug)]
pub struct Index<S = File> {
    pub(crate) src: S,
    pub(crate) header: Header,
    pub(crate) files: Vec<FileInfo>,
    pub(crate) limits: QueryLimits,
}

impl Index<File> {
    /// Opens the index file at `path`, checking its header and length.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Index::from_source(File::open(path)?)
    }
}

impl<S: Source> Index<S> {
    /// Opens an index held by any [`Source`], such as a byte slice.
    pub fn from_source(src: S) -> Result<Self> {
        let len = src.size()?;
        let mut hdr = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            let n = src.read_at(got as u64, &mut hdr[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let header = Header::decode(&hdr[..got], len)?;
        let mut c = Cursor::new(&src, len);
        c.seek(header.file_table);
        // Each record is at least six bytes, so a count beyond that is corrupt (and not worth allocating).
        if u64::from(header.files) > (len - header.file_table) / 6 {
            return Err(Error::Corrupt {
                offset: 32,
                what: "file count",
            });
        }
        let mut files = Vec::with_capacity(header.files as usize);
        for _ in 0..header.files {
            let line_table = c.vli("file line table offset")?;
            if line_table < HEADER_LEN as u64 || line_table >= header.file_table {
                return Err(c.corrupt("file line table offset"));
            }
            let lines = c.vli("file line count")?;
            let priority =
                u32::try_from(c.vli("file priority")?).map_err(|_| c.corrupt("file priority"))?;
            let bytes = c.vli("file length")?;
            let n = c.vli("path length")?;
            if n > len - c.pos {
                return Err(c.corrupt("path length"));
            }
            let mut path = Vec::with_capacity(n as usize);
            c.bytes(n, &mut path, "path")?;
            let path = String::from_utf8(path).map_err(|_| c.corrupt("path (not UTF-8)"))?;
            files.push(FileInfo {
                path,
                priority,
                lines,
                bytes,
                line_table,
            });
        }
        Ok(Index {
            src,
            header,
            files,
            limits: QueryLimits::default(),
        })
    }

    /// Replaces the limits queries run under.
    pub fn with_limits(mut self, limits: QueryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The decoded header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The indexed files, in the order they were added (a file's position is its index).
    pub fn files(&self) -> &[FileInfo] {
        &self.files
    }

    pub(crate) fn cursor(&self) -> Cursor<'_, S> {
        Cursor::new(&self.src, self.header.file_len)
    }

    /// Reads the trie node at `off`; children are decoded until one whose label starts after `stop`.
    pub(crate) fn node(&self, c: &mut Cursor<'_, S>, off: u64, stop: Option<u8>) -> Result<Node> {
        let min = HEADER_LEN as u64;
        if off < min || off >= self.header.file_table {
            return Err(Error::Corrupt {
                offset: off,
                what: "trie node offset",
            });
        }
        c.seek(off);
        let pd = c.vli("postings delta")?;
        let postings = match pd {
            0 => None,
            d if d <= off - min => Some(off - d),
            _ => return Err(c.corrupt("postings delta")),
        };
        let count = c.vli("child count")?;
        if count > MAX_CHILDREN {
            return Err(c.corrupt("child count"));
        }
        let own = c.vli("own hits")?;
        let mut children = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let d = c.vli("child delta")?;
            if d == 0 || d > off - min {
                return Err(c.corrupt("child delta"));
            }
            let child_own = c.vli("child own hits")?;
            let agg = c.vli("child aggregate hits")?;
            let n = c.vli("label length")?;
            if n == 0 || n > u64::from(self.header.max_word_len) {
                return Err(c.corrupt("label length"));
            }
            let mut label = Vec::with_capacity(n as usize);
            c.bytes(n, &mut label, "label")?;
            let first = label[0];
            children.push(Child {
                label,
                off: off - d,
                own: child_own,
                agg,
            });
            if stop.is_some_and(|s| first > s) {
                break;
            }
        }
        Ok(Node {
            postings,
            own,
            children,
        })
    }
}

/// A decoded trie node.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) postings: Option<u64>,
    pub(crate) own: u64,
    pub(crate) children: Vec<Child>,
}

/// One child entry of a node.
#[derive(Debug)]
pub(crate) struct Child {
    pub(crate) label: Vec<u8>,
    pub(crate) off: u64,
    pub(crate) own: u64,
    pub(crate) agg: u64,
}

/// Reads bytes from a [`Source`] through a small window, so decoding a record costs one positioned read.
pub(crate) struct Cursor<'a, S: ?Sized> {
    src: &'a S,
    len: u64,
    pub(crate) pos: u64,
    buf: Vec<u8>,
    start: u64,
}

/// Bytes read per window refill.
const WINDOW: u64 = 4096;

impl<'a, S: Source + ?Sized> Cursor<'a, S> {
    fn new(src: &'a S, len: u64) -> Self {
        Cursor {
            src,
            len,
            pos: 0,
            buf: Vec::new(),
            start: 0,
        }
    }

    pub(crate) fn seek(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// Moves forward `n` bytes.
    pub(crate) fn skip(&mut self, n: u64, what: &'static str) -> Result<()> {
        match self.pos.checked_add(n) {
            Some(p) if p <= self.len => {
                self.pos = p;
                Ok(())
            }
            _ => Err(self.corrupt(what)),
        }
    }

    pub(crate) fn corrupt(&self, what: &'static str) -> Error {
        Error::Corrupt {
            offset: self.pos,
            what,
        }
    }

    fn window(&mut self, what: &'static str) -> Result<&[u8]> {
        let in_window = self.pos >= self.start && self.pos < self.start + self.buf.len() as u64;
        if !in_window {
            if self.pos >= self.len {
                return Err(self.corrupt(what));
            }
            let n = WINDOW.min(self.len - self.pos) as usize;
            self.buf.resize(n, 0);
            let mut got = 0;
            while got < n {
                let r = self
                    .src
                    .read_at(self.pos + got as u64, &mut self.buf[got..])?;
                if r == 0 {
                    break;
                }
                got += r;
            }
            self.buf.truncate(got);
            self.start = self.pos;
            if got == 0 {
                return Err(self.corrupt(what));
            }
        }
        let i = (self.pos - self.start) as usize;
        Ok(&self.buf[i..])
    }

    pub(crate) fn byte(&mut self, what: &'static str) -> Result<u8> {
        let b = self.window(what)?[0];
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn vli(&mut self, what: &'static str) -> Result<u64> {
        let w = self.window(what)?;
        if let Some((v, n)) = varint::get(w) {
            self.pos += n as u64;
            return Ok(v);
        }
        if w.len() >= varint::MAX_LEN {
            return Err(self.corrupt(what));
        }
        // The integer straddles the window: go byte by byte.
        let mut v: u64 = 0;
        for _ in 0..varint::MAX_LEN {
            let b = self.byte(what)?;
            if v >> 57 != 0 {
                return Err(self.corrupt(what));
            }
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.corrupt(what))
    }

    pub(crate) fn bytes(&mut self, n: u64, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        let mut left = n;
        while left > 0 {
            let w = self.window(what)?;
            let take = (w.len() as u64).min(left) as usize;
            out.extend_from_slice(&w[..take]);
            self.pos += take as u64;
            left -= take as u64;
        }
        Ok(())
    }
}
