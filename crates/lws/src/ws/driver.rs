//! The WebSocket connection driver: one task per connection feeding `lws_proto::ws::WsConn`, calling the
//! protocol, writing without blocking reads (up to a high-water mark), timers and the validity policy.
//!
//! While idle, a connection owns no read buffer: reads go through one buffer per service thread, borrowed
//! only for the duration of a poll.

use std::cell::RefCell;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lws_proto::ws::{MessageCodec, Role, WsConfig, WsConn, WsEvent, WsState};
use tokio::io::ReadBuf;
use tokio::sync::{mpsc, watch};

use super::{CloseInfo, Command, CtxRequests, Members, ValidityPolicy, WsCtx, WsInfo, WsMessage};
use crate::protocol::ProtocolHandle;
use crate::transport::Transport;

/// Stop reading from a peer while this much is queued for it.
pub(crate) const HIGH_WATER: usize = 256 * 1024;
/// `writable` is delivered once the queue is below this.
const LOW_WATER: usize = 64 * 1024;
/// Size of the per-thread read buffer.
const READ_SIZE: usize = 64 * 1024;
/// A send queue buffer larger than this is released once drained, so idle connections stay small.
const KEEP_OUT_CAPACITY: usize = 16 * 1024;

thread_local! {
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_SIZE].into_boxed_slice());
}

/// Everything decided at the upgrade that the connection needs.
pub(crate) struct WsSetup {
    /// Server for accepted upgrades, client for connections we opened.
    pub(crate) role: Role,
    pub(crate) protocol: ProtocolHandle,
    pub(crate) info: Arc<WsInfo>,
    pub(crate) config: WsConfig,
    pub(crate) codec: Option<Box<dyn MessageCodec + Send>>,
    pub(crate) members: Arc<Members>,
    pub(crate) validity: ValidityPolicy,
}

/// What one poll of the socket produced.
enum IoEvent {
    Read,
    Wrote(usize),
    Flushed,
    Eof,
    Failed,
}

/// Runs a WebSocket connection on `io` with its protocol until it ends, and says how it ended; `leftover`
/// are bytes read past the handshake.
pub(crate) async fn serve<S>(
    mut io: S,
    leftover: Bytes,
    setup: WsSetup,
    mut shutdown: watch::Receiver<bool>,
) -> CloseInfo
where
    S: Transport,
{
    let WsSetup {
        role,
        protocol,
        info,
        config,
        codec,
        members,
        validity,
    } = setup;
    let start = Instant::now();
    let mut conn = WsConn::new(role, config, start);
    if let Some(codec) = codec {
        conn.set_extension(codec);
    }
    let shared = members.join();
    let mut commands = CommandQueue::default();
    // Only the protocol itself is needed from here on; its name and options stay behind.
    let protocol = protocol.inner;
    let mut session = protocol.new_session();
    let mut requests = CtxRequests::default();
    macro_rules! cx {
        () => {
            WsCtx {
                conn: &mut conn,
                info: &info,
                requests: &mut requests,
                shared: &shared,
                members: &members,
                commands: &mut commands,
            }
        };
    }
    protocol.established(session.as_mut(), &mut cx!());
    if !leftover.is_empty() {
        conn.handle_input(start, &leftover);
    }
    // The leftover may share the HTTP read buffer's allocation: let it go before the connection idles.
    drop(leftover);
    let mut out: Vec<u8> = Vec::new();
    let mut sent = 0usize;
    let mut needs_flush = false;
    let mut last_rx = start;
    let mut pinged = false;
    let mut user_timer: Option<Instant> = None;
    let mut close: Option<CloseInfo> = None;
    let mut draining = *shutdown.borrow_and_update();
    if draining {
        requests.closed = true;
        conn.close(1001, "server shutting down");
    }
    // The loop's timer and wake-up futures end with it, before the final flush waits on its own timer.
    {
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        // Long-lived wake-up futures, polled again rather than re-created on every turn of the loop.
        let mut woken = Box::pin(shared.wake.notified());
        let shutdown_signal = shutdown.changed();
        tokio::pin!(shutdown_signal);
        let mut armed: Option<Instant> = None;
        loop {
            let now = Instant::now();
            while let Some(ev) = conn.poll_event() {
                match ev {
                    WsEvent::Message { kind, data } => {
                        let msg = WsMessage {
                            kind,
                            data: &data,
                            first: true,
                            fin: true,
                        };
                        protocol.message(session.as_mut(), &mut cx!(), msg);
                    }
                    WsEvent::Fragment {
                        kind,
                        data,
                        first,
                        fin,
                    } => {
                        let msg = WsMessage {
                            kind,
                            data: &data,
                            first,
                            fin,
                        };
                        protocol.message(session.as_mut(), &mut cx!(), msg);
                    }
                    WsEvent::Ping(_) | WsEvent::Pong(_) => {}
                    WsEvent::Close { code, reason } => {
                        // The peer's Close answers ours when we (protocol, handle or shutdown) spoke first.
                        close = Some(CloseInfo {
                            code,
                            reason,
                            by_peer: !requests.closed,
                        });
                    }
                    WsEvent::Error(e) => {
                        tracing::debug!(peer = ?info.peer, "websocket: {e}");
                        close.get_or_insert(CloseInfo {
                            code: Some(e.close_code()),
                            reason: e.to_string(),
                            by_peer: false,
                        });
                    }
                    _ => {}
                }
            }
            while let Some(cmd) = commands.try_recv() {
                apply(&mut conn, &mut requests, cmd);
            }
            let queued = conn.pending_transmit() + (out.len() - sent);
            if queued < LOW_WATER
                && (requests.writable | shared.take_writable())
                && conn.state() == WsState::Open
            {
                requests.writable = false;
                protocol.writable(session.as_mut(), &mut cx!());
            }
            if let Some(t) = requests.timer.take() {
                user_timer = t.map(|d| now + d);
            }
            if sent == out.len() {
                sent = 0;
                out.clear();
                if out.capacity() > KEEP_OUT_CAPACITY {
                    out = Vec::new();
                }
            }
            conn.poll_transmit(&mut out);
            shared.unsent.store(out.len() - sent, Ordering::Relaxed);
            if conn.is_closed() && sent == out.len() && !needs_flush {
                break;
            }
            let deadline = [
                conn.poll_timeout(),
                user_timer,
                (!pinged).then(|| last_rx + validity.ping_after),
                Some(last_rx + validity.hangup_after),
            ]
            .into_iter()
            .flatten()
            .min();
            crate::deadline::arm_earlier(timer.as_mut(), &mut armed, deadline);
            let want_write = sent < out.len();
            let want_read = !shared.rx_paused() && out.len() - sent < HIGH_WATER && reading(&conn);
            let io_ready = std::future::poll_fn(|cx| {
                poll_io(
                    &mut io,
                    cx,
                    &mut conn,
                    &out[sent..],
                    want_read,
                    want_write,
                    needs_flush,
                )
            });
            tokio::select! {
                ev = io_ready => match ev {
                    IoEvent::Read => {
                        last_rx = Instant::now();
                        pinged = false;
                    }
                    IoEvent::Wrote(n) => {
                        sent += n;
                        needs_flush = true;
                    }
                    IoEvent::Flushed => needs_flush = false,
                    IoEvent::Eof => {
                        conn.handle_eof(Instant::now());
                        if conn.is_closed() || !reading(&conn) {
                            break;
                        }
                    }
                    IoEvent::Failed => break,
                },
                _ = &mut timer, if armed.is_some() => {
                    armed = None;
                    let now = Instant::now();
                    conn.handle_timeout(now);
                    if user_timer.is_some_and(|t| t <= now) {
                        user_timer = None;
                        protocol.timer(session.as_mut(), &mut cx!());
                    }
                    if now >= last_rx + validity.hangup_after {
                        tracing::debug!(peer = ?info.peer, "websocket: no traffic, hanging up");
                        break;
                    }
                    if !pinged && now >= last_rx + validity.ping_after {
                        pinged = true;
                        let _ = conn.send_ping(b"");
                    }
                }
                _ = woken.as_mut() => woken.set(shared.wake.notified()),
                cmd = commands.recv(), if commands.active() => {
                    if let Some(cmd) = cmd {
                        apply(&mut conn, &mut requests, cmd);
                    }
                }
                _ = &mut shutdown_signal, if !draining => {
                    draining = true;
                    requests.closed = true;
                    conn.close(1001, "server shutting down");
                }
            }
        }
    }
    members.leave(shared.id);
    let close = close.unwrap_or(CloseInfo {
        code: None,
        reason: String::new(),
        by_peer: false,
    });
    protocol.closed(session.as_mut(), &close);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::io::AsyncWriteExt::shutdown(&mut io),
    )
    .await;
    close
}

