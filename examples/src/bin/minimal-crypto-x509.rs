//! minimal-crypto-x509: reads a PEM certificate (or chain, leaf first) from stdin; with `--trusted` verifies it
//! against those PEM roots (and `--name`), otherwise prints the leaf's public key as a JWK, with the private key
//! from `--private-key` attached when given. Like libwebsockets' `minimal-crypto-x509`.
//!
//!     cargo run -p lws-examples --bin minimal-crypto-x509 -- --trusted root.pem --name example.com < chain.pem
//!     cargo run -p lws-examples --bin minimal-crypto-x509 -- --private-key key.pem < cert.pem > key.jwk

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use lws_crypto::x509::{self, CertChain};
use lws_crypto::Error;

/// Verifies or converts a certificate.
#[derive(Parser)]
struct Args {
    /// Trusted root certificates (PEM): verify the chain from stdin against them.
    #[arg(short = 't', long)]
    trusted: Option<std::path::PathBuf>,
    /// With --trusted: the name the leaf must be valid for.
    #[arg(short = 'n', long)]
    name: Option<String>,
    /// Convert: attach this PEM private key to the JWK.
    #[arg(short = 'p', long = "private-key")]
    private_key: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minimal-crypto-x509: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Error> {
    let mut pem = Vec::new();
    std::io::stdin()
        .take(x509::MAX_PEM as u64 + 1)
        .read_to_end(&mut pem)?;
    let chain = CertChain::from_pem(&pem)?;
    if let Some(trusted) = &args.trusted {
        let roots = CertChain::from_pem(&std::fs::read(trusted)?)?;
        chain.verify(&roots, args.name.as_deref(), None)?;
        let leaf = chain.leaf();
        println!(
            "verified: {} (issuer {}, valid {} to {})",
            leaf.subject(),
            leaf.issuer(),
            leaf.not_before(),
            leaf.not_after()
        );
        return Ok(());
    }
    let mut jwk = chain.leaf().public_key_jwk()?;
    if let Some(path) = &args.private_key {
        x509::attach_private_key_pem(&mut jwk, &std::fs::read(path)?)?;
    }
    println!("{}", jwk.to_json(true));
    Ok(())
}
