//! The header block encoder (RFC 7541 §3.2, §6) and its indexing policy.

use super::static_table::{self, Match};
use super::table::{entry_size, DynTable};
use super::{huffman, integer};

/// The table size both ends assume before any SETTINGS (RFC 9113 §6.5.2).
const DEFAULT_TABLE_SIZE: usize = 4096;

/// log2 of the number of buckets in each of the encoder's lookup caches. 64 two-way buckets hold 128
/// stamps, more than the entries a 4096-byte table has room for with typical fields, and the three caches
/// take 1.25 KiB per connection (at 256 buckets they were 5 KiB, most of an idle HTTP/2 connection).
const BUCKET_BITS: u32 = 6;

/// Buckets in each cache; each holds two entries (two-way set associative).
const BUCKETS: usize = 1 << BUCKET_BITS;

/// When the encoder Huffman-codes a string literal (RFC 7541 §5.2).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Huffman {
    /// Always, even when the coded string is longer.
    Always,
    /// Never: every string goes raw.
    Never,
    /// When the coded string is shorter than the raw one (the default).
    #[default]
    Shorter,
}

/// Which literal fields the encoder adds to the dynamic table.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Indexing {
    /// The default policy: credentials (`authorization`, `proxy-authorization`, `cookie`, `set-cookie`)
    /// are sent as never-indexed literals so that no intermediary compresses them (RFC 7541 §7.1.3); fields
    /// larger than a quarter of the table are sent without indexing so one big value does not flush the
    /// table; fields whose value usually changes from one message to the next (`:path`, `content-length`,
    /// `date`, `etag`, `last-modified`, ..) are indexed the second time the same value is sent, so unique
    /// values do not evict the stable ones; every other field is indexed at once. Repeated fields cost one
    /// byte from then on.
    #[default]
    Default,
    /// Every field that is not already in a table is indexed, credentials included (RFC 7541 Appendix C
    /// encodes this way).
    Always,
    /// Nothing is indexed: only the static table is used.
    Never,
}

/// How an [`Encoder`] compresses: built with [`EncoderOptions::default`] and the builder methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderOptions {
    huffman: Huffman,
    indexing: Indexing,
    max_table_size: usize,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            huffman: Huffman::Shorter,
            indexing: Indexing::Default,
            max_table_size: DEFAULT_TABLE_SIZE,
        }
    }
}

impl EncoderOptions {
    /// When strings are Huffman-coded (default [`Huffman::Shorter`]).
    pub fn huffman(mut self, huffman: Huffman) -> Self {
        self.huffman = huffman;
        self
    }

    /// Which fields are indexed (default [`Indexing::Default`]).
    pub fn indexing(mut self, indexing: Indexing) -> Self {
        self.indexing = indexing;
        self
    }

    /// Our cap on the dynamic table, whatever larger size the peer allows (default 4096). Memory used by the
    /// encoder's table stays within twice this. A cap below 4096 is signalled at the start of the first block.
    pub fn max_table_size(mut self, n: usize) -> Self {
        self.max_table_size = n;
        self
    }
}

/// Encodes the header blocks of one direction of one connection, keeping its dynamic table in step with the
/// peer's decoder.
///
/// Exact matches in the static or dynamic table become one indexed byte (two past index 126); dynamic
/// lookups go through two small two-way caches from a hash of the name, and of the name and value, to the
/// newest entries with them, checked against the table's bytes, so encoding a field allocates nothing and
/// costs two hashes and at most four comparisons. The caches (1 KiB) are made at the first field and may be
/// dropped while the connection is idle ([`Encoder::release_index`]).
#[derive(Debug, Clone)]
pub struct Encoder {
    table: DynTable,
    options: EncoderOptions,
    /// The smallest and the latest table size set since the last block, to signal at the next one.
    pending: Option<(usize, usize)>,
    /// How the table's entries are found; made at the first field and dropped by [`Encoder::release_index`].
    index: Option<Box<Index>>,
    /// Volatile fields sent once without indexing: the low bits of their hash, in their bucket. Kept when
    /// the index goes: forgetting it would send a repeated volatile field (the date) as a literal again.
    seen: Box<[u32; BUCKETS]>,
    /// Bumped whenever the next block could come out differently for the same fields: a table insert, a
    /// size change, or a literal that may be indexed when seen again.
    generation: u64,
}

