//! The one body pump both HTTP drivers use: it turns a response body (whole, file range or
//! [`BodySource`]) into the next thing to put on the wire, never more than the connection has room for, and
//! checks a source against the length it announced.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use super::body::{BodyError, BodySource, Frame, Trailers};
use crate::transport::SendFile;

/// A response body in wire form.
pub(crate) enum OutBody {
    Empty,
    Full(Bytes),
    /// `len` bytes of `file` from `start`. Shared, so that one open file can serve many responses: reads
    /// (`pread`, `sendfile`) give their own offset and never move the file's position.
    File {
        file: Arc<File>,
        start: u64,
        len: u64,
    },
    Source(Pin<Box<dyn BodySource>>),
}

impl std::fmt::Debug for OutBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutBody::Empty => f.write_str("Empty"),
            OutBody::Full(b) => write!(f, "Full({})", b.len()),
            OutBody::File { start, len, .. } => write!(f, "File({start}+{len})"),
            OutBody::Source(_) => f.write_str("Source"),
        }
    }
}

impl OutBody {
    /// The body's length when it is known before sending (it becomes the `content-length`).
    pub(crate) fn known_len(&self) -> Option<u64> {
        match self {
            OutBody::Empty => Some(0),
            OutBody::Full(b) => Some(b.len() as u64),
            OutBody::File { len, .. } => Some(*len),
            OutBody::Source(s) => s.exact_len(),
        }
    }
}

/// What to do next with a body being sent.
#[derive(Debug)]
pub(crate) enum Next {
    Data(Bytes),
    /// Trailers; the body ends after them.
    Trailers(Trailers),
    /// The body is complete.
    End,
    /// The body failed: abort the message (close the HTTP/1 connection, reset the HTTP/2 stream).
    Abort(BodyError),
}

/// A body being sent.
pub(crate) struct Pump {
    body: OutBody,
    /// Where file pieces are read; its allocation is reused once the previous piece has been written.
    buf: BytesMut,
    /// Data bytes produced so far.
    sent: u64,
    /// The length announced for the body, checked at its end.
    declared: Option<u64>,
    done: bool,
}

impl Pump {
    pub(crate) fn new(body: OutBody) -> Pump {
        let declared = body.known_len();
        Pump {
            body,
            buf: BytesMut::new(),
            sent: 0,
            declared,
            done: false,
        }
    }

    /// Whether the body lasts as long as the client stays (see `BodySource::open_ended`).
    pub(crate) fn open_ended(&self) -> bool {
        matches!(&self.body, OutBody::Source(s) if s.open_ended())
    }

    /// Data bytes produced so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Sends up to `max` bytes of a file body straight from the file to the socket (`to`, its sendfile),
    /// instead of handing them out as [`Next::Data`]: `None` when the body is not a file or none of it is
    /// left, `Some(Ok(0))` when the file ended before its announced length. What goes is counted as sent;
    /// [`Pump::poll_next`] then ends (or aborts) the body as for a file read piece by piece.
    pub(crate) fn poll_send_file(
        &mut self,
        cx: &mut Context<'_>,
        max: usize,
        to: &dyn SendFile,
    ) -> Poll<Option<std::io::Result<usize>>> {
        let OutBody::File { file, start, len } = &mut self.body else {
            return Poll::Ready(None);
        };
        if self.done || *len == 0 {
            return Poll::Ready(None);
        }
        let want = (*len).min(max.max(1) as u64) as usize;
        let r = std::task::ready!(to.poll_send_file(cx, file, *start, want));
        if let Ok(n) = r {
            // The kernel sends at most `want`, so `len` cannot underflow nor `sent` pass the declared length.
            *start += n as u64;
            *len -= n as u64;
            self.sent += n as u64;
        }
        Poll::Ready(Some(r))
    }

    /// The next frame, at most `room` data bytes when the body can be cut (files); whole pieces otherwise.
    pub(crate) fn poll_next(&mut self, room: usize, cx: &mut Context<'_>) -> Poll<Next> {
        if self.done {
            return Poll::Ready(Next::End);
        }
        let next = match &mut self.body {
            OutBody::Empty => Next::End,
            OutBody::Full(b) if b.is_empty() => Next::End,
            OutBody::Full(b) => Next::Data(std::mem::take(b)),
            OutBody::File { len: 0, .. } => Next::End,
            OutBody::File { file, start, len } => {
                let n = (*len).min(room.max(1) as u64) as usize;
                self.buf.clear();
                self.buf.resize(n, 0);
                match file.read_exact_at(&mut self.buf, *start) {
                    Ok(()) => {
                        *start += n as u64;
                        *len -= n as u64;
                        Next::Data(self.buf.split().freeze())
                    }
                    Err(e) => Next::Abort(BodyError::new(format!("reading the file: {e}"))),
                }
            }
            OutBody::Source(src) => match std::task::ready!(src.as_mut().poll_frame(cx)) {
                None => Next::End,
                Some(Ok(Frame::Data(d))) => Next::Data(d),
                Some(Ok(Frame::Trailers(t))) => Next::Trailers(t),
                Some(Err(e)) => Next::Abort(e),
            },
        };
        Poll::Ready(self.account(next))
    }

