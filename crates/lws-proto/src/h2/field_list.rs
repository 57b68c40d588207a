//! Header fields to send, flattened into one buffer. A server answers many requests with the same head (same
//! file, same date second); kept flat, a head is recognised as the previous one with a single comparison and
//! sent again without HPACK-encoding it.

/// Header fields to send, in order, names as given (they are lowercased when encoded).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldList {
    /// Each field as: name length (u32 LE), name, value length (u32 LE), value.
    buf: Vec<u8>,
}

impl FieldList {
    /// An empty list.
    pub fn new() -> FieldList {
        FieldList::default()
    }

    /// Forgets every field, keeping the allocation for the next head.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Appends a field.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        push_raw(&mut self.buf, name, value);
    }

    /// True when no field was pushed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The fields in order, as (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let mut rest = &self.buf[..];
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (n, after) = split(rest);
            let (v, after) = split(after);
            rest = after;
            Some((n, v))
        })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Room a list takes at its first field: a typical head's fields, in one allocation rather than a chain of
/// reallocations (lists are released while a connection is idle).
const FIRST_ROOM: usize = 512;

/// Appends a length-prefixed name and value to a flattened list.
pub(crate) fn push_raw(buf: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    if buf.capacity() == 0 {
        buf.reserve(FIRST_ROOM);
    }
    buf.extend_from_slice(&(name.len() as u32).to_le_bytes());
    buf.extend_from_slice(name);
    buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
    buf.extend_from_slice(value);
}

/// One length-prefixed item of a flattened list, and the rest. Lists are only built by `push_raw`, so the
/// prefix is always followed by that many bytes.
pub(crate) fn split(b: &[u8]) -> (&[u8], &[u8]) {
    let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    b[4..].split_at(len)
}

#[cfg(test)]
mod tests {
    use super::FieldList;

    #[test]
    fn fields_come_back_in_order() {
        let mut l = FieldList::new();
        assert!(l.is_empty());
        l.push(b"Content-Type", b"text/html");
        l.push(b"x-empty", b"");
        l.push(b"", b"odd but kept");
        let got: Vec<_> = l.iter().collect();
        assert_eq!(
            got,
            [
                (&b"Content-Type"[..], &b"text/html"[..]),
                (b"x-empty", b""),
                (b"", b"odd but kept")
            ]
        );
        l.clear();
        assert_eq!(l.iter().count(), 0);
    }
}
