//! JSON Web Keys (RFC 7517): oct, RSA, EC and OKP keys, single keys and `{"keys": [...]}` sets, public or
//! private export, generation, RFC 7638 thumbprints and files.

use std::path::Path;

use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value};

use crate::b64;
use crate::ec::{Curve, EcKey};
use crate::error::{Error, Result};
use crate::hash::HashAlg;
use crate::okp::{OkpCurve, OkpKey};
use crate::rsa::RsaKey;

/// Largest JWK or JWK set JSON accepted, in bytes.
pub const MAX_JWK_JSON: usize = 1 << 20;
/// Most keys accepted in one set.
pub const MAX_KEYS_IN_SET: usize = 256;

/// A JWK: key material plus metadata.
#[derive(Clone, Debug)]
pub struct Jwk {
    /// The key.
    pub key: KeyMaterial,
    /// `kid`, `use`, `key_ops`, `alg`, `x5c`.
    pub meta: JwkMeta,
}

/// The key inside a JWK. Its `Debug` output never shows secret material.
#[non_exhaustive]
#[derive(Clone)]
pub enum KeyMaterial {
    /// `kty: "oct"`: a symmetric key.
    Oct(Vec<u8>),
    /// `kty: "RSA"`.
    Rsa(RsaKey),
    /// `kty: "EC"`.
    Ec(EcKey),
    /// `kty: "OKP"`.
    Okp(OkpKey),
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Oct(k) => write!(f, "Oct({} bytes)", k.len()),
            KeyMaterial::Rsa(k) => k.fmt(f),
            KeyMaterial::Ec(k) => k.fmt(f),
            KeyMaterial::Okp(k) => k.fmt(f),
        }
    }
}

/// The JWK metadata members this crate understands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwkMeta {
    /// `kid`: key id.
    pub kid: Option<String>,
    /// `use`: `"sig"` or `"enc"`.
    pub key_use: Option<String>,
    /// `key_ops`: permitted operations (`"sign"`, `"verify"`, `"encrypt"`, `"decrypt"`, `"wrapKey"`, ...).
    pub key_ops: Option<Vec<String>>,
    /// `alg`: the one algorithm this key is meant for.
    pub alg: Option<String>,
    /// `x5c`: the certificate chain, base64 (standard alphabet) DER.
    pub x5c: Option<Vec<String>>,
}

/// What to generate.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGen {
    /// A random symmetric key of this many bits (a multiple of 8, 64 to 4096).
    Oct(usize),
    /// An RSA key with this modulus size (2048 to 4096).
    Rsa(usize),
    /// An EC key on this curve.
    Ec(Curve),
    /// An OKP key on this curve.
    Okp(OkpCurve),
}

/// Which operation a key is about to be used for, checked against `use` and `key_ops`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOp {
    /// Create a signature or MAC.
    Sign,
    /// Verify a signature or MAC.
    Verify,
    /// Encrypt content or a key (JWE producer).
    Encrypt,
    /// Decrypt content or a key (JWE consumer).
    Decrypt,
}

impl Jwk {
    /// A JWK with no metadata around `key`.
    pub fn new(key: KeyMaterial) -> Jwk {
        Jwk {
            key,
            meta: JwkMeta::default(),
        }
    }

    /// A symmetric key.
    pub fn oct(bytes: &[u8]) -> Jwk {
        Jwk::new(KeyMaterial::Oct(bytes.to_vec()))
    }

    /// Generates a key to `spec`.
    pub fn generate(spec: KeyGen) -> Result<Jwk> {
        let key = match spec {
            KeyGen::Oct(bits) => {
                if bits % 8 != 0 || !(64..=4096).contains(&bits) {
                    return Err(Error::InvalidLength(
                        "oct key must be 64 to 4096 bits, whole bytes",
                    ));
                }
                let mut k = vec![0u8; bits / 8];
                OsRng.try_fill_bytes(&mut k).map_err(|_| Error::Rng)?;
                KeyMaterial::Oct(k)
            }
            KeyGen::Rsa(bits) => KeyMaterial::Rsa(RsaKey::generate(bits)?),
            KeyGen::Ec(curve) => KeyMaterial::Ec(EcKey::generate(curve)),
            KeyGen::Okp(curve) => KeyMaterial::Okp(OkpKey::generate(curve)?),
        };
        Ok(Jwk::new(key))
    }

