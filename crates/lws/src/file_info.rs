//! What a file mount knows about one version of a file: its size and validators (ETag, Last-Modified) and
//! its content type, shared by the file cache and file responses.

use std::time::UNIX_EPOCH;

use bytes::Bytes;

/// Validators and content type of one version of a file, computed once and shared by cache hits.
#[derive(Debug)]
pub(crate) struct FileInfo {
    pub(crate) size: u64,
    pub(crate) mtime: Option<u64>,
    pub(crate) etag: Bytes,
    pub(crate) last_modified: Option<Bytes>,
    pub(crate) content_type: Option<Bytes>,
    /// The content type is one this server compresses (decided once per file version, not per response).
    pub(crate) compressible: bool,
    /// The file's own HTTP/1 header lines, framed on first use ([`crate::files::FileHeaders::h1_block`]).
    pub(crate) h1_lines: std::sync::OnceLock<FileLines>,
}

/// A file's header lines as HTTP/1 sends them with the whole file, for one `Cache-Control` and `Vary`.
#[derive(Debug)]
pub(crate) struct FileLines {
    pub(crate) cache_control: Bytes,
    pub(crate) varies: bool,
    pub(crate) block: lws_proto::http1::HeaderBlock,
}

impl FileInfo {
    /// The validators of a file of `size` bytes modified at `mtime` (seconds since the epoch).
    pub(crate) fn new(size: u64, mtime: Option<u64>, content_type: Option<String>) -> FileInfo {
        FileInfo::with_type(size, mtime, content_type.map(Bytes::from))
    }

    /// [`FileInfo::new`] with the content type as it is sent.
    pub(crate) fn with_type(
        size: u64,
        mtime: Option<u64>,
        content_type: Option<Bytes>,
    ) -> FileInfo {
        FileInfo {
            size,
            mtime,
            etag: format!("\"{:08X}{:08X}\"", size, mtime.unwrap_or(0)).into(),
            last_modified: mtime.map(|s| {
                httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(s)).into()
            }),
            compressible: content_type
                .as_deref()
                .is_some_and(crate::compress::settings::compressible_type),
            content_type,
            h1_lines: std::sync::OnceLock::new(),
        }
    }
}
