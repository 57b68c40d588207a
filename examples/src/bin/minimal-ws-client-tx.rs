//! minimal-ws-client-tx: publishes into `minimal-ws-broker` from several threads, like libwebsockets'
//! `minimal-ws-client-tx`. Each thread runs its own single-threaded tokio runtime with its own publisher
//! connection (`/publisher`, subprotocol `lws-minimal-broker`) and sends `--count` messages
//! "thread T msg N", one every `--interval` milliseconds.
//!
//! In test mode (`-t`) the program also subscribes, before the threads start, and checks that every
//! message of every thread arrives, each thread's in order: it exits 0 if they all did within `--timeout`
//! seconds, 1 otherwise.
//!
//! Run from the repository root, with the broker running:
//!
//!     cargo run -p lws-examples --bin minimal-ws-broker -- --port 7681
//!     cargo run -p lws-examples --bin minimal-ws-client-tx -- --port 7681 -t

use std::thread;
use std::time::Duration;

use clap::Parser;
use lws::client::{self, Message, WebSocket};

/// Publishes from threads; in test mode also subscribes and checks.
#[derive(Parser)]
struct Args {
    /// Broker host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Broker port.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Publisher threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Messages each thread publishes.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Milliseconds between a thread's messages.
    #[arg(long, default_value_t = 100)]
    interval: u64,
    /// Test mode: subscribe too and check every message arrives.
    #[arg(short = 't', long = "test")]
    test: bool,
    /// Seconds allowed in test mode.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

/// One publisher thread's work, on its own runtime.
fn publish(thread_no: usize, url: String, count: usize, interval: Duration) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let mut ws = client::ws(&url)
            .protocol("lws-minimal-broker")
            .connect()
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        for n in 0..count {
            let text = format!("thread {thread_no} msg {n}");
            ws.send(Message::Text(text))
                .await
                .map_err(|e| format!("sending: {e}"))?;
            tokio::time::sleep(interval).await;
        }
        ws.close(1000, "published everything")
            .await
            .map_err(|e| format!("closing: {e}"))
    })
}

/// Receives until every thread's `count` messages arrived in order.
async fn check(ws: &mut WebSocket, threads: usize, count: usize) -> Result<(), String> {
    let mut next = vec![0usize; threads];
    while next.iter().any(|&n| n < count) {
        let text = match ws.recv().await {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(other)) => return Err(format!("unexpected {other:?}")),
            Some(Err(e)) => return Err(format!("subscriber: {e}")),
            None => return Err("the subscriber connection ended".into()),
        };
        println!("subscriber got: {text}");
        let parsed = text
            .strip_prefix("thread ")
            .and_then(|r| r.split_once(" msg "))
            .and_then(|(t, n)| Some((t.parse::<usize>().ok()?, n.parse::<usize>().ok()?)));
        match parsed {
            Some((t, n)) if t < threads && n == next[t] => next[t] += 1,
            _ => return Err(format!("unexpected message {text:?} (expected {next:?})")),
        }
    }
    Ok(())
}

fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();
    let base = format!("ws://{}:{}", args.server, args.port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // The subscriber joins before anything is published, so it sees it all.
    let subscriber = if args.test {
        let url = format!("{base}/");
        match rt.block_on(client::ws(&url).protocol("lws-minimal-broker").connect()) {
            Ok(ws) => Some(ws),
            Err(e) => {
                println!("FAIL: subscribing at {url}: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };

    let interval = Duration::from_millis(args.interval);
    let publishers: Vec<_> = (0..args.threads)
        .map(|t| {
            let url = format!("{base}/publisher");
            let count = args.count;
            thread::Builder::new()
                .name(format!("publisher-{t}"))
                .spawn(move || publish(t, url, count, interval))
                .expect("spawn a publisher thread")
        })
        .collect();

    let mut failed = false;
    if let Some(mut ws) = subscriber {
        let timeout = Duration::from_secs(args.timeout);
        let run = check(&mut ws, args.threads, args.count);
        match rt.block_on(async { tokio::time::timeout(timeout, run).await }) {
            Ok(Ok(())) => {
                println!(
                    "subscriber received all {} messages",
                    args.threads * args.count
                );
                let _ = rt.block_on(ws.close(1000, "done"));
            }
            Ok(Err(e)) => {
                println!("FAIL: {e}");
                failed = true;
            }
            Err(_) => {
                println!("FAIL: timed out after {} s", args.timeout);
                failed = true;
            }
        }
    }
    for (t, p) in publishers.into_iter().enumerate() {
        match p.join() {
            Ok(Ok(())) => println!("thread {t}: published {} messages", args.count),
            Ok(Err(e)) => {
                println!("thread {t}: {e}");
                failed = true;
            }
            Err(_) => {
                println!("thread {t} panicked");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    if args.test {
        println!("PASS");
    }
}
