//! JOSE operations of lws-crypto beside the same operations in the `jsonwebtoken` crate, in one run:
//! ES256 / RS256 / EdDSA sign and verify, JWT validation, and A256GCM JWE encrypt/decrypt with dir, ECDH-ES and
//! RSA-OAEP (jsonwebtoken has no JWE; `bench/jose/run.sh` adds Python jwcrypto and prints the ratios).
//!
//!     cargo bench -p lws-crypto --bench jose

// `criterion_group!` generates an undocumented function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jsonwebtoken as jwt_rs;
use lws_crypto::ec::Curve;
use lws_crypto::jwe::{self, ContentEnc, DecryptOptions, EncryptOptions, KeyAlg};
use lws_crypto::jws::{self, JwsAlg, VerifyOptions};
use lws_crypto::jwt::{self, Validation};
use lws_crypto::okp::OkpCurve;
use lws_crypto::{b64, Jwk, KeyGen, KeyMaterial};
use p256::pkcs8::EncodePrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::{json, Value};

/// The same key for both libraries.
struct Pair {
    alg: JwsAlg,
    ours: Jwk,
    enc: jwt_rs::EncodingKey,
    dec: jwt_rs::DecodingKey,
    theirs_alg: jwt_rs::Algorithm,
}

fn pairs() -> Vec<Pair> {
    let mut out = Vec::new();
    let ec = Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap();
    if let KeyMaterial::Ec(k) = &ec.key {
        let der = p256::SecretKey::from_slice(k.d().unwrap())
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        out.push(Pair {
            alg: JwsAlg::Es256,
            enc: jwt_rs::EncodingKey::from_ec_der(der.as_bytes()),
            dec: jwt_rs::DecodingKey::from_ec_components(&b64::encode(k.x()), &b64::encode(k.y()))
                .unwrap(),
            ours: ec.clone(),
            theirs_alg: jwt_rs::Algorithm::ES256,
        });
    }
    let rsa = Jwk::generate(KeyGen::Rsa(2048)).unwrap();
    if let KeyMaterial::Rsa(k) = &rsa.key {
        let p = k.private_parts().unwrap();
        let private = rsa::RsaPrivateKey::from_components(
            rsa::BigUint::from_bytes_be(k.n()),
            rsa::BigUint::from_bytes_be(k.e()),
            rsa::BigUint::from_bytes_be(&p.d),
            vec![
                rsa::BigUint::from_bytes_be(&p.p),
                rsa::BigUint::from_bytes_be(&p.q),
            ],
        )
        .unwrap();
        out.push(Pair {
            alg: JwsAlg::Rs256,
            enc: jwt_rs::EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes()),
            dec: jwt_rs::DecodingKey::from_rsa_components(&b64::encode(k.n()), &b64::encode(k.e()))
                .unwrap(),
            ours: rsa.clone(),
            theirs_alg: jwt_rs::Algorithm::RS256,
        });
    }
    let ed = Jwk::generate(KeyGen::Okp(OkpCurve::Ed25519)).unwrap();
    if let KeyMaterial::Okp(k) = &ed.key {
        // PKCS#8 v1 for Ed25519 (RFC 8410): a fixed prefix, then the 32-byte seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(k.d().unwrap());
        out.push(Pair {
            alg: JwsAlg::EdDsa,
            enc: jwt_rs::EncodingKey::from_ed_der(&der),
            dec: jwt_rs::DecodingKey::from_ed_components(&b64::encode(k.x())).unwrap(),
            ours: ed.clone(),
            theirs_alg: jwt_rs::Algorithm::EdDSA,
        });
    }
    out
}

fn claims(now: u64) -> Value {
    json!({"iss": "lws", "aud": "bench", "sub": "user-1234", "iat": now, "nbf": now, "exp": now + 3600, "scope": "read write"})
}

fn jws_benches(c: &mut Criterion) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = claims(now);
    for p in pairs() {
        let name = p.alg.name();
        let mut g = c.benchmark_group(format!("jws-{name}"));
        let public = p.ours.to_public();
        g.bench_function("sign/lws", |b| {
            b.iter(|| {
                let payload = serde_json::to_vec(black_box(&claims)).unwrap();
                jws::sign_compact(&p.ours, p.alg, &payload, &Default::default()).unwrap()
            })
        });
        let header = jwt_rs::Header::new(p.theirs_alg);
        g.bench_function("sign/jsonwebtoken", |b| {
            b.iter(|| jwt_rs::encode(&header, black_box(&claims), &p.enc).unwrap())
        });
        let token = jws::sign_compact(
            &p.ours,
            p.alg,
            claims.to_string().as_bytes(),
            &Default::default(),
        )
        .unwrap();
        let opts = VerifyOptions::allowing(&[p.alg]);
        g.bench_function("verify/lws", |b| {
            b.iter(|| {
                let v = jws::verify_compact(black_box(&token), &public, &opts).unwrap();
                serde_json::from_slice::<Value>(&v.payload).unwrap()
            })
        });
        let mut loose = jwt_rs::Validation::new(p.theirs_alg);
        loose.validate_exp = false;
        loose.validate_aud = false;
        loose.required_spec_claims.clear();
        g.bench_function("verify/jsonwebtoken", |b| {
            b.iter(|| jwt_rs::decode::<Value>(black_box(&token), &p.dec, &loose).unwrap())
        });
        if p.alg == JwsAlg::Es256 {
            let mut v = Validation::new(&[JwsAlg::Es256]);
            v.issuer = Some("lws".into());
            v.audience = Some("bench".into());
            g.bench_function("jwt-validate/lws", |b| {
                b.iter(|| jwt::validate(black_box(&token), &public, &v).unwrap())
            });
            let mut strict = jwt_rs::Validation::new(jwt_rs::Algorithm::ES256);
            strict.set_issuer(&["lws"]);
            strict.set_audience(&["bench"]);
            g.bench_function("jwt-validate/jsonwebtoken", |b| {
                b.iter(|| jwt_rs::decode::<Value>(black_box(&token), &p.dec, &strict).unwrap())
            });
        }
        g.finish();
    }
}

fn jwe_benches(c: &mut Criterion) {
    let plaintext = vec![0x42u8; 1024];
    let cases = [
        ("dir", KeyAlg::Dir, Jwk::generate(KeyGen::Oct(256)).unwrap()),
        (
            "ECDH-ES",
            KeyAlg::EcdhEs,
            Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap(),
        ),
        (
            "RSA-OAEP",
            KeyAlg::RsaOaep,
            Jwk::generate(KeyGen::Rsa(2048)).unwrap(),
        ),
    ];
    for (name, alg, key) in cases {
        let mut g = c.benchmark_group(format!("jwe-{name}-A256GCM"));
        let public = key.to_public();
        let opts = EncryptOptions::default();
        g.bench_function("encrypt/lws", |b| {
            b.iter(|| {
                jwe::encrypt_compact(
                    &public,
                    alg,
                    ContentEnc::A256Gcm,
                    black_box(&plaintext),
                    &opts,
                )
                .unwrap()
            })
        });
        let token =
            jwe::encrypt_compact(&public, alg, ContentEnc::A256Gcm, &plaintext, &opts).unwrap();
        let dopts = DecryptOptions::default();
        g.bench_function("decrypt/lws", |b| {
            b.iter(|| jwe::decrypt_compact(black_box(&token), &key, &dopts).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, jws_benches, jwe_benches);
criterion_main!(benches);
