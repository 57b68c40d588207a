//! `multipart/form-data` body parser (RFC 7578, delimiters per RFC 2046 section 5.1.1).
//!
//! The body is scanned for the delimiter `CRLF--boundary`. The stream is treated as if it began with CRLF, so
//! a body that starts directly with `--boundary` works. Part bodies are passed on as soon as a byte cannot be
//! the start of a delimiter; at most `delimiter.len() - 1` bytes are held back between chunks.

use std::mem;

use memchr::memmem;

use super::{parse_params, trim_ows, FormError, FormEvent, FormLimits};

/// Streaming state of one multipart body.
#[derive(Debug)]
pub(super) struct Multipart {
    /// `CRLF--boundary`.
    delim: Vec<u8>,
    finder: memmem::Finder<'static>,
    state: State,
    part: Part,
    /// Tail of the body so far that is a proper prefix of `delim`, not yet passed on.
    hold: Vec<u8>,
    /// Reused buffer joining `hold` with the start of the next chunk.
    scratch: Vec<u8>,
    /// Header block of the current part, CRLFs included.
    head: Vec<u8>,
    /// Transport padding bytes after the current delimiter.
    padding: usize,
    name: String,
    filename: String,
    content_type: Option<String>,
    /// Value of the current non-file part.
    value: Vec<u8>,
    file_size: u64,
    parts: usize,
}

/// Where in the body the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside the preamble or a part body, looking for the next delimiter.
    Body,
    /// Just after a delimiter: `--`, padding or CRLF follows.
    AfterDelim,
    /// Saw the first `-` of a closing delimiter.
    CloseDash,
    /// Inside transport padding after a delimiter.
    Padding,
    /// Saw the CR ending a delimiter line.
    DelimCr,
    /// Reading the header lines of a part.
    Headers,
    /// After the closing delimiter: everything is ignored.
    Epilogue,
}

/// What the bytes of `State::Body` belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Preamble,
    Field,
    File,
}

type Sink<'s> = dyn FnMut(FormEvent<'_>) -> Result<(), FormError> + 's;

impl Multipart {
    pub(super) fn new(boundary: &[u8]) -> Multipart {
        let mut delim = b"\r\n--".to_vec();
        delim.extend_from_slice(boundary);
        let finder = memmem::Finder::new(&delim).into_owned();
        Multipart {
            delim,
            finder,
            state: State::Body,
            part: Part::Preamble,
            // The virtual CRLF before the first delimiter.
            hold: b"\r\n".to_vec(),
            scratch: Vec::new(),
            head: Vec::new(),
            padding: 0,
            name: String::new(),
            filename: String::new(),
            content_type: None,
            value: Vec::new(),
            file_size: 0,
            parts: 0,
        }
    }

    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<(), FormError> {
        let mut pos = 0;
        while pos < chunk.len() {
            let rest = &chunk[pos..];
            pos += match self.state {
                State::Body => self.body(rest, limits, sink)?,
                State::Headers => self.headers(rest, limits, sink)?,
                State::Epilogue => rest.len(),
                State::AfterDelim | State::CloseDash | State::Padding | State::DelimCr => {
                    self.after_delim(rest[0], limits)?;
                    1
                }
            };
        }
        Ok(())
    }

    pub(super) fn finish(&mut self) -> Result<(), FormError> {
        match self.state {
            State::Epilogue => Ok(()),
            _ => Err(FormError::Truncated),
        }
    }

