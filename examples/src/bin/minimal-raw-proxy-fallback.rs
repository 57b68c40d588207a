//! minimal-raw-proxy-fallback: one port for a web page and for something else, like libwebsockets'
//! `minimal-raw-proxy-fallback`. The vhost serves HTTP (a small built-in page, or the files of
//! `--docroot`); a connection whose first bytes are not HTTP is handed, with those bytes, to the built-in
//! raw proxy ([`lws::Vhost::fallback_listen_accept`] with [`lws::raw::Proxy`]), which forwards it to
//! `--onward` (by default the local SSH server). So a browser and `ssh` share the port.
//!
//! With `--tls-cert` and `--tls-key` the port serves HTTPS, and [`lws::Vhost::allow_non_tls`] lets
//! connections that do not start a TLS handshake reach the proxy.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-raw-proxy-fallback -- --port 7681
//!
//! Then try both on the same port:
//!
//!     curl -i http://127.0.0.1:7681/
//!     ssh -p 7681 localhost
//!
//! or over TLS with the repository's self-signed test certificate:
//!
//!     cargo run -p lws-examples --bin minimal-raw-proxy-fallback -- \
//!         --tls-cert tests/certs/localhost.cert.pem --tls-key tests/certs/localhost.key.pem
//!     curl -i --cacert tests/certs/localhost.cert.pem https://localhost:7681/
//!     ssh -p 7681 localhost
//!
//! Without an SSH server, forward to a listener started with `nc -l 127.0.0.1 1234`
//! (`--onward ipv4:127.0.0.1:1234`) and type into `nc 127.0.0.1 7681`. What counts is the first bytes: a
//! line that starts with an HTTP method and a space (`GET /...`), or that ends in an HTTP version, is taken
//! for HTTP (and answered 400 if it is not a valid request); anything else, such as `hello world` or an SSH
//! banner, goes to the proxy.
//!
//! `--port 0` picks a free port; the port used is printed as `listening on 127.0.0.1:PORT`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lws::raw::{Proxy, ProxyConfig, RawTarget};
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};

/// The proxy's protocol name.
const PROXY: &str = "raw-proxy";
/// The protocol serving the built-in page.
const PAGE: &str = "page";

/// The page served when no `--docroot` is given.
const INDEX: &str = "<!DOCTYPE html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>lws-rs minimal-raw-proxy-fallback</title></head>
<body>
<h1>lws-rs minimal-raw-proxy-fallback</h1>
<p>This page came over HTTP. Connections to this same port that do not start with HTTP (such as
<code>ssh -p PORT localhost</code>) are forwarded by the raw proxy instead.</p>
</body>
</html>
";

/// Serves HTTP, and forwards whatever is not HTTP on the same port.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Where non-HTTP connections are forwarded: `ipv4:host[:port]`, `ipv6:[addr][:port]`, `host:port` or
    /// `unix:/path`.
    #[arg(long, default_value = "ipv4:127.0.0.1:22")]
    onward: String,
    /// Milliseconds the onward connection may take to open.
    #[arg(long, default_value_t = 5000)]
    connect_timeout_ms: u64,
    /// Serve the files of this directory instead of the built-in page.
    #[arg(long)]
    docroot: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (non-TLS connections still reach the proxy).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Answers `/` with the built-in page.
struct Page;

impl Protocol for Page {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        let response = match cx.request().path() {
            "/" | "/index.html" => Response::html(200, INDEX),
            _ => Response::error(404),
        };
        cx.respond(response);
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
    let mut config = ProxyConfig::new(onward.clone());
    config.connect_timeout = Duration::from_millis(args.connect_timeout_ms);

    let mut vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .protocol(Proxy::new(config).into_handle(PROXY))
        .fallback_listen_accept(PROXY);
    vhost = match &args.docroot {
        Some(dir) => vhost.mount(Mount::files("/", dir).default_doc("index.html")),
        None => vhost
            .protocol(ProtocolHandle::new(PAGE, Page))
            .mount(Mount::callback("/", PAGE)),
    };
    let scheme = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => {
            vhost = vhost.tls(cert, key).allow_non_tls(true);
            "https"
        }
        _ => "http",
    };
    let context = Context::builder()
        .vhost(vhost)
        .build()
        .map_err(|e| e.to_string())?;
    for addr in context.local_addrs() {
        println!("listening on {addr}: {scheme}://{addr}/ for browsers, anything else forwarded to {onward}");
    }
    context
        .run_until_signal()
        .await
        .map_err(|e| format!("serving: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    lws_examples::init_tracing();
    lws_examples::exit_status("minimal-raw-proxy-fallback", run(Args::parse()).await)
}
