//! The server side of a TLS connection, on rustls's unbuffered API: ciphertext is read into a per-thread
//! space and decrypted there, plaintext goes straight to the reader's buffer, and output is encrypted in that
//! space and written from it; only what the socket does not take at once waits, in a buffer from the thread's
//! output pool. An idle connection so owns no read buffer and no write buffer, where rustls's buffered
//! connection keeps a read buffer (4 KiB or more) for its whole life.

mod records;
mod scratch;
#[cfg(test)]
mod tests;

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use rustls::server::UnbufferedServerConnection;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::Transport;
use records::{tls_error, Ended, Records, Then, MAX_PLAINTEXT};
use scratch::{with_scratch, Window, CARRY_LIMIT, READ_SLACK};

/// Most encrypted output a connection queues before a write waits for the socket to take some of it.
const OUT_LIMIT: usize = 4 * MAX_PLAINTEXT;

/// A server TLS connection over `S`, after its handshake ([`accept`]).
pub(crate) struct TlsStream<S> {
    io: S,
    records: Records,
    /// Ciphertext read but not yet processed, kept between reads: the start of a record, or of a handshake
    /// message being joined. Without an allocation while empty, as it is when the connection is idle.
    carry: Vec<u8>,
    /// Why reading failed, once the plaintext read before the failure has been handed over.
    failure: Option<io::Error>,
    failed: bool,
    /// close_notify was queued: nothing more is written.
    closing: bool,
}

/// A finished handshake.
pub(crate) struct Accepted<S> {
    /// Boxed: the session is large, and most connections are not TLS.
    pub(crate) stream: Box<TlsStream<S>>,
    /// The name the client asked for (SNI), if it sent one.
    pub(crate) sni: Option<String>,
}

/// Runs the server side of a handshake on `io`, whose first bytes (`initial`, read while finding out what
/// the peer speaks) were already taken from it. The caller bounds its time.
pub(crate) async fn accept<S: Transport>(
    config: Arc<ServerConfig>,
    io: S,
    initial: Bytes,
) -> io::Result<Accepted<S>> {
    let conn = UnbufferedServerConnection::new(config).map_err(tls_error)?;
    let mut stream = Box::new(TlsStream {
        io,
        records: Records::new(conn),
        carry: Vec::from(initial),
        failure: None,
        failed: false,
        closing: false,
    });
    let mut sni = None;
    poll_fn(|cx| stream.poll_handshake(cx, &mut sni)).await?;
    Ok(Accepted { stream, sni })
}

/// What a fill of ciphertext waits for.
#[derive(Clone, Copy)]
enum Want {
    /// Plaintext for the reader.
    Data,
    /// Output to send, or the handshake's end.
    Handshake,
}

