//! What the example programs share: the `--port` / `--interface` options every server example takes.

use std::net::{IpAddr, SocketAddr};

/// Where an example listens, as `--port` (default 7681, libwebsockets' test port; 0 picks a free one) and
/// `--interface` (default 127.0.0.1).
#[derive(clap::Args, Debug, Clone)]
pub struct ListenArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 7681)]
    pub port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub interface: IpAddr,
}

impl ListenArgs {
    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.interface, self.port)
    }
}

/// Logs to stderr, filtered by `RUST_LOG`, as every example does (stdout carries the example's own output).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}

/// The exit status of an example that ran `result`: failure after printing `name: error` to stderr.
pub fn exit_status<E: std::fmt::Display>(
    name: &str,
    result: Result<(), E>,
) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
