//! [`Cgi`]: what a CGI mount runs and its limits; [`CgiMount`], the same resolved at build time; and
//! [`CgiSlots`], the per-vhost cap on processes running at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Default [`Cgi::timeout`]: 60 s, as libwebsockets' `cgi-timeout` examples.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default most CGI processes running at once per vhost: 32 (see `Vhost::cgi_max_processes`).
pub const DEFAULT_MAX_PROCESSES: usize = 32;

/// A CGI mount's origin and options.
///
/// The origin is either one executable (every URL under the mountpoint runs it, the rest of the path
/// becoming `PATH_INFO`) or a directory (the URL names a script inside it: `/mnt/sub/x.sh/more` runs
/// `dir/sub/x.sh` with `PATH_INFO=/more`). Scripts are executed directly, so they need a `#!` line and the
/// execute bit.
///
/// ```
/// use std::time::Duration;
/// use lws::cgi::Cgi;
/// let cgi = Cgi::new("/srv/cgi-bin").env("APP_MODE", "production").timeout(Duration::from_secs(10));
/// let mount = lws::Mount::cgi("/cgi-bin", cgi);
/// # let _ = mount;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgi {
    pub(crate) origin: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) max_body: u64,
    pub(crate) max_head: usize,
    pub(crate) max_fields: usize,
}

impl Cgi {
    /// A CGI mount running the executable `origin`, or the scripts inside the directory `origin`.
    pub fn new(origin: impl Into<PathBuf>) -> Cgi {
        Cgi {
            origin: origin.into(),
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            max_body: 1 << 30,
            max_head: lws_proto::cgi::DEFAULT_MAX_HEAD,
            max_fields: lws_proto::cgi::DEFAULT_MAX_FIELDS,
        }
    }

    /// Adds a variable to every script's environment (libwebsockets' `cgi-env`). It is set after the
    /// meta-variables, so it may replace one (e.g. `PATH`).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// How long a script may run (libwebsockets' `cgi-timeout`, default [`DEFAULT_TIMEOUT`]). Beyond it
    /// its process group is killed; the client gets 504 if no head came yet, or an aborted body.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Largest request body passed to a script (default 1 GiB; larger: 413). It streams: nothing is
    /// buffered whole.
    pub fn max_body(mut self, n: u64) -> Self {
        self.max_body = n;
        self
    }

    /// Limits on the head a script prints: bytes (default 64 KiB) and fields (default 100). A script over
    /// either is answered 502 and killed.
    pub fn head_limits(mut self, max_bytes: usize, max_fields: usize) -> Self {
        self.max_head = max_bytes.max(1);
        self.max_fields = max_fields;
        self
    }

    /// The origin as given.
    pub fn origin(&self) -> &Path {
        &self.origin
    }
}

/// A CGI mount as it runs: the options and the canonical origin.
#[derive(Debug)]
pub(crate) struct CgiMount {
    pub(crate) settings: Cgi,
    /// The canonical origin (no symlinks, absolute).
    pub(crate) origin: PathBuf,
    /// Whether the origin is a directory of scripts rather than one executable.
    pub(crate) is_dir: bool,
    /// The mountpoint, for `SCRIPT_NAME`.
    pub(crate) mountpoint: String,
}

impl CgiMount {
    /// Resolves the origin; it must exist.
    pub(crate) fn new(settings: Cgi, mountpoint: &str) -> Result<Arc<CgiMount>, String> {
        let origin = std::fs::canonicalize(&settings.origin)
            .map_err(|e| format!("cgi origin {}: {e}", settings.origin.display()))?;
        let is_dir = origin.is_dir();
        Ok(Arc::new(CgiMount {
            settings,
            origin,
            is_dir,
            mountpoint: mountpoint.to_string(),
        }))
    }
}

/// The cap on CGI processes a vhost runs at once: one slot per running script; a request that finds none
/// free is answered 503 at once rather than queued (a queue of waiting uploads would hold connections
/// and memory for scripts that cannot start).
#[derive(Debug, Clone)]
pub(crate) struct CgiSlots(Arc<tokio::sync::Semaphore>);

impl CgiSlots {
    pub(crate) fn new(max: usize) -> CgiSlots {
        CgiSlots(Arc::new(tokio::sync::Semaphore::new(max)))
    }

    /// A slot, held until the script's process is reaped; `None` when all are taken.
    pub(crate) fn try_take(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}
