//! Signalling a CGI's process group: the script is spawned as the leader of a new group (`process_group(0)`),
//! so one `kill(-pgid, sig)` reaches everything it started that did not leave the group on purpose.

/// SIGTERM, asking the group to end.
pub(crate) const TERM: libc::c_int = libc::SIGTERM;
/// SIGKILL, which cannot be ignored.
pub(crate) const KILL: libc::c_int = libc::SIGKILL;

/// Sends `sig` to every process in the group `pgid`.
///
/// Callers signal only while the group's leader is not yet reaped (or members still hold its output
/// open), so the id cannot have been reused by an unrelated group: the kernel does not hand out a pid that
/// is still a live process group's id.
pub(crate) fn signal(pgid: u32, sig: libc::c_int) {
    // 0 and 1 would mean "our own group" and "every process": never a CGI's group.
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a negative pid addresses the
    // process group, and an already empty group only yields ESRCH, which is ignored.
    unsafe {
        libc::kill(-pgid, sig);
    }
}
