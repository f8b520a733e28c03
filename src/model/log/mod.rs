//! The traffic log: every received and sent chunk, stored raw with its time, direction and
//! peer, plus notes (lifecycle, warnings, what the engine said) as typed [`LogNote`]s.
//! Payloads live in large arena chunks and each entry costs one 28-byte index record, so a
//! million entries stay cheap; a note's payload is its small serialized record, so notes share
//! the memory bound and are evicted with their chunk. A large read handed over as the only
//! owner of its buffer ([`TrafficLog::push_shared`]) becomes a chunk itself instead of being
//! copied, so a flood's bytes are copied once (kernel to buffer), as a plain receiver copies
//! them. Memory is bounded: when the limit is
//! passed, the oldest chunk and its entries are evicted, and what was evicted is counted.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::model::note::LogNote;
pub use crate::model::spill_dir::SpillDir;
use crate::relay::Leg;
use spill::SegmentStore;
pub use spill::{SpillConfig, SpillProblem};

mod spill;

/// Default memory bound of one session's log.
pub const DEFAULT_MAX_BYTES: usize = 512 * 1024 * 1024;

/// Size of one payload arena chunk; a larger payload gets a chunk of its own.
const CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Smallest payload taken over as a chunk of its own by [`TrafficLog::push_shared`]; smaller
/// ones are copied into the arena (their buffer would cost more than they hold).
const ADOPT_MIN_BYTES: usize = 64 * 1024;

/// How many bytes of the stream before an entry are given as decoding context.
pub const CONTEXT_BYTES: usize = 64;

/// Most earlier entries walked to gather context (one-byte reads, empty datagrams).
const CONTEXT_ENTRIES: usize = 256;

/// Bytes of one index record.
const META_BYTES: usize = std::mem::size_of::<Meta>();

/// Index records allocated first; the index then doubles.
const INDEX_FIRST_RECORDS: usize = 64;

/// What an entry records. A relay's peer is the client of a pair: its up chunks (client →
/// target) are filed as `Rx`, its down chunks (target → client) as `Tx`, so framing, search
/// and export treat the two directions as the two streams they are; views name them by
/// [`EntryKind::leg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Bytes received from a peer (a relay's: up, toward the target).
    Rx,
    /// Bytes sent to a peer (a relay's: down, toward the client).
    Tx,
    /// A lifecycle note (listening, connected, disconnected); payload is a [`LogNote`].
    Info,
    /// A problem (send failed, bind failed); payload is a [`LogNote`].
    Error,
}

impl EntryKind {
    fn code(self) -> u8 {
        match self {
            EntryKind::Rx => 0,
            EntryKind::Tx => 1,
            EntryKind::Info => 2,
            EntryKind::Error => 3,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            0 => EntryKind::Rx,
            1 => EntryKind::Tx,
            2 => EntryKind::Info,
            _ => EntryKind::Error,
        }
    }

    /// The entry kind a relay's direction is filed as.
    pub fn of_leg(leg: Leg) -> Self {
        match leg {
            Leg::Up => EntryKind::Rx,
            Leg::Down => EntryKind::Tx,
        }
    }

    /// The relay direction this traffic is, in a relay session's log.
    pub fn leg(self) -> Option<Leg> {
        match self {
            EntryKind::Rx => Some(Leg::Up),
            EntryKind::Tx => Some(Leg::Down),
            EntryKind::Info | EntryKind::Error => None,
        }
    }

    /// Whether the payload is traffic (as opposed to a note, whose payload is a [`LogNote`]).
    pub fn is_traffic(self) -> bool {
        matches!(self, EntryKind::Rx | EntryKind::Tx)
    }
}

/// Peer index meaning "no peer": a note about the whole session.
pub const NO_PEER: u32 = u32::MAX;

const FLAG_HAS_SUCCESSOR: u8 = 1;
/// On a note: the peer's streams (all the session's, for [`NO_PEER`]) end here.
const FLAG_ENDS_STREAMS: u8 = 2;
/// On a relay's traffic: the user injected these bytes (they were not forwarded).
const FLAG_INJECTED: u8 = 4;
/// On a relay's traffic: forwarded from the other side, a piece of a stream (not a send).
const FLAG_FORWARDED: u8 = 8;

/// One index record: 28 bytes (packed to 4-byte alignment, so no padding). Fields are
/// only ever copied out, never borrowed, as packed fields must be.
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
struct Meta {
    at_micros: i64,
    offset: u64,
    len: u32,
    peer: u32,
    /// Distance back to the previous entry of the same peer and direction; 0 if none or
    /// farther than `u16::MAX` entries (then the two are decoded independently).
    prev_distance: u16,
    kind: u8,
    flags: u8,
}

struct Chunk {
    start: u64,
    /// A `BytesMut` rather than a `Vec`: an adopted read is one already, and turning it
    /// into a `Vec` moves its bytes (onto themselves, but every one of them).
    data: BytesMut,
}

