//! A session log's spill to disk: the chunks the memory bound evicts are written, with their
//! own index records, as segment files in a directory of the log's own, and served from there
//! (memory-mapped) for as long as the disk quota keeps them. Memory keeps one summary per
//! segment (first sequence number, entry count, offsets, time range), so a log of many
//! gigabytes of one-byte reads costs a few hundred bytes a segment, not 28 bytes an entry.
//!
//! Writing never blocks the window's frame: a writer thread of the log's own writes each
//! segment while the log serves it from the buffer it was evicted with; once written, the
//! buffer comes back for the next chunk and the entries are read from the file. The writer
//! compresses a segment (LZ4 blocks) when its bytes compress: traffic of text lines, repeated
//! frames or padding then costs a fraction of its size on disk and in the disk's time, so a
//! flood of it spills at the rate of memory rather than the disk's; bytes that do not compress
//! (a sample of them is tried first) are written as they are and read in place (mapped). A
//! compressed segment is decoded whole when first read. Reaching the
//! quota drops the oldest segment (counted, as the memory bound's eviction is). A full disk
//! is a quota too: a write that fails for want of space drops the oldest segment and is tried
//! again, so the log keeps what fits on the disk (said once). A write that fails otherwise, or
//! with no older segment left to drop, drops the segment and every older one, so what the log
//! holds stays one unbroken run. Both leave a [`SpillProblem`] for the session to tell the
//! user.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use bytes::BytesMut;
use crossbeam_channel::{Receiver, Sender};
use memmap2::Mmap;

use super::Meta;
use crate::model::spill_dir::SpillDir;
use crate::protocol::OsError;

/// A segment file starts with this, then five u64 fields (little-endian): the entry count,
/// the payload's length, two fields of the form, and the form ([`RAW`] or [`LZ4`]).
const MAGIC: &[u8; 8] = b"SDBGSEG2";
/// Bytes of a segment file's header.
const HEADER_BYTES: usize = 48;
/// Form of a segment stored as it is: the index records, then the payload (read in place);
/// the form's two fields are 0.
const RAW: u64 = 0;
/// Form of a segment stored compressed, in LZ4 blocks decoded one by one as they are read:
/// the form's fields are the number of index blocks and of payload blocks; a table of each
/// block's raw and stored length (u32 each) follows the header, then the blocks. Index blocks
/// hold [`INDEX_BLOCK_RECORDS`] records (the last fewer); payload blocks end where an entry
/// ends, so an entry is always in one block.
const LZ4: u64 = 1;
/// Bytes of one index record on disk (the fields of [`Meta`], little-endian).
const RECORD_BYTES: usize = 28;
/// Index records in one compressed block (56 KiB).
const INDEX_BLOCK_RECORDS: usize = 2048;
/// Payload bytes from which a compressed block ends at the next entry's start.
const PAYLOAD_BLOCK_BYTES: usize = 64 * 1024;
/// Bytes of the payload tried first: a segment is compressed only when they shrink by at
/// least 1/8 (and kept raw if the whole does not).
const SAMPLE_BYTES: usize = 64 * 1024;
/// Segments handed to the writer and not written yet past which the log is
/// [`behind`](SegmentStore::behind): the window then stops taking events in until the next
/// frame (the engine's flow control slows the peer), so a disk slower than the traffic slows
/// the intake rather than the window or losing entries. 32 MiB: enough to ride out the page
/// cache's stalls (writes of 4 MiB took from under 1 ms to hundreds of ms on the test
/// machine).
const MAX_PENDING: usize = 8;
/// Segments not written yet past which a push waits for the disk: the bound for a taker
/// that does not ask whether the log is behind (and for the chunks of one frame's events).
const PENDING_WAIT: usize = 2 * MAX_PENDING;
/// Written segments kept loaded (mapped, or decoded when compressed) between two
/// [`SegmentStore::trim`]s: what the view shows and what a search is scanning, so the
/// memory they keep resident stays bounded (at most 8 decoded segments, about 34 MiB).
const MAX_MAPPED: usize = 8;
/// Written chunks' buffers kept for the log's next chunks (their pages stay warm, as the
/// memory-only log's recycled chunks do).
const SPARE_BUFFERS: usize = MAX_PENDING;

/// How a log spills: the process's spill directory and the disk quota of one log.
#[derive(Clone, Debug)]
pub struct SpillConfig {
    /// Where the log's own directory goes.
    pub dir: Arc<SpillDir>,
    /// Bytes of segment files the log keeps at most; the oldest go past it.
    pub quota_bytes: u64,
}

/// What went wrong spilling a log to disk; the log went on, evicting as it does in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpillProblem {
    /// The disk is full: from now on the log keeps what fits there, dropping its oldest
    /// segments to make room as at its quota (told once per log).
    DiskFull {
        /// The write's error (no space, or the file system's quota).
        cause: OsError,
    },
    /// A segment could not be written (or its directory made); it and every older segment
    /// were dropped.
    WriteFailed {
        /// Why.
        cause: OsError,
        /// Entries lost with it.
        lost_entries: u64,
    },
}

/// Entries and payload bytes dropped from the disk (quota, failed write).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Lost {
    pub(super) entries: u64,
    pub(super) bytes: u64,
}

/// A chunk the store would not take (larger than the quota, or spilling failed to start):
/// the log evicts it as it would without a disk.
pub(super) struct Refused {
    pub(super) index: Vec<Meta>,
    pub(super) data: BytesMut,
}

