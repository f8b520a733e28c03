//! A log larger than memory (issue 19, item 4): 4 GiB of 64 KiB reads pushed into a
//! session's log through the model's path (`Sessions::apply` of `Event::Traffic`, as the
//! engine hands reads to the window), once with the log in memory only (512 MiB, the oldest
//! evicted) and once spilling to disk, each in a process of its own so that its peak RSS is
//! its own. Reports the ingest rate of each and their ratio, the peak and final RSS, and the
//! time to search all that each holds (a `LogView` search, streaming through every segment
//! when spilled, as the window runs it: a bounded scan per frame, `maintain` between frames),
//! with one frame's scan. Five rounds, the two modes alternating; min / median / max.
//!
//! The reads' bytes (`SPILL_BENCH_PAYLOAD`): `letters` (default: each read one letter
//! repeated), `text` (lines of a device's readings, as a serial or TCP device logs them) or
//! `noise` (bytes that do not compress): the log compresses the segments it spills when their
//! bytes compress, so the disk's share of the work depends on them.
//!
//! Run: `cargo bench --bench spill_ingest` (`SPILL_BENCH_GIB` sets the size, default 4; the
//! segments go to `SPILL_BENCH_DIR`, default the system's temp directory). Under
//! `cargo test --all-targets` (no `--bench`) it only checks that both modes run, on 64 MiB.

#[path = "support/payload.rs"]
mod payload;

use std::process::Command;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use sockdbg::codec::text::TextEncoding;
use sockdbg::model::Sessions;
use sockdbg::model::log::{SpillConfig, SpillDir};
use sockdbg::model::view::{LogView, Pattern};
use sockdbg::protocol::{Direction, Event, PeerId};

/// The window runs with mimalloc (see src/main.rs); measure with it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const READ_BYTES: usize = 64 * 1024;
const ROUNDS: usize = 5;
const MIB: u64 = 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let mode = args.get(at + 1).map_or("memory", String::as_str);
        let bytes: u64 = args
            .get(at + 2)
            .and_then(|b| b.parse().ok())
            .unwrap_or(64 * MIB);
        let base = std::env::var_os("SPILL_BENCH_DIR")
            .map_or_else(std::env::temp_dir, std::path::PathBuf::from)
            .join("sockdbg-spill-bench");
        child(mode == "spill", bytes, &base);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // The smoke run (`cargo test`) spills into a directory of its own, removed after.
        let base = tempfile::Builder::new()
            .prefix("sockdbg-spill-bench-")
            .tempdir()
            .expect("temp dir");
        child(false, 64 * MIB, base.path());
        child(true, 64 * MIB, base.path());
        return;
    }
    let gib: u64 = std::env::var("SPILL_BENCH_GIB")
        .ok()
        .and_then(|g| g.parse().ok())
        .unwrap_or(4);
    let bytes = gib << 30;
    let exe = std::env::current_exe().expect("this binary");
    let mut rows: Vec<(Run, Run)> = Vec::new();
    for round in 0..ROUNDS {
        let run = |mode: &str| {
            let out = Command::new(&exe)
                .args(["--child", mode, &bytes.to_string()])
                .output()
                .expect("child");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(out.status.success(), "{mode}: {text}");
            print!("round {round} {mode}: {text}");
            Run::parse(&text)
        };
        // Alternate which goes first, so neither always gets the warmer page cache.
        let (memory, spill) = if round % 2 == 0 {
            let m = run("memory");
            (m, run("spill"))
        } else {
            let s = run("spill");
            (run("memory"), s)
        };
        rows.push((memory, spill));
    }
    let stat = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2], v[v.len() - 1])
    };
    let show = |name: &str, (min, med, max): (f64, f64, f64), unit: &str| {
        println!("{name}: min {min:.2} / median {med:.2} / max {max:.2} {unit}");
    };
    let payload = std::env::var("SPILL_BENCH_PAYLOAD").unwrap_or_else(|_| "letters".into());
    println!("--- {gib} GiB of {READ_BYTES}-byte reads of {payload}, {ROUNDS} rounds");
    show(
        "in memory (512 MiB, evicting)",
        stat(rows.iter().map(|r| r.0.gb_per_s).collect()),
        "GB/s",
    );
    show(
        "spilling to disk",
        stat(rows.iter().map(|r| r.1.gb_per_s).collect()),
        "GB/s",
    );
    show(
        "spilling / in memory (same round)",
        stat(rows.iter().map(|r| r.1.gb_per_s / r.0.gb_per_s).collect()),
        "x",
    );
    show(
        "peak RSS in memory",
        stat(rows.iter().map(|r| r.0.peak_mib).collect()),
        "MiB",
    );
    show(
        "peak RSS spilling (ingest and search)",
        stat(rows.iter().map(|r| r.1.peak_mib).collect()),
        "MiB",
    );
    show(
        "search through the whole spilled log",
        stat(rows.iter().map(|r| r.1.search_s).collect()),
        "s",
    );
    show(
        "search through what memory holds (512 MiB)",
        stat(rows.iter().map(|r| r.0.search_s).collect()),
        "s",
    );
    show(
        "one frame's scan, spilled: median",
        stat(rows.iter().map(|r| r.1.search_frame_median_ms).collect()),
        "ms",
    );
    show(
        "one frame's scan, in memory: median",
        stat(rows.iter().map(|r| r.0.search_frame_median_ms).collect()),
        "ms",
    );
    show(
        "one frame's scan, spilled: longest",
        stat(rows.iter().map(|r| r.1.search_frame_ms).collect()),
        "ms",
    );
    show(
        "one frame's scan, in memory: longest",
        stat(rows.iter().map(|r| r.0.search_frame_ms).collect()),
        "ms",
    );
}

