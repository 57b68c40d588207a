//! minimal-http-server-form-post-file: a multipart form with a file upload, like libwebsockets'
//! `minimal-http-server-form-post-file`. The file is streamed into the server's current directory under a
//! name reduced to one harmless path component (`lws_proto::form::safe_filename`), never overwriting an
//! existing file, and refused beyond `--max-size` bytes; the answer is a page giving the name and size.
//!
//! Run from the repository root (uploads land in the directory you run it from):
//!
//!     cargo run -p lws-examples --bin minimal-http-server-form-post-file -- --port 7681
//!
//! Then open http://127.0.0.1:7681/ in a browser, or try (the first saves `./up.toml`, the second is refused
//! with 400 because `..` is no file name):
//!
//!     curl -i -F text=hi -F 'file=@Cargo.toml;filename=../up.toml' http://127.0.0.1:7681/formtest
//!     curl -i -F 'file=@/dev/null;filename=..' http://127.0.0.1:7681/formtest

use std::fs::File;
use std::io::Write;

use clap::Parser;
use lws::{html_escape, Context, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use lws_proto::form::{safe_filename, FileEvent, FormError, FormKind, FormLimits, Spa};

/// The form page.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-form-post-file"
);
/// The form fields this example keeps (file parts go to the upload callback).
const PARAMS: &[&str] = &["text", "upload"];

/// Serves an upload form and saves uploaded files into the current directory.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Largest file accepted, in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_size: u64,
}

/// The protocol behind `/formtest`.
struct FormPostFile {
    max_size: u64,
}

/// Per-request state: the form parser and the upload.
#[derive(Default)]
struct Session {
    spa: Option<Spa>,
    upload: Option<Upload>,
}

/// A file being saved (`file` is `None` once complete); an incomplete one is removed when dropped.
struct Upload {
    name: String,
    file: Option<File>,
    len: u64,
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.name);
        }
    }
}

/// Handles the file parts (small blocking writes to a local disk, as in the C example).
fn on_file(upload: &mut Option<Upload>, ev: FileEvent<'_>) -> Result<(), FormError> {
    match (ev, upload.as_mut()) {
        (FileEvent::Open { filename, .. }, None) => {
            let name = safe_filename(filename).ok_or(FormError::Rejected)?;
            let file = File::create_new(&name).map_err(|_| FormError::Rejected)?;
            println!("receiving {name:?}");
            let file = Some(file);
            *upload = Some(Upload { name, file, len: 0 });
        }
        (FileEvent::Data(d), Some(u)) => {
            u.len += d.len() as u64;
            let file = u.file.as_mut().ok_or(FormError::MalformedPart)?;
            file.write_all(d).map_err(|_| FormError::Rejected)?;
        }
        (FileEvent::Close, Some(u)) => u.file = None,
        // A second file, or data without a file: this form has one file field.
        _ => return Err(FormError::TooManyFields),
    }
    Ok(())
}

/// The answer to a refused upload.
fn refused(e: FormError) -> Response {
    let why = match &e {
        FormError::Rejected => "unsafe file name, file exists already, or write failed".to_string(),
        other => other.to_string(),
    };
    Response::text(e.status(), format!("upload refused: {why}\n"))
}

impl Protocol for FormPostFile {
    type Session = Session;

    fn http(&self, s: &mut Session, cx: &mut HttpCtx<'_>) {
        if cx.request().method() != "POST" {
            cx.respond(Response::error(405).header("allow", "POST"));
            return;
        }
        match cx
            .request()
            .header("content-type")
            .map(FormKind::from_content_type)
        {
            Some(Ok(kind)) => {
                let limits = FormLimits::default().max_file_size(Some(self.max_size));
                s.spa = Some(Spa::new(kind, PARAMS, limits));
                // Room for the other fields and the multipart framing around the file.
                cx.set_body_limit(self.max_size.saturating_add(64 * 1024));
            }
            _ => cx.respond(Response::error(415)),
        }
    }

    fn http_body(&self, s: &mut Session, cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        let Some(spa) = s.spa.as_mut() else { return };
        if let Err(e) = spa.feed(chunk, &mut |ev| on_file(&mut s.upload, ev)) {
            s.upload = None;
            cx.respond(refused(e));
        }
    }

    fn http_body_completion(&self, s: &mut Session, cx: &mut HttpCtx<'_>) {
        let Some(spa) = s.spa.as_mut() else { return };
        if let Err(e) = spa.finish(&mut |ev| on_file(&mut s.upload, ev)) {
            s.upload = None;
            cx.respond(refused(e));
            return;
        }
        let Some(upload) = s.upload.as_ref().filter(|u| u.file.is_none()) else {
            cx.respond(Response::text(400, "no file in the form\n"));
            return;
        };
        println!("saved {:?}, {} bytes", upload.name, upload.len);
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Upload done</title>\
             <link rel=\"stylesheet\" href=\"/example.css\"></head><body><main>\n<h1>Upload done</h1>\n\
             <p id=\"file-result\">Saved <code>{}</code>: {} bytes</p>\n<p>text: <code>{}</code></p>\n\
             <p><a href=\"/\">Back to the form</a></p></main></body></html>\n",
            html_escape(&upload.name),
            upload.len,
            html_escape(spa.get("text").unwrap_or(""))
        );
        cx.respond(Response::html(200, page));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let protocol = FormPostFile {
        max_size: args.max_size,
    };
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("form-post-file", protocol))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/formtest", "form-post-file"));
    let context = Context::builder().vhost(vhost).build()?;
    let cwd = std::env::current_dir()?;
    for addr in context.local_addrs() {
        println!(
            "serving the upload form on http://{addr}/, saving files into {}",
            cwd.display()
        );
    }
    context.run_until_signal().await?;
    Ok(())
}
