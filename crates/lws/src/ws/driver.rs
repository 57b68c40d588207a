//! The WebSocket connection driver: one task per connection feeding `lws_proto::ws::WsConn`, calling the
//! protocol, writing without blocking reads (up to a high-water mark), timers and the validity policy.
//!
//! While idle, a connection owns no read buffer: reads go through one buffer per service thread, borrowed
//! only for the duration of a poll.
//!
//! The driver is polled by hand rather than through `select!`: every wake-up runs the sources in a fixed
//! order (engine, commands, socket, timer) and reads the clock once. Requests from other tasks
//! (`request_writable`, `rx_flow`, shutdown) are flags in [`ConnShared`] next to the task's waker, so no
//! wake-up future has to be polled on each turn, and the timer is polled only when it was re-armed or is due.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lws_proto::ws::{WsConn, WsEvent, WsState};
use tokio::io::ReadBuf;
use tokio::sync::{mpsc, watch};
use tokio::time::Sleep;

pub(crate) use super::setup::WsSetup;
use super::{CloseInfo, Command, ConnShared, CtxRequests, Members, WsCtx, WsInfo, WsMessage};
use crate::protocol::DynProtocol;
use crate::transport::{reuse_written, Transport};

/// Stop reading from a peer while this much is queued for it.
pub(crate) const HIGH_WATER: usize = 256 * 1024;
/// `writable` is delivered once the queue is below this.
const LOW_WATER: usize = 64 * 1024;
/// A send queue buffer larger than this is released once drained, so idle connections stay small.
const KEEP_OUT_CAPACITY: usize = 16 * 1024;
/// How long the write side's shutdown may take once the connection is over.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(1);

/// Runs a WebSocket connection on `io` with its protocol until it ends, and says how it ended; `leftover`
/// are bytes read past the handshake. The protocol's `established` runs before this returns.
pub(crate) fn serve<S>(
    io: S,
    leftover: Bytes,
    setup: WsSetup,
    shutdown: watch::Receiver<bool>,
) -> impl Future<Output = CloseInfo>
where
    S: Transport,
{
    drive(io, leftover, setup, shutdown, |close| close)
}

/// [`serve`] as the rest of an accepted connection's life, run in the connection's own task.
pub(crate) fn serve_in_place<S>(
    io: S,
    leftover: Bytes,
    setup: WsSetup,
    shutdown: watch::Receiver<bool>,
) -> impl Future<Output = ()>
where
    S: Transport,
{
    drive(io, leftover, setup, shutdown, drop)
}

/// The connection's future, whose output `done` makes from how it ended (a caller awaiting a future that
/// maps the output would keep a second copy of this one's state).
fn drive<S, T>(
    io: S,
    leftover: Bytes,
    setup: WsSetup,
    shutdown: watch::Receiver<bool>,
    done: fn(CloseInfo) -> T,
) -> impl Future<Output = T>
where
    S: Transport,
{
    let mut driver = Driver::new(io, leftover, setup, shutdown);
    // The driver is only borrowed below: moving it into a local would give the future two copies of it.
    async move {
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        done(std::future::poll_fn(|cx| driver.poll(cx, timer.as_mut())).await)
    }
}

/// One connection's state between polls.
struct Driver<S> {
    io: S,
    conn: WsConn,
    /// Bytes taken from the engine; `out[sent..]` is not written yet.
    out: Vec<u8>,
    sent: usize,
    protocol: Arc<dyn DynProtocol>,
    session: Box<dyn Any + Send>,
    info: Arc<WsInfo>,
    members: Arc<Members>,
    shared: Arc<ConnShared>,
    commands: CommandQueue,
    requests: CtxRequests,
    shutdown: watch::Receiver<bool>,
    last_rx: Instant,
    user_timer: Option<Instant>,
    /// The deadline the timer is set for, if it is armed.
    armed: Option<Instant>,
    close: Option<CloseInfo>,
    /// The waker last registered in `shared`.
    waker: Option<Waker>,
    needs_flush: bool,
    pinged: bool,
    draining: bool,
    /// The timer was re-armed and has not been polled since, so it may not hold the task's waker.
    timer_unpolled: bool,
    /// The connection is over: `closed` was called and the write side is being shut down.
    over: bool,
}

