//! Limits and timeouts of the HTTP/1.1 engine.

use std::time::Duration;

/// Sizes, counts and timeouts the HTTP/1.1 engine enforces; every one has a safe default.
#[derive(Debug, Clone)]
pub struct H1Config {
    /// Largest request head (request line + header lines), default 8 KiB; the runtime caps it at 64 KiB.
    pub max_head: usize,
    /// Most header lines in one head (also applies to trailers), default 100.
    pub max_headers: usize,
    /// Longest method token accepted, default 32.
    pub max_method: usize,
    /// Longest chunk-size line including extensions, default 1 KiB.
    pub max_chunk_line: usize,
    /// Time allowed to receive a complete request head once it started (slowloris guard), default 10 s.
    pub head_timeout: Duration,
    /// Idle time allowed between requests on a keep-alive connection, default 5 s.
    pub keepalive_timeout: Duration,
    /// Time allowed without any body byte while a request body is being received, default 15 s.
    pub body_timeout: Duration,
    /// Request body left unread when a response ends that is still drained to keep the connection, default 64 KiB.
    pub max_discard: u64,
}

impl Default for H1Config {
    fn default() -> Self {
        Self {
            max_head: 8 * 1024,
            max_headers: 100,
            max_method: 32,
            max_chunk_line: 1024,
            head_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(15),
            max_discard: 64 * 1024,
        }
    }
}

/// Upper bound for [`H1Config::max_head`]: larger values are clamped to it.
pub const MAX_HEAD_LIMIT: usize = 64 * 1024;
