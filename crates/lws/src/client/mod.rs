//! The clients (libwebsockets' `lws_client_connect_via_info()`): WebSocket ([`ws`]) and HTTP ([`http`],
//! [`HttpClient`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), lws::client::ClientError> {
//! use lws::client::{self, Message};
//!
//! let mut ws = client::ws("ws://127.0.0.1:7681/").protocol("lws-minimal").connect().await?;
//! ws.send(Message::Text("hello".into())).await?;
//! while let Some(msg) = ws.recv().await {
//!     match msg? {
//!         Message::Text(t) => println!("{t}"),
//!         Message::Close(_) => break,
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`WebSocket`] is also a `futures` `Stream` of incoming messages and a `Sink` of outgoing ones. It has no
//! background task: the connection makes progress — including answering the server's pings — only while it
//! is polled (read, sent to, flushed or closed), like a tokio socket. Read it continuously (for example from
//! its own task after splitting it with a combinator) or the server's pings go unanswered.
//!
//! Reconnecting is the application's decision, as in libwebsockets; [`RetryPolicy`] computes libwebsockets'
//! backoff and [`connect_with_retry`] applies it to connecting.
//!
//! HTTP requests go through [`http`] (one connection per request) or an [`HttpClient`] (keep-alive
//! connections reused per origin); see the [`HttpRequestBuilder`] options:
//!
//! ```no_run
//! # async fn demo() -> Result<(), lws::client::ClientError> {
//! let resp = lws::client::http("http://127.0.0.1:7681/index.html").send().await?;
//! println!("{} {:?}", resp.status(), resp.header("content-type"));
//! let body = resp.text().await?;
//! # Ok(())
//! # }
//! ```

mod builder;
mod http;
mod retry;
mod socket;
#[cfg(feature = "tls")]
mod tls;
mod url;

use std::fmt;
use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use lws_proto::ws::handshake::HandshakeError;
use lws_proto::ws::pmd::PmdNegotiationError;
use lws_proto::ws::WsError;

pub use builder::{
    WsClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_HEAD, DEFAULT_SEND_HIGH_WATER,
};
pub use http::{
    Headers, HttpClient, HttpClientBuilder, HttpRequestBuilder, HttpResponse, HttpVersion,
    Multipart, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
    DEFAULT_MAX_REDIRECTS,
};
pub use lws_proto::http1::client::{
    RequestError as HttpRequestError, ResponseError as HttpResponseError,
};
pub use retry::{connect_with_retry, RetryPolicy, DEFAULT_JITTER_PERCENT};
pub use socket::WebSocket;
pub use url::UrlError;

/// Starts building a WebSocket client connection to a `ws://` or `wss://` URL; nothing happens until
/// [`WsClientBuilder::connect`]. A malformed URL is reported by `connect` as [`ClientError::Url`].
pub fn ws(url: &str) -> WsClientBuilder {
    WsClientBuilder::new(url)
}

/// Starts building an HTTP request (GET unless [`HttpRequestBuilder::method`] says otherwise) to an
/// `http://` or `https://` URL, sent on a connection of its own by [`HttpRequestBuilder::send`]: HTTP/2 when
/// the server picks it by ALPN on `https` (or with [`HttpRequestBuilder::http2_prior_knowledge`]), else
/// HTTP/1.1. Use an
/// [`HttpClient`] to reuse connections between requests. A malformed URL is reported by `send` as
/// [`ClientError::Url`].
pub fn http(url: &str) -> HttpRequestBuilder {
    HttpRequestBuilder::new(None, url)
}

/// One WebSocket message, sent or received.
///
/// The stream of a [`WebSocket`] yields `Text` and `Binary` messages, then, after the closing handshake,
/// one `Close` with the server's code and reason, then ends. Pings are answered automatically and neither
/// `Ping` nor `Pong` appears in the stream. All variants can be sent: `Ping`/`Pong` send those control
/// frames (at most 125 bytes), `Close` starts the closing handshake with that code (`None`: a Close without
/// a body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A Ping control frame.
    Ping(Bytes),
    /// A Pong control frame.
    Pong(Bytes),
    /// A Close frame: its code and reason, or `None` when it had no body.
    Close(Option<(u16, String)>),
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Message::Text(s.to_string())
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Message::Binary(Bytes::from(v))
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

