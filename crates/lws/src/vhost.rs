//! Vhosts: a named virtual server with its listen addresses, TLS identity, mounts, protocols and options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lws_proto::h2::H2Config;
use lws_proto::http1::H1Config;
use lws_proto::ws::pmd::PmdConfig;

use crate::accept::{AcceptConfig, AcceptPlan, SniffRule};
use crate::access_log::AccessLog;
use crate::mount::{Mount, MountKind};
use crate::protocol::ProtocolHandle;
use crate::BuildError;

/// Where a vhost listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Listen {
    /// A TCP address (use `[::]:port` for dual-stack).
    Tcp(SocketAddr),
    /// A unix domain socket path.
    Unix(PathBuf),
}

/// Limits and timeouts for HTTP/1.x requests on a vhost (DESIGN §5 defaults).
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request head, default 8 KiB, at most 64 KiB.
    pub max_head: usize,
    /// Most header lines, default 100.
    pub max_headers: usize,
    /// Largest request body accepted by default (handlers may raise it per request), default 1 MiB.
    pub max_body: u64,
    /// Time to receive a complete head, default 10 s.
    pub head_timeout: Duration,
    /// Keep-alive idle time between requests, default 5 s.
    pub keepalive_timeout: Duration,
    /// Time allowed without progress while receiving a body or sending a response, default 15 s.
    pub io_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        let h1 = H1Config::default();
        HttpLimits {
            max_head: h1.max_head,
            max_headers: h1.max_headers,
            max_body: lws_proto::http1::DEFAULT_BODY_LIMIT,
            head_timeout: h1.head_timeout,
            keepalive_timeout: h1.keepalive_timeout,
            io_timeout: h1.body_timeout,
        }
    }
}

/// The TLS identity of a vhost.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) struct TlsFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// The headers libwebsockets adds with `HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE`.
pub const STRICT_SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; img-src 'self' data: ; script-src 'self'; font-src 'self'; style-src 'self'; \
         connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none';form-action 'self';",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    ("x-frame-options", "deny"),
    ("referrer-policy", "no-referrer"),
];

/// A virtual server, built with chained calls and handed to [`crate::ContextBuilder::vhost`].
///
/// Several vhosts may listen on the same address: the request's `Host` header (or the TLS SNI name) picks
/// the one whose name matches exactly, then one whose name is a suffix (`cats.example.com` matches
/// `example.com`), else the first one on that address.
#[derive(Debug, Clone)]
pub struct Vhost {
    pub(crate) name: String,
    pub(crate) listen: Vec<Listen>,
    pub(crate) tls: Option<TlsFiles>,
    pub(crate) alpn: Vec<String>,
    pub(crate) redirect_http: bool,
    pub(crate) allow_http_on_https: bool,
    pub(crate) mounts: Vec<Mount>,
    pub(crate) protocols: Vec<ProtocolHandle>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) strict_security_headers: bool,
    pub(crate) sts: bool,
    pub(crate) error_document_404: Option<String>,
    pub(crate) access_log: Option<PathBuf>,
    pub(crate) limits: HttpLimits,
    pub(crate) h2: H2Config,
    pub(crate) disable_no_protocol_ws_upgrades: bool,
    pub(crate) ws_validity: crate::ws::ValidityPolicy,
    pub(crate) permessage_deflate: bool,
    pub(crate) pmd: PmdConfig,
    pub(crate) accept: AcceptConfig,
    pub(crate) compression: crate::compress::Compression,
    pub(crate) cgi_max_processes: usize,
}

impl Vhost {
    /// A vhost with this name (matched against `Host` / SNI).
    pub fn new(name: &str) -> Self {
        Vhost {
            name: name.to_string(),
            listen: Vec::new(),
            tls: None,
            alpn: vec!["h2".to_string(), "http/1.1".to_string()],
            redirect_http: false,
            allow_http_on_https: false,
            mounts: Vec::new(),
            protocols: Vec::new(),
            headers: Vec::new(),
            strict_security_headers: false,
            sts: false,
            error_document_404: None,
            access_log: None,
            limits: HttpLimits::default(),
            h2: H2Config::default(),
            disable_no_protocol_ws_upgrades: false,
            ws_validity: crate::ws::ValidityPolicy::default(),
            permessage_deflate: true,
            pmd: PmdConfig::default(),
            accept: AcceptConfig::default(),
            compression: crate::compress::Compression::off(),
            cgi_max_processes: crate::cgi::DEFAULT_MAX_PROCESSES,
        }
    }

