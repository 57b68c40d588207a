//! File mounts over HTTP/1.1 as a browser or curl sees them: default documents, slash redirects,
//! validators and conditional requests, ranges, HEAD, Cache-Control, mimetypes, the 404 document, extra
//! headers, basic auth, exact-match and redirect mounts, and the access log.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lws::{CachePolicy, Mount, ProtocolHandle, Vhost, STRICT_SECURITY_HEADERS};
use support::{any_port, exchange, start, Client, Hello, Resp, Server};
use tempfile::TempDir;

const INDEX: &str = "<!DOCTYPE html><h1>root index</h1>";
const SUB_INDEX: &str = "<h1>sub index</h1>";
const APP_INDEX: &str = "<h1>app index</h1>";
const NOT_FOUND_DOC: &str = "<h1>custom not found</h1>";

fn data() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 251) as u8).collect()
}

/// A site: `www/` (root origin) and `app/` (a second origin), plus a basic-auth file.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let www = dir.path().join("www");
        std::fs::create_dir_all(www.join("sub")).unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(www.join("index.html"), INDEX).unwrap();
        std::fs::write(www.join("sub/index.html"), SUB_INDEX).unwrap();
        std::fs::write(www.join("data.bin"), data()).unwrap();
        std::fs::write(www.join("style.css"), "body{}").unwrap();
        std::fs::write(www.join("a.zz"), "zz").unwrap();
        std::fs::write(www.join("a.qq"), "qq").unwrap();
        std::fs::write(www.join("404.html"), NOT_FOUND_DOC).unwrap();
        std::fs::write(dir.path().join("app/index.html"), APP_INDEX).unwrap();
        std::fs::write(dir.path().join("passwords"), "alice:wonder\nbob:builder\n").unwrap();
        Site { dir }
    }

    fn www(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// The site's root mount on a plain vhost.
fn plain(site: &Site) -> Vhost {
    Vhost::new("localhost")
        .listen(any_port())
        .mount(Mount::files("/", site.www()).default_doc("index.html"))
}

fn serve(v: Vhost) -> Server {
    start(vec![v])
}

async fn get(s: &Server, path: &str) -> Resp {
    exchange(
        s.addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
    .await
}

async fn get_with(s: &Server, path: &str, extra: &str) -> Resp {
    exchange(
        s.addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n").as_bytes(),
    )
    .await
}

#[tokio::test]
async fn default_document_is_served_for_directories() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get(&s, "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), INDEX);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let r = get(&s, "/sub/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), SUB_INDEX);
}

#[tokio::test]
async fn directory_without_slash_redirects_to_slash_form() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get(&s, "/sub").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/sub/"));
    let r = get(&s, "/sub?x=1&y=2").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/sub/?x=1&y=2"));
}

#[tokio::test]
async fn bare_mountpoint_redirects_to_slash_form_keeping_query() {
    let site = Site::new();
    let s = serve(plain(&site).mount(Mount::files("/app", site.path("app"))));
    let r = get(&s, "/app").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/app/"));
    let r = get(&s, "/app?q=1").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/app/?q=1"));
    let r = get(&s, "/app/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), APP_INDEX);
}

#[tokio::test]
async fn etag_and_if_none_match_give_304_without_body() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get(&s, "/data.bin").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data());
    let etag = r.header("etag").expect("etag on a file").to_string();
    // The 304 must carry no body: a second request on the same connection would be corrupted otherwise.
    let mut c = Client::connect(s.addr).await;
    c.send(
        format!(
            "GET /data.bin HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: {etag}\r\n\r\n\
             GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let next = c.read_response().await;
    assert_eq!(next.status, 200);
    assert_eq!(next.text(), INDEX);
    // Another tag, or a list containing ours.
    let r = get_with(&s, "/data.bin", "If-None-Match: \"other\"\r\n").await;
    assert_eq!(r.status, 200);
    let r = get_with(
        &s,
        "/data.bin",
        &format!("If-None-Match: \"other\", {etag}\r\n"),
    )
    .await;
    assert_eq!(r.status, 304);
}

#[tokio::test]
async fn if_modified_since_gives_304() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get(&s, "/data.bin").await;
    let lm = r
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let r = get_with(&s, "/data.bin", &format!("If-Modified-Since: {lm}\r\n")).await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let r = get_with(
        &s,
        "/data.bin",
        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data());
}

