//! JSON Web Signature (RFC 7515) with the RFC 7518 algorithms and EdDSA (RFC 8037), in compact, flattened
//! JSON and general JSON form.
//!
//! `none` parses ([`decode_compact`]) but every verify path refuses it unless [`VerifyOptions::allow_none`] is
//! set. The key must fit the algorithm (type, curve, size) and its metadata (`alg`, `use`, `key_ops`).

use serde_json::{Map, Value};

use crate::b64;
use crate::ec::Curve;
use crate::error::{Error, Result};
use crate::hash::HashAlg;
use crate::hmac;
use crate::jwk::{Jwk, KeyMaterial, KeyOp};
use crate::okp::OkpCurve;
use crate::rsa::RsaScheme;

/// Default largest JWS accepted (any form), in bytes.
pub const DEFAULT_MAX_JWS: usize = 1 << 20;
/// Most signatures accepted in one general JSON JWS.
pub const MAX_SIGNATURES: usize = 16;

/// A JWS algorithm (`alg`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    /// Unsecured: no signature. Refused by verification unless explicitly allowed.
    None,
    /// HMAC SHA-256.
    Hs256,
    /// HMAC SHA-384.
    Hs384,
    /// HMAC SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    Rs512,
    /// ECDSA P-256 SHA-256.
    Es256,
    /// ECDSA P-384 SHA-384.
    Es384,
    /// ECDSA P-521 SHA-512.
    Es512,
    /// RSASSA-PSS SHA-256.
    Ps256,
    /// RSASSA-PSS SHA-384.
    Ps384,
    /// RSASSA-PSS SHA-512.
    Ps512,
    /// EdDSA with Ed25519.
    EdDsa,
}

impl JwsAlg {
    /// Every algorithm that signs (all but `none`).
    pub const SIGNING: [JwsAlg; 13] = [
        JwsAlg::Hs256,
        JwsAlg::Hs384,
        JwsAlg::Hs512,
        JwsAlg::Rs256,
        JwsAlg::Rs384,
        JwsAlg::Rs512,
        JwsAlg::Es256,
        JwsAlg::Es384,
        JwsAlg::Es512,
        JwsAlg::Ps256,
        JwsAlg::Ps384,
        JwsAlg::Ps512,
        JwsAlg::EdDsa,
    ];

