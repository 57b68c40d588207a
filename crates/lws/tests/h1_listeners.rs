//! Listening on IPv4, IPv6 and unix domain sockets, and one vhost on several addresses.

mod support;

use lws::{Context, Listen, Mount, Vhost};
use support::{start_with, Client};
use tokio::net::UnixStream;

fn site() -> (tempfile::TempDir, Mount) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "listener-marker").unwrap();
    let mount = Mount::files("/", dir.path());
    (dir, mount)
}

#[tokio::test]
async fn unix_socket_listener_serves_and_removes_its_socket_file() {
    let (_dir, mount) = site();
    let sockdir = tempfile::tempdir().unwrap();
    let path = sockdir.path().join("lws.sock");
    // A stale socket file from an earlier run must not stop the bind.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let ctx = Context::builder()
        .vhost(Vhost::new("uds").listen_unix(&path).mount(mount))
        .build()
        .expect("binds over a stale socket file");
    assert_eq!(
        ctx.listeners(),
        vec![("uds".to_string(), Listen::Unix(path.clone()))]
    );
    let (handle, join) = ctx.spawn();
    let mut c = Client::new(UnixStream::connect(&path).await.unwrap());
    let resp = c.get("/").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"listener-marker");
    handle.shutdown();
    join.await.unwrap().unwrap();
    assert!(!path.exists(), "the socket file is removed on shutdown");
}

#[tokio::test]
async fn one_vhost_on_ipv4_and_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback on this machine; IPv4 part only");
    }
    let (_dir, mount) = site();
    let mut vhost = Vhost::new("dual").listen("127.0.0.1:0".parse().unwrap());
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    if v6 {
        vhost = vhost.listen("[::1]:0".parse().unwrap());
    }
    let server = start_with(Context::builder().vhost(vhost.mount(mount)));
    assert_eq!(server.addrs.len(), if v6 { 2 } else { 1 });
    for addr in &server.addrs {
        let mut c = Client::connect(*addr).await;
        let resp = c.get("/").await;
        assert_eq!(resp.status, 200, "{addr}");
        assert_eq!(resp.body, b"listener-marker", "{addr}");
    }
}

#[tokio::test]
async fn a_busy_port_is_a_build_error_naming_the_vhost() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (_dir, mount) = site();
    let err = Context::builder()
        .vhost(Vhost::new("clash").listen(addr).mount(mount))
        .build()
        .unwrap_err();
    assert_eq!(err.vhost, "clash");
    assert!(err.message.contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn configuration_mistakes_are_build_errors() {
    let missing = Context::builder()
        .vhost(
            Vhost::new("m")
                .listen("127.0.0.1:0".parse().unwrap())
                .mount(Mount::files("/", "/no/such/dir")),
        )
        .build()
        .unwrap_err();
    assert!(missing.message.contains("/no/such/dir"), "{missing}");
    let no_protocol = Context::builder()
        .vhost(
            Vhost::new("p")
                .listen("127.0.0.1:0".parse().unwrap())
                .mount(Mount::callback("/x", "nobody")),
        )
        .build()
        .unwrap_err();
    assert!(no_protocol.message.contains("nobody"), "{no_protocol}");
    let no_listen = Context::builder()
        .vhost(Vhost::new("n"))
        .build()
        .unwrap_err();
    assert_eq!(no_listen.vhost, "n");
    let bad_header = Context::builder()
        .vhost(
            Vhost::new("h")
                .listen("127.0.0.1:0".parse().unwrap())
                .header("x-a", "a\r\nb: c"),
        )
        .build()
        .unwrap_err();
    assert!(bad_header.message.contains("x-a"), "{bad_header}");
}

#[tokio::test]
async fn several_service_threads_share_one_port_and_shut_down_together() {
    let (_dir, mount) = site();
    let ctx = Context::builder()
        .threads(3)
        .vhost(
            Vhost::new("smp")
                .listen("127.0.0.1:0".parse().unwrap())
                .mount(mount),
        )
        .build()
        .unwrap();
    let addrs = ctx.local_addrs();
    assert_eq!(addrs.len(), 3, "one socket per service thread");
    assert!(
        addrs.iter().all(|a| *a == addrs[0]),
        "all on the same port: {addrs:?}"
    );
    let (handle, join) = ctx.spawn();
    let mut clients = Vec::new();
    for _ in 0..12 {
        clients.push(Client::connect(addrs[0]).await);
    }
    for c in clients.iter_mut() {
        let resp = c.get("/").await;
        assert_eq!(resp.body, b"listener-marker");
    }
    drop(clients);
    handle.shutdown();
    tokio::time::timeout(std::time::Duration::from_secs(5), join)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
