//! Change notification for the file cache: one inotify instance per service thread watches every cached
//! file and the directories on its path below the origin, so that a hit needs no `statx` to be current.
//!
//! Any event drops the whole watcher (closing the descriptor removes every watch at once) and the cache with
//! it: static content rarely changes, and starting over is simpler and safer than mapping events to entries.
//! The kernel queues an event before the write or rename that caused it returns, and the event loop learns
//! of it in the same `epoll_wait` as of any request sent after that change, so such a request never sees
//! the old version. A busy runtime still polls its reactor between tasks (tokio's `event_interval`); on top
//! of that, the descriptor is read directly every [`DIRECT_CHECK`] lookups, which bounds how long a change
//! can go unseen whatever the runtime does.

use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use tokio::io::unix::AsyncFd;

/// Lookups between two direct reads of the descriptor.
const DIRECT_CHECK: u32 = 256;

/// Changes to a cached file itself.
fn file_mask() -> WatchFlags {
    WatchFlags::MODIFY | WatchFlags::ATTRIB | WatchFlags::DELETE_SELF | WatchFlags::MOVE_SELF
}

/// Changes to the names in a directory on a cached file's path (a file or directory replaced, renamed,
/// removed or created). Modifications of other files in it are not watched.
fn dir_mask() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
}

/// One thread's inotify instance, registered with the thread's tokio reactor.
pub(crate) struct Watcher {
    fd: AsyncFd<OwnedFd>,
    /// Directories already watched by this instance.
    dirs: HashSet<PathBuf>,
    /// Lookups until the next direct read.
    until_direct: u32,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("dirs", &self.dirs.len())
            .finish()
    }
}

impl Watcher {
    /// A new instance, or `None` where inotify or a tokio reactor is not available (the cache then checks
    /// files with `statx`).
    pub(crate) fn new() -> Option<Watcher> {
        tokio::runtime::Handle::try_current().ok()?;
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
        // SAFETY: the `OwnedFd` owns the descriptor for as long as the `AsyncFd` holds it, and its
        // `as_raw_fd` always returns that same descriptor.
        let fd =
            unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()?;
        Some(Watcher {
            fd,
            dirs: HashSet::new(),
            until_direct: DIRECT_CHECK,
        })
    }

    /// Watches `file` and every directory from `root` down to the file's own; false when a watch could not
    /// be added (the inotify watch limit, say), in which case the file must be checked another way.
    pub(crate) fn watch(&mut self, root: &Path, file: &Path) -> bool {
        let Ok(below) = file.strip_prefix(root) else {
            return false;
        };
        let mut dir = root.to_path_buf();
        let mut ok = self.watch_dir(&dir);
        if let Some(parent) = below.parent() {
            for part in parent.components() {
                dir.push(part);
                ok &= self.watch_dir(&dir);
            }
        }
        ok && inotify::add_watch(self.fd.get_ref(), file, file_mask()).is_ok()
    }

    fn watch_dir(&mut self, dir: &Path) -> bool {
        if self.dirs.contains(dir) {
            return true;
        }
        let ok = inotify::add_watch(self.fd.get_ref(), dir, dir_mask()).is_ok();
        if ok {
            self.dirs.insert(dir.to_path_buf());
        }
        ok
    }

    /// Whether nothing watched has changed: true until the first event (or a failure to tell).
    pub(crate) fn unchanged(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match self.fd.poll_read_ready(&mut cx) {
            // The reactor saw an event (or this reactor is gone): something changed.
            Poll::Ready(_) => return false,
            Poll::Pending => {}
        }
        self.until_direct -= 1;
        if self.until_direct > 0 {
            return true;
        }
        self.until_direct = DIRECT_CHECK;
        let mut buf = [0u8; 256];
        // Nothing to read is the one answer that means "unchanged"; an event or an error both do not.
        matches!(
            rustix::io::read(self.fd.get_ref(), &mut buf),
            Err(e) if e == rustix::io::Errno::AGAIN
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_below_the_root_is_seen_and_others_are_not() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("sub")).unwrap();
        let file = root.path().join("sub/a.txt");
        std::fs::write(&file, "one").unwrap();
        std::fs::write(root.path().join("sub/other.log"), "x").unwrap();
        let mut w = Watcher::new().expect("inotify on linux");
        assert!(w.watch(root.path(), &file));
        assert!(w.unchanged());
        // Writing another file in a watched directory is not a change of the cached file's path.
        std::fs::write(root.path().join("sub/other.log"), "more").unwrap();
        w.until_direct = 1;
        assert!(w.unchanged(), "other files' content is not watched");
        std::fs::write(&file, "two").unwrap();
        w.until_direct = 1;
        assert!(!w.unchanged(), "the cached file's write is seen");
    }

    #[tokio::test]
    async fn renaming_a_directory_on_the_path_is_seen() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        let file = root.path().join("a/b/c.txt");
        std::fs::write(&file, "one").unwrap();
        let mut w = Watcher::new().unwrap();
        assert!(w.watch(root.path(), &file));
        std::fs::rename(root.path().join("a"), root.path().join("z")).unwrap();
        w.until_direct = 1;
        assert!(!w.unchanged());
    }

    #[tokio::test]
    async fn the_event_loop_reports_a_change_without_a_direct_read() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a.txt");
        std::fs::write(&file, "one").unwrap();
        let mut w = Watcher::new().unwrap();
        assert!(w.watch(root.path(), &file));
        std::fs::remove_file(&file).unwrap();
        // A yield lets the runtime poll its reactor, which records the inotify descriptor as readable.
        tokio::task::yield_now().await;
        w.until_direct = DIRECT_CHECK;
        assert!(!w.unchanged());
    }

    #[test]
    fn without_a_runtime_there_is_no_watcher() {
        assert!(Watcher::new().is_none());
    }
}
