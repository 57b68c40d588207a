//! Streaming behaviour of the form parser: the same body split at every point, or in random chunk sizes,
//! gives the same events; limits map to their errors and statuses; truncated or garbage input fails cleanly.

use lws_proto::form::{FormError, FormEvent, FormKind, FormLimits, FormParser, Spa};

const BOUNDARY: &str = "----lwsBoundary7MA4YWxk";

/// An event with owned data; consecutive file pieces are merged so chunkings compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Field(String, String),
    Start(String, String, Option<String>),
    Data(Vec<u8>),
    End,
}

/// Deterministic pseudo-random numbers (Knuth's MMIX LCG), enough to pick chunk sizes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn multipart_kind() -> FormKind {
    FormKind::from_content_type(&format!("multipart/form-data; boundary={BOUNDARY}")).unwrap()
}

fn record(out: &mut Vec<Ev>, e: FormEvent<'_>) {
    match e {
        FormEvent::Field { name, value } => out.push(Ev::Field(name.into(), value.into())),
        FormEvent::FileStart {
            name,
            filename,
            content_type,
        } => out.push(Ev::Start(
            name.into(),
            filename.into(),
            content_type.map(Into::into),
        )),
        FormEvent::FileData(d) => {
            assert!(!d.is_empty(), "empty FileData");
            match out.last_mut() {
                Some(Ev::Data(v)) => v.extend_from_slice(d),
                _ => out.push(Ev::Data(d.to_vec())),
            }
        }
        FormEvent::FileEnd => out.push(Ev::End),
    }
}

/// Feeds `body` in the given chunks, then finishes.
fn run_chunks<'b>(
    kind: &FormKind,
    limits: &FormLimits,
    chunks: impl IntoIterator<Item = &'b [u8]>,
) -> Result<Vec<Ev>, FormError> {
    let mut p = FormParser::new(kind.clone(), limits.clone());
    let mut out = Vec::new();
    let mut sink = |e: FormEvent<'_>| {
        record(&mut out, e);
        Ok(())
    };
    for c in chunks {
        p.feed(c, &mut sink)?;
    }
    p.finish(&mut sink)?;
    Ok(out)
}

fn run_whole(kind: &FormKind, limits: &FormLimits, body: &[u8]) -> Result<Vec<Ev>, FormError> {
    run_chunks(kind, limits, [body])
}

/// Splits `body` into random pieces of 0..=max bytes (empty chunks included on purpose).
fn random_chunks<'b>(body: &'b [u8], rng: &mut Lcg, max: usize) -> Vec<&'b [u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let n = rng.below(max + 1).min(body.len() - pos);
        out.push(&body[pos..pos + n]);
        pos += n;
    }
    out
}

/// Asserts that `body` gives `expected` whole, byte by byte, split in two (and for short bodies in three) at
/// every point, and in random chunk sizes.
fn assert_stream(kind: &FormKind, body: &[u8], expected: &Result<Vec<Ev>, FormError>) {
    let l = FormLimits::default();
    assert_eq!(&run_whole(kind, &l, body), expected, "whole body");
    assert_eq!(
        &run_chunks(kind, &l, body.chunks(1)),
        expected,
        "1-byte chunks"
    );
    for i in 0..=body.len() {
        let (a, b) = body.split_at(i);
        assert_eq!(&run_chunks(kind, &l, [a, b]), expected, "split at {i}");
    }
    if body.len() <= 400 {
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let parts = [&body[..i], &body[i..j], &body[j..]];
                assert_eq!(&run_chunks(kind, &l, parts), expected, "split at {i},{j}");
            }
        }
    }
    let mut rng = Lcg(body.len() as u64);
    for max in [2, 3, 7, 16, 31, 64, 200] {
        for _ in 0..20 {
            let chunks = random_chunks(body, &mut rng, max);
            assert_eq!(
                &run_chunks(kind, &l, chunks),
                expected,
                "random chunks up to {max}"
            );
        }
    }
}

