//! The raw proxy (libwebsockets' `raw-proxy` role and plugin): every connection gets its own onward
//! connection, and bytes flow both ways until both sides are done.
//!
//! Each direction reads into the thread's read buffer and writes straight on; only what the other side
//! does not take at once is kept, and nothing more is read from that direction until it is written, so a
//! slow side pauses reading on the other (TCP flow control then slows its peer) and nothing grows beyond
//! one read per direction. An idle pair holds no buffer at all. A half-close is passed on: when one side
//! ends its sending, the other side's sending is shut once what was queued for it is written; the pair
//! ends when both directions have ended, or at once (after a bounded flush) when either side fails.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::service::{RawConn, RawIo, RawService, Serving};
use super::{RawClientBuilder, RawClose, RawTarget};
use crate::{ProtocolHandle, ProtocolInitError, Pvo};

/// Read size per socket read.
const READ_SIZE: usize = 64 * 1024;
/// A direction's leftover buffer larger than this is released once written.
const KEEP_CAPACITY: usize = 4 * 1024;
/// Reads per direction and wake-up before yielding to the thread's other tasks.
const BATCH: usize = 16;
/// How long the final flush and shutdown may take once the pair is over.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// What the proxy forwards to and how.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where every connection is forwarded (pvo `onward`).
    pub onward: RawTarget,
    /// How long the onward connection may take to open (pvo `connect-timeout-ms`, default 5 s); past it
    /// the client is closed.
    pub connect_timeout: Duration,
    /// Forward bulk data between two TCP sockets with `splice(2)` on Linux (pvo `splice`, default on);
    /// small messages are copied either way.
    pub splice: bool,
}

impl ProxyConfig {
    /// A configuration forwarding to `onward` with the default timeout.
    pub fn new(onward: RawTarget) -> Self {
        ProxyConfig {
            onward,
            connect_timeout: Duration::from_secs(5),
            splice: true,
        }
    }

    /// Reads the per-vhost options: `onward` (required), `connect-timeout-ms` and `splice`.
    pub fn from_pvo(protocol: &str, pvo: &Pvo) -> Result<Self, ProtocolInitError> {
        let err = |message: String| ProtocolInitError {
            protocol: protocol.to_string(),
            message,
        };
        let onward = pvo.get("onward").ok_or_else(|| {
            err("needs the option \"onward\" (e.g. \"ipv4:127.0.0.1:22\")".into())
        })?;
        let onward = onward
            .parse()
            .map_err(|e| err(format!("option \"onward\": {e}")))?;
        let mut config = ProxyConfig::new(onward);
        if let Some(ms) = pvo.get("connect-timeout-ms") {
            let ms: u64 = ms
                .trim()
                .parse()
                .ok()
                .filter(|ms| (1..=600_000).contains(ms))
                .ok_or_else(|| {
                    err(format!(
                        "option \"connect-timeout-ms\": {ms:?} is not 1-600000"
                    ))
                })?;
            config.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(v) = pvo.get("splice") {
            config.splice = crate::truthy(v);
        }
        Ok(config)
    }
}

/// The raw proxy: serves each raw connection by forwarding it to [`ProxyConfig::onward`].
#[derive(Debug, Clone)]
pub struct Proxy {
    config: Arc<ProxyConfig>,
}

impl Proxy {
    /// A proxy with this configuration.
    pub fn new(config: ProxyConfig) -> Self {
        Proxy {
            config: Arc::new(config),
        }
    }