enum Body {
    /// Handed to the writer; served from the evicted buffer meanwhile.
    Pending {
        index: Arc<Vec<Meta>>,
        data: Arc<BytesMut>,
    },
    /// On disk; loaded when first read, dropped by [`SegmentStore::trim`].
    Written { map: OnceLock<Option<Loaded>> },
}

/// A written segment as read back: its index records, then its payload (its "body").
enum Loaded {
    /// Stored raw: the file, mapped.
    Mapped(Mmap),
    /// Stored compressed: the file, mapped, and its blocks decoded as they are read.
    Packed {
        map: Mmap,
        blocks: Vec<Block>,
        decoded: Vec<OnceLock<Option<Box<[u8]>>>>,
    },
}

/// One compressed block of a [`Loaded::Packed`] segment.
struct Block {
    /// Where its bytes start in the segment's body.
    raw_start: usize,
    raw_len: usize,
    /// Where its compressed bytes are in the file.
    stored_start: usize,
    stored_len: usize,
}

impl Loaded {
    /// The body's bytes `at..at + len` (decoding their block if it is not yet); `None` when
    /// they are not there or a block does not decode to its length.
    fn range(&self, at: usize, len: usize) -> Option<&[u8]> {
        let end = at.checked_add(len)?;
        match self {
            Self::Mapped(map) => {
                map.get(HEADER_BYTES.checked_add(at)?..HEADER_BYTES.checked_add(end)?)
            }
            Self::Packed {
                map,
                blocks,
                decoded,
            } => {
                let i = blocks
                    .partition_point(|b| b.raw_start <= at)
                    .checked_sub(1)?;
                let block = blocks.get(i)?;
                let bytes = decoded
                    .get(i)?
                    .get_or_init(|| {
                        let stored =
                            map.get(block.stored_start..block.stored_start + block.stored_len)?;
                        let mut raw = vec![0; block.raw_len].into_boxed_slice();
                        let decoded = lz4_flex::block::decompress_into(stored, &mut raw).ok()?;
                        (decoded == block.raw_len).then_some(raw)
                    })
                    .as_deref()?;
                bytes.get(at - block.raw_start..end - block.raw_start)
            }
        }
    }
}

struct Segment {
    first_seq: u64,
    count: usize,
    /// Log offset of its first payload byte.
    start: u64,
    payload_bytes: u64,
    file: u64,
    file_bytes: u64,
    body: Body,
    /// When it was last read (a tick of [`SegmentStore::tick`]), for unmapping the least used.
    used: AtomicU64,
}

enum Job {
    Write {
        file: u64,
        path: PathBuf,
        /// Log offset of the payload's first byte (the index records' offsets are the log's).
        start: u64,
        index: Arc<Vec<Meta>>,
        data: Arc<BytesMut>,
    },
    Delete(PathBuf),
    /// Answered with [`FLUSHED`] once every job before it is done.
    Flush,
}

/// The file number of the answer to [`Job::Flush`].
const FLUSHED: u64 = u64::MAX;

struct Done {
    file: u64,
    /// The file's size once written.
    result: io::Result<u64>,
}

struct Writer {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

/// The spilled, older part of one log.
pub(super) struct SegmentStore {
    dir: Arc<SpillDir>,
    log_dir: PathBuf,
    quota_bytes: u64,
    segments: VecDeque<Segment>,
    entries: u64,
    payload_bytes: u64,
    disk_bytes: u64,
    next_file: u64,
    writer: Option<Writer>,
    spare: Vec<BytesMut>,
    tick: AtomicU64,
    mapped: AtomicUsize,
    lost: Lost,
    problem: Option<SpillProblem>,
    /// The disk was found full (the user is told once): since then it bounds the log as
    /// the quota does.
    disk_full: bool,
}

impl SegmentStore {
    /// An empty store in a new directory of `config.dir` (made when the first segment is
    /// written).
    pub(super) fn new(config: SpillConfig) -> Self {
        let log_dir = config.dir.new_log_dir();
        Self {
            dir: config.dir,
            log_dir,
            quota_bytes: config.quota_bytes,
            segments: VecDeque::new(),
            entries: 0,
            payload_bytes: 0,
            disk_bytes: 0,
            next_file: 0,
            writer: None,
            spare: Vec::new(),
            tick: AtomicU64::new(0),
            mapped: AtomicUsize::new(0),
            lost: Lost::default(),
            problem: None,
            disk_full: false,
        }
    }

