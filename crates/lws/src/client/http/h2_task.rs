//! The task of one HTTP/2 client connection: it owns the socket and the `lws_proto::h2::H2Conn` engine,
//! opens the streams its handles ask for, feeds request bodies and WebSocket pipes to the engine, and hands
//! response heads and body pieces back. Nothing else touches the engine, so it needs no lock.

use crate::h2_tunnel::{Tunnel, TUNNEL_PIPE};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lws_proto::h2::{Event, H2Config, H2Conn, HeaderBlock, Reason, RequestLine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::super::error::ClientError;
use super::super::transport::Transport;
use super::h2_link::{refuse, Cmd, Head, Piece, Shared, Tunnelled};
use super::head::{HttpVersion, ResponseStart};
use super::headers::Headers;
use super::request::PreparedRequest;

/// Bytes read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;
/// A request body or tunnel is topped up while less than this is queued in the engine for its stream.
const LOW_WATER: usize = 64 * 1024;
/// Largest piece of a request body handed to the engine at once.
const BODY_PIECE: usize = 64 * 1024;
/// Time allowed to write a batch of frames before the connection is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the task of a connection on `io`, where `h2` was agreed (ALPN) or is assumed (prior knowledge);
/// returns where its commands go and what it publishes.
pub(crate) fn spawn(
    io: Transport,
    tls: bool,
    idle_timeout: Duration,
) -> (mpsc::UnboundedSender<Cmd>, Arc<Shared>) {
    let config = H2Config {
        idle_timeout,
        ..H2Config::client()
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::new());
    let task = Task {
        io,
        conn: H2Conn::client(config, Instant::now()),
        scheme: if tls { "https" } else { "http" },
        streams: Vec::new(),
        waiting: VecDeque::new(),
        settled: false,
        going_away: false,
        shared: shared.clone(),
        out: Vec::with_capacity(16 * 1024),
    };
    tokio::spawn(task.run(rx));
    (tx, shared)
}

/// One open stream of the task.
struct Active {
    /// The stream id.
    id: u32,
    /// What the stream carries.
    kind: Kind,
}

/// What an open stream carries, and who waits on it.
enum Kind {
    /// A request: its head is awaited, then its body is read.
    Request {
        /// Where the response head goes; `None` once sent.
        head: Option<oneshot::Sender<Result<Head, ClientError>>>,
        /// Where body pieces go, once the head was delivered.
        body: Option<mpsc::UnboundedSender<Piece>>,
        /// Request body not yet handed to the engine.
        upload: Option<Upload>,
        /// A HEAD request: its response has no body whatever its headers say.
        head_only: bool,
    },
    /// An extended CONNECT waiting for its answer.
    Connect {
        /// Where the accepted stream goes; `None` once answered.
        reply: Option<oneshot::Sender<Result<Tunnelled, ClientError>>>,
    },
    /// An accepted WebSocket stream joined to its pipe.
    Tunnel(Tunnel),
}

/// A request body on its way to the engine.
enum Upload {
    /// What is left of a whole body.
    Whole(Bytes),
    /// A body read as its reader gives it (a proxied upload), polled while the stream has room.
    Stream(crate::http::RequestBody),
}

/// One HTTP/2 connection, run by its own tokio task.
struct Task {
    /// The socket.
    io: Transport,
    /// The HTTP/2 engine: framing, streams and flow control, no I/O.
    conn: H2Conn,
    /// `:scheme` of every request: `https` or `http`.
    scheme: &'static str,
    /// The open streams.
    streams: Vec<Active>,
    /// Commands opening streams that wait for the server's SETTINGS or for room under its stream limit.
    waiting: VecDeque<Cmd>,
    /// The server's first SETTINGS arrived.
    settled: bool,
    /// The server sent GOAWAY.
    going_away: bool,
    /// What the pool reads about the connection.
    shared: Arc<Shared>,
    /// Frames taken from the engine, kept to reuse the allocation.
    out: Vec<u8>,
}

impl Task {
    /// Runs the connection until it closes or fails, or until every handle is gone and no stream is left;
    /// then answers whatever still waits, so that no caller hangs.
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) {
        let mut rbuf = vec![0u8; READ_SIZE];
        let mut rx_open = true;
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        let why = loop {
            self.drain_events();
            self.start_waiting();
            // Bodies are topped up again whenever framing made room, until the windows hold them back.
            let mut failed = None;
            self.feed_uploads();
            loop {
                if let Err(e) = self.transmit().await {
                    failed = Some(e);
                    break;
                }
                if !self.feed_uploads() {
                    break;
                }
            }
            if let Some(e) = failed {
                break e;
            }
            self.publish();
            if self.conn.is_closed() {
                break self.closed_error();
            }
            if !rx_open && self.streams.is_empty() && self.waiting.is_empty() {
                break ClientError::Closed;
            }
            let deadline = self.conn.poll_timeout().map(tokio::time::Instant::from_std);
            if let Some(d) = deadline {
                timer.as_mut().reset(d);
            }
            let wants_input = self.conn.wants_input();
            tokio::select! {
                r = self.io.read(&mut rbuf), if wants_input => match r {
                    Ok(0) => break ClientError::Http2("the server closed the connection".into()),
                    Err(e) => break ClientError::Io(e),
                    Ok(n) => self.conn.handle_input(Instant::now(), &rbuf[..n]),
                },
                c = rx.recv(), if rx_open => match c {
                    Some(c) => self.command(c),
                    None => rx_open = false,
                },
                _ = std::future::poll_fn(|cx| {
                    // Both polled every time, so both register their wake-ups.
                    let tunnels = poll_tunnels(&mut self.streams, &mut self.conn, cx);
                    let uploads = poll_uploads(&mut self.streams, &mut self.conn, cx);
                    if tunnels.is_ready() { tunnels } else { uploads }
                }) => {}
                _ = &mut timer, if deadline.is_some() => self.conn.handle_timeout(Instant::now()),
            }
        };
        self.shared.usable.store(false, Ordering::Release);
        self.shared.room.store(false, Ordering::Release);
        self.shared.release_slot();
        // Requests not yet sent were never seen by the server: safe to retry.
        for cmd in self.waiting.drain(..) {
            refuse(cmd);
        }
        let detail = why.to_string();
        for a in self.streams.drain(..) {
            fail(a, || ClientError::Http2(detail.clone()));
        }
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            refuse(cmd);
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.io.shutdown()).await;
    }

    /// Why the engine closed, for the streams it leaves behind.
    fn closed_error(&self) -> ClientError {
        match self.conn.error() {
            Some(e) => ClientError::Http2(e.to_string()),
            None => ClientError::Http2("the connection went away".into()),
        }
    }

    /// Tells the pool what it may do with this connection.
    fn publish(&self) {
        let open = self.conn.can_open_stream();
        let usable = self.conn.error().is_none() && !self.going_away && (open || self.at_limit());
        self.shared.usable.store(usable, Ordering::Release);
        self.shared.room.store(usable && open, Ordering::Release);
    }

    /// Whether the server's SETTINGS_MAX_CONCURRENT_STREAMS is what keeps new streams from opening.
    fn at_limit(&self) -> bool {
        self.conn
            .peer_settings()
            .max_concurrent_streams
            .is_some_and(|m| self.conn.active_streams() as u32 >= m)
    }

    /// Writes everything the engine has to send.
    async fn transmit(&mut self) -> Result<(), ClientError> {
        loop {
            self.conn.poll_transmit(&mut self.out);
            if self.out.is_empty() {
                return Ok(());
            }
            let r = tokio::time::timeout(WRITE_TIMEOUT, self.io.write_all(&self.out)).await;
            self.out.clear();
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(ClientError::Io(e)),
                Err(_) => return Err(ClientError::Timeout),
            }
            if let Err(e) = self.io.flush().await {
                return Err(ClientError::Io(e));
            }
        }
    }

    /// Applies a command: window and cancellations at once, new streams queued until they can open.
    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Release(id, n) => self.conn.release_capacity(id, n),
            Cmd::Cancel(id) => {
                if let Some(i) = self.streams.iter().position(|a| a.id == id) {
                    self.streams.swap_remove(i);
                    self.conn.reset(id, Reason::CANCEL);
                }
            }
            open => self.waiting.push_back(open),
        }
    }

    /// Opens the waiting streams the connection has room for.
    fn start_waiting(&mut self) {
        while let Some(cmd) = self.waiting.front() {
            if matches!(cmd, Cmd::Connect { .. }) && !self.settled {
                return;
            }
            if !self.conn.can_open_stream() {
                if self.going_away || !self.at_limit() {
                    // Going away or failed: nothing waiting will be sent here.
                    for cmd in self.waiting.drain(..) {
                        refuse(cmd);
                    }
                }
                return;
            }
            let Some(cmd) = self.waiting.pop_front() else {
                return;
            };
            match cmd {
                Cmd::Request { req, stream, reply } => self.open_request(req, stream, reply),
                Cmd::Connect {
                    authority,
                    path,
                    fields,
                    reply,
                } => self.open_connect(&authority, &path, &fields, reply),
                _ => {}
            }
        }
    }

    /// Opens a stream for a request (unless its caller gave up): head, then the body later in pieces.
    fn open_request(
        &mut self,
        req: PreparedRequest,
        stream: Option<crate::http::RequestBody>,
        reply: oneshot::Sender<Result<Head, ClientError>>,
    ) {
        if reply.is_closed() {
            return;
        }
        if let Err(e) = req.check() {
            let _ = reply.send(Err(ClientError::Request(e)));
            return;
        }
        let length = match &stream {
            Some(s) => s.declared_len(),
            None => req.content_length(),
        }
        .map(|n| n.to_string());
        let body = match stream {
            Some(s) => Some(Upload::Stream(s)),
            None => req
                .body
                .clone()
                .filter(|b| !b.is_empty())
                .map(Upload::Whole),
        };
        let mut fields: Vec<(&[u8], &[u8])> = req
            .headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        if let Some(l) = &length {
            fields.push((b"content-length", l.as_bytes()));
        }
        let line = RequestLine {
            method: &req.method,
            scheme: self.scheme,
            authority: &req.host,
            path: &req.target,
            protocol: None,
        };
        match self.conn.send_request(line, fields, body.is_none()) {
            Ok(id) => {
                self.conn.set_manual_release(id);
                self.streams.push(Active {
                    id,
                    kind: Kind::Request {
                        head: Some(reply),
                        body: None,
                        upload: body,
                        head_only: req.method.eq_ignore_ascii_case("HEAD"),
                    },
                });
            }
            Err(_) => {
                let _ = reply.send(Err(ClientError::Http2Refused));
            }
        }
    }

    /// Opens an RFC 8441 WebSocket stream, if the server's SETTINGS allow extended CONNECT.
    fn open_connect(
        &mut self,
        authority: &str,
        path: &str,
        fields: &[(String, String)],
        reply: oneshot::Sender<Result<Tunnelled, ClientError>>,
    ) {
        if !self.conn.peer_settings().enable_connect_protocol {
            let _ = reply.send(Err(ClientError::Http2ConnectUnsupported));
            return;
        }
        let line = RequestLine {
            method: "CONNECT",
            scheme: self.scheme,
            authority,
            path,
            protocol: Some("websocket"),
        };
        let fields = fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes()));
        match self.conn.send_request(line, fields, false) {
            Ok(id) => {
                self.conn.set_manual_release(id);
                self.streams.push(Active {
                    id,
                    kind: Kind::Connect { reply: Some(reply) },
                });
            }
            Err(lws_proto::h2::SendError::ConnectProtocolNotEnabled) => {
                let _ = reply.send(Err(ClientError::Http2ConnectUnsupported));
            }
            Err(_) => {
                let _ = reply.send(Err(ClientError::Http2Refused));
            }
        }
    }

    /// Hands request bodies to the engine while their streams have little queued; says whether it did.
    fn feed_uploads(&mut self) -> bool {
        let mut fed = false;
        for a in &mut self.streams {
            let Kind::Request { upload, .. } = &mut a.kind else {
                continue;
            };
            while let Some(Upload::Whole(rest)) = upload.as_mut() {
                if self
                    .conn
                    .stream_backlog(a.id)
                    .is_none_or(|b| b >= LOW_WATER)
                {
                    break;
                }
                let n = rest.len().min(BODY_PIECE);
                let piece = rest.split_to(n);
                let last = rest.is_empty();
                if last {
                    *upload = None;
                }
                fed = true;
                if self.conn.send_data(a.id, piece, last).is_err() {
                    *upload = None;
                }
            }
        }
        fed
    }

    /// Hands every engine event to the stream it concerns.
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
                } => self.on_data(stream, data, end_stream),
                Event::Trailers { stream, block } => {
                    let fields: Vec<(String, Bytes)> = block
                        .fields()
                        .map(|(n, v)| (n.to_string(), Bytes::copy_from_slice(v)))
                        .collect();
                    if let Some(Active {
                        kind: Kind::Request { body: Some(tx), .. },
                        ..
                    }) = self.streams.iter().find(|a| a.id == stream)
                    {
                        let _ = tx.send(Piece::Trailers(fields));
                    }
                    self.on_data(stream, Bytes::new(), true)
                }
                Event::Reset { stream, reason, .. } => {
                    if let Some(i) = self.streams.iter().position(|a| a.id == stream) {
                        let a = self.streams.swap_remove(i);
                        fail(a, || {
                            if reason == Reason::REFUSED_STREAM {
                                ClientError::Http2Refused
                            } else {
                                ClientError::Http2Reset(reason.0)
                            }
                        });
                    }
                }
                Event::Settings => self.settled = true,
                Event::GoAway { .. } => {
                    self.going_away = true;
                    // Streams above `last_stream` came as REFUSED_STREAM resets; the rest finish.
                    for cmd in self.waiting.drain(..) {
                        refuse(cmd);
                    }
                }
                Event::Error(e) => {
                    tracing::debug!("http2 client: {e}");
                    let detail = e.to_string();
                    for a in self.streams.drain(..) {
                        fail(a, || ClientError::Http2(detail.clone()));
                    }
                }
            }
        }
    }

    /// A response head: delivered to the request (with a body channel unless it has no body), or, for an
    /// extended CONNECT, the stream becomes a tunnel (200) or is refused.
    fn on_headers(&mut self, id: u32, block: HeaderBlock, end_stream: bool) {
        let Some(i) = self.streams.iter().position(|a| a.id == id) else {
            return;
        };
        let status = block.status().unwrap_or(0);
        let mut remove = false;
        match &mut self.streams[i].kind {
            Kind::Request {
                head,
                body,
                upload,
                head_only,
            } => {
                let Some(reply) = head.take() else {
                    return;
                };
                let bodiless = end_stream || *head_only || status == 204 || status == 304;
                let (tx, rx) = if bodiless {
                    (None, None)
                } else {
                    let (tx, rx) = mpsc::unbounded_channel();
                    (Some(tx), Some(rx))
                };
                let start = ResponseStart {
                    status,
                    version: HttpVersion::Http2,
                    headers: Headers::from_pairs(block.fields()),
                    content_length: block.content_length().or(end_stream.then_some(0)),
                    bodiless,
                };
                let delivered = reply
                    .send(Ok(Head {
                        start,
                        stream: id,
                        body: rx,
                    }))
                    .is_ok();
                *body = tx;
                if !delivered || (bodiless && !end_stream) {
                    self.conn.reset(id, Reason::CANCEL);
                    remove = true;
                } else if end_stream {
                    remove = upload.is_none() || {
                        self.conn.reset(id, Reason::CANCEL);
                        true
                    };
                }
            }
            Kind::Connect { reply } => {
                let Some(reply) = reply.take() else {
                    return;
                };
                if status != 200 || end_stream {
                    let _ = reply.send(Err(ClientError::Status(status)));
                    if !end_stream {
                        self.conn.reset(id, Reason::CANCEL);
                    }
                    remove = true;
                } else {
                    let (ours, theirs) = tokio::io::duplex(TUNNEL_PIPE);
                    if reply.send(Ok((block, theirs))).is_err() {
                        self.conn.reset(id, Reason::CANCEL);
                        remove = true;
                    } else {
                        self.streams[i].kind = Kind::Tunnel(Tunnel::new(ours));
                    }
                }
            }
            Kind::Tunnel(_) => {}
        }
        if remove {
            self.streams.swap_remove(i);
        }
    }

    /// Body bytes: to the request's reader or the tunnel's pipe; window of nobody's stream is given back at
    /// once so it does not stall the connection.
    fn on_data(&mut self, id: u32, data: Bytes, end_stream: bool) {
        let Some(i) = self.streams.iter().position(|a| a.id == id) else {
            self.conn.release_capacity(id, data.len());
            return;
        };
        let mut remove = false;
        match &mut self.streams[i].kind {
            Kind::Request { body, upload, .. } => match body {
                Some(tx) => {
                    let mut ok = data.is_empty() || tx.send(Piece::Data(data)).is_ok();
                    if end_stream {
                        ok &= tx.send(Piece::End).is_ok();
                        remove = true;
                        if upload.is_some() {
                            self.conn.reset(id, Reason::CANCEL);
                        }
                    }
                    if !ok && !end_stream {
                        self.conn.reset(id, Reason::CANCEL);
                        remove = true;
                    }
                }
                None => self.conn.release_capacity(id, data.len()),
            },
            Kind::Tunnel(t) => t.push(data, end_stream),
            Kind::Connect { .. } => self.conn.release_capacity(id, data.len()),
        }
        if remove {
            self.streams.swap_remove(i);
        }
    }
}

