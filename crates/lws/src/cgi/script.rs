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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgi::Cgi;
    use std::os::unix::fs::PermissionsExt;

    fn exe(path: &std::path::Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_directory_origin_splits_script_and_path_info() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        exe(&dir.path().join("sub/x.sh"));
        let m = CgiMount::new(Cgi::new(dir.path()), "/mnt").unwrap();
        let s = resolve(&m, "/sub/x.sh/a/b").unwrap();
        assert_eq!(s.script_name, "/mnt/sub/x.sh");
        assert_eq!(s.path_info, "/a/b");
        assert!(s.path.ends_with("sub/x.sh"));
        assert_eq!(resolve(&m, "/sub").unwrap_err(), Refusal::Forbidden);
        assert_eq!(resolve(&m, "/nope.sh").unwrap_err(), Refusal::NotFound);
        assert_eq!(resolve(&m, "/sub/x.sh/..").unwrap().path_info, "/..");
        assert_eq!(resolve(&m, "/../x").unwrap_err(), Refusal::Forbidden);
    }

    #[test]
    fn a_script_origin_at_the_root_has_an_empty_script_name() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.sh");
        exe(&one);
        let m = CgiMount::new(Cgi::new(&one), "/").unwrap();
        let s = resolve(&m, "/x").unwrap();
        assert_eq!((s.script_name.as_str(), s.path_info.as_str()), ("", "/x"));
    }
}
