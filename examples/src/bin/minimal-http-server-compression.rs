//! minimal-http-server-compression: files and generated JSON, compressed with the coding each client prefers
//! (brotli, zstd or gzip by `Accept-Encoding` q-values), as a libwebsockets built with
//! `LWS_WITH_HTTP_STREAM_COMPRESSION` does for its `minimal-http-server`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-compression -- --port 7681
//!
//! Then try:
//!
//!     curl -si --compressed http://127.0.0.1:7681/ | head -12             # content-encoding: br (curl asks for all)
//!     curl -si -H 'Accept-Encoding: gzip' http://127.0.0.1:7681/api/items | head -8
//!     curl -s  -H 'Accept-Encoding: zstd' http://127.0.0.1:7681/api/items | zstd -d | head -c 200
//!     curl -si http://127.0.0.1:7681/api/items | head -8                  # no Accept-Encoding: as it is
//!     curl -si -H 'Accept-Encoding: gzip' http://127.0.0.1:7681/raw/index.html | head -8   # mount with it off

use clap::Parser;
use lws::{Compression, Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};

/// The files this example serves (shared with minimal-http-server).
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server"
);

/// Serves files and generated JSON with response compression on.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Compression level, 1 (fastest) to 9 (smallest); each coding's default when absent.
    #[arg(long)]
    level: Option<u32>,
}

/// `/api/items`: a generated JSON document, compressed like a file.
struct Items;

impl Protocol for Items {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        let items: Vec<String> = (0..200)
            .map(|i| {
                format!(
                    "{{\"id\":{i},\"name\":\"item {i}\",\"tags\":[\"example\",\"compressed\"]}}"
                )
            })
            .collect();
        let json = format!("{{\"items\":[{}]}}\n", items.join(","));
        cx.respond(
            Response::new(200)
                .header("content-type", "application/json")
                .body(json),
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-http-server-compression", run(Args::parse()).await)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let compression = match args.level {
        Some(level) => Compression::on().level(level),
        None => Compression::on(),
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .compression(compression)
        .protocol(ProtocolHandle::new("items", Items))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/api", "items"))
        .mount(Mount::files("/raw", ORIGIN).compression(Compression::off()));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} compressed on http://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
