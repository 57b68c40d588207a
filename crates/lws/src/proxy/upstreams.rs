//! The origins of one proxy mount: which one takes the next request (round-robin or least connections)
//! and passive health (an origin that failed `max_fails` times in a row is skipped for `fail_timeout`).

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::origin::ProxyOrigin;
use crate::client::origin::{H2Mode, Origin};

/// The pool's key for an origin; `http2` asks for HTTP/2 (ALPN for TLS, prior knowledge otherwise).
fn pool_key(o: &ProxyOrigin, http2: bool) -> Origin {
    Origin {
        tls: o.tls,
        host: o.host.clone(),
        port: o.port,
        unix: o.unix.clone(),
        h2: match (http2, o.tls) {
            (false, _) => H2Mode::Off,
            (true, true) => H2Mode::Alpn,
            (true, false) => H2Mode::PriorKnowledge,
        },
        #[cfg(feature = "tls")]
        trust: Default::default(),
    }
}

/// How a mount with several origins spreads requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    /// Each origin in turn (the default).
    #[default]
    RoundRobin,
    /// The origin with the fewest requests in flight (ties: the first in order).
    LeastConnections,
}

/// One origin and what the proxy knows of it.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) origin: ProxyOrigin,
    /// The connection pool's keys for this origin: HTTP/1.1 only, and HTTP/2 allowed. Built once, so a
    /// request clones nothing to find its connection.
    keys: [Origin; 2],
    in_flight: AtomicUsize,
    fails: AtomicU32,
    down_until: Mutex<Option<Instant>>,
}

/// The origins of a mount.
#[derive(Debug)]
pub(crate) struct Upstreams {
    list: Vec<Upstream>,
    next: AtomicUsize,
    balance: Balance,
    max_fails: u32,
    fail_timeout: Duration,
}

