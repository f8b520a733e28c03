//! A session log that spills to disk past its memory bound (issue 19, item 4): every entry
//! read back from the segment files is the one pushed (bytes, time, peer, flags, decoding
//! context), compared with a log that holds everything in memory; a search finds its matches
//! in every segment while the mapped segments stay few; the disk quota drops the oldest
//! segments and counts them; the files go when the log, the session or the process's spill
//! directory goes; and a full disk (a real 16 MiB tmpfs, mounted in a user and mount
//! namespace of the test's own: the outer test re-runs this binary under `unshare`) costs
//! the oldest entries, counted and told once in the log as a typed warning, never the session:
//! the log keeps what fits on the disk.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sockdbg::codec::text::TextEncoding;
use sockdbg::model::log::{EntryKind, NO_PEER, SpillConfig, SpillDir, TrafficLog};
use sockdbg::model::view::{LogView, Pattern};
use sockdbg::model::{LogNote, Sessions};
use sockdbg::protocol::{CloseReason, Direction, Event, OsError, PeerId, Warning};

const MIB: usize = 1024 * 1024;

/// Set (to the tmpfs's path) in the environment of the copy of this binary that runs inside
/// the namespace.
const TMPFS_ENV: &str = "SOCKDBG_TEST_SPILL_TMPFS";

/// Size of the small file system of the disk-full test.
const TMPFS_MIB: usize = 16;

/// How long the inner test may take, namespace setup included.
const INNER_DEADLINE: Duration = Duration::from_secs(120);

fn spill_dir(base: &Path) -> Arc<SpillDir> {
    Arc::new(SpillDir::open(base).expect("spill directory"))
}

fn spilling(dir: &Arc<SpillDir>, max_bytes: usize, quota_bytes: u64) -> TrafficLog {
    TrafficLog::with_spill(
        max_bytes,
        Some(SpillConfig {
            dir: Arc::clone(dir),
            quota_bytes,
        }),
    )
}

/// Entry `i` of the test traffic: peer, kind and bytes. Lengths from 0 to ~9 KB, a stream of
/// one-byte reads of a UTF-8 text (characters split across reads, and so across segments),
/// notes, and a peer that comes and goes.
fn entry(i: u64) -> (u32, EntryKind, Vec<u8>) {
    let peer = (i % 5) as u32;
    match i % 5 {
        0 => (
            peer,
            EntryKind::Rx,
            "中文".as_bytes()[(i / 5 % 6) as usize..][..1].to_vec(),
        ),
        1 => {
            let len = (i * 7919 % 9000) as usize;
            let bytes = (0..len).map(|j| (i as usize + j * 31) as u8).collect();
            (peer, EntryKind::Tx, bytes)
        }
        2 => (peer, EntryKind::Rx, format!("line {i}\r\n").into_bytes()),
        3 if i % 1000 == 3 => (peer, EntryKind::Rx, format!("NEEDLE {i}").into_bytes()),
        _ => {
            let len = (i * 104_729 % 20_000) as usize;
            (peer, EntryKind::Rx, vec![(i % 251) as u8; len])
        }
    }
}

/// Entry `i`'s bytes made incompressible (each XORed with a splitmix64 stream of `i`), so the
/// disk takes their full size: a log's segments are compressed when their bytes compress.
fn incompressible(i: u64) -> Vec<u8> {
    let (_, _, mut bytes) = entry(i);
    for (j, byte) in bytes.iter_mut().enumerate() {
        let mut z = (i << 32 | j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        *byte ^= (z ^ (z >> 31)) as u8;
    }
    bytes
}

fn at(i: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_000 + i * 13)
}

/// Pushes entries `from..to` into `log`, with a note every 997 and a stream end every 4999.
fn push_range(log: &mut TrafficLog, from: u64, to: u64) {
    push_range_of(log, from, to, |i| entry(i).2);
}

