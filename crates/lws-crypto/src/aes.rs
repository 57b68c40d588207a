//! AES in the block modes libwebsockets' genaes offers (CBC, CFB128, CFB8, CTR, ECB, OFB, XTS) and GCM, over
//! 128/192/256-bit keys (XTS: a double-length key of 256 or 512 bits).
//!
//! The block modes are RustCrypto's; GCM uses ring for AES-128/256 with a 96-bit IV and a full tag (the JOSE
//! case, with assembly), and RustCrypto's `aes-gcm` for AES-192 and truncated tags.

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{
    AsyncStreamCipher, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher,
};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::AeadInPlace;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// AES block size in bytes.
pub const BLOCK_LEN: usize = 16;

/// A block mode of operation (GCM has its own functions, [`gcm_encrypt`] and [`gcm_decrypt`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Cipher block chaining; 16-byte IV.
    Cbc,
    /// 128-bit cipher feedback; 16-byte IV; any data length.
    Cfb128,
    /// 8-bit cipher feedback; 16-byte IV; any data length.
    Cfb8,
    /// Counter mode with a 16-byte big-endian initial counter block; any data length.
    Ctr,
    /// Electronic codebook; no IV. Only for tests and key wrapping building blocks.
    Ecb,
    /// Output feedback; 16-byte IV; any data length.
    Ofb,
    /// XTS (IEEE 1619) with a double-length key; the IV is the 16-byte tweak (data unit number); at least 16 bytes.
    Xts,
}

/// Padding for the block modes that need whole blocks (CBC and ECB); ignored by the others.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: the data must be a whole number of blocks.
    None,
    /// PKCS#7 padding.
    Pkcs7,
}

/// Runs `$body` with `$c` naming the AES type for the key length of `$key`.
macro_rules! with_aes {
    ($key:expr, $c:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $c = aes::Aes128;
                $body
            }
            24 => {
                type $c = aes::Aes192;
                $body
            }
            32 => {
                type $c = aes::Aes256;
                $body
            }
            _ => Err(Error::InvalidLength("AES key must be 16, 24 or 32 bytes")),
        }
    };
}

/// Encrypts `data` with AES-`mode`.
pub fn encrypt(
    mode: Mode,
    key: &[u8],
    iv: &[u8],
    padding: Padding,
    data: &[u8],
) -> Result<Vec<u8>> {
    crypt(mode, key, iv, padding, data, true)
}

/// Decrypts `data` with AES-`mode`; a bad PKCS#7 padding is [`Error::DecryptFailed`].
pub fn decrypt(
    mode: Mode,
    key: &[u8],
    iv: &[u8],
    padding: Padding,
    data: &[u8],
) -> Result<Vec<u8>> {
    crypt(mode, key, iv, padding, data, false)
}

/// AES-GCM encryption: returns the ciphertext and a tag of `tag_len` bytes (4 to 16). The IV is 12 bytes.
pub fn gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    tag_len: usize,
) -> Result<(Vec<u8>, Vec<u8>)> {
    check_gcm_params(iv, tag_len)?;
    let mut buf = plaintext.to_vec();
    if let Some(ring_key) = ring_gcm_key(key) {
        let nonce = ring_nonce(iv)?;
        let tag = ring_key
            .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), &mut buf)
            .map_err(|_| Error::InvalidLength("GCM input too long"))?;
        return Ok((buf, tag.as_ref()[..tag_len].to_vec()));
    }
    let tag = with_aes!(key, C => {
        let cipher = aes_gcm::AesGcm::<C, U12>::new_from_slice(key).map_err(|_| Error::InvalidLength("AES key"))?;
        cipher
            .encrypt_in_place_detached(iv.into(), aad, &mut buf)
            .map_err(|_| Error::InvalidLength("GCM input too long"))
    })?;
    Ok((buf, tag[..tag_len].to_vec()))
}

/// AES-GCM authenticated decryption; any mismatch (key, IV, AAD, ciphertext, tag) is [`Error::DecryptFailed`] and
/// no plaintext is returned.
pub fn gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>> {
    check_gcm_params(iv, tag.len())?;
    if tag.len() == 16 {
        if let Some(ring_key) = ring_gcm_key(key) {
            let mut buf = Vec::with_capacity(ciphertext.len() + 16);
            buf.extend_from_slice(ciphertext);
            buf.extend_from_slice(tag);
            let len = ring_key
                .open_in_place(ring_nonce(iv)?, ring::aead::Aad::from(aad), &mut buf)
                .map_err(|_| Error::DecryptFailed)?
                .len();
            buf.truncate(len);
            return Ok(buf);
        }
    }
    with_aes!(key, C => {
        let cipher = aes_gcm::AesGcm::<C, U12>::new_from_slice(key).map_err(|_| Error::InvalidLength("AES key"))?;
        // GCM is CTR plus GHASH over the ciphertext: "encrypting" the ciphertext yields the plaintext (its tag is
        // meaningless), and encrypting that plaintext again yields the ciphertext with the true full tag, whose
        // prefix is compared in constant time. The plaintext is released only after the comparison.
        let mut plain = ciphertext.to_vec();
        cipher.encrypt_in_place_detached(iv.into(), aad, &mut plain).map_err(|_| Error::DecryptFailed)?;
        let mut again = plain.clone();
        let full = cipher.encrypt_in_place_detached(iv.into(), aad, &mut again).map_err(|_| Error::DecryptFailed)?;
        if bool::from(full[..tag.len()].ct_eq(tag)) {
            Ok(plain)
        } else {
            Err(Error::DecryptFailed)
        }
    })
}

