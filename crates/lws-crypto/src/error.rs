//! The one error type of lws-crypto: each variant names what was wrong, never a free-form string.

use std::fmt;

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in lws-crypto. Errors from peer input carry no secret-dependent detail: a bad
/// JWE tag, a bad padding and a bad key unwrap all surface as [`Error::DecryptFailed`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The algorithm is not allowed here: `none` without an explicit opt-in, an algorithm outside the caller's
    /// allow-list, or `RSA1_5` without [`crate::jwe::DecryptOptions::allow_rsa1_5`].
    AlgorithmNotAllowed,
    /// A JWT claim check failed.
    Claim(ClaimError),
    /// The `crit` header lists an extension this implementation does not understand (RFC 7515 §4.1.11).
    CriticalHeader,
    /// Authenticated decryption failed: altered ciphertext, tag, AAD, IV or wrapped key, or the wrong key.
    DecryptFailed,
    /// The input is larger than the configured limit.
    InputTooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// A file could not be read or written.
    Io(std::io::ErrorKind),
    /// A base64url field does not decode (bad alphabet, padding or length).
    InvalidBase64,
    /// A key is malformed: a bad point, a modulus out of range, a private part that does not match the public one.
    InvalidKey(&'static str),
    /// The input is not valid JSON, or not the JSON object expected.
    InvalidJson,
    /// A key, IV, nonce or tag has the wrong length for the operation.
    InvalidLength(&'static str),
    /// The key does not fit the algorithm (type, curve, size, `use`, `key_ops` or `alg` metadata).
    KeyMismatch,
    /// The structure is wrong: segment count, a missing or duplicated member, a value of the wrong type.
    Malformed(&'static str),
    /// The operation needs a private key and the key only holds the public part.
    NotPrivateKey,
    /// The random number generator failed.
    Rng,
    /// A signature or MAC does not verify.
    SignatureInvalid,
    /// The algorithm name (or curve, or key type) is not one this crate implements.
    Unsupported(&'static str),
    /// An x.509 certificate could not be parsed.
    X509Parse,
    /// An x.509 chain did not verify (untrusted, expired, bad signature, wrong usage).
    X509Untrusted,
    /// The certificate is valid but not for the requested name.
    X509NameMismatch,
}

/// Which JWT claim check failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    /// `exp` is in the past (beyond the leeway), or missing while required.
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `iss` is missing or differs from the expected issuer.
    Issuer,
    /// `aud` is missing or does not contain the expected audience.
    Audience,
    /// A time claim is not a number, or the claims are not a JSON object.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlgorithmNotAllowed => f.write_str("algorithm not allowed"),
            Error::Claim(c) => write!(f, "JWT claim check failed: {c}"),
            Error::CriticalHeader => f.write_str("unsupported critical header parameter"),
            Error::DecryptFailed => f.write_str("decryption failed"),
            Error::InputTooLarge { what, limit } => {
                write!(f, "{what} larger than the limit of {limit} bytes")
            }
            Error::Io(kind) => write!(f, "i/o error: {kind}"),
            Error::InvalidBase64 => f.write_str("invalid base64url"),
            Error::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Error::InvalidJson => f.write_str("invalid JSON"),
            Error::InvalidLength(what) => write!(f, "wrong length: {what}"),
            Error::KeyMismatch => f.write_str("key does not fit the algorithm"),
            Error::Malformed(what) => write!(f, "malformed input: {what}"),
            Error::NotPrivateKey => f.write_str("operation needs a private key"),
            Error::Rng => f.write_str("random number generator failed"),
            Error::SignatureInvalid => f.write_str("signature does not verify"),
            Error::Unsupported(what) => write!(f, "unsupported {what}"),
            Error::X509Parse => f.write_str("certificate does not parse"),
            Error::X509Untrusted => f.write_str("certificate chain does not verify"),
            Error::X509NameMismatch => f.write_str("certificate is not valid for the name"),
        }
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClaimError::Expired => "token expired",
            ClaimError::NotYetValid => "token not yet valid",
            ClaimError::IssuedInFuture => "token issued in the future",
            ClaimError::Issuer => "issuer mismatch",
            ClaimError::Audience => "audience mismatch",
            ClaimError::Malformed => "malformed claims",
        })
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.kind())
    }
}