    /// Counts data and turns a body that broke its announced length into an abort.
    fn account(&mut self, next: Next) -> Next {
        match next {
            Next::Data(d) if d.is_empty() => Next::Data(d),
            Next::Data(d) => {
                self.sent += d.len() as u64;
                match self.declared {
                    Some(n) if self.sent > n => {
                        self.done = true;
                        Next::Abort(BodyError::new("the body is longer than its content-length"))
                    }
                    _ => Next::Data(d),
                }
            }
            Next::End | Next::Trailers(_) => {
                self.done = true;
                match self.declared {
                    Some(n) if self.sent < n => {
                        Next::Abort(BodyError::new("the body ended before its content-length"))
                    }
                    _ => next,
                }
            }
            Next::Abort(e) => {
                self.done = true;
                Next::Abort(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;

    fn next(p: &mut Pump, room: usize) -> Poll<Next> {
        p.poll_next(room, &mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_file_is_cut_to_the_room_given() {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &[7u8; 10]).unwrap();
        let mut p = Pump::new(OutBody::File {
            file: Arc::new(f),
            start: 2,
            len: 7,
        });
        assert!(matches!(next(&mut p, 4), Poll::Ready(Next::Data(d)) if d.len() == 4));
        assert!(matches!(next(&mut p, 4), Poll::Ready(Next::Data(d)) if d.len() == 3));
        assert!(matches!(next(&mut p, 4), Poll::Ready(Next::End)));
        assert_eq!(p.sent(), 7);
    }

    struct Lying(u8);
    impl BodySource for Lying {
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame, BodyError>>> {
            self.0 += 1;
            Poll::Ready((self.0 <= 2).then(|| Ok(Frame::Data(Bytes::from_static(b"abc")))))
        }
        fn exact_len(&self) -> Option<u64> {
            Some(4)
        }
    }

    #[test]
    fn a_source_longer_than_announced_is_aborted() {
        let mut p = Pump::new(OutBody::Source(Box::pin(Lying(0))));
        assert!(matches!(next(&mut p, 100), Poll::Ready(Next::Data(_))));
        assert!(matches!(next(&mut p, 100), Poll::Ready(Next::Abort(_))));
        assert!(matches!(next(&mut p, 100), Poll::Ready(Next::End)));
    }

    #[test]
    fn a_source_shorter_than_announced_is_aborted() {
        let mut p = Pump::new(OutBody::Source(Box::pin(Lying(1))));
        assert!(matches!(next(&mut p, 100), Poll::Ready(Next::Data(_))));
        assert!(matches!(next(&mut p, 100), Poll::Ready(Next::Abort(_))));
    }

    #[tokio::test]
    async fn a_channel_body_passes_trailers_and_aborts() {
        let (tx, body) = Body::channel(4);
        let crate::http::body::BodyKind::Source(src) = body.kind else {
            panic!("a channel body is a source");
        };
        let mut p = Pump::new(OutBody::Source(src));
        assert!(next(&mut p, 10).is_pending());
        tx.send("x").await.unwrap();
        tx.send_trailers(vec![("grpc-status".into(), b"0".to_vec())])
            .await
            .unwrap();
        assert!(matches!(next(&mut p, 10), Poll::Ready(Next::Data(_))));
        assert!(
            matches!(next(&mut p, 10), Poll::Ready(Next::Trailers(t)) if t[0].0 == "grpc-status")
        );

        let (tx, body) = Body::channel(4);
        let crate::http::body::BodyKind::Source(src) = body.kind else {
            panic!("a channel body is a source");
        };
        let mut p = Pump::new(OutBody::Source(src));
        tx.abort(BodyError::new("origin died")).await;
        assert!(
            matches!(next(&mut p, 10), Poll::Ready(Next::Abort(e)) if e.reason() == "origin died")
        );
    }
}