/// One child's figures.
#[derive(Default)]
struct Run {
    gb_per_s: f64,
    peak_mib: f64,
    search_s: f64,
    search_frame_median_ms: f64,
    search_frame_ms: f64,
}

impl Run {
    fn parse(text: &str) -> Self {
        let field = |name: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
                .unwrap_or(0.0)
        };
        Self {
            gb_per_s: field("gb_per_s"),
            peak_mib: field("peak_rss_mib"),
            search_s: field("search_s"),
            search_frame_median_ms: field("search_frame_median_ms"),
            search_frame_ms: field("search_frame_ms"),
        }
    }
}

/// Pushes `bytes` of reads into one session's log, in memory or spilling into `base`;
/// prints its figures.
fn child(spill: bool, bytes: u64, base: &std::path::Path) {
    let dir = spill.then(|| Arc::new(SpillDir::open(base).expect("spill directory")));
    // The window's bound; the smoke run's 64 MiB spills past 8 MiB.
    let memory_bytes = if bytes >= 1 << 30 {
        sockdbg::model::log::DEFAULT_MAX_BYTES
    } else {
        8 << 20
    };
    let mut sessions = Sessions::new(memory_bytes);
    sessions.set_spill(dir.as_ref().map(|dir| SpillConfig {
        dir: Arc::clone(dir),
        quota_bytes: bytes + bytes / 4,
    }));
    let id = sessions.create("tcp-server:0".parse().expect("spec"));
    // Distinct reads, made before the clock starts (the engine hands over `Bytes` it read).
    let payload = std::env::var("SPILL_BENCH_PAYLOAD").unwrap_or_default();
    let reads: Vec<Bytes> = (0..64u8)
        .map(|n| {
            let mut read = match payload.as_str() {
                "text" => payload::text(u64::from(n), READ_BYTES),
                "noise" => payload::noise(u64::from(n), READ_BYTES),
                _ => vec![b'a' + n % 26; READ_BYTES],
            };
            // The needle ends the read: a search examines every byte.
            read[READ_BYTES - 7..READ_BYTES - 1].copy_from_slice(b"NEEDLE");
            read[READ_BYTES - 1] = n;
            Bytes::from(read)
        })
        .collect();
    let count = bytes / READ_BYTES as u64;
    let started = Instant::now();
    for i in 0..count {
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Rx,
            data: reads[(i % 64) as usize].clone(),
            injected: false,
            at: SystemTime::now(),
        });
        // The window's frame upkeep, at most once per 16 MiB pushed here.
        if i % 256 == 0 {
            sessions.maintain();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let gb_per_s = bytes as f64 / elapsed / 1e9;
    let log = &sessions.get(id).expect("session").log;
    let held_mib = log.len() as u64 * READ_BYTES as u64 / MIB;
    let mut line = format!(
        "gb_per_s={gb_per_s:.3} held_mib={held_mib} evicted={} rss_after_ingest_mib={:.0}",
        log.evicted_entries(),
        rss_mib("VmRSS")
    );
    let session = sessions.get_mut(id).expect("session");
    if spill {
        session.log.flush_spill();
        let status = session.log.spill_status().expect("spilling");
        line += &format!(
            " segments={} disk_mib={}",
            status.segments,
            status.disk_bytes / MIB
        );
    }
    // A search through all that is held (in memory only: the last 512 MiB), as the window
    // runs it: one bounded scan a frame, the log's upkeep between frames.
    let mut view = LogView::default();
    view.search = Pattern {
        text: "NEEDLE".into(),
        hex: false,
    };
    let started = Instant::now();
    let mut frames_ms = Vec::new();
    loop {
        let frame = Instant::now();
        let busy = view.update(&session.log, TextEncoding::Utf8, 0);
        session.maintain();
        frames_ms.push(frame.elapsed().as_secs_f64() * 1e3);
        if !busy {
            break;
        }
    }
    let hits = view.hit_count(&session.log);
    assert_eq!(hits, session.log.len(), "every read matches");
    frames_ms.sort_by(f64::total_cmp);
    line += &format!(
        " search_s={:.2} search_frame_median_ms={:.1} search_frame_ms={:.1} hits={hits} rss_after_search_mib={:.0}",
        started.elapsed().as_secs_f64(),
        frames_ms[frames_ms.len() / 2],
        frames_ms[frames_ms.len() - 1],
        rss_mib("VmRSS")
    );
    println!("{line} peak_rss_mib={:.0}", rss_mib("VmHWM"));
    drop(sessions);
    drop(dir);
}

/// A figure of /proc/self/status in MiB (0 where there is none).
fn rss_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
