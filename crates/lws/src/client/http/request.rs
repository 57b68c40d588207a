//! [`PreparedRequest`]: a request as it goes to a connection — built once from the builder's options, then
//! written by whichever wire driver the connection speaks, so both protocols send and refuse the same
//! requests.

use bytes::Bytes;
use lws_proto::http1::client::RequestError;

use super::super::url::WsUrl;

/// A request ready for the wire: its head fields and whole body.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
    /// The method, as given (checked by the drivers, not here).
    pub(crate) method: String,
    /// Origin-form target (`/path?query`), ASCII.
    pub(crate) target: String,
    /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2).
    pub(crate) host: String,
    /// The other header fields, `Host` removed and a `User-Agent` added unless given.
    pub(crate) headers: Vec<(String, String)>,
    /// The whole body, if any.
    pub(crate) body: Option<Bytes>,
}

impl PreparedRequest {
    /// The request's head fields: target from the URL (bytes a request line cannot carry percent-encoded),
    /// `Host` from the URL unless given, a `User-Agent` unless given.
    pub(crate) fn new(
        url: &WsUrl,
        method: &str,
        headers: &[(String, String)],
        body: Option<Bytes>,
    ) -> PreparedRequest {
        let mut host = url.host_header.clone();
        let mut out = Vec::with_capacity(headers.len() + 1);
        for (n, v) in headers {
            if n.eq_ignore_ascii_case("host") {
                host = v.clone();
            } else {
                out.push((n.clone(), v.clone()));
            }
        }
        if !out
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        {
            out.push((
                "user-agent".into(),
                concat!("lws-rs/", env!("CARGO_PKG_VERSION")).into(),
            ));
        }
        PreparedRequest {
            method: method.to_string(),
            target: origin_form(&url.resource),
            host,
            headers: out,
            body,
        }
    }

    /// Whether the method is idempotent (RFC 9110 §9.2.2), so a request lost to a stale connection may be
    /// sent again.
    pub(crate) fn is_idempotent(&self) -> bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]
            .iter()
            .any(|m| self.method.eq_ignore_ascii_case(m))
    }

    /// The `Content-Length` to send: the body's length, `0` for a bodiless POST, PUT or PATCH (methods that
    /// define a meaning for content, for which RFC 9110 §8.6 asks for a length), none otherwise.
    pub(crate) fn content_length(&self) -> Option<u64> {
        match &self.body {
            Some(b) => Some(b.len() as u64),
            None if ["POST", "PUT", "PATCH"]
                .iter()
                .any(|m| self.method.eq_ignore_ascii_case(m)) =>
            {
                Some(0)
            }
            None => None,
        }
    }

    /// The checks the HTTP/1.1 engine makes on a request, for the HTTP/2 driver, so both protocols refuse
    /// the same requests.
    pub(crate) fn check(&self) -> Result<(), RequestError> {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        if !token(&self.method) {
            return Err(RequestError::InvalidMethod);
        }
        if self.target.is_empty() || !self.target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RequestError::InvalidTarget);
        }
        for (n, v) in &self.headers {
            if !token(n) || v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(RequestError::InvalidHeader(n.clone()));
            }
            if ["content-length", "transfer-encoding", "host"]
                .iter()
                .any(|r| n.eq_ignore_ascii_case(r))
            {
                return Err(RequestError::ReservedHeader(n.clone()));
            }
        }
        if self
            .host
            .bytes()
            .any(|b| b == b'\r' || b == b'\n' || b == 0)
        {
            return Err(RequestError::InvalidHeader("host".into()));
        }
        Ok(())
    }
}

/// The origin-form target of a URL's resource: bytes a request line cannot carry are percent-encoded.
fn origin_form(resource: &str) -> String {
    let mut target = String::with_capacity(resource.len());
    for b in resource.bytes() {
        if b.is_ascii_graphic() {
            target.push(b as char);
        } else {
            target.push_str(&format!("%{b:02X}"));
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_head() {
        let url = WsUrl::parse_http("http://h:81/a b?q").unwrap();
        let req = PreparedRequest::new(
            &url,
            "GET",
            &[("Host".into(), "virtual".into()), ("x".into(), "1".into())],
            None,
        );
        assert_eq!(req.target, "/a%20b?q");
        assert_eq!(req.host, "virtual");
        assert_eq!(req.headers[0], ("x".into(), "1".into()));
        assert!(req.headers[1].1.starts_with("lws-rs/"));
    }
}
