//! A small position-aware JSON parser for lwsws config files.
//!
//! It accepts RFC 8259 JSON plus `#` comments running to the end of the line (outside strings), keeps the
//! line and column of every value and key so the config mapping can point at mistakes, rejects duplicate
//! keys and bounds the nesting depth. Numbers are kept as their source text: the config format treats them
//! as strings.

use std::fmt::Write as _;

/// Deepest allowed nesting of objects and arrays; lwsws configs use at most five levels.
pub const MAX_DEPTH: usize = 32;

/// A 1-based line and column (in characters) inside one config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub column: usize,
}

/// One parsed JSON value together with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Position of the first character of the value.
    pub pos: Pos,
    /// The value itself.
    pub kind: Kind,
}

/// The shape of a JSON value; object members keep their source order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// `[ ... ]`.
    Array(Vec<Value>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A number, kept as its source text.
    Number(String),
    /// `{ ... }`, members in source order, keys unique.
    Object(Vec<Member>),
    /// A string with escapes resolved.
    String(String),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key with escapes resolved.
    pub key: String,
    /// Position of the key's opening quote.
    pub key_pos: Pos,
    /// The member's value.
    pub value: Value,
}

/// Why a text is not acceptable JSON, with where and (when inside an object) under which key path.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the problem was found.
    pub pos: Pos,
    /// Dotted key path of the enclosing member (`vhosts[0].mounts`), empty at top level or for lexical errors.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl Kind {
    /// A short name of the value's type for error messages ("an object", "a string", ...).
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Array(_) => "an array",
            Kind::Bool(_) => "a boolean",
            Kind::Null => "null",
            Kind::Number(_) => "a number",
            Kind::Object(_) => "an object",
            Kind::String(_) => "a string",
        }
    }
}

/// Parse a whole document: exactly one value, surrounded only by whitespace and comments.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let mut p = Parser {
        src: text.as_bytes(),
        at: 0,
        pos: Pos { line: 1, column: 1 },
        path: Vec::new(),
    };
    p.skip_ws();
    if p.peek().is_none() {
        return Err(p.error("empty file: expected a JSON object"));
    }
    let v = p.value(0)?;
    p.skip_ws();
    if p.peek().is_some() {
        return Err(p.error("trailing characters after the top-level value"));
    }
    Ok(v)
}

/// One segment of the key path kept for error messages.
enum Seg {
    Key(String),
    Index(usize),
}

