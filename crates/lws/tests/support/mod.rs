//! Shared helpers for the runtime integration tests: start a server in-process on `127.0.0.1:0`, talk raw
//! HTTP/1.x to it with a client whose every read has a deadline (a hang fails the test instead of hanging
//! it), and a few small protocols the tests mount.
#![allow(dead_code)]

pub(crate) mod h2;
pub(crate) mod tls;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use lws::{Context, ContextBuilder, HttpCtx, Protocol, Responder, Response, ShutdownHandle, Vhost};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Longest any single read or write may take before the test fails.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running server; shut down (without waiting) when dropped.
pub(crate) struct Server {
    /// Every bound TCP address, in vhost order.
    pub(crate) addrs: Vec<SocketAddr>,
    /// The first bound address.
    pub(crate) addr: SocketAddr,
    pub(crate) handle: ShutdownHandle,
    join: Option<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Asks for graceful shutdown and waits (bounded) for the context to finish.
    pub(crate) async fn shutdown_and_wait(&mut self) {
        self.handle.shutdown();
        if let Some(j) = self.join.take() {
            tokio::time::timeout(IO_TIMEOUT, j)
                .await
                .expect("server did not finish shutting down in time")
                .expect("server task panicked")
                .expect("server returned an error");
        }
    }

    /// The run task, for tests that observe its completion themselves.
    pub(crate) fn take_join(&mut self) -> JoinHandle<io::Result<()>> {
        self.join.take().expect("join handle already taken")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// `127.0.0.1:0`.
pub(crate) fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().expect("valid address")
}

/// A free `127.0.0.1` port, for several vhosts that must share one listener (port 0 never shares).
pub(crate) fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe socket");
    l.local_addr().expect("probe address")
}

/// A `127.0.0.1` address where connections are refused for as long as the returned socket lives: it is bound
/// but not listening, so no other test (or process) can start listening there meanwhile, as it could on a port
/// [`free_port`] only found free.
pub(crate) fn refusing_port() -> (SocketAddr, socket2::Socket) {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("valid address");
    s.bind(&any.into()).expect("bind");
    let addr = s
        .local_addr()
        .expect("bound address")
        .as_socket()
        .expect("an IP address");
    (addr, s)
}

/// Builds and starts a context with these vhosts.
pub(crate) fn start(vhosts: Vec<Vhost>) -> Server {
    start_with(
        vhosts
            .into_iter()
            .fold(Context::builder(), |b, v| b.vhost(v)),
    )
}

/// Builds and starts a context from a prepared builder.
pub(crate) fn start_with(builder: ContextBuilder) -> Server {
    let ctx = builder.build().expect("server configuration builds");
    let addrs = ctx.local_addrs();
    let (handle, join) = ctx.spawn();
    Server {
        addr: addrs[0],
        addrs,
        handle,
        join: Some(join),
    }
}

/// One parsed HTTP/1.x response.
#[derive(Clone)]
pub(crate) struct Resp {
    pub(crate) version: String,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The body arrived with chunked framing.
    pub(crate) chunked: bool,
    /// Number of non-empty chunks when chunked.
    pub(crate) chunks: usize,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resp")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl Resp {
    /// The first value of a header (case-insensitive name).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub(crate) fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.x client over any byte stream.
pub(crate) struct Client<S = TcpStream> {
    io: S,
    buf: Vec<u8>,
}

impl Client<TcpStream> {
    /// Connects to `addr` (bounded).
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        let s = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        s.set_nodelay(true).expect("nodelay");
        Client::new(s)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Wraps a connected stream.
    pub(crate) fn new(io: S) -> Self {
        Client {
            io,
            buf: Vec::new(),
        }
    }

    /// The underlying stream.
    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// The underlying stream, to act on it directly.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Writes all bytes; fails the test on error or stall.
    pub(crate) async fn send(&mut self, data: &[u8]) {
        self.try_send(data).await.expect("write failed");
    }

