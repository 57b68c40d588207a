//! Mounts: which URL subtree goes where (files, a protocol, a redirect), with their per-mount options.

use std::path::PathBuf;

/// A URL subtree and what serves it, as in libwebsockets' `lws_http_mount`.
///
/// Matching picks the longest mountpoint that is a prefix of the canonical path ending at a segment boundary;
/// on equal length an `exact_match` mount wins, and an `exact_match` mount matches only its own path.
#[derive(Debug, Clone)]
pub struct Mount {
    pub(crate) mountpoint: String,
    pub(crate) kind: MountKind,
    pub(crate) default_doc: Option<String>,
    pub(crate) cache: CachePolicy,
    pub(crate) extra_mimetypes: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) basic_auth: Option<PathBuf>,
    pub(crate) exact_match: bool,
    pub(crate) append_path: bool,
    pub(crate) no_ws_upgrades: bool,
    /// Replaces the vhost's compression setting for this mount.
    pub(crate) compression: Option<crate::compress::Compression>,
}

/// What serves a mount.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountKind {
    /// Files under a directory (`file://`).
    Files(PathBuf),
    /// The named protocol's HTTP callbacks (`callback://`).
    Callback(String),
    /// A 301 redirect to this absolute URL (`>http://`, `>https://`).
    Redirect(String),
    /// Explicitly nothing: requests fall through to "not found" (`gzip://` in lwsws configs).
    NoMount,
    /// A reverse proxy to one or more origins (`http://`, `https://`, `http://+/socket:/path`).
    Proxy(crate::proxy::ReverseProxy),
    /// CGI scripts: one executable or a directory of them (`cgi://`).
    Cgi(crate::cgi::Cgi),
}

/// The Cache-Control bits of a mount (libwebsockets' `cache_*` options).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CachePolicy {
    /// `max-age` in seconds.
    pub max_age: u32,
    /// The client may reuse its cached copy at all; without it responses say `no-store`.
    pub reuse: bool,
    /// Add `must-revalidate`.
    pub revalidate: bool,
    /// Shared caches may keep it (`public` rather than `private`).
    pub intermediaries: bool,
    /// Add `no-cache`: always revalidate before use.
    pub no_cache: bool,
}

impl CachePolicy {
    /// The `cache-control` value these bits describe.
    pub fn header_value(&self) -> String {
        if !self.reuse {
            return "no-store".to_string();
        }
        let mut v = String::from(if self.intermediaries {
            "public"
        } else {
            "private"
        });
        v.push_str(&format!(", max-age={}", self.max_age));
        if self.revalidate {
            v.push_str(", must-revalidate");
        }
        if self.no_cache {
            v.push_str(", no-cache");
        }
        v
    }
}

impl Mount {
    fn new(mountpoint: &str, kind: MountKind) -> Self {
        Mount {
            mountpoint: normalize_mountpoint(mountpoint),
            kind,
            default_doc: None,
            cache: CachePolicy::default(),
            extra_mimetypes: Vec::new(),
            headers: Vec::new(),
            basic_auth: None,
            exact_match: false,
            append_path: false,
            no_ws_upgrades: false,
            compression: None,
        }
    }

    /// Serves files from `origin` under `mountpoint`.
    pub fn files(mountpoint: &str, origin: impl Into<PathBuf>) -> Self {
        Mount::new(mountpoint, MountKind::Files(origin.into()))
    }

    /// Hands requests under `mountpoint` to the vhost's protocol named `protocol`.
    pub fn callback(mountpoint: &str, protocol: &str) -> Self {
        Mount::new(mountpoint, MountKind::Callback(protocol.to_string()))
    }

    /// Redirects requests under `mountpoint` to `target` (an absolute http:// or https:// URL) with 301.
    pub fn redirect(mountpoint: &str, target: &str) -> Self {
        Mount::new(mountpoint, MountKind::Redirect(target.to_string()))
    }

    /// Passes requests under `mountpoint` to the proxy's origins: `/mnt/x?y` goes to the origin's
    /// `/path/x?y`, bodies stream both ways (see [`crate::proxy`]).
    pub fn proxy(mountpoint: &str, proxy: crate::proxy::ReverseProxy) -> Self {
        Mount::new(mountpoint, MountKind::Proxy(proxy))
    }

    /// Runs CGI scripts for requests under `mountpoint` (see [`crate::cgi`]). Like callback mounts, the
    /// bare mountpoint (`/cgi` for mount `/cgi`) is served as is, not redirected to `/cgi/`.
    pub fn cgi(mountpoint: &str, cgi: crate::cgi::Cgi) -> Self {
        Mount::new(mountpoint, MountKind::Cgi(cgi))
    }

    /// A mountpoint that explicitly serves nothing.
    pub fn none(mountpoint: &str) -> Self {
        Mount::new(mountpoint, MountKind::NoMount)
    }

    /// The document served for directory URLs (default `index.html`).
    pub fn default_doc(mut self, doc: &str) -> Self {
        self.default_doc = Some(doc.to_string());
        self
    }

    /// The Cache-Control policy for files of this mount.
    pub fn cache(mut self, cache: CachePolicy) -> Self {
        self.cache = cache;
        self
    }

    /// Maps a file suffix (`.ext`, or `*` for any unknown suffix) to a content type for this mount. An empty
    /// type with `*` serves unknown suffixes without a content type.
    pub fn extra_mimetype(mut self, suffix: &str, content_type: &str) -> Self {
        self.extra_mimetypes
            .push((suffix.to_string(), content_type.to_string()));
        self
    }

