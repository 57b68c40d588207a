//! minimal-http-server-cgi: a CGI mount, like libwebsockets' `minimal-http-server-cgi`. Every URL runs
//! `examples/cgi/my-cgi-script.sh` (the rest of the path becomes its `PATH_INFO`), or the script given with
//! `--script`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-cgi -- --port 7681
//!
//! Then try:
//!
//!     curl -i 'http://127.0.0.1:7681/some/path?x=1'
//!     curl -i --http2-prior-knowledge http://127.0.0.1:7681/

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use lws::cgi::Cgi;
use lws::{Context, Mount, Vhost};

/// The script this example runs by default.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cgi/my-cgi-script.sh");

/// Runs a CGI script for every URL.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// The executable to run (needs a `#!` line and the execute bit).
    #[arg(long, default_value = SCRIPT)]
    script: PathBuf,
    /// Seconds the script may run before its process group is killed.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-http-server-cgi", run(Args::parse()).await)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let cgi = Cgi::new(&args.script).timeout(Duration::from_secs(args.timeout));
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .mount(Mount::cgi("/", cgi));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("running {} on http://{addr}/", args.script.display());
    }
    context.run_until_signal().await?;
    Ok(())
}