    /// Scans part-body bytes for the delimiter; returns how many bytes of `rest` were consumed.
    fn body(
        &mut self,
        rest: &[u8],
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<usize, FormError> {
        let dlen = self.delim.len();
        if !self.hold.is_empty() {
            // A delimiter may start in `hold`; it would end within the next `dlen - 1` bytes.
            let held = self.hold.len();
            let take = rest.len().min(dlen - 1);
            let mut joined = mem::take(&mut self.scratch);
            joined.clear();
            joined.extend_from_slice(&self.hold);
            joined.extend_from_slice(&rest[..take]);
            self.hold.clear();
            let r = self.body_joined(&joined, take == rest.len(), limits, sink);
            self.scratch = joined;
            match r? {
                // The delimiter ended at `end` in `joined`, past all of `hold` since `hold` < `dlen`.
                Some(end) => return Ok(end - held),
                None if take == rest.len() => return Ok(rest.len()),
                // No delimiter starts in `hold`: all of it was data; scan `rest` from its start.
                None => {}
            }
        }
        if let Some(p) = self.finder.find(rest) {
            self.data(&rest[..p], limits, sink)?;
            self.end_part(sink)?;
            return Ok(p + dlen);
        }
        let keep = partial_suffix(rest, &self.delim);
        self.data(&rest[..rest.len() - keep], limits, sink)?;
        self.hold.extend_from_slice(&rest[rest.len() - keep..]);
        Ok(rest.len())
    }

    /// Handles `hold` joined with the start of the chunk. Returns the end of a delimiter found in `joined`.
    /// Without one: if `all` (the chunk ended inside `joined`), passes on all but a possible delimiter prefix,
    /// which goes back to `hold`; otherwise passes on only the old `hold` part, which the caller excludes.
    fn body_joined(
        &mut self,
        joined: &[u8],
        all: bool,
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<Option<usize>, FormError> {
        if let Some(p) = self.finder.find(joined) {
            self.data(&joined[..p], limits, sink)?;
            self.end_part(sink)?;
            return Ok(Some(p + self.delim.len()));
        }
        if all {
            let keep = partial_suffix(joined, &self.delim);
            self.data(&joined[..joined.len() - keep], limits, sink)?;
            self.hold.extend_from_slice(&joined[joined.len() - keep..]);
        } else {
            let held = joined.len() - (self.delim.len() - 1);
            self.data(&joined[..held], limits, sink)?;
        }
        Ok(None)
    }

    /// Passes on bytes that are certainly part of the current part's body.
    fn data(
        &mut self,
        bytes: &[u8],
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<(), FormError> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self.part {
            Part::Preamble => Ok(()),
            Part::Field => {
                if self.value.len() + bytes.len() > limits.max_value {
                    return Err(FormError::ValueTooLong);
                }
                self.value.extend_from_slice(bytes);
                Ok(())
            }
            Part::File => {
                self.file_size = self.file_size.saturating_add(bytes.len() as u64);
                if limits.max_file_size.is_some_and(|max| self.file_size > max) {
                    return Err(FormError::FileTooLarge);
                }
                sink(FormEvent::FileData(bytes))
            }
        }
    }

    /// A delimiter was found: completes the current part.
    fn end_part(&mut self, sink: &mut Sink<'_>) -> Result<(), FormError> {
        self.state = State::AfterDelim;
        self.padding = 0;
        match self.part {
            Part::Preamble => Ok(()),
            Part::Field => {
                let value = std::str::from_utf8(&self.value).map_err(|_| FormError::InvalidUtf8)?;
                sink(FormEvent::Field {
                    name: &self.name,
                    value,
                })
            }
            Part::File => sink(FormEvent::FileEnd),
        }
    }

    /// One byte of the rest of a delimiter line: `--` closes the body, else padding then CRLF.
    fn after_delim(&mut self, b: u8, limits: &FormLimits) -> Result<(), FormError> {
        self.state = match (self.state, b) {
            (State::AfterDelim, b'-') => State::CloseDash,
            (State::CloseDash, b'-') => State::Epilogue,
            (State::AfterDelim | State::Padding, b' ' | b'\t') => {
                self.padding += 1;
                if self.padding > limits.max_part_header {
                    return Err(FormError::PartHeaderTooLong);
                }
                State::Padding
            }
            (State::AfterDelim | State::Padding, b'\r') => State::DelimCr,
            (State::DelimCr, b'\n') => {
                self.head.clear();
                State::Headers
            }
            _ => return Err(FormError::MalformedPart),
        };
        Ok(())
    }

    /// Collects header bytes up to the empty line; returns how many bytes of `rest` were consumed.
    fn headers(
        &mut self,
        rest: &[u8],
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<usize, FormError> {
        let (line_end, used) = match memchr::memchr(b'\n', rest) {
            Some(i) => (true, i + 1),
            None => (false, rest.len()),
        };
        if self.head.len() + used > limits.max_part_header {
            return Err(FormError::PartHeaderTooLong);
        }
        self.head.extend_from_slice(&rest[..used]);
        if line_end {
            let n = self.head.len();
            if n < 2 || self.head[n - 2] != b'\r' {
                return Err(FormError::MalformedPart);
            }
            if n == 2 || self.head[..n - 2].ends_with(b"\r\n") {
                let head = mem::take(&mut self.head);
                let r = self.start_part(&head[..n - 2], limits, sink);
                self.head = head;
                r?;
                self.state = State::Body;
            }
        }
        Ok(used)
    }

    /// Parses the header block (without its final empty line) and begins the part.
    fn start_part(
        &mut self,
        head: &[u8],
        limits: &FormLimits,
        sink: &mut Sink<'_>,
    ) -> Result<(), FormError> {
        let mut disposition = None;
        let mut content_type = None;
        for line in head.split(|&b| b == b'\n') {
            // Every LF was checked to follow a CR; any other CR is bare.
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            if line.contains(&b'\r') || line[0] == b' ' || line[0] == b'\t' {
                return Err(FormError::MalformedPart);
            }
            let colon = memchr::memchr(b':', line).ok_or(FormError::MalformedPart)?;
            let name = &line[..colon];
            if name.is_empty() || name.iter().any(|&b| b <= b' ' || b >= 0x7f) {
                return Err(FormError::MalformedPart);
            }
            let value = trim_ows(&line[colon + 1..]);
            if name.eq_ignore_ascii_case(b"content-disposition") {
                if disposition.replace(value).is_some() {
                    return Err(FormError::MalformedPart);
                }
            } else if name.eq_ignore_ascii_case(b"content-type")
                && content_type.replace(value).is_some()
            {
                return Err(FormError::MalformedPart);
            }
        }
        let (name, filename) = parse_disposition(disposition.ok_or(FormError::MalformedPart)?)?;
        let name = name.ok_or(FormError::MalformedPart)?;
        if name.len() > limits.max_name {
            return Err(FormError::NameTooLong);
        }
        self.parts += 1;
        if self.parts > limits.max_fields {
            return Err(FormError::TooManyFields);
        }
        self.name.clear();
        self.name.push_str(utf8(&name)?);
        self.value.clear();
        self.file_size = 0;
        match filename {
            None => {
                self.part = Part::Field;
                Ok(())
            }
            Some(filename) => {
                self.part = Part::File;
                self.filename.clear();
                self.filename.push_str(utf8(&filename)?);
                self.content_type = content_type.map(utf8).transpose()?.map(str::to_owned);
                sink(FormEvent::FileStart {
                    name: &self.name,
                    filename: &self.filename,
                    content_type: self.content_type.as_deref(),
                })
            }
        }
    }
}

type NameAndFilename = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Parses `form-data; name="x"; filename="y"` into the decoded name and filename.
fn parse_disposition(value: &[u8]) -> Result<NameAndFilename, FormError> {
    let semi = memchr::memchr(b';', value).unwrap_or(value.len());
    if !trim_ows(&value[..semi]).eq_ignore_ascii_case(b"form-data") {
        return Err(FormError::MalformedPart);
    }
    let mut name = None;
    let mut filename = None;
    for param in parse_params(&value[semi..]).ok_or(FormError::MalformedPart)? {
        let (key, v) = (param.name, param.value);
        // RFC 7578 section 4.2: `filename*` must not be used; it is ignored like any other parameter.
        let slot = if key.eq_ignore_ascii_case(b"name") {
            &mut name
        } else if key.eq_ignore_ascii_case(b"filename") {
            &mut filename
        } else {
            continue;
        };
        if slot.replace(v).is_some() {
            return Err(FormError::MalformedPart);
        }
    }
    Ok((name, filename))
}

fn utf8(b: &[u8]) -> Result<&str, FormError> {
    std::str::from_utf8(b).map_err(|_| FormError::InvalidUtf8)
}

/// Length of the longest suffix of `hay` that is a proper prefix of `delim` (which starts with CR).
fn partial_suffix(hay: &[u8], delim: &[u8]) -> usize {
    let start = hay.len().saturating_sub(delim.len() - 1);
    for i in memchr::memchr_iter(b'\r', &hay[start..]) {
        if delim.starts_with(&hay[start + i..]) {
            return hay.len() - start - i;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Ev {
        Field(String, String),
        Start(String, String, Option<String>),
        Data(Vec<u8>),
        End,
    }

    fn run(body: &[u8], chunk: usize, limits: &FormLimits) -> Result<Vec<Ev>, FormError> {
        let mut p = Multipart::new(b"XyZ");
        let mut out: Vec<Ev> = Vec::new();
        let mut sink = |e: FormEvent<'_>| {
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
                FormEvent::FileData(d) => match out.last_mut() {
                    Some(Ev::Data(v)) => v.extend_from_slice(d),
                    _ => out.push(Ev::Data(d.to_vec())),
                },
                FormEvent::FileEnd => out.push(Ev::End),
            }
            Ok(())
        };
        for c in body.chunks(chunk) {
            p.feed(c, limits, &mut sink)?;
        }
        p.finish()?;
        Ok(out)
    }

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\n\
        Content-Disposition: form-data; name=\"a\"\r\n\r\n\
        hello\r\n--XyZ  \r\n\
        content-disposition: form-data; name=f; filename=\"x\\\"y.bin\"\r\n\
        Content-Type:  application/octet-stream \r\n\r\n\
        \r\n-\r\n--X\r\n--XyZ\r\n\
        Content-Disposition: form-data; name=\"b\"\r\n\r\n\
        \r\n--XyZ--\r\nepilogue\r\n--XyZ\r\n";

    fn expected() -> Vec<Ev> {
        vec![
            Ev::Field("a".into(), "hello".into()),
            Ev::Start(
                "f".into(),
                "x\"y.bin".into(),
                Some("application/octet-stream".into()),
            ),
            Ev::Data(b"\r\n-\r\n--X".to_vec()),
            Ev::End,
            Ev::Field("b".into(), "".into()),
        ]
    }

    #[test]
    fn parses_any_chunking() {
        let l = FormLimits::default();
        for chunk in 1..=BODY.len() {
            assert_eq!(run(BODY, chunk, &l), Ok(expected()), "chunk {chunk}");
        }
    }

    #[test]
    fn body_starting_with_delimiter() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=k\r\n\r\nv\r\n--XyZ--";
        assert_eq!(
            run(body, 3, &FormLimits::default()),
            Ok(vec![Ev::Field("k".into(), "v".into())])
        );
    }

    #[test]
    fn holds_back_little() {
        let mut p = Multipart::new(b"XyZ");
        let l = FormLimits::default();
        let mut seen = 0;
        let mut sink = |e: FormEvent<'_>| {
            if let FormEvent::FileData(d) = e {
                seen += d.len();
            }
            Ok(())
        };
        let head = b"--XyZ\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\n";
        p.feed(head, &l, &mut sink).unwrap();
        p.feed(b"0123456789\r\n--Xy", &l, &mut sink).unwrap();
        assert_eq!(p.hold, b"\r\n--Xy");
        assert_eq!(seen, 10);
    }

    #[test]
    fn malformed() {
        let l = FormLimits::default();
        let bad: &[&[u8]] = &[
            b"--XyZ\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\nbroken\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZx",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--",
            b"--XyZ-x",
        ];
        for body in bad {
            assert_eq!(
                run(body, 1, &l),
                Err(FormError::MalformedPart),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn truncated() {
        let l = FormLimits::default();
        for cut in 0..BODY.len() - b"\r\nepilogue\r\n--XyZ\r\n".len() {
            assert_eq!(
                run(&BODY[..cut], 7, &l),
                Err(FormError::Truncated),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn partial_suffixes() {
        let d = b"\r\n--ab";
        assert_eq!(partial_suffix(b"xx\r\n-", d), 3);
        assert_eq!(partial_suffix(b"xx\r\n--ab", d), 0);
        assert_eq!(partial_suffix(b"\r\r", d), 1);
        assert_eq!(partial_suffix(b"", d), 0);
        assert_eq!(partial_suffix(b"\r\n--a", d), 5);
    }
}
