//! File mounts: path resolution confined to the origin, validators (ETag, Last-Modified), conditional
//! requests, single ranges and response headers.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::file_cache;
pub(crate) use crate::file_info::FileInfo;
use lws_proto::coding::{AcceptEncoding, ContentCoding};

use lws_proto::http1::RequestHead;

/// What a file mount does with one request.
#[derive(Debug)]
pub(crate) enum FileOutcome {
    /// Send `len` bytes of `file` starting at `start`.
    Serve(FilePlan),
    /// The client's copy is current: 304 with the file's validators.
    NotModified(FileHeaders),
    /// A directory was asked for without its trailing slash.
    AddSlash,
    /// Nothing there (or not a regular file).
    NotFound,
    /// Refused: it resolves outside the origin, or cannot be read.
    Forbidden,
    /// The range asked for lies outside a file of this size.
    RangeNotSatisfiable(u64),
}

/// A file ready to send.
#[derive(Debug)]
pub(crate) struct FilePlan {
    pub(crate) source: Source,
    pub(crate) status: u16,
    pub(crate) start: u64,
    pub(crate) len: u64,
    /// The file's own headers (validators, type, ranges accepted).
    pub(crate) file_headers: FileHeaders,
    /// Headers of this one response (`content-range`).
    pub(crate) headers: Vec<(Cow<'static, str>, Bytes)>,
}

/// The headers a file response takes from the file and its mount, emitted by reference: a cache hit costs one
/// reference count, not a copy (or a count) per header.
#[derive(Debug, Clone)]
pub(crate) struct FileHeaders {
    info: Arc<FileInfo>,
    cache_control: Bytes,
    /// Content type and `accept-ranges` too (not on a 304).
    with_body: bool,
    /// The bytes sent are the precompressed sibling in this coding (`app.js.br`).
    pub(crate) coding: Option<ContentCoding>,
    /// The bytes are compressed on the way out: the validator is weak and ranges are not offered.
    pub(crate) transformed: bool,
    /// The response depends on `Accept-Encoding` (the server compresses files like this one).
    pub(crate) varies_by_encoding: bool,
}

impl FileHeaders {
    /// Whether this emits a header of this name, for leaving out configured headers of the same name.
    pub(crate) fn emits(&self, name: &str) -> bool {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        is("etag")
            || is("last-modified")
            || is("cache-control")
            || (self.with_body && (is("content-type") || is("accept-ranges")))
            || (self.coding.is_some() && is("content-encoding"))
            || (self.varies() && is("vary"))
    }

    /// The value of one header this emits (lowercase `name`), if it does.
    pub(crate) fn field(&self, name: &[u8]) -> Option<&[u8]> {
        match name {
            b"etag" => Some(&self.info.etag),
            b"cache-control" => Some(&self.cache_control),
            b"content-type" if self.with_body => self.info.content_type.as_deref(),
            b"content-encoding" => self.coding.map(|c| c.token().as_bytes()),
            _ => None,
        }
    }

    fn varies(&self) -> bool {
        self.coding.is_some() || self.varies_by_encoding
    }

    /// This response's file fields as one HTTP/1 block, framed once per file version and shared by its
    /// responses: for the common response (the whole file as it is); `None` otherwise.
    pub(crate) fn h1_block(&self) -> Option<&lws_proto::http1::HeaderBlock> {
        if !self.with_body || self.transformed || self.coding.is_some() {
            return None;
        }
        let lines = self.info.h1_lines.get_or_init(|| {
            let mut block = lws_proto::http1::HeaderBlockBuilder::default();
            self.for_each(|n, v| block.push(n, v));
            crate::file_info::FileLines {
                cache_control: self.cache_control.clone(),
                varies: self.varies(),
                block: block.finish(),
            }
        });
        (lines.cache_control == self.cache_control && lines.varies == self.varies())
            .then_some(&lines.block)
    }

