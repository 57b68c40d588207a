//! HPACK encode and decode of one connection's worth of headers (100 browser requests, 100 static-file
//! responses), beside the `hpack` crate doing the same, plus the compressed sizes.
//!
//! Each iteration is a fresh connection, so the dynamic table fills and its hits matter. The decoders both
//! read the blocks our encoder wrote (Huffman-coded, as browsers send); each encoder writes its own blocks.

// `criterion_group!` generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lws_proto::hpack::{Decoder, Encoder};

type List = Vec<(Vec<u8>, Vec<u8>)>;

const CONNECTION: usize = 100;

fn list(fields: &[(&str, String)]) -> List {
    fields
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.clone().into_bytes()))
        .collect()
}

fn requests() -> Vec<List> {
    (0..CONNECTION)
        .map(|i| {
            list(&[
                (":method", "GET".into()),
                (":scheme", "https".into()),
                (":authority", "www.example.com".into()),
                (":path", format!("/static/img/gallery/photo-{i:03}.jpg?v=3")),
                (
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
                ),
                (
                    "accept",
                    "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5".into(),
                ),
                ("accept-language", "en-US,en;q=0.5".into()),
                ("accept-encoding", "gzip, deflate, br, zstd".into()),
                (
                    "cookie",
                    "session=8f4e2a1c9b7d3e6f5a0b1c2d3e4f5a6b; theme=dark; consent=yes".into(),
                ),
                (
                    "referer",
                    "https://www.example.com/gallery/index.html".into(),
                ),
            ])
        })
        .collect()
}

fn responses() -> Vec<List> {
    (0..CONNECTION)
        .map(|i| {
            list(&[
                (":status", "200".into()),
                ("server", "lws-rs".into()),
                ("date", format!("Sat, 01 Jun 2024 10:00:{:02} GMT", i / 10)),
                ("content-type", "image/jpeg".into()),
                ("content-length", format!("{}", 48_000 + i * 37)),
                ("etag", format!("\"665aeb{i:02x}-bb80\"")),
                ("last-modified", "Fri, 31 May 2024 18:22:07 GMT".into()),
                (
                    "cache-control",
                    "public, max-age=31536000, immutable".into(),
                ),
            ])
        })
        .collect()
}

fn ours_encode(lists: &[List]) -> Vec<Vec<u8>> {
    let mut e = Encoder::new();
    lists
        .iter()
        .map(|l| {
            let mut out = Vec::new();
            e.encode(l.iter().map(|(n, v)| (&n[..], &v[..])), &mut out);
            out
        })
        .collect()
}

fn theirs_encode(lists: &[List]) -> Vec<Vec<u8>> {
    let mut e = hpack::Encoder::new();
    lists
        .iter()
        .map(|l| e.encode(l.iter().map(|(n, v)| (&n[..], &v[..]))))
        .collect()
}

/// HTTP/1.1-like size of a list: `name: value\r\n` per field, plus the blank line.
fn plain_size(lists: &[List]) -> usize {
    lists
        .iter()
        .map(|l| l.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + 2)
        .sum()
}

fn report_sizes(what: &str, lists: &[List]) {
    let plain = plain_size(lists);
    let ours: usize = ours_encode(lists).iter().map(Vec::len).sum();
    let theirs: usize = theirs_encode(lists).iter().map(Vec::len).sum();
    let saving = |n: usize| 100.0 * (1.0 - n as f64 / plain as f64);
    println!(
        "{what}: plain {plain} B; lws hpack {ours} B (saves {:.1}%); hpack crate {theirs} B (saves {:.1}%)",
        saving(ours),
        saving(theirs)
    );
}

/// The same response 100 times (a polled resource): only the date changes, every ten responses.
fn same_responses() -> Vec<List> {
    responses()
        .into_iter()
        .map(|mut l| {
            l[4].1 = b"48000".to_vec();
            l[5].1 = b"\"665aeb00-bb80\"".to_vec();
            l
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    report_sizes("same response", &same_responses());
    for (what, lists) in [("requests", requests()), ("responses", responses())] {
        report_sizes(what, &lists);
        let blocks = ours_encode(&lists);
        let mut g = c.benchmark_group(format!("hpack_{what}"));
        g.throughput(Throughput::Elements(CONNECTION as u64));

        g.bench_function("encode/lws", |b| {
            let mut out = Vec::with_capacity(64 * 1024);
            b.iter(|| {
                let mut e = Encoder::new();
                out.clear();
                for l in &lists {
                    e.encode(l.iter().map(|(n, v)| (&n[..], &v[..])), &mut out);
                }
                black_box(out.len())
            })
        });
        g.bench_function("encode/hpack-crate", |b| {
            let mut out = Vec::with_capacity(64 * 1024);
            b.iter(|| {
                let mut e = hpack::Encoder::new();
                out.clear();
                for l in &lists {
                    e.encode_into(l.iter().map(|(n, v)| (&n[..], &v[..])), &mut out)
                        .unwrap();
                }
                black_box(out.len())
            })
        });
        g.bench_function("decode/lws", |b| {
            b.iter(|| {
                let mut d = Decoder::new(4096);
                let mut total = 0;
                for block in &blocks {
                    d.decode(block, 64 * 1024, &mut |n, v, _| total += n.len() + v.len())
                        .unwrap();
                }
                black_box(total)
            })
        });
        g.bench_function("decode/hpack-crate", |b| {
            b.iter(|| {
                let mut d = hpack::Decoder::new();
                let mut total = 0;
                for block in &blocks {
                    d.decode_with_cb(block, |n, v| total += n.len() + v.len())
                        .unwrap();
                }
                black_box(total)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
