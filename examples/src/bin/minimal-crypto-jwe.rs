//! minimal-crypto-jwe: encrypts stdin into a compact JWE for any alg/enc pair, or decrypts a compact (or JSON)
//! JWE from stdin, like libwebsockets' `minimal-crypto-jwe`.
//!
//!     echo -n hello | cargo run -p lws-examples --bin minimal-crypto-jwe -- -e "ECDH-ES A256GCM" -k pub.jwk > t
//!     cargo run -p lws-examples --bin minimal-crypto-jwe -- -k key.jwk < t

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use lws_crypto::jwe::{self, ContentEnc, DecryptOptions, EncryptOptions, KeyAlg};
use lws_crypto::{Error, Jwk};

/// Encrypts or decrypts a JWE.
#[derive(Parser)]
struct Args {
    /// Encrypt stdin with "ALG ENC" (default: decrypt stdin).
    #[arg(short = 'e', long)]
    encrypt: Option<String>,
    /// The JWK file.
    #[arg(short = 'k', long)]
    key: std::path::PathBuf,
    /// Compress before encrypting (zip: DEF).
    #[arg(long)]
    zip: bool,
    /// Allow RSA1_5 (off by default: see lws-crypto's rsa module on timing).
    #[arg(long = "allow-rsa1_5")]
    allow_rsa1_5: bool,
    /// Encrypt into flattened JSON instead of compact form.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minimal-crypto-jwe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let key = Jwk::load(&args.key)?;
    let mut input = Vec::new();
    std::io::stdin()
        .take(jwe::DEFAULT_MAX_JWE as u64 + 1)
        .read_to_end(&mut input)?;
    let mut out = std::io::stdout();
    match &args.encrypt {
        Some(pair) => {
            let (alg, enc) = pair
                .split_once(' ')
                .ok_or(Error::Malformed("-e takes \"ALG ENC\""))?;
            let (alg, enc) = (KeyAlg::from_name(alg)?, ContentEnc::from_name(enc.trim())?);
            let opts = EncryptOptions {
                zip: args.zip,
                allow_rsa1_5: args.allow_rsa1_5,
                ..EncryptOptions::default()
            };
            let token = if args.json {
                jwe::encrypt_flattened(&key, alg, enc, &input, &opts)?
            } else {
                jwe::encrypt_compact(&key, alg, enc, &input, &opts)?
            };
            writeln!(out, "{token}")?;
        }
        None => {
            let text = std::str::from_utf8(&input)
                .map_err(|_| Error::Malformed("JWE is not UTF-8"))?
                .trim();
            let opts = DecryptOptions {
                allow_rsa1_5: args.allow_rsa1_5,
                ..DecryptOptions::default()
            };
            let d = if text.starts_with('{') {
                jwe::decrypt_json(text, &key, &opts)?
            } else {
                jwe::decrypt_compact(text, &key, &opts)?
            };
            out.write_all(&d.plaintext)?;
        }
    }
    Ok(())
}
