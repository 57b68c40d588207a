//! JWE key management (`alg`, RFC 7518 §4): how the content encryption key (CEK) reaches the recipient.

use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value};
use subtle::{Choice, ConditionallySelectable};

use super::enc::ContentEnc;
use super::kdf::concat_kdf;
use crate::aes;
use crate::b64;
use crate::ec::EcKey;
use crate::error::{Error, Result};
use crate::jwk::{Jwk, KeyMaterial, KeyOp};
use crate::keywrap;
use crate::okp::{OkpCurve, OkpKey};
use crate::rsa::RsaPadding;

/// A key management algorithm (`alg`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// RSAES-PKCS1-v1_5: refused on decryption unless enabled (see [`crate::rsa`] on timing).
    Rsa1_5,
    /// RSAES-OAEP with SHA-1.
    RsaOaep,
    /// RSAES-OAEP with SHA-256.
    RsaOaep256,
    /// AES-128 key wrap.
    A128Kw,
    /// AES-192 key wrap.
    A192Kw,
    /// AES-256 key wrap.
    A256Kw,
    /// The shared symmetric key is the CEK.
    Dir,
    /// ECDH-ES: the derived key is the CEK.
    EcdhEs,
    /// ECDH-ES, the derived key wraps the CEK with AES-128 key wrap.
    EcdhEsA128Kw,
    /// ECDH-ES, the derived key wraps the CEK with AES-192 key wrap.
    EcdhEsA192Kw,
    /// ECDH-ES, the derived key wraps the CEK with AES-256 key wrap.
    EcdhEsA256Kw,
    /// AES-128-GCM key wrap (`iv` and `tag` header members).
    A128GcmKw,
    /// AES-192-GCM key wrap.
    A192GcmKw,
    /// AES-256-GCM key wrap.
    A256GcmKw,
}

/// What key management produced for a recipient: the CEK, its encrypted form and the header members it needs.
pub(crate) struct Wrapped {
    pub(crate) cek: Vec<u8>,
    pub(crate) encrypted_key: Vec<u8>,
    pub(crate) header: Map<String, Value>,
}

impl KeyAlg {
    /// Every key management algorithm.
    pub const ALL: [KeyAlg; 14] = [
        KeyAlg::Rsa1_5,
        KeyAlg::RsaOaep,
        KeyAlg::RsaOaep256,
        KeyAlg::A128Kw,
        KeyAlg::A192Kw,
        KeyAlg::A256Kw,
        KeyAlg::Dir,
        KeyAlg::EcdhEs,
        KeyAlg::EcdhEsA128Kw,
        KeyAlg::EcdhEsA192Kw,
        KeyAlg::EcdhEsA256Kw,
        KeyAlg::A128GcmKw,
        KeyAlg::A192GcmKw,
        KeyAlg::A256GcmKw,
    ];

