//! From the lwsws configuration model to the `lws` builders: the one path by which config becomes a server.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use lws::{
    CachePolicy, Compression, ContextBuilder, HttpLimits, Mount, Pvo, Registry, SniffMatch,
    SniffRule, Vhost,
};

use crate::config::{
    CompressionConf, Config, ConfigError, MountConf, Origin, RuleMatch, VhostConf,
};

/// lwsws pings WebSocket peers idle for 15 s and drops them after 20 s without traffic (libwebsockets'
/// lwsws installs the same policy).
const LWSWS_VALIDITY: lws::ws::ValidityPolicy = lws::ws::ValidityPolicy {
    ping_after: Duration::from_secs(15),
    hangup_after: Duration::from_secs(20),
};

/// Adds every configured vhost and the global options to `builder`.
pub(crate) fn apply(
    config: &Config,
    registry: &Registry,
    mut builder: ContextBuilder,
) -> Result<ContextBuilder, ConfigError> {
    let g = &config.global;
    if let Some(s) = &g.server_string {
        builder = builder.server_string(s);
    }
    if let Some(n) = g.ip_limit_wsi {
        builder = builder.ip_limit_per_peer(n);
    }
    if let Some(t) = g.defer_accept_secs {
        builder = builder.defer_accept((t > 0).then(|| Duration::from_secs(t.into())));
    }
    if let Some(t) = g.timeout_secs {
        builder = builder.handshake_timeout(Duration::from_secs(t.into()));
    }
    for v in &config.vhosts {
        builder = builder.vhost(vhost(config, v, registry)?);
    }
    Ok(builder)
}

fn vhost(config: &Config, v: &VhostConf, registry: &Registry) -> Result<Vhost, ConfigError> {
    warn_unapplied(v);
    let mut out = Vhost::new(&v.name);
    for addr in listen_addrs(v)? {
        out = match addr {
            Some(a) => out.listen(a),
            None => out.listen_unix(v.interface.clone().unwrap_or_default()),
        };
    }
    match (&v.host_ssl_cert, &v.host_ssl_key) {
        (Some(cert), Some(key)) => out = out.tls(cert, key),
        (None, None) => {}
        _ => {
            return Err(ConfigError::at(
                &v.loc,
                "host-ssl-cert",
                "host-ssl-cert and host-ssl-key go together",
            ))
        }
    }
    if let Some(alpn) = v.alpn.as_ref().or(config.global.default_alpn.as_ref()) {
        let list: Vec<&str> = alpn
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        out = out.alpn(&list);
    }
    for (n, val) in &v.headers {
        out = out.header(n, val);
    }
    let mut limits = HttpLimits::default();
    if let Some(k) = v.keepalive_timeout {
        limits.keepalive_timeout = Duration::from_secs(k.into());
    }
    if let Some(t) = config.global.timeout_secs {
        limits.io_timeout = Duration::from_secs(t.into());
    }
    out = out.http2(h2_config(&v.h2));
    out = out
        .permessage_deflate(v.pmd.enabled.unwrap_or(true))
        .permessage_deflate_config(pmd_config(&v.pmd));
    out = out
        .limits(limits)
        .redirect_http(v.redirect_http)
        .allow_http_on_https(v.allow_http_on_https)
        .sts(v.sts)
        .strict_security_headers(v.strict_security_headers)
        .compression(compression(&v.compression, &CompressionConf::default()))
        .disable_no_protocol_ws_upgrades(v.disable_no_protocol_ws_upgrades)
        .ws_validity(LWSWS_VALIDITY);
    if let Some(log) = &v.access_log {
        out = out.access_log(log);
    }
    if let Some(doc) = &v.error_document_404 {
        out = out.error_document_404(doc);
    }
    if let Some(n) = v.cgi_max_processes {
        out = out.cgi_max_processes(n as usize);
    }
    for pvo in &v.ws_protocols {
        match registry.instantiate(&pvo.name, pvo) {
            Some(Ok(p)) => out = out.protocol(p),
            Some(Err(e)) => {
                return Err(ConfigError::at(
                    &v.loc,
                    &format!("ws-protocols.{}", pvo.name),
                    e.message,
                ))
            }
            None => tracing::warn!(
                "{}: vhost {}: no protocol named {:?} in this build, ignored",
                v.loc.file.display(),
                v.name,
                pvo.name
            ),
        }
    }
    for m in &v.mounts {
        let (mount, protocol) = mount(m, v, registry)?;
        if let Some(p) = protocol {
            out = out.protocol(p);
        }
        out = out.mount(mount);
    }
    listen_accept(out, v, registry)
}

