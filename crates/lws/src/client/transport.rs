//! [`Transport`]: the byte stream every client connection runs on — TCP, TLS, or a pipe to an HTTP/2 stream —
//! as one type, so that the WebSocket, HTTP/1.1 and HTTP/2 code above it does not care which.
//!
//! Not to be confused with [`crate::transport`], the runtime's helpers for any socket, which this type
//! plugs into.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The byte stream under a client connection: TCP, TLS over TCP, or a pipe to an HTTP/2 stream (a
/// WebSocket per RFC 8441) that the HTTP/2 connection's task bridges.
pub(crate) enum Transport {
    /// `ws://` and `http://`: the TCP connection itself.
    Plain(TcpStream),
    /// `wss://` and `https://`: TLS over the TCP connection.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// A WebSocket over HTTP/2: the local end of the pipe the HTTP/2 connection's task joins to the stream.
    Pipe(tokio::io::DuplexStream),
    /// A unix stream socket (a reverse proxy's `+/path/to/socket` origin).
    Unix(tokio::net::UnixStream),
}

impl Transport {
    /// The server's address (unknown through a pipe).
    pub(crate) fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Transport::Plain(s) => s.peer_addr().ok(),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => s.get_ref().0.peer_addr().ok(),
            Transport::Pipe(_) | Transport::Unix(_) => None,
        }
    }

    /// Whether this is an HTTP/2 stream's pipe.
    pub(crate) fn is_pipe(&self) -> bool {
        matches!(self, Transport::Pipe(_))
    }
}

impl crate::transport::Transport for Transport {
    fn read_drained(&self) {
        if let Transport::Plain(s) = self {
            crate::transport::Transport::read_drained(s);
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Transport::Pipe(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Transport::Pipe(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Transport::Pipe(s) => Pin::new(s).poll_flush(cx),
            Transport::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Transport::Pipe(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
