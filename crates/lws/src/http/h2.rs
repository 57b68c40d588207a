//! The HTTP/2 connection driver: one task per connection feeding `lws_proto::h2::H2Conn`, with one
//! [`Exchange`] per stream, so mounts, files, forms, handlers, redirects, error pages and the access log
//! behave as they do over HTTP/1.1.

use crate::h2_tunnel::{Tunnel, TUNNEL_PIPE};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lws_proto::h2::{Event, FieldList, H2Conn, HeaderBlock, Reason};
use lws_proto::http1::{BodyKind, RequestHead};
use lws_proto::uri::Target;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::conn::{write_timeout, Abort, ConnInfo, H2Start, PortShared, SpawnTunnel};
use crate::vhost::{select_vhost, vhost_for_request};
use crate::ws::setup::WsSetup;

use super::dispatch::{response_headers, root_target, Exchange, OutBody, Outgoing};
use super::pump::{Next, Pump};
use super::{Request, Response};

/// Read size per socket read.
const READ_SIZE: usize = 16 * 1024;
/// A response body is topped up while less than this is queued in the engine for its stream.
const LOW_WATER: usize = 64 * 1024;
/// Most bytes taken from a body at a time (the size of one file read).
const FILE_PIECE: usize = 64 * 1024;

/// Serves HTTP/2 on `io` until the connection ends.
///
/// The driver is built before the future: an `async fn` would keep its arguments in the future's state
/// beside the driver made from them, for the whole life of the connection.
pub(crate) fn serve<S>(
    io: S,
    info: ConnInfo,
    port: Arc<PortShared>,
    shutdown: watch::Receiver<bool>,
    start: H2Start,
    spawn_tunnel: SpawnTunnel,
) -> impl std::future::Future<Output = ()>
where
    S: crate::transport::Transport,
{
    let mut driver = Driver::start(io, info, port, &shutdown, start, spawn_tunnel);
    // Only borrowed below: moving the driver into a local would give the future two copies of it.
    async move {
        if let Some(d) = driver.as_mut() {
            d.run(shutdown).await;
        }
    }
}

/// One stream's request and the state of its response.
struct Task {
    id: u32,
    ex: Exchange,
    /// Request body bytes received.
    received: u64,
    response: Option<Sending>,
    /// An accepted RFC 8441 WebSocket, started once its 200 goes out.
    tunnel: Option<Box<WsSetup>>,
}

/// A response whose head went out.
struct Sending {
    status: u16,
    sent: u64,
    body: Source,
}

/// Where the rest of a response body comes from.
enum Source {
    /// Everything is queued in the engine (or the stream was reset).
    Done,
    Pump(Pump),
    /// The stream carries a WebSocket run by its own task at the other end of a pipe.
    Tunnel(Tunnel),
}

struct Driver<S> {
    io: S,
    conn: H2Conn,
    io_timeout: Duration,
    info: ConnInfo,
    port: Arc<PortShared>,
    /// Boxed: a task is large, and finished ones leave from the middle of the list, which would move every
    /// task behind them (measured: a tenth of the CPU time at 32 streams per connection).
    #[allow(clippy::vec_box)]
    tasks: Vec<Box<Task>>,
    shutdown: watch::Receiver<bool>,
    out: Vec<u8>,
    /// Response header fields of the head being sent.
    head_fields: FieldList,
    /// Runs the WebSocket of an accepted extended CONNECT.
    spawn_tunnel: SpawnTunnel,
    /// What streams became ready in one poll (kept to reuse its allocation).
    ready: Vec<Wake>,
}

