//! minimal-http-client-h2-rxflow: downloads a large body over HTTP/2 while reading it slowly, like
//! libwebsockets' h2 rx flow control demonstration: the client gives receive window back to the server only
//! as it reads, so the server can never be more than one stream window (1 MiB) ahead of the reader.
//!
//!     cargo run -p lws-examples --bin minimal-http-client-h2-rxflow -- -l /big.bin
//!     cargo run -p lws-examples --bin minimal-http-client-h2-rxflow -- --h2c http://127.0.0.1:7681/big.bin
//!
//! Prints, every `--report` bytes, how much has arrived and the rate; a server-side view (for example the
//! server's access log or a streamed handler's progress) shows it sending at the reader's pace. Exits 0 when
//! the whole body arrived over HTTP/2.

use std::time::{Duration, Instant};

use clap::Parser;
use lws::client::{self, ClientError, HttpVersion};

/// Downloads a URL over HTTP/2, reading slowly.
#[derive(Parser)]
struct Args {
    /// The URL to fetch (with `-l`: a path on the local test server).
    url: Option<String>,
    /// Fetch from the local test server at https://localhost:<port>/ instead, accepting its self-signed
    /// certificate.
    #[arg(short = 'l', long)]
    localhost: bool,
    /// Port of the local test server for `-l`.
    #[arg(long, default_value_t = 7681)]
    port: u16,
    /// On `http://`, speak HTTP/2 from the first byte (h2c with prior knowledge).
    #[arg(long)]
    h2c: bool,
    /// Pause after each piece read, in milliseconds (the slow reader).
    #[arg(long, default_value_t = 20)]
    delay_ms: u64,
    /// Print progress every this many bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    report: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let url = match (&args.url, args.localhost) {
        (Some(p), true) => format!("https://localhost:{}{p}", args.port),
        (None, true) => format!("https://localhost:{}/", args.port),
        (Some(u), false) => u.clone(),
        (None, false) => {
            eprintln!("give a URL, or -l for the local test server");
            std::process::exit(1);
        }
    };
    let mut req = client::http(&url);
    if args.localhost {
        req = req.allow_self_signed_for_tests();
    }
    if args.h2c {
        req = req.http2_prior_knowledge();
    }
    match fetch(req, &args).await {
        Ok(HttpVersion::Http2) => {}
        Ok(v) => {
            eprintln!("{url}: answered over {v}, not HTTP/2: no h2 rx flow control to show");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            std::process::exit(1);
        }
    }
}

async fn fetch(req: client::HttpRequestBuilder, args: &Args) -> Result<HttpVersion, ClientError> {
    let mut resp = req.send().await?;
    let version = resp.version();
    println!(
        "{version} {} ({} bytes announced)",
        resp.status(),
        resp.content_length()
            .map_or_else(|| "no length".to_string(), |n| n.to_string())
    );
    let started = Instant::now();
    let mut total = 0usize;
    let mut next_report = args.report;
    while let Some(piece) = resp.chunk().await {
        total += piece?.len();
        if total >= next_report {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            println!(
                "{total} bytes arrived after {secs:.2} s ({:.0} KiB/s)",
                total as f64 / 1024.0 / secs
            );
            next_report = total + args.report;
        }
        // The slow reader: window goes back to the server only as pieces are taken, so it slows down too.
        if args.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.delay_ms)).await;
        }
    }
    println!(
        "done: {total} bytes in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(version)
}
