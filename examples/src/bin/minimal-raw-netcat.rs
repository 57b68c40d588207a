//! minimal-raw-netcat: a small `nc`, like libwebsockets' `minimal-raw-netcat`. It connects to a server
//! (TCP or unix socket) as a raw client, sends it everything read from stdin, writes everything the server
//! sends to stdout, shuts the sending side of the socket (TCP half-close) when stdin ends, and exits when
//! the server closes the connection: 0 if it ended cleanly, 1 if it failed.
//!
//! stdin is read by a plain thread (it may be a terminal, a pipe or a regular file, which cannot be
//! waited on by the event loop) that hands chunks to the connection through a small bounded channel; the
//! connection takes them in its `writable` callback while its send queue is not choked, so a slow server
//! slows the reading of stdin. Replies go the other way through a bounded buffer to a writer thread; while
//! that buffer is full, reading from the socket is paused (`rx_flow`), so a slow stdout slows the server.
//!
//! Run from the repository root, against `minimal-raw-vhost` or any TCP server:
//!
//!     cargo run -p lws-examples --bin minimal-raw-netcat -- --server 127.0.0.1:7681
//!     printf 'GET / HTTP/1.0\r\n\r\n' | cargo run -p lws-examples --bin minimal-raw-netcat -- -s example.org:80
//!
//! or with a listener of its own: `nc -l 127.0.0.1 7681` (or `socat TCP-LISTEN:7681,bind=127.0.0.1 -`).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawHandle, RawProtocol};
use lws::ProtocolHandle;
use tokio::sync::mpsc::{self, error::TryRecvError};

/// Bytes per read of stdin.
const STDIN_CHUNK: usize = 16 * 1024;
/// Chunks of stdin waiting for the connection at most.
const STDIN_QUEUE: usize = 4;
/// Replies waiting for stdout before reading from the socket pauses.
const OUT_LIMIT: usize = 64 * 1024;

/// Copies stdin to a server and the server's replies to stdout.
#[derive(Parser)]
struct Args {
    /// Where to connect: `host:port`, `ipv4:host:port`, `ipv6:[addr]:port` or `unix:/path`.
    #[arg(short, long, default_value = "127.0.0.1:7681")]
    server: String,
    /// Seconds the connection may take to open.
    #[arg(long, default_value_t = 10.0)]
    connect_timeout: f64,
}

/// What the connection, the stdin thread and the stdout thread share.
struct Shared {
    /// The connection, once open: the threads wake it and resume its reading through this.
    handle: OnceLock<RawHandle>,
    /// Chunks read from stdin; disconnected once stdin ended.
    stdin: Mutex<mpsc::Receiver<Vec<u8>>>,
    /// Replies waiting for the stdout thread.
    out: Mutex<Out>,
    out_ready: Condvar,
}

#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    /// Reading from the socket is paused until the buffer is taken.
    paused: bool,
    /// The connection is over: write what is left and stop.
    done: bool,
    /// stdout is gone: drop replies.
    broken: bool,
}

impl Shared {
    fn out(&self) -> MutexGuard<'_, Out> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self) {
        self.out().done = true;
        self.out_ready.notify_one();
    }
}

/// The raw protocol of the socket.
struct Netcat {
    shared: Arc<Shared>,
}

/// Per-connection state.
#[derive(Default)]
struct Session {
    /// Our sending side is shut (stdin ended).
    shut: bool,
}

impl RawProtocol for Netcat {
    type Session = Session;

    fn established(&self, _session: &mut Session, cx: &mut RawCtx<'_>) {
        let _ = self.shared.handle.set(cx.handle());
        // Whatever stdin produced before the connection opened is waiting.
        cx.request_writable();
    }

