//! The state of one listening address that its connections read: the vhosts on it and its TLS setup.

use std::sync::Arc;

use super::ServerShared;
use crate::vhost::VhostInner;

/// State of one listening address: the vhosts on it (first is the default) and its TLS setup.
pub(crate) struct PortShared {
    pub(crate) vhosts: Vec<Arc<VhostInner>>,
    pub(crate) server: Arc<ServerShared>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

impl std::fmt::Debug for PortShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vhosts.iter().map(|v| &*v.name).collect();
        f.debug_struct("PortShared")
            .field("vhosts", &names)
            .finish()
    }
}

impl PortShared {
    /// The same port for another service thread, with vhosts of its own (see `VhostInner::for_thread`) and
    /// the same TLS configuration (so session resumption works whichever thread a client lands on).
    pub(crate) fn for_thread(&self) -> PortShared {
        PortShared {
            vhosts: self.vhosts.iter().map(VhostInner::for_thread).collect(),
            server: self.server.clone(),
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
        }
    }

    /// The vhost whose settings decide for the whole port (libwebsockets: the first one on it).
    pub(crate) fn first(&self) -> &Arc<VhostInner> {
        &self.vhosts[0]
    }

    /// Whether the port has TLS.
    pub(crate) fn has_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }

    /// What to do with plain HTTP on a TLS port: `Some(true)` redirect, `Some(false)` serve, `None` refuse.
    pub(crate) fn plain_on_tls(&self) -> Option<bool> {
        let v = self.first();
        if v.redirect_http {
            Some(true)
        } else if v.allow_http_on_https {
            Some(false)
        } else {
            None
        }
    }

    /// Whether cleartext connections may speak HTTP/2 (prior knowledge, `Upgrade: h2c`).
    pub(crate) fn h2c(&self) -> bool {
        self.first().alpn.iter().any(|a| a == "h2")
    }
}