    /// Hands every connection on this vhost's ports to the raw protocol `protocol` (attached to this vhost
    /// with [`Vhost::protocol`]), with no HTTP at all (libwebsockets' `apply-listen-accept` with
    /// `listen-accept-protocol`): a raw vhost.
    pub fn listen_accept(mut self, protocol: &str) -> Self {
        self.accept.apply = Some(protocol.to_string());
        self
    }

    /// Hands connections whose first bytes are not HTTP (on a TLS port: not TLS, with
    /// [`Vhost::allow_non_tls`]) to the raw protocol `protocol`, with those bytes, instead of answering 400
    /// or closing (libwebsockets' `fallback-listen-accept`). Read from the first vhost of a port.
    pub fn fallback_listen_accept(mut self, protocol: &str) -> Self {
        self.accept.fallback = Some(protocol.to_string());
        self
    }

    /// Lets non-TLS connections on a TLS port reach the fallback (libwebsockets' `allow-non-tls`);
    /// `redirect-http` and `allow-http-on-https` still take plain HTTP first.
    pub fn allow_non_tls(mut self, yes: bool) -> Self {
        self.accept.allow_non_tls = yes;
        self
    }

    /// Adds a rule (checked in the order added) that sends connections whose first bytes match to a raw
    /// protocol: SSH, TLS by SNI or ALPN, HTTP, anything else, or silence. Read from the first vhost of a
    /// port. See [`SniffMatch`](crate::SniffMatch) for the order rules and the port's own HTTP/TLS are checked in.
    pub fn sniff_rule(mut self, rule: SniffRule) -> Self {
        self.accept.rules.push(rule);
        self
    }

