//! The per-thread space where TLS connections read and decrypt ciphertext, and encrypt what they write: no
//! connection keeps a buffer of its own for either, only the few bytes of a record that had not fully
//! arrived, and output the socket did not take at once.

use std::cell::RefCell;

use super::records::MAX_PLAINTEXT;

/// Most ciphertext a connection may hold back without it being processed: a handshake message being joined
/// from several records, up to the 64 KiB rustls allows one; a record of application data is far smaller.
pub(super) const CARRY_LIMIT: usize = 64 * 1024;

/// Ciphertext read beyond what the reader has room for, so that a read that fills the reader's buffer also
/// takes the header and tag of its last record instead of leaving them for another read.
pub(super) const READ_SLACK: usize = 512;

/// The space: what a connection held back, and a read of a full record's worth behind it; the most a write
/// encrypts at once (64 KiB) fits too.
const SCRATCH_LEN: usize = CARRY_LIMIT + MAX_PLAINTEXT + READ_SLACK;

thread_local! {
    // Borrowed only during one poll of one connection; distinct from the thread's plaintext read buffer,
    // which the reader of a TLS stream already holds while it polls.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; SCRATCH_LEN].into_boxed_slice());
}

/// Runs `f` with the thread's ciphertext space, or a space of its own should a call ever nest.
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    crate::transport::with_thread_buf(&SCRATCH, SCRATCH_LEN, f)
}

/// The ciphertext of one poll: `space[start..end]` is what is not processed yet.
pub(super) struct Window<'a> {
    space: &'a mut [u8],
    start: usize,
    end: usize,
}

impl<'a> Window<'a> {
    /// The space with what a connection held back from its last poll at the front.
    pub(super) fn new(space: &'a mut [u8], carry: &[u8]) -> Window<'a> {
        space[..carry.len()].copy_from_slice(carry);
        Window {
            space,
            start: 0,
            end: carry.len(),
        }
    }

    /// The unprocessed ciphertext.
    pub(super) fn pending(&mut self) -> &mut [u8] {
        &mut self.space[self.start..self.end]
    }

    /// The front `n` bytes of the unprocessed ciphertext are done with.
    pub(super) fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// How many unprocessed bytes there are.
    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Room for up to `want` more bytes behind the unprocessed ones, which are moved to the front first
    /// (rustls locates a handshake message being joined relative to where the unprocessed bytes start, so
    /// moving them all together is fine).
    pub(super) fn room(&mut self, want: usize) -> &mut [u8] {
        if self.start > 0 {
            self.space.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let until = self.space.len().min(self.end + want);
        &mut self.space[self.end..until]
    }

    /// `n` bytes were read into the room.
    pub(super) fn grow(&mut self, n: usize) {
        self.end += n;
    }
}
