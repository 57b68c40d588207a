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

use clap::Parser;
use lws::{Context, Mount, Vhost};

/// The files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-tls"
);

/// Serves the example's mount-origin directory over HTTPS.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    #[command(flatten)]
    tls: lws_examples::TlsArgs,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let (cert, key) = args.tls.cert_and_key();
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
