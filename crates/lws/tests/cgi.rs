//! CGI mounts: the environment a script sees, bodies both ways, the CGI head (status, redirects, missing
//! content type), and every way a script can misbehave (crash, garbage, flood, hang, ignore SIGTERM, fork,
//! ignore its stdin), each answered with the right status or an aborted body while its process group is
//! killed and the server keeps serving. Scripts are `#!/bin/sh` files written into a temporary directory.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lws::cgi::Cgi;
use lws::{Mount, Vhost};
use support::{any_port, contains, flood, start, Client, Server};
use tokio::io::AsyncWriteExt;

/// Longest a condition polled by [`wait_until`] may take.
const WAIT: Duration = Duration::from_secs(8);

/// Writes an executable `#!/bin/sh` script.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A server with the directory `dir` mounted at `/cgi`.
fn serve(dir: &Path, cgi: impl FnOnce(Cgi) -> Cgi, max_processes: usize) -> Server {
    let mount = Mount::cgi("/cgi", cgi(Cgi::new(dir)));
    start(vec![Vhost::new("localhost")
        .listen(any_port())
        .mount(mount)
        .cgi_max_processes(max_processes)])
}

/// Whether a process is alive (a zombie counts as gone: it runs nothing).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z'),
        Err(_) => false,
    }
}

/// Polls `cond` (every 20 ms) until it holds; fails the test after [`WAIT`].
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pid a script wrote into `file`, once it has.
async fn pid_in(file: &Path) -> u32 {
    let mut pid = None;
    wait_until("the script wrote its pid", || {
        pid = std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        pid.is_some()
    })
    .await;
    pid.unwrap_or_default()
}

async fn get(s: &Server, path: &str) -> support::Resp {
    Client::connect(s.addr).await.get(path).await
}

#[tokio::test]
async fn the_script_sees_the_meta_variables_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "env.sh",
        "printf 'Content-Type: text/plain\\n\\n'\nenv",
    );
    let s = serve(dir.path(), |c| c.env("MY_VAR", "from-mount"), 4);
    let port = s.addr.port();
    let mut c = Client::connect(s.addr).await;
    c.send(
        format!(
            "GET /cgi/env.sh/extra/path?a=1&b=2 HTTP/1.1\r\nHost: localhost:{port}\r\nX-Test: yes\r\n\
             Cookie: a=1\r\nCookie: b=2\r\nProxy: http://evil:3128\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\
             X_Spoof: 1\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200, "{r:?}");
    let env = r.text();
    let script_path = std::fs::canonicalize(dir.path().join("env.sh")).unwrap();
    for want in [
        "GATEWAY_INTERFACE=CGI/1.1".to_string(),
        "SERVER_PROTOCOL=HTTP/1.1".into(),
        "SERVER_NAME=localhost".into(),
        format!("SERVER_PORT={port}"),
        "REQUEST_METHOD=GET".into(),
        "QUERY_STRING=a=1&b=2".into(),
        "PATH_INFO=/extra/path".into(),
        "SCRIPT_NAME=/cgi/env.sh".into(),
        format!("SCRIPT_FILENAME={}", script_path.display()),
        format!("SCRIPT_PATH={}", script_path.display()),
        "REQUEST_URI=/cgi/env.sh/extra/path?a=1&b=2".into(),
        "REMOTE_ADDR=127.0.0.1".into(),
        "HTTP_X_TEST=yes".into(),
        "HTTP_COOKIE=a=1; b=2".into(),
        format!("HTTP_HOST=localhost:{port}"),
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        "MY_VAR=from-mount".into(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing in:\n{env}");
    }
    assert!(env.lines().any(|l| l.starts_with("REMOTE_PORT=")), "{env}");
    for absent in [
        "HTTP_PROXY=",
        "HTTP_AUTHORIZATION=",
        "HTTP_X_SPOOF=",
        "HOME=",
        "HTTPS=",
        "CONTENT_LENGTH=",
        "CARGO",
    ] {
        assert!(
            !env.lines().any(|l| l.starts_with(absent)),
            "{absent} present in:\n{env}"
        );
    }
}

#[tokio::test]
async fn a_large_post_body_streams_through_the_script() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "echo.sh",
        "printf 'Content-Type: application/octet-stream\\n\\n'\nexec cat",
    );
    let s = serve(dir.path(), |c| c, 4);
    let body: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    let mut raw = format!(
        "POST /cgi/echo.sh HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let (r, _) = flood(s.addr, raw).await;
    let r = r.expect("a response");
    assert_eq!(r.status, 200);
    assert!(r.chunked, "no Content-Length from the script: chunked");
    assert!(
        r.body == body,
        "echoed body differs ({} bytes)",
        r.body.len()
    );
}

#[tokio::test]
async fn content_length_and_status_from_the_script() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "status.sh",
        "printf 'Status: 404 Not Found\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\nX-Extra: 1\\r\\n\\r\\ngone!'",
    );
    let s = serve(dir.path(), |c| c, 4);
    let r = get(&s, "/cgi/status.sh").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-length"), Some("5"));
    assert_eq!(r.header("x-extra"), Some("1"));
    assert_eq!(r.text(), "gone!");
}