#[tokio::test]
async fn single_range_gives_206_with_content_range() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get_with(&s, "/data.bin", "Range: bytes=10-19\r\n").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/1000"));
    assert_eq!(r.header("content-length"), Some("10"));
    assert_eq!(r.body, data()[10..20].to_vec());
    let r = get_with(&s, "/data.bin", "Range: bytes=-5\r\n").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 995-999/1000"));
    assert_eq!(r.body, data()[995..].to_vec());
}

#[tokio::test]
async fn unsatisfiable_range_gives_416_with_size() {
    let site = Site::new();
    let s = serve(plain(&site));
    let r = get_with(&s, "/data.bin", "Range: bytes=5000-\r\n").await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */1000"));
}

#[tokio::test]
async fn if_range_mismatch_sends_whole_file() {
    let site = Site::new();
    let s = serve(plain(&site));
    let etag = get(&s, "/data.bin")
        .await
        .header("etag")
        .unwrap()
        .to_string();
    let r = get_with(
        &s,
        "/data.bin",
        "Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, data());
    assert!(r.header("content-range").is_none());
    let r = get_with(
        &s,
        "/data.bin",
        &format!("Range: bytes=0-9\r\nIf-Range: {etag}\r\n"),
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, data()[..10].to_vec());
}

#[tokio::test]
async fn head_has_content_length_and_no_body() {
    let site = Site::new();
    let s = serve(plain(&site));
    let mut c = Client::connect(s.addr).await;
    c.send(b"HEAD /data.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let r = c.read_head_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("1000"));
    // The next response starts right after the HEAD head: no body bytes were sent.
    let r = c.get("/index.html").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), INDEX);
}

#[tokio::test]
async fn cache_control_follows_each_cache_policy() {
    let site = Site::new();
    let policies = [
        (CachePolicy::default(), "no-store"),
        (
            CachePolicy {
                max_age: 60,
                reuse: true,
                revalidate: true,
                intermediaries: false,
                no_cache: false,
            },
            "private, max-age=60, must-revalidate",
        ),
        (
            CachePolicy {
                max_age: 3600,
                reuse: true,
                revalidate: false,
                intermediaries: true,
                no_cache: false,
            },
            "public, max-age=3600",
        ),
        (
            CachePolicy {
                max_age: 5,
                reuse: true,
                revalidate: false,
                intermediaries: true,
                no_cache: true,
            },
            "public, max-age=5, no-cache",
        ),
        (
            CachePolicy {
                max_age: 0,
                reuse: true,
                revalidate: true,
                intermediaries: true,
                no_cache: true,
            },
            "public, max-age=0, must-revalidate, no-cache",
        ),
        (
            CachePolicy {
                max_age: 99,
                reuse: false,
                revalidate: true,
                intermediaries: true,
                no_cache: true,
            },
            "no-store",
        ),
    ];
    let mut v = plain(&site);
    for (i, (p, _)) in policies.iter().enumerate() {
        v = v.mount(Mount::files(&format!("/c{i}"), site.www()).cache(*p));
    }
    let s = serve(v);
    for (i, (_, want)) in policies.iter().enumerate() {
        let r = get(&s, &format!("/c{i}/data.bin")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("cache-control"), Some(*want), "policy {i}");
    }
}

#[tokio::test]
async fn mimetypes_builtin_extra_and_wildcard() {
    let site = Site::new();
    let s = serve(
        plain(&site)
            .mount(Mount::files("/x", site.www()).extra_mimetype(".zz", "application/x-zz"))
            .mount(Mount::files("/star", site.www()).extra_mimetype("*", "application/x-star"))
            .mount(Mount::files("/none", site.www()).extra_mimetype("*", "")),
    );
    let ct = |r: &Resp| r.header("content-type").map(str::to_string);
    assert_eq!(
        ct(&get(&s, "/style.css").await).as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        ct(&get(&s, "/a.zz").await).as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(
        ct(&get(&s, "/x/a.zz").await).as_deref(),
        Some("application/x-zz")
    );
    assert_eq!(
        ct(&get(&s, "/x/style.css").await).as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        ct(&get(&s, "/star/a.qq").await).as_deref(),
        Some("application/x-star")
    );
    assert_eq!(
        ct(&get(&s, "/star/style.css").await).as_deref(),
        Some("text/css; charset=utf-8")
    );
    let r = get(&s, "/none/a.qq").await;
    assert_eq!(r.status, 200);
    assert_eq!(ct(&r), None);
}

#[tokio::test]
async fn error_document_404_is_served_with_status_404() {
    let site = Site::new();
    let s = serve(plain(&site).error_document_404("/404.html"));
    let r = get(&s, "/no/such/file.txt").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), NOT_FOUND_DOC);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    // Without the option the built-in page is used.
    let plain_s = serve(plain(&site));
    let r = get(&plain_s, "/no/such/file.txt").await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("404"));
    assert!(!r.text().contains("custom not found"));
}

