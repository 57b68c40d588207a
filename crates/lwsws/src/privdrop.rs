//! Dropping root privileges after the listeners are bound, from the config's `uid`/`gid`/`username`/
//! `groupname`.
//!
//! The order is the one that cannot leave root behind: supplementary groups, then the gid, then the uid,
//! then a check that root cannot be regained. On Linux glibc applies set*id calls to every thread of the
//! process, so this is safe to call after a runtime has started threads.
// The binary declares this module privately; `pub` marks the module's API.
#![allow(unreachable_pub, dead_code)]

use std::ffi::CString;
use std::fmt;
use std::io;

/// Who to become after binding: from global uid/gid/username/groupname.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Numeric user id; must agree with `username` when both are given.
    pub uid: Option<u32>,
    /// Numeric group id; must agree with `groupname` when both are given.
    pub gid: Option<u32>,
    /// User name, resolved with the system user database; also selects the supplementary groups.
    pub username: Option<String>,
    /// Group name, resolved with the system group database.
    pub groupname: Option<String>,
}

impl Identity {
    /// True when nothing is configured, so there is nothing to drop to.
    pub fn is_empty(&self) -> bool {
        self.uid.is_none()
            && self.gid.is_none()
            && self.username.is_none()
            && self.groupname.is_none()
    }
}

/// Why dropping privileges failed; each variant names the step.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrivDropError {
    /// A user or group name contains a NUL byte.
    InvalidName(String),
    /// The user name is not in the user database.
    UnknownUser(String),
    /// The group name is not in the group database.
    UnknownGroup(String),
    /// The user or group database lookup itself failed.
    Lookup {
        /// The name or id being looked up.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// A numeric id and a name were both given and disagree.
    Conflict(String),
    /// Only a uid was given, it has no user database entry, and no gid was configured.
    NoGroup(u32),
    /// Setting the supplementary groups (initgroups or setgroups) failed.
    SetGroups(io::Error),
    /// setgid failed.
    SetGid {
        /// The target group id.
        gid: u32,
        /// The OS error.
        source: io::Error,
    },
    /// setuid failed.
    SetUid {
        /// The target user id.
        uid: u32,
        /// The OS error.
        source: io::Error,
    },
    /// After the drop the process ids are not the requested ones.
    Mismatch(String),
    /// After the drop `setuid(0)` still succeeded.
    StillPrivileged,
}

impl fmt::Display for PrivDropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivDropError::InvalidName(n) => write!(f, "invalid user or group name {n:?}"),
            PrivDropError::UnknownUser(n) => write!(f, "unknown user {n:?}"),
            PrivDropError::UnknownGroup(n) => write!(f, "unknown group {n:?}"),
            PrivDropError::Lookup { what, source } => {
                write!(f, "looking up {what} failed: {source}")
            }
            PrivDropError::Conflict(m) => write!(f, "conflicting identity: {m}"),
            PrivDropError::NoGroup(uid) => write!(
                f,
                "uid {uid} has no user database entry; set gid or groupname as well"
            ),
            PrivDropError::SetGroups(e) => write!(f, "setting supplementary groups failed: {e}"),
            PrivDropError::SetGid { gid, source } => write!(f, "setgid({gid}) failed: {source}"),
            PrivDropError::SetUid { uid, source } => write!(f, "setuid({uid}) failed: {source}"),
            PrivDropError::Mismatch(m) => write!(f, "privilege drop did not take effect: {m}"),
            PrivDropError::StillPrivileged => {
                write!(f, "privilege drop failed: setuid(0) still succeeds")
            }
        }
    }
}

impl std::error::Error for PrivDropError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PrivDropError::Lookup { source, .. }
            | PrivDropError::SetGid { source, .. }
            | PrivDropError::SetUid { source, .. }
            | PrivDropError::SetGroups(source) => Some(source),
            _ => None,
        }
    }
}

