//! A zero-allocation tokenizer for header values and small config languages, after libwebsockets' `lws_tokenize`.
//!
//! [`Tokenizer`] walks a `&[u8]` (or `&str`) and yields [`Token`]s that borrow from it: plain tokens, integers,
//! floats, single-character delimiters, `name=` / `name:` forms and quoted strings. [`Flags`] select which characters
//! end a token, whether `tok , tok , tok` list syntax is enforced, whether `#` starts a comment, and whether running
//! out of input is final or only means "feed me more" (streaming, see [`Checkpoint`]).
//!
//! Character classes, by default:
//! - whitespace (`' '`, `\t`, `\n`, `\r`, `\f`) separates tokens and is never reported;
//! - token characters are ASCII letters, digits, `_` and every non-ASCII (UTF-8) character; the UTF-8 is validated;
//! - every other ASCII character is a one-character [`TokenKind::Delimiter`], unless a `*_NONTERM` flag makes it a
//!   token character; with [`Flags::RFC7230_DELIMS`] only `(),/:;<=>?@[\]{}` (plus `-` `.` `*` `=` unless their
//!   `*_NONTERM` flag is set) are delimiters and every other character is a token character;
//! - `"..."` is a [`TokenKind::QuotedString`];
//! - a token made only of digits is an [`TokenKind::Integer`], digits with one `.` a [`TokenKind::Float`];
//! - a token followed (after optional whitespace) by `=` is reported once as [`TokenKind::TokenNameEquals`], the `=`
//!   swallowed; with [`Flags::AGG_COLON`] the same goes for `:` and [`TokenKind::TokenNameColon`];
//! - a NUL byte ends the input, as the end of a C string does in libwebsockets.
//!
//! Differences from libwebsockets, chosen on purpose:
//! - quoted strings honour RFC 7230 quoted-pairs: `\"` does not end the string. The token text is the raw span
//!   between the quotes (escapes intact, so no allocation); [`Token::unquoted`] or [`unescape`] remove them;
//! - a `"` right after a token ends that token (which is reported) and opens a quoted string; libwebsockets drops the
//!   pending token;
//! - streaming does not copy into an internal buffer: when input runs out, [`ErrorKind::NeedMore`] says how many
//!   bytes are final, and the caller resumes with the unconsumed tail plus new bytes (see [`Checkpoint`]);
//! - a NUL ends the input for good, even with [`Flags::EXPECT_MORE`];
//! - after an error the iterator is finished (returns `None`).

use std::borrow::Cow;
use std::fmt;
use std::iter::FusedIterator;
use std::ops::{BitOr, BitOrAssign};

/// The default for [`Tokenizer::max_token_len`]: libwebsockets collects tokens in a 256-byte buffer.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 256;

/// The smallest accepted [`Tokenizer::max_token_len`]: one escape pair plus a four-byte character must fit a chunk.
pub const MIN_MAX_TOKEN_LEN: usize = 8;

/// Options for a [`Tokenizer`], combined with `|`; the names and meanings are those of `LWS_TOKENIZE_F_*`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

