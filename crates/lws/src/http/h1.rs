//! The HTTP/1.x connection driver: one task per connection feeding `lws_proto::http1::H1Conn`, dispatching
//! its requests and writing what it frames.

use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lws_proto::http1::{BodyKind, Event, H1Conn, H1Error, RequestHead, ResponseLength};
use lws_proto::uri::Target;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::access_log::LogEntry;
use crate::listen::{ConnGuard, PortShared};
use crate::vhost::{select_vhost, vhost_for_request};

use super::ctx::Reply;
use super::dispatch::{response_headers, Exchange, OutBody, Outgoing};
use super::{Request, Response};

/// Facts about an accepted connection that routing needs.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) tls: bool,
    /// The TLS SNI name, which picks the vhost for every request on the connection.
    pub(crate) sni: Option<String>,
    /// Plain HTTP that arrived on a TLS port of a vhost with `redirect-http`: every request gets a 301.
    pub(crate) plain_on_tls: bool,
}

/// Bodies up to this size are read whole and written together with the head.
const SMALL_FILE: u64 = 64 * 1024;
/// Piece size for larger file bodies.
const FILE_PIECE: usize = 256 * 1024;
/// Read size per socket read.
const READ_SIZE: usize = 16 * 1024;

/// Serves HTTP/1.x on `io` until the peer leaves, an error ends it, or shutdown drains it. `guard` counts the
/// connection as live; a WebSocket, which runs on as a task of its own, takes another.
pub(crate) async fn serve<S>(
    io: S,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    guard: &ConnGuard,
) where
    S: crate::transport::Transport + Send + 'static,
{
    let next_shutdown = shutdown.clone();
    // Each phase is its own allocation, freed when the phase ends: an idle WebSocket then keeps only its
    // own small state, not the larger HTTP driver's (a task's future is sized for its largest state).
    let Some((io, leftover, next)) = Box::pin(serve_http(io, info, port, shutdown)).await else {
        return;
    };
    if let Some(h2) = next_phase(io, leftover, next, next_shutdown, guard) {
        h2.await;
    }
}

/// Starts the phase after HTTP/1.x, outside any `async` body so that the parts it is made from take no room
/// in the connection task's state. A WebSocket runs as a task of its own, with its own guard: this task (and
/// its allocation, sized for the HTTP/1.x phase's bookkeeping) then ends, and the WebSocket's state lives in
/// the new task's allocation. HTTP/2 is returned, in an allocation of its own, to be run in place.
fn next_phase<S>(
    io: S,
    leftover: bytes::Bytes,
    next: Next,
    shutdown: watch::Receiver<bool>,
    guard: &ConnGuard,
) -> Option<Pin<Box<impl Future<Output = ()>>>>
where
    S: crate::transport::Transport + Send + 'static,
{
    match next {
        Next::Ws(setup) => {
            let ws =
                crate::ws::driver::serve_keeping(io, leftover, setup, shutdown, guard.handoff());
            tokio::spawn(ws);
            None
        }
        Next::H2(h2) => {
            let (start, info, port) = *h2;
            let start = Box::new(start.with_leftover(leftover));
            Some(Box::pin(super::h2::serve(io, info, port, shutdown, start)))
        }
    }
}

/// What runs on the connection after HTTP/1.x. The HTTP/2 case carries the connection facts, boxed, so that
/// the WebSocket case does not carry room for them.
// Moved once per connection; boxing the WebSocket setup would cost every upgrade an allocation.
#[allow(clippy::large_enum_variant)]
enum Next {
    Ws(crate::ws::driver::WsSetup),
    H2(Box<(super::h2::Start, ConnInfo, Arc<PortShared>)>),
}

/// What the connection turns into when it stops speaking HTTP/1.x.
// Moved once per connection; boxing the WebSocket setup would cost every upgrade an allocation.
#[allow(clippy::large_enum_variant)]
enum Handoff {
    /// A WebSocket upgrade's 101 went out.
    Ws(crate::ws::driver::WsSetup),
    /// HTTP/2: prior knowledge (the client preface arrived first) or `Upgrade: h2c`.
    H2(Box<super::h2::Start>),
}

