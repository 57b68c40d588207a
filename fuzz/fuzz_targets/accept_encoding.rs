//! Fuzz `lws_proto::coding`: any bytes as an `Accept-Encoding` value. Weights stay in 0..=1000, the chosen
//! coding is acceptable and no other is weighed higher, and the ranking is ordered and complete.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::coding::{AcceptEncoding, ContentCoding};

fuzz_target!(|data: &[u8]| {
    let accept = AcceptEncoding::parse(data);
    for c in ContentCoding::ALL {
        assert!(accept.weight(c) <= 1000);
    }
    let ranked = accept.ranked(&ContentCoding::ALL);
    assert!(ranked.windows(2).all(|w| accept.weight(w[0]) >= accept.weight(w[1])));
    let acceptable = ContentCoding::ALL
        .iter()
        .filter(|c| accept.weight(**c) > 0)
        .count();
    assert_eq!(ranked.len(), acceptable);
    match accept.choose(&ContentCoding::ALL) {
        Some(best) => assert_eq!(Some(&best), ranked.first()),
        None => assert!(ranked.is_empty()),
    }
});
