//! minimal-raw-adopt-udp: a UDP socket the application bound itself, served by the runtime, like
//! libwebsockets' `minimal-raw-adopt-udp`. The socket is a plain `std::net::UdpSocket`;
//! [`lws::raw::adopt_udp`] hands it to a raw protocol whose `datagram` callback gets each datagram with its
//! sender and echoes it back with `send_to`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-raw-adopt-udp -- --port 7681
//!
//! Then, in another terminal, type lines and see them come back:
//!
//!     nc -u 127.0.0.1 7681          # or: socat - UDP:127.0.0.1:7681
//!
//! `--port 0` picks a free port; the port used is printed as `listening on udp 127.0.0.1:PORT`.

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawProtocol};
use lws::ProtocolHandle;

/// Binds a UDP socket with std and has the runtime echo every datagram to its sender.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

/// Echoes datagrams.
struct UdpEcho;

/// Per-socket state.
#[derive(Default)]
struct Counts {
    datagrams: u64,
}

impl RawProtocol for UdpEcho {
    type Session = Counts;

    fn datagram(&self, counts: &mut Counts, cx: &mut RawCtx<'_>, data: &[u8], from: SocketAddr) {
        counts.datagrams += 1;
        println!(
            "datagram {} from {from}: {} bytes",
            counts.datagrams,
            data.len()
        );
        cx.send_to(from, data);
    }

    fn closed(&self, counts: &mut Counts, close: &RawClose) {
        match &close.error {
            Some(e) => println!(
                "the socket failed after {} datagrams: {e}",
                counts.datagrams
            ),
            None => println!("the socket closed after {} datagrams", counts.datagrams),
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let addr = args.listen.addr();
    let socket = UdpSocket::bind(addr).map_err(|e| format!("binding udp {addr}: {e}"))?;
    let local = socket
        .local_addr()
        .map_err(|e| format!("binding udp {addr}: {e}"))?;
    let protocol = ProtocolHandle::raw("raw-udp-echo", UdpEcho);
    let adopted =
        lws::raw::adopt_udp(socket, &protocol).map_err(|e| format!("adopting the socket: {e}"))?;
    println!("listening on udp {local}");
    tokio::select! {
        close = adopted => match close.error {
            Some(e) => Err(format!("the socket failed: {e}")),
            None => Ok(()),
        },
        signal = tokio::signal::ctrl_c() => signal.map_err(|e| format!("waiting for Ctrl-C: {e}")),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-adopt-udp", run(Args::parse()).await)
}
