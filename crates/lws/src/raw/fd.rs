//! Adopted descriptors that are not sockets (pipes, FIFOs, character devices such as serial ports) as
//! byte streams on the event loop (libwebsockets' `raw-file` role). Regular files cannot be waited on
//! (epoll refuses them): read those with `std::fs`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A pollable descriptor in non-blocking mode.
#[derive(Debug)]
pub(crate) struct FdStream {
    fd: AsyncFd<File>,
    /// The descriptor was blocking when adopted: it is made blocking again when the stream is dropped, as
    /// the mode belongs to the open file description, which others (a shell's terminal) may share.
    was_blocking: bool,
}

impl Drop for FdStream {
    fn drop(&mut self) {
        if self.was_blocking {
            let _ = set_flag(self.fd.get_ref().as_raw_fd(), libc::O_NONBLOCK, false);
        }
    }
}

impl FdStream {
    /// Switches `fd` to non-blocking mode and registers it with the runtime.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<FdStream> {
        let was_blocking = !set_flag(fd.as_raw_fd(), libc::O_NONBLOCK, true)?;
        // SAFETY: the `File` owns the descriptor for as long as the `AsyncFd` holds it, and its
        // `as_raw_fd` always returns that same descriptor.
        let registered = unsafe { AsyncFd::register(File::from(fd)) };
        let fd = registered.map_err(|e| {
            let e = e.into_parts().1;
            if e.raw_os_error() == Some(libc::EPERM) {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "this descriptor cannot be polled (a regular file?)",
                )
            } else {
                e
            }
        })?;
        Ok(FdStream { fd, was_blocking })
    }
}

/// Sets (`on`) or clears a file status flag, keeping the others; says whether it was set before.
fn set_flag(raw: RawFd, flag: libc::c_int, on: bool) -> io::Result<bool> {
    // SAFETY: `raw` is an open descriptor borrowed from its owner for the duration of both calls; F_GETFL
    // takes no argument and F_SETFL takes an int, as passed.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if on { flags | flag } else { flags & !flag };
    // SAFETY: as above.
    if new != flags && unsafe { libc::fcntl(raw, libc::F_SETFL, new) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & flag != 0)
}

impl AsyncRead for FdStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = std::task::ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|f| f.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // A terminal whose other side hung up reports EIO: that is its end of stream.
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for FdStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = std::task::ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|f| f.get_ref().write(data)) {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// A descriptor has no half-close; the end of the connection closes it.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl crate::transport::Transport for FdStream {}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_pipe_reads_until_its_writer_closes() {
        let mut child = std::process::Command::new("printf")
            .arg("hello pipe")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = OwnedFd::from(child.stdout.take().unwrap());
        let mut stream = super::FdStream::new(out).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        child.wait().unwrap();
        assert_eq!(got, b"hello pipe");
    }

    #[tokio::test]
    async fn a_regular_file_is_refused_with_a_reason() {
        let f = tempfile::tempfile().unwrap();
        let err = super::FdStream::new(OwnedFd::from(f)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
