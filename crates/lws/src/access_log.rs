//! The per-vhost access log in Apache's combined format, one line per request.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// An open access log; lines are written whole with one `write` each, so several vhosts or processes
/// appending to the same file do not interleave inside a line.
#[derive(Debug)]
pub(crate) struct AccessLog {
    file: Mutex<File>,
}

/// What one log line says about a request.
pub(crate) struct LogEntry<'a> {
    pub(crate) peer: Option<IpAddr>,
    pub(crate) user: Option<&'a str>,
    pub(crate) request_line: (&'a str, &'a str, &'a str),
    pub(crate) status: u16,
    pub(crate) bytes: u64,
    pub(crate) referer: Option<&'a str>,
    pub(crate) user_agent: Option<&'a str>,
}

impl AccessLog {
    pub(crate) fn open(path: &Path) -> io::Result<AccessLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AccessLog {
            file: Mutex::new(file),
        })
    }

    pub(crate) fn write(&self, e: &LogEntry<'_>) {
        let line = format_line(e, SystemTime::now());
        if let Ok(mut f) = self.file.lock() {
            if let Err(err) = f.write_all(line.as_bytes()) {
                tracing::warn!("access log write failed: {err}");
            }
        }
    }
}

/// `host ident user [time] "request" status bytes "referer" "user-agent"`.
pub(crate) fn format_line(e: &LogEntry<'_>, now: SystemTime) -> String {
    let host = e
        .peer
        .map(|p| p.to_string())
        .unwrap_or_else(|| "-".to_string());
    let (method, target, version) = e.request_line;
    let bytes = if e.bytes == 0 {
        "-".to_string()
    } else {
        e.bytes.to_string()
    };
    format!(
        "{host} - {} [{}] \"{} {} {}\" {} {} \"{}\" \"{}\"\n",
        quote(e.user.unwrap_or("-")),
        clf_time(now),
        quote(method),
        quote(target),
        version,
        e.status,
        bytes,
        quote(e.referer.unwrap_or("-")),
        quote(e.user_agent.unwrap_or("-")),
    )
}

/// Escapes quotes, backslashes and control bytes so a request cannot forge log lines.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `10/Oct/2000:13:55:36 +0000` in UTC.
fn clf_time(now: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn combined_format_and_escaping() {
        let e = LogEntry {
            peer: Some("127.0.0.1".parse().unwrap()),
            user: None,
            request_line: ("GET", "/a\"b", "HTTP/1.1"),
            status: 200,
            bytes: 1234,
            referer: None,
            user_agent: Some("curl/8\n"),
        };
        let t = UNIX_EPOCH + Duration::from_secs(971_186_136);
        assert_eq!(
            format_line(&e, t),
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /a\\\"b HTTP/1.1\" 200 1234 \"-\" \"curl/8\\x0a\"\n"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
    }
}
