//! The demo site built into the binary: our own page (strict CSP, script in files) plus the post demo.

use std::path::Path;

/// The demo files, embedded at build time: (name, contents).
const FILES: &[(&str, &[u8])] = &[
    ("index.html", include_bytes!("../demo/index.html")),
    ("demo.css", include_bytes!("../demo/demo.css")),
    ("demo.js", include_bytes!("../demo/demo.js")),
    ("favicon.ico", include_bytes!("../demo/favicon.ico")),
    ("lws-rs-logo.svg", include_bytes!("../demo/lws-rs-logo.svg")),
];

/// Writes the demo files into `dir` so a normal file mount (with ETags, ranges and caching) serves them.
pub(crate) fn extract(dir: &Path) -> std::io::Result<()> {
    for (name, data) in FILES {
        std::fs::write(dir.join(name), data)?;
    }
    Ok(())
}