/// [`push_range`] with entry `i`'s bytes made by `bytes_of(i)`.
fn push_range_of(log: &mut TrafficLog, from: u64, to: u64, bytes_of: fn(u64) -> Vec<u8>) {
    for i in from..to {
        let (peer, kind, _) = entry(i);
        let bytes = bytes_of(i);
        let seq = log.push(kind, peer, at(i), &bytes);
        if i % 7 == 1 {
            log.mark_relayed(seq, i % 14 == 1);
        }
        if i % 997 == 0 {
            log.push_note(NO_PEER, at(i), &LogNote::Stopped);
        }
        if i % 4999 == 4 {
            let gone = LogNote::PeerDisconnected(CloseReason::ClosedByPeer);
            log.push_stream_end(peer, at(i), &gone);
        }
    }
}

/// Fails unless `log` holds entries `seqs` exactly as `reference` does (which holds every
/// entry: the decoding context of the first few entries after what `log` dropped is not
/// compared, as their predecessors are gone).
fn assert_same(log: &TrafficLog, reference: &TrafficLog, seqs: std::ops::Range<u64>) {
    let linked_from = if log.first_seq() == 0 {
        0
    } else {
        log.first_seq() + 100
    };
    for seq in seqs {
        let (Some(a), Some(b)) = (log.get(seq), reference.get(seq)) else {
            panic!(
                "seq {seq}: held {} / {}",
                log.get(seq).is_some(),
                reference.get(seq).is_some()
            );
        };
        assert_eq!(a.bytes, b.bytes, "seq {seq}: bytes");
        if seq < linked_from {
            continue;
        }
        assert_eq!(a.context, b.context, "seq {seq}: context");
        assert_eq!(
            (a.kind, a.peer, a.at_micros, a.has_successor),
            (b.kind, b.peer, b.at_micros, b.has_successor),
            "seq {seq}"
        );
        assert_eq!(
            (a.injected, a.forwarded),
            (b.injected, b.forwarded),
            "seq {seq}"
        );
        assert_eq!(
            log.ends_streams(seq),
            reference.ends_streams(seq),
            "seq {seq}"
        );
        if seq % 5 == 0 {
            assert_eq!(log.stream_before(seq, 64), reference.stream_before(seq, 64));
            assert_eq!(log.stream_after(seq, 8), reference.stream_after(seq, 8));
        }
    }
}

fn segment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "seg"))
            .count()
    })
}

/// A log of 8 MiB in memory spilling with `quota`, and one holding everything, both given
/// the same `total` entries (their bytes from `bytes_of`), the first flushed to disk.
fn spilled_and_reference(
    dir: &Arc<SpillDir>,
    quota: u64,
    total: u64,
    bytes_of: fn(u64) -> Vec<u8>,
) -> (TrafficLog, TrafficLog) {
    let mut log = spilling(dir, 8 * MIB, quota);
    let mut reference = TrafficLog::new(usize::MAX);
    push_range_of(&mut log, 0, total, bytes_of);
    push_range_of(&mut reference, 0, total, bytes_of);
    log.flush_spill();
    (log, reference)
}

#[test]
fn entries_spilled_to_disk_read_back_exactly() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let total = 40_000;
    let (mut log, mut reference) = spilled_and_reference(&dir, u64::MAX, total, |i| entry(i).2);
    let status = log.spill_status().expect("spilling");
    assert!(status.segments >= 8, "{status:?}");
    assert_eq!(
        segment_files(&status.dir),
        status.segments,
        "one file a segment"
    );
    assert!(log.memory_bytes() <= 8 * MIB, "{}", log.memory_bytes());
    assert_eq!(log.evicted_entries(), 0, "nothing lost");
    assert_eq!((log.first_seq(), log.len()), (0, reference.len()));
    assert!(log.take_spill_problem().is_none());
    assert_same(&log, &reference, 0..reference.len() as u64);
    // Unmapped, then read from the files again.
    log.maintain();
    assert!(log.spill_status().expect("spilling").mapped_segments <= 8);
    assert_same(&log, &reference, 0..reference.len() as u64);
    // Still growing after that, linking new reads to spilled ones.
    push_range(&mut log, total, total + 5_000);
    push_range(&mut reference, total, total + 5_000);
    log.flush_spill();
    assert_same(&log, &reference, 0..reference.len() as u64);
}

