//! minimal-http-server-proxy: a reverse proxy mount. `/` is served from files; everything under `/proxy/`
//! goes to an origin: by default a second vhost of this same program listening on a unix socket (the
//! lwsws `http://+/path/to/socket:/inner` form), or any origin given with `--origin`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-proxy -- --port 7681
//!
//! Then try:
//!
//!     curl -i http://127.0.0.1:7681/proxy/            # the origin's index.html, through the unix socket
//!     curl -i http://127.0.0.1:7681/proxy/missing     # the origin's 404
//!     curl -i --http2-prior-knowledge http://127.0.0.1:7681/proxy/   # HTTP/2 to the proxy, HTTP/1.1 onward
//!
//! Or put it in front of another server:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-proxy -- --origin http://127.0.0.1:8080/

use std::time::Duration;

use clap::Parser;
use lws::proxy::ReverseProxy;
use lws::{Context, Mount, Vhost};

/// The files both the front and the built-in origin serve.
const FILES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server"
);

/// Serves files on `/` and proxies `/proxy/` to an origin.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// The origin for `/proxy/` (`http://host:port/path`, `https://...`, `http://+/socket:/path`); without
    /// it, a built-in origin on a unix socket.
    #[arg(long)]
    origin: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let mut builder = Context::builder();
    let socket =
        std::env::temp_dir().join(format!("lws-minimal-proxy-{}.sock", std::process::id()));
    let origin = match args.origin {
        Some(o) => o,
        None => {
            let _ = std::fs::remove_file(&socket);
            builder = builder.vhost(
                Vhost::new("origin")
                    .listen_unix(&socket)
                    .mount(Mount::files("/", FILES).default_doc("index.html")),
            );
            format!("http://+{}:/", socket.display())
        }
    };
    let proxy = ReverseProxy::new(&origin)?
        .connect_timeout(Duration::from_secs(2))
        .rewrite_paths(true);
    let front = Vhost::new("localhost")
        .listen(args.listen.addr())
        .mount(Mount::files("/", FILES).default_doc("index.html"))
        .mount(Mount::proxy("/proxy", proxy));
    let context = builder.vhost(front).build()?;
    for addr in context.local_addrs() {
        println!("serving on http://{addr}/ with /proxy/ from {origin}");
    }
    context.run_until_signal().await?;
    let _ = std::fs::remove_file(&socket);
    Ok(())
}
