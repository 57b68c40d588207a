//! The typed lwsws configuration that the JSON files are mapped into.
//!
//! Values a file leaves unset are `None` (the server picks the libwebsockets default); flags default to
//! `false`. Vhosts and mounts remember where they were declared so later validation can point at them.

use std::path::PathBuf;

/// Data directory substituted for `_lws_ddir_` when the caller does not choose one (lws' install prefix).
pub const DEFAULT_DATA_DIR: &str = "/usr/local/share";

/// Everything read from a config directory: the merged `global` section, the vhosts in file order, the keys
/// that were recognised but skipped, and the data dir used for `_lws_ddir_`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Process-wide settings merged from every file's `global` object (later files override).
    pub global: Global,
    /// Vhosts in the order they were declared (conf first, then conf.d in name order).
    pub vhosts: Vec<VhostConf>,
    /// Keys libwebsockets knows but this build ignores, with where they appeared (dotted key path).
    pub ignored: Vec<(Location, String)>,
    /// Replacement for the substring `_lws_ddir_` in string values; set it before parsing.
    pub data_dir: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            global: Global::default(),
            vhosts: Vec::new(),
            ignored: Vec::new(),
            data_dir: DEFAULT_DATA_DIR.to_owned(),
        }
    }
}

/// A place in a config file, kept on vhosts and mounts so errors found after parsing can name it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
}

/// The `global` section: identity to drop to, thread count and server-wide HTTP behaviour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Global {
    /// `uid`: numeric user id to become after binding.
    pub uid: Option<u32>,
    /// `gid`: numeric group id to become after binding.
    pub gid: Option<u32>,
    /// `username`: user to become after binding (resolved at drop time).
    pub username: Option<String>,
    /// `groupname`: group to become after binding (resolved at drop time).
    pub groupname: Option<String>,
    /// `count-threads`: number of service threads.
    pub count_threads: Option<u32>,
    /// `server-string`: value of the `Server:` response header.
    pub server_string: Option<String>,
    /// `timeout-secs`: network operation timeout in seconds.
    pub timeout_secs: Option<u32>,
    /// `init-ssl`: accepted for compatibility; TLS is always available in this build.
    pub init_ssl: Option<bool>,
    /// `default-alpn`: ALPN list for TLS vhosts that do not set their own, e.g. "h2,http/1.1".
    pub default_alpn: Option<String>,
    /// `ip-limit-wsi`: hard limit of simultaneous connections per peer IP.
    pub ip_limit_wsi: Option<u32>,
    /// `defer-accept-secs` (ours): how long the kernel may hold a new connection until its first bytes
    /// arrive (`TCP_DEFER_ACCEPT`); 0 turns it off, default 1.
    pub defer_accept_secs: Option<u32>,
    /// `reject-service-keywords`: (User-Agent substring, HTTP status, reason) answered without serving.
    pub reject_service_keywords: Vec<(String, u16, String)>,
}

