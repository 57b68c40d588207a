//! What a vhost or mount says about compressing its responses. Off unless turned on, so enabling the
//! `compression` cargo feature changes no behaviour by itself.

pub use lws_proto::coding::ContentCoding;

/// Response compression of a vhost or a mount (a mount's setting replaces its vhost's).
///
/// When on, responses of a compressible type (text, JavaScript, JSON, XML, SVG, WebAssembly) of at least
/// [`Compression::min_size`] bytes are sent with the coding the client prefers by `Accept-Encoding` q-values
/// among brotli, zstd and gzip, unless the request is a `HEAD` or has a `Range`, the status is 204, 206 or 304,
/// the response is already encoded, or it says `Cache-Control: no-transform`. File mounts also serve a
/// precompressed sibling (`app.js.br`, `app.js.zst`, `app.js.gz`) as it is when it exists and is not older.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compression {
    pub(crate) enabled: bool,
    pub(crate) level: Option<u32>,
    pub(crate) min_size: u64,
    pub(crate) codings: Vec<ContentCoding>,
    pub(crate) precompressed: bool,
}

impl Default for Compression {
    fn default() -> Self {
        Compression::off()
    }
}

impl Compression {
    /// Smaller bodies are sent as they are: the coding's framing would eat what it saves.
    pub const DEFAULT_MIN_SIZE: u64 = 256;

    /// No compression (the library default).
    pub fn off() -> Self {
        Compression {
            enabled: false,
            level: None,
            min_size: Self::DEFAULT_MIN_SIZE,
            codings: ContentCoding::ALL.to_vec(),
            precompressed: true,
        }
    }

    /// Compression on, with each coding's default level (gzip 6, brotli 5, zstd 3) and every coding offered.
    pub fn on() -> Self {
        Compression {
            enabled: true,
            ..Compression::off()
        }
    }

    /// One level for every coding on gzip's 1 (fastest) ..= 9 (smallest) scale; brotli takes it as its
    /// quality (0..=11, so 9 is not its best), zstd as its level.
    pub fn level(mut self, level: u32) -> Self {
        self.level = Some(level.clamp(1, 9));
        self
    }

    /// Bodies of known length below this many bytes are not compressed (default 256).
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }

    /// The codings offered, in the server's order of preference for clients that weigh them equally.
    pub fn codings(mut self, codings: &[ContentCoding]) -> Self {
        self.codings = codings.to_vec();
        self
    }

    /// Whether file mounts look for precompressed siblings (default on).
    pub fn precompressed(mut self, yes: bool) -> Self {
        self.precompressed = yes;
        self
    }

    /// Whether compression is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled && !self.codings.is_empty()
    }
}

/// Whether a response of this `content-type` is worth compressing: text, and the text-like application
/// types (already-compressed media and archives are not).
pub(crate) fn compressible_type(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let lower =
        |s: &[u8], p: &str| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let is = |p: &str| essence.eq_ignore_ascii_case(p.as_bytes());
    // `application/<subtype>+json`, with a subtype before the suffix.
    let ends = |suffix: &str| {
        essence.len() > "application/".len() + suffix.len()
            && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    lower(essence, "text/")
        || is("application/javascript")
        || is("application/x-javascript")
        || is("application/ecmascript")
        || is("application/json")
        || is("application/xml")
        || is("application/wasm")
        || is("image/svg+xml")
        || is("image/x-icon")
        || (lower(essence, "application/") && (ends("+json") || ends("+xml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_like_types_are_compressible() {
        for t in [
            "text/html; charset=utf-8",
            "TEXT/CSS",
            "text/event-stream",
            "application/javascript",
            "application/json",
            "application/ld+json",
            "application/atom+xml",
            "image/svg+xml",
            "application/wasm",
        ] {
            assert!(compressible_type(t.as_bytes()), "{t}");
        }
        for t in [
            "image/png",
            "application/zip",
            "application/octet-stream",
            "video/mp4",
            "application/+json",
            "",
        ] {
            assert!(!compressible_type(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn levels_are_clamped_to_the_gzip_scale() {
        assert_eq!(Compression::on().level(0).level, Some(1));
        assert_eq!(Compression::on().level(42).level, Some(9));
        assert!(!Compression::on().codings(&[]).is_enabled());
        assert!(!Compression::default().is_enabled());
    }
}