/// Something a stream waited for became ready.
enum Wake {
    Reply(usize, Response),
    /// The next frame of a response body.
    Next(usize, Next),
    /// A handler read this much of a request body: its window may open again.
    Consumed(usize, usize),
    /// A tunnel moved bytes; the engine may have something to send.
    Progress,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// The driver for a connection that starts as `start` says; `None` when an `Upgrade: h2c` request's
    /// settings are malformed.
    fn start(
        io: S,
        info: ConnInfo,
        port: Arc<PortShared>,
        shutdown: &watch::Receiver<bool>,
        start: H2Start,
        spawn_tunnel: SpawnTunnel,
    ) -> Option<Self> {
        let first = select_vhost(&port.vhosts, info.sni.as_deref()).clone();
        let now = Instant::now();
        let config = first.h2.clone();
        let (conn, initial, upgraded) = match start {
            H2Start::Direct { initial } => (H2Conn::server(config, now), initial, None),
            H2Start::Upgrade { upgrade, leftover } => {
                match H2Conn::server_upgraded(config, now, &upgrade.settings) {
                    Ok(c) => (c, leftover, Some(upgrade.head)),
                    Err(e) => {
                        tracing::debug!(peer = ?info.peer, "h2c upgrade: {e}");
                        return None;
                    }
                }
            }
        };
        let mut d = Driver {
            io,
            conn,
            io_timeout: first.limits.io_timeout,
            info,
            port,
            tasks: Vec::new(),
            shutdown: shutdown.clone(),
            out: Vec::new(),
            head_fields: FieldList::new(),
            spawn_tunnel,
            ready: Vec::new(),
        };
        if let Some(head) = upgraded {
            d.start_exchange(1, head, true, None);
        }
        if !initial.is_empty() {
            d.conn.handle_input(Instant::now(), &initial);
        }
        Some(d)
    }

    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        let mut draining = *shutdown.borrow_and_update();
        if draining {
            self.conn.go_away();
        }
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        let shutdown_signal = shutdown.changed();
        tokio::pin!(shutdown_signal);
        let mut armed: Option<Instant> = None;
        loop {
            self.drain_events();
            self.start_responses();
            if self.transmit().await.is_err() {
                return;
            }
            self.finish_tasks();
            if self.conn.is_closed() {
                break;
            }
            self.release_if_idle();
            crate::deadline::arm_earlier(timer.as_mut(), &mut armed, self.conn.poll_timeout());
            let wants_input = self.conn.wants_input();
            tokio::select! {
                r = std::future::poll_fn(|cx| poll_read_copy(cx, &mut self.io)), if wants_input => match r {
                    Some(data) => {
                        crate::file_cache::new_batch();
                        self.conn.handle_input(Instant::now(), &data);
                    }
                    None => return,
                },
                () = std::future::poll_fn(|cx| {
                    poll_tasks(&mut self.tasks, &mut self.conn, cx, &mut self.ready)
                }) => {
                    let mut ready = std::mem::take(&mut self.ready);
                    for w in ready.drain(..) {
                        self.wake(w);
                    }
                    self.ready = ready;
                }
                _ = &mut timer, if armed.is_some() => {
                    armed = None;
                    self.conn.handle_timeout(Instant::now());
                }
                _ = &mut shutdown_signal, if !draining => {
                    draining = true;
                    self.conn.go_away();
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.io.shutdown()).await;
    }

    fn drain_events(&mut self) {
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                Event::Headers {
                    stream,
                    block,
                    end_stream,
                } => self.on_headers(stream, block, end_stream),
                Event::Data {
                    stream,
                    data,
                    end_stream,
                } => self.on_data(stream, &data, end_stream),
                Event::Trailers { stream, block } => {
                    let fields = block
                        .fields()
                        .map(|(n, v)| (n.to_string(), v.to_vec()))
                        .collect();
                    self.on_end(stream, Some(fields));
                }
                Event::Reset { stream, .. } => self.tasks.retain(|t| t.id != stream),
                Event::Error(e) => tracing::debug!(peer = ?self.info.peer, "{e}"),
                Event::Settings | Event::GoAway { .. } => {}
            }
        }
    }

    fn on_headers(&mut self, id: u32, block: HeaderBlock, end_stream: bool) {
        let protocol = block.protocol().map(str::to_string);
        let parts = block.into_parts();
        let body = match (end_stream, parts.content_length) {
            (true, _) | (false, Some(0)) => BodyKind::Empty,
            (false, Some(n)) => BodyKind::Length(n),
            (false, None) => BodyKind::Chunked,
        };
        let head = RequestHead::from_parts(parts.buf, parts.method, parts.path, parts.fields, body);
        self.start_exchange(id, head, end_stream, protocol);
    }

    /// Routes a request that opened stream `id`; `protocol` is an extended CONNECT's `:protocol`.
    fn start_exchange(
        &mut self,
        id: u32,
        head: RequestHead,
        end_stream: bool,
        protocol: Option<String>,
    ) {
        let vhost = vhost_for_request(&self.port.vhosts, self.info.sni.as_deref(), &head).clone();
        let parsed = Target::parse_with_limit(head.target_bytes(), vhost.h1.max_head);
        let websocket = protocol.as_deref() == Some("websocket");
        let refused = match &parsed {
            Err(e) => Some(e.status()),
            Ok(_) if websocket => None,
            Ok(_) if protocol.is_some() => Some(501),
            Ok(_) if head.method() == "CONNECT" => Some(405),
            Ok(_) => None,
        };
        let declared = match head.body_kind() {
            BodyKind::Length(n) => Some(n),
            _ => None,
        };
        let req = Request {
            target: parsed.unwrap_or_else(|_| root_target()),
            head,
            mountpoint_len: 0,
            peer: self.info.peer,
            tls: self.info.tls,
            vhost: vhost.name.clone(),
            user: None,
        };
        let mut tunnel = None;
        let mut ex = match refused {
            Some(status) => Exchange::refused(req, vhost, status),
            None if websocket && Exchange::is_proxied(&vhost, req.path()) => {
                Exchange::start(req, vhost, false)
            }
            None if websocket => match crate::ws::upgrade::prepare(&req, &vhost, true) {
                Ok((answer, setup)) => {
                    tunnel = Some(Box::new(setup));
                    Exchange::answered(req, vhost, answer)
                }
                Err(refusal) => Exchange::answered(req, vhost, *refusal),
            },
            None => Exchange::start(req, vhost, false),
        };
        if declared.is_some_and(|n| n > ex.body_limit) && ex.wants_body() {
            ex.fail(413);
        }
        let mut task = Task {
            id,
            ex,
            received: 0,
            response: None,
            tunnel,
        };
        if end_stream {
            task.ex.body_complete(None);
        } else if task.ex.pipe().is_some() {
            // The handler reads the body at its own pace: the window opens as it reads.
            self.conn.set_manual_release(id);
        }
        self.tasks.push(Box::new(task));
    }

    fn on_data(&mut self, id: u32, data: &[u8], end_stream: bool) {
        let Some(t) = self.tasks.iter_mut().find(|t| t.id == id) else {
            return;
        };
        t.received += data.len() as u64;
        if let Some(Sending {
            body: Source::Tunnel(tunnel),
            ..
        }) = &mut t.response
        {
            tunnel.push(Bytes::copy_from_slice(data), end_stream);
            return;
        }
        if t.ex.wants_body() {
            if t.received > t.ex.body_limit {
                t.ex.fail(413);
            } else if !data.is_empty() {
                t.ex.body(data);
            }
        }
        if t.ex.pipe().is_some_and(|p| p.consumer_gone()) {
            // Nobody reads this body any more: what arrives is dropped, and its window given back.
            self.conn.release_capacity(id, data.len());
        }
        if end_stream {
            t.ex.body_complete(None);
        }
    }

    /// A trailer section ended the request body of stream `id`.
    fn on_end(&mut self, id: u32, trailers: Option<super::Trailers>) {
        if let Some(t) = self.tasks.iter_mut().find(|t| t.id == id) {
            if let Some(Sending {
                body: Source::Tunnel(tunnel),
                ..
            }) = &mut t.response
            {
                tunnel.push(Bytes::new(), true);
                return;
            }
            t.ex.body_complete(trailers);
        }
    }

    fn wake(&mut self, w: Wake) {
        match w {
            Wake::Progress => {}
            Wake::Reply(i, r) => self.tasks[i].ex.take_answer(r),
            Wake::Next(i, next) => self.on_next(i, next),
            Wake::Consumed(i, n) => {
                let id = self.tasks[i].id;
                self.conn.release_capacity(id, n);
            }
        }
    }

    /// Hands the next frame of task `i`'s body to the engine.
    fn on_next(&mut self, i: usize, next: Next) {
        let t = &mut self.tasks[i];
        let Some(sending) = t.response.as_mut() else {
            return;
        };
        let done = match next {
            Next::Data(d) => {
                sending.sent += d.len() as u64;
                self.conn.send_data(t.id, d, false).is_err()
            }
            Next::Trailers(fields) => {
                let fields = fields
                    .into_iter()
                    .map(|(n, v)| (Bytes::from(n), Bytes::from(v)))
                    .collect();
                let _ = self.conn.send_trailers(t.id, fields);
                true
            }
            Next::End => {
                let _ = self.conn.send_data(t.id, Bytes::new(), true);
                true
            }
            Next::Abort(e) => {
                // A reset, not END_STREAM: the client must not take a cut-off body for a whole one.
                tracing::debug!(peer = ?self.info.peer, stream = t.id, "response {e}");
                self.conn.reset(t.id, Reason::INTERNAL_ERROR);
                true
            }
        };
        if done {
            sending.body = Source::Done;
        }
    }

    /// Sends the head (and what body is at hand) of every answer that became ready.
    fn start_responses(&mut self) {
        for i in 0..self.tasks.len() {
            if self.tasks[i].response.is_some() {
                continue;
            }
            let Some(out) = self.tasks[i].ex.take_outgoing() else {
                continue;
            };
            self.send_head_and_body(i, out);
        }
    }

    fn send_head_and_body(&mut self, i: usize, mut o: Outgoing) {
        let id = self.tasks[i].id;
        let proxied = o.tunnel.take().filter(|_| o.status == 200);
        let head_only = self.tasks[i].ex.req.method() == "HEAD";
        let length = match &o.body {
            OutBody::Empty => None,
            body => body.known_len(),
        };
        let tunnel = o.status == 200 && (self.tasks[i].tunnel.is_some() || proxied.is_some());
        let no_body =
            !tunnel && (head_only || matches!(o.body, OutBody::Empty) || length == Some(0));
        self.collect_fields(i, &o, length);
        if self
            .conn
            .send_response_fields(id, o.status, &self.head_fields, no_body)
            .is_err()
        {
            return;
        }
        let mut sending = Sending {
            status: o.status,
            sent: 0,
            body: Source::Done,
        };
        if let Some(origin) = proxied {
            sending.body = Source::Tunnel(self.join_origin(id, *origin));
        } else if let Some(setup) = self.tasks[i].tunnel.take().filter(|_| tunnel) {
            sending.body = Source::Tunnel(self.open_tunnel(id, *setup));
        } else if !no_body {
            sending.body = Source::Pump(Pump::new(o.body));
        }
        self.tasks[i].response = Some(sending);
    }

    /// Starts the WebSocket of an accepted extended CONNECT on its own task, joined to this stream by a pipe.
    fn open_tunnel(&mut self, id: u32, setup: WsSetup) -> Tunnel {
        let (ours, theirs) = tokio::io::duplex(TUNNEL_PIPE);
        // The stream's window is opened only as the WebSocket reads, so a slow consumer slows its peer.
        self.conn.set_manual_release(id);
        (self.spawn_tunnel)(theirs, setup, self.shutdown.clone());
        Tunnel::new(ours)
    }

    /// Joins a proxied WebSocket's origin connection to this stream through a pipe (RFC 8441 toward the
    /// client, an HTTP/1.1 upgrade toward the origin).
    fn join_origin(&mut self, id: u32, origin: crate::proxy::OriginTunnel) -> Tunnel {
        let (ours, theirs) = tokio::io::duplex(TUNNEL_PIPE);
        self.conn.set_manual_release(id);
        let joined = crate::proxy::join(theirs, Bytes::new(), origin, self.shutdown.clone());
        tokio::spawn(joined);
        Tunnel::new(ours)
    }

    /// Collects the response's header fields (plus `content-length` when known) into `head_fields`.
    fn collect_fields(&mut self, i: usize, o: &Outgoing, length: Option<u64>) {
        self.head_fields.clear();
        let fields = &mut self.head_fields;
        let mut push = |n: &str, v: &[u8]| fields.push(n.as_bytes(), v);
        let server = self.port.server.server_string.as_bytes();
        let fallback = &self.port.vhosts[0];
        response_headers(o, Some(&self.tasks[i].ex), fallback, server, &mut &mut push);
        if let Some(n) = length {
            if !o
                .headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case("content-length"))
            {
                let mut digits = [0u8; 20];
                push("content-length", decimal(n, &mut digits));
            }
        }
    }

    /// With no stream open, the connection hands its buffers back (the engine's to nobody, the output
    /// buffer to the thread's pool): an idle HTTP/2 connection keeps its HPACK tables and little else.
    fn release_if_idle(&mut self) {
        if self.tasks.is_empty() && self.out.is_empty() && self.conn.active_streams() == 0 {
            crate::transport::give_out_buf(self.conn.release_idle_buffers());
            crate::transport::give_out_buf(std::mem::take(&mut self.out));
            self.tasks = Vec::new();
            self.ready = Vec::new();
            self.head_fields = FieldList::new();
        }
    }

    /// Tops up response bodies and writes what the engine frames, until nothing more can go out now.
    async fn transmit(&mut self) -> Result<(), Abort> {
        loop {
            std::future::poll_fn(|cx| {
                self.fill(cx);
                Poll::Ready(())
            })
            .await;
            self.conn.poll_transmit(&mut self.out);
            if self.out.is_empty() {
                return Ok(());
            }
            // The socket usually takes a whole batch at once: no timer and no write future then. What waits
            // for the peer goes through a boxed timed write, which would otherwise take room in every
            // connection's state.
            let mut written = 0;
            let now = std::future::poll_fn(|cx| {
                Poll::Ready(write_now(cx, &mut self.io, &self.out, &mut written))
            })
            .await;
            let r = match now {
                Ok(true) => Ok(()),
                Ok(false) => {
                    let rest = &self.out[written..];
                    Box::pin(write_timeout(&mut self.io, rest, self.io_timeout)).await
                }
                Err(()) => Err(Abort),
            };
            self.out.clear();
            r?;
        }
    }

    /// Takes from every body that has something ready as much as its stream has room for.
    fn fill(&mut self, cx: &mut Context<'_>) {
        for i in 0..self.tasks.len() {
            loop {
                let t = &mut self.tasks[i];
                let Some(Sending {
                    body: Source::Pump(pump),
                    ..
                }) = t.response.as_mut()
                else {
                    break;
                };
                let room = room(&self.conn, t.id);
                if room == 0 {
                    break;
                }
                let Poll::Ready(next) = pump.poll_next(room.min(FILE_PIECE), cx) else {
                    break;
                };
                self.on_next(i, next);
            }
        }
    }

    /// Logs and forgets streams whose response is fully framed and whose stream the engine closed.
    fn finish_tasks(&mut self) {
        let before = self.tasks.len();
        let conn = &self.conn;
        self.tasks.retain(|t| {
            let finished = matches!(
                &t.response,
                Some(Sending {
                    body: Source::Done,
                    ..
                })
            ) && conn.stream_backlog(t.id).is_none();
            if finished {
                if let Some(s) = &t.response {
                    t.ex.log(s.status, s.sent);
                }
            }
            !finished
        });
        if before > 0 && self.tasks.is_empty() {
            // A long-lived stream (event stream, long poll) may have outlived the idle timeout: the
            // connection is idle from now on, not since its last input.
            self.conn.restart_idle_timer(Instant::now());
        }
    }
}