/// Large reads handed over as the only owner of their buffer (as the engine hands a flood's
/// reads) are copied into whole segments when the log spills, not kept as one small segment
/// each, and read back exactly from disk.
#[test]
fn large_shared_reads_spill_in_whole_segments_and_read_back_exactly() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let mut log = spilling(&dir, 8 * MIB, u64::MAX);
    let mut reference = TrafficLog::new(usize::MAX);
    let reads = 400u32;
    for i in 0..reads {
        let data: Vec<u8> = (0..200 * 1024u32)
            .map(|b| (b % 251) as u8 ^ i as u8)
            .collect();
        let at = SystemTime::now();
        reference.push(EntryKind::Rx, 0, at, &data);
        log.push_shared(EntryKind::Rx, 0, at, Bytes::from(data));
    }
    log.flush_spill();
    let status = log.spill_status().expect("spilling");
    assert!(
        status.segments <= (reads as usize * 200 * 1024).div_ceil(4 * MIB) + 1,
        "{} segments for {reads} reads of 200 KiB",
        status.segments
    );
    assert_eq!(log.evicted_entries(), 0, "nothing lost");
    assert_same(&log, &reference, 0..u64::from(reads));
}

#[test]
fn a_search_streams_through_every_segment() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let mut log = spilling(&dir, 8 * MIB, u64::MAX);
    let total = 60_000;
    push_range(&mut log, 0, total);
    log.flush_spill();
    let status = log.spill_status().expect("spilling");
    assert!(status.segments >= 10, "{status:?}");
    let mut view = LogView::default();
    view.search = Pattern {
        text: "NEEDLE".into(),
        hex: false,
    };
    let mut most_mapped = 0;
    for _ in 0..10_000 {
        let busy = view.update(&log, TextEncoding::Utf8, 0);
        // What the window does between frames.
        log.maintain();
        most_mapped = most_mapped.max(log.spill_status().expect("spilling").mapped_segments);
        if !busy {
            break;
        }
    }
    let expected = (0..total).filter(|i| i % 1000 == 3).count();
    assert_eq!(view.hit_count(&log), expected);
    let first_hit = view.next_hit(&log, None, true).expect("a hit");
    assert_eq!(log.get(first_hit).expect("held").bytes, b"NEEDLE 3");
    assert!(
        most_mapped <= 8,
        "{most_mapped} segments mapped between frames"
    );
}

#[test]
fn the_quota_drops_the_oldest_segments_and_counts_them() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let quota = 24 * MIB as u64;
    let (mut log, reference) = spilled_and_reference(&dir, quota, 40_000, incompressible);
    let status = log.spill_status().expect("spilling");
    assert!(status.disk_bytes <= quota, "{status:?}");
    assert!(!status.disk_full, "a quota is not a full disk: {status:?}");
    assert!(status.segments >= 4, "{status:?}");
    assert_eq!(segment_files(&status.dir), status.segments);
    assert!(log.evicted_entries() > 0, "the quota was reached");
    assert_eq!(log.first_seq(), log.evicted_entries());
    assert_eq!(
        log.evicted_entries() + log.len() as u64,
        reference.len() as u64
    );
    let dropped: u64 = (0..log.first_seq())
        .map(|seq| reference.get(seq).map_or(0, |e| e.bytes.len() as u64))
        .sum();
    assert_eq!(log.evicted_bytes(), dropped);
    assert!(log.get(log.first_seq() - 1).is_none());
    assert_same(&log, &reference, log.first_seq()..reference.len() as u64);
    assert!(
        log.take_spill_problem().is_none(),
        "the quota is not a problem"
    );
    // A smaller quota takes effect at once.
    log.set_spill(Some(SpillConfig {
        dir: Arc::clone(&dir),
        quota_bytes: 8 * MIB as u64,
    }));
    log.flush_spill();
    let status = log.spill_status().expect("spilling");
    assert!(status.disk_bytes <= 8 * MIB as u64, "{status:?}");
    assert!(!status.disk_full, "a quota is not a full disk: {status:?}");
    assert_eq!(segment_files(&status.dir), status.segments);
    assert_same(&log, &reference, log.first_seq()..reference.len() as u64);
}

