//! minimal-raw-client: a raw TCP (or unix socket) client, in the manner of libwebsockets' raw client
//! examples. It connects with a connect timeout, retrying failed attempts as the client retry policy says
//! ([`lws::client::RetryPolicy`]), sends one line, prints whatever comes back and exits 0 when the server
//! closes the connection.
//!
//! Run from the repository root, with something listening, for instance `minimal-raw-vhost` or
//!
//!     nc -l 127.0.0.1 7681          # or: socat TCP-LISTEN:7681,bind=127.0.0.1 -
//!
//! then:
//!
//!     cargo run -p lws-examples --bin minimal-raw-client -- --message "hello there"
//!     cargo run -p lws-examples --bin minimal-raw-client -- --server unix:/tmp/some.sock
//!
//! Type a reply in the `nc` terminal and end it with Ctrl-C (or Ctrl-D: its half-close is seen as the
//! server closing). If nothing listens, the attempts are retried `--retries` times (1, 2, 5... s apart)
//! before the client gives up with exit status 1.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lws::client::RetryPolicy;
use lws::raw::{RawClose, RawCtx, RawProtocol};
use lws::ProtocolHandle;

/// Connects, sends a line, prints the replies until the server closes.
#[derive(Parser)]
struct Args {
    /// Where to connect: `host:port`, `ipv4:host:port`, `ipv6:[addr]:port` or `unix:/path`.
    #[arg(short, long, default_value = "127.0.0.1:7681")]
    server: String,
    /// The line to send (a newline is added).
    #[arg(short, long, default_value = "hello from lws-rs minimal-raw-client")]
    message: String,
    /// Seconds one connection attempt may take.
    #[arg(long, default_value_t = 5.0)]
    connect_timeout: f64,
    /// Failed attempts retried before giving up (0: give up at the first failure).
    #[arg(long, default_value_t = 2)]
    retries: u16,
}

/// Sends its line once connected and prints what arrives.
struct Client {
    line: Vec<u8>,
}

/// Per-connection state: how much came back.
#[derive(Default)]
struct Received {
    bytes: usize,
}

impl RawProtocol for Client {
    type Session = Received;

    fn established(&self, _session: &mut Received, cx: &mut RawCtx<'_>) {
        match cx.info().peer_addr() {
            Some(peer) => println!("connected to {peer}"),
            None => println!("connected"),
        }
        cx.send(&self.line);
    }

    fn rx(&self, session: &mut Received, _cx: &mut RawCtx<'_>, data: &[u8]) {
        session.bytes += data.len();
        // A few lines from a test server: a blocking write to the terminal is harmless here. A client
        // expecting a lot should hand the bytes to a writer thread (see minimal-raw-netcat).
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(data);
        let _ = out.flush();
    }

    fn closed(&self, session: &mut Received, close: &RawClose) {
        match &close.error {
            Some(e) => println!("connection failed after {} bytes: {e}", session.bytes),
            None => println!(
                "the server closed the connection ({} bytes received)",
                session.bytes
            ),
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let timeout = Duration::try_from_secs_f64(args.connect_timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!(
                "--connect-timeout {}: not a positive number of seconds",
                args.connect_timeout
            )
        })?;
    let policy = RetryPolicy {
        conceal_count: args.retries,
        ..RetryPolicy::default()
    };
    let builder = lws::raw::connect(&args.server)
        .map_err(|e| format!("--server {:?}: {e}", args.server))?
        .connect_timeout(timeout)
        .retry(policy);
    let mut line = args.message.into_bytes();
    line.push(b'\n');
    let protocol = ProtocolHandle::raw("raw-client", Client { line });
    let close = builder
        .run(&protocol)
        .await
        .map_err(|e| format!("connecting to {}: {e}", args.server))?;
    match close.error {
        Some(e) => Err(format!("the connection to {} failed: {e}", args.server)),
        None => Ok(()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-client", run(Args::parse()).await)
}
