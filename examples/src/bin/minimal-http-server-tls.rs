//! minimal-http-server-tls: the same file mount as `minimal-http-server`, served over TLS, like
//! libwebsockets' `minimal-http-server-tls`.
//!
//! By default it uses the SELF-SIGNED TEST CERTIFICATE shipped in `tests/certs/` (its private key is public:
//! it protects nothing). Pass `--cert` and `--key` to use your own PEM files.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-tls -- --port 7681
//!
//! Then try:
//!
//!     curl -i --cacert tests/certs/localhost.cert.pem https://localhost:7681/
//!     curl -i http://127.0.0.1:7681/            # plain HTTP on the TLS port is not served

use std::path::PathBuf;

use clap::Parser;
use lws::{Context, Mount, Vhost};

/// The files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-tls"
);
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

/// Serves the example's mount-origin directory over HTTPS.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// PEM certificate chain (default: the self-signed test certificate).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let (cert, key) = match (args.cert, args.key) {
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            println!(
                "WARNING: using the SELF-SIGNED TEST CERTIFICATE {TEST_CERT}; its key is public"
            );
            (TEST_CERT.into(), TEST_KEY.into())
        }
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .tls(cert, key)
        .strict_security_headers(true)
        .sts(true)
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on https://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
