//! The lwsws JSON configuration: loading a config directory into a typed [`Config`].
//!
//! Layout and language follow libwebsockets' lwsws (`conf` plus `conf.d/*`, JSON with `#` comments, string
//! values, `_lws_ddir_` substitution), but stricter: unknown keys, malformed booleans and out-of-range
//! numbers are errors that name the file, line, column and key, instead of being silently ignored.
// The binary declares this module privately; `pub` marks the module's API, and the model is complete even
// where the server does not read every field yet.
#![allow(unreachable_pub, dead_code)]

mod json;
mod keys;
mod model;

use std::fmt;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

// The server names only some of these types; they are re-exported as the module's API.
#[allow(unused_imports)]
pub use model::{
    AcceptRuleConf, CgiConf, CompressionConf, Config, Global, H2Conf, Location, MountConf, Origin,
    PmdConf, ProxyConf, Pvo, RuleMatch, VhostConf, DEFAULT_DATA_DIR,
};

/// Largest config file accepted; real configs are a few KiB, this only stops runaway input.
pub const MAX_FILE_SIZE: usize = 1024 * 1024;

/// A config problem with where it is: file, 1-based line and column, and the dotted key path.
#[derive(Debug)]
pub struct ConfigError {
    /// The file (or, for directory-level problems, the config directory).
    pub file: PathBuf,
    /// 1-based line, or 0 when the problem is not at a position in the file.
    pub line: usize,
    /// 1-based column in characters, or 0 with `line` 0.
    pub column: usize,
    /// Dotted key path like "vhosts[0].mounts[1].origin", or "" for syntax errors.
    pub key: String,
    /// What is wrong and, where useful, what was expected.
    pub message: String,
}

impl ConfigError {
    /// An error at a recorded location, for validation done after parsing (e.g. by the server on a vhost).
    pub fn at(loc: &Location, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: loc.file.clone(),
            line: loc.line,
            column: loc.column,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn whole_file(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            key: String::new(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line != 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Load `<dir>/conf` then every regular file in `<dir>/conf.d/` (sorted by name, skip names starting with
/// '.' or ending in '~'). Globals from all files first, then vhosts, as lwsws does. At least one vhost
/// overall, else error.
pub fn load_dir(dir: &Path) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    load_dir_into(dir, &mut cfg)?;
    Ok(cfg)
}

/// Like [`load_dir`] but into a caller-prepared config, so the caller can set [`Config::data_dir`] first.
pub fn load_dir_into(dir: &Path, into: &mut Config) -> Result<(), ConfigError> {
    let mut files = vec![dir.join("conf")];
    let confd = dir.join("conf.d");
    match fs::read_dir(&confd) {
        Ok(entries) => {
            let mut extra = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| {
                    ConfigError::whole_file(&confd, format!("cannot list directory: {e}"))
                })?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') || name.ends_with('~') {
                    continue;
                }
                let path = entry.path();
                // Follow symlinks: linking configs into conf.d is the usual way to enable them.
                if fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false) {
                    extra.push(path);
                }
            }
            extra.sort();
            files.extend(extra);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(ConfigError::whole_file(
                &confd,
                format!("cannot list directory: {e}"),
            ))
        }
    }

    let mut docs = Vec::with_capacity(files.len());
    for file in files {
        let text = read_limited(&file)?;
        let root = parse_json(&file, &text)?;
        docs.push((file, root));
    }
    for (file, root) in &docs {
        keys::apply_globals(file, root, into)?;
    }
    for (file, root) in &docs {
        keys::apply_vhosts(file, root, into)?;
    }
    if into.vhosts.is_empty() {
        return Err(ConfigError::whole_file(
            dir,
            "need at least one vhost (a \"vhosts\" array in conf or conf.d/*)",
        ));
    }
    Ok(())
}

/// Parse one file's text (used by load_dir and tests); `file` is only used in error messages.
pub fn parse_str(file: &Path, text: &str, into: &mut Config) -> Result<(), ConfigError> {
    if text.len() > MAX_FILE_SIZE {
        return Err(too_big(file));
    }
    let root = parse_json(file, text)?;
    keys::apply_globals(file, &root, into)?;
    keys::apply_vhosts(file, &root, into)
}

fn too_big(file: &Path) -> ConfigError {
    ConfigError::whole_file(
        file,
        format!("file is larger than the {MAX_FILE_SIZE} byte limit"),
    )
}

fn parse_json(file: &Path, text: &str) -> Result<json::Value, ConfigError> {
    json::parse(text).map_err(|e| ConfigError {
        file: file.to_owned(),
        line: e.pos.line,
        column: e.pos.column,
        key: e.path,
        message: e.message,
    })
}