    /// Parses one JWK from JSON text.
    pub fn from_json(text: &str) -> Result<Jwk> {
        Jwk::from_value(&parse_json(text)?)
    }

    /// Parses one JWK from a JSON value.
    pub fn from_value(value: &Value) -> Result<Jwk> {
        let obj = value.as_object().ok_or(Error::InvalidJson)?;
        let kty = str_member(obj, "kty")?.ok_or(Error::Malformed("JWK without kty"))?;
        let key = match kty {
            "oct" => KeyMaterial::Oct(
                bin_member(obj, "k")?.ok_or(Error::Malformed("oct JWK without k"))?,
            ),
            "RSA" => KeyMaterial::Rsa(rsa_from_json(obj)?),
            "EC" => KeyMaterial::Ec(ec_from_json(obj)?),
            "OKP" => KeyMaterial::Okp(okp_from_json(obj)?),
            _ => return Err(Error::Unsupported("key type")),
        };
        Ok(Jwk {
            key,
            meta: meta_from_json(obj)?,
        })
    }

    /// Reads a JWK from a file.
    pub fn load(path: impl AsRef<Path>) -> Result<Jwk> {
        Jwk::from_json(&read_limited(path.as_ref())?)
    }

    /// Writes the JWK to a file as JSON (with the private part when `private`).
    pub fn save(&self, path: impl AsRef<Path>, private: bool) -> Result<()> {
        std::fs::write(path, self.to_json(private) + "\n")?;
        Ok(())
    }

