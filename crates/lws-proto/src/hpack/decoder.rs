//! The header block decoder (RFC 7541 §3.2, §6).

use super::static_table::STATIC;
use super::table::{entry_size, DynTable};
use super::{huffman, integer, DecoderError};

/// Decodes the header blocks of one direction of one connection, keeping its dynamic table in step with the
/// peer's encoder.
///
/// Fields are handed to a callback as slices of the block, of the static or dynamic table, or of a scratch
/// buffer reused for Huffman-decoded strings: decoding allocates nothing per field once the scratch buffers
/// and the table have grown to the connection's sizes.
///
/// Memory is bounded by the limits: the table by [`Decoder::set_max_table_size`], the scratch buffers by
/// the larger of the header list limit and the table limit (longer strings are refused with
/// [`DecoderError::StringTooLong`] before anything is allocated).
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynTable,
    /// Our advertised SETTINGS_HEADER_TABLE_SIZE: size updates may not exceed it.
    limit: usize,
    /// Set when our limit fell below the table's maximum: the next block must open with a size update at or
    /// below this value before it uses the table.
    pending_shrink: Option<usize>,
    name_buf: Vec<u8>,
    value_buf: Vec<u8>,
    /// The Huffman string `value_buf` was decoded from. Peers send some values as literals on every request
    /// (`:path` is never indexed by common encoders), so the same string is often decoded again and again.
    value_src: Vec<u8>,
}

/// Where a literal's name comes from.
#[derive(Clone, Copy)]
enum Name {
    Static(&'static [u8]),
    /// Bytes `start..end` of the block.
    Block(usize, usize),
    /// The decoder's name scratch buffer (a Huffman string, or a copy of a dynamic table name).
    Scratch,
}

/// Where a literal's value comes from.
#[derive(Clone, Copy)]
enum Value {
    Block(usize, usize),
    Scratch,
}

/// How a literal field asks to be treated (RFC 7541 §6.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Literal {
    Incremental,
    WithoutIndexing,
    NeverIndexed,
}

impl Decoder {
    /// A decoder whose table size limit, `max_table_size`, is our SETTINGS_HEADER_TABLE_SIZE (4096 by
    /// default); the table starts with that maximum size.
    pub fn new(max_table_size: usize) -> Self {
        Decoder {
            table: DynTable::new(max_table_size),
            limit: max_table_size,
            pending_shrink: None,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
            value_src: Vec::new(),
        }
    }

    /// Our advertised limit changed (call it once the peer ACKed our SETTINGS). A lower limit shrinks the
    /// table at once and requires the peer's next block to start with a size update within it.
    pub fn set_max_table_size(&mut self, n: usize) {
        self.limit = n;
        if n < self.table.max_size() {
            self.table.set_max_size(n);
            self.pending_shrink = Some(self.pending_shrink.map_or(n, |p| p.min(n)));
        }
    }

    /// The table size limit in force (our advertised SETTINGS_HEADER_TABLE_SIZE).
    pub fn max_table_size(&self) -> usize {
        self.limit
    }