/// Drop privileges: resolve names with getpwnam_r/getgrnam_r, then setgroups (to the user's supplementary
/// groups via initgroups when a username is known, else to just gid), setgid, setuid, in that order; verify
/// afterwards that setuid(0) fails when we dropped from root. Returns Ok(()) without doing anything if nothing
/// is configured. Errors say which step failed with the OS error.
pub fn drop_privileges(id: &Identity) -> Result<(), PrivDropError> {
    if id.is_empty() {
        return Ok(());
    }
    let target = resolve(id)?;
    let (ruid, euid, rgid, egid) = current_ids();
    if euid != 0 {
        // Without root nothing can change; succeed if we already are the requested identity.
        let uid_ok = target.uid.is_none_or(|u| u == ruid && u == euid);
        if uid_ok && target.gid == rgid && target.gid == egid {
            return Ok(());
        }
    }

    match &target.user {
        // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
        Some(name) => check(unsafe { libc::initgroups(name.as_ptr(), target.gid) }),
        None => {
            let groups = [target.gid];
            // SAFETY: the pointer and length describe the live one-element array `groups`.
            check(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })
        }
    }
    .map_err(PrivDropError::SetGroups)?;
    // SAFETY: setgid has no memory-safety preconditions.
    check(unsafe { libc::setgid(target.gid) }).map_err(|source| PrivDropError::SetGid {
        gid: target.gid,
        source,
    })?;
    if let Some(uid) = target.uid {
        // SAFETY: setuid has no memory-safety preconditions.
        check(unsafe { libc::setuid(uid) })
            .map_err(|source| PrivDropError::SetUid { uid, source })?;
    }

    let (ruid, euid, rgid, egid) = current_ids();
    if rgid != target.gid || egid != target.gid {
        return Err(PrivDropError::Mismatch(format!(
            "gid {rgid}/{egid}, wanted {}",
            target.gid
        )));
    }
    if let Some(uid) = target.uid {
        if ruid != uid || euid != uid {
            return Err(PrivDropError::Mismatch(format!(
                "uid {ruid}/{euid}, wanted {uid}"
            )));
        }
        if uid != 0 {
            // SAFETY: setuid has no memory-safety preconditions; success here is the failure we test for.
            if unsafe { libc::setuid(0) } == 0 {
                return Err(PrivDropError::StillPrivileged);
            }
        }
    }
    Ok(())
}

/// Look up a user by name: `Ok((uid, primary gid))`, or [`PrivDropError::UnknownUser`].
pub fn user_by_name(name: &str) -> Result<(u32, u32), PrivDropError> {
    let c = cstring(name)?;
    passwd_lookup(name, |pwd, buf, len, result| {
        // SAFETY: `c` is NUL-terminated; `pwd`, `buf` (of `len` bytes) and `result` are valid for writes.
        unsafe { libc::getpwnam_r(c.as_ptr(), pwd, buf, len, result) }
    })?
    .map(|(uid, gid, _)| (uid, gid))
    .ok_or_else(|| PrivDropError::UnknownUser(name.to_owned()))
}