/// Serves a TLS connection for which ALPN chose HTTP/2.
#[cfg(feature = "tls")]
pub(crate) async fn serve_h2<S>(
    io: S,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) where
    S: crate::transport::Transport,
{
    let start = Box::new(super::h2::Start::Direct {
        initial: bytes::Bytes::new(),
    });
    Box::pin(super::h2::serve(io, info, port, shutdown, start)).await;
}

/// HTTP/1.x until the connection ends, or until it switches protocol: then the socket, the bytes already
/// read past the last request, and what comes next.
async fn serve_http<S>(
    io: S,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) -> Option<(S, bytes::Bytes, Next)>
where
    S: crate::transport::Transport,
{
    let first = select_vhost(&port.vhosts, info.sni.as_deref()).clone();
    let h2c = !info.tls && first.alpn.iter().any(|a| a == "h2");
    let mut driver = Driver {
        fresh: h2c,
        h2c,
        conn: H1Conn::new(first.h1.clone(), Instant::now()),
        io_timeout: first.limits.io_timeout,
        io,
        out: Vec::new(),
        filebuf: Vec::new(),
        info,
        port,
        ex: None,
        handoff: None,
    };
    let handoff = driver.run(shutdown).await?;
    let leftover = driver.conn.take_remaining();
    let (io, info, port) = driver.into_parts();
    let next = match handoff {
        Handoff::Ws(setup) => Next::Ws(setup),
        Handoff::H2(start) => Next::H2(Box::new((*start, info, port))),
    };
    Some((io, leftover, next))
}

struct Driver<S> {
    io: S,
    conn: H1Conn,
    out: Vec<u8>,
    filebuf: Vec<u8>,
    info: ConnInfo,
    port: Arc<PortShared>,
    ex: Option<Exchange>,
    io_timeout: Duration,
    /// A protocol switch accepted for the current request, started once its 101 is written.
    handoff: Option<Handoff>,
    /// Nothing was read yet and HTTP/2 prior knowledge is allowed: the first bytes decide.
    fresh: bool,
    /// HTTP/2 over cleartext (prior knowledge, `Upgrade: h2c`) is enabled.
    h2c: bool,
}

/// The connection cannot continue (write failed or stalled, file read failed).
pub(crate) struct Abort;

impl<S> Driver<S> {
    /// The socket and the connection facts, dropping all HTTP state.
    fn into_parts(self) -> (S, ConnInfo, Arc<PortShared>) {
        (self.io, self.info, self.port)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// Serves requests; returns what to run next when the connection switches protocol.
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) -> Option<Handoff> {
        let mut draining = *shutdown.borrow_and_update();
        if draining {
            self.conn.close_after_response();
        }
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        let shutdown_signal = shutdown.changed();
        tokio::pin!(shutdown_signal);
        let mut armed: Option<Instant> = None;
        loop {
            self.drain_events();
            let Ok(sent) = self.send_ready().await else {
                return None;
            };
            if self.flush().await.is_err() {
                return None;
            }
            if self.conn.is_upgraded() {
                return self.handoff.take();
            }
            if sent {
                // Finishing a response lets the engine parse a pipelined request already buffered (or fail
                // on it, which still deserves its error response).
                continue;
            }
            if self.conn.is_closed() || (draining && self.conn.is_idle()) {
                break;
            }
            let deadline = self.conn.poll_timeout();
            let wants_input = self.conn.wants_input();
            let deferred = self.ex.as_mut().and_then(|ex| match &mut ex.reply {
                Reply::Deferred(rx) => Some(rx),
                _ => None,
            });
            let has_deferred = deferred.is_some();
            let (io, conn, fresh) = (&mut self.io, &mut self.conn, &mut self.fresh);
            // In this order, and the timer armed only when it is polled: a request already waiting is served
            // without the head timer ever being registered (arming a timer earlier than the runtime's next
            // wake-up costs that wake-up a write to its eventfd).
            let timed_out = std::future::poll_fn(|cx| {
                crate::deadline::arm_earlier(timer.as_mut(), &mut armed, deadline);
                timer.as_mut().poll(cx)
            });
            tokio::select! {
                biased;
                r = std::future::poll_fn(|cx| poll_input(cx, io, conn, fresh)), if wants_input => match r {
                    Input::Read => {}
                    Input::Eof => self.conn.handle_eof(Instant::now()),
                    Input::H2(initial) => {
                        let start = super::h2::Start::Direct { initial };
                        return Some(Handoff::H2(Box::new(start)));
                    }
                    Input::Failed => return None,
                },
                r = async { deferred.expect("guarded by has_deferred").await }, if has_deferred => {
                    if let Some(ex) = self.ex.as_mut() {
                        ex.reply = Reply::Ready(r.unwrap_or_else(|_| Response::error(500)));
                    }
                }
                _ = &mut shutdown_signal, if !draining => {
                    draining = true;
                    self.conn.close_after_response();
                }
                _ = timed_out, if deadline.is_some() => {
                    armed = None;
                    self.conn.handle_timeout(Instant::now());
                }
                else => break,
            }
        }
        self.close().await;
        None
    }