    /// The `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::None => "none",
            JwsAlg::Hs256 => "HS256",
            JwsAlg::Hs384 => "HS384",
            JwsAlg::Hs512 => "HS512",
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Rs384 => "RS384",
            JwsAlg::Rs512 => "RS512",
            JwsAlg::Es256 => "ES256",
            JwsAlg::Es384 => "ES384",
            JwsAlg::Es512 => "ES512",
            JwsAlg::Ps256 => "PS256",
            JwsAlg::Ps384 => "PS384",
            JwsAlg::Ps512 => "PS512",
            JwsAlg::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` name.
    pub fn from_name(name: &str) -> Result<JwsAlg> {
        if name == "none" {
            return Ok(JwsAlg::None);
        }
        JwsAlg::SIGNING
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or(Error::Unsupported("JWS algorithm"))
    }

    fn hash(self) -> HashAlg {
        match self {
            JwsAlg::Hs384 | JwsAlg::Rs384 | JwsAlg::Es384 | JwsAlg::Ps384 => HashAlg::Sha384,
            JwsAlg::Hs512 | JwsAlg::Rs512 | JwsAlg::Es512 | JwsAlg::Ps512 => HashAlg::Sha512,
            _ => HashAlg::Sha256,
        }
    }
}

/// What a verification accepts.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Accept `alg: none` (with an empty signature). Off by default; only for callers that authenticate the
    /// content some other way.
    pub allow_none: bool,
    /// When set, only these algorithms are accepted (checked before any key work).
    pub algorithms: Option<Vec<JwsAlg>>,
    /// Largest input accepted, in bytes.
    pub max_len: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            allow_none: false,
            algorithms: None,
            max_len: DEFAULT_MAX_JWS,
        }
    }
}

impl VerifyOptions {
    /// Options accepting only `algorithms`.
    pub fn allowing(algorithms: &[JwsAlg]) -> VerifyOptions {
        VerifyOptions {
            algorithms: Some(algorithms.to_vec()),
            ..VerifyOptions::default()
        }
    }

    fn check_alg(&self, alg: JwsAlg) -> Result<()> {
        if alg == JwsAlg::None && !self.allow_none {
            return Err(Error::AlgorithmNotAllowed);
        }
        match &self.algorithms {
            Some(list) if !list.contains(&alg) => Err(Error::AlgorithmNotAllowed),
            _ => Ok(()),
        }
    }
}

/// A verified JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The JOSE header (protected and unprotected members merged).
    pub header: Map<String, Value>,
    /// The algorithm that verified.
    pub alg: JwsAlg,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactJws {
    /// The protected header.
    pub header: Map<String, Value>,
    /// Its `alg`.
    pub alg: JwsAlg,
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    signing_input_len: usize,
}

/// Signs `input` with `alg` and `key`, returning the raw signature (JWS form: r||s for ECDSA). `none` gives an
/// empty signature.
pub fn sign_bytes(alg: JwsAlg, key: &Jwk, input: &[u8]) -> Result<Vec<u8>> {
    check_key(alg, key, KeyOp::Sign)?;
    match (&key.key, alg) {
        (_, JwsAlg::None) => Ok(Vec::new()),
        (KeyMaterial::Oct(k), _) => Ok(hmac::sign(alg.hash(), k, input)),
        (KeyMaterial::Rsa(k), JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512) => {
            k.sign(RsaScheme::Pss, alg.hash(), input)
        }
        (KeyMaterial::Rsa(k), _) => k.sign(RsaScheme::Pkcs1v15, alg.hash(), input),
        (KeyMaterial::Ec(k), _) => k.sign(input),
        (KeyMaterial::Okp(k), _) => k.sign(input),
    }
}

/// Verifies a raw signature over `input`. `none` is always refused here: callers that allow it skip this.
pub fn verify_bytes(alg: JwsAlg, key: &Jwk, input: &[u8], sig: &[u8]) -> Result<()> {
    if alg == JwsAlg::None {
        return Err(Error::AlgorithmNotAllowed);
    }
    check_key(alg, key, KeyOp::Verify)?;
    match &key.key {
        KeyMaterial::Oct(k) => hmac::verify(alg.hash(), k, input, sig),
        KeyMaterial::Rsa(k) => {
            let scheme = match alg {
                JwsAlg::Ps256 | JwsAlg::Ps384 | JwsAlg::Ps512 => RsaScheme::Pss,
                _ => RsaScheme::Pkcs1v15,
            };
            k.verify(scheme, alg.hash(), input, sig)
        }
        KeyMaterial::Ec(k) => k.verify(input, sig),
        KeyMaterial::Okp(k) => k.verify(input, sig),
    }
}

/// Checks that `key` may be used with `alg` for `op`: type, curve and size fit, and its metadata allows it.
pub fn check_key(alg: JwsAlg, key: &Jwk, op: KeyOp) -> Result<()> {
    if key.meta.alg.as_deref().is_some_and(|a| a != alg.name()) || !key.permits(op) {
        return Err(Error::KeyMismatch);
    }
    let fits = match (alg, &key.key) {
        (JwsAlg::None, _) => true,
        (JwsAlg::Hs256 | JwsAlg::Hs384 | JwsAlg::Hs512, KeyMaterial::Oct(k)) => {
            k.len() >= alg.hash().output_len()
        }
        (
            JwsAlg::Rs256
            | JwsAlg::Rs384
            | JwsAlg::Rs512
            | JwsAlg::Ps256
            | JwsAlg::Ps384
            | JwsAlg::Ps512,
            KeyMaterial::Rsa(_),
        ) => true,
        (JwsAlg::Es256, KeyMaterial::Ec(k)) => k.curve() == Curve::P256,
        (JwsAlg::Es384, KeyMaterial::Ec(k)) => k.curve() == Curve::P384,
        (JwsAlg::Es512, KeyMaterial::Ec(k)) => k.curve() == Curve::P521,
        (JwsAlg::EdDsa, KeyMaterial::Okp(k)) => k.curve() == OkpCurve::Ed25519,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Error::KeyMismatch)
    }
}

/// Signs `payload` into a compact JWS. `header` holds extra protected members (`typ`, `kid`, ...); `alg` is set
/// here, and `kid` is taken from the key when the header has none.
pub fn sign_compact(
    key: &Jwk,
    alg: JwsAlg,
    payload: &[u8],
    header: &Map<String, Value>,
) -> Result<String> {
    let protected = b64::encode(protected_header(key, alg, header).to_string().as_bytes());
    let mut out = String::with_capacity(protected.len() + payload.len() * 4 / 3 + 400);
    out.push_str(&protected);
    out.push('.');
    out.push_str(&b64::encode(payload));
    let sig = sign_bytes(alg, key, out.as_bytes())?;
    out.push('.');
    out.push_str(&b64::encode(&sig));
    Ok(out)
}

/// Parses a compact JWS without verifying it (`none` included).
pub fn decode_compact(token: &str, max_len: usize) -> Result<CompactJws> {
    if token.len() > max_len {
        return Err(Error::InputTooLarge {
            what: "JWS",
            limit: max_len,
        });
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("compact JWS must have three segments"));
    };
    let header = decode_header(h)?;
    let alg = header_alg(&header)?;
    Ok(CompactJws {
        header,
        alg,
        payload: b64::decode(p)?,
        signature: b64::decode(s)?,
        signing_input_len: h.len() + 1 + p.len(),
    })
}

/// Verifies a compact JWS with `key`.
pub fn verify_compact(token: &str, key: &Jwk, opts: &VerifyOptions) -> Result<Verified> {
    let jws = decode_compact(token, opts.max_len)?;
    opts.check_alg(jws.alg)?;
    let input = &token.as_bytes()[..jws.signing_input_len];
    verify_one(jws.alg, key, input, &jws.signature)?;
    Ok(Verified {
        header: jws.header,
        alg: jws.alg,
        payload: jws.payload,
    })
}

/// Signs `payload` into a flattened JSON JWS.
pub fn sign_flattened(
    key: &Jwk,
    alg: JwsAlg,
    payload: &[u8],
    header: &Map<String, Value>,
) -> Result<String> {
    let payload_b64 = b64::encode(payload);
    let sig = json_signature(key, alg, &payload_b64, header)?;
    let mut obj = sig;
    obj.insert("payload".into(), Value::String(payload_b64));
    Ok(Value::Object(obj).to_string())
}

/// Signs `payload` into a general JSON JWS with one signature per (key, algorithm).
pub fn sign_general(payload: &[u8], signers: &[(&Jwk, JwsAlg)]) -> Result<String> {
    let payload_b64 = b64::encode(payload);
    let sigs = signers
        .iter()
        .map(|(key, alg)| json_signature(key, *alg, &payload_b64, &Map::new()).map(Value::Object))
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({ "payload": payload_b64, "signatures": sigs }).to_string())
}

/// Verifies a flattened or general JSON JWS: it verifies when any of its signatures verifies with `key`.
pub fn verify_json(text: &str, key: &Jwk, opts: &VerifyOptions) -> Result<Verified> {
    if text.len() > opts.max_len {
        return Err(Error::InputTooLarge {
            what: "JWS",
            limit: opts.max_len,
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|_| Error::InvalidJson)?;
    let obj = value.as_object().ok_or(Error::InvalidJson)?;
    let payload_b64 = obj
        .get("payload")
        .and_then(Value::as_str)
        .ok_or(Error::Malformed("JWS JSON without payload"))?;
    let payload = b64::decode(payload_b64)?;
    let entries: Vec<&Map<String, Value>> = match obj.get("signatures") {
        Some(Value::Array(list)) => {
            if obj.contains_key("signature") || list.is_empty() {
                return Err(Error::Malformed(
                    "JWS JSON mixes general and flattened forms",
                ));
            }
            if list.len() > MAX_SIGNATURES {
                return Err(Error::InputTooLarge {
                    what: "JWS signatures",
                    limit: MAX_SIGNATURES,
                });
            }
            list.iter()
                .map(|v| v.as_object().ok_or(Error::Malformed("signature entry")))
                .collect::<Result<_>>()?
        }
        Some(_) => return Err(Error::Malformed("signatures is not an array")),
        None => vec![obj],
    };
    let mut last = Error::SignatureInvalid;
    for entry in entries {
        match verify_entry(entry, payload_b64, key, opts) {
            Ok((header, alg)) => {
                return Ok(Verified {
                    header,
                    alg,
                    payload,
                })
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn verify_entry(
    entry: &Map<String, Value>,
    payload_b64: &str,
    key: &Jwk,
    opts: &VerifyOptions,
) -> Result<(Map<String, Value>, JwsAlg)> {
    let protected_b64 = match entry.get("protected") {
        None => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::Malformed("protected is not a string")),
    };
    let mut header = if protected_b64.is_empty() {
        Map::new()
    } else {
        decode_header(protected_b64)?
    };
    if let Some(unprotected) = entry.get("header") {
        let unprotected = unprotected
            .as_object()
            .ok_or(Error::Malformed("header is not an object"))?;
        for (k, v) in unprotected {
            if k == "crit" || header.insert(k.clone(), v.clone()).is_some() {
                return Err(Error::Malformed(
                    "header member in both protected and unprotected headers",
                ));
            }
        }
    }
    let alg = header_alg(&header)?;
    opts.check_alg(alg)?;
    let sig = b64::decode(
        entry
            .get("signature")
            .and_then(Value::as_str)
            .ok_or(Error::Malformed("no signature"))?,
    )?;
    let input = format!("{protected_b64}.{payload_b64}");
    verify_one(alg, key, input.as_bytes(), &sig)?;
    Ok((header, alg))
}

fn verify_one(alg: JwsAlg, key: &Jwk, input: &[u8], sig: &[u8]) -> Result<()> {
    if alg == JwsAlg::None {
        // Only reached when the options allow `none`: the signature must then be empty.
        return if sig.is_empty() {
            Ok(())
        } else {
            Err(Error::SignatureInvalid)
        };
    }
    verify_bytes(alg, key, input, sig)
}

fn json_signature(
    key: &Jwk,
    alg: JwsAlg,
    payload_b64: &str,
    header: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    let protected = b64::encode(protected_header(key, alg, header).to_string().as_bytes());
    let sig = sign_bytes(alg, key, format!("{protected}.{payload_b64}").as_bytes())?;
    let mut obj = Map::new();
    obj.insert("protected".into(), Value::String(protected));
    obj.insert("signature".into(), Value::String(b64::encode(&sig)));
    Ok(obj)
}

fn protected_header(key: &Jwk, alg: JwsAlg, extra: &Map<String, Value>) -> Value {
    let mut header = extra.clone();
    header.insert("alg".into(), Value::String(alg.name().into()));
    if let (Some(kid), false) = (&key.meta.kid, header.contains_key("kid")) {
        header.insert("kid".into(), Value::String(kid.clone()));
    }
    Value::Object(header)
}

/// Decodes and parses a base64url JSON header; a `crit` member is refused (no extension is understood here).
pub(crate) fn decode_header(b64_header: &str) -> Result<Map<String, Value>> {
    let bytes = b64::decode(b64_header)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson)?;
    let Value::Object(map) = value else {
        return Err(Error::InvalidJson);
    };
    if map.contains_key("crit") {
        return Err(Error::CriticalHeader);
    }
    Ok(map)
}

fn header_alg(header: &Map<String, Value>) -> Result<JwsAlg> {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Error::Malformed("JWS header without alg"))?;
    JwsAlg::from_name(alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in JwsAlg::SIGNING {
            assert_eq!(JwsAlg::from_name(alg.name()), Ok(alg));
        }
        assert_eq!(JwsAlg::from_name("none"), Ok(JwsAlg::None));
        assert!(JwsAlg::from_name("NONE").is_err());
        assert!(JwsAlg::from_name("HS1").is_err());
    }

    #[test]
    fn verify_bytes_never_accepts_none() {
        let key = Jwk::oct(&[0u8; 32]);
        assert_eq!(
            verify_bytes(JwsAlg::None, &key, b"x", b""),
            Err(Error::AlgorithmNotAllowed)
        );
    }
}
