//! Finding the executable a request names under a CGI mount's origin, canonicalised so that neither `..`
//! nor a symlink can reach outside the origin.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::config::CgiMount;

/// The script a request runs, and how its URL splits (RFC 3875 `SCRIPT_NAME` and `PATH_INFO`).
#[derive(Debug)]
pub(crate) struct Script {
    /// The canonical path of the executable.
    pub(crate) path: PathBuf,
    /// The URL path that names the script (the mountpoint, plus the script's path for directory origins).
    pub(crate) script_name: String,
    /// The rest of the URL path, below the script.
    pub(crate) path_info: String,
}

/// Why no script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Nothing by that name (404).
    NotFound,
    /// Outside the origin, a hidden name, a directory, or not executable (403).
    Forbidden,
}

/// Resolves `below` (the canonical URL path under the mountpoint) against the mount's origin.
pub(crate) fn resolve(mount: &CgiMount, below: &str) -> Result<Script, Refusal> {
    let base = if mount.mountpoint == "/" {
        ""
    } else {
        mount.mountpoint.as_str()
    };
    if !mount.is_dir {
        return executable(Script {
            path: mount.origin.clone(),
            script_name: base.to_string(),
            path_info: below.to_string(),
        });
    }
    let mut at = mount.origin.clone();
    let mut rest = below;
    loop {
        let trimmed = rest.trim_start_matches('/');
        if trimmed.is_empty() {
            // A directory itself: CGI mounts list nothing.
            return Err(Refusal::Forbidden);
        }
        let (seg, after) = match trimmed.find('/') {
            Some(i) => (&trimmed[..i], &trimmed[i..]),
            None => (trimmed, ""),
        };
        // The request path is canonical already; refusing these again costs nothing and keeps this
        // function safe on its own. Hidden names (`.htpasswd`, `.git`) are never run.
        if seg.starts_with('.') || seg.contains('\0') || seg.contains('\\') {
            return Err(Refusal::Forbidden);
        }
        at.push(seg);
        let meta = std::fs::metadata(&at).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Refusal::NotFound,
            _ => Refusal::Forbidden,
        })?;
        if meta.is_dir() {
            rest = after;
            continue;
        }
        let canonical = std::fs::canonicalize(&at).map_err(|_| Refusal::NotFound)?;
        if !canonical.starts_with(&mount.origin) {
            return Err(Refusal::Forbidden);
        }
        let consumed = below.len() - after.len();
        return executable(Script {
            path: canonical,
            script_name: format!("{base}{}", &below[..consumed]),
            path_info: after.to_string(),
        });
    }
}

/// Only regular files with an execute bit run.
fn executable(s: Script) -> Result<Script, Refusal> {
    let meta = std::fs::metadata(&s.path).map_err(|_| Refusal::NotFound)?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(Refusal::Forbidden);
    }
    Ok(s)
}
