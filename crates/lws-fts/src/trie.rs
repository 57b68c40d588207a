//! Streaming construction of the on-disk radix trie from words arriving in sorted order.
//!
//! Only the path from the root to the last word is open (one frame per byte of that word); when the next
//! word leaves a frame's subtree, the frame's node is complete and is written at once, children before
//! parents (see [`crate::format`]). A frame with no word of its own and a single child is not written: its
//! byte is prepended to the child's edge label, which is how the byte trie becomes a radix trie. Memory is
//! therefore bounded by the longest word times the fan-out (at most 256), whatever the corpus size.

use std::io::{self, Write};

use crate::pos_writer::PosWriter;
use crate::varint;

struct Frame {
    byte: u8,
    own: u64,
    postings: u64,
    children: Vec<Entry>,
}

/// A completed child, as its parent will describe it.
struct Entry {
    label: Vec<u8>,
    off: u64,
    own: u64,
    agg: u64,
}

/// Writes trie nodes for words added in strictly increasing byte order.
pub(crate) struct TrieWriter {
    stack: Vec<Frame>,
    prev: Vec<u8>,
    buf: Vec<u8>,
}

impl TrieWriter {
    pub(crate) fn new() -> Self {
        TrieWriter {
            stack: vec![Frame {
                byte: 0,
                own: 0,
                postings: 0,
                children: Vec::new(),
            }],
            prev: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Adds `word` with `own` hits whose postings start at `postings`; nodes that are complete are written.
    pub(crate) fn add(
        &mut self,
        out: &mut PosWriter,
        word: &[u8],
        own: u64,
        postings: u64,
    ) -> io::Result<()> {
        let common = self
            .prev
            .iter()
            .zip(word)
            .take_while(|(a, b)| a == b)
            .count();
        while self.stack.len() > common + 1 {
            self.pop(out)?;
        }
        for &byte in &word[common..] {
            self.stack.push(Frame {
                byte,
                own: 0,
                postings: 0,
                children: Vec::new(),
            });
        }
        if let Some(top) = self.stack.last_mut() {
            top.own = own;
            top.postings = postings;
        }
        self.prev.clear();
        self.prev.extend_from_slice(word);
        Ok(())
    }

    /// Writes every open node, the root last, and returns the root's offset.
    pub(crate) fn finish(mut self, out: &mut PosWriter) -> io::Result<u64> {
        while self.stack.len() > 1 {
            self.pop(out)?;
        }
        let root = self.stack.pop().map_or(
            Frame {
                byte: 0,
                own: 0,
                postings: 0,
                children: Vec::new(),
            },
            |f| f,
        );
        self.write_node(out, &root)
    }

    fn pop(&mut self, out: &mut PosWriter) -> io::Result<()> {
        let Some(mut f) = self.stack.pop() else {
            return Ok(());
        };
        let entry = if f.own == 0 && f.children.len() == 1 {
            let mut c = f.children.remove(0);
            c.label.insert(0, f.byte);
            c
        } else {
            let off = self.write_node(out, &f)?;
            Entry {
                label: vec![f.byte],
                off,
                own: f.own,
                agg: f.own + f.children.iter().map(|c| c.agg).sum::<u64>(),
            }
        };
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(entry);
        }
        Ok(())
    }

    fn write_node(&mut self, out: &mut PosWriter, f: &Frame) -> io::Result<u64> {
        let off = out.pos();
        let b = &mut self.buf;
        b.clear();
        varint::put(b, if f.own > 0 { off - f.postings } else { 0 });
        varint::put(b, f.children.len() as u64);
        varint::put(b, f.own);
        for c in &f.children {
            varint::put(b, off - c.off);
            varint::put(b, c.own);
            varint::put(b, c.agg);
            varint::put(b, c.label.len() as u64);
            b.extend_from_slice(&c.label);
        }
        out.write_all(b)?;
        Ok(off)
    }
}
