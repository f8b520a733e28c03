//! A session log's spill to disk: the chunks the memory bound evicts are written, with their
//! own index records, as segment files in a directory of the log's own, and served from there
//! (memory-mapped) for as long as the disk quota keeps them. Memory keeps one summary per
//! segment (first sequence number, entry count, offsets, time range), so a log of many
//! gigabytes of one-byte reads costs a few hundred bytes a segment, not 28 bytes an entry.
//!
//! Writing never blocks the window's frame: a writer thread of the log's own writes each
//! segment while the log serves it from the buffer it was evicted with; once written, the
//! buffer comes back for the next chunk and the entries are read from the file. Reaching the
//! quota drops the oldest segment (counted, as the memory bound's eviction is); a write that
//! fails (disk full) drops the segment and every older one, so what the log holds stays one
//! unbroken run, and leaves a [`SpillProblem`] for the session to tell the user.

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

/// A segment file starts with this, then the entry count (u64, little-endian).
const MAGIC: &[u8; 8] = b"SDBGSEG1";
/// Bytes before a segment's index records.
const HEADER_BYTES: usize = 16;
/// Bytes of one index record on disk (the fields of [`Meta`], little-endian).
const RECORD_BYTES: usize = 28;
/// Segments handed to the writer and not written yet, at most: past this the log waits for
/// the disk (a disk slower than the traffic slows the intake rather than losing entries).
/// 32 MiB: enough to ride out the page cache's stalls (writes of 4 MiB took from under 1 ms
/// to tens of ms on the test machine).
const MAX_PENDING: usize = 8;
/// Written segments kept mapped between two [`SegmentStore::trim`]s: what the view shows
/// and what a search is scanning, so the pages they keep resident stay bounded.
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
    /// On disk; mapped when first read, unmapped by [`SegmentStore::trim`].
    Written { map: OnceLock<Option<Mmap>> },
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
    result: io::Result<()>,
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
    disk_bytes: u64,
    next_file: u64,
    writer: Option<Writer>,
    spare: Vec<BytesMut>,
    tick: AtomicU64,
    mapped: AtomicUsize,
    lost: Lost,
    problem: Option<SpillProblem>,
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
            disk_bytes: 0,
            next_file: 0,
            writer: None,
            spare: Vec::new(),
            tick: AtomicU64::new(0),
            mapped: AtomicUsize::new(0),
            lost: Lost::default(),
            problem: None,
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

    /// Segments held (written or being written).
    pub(super) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Bytes of the segment files held (written or being written).
    pub(super) fn disk_bytes(&self) -> u64 {
        self.disk_bytes
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
        self.disk_bytes += file_bytes;
        while self.pending_count() > MAX_PENDING {
            if !self.wait_one() {
                break;
            }
        }
        Ok(())
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

    /// Drops the oldest segments until `more` bytes fit within the quota.
    fn make_room(&mut self, more: u64) {
        while self.disk_bytes.saturating_add(more) > self.quota_bytes {
            let Some(front) = self.segments.front() else {
                break;
            };
            if matches!(front.body, Body::Pending { .. }) && !self.wait_one() {
                // The writer is gone; the front segment was settled by `wait_one`.
                continue;
            }
            if self
                .segments
                .front()
                .is_some_and(|s| matches!(s.body, Body::Written { .. }))
            {
                self.drop_front();
            }
        }
    }

    /// Drops the oldest segment (counted as lost) and deletes its file.
    fn drop_front(&mut self) {
        let Some(segment) = self.segments.pop_front() else {
            return;
        };
        self.lost.entries += segment.count as u64;
        self.lost.bytes += segment.payload_bytes;
        self.entries -= segment.count as u64;
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
            Ok(()) => {
                let Some(segment) = self.segments.get_mut(at) else {
                    return;
                };
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
                // Keep what is held one unbroken run: the failed segment goes, and every
                // older one with it.
                let before = self.lost.entries;
                for _ in 0..=at {
                    self.drop_front();
                }
                let lost_entries = self.lost.entries - before;
                self.problem = Some(SpillProblem::WriteFailed {
                    cause: OsError::of(&error),
                    lost_entries,
                });
            }
        }
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

    /// The mapped file of a written segment (mapped now if it is not); `None` for a pending
    /// one, or when it cannot be mapped.
    fn map_of<'a>(&'a self, segment: &'a Segment) -> Option<&'a Mmap> {
        segment.used.store(
            self.tick.fetch_add(1, Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
        let Body::Written { map } = &segment.body else {
            return None;
        };
        map.get_or_init(|| {
            let file = File::open(self.segment_path(segment.file)).ok()?;
            // SAFETY: the file is this log's own, in a directory of this process's (locked,
            // see `SpillDir`), written once by the writer before it was marked written and
            // never changed after; it is unmapped before it is deleted. Another program
            // truncating it would fault this process, as with any mapped file.
            let map = unsafe { Mmap::map(&file) }.ok()?;
            let expected = HEADER_BYTES + segment.count * RECORD_BYTES;
            if map.len() < expected || map.get(..MAGIC.len()) != Some(&MAGIC[..]) {
                return None;
            }
            self.mapped.fetch_add(1, Ordering::Relaxed);
            Some(map)
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
                let map = self.map_of(segment)?;
                let at = HEADER_BYTES + i * RECORD_BYTES;
                decode_meta(map.get(at..at + RECORD_BYTES)?)
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
                let map = self.map_of(segment)?;
                let base = HEADER_BYTES + segment.count * RECORD_BYTES;
                map.get(base + start..base + end)
            }
        }
    }

    /// Unmaps the least recently read segments past [`MAX_MAPPED`], and takes the writer's
    /// answers; call between frames (a search's scan maps segment after segment).
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

    /// Segments mapped now.
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
            for job in jobs_rx {
                match job {
                    Job::Write {
                        file,
                        path,
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
                            write_segment(&path, &index, &data)
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
                            result: Ok(()),
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

fn write_segment(path: &Path, index: &[Meta], data: &[u8]) -> io::Result<()> {
    let mut out = Vec::with_capacity(HEADER_BYTES + index.len() * RECORD_BYTES);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(index.len() as u64).to_le_bytes());
    for meta in index {
        encode_meta(meta, &mut out);
    }
    let mut file = File::create(path)?;
    file.write_all(&out)?;
    // No sync: the file only has to outlive this process's reading of it, and a full disk
    // shows in the writes (file systems reserve the blocks then).
    file.write_all(data)
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
