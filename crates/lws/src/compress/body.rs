//! A body that compresses another as it is sent. It pulls from the inner body only when the connection
//! polls it (so a client that stops reading stops the compressor, and memory stays at one piece), and
//! flushes whenever the inner body has nothing more ready, so streamed pieces (events, proxied chunks) reach
//! the client at once while files and whole bodies compress in large runs.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::encoder::Encoder;
use super::pool;
use super::settings::ContentCoding;
use crate::http::body::{BodyError, BodySource, Frame, Trailers};
use crate::http::pump::{Next, Pump};

/// Input taken from a file per step.
const IN_PIECE: usize = 32 * 1024;
/// Compressed bytes gathered before they are handed on.
const OUT_TARGET: usize = 32 * 1024;

/// The compressed form of a body.
pub(crate) struct Compressed {
    inner: Pump,
    coding: ContentCoding,
    level: Option<u32>,
    /// `None` once finished (it went back to the pool).
    encoder: Option<Encoder>,
    /// Input was compressed since the last flush.
    unflushed: bool,
    trailers: Option<Trailers>,
    done: bool,
}

impl Compressed {
    pub(crate) fn new(
        inner: Pump,
        coding: ContentCoding,
        level: Option<u32>,
        encoder: Encoder,
    ) -> Compressed {
        Compressed {
            inner,
            coding,
            level,
            encoder: Some(encoder),
            unflushed: false,
            trailers: None,
            done: false,
        }
    }

    /// Ends the compressed stream into `out` and returns the state to the pool.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), BodyError> {
        let Some(mut e) = self.encoder.take() else {
            return Ok(());
        };
        let r = e.finish(out).map_err(compress_error);
        pool::give_back(self.coding, self.level, e);
        self.done = true;
        r
    }

    fn step(&mut self, cx: &mut Context<'_>) -> Result<Step, BodyError> {
        let mut out = Vec::new();
        loop {
            if out.len() >= OUT_TARGET {
                return Ok(Step::Data(out));
            }
            let Some(encoder) = self.encoder.as_mut() else {
                return Ok(Step::End(out));
            };
            match self.inner.poll_next(IN_PIECE, cx) {
                Poll::Pending => {
                    if self.unflushed {
                        encoder.flush(&mut out).map_err(compress_error)?;
                        self.unflushed = false;
                    }
                    return Ok(if out.is_empty() {
                        Step::Pending
                    } else {
                        Step::Data(out)
                    });
                }
                Poll::Ready(Next::Data(d)) => {
                    encoder.write(&d, &mut out).map_err(compress_error)?;
                    self.unflushed = !d.is_empty() || self.unflushed;
                }
                Poll::Ready(Next::End) => {
                    self.finish(&mut out)?;
                    return Ok(Step::End(out));
                }
                Poll::Ready(Next::Trailers(t)) => {
                    self.finish(&mut out)?;
                    self.trailers = Some(t);
                    return Ok(Step::End(out));
                }
                Poll::Ready(Next::Abort(e)) => return Err(e),
            }
        }
    }
}

enum Step {
    Pending,
    Data(Vec<u8>),
    /// The compressed stream is complete; these are its last bytes.
    End(Vec<u8>),
}

fn compress_error(e: std::io::Error) -> BodyError {
    BodyError::new(format!("compressing the body: {e}"))
}

impl BodySource for Compressed {
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>> {
        if self.done {
            return Poll::Ready(self.trailers.take().map(|t| Ok(Frame::Trailers(t))));
        }
        Poll::Ready(match self.step(cx) {
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
            Ok(Step::Pending) => return Poll::Pending,
            Ok(Step::Data(d)) => Some(Ok(Frame::Data(Bytes::from(d)))),
            Ok(Step::End(d)) if d.is_empty() => {
                self.trailers.take().map(|t| Ok(Frame::Trailers(t)))
            }
            Ok(Step::End(d)) => Some(Ok(Frame::Data(Bytes::from(d)))),
        })
    }

    fn open_ended(&self) -> bool {
        self.inner.open_ended()
    }
}

impl Drop for Compressed {
    fn drop(&mut self) {
        // A body cut short (client gone, abort) still returns its state; `reset` makes it fresh.
        if let Some(e) = self.encoder.take() {
            pool::give_back(self.coding, self.level, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::pump::OutBody;
    use crate::http::Body;
    use std::io::Read;

    fn poll(c: &mut Pin<Box<Compressed>>) -> Poll<Option<Result<Frame, BodyError>>> {
        c.as_mut()
            .poll_frame(&mut Context::from_waker(std::task::Waker::noop()))
    }

    fn gzip_of(body: OutBody) -> Pin<Box<Compressed>> {
        let e = pool::take(ContentCoding::Gzip, None).unwrap();
        Box::pin(Compressed::new(
            Pump::new(body),
            ContentCoding::Gzip,
            None,
            e,
        ))
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut plain)
            .unwrap();
        plain
    }

    #[test]
    fn a_file_is_compressed_in_bounded_pieces() {
        let mut f = tempfile::tempfile().unwrap();
        // Incompressible bytes, so each output piece reflects the input taken per step.
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::io::Write::write_all(&mut f, &data).unwrap();
        let mut c = gzip_of(OutBody::File {
            file: std::sync::Arc::new(f),
            start: 0,
            len: data.len() as u64,
        });
        let mut all = Vec::new();
        while let Poll::Ready(Some(frame)) = poll(&mut c) {
            let Frame::Data(d) = frame.unwrap() else {
                panic!("no trailers expected");
            };
            assert!(d.len() <= OUT_TARGET + IN_PIECE + 1024, "{}", d.len());
            all.extend_from_slice(&d);
        }
        assert_eq!(gunzip(&all), data);
    }

    #[tokio::test]
    async fn a_stream_is_flushed_when_its_source_waits_and_keeps_trailers() {
        let (tx, body) = Body::channel(4);
        let crate::http::body::BodyKind::Source(src) = body.kind else {
            panic!("a channel body is a source");
        };
        let mut c = gzip_of(OutBody::Source(src));
        assert!(poll(&mut c).is_pending());
        tx.send("data: 1\n\n").await.unwrap();
        let Poll::Ready(Some(Ok(Frame::Data(first)))) = poll(&mut c) else {
            panic!("the first event is sent at once");
        };
        let mut partial = Vec::new();
        let _ = flate2::read::GzDecoder::new(&first[..]).read_to_end(&mut partial);
        assert_eq!(partial, b"data: 1\n\n");
        tx.send_trailers(vec![("x-sum".into(), b"1".to_vec())])
            .await
            .unwrap();
        let Poll::Ready(Some(Ok(Frame::Data(rest)))) = poll(&mut c) else {
            panic!("the gzip trailer comes before the HTTP trailers");
        };
        assert!(
            matches!(poll(&mut c), Poll::Ready(Some(Ok(Frame::Trailers(t)))) if t[0].0 == "x-sum")
        );
        assert!(matches!(poll(&mut c), Poll::Ready(None)));
        let whole = [&first[..], &rest[..]].concat();
        assert_eq!(gunzip(&whole), b"data: 1\n\n");
    }

    #[tokio::test]
    async fn an_aborted_source_aborts_the_compressed_body() {
        let (tx, body) = Body::channel(4);
        let crate::http::body::BodyKind::Source(src) = body.kind else {
            panic!("a channel body is a source");
        };
        let mut c = gzip_of(OutBody::Source(src));
        tx.abort(BodyError::new("origin died")).await;
        assert!(matches!(poll(&mut c), Poll::Ready(Some(Err(e))) if e.reason() == "origin died"));
    }
}
