//! Key tables of the lwsws config language and the mapping of parsed JSON onto the typed model.
//!
//! Every key is in exactly one of three groups: implemented (mapped into [`Config`]), known to
//! libwebsockets but not implemented here (accepted, warned about and recorded in [`Config::ignored`]),
//! or unknown (an error; libwebsockets silently ignores these, which hides typos). A few known keys weaken
//! security when ignored; they are refused instead (see [`REFUSED_IF_SET`]).

use lws_proto::h2::{DEFAULT_MAX_FRAME, MAX_MAX_FRAME, MAX_WINDOW};
use std::path::{Path, PathBuf};

use super::json::{Kind, Member, Pos, Value};
use super::model::{
    AcceptRuleConf, CgiConf, CompressionConf, Config, Global, Location, MountConf, Origin,
    ProxyConf, Pvo, RuleMatch, VhostConf,
};
use super::ConfigError;

/// `global` keys libwebsockets knows that this build accepts and ignores. `interface` is not an lws key but
/// appears in lws' shipped example config.
pub const GLOBAL_IGNORED: &[&str] = &[
    "allow-early-data",
    "count-async-threads",
    "cpd-bypass",
    "interface",
    "ip-limit-ah",
    "plugin-dir",
    "quic-early-key-update",
    "quic-only-latest",
    "quic-pad-crypto",
    "rlimit-nofile",
    "ws-pingpong-secs",
];

/// `vhosts[]` keys libwebsockets knows that this build accepts and ignores.
pub const VHOST_IGNORED: &[&str] = &[
    "client-ecdh-curve",
    "client-ssl-ca",
    "client-ssl-cert",
    "client-ssl-ciphers",
    "client-ssl-key",
    "client-tls13-ciphers",
    "dht",
    "fo-listen-queue",
    "ignore-missing-cert",
    "quic-mtu",
    "quic-preferred-addresses",
    "ssl-client-option-clear",
    "ssl-client-option-set",
    "ssl-option-clear",
    "ssl-option-set",
];

/// `mounts[]` keys libwebsockets knows that this build accepts and ignores.
pub const MOUNT_IGNORED: &[&str] = &[
    "auth-mask",
    "cgi-chdir",
    "cgi-chroot",
    "interpret",
    "keepalive-timeout",
    "protocol",
];

/// Known keys that would silently remove a protection if ignored: an error unless their value is false/empty.
pub const REFUSED_IF_SET: &[&str] = &["client-cert-required", "interceptor-path"];

/// Largest `count-threads` accepted (lws' LWS_MAX_SMP is far lower; this only catches typos).
const MAX_THREADS: u64 = 1024;

/// Map the `global` object of one file (and check the top-level keys) into `cfg`.
pub(super) fn apply_globals(
    file: &Path,
    root: &Value,
    cfg: &mut Config,
) -> Result<(), ConfigError> {
    let mut m = Mapper { file, cfg };
    let members = m.object(root, "")?;
    for mem in members {
        match mem.key.as_str() {
            "global" => m.global(&mem.value)?,
            "vhosts" => {}
            _ => return Err(m.unknown(mem, "")),
        }
    }
    Ok(())
}

/// Map the `vhosts` array of one file into `cfg` (call after every file's globals).
pub(super) fn apply_vhosts(file: &Path, root: &Value, cfg: &mut Config) -> Result<(), ConfigError> {
    let mut m = Mapper { file, cfg };
    let members = m.object(root, "")?;
    for mem in members.iter().filter(|mem| mem.key == "vhosts") {
        let items = m.array(&mem.value, "vhosts")?;
        for (index, item) in items.iter().enumerate() {
            let vhost = m.vhost(item, &format!("vhosts[{index}]"))?;
            m.cfg.vhosts.push(vhost);
        }
    }
    Ok(())
}