#[tokio::test]
async fn redirects_absolute_and_local() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "abs.sh",
        "printf 'Location: https://example.com/x\\n\\n'",
    );
    script(
        dir.path(),
        "local.sh",
        "printf 'Location: /elsewhere?q=1\\n\\n'",
    );
    script(
        dir.path(),
        "moved.sh",
        "printf 'Status: 301 Moved\\nLocation: /new\\nContent-Type: text/plain\\n\\nmoved'",
    );
    script(
        dir.path(),
        "target.sh",
        "printf 'Content-Type: text/plain\n\n%s %s %s' \"$REQUEST_METHOD\" \"$REQUEST_URI\" \"$HTTP_COOKIE\"",
    );
    script(
        dir.path(),
        "to-target.sh",
        "printf 'Location: /cgi/target.sh?q=1\n\n'",
    );
    script(
        dir.path(),
        "to-file.sh",
        "printf 'Location: /files/page.txt\n\n'",
    );
    script(dir.path(), "loop.sh", "printf 'Location: /cgi/loop.sh\n\n'");
    script(
        dir.path(),
        "to-nowhere.sh",
        "printf 'Location: /missing\n\n'",
    );
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("page.txt"), "a file\n").unwrap();
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .mount(Mount::cgi("/cgi", Cgi::new(dir.path())))
        .mount(Mount::files("/files", files.path()))]);
    let r = get(&s, "/cgi/abs.sh").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("https://example.com/x"));
    // A local redirect is served by the server itself, as a GET with the request's other fields.
    let mut c = Client::connect(s.addr).await;
    c.send(
        b"POST /cgi/to-target.sh HTTP/1.1\r\nHost: localhost\r\nCookie: k=v\r\n\
          Content-Length: 4\r\n\r\nbody",
    )
    .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert!(r.header("location").is_none());
    assert_eq!(r.text(), "GET /cgi/target.sh?q=1 k=v");
    let r = get(&s, "/cgi/to-file.sh").await;
    assert_eq!((r.status, r.text().as_str()), (200, "a file\n"));
    let r = get(&s, "/cgi/to-nowhere.sh").await;
    assert_eq!(r.status, 404);
    let r = get(&s, "/cgi/loop.sh").await;
    assert_eq!(r.status, 500, "a redirect loop ends");
    // The connection is still usable after a local redirect.
    let r = c.get("/cgi/to-file.sh").await;
    assert_eq!(r.status, 200);
    let r = get(&s, "/cgi/moved.sh").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/new"));
    assert_eq!(r.text(), "moved");
}

#[tokio::test]
async fn bad_heads_are_502_and_the_script_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    script(dir.path(), "notype.sh", "printf 'X-A: 1\\n\\nbody'");
    script(
        dir.path(),
        "garbage.sh",
        &format!("echo $$ > {d}/garbage.pid\nprintf 'this is no header\\n\\n'\nexec sleep 1000"),
    );
    script(
        dir.path(),
        "huge.sh",
        &format!(
            "echo $$ > {d}/huge.pid\nprintf 'X-Big: '\nhead -c 70000 /dev/zero | tr '\\0' a\nexec sleep 1000"
        ),
    );
    script(dir.path(), "crash.sh", "echo oops >&2\nexit 3");
    script(
        dir.path(),
        "half.sh",
        "printf 'Content-Type: text/plain\\n'\nexit 0",
    );
    let s = serve(dir.path(), |c| c, 8);
    assert_eq!(get(&s, "/cgi/notype.sh").await.status, 502);
    assert_eq!(get(&s, "/cgi/crash.sh").await.status, 502);
    assert_eq!(get(&s, "/cgi/half.sh").await.status, 502);
    for name in ["garbage", "huge"] {
        assert_eq!(get(&s, &format!("/cgi/{name}.sh")).await.status, 502);
        let pid = pid_in(&dir.path().join(format!("{name}.pid"))).await;
        wait_until("the refused script is killed", || !alive(pid)).await;
    }
}

