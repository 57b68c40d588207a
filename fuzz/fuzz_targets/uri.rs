//! Fuzz `lws_proto::uri`: any bytes as a request-target; on success the canonical path must keep its invariants
//! and re-parse to itself, and the query must decode into urlargs (or fail) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::uri::{parse_urlargs, Target};

fuzz_target!(|data: &[u8]| {
    let Ok(target) = Target::parse(data) else {
        return;
    };
    let path = target.path();
    assert!(path.starts_with('/'), "{path:?}");
    assert!(!path.contains("//"), "{path:?}");
    assert!(!path.contains('\0'), "{path:?}");
    assert!(
        path.split('/')
            .all(|segment| segment != "." && segment != ".."),
        "{path:?}"
    );
    assert!(!path.bytes().any(|b| b < 0x20 || b == 0x7f), "{path:?}");
    assert!(path.len() <= data.len(), "{path:?}");
    // A canonical path holding '%', '?' or '#' (from %25, %3f, %23) would be decoded or split again, so
    // idempotence only holds without them.
    if !path.contains(['%', '?', '#']) {
        let again = Target::parse(path.as_bytes()).expect("a canonical path re-parses");
        assert_eq!(again.path(), path);
        assert_eq!(again.query(), None);
    }
    if let Some(query) = target.query() {
        let args = parse_urlargs(query);
        assert_eq!(target.args(), args);
        if let Ok(args) = args {
            assert!(args.iter().all(|(name, _)| !name.contains(['=', '\0'])));
        }
    }
});