/// Walks parsed values with the file name for errors and the config being filled.
struct Mapper<'a> {
    file: &'a Path,
    cfg: &'a mut Config,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl Mapper<'_> {
    fn loc(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_owned(),
            line: pos.line,
            column: pos.column,
        }
    }

    fn err(&self, pos: Pos, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::at(&self.loc(pos), key, message)
    }

    fn unknown(&self, mem: &Member, parent: &str) -> ConfigError {
        self.err(mem.key_pos, &join(parent, &mem.key), "unknown key")
    }

    /// Accept a known-but-unimplemented key: warn and remember it.
    fn ignore(&mut self, mem: &Member, parent: &str) {
        let key = join(parent, &mem.key);
        let loc = self.loc(mem.key_pos);
        tracing::warn!(
            "{}:{}:{}: {key}: not supported yet, ignored",
            loc.file.display(),
            loc.line,
            loc.column
        );
        self.cfg.ignored.push((loc, key));
    }

    /// Refuse a protection-bearing key unless it is set to false or empty.
    fn refuse_if_set(&mut self, mem: &Member, parent: &str) -> Result<(), ConfigError> {
        let key = join(parent, &mem.key);
        let off = match &mem.value.kind {
            Kind::Bool(b) => !*b,
            Kind::String(s) => s.is_empty() || parse_bool(s) == Some(false),
            Kind::Number(n) => parse_bool(n) == Some(false),
            _ => false,
        };
        if !off {
            return Err(self.err(
                mem.key_pos,
                &key,
                "not supported yet; refusing to start without the protection it asks for",
            ));
        }
        self.ignore(mem, parent);
        Ok(())
    }

    /// Handle a key that is not implemented at this level: ignored, refused, or unknown.
    fn other(&mut self, mem: &Member, parent: &str, ignored: &[&str]) -> Result<(), ConfigError> {
        if ignored.contains(&mem.key.as_str()) {
            self.ignore(mem, parent);
            Ok(())
        } else if REFUSED_IF_SET.contains(&mem.key.as_str()) {
            self.refuse_if_set(mem, parent)
        } else {
            Err(self.unknown(mem, parent))
        }
    }

    fn object<'v>(&self, v: &'v Value, key: &str) -> Result<&'v [Member], ConfigError> {
        match &v.kind {
            Kind::Object(m) => Ok(m),
            k => Err(self.err(
                v.pos,
                key,
                format!("expected an object, found {}", k.describe()),
            )),
        }
    }

    fn array<'v>(&self, v: &'v Value, key: &str) -> Result<&'v [Value], ConfigError> {
        match &v.kind {
            Kind::Array(a) => Ok(a),
            k => Err(self.err(
                v.pos,
                key,
                format!("expected an array, found {}", k.describe()),
            )),
        }
    }

    /// A scalar as text: strings (with `_lws_ddir_` substituted), numbers and booleans.
    fn string(&self, v: &Value, key: &str) -> Result<String, ConfigError> {
        match &v.kind {
            Kind::String(s) => Ok(s.replace("_lws_ddir_", &self.cfg.data_dir)),
            Kind::Number(n) => Ok(n.clone()),
            Kind::Bool(b) => Ok(if *b { "1" } else { "0" }.to_owned()),
            k => Err(self.err(
                v.pos,
                key,
                format!("expected a string, found {}", k.describe()),
            )),
        }
    }

    fn nonempty(&self, v: &Value, key: &str) -> Result<String, ConfigError> {
        let s = self.string(v, key)?;
        if s.is_empty() {
            return Err(self.err(v.pos, key, "must not be empty"));
        }
        Ok(s)
    }

    fn path(&self, v: &Value, key: &str) -> Result<PathBuf, ConfigError> {
        self.nonempty(v, key).map(PathBuf::from)
    }

    fn boolean(&self, v: &Value, key: &str) -> Result<bool, ConfigError> {
        let text = match &v.kind {
            Kind::Bool(b) => return Ok(*b),
            Kind::String(s) => s.as_str(),
            Kind::Number(n) => n.as_str(),
            k => {
                return Err(self.err(
                    v.pos,
                    key,
                    format!("expected a boolean, found {}", k.describe()),
                ))
            }
        };
        parse_bool(text).ok_or_else(|| {
            self.err(
                v.pos,
                key,
                format!(
                    "expected a boolean (an integer, on/off, yes/no or true/false), found {text:?}"
                ),
            )
        })
    }

    fn uint(&self, v: &Value, key: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
        let text = match &v.kind {
            Kind::String(s) => s.trim(),
            Kind::Number(n) => n.as_str(),
            k => {
                return Err(self.err(
                    v.pos,
                    key,
                    format!("expected an integer, found {}", k.describe()),
                ))
            }
        };
        let range = format!("an integer from {min} to {max}");
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(v.pos, key, format!("expected {range}, found {text:?}")));
        }
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.err(
                v.pos,
                key,
                format!("{text} is out of range: expected {range}"),
            )),
        }
    }

    fn u32(&self, v: &Value, key: &str, min: u32, max: u32) -> Result<u32, ConfigError> {
        // The range check keeps the value within u32.
        self.uint(v, key, min.into(), max.into()).map(|n| n as u32)
    }

    /// `[{ "name": "value", ... }, ...]` as (name, value) pairs, used by `headers` and `pmo`.
    fn pairs(&self, v: &Value, key: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let mut out = Vec::new();
        for (i, item) in self.array(v, key)?.iter().enumerate() {
            let ik = format!("{key}[{i}]");
            for mem in self.object(item, &ik)? {
                let mk = join(&ik, &mem.key);
                out.push((mem.key.clone(), self.string(&mem.value, &mk)?));
            }
        }
        Ok(out)
    }

    /// Like [`Mapper::pairs`] but checked as HTTP header fields so a config cannot inject header lines.
    fn headers(&self, v: &Value, key: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let pairs = self.pairs(v, key)?;
        for (name, value) in &pairs {
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(self.err(v.pos, key, format!("{name:?} is not a valid header name")));
            }
            if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(self.err(
                    v.pos,
                    key,
                    format!("value of header {name:?} contains CR, LF or NUL"),
                ));
            }
        }
        Ok(pairs)
    }

    fn global(&mut self, v: &Value) -> Result<(), ConfigError> {
        let members = self.object(v, "global")?;
        let mut g = std::mem::take(&mut self.cfg.global);
        let r = self.global_members(members, &mut g);
        self.cfg.global = g;
        r
    }

    fn global_members(&mut self, members: &[Member], g: &mut Global) -> Result<(), ConfigError> {
        for mem in members {
            let key = join("global", &mem.key);
            let (k, v) = (key.as_str(), &mem.value);
            match mem.key.as_str() {
                // u32::MAX is the "no change" value of setuid/setgid, never a real id.
                "uid" => g.uid = Some(self.u32(v, k, 0, u32::MAX - 1)?),
                "gid" => g.gid = Some(self.u32(v, k, 0, u32::MAX - 1)?),
                "username" => g.username = Some(self.nonempty(v, k)?),
                "groupname" => g.groupname = Some(self.nonempty(v, k)?),
                "count-threads" => g.count_threads = Some(self.u32(v, k, 1, MAX_THREADS as u32)?),
                "server-string" => {
                    let s = self.string(v, k)?;
                    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                        return Err(self.err(v.pos, k, "contains CR, LF or NUL"));
                    }
                    g.server_string = Some(s);
                }
                "timeout-secs" => g.timeout_secs = Some(self.u32(v, k, 1, u32::MAX)?),
                "init-ssl" => g.init_ssl = Some(self.boolean(v, k)?),
                "default-alpn" => g.default_alpn = Some(self.nonempty(v, k)?),
                "ip-limit-wsi" => g.ip_limit_wsi = Some(self.u32(v, k, 0, u32::MAX)?),
                "defer-accept-secs" => g.defer_accept_secs = Some(self.u32(v, k, 0, 3600)?),
                "reject-service-keywords" => {
                    for (i, item) in self.array(v, k)?.iter().enumerate() {
                        let ik = format!("{k}[{i}]");
                        for m in self.object(item, &ik)? {
                            let mk = join(&ik, &m.key);
                            let text = self.string(&m.value, &mk)?;
                            let (status, reason) = parse_status(&text).ok_or_else(|| {
                                self.err(
                                    m.value.pos,
                                    &mk,
                                    format!("expected \"NNN Reason\" with NNN from 100 to 599, found {text:?}"),
                                )
                            })?;
                            if m.key.is_empty() {
                                return Err(self.err(
                                    m.key_pos,
                                    &mk,
                                    "substring must not be empty",
                                ));
                            }
                            g.reject_service_keywords
                                .push((m.key.clone(), status, reason));
                        }
                    }
                }
                _ => self.other(mem, "global", GLOBAL_IGNORED)?,
            }
        }
        Ok(())
    }

    fn vhost(&mut self, v: &Value, path: &str) -> Result<VhostConf, ConfigError> {
        let members = self.object(v, path)?;
        let mut vh = VhostConf {
            loc: self.loc(v.pos),
            name: "default".to_owned(),
            ..VhostConf::default()
        };
        for mem in members {
            let key = join(path, &mem.key);
            let (k, v) = (key.as_str(), &mem.value);
            match mem.key.as_str() {
                "name" => vh.name = self.nonempty(v, k)?,
                "port" => vh.port = Some(self.uint(v, k, 0, u16::MAX.into())? as u16),
                "interface" => vh.interface = Some(self.nonempty(v, k)?),
                "unix-socket" => vh.unix_socket = self.boolean(v, k)?,
                "unix-socket-perms" => vh.unix_socket_perms = Some(self.nonempty(v, k)?),
                "host-ssl-cert" => vh.host_ssl_cert = Some(self.path(v, k)?),
                "host-ssl-key" => vh.host_ssl_key = Some(self.path(v, k)?),
                "host-ssl-ca" => vh.host_ssl_ca = Some(self.path(v, k)?),
                "access-log" => vh.access_log = Some(self.path(v, k)?),
                "headers" => vh.headers = self.headers(v, k)?,
                "keepalive_timeout" => vh.keepalive_timeout = Some(self.u32(v, k, 0, u32::MAX)?),
                "h2-max-concurrent-streams" => {
                    vh.h2.max_concurrent_streams = Some(self.u32(v, k, 1, MAX_WINDOW)?)
                }
                "h2-initial-window-size" => {
                    vh.h2.initial_window_size = Some(self.u32(v, k, 0, MAX_WINDOW)?)
                }
                "h2-max-frame-size" => {
                    vh.h2.max_frame_size = Some(self.u32(v, k, DEFAULT_MAX_FRAME, MAX_MAX_FRAME)?)
                }
                "h2-max-header-list-size" => {
                    vh.h2.max_header_list_size = Some(self.u32(v, k, 1024, 16 << 20)?)
                }
                "h2-header-table-size" => {
                    vh.h2.header_table_size = Some(self.u32(v, k, 0, 1 << 20)?)
                }
                "h2-enable-connect-protocol" => {
                    vh.h2.enable_connect_protocol = Some(self.boolean(v, k)?)
                }
                "h2-idle-timeout" => vh.h2.idle_timeout = Some(self.u32(v, k, 1, 86_400)?),
                // libwebsockets' opt-in is how lws-rs always behaves: a stream the client half-closed stays
                // open for the answer as long as the handler keeps it, and no idle timer ends an open stream.
                "h2-half-closed-long-poll" => {
                    self.boolean(v, k)?;
                }
                "ws-pmd" => vh.pmd.enabled = Some(self.boolean(v, k)?),
                "ws-pmd-server-max-window-bits" => {
                    vh.pmd.server_max_window_bits = Some(self.u32(v, k, 9, 15)? as u8)
                }
                "ws-pmd-client-max-window-bits" => {
                    vh.pmd.client_max_window_bits = Some(self.u32(v, k, 9, 15)? as u8)
                }
                "ws-pmd-server-no-context-takeover" => {
                    vh.pmd.server_no_context_takeover = Some(self.boolean(v, k)?)
                }
                "ws-pmd-client-no-context-takeover" => {
                    vh.pmd.client_no_context_takeover = Some(self.boolean(v, k)?)
                }
                "ws-pmd-level" => vh.pmd.level = Some(self.u32(v, k, 0, 9)?),
                "compression" => vh.compression.enabled = Some(self.boolean(v, k)?),
                "compression-level" => vh.compression.level = Some(self.u32(v, k, 1, 9)?),
                "ws-pmd-pool" => vh.pmd.pool = Some(self.u32(v, k, 0, 65_536)?),
                "mounts" => {
                    for (i, item) in self.array(v, k)?.iter().enumerate() {
                        let mount = self.mount(item, &format!("{k}[{i}]"))?;
                        vh.mounts.push(mount);
                    }
                }
                "error-document-404" => vh.error_document_404 = Some(self.nonempty(v, k)?),
                "cgi-max-processes" => vh.cgi_max_processes = Some(self.u32(v, k, 1, 100_000)?),
                "alpn" => vh.alpn = Some(self.nonempty(v, k)?),
                "redirect-http" => vh.redirect_http = self.boolean(v, k)?,
                "allow-non-tls" => vh.allow_non_tls = self.boolean(v, k)?,
                "allow-http-on-https" => vh.allow_http_on_https = self.boolean(v, k)?,
                "sts" => vh.sts = self.boolean(v, k)?,
                "strict-host-check" => vh.strict_host_check = self.boolean(v, k)?,
                "disable-no-protocol-ws-upgrades" => {
                    vh.disable_no_protocol_ws_upgrades = self.boolean(v, k)?
                }
                "ws-protocols" => {
                    for (i, item) in self.array(v, k)?.iter().enumerate() {
                        let ik = format!("{k}[{i}]");
                        for m in self.object(item, &ik)? {
                            let mk = join(&ik, &m.key);
                            let children = self.pvo_children(&m.value, &mk)?;
                            vh.ws_protocols.push(Pvo {
                                name: m.key.clone(),
                                value: String::new(),
                                children,
                            });
                        }
                    }
                }
                "enable-client-ssl" => vh.enable_client_ssl = self.boolean(v, k)?,
                "noipv6" => vh.noipv6 = self.boolean(v, k)?,
                "ipv6only" => vh.ipv6only = Some(self.boolean(v, k)?),
                "ciphers" => vh.ciphers = Some(self.nonempty(v, k)?),
                "ecdh-curve" => vh.ecdh_curve = Some(self.nonempty(v, k)?),
                "tls13-ciphers" => vh.tls13_ciphers = Some(self.nonempty(v, k)?),
                "strict-security-headers" => vh.strict_security_headers = self.boolean(v, k)?,
                "apply-listen-accept" | "onlyraw" => vh.apply_listen_accept = self.boolean(v, k)?,
                "fallback-listen-accept" => vh.fallback_listen_accept = self.boolean(v, k)?,
                "listen-accept-role" => {
                    let role = self.nonempty(v, k)?;
                    if !matches!(role.as_str(), "raw-skt" | "raw-proxy") {
                        return Err(self.err(
                            v.pos,
                            k,
                            format!("role {role:?} is not one this build has (raw-skt, raw-proxy)"),
                        ));
                    }
                    vh.listen_accept_role = Some(role);
                }
                "listen-accept-protocol" => vh.listen_accept_protocol = Some(self.nonempty(v, k)?),
                "listen-accept-rules" => {
                    for (i, item) in self.array(v, k)?.iter().enumerate() {
                        let rule = self.accept_rule(item, &format!("{k}[{i}]"))?;
                        vh.listen_accept_rules.push(rule);
                    }
                }
                _ => self.other(mem, path, VHOST_IGNORED)?,
            }
        }
        if vh.unix_socket {
            if vh.interface.is_none() {
                return Err(self.err(
                    v.pos,
                    path,
                    "\"unix-socket\" needs \"interface\" set to the socket path",
                ));
            }
        } else if vh.port.is_none() {
            return Err(self.err(v.pos, path, "vhost needs a \"port\" (or \"unix-socket\")"));
        }
        if (vh.apply_listen_accept || vh.fallback_listen_accept)
            && vh.listen_accept_protocol.is_none()
            && vh.listen_accept_role.as_deref() != Some("raw-proxy")
        {
            return Err(self.err(
                v.pos,
                path,
                "\"apply-listen-accept\" and \"fallback-listen-accept\" need \"listen-accept-protocol\"",
            ));
        }
        if vh.host_ssl_cert.is_some() != vh.host_ssl_key.is_some() {
            return Err(self.err(
                v.pos,
                path,
                "\"host-ssl-cert\" and \"host-ssl-key\" must be given together",
            ));
        }
        Ok(vh)
    }

    /// One `listen-accept-rules[]` object: `match`, `protocol`, and per match `sni`, `alpn`, `wait-ms`,
    /// plus the protocol's `options`.
    fn accept_rule(&self, v: &Value, path: &str) -> Result<AcceptRuleConf, ConfigError> {
        let mut matcher = None;
        let (mut protocol, mut options) = (None, Vec::new());
        let (mut sni, mut alpn, mut wait_ms) = (Vec::new(), Vec::new(), None);
        let list = |s: String| -> Vec<String> {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        for m in self.object(v, path)? {
            let k = join(path, &m.key);
            match m.key.as_str() {
                "match" => matcher = Some((self.nonempty(&m.value, &k)?, m.value.pos)),
                "protocol" => protocol = Some(self.nonempty(&m.value, &k)?),
                "options" => options = self.pvo_children(&m.value, &k)?,
                "sni" => sni = list(self.nonempty(&m.value, &k)?),
                "alpn" => alpn = list(self.nonempty(&m.value, &k)?),
                "wait-ms" => wait_ms = Some(self.u32(&m.value, &k, 1, 600_000)?),
                _ => return Err(self.unknown(m, path)),
            }
        }
        let Some((name, pos)) = matcher else {
            return Err(self.err(v.pos, path, "a rule needs \"match\""));
        };
        let matcher = match name.as_str() {
            "ssh" => RuleMatch::Ssh,
            "tls" => RuleMatch::Tls { sni, alpn },
            "http" => RuleMatch::Http,
            "any" => RuleMatch::Any,
            "silent" => RuleMatch::Silent {
                wait_ms: wait_ms.unwrap_or(2000),
            },
            other => {
                return Err(self.err(
                    pos,
                    &join(path, "match"),
                    format!("{other:?} is not one of ssh, tls, http, any, silent"),
                ))
            }
        };
        let protocol =
            protocol.ok_or_else(|| self.err(v.pos, path, "a rule needs \"protocol\""))?;
        Ok(AcceptRuleConf {
            loc: self.loc(v.pos),
            matcher,
            protocol,
            options,
        })
    }

    fn pvo_children(&self, v: &Value, path: &str) -> Result<Vec<Pvo>, ConfigError> {
        let mut out = Vec::new();
        for m in self.object(v, path)? {
            let mk = join(path, &m.key);
            let pvo = match &m.value.kind {
                Kind::Object(_) => Pvo {
                    name: m.key.clone(),
                    value: String::new(),
                    children: self.pvo_children(&m.value, &mk)?,
                },
                _ => Pvo {
                    name: m.key.clone(),
                    value: self.string(&m.value, &mk)?,
                    children: Vec::new(),
                },
            };
            out.push(pvo);
        }
        Ok(out)
    }

    /// One `proxy-*` mount key.
    fn proxy_key(
        &self,
        p: &mut ProxyConf,
        name: &str,
        v: &Value,
        k: &str,
    ) -> Result<(), ConfigError> {
        let ms = |s: &Self| s.u32(v, k, 1, 3_600_000).map(Some);
        match name {
            "proxy-origins" => {
                for item in self.array(v, k)? {
                    p.more_origins.push(self.nonempty(item, k)?);
                }
            }
            "proxy-balance" => {
                p.least_connections = match self.string(v, k)?.as_str() {
                    "round-robin" => false,
                    "least-connections" | "least-conn" => true,
                    other => {
                        return Err(self.err(
                            v.pos,
                            k,
                            format!("expected round-robin or least-connections, found {other:?}"),
                        ))
                    }
                }
            }
            "proxy-host" => {
                p.origin_host = match self.string(v, k)?.as_str() {
                    "client" => false,
                    "origin" => true,
                    other => {
                        return Err(self.err(
                            v.pos,
                            k,
                            format!("expected client or origin, found {other:?}"),
                        ))
                    }
                }
            }
            "proxy-connect-timeout-ms" => p.connect_timeout_ms = ms(self)?,
            "proxy-header-timeout-ms" => p.header_timeout_ms = ms(self)?,
            "proxy-idle-timeout-ms" => p.idle_timeout_ms = ms(self)?,
            "proxy-max-fails" => p.max_fails = Some(self.u32(v, k, 0, 1000)?),
            "proxy-fail-timeout-s" => p.fail_timeout_s = Some(self.u32(v, k, 1, 86_400)?),
            "proxy-rewrite-paths" => p.rewrite_paths = self.boolean(v, k)?,
            "proxy-max-body" => p.max_body = Some(self.uint(v, k, 0, u64::MAX)?),
            "proxy-max-connections" => p.max_connections = Some(self.u32(v, k, 1, 100_000)?),
            "proxy-h2" => p.http2 = self.boolean(v, k)?,
            _ => return Err(self.err(v.pos, k, "unknown proxy key (see README: reverse proxy)")),
        }
        Ok(())
    }

    /// `cgi-env`: pairs checked as environment variables (a name without `=` or NUL, a value without NUL).
    fn cgi_env(&self, v: &Value, key: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let pairs = self.pairs(v, key)?;
        for (name, value) in &pairs {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(self.err(v.pos, key, format!("{name:?} is not a valid variable name")));
            }
            if value.contains('\0') {
                return Err(self.err(v.pos, key, format!("value of {name:?} contains NUL")));
            }
        }
        Ok(pairs)
    }

    fn mount(&mut self, v: &Value, path: &str) -> Result<MountConf, ConfigError> {
        let members = self.object(v, path)?;
        let mut mountpoint = None;
        let mut origin = None;
        let mut mc = MountConf {
            loc: self.loc(v.pos),
            mountpoint: String::new(),
            origin: Origin::NoMount,
            default: None,
            cache_max_age: None,
            cache_reuse: false,
            cache_revalidate: false,
            cache_intermediaries: false,
            cache_no: false,
            extra_mimetypes: Vec::new(),
            headers: Vec::new(),
            basic_auth: None,
            exact_match: false,
            no_ws_upgrades: false,
            append_path: false,
            pmo: Vec::new(),
            proxy: ProxyConf::default(),
            compression: CompressionConf::default(),
            cgi: CgiConf::default(),
        };
        for mem in members {
            let key = join(path, &mem.key);
            let (k, v) = (key.as_str(), &mem.value);
            match mem.key.as_str() {
                "mountpoint" => {
                    let mp = self.string(v, k)?;
                    if !mp.starts_with('/') {
                        return Err(self.err(
                            v.pos,
                            k,
                            format!("must start with '/', found {mp:?}"),
                        ));
                    }
                    mountpoint = Some(mp);
                }
                "origin" => {
                    let text = self.string(v, k)?;
                    let o = parse_origin(&text).map_err(|m| self.err(v.pos, k, m))?;
                    origin = Some(o);
                }
                "default" => mc.default = Some(self.nonempty(v, k)?),
                "cache-max-age" => mc.cache_max_age = Some(self.u32(v, k, 0, u32::MAX)?),
                "cache-reuse" => mc.cache_reuse = self.boolean(v, k)?,
                "cache-revalidate" => mc.cache_revalidate = self.boolean(v, k)?,
                "cache-intermediaries" => mc.cache_intermediaries = self.boolean(v, k)?,
                "cache-no" => mc.cache_no = self.boolean(v, k)?,
                "extra-mimetypes" => {
                    for m in self.object(v, k)? {
                        let mk = join(k, &m.key);
                        if m.key.is_empty() {
                            return Err(self.err(m.key_pos, &mk, "suffix must not be empty"));
                        }
                        let ty = self.string(&m.value, &mk)?;
                        if ty.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                            return Err(self.err(m.value.pos, &mk, "contains CR, LF or NUL"));
                        }
                        mc.extra_mimetypes.push((m.key.clone(), ty));
                    }
                }
                "headers" => mc.headers = self.headers(v, k)?,
                "basic-auth" => mc.basic_auth = Some(self.path(v, k)?),
                "exact-match" => mc.exact_match = self.boolean(v, k)?,
                "no-ws-upgrades" => mc.no_ws_upgrades = self.boolean(v, k)?,
                "append-path" => mc.append_path = self.boolean(v, k)?,
                "pmo" => mc.pmo = self.pairs(v, k)?,
                "compression" => mc.compression.enabled = Some(self.boolean(v, k)?),
                "compression-level" => mc.compression.level = Some(self.u32(v, k, 1, 9)?),
                key if key.starts_with("proxy-") => self.proxy_key(&mut mc.proxy, key, v, k)?,
                "cgi-env" => mc.cgi.env = self.cgi_env(v, k)?,
                "cgi-timeout" => mc.cgi.timeout_s = Some(self.u32(v, k, 1, 86_400)?),
                _ => self.other(mem, path, MOUNT_IGNORED)?,
            }
        }
        let Some(mp) = mountpoint else {
            return Err(self.err(v.pos, &join(path, "mountpoint"), "required key missing"));
        };
        let Some(o) = origin else {
            return Err(self.err(v.pos, &join(path, "origin"), "required key missing"));
        };
        mc.mountpoint = mp;
        mc.origin = o;
        Ok(mc)
    }
}

