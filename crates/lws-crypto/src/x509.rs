//! x.509: parse PEM certificates and chains (x509-parser), verify a chain against trusted PEM roots with an
//! optional name check (rustls-webpki), report validity, names, key ids and the public key, convert the public
//! key to a JWK and attach a PEM private key to it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use crate::ec::{Curve, EcKey};
use crate::error::{Error, Result};
use crate::jwk::{Jwk, KeyMaterial};
use crate::okp::{OkpCurve, OkpKey};
use crate::rsa::RsaKey;

/// Largest PEM input accepted, in bytes.
pub const MAX_PEM: usize = 1 << 20;
/// Most certificates accepted in one chain.
pub const MAX_CHAIN: usize = 16;

/// One parsed certificate; the accessors report what `lws_x509_info` does.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    subject: String,
    issuer: String,
    common_name: Option<String>,
    not_before: u64,
    not_after: u64,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    spki: Vec<u8>,
}

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|_| Error::X509Parse)?;
        if !rest.is_empty() {
            return Err(Error::X509Parse);
        }
        let mut out = Certificate {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            common_name: cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map(str::to_string),
            not_before: cert.validity().not_before.timestamp().max(0) as u64,
            not_after: cert.validity().not_after.timestamp().max(0) as u64,
            subject_key_id: None,
            authority_key_id: None,
            spki: cert.public_key().raw.to_vec(),
        };
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    out.subject_key_id = Some(id.0.to_vec())
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    out.authority_key_id = aki.key_identifier.as_ref().map(|id| id.0.to_vec());
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Subject distinguished name (RFC 4514 style).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Issuer distinguished name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject's first common name.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// notBefore, seconds since the epoch.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// notAfter, seconds since the epoch.
    pub fn not_after(&self) -> u64 {
        self.not_after
    }

    /// The subject key identifier extension.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.subject_key_id.as_deref()
    }

    /// The authority key identifier's key id.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.authority_key_id.as_deref()
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The certificate's public key as a JWK (RSA 2048-4096, EC P-256/384/521, Ed25519, X25519), `x5c` set to
    /// this certificate.
    pub fn public_key_jwk(&self) -> Result<Jwk> {
        let (_, cert) = X509Certificate::from_der(&self.der).map_err(|_| Error::X509Parse)?;
        let spki = cert.public_key();
        let key_bytes: &[u8] = &spki.subject_public_key.data;
        let oid = spki.algorithm.algorithm.to_id_string();
        let key = match oid.as_str() {
            "1.2.840.113549.1.1.1" => {
                let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
                    return Err(Error::InvalidKey("RSA public key in certificate"));
                };
                KeyMaterial::Rsa(RsaKey::from_public(rsa.modulus, rsa.exponent)?)
            }
            "1.2.840.10045.2.1" => {
                let curve_oid = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string())
                    .ok_or(Error::InvalidKey("EC key without a named curve"))?;
                let curve = match curve_oid.as_str() {
                    "1.2.840.10045.3.1.7" => Curve::P256,
                    "1.3.132.0.34" => Curve::P384,
                    "1.3.132.0.35" => Curve::P521,
                    _ => return Err(Error::Unsupported("curve")),
                };
                KeyMaterial::Ec(EcKey::from_sec1(curve, key_bytes)?)
            }
            "1.3.101.112" => {
                KeyMaterial::Okp(OkpKey::from_parts(OkpCurve::Ed25519, key_bytes, None)?)
            }
            "1.3.101.110" => {
                KeyMaterial::Okp(OkpKey::from_parts(OkpCurve::X25519, key_bytes, None)?)
            }
            _ => return Err(Error::Unsupported("certificate key type")),
        };
        let mut jwk = Jwk::new(key);
        jwk.meta.x5c = Some(vec![base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &self.der,
        )]);
        Ok(jwk)
    }
}

/// A certificate chain, leaf first.
#[derive(Debug, Clone)]
pub struct CertChain {
    /// The certificates in PEM order.
    pub certs: Vec<Certificate>,
}

impl CertChain {
    /// Parses every `CERTIFICATE` block of a PEM text (at least one).
    pub fn from_pem(pem: &[u8]) -> Result<CertChain> {
        if pem.len() > MAX_PEM {
            return Err(Error::InputTooLarge {
                what: "PEM",
                limit: MAX_PEM,
            });
        }
        let mut certs = Vec::new();
        for der in CertificateDer::pem_slice_iter(pem) {
            let der = der.map_err(|_| Error::X509Parse)?;
            if certs.len() == MAX_CHAIN {
                return Err(Error::InputTooLarge {
                    what: "certificate chain",
                    limit: MAX_CHAIN,
                });
            }
            certs.push(Certificate::from_der(&der)?);
        }
        if certs.is_empty() {
            return Err(Error::X509Parse);
        }
        Ok(CertChain { certs })
    }

