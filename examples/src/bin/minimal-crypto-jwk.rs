//! minimal-crypto-jwk: generates a JWK to the given parameters, like libwebsockets' `minimal-crypto-jwk`.
//! The private key goes to stdout, the public key to `--public FILE` when given.
//!
//!     cargo run -p lws-examples --bin minimal-crypto-jwk -- -t EC -v P-256 --kid mykey > key.jwk
//!     cargo run -p lws-examples --bin minimal-crypto-jwk -- -t RSA -b 2048 --public pub.jwk > key.jwk

use std::process::ExitCode;

use clap::Parser;
use lws_crypto::ec::Curve;
use lws_crypto::okp::OkpCurve;
use lws_crypto::{Jwk, KeyGen};

/// Generates a JWK.
#[derive(Parser)]
struct Args {
    /// Key type: oct, RSA, EC or OKP.
    #[arg(short = 't', long = "kty", default_value = "EC")]
    kty: String,
    /// Bits for oct and RSA keys.
    #[arg(short = 'b', long, default_value_t = 2048)]
    bits: usize,
    /// Curve for EC (P-256, P-384, P-521) and OKP (Ed25519, X25519) keys.
    #[arg(short = 'v', long, default_value = "P-256")]
    curve: String,
    /// `kid`; the RFC 7638 thumbprint when absent.
    #[arg(long)]
    kid: Option<String>,
    /// `use`: sig or enc.
    #[arg(long = "use")]
    key_use: Option<String>,
    /// `alg` the key is meant for.
    #[arg(long)]
    alg: Option<String>,
    /// Also write the public key to this file.
    #[arg(long)]
    public: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minimal-crypto-jwk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), lws_crypto::Error> {
    let spec = match args.kty.as_str() {
        "oct" => KeyGen::Oct(args.bits),
        "RSA" => KeyGen::Rsa(args.bits),
        "EC" => KeyGen::Ec(Curve::from_name(&args.curve)?),
        "OKP" => KeyGen::Okp(OkpCurve::from_name(&args.curve)?),
        _ => return Err(lws_crypto::Error::Unsupported("key type")),
    };
    let mut key = Jwk::generate(spec)?;
    key.meta.kid = Some(args.kid.clone().unwrap_or_else(|| key.thumbprint_b64()));
    key.meta.key_use = args.key_use.clone();
    key.meta.alg = args.alg.clone();
    if let Some(path) = &args.public {
        key.save(path, false)?;
    }
    println!("{}", key.to_json(true));
    Ok(())
}
