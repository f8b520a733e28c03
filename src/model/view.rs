//! What the log view of one session shows, as plain data: the framing (reads as they came,
//! or frames from a [`FramedView`]), the filter and the search with their matches, and the
//! pause point. Rows have stable ids: log sequence numbers for raw reads, frame row ids for
//! frames. Matches are found incrementally, a bounded number of rows per [`LogView::update`],
//! so a filter over millions of entries never stalls a frame of the window.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::codec::framing::{Framing, FramingError};
use crate::codec::hex::parse_hex;
use crate::codec::text::{
    FOLLOWING_BYTES, Following, TextEncoding, decode_for_display, encode_strict,
};
use crate::model::framed::FramedView;
use crate::model::log::{CONTEXT_BYTES, EntryKind, NO_PEER, TrafficLog};

/// Rows a filter or search examines per update.
const MATCH_BUDGET_ROWS: usize = 20_000;
/// Log entries framed per update.
const FRAME_BUDGET_ENTRIES: usize = 50_000;
/// Bytes of a row examined by a filter or search (larger frames are matched on their start).
pub const MATCH_MAX_BYTES: usize = 1024 * 1024;
/// Bytes a filter or search examines per update, at most (plus one row).
const MATCH_BUDGET_BYTES: usize = 16 * 1024 * 1024;

/// Which way a filter lets through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DirectionFilter {
    /// Everything, notes included.
    #[default]
    All,
    /// Received only.
    Rx,
    /// Sent only.
    Tx,
}

/// A byte pattern typed by the user, as text (encoded with the log's encoding) or hex.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pattern {
    /// What was typed.
    pub text: String,
    /// Whether `text` is hex bytes.
    pub hex: bool,
}

impl Pattern {
    /// The bytes to look for; `Ok(None)` when nothing was typed.
    ///
    /// # Errors
    /// A message when the hex is invalid or the text cannot be encoded.
    pub fn bytes(&self, encoding: TextEncoding) -> Result<Option<Vec<u8>>, String> {
        if self.text.is_empty() {
            return Ok(None);
        }
        if self.hex {
            parse_hex(&self.text)
                .map(Some)
                .map_err(|e| format!("invalid hex: {e}"))
        } else {
            encode_strict(&self.text, encoding)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    }
}

/// What rows a filter lets through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// Bytes the row must contain (text: ASCII letters match either case).
    pub pattern: Pattern,
    /// Direction.
    pub direction: DirectionFilter,
    /// Only this peer index (notes about the whole session still show).
    pub peer: Option<u32>,
}

impl RowFilter {
    /// Whether it lets every row through.
    pub fn is_empty(&self) -> bool {
        self.pattern.text.is_empty()
            && self.direction == DirectionFilter::All
            && self.peer.is_none()
    }
}

/// One row, read for drawing or matching.
#[derive(Clone, Debug)]
pub struct Row<'a> {
    /// Its id (log seq for reads, frame id for frames).
    pub id: u64,
    /// Rx, Tx or a note.
    pub kind: EntryKind,
    /// Peer index, or [`NO_PEER`].
    pub peer: u32,
    /// When it arrived (a frame: when its last byte arrived), microseconds since the epoch.
    pub at_micros: i64,
    /// Full length in bytes.
    pub len: u64,
    /// The bytes (at most the limit asked for).
    pub bytes: Cow<'a, [u8]>,
    /// How many reads a frame spans (1 for reads).
    pub reads: u32,
    /// For bytes skipped while resynchronizing: why.
    pub invalid: Option<FramingError>,
    /// Whether these bytes were left when their stream or send ended, not a whole frame.
    pub incomplete: bool,
    /// The log entry holding the row's first byte.
    pub first_seq: u64,
}

/// A row's text as it is shown (its row, the detail pane, a copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowText {
    /// The text.
    pub text: String,
    /// Whether every byte of the row begins a character that the next bytes of its stream
    /// complete, so the character shows in a later row: `text` is then those bytes as
    /// `\xNN` and an arrow (`\xE4\xB8 →`), not an empty row that looks like lost data.
    pub continues: bool,
}

/// The arrow after the bytes of a row that [`RowText::continues`] in a later one.
pub const CONTINUES_MARK: &str = " →";

#[derive(Clone, Debug, PartialEq)]
struct MatchKey {
    filter: RowFilter,
    search: Pattern,
    encoding: TextEncoding,
    generation: u64,
}

