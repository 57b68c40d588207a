//! minimal-http-server-sse: static files plus a Server-Sent Events stream, like libwebsockets'
//! `minimal-http-server-sse`.
//!
//! `/sse` sends a `counter` event every second, each with its number as id. A browser that loses the
//! stream reconnects by itself with `Last-Event-ID`, and the counter continues after that id.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-sse -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ or try:
//!
//!     curl -N http://127.0.0.1:7681/sse                                  # the raw event stream
//!     curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:7681/sse           # continues at 42
//!     curl -N --http2-prior-knowledge http://127.0.0.1:7681/sse          # the same over HTTP/2

use std::time::Duration;

use clap::Parser;
use lws::http::sse::Event;
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};

/// The static files this example serves.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-sse"
);

/// Serves static files and an event stream at `/sse`.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Milliseconds between events.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// End each stream after this many events (the browser then reconnects with Last-Event-ID); 0: never.
    #[arg(long, default_value_t = 0)]
    end_after: u64,
}

/// The protocol behind `/sse`.
struct Counter {
    interval: Duration,
    end_after: u64,
}

impl Protocol for Counter {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        // A reconnecting browser continues after the last id it saw; anything unparsable starts over.
        let first = cx
            .request()
            .last_event_id()
            .and_then(|id| id.parse::<u64>().ok())
            .map_or(0, |id| id.saturating_add(1));
        let (response, events) = Response::sse_with_keep_alive(4, Duration::from_secs(15));
        cx.respond(response);
        let (interval, end_after) = (self.interval, self.end_after);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            for n in first.. {
                tick.tick().await;
                let Ok(event) = Event::data(format!("counter {n}"))
                    .event("counter")
                    .and_then(|e| e.id(n.to_string()))
                else {
                    return;
                };
                // Tell the browser to come back quickly when the stream ends.
                let event = if n == first {
                    event.retry(Duration::from_millis(500))
                } else {
                    event
                };
                // An error means the client went away: stop producing.
                if events.send(&event).await.is_err() {
                    return;
                }
                if end_after > 0 && n + 1 - first >= end_after {
                    // Dropping the sender ends the stream.
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
    lws_examples::exit_status("minimal-http-server-sse", run(args).await)
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let counter = Counter {
        interval: Duration::from_millis(args.interval_ms.max(1)),
        end_after: args.end_after,
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("counter", counter))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::files("/page", lws_examples::SSE_PAGE))
        .mount(Mount::callback("/sse", "counter"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving {ORIGIN} on http://{addr}/ and events on http://{addr}/sse");
    }
    context.run_until_signal().await?;
    Ok(())
}