/// Traffic that compresses (text lines, repeated bytes) is written compressed: the quota
/// counts what the disk holds, so it keeps many times its size of such traffic, and every
/// entry reads back exactly. The segments being written count at their raw size until
/// written, and must not push older segments out meanwhile.
#[test]
fn compressible_traffic_takes_a_fraction_of_its_size_on_disk() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    // Room for what is written and a few segments being written at their raw size.
    let quota = 16 * MIB as u64;
    let (log, reference) = spilled_and_reference(&dir, quota, 40_000, |i| entry(i).2);
    let payload: u64 = (0..reference.len() as u64)
        .map(|seq| reference.get(seq).map_or(0, |e| e.bytes.len() as u64))
        .sum();
    assert!(payload > 4 * quota, "{payload} bytes pushed");
    let status = log.spill_status().expect("spilling");
    assert!(status.segments >= 20, "{status:?}");
    assert!(status.disk_bytes <= quota, "{status:?}");
    assert!(!status.disk_full, "a quota is not a full disk: {status:?}");
    let on_disk: u64 = std::fs::read_dir(&status.dir)
        .expect("log dir")
        .flatten()
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(
        on_disk, status.disk_bytes,
        "the status tells what the files take"
    );
    assert_eq!(log.evicted_entries(), 0, "the quota was not reached");
    assert_same(&log, &reference, 0..reference.len() as u64);
}

#[test]
fn the_files_go_with_the_log_the_session_and_the_process() {
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let process_dir = dir.path().to_path_buf();
    let mut sessions = Sessions::new(4 * MIB);
    sessions.set_spill(Some(SpillConfig {
        dir: Arc::clone(&dir),
        quota_bytes: u64::MAX,
    }));
    drop(dir);
    let mut log_dirs = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = sessions.create("tcp-server:0".parse().expect("spec"));
        let log = &mut sessions.get_mut(id).expect("session").log;
        push_range(log, 0, 10_000);
        log.flush_spill();
        let status = log.spill_status().expect("spilling");
        assert!(segment_files(&status.dir) > 0, "{status:?}");
        log_dirs.push(status.dir);
        ids.push(id);
    }
    // Deleted: its directory goes.
    sessions.remove(ids[0]);
    assert!(!log_dirs[0].exists());
    assert!(log_dirs[1].exists());
    // Spilling switched off: the disk part is dropped (counted), the memory part stays.
    let before = sessions.get(ids[1]).expect("session").log.len();
    sessions.set_spill(None);
    assert!(!log_dirs[1].exists() && !log_dirs[2].exists());
    let log = &sessions.get(ids[1]).expect("session").log;
    assert!(log.spill_status().is_none());
    assert_eq!(log.evicted_entries() + log.len() as u64, before as u64);
    // The app exits: every session goes, then the process's directory.
    drop(sessions);
    assert!(!process_dir.exists());
}

#[test]
fn a_full_disk_costs_entries_not_the_session() {
    in_small_file_system("a_full_disk_costs_entries_not_the_session_inner");
}

