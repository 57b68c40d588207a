//! Fuzz the reverse proxy's text handling: origin strings (`http://host:port/path`, `http://+/socket:/path`)
//! and the header fields it passes on each way. A parsed origin prints back to itself, its targets are
//! origin-form, onward fields never carry a hop-by-hop name, and rewriting never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/lws/src/proxy/origin.rs"]
mod origin;

#[allow(dead_code)]
#[path = "../../crates/lws/src/proxy/headers.rs"]
mod headers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    if let Ok(o) = origin::ProxyOrigin::parse(first) {
        let again = origin::ProxyOrigin::parse(&o.to_string()).expect("a printed origin parses");
        assert_eq!(again, o);
        assert!(o.target("/x", Some("q")).starts_with('/'));
    }
    let fields: Vec<(&str, &[u8])> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n, v.trim().as_bytes()))
        .collect();
    let client = headers::ClientSide {
        peer: Some("192.0.2.1".parse().unwrap()),
        tls: data.first().is_some_and(|b| b & 1 == 1),
        host: fields.first().and_then(|(_, v)| std::str::from_utf8(v).ok()),
    };
    let onward = headers::onward_request(fields.iter().copied(), &client);
    for (name, _) in &onward {
        assert!(
            !["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h)),
            "{name} went onward"
        );
    }
    let map = headers::PathMap {
        base: "/app",
        mountpoint: "/mnt",
        authority: "origin:8080",
    };
    let shared = fields
        .iter()
        .map(|(n, v)| (*n, bytes::Bytes::copy_from_slice(v)));
    let back = headers::back_to_client(shared, Some(&map));
    assert!(back.len() <= fields.len());
});
