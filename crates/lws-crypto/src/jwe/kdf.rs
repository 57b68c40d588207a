//! The Concat KDF of NIST SP 800-56A as profiled for ECDH-ES by RFC 7518 §4.6.2 (SHA-256).

use crate::hash::{HashAlg, Hasher};

/// Derives `key_len` bytes from the shared secret `z`, the algorithm id (the `enc` name for direct key agreement,
/// the `alg` name with key wrapping) and the decoded `apu` / `apv`.
pub fn concat_kdf(z: &[u8], key_len: usize, alg_id: &str, apu: &[u8], apv: &[u8]) -> Vec<u8> {
    let mut other = Vec::with_capacity(16 + alg_id.len() + apu.len() + apv.len());
    for field in [alg_id.as_bytes(), apu, apv] {
        other.extend_from_slice(&(field.len() as u32).to_be_bytes());
        other.extend_from_slice(field);
    }
    other.extend_from_slice(&((key_len as u32) * 8).to_be_bytes());
    let mut out = Vec::with_capacity(key_len + 32);
    let mut counter = 1u32;
    while out.len() < key_len {
        let mut h = Hasher::new(HashAlg::Sha256);
        h.update(&counter.to_be_bytes());
        h.update(z);
        h.update(&other);
        out.extend_from_slice(&h.finish());
        counter += 1;
    }
    out.truncate(key_len);
    out
}
