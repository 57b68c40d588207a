//! Fuzzes the form parsers: the first byte picks a chunk size, the rest is fed in chunks of that size as a
//! `multipart/form-data` body with boundary `XyZ`, then as an urlencoded body. Feeding whole and in chunks must
//! give the same events and the same outcome, and file events must nest properly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lws_proto::form::{FormError, FormEvent, FormKind, FormLimits, FormParser};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first) + 1;
    let limits = FormLimits::default().max_file_size(Some(1 << 16));
    let multipart = FormKind::Multipart {
        boundary: b"XyZ".to_vec(),
    };
    for kind in [multipart, FormKind::UrlEncoded] {
        let chunked = run(&kind, &limits, body.chunks(chunk));
        let whole = run(&kind, &limits, [body]);
        assert_eq!(chunked, whole, "chunking changed the result");
    }
});

/// Feeds the chunks then finishes; returns a log of the events (file pieces merged) and the outcome.
fn run<'a>(
    kind: &FormKind,
    limits: &FormLimits,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<String>, Result<(), FormError>) {
    let mut parser = FormParser::new(kind.clone(), limits.clone());
    let mut log: Vec<String> = Vec::new();
    let mut file: Option<Vec<u8>> = None;
    let mut sink = |e: FormEvent<'_>| -> Result<(), FormError> {
        match e {
            FormEvent::Field { name, value } => {
                assert!(file.is_none(), "field inside a file");
                log.push(format!("field {name:?}={value:?}"));
            }
            FormEvent::FileStart {
                name,
                filename,
                content_type,
            } => {
                assert!(file.is_none(), "nested file");
                file = Some(Vec::new());
                log.push(format!("start {name:?} {filename:?} {content_type:?}"));
            }
            FormEvent::FileData(d) => {
                assert!(!d.is_empty(), "empty file piece");
                file.as_mut()
                    .expect("data outside a file")
                    .extend_from_slice(d);
            }
            FormEvent::FileEnd => {
                let bytes = file.take().expect("end outside a file");
                log.push(format!("end {bytes:?}"));
            }
        }
        Ok(())
    };
    let mut result = Ok(());
    for c in chunks {
        result = parser.feed(c, &mut sink);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = parser.finish(&mut sink);
    }
    (log, result)
}
