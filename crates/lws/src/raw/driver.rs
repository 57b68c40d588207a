//! The raw stream driver: one task per connection, reading into the thread's read buffer and handing the
//! bytes to the protocol, writing what it queued without blocking reads (up to a high-water mark), its
//! timer, half-close in both directions, and commands from handles.
//!
//! Polled by hand, as the WebSocket driver is: every wake-up runs the sources in a fixed order (commands,
//! `writable`, writes, reads, timer) and reads the clock once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Sleep;

use super::ctx::{apply, CommandQueue, Requests, SendQueue, HIGH_WATER, LOW_WATER};
use super::service::{DynRaw, RawConn, RawIo};
use super::{RawClose, RawCtx, RawInfo};
use crate::conn::{ConnShared, Members};
use crate::transport::Transport as _;

/// Read size per socket read.
const READ_SIZE: usize = 16 * 1024;
/// A send queue buffer larger than this is released once drained.
const KEEP_OUT_CAPACITY: usize = 16 * 1024;
/// How long the final shutdown of the socket may take.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(1);

/// Serves `conn` with `protocol` until the connection ends; says how it ended (after `closed` ran).
pub(crate) async fn serve(conn: RawConn, protocol: Arc<dyn DynRaw>) -> RawClose {
    let RawConn {
        io,
        initial,
        info,
        shutdown,
        guard,
        members,
    } = conn;
    let mut d = Driver::new(io, protocol, Arc::new(info), shutdown, members);
    d.established(&initial);
    let timer = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(timer);
    let close = std::future::poll_fn(|cx| d.poll(cx, timer.as_mut())).await;
    let _ = tokio::time::timeout(
        SHUTDOWN_LIMIT,
        std::future::poll_fn(|cx| Pin::new(&mut d.io).poll_shutdown(cx)),
    )
    .await;
    // Handles must see the connection closed from within `closed` (a protocol pruning its list of handles
    // there would otherwise keep this one).
    d.commands = CommandQueue::default();
    d.protocol.closed(d.session.as_mut(), &close);
    drop(guard);
    close
}

/// Runs a callback protocol on each connection with the raw driver.
pub(crate) struct Callbacks(pub(crate) Arc<dyn DynRaw>);

impl super::service::RawService for Callbacks {
    fn serve(&self, conn: RawConn) -> super::service::Serving {
        Box::pin(serve(conn, self.0.clone()))
    }
}

/// One connection's state between polls.
struct Driver {
    io: Box<dyn RawIo>,
    out: SendQueue,
    protocol: Arc<dyn DynRaw>,
    session: Box<dyn std::any::Any + Send>,
    info: Arc<RawInfo>,
    shared: Arc<ConnShared>,
    members: Option<Arc<Members>>,
    commands: CommandQueue,
    requests: Requests,
    shutdown: Option<watch::Receiver<bool>>,
    user_timer: Option<Instant>,
    armed: Option<Instant>,
    waker: Option<Waker>,
    /// The peer shut its side: nothing more to read.
    read_eof: bool,
    /// Our sending side is shut.
    write_shut: bool,
    needs_flush: bool,
}

macro_rules! cx {
    ($d:expr) => {
        RawCtx {
            out: &mut $d.out,
            requests: &mut $d.requests,
            info: &$d.info,
            shared: &$d.shared,
            commands: &mut $d.commands,
            members: $d.members.as_ref(),
            direct: None,
            datagram: false,
        }
    };
}

/// What the socket did in one turn.
enum Io {
    Idle,
    Progress,
    Over(RawClose),
}

impl Driver {
    fn new(
        io: Box<dyn RawIo>,
        protocol: Arc<dyn DynRaw>,
        info: Arc<RawInfo>,
        shutdown: Option<watch::Receiver<bool>>,
        members: Option<Arc<Members>>,
    ) -> Driver {
        let shared = match &members {
            Some(m) => m.join(),
            None => Arc::new(ConnShared::new(0)),
        };
        Driver {
            io,
            out: SendQueue::default(),
            session: protocol.new_session(),
            protocol,
            info,
            shared,
            members,
            commands: CommandQueue::default(),
            requests: Requests::default(),
            shutdown,
            user_timer: None,
            armed: None,
            waker: None,
            read_eof: false,
            write_shut: false,
            needs_flush: false,
        }
    }

