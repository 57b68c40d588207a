//! minimal-http-client-hugeurl: requests a URL several KiB long and shows the server's answer, like
//! libwebsockets' `minimal-http-client-hugeurl`. lws-rs servers accept request heads up to their head limit
//! (8 KiB by default) and refuse longer ones with 414 (request line alone too long) or 431.
//!
//!     cargo run -p lws-examples --bin minimal-http-client-hugeurl -- http://127.0.0.1:7681/ --size 6000
//!
//! Prints `status <code>` and the URL length; exits 0 whenever the server answered.

use std::time::Duration;

use clap::Parser;
use lws::client;

/// Requests a very long URL.
#[derive(Parser)]
struct Args {
    /// The server's base URL.
    url: String,
    /// Length of the generated path and query, in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Accept a self-signed server certificate (test servers only).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let base = args.url.trim_end_matches('/');
    let mut url = format!("{base}/hugeurl?x=");
    let fill = args.size.saturating_sub(url.len() - base.len());
    url.extend(std::iter::repeat_n('x', fill));
    let mut req = client::http(&url).timeout(Duration::from_secs(args.timeout));
    if args.insecure {
        req = req.allow_self_signed_for_tests();
    }
    println!("requesting a URL of {} bytes", url.len() - base.len());
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let body = resp.bytes().await.map(|b| b.len()).unwrap_or(0);
            println!("status {status} ({body} body bytes)");
        }
        Err(e) => {
            println!("failed: {e}");
            std::process::exit(1);
        }
    }
}