/// A request in flight to upstream `index`; counts it for least-connections until dropped.
pub(crate) struct InFlight<'a> {
    up: &'a Upstream,
    pub(crate) index: usize,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.up.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Upstreams {
    pub(crate) fn new(
        origins: Vec<ProxyOrigin>,
        balance: Balance,
        max_fails: u32,
        fail_timeout: Duration,
    ) -> Upstreams {
        Upstreams {
            list: origins
                .into_iter()
                .map(|origin| Upstream {
                    keys: [pool_key(&origin, false), pool_key(&origin, true)],
                    origin,
                    in_flight: AtomicUsize::new(0),
                    fails: AtomicU32::new(0),
                    down_until: Mutex::new(None),
                })
                .collect(),
            next: AtomicUsize::new(0),
            balance,
            max_fails,
            fail_timeout,
        }
    }

    /// Origin `index` and its pool key (`http2`: the key that allows HTTP/2).
    pub(crate) fn get(&self, index: usize, http2: bool) -> (&ProxyOrigin, &Origin) {
        let up = &self.list[index];
        (&up.origin, &up.keys[usize::from(http2)])
    }

    fn is_up(&self, u: &Upstream, now: Instant) -> bool {
        let mut down = u.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match *down {
            Some(t) if now < t => false,
            Some(_) => {
                // The pause is over: the origin gets another chance (one more failure sends it back).
                *down = None;
                u.fails
                    .store(self.max_fails.saturating_sub(1), Ordering::Relaxed);
                true
            }
            None => true,
        }
    }

    /// Picks the origin for the next request, skipping `tried` ones and those paused by passive health;
    /// `None` when every origin was tried. When every untried origin is paused, the one whose pause ends
    /// first is tried anyway, as nginx does: a mount never answers for an origin without asking it (a
    /// single origin is never taken out of service).
    pub(crate) fn pick(&self, tried: &[usize]) -> Option<InFlight<'_>> {
        if let Some(up) = self.pick_up(tried) {
            return Some(up);
        }
        let index = (0..self.list.len())
            .filter(|i| !tried.contains(i))
            .min_by_key(|&i| {
                *self.list[i]
                    .down_until
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            })?;
        let up = &self.list[index];
        up.in_flight.fetch_add(1, Ordering::Relaxed);
        Some(InFlight { up, index })
    }

    /// [`Upstreams::pick`] among the origins not paused.
    fn pick_up(&self, tried: &[usize]) -> Option<InFlight<'_>> {
        let now = Instant::now();
        let n = self.list.len();
        let candidates = (0..n).filter(|i| !tried.contains(i));
        let index = match self.balance {
            Balance::RoundRobin => {
                let start = self.next.fetch_add(1, Ordering::Relaxed);
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|i| !tried.contains(i))
                    .find(|&i| self.is_up(&self.list[i], now))?
            }
            Balance::LeastConnections => candidates
                .filter(|&i| self.is_up(&self.list[i], now))
                .min_by_key(|&i| self.list[i].in_flight.load(Ordering::Relaxed))?,
        };
        let up = &self.list[index];
        up.in_flight.fetch_add(1, Ordering::Relaxed);
        Some(InFlight { up, index })
    }

    /// The origin answered: its failure count starts over.
    pub(crate) fn succeeded(&self, index: usize) {
        self.list[index].fails.store(0, Ordering::Relaxed);
    }

    /// The origin could not be reached or failed to answer; paused once it failed `max_fails` times.
    pub(crate) fn failed(&self, index: usize) {
        let up = &self.list[index];
        let fails = up.fails.fetch_add(1, Ordering::Relaxed) + 1;
        if self.max_fails > 0 && fails >= self.max_fails {
            let mut down = up.down_until.lock().unwrap_or_else(|e| e.into_inner());
            *down = Some(Instant::now() + self.fail_timeout);
            tracing::warn!(origin = %up.origin, fails, "proxy origin paused for {:?}", self.fail_timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ups(n: usize, balance: Balance) -> Upstreams {
        let origins = (0..n)
            .map(|i| ProxyOrigin::parse(&format!("http://127.0.0.1:{}/", 8000 + i)).unwrap())
            .collect();
        Upstreams::new(origins, balance, 2, Duration::from_secs(60))
    }

    #[test]
    fn round_robin_takes_turns_and_skips_paused_origins() {
        let u = ups(3, Balance::RoundRobin);
        let order: Vec<usize> = (0..4).map(|_| u.pick(&[]).unwrap().index).collect();
        assert_eq!(order, [0, 1, 2, 0]);
        u.failed(1);
        assert_eq!(u.pick(&[]).unwrap().index, 1, "one failure does not pause");
        u.failed(1);
        let order: Vec<usize> = (0..4).map(|_| u.pick(&[]).unwrap().index).collect();
        assert!(!order.contains(&1), "{order:?}");
        assert_eq!(
            u.pick(&[0, 2]).map(|f| f.index),
            Some(1),
            "a paused origin is still asked when it is the only one left"
        );
        assert_eq!(u.pick(&[0, 1, 2]).map(|f| f.index), None);
    }

    #[test]
    fn least_connections_prefers_the_idle_origin() {
        let u = ups(2, Balance::LeastConnections);
        let busy = u.pick(&[]).unwrap();
        assert_eq!(busy.index, 0);
        assert_eq!(u.pick(&[]).unwrap().index, 1);
        drop(busy);
        assert_eq!(u.pick(&[]).unwrap().index, 0);
    }

    #[test]
    fn a_single_origin_is_never_out_of_service() {
        let u = ups(1, Balance::RoundRobin);
        for _ in 0..5 {
            u.failed(0);
        }
        assert_eq!(u.pick(&[]).map(|f| f.index), Some(0));
    }

    #[test]
    fn success_resets_the_count() {
        let u = ups(1, Balance::RoundRobin);
        u.failed(0);
        u.succeeded(0);
        u.failed(0);
        assert!(u.pick(&[]).is_some());
    }
}
