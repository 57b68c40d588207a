//! Response compression on the wire: negotiation by q-values, what is and is not compressed, precompressed
//! siblings, streamed bodies flushed piece by piece, proxied responses, HTTP/2, and a client that stops
//! reading.

mod support;

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use lws::client::{self, HttpVersion};
use lws::proxy::ReverseProxy;
use lws::{Body, Compression, HttpCtx, Mount, Protocol, ProtocolHandle, Response, Vhost};
use support::{any_port, start, Client, Resp, Server, IO_TIMEOUT};
use tokio::sync::mpsc;

/// Text that compresses well, `n` bytes.
fn text(n: usize) -> Vec<u8> {
    let line = b"<p>All work and no play makes Jack a dull boy.</p>\n";
    line.iter().copied().cycle().take(n).collect()
}

/// Bytes that do not compress (xorshift64*).
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = u64::from(seed) | 1 << 40;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn decode(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut plain)
                .expect("valid gzip");
        }
        "br" => {
            brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut plain)
                .expect("valid brotli");
        }
        "zstd" => plain = zstd::decode_all(data).expect("valid zstd"),
        other => panic!("unexpected coding {other}"),
    }
    plain
}

/// `/page` answers 4 KiB of HTML; `/encoded` an already-gzipped body; `/no-transform` says so; `/stream`
/// sends the pieces the test pushes; `/flood` sends incompressible pieces until a send waits a second.
struct App {
    pieces: tokio::sync::Mutex<Option<mpsc::Receiver<String>>>,
    flooded: mpsc::UnboundedSender<usize>,
}

impl Protocol for App {
    type Session = ();

    fn http(&self, _s: &mut (), cx: &mut HttpCtx<'_>) {
        let html = |r: Response| r.header("content-type", "text/html; charset=utf-8");
        match cx.request().mount_path() {
            "/page" => cx.respond(html(Response::new(200).body(text(4096)))),
            "/encoded" => cx.respond(
                html(Response::new(200).body(gzip(&text(4096)))).header("content-encoding", "gzip"),
            ),
            "/no-transform" => cx.respond(
                html(Response::new(200).body(text(4096)))
                    .header("cache-control", "public, no-transform"),
            ),
            "/stream" => {
                let (tx, body) = Body::channel(2);
                cx.respond(html(Response::new(200).with_body(body)));
                let rx = self.pieces.try_lock().ok().and_then(|mut g| g.take());
                tokio::spawn(async move {
                    let Some(mut rx) = rx else { return };
                    while let Some(p) = rx.recv().await {
                        if tx.send(p).await.is_err() {
                            return;
                        }
                    }
                });
            }
            "/events" => {
                let (resp, events) = Response::sse(4);
                cx.respond(resp);
                let gone = self.flooded.clone();
                tokio::spawn(async move {
                    let event = lws::http::sse::Event::data("first").id("1").unwrap();
                    if events.send(&event).await.is_ok() {
                        events.closed().await;
                        let _ = gone.send(usize::MAX);
                    }
                });
            }
            "/flood" => {
                let (tx, body) = Body::channel(2);
                cx.respond(html(Response::new(200).with_body(body)));
                let flooded = self.flooded.clone();
                tokio::spawn(async move {
                    let mut sent = 0;
                    // A send that waits a whole second means the client's pace has reached us.
                    while let Ok(Ok(())) = tokio::time::timeout(
                        Duration::from_secs(1),
                        tx.send(noise(64 * 1024, sent)),
                    )
                    .await
                    {
                        sent += 1;
                    }
                    let _ = flooded.send(sent as usize);
                });
            }
            _ => cx.respond(Response::error(404)),
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, data).unwrap();
    e.finish().unwrap()
}

struct Setup {
    server: Server,
    dir: tempfile::TempDir,
    pieces: mpsc::Sender<String>,
    flooded: mpsc::UnboundedReceiver<usize>,
}

/// Files under `/files` (compression as the vhost says) and `/plain` (off), the [`App`] under `/app`.
fn setup(compression: Compression) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.html"), text(100_000)).unwrap();
    std::fs::write(dir.path().join("tiny.txt"), b"tiny").unwrap();
    std::fs::write(dir.path().join("logo.png"), noise(10_000, 1)).unwrap();
    let (ptx, prx) = mpsc::channel(8);
    let (ftx, frx) = mpsc::unbounded_channel();
    let app = App {
        pieces: tokio::sync::Mutex::new(Some(prx)),
        flooded: ftx,
    };
    let vhost = Vhost::new("localhost")
        .listen(any_port())
        .compression(compression)
        .protocol(ProtocolHandle::new("app", app))
        .mount(Mount::files("/files", dir.path()))
        .mount(Mount::files("/plain", dir.path()).compression(Compression::off()))
        .mount(Mount::callback("/app", "app"));
    Setup {
        server: start(vec![vhost]),
        dir,
        pieces: ptx,
        flooded: frx,
    }
}

