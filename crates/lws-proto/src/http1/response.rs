//! Response framing: the status line, header lines and chunked body coding.

use std::io::Write;

/// How long the response body is, as the application knows it when starting the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseLength {
    /// No body (`content-length: 0`).
    Empty,
    /// Exactly this many bytes (`content-length`).
    Known(u64),
    /// Unknown in advance: chunked on HTTP/1.1, close-delimited on HTTP/1.0.
    Streamed,
}

/// How the engine frames the body on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked,
    None,
}

/// Which `connection` header the engine adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionHeader {
    None,
    Close,
    KeepAlive,
    Upgrade,
}

/// Writes response header lines; the head is completed (framing headers and the blank line) when the writer is
/// dropped or [`ResponseWriter::finish`] is called.
///
/// Header names must be tokens and values must not contain CR, LF or NUL: a line that breaks these rules is
/// skipped rather than written, so no caller-supplied value can split the response.
pub struct ResponseWriter<'a> {
    out: &'a mut Vec<u8>,
    framing: Framing,
    connection: ConnectionHeader,
    done: bool,
    skipped: usize,
}

impl<'a> ResponseWriter<'a> {
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        status: u16,
        framing: Framing,
        connection: ConnectionHeader,
    ) -> Self {
        // One allocation for a typical head rather than a growth step per header line.
        out.reserve(256);
        out.extend_from_slice(b"HTTP/1.1 ");
        if (100..1000).contains(&status) {
            // Every status a server sends has three digits; spares the formatting machinery.
            out.extend_from_slice(&super::status_digits(status));
            out.push(b' ');
        } else {
            let _ = write!(out, "{status} ");
        }
        out.extend_from_slice(reason(status).as_bytes());
        out.extend_from_slice(b"\r\n");
        ResponseWriter {
            out,
            framing,
            connection,
            done: false,
            skipped: 0,
        }
    }

    /// Adds one header line.
    pub fn header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        if !push_line(self.out, name, value) {
            self.skipped += 1;
        }
        self
    }

    /// Adds header lines validated and framed once ([`HeaderBlock`]), as one copy.
    pub fn block(&mut self, block: &HeaderBlock) -> &mut Self {
        self.out.extend_from_slice(&block.0);
        self
    }

    /// Number of header lines refused as invalid so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Completes the head (dropping the writer does the same).
    pub fn finish(&mut self) {
        self.complete();
    }

    fn complete(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        match self.framing {
            Framing::Length(n) => {
                self.out.extend_from_slice(b"content-length: ");
                self.out
                    .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                self.out.extend_from_slice(b"\r\n");
            }
            Framing::Chunked => self
                .out
                .extend_from_slice(b"transfer-encoding: chunked\r\n"),
            Framing::None => {}
        }
        match self.connection {
            ConnectionHeader::None => {}
            ConnectionHeader::Close => self.out.extend_from_slice(b"connection: close\r\n"),
            ConnectionHeader::KeepAlive => {
                self.out.extend_from_slice(b"connection: keep-alive\r\n")
            }
            ConnectionHeader::Upgrade => self.out.extend_from_slice(b"connection: upgrade\r\n"),
        }
        self.out.extend_from_slice(b"\r\n");
    }
}

impl Drop for ResponseWriter<'_> {
    fn drop(&mut self) {
        self.complete();
    }
}

/// Appends one chunk of a chunked body.
pub(crate) fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Writes the last chunk of a chunked body and its trailer section; fields that are not valid header lines
/// are left out.
pub(crate) fn write_last_chunk(out: &mut Vec<u8>, trailers: &[(&str, &[u8])]) {
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        push_line(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `name: value` as one field line if it may be sent ([`is_valid_header`]); says whether it was.
fn push_line(out: &mut Vec<u8>, name: &str, value: &[u8]) -> bool {
    if !is_valid_header(name, value) {
        return false;
    }
    out.reserve(name.len() + value.len() + 4);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
    true
}

/// Whether a header line may be sent: the name is an RFC 9110 token and the value holds no CR, LF or NUL.
/// The runtime checks configured headers with it up front, so a bad one is a configuration error rather
/// than a line silently dropped from every response.
pub fn is_valid_header(name: &str, value: &[u8]) -> bool {
    valid_name(name) && valid_value(value)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| TCHAR[b as usize])
}

/// Header lines checked and framed once, for fields a server sends unchanged on many responses (a cached
/// file's validators and type): writing them is one copy. Lines that break the rules of
/// [`ResponseWriter::header`] are left out, as they would be there.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock(bytes::Bytes);

impl HeaderBlock {
    /// Frames `fields` (name, value) in order.
    pub fn new<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> HeaderBlock {
        let mut b = HeaderBlockBuilder::default();
        for (name, value) in fields {
            b.push(name, value);
        }
        b.finish()
    }
}

/// Builds a [`HeaderBlock`] one field at a time (for fields that come from a callback).
#[derive(Debug, Default)]
pub struct HeaderBlockBuilder(Vec<u8>);

impl HeaderBlockBuilder {
    /// Adds one field, left out if [`ResponseWriter::header`] would leave it out.
    pub fn push(&mut self, name: &str, value: &[u8]) {
        push_line(&mut self.0, name, value);
    }

    /// The block of the fields pushed so far.
    pub fn finish(self) -> HeaderBlock {
        HeaderBlock(self.0.into())
    }
}

/// RFC 9110 `tchar`, as a table: header names are checked on every response (and every HTTP/2 field).
pub(crate) const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
};

fn valid_value(value: &[u8]) -> bool {
    // Eight bytes at a time: every response checks its ~10 short values, where a byte loop or memchr's
    // setup cost more than writing them.
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let bad_word = |w: u64| {
        has_zero_byte(w)
            || has_zero_byte(w ^ (ONES * u64::from(b'\r')))
            || has_zero_byte(w ^ (ONES * u64::from(b'\n')))
    };
    let mut words = value.chunks_exact(8);
    for w in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        if bad_word(u64::from_ne_bytes(bytes)) {
            return false;
        }
    }
    !words
        .remainder()
        .iter()
        .any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// The reason phrase sent with a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}
