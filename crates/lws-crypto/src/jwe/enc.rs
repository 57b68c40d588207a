//! JWE content encryption (`enc`, RFC 7518 §5): AES-CBC with HMAC-SHA-2 and AES-GCM.

use subtle::ConstantTimeEq;

use crate::aes::{self, Mode, Padding};
use crate::error::{Error, Result};
use crate::hash::HashAlg;
use crate::hmac;

/// A content encryption algorithm (`enc`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentEnc {
    /// AES-128-CBC with HMAC-SHA-256 truncated to 128 bits.
    A128CbcHs256,
    /// AES-192-CBC with HMAC-SHA-384 truncated to 192 bits.
    A192CbcHs384,
    /// AES-256-CBC with HMAC-SHA-512 truncated to 256 bits.
    A256CbcHs512,
    /// AES-128-GCM.
    A128Gcm,
    /// AES-192-GCM.
    A192Gcm,
    /// AES-256-GCM.
    A256Gcm,
}

impl ContentEnc {
    /// Every content encryption algorithm.
    pub const ALL: [ContentEnc; 6] = [
        ContentEnc::A128CbcHs256,
        ContentEnc::A192CbcHs384,
        ContentEnc::A256CbcHs512,
        ContentEnc::A128Gcm,
        ContentEnc::A192Gcm,
        ContentEnc::A256Gcm,
    ];

    /// The `enc` name.
    pub fn name(self) -> &'static str {
        match self {
            ContentEnc::A128CbcHs256 => "A128CBC-HS256",
            ContentEnc::A192CbcHs384 => "A192CBC-HS384",
            ContentEnc::A256CbcHs512 => "A256CBC-HS512",
            ContentEnc::A128Gcm => "A128GCM",
            ContentEnc::A192Gcm => "A192GCM",
            ContentEnc::A256Gcm => "A256GCM",
        }
    }

    /// Parses an `enc` name.
    pub fn from_name(name: &str) -> Result<ContentEnc> {
        ContentEnc::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or(Error::Unsupported("JWE content encryption"))
    }

    /// CEK length in bytes (for CBC-HS: MAC key plus encryption key).
    pub fn key_len(self) -> usize {
        match self {
            ContentEnc::A128CbcHs256 => 32,
            ContentEnc::A192CbcHs384 => 48,
            ContentEnc::A256CbcHs512 => 64,
            ContentEnc::A128Gcm => 16,
            ContentEnc::A192Gcm => 24,
            ContentEnc::A256Gcm => 32,
        }
    }

    /// IV length in bytes.
    pub fn iv_len(self) -> usize {
        if self.is_gcm() {
            12
        } else {
            16
        }
    }

    fn is_gcm(self) -> bool {
        matches!(
            self,
            ContentEnc::A128Gcm | ContentEnc::A192Gcm | ContentEnc::A256Gcm
        )
    }

    fn mac_hash(self) -> HashAlg {
        match self {
            ContentEnc::A192CbcHs384 => HashAlg::Sha384,
            ContentEnc::A256CbcHs512 => HashAlg::Sha512,
            _ => HashAlg::Sha256,
        }
    }

    /// Encrypts `plaintext`, returning ciphertext and authentication tag.
    pub fn encrypt(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        self.check(cek, iv)?;
        if self.is_gcm() {
            return aes::gcm_encrypt(cek, iv, aad, plaintext, 16);
        }
        let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
        let ct = aes::encrypt(Mode::Cbc, enc_key, iv, Padding::Pkcs7, plaintext)?;
        let tag = self.cbc_tag(mac_key, aad, iv, &ct);
        Ok((ct, tag))
    }

    /// Checks the tag and decrypts; any failure is [`Error::DecryptFailed`].
    pub fn decrypt(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
    ) -> Result<Vec<u8>> {
        self.check(cek, iv).map_err(|_| Error::DecryptFailed)?;
        if self.is_gcm() {
            if tag.len() != 16 {
                return Err(Error::DecryptFailed);
            }
            return aes::gcm_decrypt(cek, iv, aad, ct, tag);
        }
        let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
        let expected = self.cbc_tag(mac_key, aad, iv, ct);
        if tag.len() != expected.len() || !bool::from(expected.ct_eq(tag)) {
            return Err(Error::DecryptFailed);
        }
        aes::decrypt(Mode::Cbc, enc_key, iv, Padding::Pkcs7, ct).map_err(|_| Error::DecryptFailed)
    }

    fn check(self, cek: &[u8], iv: &[u8]) -> Result<()> {
        if cek.len() != self.key_len() {
            return Err(Error::InvalidLength("CEK length does not match enc"));
        }
        if iv.len() != self.iv_len() {
            return Err(Error::InvalidLength("IV length does not match enc"));
        }
        Ok(())
    }

    /// RFC 7518 §5.2.2.1: HMAC over AAD || IV || ciphertext || AAD length in bits (64-bit big-endian), truncated
    /// to half its length.
    fn cbc_tag(self, mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
        let mut mac = hmac::Hmac::new(self.mac_hash(), mac_key);
        mac.update(aad);
        mac.update(iv);
        mac.update(ct);
        mac.update(&((aad.len() as u64) * 8).to_be_bytes());
        let mut tag = mac.finish();
        tag.truncate(mac_key.len());
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lengths_fit() {
        for enc in ContentEnc::ALL {
            assert_eq!(ContentEnc::from_name(enc.name()), Ok(enc));
            let cek = vec![1u8; enc.key_len()];
            let iv = vec![2u8; enc.iv_len()];
            let (ct, tag) = enc.encrypt(&cek, &iv, b"aad", b"text").unwrap();
            assert_eq!(enc.decrypt(&cek, &iv, b"aad", &ct, &tag).unwrap(), b"text");
            assert_eq!(
                enc.decrypt(&cek, &iv, b"aaD", &ct, &tag),
                Err(Error::DecryptFailed)
            );
            assert_eq!(
                enc.decrypt(&cek[1..], &iv, b"aad", &ct, &tag),
                Err(Error::DecryptFailed)
            );
        }
    }
}
