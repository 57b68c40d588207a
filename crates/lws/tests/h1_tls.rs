//! HTTP/1.1 over TLS: a GET with ALPN `http/1.1`, SNI choosing both the certificate and the vhost on a
//! shared port, `redirect_http` for plain requests on a TLS port, and plain HTTP refused without it.

mod support;

use lws::{Mount, Vhost};
use rustls::pki_types::CertificateDer;
use support::tls::{cert_der, cert_path};
use support::{any_port, free_port, start, Client, Server};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

fn tls_vhost(name: &str, listen: std::net::SocketAddr, dir: &TempDir) -> Vhost {
    let origin = dir.path().join(name);
    std::fs::create_dir_all(&origin).unwrap();
    std::fs::write(origin.join("index.html"), format!("content of {name}")).unwrap();
    Vhost::new(name)
        .listen(listen)
        .tls(
            cert_path(&format!("{name}.cert.pem")),
            cert_path(&format!("{name}.key.pem")),
        )
        .mount(Mount::files("/", origin))
}

async fn tls_connect(s: &Server, sni: &str) -> Client<TlsStream<TcpStream>> {
    support::tls::connect(s.addr, sni).await
}

fn presented_cert(c: &Client<TlsStream<TcpStream>>) -> CertificateDer<'static> {
    c.get_ref()
        .get_ref()
        .1
        .peer_certificates()
        .expect("peer certificates")[0]
        .clone()
        .into_owned()
}

#[tokio::test]
async fn get_over_tls_negotiates_http11() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(vec![tls_vhost("localhost", any_port(), &dir)]);
    let mut c = tls_connect(&s, "localhost").await;
    assert_eq!(
        c.get_ref().get_ref().1.alpn_protocol(),
        Some(&b"http/1.1"[..])
    );
    assert_eq!(presented_cert(&c), cert_der("localhost"));
    let r = c.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "content of localhost");
    // Keep-alive works inside TLS too.
    let r = c.get("/index.html").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn sni_selects_certificate_and_vhost() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port();
    let s = start(vec![
        tls_vhost("a.example", addr, &dir),
        tls_vhost("b.example", addr, &dir),
    ]);
    assert_eq!(s.addrs, vec![addr]);
    for name in ["a.example", "b.example"] {
        let mut c = tls_connect(&s, name).await;
        assert_eq!(presented_cert(&c), cert_der(name), "certificate for {name}");
        let r = c.get("/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), format!("content of {name}"));
    }
}

#[tokio::test]
async fn sni_decides_the_vhost_even_when_host_differs() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port();
    let s = start(vec![
        tls_vhost("a.example", addr, &dir),
        tls_vhost("b.example", addr, &dir),
    ]);
    let mut c = tls_connect(&s, "b.example").await;
    c.send(b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n").await;
    let r = c.read_response().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "content of b.example");
}

#[tokio::test]
async fn plain_http_on_tls_port_is_redirected_with_redirect_http() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(vec![
        tls_vhost("localhost", any_port(), &dir).redirect_http(true)
    ]);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n").await;
    let r = c.read_response().await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("https://h/x?y"));
    // TLS on the same port still serves content.
    let mut t = tls_connect(&s, "localhost").await;
    assert_eq!(t.get("/").await.text(), "content of localhost");
}

#[tokio::test]
async fn plain_http_on_tls_port_gets_no_http_response() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(vec![tls_vhost("localhost", any_port(), &dir)]);
    let mut c = Client::connect(s.addr).await;
    c.send(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    let rest = c.read_to_close().await;
    assert!(
        !rest.starts_with(b"HTTP/"),
        "plain HTTP answered on a TLS port: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(!support::contains(&rest, b"content of localhost"));
    // The port still serves TLS.
    let mut t = tls_connect(&s, "localhost").await;
    assert_eq!(t.get("/").await.status, 200);
}
