//! One streaming compressor per coding behind one interface: feed input, flush what is ready so a streamed
//! body's pieces are not held back, finish. gzip and zstd states can be reset and reused (see `pool.rs`);
//! brotli's cannot, so it is made per response.

use std::io::{self, Write};

use flate2::{Compress, Crc, FlushCompress, Status};

use super::settings::ContentCoding;

/// A compressor part-way through one body.
pub(crate) enum Encoder {
    Gzip(Box<Gzip>),
    Brotli(Option<Box<brotli::CompressorWriter<Vec<u8>>>>),
    Zstd(Box<zstd::stream::raw::Encoder<'static>>),
}

/// Brotli's window: 512 KiB, enough context for web text while bounding each stream's memory.
const BROTLI_LGWIN: u32 = 19;
/// Brotli's internal input buffer.
const BROTLI_BUFFER: usize = 16 * 1024;

impl Encoder {
    /// A compressor for `coding` at `level` (gzip's 1..=9 scale; `None` for the coding's default).
    pub(crate) fn new(coding: ContentCoding, level: Option<u32>) -> io::Result<Encoder> {
        Ok(match coding {
            ContentCoding::Gzip => Encoder::Gzip(Box::new(Gzip::new(level.unwrap_or(6)))),
            ContentCoding::Brotli => {
                Encoder::Brotli(Some(Box::new(brotli::CompressorWriter::new(
                    Vec::new(),
                    BROTLI_BUFFER,
                    level.unwrap_or(5),
                    BROTLI_LGWIN,
                ))))
            }
            ContentCoding::Zstd => Encoder::Zstd(Box::new(zstd::stream::raw::Encoder::new(
                level.unwrap_or(3) as i32,
            )?)),
        })
    }

    /// Compresses `input`, appending what the coding emits to `out`.
    pub(crate) fn write(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Encoder::Gzip(g) => g.run(input, out, FlushCompress::None),
            Encoder::Brotli(w) => {
                let w = w.as_mut().ok_or_else(finished)?;
                w.write_all(input)?;
                out.append(w.get_mut());
                Ok(())
            }
            Encoder::Zstd(z) => zstd_run(z, input, out),
        }
    }

    /// Emits everything compressed so far, so the receiver can decode it without waiting for more.
    pub(crate) fn flush(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Encoder::Gzip(g) => g.run(&[], out, FlushCompress::Sync),
            Encoder::Brotli(w) => {
                let w = w.as_mut().ok_or_else(finished)?;
                w.flush()?;
                out.append(w.get_mut());
                Ok(())
            }
            Encoder::Zstd(z) => {
                zstd_drain(out, |o| zstd::stream::raw::Operation::flush(z.as_mut(), o))
            }
        }
    }

    /// Ends the stream (the coding's trailer included).
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Encoder::Gzip(g) => g.finish(out),
            Encoder::Brotli(w) => {
                let w = w.take().ok_or_else(finished)?;
                out.extend_from_slice(&w.into_inner());
                Ok(())
            }
            Encoder::Zstd(z) => zstd_drain(out, |o| {
                zstd::stream::raw::Operation::finish(z.as_mut(), o, true)
            }),
        }
    }

    /// Readies the state for a new body; `false` when it cannot be reused.
    pub(crate) fn reset(&mut self) -> bool {
        match self {
            Encoder::Gzip(g) => {
                g.reset();
                true
            }
            Encoder::Brotli(_) => false,
            Encoder::Zstd(z) => zstd::stream::raw::Operation::reinit(z.as_mut()).is_ok(),
        }
    }
}

fn finished() -> io::Error {
    io::Error::other("the compressed stream is already finished")
}

/// Room added to `out` before each step of a compressor.
const STEP: usize = 16 * 1024;

fn zstd_run(
    z: &mut zstd::stream::raw::Encoder<'static>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
    let mut inb = InBuffer::around(input);
    while inb.pos() < input.len() {
        out.reserve(STEP);
        let pos = out.len();
        let mut o = OutBuffer::around_pos(out, pos);
        z.run(&mut inb, &mut o)?;
    }
    Ok(())
}

