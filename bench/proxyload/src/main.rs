//! proxyload: the backend and the load client of the raw TCP proxy benchmarks (bench.py `proxy_*`).
//!
//! usage:
//!   proxyload serve    --listen 127.0.0.1:7799
//!   proxyload bulk     --connect 127.0.0.1:P [--bytes N] [--chunk B]
//!   proxyload pingpong --connect 127.0.0.1:P [--conns 64] [--size 64] [--duration S] [--warmup-rounds R]
//!                      [--src-ips K]
//!   proxyload idle     --connect 127.0.0.1:P [--conns 8000] [--parallel 64] [--size 32] [--src-ips K]
//!
//! Wire protocol, client -> backend through the proxy under test (which passes the bytes on unchanged):
//!   'S' + u64 LE N : the backend answers 'R', reads and drops N bytes, answers 'K'; then reads the next command
//!   'E'            : the backend echoes every byte until EOF
//!
//! serve: the backend. One single-threaded tokio runtime, any number of connections, 256 KiB reads when
//!   sinking, 16 KiB when echoing. Prints "LISTENING" once bound.
//! bulk: one connection, 'S' + N, waits for 'R' (so the proxy's onward connection is open), then sends N bytes
//!   in CHUNK-byte writes (blocking socket) and waits for 'K': N bytes went through the proxy.
//! pingpong: CONNS connections in echo mode; each sends SIZE bytes, waits for the whole echo (checked byte for
//!   byte), repeats. WARMUP-ROUNDS round trips per connection before READY, then DURATION seconds measured.
//! idle: opens CONNS connections, PARALLEL at a time, each with one SIZE-byte echo (so the proxy has opened and
//!   used its onward connection; a proxy that picks the target from the first bytes, like sslh, has connected
//!   too), then holds them. At "go" it checks that none was closed meanwhile.
//!
//! Handshake with the harness, so that it can sample the proxy's CPU time exactly around the measured work
//! and read its memory with every pair open:
//!   the client sets up, prints "READY <open> <errors>" and waits for a line on stdin; then it does the
//!   measured part, prints "END {json}" and keeps every connection open until stdin is closed (a forking
//!   proxy's children, and the CPU time they used, stay visible in /proc until the harness has read them).
//! --src-ips K spreads the client's source addresses over 127.0.0.1..127.0.0.K (ephemeral ports).
use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SINK_BUF: usize = 256 * 1024;
const ECHO_BUF: usize = 16 * 1024;

#[derive(Clone)]
struct Opts {
    mode: String,
    listen: String,
    connect: String,
    bytes: u64,
    chunk: usize,
    conns: usize,
    size: usize,
    duration: f64,
    warmup_rounds: usize,
    parallel: usize,
    src_ips: u32,
}

fn usage() -> ! {
    eprintln!(
        "usage: proxyload serve --listen ADDR | bulk --connect ADDR [--bytes N] [--chunk B] | \
         pingpong --connect ADDR [--conns N] [--size B] [--duration S] [--warmup-rounds R] [--src-ips K] | \
         idle --connect ADDR [--conns N] [--parallel P] [--size B] [--src-ips K]"
    );
    std::process::exit(2)
}

fn parse() -> Opts {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Opts {
        mode: a.first().cloned().unwrap_or_else(|| usage()),
        listen: "127.0.0.1:7799".into(),
        connect: String::new(),
        bytes: 1 << 30,
        chunk: 256 * 1024,
        conns: 0,
        size: 0,
        duration: 10.0,
        warmup_rounds: 100,
        parallel: 64,
        src_ips: 1,
    };
    let mut i = 1;
    while i < a.len() {
        let v = a.get(i + 1).cloned().unwrap_or_else(|| usage());
        let num = |s: &str| -> u64 { s.parse().unwrap_or_else(|_| usage()) };
        match a[i].as_str() {
            "--listen" => o.listen = v,
            "--connect" => o.connect = v,
            "--bytes" => o.bytes = num(&v),
            "--chunk" => o.chunk = num(&v) as usize,
            "--conns" => o.conns = num(&v) as usize,
            "--size" => o.size = num(&v) as usize,
            "--duration" => o.duration = v.parse().unwrap_or_else(|_| usage()),
            "--warmup-rounds" => o.warmup_rounds = num(&v) as usize,
            "--parallel" => o.parallel = num(&v).max(1) as usize,
            "--src-ips" => o.src_ips = num(&v).clamp(1, 254) as u32,
            _ => usage(),
        }
        i += 2;
    }
    if o.mode != "serve" && o.connect.is_empty() {
        usage()
    }
    o
}

fn addr(s: &str) -> SocketAddr {
    s.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| {
            eprintln!("bad address {s}");
            std::process::exit(2)
        })
}