    /// The `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rsa1_5 => "RSA1_5",
            KeyAlg::RsaOaep => "RSA-OAEP",
            KeyAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyAlg::A128Kw => "A128KW",
            KeyAlg::A192Kw => "A192KW",
            KeyAlg::A256Kw => "A256KW",
            KeyAlg::Dir => "dir",
            KeyAlg::EcdhEs => "ECDH-ES",
            KeyAlg::EcdhEsA128Kw => "ECDH-ES+A128KW",
            KeyAlg::EcdhEsA192Kw => "ECDH-ES+A192KW",
            KeyAlg::EcdhEsA256Kw => "ECDH-ES+A256KW",
            KeyAlg::A128GcmKw => "A128GCMKW",
            KeyAlg::A192GcmKw => "A192GCMKW",
            KeyAlg::A256GcmKw => "A256GCMKW",
        }
    }

    /// Parses an `alg` name.
    pub fn from_name(name: &str) -> Result<KeyAlg> {
        KeyAlg::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or(Error::Unsupported("JWE key management algorithm"))
    }

    /// Whether the CEK is chosen by this algorithm (dir, ECDH-ES) rather than random: such an algorithm can only
    /// serve a JWE with one recipient.
    pub fn determines_cek(self) -> bool {
        matches!(self, KeyAlg::Dir | KeyAlg::EcdhEs)
    }

    /// AES key length for the wrapping variants.
    fn kw_len(self) -> Option<usize> {
        match self {
            KeyAlg::A128Kw | KeyAlg::EcdhEsA128Kw | KeyAlg::A128GcmKw => Some(16),
            KeyAlg::A192Kw | KeyAlg::EcdhEsA192Kw | KeyAlg::A192GcmKw => Some(24),
            KeyAlg::A256Kw | KeyAlg::EcdhEsA256Kw | KeyAlg::A256GcmKw => Some(32),
            _ => None,
        }
    }

    fn rsa_padding(self) -> Option<RsaPadding> {
        match self {
            KeyAlg::Rsa1_5 => Some(RsaPadding::Pkcs1v15),
            KeyAlg::RsaOaep => Some(RsaPadding::OaepSha1),
            KeyAlg::RsaOaep256 => Some(RsaPadding::OaepSha256),
            _ => None,
        }
    }

    fn is_ecdh(self) -> bool {
        matches!(
            self,
            KeyAlg::EcdhEs | KeyAlg::EcdhEsA128Kw | KeyAlg::EcdhEsA192Kw | KeyAlg::EcdhEsA256Kw
        )
    }

    fn is_gcmkw(self) -> bool {
        matches!(
            self,
            KeyAlg::A128GcmKw | KeyAlg::A192GcmKw | KeyAlg::A256GcmKw
        )
    }

    /// Checks that `key` fits this algorithm with `enc`, and that its metadata allows `op`.
    pub fn check_key(self, enc: ContentEnc, key: &Jwk, op: KeyOp) -> Result<()> {
        // A key for `dir` may name the content encryption it is for instead (RFC 7520 §5.6).
        let alg_ok = match key.meta.alg.as_deref() {
            None => true,
            Some(a) => a == self.name() || (self == KeyAlg::Dir && a == enc.name()),
        };
        if !alg_ok || !key.permits(op) {
            return Err(Error::KeyMismatch);
        }
        let fits = match &key.key {
            KeyMaterial::Rsa(_) => self.rsa_padding().is_some(),
            KeyMaterial::Oct(k) if self == KeyAlg::Dir => k.len() == enc.key_len(),
            KeyMaterial::Oct(k) => !self.is_ecdh() && self.kw_len() == Some(k.len()),
            KeyMaterial::Ec(_) => self.is_ecdh(),
            KeyMaterial::Okp(k) => self.is_ecdh() && k.curve() == OkpCurve::X25519,
        };
        if fits {
            Ok(())
        } else {
            Err(Error::KeyMismatch)
        }
    }

    /// Producer side: establishes the CEK for `key` (using `cek` when the caller already chose one) and returns
    /// it with the encrypted key and header members. `header` supplies `apu` / `apv` for ECDH-ES.
    pub(crate) fn wrap(
        self,
        enc: ContentEnc,
        key: &Jwk,
        cek: Option<&[u8]>,
        header: &Map<String, Value>,
    ) -> Result<Wrapped> {
        self.check_key(enc, key, KeyOp::Encrypt)?;
        if cek.is_some() && self.determines_cek() {
            return Err(Error::Malformed("dir and ECDH-ES need a JWE of their own"));
        }
        let cek = match cek {
            Some(c) => c.to_vec(),
            None => random(enc.key_len())?,
        };
        let mut out = Wrapped {
            cek,
            encrypted_key: Vec::new(),
            header: Map::new(),
        };
        match &key.key {
            KeyMaterial::Rsa(k) => {
                let padding = self.rsa_padding().ok_or(Error::KeyMismatch)?;
                out.encrypted_key = k.encrypt(padding, &out.cek)?;
            }
            KeyMaterial::Oct(k) if self == KeyAlg::Dir => out.cek = k.clone(),
            KeyMaterial::Oct(k) if self.is_gcmkw() => {
                let iv = random(12)?;
                let (wrapped, tag) = aes::gcm_encrypt(k, &iv, b"", &out.cek, 16)?;
                out.encrypted_key = wrapped;
                out.header
                    .insert("iv".into(), Value::String(b64::encode(&iv)));
                out.header
                    .insert("tag".into(), Value::String(b64::encode(&tag)));
            }
            KeyMaterial::Oct(k) => out.encrypted_key = keywrap::wrap(k, &out.cek)?,
            KeyMaterial::Ec(_) | KeyMaterial::Okp(_) => {
                let (z, epk) = ephemeral_agreement(key)?;
                out.header.insert("epk".into(), epk);
                let derived = self.derive(enc, &z, header)?;
                if self == KeyAlg::EcdhEs {
                    out.cek = derived;
                } else {
                    out.encrypted_key = keywrap::wrap(&derived, &out.cek)?;
                }
            }
        }
        Ok(out)
    }

    /// Consumer side: recovers the CEK from `encrypted_key` with `key`. Every failure past the structural checks
    /// is [`Error::DecryptFailed`]; RSA1_5 never fails here (RFC 7516 §11.5: a bad key is replaced by a random
    /// CEK, so the content tag check fails instead, in the same way as for any other tampering).
    pub(crate) fn unwrap(
        self,
        enc: ContentEnc,
        key: &Jwk,
        encrypted_key: &[u8],
        header: &Map<String, Value>,
    ) -> Result<Vec<u8>> {
        self.check_key(enc, key, KeyOp::Decrypt)?;
        match &key.key {
            KeyMaterial::Rsa(k) => {
                let padding = self.rsa_padding().ok_or(Error::KeyMismatch)?;
                if padding != RsaPadding::Pkcs1v15 {
                    return k.decrypt(padding, encrypted_key);
                }
                let fallback = random(enc.key_len())?;
                let candidate = k.decrypt(padding, encrypted_key).unwrap_or_default();
                Ok(select_cek(fallback, &candidate))
            }
            KeyMaterial::Oct(k) if self == KeyAlg::Dir => {
                if encrypted_key.is_empty() {
                    Ok(k.clone())
                } else {
                    Err(Error::Malformed("dir JWE with an encrypted key"))
                }
            }
            KeyMaterial::Oct(k) if self.is_gcmkw() => {
                let iv = b64_member(header, "iv")?;
                let tag = b64_member(header, "tag")?;
                if tag.len() != 16 {
                    return Err(Error::DecryptFailed);
                }
                aes::gcm_decrypt(k, &iv, b"", encrypted_key, &tag).map_err(|_| Error::DecryptFailed)
            }
            KeyMaterial::Oct(k) => keywrap::unwrap(k, encrypted_key),
            KeyMaterial::Ec(_) | KeyMaterial::Okp(_) => {
                let epk = header
                    .get("epk")
                    .ok_or(Error::Malformed("ECDH-ES without epk"))?;
                let z = static_agreement(key, epk)?;
                let derived = self.derive(enc, &z, header)?;
                if self == KeyAlg::EcdhEs {
                    if encrypted_key.is_empty() {
                        Ok(derived)
                    } else {
                        Err(Error::Malformed("ECDH-ES JWE with an encrypted key"))
                    }
                } else {
                    keywrap::unwrap(&derived, encrypted_key)
                }
            }
        }
    }

    fn derive(self, enc: ContentEnc, z: &[u8], header: &Map<String, Value>) -> Result<Vec<u8>> {
        let apu = optional_b64_member(header, "apu")?;
        let apv = optional_b64_member(header, "apv")?;
        let (len, id) = match self.kw_len() {
            Some(len) => (len, self.name()),
            None => (enc.key_len(), enc.name()),
        };
        Ok(concat_kdf(z, len, id, &apu, &apv))
    }
}