impl Flags {
    /// `-` is a token character, so `my-token` is one token.
    pub const MINUS_NONTERM: Flags = Flags(1 << 0);
    /// Report `name:` as one [`TokenKind::TokenNameColon`] (for `Header: value` lines).
    pub const AGG_COLON: Flags = Flags(1 << 1);
    /// Enforce `tok , tok , tok`: no leading, trailing or doubled comma, no other delimiter, no two tokens in a row.
    pub const COMMA_SEP_LIST: Flags = Flags(1 << 2);
    /// Token characters are RFC 7230 `tchar`s: only `(),/:;<=>?@[\]{}` (and `-` `.` `*` `=` without their
    /// `*_NONTERM` flag) delimit.
    pub const RFC7230_DELIMS: Flags = Flags(1 << 3);
    /// `.` is a token character, so `warmcat.com` is one token.
    pub const DOT_NONTERM: Flags = Flags(1 << 4);
    /// Never report floats, so dotted quads like `192.168.0.1` stay tokens and `1.myserver` is no malformed float.
    pub const NO_FLOATS: Flags = Flags(1 << 5);
    /// Report integers as plain tokens.
    pub const NO_INTEGERS: Flags = Flags(1 << 6);
    /// `#` outside a quoted string makes the rest of the line a comment.
    pub const HASH_COMMENT: Flags = Flags(1 << 7);
    /// `/` is a token character, so `multipart/related` is one token.
    pub const SLASH_NONTERM: Flags = Flags(1 << 8);
    /// `*` is a token character, so `myfile*` is one token.
    pub const ASTERISK_NONTERM: Flags = Flags(1 << 9);
    /// `=` is a token character, so `x=y` is one token (and no [`TokenKind::TokenNameEquals`] is reported).
    pub const EQUALS_NONTERM: Flags = Flags(1 << 10);
    /// `:` is a token character, so `::1` is one token.
    pub const COLON_NONTERM: Flags = Flags(1 << 11);
    /// The input is one piece of a stream: running out of it yields [`ErrorKind::NeedMore`] instead of ending.
    pub const EXPECT_MORE: Flags = Flags(1 << 12);
    /// `+` is a token character, so `a+b` is one token.
    pub const PLUS_NONTERM: Flags = Flags(1 << 13);
    /// Deliver tokens and quoted strings longer than the maximum in pieces ([`TokenKind::TokenChunk`],
    /// [`TokenKind::QuotedStringChunk`]) instead of failing with [`ErrorKind::TooLong`].
    pub const CHUNK: Flags = Flags(1 << 14);

    const NAMES: [(&'static str, Flags); 15] = [
        ("MINUS_NONTERM", Flags::MINUS_NONTERM),
        ("AGG_COLON", Flags::AGG_COLON),
        ("COMMA_SEP_LIST", Flags::COMMA_SEP_LIST),
        ("RFC7230_DELIMS", Flags::RFC7230_DELIMS),
        ("DOT_NONTERM", Flags::DOT_NONTERM),
        ("NO_FLOATS", Flags::NO_FLOATS),
        ("NO_INTEGERS", Flags::NO_INTEGERS),
        ("HASH_COMMENT", Flags::HASH_COMMENT),
        ("SLASH_NONTERM", Flags::SLASH_NONTERM),
        ("ASTERISK_NONTERM", Flags::ASTERISK_NONTERM),
        ("EQUALS_NONTERM", Flags::EQUALS_NONTERM),
        ("COLON_NONTERM", Flags::COLON_NONTERM),
        ("EXPECT_MORE", Flags::EXPECT_MORE),
        ("PLUS_NONTERM", Flags::PLUS_NONTERM),
        ("CHUNK", Flags::CHUNK),
    ];

    /// No flags: the libwebsockets defaults.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The raw bits, equal to the `LWS_TOKENIZE_F_*` values (so configurations can be stored as numbers).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Flags from raw bits; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u32) -> Flags {
        Flags(bits & ((1 << Flags::NAMES.len()) - 1))
    }

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the flags of `other` added.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// `self` with the flags of `other` removed.
    pub const fn difference(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }

    /// The flag named like its constant (`"MINUS_NONTERM"`), so flag sets can come from text.
    pub fn from_name(name: &str) -> Option<Flags> {
        Flags::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        f.write_str("Flags(")?;
        for (name, flag) in Flags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        f.write_str(")")
    }
}

