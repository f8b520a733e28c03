//! The framed view of a session's log: messages instead of reads. The log keeps every read
//! as it came (never altered); this view runs a [`Decoder`] over each stream (one peer, one
//! direction) of the log's entries, in order, and keeps only where each frame starts and ends
//! (entry sequence number and offset), never a copy of the bytes. Changing the framing
//! rebuilds it from the entries still held; new entries are framed as they come, a bounded
//! number per call, so one frame of the window never frames the whole history at once.
//!
//! Notes (lifecycle and errors) appear as rows of their own, in order. Rows whose first byte
//! was evicted from the log are dropped from the front.
//!
//! Each direction of each peer is framed on its own. A stream that ends (its peer
//! disconnected, the session stopped: the log marks such notes) hands its pending bytes over
//! as one incomplete row. Sent bytes are framed one send at a time: a send is a whole message
//! of the user's, so what is left at its end (a send that is not a valid frame, or its tail)
//! shows at once as an incomplete row of its own, never waits for the next send. A relay's
//! forwarded bytes are streams both ways (only what the user injects is a send).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::codec::framing::{Decoder, Framing, FramingError, Unit, UnitKind};
use crate::model::log::{CONTEXT_BYTES, EntryKind, NO_PEER, TrafficLog};

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
    /// Whether these are the bytes left when the stream or a send ended: not a whole frame.
    pub incomplete: bool,
}

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
                // A note about a peer or the session: an idle frame in progress is complete
                // now, and shows before the note. When the note ends the streams (the peer
                // disconnected, the session stopped), no more bytes will come: what is
                // pending there becomes an incomplete row.
                let ends = log.ends_streams(seq);
                for (key, stream) in &mut self.streams {
                    if key.0 == entry.peer || entry.peer == NO_PEER {
                        self.units.clear();
                        if ends {
                            stream.decoder.finish(&mut self.units);
                        } else {
                            stream.decoder.flush_idle(i64::MAX, &mut self.units);
                        }
                        Self::emit(&mut self.rows, stream, *key, &mut self.units);
                    }
                }
                if ends {
                    // Nothing more comes on them: keep nothing per peer that came and went.
                    self.streams
                        .retain(|key, _| key.0 != entry.peer && entry.peer != NO_PEER);
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
                    incomplete: false,
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
            if entry.kind == EntryKind::Tx && !entry.forwarded {
                // A send is a whole message: nothing of it waits for the next one (a relay's
                // forwarded bytes are a stream, like received ones).
                stream.decoder.finish(&mut self.units);
            }
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
                incomplete: unit.kind == UnitKind::Incomplete,
                invalid: match unit.kind {
                    UnitKind::Invalid(reason) => Some(Box::new(reason)),
                    UnitKind::Frame { .. } | UnitKind::Incomplete => None,
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

    /// The bytes just before a row in its stream (within its first read, and the reads
    /// before), so a character split across two rows decodes whole.
    pub fn row_before<'a>(&self, log: &'a TrafficLog, row: &FrameRow) -> Cow<'a, [u8]> {
        if !row.kind.is_traffic() {
            return Cow::Borrowed(&[]);
        }
        let Some(entry) = log.get(row.start_seq) else {
            return Cow::Borrowed(&[]);
        };
        let offset = row.start_offset as usize;
        let within = entry
            .bytes
            .get(offset.saturating_sub(CONTEXT_BYTES)..offset)
            .unwrap_or_default();
        if within.len() >= CONTEXT_BYTES {
            return Cow::Borrowed(within);
        }
        match log.stream_before(row.start_seq, CONTEXT_BYTES - within.len()) {
            earlier if earlier.is_empty() => Cow::Borrowed(within),
            earlier if within.is_empty() => earlier,
            earlier => Cow::Owned([&earlier[..], within].concat()),
        }
    }

    /// Up to `max` bytes of the stream after a row's payload (a stripped delimiter, the next
    /// frame), to settle a character cut at its end; empty when nothing follows yet.
    pub fn row_after(&self, log: &TrafficLog, row: &FrameRow, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        if !row.kind.is_traffic() {
            return out;
        }
        // Stream position, counted from the row's first byte, of each piece's first byte.
        let mut position = 0u64;
        for piece in row_pieces(log, row) {
            let after_payload =
                usize::try_from(row.payload_len.saturating_sub(position)).unwrap_or(usize::MAX);
            if let Some(tail) = piece.get(after_payload..) {
                let take = tail.len().min(max - out.len());
                out.extend_from_slice(tail.get(..take).unwrap_or_default());
            }
            position += piece.len() as u64;
        }
        if out.len() < max {
            out.extend(log.stream_after(row.end_seq, max - out.len()));
        }
        out
    }

    /// The first `limit` bytes of a row's payload (whole notes), read back from the log.
    pub fn row_bytes(&self, log: &TrafficLog, row: &FrameRow, limit: usize) -> Vec<u8> {
        let want = usize::try_from(row.payload_len)
            .unwrap_or(usize::MAX)
            .min(limit);
        let mut out = Vec::with_capacity(want.min(1 << 20));
        for piece in row_pieces(log, row) {
            if out.len() >= want {
                break;
            }
            let take = piece.len().min(want - out.len());
            out.extend_from_slice(piece.get(..take).unwrap_or_default());
        }
        out
    }
}

