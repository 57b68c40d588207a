//! Request bodies pulled by the handler at its own pace: the connection driver pushes what it receives into
//! a small pipe and stops reading the connection (HTTP/1) or stops reopening the stream's window (HTTP/2)
//! while the pipe is full; the handler's [`RequestBody`] drains it from any task.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use super::body::{BodyError, BodySource, Frame, Trailers};

/// Bytes the pipe holds before the driver stops taking more from the connection. One socket read may
/// overshoot it; nothing else does.
pub(crate) const PIPE_CAPACITY: usize = 64 * 1024;

/// How the body ended, as far as the pipe knows.
#[derive(Debug)]
enum End {
    Open,
    Complete(Option<Trailers>),
    Aborted(BodyError),
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Bytes>,
    queued: usize,
    end: End,
    /// Bytes taken by the consumer that the driver has not yet given back as HTTP/2 window.
    consumed: usize,
    consumer_gone: bool,
    consumer: Option<Waker>,
    producer: Option<Waker>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves plain data behind; the other side can still use it.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates a pipe: the driver keeps the [`BodyPipe`], the handler gets the [`RequestBody`].
pub(crate) fn pipe(declared: Option<u64>) -> (BodyPipe, RequestBody) {
    let state = Arc::new(Mutex::new(State {
        queue: VecDeque::new(),
        queued: 0,
        end: End::Open,
        consumed: 0,
        consumer_gone: false,
        consumer: None,
        producer: None,
    }));
    (
        BodyPipe {
            state: state.clone(),
            finished: false,
        },
        RequestBody {
            state,
            declared,
            done: false,
        },
    )
}

/// The connection driver's end of a request body pipe. Dropped before [`BodyPipe::finish`], it aborts the
/// body (the connection or stream went away).
#[derive(Debug)]
pub(crate) struct BodyPipe {
    state: Arc<Mutex<State>>,
    finished: bool,
}

impl BodyPipe {
    /// Queues received bytes (never refused: the driver stops reading once [`BodyPipe::has_room`] says so).
    pub(crate) fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut s = lock(&self.state);
        if s.consumer_gone {
            return;
        }
        s.queued += data.len();
        s.queue.push_back(Bytes::copy_from_slice(data));
        if let Some(w) = s.consumer.take() {
            w.wake();
        }
    }

    /// The body is complete.
    pub(crate) fn finish(&mut self, trailers: Option<Trailers>) {
        self.end(End::Complete(trailers));
    }

    /// The body failed (client reset, connection lost, protocol error).
    pub(crate) fn abort(&mut self, reason: &'static str) {
        self.end(End::Aborted(BodyError::new(reason)));
    }

    fn end(&mut self, end: End) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut s = lock(&self.state);
        s.end = end;
        if let Some(w) = s.consumer.take() {
            w.wake();
        }
    }

    /// Whether the driver may read more body from the connection: the pipe is below capacity, or nobody
    /// reads it any more (then what arrives is discarded).
    pub(crate) fn has_room(&self) -> bool {
        let s = lock(&self.state);
        s.consumer_gone || s.queued < PIPE_CAPACITY
    }

    /// Ready once [`BodyPipe::has_room`] would say yes; registers the driver's waker otherwise.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = lock(&self.state);
        if s.consumer_gone || s.queued < PIPE_CAPACITY {
            return Poll::Ready(());
        }
        s.producer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Bytes consumed since the last call (for HTTP/2 window updates); registers the waker when none.
    pub(crate) fn poll_consumed(&self, cx: &mut Context<'_>) -> Poll<usize> {
        let mut s = lock(&self.state);
        if s.consumed > 0 {
            return Poll::Ready(std::mem::take(&mut s.consumed));
        }
        s.producer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Whether the handler dropped its [`RequestBody`].
    pub(crate) fn consumer_gone(&self) -> bool {
        lock(&self.state).consumer_gone
    }
}

impl Drop for BodyPipe {
    fn drop(&mut self) {
        self.abort("the connection closed before the request body was complete");
    }
}

