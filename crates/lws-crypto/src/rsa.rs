//! RSA: PKCS#1 v1.5 and PSS signatures (ring), PKCS#1 v1.5 and OAEP encryption and key generation (the `rsa`
//! crate), for moduli of 2048 to 4096 bits.
//!
//! # Timing (RUSTSEC-2023-0071, "Marvin")
//! Private-key decryption goes through the `rsa` crate, always with blinding (`decrypt_blinded`). Blinding
//! randomises the value being exponentiated, but it does not fix the advisory: the crate's big-integer
//! arithmetic (`num-bigint-dig`) is not constant time, and there is no fixed release. A local attacker who can
//! time many decryptions precisely may still learn something about the key.
//!
//! What lws-crypto does on top:
//! - JWE `RSA1_5` is refused in both directions unless the caller enables it, and when enabled decryption uses
//!   the RFC 7516 §11.5 countermeasure: a random CEK of the right length is drawn first and used whenever the
//!   decrypted key is invalid or of the wrong length (selected without branching), so a bad key surfaces as the
//!   same content-tag failure as any other tampering.
//! - OAEP and PKCS#1 v1.5 padding failures all map to one [`Error::DecryptFailed`].
//! - Signing uses ring, whose RSA private-key operation is constant time; only decryption uses `rsa`.
//!
//! Residual risk: the timing of `rsa`'s modular exponentiation during decryption (RSA1_5 and RSA-OAEP alike).
//! Deployments that decrypt RSA JWEs from untrusted senders at volume should prefer ECDH-ES.

use std::sync::OnceLock;

use rand_core::OsRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};

use crate::error::{Error, Result};
use crate::hash::HashAlg;

/// Smallest modulus accepted, in bits.
pub const MIN_BITS: usize = 2048;
/// Largest modulus accepted, in bits.
pub const MAX_BITS: usize = 4096;

/// RSA encryption padding.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPadding {
    /// RSAES-PKCS1-v1_5 (legacy; see the module doc on timing).
    Pkcs1v15,
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1.
    OaepSha1,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    OaepSha256,
}

/// RSA signature scheme.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaScheme {
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
    /// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash.
    Pss,
}

/// An RSA public key, optionally with its private part.
#[derive(Clone)]
pub struct RsaKey {
    public: RsaPublicKey,
    // Boxed: the private key is several times the size of everything else here.
    private: Option<Box<RsaPrivateKey>>,
    n: Vec<u8>,
    e: Vec<u8>,
    signer: OnceLock<Option<std::sync::Arc<ring::rsa::KeyPair>>>,
}

/// The private components of an RSA key, big-endian without leading zeros, as in a JWK.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivateParts {
    /// Private exponent.
    pub d: Vec<u8>,
    /// First prime.
    pub p: Vec<u8>,
    /// Second prime.
    pub q: Vec<u8>,
    /// d mod (p - 1).
    pub dp: Vec<u8>,
    /// d mod (q - 1).
    pub dq: Vec<u8>,
    /// q^-1 mod p.
    pub qi: Vec<u8>,
}

impl std::fmt::Debug for RsaPrivateParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateParts(..)")
    }
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("bits", &self.bits())
            .field("private", &self.private.is_some())
            .finish()
    }
}

impl RsaKey {
    /// Generates a key of `bits` (2048 to 4096, a multiple of 8) with e = 65537.
    pub fn generate(bits: usize) -> Result<RsaKey> {
        if !(MIN_BITS..=MAX_BITS).contains(&bits) || bits % 8 != 0 {
            return Err(Error::InvalidLength(
                "RSA modulus must be 2048 to 4096 bits",
            ));
        }
        let private = RsaPrivateKey::new(&mut OsRng, bits).map_err(|_| Error::Rng)?;
        Ok(RsaKey::from_private(private))
    }

    /// A public key from its modulus and exponent (big-endian).
    pub fn from_public(n: &[u8], e: &[u8]) -> Result<RsaKey> {
        let public = RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
            .map_err(|_| Error::InvalidKey("RSA public key"))?;
        let key = RsaKey::from_parts(public, None);
        key.check_size()?;
        Ok(key)
    }

