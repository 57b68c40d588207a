//! Splitting fed text into case-folded words and lines, across chunk boundaries of any size.
//!
//! A word is a maximal run of Unicode alphanumeric characters and `_`, folded with `char::to_lowercase`.
//! Bytes that are not valid UTF-8 separate words; a UTF-8 sequence split between two chunks is carried over.
//! Lines end at `\n`; their lengths (in bytes, including the `\n`) are reported so line starts can be found.

/// What the tokenizer reports.
pub(crate) trait TokenSink {
    /// A complete word (folded UTF-8 bytes) on line `line` (1-based).
    fn word(&mut self, word: &[u8], line: u32);
    /// A line of `len` bytes ended.
    fn line_end(&mut self, len: u64);
}

/// Tokenizer state for one file.
#[derive(Debug)]
pub(crate) struct Tokenizer {
    carry: Vec<u8>,
    scratch: Vec<u8>,
    word: Vec<u8>,
    word_too_long: bool,
    max_word: usize,
    line: u32,
    line_len: u64,
}

impl Tokenizer {
    /// A tokenizer that drops words longer than `max_word` bytes (after folding).
    pub(crate) fn new(max_word: usize) -> Self {
        Tokenizer {
            carry: Vec::new(),
            scratch: Vec::new(),
            word: Vec::new(),
            word_too_long: false,
            max_word,
            line: 1,
            line_len: 0,
        }
    }

    /// Feeds the next chunk of the file.
    pub(crate) fn feed(&mut self, chunk: &[u8], sink: &mut impl TokenSink) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let data: &[u8] = if self.carry.is_empty() {
            chunk
        } else {
            scratch.clear();
            scratch.append(&mut self.carry);
            scratch.extend_from_slice(chunk);
            &scratch
        };
        let mut rest = data;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    self.scan(s, sink);
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    if let Ok(s) = std::str::from_utf8(good) {
                        self.scan(s, sink);
                    }
                    match e.error_len() {
                        Some(n) => {
                            self.end_word(sink);
                            self.line_len += n as u64;
                            rest = &bad[n..];
                        }
                        None => {
                            self.carry.extend_from_slice(bad);
                            break;
                        }
                    }
                }
            }
        }
        self.scratch = scratch;
    }

    /// Ends the file: flushes the last word and the last line if it had no `\n`.
    pub(crate) fn finish(&mut self, sink: &mut impl TokenSink) {
        self.end_word(sink);
        self.line_len += self.carry.len() as u64;
        self.carry.clear();
        if self.line_len > 0 {
            sink.line_end(self.line_len);
            self.line_len = 0;
        }
    }

    fn scan(&mut self, s: &str, sink: &mut impl TokenSink) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c < 0x80 {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    self.push(&[c.to_ascii_lowercase()]);
                } else {
                    self.end_word(sink);
                    if c == b'\n' {
                        sink.line_end(self.line_len + 1);
                        self.line = self.line.saturating_add(1);
                        self.line_len = 0;
                        i += 1;
                        continue;
                    }
                }
                self.line_len += 1;
                i += 1;
                continue;
            }
            // `i` is always on a char boundary of `s`, so there is a next char.
            let Some(ch) = s[i..].chars().next() else {
                break;
            };
            let n = ch.len_utf8();
            if ch.is_alphanumeric() {
                let mut tmp = [0u8; 4];
                for lc in ch.to_lowercase() {
                    self.push(lc.encode_utf8(&mut tmp).as_bytes());
                }
            } else {
                self.end_word(sink);
            }
            self.line_len += n as u64;
            i += n;
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.word.len() + bytes.len() > self.max_word {
            self.word_too_long = true;
        } else {
            self.word.extend_from_slice(bytes);
        }
    }

    fn end_word(&mut self, sink: &mut impl TokenSink) {
        if !self.word.is_empty() && !self.word_too_long {
            sink.word(&self.word, self.line);
        }
        self.word.clear();
        self.word_too_long = false;
    }
}

/// Folds a query the way indexed text is folded; characters that cannot be part of a word are dropped.
pub(crate) fn fold(s: &str) -> Vec<u8> {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch == '_' || ch.is_alphanumeric() {
            out.extend(ch.to_lowercase());
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        words: Vec<(String, u32)>,
        lines: Vec<u64>,
    }

    impl TokenSink for Collect {
        fn word(&mut self, w: &[u8], line: u32) {
            self.words
                .push((String::from_utf8(w.to_vec()).unwrap(), line));
        }
        fn line_end(&mut self, len: u64) {
            self.lines.push(len);
        }
    }

    fn run(chunks: &[&[u8]]) -> Collect {
        let mut t = Tokenizer::new(16);
        let mut c = Collect::default();
        for ch in chunks {
            t.feed(ch, &mut c);
        }
        t.finish(&mut c);
        c
    }

    #[test]
    fn words_lines_and_folding() {
        let c = run(&["Hello, Wörld!\nSECOND_line ÉTÉ\nx".as_bytes()]);
        let w: Vec<_> = c.words.iter().map(|(w, l)| (w.as_str(), *l)).collect();
        assert_eq!(
            w,
            [
                ("hello", 1),
                ("wörld", 1),
                ("second_line", 2),
                ("été", 2),
                ("x", 3)
            ]
        );
        assert_eq!(c.lines, [15, 18, 1]);
    }

    #[test]
    fn chunk_boundaries_anywhere() {
        let text = "ünïcödé wörds\nsplit ÄÖÜ everywhere\n".as_bytes();
        let whole = run(&[text]);
        for cut in 0..text.len() {
            let c = run(&[&text[..cut], &text[cut..]]);
            assert_eq!(c.words, whole.words, "cut at {cut}");
            assert_eq!(c.lines, whole.lines, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(run(&bytes).words, whole.words);
    }

    #[test]
    fn invalid_utf8_separates_and_long_words_drop() {
        let c = run(&[b"ab\xffcd \xe2\x82 x\n", b"aaaaaaaaaaaaaaaaaaaaaaaaaa ok"]);
        let w: Vec<_> = c.words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(w, ["ab", "cd", "x", "ok"]);
        assert_eq!(c.lines, [11, 29]);
    }
}
