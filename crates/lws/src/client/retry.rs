//! Retry and backoff, as libwebsockets' `lws_retry_bo_t` / `lws_retry_get_delay_ms()`: a table of delays
//! (the last entry reused past its end), additive random jitter, and a number of failures concealed from the
//! user before one is reported. Like libwebsockets, nothing reconnects by itself: [`connect_with_retry`] is
//! a convenience for the common "connect, retrying quietly for a while" case.

use std::time::Duration;

use ring::rand::SecureRandom;

use super::builder::WsClientBuilder;
use super::error::ClientError;
use super::socket::WebSocket;

/// libwebsockets' jitter when no policy says otherwise: 30 %.
pub const DEFAULT_JITTER_PERCENT: u8 = 30;

/// The base delay when a policy's table is empty (libwebsockets' delay without a policy): 3 s.
const NO_TABLE_DELAY_MS: u32 = 3000;

/// When to retry a failed connection, and whether to tell the user about each failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before retry number `n` (counting from 0) is `retry_ms_table[n]`, or the last entry once `n`
    /// is past the end; an empty table means 3000 ms.
    pub retry_ms_table: Vec<u32>,
    /// How many consecutive failures are concealed (retried without being reported) before one is reported.
    pub conceal_count: u16,
    /// Random extra delay, up to this percentage of the table's delay, so that many clients that lost the same
    /// server do not come back in lockstep.
    pub jitter_percent: u8,
}

impl Default for RetryPolicy {
    /// lwsws's policy: {1, 2, 5, 10, 30} s, two failures concealed, 25 % jitter.
    fn default() -> Self {
        RetryPolicy {
            retry_ms_table: vec![1000, 2000, 5000, 10_000, 30_000],
            conceal_count: 2,
            jitter_percent: 25,
        }
    }
}

impl RetryPolicy {
    /// A policy with this delay table, `conceal_count` concealed failures and the default 30 % jitter.
    pub fn new(retry_ms_table: Vec<u32>, conceal_count: u16) -> Self {
        RetryPolicy {
            retry_ms_table,
            conceal_count,
            jitter_percent: DEFAULT_JITTER_PERCENT,
        }
    }

    /// The delay before retrying after failure number `attempt` (0 for the first failure), and whether that
    /// failure is still to be concealed. Deterministic given `rng`, of which the low 16 bits scale the jitter
    /// (libwebsockets' formula): the delay lies in `[base, base + base * jitter_percent / 100)`.
    pub fn delay(&self, attempt: u32, rng: u32) -> (Duration, bool) {
        let base = match self.retry_ms_table.as_slice() {
            [] => NO_TABLE_DELAY_MS,
            table => table[(attempt as usize).min(table.len() - 1)],
        };
        let base = u64::from(base);
        let ra = u64::from(rng & 0xffff);
        let ms = base + ((base * u64::from(self.jitter_percent) * ra) >> 16) / 100;
        let conceal = u64::from(attempt) < u64::from(self.conceal_count);
        (Duration::from_millis(ms), conceal)
    }

    /// Runs `attempt` until it succeeds or fails in a way not to retry: an error `retryable` refuses, or one
    /// the policy no longer conceals. Between attempts it waits the policy's delay, with random jitter.
    pub(crate) async fn run<T, E, F>(
        &self,
        what: &str,
        retryable: impl Fn(&E) -> bool,
        mut attempt: impl FnMut() -> F,
    ) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: std::future::Future<Output = Result<T, E>>,
    {
        let rng = ring::rand::SystemRandom::new();
        let mut failures = 0u32;
        loop {
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let mut r = [0u8; 4];
            // Without randomness the delay simply has no jitter.
            let _ = rng.fill(&mut r);
            let (delay, conceal) = self.delay(failures, u32::from_le_bytes(r));
            if !conceal || !retryable(&err) {
                return Err(err);
            }
            tracing::debug!(attempt = failures, ?delay, "{what}: {err}; retrying");
            tokio::time::sleep(delay).await;
            failures = failures.saturating_add(1);
        }
    }
}

/// Connects, and on a transient failure ([`ClientError::is_transient`]) that `policy` still conceals, waits
/// its delay and tries again; returns the first WebSocket, or the first failure that is not concealed (or
/// not transient). With the default policy that is three attempts over about three seconds.
pub async fn connect_with_retry(
    builder: WsClientBuilder,
    policy: RetryPolicy,
) -> Result<WebSocket, ClientError> {
    policy
        .run("websocket client", ClientError::is_transient, || {
            builder.connect()
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn table_without_jitter() {
        let p = RetryPolicy {
            jitter_percent: 0,
            ..RetryPolicy::default()
        };
        let delays: Vec<u128> = (0..8).map(|a| ms(p.delay(a, u32::MAX).0)).collect();
        assert_eq!(
            delays,
            [1000, 2000, 5000, 10_000, 30_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(ms(p.delay(u32::MAX, 0).0), 30_000);
    }

    #[test]
    fn empty_table_is_three_seconds() {
        let p = RetryPolicy::new(Vec::new(), 0);
        assert_eq!(p.jitter_percent, 30);
        assert_eq!(ms(p.delay(0, 0).0), 3000);
        assert_eq!(ms(p.delay(5, 0).0), 3000);
    }

    #[test]
    fn jitter_bounds() {
        let p = RetryPolicy::default();
        for a in 0..6 {
            let base = u128::from(p.retry_ms_table[(a as usize).min(4)]);
            assert_eq!(ms(p.delay(a, 0).0), base);
            let top = ms(p.delay(a, 0xffff).0);
            assert!(top < base + base * 25 / 100, "{top} for base {base}");
            assert!(top >= base + base * 24 / 100, "{top} for base {base}");
            for r in [1u32, 0x1234, 0x8000, 0xfffe, 0xdead_beef] {
                let d = ms(p.delay(a, r).0);
                assert!(d >= base && d < base + base / 4, "{d} for base {base}");
            }
        }
        // Only the low 16 bits count, as with libwebsockets' 16-bit random.
        assert_eq!(p.delay(1, 0x0001_8000), p.delay(1, 0x8000));
        // Half the range gives half the jitter.
        assert_eq!(ms(p.delay(0, 0x8000).0), 1000 + 125);
    }

    #[test]
    fn concealment() {
        let p = RetryPolicy::default();
        let conceal: Vec<bool> = (0..4).map(|a| p.delay(a, 0).1).collect();
        assert_eq!(conceal, [true, true, false, false]);
        let never = RetryPolicy::new(vec![10], 0);
        assert!(!never.delay(0, 0).1);
    }
}
