//! Client URLs: `ws://` and `wss://` (RFC 6455 §3), `http://` and `https://` (RFC 9110 §4.2): scheme, host
//! (names, IPv4, bracketed IPv6), port, resource name.

use std::fmt;
use std::net::Ipv6Addr;

/// Why a URL cannot be used for a client connection.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// The scheme is not `ws`/`wss` for a WebSocket, or not `http`/`https` for an HTTP request (or there is
    /// no `scheme://`).
    Scheme,
    /// The URL names no host.
    MissingHost,
    /// The host contains characters a host name cannot have, or a bracketed IPv6 literal is invalid.
    BadHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// The URL carries user information (`user@host`), which the client does not pass on.
    UserInfo,
    /// The URL has a fragment (`#...`), which RFC 6455 §3 forbids.
    Fragment,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Scheme => "unsupported scheme (ws:// or wss:// for a WebSocket, http:// or https:// for a request)",
            UrlError::MissingHost => "no host in the URL",
            UrlError::BadHost => "invalid host in the URL",
            UrlError::BadPort => "invalid port in the URL",
            UrlError::UserInfo => "user information in the URL",
            UrlError::Fragment => "fragment in a WebSocket URL",
        })
    }
}

impl std::error::Error for UrlError {}

/// A parsed client URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss://` or `https://`.
    pub(crate) tls: bool,
    /// The host to resolve or the IP literal, without IPv6 brackets.
    pub(crate) host: String,
    /// The port: given, or the scheme's default.
    pub(crate) port: u16,
    /// Path and query, at least `/`.
    pub(crate) resource: String,
    /// The `Host` header value: the host (bracketed if IPv6) with `:port` when it is not the scheme's default.
    pub(crate) host_header: String,
}

impl WsUrl {
    /// Parses `ws://host[:port][/path][?query]` or the same with `wss://`.
    pub(crate) fn parse(url: &str) -> Result<WsUrl, UrlError> {
        Self::parse_with(url, ["ws", "wss"], false)
    }

    /// Parses `http://host[:port][/path][?query][#fragment]` or the same with `https://`; the fragment is
    /// dropped (it is never sent).
    pub(crate) fn parse_http(url: &str) -> Result<WsUrl, UrlError> {
        Self::parse_with(url, ["http", "https"], true)
    }

    /// The `scheme://host[:port]` part, as it appears in a URL.
    pub(crate) fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.authority())
    }

    /// `host[:port]` with the port always present (IPv6 bracketed).
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Parses a URL of `schemes` (cleartext, TLS); a fragment is dropped or refused.
    fn parse_with(url: &str, schemes: [&str; 2], drop_fragment: bool) -> Result<WsUrl, UrlError> {
        let (scheme, rest) = url.trim().split_once("://").ok_or(UrlError::Scheme)?;
        let tls = if scheme.eq_ignore_ascii_case(schemes[0]) {
            false
        } else if scheme.eq_ignore_ascii_case(schemes[1]) {
            true
        } else {
            return Err(UrlError::Scheme);
        };
        let rest = match rest.split_once('#') {
            Some((before, _)) if drop_fragment => before,
            Some(_) => return Err(UrlError::Fragment),
            None => rest,
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(end);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port, bracketed) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or(UrlError::BadHost)?;
            addr.parse::<Ipv6Addr>().map_err(|_| UrlError::BadHost)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(UrlError::BadPort)?),
            };
            (addr, port, true)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p), false),
                None => (authority, None, false),
            }
        };
        if host.is_empty() {
            return Err(UrlError::MissingHost);
        }
        if !bracketed
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(UrlError::BadHost);
        }
        let default_port = if tls { 443 } else { 80 };
        let port = match port {
            None | Some("") => default_port,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UrlError::BadPort),
            },
            Some(_) => return Err(UrlError::BadPort),
        };
        let shown = if bracketed {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let host_header = if port == default_port {
            shown
        } else {
            format!("{shown}:{port}")
        };
        let resource = match resource.as_bytes().first() {
            None => "/".to_string(),
            Some(b'?') => format!("/{resource}"),
            Some(_) => resource.to_string(),
        };
        Ok(WsUrl {
            tls,
            host: host.to_string(),
            port,
            resource,
            host_header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_with_port_and_query() {
        let u = WsUrl::parse("ws://127.0.0.1:7681/a/b?x=1&y").unwrap();
        assert!(!u.tls);
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, 7681);
        assert_eq!(u.resource, "/a/b?x=1&y");
        assert_eq!(u.host_header, "127.0.0.1:7681");
    }

    #[test]
    fn defaults() {
        let u = WsUrl::parse("WSS://example.com").unwrap();
        assert!(u.tls);
        assert_eq!(u.port, 443);
        assert_eq!(u.resource, "/");
        assert_eq!(u.host_header, "example.com");
        let u = WsUrl::parse("ws://example.com:80?q").unwrap();
        assert_eq!(u.resource, "/?q");
        assert_eq!(u.host_header, "example.com");
    }

    #[test]
    fn ipv6_literals() {
        let u = WsUrl::parse("ws://[::1]:9000/x").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.port, 9000);
        assert_eq!(u.host_header, "[::1]:9000");
        let u = WsUrl::parse("wss://[fe80::1]").unwrap();
        assert_eq!(u.port, 443);
        assert_eq!(u.host_header, "[fe80::1]");
        assert_eq!(WsUrl::parse("ws://[::g]/"), Err(UrlError::BadHost));
        assert_eq!(WsUrl::parse("ws://[::1]x/"), Err(UrlError::BadPort));
    }

    #[test]
    fn rejects() {
        assert_eq!(WsUrl::parse("http://h/"), Err(UrlError::Scheme));
        assert_eq!(WsUrl::parse("h:80"), Err(UrlError::Scheme));
        assert_eq!(WsUrl::parse("ws:///x"), Err(UrlError::MissingHost));
        assert_eq!(WsUrl::parse("ws://h:0/"), Err(UrlError::BadPort));
        assert_eq!(WsUrl::parse("ws://h:65536/"), Err(UrlError::BadPort));
        assert_eq!(WsUrl::parse("ws://h:+1/"), Err(UrlError::BadPort));
        assert_eq!(WsUrl::parse("ws://u:p@h/"), Err(UrlError::UserInfo));
        assert_eq!(WsUrl::parse("ws://h/#f"), Err(UrlError::Fragment));
        assert_eq!(WsUrl::parse("ws://h\r\nX: y/"), Err(UrlError::BadHost));
    }

    #[test]
    fn http_urls() {
        let u = WsUrl::parse_http("https://Example.com/a?b#frag").unwrap();
        assert!(u.tls);
        assert_eq!((u.port, u.resource.as_str()), (443, "/a?b"));
        assert_eq!(u.origin(), "https://Example.com:443");
        let u = WsUrl::parse_http("http://[::1]:8080").unwrap();
        assert_eq!(u.origin(), "http://[::1]:8080");
        assert_eq!(WsUrl::parse_http("ws://h/"), Err(UrlError::Scheme));
        assert_eq!(WsUrl::parse("http://h/"), Err(UrlError::Scheme));
    }
}