/// The listen-accept keys: a raw vhost, the fallback, and the rules. The protocol they name is the one
/// `ws-protocols` enabled (with its options); one not listed there is built with no options.
fn listen_accept(mut out: Vhost, v: &VhostConf, registry: &Registry) -> Result<Vhost, ConfigError> {
    out = out.allow_non_tls(v.allow_non_tls);
    if v.apply_listen_accept || v.fallback_listen_accept {
        let name = v
            .listen_accept_protocol
            .clone()
            .or_else(|| v.listen_accept_role.clone())
            .unwrap_or_default();
        if !v.ws_protocols.iter().any(|p| p.name == name) {
            let pvo = Pvo {
                name: name.clone(),
                ..Pvo::default()
            };
            out = out.protocol(instantiate(
                registry,
                &name,
                &pvo,
                &v.loc,
                "listen-accept-protocol",
            )?);
        }
        out = if v.apply_listen_accept {
            out.listen_accept(&name)
        } else {
            out.fallback_listen_accept(&name)
        };
    }
    for (i, rule) in v.listen_accept_rules.iter().enumerate() {
        let pvo = Pvo {
            name: rule.protocol.clone(),
            value: String::new(),
            children: rule.options.clone(),
        };
        let key = format!("listen-accept-rules[{i}].protocol");
        let handle = instantiate(registry, &rule.protocol, &pvo, &rule.loc, &key)?;
        let matcher = match &rule.matcher {
            RuleMatch::Ssh => SniffMatch::Ssh,
            RuleMatch::Tls { sni, alpn } => SniffMatch::Tls {
                sni: sni.clone(),
                alpn: alpn.clone(),
            },
            RuleMatch::Http => SniffMatch::Http,
            RuleMatch::Any => SniffMatch::Any,
            RuleMatch::Silent { wait_ms } => {
                SniffMatch::Silent(Duration::from_millis((*wait_ms).into()))
            }
        };
        out = out.sniff_rule(SniffRule::new(matcher, handle));
    }
    Ok(out)
}

/// Builds a protocol from the registry, with an error that says where the config asked for it.
fn instantiate(
    registry: &Registry,
    name: &str,
    pvo: &Pvo,
    loc: &crate::config::Location,
    key: &str,
) -> Result<lws::ProtocolHandle, ConfigError> {
    match registry.instantiate(name, pvo) {
        Some(Ok(p)) => Ok(p),
        Some(Err(e)) => Err(ConfigError::at(loc, key, e.message)),
        None => Err(ConfigError::at(
            loc,
            key,
            format!("no protocol named {name:?} in this build"),
        )),
    }
}

/// Options the configuration accepts (they are libwebsockets keys) but this build does not act on yet: say
/// so loudly instead of pretending.
fn warn_unapplied(v: &VhostConf) {
    let unapplied = [
        ("host-ssl-ca", v.host_ssl_ca.is_some()),
        ("unix-socket-perms", v.unix_socket_perms.is_some()),
        ("ciphers", v.ciphers.is_some()),
        ("ecdh-curve", v.ecdh_curve.is_some()),
        ("tls13-ciphers", v.tls13_ciphers.is_some()),
        ("enable-client-ssl", v.enable_client_ssl),
        ("ipv6only", v.ipv6only.is_some()),
        ("strict-host-check", v.strict_host_check),
        (
            "disable-no-protocol-ws-upgrades",
            v.disable_no_protocol_ws_upgrades,
        ),
    ];
    for (key, set) in unapplied {
        if set {
            tracing::warn!(
                "{}:{}: vhost {}: {key} is not supported by this build yet and has no effect",
                v.loc.file.display(),
                v.loc.line,
                v.name
            );
        }
    }
}