/// One `vhosts[]` entry: a listener (TCP port or unix socket) with its TLS material, headers and mounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VhostConf {
    /// Where the vhost object starts.
    pub loc: Location,
    /// `name`: matched against SNI and `Host:`; "default" when absent.
    pub name: String,
    /// `port`: TCP port to listen on (required unless `unix-socket`).
    pub port: Option<u16>,
    /// `interface`: interface name or IP to bind, or the socket path with `unix-socket`.
    pub interface: Option<String>,
    /// `unix-socket`: listen on the unix domain socket at `interface`.
    pub unix_socket: bool,
    /// `unix-socket-perms`: "user:group" to own the unix socket.
    pub unix_socket_perms: Option<String>,
    /// `host-ssl-cert`: server certificate chain (PEM); with the key it enables TLS.
    pub host_ssl_cert: Option<PathBuf>,
    /// `host-ssl-key`: server private key (PEM).
    pub host_ssl_key: Option<PathBuf>,
    /// `host-ssl-ca`: CA bundle for verifying client certificates.
    pub host_ssl_ca: Option<PathBuf>,
    /// `access-log`: path of the Apache combined-format access log.
    pub access_log: Option<PathBuf>,
    /// `headers`: (name, value) pairs added to every response of the vhost.
    pub headers: Vec<(String, String)>,
    /// `keepalive_timeout`: idle HTTP keep-alive seconds (lws default 5).
    pub keepalive_timeout: Option<u32>,
    /// `h2-*` keys (lws-rs): HTTP/2 settings for connections on this vhost's listeners.
    pub h2: H2Conf,
    /// `ws-pmd*` keys (lws-rs): permessage-deflate on this vhost's WebSocket connections.
    pub pmd: PmdConf,
    /// `mounts`: URL space of the vhost, in declaration order.
    pub mounts: Vec<MountConf>,
    /// `error-document-404`: URL path served for 404s.
    pub error_document_404: Option<String>,
    /// `cgi-max-processes`: most CGI processes running at once on this vhost (added by lws-rs).
    pub cgi_max_processes: Option<u32>,
    /// `alpn`: ALPN list for this vhost.
    pub alpn: Option<String>,
    /// `redirect-http`: plain HTTP arriving on the TLS port is redirected to https://.
    pub redirect_http: bool,
    /// `allow-non-tls`: accept non-TLS connections on the TLS listener.
    pub allow_non_tls: bool,
    /// `allow-http-on-https`: serve plain HTTP on the TLS port (discouraged).
    pub allow_http_on_https: bool,
    /// `sts`: send `Strict-Transport-Security`.
    pub sts: bool,
    /// `strict-host-check`: on upgrades require `Host:` to equal the vhost name[:port].
    pub strict_host_check: bool,
    /// `disable-no-protocol-ws-upgrades`: refuse ws upgrades that name no subprotocol.
    pub disable_no_protocol_ws_upgrades: bool,
    /// `ws-protocols`: enabled protocols, one [`Pvo`] each with its options as children.
    pub ws_protocols: Vec<Pvo>,
    /// `enable-client-ssl`: create a client TLS context (https proxy mounts, client connections).
    pub enable_client_ssl: bool,
    /// `noipv6`: do not use IPv6 on this vhost.
    pub noipv6: bool,
    /// `ipv6only`: set IPV6_V6ONLY to this value when given.
    pub ipv6only: Option<bool>,
    /// `ciphers`: server TLS <= 1.2 cipher list.
    pub ciphers: Option<String>,
    /// `ecdh-curve`: server key-exchange groups, colon separated.
    pub ecdh_curve: Option<String>,
    /// `tls13-ciphers`: server TLS 1.3 suites.
    pub tls13_ciphers: Option<String>,
    /// `strict-security-headers` (lws-rs addition): add the lws best-practice CSP and related headers.
    pub strict_security_headers: bool,
    /// `apply-listen-accept` (alias `onlyraw`): every connection goes to `listen-accept-protocol`.
    pub apply_listen_accept: bool,
    /// `fallback-listen-accept`: connections whose first bytes are not HTTP (or not TLS) go to it.
    pub fallback_listen_accept: bool,
    /// `listen-accept-role`: `raw-skt` or `raw-proxy` (both served by the raw role).
    pub listen_accept_role: Option<String>,
    /// `listen-accept-protocol`: the raw protocol for the two keys above.
    pub listen_accept_protocol: Option<String>,
    /// `listen-accept-rules` (lws-rs addition): sslh-style rules choosing a raw protocol by the first bytes.
    pub listen_accept_rules: Vec<AcceptRuleConf>,
    /// `compression`, `compression-level`: response compression of the vhost's mounts.
    pub compression: CompressionConf,
}

/// The `compression` keys of a vhost or mount; unset keys fall back to the vhost's, then to "on".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompressionConf {
    /// `compression`: `"0"` turns compression off (it is on by default in lwsws).
    pub enabled: Option<bool>,
    /// `compression-level`: 1 (fastest) ..= 9 (smallest), gzip's scale, used by every coding.
    pub level: Option<u32>,
}