/// Blocks until the harness writes a line (or closes stdin).
fn wait_line() {
    let mut l = String::new();
    let _ = std::io::stdin().lock().read_line(&mut l);
}

/// Blocks until the harness closes stdin.
fn wait_eof() {
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0 // ns -> us
}

// ---------------------------------------------------------------------------------------------------------
// backend
// ---------------------------------------------------------------------------------------------------------
async fn serve(o: Opts) {
    let sock = TcpSocket::new_v4().expect("socket");
    sock.set_reuseaddr(true).ok();
    sock.bind(addr(&o.listen)).unwrap_or_else(|e| {
        eprintln!("bind {}: {e}", o.listen);
        std::process::exit(1)
    });
    let l = sock.listen(4096).expect("listen");
    say("LISTENING");
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(backend_conn(s));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn backend_conn(mut s: TcpStream) {
    s.set_nodelay(true).ok();
    let mut cmd = [0u8; 1];
    loop {
        if s.read_exact(&mut cmd).await.is_err() {
            return;
        }
        match cmd[0] {
            b'S' => {
                let mut n = [0u8; 8];
                if s.read_exact(&mut n).await.is_err() || s.write_all(b"R").await.is_err() {
                    return;
                }
                let mut left = u64::from_le_bytes(n);
                let mut buf = vec![0u8; SINK_BUF];
                while left > 0 {
                    let want = left.min(SINK_BUF as u64) as usize;
                    match s.read(&mut buf[..want]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => left -= k as u64,
                    }
                }
                if s.write_all(b"K").await.is_err() {
                    return;
                }
            }
            b'E' => {
                let mut buf = vec![0u8; ECHO_BUF];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => {
                            if s.write_all(&buf[..k]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            _ => return,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// clients
// ---------------------------------------------------------------------------------------------------------
fn bulk(o: Opts) {
    let fail = |what: &str, e: std::io::Error| -> ! {
        eprintln!("bulk: {what}: {e}");
        std::process::exit(1)
    };
    let mut s = std::net::TcpStream::connect(addr(&o.connect)).unwrap_or_else(|e| fail("connect", e));
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let mut hdr = vec![b'S'];
    hdr.extend_from_slice(&o.bytes.to_le_bytes());
    s.write_all(&hdr).unwrap_or_else(|e| fail("write header", e));
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap_or_else(|e| fail("wait for R", e));
    if b[0] != b'R' {
        eprintln!("bulk: expected R, got {:?}", b[0]);
        std::process::exit(1)
    }
    say("READY 1 0");
    wait_line();
    let buf = vec![0x5au8; o.chunk.max(1)];
    let t0 = Instant::now();
    let mut left = o.bytes;
    let mut writes = 0u64;
    while left > 0 {
        let k = left.min(buf.len() as u64) as usize;
        s.write_all(&buf[..k]).unwrap_or_else(|e| fail("write", e));
        left -= k as u64;
        writes += 1;
    }
    s.read_exact(&mut b).unwrap_or_else(|e| fail("wait for K", e));
    let el = t0.elapsed().as_secs_f64();
    let errors = u32::from(b[0] != b'K');
    say(&format!(
        "END {{\"mode\":\"bulk\",\"bytes\":{},\"chunk\":{},\"writes\":{},\"elapsed_s\":{:.6},\"mib_per_s\":{:.2},\
         \"gbit_per_s\":{:.3},\"errors\":{}}}",
        o.bytes, o.chunk, writes, el, o.bytes as f64 / el / 1048576.0, o.bytes as f64 * 8.0 / el / 1e9, errors
    ));
    wait_eof();
}

async fn open(o: &Opts, target: SocketAddr, n: usize) -> std::io::Result<TcpStream> {
    let sock = TcpSocket::new_v4()?;
    if o.src_ips > 1 {
        let k = (n % o.src_ips as usize) as u8;
        sock.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + k)), 0))?;
    }
    let s = sock.connect(target).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// One round trip of `msg` through the proxy to the echo backend, reply checked.
async fn roundtrip(s: &mut TcpStream, msg: &[u8], buf: &mut [u8]) -> Result<(), String> {
    s.write_all(msg).await.map_err(|e| format!("write: {e}"))?;
    s.read_exact(buf).await.map_err(|e| format!("read: {e}"))?;
    if buf != msg {
        return Err("echo differs from what was sent".into());
    }
    Ok(())
}

fn message(size: usize, n: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + ((i + n) % 26) as u8).collect()
}

async fn pingpong(o: Opts) {
    let target = addr(&o.connect);
    let conns = if o.conns == 0 { 64 } else { o.conns };
    let size = if o.size == 0 { 64 } else { o.size };
    let mut errors = 0u64;
    let mut handles = Vec::new();
    for n in 0..conns {
        let o2 = o.clone();
        handles.push(tokio::spawn(async move {
            let mut s = open(&o2, target, n).await.map_err(|e| format!("connect: {e}"))?;
            s.write_all(b"E").await.map_err(|e| format!("write: {e}"))?;
            let msg = message(size, n);
            let mut buf = vec![0u8; size];
            for _ in 0..o2.warmup_rounds.max(1) {
                roundtrip(&mut s, &msg, &mut buf).await?;
            }
            Ok::<_, String>(s)
        }));
    }
    let mut socks = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Ok(s) => socks.push(s),
            Err(e) => {
                errors += 1;
                eprintln!("pingpong setup: {e}")
            }
        }
    }
    if socks.is_empty() {
        eprintln!("pingpong: no connection");
        std::process::exit(1)
    }
    say(&format!("READY {} {errors}", socks.len()));
    wait_line();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.duration);
    let mut handles = Vec::new();
    for (n, mut s) in socks.into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let msg = message(size, n);
            let mut buf = vec![0u8; size];
            let mut lats: Vec<u64> = Vec::with_capacity(1 << 16);
            let mut err = None;
            loop {
                let t0 = Instant::now();
                if t0 >= deadline {
                    break;
                }
                if let Err(e) = roundtrip(&mut s, &msg, &mut buf).await {
                    err = Some(e);
                    break;
                }
                lats.push(t0.elapsed().as_nanos() as u64);
            }
            (s, lats, err)
        }));
    }
    let mut all: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut keep = Vec::new();
    for h in handles {
        let (s, lats, err) = h.await.unwrap();
        all.extend_from_slice(&lats);
        if let Some(e) = err {
            errors += 1;
            eprintln!("pingpong: {e}")
        }
        keep.push(s);
    }
    let el = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let n = all.len();
    say(&format!(
        "END {{\"mode\":\"pingpong\",\"conns\":{},\"size\":{},\"elapsed_s\":{:.6},\"round_trips\":{},\
         \"rt_per_s\":{:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"max_us\":{:.1},\"errors\":{}}}",
        keep.len(), size, el, n, n as f64 / el, pct(&all, 0.5), pct(&all, 0.99), pct(&all, 1.0), errors
    ));
    wait_eof();
    drop(keep);
}