/// One entry, borrowed from the log.
#[derive(Clone, Copy, Debug)]
pub struct LogEntry<'a> {
    /// Sequence number: counts every entry ever pushed, evicted ones included.
    pub seq: u64,
    /// What it records.
    pub kind: EntryKind,
    /// The session's peer index, or [`NO_PEER`].
    pub peer: u32,
    /// Microseconds since the Unix epoch.
    pub at_micros: i64,
    /// The exact bytes (traffic) or the note's record (read it with [`LogEntry::note`]).
    pub bytes: &'a [u8],
    /// The tail of the previous entry of the same peer and direction, for decoding a
    /// character split across the two; empty when there is none.
    pub context: &'a [u8],
    /// Whether a later entry of the same peer and direction exists.
    pub has_successor: bool,
    /// A relay's bytes that the user injected rather than the other side sent.
    pub injected: bool,
    /// A relay's bytes forwarded from the other side: a piece of that side's stream, framed
    /// with the pieces before and after it (a send is framed on its own).
    pub forwarded: bool,
}

impl LogEntry<'_> {
    /// The note this entry records, if it is one.
    pub fn note(&self) -> Option<LogNote> {
        if self.kind.is_traffic() {
            return None;
        }
        LogNote::from_bytes(self.bytes)
    }
}

/// A bounded, append-only log of entries.
pub struct TrafficLog {
    chunks: VecDeque<Chunk>,
    entries: VecDeque<Meta>,
    /// Sequence number of the oldest entry in memory (`entries[0]`).
    first_seq: u64,
    next_offset: u64,
    max_bytes: usize,
    arena_bytes: usize,
    evicted_entries: u64,
    evicted_bytes: u64,
    last_of_stream: HashMap<(u32, u8), u64>,
    /// The older entries, on disk, when the log spills.
    spill: Option<Box<Spilled>>,
}

/// The spilled part of a log, and the flags set on its entries after they were spilled (a
/// stream's last entry learns it has a successor when the next read comes, maybe later).
struct Spilled {
    store: SegmentStore,
    late_flags: HashMap<u64, u8>,
}

impl Default for TrafficLog {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BYTES)
    }
}

