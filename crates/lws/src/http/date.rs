//! The `date` header value, formatted once per second per thread.

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

thread_local! {
    static CACHE: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

/// Calls `f` with the current IMF-fixdate (e.g. `Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn with_http_date<R>(f: impl FnOnce(&str) -> R) -> R {
    let secs = unix_secs();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs || c.1.is_empty() {
            c.0 = secs;
            c.1 = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
        }
        f(&c.1)
    })
}

/// Whole seconds since the epoch. Every response asks, and only the second matters, so Linux reads the coarse
/// clock: the kernel's last tick, without the TSC read and scaling that `SystemTime::now()` costs.
#[cfg(target_os = "linux")]
fn unix_secs() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into `ts`, a valid timespec that outlives the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc == 0 && ts.tv_sec >= 0 {
        ts.tv_sec as u64
    } else {
        precise_unix_secs()
    }
}

#[cfg(not(target_os = "linux"))]
fn unix_secs() -> u64 {
    precise_unix_secs()
}

fn precise_unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_now_to_the_second() {
        let before = precise_unix_secs();
        let text = with_http_date(str::to_string);
        let after = precise_unix_secs();
        let shown = httpdate::parse_http_date(&text)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        // The coarse clock may trail the precise one by a tick (a few milliseconds), so allow one second.
        assert!(
            before.saturating_sub(1) <= shown && shown <= after,
            "{text}"
        );
    }
}
