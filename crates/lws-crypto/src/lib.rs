//! Generic crypto, JOSE (JWK, JWS, JWE, JWT) and x.509 for lws-rs, usable without any networking (the
//! `LWS_WITH_NETWORK=0` case of libwebsockets): nothing here depends on tokio or sockets.
//!
//! Primitives come from ring where it has them (SHA-2, HMAC, AES-128/256-GCM, ECDSA P-256/P-384, Ed25519, RSA
//! signatures) and from RustCrypto crates for the rest (AES block modes and key wrap, AES-192-GCM, RSA
//! encryption and key generation, P-521, ECDH on static keys). What this crate owns is one API over both, the
//! JOSE formats, key handling and the checks: every parser has a size limit, every algorithm must fit its key,
//! `none` and `RSA1_5` need an explicit opt-in, and bad input is a typed [`Error`], never a panic.
//!
//! Modules: [`hash`], [`hmac`], [`hkdf`], [`aes`], [`keywrap`], [`rsa`], [`ec`], [`okp`] (primitives);
//! [`jwk`], [`jws`], [`jwt`], [`jwe`] (JOSE); [`x509`].
#![forbid(unsafe_code)]

pub mod aes;
pub mod b64;
pub mod ec;
mod error;
pub mod hash;
pub mod hkdf;
pub mod hmac;
pub mod jwe;
pub mod jwk;
pub mod jws;
pub mod jwt;
pub mod keywrap;
pub mod okp;
pub mod rsa;
pub mod x509;

pub use error::{ClaimError, Error, Result};
pub use hash::HashAlg;
pub use jwk::{Jwk, JwkSet, KeyGen, KeyMaterial};
