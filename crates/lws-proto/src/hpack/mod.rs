//! HPACK, the header compression of HTTP/2 (RFC 7541): a [`Decoder`] and an [`Encoder`], one of each per
//! connection, each keeping a dynamic table in step with the peer's opposite half.
//!
//! Both are sans-IO and synchronous: the HTTP/2 engine hands the decoder one complete header block (the
//! HEADERS payload and its CONTINUATION payloads concatenated) and gets the fields through a callback, and
//! hands the encoder a header list to append to its output buffer. Neither allocates per field once its
//! table and scratch buffers have grown.
//!
//! Limits and errors: integers are bounded to 32 bits, strings to the larger of the header list limit and
//! the table size limit, and the table to our SETTINGS_HEADER_TABLE_SIZE. Every [`DecoderError`] but
//! [`DecoderError::HeaderListTooLarge`] is a connection error of type COMPRESSION_ERROR; a list over the
//! caller's limit is still decoded to the end so the table stays in step, and only the stream fails.
//!
//! Table sizes: the decoder's limit is what we advertise ([`Decoder::set_max_table_size`] once the peer
//! ACKed it); the encoder follows the peer's setting, capped by ours ([`Encoder::set_peer_max_table_size`]),
//! and signals changes at the start of the next block.
//!
//! The encoder's policy ([`Indexing::Default`]): exact matches are indexed; credentials are never-indexed
//! literals; other fields are added to the dynamic table unless larger than a quarter of it; strings are
//! Huffman-coded when that makes them shorter ([`Huffman::Shorter`]).

mod decoder;
mod encoder;
mod error;
mod huffman;
mod integer;
mod static_table;
mod table;

pub use decoder::Decoder;
pub use encoder::{Encoder, EncoderOptions, Huffman, Indexing};
pub use error::DecoderError;

#[cfg(test)]
mod tests;
