//! Header fields across the proxy: hop-by-hop fields removed both ways (RFC 9110 §7.6.1, with those a
//! `Connection` field names), the forwarding fields appended (`X-Forwarded-*`, RFC 7239 `Forwarded`), and
//! an origin's `Location` and cookie paths moved under the mountpoint when asked.

use std::borrow::Cow;
use std::io::Write;

use bytes::Bytes;
use std::net::IpAddr;

/// Fields that describe one connection, never passed on (framing is redone on each side).
const HOP_BY_HOP: [&str; 11] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "content-length",
    "host",
];

/// Whether `name` is one of the fixed hop-by-hop fields.
fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// Adds the field names a `Connection` value lists to `tokens`.
fn add_connection_tokens(tokens: &mut Vec<String>, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        tokens.push(t.to_ascii_lowercase());
    }
}

/// Drops the fields a `Connection` field named (read in the same pass as the rest, so the fields are
/// walked once).
fn drop_named<N: AsRef<str>, V>(out: &mut Vec<(N, V)>, tokens: &[String]) {
    if !tokens.is_empty() {
        out.retain(|(n, _)| !tokens.iter().any(|t| n.as_ref().eq_ignore_ascii_case(t)));
    }
}

/// What the proxy knows about the client side of a request.
pub(crate) struct ClientSide<'a> {
    pub(crate) peer: Option<IpAddr>,
    pub(crate) tls: bool,
    /// The `Host` (or `:authority`) the client sent.
    pub(crate) host: Option<&'a str>,
}

/// A field to send onward: the client's own borrowed as they are, the forwarding fields built here.
pub(crate) type Onward<'a> = (&'a str, Cow<'a, [u8]>);

/// The request fields to send onward: the client's end-to-end fields, then the forwarding fields with this
/// hop appended to what earlier proxies wrote.
pub(crate) fn onward_request<'a>(
    fields: impl Iterator<Item = (&'a str, &'a [u8])>,
    client: &ClientSide<'a>,
) -> Vec<Onward<'a>> {
    let mut connection = Vec::new();
    let mut out: Vec<Onward<'a>> = Vec::with_capacity(16);
    let mut xff: Option<Vec<u8>> = None;
    let mut forwarded: Option<Vec<u8>> = None;
    for (name, value) in fields {
        if name.eq_ignore_ascii_case("connection") {
            add_connection_tokens(&mut connection, value);
        }
        if is_hop_by_hop(name) || name.starts_with(':') {
            continue;
        }
        let slot = if name.eq_ignore_ascii_case("x-forwarded-for") {
            &mut xff
        } else if name.eq_ignore_ascii_case("forwarded") {
            &mut forwarded
        } else if name.eq_ignore_ascii_case("x-forwarded-proto")
            || name.eq_ignore_ascii_case("x-forwarded-host")
        {
            // Replaced by this hop's view: the origin wants the scheme and host its client used.
            continue;
        } else {
            out.push((name, Cow::Borrowed(value)));
            continue;
        };
        // Several fields of one name are one comma-separated list (RFC 9110 §5.3).
        let list = slot.get_or_insert_with(Vec::new);
        if !list.is_empty() {
            list.extend_from_slice(b", ");
        }
        list.extend_from_slice(value);
    }
    drop_named(&mut out, &connection);
    // What earlier hops wrote stays behind too when this hop's `Connection` names it.
    if connection.iter().any(|t| t == "x-forwarded-for") {
        xff = None;
    }
    if connection.iter().any(|t| t == "forwarded") {
        forwarded = None;
    }
    let proto = if client.tls { "https" } else { "http" };
    match (client.peer, xff) {
        (Some(ip), list) => {
            let mut v = list.unwrap_or_default();
            if !v.is_empty() {
                v.extend_from_slice(b", ");
            }
            let _ = write!(v, "{ip}");
            out.push(("x-forwarded-for", v.into()));
        }
        (None, Some(v)) => out.push(("x-forwarded-for", v.into())),
        (None, None) => {}
    }
    out.push(("x-forwarded-proto", Cow::Borrowed(proto.as_bytes())));
    if let Some(h) = client.host {
        out.push(("x-forwarded-host", Cow::Borrowed(h.as_bytes())));
    }
    let mut element = forwarded.unwrap_or_default();
    if !element.is_empty() {
        element.extend_from_slice(b", ");
    }
    match client.peer {
        Some(IpAddr::V4(v4)) => drop(write!(element, "for={v4};")),
        Some(IpAddr::V6(v6)) => drop(write!(element, "for=\"[{v6}]\";")),
        None => {}
    }
    if let Some(h) = client.host.filter(|h| is_token(h)) {
        let _ = write!(element, "host={h};");
    }
    let _ = write!(element, "proto={proto}");
    out.push(("forwarded", element.into()));
    out
}