/// What a [`Token`] is; the `LWS_TOKZE_*` results that are not errors or the end.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// One delimiter character (`,`, `;`, `(`, ...).
    Delimiter,
    /// A run of token characters that is not a number.
    Token,
    /// A run of ASCII digits (never with [`Flags::NO_INTEGERS`]).
    Integer,
    /// Digits with one `.` in them, as in `q=0.9` (never with [`Flags::NO_FLOATS`]).
    Float,
    /// `name =`: the text is `name`, the `=` was consumed.
    TokenNameEquals,
    /// `name :` with [`Flags::AGG_COLON`]: the text is `name`, the `:` was consumed.
    TokenNameColon,
    /// `"..."`: the text is the raw content between the quotes, quoted-pairs (`\"`) still escaped.
    QuotedString,
    /// With [`Flags::CHUNK`], a leading piece of a token longer than the maximum; the last piece has the kind of the
    /// whole token.
    TokenChunk,
    /// With [`Flags::CHUNK`], a leading piece of an over-long quoted string; the last piece is a
    /// [`TokenKind::QuotedString`].
    QuotedStringChunk,
}

/// One element found by the [`Tokenizer`], borrowing its text from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token<'a> {
    kind: TokenKind,
    text: &'a str,
    offset: usize,
}

impl<'a> Token<'a> {
    /// What was found.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The text: the token, the delimiter, the name before `=`/`:`, or the raw content of a quoted string.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The byte offset of [`Token::text`] in the input, so `&input[offset..offset + text.len()] == text`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The delimiter character, when this is a [`TokenKind::Delimiter`].
    pub fn delimiter(&self) -> Option<char> {
        match self.kind {
            TokenKind::Delimiter => self.text.chars().next(),
            _ => None,
        }
    }

    /// The value of an [`TokenKind::Integer`], `None` for other kinds or when it does not fit a `u64`.
    pub fn integer(&self) -> Option<u64> {
        match self.kind {
            TokenKind::Integer => self.text.parse().ok(),
            _ => None,
        }
    }

    /// The value of a [`TokenKind::Float`] or [`TokenKind::Integer`], `None` for other kinds.
    pub fn float(&self) -> Option<f64> {
        match self.kind {
            TokenKind::Float | TokenKind::Integer => self.text.parse().ok(),
            _ => None,
        }
    }

    /// The text with quoted-pairs resolved for quoted strings (borrowed unless there was a `\`), the plain text
    /// otherwise.
    pub fn unquoted(&self) -> Cow<'a, str> {
        match self.kind {
            TokenKind::QuotedString | TokenKind::QuotedStringChunk => unescape(self.text),
            _ => Cow::Borrowed(self.text),
        }
    }
}