    /// A private key from n, e, d and optionally the primes (recovered from d when absent). The CRT values
    /// are recomputed and the key is checked for consistency.
    pub fn from_private_parts(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        primes: Option<(&[u8], &[u8])>,
    ) -> Result<RsaKey> {
        let primes = primes
            .map(|(p, q)| vec![BigUint::from_bytes_be(p), BigUint::from_bytes_be(q)])
            .unwrap_or_default();
        // The public checks (size, exponent) first: the private constructor does not bound the modulus.
        RsaKey::from_public(n, e)?;
        let (n, d) = (BigUint::from_bytes_be(n), BigUint::from_bytes_be(d));
        // The `rsa` crate's prime recovery and checks assume these ranges (it panics on d = 0).
        let one = BigUint::from(1u8);
        let inconsistent = Error::InvalidKey("RSA private key components are inconsistent");
        if d <= one || d >= n {
            return Err(inconsistent);
        }
        if !primes.is_empty()
            && (primes.iter().any(|p| *p <= one || *p >= n) || &primes[0] * &primes[1] != n)
        {
            return Err(inconsistent);
        }
        let private = RsaPrivateKey::from_components(n, BigUint::from_bytes_be(e), d, primes)
            .map_err(|_| Error::InvalidKey("RSA private key components are inconsistent"))?;
        Ok(RsaKey::from_private(private))
    }

    /// Wraps an `rsa` crate private key.
    pub fn from_private(mut private: RsaPrivateKey) -> RsaKey {
        let _ = private.precompute();
        RsaKey::from_parts(private.to_public_key(), Some(Box::new(private)))
    }

    fn from_parts(public: RsaPublicKey, private: Option<Box<RsaPrivateKey>>) -> RsaKey {
        RsaKey {
            n: public.n().to_bytes_be(),
            e: public.e().to_bytes_be(),
            public,
            private,
            signer: OnceLock::new(),
        }
    }

    fn check_size(&self) -> Result<()> {
        if (MIN_BITS..=MAX_BITS).contains(&self.bits()) {
            Ok(())
        } else {
            Err(Error::InvalidKey("RSA modulus must be 2048 to 4096 bits"))
        }
    }

    /// Modulus length in bits.
    pub fn bits(&self) -> usize {
        self.public.n().bits()
    }

    /// Modulus, big-endian.
    pub fn n(&self) -> &[u8] {
        &self.n
    }

    /// Public exponent, big-endian.
    pub fn e(&self) -> &[u8] {
        &self.e
    }

    /// Whether the private part is present.
    pub fn is_private(&self) -> bool {
        self.private.is_some()
    }

    /// The private components, when present.
    pub fn private_parts(&self) -> Option<RsaPrivateParts> {
        let k = self.private.as_ref()?;
        let primes = k.primes();
        if primes.len() != 2 {
            return None;
        }
        Some(RsaPrivateParts {
            d: k.d().to_bytes_be(),
            p: primes[0].to_bytes_be(),
            q: primes[1].to_bytes_be(),
            dp: k.dp()?.to_bytes_be(),
            dq: k.dq()?.to_bytes_be(),
            qi: k.crt_coefficient()?.to_bytes_be(),
        })
    }

    /// The key without its private part.
    pub fn to_public(&self) -> RsaKey {
        RsaKey::from_parts(self.public.clone(), None)
    }

    /// Encrypts `msg` to this key.
    pub fn encrypt(&self, padding: RsaPadding, msg: &[u8]) -> Result<Vec<u8>> {
        let out = match padding {
            RsaPadding::Pkcs1v15 => self.public.encrypt(&mut OsRng, Pkcs1v15Encrypt, msg),
            RsaPadding::OaepSha1 => self
                .public
                .encrypt(&mut OsRng, Oaep::new::<sha1::Sha1>(), msg),
            RsaPadding::OaepSha256 => {
                self.public
                    .encrypt(&mut OsRng, Oaep::new::<sha2::Sha256>(), msg)
            }
        };
        out.map_err(|_| Error::InvalidLength("message too long for the RSA key"))
    }