/// A request body read at the handler's pace, from any task: taken with [`super::HttpCtx::take_body`].
///
/// Reading it is what lets more of the body in: the connection is not read (HTTP/1) and the stream's
/// window is not reopened (HTTP/2) while unread data is waiting, so an upload never piles up in memory.
/// It is also a [`BodySource`], so a handler can pass it on as the body of another message unchanged.
#[derive(Debug)]
pub struct RequestBody {
    state: Arc<Mutex<State>>,
    declared: Option<u64>,
    done: bool,
}

impl RequestBody {
    /// The next piece of the body; `None` at its end, an error if it was cut off.
    pub async fn data(&mut self) -> Option<Result<Bytes, BodyError>> {
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut *self).poll_frame(cx)).await? {
                Ok(Frame::Data(d)) => return Some(Ok(d)),
                Ok(Frame::Trailers(_)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Reads the whole body, failing if it exceeds `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, BodyError> {
        let mut all = bytes::BytesMut::new();
        while let Some(piece) = self.data().await {
            let piece = piece?;
            if all.len() + piece.len() > limit {
                return Err(BodyError::new("request body over the limit"));
            }
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }

    /// The length the client declared (`content-length`), if it did.
    pub fn declared_len(&self) -> Option<u64> {
        self.declared
    }
}

impl BodySource for RequestBody {
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, BodyError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut s = lock(&self.state);
        if let Some(d) = s.queue.pop_front() {
            s.queued -= d.len();
            s.consumed += d.len();
            if let Some(w) = s.producer.take() {
                w.wake();
            }
            return Poll::Ready(Some(Ok(Frame::Data(d))));
        }
        let frame = match &mut s.end {
            End::Open => {
                s.consumer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            End::Complete(trailers) => trailers.take().map(|t| Ok(Frame::Trailers(t))),
            End::Aborted(e) => Some(Err(e.clone())),
        };
        drop(s);
        self.done = true;
        Poll::Ready(frame)
    }

    fn exact_len(&self) -> Option<u64> {
        self.declared
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.consumer_gone = true;
        s.queue.clear();
        s.queued = 0;
        if let Some(w) = s.producer.take() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(body: &mut RequestBody) -> Poll<Option<Result<Frame, BodyError>>> {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(body).poll_frame(&mut cx)
    }

    #[test]
    fn pieces_then_trailers_then_end() {
        let (mut p, mut b) = pipe(None);
        assert!(poll(&mut b).is_pending());
        p.push(b"ab");
        p.push(b"cd");
        p.finish(Some(vec![("x-sum".into(), b"1".to_vec())]));
        assert_eq!(
            poll(&mut b),
            Poll::Ready(Some(Ok(Frame::Data("ab".into()))))
        );
        assert_eq!(
            poll(&mut b),
            Poll::Ready(Some(Ok(Frame::Data("cd".into()))))
        );
        assert!(matches!(
            poll(&mut b),
            Poll::Ready(Some(Ok(Frame::Trailers(_))))
        ));
        assert_eq!(poll(&mut b), Poll::Ready(None));
    }

    #[test]
    fn full_pipe_holds_the_driver_until_the_handler_reads() {
        let (mut p, mut b) = pipe(None);
        p.push(&vec![0u8; PIPE_CAPACITY]);
        assert!(!p.has_room());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(p.poll_room(&mut cx).is_pending());
        assert!(poll(&mut b).is_ready());
        assert!(p.has_room());
        assert_eq!(p.poll_consumed(&mut cx), Poll::Ready(PIPE_CAPACITY));
    }

    #[test]
    fn a_dropped_driver_aborts_the_body() {
        let (mut p, mut b) = pipe(Some(10));
        p.push(b"12345");
        drop(p);
        assert!(matches!(poll(&mut b), Poll::Ready(Some(Ok(_)))));
        assert!(matches!(poll(&mut b), Poll::Ready(Some(Err(_)))));
    }

    #[test]
    fn a_dropped_handler_frees_the_queue_and_the_driver() {
        let (mut p, b) = pipe(None);
        p.push(&vec![0u8; PIPE_CAPACITY]);
        drop(b);
        assert!(p.has_room());
        p.push(b"discarded");
        assert!(p.consumer_gone());
    }
}
