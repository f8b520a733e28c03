//! The framed view of a session's log: messages instead of reads. The log keeps every read
//! as it came (never altered); this view runs a [`Decoder`] over each stream (one peer, one
//! direction) of the log's entries, in order, and keeps only where each frame starts and ends
//! (entry sequence number and offset), never a copy of the bytes. Changing the framing
//! rebuilds it from the entries still held; new entries are framed as they come, a bounded
//! number per call, so one frame of the window never frames the whole history at once.
//!
//! Notes (lifecycle and errors) appear as rows of their own, in order. Rows whose first byte
//! was evicted from the log are dropped from the front.

use std::collections::{HashMap, VecDeque};

use crate::codec::framing::{Decoder, Framing, FramingError, Unit, UnitKind};
use crate::model::log::{EntryKind, NO_PEER, TrafficLog};

/// One row of the framed view: a frame, bytes skipped while resynchronizing, or a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameRow {
    /// Rx, Tx, Info or Error.
    pub kind: EntryKind,
    /// The session's peer index (as in the log).
    pub peer: u32,
    /// The entry holding the first byte (the note itself, for notes).
    pub start_seq: u64,
    /// Offset of the first byte in that entry.
    pub start_offset: u32,
    /// The entry holding the last byte; the frame is complete from this entry's time on.
    pub end_seq: u64,
    /// Time of `end_seq`, in microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Bytes of the payload (without a stripped delimiter).
    pub payload_len: u64,
    /// How many log entries (reads) the frame spans.
    pub reads: u32,
    /// Set when these bytes were skipped: why (boxed: rare, and rows must stay small).
    pub invalid: Option<Box<FramingError>>,
}

/// Bytes before a frame given as decoding context (as the log gives for reads).
const CONTEXT_BYTES: usize = 64;

/// Most rows a view holds; older ones are dropped (and counted) past it, so tiny frames in a
/// full log cannot take more memory than the log itself.
pub const MAX_ROWS: usize = 4_000_000;

#[derive(Debug)]
struct Stream {
    decoder: Decoder,
    /// Entries overlapping the pending unit: (stream offset of their first byte, seq, time).
    pieces: VecDeque<(u64, u64, i64)>,
}

/// Frames of one session's log under one framing. See the module docs.
#[derive(Debug)]
pub struct FramedView {
    framing: Framing,
    streams: HashMap<(u32, EntryKind), Stream>,
    rows: VecDeque<FrameRow>,
    /// Id of `rows[0]`; ids count every row ever made, like log sequence numbers.
    first_row: u64,
    /// The next log entry to frame.
    next_seq: u64,
    /// Rows dropped from the front (evicted log entries, or past [`MAX_ROWS`]).
    dropped_rows: u64,
    units: Vec<Unit>,
}

