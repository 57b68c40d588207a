//! [`Headers`]: a response's header fields, filled by either wire driver and read through
//! [`HttpResponse`](super::HttpResponse), so that callers see one shape whatever the protocol.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

/// Response header fields in the order received, names lowercased; looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// Every name (lowercased) and value, one after the other: one allocation for the whole head.
    buf: Bytes,
    /// (name, value) ranges in `buf`, in the order received.
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// The fields as a wire driver decoded them (any case), copied out of its buffer so the response
    /// outlives it.
    pub(crate) fn from_pairs<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    ) -> Headers {
        let size: usize = pairs.clone().map(|(n, v)| n.len() + v.len()).sum();
        let mut buf = BytesMut::with_capacity(size);
        let fields = pairs
            .map(|(n, v)| {
                let start = buf.len();
                buf.extend(n.bytes().map(|b| b.to_ascii_lowercase()));
                let mid = buf.len();
                buf.extend_from_slice(v);
                (start..mid, mid..buf.len())
            })
            .collect();
        Headers {
            buf: buf.freeze(),
            fields,
        }
    }

    /// Names were checked as tokens by the wire drivers (ASCII), so they are valid UTF-8.
    fn name(&self, r: &Range<usize>) -> &str {
        std::str::from_utf8(&self.buf[r.clone()]).unwrap_or("")
    }

    /// Every field with its value as a shared slice of the head (no copy).
    pub(crate) fn shared(&self) -> impl Iterator<Item = (&str, Bytes)> + Clone + '_ {
        self.fields
            .iter()
            .map(|(n, v)| (self.name(n), self.buf.slice(v.clone())))
    }

    /// The first value of the named field, if it is UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of the named field, as bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| self.buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.buf[v.clone()])
    }

    /// Every value of the named field (e.g. `set-cookie`), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| self.buf[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.buf[v.clone()])
    }

    /// All fields as (lowercase name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields
            .iter()
            .map(|(n, v)| (self.name(n), &self.buf[v.clone()]))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}