async fn idle(o: Opts) {
    let target = addr(&o.connect);
    let conns = if o.conns == 0 { 8000 } else { o.conns };
    let size = if o.size == 0 { 32 } else { o.size };
    let sem = Arc::new(tokio::sync::Semaphore::new(o.parallel));
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(conns);
    for n in 0..conns {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let o2 = o.clone();
        handles.push(tokio::spawn(async move {
            let r = tokio::time::timeout(Duration::from_secs(30), async {
                let mut s = open(&o2, target, n).await.map_err(|e| format!("connect: {e}"))?;
                let mut msg = vec![b'E'];
                msg.extend_from_slice(&message(size, n));
                s.write_all(&msg).await.map_err(|e| format!("write: {e}"))?;
                let mut buf = vec![0u8; size];
                s.read_exact(&mut buf).await.map_err(|e| format!("read: {e}"))?;
                if buf[..] != msg[1..] {
                    return Err("echo differs".to_string());
                }
                Ok(s)
            })
            .await
            .unwrap_or_else(|_| Err("timeout (30 s) opening the pair".into()));
            drop(permit);
            r
        }));
    }
    let mut socks = Vec::with_capacity(conns);
    let mut errors = 0u64;
    for h in handles {
        match h.await.unwrap() {
            Ok(s) => socks.push(s),
            Err(e) => {
                errors += 1;
                if errors <= 5 {
                    eprintln!("idle: {e}")
                }
            }
        }
    }
    let open_s = t0.elapsed().as_secs_f64();
    say(&format!("READY {} {errors}", socks.len()));
    wait_line();
    let (mut closed, mut data) = (0u64, 0u64);
    let mut b = [0u8; 64];
    for s in &socks {
        match s.try_read(&mut b) {
            Ok(0) => closed += 1,
            Ok(_) => data += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => closed += 1,
        }
    }
    say(&format!(
        "END {{\"mode\":\"idle\",\"conns\":{conns},\"open\":{},\"open_s\":{open_s:.2},\"closed_during_hold\":{closed},\
         \"unexpected_data\":{data},\"errors\":{}}}",
        socks.len(), errors + data
    ));
    wait_eof();
    drop(socks);
}

fn main() {
    let o = parse();
    if o.mode == "bulk" {
        return bulk(o);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        match o.mode.as_str() {
            "serve" => serve(o).await,
            "pingpong" => pingpong(o).await,
            "idle" => idle(o).await,
            _ => usage(),
        }
    });
}