/// How many more body bytes stream `id` should take now: its backlog is kept below [`LOW_WATER`], and
/// nothing more is queued while flow control holds back what is queued already.
fn room(conn: &H2Conn, id: u32) -> usize {
    match conn.stream_backlog(id) {
        Some(b) if b < LOW_WATER && !(b > 0 && conn.send_capacity(id) == 0) => LOW_WATER - b,
        _ => 0,
    }
}

/// `n` in decimal, written into `buf` (20 digits hold any u64) without allocating.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Polls what streams wait for: deferred answers, pieces of streamed bodies whose stream has room, and
/// WebSocket tunnels.
#[allow(clippy::vec_box)]
fn poll_tasks(
    tasks: &mut [Box<Task>],
    conn: &mut H2Conn,
    cx: &mut Context<'_>,
    ready: &mut Vec<Wake>,
) -> Poll<()> {
    // Every stream is asked, not only up to the first that is ready: answers that arrive together (a burst
    // of origin responses) then leave in one write.
    for (i, t) in tasks.iter_mut().enumerate() {
        if let Poll::Ready(r) = t.ex.reply.poll_answer(cx) {
            ready.push(Wake::Reply(i, r));
        }
        if let Some(pipe) = t.ex.pipe() {
            if let Poll::Ready(n) = pipe.poll_consumed(cx) {
                ready.push(Wake::Consumed(i, n));
            }
        }
        let Some(sending) = &mut t.response else {
            continue;
        };
        let room = room(conn, t.id);
        match &mut sending.body {
            Source::Pump(pump) if room > 0 => {
                if let Poll::Ready(next) = pump.poll_next(room.min(FILE_PIECE), cx) {
                    ready.push(Wake::Next(i, next));
                }
            }
            Source::Tunnel(tunnel) => {
                let below = conn.stream_backlog(t.id).is_some_and(|b| b < LOW_WATER);
                let progress = tunnel.poll(t.id, conn, below, cx);
                let ended = tunnel.outbound_done();
                if ended {
                    sending.body = Source::Done;
                }
                if progress || ended {
                    ready.push(Wake::Progress);
                }
            }
            _ => {}
        }
    }
    if ready.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// Writes `out` from `written` on as far as the socket takes it without waiting, then flushes; whether
/// everything went out (`Err` when the socket failed).
fn write_now<S: AsyncWrite + Unpin>(
    cx: &mut Context<'_>,
    io: &mut S,
    out: &[u8],
    written: &mut usize,
) -> Result<bool, ()> {
    let mut io = std::pin::Pin::new(io);
    while *written < out.len() {
        match io.as_mut().poll_write(cx, &out[*written..]) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Err(()),
            Poll::Ready(Ok(n)) => *written += n,
            Poll::Pending => return Ok(false),
        }
    }
    match io.poll_flush(cx) {
        Poll::Ready(Ok(())) => Ok(true),
        Poll::Ready(Err(_)) => Err(()),
        Poll::Pending => Ok(false),
    }
}

/// Reads once through the thread's read buffer and copies out what arrived (`None`: the peer left or the
/// read failed). The copy lives only until the engine has taken it, so no connection keeps a read buffer.
fn poll_read_copy<S: AsyncRead + Unpin>(cx: &mut Context<'_>, io: &mut S) -> Poll<Option<Vec<u8>>> {
    crate::transport::poll_read_through(cx, io, READ_SIZE, <[u8]>::to_vec).map(|r| r.ok().flatten())
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_writes_every_digit() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 1024, 4_294_967_296, u64::MAX] {
            assert_eq!(super::decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
