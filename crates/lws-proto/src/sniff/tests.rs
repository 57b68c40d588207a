use super::{classify, client_hello, ClientHello, HelloError, Verdict, H2_PREFACE};

#[test]
fn http1_needs_the_space_after_the_method() {
    assert_eq!(classify(b""), Verdict::NeedMore);
    assert_eq!(classify(b"G"), Verdict::NeedMore);
    assert_eq!(classify(b"GET"), Verdict::NeedMore);
    assert_eq!(classify(b"GET "), Verdict::Http1);
    assert_eq!(classify(b"OPTIONS * HTTP/1.1\r\n"), Verdict::Http1);
    assert_eq!(classify(b"M-SEARCH * HTTP/1.1\r\n"), Verdict::Http1);
}

#[test]
fn unregistered_methods_need_the_whole_request_line() {
    assert_eq!(classify(b"FOO /x"), Verdict::NeedMore);
    assert_eq!(classify(b"FOO /x HTTP/1.1\r\n"), Verdict::Http1);
    assert_eq!(classify(b"FOO /x HTTP/1.1\n"), Verdict::Http1);
    // Line protocols that look like a method and an argument are not HTTP.
    assert_eq!(classify(b"HELO raw.test\r\n"), Verdict::Other);
    assert_eq!(classify(b"not http at all\r\n"), Verdict::Other);
    assert_eq!(classify(b"USER anonymous\r\n"), Verdict::Other);
    // A request line that never ends is not waited for past the limit.
    let mut long = b"FOO /".to_vec();
    long.resize(8 * 1024, b'a');
    assert_eq!(classify(&long), Verdict::Other);
}

#[test]
fn non_tokens_and_overlong_methods_are_other() {
    assert_eq!(classify(b" GET /"), Verdict::Other);
    assert_eq!(classify(b"\x00\x01"), Verdict::Other);
    assert_eq!(classify(b"GE\r\n"), Verdict::Other);
    assert_eq!(classify(b"AAAAAAAAAAAAAAAAAAAAA"), Verdict::Other);
    assert_eq!(classify(b"GET\t/"), Verdict::Other);
    assert_eq!(classify(b"AAAAAAAAAAAAAAAAAAAA"), Verdict::NeedMore);
}

#[test]
fn the_h2_preface_is_decided_only_when_whole() {
    for n in 1..H2_PREFACE.len() {
        assert_eq!(classify(&H2_PREFACE[..n]), Verdict::NeedMore, "{n} bytes");
    }
    assert_eq!(classify(H2_PREFACE), Verdict::Http2);
    // `PRI` is reserved for the preface (IANA method registry, RFC 9113 §3.4): a preface gone wrong is not
    // HTTP/1, whatever follows.
    assert_eq!(classify(b"PRI /x HTTP/1.1\r\n"), Verdict::Other);
    assert_eq!(
        classify(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"),
        Verdict::Other
    );
    assert_eq!(classify(b"PRI * HTTP/1.1\r\n"), Verdict::Other);
}

#[test]
fn ssh_banner_and_tls_record() {
    assert_eq!(classify(b"SS"), Verdict::NeedMore);
    assert_eq!(classify(b"SSH-2.0-OpenSSH_9.2\r\n"), Verdict::Ssh);
    // `SSHX ` is a method token, not a banner (and not a registered method: the line decides).
    assert_eq!(classify(b"SSHX / HTTP/1.1\r\n"), Verdict::Http1);
    assert_eq!(classify(b"\x16"), Verdict::NeedMore);
    assert_eq!(classify(b"\x16\x03\x01\x02\x00"), Verdict::Tls);
    assert_eq!(classify(b"\x16\x04"), Verdict::Other);
}

/// A ClientHello record built field by field (RFC 8446 §4.1.2).
fn hello_record(sni: Option<&str>, alpn: &[&str]) -> Vec<u8> {
    fn vec16(v: &[u8]) -> Vec<u8> {
        let mut o = (v.len() as u16).to_be_bytes().to_vec();
        o.extend_from_slice(v);
        o
    }
    let mut exts = Vec::new();
    if let Some(name) = sni {
        let mut entry = vec![0u8];
        entry.extend(vec16(name.as_bytes()));
        exts.extend([0, 0]);
        exts.extend(vec16(&vec16(&entry)));
    }
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for p in alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        exts.extend([0, 16]);
        exts.extend(vec16(&vec16(&list)));
    }
    // An extension we do not read, which must be skipped.
    exts.extend([0, 43, 0, 3, 2, 3, 4]);
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0);
    body.extend(vec16(&[0x13, 0x01]));
    body.extend([1, 0]);
    body.extend(vec16(&exts));
    let mut hs = vec![1];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![22, 3, 1];
    rec.extend(vec16(&hs));
    rec
}