impl TrafficLog {
    /// An empty log that holds at most about `max_bytes` (payload arena plus index).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            chunks: VecDeque::new(),
            entries: VecDeque::new(),
            first_seq: 0,
            next_offset: 0,
            max_bytes,
            arena_bytes: 0,
            evicted_entries: 0,
            evicted_bytes: 0,
            last_of_stream: HashMap::new(),
            spill: None,
        }
    }

    /// An empty log that holds about `max_bytes` in memory and spills what the bound
    /// evicts to disk, as `spill` says.
    pub fn with_spill(max_bytes: usize, spill: Option<SpillConfig>) -> Self {
        let mut log = Self::new(max_bytes);
        log.set_spill(spill);
        log
    }

    /// Starts spilling to disk, changes the quota, or stops (what was on disk is then
    /// dropped, counted as evicted).
    pub fn set_spill(&mut self, spill: Option<SpillConfig>) {
        match (spill, &mut self.spill) {
            (Some(config), Some(spilled))
                if Arc::ptr_eq(&config.dir, spilled.store.spill_dir()) =>
            {
                spilled.store.set_quota(config.quota_bytes);
                self.take_spill_losses();
            }
            (Some(config), _) => {
                self.drop_spill();
                self.spill = Some(Box::new(Spilled {
                    store: SegmentStore::new(config),
                    late_flags: HashMap::new(),
                }));
            }
            (None, _) => self.drop_spill(),
        }
    }

    fn drop_spill(&mut self) {
        if let Some(mut spilled) = self.spill.take() {
            spilled.store.clear();
            let lost = spilled.store.take_lost();
            self.evicted_entries += lost.entries;
            self.evicted_bytes += lost.bytes;
        }
        let first_seq = self.first_seq();
        self.last_of_stream.retain(|_, seq| *seq >= first_seq);
    }

    /// Counts what the disk dropped (quota, failed writes) as evicted.
    fn take_spill_losses(&mut self) {
        let Some(spilled) = &mut self.spill else {
            return;
        };
        let lost = spilled.store.take_lost();
        if lost.entries == 0 && lost.bytes == 0 {
            return;
        }
        self.evicted_entries += lost.entries;
        self.evicted_bytes += lost.bytes;
        let first_seq = spilled.store.first_seq().unwrap_or(self.first_seq);
        spilled.late_flags.retain(|seq, _| *seq >= first_seq);
        self.last_of_stream.retain(|_, seq| *seq >= first_seq);
    }

    /// Appends an entry; returns its sequence number. Evicts the oldest entries if the
    /// memory bound is passed (to disk, when the log spills).
    pub fn push(&mut self, kind: EntryKind, peer: u32, at: SystemTime, bytes: &[u8]) -> u64 {
        let offset = self.store(bytes);
        self.index(kind, peer, at, offset, bytes.len())
    }

    /// Appends an entry whose bytes arrive in a shared buffer; returns its sequence number.
    /// A large payload whose buffer nobody else holds becomes a chunk of the arena as it is,
    /// without a copy (its whole capacity counts toward the bound, and later small entries
    /// fill its unused tail); any other is copied as [`TrafficLog::push`] does. A log that
    /// spills to disk always copies: each chunk becomes a segment file, and reads' buffers
    /// would make many small ones, while the disk, not the copy, sets its pace.
    pub fn push_shared(&mut self, kind: EntryKind, peer: u32, at: SystemTime, data: Bytes) -> u64 {
        if data.len() < ADOPT_MIN_BYTES || self.spill.is_some() {
            return self.push(kind, peer, at, &data);
        }
        match data.try_into_mut() {
            Ok(buffer) => {
                let len = buffer.len();
                let offset = self.adopt(buffer);
                self.index(kind, peer, at, offset, len)
            }
            Err(data) => self.push(kind, peer, at, &data),
        }
    }

    /// Records the index entry of payload `offset..offset + len` just stored.
    fn index(
        &mut self,
        kind: EntryKind,
        peer: u32,
        at: SystemTime,
        offset: u64,
        len: usize,
    ) -> u64 {
        let seq = self.first_seq + self.entries.len() as u64;
        let stream = (peer, kind.code());
        let mut prev_distance = 0;
        let previous = kind
            .is_traffic()
            .then(|| self.last_of_stream.insert(stream, seq))
            .flatten();
        // Link the two only when the distance fits: a predecessor flagged as continued must
        // hand its unfinished character to this entry, or it would be shown by neither.
        if let Some(prev_seq) = previous
            && let Ok(distance) = u16::try_from(seq - prev_seq)
            && self.add_flags(prev_seq, FLAG_HAS_SUCCESSOR)
        {
            prev_distance = distance;
        }
        if self.entries.len() == self.entries.capacity() {
            // Grown by doubling, here rather than by `VecDeque`'s own policy, so that
            // `index_has_room` knows what the next growth costs.
            let grown = self.grown_index_records();
            self.entries.reserve_exact(grown - self.entries.len());
        }
        self.entries.push_back(Meta {
            at_micros: micros_since_epoch(at),
            offset,
            len: u32::try_from(len).unwrap_or(u32::MAX),
            peer,
            prev_distance,
            kind: kind.code(),
            flags: 0,
        });
        self.evict_to_bound();
        seq
    }

    /// Sets `flags` on entry `seq`; false when it is not held.
    fn add_flags(&mut self, seq: u64, flags: u8) -> bool {
        if let Some(meta) = self.meta_mut(seq) {
            meta.flags |= flags;
            return true;
        }
        let Some(spilled) = &mut self.spill else {
            return false;
        };
        if spilled.store.meta(seq).is_none() {
            return false;
        }
        *spilled.late_flags.entry(seq).or_default() |= flags;
        true
    }

    /// Marks a relay's traffic entry `seq`: injected by the user, or else forwarded from
    /// the other side.
    pub fn mark_relayed(&mut self, seq: u64, injected: bool) {
        self.add_flags(
            seq,
            if injected {
                FLAG_INJECTED
            } else {
                FLAG_FORWARDED
            },
        );
    }

    /// Appends a note about `peer` (or [`NO_PEER`]), filed as information or as a problem as
    /// the note says; returns its sequence number.
    pub fn push_note(&mut self, peer: u32, at: SystemTime, note: &LogNote) -> u64 {
        self.push(note.entry_kind(), peer, at, &note.to_bytes())
    }

    /// Appends a note after which no more bytes come on the peer's streams (all of the
    /// session's for [`NO_PEER`]): the peer disconnected, the session stopped. Views that
    /// wait for more bytes (framing) end there.
    pub fn push_stream_end(&mut self, peer: u32, at: SystemTime, note: &LogNote) -> u64 {
        let seq = self.push_note(peer, at, note);
        self.add_flags(seq, FLAG_ENDS_STREAMS);
        // No more bytes on those streams: nothing to link to (and a session that sees many
        // peers come and go keeps no entry per peer).
        if peer == NO_PEER {
            self.last_of_stream.clear();
        } else {
            for kind in [EntryKind::Rx, EntryKind::Tx] {
                self.last_of_stream.remove(&(peer, kind.code()));
            }
        }
        seq
    }

    /// The note with sequence number `seq`, if it is still held and is a note.
    pub fn note(&self, seq: u64) -> Option<LogNote> {
        self.get(seq)?.note()
    }

    /// Whether entry `seq` is a note that ends streams (see [`Self::push_stream_end`]).
    pub fn ends_streams(&self, seq: u64) -> bool {
        self.meta(seq)
            .is_some_and(|m| m.flags & FLAG_ENDS_STREAMS != 0)
    }

    /// The index's capacity after its next growth.
    fn grown_index_records(&self) -> usize {
        (self.entries.capacity() * 2).max(INDEX_FIRST_RECORDS)
    }

    /// Whether one more index record fits within the bound, with `more_arena` bytes of
    /// arena added: there is room in the index, or growing it stays within the bound.
    fn index_has_room(&self, more_arena: usize) -> bool {
        self.entries.len() < self.entries.capacity()
            || (self.arena_bytes)
                .saturating_add(more_arena)
                .saturating_add(self.grown_index_records().saturating_mul(META_BYTES))
                <= self.max_bytes
    }

    fn store(&mut self, bytes: &[u8]) -> u64 {
        // A chunk is full when its bytes are, or when the index of its entries is: many tiny
        // entries (one-byte reads, a scan's empty datagrams) cost more in index than in
        // payload, and the bound counts both.
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.data.capacity() - c.data.len() >= bytes.len())
            && self.index_has_room(0);
        if !fits {
            let capacity = CHUNK_BYTES.max(bytes.len());
            // Make room before allocating, and reuse an evicted chunk's buffer when it is
            // big enough: under a flood this keeps the arena's pages warm instead of
            // returning them to the OS and faulting fresh ones in.
            let mut recycled = None;
            while (self.memory_bytes().saturating_add(capacity) > self.max_bytes
                || !self.index_has_room(capacity))
                && !self.chunks.is_empty()
            {
                if let Some(data) = self.evict_front_chunk()
                    && data.capacity() >= capacity
                {
                    recycled = Some(data);
                }
            }
            if let Some(spilled) = &mut self.spill {
                spilled.store.poll();
                recycled = recycled.or_else(|| spilled.store.take_spare(capacity));
                self.take_spill_losses();
            }
            let data = match recycled {
                Some(mut data) => {
                    data.clear();
                    data
                }
                None => BytesMut::with_capacity(capacity),
            };
            self.arena_bytes += data.capacity();
            self.chunks.push_back(Chunk {
                start: self.next_offset,
                data,
            });
        }
        let offset = self.next_offset;
        if let Some(chunk) = self.chunks.back_mut() {
            chunk.data.extend_from_slice(bytes);
        }
        self.next_offset += bytes.len() as u64;
        offset
    }

    /// Makes `data` the newest chunk, as it is (in a log that does not spill); returns its
    /// offset. The chunk being filled
    /// before it is closed: if it is less than half full its unused capacity is given back,
    /// so interleaved small and large reads do not each leave a mostly empty chunk behind.
    fn adopt(&mut self, data: BytesMut) -> u64 {
        if let Some(filling) = self.chunks.back_mut()
            && filling.data.len() < filling.data.capacity() / 2
        {
            let before = filling.data.capacity();
            filling.data = BytesMut::from(&filling.data[..]);
            self.arena_bytes = self.arena_bytes - before + filling.data.capacity();
        }
        while (self.memory_bytes().saturating_add(data.capacity()) > self.max_bytes
            || !self.index_has_room(data.capacity()))
            && !self.chunks.is_empty()
        {
            self.evict_front_chunk();
        }
        let offset = self.next_offset;
        self.next_offset += data.len() as u64;
        self.arena_bytes += data.capacity();
        self.chunks.push_back(Chunk {
            start: offset,
            data,
        });
        offset
    }

    /// Evicts whole chunks while the log is over its bound (a payload of a chunk of its own).
    fn evict_to_bound(&mut self) {
        while self.memory_bytes() > self.max_bytes && self.chunks.len() > 1 {
            self.evict_front_chunk();
        }
    }

    /// Moves the oldest chunk and the entries stored in it out of memory: to disk when the
    /// log spills, else dropped (counted). Returns its buffer when it is free for reuse.
    fn evict_front_chunk(&mut self) -> Option<BytesMut> {
        let chunk = self.chunks.pop_front()?;
        self.arena_bytes -= chunk.data.capacity();
        let end = chunk.start + chunk.data.len() as u64;
        let count = self.entries.partition_point(|m| m.offset < end);
        let chunk_first_seq = self.first_seq;
        self.first_seq += count as u64;
        let Some(spilled) = &mut self.spill else {
            self.evicted_entries += count as u64;
            self.evicted_bytes += self
                .entries
                .drain(..count)
                .map(|m| u64::from(m.len))
                .sum::<u64>();
            self.forget_streams_before_first();
            return Some(chunk.data);
        };
        let index: Vec<Meta> = self.entries.drain(..count).collect();
        let result = spilled
            .store
            .push(chunk_first_seq, chunk.start, index, chunk.data);
        self.take_spill_losses();
        match result {
            Ok(()) => None,
            Err(refused) => {
                // Dropped as without a disk: what the disk held before it goes too, so the
                // log stays one unbroken run.
                if let Some(spilled) = &mut self.spill {
                    spilled.store.clear();
                    spilled.late_flags.clear();
                }
                self.take_spill_losses();
                self.count_evicted(&refused.index);
                Some(refused.data)
            }
        }
    }

    /// Counts `index`'s entries as evicted, and forgets streams whose last entry was one.
    fn count_evicted(&mut self, index: &[Meta]) {
        self.evicted_entries += index.len() as u64;
        self.evicted_bytes += index.iter().map(|m| u64::from(m.len)).sum::<u64>();
        self.forget_streams_before_first();
    }

    /// Forgets the streams whose last entry is no longer held: nothing left to link to.
    fn forget_streams_before_first(&mut self) {
        let first_seq = self.first_seq();
        self.last_of_stream.retain(|_, seq| *seq >= first_seq);
    }

    fn meta_mut(&mut self, seq: u64) -> Option<&mut Meta> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.entries.get_mut(index)
    }

    /// The index record of entry `seq`, in memory or on disk.
    fn meta(&self, seq: u64) -> Option<Meta> {
        match seq.checked_sub(self.first_seq) {
            Some(index) => self.entries.get(usize::try_from(index).ok()?).copied(),
            None => {
                let spilled = self.spill.as_ref()?;
                let mut meta = spilled.store.meta(seq)?;
                if let Some(flags) = spilled.late_flags.get(&seq) {
                    meta.flags |= flags;
                }
                Some(meta)
            }
        }
    }

    /// The bytes at `offset..offset + len`. Chunks are contiguous in offset space and an
    /// entry never straddles two, so one binary search finds it (in memory, else on disk).
    fn slice(&self, offset: u64, len: u32) -> &[u8] {
        if len == 0 {
            return &[];
        }
        let after = self.chunks.partition_point(|c| c.start <= offset);
        let Some(chunk) = after.checked_sub(1).and_then(|i| self.chunks.get(i)) else {
            return self
                .spill
                .as_ref()
                .and_then(|s| s.store.slice(offset, len))
                .unwrap_or(&[]);
        };
        let Ok(start) = usize::try_from(offset - chunk.start) else {
            return &[];
        };
        chunk.data.get(start..start + len as usize).unwrap_or(&[])
    }

    /// The entry with sequence number `seq`, if it is still held.
    pub fn get(&self, seq: u64) -> Option<LogEntry<'_>> {
        let meta = self.meta(seq)?;
        let bytes = self.slice(meta.offset, meta.len);
        let context = match meta.prev_distance {
            0 => &[][..],
            distance => match seq
                .checked_sub(u64::from(distance))
                .and_then(|prev| self.meta(prev))
            {
                Some(prev) => {
                    let tail = prev.len.min(CONTEXT_BYTES as u32);
                    self.slice(prev.offset + u64::from(prev.len - tail), tail)
                }
                None => &[][..],
            },
        };
        Some(LogEntry {
            seq,
            kind: EntryKind::from_code(meta.kind),
            peer: meta.peer,
            at_micros: meta.at_micros,
            bytes,
            context,
            has_successor: meta.flags & FLAG_HAS_SUCCESSOR != 0,
            injected: meta.flags & FLAG_INJECTED != 0,
            forwarded: meta.flags & FLAG_FORWARDED != 0,
        })
    }

    /// Up to `max` bytes of the stream (same peer and direction) just before entry `seq`,
    /// gathered over as many earlier entries as it takes (one-byte reads split characters
    /// over three or four of them), for decoding a character that started before it.
    pub fn stream_before(&self, seq: u64, max: usize) -> Cow<'_, [u8]> {
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut gathered = 0;
        let mut at = Some(seq);
        // Empty entries give no byte: bound the walk by entries as well as by bytes.
        for _ in 0..CONTEXT_ENTRIES {
            let Some(meta) = at.and_then(|s| self.meta(s)) else {
                break;
            };
            if gathered >= max || meta.prev_distance == 0 {
                break;
            }
            at = at.and_then(|s| s.checked_sub(u64::from(meta.prev_distance)));
            let Some(prev) = at.and_then(|s| self.meta(s)) else {
                break;
            };
            let take = (prev.len as usize).min(max - gathered);
            let offset = prev.offset + u64::from(prev.len) - take as u64;
            parts.push(self.slice(offset, u32::try_from(take).unwrap_or(0)));
            gathered += take;
        }
        match parts.as_slice() {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.iter().rev().flat_map(|p| p.iter().copied()).collect()),
        }
    }

    /// Up to `max` bytes of the stream just after entry `seq`, from the entries that follow
    /// it, for settling a character left unfinished at its end; empty when nothing follows.
    pub fn stream_after(&self, seq: u64, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = seq;
        while out.len() < max
            && self
                .meta(at)
                .is_some_and(|m| m.flags & FLAG_HAS_SUCCESSOR != 0)
        {
            // The successor links back to this entry, and does so only within u16::MAX.
            let next = (at + 1..=at + u64::from(u16::MAX)).find_map(|s| match self.meta(s) {
                None => Some((s, None)),
                Some(m) if m.prev_distance != 0 && s - u64::from(m.prev_distance) == at => {
                    Some((s, Some(m)))
                }
                Some(_) => None,
            });
            let Some((next_seq, Some(next_meta))) = next else {
                break;
            };
            let bytes = self.slice(next_meta.offset, next_meta.len);
            out.extend_from_slice(
                bytes
                    .get(..bytes.len().min(max - out.len()))
                    .unwrap_or_default(),
            );
            at = next_seq;
        }
        out
    }

    /// The entry at `index` among those held (0 is the oldest held).
    pub fn get_by_index(&self, index: usize) -> Option<LogEntry<'_>> {
        self.get(self.first_seq() + index as u64)
    }

    /// Number of entries held (in memory and on disk).
    pub fn len(&self) -> usize {
        self.entries.len() + usize::try_from(self.spilled_len()).unwrap_or(usize::MAX)
    }

    fn spilled_len(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.store.len())
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence number of the oldest entry held.
    pub fn first_seq(&self) -> u64 {
        self.first_seq - self.spilled_len()
    }

    /// Entries evicted to respect the memory bound (or the disk quota), or cleared.
    pub fn evicted_entries(&self) -> u64 {
        self.evicted_entries
    }

    /// Payload bytes evicted to respect the memory bound (or the disk quota), or cleared.
    pub fn evicted_bytes(&self) -> u64 {
        self.evicted_bytes
    }

    /// Memory held: arena capacity plus the index's capacity (28 bytes a record).
    pub fn memory_bytes(&self) -> usize {
        self.arena_bytes + self.entries.capacity() * META_BYTES
    }

    /// The memory bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// What the log holds on disk, when it spills.
    pub fn spill_status(&self) -> Option<SpillStatus> {
        let store = &self.spill.as_ref()?.store;
        Some(SpillStatus {
            entries: store.len(),
            payload_bytes: store.payload_bytes(),
            segments: store.segment_count(),
            disk_bytes: store.disk_bytes(),
            quota_bytes: store.quota_bytes(),
            mapped_segments: store.mapped_count(),
            dir: store.log_dir().to_path_buf(),
            disk_full: store.disk_full(),
        })
    }

    /// Whether the disk writer is behind this log's traffic: a taker of events that can wait
    /// (the window, until its next frame) should, before giving it more.
    pub fn spill_behind(&mut self) -> bool {
        self.spill.as_mut().is_some_and(|s| s.store.behind())
    }

    /// Waits until everything handed to the disk is written (or failed): for tests and
    /// benchmarks that read back what was spilled, and before a measurement.
    pub fn flush_spill(&mut self) {
        if let Some(spilled) = &mut self.spill {
            spilled.store.flush();
            self.take_spill_losses();
        }
    }

    /// The problem spilling met since the last call (a failed write), if any.
    pub fn take_spill_problem(&mut self) -> Option<SpillProblem> {
        self.spill.as_mut()?.store.take_problem()
    }

    /// Between frames: takes the disk writer's answers and unmaps the segments read least
    /// recently, so reading (a search's scan) through a large spilled log keeps few pages.
    pub fn maintain(&mut self) {
        if let Some(spilled) = &mut self.spill {
            spilled.store.trim();
            self.take_spill_losses();
        }
    }

    /// Drops every entry (counted as evicted) and frees the arena and the disk.
    pub fn clear(&mut self) {
        if let Some(spilled) = &mut self.spill {
            spilled.store.clear();
            spilled.late_flags.clear();
        }
        self.take_spill_losses();
        self.evicted_entries += self.entries.len() as u64;
        self.evicted_bytes += self.entries.iter().map(|m| u64::from(m.len)).sum::<u64>();
        self.first_seq += self.entries.len() as u64;
        self.entries = VecDeque::new();
        self.chunks.clear();
        self.arena_bytes = 0;
        self.last_of_stream.clear();
    }
}