/// Calls a zstd flush or end step until it reports nothing left to write.
fn zstd_drain(
    out: &mut Vec<u8>,
    mut step: impl FnMut(&mut zstd::stream::raw::OutBuffer<'_, Vec<u8>>) -> io::Result<usize>,
) -> io::Result<()> {
    loop {
        out.reserve(STEP);
        let pos = out.len();
        let mut o = zstd::stream::raw::OutBuffer::around_pos(out, pos);
        if step(&mut o)? == 0 {
            return Ok(());
        }
    }
}

/// gzip (RFC 1952): a fixed header, raw deflate, then CRC-32 and length. Written by hand around
/// `flate2::Compress` so the deflate state can be reset and reused instead of reallocated per response.
pub(crate) struct Gzip {
    deflate: Compress,
    crc: Crc,
    header_sent: bool,
}

/// Magic, deflate, no flags, no mtime, no extra flags, OS "unknown".
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

impl Gzip {
    fn new(level: u32) -> Gzip {
        Gzip {
            deflate: Compress::new(flate2::Compression::new(level.clamp(1, 9)), false),
            crc: Crc::new(),
            header_sent: false,
        }
    }

    fn header(&mut self, out: &mut Vec<u8>) {
        if !self.header_sent {
            out.extend_from_slice(&GZIP_HEADER);
            self.header_sent = true;
        }
    }

    fn run(&mut self, mut input: &[u8], out: &mut Vec<u8>, flush: FlushCompress) -> io::Result<()> {
        self.header(out);
        self.crc.update(input);
        loop {
            out.reserve(STEP);
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(input, out, flush)
                .map_err(io::Error::other)?;
            input = &input[(self.deflate.total_in() - before) as usize..];
            // Done when the input is taken and the compressor stopped short of the room it had.
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.header(out);
        loop {
            out.reserve(STEP);
            let status = self
                .deflate
                .compress_vec(&[], out, FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == Status::StreamEnd {
                break;
            }
        }
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&self.crc.amount().to_le_bytes());
        Ok(())
    }

    fn reset(&mut self) {
        self.deflate.reset();
        self.crc.reset();
        self.header_sent = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decode(coding: ContentCoding, data: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        match coding {
            ContentCoding::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut plain)
                    .unwrap();
            }
            ContentCoding::Brotli => {
                brotli::Decompressor::new(data, 4096)
                    .read_to_end(&mut plain)
                    .unwrap();
            }
            ContentCoding::Zstd => plain = zstd::decode_all(data).unwrap(),
        }
        plain
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| b"the quick brown fox jumps over the lazy dog\n"[i % 44])
            .collect()
    }

    #[test]
    fn every_coding_round_trips_and_shrinks_text() {
        let input = text(200_000);
        for coding in ContentCoding::ALL {
            let mut e = Encoder::new(coding, None).unwrap();
            let mut out = Vec::new();
            for piece in input.chunks(7_001) {
                e.write(piece, &mut out).unwrap();
            }
            e.finish(&mut out).unwrap();
            assert!(out.len() < input.len() / 20, "{coding:?}: {}", out.len());
            assert_eq!(decode(coding, &out), input, "{coding:?}");
        }
    }

    #[test]
    fn a_flush_makes_everything_so_far_decodable() {
        for coding in ContentCoding::ALL {
            let mut e = Encoder::new(coding, Some(1)).unwrap();
            let mut out = Vec::new();
            e.write(b"data: first event\n\n", &mut out).unwrap();
            e.flush(&mut out).unwrap();
            // A streaming decoder given only the flushed bytes yields the whole first piece.
            let mut got = vec![0u8; 64];
            let n = match coding {
                ContentCoding::Gzip => {
                    let mut d = flate2::read::GzDecoder::new(&out[..]);
                    read_some(&mut d, &mut got)
                }
                ContentCoding::Brotli => {
                    let mut d = brotli::Decompressor::new(&out[..], 4096);
                    read_some(&mut d, &mut got)
                }
                ContentCoding::Zstd => {
                    let mut d = zstd::stream::read::Decoder::new(&out[..]).unwrap();
                    read_some(&mut d, &mut got)
                }
            };
            assert_eq!(&got[..n], b"data: first event\n\n", "{coding:?}");
        }
    }

    /// Reads until the decoder has nothing more, tolerating the error of an unfinished stream.
    fn read_some(r: &mut impl Read, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match r.read(&mut buf[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        n
    }

    #[test]
    fn reset_states_produce_fresh_streams() {
        for coding in [ContentCoding::Gzip, ContentCoding::Zstd] {
            let mut e = Encoder::new(coding, None).unwrap();
            for round in 0..3 {
                let input = text(1000 + round);
                let mut out = Vec::new();
                e.write(&input, &mut out).unwrap();
                e.finish(&mut out).unwrap();
                assert_eq!(decode(coding, &out), input);
                assert!(e.reset());
            }
        }
        assert!(!Encoder::new(ContentCoding::Brotli, None).unwrap().reset());
    }
}
