//! Runs the tokenizer vectors in `tests/vectors/tokenize.txt` (format described at the top of that file), and checks
//! that splitting any vector's input for streaming gives the same tokens as tokenizing it at once.

use lws_util::tokenize::{ErrorKind, Flags, Token, TokenKind, TokenizeError, Tokenizer};

#[derive(Debug)]
struct Case {
    line: usize,
    input: Vec<u8>,
    flags: Flags,
    max: Option<usize>,
    tokens: Vec<(TokenKind, String, Option<usize>)>,
    end: Result<(), (ErrorKind, usize)>,
}

fn unescape(line: usize, s: &str) -> Vec<u8> {
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("line {line}: expected a quoted string: {s}"));
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let c = bytes[i + 1];
        i += 2;
        out.push(match c {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'f' => 0x0c,
            b'0' => 0,
            b'x' => {
                i += 2;
                u8::from_str_radix(&s[i - 2..i], 16).unwrap()
            }
            other => other,
        });
    }
    out
}

fn kind(line: usize, s: &str) -> TokenKind {
    match s {
        "delim" => TokenKind::Delimiter,
        "token" => TokenKind::Token,
        "int" => TokenKind::Integer,
        "float" => TokenKind::Float,
        "name=" => TokenKind::TokenNameEquals,
        "name:" => TokenKind::TokenNameColon,
        "quoted" => TokenKind::QuotedString,
        "token-chunk" => TokenKind::TokenChunk,
        "quoted-chunk" => TokenKind::QuotedStringChunk,
        _ => panic!("line {line}: unknown token kind {s}"),
    }
}

fn error_kind(line: usize, s: &str) -> ErrorKind {
    match s {
        "comma-list" => ErrorKind::CommaList,
        "num-on-lhs" => ErrorKind::NumOnLhs,
        "malformed-float" => ErrorKind::MalformedFloat,
        "unterminated-string" => ErrorKind::UnterminatedString,
        "broken-utf8" => ErrorKind::BrokenUtf8,
        "need-more" => ErrorKind::NeedMore,
        "too-long" => ErrorKind::TooLong,
        _ => panic!("line {line}: unknown error kind {s}"),
    }
}

fn load() -> Vec<Case> {
    let text = include_str!("vectors/tokenize.txt");
    let mut cases = Vec::new();
    let mut current: Option<Case> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let raw = raw.trim();
        if raw.starts_with('#') {
            continue;
        }
        if raw.is_empty() {
            if let Some(case) = current.take() {
                cases.push(case);
            }
            continue;
        }
        let (word, rest) = raw.split_once(' ').unwrap_or((raw, ""));
        let rest = rest.trim();
        if word == "in" {
            assert!(
                current.is_none(),
                "line {line}: case without a blank line before"
            );
            current = Some(Case {
                line,
                input: unescape(line, rest),
                flags: Flags::empty(),
                max: None,
                tokens: Vec::new(),
                end: Ok(()),
            });
            continue;
        }
        let case = current
            .as_mut()
            .unwrap_or_else(|| panic!("line {line}: no `in` line"));
        match word {
            "flags" if rest == "-" => {}
            "flags" => {
                for name in rest.split('|') {
                    let name = name.trim();
                    case.flags |= Flags::from_name(name)
                        .unwrap_or_else(|| panic!("line {line}: flag {name}"));
                }
            }
            "max" => case.max = Some(rest.parse().unwrap()),
            "end" => case.end = Ok(()),
            "err" => {
                let (k, at) = rest.split_once('@').unwrap();
                case.end = Err((error_kind(line, k), at.parse().unwrap()));
            }
            _ => {
                let (text, at) = match rest.rsplit_once(" @") {
                    Some((text, at)) if !at.contains('"') => (text, Some(at.parse().unwrap())),
                    _ => (rest, None),
                };
                let text = String::from_utf8(unescape(line, text)).unwrap();
                case.tokens.push((kind(line, word), text, at));
            }
        }
    }
    cases.extend(current);
    cases
}

fn tokenizer(input: &[u8], flags: Flags, max: Option<usize>) -> Tokenizer<'_> {
    let t = Tokenizer::new(input, flags);
    match max {
        Some(max) => t.max_token_len(max),
        None => t,
    }
}

fn run(case: &Case) -> (Vec<Token<'_>>, Result<(), TokenizeError>) {
    let mut tokens = Vec::new();
    for item in tokenizer(&case.input, case.flags, case.max) {
        match item {
            Ok(t) => tokens.push(t),
            Err(e) => return (tokens, Err(e)),
        }
    }
    (tokens, Ok(()))
}