/// Whether a value can go unquoted in a `Forwarded` element (RFC 7230 token).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How the origin's paths map back to the client's: `base` below the origin, `mountpoint` on our side.
pub(crate) struct PathMap<'a> {
    pub(crate) base: &'a str,
    pub(crate) mountpoint: &'a str,
    /// The origin's own authority (`host[:port]`), so that absolute `Location`s to it are rewritten too.
    pub(crate) authority: &'a str,
}

/// The response fields to send back: end-to-end fields only (values shared with the origin's head, not
/// copied), `Location` and cookie paths mapped when asked.
pub(crate) fn back_to_client<'a>(
    fields: impl Iterator<Item = (&'a str, Bytes)>,
    rewrite: Option<&PathMap<'_>>,
) -> Vec<(Cow<'static, str>, Bytes)> {
    let mut connection = Vec::new();
    let mut out = Vec::with_capacity(16);
    for (name, value) in fields {
        if name.eq_ignore_ascii_case("connection") {
            add_connection_tokens(&mut connection, &value);
        }
        if is_hop_by_hop(name) {
            continue;
        }
        let value = match rewrite {
            Some(map) if name.eq_ignore_ascii_case("location") => {
                Bytes::from(map_location(&value, map))
            }
            Some(map) if name.eq_ignore_ascii_case("set-cookie") => {
                Bytes::from(map_cookie_path(&value, map))
            }
            _ => value,
        };
        out.push((field_name(name), value));
    }
    drop_named(&mut out, &connection);
    out
}

/// A field name in lowercase: the common ones as static text, so most responses need no name copied.
fn field_name(name: &str) -> Cow<'static, str> {
    const COMMON: [&str; 16] = [
        "content-type",
        "last-modified",
        "etag",
        "accept-ranges",
        "cache-control",
        "expires",
        "vary",
        "location",
        "set-cookie",
        "content-encoding",
        "content-range",
        "content-language",
        "content-disposition",
        "access-control-allow-origin",
        "x-content-type-options",
        "strict-transport-security",
    ];
    match COMMON.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(name.to_ascii_lowercase()),
    }
}

/// Moves an origin path under the mountpoint: `/base/x` becomes `/mnt/x`; other paths are left alone.
fn map_path(path: &str, map: &PathMap<'_>) -> Option<String> {
    let rest = if map.base.is_empty() {
        path
    } else {
        let r = path.strip_prefix(map.base)?;
        if !(r.is_empty() || r.starts_with(['/', '?'])) {
            return None;
        }
        r
    };
    let mount = map.mountpoint.trim_end_matches('/');
    Some(match rest {
        "" => format!("{mount}/"),
        r if r.starts_with('?') => format!("{mount}/{r}"),
        r => format!("{mount}{r}"),
    })
}

fn map_location(value: &[u8], map: &PathMap<'_>) -> Vec<u8> {
    let Ok(v) = std::str::from_utf8(value) else {
        return value.to_vec();
    };
    let path = if v.starts_with('/') && !v.starts_with("//") {
        Some(v)
    } else {
        // An absolute URL to the origin itself becomes a path on ours.
        ["http://", "https://"].iter().find_map(|scheme| {
            let rest = v.strip_prefix(scheme)?;
            let rest = rest.strip_prefix(map.authority)?;
            (rest.is_empty() || rest.starts_with('/')).then_some(rest)
        })
    };
    match path.map(|p| if p.is_empty() { "/" } else { p }) {
        Some(p) => map_path(p, map).map_or_else(|| value.to_vec(), String::into_bytes),
        None => value.to_vec(),
    }
}

