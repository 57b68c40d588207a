//! The `date` header value, formatted once per second per thread.

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lws_proto::http1::HeaderBlock;

/// The current second's date, as text and as an HTTP/1 header line.
#[derive(Default)]
struct Dated {
    secs: u64,
    text: String,
    line: HeaderBlock,
}

thread_local! {
    static CACHE: RefCell<Dated> = RefCell::new(Dated::default());
}

/// Calls `f` with the current date, formatted at most once per second per thread.
fn with_dated<R>(f: impl FnOnce(&Dated) -> R) -> R {
    let secs = unix_secs();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.secs != secs || c.text.is_empty() {
            c.secs = secs;
            c.text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            c.line = HeaderBlock::new([("date", c.text.as_bytes())]);
        }
        f(&c)
    })
}

/// Calls `f` with the current IMF-fixdate (e.g. `Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn with_http_date<R>(f: impl FnOnce(&str) -> R) -> R {
    with_dated(|d| f(&d.text))
}

/// Calls `f` with the `date` header line of the current second, framed once per second.
pub(crate) fn with_date_line<R>(f: impl FnOnce(&HeaderBlock) -> R) -> R {
    with_dated(|d| f(&d.line))
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
