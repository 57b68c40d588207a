//! The HTTP/1.x connection driver: one task per connection feeding `lws_proto::http1::H1Conn`, dispatching
//! its requests and writing what it frames.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use lws_proto::http1::{BodyKind, Event, H1Conn, H1Error, RequestHead, ResponseLength, Trailers};
use lws_proto::uri::Target;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::sync::watch;

use crate::conn::{
    stall_limit, write_timeout, Abort, ConnInfo, H2cUpgrade, Handoff, PortShared, Switched,
};
use crate::transport::Transport;
use crate::vhost::{select_vhost, vhost_for_request};

use super::body::BodyError;
use super::dispatch::{response_headers, root_target, Exchange, OutBody, Outgoing};
use super::pump::{Next, Pump};
use super::Request;

/// Most bytes taken from a body at a time (file bodies that do not go by `sendfile` are read in pieces of
/// this size).
const FILE_PIECE: usize = 256 * 1024;
/// Body pieces at least this large go to the socket at once rather than through the engine's buffer.
const DIRECT_WRITE: usize = 64 * 1024;
/// Most file bytes handed to one `sendfile` call: the call copies inside the kernel and returns only when
/// done or the socket is full, so this bounds how long one connection holds the thread.
const SENDFILE_CHUNK: usize = 1024 * 1024;
/// Unsent bytes a connection sending a file may have queued in the kernel before it waits (see
/// `SendFile::limit_unsent`). Without a limit one `sendfile` queues a whole file: what the peer's window does
/// not take at once then leaves from the processing of the peer's ACKs, and on loopback the benchmark
/// measured half the throughput (the client's CPU did the sending) at a higher total CPU cost per request.
const SENDFILE_UNSENT: u32 = 128 * 1024;
/// Read size per socket read.
const READ_SIZE: usize = 16 * 1024;

/// Serves HTTP/1.x on `io` until the peer leaves, an error ends it, or shutdown drains it; `initial` are
/// bytes the connection entry read while finding out what the peer speaks. When the connection switches
/// protocol, `then` gets the socket, the bytes already read past the last request, and what comes next, and
/// makes what this future returns (the caller runs it once this state is freed).
///
/// The driver is built before the future: an `async fn` would keep its arguments in the future's state
/// beside the driver made from them, for the whole life of the connection.
pub(crate) fn serve<S, N>(
    io: S,
    initial: bytes::Bytes,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    then: impl FnOnce(Switched<S>) -> N,
) -> impl Future<Output = Option<N>>
where
    S: Transport,
{
    let first = select_vhost(&port.vhosts, info.sni.as_deref()).clone();
    let h2c = !info.tls && port.h2c();
    let mut driver = Driver {
        h2c,
        conn: H1Conn::new(Arc::clone(&first.h1), Instant::now()),
        io_timeout: first.limits.io_timeout,
        io,
        out: Vec::new(),
        info,
        port,
        ex: None,
        handoff: None,
        sending: None,
        unsent_limited: false,
    };
    if !initial.is_empty() {
        crate::file_cache::new_batch();
        driver.conn.handle_input(Instant::now(), &initial);
    }
    // The engine copied what it needs; the sniffed bytes' allocation must not live as long as the connection.
    drop(initial);
    async move {
        let handoff = driver.run(shutdown).await?;
        let leftover = driver.conn.take_remaining();
        Some(then(Switched {
            io: driver.io,
            leftover,
            handoff,
            info: driver.info,
        }))
    }
}

struct Driver<S> {
    io: S,
    conn: H1Conn,
    out: Vec<u8>,
    info: ConnInfo,
    port: Arc<PortShared>,
    /// The request in flight, boxed: an idle keep-alive connection holds a pointer, not an exchange.
    ex: Option<Box<Exchange>>,
    io_timeout: Duration,
    /// A protocol switch accepted for the current request, started once its 101 is written.
    handoff: Option<Box<Handoff>>,
    /// HTTP/2 over cleartext (prior knowledge, `Upgrade: h2c`) is enabled.
    h2c: bool,
    /// The response whose head went out and whose body is on its way.
    sending: Option<Sending>,
    /// The socket's unsent limit was set for sending files (once per connection).
    unsent_limited: bool,
}

/// A response being sent.
struct Sending {
    pump: Pump,
    status: u16,
    /// The body lasts as long as the client stays (`BodySource::open_ended`): the client's EOF ends it.
    open_ended: bool,
    /// The body is a file the socket takes with `sendfile` (see [`Driver::send_file`]).
    zero_copy: bool,
}

