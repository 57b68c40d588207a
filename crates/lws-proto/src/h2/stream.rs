//! One HTTP/2 stream's state (RFC 9113 §5.1): which halves are closed, both flow-control windows, the data
//! queued to send and the body length promised by `content-length`.

use std::collections::VecDeque;

use bytes::Bytes;

/// Fields of a trailer section queued to follow the last DATA frame.
pub(crate) type TrailerFields = Vec<(Bytes, Bytes)>;

#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) id: u32,
    /// The peer sent END_STREAM (or the stream was reset).
    pub(crate) recv_closed: bool,
    /// We framed END_STREAM (or the stream was reset).
    pub(crate) send_closed: bool,
    /// Our HEADERS went out (DATA may follow).
    pub(crate) headers_sent: bool,
    /// The peer's initial HEADERS arrived; another HEADERS is trailers.
    pub(crate) headers_received: bool,
    /// How much we may still send (can go negative after a SETTINGS change, RFC 9113 §6.9.2).
    pub(crate) send_window: i64,
    /// How much the peer may still send before we grant more.
    pub(crate) recv_window: i64,
    /// Bytes delivered but not yet granted back with WINDOW_UPDATE.
    pub(crate) recv_unreleased: u32,
    /// Data queued to send, in order.
    pub(crate) queue: SendQueue,
    pub(crate) queued: usize,
    /// END_STREAM goes out after the queue drains.
    pub(crate) end_queued: bool,
    /// A trailer section goes out after the queue drains (implies END_STREAM).
    pub(crate) trailers: Option<TrailerFields>,
    /// The body length the peer declared, and what it sent so far.
    pub(crate) content_length: Option<u64>,
    pub(crate) received: u64,
    /// An informational (1xx) response was all that arrived so far (client side).
    pub(crate) awaiting_final: bool,
    /// Stream-level receive window is released only through `release_capacity`.
    pub(crate) manual: bool,
    /// Since when our response is complete while the peer's request is not (server): its remaining frames
    /// are still checked, and discarded, until it ends, runs out of window, or [`DRAIN_TIME`] passes.
    pub(crate) draining_since: Option<std::time::Instant>,
}

/// How long a stream whose response is complete waits for the rest of its request before it is reset with
/// NO_ERROR (RFC 9113 §8.1).
pub(crate) const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(1);

impl Stream {
    pub(crate) fn new(id: u32, send_window: u32, recv_window: u32) -> Stream {
        Stream {
            id,
            recv_closed: false,
            send_closed: false,
            headers_sent: false,
            headers_received: false,
            send_window: send_window as i64,
            recv_window: recv_window as i64,
            recv_unreleased: 0,
            queue: SendQueue::default(),
            queued: 0,
            end_queued: false,
            trailers: None,
            content_length: None,
            received: 0,
            awaiting_final: false,
            manual: false,
            draining_since: None,
        }
    }

    /// Both halves are closed: the stream can be forgotten.
    pub(crate) fn is_done(&self) -> bool {
        self.recv_closed && self.send_closed
    }

    /// Whether anything is waiting to be framed: data, END_STREAM or trailers.
    pub(crate) fn has_pending_send(&self) -> bool {
        !self.send_closed && (self.queued > 0 || self.end_queued || self.trailers.is_some())
    }

    /// Takes up to `max` queued bytes from the front of the queue.
    pub(crate) fn take(&mut self, max: usize) -> Bytes {
        let Some(front) = self.queue.front_mut() else {
            return Bytes::new();
        };
        let piece = if front.len() <= max {
            self.queue.pop_front().unwrap_or_default()
        } else {
            front.split_to(max)
        };
        self.queued -= piece.len();
        piece
    }

    /// Drops everything queued (after a reset).
    pub(crate) fn clear_queue(&mut self) {
        self.queue.clear();
        self.queued = 0;
        self.end_queued = false;
        self.trailers = None;
    }
}

/// A stream's outgoing data pieces. Most responses queue a single piece, which is kept inline so that
/// a stream costs no allocation for it.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    head: Option<Bytes>,
    rest: VecDeque<Bytes>,
}

impl SendQueue {
    pub(crate) fn push_back(&mut self, b: Bytes) {
        if self.head.is_none() && self.rest.is_empty() {
            self.head = Some(b);
        } else {
            self.rest.push_back(b);
        }
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut Bytes> {
        match &mut self.head {
            Some(h) => Some(h),
            None => self.rest.front_mut(),
        }
    }

    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        self.head.take().or_else(|| self.rest.pop_front())
    }

    pub(crate) fn clear(&mut self) {
        self.head = None;
        self.rest.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keeps_order_across_the_inline_slot() {
        let mut q = SendQueue::default();
        for i in 0..3u8 {
            q.push_back(Bytes::from(vec![i]));
        }
        assert_eq!(q.pop_front().as_deref(), Some(&[0u8][..]));
        q.push_back(Bytes::from_static(b"\x03"));
        let got: Vec<u8> = std::iter::from_fn(|| q.pop_front()).map(|b| b[0]).collect();
        assert_eq!(got, [1, 2, 3]);
    }
}