/// Fails whatever waits on a stream.
fn fail(a: Active, err: impl Fn() -> ClientError) {
    match a.kind {
        Kind::Request { head, body, .. } => {
            if let Some(h) = head {
                let _ = h.send(Err(err()));
            }
            if let Some(b) = body {
                let _ = b.send(Piece::Failed(err()));
            }
        }
        Kind::Connect { reply: Some(r) } => {
            let _ = r.send(Err(err()));
        }
        Kind::Connect { reply: None } | Kind::Tunnel(_) => {}
    }
}

/// Hands streamed request bodies to the engine while their streams have room; ready when anything moved.
fn poll_uploads(streams: &mut [Active], conn: &mut H2Conn, cx: &mut Context<'_>) -> Poll<()> {
    use crate::http::{BodySource, Frame};
    let mut progress = false;
    for a in streams.iter_mut() {
        let Kind::Request { upload, .. } = &mut a.kind else {
            continue;
        };
        while let Some(Upload::Stream(body)) = upload.as_mut() {
            if conn.stream_backlog(a.id).is_none_or(|b| b >= LOW_WATER) {
                break;
            }
            let Poll::Ready(frame) = std::pin::Pin::new(&mut *body).poll_frame(cx) else {
                break;
            };
            progress = true;
            let sent = match frame {
                Some(Ok(Frame::Data(d))) => conn.send_data(a.id, d, false).is_ok(),
                Some(Ok(Frame::Trailers(t))) => {
                    let t = t
                        .into_iter()
                        .map(|(n, v)| (Bytes::from(n), Bytes::from(v)))
                        .collect();
                    *upload = None;
                    conn.send_trailers(a.id, t).is_ok()
                }
                None => {
                    *upload = None;
                    conn.send_data(a.id, Bytes::new(), true).is_ok()
                }
                Some(Err(_)) => {
                    // The client's upload broke off: the origin must not take it for a whole one.
                    *upload = None;
                    conn.reset(a.id, Reason::CANCEL);
                    true
                }
            };
            if !sent {
                *upload = None;
            }
        }
    }
    if progress {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

/// Moves bytes between every WebSocket stream and its pipe; ready when anything moved.
fn poll_tunnels(streams: &mut Vec<Active>, conn: &mut H2Conn, cx: &mut Context<'_>) -> Poll<()> {
    let mut progress = false;
    let mut i = 0;
    while i < streams.len() {
        let id = streams[i].id;
        let Kind::Tunnel(t) = &mut streams[i].kind else {
            i += 1;
            continue;
        };
        let room = conn.stream_backlog(id).is_some_and(|b| b < LOW_WATER);
        progress |= t.poll(id, conn, room, cx);
        if t.finished(conn.stream_backlog(id).is_none()) {
            streams.swap_remove(i);
            progress = true;
        } else {
            i += 1;
        }
    }
    if progress {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}
