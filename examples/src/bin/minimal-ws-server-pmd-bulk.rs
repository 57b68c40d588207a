//! minimal-ws-server-pmd-bulk: sends every client one large, highly compressible message in fragments and
//! checks the large message the client sends back, like libwebsockets' `minimal-ws-server-pmd-bulk`. With
//! permessage-deflate negotiated (the default) both messages cross the wire compressed.
//!
//! The message is produced a fragment at a time from the `writable` callback — one fragment per callback,
//! asking for the next with `request_writable` — so the server never holds the whole message. Incoming data
//! is checked a frame at a time too (`WsOptions::stream_fragments`). Byte `i` of the server's message is
//! `(i * 7 + i / 4096) % 251`; the client's uses `(i * 7 + i / 4096 + 1) % 251`. When both messages are
//! done the server closes with 1000 "pmd-bulk ok", or with 4001 and the reason as soon as a check fails.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-ws-server-pmd-bulk -- --port 7681
//!     cargo run -p lws-examples --bin minimal-ws-client-pmd-bulk -- --port 7681
//!
//! With `-t` the server exits after its first exchange: 0 if it passed, 1 if not.

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use lws::ws::{CloseInfo, WsCtx, WsMessage, WsOptions};
use lws::{Context, Protocol, ProtocolHandle, Vhost};
use lws_proto::ws::MessageKind;
use tokio::sync::mpsc;

/// Bytes per fragment sent from one `writable` callback.
const FRAGMENT: usize = 32 * 1024;

/// Exchanges one large message each way with every client and checks the one received.
#[derive(Parser)]
struct Args {
    /// TCP port to listen on.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    interface: IpAddr,
    /// Size of the message sent and of the one expected, in bytes.
    #[arg(long, default_value_t = 12 * 1024 * 1024)]
    size: usize,
    /// Do not negotiate permessage-deflate.
    #[arg(short = 'n', long = "no-pmd")]
    no_pmd: bool,
    /// Test mode: exit after the first exchange, 0 if it passed.
    #[arg(short = 't', long = "test")]
    test: bool,
}

/// Byte `i` of the message sent with this salt (0 from the server, 1 from the client).
fn pattern(i: usize, salt: usize) -> u8 {
    ((i * 7 + i / 4096 + salt) % 251) as u8
}

/// The protocol `lws-minimal-pmd-bulk`; results of the exchanges go to `main`.
struct Bulk {
    size: usize,
    results: mpsc::UnboundedSender<Result<String, String>>,
}

/// One connection's progress.
#[derive(Default)]
struct Exchange {
    sent: usize,
    received: usize,
    received_all: bool,
    over: bool,
}

impl Bulk {
    fn fail(&self, ex: &mut Exchange, cx: &mut WsCtx<'_>, why: String) {
        ex.over = true;
        cx.close(4001, &why);
        let _ = self.results.send(Err(why));
    }

    fn finish_if_done(&self, ex: &mut Exchange, cx: &mut WsCtx<'_>) {
        if ex.over || ex.sent < self.size || !ex.received_all {
            return;
        }
        ex.over = true;
        cx.close(1000, "pmd-bulk ok");
        let _ = self.results.send(Ok(format!(
            "sent {} bytes and received {} bytes with the expected content (permessage-deflate {})",
            ex.sent,
            ex.received,
            if cx.info().compressed() { "on" } else { "off" }
        )));
    }
}

impl Protocol for Bulk {
    type Session = Exchange;

    fn ws_options(&self) -> WsOptions {
        let default = WsOptions::default();
        WsOptions {
            max_message: self.size.max(default.max_message),
            stream_fragments: true,
            ..default
        }
    }

    fn established(&self, _ex: &mut Exchange, cx: &mut WsCtx<'_>) {
        cx.request_writable();
    }

    fn writable(&self, ex: &mut Exchange, cx: &mut WsCtx<'_>) {
        if ex.over || ex.sent >= self.size {
            return;
        }
        let n = FRAGMENT.min(self.size - ex.sent);
        let chunk: Vec<u8> = (ex.sent..ex.sent + n).map(|i| pattern(i, 0)).collect();
        let first = ex.sent == 0;
        ex.sent += n;
        cx.send_fragment(MessageKind::Binary, &chunk, first, ex.sent == self.size);
        if ex.sent < self.size {
            cx.request_writable();
        } else {
            self.finish_if_done(ex, cx);
        }
    }

    fn message(&self, ex: &mut Exchange, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        if ex.over {
            return;
        }
        if msg.first && ex.received_all {
            return self.fail(ex, cx, "more than one message received".into());
        }
        if let Some(k) = (0..msg.data.len()).find(|&k| msg.data[k] != pattern(ex.received + k, 1)) {
            return self.fail(
                ex,
                cx,
                format!("content mismatch at byte {}", ex.received + k),
            );
        }
        ex.received += msg.data.len();
        if ex.received > self.size {
            return self.fail(ex, cx, format!("message longer than {} bytes", self.size));
        }
        if msg.fin {
            if ex.received != self.size {
                let why = format!("received {} bytes, expected {}", ex.received, self.size);
                return self.fail(ex, cx, why);
            }
            ex.received_all = true;
            self.finish_if_done(ex, cx);
        }
    }

    fn closed(&self, ex: &mut Exchange, close: &CloseInfo) {
        if !ex.over {
            let _ = self.results.send(Err(format!(
                "connection ended (close {:?} {:?}) after sending {} and receiving {} bytes",
                close.code, close.reason, ex.sent, ex.received
            )));
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lws_examples::init_tracing();
    let args = Args::parse();

    let (results, mut outcomes) = mpsc::unbounded_channel();
    let bulk = Bulk {
        size: args.size,
        results,
    };
    let vhost = Vhost::new("localhost")
        .listen(SocketAddr::new(args.interface, args.port))
        .permessage_deflate(!args.no_pmd)
        .protocol(ProtocolHandle::new("lws-minimal-pmd-bulk", bulk));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!(
            "serving lws-minimal-pmd-bulk on ws://{addr}/ ({} bytes each way)",
            args.size
        );
    }
    let shutdown = context.shutdown_handle();
    let mut server = tokio::spawn(context.run_until_signal());
    loop {
        tokio::select! {
            outcome = outcomes.recv() => {
                let passed = match outcome {
                    Some(Ok(what)) => {
                        println!("PASS: {what}");
                        true
                    }
                    Some(Err(why)) => {
                        println!("FAIL: {why}");
                        false
                    }
                    None => false,
                };
                if args.test {
                    shutdown.shutdown();
                    let _ = server.await;
                    std::process::exit(if passed { 0 } else { 1 });
                }
            }
            ended = &mut server => return Ok(ended??),
        }
    }
}