    /// Calls `established`, then hands over the bytes read before the connection reached us.
    fn established(&mut self, initial: &[u8]) {
        let direct = self.io.send_now();
        let mut cx = RawCtx {
            direct,
            ..cx!(self)
        };
        self.protocol.established(self.session.as_mut(), &mut cx);
        if !initial.is_empty() {
            self.protocol.rx(self.session.as_mut(), &mut cx, initial);
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<RawClose> {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.shared.register(cx.waker());
            self.waker = Some(cx.waker().clone());
        }
        let now = Instant::now();
        loop {
            self.watch_shutdown();
            // Commands are taken only while the send queue is below its high-water mark: past it the
            // channel fills and handles' `send` waits, so a slow peer slows its producers.
            if let Some(rx) = self.commands.receiver() {
                while self.out.queued() < HIGH_WATER {
                    let Poll::Ready(Some(cmd)) = rx.poll_recv(cx) else {
                        break;
                    };
                    apply(&mut self.out, &mut self.requests, cmd);
                }
            }
            let writable = self.requests.writable | self.shared.take_writable();
            if writable && self.out.queued() < LOW_WATER && !self.closing() {
                self.requests.writable = false;
                self.protocol
                    .writable(self.session.as_mut(), &mut cx!(self));
            } else if writable {
                self.requests.writable = true;
            }
            if let Some(t) = self.requests.timer.take() {
                self.user_timer = t.map(|d| now + d);
            }
            match self.poll_io(cx) {
                Io::Progress => continue,
                Io::Over(close) => return Poll::Ready(close),
                Io::Idle => {}
            }
            if self.requests.close && self.out.is_empty() && !self.needs_flush {
                return Poll::Ready(RawClose {
                    by_peer: self.read_eof,
                    error: None,
                });
            }
            crate::deadline::arm_earlier(timer.as_mut(), &mut self.armed, self.user_timer);
            if self.armed.is_none() || std::future::Future::poll(timer.as_mut(), cx).is_pending() {
                return Poll::Pending;
            }
            self.armed = None;
            // The timer may have been armed for a deadline since cancelled or moved later.
            if self.user_timer.is_some_and(|t| Instant::now() >= t) {
                self.user_timer = None;
                self.protocol.timer(self.session.as_mut(), &mut cx!(self));
            }
        }
    }

    /// The server is shutting down: close once what is queued is written.
    fn watch_shutdown(&mut self) {
        let Some(rx) = &self.shutdown else { return };
        if !self.requests.close && rx.has_changed().unwrap_or(true) {
            self.requests.close = true;
        }
    }

    fn closing(&self) -> bool {
        self.requests.close || self.requests.shutdown_write || self.write_shut
    }

    /// Writes what is queued, shuts the sending side when asked, then reads and hands bytes over.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> Io {
        let mut progress = false;
        while self.out.sent < self.out.buf.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out.buf[self.out.sent..]) {
                Poll::Ready(Ok(0)) => return Io::Over(failed("the peer stopped reading")),
                Poll::Ready(Err(e)) => return Io::Over(failed(&e.to_string())),
                Poll::Ready(Ok(n)) => {
                    self.out.sent += n;
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Pending => break,
            }
        }
        if self.out.sent == self.out.buf.len() {
            crate::transport::reuse_written(
                &mut self.out.buf,
                &mut self.out.sent,
                KEEP_OUT_CAPACITY,
            );
            if self.needs_flush {
                match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(e)) => return Io::Over(failed(&e.to_string())),
                    Poll::Pending => {}
                }
            }
            if self.requests.shutdown_write && !self.write_shut && !self.needs_flush {
                match Pin::new(&mut self.io).poll_shutdown(cx) {
                    Poll::Ready(_) => {
                        self.write_shut = true;
                        progress = true;
                    }
                    Poll::Pending => {}
                }
            }
        }
        if self.write_shut && self.read_eof {
            return Io::Over(RawClose {
                by_peer: true,
                error: None,
            });
        }
        let want_read = !self.read_eof
            && !self.requests.close
            && !self.shared.rx_paused()
            && self.out.queued() < HIGH_WATER;
        if want_read {
            match self.poll_read(cx) {
                Poll::Ready(Ok(true)) => return Io::Progress,
                Poll::Ready(Ok(false)) => {
                    self.read_eof = true;
                    self.protocol
                        .peer_shutdown(self.session.as_mut(), &mut cx!(self));
                    return Io::Progress;
                }
                Poll::Ready(Err(e)) => {
                    return Io::Over(RawClose {
                        by_peer: true,
                        error: Some(e.to_string()),
                    })
                }
                Poll::Pending => {}
            }
        }
        if progress {
            Io::Progress
        } else {
            Io::Idle
        }
    }

    /// Reads once through the thread's read buffer and hands the bytes to the protocol: `Ok(false)` at
    /// end of stream.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let Driver {
            io,
            protocol,
            session,
            out,
            requests,
            info,
            shared,
            commands,
            members,
            ..
        } = self;
        crate::transport::with_read_buf(|buf| {
            let mut rb = ReadBuf::new(&mut buf[..READ_SIZE]);
            std::task::ready!(Pin::new(&mut *io).poll_read(cx, &mut rb))?;
            let data = rb.filled();
            if data.is_empty() {
                return Poll::Ready(Ok(false));
            }
            if data.len() < READ_SIZE {
                io.read_drained();
            }
            let direct = if out.is_empty() { io.send_now() } else { None };
            let mut rcx = RawCtx {
                out,
                requests,
                info,
                shared,
                commands,
                members: members.as_ref(),
                direct,
                datagram: false,
            };
            protocol.rx(session.as_mut(), &mut rcx, data);
            Poll::Ready(Ok(true))
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(m) = &self.members {
            m.leave(self.shared.id);
        }
    }
}

fn failed(why: &str) -> RawClose {
    RawClose {
        by_peer: false,
        error: Some(why.to_string()),
    }
}