/// Read a whole file as UTF-8, refusing more than [`MAX_FILE_SIZE`] bytes.
fn read_limited(file: &Path) -> Result<String, ConfigError> {
    let cannot = |e: std::io::Error| ConfigError::whole_file(file, format!("cannot read: {e}"));
    let f = fs::File::open(file).map_err(cannot)?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_FILE_SIZE {
        return Err(too_big(file));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
        let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // `good` is valid UTF-8 by construction, so this counts characters.
        let column = 1 + String::from_utf8_lossy(&good[line_start..]).chars().count();
        ConfigError {
            file: file.to_owned(),
            line,
            column,
            key: String::new(),
            message: "file is not valid UTF-8".to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        parse_str(Path::new("test.conf"), text, &mut cfg)?;
        Ok(cfg)
    }

    fn parse_err(text: &str) -> ConfigError {
        match parse(text) {
            Ok(c) => panic!("expected an error, parsed {c:?}"),
            Err(e) => e,
        }
    }

    /// One vhost on port 80 with the given extra members.
    fn vhost(extra: &str) -> String {
        format!("{{\"vhosts\": [{{\"name\": \"v\", \"port\": \"80\"{extra}}}]}}")
    }

    /// One vhost with one mount with the given members.
    fn mount(members: &str) -> String {
        vhost(&format!(", \"mounts\": [{{{members}}}]"))
    }

    fn write(dir: &Path, name: &str, text: &str) {
        fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn comments() {
        let cfg = parse(
            "# leading comment\n{ # after brace\n \"vhosts\": [ # in array\n  {\"name\": \"a#b\", # x\n   \"port\": \"1\"}]\n} # trailing\n# end",
        )
        .unwrap();
        assert_eq!(cfg.vhosts[0].name, "a#b");
    }

    #[test]
    fn boolean_spellings() {
        let t = ["1", "7", "on", "On", "yes", "YES", "true", "True"];
        let f = ["0", "off", "OFF", "no", "No", "false", "FALSE"];
        for (s, want) in t
            .iter()
            .map(|s| (s, true))
            .chain(f.iter().map(|s| (s, false)))
        {
            let cfg = parse(&vhost(&format!(", \"sts\": \"{s}\""))).unwrap();
            assert_eq!(cfg.vhosts[0].sts, want, "{s}");
        }
        for (s, want) in [("true", true), ("false", false), ("1", true), ("0", false)] {
            let cfg = parse(&vhost(&format!(", \"sts\": {s}"))).unwrap();
            assert_eq!(cfg.vhosts[0].sts, want, "{s}");
        }
    }

    #[test]
    fn bad_boolean() {
        let e = parse_err(&vhost(", \"sts\": \"maybe\""));
        assert_eq!(e.key, "vhosts[0].sts");
        assert!(e.message.contains("expected a boolean"), "{e}");
        assert!(e.message.contains("maybe"), "{e}");
        let e = parse_err(&vhost(", \"sts\": {}"));
        assert!(e.message.contains("found an object"), "{e}");
    }

    #[test]
    fn http2_settings() {
        let cfg = parse(
            r#"{"vhosts": [{"port": 7681, "h2-max-concurrent-streams": "256",
                "h2-initial-window-size": 1048576, "h2-max-frame-size": "32768",
                "h2-max-header-list-size": "32768", "h2-header-table-size": "0",
                "h2-enable-connect-protocol": "off", "h2-idle-timeout": "60"}]}"#,
        )
        .unwrap();
        let h2 = &cfg.vhosts[0].h2;
        assert_eq!(h2.max_concurrent_streams, Some(256));
        assert_eq!(h2.initial_window_size, Some(1 << 20));
        assert_eq!(h2.max_frame_size, Some(32768));
        assert_eq!(h2.max_header_list_size, Some(32768));
        assert_eq!(h2.header_table_size, Some(0));
        assert_eq!(h2.enable_connect_protocol, Some(false));
        assert_eq!(h2.idle_timeout, Some(60));
        // RFC 9113 §6.5.2 ranges are enforced with the key named.
        let e = parse_err(&vhost(", \"h2-max-frame-size\": \"1000\""));
        assert!(e.to_string().contains("h2-max-frame-size"), "{e}");
        let e = parse_err(&vhost(", \"h2-initial-window-size\": \"2147483648\""));
        assert!(e.to_string().contains("h2-initial-window-size"), "{e}");
    }

    #[test]
    fn permessage_deflate_settings() {
        let cfg = parse(
            r#"{"vhosts": [{"port": 7681, "ws-pmd": "on", "ws-pmd-server-max-window-bits": "12",
                "ws-pmd-client-max-window-bits": 10, "ws-pmd-server-no-context-takeover": "1",
                "ws-pmd-client-no-context-takeover": "0", "ws-pmd-level": "6",
                "ws-pmd-pool": "16"}]}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.vhosts[0].pmd,
            PmdConf {
                enabled: Some(true),
                server_max_window_bits: Some(12),
                client_max_window_bits: Some(10),
                server_no_context_takeover: Some(true),
                client_no_context_takeover: Some(false),
                level: Some(6),
                pool: Some(16),
            }
        );
        assert_eq!(parse(&vhost("")).unwrap().vhosts[0].pmd, PmdConf::default());
        // zlib cannot compress with an 8-bit window, so neither side may be limited to it.
        let e = parse_err(&vhost(", \"ws-pmd-server-max-window-bits\": \"8\""));
        assert!(
            e.to_string().contains("ws-pmd-server-max-window-bits"),
            "{e}"
        );
        let e = parse_err(&vhost(", \"ws-pmd-level\": \"10\""));
        assert!(e.to_string().contains("ws-pmd-level"), "{e}");
    }

    #[test]
    fn numbers_as_strings_or_numbers() {
        let cfg = parse(
            r#"{"global": {"uid": 48, "gid": "48", "count-threads": "2", "timeout-secs": 20},
                "vhosts": [{"port": 7681, "keepalive_timeout": "60"}]}"#,
        )
        .unwrap();
        assert_eq!(cfg.global.uid, Some(48));
        assert_eq!(cfg.global.gid, Some(48));
        assert_eq!(cfg.global.count_threads, Some(2));
        assert_eq!(cfg.global.timeout_secs, Some(20));
        assert_eq!(cfg.vhosts[0].port, Some(7681));
        assert_eq!(cfg.vhosts[0].name, "default");
        assert_eq!(cfg.vhosts[0].keepalive_timeout, Some(60));
        let e = parse_err(&vhost(", \"keepalive_timeout\": \"5s\""));
        assert!(e.message.contains("expected an integer"), "{e}");
        let e = parse_err(&vhost(", \"keepalive_timeout\": 1.5"));
        assert!(e.message.contains("expected an integer"), "{e}");
    }

    #[test]
    fn port_out_of_range() {
        let e = parse_err("{\"vhosts\": [{\n  \"port\": \"65536\"}]}");
        assert_eq!((e.line, e.column), (2, 11));
        assert_eq!(e.key, "vhosts[0].port");
        assert!(e.message.contains("out of range"), "{e}");
        assert!(e.message.contains("0 to 65535"), "{e}");
        let e = parse_err(r#"{"vhosts": [{"port": -1}]}"#);
        assert!(e.message.contains("expected an integer"), "{e}");
        let e = parse_err("{\"global\": {\"count-threads\": 0}, \"vhosts\": [{\"port\": 1}]}");
        assert_eq!(e.key, "global.count-threads");
        let e = parse_err("{\"global\": {\"uid\": 4294967295}}");
        assert!(e.message.contains("out of range"), "{e}");
        let e = parse_err("{\"global\": {\"uid\": 99999999999999999999999}}");
        assert!(e.message.contains("out of range"), "{e}");
    }

    #[test]
    fn data_dir_substitution() {
        let text = mount(r#""mountpoint": "/", "origin": "file://_lws_ddir_/lws-test""#);
        let cfg = parse(&text).unwrap();
        assert_eq!(
            cfg.vhosts[0].mounts[0].origin,
            Origin::File("/usr/local/share/lws-test".into())
        );
        let mut cfg = Config {
            data_dir: "/opt/data".into(),
            ..Config::default()
        };
        parse_str(Path::new("x"), &text, &mut cfg).unwrap();
        assert_eq!(
            cfg.vhosts[0].mounts[0].origin,
            Origin::File("/opt/data/lws-test".into())
        );
    }

    #[test]
    fn missing_port() {
        let e = parse_err("{\"vhosts\": [\n  {\"name\": \"x\"}]}");
        assert_eq!((e.line, e.column, e.key.as_str()), (2, 3, "vhosts[0]"));
        assert!(e.message.contains("port"), "{e}");
        let e = parse_err(r#"{"vhosts": [{"unix-socket": "1"}]}"#);
        assert!(e.message.contains("interface"), "{e}");
        let cfg = parse(r#"{"vhosts": [{"unix-socket": "1", "interface": "/tmp/s", "unix-socket-perms": "www:www"}]}"#).unwrap();
        assert!(cfg.vhosts[0].unix_socket);
        assert_eq!(cfg.vhosts[0].port, None);
        assert_eq!(cfg.vhosts[0].interface.as_deref(), Some("/tmp/s"));
    }

    #[test]
    fn proxy_keys() {
        let text = mount(
            r#""mountpoint": "/api", "origin": "http://+/run/app.sock:/v1",
               "proxy-origins": ["http://127.0.0.1:9000/v1"], "proxy-balance": "least-connections",
               "proxy-host": "origin", "proxy-connect-timeout-ms": "250", "proxy-header-timeout-ms": 5000,
               "proxy-idle-timeout-ms": "30000", "proxy-max-fails": "2", "proxy-fail-timeout-s": "30",
               "proxy-rewrite-paths": "1", "proxy-max-body": "1048576", "proxy-max-connections": "64",
               "proxy-h2": "1""#,
        );
        let cfg = parse(&text).unwrap();
        let m = &cfg.vhosts[0].mounts[0];
        assert_eq!(m.origin, Origin::Proxy("http://+/run/app.sock:/v1".into()));
        let want = ProxyConf {
            more_origins: vec!["http://127.0.0.1:9000/v1".into()],
            least_connections: true,
            origin_host: true,
            connect_timeout_ms: Some(250),
            header_timeout_ms: Some(5000),
            idle_timeout_ms: Some(30000),
            max_fails: Some(2),
            fail_timeout_s: Some(30),
            rewrite_paths: true,
            max_body: Some(1 << 20),
            max_connections: Some(64),
            http2: true,
        };
        assert_eq!(m.proxy, want);
        for (bad, needle) in [
            (r#""proxy-balance": "random""#, "least-connections"),
            (r#""proxy-host": "x""#, "client or origin"),
            (
                r#""proxy-connect-timeout-ms": "0""#,
                "proxy-connect-timeout-ms",
            ),
            (r#""proxy-banana": "1""#, "unknown proxy key"),
            (r#""proxy-origins": "http://x/""#, "proxy-origins"),
        ] {
            let text = mount(&format!(
                r#""mountpoint": "/a", "origin": "http://h/", {bad}"#
            ));
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn each_origin_scheme() {
        let cases: [(&str, Origin); 7] = [
            ("file:///srv", Origin::File("/srv".into())),
            ("callback://proto", Origin::Callback("proto".into())),
            (
                ">https://example.com/",
                Origin::Redirect("https://example.com/".into()),
            ),
            (
                ">http://example.com/",
                Origin::Redirect("http://example.com/".into()),
            ),
            (
                "http://127.0.0.1:81/",
                Origin::Proxy("http://127.0.0.1:81/".into()),
            ),
            ("cgi:///usr/bin/x.sh", Origin::Cgi("/usr/bin/x.sh".into())),
            ("gzip://", Origin::NoMount),
        ];
        for (o, want) in cases {
            let cfg = parse(&mount(&format!(
                "\"mountpoint\": \"/m\", \"origin\": \"{o}\""
            )))
            .unwrap();
            assert_eq!(cfg.vhosts[0].mounts[0].origin, want, "{o}");
        }
        let e = parse_err(&mount(r#""mountpoint": "/m", "origin": "ftp://x""#));
        assert_eq!(e.key, "vhosts[0].mounts[0].origin");
        assert!(e.message.contains("unknown origin scheme"), "{e}");
    }

    #[test]
    fn mount_required_keys() {
        let e = parse_err(&mount(r#""origin": "file:///x""#));
        assert_eq!(e.key, "vhosts[0].mounts[0].mountpoint");
        assert!(e.message.contains("required"), "{e}");
        let e = parse_err(&mount(r#""mountpoint": "/x""#));
        assert_eq!(e.key, "vhosts[0].mounts[0].origin");
        let e = parse_err(&mount(r#""mountpoint": "x", "origin": "file:///x""#));
        assert!(e.message.contains("start with '/'"), "{e}");
    }

    #[test]
    fn unknown_key() {
        let e = parse_err("{\"vhosts\": [{\"port\": \"1\",\n    \"mounts\": [{\"mountpoint\": \"/\",\n \"orgin\": \"file:///x\"}]}]}");
        assert_eq!(e.file, PathBuf::from("test.conf"));
        assert_eq!((e.line, e.column), (3, 2));
        assert_eq!(e.key, "vhosts[0].mounts[0].orgin");
        assert_eq!(
            e.to_string(),
            "test.conf:3:2: vhosts[0].mounts[0].orgin: unknown key"
        );
        let e = parse_err("{\"vhost\": []}");
        assert_eq!(e.to_string(), "test.conf:1:2: vhost: unknown key");
        let e = parse_err("{\"global\": {\"uid\": 1, \"no-such\": 1}}");
        assert_eq!(e.key, "global.no-such");
    }

    #[test]
    fn known_unsupported_key_recorded() {
        let text = "{\"global\": {\"plugin-dir\": \"/usr/lib\", \"interface\": \"eth0\"},\n \"vhosts\": [{\"port\": 1, \"ssl-option-set\": \"4\",\n  \"mounts\": [{\"mountpoint\": \"/\", \"origin\": \"cgi:///x\", \"cgi-env\": [{\"A\": \"b\"}], \"cgi-timeout\": \"30\"}]}]}";
        let cfg = parse(text).unwrap();
        let keys: Vec<_> = cfg.ignored.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "global.plugin-dir",
                "global.interface",
                "vhosts[0].ssl-option-set",
            ]
        );
        let m = &cfg.vhosts[0].mounts[0];
        assert_eq!(m.cgi.env, vec![("A".to_string(), "b".to_string())]);
        assert_eq!(m.cgi.timeout_s, Some(30));
        assert_eq!(cfg.ignored[2].0.line, 2);
        assert_eq!(cfg.ignored[2].0.column, 25);
        assert_eq!(cfg.ignored[2].0.file, PathBuf::from("test.conf"));
    }

    #[test]
    fn protection_keys_refused_when_set() {
        let e = parse_err(&vhost(", \"client-cert-required\": \"1\""));
        assert_eq!(e.key, "vhosts[0].client-cert-required");
        let cfg = parse(&vhost(", \"client-cert-required\": \"0\"")).unwrap();
        assert_eq!(cfg.ignored.len(), 1);
        let e = parse_err(&mount(
            r#""mountpoint": "/", "origin": "file:///x", "interceptor-path": "/login""#,
        ));
        assert_eq!(e.key, "vhosts[0].mounts[0].interceptor-path");
    }

    #[test]
    fn h2_half_closed_long_poll_is_accepted_as_always_on() {
        let cfg = parse(&vhost(", \"h2-half-closed-long-poll\": \"1\"")).unwrap();
        assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);
        let e = parse_err(&vhost(", \"h2-half-closed-long-poll\": \"maybe\""));
        assert_eq!(e.key, "vhosts[0].h2-half-closed-long-poll");
    }

    #[test]
    fn duplicate_key() {
        let e = parse_err(&vhost(",\n \"port\": \"81\""));
        assert_eq!((e.line, e.column), (2, 2));
        assert_eq!(e.key, "vhosts[0].port");
        assert!(e.message.contains("duplicate key"), "{e}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_err("{\"vhosts\": []}\nxyz");
        assert_eq!((e.line, e.column, e.key.as_str()), (2, 1, ""));
        assert!(e.message.contains("trailing"), "{e}");
        assert_eq!(
            e.to_string(),
            "test.conf:2:1: trailing characters after the top-level value"
        );
        let e = parse_err("{\"vhosts\": [{\"port\": \"1\"}\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("end of file"), "{e}");
        let e = parse_err("{\"vhosts\": [{\"port\" \"1\"}]}");
        assert!(e.message.contains("expected ':'"), "{e}");
        let e = parse_err("[]");
        assert!(e.message.contains("expected an object"), "{e}");
    }

    #[test]
    fn deep_nesting() {
        let deep = format!(
            "{}{}",
            "{\"a\": ".repeat(40),
            "1".to_owned() + &"}".repeat(40)
        );
        let e = parse_err(&deep);
        assert!(e.message.contains("nesting"), "{e}");
        let pvo = format!(
            r#"{{"vhosts": [{{"port": 1, "ws-protocols": [{{"p": {}"x"{}}}]}}]}}"#,
            "{\"n\": ".repeat(20),
            "}".repeat(20)
        );
        let cfg = parse(&pvo).unwrap();
        let mut p = &cfg.vhosts[0].ws_protocols[0];
        let mut depth = 0;
        while let Some(c) = p.children.first() {
            p = c;
            depth += 1;
        }
        assert_eq!((depth, p.value.as_str()), (20, "x"));
    }

    #[test]
    fn file_size_limit() {
        let big = format!(
            "{{\"vhosts\": [{{\"port\": 1}}]}}{}",
            " ".repeat(MAX_FILE_SIZE)
        );
        assert!(parse_err(&big).message.contains("larger"));
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "conf", &big);
        let e = load_dir(dir.path()).unwrap_err();
        assert!(e.message.contains("larger"), "{e}");
    }

    #[test]
    fn not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("conf"), b"{\n  \"a\xff\": 1}").unwrap();
        let e = load_dir(dir.path()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    #[test]
    fn conf_d_order_and_globals_first() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("conf.d")).unwrap();
        write(
            d,
            "conf",
            r#"{"global": {"server-string": "one", "count-threads": "1"}}"#,
        );
        // A vhost before a global in the same file, and globals in a later file: globals still apply to all.
        write(
            &d.join("conf.d"),
            "20-b",
            r#"{"vhosts": [{"name": "b", "port": "2"}], "global": {"server-string": "two"}}"#,
        );
        write(
            &d.join("conf.d"),
            "10-a",
            r#"{"vhosts": [{"name": "a", "port": "1"}]}"#,
        );
        write(&d.join("conf.d"), "30-c~", "not json");
        write(&d.join("conf.d"), ".hidden", "not json");
        fs::create_dir(d.join("conf.d").join("subdir")).unwrap();
        let cfg = load_dir(d).unwrap();
        let names: Vec<_> = cfg.vhosts.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(cfg.global.server_string.as_deref(), Some("two"));
        assert_eq!(cfg.global.count_threads, Some(1));
        assert!(cfg.vhosts[0].loc.file.ends_with("conf.d/10-a"));
        assert_eq!((cfg.vhosts[1].loc.line, cfg.vhosts[1].loc.column), (1, 13));
    }

    #[test]
    fn errors_in_later_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("conf.d")).unwrap();
        write(d, "conf", r#"{"vhosts": [{"port": "1"}]}"#);
        write(
            &d.join("conf.d"),
            "x",
            "{\"vhosts\": [{\"port\": \"1\", \"sts\": \"sometimes\"}]}",
        );
        let e = load_dir(d).unwrap_err();
        assert!(e.file.ends_with("conf.d/x"), "{e}");
        assert_eq!(e.key, "vhosts[0].sts");
    }

    #[test]
    fn missing_vhost() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "conf", r#"{"global": {"uid": "48"}}"#);
        let e = load_dir(dir.path()).unwrap_err();
        assert!(e.message.contains("at least one vhost"), "{e}");
        assert_eq!(e.line, 0);
        let e = load_dir(&dir.path().join("nope")).unwrap_err();
        assert!(e.message.contains("cannot read"), "{e}");
    }

    #[test]
    fn global_keys() {
        let cfg = parse(
            r#"{"global": {"uid": "48", "gid": "48", "username": "apache", "groupname": "apache",
                "count-threads": "4", "server-string": "lwsws", "timeout-secs": "30", "init-ssl": "yes",
                "default-alpn": "h2,http/1.1", "ip-limit-wsi": "100", "defer-accept-secs": 0,
                "reject-service-keywords": [{"scumbot": "404 Not Found"}, {"badbot": "403"}]}}"#,
        )
        .unwrap();
        let g = &cfg.global;
        assert_eq!(g.username.as_deref(), Some("apache"));
        assert_eq!(g.groupname.as_deref(), Some("apache"));
        assert_eq!(g.init_ssl, Some(true));
        assert_eq!(g.default_alpn.as_deref(), Some("h2,http/1.1"));
        assert_eq!(g.ip_limit_wsi, Some(100));
        assert_eq!(g.defer_accept_secs, Some(0));
        assert_eq!(
            g.reject_service_keywords,
            [
                ("scumbot".to_owned(), 404, "Not Found".to_owned()),
                ("badbot".to_owned(), 403, String::new())
            ]
        );
        let e = parse_err(r#"{"global": {"reject-service-keywords": [{"x": "700 Nope"}]}}"#);
        assert_eq!(e.key, "global.reject-service-keywords[0].x");
    }

    #[test]
    fn compression_keys() {
        let cfg = parse(
            r#"{"vhosts": [{"port": "80", "compression-level": "3",
                "mounts": [{"mountpoint": "/a", "origin": "file:///tmp"},
                           {"mountpoint": "/b", "origin": "file:///tmp", "compression": "0"},
                           {"mountpoint": "/c", "origin": "file:///tmp", "compression-level": "9"}]},
                {"port": "81", "compression": "0"}]}"#,
        )
        .unwrap();
        let v = &cfg.vhosts[0];
        assert_eq!(v.compression.enabled, None);
        assert_eq!(v.compression.level, Some(3));
        assert_eq!(v.mounts[0].compression, CompressionConf::default());
        assert_eq!(v.mounts[1].compression.enabled, Some(false));
        assert_eq!(v.mounts[2].compression.level, Some(9));
        assert_eq!(cfg.vhosts[1].compression.enabled, Some(false));
        let err = parse(r#"{"vhosts": [{"port": "80", "compression-level": "10"}]}"#).unwrap_err();
        assert!(err.to_string().contains("compression-level"), "{err}");
    }

    #[test]
    fn vhost_and_mount_keys() {
        let cfg = parse(
            r#"{"vhosts": [{
                "name": "example.com", "port": "443", "interface": "lo",
                "host-ssl-cert": "/etc/c.pem", "host-ssl-key": "/etc/k.pem", "host-ssl-ca": "/etc/ca.pem",
                "access-log": "/var/log/a.log", "headers": [{"X-A": "1", "X-B": "2"}, {"X-C": "3"}],
                "error-document-404": "/404.html", "alpn": "http/1.1", "redirect-http": "1",
                "allow-non-tls": "1", "allow-http-on-https": "0", "sts": "on", "strict-host-check": "1",
                "disable-no-protocol-ws-upgrades": "1", "enable-client-ssl": "1", "noipv6": "1",
                "ipv6only": "0", "ciphers": "HIGH", "ecdh-curve": "X25519", "tls13-ciphers": "TLS_AES_256_GCM_SHA384",
                "strict-security-headers": "1",
                "mounts": [{"mountpoint": "/p", "origin": "callback://p", "default": "i.html",
                    "cache-max-age": "10", "cache-reuse": "1", "cache-revalidate": "1",
                    "cache-intermediaries": "1", "cache-no": "1",
                    "extra-mimetypes": {".zip": "application/zip", "*": ""},
                    "headers": [{"content-security-policy": "default-src 'none'"}],
                    "basic-auth": "/etc/pw", "exact-match": "1", "no-ws-upgrades": "1", "append-path": "1",
                    "pmo": [{"a": "1"}, {"b": "2"}]}]}]}"#,
        )
        .unwrap();
        let v = &cfg.vhosts[0];
        assert_eq!(v.interface.as_deref(), Some("lo"));
        assert_eq!(v.host_ssl_ca, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(v.access_log, Some(PathBuf::from("/var/log/a.log")));
        assert_eq!(v.headers.len(), 3);
        assert_eq!(v.headers[2], ("X-C".to_owned(), "3".to_owned()));
        assert!(v.redirect_http && v.allow_non_tls && !v.allow_http_on_https && v.sts);
        assert!(v.strict_host_check && v.disable_no_protocol_ws_upgrades && v.enable_client_ssl);
        assert!(v.noipv6 && v.strict_security_headers);
        assert_eq!(v.ipv6only, Some(false));
        assert_eq!(v.tls13_ciphers.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
        let m = &v.mounts[0];
        assert_eq!(m.default.as_deref(), Some("i.html"));
        assert_eq!(m.cache_max_age, Some(10));
        assert!(m.cache_reuse && m.cache_revalidate && m.cache_intermediaries && m.cache_no);
        assert_eq!(m.extra_mimetypes[1], ("*".to_owned(), String::new()));
        assert_eq!(m.basic_auth, Some(PathBuf::from("/etc/pw")));
        assert!(m.exact_match && m.no_ws_upgrades && m.append_path);
        assert_eq!(m.pmo, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert!(
            parse_err(&vhost(r#", "headers": [{"X-A": "1\r\nSet-Cookie: x"}]"#))
                .message
                .contains("CR")
        );
        assert!(parse_err(&vhost(r#", "headers": [{"Bad Name": "1"}]"#))
            .message
            .contains("header name"));
        assert!(parse_err(&vhost(r#", "host-ssl-cert": "/c.pem""#))
            .message
            .contains("together"));
        assert!(parse_err(&vhost(r#", "mounts": {}"#))
            .message
            .contains("expected an array"));
    }

    #[test]
    fn listen_accept_keys_and_rules() {
        let cfg = parse(&vhost(
            r#", "apply-listen-accept": "1", "listen-accept-role": "raw-proxy",
            "listen-accept-protocol": "raw-proxy", "fallback-listen-accept": "0",
            "listen-accept-rules": [
                {"match": "ssh", "protocol": "raw-proxy", "options": {"onward": "ipv4:127.0.0.1:22"}},
                {"match": "tls", "sni": "a.test, b.test", "alpn": "h2", "protocol": "p"},
                {"match": "silent", "protocol": "p"},
                {"match": "silent", "wait-ms": "500", "protocol": "p"}]"#,
        ))
        .unwrap();
        let v = &cfg.vhosts[0];
        assert!(v.apply_listen_accept && !v.fallback_listen_accept);
        assert_eq!(v.listen_accept_role.as_deref(), Some("raw-proxy"));
        let rules = &v.listen_accept_rules;
        assert_eq!(rules[0].matcher, RuleMatch::Ssh);
        assert_eq!(rules[0].options[0].value, "ipv4:127.0.0.1:22");
        assert_eq!(
            rules[1].matcher,
            RuleMatch::Tls {
                sni: vec!["a.test".into(), "b.test".into()],
                alpn: vec!["h2".into()]
            }
        );
        assert_eq!(rules[2].matcher, RuleMatch::Silent { wait_ms: 2000 });
        assert_eq!(rules[3].matcher, RuleMatch::Silent { wait_ms: 500 });
        // `onlyraw` is libwebsockets' old name for apply-listen-accept.
        let old = parse(&vhost(r#", "onlyraw": "1", "listen-accept-protocol": "x""#)).unwrap();
        assert!(old.vhosts[0].apply_listen_accept);
    }

    #[test]
    fn listen_accept_mistakes_are_named() {
        let e = parse_err(&vhost(r#", "listen-accept-role": "raw-file""#));
        assert_eq!(e.key, "vhosts[0].listen-accept-role");
        assert!(e.message.contains("raw-skt, raw-proxy"), "{}", e.message);
        let e = parse_err(&vhost(r#", "fallback-listen-accept": "1""#));
        assert!(
            e.message.contains("listen-accept-protocol"),
            "{}",
            e.message
        );
        let e = parse_err(&vhost(
            r#", "listen-accept-rules": [{"match": "smtp", "protocol": "p"}]"#,
        ));
        assert_eq!(e.key, "vhosts[0].listen-accept-rules[0].match");
        let e = parse_err(&vhost(r#", "listen-accept-rules": [{"match": "ssh"}]"#));
        assert!(e.message.contains("needs \"protocol\""), "{}", e.message);
        let e = parse_err(&vhost(
            r#", "listen-accept-rules": [{"match": "ssh", "protocol": "p", "port": "1"}]"#,
        ));
        assert_eq!(e.key, "vhosts[0].listen-accept-rules[0].port");
    }

    /// Our equivalent of lwsws' `etc-lwsws-conf.d-localhost-EXAMPLE`.
    const LOCALHOST_EXAMPLE: &str = r##"
# localhost test vhost
{
  "vhosts": [ {
    "name": "localhost",
    "port": "7681",
    "access-log": "/var/log/lwsws/test-access-log",
    "sts": "off",
    "mounts": [{
        "mountpoint": "/",
        "origin": "file://_lws_ddir_/libwebsockets-test-server",
        "default": "test.html",
        "cache-max-age": "60",
        "cache-reuse": "1",
        "cache-revalidate": "1",
        "cache-intermediaries": "0"
      }, {
        "mountpoint": "/server-status",
        "origin": "file://_lws_ddir_/libwebsockets-test-server/server-status",
        "default": "server-status.html"
      }, {
        "mountpoint": "/testcgi",
        "origin": "cgi://_lws_ddir_/libwebsockets-test-server/lws-cgi-test.sh"
      }, {
        "mountpoint": "/formtest",
        "origin": "callback://protocol-post-demo"
      }],
    # which protocols are enabled for this vhost, and optional per-vhost options
    "ws-protocols": [{
      "dumb-increment-protocol": { "status": "ok" },
      "lws-mirror-protocol": { "status": "ok" },
      "lws-status": { "status": "ok" },
      "protocol-post-demo": { "status": "ok" },
      "lws-server-status": {
        "status": "ok",
        "update-ms": "5000",
        "nested": { "deeper": 1 }
      }
    }]
  } ]
}
"##;

    #[test]
    fn reference_example() {
        let cfg = parse(LOCALHOST_EXAMPLE).unwrap();
        assert!(cfg.ignored.is_empty());
        let v = &cfg.vhosts[0];
        assert_eq!((v.name.as_str(), v.port), ("localhost", Some(7681)));
        assert_eq!((v.loc.line, v.loc.column), (4, 15));
        assert_eq!(v.mounts.len(), 4);
        let m = &v.mounts[0];
        assert_eq!(
            m.origin,
            Origin::File("/usr/local/share/libwebsockets-test-server".into())
        );
        assert_eq!((m.loc.line, m.loc.column), (9, 16));
        assert_eq!(m.default.as_deref(), Some("test.html"));
        assert_eq!(m.cache_max_age, Some(60));
        assert!(m.cache_reuse && m.cache_revalidate && !m.cache_intermediaries);
        assert_eq!(
            v.mounts[2].origin,
            Origin::Cgi("/usr/local/share/libwebsockets-test-server/lws-cgi-test.sh".into())
        );
        assert_eq!(
            v.mounts[3].origin,
            Origin::Callback("protocol-post-demo".into())
        );
        let names: Vec<_> = v.ws_protocols.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "dumb-increment-protocol",
                "lws-mirror-protocol",
                "lws-status",
                "protocol-post-demo",
                "lws-server-status"
            ]
        );
        let ss = &v.ws_protocols[4];
        assert_eq!(
            ss.children,
            [
                Pvo {
                    name: "status".into(),
                    value: "ok".into(),
                    children: vec![]
                },
                Pvo {
                    name: "update-ms".into(),
                    value: "5000".into(),
                    children: vec![]
                },
                Pvo {
                    name: "nested".into(),
                    value: String::new(),
                    children: vec![Pvo {
                        name: "deeper".into(),
                        value: "1".into(),
                        children: vec![]
                    }]
                }
            ]
        );
    }

    /// The shipped reverse-proxy example parses, with its unix-socket origin.
    #[test]
    fn shipped_proxy_example_dir() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-conf/proxy");
        let cfg = load_dir(&dir).unwrap();
        assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);
        let m = &cfg.vhosts[0].mounts;
        assert_eq!(m[1].origin, Origin::Proxy("http://+/tmp/app.sock:/".into()));
        assert!(m[1].proxy.rewrite_paths);
        assert_eq!(m[2].proxy.more_origins, ["http://127.0.0.1:8081/"]);
        assert!(m[2].proxy.least_connections && m[2].proxy.origin_host);
    }

    /// The shipped CGI example parses, with its keys.
    #[test]
    fn shipped_cgi_example_dir() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-conf/cgi");
        let cfg = load_dir(&dir).unwrap();
        assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);
        let v = &cfg.vhosts[0];
        assert_eq!(v.cgi_max_processes, Some(8));
        assert_eq!(v.mounts[0].origin, Origin::Cgi("./cgi-bin".into()));
        assert_eq!(v.mounts[0].cgi.timeout_s, Some(10));
        assert_eq!(
            v.mounts[0].cgi.env,
            [("GREETING".to_string(), "hello".to_string())]
        );
        assert_eq!(v.mounts[1].origin, Origin::Cgi("./cgi-bin/hello.sh".into()));
    }

    #[test]
    fn bad_cgi_keys_are_refused() {
        for (keys, want) in [
            (r#""cgi-timeout": "0""#, "cgi-timeout"),
            (r#""cgi-env": [{"A=B": "x"}]"#, "not a valid variable name"),
            (r#""cgi-env": {"A": "x"}"#, "cgi-env"),
        ] {
            let e = parse_err(&mount(&format!(
                r#""mountpoint": "/", "origin": "cgi:///x", {keys}"#
            )));
            assert!(e.to_string().contains(want), "{keys}: {e}");
        }
    }

    /// The shipped example directory for users must always parse.
    #[test]
    fn shipped_example_dir() {
        // Inside the lwsws crate CARGO_MANIFEST_DIR is the crate; when these files are compiled elsewhere via
        // `#[path]`, file!() locates them.
        let candidates = [
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-conf/localhost"),
            Path::new(file!())
                .parent()
                .unwrap_or(Path::new("."))
                .join("../../examples-conf/localhost"),
        ];
        let dir = candidates
            .iter()
            .find(|p| p.join("conf").is_file())
            .expect("examples-conf/localhost not found");
        let cfg = load_dir(dir).unwrap();
        assert_eq!(cfg.global.count_threads, Some(1));
        assert!(cfg.global.server_string.is_some());
        assert!(cfg.ignored.is_empty(), "{:?}", cfg.ignored);
        let v = &cfg.vhosts[0];
        assert_eq!(v.port, Some(7681));
        assert!(v.strict_security_headers);
        assert_eq!(v.access_log, Some(PathBuf::from("/tmp/lwsws-access.log")));
        assert!(matches!(v.mounts[0].origin, Origin::File(_)));
        assert!(v.mounts[0].cache_max_age.is_some());
        let form = v
            .mounts
            .iter()
            .find(|m| m.mountpoint == "/formtest")
            .unwrap();
        assert_eq!(form.origin, Origin::Callback("protocol-post-demo".into()));
    }
}
