//! `--framing` in headless mode: the log's reads are cut into frames by the same
//! [`FramedView`] the window uses, and each frame (or skipped run, or note) is printed as one
//! record. A jsonl frame record is the usual traffic record plus `reads` (how many reads it
//! spans) and, for bytes skipped while resynchronizing, `invalid` (why); bytes left when a
//! stream or a send ended without completing a frame carry `"incomplete":true` (text and
//! hex: `[incomplete]`).

use std::collections::HashMap;

use crate::cli::OutputFormat;
use crate::codec::framing::Framing;
use crate::headless::output::{Formatter, Lifecycle, Record};
use crate::model::framed::{FrameRow, FramedView};
use crate::model::{LogEntry, Session};
use crate::protocol::SessionId;

/// Frames each session's log and hands out the rows not printed yet.
pub struct FramedOutput {
    framing: Framing,
    views: HashMap<SessionId, (FramedView, u64)>,
}

impl FramedOutput {
    /// Frames with `framing`.
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            views: HashMap::new(),
        }
    }

    /// Frames what the session's log gained and returns the rows completed since the last
    /// call, each with its payload. `now_micros` ends idle frames whose silence has passed.
    pub fn new_rows(
        &mut self,
        id: SessionId,
        session: &Session,
        now_micros: i64,
    ) -> Vec<(FrameRow, Vec<u8>)> {
        let (view, printed) = self
            .views
            .entry(id)
            .or_insert_with(|| (FramedView::new(self.framing.clone()), 0));
        view.sync(&session.log, now_micros, usize::MAX);
        let end = view.first_row() + view.len() as u64;
        let start = (*printed).max(view.first_row());
        *printed = end;
        (start..end)
            .filter_map(|row_id| view.get(row_id))
            .map(|row| (row.clone(), view.row_bytes(&session.log, row, usize::MAX)))
            .collect()
    }

    /// Bytes still in incomplete frames, over every session.
    pub fn pending_bytes(&self) -> u64 {
        self.views.values().map(|(v, _)| v.pending_bytes()).sum()
    }

    /// Whether frames end on silence, so the driver must wake up to end them.
    pub fn is_idle(&self) -> bool {
        matches!(self.framing, Framing::Idle { .. })
    }
}

/// One printed record for a frame row: the formatter's line for an entry holding the frame's
/// bytes, with `reads` and `invalid` added (jsonl) or an `[invalid: ...]` mark (text, hex).
pub fn frame_record(
    formatter: &Formatter,
    label: &str,
    session: &Session,
    row: &FrameRow,
    bytes: &[u8],
    lifecycle: Option<Lifecycle>,
) -> String {
    let entry = LogEntry {
        seq: row.start_seq,
        kind: row.kind,
        peer: row.peer,
        at_micros: row.at_micros,
        bytes,
        context: &[],
        has_successor: false,
        injected: false,
        forwarded: false,
    };
    let record = Record {
        session: label,
        entry,
        peer_addr: session.peer_addr(row.peer),
        device: session.device_path(),
        lifecycle,
        relay: session.spec.kind.is_relay(),
    };
    let line = formatter.format(&record);
    if !row.kind.is_traffic() {
        return line;
    }
    match formatter.format {
        OutputFormat::Jsonl => {
            // Appended to the record's own object, so its fields keep their order.
            let Some(body) = line.strip_suffix('}') else {
                return line;
            };
            let mut out = format!("{body},\"reads\":{}", row.reads);
            if let Some(reason) = &row.invalid {
                let reason = serde_json::Value::from(reason.to_string());
                out.push_str(&format!(",\"invalid\":{reason}"));
            }
            if row.incomplete {
                out.push_str(",\"incomplete\":true");
            }
            out.push('}');
            out
        }
        OutputFormat::Text | OutputFormat::Hex => {
            let mark = match &row.invalid {
                Some(reason) => format!(" [invalid: {reason}]"),
                None if row.incomplete => " [incomplete]".to_string(),
                None => return line,
            };
            let (first, rest) = line.split_once('\n').unwrap_or((&line, ""));
            let mut out = format!("{first}{mark}");
            if !rest.is_empty() {
                out.push('\n');
                out.push_str(rest);
            }
            out
        }
    }
}
