//! Zero-copy forwarding for the proxy on Linux: `splice(2)` moves bytes from one TCP socket into a pipe and
//! from the pipe into the other socket without copying them through user space.
//!
//! Pipes cost two descriptors each, and a process may hold few (20,000 here): a direction takes a pipe only
//! while bytes are in flight and gives it back to a small per-thread pool as soon as the pipe is empty, so
//! idle pairs hold none. The proxy switches a direction to splicing only once it carries bulk data (a read
//! filled the whole copy buffer): for small messages, `read` + `write` cost the same two system calls and
//! splicing would only add the pipe.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Capacity asked for each pipe, and so the bytes moved per `splice` call: bigger moves cost fewer calls per
/// byte (the calls are most of a bulk transfer's cost). A kernel that refuses it keeps its default (64 KiB).
const PIPE_CHUNK: usize = 512 * 1024;
/// Empty pipes kept per thread for reuse.
const POOL: usize = 32;

thread_local! {
    static PIPES: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
}

/// A non-blocking pipe (read end, write end).
#[derive(Debug)]
pub(crate) struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
}

impl Pipe {
    /// An empty pipe from this thread's pool, or a new one.
    pub(crate) fn take() -> io::Result<Pipe> {
        if let Some(p) = PIPES.with(|p| p.borrow_mut().pop()) {
            return Ok(p);
        }
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes; on success both are open and owned
        // by nobody else, so wrapping each in an OwnedFd once is sound.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above: fresh descriptors, each wrapped exactly once.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: F_SETPIPE_SZ takes an int and reads no memory; `w` is open. Failure (a size over
        // /proc/sys/fs/pipe-max-size, or a user's pipe budget used up) leaves the default size.
        let _ =
            unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_CHUNK as libc::c_int) };
        Ok(Pipe { r, w })
    }

    /// Gives an empty pipe back for reuse (or closes it when the pool is full).
    pub(crate) fn give_back(self) {
        PIPES.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL {
                p.push(self);
            }
        });
    }
}

/// One `splice` call, non-blocking: moves up to `len` bytes from `from` to `to`.
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: splice takes two descriptors and null offsets (both are a socket or a pipe, which have no
    // offset); it reads and writes no user memory. The descriptors are open for the duration of the call
    // (borrowed from live owners by the callers).
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Moves what `src` has into the pipe; `Ok(0)` at end of stream.
pub(crate) fn poll_fill(
    cx: &mut Context<'_>,
    src: &TcpStream,
    pipe: &Pipe,
) -> Poll<io::Result<usize>> {
    loop {
        std::task::ready!(src.poll_read_ready(cx))?;
        match src.try_io(Interest::READABLE, || {
            splice(src.as_raw_fd(), pipe.w.as_raw_fd(), PIPE_CHUNK)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return Poll::Ready(r),
        }
    }
}

/// Moves up to `held` bytes from the pipe into `dst`; returns how many.
pub(crate) fn poll_drain(
    cx: &mut Context<'_>,
    dst: &TcpStream,
    pipe: &Pipe,
    held: usize,
) -> Poll<io::Result<usize>> {
    loop {
        std::task::ready!(dst.poll_write_ready(cx))?;
        match dst.try_io(Interest::WRITABLE, || {
            splice(pipe.r.as_raw_fd(), dst.as_raw_fd(), held)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            r => return Poll::Ready(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Bytes spliced socket -> pipe -> socket arrive unchanged, and the pipe goes back to the pool.
    #[tokio::test]
    async fn splicing_moves_bytes_unchanged() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let mut writer = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (src, _) = l.accept().await.unwrap();
        let mut reader = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (dst, _) = l.accept().await.unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
        let sent = data.clone();
        tokio::spawn(async move {
            writer.write_all(&sent).await.unwrap();
        });
        let pipe = super::Pipe::take().unwrap();
        let mut moved = 0;
        while moved < data.len() {
            let n = std::future::poll_fn(|cx| super::poll_fill(cx, &src, &pipe))
                .await
                .unwrap();
            let mut held = n;
            while held > 0 {
                held -= std::future::poll_fn(|cx| super::poll_drain(cx, &dst, &pipe, held))
                    .await
                    .unwrap();
            }
            moved += n;
        }
        pipe.give_back();
        let mut got = vec![0u8; data.len()];
        reader.read_exact(&mut got).await.unwrap();
        assert!(got == data);
        assert!(super::Pipe::take().is_ok());
    }
}
