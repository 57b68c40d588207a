//! The one timer a connection driver keeps: re-armed only when the engine's next deadline moves earlier
//! (or after it fired). Deadlines such as keep-alive and idle timeouts move later with every read, and
//! touching the timer wheel on every read costs.

use std::pin::Pin;
use std::time::Instant;

use tokio::time::Sleep;

/// Arms `timer` for `deadline` if nothing is armed (`armed` is `None`, cleared by the caller when the timer
/// fires) or the deadline is earlier than the armed one; tells whether it did (a re-armed timer that had fired,
/// or was never polled, holds no waker until it is polled).
pub(crate) fn arm_earlier(
    timer: Pin<&mut Sleep>,
    armed: &mut Option<Instant>,
    deadline: Option<Instant>,
) -> bool {
    if let Some(d) = deadline {
        if armed.is_none_or(|a| d < a) {
            timer.reset(d.into());
            *armed = Some(d);
            return true;
        }
    }
    false
}
