//! The context: every vhost and listener of a server, built (and bound) in one step, then run on tokio.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::conn::{PortShared, ServerShared};
use crate::listen::{self, BoundListener};
use crate::vhost::{Listen, Vhost, VhostInner};
use crate::BuildError;

/// Collects vhosts and server-wide options; [`ContextBuilder::build`] validates everything and binds the
/// listening sockets, so configuration mistakes and busy ports surface before serving starts.
#[derive(Debug)]
pub struct ContextBuilder {
    vhosts: Vec<Vhost>,
    threads: usize,
    server_string: String,
    ip_limit: Option<u32>,
    drain_timeout: Duration,
    handshake_timeout: Duration,
    defer_accept: Option<Duration>,
}

impl ContextBuilder {
    /// Adds a vhost.
    pub fn vhost(mut self, vhost: Vhost) -> Self {
        self.vhosts.push(vhost);
        self
    }

    /// Service threads (libwebsockets' `count-threads`, default 1). Each thread runs its own event loop with
    /// its own listening socket per TCP address (`SO_REUSEPORT`); a connection stays on the thread that
    /// accepted it. Unix sockets are served by the first thread.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// The `server` response header value (default `lws-rs`).
    pub fn server_string(mut self, s: &str) -> Self {
        self.server_string = s.to_string();
        self
    }

    /// At most this many simultaneous connections per peer IP address (libwebsockets' `ip-limit-wsi`);
    /// further ones are closed at accept.
    pub fn ip_limit_per_peer(mut self, limit: u32) -> Self {
        self.ip_limit = Some(limit);
        self
    }

    /// How long graceful shutdown waits for connections to finish (default 10 s).
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.drain_timeout = d;
        self
    }

    /// Time allowed for a TLS handshake (and the first byte on ports that sniff TLS), default 15 s.
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// How long the kernel may hold a new TCP connection until its first bytes arrive before handing it to
    /// the server (Linux `TCP_DEFER_ACCEPT`; default 1 s, `None` turns it off). Every protocol served here has
    /// the client speak first (HTTP, TLS), so a connection then arrives with its request readable: no read
    /// that finds nothing and no extra wake-up per connection. A client that stays silent longer is still
    /// accepted (after about that time) and then meets the usual timeouts. No effect on other systems.
    pub fn defer_accept(mut self, wait: Option<Duration>) -> Self {
        self.defer_accept = wait;
        self
    }

    /// Validates the vhosts, resolves mounts and protocols, loads certificates and binds every listener.
    /// Must be called inside a tokio runtime only if the caller wants to run it right away; binding itself is
    /// synchronous.
    pub fn build(self) -> Result<Context, BuildError> {
        if self.vhosts.is_empty() {
            return Err(BuildError::new("-", "no vhost configured".to_string()));
        }
        let server = Arc::new(ServerShared::new(
            self.server_string,
            self.ip_limit,
            self.handshake_timeout,
        ));
        let mut groups: Vec<(Listen, Vec<Arc<VhostInner>>)> = Vec::new();
        for v in self.vhosts {
            if v.listen.is_empty() {
                return Err(BuildError::new(&v.name, "no listen address".to_string()));
            }
            let addrs = v.listen.clone();
            let inner = Arc::new(VhostInner::build(v)?);
            for a in addrs {
                match groups.iter_mut().find(|(l, _)| *l == a && !is_port_zero(l)) {
                    Some((_, vs)) => vs.push(inner.clone()),
                    None => groups.push((a, vec![inner.clone()])),
                }
            }
        }
        let mut listeners = Vec::with_capacity(groups.len() * self.threads);
        let spread = self.threads > 1;
        for (addr, vhosts) in groups {
            let name = vhosts[0].name.clone();
            let bind_err =
                |e: io::Error| BuildError::new(&name, format!("bind {}: {e}", describe(&addr)));
            // A client that waits for the server to speak first would only be handed over after the
            // deferred-accept wait.
            let defer = self
                .defer_accept
                .filter(|_| !vhosts[0].accept.server_may_speak_first());
            let socket = listen::bind(&addr, spread, defer).map_err(bind_err)?;
            let port = Arc::new(port_shared(vhosts, server.clone())?);
            let first = BoundListener {
                socket,
                port: port.clone(),
                thread: 0,
            };
            // With port 0, the other threads' sockets must join the port the first one got.
            let actual = first.local();
            listeners.push(first);
            if let (true, Listen::Tcp(_)) = (spread, &actual) {
                for thread in 1..self.threads {
                    let socket = listen::bind(&actual, true, defer).map_err(bind_err)?;
                    listeners.push(BoundListener {
                        socket,
                        port: Arc::new(port.for_thread()),
                        thread,
                    });
                }
            }
        }
        let (shutdown, _) = watch::channel(false);
        Ok(Context {
            listeners,
            server,
            shutdown: Arc::new(shutdown),
            drain_timeout: self.drain_timeout,
            threads: self.threads,
        })
    }
}

/// Vhosts that ask for port 0 each get their own free port, so they never share a listener by accident.
fn is_port_zero(l: &Listen) -> bool {
    matches!(l, Listen::Tcp(a) if a.port() == 0)
}

fn describe(l: &Listen) -> String {
    match l {
        Listen::Tcp(a) => a.to_string(),
        Listen::Unix(p) => format!("unix:{}", p.display()),
    }
}

