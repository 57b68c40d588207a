//! Every JWS algorithm and every JWE alg/enc pair round-trips with freshly generated keys, in every form; bad
//! input is a typed error, never a panic; JWT claim checks.

use lws_crypto::ec::Curve;
use lws_crypto::jwe::{self, ContentEnc, DecryptOptions, EncryptOptions, KeyAlg};
use lws_crypto::jws::{self, JwsAlg, VerifyOptions};
use lws_crypto::jwt::{self, Validation};
use lws_crypto::okp::OkpCurve;
use lws_crypto::{b64, ClaimError, Error, Jwk, KeyGen};
use serde_json::{json, Map, Value};

fn jws_key(alg: JwsAlg) -> Jwk {
    let spec = match alg {
        JwsAlg::Hs256 => KeyGen::Oct(256),
        JwsAlg::Hs384 => KeyGen::Oct(384),
        JwsAlg::Hs512 => KeyGen::Oct(512),
        JwsAlg::Es256 => KeyGen::Ec(Curve::P256),
        JwsAlg::Es384 => KeyGen::Ec(Curve::P384),
        JwsAlg::Es512 => KeyGen::Ec(Curve::P521),
        JwsAlg::EdDsa => KeyGen::Okp(OkpCurve::Ed25519),
        _ => KeyGen::Rsa(2048),
    };
    Jwk::generate(spec).unwrap()
}

fn jwe_key(alg: KeyAlg, enc: ContentEnc, rsa: &Jwk) -> Jwk {
    match alg {
        KeyAlg::Rsa1_5 | KeyAlg::RsaOaep | KeyAlg::RsaOaep256 => rsa.clone(),
        KeyAlg::A128Kw | KeyAlg::A128GcmKw => Jwk::generate(KeyGen::Oct(128)).unwrap(),
        KeyAlg::A192Kw | KeyAlg::A192GcmKw => Jwk::generate(KeyGen::Oct(192)).unwrap(),
        KeyAlg::A256Kw | KeyAlg::A256GcmKw => Jwk::generate(KeyGen::Oct(256)).unwrap(),
        KeyAlg::Dir => Jwk::generate(KeyGen::Oct(enc.key_len() * 8)).unwrap(),
        _ => Jwk::generate(KeyGen::Ec(Curve::P384)).unwrap(),
    }
}

#[test]
fn every_jws_algorithm_in_every_form() {
    let rsa = Jwk::generate(KeyGen::Rsa(2048)).unwrap();
    for alg in JwsAlg::SIGNING {
        let key = if alg.name().starts_with('R') || alg.name().starts_with('P') {
            rsa.clone()
        } else {
            jws_key(alg)
        };
        let public = key.to_public();
        let token = jws::sign_compact(&key, alg, b"payload", &Map::new()).unwrap();
        let v = jws::verify_compact(&token, &public, &VerifyOptions::default()).unwrap();
        assert_eq!((v.alg, v.payload.as_slice()), (alg, &b"payload"[..]));
        let flat = jws::sign_flattened(&key, alg, b"flat", &Map::new()).unwrap();
        assert_eq!(
            jws::verify_json(&flat, &public, &VerifyOptions::default())
                .unwrap()
                .payload,
            b"flat"
        );
        let other = jws_key(JwsAlg::Es256);
        let general = jws::sign_general(b"gen", &[(&other, JwsAlg::Es256), (&key, alg)]).unwrap();
        assert_eq!(
            jws::verify_json(&general, &public, &VerifyOptions::default())
                .unwrap()
                .alg,
            alg
        );
        let only_other = VerifyOptions::allowing(&[JwsAlg::Hs256]);
        if alg != JwsAlg::Hs256 {
            assert_eq!(
                jws::verify_compact(&token, &public, &only_other),
                Err(Error::AlgorithmNotAllowed)
            );
        }
    }
}

