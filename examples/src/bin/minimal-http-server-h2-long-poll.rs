//! minimal-http-server-h2-long-poll: HTTP/2 streams held open ("immortal" in libwebsockets' words) and
//! answered at intervals, like libwebsockets' `minimal-http-server-h2-long-poll`.
//!
//! The connection's HTTP/2 idle timeout is 5 s here, and `/poll` answers only every `--interval-ms`
//! (10 s by default): an open stream is never ended for idleness, even after the client closed its side
//! (END_STREAM on the GET), and the connection holding it is not sent away while it is open. The answers
//! are Server-Sent Events, so the page can use `EventSource`.
//!
//! By default it uses the SELF-SIGNED TEST CERTIFICATE shipped in `tests/certs/` (its private key is public:
//! it protects nothing). Pass `--cert` and `--key` to use your own PEM files.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-h2-long-poll -- --port 7681
//!
//! Then open https://localhost:7681/ (accept the test certificate) or try:
//!
//!     curl -N --http2 --cacert tests/certs/localhost.cert.pem https://localhost:7681/poll

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use lws::http::sse::Event;
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use lws_proto::h2::H2Config;

/// The static files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-h2-long-poll"
);

/// The HTTP/2 idle timeout of this example's connections, shorter than the default interval on purpose.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves static files over HTTPS (HTTP/2 by ALPN) and long polls at `/poll`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Milliseconds between the answers on a held stream.
    #[arg(long, default_value_t = 10_000)]
    interval_ms: u64,
    #[command(flatten)]
    tls: lws_examples::TlsArgs,
}

/// The protocol behind `/poll`: holds the stream and answers on it every interval.
struct LongPoll {
    interval: Duration,
}

impl Protocol for LongPoll {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        // No keep-alive comments: nothing but the answers crosses the connection.
        let (response, answers) = Response::sse(1);
        cx.respond(response);
        let interval = self.interval;
        tokio::spawn(async move {
            for n in 0u64.. {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    // The client left (reset the stream or closed the connection): stop at once.
                    () = answers.closed() => return,
                }
                let secs = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let answer = Event::data(format!("answer {n} at {secs} s since the Unix epoch"));
                if answers.send(&answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    lws_examples::init_tracing();
    let args = Args::parse();
    lws_examples::exit_status("minimal-http-server-h2-long-poll", run(args).await)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let (cert, key) = args.tls.cert_and_key();
    let h2 = H2Config {
        idle_timeout: IDLE_TIMEOUT,
        ..H2Config::default()
    };
    let poll = LongPoll {
        interval: Duration::from_millis(args.interval_ms.max(1)),
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .tls(cert, key)
        .http2(h2)
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("long-poll", poll))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::files("/page", lws_examples::SSE_PAGE))
        .mount(Mount::callback("/poll", "long-poll"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on https://{addr}/ with long polls on https://{addr}/poll");
    }
    context.run_until_signal().await?;
    Ok(())
}
