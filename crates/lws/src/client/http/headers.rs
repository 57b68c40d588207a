//! [`Headers`]: a response's header fields, filled by either wire driver and read through
//! [`HttpResponse`](super::HttpResponse), so that callers see one shape whatever the protocol.

use bytes::Bytes;

/// Response header fields in the order received, names lowercased; looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// (lowercase name, value), in the order received.
    fields: Vec<(String, Bytes)>,
}

impl Headers {
    /// The fields as a wire driver decoded them (any case), copied out of its buffer so the response
    /// outlives it.
    pub(crate) fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a [u8])>) -> Headers {
        Headers {
            fields: pairs
                .map(|(n, v)| (n.to_ascii_lowercase(), Bytes::copy_from_slice(v)))
                .collect(),
        }
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
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &v[..])
    }

    /// Every value of the named field (e.g. `set-cookie`), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &v[..])
    }

    /// All fields as (lowercase name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|(n, v)| (n.as_str(), &v[..]))
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
