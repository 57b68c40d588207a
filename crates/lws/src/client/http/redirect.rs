//! Following redirects (RFC 9110 §15.4): which statuses, what becomes of the method and body, where the
//! `Location` points, and which hops are refused.

use bytes::Bytes;

use super::super::error::ClientError;
use super::super::url::{UrlError, WsUrl};

/// Header fields that carry credentials: dropped when a redirect leaves the origin.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// What the next request of a redirect chain looks like.
#[derive(Debug)]
pub(crate) struct Hop {
    /// The absolute URL to request.
    pub(crate) url: String,
    /// `url`, parsed.
    pub(crate) parsed: WsUrl,
    /// 301/302/303: the next request is a GET (a HEAD stays a HEAD) without the body.
    pub(crate) to_get: bool,
    /// The hop leaves the origin: credentials must not follow.
    pub(crate) cross_origin: bool,
}

impl Hop {
    /// Turns the request just answered into the next hop's: a GET without the body (and its
    /// `Content-Type`/`Content-Encoding`) after 301/302/303, and without credentials or a `Host` given for
    /// the old origin when the hop leaves it.
    pub(crate) fn rewrite(
        &self,
        method: &mut String,
        body: &mut Option<Bytes>,
        headers: &mut Vec<(String, String)>,
    ) {
        if self.to_get {
            if !method.eq_ignore_ascii_case("HEAD") {
                *method = "GET".into();
            }
            *body = None;
            headers.retain(|(n, _)| {
                !n.eq_ignore_ascii_case("content-type")
                    && !n.eq_ignore_ascii_case("content-encoding")
            });
        }
        if self.cross_origin {
            headers.retain(|(n, _)| {
                !CREDENTIAL_HEADERS.iter().any(|c| n.eq_ignore_ascii_case(c))
                    && !n.eq_ignore_ascii_case("host")
            });
        }
    }
}

/// Whether `status` is a redirect this client follows.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next hop for a redirect from `base` to `location`; an https-to-http hop is refused.
pub(crate) fn next_hop(status: u16, base: &WsUrl, location: &str) -> Result<Hop, ClientError> {
    let bad = |error| ClientError::BadRedirect {
        location: location.to_string(),
        error,
    };
    let url = resolve(base, location).map_err(bad)?;
    let parsed = WsUrl::parse_http(&url).map_err(bad)?;
    if base.tls && !parsed.tls {
        return Err(ClientError::InsecureRedirect { location: url });
    }
    Ok(Hop {
        to_get: matches!(status, 301..=303),
        cross_origin: parsed.origin() != base.origin(),
        url,
        parsed,
    })
}

/// Resolves a `Location` value against the URL of the request it answered (RFC 3986 §5.2, for the forms a
/// server sends: absolute, scheme-relative, absolute-path, relative-path and query-only).
pub(crate) fn resolve(base: &WsUrl, location: &str) -> Result<String, UrlError> {
    let location = location.trim();
    if location.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let scheme = if base.tls { "https" } else { "http" };
    if location.contains("://")
        && location.split("://").next().is_some_and(|s| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        })
    {
        return Ok(location.to_string());
    }
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    let authority = if base.host.contains(':') {
        format!("[{}]:{}", base.host, base.port)
    } else {
        format!("{}:{}", base.host, base.port)
    };
    let (base_path, _) = base
        .resource
        .split_once('?')
        .unwrap_or((base.resource.as_str(), ""));
    let location = location.split('#').next().unwrap_or("");
    let path = if location.starts_with('/') {
        location.to_string()
    } else if location.starts_with('?') {
        format!("{base_path}{location}")
    } else {
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{location}")
    };
    Ok(format!(
        "{scheme}://{authority}{}",
        remove_dot_segments(&path)
    ))
}

/// RFC 3986 §5.2.4 on the path, leaving the query alone.
fn remove_dot_segments(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut s = format!("/{}", out.join("/"));
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> WsUrl {
        WsUrl::parse_http("http://h:8080/a/b/c?x=1").unwrap()
    }

    #[test]
    fn resolves_every_form() {
        let b = base();
        assert_eq!(resolve(&b, "https://o/p").unwrap(), "https://o/p");
        assert_eq!(resolve(&b, "//o:1/p").unwrap(), "http://o:1/p");
        assert_eq!(resolve(&b, "/p?q").unwrap(), "http://h:8080/p?q");
        assert_eq!(resolve(&b, "d").unwrap(), "http://h:8080/a/b/d");
        assert_eq!(resolve(&b, "../d/./e").unwrap(), "http://h:8080/a/d/e");
        assert_eq!(resolve(&b, "../../../../d").unwrap(), "http://h:8080/d");
        assert_eq!(resolve(&b, "?y=2").unwrap(), "http://h:8080/a/b/c?y=2");
        assert_eq!(resolve(&b, "./").unwrap(), "http://h:8080/a/b/");
        assert!(resolve(&b, " ").is_err());
    }

    #[test]
    fn refuses_downgrade_and_tracks_origin() {
        let tls = WsUrl::parse_http("https://h/").unwrap();
        assert!(matches!(
            next_hop(302, &tls, "http://h/"),
            Err(ClientError::InsecureRedirect { .. })
        ));
        let hop = next_hop(307, &base(), "/x").unwrap();
        assert!(!hop.to_get && !hop.cross_origin);
        let hop = next_hop(303, &base(), "http://other/").unwrap();
        assert!(hop.to_get && hop.cross_origin);
        assert!(matches!(
            next_hop(301, &base(), "ftp://x/"),
            Err(ClientError::BadRedirect { .. })
        ));
    }

    #[test]
    fn rewrites_method_body_and_headers() {
        let headers = || {
            vec![
                ("Content-Type".to_string(), "text/plain".to_string()),
                ("Cookie".to_string(), "a=1".to_string()),
                ("Host".to_string(), "h".to_string()),
                ("x".to_string(), "1".to_string()),
            ]
        };
        let names = |h: &[(String, String)]| h.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();

        let (mut method, mut body, mut h) = ("POST".to_string(), Some(Bytes::from("b")), headers());
        next_hop(307, &base(), "/x")
            .unwrap()
            .rewrite(&mut method, &mut body, &mut h);
        assert_eq!(
            (method.as_str(), body.is_some(), h.len()),
            ("POST", true, 4)
        );

        let (mut method, mut body, mut h) = ("POST".to_string(), Some(Bytes::from("b")), headers());
        next_hop(303, &base(), "http://other/")
            .unwrap()
            .rewrite(&mut method, &mut body, &mut h);
        assert_eq!((method.as_str(), body), ("GET", None));
        assert_eq!(names(&h), ["x"]);

        let (mut method, mut body, mut h) = ("HEAD".to_string(), None, headers());
        next_hop(302, &base(), "/y")
            .unwrap()
            .rewrite(&mut method, &mut body, &mut h);
        assert_eq!(method, "HEAD");
        assert_eq!(names(&h), ["Cookie", "Host", "x"]);
    }
}