fn check_gcm_params(iv: &[u8], tag_len: usize) -> Result<()> {
    if iv.len() != 12 {
        return Err(Error::InvalidLength("GCM IV must be 12 bytes"));
    }
    if !(4..=16).contains(&tag_len) {
        return Err(Error::InvalidLength("GCM tag must be 4 to 16 bytes"));
    }
    Ok(())
}

fn ring_gcm_key(key: &[u8]) -> Option<ring::aead::LessSafeKey> {
    let alg = match key.len() {
        16 => &ring::aead::AES_128_GCM,
        32 => &ring::aead::AES_256_GCM,
        _ => return None,
    };
    ring::aead::UnboundKey::new(alg, key)
        .ok()
        .map(ring::aead::LessSafeKey::new)
}

fn ring_nonce(iv: &[u8]) -> Result<ring::aead::Nonce> {
    ring::aead::Nonce::try_assume_unique_for_key(iv)
        .map_err(|_| Error::InvalidLength("GCM IV must be 12 bytes"))
}

fn crypt(
    mode: Mode,
    key: &[u8],
    iv: &[u8],
    padding: Padding,
    data: &[u8],
    enc: bool,
) -> Result<Vec<u8>> {
    let iv_error = |_| Error::InvalidLength("AES IV must be 16 bytes");
    match mode {
        Mode::Cbc => with_aes!(key, C => {
            if enc {
                let c = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?;
                block_encrypt(c, padding, data)
            } else {
                let c = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?;
                block_decrypt(c, padding, data)
            }
        }),
        Mode::Ecb => with_aes!(key, C => {
            if enc {
                let c = ecb::Encryptor::<C>::new_from_slice(key).map_err(iv_error)?;
                block_encrypt(c, padding, data)
            } else {
                let c = ecb::Decryptor::<C>::new_from_slice(key).map_err(iv_error)?;
                block_decrypt(c, padding, data)
            }
        }),
        Mode::Cfb128 => with_aes!(key, C => {
            let mut buf = data.to_vec();
            if enc {
                cfb_mode::Encryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?.encrypt(&mut buf);
            } else {
                cfb_mode::Decryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?.decrypt(&mut buf);
            }
            Ok(buf)
        }),
        Mode::Cfb8 => with_aes!(key, C => {
            let mut buf = data.to_vec();
            if enc {
                cfb8::Encryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?.encrypt(&mut buf);
            } else {
                cfb8::Decryptor::<C>::new_from_slices(key, iv).map_err(iv_error)?.decrypt(&mut buf);
            }
            Ok(buf)
        }),
        Mode::Ctr => with_aes!(key, C => {
            let mut buf = data.to_vec();
            ctr::Ctr128BE::<C>::new_from_slices(key, iv).map_err(iv_error)?.apply_keystream(&mut buf);
            Ok(buf)
        }),
        Mode::Ofb => with_aes!(key, C => {
            let mut buf = data.to_vec();
            ofb::Ofb::<C>::new_from_slices(key, iv).map_err(iv_error)?.apply_keystream(&mut buf);
            Ok(buf)
        }),
        Mode::Xts => xts(key, iv, data, enc),
    }
}

fn xts(key: &[u8], tweak: &[u8], data: &[u8], enc: bool) -> Result<Vec<u8>> {
    let tweak: [u8; 16] = tweak
        .try_into()
        .map_err(|_| Error::InvalidLength("XTS tweak must be 16 bytes"))?;
    if data.len() < BLOCK_LEN {
        return Err(Error::InvalidLength("XTS data must be at least 16 bytes"));
    }
    let (k1, k2) = key.split_at(key.len() / 2);
    let mut buf = data.to_vec();
    match key.len() {
        32 | 64 => with_aes!(k1, C => {
            let xts = xts_mode::Xts128::<C>::new(
                C::new_from_slice(k1).map_err(|_| Error::InvalidLength("XTS key"))?,
                C::new_from_slice(k2).map_err(|_| Error::InvalidLength("XTS key"))?,
            );
            if enc {
                xts.encrypt_sector(&mut buf, tweak);
            } else {
                xts.decrypt_sector(&mut buf, tweak);
            }
            Ok(buf)
        }),
        _ => Err(Error::InvalidLength("XTS key must be 32 or 64 bytes")),
    }
}

fn block_encrypt<E: BlockEncryptMut>(cipher: E, padding: Padding, data: &[u8]) -> Result<Vec<u8>> {
    match padding {
        Padding::Pkcs7 => Ok(cipher.encrypt_padded_vec_mut::<Pkcs7>(data)),
        Padding::None if data.len() % BLOCK_LEN == 0 => {
            Ok(cipher.encrypt_padded_vec_mut::<NoPadding>(data))
        }
        Padding::None => Err(Error::InvalidLength("data must be whole AES blocks")),
    }
}

fn block_decrypt<D: BlockDecryptMut>(cipher: D, padding: Padding, data: &[u8]) -> Result<Vec<u8>> {
    if data.is_empty() || data.len() % BLOCK_LEN != 0 {
        return Err(Error::InvalidLength("ciphertext must be whole AES blocks"));
    }
    match padding {
        Padding::Pkcs7 => cipher
            .decrypt_padded_vec_mut::<Pkcs7>(data)
            .map_err(|_| Error::DecryptFailed),
        Padding::None => cipher
            .decrypt_padded_vec_mut::<NoPadding>(data)
            .map_err(|_| Error::DecryptFailed),
    }
}
