//! minimal-ws-raw-proxy: a WebSocket server whose every connection gets its own onward raw TCP connection,
//! like libwebsockets' `minimal-ws-raw-proxy`. What a WebSocket client sends is written to the raw
//! connection; what the raw connection receives comes back as WebSocket messages (text when it is UTF-8,
//! binary otherwise). When either side closes, the other is closed once what was queued for it is
//! written.
//!
//! Each WebSocket connection spawns a task running `lws::raw::connect(onward).run(..)` with a raw protocol
//! of its own. The two connections share a small state ([`Link`]) holding the bytes on their way in each
//! direction; each side wakes the other through its handle ([`lws::ws::WsHandle::request_writable`],
//! [`lws::raw::RawHandle::request_writable`]) and sends from its own `writable` callback while its send
//! queue is not choked. When too much is waiting for one side, reading from the other is paused (`rx_flow`)
//! until it drains, so neither a slow browser nor a slow raw peer makes the server buffer without bound.
//!
//! Run from the repository root, with a raw peer listening on the default onward address:
//!
//!     nc -l 127.0.0.1 1234          # or: socat TCP-LISTEN:1234,bind=127.0.0.1 -
//!     cargo run -p lws-examples --bin minimal-ws-raw-proxy -- --port 7681
//!
//! Then open http://127.0.0.1:7681/, type in the page and see the lines in `nc`, and type into `nc` to
//! see them in the page. `--port 0` picks a free port; the port used is printed as
//! `listening on 127.0.0.1:PORT`.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawHandle, RawProtocol, RawTarget};
use lws::ws::{CloseInfo, WsCtx, WsHandle, WsMessage};
use lws::{Context, Mount, Protocol, ProtocolHandle, Vhost};

/// The page and script this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-ws-raw-proxy"
);
/// The WebSocket subprotocol (as in libwebsockets' example).
const WS_PROTOCOL: &str = "lws-ws-raw-ws";
/// The name of the raw protocol of the onward connections.
const RAW_PROTOCOL: &str = "lws-ws-raw-raw";
/// Bytes waiting for one side beyond which reading from the other side pauses.
const PAUSE_AT: usize = 256 * 1024;
/// Reading resumes once the waiting bytes are below this.
const RESUME_AT: usize = 64 * 1024;
/// The largest WebSocket message made from raw bytes.
const MESSAGE_MAX: usize = 16 * 1024;

/// Serves a page whose WebSocket is proxied to a raw TCP connection.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Where each WebSocket connection's raw connection goes: `host:port`, `ipv4:host:port`,
    /// `ipv6:[addr]:port` or `unix:/path`.
    #[arg(long, default_value = "127.0.0.1:1234")]
    onward: String,
    /// Milliseconds the raw connection may take to open; past it the WebSocket is closed.
    #[arg(long, default_value_t = 5000)]
    connect_timeout_ms: u64,
}

/// What a WebSocket connection and its raw connection share.
struct Link {
    state: Mutex<LinkState>,
}

struct LinkState {
    /// The WebSocket connection.
    ws: WsHandle,
    /// The raw connection, once open.
    raw: Option<RawHandle>,
    /// From the WebSocket, waiting for the raw connection.
    to_raw: Vec<u8>,
    /// From the raw connection, waiting for the WebSocket.
    to_ws: Vec<u8>,
    /// Reading from the WebSocket is paused while `to_raw` drains.
    ws_paused: bool,
    /// Reading from the raw connection is paused while `to_ws` drains.
    raw_paused: bool,
    ws_closed: bool,
    /// The raw connection ended (or never opened).
    raw_closed: bool,
}

