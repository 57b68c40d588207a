//! Elliptic curves P-256, P-384 and P-521: ECDSA with JWS-style fixed-width r||s signatures, and ECDH.
//!
//! ECDSA on P-256/P-384 uses ring; P-521 ECDSA, all ECDH and key generation use RustCrypto's curve crates (ring's
//! ECDH only takes ephemeral keys, and it has no P-521).

use std::sync::OnceLock;

use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::OsRng;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::hash::HashAlg;

/// A NIST curve.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Result<Curve> {
        match name {
            "P-256" => Ok(Curve::P256),
            "P-384" => Ok(Curve::P384),
            "P-521" => Ok(Curve::P521),
            _ => Err(Error::Unsupported("curve")),
        }
    }

    /// Length in bytes of a coordinate, of the private scalar and of each half of a signature.
    pub fn coord_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The hash ECDSA uses with this curve in JOSE (ES256, ES384, ES512).
    pub fn hash(self) -> HashAlg {
        match self {
            Curve::P256 => HashAlg::Sha256,
            Curve::P384 => HashAlg::Sha384,
            Curve::P521 => HashAlg::Sha512,
        }
    }
}

/// An EC public key (affine coordinates), optionally with its private scalar.
#[derive(Clone)]
pub struct EcKey {
    curve: Curve,
    x: Vec<u8>,
    y: Vec<u8>,
    d: Option<Vec<u8>>,
    signer: OnceLock<Option<std::sync::Arc<ring::signature::EcdsaKeyPair>>>,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcKey")
            .field("curve", &self.curve)
            .field("private", &self.d.is_some())
            .finish()
    }
}

/// Runs `$body` with `$m` naming the RustCrypto crate of the curve.
macro_rules! with_curve {
    ($curve:expr, $m:ident => $body:expr) => {
        match $curve {
            Curve::P256 => {
                use p256 as $m;
                $body
            }
            Curve::P384 => {
                use p384 as $m;
                $body
            }
            Curve::P521 => {
                use p521 as $m;
                $body
            }
        }
    };
}

impl EcKey {
    /// Generates a key pair on `curve`.
    pub fn generate(curve: Curve) -> EcKey {
        let (x, y, d) = with_curve!(curve, m => {
            let secret = m::SecretKey::random(&mut OsRng);
            let point = secret.public_key().to_encoded_point(false);
            // An uncompressed point always has both coordinates.
            let (x, y) = (point.x().map(|c| c.to_vec()), point.y().map(|c| c.to_vec()));
            (x.unwrap_or_default(), y.unwrap_or_default(), secret.to_bytes().to_vec())
        });
        EcKey {
            curve,
            x,
            y,
            d: Some(d),
            signer: OnceLock::new(),
        }
    }

    /// A key from its coordinates and optional private scalar (big-endian, fixed width). The point must be on the
    /// curve and the scalar must match it.
    pub fn from_coordinates(curve: Curve, x: &[u8], y: &[u8], d: Option<&[u8]>) -> Result<EcKey> {
        let len = curve.coord_len();
        if x.len() != len || y.len() != len || d.is_some_and(|d| d.len() != len) {
            return Err(Error::InvalidKey(
                "EC coordinate length does not match the curve",
            ));
        }
        let key = EcKey {
            curve,
            x: x.to_vec(),
            y: y.to_vec(),
            d: d.map(<[u8]>::to_vec),
            signer: OnceLock::new(),
        };
        let sec1 = key.sec1();
        with_curve!(curve, m => {
            let public = m::PublicKey::from_sec1_bytes(&sec1).map_err(|_| Error::InvalidKey("EC point not on the curve"))?;
            if let Some(d) = d {
                let secret = m::SecretKey::from_slice(d).map_err(|_| Error::InvalidKey("EC private scalar"))?;
                let derived = secret.public_key().to_encoded_point(false);
                if !bool::from(derived.as_bytes().ct_eq(public.to_encoded_point(false).as_bytes())) {
                    return Err(Error::InvalidKey("EC private key does not match the public key"));
                }
            }
        });
        Ok(key)
    }

