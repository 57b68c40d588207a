//! Starts the Server-Sent Events and long-poll examples with `--port 0` (they print the URL with the port
//! they got) and follows their streams with the lws HTTP client, over HTTP/1.1 and HTTP/2.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lws::client::{HttpResponse, HttpVersion};

/// Longest any one step may take.
const STEP: Duration = Duration::from_secs(10);

/// The self-signed test certificate the TLS examples use by default.
const TEST_CERT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/certs/localhost.cert.pem"
);

/// A running example, killed when dropped (also when an assertion panics).
struct Example {
    child: Child,
    port: u16,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin --port 0 <args>` and reads the port from the first URL it prints.
fn start(bin: &str, args: &[&str]) -> Example {
    let mut child = Command::new(bin)
        .args(["--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn example");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Reports the port, then keeps draining stdout so the example never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(port) = digits.parse::<u16>() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    let port = rx
        .recv_timeout(STEP)
        .unwrap_or_else(|_| panic!("{bin} printed no URL"));
    Example { child, port }
}

/// Reads the body until it holds `want` (bounded by [`STEP`]); returns everything read.
async fn read_until(resp: &mut HttpResponse, seen: &mut String, want: &str) {
    while !seen.contains(want) {
        let chunk = tokio::time::timeout(STEP, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {want:?} in time; got {seen:?}"))
            .unwrap_or_else(|| panic!("stream ended before {want:?}; got {seen:?}"))
            .expect("body");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_server_sse() {
    let ex = start(
        env!("CARGO_BIN_EXE_minimal-http-server-sse"),
        &["--interval-ms", "20", "--end-after", "3"],
    );
    let url = format!("http://127.0.0.1:{}/sse", ex.port);
    let mut resp = lws::client::http(&url)
        .header("last-event-id", "41")
        .http1_only()
        .send()
        .await
        .expect("GET /sse");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let mut seen = String::new();
    read_until(&mut resp, &mut seen, "id: 44\ndata: counter 44\n\n").await;
    assert!(
        seen.starts_with("retry: 500\nevent: counter\nid: 42\n"),
        "{seen}"
    );
    // --end-after 3: the stream ends by itself.
    assert!(tokio::time::timeout(STEP, resp.chunk())
        .await
        .expect("the end")
        .is_none());

    let mut resp = lws::client::http(&url)
        .http2_prior_knowledge()
        .send()
        .await
        .expect("GET /sse over h2c");
    assert_eq!(resp.version(), HttpVersion::Http2);
    let mut seen = String::new();
    read_until(&mut resp, &mut seen, "id: 2\ndata: counter 2\n\n").await;

    let page = lws::client::http(&format!("http://127.0.0.1:{}/", ex.port))
        .send()
        .await
        .expect("GET /");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/page/events.js"));
    // The page script all three SSE examples share, from its own mount.
    let script = lws::client::http(&format!("http://127.0.0.1:{}/page/events.js", ex.port))
        .send()
        .await
        .expect("GET /page/events.js");
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("new EventSource"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_server_sse_ring() {
    let ex = start(
        env!("CARGO_BIN_EXE_minimal-http-server-sse-ring"),
        &["--interval-ms", "20", "--slots", "4"],
    );
    let url = format!("http://127.0.0.1:{}/sse", ex.port);
    let mut a = lws::client::http(&url).send().await.expect("first client");
    let mut b = lws::client::http(&url)
        .http2_prior_knowledge()
        .send()
        .await
        .expect("second client");
    let (mut seen_a, mut seen_b) = (String::new(), String::new());
    read_until(&mut a, &mut seen_a, "id: ").await;
    let first: u64 = seen_a
        .split("id: ")
        .nth(1)
        .and_then(|s| s.split('\n').next())
        .and_then(|n| n.parse().ok())
        .expect("an id");
    // Both follow the same ring: each sees the events that come after.
    for n in first + 1..first + 4 {
        let want = format!("id: {n}\ndata: tick");
        read_until(&mut a, &mut seen_a, &want).await;
        read_until(&mut b, &mut seen_b, &want).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_http_server_h2_long_poll() {
    // Answers every 6 s, beyond the example's 5 s HTTP/2 idle timeout.
    let ex = start(
        env!("CARGO_BIN_EXE_minimal-http-server-h2-long-poll"),
        &["--interval-ms", "6000"],
    );
    let url = format!("https://127.0.0.1:{}/poll", ex.port);
    let mut resp = lws::client::http(&url)
        .ca_file(TEST_CERT)
        .send()
        .await
        .expect("GET /poll");
    assert_eq!(resp.version(), HttpVersion::Http2);
    assert_eq!(resp.status(), 200);
    let mut seen = String::new();
    read_until(&mut resp, &mut seen, "data: answer 0 ").await;
}
