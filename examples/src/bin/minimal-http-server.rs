//! minimal-http-server: serves a directory through a file mount, like libwebsockets'
//! `minimal-http-server`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server -- --port 7681
//!
//! Then try:
//!
//!     curl -i http://127.0.0.1:7681/            # index.html, the mount's default document
//!     curl -i http://127.0.0.1:7681/example.css
//!     curl -i http://127.0.0.1:7681/missing     # 404

use clap::Parser;
use lws::{Context, Mount, Vhost};

/// The files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server"
);

/// Serves the example's mount-origin directory over HTTP.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on http://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
