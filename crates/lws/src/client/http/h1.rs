//! An HTTP/1.1 client connection: drives `lws_proto::http1::client::H1ClientConn` over TCP or TLS.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use lws_proto::http1::client::{
    ClientEvent, H1ClientConfig, H1ClientConn, OutgoingRequest, RequestBody, ResponseBody,
};
use lws_proto::http1::Version;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::super::error::ClientError;
use super::super::transport::Transport;
use super::head::{HttpVersion, ResponseStart};
use super::headers::Headers;
use super::request::PreparedRequest;

/// Bytes read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;

/// One HTTP/1.1 connection: the socket, the engine, and a read buffer.
pub(crate) struct H1Connection {
    /// The socket.
    io: Transport,
    /// The HTTP/1.1 client engine: framing and parsing, no I/O.
    engine: H1ClientConn,
    /// Where socket reads land before the engine takes them.
    buf: Box<[u8]>,
    /// The request head taken from the engine, kept to reuse its allocation.
    out: Vec<u8>,
    /// The trailer section of the last response, once its body ended.
    trailers: Option<lws_proto::http1::Trailers>,
}

impl std::fmt::Debug for H1Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Connection")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl H1Connection {
    /// An HTTP/1.1 connection over an established transport, accepting response heads of at most
    /// `max_head` bytes.
    pub(crate) fn new(io: Transport, max_head: usize) -> H1Connection {
        let cfg = H1ClientConfig {
            max_head,
            ..H1ClientConfig::default()
        };
        H1Connection {
            io,
            engine: H1ClientConn::new(cfg),
            buf: vec![0u8; READ_SIZE].into_boxed_slice(),
            out: Vec::new(),
            trailers: None,
        }
    }

    /// Whether another request may be sent now: the last exchange ended and left the connection usable.
    pub(crate) fn is_ready(&self) -> bool {
        self.engine.is_ready()
    }

    /// Writes the request (head and whole body), then reads until the final response head.
    pub(crate) async fn send(
        &mut self,
        req: &PreparedRequest,
    ) -> Result<ResponseStart, ClientError> {
        // Events of the previous response that its reader did not need (its `End`, usually).
        while self.engine.poll_event().is_some() {}
        let headers: Vec<(&str, &[u8])> = req
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let body = req
            .content_length()
            .map_or(RequestBody::Empty, RequestBody::Length);
        let now = Instant::now();
        self.engine
            .send_request(
                now,
                &OutgoingRequest {
                    method: &req.method,
                    target: &req.target,
                    host: &req.host,
                    headers: &headers,
                    body,
                },
            )
            .map_err(ClientError::Request)?;
        self.out.clear();
        self.engine.poll_transmit(&mut self.out);
        let written = self.write_request(req).await;
        self.out.clear();
        match written {
            Ok(()) => self.read_head().await,
            // A server may answer and close before taking the whole body (413, 401, ...): its answer, if it
            // sent one, says more than the failed write.
            Err(write_error) => self.read_head().await.map_err(|_| write_error),
        }
    }

    /// The trailer section of the response whose body just ended, if it had one.
    pub(crate) fn take_trailers(&mut self) -> Option<lws_proto::http1::Trailers> {
        self.trailers.take()
    }

    /// Sends a request whose body streams from `body` (a reverse proxy's), each write bounded by `idle`,
    /// then waits at most `header_wait` for the response head. An origin that answers before taking the
    /// whole body is heard: its answer counts, not the failed write.
    pub(crate) async fn forward(
        &mut self,
        head: &OutgoingRequest<'_>,
        body: Option<&mut crate::http::RequestBody>,
        idle: std::time::Duration,
        header_wait: std::time::Duration,
    ) -> Result<ResponseStart, ClientError> {
        while self.engine.poll_event().is_some() {}
        self.trailers = None;
        self.engine
            .send_request(Instant::now(), head)
            .map_err(ClientError::Request)?;
        let written = tokio::time::timeout(idle, self.write_out())
            .await
            .unwrap_or(Err(ClientError::Timeout));
        let written = match (written, body) {
            // Boxed: only requests with a body take this path.
            (Ok(()), Some(body)) => Box::pin(self.write_streamed(body, idle)).await,
            (r, _) => r,
        };
        let head = tokio::time::timeout(header_wait, self.read_head());
        match (written, head.await) {
            (_, Ok(Ok(start))) => Ok(start),
            (Err(write_error), _) => Err(write_error),
            (Ok(()), Ok(Err(e))) => Err(e),
            (Ok(()), Err(_)) => Err(ClientError::Timeout),
        }
    }

    /// Streams a request body as its reader gives it, framed by the engine (length or chunked).
    async fn write_streamed(
        &mut self,
        body: &mut crate::http::RequestBody,
        idle: std::time::Duration,
    ) -> Result<(), ClientError> {
        use crate::http::{BodySource, Frame};
        let mut trailers = None;
        loop {
            let frame =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await;
            let piece = match frame {
                None => break,
                Some(Ok(Frame::Data(d))) => d,
                Some(Ok(Frame::Trailers(t))) => {
                    trailers = Some(t);
                    break;
                }
                Some(Err(e)) => {
                    return Err(ClientError::Io(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        e,
                    )))
                }
            };
            self.engine
                .send_data(&piece)
                .map_err(ClientError::Request)?;
            tokio::time::timeout(idle, self.write_out())
                .await
                .unwrap_or(Err(ClientError::Timeout))?;
        }
        let fields: Vec<(&str, &[u8])> = trailers
            .iter()
            .flatten()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        self.engine
            .finish_request_with_trailers(&fields)
            .map_err(ClientError::Request)?;
        tokio::time::timeout(idle, self.write_out())
            .await
            .unwrap_or(Err(ClientError::Timeout))
    }

    /// Writes what the engine framed.
    async fn write_out(&mut self) -> Result<(), ClientError> {
        self.out.clear();
        self.engine.poll_transmit(&mut self.out);
        let r = self.io.write_all(&self.out).await.map_err(ClientError::Io);
        self.out.clear();
        r
    }

    /// After a `101`: the socket and the bytes the server sent behind its response head.
    pub(crate) fn into_upgraded(mut self) -> (Transport, Bytes) {
        let rest = self.engine.take_remaining();
        (self.io, rest)
    }

    /// Writes the head taken from the engine, then the body as it is: the engine only counts it (no copy).
    async fn write_request(&mut self, req: &PreparedRequest) -> Result<(), ClientError> {
        self.io
            .write_all(&self.out)
            .await
            .map_err(ClientError::Io)?;
        if let Some(b) = req.body.as_ref().filter(|b| !b.is_empty()) {
            self.engine
                .body_sent_externally(b.len() as u64)
                .map_err(ClientError::Request)?;
            self.io.write_all(b).await.map_err(ClientError::Io)?;
        }
        self.engine.finish_request().map_err(ClientError::Request)?;
        self.io.flush().await.map_err(ClientError::Io)
    }

    /// Reads until the final response head.
    async fn read_head(&mut self) -> Result<ResponseStart, ClientError> {
        loop {
            while let Some(ev) = self.engine.poll_event() {
                match ev {
                    ClientEvent::Response(head) => {
                        let bodiless = head.status() == 101 || head.body() == ResponseBody::Empty;
                        let content_length = match head.body() {
                            ResponseBody::Length(n) => Some(n),
                            ResponseBody::Empty => Some(0),
                            _ => None,
                        };
                        return Ok(ResponseStart {
                            status: head.status(),
                            version: match head.version() {
                                Version::Http10 => HttpVersion::Http10,
                                Version::Http11 => HttpVersion::Http11,
                                Version::Http2 => HttpVersion::Http2,
                            },
                            headers: Headers::from_pairs(head.headers()),
                            content_length,
                            bodiless,
                        });
                    }
                    ClientEvent::Error(e) => return Err(ClientError::Response(e)),
                    ClientEvent::Data(_) | ClientEvent::End(_) => {}
                }
            }
            if self.engine.is_closed() {
                return Err(ClientError::Response(
                    lws_proto::http1::client::ResponseError::ClosedBeforeResponse,
                ));
            }
            self.read().await?;
        }
    }

    /// The next piece of the response body.
    pub(crate) async fn chunk(&mut self) -> Option<Result<Bytes, ClientError>> {
        loop {
            while let Some(ev) = self.engine.poll_event() {
                match ev {
                    ClientEvent::Data(d) => return Some(Ok(d)),
                    ClientEvent::End(t) => {
                        self.trailers = (!t.fields.is_empty()).then_some(t);
                        return None;
                    }
                    ClientEvent::Error(e) => return Some(Err(ClientError::Response(e))),
                    ClientEvent::Response(_) => {}
                }
            }
            if self.engine.is_ready() || self.engine.is_closed() || self.engine.is_upgraded() {
                return None;
            }
            if let Err(e) = self.read().await {
                return Some(Err(e));
            }
        }
    }

    /// One read from the socket into the engine.
    async fn read(&mut self) -> Result<(), ClientError> {
        let n = self.io.read(&mut self.buf).await.map_err(ClientError::Io)?;
        let now = Instant::now();
        if n == 0 {
            self.engine.handle_eof(now);
        } else {
            self.engine.handle_input(now, &self.buf[..n]);
        }
        Ok(())
    }

    /// Polls the idle socket once without waiting: anything but "nothing to read" means the connection is
    /// done for (an EOF, a reset, or bytes the server had no reason to send).
    pub(crate) fn is_stale(&mut self) -> bool {
        if !self.engine.is_ready() {
            return true;
        }
        let mut probe = [0u8; 1];
        let mut buf = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(Waker::noop());
        let ready = Pin::new(&mut self.io).poll_read(&mut cx, &mut buf);
        !matches!(ready, Poll::Pending)
    }
}