/// The bytes of the entries a row spans, in order, from the row's first byte on (the last
/// piece may go on past the row's end).
fn row_pieces<'a>(log: &'a TrafficLog, row: &FrameRow) -> impl Iterator<Item = &'a [u8]> {
    let (peer, kind, start_seq) = (row.peer, row.kind, row.start_seq);
    let start_offset = row.start_offset as usize;
    (row.start_seq..=row.end_seq)
        .filter_map(|seq| log.get(seq))
        .filter(move |entry| entry.peer == peer && entry.kind == kind)
        .map(move |entry| {
            let from = if entry.seq == start_seq {
                start_offset
            } else {
                0
            };
            entry.bytes.get(from..).unwrap_or_default()
        })
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
        use crate::codec::text::{FOLLOWING_BYTES, Following, TextEncoding, decode_for_display};
        use EntryKind::Rx;
        let log = log_with(&[(Rx, 0, b"a\xe4\xb8", 0), (Rx, 0, b"\xad b\xc4", 100)]);
        let mut view = FramedView::new(Framing::Idle { gap_ms: 10 });
        view.sync(&log, 1_000_000, 100);
        let shown = |id: u64| {
            let row = view.get(id).expect("row");
            let after = view.row_after(&log, row, FOLLOWING_BYTES);
            decode_for_display(
                &view.row_before(&log, row),
                &view.row_bytes(&log, row, 64),
                if after.is_empty() {
                    Following::Nothing
                } else {
                    Following::Bytes(&after)
                },
                TextEncoding::Utf8,
            )
        };
        assert_eq!(shown(0), "a");
        assert_eq!(shown(1), "中 b\\xC4", "a byte nothing completes shows");
    }

    #[test]
    fn the_stream_after_a_frame_starts_with_its_stripped_delimiter() {
        use EntryKind::Rx;
        let log = log_with(&[
            (Rx, 0, b"ab\r", 0),
            (Rx, 0, b"\ncd\r\n", 1),
            (Rx, 0, b"e", 2),
        ]);
        let mut view = FramedView::new("delim:0d0a".parse().expect("framing"));
        view.sync(&log, 0, 100);
        let first = view.get(0).expect("row");
        assert_eq!(view.row_after(&log, first, 4), b"\r\ncd");
        let second = view.get(1).expect("row");
        assert_eq!(view.row_after(&log, second, 4), b"\r\ne");
        assert_eq!(&*view.row_before(&log, second), b"ab\r\n");
    }

    #[test]
    fn text_under_a_length_framing_shows_as_invalid_rows_and_a_closed_stream_as_incomplete() {
        use EntryKind::{Info, Rx, Tx};
        // A session with plain text both ways, then switched to len:u32le (the issue's case).
        let mut log = log_with(&[
            (Info, 0, b"connected", 0),
            (Rx, 0, b"hello\n", 1),
            (Tx, 0, b"hello device\r\n", 2),
            (Rx, 0, b"bye\n", 3),
        ]);
        let mut view = FramedView::new("len:u32le".parse().expect("framing"));
        view.sync(&log, 0, 100);
        let rows = |view: &FramedView, log: &TrafficLog| {
            (view.first_row()..view.first_row() + view.len() as u64)
                .filter_map(|id| view.get(id))
                .map(|r| {
                    let mark = match (&r.invalid, r.incomplete) {
                        (Some(_), _) => "invalid",
                        (None, true) => "incomplete",
                        (None, false) => "",
                    };
                    (r.kind, view.row_bytes(log, r, usize::MAX), mark)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            rows(&view, &log),
            vec![
                (Info, b"connected".to_vec(), ""),
                // "o\n" could still start a length (0x0a6f = 2671, + 2 more bytes).
                (Rx, b"hell".to_vec(), "invalid"),
                // A send is whole: what is not a frame shows at once.
                (Tx, b"hello device".to_vec(), "invalid"),
                (Tx, b"\r\n".to_vec(), "incomplete"),
                (Rx, b"o\nby".to_vec(), "invalid"),
            ]
        );
        assert_eq!(
            view.pending_bytes(),
            2,
            "only what may still start a frame waits"
        );
        let closed = crate::model::note::LogNote::PeerDisconnected(
            crate::protocol::CloseReason::ClosedByPeer,
        );
        log.push_stream_end(0, UNIX_EPOCH, &closed);
        view.sync(&log, 0, 100);
        let after = rows(&view, &log);
        assert_eq!(after.len(), 7, "{after:?}");
        assert_eq!(after[5], (Rx, b"e\n".to_vec(), "incomplete"));
        assert_eq!(after[6], (Info, closed.to_bytes(), ""));
        assert_eq!(view.pending_bytes(), 0);
        assert!(view.streams.is_empty(), "nothing kept for a peer that left");
    }

    #[test]
    fn sends_are_framed_one_by_one_and_a_note_that_does_not_end_a_stream_waits() {
        use EntryKind::{Info, Rx, Tx};
        let log = log_with(&[
            (Tx, 0, b"\x00\x00\x00\x02hi\x00\x00\x00\x01", 0),
            (Rx, 0, b"\x00\x00\x00\x03a", 1),
            (Info, 0, b"auto-reply rule 1", 2),
            (Rx, 0, b"bc", 3),
        ]);
        let mut view = FramedView::new("len:u32be".parse().expect("framing"));
        view.sync(&log, 0, 100);
        assert_eq!(
            payloads(&view, &log),
            vec![
                (Tx, 0, b"\x00\x00\x00\x02hi".to_vec(), false),
                (Tx, 0, b"\x00\x00\x00\x01".to_vec(), false),
                (Info, 0, b"auto-reply rule 1".to_vec(), false),
                (Rx, 0, b"\x00\x00\x00\x03abc".to_vec(), false),
            ]
        );
        assert!(view.get(1).expect("row").incomplete);
        assert!(!view.get(3).expect("row").incomplete);
    }

    #[test]
    fn a_relay_s_forwarded_bytes_are_a_stream_both_ways_and_injections_are_sends() {
        use EntryKind::{Rx, Tx};
        let mut log = TrafficLog::new(1 << 20);
        for (kind, bytes, injected) in [
            (Tx, &b"ok: he"[..], false),
            (Rx, b"up ", false),
            (Tx, b"llo\n", false),
            (Tx, b"typed", true),
            (Rx, b"line\n", false),
        ] {
            let seq = log.push(kind, 0, UNIX_EPOCH, bytes);
            log.mark_relayed(seq, injected);
        }
        let mut view = FramedView::new("delim:0a".parse().expect("framing"));
        view.sync(&log, 0, 100);
        assert_eq!(
            payloads(&view, &log),
            vec![
                (Tx, 0, b"ok: hello".to_vec(), false),
                (Tx, 0, b"typed".to_vec(), false),
                (Rx, 0, b"up line".to_vec(), false),
            ]
        );
        // The forwarded frame is whole; the injected send stands alone.
        assert!(!view.get(0).expect("row").incomplete);
        assert!(view.get(1).expect("row").incomplete);
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
