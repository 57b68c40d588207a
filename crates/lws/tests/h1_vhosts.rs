//! Name-based vhosts sharing one listening port over HTTP/1.1: the Host header picks the vhost (exact name,
//! then parent domain, else the first vhost), and each vhost has its own mounts.

mod support;

use std::path::Path;

use lws::{Mount, ProtocolHandle, Vhost};
use support::{exchange, free_port, start, Client, Hello, Server};
use tempfile::TempDir;

struct Three {
    _dir: TempDir,
    server: Server,
}

fn site(root: &Path, name: &str) -> std::path::PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("index.html"), format!("site {name}")).unwrap();
    d
}

/// `default.test` (first, so the fallback), `example.com` and `cats.example.com` on one port.
fn three() -> Three {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port();
    let vhosts = vec![
        Vhost::new("default.test")
            .listen(addr)
            .mount(Mount::files("/", site(dir.path(), "default"))),
        Vhost::new("example.com")
            .listen(addr)
            .mount(Mount::files("/", site(dir.path(), "example")))
            .protocol(ProtocolHandle::new("hello", Hello))
            .mount(Mount::callback("/only-example", "hello")),
        Vhost::new("cats.example.com")
            .listen(addr)
            .mount(Mount::files("/", site(dir.path(), "cats"))),
    ];
    let server = start(vhosts);
    assert_eq!(
        server.addrs,
        vec![addr],
        "all three vhosts share one listener"
    );
    Three { _dir: dir, server }
}

async fn body_for_host(s: &Server, host: &str) -> String {
    let r = exchange(
        s.addr,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "Host {host}");
    r.text()
}

#[tokio::test]
async fn exact_host_selects_vhost() {
    let t = three();
    assert_eq!(
        body_for_host(&t.server, "example.com").await,
        "site example"
    );
    assert_eq!(
        body_for_host(&t.server, "cats.example.com").await,
        "site cats"
    );
    assert_eq!(
        body_for_host(&t.server, "default.test").await,
        "site default"
    );
    assert_eq!(
        body_for_host(&t.server, "EXAMPLE.COM").await,
        "site example"
    );
}

#[tokio::test]
async fn parent_domain_suffix_selects_vhost() {
    let t = three();
    assert_eq!(
        body_for_host(&t.server, "www.example.com").await,
        "site example"
    );
    assert_eq!(
        body_for_host(&t.server, "www.example.com:80").await,
        "site example"
    );
    // A name that merely ends with the same letters is not a subdomain.
    assert_eq!(
        body_for_host(&t.server, "badexample.com").await,
        "site default"
    );
}

#[tokio::test]
async fn unknown_or_missing_host_falls_back_to_first_vhost() {
    let t = three();
    assert_eq!(
        body_for_host(&t.server, "unknown.test").await,
        "site default"
    );
    assert_eq!(body_for_host(&t.server, "127.0.0.1").await, "site default");
    let r = exchange(t.server.addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "site default");
}

#[tokio::test]
async fn host_with_port_selects_vhost() {
    let t = three();
    assert_eq!(
        body_for_host(&t.server, "example.com:8080").await,
        "site example"
    );
    let with_real_port = format!("cats.example.com:{}", t.server.addr.port());
    assert_eq!(body_for_host(&t.server, &with_real_port).await, "site cats");
}

#[tokio::test]
async fn each_vhost_has_its_own_mounts() {
    let t = three();
    let r = exchange(
        t.server.addr,
        b"GET /only-example HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello /only-example on example.com");
    for host in ["default.test", "cats.example.com"] {
        let r = exchange(
            t.server.addr,
            format!("GET /only-example HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(r.status, 404, "Host {host}");
    }
}

#[tokio::test]
async fn host_is_chosen_per_request_on_one_connection() {
    let t = three();
    let mut c = Client::connect(t.server.addr).await;
    for (host, want) in [
        ("cats.example.com", "site cats"),
        ("example.com", "site example"),
        ("other", "site default"),
    ] {
        c.send(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .await;
        let r = c.read_response().await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), want, "Host {host}");
    }
}