/// lws boolean spelling: any integer (non-zero = true) or on/off, yes/no, true/false in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(digits.bytes().any(|b| b != b'0'));
    }
    match t.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => Some(true),
        "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// Split a mount `origin` into its scheme-specific target.
pub fn parse_origin(text: &str) -> Result<Origin, String> {
    let need = |rest: &str, what: &str| {
        if rest.is_empty() {
            Err(format!("{text:?} names no {what}"))
        } else {
            Ok(rest.to_owned())
        }
    };
    if let Some(url) = text.strip_prefix('>') {
        if let Some(rest) = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
        {
            need(rest, "redirect target")?;
            return Ok(Origin::Redirect(url.to_owned()));
        }
        return Err(format!(
            "redirect origin must be \">http://...\" or \">https://...\", found {text:?}"
        ));
    }
    if let Some(rest) = text.strip_prefix("file://") {
        return need(rest, "directory").map(|d| Origin::File(PathBuf::from(d)));
    }
    if let Some(rest) = text.strip_prefix("callback://") {
        return need(rest, "protocol").map(Origin::Callback);
    }
    if let Some(rest) = text.strip_prefix("cgi://") {
        return need(rest, "script").map(|d| Origin::Cgi(PathBuf::from(d)));
    }
    if let Some(rest) = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
    {
        need(rest, "proxy target")?;
        return Ok(Origin::Proxy(text.to_owned()));
    }
    if text.starts_with("gzip://") {
        return Ok(Origin::NoMount);
    }
    Err(format!(
        "unknown origin scheme in {text:?}: expected file://, cgi://, callback://, http://, https://, \
         >http://, >https:// or gzip://"
    ))
}

