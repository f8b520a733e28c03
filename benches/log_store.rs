//! Traffic log store and hex formatting: push cost per entry, memory per entry, and hex
//! formatting of a 64 KiB read (the log's hot paths when traffic floods in).
//!
//! Run: `cargo bench --bench log_store`

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockdbg::codec::hex::to_hex_spaced;
use sockdbg::model::{EntryKind, TrafficLog};

fn push_entries(c: &mut Criterion) {
    let payload = [0x5au8; 64];
    let mut group = c.benchmark_group("log_store");
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("push 100k x 64 B", |b| {
        b.iter(|| {
            let mut log = TrafficLog::new(usize::MAX);
            let now = SystemTime::now();
            for i in 0..100_000u32 {
                log.push(EntryKind::Rx, i % 4, now, &payload);
            }
            black_box(log.len())
        });
    });
    group.finish();

    // Memory per entry, reported once (criterion measures time only).
    let mut log = TrafficLog::new(usize::MAX);
    let entries = 1_000_000usize;
    for i in 0..entries {
        log.push(EntryKind::Rx, (i % 4) as u32, SystemTime::now(), &payload);
    }
    let overhead = (log.memory_bytes() - entries * payload.len()) as f64 / entries as f64;
    println!(
        "log_store memory: {entries} entries of {} B hold {} bytes: {overhead:.1} bytes of overhead per entry",
        payload.len(),
        log.memory_bytes()
    );
}

fn hex_format(c: &mut Criterion) {
    let data: Vec<u8> = (0..64 * 1024).map(|i| (i * 7) as u8).collect();
    let mut group = c.benchmark_group("hex");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("format 64 KiB spaced", |b| {
        b.iter(|| black_box(to_hex_spaced(black_box(&data))));
    });
    group.finish();
}

criterion_group!(benches, push_entries, hex_format);
criterion_main!(benches);
