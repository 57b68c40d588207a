//! Octet key pairs (RFC 8037): Ed25519 signatures (ring) and X25519 key agreement (x25519-dalek).

use std::sync::OnceLock;

use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// An OKP curve.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OkpCurve {
    /// Ed25519 (EdDSA signatures).
    Ed25519,
    /// X25519 (ECDH).
    X25519,
}

impl OkpCurve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            OkpCurve::Ed25519 => "Ed25519",
            OkpCurve::X25519 => "X25519",
        }
    }

    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Result<OkpCurve> {
        match name {
            "Ed25519" => Ok(OkpCurve::Ed25519),
            "X25519" => Ok(OkpCurve::X25519),
            _ => Err(Error::Unsupported("curve")),
        }
    }
}

/// An OKP public key, optionally with its private key (32 bytes each).
#[derive(Clone)]
pub struct OkpKey {
    curve: OkpCurve,
    x: Vec<u8>,
    d: Option<Vec<u8>>,
    signer: OnceLock<Option<std::sync::Arc<ring::signature::Ed25519KeyPair>>>,
}

impl std::fmt::Debug for OkpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OkpKey")
            .field("curve", &self.curve)
            .field("private", &self.d.is_some())
            .finish()
    }
}

impl OkpKey {
    /// Generates a key on `curve`.
    pub fn generate(curve: OkpCurve) -> Result<OkpKey> {
        let mut d = [0u8; 32];
        OsRng.try_fill_bytes(&mut d).map_err(|_| Error::Rng)?;
        let x = public_from_private(curve, &d)?;
        Ok(OkpKey {
            curve,
            x,
            d: Some(d.to_vec()),
            signer: OnceLock::new(),
        })
    }

    /// A key from its public part `x` and optional private part `d`; `d` must match `x`.
    pub fn from_parts(curve: OkpCurve, x: &[u8], d: Option<&[u8]>) -> Result<OkpKey> {
        if x.len() != 32 || d.is_some_and(|d| d.len() != 32) {
            return Err(Error::InvalidKey("OKP keys are 32 bytes"));
        }
        if let Some(d) = d {
            let derived = public_from_private(curve, d)?;
            if !bool::from(derived.ct_eq(x)) {
                return Err(Error::InvalidKey(
                    "OKP private key does not match the public key",
                ));
            }
        }
        Ok(OkpKey {
            curve,
            x: x.to_vec(),
            d: d.map(<[u8]>::to_vec),
            signer: OnceLock::new(),
        })
    }

    /// The curve.
    pub fn curve(&self) -> OkpCurve {
        self.curve
    }

    /// The public key.
    pub fn x(&self) -> &[u8] {
        &self.x
    }

    /// The private key, when present.
    pub fn d(&self) -> Option<&[u8]> {
        self.d.as_deref()
    }

    /// The key without its private part.
    pub fn to_public(&self) -> OkpKey {
        OkpKey {
            curve: self.curve,
            x: self.x.clone(),
            d: None,
            signer: OnceLock::new(),
        }
    }

    /// Ed25519-signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        if self.curve != OkpCurve::Ed25519 {
            return Err(Error::KeyMismatch);
        }
        let cached = self.signer.get_or_init(|| {
            let d = self.d.as_deref()?;
            ring::signature::Ed25519KeyPair::from_seed_and_public_key(d, &self.x)
                .ok()
                .map(std::sync::Arc::new)
        });
        let pair = cached.as_ref().ok_or(Error::NotPrivateKey)?;
        Ok(pair.sign(msg).as_ref().to_vec())
    }

    /// Verifies an Ed25519 signature.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
        if self.curve != OkpCurve::Ed25519 {
            return Err(Error::KeyMismatch);
        }
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.x)
            .verify(msg, sig)
            .map_err(|_| Error::SignatureInvalid)
    }

    /// X25519: the shared secret between this private key and `peer`; an all-zero result (a small-order peer
    /// point) is refused.
    pub fn ecdh(&self, peer: &OkpKey) -> Result<Vec<u8>> {
        if self.curve != OkpCurve::X25519 || peer.curve != OkpCurve::X25519 {
            return Err(Error::KeyMismatch);
        }
        let d: [u8; 32] = self
            .d
            .as_deref()
            .ok_or(Error::NotPrivateKey)?
            .try_into()
            .map_err(|_| Error::NotPrivateKey)?;
        let x: [u8; 32] = peer
            .x
            .as_slice()
            .try_into()
            .map_err(|_| Error::InvalidKey("OKP keys are 32 bytes"))?;
        let shared =
            x25519_dalek::StaticSecret::from(d).diffie_hellman(&x25519_dalek::PublicKey::from(x));
        if !shared.was_contributory() {
            return Err(Error::InvalidKey("X25519 peer key of small order"));
        }
        Ok(shared.as_bytes().to_vec())
    }
}

fn public_from_private(curve: OkpCurve, d: &[u8]) -> Result<Vec<u8>> {
    match curve {
        OkpCurve::Ed25519 => {
            use ring::signature::KeyPair;
            let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(d)
                .map_err(|_| Error::InvalidKey("Ed25519 seed"))?;
            Ok(pair.public_key().as_ref().to_vec())
        }
        OkpCurve::X25519 => {
            let d: [u8; 32] = d
                .try_into()
                .map_err(|_| Error::InvalidKey("OKP keys are 32 bytes"))?;
            Ok(
                x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(d))
                    .as_bytes()
                    .to_vec(),
            )
        }
    }
}
