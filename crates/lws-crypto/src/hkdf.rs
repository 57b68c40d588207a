//! HKDF (RFC 5869): extract and expand, over HMAC with any [`HashAlg`].

use crate::error::{Error, Result};
use crate::hash::HashAlg;
use crate::hmac::{self, Hmac};

/// HKDF-Extract: the pseudorandom key HMAC(`salt`, `ikm`); an empty salt means `output_len` zero bytes.
pub fn extract(alg: HashAlg, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    let zeros;
    let salt = if salt.is_empty() {
        zeros = vec![0u8; alg.output_len()];
        &zeros[..]
    } else {
        salt
    };
    hmac::sign(alg, salt, ikm)
}

/// HKDF-Expand: `len` bytes of output keying material from `prk` and `info`; `len` is at most 255 hash lengths.
pub fn expand(alg: HashAlg, prk: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>> {
    if len > 255 * alg.output_len() {
        return Err(Error::InvalidLength(
            "HKDF output longer than 255 hash lengths",
        ));
    }
    let mut okm = Vec::with_capacity(len);
    let mut previous: Vec<u8> = Vec::new();
    let mut counter = 1u8;
    while okm.len() < len {
        let mut mac = Hmac::new(alg, prk);
        mac.update(&previous);
        mac.update(info);
        mac.update(&[counter]);
        previous = mac.finish();
        let take = (len - okm.len()).min(previous.len());
        okm.extend_from_slice(&previous[..take]);
        counter = counter.wrapping_add(1);
    }
    Ok(okm)
}

/// Extract then expand in one call.
pub fn derive(alg: HashAlg, salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>> {
    expand(alg, &extract(alg, salt, ikm), info, len)
}
