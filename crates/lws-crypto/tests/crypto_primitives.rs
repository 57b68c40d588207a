//! Generic crypto against published vectors kept in `tests/vectors/` (NIST SP 800-38A, GCM, IEEE 1619, RFC 3394,
//! RFC 5869, RFC 4231, RFC 7518 appendices B and C).

use lws_crypto::aes::{self, Mode, Padding};
use lws_crypto::ec::EcKey;
use lws_crypto::jwe::{concat_kdf, ContentEnc};
use lws_crypto::rsa::{RsaKey, RsaPadding, RsaScheme};
use lws_crypto::{b64, hkdf, hmac, keywrap, Error, HashAlg, Jwk, KeyMaterial};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hash(v: &Value) -> HashAlg {
    match v.as_str().unwrap() {
        "SHA-1" => HashAlg::Sha1,
        "SHA-256" => HashAlg::Sha256,
        "SHA-384" => HashAlg::Sha384,
        _ => HashAlg::Sha512,
    }
}

#[test]
fn aes_block_modes_match_nist_and_ieee_vectors() {
    let v = vectors("aes.json");
    let modes = v["modes"].as_array().unwrap();
    for case in modes {
        let mode = match case["mode"].as_str().unwrap() {
            "ECB" => Mode::Ecb,
            "CBC" => Mode::Cbc,
            "CFB128" => Mode::Cfb128,
            "CFB8" => Mode::Cfb8,
            "OFB" => Mode::Ofb,
            "CTR" => Mode::Ctr,
            _ => Mode::Xts,
        };
        let (key, iv, pt, ct) = (
            hex(&case["key"]),
            hex(&case["iv"]),
            hex(&case["pt"]),
            hex(&case["ct"]),
        );
        assert_eq!(
            aes::encrypt(mode, &key, &iv, Padding::None, &pt).unwrap(),
            ct,
            "{mode:?} encrypt"
        );
        assert_eq!(
            aes::decrypt(mode, &key, &iv, Padding::None, &ct).unwrap(),
            pt,
            "{mode:?} decrypt"
        );
    }
    assert_eq!(modes.len(), 8);
}

#[test]
fn aes_cbc_pkcs7_round_trips_and_rejects_bad_padding() {
    let key = [7u8; 24];
    let iv = [1u8; 16];
    for len in [0usize, 1, 15, 16, 17, 100] {
        let pt = vec![0x5a; len];
        let ct = aes::encrypt(Mode::Cbc, &key, &iv, Padding::Pkcs7, &pt).unwrap();
        assert_eq!(ct.len(), (len / 16 + 1) * 16);
        assert_eq!(
            aes::decrypt(Mode::Cbc, &key, &iv, Padding::Pkcs7, &ct).unwrap(),
            pt
        );
    }
    let mut ct = aes::encrypt(Mode::Cbc, &key, &iv, Padding::Pkcs7, b"hello").unwrap();
    ct[15] ^= 0x01;
    assert_eq!(
        aes::decrypt(Mode::Cbc, &key, &iv, Padding::Pkcs7, &ct),
        Err(Error::DecryptFailed)
    );
    assert!(matches!(
        aes::encrypt(Mode::Cbc, &key, &iv, Padding::None, b"short"),
        Err(Error::InvalidLength(_))
    ));
    assert!(matches!(
        aes::encrypt(Mode::Cbc, &[0u8; 17], &iv, Padding::Pkcs7, b"x"),
        Err(Error::InvalidLength(_))
    ));
    assert!(matches!(
        aes::encrypt(Mode::Ctr, &key, &[0u8; 8], Padding::None, b"x"),
        Err(Error::InvalidLength(_))
    ));
}

