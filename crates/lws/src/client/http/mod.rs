//! The HTTP client: [`HttpRequestBuilder`] (made by [`super::http`] or [`HttpClient::request`]) sends one
//! request, following redirects, and gives an [`HttpResponse`] whose body is read as a stream or whole.
//!
//! Layout, top to bottom; a file imports only files below it:
//! - `client`: [`HttpClient`], the handle that makes pooled requests and WebSockets;
//! - `builder`: request options, redirects, timeout, retrying a stale connection; `response`: the
//!   [`HttpResponse`] that holds its connection until the body is read;
//! - `pool`: keep-alive connections per origin, shared HTTP/2 connections, the per-origin cap;
//! - `connection`: one connection, HTTP/1.1 or HTTP/2, and one exchange on it;
//! - the wire drivers: `h1` (over the `lws_proto::http1::client` engine) and `h2` (over `lws_proto::h2`:
//!   `h2` one exchange, `h2_handle` the shared connection, `h2_task` the task multiplexing requests and
//!   WebSocket streams, `h2_link` what handles and task say to each other);
//! - shared types: `request` (the request for the wire), `head` and `headers` (the response head),
//!   `redirect` (the redirect rules), `multipart` (form bodies).
//!
//! The protocol is chosen per connection by ALPN (or h2c prior knowledge); everything above the connection
//! is the same.

mod builder;
mod client;
pub(crate) mod connection;
pub(crate) mod h1;
mod h2;
pub(crate) mod h2_handle;
mod h2_link;
mod h2_task;
pub(crate) mod head;
mod headers;
mod multipart;
pub(crate) mod pool;
mod redirect;
pub(crate) mod request;
mod response;

pub use builder::{HttpRequestBuilder, DEFAULT_MAX_BODY, DEFAULT_MAX_REDIRECTS};
pub use client::{HttpClient, HttpClientBuilder, DEFAULT_MAX_CONNECTIONS_PER_ORIGIN};
pub use head::HttpVersion;
pub use headers::Headers;
pub use multipart::Multipart;
pub use pool::DEFAULT_IDLE_TIMEOUT;
pub use response::HttpResponse;