    /// The dynamic table's current size (sum of name + value + 32 over its entries).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The number of entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// The dynamic table's entries, newest first (HPACK index 62 first).
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.table.iter()
    }

    /// Decodes one complete header block (a HEADERS or PUSH_PROMISE payload and its CONTINUATION payloads,
    /// concatenated) and calls `emit(name, value, sensitive)` for each field in order; `sensitive` is true
    /// for a never-indexed literal, which must stay never-indexed if forwarded (RFC 7541 §7.1.3).
    ///
    /// `max_list_size` bounds the sum over fields of name + value + 32 (SETTINGS_MAX_HEADER_LIST_SIZE). Once
    /// it is exceeded, decoding goes on to keep the dynamic table in step but nothing more is emitted, and
    /// the result is [`DecoderError::HeaderListTooLarge`]. Any other error leaves the table unusable: the
    /// connection must end with COMPRESSION_ERROR.
    // A named alias would hide the callback's shape, which is the whole contract with the HTTP/2 engine.
    #[allow(clippy::type_complexity)]
    pub fn decode(
        &mut self,
        block: &[u8],
        max_list_size: usize,
        emit: &mut dyn FnMut(&[u8], &[u8], bool),
    ) -> Result<(), DecoderError> {
        let max_string = max_list_size.max(self.limit);
        let mut pos = 0;
        let mut list_size = 0usize;
        let mut too_large = false;
        let mut seen_field = false;
        while let Some(&b) = block.get(pos) {
            if b & 0xe0 == 0x20 {
                // Dynamic table size update (§6.3): only before the first field.
                if seen_field {
                    return Err(DecoderError::TableSizeUpdateNotAtStart);
                }
                let n = integer::decode(block, &mut pos, 5)?;
                let n = usize::try_from(n).map_err(|_| DecoderError::TableSizeUpdateTooLarge)?;
                if n > self.limit {
                    return Err(DecoderError::TableSizeUpdateTooLarge);
                }
                self.table.set_max_size(n);
                if self.pending_shrink.is_some_and(|p| n <= p) {
                    self.pending_shrink = None;
                }
                continue;
            }
            if !seen_field {
                if self.pending_shrink.is_some() {
                    return Err(DecoderError::TableSizeUpdateMissing);
                }
                seen_field = true;
            }
            if b & 0x80 != 0 {
                // Indexed field (§6.1).
                let index = integer::decode(block, &mut pos, 7)?;
                let (name, value) = self.indexed(index)?;
                list_size = list_size.saturating_add(entry_size(name, value));
                too_large |= list_size > max_list_size;
                if !too_large {
                    emit(name, value, false);
                }
                continue;
            }
            let (kind, prefix) = match b & 0xf0 {
                0x00 => (Literal::WithoutIndexing, 4),
                0x10 => (Literal::NeverIndexed, 4),
                _ => (Literal::Incremental, 6),
            };
            let index = integer::decode(block, &mut pos, prefix)?;
            let name = if index == 0 {
                self.string(block, &mut pos, max_string, true)?
            } else {
                self.indexed_name(index)?
            };
            let value = match self.string(block, &mut pos, max_string, false)? {
                Name::Block(s, e) => Value::Block(s, e),
                _ => Value::Scratch,
            };
            let name = match name {
                Name::Static(n) => n,
                Name::Block(s, e) => &block[s..e],
                Name::Scratch => &self.name_buf[..],
            };
            let value = match value {
                Value::Block(s, e) => &block[s..e],
                Value::Scratch => &self.value_buf[..],
            };
            list_size = list_size.saturating_add(entry_size(name, value));
            too_large |= list_size > max_list_size;
            if kind == Literal::Incremental && self.table.insert(name, value) {
                if !too_large {
                    // Just inserted, so present: hand out the table's copy.
                    if let Some((n, v)) = self.table.get(0) {
                        emit(n, v, false);
                    }
                }
            } else if !too_large {
                emit(name, value, kind == Literal::NeverIndexed);
            }
        }
        if too_large {
            Err(DecoderError::HeaderListTooLarge)
        } else {
            Ok(())
        }
    }

    /// The field at HPACK `index` (static 1..=61, then dynamic from the newest).
    fn indexed(&self, index: u64) -> Result<(&[u8], &[u8]), DecoderError> {
        match index {
            0 => Err(DecoderError::InvalidIndex(0)),
            1..=61 => Ok(STATIC[index as usize - 1]),
            _ => usize::try_from(index - 62)
                .ok()
                .and_then(|i| self.table.get(i))
                .ok_or(DecoderError::InvalidIndex(index)),
        }
    }

    /// The name of the field at HPACK `index`; a dynamic table name is copied to the scratch buffer because
    /// inserting the new field may evict the entry it came from.
    fn indexed_name(&mut self, index: u64) -> Result<Name, DecoderError> {
        if (1..=61).contains(&index) {
            return Ok(Name::Static(STATIC[index as usize - 1].0));
        }
        let entry = usize::try_from(index.saturating_sub(62))
            .ok()
            .and_then(|i| self.table.get(i));
        let (name, _) = entry.ok_or(DecoderError::InvalidIndex(index))?;
        self.name_buf.clear();
        self.name_buf.extend_from_slice(name);
        Ok(Name::Scratch)
    }

    /// Reads a string literal (§5.2): a raw string stays in the block, a Huffman string is decoded into the
    /// name or value scratch buffer.
    fn string(
        &mut self,
        block: &[u8],
        pos: &mut usize,
        max: usize,
        is_name: bool,
    ) -> Result<Name, DecoderError> {
        let huffman = block.get(*pos).ok_or(DecoderError::Truncated)? & 0x80 != 0;
        let len = integer::decode(block, pos, 7)?;
        let len = usize::try_from(len).map_err(|_| DecoderError::StringTooLong)?;
        if len > block.len() - *pos {
            return Err(DecoderError::Truncated);
        }
        if len > max {
            return Err(DecoderError::StringTooLong);
        }
        let (start, end) = (*pos, *pos + len);
        *pos = end;
        if !huffman {
            return Ok(Name::Block(start, end));
        }
        let src = &block[start..end];
        if is_name {
            self.name_buf.clear();
            huffman::decode(src, &mut self.name_buf)?;
            return Ok(Name::Scratch);
        }
        if self.value_src != src {
            self.value_src.clear();
            self.value_buf.clear();
            if let Err(e) = huffman::decode(src, &mut self.value_buf) {
                self.value_buf.clear();
                return Err(e);
            }
            self.value_src.extend_from_slice(src);
        }
        Ok(Name::Scratch)
    }
}

impl Default for Decoder {
    /// A decoder with the protocol's default table size, 4096.
    fn default() -> Self {
        Decoder::new(4096)
    }
}
