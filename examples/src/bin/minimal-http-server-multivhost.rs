//! minimal-http-server-multivhost: three vhosts, like libwebsockets' `minimal-http-server-multivhost`.
//! `localhost1` has port P to itself; `localhost2` and `localhost3` share port P+1 and are told apart by the
//! request's `Host` header (the first one, `localhost2`, is the default for unknown names).
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-multivhost -- --port 7681
//!
//! Then try:
//!
//!     curl http://127.0.0.1:7681/
//!     curl -H 'Host: localhost2' http://127.0.0.1:7682/
//!     curl -H 'Host: localhost3' http://127.0.0.1:7682/
//!     curl --resolve localhost3:7682:127.0.0.1 http://localhost3:7682/

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use lws::{Context, Mount, Vhost};

/// The parent of the three vhosts' directories.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-multivhost"
);

/// Serves three vhosts on two ports.
#[derive(Parser)]
struct Args {
    /// Port of `localhost1`; `localhost2` and `localhost3` listen on the next one.
    #[arg(long, default_value_t = 7681)]
    port: u16,
    /// Local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    interface: IpAddr,
}

/// A vhost serving its own subdirectory of the mount origin.
fn vhost(name: &str, addr: SocketAddr) -> Vhost {
    Vhost::new(name)
        .listen(addr)
        .strict_security_headers(true)
        .mount(Mount::files("/", format!("{ORIGIN}/{name}")).default_doc("index.html"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();
    let shared_port = args
        .port
        .checked_add(1)
        .ok_or("--port must be below 65535")?;
    let first = SocketAddr::new(args.interface, args.port);
    let shared = SocketAddr::new(args.interface, shared_port);

    let context = Context::builder()
        .vhost(vhost("localhost1", first))
        .vhost(vhost("localhost2", shared))
        .vhost(vhost("localhost3", shared))
        .build()?;
    println!("localhost1 on http://{first}/");
    println!("localhost2 and localhost3 on http://{shared}/, picked by the Host header");
    context.run_until_signal().await?;
    Ok(())
}
