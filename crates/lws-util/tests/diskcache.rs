//! Disk cache behaviour: size limit after trimming, LRU order, racing creators, abandoned temporary files, and two
//! caches (standing in for two processes) on one directory.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime};

use lws_util::diskcache::{DiskCache, Lookup, SUBDIRS};

fn create(cache: &DiskCache, key: &[u8], body: &[u8]) {
    match cache.query(key).unwrap() {
        Lookup::Creating(mut pending) => {
            pending.file().write_all(body).unwrap();
            pending.finalize().unwrap();
        }
        other => panic!("expected Creating, got {other:?}"),
    }
}

fn set_age(path: &Path, age: Duration) {
    let file = File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

fn full_pass(cache: &DiskCache) -> lws_util::diskcache::TrimReport {
    let mut last = None;
    for _ in 0..SUBDIRS {
        last = Some(cache.trim().unwrap());
    }
    let last = last.unwrap();
    assert!(last.pass_complete);
    last
}

/// Every regular file under the cache directory: (objects, temporaries, total object bytes).
fn census(dir: &Path) -> (usize, usize, u64) {
    let (mut objects, mut temps, mut bytes) = (0, 0, 0);
    for a in fs::read_dir(dir).unwrap() {
        for b in fs::read_dir(a.unwrap().path()).unwrap() {
            for f in fs::read_dir(b.unwrap().path()).unwrap() {
                let f = f.unwrap();
                if f.file_name().to_str().unwrap().contains('~') {
                    temps += 1;
                } else {
                    objects += 1;
                    bytes += f.metadata().unwrap().len();
                }
            }
        }
    }
    (objects, temps, bytes)
}

fn exists(cache: &DiskCache, key: &[u8]) -> bool {
    matches!(cache.query_existing(key).unwrap(), Lookup::Exists(_))
}

#[test]
fn limit_respected_after_enough_trims() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::builder(dir.path())
        .size_limit(100_000)
        .batch_len(128)
        .open()
        .unwrap();
    for i in 0..300u32 {
        create(&cache, &i.to_be_bytes(), &[7u8; 1000]);
    }
    assert_eq!(census(dir.path()).2, 300_000);

    let first = full_pass(&cache);
    // One pass can evict at most one batch.
    assert_eq!(first.evicted_objects, 128);
    assert_eq!(first.estimated_size, Some(172_000));
    let second = full_pass(&cache);
    assert_eq!(second.evicted_objects, 72);
    assert_eq!(second.estimated_size, Some(100_000));
    let (objects, temps, bytes) = census(dir.path());
    assert_eq!((objects, temps), (100, 0));
    assert!(bytes <= 100_000);
    // Under the limit, nothing more goes.
    assert_eq!(full_pass(&cache).evicted_objects, 0);
}

#[test]
fn touch_order_decides_who_is_evicted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 500).unwrap();
    let keys: Vec<Vec<u8>> = (0..10u8).map(|i| vec![b'k', i]).collect();
    for key in &keys {
        create(&cache, key, &[0u8; 100]);
    }
    // Use them in a scrambled order; the first five used are the least recently used.
    let order = [7usize, 2, 9, 0, 4, 1, 8, 3, 6, 5];
    for &i in &order {
        thread::sleep(Duration::from_millis(5));
        assert!(matches!(cache.query(&keys[i]).unwrap(), Lookup::Exists(_)));
    }
    let report = full_pass(&cache);
    assert_eq!(report.evicted_objects, 5);
    for (rank, &i) in order.iter().enumerate() {
        assert_eq!(
            exists(&cache, &keys[i]),
            rank >= 5,
            "key {i} used at rank {rank}"
        );
    }
}

#[test]
fn object_used_during_a_pass_is_spared() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::open(dir.path(), 100).unwrap();
    create(&cache, b"old", &[0u8; 100]);
    create(&cache, b"new", &[0u8; 100]);
    set_age(&cache.object_path(b"old"), Duration::from_secs(100));
    for _ in 0..SUBDIRS - 1 {
        cache.trim().unwrap();
    }
    // "old" is the eviction candidate, but is used before the pass ends.
    assert!(matches!(cache.query(b"old").unwrap(), Lookup::Exists(_)));
    let report = cache.trim().unwrap();
    assert!(report.pass_complete);
    assert!(exists(&cache, b"old"));
    assert_eq!(report.evicted_objects, 1);
    assert!(!exists(&cache, b"new"));
}

