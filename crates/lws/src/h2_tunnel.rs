//! The HTTP/2 side of a WebSocket stream (RFC 8441), shared by the server and client drivers: DATA from the
//! peer goes into an in-memory pipe whose other end runs the ordinary WebSocket driver, and the WebSocket's
//! bytes come back out as DATA. The stream's receive window is released only as the pipe takes bytes, so a
//! slow WebSocket slows its peer.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use lws_proto::h2::H2Conn;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// Bytes in flight in each direction between a WebSocket stream and its WebSocket task.
pub(crate) const TUNNEL_PIPE: usize = 64 * 1024;

/// One WebSocket stream's end of its pipe.
pub(crate) struct Tunnel {
    pipe: DuplexStream,
    inbound: VecDeque<Bytes>,
    /// The peer ended its half of the stream.
    inbound_done: bool,
    /// Our write half of the pipe is shut (after `inbound_done`).
    shut: bool,
    /// The WebSocket side ended: END_STREAM is queued.
    outbound_done: bool,
}

impl Tunnel {
    pub(crate) fn new(pipe: DuplexStream) -> Tunnel {
        Tunnel {
            pipe,
            inbound: VecDeque::new(),
            inbound_done: false,
            shut: false,
            outbound_done: false,
        }
    }

    /// DATA the peer sent on the stream, to go into the pipe.
    pub(crate) fn push(&mut self, data: Bytes, end_stream: bool) {
        if !data.is_empty() {
            self.inbound.push_back(data);
        }
        self.inbound_done |= end_stream;
    }

    /// The WebSocket side has ended and END_STREAM is queued.
    pub(crate) fn outbound_done(&self) -> bool {
        self.outbound_done
    }

    /// Both directions are over: the peer's data was all delivered and the pipe shut, or the WebSocket ended.
    pub(crate) fn finished(&self, stream_gone: bool) -> bool {
        self.outbound_done
            && (self.shut || stream_gone && self.inbound_done && self.inbound.is_empty())
    }

    /// Moves bytes both ways: into the pipe (releasing the stream's window as it takes them), and out of it
    /// while the stream has `room` (END_STREAM when the WebSocket side ends). Says whether anything moved.
    pub(crate) fn poll(
        &mut self,
        id: u32,
        conn: &mut H2Conn,
        room: bool,
        cx: &mut Context<'_>,
    ) -> bool {
        let mut progress = false;
        while let Some(front) = self.inbound.front_mut() {
            match Pin::new(&mut self.pipe).poll_write(cx, front) {
                Poll::Ready(Ok(n)) => {
                    front.advance(n);
                    conn.release_capacity(id, n);
                    if front.is_empty() {
                        self.inbound.pop_front();
                    }
                    progress = true;
                }
                Poll::Ready(Err(_)) => {
                    self.inbound.clear();
                    break;
                }
                Poll::Pending => break,
            }
        }
        let drained = self.inbound.is_empty() && self.inbound_done && !self.shut;
        if drained && Pin::new(&mut self.pipe).poll_shutdown(cx).is_ready() {
            self.shut = true;
            progress = true;
        }
        if !room || self.outbound_done {
            return progress;
        }
        let mut buf = [0u8; 16 * 1024];
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut self.pipe).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) if !rb.filled().is_empty() => {
                let _ = conn.send_data(id, Bytes::copy_from_slice(rb.filled()), false);
                true
            }
            Poll::Ready(_) => {
                let _ = conn.send_data(id, Bytes::new(), true);
                self.outbound_done = true;
                true
            }
            Poll::Pending => progress,
        }
    }
}
