//! Dot-segment removal and slash collapsing on the already decoded path.

/// Canonicalise a decoded path: drop `.` segments, let `..` remove the previous segment (never going above the
/// root), collapse runs of `/`, and keep a trailing slash when the last segment was empty, `.` or `..`.
///
/// Works on whole segments in one pass with a stack of slices, so it is linear in the input; the output always
/// starts with `/` and is never longer than the input (every kept segment was preceded by a `/`).
pub(super) fn canonicalise(decoded: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in decoded.split('/') {
        match segment {
            "" | "." => trailing_slash = true,
            ".." => {
                kept.pop();
                trailing_slash = true;
            }
            name => {
                kept.push(name);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len().max(1));
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if kept.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// Whether [`canonicalise`] would return `decoded` unchanged: it starts with `/`, has no empty segment
/// before its end (`//`) and no `.` or `..` segment.
pub(super) fn is_canonical(decoded: &str) -> bool {
    let Some(rest) = decoded.strip_prefix('/') else {
        return false;
    };
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == "." || segment == ".." || (segment.is_empty() && !last) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::canonicalise;

    #[test]
    fn canonical_paths_are_recognised_exactly() {
        for p in [
            "/", "/a", "/a/", "/a/b.c", "/a//b", "//", "/.", "/..", "/a/.", "/a/..", "/./a",
            "/a/../b", "/.a", "/a..", "/...", "", "a", "/a/b/",
        ] {
            assert_eq!(
                super::is_canonical(p),
                !p.is_empty() && canonicalise(p) == p,
                "{p:?}"
            );
        }
    }

    #[test]
    fn rfc3986_examples() {
        assert_eq!(canonicalise("/a/b/c/./../../g"), "/a/g");
        assert_eq!(canonicalise("/mid/content=5/../6"), "/mid/6");
    }

    #[test]
    fn clamps_at_root() {
        assert_eq!(canonicalise("/.."), "/");
        assert_eq!(canonicalise("/../../x"), "/x");
        assert_eq!(canonicalise("/a/../../../x/"), "/x/");
    }

    #[test]
    fn trailing_slash_follows_last_segment() {
        assert_eq!(canonicalise("/a/b/"), "/a/b/");
        assert_eq!(canonicalise("/a/b/.."), "/a/");
        assert_eq!(canonicalise("/a/."), "/a/");
        assert_eq!(canonicalise("/a/b"), "/a/b");
        assert_eq!(canonicalise("/a/.."), "/");
    }

    #[test]
    fn collapses_slash_runs() {
        assert_eq!(canonicalise("//"), "/");
        assert_eq!(canonicalise("/a///b//"), "/a/b/");
        assert_eq!(canonicalise("/a//../b"), "/b");
    }

    #[test]
    fn only_exact_dot_segments_are_special() {
        assert_eq!(canonicalise("/.../..a/a../. /..\\"), "/.../..a/a../. /..\\");
        assert_eq!(canonicalise("/..;/x"), "/..;/x");
    }

    #[test]
    fn empty_input_is_root() {
        assert_eq!(canonicalise(""), "/");
    }
}