/// Ids of the rows that pass a filter (or hit a search), kept up to date incrementally.
#[derive(Debug, Default)]
struct Matches {
    ids: VecDeque<u64>,
    /// Rows up to here were examined.
    scanned: u64,
}

/// The log view of one session. See the module docs.
#[derive(Debug, Default)]
pub struct LogView {
    framed: Option<FramedView>,
    /// The filter: only rows passing it are shown.
    pub filter: RowFilter,
    /// The search: rows passing the filter that contain it are highlighted and can be
    /// stepped through.
    pub search: Pattern,
    /// When paused: the end of the rows shown (rows after it are counted, not shown).
    pub paused_at: Option<u64>,
    key: Option<MatchKey>,
    /// Bumped when the rows change meaning (framing changed, log cleared).
    generation: u64,
    filtered: Matches,
    hits: Matches,
    /// Why the filter or search cannot be used (bad hex, unencodable text).
    pub pattern_error: Option<String>,
}

impl LogView {
    /// The framing in use.
    pub fn framing(&self) -> Framing {
        self.framed
            .as_ref()
            .map_or(Framing::Raw, |f| f.framing().clone())
    }

    /// Switches framing; the history is framed again from the log's raw entries.
    pub fn set_framing(&mut self, framing: Framing) {
        if framing == self.framing() {
            return;
        }
        self.framed = (framing != Framing::Raw).then(|| FramedView::new(framing));
        self.paused_at = None;
        self.generation += 1;
    }

    /// The framed view, when framing is not raw.
    pub fn framed(&self) -> Option<&FramedView> {
        self.framed.as_ref()
    }

    /// Forgets matches after the log was cleared.
    pub fn log_cleared(&mut self) {
        if let Some(framed) = &self.framed {
            self.framed = Some(FramedView::new(framed.framing().clone()));
        }
        self.paused_at = None;
        self.generation += 1;
    }

    /// First and past-the-end row ids held now (ignoring pause and filter).
    pub fn row_range(&self, log: &TrafficLog) -> (u64, u64) {
        match &self.framed {
            Some(f) => (f.first_row(), f.first_row() + f.len() as u64),
            None => (log.first_seq(), log.first_seq() + log.len() as u64),
        }
    }

    /// Rows held that the pause hides.
    pub fn new_while_paused(&self, log: &TrafficLog) -> u64 {
        let end = self.row_range(log).1;
        self.paused_at.map_or(0, |at| end.saturating_sub(at))
    }

    /// Pauses (freezes the rows shown) or resumes.
    pub fn set_paused(&mut self, log: &TrafficLog, paused: bool) {
        self.paused_at = paused.then(|| self.row_range(log).1);
    }

