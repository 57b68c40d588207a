//! minimal-raw-adopt-tcp: hands TCP sockets the application opened itself to the runtime, like
//! libwebsockets' `minimal-raw-adopt-tcp` (`lws_adopt_socket`). The sockets are plain
//! `std::net::TcpStream`s, accepted here by a `std::net::TcpListener` on a thread of their own (or, with
//! `--connect`, one connected out); [`lws::raw::adopt_tcp`] serves each on the event loop with a raw
//! protocol that echoes what it receives and says goodbye when the peer shuts its side.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-raw-adopt-tcp -- --port 7681
//!
//! Then, in another terminal:
//!
//!     nc 127.0.0.1 7681          # each line comes back; Ctrl-D gets "bye" and the connection closes
//!
//! or, to adopt an outgoing connection instead (to a listener started with `nc -l 127.0.0.1 7000`):
//!
//!     cargo run -p lws-examples --bin minimal-raw-adopt-tcp -- --connect 127.0.0.1:7000
//!
//! `--port 0` picks a free port; the port used is printed as `listening on 127.0.0.1:PORT`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawProtocol};
use lws::ProtocolHandle;

/// Accepts (or connects) TCP sockets with std and has the runtime echo on them.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Instead of listening, connect to this address, adopt that one socket and exit when it closes.
    #[arg(long)]
    connect: Option<SocketAddr>,
}

/// Echoes bytes; on the peer's half-close, says goodbye and closes.
struct Echo;

impl RawProtocol for Echo {
    type Session = ();

    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        if let Some(peer) = cx.info().peer_addr() {
            println!("adopted a connection with {peer}");
        }
    }

    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        cx.send(data);
    }

    fn peer_shutdown(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.send(b"bye\n");
        cx.close();
    }

    fn closed(&self, _: &mut (), close: &RawClose) {
        match &close.error {
            Some(e) => println!("connection ended: {e}"),
            None => println!("connection closed"),
        }
    }
}

/// Accepts on `listener` forever, adopting each connection on the runtime behind `rt`.
fn accept_loop(listener: TcpListener, rt: tokio::runtime::Handle, protocol: ProtocolHandle) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                // `adopt_tcp` registers the socket with the runtime it is called in.
                let _entered = rt.enter();
                if let Err(e) = lws::raw::adopt_tcp(stream, &protocol) {
                    eprintln!("minimal-raw-adopt-tcp: adopting a connection: {e}");
                }
            }
            // A connection that went away before it was accepted, or too many open files: go on, after a
            // pause that keeps a lasting error from spinning.
            Err(e) => {
                eprintln!("minimal-raw-adopt-tcp: accept: {e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let protocol = ProtocolHandle::raw("raw-echo", Echo);
    if let Some(addr) = args.connect {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
        let adopted = lws::raw::adopt_tcp(stream, &protocol)
            .map_err(|e| format!("adopting the connection to {addr}: {e}"))?;
        let close = adopted.await;
        return match close.error {
            Some(e) => Err(format!("the connection to {addr} failed: {e}")),
            None => Ok(()),
        };
    }

    let addr = args.listen.addr();
    let listener = TcpListener::bind(addr).map_err(|e| format!("listening on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("listening on {addr}: {e}"))?;
    println!("listening on {local}");
    let rt = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("accept".into())
        .spawn(move || accept_loop(listener, rt, protocol))
        .map_err(|e| format!("starting the accept thread: {e}"))?;
    // The accepting thread blocks in `accept`; the process ends on Ctrl-C without waiting for it.
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("waiting for Ctrl-C: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-adopt-tcp", run(Args::parse()).await)
}