/// Look up a group by name: `Ok(gid)`, or [`PrivDropError::UnknownGroup`].
pub fn group_by_name(name: &str) -> Result<u32, PrivDropError> {
    let c = cstring(name)?;
    let mut buf = vec![0u8; initial_buf_len(libc::_SC_GETGR_R_SIZE_MAX)];
    loop {
        // SAFETY: `group` is a plain C struct of integers and pointers, for which all-zero is valid.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: `c` is NUL-terminated; `grp`, `buf` (of `buf.len()` bytes) and `result` are valid for
        // writes for the duration of the call.
        let rc = unsafe {
            libc::getgrnam_r(
                c.as_ptr(),
                &mut grp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        match rc {
            libc::ERANGE if buf.len() < MAX_BUF => buf.resize(buf.len() * 2, 0),
            0 if !result.is_null() => return Ok(grp.gr_gid),
            0 | libc::ENOENT | libc::ESRCH => {
                return Err(PrivDropError::UnknownGroup(name.to_owned()))
            }
            e => {
                return Err(PrivDropError::Lookup {
                    what: format!("group {name:?}"),
                    source: io::Error::from_raw_os_error(e),
                })
            }
        }
    }
}

/// Largest buffer offered to the *_r lookups; entries bigger than this are treated as errors.
const MAX_BUF: usize = 1 << 20;

/// The resolved target: optional uid (None = keep), gid, and the user name for initgroups when known.
struct Target {
    uid: Option<u32>,
    gid: u32,
    user: Option<CString>,
}

fn resolve(id: &Identity) -> Result<Target, PrivDropError> {
    let mut uid = id.uid;
    let mut user_gid = None;
    let mut user = None;
    if let Some(name) = &id.username {
        let (u, g) = user_by_name(name)?;
        if let Some(want) = id.uid.filter(|&want| want != u) {
            return Err(PrivDropError::Conflict(format!(
                "uid {want} but user {name:?} is uid {u}"
            )));
        }
        uid = Some(u);
        user_gid = Some(g);
        user = Some(cstring(name)?);
    } else if let Some(u) = id.uid {
        if let Some((name, g)) = user_by_uid(u)? {
            user_gid = Some(g);
            user = Some(name);
        }
    }

    let mut gid = id.gid;
    if let Some(name) = &id.groupname {
        let g = group_by_name(name)?;
        if let Some(want) = id.gid.filter(|&want| want != g) {
            return Err(PrivDropError::Conflict(format!(
                "gid {want} but group {name:?} is gid {g}"
            )));
        }
        gid = Some(g);
    }
    let gid = match (gid, user_gid, uid) {
        (Some(g), _, _) | (None, Some(g), _) => g,
        // Changing the uid but keeping root's groups would leave group-root access behind.
        (None, None, Some(u)) => return Err(PrivDropError::NoGroup(u)),
        // is_empty() was checked, and a uid or username always yields Some(uid).
        (None, None, None) => return Err(PrivDropError::Conflict("no identity configured".into())),
    };
    Ok(Target { uid, gid, user })
}

/// Look up a user by id: its name (for initgroups) and primary gid, or None if it has no entry.
fn user_by_uid(uid: u32) -> Result<Option<(CString, u32)>, PrivDropError> {
    let found = passwd_lookup(&format!("uid {uid}"), |pwd, buf, len, result| {
        // SAFETY: `pwd`, `buf` (of `len` bytes) and `result` are valid for writes.
        unsafe { libc::getpwuid_r(uid, pwd, buf, len, result) }
    })?;
    Ok(found.map(|(_, gid, name)| (name, gid)))
}

/// Run a getpw*_r call with a growing buffer; `Ok(Some((uid, gid, name)))` when found.
fn passwd_lookup(
    what: &str,
    mut call: impl FnMut(
        *mut libc::passwd,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::passwd,
    ) -> libc::c_int,
) -> Result<Option<(u32, u32, CString)>, PrivDropError> {
    let mut buf = vec![0u8; initial_buf_len(libc::_SC_GETPW_R_SIZE_MAX)];
    loop {
        // SAFETY: `passwd` is a plain C struct of integers and pointers, for which all-zero is valid.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result);
        match rc {
            libc::ERANGE if buf.len() < MAX_BUF => buf.resize(buf.len() * 2, 0),
            0 if !result.is_null() => {
                // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`, still alive.
                let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }.to_owned();
                return Ok(Some((pwd.pw_uid, pwd.pw_gid, name)));
            }
            0 | libc::ENOENT | libc::ESRCH => return Ok(None),
            e => {
                return Err(PrivDropError::Lookup {
                    what: what.to_owned(),
                    source: io::Error::from_raw_os_error(e),
                })
            }
        }
    }
}

fn initial_buf_len(name: libc::c_int) -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(name) };
    if n > 0 {
        (n as usize).clamp(1024, MAX_BUF)
    } else {
        16 * 1024
    }
}

