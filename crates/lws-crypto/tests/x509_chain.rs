//! x.509 parsing, chain verification with and without a name, and certificate keys as JWKs.

use lws_crypto::jws::{self, JwsAlg, VerifyOptions};
use lws_crypto::x509::{attach_private_key_pem, CertChain};
use lws_crypto::{Error, KeyMaterial};

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/vectors/x509/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const NOW: Option<u64> = Some(1_800_000_000);

#[test]
fn chain_parses_and_reports_info() {
    let chain = CertChain::from_pem(&pem("chain-ec.pem")).unwrap();
    assert_eq!(chain.certs.len(), 2);
    let leaf = chain.leaf();
    assert_eq!(leaf.common_name(), Some("lws.example"));
    assert_eq!(leaf.subject(), "CN=lws.example");
    assert_eq!(leaf.issuer(), "CN=lws-crypto test root");
    assert!(leaf.not_before() < 1_800_000_000 && leaf.not_after() > 4_000_000_000);
    assert!(leaf.subject_key_id().is_some());
    assert_eq!(leaf.authority_key_id(), chain.certs[1].subject_key_id());
    assert!(!leaf.spki_der().is_empty());
    assert_eq!(
        CertChain::from_pem(b"not pem").unwrap_err(),
        Error::X509Parse
    );
    // A certificate with a line of its body missing is truncated DER.
    let text = String::from_utf8(pem("leaf-ec.pem")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(lines.len() / 2);
    assert_eq!(
        CertChain::from_pem(lines.join("\n").as_bytes()).unwrap_err(),
        Error::X509Parse
    );
}

#[test]
fn verification_against_trusted_roots_and_names() {
    let root = CertChain::from_pem(&pem("root.pem")).unwrap();
    let other = CertChain::from_pem(&pem("other-root.pem")).unwrap();
    let chain = CertChain::from_pem(&pem("chain-ec.pem")).unwrap();
    chain.verify(&root, None, NOW).unwrap();
    chain.verify(&root, Some("lws.example"), NOW).unwrap();
    chain.verify(&root, Some("www.lws.example"), NOW).unwrap();
    assert_eq!(
        chain.verify(&root, Some("evil.example"), NOW),
        Err(Error::X509NameMismatch)
    );
    assert_eq!(chain.verify(&other, None, NOW), Err(Error::X509Untrusted));
    assert_eq!(
        chain.verify(&root, None, Some(5_000_000_000)),
        Err(Error::X509Untrusted)
    );
    let rsa = CertChain::from_pem(&pem("leaf-rsa.pem")).unwrap();
    rsa.verify(&root, Some("rsa.lws.example"), NOW).unwrap();
}

#[test]
fn certificate_keys_become_jwks_and_take_their_private_keys() {
    for (cert, key, alg) in [
        ("leaf-ec.pem", "leaf-ec.key.pem", JwsAlg::Es384),
        ("leaf-ec.pem", "leaf-ec.sec1.key.pem", JwsAlg::Es384),
        ("leaf-rsa.pem", "leaf-rsa.key.pem", JwsAlg::Rs256),
    ] {
        let chain = CertChain::from_pem(&pem(cert)).unwrap();
        let public = chain.leaf().public_key_jwk().unwrap();
        assert!(!public.is_private());
        assert_eq!(public.meta.x5c.as_ref().map(Vec::len), Some(1));
        let mut private = public.clone();
        attach_private_key_pem(&mut private, &pem(key)).unwrap();
        assert!(private.is_private());
        let token = jws::sign_compact(
            &private,
            alg,
            b"signed by the cert key",
            &Default::default(),
        )
        .unwrap();
        jws::verify_compact(&token, &public, &VerifyOptions::default()).unwrap();
    }
    let ec = CertChain::from_pem(&pem("leaf-ec.pem"))
        .unwrap()
        .leaf()
        .public_key_jwk()
        .unwrap();
    let mut wrong = ec.clone();
    assert_eq!(
        attach_private_key_pem(&mut wrong, &pem("leaf-rsa.key.pem")),
        Err(Error::KeyMismatch)
    );
    assert!(matches!(ec.key, KeyMaterial::Ec(_)));
}