/// The TCP addresses a vhost listens on (`None` stands for its unix socket).
fn listen_addrs(v: &VhostConf) -> Result<Vec<Option<SocketAddr>>, ConfigError> {
    if v.unix_socket {
        return Ok(vec![None]);
    }
    let Some(port) = v.port else {
        return Err(ConfigError::at(
            &v.loc,
            "port",
            "a vhost needs a port (or unix-socket)",
        ));
    };
    let any6 = !v.noipv6 && std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok();
    Ok(match v.interface.as_deref() {
        None | Some("") => {
            let ip = if any6 {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            };
            vec![Some(SocketAddr::new(ip, port))]
        }
        Some("localhost") => {
            let mut v4 = vec![Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))];
            if any6 {
                v4.push(Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)));
            }
            v4
        }
        Some(iface) => match iface.parse::<IpAddr>() {
            Ok(ip) => vec![Some(SocketAddr::new(ip, port))],
            Err(_) => {
                return Err(ConfigError::at(
                    &v.loc,
                    "interface",
                    format!("{iface:?} is not an IP address or \"localhost\""),
                ))
            }
        },
    })
}

/// The compression of a vhost or mount: its own keys, else its vhost's (`outer`), else on at the default
/// levels, as in a libwebsockets built with stream compression.
fn compression(own: &CompressionConf, outer: &CompressionConf) -> Compression {
    if !own.enabled.or(outer.enabled).unwrap_or(true) {
        return Compression::off();
    }
    match own.level.or(outer.level) {
        Some(level) => Compression::on().level(level),
        None => Compression::on(),
    }
}

fn mount(
    m: &MountConf,
    v: &VhostConf,
    registry: &Registry,
) -> Result<(Mount, Option<lws::ProtocolHandle>), ConfigError> {
    let mut protocol = None;
    let mut out = match &m.origin {
        Origin::File(dir) => {
            if !dir.is_dir() {
                return Err(ConfigError::at(
                    &m.loc,
                    "origin",
                    format!("{} is not a directory", dir.display()),
                ));
            }
            Mount::files(&m.mountpoint, dir)
        }
        Origin::Callback(name) => {
            let pvo = v
                .ws_protocols
                .iter()
                .find(|p| &p.name == name)
                .cloned()
                .unwrap_or_else(|| Pvo {
                    name: name.clone(),
                    ..Pvo::default()
                });
            match registry.instantiate(name, &pvo) {
                Some(Ok(p)) => protocol = Some(p),
                Some(Err(e)) => return Err(ConfigError::at(&m.loc, "origin", e.message)),
                None => {
                    return Err(ConfigError::at(
                        &m.loc,
                        "origin",
                        format!(
                            "no protocol named {name:?} (this build has: {})",
                            registry.names().join(", ")
                        ),
                    ))
                }
            }
            Mount::callback(&m.mountpoint, name)
        }
        Origin::Redirect(url) => Mount::redirect(&m.mountpoint, url),
        Origin::NoMount => Mount::none(&m.mountpoint),
        Origin::Proxy(first) => Mount::proxy(&m.mountpoint, reverse_proxy(m, first)?),
        Origin::Cgi(origin) => Mount::cgi(&m.mountpoint, cgi(m, origin)?),
    };
    if let Some(d) = &m.default {
        out = out.default_doc(d);
    }
    if m.compression != CompressionConf::default() {
        out = out.compression(compression(&m.compression, &v.compression));
    }
    out = out.cache(CachePolicy {
        max_age: m.cache_max_age.unwrap_or(0),
        reuse: m.cache_reuse,
        revalidate: m.cache_revalidate,
        intermediaries: m.cache_intermediaries,
        no_cache: m.cache_no,
    });
    for (ext, ty) in &m.extra_mimetypes {
        out = out.extra_mimetype(ext, ty);
    }
    for (n, val) in &m.headers {
        out = out.header(n, val);
    }
    if let Some(file) = &m.basic_auth {
        if !file.is_file() {
            return Err(ConfigError::at(
                &m.loc,
                "basic-auth",
                format!("{} not found", file.display()),
            ));
        }
        out = out.basic_auth(file);
    }
    Ok((
        out.exact_match(m.exact_match).append_path(m.append_path),
        protocol,
    ))
}

