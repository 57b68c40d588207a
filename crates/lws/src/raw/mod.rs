//! The raw role (libwebsockets' `raw-skt` and `raw-file`): connections that carry no HTTP at all, handed
//! to a [`RawProtocol`] as bytes. They arrive three ways:
//!
//! - accepted on a raw vhost ([`crate::Vhost::listen_accept`]) or through the port's fallback when the first
//!   bytes are not HTTP ([`crate::Vhost::fallback_listen_accept`], [`crate::Vhost::sniff_rule`]);
//! - opened by us ([`connect`]: TCP by address or host name, unix sockets; connect timeout and retry);
//! - adopted from the application ([`adopt_tcp`], [`adopt_unix`], [`adopt_udp`], [`adopt_fd`] for pipes,
//!   FIFOs, character devices and other pollable descriptors).
//!
//! Sending is queued with backpressure as for WebSockets: [`RawCtx::send`] writes at once what the socket
//! takes, reading from a peer pauses while more than a high-water mark is queued for it, and
//! [`RawProtocol::writable`] is called (when asked for) once the queue drains below a low-water mark.
//!
//! The built-in [`Proxy`] (libwebsockets' `raw-proxy`) forwards every connection to an onward address.

mod adopt;
mod connect;
mod ctx;
pub(crate) mod driver;
mod fd;
mod protocol;
mod proxy;
pub(crate) mod service;
#[cfg(target_os = "linux")]
mod splice;
mod target;
mod udp;

pub use crate::ws::ConnectionClosed;
pub use adopt::{adopt_fd, adopt_tcp, adopt_udp, adopt_unix, Adopted};
pub use connect::{connect, RawClientBuilder, RawStream, DEFAULT_RAW_CONNECT_TIMEOUT};
pub use ctx::{RawCtx, RawHandle};
pub use protocol::{RawClose, RawInfo, RawProtocol, RawTransport};
pub use proxy::{Proxy, ProxyConfig};
pub use target::{Family, RawTarget, RawTargetError, DEFAULT_PORT};

pub(crate) use service::{RawConn, RawIo, RawService, Serving};
