//! [`HttpRequestBuilder`]: one request's options, and sending it (connection, redirects, timeout).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::super::dial::DEFAULT_CONNECT_TIMEOUT;
use super::super::error::ClientError;
use super::super::origin::{H2Mode, Origin};
#[cfg(feature = "tls")]
use super::super::tls::Trust;
use super::super::url::WsUrl;
use super::connection::{ConnectOptions, Connection};
use super::multipart::Multipart;
use super::pool::{Checkout, Pool, DEFAULT_IDLE_TIMEOUT};
use super::redirect;
use super::request::PreparedRequest;
use super::response::HttpResponse;
use lws_proto::http1::client::{ResponseError, DEFAULT_MAX_RESPONSE_HEAD};

/// Default [`HttpRequestBuilder::max_body`]: 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;
/// Default [`HttpRequestBuilder::follow_redirects`]: 5.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// The body of a redirect response is read (so its connection can be reused) up to this size.
const MAX_DISCARDED_REDIRECT_BODY: usize = 64 * 1024;

/// The options of one HTTP request; made by [`super::super::http`] (a connection of its own) or
/// [`HttpClient::request`](super::HttpClient::request) (pooled connections), sent by
/// [`HttpRequestBuilder::send`].
///
/// ```no_run
/// # async fn demo() -> Result<(), lws::client::ClientError> {
/// use std::time::Duration;
///
/// let resp = lws::client::http("https://127.0.0.1:7681/formtest")
///     .method("POST")
///     .form_urlencoded(&[("text1", "hello world"), ("send", "Send")])
///     .timeout(Duration::from_secs(10))
///     .follow_redirects(0)
///     .send()
///     .await?;
/// assert_eq!(resp.status(), 303);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpRequestBuilder {
    /// The pool of the [`HttpClient`](super::HttpClient) that made the builder; `None`: a connection of
    /// the request's own.
    pool: Option<Arc<Pool>>,
    /// The URL as given, parsed by `send` (so that building never fails).
    url: String,
    /// See [`HttpRequestBuilder::method`].
    method: String,
    /// See [`HttpRequestBuilder::header`].
    headers: Vec<(String, String)>,
    /// See [`HttpRequestBuilder::body`].
    body: Option<Bytes>,
    /// See [`HttpRequestBuilder::timeout`].
    timeout: Option<Duration>,
    /// See [`HttpRequestBuilder::connect_timeout`].
    connect_timeout: Duration,
    /// See [`HttpRequestBuilder::follow_redirects`].
    max_redirects: usize,
    /// See [`HttpRequestBuilder::max_body`].
    max_body: usize,
    /// See [`HttpRequestBuilder::max_response_head`].
    max_response_head: usize,
    /// See [`HttpRequestBuilder::http1_only`].
    http1_only: bool,
    /// See [`HttpRequestBuilder::http2_prior_knowledge`].
    h2_prior_knowledge: bool,
    #[cfg(feature = "tls")]
    /// See [`HttpRequestBuilder::ca_file`] and [`HttpRequestBuilder::allow_self_signed_for_tests`].
    trust: Trust,
}

impl HttpRequestBuilder {
    /// A GET of `url` with the default options, sent through `pool` (with its defaults) or, without one,
    /// on a connection of its own.
    pub(crate) fn new(pool: Option<Arc<Pool>>, url: &str) -> Self {
        let (http1_only, h2_prior_knowledge) = pool
            .as_ref()
            .map_or((false, false), |p| p.request_defaults());
        HttpRequestBuilder {
            http1_only,
            h2_prior_knowledge,
            pool,
            url: url.to_string(),
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            timeout: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_body: DEFAULT_MAX_BODY,
            max_response_head: DEFAULT_MAX_RESPONSE_HEAD,
            #[cfg(feature = "tls")]
            trust: Trust::default(),
        }
    }

    /// The method (default `GET`). An invalid token fails `send` with [`ClientError::Request`].
    pub fn method(mut self, method: &str) -> Self {
        self.method = method.to_string();
        self
    }

