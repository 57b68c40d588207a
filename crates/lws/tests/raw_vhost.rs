//! Raw vhosts (libwebsockets `raw-skt` with `apply-listen-accept`): every connection goes to a raw
//! protocol with no HTTP; sending with backpressure, broadcast through handles, timers, pausing reads,
//! half-close both ways, and graceful shutdown.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lws::raw::{RawClose, RawCtx, RawHandle, RawProtocol};
use lws::{ProtocolHandle, Vhost};
use support::{any_port, start, IO_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes what it receives; on the peer's half-close it says goodbye and closes.
struct Echo;

impl RawProtocol for Echo {
    type Session = ();
    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, data: &[u8]) {
        cx.send(data);
    }
    fn peer_shutdown(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.send(b"bye\n");
        cx.close();
    }
}

fn raw_vhost(name: &str, handle: ProtocolHandle) -> Vhost {
    Vhost::new(name)
        .listen(any_port())
        .protocol(handle)
        .listen_accept(name)
}

async fn read_all(c: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    tokio::time::timeout(IO_TIMEOUT, c.read_to_end(&mut got))
        .await
        .expect("the server did not close")
        .expect("read");
    got
}

#[tokio::test]
async fn echo_then_half_close_gets_the_rest_and_eof() {
    let s = start(vec![raw_vhost("echo", ProtocolHandle::raw("echo", Echo))]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    // Not HTTP, and never asked to be: a raw vhost does not sniff.
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 18];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"GET / HTTP/1.1\r\n\r\n");
    c.write_all(b"last words").await.unwrap();
    c.shutdown().await.unwrap();
    assert_eq!(read_all(&mut c).await, b"last wordsbye\n");
}

/// Sends each line it receives to every connection (minimal-raw-vhost), through their handles.
#[derive(Default)]
struct Broadcast {
    members: Mutex<Vec<RawHandle>>,
}

impl RawProtocol for Broadcast {
    type Session = ();
    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        self.members.lock().unwrap().push(cx.handle());
        cx.send(b"welcome\n");
    }
    fn rx(&self, _: &mut (), _: &mut RawCtx<'_>, data: &[u8]) {
        let members = self.members.lock().unwrap().clone();
        let data = bytes::Bytes::copy_from_slice(data);
        tokio::spawn(async move {
            for m in members {
                let _ = m.send(data.clone()).await;
            }
        });
    }
    fn closed(&self, _: &mut (), _: &RawClose) {
        self.members.lock().unwrap().retain(RawHandle::is_open);
    }
}

#[tokio::test]
async fn text_from_one_client_reaches_all() {
    let s = start(vec![raw_vhost(
        "bcast",
        ProtocolHandle::raw("bcast", Broadcast::default()),
    )]);
    let mut a = TcpStream::connect(s.addr).await.unwrap();
    let mut b = TcpStream::connect(s.addr).await.unwrap();
    for c in [&mut a, &mut b] {
        let mut w = [0u8; 8];
        tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut w))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&w, b"welcome\n");
    }
    a.write_all(b"hi all\n").await.unwrap();
    for c in [&mut a, &mut b] {
        let mut line = [0u8; 7];
        tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&line, b"hi all\n");
    }
}

/// Streams `total` bytes of a counting pattern, only while the send queue is not choked, and records the
/// most it ever had queued.
struct Producer {
    total: usize,
    max_queued: Arc<AtomicUsize>,
}

#[derive(Default)]
struct Produced(usize);

impl RawProtocol for Producer {
    type Session = Produced;
    fn established(&self, _: &mut Produced, cx: &mut RawCtx<'_>) {
        cx.request_writable();
    }
    fn writable(&self, s: &mut Produced, cx: &mut RawCtx<'_>) {
        while s.0 < self.total && !cx.choked() {
            let chunk: Vec<u8> = (s.0..(s.0 + 16384).min(self.total))
                .map(|i| (i % 251) as u8)
                .collect();
            s.0 += chunk.len();
            cx.send(&chunk);
            self.max_queued.fetch_max(cx.queued(), Ordering::Relaxed);
        }
        if s.0 < self.total {
            cx.request_writable();
        } else {
            cx.close();
        }
    }
}

#[tokio::test]
async fn a_slow_reader_gets_everything_and_the_queue_stays_bounded() {
    let max_queued = Arc::new(AtomicUsize::new(0));
    let total = 16 << 20;
    let producer = Producer {
        total,
        max_queued: max_queued.clone(),
    };
    let s = start(vec![raw_vhost(
        "prod",
        ProtocolHandle::raw("prod", producer),
    )]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let got = read_all(&mut c).await;
    assert_eq!(got.len(), total);
    assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    let max = max_queued.load(Ordering::Relaxed);
    assert!(max < 256 * 1024 + 16384, "queued up to {max} bytes");
}

/// Pauses reading on the first bytes, and answers with how much it had read once its timer resumes it.
#[derive(Default)]
struct Pauser;

#[derive(Default)]
struct Paused {
    seen: usize,
    resumed: bool,
}

impl RawProtocol for Pauser {
    type Session = Paused;
    fn rx(&self, s: &mut Paused, cx: &mut RawCtx<'_>, data: &[u8]) {
        s.seen += data.len();
        if !s.resumed {
            cx.rx_flow(false);
            cx.set_timer(Duration::from_millis(50));
            cx.send(format!("paused after {}\n", s.seen).as_bytes());
        } else if s.seen >= 10 {
            cx.send(format!("total {}\n", s.seen).as_bytes());
            cx.close();
        }
    }
    fn timer(&self, s: &mut Paused, cx: &mut RawCtx<'_>) {
        s.resumed = true;
        cx.rx_flow(true);
    }
}

#[tokio::test]
async fn paused_reads_resume_and_lose_nothing() {
    let s = start(vec![raw_vhost(
        "pause",
        ProtocolHandle::raw("pause", Pauser),
    )]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"12345").await.unwrap();
    let mut line = [0u8; 15];
    tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&line, b"paused after 5\n");
    // Sent while the server is not reading: it waits in the kernel until the timer resumes reading.
    c.write_all(b"67890").await.unwrap();
    assert_eq!(read_all(&mut c).await, b"total 10\n");
}

