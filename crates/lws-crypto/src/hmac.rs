//! HMAC (RFC 2104) over SHA-1/256/384/512 (ring), with constant-time verification.

use crate::error::{Error, Result};
use crate::hash::HashAlg;

/// Computes HMAC-`alg`(`key`, `data`).
pub fn sign(alg: HashAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring_alg(alg), key);
    ring::hmac::sign(&key, data).as_ref().to_vec()
}

/// Checks `tag` against HMAC-`alg`(`key`, `data`) in constant time; a truncated tag is refused.
pub fn verify(alg: HashAlg, key: &[u8], data: &[u8], tag: &[u8]) -> Result<()> {
    let key = ring::hmac::Key::new(ring_alg(alg), key);
    ring::hmac::verify(&key, data, tag).map_err(|_| Error::SignatureInvalid)
}

/// An incremental HMAC.
#[derive(Clone)]
pub struct Hmac(ring::hmac::Context);

impl Hmac {
    /// Starts HMAC-`alg` with `key`.
    pub fn new(alg: HashAlg, key: &[u8]) -> Hmac {
        Hmac(ring::hmac::Context::with_key(&ring::hmac::Key::new(
            ring_alg(alg),
            key,
        )))
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Returns the MAC.
    pub fn finish(self) -> Vec<u8> {
        self.0.sign().as_ref().to_vec()
    }
}

fn ring_alg(alg: HashAlg) -> ring::hmac::Algorithm {
    match alg {
        HashAlg::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => ring::hmac::HMAC_SHA256,
        HashAlg::Sha384 => ring::hmac::HMAC_SHA384,
        HashAlg::Sha512 => ring::hmac::HMAC_SHA512,
    }
}
