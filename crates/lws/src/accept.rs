//! What a port does with connections that are not only HTTP: libwebsockets' listen-accept settings (every
//! connection to a raw protocol, or only those whose first bytes are not HTTP/TLS) and, beyond
//! libwebsockets, sslh-style rules that pick a raw protocol by what the first bytes look like, so one port
//! can carry HTTPS, SSH and other TLS services at once.

use std::time::Duration;

use crate::{BuildError, ProtocolHandle};

/// What a [`SniffRule`] matches in a connection's first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SniffMatch {
    /// An SSH identification string (`SSH-...`).
    Ssh,
    /// A TLS ClientHello, optionally only one naming one of `sni` (server names, case-insensitive) or
    /// offering one of `alpn`; empty lists match any. Checked before the port's own TLS, so the connection
    /// is passed on still encrypted.
    Tls {
        /// Server names to match; empty: any (or none).
        sni: Vec<String>,
        /// ALPN protocol ids of which one must be offered; empty: any.
        alpn: Vec<String>,
    },
    /// An HTTP/1 request line or the HTTP/2 preface (for ports whose vhost serves no HTTP itself, or to pass
    /// HTTP elsewhere).
    Http,
    /// Bytes that nothing else on the port serves: checked after the rules above and after the port's own
    /// HTTP and TLS.
    Any,
    /// A client that sends nothing within this wait (protocols where the server speaks first).
    Silent(Duration),
}

/// A rule of a port: connections whose first bytes match go to a raw protocol (the proxy, or any other).
#[derive(Debug, Clone)]
pub struct SniffRule {
    pub(crate) matcher: SniffMatch,
    pub(crate) protocol: ProtocolHandle,
}

impl SniffRule {
    /// Sends connections that match `matcher` to `protocol`, which must serve raw connections.
    pub fn new(matcher: SniffMatch, protocol: ProtocolHandle) -> Self {
        SniffRule { matcher, protocol }
    }

    /// What the rule matches.
    pub fn matcher(&self) -> &SniffMatch {
        &self.matcher
    }
}

/// A vhost's listen-accept settings as given.
#[derive(Debug, Clone, Default)]
pub(crate) struct AcceptConfig {
    /// `apply-listen-accept`: the protocol every connection goes to.
    pub(crate) apply: Option<String>,
    /// `fallback-listen-accept`: the protocol for connections that are not HTTP (or not TLS).
    pub(crate) fallback: Option<String>,
    /// `allow-non-tls`: non-TLS bytes on a TLS port may go to the fallback.
    pub(crate) allow_non_tls: bool,
    pub(crate) rules: Vec<SniffRule>,
}

/// The settings resolved against the vhost's protocols.
#[derive(Debug, Clone, Default)]
pub(crate) struct AcceptPlan {
    pub(crate) apply: Option<ProtocolHandle>,
    pub(crate) fallback: Option<ProtocolHandle>,
    pub(crate) allow_non_tls: bool,
    pub(crate) rules: Vec<SniffRule>,
}

impl AcceptPlan {
    /// Resolves protocol names; every protocol named must be attached to the vhost and serve raw
    /// connections.
    pub(crate) fn resolve(
        vhost: &str,
        config: AcceptConfig,
        protocols: &[ProtocolHandle],
        tls: bool,
    ) -> Result<AcceptPlan, BuildError> {
        let find = |what: &str, name: &str| {
            let p = protocols.iter().find(|p| &*p.name == name).ok_or_else(|| {
                BuildError::new(vhost, format!("{what}: no protocol {name:?} on the vhost"))
            })?;
            if !p.has_raw() {
                return Err(BuildError::new(
                    vhost,
                    format!("{what}: protocol {name:?} does not serve raw connections"),
                ));
            }
            Ok(p.clone())
        };
        let apply = config
            .apply
            .as_deref()
            .map(|n| find("listen-accept", n))
            .transpose()?;
        if apply.is_some() && tls {
            return Err(BuildError::new(
                vhost,
                "a raw vhost (apply-listen-accept) cannot have TLS; use a TLS port's fallback instead"
                    .into(),
            ));
        }
        let fallback = config
            .fallback
            .as_deref()
            .map(|n| find("fallback-listen-accept", n))
            .transpose()?;
        for r in &config.rules {
            if !r.protocol.has_raw() {
                return Err(BuildError::new(
                    vhost,
                    format!(
                        "sniff rule: protocol {:?} does not serve raw connections",
                        r.protocol.name
                    ),
                ));
            }
        }
        Ok(AcceptPlan {
            apply,
            fallback,
            allow_non_tls: config.allow_non_tls,
            rules: config.rules,
        })
    }

    /// Whether a client on this port may wait for the server to speak first, so the kernel must hand over
    /// connections before their first bytes arrive (no deferred accept).
    pub(crate) fn server_may_speak_first(&self) -> bool {
        self.apply.is_some()
            || self
                .rules
                .iter()
                .any(|r| matches!(r.matcher, SniffMatch::Silent(_)))
    }

    /// Whether any rule needs the TLS ClientHello read (its SNI or ALPN).
    pub(crate) fn needs_hello(&self) -> bool {
        self.rules.iter().any(|r| {
            matches!(&r.matcher, SniffMatch::Tls { sni, alpn } if !sni.is_empty() || !alpn.is_empty())
        })
    }

    /// The wait for a silent client, if a rule serves them.
    pub(crate) fn silent_wait(&self) -> Option<Duration> {
        self.rules
            .iter()
            .filter_map(|r| match r.matcher {
                SniffMatch::Silent(d) => Some(d),
                _ => None,
            })
            .min()
    }
}