    /// Whether this response's content type (a body's) is one the server compresses.
    pub(crate) fn compressible_body(&self) -> bool {
        self.with_body && self.info.compressible
    }

    /// Whether the file's content type is one the server compresses, and its size, whether or not this
    /// response carries a body.
    pub(crate) fn representation(&self) -> (bool, u64) {
        (self.info.compressible, self.info.size)
    }

    /// Calls `f` with each header, in sending order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &[u8])) {
        if self.transformed {
            f("etag", &[&b"W/"[..], &self.info.etag].concat());
        } else {
            f("etag", &self.info.etag);
        }
        if let Some(lm) = &self.info.last_modified {
            f("last-modified", lm);
        }
        f("cache-control", &self.cache_control);
        if self.with_body {
            if let Some(ct) = &self.info.content_type {
                f("content-type", ct);
            }
            if let Some(c) = self.coding {
                f("content-encoding", c.token().as_bytes());
            }
            if !self.transformed {
                f("accept-ranges", b"bytes");
            }
        }
        if self.varies() {
            f("vary", b"accept-encoding");
        }
    }
}

/// Where the bytes of a file come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Read from the open file as it is sent (shared with the cache for hot files).
    File(Arc<File>),
    /// The whole (small) file, from the cache or just read.
    Memory(Bytes),
}

/// Settings of the file mount taking the request.
pub(crate) struct FileMount<'a> {
    /// The origin directory, canonicalised when the vhost was built.
    pub(crate) origin: &'a OriginDir,
    pub(crate) default_doc: &'a str,
    pub(crate) extra_mimetypes: &'a [(String, String)],
    pub(crate) cache_control: &'a Bytes,
    /// The client's `Accept-Encoding` and the codings offered, for precompressed siblings (`None`: serve
    /// the file as it is).
    pub(crate) siblings: Option<(AcceptEncoding, &'a [ContentCoding])>,
}

