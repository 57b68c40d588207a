//! Fuzz the `lws_fts` index reader: any bytes as an index file held in memory. Opening must fail cleanly or
//! succeed, and then autocomplete and search with a few prefixes must return results or errors, never panic
//! or read out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_fts::{Index, QueryLimits, SearchOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(index) = Index::from_source(data) else {
        return;
    };
    let index = index.with_limits(QueryLimits {
        max_visits: 2000,
        max_completions: 50,
    });
    let opts = SearchOptions {
        max_files: 5,
        max_lines: 5,
        quote: false,
    };
    for p in ["", "a", "e", "th", "the", "zz", "é"] {
        if let Ok(ac) = index.autocomplete(p, 10) {
            assert!(ac.completions.len() <= 10);
        }
        if let Ok(r) = index.search(p, &opts) {
            assert!(r.files.len() <= 5);
            assert!(r.files.iter().all(|f| f.hits.len() <= 5));
        }
    }
});