    /// Writes all bytes, returning the error (the server may legitimately close first).
    pub(crate) async fn try_send(&mut self, data: &[u8]) -> io::Result<()> {
        tokio::time::timeout(IO_TIMEOUT, async {
            self.io.write_all(data).await?;
            self.io.flush().await
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write stalled"))?
    }

    /// Sends `GET path HTTP/1.1` with `Host: localhost` and reads the response.
    pub(crate) async fn get(&mut self, path: &str) -> Resp {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await;
        self.read_response().await
    }

    /// Reads more bytes into the buffer; false on EOF or reset. Fails the test when nothing arrives in time.
    async fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 16 * 1024];
        match tokio::time::timeout(IO_TIMEOUT, self.io.read(&mut tmp)).await {
            Err(_) => panic!(
                "read timed out after {IO_TIMEOUT:?}; buffered so far: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    async fn need(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            if !self.fill().await {
                return false;
            }
        }
        true
    }

    async fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads one complete response (a `1xx` is returned on its own); fails the test on EOF or timeout.
    pub(crate) async fn read_response(&mut self) -> Resp {
        self.read_response_for(false)
            .await
            .expect("connection closed before a response arrived")
    }

    /// Reads the response to a HEAD request (no body whatever the headers say).
    pub(crate) async fn read_head_response(&mut self) -> Resp {
        self.read_response_for(true)
            .await
            .expect("connection closed before a response arrived")
    }

    /// Reads one response, or `None` when the connection closes before any byte of one arrives.
    pub(crate) async fn read_response_for(&mut self, head_request: bool) -> Option<Resp> {
        loop {
            if find(&self.buf, b"\r\n\r\n").is_some() {
                break;
            }
            if !self.fill().await {
                assert!(
                    self.buf.is_empty(),
                    "connection closed inside a response head: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
                return None;
            }
        }
        let end = find(&self.buf, b"\r\n\r\n").expect("head end");
        let head = String::from_utf8(self.buf[..end].to_vec()).expect("response head is UTF-8");
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        assert!(
            version.starts_with("HTTP/1."),
            "bad status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header line {l:?}"));
                (n.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        let mut resp = Resp {
            version,
            status,
            headers,
            body: Vec::new(),
            chunked: false,
            chunks: 0,
        };
        if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
            return Some(resp);
        }
        let chunked = resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            resp.chunked = true;
            loop {
                let line = self.line().await.expect("EOF inside a chunk-size line");
                let line = String::from_utf8(line).expect("chunk-size line is text");
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .unwrap_or_else(|_| panic!("bad chunk-size line {line:?}"));
                if size == 0 {
                    while !self.line().await.expect("EOF inside trailers").is_empty() {}
                    break;
                }
                assert!(self.need(size + 2).await, "EOF inside a chunk");
                resp.body.extend_from_slice(&self.buf[..size]);
                assert_eq!(
                    &self.buf[size..size + 2],
                    b"\r\n",
                    "chunk not followed by CRLF"
                );
                self.buf.drain(..size + 2);
                resp.chunks += 1;
            }
        } else if let Some(cl) = resp.header("content-length") {
            let n: usize = cl.parse().expect("numeric content-length");
            assert!(
                self.need(n).await,
                "EOF after {} of {n} body bytes",
                self.buf.len()
            );
            resp.body = self.buf.drain(..n).collect();
        } else {
            resp.body = self.read_to_close().await;
        }
        Some(resp)
    }

