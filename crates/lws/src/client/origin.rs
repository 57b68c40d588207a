//! [`Origin`]: where a connection goes and how it may speak — the key under which connections are pooled and
//! shared, by HTTP requests and by WebSockets over HTTP/2 alike.

#[cfg(feature = "tls")]
use super::tls::Trust;
use super::url::WsUrl;

/// Where a connection goes and whom it trusts: connections are shared only between requests with the same
/// origin, so a request never rides a connection whose server certificate it would not have accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    /// `https` (or `wss`): the connection runs TLS.
    pub(crate) tls: bool,
    /// Lowercased host name or IP literal (IPv6 without brackets).
    pub(crate) host: String,
    /// The TCP port.
    pub(crate) port: u16,
    /// A unix socket to connect to instead of `host:port` (which then only name the origin).
    pub(crate) unix: Option<std::path::PathBuf>,
    /// Whether and how HTTP/2 may be spoken.
    pub(crate) h2: H2Mode,
    /// Whom the TLS handshake trusts; the default for a cleartext origin, so that trust settings a
    /// cleartext request never uses do not split its pool.
    #[cfg(feature = "tls")]
    pub(crate) trust: Trust,
}

/// How a connection may come to speak HTTP/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum H2Mode {
    /// HTTP/1.1 only (`http://` without prior knowledge, or `http1_only`).
    Off,
    /// TLS offering ALPN `h2, http/1.1`: the server chooses.
    Alpn,
    /// Cleartext HTTP/2 from the first byte (h2c prior knowledge, RFC 9113 §3.3).
    PriorKnowledge,
}

impl H2Mode {
    /// The mode for a URL given the request's options.
    pub(crate) fn for_url(url: &WsUrl, http1_only: bool, prior_knowledge: bool) -> H2Mode {
        match (url.tls, http1_only, prior_knowledge) {
            (_, true, _) => H2Mode::Off,
            (true, false, _) => H2Mode::Alpn,
            (false, false, true) => H2Mode::PriorKnowledge,
            (false, false, false) => H2Mode::Off,
        }
    }
}

impl Origin {
    /// The origin of `url` spoken with `h2`, trusting `trust` when the URL asks for TLS.
    pub(crate) fn new(url: &WsUrl, h2: H2Mode, #[cfg(feature = "tls")] trust: &Trust) -> Origin {
        Origin {
            tls: url.tls,
            host: url.host.to_ascii_lowercase(),
            port: url.port,
            unix: None,
            h2,
            #[cfg(feature = "tls")]
            trust: if url.tls {
                trust.clone()
            } else {
                Default::default()
            },
        }
    }
}