    /// Listens on a TCP address (repeatable). Port 0 picks a free port; see [`crate::Context::local_addrs`].
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen.push(Listen::Tcp(addr));
        self
    }

    /// Listens on a unix domain socket (an existing socket file at that path is replaced).
    pub fn listen_unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.listen.push(Listen::Unix(path.into()));
        self
    }

    /// Serves TLS with this PEM certificate chain and private key (the vhost's SNI identity).
    pub fn tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls = Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// The ALPN protocols offered under TLS, most preferred first (default `h2`, `http/1.1`). Leaving `h2`
    /// out also turns off HTTP/2 on cleartext ports (prior knowledge and `Upgrade: h2c`).
    pub fn alpn(mut self, protocols: &[&str]) -> Self {
        self.alpn = protocols.iter().map(|p| p.to_string()).collect();
        self
    }

    /// HTTP/2 settings and limits for connections on this vhost's listeners (the first vhost of a listener
    /// decides, since HTTP/2 settings are per connection).
    pub fn http2(mut self, config: H2Config) -> Self {
        self.h2 = config;
        self
    }

    /// On a TLS port, answers plain HTTP requests with a 301 to the same URL over https.
    pub fn redirect_http(mut self, yes: bool) -> Self {
        self.redirect_http = yes;
        self
    }

    /// On a TLS port, serves plain HTTP requests as well (discouraged; libwebsockets' `allow-http-on-https`).
    pub fn allow_http_on_https(mut self, yes: bool) -> Self {
        self.allow_http_on_https = yes;
        self
    }

    /// Adds a mount.
    pub fn mount(mut self, mount: Mount) -> Self {
        self.mounts.push(mount);
        self
    }

    /// Attaches a protocol instance (per-vhost state) under its name, for callback mounts to reach.
    pub fn protocol(mut self, protocol: ProtocolHandle) -> Self {
        self.protocols.retain(|p| p.name != protocol.name);
        self.protocols.push(protocol);
        self
    }

    /// Adds a header to every response of this vhost.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Adds the strict security headers ([`STRICT_SECURITY_HEADERS`]) to every response.
    pub fn strict_security_headers(mut self, yes: bool) -> Self {
        self.strict_security_headers = yes;
        self
    }

    /// Sends `Strict-Transport-Security` on TLS responses.
    pub fn sts(mut self, yes: bool) -> Self {
        self.sts = yes;
        self
    }

    /// A URL path whose file is served (with status 404) when a file mount finds nothing.
    pub fn error_document_404(mut self, path: &str) -> Self {
        self.error_document_404 = Some(path.to_string());
        self
    }

    /// Appends one combined-format line per request to this file.
    pub fn access_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.access_log = Some(path.into());
        self
    }

    /// Idle time allowed between requests on a keep-alive connection.
    pub fn keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.limits.keepalive_timeout = timeout;
        self
    }

    /// Replaces all HTTP limits at once.
    pub fn limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Refuses WebSocket upgrades that name no subprotocol (libwebsockets'
    /// `disable-no-protocol-ws-upgrades`); otherwise they go to the `default` protocol or the first one.
    pub fn disable_no_protocol_ws_upgrades(mut self, yes: bool) -> Self {
        self.disable_no_protocol_ws_upgrades = yes;
        self
    }

    /// When idle WebSocket peers are pinged and dropped.
    pub fn ws_validity(mut self, policy: crate::ws::ValidityPolicy) -> Self {
        self.ws_validity = policy;
        self
    }

    /// Whether permessage-deflate may be negotiated on this vhost (default yes; protocols may refuse it too).
    pub fn permessage_deflate(mut self, yes: bool) -> Self {
        self.permessage_deflate = yes;
        self
    }

    /// What this vhost accepts and how it compresses when permessage-deflate is negotiated: windows,
    /// context takeover, level, minimum size, and the [`ContextPool`](crate::ws::ContextPool)
    /// that bounds the memory of compressors kept between messages (default [`PmdConfig::default`]: 32 KiB
    /// windows, context takeover, level 1, the default pool of each service thread).
    pub fn permessage_deflate_config(mut self, config: PmdConfig) -> Self {
        self.pmd = config;
        self
    }

    /// Compresses responses of this vhost's mounts (those without a setting of their own) as `compression`
    /// says; off by default.
    pub fn compression(mut self, compression: crate::compress::Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Most CGI processes this vhost runs at once (default [`crate::cgi::DEFAULT_MAX_PROCESSES`]); a
    /// request beyond it is answered 503 with `Retry-After`.
    pub fn cgi_max_processes(mut self, n: usize) -> Self {
        self.cgi_max_processes = n;
        self
    }

    /// The vhost's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A mount resolved at build time: origin canonicalised, protocol looked up, header values prepared.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedMount {
    pub(crate) mount: Mount,
    pub(crate) origin: Option<Arc<crate::files::OriginDir>>,
    pub(crate) protocol: Option<ProtocolHandle>,
    /// The running proxy of a proxy mount (its origins' health, its pools' identity).
    pub(crate) proxy: Option<Arc<crate::proxy::ProxyMount>>,
    /// The resolved origin of a CGI mount.
    pub(crate) cgi: Option<Arc<crate::cgi::CgiMount>>,
    pub(crate) default_doc: String,
    pub(crate) cache_control: bytes::Bytes,
    /// The mount's own compression setting, else its vhost's.
    pub(crate) compression: crate::compress::Compression,
}

/// A vhost as the running server sees it.
#[derive(Debug, Clone)]
pub(crate) struct VhostInner {
    pub(crate) name: Arc<str>,
    pub(crate) mounts: Vec<ResolvedMount>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) tls: Option<TlsFiles>,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) alpn: Vec<String>,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) redirect_http: bool,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) allow_http_on_https: bool,
    pub(crate) error_document_404: Option<String>,
    pub(crate) access_log: Option<Arc<AccessLog>>,
    pub(crate) limits: HttpLimits,
    /// Shared by the vhost's HTTP/1 connections on one service thread.
    pub(crate) h1: Arc<H1Config>,
    pub(crate) h2: H2Config,
    /// Every protocol attached to the vhost, in order (the first serves unnamed upgrades by default).
    pub(crate) protocols: Vec<ProtocolHandle>,
    /// Live WebSocket and raw connections per protocol name.
    members: std::collections::HashMap<Arc<str>, Arc<crate::conn::Members>>,
    pub(crate) disable_no_protocol_ws_upgrades: bool,
    /// For a member list made on the spot (every protocol of the vhost has one already).
    ws_validity: crate::ws::ValidityPolicy,
    pub(crate) permessage_deflate: bool,
    pub(crate) pmd: PmdConfig,
    /// What the port does with connections that are not (only) HTTP, when this is its first vhost.
    pub(crate) accept: AcceptPlan,
    /// For responses no mount makes (404s).
    pub(crate) compression: crate::compress::Compression,
    /// The cap on CGI processes running at once.
    pub(crate) cgi_slots: crate::cgi::CgiSlots,
}

impl VhostInner {
    /// This vhost for another service thread: what requests clone (the vhost itself, its name, mount header
    /// values) gets reference counts of its own there, so that no request shares an atomic with another
    /// thread's; what must be shared (protocols and their members, origins, logs, CGI slots) stays shared.
    pub(crate) fn for_thread(self: &Arc<Self>) -> Arc<VhostInner> {
        let mut v = (**self).clone();
        v.name = Arc::from(&*self.name);
        v.h1 = Arc::new((*self.h1).clone());
        for m in &mut v.mounts {
            m.cache_control = bytes::Bytes::copy_from_slice(&m.cache_control);
        }
        Arc::new(v)
    }

