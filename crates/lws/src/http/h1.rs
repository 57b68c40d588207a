//! The HTTP/1.x connection driver: one task per connection feeding `lws_proto::http1::H1Conn`, dispatching
//! its requests and writing what it frames.

use std::future::Future;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lws_proto::http1::{BodyKind, Event, H1Conn, H1Error, RequestHead, ResponseLength};
use lws_proto::uri::Target;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::conn::{write_timeout, Abort, ConnInfo, H2cUpgrade, Handoff, PortShared, Switched};
use crate::vhost::{select_vhost, vhost_for_request};

use super::ctx::Reply;
use super::dispatch::{response_headers, root_target, Exchange, OutBody, Outgoing};
use super::{Request, Response};

/// Bodies up to this size are read whole and written together with the head.
const SMALL_FILE: u64 = 64 * 1024;
/// Piece size for larger file bodies.
const FILE_PIECE: usize = 256 * 1024;
/// Read size per socket read.
const READ_SIZE: usize = 16 * 1024;

/// Serves HTTP/1.x on `io` until the peer leaves, an error ends it, or shutdown drains it; `initial` are
/// bytes the connection entry read while finding out what the peer speaks. When the connection switches
/// protocol, returns the socket, the bytes already read past the last request, and what comes next: the
/// connection entry starts it.
pub(crate) async fn serve<S>(
    io: S,
    initial: bytes::Bytes,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
) -> Option<Switched<S>>
where
    S: crate::transport::Transport,
{
    let first = select_vhost(&port.vhosts, info.sni.as_deref()).clone();
    let h2c = !info.tls && port.h2c();
    let mut driver = Driver {
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
    if !initial.is_empty() {
        crate::file_cache::new_batch();
        driver.conn.handle_input(Instant::now(), &initial);
    }
    let handoff = driver.run(shutdown).await?;
    let leftover = driver.conn.take_remaining();
    Some(Switched {
        io: driver.io,
        leftover,
        handoff,
        info: driver.info,
    })
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
    /// HTTP/2 over cleartext (prior knowledge, `Upgrade: h2c`) is enabled.
    h2c: bool,
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
            let (io, conn) = (&mut self.io, &mut self.conn);
            // In this order, and the timer armed only when it is polled: a request already waiting is served
            // without the head timer ever being registered (arming a timer earlier than the runtime's next
            // wake-up costs that wake-up a write to its eventfd).
            let timed_out = std::future::poll_fn(|cx| {
                crate::deadline::arm_earlier(timer.as_mut(), &mut armed, deadline);
                timer.as_mut().poll(cx)
            });
            tokio::select! {
                biased;
                r = std::future::poll_fn(|cx| poll_input(cx, io, conn)), if wants_input => match r {
                    Input::Read => {}
                    Input::Eof => self.conn.handle_eof(Instant::now()),
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
                    self.handoff = Some(Handoff::H2(Box::new(H2cUpgrade { head, settings })));
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
            ex.log(status, sent);
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
    Failed,
}

/// Reads once through the thread's read buffer and hands the bytes to the engine at once.
fn poll_input<S: AsyncRead + Unpin>(
    cx: &mut std::task::Context<'_>,
    io: &mut S,
    conn: &mut H1Conn,
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
                } else {
                    crate::file_cache::new_batch();
                    conn.handle_input(Instant::now(), data);
                    Input::Read
                })
            }
        }
    })
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