    /// Everything the server still sends until it closes (EOF or reset); fails the test on timeout.
    pub(crate) async fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill().await {}
        std::mem::take(&mut self.buf)
    }

    /// Asserts that the server closes the connection without sending anything more.
    pub(crate) async fn expect_closed(&mut self) {
        let rest = self.read_to_close().await;
        assert!(
            rest.is_empty(),
            "expected a close, got {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether `needle` occurs in `hay`.
/// The value of a header in a raw response head (case-insensitive name), if present.
#[allow(dead_code)]
pub(crate) fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let end = find(raw, b"\r\n\r\n")?;
    String::from_utf8_lossy(&raw[..end])
        .lines()
        .skip(1)
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// Sends raw bytes on a fresh connection and reads one response.
pub(crate) async fn exchange(addr: SocketAddr, raw: &[u8]) -> Resp {
    let mut c = Client::connect(addr).await;
    c.send(raw).await;
    c.read_response().await
}

/// A fresh connection still gets `200` for `GET path`.
pub(crate) async fn assert_serves(addr: SocketAddr, path: &str) {
    let mut c = Client::connect(addr).await;
    let r = c.get(path).await;
    assert_eq!(r.status, 200, "server no longer serves {path}: {r:?}");
}

/// Sends `raw` from a background task (ignoring write errors, since the server may close early) while
/// reading one response, then everything until close. Returns the response (if any) and the trailing bytes.
pub(crate) async fn flood(addr: SocketAddr, raw: Vec<u8>) -> (Option<Resp>, Vec<u8>) {
    let s = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect failed");
    let (r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(&raw).await;
        w
    });
    let mut c = Client::new(Joined { r, w: None });
    let resp = c.read_response_for(false).await;
    let rest = c.read_to_close().await;
    writer.abort();
    (resp, rest)
}

/// A read half used as a client stream (writes are not expected).
pub(crate) struct Joined {
    r: tokio::net::tcp::OwnedReadHalf,
    w: Option<tokio::net::tcp::OwnedWriteHalf>,
}

impl AsyncRead for Joined {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.r).poll_read(cx, buf)
    }
}

impl AsyncWrite for Joined {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.w.as_mut() {
            Some(w) => std::pin::Pin::new(w).poll_write(cx, buf),
            None => std::task::Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.w.as_mut() {
            Some(w) => std::pin::Pin::new(w).poll_flush(cx),
            None => std::task::Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.w.as_mut() {
            Some(w) => std::pin::Pin::new(w).poll_shutdown(cx),
            None => std::task::Poll::Ready(Ok(())),
        }
    }
}

/// Answers `200 text/plain` with `hello <path> on <vhost>` at once.
#[derive(Debug, Default)]
pub(crate) struct Hello;

impl Protocol for Hello {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let body = format!("hello {} on {}", cx.request().path(), cx.request().vhost());
        cx.respond(Response::text(200, body));
    }
}

/// Reads the request body and answers `pieces=N bytes=M` once it is complete; `limit` raises the body limit.
#[derive(Debug, Default)]
pub(crate) struct Upload {
    pub(crate) limit: Option<u64>,
}

/// What [`Upload`] counted for one request.
#[derive(Debug, Default)]
pub(crate) struct UploadCount {
    pieces: usize,
    bytes: u64,
}

impl Protocol for Upload {
    type Session = UploadCount;

    fn http(&self, _s: &mut UploadCount, cx: &mut HttpCtx<'_>) {
        if let Some(l) = self.limit {
            cx.set_body_limit(l);
        }
    }

    fn http_body(&self, s: &mut UploadCount, _cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        s.pieces += 1;
        s.bytes += chunk.len() as u64;
    }

    fn http_body_completion(&self, s: &mut UploadCount, cx: &mut HttpCtx<'_>) {
        cx.respond(Response::text(
            200,
            format!("pieces={} bytes={}", s.pieces, s.bytes),
        ));
    }
}

/// Defers every request and hands `(path, responder)` to the test.
#[derive(Debug)]
pub(crate) struct Deferred {
    pub(crate) tx: mpsc::UnboundedSender<(String, Responder)>,
}

impl Protocol for Deferred {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let path = cx.request().path().to_string();
        let responder = cx.defer();
        let _ = self.tx.send((path, responder));
    }
}

/// Streams `pieces` pieces (`piece <i>\n`) from a spawned task.
#[derive(Debug)]
pub(crate) struct Streamer {
    pub(crate) pieces: usize,
}

impl Protocol for Streamer {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let (resp, sender) = Response::stream(200, 2);
        cx.respond(resp.header("content-type", "text/plain"));
        let n = self.pieces;
        tokio::spawn(async move {
            for i in 0..n {
                if sender.send(format!("piece {i}\n")).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The body [`Streamer`] produces for `n` pieces.
pub(crate) fn streamed_body(n: usize) -> String {
    (0..n).map(|i| format!("piece {i}\n")).collect()
}
