//! Compressor states kept per service thread between responses, so a busy thread does not allocate and
//! initialise a deflate or zstd state for every response, and an idle one holds at most a few.

use std::cell::RefCell;

use super::encoder::Encoder;
use super::settings::ContentCoding;

/// Idle states kept per thread, over all codings and levels: enough for the responses one thread
/// compresses at once in practice, small enough that idle memory stays bounded (a zstd state is ~1 MiB).
const MAX_IDLE: usize = 4;

type Key = (ContentCoding, Option<u32>);

thread_local! {
    static IDLE: RefCell<Vec<(Key, Encoder)>> = const { RefCell::new(Vec::new()) };
}

/// A ready compressor for `coding` at `level`: an idle one of this thread, or a new one.
pub(crate) fn take(coding: ContentCoding, level: Option<u32>) -> std::io::Result<Encoder> {
    let key = (coding, level);
    let reused = IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let i = idle.iter().position(|(k, _)| *k == key)?;
        Some(idle.swap_remove(i).1)
    });
    match reused {
        Some(e) => Ok(e),
        None => Encoder::new(coding, level),
    }
}

/// Returns a compressor after its body: reset and kept if there is room, dropped otherwise.
pub(crate) fn give_back(coding: ContentCoding, level: Option<u32>, mut encoder: Encoder) {
    if !encoder.reset() {
        return;
    }
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        if idle.len() < MAX_IDLE {
            idle.push(((coding, level), encoder));
        }
    });
}

/// How many idle states this thread keeps now.
#[cfg(test)]
pub(crate) fn idle_count() -> usize {
    IDLE.with(|idle| idle.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_reused_and_bounded() {
        let states: Vec<Encoder> = (0..10)
            .map(|_| take(ContentCoding::Gzip, None).unwrap())
            .collect();
        for e in states {
            give_back(ContentCoding::Gzip, None, e);
        }
        assert_eq!(idle_count(), MAX_IDLE);
        let _again = take(ContentCoding::Gzip, None).unwrap();
        assert_eq!(idle_count(), MAX_IDLE - 1);
        // Brotli states cannot be reset, so they are never kept.
        give_back(
            ContentCoding::Brotli,
            None,
            Encoder::new(ContentCoding::Brotli, None).unwrap(),
        );
        assert_eq!(idle_count(), MAX_IDLE - 1);
    }
}