impl<S: Transport> Driver<S> {
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
            let Ok(progress) = self.advance().await else {
                return None;
            };
            if self.flush().await.is_err() {
                return None;
            }
            if self.conn.is_upgraded() {
                return self.handoff.take().map(|h| *h);
            }
            if progress {
                // Finishing a response lets the engine parse a pipelined request already buffered (or fail
                // on it, which still deserves its error response).
                continue;
            }
            if self.conn.is_closed() || (draining && self.conn.is_idle()) {
                break;
            }
            self.release_if_idle();
            // A handler reading the body at its own pace holds the connection's reading (and the body
            // timeout, which measures the peer, not the handler) while its pipe is full.
            let pipe_full = self
                .ex
                .as_ref()
                .and_then(|ex| ex.pipe())
                .is_some_and(|p| !p.has_room());
            let waits = Waits {
                input: self.conn.wants_input() && !pipe_full,
                pipe_full,
                shutdown: !draining,
                deadline: self.conn.poll_timeout().filter(|_| !pipe_full),
            };
            let woke = std::future::poll_fn(|cx| {
                self.poll_wake(
                    cx,
                    waits,
                    timer.as_mut(),
                    &mut armed,
                    shutdown_signal.as_mut(),
                )
            });
            // The wake is taken apart within this statement: held across the body's write below, it
            // would take room in every connection's state.
            let next = match woke.await {
                Wake::Next(next) => next,
                Wake::Input(Input::Read) => continue,
                Wake::Input(Input::Eof) if self.sending.as_ref().is_some_and(|s| s.open_ended) => {
                    // An event stream's client closed its side: it is gone, and the producer must learn
                    // so now rather than at a write failing long after.
                    self.finish_sending();
                    return None;
                }
                Wake::Input(Input::Eof) => {
                    self.conn.handle_eof(Instant::now());
                    continue;
                }
                Wake::Input(Input::Failed) => return None,
                Wake::PipeRoom => {
                    self.conn.restart_body_timer(Instant::now());
                    continue;
                }
                Wake::Answer(r) => {
                    if let Some(ex) = self.ex.as_mut() {
                        ex.take_answer(r);
                    }
                    continue;
                }
                Wake::Shutdown => {
                    draining = true;
                    self.conn.close_after_response();
                    continue;
                }
                Wake::Timeout => {
                    armed = None;
                    self.conn.handle_timeout(Instant::now());
                    continue;
                }
                Wake::Nothing => break,
            };
            if let Some(wait) = self.on_next(next) {
                if wait.await.is_err() {
                    return None;
                }
            }
        }
        Box::pin(self.close()).await;
        None
    }

    /// Polls everything a connection between steps waits for, in order of precedence: its input, room in a
    /// full request body pipe, a deferred answer, the next piece of the body being sent, shutdown, and the
    /// engine's next deadline. One hand-written poll rather than `select!`: the state it keeps is a few
    /// references, and it lives in every idle connection.
    fn poll_wake(
        &mut self,
        cx: &mut std::task::Context<'_>,
        waits: Waits,
        mut timer: std::pin::Pin<&mut tokio::time::Sleep>,
        armed: &mut Option<Instant>,
        shutdown: std::pin::Pin<&mut impl Future>,
    ) -> Poll<Wake> {
        if waits.input {
            if let Poll::Ready(r) = poll_input(cx, &mut self.io, &mut self.conn) {
                return Poll::Ready(Wake::Input(r));
            }
        }
        let pipe = self.ex.as_ref().and_then(|ex| ex.pipe());
        if let Some(pipe) = pipe.filter(|_| waits.pipe_full) {
            if pipe.poll_room(cx).is_ready() {
                return Poll::Ready(Wake::PipeRoom);
            }
        }
        // Something is still to come while any of these is waited for; with none, the connection is done.
        let mut waiting = waits.input || waits.pipe_full || waits.shutdown;
        let reply = self.ex.as_mut().map(|ex| &mut ex.reply);
        if let Some(reply) = reply.filter(|r| r.is_awaited()) {
            waiting = true;
            if let Poll::Ready(r) = reply.poll_answer(cx) {
                return Poll::Ready(Wake::Answer(r));
            }
        }
        if let Some(s) = self.sending.as_mut() {
            waiting = true;
            if let Poll::Ready(next) = s.pump.poll_next(FILE_PIECE, cx) {
                return Poll::Ready(Wake::Next(next));
            }
        }
        if waits.shutdown && shutdown.poll(cx).is_ready() {
            return Poll::Ready(Wake::Shutdown);
        }
        // Armed only when polled: a request already waiting is served without the head timer ever being
        // registered (arming a timer earlier than the runtime's next wake-up costs that wake-up a write to
        // its eventfd).
        if waits.deadline.is_some() {
            crate::deadline::arm_earlier(timer.as_mut(), armed, waits.deadline);
            if timer.poll(cx).is_ready() {
                return Poll::Ready(Wake::Timeout);
            }
            waiting = true;
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(Wake::Nothing)
        }
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
                Event::End(trailers) => {
                    if let Some(ex) = self.ex.as_mut() {
                        ex.body_complete(trailer_fields(trailers));
                    }
                }
                Event::Error(e) => self.on_error(e),
            }
        }
    }

    fn on_request(&mut self, head: RequestHead) {
        let vhost = vhost_for_request(&self.port.vhosts, self.info.sni.as_deref(), &head).clone();
        let has_body = head.body_kind() != BodyKind::Empty;
        let parsed = Target::parse_with_limit(head.target_bytes(), vhost.h1.max_head);
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
            None if !self.info.plain_on_tls
                && crate::ws::upgrade::is_websocket(&req.head)
                && !Exchange::is_proxied(&vhost, req.path()) =>
            {
                match crate::ws::upgrade::prepare(&req, &vhost, false) {
                    Ok((switch, setup)) => {
                        self.handoff = Some(Box::new(Handoff::Ws(setup)));
                        Exchange::answered(req, vhost, switch)
                    }
                    Err(refusal) => Exchange::answered(req, vhost, *refusal),
                }
            }
            None if self.h2c && !has_body => match h2c_upgrade(&req.head) {
                Some(settings) => {
                    let switch = Outgoing {
                        file: None,
                        status: 101,
                        headers: vec![("upgrade".into(), bytes::Bytes::from_static(b"h2c"))],
                        body: OutBody::Empty,
                        tunnel: None,
                    };
                    let head = req.head.clone();
                    self.handoff = Some(Box::new(Handoff::H2(Box::new(H2cUpgrade {
                        head,
                        settings,
                    }))));
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
        self.ex = Some(Box::new(ex));
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
                self.ex = Some(Box::new(ex));
            }
        }
    }

    /// Starts the current exchange's answer if it is ready and sends what its body has ready; tells whether
    /// anything moved.
    async fn advance(&mut self) -> Result<bool, Abort> {
        let started = self.sending.is_none() && self.start_ready();
        let mut progress = started;
        while let Some(s) = self.sending.as_mut() {
            if s.zero_copy {
                s.zero_copy = false;
                progress = true;
                // Boxed: the file loop's state is needed only while a large file goes out.
                Box::pin(self.send_file()).await?;
            }
            let Some(s) = self.sending.as_mut() else {
                break;
            };
            let next =
                std::future::poll_fn(|cx| Poll::Ready(s.pump.poll_next(FILE_PIECE, cx))).await;
            let Poll::Ready(next) = next else {
                break;
            };
            progress = true;
            if let Some(wait) = self.on_next(next) {
                wait.await?;
            }
        }
        Ok(progress)
    }

    /// Writes the head of the current exchange's answer if it is ready.
    fn start_ready(&mut self) -> bool {
        let Some(ex) = self.ex.as_mut() else {
            return false;
        };
        let Some(mut out) = ex.take_outgoing() else {
            return false;
        };
        if let Some(tunnel) = out.tunnel.take().filter(|_| out.status == 101) {
            // A proxied WebSocket: after this 101 the connection is joined to the origin's.
            self.handoff = Some(Box::new(Handoff::Proxy(tunnel)));
        }
        self.write_head(&out);
        let body = if self.conn.body_suppressed() {
            // HEAD, 204, 304: the body is not read at all, and its producer learns the client is gone.
            OutBody::Empty
        } else {
            out.body
        };
        // Small files go with the head in one write (one packet, a copy of under 64 KiB); larger ones the
        // kernel sends from the page cache. A file here is the raw bytes: a compressed one is a source.
        let zero_copy = matches!(&body, OutBody::File { len, .. }
                if *len >= DIRECT_WRITE as u64 && self.conn.body_remaining() == Some(*len))
            && self.io.send_file().is_some();
        let pump = Pump::new(body);
        self.sending = Some(Sending {
            open_ended: pump.open_ended(),
            pump,
            status: out.status,
            zero_copy,
        });
        true
    }

    /// Sends the file body of the response being sent with `sendfile`, after its head: the bytes go from the
    /// page cache to the socket without being read into (and copied out of) a buffer here. Each call waits
    /// for the socket with the same stall limit as a write. Afterwards the pump ends the body as usual (its
    /// count makes the access log's byte count).
    async fn send_file(&mut self) -> Result<(), Abort> {
        if let Some(to) = self.io.send_file() {
            if !self.unsent_limited {
                self.unsent_limited = true;
                to.limit_unsent(SENDFILE_UNSENT);
            }
            // The head waits in the kernel for the file's first bytes: one packet fewer per response.
            self.conn.poll_transmit(&mut self.out);
            let n = to.send_head(&self.out);
            self.out.drain(..n);
        }
        // What the socket did not take at once (rarely anything) goes the usual way.
        self.flush().await?;
        loop {
            let (Some(s), Some(to)) = (self.sending.as_mut(), self.io.send_file()) else {
                return Ok(());
            };
            let pump = &mut s.pump;
            let step = std::future::poll_fn(|cx| pump.poll_send_file(cx, SENDFILE_CHUNK, to));
            match stall_limit(step, self.io_timeout).await {
                Some(None) => return Ok(()),
                Some(Some(Ok(0))) => {
                    // The file shrank while being sent: the client must not take what it got for all.
                    let e = BodyError::new("the file ended before its length");
                    return self.finish_next(SlowNext::Abort(e)).await;
                }
                Some(Some(Ok(n))) => self.conn.body_sent_externally(n as u64),
                // The client left (EPIPE, ECONNRESET) or stopped reading: end the connection quietly, as a
                // failed write does.
                Some(Some(Err(_))) | None => return Err(Abort),
            }
        }
    }

    /// Puts the next piece of the body being sent on the wire; returns the wait for the socket when it takes
    /// one. Boxed: waiting is the rare case, and inline its state would take room in every connection's
    /// future for its whole life.
    fn on_next(
        &mut self,
        next: Next,
    ) -> Option<Pin<Box<impl Future<Output = Result<(), Abort>> + '_>>> {
        let slow = self.take_next(next)?;
        Some(Box::pin(self.finish_next(slow)))
    }

    /// Does what the next piece of the body needs without waiting; returns what is left that must wait for
    /// the socket.
    fn take_next(&mut self, next: Next) -> Option<SlowNext> {
        match next {
            Next::Data(d) if d.len() >= DIRECT_WRITE && self.conn.body_remaining().is_some() => {
                Some(SlowNext::Direct(d))
            }
            Next::Data(d) => {
                self.conn.send_data(&d);
                self.conn.poll_transmit(&mut self.out);
                (self.out.len() >= DIRECT_WRITE).then_some(SlowNext::Flush)
            }
            Next::Trailers(t) => {
                let fields: Vec<(&str, &[u8])> =
                    t.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
                self.conn
                    .finish_response_with_trailers(Instant::now(), &fields);
                self.finish_sending();
                None
            }
            Next::End => {
                self.conn.finish_response(Instant::now());
                self.finish_sending();
                None
            }
            Next::Abort(e) => Some(SlowNext::Abort(e)),
        }
    }

    /// The part of [`Driver::on_next`] that waits for the socket.
    async fn finish_next(&mut self, slow: SlowNext) -> Result<(), Abort> {
        match slow {
            SlowNext::Direct(d) => {
                // Large pieces of a body of known length skip the engine's buffer: one copy less.
                self.flush().await?;
                write_timeout(&mut self.io, &d, self.io_timeout).await?;
                self.conn.body_sent_externally(d.len() as u64);
                Ok(())
            }
            SlowNext::Flush => self.flush().await,
            SlowNext::Abort(e) => {
                // Closing without the rest of the body (or the last chunk) is how HTTP/1.1 says "failed".
                tracing::debug!(peer = ?self.info.peer, "response {e}");
                let _ = self.flush().await;
                if let Some(ex) = self.ex.take() {
                    ex.log(self.sending.as_ref().map_or(500, |s| s.status), 0);
                }
                Err(Abort)
            }
        }
    }

    /// The response is complete: log it and let the next request in.
    fn finish_sending(&mut self) {
        let Some(s) = self.sending.take() else { return };
        if let Some(ex) = self.ex.take() {
            ex.log(s.status, s.pump.sent());
        }
    }

    /// Between requests a keep-alive connection hands its buffers to the thread's pool: most of its life is
    /// spent waiting, and the next response on any connection of the thread frames into them.
    fn release_if_idle(&mut self) {
        if self.ex.is_none() && self.sending.is_none() && self.out.is_empty() && self.conn.is_idle()
        {
            crate::transport::give_out_buf(self.conn.release_idle_buffers());
            crate::transport::give_out_buf(std::mem::take(&mut self.out));
        }
    }

    fn write_head(&mut self, o: &Outgoing) {
        if self.conn.wants_tx() {
            self.conn.lend_tx(crate::transport::take_out_buf());
        }
        let length = match o.body.known_len() {
            Some(0) if matches!(o.body, OutBody::Empty) => ResponseLength::Empty,
            Some(n) => ResponseLength::Known(n),
            None => ResponseLength::Streamed,
        };
        let mut w = self.conn.start_response(o.status, length);
        let server = self.port.server.server_string.as_bytes();
        let fallback = &self.port.vhosts[0];
        response_headers(o, self.ex.as_deref(), fallback, server, &mut Lines(&mut w));
        w.finish();
    }

    async fn flush(&mut self) -> Result<(), Abort> {
        self.conn.poll_transmit(&mut self.out);
        // A plain socket usually takes the whole response at once: no write future, no stall timer.
        let taken = match self.io.send_now() {
            Some(s) if !self.out.is_empty() => s.send_now(&[std::io::IoSlice::new(&self.out)]),
            _ => 0,
        };
        let r = match self.out.get(taken..) {
            // Boxed: the waiting write is rare, and inline it would take room in every connection's state.
            Some(rest) if !rest.is_empty() => {
                Box::pin(write_timeout(&mut self.io, rest, self.io_timeout)).await
            }
            _ => Ok(()),
        };
        // A keep-alive connection must not hold what its largest response (a compressed or chunked body, a
        // big head) grew the buffer to: most of its life is spent idle.
        let mut sent = 0;
        crate::transport::reuse_written(
            &mut self.out,
            &mut sent,
            crate::transport::OUT_POOL_CAPACITY,
        );
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
                    let read = crate::transport::poll_read_through(cx, &mut *io, 4096, <[u8]>::len);
                    match std::task::ready!(read) {
                        Ok(Some(n)) => budget = budget.saturating_sub(n),
                        Ok(None) | Err(_) => break,
                    }
                }
                std::task::Poll::Ready(())
            });
            let _ = tokio::time::timeout(Duration::from_secs(2), linger).await;
        }
    }
}

