//! Fuzz `lws_util::tokenize`: the first two bytes pick the flags and the third the token length limit, the rest is
//! the input. Every token must point into the input, chunks must respect the limit, the iterator must end within
//! one item per input byte (plus the end), and feeding the input in two pieces must give the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_util::tokenize::{Flags, TokenKind, TokenizeError, Tokenizer};

type Run = (Vec<(TokenKind, String, usize)>, Option<TokenizeError>);

fn run(input: &[u8], flags: Flags, max: usize) -> Run {
    let mut tokens = Vec::new();
    let mut error = None;
    let mut count = 0;
    for item in Tokenizer::new(input, flags).max_token_len(max) {
        count += 1;
        assert!(count <= input.len() + 1, "too many items");
        match item {
            Ok(t) => {
                assert_eq!(
                    &input[t.offset()..t.offset() + t.text().len()],
                    t.text().as_bytes()
                );
                assert!(t.text().len() <= max.max(8) || t.kind() == TokenKind::Delimiter);
                tokens.push((t.kind(), t.text().to_owned(), t.offset()));
            }
            Err(e) => {
                assert!(e.offset <= input.len());
                error = Some(e);
            }
        }
    }
    (tokens, error)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let flags = Flags::from_bits_truncate(u32::from(u16::from_le_bytes([data[0], data[1]])))
        .difference(Flags::EXPECT_MORE);
    let max = usize::from(data[2]);
    let split = usize::from(data[3]);
    let input = &data[4..];
    let whole = run(input, flags, max);

    let split = split.min(input.len());
    let mut first = Tokenizer::new(&input[..split], flags | Flags::EXPECT_MORE).max_token_len(max);
    let mut tokens = Vec::new();
    let mut error = None;
    let mut consumed = None;
    for item in first.by_ref() {
        match item {
            Ok(t) => tokens.push((t.kind(), t.text().to_owned(), t.offset())),
            Err(e) if e.is_need_more() => consumed = Some(e.offset),
            Err(e) => error = Some(e),
        }
    }
    if let Some(consumed) = consumed {
        let mut checkpoint = first.checkpoint();
        checkpoint.set_flags(flags);
        for item in Tokenizer::resume(&input[consumed..], checkpoint) {
            match item {
                Ok(t) => tokens.push((t.kind(), t.text().to_owned(), t.offset() + consumed)),
                Err(e) => {
                    error = Some(TokenizeError {
                        offset: e.offset + consumed,
                        ..e
                    })
                }
            }
        }
    }
    assert_eq!((tokens, error), whole);
});
