//! `lws-fts`: build and query full-text indexes from the command line.
//!
//! ```text
//! lws-fts index [--budget MIB] <out> <files or dirs...>   index files (dirs are walked), print figures
//! lws-fts ac <index> <prefix> [max]                        autocomplete, best first
//! lws-fts search [--quote] <index> <term>                  files and lines holding a word
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use lws_fts::{Index, IndexBuilder, Phase, SearchOptions};

const USAGE: &str = "usage:\n  lws-fts index [--budget MIB] <out> <files or dirs...>\n  \
                     lws-fts ac <index> <prefix> [max]\n  lws-fts search [--quote] <index> <term>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("index") => index(&args[1..]),
        Some("ac") => ac(&args[1..]),
        Some("search") => search(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lws-fts: {e}");
            ExitCode::FAILURE
        }
    }
}

fn index(args: &[String]) -> Result<(), String> {
    let mut budget = None;
    let mut rest = args;
    if rest.first().map(String::as_str) == Some("--budget") {
        let mib: usize = rest
            .get(1)
            .and_then(|v| v.parse().ok())
            .ok_or("--budget needs a number of MiB")?;
        budget = Some(mib << 20);
        rest = &rest[2..];
    }
    let [out, inputs @ ..] = rest else {
        return Err(USAGE.into());
    };
    if inputs.is_empty() {
        return Err(USAGE.into());
    }
    let mut files = Vec::new();
    for i in inputs {
        walk(Path::new(i), &mut files).map_err(|e| format!("{i}: {e}"))?;
    }
    files.sort();
    let start = Instant::now();
    let mut b = IndexBuilder::create(out)
        .map_err(|e| format!("{out}: {e}"))?
        .on_progress(|p| {
            if p.phase != Phase::Done {
                eprintln!(
                    "  {:?}: {} MB, {} files, {} runs, {} words",
                    p.phase,
                    p.bytes >> 20,
                    p.files,
                    p.runs,
                    p.words
                );
            }
        });
    if let Some(bytes) = budget {
        b = b.memory_budget(bytes);
    }
    for f in &files {
        b.index_path(f, 0)
            .map_err(|e| format!("{}: {e}", f.display()))?;
    }
    let s = b.finish().map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "indexed {} files, {} bytes, {} words, {} hits in {secs:.2} s ({:.1} MB/s)",
        s.files,
        s.bytes,
        s.words,
        s.hits,
        s.bytes as f64 / 1e6 / secs
    );
    println!(
        "index {} bytes = {:.1}% of the corpus; {} runs; peak arena {} KiB; peak RSS {} KiB",
        s.index_len,
        100.0 * s.index_len as f64 / s.bytes.max(1) as f64,
        s.runs,
        s.peak_arena >> 10,
        peak_rss_kib().map_or("?".into(), |k| k.to_string())
    );
    Ok(())
}

fn ac(args: &[String]) -> Result<(), String> {
    let (path, prefix, max) = match args {
        [p, x] => (p, x, 10),
        [p, x, m] => (p, x, m.parse().map_err(|_| "max must be a number")?),
        _ => return Err(USAGE.into()),
    };
    let ix = Index::open(path).map_err(|e| format!("{path}: {e}"))?;
    let t = Instant::now();
    let r = ix.autocomplete(prefix, max).map_err(|e| e.to_string())?;
    let us = t.elapsed().as_micros();
    for c in &r.completions {
        println!("{}\t{}\t{}", c.word, c.own, c.agg);
    }
    if r.elided {
        println!("...");
    }
    eprintln!("{} completions in {us} us", r.completions.len());
    Ok(())
}

fn search(args: &[String]) -> Result<(), String> {
    let (quote, rest) = match args.first().map(String::as_str) {
        Some("--quote") => (true, &args[1..]),
        _ => (false, args),
    };
    let [path, term] = rest else {
        return Err(USAGE.into());
    };
    let ix = Index::open(path).map_err(|e| format!("{path}: {e}"))?;
    let opts = SearchOptions {
        quote,
        ..SearchOptions::default()
    };
    let t = Instant::now();
    let r = ix.search(term, &opts).map_err(|e| e.to_string())?;
    let us = t.elapsed().as_micros();
    for f in &r.files {
        println!("{} ({} matches, {} lines)", f.path, f.matches, f.lines);
        for h in &f.hits {
            match &h.text {
                Some(t) => println!("  {}@{}: {t}", h.line, h.offset),
                None => println!("  {}@{}", h.line, h.offset),
            }
        }
    }
    eprintln!(
        "{} of {} files, {} matches in {us} us",
        r.files.len(),
        r.total_files,
        r.matches
    );
    Ok(())
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_dir() {
        for e in std::fs::read_dir(p)? {
            walk(&e?.path(), out)?;
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}