    /// The key type name (`kty`).
    pub fn kty(&self) -> &'static str {
        match &self.key {
            KeyMaterial::Oct(_) => "oct",
            KeyMaterial::Rsa(_) => "RSA",
            KeyMaterial::Ec(_) => "EC",
            KeyMaterial::Okp(_) => "OKP",
        }
    }

    /// Whether the JWK holds private (or symmetric) key material.
    pub fn is_private(&self) -> bool {
        match &self.key {
            KeyMaterial::Oct(_) => true,
            KeyMaterial::Rsa(k) => k.is_private(),
            KeyMaterial::Ec(k) => k.d().is_some(),
            KeyMaterial::Okp(k) => k.d().is_some(),
        }
    }

    /// The public half (metadata kept). For an oct key, the key itself: there is no public half.
    pub fn to_public(&self) -> Jwk {
        let key = match &self.key {
            KeyMaterial::Oct(k) => KeyMaterial::Oct(k.clone()),
            KeyMaterial::Rsa(k) => KeyMaterial::Rsa(k.to_public()),
            KeyMaterial::Ec(k) => KeyMaterial::Ec(k.to_public()),
            KeyMaterial::Okp(k) => KeyMaterial::Okp(k.to_public()),
        };
        Jwk {
            key,
            meta: self.meta.clone(),
        }
    }

    /// The JWK as a JSON object; private members only when `private` (an oct key always has `k`).
    pub fn to_value(&self, private: bool) -> Value {
        let mut obj = self.required_members();
        if private {
            self.add_private_members(&mut obj);
        }
        let meta = &self.meta;
        let mut put = |name: &str, v: Option<Value>| {
            if let Some(v) = v {
                obj.insert(name.to_string(), v);
            }
        };
        put("kid", meta.kid.clone().map(Value::String));
        put("use", meta.key_use.clone().map(Value::String));
        put("alg", meta.alg.clone().map(Value::String));
        put(
            "key_ops",
            meta.key_ops
                .clone()
                .map(|v| v.into_iter().map(Value::String).collect()),
        );
        put(
            "x5c",
            meta.x5c
                .clone()
                .map(|v| v.into_iter().map(Value::String).collect()),
        );
        Value::Object(obj)
    }

    /// The JWK as compact JSON text.
    pub fn to_json(&self, private: bool) -> String {
        self.to_value(private).to_string()
    }

    /// The RFC 7638 thumbprint: `hash` over the required members in lexicographic order without whitespace.
    pub fn thumbprint(&self, hash: HashAlg) -> Vec<u8> {
        // serde_json's Map is ordered by key, which is exactly the RFC 7638 member order.
        let text = Value::Object(self.required_members()).to_string();
        hash.digest(text.as_bytes())
    }

    /// The SHA-256 thumbprint, base64url: the usual `kid` derived from a key.
    pub fn thumbprint_b64(&self) -> String {
        b64::encode(&self.thumbprint(HashAlg::Sha256))
    }

    /// Whether `use` and `key_ops` (when present) allow `op`.
    pub fn permits(&self, op: KeyOp) -> bool {
        let use_ok = matches!(
            (self.meta.key_use.as_deref(), op),
            (None, _)
                | (Some("sig"), KeyOp::Sign | KeyOp::Verify)
                | (Some("enc"), KeyOp::Encrypt | KeyOp::Decrypt)
        );
        let ops_ok = match &self.meta.key_ops {
            None => true,
            Some(ops) => {
                let wanted: &[&str] = match op {
                    KeyOp::Sign => &["sign"],
                    KeyOp::Verify => &["verify"],
                    KeyOp::Encrypt => &["encrypt", "wrapKey", "deriveKey"],
                    KeyOp::Decrypt => &["decrypt", "unwrapKey", "deriveKey"],
                };
                ops.iter().any(|o| wanted.contains(&o.as_str()))
            }
        };
        use_ok && ops_ok
    }

    fn required_members(&self) -> Map<String, Value> {
        let mut obj = Map::new();
        let mut put = |name: &str, v: &[u8]| {
            obj.insert(name.to_string(), Value::String(b64::encode(v)));
        };
        match &self.key {
            KeyMaterial::Oct(k) => put("k", k),
            KeyMaterial::Rsa(k) => {
                put("n", k.n());
                put("e", k.e());
            }
            KeyMaterial::Ec(k) => {
                put("x", k.x());
                put("y", k.y());
            }
            KeyMaterial::Okp(k) => put("x", k.x()),
        }
        let crv = match &self.key {
            KeyMaterial::Ec(k) => Some(k.curve().name()),
            KeyMaterial::Okp(k) => Some(k.curve().name()),
            _ => None,
        };
        if let Some(crv) = crv {
            obj.insert("crv".into(), Value::String(crv.into()));
        }
        obj.insert("kty".into(), Value::String(self.kty().into()));
        obj
    }

    fn add_private_members(&self, obj: &mut Map<String, Value>) {
        let mut put = |name: &str, v: &[u8]| {
            obj.insert(name.to_string(), Value::String(b64::encode(v)));
        };
        match &self.key {
            KeyMaterial::Oct(_) => {}
            KeyMaterial::Rsa(k) => {
                if let Some(p) = k.private_parts() {
                    put("d", &p.d);
                    put("p", &p.p);
                    put("q", &p.q);
                    put("dp", &p.dp);
                    put("dq", &p.dq);
                    put("qi", &p.qi);
                }
            }
            KeyMaterial::Ec(k) => {
                if let Some(d) = k.d() {
                    put("d", d);
                }
            }
            KeyMaterial::Okp(k) => {
                if let Some(d) = k.d() {
                    put("d", d);
                }
            }
        }
    }
}

/// A JWK set (`{"keys": [...]}`).
#[derive(Clone, Debug, Default)]
pub struct JwkSet {
    /// The keys, in document order.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a JWK set, or a single JWK as a set of one.
    pub fn from_json(text: &str) -> Result<JwkSet> {
        let value = parse_json(text)?;
        let Some(keys) = value.get("keys") else {
            return Ok(JwkSet {
                keys: vec![Jwk::from_value(&value)?],
            });
        };
        let keys = keys
            .as_array()
            .ok_or(Error::Malformed("keys is not an array"))?;
        if keys.len() > MAX_KEYS_IN_SET {
            return Err(Error::InputTooLarge {
                what: "JWK set",
                limit: MAX_KEYS_IN_SET,
            });
        }
        Ok(JwkSet {
            keys: keys.iter().map(Jwk::from_value).collect::<Result<_>>()?,
        })
    }

