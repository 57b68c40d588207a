//! minimal-ws-client-rx: connects to a server's `dumb-increment-protocol` and prints the numbers it sends,
//! like libwebsockets' `minimal-ws-client-rx`. It also shows retrying as libwebsockets does it
//! (`lws_retry_bo_t`): connecting is retried quietly per a [`RetryPolicy`] (backoff table, jitter, a few
//! failures concealed), and when the connection is lost it reconnects after the policy's delay. lws
//! never reconnects by itself: the loop below is the application's decision.
//!
//! dumb-increment is served by lwsws's test server (`lwsws` with the `dumb-increment-protocol` enabled, or
//! any libwebsockets test server). Then run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-ws-client-rx -- --port 7681
//!
//! With `-t` it exits 0 after receiving 10 increasing numbers, 1 on error or after `--timeout` seconds.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use clap::Parser;
use lws::client::{self, connect_with_retry, Message, RetryPolicy, WsClientBuilder};

/// Prints the numbers a dumb-increment server sends.
#[derive(Parser)]
struct Args {
    /// Server host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Test mode: exit 0 after receiving `--count` increasing numbers, 1 on error or timeout.
    #[arg(short = 't', long = "test")]
    test: bool,
    /// Numbers to receive in test mode.
    #[arg(long, default_value_t = 10)]
    count: u32,
    /// Seconds allowed in test mode.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// Receives numbers until the connection ends (`Ok(false)`) or, in test mode, `count` were seen
/// (`Ok(true)`); `Err` if the server breaks the rules (not a number, not increasing).
async fn receive(
    builder: &WsClientBuilder,
    policy: &RetryPolicy,
    args: &Args,
) -> Result<bool, String> {
    let mut ws = connect_with_retry(builder.clone(), policy.clone())
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    println!("connected, subprotocol {:?}", ws.protocol());
    let (mut last, mut seen) = (None::<u64>, 0);
    while let Some(msg) = ws.recv().await {
        match msg {
            Ok(Message::Text(t)) => {
                let n: u64 = t
                    .trim()
                    .parse()
                    .map_err(|_| format!("not a number: {t:?}"))?;
                println!("{n}");
                if last.is_some_and(|l| n <= l) {
                    return Err(format!("{n} does not increase on {last:?}"));
                }
                last = Some(n);
                seen += 1;
                if args.test && seen == args.count {
                    let _ = ws.close(1000, "seen enough").await;
                    return Ok(true);
                }
            }
            Ok(Message::Close(c)) => println!("server closed: {c:?}"),
            Ok(_) => {}
            Err(e) => println!("connection failed: {e}"),
        }
    }
    Ok(false)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();
    let url = format!("ws://{}:{}/", args.server, args.port);
    let builder = client::ws(&url).protocol("dumb-increment-protocol");
    let policy = RetryPolicy::default();

    if args.test {
        let run = receive(&builder, &policy, &args);
        let result = match tokio::time::timeout(Duration::from_secs(args.timeout), run).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the connection ended early".to_string()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("timed out after {} s", args.timeout)),
        };
        match result {
            Ok(()) => println!("PASS: received {} increasing numbers", args.count),
            Err(e) => {
                println!("FAIL: {e}");
                std::process::exit(1);
            }
        }
        return;
    }

    // Not testing: keep going, reconnecting after the policy's delay whenever the connection is lost.
    let jitter = RandomState::new();
    let mut attempt = 0u32;
    loop {
        match receive(&builder, &policy, &args).await {
            Ok(_) => attempt = 0,
            Err(e) => println!("{e}"),
        }
        let (delay, _) = policy.delay(attempt, jitter.hash_one(attempt) as u32);
        attempt = attempt.saturating_add(1);
        println!("reconnecting to {url} in {} ms", delay.as_millis());
        tokio::time::sleep(delay).await;
    }
}
