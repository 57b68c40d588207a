//! JSON string literals for the plugins that write their JSON by hand.

use std::fmt::Write as _;

/// Appends `s` as a JSON string literal.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Also escaped so the JSON can never close a <script> or form HTML markup if embedded.
            c if (c as u32) < 0x20
                || c == '<'
                || c == '>'
                || c == '&'
                || c == '\u{2028}'
                || c == '\u{2029}' =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