/// Resolve RFC 7230 quoted-pairs (`\x` means `x`) in the raw content of a quoted string; allocates only when there
/// is a backslash. A lone trailing backslash is kept.
pub fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Why tokenizing stopped; the `LWS_TOKZE_ERR_*`, `WANT_READ` and `TOO_LONG` results.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Flags::COMMA_SEP_LIST`] was violated: `,tok`, `tok,,`, `tok,`, `tok tok` or a delimiter other than `,`.
    /// The offset is the offending byte, or the input length for a trailing comma.
    CommaList,
    /// A number was followed by `=`, as in `123=`. The offset is that of the `=`.
    NumOnLhs,
    /// A second `.` in a number, as in `0..1` or `0.1.1`. The offset is that of the second `.`.
    MalformedFloat,
    /// The input ended inside `"..."`. The offset is that of the opening quote (or of the unfinished piece when the
    /// string was being chunked).
    UnterminatedString,
    /// The input is not UTF-8 (or ends in the middle of a character). The offset is that of the first bad byte.
    BrokenUtf8,
    /// Not a failure: with [`Flags::EXPECT_MORE`] the input ran out. The offset is how many bytes were fully
    /// consumed; resume with the rest plus more input, see [`Checkpoint`].
    NeedMore,
    /// A token or quoted string is longer than [`Tokenizer::max_token_len`] and [`Flags::CHUNK`] is not set. The
    /// offset is where the token (or its quoted content) starts.
    TooLong,
}

/// A tokenizing error (or [`ErrorKind::NeedMore`]) with the byte offset in the input where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenizeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The byte offset in the input; the meaning per kind is documented on [`ErrorKind`].
    pub offset: usize,
}

impl TokenizeError {
    /// Whether this is [`ErrorKind::NeedMore`], which is not a failure but a request for more input.
    pub fn is_need_more(&self) -> bool {
        self.kind == ErrorKind::NeedMore
    }
}

impl fmt::Display for TokenizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::CommaList => "broken comma-separated list",
            ErrorKind::NumOnLhs => "number on the left of '='",
            ErrorKind::MalformedFloat => "malformed float",
            ErrorKind::UnterminatedString => "unterminated quoted string",
            ErrorKind::BrokenUtf8 => "broken UTF-8",
            ErrorKind::NeedMore => "more input needed",
            ErrorKind::TooLong => "token too long",
        };
        write!(f, "{what} at byte {}", self.offset)
    }
}

impl std::error::Error for TokenizeError {}

/// The state a [`Tokenizer`] carries from one input piece to the next in streaming mode; owns no input.
///
/// On [`ErrorKind::NeedMore`] with offset `n`, take `tokenizer.checkpoint()`, drop the first `n` bytes of your
/// buffer, append the new bytes, and call [`Tokenizer::resume`] on the buffer. When the stream has ended, clear
/// [`Flags::EXPECT_MORE`] with [`Checkpoint::set_flags`] so the last token is reported. Offsets of the resumed
/// tokenizer count from the start of the new buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    flags: Flags,
    max_token_len: usize,
    list: ListState,
    cont: Continuation,
    in_comment: bool,
}

impl Checkpoint {
    /// The flags the resumed tokenizer will use.
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// Change the flags for the resumed tokenizer, typically to remove [`Flags::EXPECT_MORE`] at the end of the
    /// stream.
    pub fn set_flags(&mut self, flags: Flags) {
        self.flags = flags;
    }
}

/// Where a `tok , tok` list stands (`LWSTZ_DT_NEED_FIRST_CONTENT`, `_NEED_DELIM`, `_NEED_NEXT_CONTENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListState {
    Start,
    AfterItem,
    AfterComma,
}

/// An over-long token or string cut into chunks continues here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Continuation {
    None,
    Token { num: Num, float: bool },
    Quoted,
}

/// Whether the token seen so far is a number (libwebsockets' tri-state `num`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Unknown,
    Digits,
    Not,
}

/// The scanner state within one element (`LWS_TOKZS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Leading,
    Token,
    PostTerminal,
    Quoted,
}

/// The RFC 7230 delimiters, the only ones with [`Flags::RFC7230_DELIMS`].
const RFC7230_DELIMS: &[u8] = b"(),/:;<=>?@[\\]{}";

/// Iterator over the [`Token`]s of an input; see the module documentation for the rules.
///
/// Yields `Ok(token)` for each element, then `None` at the end, or one `Err` and then `None`.
#[derive(Clone, Debug)]
pub struct Tokenizer<'a> {
    /// The input up to the first NUL or invalid UTF-8.
    text: &'a str,
    /// What follows `text` when it is not the whole input.
    tail: Tail,
    pos: usize,
    flags: Flags,
    max_token_len: usize,
    list: ListState,
    cont: Continuation,
    in_comment: bool,
    done: bool,
}

