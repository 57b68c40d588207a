//! minimal-ws-server-echo: a WebSocket server that sends every message back whole, with the same type (text
//! or binary), like libwebsockets' `minimal-ws-server-echo`. It is the target of Autobahn|Testsuite's
//! `fuzzingclient`, so it accepts upgrades that name no subprotocol (they get `lws-echo`), and it offers
//! permessage-deflate unless started with `-n`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-ws-server-echo -- -p 9001
//!
//! Then try `minimal-ws-client-spam --port 9001`, or run Autobahn against it with a `fuzzingclient.json` of
//! `{"servers": [{"url": "ws://127.0.0.1:9001"}], "cases": ["*"], "exclude-cases": ["2.10", "2.11"]}`
//! (see `wstest -m fuzzingclient`).

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use lws::{Context, ProtocolHandle, Pvo, Vhost};
use lws_plugins::Echo;

/// Echoes WebSocket messages, for Autobahn's fuzzingclient.
#[derive(Parser)]
struct Args {
    /// TCP port to listen on.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    interface: IpAddr,
    /// Do not negotiate permessage-deflate.
    #[arg(short = 'n', long = "no-pmd")]
    no_pmd: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lws_examples::init_tracing();
    let args = Args::parse();

    let echo = Echo::from_pvo(&Pvo::default())?;
    let vhost = Vhost::new("localhost")
        .listen(SocketAddr::new(args.interface, args.port))
        .permessage_deflate(!args.no_pmd)
        .protocol(ProtocolHandle::new("lws-echo", echo));
    let context = Context::builder().vhost(vhost).build()?;
    let pmd = if args.no_pmd { "off" } else { "on" };
    for addr in context.local_addrs() {
        println!(
            "echoing on ws://{addr}/ (subprotocol lws-echo or none; permessage-deflate {pmd})"
        );
    }
    context.run_until_signal().await?;
    Ok(())
}
