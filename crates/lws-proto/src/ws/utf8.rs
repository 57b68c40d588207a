//! Incremental UTF-8 validation for text messages that arrive in pieces (RFC 6455 §8.1).
//!
//! A text message may be split anywhere, even inside a code point, across frames and across reads. The
//! validator keeps at most 3 bytes of an incomplete code point between pieces and fails on the first byte that
//! cannot start or continue a valid sequence, so a peer sending invalid text is stopped as soon as the bad byte
//! arrives instead of after the whole message has been buffered.

use super::WsError;

/// Validates UTF-8 fed in arbitrary pieces; reusable for the next message after [`Utf8Validator::finish`].
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The start of a code point whose remaining bytes have not arrived yet.
    pending: [u8; 4],
    /// At most 3: a byte, not a word, since every connection holds a validator.
    pending_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece. Fails with [`WsError::InvalidUtf8`] as soon as a byte cannot be part of valid
    /// UTF-8 given everything before it; an incomplete code point at the end is kept for the next piece.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), WsError> {
        // Complete the code point left over from the previous piece, one byte at a time.
        while self.pending_len > 0 {
            let Some((&b, rest)) = data.split_first() else {
                return Ok(());
            };
            self.pending[usize::from(self.pending_len)] = b;
            self.pending_len += 1;
            data = rest;
            match std::str::from_utf8(&self.pending[..usize::from(self.pending_len)]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return Err(WsError::InvalidUtf8),
                // Still a valid prefix; a prefix is at most 3 bytes, so there is room for the next byte.
                Err(_) => {}
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(WsError::InvalidUtf8),
            Err(e) => {
                // `error_len() == None`: the tail after `valid_up_to` is a valid but incomplete prefix (< 4 bytes).
                let tail = &data[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                // Shorter than 4 bytes, see above.
                self.pending_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the message: fails if it stopped inside a code point. The validator is reset either way.
    pub fn finish(&mut self) -> Result<(), WsError> {
        let incomplete = self.pending_len > 0;
        self.reset();
        if incomplete {
            Err(WsError::InvalidUtf8)
        } else {
            Ok(())
        }
    }

    /// Forgets any partial code point (e.g. when a message is abandoned).
    pub fn reset(&mut self) {
        self.pending_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` split at every possible pair of points and compares with std's verdict on the whole.
    fn check_all_splits(data: &[u8]) {
        let whole = std::str::from_utf8(data).is_ok();
        for i in 0..=data.len() {
            for j in i..=data.len() {
                let mut v = Utf8Validator::new();
                let ok = v.feed(&data[..i]).is_ok()
                    && v.feed(&data[i..j]).is_ok()
                    && v.feed(&data[j..]).is_ok()
                    && v.finish().is_ok();
                assert_eq!(ok, whole, "{data:x?} split at {i},{j}");
            }
        }
    }

    #[test]
    fn agrees_with_std() {
        let cases: &[&[u8]] = &[
            b"",
            b"hello",
            "κόσμε".as_bytes(),
            "a\u{10FFFF}b\u{FFFF}c\u{800}d\u{80}".as_bytes(),
            "\u{1F600}\u{1F600}".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xf8\x88\x80\x80\x80",
            b"\xce",
            b"a\xe2\x82",
            b"\x80",
            b"\xff",
            b"\xf0\x9f\x98",
        ];
        for c in cases {
            check_all_splits(c);
        }
    }

    #[test]
    fn fails_on_first_bad_byte() {
        // Each of these is invalid as soon as its last byte arrives, with more bytes still to come.
        for bad in [
            &b"\xff"[..],
            b"\xc0",
            b"\xe0\x80",
            b"\xed\xa0",
            b"\xf4\x90",
            b"\xf5",
            b"\xce\x41",
        ] {
            let mut v = Utf8Validator::new();
            let (last, head) = bad.split_last().unwrap();
            for b in head {
                assert!(v.feed(&[*b]).is_ok(), "{bad:x?}");
            }
            assert_eq!(v.feed(&[*last]), Err(WsError::InvalidUtf8), "{bad:x?}");
        }
    }

    #[test]
    fn incomplete_at_end_fails_and_resets() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"ok\xe2\x82").is_ok());
        assert_eq!(v.finish(), Err(WsError::InvalidUtf8));
        assert!(v.feed(b"fine").is_ok());
        assert!(v.finish().is_ok());
    }
}