/// One `listen-accept-rules[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptRuleConf {
    /// Where the rule object starts.
    pub loc: Location,
    /// `match`: what the first bytes must be.
    pub matcher: RuleMatch,
    /// `protocol`: the raw protocol (from the registry) that serves matching connections.
    pub protocol: String,
    /// `options`: that protocol's options for this rule (as a `ws-protocols` entry would give them).
    pub options: Vec<Pvo>,
}

/// The `match` of a rule, with its parameters (`sni`, `alpn`, `wait-ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMatch {
    /// `"ssh"`: an SSH banner.
    Ssh,
    /// `"tls"`: a ClientHello, restricted by comma-separated `sni` and `alpn` lists when given.
    Tls { sni: Vec<String>, alpn: Vec<String> },
    /// `"http"`: an HTTP/1 request line or the HTTP/2 preface.
    Http,
    /// `"any"`: anything the port does not otherwise serve.
    Any,
    /// `"silent"`: no bytes within `wait-ms` (default 2000).
    Silent { wait_ms: u32 },
}

/// Per-vhost protocol options: the runtime's own type, so config maps onto it without conversion.
pub use lws::Pvo;

/// One `mounts[]` entry: a URL prefix bound to an origin plus caching and auth settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MountConf {
    /// Where the mount object starts.
    pub loc: Location,
    /// `mountpoint`: URL prefix, starts with '/'.
    pub mountpoint: String,
    /// `origin`: what serves the mount.
    pub origin: Origin,
    /// `default`: document for directory URLs (lws falls back to index.html).
    pub default: Option<String>,
    /// `cache-max-age`: seconds for `Cache-Control: max-age`.
    pub cache_max_age: Option<u32>,
    /// `cache-reuse`: clients may reuse a cached copy.
    pub cache_reuse: bool,
    /// `cache-revalidate`: add must-revalidate.
    pub cache_revalidate: bool,
    /// `cache-intermediaries`: allow shared (public) caches.
    pub cache_intermediaries: bool,
    /// `cache-no`: send no-cache.
    pub cache_no: bool,
    /// `extra-mimetypes`: (suffix, content type) pairs; suffix "*" matches anything.
    pub extra_mimetypes: Vec<(String, String)>,
    /// `headers`: (name, value) response headers for this mount, overriding the vhost's.
    pub headers: Vec<(String, String)>,
    /// `basic-auth`: credentials file (`user:password` lines) protecting the mount.
    pub basic_auth: Option<PathBuf>,
    /// `exact-match`: the URL must equal the mountpoint.
    pub exact_match: bool,
    /// `no-ws-upgrades`: skip this mount for websocket upgrade requests.
    pub no_ws_upgrades: bool,
    /// `append-path`: redirects append the rest of the URL to the target.
    pub append_path: bool,
    /// `pmo`: (name, value) per-mount options for callback protocols.
    pub pmo: Vec<(String, String)>,
    /// `proxy-*`: how a proxy mount (`http://`, `https://` origin) reaches its origins (added by lws-rs).
    pub proxy: ProxyConf,
    /// `compression`, `compression-level`: this mount's own compression setting.
    pub compression: CompressionConf,
    /// `cgi-env`, `cgi-timeout`: options of a CGI mount (`cgi://` origin).
    pub cgi: CgiConf,
}

/// The `cgi-*` keys of a mount; unset keys keep the library defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgiConf {
    /// `cgi-env`: `[{"VAR": "value"}, ...]`, extra environment for the scripts.
    pub env: Vec<(String, String)>,
    /// `cgi-timeout`: seconds a script may run.
    pub timeout_s: Option<u32>,
}