/// Picks `candidate` when it has the CEK's length, otherwise the random fallback, without branching on which.
fn select_cek(mut fallback: Vec<u8>, candidate: &[u8]) -> Vec<u8> {
    let ok = Choice::from(u8::from(candidate.len() == fallback.len()));
    for (i, byte) in fallback.iter_mut().enumerate() {
        let c = candidate.get(i).copied().unwrap_or(0);
        *byte = u8::conditional_select(byte, &c, ok);
    }
    fallback
}

/// Generates an ephemeral key on the recipient's curve; returns Z and the `epk` header value.
fn ephemeral_agreement(recipient: &Jwk) -> Result<(Vec<u8>, Value)> {
    let (z, eph) = match &recipient.key {
        KeyMaterial::Ec(peer) => {
            let eph = EcKey::generate(peer.curve());
            (eph.ecdh(peer)?, KeyMaterial::Ec(eph.to_public()))
        }
        KeyMaterial::Okp(peer) => {
            let eph = OkpKey::generate(OkpCurve::X25519)?;
            (eph.ecdh(peer)?, KeyMaterial::Okp(eph.to_public()))
        }
        _ => return Err(Error::KeyMismatch),
    };
    Ok((z, Jwk::new(eph).to_value(false)))
}

/// Z from our static private key and the sender's `epk`, which must be a public key on the same curve.
fn static_agreement(ours: &Jwk, epk: &Value) -> Result<Vec<u8>> {
    let epk =
        Jwk::from_value(epk).map_err(|_| Error::Malformed("epk is not a valid public JWK"))?;
    match (&ours.key, &epk.key) {
        (KeyMaterial::Ec(k), KeyMaterial::Ec(e)) if k.curve() == e.curve() => {
            k.ecdh(&e.to_public())
        }
        (KeyMaterial::Okp(k), KeyMaterial::Okp(e)) if e.curve() == OkpCurve::X25519 => {
            k.ecdh(&e.to_public())
        }
        _ => Err(Error::KeyMismatch),
    }
}

fn random(len: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    OsRng.try_fill_bytes(&mut v).map_err(|_| Error::Rng)?;
    Ok(v)
}

pub(crate) fn random_bytes(len: usize) -> Result<Vec<u8>> {
    random(len)
}

fn b64_member(header: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>> {
    b64::decode(
        header
            .get(name)
            .and_then(Value::as_str)
            .ok_or(Error::Malformed("missing key management header"))?,
    )
}

fn optional_b64_member(header: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>> {
    match header.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => b64::decode(s),
        Some(_) => Err(Error::Malformed("apu/apv is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in KeyAlg::ALL {
            assert_eq!(KeyAlg::from_name(alg.name()), Ok(alg));
        }
        assert!(KeyAlg::from_name("PBES2-HS256+A128KW").is_err());
    }

    #[test]
    fn rsa1_5_cek_selection_keeps_the_fallback_unless_the_length_fits() {
        let fallback = vec![9u8; 16];
        assert_eq!(select_cek(fallback.clone(), &[1u8; 16]), vec![1u8; 16]);
        assert_eq!(select_cek(fallback.clone(), &[1u8; 15]), fallback);
        assert_eq!(select_cek(fallback.clone(), &[]), fallback);
        assert_eq!(select_cek(fallback.clone(), &[1u8; 32]), fallback);
    }
}