    /// The member list of a protocol on this vhost.
    pub(crate) fn members(&self, protocol: &str) -> Arc<crate::conn::Members> {
        match self.members.get(protocol) {
            Some(m) => m.clone(),
            None => Arc::new(crate::conn::Members::new(self.ws_validity)),
        }
    }

    /// Wakes every WebSocket and raw connection of this vhost, so that each notices the shutdown signal.
    pub(crate) fn wake_members(&self) {
        self.members.values().for_each(|m| m.wake_all());
    }
}

impl VhostInner {
    pub(crate) fn build(v: Vhost) -> Result<VhostInner, BuildError> {
        check_compression(&v.name, &v.compression)?;
        let mut mounts = Vec::with_capacity(v.mounts.len());
        for m in v.mounts {
            mounts.push(resolve_mount(&v.name, m, &v.protocols, &v.compression)?);
        }
        let mut headers = v.headers.clone();
        if v.strict_security_headers {
            for (n, val) in STRICT_SECURITY_HEADERS {
                if !headers.iter().any(|(h, _)| h == n) {
                    headers.push((n.to_string(), val.as_bytes().to_vec()));
                }
            }
        }
        if v.sts && v.tls.is_some() {
            headers.push((
                "strict-transport-security".into(),
                b"max-age=15768000 ; includeSubDomains".to_vec(),
            ));
        }
        for (n, val) in &headers {
            if !lws_proto::http1::is_valid_header(n, val) {
                return Err(BuildError::new(&v.name, format!("invalid header {n:?}")));
            }
        }
        let access_log = match &v.access_log {
            Some(p) => Some(AccessLog::open(p).map_err(|e| {
                BuildError::new(&v.name, format!("access log {}: {e}", p.display()))
            })?),
            None => None,
        };
        let limits = v.limits;
        let h1 = H1Config {
            max_head: limits.max_head.min(lws_proto::http1::MAX_HEAD_LIMIT),
            max_headers: limits.max_headers,
            head_timeout: limits.head_timeout,
            keepalive_timeout: limits.keepalive_timeout,
            body_timeout: limits.io_timeout,
            ..H1Config::default()
        };
        // Every protocol that may serve a connection here gets a list, so shutdown can wake them all.
        let members = v
            .protocols
            .iter()
            .chain(v.accept.rules.iter().map(|r| &r.protocol))
            .map(|p| {
                (
                    p.name.clone(),
                    Arc::new(crate::conn::Members::new(v.ws_validity)),
                )
            })
            .collect();
        let accept = AcceptPlan::resolve(&v.name, v.accept, &v.protocols, v.tls.is_some())?;
        Ok(VhostInner {
            cgi_slots: crate::cgi::CgiSlots::new(v.cgi_max_processes),
            accept,
            protocols: v.protocols,
            members,
            disable_no_protocol_ws_upgrades: v.disable_no_protocol_ws_upgrades,
            ws_validity: v.ws_validity,
            permessage_deflate: v.permessage_deflate,
            pmd: v.pmd,
            compression: v.compression,
            name: v.name.as_str().into(),
            mounts,
            headers,
            tls: v.tls,
            alpn: v.alpn,
            redirect_http: v.redirect_http,
            allow_http_on_https: v.allow_http_on_https,
            error_document_404: v.error_document_404,
            access_log: access_log.map(Arc::new),
            limits,
            h1: Arc::new(h1),
            h2: v.h2,
        })
    }
}