/// Resolves `rel` (the canonical path below the mountpoint) and decides the response.
pub(crate) fn resolve(mount: &FileMount<'_>, rel: &str, head: &RequestHead) -> FileOutcome {
    let (source, info) = match open_cached(mount, rel) {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let (source, info, coding) = match precompressed(mount, rel, &info) {
        Some((source, sibling, coding)) => (source, sibling, Some(coding)),
        None => (source, info, None),
    };
    let size = info.size;
    let mut file_headers = FileHeaders {
        info,
        cache_control: mount.cache_control.clone(),
        with_body: false,
        coding,
        transformed: false,
        varies_by_encoding: false,
    };
    let info = &file_headers.info;
    if not_modified(head, text(&info.etag), info.mtime) {
        return FileOutcome::NotModified(file_headers);
    }
    let mut headers = Vec::new();
    let range = match head.header_str("range") {
        Some(r)
            if head.method() == "GET"
                && if_range_holds(
                    head,
                    text(&info.etag),
                    info.last_modified.as_deref().map(text),
                ) =>
        {
            match parse_range(r, size) {
                RangeSpec::Whole => None,
                RangeSpec::Part(a, b) => Some((a, b)),
                RangeSpec::Unsatisfiable => return FileOutcome::RangeNotSatisfiable(size),
            }
        }
        _ => None,
    };
    let (status, start, len) = match range {
        Some((a, b)) => {
            let value = format!("bytes {a}-{b}/{size}");
            headers.push(("content-range".into(), value.into()));
            (206, a, b - a + 1)
        }
        None => (200, 0, size),
    };
    file_headers.with_body = true;
    FileOutcome::Serve(FilePlan {
        source,
        status,
        start,
        len,
        file_headers,
        headers,
    })
}

/// The best precompressed sibling of the file (`app.js.br` next to `app.js`) the client accepts, when it
/// exists and is not older than the file; it carries the file's content type and its own validators.
fn precompressed(
    mount: &FileMount<'_>,
    rel: &str,
    file: &FileInfo,
) -> Option<(Source, Arc<FileInfo>, ContentCoding)> {
    let (accept, offered) = mount.siblings?;
    if !file.compressible {
        return None;
    }
    let key = cache_key(mount, rel);
    accept.ranked(offered).into_iter().find_map(|coding| {
        let (source, sibling) =
            open_cached(mount, &format!("{key}{}", coding.file_suffix())).ok()?;
        if sibling.mtime < file.mtime {
            return None;
        }
        let info = FileInfo::with_type(sibling.size, sibling.mtime, file.content_type.clone());
        Some((source, Arc::new(info), coding))
    })
}

/// The cache key of `rel`: the path below the origin, with the default document for directory URLs.
fn cache_key<'a>(mount: &FileMount<'_>, rel: &'a str) -> Cow<'a, str> {
    let trimmed = rel.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        Cow::Owned(format!("{trimmed}{}", mount.default_doc))
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// The file's bytes and facts: from the per-thread cache when current, else through the confined open.
// The error is the request's outcome, moved once; boxing the served plan instead would cost every file an
// allocation.
#[allow(clippy::result_large_err)]
fn open_cached(mount: &FileMount<'_>, rel: &str) -> Result<(Source, Arc<FileInfo>), FileOutcome> {
    let key = cache_key(mount, rel);
    let full = || mount.origin.path.join(&*key);
    if let Some((content, info)) = file_cache::lookup(mount.origin.id, &key, full) {
        return Ok((source_of(content), info));
    }
    let (file, meta) = locate(mount.origin, rel, mount.default_doc)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let content_type = crate::mime::content_type(&key, mount.extra_mimetypes).map(str::to_string);
    let info = Arc::new(FileInfo::new(meta.len(), mtime, content_type));
    let content = if meta.len() > file_cache::MAX_FILE {
        file_cache::Content::Open(Arc::new(file))
    } else {
        let mut body = vec![0u8; meta.len() as usize];
        file.read_exact_at(&mut body, 0)
            .map_err(|e| io_outcome(&e))?;
        file_cache::Content::Memory(Bytes::from(body))
    };
    let at = file_cache::Location {
        origin_id: mount.origin.id,
        root: &mount.origin.path,
        rel: &key,
    };
    file_cache::insert(&at, &meta, content.clone(), info.clone());
    Ok((source_of(content), info))
}

fn source_of(content: file_cache::Content) -> Source {
    match content {
        file_cache::Content::Memory(b) => Source::Memory(b),
        file_cache::Content::Open(f) => Source::File(f),
    }
}

/// Opens the regular file that `rel` names under the origin (the default document for directory URLs).
#[allow(clippy::result_large_err)] // See `open_cached`.
pub(crate) fn locate(
    origin: &OriginDir,
    rel: &str,
    default_doc: &str,
) -> Result<(File, std::fs::Metadata), FileOutcome> {
    let wants_dir = rel.is_empty() || rel.ends_with('/');
    let mut candidate = PathBuf::from(rel.trim_start_matches('/'));
    if wants_dir {
        candidate.push(default_doc);
    }
    let file = crate::open_beneath::open_beneath(&origin.dir, &origin.path, &candidate)
        .map_err(|e| io_outcome(&e))?;
    let meta = file.metadata().map_err(|e| io_outcome(&e))?;
    if meta.is_dir() {
        return Err(if wants_dir {
            FileOutcome::NotFound
        } else {
            FileOutcome::AddSlash
        });
    }
    if !meta.is_file() {
        return Err(FileOutcome::NotFound);
    }
    Ok((file, meta))
}

/// A mount's origin directory: its canonical path and an open descriptor that lookups start from.
#[derive(Debug)]
pub(crate) struct OriginDir {
    pub(crate) path: PathBuf,
    pub(crate) dir: File,
    /// Unique for the life of the process, so cache entries of different origins never mix.
    pub(crate) id: u64,
}

impl OriginDir {
    /// Opens `dir`, which must exist and be a directory.
    pub(crate) fn open(dir: &Path) -> io::Result<OriginDir> {
        let path = std::fs::canonicalize(dir)?;
        let file = File::open(&path)?;
        if !file.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(OriginDir {
            path,
            dir: file,
            id,
        })
    }
}

fn io_outcome(e: &io::Error) -> FileOutcome {
    match e.kind() {
        io::ErrorKind::PermissionDenied => FileOutcome::Forbidden,
        _ => FileOutcome::NotFound,
    }
}

/// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
/// A header value this module made from ASCII text.
fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

fn not_modified(head: &RequestHead, etag: &str, mtime: Option<u64>) -> bool {
    if !matches!(head.method(), "GET" | "HEAD") {
        return false;
    }
    if let Some(inm) = head.header_str("if-none-match") {
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag);
    }
    match (head.header_str("if-modified-since"), mtime) {
        (Some(ims), Some(m)) => httpdate::parse_http_date(ims)
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|since| m <= since.as_secs()),
        _ => false,
    }
}