    /// A public key from an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1(curve: Curve, point: &[u8]) -> Result<EcKey> {
        let len = curve.coord_len();
        if point.len() != 1 + 2 * len || point[0] != 4 {
            return Err(Error::InvalidKey("EC point must be uncompressed"));
        }
        EcKey::from_coordinates(curve, &point[1..1 + len], &point[1 + len..], None)
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The x coordinate, big-endian, fixed width.
    pub fn x(&self) -> &[u8] {
        &self.x
    }

    /// The y coordinate, big-endian, fixed width.
    pub fn y(&self) -> &[u8] {
        &self.y
    }

    /// The private scalar, when present.
    pub fn d(&self) -> Option<&[u8]> {
        self.d.as_deref()
    }

    /// The key without its private part.
    pub fn to_public(&self) -> EcKey {
        EcKey {
            curve: self.curve,
            x: self.x.clone(),
            y: self.y.clone(),
            d: None,
            signer: OnceLock::new(),
        }
    }

    /// The uncompressed SEC1 encoding of the public point.
    pub fn sec1(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 * self.x.len());
        out.push(4);
        out.extend_from_slice(&self.x);
        out.extend_from_slice(&self.y);
        out
    }

    /// ECDSA-signs `msg` with the curve's JOSE hash ([`Curve::hash`]); the signature is r||s, each
    /// [`Curve::coord_len`] bytes.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let d = self.d.as_deref().ok_or(Error::NotPrivateKey)?;
        if self.curve == Curve::P521 {
            use p521::ecdsa::signature::RandomizedSigner;
            let key = p521::ecdsa::SigningKey::from_slice(d)
                .map_err(|_| Error::InvalidKey("EC private scalar"))?;
            let sig: p521::ecdsa::Signature = key
                .try_sign_with_rng(&mut OsRng, msg)
                .map_err(|_| Error::Rng)?;
            return Ok(sig.to_bytes().to_vec());
        }
        let signer = self.ring_signer()?;
        let sig = signer
            .sign(&ring::rand::SystemRandom::new(), msg)
            .map_err(|_| Error::Rng)?;
        Ok(sig.as_ref().to_vec())
    }

    /// Verifies an r||s ECDSA signature over `msg` with the curve's JOSE hash.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
        if sig.len() != 2 * self.curve.coord_len() {
            return Err(Error::SignatureInvalid);
        }
        let alg = match self.curve {
            Curve::P256 => &ring::signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &ring::signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => {
                use p521::ecdsa::signature::Verifier;
                let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&self.sec1())
                    .map_err(|_| Error::InvalidKey("EC point not on the curve"))?;
                let sig =
                    p521::ecdsa::Signature::from_slice(sig).map_err(|_| Error::SignatureInvalid)?;
                return key.verify(msg, &sig).map_err(|_| Error::SignatureInvalid);
            }
        };
        ring::signature::UnparsedPublicKey::new(alg, self.sec1())
            .verify(msg, sig)
            .map_err(|_| Error::SignatureInvalid)
    }

    /// ECDH: the shared secret (the x coordinate of d·Q) between this private key and `peer`'s public key.
    pub fn ecdh(&self, peer: &EcKey) -> Result<Vec<u8>> {
        if peer.curve != self.curve {
            return Err(Error::KeyMismatch);
        }
        let d = self.d.as_deref().ok_or(Error::NotPrivateKey)?;
        let peer_point = peer.sec1();
        with_curve!(self.curve, m => {
            let secret = m::SecretKey::from_slice(d).map_err(|_| Error::InvalidKey("EC private scalar"))?;
            let public = m::PublicKey::from_sec1_bytes(&peer_point).map_err(|_| Error::InvalidKey("EC point not on the curve"))?;
            let shared = m::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            Ok(shared.raw_secret_bytes().to_vec())
        })
    }

    fn ring_signer(&self) -> Result<&ring::signature::EcdsaKeyPair> {
        let cached = self.signer.get_or_init(|| {
            let alg = match self.curve {
                Curve::P256 => &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                Curve::P384 => &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                Curve::P521 => return None,
            };
            let d = self.d.as_deref()?;
            ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                alg,
                d,
                &self.sec1(),
                &ring::rand::SystemRandom::new(),
            )
            .ok()
            .map(std::sync::Arc::new)
        });
        match cached {
            Some(pair) => Ok(pair),
            None if self.d.is_none() => Err(Error::NotPrivateKey),
            None => Err(Error::InvalidKey("EC private key rejected for signing")),
        }
    }
}
