//! Opening a file by a path relative to a directory such that no resolution step (`..`, absolute or
//! relative symlinks) may leave that directory: the guarantee file mounts give.
//!
//! On Linux this is one `openat2(RESOLVE_BENEATH)` system call, checked by the kernel with no window for a
//! symlink swapped after the check. Elsewhere, or where the kernel lacks `openat2` (before 5.6, or filtered
//! by seccomp), the path is opened and then resolved with `realpath` and compared with the directory.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `rel` (relative, no leading `/`) below `dir` for reading, non-blocking so that a FIFO cannot stall
/// the caller. A path that resolves outside `dir` fails with `PermissionDenied`.
///
/// `dir` must be the open directory whose canonical path is `dir_path`.
pub(crate) fn open_beneath(dir: &File, dir_path: &Path, rel: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    if let Some(result) = linux::openat2_beneath(dir, rel) {
        return result;
    }
    open_then_check(dir_path, rel)
}

/// The portable way: open, then make sure the real path is inside the directory.
fn open_then_check(dir_path: &Path, rel: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let full = dir_path.join(rel);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&full)?;
    let real = std::fs::canonicalize(&full)?;
    if real.starts_with(dir_path) {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "path resolves outside the mount origin",
        ))
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// `struct open_how` of linux/openat2.h (version 0, 24 bytes).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }

    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_BENEATH: u64 = 0x08;

    /// Cleared once the kernel says it has no usable `openat2`, so the fallback is taken directly after.
    static AVAILABLE: AtomicBool = AtomicBool::new(true);

    /// `None` when `openat2` cannot be used here; otherwise its result.
    pub(super) fn openat2_beneath(dir: &File, rel: &Path) -> Option<io::Result<File>> {
        if !AVAILABLE.load(Ordering::Relaxed) {
            return None;
        }
        let Ok(path) = CString::new(rel.as_os_str().as_bytes()) else {
            return Some(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "NUL in path",
            )));
        };
        let how = OpenHow {
            flags: (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64,
            mode: 0,
            resolve: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        // SAFETY: `path` is a NUL-terminated string and `how` a fully initialised `open_how` that both outlive
        // the call; the size passed is exactly that of the struct; `dir` is an open descriptor we borrow.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd >= 0 {
            // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
            return Some(Ok(unsafe { File::from_raw_fd(fd as i32) }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::E2BIG) => {
                AVAILABLE.store(false, Ordering::Relaxed);
                None
            }
            Some(libc::EXDEV) | Some(libc::ELOOP) => Some(Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "path resolves outside the mount origin",
            ))),
            _ => Some(Err(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// Both implementations must agree on every case: inside, missing, and every way out.
    #[test]
    fn openat2_and_fallback_agree() {
        let top = tempfile::tempdir().unwrap();
        let origin = top.path().join("origin");
        std::fs::create_dir_all(origin.join("sub")).unwrap();
        std::fs::write(origin.join("sub/in.txt"), "inside").unwrap();
        std::fs::write(top.path().join("secret.txt"), "secret").unwrap();
        symlink("sub/in.txt", origin.join("rel-in")).unwrap();
        symlink("../secret.txt", origin.join("rel-out")).unwrap();
        symlink(top.path().join("secret.txt"), origin.join("abs-out")).unwrap();
        symlink("/etc/passwd", origin.join("passwd")).unwrap();
        symlink(top.path(), origin.join("dir-out")).unwrap();
        let origin = std::fs::canonicalize(&origin).unwrap();
        let dir = File::open(&origin).unwrap();
        let cases: &[(&str, Option<&str>)] = &[
            ("sub/in.txt", Some("inside")),
            ("rel-in", Some("inside")),
            ("rel-out", None),
            ("abs-out", None),
            ("passwd", None),
            ("dir-out/secret.txt", None),
            ("sub/../../secret.txt", None),
            ("missing.txt", None),
        ];
        for (rel, want) in cases {
            let read = |r: io::Result<File>| {
                r.ok().map(|mut f| {
                    let mut s = String::new();
                    f.read_to_string(&mut s).unwrap();
                    s
                })
            };
            let got = read(open_beneath(&dir, &origin, Path::new(rel)));
            let fallback = read(open_then_check(&origin, Path::new(rel)));
            assert_eq!(got.as_deref(), *want, "{rel}");
            assert_eq!(fallback.as_deref(), *want, "{rel} (fallback)");
        }
        let denied = open_beneath(&dir, &origin, Path::new("rel-out")).unwrap_err();
        assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
    }
}
