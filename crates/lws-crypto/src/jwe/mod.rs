//! JSON Web Encryption (RFC 7516) with the RFC 7518 algorithms: compact, flattened JSON and general JSON forms,
//! and `zip: "DEF"` with a bound on the inflated size.
//!
//! `RSA1_5` is refused in both directions unless [`EncryptOptions::allow_rsa1_5`] /
//! [`DecryptOptions::allow_rsa1_5`] is set; see [`crate::rsa`] for what is and is not done about RSA
//! decryption timing (RUSTSEC-2023-0071).

mod alg;
mod enc;
mod kdf;

use std::io::Read;

use serde_json::{Map, Value};

pub use alg::KeyAlg;
pub use enc::ContentEnc;
pub use kdf::concat_kdf;

use crate::b64;
use crate::error::{Error, Result};
use crate::jwk::Jwk;

/// Default largest JWE accepted, in bytes.
pub const DEFAULT_MAX_JWE: usize = 1 << 20;
/// Default largest plaintext after inflating `zip: "DEF"`, in bytes.
pub const DEFAULT_MAX_INFLATED: usize = 1 << 20;
/// Most recipients accepted in one general JSON JWE.
pub const MAX_RECIPIENTS: usize = 16;

/// Producer options.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// Compress the plaintext with raw DEFLATE first (`zip: "DEF"`).
    pub zip: bool,
    /// Extra protected header members (`kid`, `cty`, `apu`, `apv`, ...); `alg`, `enc` and `zip` are set here.
    pub header: Map<String, Value>,
    /// Allow producing `RSA1_5`.
    pub allow_rsa1_5: bool,
}

/// Consumer options.
#[derive(Debug, Clone)]
pub struct DecryptOptions {
    /// Accept `RSA1_5` (off by default).
    pub allow_rsa1_5: bool,
    /// When set, only these key management algorithms are accepted.
    pub algorithms: Option<Vec<KeyAlg>>,
    /// When set, only these content encryptions are accepted.
    pub encryptions: Option<Vec<ContentEnc>>,
    /// Largest input accepted, in bytes.
    pub max_len: usize,
    /// Largest plaintext after inflation, in bytes.
    pub max_inflated: usize,
}

impl Default for DecryptOptions {
    fn default() -> Self {
        DecryptOptions {
            allow_rsa1_5: false,
            algorithms: None,
            encryptions: None,
            max_len: DEFAULT_MAX_JWE,
            max_inflated: DEFAULT_MAX_INFLATED,
        }
    }
}

/// A decrypted JWE.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The JOSE header (protected, shared unprotected and per-recipient members merged).
    pub header: Map<String, Value>,
    /// The key management algorithm.
    pub alg: KeyAlg,
    /// The content encryption.
    pub enc: ContentEnc,
    /// The plaintext (inflated when `zip` was set).
    pub plaintext: Vec<u8>,
}

/// The encrypted parts shared by every recipient.
struct Sealed {
    protected_b64: String,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

/// Encrypts `plaintext` to `key` into a compact JWE.
pub fn encrypt_compact(
    key: &Jwk,
    alg: KeyAlg,
    enc: ContentEnc,
    plaintext: &[u8],
    opts: &EncryptOptions,
) -> Result<String> {
    let (sealed, encrypted_key) = encrypt_single(key, alg, enc, plaintext, opts, None)?;
    Ok([
        sealed.protected_b64.as_str(),
        &b64::encode(&encrypted_key),
        &b64::encode(&sealed.iv),
        &b64::encode(&sealed.ciphertext),
        &b64::encode(&sealed.tag),
    ]
    .join("."))
}

/// Encrypts `plaintext` to `key` into a flattened JSON JWE.
pub fn encrypt_flattened(
    key: &Jwk,
    alg: KeyAlg,
    enc: ContentEnc,
    plaintext: &[u8],
    opts: &EncryptOptions,
) -> Result<String> {
    let (sealed, encrypted_key) = encrypt_single(key, alg, enc, plaintext, opts, None)?;
    let mut obj = sealed_json(&sealed);
    if !encrypted_key.is_empty() {
        obj.insert(
            "encrypted_key".into(),
            Value::String(b64::encode(&encrypted_key)),
        );
    }
    Ok(Value::Object(obj).to_string())
}

/// Encrypts `plaintext` to several recipients into a general JSON JWE; one random CEK is wrapped for each
/// (so `dir` and `ECDH-ES` cannot be used here). Per-recipient members (`alg`, `kid`, `epk`, `iv`, `tag`) go in
/// each recipient's unprotected header.
pub fn encrypt_general(
    recipients: &[(&Jwk, KeyAlg)],
    enc: ContentEnc,
    plaintext: &[u8],
    opts: &EncryptOptions,
) -> Result<String> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(Error::Malformed("a general JWE needs 1 to 16 recipients"));
    }
    let cek = alg::random_bytes(enc.key_len())?;
    let mut list = Vec::with_capacity(recipients.len());
    for (key, alg) in recipients {
        check_rsa1_5(*alg, opts.allow_rsa1_5)?;
        let wrapped = alg.wrap(enc, key, Some(&cek), &opts.header)?;
        let mut header = wrapped.header;
        header.insert("alg".into(), Value::String(alg.name().into()));
        if let Some(kid) = &key.meta.kid {
            header.insert("kid".into(), Value::String(kid.clone()));
        }
        list.push(serde_json::json!({
            "header": header,
            "encrypted_key": b64::encode(&wrapped.encrypted_key),
        }));
    }
    let mut protected = opts.header.clone();
    protected.insert("enc".into(), Value::String(enc.name().into()));
    let sealed = seal(protected, enc, &cek, plaintext, opts.zip)?;
    let mut obj = sealed_json(&sealed);
    obj.insert("recipients".into(), Value::Array(list));
    Ok(Value::Object(obj).to_string())
}