/// The permessage-deflate settings of a vhost: the `ws-pmd-*` keys over the defaults.
fn pmd_config(c: &crate::config::PmdConf) -> lws::ws::PmdConfig {
    let d = lws::ws::PmdConfig::default();
    lws::ws::PmdConfig {
        server_max_window_bits: c.server_max_window_bits.unwrap_or(d.server_max_window_bits),
        client_max_window_bits: c.client_max_window_bits.unwrap_or(d.client_max_window_bits),
        server_no_context_takeover: c
            .server_no_context_takeover
            .unwrap_or(d.server_no_context_takeover),
        client_no_context_takeover: c
            .client_no_context_takeover
            .unwrap_or(d.client_no_context_takeover),
        level: c.level.unwrap_or(d.level),
        pool: c.pool.map_or(d.pool.clone(), |n| {
            lws::ws::ContextPool::per_thread(n as usize)
        }),
        ..d
    }
}

/// The HTTP/2 settings of a vhost: the `h2-*` keys over the defaults.
fn h2_config(c: &crate::config::H2Conf) -> lws_proto::h2::H2Config {
    let d = lws_proto::h2::H2Config::default();
    lws_proto::h2::H2Config {
        max_concurrent_streams: c.max_concurrent_streams.unwrap_or(d.max_concurrent_streams),
        stream_window: c.initial_window_size.unwrap_or(d.stream_window),
        max_frame_size: c.max_frame_size.unwrap_or(d.max_frame_size),
        max_header_list_size: c.max_header_list_size.unwrap_or(d.max_header_list_size),
        header_table_size: c.header_table_size.unwrap_or(d.header_table_size),
        enable_connect_protocol: c
            .enable_connect_protocol
            .unwrap_or(d.enable_connect_protocol),
        idle_timeout: c
            .idle_timeout
            .map_or(d.idle_timeout, |s| Duration::from_secs(s.into())),
        ..d
    }
}

/// The CGI of a mount whose origin is `cgi://script` or `cgi://directory`.
fn cgi(m: &MountConf, origin: &std::path::Path) -> Result<lws::cgi::Cgi, ConfigError> {
    if !origin.exists() {
        return Err(ConfigError::at(
            &m.loc,
            "origin",
            format!("{} does not exist", origin.display()),
        ));
    }
    let mut c = lws::cgi::Cgi::new(origin);
    for (name, value) in &m.cgi.env {
        c = c.env(name, value);
    }
    if let Some(s) = m.cgi.timeout_s {
        c = c.timeout(Duration::from_secs(s.into()));
    }
    Ok(c)
}

