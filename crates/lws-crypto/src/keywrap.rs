//! AES Key Wrap (RFC 3394) with 128/192/256-bit key-encryption keys.

use aes_kw::{KekAes128, KekAes192, KekAes256};

use crate::error::{Error, Result};

/// Wraps `key` (a multiple of 8 bytes, at least 16) under `kek`; the result is 8 bytes longer.
pub fn wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    if key.len() < 16 || key.len() % 8 != 0 {
        return Err(Error::InvalidLength(
            "wrapped key must be a multiple of 8 bytes, at least 16",
        ));
    }
    let out = match kek.len() {
        16 => KekAes128::try_from(kek)
            .ok()
            .and_then(|k| k.wrap_vec(key).ok()),
        24 => KekAes192::try_from(kek)
            .ok()
            .and_then(|k| k.wrap_vec(key).ok()),
        32 => KekAes256::try_from(kek)
            .ok()
            .and_then(|k| k.wrap_vec(key).ok()),
        _ => return Err(Error::InvalidLength("KEK must be 16, 24 or 32 bytes")),
    };
    out.ok_or(Error::InvalidLength("key wrap input"))
}

/// Unwraps `wrapped` under `kek`; an integrity check failure is [`Error::DecryptFailed`].
pub fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>> {
    if wrapped.len() < 24 || wrapped.len() % 8 != 0 {
        return Err(Error::DecryptFailed);
    }
    let out = match kek.len() {
        16 => KekAes128::try_from(kek)
            .ok()
            .and_then(|k| k.unwrap_vec(wrapped).ok()),
        24 => KekAes192::try_from(kek)
            .ok()
            .and_then(|k| k.unwrap_vec(wrapped).ok()),
        32 => KekAes256::try_from(kek)
            .ok()
            .and_then(|k| k.unwrap_vec(wrapped).ok()),
        _ => return Err(Error::InvalidLength("KEK must be 16, 24 or 32 bytes")),
    };
    out.ok_or(Error::DecryptFailed)
}
