//! The byte streams connections run on (TCP, unix sockets, TLS over either), with the two things the
//! drivers need beyond reading and writing.

use std::cell::RefCell;
use std::io::{self, IoSlice};

use tokio::io::{AsyncRead, AsyncWrite, Interest};
use tokio::net::{TcpStream, UnixStream};

/// Size of the per-thread read buffer.
const READ_BUF_SIZE: usize = 64 * 1024;

thread_local! {
    // One read buffer per thread for all its connections, borrowed only while one read is polled and its
    // bytes handed to an engine: no connection, idle or busy, keeps (or zeroes) a read buffer of its own.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_BUF_SIZE].into_boxed_slice());
}

/// Runs `f` with this thread's read buffer (64 KiB). A WebSocket protocol's `message` runs inside `f` (it
/// reads the message where it arrived), so a nested call, should a callback ever read a socket itself, gets a
/// buffer of its own instead of a panic.
pub(crate) fn with_read_buf<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    READ_BUF.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut vec![0u8; READ_BUF_SIZE]),
    })
}

/// Output buffers kept per thread for connections between responses.
const OUT_POOL_LEN: usize = 64;
/// Largest output buffer worth keeping: a small response's head and body.
pub(crate) const OUT_POOL_CAPACITY: usize = 4 * 1024;

thread_local! {
    // Output buffers of connections that went idle: the next response on any of the thread's connections
    // frames into one of these, so an idle keep-alive connection owns no output buffer and a busy one
    // allocates none.
    static OUT_POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty output buffer, from the thread's pool when it has one.
pub(crate) fn take_out_buf() -> Vec<u8> {
    OUT_POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

/// Returns an output buffer to the thread's pool (dropped if it holds no allocation, an oversized one, or
/// the pool is full).
pub(crate) fn give_out_buf(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > OUT_POOL_CAPACITY {
        return;
    }
    buf.clear();
    OUT_POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < OUT_POOL_LEN {
            p.push(buf);
        }
    });
}

/// Starts an output buffer over once everything in it was written (`sent` bytes), releasing a capacity above
/// `keep`: a connection does not hold on to what one burst grew its buffer to.
pub(crate) fn reuse_written(out: &mut Vec<u8>, sent: &mut usize, keep: usize) {
    *sent = 0;
    out.clear();
    if out.capacity() > keep {
        *out = Vec::new();
    }
}

/// A connection's byte stream.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin {
    /// A read just returned less than it asked for, so the socket's receive queue was empty at that moment.
    /// Plain sockets use this to forget their read readiness without the `recv` that would only return
    /// `EAGAIN`; a wake-up for data arriving in between is not lost (tokio tracks readiness by event).
    fn read_drained(&self) {}

    /// The socket itself when bytes can be handed to it directly (plain sockets, not TLS or pipes).
    fn send_now(&self) -> Option<&dyn SendNow> {
        None
    }
}

/// A socket that takes bytes at once when it can, without waiting: a WebSocket server then writes a message
/// from where it lies instead of copying it into its send queue first (what libwebsockets' `lws_write` does).
pub(crate) trait SendNow {
    /// Writes what the socket takes right now and says how much; 0 when it would block or failed (a failure
    /// shows again on the next write).
    fn send_now(&self, bufs: &[IoSlice<'_>]) -> usize;
}

/// Plain sockets: readiness tracked by tokio, writes possible without a task context.
macro_rules! plain_socket {
    ($t:ty) => {
        impl Transport for $t {
            fn read_drained(&self) {
                let _ = self.try_io(Interest::READABLE, || {
                    Err::<(), _>(io::ErrorKind::WouldBlock.into())
                });
            }

            fn send_now(&self) -> Option<&dyn SendNow> {
                Some(self)
            }
        }

        impl SendNow for $t {
            fn send_now(&self, bufs: &[IoSlice<'_>]) -> usize {
                self.try_write_vectored(bufs).unwrap_or(0)
            }
        }
    };
}

plain_socket!(TcpStream);
plain_socket!(UnixStream);

/// The in-memory pipe between an HTTP/2 stream and the WebSocket it carries (RFC 8441).
impl Transport for tokio::io::DuplexStream {}

/// TLS decrypts from its own buffer: a short read says nothing about the socket. Boxed because a TLS
/// session is large and most connections are not TLS.
#[cfg(feature = "tls")]
impl<S: AsyncRead + AsyncWrite + Unpin> Transport for Box<tokio_rustls::server::TlsStream<S>> {}

#[cfg(test)]
mod tests {
    use super::with_read_buf;

    #[test]
    fn nested_read_buffer_use_gets_its_own_buffer() {
        with_read_buf(|outer| {
            outer[0] = 1;
            with_read_buf(|inner| {
                inner[0] = 2;
                assert_eq!(inner.len(), outer.len());
            });
            assert_eq!(outer[0], 1, "the nested call wrote into the outer buffer");
        });
    }
}
