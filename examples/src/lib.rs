//! What the example programs share: the `--port` / `--interface` options every server example takes, the
//! `--cert` / `--key` options of the TLS ones, and the page the Server-Sent Events examples share.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Where an example listens, as `--port` (default 7681, libwebsockets' test port; 0 picks a free one) and
/// `--interface` (default 127.0.0.1).
#[derive(clap::Args, Debug, Clone)]
pub struct ListenArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 7681)]
    pub port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub interface: IpAddr,
}

impl ListenArgs {
    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.interface, self.port)
    }
}

/// SELF-SIGNED TEST CERTIFICATE for `localhost` and 127.0.0.1: for trying things out only.
const TEST_CERT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/certs/localhost.cert.pem"
);

/// The private key of the test certificate; it is published in the repository, so it protects nothing.
const TEST_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/certs/localhost.key.pem"
);

/// The certificate of a TLS example, as `--cert` and `--key` (default: the self-signed test certificate).
#[derive(clap::Args, Debug, Clone)]
pub struct TlsArgs {
    /// PEM certificate chain (default: the self-signed test certificate).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
}

impl TlsArgs {
    /// The certificate and key to serve; the test pair, with a warning on stdout, when none was given.
    pub fn cert_and_key(self) -> (PathBuf, PathBuf) {
        match (self.cert, self.key) {
            (Some(cert), Some(key)) => (cert, key),
            _ => {
                println!(
                    "WARNING: using the SELF-SIGNED TEST CERTIFICATE {TEST_CERT}; its key is public"
                );
                (TEST_CERT.into(), TEST_KEY.into())
            }
        }
    }
}

/// The page script and style the Server-Sent Events examples share (`events.js` follows the stream its
/// page names), mounted by each at `/page`.
pub const SSE_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/mount-origin/sse-page");

/// Logs to stderr, filtered by `RUST_LOG`, as every example does (stdout carries the example's own output).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}

/// The exit status of an example that ran `result`: failure after printing `name: error` to stderr.
pub fn exit_status<E: std::fmt::Display>(
    name: &str,
    result: Result<(), E>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
