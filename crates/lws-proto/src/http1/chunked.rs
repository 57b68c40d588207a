//! Decoder for the chunked transfer coding (RFC 9112 §7.1), fed from the connection's receive buffer.

use bytes::{Bytes, BytesMut};

use super::{H1Config, H1Error, Trailers};

/// What one decoding step produced.
pub(crate) enum Chunk {
    /// Body bytes.
    Data(Bytes),
    /// The last chunk and the trailer section were read.
    End(Trailers),
    /// More input is needed.
    NeedMore,
}

/// Where the decoder is inside the chunked body.
#[derive(Debug)]
pub(crate) enum ChunkedDecoder {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> Self {
        ChunkedDecoder::Size
    }

    /// Decodes the next piece from the front of `rx`, consuming what it used.
    pub(crate) fn step(&mut self, rx: &mut BytesMut, cfg: &H1Config) -> Result<Chunk, H1Error> {
        loop {
            match self {
                ChunkedDecoder::Size => {
                    let Some(nl) = memchr::memchr(b'\n', rx) else {
                        if rx.len() > cfg.max_chunk_line {
                            return Err(H1Error::BadChunk);
                        }
                        return Ok(Chunk::NeedMore);
                    };
                    if nl > cfg.max_chunk_line || nl == 0 || rx[nl - 1] != b'\r' {
                        return Err(H1Error::BadChunk);
                    }
                    let size = parse_size(&rx[..nl - 1])?;
                    let _ = rx.split_to(nl + 1);
                    *self = if size == 0 {
                        ChunkedDecoder::Trailers
                    } else {
                        ChunkedDecoder::Data(size)
                    };
                }
                ChunkedDecoder::Data(remaining) => {
                    if rx.is_empty() {
                        return Ok(Chunk::NeedMore);
                    }
                    let n = (*remaining).min(rx.len() as u64) as usize;
                    *remaining -= n as u64;
                    if *remaining == 0 {
                        *self = ChunkedDecoder::DataEnd;
                    }
                    return Ok(Chunk::Data(rx.split_to(n).freeze()));
                }
                ChunkedDecoder::DataEnd => {
                    if rx.len() < 2 {
                        if rx.first().is_some_and(|&b| b != b'\r') {
                            return Err(H1Error::BadChunk);
                        }
                        return Ok(Chunk::NeedMore);
                    }
                    if &rx[..2] != b"\r\n" {
                        return Err(H1Error::BadChunk);
                    }
                    let _ = rx.split_to(2);
                    *self = ChunkedDecoder::Size;
                }
                ChunkedDecoder::Trailers => return trailers(rx, cfg),
            }
        }
    }
}

/// Parses the hex size at the start of a chunk-size line, ignoring chunk extensions.
fn parse_size(line: &[u8]) -> Result<u64, H1Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(H1Error::BadChunk);
    }
    let rest = &line[digits..];
    let ext = rest.trim_ascii_start();
    if !ext.is_empty() && ext[0] != b';' {
        return Err(H1Error::BadChunk);
    }
    if ext.iter().any(|&b| b == b'\r' || b == 0 || b == 0x7f) {
        return Err(H1Error::BadChunk);
    }
    let mut size = 0u64;
    for &d in &line[..digits] {
        let v = (d as char).to_digit(16).unwrap_or(0) as u64;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(v))
            .ok_or(H1Error::BadChunk)?;
    }
    Ok(size)
}

/// Reads the trailer section that follows the last chunk.
fn trailers(rx: &mut BytesMut, cfg: &H1Config) -> Result<Chunk, H1Error> {
    if rx.starts_with(b"\r\n") {
        let _ = rx.split_to(2);
        return Ok(Chunk::End(Trailers::default()));
    }
    let mut slots = [httparse::EMPTY_HEADER; 128];
    let max = cfg.max_headers.min(slots.len());
    match httparse::parse_headers(rx, &mut slots[..max]) {
        Ok(httparse::Status::Complete((len, headers))) => {
            if len > cfg.max_head {
                return Err(H1Error::BadTrailers);
            }
            for i in memchr::memchr_iter(b'\n', &rx[..len]) {
                if i == 0 || rx[i - 1] != b'\r' {
                    return Err(H1Error::BadTrailers);
                }
            }
            let fields = headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), Bytes::copy_from_slice(h.value)))
                .collect();
            let _ = rx.split_to(len);
            Ok(Chunk::End(Trailers { fields }))
        }
        Ok(httparse::Status::Partial) if rx.len() > cfg.max_head => Err(H1Error::BadTrailers),
        Ok(httparse::Status::Partial) => Ok(Chunk::NeedMore),
        Err(_) => Err(H1Error::BadTrailers),
    }
}