#[tokio::test]
async fn shutdown_closes_raw_connections_and_the_drain_finishes() {
    let mut s = start(vec![raw_vhost("echo", ProtocolHandle::raw("echo", Echo))]);
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"x").await.unwrap();
    let mut one = [0u8; 1];
    c.read_exact(&mut one).await.unwrap();
    s.shutdown_and_wait().await;
    assert_eq!(read_all(&mut c).await, b"");
}

#[test]
fn a_raw_vhost_needs_a_raw_protocol_of_that_name() {
    struct Http;
    impl lws::Protocol for Http {
        type Session = ();
    }
    let err = lws::Context::builder()
        .vhost(raw_vhost("h", ProtocolHandle::new("h", Http)))
        .build()
        .unwrap_err();
    assert!(err.message.contains("does not serve raw"), "{err}");
    let err = lws::Context::builder()
        .vhost(Vhost::new("v").listen(any_port()).listen_accept("missing"))
        .build()
        .unwrap_err();
    assert!(err.message.contains("no protocol \"missing\""), "{err}");
}

/// Hands each connection's handle to the test, and reports its list size after pruning in `closed`.
struct Registry {
    handles: tokio::sync::mpsc::UnboundedSender<RawHandle>,
    members: Mutex<Vec<RawHandle>>,
    after_close: tokio::sync::mpsc::UnboundedSender<usize>,
}

impl RawProtocol for Registry {
    type Session = ();
    fn established(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        let h = cx.handle();
        self.members.lock().unwrap().push(h.clone());
        let _ = self.handles.send(h);
    }
    fn closed(&self, _: &mut (), _: &RawClose) {
        let mut m = self.members.lock().unwrap();
        m.retain(RawHandle::is_open);
        let _ = self.after_close.send(m.len());
    }
}

fn registry() -> (
    ProtocolHandle,
    tokio::sync::mpsc::UnboundedReceiver<RawHandle>,
    tokio::sync::mpsc::UnboundedReceiver<usize>,
) {
    let (handles, hrx) = tokio::sync::mpsc::unbounded_channel();
    let (after_close, crx) = tokio::sync::mpsc::unbounded_channel();
    let p = Registry {
        handles,
        members: Mutex::default(),
        after_close,
    };
    (ProtocolHandle::raw("reg", p), hrx, crx)
}

#[tokio::test]
async fn a_handle_is_closed_when_closed_runs() {
    let (p, mut handles, mut after_close) = registry();
    let s = start(vec![raw_vhost("reg", p)]);
    let a = TcpStream::connect(s.addr).await.unwrap();
    let _b = TcpStream::connect(s.addr).await.unwrap();
    for _ in 0..2 {
        handles.recv().await.unwrap();
    }
    drop(a);
    let left = tokio::time::timeout(IO_TIMEOUT, after_close.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left, 1,
        "the closing connection's handle still said it was open"
    );
}

#[tokio::test]
async fn handle_sends_wait_for_a_peer_that_does_not_read() {
    let (p, mut handles, _after_close) = registry();
    let s = start(vec![raw_vhost("reg", p)]);
    let _quiet = TcpStream::connect(s.addr).await.unwrap();
    let h = handles.recv().await.unwrap();
    let chunk = bytes::Bytes::from(vec![1u8; 64 * 1024]);
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let producer = async move {
        loop {
            h.send(chunk.clone()).await.unwrap();
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
        }
    };
    // Bounded: the send queue's high-water mark, 64 queued commands, and what the kernel buffers hold.
    assert!(
        tokio::time::timeout(Duration::from_secs(2), producer)
            .await
            .is_err(),
        "the producer ended"
    );
    let total = sent.load(Ordering::Relaxed);
    assert!(
        total < 32 << 20,
        "{total} bytes were taken for a peer that reads nothing"
    );
}

/// Every rx asks all connections of the protocol for `writable`, which sends a tick.
struct Ticker;

impl RawProtocol for Ticker {
    type Session = ();
    fn rx(&self, _: &mut (), cx: &mut RawCtx<'_>, _: &[u8]) {
        cx.request_writable_all();
    }
    fn writable(&self, _: &mut (), cx: &mut RawCtx<'_>) {
        cx.send(b"tick\n");
    }
}

#[tokio::test]
async fn request_writable_all_reaches_every_connection_of_the_protocol() {
    let s = start(vec![raw_vhost("tick", ProtocolHandle::raw("tick", Ticker))]);
    let mut a = TcpStream::connect(s.addr).await.unwrap();
    let mut b = TcpStream::connect(s.addr).await.unwrap();
    // b is registered once it is served; a byte from it proves that.
    b.write_all(b".").await.unwrap();
    let mut tick = [0u8; 5];
    tokio::time::timeout(IO_TIMEOUT, b.read_exact(&mut tick))
        .await
        .unwrap()
        .unwrap();
    a.write_all(b"go").await.unwrap();
    for c in [&mut a, &mut b] {
        tokio::time::timeout(IO_TIMEOUT, c.read_exact(&mut tick))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&tick, b"tick\n");
    }
}