struct Parser<'a> {
    src: &'a [u8],
    at: usize,
    pos: Pos,
    path: Vec<Seg>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    /// Consume one byte, keeping line and column (columns count characters, not UTF-8 continuation bytes).
    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        if b == b'\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else if b & 0xc0 != 0x80 {
            self.pos.column += 1;
        }
        Some(b)
    }

    fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    // Writing to a String cannot fail.
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }

    fn error_at(&self, pos: Pos, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            path: self.path_string(),
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        self.error_at(self.pos, message)
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        match self.peek() {
            None => self.error(format!("unexpected end of file, expected {wanted}")),
            Some(_) => {
                let c = self.current_char();
                self.error(format!("unexpected {c:?}, expected {wanted}"))
            }
        }
    }

    fn current_char(&self) -> char {
        // The input came from a &str, so slicing at a byte we are positioned on (never a continuation byte when
        // this is called) yields valid UTF-8; fall back to U+FFFD defensively.
        std::str::from_utf8(&self.src[self.at..])
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or('\u{fffd}')
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    self.bump();
                }
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let pos = self.pos;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth + 1)?,
            Some(b'[') => self.array(depth + 1)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            _ => return Err(self.unexpected("a value")),
        };
        Ok(Value { pos, kind })
    }

    fn check_depth(&self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        self.check_depth(depth)?;
        self.bump();
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Kind::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a quoted key"));
            }
            let key_pos = self.pos;
            let key = self.string()?;
            if members.iter().any(|m| m.key == key) {
                self.path.push(Seg::Key(key.clone()));
                let e = self.error_at(key_pos, format!("duplicate key {key:?}"));
                self.path.pop();
                return Err(e);
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':' after the key"));
            }
            self.bump();
            self.skip_ws();
            self.path.push(Seg::Key(key.clone()));
            let value = self.value(depth)?;
            self.path.pop();
            members.push(Member {
                key,
                key_pos,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b'}') => {
                    self.bump();
                    return Ok(Kind::Object(members));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        self.check_depth(depth)?;
        self.bump();
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Kind::Array(items));
        }
        loop {
            self.skip_ws();
            self.path.push(Seg::Index(items.len()));
            let v = self.value(depth)?;
            self.path.pop();
            items.push(v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b']') => {
                    self.bump();
                    return Ok(Kind::Array(items));
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Result<Kind, SyntaxError> {
        if self.src[self.at..].starts_with(word.as_bytes()) {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(kind)
        } else if word.as_bytes().starts_with(&self.src[self.at..]) {
            Err(self.error("unexpected end of file, expected a value"))
        } else {
            Err(self.unexpected("a value"))
        }
    }

    fn number(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("a digit after '.'"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("a digit in the exponent"));
            }
            self.digits();
        }
        // Only ASCII digits, signs, '.' and 'e' were consumed, so this is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.src[start..self.at]).into_owned())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.bump();
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unexpected end of file inside a string"));
            };
            match b {
                b'"' => {
                    self.bump();
                    break;
                }
                b'\\' => {
                    let esc_pos = self.pos;
                    self.bump();
                    let c = match self.bump() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape(esc_pos)?,
                        None => return Err(self.error("unexpected end of file inside a string")),
                        Some(_) => return Err(self.error_at(esc_pos, "invalid escape sequence")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0x00..=0x1f => {
                    return Err(self.error("control character inside a string (use an escape)"));
                }
                _ => {
                    self.bump();
                    out.push(b);
                }
            }
        }
        // Bytes were copied from a &str only between ASCII delimiters, or produced from chars: valid UTF-8.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 inside a string"))
    }

    fn hex4(&mut self, esc_pos: Pos) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c) => (c as char).to_digit(16),
                None => None,
            };
            let Some(d) = d else {
                return Err(self.error_at(esc_pos, "\\u must be followed by four hex digits"));
            };
            self.bump();
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self, esc_pos: Pos) -> Result<char, SyntaxError> {
        let hi = self.hex4(esc_pos)?;
        let cp = if (0xd800..0xdc00).contains(&hi) {
            if !self.src[self.at..].starts_with(b"\\u") {
                return Err(self.error_at(esc_pos, "unpaired UTF-16 surrogate in \\u escape"));
            }
            self.bump();
            self.bump();
            let lo = self.hex4(esc_pos)?;
            if !(0xdc00..0xe000).contains(&lo) {
                return Err(self.error_at(esc_pos, "unpaired UTF-16 surrogate in \\u escape"));
            }
            0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
        } else {
            hi
        };
        char::from_u32(cp)
            .ok_or_else(|| self.error_at(esc_pos, "unpaired UTF-16 surrogate in \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: &Value) -> &[Member] {
        match &v.kind {
            Kind::Object(m) => m,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn parses_values_and_positions() {
        let v = parse(
            "{\n  \"a\": \"x\", # comment \"b\": 1\n  \"b\": [1, -2.5e3, true, false, null]\n}",
        )
        .unwrap();
        let m = obj(&v);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].key_pos, Pos { line: 2, column: 3 });
        assert_eq!(m[0].value.kind, Kind::String("x".into()));
        assert_eq!(m[1].key_pos, Pos { line: 3, column: 3 });
        let Kind::Array(items) = &m[1].value.kind else {
            panic!()
        };
        assert_eq!(items[1].kind, Kind::Number("-2.5e3".into()));
        assert_eq!(
            items[1].pos,
            Pos {
                line: 3,
                column: 12
            }
        );
        assert_eq!(items[4].kind, Kind::Null);
    }

    #[test]
    fn hash_inside_string_is_not_a_comment() {
        let v = parse(r##"{"a": "x # y"}"##).unwrap();
        assert_eq!(obj(&v)[0].value.kind, Kind::String("x # y".into()));
    }

    #[test]
    fn escapes() {
        let v = parse(r#"{"a": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#).unwrap();
        assert_eq!(
            obj(&v)[0].value.kind,
            Kind::String("q\"\\/\u{8}\u{c}\n\r\té😀".into())
        );
        assert!(parse(r#"{"a": "\ud83d"}"#).is_err());
        assert!(parse(r#"{"a": "\x"}"#).is_err());
        assert!(parse("{\"a\": \"tab\there\"}").is_err());
    }

    #[test]
    fn columns_count_characters() {
        let e = parse("{\"é\": @}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, column: 7 });
        assert_eq!(e.path, "é");
    }

    #[test]
    fn duplicate_key() {
        let e = parse("{\"a\": {\"b\": 1,\n \"b\": 2}}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, column: 2 });
        assert_eq!(e.path, "a.b");
        assert!(e.message.contains("duplicate key"), "{}", e.message);
    }

    #[test]
    fn trailing_garbage() {
        let e = parse("{}\n}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, column: 1 });
        assert!(e.message.contains("trailing"));
        assert!(parse("{} # fine\n").is_ok());
    }

    #[test]
    fn truncated() {
        for t in [
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\": \"x",
            "{\"a\": [1,",
            "{\"a\": tru",
            "",
        ] {
            let e = parse(t).unwrap_err();
            assert!(
                e.message.contains("end of file") || e.message.contains("empty"),
                "{t:?}: {e:?}"
            );
        }
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nesting"), "{e:?}");
        let huge = "[".repeat(100_000);
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn bad_numbers() {
        for t in ["[01]", "[1.]", "[-]", "[1e]", "[.5]", "[+1]"] {
            assert!(parse(t).is_err(), "{t}");
        }
    }
}
