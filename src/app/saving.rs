//! Saving a session's traffic: the export form's fields and the rows an export covers,
//! feeding a running export, and the file dialogs that fill the capture and export paths.

use crate::app::Problem;
use crate::app::traffic::TrafficState;
use crate::export::{ExportFormat, ExportRow};
use crate::file_dialog::Answer;
use crate::model::Session;

/// A path field a file dialog can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathField {
    /// The capture file.
    Capture,
    /// The export file.
    Export,
}

/// The export form's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportForm {
    /// What the file holds.
    pub format: ExportFormat,
    /// Only the rows the filter shows (else every row).
    pub filtered_only: bool,
    /// Where it goes.
    pub path: String,
}

/// The rows an export covers, fixed when it starts.
#[derive(Clone, Debug)]
pub enum ExportRows {
    /// Row ids `first..end`.
    Range(u64, u64),
    /// These row ids (the filtered view when the export started).
    List(Vec<u64>),
}

impl ExportRows {
    /// How many rows.
    pub(crate) fn len(&self) -> u64 {
        match self {
            ExportRows::Range(first, end) => end - first,
            ExportRows::List(ids) => ids.len() as u64,
        }
    }

    fn id(&self, index: u64) -> Option<u64> {
        match self {
            ExportRows::Range(first, end) => Some(first + index).filter(|id| id < end),
            ExportRows::List(ids) => ids.get(usize::try_from(index).ok()?).copied(),
        }
    }
}

/// Fills a path field when its file dialog has closed.
pub(super) fn poll_dialog(state: &mut TrafficState) {
    let Some((field, dialog)) = &state.picking else {
        return;
    };
    let Some(answer) = dialog.poll() else {
        return;
    };
    let field = *field;
    state.picking = None;
    match answer {
        Answer::Picked(path) => {
            let path = path.display().to_string();
            match field {
                PathField::Capture => state.capture_path = path,
                PathField::Export => state.export_form.path = path,
            }
        }
        Answer::Cancelled => {}
        Answer::Unavailable(e) => match field {
            PathField::Capture => state.capture_error = Some(Problem::Dialog(e)),
            PathField::Export => state.export_result = Some(Err(Problem::Dialog(e))),
        },
    }
}

/// Hands the running export its next rows (a bounded amount per frame) and collects its end.
pub(super) fn feed_export(state: &mut TrafficState, session: &Session) {
    let Some((job, rows)) = &mut state.export else {
        return;
    };
    let lv = &state.log_view;
    job.feed(|index| {
        let row = lv.row(&session.log, rows.id(index)?, usize::MAX)?;
        Some(ExportRow {
            kind: row.kind,
            peer_addr: session.peer_addr(row.peer),
            at_micros: row.at_micros,
            bytes: row.bytes.into_owned(),
        })
    });
    let outcome = job.poll().cloned();
    if let Some(outcome) = outcome {
        let path = job.path().to_path_buf();
        state.export_result = Some(outcome.map(|rows| (rows, path)).map_err(Problem::Export));
        state.export = None;
    }
}
