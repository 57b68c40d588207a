//! minimal-http-client-multi: sends N requests to one server at once, like libwebsockets'
//! `minimal-http-client-multi`. Each request normally gets a connection of its own; with `-p` they share
//! one connection: all at once as streams of one HTTP/2 connection when the server picks `h2` by ALPN (or
//! with `--h2c` on `http://`), in turn over HTTP/1.1 keep-alive otherwise (`--h1` forces HTTP/1.1).
//!
//!     cargo run -p lws-examples --bin minimal-http-client-multi -- http://127.0.0.1:7681/ -n 8 -p
//!     cargo run -p lws-examples --bin minimal-http-client-multi -- -l --post
//!
//! Prints one line per request (`<index>: <status> <bytes>`) and a summary; exits 0 when every request got
//! a 2xx answer.

use std::time::{Duration, Instant};

use clap::Parser;
use lws::client::{self, ClientError, HttpClient, HttpRequestBuilder};

/// Sends several requests to one server concurrently.
#[derive(Parser)]
struct Args {
    /// The URL to request.
    url: Option<String>,
    /// Use the local test server at https://localhost:<port>/ instead, accepting its self-signed certificate.
    #[arg(short = 'l', long)]
    localhost: bool,
    /// Accept a self-signed server certificate (for test servers only; never for real traffic).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Port of the local test server for `-l`.
    #[arg(long, default_value_t = 7681)]
    port: u16,
    /// Number of requests.
    #[arg(short = 'n', long, default_value_t = 8)]
    count: usize,
    /// Share one connection (HTTP/2: all at once as streams; HTTP/1.1: one after the other) instead of one each.
    #[arg(short = 'p', long)]
    pipeline: bool,
    /// HTTP/1.1 only (otherwise `https` offers HTTP/2 too).
    #[arg(long)]
    h1: bool,
    /// On `http://`, speak HTTP/2 from the first byte (h2c with prior knowledge).
    #[arg(long, conflicts_with = "h1")]
    h2c: bool,
    /// POST a small urlencoded form instead of GET.
    #[arg(long)]
    post: bool,
    /// Give up on a request after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let url = match (&args.url, args.localhost) {
        (_, true) => format!("https://localhost:{}/", args.port),
        (Some(u), false) => u.clone(),
        (None, false) => {
            eprintln!("give a URL, or -l for the local test server");
            std::process::exit(1);
        }
    };
    // One pool with a single connection for -p (HTTP/2 multiplexes every request over it, HTTP/1.1 takes
    // them in turn); otherwise every request opens its own.
    let shared = args
        .pipeline
        .then(|| HttpClient::builder().max_connections_per_origin(1).build());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..args.count {
        let mut req = match &shared {
            Some(c) => c.request(&url),
            None => client::http(&url),
        }
        .timeout(Duration::from_secs(args.timeout))
        .header("x-request-index", &i.to_string());
        if args.localhost || args.insecure {
            req = req.allow_self_signed_for_tests();
        }
        if args.h1 {
            req = req.http1_only();
        }
        if args.h2c {
            req = req.http2_prior_knowledge();
        }
        if args.post {
            let index = i.to_string();
            req = req.method("POST").form_urlencoded(&[
                ("text", "hello from minimal-http-client-multi"),
                ("index", &index),
            ]);
        }
        tasks.push(tokio::spawn(one(req)));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await {
            Ok(Ok((status, version, len))) => {
                println!("{i}: {status} {len} ({version})");
                if (200..300).contains(&status) {
                    ok += 1;
                }
            }
            Ok(Err(e)) => println!("{i}: failed: {e}"),
            Err(e) => println!("{i}: task failed: {e}"),
        }
    }
    let mode = if args.pipeline {
        "one connection"
    } else {
        "a connection each"
    };
    println!(
        "{ok}/{} requests succeeded in {} ms ({mode})",
        args.count,
        started.elapsed().as_millis()
    );
    if ok != args.count {
        std::process::exit(1);
    }
}

async fn one(req: HttpRequestBuilder) -> Result<(u16, client::HttpVersion, usize), ClientError> {
    let resp = req.send().await?;
    let (status, version) = (resp.status(), resp.version());
    Ok((status, version, resp.bytes().await?.len()))
}
