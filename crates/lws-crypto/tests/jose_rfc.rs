//! The worked examples of RFC 7515 (appendix A), RFC 7516 (appendix A), RFC 7517, RFC 7638, RFC 7520 and
//! RFC 8037, read from `tests/vectors/`.

use lws_crypto::jwe::{self, ContentEnc, DecryptOptions};
use lws_crypto::jws::{self, JwsAlg, VerifyOptions};
use lws_crypto::{b64, keywrap, Error, HashAlg, Jwk, JwkSet};
use serde_json::{Map, Value};

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn key(v: &Value) -> Jwk {
    Jwk::from_value(v).unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn rsa1_5() -> DecryptOptions {
    DecryptOptions {
        allow_rsa1_5: true,
        ..DecryptOptions::default()
    }
}

#[test]
fn rfc7515_appendix_a_compact() {
    let v = vectors("rfc7515.json");
    let mut checked = 0;
    for case in v["compact"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let token = case["compact"].as_str().unwrap();
        let jwk = key(&case["key"]);
        let payload = b64::decode(case["payload"].as_str().unwrap()).unwrap();
        if name == "A.5" {
            // Unsecured JWS: parses, refused by default, accepted only with the explicit opt-in.
            assert_eq!(
                jws::decode_compact(token, 1 << 20).unwrap().alg,
                JwsAlg::None
            );
            assert_eq!(
                jws::verify_compact(token, &jwk, &VerifyOptions::default()),
                Err(Error::AlgorithmNotAllowed)
            );
            let opts = VerifyOptions {
                allow_none: true,
                ..VerifyOptions::default()
            };
            assert_eq!(
                jws::verify_compact(token, &jwk, &opts).unwrap().payload,
                payload
            );
        } else {
            let verified = jws::verify_compact(token, &jwk, &VerifyOptions::default()).unwrap();
            assert_eq!(verified.payload, payload, "{name}");
            // HMAC and RSASSA-PKCS1-v1_5 are deterministic: signing the same input reproduces the example.
            if matches!(verified.alg, JwsAlg::Hs256 | JwsAlg::Rs256) {
                let input = token.rsplit_once('.').unwrap().0;
                let sig = jws::sign_bytes(verified.alg, &jwk, input.as_bytes()).unwrap();
                assert_eq!(format!("{input}.{}", b64::encode(&sig)), token, "{name}");
            }
            let mut bad = token.to_string();
            bad.pop();
            bad.push(if token.ends_with('A') { 'B' } else { 'A' });
            assert!(
                jws::verify_compact(&bad, &jwk, &VerifyOptions::default()).is_err(),
                "{name}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn rfc7515_appendix_a_json_forms() {
    let v = vectors("rfc7515.json");
    for case in v["json"].as_array().unwrap() {
        let payload = b64::decode(case["payload"].as_str().unwrap()).unwrap();
        for k in case["keys"].as_array().unwrap() {
            let verified = jws::verify_json(
                case["serialized"].as_str().unwrap(),
                &key(k),
                &VerifyOptions::default(),
            )
            .unwrap();
            assert_eq!(verified.payload, payload);
        }
    }
}

#[test]
fn rfc8037_eddsa_example_is_reproduced() {
    let v = vectors("rfc8037.json");
    let jwk = key(&v["key"]);
    let payload = b64::decode(v["payload"].as_str().unwrap()).unwrap();
    let token = jws::sign_compact(&jwk, JwsAlg::EdDsa, &payload, &Map::new()).unwrap();
    assert_eq!(token, v["compact"].as_str().unwrap());
    assert_eq!(
        jws::verify_compact(&token, &jwk.to_public(), &VerifyOptions::default())
            .unwrap()
            .payload,
        payload
    );
}

#[test]
fn rfc7516_appendix_a_compact() {
    let v = vectors("rfc7516.json");
    for case in v["compact"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let token = case["compact"].as_str().unwrap();
        let jwk = key(&case["key"]);
        let pt = b64::decode(case["plaintext"].as_str().unwrap()).unwrap();
        let d = if name == "A.2" {
            assert_eq!(
                jwe::decrypt_compact(token, &jwk, &DecryptOptions::default()),
                Err(Error::AlgorithmNotAllowed)
            );
            jwe::decrypt_compact(token, &jwk, &rsa1_5()).unwrap()
        } else {
            jwe::decrypt_compact(token, &jwk, &DecryptOptions::default()).unwrap()
        };
        assert_eq!(d.plaintext, pt, "{name}");
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let tag = b64::decode(&parts[4]).unwrap();
        let mut bad = tag.clone();
        bad[0] ^= 1;
        parts[4] = b64::encode(&bad);
        assert_eq!(
            jwe::decrypt_compact(&parts.join("."), &jwk, &rsa1_5()),
            Err(Error::DecryptFailed),
            "{name}"
        );
    }
}

#[test]
fn rfc7516_a3_is_reproduced_exactly() {
    let v = vectors("rfc7516.json");
    let case = &v["compact"][2];
    let token = case["compact"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let lws_crypto::KeyMaterial::Oct(kek) = key(&case["key"]).key else {
        panic!("oct")
    };
    let cek = keywrap::unwrap(&kek, &b64::decode(parts[1]).unwrap()).unwrap();
    assert_eq!(b64::encode(&keywrap::wrap(&kek, &cek).unwrap()), parts[1]);
    let iv = b64::decode(parts[2]).unwrap();
    let pt = b64::decode(case["plaintext"].as_str().unwrap()).unwrap();
    let (ct, tag) = ContentEnc::A128CbcHs256
        .encrypt(&cek, &iv, parts[0].as_bytes(), &pt)
        .unwrap();
    assert_eq!(
        (b64::encode(&ct), b64::encode(&tag)),
        (parts[3].to_string(), parts[4].to_string())
    );
}

#[test]
fn rfc7516_appendix_a_json_forms() {
    let v = vectors("rfc7516.json");
    for case in v["json"].as_array().unwrap() {
        let pt = b64::decode(case["plaintext"].as_str().unwrap()).unwrap();
        for k in case["keys"].as_array().unwrap() {
            let d = jwe::decrypt_json(case["serialized"].as_str().unwrap(), &key(k), &rsa1_5())
                .unwrap();
            assert_eq!(d.plaintext, pt);
            assert_eq!(d.header["jku"], "https://server.example.com/keys.jwks");
        }
    }
}

#[test]
fn rfc7517_keys_import_and_export() {
    let v = vectors("rfc7517.json");
    for set in ["A.1", "A.2", "A.3"] {
        let text = v[set].to_string();
        let keys = JwkSet::from_json(&text).unwrap();
        assert_eq!(keys.keys.len(), v[set]["keys"].as_array().unwrap().len());
        for (jwk, original) in keys.keys.iter().zip(v[set]["keys"].as_array().unwrap()) {
            let exported = jwk.to_value(true);
            for member in [
                "kty", "crv", "x", "y", "n", "e", "d", "k", "kid", "use", "alg",
            ] {
                assert_eq!(exported.get(member), original.get(member), "{set} {member}");
            }
            assert_eq!(
                jwk.is_private(),
                original.get("d").is_some() || original.get("k").is_some()
            );
            let public = jwk.to_value(false);
            if jwk.kty() != "oct" {
                assert!(public.get("d").is_none() && public.get("p").is_none());
            }
        }
    }
    let with_x5c = key(&v["B"]);
    assert_eq!(with_x5c.meta.x5c.as_ref().unwrap().len(), 1);
    let rsa = key(&v["C.1"]);
    assert!(rsa.is_private());
    assert_eq!(key(&rsa.to_value(true)).to_json(true), rsa.to_json(true));
}

#[test]
fn rfc7638_thumbprint() {
    let v = vectors("rfc7517.json");
    let jwk = key(&v["A.1"]["keys"][1]);
    assert_eq!(jwk.meta.kid.as_deref(), Some("2011-04-29"));
    assert_eq!(
        jwk.thumbprint_b64(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(
        jwk.thumbprint(HashAlg::Sha256),
        key(&jwk.to_value(false)).thumbprint(HashAlg::Sha256)
    );
}

#[test]
fn rfc7520_signatures_in_every_form() {
    let v = vectors("rfc7520.json");
    let payload = b64::decode(v["payload"].as_str().unwrap()).unwrap();
    let mut checked = 0;
    for case in v["jws"].as_array().unwrap() {
        let keys: Vec<Jwk> = match case.get("keys") {
            Some(list) => list.as_array().unwrap().iter().map(key).collect(),
            None => vec![key(&case["key"])],
        };
        for jwk in &keys {
            let public = jwk.to_public();
            if let Some(token) = case.get("compact") {
                assert_eq!(
                    jws::verify_compact(
                        token.as_str().unwrap(),
                        &public,
                        &VerifyOptions::default()
                    )
                    .unwrap()
                    .payload,
                    payload
                );
                checked += 1;
            }
            for form in ["general", "flattened"] {
                if let Some(ser) = case.get(form) {
                    let verified =
                        jws::verify_json(&text(ser), &public, &VerifyOptions::default()).unwrap();
                    assert_eq!(verified.payload, payload, "{} {form}", case["name"]);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 19);
}

#[test]
fn rfc7520_encryption_in_every_form() {
    let v = vectors("rfc7520.json");
    let mut checked = 0;
    for case in v["jwe"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let jwk = key(&case["key"]);
        let pt = b64::decode(case["plaintext"].as_str().unwrap()).unwrap();
        if let Some(token) = case.get("compact") {
            let d = jwe::decrypt_compact(token.as_str().unwrap(), &jwk, &rsa1_5())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(d.plaintext, pt, "{name}");
            checked += 1;
        }
        for form in ["general", "flattened"] {
            if let Some(ser) = case.get(form) {
                let d = jwe::decrypt_json(&text(ser), &jwk, &rsa1_5())
                    .unwrap_or_else(|e| panic!("{name} {form}: {e}"));
                assert_eq!(d.plaintext, pt, "{name} {form}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 28, "{checked}");
}