impl Encoder {
    /// An encoder with the default options: a 4096-byte table, Huffman when shorter, the default indexing
    /// policy.
    pub fn new() -> Self {
        Encoder::with_options(EncoderOptions::default())
    }

    /// An encoder with the given options. The peer's decoder starts at 4096 (RFC 9113 §6.5.2); a smaller cap
    /// is signalled at the start of the first block.
    pub fn with_options(options: EncoderOptions) -> Self {
        let mut e = Encoder {
            table: DynTable::new(DEFAULT_TABLE_SIZE),
            options,
            pending: None,
            index: None,
            seen: Box::new([0; BUCKETS]),
            generation: 0,
        };
        if options.max_table_size < DEFAULT_TABLE_SIZE {
            e.set_peer_max_table_size(DEFAULT_TABLE_SIZE);
        }
        e
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed: the table uses the smaller of it and our cap from the
    /// next block on, which starts with the size updates RFC 7541 §4.2 asks for (the smallest size since the
    /// last block, then the final one if it is larger).
    pub fn set_peer_max_table_size(&mut self, n: usize) {
        let size = n.min(self.options.max_table_size);
        let current = self.table.max_size();
        let smallest = self.pending.map_or(current, |(m, _)| m);
        self.pending = Some((smallest.min(size), size));
        self.generation += 1;
    }

    /// The dynamic table's current size (sum of name + value + 32 over its entries).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The number of entries in the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// The dynamic table's entries, newest first.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.table.iter()
    }

