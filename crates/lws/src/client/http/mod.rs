//! The HTTP client: [`HttpRequestBuilder`] (made by [`super::http`] or [`HttpClient::request`]) sends one
//! request, following redirects, and gives an [`HttpResponse`] whose body is read as a stream or whole.
//!
//! Layout: `builder` (request options, redirects, timeout), `redirect` (the redirect rules), `pool`
//! ([`HttpClient`] and connection reuse), `connection` (the protocol-independent connection the pool holds),
//! `h1` (HTTP/1.1 over the `lws_proto::http1::client` engine), `h2` (HTTP/2 over `lws_proto::h2`, a task
//! per connection multiplexing requests and WebSocket streams), `response`, `multipart`. The protocol is
//! chosen per connection by ALPN (or h2c prior knowledge); everything above the connection is the same.

mod builder;
mod client;
pub(crate) mod connection;
mod h1;
mod h2;
pub(crate) mod h2_handle;
mod h2_link;
mod h2_task;
mod head;
mod headers;
mod multipart;
pub(crate) mod pool;
mod redirect;
mod request;
mod response;

pub use builder::{HttpRequestBuilder, DEFAULT_MAX_BODY, DEFAULT_MAX_REDIRECTS};
pub use client::{HttpClient, HttpClientBuilder, DEFAULT_MAX_CONNECTIONS_PER_ORIGIN};
pub use head::HttpVersion;
pub use headers::Headers;
pub use multipart::Multipart;
pub use pool::DEFAULT_IDLE_TIMEOUT;
pub use response::HttpResponse;
