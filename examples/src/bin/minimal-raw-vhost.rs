//! minimal-raw-vhost: a vhost that speaks no HTTP at all, like libwebsockets' `minimal-raw-vhost`. Every
//! connection to its port goes straight to a raw protocol ([`lws::Vhost::listen_accept`]); whatever one
//! client sends is passed on to every connected client (the sender included).
//!
//! As in the libwebsockets example, the per-vhost state keeps the recent chunks in a ring with a read
//! position per client: a new chunk asks every client for a `writable` callback (through the
//! [`lws::raw::RawHandle`]s kept in the per-vhost state), and each client sends what it has not sent yet
//! from its own `writable` callback while its send queue is not choked. A client that falls more than the
//! ring's length behind skips what it missed and is told so.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-raw-vhost -- --port 7681
//!
//! Then, in two or more other terminals:
//!
//!     nc 127.0.0.1 7681          # or: socat - TCP:127.0.0.1:7681
//!
//! and type a line in one of them: it appears in all of them. `--port 0` picks a free port; the port used
//! is printed as `listening on 127.0.0.1:PORT`.

use std::collections::{HashMap, VecDeque};
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard};

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawHandle, RawProtocol};
use lws::{Context, ProtocolHandle, Vhost};

/// The protocol's name (libwebsockets' example calls it `raw-test`).
const PROTOCOL: &str = "raw-test";
/// How many recent chunks are kept for clients that have not sent them yet.
const KEEP: usize = 64;

/// A raw TCP server that passes what any client sends on to every client.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

/// Per-vhost state.
#[derive(Default)]
struct Broadcast {
    state: Mutex<State>,
}

/// The ring of recent chunks, at positions `head - ring.len() .. head`, and every open client.
#[derive(Default)]
struct State {
    ring: VecDeque<Vec<u8>>,
    head: u64,
    /// Handles of the open connections, by the id kept in their session.
    members: HashMap<u64, RawHandle>,
    next_id: u64,
}

/// Per-connection state.
#[derive(Default)]
struct Member {
    id: u64,
    /// The position of the next chunk this client has to send.
    tail: u64,
}

impl Broadcast {
    fn state(&self) -> MutexGuard<'_, State> {
        // A callback that panicked while holding the lock cannot have left the ring inconsistent enough to
        // matter here: go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RawProtocol for Broadcast {
    type Session = Member;

    fn established(&self, member: &mut Member, cx: &mut RawCtx<'_>) {
        let count = {
            let mut state = self.state();
            member.id = state.next_id;
            state.next_id += 1;
            // A newcomer gets what is said from now on.
            member.tail = state.head;
            state.members.insert(member.id, cx.handle());
            state.members.len()
        };
        let peer = cx
            .info()
            .peer_addr()
            .map_or_else(|| "?".to_string(), |a| a.to_string());
        println!("{peer} connected ({count} connected)");
        cx.send(format!("** welcome: {count} connected\n").as_bytes());
    }

    fn rx(&self, _member: &mut Member, _cx: &mut RawCtx<'_>, data: &[u8]) {
        let mut state = self.state();
        if state.ring.len() == KEEP {
            state.ring.pop_front();
        }
        state.ring.push_back(data.to_vec());
        state.head += 1;
        // Every member (this one included) sends the new chunk from its own `writable` callback.
        for handle in state.members.values() {
            handle.request_writable();
        }
    }

    fn writable(&self, member: &mut Member, cx: &mut RawCtx<'_>) {
        let state = self.state();
        let oldest = state.head - state.ring.len() as u64;
        if member.tail < oldest {
            cx.send(format!("** missed {} messages\n", oldest - member.tail).as_bytes());
            member.tail = oldest;
        }
        while member.tail < state.head && !cx.choked() {
            let Some(chunk) = state.ring.get((member.tail - oldest) as usize) else {
                break;
            };
            cx.send(chunk);
            member.tail += 1;
        }
        if member.tail < state.head {
            // Choked: go on once the queue has drained.
            cx.request_writable();
        }
    }

    fn closed(&self, member: &mut Member, close: &RawClose) {
        let count = {
            let mut state = self.state();
            // By id: during this callback the connection's own handle still reports `is_open()`, so
            // `retain(RawHandle::is_open)` would keep it until the next close.
            state.members.remove(&member.id);
            state.members.len()
        };
        match &close.error {
            Some(e) => println!("a client left: {e} ({count} connected)"),
            None => println!("a client left ({count} connected)"),
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .protocol(ProtocolHandle::raw(PROTOCOL, Broadcast::default()))
        .listen_accept(PROTOCOL);
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("listening on {addr}");
    }
    context.run_until_signal().await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-vhost", run(Args::parse()).await)
}