/// The reverse proxy of a mount whose origin is `http://`, `https://` or `http://+/socket:/path`.
fn reverse_proxy(m: &MountConf, first: &str) -> Result<lws::proxy::ReverseProxy, ConfigError> {
    use lws::proxy::{Balance, HostHeader, ReverseProxy};
    let bad = |key: &str, e: lws::proxy::OriginError| ConfigError::at(&m.loc, key, e.to_string());
    let c = &m.proxy;
    let mut p = ReverseProxy::new(first).map_err(|e| bad("origin", e))?;
    for o in &c.more_origins {
        p = p.origin(o).map_err(|e| bad("proxy-origins", e))?;
    }
    if c.least_connections {
        p = p.balance(Balance::LeastConnections);
    }
    if c.origin_host {
        p = p.host(HostHeader::Origin);
    }
    let ms = |v: u32| Duration::from_millis(u64::from(v));
    if let Some(v) = c.connect_timeout_ms {
        p = p.connect_timeout(ms(v));
    }
    if let Some(v) = c.header_timeout_ms {
        p = p.header_timeout(ms(v));
    }
    if let Some(v) = c.idle_timeout_ms {
        p = p.idle_timeout(ms(v));
    }
    if c.max_fails.is_some() || c.fail_timeout_s.is_some() {
        p = p.passive_health(
            c.max_fails.unwrap_or(3),
            Duration::from_secs(u64::from(c.fail_timeout_s.unwrap_or(10))),
        );
    }
    if let Some(n) = c.max_body {
        p = p.max_body(n);
    }
    if let Some(n) = c.max_connections {
        p = p.max_connections(n as usize);
    }
    Ok(p.rewrite_paths(c.rewrite_paths).http2(c.http2))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{compression, Compression, CompressionConf};
    use crate::config::{parse_str, Config};

    fn build(text: &str) -> Result<lws::Context, String> {
        let mut config = Config::default();
        parse_str(Path::new("t.conf"), text, &mut config).map_err(|e| e.to_string())?;
        let registry = lws_plugins::registry();
        let builder =
            super::apply(&config, &registry, lws::Context::builder()).map_err(|e| e.to_string())?;
        builder.build().map_err(|e| e.to_string())
    }

    #[test]
    fn proxy_mounts_build_and_bad_origins_are_refused_where_they_are_written() {
        let ctx = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1", "mounts": [
                {"mountpoint": "/a", "origin": "http://+/tmp/x.sock:/in"},
                {"mountpoint": "/b", "origin": "https://example.com/", "proxy-origins": ["http://[::1]:81/"]}
            ]}]}"#,
        )
        .unwrap();
        assert_eq!(ctx.local_addrs().len(), 1);
        let e = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1", "mounts": [
                {"mountpoint": "/a", "origin": "http://h:0/"}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("port") && e.contains("origin"), "{e}");
        let e = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1", "mounts": [
                {"mountpoint": "/a", "origin": "http://h/", "proxy-origins": ["http://+rel:/"]}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("proxy-origins") && e.contains("absolute"), "{e}");
    }

    #[test]
    fn cgi_mounts_build_and_a_missing_origin_is_refused() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let ctx = build(&format!(
            r#"{{"vhosts": [{{"name": "c", "port": "0", "interface": "127.0.0.1", "cgi-max-processes": "2",
                "mounts": [{{"mountpoint": "/c", "origin": "cgi://{dir}/examples-conf/cgi/cgi-bin",
                "cgi-timeout": "5", "cgi-env": [{{"A": "b"}}]}}]}}]}}"#
        ))
        .unwrap();
        assert_eq!(ctx.local_addrs().len(), 1);
        let e = build(
            r#"{"vhosts": [{"name": "c", "port": "0", "interface": "127.0.0.1", "mounts": [
                {"mountpoint": "/c", "origin": "cgi:///no/such/cgi-bin"}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("origin") && e.contains("does not exist"), "{e}");
    }

    #[test]
    fn a_raw_proxy_vhost_builds_from_libwebsockets_keys() {
        let ctx = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1",
                "apply-listen-accept": "1", "listen-accept-role": "raw-proxy",
                "listen-accept-protocol": "raw-proxy",
                "ws-protocols": [{"raw-proxy": {"onward": "ipv4:127.0.0.1:22"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(ctx.local_addrs().len(), 1);
    }

    #[test]
    fn a_raw_proxy_without_onward_is_refused_naming_the_option() {
        let e = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1",
                "apply-listen-accept": "1", "listen-accept-protocol": "raw-proxy"}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("onward"), "{e}");
        let e = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1",
                "listen-accept-rules": [{"match": "ssh", "protocol": "raw-proxy",
                    "options": {"onward": "ipv4:h:99999"}}]}]}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("listen-accept-rules[0].protocol") && e.contains("port"),
            "{e}"
        );
        let e = build(
            r#"{"vhosts": [{"name": "p", "port": "0", "interface": "127.0.0.1",
                "listen-accept-rules": [{"match": "any", "protocol": "no-such"}]}]}"#,
        )
        .unwrap_err();
        assert!(e.contains("no protocol named \"no-such\""), "{e}");
    }

    #[test]
    fn compression_is_on_unless_turned_off_and_mounts_inherit_the_vhost() {
        let none = CompressionConf::default();
        let off = CompressionConf {
            enabled: Some(false),
            level: None,
        };
        let level = |l| CompressionConf {
            enabled: None,
            level: Some(l),
        };
        assert_eq!(compression(&none, &none), Compression::on());
        assert_eq!(compression(&off, &none), Compression::off());
        assert_eq!(compression(&none, &off), Compression::off());
        assert_eq!(compression(&level(2), &off), Compression::off());
        assert_eq!(compression(&none, &level(4)), Compression::on().level(4));
        assert_eq!(
            compression(&level(9), &level(4)),
            Compression::on().level(9)
        );
    }
}