/// Whether the peer may still send us anything worth reading (frames, or its Close).
fn reading(conn: &WsConn) -> bool {
    matches!(conn.state(), WsState::Open | WsState::Closing)
}

/// Commands from [`super::WsHandle`]s; the channel exists only once a handle was taken, so connections
/// nobody sends to from elsewhere pay nothing for it.
#[derive(Debug, Default)]
pub(crate) struct CommandQueue {
    tx: Option<mpsc::Sender<Command>>,
    rx: Option<mpsc::Receiver<Command>>,
}

impl CommandQueue {
    /// A sender, creating the channel on first use.
    pub(crate) fn sender(&mut self) -> mpsc::Sender<Command> {
        if let Some(tx) = &self.tx {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(64);
        self.rx = Some(rx);
        self.tx = Some(tx.clone());
        tx
    }

    fn active(&self) -> bool {
        self.rx.is_some()
    }

    fn try_recv(&mut self) -> Option<Command> {
        self.rx.as_mut()?.try_recv().ok()
    }

    async fn recv(&mut self) -> Option<Command> {
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
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

/// Polls the socket for whatever the connection needs: writing queued bytes (or flushing them), and
/// reading into the per-thread buffer, which is fed to the engine at once.
fn poll_io<S: Transport>(
    io: &mut S,
    cx: &mut std::task::Context<'_>,
    conn: &mut WsConn,
    pending: &[u8],
    want_read: bool,
    want_write: bool,
    needs_flush: bool,
) -> Poll<IoEvent> {
    if want_write {
        match Pin::new(&mut *io).poll_write(cx, pending) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(IoEvent::Failed),
            Poll::Ready(Ok(n)) => return Poll::Ready(IoEvent::Wrote(n)),
            Poll::Pending => {}
        }
    } else if needs_flush {
        match Pin::new(&mut *io).poll_flush(cx) {
            Poll::Ready(Ok(())) => return Poll::Ready(IoEvent::Flushed),
            Poll::Ready(Err(_)) => return Poll::Ready(IoEvent::Failed),
            Poll::Pending => {}
        }
    }
    if want_read {
        return READ_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            let mut rb = ReadBuf::new(&mut buf[..]);
            match Pin::new(&mut *io).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => Poll::Ready(IoEvent::Eof),
                Poll::Ready(Ok(())) => {
                    if rb.remaining() > 0 {
                        io.read_drained();
                    }
                    conn.handle_input(Instant::now(), rb.filled());
                    Poll::Ready(IoEvent::Read)
                }
                Poll::Ready(Err(_)) => Poll::Ready(IoEvent::Failed),
                Poll::Pending => Poll::Pending,
            }
        });
    }
    Poll::Pending
}
