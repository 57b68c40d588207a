//! minimal-ws-client-ping: keeps a WebSocket connection alive and proves it, like libwebsockets'
//! `minimal-ws-client-ping` (an lws-mirror client whose validity policy pings every 3 s). Every
//! `--interval` seconds it sends a PING — the server answers with a PONG, and a server with a validity
//! policy that pings us gets its PONGs from the client automatically — followed by a short text message;
//! a mirror or echo server sends the text back, and the time it took is printed as the round trip.
//!
//! The client answers the server's PINGs while it reads and hides PINGs and PONGs from the application, so
//! the text echo is what shows the connection is still up.
//!
//! Run from the repository root against lwsws's `lws-mirror-protocol` on port 7681:
//!
//!     cargo run -p lws-examples --bin minimal-ws-client-ping -- --port 7681
//!
//! or against the echo example: `minimal-ws-server-echo -p 7681` and `--protocol lws-echo`. With `-t` it
//! exits 0 after `--count` round trips, 1 on error or when a reply takes longer than 10 s.

use std::time::{Duration, Instant};

use clap::Parser;
use lws::client::{self, Message};

/// Pings a server periodically and times the round trip of a text message.
#[derive(Parser)]
struct Args {
    /// Server host name or address.
    #[arg(short = 's', long, default_value = "127.0.0.1")]
    server: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Subprotocol: one that sends our text back to us.
    #[arg(long, default_value = "lws-mirror-protocol")]
    protocol: String,
    /// Seconds between pings.
    #[arg(long, default_value_t = 3.0)]
    interval: f64,
    /// Test mode: exit 0 after `--count` round trips.
    #[arg(short = 't', long = "test")]
    test: bool,
    /// Round trips in test mode.
    #[arg(long, default_value_t = 3)]
    count: u32,
}

/// Longest wait for our text to come back.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

async fn run(args: &Args) -> Result<(), String> {
    let url = format!("ws://{}:{}/", args.server, args.port);
    let mut ws = client::ws(&url)
        .protocol(&args.protocol)
        .connect()
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    println!("connected to {url}, subprotocol {:?}", ws.protocol());
    let interval = Duration::from_secs_f64(args.interval.max(0.01));
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let token = format!("lws-rs-ping {}", std::process::id());
    let mut sent: u32 = 0;
    let mut waiting: Option<(String, Instant)> = None;
    let mut done = 0;
    loop {
        tokio::select! {
            msg = ws.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if let Some((expected, at)) = &waiting {
                        if &t == expected {
                            done += 1;
                            println!("round trip {done}: {} us", at.elapsed().as_micros());
                            waiting = None;
                            if args.test && done >= args.count {
                                let _ = ws.close(1000, "enough pings").await;
                                return Ok(());
                            }
                        }
                    }
                }
                Some(Ok(Message::Close(c))) => return Err(format!("server closed: {c:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("connection failed: {e}")),
                None => return Err("connection ended".into()),
            },
            _ = tick.tick() => {
                if let Some((_, at)) = &waiting {
                    if at.elapsed() > REPLY_TIMEOUT {
                        return Err("no reply within 10 s".into());
                    }
                    continue;
                }
                sent += 1;
                let payload = format!("ping {sent}");
                let text = format!("{token} {sent}");
                let at = Instant::now();
                ws.send(Message::Ping(payload.into_bytes().into()))
                    .await
                    .map_err(|e| format!("sending the ping: {e}"))?;
                ws.send(Message::Text(text.clone()))
                    .await
                    .map_err(|e| format!("sending: {e}"))?;
                waiting = Some((text, at));
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => println!("PASS: {} round trips", args.count),
        Err(e) => {
            println!("FAIL: {e}");
            std::process::exit(1);
        }
    }
}
