//! [`ReverseProxy`]: the origins of a proxy mount and how requests reach them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::origin::{OriginError, ProxyOrigin};
use super::upstreams::{Balance, Upstreams};

/// Default [`ReverseProxy::connect_timeout`]: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`ReverseProxy::header_timeout`]: 60 s, as nginx's `proxy_read_timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`ReverseProxy::idle_timeout`]: 60 s without a byte either way ends a proxied body.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Which `Host` the origin sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostHeader {
    /// The one the client sent (libwebsockets' behaviour, and what virtual-hosted origins behind one
    /// address usually need). The default.
    #[default]
    Client,
    /// The origin's own `host[:port]`.
    Origin,
}

/// A reverse proxy for a mount: one or more origins and the rules for reaching them.
///
/// ```
/// use lws::proxy::{Balance, ReverseProxy};
/// let p = ReverseProxy::new("http://127.0.0.1:8080/app")
///     .unwrap()
///     .origin("http://+/run/app.sock:/app")
///     .unwrap()
///     .balance(Balance::LeastConnections);
/// let mount = lws::Mount::proxy("/app", p);
/// # let _ = mount;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseProxy {
    pub(crate) origins: Vec<ProxyOrigin>,
    pub(crate) balance: Balance,
    pub(crate) host: HostHeader,
    pub(crate) connect_timeout: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_fails: u32,
    pub(crate) fail_timeout: Duration,
    pub(crate) rewrite_paths: bool,
    pub(crate) max_body: u64,
    pub(crate) max_connections: usize,
    pub(crate) http2: bool,
}

impl ReverseProxy {
    /// A proxy to one origin (`http://host[:port]/path`, `https://...`, or `http://+/socket:/path`).
    pub fn new(origin: &str) -> Result<ReverseProxy, OriginError> {
        Ok(ReverseProxy {
            origins: vec![ProxyOrigin::parse(origin)?],
            balance: Balance::RoundRobin,
            host: HostHeader::Client,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_fails: 3,
            fail_timeout: Duration::from_secs(10),
            rewrite_paths: false,
            max_body: 1 << 30,
            max_connections: 256,
            http2: false,
        })
    }

    /// Adds another origin; requests are spread over all of them by [`ReverseProxy::balance`].
    pub fn origin(mut self, origin: &str) -> Result<ReverseProxy, OriginError> {
        self.origins.push(ProxyOrigin::parse(origin)?);
        Ok(self)
    }

    /// How requests are spread over several origins (default round-robin).
    pub fn balance(mut self, b: Balance) -> Self {
        self.balance = b;
        self
    }

    /// Which `Host` the origin sees (default the client's).
    pub fn host(mut self, h: HostHeader) -> Self {
        self.host = h;
        self
    }

    /// Time to connect to an origin (TCP, TLS); beyond it the next origin is tried, or 504.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time from the end of the request to the origin's response head; beyond it 504.
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.header_timeout = d;
        self
    }

    /// Longest silence while a body is moving either way; beyond it the exchange is aborted.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Passive health: an origin that fails `max_fails` times in a row (no connection, no valid answer in
    /// time) is skipped for `fail_timeout`. `max_fails` 0 never skips. Default 3 and 10 s.
    pub fn passive_health(mut self, max_fails: u32, fail_timeout: Duration) -> Self {
        self.max_fails = max_fails;
        self.fail_timeout = fail_timeout;
        self
    }

    /// Rewrites the origin's `Location` fields (paths and absolute URLs to the origin) and `Set-Cookie`
    /// paths from the origin's path to the mountpoint. Off by default.
    pub fn rewrite_paths(mut self, on: bool) -> Self {
        self.rewrite_paths = on;
        self
    }

    /// Largest request body passed on (default 1 GiB; larger: 413). It streams: nothing is buffered whole.
    pub fn max_body(mut self, n: u64) -> Self {
        self.max_body = n;
        self
    }

    /// Most connections open to one origin per service thread (default 256); more requests wait.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Speaks HTTP/2 to the origins: offered by ALPN to `https` origins (which may still choose HTTP/1.1),
    /// with prior knowledge to cleartext and unix-socket ones. One connection then carries many requests
    /// at once. WebSocket upgrades still go over HTTP/1.1. Off by default.
    pub fn http2(mut self, on: bool) -> Self {
        self.http2 = on;
        self
    }

    /// The origins, in order.
    pub fn origins(&self) -> &[ProxyOrigin] {
        &self.origins
    }
}

/// A proxy as a mount runs it: settings, origins with their health, and an identity for the per-thread
/// connection pools.
#[derive(Debug)]
pub(crate) struct ProxyMount {
    pub(crate) settings: ReverseProxy,
    /// The mountpoint it serves (for rewriting paths back).
    pub(crate) mountpoint: String,
    pub(crate) upstreams: Upstreams,
    pub(crate) id: usize,
}

impl ProxyMount {
    pub(crate) fn new(settings: ReverseProxy, mountpoint: &str) -> Arc<ProxyMount> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let upstreams = Upstreams::new(
            settings.origins.clone(),
            settings.balance,
            settings.max_fails,
            settings.fail_timeout,
        );
        Arc::new(ProxyMount {
            settings,
            mountpoint: mountpoint.to_string(),
            upstreams,
            id: NEXT.fetch_add(1, Ordering::Relaxed),
        })
    }
}
