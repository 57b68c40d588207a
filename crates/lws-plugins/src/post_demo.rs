//! `protocol-post-demo`: parses urlencoded or multipart form posts and answers with an HTML table of what
//! arrived, HTML-escaped; an uploaded file is streamed to a temporary file, measured, and removed.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use lws::{html_escape, HttpCtx, Protocol, ProtocolInitError, Pvo, Response};
use lws_proto::form::{FileEvent, FormError, FormKind, FormLimits, Spa};

/// The form parameters the demo reports, as in libwebsockets' post demo.
const PARAMS: &[&str] = &["text", "send", "file", "upload"];

/// The post demo protocol; per-vhost options: `max-file-size` (bytes, default 100000) and `upload-dir`
/// (default the system temp dir).
#[derive(Debug, Clone)]
pub struct PostDemo {
    max_file_size: u64,
    upload_dir: PathBuf,
}

/// Per-request state: the form parser and the upload in progress.
#[derive(Debug, Default)]
pub struct PostSession {
    spa: Option<Spa>,
    upload: Option<Upload>,
    error: Option<FormError>,
}

#[derive(Debug)]
struct Upload {
    path: PathBuf,
    file: Option<File>,
    filename: String,
    len: u64,
    done: bool,
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

static UPLOAD_SEQ: AtomicU64 = AtomicU64::new(0);

impl PostDemo {
    /// Builds the protocol from its per-vhost options.
    pub fn from_pvo(pvo: &Pvo) -> Result<PostDemo, ProtocolInitError> {
        let max_file_size = match pvo.get("max-file-size") {
            Some(v) => v.parse().map_err(|_| ProtocolInitError {
                protocol: "protocol-post-demo".into(),
                message: format!("max-file-size {v:?} is not a number of bytes"),
            })?,
            None => 100_000,
        };
        let upload_dir = pvo
            .get("upload-dir")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        Ok(PostDemo {
            max_file_size,
            upload_dir,
        })
    }

    fn render(&self, s: &PostSession) -> Response {
        let mut rows = String::new();
        if let Some(spa) = &s.spa {
            for (name, value) in spa.params() {
                if let Some(v) = value {
                    rows.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        html_escape(name),
                        v.len(),
                        html_escape(v)
                    ));
                }
            }
        }
        let file = match &s.upload {
            Some(u) if u.done => format!(
                "<p id=\"file-result\">Uploaded file <code>{}</code>: {} bytes</p>\n",
                html_escape(&u.filename),
                u.len
            ),
            _ => String::new(),
        };
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Form results</title>\
             <link rel=\"stylesheet\" href=\"/demo.css\"></head><body><main>\n\
             <h1>Form results (after urldecoding)</h1>\n<table id=\"form-results\">\n\
             <tr><th>Name</th><th>Length</th><th>Value</th></tr>\n{rows}</table>\n{file}\
             <p><a href=\"/\">Back to the demo</a></p></main></body></html>\n"
        );
        Response::html(200, page)
    }

    fn on_file(&self, upload: &mut Option<Upload>, ev: FileEvent<'_>) -> Result<(), FormError> {
        match ev {
            FileEvent::Open { filename, .. } => {
                if upload.is_some() {
                    return Err(FormError::TooManyFields);
                }
                let seq = UPLOAD_SEQ.fetch_add(1, Ordering::Relaxed);
                let path = self
                    .upload_dir
                    .join(format!("post-file-{}-{seq}", std::process::id()));
                let file = File::create(&path).map_err(|_| FormError::Rejected)?;
                *upload = Some(Upload {
                    path,
                    file: Some(file),
                    filename: filename.to_string(),
                    len: 0,
                    done: false,
                });
            }
            FileEvent::Data(d) => {
                let Some(u) = upload.as_mut() else {
                    return Err(FormError::MalformedPart);
                };
                u.len += d.len() as u64;
                if u.len > self.max_file_size {
                    return Err(FormError::FileTooLarge);
                }
                if let Some(f) = u.file.as_mut() {
                    f.write_all(d).map_err(|_| FormError::Rejected)?;
                }
            }
            FileEvent::Close => {
                if let Some(u) = upload.as_mut() {
                    u.file = None;
                    u.done = true;
                }
            }
        }
        Ok(())
    }
}

impl Protocol for PostDemo {
    type Session = PostSession;

    fn http(&self, s: &mut PostSession, cx: &mut HttpCtx<'_>) {
        let req = cx.request();
        if req.method() != "POST" {
            cx.respond(Response::error(405).header("allow", "POST"));
            return;
        }
        let kind = req.header("content-type").map(FormKind::from_content_type);
        match kind {
            Some(Ok(kind)) => {
                let limits = FormLimits::default().max_file_size(Some(self.max_file_size));
                s.spa = Some(Spa::new(kind, PARAMS, limits));
                cx.set_body_limit(self.max_file_size + 64 * 1024);
            }
            _ => cx.respond(Response::error(415)),
        }
    }

    fn http_body(&self, s: &mut PostSession, cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        let Some(spa) = s.spa.as_mut() else { return };
        let upload = &mut s.upload;
        if let Err(e) = spa.feed(chunk, &mut |ev| self.on_file(upload, ev)) {
            cx.respond(Response::error(e.status()));
            s.error = Some(e);
        }
    }

    fn http_body_completion(&self, s: &mut PostSession, cx: &mut HttpCtx<'_>) {
        let Some(spa) = s.spa.as_mut() else { return };
        let upload = &mut s.upload;
        if let Err(e) = spa.finish(&mut |ev| self.on_file(upload, ev)) {
            cx.respond(Response::error(e.status()));
            return;
        }
        cx.respond(self.render(s));
    }
}
