//! Starts minimal-http-server-fulltext-search on the canned `lws-fts` corpus and checks the `/fts` JSON and
//! the page it serves.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The running example, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The port of the first `http://127.0.0.1:PORT` URL in a line.
fn printed_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("://127.0.0.1:")? + "://127.0.0.1:".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn get(port: u16, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn fulltext_search_example() {
    let dir = std::env::temp_dir().join(format!("lws-fts-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let index = dir.join("canned.idx");
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/lws-fts/tests/corpus"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_minimal-http-server-fulltext-search"))
        .args(["--port", "0", "--corpus", corpus, "--index"])
        .arg(&index)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn example");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = printed_port(&line) {
                let _ = tx.send(port);
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the example printed no URL");

    let (status, head, body) = get(port, "/fts/a/c");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(
        body.contains(
            "\"ac\":[{\"ac\":\"coffee\",\"matches\":3,\"agg\":3,\"elided\":0},\
             {\"ac\":\"café\",\"matches\":2,\"agg\":2,\"elided\":0}]"
        ),
        "{body}"
    );

    let (status, _, body) = get(port, "/fts/r/dog");
    assert_eq!(status, 200);
    assert!(body.starts_with("{\"indexed\":1,"), "{body}");
    assert!(body.contains("a.txt\",\"matches\":2,\"origlines\":3,\"hits\":[{\"l\":2,\"o\":20,\"s\":\"jumps over the lazy dog.\"},{\"l\":3,\"o\":45,\"s\":\"The dog sleeps.\"}]"), "{body}");
    assert!(body.contains("c.txt\",\"matches\":1,"), "{body}");

    // Percent-encoded UTF-8 terms work; unknown words give empty lists.
    let (_, _, body) = get(port, "/fts/r/caf%C3%A9");
    assert!(body.contains("\"matches\":2"), "{body}");
    let (_, _, body) = get(port, "/fts/r/nothing");
    assert!(body.contains("\"fp\":[]"), "{body}");

    let (status, head, body) = get(port, "/");
    assert_eq!(status, 200);
    assert!(head.contains("content-security-policy"), "{head}");
    assert!(body.contains("fts.js"), "{body}");
    assert_eq!(get(port, "/fts/x").0, 404);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
