//! [`Multipart`]: a `multipart/form-data` body (RFC 7578) of text fields and files.

use bytes::{BufMut, Bytes, BytesMut};

/// A `multipart/form-data` body, built field by field and sent with [`super::HttpRequestBuilder::multipart`].
///
/// The boundary is random (128 bits from the system's secure generator) and is changed if a part happens to
/// contain it. Field names and file names are escaped as browsers do (`"` as `%22`, CR and LF as `%0D`,
/// `%0A`), so no value can end its part early.
///
/// ```
/// let form = lws::client::Multipart::new()
///     .text("text", "hello")
///     .file("upload", "notes.txt", "text/plain", "file contents");
/// assert!(form.content_type().starts_with("multipart/form-data; boundary="));
/// ```
#[derive(Debug, Clone)]
pub struct Multipart {
    /// The delimiter between parts: random, and drawn again if a part happens to contain it.
    boundary: String,
    /// The fields, in order.
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
/// One field of the form.
struct Part {
    /// The field name.
    name: String,
    /// For a file: (file name, content type).
    file: Option<(String, String)>,
    /// The value or file contents.
    data: Bytes,
}

impl Default for Multipart {
    fn default() -> Self {
        Multipart::new()
    }
}

impl Multipart {
    /// An empty form with a fresh random boundary.
    pub fn new() -> Multipart {
        Multipart {
            boundary: random_boundary(),
            parts: Vec::new(),
        }
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parts.push(Part {
            name: name.to_string(),
            file: None,
            data: Bytes::from(value.into()),
        });
        self
    }

    /// Adds a file field: its name in the form, the file name the server sees, its media type (such as
    /// `application/octet-stream`) and its contents.
    pub fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        data: impl Into<Bytes>,
    ) -> Self {
        self.parts.push(Part {
            name: name.to_string(),
            file: Some((filename.to_string(), content_type.to_string())),
            data: data.into(),
        });
        self
    }

    /// The boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The `Content-Type` header value that goes with the body.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The body as it goes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let size: usize = self
            .parts
            .iter()
            .map(|p| p.data.len() + p.name.len() + 160)
            .sum();
        let mut out = BytesMut::with_capacity(size + self.boundary.len() + 8);
        for part in &self.parts {
            out.put_slice(b"--");
            out.put_slice(self.boundary.as_bytes());
            out.put_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.put_slice(escape(&part.name).as_bytes());
            out.put_slice(b"\"");
            if let Some((filename, content_type)) = &part.file {
                out.put_slice(b"; filename=\"");
                out.put_slice(escape(filename).as_bytes());
                out.put_slice(b"\"\r\nContent-Type: ");
                let ct: String = content_type
                    .chars()
                    .filter(|c| !c.is_ascii_control())
                    .collect();
                out.put_slice(ct.as_bytes());
            }
            out.put_slice(b"\r\n\r\n");
            out.put_slice(&part.data);
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"--");
        out.put_slice(self.boundary.as_bytes());
        out.put_slice(b"--\r\n");
        out.freeze()
    }

    /// The content type and body, with a boundary that no part contains.
    pub(crate) fn into_body(mut self) -> (String, Bytes) {
        while self
            .parts
            .iter()
            .any(|p| contains(&p.data, self.boundary.as_bytes()))
        {
            self.boundary = random_boundary();
        }
        (self.content_type(), self.to_bytes())
    }
}

/// `lws-` and 32 random hex digits.
fn random_boundary() -> String {
    let mut random = [0u8; 16];
    // Without randomness (never seen in practice) the boundary is still checked against every part.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let mut s = String::from("lws-");
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// HTML's escaping of names in `Content-Disposition`.
fn escape(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_back_with_the_server_parser() {
        use lws_proto::form::{FileEvent, FormKind, FormLimits, Spa};
        let form = Multipart::new().text("text", "héllo \"quoted\"").file(
            "file",
            "a\"b.txt",
            "text/plain",
            "line1\r\nline2",
        );
        let (ct, body) = form.into_body();
        let kind = FormKind::from_content_type(&ct).unwrap();
        let mut spa = Spa::new(kind, &["text", "file"], FormLimits::default());
        let mut file = Vec::new();
        let mut filename = String::new();
        let mut on_file = |ev: FileEvent<'_>| {
            match ev {
                FileEvent::Open { filename: f, .. } => filename = f.to_string(),
                FileEvent::Data(d) => file.extend_from_slice(d),
                FileEvent::Close => {}
            }
            Ok(())
        };
        spa.feed(&body, &mut on_file).unwrap();
        spa.finish(&mut on_file).unwrap();
        let text = spa
            .params()
            .find(|(n, _)| *n == "text")
            .and_then(|(_, v)| v);
        assert_eq!(text, Some("héllo \"quoted\""));
        assert_eq!(file, b"line1\r\nline2");
        assert_eq!(filename, "a%22b.txt");
    }

    #[test]
    fn boundaries_are_random() {
        assert_ne!(Multipart::new().boundary(), Multipart::new().boundary());
    }
}
