//! minimal-http-client-post: posts a `multipart/form-data` form with text fields and a file, like
//! libwebsockets' `minimal-http-client-post`, and prints the answer.
//!
//!     cargo run -p lws-examples --bin minimal-http-client-post -- http://127.0.0.1:7681/formtest
//!     cargo run -p lws-examples --bin minimal-http-client-post -- http://127.0.0.1:7681/formtest --file Cargo.toml
//!
//! Without `--file` a small generated file is sent. The status goes to stderr, the body to stdout; exits 0 on
//! a 2xx or 3xx answer.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use lws::client::{self, Multipart};

/// Posts a multipart form.
#[derive(Parser)]
struct Args {
    /// Where to post.
    url: String,
    /// The file to upload (default: generated text).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Accept a self-signed server certificate (test servers only).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let (name, data) = match &args.file {
        Some(path) => match std::fs::read(path) {
            Ok(d) => (
                path.file_name()
                    .map_or("upload".into(), |n| n.to_string_lossy().into_owned()),
                d,
            ),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
        },
        None => (
            "generated.txt".to_string(),
            (0..100)
                .map(|i| format!("line {i}\n"))
                .collect::<String>()
                .into_bytes(),
        ),
    };
    let size = data.len();
    let form = Multipart::new()
        .text("text", "hello from minimal-http-client-post")
        .text("send", "Send")
        .file("file", &name, "application/octet-stream", data);
    let mut req = client::http(&args.url)
        .method("POST")
        .multipart(form)
        .follow_redirects(0)
        .timeout(Duration::from_secs(args.timeout));
    if args.insecure {
        req = req.allow_self_signed_for_tests();
    }
    eprintln!("posting {name} ({size} bytes) to {}", args.url);
    let result = async {
        let resp = req.send().await?;
        let status = resp.status();
        Ok::<_, client::ClientError>((status, resp.text().await?))
    }
    .await;
    match result {
        Ok((status, body)) => {
            eprintln!("status {status}");
            println!("{body}");
            if !(200..400).contains(&status) {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{}: {e}", args.url);
            std::process::exit(1);
        }
    }
}