/// What the socket did in one turn.
enum Io {
    /// Nothing: wait for a wake-up.
    Idle,
    /// Input arrived (or the peer's side ended) and was given to the engine, or output drained while the
    /// protocol waits for `writable`: the engine has something new.
    Progress,
    /// The connection cannot go on.
    Over,
}

/// What one read did.
enum Read {
    Data,
    Eof,
    Failed,
    Pending,
}

macro_rules! cx {
    ($d:expr) => {
        WsCtx {
            conn: &mut $d.conn,
            info: &$d.info,
            requests: &mut $d.requests,
            shared: &$d.shared,
            members: &$d.members,
            commands: &mut $d.commands,
            direct: if $d.sent == $d.out.len() {
                $d.io.send_now()
            } else {
                None
            },
        }
    };
}

impl<S: Transport> Driver<S> {
    fn new(io: S, leftover: Bytes, setup: WsSetup, mut shutdown: watch::Receiver<bool>) -> Self {
        let WsSetup {
            role,
            protocol,
            info,
            config,
            codec,
            members,
        } = setup;
        let start = Instant::now();
        let mut conn = WsConn::new(role, config, start);
        if let Some(codec) = codec {
            conn.set_extension(codec);
        }
        let shared = members.join();
        let session = protocol.new_session();
        let draining = *shutdown.borrow_and_update();
        let mut d = Driver {
            io,
            conn,
            out: Vec::new(),
            sent: 0,
            protocol,
            session,
            info,
            members,
            shared,
            commands: CommandQueue::default(),
            requests: CtxRequests::default(),
            shutdown,
            last_rx: start,
            user_timer: None,
            armed: None,
            close: None,
            waker: None,
            needs_flush: false,
            pinged: false,
            draining,
            timer_unpolled: false,
            over: false,
        };
        d.protocol.established(d.session.as_mut(), &mut cx!(d));
        if !leftover.is_empty() {
            d.conn.handle_input(start, &leftover);
        }
        if d.draining {
            d.requests.closed = true;
            d.conn.close(1001, "server shutting down");
        }
        d
    }

