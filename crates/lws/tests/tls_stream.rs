//! The server's TLS stream through the whole server: a megabyte each way, a key update from the client in
//! the middle of a request body, close_notify both ways, a garbage record, and a TLS 1.2-only client.

mod support;

use lws::{Mount, ProtocolHandle, Vhost};
use support::tls::{cert_path, client_config_for, connect, connect_with};
use support::{any_port, start, Server, Upload, IO_TIMEOUT};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1 << 20;

fn pattern(n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

/// `/up` counts a request body, `/files/` serves a directory holding `big.bin` (1 MiB).
fn server() -> (Server, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), pattern(MIB)).unwrap();
    let v = Vhost::new("localhost")
        .listen(any_port())
        .tls(
            cert_path("localhost.cert.pem"),
            cert_path("localhost.key.pem"),
        )
        .protocol(ProtocolHandle::new(
            "up",
            Upload {
                limit: Some(4 * MIB as u64),
            },
        ))
        .mount(Mount::callback("/up", "up"))
        .mount(Mount::files("/files", dir.path()));
    (start(vec![v]), dir)
}

fn post_head(len: usize) -> String {
    format!("POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len}\r\n\r\n")
}

#[tokio::test]
async fn a_megabyte_up_and_a_megabyte_down() {
    let (s, _dir) = server();
    let mut c = connect(s.addr, "localhost").await;
    c.send(post_head(MIB).as_bytes()).await;
    c.send(&pattern(MIB)).await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert!(r.text().ends_with(&format!("bytes={MIB}")), "{}", r.text());
    let r = c.get("/files/big.bin").await;
    assert_eq!(r.status, 200);
    assert!(r.body == pattern(MIB), "the file arrived changed");
}

#[tokio::test]
async fn a_client_key_update_in_the_middle_of_a_body() {
    let (s, _dir) = server();
    let mut c = connect(s.addr, "localhost").await;
    let body = pattern(200_000);
    c.send(post_head(body.len()).as_bytes()).await;
    c.send(&body[..100_000]).await;
    c.get_mut().get_mut().1.refresh_traffic_keys().unwrap();
    c.send(&body[100_000..]).await;
    let r = c.read_response().await;
    assert!(r.text().ends_with("bytes=200000"), "{}", r.text());
    // The server's keys changed too (it was asked to): the next exchange works under them.
    let r = c.get("/files/big.bin").await;
    assert!(r.body == pattern(MIB));
}

#[tokio::test]
async fn close_notify_from_the_client_gets_one_back() {
    let (s, _dir) = server();
    let mut c = connect(s.addr, "localhost").await;
    assert_eq!(c.get("/files/big.bin").await.status, 200);
    let tls = c.get_mut();
    tls.shutdown().await.unwrap();
    let mut rest = Vec::new();
    // A close without the server's close_notify would be an `UnexpectedEof` error here.
    tokio::time::timeout(IO_TIMEOUT, tls.read_to_end(&mut rest))
        .await
        .expect("the server did not close")
        .expect("the server closed without close_notify");
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_garbage_record_ends_the_connection_not_the_server() {
    let (s, _dir) = server();
    let mut c = connect(s.addr, "localhost").await;
    assert_eq!(c.get("/files/big.bin").await.status, 200);
    let mut garbage = vec![0x17, 0x03, 0x03, 0x01, 0x00];
    garbage.extend(pattern(0x100));
    let tcp = &mut c.get_mut().get_mut().0;
    tcp.write_all(&garbage).await.unwrap();
    let mut rest = Vec::new();
    let end = tokio::time::timeout(IO_TIMEOUT, c.get_mut().read_to_end(&mut rest))
        .await
        .expect("the connection hung");
    assert!(
        end.is_err(),
        "the server's alert should fail the client's read"
    );
    let mut c = connect(s.addr, "localhost").await;
    assert_eq!(c.get("/files/big.bin").await.status, 200);
}

#[tokio::test]
async fn a_tls12_only_client_is_served() {
    let (s, _dir) = server();
    let config = client_config_for(&[&rustls::version::TLS12]);
    let mut c = connect_with(s.addr, "localhost", config).await;
    assert_eq!(
        c.get_ref().get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    c.send(post_head(MIB).as_bytes()).await;
    c.send(&pattern(MIB)).await;
    assert!(c
        .read_response()
        .await
        .text()
        .ends_with(&format!("bytes={MIB}")));
    let r = c.get("/files/big.bin").await;
    assert!(r.body == pattern(MIB));
}