/// Header fields as HTTP/1 lines; a cached file's own fields go as the block framed once for it.
struct Lines<'a, 'w>(&'a mut lws_proto::http1::ResponseWriter<'w>);

impl super::dispatch::HeaderSink for Lines<'_, '_> {
    fn field(&mut self, name: &str, value: &[u8]) {
        self.0.header(name, value);
    }

    fn date(&mut self) {
        super::date::with_date_line(|line| {
            self.0.block(line);
        });
    }

    fn file(&mut self, file: &crate::files::FileHeaders) {
        match file.h1_block() {
            Some(block) => {
                self.0.block(block);
            }
            None => file.for_each(|n, v| self.field(n, v)),
        }
    }
}

/// What is left of a body piece once [`Driver::take_next`] did what needs no waiting.
enum SlowNext {
    /// A large piece to write straight from its own buffer, after what the engine holds.
    Direct(bytes::Bytes),
    /// The engine's buffer grew large enough to be written before the body goes on.
    Flush,
    /// The body failed: what is buffered goes out, then the connection closes.
    Abort(BodyError),
}

/// What a waiting connection may be woken by besides its own state (see [`Driver::poll_wake`]).
#[derive(Clone, Copy)]
struct Waits {
    /// The engine takes input and no full body pipe holds it back.
    input: bool,
    /// A handler reading the request body at its own pace has not made room in its pipe.
    pipe_full: bool,
    /// Shutdown has not been seen yet.
    shutdown: bool,
    /// The engine's next deadline, unless a full pipe pauses it.
    deadline: Option<Instant>,
}

/// What woke a waiting connection.
enum Wake {
    Input(Input),
    PipeRoom,
    Answer(super::Response),
    Next(Next),
    Shutdown,
    Timeout,
    /// Nothing is left to wait for.
    Nothing,
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
    let read = crate::transport::poll_read_through(cx, io, READ_SIZE, |data| {
        crate::file_cache::new_batch();
        conn.handle_input(Instant::now(), data);
    });
    std::task::Poll::Ready(match std::task::ready!(read) {
        Ok(Some(())) => Input::Read,
        Ok(None) => Input::Eof,
        Err(_) => Input::Failed,
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

/// A received trailer section in the form handlers see, `None` when it is empty.
fn trailer_fields(t: Trailers) -> Option<super::Trailers> {
    (!t.fields.is_empty()).then(|| t.fields.into_iter().map(|(n, v)| (n, v.to_vec())).collect())
}