#[tokio::test]
async fn vhost_and_mount_headers_with_mount_overriding() {
    let site = Site::new();
    let s = serve(
        plain(&site)
            .header("x-vhost", "v")
            .header("x-shared", "from-vhost")
            .mount(Mount::files("/m", site.www()).header("x-shared", "from-mount")),
    );
    let r = get(&s, "/data.bin").await;
    assert_eq!(r.header("x-vhost"), Some("v"));
    assert_eq!(r.headers_named("x-shared"), vec!["from-vhost"]);
    let r = get(&s, "/m/data.bin").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-vhost"), Some("v"));
    assert_eq!(r.headers_named("x-shared"), vec!["from-mount"]);
    let r = get(&s, "/m/missing").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers_named("x-shared"), vec!["from-mount"]);
}

#[tokio::test]
async fn strict_security_headers_on_200_404_and_304() {
    let site = Site::new();
    let s = serve(plain(&site).strict_security_headers(true));
    let ok = get(&s, "/data.bin").await;
    assert_eq!(ok.status, 200);
    let missing = get(&s, "/missing").await;
    assert_eq!(missing.status, 404);
    let etag = ok.header("etag").unwrap().to_string();
    let nm = get_with(&s, "/data.bin", &format!("If-None-Match: {etag}\r\n")).await;
    assert_eq!(nm.status, 304);
    for r in [&ok, &missing, &nm] {
        for (n, v) in STRICT_SECURITY_HEADERS {
            assert_eq!(r.header(n), Some(*v), "{n} on {}", r.status);
        }
    }
}

#[tokio::test]
async fn post_to_file_mount_is_405_with_allow() {
    let site = Site::new();
    let s = serve(plain(&site));
    let mut c = Client::connect(s.addr).await;
    c.send(b"POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc")
        .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    // The small unread body is skipped; the connection keeps working.
    let r = c.get("/index.html").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), INDEX);
}

#[tokio::test]
async fn basic_auth_challenges_grants_and_refuses() {
    let site = Site::new();
    let s = serve(
        plain(&site).mount(Mount::files("/private", site.www()).basic_auth(site.path("passwords"))),
    );
    let challenge = "Basic realm=\"lwsws\"";
    let r = get(&s, "/private/index.html").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(challenge));
    assert!(!r.text().contains("root index"));
    // bob:wrong
    let r = get_with(
        &s,
        "/private/index.html",
        "Authorization: Basic Ym9iOndyb25n\r\n",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(challenge));
    // bob:builder
    let r = get_with(
        &s,
        "/private/index.html",
        "Authorization: Basic Ym9iOmJ1aWxkZXI=\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), INDEX);
    let r = get_with(&s, "/private/index.html", "Authorization: Basic !!!\r\n").await;
    assert_eq!(r.status, 403);
    // Other mounts need nothing.
    assert_eq!(get(&s, "/index.html").await.status, 200);
}

#[tokio::test]
async fn exact_match_mount_matches_only_itself() {
    let site = Site::new();
    let s = serve(
        plain(&site)
            .protocol(ProtocolHandle::new("hello", Hello))
            .mount(Mount::callback("/api", "hello").exact_match(true)),
    );
    let r = get(&s, "/api").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello /api on localhost");
    let r = get(&s, "/api/other").await;
    assert_eq!(r.status, 404, "below an exact-match mount falls to /");
}

#[tokio::test]
async fn redirect_mount_sends_301_with_location() {
    let site = Site::new();
    let s = serve(
        plain(&site)
            .mount(Mount::redirect("/old", "https://example.com/new/"))
            .mount(Mount::redirect("/moved", "https://example.com/base/").append_path(true)),
    );
    let r = get(&s, "/old/anything").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("https://example.com/new/"));
    let r = get(&s, "/moved/a/b.html").await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("https://example.com/base/a/b.html")
    );
}

