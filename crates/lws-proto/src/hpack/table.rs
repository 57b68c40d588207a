//! The dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields, newest first, bounded by a size in which each
//! entry counts its name and value lengths plus 32.
//!
//! Names and values live back to back in one byte buffer; eviction only advances past the oldest entry's
//! bytes, and the live bytes are moved to the front when appending would take the buffer past twice the
//! maximum size. Each byte is therefore moved at most once per fill of the table, the buffer never holds
//! more than twice the maximum size, and inserting allocates nothing once the buffer has grown.

use std::collections::VecDeque;

/// Bytes each entry counts beyond its name and value (RFC 7541 §4.1).
pub(crate) const ENTRY_OVERHEAD: usize = 32;

/// The RFC 7541 size of a field: name length + value length + 32.
pub(crate) fn entry_size(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + ENTRY_OVERHEAD
}

/// The dynamic table shared by the encoder and the decoder.
#[derive(Debug, Clone)]
pub(crate) struct DynTable {
    /// Names and values of the entries, oldest first, starting at the oldest entry's `offset`.
    bytes: Vec<u8>,
    /// Where each entry's name starts in `bytes` and the two lengths; oldest at the front.
    entries: VecDeque<Slot>,
    /// Sum of the entry sizes.
    size: usize,
    /// The current maximum size, as last set by a size update.
    max_size: usize,
    /// Entries ever inserted, wrapping: the entry inserted n-th (from 0) is stamped n mod 2^32 for its
    /// lifetime, which lets the encoder's caches name an entry without being updated as others come and go.
    inserted: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: usize,
    name_len: usize,
    value_len: usize,
}

impl DynTable {
    /// An empty table of maximum size `max_size`.
    pub(crate) fn new(max_size: usize) -> Self {
        DynTable {
            bytes: Vec::new(),
            entries: VecDeque::new(),
            size: 0,
            max_size,
            inserted: 0,
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Sum of the entry sizes (RFC 7541 §4.1).
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The maximum size in force.
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// The entry at `index` counted from the newest (0 is the newest, HPACK index 62).
    pub(crate) fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        let i = self.entries.len().checked_sub(index + 1)?;
        Some(self.field(self.entries[i]))
    }

    /// The stamp the next insertion will get.
    pub(crate) fn next_stamp(&self) -> u32 {
        self.inserted
    }

    /// The position from the newest of the entry stamped `stamp`, if it is still in the table. After 2^32
    /// insertions a stale stamp can name a newer entry: callers compare the entry's bytes anyway.
    pub(crate) fn position(&self, stamp: u32) -> Option<usize> {
        let from_newest = usize::try_from(self.inserted.wrapping_sub(stamp))
            .ok()?
            .checked_sub(1)?;
        (from_newest < self.entries.len()).then_some(from_newest)
    }

    /// Sets the maximum size, evicting the oldest entries until the table fits (RFC 7541 §4.3).
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
        if self.bytes.capacity() > 2 * max_size.max(ENTRY_OVERHEAD) {
            // A table that shrank for good should not keep the memory it needed when it was larger.
            self.compact();
            self.bytes.shrink_to(2 * max_size);
        }
    }

    /// Inserts a field as the newest entry, evicting older ones to make room (RFC 7541 §4.4). A field larger
    /// than the maximum size empties the table and is not stored; returns whether it was stored.
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8]) -> bool {
        let size = entry_size(name, value);
        if size > self.max_size {
            self.evict_to(0);
            // The field still took an absolute index on both sides, keeping the encoder's cache honest.
            self.inserted = self.inserted.wrapping_add(1);
            return false;
        }
        self.evict_to(self.max_size - size);
        let need = name.len() + value.len();
        if self.bytes.len() + need > 2 * self.max_size {
            self.compact();
        }
        let offset = self.bytes.len();
        self.bytes.extend_from_slice(name);
        self.bytes.extend_from_slice(value);
        self.entries.push_back(Slot {
            offset,
            name_len: name.len(),
            value_len: value.len(),
        });
        self.size += size;
        self.inserted = self.inserted.wrapping_add(1);
        true
    }

    /// The entries from the newest, for tests and diagnostics.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries.iter().rev().map(|&s| self.field(s))
    }

    fn field(&self, s: Slot) -> (&[u8], &[u8]) {
        let name_end = s.offset + s.name_len;
        (
            &self.bytes[s.offset..name_end],
            &self.bytes[name_end..name_end + s.value_len],
        )
    }

    fn evict_to(&mut self, max: usize) {
        while self.size > max {
            let Some(s) = self.entries.pop_front() else {
                break;
            };
            self.size -= s.name_len + s.value_len + ENTRY_OVERHEAD;
        }
        if self.entries.is_empty() {
            self.bytes.clear();
        }
    }

    /// Moves the live bytes to the front of the buffer.
    fn compact(&mut self) {
        let Some(start) = self.entries.front().map(|s| s.offset) else {
            self.bytes.clear();
            return;
        };
        self.bytes.drain(..start);
        for s in &mut self.entries {
            s.offset -= start;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_evictions_and_indices_follow_the_rfc() {
        let mut t = DynTable::new(100);
        assert!(t.insert(b"a", b"12345")); // 38
        assert!(t.insert(b"bb", b"x")); // 35
        assert_eq!((t.len(), t.size()), (2, 73));
        assert_eq!(t.get(0), Some((&b"bb"[..], &b"x"[..])));
        assert_eq!(t.get(1), Some((&b"a"[..], &b"12345"[..])));
        assert_eq!(t.get(2), None);
        assert!(t.insert(b"ccc", b"")); // 35: evicts "a"
        assert_eq!((t.len(), t.size()), (2, 70));
        assert_eq!(t.get(1), Some((&b"bb"[..], &b"x"[..])));
        assert_eq!(t.position(0), None);
        assert_eq!(t.position(1), Some(1));
        assert_eq!(t.position(2), Some(0));
        assert_eq!(t.position(3), None);
        // Too large for the table: empties it.
        assert!(!t.insert(b"n", &[b'v'; 80]));
        assert_eq!((t.len(), t.size()), (0, 0));
        // Shrinking evicts from the oldest.
        t.insert(b"a", b"");
        t.insert(b"b", b"");
        t.set_max_size(40);
        assert_eq!(t.iter().collect::<Vec<_>>(), [(&b"b"[..], &b""[..])]);
        t.set_max_size(0);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn the_buffer_stays_within_twice_the_maximum() {
        let mut t = DynTable::new(4096);
        for i in 0..10_000u32 {
            let v = i.to_string().repeat(usize::try_from(i % 50).unwrap());
            t.insert(b"x-name", v.as_bytes());
            assert!(t.bytes.len() <= 2 * 4096);
            assert!(t.size() <= 4096);
            assert_eq!(t.get(0), Some((&b"x-name"[..], v.as_bytes())));
        }
    }
}
