//! [`ClientError`]: one error type for every way the clients fail, from a bad URL to a reset HTTP/2
//! stream, so that connecting, WebSockets and HTTP requests share their helpers and
//! [`connect_with_retry`](super::connect_with_retry) can ask any failure whether it is transient.

use std::fmt;
use std::io;
use std::path::PathBuf;

use lws_proto::http1::client::{
    RequestError as HttpRequestError, ResponseError as HttpResponseError,
};
use lws_proto::ws::handshake::HandshakeError;
use lws_proto::ws::pmd::PmdNegotiationError;
use lws_proto::ws::WsError;

use super::url::UrlError;

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
    /// The CA file given with [`WsClientBuilder::ca_file`](super::WsClientBuilder::ca_file) could not be
    /// read or holds no certificate.
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
    /// [`WsClientBuilder::connect_timeout`](super::WsClientBuilder::connect_timeout).
    Timeout,
    /// The server refused the upgrade with this HTTP status instead of 101.
    Status(u16),
    /// The server's response to the WebSocket upgrade is not valid HTTP/1.1.
    MalformedResponse,
    /// The server's response to the WebSocket upgrade is larger than
    /// [`WsClientBuilder::max_response_head`](super::WsClientBuilder::max_response_head).
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
    /// [`HttpRequestBuilder::timeout`](super::HttpRequestBuilder::timeout).
    RequestTimeout,
    /// The response body is larger than
    /// [`HttpRequestBuilder::max_body`](super::HttpRequestBuilder::max_body) allows.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More redirects than
    /// [`HttpRequestBuilder::follow_redirects`](super::HttpRequestBuilder::follow_redirects) allows (a
    /// redirect loop, usually).
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