fn if_range_holds(head: &RequestHead, etag: &str, last_modified: Option<&str>) -> bool {
    match head.header_str("if-range") {
        None => true,
        Some(v) if v.trim().starts_with('"') => v.trim() == etag,
        Some(v) => last_modified.is_some_and(|lm| {
            httpdate::parse_http_date(v.trim()).ok() == httpdate::parse_http_date(lm).ok()
                && httpdate::parse_http_date(lm).ok() <= Some(SystemTime::now())
        }),
    }
}

/// A parsed `Range` header against a file size.
#[derive(Debug, PartialEq, Eq)]
enum RangeSpec {
    /// Serve the whole file (no usable range, or several ranges, which we answer whole).
    Whole,
    /// Inclusive byte range.
    Part(u64, u64),
    /// A single syntactically valid range that lies outside the file.
    Unsatisfiable,
}

fn parse_range(value: &str, size: u64) -> RangeSpec {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeSpec::Whole;
    };
    if spec.contains(',') {
        return RangeSpec::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 19 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.trim(), b.trim()) {
        ("", suffix) => match num(suffix) {
            Some(0) => RangeSpec::Unsatisfiable,
            Some(n) if size == 0 => {
                let _ = n;
                RangeSpec::Unsatisfiable
            }
            Some(n) => RangeSpec::Part(size.saturating_sub(n), size - 1),
            None => RangeSpec::Whole,
        },
        (start, "") => match num(start) {
            Some(s) if s < size => RangeSpec::Part(s, size - 1),
            Some(_) => RangeSpec::Unsatisfiable,
            None => RangeSpec::Whole,
        },
        (start, end) => match (num(start), num(end)) {
            (Some(s), Some(e)) if s > e => RangeSpec::Whole,
            (Some(s), Some(_)) if s >= size => RangeSpec::Unsatisfiable,
            (Some(s), Some(e)) => RangeSpec::Part(s, e.min(size - 1)),
            _ => RangeSpec::Whole,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeSpec::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeSpec::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeSpec::Part(90, 99));
        assert_eq!(parse_range("bytes=-1000", 100), RangeSpec::Part(0, 99));
        assert_eq!(parse_range("bytes=50-5000", 100), RangeSpec::Part(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeSpec::Whole);
        assert_eq!(parse_range("bytes=9-1", 100), RangeSpec::Whole);
        assert_eq!(parse_range("items=0-1", 100), RangeSpec::Whole);
        assert_eq!(parse_range("bytes=x-1", 100), RangeSpec::Whole);
        assert_eq!(
            parse_range("bytes=99999999999999999999-", 100),
            RangeSpec::Whole
        );
        assert_eq!(parse_range("bytes=0-0", 0), RangeSpec::Unsatisfiable);
    }
}