    /// The directory of this log's segments.
    pub(super) fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Waits until the writer has done every job handed to it: segments written (or
    /// failed), files deleted.
    pub(super) fn flush(&mut self) {
        if !self.send(Job::Flush) {
            return;
        }
        loop {
            let answer = self.writer.as_ref().map(|w| w.done.recv());
            match answer {
                Some(Ok(done)) if done.file == FLUSHED => return,
                Some(Ok(done)) => self.settle(done),
                _ => {
                    self.wait_one(); // settles what was pending as failed
                    return;
                }
            }
        }
    }

    /// The process's spill directory this store is in.
    pub(super) fn spill_dir(&self) -> &Arc<SpillDir> {
        &self.dir
    }

    /// Sequence number of the oldest entry held, if any.
    pub(super) fn first_seq(&self) -> Option<u64> {
        self.segments.front().map(|s| s.first_seq)
    }

    /// Entries held.
    pub(super) fn len(&self) -> u64 {
        self.entries
    }

    /// Payload bytes of the entries held.
    pub(super) fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    /// Segments held (written or being written).
    pub(super) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Bytes of the segment files held (written or being written).
    pub(super) fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// Whether the disk was found full: since then it bounds the log as the quota does.
    pub(super) fn disk_full(&self) -> bool {
        self.disk_full
    }

    /// The quota.
    pub(super) fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// Sets the quota; segments past it go at once.
    pub(super) fn set_quota(&mut self, quota_bytes: u64) {
        self.quota_bytes = quota_bytes;
        self.make_room(0);
    }

    /// What was dropped since the last call.
    pub(super) fn take_lost(&mut self) -> Lost {
        std::mem::take(&mut self.lost)
    }

    /// The problem met since the last call, if any.
    pub(super) fn take_problem(&mut self) -> Option<SpillProblem> {
        self.problem.take()
    }

    /// A spare buffer of at least `capacity` bytes, from a written chunk.
    pub(super) fn take_spare(&mut self, capacity: usize) -> Option<BytesMut> {
        let at = self.spare.iter().position(|b| b.capacity() >= capacity)?;
        Some(self.spare.swap_remove(at))
    }

    /// Spills the chunk of entries `first_seq..` (`index`, whose payload is `data`, starting
    /// at log offset `start`). Gives the chunk back when it cannot be kept.
    pub(super) fn push(
        &mut self,
        first_seq: u64,
        start: u64,
        index: Vec<Meta>,
        data: BytesMut,
    ) -> Result<(), Refused> {
        self.poll();
        let count = index.len();
        // The raw size, reserved until the writer tells the written (perhaps compressed) one.
        let file_bytes = (HEADER_BYTES + count * RECORD_BYTES + data.len()) as u64;
        if file_bytes > self.quota_bytes {
            return Err(Refused { index, data });
        }
        self.make_room(file_bytes);
        if self.writer.is_none() {
            match spawn_writer(self.log_dir.clone()) {
                Ok(writer) => self.writer = Some(writer),
                Err(error) => {
                    self.problem = Some(SpillProblem::WriteFailed {
                        cause: OsError::of(&error),
                        lost_entries: count as u64,
                    });
                    return Err(Refused { index, data });
                }
            }
        }
        let file = self.next_file;
        self.next_file += 1;
        let index = Arc::new(index);
        let data = Arc::new(data);
        let payload_bytes = data.len() as u64;
        let job = Job::Write {
            file,
            path: self.segment_path(file),
            start,
            index: Arc::clone(&index),
            data: Arc::clone(&data),
        };
        if !self.send(job) {
            // The writer is gone: nothing more can be written.
            let index = Arc::try_unwrap(index).unwrap_or_default();
            let data = Arc::try_unwrap(data).unwrap_or_default();
            return Err(Refused { index, data });
        }
        self.segments.push_back(Segment {
            first_seq,
            count,
            start,
            payload_bytes,
            file,
            file_bytes,
            body: Body::Pending { index, data },
            used: AtomicU64::new(0),
        });
        self.entries += count as u64;
        self.payload_bytes += payload_bytes;
        self.disk_bytes += file_bytes;
        while self.pending_count() > PENDING_WAIT {
            if !self.wait_one() {
                break;
            }
        }
        Ok(())
    }

    /// Whether the writer is more than [`MAX_PENDING`] segments behind (after taking its
    /// answers in): the taker should let it catch up before pushing more.
    pub(super) fn behind(&mut self) -> bool {
        self.poll();
        self.pending_count() > MAX_PENDING
    }

    fn pending_count(&self) -> usize {
        self.segments
            .iter()
            .rev()
            .take_while(|s| matches!(s.body, Body::Pending { .. }))
            .count()
    }

    fn segment_path(&self, file: u64) -> PathBuf {
        self.log_dir.join(format!("{file:08}.seg"))
    }

    fn send(&mut self, job: Job) -> bool {
        self.writer
            .as_ref()
            .and_then(|w| w.jobs.as_ref())
            .is_some_and(|jobs| jobs.send(job).is_ok())
    }

    /// Drops the oldest segments until `more` bytes fit within the quota. Segments being
    /// written count at their raw size until the writer tells what they took (less when
    /// compressed): when only they are over the quota, this waits for them rather than drop
    /// written segments that would have fitted.
    fn make_room(&mut self, more: u64) {
        while self.disk_bytes.saturating_add(more) > self.quota_bytes {
            let written = self.disk_bytes - self.pending_bytes();
            let front_written = self
                .segments
                .front()
                .is_some_and(|s| matches!(s.body, Body::Written { .. }));
            if front_written && written.saturating_add(more) > self.quota_bytes {
                self.drop_front();
            } else if self.pending_count() == 0 {
                break;
            } else {
                // Settles the oldest pending segment (as failed, if the writer is gone).
                self.wait_one();
            }
        }
    }

    /// Bytes reserved for the segments being written.
    fn pending_bytes(&self) -> u64 {
        self.segments
            .iter()
            .rev()
            .take_while(|s| matches!(s.body, Body::Pending { .. }))
            .map(|s| s.file_bytes)
            .sum()
    }

    /// Drops the oldest segment (counted as lost) and deletes its file.
    fn drop_front(&mut self) {
        let Some(segment) = self.segments.pop_front() else {
            return;
        };
        self.lost.entries += segment.count as u64;
        self.lost.bytes += segment.payload_bytes;
        self.entries -= segment.count as u64;
        self.payload_bytes -= segment.payload_bytes;
        self.disk_bytes -= segment.file_bytes;
        if let Body::Written { map } = &segment.body
            && map.get().is_some_and(Option::is_some)
        {
            self.mapped.fetch_sub(1, Ordering::Relaxed);
        }
        let path = self.segment_path(segment.file);
        // Unmapped (dropped) before the writer deletes it: Windows keeps a mapped file.
        drop(segment);
        self.send(Job::Delete(path));
    }

    /// Takes the writer's answers that are in.
    pub(super) fn poll(&mut self) {
        loop {
            let Some(writer) = &self.writer else {
                return;
            };
            match writer.done.try_recv() {
                Ok(done) => self.settle(done),
                Err(_) => return,
            }
        }
    }

    /// Waits for the writer's next answer; false when the writer is gone (every pending
    /// segment is then dropped as failed).
    fn wait_one(&mut self) -> bool {
        let answer = self.writer.as_ref().map(|w| w.done.recv());
        match answer {
            Some(Ok(done)) => {
                self.settle(done);
                true
            }
            _ => {
                let gone = io::Error::other("the log's disk writer stopped");
                let files: Vec<u64> = self
                    .segments
                    .iter()
                    .filter(|s| matches!(s.body, Body::Pending { .. }))
                    .map(|s| s.file)
                    .collect();
                for file in files {
                    self.settle(Done {
                        file,
                        result: Err(io::Error::new(gone.kind(), gone.to_string())),
                    });
                }
                self.writer = None;
                false
            }
        }
    }

    fn settle(&mut self, done: Done) {
        let Some(at) = self.segments.iter().position(|s| s.file == done.file) else {
            return;
        };
        match done.result {
            Ok(written_bytes) => {
                let Some(segment) = self.segments.get_mut(at) else {
                    return;
                };
                // The quota was reserved for the raw size; a compressed file gives back
                // the difference.
                self.disk_bytes = self.disk_bytes - segment.file_bytes + written_bytes;
                segment.file_bytes = written_bytes;
                let body = std::mem::replace(
                    &mut segment.body,
                    Body::Written {
                        map: OnceLock::new(),
                    },
                );
                if let Body::Pending { data, .. } = body
                    && let Ok(data) = Arc::try_unwrap(data)
                    && self.spare.len() < SPARE_BUFFERS
                {
                    self.spare.push(data);
                }
            }
            Err(error) => {
                let cause = OsError::of(&error);
                if cause == OsError::DiskFull && at > 0 && self.write_again(done.file) {
                    if !self.disk_full {
                        self.disk_full = true;
                        self.problem = Some(SpillProblem::DiskFull { cause });
                    }
                    return;
                }
                // Where it is now (an older one may have gone to make room).
                let Some(at) = self.segments.iter().position(|s| s.file == done.file) else {
                    return;
                };
                // Keep what is held one unbroken run: the failed segment goes, and every
                // older one with it.
                let before = self.lost.entries;
                for _ in 0..=at {
                    self.drop_front();
                }
                let lost_entries = self.lost.entries - before;
                self.problem = Some(SpillProblem::WriteFailed {
                    cause,
                    lost_entries,
                });
            }
        }
    }

    /// After a write of segment `file` failed for want of space: drops the oldest segment (an
    /// older one, written: the writer answers in order) to free its space, and hands `file`
    /// to the writer again, after that delete. False when it could not be handed over.
    fn write_again(&mut self, file: u64) -> bool {
        let job = self
            .segments
            .iter()
            .find(|s| s.file == file)
            .and_then(|segment| match &segment.body {
                Body::Pending { index, data } => Some(Job::Write {
                    file,
                    path: self.segment_path(file),
                    start: segment.start,
                    index: Arc::clone(index),
                    data: Arc::clone(data),
                }),
                Body::Written { .. } => None,
            });
        let Some(job) = job else {
            return false;
        };
        self.drop_front();
        self.send(job)
    }

    fn segment_of_seq(&self, seq: u64) -> Option<&Segment> {
        let after = self.segments.partition_point(|s| s.first_seq <= seq);
        let segment = self.segments.get(after.checked_sub(1)?)?;
        (seq - segment.first_seq < segment.count as u64).then_some(segment)
    }

    fn segment_of_offset(&self, offset: u64) -> Option<&Segment> {
        let after = self.segments.partition_point(|s| s.start <= offset);
        self.segments.get(after.checked_sub(1)?)
    }

    /// A written segment as read back (loaded now if it is not); `None` for a pending one,
    /// or when the file cannot be read back as written.
    fn loaded<'a>(&'a self, segment: &'a Segment) -> Option<&'a Loaded> {
        segment.used.store(
            self.tick.fetch_add(1, Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
        let Body::Written { map } = &segment.body else {
            return None;
        };
        map.get_or_init(|| {
            let loaded = load_segment(
                &self.segment_path(segment.file),
                segment.count,
                segment.payload_bytes,
            )?;
            self.mapped.fetch_add(1, Ordering::Relaxed);
            Some(loaded)
        })
        .as_ref()
    }

    /// The index record of entry `seq`, if it is held here.
    pub(super) fn meta(&self, seq: u64) -> Option<Meta> {
        let segment = self.segment_of_seq(seq)?;
        let i = usize::try_from(seq - segment.first_seq).ok()?;
        match &segment.body {
            Body::Pending { index, .. } => index.get(i).copied(),
            Body::Written { .. } => {
                let loaded = self.loaded(segment)?;
                decode_meta(loaded.range(i.checked_mul(RECORD_BYTES)?, RECORD_BYTES)?)
            }
        }
    }

    /// The payload bytes at log offset `offset..offset + len`, if they are held here.
    pub(super) fn slice(&self, offset: u64, len: u32) -> Option<&[u8]> {
        let segment = self.segment_of_offset(offset)?;
        let start = usize::try_from(offset - segment.start).ok()?;
        let end = start.checked_add(len as usize)?;
        match &segment.body {
            Body::Pending { data, .. } => data.get(start..end),
            Body::Written { .. } => {
                let loaded = self.loaded(segment)?;
                let base = segment.count.checked_mul(RECORD_BYTES)?;
                loaded.range(base.checked_add(start)?, end - start)
            }
        }
    }

    /// Drops the least recently read segments' loaded bodies past [`MAX_MAPPED`], and takes
    /// the writer's answers; call between frames (a search's scan loads segment after
    /// segment).
    pub(super) fn trim(&mut self) {
        self.poll();
        if self.mapped.load(Ordering::Relaxed) <= MAX_MAPPED {
            return;
        }
        let mut uses: Vec<(u64, usize)> = self
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(&s.body, Body::Written { map } if map.get().is_some_and(Option::is_some)))
            .map(|(i, s)| (s.used.load(Ordering::Relaxed), i))
            .collect();
        uses.sort_unstable();
        let extra = uses.len().saturating_sub(MAX_MAPPED);
        for &(_, i) in uses.iter().take(extra) {
            if let Some(Segment {
                body: Body::Written { map },
                ..
            }) = self.segments.get_mut(i)
                && map.take().flatten().is_some()
            {
                self.mapped.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Segments loaded now (mapped or decoded).
    pub(super) fn mapped_count(&self) -> usize {
        self.mapped.load(Ordering::Relaxed)
    }

    /// Drops every segment (counted as lost) and deletes their files.
    pub(super) fn clear(&mut self) {
        self.flush();
        while !self.segments.is_empty() {
            self.drop_front();
        }
    }
}

impl Drop for SegmentStore {
    fn drop(&mut self) {
        // Unmap, let the writer finish (closing its channel ends it), then remove the files.
        self.segments.clear();
        if let Some(mut writer) = self.writer.take() {
            writer.jobs = None;
            if let Some(thread) = writer.thread.take() {
                thread.join().ok(); // a panicked writer has nothing left to write
            }
        }
        if self.log_dir.exists() {
            fs::remove_dir_all(&self.log_dir).ok(); // what stays is cleaned at the next start
        }
    }
}

fn spawn_writer(log_dir: PathBuf) -> io::Result<Writer> {
    let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded::<Job>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
    let thread = std::thread::Builder::new()
        .name("log-spill".into())
        .spawn(move || {
            let mut dir_made = false;
            let mut packer = Packer::default();
            for job in jobs_rx {
                match job {
                    Job::Write {
                        file,
                        path,
                        start,
                        index,
                        data,
                    } => {
                        let result = if dir_made {
                            Ok(())
                        } else {
                            fs::create_dir_all(&log_dir)
                        }
                        .and_then(|()| {
                            dir_made = true;
                            packer.write(&path, start, &index, &data)
                        });
                        if result.is_err() {
                            fs::remove_file(&path).ok(); // a partial file is worth nothing
                        }
                        // Released before answering, so the log can reuse the buffer.
                        drop((index, data));
                        if done_tx.send(Done { file, result }).is_err() {
                            return; // the log is gone
                        }
                    }
                    Job::Delete(path) => {
                        fs::remove_file(path).ok(); // the directory goes with the log
                    }
                    Job::Flush => {
                        let flushed = Done {
                            file: FLUSHED,
                            result: Ok(0),
                        };
                        if done_tx.send(flushed).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
    Ok(Writer {
        jobs: Some(jobs_tx),
        done: done_rx,
        thread: Some(thread),
    })
}

/// The writer's buffers for a segment's index records and compressed blocks, kept from one
/// segment to the next.
#[derive(Default)]
struct Packer {
    records: Vec<u8>,
    /// Each block's raw and stored length, as the file's block table holds them.
    table: Vec<u8>,
    blocks: Vec<u8>,
    /// Where payload blocks end (offsets in the payload).
    cuts: Vec<usize>,
}

impl Packer {
    /// Writes one segment file at `path` (its payload `data` starts at log offset `start`),
    /// compressed when that pays; gives its size.
    fn write(&mut self, path: &Path, start: u64, index: &[Meta], data: &[u8]) -> io::Result<u64> {
        self.records.clear();
        for meta in index {
            encode_meta(meta, &mut self.records);
        }
        let packed = self.pack(start, index, data);
        let (fields, parts): ([u64; 3], [&[u8]; 3]) = match packed {
            Some((index_blocks, payload_blocks)) => (
                [index_blocks as u64, payload_blocks as u64, LZ4],
                [&self.table, &self.blocks, &[]],
            ),
            None => ([0, 0, RAW], [&self.records, data, &[]]),
        };
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(MAGIC);
        for field in [index.len() as u64, data.len() as u64]
            .iter()
            .chain(&fields)
        {
            header.extend_from_slice(&field.to_le_bytes());
        }
        let mut file = File::create(path)?;
        // No sync: the file only has to outlive this process's reading of it, and a full
        // disk shows in the writes (file systems reserve the blocks then).
        file.write_all(&header)?;
        let mut written = header.len();
        for part in parts {
            file.write_all(part)?;
            written += part.len();
        }
        Ok(written as u64)
    }

    /// Compresses the index records and `data` into blocks (see [`LZ4`]) when that saves at
    /// least 1/8 (tried on a sample of `data` first); gives the number of index blocks and
    /// of payload blocks.
    fn pack(&mut self, start: u64, index: &[Meta], data: &[u8]) -> Option<(usize, usize)> {
        self.table.clear();
        self.blocks.clear();
        let sample_at = data.len().saturating_sub(SAMPLE_BYTES) / 2;
        let sample = data.get(sample_at..(sample_at + SAMPLE_BYTES).min(data.len()))?;
        if !sample.is_empty() {
            let packed = compress_block(sample, &mut self.blocks)?;
            self.blocks.clear();
            if !saves_an_eighth(packed, sample.len()) {
                return None;
            }
        }
        let records = std::mem::take(&mut self.records);
        let index_blocks = records.chunks(INDEX_BLOCK_RECORDS * RECORD_BYTES).count();
        for block in records.chunks(INDEX_BLOCK_RECORDS * RECORD_BYTES) {
            self.add_block(block)?;
        }
        self.records = records;
        payload_cuts(start, index, data.len(), &mut self.cuts);
        let cuts = std::mem::take(&mut self.cuts);
        let mut from = 0;
        for &at in &cuts {
            self.add_block(data.get(from..at)?)?;
            from = at;
        }
        self.cuts = cuts;
        let stored = self.table.len() + self.blocks.len();
        saves_an_eighth(stored, self.records.len() + data.len())
            .then_some((index_blocks, self.cuts.len()))
    }

    /// Compresses `raw` as the next block.
    fn add_block(&mut self, raw: &[u8]) -> Option<()> {
        let stored = compress_block(raw, &mut self.blocks)?;
        self.table
            .extend_from_slice(&u32::try_from(raw.len()).ok()?.to_le_bytes());
        self.table
            .extend_from_slice(&u32::try_from(stored).ok()?.to_le_bytes());
        Some(())
    }
}

/// Where the payload blocks of a chunk of `len` bytes (starting at log offset `start`, its
/// entries `index`) end: at the start of the first entry at least [`PAYLOAD_BLOCK_BYTES`]
/// after the block's start that no earlier entry runs past, and at `len`.
fn payload_cuts(start: u64, index: &[Meta], len: usize, cuts: &mut Vec<usize>) {
    cuts.clear();
    let mut block_start = 0;
    let mut covered = 0;
    for meta in index {
        let Some(at) = meta
            .offset
            .checked_sub(start)
            .and_then(|at| usize::try_from(at).ok())
            .filter(|&at| at <= len)
        else {
            continue; // not in this chunk's payload: no cut can depend on it
        };
        if at >= block_start + PAYLOAD_BLOCK_BYTES && at >= covered && at < len {
            cuts.push(at);
            block_start = at;
        }
        covered = covered.max(at.saturating_add(meta.len as usize));
    }
    cuts.push(len);
}

fn saves_an_eighth(packed: usize, raw: usize) -> bool {
    packed < raw - raw / 8
}

/// Compresses `input` as one LZ4 block appended to `out`; gives its length.
fn compress_block(input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let at = out.len();
    out.resize(
        at + lz4_flex::block::get_maximum_output_size(input.len()),
        0,
    );
    let len = lz4_flex::block::compress_into(input, out.get_mut(at..)?).ok()?;
    out.truncate(at + len);
    Some(len)
}

/// Reads back the segment file at `path` holding `count` entries and `payload_bytes`:
/// mapped, and its blocks' places read when it is compressed. `None` when it is not that
/// segment.
fn load_segment(path: &Path, count: usize, payload_bytes: u64) -> Option<Loaded> {
    let file = File::open(path).ok()?;
    // SAFETY: the file is this log's own, in a directory of this process's (locked, see
    // `SpillDir`), written once by the writer before it was marked written and never changed
    // after; it is unmapped before it is deleted. Another program truncating it would fault
    // this process, as with any mapped file.
    let map = unsafe { Mmap::map(&file) }.ok()?;
    if map.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return None;
    }
    let field = |n: usize| {
        let at = MAGIC.len() + n * 8;
        Some(u64::from_le_bytes(map.get(at..at + 8)?.try_into().ok()?))
    };
    let index_bytes = count.checked_mul(RECORD_BYTES)?;
    let payload_len = usize::try_from(payload_bytes).ok()?;
    if field(0)? != count as u64 || field(1)? != payload_bytes {
        return None;
    }
    match field(4)? {
        RAW => {
            (map.len() == HEADER_BYTES + index_bytes + payload_len).then_some(Loaded::Mapped(map))
        }
        LZ4 => {
            let index_blocks = usize::try_from(field(2)?).ok()?;
            let payload_blocks = usize::try_from(field(3)?).ok()?;
            let n = index_blocks.checked_add(payload_blocks)?;
            let table = map.get(HEADER_BYTES..HEADER_BYTES.checked_add(n.checked_mul(8)?)?)?;
            let mut blocks = Vec::with_capacity(n);
            let (mut raw_start, mut stored_start) = (0, HEADER_BYTES + table.len());
            for (i, entry) in table.chunks_exact(8).enumerate() {
                let raw_len = u32::from_le_bytes(entry.get(..4)?.try_into().ok()?) as usize;
                let stored_len = u32::from_le_bytes(entry.get(4..)?.try_into().ok()?) as usize;
                if i == index_blocks && raw_start != index_bytes {
                    return None;
                }
                blocks.push(Block {
                    raw_start,
                    raw_len,
                    stored_start,
                    stored_len,
                });
                raw_start = raw_start.checked_add(raw_len)?;
                stored_start = stored_start.checked_add(stored_len)?;
            }
            if raw_start != index_bytes + payload_len || stored_start != map.len() {
                return None;
            }
            let decoded = (0..n).map(|_| OnceLock::new()).collect();
            Some(Loaded::Packed {
                map,
                blocks,
                decoded,
            })
        }
        _ => None,
    }
}

fn encode_meta(meta: &Meta, out: &mut Vec<u8>) {
    let Meta {
        at_micros,
        offset,
        len,
        peer,
        prev_distance,
        kind,
        flags,
    } = *meta;
    out.extend_from_slice(&at_micros.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&peer.to_le_bytes());
    out.extend_from_slice(&prev_distance.to_le_bytes());
    out.push(kind);
    out.push(flags);
}

fn decode_meta(bytes: &[u8]) -> Option<Meta> {
    let at_micros = i64::from_le_bytes(bytes.get(0..8)?.try_into().ok()?);
    let offset = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
    let len = u32::from_le_bytes(bytes.get(16..20)?.try_into().ok()?);
    let peer = u32::from_le_bytes(bytes.get(20..24)?.try_into().ok()?);
    let prev_distance = u16::from_le_bytes(bytes.get(24..26)?.try_into().ok()?);
    Some(Meta {
        at_micros,
        offset,
        len,
        peer,
        prev_distance,
        kind: *bytes.get(26)?,
        flags: *bytes.get(27)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of `count` entries of `len` bytes each, from `fill(entry, byte)`.
    fn chunk(count: usize, len: usize, fill: impl Fn(usize, usize) -> u8) -> (Vec<Meta>, BytesMut) {
        let mut data = BytesMut::with_capacity(count * len);
        let index = (0..count)
            .map(|e| {
                let offset = data.len() as u64;
                data.extend((0..len).map(|b| fill(e, b)));
                Meta {
                    at_micros: 1_700_000_000_000_000 + e as i64,
                    offset,
                    len: len as u32,
                    peer: (e % 3) as u32,
                    prev_distance: (e % 2) as u16,
                    kind: (e % 4) as u8,
                    flags: (e % 5) as u8,
                }
            })
            .collect();
        (index, data)
    }

    /// Bytes that do not compress (splitmix64 of the entry and position).
    fn noise(e: usize, b: usize) -> u8 {
        let mut z = ((e << 32) as u64 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u8
    }

    fn text(e: usize, b: usize) -> u8 {
        format!("{e:06} temp=21.{} OK\r\n", e % 10).as_bytes()[b % 20]
    }

    fn store(base: &Path) -> (Arc<SpillDir>, SegmentStore) {
        let dir = Arc::new(SpillDir::open(base).unwrap());
        let store = SegmentStore::new(SpillConfig {
            dir: Arc::clone(&dir),
            quota_bytes: u64::MAX,
        });
        (dir, store)
    }

    /// The form field of segment file `file`.
    fn form_of(store: &SegmentStore, file: u64) -> u64 {
        let bytes = fs::read(store.segment_path(file)).unwrap();
        u64::from_le_bytes(bytes[40..48].try_into().unwrap())
    }

    #[test]
    fn compressible_segments_are_packed_and_the_rest_stored_raw_both_read_back_exactly() {
        let base = tempfile::tempdir().unwrap();
        let (_dir, mut store) = store(base.path());
        let chunks = [
            chunk(64, 4096, text),
            chunk(64, 4096, noise),
            chunk(1, 0, noise),
            chunk(1000, 3, |e, b| (e + b) as u8),
        ];
        let mut start = 0;
        for (n, (index, data)) in chunks.iter().enumerate() {
            let seq = n as u64 * 10_000;
            store
                .push(seq, start, index.clone(), data.clone())
                .ok()
                .unwrap();
            start += data.len() as u64;
        }
        store.flush();
        assert_eq!(form_of(&store, 0), LZ4, "text lines compress");
        assert_eq!(form_of(&store, 1), RAW, "noise does not");
        let packed = fs::metadata(store.segment_path(0)).unwrap().len();
        assert!(packed < 64 * 4096 / 4, "{packed} bytes on disk");
        assert!(
            store.disk_bytes() < (2 * 64 * 4096 + 1000 * 31) as u64,
            "the quota counts what was written: {}",
            store.disk_bytes()
        );
        let mut start = 0;
        for (n, (index, data)) in chunks.iter().enumerate() {
            for (e, meta) in index.iter().enumerate() {
                let seq = n as u64 * 10_000 + e as u64;
                let back = store.meta(seq).unwrap();
                assert_eq!(format!("{back:?}"), format!("{meta:?}"), "seq {seq}");
                let offset = start + meta.offset;
                let bytes = store.slice(offset, meta.len).unwrap();
                let at = meta.offset as usize;
                assert_eq!(bytes, &data[at..at + meta.len as usize], "seq {seq}");
            }
            start += data.len() as u64;
        }
    }

    /// Segments being written are counted at their raw size until written; a quota with room
    /// for what is written must not drop older segments because of that reservation.
    #[test]
    fn segments_being_written_do_not_push_written_ones_past_the_quota() {
        let base = tempfile::tempdir().unwrap();
        let (_dir, mut store) = store(base.path());
        let segment = HEADER_BYTES as u64 + 64 * RECORD_BYTES as u64 + 64 * 65536;
        store.set_quota(3 * segment);
        // Made first, so they are handed over faster than the writer writes them.
        let chunks: Vec<_> = (0..20).map(|_| chunk(64, 65536, |e, _| e as u8)).collect();
        let mut start = 0;
        for (n, (index, data)) in chunks.into_iter().enumerate() {
            let len = data.len() as u64;
            store.push(n as u64 * 64, start, index, data).ok().unwrap();
            start += len;
        }
        store.flush();
        assert_eq!(store.take_lost(), Lost::default());
        assert_eq!(store.len(), 20 * 64);
        assert!(store.disk_bytes() < segment, "{}", store.disk_bytes());
        assert_eq!(store.slice(19 * 64 * 65536 + 65536, 1), Some(&[1u8][..]));
    }

    /// A writer stuck on its first file (a FIFO nobody reads yet) leaves the log behind once
    /// more than [`MAX_PENDING`] segments wait, without the push waiting; once the writer
    /// goes on, the log catches up.
    #[cfg(unix)]
    #[test]
    fn the_log_is_behind_while_its_writer_is_stuck_and_catches_up() {
        let base = tempfile::tempdir().unwrap();
        let (_dir, mut store) = store(base.path());
        fs::create_dir_all(store.log_dir()).unwrap();
        let fifo = store.segment_path(0);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Should a push wait for the stuck writer, this frees it after a while, so the test
        // fails (the assertions below) instead of hanging.
        let watchdog = fifo.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(30));
            fs::read(watchdog).ok();
        });
        for n in 0..=MAX_PENDING as u64 {
            assert!(!store.behind(), "{n} segments waiting");
            let (index, data) = chunk(16, 4096, text);
            store.push(n * 16, n * 16 * 4096, index, data).ok().unwrap();
        }
        assert!(store.behind(), "{} segments waiting", MAX_PENDING + 1);
        // The writer opens the FIFO for writing once a reader opens it.
        let reader = std::thread::spawn(move || fs::read(&fifo).unwrap().len());
        store.flush();
        assert!(!store.behind());
        assert!(
            reader.join().unwrap() > 0,
            "the first segment went through the FIFO"
        );
        let last = MAX_PENDING as u64 * 16 * 4096;
        assert_eq!(store.slice(last, 8).unwrap(), &chunk(16, 4096, text).1[..8]);
    }

    #[test]
    fn a_damaged_segment_is_not_served() {
        let base = tempfile::tempdir().unwrap();
        let (_dir, mut store) = store(base.path());
        let segment = 64 * 4096;
        for n in 0..5 {
            let (index, data) = chunk(64, 4096, text);
            store.push(n * 64, n * segment, index, data).ok().unwrap();
        }
        store.flush();
        let damage = |file: u64, change: &dyn Fn(&mut Vec<u8>)| {
            let path = store.segment_path(file);
            let mut bytes = fs::read(&path).unwrap();
            change(&mut bytes);
            fs::write(&path, &bytes).unwrap();
        };
        damage(0, &|b| b.truncate(b.len() / 2));
        damage(1, &|b| b[32] ^= 0x40); // the number of payload blocks
        damage(2, &|b| b[HEADER_BYTES + 8] ^= 0x01); // a block's raw length in the table
        damage(3, &|b| b[0] = b'X');
        for n in 0..4 {
            assert!(store.slice(n * segment + 100, 10).is_none(), "segment {n}");
            assert!(store.meta(n * 64 + 1).is_none(), "segment {n}");
        }
        assert_eq!(store.mapped_count(), 0);
        // Compressed bytes scrambled: never a panic (what they decode to is not checked).
        damage(4, &|b| {
            let end = b.len();
            for x in &mut b[end - 2000..] {
                *x = x.wrapping_mul(13).wrapping_add(7);
            }
        });
        for at in (0..segment).step_by(4096) {
            let _ = store.slice(4 * segment + at, 4096);
        }
    }

    #[test]
    fn payload_blocks_end_where_an_entry_starts() {
        let (index, data) = chunk(100, 5000, text);
        let mut cuts = Vec::new();
        payload_cuts(1000, &shifted(&index, 1000), data.len(), &mut cuts);
        assert_eq!(cuts.last(), Some(&data.len()));
        for pair in cuts.windows(2) {
            assert!(pair[1] - pair[0] >= PAYLOAD_BLOCK_BYTES || pair[1] == data.len());
        }
        for &cut in &cuts[..cuts.len() - 1] {
            assert_eq!(cut % 5000, 0, "{cut} is an entry's start");
        }
        // One entry larger than a block is one block.
        let (index, data) = chunk(3, 200_000, text);
        payload_cuts(0, &index, data.len(), &mut cuts);
        assert_eq!(cuts, [200_000, 400_000, 600_000]);
    }

    fn shifted(index: &[Meta], by: u64) -> Vec<Meta> {
        index
            .iter()
            .map(|m| Meta {
                offset: m.offset + by,
                ..*m
            })
            .collect()
    }
}