/// What ends the scannable text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    /// The input ends there.
    End,
    /// A NUL byte: the input ends there for good.
    Nul,
    /// A byte that can never start valid UTF-8 there.
    BadUtf8,
    /// A UTF-8 sequence cut short by the end of the input.
    PartialUtf8,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `input` with `flags` and the default limits.
    pub fn new(input: &'a (impl AsRef<[u8]> + ?Sized), flags: Flags) -> Tokenizer<'a> {
        Tokenizer::resume(
            input.as_ref(),
            Checkpoint {
                flags,
                max_token_len: DEFAULT_MAX_TOKEN_LEN,
                list: ListState::Start,
                cont: Continuation::None,
                in_comment: false,
            },
        )
    }

    /// A tokenizer continuing a stream on a new buffer (the unconsumed tail of the last one plus new bytes), in the
    /// state saved by [`Tokenizer::checkpoint`].
    pub fn resume(input: &'a [u8], checkpoint: Checkpoint) -> Tokenizer<'a> {
        let (valid, mut tail) = match std::str::from_utf8(input) {
            Ok(s) => (s, Tail::End),
            Err(e) => {
                let tail = if e.error_len().is_some() {
                    Tail::BadUtf8
                } else {
                    Tail::PartialUtf8
                };
                // `valid_up_to` is by definition the length of the longest valid prefix.
                (
                    std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or(""),
                    tail,
                )
            }
        };
        let text = match valid.find('\0') {
            Some(nul) => {
                tail = Tail::Nul;
                &valid[..nul]
            }
            None => valid,
        };
        Tokenizer {
            text,
            tail,
            pos: 0,
            flags: checkpoint.flags,
            max_token_len: checkpoint.max_token_len,
            list: checkpoint.list,
            cont: checkpoint.cont,
            in_comment: checkpoint.in_comment,
            done: false,
        }
    }

    /// Set the longest token or quoted string accepted (bytes, default [`DEFAULT_MAX_TOKEN_LEN`], at least
    /// [`MIN_MAX_TOKEN_LEN`]); longer ones fail with [`ErrorKind::TooLong`] or, with [`Flags::CHUNK`], come in
    /// pieces of at most this size. The tokens borrow from the input, so this bounds what a caller copying them
    /// must hold, not what the tokenizer uses.
    pub fn max_token_len(mut self, max: usize) -> Tokenizer<'a> {
        self.max_token_len = max.max(MIN_MAX_TOKEN_LEN);
        self
    }

    /// The flags in use.
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// How many bytes of the input have been consumed by the elements reported so far.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The state to carry into [`Tokenizer::resume`] after [`ErrorKind::NeedMore`].
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            flags: self.flags,
            max_token_len: self.max_token_len,
            list: self.list,
            cont: self.cont,
            in_comment: self.in_comment,
        }
    }

    fn has(&self, flag: Flags) -> bool {
        self.flags.contains(flag)
    }

    /// Whether ASCII byte `c` ends a token and is reported as a delimiter.
    fn is_delimiter(&self, c: u8) -> bool {
        let nonterm = match c {
            b'-' => Some(Flags::MINUS_NONTERM),
            b'.' => Some(Flags::DOT_NONTERM),
            b'*' => Some(Flags::ASTERISK_NONTERM),
            b'=' => Some(Flags::EQUALS_NONTERM),
            b':' => Some(Flags::COLON_NONTERM),
            b'/' => Some(Flags::SLASH_NONTERM),
            b'+' => Some(Flags::PLUS_NONTERM),
            _ => None,
        };
        if let Some(flag) = nonterm {
            if self.has(flag) {
                return false;
            }
            if c != b'+' {
                // `-`, `.`, `*` and `=` delimit in both modes unless their flag says otherwise; `:` and `/` are
                // RFC 7230 delimiters anyway.
                return true;
            }
        }
        if self.has(Flags::RFC7230_DELIMS) {
            RFC7230_DELIMS.contains(&c)
        } else {
            !(c.is_ascii_alphanumeric() || c == b'_')
        }
    }

    fn token(&mut self, kind: TokenKind, start: usize, end: usize, next: usize) -> Token<'a> {
        self.pos = next;
        Token {
            kind,
            text: &self.text[start..end],
            offset: start,
        }
    }

    fn fail(&mut self, kind: ErrorKind, offset: usize) -> TokenizeError {
        self.done = true;
        TokenizeError { kind, offset }
    }

    /// The length of the unit (one character, or a quoted-pair in a string) starting at `p`.
    fn unit_len(&self, p: usize, quoted: bool) -> usize {
        let bytes = self.text.as_bytes();
        let char_len = |at: usize| match bytes.get(at) {
            Some(&b) if b >= 0xf0 => 4,
            Some(&b) if b >= 0xe0 => 3,
            Some(&b) if b >= 0xc0 => 2,
            Some(_) => 1,
            None => 0,
        };
        if quoted && bytes[p] == b'\\' {
            1 + char_len(p + 1)
        } else {
            char_len(p)
        }
    }

    fn scan(&mut self) -> Option<Result<Token<'a>, TokenizeError>> {
        let bytes = self.text.as_bytes();
        let (mut state, mut num, mut float) = match self.cont {
            Continuation::None => (State::Leading, Num::Unknown, false),
            Continuation::Token { num, float } => (State::Token, num, float),
            Continuation::Quoted => (State::Quoted, Num::Unknown, false),
        };
        if self.has(Flags::NO_INTEGERS) {
            num = Num::Not;
        }
        let mut p = self.pos;
        // Where the current element starts, its text starts and ends, and the list state before it (all for
        // rewinding on NeedMore and for reporting).
        let mut elem_start = p;
        let mut start = p;
        let mut end = p;
        let mut list_before = self.list;

        loop {
            if p >= bytes.len() {
                return self.ran_out(state, num, float, elem_start, start, end, list_before);
            }
            let c = bytes[p];

            if self.in_comment {
                if c != b'\r' && c != b'\n' {
                    p += 1;
                    continue;
                }
                self.in_comment = false;
            }

            if state == State::Quoted {
                match c {
                    b'"' => {
                        self.cont = Continuation::None;
                        return Some(Ok(self.token(TokenKind::QuotedString, start, p, p + 1)));
                    }
                    _ => {
                        let unit = self.unit_len(p, true);
                        if p + unit > bytes.len() {
                            // A backslash as the last byte: the pair is incomplete.
                            p = bytes.len();
                            continue;
                        }
                        if p + unit - start > self.max_token_len {
                            if !self.has(Flags::CHUNK) {
                                return Some(Err(self.fail(ErrorKind::TooLong, start)));
                            }
                            self.cont = Continuation::Quoted;
                            return Some(Ok(self.token(TokenKind::QuotedStringChunk, start, p, p)));
                        }
                        p += unit;
                        continue;
                    }
                }
            }

            if self.has(Flags::HASH_COMMENT) && c == b'#' {
                if state == State::Token {
                    end = p;
                    state = State::PostTerminal;
                }
                self.in_comment = true;
                p += 1;
                continue;
            }

            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c) {
                if state == State::Token {
                    end = p;
                    state = State::PostTerminal;
                }
                p += 1;
                continue;
            }

            if state == State::Token {
                end = p;
            }

            if c == b'"' {
                if state != State::Leading {
                    return Some(Ok(self.pending(num, float, start, end, p)));
                }
                list_before = self.list;
                if let Err(e) = self.list_content(p) {
                    return Some(Err(e));
                }
                state = State::Quoted;
                elem_start = p;
                start = p + 1;
                p += 1;
                continue;
            }

            if matches!(state, State::Token | State::PostTerminal) {
                if c == b'=' && !self.has(Flags::EQUALS_NONTERM) {
                    if num == Num::Digits {
                        return Some(Err(self.fail(ErrorKind::NumOnLhs, p)));
                    }
                    self.cont = Continuation::None;
                    return Some(Ok(self.token(
                        TokenKind::TokenNameEquals,
                        start,
                        end,
                        p + 1,
                    )));
                }
                if c == b':' && self.has(Flags::AGG_COLON) {
                    self.cont = Continuation::None;
                    return Some(Ok(self.token(TokenKind::TokenNameColon, start, end, p + 1)));
                }
            }

            let float_dot = c == b'.'
                && state == State::Token
                && num == Num::Digits
                && !self.has(Flags::NO_FLOATS);
            if float_dot && float {
                return Some(Err(self.fail(ErrorKind::MalformedFloat, p)));
            }

            if !float_dot && c < 0x80 && self.is_delimiter(c) {
                if state != State::Leading {
                    return Some(Ok(self.pending(num, float, start, end, p)));
                }
                if self.has(Flags::COMMA_SEP_LIST) {
                    if c != b',' || self.list != ListState::AfterItem {
                        return Some(Err(self.fail(ErrorKind::CommaList, p)));
                    }
                    self.list = ListState::AfterComma;
                }
                return Some(Ok(self.token(TokenKind::Delimiter, p, p + 1, p + 1)));
            }

            // Token content.
            match state {
                State::Leading => {
                    list_before = self.list;
                    if let Err(e) = self.list_content(p) {
                        return Some(Err(e));
                    }
                    state = State::Token;
                    elem_start = p;
                    start = p;
                }
                State::PostTerminal => return Some(Ok(self.pending(num, float, start, end, p))),
                State::Token | State::Quoted => {}
            }
            let unit = self.unit_len(p, false);
            if p + unit - start > self.max_token_len {
                if !self.has(Flags::CHUNK) {
                    return Some(Err(self.fail(ErrorKind::TooLong, start)));
                }
                self.cont = Continuation::Token { num, float };
                return Some(Ok(self.token(TokenKind::TokenChunk, start, p, p)));
            }
            if float_dot {
                float = true;
            } else if num != Num::Not {
                num = if c.is_ascii_digit() {
                    Num::Digits
                } else {
                    Num::Not
                };
            }
            p += unit;
            end = p;
        }
    }

    /// A token or quoted string starts at `p`: check and advance the `tok , tok` list state.
    fn list_content(&mut self, p: usize) -> Result<(), TokenizeError> {
        if self.has(Flags::COMMA_SEP_LIST) {
            if self.list == ListState::AfterItem {
                return Err(self.fail(ErrorKind::CommaList, p));
            }
            self.list = ListState::AfterItem;
        }
        Ok(())
    }

    /// Report the token `start..end`; scanning resumes at `next`.
    fn pending(
        &mut self,
        num: Num,
        float: bool,
        start: usize,
        end: usize,
        next: usize,
    ) -> Token<'a> {
        self.cont = Continuation::None;
        let kind = match (num, float) {
            (Num::Digits, true) => TokenKind::Float,
            (Num::Digits, false) => TokenKind::Integer,
            _ => TokenKind::Token,
        };
        self.token(kind, start, end, next)
    }

    #[allow(clippy::too_many_arguments)]
    fn ran_out(
        &mut self,
        state: State,
        num: Num,
        float: bool,
        elem_start: usize,
        start: usize,
        end: usize,
        list_before: ListState,
    ) -> Option<Result<Token<'a>, TokenizeError>> {
        let len = self.text.len();
        if self.tail == Tail::BadUtf8 {
            return Some(Err(self.fail(ErrorKind::BrokenUtf8, len)));
        }
        if self.has(Flags::EXPECT_MORE) && self.tail != Tail::Nul {
            // Everything before the unfinished element is consumed; the element is scanned again, from its
            // start, with the state it started with.
            let offset = match state {
                State::Leading => len,
                State::Token | State::PostTerminal | State::Quoted => {
                    self.list = list_before;
                    self.in_comment = false;
                    elem_start
                }
            };
            self.pos = offset;
            return Some(Err(self.fail(ErrorKind::NeedMore, offset)));
        }
        if self.tail == Tail::PartialUtf8 {
            return Some(Err(self.fail(ErrorKind::BrokenUtf8, len)));
        }
        match state {
            State::Quoted => Some(Err(self.fail(ErrorKind::UnterminatedString, elem_start))),
            State::Leading => {
                if self.has(Flags::COMMA_SEP_LIST) && self.list == ListState::AfterComma {
                    return Some(Err(self.fail(ErrorKind::CommaList, len)));
                }
                self.done = true;
                self.pos = len;
                None
            }
            State::Token | State::PostTerminal => {
                let end = if state == State::Token { len } else { end };
                Some(Ok(self.pending(num, float, start, end, len)))
            }
        }
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Token<'a>, TokenizeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.scan()
    }
}