/// Why connecting failed, why an open WebSocket failed, or why an HTTP request failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum ClientError {
    /// The URL is not a usable `ws://` or `wss://` URL.
    Url(UrlError),
    /// The host name did not resolve to any address.
    Dns(io::Error),
    /// No address of the host accepted a TCP connection (the error of the last one tried).
    Connect(io::Error),
    /// A `wss://` or `https://` URL, but lws was built without its `tls` feature.
    TlsUnavailable,
    /// The CA file given with [`WsClientBuilder::ca_file`] could not be read or holds no certificate.
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// No CA file was given and the operating system's root certificates could not be loaded.
    NoRootCertificates,
    /// The TLS handshake failed: the server's certificate is not trusted or not for this host, or TLS itself
    /// failed (the inner error holds the `rustls::Error`).
    Tls(io::Error),
    /// The connection (TCP, TLS and the opening handshake) took longer than
    /// [`WsClientBuilder::connect_timeout`].
    Timeout,
    /// The server refused the upgrade with this HTTP status instead of 101.
    Status(u16),
    /// The server's response to the WebSocket upgrade is not valid HTTP/1.1.
    MalformedResponse,
    /// The server's response to the WebSocket upgrade is larger than
    /// [`WsClientBuilder::max_response_head`].
    ResponseTooLarge,
    /// The 101 response breaks RFC 6455: wrong `Sec-WebSocket-Accept`, a subprotocol that was not offered,
    /// missing `Upgrade`/`Connection`.
    Handshake(HandshakeError),
    /// The server answered with `Sec-WebSocket-Extensions` although we offered no extension.
    UnofferedExtension,
    /// The server's permessage-deflate answer contradicts our offer (RFC 7692 §7.1).
    Extension(PmdNegotiationError),
    /// The open WebSocket failed: the server broke RFC 6455 (our Close with the matching code was sent), or
    /// the connection was lost without a closing handshake ([`WsError::ConnectionLost`]).
    Protocol(WsError),
    /// Nothing more can be sent: the closing handshake has started or the connection is over.
    Closed,
    /// Reading or writing the socket failed.
    Io(io::Error),
    /// The HTTP request could not be sent as built (an invalid method or header line, for example).
    Request(HttpRequestError),
    /// The server's HTTP response broke RFC 9112 (malformed head, bad framing, or the connection closed
    /// mid-response); see [`HttpResponseError`].
    Response(HttpResponseError),
    /// The HTTP request (connecting, sending and receiving the whole response) took longer than
    /// [`HttpRequestBuilder::timeout`].
    RequestTimeout,
    /// The response body is larger than [`HttpRequestBuilder::max_body`] allows.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More redirects than [`HttpRequestBuilder::follow_redirects`] allows (a redirect loop, usually).
    TooManyRedirects {
        /// The number of redirects that were followed.
        followed: usize,
    },
    /// A redirect from `https://` to `http://`, refused so that nothing meant for TLS travels in clear.
    InsecureRedirect {
        /// The `Location` that was refused.
        location: String,
    },
    /// A redirect whose `Location` is not a usable URL.
    BadRedirect {
        /// The `Location` header as received (lossily decoded).
        location: String,
        /// What is wrong with it.
        error: UrlError,
    },
    /// The server did not process an HTTP/2 request: it refused the stream (RST_STREAM REFUSED_STREAM) or
    /// went away (GOAWAY) before it, or the connection ended before it was sent. Safe to send again.
    Http2Refused,
    /// The server reset the HTTP/2 stream with this error code (RFC 9113 §7).
    Http2Reset(u32),
    /// The HTTP/2 connection failed.
    Http2(String),
    /// The server's HTTP/2 SETTINGS do not enable extended CONNECT (RFC 8441), so no WebSocket can ride it.
    Http2ConnectUnsupported,
}

