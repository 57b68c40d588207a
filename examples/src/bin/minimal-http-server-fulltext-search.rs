//! minimal-http-server-fulltext-search: a search page with as-you-type suggestions over a real corpus, like
//! libwebsockets' `minimal-http-server-fulltext-search` with `protocol_fulltext_demo`.
//!
//! On first run the example builds an [`lws_fts`] index of the text files under `--corpus` (default the
//! Linux system-call man pages of Debian's `manpages` package, `/usr/share/man/man2`; `.gz` pages are
//! decompressed with `gzip -dc` into a cache directory beside the index so matching lines can be quoted).
//! If the corpus directory is missing it indexes the small canned corpus of the `lws-fts` tests instead,
//! and says so. Later runs reuse the index (delete it, or pass `--rebuild`, to build it again).
//!
//! Run from the repository root:
//!
//!     cargo run --release -p lws-examples --bin minimal-http-server-fulltext-search -- --port 7681
//!     cargo run --release -p lws-examples --bin minimal-http-server-fulltext-search -- \
//!         --corpus /usr/share/man/man3 --index /tmp/man3.idx
//!
//! Then open http://127.0.0.1:7681/, or try:
//!
//!     curl http://127.0.0.1:7681/fts/a/sock      # autocomplete JSON
//!     curl http://127.0.0.1:7681/fts/r/socket    # files and lines JSON

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use lws::{Context, Mount, ProtocolHandle, Pvo, Vhost};
use lws_fts::IndexBuilder;
use lws_plugins::FulltextDemo;

/// The static page, script and style.
const ORIGIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/mount-origin/minimal-http-server-fulltext-search"
);

/// The fallback corpus: the canned test corpus of the `lws-fts` crate.
const CANNED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/lws-fts/tests/corpus"
);

/// Serves a search page and the `/fts` JSON protocol over an index of a text corpus.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    listen: lws_examples::ListenArgs,
    /// Directory of text (or gzipped text) files to index on first run.
    #[arg(long, default_value = "/usr/share/man/man2")]
    corpus: PathBuf,
    /// Index file (default: in the temp dir, named after the corpus).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Build the index even if it exists.
    #[arg(long)]
    rebuild: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();

    let corpus = if args.corpus.is_dir() {
        args.corpus.clone()
    } else {
        println!(
            "corpus {} not found (install Debian's manpages package for the real one); using {CANNED}",
            args.corpus.display()
        );
        PathBuf::from(CANNED)
    };
    let index = args.index.clone().unwrap_or_else(|| {
        let tag: String = corpus
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        std::env::temp_dir().join(format!("lws-fts-example{tag}.idx"))
    });
    if args.rebuild || !index.exists() {
        build(&corpus, &index)?;
    } else {
        println!("using the existing index {}", index.display());
    }

    let pvo = Pvo {
        name: "fulltext-demo".into(),
        value: String::new(),
        children: vec![Pvo {
            name: "indexpath".into(),
            value: index.to_string_lossy().into_owned(),
            children: Vec::new(),
        }],
    };
    let demo = FulltextDemo::from_pvo(&pvo)?;
    let vhost = Vhost::new("localhost")
        .listen(args.listen.addr())
        .strict_security_headers(true)
        .protocol(ProtocolHandle::new("fulltext-demo", demo))
        .mount(Mount::files("/", ORIGIN).default_doc("index.html"))
        .mount(Mount::callback("/fts", "fulltext-demo"));
    let context = Context::builder().vhost(vhost).build()?;
    for addr in context.local_addrs() {
        println!("serving the search page on http://{addr}/ and JSON on http://{addr}/fts/");
    }
    context.run_until_signal().await?;
    Ok(())
}

/// Indexes every file under `corpus` into `index`, decompressing `.gz` files into `<index>.text/` first.
fn build(corpus: &Path, index: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut files = Vec::new();
    walk(corpus, &mut files)?;
    files.sort();
    let mut text_dir = index.as_os_str().to_owned();
    text_dir.push(".text");
    let text_dir = PathBuf::from(text_dir);
    let mut b = IndexBuilder::create(index)?.on_progress(|p| {
        println!(
            "  indexing: {:?}, {} MB, {} files",
            p.phase,
            p.bytes >> 20,
            p.files
        );
    });
    for f in &files {
        let path = match f.extension() {
            Some(ext) if ext == "gz" => {
                std::fs::create_dir_all(&text_dir)?;
                let out = text_dir.join(f.file_stem().unwrap_or(f.as_os_str()));
                let text = Command::new("gzip").arg("-dc").arg(f).output()?;
                if !text.status.success() {
                    println!("  skipping {} (gzip failed)", f.display());
                    continue;
                }
                std::fs::write(&out, text.stdout)?;
                out
            }
            _ => f.clone(),
        };
        b.index_path(&path, 0)?;
    }
    let s = b.finish()?;
    println!(
        "indexed {} files ({} bytes, {} distinct words) from {} into {} ({} bytes) in {:.2} s",
        s.files,
        s.bytes,
        s.words,
        corpus.display(),
        index.display(),
        s.index_len,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(p)? {
        let path = e?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
    Ok(())
}