/// One part to build: name, filename, content type, content.
type PartSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// Builds a multipart body from parts, ending with the closing delimiter and CRLF.
fn multipart_body(parts: &[PartSpec<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, ctype, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disp = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disp.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disp.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(t) = ctype {
            body.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn field(n: &str, v: &str) -> Ev {
    Ev::Field(n.into(), v.into())
}

fn start(n: &str, f: &str, t: Option<&str>) -> Ev {
    Ev::Start(n.into(), f.into(), t.map(Into::into))
}

#[test]
fn urlencoded_every_split() {
    let body = b"text=Hello+w%C3%B6rld%21&send=Send&empty=&flag;n%61me=a%3Db&&last=%7e";
    let expected = Ok(vec![
        field("text", "Hello w\u{f6}rld!"),
        field("send", "Send"),
        field("empty", ""),
        field("flag", ""),
        field("name", "a=b"),
        field("last", "~"),
    ]);
    assert_stream(&FormKind::UrlEncoded, body, &expected);
}

#[test]
fn multipart_two_fields_and_file() {
    let mut body = b"This preamble is ignored.\r\n".to_vec();
    body.extend(multipart_body(&[
        ("text", None, None, "caf\u{e9}".as_bytes()),
        (
            "upload",
            Some("hello.txt"),
            Some("text/plain"),
            b"Hello, file!\n",
        ),
        ("send", None, None, b"Send"),
    ]));
    body.extend_from_slice(b"and this epilogue too\r\n");
    let expected = Ok(vec![
        field("text", "caf\u{e9}"),
        start("upload", "hello.txt", Some("text/plain")),
        Ev::Data(b"Hello, file!\n".to_vec()),
        Ev::End,
        field("send", "Send"),
    ]);
    assert_stream(&multipart_kind(), &body, &expected);
}

#[test]
fn multipart_file_with_boundary_lookalikes() {
    let mut content = Vec::new();
    let delim = format!("\r\n--{BOUNDARY}");
    for cut in 0..delim.len() {
        content.extend_from_slice(&delim.as_bytes()[..cut]);
        content.push(b'!');
    }
    content.extend_from_slice(b"\r\r\n\n--");
    content.extend_from_slice(&delim.as_bytes()[..delim.len() - 1]);
    let body = multipart_body(&[("f", Some("tricky.bin"), None, &content)]);
    let expected = Ok(vec![
        start("f", "tricky.bin", None),
        Ev::Data(content.clone()),
        Ev::End,
    ]);
    assert_stream(&multipart_kind(), &body, &expected);
}

#[test]
fn multipart_empty_file_and_empty_filename() {
    let body = multipart_body(&[
        ("a", Some("empty.txt"), Some("text/plain"), b""),
        ("b", Some(""), Some("application/octet-stream"), b""),
        ("c", None, None, b""),
    ]);
    let expected = Ok(vec![
        start("a", "empty.txt", Some("text/plain")),
        Ev::End,
        start("b", "", Some("application/octet-stream")),
        Ev::End,
        field("c", ""),
    ]);
    assert_stream(&multipart_kind(), &body, &expected);
}

#[test]
fn multipart_one_mebibyte_file_streams() {
    let mut rng = Lcg(42);
    let content: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let body = multipart_body(&[
        ("before", None, None, b"1"),
        (
            "big",
            Some("big.bin"),
            Some("application/octet-stream"),
            &content,
        ),
        ("after", None, None, b"2"),
    ]);
    let file_start = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let file_start = file_start
        + 4
        + body[file_start + 4..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap()
        + 4;
    assert_eq!(&body[file_start..file_start + 64], &content[..64]);
    let expected = vec![
        field("before", "1"),
        start("big", "big.bin", Some("application/octet-stream")),
        Ev::Data(content.clone()),
        Ev::End,
        field("after", "2"),
    ];
    let kind = multipart_kind();
    let l = FormLimits::default();
    assert_eq!(run_whole(&kind, &l, &body).as_ref(), Ok(&expected));
    for i in [
        0,
        1,
        file_start - 1,
        file_start,
        file_start + 1,
        body.len() / 2,
        body.len() - 7,
    ] {
        let (a, b) = body.split_at(i);
        assert_eq!(
            run_chunks(&kind, &l, [a, b]).as_ref(),
            Ok(&expected),
            "split {i}"
        );
    }

    // Random chunk sizes; after every chunk all file bytes fed must have been delivered except at most the
    // delimiter length minus one held back.
    let held_max = BOUNDARY.len() + 3;
    for max in [1000, 7919, 65536] {
        let mut p = FormParser::new(kind.clone(), l.clone());
        let mut delivered = 0usize;
        let mut out = Vec::new();
        let mut fed = 0usize;
        for c in random_chunks(&body, &mut rng, max) {
            p.feed(c, &mut |e| {
                if let FormEvent::FileData(d) = e {
                    delivered += d.len();
                }
                record(&mut out, e);
                Ok(())
            })
            .unwrap();
            fed += c.len();
            let file_fed = fed.clamp(file_start, file_start + content.len()) - file_start;
            if file_fed < content.len() {
                assert!(delivered + held_max >= file_fed, "held back too much");
            }
        }
        p.finish(&mut |e| {
            record(&mut out, e);
            Ok(())
        })
        .unwrap();
        assert_eq!(out, expected);
    }
}

#[test]
fn spa_collects_named_params() {
    let body = multipart_body(&[
        ("text", None, None, b"one"),
        ("other", None, None, b"ignored"),
        ("text", None, None, b"two"),
        ("up", Some("../../x.png"), Some("image/png"), b"\x89PNG"),
    ]);
    let mut spa = Spa::new(multipart_kind(), &["text", "nope"], FormLimits::default());
    let mut file = Vec::new();
    let mut opened = None;
    let mut files = |e: lws_proto::form::FileEvent<'_>| {
        match e {
            lws_proto::form::FileEvent::Open { filename, .. } => {
                opened = lws_proto::form::safe_filename(filename)
            }
            lws_proto::form::FileEvent::Data(d) => file.extend_from_slice(d),
            lws_proto::form::FileEvent::Close => {}
        }
        Ok(())
    };
    for c in body.chunks(3) {
        spa.feed(c, &mut files).unwrap();
    }
    spa.finish(&mut files).unwrap();
    assert_eq!(spa.get("text"), Some("one"));
    assert_eq!(spa.get("other"), None);
    assert_eq!(
        spa.params().collect::<Vec<_>>(),
        vec![("text", Some("one")), ("nope", None)]
    );
    assert_eq!(opened.as_deref(), Some("x.png"));
    assert_eq!(file, b"\x89PNG");
}

/// Runs `body` whole and 1 byte at a time; both must fail with `err`.
fn assert_error(kind: &FormKind, limits: &FormLimits, body: &[u8], err: FormError, status: u16) {
    assert_eq!(run_whole(kind, limits, body), Err(err.clone()), "whole");
    assert_eq!(
        run_chunks(kind, limits, body.chunks(1)),
        Err(err.clone()),
        "bytewise"
    );
    assert_eq!(err.status(), status);
}

#[test]
fn limits_and_errors() {
    let url = FormKind::UrlEncoded;
    let mp = multipart_kind();
    let tight = FormLimits::default()
        .max_name(4)
        .max_value(8)
        .max_fields(2)
        .max_part_header(120)
        .max_file_size(Some(10));

    assert_error(&url, &tight, b"abcde=1", FormError::NameTooLong, 413);
    assert_error(&url, &tight, b"a=123456789", FormError::ValueTooLong, 413);
    assert_error(&url, &tight, b"a&b&c", FormError::TooManyFields, 413);
    assert_error(&url, &tight, b"a=%zz", FormError::BadPercentEscape, 400);
    assert_error(&url, &tight, b"a=%c3%28", FormError::InvalidUtf8, 400);

    let name = multipart_body(&[("abcde", None, None, b"v")]);
    assert_error(&mp, &tight, &name, FormError::NameTooLong, 413);
    let value = multipart_body(&[("a", None, None, b"123456789")]);
    assert_error(&mp, &tight, &value, FormError::ValueTooLong, 413);
    let many = multipart_body(&[
        ("a", None, None, b""),
        ("b", None, None, b""),
        ("c", None, None, b""),
    ]);
    assert_error(&mp, &tight, &many, FormError::TooManyFields, 413);
    let long_type = "x".repeat(100);
    let header = multipart_body(&[("a", Some("f"), Some(&long_type), b"")]);
    assert_error(&mp, &tight, &header, FormError::PartHeaderTooLong, 413);
    let big = multipart_body(&[("a", Some("f"), None, b"12345678901")]);
    assert_error(&mp, &tight, &big, FormError::FileTooLarge, 413);
    let exact = multipart_body(&[("a", Some("f"), None, b"1234567890")]);
    assert!(run_whole(&mp, &tight, &exact).is_ok());
    let bad_utf8 = multipart_body(&[("a", None, None, b"\xff")]);
    assert_error(&mp, &tight, &bad_utf8, FormError::InvalidUtf8, 400);
    let mut bare_lf =
        format!("--{BOUNDARY}\nContent-Disposition: form-data; name=a\r\n\r\n").into_bytes();
    bare_lf.extend(format!("v\r\n--{BOUNDARY}--").as_bytes());
    assert_error(&mp, &tight, &bare_lf, FormError::MalformedPart, 400);

    assert_eq!(
        FormKind::from_content_type("text/plain")
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        FormKind::from_content_type("multipart/form-data"),
        Err(FormError::MissingBoundary)
    );
    assert_eq!(
        FormKind::from_content_type("multipart/form-data; boundary=").unwrap_err(),
        FormError::BadBoundary
    );

    // A sink error aborts and sticks.
    let mut p = FormParser::new(url, FormLimits::default());
    let mut refuse = |_: FormEvent<'_>| Err(FormError::Rejected);
    assert_eq!(p.feed(b"a=1&b=2", &mut refuse), Err(FormError::Rejected));
    assert_eq!(p.feed(b"&c=3", &mut |_| Ok(())), Err(FormError::Rejected));
    assert_eq!(p.finish(&mut |_| Ok(())), Err(FormError::Rejected));
    assert_eq!(FormError::Rejected.status(), 400);
}

#[test]
fn truncated_multipart() {
    let body = multipart_body(&[
        ("text", None, None, b"value"),
        ("f", Some("a.bin"), None, b"\r\n--data"),
    ]);
    let kind = multipart_kind();
    let l = FormLimits::default();
    let closing = body.len() - 2;
    for cut in 0..closing {
        assert_eq!(
            run_chunks(&kind, &l, body[..cut].chunks(5)),
            Err(FormError::Truncated),
            "cut at {cut}"
        );
    }
    assert!(run_whole(&kind, &l, &body[..closing]).is_ok());
}

#[test]
fn garbage_never_panics() {
    let kind = FormKind::Multipart {
        boundary: b"ab".to_vec(),
    };
    let valid = b"--ab\r\nContent-Disposition: form-data; name=\"x\"; filename=\"y\"\r\n\
        Content-Type: t\r\n\r\ndata\r\n--ab\r\nContent-Disposition: form-data; name=z\r\n\r\nv\r\n--ab--";
    let alphabet = b"-ab\r\n\"\\;=:% &+xX\x00\xff";
    let limits = FormLimits::default().max_file_size(Some(64)).max_fields(4);
    let mut rng = Lcg(7);
    for round in 0..3000 {
        let mut body: Vec<u8> = if round % 2 == 0 {
            (0..rng.below(200))
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        } else {
            valid.to_vec()
        };
        for _ in 0..rng.below(4) {
            if body.is_empty() {
                break;
            }
            let i = rng.below(body.len());
            body[i] = alphabet[rng.below(alphabet.len())];
        }
        let chunks = random_chunks(&body, &mut rng, 9);
        let a = run_chunks(&kind, &limits, chunks.iter().copied());
        let b = run_whole(&kind, &limits, &body);
        assert_eq!(
            a,
            b,
            "chunking changed the result for {:?}",
            String::from_utf8_lossy(&body)
        );
        let c = run_chunks(&FormKind::UrlEncoded, &limits, chunks.iter().copied());
        let d = run_whole(&FormKind::UrlEncoded, &limits, &body);
        assert_eq!(c, d);
    }
}