impl<S: Transport> TlsStream<S> {
    /// The protocol agreed by ALPN, if any.
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.records.alpn_protocol()
    }

    /// One poll of the handshake. The name the client asked for is seen only by the certificate resolver,
    /// which runs inside this poll (rustls's unbuffered connection does not tell it afterwards): it is
    /// taken from there before any other connection of this thread runs.
    fn poll_handshake(
        &mut self,
        cx: &mut Context<'_>,
        sni: &mut Option<String>,
    ) -> Poll<io::Result<()>> {
        crate::tls::take_offered_sni();
        let r = self.poll_handshake_steps(cx);
        if let Some(name) = crate::tls::take_offered_sni() {
            *sni = Some(name);
        }
        r
    }

    fn poll_handshake_steps(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_send(cx))?;
            if !self.records.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            if self.records.peer_closed() {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            let filled = ready!(self.poll_fill(cx, &mut ReadBuf::new(&mut []), Want::Handshake));
            if filled.is_err() {
                // The alert saying why, when rustls queued one; the handshake ends either way.
                let _ = self.poll_send(cx);
            }
            filled?;
        }
    }

    /// Processes ciphertext (what was held back, then what the socket has) until `want` is met: plaintext
    /// lands in `to`, output in the output buffer.
    fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        to: &mut ReadBuf<'_>,
        want: Want,
    ) -> Poll<io::Result<()>> {
        with_scratch(|space| {
            let mut w = Window::new(space, &self.carry);
            let r = self.fill(cx, &mut w, to, want);
            keep(&mut self.carry, w.pending());
            r
        })
    }

    fn fill(
        &mut self,
        cx: &mut Context<'_>,
        w: &mut Window<'_>,
        to: &mut ReadBuf<'_>,
        want: Want,
    ) -> Poll<io::Result<()>> {
        let start = to.filled().len();
        loop {
            let (used, ended) = self
                .records
                .absorb(w.pending(), to, start, &mut Then::Read)?;
            w.consume(used);
            let met = match want {
                Want::Data => to.filled().len() > start || self.records.has_plain(),
                Want::Handshake => {
                    !self.records.pending_out().is_empty() || !self.records.is_handshaking()
                }
            };
            if met || ended == Ended::PeerClosed {
                return Poll::Ready(Ok(()));
            }
            ready!(self.poll_read_more(cx, w, to.remaining()))?;
        }
    }

    /// Reads more ciphertext behind what is unprocessed: a full record's worth at least, and little more than
    /// `wanted` bytes of plaintext need, so that what is read is mostly decrypted in the same poll.
    fn poll_read_more(
        &mut self,
        cx: &mut Context<'_>,
        w: &mut Window<'_>,
        wanted: usize,
    ) -> Poll<io::Result<()>> {
        if w.len() >= CARRY_LIMIT {
            return Poll::Ready(Err(tls_error("TLS message over 64 KiB")));
        }
        let room = w.room(wanted.max(MAX_PLAINTEXT) + READ_SLACK);
        let asked = room.len();
        let mut rb = ReadBuf::new(room);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut rb))?;
        let n = rb.filled().len();
        if n == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the connection without a TLS close_notify",
            )));
        }
        if n < asked {
            self.io.read_drained();
        }
        w.grow(n);
        Poll::Ready(Ok(()))
    }

    /// Writes the pending output until the socket has taken all of it.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let pending = self.records.pending_out();
            if pending.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.records.sent(n);
        }
    }

    /// Hands the pending output (an alert, after reading) to the socket if it takes it now, without waiting
    /// and without taking over the writer's wake-up; what it does not take goes with the next write or flush.
    fn send_output_now(&mut self) {
        if self.records.pending_out().is_empty() {
            return;
        }
        if let Some(direct) = self.io.send_now() {
            let n = direct.send_now(&[IoSlice::new(self.records.pending_out())]);
            self.records.sent(n);
        }
    }

    /// Runs a round of record processing for writing, over the ciphertext held back from reading (rustls
    /// may have to process it first; what it decrypts waits for the reader).
    fn run_for_write(&mut self, then: &mut Then<'_>) -> io::Result<Ended> {
        let mut none = ReadBuf::new(&mut []);
        let (used, ended) = self.records.absorb(&mut self.carry, &mut none, 0, then)?;
        self.carry.drain(..used);
        if self.carry.is_empty() {
            self.carry = Vec::new();
        }
        Ok(ended)
    }

    /// Encrypts up to `limit` bytes of `bufs` into the thread's space and writes them from there, as far as
    /// the socket takes them at once; only the rest is copied into the output queue. Behind output already
    /// queued, all of it is.
    fn poll_encrypt_through(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
        limit: usize,
        space: &mut [u8],
    ) -> io::Result<usize> {
        let ended = self.run_for_write(&mut Then::Encrypt { bufs, limit, space })?;
        let Ended::Encrypted { taken, written } = ended else {
            return Ok(0);
        };
        let mut sent = 0;
        while self.records.pending_out().is_empty() && sent < written {
            match Pin::new(&mut self.io).poll_write(cx, &space[sent..written]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        self.records.queue(&space[sent..written]);
        Ok(taken)
    }

    /// Whether a write of `len` bytes may be encrypted now: the output queue is empty, or has room for it
    /// (or for a full record of it).
    fn has_room(&self, len: usize) -> bool {
        let queued = self.records.pending_out().len();
        queued == 0 || queued + len.min(MAX_PLAINTEXT) <= OUT_LIMIT
    }

    /// Encrypts what of `bufs` the output queue has room for, waiting for the socket only when it has none.
    fn poll_encrypt(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().fold(0usize, |n, b| n.saturating_add(b.len()));
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.closing {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if !self.has_room(len) {
            if let Poll::Ready(Err(e)) = self.poll_send(cx) {
                return Poll::Ready(Err(e));
            }
            if !self.has_room(len) {
                return Poll::Pending;
            }
        }
        // At least a full record's worth (or all of `bufs`), by `has_room`.
        let limit = len.min(OUT_LIMIT - self.records.pending_out().len());
        Poll::Ready(with_scratch(|space| {
            self.poll_encrypt_through(cx, bufs, limit, space)
        }))
    }
}

/// Keeps the ciphertext left unprocessed for the next read, freeing the buffer when there is none.
fn keep(carry: &mut Vec<u8>, rest: &[u8]) {
    if rest.is_empty() {
        *carry = Vec::new();
    } else {
        carry.clear();
        carry.extend_from_slice(rest);
    }
}

impl<S: Transport> AsyncRead for TlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.records.take_plain(buf) || this.records.peer_closed() {
            return Poll::Ready(Ok(()));
        }
        if this.failed {
            let e = this.failure.take();
            return Poll::Ready(Err(e.unwrap_or_else(|| tls_error("TLS connection failed"))));
        }
        let before = buf.filled().len();
        let filled = this.poll_fill(cx, buf, Want::Data);
        this.send_output_now();
        match filled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => {
                this.records.take_plain(buf);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                this.failed = true;
                // What arrived before the failure is the reader's first; the failure comes with the next read.
                if buf.filled().len() > before || this.records.take_plain(buf) {
                    this.failure = Some(e);
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e))
            }
        }
    }
}

impl<S: Transport> AsyncWrite for TlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_encrypt(cx, &[IoSlice::new(data)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_encrypt(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    /// Sends close_notify, then shuts the socket's write side.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.closing {
            this.closing = true;
            // A connection that already failed has nothing to say any more.
            let _ = this.run_for_write(&mut Then::CloseNotify);
        }
        ready!(this.poll_send(cx))?;
        match ready!(Pin::new(&mut this.io).poll_shutdown(cx)) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

/// A TLS stream decrypts in its own space: a short read says nothing about the socket (the stream tells the
/// socket itself when its reads came up short), and bytes must be encrypted here before the kernel sends them.
impl<S: Transport> Transport for Box<TlsStream<S>> {}
