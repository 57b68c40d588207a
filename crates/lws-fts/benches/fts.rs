//! Index build throughput, index size, autocomplete and search latency (p50/p99, warm and cold page cache),
//! memory while building and querying, and the same autocomplete workload on an `fst::Map` of the same
//! words, in one run.
//!
//! The corpus is the directory in `LWS_FTS_CORPUS` (for instance the decompressed man pages of Debian's
//! `manpages` package), else the canned test corpus. The percentile figures are printed by a custom loop
//! (criterion reports means and medians); the criterion groups time the warm queries and the build.

// `criterion_group!` generates an undocumented function.
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fst::{IntoStreamer, Streamer};
use lws_fts::{Index, IndexBuilder, SearchOptions};

/// Counts heap bytes in use and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CURRENT.fetch_sub(l.size(), Relaxed);
        // SAFETY: `p` came from `alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            let now = CURRENT.fetch_add(new - l.size(), Relaxed) + new - l.size();
            PEAK.fetch_max(now, Relaxed);
        } else {
            CURRENT.fetch_sub(l.size() - new, Relaxed);
        }
        // SAFETY: `p` came from this allocator with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn reset_peak() -> usize {
    let now = CURRENT.load(Relaxed);
    PEAK.store(now, Relaxed);
    now
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = std::env::var_os("LWS_FTS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"));
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn build(files: &[PathBuf], out: &Path, budget: usize) -> lws_fts::BuildStats {
    let mut b = IndexBuilder::create(out).unwrap().memory_budget(budget);
    for f in files {
        b.index_path(f, 0).unwrap();
    }
    b.finish().unwrap()
}