async fn get(s: &Server, path: &str, extra: &str) -> Resp {
    let mut c = Client::connect(s.addr).await;
    c.send(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n").as_bytes())
        .await;
    c.read_response().await
}

#[tokio::test]
async fn files_are_compressed_with_the_coding_the_client_prefers() {
    let s = setup(Compression::on());
    let plain = text(100_000);
    for (accept, coding) in [
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, zstd;q=0.8, gzip;q=0.1", "zstd"),
        ("x-gzip", "gzip"),
    ] {
        let r = get(
            &s.server,
            "/files/page.html",
            &format!("Accept-Encoding: {accept}\r\n"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some(coding), "{accept}");
        assert_eq!(r.header("vary"), Some("accept-encoding"));
        assert!(r.chunked, "HTTP/1.1 switches to chunked");
        assert!(r.header("content-length").is_none());
        assert!(r.header("accept-ranges").is_none());
        assert!(r.header("etag").unwrap().starts_with("W/\""));
        assert!(r.body.len() < plain.len() / 20);
        assert_eq!(decode(coding, &r.body), plain, "{accept}");
    }
}

#[tokio::test]
async fn what_is_sent_as_it_is() {
    let s = setup(Compression::on());
    let ae = "Accept-Encoding: gzip, br\r\n";
    // No Accept-Encoding, or nothing acceptable: identity, but caches learn that it varies.
    for extra in ["", "Accept-Encoding: identity, deflate, gzip;q=0\r\n"] {
        let r = get(&s.server, "/files/page.html", extra).await;
        assert!(r.header("content-encoding").is_none(), "{extra}");
        assert_eq!(r.header("vary"), Some("accept-encoding"));
        assert_eq!(r.header("content-length"), Some("100000"));
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
    }
    // Garbage and q-values out of range are ignored member by member.
    for garbage in [
        ";;;==,,q=x",
        "gzip;q=1.5, br;q=-1",
        "gzip;q=0.0001",
        "gzi p, \"br\"",
    ] {
        let r = get(
            &s.server,
            "/files/page.html",
            &format!("Accept-Encoding: {garbage}\r\n"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r.header("content-encoding").is_none(), "{garbage}");
    }
    // A range is served from the file as it is.
    let r = get(
        &s.server,
        "/files/page.html",
        &format!("{ae}Range: bytes=0-9\r\n"),
    )
    .await;
    assert_eq!(r.status, 206);
    assert!(r.header("content-encoding").is_none());
    assert_eq!(r.body, text(10));
    // HEAD, small bodies, media types, a mount with compression off, already encoded, no-transform.
    let mut c = Client::connect(s.server.addr).await;
    c.send(format!("HEAD /files/page.html HTTP/1.1\r\nHost: x\r\n{ae}\r\n").as_bytes())
        .await;
    let r = c.read_head_response().await;
    assert!(r.header("content-encoding").is_none());
    for path in ["/files/tiny.txt", "/files/logo.png", "/plain/page.html"] {
        let r = get(&s.server, path, ae).await;
        assert_eq!(r.status, 200);
        assert!(r.header("content-encoding").is_none(), "{path}");
        assert!(r.header("vary").is_none(), "{path}");
    }
    let r = get(&s.server, "/app/encoded", ae).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), text(4096), "not compressed twice");
    let r = get(&s.server, "/app/no-transform", ae).await;
    assert!(r.header("content-encoding").is_none());
    assert_eq!(r.body, text(4096));
    // The server keeps serving, and a handler's response is compressed like a file.
    let r = get(&s.server, "/app/page", ae).await;
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(decode("br", &r.body), text(4096));
}

#[tokio::test]
async fn a_304_says_what_the_200_would_have() {
    let s = setup(Compression::on());
    let r = get(&s.server, "/files/page.html", "Accept-Encoding: gzip\r\n").await;
    let weak = r.header("etag").unwrap().to_string();
    assert!(weak.starts_with("W/"));
    let r = get(
        &s.server,
        "/files/page.html",
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {weak}\r\n"),
    )
    .await;
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some(weak.as_str()));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    // Without Accept-Encoding the client holds the identity form: the strong validator.
    let r = get(
        &s.server,
        "/files/page.html",
        &format!("If-None-Match: {weak}\r\n"),
    )
    .await;
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), weak.strip_prefix("W/"));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
}