/// The `proxy-*` keys of a mount; unset keys keep the library defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConf {
    /// `proxy-origins`: more origins beside `origin`, in the same syntax.
    pub more_origins: Vec<String>,
    /// `proxy-balance`: `round-robin` (default) or `least-connections`.
    pub least_connections: bool,
    /// `proxy-host`: `client` (default, as libwebsockets) or `origin`.
    pub origin_host: bool,
    /// `proxy-connect-timeout-ms`.
    pub connect_timeout_ms: Option<u32>,
    /// `proxy-header-timeout-ms`.
    pub header_timeout_ms: Option<u32>,
    /// `proxy-idle-timeout-ms`.
    pub idle_timeout_ms: Option<u32>,
    /// `proxy-max-fails` (0: never skip an origin).
    pub max_fails: Option<u32>,
    /// `proxy-fail-timeout-s`.
    pub fail_timeout_s: Option<u32>,
    /// `proxy-rewrite-paths`: map `Location` and cookie paths from the origin's path to the mountpoint.
    pub rewrite_paths: bool,
    /// `proxy-max-body`: largest request body passed on, bytes.
    pub max_body: Option<u64>,
    /// `proxy-max-connections`: per origin and service thread.
    pub max_connections: Option<u32>,
    /// `proxy-h2`: HTTP/2 to the origins (ALPN for https, prior knowledge otherwise).
    pub http2: bool,
}

/// What serves a mount, from the `origin` scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// `callback://<protocol>`: the named protocol handles the URL subtree.
    Callback(String),
    /// `cgi://<script>`: run the script as CGI.
    Cgi(PathBuf),
    /// `file://<dir>`: serve files below the directory.
    File(PathBuf),
    /// `gzip://`: parsed by lws but means "no mount".
    NoMount,
    /// `http://...` / `https://...`: reverse proxy to this URL (kept with its scheme).
    Proxy(String),
    /// `>http://...` / `>https://...`: 301 redirect to this URL (kept with its scheme, without '>').
    Redirect(String),
}

/// permessage-deflate settings of a vhost (`ws-pmd*` keys, added by lws-rs); unset keys keep the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PmdConf {
    /// `ws-pmd`: accept permessage-deflate when a client offers it (default on).
    pub enabled: Option<bool>,
    /// `ws-pmd-server-max-window-bits`: largest window our compressor uses, 9..15 (default 15); below 15 it
    /// is announced in the answer.
    pub server_max_window_bits: Option<u8>,
    /// `ws-pmd-client-max-window-bits`: largest window a client that can limit its own may use, 9..15
    /// (default 15).
    pub client_max_window_bits: Option<u8>,
    /// `ws-pmd-server-no-context-takeover`: compress every message on its own (default off).
    pub server_no_context_takeover: Option<bool>,
    /// `ws-pmd-client-no-context-takeover`: tell clients to compress every message on their own, so that no
    /// window of theirs is kept per connection (default off).
    pub client_no_context_takeover: Option<bool>,
    /// `ws-pmd-level`: zlib level 0..9 of our compressor (default 1).
    pub level: Option<u32>,
    /// `ws-pmd-pool`: how many compressors, and inflaters, are kept with their connection between messages,
    /// per service thread, in pools of this vhost's own (default: the default pools, 64 per thread).
    pub pool: Option<u32>,
}

/// HTTP/2 settings of a vhost (`h2-*` keys, added by lws-rs); unset keys keep the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct H2Conf {
    /// `h2-max-concurrent-streams`: SETTINGS_MAX_CONCURRENT_STREAMS (default 128).
    pub max_concurrent_streams: Option<u32>,
    /// `h2-initial-window-size`: SETTINGS_INITIAL_WINDOW_SIZE for request bodies (default 262144).
    pub initial_window_size: Option<u32>,
    /// `h2-max-frame-size`: SETTINGS_MAX_FRAME_SIZE, 16384..16777215 (default 16384).
    pub max_frame_size: Option<u32>,
    /// `h2-max-header-list-size`: SETTINGS_MAX_HEADER_LIST_SIZE, enforced (default 65536).
    pub max_header_list_size: Option<u32>,
    /// `h2-header-table-size`: SETTINGS_HEADER_TABLE_SIZE of our HPACK decoder (default 4096).
    pub header_table_size: Option<u32>,
    /// `h2-enable-connect-protocol`: RFC 8441 WebSockets over HTTP/2 (default on).
    pub enable_connect_protocol: Option<bool>,
    /// `h2-idle-timeout`: seconds without streams before GOAWAY (default 30).
    pub idle_timeout: Option<u32>,
}