impl FramedView {
    /// An empty view; [`Self::sync`] fills it from a log.
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            streams: HashMap::new(),
            rows: VecDeque::new(),
            first_row: 0,
            next_seq: 0,
            dropped_rows: 0,
            units: Vec::new(),
        }
    }

    /// The framing it applies.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Id of the first row held.
    pub fn first_row(&self) -> u64 {
        self.first_row
    }

    /// Rows dropped from the front: their bytes were evicted from the log, or the view held
    /// [`MAX_ROWS`].
    pub fn dropped_rows(&self) -> u64 {
        self.dropped_rows
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row with id `id`.
    pub fn get(&self, id: u64) -> Option<&FrameRow> {
        let index = usize::try_from(id.checked_sub(self.first_row)?).ok()?;
        self.rows.get(index)
    }

    /// Bytes received or sent but not yet in a complete frame, over all streams.
    pub fn pending_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.decoder.pending()).sum()
    }

    /// Log entries not framed yet (the view is catching up when this is not zero).
    pub fn backlog(&self, log: &TrafficLog) -> u64 {
        (log.first_seq() + log.len() as u64).saturating_sub(self.next_seq.max(log.first_seq()))
    }

    /// Frames at most `budget` new log entries, ends idle frames whose silence has passed at
    /// `now_micros`, and drops rows whose bytes the log evicted. Returns whether it caught up.
    pub fn sync(&mut self, log: &TrafficLog, now_micros: i64, budget: usize) -> bool {
        if self.next_seq < log.first_seq() {
            // Entries were evicted (or cleared) before being framed: start over from what is
            // held, so no frame claims bytes that are gone.
            self.next_seq = log.first_seq();
            self.streams.clear();
        }
        let end = log.first_seq() + log.len() as u64;
        let stop = end.min(self.next_seq.saturating_add(budget as u64));
        while self.next_seq < stop {
            let seq = self.next_seq;
            self.next_seq += 1;
            let Some(entry) = log.get(seq) else {
                continue;
            };
            if !entry.kind.is_traffic() {
                // A note about a peer (disconnected) or the session (stopped): no more bytes
                // will come on those streams, so an idle frame in progress is complete now,
                // and shows before the note.
                for (key, stream) in &mut self.streams {
                    if key.0 == entry.peer || entry.peer == NO_PEER {
                        self.units.clear();
                        stream.decoder.flush_idle(i64::MAX, &mut self.units);
                        Self::emit(&mut self.rows, stream, *key, &mut self.units);
                    }
                }
                self.rows.push_back(FrameRow {
                    kind: entry.kind,
                    peer: entry.peer,
                    start_seq: seq,
                    start_offset: 0,
                    end_seq: seq,
                    at_micros: entry.at_micros,
                    payload_len: entry.bytes.len() as u64,
                    reads: 1,
                    invalid: None,
                });
                continue;
            }
            let key = (entry.peer, entry.kind);
            let framing = &self.framing;
            let stream = self.streams.entry(key).or_insert_with(|| Stream {
                decoder: Decoder::new(framing.clone()),
                pieces: VecDeque::new(),
            });
            self.units.clear();
            // Idle: silence before this read ends the pending frame at its own time.
            stream.decoder.flush_idle(entry.at_micros, &mut self.units);
            Self::emit(&mut self.rows, stream, key, &mut self.units);
            stream
                .pieces
                .push_back((stream.decoder.position(), seq, entry.at_micros));
            stream
                .decoder
                .push(entry.bytes, entry.at_micros, &mut self.units);
            Self::emit(&mut self.rows, stream, key, &mut self.units);
        }
        for (key, stream) in &mut self.streams {
            self.units.clear();
            stream.decoder.flush_idle(now_micros, &mut self.units);
            Self::emit(&mut self.rows, stream, *key, &mut self.units);
        }
        while self
            .rows
            .front()
            .is_some_and(|row| row.start_seq < log.first_seq())
            || self.rows.len() > MAX_ROWS
        {
            self.rows.pop_front();
            self.first_row += 1;
            self.dropped_rows += 1;
        }
        self.next_seq >= end
    }

    /// Turns units into rows, and forgets entries before the pending unit.
    fn emit(
        rows: &mut VecDeque<FrameRow>,
        stream: &mut Stream,
        (peer, kind): (u32, EntryKind),
        units: &mut Vec<Unit>,
    ) {
        for unit in units.drain(..) {
            let locate = |offset: u64| {
                let index = stream
                    .pieces
                    .partition_point(|(start, _, _)| *start <= offset)
                    .saturating_sub(1);
                stream.pieces.get(index).copied().map(|p| (index, p))
            };
            let Some((first_index, (first_start, start_seq, _))) = locate(unit.start) else {
                continue;
            };
            let last_byte = unit.end.saturating_sub(1).max(unit.start);
            let (last_index, (_, end_seq, at_micros)) =
                locate(last_byte).unwrap_or((first_index, (first_start, start_seq, 0)));
            rows.push_back(FrameRow {
                kind,
                peer,
                start_seq,
                start_offset: u32::try_from(unit.start - first_start).unwrap_or(u32::MAX),
                end_seq,
                at_micros,
                payload_len: unit.payload_end() - unit.start,
                reads: u32::try_from(last_index - first_index + 1).unwrap_or(u32::MAX),
                invalid: match unit.kind {
                    UnitKind::Invalid(reason) => Some(Box::new(reason)),
                    UnitKind::Frame { .. } => None,
                },
            });
        }
        // Keep the piece holding the pending unit's first byte and those after it.
        let pending_start = stream.decoder.position() - stream.decoder.pending();
        while stream.pieces.len() > 1
            && stream
                .pieces
                .get(1)
                .is_some_and(|(start, _, _)| *start <= pending_start)
        {
            stream.pieces.pop_front();
        }
    }

    /// The bytes just before a frame in its stream (within its first read, else the tail of
    /// the read before), so a character split across two frames decodes whole.
    pub fn row_context<'a>(&self, log: &'a TrafficLog, row: &FrameRow) -> &'a [u8] {
        if !row.kind.is_traffic() {
            return &[];
        }
        let Some(entry) = log.get(row.start_seq) else {
            return &[];
        };
        let offset = row.start_offset as usize;
        if offset == 0 {
            return entry.context;
        }
        let from = offset.saturating_sub(CONTEXT_BYTES);
        entry.bytes.get(from..offset).unwrap_or_default()
    }

    /// Whether the stream has bytes after the frame's payload (so a character cut at its end
    /// may finish there).
    pub fn row_has_successor(&self, log: &TrafficLog, row: &FrameRow) -> bool {
        if !row.kind.is_traffic() {
            return false;
        }
        let Some(last) = log.get(row.end_seq) else {
            return false;
        };
        if last.has_successor {
            return true;
        }
        let mut through_last = 0u64;
        for seq in row.start_seq..=row.end_seq {
            if let Some(e) = log.get(seq)
                && e.peer == row.peer
                && e.kind == row.kind
            {
                through_last += e.bytes.len() as u64;
            }
        }
        through_last.saturating_sub(u64::from(row.start_offset)) > row.payload_len
    }

    /// The first `limit` bytes of a row's payload (whole notes), read back from the log.
    pub fn row_bytes(&self, log: &TrafficLog, row: &FrameRow, limit: usize) -> Vec<u8> {
        let want = usize::try_from(row.payload_len)
            .unwrap_or(usize::MAX)
            .min(limit);
        let mut out = Vec::with_capacity(want.min(1 << 20));
        let mut offset = row.start_offset as usize;
        for seq in row.start_seq..=row.end_seq {
            if out.len() >= want {
                break;
            }
            let Some(entry) = log.get(seq) else {
                continue;
            };
            if entry.peer != row.peer || entry.kind != row.kind {
                continue;
            }
            let from = entry.bytes.get(offset..).unwrap_or_default();
            offset = 0;
            let take = from.len().min(want - out.len());
            out.extend_from_slice(from.get(..take).unwrap_or_default());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn log_with(reads: &[(EntryKind, u32, &[u8], u64)]) -> TrafficLog {
        let mut log = TrafficLog::default();
        for (kind, peer, bytes, at_ms) in reads {
            log.push(
                *kind,
                *peer,
                UNIX_EPOCH + Duration::from_millis(*at_ms),
                bytes,
            );
        }
        log
    }

    fn payloads(view: &FramedView, log: &TrafficLog) -> Vec<(EntryKind, u32, Vec<u8>, bool)> {
        (view.first_row()..view.first_row() + view.len() as u64)
            .filter_map(|id| view.get(id))
            .map(|r| {
                (
                    r.kind,
                    r.peer,
                    view.row_bytes(log, r, usize::MAX),
                    r.invalid.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn a_row_stays_small() {
        assert!(
            std::mem::size_of::<FrameRow>() <= 64,
            "{}",
            std::mem::size_of::<FrameRow>()
        );
    }

    #[test]
    fn frames_interleaved_streams_across_reads() {
        use EntryKind::{Info, Rx, Tx};
        let log = log_with(&[
            (Info, 0, b"connected", 0),
            (Rx, 0, b"\x03ab", 1),
            (Rx, 1, b"\x01z\x02", 2),
            (Tx, 0, b"\x01T", 3),
            (Rx, 0, b"c\x00\x01", 4),
            (Rx, 1, b"qr", 5),
            (Rx, 0, b"x", 6),
        ]);
        let mut view = FramedView::new("len:u8".parse().expect("framing"));
        assert!(!view.sync(&log, 0, 3), "budget respected");
        assert!(view.sync(&log, 0, 100));
        assert_eq!(
            payloads(&view, &log),
            vec![
                (Info, 0, b"connected".to_vec(), false),
                (Rx, 1, b"\x01z".to_vec(), false),
                (Tx, 0, b"\x01T".to_vec(), false),
                (Rx, 0, b"\x03abc".to_vec(), false),
                (Rx, 0, b"\x00".to_vec(), false),
                (Rx, 1, b"\x02qr".to_vec(), false),
                (Rx, 0, b"\x01x".to_vec(), false),
            ]
        );
        let abc = view.get(3).expect("row");
        assert_eq!((abc.start_seq, abc.end_seq, abc.reads), (1, 4, 2));
        assert_eq!(view.pending_bytes(), 0);
    }

    #[test]
    fn idle_frames_end_on_silence() {
        use EntryKind::Rx;
        let log = log_with(&[(Rx, 0, b"ab", 0), (Rx, 0, b"cd", 5), (Rx, 0, b"ef", 100)]);
        let mut view = FramedView::new(Framing::Idle { gap_ms: 20 });
        view.sync(&log, 100_000, 100);
        assert_eq!(payloads(&view, &log).len(), 1);
        assert_eq!(view.pending_bytes(), 2);
        view.sync(&log, 200_000, 100);
        let p = payloads(&view, &log);
        assert_eq!(p[0].2, b"abcd");
        assert_eq!(p[1].2, b"ef");
    }

    #[test]
    fn an_idle_frame_ends_before_its_peer_disconnects() {
        use EntryKind::{Info, Rx};
        let log = log_with(&[
            (Rx, 0, b"ab", 0),
            (Rx, 1, b"cd", 1),
            (Info, 0, b"disconnected", 2),
        ]);
        let mut view = FramedView::new(Framing::Idle { gap_ms: 1000 });
        view.sync(&log, 3_000, 100);
        assert_eq!(
            payloads(&view, &log),
            vec![
                (Rx, 0, b"ab".to_vec(), false),
                (Info, 0, b"disconnected".to_vec(), false)
            ]
        );
        assert_eq!(view.pending_bytes(), 2, "the other peer's frame goes on");
    }

    #[test]
    fn a_character_split_across_frames_decodes_whole() {
        use crate::codec::text::{TextEncoding, decode_for_display};
        use EntryKind::Rx;
        let log = log_with(&[(Rx, 0, b"a\xe4\xb8", 0), (Rx, 0, b"\xad b", 100)]);
        let mut view = FramedView::new(Framing::Idle { gap_ms: 10 });
        view.sync(&log, 1_000_000, 100);
        let (first, second) = (view.get(0).expect("row"), view.get(1).expect("row"));
        assert!(view.row_has_successor(&log, first));
        let shown = |row: &FrameRow| {
            decode_for_display(
                view.row_context(&log, row),
                &view.row_bytes(&log, row, 64),
                !view.row_has_successor(&log, row),
                TextEncoding::Utf8,
            )
        };
        assert_eq!(shown(first), "a");
        assert_eq!(shown(second), "中 b");
    }

    #[test]
    fn evicted_rows_are_dropped_and_rebuild_restarts() {
        use EntryKind::Rx;
        let mut log = log_with(&[(Rx, 0, b"a\n", 0), (Rx, 0, b"b\n", 1)]);
        let mut view = FramedView::new("delim:0a".parse().expect("framing"));
        view.sync(&log, 0, 100);
        assert_eq!(view.len(), 2);
        log.clear();
        log.push(Rx, 0, UNIX_EPOCH, b"c\n");
        view.sync(&log, 0, 100);
        assert_eq!(payloads(&view, &log), vec![(Rx, 0, b"c".to_vec(), false)]);
        assert_eq!(view.first_row(), 2);
    }
}
