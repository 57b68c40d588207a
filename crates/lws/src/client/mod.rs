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

// Layers, top to bottom; a file imports only files of the layers below it (client/mod.rs only re-exports):
// - handles: http/client.rs (HttpClient), retry.rs (connect_with_retry);
// - builders: builder.rs (WsClientBuilder), http/builder.rs (HttpRequestBuilder), http/response.rs;
// - pool: http/pool.rs;
// - connection: http/connection.rs;
// - wire drivers: http/h1.rs, http/h2*.rs (HTTP), socket.rs (the WebSocket), upgrade.rs (the 101 answer);
// - shared: dial.rs, origin.rs, tls.rs, transport.rs, url.rs, error.rs, message.rs, and http/request.rs,
//   head.rs, headers.rs, redirect.rs, multipart.rs.
pub(crate) mod builder;
mod dial;
pub(crate) mod error;
pub(crate) mod http;
mod message;
pub(crate) mod origin;
mod retry;
mod socket;
#[cfg(feature = "tls")]
mod tls;
#[cfg(test)]
pub(crate) use tls::any_cert_for_tests;
pub(crate) mod transport;
mod upgrade;
mod url;

pub use builder::{WsClientBuilder, DEFAULT_MAX_RESPONSE_HEAD, DEFAULT_SEND_HIGH_WATER};
pub use dial::DEFAULT_CONNECT_TIMEOUT;
pub use error::ClientError;
pub use http::{
    Headers, HttpClient, HttpClientBuilder, HttpRequestBuilder, HttpResponse, HttpVersion,
    Multipart, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
    DEFAULT_MAX_REDIRECTS,
};
pub use lws_proto::http1::client::{
    RequestError as HttpRequestError, ResponseError as HttpResponseError,
};
pub use message::Message;
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