/// Run by [`a_full_disk_costs_entries_not_the_session`] inside a namespace where
/// [`TMPFS_ENV`] is a 16 MiB tmpfs.
#[test]
#[ignore = "run inside a mount namespace by a_full_disk_costs_entries_not_the_session"]
fn a_full_disk_costs_entries_not_the_session_inner() {
    let mount = std::env::var_os(TMPFS_ENV).expect("run by the outer test");
    let dir = spill_dir(Path::new(&mount));
    let mut sessions = Sessions::new(4 * MIB);
    // A quota far above what the disk has: the disk fills first.
    sessions.set_spill(Some(SpillConfig {
        dir: Arc::clone(&dir),
        quota_bytes: u64::MAX,
    }));
    let id = sessions.create("tcp-server:0".parse().expect("spec"));
    let total: u64 = 20_000;
    let mut pushed = 0;
    let mut payload_bytes = 0u64;
    // The spill warnings, taken as they are logged (the oldest entries, these among them, go
    // to make room later).
    let mut warnings: Vec<Warning> = Vec::new();
    let mut seen = 0;
    // What the disk held at its least once it was full.
    let mut least_on_disk_once_full = u64::MAX;
    for i in 0..total {
        let bytes = incompressible(i);
        payload_bytes += bytes.len() as u64;
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Rx,
            data: Bytes::from(bytes),
            injected: false,
            at: at(i),
        });
        pushed += 1;
        if i % 100 == 0 {
            sessions.maintain();
        }
        let log = &sessions.get(id).expect("session").log;
        warnings.extend(spill_warnings_since(log, &mut seen));
        if !warnings.is_empty() {
            let on_disk = log.spill_status().map_or(0, |s| s.disk_bytes);
            least_on_disk_once_full = least_on_disk_once_full.min(on_disk);
        }
    }
    assert!(
        payload_bytes > 3 * (TMPFS_MIB * MIB) as u64,
        "the disk must fill"
    );
    let session = sessions.get_mut(id).expect("session");
    session.log.flush_spill();
    session.maintain();
    let log = &sessions.get(id).expect("session").log;
    warnings.extend(spill_warnings_since(log, &mut seen));
    let status = log.spill_status().expect("still spilling");
    assert!(status.disk_bytes <= (TMPFS_MIB * MIB) as u64, "{status:?}");
    assert!(status.disk_full, "the status bar's flag: {status:?}");
    // The disk is used as a quota: once full, the log keeps what fits there (segments of
    // bytes that do not compress, several to 16 MiB) at every point, not only what came after
    // the last failed write (which left it empty).
    assert!(
        least_on_disk_once_full >= (TMPFS_MIB * MIB / 2) as u64,
        "the disk keeps what fits: at least {least_on_disk_once_full} bytes once full"
    );
    // Told in the log once, typed: the disk is full, and what the log does about it.
    assert_eq!(
        warnings,
        vec![Warning::LogDiskFull {
            cause: OsError::DiskFull
        }],
        "told once"
    );
    // Nothing silently lost: every entry not held is counted (the oldest went), and the
    // traffic held is the newest, exactly (below).
    assert!(log.evicted_entries() > 0);
    assert_eq!(log.first_seq(), log.evicted_entries());
    assert!(
        log.first_seq() + log.len() as u64 > pushed,
        "warnings were logged"
    );
    // The newest traffic is intact, and so is what the disk still holds.
    let end = log.first_seq() + log.len() as u64;
    let traffic: Vec<u64> = (log.first_seq()..end)
        .filter(|&seq| log.note(seq).is_none())
        .collect();
    assert!(traffic.len() > 1000, "{} entries held", traffic.len());
    for (back, seq) in traffic.iter().rev().enumerate() {
        let bytes = incompressible(total - 1 - back as u64);
        assert_eq!(log.get(*seq).expect("held").bytes, bytes, "seq {seq}");
    }
    drop(sessions);
    drop(dir);
    assert_eq!(
        std::fs::read_dir(&mount).expect("tmpfs").count(),
        0,
        "nothing left behind"
    );
}

/// The spill warnings `log` added from `*seen` on (or its first entry, when that went), and
/// where it ends now in `seen`.
fn spill_warnings_since(log: &TrafficLog, seen: &mut u64) -> Vec<Warning> {
    let end = log.first_seq() + log.len() as u64;
    let warnings = ((*seen).max(log.first_seq())..end)
        .filter_map(|seq| match log.note(seq) {
            Some(LogNote::Warning(
                warning @ (Warning::LogDiskFull { .. } | Warning::LogSpillFailed { .. }),
            )) => Some(warning),
            _ => None,
        })
        .collect();
    *seen = end;
    warnings
}