#[test]
fn aes_gcm_matches_vectors_with_aad_and_truncated_tags() {
    let v = vectors("aes.json");
    for case in v["gcm"].as_array().unwrap() {
        let (key, iv, aad, pt) = (
            hex(&case["key"]),
            hex(&case["iv"]),
            hex(&case["aad"]),
            hex(&case["pt"]),
        );
        let (ct, tag) = (hex(&case["ct"]), hex(&case["tag"]));
        assert_eq!(
            aes::gcm_encrypt(&key, &iv, &aad, &pt, 16).unwrap(),
            (ct.clone(), tag.clone())
        );
        assert_eq!(aes::gcm_decrypt(&key, &iv, &aad, &ct, &tag).unwrap(), pt);
        for tag_len in [12usize, 13, 8, 4] {
            let (c2, t2) = aes::gcm_encrypt(&key, &iv, &aad, &pt, tag_len).unwrap();
            assert_eq!(
                (c2.as_slice(), t2.as_slice()),
                (ct.as_slice(), &tag[..tag_len])
            );
            assert_eq!(
                aes::gcm_decrypt(&key, &iv, &aad, &ct, &tag[..tag_len]).unwrap(),
                pt
            );
        }
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert_eq!(
            aes::gcm_decrypt(&key, &iv, &aad, &ct, &bad),
            Err(Error::DecryptFailed)
        );
        assert_eq!(
            aes::gcm_decrypt(&key, &iv, &aad, &ct, &bad[..12]),
            Err(Error::DecryptFailed)
        );
        assert_eq!(
            aes::gcm_decrypt(&key, &iv, b"other", &ct, &tag),
            Err(Error::DecryptFailed)
        );
    }
}

#[test]
fn key_wrap_matches_rfc3394() {
    let v = vectors("primitives.json");
    for case in v["keywrap"].as_array().unwrap() {
        let (kek, key, wrapped) = (hex(&case["kek"]), hex(&case["key"]), hex(&case["wrapped"]));
        assert_eq!(keywrap::wrap(&kek, &key).unwrap(), wrapped);
        assert_eq!(keywrap::unwrap(&kek, &wrapped).unwrap(), key);
        let mut bad = wrapped.clone();
        bad[3] ^= 0x80;
        assert_eq!(keywrap::unwrap(&kek, &bad), Err(Error::DecryptFailed));
    }
}

#[test]
fn hashes_hmac_and_hkdf_match_rfc_vectors() {
    let v = vectors("primitives.json");
    for case in v["hash"].as_array().unwrap() {
        assert_eq!(
            hash(&case["hash"]).digest(&hex(&case["data"])),
            hex(&case["digest"])
        );
    }
    for case in v["hmac"].as_array().unwrap() {
        let (alg, key, data, mac) = (
            hash(&case["hash"]),
            hex(&case["key"]),
            hex(&case["data"]),
            hex(&case["mac"]),
        );
        assert_eq!(hmac::sign(alg, &key, &data), mac);
        assert!(hmac::verify(alg, &key, &data, &mac).is_ok());
        assert_eq!(
            hmac::verify(alg, &key, &data, &mac[..16]),
            Err(Error::SignatureInvalid)
        );
    }
    for case in v["hkdf"].as_array().unwrap() {
        let alg = hash(&case["hash"]);
        let prk = hkdf::extract(alg, &hex(&case["salt"]), &hex(&case["ikm"]));
        assert_eq!(prk, hex(&case["prk"]));
        let len = case["len"].as_u64().unwrap() as usize;
        assert_eq!(
            hkdf::expand(alg, &prk, &hex(&case["info"]), len).unwrap(),
            hex(&case["okm"])
        );
    }
    assert!(hkdf::expand(HashAlg::Sha256, &[0; 32], b"", 255 * 32 + 1).is_err());
}

