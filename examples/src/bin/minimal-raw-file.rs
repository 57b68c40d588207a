//! minimal-raw-file: a FIFO or character device served by the event loop, like libwebsockets'
//! `minimal-raw-file` (`lws_adopt_descriptor_vhost` with `LWS_ADOPT_RAW_FILE_DESC`). The file is opened
//! with std and handed over with [`lws::raw::adopt_fd`]; a raw protocol prints whatever arrives.
//!
//! Only descriptors the kernel can wait on are accepted: FIFOs, pipes, terminals, serial ports and other
//! character devices. Regular files are refused (epoll cannot wait on them: they are always "ready"); read
//! those with `std::fs` instead.
//!
//! Without a path it makes a FIFO in a new temporary directory (with the `mkfifo` command) and removes it
//! on Ctrl-C. Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-raw-file
//!
//! It prints `reading /tmp/lws-raw-file-NNN/fifo`; then, in another terminal:
//!
//!     echo hello > /tmp/lws-raw-file-NNN/fifo
//!
//! Each write shows up. A FIFO is opened for reading and writing, so that it stays open between writers
//! (opened read-only, the first writer to close would end it). A device is given as a path:
//!
//!     cargo run -p lws-examples --bin minimal-raw-file -- /dev/ttyUSB0
//!
//! and the example exits when the device hangs up. `cargo run ... -- Cargo.toml` shows the refusal.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use lws::raw::{RawClose, RawCtx, RawProtocol};
use lws::ProtocolHandle;

/// Prints what arrives on a FIFO or character device.
#[derive(Parser)]
struct Args {
    /// The FIFO or character device to read (default: a new FIFO in a temporary directory).
    path: Option<PathBuf>,
}

/// Prints what it reads.
struct Printer;

/// Per-descriptor state.
#[derive(Default)]
struct Read {
    bytes: usize,
}

impl RawProtocol for Printer {
    type Session = Read;

    fn rx(&self, read: &mut Read, _cx: &mut RawCtx<'_>, data: &[u8]) {
        read.bytes += data.len();
        // Short lines from a person typing: a blocking write to the terminal is harmless here.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(String::from_utf8_lossy(data).as_bytes());
        let _ = out.flush();
    }

    fn closed(&self, read: &mut Read, close: &RawClose) {
        match &close.error {
            Some(e) => println!("ended after {} bytes: {e}", read.bytes),
            None => println!("ended after {} bytes", read.bytes),
        }
    }
}

/// A FIFO made for this run, removed with its directory when dropped.
struct TempFifo {
    dir: PathBuf,
    path: PathBuf,
}

impl TempFifo {
    fn create() -> Result<TempFifo, String> {
        let dir = std::env::temp_dir().join(format!("lws-raw-file-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let fifo = TempFifo {
            path: dir.join("fifo"),
            dir,
        };
        let status = std::process::Command::new("mkfifo")
            .arg("-m")
            .arg("600")
            .arg(&fifo.path)
            .status()
            .map_err(|e| format!("running mkfifo: {e}"))?;
        if !status.success() {
            return Err(format!("mkfifo {}: {status}", fifo.path.display()));
        }
        Ok(fifo)
    }
}

impl Drop for TempFifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Opens `path` for adoption: read-write when possible (a FIFO then never sees its writers' end; a
/// serial port wants it anyway), else read-only.
fn open(path: &Path) -> Result<File, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(format!("{} is a directory", path.display()));
    }
    if !(kind.is_fifo() || kind.is_char_device() || kind.is_file()) {
        return Err(format!(
            "{}: not a FIFO or character device",
            path.display()
        ));
    }
    // A regular file is opened too, so that the refusal comes from `adopt_fd` itself.
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            File::open(path).map_err(|e| format!("opening {}: {e}", path.display()))
        }
        Err(e) => Err(format!("opening {}: {e}", path.display())),
    }
}

async fn run(args: Args) -> Result<(), String> {
    // The temporary FIFO, if any, lives until `run` returns.
    let (path, fifo) = match args.path {
        Some(p) => (p, None),
        None => {
            let f = TempFifo::create()?;
            (f.path.clone(), Some(f))
        }
    };
    let file = open(&path)?;
    let protocol = ProtocolHandle::raw("raw-file", Printer);
    let adopted = match lws::raw::adopt_fd(OwnedFd::from(file), &protocol) {
        Ok(a) => a,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(format!(
                "{}: {e}: the event loop cannot wait on a regular file; read it with std::fs",
                path.display()
            ))
        }
        Err(e) => return Err(format!("adopting {}: {e}", path.display())),
    };
    println!("reading {}", path.display());
    if fifo.is_some() {
        println!("try: echo hello > {}", path.display());
    }
    tokio::select! {
        close = adopted => match close.error {
            Some(e) => Err(format!("{}: {e}", path.display())),
            None => Ok(()),
        },
        signal = tokio::signal::ctrl_c() => signal.map_err(|e| format!("waiting for Ctrl-C: {e}")),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-file", run(Args::parse()).await)
}