    /// Hands engine events to routing and handlers.
    fn drain_events(&mut self) {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                Event::Request(head) => self.on_request(head),
                Event::Data(d) => {
                    if let Some(ex) = self.ex.as_mut() {
                        ex.body(&d);
                    }
                }
                Event::End(_) => {
                    if let Some(ex) = self.ex.as_mut() {
                        ex.body_complete();
                    }
                }
                Event::Error(e) => self.on_error(e),
            }
        }
    }

    fn on_request(&mut self, head: RequestHead) {
        let vhost = vhost_for_request(&self.port.vhosts, self.info.sni.as_deref(), &head).clone();
        let has_body = head.body_kind() != BodyKind::Empty;
        let parsed = Target::parse_with_limit(head.target().as_bytes(), vhost.h1.max_head);
        let refused = parsed.as_ref().err().map(|e| e.status());
        let req = Request {
            target: parsed.unwrap_or_else(|_| root_target()),
            head,
            mountpoint_len: 0,
            peer: self.info.peer,
            tls: self.info.tls,
            vhost: vhost.name.clone(),
            user: None,
        };
        let ex = match refused {
            Some(status) => Exchange::refused(req, vhost, status),
            None if !self.info.plain_on_tls && crate::ws::upgrade::is_websocket(&req.head) => {
                match crate::ws::upgrade::prepare(&req, &vhost, false) {
                    Ok((switch, setup)) => {
                        self.handoff = Some(Handoff::Ws(setup));
                        Exchange::answered(req, vhost, switch)
                    }
                    Err(refusal) => Exchange::answered(req, vhost, refusal),
                }
            }
            None if self.h2c && !has_body => match h2c_upgrade(&req.head) {
                Some(settings) => {
                    let switch = Outgoing {
                        file: None,
                        status: 101,
                        headers: vec![("upgrade".into(), bytes::Bytes::from_static(b"h2c"))],
                        body: OutBody::Empty,
                    };
                    let head = req.head.clone();
                    self.handoff = Some(Handoff::H2(Box::new(super::h2::Start::Upgrade {
                        head,
                        settings,
                        leftover: bytes::Bytes::new(),
                    })));
                    Exchange::answered(req, vhost, switch)
                }
                None => Exchange::start(req, vhost, self.info.plain_on_tls),
            },
            None => Exchange::start(req, vhost, self.info.plain_on_tls),
        };
        if has_body && ex.wants_body() {
            self.conn.set_body_limit(ex.body_limit);
            self.conn.accept_body(Instant::now());
        }
        self.ex = Some(ex);
    }

    fn on_error(&mut self, e: H1Error) {
        tracing::debug!(peer = ?self.info.peer, "http/1: {e}");
        let Some(status) = e.status() else { return };
        if self.conn.response_in_progress() {
            return;
        }
        match self.ex.as_mut() {
            Some(ex) => ex.fail(status),
            None => {
                let vhost = select_vhost(&self.port.vhosts, self.info.sni.as_deref()).clone();
                let req = Request {
                    target: root_target(),
                    head: RequestHead::placeholder(),
                    mountpoint_len: 0,
                    peer: self.info.peer,
                    tls: self.info.tls,
                    vhost: vhost.name.clone(),
                    user: None,
                };
                let mut ex = Exchange::refused(req, vhost, status);
                ex.unlogged = true;
                self.ex = Some(ex);
            }
        }
    }

    /// Sends the current exchange's answer if it is ready; tells whether it did.
    async fn send_ready(&mut self) -> Result<bool, Abort> {
        let Some(ex) = self.ex.as_mut() else {
            return Ok(false);
        };
        let out = match std::mem::replace(&mut ex.reply, Reply::Sent) {
            Reply::Ready(r) => Outgoing::from_response(r),
            Reply::Wire(o) => o,
            other => {
                ex.reply = other;
                return Ok(false);
            }
        };
        let status = out.status;
        let sent = self.write_response(out).await?;
        if let Some(ex) = self.ex.take() {
            log_exchange(&ex, status, sent);
        }
        Ok(true)
    }

    /// Writes head and body; returns the body bytes sent.
    async fn write_response(&mut self, o: Outgoing) -> Result<u64, Abort> {
        self.write_head(&o);
        let suppressed = self.conn.body_suppressed();
        let sent = match o.body {
            OutBody::Empty => 0,
            OutBody::Full(b) => {
                self.conn.send_data(&b);
                b.len() as u64
            }
            OutBody::File { .. } if suppressed => 0,
            OutBody::File { file, start, len } => self.send_file(&file, start, len).await?,
            OutBody::Stream(mut rx) => {
                let mut total = 0;
                loop {
                    self.flush().await?;
                    match rx.recv().await {
                        Some(piece) => {
                            total += piece.len() as u64;
                            self.conn.send_data(&piece);
                        }
                        None => break,
                    }
                }
                total
            }
        };
        self.conn.finish_response(Instant::now());
        Ok(if suppressed { 0 } else { sent })
    }

    fn write_head(&mut self, o: &Outgoing) {
        let length = match &o.body {
            OutBody::Empty => ResponseLength::Empty,
            OutBody::Full(b) => ResponseLength::Known(b.len() as u64),
            OutBody::File { len, .. } => ResponseLength::Known(*len),
            OutBody::Stream(_) => ResponseLength::Streamed,
        };
        let mut w = self.conn.start_response(o.status, length);
        let server = self.port.server.server_string.as_bytes();
        let fallback = &self.port.vhosts[0];
        response_headers(o, self.ex.as_ref(), fallback, server, |n, v| {
            w.header(n, v);
        });
        w.finish();
    }

    async fn send_file(
        &mut self,
        file: &std::fs::File,
        start: u64,
        len: u64,
    ) -> Result<u64, Abort> {
        // File reads are synchronous, as in libwebsockets: origin files are expected on local storage where
        // a read costs less than a hand-off to a blocking thread pool.
        if len <= SMALL_FILE {
            self.filebuf.resize(len as usize, 0);
            file.read_exact_at(&mut self.filebuf, start)
                .map_err(|_| Abort)?;
            self.conn.send_data(&self.filebuf);
            return Ok(len);
        }
        self.flush().await?;
        self.filebuf.resize(FILE_PIECE, 0);
        let mut offset = start;
        let end = start + len;
        while offset < end {
            let n = ((end - offset) as usize).min(FILE_PIECE);
            file.read_exact_at(&mut self.filebuf[..n], offset)
                .map_err(|_| Abort)?;
            write_timeout(&mut self.io, &self.filebuf[..n], self.io_timeout).await?;
            self.conn.body_sent_externally(n as u64);
            offset += n as u64;
        }
        self.filebuf = Vec::new();
        Ok(len)
    }

    async fn flush(&mut self) -> Result<(), Abort> {
        self.conn.poll_transmit(&mut self.out);
        if self.out.is_empty() {
            return Ok(());
        }
        let r = write_timeout(&mut self.io, &self.out, self.io_timeout).await;
        self.out.clear();
        r
    }

    /// Closes the connection; after a protocol error, keeps reading briefly so that the peer sees our error
    /// response instead of a reset caused by its own unread bytes.
    async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.io.shutdown()).await;
        if self.conn.needs_linger() {
            let mut budget = 256 * 1024usize;
            let io = &mut self.io;
            // The discarded input goes through the thread's read buffer: a buffer kept across this await
            // would be part of every connection task's state.
            let linger = std::future::poll_fn(|cx| {
                while budget > 0 {
                    let read = crate::transport::with_read_buf(|buf| {
                        let mut rb = tokio::io::ReadBuf::new(&mut buf[..4096]);
                        Pin::new(&mut *io)
                            .poll_read(cx, &mut rb)
                            .map_ok(|()| rb.filled().len())
                    });
                    match std::task::ready!(read) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => budget = budget.saturating_sub(n),
                    }
                }
                std::task::Poll::Ready(())
            });
            let _ = tokio::time::timeout(Duration::from_secs(2), linger).await;
        }
    }
}

