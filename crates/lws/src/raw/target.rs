//! Where a raw client (or the proxy's onward side) connects: libwebsockets' `onward` syntax
//! (`ipv4:host[:port]`, `ipv6:[addr][:port]`) plus `unix:/path`, `tcp:host:port` and plain `host:port`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Port used when an `ipv4:`/`ipv6:` target names none.
pub const DEFAULT_PORT: u16 = 80;

/// Which address family a TCP target may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Family {
    /// Any: every address the name resolves to, in the resolver's order.
    Any,
    /// IPv4 only (`ipv4:`).
    V4,
    /// IPv6 only (`ipv6:`).
    V6,
}

/// A place to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawTarget {
    /// A host name or address literal and a port; names are resolved when connecting.
    Tcp {
        /// A host name, or an IPv4 or IPv6 address literal (without brackets).
        host: String,
        /// The port.
        port: u16,
        /// Which addresses a name may resolve to.
        family: Family,
    },
    /// A unix stream socket.
    Unix(PathBuf),
}

/// Why a target string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawTargetError {
    /// Nothing was given.
    Empty,
    /// The port is not a number from 1 to 65535.
    BadPort(String),
    /// An `ipv4:`/`ipv6:` target whose address is not of that family, or a malformed bracket.
    BadAddress(String),
    /// A `unix:` target whose path is not absolute.
    RelativePath(String),
    /// No port where one is required (`tcp:` and plain `host:port`).
    MissingPort(String),
}

impl fmt::Display for RawTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawTargetError::Empty => f.write_str("empty target"),
            RawTargetError::BadPort(p) => write!(f, "bad port {p:?} (1-65535)"),
            RawTargetError::BadAddress(a) => write!(f, "bad address {a:?}"),
            RawTargetError::RelativePath(p) => write!(f, "unix socket path {p:?} is not absolute"),
            RawTargetError::MissingPort(t) => write!(f, "{t:?} needs a port (host:port)"),
        }
    }
}

impl std::error::Error for RawTargetError {}

impl FromStr for RawTarget {
    type Err = RawTargetError;

    fn from_str(s: &str) -> Result<RawTarget, RawTargetError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(RawTargetError::Empty);
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(RawTargetError::RelativePath(path.into()));
            }
            return Ok(RawTarget::Unix(path.into()));
        }
        if let Some(rest) = s.strip_prefix("ipv4:") {
            let (host, port) = host_port(rest, Some(DEFAULT_PORT))?;
            if host.parse::<std::net::Ipv6Addr>().is_ok() {
                return Err(RawTargetError::BadAddress(host));
            }
            return Ok(RawTarget::Tcp {
                host,
                port,
                family: Family::V4,
            });
        }
        if let Some(rest) = s.strip_prefix("ipv6:") {
            // A bare IPv6 literal has colons of its own: without brackets it carries no port.
            let (host, port) = match rest.parse::<std::net::Ipv6Addr>() {
                Ok(a) => (a.to_string(), DEFAULT_PORT),
                Err(_) => host_port(rest, Some(DEFAULT_PORT))?,
            };
            if host.parse::<std::net::Ipv4Addr>().is_ok() {
                return Err(RawTargetError::BadAddress(host));
            }
            return Ok(RawTarget::Tcp {
                host,
                port,
                family: Family::V6,
            });
        }
        let rest = s.strip_prefix("tcp:").unwrap_or(s);
        let (host, port) = host_port(rest, None)?;
        Ok(RawTarget::Tcp {
            host,
            port,
            family: Family::Any,
        })
    }
}

impl fmt::Display for RawTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawTarget::Tcp { host, port, .. } if host.contains(':') => write!(f, "[{host}]:{port}"),
            RawTarget::Tcp { host, port, .. } => write!(f, "{host}:{port}"),
            RawTarget::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// Splits `host[:port]` or `[v6]:port`; `default` is the port when none is given (`None`: required).
fn host_port(s: &str, default: Option<u16>) -> Result<(String, u16), RawTargetError> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| RawTargetError::BadAddress(s.into()))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| RawTargetError::BadAddress(s.into()))?,
                ),
            ),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(RawTargetError::BadAddress(s.into()));
    }
    let port = match (port, default) {
        (Some(p), _) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(RawTargetError::BadPort(p.into())),
        },
        (None, Some(d)) => d,
        (None, None) => return Err(RawTargetError::MissingPort(s.into())),
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::{Family, RawTarget, RawTargetError};

    fn tcp(host: &str, port: u16, family: Family) -> RawTarget {
        RawTarget::Tcp {
            host: host.into(),
            port,
            family,
        }
    }

    #[test]
    fn libwebsockets_onward_forms() {
        let t = |s: &str| s.parse::<RawTarget>();
        assert_eq!(t("ipv4:127.0.0.1:22"), Ok(tcp("127.0.0.1", 22, Family::V4)));
        assert_eq!(t("ipv4:127.0.0.1"), Ok(tcp("127.0.0.1", 80, Family::V4)));
        assert_eq!(
            t("ipv4:localhost:2222"),
            Ok(tcp("localhost", 2222, Family::V4))
        );
        assert_eq!(t("ipv6:[::1]:22"), Ok(tcp("::1", 22, Family::V6)));
        assert_eq!(t("ipv6:::1"), Ok(tcp("::1", 80, Family::V6)));
        assert_eq!(t("ipv6:[::1]"), Ok(tcp("::1", 80, Family::V6)));
    }

    #[test]
    fn unix_tcp_and_plain_forms() {
        let t = |s: &str| s.parse::<RawTarget>();
        assert_eq!(
            t("unix:/run/x.sock"),
            Ok(RawTarget::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            t("tcp:example.org:443"),
            Ok(tcp("example.org", 443, Family::Any))
        );
        assert_eq!(
            t("example.org:443"),
            Ok(tcp("example.org", 443, Family::Any))
        );
        assert_eq!(t("[::1]:8080"), Ok(tcp("::1", 8080, Family::Any)));
        assert_eq!(tcp("::1", 8080, Family::Any).to_string(), "[::1]:8080");
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let t = |s: &str| s.parse::<RawTarget>();
        assert_eq!(t(""), Err(RawTargetError::Empty));
        assert_eq!(
            t("unix:run/x"),
            Err(RawTargetError::RelativePath("run/x".into()))
        );
        assert_eq!(
            t("ipv4:1.2.3.4:0"),
            Err(RawTargetError::BadPort("0".into()))
        );
        assert_eq!(
            t("ipv4:1.2.3.4:99999"),
            Err(RawTargetError::BadPort("99999".into()))
        );
        assert_eq!(
            t("ipv4:[::1]:22"),
            Err(RawTargetError::BadAddress("::1".into()))
        );
        assert_eq!(
            t("ipv6:1.2.3.4"),
            Err(RawTargetError::BadAddress("1.2.3.4".into()))
        );
        assert_eq!(
            t("example.org"),
            Err(RawTargetError::MissingPort("example.org".into()))
        );
        assert!(matches!(t("[::1"), Err(RawTargetError::BadAddress(_))));
    }
}
