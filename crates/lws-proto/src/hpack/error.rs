//! Errors of the HPACK decoder, each naming the violation of RFC 7541 it found.

use std::fmt;

/// Why a header block could not be decoded.
///
/// Every variant except [`DecoderError::HeaderListTooLarge`] leaves the decoder's dynamic table out of step
/// with the peer's encoder, so HTTP/2 must treat it as a connection error of type `COMPRESSION_ERROR`
/// (RFC 9113 §4.3); [`DecoderError::is_compression_error`] says which is which.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoderError {
    /// A prefix integer above 2^32 - 1, or one using more continuation bytes than such a value needs
    /// (RFC 7541 §5.1 lets a decoder bound integers).
    IntegerOverflow,
    /// The block ended inside an integer, a string or a field representation.
    Truncated,
    /// An index of 0, or past the end of the static plus dynamic table (RFC 7541 §2.3.3).
    InvalidIndex(u64),
    /// A Huffman string that contains the EOS symbol, or ends in padding longer than 7 bits or not made of
    /// ones (RFC 7541 §5.2).
    InvalidHuffman,
    /// A dynamic table size update above the limit we advertised (RFC 7541 §4.2, §6.3).
    TableSizeUpdateTooLarge,
    /// A dynamic table size update after the first field of a block (RFC 7541 §4.2).
    TableSizeUpdateNotAtStart,
    /// Our limit shrank below the table's size but the next block used the table without first signalling a
    /// size update at or below the new limit (RFC 7541 §4.2: the encoder MUST signal the change).
    TableSizeUpdateMissing,
    /// A string longer than both the header list limit and the table size limit: it could neither be delivered
    /// nor stored, so it is refused before anything is allocated for it.
    StringTooLong,
    /// The decoded header list exceeds the caller's `max_list_size` (sum of name + value + 32 per field). The
    /// whole block was still decoded, so the dynamic table is in step and the connection can go on; HTTP/2
    /// answers with a stream error or a 431 response (RFC 9113 §10.5.1).
    HeaderListTooLarge,
}

impl DecoderError {
    /// True when the error leaves the dynamic table unusable: every variant but
    /// [`DecoderError::HeaderListTooLarge`].
    pub fn is_compression_error(&self) -> bool {
        !matches!(self, DecoderError::HeaderListTooLarge)
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecoderError::*;
        match self {
            IntegerOverflow => f.write_str("HPACK integer too large"),
            Truncated => f.write_str("HPACK header block truncated"),
            InvalidIndex(i) => write!(f, "HPACK index {i} is not in the table"),
            InvalidHuffman => f.write_str("invalid HPACK Huffman string"),
            TableSizeUpdateTooLarge => {
                f.write_str("HPACK dynamic table size update above our limit")
            }
            TableSizeUpdateNotAtStart => {
                f.write_str("HPACK dynamic table size update after a header field")
            }
            TableSizeUpdateMissing => {
                f.write_str("HPACK dynamic table size update missing after our limit shrank")
            }
            StringTooLong => f.write_str("HPACK string literal too long"),
            HeaderListTooLarge => f.write_str("decoded header list too large"),
        }
    }
}

impl std::error::Error for DecoderError {}