    /// Adds a header line. `Host` replaces the one taken from the URL; `Content-Length` and
    /// `Transfer-Encoding` are written from the body and refused here (as is any name or value that could
    /// split the request: `send` fails with [`ClientError::Request`]).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The request body, sent with `Content-Length`.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// An `application/x-www-form-urlencoded` body of these fields (and that `Content-Type`). Does not
    /// change the method: pair it with `.method("POST")`.
    pub fn form_urlencoded(mut self, fields: &[(&str, &str)]) -> Self {
        let mut out = String::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            form_encode(name, &mut out);
            out.push('=');
            form_encode(value, &mut out);
        }
        self.set_content_type("application/x-www-form-urlencoded");
        self.body = Some(Bytes::from(out));
        self
    }

    /// A `multipart/form-data` body (and its `Content-Type` with the boundary). Does not change the
    /// method: pair it with `.method("POST")`.
    pub fn multipart(mut self, form: Multipart) -> Self {
        let (content_type, body) = form.into_body();
        self.set_content_type(&content_type);
        self.body = Some(body);
        self
    }

    /// Time allowed for the whole request: connecting, sending, every redirect, and reading the response
    /// body; beyond it [`ClientError::RequestTimeout`]. Default: no limit besides the connect timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Time allowed for resolving, connecting and TLS on each new connection; default 20 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Follows at most `max` redirects (default 5); `0` returns redirect responses as they are. 301, 302 and
    /// 303 continue as GET without the body, 307 and 308 repeat the method and body. A relative `Location`
    /// is resolved against the request's URL; another origin is allowed (credential headers —
    /// `Authorization`, `Cookie` — are dropped then), but `https` to `http` is refused with
    /// [`ClientError::InsecureRedirect`]. One more redirect than allowed is
    /// [`ClientError::TooManyRedirects`].
    pub fn follow_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Largest body [`HttpResponse::bytes`] and [`HttpResponse::text`] accept; default 16 MiB.
    pub fn max_body(mut self, n: usize) -> Self {
        self.max_body = n;
        self
    }

    /// Largest response head accepted; default 16 KiB.
    pub fn max_response_head(mut self, n: usize) -> Self {
        self.max_response_head = n;
        self
    }

    /// Speaks HTTP/1.1 only: `https` offers ALPN `http/1.1` alone. Without it, `https` offers `h2, http/1.1`
    /// and uses HTTP/2 when the server picks it.
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self.h2_prior_knowledge = false;
        self
    }

    /// For `http://`: speaks HTTP/2 from the first byte (h2c with prior knowledge, RFC 9113 §3.3), for
    /// servers known to accept it. No effect on `https://`, where ALPN decides.
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.h2_prior_knowledge = true;
        self.http1_only = false;
        self
    }

    /// Trusts the certificates in this PEM file **instead of** the operating system's roots (see
    /// [`super::super::WsClientBuilder::ca_file`]). Only for `https://`.
    #[cfg(feature = "tls")]
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.trust = Trust::CaFile(path.into());
        self
    }

    /// **DANGER, tests only**: accepts any server certificate, so anybody on the network path can
    /// impersonate the server (see [`super::super::WsClientBuilder::allow_self_signed_for_tests`]). Prefer
    /// [`HttpRequestBuilder::ca_file`] with the server's certificate.
    #[cfg(feature = "tls")]
    pub fn allow_self_signed_for_tests(mut self) -> Self {
        self.trust = Trust::AnyForTests;
        self
    }

    /// Sends the request and waits for the response head (following redirects); read the body from the
    /// returned [`HttpResponse`].
    pub async fn send(self) -> Result<HttpResponse, ClientError> {
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        match deadline {
            Some(d) => tokio::time::timeout_at(d, self.follow(deadline))
                .await
                .unwrap_or(Err(ClientError::RequestTimeout)),
            None => self.follow(None).await,
        }
    }

    /// Replaces any `Content-Type` given so far: a body helper knows its type better.
    fn set_content_type(&mut self, value: &str) {
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("content-type".into(), value.to_string()));
    }

    /// Sends the request, then each redirect hop.
    async fn follow(
        self,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<HttpResponse, ClientError> {
        let mut url_text = self.url.clone();
        let mut url = WsUrl::parse_http(&self.url).map_err(ClientError::Url)?;
        let mut method = self.method.clone();
        let mut body = self.body.clone();
        let mut headers = self.headers.clone();
        let mut followed = 0;
        loop {
            let resp = self
                .exchange(&url, &url_text, &method, &headers, body.clone(), deadline)
                .await?;
            if self.max_redirects == 0 || !redirect::is_redirect(resp.status()) {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get_bytes("location") else {
                return Ok(resp);
            };
            let location = String::from_utf8_lossy(location).into_owned();
            if followed == self.max_redirects {
                return Err(ClientError::TooManyRedirects { followed });
            }
            let hop = redirect::next_hop(resp.status(), &url, &location)?;
            // Frees the connection (for reuse when the body is small) before the next hop needs one.
            resp.discard(MAX_DISCARDED_REDIRECT_BODY).await;
            hop.rewrite(&mut method, &mut body, &mut headers);
            url = hop.parsed;
            url_text = hop.url;
            followed += 1;
        }
    }

    /// One request and its response head, on a pooled or a fresh connection. A pooled connection that turns
    /// out to have been closed by the server is replaced once, for idempotent methods.
    async fn exchange(
        &self,
        url: &WsUrl,
        url_text: &str,
        method: &str,
        headers: &[(String, String)],
        body: Option<Bytes>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<HttpResponse, ClientError> {
        let origin = Origin::new(
            url,
            H2Mode::for_url(url, self.http1_only, self.h2_prior_knowledge),
            #[cfg(feature = "tls")]
            &self.trust,
        );
        let opts = ConnectOptions {
            connect_timeout: self.connect_timeout,
            max_response_head: self.max_response_head,
            idle_timeout: self
                .pool
                .as_ref()
                .map_or(DEFAULT_IDLE_TIMEOUT, |p| p.idle_timeout),
        };
        let req = PreparedRequest::new(url, method, headers, body);
        let mut retried = false;
        loop {
            let mut checkout = match &self.pool {
                Some(pool) => pool.checkout(&origin, &opts, retried).await?,
                None => Checkout::one_shot(Connection::open(&origin, &opts).await?),
            };
            match checkout.conn().send(&req).await {
                Ok(start) => {
                    return Ok(HttpResponse::new(
                        start,
                        checkout,
                        url_text.to_string(),
                        deadline,
                        self.max_body,
                    ))
                }
                Err(e)
                    if !retried
                        && req.is_idempotent()
                        && (checkout.reused && stale(&e)
                            || matches!(e, ClientError::Http2Refused)) =>
                {
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a failure on a reused connection means the server had closed it before seeing the request (a
/// refused HTTP/2 stream is retried whether or not the connection was reused).
fn stale(e: &ClientError) -> bool {
    match e {
        ClientError::Response(ResponseError::ClosedBeforeResponse) => true,
        ClientError::Io(e) => matches!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// `application/x-www-form-urlencoded` encoding of one name or value (WHATWG URL, §5.2).
fn form_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoding() {
        let mut s = String::new();
        form_encode("a b&c=d/é*", &mut s);
        assert_eq!(s, "a+b%26c%3Dd%2F%C3%A9*");
    }
}
