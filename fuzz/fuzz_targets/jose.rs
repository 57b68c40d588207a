//! Fuzz the JOSE parsers of lws-crypto: any bytes as a JWK, a JWK set, a compact or JSON JWS and a compact or
//! JSON JWE, checked against fixed keys. Nothing may panic; `none` must never verify by default, and nothing
//! random may decrypt or verify.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lws_crypto::ec::Curve;
use lws_crypto::jwe::{self, DecryptOptions};
use lws_crypto::jws::{self, VerifyOptions};
use lws_crypto::{Jwk, JwkSet, KeyGen};

fn keys() -> &'static [Jwk] {
    static KEYS: OnceLock<Vec<Jwk>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [KeyGen::Oct(128), KeyGen::Oct(256), KeyGen::Ec(Curve::P256)]
            .into_iter()
            .map(|spec| Jwk::generate(spec).expect("key generation"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = Jwk::from_json(text) {
        let again = Jwk::from_json(&key.to_json(true)).expect("an exported JWK re-imports");
        assert_eq!(again.thumbprint_b64(), key.thumbprint_b64());
    }
    let _ = JwkSet::from_json(text);
    let _ = jws::decode_compact(text, 1 << 20);
    for key in keys() {
        assert!(jws::verify_compact(text, key, &VerifyOptions::default()).is_err());
        assert!(jws::verify_json(text, key, &VerifyOptions::default()).is_err());
        let opts = DecryptOptions {
            allow_rsa1_5: true,
            max_inflated: 1 << 16,
            ..DecryptOptions::default()
        };
        if let Ok(d) = jwe::decrypt_compact(text, key, &opts) {
            assert!(d.plaintext.len() <= 1 << 16);
        }
        if let Ok(d) = jwe::decrypt_json(text, key, &opts) {
            assert!(d.plaintext.len() <= 1 << 16);
        }
    }
});