fn resolve_mount(
    vhost: &str,
    m: Mount,
    protocols: &[ProtocolHandle],
    vhost_compression: &crate::compress::Compression,
) -> Result<ResolvedMount, BuildError> {
    let where_ = || format!("mount {}", m.mountpoint);
    let compression = m
        .compression
        .clone()
        .unwrap_or_else(|| vhost_compression.clone());
    check_compression(vhost, &compression)?;
    for (n, val) in &m.headers {
        if !lws_proto::http1::is_valid_header(n, val) {
            return Err(BuildError::new(
                vhost,
                format!("{}: invalid header {n:?}", where_()),
            ));
        }
    }
    let (origin, protocol) = match &m.kind {
        MountKind::Files(dir) => {
            let canon = crate::files::OriginDir::open(dir).map_err(|e| {
                BuildError::new(
                    vhost,
                    format!("{}: origin {}: {e}", where_(), dir.display()),
                )
            })?;
            (Some(canon), None)
        }
        MountKind::Callback(name) => {
            let p = protocols
                .iter()
                .find(|p| &*p.name == name.as_str())
                .cloned()
                .ok_or_else(|| {
                    BuildError::new(
                        vhost,
                        format!("{}: no protocol named {name:?} on this vhost", where_()),
                    )
                })?;
            (None, Some(p))
        }
        MountKind::Redirect(target) => {
            if !(target.starts_with("http://") || target.starts_with("https://")) {
                return Err(BuildError::new(
                    vhost,
                    format!("{}: redirect target must be http:// or https://", where_()),
                ));
            }
            (None, None)
        }
        MountKind::NoMount | MountKind::Proxy(_) | MountKind::Cgi(_) => (None, None),
    };
    let proxy = match &m.kind {
        MountKind::Proxy(p) => Some(crate::proxy::ProxyMount::new(p.clone(), &m.mountpoint)),
        _ => None,
    };
    let cgi = match &m.kind {
        MountKind::Cgi(c) => Some(
            crate::cgi::CgiMount::new(c.clone(), &m.mountpoint)
                .map_err(|e| BuildError::new(vhost, format!("{}: {e}", where_())))?,
        ),
        _ => None,
    };
    if let Some(p) = &m.basic_auth {
        if !p.is_file() {
            return Err(BuildError::new(
                vhost,
                format!("{}: basic-auth file {} not found", where_(), p.display()),
            ));
        }
    }
    Ok(ResolvedMount {
        default_doc: m
            .default_doc
            .clone()
            .unwrap_or_else(|| "index.html".to_string()),
        cache_control: m.cache.header_value().into(),
        compression,
        mount: m,
        origin: origin.map(Arc::new),
        protocol,
        proxy,
        cgi,
    })
}

/// Compression asked for in a build without the `compression` feature is an error, not a silent no.
fn check_compression(
    vhost: &str,
    compression: &crate::compress::Compression,
) -> Result<(), BuildError> {
    if compression.is_enabled() && !cfg!(feature = "compression") {
        return Err(BuildError::new(
            vhost,
            "compression is on but lws was built without its `compression` feature".to_string(),
        ));
    }
    Ok(())
}

/// Picks the vhost for a host name among those sharing a listener (first one is the default).
pub(crate) fn select_vhost<'a>(
    vhosts: &'a [Arc<VhostInner>],
    host: Option<&str>,
) -> &'a Arc<VhostInner> {
    if vhosts.len() == 1 {
        return &vhosts[0];
    }
    let idx = select_name(vhosts.iter().map(|v| &*v.name), host.unwrap_or(""));
    &vhosts[idx]
}

/// The vhost taking a request: by the TLS server name when there is one, else by its `Host` (a single
/// vhost takes everything without looking).
pub(crate) fn vhost_for_request<'a>(
    vhosts: &'a [Arc<VhostInner>],
    sni: Option<&str>,
    head: &lws_proto::http1::RequestHead,
) -> &'a Arc<VhostInner> {
    if vhosts.len() == 1 {
        return &vhosts[0];
    }
    select_vhost(vhosts, sni.or_else(|| head.header_str("host")))
}

/// Index of the name matching `host` (port stripped): exact, then a parent domain, else 0.
pub(crate) fn select_name<'a>(names: impl Iterator<Item = &'a str> + Clone, host: &str) -> usize {
    let host = strip_port(host);
    if host.is_empty() {
        return 0;
    }
    if let Some(i) = names.clone().position(|n| n.eq_ignore_ascii_case(host)) {
        return i;
    }
    // The most specific parent domain wins: `a.cats.example.com` prefers `cats.example.com` to `example.com`.
    names
        .enumerate()
        .filter(|(_, n)| {
            host.len() > n.len()
                && host.as_bytes()[host.len() - n.len() - 1] == b'.'
                && host[host.len() - n.len()..].eq_ignore_ascii_case(n)
        })
        .max_by_key(|(i, n)| (n.len(), usize::MAX - i))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// `host:port` -> `host`, keeping bracketed IPv6 literals intact.
pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_selection() {
        let names = ["default", "example.com", "cats.example.com"];
        let pick = |h: &str| select_name(names.iter().copied(), h);
        assert_eq!(pick("example.com"), 1);
        assert_eq!(pick("EXAMPLE.com:8080"), 1);
        assert_eq!(pick("cats.example.com"), 2);
        assert_eq!(pick("www.example.com"), 1);
        assert_eq!(pick("big.cats.example.com"), 2);
        assert_eq!(pick("badexample.com"), 0);
        assert_eq!(pick("other"), 0);
        assert_eq!(pick(""), 0);
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("host:80"), "host");
    }
}
