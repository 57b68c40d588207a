//! Data-driven checks of `lws_proto::uri` against `tests/vectors/uri-canonical.txt` and
//! `tests/vectors/uri-args.txt`; the file headers document the format. Every failing line is reported with its
//! line number, and all failures are collected before the test fails.

use lws_proto::uri::{parse_urlargs, Target, UriError};

const CANONICAL: &str = include_str!("vectors/uri-canonical.txt");
const ARGS: &str = include_str!("vectors/uri-args.txt");

#[test]
fn canonical_vectors() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (line_no, fields) in cases_of(CANONICAL) {
        cases += 1;
        if let Err(why) = check_canonical(&fields) {
            failures.push(format!("uri-canonical.txt:{line_no}: {why}"));
        }
    }
    assert!(cases >= 150, "only {cases} canonical cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn args_vectors() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (line_no, fields) in cases_of(ARGS) {
        cases += 1;
        if let Err(why) = check_args(&fields) {
            failures.push(format!("uri-args.txt:{line_no}: {why}"));
        }
    }
    assert!(cases >= 40, "only {cases} urlargs cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Check one `<raw> TAB <path|ERR:Variant> [TAB <-|?query>]` line.
fn check_canonical(fields: &[&str]) -> Result<(), String> {
    let [raw, expected, rest @ ..] = fields else {
        return Err(format!("expected 2 or 3 fields, got {}", fields.len()));
    };
    let raw = unescape(raw)?;
    let shown = String::from_utf8_lossy(&raw)
        .chars()
        .take(80)
        .collect::<String>();
    let got = Target::parse(&raw);
    if let Some(variant) = expected.strip_prefix("ERR:") {
        return match got {
            Err(error) if error_name(error) == variant => Ok(()),
            other => Err(format!("{shown:?}: expected ERR:{variant}, got {other:?}")),
        };
    }
    let [query] = rest else {
        return Err("an accepted case needs a query field".to_owned());
    };
    let expected_path = unescape_str(expected)?;
    let expected_query = match *query {
        "-" => None,
        q => match q.strip_prefix('?') {
            Some(q) => Some(unescape_str(q)?),
            None => return Err(format!("query field {q:?} must be '-' or start with '?'")),
        },
    };
    let target = got.map_err(|error| format!("{shown:?}: expected success, got {error:?}"))?;
    if target.path() != expected_path {
        return Err(format!(
            "{shown:?}: path {:?}, expected {expected_path:?}",
            target.path()
        ));
    }
    if target.query() != expected_query.as_deref() {
        return Err(format!(
            "{shown:?}: query {:?}, expected {expected_query:?}",
            target.query()
        ));
    }
    check_invariants(target.path()).map_err(|why| format!("{shown:?}: {why}"))
}

/// The properties every accepted path has, whatever the input.
fn check_invariants(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.contains("//") || path.contains('\0') {
        return Err(format!("path {path:?} is not canonical"));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(format!("path {path:?} keeps a dot segment"));
    }
    if !path.contains(['%', '?', '#']) {
        match Target::parse(path.as_bytes()) {
            Ok(again) if again.path() == path => {}
            other => return Err(format!("re-parsing {path:?} gave {other:?}")),
        }
    }
    Ok(())
}

/// Check one `<query> TAB <ERR:Variant | - | name=value...>` line.
fn check_args(fields: &[&str]) -> Result<(), String> {
    let [query, expected @ ..] = fields else {
        return Err("empty line".to_owned());
    };
    let query = unescape_str(query)?;
    let got = parse_urlargs(&query);
    let expected: Vec<(String, String)> = match expected {
        [] => return Err("missing expectation".to_owned()),
        [error] if error.starts_with("ERR:") => {
            let variant = &error["ERR:".len()..];
            return match got {
                Err(error) if error_name(error) == variant => Ok(()),
                other => Err(format!("{query:?}: expected ERR:{variant}, got {other:?}")),
            };
        }
        ["-"] => Vec::new(),
        pairs => pairs
            .iter()
            .map(|pair| {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("expected pair {pair:?} has no '='"))?;
                Ok((unescape_str(name)?, unescape_str(value)?))
            })
            .collect::<Result<_, String>>()?,
    };
    match got {
        Ok(args) if args == expected => Ok(()),
        other => Err(format!("{query:?}: got {other:?}, expected {expected:?}")),
    }
}

/// Non-comment, non-blank lines with their 1-based line numbers, split on TAB.
fn cases_of(file: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    file.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(index, line)| (index + 1, line.split('\t').collect()))
}

fn error_name(error: UriError) -> String {
    format!("{error:?}")
}

fn unescape_str(field: &str) -> Result<String, String> {
    String::from_utf8(unescape(field)?).map_err(|_| format!("{field:?} unescapes to non-UTF-8"))
}

/// Expand `\\`, `\xHH`, `\e` and `\rep(N,text)` as documented in the vector file headers.
fn unescape(field: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("bad escape in {field:?}");
    let mut out = Vec::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let escape = &rest[at + 1..];
        rest = if let Some(tail) = escape.strip_prefix('\\') {
            out.push(b'\\');
            tail
        } else if let Some(tail) = escape.strip_prefix('e') {
            tail
        } else if let Some(tail) = escape.strip_prefix('x') {
            let hex = tail.get(..2).ok_or_else(bad)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            &tail[2..]
        } else if let Some(tail) = escape.strip_prefix("rep(") {
            let (count, tail) = tail.split_once(',').ok_or_else(bad)?;
            let (text, tail) = tail.split_once(')').ok_or_else(bad)?;
            let count: usize = count.parse().map_err(|_| bad())?;
            out.extend_from_slice(text.repeat(count).as_bytes());
            tail
        } else {
            return Err(bad());
        };
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}
