//! lwsws, the lws-rs web server: serves libwebsockets-format JSON configurations, or with no configuration
//! the built-in demo site on http://localhost:7681.

mod config;
mod demo;
mod privdrop;
mod serve;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lws::{Context, ContextBuilder, Mount, Vhost};

/// Command line of lwsws.
#[derive(Debug, Parser)]
#[command(
    name = "lwsws",
    version,
    about = "lws-rs web server (libwebsockets lwsws configuration format)"
)]
struct Args {
    /// Configuration directory holding `conf` and `conf.d/*`; without it the built-in demo site is served.
    #[arg(short = 'c', long = "config-dir")]
    config_dir: Option<PathBuf>,
    /// Port for the demo site or --docroot (0 picks a free one).
    #[arg(long, default_value_t = 7681)]
    port: u16,
    /// Address to bind for the demo site or --docroot (default: localhost, both 127.0.0.1 and ::1).
    #[arg(long)]
    interface: Option<IpAddr>,
    /// Serve this directory at / instead of the demo site.
    #[arg(long)]
    docroot: Option<PathBuf>,
    /// PEM certificate chain: serve TLS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Service threads (the config's `count-threads` wins under -c).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Log filter, e.g. `info`, `debug`, `lws=trace` (RUST_LOG works too).
    #[arg(short = 'd', long = "log", default_value = "info")]
    log: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| args.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lwsws: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The protocols of the built-in demo site.
const DEMO_PROTOCOLS: &[&str] = &[
    "dumb-increment-protocol",
    "lws-mirror-protocol",
    "lws-status",
    "lws-echo",
    "protocol-post-demo",
];

/// What the process serves, decided before the runtime starts.
struct Plan {
    builder: ContextBuilder,
    threads: usize,
    identity: privdrop::Identity,
    banner: Option<String>,
    /// Keeps the extracted demo files alive while serving.
    _demo_dir: Option<tempfile::TempDir>,
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let plan = match &args.config_dir {
        Some(dir) => from_config(dir, &args)?,
        None => standalone(&args)?,
    };
    // Service threads are the context's business (one event loop per thread, SO_REUSEPORT listeners); the
    // runtime here only drives the first one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let ctx = plan.builder.threads(plan.threads).build()?;
        privdrop::drop_privileges(&plan.identity)?;
        if let Some(banner) = &plan.banner {
            let port = ctx.local_addrs().first().map(|a| a.port()).unwrap_or(0);
            println!(
                "lwsws: serving {}",
                banner.replace("{port}", &port.to_string())
            );
        }
        for (name, listen) in ctx.listeners() {
            tracing::info!("vhost {name} listening on {listen:?}");
        }
        ctx.run_until_signal().await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    drop(plan._demo_dir);
    Ok(())
}

fn from_config(dir: &std::path::Path, args: &Args) -> Result<Plan, Box<dyn std::error::Error>> {
    let config = config::load_dir(dir)?;
    let builder = serve::apply(&config, &lws_plugins::registry(), Context::builder())?;
    let g = &config.global;
    let identity = privdrop::Identity {
        uid: g.uid,
        gid: g.gid,
        username: g.username.clone(),
        groupname: g.groupname.clone(),
    };
    let threads = g.count_threads.map(|n| n as usize).unwrap_or(args.threads);
    if !g.reject_service_keywords.is_empty() {
        tracing::warn!(
            "reject-service-keywords is not supported by this build yet and has no effect"
        );
    }
    Ok(Plan {
        builder,
        threads,
        identity,
        banner: None,
        _demo_dir: None,
    })
}

/// The demo site, or a plain docroot, on the command-line port.
fn standalone(args: &Args) -> Result<Plan, Box<dyn std::error::Error>> {
    let port = if args.port == 0 {
        free_port(args.interface)?
    } else {
        args.port
    };
    // Compression is on as it is for configured vhosts (a libwebsockets built with stream compression).
    let mut vhost = Vhost::new("localhost").compression(lws::Compression::on());
    for addr in bind_addrs(args.interface, port) {
        vhost = vhost.listen(addr);
    }
    let tls = args.tls_cert.is_some();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        vhost = vhost.tls(cert, key);
    }
    let mut demo_dir = None;
    vhost = match &args.docroot {
        Some(root) => vhost
            .mount(Mount::files("/", root).default_doc("index.html"))
            .protocol(
                lws_plugins::registry()
                    .instantiate("lws-echo", &lws::Pvo::default())
                    .ok_or("lws-echo missing from the plugin registry")??,
            ),
        None => {
            let dir = tempfile::Builder::new().prefix("lwsws-demo-").tempdir()?;
            demo::extract(dir.path())?;
            let mut v = vhost
                .strict_security_headers(true)
                .mount(Mount::files("/", dir.path()).default_doc("index.html"))
                .mount(Mount::callback("/formtest", "protocol-post-demo"));
            // The test-server protocols, in libwebsockets' order: the first serves upgrades without a
            // subprotocol.
            let registry = lws_plugins::registry();
            for name in DEMO_PROTOCOLS {
                let p = registry
                    .instantiate(name, &lws::Pvo::default())
                    .ok_or_else(|| format!("{name} missing from the plugin registry"))??;
                v = v.protocol(p);
            }
            demo_dir = Some(dir);
            v
        }
    };
    let host = match args.interface {
        Some(ip) if ip.is_ipv6() => format!("[{ip}]"),
        Some(ip) => ip.to_string(),
        None => "localhost".to_string(),
    };
    let scheme = if tls { "https" } else { "http" };
    Ok(Plan {
        builder: Context::builder().vhost(vhost),
        threads: args.threads,
        identity: privdrop::Identity::default(),
        banner: Some(format!("{scheme}://{host}:{{port}}/")),
        _demo_dir: demo_dir,
    })
}

/// `localhost` means both loopback addresses (browsers try either), ::1 only where IPv6 exists.
fn bind_addrs(interface: Option<IpAddr>, port: u16) -> Vec<SocketAddr> {
    match interface {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => {
            let mut v = vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)];
            if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok() {
                v.push(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port));
            }
            v
        }
    }
}

/// A port free on every address we are about to bind (for `--port 0` with two loopback addresses).
fn free_port(interface: Option<IpAddr>) -> std::io::Result<u16> {
    let ip = interface.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let l = std::net::TcpListener::bind((ip, 0))?;
    l.local_addr().map(|a| a.port())
}