impl FusedIterator for Tokenizer<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str, flags: Flags) -> Vec<(TokenKind, String)> {
        Tokenizer::new(input, flags)
            .map(|t| t.map(|t| (t.kind(), t.text().to_owned())))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn header_with_q_values() {
        let toks = kinds(
            "Accept-Language: fr-CH, fr;q=0.9, *;q=0.5",
            Flags::MINUS_NONTERM | Flags::AGG_COLON,
        );
        assert_eq!(
            toks[0],
            (TokenKind::TokenNameColon, "Accept-Language".into())
        );
        assert_eq!(toks[1], (TokenKind::Token, "fr-CH".into()));
        assert!(toks.contains(&(TokenKind::Float, "0.9".into())));
        assert!(toks.contains(&(TokenKind::Delimiter, "*".into())));
    }

    #[test]
    fn offsets_point_into_input() {
        let input = "  a = \"b c\" , 12.5";
        for tok in Tokenizer::new(input, Flags::empty()) {
            let tok = tok.unwrap();
            assert_eq!(
                &input[tok.offset()..tok.offset() + tok.text().len()],
                tok.text()
            );
        }
    }

    #[test]
    fn quoted_pairs_are_kept_raw_and_unescaped_on_demand() {
        let mut t = Tokenizer::new(r#""a\"b" x"#, Flags::empty());
        let q = t.next().unwrap().unwrap();
        assert_eq!(q.kind(), TokenKind::QuotedString);
        assert_eq!(q.text(), r#"a\"b"#);
        assert_eq!(q.unquoted(), "a\"b");
        assert!(matches!(unescape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn errors_are_fused() {
        let mut t = Tokenizer::new("0..1 a", Flags::empty());
        assert_eq!(
            t.next(),
            Some(Err(TokenizeError {
                kind: ErrorKind::MalformedFloat,
                offset: 2
            }))
        );
        assert_eq!(t.next(), None);
    }

    #[test]
    fn streaming_resumes_mid_token() {
        let mut buf = b"alpha, bet".to_vec();
        let mut t = Tokenizer::new(&buf, Flags::EXPECT_MORE | Flags::COMMA_SEP_LIST);
        assert_eq!(t.next().unwrap().unwrap().text(), "alpha");
        assert_eq!(t.next().unwrap().unwrap().text(), ",");
        let err = t.next().unwrap().unwrap_err();
        assert_eq!(
            err,
            TokenizeError {
                kind: ErrorKind::NeedMore,
                offset: 7
            }
        );
        let mut cp = t.checkpoint();
        buf.drain(..err.offset);
        buf.extend_from_slice(b"a");
        cp.set_flags(cp.flags().difference(Flags::EXPECT_MORE));
        let toks: Vec<_> = Tokenizer::resume(&buf, cp).collect();
        assert_eq!(toks.len(), 1);
        assert_eq!(toks[0].unwrap().text(), "beta");
    }

    #[test]
    fn chunks_never_split_characters() {
        let input = "ααααααααα";
        let pieces: Vec<_> = Tokenizer::new(input, Flags::CHUNK)
            .max_token_len(9)
            .map(|t| t.unwrap())
            .collect();
        assert!(pieces.iter().all(|t| t.text().len() <= 9));
        assert_eq!(pieces.last().unwrap().kind(), TokenKind::Token);
        assert_eq!(pieces.iter().map(|t| t.text()).collect::<String>(), input);
    }

    #[test]
    fn flags_names_round_trip() {
        for (name, flag) in Flags::NAMES {
            assert_eq!(Flags::from_name(name), Some(flag));
        }
        assert_eq!(
            format!("{:?}", Flags::CHUNK | Flags::AGG_COLON),
            "Flags(AGG_COLON | CHUNK)"
        );
        assert_eq!(Flags::from_bits_truncate(u32::MAX).bits(), (1 << 15) - 1);
    }
}
