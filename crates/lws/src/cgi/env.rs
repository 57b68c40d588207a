//! The environment a CGI script gets: nothing inherited from the server, only the RFC 3875 meta-variables
//! (section 4.1), `HTTPS`, libwebsockets' `SCRIPT_PATH`, `PATH`, and the mount's own variables.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::script::Script;
use crate::http::Request;

/// The `PATH` a script gets: the system's binaries, never the server's own `PATH`.
pub(crate) const SAFE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Request fields never passed as `HTTP_*`: credentials (RFC 3875 4.1.18 lets servers withhold them, and a
/// script behind basic auth gets `REMOTE_USER` instead), the body's framing (passed as `CONTENT_*`), and
/// `Proxy`, which would become `HTTP_PROXY` and steer the script's own HTTP clients ("httpoxy").
const WITHHELD: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "proxy",
    "content-type",
    "content-length",
];

/// Builds the environment for `script` serving `req`, with `extra` (the mount's `cgi-env`) last.
pub(crate) fn build(
    req: &Request,
    script: &Script,
    extra: &[(String, String)],
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = Vec::with_capacity(32 + extra.len());
    let mut set = |name: &str, value: Vec<u8>| {
        env.push((OsString::from(name), OsString::from_vec(value)));
    };
    let host = req.header("host").unwrap_or(req.vhost());
    let (name, port) = split_host(host, req.is_tls());
    set("GATEWAY_INTERFACE", b"CGI/1.1".to_vec());
    set("SERVER_PROTOCOL", req.version().as_str().into());
    set(
        "SERVER_SOFTWARE",
        concat!("lws-rs/", env!("CARGO_PKG_VERSION")).into(),
    );
    set("SERVER_NAME", name.into());
    set("SERVER_PORT", port.into());
    set("REQUEST_METHOD", req.method().into());
    set("REQUEST_URI", req.raw_target().into());
    set("QUERY_STRING", req.query().unwrap_or("").into());
    set("SCRIPT_NAME", script.script_name.clone().into());
    set("PATH_INFO", script.path_info.clone().into());
    let filename = script.path.clone().into_os_string().into_vec();
    set("SCRIPT_FILENAME", filename.clone());
    set("SCRIPT_PATH", filename);
    if let Some(peer) = req.peer_addr() {
        set("REMOTE_ADDR", peer.ip().to_string().into());
        set("REMOTE_PORT", peer.port().to_string().into());
    }
    if let Some(user) = req.user() {
        set("AUTH_TYPE", b"Basic".to_vec());
        set("REMOTE_USER", user.into());
    }
    if let Some(len) = req.header("content-length") {
        set("CONTENT_LENGTH", len.into());
    }
    if let Some(ty) = req.header("content-type") {
        set("CONTENT_TYPE", ty.into());
    }
    if req.is_tls() {
        set("HTTPS", b"on".to_vec());
    }
    set("PATH", SAFE_PATH.into());
    for (name, value) in http_variables(req) {
        set(&name, value);
    }
    for (n, v) in extra {
        set(n, v.clone().into());
    }
    env
}

/// `HTTP_*` variables for the request's fields, repeated fields joined (`; ` for cookies, `, ` otherwise).
/// Names with characters other than letters, digits and `-` are skipped: `X_Forwarded_For` would
/// otherwise pose as `X-Forwarded-For`, which a proxy in front may have vouched for.
fn http_variables(req: &Request) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in req.headers() {
        if name.starts_with(':')
            || WITHHELD.iter().any(|w| name.eq_ignore_ascii_case(w))
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            continue;
        }
        let mut var = String::with_capacity(5 + name.len());
        var.push_str("HTTP_");
        var.extend(name.chars().map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        }));
        match out.iter_mut().find(|(n, _)| *n == var) {
            Some((_, v)) => {
                let sep: &[u8] = if name.eq_ignore_ascii_case("cookie") {
                    b"; "
                } else {
                    b", "
                };
                v.extend_from_slice(sep);
                v.extend_from_slice(value);
            }
            None => out.push((var, value.to_vec())),
        }
    }
    out
}

/// `example.com:8080` -> (`example.com`, `8080`); without a port, the scheme's default.
fn split_host(host: &str, tls: bool) -> (&str, String) {
    let default = if tls { "443" } else { "80" };
    // An IPv6 literal keeps its brackets; the port follows the closing one.
    let colon = match host.rfind(']') {
        Some(end) => host[end..].find(':').map(|i| end + i),
        None => host.rfind(':'),
    };
    match colon {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) && i + 1 < host.len() => {
            (&host[..i], host[i + 1..].to_string())
        }
        _ => (host, default.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::split_host;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host("a.example:81", false),
            ("a.example", "81".into())
        );
        assert_eq!(split_host("a.example", true), ("a.example", "443".into()));
        assert_eq!(split_host("[::1]:8080", false), ("[::1]", "8080".into()));
        assert_eq!(split_host("[::1]", false), ("[::1]", "80".into()));
    }
}
