//! minimal-http-server-mimetypes: a file mount with extra suffix-to-content-type mappings, like
//! libwebsockets' `minimal-http-server-mimetypes`. Mount mappings are looked up before the built-in table,
//! so they can add types (`.lwsrs`, made up for this example) or override the built-in ones.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-mimetypes -- --port 7681
//!
//! Then try:
//!
//!     curl -I http://127.0.0.1:7681/sample.lwsrs   # content-type: text/x-lws-rs
//!     curl -I http://127.0.0.1:7681/sample.zip     # content-type: application/zip

use clap::Parser;
use lws::{Context, Mount, Vhost};

/// The files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-mimetypes"
);

/// Serves files with extra mimetypes.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let mount = Mount::files("/", ORIGIN)
        .default_doc("index.html")
        .extra_mimetype(".zip", "application/zip")
        .extra_mimetype(".ogg", "audio/ogg")
        .extra_mimetype(".lwsrs", "text/x-lws-rs");
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .mount(mount);
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on http://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
