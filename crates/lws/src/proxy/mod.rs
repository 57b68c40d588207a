//! HTTP reverse proxy mounts (libwebsockets' `http://`, `https://` and `+unix:` mount origins): requests
//! under the mountpoint go to an origin over pooled keep-alive HTTP/1.1 connections, bodies stream both ways
//! with backpressure, and an origin that fails is reported with the status a client expects (503
//! unreachable, 502 garbage, 504 too slow) or, mid-body, by aborting the response.
//!
//! Layout, top to bottom: `config` ([`ReverseProxy`], what a mount is given); `forward` (one request's
//! trip); `upstreams` (choosing an origin, passive health); `headers` (what crosses, what is added or
//! rewritten); `origin` (parsing origin strings).

mod config;
mod forward;
mod headers;
mod origin;
mod tunnel;
mod upstreams;

pub(crate) use config::ProxyMount;
pub use config::{
    HostHeader, ReverseProxy, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
};
pub(crate) use forward::{forward, ProxyJob, Upgrade};
pub use origin::{OriginError, ProxyOrigin};
pub(crate) use tunnel::{join, OriginTunnel};
pub use upstreams::Balance;
