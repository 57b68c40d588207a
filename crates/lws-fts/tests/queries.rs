//! Every query type on the canned corpus in `tests/corpus/`, against answers counted by hand.

use std::path::{Path, PathBuf};

use lws_fts::{Error, Index, IndexBuilder, SearchOptions};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

fn tmp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lws-fts-test-{tag}-{}.idx", std::process::id()))
}

/// Builds the canned index: a.txt (priority 0), b.txt (priority 5), c.txt (priority 0).
fn build(tag: &str) -> PathBuf {
    let out = tmp(tag);
    let mut b = IndexBuilder::create(&out).unwrap();
    for (name, prio) in [("a.txt", 0), ("b.txt", 5), ("c.txt", 0)] {
        b.index_path(&corpus(name), prio).unwrap();
    }
    let stats = b.finish().unwrap();
    assert_eq!(stats.files, 3);
    out
}

fn words(ac: &lws_fts::Autocomplete) -> Vec<(&str, u64, u64)> {
    ac.completions
        .iter()
        .map(|c| (c.word.as_str(), c.own, c.agg))
        .collect()
}

#[test]
fn autocomplete() {
    let path = build("ac");
    let ix = Index::open(&path).unwrap();
    let ac = ix.autocomplete("c", 10).unwrap();
    assert_eq!(words(&ac), [("coffee", 3, 3), ("café", 2, 2)]);
    assert!(!ac.elided);
    assert_eq!(ac.total, 5);

    // Everything: the(5), then coffee/dog (3) in byte order, then café/fox (2).
    let ac = ix.autocomplete("", 5).unwrap();
    assert_eq!(
        words(&ac),
        [
            ("the", 5, 5),
            ("coffee", 3, 3),
            ("dog", 3, 3),
            ("café", 2, 2),
            ("fox", 2, 2)
        ]
    );
    assert!(ac.elided);
    let ac = ix.autocomplete("", 3).unwrap();
    assert_eq!(ac.completions.len(), 3);
    assert!(ac.elided);

    // Case folding of the prefix, a prefix ending inside an edge label, non-ASCII.
    assert_eq!(words(&ix.autocomplete("TH", 10).unwrap()), [("the", 5, 5)]);
    assert_eq!(words(&ix.autocomplete("Üb", 10).unwrap()), [("über", 1, 1)]);
    assert_eq!(
        words(&ix.autocomplete("caf", 10).unwrap()),
        [("café", 2, 2)]
    );
    let e = ix.autocomplete("e", 10).unwrap();
    assert_eq!(words(&e), [("end", 1, 1), ("everywhere", 1, 1)]);
    assert!(ix.autocomplete("zz", 10).unwrap().completions.is_empty());
    assert!(ix.autocomplete("dogs", 10).unwrap().completions.is_empty());
    let _ = std::fs::remove_file(path);
}

#[test]
fn aggregate_counts_include_longer_words() {
    let out = tmp("agg");
    let mut b = IndexBuilder::create(&out).unwrap();
    let f = b.add_file("mem", 0).unwrap();
    b.fill(f, b"do do dog dogs dogs dogs door").unwrap();
    b.finish().unwrap();
    let ix = Index::open(&out).unwrap();
    let ac = ix.autocomplete("do", 10).unwrap();
    assert_eq!(
        words(&ac),
        [("dogs", 3, 3), ("do", 2, 7), ("dog", 1, 4), ("door", 1, 1)]
    );
    assert_eq!(ac.total, 7);
    let _ = std::fs::remove_file(out);
}

#[test]
fn search_files_lines_offsets_and_quotes() {
    let path = build("search");
    let ix = Index::open(&path).unwrap();
    let opts = SearchOptions {
        quote: true,
        ..SearchOptions::default()
    };

    let r = ix.search("The", &opts).unwrap();
    assert_eq!((r.total_files, r.matches), (3, 5));
    let order: Vec<_> = r
        .files
        .iter()
        .map(|f| (f.path.rsplit('/').next().unwrap(), f.matches, f.lines))
        .collect();
    // b.txt first (priority 5), then a.txt (3 matches), then c.txt.
    assert_eq!(order, [("b.txt", 1, 2), ("a.txt", 3, 3), ("c.txt", 1, 2)]);
    let a = &r.files[1];
    let lines: Vec<_> = a.hits.iter().map(|h| (h.line, h.offset)).collect();
    assert_eq!(lines, [(1, 0), (2, 20), (3, 45)]);
    assert_eq!(a.hits[2].text.as_deref(), Some("The dog sleeps."));
    assert_eq!(r.files[2].hits[0].text.as_deref(), Some("the end"));
    assert_eq!(
        (r.files[2].hits[0].line, r.files[2].hits[0].offset),
        (2, 12)
    );

    let r = ix.search("coffee", &opts).unwrap();
    assert_eq!(r.files.len(), 1);
    let b = &r.files[0];
    assert_eq!(b.matches, 3);
    let lines: Vec<_> = b.hits.iter().map(|h| (h.line, h.offset)).collect();
    assert_eq!(lines, [(1, 0), (2, 38)]);
    assert_eq!(b.hits[1].text.as_deref(), Some("Coffee, coffee everywhere"));

    let r = ix.search("CAFÉ", &SearchOptions::default()).unwrap();
    assert_eq!(r.files[0].matches, 2);
    assert_eq!(r.files[0].hits.len(), 1);
    assert_eq!(r.files[0].hits[0].text, None);

    let r = ix.search("dog", &SearchOptions::default()).unwrap();
    let got: Vec<_> = r
        .files
        .iter()
        .map(|f| (f.path.rsplit('/').next().unwrap(), f.matches))
        .collect();
    assert_eq!(got, [("a.txt", 2), ("c.txt", 1)]);

    // Limits on files and lines.
    let lim = SearchOptions {
        max_files: 1,
        max_lines: 1,
        quote: false,
    };
    let r = ix.search("the", &lim).unwrap();
    assert_eq!((r.files.len(), r.total_files), (1, 3));
    let r = ix.search("dog", &lim).unwrap();
    assert_eq!(r.files[0].hits.len(), 1);
    assert!(r.files[0].hits_elided);

    // Prefixes of words and absent words find nothing.
    assert!(ix.search("do", &opts).unwrap().files.is_empty());
    assert!(ix.search("dogs", &opts).unwrap().files.is_empty());
    assert!(ix.search("", &opts).unwrap().files.is_empty());
    let _ = std::fs::remove_file(path);
}

