//! Where a proxy mount sends requests: `http://host[:port]/path`, `https://host[:port]/path`, or a unix
//! socket written as libwebsockets' lwsws writes it, `http://+/path/to/socket:/inner/path` (`+` marks the
//! socket path, `:` ends it).

use std::path::PathBuf;

/// One origin of a proxy mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyOrigin {
    /// TLS to the origin (`https://`).
    pub(crate) tls: bool,
    /// Host name or IP literal (IPv6 without brackets); `localhost` for a unix socket.
    pub(crate) host: String,
    /// TCP port (80 or 443 when not given).
    pub(crate) port: u16,
    /// The unix socket, for a `+` origin.
    pub(crate) unix: Option<PathBuf>,
    /// The path prefix requests go below, without a trailing `/` (empty for the root).
    pub(crate) base: String,
    /// `host[:port]` as a `Host` field names it, made once.
    authority: String,
}

/// Why an origin string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginError(String);

impl std::fmt::Display for OriginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OriginError {}

fn refuse(origin: &str, why: &str) -> OriginError {
    OriginError(format!("proxy origin {origin:?}: {why}"))
}

impl ProxyOrigin {
    /// Parses an origin; a missing path means `/`.
    pub fn parse(origin: &str) -> Result<ProxyOrigin, OriginError> {
        let (tls, rest) = if let Some(r) = strip_scheme(origin, "http://") {
            (false, r)
        } else if let Some(r) = strip_scheme(origin, "https://") {
            (true, r)
        } else {
            return Err(refuse(origin, "must start with http:// or https://"));
        };
        if let Some(socket) = rest.strip_prefix('+') {
            let (path, inner) = socket.split_once(':').unwrap_or((socket, "/"));
            if !path.starts_with('/') || path.len() < 2 {
                return Err(refuse(origin, "the unix socket path must be absolute"));
            }
            return Ok(ProxyOrigin {
                tls,
                host: "localhost".into(),
                port: if tls { 443 } else { 80 },
                unix: Some(PathBuf::from(path)),
                base: base_path(origin, inner)?,
                authority: "localhost".into(),
            });
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = split_host_port(origin, authority)?;
        let port = port.unwrap_or(if tls { 443 } else { 80 });
        Ok(ProxyOrigin {
            authority: authority_of(&host, port, tls),
            tls,
            host,
            port,
            unix: None,
            base: base_path(origin, path)?,
        })
    }

    /// `host[:port]` as a `Host` header names this origin (the port only when not the default).
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// The origin's target for a path below the mountpoint (`/x` or empty) and a query.
    pub(crate) fn target(&self, below: &str, query: Option<&str>) -> String {
        let mut t = String::with_capacity(self.base.len() + below.len() + 1);
        t.push_str(&self.base);
        if below.is_empty() || !below.starts_with('/') {
            t.push('/');
        }
        t.push_str(below);
        if let Some(q) = query {
            t.push('?');
            t.push_str(q);
        }
        t
    }

    /// The base path requests go below (`/app`, or empty for the root).
    pub fn base(&self) -> &str {
        &self.base
    }
}

impl std::fmt::Display for ProxyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        match &self.unix {
            Some(p) => write!(f, "{scheme}://+{}:{}/", p.display(), self.base),
            None => write!(f, "{scheme}://{}{}/", self.authority(), self.base),
        }
    }
}

/// `host[:port]` for a `Host` field: IPv6 in brackets, the port only when not the scheme's default.
fn authority_of(host: &str, port: u16, tls: bool) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == if tls { 443 } else { 80 } {
        host
    } else {
        format!("{host}:{port}")
    }
}

fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    // `get`, not indexing: the text may hold multi-byte characters right where the scheme would end.
    s.get(..scheme.len())
        .filter(|head| head.eq_ignore_ascii_case(scheme))
        .map(|_| &s[scheme.len()..])
}

fn split_host_port(origin: &str, authority: &str) -> Result<(String, Option<u16>), OriginError> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| refuse(origin, "unclosed [ in the host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b))
    {
        return Err(refuse(origin, "no valid host"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| refuse(origin, "the port is not a number from 1 to 65535"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

fn base_path(origin: &str, path: &str) -> Result<String, OriginError> {
    if !path.starts_with('/') {
        return Err(refuse(origin, "the path must start with /"));
    }
    if path.contains(['?', '#']) || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(refuse(
            origin,
            "the path may not hold a query, fragment or spaces",
        ));
    }
    Ok(path.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_origins() {
        let o = ProxyOrigin::parse("http://127.0.0.1:8080/app/").unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.base.as_str()),
            ("127.0.0.1", 8080, "/app")
        );
        assert_eq!(o.target("/x", Some("y=1")), "/app/x?y=1");
        assert_eq!(o.target("", None), "/app/");
        assert_eq!(o.authority(), "127.0.0.1:8080");
        let o = ProxyOrigin::parse("https://Example.com").unwrap();
        assert_eq!((o.tls, o.port, o.base.as_str()), (true, 443, ""));
        assert_eq!(o.target("/a", None), "/a");
        assert_eq!(o.authority(), "example.com");
        let o = ProxyOrigin::parse("http://[::1]:9/").unwrap();
        assert_eq!((o.host.as_str(), o.authority()), ("::1", "[::1]:9"));
    }

    #[test]
    fn unix_socket_origins_as_lwsws_writes_them() {
        let o = ProxyOrigin::parse("http://+/var/run/app.sock:/inner").unwrap();
        assert_eq!(
            o.unix.as_deref(),
            Some(std::path::Path::new("/var/run/app.sock"))
        );
        assert_eq!(o.target("/x", None), "/inner/x");
        let o = ProxyOrigin::parse("http://+/tmp/s").unwrap();
        assert_eq!((o.unix.is_some(), o.base.as_str()), (true, ""));
    }

    #[test]
    fn bad_origins_are_refused_with_a_reason() {
        for bad in [
            "ftp://x/",
            "http://",
            "http://host:0/",
            "http://host:99999/",
            "http://ho st/",
            "http://+relative:/x",
            "http://h/a?b",
            "http://[::1/",
            "\u{d1}/\u{ff}\u{ff}",
            "httpé://x/",
        ] {
            let e = ProxyOrigin::parse(bad).unwrap_err();
            assert!(e.to_string().contains("proxy origin"), "{bad}: {e}");
        }
    }
}