fn cstring(name: &str) -> Result<CString, PrivDropError> {
    CString::new(name).map_err(|_| PrivDropError::InvalidName(name.to_owned()))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// (real uid, effective uid, real gid, effective gid).
fn current_ids() -> (u32, u32, u32, u32) {
    // SAFETY: these getters have no preconditions and cannot fail.
    unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Serialises user-database lookups and forks so a child never inherits a lookup lock held by another
    /// test thread.
    static LOCK: Mutex<()> = Mutex::new(());

    fn lock() -> std::sync::MutexGuard<'static, ()> {
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_root() -> bool {
        current_ids().1 == 0
    }

    #[test]
    fn resolves_names() {
        let _g = lock();
        assert_eq!(user_by_name("root").unwrap(), (0, 0));
        let (uid, _) = user_by_name("nobody").unwrap();
        assert_eq!(uid, 65534);
        assert_eq!(group_by_name("root").unwrap(), 0);
        assert_eq!(group_by_name("nogroup").unwrap(), 65534);
        assert!(matches!(
            user_by_name("no-such-user-lwsws"),
            Err(PrivDropError::UnknownUser(_))
        ));
        assert!(matches!(
            group_by_name("no-such-group-lwsws"),
            Err(PrivDropError::UnknownGroup(_))
        ));
        assert!(matches!(
            user_by_name("a\0b"),
            Err(PrivDropError::InvalidName(_))
        ));
        let (name, gid) = user_by_uid(0).unwrap().unwrap();
        assert_eq!((name.to_str().unwrap(), gid), ("root", 0));
    }

    #[test]
    fn nothing_configured_is_a_no_op() {
        let before = current_ids();
        drop_privileges(&Identity::default()).unwrap();
        assert_eq!(current_ids(), before);
    }

    #[test]
    fn errors_before_any_change() {
        let _g = lock();
        let before = current_ids();
        let e = drop_privileges(&Identity {
            username: Some("no-such-user-lwsws".into()),
            ..Identity::default()
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "unknown user \"no-such-user-lwsws\"");
        let e = drop_privileges(&Identity {
            uid: Some(1),
            username: Some("root".into()),
            ..Identity::default()
        })
        .unwrap_err();
        assert!(matches!(e, PrivDropError::Conflict(_)), "{e}");
        let e = drop_privileges(&Identity {
            gid: Some(5),
            groupname: Some("root".into()),
            ..Identity::default()
        })
        .unwrap_err();
        assert!(matches!(e, PrivDropError::Conflict(_)), "{e}");
        let e = drop_privileges(&Identity {
            uid: Some(4_000_000_000),
            ..Identity::default()
        })
        .unwrap_err();
        assert!(matches!(e, PrivDropError::NoGroup(_)), "{e}");
        assert_eq!(current_ids(), before);
    }

    /// Fork, run `drop` in the child, and return the child's exit code (0 = all checks passed).
    fn in_child(drop: fn() -> i32) -> i32 {
        let _g = lock();
        // SAFETY: the child only runs `drop` (which allocates and uses the user database; no other test thread
        // can hold those locks because of `LOCK`) and then leaves with `_exit`, never returning to the harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", io::Error::last_os_error());
        if pid == 0 {
            let code = std::panic::catch_unwind(drop).unwrap_or(99);
            // SAFETY: `_exit` ends the child immediately without running the parent's atexit handlers.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: `pid` is our child and `status` is valid for writes.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(r, pid);
        assert!(
            libc::WIFEXITED(status),
            "child did not exit normally: {status}"
        );
        libc::WEXITSTATUS(status)
    }

    /// Checks shared by the fork tests: we are nobody:nogroup, hold no root group, and cannot get root back.
    fn verify_nobody() -> i32 {
        let (ruid, euid, rgid, egid) = current_ids();
        if (ruid, euid) != (65534, 65534) {
            return 2;
        }
        if (rgid, egid) != (65534, 65534) {
            return 3;
        }
        let mut groups = [0 as libc::gid_t; 64];
        // SAFETY: the pointer and length describe the live array `groups`.
        let n = unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) };
        if n < 0 || groups[..n as usize].contains(&0) {
            return 4;
        }
        // SAFETY: setuid/setgid have no memory-safety preconditions.
        if unsafe { libc::setuid(0) } == 0 || unsafe { libc::setgid(0) } == 0 {
            return 5;
        }
        0
    }

    #[test]
    fn drop_to_nobody_by_name_in_child() {
        if !is_root() {
            eprintln!("not root: skipping the privilege drop test");
            return;
        }
        let code = in_child(|| {
            let id = Identity {
                username: Some("nobody".into()),
                groupname: Some("nogroup".into()),
                ..Identity::default()
            };
            if drop_privileges(&id).is_err() {
                return 1;
            }
            verify_nobody()
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn drop_to_nobody_by_uid_in_child() {
        if !is_root() {
            eprintln!("not root: skipping the privilege drop test");
            return;
        }
        // Only a uid: the gid comes from the user's passwd entry, groups from initgroups.
        let code = in_child(|| {
            let id = Identity {
                uid: Some(65534),
                ..Identity::default()
            };
            if drop_privileges(&id).is_err() {
                return 1;
            }
            verify_nobody()
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn drop_by_gid_only_in_child() {
        if !is_root() {
            eprintln!("not root: skipping the privilege drop test");
            return;
        }
        let code = in_child(|| {
            let id = Identity {
                gid: Some(65534),
                ..Identity::default()
            };
            if drop_privileges(&id).is_err() {
                return 1;
            }
            let (_, euid, rgid, egid) = current_ids();
            let mut groups = [0 as libc::gid_t; 8];
            // SAFETY: the pointer and length describe the live array `groups`.
            let n = unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) };
            if euid != 0 || (rgid, egid) != (65534, 65534) || n != 1 || groups[0] != 65534 {
                return 2;
            }
            0
        });
        assert_eq!(code, 0);
    }
}