/// Parse "NNN Reason" (reason optional) as used by `reject-service-keywords`.
fn parse_status(text: &str) -> Option<(u16, String)> {
    let t = text.trim();
    let code = t.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = &t[3..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let reason = rest.trim();
    if reason.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    let status: u16 = code.parse().ok()?;
    (100..=599)
        .contains(&status)
        .then(|| (status, reason.to_owned()))
}

/// RFC 9110 `tchar`: the characters allowed in a header field name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_spellings() {
        for t in [
            "1", "2", "-1", "007", "on", "ON", "yes", "Yes", "true", "TRUE",
        ] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["0", "00", "off", "Off", "no", "NO", "false", "False"] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        for t in ["", "maybe", "y", "1x", "-", "enabled"] {
            assert_eq!(parse_bool(t), None, "{t}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("file:///srv/www"),
            Ok(Origin::File("/srv/www".into()))
        );
        assert_eq!(
            parse_origin("file://rel/dir"),
            Ok(Origin::File("rel/dir".into()))
        );
        assert_eq!(
            parse_origin("callback://protocol-post-demo"),
            Ok(Origin::Callback("protocol-post-demo".into()))
        );
        assert_eq!(
            parse_origin(">https://example.com/x"),
            Ok(Origin::Redirect("https://example.com/x".into()))
        );
        assert_eq!(
            parse_origin(">http://example.com"),
            Ok(Origin::Redirect("http://example.com".into()))
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:8080/app"),
            Ok(Origin::Proxy("http://127.0.0.1:8080/app".into()))
        );
        assert_eq!(
            parse_origin("https://backend/"),
            Ok(Origin::Proxy("https://backend/".into()))
        );
        assert_eq!(
            parse_origin("cgi:///usr/lib/cgi.sh"),
            Ok(Origin::Cgi("/usr/lib/cgi.sh".into()))
        );
        assert_eq!(parse_origin("gzip://"), Ok(Origin::NoMount));
        for bad in [
            "ftp://x",
            "/srv/www",
            "file://",
            "callback://",
            ">ftp://x",
            ">http://",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(
            parse_status("403 Forbidden"),
            Some((403, "Forbidden".into()))
        );
        assert_eq!(parse_status("418"), Some((418, String::new())));
        assert_eq!(parse_status("99 x"), None);
        assert_eq!(parse_status("600 x"), None);
        assert_eq!(parse_status("4031 x"), None);
        assert_eq!(parse_status("abc"), None);
        assert_eq!(parse_status(""), None);
    }
}
