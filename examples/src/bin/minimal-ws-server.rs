//! minimal-ws-server: an HTTP server whose page chats over WebSocket, like libwebsockets'
//! `minimal-ws-server`. Every text message any client sends on the subprotocol `lws-minimal` is broadcast
//! to every connected client (the sender included).
//!
//! The protocol keeps the recent messages in a shared list with a read position per client, like the
//! libwebsockets example's `lws_ring`: a new message wakes every member with `request_writable_all`, and
//! each member sends what it has not sent yet from its own `writable` callback, one message per callback.
//! A client that falls more than the list's length behind skips what it missed.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-ws-server -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ in two browser tabs and type in one of them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use clap::Parser;
use lws::ws::{WsCtx, WsMessage, WsOptions};
use lws::{Context, Mount, Protocol, ProtocolHandle, Vhost};

/// The page, script and style sheet this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-ws-server"
);

/// How many recent messages are kept for members that have not sent them yet.
const KEEP: usize = 32;

/// Serves a chat page and the `lws-minimal` WebSocket protocol behind it.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

/// Per-vhost state: the recent messages, at positions `head - messages.len() .. head`.
#[derive(Default)]
struct Chat {
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    messages: VecDeque<Arc<str>>,
    head: u64,
}

/// Per-connection state: the position of the next message this member has to send.
#[derive(Default)]
struct Member {
    tail: u64,
}

impl Protocol for Chat {
    type Session = Member;

    fn ws_options(&self) -> WsOptions {
        // Chat lines are short: refuse anything big rather than buffer it for every member.
        WsOptions {
            max_message: 16 * 1024,
            ..WsOptions::default()
        }
    }

    fn established(&self, member: &mut Member, _cx: &mut WsCtx<'_>) {
        // A newcomer sees what is said from now on.
        if let Ok(ring) = self.ring.lock() {
            member.tail = ring.head;
        }
    }

    fn message(&self, _member: &mut Member, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        let Some(text) = msg.text() else { return };
        if let Ok(mut ring) = self.ring.lock() {
            if ring.messages.len() == KEEP {
                ring.messages.pop_front();
            }
            ring.messages.push_back(text.into());
            ring.head += 1;
        }
        cx.request_writable_all();
    }

    fn writable(&self, member: &mut Member, cx: &mut WsCtx<'_>) {
        let Ok(ring) = self.ring.lock() else { return };
        let oldest = ring.head - ring.messages.len() as u64;
        // A member that fell too far behind skips what it missed.
        member.tail = member.tail.max(oldest);
        if let Some(m) = ring.messages.get((member.tail - oldest) as usize) {
            cx.send_text(m);
            member.tail += 1;
        }
        if member.tail < ring.head {
            cx.request_writable();
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lws_examples::init_tracing();
    let args = Args::parse();

    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .protocol(ProtocolHandle::new("lws-minimal", Chat::default()));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving the chat on http://{addr}/ (WebSocket subprotocol lws-minimal)");
    }
    context.run_until_signal().await?;
    Ok(())
}
