//! minimal-ws-client-pmd-bulk: the client of `minimal-ws-server-pmd-bulk`, like libwebsockets'
//! `minimal-ws-client-pmd-bulk`. It offers permessage-deflate (unless `-n`), sends one large message whose
//! byte `i` is `(i * 7 + i / 4096 + 1) % 251`, checks that the server's large message has byte `i` equal to
//! `(i * 7 + i / 4096) % 251`, and waits for the server's verdict on what it sent (Close 1000 means
//! the server found it right).
//!
//! Run from the repository root, with the server running:
//!
//!     cargo run -p lws-examples --bin minimal-ws-server-pmd-bulk -- --port 7681
//!     cargo run -p lws-examples --bin minimal-ws-client-pmd-bulk -- --port 7681 -t
//!
//! Exits 0 when both messages were right; `-t` also gives up (exit 1) after `--timeout` seconds.

use std::time::Duration;

use clap::Parser;
use lws::client::{self, Message, WebSocket};

/// Exchanges one large message each way with minimal-ws-server-pmd-bulk and checks the one received.
#[derive(Parser)]
struct Args {
    /// Server host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Size of the message sent and of the one expected, in bytes (must match the server's `--size`).
    #[arg(long, default_value_t = 12 * 1024 * 1024)]
    size: usize,
    /// Do not offer permessage-deflate.
    #[arg(short = 'n', long = "no-pmd")]
    no_pmd: bool,
    /// Test mode: fail if the exchange takes longer than `--timeout`.
    #[arg(short = 't', long = "test")]
    test: bool,
    /// Seconds allowed in test mode.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

/// Byte `i` of the message sent with this salt (0 from the server, 1 from the client).
fn pattern(i: usize, salt: usize) -> u8 {
    ((i * 7 + i / 4096 + salt) % 251) as u8
}

/// Connects, sends, receives and checks; returns the server's verdict.
async fn exchange(args: &Args) -> Result<String, String> {
    let url = format!("ws://{}:{}/", args.server, args.port);
    let mut ws = client::ws(&url)
        .protocol("lws-minimal-pmd-bulk")
        .permessage_deflate(!args.no_pmd)
        .max_message(args.size.max(lws_proto::ws::DEFAULT_MAX_MESSAGE))
        .connect()
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let pmd = if ws.compressed() { "on" } else { "off" };
    println!("connected to {url} (permessage-deflate {pmd})");

    let ours: Vec<u8> = (0..args.size).map(|i| pattern(i, 1)).collect();
    ws.send(Message::Binary(ours.into()))
        .await
        .map_err(|e| format!("sending: {e}"))?;
    println!("sent {} bytes", args.size);
    receive(&mut ws, args.size).await
}

/// Receives the server's message and its Close.
async fn receive(ws: &mut WebSocket, size: usize) -> Result<String, String> {
    let mut checked = false;
    while let Some(msg) = ws.recv().await {
        match msg.map_err(|e| format!("receiving: {e}"))? {
            Message::Binary(data) if !checked => {
                let bad = if data.len() != size {
                    Some(format!("received {} bytes, expected {size}", data.len()))
                } else {
                    (0..size)
                        .find(|&i| data[i] != pattern(i, 0))
                        .map(|i| format!("content mismatch at byte {i}"))
                };
                if let Some(why) = bad {
                    let _ = ws.close(4001, &why).await;
                    return Err(why);
                }
                println!("received {size} bytes with the expected content");
                checked = true;
            }
            Message::Close(Some((1000, reason))) if checked => return Ok(reason),
            Message::Close(close) => return Err(format!("server closed with {close:?}")),
            other => {
                let _ = ws.close(4001, "unexpected message").await;
                return Err(format!("unexpected message {other:?}"));
            }
        }
    }
    Err("the connection ended without a Close".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();

    let result = if args.test {
        tokio::time::timeout(Duration::from_secs(args.timeout), exchange(&args))
            .await
            .unwrap_or_else(|_| Err(format!("timed out after {} s", args.timeout)))
    } else {
        exchange(&args).await
    };
    match result {
        Ok(verdict) => println!("PASS: server says {verdict:?}"),
        Err(why) => {
            println!("FAIL: {why}");
            std::process::exit(1);
        }
    }
}
