//! A response in wire form, as both HTTP drivers send it: status, headers in sending order, and a body
//! that is empty, whole, streamed or a file range.

use std::fs::File;

use bytes::Bytes;

use super::body::BodyKind;
pub(crate) use super::pump::OutBody;
use super::Response;
use crate::files;

/// A response ready for the wire, headers in sending order before the vhost and mount ones are merged in.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(std::borrow::Cow<'static, str>, Bytes)>,
    /// A file's own headers, sent after `headers`.
    pub(crate) file: Option<files::FileHeaders>,
    pub(crate) body: OutBody,
    /// A proxied upgrade's origin connection (see [`Response`]).
    pub(crate) tunnel: Option<Box<crate::proxy::OriginTunnel>>,
}

impl Outgoing {
    /// Turns an application's response into wire form, opening a file body now.
    pub(crate) fn from_response(r: Response) -> Outgoing {
        let headers = r.headers;
        let body = match r.body.kind {
            BodyKind::Empty => OutBody::Empty,
            BodyKind::Full(b) => OutBody::Full(b),
            BodyKind::Source(s) => OutBody::Source(s),
            BodyKind::File(path) => {
                match File::open(&path).and_then(|f| f.metadata().map(|m| (f, m.len()))) {
                    Ok((file, len)) => OutBody::File {
                        file: std::sync::Arc::new(file),
                        start: 0,
                        len,
                    },
                    Err(e) => {
                        tracing::warn!("response file {}: {e}", path.display());
                        return Outgoing::from_response(Response::error(404));
                    }
                }
            }
        };
        Outgoing {
            file: None,
            status: r.status,
            headers,
            body,
            tunnel: r.tunnel,
        }
    }

    pub(crate) fn error(status: u16) -> Outgoing {
        Outgoing::from_response(Response::error(status))
    }

    /// A header's value (lowercase `name`), from the response's own headers or its file's.
    pub(crate) fn field(&self, name: &[u8]) -> Option<&[u8]> {
        match self
            .headers
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
        {
            Some((_, v)) => Some(v),
            None => self.file.as_ref()?.field(name),
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), Bytes::from(value.into())));
        self
    }
}