impl ClientError {
    /// Whether trying again later may succeed (network, TLS, timeout, server errors 5xx), as opposed to a
    /// mistake that repeats (bad URL, missing CA file, refused upgrade, broken handshake).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Dns(_)
            | ClientError::Connect(_)
            | ClientError::Tls(_)
            | ClientError::Timeout
            | ClientError::Io(_)
            | ClientError::Protocol(_)
            | ClientError::RequestTimeout
            | ClientError::Http2Refused
            | ClientError::Http2(_) => true,
            ClientError::Response(e) => matches!(
                e,
                HttpResponseError::ClosedBeforeResponse
                    | HttpResponseError::IncompleteHead
                    | HttpResponseError::IncompleteBody
            ),
            ClientError::Status(s) => *s >= 500,
            _ => false,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Url(e) => write!(f, "bad URL: {e}"),
            ClientError::Dns(e) => write!(f, "name resolution failed: {e}"),
            ClientError::Connect(e) => write!(f, "connect failed: {e}"),
            ClientError::TlsUnavailable => {
                f.write_str("wss:// and https:// need lws built with the tls feature")
            }
            ClientError::CaFile { path, error } => {
                write!(f, "CA file {}: {error}", path.display())
            }
            ClientError::NoRootCertificates => f.write_str("no system root certificates found"),
            ClientError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            ClientError::Timeout => f.write_str("connection timed out"),
            ClientError::Status(s) => write!(f, "server refused the upgrade with status {s}"),
            ClientError::MalformedResponse => f.write_str("malformed HTTP response head"),
            ClientError::ResponseTooLarge => f.write_str("HTTP response head too large"),
            ClientError::Handshake(e) => write!(f, "WebSocket handshake failed: {e}"),
            ClientError::UnofferedExtension => {
                f.write_str("server accepted an extension that was not offered")
            }
            ClientError::Extension(e) => write!(f, "bad permessage-deflate answer: {e}"),
            ClientError::Protocol(e) => write!(f, "WebSocket failed: {e}"),
            ClientError::Closed => f.write_str("the WebSocket is closed"),
            ClientError::Io(e) => write!(f, "I/O error: {e}"),
            ClientError::Request(e) => write!(f, "cannot send the request: {e}"),
            ClientError::Response(e) => write!(f, "bad HTTP response: {e}"),
            ClientError::RequestTimeout => f.write_str("the request timed out"),
            ClientError::BodyTooLarge { limit } => {
                write!(f, "response body larger than the {limit} byte limit")
            }
            ClientError::TooManyRedirects { followed } => {
                write!(f, "too many redirects (followed {followed})")
            }
            ClientError::InsecureRedirect { location } => {
                write!(f, "refused redirect from https to {location:?}")
            }
            ClientError::BadRedirect { location, error } => {
                write!(f, "bad redirect location {location:?}: {error}")
            }
            ClientError::Http2Refused => {
                f.write_str("the server did not process the HTTP/2 request")
            }
            ClientError::Http2Reset(code) => write!(
                f,
                "the server reset the HTTP/2 stream ({})",
                lws_proto::h2::Reason(*code).name()
            ),
            ClientError::Http2(e) => write!(f, "HTTP/2 connection failed: {e}"),
            ClientError::Http2ConnectUnsupported => {
                f.write_str("the server does not accept WebSockets over HTTP/2")
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Url(e) => Some(e),
            ClientError::Dns(e)
            | ClientError::Connect(e)
            | ClientError::Tls(e)
            | ClientError::Io(e)
            | ClientError::CaFile { error: e, .. } => Some(e),
            ClientError::Handshake(e) => Some(e),
            ClientError::Protocol(e) => Some(e),
            ClientError::Extension(e) => Some(e),
            ClientError::Request(e) => Some(e),
            ClientError::Response(e) => Some(e),
            ClientError::BadRedirect { error, .. } => Some(error),
            _ => None,
        }
    }
}