#[test]
fn jws_bad_input_is_a_typed_error() {
    let key = jws_key(JwsAlg::Es256);
    let token = jws::sign_compact(&key, JwsAlg::Es256, b"x", &Map::new()).unwrap();
    let opts = VerifyOptions::default();
    let (head, sig) = token.rsplit_once('.').unwrap();
    assert!(matches!(
        jws::verify_compact(head, &key, &opts),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        jws::verify_compact(&format!("{token}.x"), &key, &opts),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        jws::verify_compact(&format!("{head}.{sig}="), &key, &opts),
        Err(Error::InvalidBase64)
    );
    let short = b64::encode(&b64::decode(sig).unwrap()[..60]);
    assert_eq!(
        jws::verify_compact(&format!("{head}.{short}"), &key, &opts),
        Err(Error::SignatureInvalid)
    );
    assert_eq!(
        jws::verify_compact(&token, &jws_key(JwsAlg::Hs256), &opts),
        Err(Error::KeyMismatch)
    );
    assert_eq!(
        jws::verify_compact(&token, &jws_key(JwsAlg::Es384), &opts),
        Err(Error::KeyMismatch)
    );
    assert_eq!(
        jws::verify_compact(&token, &jws_key(JwsAlg::Es256), &opts),
        Err(Error::SignatureInvalid)
    );
    let small = VerifyOptions {
        max_len: 20,
        ..VerifyOptions::default()
    };
    assert!(matches!(
        jws::verify_compact(&token, &key, &small),
        Err(Error::InputTooLarge { .. })
    ));
    // alg confusion: an HS256 token "signed" with the public key bytes of an RSA key is refused by type.
    let rsa = Jwk::generate(KeyGen::Rsa(2048)).unwrap();
    let fake_secret = Jwk::oct(rsa.to_json(false).as_bytes());
    let forged = jws::sign_compact(&fake_secret, JwsAlg::Hs256, b"x", &Map::new()).unwrap();
    assert_eq!(
        jws::verify_compact(&forged, &rsa.to_public(), &opts),
        Err(Error::KeyMismatch)
    );
    // `none` forged onto a signed token's payload is refused.
    let none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none"}"#),
        token.split('.').nth(1).unwrap()
    );
    assert_eq!(
        jws::verify_compact(&none, &key, &opts),
        Err(Error::AlgorithmNotAllowed)
    );
    let crit = format!(
        "{}.{}.{sig}",
        b64::encode(br#"{"alg":"ES256","crit":["exp"],"exp":1}"#),
        "eA"
    );
    assert_eq!(
        jws::verify_compact(&crit, &key, &opts),
        Err(Error::CriticalHeader)
    );
    assert_eq!(
        jws::verify_compact(&format!("{}.eA.{sig}", b64::encode(b"[1]")), &key, &opts),
        Err(Error::InvalidJson)
    );
    for junk in ["", ".", "..", "a.b.c", "{}", "\u{0}.\u{0}.\u{0}"] {
        assert!(jws::verify_compact(junk, &key, &opts).is_err());
        assert!(jws::verify_json(junk, &key, &opts).is_err());
    }
    let mut restricted = key.clone();
    restricted.meta.key_use = Some("enc".into());
    assert_eq!(
        jws::sign_compact(&restricted, JwsAlg::Es256, b"x", &Map::new()),
        Err(Error::KeyMismatch)
    );
}

fn all_pairs() -> Vec<(KeyAlg, ContentEnc)> {
    let mut pairs = Vec::new();
    for alg in KeyAlg::ALL {
        for enc in ContentEnc::ALL {
            pairs.push((alg, enc));
        }
    }
    pairs
}

#[test]
fn every_jwe_pair_round_trips_compact_and_flattened() {
    let rsa = Jwk::generate(KeyGen::Rsa(2048)).unwrap();
    let enc_opts = EncryptOptions {
        allow_rsa1_5: true,
        ..EncryptOptions::default()
    };
    let dec_opts = DecryptOptions {
        allow_rsa1_5: true,
        ..DecryptOptions::default()
    };
    let pairs = all_pairs();
    for (alg, enc) in &pairs {
        let key = jwe_key(*alg, *enc, &rsa);
        let public = key.to_public();
        let token = jwe::encrypt_compact(&public, *alg, *enc, b"plain text", &enc_opts).unwrap();
        let d = jwe::decrypt_compact(&token, &key, &dec_opts).unwrap();
        assert_eq!(
            (d.alg, d.enc, d.plaintext.as_slice()),
            (*alg, *enc, &b"plain text"[..])
        );
        let flat = jwe::encrypt_flattened(&public, *alg, *enc, b"flat", &enc_opts).unwrap();
        assert_eq!(
            jwe::decrypt_json(&flat, &key, &dec_opts).unwrap().plaintext,
            b"flat"
        );
        // tampering with any part of the token fails authentication
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        for i in [3usize, 4] {
            let mut bytes = b64::decode(&parts[i]).unwrap();
            bytes[0] ^= 1;
            let saved = std::mem::replace(&mut parts[i], b64::encode(&bytes));
            assert_eq!(
                jwe::decrypt_compact(&parts.join("."), &key, &dec_opts),
                Err(Error::DecryptFailed),
                "{alg:?} {enc:?} {i}"
            );
            parts[i] = saved;
        }
    }
    assert_eq!(pairs.len(), 14 * 6);
}

#[test]
fn jwe_general_form_with_several_recipients_and_zip() {
    let a = Jwk::generate(KeyGen::Oct(256)).unwrap();
    let b = Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap();
    let c = Jwk::generate(KeyGen::Okp(OkpCurve::X25519)).unwrap();
    let text = "compress me ".repeat(200);
    let opts = EncryptOptions {
        zip: true,
        ..EncryptOptions::default()
    };
    let b_public = b.to_public();
    let c_public = c.to_public();
    let recipients = [
        (&a, KeyAlg::A256Kw),
        (&b_public, KeyAlg::EcdhEsA128Kw),
        (&c_public, KeyAlg::EcdhEsA256Kw),
    ];
    let general =
        jwe::encrypt_general(&recipients, ContentEnc::A256Gcm, text.as_bytes(), &opts).unwrap();
    assert!(general.len() < text.len());
    for key in [&a, &b, &c] {
        let d = jwe::decrypt_json(&general, key, &DecryptOptions::default()).unwrap();
        assert_eq!(d.plaintext, text.as_bytes());
        assert_eq!(d.header["zip"], "DEF");
    }
    let small = DecryptOptions {
        max_inflated: 100,
        ..DecryptOptions::default()
    };
    assert!(matches!(
        jwe::decrypt_json(&general, &a, &small),
        Err(Error::InputTooLarge { .. })
    ));
    assert!(jwe::encrypt_general(&[(&a, KeyAlg::Dir)], ContentEnc::A256Gcm, b"x", &opts).is_err());
}

#[test]
fn jwe_bad_input_is_a_typed_error() {
    let key = Jwk::generate(KeyGen::Oct(128)).unwrap();
    let opts = DecryptOptions::default();
    let token = jwe::encrypt_compact(
        &key,
        KeyAlg::A128Kw,
        ContentEnc::A128CbcHs256,
        b"x",
        &EncryptOptions::default(),
    )
    .unwrap();
    let dropped = token.rsplit_once('.').unwrap().0;
    assert!(matches!(
        jwe::decrypt_compact(dropped, &key, &opts),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        jwe::decrypt_compact(&format!("{token}.x"), &key, &opts),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        jwe::decrypt_compact(&format!("{token}*"), &key, &opts),
        Err(Error::InvalidBase64)
    );
    assert_eq!(
        jwe::decrypt_compact(&token, &Jwk::generate(KeyGen::Oct(256)).unwrap(), &opts),
        Err(Error::KeyMismatch)
    );
    assert_eq!(
        jwe::decrypt_compact(
            &token,
            &Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap(),
            &opts
        ),
        Err(Error::KeyMismatch)
    );
    assert_eq!(
        jwe::decrypt_compact(&token, &Jwk::generate(KeyGen::Oct(128)).unwrap(), &opts),
        Err(Error::DecryptFailed)
    );
    let only_gcm = DecryptOptions {
        encryptions: Some(vec![ContentEnc::A256Gcm]),
        ..DecryptOptions::default()
    };
    assert_eq!(
        jwe::decrypt_compact(&token, &key, &only_gcm),
        Err(Error::AlgorithmNotAllowed)
    );
    let small = DecryptOptions {
        max_len: 10,
        ..DecryptOptions::default()
    };
    assert!(matches!(
        jwe::decrypt_compact(&token, &key, &small),
        Err(Error::InputTooLarge { .. })
    ));
    let rsa = Jwk::generate(KeyGen::Rsa(2048)).unwrap();
    assert_eq!(
        jwe::encrypt_compact(
            &rsa,
            KeyAlg::Rsa1_5,
            ContentEnc::A128CbcHs256,
            b"x",
            &EncryptOptions::default()
        ),
        Err(Error::AlgorithmNotAllowed)
    );
    // RSA1_5 with a corrupted encrypted key fails like any other tampering (random-CEK countermeasure).
    let allow = EncryptOptions {
        allow_rsa1_5: true,
        ..EncryptOptions::default()
    };
    let t =
        jwe::encrypt_compact(&rsa, KeyAlg::Rsa1_5, ContentEnc::A128CbcHs256, b"x", &allow).unwrap();
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    let mut ek = b64::decode(&parts[1]).unwrap();
    ek[5] ^= 1;
    parts[1] = b64::encode(&ek);
    let allow_dec = DecryptOptions {
        allow_rsa1_5: true,
        ..DecryptOptions::default()
    };
    assert_eq!(
        jwe::decrypt_compact(&parts.join("."), &rsa, &allow_dec),
        Err(Error::DecryptFailed)
    );
    // an epk that is not on the curve
    let ec = Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap();
    let header = json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": {"kty": "EC", "crv": "P-256", "x": b64::encode(&[1; 32]), "y": b64::encode(&[2; 32])}});
    let forged = format!(
        "{}..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
        b64::encode(header.to_string().as_bytes())
    );
    assert!(matches!(
        jwe::decrypt_compact(&forged, &ec, &opts),
        Err(Error::Malformed(_))
    ));
    for junk in ["", "....", "a.b.c.d.e", "{}", "[]"] {
        assert!(jwe::decrypt_compact(junk, &key, &opts).is_err());
        assert!(jwe::decrypt_json(junk, &key, &opts).is_err());
    }
}

#[test]
fn jwk_generation_export_and_files() {
    let dir = std::env::temp_dir().join(format!("lws-crypto-jwk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for spec in [
        KeyGen::Oct(256),
        KeyGen::Rsa(2048),
        KeyGen::Ec(Curve::P521),
        KeyGen::Okp(OkpCurve::Ed25519),
        KeyGen::Okp(OkpCurve::X25519),
    ] {
        let mut key = Jwk::generate(spec).unwrap();
        key.meta.kid = Some(key.thumbprint_b64());
        key.meta.key_ops = Some(vec!["sign".into()]);
        let path = dir.join("k.jwk");
        key.save(&path, true).unwrap();
        let loaded = Jwk::load(&path).unwrap();
        assert_eq!(loaded.to_json(true), key.to_json(true));
        assert_eq!(loaded.meta, key.meta);
        assert_eq!(loaded.thumbprint_b64(), key.to_public().thumbprint_b64());
        let public: Value = serde_json::from_str(&key.to_json(false)).unwrap();
        assert!(public.get("d").is_none());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(Jwk::generate(KeyGen::Rsa(1024)).is_err());
    assert!(Jwk::generate(KeyGen::Oct(7)).is_err());
    assert!(matches!(
        Jwk::from_json(r#"{"kty":"EC","crv":"P-999","x":"AA","y":"AA"}"#),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        Jwk::from_json(r#"{"kty":"oct"}"#),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        Jwk::from_json(r#"{"kty":"oct","k":"a+b"}"#).unwrap_err(),
        Error::InvalidBase64
    );
    assert_eq!(Jwk::from_json("{").unwrap_err(), Error::InvalidJson);
}

#[test]
fn jwt_sign_and_validate_claims() {
    let key = jws_key(JwsAlg::Es256);
    let now = 1_700_000_000u64;
    let claims = |extra: Value| -> Map<String, Value> {
        let mut m =
            json!({"iss": "lws", "aud": ["a", "b"], "iat": now, "nbf": now, "exp": now + 300})
                .as_object()
                .unwrap()
                .clone();
        m.extend(extra.as_object().unwrap().clone());
        m
    };
    let mut v = Validation::new(&[JwsAlg::Es256]);
    v.now = Some(now);
    v.issuer = Some("lws".into());
    v.audience = Some("b".into());
    let token = jwt::sign(&key, JwsAlg::Es256, &claims(json!({"sub": "me"}))).unwrap();
    assert_eq!(
        jwt::validate(&token, &key.to_public(), &v).unwrap()["sub"],
        "me"
    );
    let check = |extra: Value, v: &Validation| {
        jwt::validate(
            &jwt::sign(&key, JwsAlg::Es256, &claims(extra)).unwrap(),
            &key,
            v,
        )
    };
    assert_eq!(
        check(json!({"exp": now - 61}), &v),
        Err(Error::Claim(ClaimError::Expired))
    );
    assert!(check(json!({"exp": now - 59}), &v).is_ok());
    assert_eq!(
        check(json!({"nbf": now + 61}), &v),
        Err(Error::Claim(ClaimError::NotYetValid))
    );
    assert_eq!(
        check(json!({"iat": now + 120}), &v),
        Err(Error::Claim(ClaimError::IssuedInFuture))
    );
    assert_eq!(
        check(json!({"iss": "other"}), &v),
        Err(Error::Claim(ClaimError::Issuer))
    );
    assert_eq!(
        check(json!({"aud": "c"}), &v),
        Err(Error::Claim(ClaimError::Audience))
    );
    assert_eq!(
        check(json!({"exp": "soon"}), &v),
        Err(Error::Claim(ClaimError::Malformed))
    );
    let hs = Validation {
        algorithms: vec![JwsAlg::Hs256, JwsAlg::None],
        ..v.clone()
    };
    assert_eq!(
        jwt::validate(&token, &key, &hs),
        Err(Error::AlgorithmNotAllowed)
    );
    let none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none"}"#),
        token.split('.').nth(1).unwrap()
    );
    assert_eq!(
        jwt::validate(&none, &key, &hs),
        Err(Error::AlgorithmNotAllowed)
    );
}

#[test]
fn oversized_fields_are_refused() {
    // An RSA modulus above 4096 bits, a 2-byte exponent set to an even value, a key set over the count limit.
    let big_n = b64::encode(&[0xffu8; 1024]);
    let e = b64::encode(&[1, 0, 1]);
    let huge = format!(r#"{{"kty":"RSA","n":"{big_n}","e":"{e}"}}"#);
    assert!(matches!(Jwk::from_json(&huge), Err(Error::InvalidKey(_))));
    let too_many = format!(
        r#"{{"keys":[{}]}}"#,
        vec![r#"{"kty":"oct","k":"AAAA"}"#; 300].join(",")
    );
    assert!(matches!(
        lws_crypto::JwkSet::from_json(&too_many),
        Err(Error::InputTooLarge { .. })
    ));
    let big_json = format!(r#"{{"kty":"oct","k":"{}"}}"#, "A".repeat(2 << 20));
    assert!(matches!(
        Jwk::from_json(&big_json),
        Err(Error::InputTooLarge { .. })
    ));
    // A JWE whose encrypted key is far longer than any key wrap output, and one over the size limit.
    let key = Jwk::generate(KeyGen::Oct(128)).unwrap();
    let token = jwe::encrypt_compact(
        &key,
        KeyAlg::A128Kw,
        ContentEnc::A128Gcm,
        b"x",
        &EncryptOptions::default(),
    )
    .unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = b64::encode(&[7u8; 4096]);
    assert_eq!(
        jwe::decrypt_compact(&parts.join("."), &key, &DecryptOptions::default()),
        Err(Error::DecryptFailed)
    );
    let long = format!("{token}{}", "A".repeat(1 << 20));
    assert!(matches!(
        jwe::decrypt_compact(&long, &key, &DecryptOptions::default()),
        Err(Error::InputTooLarge { .. })
    ));
    // A JWS with more signatures than the limit.
    let sig = json!({"protected": b64::encode(br#"{"alg":"HS256"}"#), "signature": "AAAA"});
    let many = json!({"payload": "", "signatures": vec![sig; 40]}).to_string();
    assert!(matches!(
        jws::verify_json(&many, &key, &VerifyOptions::default()),
        Err(Error::InputTooLarge { .. })
    ));
}

#[test]
fn debug_output_hides_secrets() {
    let secret = [0xabu8; 32];
    let shown = format!("{:?}", Jwk::oct(&secret));
    assert!(
        !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
        "{shown}"
    );
    let ec = Jwk::generate(KeyGen::Ec(Curve::P256)).unwrap();
    let lws_crypto::KeyMaterial::Ec(k) = &ec.key else {
        panic!("EC")
    };
    let d = k
        .d()
        .unwrap()
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(!format!("{ec:?}").contains(&d));
}

#[test]
fn adversarial_rsa_private_parts_are_errors() {
    let real = Jwk::generate(KeyGen::Rsa(2048)).unwrap().to_value(true);
    let n = real["n"].as_str().unwrap();
    let p = real["p"].as_str().unwrap();
    for (d, primes) in [
        (b64::encode(&[0]), None),
        (b64::encode(&[1]), None),
        (n.to_string(), None),
        (b64::encode(&[0xff; 256]), None),
        (real["d"].as_str().unwrap().to_string(), Some((p, p))),
        (
            real["d"].as_str().unwrap().to_string(),
            Some((b64::encode(&[1]).leak() as &str, n)),
        ),
    ] {
        let mut v = json!({"kty": "RSA", "n": n, "e": "AQAB", "d": d});
        if let Some((p, q)) = primes {
            v["p"] = json!(p);
            v["q"] = json!(q);
        }
        assert!(Jwk::from_value(&v).is_err(), "{v}");
    }
}

#[test]
fn adversarial_rsa_public_keys_are_errors_or_harmless() {
    let mut even = vec![0xc5u8; 256];
    even[255] = 0x10;
    let odd = vec![0xc5u8; 256];
    for (n, e) in [
        (odd.clone(), vec![1u8]),
        (odd.clone(), vec![0u8]),
        (odd.clone(), vec![0xff; 64]),
        (even, vec![1, 0, 1]),
        (odd, vec![2]),
    ] {
        let v = json!({"kty": "RSA", "n": b64::encode(&n), "e": b64::encode(&e)});
        let Ok(key) = Jwk::from_value(&v) else {
            continue;
        };
        // Whatever the key, using it must fail cleanly or work, never panic.
        let _ = jwe::encrypt_compact(
            &key,
            KeyAlg::RsaOaep,
            ContentEnc::A128Gcm,
            b"x",
            &EncryptOptions::default(),
        );
        let _ = jws::verify_compact("e30.e30.AAAA", &key, &VerifyOptions::default());
    }
}