#[tokio::test]
async fn a_crash_after_the_head_aborts_the_body() {
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "crash.sh",
        "printf 'Content-Type: text/plain\\n\\npartial'\nexit 1",
    );
    let s = serve(dir.path(), |c| c, 4);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /cgi/crash.sh HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let raw = c.read_to_close().await;
    assert!(
        contains(&raw, b"200 OK") || contains(&raw, b" 200 "),
        "{raw:?}"
    );
    assert!(contains(&raw, b"partial"));
    assert!(
        !contains(&raw, b"\r\n0\r\n\r\n"),
        "a cut-off body must not end with the last chunk"
    );
}

#[tokio::test]
async fn a_flood_to_a_slow_client_blocks_the_script_instead_of_buffering() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    script(
        dir.path(),
        "flood.sh",
        &format!(
            "printf 'Content-Type: application/octet-stream\\n\\n'\ni=0\nwhile [ $i -lt 6400 ]; do\n  \
             head -c 16384 /dev/zero\n  i=$((i+1))\n  echo $i > {}\ndone",
            count.display()
        ),
    );
    let s = serve(dir.path(), |c| c, 4);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /cgi/flood.sh HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    // The client reads nothing more: the script must stall once the pipes and socket buffers are full.
    let pieces = || {
        std::fs::read_to_string(&count)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut last = (u64::MAX, 0);
    wait_until("the script stalls", || {
        let n = pieces();
        if n == last.0 && n > 0 {
            last.1 += 1;
        } else {
            last = (n, 0);
        }
        last.1 >= 10
    })
    .await;
    let written = last.0 * 16384;
    assert!(
        written < 24 << 20,
        "{written} bytes written of 100 MiB: the server buffered instead of applying backpressure"
    );
    drop(c);
}

#[tokio::test]
async fn a_hung_script_times_out_with_504_and_its_group_dies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    script(
        dir.path(),
        "hang.sh",
        &format!("echo $$ > {d}/pid\nsleep 1000 &\necho $! > {d}/child\nwait"),
    );
    script(
        dir.path(),
        "stubborn.sh",
        &format!("trap '' TERM\necho $$ > {d}/stubborn\nwhile :; do sleep 1; done"),
    );
    script(
        dir.path(),
        "ok.sh",
        "printf 'Content-Type: text/plain\\n\\nok'",
    );
    let s = serve(dir.path(), |c| c.timeout(Duration::from_millis(500)), 4);
    let r = get(&s, "/cgi/hang.sh").await;
    assert_eq!(r.status, 504);
    let (pid, child) = (
        pid_in(&dir.path().join("pid")).await,
        pid_in(&dir.path().join("child")).await,
    );
    wait_until("the script and its child are killed", || {
        !alive(pid) && !alive(child)
    })
    .await;
    let r = get(&s, "/cgi/stubborn.sh").await;
    assert_eq!(r.status, 504);
    let pid = pid_in(&dir.path().join("stubborn")).await;
    wait_until("a script ignoring SIGTERM is killed", || !alive(pid)).await;
    assert_eq!(get(&s, "/cgi/ok.sh").await.text(), "ok");
}

#[tokio::test]
async fn a_script_that_reads_no_stdin_during_an_upload_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    script(
        dir.path(),
        "deaf.sh",
        &format!("echo $$ > {d}/pid\nexec sleep 1000"),
    );
    script(
        dir.path(),
        "ok.sh",
        "printf 'Content-Type: text/plain\\n\\nok'",
    );
    let s = serve(dir.path(), |c| c.timeout(Duration::from_millis(500)), 4);
    let len = 64usize << 20;
    let mut raw =
        format!("POST /cgi/deaf.sh HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len}\r\n\r\n")
            .into_bytes();
    raw.resize(raw.len() + len, b'x');
    let (r, _) = flood(s.addr, raw).await;
    assert_eq!(r.expect("a response").status, 504);
    let pid = pid_in(&dir.path().join("pid")).await;
    wait_until("the deaf script is killed", || !alive(pid)).await;
    assert_eq!(get(&s, "/cgi/ok.sh").await.text(), "ok");
}