    fn poll(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<CloseInfo> {
        if !self.over {
            if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.shared.register(cx.waker());
                self.waker = Some(cx.waker().clone());
            }
            if self.run(cx, timer.as_mut()).is_pending() {
                return Poll::Pending;
            }
            self.end();
            // Most shutdowns complete at once: the limit is only armed for one that has to wait (arming a
            // timer earlier than the runtime's next wake-up costs a wake-up write).
            if Pin::new(&mut self.io).poll_shutdown(cx).is_ready() {
                return Poll::Ready(self.close.take().unwrap_or_else(unknown_close));
            }
            timer
                .as_mut()
                .reset((Instant::now() + SHUTDOWN_LIMIT).into());
        }
        if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() && timer.poll(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(self.close.take().unwrap_or_else(unknown_close))
    }

    /// Drives the connection until it is over (Ready) or has to wait (Pending, with every source that can
    /// move it registered for a wake-up).
    fn run(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<()> {
        let now = Instant::now();
        loop {
            // Any change of the signal, or its sender going away, means shutdown.
            if !self.draining && self.shutdown.has_changed().unwrap_or(true) {
                self.draining = true;
                self.requests.closed = true;
                self.conn.close(1001, "server shutting down");
            }
            self.deliver();
            if let Some(rx) = self.commands.receiver() {
                while let Poll::Ready(Some(cmd)) = rx.poll_recv(cx) {
                    apply(&mut self.conn, &mut self.requests, cmd);
                }
            }
            let queued = self.conn.pending_transmit() + (self.out.len() - self.sent);
            if queued < LOW_WATER
                && (self.requests.writable | self.shared.take_writable())
                && self.conn.state() == WsState::Open
            {
                self.requests.writable = false;
                self.protocol
                    .writable(self.session.as_mut(), &mut cx!(self));
            }
            if let Some(t) = self.requests.timer.take() {
                self.user_timer = t.map(|d| now + d);
            }
            if self.sent == self.out.len() {
                reuse_written(&mut self.out, &mut self.sent, KEEP_OUT_CAPACITY);
            }
            self.conn.poll_transmit(&mut self.out);
            if self.finished() {
                return Poll::Ready(());
            }
            let io = self.poll_io(cx, now);
            self.shared
                .unsent
                .store(self.out.len() - self.sent, Ordering::Relaxed);
            match io {
                Io::Progress => continue,
                Io::Over => return Poll::Ready(()),
                Io::Idle if self.finished() => return Poll::Ready(()),
                Io::Idle => {}
            }
            // Armed only now that the task is about to wait: a connection that ends without waiting never
            // registers its timer (arming a timer earlier than the runtime's next wake-up costs that wake-up a
            // write to its eventfd).
            let validity = &self.members.validity;
            let deadline = [
                self.conn.poll_timeout(),
                self.user_timer,
                (!self.pinged).then(|| self.last_rx + validity.ping_after),
                Some(self.last_rx + validity.hangup_after),
            ]
            .into_iter()
            .flatten()
            .min();
            if crate::deadline::arm_earlier(timer.as_mut(), &mut self.armed, deadline) {
                self.timer_unpolled = true;
            }
            // A timer still holding our waker wakes us when due: poll it only then, or right after it was
            // re-armed.
            let Some(at) = self.armed else {
                return Poll::Pending;
            };
            if !self.timer_unpolled && now < at {
                return Poll::Pending;
            }
            self.timer_unpolled = false;
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.armed = None;
            if self.on_timer() {
                return Poll::Ready(());
            }
        }
    }

    /// The engine is closed and everything it produced is written and flushed.
    fn finished(&self) -> bool {
        self.conn.is_closed() && self.sent == self.out.len() && !self.needs_flush
    }

    /// Hands the engine's events to the protocol.
    fn deliver(&mut self) {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                WsEvent::Message { kind, data } => self.message(WsMessage {
                    kind,
                    data: &data,
                    first: true,
                    fin: true,
                }),
                WsEvent::Fragment {
                    kind,
                    data,
                    first,
                    fin,
                } => self.message(WsMessage {
                    kind,
                    data: &data,
                    first,
                    fin,
                }),
                WsEvent::Ping(_) | WsEvent::Pong(_) => {}
                WsEvent::Close { code, reason } => {
                    // The peer's Close answers ours when we (protocol, handle or shutdown) spoke first.
                    self.close = Some(CloseInfo {
                        code,
                        reason,
                        by_peer: !self.requests.closed,
                    });
                }
                WsEvent::Error(e) => {
                    tracing::debug!(peer = ?self.info.peer, "websocket: {e}");
                    self.close.get_or_insert(CloseInfo {
                        code: Some(e.close_code()),
                        reason: e.to_string(),
                        by_peer: false,
                    });
                }
                _ => {}
            }
        }
    }

    /// Hands one message (or fragment) to the protocol.
    fn message(&mut self, msg: WsMessage<'_>) {
        self.protocol
            .message(self.session.as_mut(), &mut cx!(self), msg);
    }