#[test]
fn cbc_hmac_content_encryption_matches_rfc7518_b1() {
    let v = vectors("primitives.json");
    let case = &v["cbc_hmac"][0];
    let (key, iv, aad, pt) = (
        hex(&case["key"]),
        hex(&case["iv"]),
        hex(&case["aad"]),
        hex(&case["pt"]),
    );
    let (ct, tag) = ContentEnc::A128CbcHs256
        .encrypt(&key, &iv, &aad, &pt)
        .unwrap();
    assert_eq!(
        (ct.clone(), tag.clone()),
        (hex(&case["ct"]), hex(&case["tag"]))
    );
    assert_eq!(
        ContentEnc::A128CbcHs256
            .decrypt(&key, &iv, &aad, &ct, &tag)
            .unwrap(),
        pt
    );
    let mut bad = ct.clone();
    bad[0] ^= 1;
    assert_eq!(
        ContentEnc::A128CbcHs256.decrypt(&key, &iv, &aad, &bad, &tag),
        Err(Error::DecryptFailed)
    );
}

#[test]
fn ecdh_and_concat_kdf_match_rfc7518_appendix_c() {
    let v = vectors("primitives.json");
    let case = &v["ecdh_es"][0];
    let eph = Jwk::from_value(&case["ephemeral"]).unwrap();
    let stat = Jwk::from_value(&case["static"]).unwrap();
    let (KeyMaterial::Ec(eph), KeyMaterial::Ec(stat)) = (&eph.key, &stat.key) else {
        panic!("EC keys")
    };
    let z = eph.ecdh(&stat.to_public()).unwrap();
    assert_eq!(z, hex(&case["z"]));
    assert_eq!(stat.ecdh(&eph.to_public()).unwrap(), z);
    let apu = b64::decode(case["apu"].as_str().unwrap()).unwrap();
    let apv = b64::decode(case["apv"].as_str().unwrap()).unwrap();
    let key = concat_kdf(&z, 16, "A128GCM", &apu, &apv);
    assert_eq!(b64::encode(&key), case["key"].as_str().unwrap());
}

#[test]
fn ec_sign_verify_and_point_validation_on_every_curve() {
    use lws_crypto::ec::Curve;
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = EcKey::generate(curve);
        let sig = key.sign(b"message").unwrap();
        assert_eq!(sig.len(), 2 * curve.coord_len());
        key.to_public().verify(b"message", &sig).unwrap();
        assert_eq!(key.verify(b"messagE", &sig), Err(Error::SignatureInvalid));
        let mut y = key.y().to_vec();
        y[5] ^= 1;
        assert!(matches!(
            EcKey::from_coordinates(curve, key.x(), &y, None),
            Err(Error::InvalidKey(_))
        ));
        let other = EcKey::generate(curve);
        assert!(EcKey::from_coordinates(curve, key.x(), key.y(), other.d()).is_err());
        assert_eq!(
            key.ecdh(&other.to_public()).unwrap(),
            other.ecdh(&key.to_public()).unwrap()
        );
    }
}

#[test]
fn rsa_encrypt_decrypt_sign_verify() {
    let key = RsaKey::generate(2048).unwrap();
    assert_eq!(key.bits(), 2048);
    let public = key.to_public();
    for padding in [
        RsaPadding::Pkcs1v15,
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha256,
    ] {
        let ct = public.encrypt(padding, b"secret").unwrap();
        assert_eq!(key.decrypt(padding, &ct).unwrap(), b"secret");
        let mut bad = ct.clone();
        bad[10] ^= 1;
        assert_eq!(key.decrypt(padding, &bad), Err(Error::DecryptFailed));
        assert_eq!(public.decrypt(padding, &ct), Err(Error::NotPrivateKey));
    }
    for scheme in [RsaScheme::Pkcs1v15, RsaScheme::Pss] {
        for h in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let sig = key.sign(scheme, h, b"msg").unwrap();
            public.verify(scheme, h, b"msg", &sig).unwrap();
            assert_eq!(
                public.verify(scheme, h, b"msh", &sig),
                Err(Error::SignatureInvalid)
            );
        }
    }
    assert!(RsaKey::generate(1024).is_err());
    let parts = key.private_parts().unwrap();
    let rebuilt = RsaKey::from_private_parts(key.n(), key.e(), &parts.d, None).unwrap();
    assert_eq!(rebuilt.private_parts().unwrap().d, parts.d);
}
