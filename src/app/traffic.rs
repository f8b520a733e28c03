//! The log view's state of one session ([`TrafficState`]: framing, filter, search, pause,
//! selection, capture, export, rates) and what it does each frame ([`background`]) and on request
//! ([`App::perform_traffic`]). The capture and export threads are started here, never from
//! the drawing code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app::framing_form::FramingDraft;
use crate::app::saving::{ExportForm, ExportRows, PathField, feed_export, poll_dialog};
use crate::app::{App, Problem};
use crate::capture::CaptureThread;
use crate::codec::framing::Framing;
use crate::export::{ExportFormat, ExportJob};
use crate::file_dialog::{DialogKind, PendingDialog};
use crate::i18n::{Text, tr};
use crate::model::stats::RateHistory;
use crate::model::view::LogView;
use crate::model::{Session, SessionState};
use crate::protocol::SessionId;

/// Per-session state of the log view: what it shows, its forms, capture and rates.
pub struct TrafficState {
    /// Framing, filter, search, pause.
    pub log_view: LogView,
    /// The framing form.
    pub framing_draft: FramingDraft,
    /// Why the framing form cannot be used.
    pub framing_error: Option<Problem>,
    /// A row to scroll to on the next frame.
    pub scroll_to: Option<u64>,
    /// The log entry shown in the detail pane (the anchor of a range selection).
    pub selected_entry: Option<u64>,
    /// The other end of a Shift+click range selection; `None` when one entry is selected.
    pub selection_extent: Option<u64>,
    /// The capture file field.
    pub capture_path: String,
    /// The running capture.
    pub capture: Option<CaptureThread>,
    /// Why the last capture failed to start or write.
    pub capture_error: Option<Problem>,
    /// Session totals over time.
    pub rates: RateHistory,
    /// Per peer (by index): totals over time.
    pub peer_rates: HashMap<u32, RateHistory>,
    /// The export form.
    pub export_form: ExportForm,
    /// The export running, with the rows it covers.
    pub export: Option<(ExportJob, ExportRows)>,
    /// How the last export ended: rows written and the file, or why it failed.
    pub export_result: Option<Result<(u64, PathBuf), Problem>>,
    /// A file dialog open on its own thread, and which field it fills.
    pub picking: Option<(PathField, PendingDialog)>,
}

impl Default for TrafficState {
    fn default() -> Self {
        Self::new(None)
    }
}

impl TrafficState {
    /// A fresh state whose capture and export files are proposed in `files_dir` (the
    /// user's own directory for sockdbg's files); without one, bare names (the working
    /// directory).
    pub fn new(files_dir: Option<&Path>) -> Self {
        let proposed = |name: &str| match files_dir {
            Some(dir) => dir.join(name).display().to_string(),
            None => name.to_string(),
        };
        Self {
            log_view: LogView::default(),
            framing_draft: FramingDraft::default(),
            framing_error: None,
            scroll_to: None,
            selected_entry: None,
            selection_extent: None,
            capture_path: proposed("capture.pcapng"),
            capture: None,
            capture_error: None,
            rates: RateHistory::default(),
            peer_rates: HashMap::new(),
            export_form: ExportForm {
                format: ExportFormat::Text,
                filtered_only: false,
                path: proposed("export.txt"),
            },
            export: None,
            export_result: None,
            picking: None,
        }
    }

    /// Shows the log framed by `framing`, and the framing form with its fields.
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing_draft = FramingDraft::from_framing(&framing);
        self.log_view.set_framing(framing);
    }
}

/// What the user asked for in the log view.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficAction {
    /// Start capturing the session to a pcapng file.
    StartCapture(PathBuf),
    /// Stop capturing.
    StopCapture,
    /// Export the log with the export form's settings.
    Export,
    /// Stop an export early.
    CancelExport,
    /// Choose a file for a path field with a save dialog.
    Browse(PathField),
    /// Put the selected entries in the Scenarios tab as `send` and `expect` lines.
    SaveAsScenario,
}

/// Makes the directory of a proposed capture or export file when it is sockdbg's own
/// (owner-only); any other directory is the user's choice and is used as it is.
fn prepare_dir(
    files_dir: Option<&Path>,
    path: &Path,
) -> Result<(), crate::private_files::PrivateFileError> {
    match (files_dir, path.parent()) {
        (Some(own), Some(parent)) if parent == own => crate::private_files::ensure_private_dir(own),
        _ => Ok(()),
    }
}

