//! minimal-http-server-form-post: an HTML form submitted with POST; a protocol behind `/formtest` parses the
//! urlencoded body as it arrives with `lws_proto::form::Spa`, logs the values and redirects (303) to a static
//! page, like libwebsockets' `minimal-http-server-form-post`.
//!
//! Run from the repository root:
//!
//!     cargo run -p lws-examples --bin minimal-http-server-form-post -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ in a browser, or try:
//!
//!     curl -i -d 'text1=hello%20world&send=Send' http://127.0.0.1:7681/formtest   # 303, values logged
//!     curl -i http://127.0.0.1:7681/formtest                                      # 405: POST only

use clap::Parser;
use lws::{Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use lws_proto::form::{FileEvent, FormError, FormKind, FormLimits, Spa};

/// The form page and the page shown after submitting.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-form-post"
);
/// The form fields this example keeps.
const PARAMS: &[&str] = &["text1", "send"];

/// Serves a form and handles its POST submissions.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
}

/// The protocol behind `/formtest`; each request gets its own form parser.
struct FormPost;

/// This form has no file fields: refuse any file part.
fn no_files(_: FileEvent<'_>) -> Result<(), FormError> {
    Err(FormError::Rejected)
}

impl Protocol for FormPost {
    type Session = Option<Spa>;

    fn http(&self, spa: &mut Option<Spa>, cx: &mut HttpCtx<'_>) {
        if cx.request().method() != "POST" {
            cx.respond(Response::error(405).header("allow", "POST"));
            return;
        }
        match cx
            .request()
            .header("content-type")
            .map(FormKind::from_content_type)
        {
            Some(Ok(kind)) => *spa = Some(Spa::new(kind, PARAMS, FormLimits::default())),
            _ => cx.respond(Response::error(415)),
        }
    }

    fn http_body(&self, spa: &mut Option<Spa>, cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        if let Some(Err(e)) = spa.as_mut().map(|spa| spa.feed(chunk, &mut no_files)) {
            cx.respond(Response::error(e.status()));
        }
    }

    fn http_body_completion(&self, spa: &mut Option<Spa>, cx: &mut HttpCtx<'_>) {
        let Some(spa) = spa.as_mut() else { return };
        if let Err(e) = spa.finish(&mut no_files) {
            cx.respond(Response::error(e.status()));
            return;
        }
        for (name, value) in spa.params() {
            // `{:?}` keeps control characters sent by the client out of the log.
            match value {
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
        .protocol(ProtocolHandle::new("form-post", FormPost))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/formtest", "form-post"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving the form on http://{addr}/");
    }
    context.run_until_signal().await?;
    Ok(())
}
