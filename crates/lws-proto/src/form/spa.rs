//! [`Spa`]: the convenience most handlers use, like libwebsockets' `lws_spa`. It keeps the values of the
//! parameters a handler names up front, drops every other field, and hands file parts to a callback.

use super::{FormError, FormEvent, FormKind, FormLimits, FormParser};

/// Collects the named parameters a handler expects and hands file parts to a callback.
///
/// Only the first value of each named parameter is kept; fields with other names are ignored and not stored,
/// so memory stays at most `param_names.len()` values of [`FormLimits::max_value`] bytes.
#[derive(Debug)]
pub struct Spa {
    parser: FormParser,
    names: Vec<String>,
    values: Vec<Option<String>>,
}

/// A file part as seen by the [`Spa`] file callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEvent<'a> {
    /// A file part begins.
    Open {
        /// The field name.
        name: &'a str,
        /// The filename exactly as sent; see [`super::safe_filename`] before using it as a path.
        filename: &'a str,
        /// The part's `Content-Type`, if any.
        content_type: Option<&'a str>,
    },
    /// The next piece of the file, never empty.
    Data(&'a [u8]),
    /// The file part is complete.
    Close,
}

impl Spa {
    /// Creates a collector for one body that keeps the parameters in `param_names`.
    pub fn new(kind: FormKind, param_names: &[&str], limits: FormLimits) -> Spa {
        Spa {
            parser: FormParser::new(kind, limits),
            names: param_names.iter().map(|&n| n.to_owned()).collect(),
            values: vec![None; param_names.len()],
        }
    }

    /// Feeds the next body chunk; file parts go to `files` as they arrive. Errors are sticky.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        files: &mut dyn FnMut(FileEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        let (names, values) = (&self.names, &mut self.values);
        self.parser
            .feed(chunk, &mut |e| deliver(names, values, files, e))
    }

    /// The body ended: stores the last urlencoded field, and for multipart checks the closing delimiter.
    pub fn finish(
        &mut self,
        files: &mut dyn FnMut(FileEvent<'_>) -> Result<(), FormError>,
    ) -> Result<(), FormError> {
        let (names, values) = (&self.names, &mut self.values);
        self.parser
            .finish(&mut |e| deliver(names, values, files, e))
    }

    /// The first value of parameter `name`, if it was one of `param_names` and appeared in the body.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.names.iter().position(|n| n == name)?;
        self.values[i].as_deref()
    }

    /// Every parameter of `param_names`, in that order, with its value if one arrived.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.names
            .iter()
            .zip(&self.values)
            .map(|(n, v)| (n.as_str(), v.as_deref()))
    }
}

fn deliver(
    names: &[String],
    values: &mut [Option<String>],
    files: &mut dyn FnMut(FileEvent<'_>) -> Result<(), FormError>,
    event: FormEvent<'_>,
) -> Result<(), FormError> {
    match event {
        FormEvent::Field { name, value } => {
            if let Some(i) = names.iter().position(|n| n == name) {
                if values[i].is_none() {
                    values[i] = Some(value.to_owned());
                }
            }
            Ok(())
        }
        FormEvent::FileStart {
            name,
            filename,
            content_type,
        } => files(FileEvent::Open {
            name,
            filename,
            content_type,
        }),
        FormEvent::FileData(d) => files(FileEvent::Data(d)),
        FormEvent::FileEnd => files(FileEvent::Close),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_params() {
        let mut spa = Spa::new(
            FormKind::UrlEncoded,
            &["text", "send", "missing"],
            FormLimits::default(),
        );
        let mut no_files = |_: FileEvent<'_>| -> Result<(), FormError> { Err(FormError::Rejected) };
        spa.feed(b"text=hi+there&junk=1&te", &mut no_files).unwrap();
        spa.feed(b"xt=second&send=Send", &mut no_files).unwrap();
        spa.finish(&mut no_files).unwrap();
        assert_eq!(spa.get("text"), Some("hi there"));
        assert_eq!(spa.get("send"), Some("Send"));
        assert_eq!(spa.get("missing"), None);
        assert_eq!(spa.get("junk"), None);
        let all: Vec<_> = spa.params().collect();
        assert_eq!(
            all,
            vec![
                ("text", Some("hi there")),
                ("send", Some("Send")),
                ("missing", None)
            ]
        );
    }

    #[test]
    fn multipart_files() {
        let kind = FormKind::from_content_type("multipart/form-data; boundary=b").unwrap();
        let mut spa = Spa::new(kind, &["t"], FormLimits::default());
        let body = b"--b\r\nContent-Disposition: form-data; name=t\r\n\r\nv\r\n--b\r\n\
            Content-Disposition: form-data; name=up; filename=\"../a.txt\"\r\n\r\nDATA\r\n--b--\r\n";
        let mut log = Vec::new();
        let mut data = Vec::new();
        let mut files = |e: FileEvent<'_>| {
            match e {
                FileEvent::Data(d) => data.extend_from_slice(d),
                other => log.push(format!("{other:?}")),
            }
            Ok(())
        };
        for c in body.chunks(5) {
            spa.feed(c, &mut files).unwrap();
        }
        spa.finish(&mut files).unwrap();
        assert_eq!(spa.get("t"), Some("v"));
        assert_eq!(log.len(), 2);
        assert!(log[0].contains("../a.txt"));
        assert_eq!(log[1], "Close");
        assert_eq!(data, b"DATA");
    }

    #[test]
    fn callback_error_is_sticky() {
        let kind = FormKind::from_content_type("multipart/form-data; boundary=b").unwrap();
        let mut spa = Spa::new(kind, &[], FormLimits::default());
        let body = b"--b\r\nContent-Disposition: form-data; name=up; filename=x\r\n\r\nD\r\n--b--";
        let mut refuse = |_: FileEvent<'_>| Err(FormError::Rejected);
        assert_eq!(spa.feed(body, &mut refuse), Err(FormError::Rejected));
        assert_eq!(spa.feed(b"", &mut refuse), Err(FormError::Rejected));
        assert_eq!(spa.finish(&mut refuse), Err(FormError::Rejected));
    }
}