/// Runs the ignored test `name` of this binary with a 16 MiB tmpfs mounted (in a user and
/// mount namespace of its own) and fails when it fails; skips, saying why, when no namespace
/// can be made here (a failure under `CI=true`, see `common::skip`).
fn in_small_file_system(name: &str) {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return common::skip(&format!(
                "unshare --user --mount refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Err(e) => return common::skip(&format!("no unshare command ({e})")),
    }
    let mount = tempfile::tempdir().expect("mount point");
    let mut command = Command::new("unshare");
    command
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size={TMPFS_MIB}m sockdbg-spill \"$0\" && exec \"$@\""
        ))
        .arg(mount.path());
    let mut child = common::this_test_alone(&mut command, name)
        .env(TMPFS_ENV, mount.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > INNER_DEADLINE {
            child.kill().ok();
            panic!("{name} did not end within {INNER_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = format!(
        "--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(status.success(), "{name} failed ({status})\n{text}");
    assert!(
        stdout.contains(&format!("test {name} ... ok")),
        "{name} did not run\n{text}"
    );
}

/// The window's frames while a log's disk is stuck (its writer blocked opening its first
/// segment, a FIFO nobody reads yet): once the log is behind, the frames take nothing (the
/// engine's flow control holds the peer meanwhile) and never wait for the disk, so no more
/// segments pile up; once the disk moves, the frames take the rest, every byte counted. Before, each frame took one more event while behind, so
/// segments kept piling up until the log's push waited for the disk (past 16 waiting) on the
/// window's thread.
#[cfg(unix)]
#[test]
fn frames_take_nothing_while_the_disk_is_behind_and_never_wait_for_it() {
    use sockdbg::intake::{Backlog, Intake};
    const EVENTS: usize = 100;
    let base = tempfile::tempdir().expect("temp dir");
    let dir = spill_dir(base.path());
    let mut sessions = Sessions::new(8 * MIB);
    sessions.set_spill(Some(SpillConfig {
        dir: Arc::clone(&dir),
        quota_bytes: 1 << 30,
    }));
    let id = sessions.create("tcp-server:127.0.0.1:6001".parse().expect("spec"));
    let log_dir = sessions
        .get(id)
        .and_then(|s| s.log.spill_status())
        .expect("spilling")
        .dir;
    std::fs::create_dir_all(&log_dir).expect("log dir");
    let fifo = log_dir.join(format!("{:08}.seg", 0));
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Should a frame wait for the stuck disk, this frees it after a while, so the test fails
    // (the segment count below) instead of hanging.
    let watchdog = fifo.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        std::fs::read(watchdog).ok();
    });

    let (tx, rx) = crossbeam_channel::unbounded();
    let intake = Intake::from_channel(rx);
    let at = SystemTime::now();
    let local_addr = "127.0.0.1:6001".parse().expect("addr");
    tx.send(Event::Started { id, local_addr, at })
        .expect("send");
    let read = Bytes::from(vec![0x5a; MIB]);
    for _ in 0..EVENTS {
        tx.send(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Rx,
            data: read.clone(),
            injected: false,
            at,
        })
        .expect("send");
    }
    let frame = |sessions: &mut Sessions| {
        let mut taken = 0;
        let backlog = intake.take_frame(sessions, |_| None, |_| taken += 1);
        (taken, backlog)
    };
    let segments = |sessions: &Sessions| {
        let log = &sessions.get(id).expect("session").log;
        log.spill_status().expect("spilling").segments
    };
    // Frames until the log is behind (a frame also stops when its time is spent).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut total = 0;
    while !sessions.any_spill_behind() {
        assert!(
            Instant::now() < deadline,
            "never behind after {total} events"
        );
        total += frame(&mut sessions).0;
    }
    assert!(total < EVENTS, "behind only after all {total} events");
    let behind = segments(&sessions);
    for n in 0..20 {
        let (taken, backlog) = frame(&mut sessions);
        assert_eq!(taken, 0, "frame {n} took events while the disk was behind");
        assert_eq!(backlog, Backlog::ForDisk);
    }
    assert_eq!(segments(&sessions), behind, "segments piled up");

    // The disk moves: the frames take the rest.
    let reader = std::thread::spawn(move || std::fs::read(&fifo).map(|b| b.len()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while total < EVENTS + 1 {
        assert!(Instant::now() < deadline, "took {total} of {}", EVENTS + 1);
        total += frame(&mut sessions).0;
        std::thread::sleep(Duration::from_millis(1));
    }
    let session = sessions.get(id).expect("session");
    assert_eq!(session.counters.rx_bytes, (EVENTS * MIB) as u64);
    assert!(reader.join().expect("reader").expect("read") > 0);
}