#[tokio::test]
async fn compression_is_off_unless_a_vhost_or_mount_turns_it_on() {
    let s = setup(Compression::off());
    let r = get(&s.server, "/files/page.html", "Accept-Encoding: gzip\r\n").await;
    assert!(r.header("content-encoding").is_none());
    assert!(r.header("vary").is_none());
    assert_eq!(r.body, text(100_000));
}

#[tokio::test]
async fn levels_and_codings_are_settings() {
    let s = setup(
        Compression::on()
            .level(1)
            .codings(&[lws::ContentCoding::Gzip]),
    );
    let r = get(
        &s.server,
        "/files/page.html",
        "Accept-Encoding: br, zstd, gzip;q=0.1\r\n",
    )
    .await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), text(100_000));
}

fn set_mtime(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

#[tokio::test]
async fn precompressed_siblings_are_served_when_fresh() {
    let s = setup(Compression::on());
    let dir = s.dir.path();
    let page = dir.join("page.html");
    set_mtime(&page, 1_700_000_000);
    // Deliberately not the compressor's output, so the test sees which bytes were sent.
    let br = {
        let mut out = Vec::new();
        brotli::BrotliCompress(&mut &text(100_000)[..], &mut out, &Default::default()).unwrap();
        out
    };
    std::fs::write(dir.join("page.html.br"), &br).unwrap();
    set_mtime(&dir.join("page.html.br"), 1_700_000_100);
    let stale_gz = gzip(b"an old version");
    std::fs::write(dir.join("page.html.gz"), &stale_gz).unwrap();
    set_mtime(&dir.join("page.html.gz"), 1_600_000_000);

    let r = get(
        &s.server,
        "/files/page.html",
        "Accept-Encoding: gzip, br\r\n",
    )
    .await;
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("vary"), Some("accept-encoding"));
    assert_eq!(
        r.header("content-length"),
        Some(br.len().to_string().as_str())
    );
    assert_eq!(r.body, br, "the sibling's bytes, as they are");
    let etag = r.header("etag").unwrap().to_string();
    let r = get(
        &s.server,
        "/files/page.html",
        &format!("Accept-Encoding: br\r\nIf-None-Match: {etag}\r\n"),
    )
    .await;
    assert_eq!(r.status, 304);

    // The gzip sibling is older than the page: the page is compressed on the fly instead.
    let r = get(&s.server, "/files/page.html", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), text(100_000));
    assert!(r.chunked);
}

#[tokio::test]
async fn a_streamed_body_is_flushed_piece_by_piece() {
    let s = setup(Compression::on());
    let mut tcp = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut tcp,
        b"GET /app/stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
    )
    .await
    .unwrap();
    s.pieces.send("data: first\n\n".into()).await.unwrap();
    // Only the first piece exists: what arrives must already decode to all of it.
    let mut seen = Vec::new();
    let mut raw = Vec::new();
    while !seen.ends_with(b"data: first\n\n") {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(
            IO_TIMEOUT,
            tokio::io::AsyncReadExt::read(&mut tcp, &mut buf),
        )
        .await
        .expect("the first piece arrives on its own")
        .unwrap();
        assert!(n > 0);
        raw.extend_from_slice(&buf[..n]);
        seen = partial_gunzip(&raw);
    }
    drop(s.pieces);
}