#[tokio::test]
async fn access_log_gets_a_combined_format_line() {
    let site = Site::new();
    let log = site.path("access.log");
    let s = serve(plain(&site).access_log(&log));
    let r = get_with(
        &s,
        "/index.html?x=1",
        "Referer: http://ref.example/\r\nUser-Agent: it-agent/1.0\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    let line = wait_for_line(&log).await;
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    let want = format!(
        "] \"GET /index.html?x=1 HTTP/1.1\" 200 {} \"http://ref.example/\" \"it-agent/1.0\"\n",
        INDEX.len()
    );
    assert!(line.ends_with(&want), "{line:?} does not end with {want:?}");
    // `[10/Oct/2000:13:55:36 +0000]`
    let stamp = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
    assert_eq!(stamp.len(), 26, "{stamp}");
    assert!(stamp.ends_with(" +0000"), "{stamp}");
}

/// Polls (bounded) until the log holds a complete line: the line is written after the response.
async fn wait_for_line(log: &Path) -> String {
    for _ in 0..250 {
        if let Ok(s) = std::fs::read_to_string(log) {
            if s.ends_with('\n') {
                return s;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no access log line written to {}", log.display());
}

/// Hot files are served from the per-thread cache (small ones from memory, large ones from a kept
/// descriptor); every kind of change on disk must still reach the very next request, on a kept-alive
/// connection and a new one alike.
#[tokio::test]
async fn changes_to_hot_files_reach_the_next_request() {
    let site = Site::new();
    let www = site.www();
    let big = |fill: u8| vec![fill; 200 * 1024];
    std::fs::write(www.join("big.bin"), big(b'a')).unwrap();
    std::fs::create_dir(www.join("dir")).unwrap();
    std::fs::write(www.join("dir/f.txt"), "in dir").unwrap();
    let s = serve(plain(&site));
    let mut c = Client::connect(s.addr).await;
    for _ in 0..2 {
        assert_eq!(c.get("/style.css").await.text(), "body{}");
        assert_eq!(c.get("/big.bin").await.body, big(b'a'));
        assert_eq!(c.get("/dir/f.txt").await.text(), "in dir");
    }

    // Rewritten in place with the same size.
    std::fs::write(www.join("style.css"), "p{x:1}").unwrap();
    assert_eq!(c.get("/style.css").await.text(), "p{x:1}");
    std::fs::write(www.join("big.bin"), big(b'b')).unwrap();
    assert_eq!(c.get("/big.bin").await.body, big(b'b'));

    // Replaced by a rename over it.
    std::fs::write(site.path("new.css"), "q{y:2}").unwrap();
    std::fs::rename(site.path("new.css"), www.join("style.css")).unwrap();
    assert_eq!(get(&s, "/style.css").await.text(), "q{y:2}");
    assert_eq!(c.get("/style.css").await.text(), "q{y:2}");

    // A directory on the path renamed away, then back.
    std::fs::rename(www.join("dir"), www.join("gone")).unwrap();
    assert_eq!(c.get("/dir/f.txt").await.status, 404);
    std::fs::rename(www.join("gone"), www.join("dir")).unwrap();
    assert_eq!(c.get("/dir/f.txt").await.text(), "in dir");

    // Removed.
    std::fs::remove_file(www.join("big.bin")).unwrap();
    assert_eq!(c.get("/big.bin").await.status, 404);

    // A symlink swapped to another target.
    std::fs::write(www.join("one.txt"), "one").unwrap();
    std::fs::write(www.join("two.txt"), "two").unwrap();
    std::os::unix::fs::symlink("one.txt", www.join("link.txt")).unwrap();
    assert_eq!(c.get("/link.txt").await.text(), "one");
    std::os::unix::fs::symlink("two.txt", www.join("tmp-link")).unwrap();
    std::fs::rename(www.join("tmp-link"), www.join("link.txt")).unwrap();
    assert_eq!(c.get("/link.txt").await.text(), "two");
    // And the target it now names edited.
    std::fs::write(www.join("two.txt"), "TWO").unwrap();
    assert_eq!(c.get("/link.txt").await.text(), "TWO");
}