#[tokio::test]
async fn a_client_leaving_mid_response_kills_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    script(
        dir.path(),
        "ticks.sh",
        &format!(
            "echo $$ > {d}/pid\nprintf 'Content-Type: text/plain\\n\\n'\nwhile :; do echo tick; sleep 0.05; done"
        ),
    );
    let s = serve(dir.path(), |c| c.timeout(Duration::from_secs(60)), 4);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /cgi/ticks.sh HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let pid = pid_in(&dir.path().join("pid")).await;
    assert!(alive(pid));
    drop(c);
    wait_until("the abandoned script is killed", || !alive(pid)).await;
}

#[tokio::test]
async fn the_process_cap_answers_503_and_frees_slots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    script(
        dir.path(),
        "slow.sh",
        &format!(
            "echo $$ > {d}/pid\nprintf 'Content-Type: text/plain\\n\\nstarted\\n'\nexec sleep 1000"
        ),
    );
    script(
        dir.path(),
        "ok.sh",
        "printf 'Content-Type: text/plain\\n\\nok'",
    );
    let s = serve(dir.path(), |c| c, 1);
    let mut first = Client::connect(s.addr).await;
    first
        .send(b"GET /cgi/slow.sh HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let pid = pid_in(&dir.path().join("pid")).await;
    let r = get(&s, "/cgi/ok.sh").await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    drop(first);
    wait_until("the first script is killed", || !alive(pid)).await;
    let mut ok = false;
    for _ in 0..200 {
        let r = get(&s, "/cgi/ok.sh").await;
        if r.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the slot came back after the script was reaped");
}

#[tokio::test]
async fn nothing_outside_the_origin_runs() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cgi-bin");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let evil = script(
        &outside,
        "evil.sh",
        "printf 'Content-Type: text/plain\\n\\nevil'",
    );
    std::os::unix::fs::symlink(&evil, dir.join("escape.sh")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("escdir")).unwrap();
    script(
        &dir.join("sub"),
        "ok.sh",
        "printf 'Content-Type: text/plain\\n\\nok'",
    );
    script(
        &dir,
        ".hidden.sh",
        "printf 'Content-Type: text/plain\\n\\nhidden'",
    );
    std::fs::write(dir.join("plain.txt"), "not executable").unwrap();
    let s = serve(&dir, |c| c, 4);
    assert_eq!(get(&s, "/cgi/sub/ok.sh").await.text(), "ok");
    assert_eq!(get(&s, "/cgi/escape.sh").await.status, 403);
    assert_eq!(get(&s, "/cgi/escdir/evil.sh").await.status, 403);
    assert_eq!(get(&s, "/cgi/.hidden.sh").await.status, 403);
    assert_eq!(get(&s, "/cgi/plain.txt").await.status, 403);
    assert_eq!(get(&s, "/cgi/sub").await.status, 403);
    assert_eq!(get(&s, "/cgi/missing.sh").await.status, 404);
    for path in [
        "/cgi/../outside/evil.sh",
        "/cgi/%2e%2e/outside/evil.sh",
        "/cgi/sub/..%2f..%2foutside/evil.sh",
    ] {
        let r = get(&s, path).await;
        assert!(matches!(r.status, 400 | 403 | 404), "{path}: {r:?}");
        assert!(
            !r.text().contains("evil"),
            "{path} ran a script outside the origin"
        );
    }
}

#[tokio::test]
async fn a_script_origin_takes_the_rest_as_path_info_and_the_bare_mountpoint() {
    let dir = tempfile::tempdir().unwrap();
    let one = script(
        dir.path(),
        "one.sh",
        "printf 'Content-Type: text/plain\\n\\n%s|%s' \"$SCRIPT_NAME\" \"$PATH_INFO\"",
    );
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .mount(Mount::cgi("/app", Cgi::new(one)))]);
    assert_eq!(
        get(&s, "/app").await.text(),
        "/app|",
        "no 301 for a CGI mount"
    );
    assert_eq!(get(&s, "/app/a/b").await.text(), "/app|/a/b");
}