    /// The leaf (first) certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.certs[0]
    }

    /// Verifies that the leaf chains, through the other certificates, to one of `trusted` at time `now`
    /// (seconds since the epoch; `None` is the system clock), and when `name` is given that the leaf is valid
    /// for it (DNS name or IP address in subjectAltName; a certificate without subjectAltName is matched on its
    /// common name).
    pub fn verify(&self, trusted: &CertChain, name: Option<&str>, now: Option<u64>) -> Result<()> {
        let now = now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let leaf_der = CertificateDer::from(self.leaf().der.as_slice());
        let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(|_| Error::X509Parse)?;
        let trusted_ders: Vec<CertificateDer<'_>> = trusted
            .certs
            .iter()
            .map(|c| CertificateDer::from(c.der.as_slice()))
            .collect();
        let anchors = trusted_ders
            .iter()
            .map(|d| webpki::anchor_from_trusted_cert(d).map_err(|_| Error::X509Parse))
            .collect::<Result<Vec<_>>>()?;
        let intermediates: Vec<CertificateDer<'_>> = self.certs[1..]
            .iter()
            .map(|c| CertificateDer::from(c.der.as_slice()))
            .collect();
        let time = UnixTime::since_unix_epoch(Duration::from_secs(now));
        let verified = [
            webpki::KeyUsage::server_auth(),
            webpki::KeyUsage::client_auth(),
        ]
        .into_iter()
        .any(|usage| {
            ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &anchors,
                &intermediates,
                time,
                usage,
                None,
                None,
            )
            .is_ok()
        });
        if !verified {
            return Err(Error::X509Untrusted);
        }
        match name {
            None => Ok(()),
            Some(name) => self.check_name(&ee, name),
        }
    }

    fn check_name(&self, ee: &webpki::EndEntityCert<'_>, name: &str) -> Result<()> {
        if let Ok(server_name) = ServerName::try_from(name) {
            if ee.verify_is_valid_for_subject_name(&server_name).is_ok() {
                return Ok(());
            }
        }
        let (_, cert) =
            X509Certificate::from_der(&self.leaf().der).map_err(|_| Error::X509Parse)?;
        let has_san = cert.subject_alternative_name().ok().flatten().is_some();
        if !has_san
            && self
                .leaf()
                .common_name()
                .is_some_and(|cn| cn.eq_ignore_ascii_case(name))
        {
            return Ok(());
        }
        Err(Error::X509NameMismatch)
    }
}

/// Attaches the private key in `pem` (PKCS#8, PKCS#1 RSA or SEC1 EC) to `jwk`, which must hold the matching
/// public key (typically from [`Certificate::public_key_jwk`]).
pub fn attach_private_key_pem(jwk: &mut Jwk, pem: &[u8]) -> Result<()> {
    if pem.len() > MAX_PEM {
        return Err(Error::InputTooLarge {
            what: "PEM",
            limit: MAX_PEM,
        });
    }
    let der = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| Error::InvalidKey("no private key in PEM"))?;
    let private = private_key_from_der(&der, &jwk.key)?;
    let matches = match (&private, &jwk.key) {
        (KeyMaterial::Rsa(a), KeyMaterial::Rsa(b)) => a.n() == b.n() && a.e() == b.e(),
        (KeyMaterial::Ec(a), KeyMaterial::Ec(b)) => {
            a.curve() == b.curve() && a.x() == b.x() && a.y() == b.y()
        }
        (KeyMaterial::Okp(a), KeyMaterial::Okp(b)) => a.curve() == b.curve() && a.x() == b.x(),
        _ => false,
    };
    if !matches {
        return Err(Error::KeyMismatch);
    }
    jwk.key = private;
    Ok(())
}

/// The private scalar of an EC key on `curve`, from PKCS#8 or SEC1 DER.
fn ec_private_scalar(der: &PrivateKeyDer<'_>, curve: Curve) -> Result<Vec<u8>> {
    use p256::pkcs8::DecodePrivateKey;
    macro_rules! scalar {
        ($curve:ident) => {
            match der {
                PrivateKeyDer::Sec1(k) => {
                    $curve::SecretKey::from_sec1_der(k.secret_sec1_der()).ok()
                }
                PrivateKeyDer::Pkcs8(k) => {
                    $curve::SecretKey::from_pkcs8_der(k.secret_pkcs8_der()).ok()
                }
                _ => None,
            }
            .map(|s| s.to_bytes().to_vec())
        };
    }
    let d = match curve {
        Curve::P256 => scalar!(p256),
        Curve::P384 => scalar!(p384),
        Curve::P521 => scalar!(p521),
    };
    d.ok_or(Error::InvalidKey("private key DER"))
}

fn private_key_from_der(der: &PrivateKeyDer<'_>, public: &KeyMaterial) -> Result<KeyMaterial> {
    use p256::pkcs8::DecodePrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let bad = |_| Error::InvalidKey("private key DER");
    match (der, public) {
        (PrivateKeyDer::Pkcs1(k), _) => Ok(KeyMaterial::Rsa(RsaKey::from_private(
            rsa::RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der()).map_err(bad)?,
        ))),
        (PrivateKeyDer::Pkcs8(k), KeyMaterial::Rsa(_)) => {
            Ok(KeyMaterial::Rsa(RsaKey::from_private(
                rsa::RsaPrivateKey::from_pkcs8_der(k.secret_pkcs8_der())
                    .map_err(|_| Error::InvalidKey("private key DER"))?,
            )))
        }
        (PrivateKeyDer::Pkcs8(_) | PrivateKeyDer::Sec1(_), KeyMaterial::Ec(pub_key)) => {
            let d = ec_private_scalar(der, pub_key.curve())?;
            Ok(KeyMaterial::Ec(EcKey::from_coordinates(
                pub_key.curve(),
                pub_key.x(),
                pub_key.y(),
                Some(&d),
            )?))
        }
        (PrivateKeyDer::Pkcs8(k), KeyMaterial::Okp(pub_key)) => {
            // PKCS#8 for Ed25519/X25519 (RFC 8410): the key is an OCTET STRING inside the privateKey OCTET STRING;
            // its last 32 bytes are the private key.
            let der = k.secret_pkcs8_der();
            let seed = der
                .get(der.len().saturating_sub(32)..)
                .ok_or(Error::InvalidKey("private key DER"))?;
            Ok(KeyMaterial::Okp(OkpKey::from_parts(
                pub_key.curve(),
                pub_key.x(),
                Some(seed),
            )?))
        }
        _ => Err(Error::KeyMismatch),
    }
}