fn map_cookie_path(value: &[u8], map: &PathMap<'_>) -> Vec<u8> {
    let Ok(v) = std::str::from_utf8(value) else {
        return value.to_vec();
    };
    let parts: Vec<String> = v
        .split(';')
        .map(|attr| {
            let trimmed = attr.trim_start();
            match trimmed.split_once('=') {
                Some((k, p)) if k.trim().eq_ignore_ascii_case("path") => {
                    let lead = &attr[..attr.len() - trimmed.len()];
                    match map_path(p.trim(), map) {
                        Some(m) => format!("{lead}{}={}", k.trim(), m),
                        None => attr.to_string(),
                    }
                }
                _ => attr.to_string(),
            }
        })
        .collect();
    parts.join(";").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<N: AsRef<str>, V>(v: &[(N, V)]) -> Vec<&str> {
        v.iter().map(|(n, _)| n.as_ref()).collect()
    }

    fn get<'a, N: AsRef<str>, V: AsRef<[u8]>>(v: &'a [(N, V)], name: &str) -> Option<&'a str> {
        v.iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| std::str::from_utf8(v.as_ref()).unwrap())
    }

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_stay_behind() {
        let fields: Vec<(&str, &[u8])> = vec![
            ("Host", b"a"),
            ("Connection", b"keep-alive, X-Secret"),
            ("X-Secret", b"1"),
            ("Keep-Alive", b"5"),
            ("TE", b"trailers"),
            ("Transfer-Encoding", b"chunked"),
            ("Accept", b"*/*"),
        ];
        let client = ClientSide {
            peer: Some("10.0.0.9".parse().unwrap()),
            tls: true,
            host: Some("a"),
        };
        let out = onward_request(fields.iter().copied(), &client);
        assert_eq!(
            names(&out),
            [
                "Accept",
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-forwarded-host",
                "forwarded"
            ]
        );
        assert_eq!(
            get(&out, "forwarded"),
            Some("for=10.0.0.9;host=a;proto=https")
        );
    }

    #[test]
    fn forwarding_fields_append_to_earlier_hops() {
        let fields: Vec<(&str, &[u8])> = vec![
            ("X-Forwarded-For", b"1.1.1.1"),
            ("x-forwarded-for", b"2.2.2.2"),
            ("Forwarded", b"for=1.1.1.1"),
            ("X-Forwarded-Proto", b"https"),
        ];
        let client = ClientSide {
            peer: Some("::1".parse().unwrap()),
            tls: false,
            host: None,
        };
        let out = onward_request(fields.iter().copied(), &client);
        assert_eq!(get(&out, "x-forwarded-for"), Some("1.1.1.1, 2.2.2.2, ::1"));
        assert_eq!(get(&out, "x-forwarded-proto"), Some("http"));
        assert_eq!(
            get(&out, "forwarded"),
            Some("for=1.1.1.1, for=\"[::1]\";proto=http")
        );
    }

    fn shared<'a>(
        fields: &'a [(&'a str, &'a [u8])],
    ) -> impl Iterator<Item = (&'a str, Bytes)> + Clone {
        fields.iter().map(|(n, v)| (*n, Bytes::copy_from_slice(v)))
    }

    #[test]
    fn location_and_cookie_paths_move_under_the_mountpoint() {
        let map = PathMap {
            base: "/app",
            mountpoint: "/mnt",
            authority: "127.0.0.1:8080",
        };
        let fields: Vec<(&str, &[u8])> = vec![
            ("Location", b"http://127.0.0.1:8080/app/login?x=1"),
            ("Set-Cookie", b"sid=1; Path=/app/; HttpOnly"),
            ("Set-Cookie", b"o=2; path=/other"),
            ("Content-Length", b"5"),
        ];
        let out = back_to_client(shared(&fields), Some(&map));
        assert_eq!(get(&out, "location"), Some("/mnt/login?x=1"));
        let cookies: Vec<_> = out
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect();
        assert_eq!(cookies, ["sid=1; Path=/mnt/; HttpOnly", "o=2; path=/other"]);
        assert!(get(&out, "content-length").is_none());
        let other: Vec<(&str, &[u8])> = vec![("Location", b"https://elsewhere/app/x")];
        let out = back_to_client(shared(&other), Some(&map));
        assert_eq!(get(&out, "location"), Some("https://elsewhere/app/x"));
    }
}
