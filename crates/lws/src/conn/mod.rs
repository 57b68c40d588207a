//! What every connection shares, whatever role serves it: the facts routing needs ([`ConnInfo`]), the
//! admission guard and per-IP count ([`ConnGuard`]), the state of the port it arrived on ([`PortShared`]),
//! writes with a stall timeout ([`write_timeout`]) and what a role hands over when the connection switches
//! protocol ([`Handoff`]).
//!
//! This is the bottom layer of the server side: roles (HTTP/1, HTTP/2, WebSocket, raw) and the connection
//! entry import it; it imports none of them.

mod guard;
mod handoff;
mod info;
mod members;
mod port;
mod remote;
mod write;

pub(crate) use guard::{ConnGuard, ServerShared};
pub(crate) use handoff::{H2Start, H2cUpgrade, Handoff, SpawnTunnel, Switched};
pub(crate) use info::ConnInfo;
pub(crate) use members::Members;
pub use members::ValidityPolicy;
pub(crate) use port::PortShared;
pub(crate) use remote::ConnShared;
pub(crate) use write::{stall_limit, write_timeout, Abort};