/// What one read of the connection did.
enum Input {
    /// Bytes were read and given to the engine.
    Read,
    Eof,
    /// The client spoke first with the HTTP/2 preface: these bytes belong to HTTP/2.
    H2(bytes::Bytes),
    Failed,
}

/// Reads once through the thread's read buffer and hands the bytes to the engine at once.
fn poll_input<S: AsyncRead + Unpin>(
    cx: &mut std::task::Context<'_>,
    io: &mut S,
    conn: &mut H1Conn,
    fresh: &mut bool,
) -> std::task::Poll<Input> {
    crate::transport::with_read_buf(|buf| {
        let mut rb = tokio::io::ReadBuf::new(&mut buf[..READ_SIZE]);
        match Pin::new(io).poll_read(cx, &mut rb) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(Err(_)) => std::task::Poll::Ready(Input::Failed),
            std::task::Poll::Ready(Ok(())) => {
                let data = rb.filled();
                std::task::Poll::Ready(if data.is_empty() {
                    Input::Eof
                } else if *fresh && data.starts_with(b"PRI ") {
                    Input::H2(bytes::Bytes::copy_from_slice(data))
                } else {
                    *fresh = false;
                    crate::file_cache::new_batch();
                    conn.handle_input(Instant::now(), data);
                    Input::Read
                })
            }
        }
    })
}

