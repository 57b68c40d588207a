//! `application/x-www-form-urlencoded` body parser: `name=value` pairs split on `&` or `;`, `+` for space,
//! `%XX` escapes; decoded incrementally so a chunk may end anywhere, inside an escape too.

use super::{FormError, FormEvent, FormLimits};

/// Streaming state of one urlencoded body: the decoded name and value of the pair being read.
#[derive(Debug)]
pub(super) struct UrlEncoded {
    name: Vec<u8>,
    value: Vec<u8>,
    /// The `=` of the current pair was seen: bytes go to `value`.
    in_value: bool,
    /// The current pair has any byte (so `a&&b` does not yield an empty field).
    started: bool,
    escape: Escape,
    fields: usize,
}

/// Progress through a `%XX` escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Percent,
    High(u8),
}

impl UrlEncoded {
    pub(super) fn new() -> UrlEncoded {
        UrlEncoded {
            name: Vec::new(),
            value: Vec::new(),
            in_value: false,
            started: false,
            escape: Escape::None,
            fields: 0,
        }
    }

    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        limits: &FormLimits,
        sink: &mut dyn FnMut(FormEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            match self.escape {
                Escape::Percent => {
                    self.escape = Escape::High(hex(b)?);
                    i += 1;
                    continue;
                }
                Escape::High(high) => {
                    self.escape = Escape::None;
                    self.push(&[high << 4 | hex(b)?], limits)?;
                    i += 1;
                    continue;
                }
                Escape::None => {}
            }
            match b {
                b'&' | b';' => self.end_pair(limits, sink)?,
                b'=' if !self.in_value => {
                    self.in_value = true;
                    self.started = true;
                }
                b'%' => {
                    self.escape = Escape::Percent;
                    self.started = true;
                }
                b'+' => self.push(b" ", limits)?,
                _ => {
                    // A run of literal bytes: the first one is literal even if it is `=` inside a value.
                    let end = chunk[i + 1..]
                        .iter()
                        .position(|&c| matches!(c, b'&' | b';' | b'=' | b'%' | b'+'))
                        .map_or(chunk.len(), |p| i + 1 + p);
                    self.push(&chunk[i..end], limits)?;
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        Ok(())
    }

    pub(super) fn finish(
        &mut self,
        limits: &FormLimits,
        sink: &mut dyn FnMut(FormEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        if self.escape != Escape::None {
            return Err(FormError::BadPercentEscape);
        }
        self.end_pair(limits, sink)
    }

    /// Appends decoded bytes to the name or value, refusing to grow past its limit.
    fn push(&mut self, bytes: &[u8], limits: &FormLimits) -> Result<(), FormError> {
        self.started = true;
        let (buf, max, err) = if self.in_value {
            (&mut self.value, limits.max_value, FormError::ValueTooLong)
        } else {
            (&mut self.name, limits.max_name, FormError::NameTooLong)
        };
        if buf.len() + bytes.len() > max {
            return Err(err);
        }
        buf.extend_from_slice(bytes);
        Ok(())
    }

    fn end_pair(
        &mut self,
        limits: &FormLimits,
        sink: &mut dyn FnMut(FormEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        if !self.started {
            return Ok(());
        }
        self.fields += 1;
        if self.fields > limits.max_fields {
            return Err(FormError::TooManyFields);
        }
        let name = std::str::from_utf8(&self.name).map_err(|_| FormError::InvalidUtf8)?;
        let value = std::str::from_utf8(&self.value).map_err(|_| FormError::InvalidUtf8)?;
        sink(FormEvent::Field { name, value })?;
        self.name.clear();
        self.value.clear();
        self.in_value = false;
        self.started = false;
        Ok(())
    }
}

fn hex(b: u8) -> Result<u8, FormError> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(FormError::BadPercentEscape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8], limits: &FormLimits) -> Result<Vec<(String, String)>, FormError> {
        let mut p = UrlEncoded::new();
        let mut out = Vec::new();
        let mut sink = |e: FormEvent<'_>| {
            if let FormEvent::Field { name, value } = e {
                out.push((name.to_owned(), value.to_owned()));
            }
            Ok(())
        };
        p.feed(body, limits, &mut sink)?;
        p.finish(limits, &mut sink)?;
        Ok(out)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn decodes_pairs() {
        let l = FormLimits::default();
        assert_eq!(
            parse(b"a=1&b=hello+world;c=%41%e2%82%ac&d&e=x=y&&", &l),
            Ok(pairs(&[
                ("a", "1"),
                ("b", "hello world"),
                ("c", "A\u{20ac}"),
                ("d", ""),
                ("e", "x=y"),
            ]))
        );
        assert_eq!(parse(b"", &l), Ok(vec![]));
        assert_eq!(parse(b"=v", &l), Ok(pairs(&[("", "v")])));
        assert_eq!(parse(b"%3D=%26", &l), Ok(pairs(&[("=", "&")])));
    }

    #[test]
    fn split_escape() {
        let l = FormLimits::default();
        let mut p = UrlEncoded::new();
        let mut out = Vec::new();
        let mut sink = |e: FormEvent<'_>| {
            if let FormEvent::Field { value, .. } = e {
                out.push(value.to_owned());
            }
            Ok(())
        };
        for c in [&b"k=%"[..], b"4", b"1%4", b"2"] {
            p.feed(c, &l, &mut sink).unwrap();
        }
        p.finish(&l, &mut sink).unwrap();
        assert_eq!(out, vec!["AB".to_owned()]);
    }

    #[test]
    fn errors() {
        let l = FormLimits::default();
        assert_eq!(parse(b"a=%4g", &l), Err(FormError::BadPercentEscape));
        assert_eq!(parse(b"a=%4", &l), Err(FormError::BadPercentEscape));
        assert_eq!(parse(b"a=%&", &l), Err(FormError::BadPercentEscape));
        assert_eq!(parse(b"a=%ff", &l), Err(FormError::InvalidUtf8));
        let small = FormLimits::default().max_name(3).max_value(4).max_fields(2);
        assert_eq!(
            parse(b"abc=abcd&x", &small),
            Ok(pairs(&[("abc", "abcd"), ("x", "")]))
        );
        assert_eq!(parse(b"abcd=1", &small), Err(FormError::NameTooLong));
        assert_eq!(
            parse(b"a=%41%41%41%41%41", &small),
            Err(FormError::ValueTooLong)
        );
        assert_eq!(parse(b"a&b&c", &small), Err(FormError::TooManyFields));
    }
}
