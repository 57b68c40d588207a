//! lwsws as an operator runs it: config directories, config errors, the demo site, graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const LWSWS: &str = env!("CARGO_BIN_EXE_lwsws");

/// Kills the server if a test fails half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts lwsws and returns it once it printed its serving line (with the real port).
fn start_demo(extra: &[&str]) -> (Server, u16) {
    let mut child = Command::new(LWSWS)
        .args(["--interface", "127.0.0.1", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lwsws starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("serving line");
    let port = line
        .trim()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (Server(child), port)
}

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("response");
    out
}

/// `GET /` once the server started by the test accepts connections (bounded readiness poll).
fn get_when_up(port: u16) -> String {
    for _ in 0..400 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return get(port, "/");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("lwsws never listened on port {port}");
}

/// Starts `lwsws -c dir` (killed when the returned guard drops).
fn start_config(dir: &Path) -> Server {
    let child = Command::new(LWSWS)
        .args(["-c", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server(child)
}

/// Runs `lwsws -c dir` on a config that must be refused; returns what it printed on stderr.
fn config_error(dir: &Path) -> String {
    let out = Command::new(LWSWS)
        .args(["-c", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a bad config must make lwsws exit non-zero"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write_config(dir: &Path, vhost_json: &str) {
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::write(
        dir.join("conf"),
        "# global\n{ \"global\": { \"server-string\": \"test-lwsws\" } }\n",
    )
    .unwrap();
    std::fs::write(dir.join("conf.d/site"), vhost_json).unwrap();
}

#[test]
fn demo_site_is_served_with_strict_csp_and_shuts_down_cleanly_on_sigterm() {
    let (mut server, port) = start_demo(&[]);
    let page = get(port, "/");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.contains("content-security-policy: default-src 'none';"),
        "{page}"
    );
    assert!(page.contains("<title>lws-rs demo</title>"));
    assert!(get(port, "/demo.js").contains("content-type: application/javascript"));
    assert!(get(port, "/missing").starts_with("HTTP/1.1 404 Not Found"));
    // SAFETY: sending SIGTERM to our own child process, whose pid is valid until we wait on it.
    unsafe { libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM) };
    let status = server.0.wait().expect("exits");
    assert!(status.success(), "{status:?}");
}

#[test]
fn docroot_mode_serves_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "docroot-marker").unwrap();
    let (_server, port) = start_demo(&["--docroot", dir.path().to_str().unwrap()]);
    let page = get(port, "/");
    assert!(
        page.starts_with("HTTP/1.1 200 OK\r\n") && page.ends_with("docroot-marker"),
        "{page}"
    );
}

#[test]
fn config_directory_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.html"), "from-config").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("access.log");
    let cfg = format!(
        r#"{{ "vhosts": [{{ "name": "localhost", "port": "{port}", "interface": "127.0.0.1",
             "access-log": "{}",
             "mounts": [{{ "mountpoint": "/", "origin": "file://{}", "default": "index.html",
                          "cache-max-age": "60", "cache-reuse": "1" }}] }}] }}"#,
        log.display(),
        www.display()
    );
    write_config(dir.path(), &cfg);
    let _server = start_config(dir.path());
    let page = get_when_up(port);
    assert!(page.contains("server: test-lwsws"), "{page}");
    assert!(
        page.contains("cache-control: private, max-age=60"),
        "{page}"
    );
    assert!(page.ends_with("from-config"), "{page}");
}

#[test]
fn config_errors_name_file_key_and_position_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "{ \"vhosts\": [{ \"name\": \"x\", \"port\": \"7681\",\n  \"no-such-key\": \"1\" }] }\n",
    );
    let err = config_error(dir.path());
    assert!(err.contains("conf.d/site:2:3"), "{err}");
    assert!(err.contains("no-such-key"), "{err}");

    write_config(
        dir.path(),
        "{ \"vhosts\": [{ \"name\": \"x\", \"port\": \"99999\" }] }",
    );
    assert!(config_error(dir.path()).contains("port"));

    let missing = dir.path().join("nowhere");
    let cfg = format!(
        r#"{{ "vhosts": [{{ "name": "x", "port": "0", "mounts": [{{ "mountpoint": "/", "origin": "file://{}" }}] }}] }}"#,
        missing.display()
    );
    write_config(dir.path(), &cfg);
    let err = config_error(dir.path());
    assert!(err.contains("origin") && err.contains("nowhere"), "{err}");
}

#[test]
fn privileges_are_dropped_after_binding() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: privilege drop cannot be exercised here (CI runs as root)");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("lwsws-priv")
        .tempdir()
        .unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.html"), "dropped").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for p in [dir.path(), www.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        www.join("index.html"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = format!(
        r#"{{ "global": {{ "username": "nobody", "groupname": "nogroup" }},
             "vhosts": [{{ "name": "localhost", "port": "{port}", "interface": "127.0.0.1",
             "mounts": [{{ "mountpoint": "/", "origin": "file://{}" }}] }}] }}"#,
        www.display()
    );
    std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
    std::fs::write(dir.path().join("conf"), cfg).unwrap();
    let server = start_config(dir.path());
    let page = get_when_up(port);
    assert!(page.ends_with("dropped"), "{page}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let nobody = uid_line.split_whitespace().skip(1).all(|id| id == "65534");
    assert!(nobody, "server still runs as {uid_line}");
}

#[test]
fn fulltext_search_demo_is_served_from_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("animals.txt");
    std::fs::write(
        &text,
        "the quick brown fox\njumps over the lazy dog\nfoxes and dogs\n",
    )
    .unwrap();
    let index = dir.path().join("animals.index");
    let mut builder = lws_fts::IndexBuilder::create(&index).unwrap();
    builder.index_path(&text, 0).unwrap();
    builder.finish().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = format!(
        r#"{{ "vhosts": [{{ "name": "localhost", "port": "{port}", "interface": "127.0.0.1",
             "mounts": [{{ "mountpoint": "/fts", "origin": "callback://fulltext-demo" }}],
             "ws-protocols": [{{ "fulltext-demo": {{ "indexpath": "{}" }} }}] }}] }}"#,
        index.display()
    );
    write_config(dir.path(), &cfg);
    let _server = start_config(dir.path());
    get_when_up(port);
    let ac = get(port, "/fts/a/fo");
    assert!(ac.contains("application/json"), "{ac}");
    assert!(
        ac.contains("\"ac\":\"fox\"") && ac.contains("\"ac\":\"foxes\""),
        "{ac}"
    );
    let results = get(port, "/fts/r/dog");
    assert!(results.contains("animals.txt"), "{results}");
}