    /// Decrypts `ct` with the private key, blinded; every failure is [`Error::DecryptFailed`]. See the module doc
    /// for what blinding does not cover.
    pub fn decrypt(&self, padding: RsaPadding, ct: &[u8]) -> Result<Vec<u8>> {
        let key = self.private.as_ref().ok_or(Error::NotPrivateKey)?;
        if ct.len() != self.public.size() {
            return Err(Error::DecryptFailed);
        }
        let out = match padding {
            RsaPadding::Pkcs1v15 => key.decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, ct),
            RsaPadding::OaepSha1 => key.decrypt_blinded(&mut OsRng, Oaep::new::<sha1::Sha1>(), ct),
            RsaPadding::OaepSha256 => {
                key.decrypt_blinded(&mut OsRng, Oaep::new::<sha2::Sha256>(), ct)
            }
        };
        out.map_err(|_| Error::DecryptFailed)
    }

    /// Signs `msg` (hashed here with `hash`: SHA-256, SHA-384 or SHA-512).
    pub fn sign(&self, scheme: RsaScheme, hash: HashAlg, msg: &[u8]) -> Result<Vec<u8>> {
        let signer = self.signer()?;
        let mut sig = vec![0u8; signer.public().modulus_len()];
        signer
            .sign(
                sign_encoding(scheme, hash)?,
                &ring::rand::SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|_| Error::Rng)?;
        Ok(sig)
    }

    /// Verifies a signature over `msg`.
    pub fn verify(&self, scheme: RsaScheme, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<()> {
        let params = verify_params(scheme, hash)?;
        ring::signature::RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(params, msg, sig)
        .map_err(|_| Error::SignatureInvalid)
    }

    /// ring's key pair, built once per key (parsing and checking it costs more than a signature).
    fn signer(&self) -> Result<&ring::rsa::KeyPair> {
        let cached = self.signer.get_or_init(|| {
            let parts = self.private_parts()?;
            let components = ring::rsa::KeyPairComponents {
                public_key: ring::rsa::PublicKeyComponents {
                    n: &self.n[..],
                    e: &self.e[..],
                },
                d: &parts.d[..],
                p: &parts.p[..],
                q: &parts.q[..],
                dP: &parts.dp[..],
                dQ: &parts.dq[..],
                qInv: &parts.qi[..],
            };
            ring::rsa::KeyPair::from_components(&components)
                .ok()
                .map(std::sync::Arc::new)
        });
        match cached {
            Some(pair) => Ok(pair),
            None if self.private.is_none() => Err(Error::NotPrivateKey),
            None => Err(Error::InvalidKey("RSA private key rejected for signing")),
        }
    }
}

fn sign_encoding(
    scheme: RsaScheme,
    hash: HashAlg,
) -> Result<&'static dyn ring::signature::RsaEncoding> {
    use ring::signature as s;
    Ok(match (scheme, hash) {
        (RsaScheme::Pkcs1v15, HashAlg::Sha256) => &s::RSA_PKCS1_SHA256,
        (RsaScheme::Pkcs1v15, HashAlg::Sha384) => &s::RSA_PKCS1_SHA384,
        (RsaScheme::Pkcs1v15, HashAlg::Sha512) => &s::RSA_PKCS1_SHA512,
        (RsaScheme::Pss, HashAlg::Sha256) => &s::RSA_PSS_SHA256,
        (RsaScheme::Pss, HashAlg::Sha384) => &s::RSA_PSS_SHA384,
        (RsaScheme::Pss, HashAlg::Sha512) => &s::RSA_PSS_SHA512,
        _ => return Err(Error::Unsupported("RSA signature hash")),
    })
}

fn verify_params(
    scheme: RsaScheme,
    hash: HashAlg,
) -> Result<&'static ring::signature::RsaParameters> {
    use ring::signature as s;
    Ok(match (scheme, hash) {
        (RsaScheme::Pkcs1v15, HashAlg::Sha256) => &s::RSA_PKCS1_2048_8192_SHA256,
        (RsaScheme::Pkcs1v15, HashAlg::Sha384) => &s::RSA_PKCS1_2048_8192_SHA384,
        (RsaScheme::Pkcs1v15, HashAlg::Sha512) => &s::RSA_PKCS1_2048_8192_SHA512,
        (RsaScheme::Pss, HashAlg::Sha256) => &s::RSA_PSS_2048_8192_SHA256,
        (RsaScheme::Pss, HashAlg::Sha384) => &s::RSA_PSS_2048_8192_SHA384,
        (RsaScheme::Pss, HashAlg::Sha512) => &s::RSA_PSS_2048_8192_SHA512,
        _ => return Err(Error::Unsupported("RSA signature hash")),
    })
}