#[test]
fn vectors() {
    let cases = load();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let (tokens, end) = run(case);
        let got: Vec<_> = tokens
            .iter()
            .map(|t| (t.kind(), t.text().to_owned(), t.offset()))
            .collect();
        let tokens_ok = got.len() == case.tokens.len()
            && got
                .iter()
                .zip(&case.tokens)
                .all(|(g, e)| g.0 == e.0 && g.1 == e.1 && e.2.is_none_or(|at| at == g.2));
        let end_ok = match (&end, &case.end) {
            (Ok(()), Ok(())) => true,
            (Err(g), Err((k, at))) => g.kind == *k && g.offset == *at,
            _ => false,
        };
        if !tokens_ok || !end_ok {
            failures.push(format!(
                "case at line {}: {:?}\n  expected {:?} then {:?}\n  got      {:?} then {:?}",
                case.line,
                String::from_utf8_lossy(&case.input),
                case.tokens,
                case.end,
                got,
                end
            ));
        }
        for t in &tokens {
            assert_eq!(
                &case.input[t.offset()..t.offset() + t.text().len()],
                t.text().as_bytes()
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Feed each vector in two pieces with `EXPECT_MORE` on the first: the result must equal the one-shot run.
#[test]
fn vectors_split_for_streaming() {
    for case in load() {
        if case.flags.contains(Flags::EXPECT_MORE) {
            continue;
        }
        let (whole, whole_end) = run(&case);
        let whole: Vec<_> = whole
            .iter()
            .map(|t| (t.kind(), t.text().to_owned(), t.offset()))
            .collect();
        for split in 0..=case.input.len() {
            let mut got = Vec::new();
            let mut first = tokenizer(
                &case.input[..split],
                case.flags | Flags::EXPECT_MORE,
                case.max,
            );
            let mut end = Ok(());
            let mut consumed = None;
            for item in first.by_ref() {
                match item {
                    Ok(t) => got.push((t.kind(), t.text().to_owned(), t.offset())),
                    Err(e) if e.is_need_more() => consumed = Some(e.offset),
                    Err(e) => end = Err(e),
                }
            }
            if let Some(consumed) = consumed {
                let mut cp = first.checkpoint();
                cp.set_flags(case.flags);
                let rest = &case.input[consumed..];
                for item in Tokenizer::resume(rest, cp) {
                    match item {
                        Ok(t) => got.push((t.kind(), t.text().to_owned(), t.offset() + consumed)),
                        Err(e) => {
                            end = Err(TokenizeError {
                                offset: e.offset + consumed,
                                ..e
                            })
                        }
                    }
                }
            }
            assert_eq!(
                (&got, &end),
                (&whole, &whole_end),
                "case at line {} split at {split}",
                case.line
            );
        }
    }
}

proptest::proptest! {
    /// Random inputs over an alphabet rich in special characters, any flags, any split point: streaming in two
    /// pieces equals tokenizing at once, and every token points into the input.
    #[test]
    fn random_inputs_stream_like_one_shot(
        input in proptest::collection::vec(proptest::sample::select(b"ab1 .,;=:\"\\#\n-*/+\xce\xb1\x80\0".to_vec()), 0..40),
        bits in 0u32..(1 << 15),
        split in 0usize..40,
        max in 0usize..16,
    ) {
        let flags = Flags::from_bits_truncate(bits).difference(Flags::EXPECT_MORE);
        let case = Case { line: 0, input, flags, max: Some(max), tokens: Vec::new(), end: Ok(()) };
        let (whole, whole_end) = run(&case);
        let whole: Vec<_> = whole.iter().map(|t| (t.kind(), t.text().to_owned(), t.offset())).collect();
        for (_, text, offset) in &whole {
            proptest::prop_assert_eq!(&case.input[*offset..offset + text.len()], text.as_bytes());
        }
        let split = split.min(case.input.len());
        let mut first = tokenizer(&case.input[..split], flags | Flags::EXPECT_MORE, case.max);
        let mut got = Vec::new();
        let mut end = Ok(());
        let mut consumed = None;
        for item in first.by_ref() {
            match item {
                Ok(t) => got.push((t.kind(), t.text().to_owned(), t.offset())),
                Err(e) if e.is_need_more() => consumed = Some(e.offset),
                Err(e) => end = Err(e),
            }
        }
        if let Some(consumed) = consumed {
            let mut cp = first.checkpoint();
            cp.set_flags(flags);
            for item in Tokenizer::resume(&case.input[consumed..], cp) {
                match item {
                    Ok(t) => got.push((t.kind(), t.text().to_owned(), t.offset() + consumed)),
                    Err(e) => end = Err(TokenizeError { offset: e.offset + consumed, ..e }),
                }
            }
        }
        proptest::prop_assert_eq!((got, end), (whole, whole_end));
    }
}