pub(crate) async fn write_timeout<S: AsyncWrite + Unpin>(
    io: &mut S,
    data: &[u8],
    limit: Duration,
) -> Result<(), Abort> {
    let write = async {
        io.write_all(data).await?;
        io.flush().await
    };
    tokio::pin!(write);
    // Most writes complete at once; arm the stall timer only for one that has to wait for the peer.
    let first = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::future::Future::poll(write.as_mut(), cx))
    })
    .await;
    let result = match first {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => match tokio::time::timeout(limit, write).await {
            Ok(r) => r,
            Err(_) => return Err(Abort),
        },
    };
    result.map_err(|_| Abort)
}

/// An `Upgrade: h2c` request (RFC 7540 §3.2) with its decoded `HTTP2-Settings`, if the request is one.
fn h2c_upgrade(head: &RequestHead) -> Option<Vec<u8>> {
    use base64::Engine;
    if !head.header_has_token("upgrade", "h2c")
        || !head.header_has_token("connection", "upgrade")
        || !head.header_has_token("connection", "http2-settings")
    {
        return None;
    }
    let value = head.header("http2-settings")?.trim_ascii();
    let value = value
        .strip_suffix(b"==")
        .or(value.strip_suffix(b"="))
        .unwrap_or(value);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()
}

pub(crate) fn root_target() -> Target {
    Target::parse(b"/").unwrap_or_else(|_| unreachable!("\"/\" is a valid target"))
}

pub(crate) fn log_exchange(ex: &Exchange, status: u16, bytes: u64) {
    let Some(log) = &ex.vhost.access_log else {
        return;
    };
    if ex.unlogged {
        return;
    }
    let req = &ex.req;
    log.write(&LogEntry {
        peer: req.peer.map(|p| p.ip()),
        user: req.user.as_deref(),
        request_line: (req.method(), req.raw_target(), req.version().as_str()),
        status,
        bytes,
        referer: req.header("referer"),
        user_agent: req.header("user-agent"),
    });
}