/// A synthetic corpus big enough to spill many runs.
fn synthetic(b: &mut IndexBuilder, files: usize) {
    let mut x: u32 = 12345;
    for f in 0..files {
        let idx = b.add_file(&format!("syn{f}"), (f % 3) as u32).unwrap();
        let mut text = String::new();
        for i in 0..4000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let w = (x >> 8) % 5000;
            text.push_str(&format!("w{w:x}x{} ", w % 7));
            if i % 9 == 0 {
                text.push('\n');
            }
        }
        // Feed in odd-sized pieces.
        for piece in text.as_bytes().chunks(777) {
            b.fill(idx, piece).unwrap();
        }
    }
}

#[test]
fn spilled_runs_give_the_same_index() {
    let one = tmp("one");
    let mut b = IndexBuilder::create(&one).unwrap();
    synthetic(&mut b, 60);
    let s1 = b.finish().unwrap();
    assert_eq!(s1.runs, 1);

    let many = tmp("many");
    let mut b = IndexBuilder::create(&many)
        .unwrap()
        .memory_budget(64 * 1024);
    synthetic(&mut b, 60);
    let s2 = b.finish().unwrap();
    assert!(s2.runs > 33, "only {} runs", s2.runs);
    // The budget plus at most one 768 KiB occurrence chunk.
    assert!(s2.peak_arena < 1 << 20, "{}", s2.peak_arena);
    let (a, b) = (std::fs::read(&one).unwrap(), std::fs::read(&many).unwrap());
    // Same words and counts; postings split across runs add continuation records, so compare queries.
    let (ia, ib) = (
        Index::from_source(a).unwrap(),
        Index::from_source(b).unwrap(),
    );
    for p in ["", "w1", "w2a", "w13", "wfff"] {
        assert_eq!(
            ia.autocomplete(p, 20).unwrap(),
            ib.autocomplete(p, 20).unwrap()
        );
    }
    for t in ["w1x1", "w2ax3", "w100x4", "w13x5"] {
        let o = SearchOptions {
            max_files: 100,
            max_lines: 1000,
            quote: false,
        };
        assert_eq!(ia.search(t, &o).unwrap(), ib.search(t, &o).unwrap());
    }
    assert_eq!(ia.header().words, ib.header().words);
    assert_eq!(ia.header().hits, ib.header().hits);
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("lws-fts-test-many-{}.idx.run", std::process::id()))
        })
        .count();
    assert_eq!(leftovers, 0, "run files left behind");
    let _ = std::fs::remove_file(one);
    let _ = std::fs::remove_file(many);
}

#[test]
fn truncated_foreign_and_damaged_files_are_refused() {
    let path = build("bad");
    let bytes = std::fs::read(&path).unwrap();
    let e = Index::from_source(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { .. }), "{e}");
    assert!(e.to_string().contains("truncated"));
    let e = Index::from_source(&b"%PDF-1.4 not an index at all, really not"[..]).unwrap_err();
    assert!(matches!(e, Error::BadMagic), "{e}");
    assert!(matches!(
        Index::from_source(&[][..]).unwrap_err(),
        Error::BadMagic
    ));

    // Every single-byte corruption either still works or gives an error: never a panic.
    for i in 48..bytes.len() {
        for x in [0x00, 0xff, 0x80, 0x01] {
            let mut b = bytes.clone();
            b[i] ^= x;
            let Ok(ix) = Index::from_source(&b[..]) else {
                continue;
            };
            for p in ["", "c", "the", "dog", "caf"] {
                let _ = ix.autocomplete(p, 10);
                let _ = ix.search(p, &SearchOptions::default());
            }
        }
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn progress_is_reported() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let out = tmp("progress");
    let mut b = IndexBuilder::create(&out)
        .unwrap()
        .progress_interval(10_000)
        .on_progress(move |p| s2.lock().unwrap().push(p.phase));
    synthetic(&mut b, 3);
    b.finish().unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .filter(|p| **p == lws_fts::Phase::Indexing)
            .count()
            > 5
    );
    assert_eq!(seen.last(), Some(&lws_fts::Phase::Done));
    let _ = std::fs::remove_file(out);
}