    /// Reads row `id`, with at most `limit` bytes.
    pub fn row<'a>(&self, log: &'a TrafficLog, id: u64, limit: usize) -> Option<Row<'a>> {
        match &self.framed {
            None => {
                let entry = log.get(id)?;
                let shown = entry.bytes.get(..entry.bytes.len().min(limit))?;
                Some(Row {
                    id,
                    kind: entry.kind,
                    peer: entry.peer,
                    at_micros: entry.at_micros,
                    len: entry.bytes.len() as u64,
                    bytes: Cow::Borrowed(shown),
                    reads: 1,
                    invalid: None,
                    incomplete: false,
                    first_seq: id,
                })
            }
            Some(framed) => {
                let frame = framed.get(id)?;
                Some(Row {
                    id,
                    kind: frame.kind,
                    peer: frame.peer,
                    at_micros: frame.at_micros,
                    len: frame.payload_len,
                    bytes: Cow::Owned(framed.row_bytes(log, frame, limit)),
                    reads: frame.reads,
                    invalid: frame.invalid.as_deref().cloned(),
                    incomplete: frame.incomplete,
                    first_seq: frame.start_seq,
                })
            }
        }
    }

    /// The text of a row as it is shown (its row, the detail pane, a copy): the first
    /// `shown` of its bytes decoded with `encoding`, the stream's bytes before the row as
    /// context and those after it settling a character cut at its end, so every byte shows
    /// in exactly one row (see [`decode_for_display`]). A row shown only in part leaves a
    /// character at the cut to the part not shown. A row whose bytes all begin a character
    /// that later bytes complete shows them as `\xNN` with an arrow
    /// ([`RowText::continues`]). Notes: their text.
    pub fn row_text(
        &self,
        log: &TrafficLog,
        row: &Row<'_>,
        shown: usize,
        encoding: TextEncoding,
    ) -> RowText {
        let bytes = row
            .bytes
            .get(..shown.min(row.bytes.len()))
            .unwrap_or_default();
        if !row.kind.is_traffic() {
            return RowText {
                text: String::from_utf8_lossy(bytes).into_owned(),
                continues: false,
            };
        }
        let frame = self.framed.as_ref().and_then(|f| Some((f, f.get(row.id)?)));
        let before = match frame {
            Some((framed, frame)) => framed.row_before(log, frame),
            None => log.stream_before(row.id, CONTEXT_BYTES),
        };
        let after = if (bytes.len() as u64) < row.len {
            None
        } else {
            Some(match frame {
                Some((framed, frame)) => framed.row_after(log, frame, FOLLOWING_BYTES),
                None => log.stream_after(row.id, FOLLOWING_BYTES),
            })
        };
        let following = match &after {
            None => Following::Cut,
            Some(after) if after.is_empty() => Following::Nothing,
            Some(after) => Following::Bytes(after),
        };
        let text = decode_for_display(&before, bytes, following, encoding);
        // Every byte shows in exactly one row, an invalid one as `\xNN` in its own: bytes that
        // decode to nothing while later bytes are known are all held for a character those
        // complete.
        if text.is_empty() && !bytes.is_empty() && matches!(following, Following::Bytes(_)) {
            let mut text = String::with_capacity(bytes.len() * 4 + CONTINUES_MARK.len());
            for byte in bytes {
                text.push_str(&format!("\\x{byte:02X}"));
            }
            text.push_str(CONTINUES_MARK);
            return RowText {
                text,
                continues: true,
            };
        }
        RowText {
            text,
            continues: false,
        }
    }

    /// Frames new entries, then finds matches among new rows; call once per frame of the
    /// window. Returns whether work is left (call again soon).
    pub fn update(&mut self, log: &TrafficLog, encoding: TextEncoding, now_micros: i64) -> bool {
        let mut busy = false;
        if let Some(framed) = &mut self.framed {
            busy |= !framed.sync(log, now_micros, FRAME_BUDGET_ENTRIES);
        }
        let key = MatchKey {
            filter: self.filter.clone(),
            search: self.search.clone(),
            encoding,
            generation: self.generation,
        };
        if self.key.as_ref() != Some(&key) {
            self.filtered = Matches::default();
            self.hits = Matches::default();
            self.key = Some(key);
        }
        let filter_bytes = self.filter.pattern.bytes(encoding);
        let search_bytes = self.search.bytes(encoding);
        self.pattern_error = match (&filter_bytes, &search_bytes) {
            (Err(e), _) | (_, Err(e)) => Some(e.clone()),
            _ => None,
        };
        let filter_bytes = filter_bytes.unwrap_or(None);
        let search_bytes = search_bytes.unwrap_or(None);
        let (first, end) = self.row_range(log);
        let filter_on = !self.filter.is_empty();
        for matches in [&mut self.filtered, &mut self.hits] {
            while matches.ids.front().is_some_and(|id| *id < first) {
                matches.ids.pop_front();
            }
            matches.scanned = matches.scanned.max(first);
        }
        let from = self.filtered.scanned.min(self.hits.scanned);
        let mut stop = end.min(from.saturating_add(MATCH_BUDGET_ROWS as u64));
        let mut examined = 0usize;
        for id in from..stop {
            if examined > MATCH_BUDGET_BYTES {
                stop = id;
                break;
            }
            let Some(row) = self.row(log, id, MATCH_MAX_BYTES) else {
                continue;
            };
            examined += row.bytes.len();
            let passes = self.passes(&row, filter_bytes.as_deref());
            if filter_on && passes && id >= self.filtered.scanned {
                self.filtered.ids.push_back(id);
            }
            if passes
                && id >= self.hits.scanned
                && search_bytes.as_deref().is_some_and(|p| contains(&row, p))
            {
                self.hits.ids.push_back(id);
            }
        }
        self.filtered.scanned = self.filtered.scanned.max(stop);
        self.hits.scanned = self.hits.scanned.max(stop);
        busy || stop < end
    }

    fn passes(&self, row: &Row<'_>, pattern: Option<&[u8]>) -> bool {
        let direction_ok = match self.filter.direction {
            DirectionFilter::All => true,
            DirectionFilter::Rx => row.kind == EntryKind::Rx,
            DirectionFilter::Tx => row.kind == EntryKind::Tx,
        };
        let peer_ok = self
            .filter
            .peer
            .is_none_or(|p| row.peer == p || (row.peer == NO_PEER && !row.kind.is_traffic()));
        direction_ok && peer_ok && pattern.is_none_or(|p| contains(row, p))
    }

    /// Whether the search is on.
    pub fn searching(&self) -> bool {
        !self.search.text.is_empty()
    }

    /// The rows shown, in order: `count` of them, the `index`th via [`Self::shown_id`].
    pub fn shown_count(&self, log: &TrafficLog) -> usize {
        let (first, end) = self.shown_range(log);
        if self.filter.is_empty() {
            usize::try_from(end - first).unwrap_or(usize::MAX)
        } else {
            self.filtered.ids.partition_point(|id| *id < end)
        }
    }

    fn shown_range(&self, log: &TrafficLog) -> (u64, u64) {
        let (first, end) = self.row_range(log);
        (first, self.paused_at.map_or(end, |at| at.clamp(first, end)))
    }

    /// The id of the `index`th row shown.
    pub fn shown_id(&self, log: &TrafficLog, index: usize) -> Option<u64> {
        if self.filter.is_empty() {
            let (first, end) = self.shown_range(log);
            let id = first + index as u64;
            (id < end).then_some(id)
        } else {
            self.filtered.ids.get(index).copied()
        }
    }

    /// Where row `id` is among the rows shown.
    pub fn shown_index(&self, log: &TrafficLog, id: u64) -> Option<usize> {
        if self.filter.is_empty() {
            let (first, end) = self.shown_range(log);
            (first..end)
                .contains(&id)
                .then(|| usize::try_from(id - first).ok())
                .flatten()
        } else {
            self.filtered.ids.binary_search(&id).ok()
        }
    }

    /// Whether row `id` is a search hit.
    pub fn is_hit(&self, id: u64) -> bool {
        self.hits.ids.binary_search(&id).is_ok()
    }

    /// Search hits among the rows shown.
    pub fn hit_count(&self, log: &TrafficLog) -> usize {
        let end = self.shown_range(log).1;
        self.hits.ids.partition_point(|id| *id < end)
    }

    /// The hit after `from` (or the first), wrapping around; `forward: false` goes back.
    pub fn next_hit(&self, log: &TrafficLog, from: Option<u64>, forward: bool) -> Option<u64> {
        let count = self.hit_count(log);
        let hits = self.hits.ids.range(..count);
        if forward {
            let after = from.map_or(0, |f| self.hits.ids.partition_point(|id| *id <= f));
            self.hits
                .ids
                .get(after)
                .filter(|_| after < count)
                .or_else(|| hits.clone().next())
                .copied()
        } else {
            let before = from.map_or(count, |f| self.hits.ids.partition_point(|id| *id < f));
            before
                .checked_sub(1)
                .and_then(|i| self.hits.ids.get(i))
                .or_else(|| hits.last())
                .copied()
        }
    }

    /// The position (1-based) of hit `id` among the hits, for "3 of 17".
    pub fn hit_position(&self, id: u64) -> Option<usize> {
        self.hits.ids.binary_search(&id).ok().map(|i| i + 1)
    }

    /// Whether matching is still catching up with the rows.
    pub fn matching_behind(&self, log: &TrafficLog) -> bool {
        let end = self.row_range(log).1;
        (!self.filter.is_empty() && self.filtered.scanned < end)
            || (self.searching() && self.hits.scanned < end)
    }
}