/// Decrypts a compact JWE with `key`.
pub fn decrypt_compact(token: &str, key: &Jwk, opts: &DecryptOptions) -> Result<Decrypted> {
    if token.len() > opts.max_len {
        return Err(Error::InputTooLarge {
            what: "JWE",
            limit: opts.max_len,
        });
    }
    let parts: Vec<&str> = token.splitn(6, '.').collect();
    let [protected_b64, ek, iv, ct, tag] = parts[..] else {
        return Err(Error::Malformed("compact JWE must have five segments"));
    };
    let header = decode_protected(protected_b64)?;
    let sealed = Sealed {
        protected_b64: protected_b64.to_string(),
        iv: b64::decode(iv)?,
        ciphertext: b64::decode(ct)?,
        tag: b64::decode(tag)?,
    };
    open(header, &sealed, None, &b64::decode(ek)?, key, opts)
}

/// Decrypts a flattened or general JSON JWE with `key`: the first recipient whose key management succeeds with
/// `key` is used.
pub fn decrypt_json(text: &str, key: &Jwk, opts: &DecryptOptions) -> Result<Decrypted> {
    if text.len() > opts.max_len {
        return Err(Error::InputTooLarge {
            what: "JWE",
            limit: opts.max_len,
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|_| Error::InvalidJson)?;
    let obj = value.as_object().ok_or(Error::InvalidJson)?;
    let get_str = |name: &'static str| -> Result<Option<&str>> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::Malformed("JWE JSON member is not a string")),
        }
    };
    let protected_b64 = get_str("protected")?.unwrap_or("");
    let mut shared = if protected_b64.is_empty() {
        Map::new()
    } else {
        decode_protected(protected_b64)?
    };
    if let Some(unprotected) = obj.get("unprotected") {
        merge_disjoint(&mut shared, unprotected)?;
    }
    let sealed = Sealed {
        protected_b64: protected_b64.to_string(),
        iv: b64::decode(get_str("iv")?.unwrap_or(""))?,
        ciphertext: b64::decode(
            get_str("ciphertext")?.ok_or(Error::Malformed("JWE JSON without ciphertext"))?,
        )?,
        tag: b64::decode(get_str("tag")?.unwrap_or(""))?,
    };
    let aad = get_str("aad")?;
    let recipients: Vec<&Map<String, Value>> = match obj.get("recipients") {
        Some(Value::Array(list)) => {
            if list.is_empty() || obj.contains_key("encrypted_key") || obj.contains_key("header") {
                return Err(Error::Malformed(
                    "JWE JSON mixes general and flattened forms",
                ));
            }
            if list.len() > MAX_RECIPIENTS {
                return Err(Error::InputTooLarge {
                    what: "JWE recipients",
                    limit: MAX_RECIPIENTS,
                });
            }
            list.iter()
                .map(|r| r.as_object().ok_or(Error::Malformed("recipient entry")))
                .collect::<Result<_>>()?
        }
        Some(_) => return Err(Error::Malformed("recipients is not an array")),
        None => vec![obj],
    };
    let mut last = Error::KeyMismatch;
    for recipient in recipients {
        let mut header = shared.clone();
        if let Some(h) = recipient.get("header") {
            merge_disjoint(&mut header, h)?;
        }
        let ek = match recipient.get("encrypted_key") {
            None => Vec::new(),
            Some(Value::String(s)) => b64::decode(s)?,
            Some(_) => return Err(Error::Malformed("encrypted_key is not a string")),
        };
        match open(header, &sealed, aad, &ek, key, opts) {
            Ok(d) => return Ok(d),
            // The content decrypted but inflates past the limit: no other recipient changes that.
            Err(e @ Error::InputTooLarge { .. }) => return Err(e),
            // Report why a recipient meant for this key failed rather than that the others do not fit it.
            Err(Error::KeyMismatch) if last != Error::KeyMismatch => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn encrypt_single(
    key: &Jwk,
    alg: KeyAlg,
    enc: ContentEnc,
    plaintext: &[u8],
    opts: &EncryptOptions,
    cek: Option<&[u8]>,
) -> Result<(Sealed, Vec<u8>)> {
    check_rsa1_5(alg, opts.allow_rsa1_5)?;
    let wrapped = alg.wrap(enc, key, cek, &opts.header)?;
    let mut protected = opts.header.clone();
    protected.insert("alg".into(), Value::String(alg.name().into()));
    protected.insert("enc".into(), Value::String(enc.name().into()));
    if let (Some(kid), false) = (&key.meta.kid, protected.contains_key("kid")) {
        protected.insert("kid".into(), Value::String(kid.clone()));
    }
    protected.extend(wrapped.header);
    let sealed = seal(protected, enc, &wrapped.cek, plaintext, opts.zip)?;
    Ok((sealed, wrapped.encrypted_key))
}

/// Encrypts the content under `cek` with the protected header as AAD.
fn seal(
    mut protected: Map<String, Value>,
    enc: ContentEnc,
    cek: &[u8],
    plaintext: &[u8],
    zip: bool,
) -> Result<Sealed> {
    let deflated;
    let plaintext = if zip {
        protected.insert("zip".into(), Value::String("DEF".into()));
        deflated = deflate(plaintext)?;
        &deflated[..]
    } else {
        plaintext
    };
    let protected_b64 = b64::encode(Value::Object(protected).to_string().as_bytes());
    let iv = alg::random_bytes(enc.iv_len())?;
    let (ciphertext, tag) = enc.encrypt(cek, &iv, protected_b64.as_bytes(), plaintext)?;
    Ok(Sealed {
        protected_b64,
        iv,
        ciphertext,
        tag,
    })
}

/// Recovers the CEK for one recipient, then authenticates and decrypts the content.
fn open(
    header: Map<String, Value>,
    sealed: &Sealed,
    aad: Option<&str>,
    encrypted_key: &[u8],
    key: &Jwk,
    opts: &DecryptOptions,
) -> Result<Decrypted> {
    let name = |n: &'static str| {
        header
            .get(n)
            .and_then(Value::as_str)
            .ok_or(Error::Malformed("JWE header lacks alg or enc"))
    };
    let alg = KeyAlg::from_name(name("alg")?)?;
    let enc = ContentEnc::from_name(name("enc")?)?;
    check_rsa1_5(alg, opts.allow_rsa1_5)?;
    if opts.algorithms.as_ref().is_some_and(|l| !l.contains(&alg))
        || opts.encryptions.as_ref().is_some_and(|l| !l.contains(&enc))
    {
        return Err(Error::AlgorithmNotAllowed);
    }
    let zip = match header.get("zip") {
        None => false,
        Some(Value::String(z)) if z == "DEF" => true,
        Some(_) => return Err(Error::Unsupported("JWE zip")),
    };
    let cek = alg.unwrap(enc, key, encrypted_key, &header)?;
    if cek.len() != enc.key_len() {
        return Err(Error::DecryptFailed);
    }
    let full_aad;
    let aad_bytes = match aad {
        Some(a) => {
            full_aad = format!("{}.{}", sealed.protected_b64, a);
            full_aad.as_bytes()
        }
        None => sealed.protected_b64.as_bytes(),
    };
    let plaintext = enc.decrypt(&cek, &sealed.iv, aad_bytes, &sealed.ciphertext, &sealed.tag)?;
    let plaintext = if zip {
        inflate(&plaintext, opts.max_inflated)?
    } else {
        plaintext
    };
    Ok(Decrypted {
        header,
        alg,
        enc,
        plaintext,
    })
}

fn check_rsa1_5(alg: KeyAlg, allowed: bool) -> Result<()> {
    if alg == KeyAlg::Rsa1_5 && !allowed {
        Err(Error::AlgorithmNotAllowed)
    } else {
        Ok(())
    }
}

fn decode_protected(b64_header: &str) -> Result<Map<String, Value>> {
    crate::jws::decode_header(b64_header)
}

/// Adds the members of the JSON object `extra` to `header`; a member present in both is an error (RFC 7516 §7.2.1).
fn merge_disjoint(header: &mut Map<String, Value>, extra: &Value) -> Result<()> {
    let extra = extra
        .as_object()
        .ok_or(Error::Malformed("JWE header is not an object"))?;
    for (k, v) in extra {
        if k == "crit" || k == "zip" || header.insert(k.clone(), v.clone()).is_some() {
            return Err(Error::Malformed(
                "JWE header member duplicated or not allowed unprotected",
            ));
        }
    }
    Ok(())
}

fn sealed_json(sealed: &Sealed) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert(
        "protected".into(),
        Value::String(sealed.protected_b64.clone()),
    );
    obj.insert("iv".into(), Value::String(b64::encode(&sealed.iv)));
    obj.insert(
        "ciphertext".into(),
        Value::String(b64::encode(&sealed.ciphertext)),
    );
    obj.insert("tag".into(), Value::String(b64::encode(&sealed.tag)));
    obj
}

fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

/// Raw inflate that stops with [`Error::InputTooLarge`] as soon as the output would pass `limit`.
fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Error::DecryptFailed)?;
    if out.len() > limit {
        return Err(Error::InputTooLarge {
            what: "inflated JWE plaintext",
            limit,
        });
    }
    Ok(out)
}
