//! minimal-ws-broker: a publish/subscribe broker over the WebSocket subprotocol `lws-minimal-broker`, like
//! libwebsockets' `minimal-ws-broker`. Connections to `/publisher` (or with `?publisher=1`) publish: each
//! message they send goes to every subscriber. All other connections subscribe. It also serves a page with
//! one subscriber and one publisher connection.
//!
//! Published messages wait in a shared list with a read position per subscriber (libwebsockets' ring with
//! per-client tails): publishing wakes everybody with `request_writable_all`, each subscriber sends what it
//! has not sent yet from `writable`, and what every subscriber has sent is dropped. Nothing is lost: when
//! the list is long, the publisher that filled it stops being read (`rx_flow`) until the slowest subscriber
//! catches up — so a subscriber that never reads holds the publishers back, as in libwebsockets.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-ws-broker -- --port 7681
//!
//! Then open http://127.0.0.1:7681/, or publish from threads with
//! `cargo run -p lws-examples --bin minimal-ws-client-tx -- --port 7681 -t`.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use clap::Parser;
use lws::ws::{CloseInfo, WsCtx, WsHandle, WsMessage, WsOptions};
use lws::{Context, Mount, Protocol, ProtocolHandle, Vhost};
use lws_proto::ws::MessageKind;

/// The page and script this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-ws-broker"
);

/// A publisher stops being read once this many messages wait for some subscriber...
const PAUSE_AT: usize = 64;
/// ...and is read again once fewer than this many wait.
const RESUME_BELOW: usize = 16;
/// Most messages a subscriber sends from one `writable` callback.
const BURST: usize = 16;

/// Fans publishers' messages out to subscribers.
#[derive(Parser)]
struct Args {
    /// TCP port to listen on.
    #[arg(short = 'p', long, default_value_t = 7681)]
    port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    interface: IpAddr,
}

/// The protocol; its state is shared by all connections on the vhost.
#[derive(Default)]
struct Broker {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Messages at positions `head - messages.len() .. head`.
    messages: VecDeque<(MessageKind, Box<[u8]>)>,
    head: u64,
    /// Each subscriber's next position to send.
    subscribers: HashMap<u64, u64>,
    /// Publishers not being read until the list is short again.
    paused: HashMap<u64, WsHandle>,
    next_id: u64,
}

impl State {
    fn oldest(&self) -> u64 {
        self.head - self.messages.len() as u64
    }

    /// Drops what every subscriber has sent (everything, when nobody subscribes).
    fn trim(&mut self) {
        let keep_from = self
            .subscribers
            .values()
            .copied()
            .min()
            .unwrap_or(self.head);
        while self.oldest() < keep_from {
            self.messages.pop_front();
        }
    }

    /// Wakes the paused publishers once there is room; their `writable` resumes reading.
    fn wake_publishers(&mut self) {
        if self.messages.len() < RESUME_BELOW {
            for (_, publisher) in self.paused.drain() {
                publisher.request_writable();
            }
        }
    }
}

/// What a connection is.
#[derive(Default)]
enum Client {
    #[default]
    Unknown,
    Publisher {
        id: u64,
        paused: bool,
    },
    Subscriber {
        id: u64,
    },
}

impl Protocol for Broker {
    type Session = Client;

    fn ws_options(&self) -> WsOptions {
        WsOptions {
            max_message: 64 * 1024,
            ..WsOptions::default()
        }
    }

    fn established(&self, client: &mut Client, cx: &mut WsCtx<'_>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let id = state.next_id;
        state.next_id += 1;
        let info = cx.info();
        let publishes = info.path() == "/publisher"
            || info
                .arg("publisher")
                .is_some_and(|v| v != "0" && !v.is_empty());
        *client = if publishes {
            Client::Publisher { id, paused: false }
        } else {
            let head = state.head;
            state.subscribers.insert(id, head);
            Client::Subscriber { id }
        };
    }

    fn message(&self, client: &mut Client, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        let Client::Publisher { id, paused } = client else {
            return; // subscribers have nothing to say
        };
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.messages.push_back((msg.kind, msg.data.into()));
        state.head += 1;
        state.trim();
        if state.messages.len() >= PAUSE_AT && !*paused {
            *paused = true;
            cx.rx_flow(false);
            state.paused.insert(*id, cx.handle());
        }
        cx.request_writable_all();
    }

    fn writable(&self, client: &mut Client, cx: &mut WsCtx<'_>) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match client {
            Client::Subscriber { id } => {
                let Some(&start) = state.subscribers.get(id) else {
                    return;
                };
                let (oldest, head) = (state.oldest(), state.head);
                let mut tail = start;
                while tail < head && tail - start < BURST as u64 && !cx.choked() {
                    let (kind, data) = &state.messages[(tail - oldest) as usize];
                    match kind {
                        MessageKind::Text => {
                            cx.send_text(std::str::from_utf8(data).unwrap_or_default())
                        }
                        MessageKind::Binary => cx.send_binary(data),
                    }
                    tail += 1;
                }
                state.subscribers.insert(*id, tail);
                state.trim();
                state.wake_publishers();
                if tail < head {
                    cx.request_writable();
                }
            }
            Client::Publisher { id, paused } if *paused => {
                if state.messages.len() < RESUME_BELOW {
                    *paused = false;
                    state.paused.remove(id);
                    cx.rx_flow(true);
                } else {
                    state.paused.insert(*id, cx.handle());
                }
            }
            _ => {}
        }
    }

    fn closed(&self, client: &mut Client, _close: &CloseInfo) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match client {
            Client::Subscriber { id } => {
                state.subscribers.remove(id);
                state.trim();
                state.wake_publishers();
            }
            Client::Publisher { id, .. } => {
                state.paused.remove(id);
            }
            Client::Unknown => {}
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lws_examples::init_tracing();
    let args = Args::parse();

    let vhost = Vhost::new("localhost")
        .listen(SocketAddr::new(args.interface, args.port))
        .strict_security_headers(true)
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .protocol(ProtocolHandle::new("lws-minimal-broker", Broker::default()));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!(
            "broker on http://{addr}/ : subscribe at ws://{addr}/, publish at ws://{addr}/publisher \
             (subprotocol lws-minimal-broker)"
        );
    }
    context.run_until_signal().await?;
    Ok(())
}