fn contains(row: &Row<'_>, pattern: &[u8]) -> bool {
    if pattern.is_empty() {
        return true;
    }
    // A note's payload is its typed record, not words to search: patterns match traffic.
    if !row.kind.is_traffic() {
        return false;
    }
    let bytes: &[u8] = &row.bytes;
    bytes
        .windows(pattern.len())
        .any(|w| w.eq_ignore_ascii_case(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn log() -> TrafficLog {
        let mut log = TrafficLog::default();
        let now = SystemTime::now();
        log.push(EntryKind::Info, 0, now, b"connected");
        log.push(EntryKind::Rx, 0, now, b"Hello\n wor");
        log.push(EntryKind::Tx, 0, now, b"ld\n");
        log.push(EntryKind::Rx, 1, now, &[0xd6, 0xd0, 0xce, 0xc4, b'\n']);
        log.push(EntryKind::Rx, 0, now, b"hello again\n");
        log
    }

    fn shown(view: &LogView, log: &TrafficLog) -> Vec<u64> {
        (0..view.shown_count(log))
            .filter_map(|i| view.shown_id(log, i))
            .collect()
    }

    #[test]
    fn filters_by_text_hex_direction_and_peer() {
        let log = log();
        let table: [(RowFilter, TextEncoding, &[u64]); 6] = [
            (RowFilter::default(), TextEncoding::Utf8, &[0, 1, 2, 3, 4]),
            (
                RowFilter {
                    pattern: Pattern {
                        text: "HELLO".into(),
                        hex: false,
                    },
                    ..RowFilter::default()
                },
                TextEncoding::Utf8,
                &[1, 4],
            ),
            (
                RowFilter {
                    pattern: Pattern {
                        text: "中文".into(),
                        hex: false,
                    },
                    ..RowFilter::default()
                },
                TextEncoding::Gbk,
                &[3],
            ),
            (
                RowFilter {
                    pattern: Pattern {
                        text: "ce c4 0a".into(),
                        hex: true,
                    },
                    ..RowFilter::default()
                },
                TextEncoding::Utf8,
                &[3],
            ),
            (
                RowFilter {
                    direction: DirectionFilter::Tx,
                    ..RowFilter::default()
                },
                TextEncoding::Utf8,
                &[2],
            ),
            (
                RowFilter {
                    peer: Some(1),
                    ..RowFilter::default()
                },
                TextEncoding::Utf8,
                &[3],
            ),
        ];
        for (filter, encoding, expected) in table {
            let mut view = LogView {
                filter: filter.clone(),
                ..LogView::default()
            };
            view.update(&log, encoding, 0);
            assert_eq!(shown(&view, &log), expected, "{filter:?}");
        }
    }

    #[test]
    fn work_per_update_is_bounded_on_a_big_log() {
        let mut log = TrafficLog::default();
        let now = SystemTime::now();
        let entries = FRAME_BUDGET_ENTRIES * 2 + 10;
        for i in 0..entries {
            let bytes: &[u8] = if i % 2 == 0 { b"ab\n" } else { b"x" };
            log.push(EntryKind::Rx, 0, now, bytes);
        }
        let mut view = LogView::default();
        view.set_framing("delim:0a".parse().expect("framing"));
        view.search.text = "x".into();
        assert!(view.update(&log, TextEncoding::Utf8, 0), "more to do");
        let framed = view.framed().expect("framed");
        assert!(
            framed.backlog(&log) > 0,
            "one update frames a bounded number of entries"
        );
        let mut calls = 1;
        while view.update(&log, TextEncoding::Utf8, 0) {
            calls += 1;
            assert!(calls < 100, "catches up");
        }
        assert!(calls >= 2);
        // "ab\n" then "x": every frame after the first starts with x; the last x is pending.
        assert_eq!(view.hit_count(&log), entries / 2 - 1);
    }

    fn texts(view: &LogView, log: &TrafficLog, encoding: TextEncoding) -> Vec<String> {
        shown(view, log)
            .into_iter()
            .filter_map(|id| view.row(log, id, usize::MAX))
            .map(|row| view.row_text(log, &row, usize::MAX, encoding).text)
            .collect()
    }

    #[test]
    fn a_row_whose_bytes_all_begin_a_later_character_shows_them_with_an_arrow() {
        let mut log = TrafficLog::default();
        let now = SystemTime::now();
        log.push(EntryKind::Rx, 0, now, b"\xe4\xb8");
        log.push(EntryKind::Tx, 0, now, b"\xe6");
        log.push(EntryKind::Rx, 0, now, b"\xad!");
        log.push(EntryKind::Rx, 0, now, b"a\xe6");
        log.push(EntryKind::Rx, 0, now, b"\x96\x87");
        let mut view = LogView::default();
        view.update(&log, TextEncoding::Utf8, 0);
        let rows: Vec<RowText> = shown(&view, &log)
            .into_iter()
            .filter_map(|id| view.row(&log, id, usize::MAX))
            .map(|row| view.row_text(&log, &row, usize::MAX, TextEncoding::Utf8))
            .collect();
        let pairs: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.text.as_str(), r.continues))
            .collect();
        assert_eq!(
            pairs,
            [
                ("\\xE4\\xB8 →", true),
                // Nothing of its own stream follows a TX yet: its byte shows as itself.
                ("\\xE6", false),
                ("中!", false),
                // A row with text keeps the rule: the character shows where it ends.
                ("a", false),
                ("文", false),
            ]
        );
        // GBK: the first byte of 中 alone.
        let mut log = TrafficLog::default();
        log.push(EntryKind::Rx, 0, now, b"\xd6");
        log.push(EntryKind::Rx, 0, now, b"\xd0");
        let mut view = LogView::default();
        view.update(&log, TextEncoding::Gbk, 0);
        assert_eq!(texts(&view, &log, TextEncoding::Gbk), ["\\xD6 →", "中"]);
    }

    #[test]
    fn a_byte_held_back_for_the_next_read_shows_when_that_read_does_not_complete_it() {
        // The issue: "AB\xC4", then "XY" 0.4 s later; the row said 3 B but showed "AB".
        let mut log = TrafficLog::default();
        let now = SystemTime::now();
        log.push(EntryKind::Rx, 0, now, b"AB\xc4");
        let mut view = LogView::default();
        view.update(&log, TextEncoding::Utf8, 0);
        assert_eq!(texts(&view, &log, TextEncoding::Utf8), ["AB\\xC4"]);
        log.push(EntryKind::Tx, 0, now, b"\xb8");
        log.push(EntryKind::Rx, 1, now, b"\x93");
        log.push(EntryKind::Rx, 0, now, b"XY");
        assert_eq!(
            texts(&view, &log, TextEncoding::Utf8),
            ["AB\\xC4", "\\xB8", "\\x93", "XY"],
            "other streams do not complete it"
        );
        // GBK 中文 read as UTF-8: the row shows all four bytes, once.
        log.push(EntryKind::Rx, 0, now, &[0xd6, 0xd0, 0xce, 0xc4]);
        log.push(EntryKind::Rx, 0, now, b"!");
        let shown = texts(&view, &log, TextEncoding::Utf8);
        assert_eq!(shown[4..], ["\\xD6\\xD0\\xCE\\xC4", "!"]);
        // A character that the next read does complete shows there, whole, once; the read
        // of its first bytes shows them with an arrow, not as nothing.
        log.push(EntryKind::Rx, 0, now, &[0xe4, 0xb8]);
        log.push(EntryKind::Rx, 0, now, &[0xad]);
        let shown = texts(&view, &log, TextEncoding::Utf8);
        assert_eq!(shown[6..], ["\\xE4\\xB8 →", "中"]);
        // Under framing the same holds for frames.
        view.set_framing("delim:0a".parse().expect("framing"));
        log.push(EntryKind::Rx, 2, now, b"ok\xc4\n\xe4\xb8");
        log.push(EntryKind::Rx, 2, now, b"\xad\n");
        view.update(&log, TextEncoding::Utf8, 0);
        let framed: Vec<String> = texts(&view, &log, TextEncoding::Utf8)
            .into_iter()
            .rev()
            .take(2)
            .collect();
        assert_eq!(framed, ["中", "ok\\xC4"]);
    }

    #[test]
    fn search_steps_through_hits_and_wraps() {
        let log = log();
        let mut view = LogView {
            search: Pattern {
                text: "hello".into(),
                hex: false,
            },
            ..LogView::default()
        };
        view.update(&log, TextEncoding::Utf8, 0);
        assert_eq!(view.hit_count(&log), 2);
        assert_eq!(view.next_hit(&log, None, true), Some(1));
        assert_eq!(view.next_hit(&log, Some(1), true), Some(4));
        assert_eq!(view.next_hit(&log, Some(4), true), Some(1), "wraps");
        assert_eq!(view.next_hit(&log, Some(1), false), Some(4), "wraps back");
        assert_eq!(view.hit_position(4), Some(2));
    }

    #[test]
    fn framing_rerenders_history_and_pause_freezes_rows() {
        let mut log = log();
        let mut view = LogView::default();
        view.set_framing("delim:0a".parse().expect("framing"));
        view.update(&log, TextEncoding::Utf8, 0);
        let rows: Vec<Vec<u8>> = shown(&view, &log)
            .into_iter()
            .filter_map(|id| view.row(&log, id, usize::MAX))
            .map(|r| r.bytes.into_owned())
            .collect();
        assert_eq!(
            rows,
            vec![
                b"connected".to_vec(),
                b"Hello".to_vec(),
                b"ld".to_vec(),
                vec![0xd6, 0xd0, 0xce, 0xc4],
                b" worhello again".to_vec(),
            ]
        );
        view.set_paused(&log, true);
        log.push(EntryKind::Rx, 0, SystemTime::now(), b"more\n");
        view.update(&log, TextEncoding::Utf8, 0);
        assert_eq!(view.shown_count(&log), 5);
        assert_eq!(view.new_while_paused(&log), 1);
        view.set_paused(&log, false);
        assert_eq!(view.shown_count(&log), 6);
    }
}
