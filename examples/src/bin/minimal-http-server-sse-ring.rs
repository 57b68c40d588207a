//! minimal-http-server-sse-ring: Server-Sent Events where every client follows one shared ring, like
//! libwebsockets' `minimal-http-server-sse-ring`.
//!
//! A producer task writes an event into a ring of `--slots` events every `--interval-ms`; each client of
//! `/sse` follows the ring from its own tail. Each event is encoded once for everyone. A client that falls
//! more than the ring behind is dropped (its stream ends) rather than buffered for; a browser then
//! reconnects with `Last-Event-ID` and resumes from the oldest event the ring still holds.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-sse-ring -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ in several tabs, or try:
//!
//!     curl -N http://127.0.0.1:7681/sse
//!     curl -N -H 'Last-Event-ID: 3' http://127.0.0.1:7681/sse     # resumes after 3 if the ring holds it

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use lws::http::sse::Event;
use lws::http::sse_ring::EventRing;
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};

/// The static files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-sse-ring"
);

/// Serves static files and the ring's events at `/sse`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Events the ring holds.
    #[arg(long, default_value_t = 8)]
    slots: usize,
    /// Milliseconds between events.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

/// The protocol behind `/sse`: each request follows the ring on a task of its own.
struct Follow {
    ring: EventRing,
}

impl Protocol for Follow {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        let last_seen = cx
            .request()
            .last_event_id()
            .and_then(|id| id.parse::<u64>().ok());
        // Two events may wait for a client's connection; beyond that it falls behind in the ring.
        let (response, events) = Response::sse_with_keep_alive(2, Duration::from_secs(15));
        cx.respond(response);
        let follow = self.ring.follow(events, last_seen);
        tokio::spawn(async move {
            let end = follow.await;
            println!("a client stopped following the ring: {end:?}");
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    lws_examples::init_tracing();
    let args = Args::parse();
    lws_examples::exit_status("minimal-http-server-sse-ring", run(args).await)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let ring = EventRing::new(args.slots);
    let producer = ring.clone();
    let interval = Duration::from_millis(args.interval_ms.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            producer.push(Event::data(format!("tick at {ms} ms since the Unix epoch")));
        }
    });
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("ring", Follow { ring }))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::files("/page", lws_examples::SSE_PAGE))
        .mount(Mount::callback("/sse", "ring"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on http://{addr}/ and the ring on http://{addr}/sse");
    }
    context.run_until_signal().await?;
    Ok(())
}