    /// Encodes a header list as one header block appended to `dst`. Names must already be lowercase, pseudo
    /// header fields first; they are encoded in the order given.
    pub fn encode<'a, I: IntoIterator<Item = (&'a [u8], &'a [u8])>>(
        &mut self,
        fields: I,
        dst: &mut Vec<u8>,
    ) {
        self.encode_fields(
            fields.into_iter().map(|(name, value)| (name, value, false)),
            dst,
        );
    }

    /// Like [`Encoder::encode`], with a flag per field that forces a never-indexed literal when true: a
    /// proxy forwarding fields the [`Decoder`](super::Decoder) reported as sensitive must keep them so
    /// (RFC 7541 §7.1.3), and an application can mark its own secrets.
    pub fn encode_fields<'a, I: IntoIterator<Item = (&'a [u8], &'a [u8], bool)>>(
        &mut self,
        fields: I,
        dst: &mut Vec<u8>,
    ) {
        self.start_block(dst);
        for (name, value, never_indexed) in fields {
            self.field(name, value, never_indexed, dst);
        }
    }

    /// Starts a header block field by field: emits the pending dynamic table size updates, which must open
    /// the block (RFC 7541 §4.2). Follow with [`Encoder::encode_field`] for each field, in order.
    pub fn start_block(&mut self, dst: &mut Vec<u8>) {
        if let Some((smallest, last)) = self.pending.take() {
            // The smallest size matters only if it evicted more than the final one will.
            if smallest < self.table.max_size() && smallest < last {
                self.size_update(smallest, dst);
            }
            if last != self.table.max_size() {
                self.size_update(last, dst);
            }
        }
    }

    /// Encodes one field of a block begun with [`Encoder::start_block`] (for callers whose fields do not
    /// outlive one step of their iteration, such as names lowercased into a scratch buffer).
    pub fn encode_field(&mut self, name: &[u8], value: &[u8], dst: &mut Vec<u8>) {
        self.field(name, value, false, dst);
    }

    fn size_update(&mut self, n: usize, dst: &mut Vec<u8>) {
        integer::encode(n, 5, 0x20, dst);
        self.table.set_max_size(n);
        self.generation += 1;
    }

    /// Changes whenever encoding the same fields again could give different bytes. While it stays equal, a
    /// block made only of indexed fields encodes to the same bytes again (indexing changes nothing), so a
    /// caller may reuse them: a server answering the same response headers over and over skips the encoder.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Drops the index that finds the table's entries (1 KiB); the next field rebuilds it from the table,
    /// which is all the state the peer shares. For a connection going idle.
    pub fn release_index(&mut self) {
        self.index = None;
    }

    fn field(&mut self, name: &[u8], value: &[u8], never_indexed: bool, dst: &mut Vec<u8>) {
        let indexing = self.options.indexing;
        let sensitive = never_indexed || (indexing == Indexing::Default && is_sensitive(name));
        let in_static = static_table::find(name, value);
        if let (Some(Match::Exact(i)), false) = (in_static, sensitive) {
            integer::encode(i, 7, 0x80, dst);
            return;
        }
        let name_hash = hash(0, name);
        let field_hash = hash(name_hash, value);
        let table = &self.table;
        let ix = self.index.get_or_insert_with(|| Index::of(table));
        if !sensitive && indexing != Indexing::Never {
            let hit = ix
                .fields
                .find(field_hash, table, |n, v| n == name && v == value);
            if let Some(pos) = hit {
                integer::encode(62 + pos, 7, 0x80, dst);
                return;
            }
        }
        let name_index = match in_static {
            Some(Match::Exact(i) | Match::Name(i)) => i,
            None => ix
                .names
                .find(name_hash, table, |n, _| n == name)
                .map_or(0, |pos| 62 + pos),
        };
        let index = match indexing {
            Indexing::Always => !sensitive,
            Indexing::Never => false,
            Indexing::Default => {
                !sensitive && entry_size(name, value) <= table.max_size() / 4 && {
                    // A volatile field is indexed only when the same value comes again.
                    let tag = field_hash as u32;
                    let bucket = bucket(field_hash);
                    let again = !is_volatile(name) || self.seen[bucket] == tag;
                    self.seen[bucket] = tag;
                    again
                }
            }
        };
        self.generation += 1;
        let (flags, prefix) = if index {
            (0x40, 6)
        } else if sensitive {
            (0x10, 4)
        } else {
            (0x00, 4)
        };
        integer::encode(name_index, prefix, flags, dst);
        if name_index == 0 {
            self.string(name, dst);
        }
        self.string(value, dst);
        if index {
            let stamp = self.table.next_stamp();
            if self.table.insert(name, value) {
                if let Some(ix) = self.index.as_mut() {
                    ix.note(name_hash, field_hash, stamp, &self.table);
                }
            }
        }
    }

    fn string(&self, s: &[u8], dst: &mut Vec<u8>) {
        if self.options.huffman == Huffman::Shorter && s.len() < 0x7f {
            // One pass: code it behind a one-byte length, keep it if shorter (so its length fits too).
            let start = dst.len();
            dst.push(0);
            huffman::encode(s, dst);
            let coded = dst.len() - start - 1;
            if coded < s.len() {
                dst[start] = 0x80 | coded as u8;
            } else {
                dst.truncate(start);
                dst.push(s.len() as u8);
                dst.extend_from_slice(s);
            }
            return;
        }
        let coded_len = match self.options.huffman {
            Huffman::Never => None,
            Huffman::Always => Some(huffman::encoded_len(s)),
            Huffman::Shorter => Some(huffman::encoded_len(s)).filter(|&l| l < s.len()),
        };
        match coded_len {
            Some(l) => {
                integer::encode(l, 7, 0x80, dst);
                huffman::encode(s, dst);
            }
            None => {
                integer::encode(s.len(), 7, 0x00, dst);
                dst.extend_from_slice(s);
            }
        }
    }
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

/// Fields carrying credentials, never indexed by the default policy (RFC 7541 §7.1.3).
fn is_sensitive(name: &[u8]) -> bool {
    matches!(
        name,
        b"authorization" | b"proxy-authorization" | b"cookie" | b"set-cookie"
    )
}

/// Fields whose value usually differs between messages: indexing each new value would only evict others.
fn is_volatile(name: &[u8]) -> bool {
    matches!(
        name,
        b":path"
            | b"content-length"
            | b"content-range"
            | b"date"
            | b"etag"
            | b"expires"
            | b"if-modified-since"
            | b"if-none-match"
            | b"last-modified"
            | b"location"
            | b"age"
    )
}

