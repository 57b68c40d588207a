//! minimal-crypto-jws: signs stdin into a compact JWS, or verifies a compact (or JSON) JWS from stdin and
//! prints its payload, like libwebsockets' `minimal-crypto-jws`.
//!
//!     echo -n hello | cargo run -p lws-examples --bin minimal-crypto-jws -- -s -k key.jwk -a ES256 > token
//!     cargo run -p lws-examples --bin minimal-crypto-jws -- -k key.jwk < token

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use lws_crypto::jws::{self, JwsAlg, VerifyOptions};
use lws_crypto::{Error, Jwk};

/// Signs or verifies a JWS.
#[derive(Parser)]
struct Args {
    /// Sign stdin (default: verify stdin).
    #[arg(short = 's', long)]
    sign: bool,
    /// The JWK file.
    #[arg(short = 'k', long)]
    key: std::path::PathBuf,
    /// Algorithm for signing (default: the key's `alg`); when verifying, the only algorithm accepted.
    #[arg(short = 'a', long)]
    alg: Option<String>,
    /// Sign into flattened JSON instead of compact form.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minimal-crypto-jws: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let key = Jwk::load(&args.key)?;
    let mut input = Vec::new();
    std::io::stdin()
        .take(jws::DEFAULT_MAX_JWS as u64 + 1)
        .read_to_end(&mut input)?;
    let alg = args
        .alg
        .as_deref()
        .or(key.meta.alg.as_deref())
        .map(JwsAlg::from_name)
        .transpose()?;
    let mut out = std::io::stdout();
    if args.sign {
        let alg = alg.ok_or(Error::Malformed("no algorithm: pass -a"))?;
        let token = if args.json {
            jws::sign_flattened(&key, alg, &input, &Default::default())?
        } else {
            jws::sign_compact(&key, alg, &input, &Default::default())?
        };
        writeln!(out, "{token}")?;
    } else {
        let text = std::str::from_utf8(&input)
            .map_err(|_| Error::Malformed("JWS is not UTF-8"))?
            .trim();
        let opts = match alg {
            Some(a) => VerifyOptions::allowing(&[a]),
            None => VerifyOptions::default(),
        };
        let verified = if text.starts_with('{') {
            jws::verify_json(text, &key, &opts)?
        } else {
            jws::verify_compact(text, &key, &opts)?
        };
        out.write_all(&verified.payload)?;
    }
    Ok(())
}
