//! minimal-raw-proxy: a raw vhost whose every connection is forwarded to one onward address by the
//! built-in raw proxy ([`lws::raw::Proxy`]), like libwebsockets' `minimal-raw-proxy` (the `raw-proxy`
//! plugin with the pvo `onward`). Bytes flow both ways with backpressure, and a half-close on one side is
//! passed on to the other.
//!
//! Run from the repository root (by default it forwards to the local SSH server):
//!
//!     cargo run -p lws-examples --bin minimal-raw-proxy -- --port 7681 --onward ipv4:127.0.0.1:22
//!
//! Then, in another terminal:
//!
//!     ssh -p 7681 localhost
//!
//! or, without an SSH server, forward to a listener started with `nc -l 127.0.0.1 1234`
//! (`--onward ipv4:127.0.0.1:1234`) and talk to it through the proxy with `nc 127.0.0.1 7681`.
//!
//! `--port 0` picks a free port; the port used is printed as `listening on 127.0.0.1:PORT`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lws::raw::{Proxy, ProxyConfig, RawTarget};
use lws::{Context, Vhost};

/// The proxy's protocol name (libwebsockets' plugin is `raw-proxy`).
const PROTOCOL: &str = "raw-proxy";

/// Forwards every TCP connection on a port to one onward address.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Where connections are forwarded: `ipv4:host[:port]`, `ipv6:[addr][:port]`, `host:port` or
    /// `unix:/path`.
    #[arg(long, default_value = "ipv4:127.0.0.1:22")]
    onward: String,
    /// Milliseconds the onward connection may take to open; past it the client is closed.
    #[arg(long, default_value_t = 5000)]
    connect_timeout_ms: u64,
}

async fn run(args: Args) -> Result<(), String> {
    let onward: RawTarget = args
        .onward
        .parse()
        .map_err(|e| format!("--onward {:?}: {e}", args.onward))?;
    if args.connect_timeout_ms == 0 {
        return Err("--connect-timeout-ms must be at least 1".into());
    }
    let mut config = ProxyConfig::new(onward.clone());
    config.connect_timeout = Duration::from_millis(args.connect_timeout_ms);
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .protocol(Proxy::new(config).into_handle(PROTOCOL))
        .listen_accept(PROTOCOL);
    let context = Context::builder()
        .vhost(vhost)
        .build()
        .map_err(|e| e.to_string())?;
    for addr in context.local_addrs() {
        println!("listening on {addr}, forwarding to {onward}");
    }
    context
        .run_until_signal()
        .await
        .map_err(|e| format!("serving: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-proxy", run(Args::parse()).await)
}