fn port_shared(
    vhosts: Vec<Arc<VhostInner>>,
    server: Arc<ServerShared>,
) -> Result<PortShared, BuildError> {
    #[cfg(feature = "tls")]
    {
        let tls = if vhosts.iter().any(|v| v.tls.is_some()) {
            Some(crate::tls::server_config(&vhosts)?)
        } else {
            None
        };
        Ok(PortShared {
            vhosts,
            server,
            tls,
        })
    }
    #[cfg(not(feature = "tls"))]
    {
        if let Some(v) = vhosts.iter().find(|v| v.tls.is_some()) {
            return Err(BuildError::new(
                &v.name,
                "TLS requested but built without the `tls` feature".into(),
            ));
        }
        Ok(PortShared { vhosts, server })
    }
}

/// A configured server with its sockets bound, ready to run.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use lws::{Context, Mount, Vhost};
/// let ctx = Context::builder()
///     .vhost(Vhost::new("localhost").listen("127.0.0.1:7681".parse()?).mount(Mount::files("/", "./www")))
///     .build()?;
/// ctx.run_until_signal().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Context {
    listeners: Vec<BoundListener>,
    server: Arc<ServerShared>,
    shutdown: Arc<watch::Sender<bool>>,
    drain_timeout: Duration,
    threads: usize,
}

/// Asks a running context to shut down gracefully; cheap to clone and usable from any thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Stops accepting, lets in-flight requests finish (up to the drain timeout), then ends `run`.
    pub fn shutdown(&self) {
        let _ = self.tx.send(true);
    }
}

impl Context {
    /// Starts configuring a context.
    pub fn builder() -> ContextBuilder {
        ContextBuilder {
            vhosts: Vec::new(),
            threads: 1,
            server_string: "lws-rs".to_string(),
            ip_limit: None,
            drain_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(15),
            defer_accept: Some(Duration::from_secs(1)),
        }
    }

    /// The TCP addresses actually bound, in vhost order, one per listening socket (with several service
    /// threads each has its own socket on the same address); useful with port 0.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| match l.local() {
                Listen::Tcp(a) => Some(a),
                Listen::Unix(_) => None,
            })
            .collect()
    }

    /// Every bound listener with the name of its default vhost.
    pub fn listeners(&self) -> Vec<(String, Listen)> {
        self.listeners
            .iter()
            .map(|l| (l.port.vhosts[0].name.to_string(), l.local()))
            .collect()
    }

    /// A handle that triggers graceful shutdown.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            tx: self.shutdown.clone(),
        }
    }

    /// Serves until shutdown is requested through a [`ShutdownHandle`], then drains. The first service
    /// thread is the caller's task; the others are started here, each with its own single-threaded runtime.
    pub async fn run(self) -> io::Result<()> {
        let Context {
            listeners,
            server,
            shutdown,
            drain_timeout,
            threads,
        } = self;
        let mut per_thread: Vec<Vec<BoundListener>> = (0..threads).map(|_| Vec::new()).collect();
        for l in listeners {
            per_thread[l.thread].push(l);
        }
        let mut others = Vec::with_capacity(threads.saturating_sub(1));
        for (i, ls) in per_thread.drain(1..).enumerate() {
            let (shutdown, server) = (shutdown.clone(), server.clone());
            let (done, finished) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name(format!("lws-service-{}", i + 1))
                .spawn(move || {
                    let result = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .and_then(|rt| {
                            rt.block_on(service_thread(ls, shutdown, server, drain_timeout))
                        });
                    let _ = done.send(result);
                })?;
            others.push(finished);
        }
        let first = per_thread.pop().unwrap_or_default();
        let result = service_thread(first, shutdown, server, drain_timeout).await;
        for t in others {
            if let Ok(Err(e)) = t.await {
                tracing::warn!("service thread ended with error: {e}");
            }
        }
        result
    }

    /// Runs on the current tokio runtime in the background.
    pub fn spawn(self) -> (ShutdownHandle, tokio::task::JoinHandle<io::Result<()>>) {
        let handle = self.shutdown_handle();
        (handle, tokio::spawn(self.run()))
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let handle = self.shutdown_handle();
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("shutting down");
            handle.shutdown();
        });
        self.run().await
    }
}

/// One service thread: accept on its listeners until shutdown, then keep its connections running until every
/// connection of the context has finished or the drain timeout passed.
async fn service_thread(
    listeners: Vec<BoundListener>,
    shutdown: Arc<watch::Sender<bool>>,
    server: Arc<ServerShared>,
    drain_timeout: Duration,
) -> io::Result<()> {
    let mut tasks = Vec::with_capacity(listeners.len());
    for l in listeners {
        tasks.push(tokio::spawn(listen::accept_loop(l, shutdown.subscribe())));
    }
    let mut rx = shutdown.subscribe();
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            break;
        }
    }
    for t in tasks {
        if let Ok(Err(e)) = t.await {
            tracing::warn!("listener ended with error: {e}");
        }
    }
    drain(&server, drain_timeout).await;
    Ok(())
}

/// Waits until no connection is live, or the drain timeout passes.
async fn drain(server: &ServerShared, limit: Duration) {
    let wait = async {
        loop {
            let notified = server.idle.notified();
            if server.live.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    };
    if tokio::time::timeout(limit, wait).await.is_err() {
        tracing::warn!(
            "{} connections still open after the drain timeout",
            server.live.load(Ordering::Acquire)
        );
    }
}