    /// Adds a response header for this mount; it replaces a vhost header of the same name.
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    /// Protects the mount with HTTP basic auth against a `user:password` per-line file (read per request).
    pub fn basic_auth(mut self, credentials_file: impl Into<PathBuf>) -> Self {
        self.basic_auth = Some(credentials_file.into());
        self
    }

    /// Matches only the mountpoint itself, not paths below it.
    pub fn exact_match(mut self, yes: bool) -> Self {
        self.exact_match = yes;
        self
    }

    /// For redirect mounts: append the rest of the request path to the target.
    pub fn append_path(mut self, yes: bool) -> Self {
        self.append_path = yes;
        self
    }

    /// Compresses this mount's responses as `compression` says, instead of as its vhost does.
    pub fn compression(mut self, compression: crate::compress::Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Refuses WebSocket upgrades for URLs under this mount (403).
    pub fn no_ws_upgrades(mut self, yes: bool) -> Self {
        self.no_ws_upgrades = yes;
        self
    }

    /// The normalised mountpoint.
    pub fn mountpoint(&self) -> &str {
        &self.mountpoint
    }

    /// What serves this mount.
    pub fn kind(&self) -> &MountKind {
        &self.kind
    }
}

/// Mountpoints are compared without a trailing slash (except the root).
fn normalize_mountpoint(mp: &str) -> String {
    let mut s = if mp.starts_with('/') {
        mp.to_string()
    } else {
        format!("/{mp}")
    };
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    s
}

/// How a path relates to a mountpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MountMatch {
    /// The path is the mountpoint itself without a trailing slash (e.g. `/app` for mount `/app`).
    Bare,
    /// The path is inside the mount.
    Inside,
}

/// Picks the mount for `path` (its index in `mounts`): longest segment-boundary prefix, `exact_match`
/// preferred on ties.
pub(crate) fn select<M>(
    mounts: &[M],
    path: &str,
    get: impl Fn(&M) -> &Mount,
) -> Option<(usize, MountMatch)> {
    let mut best: Option<(usize, MountMatch)> = None;
    for (i, m) in mounts.iter().enumerate() {
        let mount = get(m);
        let mp = mount.mountpoint.as_str();
        let found = if mount.exact_match {
            (path == mp
                || (mp != "/"
                    && path.len() == mp.len() + 1
                    && path.starts_with(mp)
                    && path.ends_with('/')))
            .then_some(MountMatch::Inside)
        } else if mp == "/" {
            Some(MountMatch::Inside)
        } else if path == mp {
            Some(MountMatch::Bare)
        } else if path.starts_with(mp) && path.as_bytes()[mp.len()] == b'/' {
            Some(MountMatch::Inside)
        } else {
            None
        };
        let Some(kind) = found else { continue };
        let better = match best {
            None => true,
            Some((b, _)) => {
                let b = get(&mounts[b]);
                let bl = b.mountpoint.len();
                mp.len() > bl || (mp.len() == bl && mount.exact_match && !b.exact_match)
            }
        };
        if better {
            best = Some((i, kind));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick<'a>(mounts: &'a [Mount], path: &str) -> Option<(&'a str, MountMatch)> {
        select(mounts, path, |m| m).map(|(i, k)| (mounts[i].mountpoint.as_str(), k))
    }

    #[test]
    fn longest_prefix_at_segment_boundary() {
        let mounts = [
            Mount::files("/", "/a"),
            Mount::files("/app/", "/b"),
            Mount::files("/app/x", "/c"),
        ];
        assert_eq!(
            pick(&mounts, "/index.html"),
            Some(("/", MountMatch::Inside))
        );
        assert_eq!(pick(&mounts, "/app/z"), Some(("/app", MountMatch::Inside)));
        assert_eq!(pick(&mounts, "/app"), Some(("/app", MountMatch::Bare)));
        assert_eq!(pick(&mounts, "/apple"), Some(("/", MountMatch::Inside)));
        assert_eq!(
            pick(&mounts, "/app/x/y"),
            Some(("/app/x", MountMatch::Inside))
        );
    }

    #[test]
    fn exact_match_only_matches_itself_and_wins_ties() {
        let mounts = [
            Mount::files("/api", "/a"),
            Mount::callback("/api", "p").exact_match(true),
        ];
        assert_eq!(
            select(&mounts, "/api", |m| m).map(|(i, _)| mounts[i].kind.clone()),
            Some(MountKind::Callback("p".into()))
        );
        assert_eq!(
            select(&mounts, "/api/x", |m| m).map(|(i, _)| mounts[i].kind.clone()),
            Some(MountKind::Files("/a".into()))
        );
        let only = [Mount::callback("/x", "p").exact_match(true)];
        assert!(pick(&only, "/x/y").is_none());
    }

    #[test]
    fn cache_control_values() {
        assert_eq!(CachePolicy::default().header_value(), "no-store");
        let c = CachePolicy {
            max_age: 60,
            reuse: true,
            revalidate: true,
            intermediaries: false,
            no_cache: false,
        };
        assert_eq!(c.header_value(), "private, max-age=60, must-revalidate");
        let c = CachePolicy {
            max_age: 5,
            reuse: true,
            revalidate: false,
            intermediaries: true,
            no_cache: true,
        };
        assert_eq!(c.header_value(), "public, max-age=5, no-cache");
    }
}