/// The encoder's lookup of its table's entries, in one allocation.
#[derive(Debug, Clone)]
struct Index {
    /// Hash of name and value -> stamps of entries with them.
    fields: Cache,
    /// Hash of name -> stamps of entries with that name.
    names: Cache,
}

impl Index {
    /// An index of the entries `table` holds.
    fn of(table: &DynTable) -> Box<Index> {
        let mut ix = Box::new(Index {
            fields: Cache::new(),
            names: Cache::new(),
        });
        let next = table.next_stamp();
        // Oldest first, as they were inserted, so that a bucket keeps its newest entries.
        for pos in (0..table.len()).rev() {
            if let Some((name, value)) = table.get(pos) {
                let name_hash = hash(0, name);
                let stamp = next.wrapping_sub(pos as u32 + 1);
                ix.note(name_hash, hash(name_hash, value), stamp, table);
            }
        }
        ix
    }

    /// Records the entry stamped `stamp`, just inserted into `table`.
    fn note(&mut self, name_hash: u64, field_hash: u64, stamp: u32, table: &DynTable) {
        self.fields.insert(field_hash, stamp, table);
        self.names.insert(name_hash, stamp, table);
    }
}

/// A two-way set associative cache from a hash to the stamps of the newest table entries with that hash.
/// Stale stamps are harmless: every hit is checked against the entry's bytes.
#[derive(Debug, Clone)]
struct Cache {
    stamps: [[u32; 2]; BUCKETS],
}

impl Cache {
    fn new() -> Self {
        Cache {
            stamps: [[0; 2]; BUCKETS],
        }
    }

    /// The position from the newest of a live entry in `hash`'s bucket that `is_match` accepts.
    fn find(
        &self,
        hash: u64,
        table: &DynTable,
        is_match: impl Fn(&[u8], &[u8]) -> bool,
    ) -> Option<usize> {
        self.stamps[bucket(hash)].iter().find_map(|&stamp| {
            let pos = table.position(stamp)?;
            let (n, v) = table.get(pos)?;
            is_match(n, v).then_some(pos)
        })
    }

    /// Records the entry stamped `stamp`, replacing a way that names no live entry, else the older one.
    fn insert(&mut self, hash: u64, stamp: u32, table: &DynTable) {
        let ways = &mut self.stamps[bucket(hash)];
        let age = |s: u32| table.position(s).unwrap_or(usize::MAX);
        let way = usize::from(age(ways[1]) > age(ways[0]));
        ways[way] = stamp;
    }
}

/// The cache bucket of a hash: its best-mixed (top) bits.
fn bucket(hash: u64) -> usize {
    (hash >> (64 - BUCKET_BITS)) as usize
}

/// A fast non-cryptographic hash of `bytes` continuing from `seed`, eight bytes at a time, each mixed in with
/// a folded 64x64->128 multiply (as wyhash and foldhash do; a plain multiply only carries differences upward
/// and lets neighbouring words cancel out). Collisions only cost compression: every cache hit is checked
/// against the table's bytes, and each slot holds one entry, so no input makes a lookup slower.
fn hash(seed: u64, bytes: &[u8]) -> u64 {
    const K1: u64 = 0x517c_c1b7_2722_0a95;
    const K2: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let word = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = folded_multiply(h ^ word, K1);
    }
    h = folded_multiply(h ^ tail(words.remainder()), K1);
    folded_multiply(h ^ bytes.len() as u64, K2)
}

/// The last 0-7 bytes as one word, read with at most two fixed-size loads: a variable-length copy into a
/// stack buffer followed by a word load stalls on store forwarding, and this runs for every field.
fn tail(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]) as u64;
        lo | hi << 32
    } else if n > 0 {
        rest[0] as u64 | (rest[n / 2] as u64) << 8 | (rest[n - 1] as u64) << 16
    } else {
        0
    }
}

/// The high and low halves of the full product, XORed.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    p as u64 ^ (p >> 64) as u64
}
