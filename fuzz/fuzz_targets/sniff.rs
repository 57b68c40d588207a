//! Fuzz `lws_proto::sniff`: any bytes as the start of a connection. A verdict must be stable once reached
//! (more bytes never change a decided verdict), and the ClientHello reader must fail cleanly or return a
//! lower-case SNI name and non-empty ALPN names, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::sniff::{classify, client_hello, Verdict};

fuzz_target!(|data: &[u8]| {
    let whole = classify(data);
    for n in 0..data.len() {
        let early = classify(&data[..n]);
        assert!(
            early == Verdict::NeedMore || early == whole,
            "{early:?} at {n} bytes, {whole:?} at {}",
            data.len()
        );
    }
    if let Ok(hello) = client_hello(data) {
        assert_eq!(whole, Verdict::Tls);
        if let Some(sni) = &hello.sni {
            assert!(!sni.is_empty() && !sni.bytes().any(|b| b.is_ascii_uppercase()));
        }
        assert!(hello.alpn.iter().all(|p| !p.is_empty()));
    }
});