/// What a spilling log holds on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpillStatus {
    /// Entries on disk.
    pub entries: u64,
    /// Their payload bytes (what arrived and was sent, notes' records).
    pub payload_bytes: u64,
    /// Segment files.
    pub segments: usize,
    /// The files' bytes (less than the payload's where they are compressed).
    pub disk_bytes: u64,
    /// The quota.
    pub quota_bytes: u64,
    /// Segments mapped into memory now (read recently).
    pub mapped_segments: usize,
    /// The log's directory of segment files.
    pub dir: std::path::PathBuf,
    /// The disk was found full: since then the log keeps what fits there, dropping its oldest
    /// entries to make room.
    pub disk_full: bool,
}

fn micros_since_epoch(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(log: &mut TrafficLog, kind: EntryKind, peer: u32, bytes: &[u8]) -> u64 {
        log.push(kind, peer, SystemTime::now(), bytes)
    }

    /// A buffer of `len` distinct bytes (`seed` varies them), in a `Bytes` of its own.
    fn read_of(len: usize, seed: u8) -> Bytes {
        Bytes::from(
            (0..len)
                .map(|i| (i % 251) as u8 ^ seed)
                .collect::<Vec<u8>>(),
        )
    }

    #[test]
    fn a_large_read_nobody_else_holds_is_kept_without_a_copy() {
        let mut log = TrafficLog::default();
        let data = read_of(200 * 1024, 7);
        let expected = data.to_vec();
        let address = data.as_ptr();
        let seq = log.push_shared(EntryKind::Rx, 0, SystemTime::now(), data);
        let entry = log.get(seq).expect("held");
        assert_eq!(entry.bytes, &expected[..]);
        assert_eq!(
            entry.bytes.as_ptr(),
            address,
            "the buffer itself is the chunk"
        );
    }

    #[test]
    fn a_read_someone_else_still_holds_or_a_small_one_is_copied() {
        let mut log = TrafficLog::default();
        let data = read_of(200 * 1024, 3);
        let held_elsewhere = data.clone();
        let seq = log.push_shared(EntryKind::Rx, 0, SystemTime::now(), data);
        let entry = log.get(seq).expect("held");
        assert_eq!(entry.bytes, &held_elsewhere[..]);
        assert_ne!(entry.bytes.as_ptr(), held_elsewhere.as_ptr());
        let small = read_of(100, 9);
        let address = small.as_ptr();
        let seq = log.push_shared(EntryKind::Rx, 0, SystemTime::now(), small.clone());
        drop(small);
        assert_ne!(log.get(seq).expect("held").bytes.as_ptr(), address);
    }

    /// Small and large reads interleaved, past the bound many times over: every entry held
    /// reads back exactly (small ones fill an adopted chunk's unused tail, context crosses
    /// from one chunk to the next), eviction counts what went, and mostly empty chunks do
    /// not eat the bound.
    #[test]
    fn interleaved_small_and_adopted_reads_stay_exact_and_bounded() {
        let max = 8 * CHUNK_BYTES;
        let mut log = TrafficLog::new(max);
        let mut expected = Vec::new();
        let mut pushed_bytes = 0u64;
        for i in 0..2_000u32 {
            let seed = (i % 256) as u8;
            let len = match i % 3 {
                0 => 70 * 1024 + i as usize,
                1 => 1 + (i as usize % 40),
                _ => 150 * 1024,
            };
            // The large ones in a buffer with spare room, as the engine's reads come.
            let mut buffer = BytesMut::with_capacity(256 * 1024);
            buffer.extend_from_slice(&read_of(len, seed));
            let data = buffer.freeze();
            expected.push(data.to_vec());
            pushed_bytes += len as u64;
            log.push_shared(EntryKind::Rx, i % 2, SystemTime::now(), data);
            assert!(log.memory_bytes() <= max, "{} > {max}", log.memory_bytes());
        }
        assert!(log.evicted_entries() > 0);
        let held: u64 = (0..log.len())
            .filter_map(|i| log.get_by_index(i))
            .map(|e| e.bytes.len() as u64)
            .sum();
        assert_eq!(held + log.evicted_bytes(), pushed_bytes);
        assert!(
            held * 2 >= max as u64,
            "only {held} bytes held under a bound of {max}"
        );
        for index in 0..log.len() {
            let entry = log.get_by_index(index).expect("held");
            let pushed = &expected[entry.seq as usize];
            assert_eq!(entry.bytes, &pushed[..], "entry {}", entry.seq);
            if entry.seq >= 2 && log.get(entry.seq - 2).is_some() {
                let before = &expected[entry.seq as usize - 2];
                let tail = before.len().min(CONTEXT_BYTES);
                assert_eq!(entry.context, &before[before.len() - tail..]);
            }
        }
    }

    #[test]
    fn nothing_is_kept_per_stream_once_it_ended_or_was_evicted() {
        let mut log = TrafficLog::new(DEFAULT_MAX_BYTES);
        let gone = LogNote::PeerDisconnected(crate::protocol::CloseReason::ClosedByPeer);
        for peer in 0..10_000 {
            push(&mut log, EntryKind::Rx, peer, b"in");
            push(&mut log, EntryKind::Tx, peer, b"out");
            log.push_stream_end(peer, SystemTime::now(), &gone);
        }
        assert!(
            log.last_of_stream.is_empty(),
            "{}",
            log.last_of_stream.len()
        );
        // Streams that never end (UDP sources) are dropped with their last entry.
        let mut log = TrafficLog::new(2 * CHUNK_BYTES);
        for peer in 0..10_000 {
            push(&mut log, EntryKind::Rx, peer, &[0; 1024]);
        }
        assert!(log.evicted_entries() > 0);
        assert_eq!(log.last_of_stream.len(), log.len());
    }

    #[test]
    fn index_record_is_28_bytes() {
        assert_eq!(std::mem::size_of::<Meta>(), 28);
    }

    #[test]
    fn stores_and_returns_exact_bytes() {
        let mut log = TrafficLog::default();
        let a = push(&mut log, EntryKind::Rx, 0, b"hello");
        let b = push(&mut log, EntryKind::Tx, 0, &[0, 0xff, 0x10]);
        let c = push(&mut log, EntryKind::Info, NO_PEER, b"listening");
        let e = push(&mut log, EntryKind::Rx, 1, b"");
        assert_eq!((a, b, c, e), (0, 1, 2, 3));
        assert_eq!(log.get(0).map(|e| e.bytes), Some(&b"hello"[..]));
        assert_eq!(log.get(1).map(|e| e.bytes), Some(&[0, 0xff, 0x10][..]));
        assert_eq!(log.get(2).map(|e| e.kind), Some(EntryKind::Info));
        assert_eq!(log.get(3).map(|e| e.bytes.len()), Some(0));
        assert!(log.get(4).is_none());
        assert_eq!(log.len(), 4);
    }

    #[test]
    fn links_entries_of_the_same_stream_for_decoding_context() {
        let mut log = TrafficLog::default();
        push(&mut log, EntryKind::Rx, 0, &[b'a', 0xe4, 0xb8]);
        push(&mut log, EntryKind::Rx, 1, b"other peer");
        push(&mut log, EntryKind::Tx, 0, b"sent");
        push(&mut log, EntryKind::Rx, 0, &[0xad]);
        let first = log.get(0).expect("held");
        assert!(first.has_successor);
        assert!(first.context.is_empty());
        let last = log.get(3).expect("held");
        assert_eq!(last.context, &[b'a', 0xe4, 0xb8]);
        assert!(!last.has_successor);
        assert!(log.get(2).expect("held").context.is_empty());
    }

    #[test]
    fn the_stream_around_an_entry_spans_short_reads() {
        let mut log = TrafficLog::default();
        for (peer, bytes) in [
            (0, &b"ab"[..]),
            (1, b"other"),
            (0, b"\xe4"),
            (0, b""),
            (0, b"\xb8"),
            (1, b"more"),
            (0, b"\xadcd"),
        ] {
            push(&mut log, EntryKind::Rx, peer, bytes);
        }
        assert_eq!(&*log.stream_before(6, 64), b"ab\xe4\xb8");
        assert_eq!(&*log.stream_before(6, 2), b"\xe4\xb8");
        assert_eq!(&*log.stream_before(0, 64), b"");
        assert_eq!(log.stream_after(2, 4), b"\xb8\xadcd");
        assert_eq!(log.stream_after(0, 2), b"\xe4\xb8");
        assert_eq!(log.stream_after(6, 4), b"");
        assert_eq!(log.stream_after(1, 4), b"more");
    }

    #[test]
    fn context_is_the_tail_of_a_long_previous_entry() {
        let mut log = TrafficLog::default();
        let long: Vec<u8> = (0..200u8).collect();
        push(&mut log, EntryKind::Rx, 0, &long);
        push(&mut log, EntryKind::Rx, 0, b"x");
        assert_eq!(
            log.get(1).expect("held").context,
            &long[200 - CONTEXT_BYTES..]
        );
    }

    #[test]
    fn evicts_oldest_chunks_when_over_the_bound_and_counts_them() {
        let max = 3 * CHUNK_BYTES;
        let mut log = TrafficLog::new(max);
        let payload = vec![7u8; 64 * 1024];
        let total = 200u64;
        for i in 0..total {
            let mut p = payload.clone();
            p[0] = (i % 251) as u8;
            push(&mut log, EntryKind::Rx, 0, &p);
        }
        assert!(log.memory_bytes() <= max, "{} > {max}", log.memory_bytes());
        assert!(log.evicted_entries() > 0);
        assert_eq!(log.evicted_entries() + log.len() as u64, total);
        assert_eq!(log.first_seq(), log.evicted_entries());
        for seq in log.first_seq()..total {
            let entry = log.get(seq).expect("held");
            assert_eq!(entry.bytes.len(), payload.len());
            assert_eq!(entry.bytes[0], (seq % 251) as u8, "seq {seq}");
        }
        assert!(log.get(0).is_none());
    }

    /// One-byte entries cost 28 bytes of index each: a log of them must stay within its
    /// bound by what its index allocates, not fill its 4 MiB chunk (4 million entries,
    /// 112 MiB of index for an 8 MiB bound).
    #[test]
    fn an_index_of_tiny_entries_stays_within_the_bound() {
        let max = 2 * CHUNK_BYTES;
        let mut log = TrafficLog::new(max);
        let total = 1_000_000u64;
        let mut most = 0;
        for i in 0..total {
            push(&mut log, EntryKind::Rx, (i % 3) as u32, &[(i % 251) as u8]);
            most = most.max(log.arena_bytes + log.entries.capacity() * size_of::<Meta>());
        }
        assert!(most <= max, "{most} bytes held, bound {max}");
        assert_eq!(
            log.memory_bytes(),
            log.arena_bytes + log.entries.capacity() * size_of::<Meta>()
        );
        assert!(log.evicted_entries() > 0, "the bound was reached");
        assert_eq!(log.evicted_entries() + log.len() as u64, total);
        for seq in log.first_seq()..total {
            let entry = log.get(seq).expect("held");
            assert_eq!(entry.bytes, [(seq % 251) as u8], "seq {seq}");
        }
    }

    #[test]
    fn huge_payload_gets_its_own_chunk() {
        let mut log = TrafficLog::default();
        push(&mut log, EntryKind::Rx, 0, b"small");
        let big = vec![1u8; CHUNK_BYTES * 2 + 5];
        push(&mut log, EntryKind::Rx, 0, &big);
        push(&mut log, EntryKind::Rx, 0, b"after");
        assert_eq!(log.get(0).expect("held").bytes, b"small");
        assert_eq!(log.get(1).expect("held").bytes, &big[..]);
        assert_eq!(log.get(2).expect("held").bytes, b"after");
    }

    #[test]
    fn clear_counts_what_was_dropped() {
        let mut log = TrafficLog::default();
        push(&mut log, EntryKind::Rx, 0, b"abc");
        push(&mut log, EntryKind::Rx, 0, b"de");
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.evicted_entries(), 2);
        assert_eq!(log.evicted_bytes(), 5);
        let seq = push(&mut log, EntryKind::Rx, 0, b"new");
        assert_eq!(seq, 2);
        assert_eq!(log.get(2).expect("held").bytes, b"new");
        assert!(log.get(2).expect("held").context.is_empty());
    }
}