#[tokio::test]
async fn over_http2_get_and_post() {
    use support::h2::{frame_bytes, h2_open, h2_response, headers};
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "env.sh",
        "printf 'Content-Type: text/plain\\n\\n'\nenv\necho body:\ncat",
    );
    let s = serve(dir.path(), |c| c, 4);
    let mut c = h2_open(s.addr).await;
    let block = headers(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/cgi/env.sh?x=y"),
        (":authority", "localhost"),
        ("content-length", "11"),
        ("x-h2", "yes"),
    ]);
    c.write_all(&frame_bytes(1, 0x4, 1, &block)).await.unwrap();
    c.write_all(&frame_bytes(0, 0x1, 1, b"hello world"))
        .await
        .unwrap();
    let (data, _, reset) = h2_response(&mut c).await;
    assert_eq!(reset, None);
    let text = String::from_utf8_lossy(&data);
    for want in [
        "SERVER_PROTOCOL=HTTP/2.0",
        "REQUEST_METHOD=POST",
        "QUERY_STRING=x=y",
        "CONTENT_LENGTH=11",
        "HTTP_X_H2=yes",
    ] {
        assert!(
            text.lines().any(|l| l == want),
            "{want} missing in:\n{text}"
        );
    }
    assert!(text.ends_with("body:\nhello world"), "{text}");
}

#[tokio::test]
async fn over_tls_with_basic_auth_the_script_sees_https_and_the_user() {
    use support::tls::cert_path;
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "env.sh",
        "printf 'Content-Type: text/plain\\n\\n'\nenv",
    );
    let passwords = dir.path().join("passwords");
    std::fs::write(&passwords, "user:secret\n").unwrap();
    let s = start(vec![Vhost::new("localhost")
        .listen(any_port())
        .tls(
            cert_path("localhost.cert.pem"),
            cert_path("localhost.key.pem"),
        )
        .mount(
            Mount::cgi("/cgi", Cgi::new(dir.path())).basic_auth(&passwords),
        )]);
    let mut c = support::tls::connect(s.addr, "localhost").await;
    // "user:secret"
    c.send(b"GET /cgi/env.sh HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n")
        .await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200, "{r:?}");
    let env = r.text();
    for want in [
        "HTTPS=on",
        "REMOTE_USER=user",
        "AUTH_TYPE=Basic",
        "SERVER_PORT=443",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing in:\n{env}");
    }
    assert!(!env.contains("HTTP_AUTHORIZATION"), "{env}");
    assert!(
        !env.contains("dXNlcjpzZWNyZXQ") && !env.contains("secret"),
        "the credentials never reach the script"
    );
}

#[tokio::test]
async fn over_http2_a_crash_after_the_head_resets_the_stream() {
    use support::h2::{get as h2_get, h2_open, h2_response};
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "crash.sh",
        "printf 'Content-Type: text/plain\\n\\npartial'\nexit 1",
    );
    let s = serve(dir.path(), |c| c, 4);
    let mut c = h2_open(s.addr).await;
    c.write_all(&h2_get("/cgi/crash.sh")).await.unwrap();
    let (_, _, reset) = h2_response(&mut c).await;
    assert!(reset.is_some(), "a cut-off body must reset the stream");
}

#[tokio::test]
async fn over_http2_a_local_redirect_is_served_on_the_stream() {
    use support::h2::{get as h2_get, h2_open, h2_response};
    let dir = tempfile::tempdir().unwrap();
    script(
        dir.path(),
        "target.sh",
        "printf 'Content-Type: text/plain\\n\\n%s' \"$REQUEST_URI\"",
    );
    script(
        dir.path(),
        "hop.sh",
        "printf 'Location: /cgi/target.sh?via=hop\\n\\n'",
    );
    let s = serve(dir.path(), |c| c, 4);
    let mut c = h2_open(s.addr).await;
    c.write_all(&h2_get("/cgi/hop.sh")).await.unwrap();
    let (data, _, reset) = h2_response(&mut c).await;
    assert_eq!(reset, None);
    assert_eq!(data, b"/cgi/target.sh?via=hop");
}
