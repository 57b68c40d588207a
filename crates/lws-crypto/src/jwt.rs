//! JSON Web Tokens (RFC 7519) signed as compact JWS: sign a claims object, validate with an algorithm
//! allow-list and the time, issuer and audience checks.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::{ClaimError, Error, Result};
use crate::jwk::Jwk;
use crate::jws::{self, JwsAlg, VerifyOptions};

/// What a JWT must satisfy.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Accepted algorithms; a token signed with any other is refused. `none` is never accepted for a JWT.
    pub algorithms: Vec<JwsAlg>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required audience (a string `aud` equal to it, or an array containing it), when set.
    pub audience: Option<String>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Refuse tokens without `exp`.
    pub require_exp: bool,
    /// The current time in seconds since the epoch; `None` reads the system clock.
    pub now: Option<u64>,
    /// Largest token accepted, in bytes.
    pub max_len: usize,
}

impl Validation {
    /// Accepts `algorithms`, requires `exp`, 60 s leeway, no issuer or audience check.
    pub fn new(algorithms: &[JwsAlg]) -> Validation {
        Validation {
            algorithms: algorithms
                .iter()
                .copied()
                .filter(|a| *a != JwsAlg::None)
                .collect(),
            issuer: None,
            audience: None,
            leeway: 60,
            require_exp: true,
            now: None,
            max_len: 64 * 1024,
        }
    }
}

/// Signs `claims` into a compact JWT with `typ: JWT`.
pub fn sign(key: &Jwk, alg: JwsAlg, claims: &Map<String, Value>) -> Result<String> {
    let mut header = Map::new();
    header.insert("typ".into(), Value::String("JWT".into()));
    jws::sign_compact(
        key,
        alg,
        Value::Object(claims.clone()).to_string().as_bytes(),
        &header,
    )
}

/// Verifies the signature and checks the claims; returns the claims.
pub fn validate(token: &str, key: &Jwk, v: &Validation) -> Result<Map<String, Value>> {
    let algorithms: Vec<JwsAlg> = v
        .algorithms
        .iter()
        .copied()
        .filter(|a| *a != JwsAlg::None)
        .collect();
    let opts = VerifyOptions {
        allow_none: false,
        algorithms: Some(algorithms),
        max_len: v.max_len,
    };
    let verified = jws::verify_compact(token, key, &opts)?;
    let claims: Value = serde_json::from_slice(&verified.payload)
        .map_err(|_| Error::Claim(ClaimError::Malformed))?;
    let Value::Object(claims) = claims else {
        return Err(Error::Claim(ClaimError::Malformed));
    };
    check_claims(&claims, v)?;
    Ok(claims)
}

/// The claim checks alone, on an already verified claims object.
pub fn check_claims(claims: &Map<String, Value>, v: &Validation) -> Result<()> {
    let now = v.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let fail = |c| Err(Error::Claim(c));
    match time_claim(claims, "exp")? {
        Some(exp) if now >= exp.saturating_add(v.leeway) => return fail(ClaimError::Expired),
        None if v.require_exp => return fail(ClaimError::Expired),
        _ => {}
    }
    if time_claim(claims, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(v.leeway)) {
        return fail(ClaimError::NotYetValid);
    }
    if time_claim(claims, "iat")?.is_some_and(|iat| iat > now.saturating_add(v.leeway)) {
        return fail(ClaimError::IssuedInFuture);
    }
    if let Some(iss) = &v.issuer {
        if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
            return fail(ClaimError::Issuer);
        }
    }
    if let Some(aud) = &v.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == aud,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud.as_str())),
            _ => false,
        };
        if !ok {
            return fail(ClaimError::Audience);
        }
    }
    Ok(())
}

/// A NumericDate claim: a non-negative number of seconds (fractions truncated).
fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or(Error::Claim(ClaimError::Malformed)),
        Some(_) => Err(Error::Claim(ClaimError::Malformed)),
    }
}