    /// Reads a set (or single key) from a file.
    pub fn load(path: impl AsRef<Path>) -> Result<JwkSet> {
        JwkSet::from_json(&read_limited(path.as_ref())?)
    }

    /// The set as JSON text.
    pub fn to_json(&self, private: bool) -> String {
        let keys: Vec<Value> = self.keys.iter().map(|k| k.to_value(private)).collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    /// The first key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.meta.kid.as_deref() == Some(kid))
    }
}

pub(crate) fn parse_json(text: &str) -> Result<Value> {
    if text.len() > MAX_JWK_JSON {
        return Err(Error::InputTooLarge {
            what: "JWK JSON",
            limit: MAX_JWK_JSON,
        });
    }
    serde_json::from_str(text).map_err(|_| Error::InvalidJson)
}

fn read_limited(path: &Path) -> Result<String> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_JWK_JSON as u64 {
        return Err(Error::InputTooLarge {
            what: "JWK file",
            limit: MAX_JWK_JSON,
        });
    }
    Ok(std::fs::read_to_string(path)?)
}

fn str_member<'a>(obj: &'a Map<String, Value>, name: &'static str) -> Result<Option<&'a str>> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::Malformed("JWK member is not a string")),
    }
}

fn bin_member(obj: &Map<String, Value>, name: &'static str) -> Result<Option<Vec<u8>>> {
    str_member(obj, name)?.map(b64::decode).transpose()
}

fn need(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>> {
    bin_member(obj, name)?.ok_or(Error::Malformed("JWK lacks a required member"))
}

fn strings_member(obj: &Map<String, Value>, name: &'static str) -> Result<Option<Vec<String>>> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or(Error::Malformed("JWK array member holds a non-string"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(Error::Malformed("JWK member is not an array")),
    }
}

fn meta_from_json(obj: &Map<String, Value>) -> Result<JwkMeta> {
    Ok(JwkMeta {
        kid: str_member(obj, "kid")?.map(str::to_string),
        key_use: str_member(obj, "use")?.map(str::to_string),
        key_ops: strings_member(obj, "key_ops")?,
        alg: str_member(obj, "alg")?.map(str::to_string),
        x5c: strings_member(obj, "x5c")?,
    })
}

fn rsa_from_json(obj: &Map<String, Value>) -> Result<RsaKey> {
    let (n, e) = (need(obj, "n")?, need(obj, "e")?);
    match bin_member(obj, "d")? {
        None => RsaKey::from_public(&n, &e),
        Some(d) => {
            let p = bin_member(obj, "p")?;
            let q = bin_member(obj, "q")?;
            let primes = match (&p, &q) {
                (Some(p), Some(q)) => Some((p.as_slice(), q.as_slice())),
                _ => None,
            };
            RsaKey::from_private_parts(&n, &e, &d, primes)
        }
    }
}

fn ec_from_json(obj: &Map<String, Value>) -> Result<EcKey> {
    let curve =
        Curve::from_name(str_member(obj, "crv")?.ok_or(Error::Malformed("EC JWK without crv"))?)?;
    let d = bin_member(obj, "d")?;
    EcKey::from_coordinates(curve, &need(obj, "x")?, &need(obj, "y")?, d.as_deref())
}

fn okp_from_json(obj: &Map<String, Value>) -> Result<OkpKey> {
    let curve = OkpCurve::from_name(
        str_member(obj, "crv")?.ok_or(Error::Malformed("OKP JWK without crv"))?,
    )?;
    let d = bin_member(obj, "d")?;
    OkpKey::from_parts(curve, &need(obj, "x")?, d.as_deref())
}
