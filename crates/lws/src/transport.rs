//! The byte streams connections run on (TCP, unix sockets, TLS over either), with the three things the
//! drivers need beyond reading and writing.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, IoSlice};
use std::task::{Context, Poll};

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
    with_thread_buf(&READ_BUF, READ_BUF_SIZE, f)
}

/// Runs `f` with the per-thread buffer `key` (`len` bytes), or with a buffer of its own when the thread's is
/// already borrowed further up the stack: a nested use gets room instead of a panic.
pub(crate) fn with_thread_buf<R>(
    key: &'static std::thread::LocalKey<RefCell<Box<[u8]>>>,
    len: usize,
    f: impl FnOnce(&mut [u8]) -> R,
) -> R {
    key.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut vec![0u8; len]),
    })
}

/// Reads once into this thread's read buffer (at most `max` bytes) and hands what arrived to `take`, which is
/// done with it when it returns: the way every connection driver reads, so none keeps a read buffer of its
/// own. `Ok(None)` at the end of the stream.
pub(crate) fn poll_read_through<S: AsyncRead + Unpin, R>(
    cx: &mut Context<'_>,
    io: &mut S,
    max: usize,
    take: impl FnOnce(&[u8]) -> R,
) -> Poll<io::Result<Option<R>>> {
    with_read_buf(|buf| {
        let mut rb = tokio::io::ReadBuf::new(&mut buf[..max]);
        std::task::ready!(std::pin::Pin::new(io).poll_read(cx, &mut rb))?;
        let data = rb.filled();
        Poll::Ready(Ok((!data.is_empty()).then(|| take(data))))
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

    /// The socket itself when the kernel can send a file to it without the bytes passing through user space
    /// (plain sockets; TLS must encrypt them here, and these machines have no kernel TLS).
    fn send_file(&self) -> Option<&dyn SendFile> {
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

/// A socket the kernel can copy a file range into (`sendfile(2)`): a file body then costs no read into a
/// buffer and no copy out of it. `Sync` because a driver holds it across the waits of one send.
pub(crate) trait SendFile: Sync {
    /// Waits until the socket is writable, then sends up to `len` bytes of `file` from `offset` and says how
    /// many went. `Ok(0)` for a `len` above 0 means the file ended before `offset + len` (it shrank).
    fn poll_send_file(
        &self,
        cx: &mut Context<'_>,
        file: &File,
        offset: u64,
        len: usize,
    ) -> Poll<io::Result<usize>>;

    /// Asks the kernel to report the socket writable only while fewer than `bytes` of what was queued have
    /// not yet left (`TCP_NOTSENT_LOWAT`), so that one call does not queue a whole file past what the peer's
    /// window takes. Best effort: sockets without the option ignore it.
    fn limit_unsent(&self, bytes: u32);

    /// Writes what the socket takes of `head` right now, telling the kernel that more follows (`MSG_MORE`),
    /// so the head leaves with the first file bytes instead of in a packet of its own; 0 when it would block
    /// or failed (a failure shows again on the next write).
    fn send_head(&self, head: &[u8]) -> usize;
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

            fn send_file(&self) -> Option<&dyn SendFile> {
                Some(self)
            }
        }

        impl SendFile for $t {
            fn poll_send_file(
                &self,
                cx: &mut Context<'_>,
                file: &File,
                offset: u64,
                len: usize,
            ) -> Poll<io::Result<usize>> {
                loop {
                    std::task::ready!(self.poll_write_ready(cx))?;
                    // The offset is passed in, so the file's own position is neither used nor moved: an
                    // open file shared by several responses needs no lock.
                    let mut at = offset;
                    match self.try_io(Interest::WRITABLE, || {
                        rustix::fs::sendfile(self, file, Some(&mut at), len)
                            .map_err(io::Error::from)
                    }) {
                        // The readiness was stale (tokio has cleared it): wait for the next one.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        r => return Poll::Ready(r),
                    }
                }
            }

            fn send_head(&self, head: &[u8]) -> usize {
                self.try_io(Interest::WRITABLE, || {
                    socket2::SockRef::from(self).send_with_flags(head, libc::MSG_MORE)
                })
                .unwrap_or(0)
            }

            fn limit_unsent(&self, bytes: u32) {
                // A unix socket has no TCP options; it refuses this one, which is fine.
                let _ = socket2::SockRef::from(self).set_tcp_notsent_lowat(bytes);
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

#[cfg(test)]
mod tests {
    use super::{with_read_buf, SendFile};

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

    /// Sends `len` bytes of `file` from `offset` through `socket`'s sendfile, as the HTTP/1 driver does.
    async fn send_all(
        socket: &tokio::net::TcpStream,
        file: &std::fs::File,
        offset: u64,
        len: u64,
    ) -> u64 {
        let mut sent = 0;
        while sent < len {
            let want = (len - sent) as usize;
            let n = std::future::poll_fn(|cx| socket.poll_send_file(cx, file, offset + sent, want))
                .await
                .unwrap();
            if n == 0 {
                break;
            }
            sent += n as u64;
        }
        sent
    }

    #[tokio::test]
    async fn a_file_range_goes_through_sendfile_and_stops_where_the_file_ends() {
        use tokio::io::AsyncReadExt;
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &data).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let (mut client, (server, _)) = (client.unwrap(), accepted.unwrap());
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        // A range in the middle, then a range running past the end: only what the file has is sent.
        assert_eq!(send_all(&server, &file, 1000, 200_000).await, 200_000);
        assert_eq!(send_all(&server, &file, 250_000, 100_000).await, 50_000);
        drop(server);
        let got = reader.await.unwrap();
        assert_eq!(got.len(), 250_000);
        assert!(got[..200_000] == data[1000..201_000]);
        assert!(got[200_000..] == data[250_000..]);
    }
}