#[test]
fn hello_yields_sni_and_alpn() {
    let rec = hello_record(Some("VPN.example.com"), &["h2", "http/1.1"]);
    assert_eq!(classify(&rec), Verdict::Tls);
    assert_eq!(
        client_hello(&rec),
        Ok(ClientHello {
            sni: Some("vpn.example.com".into()),
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        })
    );
    let bare = hello_record(None, &[]);
    assert_eq!(client_hello(&bare), Ok(ClientHello::default()));
}

#[test]
fn hello_asks_for_more_until_the_record_is_whole() {
    let rec = hello_record(Some("a.test"), &["h2"]);
    for n in 0..rec.len() {
        assert_eq!(
            client_hello(&rec[..n]),
            Err(HelloError::NeedMore),
            "{n} bytes"
        );
    }
}

#[test]
fn hello_refuses_what_is_not_one() {
    assert_eq!(
        client_hello(b"GET / HTTP/1.1\r\n"),
        Err(HelloError::NotHandshake)
    );
    // A handshake record whose message is not a ClientHello (here a ServerHello, type 2).
    assert_eq!(
        client_hello(&[22, 3, 3, 0, 4, 2, 0, 0, 0]),
        Err(HelloError::NotHandshake)
    );
    // An extension length running past the message.
    let mut rec = hello_record(Some("a.test"), &[]);
    let at = rec.len() - 7 - 2;
    rec[at] = 0xff;
    assert_eq!(client_hello(&rec), Err(HelloError::Malformed));
    // A record longer than TLS allows is not waited for.
    assert_eq!(
        client_hello(&[22, 3, 1, 0x48, 0x01]),
        Err(HelloError::Malformed)
    );
}

/// A ClientHello from CPython's `ssl` (OpenSSL) for `vpn.example.com` with ALPN `h2, http/1.1`: a real one,
/// with GREASE-free TLS 1.3 extensions, key shares and padding around the two we read.
#[test]
fn a_real_client_hello_from_openssl() {
    let rec = include_bytes!("testdata/python_client_hello.bin");
    assert_eq!(classify(rec), Verdict::Tls);
    let hello = client_hello(rec).unwrap();
    assert_eq!(hello.sni.as_deref(), Some("vpn.example.com"));
    assert_eq!(hello.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
}

proptest::proptest! {
    /// A verdict, once reached, never changes as more bytes arrive: the sniffer may wait, but never decide
    /// on a prefix what the whole would contradict. Inputs start with each kind's first bytes, so every
    /// branch is reached, followed by anything.
    #[test]
    fn a_decided_verdict_is_stable(
        start in 0usize..6,
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
    ) {
        let heads: [&[u8]; 6] = [b"GET ", b"FOO /x HTTP/1.1", b"PRI * HTTP/2.0", b"SSH-2.0", b"\x16\x03\x01", b""];
        let mut data = heads[start].to_vec();
        data.extend_from_slice(&tail);
        let whole = classify(&data);
        for n in 0..data.len() {
            let early = classify(&data[..n]);
            proptest::prop_assert!(early == Verdict::NeedMore || early == whole, "{early:?} at {n} of {data:?}");
        }
        if let Ok(hello) = client_hello(&data) {
            proptest::prop_assert_eq!(whole, Verdict::Tls);
            proptest::prop_assert!(hello.alpn.iter().all(|p| !p.is_empty()));
        }
    }
}
