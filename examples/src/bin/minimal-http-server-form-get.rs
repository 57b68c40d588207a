//! minimal-http-server-form-get: an HTML form submitted with GET; a protocol behind `/formtest` reads the
//! urlargs, logs them and redirects (303) to a static page, like libwebsockets'
//! `minimal-http-server-form-get`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-form-get -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ in a browser, or try:
//!
//!     curl -i 'http://127.0.0.1:7681/formtest?text1=hello+world&send=Send'   # 303, values logged

use clap::Parser;
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};

/// The form page and the page shown after submitting.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-form-get"
);
/// The form fields this example reads.
const PARAMS: &[&str] = &["text1", "send"];

/// Serves a form and handles its GET submissions.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

/// The protocol behind `/formtest`.
struct FormGet;

impl Protocol for FormGet {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        for name in PARAMS {
            // `{:?}` keeps control characters sent by the client out of the log.
            match cx.request().arg(name) {
                Some(value) => println!("{name}: {value:?}"),
                None => println!("{name}: (none)"),
            }
        }
        cx.respond(Response::redirect(303, "/after-form.html"));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("form-get", FormGet))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/formtest", "form-get"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving the form on http://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
