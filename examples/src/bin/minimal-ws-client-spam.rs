//! minimal-ws-client-spam: opens many WebSocket connections to an echo server, several at a time, like
//! libwebsockets' `minimal-ws-client-spam`. Each connection sends one message, waits for it to come back,
//! then closes. It prints the counts and exits non-zero if any connection failed.
//!
//! Run from the repository root, with an echo server running:
//!
//!     cargo run -p lws-examples --bin minimal-ws-server-echo -- -p 7681
//!     cargo run -p lws-examples --bin minimal-ws-client-spam -- --port 7681 -c 10 -l 100
//!
//! Against lwsws's `lws-mirror-protocol` (which sends each message to every member, the sender included),
//! add `--protocol lws-mirror-protocol`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use lws::client::{self, Message, WsClientBuilder};
use tokio::task::JoinSet;

/// Opens `-l` connections, `-c` at a time, each doing one echo round trip.
#[derive(Parser)]
struct Args {
    /// Server host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Connections open at the same time.
    #[arg(short = 'c', long, default_value_t = 10)]
    concurrent: usize,
    /// Connections in total.
    #[arg(short = 'l', long, default_value_t = 100)]
    limit: usize,
    /// Subprotocol to ask for (none by default: the server's default protocol).
    #[arg(long)]
    protocol: Option<String>,
    /// Seconds allowed for each connection.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// One connection: connect, send, wait for the same text, close.
async fn round_trip(builder: Arc<WsClientBuilder>, n: usize) -> Result<(), String> {
    let mut ws = builder
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let text = format!("spam {n} from pid {}", std::process::id());
    ws.send(Message::Text(text.clone()))
        .await
        .map_err(|e| format!("send: {e}"))?;
    loop {
        match ws.recv().await {
            Some(Ok(Message::Text(t))) if t == text => break,
            Some(Ok(Message::Close(c))) => return Err(format!("closed by the server: {c:?}")),
            Some(Ok(_)) => {} // someone else's message (a mirror server)
            Some(Err(e)) => return Err(format!("receive: {e}")),
            None => return Err("connection ended".into()),
        }
    }
    ws.close(1000, "done")
        .await
        .map_err(|e| format!("close: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();
    let url = format!("ws://{}:{}/", args.server, args.port);
    let mut builder = client::ws(&url);
    if let Some(p) = &args.protocol {
        builder = builder.protocol(p);
    }
    let builder = Arc::new(builder);
    let timeout = Duration::from_secs(args.timeout);
    println!(
        "{} connections to {url}, {} at a time",
        args.limit, args.concurrent
    );

    let started = Instant::now();
    let (mut ok, mut failed, mut next) = (0usize, 0usize, 0usize);
    let mut running = JoinSet::new();
    while ok + failed < args.limit {
        while next < args.limit && running.len() < args.concurrent.max(1) {
            let (b, n) = (builder.clone(), next);
            running.spawn(async move {
                let r = tokio::time::timeout(timeout, round_trip(b, n)).await;
                (n, r.unwrap_or_else(|_| Err("timed out".into())))
            });
            next += 1;
        }
        match running.join_next().await {
            Some(Ok((_, Ok(())))) => ok += 1,
            Some(Ok((n, Err(e)))) => {
                failed += 1;
                println!("connection {n}: {e}");
            }
            Some(Err(e)) => {
                failed += 1;
                println!("a connection task failed: {e}");
            }
            None => break,
        }
    }
    println!(
        "done in {} ms: {ok} ok, {failed} failed",
        started.elapsed().as_millis()
    );
    if failed > 0 || ok < args.limit {
        std::process::exit(1);
    }
}
