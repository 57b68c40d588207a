//! Content types by file suffix: the mount's `extra-mimetypes` first, then a built-in table.

/// Built-in suffix table (lowercase suffix without the dot).
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "application/javascript"),
    ("mjs", "application/javascript"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("txt", "text/plain; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("xml", "application/xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("svg", "image/svg+xml"),
    ("ico", "image/x-icon"),
    ("bmp", "image/bmp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("xz", "application/x-xz"),
    ("zst", "application/zstd"),
    ("tar", "application/x-tar"),
    ("bin", "application/octet-stream"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("pem", "application/x-pem-file"),
];

/// Fallback for suffixes nobody knows (libwebsockets since v4 does the same).
pub(crate) const FALLBACK: &str = "application/octet-stream";

/// The content type for `path`, or `None` when the mount says to send none (`"*": ""`).
pub(crate) fn content_type<'a>(path: &str, extra: &'a [(String, String)]) -> Option<&'a str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let suffix = name.rsplit_once('.').map(|(_, s)| s).unwrap_or("");
    for (ext, ty) in extra {
        let ext = ext.trim_start_matches('.');
        if !suffix.is_empty() && ext.eq_ignore_ascii_case(suffix) {
            return Some(ty.as_str()).filter(|t| !t.is_empty());
        }
    }
    if let Some((_, ty)) = TABLE
        .iter()
        .find(|(ext, _)| ext.eq_ignore_ascii_case(suffix))
    {
        return Some(ty);
    }
    if let Some((_, ty)) = extra.iter().find(|(ext, _)| ext == "*") {
        return Some(ty.as_str()).filter(|t| !t.is_empty());
    }
    Some(FALLBACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_extra_and_wildcard() {
        assert_eq!(
            content_type("/a/b.HTML", &[]),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(content_type("/a/b.unknown", &[]), Some(FALLBACK));
        assert_eq!(content_type("/noext", &[]), Some(FALLBACK));
        let extra = vec![
            (".zz".to_string(), "application/x-zz".to_string()),
            ("*".to_string(), String::new()),
        ];
        assert_eq!(content_type("/f.zz", &extra), Some("application/x-zz"));
        assert_eq!(content_type("/f.qq", &extra), None);
        let over = vec![(".js".to_string(), "text/javascript".to_string())];
        assert_eq!(content_type("/x.js", &over), Some("text/javascript"));
    }
}
