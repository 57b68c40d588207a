//! Counting frames that cost us work without doing anything useful for the peer (PING and SETTINGS floods,
//! rapid reset, empty frames), so an abusive peer gets GOAWAY ENHANCE_YOUR_CALM instead of our CPU.

use std::time::{Duration, Instant};

/// At most `limit` events per `window`; the window restarts at the first event after it ends.
#[derive(Debug, Clone)]
pub(crate) struct FloodMeter {
    limit: u32,
    window: Duration,
    count: u32,
    since: Option<Instant>,
}

impl FloodMeter {
    pub(crate) fn new(limit: u32, window: Duration) -> FloodMeter {
        FloodMeter {
            limit,
            window,
            count: 0,
            since: None,
        }
    }

    /// Records one event; true when the limit is now exceeded.
    pub(crate) fn hit(&mut self, now: Instant) -> bool {
        match self.since {
            Some(s) if now.saturating_duration_since(s) < self.window => self.count += 1,
            _ => {
                self.since = Some(now);
                self.count = 1;
            }
        }
        self.count > self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_per_window() {
        let t0 = Instant::now();
        let mut m = FloodMeter::new(3, Duration::from_secs(1));
        assert!(!m.hit(t0));
        assert!(!m.hit(t0));
        assert!(!m.hit(t0));
        assert!(m.hit(t0 + Duration::from_millis(500)));
        // A new window starts fresh.
        assert!(!m.hit(t0 + Duration::from_secs(2)));
    }
}
