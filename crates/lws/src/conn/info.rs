//! Facts about an accepted connection, fixed before any role runs.

use std::net::SocketAddr;

/// Facts about an accepted connection that routing needs.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    /// The peer's address; `None` on unix sockets.
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) tls: bool,
    /// The TLS SNI name, which picks the vhost for every request on the connection.
    pub(crate) sni: Option<String>,
    /// Plain HTTP that arrived on a TLS port of a vhost with `redirect-http`: every request gets a 301.
    pub(crate) plain_on_tls: bool,
}

impl ConnInfo {
    /// A connection without TLS.
    pub(crate) fn plain(peer: Option<SocketAddr>) -> ConnInfo {
        ConnInfo {
            peer,
            tls: false,
            sni: None,
            plain_on_tls: false,
        }
    }
}