impl App {
    /// Carries out a [`TrafficAction`] on session `id`.
    pub fn perform_traffic(&mut self, id: SessionId, action: TrafficAction) {
        if let TrafficAction::SaveAsScenario = action {
            self.save_as_scenario(id);
            return;
        }
        let language = self.language();
        let files_dir = self.files_dir.clone();
        let encoding = self.settings_of(id).encoding;
        let Some(session) = self.sessions.get(id) else {
            return;
        };
        let state = self
            .traffic
            .entry(id)
            .or_insert_with(|| TrafficState::new(files_dir.as_deref()));
        match action {
            TrafficAction::StartCapture(path) => {
                let local = match &session.state {
                    SessionState::Running { local_addr } => Some(*local_addr),
                    _ => None,
                };
                let started = prepare_dir(files_dir.as_deref(), &path)
                    .map_err(|e| crate::capture::CaptureError::Io {
                        path: path.clone(),
                        reason: e.to_string(),
                    })
                    .and_then(|()| {
                        CaptureThread::start(&path, Some(id), &[(id, session.spec.clone(), local)])
                    });
                match started {
                    Ok(capture) => {
                        // Connections already open get a handshake so Wireshark follows them.
                        for peer in session.connected_peers() {
                            capture.feed_peer(id, peer.id, peer.addr);
                        }
                        state.capture = Some(capture);
                        state.capture_error = None;
                    }
                    Err(e) => state.capture_error = Some(Problem::Capture(e)),
                }
            }
            TrafficAction::Export => {
                let lv = &state.log_view;
                let rows = if state.export_form.filtered_only {
                    let count = lv.shown_count(&session.log);
                    ExportRows::List(
                        (0..count)
                            .filter_map(|i| lv.shown_id(&session.log, i))
                            .collect(),
                    )
                } else {
                    let (first, end) = lv.row_range(&session.log);
                    ExportRows::Range(first, end)
                };
                let path = PathBuf::from(state.export_form.path.trim());
                let started = prepare_dir(files_dir.as_deref(), &path)
                    .map_err(|e| crate::export::ExportError::Io {
                        path: path.clone(),
                        reason: e.to_string(),
                    })
                    .and_then(|()| {
                        ExportJob::start(
                            &path,
                            state.export_form.format,
                            encoding,
                            session.spec.to_string(),
                            rows.len(),
                        )
                    });
                match started {
                    Ok(job) => {
                        state.export = Some((job, rows));
                        state.export_result = None;
                    }
                    Err(e) => state.export_result = Some(Err(Problem::Export(e))),
                }
            }
            TrafficAction::SaveAsScenario => {} // taken above: it needs the whole App
            TrafficAction::Browse(field) => {
                let current = match field {
                    PathField::Capture => &state.capture_path,
                    PathField::Export => &state.export_form.path,
                };
                let current = PathBuf::from(current.trim());
                let kind = DialogKind::Save {
                    title: tr(language, Text::SaveAs).to_string(),
                    current,
                };
                match PendingDialog::spawn(kind) {
                    Ok(dialog) => state.picking = Some((field, dialog)),
                    Err(e) => match field {
                        PathField::Capture => state.capture_error = Some(Problem::Dialog(e)),
                        PathField::Export => state.export_result = Some(Err(Problem::Dialog(e))),
                    },
                }
            }
            TrafficAction::CancelExport => {
                if let Some((job, _)) = &mut state.export {
                    job.cancel();
                }
            }
            TrafficAction::StopCapture => {
                if let Some(capture) = state.capture.take()
                    && let Err(e) = capture.finish()
                {
                    state.capture_error = Some(Problem::Capture(e));
                }
            }
        }
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Seconds on a steady clock, for rates.
pub fn steady_seconds() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Advances every session's log view, shown or not: framing, filter and search catch up
/// with new entries, rates are sampled, a running export gets its next rows and file
/// dialogs are polled. Asks `ctx` for the next frame when one of them has more to do.
pub fn background(ctx: &egui::Context, app: &mut App) {
    let now = now_micros();
    let files_dir = app.files_dir.clone();
    for session in app.sessions.iter() {
        let encoding = app
            .views
            .get(&session.id)
            .map_or(app.view.new_session.encoding, |v| v.settings.encoding);
        let state = app
            .traffic
            .entry(session.id)
            .or_insert_with(|| TrafficState::new(files_dir.as_deref()));
        let busy = state.log_view.update(&session.log, encoding, now);
        sample_rates(state, session);
        feed_export(state, session);
        poll_dialog(state);
        if busy || state.export.is_some() {
            ctx.request_repaint();
        } else if let Some(framed) = state.log_view.framed()
            && matches!(framed.framing(), Framing::Idle { .. })
            && framed.pending_bytes() > 0
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(20));
        }
        if state.picking.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if state.capture.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
    }
}

/// Samples the session's and its peers' counters, at most every
/// [`crate::model::stats::SAMPLE_EVERY_S`]: this runs every frame for every session, so
/// between samples it touches no peer (a server may list thousands).
fn sample_rates(state: &mut TrafficState, session: &Session) {
    let t = steady_seconds();
    let counters = &session.counters;
    if !state.rates.sample(t, counters.rx_bytes, counters.tx_bytes) {
        return;
    }
    for (index, peer) in session.peers.iter() {
        if peer.connected || state.peer_rates.contains_key(&index) {
            state
                .peer_rates
                .entry(index)
                .or_default()
                .sample(t, peer.rx_bytes, peer.tx_bytes);
        }
    }
}
