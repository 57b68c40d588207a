//! HTTP basic auth against a `user:password` per-line credentials file, compared in constant time.

use std::path::Path;

use base64::Engine;
use subtle::ConstantTimeEq;

/// Outcome of checking a request's `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuthResult {
    /// Valid credentials for this user.
    Granted(String),
    /// No or wrong credentials: 401 with a challenge.
    Challenge,
    /// A malformed header: 403.
    Malformed,
}

/// Longest base64 credential accepted (libwebsockets uses a 160-byte buffer).
const MAX_CREDENTIAL: usize = 256;

/// Checks `authorization` (the header value, if any) against the credentials file.
pub(crate) fn check(authorization: Option<&str>, file: &Path) -> AuthResult {
    let Some(value) = authorization else {
        return AuthResult::Challenge;
    };
    let value = value.trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return AuthResult::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return AuthResult::Challenge;
    }
    let token = token.trim();
    if token.len() > MAX_CREDENTIAL {
        return AuthResult::Malformed;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token) else {
        return AuthResult::Malformed;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return AuthResult::Malformed;
    };
    let Ok(list) = std::fs::read(file) else {
        tracing::warn!("basic-auth file {} unreadable", file.display());
        return AuthResult::Challenge;
    };
    // Compare against every line so the time taken does not say which user exists.
    let mut found = subtle::Choice::from(0u8);
    for line in list.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let same_len = subtle::Choice::from(u8::from(line.len() == decoded.len()));
        let padded: Vec<u8> = if line.len() == decoded.len() {
            line.to_vec()
        } else {
            vec![0; decoded.len()]
        };
        found |= same_len & padded.ct_eq(&decoded);
    }
    if bool::from(found) {
        AuthResult::Granted(String::from_utf8_lossy(&decoded[..colon]).into_owned())
    } else {
        AuthResult::Challenge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }

    #[test]
    fn grants_challenges_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "alice:secret\nbob:hunter2\n").unwrap();
        assert_eq!(
            check(Some(&b64("bob:hunter2")), &f),
            AuthResult::Granted("bob".into())
        );
        assert_eq!(check(Some(&b64("bob:hunter3")), &f), AuthResult::Challenge);
        assert_eq!(check(Some(&b64("bob:hunter")), &f), AuthResult::Challenge);
        assert_eq!(check(None, &f), AuthResult::Challenge);
        assert_eq!(check(Some("Bearer abc"), &f), AuthResult::Challenge);
        assert_eq!(check(Some("Basic !!!"), &f), AuthResult::Malformed);
        assert_eq!(check(Some(&b64("nocolon")), &f), AuthResult::Malformed);
        assert_eq!(check(Some("Basic"), &f), AuthResult::Malformed);
        let long = format!("Basic {}", "A".repeat(400));
        assert_eq!(check(Some(&long), &f), AuthResult::Malformed);
    }
}