    fn writable(&self, session: &mut Session, cx: &mut RawCtx<'_>) {
        if session.shut {
            return;
        }
        let mut stdin = self.shared.stdin.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if cx.choked() {
                cx.request_writable();
                return;
            }
            match stdin.try_recv() {
                Ok(chunk) => cx.send(&chunk),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    // stdin ended: half-close, and keep reading until the server closes.
                    session.shut = true;
                    cx.shutdown_write();
                    return;
                }
            }
        }
    }

    fn rx(&self, _session: &mut Session, cx: &mut RawCtx<'_>, data: &[u8]) {
        let mut out = self.shared.out();
        if out.broken {
            return;
        }
        out.buf.extend_from_slice(data);
        if out.buf.len() >= OUT_LIMIT {
            out.paused = true;
            cx.rx_flow(false);
        }
        drop(out);
        self.shared.out_ready.notify_one();
    }

    fn closed(&self, _session: &mut Session, close: &RawClose) {
        if let Some(e) = &close.error {
            eprintln!("minimal-raw-netcat: the connection failed: {e}");
        }
        self.shared.finish();
    }
}

/// Reads stdin until it ends, handing chunks to the connection.
fn read_stdin(shared: Arc<Shared>, tx: mpsc::Sender<Vec<u8>>) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; STDIN_CHUNK];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("minimal-raw-netcat: reading stdin: {e}");
                break;
            }
        };
        // Waits while the connection has enough queued; fails once the connection is gone.
        if tx.blocking_send(buf[..n].to_vec()).is_err() {
            return;
        }
        if let Some(h) = shared.handle.get() {
            h.request_writable();
        }
    }
    drop(tx);
    // The connection sees the end of stdin (a disconnected channel) in its next `writable`.
    if let Some(h) = shared.handle.get() {
        h.request_writable();
    }
}

/// Writes replies to stdout until the connection is over and everything is written.
fn write_stdout(shared: Arc<Shared>) {
    let mut stdout = std::io::stdout().lock();
    loop {
        let mut out = shared.out();
        while out.buf.is_empty() && !out.done {
            out = shared
                .out_ready
                .wait(out)
                .unwrap_or_else(|e| e.into_inner());
        }
        if out.buf.is_empty() {
            return;
        }
        let data = std::mem::take(&mut out.buf);
        let resume = std::mem::take(&mut out.paused);
        drop(out);
        if resume {
            if let Some(h) = shared.handle.get() {
                h.rx_flow(true);
            }
        }
        if let Err(e) = stdout.write_all(&data).and_then(|()| stdout.flush()) {
            eprintln!("minimal-raw-netcat: writing stdout: {e}");
            shared.out().broken = true;
            if let Some(h) = shared.handle.get() {
                h.rx_flow(true);
            }
            return;
        }
    }
}

async fn run(args: &Args, shared: Arc<Shared>) -> Result<(), String> {
    let timeout = Duration::try_from_secs_f64(args.connect_timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            format!(
                "--connect-timeout {}: not a positive number of seconds",
                args.connect_timeout
            )
        })?;
    let builder = lws::raw::connect(&args.server)
        .map_err(|e| format!("--server {:?}: {e}", args.server))?
        .connect_timeout(timeout);
    let protocol = ProtocolHandle::raw("raw-netcat", Netcat { shared });
    let close = builder
        .run(&protocol)
        .await
        .map_err(|e| format!("connecting to {}: {e}", args.server))?;
    match close.error {
        // Already reported by `closed`.
        Some(_) => Err(String::new()),
        None => Ok(()),
    }
}

fn main() -> ExitCode {
    lws_examples::init_tracing();
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("minimal-raw-netcat: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };

    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    let shared = Arc::new(Shared {
        handle: OnceLock::new(),
        stdin: Mutex::new(rx),
        out: Mutex::new(Out::default()),
        out_ready: Condvar::new(),
    });
    // The stdin thread is left behind when the server closes first: it may sit in a read of a terminal
    // forever, and the process exits without it.
    let reader = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_stdin(reader, tx));
    let writer = shared.clone();
    let writer = std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || write_stdout(writer));
    let (writer, result) = match (spawned, writer) {
        (Ok(_), Ok(writer)) => (Some(writer), rt.block_on(run(&args, shared.clone()))),
        (Err(e), _) | (_, Err(e)) => (None, Err(format!("starting a thread: {e}"))),
    };
    // Lets the stdout thread finish (also when the connection never opened), then waits for it.
    shared.finish();
    if let Some(w) = writer {
        let _ = w.join();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("minimal-raw-netcat: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