    /// Writes (and flushes) what is queued, then reads into the per-thread buffer and feeds the engine.
    fn poll_io(&mut self, cx: &mut Context<'_>, now: Instant) -> Io {
        let mut wrote = false;
        while self.sent < self.out.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Io::Over,
                Poll::Ready(Ok(n)) => {
                    self.sent += n;
                    self.needs_flush = true;
                    wrote = true;
                }
                Poll::Pending => break,
            }
        }
        if self.needs_flush && self.sent == self.out.len() {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(_)) => return Io::Over,
                Poll::Pending => {}
            }
        }
        let want_read = !self.shared.rx_paused()
            && self.out.len() - self.sent < HIGH_WATER
            && reading(&self.conn);
        if want_read {
            let read = crate::transport::with_read_buf(|buf| {
                let mut rb = ReadBuf::new(buf);
                match Pin::new(&mut self.io).poll_read(cx, &mut rb) {
                    Poll::Ready(Ok(())) if rb.filled().is_empty() => Read::Eof,
                    Poll::Ready(Ok(())) => {
                        if rb.remaining() > 0 {
                            self.io.read_drained();
                        }
                        self.feed(now, rb.filled_mut());
                        Read::Data
                    }
                    Poll::Ready(Err(_)) => Read::Failed,
                    Poll::Pending => Read::Pending,
                }
            });
            match read {
                Read::Data => {
                    self.last_rx = now;
                    self.pinged = false;
                    return Io::Progress;
                }
                Read::Eof => {
                    self.conn.handle_eof(now);
                    if self.conn.is_closed() || !reading(&self.conn) {
                        return Io::Over;
                    }
                    return Io::Progress;
                }
                Read::Failed => return Io::Over,
                Read::Pending => {}
            }
        }
        // Draining below the low-water mark is news only to a protocol waiting for `writable`.
        if wrote && (self.requests.writable || self.shared.writable_requested()) {
            return Io::Progress;
        }
        Io::Idle
    }

    /// Gives read bytes to the engine. A whole message lying in `data` goes to the protocol from there,
    /// unmasked in place rather than copied into a message buffer; the events of input before it go first.
    fn feed(&mut self, now: Instant, mut data: &mut [u8]) {
        while !data.is_empty() {
            let got = self.conn.handle_input_in_place(now, data);
            if let Some((kind, range)) = got.message {
                self.deliver();
                self.message(WsMessage {
                    kind,
                    data: &data[range],
                    first: true,
                    fin: true,
                });
            }
            data = &mut std::mem::take(&mut data)[got.consumed..];
        }
    }

    /// The timer fired: the engine's close timeout, the protocol's timer, the validity policy. True when the
    /// peer is to be dropped.
    fn on_timer(&mut self) -> bool {
        let now = Instant::now();
        self.conn.handle_timeout(now);
        if self.user_timer.is_some_and(|t| t <= now) {
            self.user_timer = None;
            self.protocol.timer(self.session.as_mut(), &mut cx!(self));
        }
        let validity = self.members.validity;
        if now >= self.last_rx + validity.hangup_after {
            tracing::debug!(peer = ?self.info.peer, "websocket: no traffic, hanging up");
            return true;
        }
        if !self.pinged && now >= self.last_rx + validity.ping_after {
            self.pinged = true;
            let _ = self.conn.send_ping(b"");
        }
        false
    }

    /// The connection is over: leave the members and tell the protocol.
    fn end(&mut self) {
        self.over = true;
        self.members.leave(self.shared.id);
        let close = self.close.take().unwrap_or_else(unknown_close);
        self.protocol.closed(self.session.as_mut(), &close);
        self.close = Some(close);
    }
}

impl<S> Drop for Driver<S> {
    fn drop(&mut self) {
        // A task dropped before its connection was over (runtime teardown) must not stay a member.
        if !self.over {
            self.members.leave(self.shared.id);
        }
    }
}

fn unknown_close() -> CloseInfo {
    CloseInfo {
        code: None,
        reason: String::new(),
        by_peer: false,
    }
}

/// Whether the peer may still send us anything worth reading (frames, or its Close).
fn reading(conn: &WsConn) -> bool {
    matches!(conn.state(), WsState::Open | WsState::Closing)
}

/// Commands from [`super::WsHandle`]s; the channel exists only once a handle was taken, so connections
/// nobody sends to from elsewhere pay nothing for it.
#[derive(Debug, Default)]
pub(crate) struct CommandQueue {
    /// Boxed: a pointer is all that connections without handles keep.
    chan: Option<Box<(mpsc::Sender<Command>, mpsc::Receiver<Command>)>>,
}

impl CommandQueue {
    /// A sender, creating the channel on first use.
    pub(crate) fn sender(&mut self) -> mpsc::Sender<Command> {
        let chan = self.chan.get_or_insert_with(|| Box::new(mpsc::channel(64)));
        chan.0.clone()
    }

    fn receiver(&mut self) -> Option<&mut mpsc::Receiver<Command>> {
        self.chan.as_mut().map(|c| &mut c.1)
    }
}

fn apply(conn: &mut WsConn, requests: &mut CtxRequests, cmd: Command) {
    match cmd {
        Command::Send(kind, data) => conn.send_message(kind, &data),
        Command::Close(code, reason) => {
            requests.closed = true;
            conn.close(code, &reason);
        }
    }
}