impl Link {
    fn state(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The WebSocket protocol (per-vhost state: where to connect).
struct WsSide {
    onward: RawTarget,
    connect_timeout: Duration,
}

impl Protocol for WsSide {
    /// The link, once the connection is established.
    type Session = Option<Arc<Link>>;

    fn established(&self, session: &mut Option<Arc<Link>>, cx: &mut WsCtx<'_>) {
        let link = Arc::new(Link {
            state: Mutex::new(LinkState {
                ws: cx.handle(),
                raw: None,
                to_raw: Vec::new(),
                to_ws: Vec::new(),
                ws_paused: false,
                raw_paused: false,
                ws_closed: false,
                raw_closed: false,
            }),
        });
        *session = Some(link.clone());
        let builder = lws::raw::RawClientBuilder::new(self.onward.clone())
            .connect_timeout(self.connect_timeout);
        let onward = self.onward.clone();
        tokio::spawn(async move {
            let protocol = ProtocolHandle::raw(RAW_PROTOCOL, RawSide { link: link.clone() });
            if let Err(e) = builder.run(&protocol).await {
                eprintln!("minimal-ws-raw-proxy: connecting to {onward}: {e}");
                let ws = {
                    let mut state = link.state();
                    state.raw_closed = true;
                    state.ws.clone()
                };
                // Fails only if the WebSocket is gone already.
                let _ = ws.close(1011, "the onward connection failed").await;
            }
        });
    }

    fn message(&self, session: &mut Option<Arc<Link>>, cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        let Some(link) = session else { return };
        let mut state = link.state();
        if state.raw_closed {
            return;
        }
        state.to_raw.extend_from_slice(msg.data);
        if let Some(raw) = &state.raw {
            raw.request_writable();
        }
        if state.to_raw.len() >= PAUSE_AT {
            state.ws_paused = true;
            cx.rx_flow(false);
        }
    }

    fn writable(&self, session: &mut Option<Arc<Link>>, cx: &mut WsCtx<'_>) {
        let Some(link) = session else { return };
        let mut state = link.state();
        // Resumes reading once the raw side has taken what was waiting (see `RawSide::writable`).
        cx.rx_flow(!state.ws_paused);
        while !state.to_ws.is_empty() && !cx.choked() {
            let more_may_come = !state.raw_closed;
            let Some((text, n)) = next_message(&state.to_ws, more_may_come) else {
                break;
            };
            let data: Vec<u8> = state.to_ws.drain(..n).collect();
            match (text, std::str::from_utf8(&data)) {
                (true, Ok(s)) => cx.send_text(s),
                _ => cx.send_binary(&data),
            }
        }
        if state.raw_paused && state.to_ws.len() < RESUME_AT {
            state.raw_paused = false;
            if let Some(raw) = &state.raw {
                raw.rx_flow(true);
            }
        }
        if state.raw_closed && state.to_ws.is_empty() {
            cx.close(1000, "the onward connection closed");
        } else if !state.to_ws.is_empty() && cx.choked() {
            cx.request_writable();
        }
    }

    fn closed(&self, session: &mut Option<Arc<Link>>, _close: &CloseInfo) {
        let Some(link) = session else { return };
        let mut state = link.state();
        state.ws_closed = true;
        // The raw side closes from its `writable` once what is queued for it is written; if it is not
        // open yet, it closes as soon as it opens.
        if let Some(raw) = &state.raw {
            raw.request_writable();
        }
    }
}

/// Where the next WebSocket message ends in `buf`, and whether it is text: the longest UTF-8 prefix (up
/// to [`MESSAGE_MAX`] bytes), which leaves a character cut at the end of `buf` for the next message; when
/// `buf` starts with bytes that are not UTF-8, up to [`MESSAGE_MAX`] bytes as binary. `None`: only the
/// start of a character is there, and more may come.
fn next_message(buf: &[u8], more_may_come: bool) -> Option<(bool, usize)> {
    let chunk = &buf[..buf.len().min(MESSAGE_MAX)];
    match std::str::from_utf8(chunk) {
        Ok(_) => Some((true, chunk.len())),
        Err(e) if e.valid_up_to() > 0 => Some((true, e.valid_up_to())),
        Err(e) if e.error_len().is_none() && more_may_come => None,
        Err(_) => Some((false, chunk.len())),
    }
}

/// The raw protocol of one onward connection.
struct RawSide {
    link: Arc<Link>,
}

impl RawProtocol for RawSide {
    type Session = ();

    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        let mut state = self.link.state();
        state.raw = Some(cx.handle());
        if state.ws_closed && state.to_raw.is_empty() {
            cx.close();
        } else {
            // Sends what the WebSocket client said while connecting.
            cx.request_writable();
        }
    }

    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        let mut state = self.link.state();
        if state.ws_closed {
            return;
        }
        state.to_ws.extend_from_slice(data);
        state.ws.request_writable();
        if state.to_ws.len() >= PAUSE_AT {
            state.raw_paused = true;
            cx.rx_flow(false);
        }
    }

    fn writable(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        let mut state = self.link.state();
        while !state.to_raw.is_empty() && !cx.choked() {
            let n = state.to_raw.len().min(MESSAGE_MAX);
            cx.send(&state.to_raw[..n]);
            state.to_raw.drain(..n);
        }
        if state.ws_paused && state.to_raw.len() < RESUME_AT {
            state.ws_paused = false;
            // The WebSocket side resumes its reading in its `writable` callback.
            state.ws.request_writable();
        }
        if !state.to_raw.is_empty() {
            cx.request_writable();
        } else if state.ws_closed {
            cx.close();
        }
    }

    fn closed(&self, _: &mut (), close: &RawClose) {
        if let Some(e) = &close.error {
            eprintln!("minimal-ws-raw-proxy: the onward connection failed: {e}");
        }
        let mut state = self.link.state();
        state.raw_closed = true;
        state.raw = None;
        // The WebSocket is closed from its `writable` once what the raw side sent is delivered.
        state.ws.request_writable();
    }
}

async fn run(args: Args) -> Result<(), String> {
    let onward: RawTarget = args
        .onward
        .parse()
        .map_err(|e| format!("--onward {:?}: {e}", args.onward))?;
    if args.connect_timeout_ms == 0 {
        return Err("--connect-timeout-ms must be at least 1".into());
    }
    let ws_side = WsSide {
        onward: onward.clone(),
        connect_timeout: Duration::from_millis(args.connect_timeout_ms),
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .protocol(ProtocolHandle::new(WS_PROTOCOL, ws_side));
    let context = Context::builder()
        .vhost(vhost)
        .build()
        .map_err(|e| e.to_string())?;
    for addr in context.local_addrs() {
        println!(
            "listening on {addr}: http://{addr}/ (WebSocket subprotocol {WS_PROTOCOL}), each connection proxied to {onward}"
        );
    }
    context
        .run_until_signal()
        .await
        .map_err(|e| format!("serving: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-ws-raw-proxy", run(Args::parse()).await)
}