    /// The proxy as a raw protocol named `name`, to attach to a vhost (listen-accept or fallback).
    pub fn into_handle(self, name: &str) -> ProtocolHandle {
        ProtocolHandle::raw_service(name, Arc::new(self))
    }
}

impl RawService for Proxy {
    fn serve(&self, conn: RawConn) -> Serving {
        Box::pin(forward(conn, self.config.clone()))
    }
}

/// Opens the onward connection, then forwards until the pair is over.
async fn forward(conn: RawConn, config: Arc<ProxyConfig>) -> RawClose {
    let RawConn {
        io: mut client,
        initial,
        info,
        guard,
        ..
    } = conn;
    let onward = RawClientBuilder::new(config.onward.clone())
        .connect_timeout(config.connect_timeout)
        .open()
        .await;
    let mut onward = match onward {
        Ok((io, _)) => io,
        Err(e) => {
            tracing::warn!(peer = ?info.peer, "raw-proxy: onward {}: {e}", config.onward);
            let _ = tokio::time::timeout(CLOSE_LIMIT, client.shutdown()).await;
            return RawClose {
                by_peer: false,
                error: Some(format!("onward {}: {e}", config.onward)),
            };
        }
    };
    let can_splice = config.splice && client.tcp().is_some() && onward.tcp().is_some();
    let mut up = Half::with_pending(initial.to_vec(), can_splice);
    let mut down = Half::with_pending(Vec::new(), can_splice);
    let result = std::future::poll_fn(|cx| {
        let a = up.poll(cx, &mut client, &mut onward);
        let b = down.poll(cx, &mut onward, &mut client);
        match (a, b) {
            (Poll::Ready(Err(e)), _) | (_, Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    })
    .await;
    let close = match result {
        Ok(()) => RawClose {
            by_peer: true,
            error: None,
        },
        Err(e) => {
            tracing::debug!(peer = ?info.peer, "raw-proxy: {e}");
            // What one side sent before the other failed still goes out, within the limit.
            let flush = async {
                let _ = std::future::poll_fn(|cx| up.flush(cx, &mut onward)).await;
                let _ = std::future::poll_fn(|cx| down.flush(cx, &mut client)).await;
                let _ = onward.shutdown().await;
                let _ = client.shutdown().await;
            };
            let _ = tokio::time::timeout(CLOSE_LIMIT, flush).await;
            RawClose {
                by_peer: true,
                error: Some(e.to_string()),
            }
        }
    };
    drop(guard);
    close
}

/// One direction of a pair.
#[derive(Debug, Default)]
struct Half {
    /// Read from the source, not yet taken by the destination: `pending[pos..]`.
    pending: Vec<u8>,
    pos: usize,
    /// The source ended its sending.
    eof: bool,
    /// The destination's sending side was shut after `eof`.
    done: bool,
    /// Both ends are TCP sockets and splicing is allowed.
    can_splice: bool,
    /// The direction carries bulk data (a read filled the whole buffer): splice from now on.
    bulk: bool,
    /// The pipe bytes are spliced through, held only while bytes are in it.
    #[cfg(target_os = "linux")]
    pipe: Option<super::splice::Pipe>,
    /// Bytes in the pipe.
    held: usize,
}

impl Half {
    fn with_pending(pending: Vec<u8>, can_splice: bool) -> Half {
        Half {
            pending,
            can_splice,
            ..Half::default()
        }
    }

    /// Moves bytes from `src` to `dst` until neither can go on; ready once the direction is over.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Box<dyn RawIo>,
        dst: &mut Box<dyn RawIo>,
    ) -> Poll<io::Result<()>> {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        for _ in 0..BATCH {
            std::task::ready!(self.flush(cx, dst))?;
            std::task::ready!(self.drain_pipe(cx, dst))?;
            if self.eof {
                std::task::ready!(Pin::new(&mut *dst).poll_shutdown(cx))?;
                self.done = true;
                return Poll::Ready(Ok(()));
            }
            if self.bulk {
                std::task::ready!(self.fill_pipe(cx, src))?;
                continue;
            }
            let n = std::task::ready!(self.read_and_forward(cx, src, dst))?;
            self.bulk = self.can_splice && n == READ_SIZE;
        }
        // A busy direction yields after a batch so the thread's other connections get their turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Writes what is pending; ready once nothing is.
    fn flush<W>(&mut self, cx: &mut Context<'_>, dst: &mut W) -> Poll<io::Result<()>>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        while self.pos < self.pending.len() {
            let n =
                std::task::ready!(Pin::new(&mut *dst).poll_write(cx, &self.pending[self.pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pos += n;
        }
        crate::transport::reuse_written(&mut self.pending, &mut self.pos, KEEP_CAPACITY);
        Poll::Ready(Ok(()))
    }

    /// Reads once and writes what it can at once; the rest is kept as pending. Returns the bytes read.
    fn read_and_forward<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut R,
        dst: &mut W,
    ) -> Poll<io::Result<usize>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        crate::transport::with_read_buf(|buf| {
            let n = READ_SIZE.min(buf.len());
            let mut rb = ReadBuf::new(&mut buf[..n]);
            std::task::ready!(Pin::new(&mut *src).poll_read(cx, &mut rb))?;
            let data = rb.filled();
            if data.is_empty() {
                self.eof = true;
                return Poll::Ready(Ok(0));
            }
            let taken = match Pin::new(&mut *dst).poll_write(cx, data) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => 0,
            };
            self.pending.extend_from_slice(&data[taken..]);
            Poll::Ready(Ok(data.len()))
        })
    }

    /// Splices what `src` has into the pipe (taking one from the pool first). The pipe goes back to the
    /// pool when `src` has nothing, so an idle direction holds none.
    #[cfg(target_os = "linux")]
    fn fill_pipe(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Box<dyn RawIo>,
    ) -> Poll<io::Result<()>> {
        let Some(tcp) = src.tcp() else {
            self.bulk = false;
            return Poll::Ready(Ok(()));
        };
        let pipe = match self.pipe.take() {
            Some(p) => p,
            None => super::splice::Pipe::take()?,
        };
        match super::splice::poll_fill(cx, tcp, &pipe) {
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                pipe.give_back();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(n)) => {
                self.held = n;
                self.pipe = Some(pipe);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                pipe.give_back();
                Poll::Pending
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn fill_pipe(&mut self, _: &mut Context<'_>, _: &mut Box<dyn RawIo>) -> Poll<io::Result<()>> {
        self.bulk = false;
        Poll::Ready(Ok(()))
    }

    /// Splices what the pipe holds into `dst`; ready once it is empty.
    #[cfg(target_os = "linux")]
    fn drain_pipe(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut Box<dyn RawIo>,
    ) -> Poll<io::Result<()>> {
        let (Some(pipe), Some(tcp)) = (&self.pipe, dst.tcp()) else {
            return Poll::Ready(Ok(()));
        };
        while self.held > 0 {
            self.held -= std::task::ready!(super::splice::poll_drain(cx, tcp, pipe, self.held))?;
        }
        Poll::Ready(Ok(()))
    }

    #[cfg(not(target_os = "linux"))]
    fn drain_pipe(&mut self, _: &mut Context<'_>, _: &mut Box<dyn RawIo>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