/// Decodes what a chunked gzip response carried so far (the head and chunk framing are skipped).
fn partial_gunzip(raw: &[u8]) -> Vec<u8> {
    let Some(head_end) = support::find(raw, b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut body = Vec::new();
    let mut rest = &raw[head_end + 4..];
    while let Some(i) = support::find(rest, b"\r\n") {
        let Ok(size) = usize::from_str_radix(std::str::from_utf8(&rest[..i]).unwrap_or("x"), 16)
        else {
            break;
        };
        if rest.len() < i + 2 + size {
            break;
        }
        body.extend_from_slice(&rest[i + 2..i + 2 + size]);
        rest = &rest[i + 2 + size + 2.min(rest.len() - i - 2 - size)..];
    }
    let mut out = Vec::new();
    let mut d = flate2::read::GzDecoder::new(&body[..]);
    let mut buf = [0u8; 1024];
    while let Ok(n) = d.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[tokio::test]
async fn an_event_stream_is_compressed_flushed_and_ends_with_its_client() {
    let mut s = setup(Compression::on());
    let mut tcp = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut tcp,
        b"GET /app/events HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    while !partial_gunzip(&raw).ends_with(b"id: 1\ndata: first\n\n") {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(
            IO_TIMEOUT,
            tokio::io::AsyncReadExt::read(&mut tcp, &mut buf),
        )
        .await
        .expect("the event arrives on its own, compressed")
        .unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    assert!(support::contains(&raw, b"content-encoding: gzip"));
    // The client closes its side: the compressed event stream still counts as open-ended, so it ends.
    tokio::io::AsyncWriteExt::shutdown(&mut tcp).await.unwrap();
    let gone = tokio::time::timeout(IO_TIMEOUT, s.flooded.recv()).await;
    assert_eq!(
        gone.expect("the producer learns the client left"),
        Some(usize::MAX)
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_producer() {
    let mut s = setup(Compression::on());
    let mut c = Client::connect(s.server.addr).await;
    c.send(b"GET /app/flood HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        .await;
    // The client reads nothing. The producer must stall once the socket buffers and one piece per stage
    // are full: far less than the 64 MiB it would send if the compressor buffered.
    let sent = tokio::time::timeout(Duration::from_secs(30), s.flooded.recv())
        .await
        .expect("the producer stalls")
        .unwrap();
    assert!(
        sent < 1024,
        "{sent} pieces of 64 KiB were taken while nobody read"
    );
    drop(c);
}

#[tokio::test]
async fn http2_streams_the_compressed_body() {
    let s = setup(Compression::on());
    let url = format!("http://{}/files/page.html", s.server.addr);
    let resp = tokio::time::timeout(
        IO_TIMEOUT,
        client::http(&url)
            .http2_prior_knowledge()
            .header("accept-encoding", "zstd")
            .send(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(resp.version(), HttpVersion::Http2);
    assert_eq!(resp.header("content-encoding"), Some("zstd"));
    assert!(resp.header("content-length").is_none());
    let body = resp.bytes().await.unwrap();
    assert_eq!(decode("zstd", &body), text(100_000));
}

#[tokio::test]
async fn proxied_responses_are_compressed_unless_the_origin_did() {
    let origin = setup(Compression::off());
    let front = Vhost::new("localhost")
        .listen(any_port())
        .compression(Compression::on())
        .mount(Mount::proxy(
            "/",
            ReverseProxy::new(&format!("http://{}/", origin.server.addr)).unwrap(),
        ));
    let front = start(vec![front]);
    let r = get(&front, "/files/page.html", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), text(100_000));
    let r = get(&front, "/app/encoded", "Accept-Encoding: br\r\n").await;
    assert_eq!(
        r.header("content-encoding"),
        Some("gzip"),
        "the origin's coding stays"
    );
    assert_eq!(decode("gzip", &r.body), text(4096));
}
