//! minimal-http-client: fetches one URL, printing the status line and headers to stderr and the body to
//! stdout, like libwebsockets' `minimal-http-client`.
//!
//!     cargo run -p lws-examples --bin minimal-http-client -- http://127.0.0.1:7681/
//!     cargo run -p lws-examples --bin minimal-http-client -- -l        # https://localhost:7681/, self-signed
//!
//! `https` offers ALPN `h2, http/1.1` and uses HTTP/2 when the server picks it; `--h1` forces HTTP/1.1, and
//! `--h2c` speaks HTTP/2 with prior knowledge on `http://`.
//!
//! `-l` talks to a local test server (such as `minimal-http-server-tls`) whose self-signed certificate is
//! accepted without checking: never use that against anything that matters. Exits 0 when a response
//! arrived (whatever its status), 1 otherwise.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use lws::client;

/// Fetches a URL over HTTP/2 or HTTP/1.1.
#[derive(Parser)]
struct Args {
    /// The URL to fetch.
    url: Option<String>,
    /// Fetch from the local test server at https://localhost:<port>/ instead, accepting its self-signed
    /// certificate.
    #[arg(short = 'l', long)]
    localhost: bool,
    /// Accept a self-signed server certificate (for test servers only; never for real traffic).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Port of the local test server for `-l`.
    #[arg(long, default_value_t = 7681)]
    port: u16,
    /// Use HTTP/1.1 only (otherwise `https` offers HTTP/2 too).
    #[arg(long)]
    h1: bool,
    /// On `http://`, speak HTTP/2 from the first byte (h2c with prior knowledge).
    #[arg(long, conflicts_with = "h1")]
    h2c: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();
    let url = match (&args.url, args.localhost) {
        (_, true) => format!("https://localhost:{}/", args.port),
        (Some(u), false) => u.clone(),
        (None, false) => {
            eprintln!("give a URL, or -l for the local test server");
            std::process::exit(1);
        }
    };
    let mut req = client::http(&url).timeout(Duration::from_secs(args.timeout));
    if args.localhost || args.insecure {
        req = req.allow_self_signed_for_tests();
    }
    if args.h1 {
        req = req.http1_only();
    }
    if args.h2c {
        req = req.http2_prior_knowledge();
    }
    if let Err(e) = fetch(req).await {
        eprintln!("{url}: {e}");
        std::process::exit(1);
    }
}

async fn fetch(req: client::HttpRequestBuilder) -> Result<(), client::ClientError> {
    let mut resp = req.send().await?;
    eprintln!("{} {}", resp.version(), resp.status());
    for (name, value) in resp.headers().iter() {
        eprintln!("{name}: {}", String::from_utf8_lossy(value));
    }
    let mut stdout = std::io::stdout().lock();
    let mut total = 0;
    while let Some(piece) = resp.chunk().await {
        let piece = piece?;
        total += piece.len();
        stdout.write_all(&piece).map_err(client::ClientError::Io)?;
    }
    stdout.flush().map_err(client::ClientError::Io)?;
    eprintln!("({total} body bytes from {})", resp.url());
    Ok(())
}
