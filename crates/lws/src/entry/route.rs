//! Which role takes a connection, from what its port allows and what its first bytes are: one decision,
//! made in one place. The order: the port's raw vhost (no sniffing at all); then the port's explicit
//! sniff rules (SSH, TLS by SNI/ALPN, HTTP) in order; then what the port serves itself (TLS on TLS ports,
//! HTTP/1 and HTTP/2 prior knowledge on plain ones, plain HTTP on TLS ports that redirect or allow it);
//! then an `Any` rule or the libwebsockets fallback; then the port's old answer (HTTP/1, which refuses the
//! bytes with 400, on plain ports without h2c; closing on TLS ports and on plain ports that take h2c).

use std::time::Duration;

use lws_proto::sniff::{classify, client_hello, HelloError, Verdict};

use super::sniff::{SniffEnd, Sniffed};
use crate::accept::SniffMatch;
use crate::conn::PortShared;
use crate::ProtocolHandle;

/// The role a connection is handed to.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    /// HTTP/1.x; `plain_on_tls` when it arrived on a TLS port that redirects plain HTTP.
    Http1 { plain_on_tls: bool },
    /// HTTP/2 by prior knowledge (the client preface came first).
    Http2,
    /// A TLS handshake, then HTTP/1.x or HTTP/2 as ALPN says.
    Tls,
    /// A raw protocol, with the bytes read so far (boxed: the choice is held across the connection's first
    /// await, and a handle inline would size every connection's task).
    Raw(Box<ProtocolHandle>),
    /// Nothing on this port serves it: close.
    Close,
}

/// What has to be read before choosing, for connections on `port`.
#[derive(Debug, Clone)]
pub(crate) enum Need {
    /// Nothing: the port has one role.
    Nothing(Role),
    /// The first bytes, within `wait`; `hello`: a TLS ClientHello must be read whole (SNI/ALPN rules).
    Sniff { hello: bool, wait: Duration },
}

/// What to read before choosing a role on `port`.
pub(crate) fn need(port: &PortShared) -> Need {
    let plan = &port.first().accept;
    if let Some(p) = &plan.apply {
        return Need::Nothing(Role::Raw(Box::new(p.clone())));
    }
    let rules = !plan.rules.is_empty() || plan.fallback.is_some();
    let wait = plan.silent_wait().unwrap_or(if port.has_tls() {
        port.server.handshake_timeout
    } else {
        port.first().limits.head_timeout
    });
    let sniff = Need::Sniff {
        hello: plan.needs_hello(),
        wait,
    };
    if rules {
        return sniff;
    }
    match (port.has_tls(), port.plain_on_tls(), port.h2c()) {
        (true, None, _) => Need::Nothing(Role::Tls),
        (false, _, false) => Need::Nothing(Role::Http1 {
            plain_on_tls: false,
        }),
        _ => sniff,
    }
}

/// The verdict for `first`; with `hello`, a TLS record counts only once its ClientHello is whole.
pub(crate) fn verdict(first: &[u8], hello: bool) -> Verdict {
    match classify(first) {
        Verdict::Tls if hello && client_hello(first) == Err(HelloError::NeedMore) => {
            Verdict::NeedMore
        }
        v => v,
    }
}

/// The role for a connection whose first bytes were `sniffed`.
pub(crate) fn choose(port: &PortShared, sniffed: &Sniffed) -> Role {
    let plan = &port.first().accept;
    if sniffed.end == SniffEnd::Failed {
        return Role::Close;
    }
    let v = match sniffed.verdict {
        Verdict::NeedMore if sniffed.bytes.is_empty() => {
            return plan
                .rules
                .iter()
                .find(|r| matches!(r.matcher, SniffMatch::Silent(_)))
                .map_or(Role::Close, |r| Role::Raw(Box::new(r.protocol.clone())));
        }
        // Undecided bytes before the peer stopped (or fell silent): they are nothing we know.
        Verdict::NeedMore => Verdict::Other,
        v => v,
    };
    if let Some(r) = plan
        .rules
        .iter()
        .find(|r| explicit_match(&r.matcher, v, &sniffed.bytes))
    {
        return Role::Raw(Box::new(r.protocol.clone()));
    }
    if let Some(role) = builtin(port, v) {
        return role;
    }
    if let Some(r) = plan.rules.iter().find(|r| r.matcher == SniffMatch::Any) {
        return Role::Raw(Box::new(r.protocol.clone()));
    }
    if let Some(f) = plan
        .fallback
        .as_ref()
        .filter(|_| !port.has_tls() || plan.allow_non_tls)
    {
        return Role::Raw(Box::new(f.clone()));
    }
    match (port.has_tls(), port.plain_on_tls()) {
        (true, Some(redirect)) => Role::Http1 {
            plain_on_tls: redirect,
        },
        (true, None) => Role::Close,
        // Where HTTP/2 prior knowledge is accepted, bytes that are neither HTTP/1 nor the preface may be an
        // HTTP/2 client's: an HTTP/1 400 would reach it as a broken frame, so close (RFC 9113 §3.4 lets the
        // GOAWAY be left out).
        (false, _) if port.h2c() && v == Verdict::Other => Role::Close,
        (false, _) => Role::Http1 {
            plain_on_tls: false,
        },
    }
}

/// What the port serves itself for verdict `v`, if anything.
fn builtin(port: &PortShared, v: Verdict) -> Option<Role> {
    let http = matches!(v, Verdict::Http1 | Verdict::Http2);
    if port.has_tls() {
        return match (v, port.plain_on_tls()) {
            (Verdict::Tls, _) => Some(Role::Tls),
            (_, Some(redirect)) if http => Some(Role::Http1 {
                plain_on_tls: redirect,
            }),
            _ => None,
        };
    }
    match v {
        Verdict::Http2 if port.h2c() => Some(Role::Http2),
        _ if http => Some(Role::Http1 {
            plain_on_tls: false,
        }),
        _ => None,
    }
}

/// Whether a rule that names what it wants (not `Any` or `Silent`) matches.
fn explicit_match(m: &SniffMatch, v: Verdict, bytes: &[u8]) -> bool {
    match m {
        SniffMatch::Ssh => v == Verdict::Ssh,
        SniffMatch::Http => matches!(v, Verdict::Http1 | Verdict::Http2),
        SniffMatch::Tls { sni, alpn } if v == Verdict::Tls => {
            if sni.is_empty() && alpn.is_empty() {
                return true;
            }
            let Ok(hello) = client_hello(bytes) else {
                return false;
            };
            let sni_ok = sni.is_empty()
                || hello
                    .sni
                    .as_deref()
                    .is_some_and(|name| sni.iter().any(|s| s.eq_ignore_ascii_case(name)));
            let alpn_ok = alpn.is_empty()
                || hello
                    .alpn
                    .iter()
                    .any(|offered| alpn.iter().any(|a| a.as_bytes() == offered.as_slice()));
            sni_ok && alpn_ok
        }
        _ => false,
    }
}