/// The words of the corpus with their counts, folded like the indexer does.
fn word_counts(files: &[PathBuf]) -> Vec<(String, u64)> {
    let mut m: HashMap<String, u64> = HashMap::new();
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for w in text.split(|c: char| !(c == '_' || c.is_alphanumeric())) {
            let w = w.to_lowercase();
            if !w.is_empty() && w.len() <= lws_fts::DEFAULT_MAX_WORD_LEN {
                *m.entry(w).or_default() += 1;
            }
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort();
    v
}

/// Top `n` completions of `prefix` from an fst map of word -> count (what a user of `fst` would write).
fn fst_autocomplete(map: &fst::Map<Vec<u8>>, prefix: &str, n: usize) -> Vec<(String, u64)> {
    let mut hi = prefix.as_bytes().to_vec();
    hi.push(0xff);
    let mut s = map.range().ge(prefix).lt(&hi).into_stream();
    let mut heap = BinaryHeap::new();
    while let Some((k, v)) = s.next() {
        heap.push(std::cmp::Reverse((v, k.to_vec())));
        if heap.len() > n {
            heap.pop();
        }
    }
    let mut v: Vec<_> = heap
        .into_iter()
        .map(|std::cmp::Reverse((c, k))| (String::from_utf8_lossy(&k).into_owned(), c))
        .collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    v
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let at = |q: f64| d[((d.len() as f64 * q) as usize).min(d.len() - 1)].as_secs_f64() * 1e6;
    (at(0.50), at(0.99))
}

/// Evicts the index file from the page cache (clean pages; no root needed).
fn evict(path: &Path) {
    use std::os::unix::io::AsRawFd;
    let f = File::open(path).unwrap();
    // SAFETY: plain syscall on a valid open descriptor.
    unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
}

fn bench(c: &mut Criterion) {
    let files = corpus_files();
    let corpus_bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    let out = std::env::temp_dir().join(format!("lws-fts-bench-{}.idx", std::process::id()));

    // Build: throughput, size, memory at the default budget and at a small one.
    for budget in [lws_fts::DEFAULT_MEMORY_BUDGET, 4 << 20] {
        let base = reset_peak();
        let t = Instant::now();
        let s = build(&files, &out, budget);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "build (budget {} MiB): {} files, {:.1} MB in {secs:.2} s = {:.1} MB/s; {} words, {} runs; \
             index {} bytes = {:.1}% of corpus; peak heap {:.1} MiB (arena {:.1} MiB)",
            budget >> 20,
            s.files,
            corpus_bytes as f64 / 1e6,
            corpus_bytes as f64 / 1e6 / secs,
            s.words,
            s.runs,
            s.index_len,
            100.0 * s.index_len as f64 / corpus_bytes as f64,
            (PEAK.load(Relaxed) - base) as f64 / 1048576.0,
            s.peak_arena as f64 / 1048576.0,
        );
    }

    // Query workload: every 1-, 2- and 3-byte prefix of the 2000 most frequent words; search the 500 most
    // frequent words and 500 rare ones.
    let words = word_counts(&files);
    let mut by_count = words.clone();
    by_count.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut prefixes: Vec<String> = by_count
        .iter()
        .take(2000)
        .flat_map(|(w, _)| {
            (1..=3)
                .filter_map(|n| w.get(..n).map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    let terms: Vec<String> = by_count
        .iter()
        .take(500)
        .chain(by_count.iter().rev().take(500))
        .map(|(w, _)| w.clone())
        .collect();

    let base = reset_peak();
    let ix = Index::open(&out).unwrap();
    let open_heap = CURRENT.load(Relaxed) - base;
    let opts = SearchOptions::default();
    let run_ac = |cold: bool| {
        let mut d = Vec::with_capacity(prefixes.len());
        for p in &prefixes {
            if cold {
                evict(&out);
            }
            let t = Instant::now();
            std::hint::black_box(ix.autocomplete(p, 10).unwrap());
            d.push(t.elapsed());
        }
        percentiles(d)
    };
    let run_search = |cold: bool| {
        let mut d = Vec::with_capacity(terms.len());
        for w in &terms {
            if cold {
                evict(&out);
            }
            let t = Instant::now();
            std::hint::black_box(ix.search(w, &opts).unwrap());
            d.push(t.elapsed());
        }
        percentiles(d)
    };
    let _ = run_ac(false);
    let (a50, a99) = run_ac(false);
    let (ac50, ac99) = run_ac(true);
    let base = reset_peak();
    let _ = run_search(false);
    let query_heap = PEAK.load(Relaxed) - base;
    let (s50, s99) = run_search(false);
    let (sc50, sc99) = run_search(true);
    println!(
        "autocomplete ({} prefixes, top 10): warm p50 {a50:.1} us p99 {a99:.1} us; cold p50 {ac50:.1} us p99 {ac99:.1} us",
        prefixes.len()
    );
    println!(
        "search ({} terms, 10 files x 20 lines): warm p50 {s50:.1} us p99 {s99:.1} us; cold p50 {sc50:.1} us p99 {sc99:.1} us",
        terms.len()
    );
    println!(
        "query memory: {:.1} KiB heap held by the open index, peak {:.1} KiB extra during searches",
        open_heap as f64 / 1024.0,
        query_heap as f64 / 1024.0
    );

    // The same autocomplete workload on an fst::Map built from the same words.
    let t = Instant::now();
    let map = fst::Map::from_iter(words.iter().map(|(w, c)| (w.as_bytes(), *c))).unwrap();
    let fst_build = t.elapsed();
    let mut d = Vec::with_capacity(prefixes.len());
    for p in &prefixes {
        let t = Instant::now();
        std::hint::black_box(fst_autocomplete(&map, p, 10));
        d.push(t.elapsed());
    }
    let (f50, f99) = percentiles(d);
    println!(
        "fst::Map of the same {} words: {} bytes, built in {:.0} ms from the word list; \
         autocomplete (in memory, warm) p50 {f50:.1} us p99 {f99:.1} us",
        words.len(),
        map.as_fst().as_bytes().len(),
        fst_build.as_secs_f64() * 1e3
    );
    // Both give the same ranking (ties aside): check the most common prefix.
    if let Some(p) = prefixes.first() {
        let ours: Vec<u64> = ix
            .autocomplete(p, 10)
            .unwrap()
            .completions
            .iter()
            .map(|c| c.own)
            .collect();
        let theirs: Vec<u64> = fst_autocomplete(&map, p, 10).iter().map(|x| x.1).collect();
        assert_eq!(ours, theirs, "lws-fts and fst disagree on {p:?}");
    }

    let mut g = c.benchmark_group("fts");
    g.bench_function("autocomplete_warm", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            ix.autocomplete(&prefixes[i], 10).unwrap()
        })
    });
    g.bench_function("fst_autocomplete_warm", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            fst_autocomplete(&map, &prefixes[i], 10)
        })
    });
    g.bench_function("search_warm", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % terms.len();
            ix.search(&terms[i], &opts).unwrap()
        })
    });
    g.finish();
    let _ = std::fs::remove_file(&out);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
