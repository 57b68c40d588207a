//! minimal-ws-client-echo: drives Autobahn|Testsuite's `fuzzingserver`, like libwebsockets'
//! `minimal-ws-client-echo` run by `autobahn-test-client.sh`. It asks the fuzzing server for the number of
//! cases (`/getCaseCount`), runs each (`/runCase?case=N&agent=A`) echoing every message back with the same
//! type until the server closes, then has the server write its reports (`/updateReports?agent=A`).
//! permessage-deflate is offered (unless `-n`), which enables Autobahn's 12.* and 13.* cases.
//!
//! Start the fuzzing server with a `fuzzingserver.json` of `{"url": "ws://127.0.0.1:9001", "outdir":
//! "./reports/clients", "cases": ["*"], "exclude-cases": ["2.10", "2.11", "12.3.1", "12.3.2", "12.4.*",
//! "12.5.*"]}` (`wstest -m fuzzingserver`), then run from the repository root:
//!
//!     cargo run --release -p lws-examples --bin minimal-ws-client-echo -- -p 9001 -a lws-rs
//!
//! It prints one line per case and exits 0 once the reports are updated (a case that fails is Autobahn's
//! verdict to give, not a reason to stop); it exits 1 if the fuzzing server cannot be used at all.

use std::time::{Duration, Instant};

use clap::Parser;
use lws::client::{self, Message, WebSocket};

/// Runs every Autobahn fuzzingserver case, echoing.
#[derive(Parser)]
struct Args {
    /// Fuzzing server host (it must be named the way its `url` names it: the Host header carries it).
    #[arg(short = 's', long, alias = "server", default_value = "127.0.0.1")]
    host: String,
    /// Fuzzing server port.
    #[arg(short = 'p', long, default_value_t = 9001)]
    port: u16,
    /// Agent name the reports are filed under.
    #[arg(short = 'a', long, default_value = "lws-rs")]
    agent: String,
    /// Do not offer permessage-deflate.
    #[arg(short = 'n', long = "no-pmd")]
    no_pmd: bool,
    /// Run only cases from this number on.
    #[arg(long, default_value_t = 1)]
    first: u32,
}

/// Largest message accepted: Autobahn's biggest cases (9.*) send 16 MiB.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Connects to `path` on the fuzzing server.
async fn open(args: &Args, path: &str) -> Result<WebSocket, client::ClientError> {
    let url = format!("ws://{}:{}{path}", args.host, args.port);
    client::ws(&url)
        .permessage_deflate(!args.no_pmd)
        .max_message(MAX_MESSAGE)
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
}

/// Echoes until the server closes; returns how the case ended and how many messages were echoed.
async fn echo(ws: &mut WebSocket) -> (String, usize) {
    let mut echoed = 0;
    while let Some(msg) = ws.recv().await {
        let reply = match msg {
            Ok(Message::Close(Some((code, _)))) => return (format!("closed {code}"), echoed),
            Ok(Message::Close(None)) => return ("closed without code".into(), echoed),
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => m,
            Ok(_) => continue,
            Err(e) => return (format!("failed: {e}"), echoed),
        };
        if let Err(e) = ws.send(reply).await {
            return (format!("failed sending: {e}"), echoed);
        }
        echoed += 1;
    }
    ("ended".into(), echoed)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lws_examples::init_tracing();
    let args = Args::parse();

    let count = match open(&args, "/getCaseCount").await {
        Ok(mut ws) => match ws.recv().await {
            Some(Ok(Message::Text(t))) => t.trim().parse::<u32>().ok(),
            _ => None,
        },
        Err(e) => {
            println!(
                "cannot reach the fuzzing server at {}:{}: {e}",
                args.host, args.port
            );
            std::process::exit(1);
        }
    };
    let Some(count) = count else {
        println!("the fuzzing server sent no case count");
        std::process::exit(1);
    };
    println!("{count} cases, agent {:?}", args.agent);

    for case in args.first..=count {
        let started = Instant::now();
        let path = format!("/runCase?case={case}&agent={}", args.agent);
        let (outcome, echoed) = match open(&args, &path).await {
            Ok(mut ws) => echo(&mut ws).await,
            // Some cases expect the opening handshake to fail.
            Err(e) => (format!("not connected: {e}"), 0),
        };
        println!(
            "case {case}/{count}: {outcome}, {echoed} messages echoed, {} ms",
            started.elapsed().as_millis()
        );
    }

    let path = format!("/updateReports?agent={}", args.agent);
    match open(&args, &path).await {
        Ok(mut ws) => {
            // The server closes once the reports are written.
            while let Some(Ok(_)) = ws.recv().await {}
            println!("reports updated for agent {:?}", args.agent);
        }
        Err(e) => {
            println!("updating the reports failed: {e}");
            std::process::exit(1);
        }
    }
}
