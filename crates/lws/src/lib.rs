//! lws, the runtime of lws-rs: contexts, vhosts, listeners, TLS, mounts and protocols on tokio.
//! It drives the sans-IO engines of `lws-proto` and gives applications libwebsockets' model (vhosts,
//! mounts, named protocols with per-vhost and per-connection state) with an idiomatic async Rust API.
//!
//! ```no_run
//! use lws::{Context, Mount, Vhost};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let vhost = Vhost::new("localhost")
//!         .listen("127.0.0.1:7681".parse()?)
//!         .mount(Mount::files("/", "./mount-origin").default_doc("index.html"));
//!     Context::builder().vhost(vhost).build()?.run_until_signal().await?;
//!     Ok(())
//! }
//! ```

mod accept;
mod access_log;
mod auth;
mod compress;
mod conn;
mod context;
mod deadline;
mod entry;
mod file_cache;
mod file_info;
mod file_watch;
mod files;
mod h2_tunnel;
mod listen;
mod mime;
mod mount;
mod open_beneath;
mod protocol;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
mod tls_stream;
mod transport;
mod vhost;

pub mod cgi;
pub mod client;
pub mod http;
pub mod proxy;
pub mod raw;
pub mod ws;

pub use accept::{SniffMatch, SniffRule};
pub use compress::{Compression, ContentCoding};
pub use context::{Context, ContextBuilder, ShutdownHandle};
pub use http::{
    Body, BodyError, BodySender, BodySource, ClientGone, Frame, HttpCtx, Request, RequestBody,
    Responder, Response, Trailers,
};
pub use mount::{CachePolicy, Mount, MountKind};
pub use protocol::{Protocol, ProtocolHandle, ProtocolInitError, Pvo, Registry};
pub use vhost::{HttpLimits, Listen, Vhost, STRICT_SECURITY_HEADERS};

/// A configuration that cannot be served: names the vhost and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// The vhost concerned (`-` when none).
    pub vhost: String,
    /// What is wrong.
    pub message: String,
}

impl BuildError {
    pub(crate) fn new(vhost: &str, message: String) -> Self {
        BuildError {
            vhost: vhost.to_string(),
            message,
        }
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "vhost {}: {}", self.vhost, self.message)
    }
}

impl std::error::Error for BuildError {}

/// libwebsockets' boolean option values: `1` (any non-zero number), `on`, `yes`, `true`.
pub(crate) fn truthy(v: &str) -> bool {
    let v = v.trim();
    v.parse::<i64>().map(|n| n != 0).unwrap_or(false)
        || ["on", "yes", "true"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Compiles the README's code as a doctest, so the embedding example there stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
