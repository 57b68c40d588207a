//! Runs the minimal-crypto examples end to end through stdin and stdout: generate keys, sign and verify,
//! encrypt and decrypt, verify and convert a certificate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn example");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("lws-crypto-smoke-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn generate(dir: &TempDir, args: &[&str], name: &str) -> (String, String) {
    let (private, public) = (
        dir.file(&format!("{name}.jwk")),
        dir.file(&format!("{name}.pub.jwk")),
    );
    let mut all = args.to_vec();
    all.extend(["--public", &public]);
    let out = run(env!("CARGO_BIN_EXE_minimal-crypto-jwk"), &all, b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&private, &out.stdout).unwrap();
    (private, public)
}

#[test]
fn jws_sign_then_verify() {
    let dir = TempDir::new("jws");
    let (private, public) = generate(&dir, &["-t", "EC", "-v", "P-384"], "ec");
    let jws = env!("CARGO_BIN_EXE_minimal-crypto-jws");
    let signed = run(jws, &["-s", "-k", &private, "-a", "ES384"], b"hello jws");
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let verified = run(jws, &["-k", &public], &signed.stdout);
    assert!(verified.status.success());
    assert_eq!(verified.stdout, b"hello jws");
    let mut tampered = signed.stdout.clone();
    tampered[5] ^= 1;
    assert!(!run(jws, &["-k", &public], &tampered).status.success());
    assert!(!run(jws, &["-k", &public, "-a", "ES256"], &signed.stdout)
        .status
        .success());
}

#[test]
fn jwe_encrypt_then_decrypt() {
    let dir = TempDir::new("jwe");
    let (private, public) = generate(&dir, &["-t", "OKP", "-v", "X25519"], "x");
    let jwe = env!("CARGO_BIN_EXE_minimal-crypto-jwe");
    let sealed = run(
        jwe,
        &["-e", "ECDH-ES+A128KW A256GCM", "-k", &public, "--zip"],
        b"hello jwe",
    );
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    assert_eq!(sealed.stdout.iter().filter(|b| **b == b'.').count(), 4);
    let opened = run(jwe, &["-k", &private], &sealed.stdout);
    assert!(opened.status.success());
    assert_eq!(opened.stdout, b"hello jwe");
    let (oct, _) = generate(&dir, &["-t", "oct", "-b", "256"], "oct");
    assert!(!run(jwe, &["-k", &oct], &sealed.stdout).status.success());
}

#[test]
fn x509_verify_and_convert() {
    let vectors =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/lws-crypto/tests/vectors/x509");
    let read = |n: &str| std::fs::read(vectors.join(n)).unwrap();
    let root = vectors.join("root.pem");
    let x509 = env!("CARGO_BIN_EXE_minimal-crypto-x509");
    let ok = run(
        x509,
        &["-t", root.to_str().unwrap(), "-n", "lws.example"],
        &read("chain-ec.pem"),
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let other = vectors.join("other-root.pem");
    assert!(!run(
        x509,
        &["-t", other.to_str().unwrap()],
        &read("chain-ec.pem")
    )
    .status
    .success());
    let key = vectors.join("leaf-ec.key.pem");
    let jwk = run(x509, &["-p", key.to_str().unwrap()], &read("leaf-ec.pem"));
    assert!(jwk.status.success());
    let value: serde_json::Value = serde_json::from_slice(&jwk.stdout).unwrap();
    assert_eq!(
        (value["kty"].as_str(), value["crv"].as_str()),
        (Some("EC"), Some("P-384"))
    );
    assert!(value["d"].is_string());
}
