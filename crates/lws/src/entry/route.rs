//! Which role takes a connection, from what its port allows and what its first bytes are: one decision,
//! made in one place.

use lws_proto::sniff::Verdict;

use super::sniff::SniffEnd;
use crate::conn::PortShared;

/// The role a connection is handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// HTTP/1.x; `plain_on_tls` when it arrived on a TLS port that redirects plain HTTP.
    Http1 { plain_on_tls: bool },
    /// HTTP/2 by prior knowledge (the client preface came first).
    Http2,
    /// A TLS handshake, then HTTP/1.x or HTTP/2 as ALPN says.
    Tls,
    /// Nothing on this port serves it: close.
    Close,
}

/// What has to be read before choosing, for connections on `port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing: the port has one role.
    Nothing(Role),
    /// Enough to tell TLS from anything else (the first byte).
    TlsOrNot,
    /// Enough for [`lws_proto::sniff::classify`] to decide.
    Verdict,
}

/// What to read before choosing a role on `port`.
pub(crate) fn need(port: &PortShared) -> Need {
    if port.has_tls() {
        return match port.plain_on_tls() {
            Some(_) => Need::TlsOrNot,
            None => Need::Nothing(Role::Tls),
        };
    }
    if port.h2c() {
        Need::Verdict
    } else {
        Need::Nothing(Role::Http1 {
            plain_on_tls: false,
        })
    }
}

/// The role for a connection whose first bytes gave `verdict` (reading ended as `end`).
pub(crate) fn choose(port: &PortShared, verdict: Verdict, end: SniffEnd) -> Role {
    if matches!(end, SniffEnd::Failed | SniffEnd::Silent) && verdict == Verdict::NeedMore {
        return Role::Close;
    }
    if port.has_tls() {
        return match (verdict, port.plain_on_tls()) {
            (Verdict::Tls, _) => Role::Tls,
            (_, Some(redirect)) => Role::Http1 {
                plain_on_tls: redirect,
            },
            (_, None) => Role::Close,
        };
    }
    match verdict {
        Verdict::Http2 if port.h2c() => Role::Http2,
        _ => Role::Http1 {
            plain_on_tls: false,
        },
    }
}

/// The verdict a TLS port needs: a handshake record starts with content type 22.
pub(crate) fn tls_or_not(first: &[u8]) -> Verdict {
    match first.first() {
        None => Verdict::NeedMore,
        Some(0x16) => Verdict::Tls,
        Some(_) => Verdict::Other,
    }
}
