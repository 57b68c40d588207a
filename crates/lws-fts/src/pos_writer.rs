//! A buffered writer that counts what it wrote, shared by the index builder and the trie writer.

use std::fs::File;
use std::io::{self, BufWriter, Write};

/// A buffered writer that knows its position, so records can point at each other.
pub(crate) struct PosWriter {
    inner: BufWriter<File>,
    pos: u64,
}

impl PosWriter {
    /// Writes to `f` from its start, through a 256 KiB buffer.
    pub(crate) fn new(f: File) -> Self {
        PosWriter {
            inner: BufWriter::with_capacity(256 * 1024, f),
            pos: 0,
        }
    }

    /// Offset of the next byte written.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Writes out what is buffered and lends the file itself, for patching bytes written earlier (the
    /// header); `pos` no longer describes the file's cursor after that.
    pub(crate) fn flushed_file(&mut self) -> io::Result<&mut File> {
        self.inner.flush()?;
        Ok(self.inner.get_mut())
    }
}

impl Write for PosWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