#[test]
fn concurrent_creators_end_with_one_complete_object() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DiskCache::open(dir.path(), 1 << 30).unwrap());
    let body: Arc<Vec<u8>> = Arc::new((0..256 * 1024u32).map(|i| (i % 251) as u8).collect());
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (cache, body, barrier) = (cache.clone(), body.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                match cache.query(b"shared").unwrap() {
                    Lookup::Creating(mut pending) => {
                        for piece in body.chunks(4096) {
                            pending.file().write_all(piece).unwrap();
                        }
                        let mut file = pending.finalize().unwrap();
                        let mut back = Vec::new();
                        file.read_to_end(&mut back).unwrap();
                        assert!(back == *body);
                        true
                    }
                    Lookup::Exists(mut file) => {
                        // Rename is atomic: an existing object is always complete.
                        let mut back = Vec::new();
                        file.read_to_end(&mut back).unwrap();
                        assert!(back == *body);
                        false
                    }
                    other => panic!("{other:?}"),
                }
            })
        })
        .collect();
    let creators = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|&c| c)
        .count();
    assert!(creators >= 1);
    let (objects, temps, bytes) = census(dir.path());
    assert_eq!((objects, temps), (1, 0));
    assert_eq!(bytes, body.len() as u64);
    let Lookup::Exists(mut file) = cache.query(b"shared").unwrap() else {
        panic!()
    };
    let mut back = Vec::new();
    file.read_to_end(&mut back).unwrap();
    assert!(back == *body);
}

#[test]
fn crash_left_temp_files_removed_after_their_age() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::builder(dir.path())
        .temp_max_age(Duration::from_secs(60))
        .open()
        .unwrap();
    // A writer that crashed long ago, and one that is still writing.
    let Lookup::Creating(mut crashed) = cache.query(b"crashed").unwrap() else {
        panic!()
    };
    crashed.file().write_all(b"half an obj").unwrap();
    let crashed_path = crashed.temp_path().to_owned();
    std::mem::forget(crashed);
    set_age(&crashed_path, Duration::from_secs(3600));
    let Lookup::Creating(mut live) = cache.query(b"live").unwrap() else {
        panic!()
    };
    live.file().write_all(b"in progress").unwrap();

    let report = full_pass(&cache);
    assert!(!crashed_path.exists());
    assert!(live.temp_path().exists());
    // The live temp counts towards the size.
    assert_eq!(report.estimated_size, Some(11));
    assert_eq!(census(dir.path()).1, 1);
    live.finalize().unwrap();
    assert!(exists(&cache, b"live"));
    assert!(!exists(&cache, b"crashed"));
    assert_eq!(census(dir.path()), (1, 0, 11));
}

#[test]
fn objects_from_another_process_are_respected() {
    let dir = tempfile::tempdir().unwrap();
    let a = DiskCache::open(dir.path(), 300).unwrap();
    let b = DiskCache::open(dir.path(), 300).unwrap();
    create(&a, b"from-a-1", &[1u8; 100]);
    create(&a, b"from-a-2", &[1u8; 100]);
    // b sees a's objects as existing, and using one makes it recent for both.
    let Lookup::Exists(mut file) = b.query(b"from-a-1").unwrap() else {
        panic!()
    };
    let mut back = Vec::new();
    file.read_to_end(&mut back).unwrap();
    assert_eq!(back, [1u8; 100]);
    thread::sleep(Duration::from_millis(5));
    create(&b, b"from-b", &[2u8; 100]);
    // a's object in progress is not b's to remove.
    let Lookup::Creating(mut pending) = a.query(b"from-a-3").unwrap() else {
        panic!()
    };
    pending.file().write_all(&[3u8; 100]).unwrap();
    set_age(&a.object_path(b"from-a-2"), Duration::from_secs(10));

    // b counts everything: 400 bytes over a 300 limit, so the oldest (a's second object) goes.
    let report = full_pass(&b);
    assert_eq!(report.evicted_objects, 1);
    assert!(!exists(&a, b"from-a-2"));
    assert!(exists(&a, b"from-a-1"));
    assert!(exists(&a, b"from-b"));
    pending.finalize().unwrap();
    assert!(exists(&b, b"from-a-3"));
    // a's own trim agrees the cache is within bounds now.
    assert_eq!(full_pass(&a).evicted_objects, 0);
}
