//! The right panel's log: toolbars (display, framing, filter and search, capture), one row
//! per read or frame drawn only for the rows on screen, a statistics side panel, and a detail
//! pane with the selected row as a hex dump or text, with copy buttons.
//!
//! Bytes are decoded when drawn, so switching hex/text, the encoding or the framing
//! re-renders the whole history. Framing, filtering and search run incrementally in
//! [`LogView::update`] (a bounded amount of work per frame), and only visible rows are laid
//! out, so a frame costs about the same with a hundred entries or ten million.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use egui::text::LayoutJob;
use egui::{FontId, TextFormat};

use crate::app::{Action, App};
use crate::capture::CaptureThread;
use crate::codec::display::{escape_controls, escape_controls_keep_lines};
use crate::codec::dump::{c_literal, dump_rows, python_literal};
use crate::codec::framing::{DEFAULT_MAX_FRAME, Framing, LengthPrefix, LengthWidth};
use crate::codec::hex::{parse_hex, push_hex_spaced, to_hex_spaced};
use crate::codec::text::{TextEncoding, decode_for_display};
use crate::config::ViewSettings;
use crate::export::{ExportFormat, ExportJob, ExportRow};
use crate::i18n::Text;
use crate::model::log::NO_PEER;
use crate::model::stats::RateHistory;
use crate::model::view::{DirectionFilter, LogView, Row};
use crate::model::{EntryKind, LogEntry, Session};
use crate::protocol::SessionId;
use crate::ui::format::{byte_count, clock_time, kind_color, kind_label};
use crate::ui::send_box::encoding_ui;
use crate::ui::t;

/// Bytes of a row shown in it as hex (the detail pane shows more).
const ROW_HEX_BYTES: usize = 128;
/// Bytes of a row decoded for it as text.
const ROW_TEXT_BYTES: usize = 512;
/// Bytes of a row shown in the detail pane.
const DETAIL_MAX_BYTES: usize = 256 * 1024;

/// How row times are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimestampMode {
    /// Not shown.
    Off,
    /// Local time of day with milliseconds.
    #[default]
    Absolute,
    /// Seconds since the previous row shown.
    Relative,
}

/// Window-wide log preferences that are not saved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogPrefs {
    /// How row times are shown.
    pub timestamps: TimestampMode,
    /// Whether the statistics panel is open.
    pub show_stats: bool,
}

/// The framing form's fields, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramingDraft {
    /// The mode picked.
    pub mode: FramingMode,
    /// Idle gap, ms.
    pub gap_ms: String,
    /// Delimiter, hex.
    pub delimiter: String,
    /// Keep the delimiter in the payload.
    pub keep: bool,
    /// Fixed length.
    pub fixed_len: String,
    /// Length field width.
    pub width: LengthWidth,
    /// Bytes before the length field.
    pub offset: String,
    /// The length counts the header.
    pub include_header: bool,
    /// Largest frame.
    pub max_frame: String,
}

impl Default for FramingDraft {
    fn default() -> Self {
        Self {
            mode: FramingMode::Raw,
            gap_ms: "50".into(),
            delimiter: "0d 0a".into(),
            keep: false,
            fixed_len: "8".into(),
            width: LengthWidth::U32Le,
            offset: "0".into(),
            include_header: false,
            max_frame: DEFAULT_MAX_FRAME.to_string(),
        }
    }
}

/// The framing modes offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingMode {
    /// Reads as they came.
    Raw,
    /// Merge until silence.
    Idle,
    /// Delimiter.
    Delimiter,
    /// Fixed length.
    Fixed,
    /// Length prefix.
    Length,
}

impl FramingMode {
    const ALL: [FramingMode; 5] = [
        FramingMode::Raw,
        FramingMode::Idle,
        FramingMode::Delimiter,
        FramingMode::Fixed,
        FramingMode::Length,
    ];

    fn label(self) -> &'static str {
        match self {
            FramingMode::Raw => "Raw reads",
            FramingMode::Idle => "Idle gap",
            FramingMode::Delimiter => "Delimiter",
            FramingMode::Fixed => "Fixed length",
            FramingMode::Length => "Length prefix",
        }
    }
}

impl FramingDraft {
    /// The fields for `framing` (other fields keep their defaults).
    pub fn from_framing(framing: &Framing) -> Self {
        let mut draft = Self::default();
        match framing {
            Framing::Raw => {}
            Framing::Idle { gap_ms } => {
                draft.mode = FramingMode::Idle;
                draft.gap_ms = gap_ms.to_string();
            }
            Framing::Delimiter {
                delimiter,
                keep,
                max_frame,
            } => {
                draft.mode = FramingMode::Delimiter;
                draft.delimiter = to_hex_spaced(delimiter).to_ascii_lowercase();
                draft.keep = *keep;
                draft.max_frame = max_frame.to_string();
            }
            Framing::Fixed { len } => {
                draft.mode = FramingMode::Fixed;
                draft.fixed_len = len.to_string();
            }
            Framing::Length(p) => {
                draft.mode = FramingMode::Length;
                draft.width = p.width;
                draft.offset = p.offset.to_string();
                draft.include_header = p.include_header;
                draft.max_frame = p.max_frame.to_string();
            }
        }
        draft
    }

    /// The framing the fields describe.
    ///
    /// # Errors
    /// A message naming the field that is wrong.
    pub fn framing(&self) -> Result<Framing, String> {
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("{what} must be a number"))
        };
        Ok(match self.mode {
            FramingMode::Raw => Framing::Raw,
            FramingMode::Idle => Framing::Idle {
                gap_ms: number(&self.gap_ms, "the gap")?,
            },
            FramingMode::Delimiter => {
                let delimiter =
                    parse_hex(&self.delimiter).map_err(|e| format!("delimiter: {e}"))?;
                if delimiter.is_empty() {
                    return Err("the delimiter is empty".into());
                }
                Framing::Delimiter {
                    delimiter,
                    keep: self.keep,
                    max_frame: number(&self.max_frame, "max")?,
                }
            }
            FramingMode::Fixed => match number(&self.fixed_len, "the length")? {
                0 => return Err("the length must be at least 1".into()),
                len => Framing::Fixed { len },
            },
            FramingMode::Length => Framing::Length(LengthPrefix {
                width: self.width,
                offset: usize::try_from(number(&self.offset, "the offset")?)
                    .map_err(|_| "the offset is too large".to_string())?,
                include_header: self.include_header,
                max_frame: number(&self.max_frame, "max")?,
            }),
        })
    }
}

/// Per-session state of the log view: what it shows, its forms, capture and rates.
pub struct TrafficState {
    /// Framing, filter, search, pause.
    pub log_view: LogView,
    /// The framing form.
    pub framing_draft: FramingDraft,
    /// Why the framing form cannot be used.
    pub framing_error: Option<String>,
    /// A row to scroll to on the next frame.
    pub scroll_to: Option<u64>,
    /// The capture file field.
    pub capture_path: String,
    /// The running capture.
    pub capture: Option<CaptureThread>,
    /// Why the last capture failed to start or write.
    pub capture_error: Option<String>,
    /// Session totals over time.
    pub rates: RateHistory,
    /// Per peer (by index): totals over time.
    pub peer_rates: HashMap<u32, RateHistory>,
    /// The export form.
    pub export_form: ExportForm,
    /// The export running, with the rows it covers.
    pub export: Option<(ExportJob, ExportRows)>,
    /// How the last export ended (or why it could not start).
    pub export_result: Option<Result<String, String>>,
    /// A file dialog open on its own thread, and which field it fills.
    pub picking: Option<(PathField, std::sync::mpsc::Receiver<Option<PathBuf>>)>,
}

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
    fn len(&self) -> u64 {
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

impl Default for TrafficState {
    fn default() -> Self {
        let capture_path = std::env::temp_dir()
            .join("sockdbg-capture.pcapng")
            .display()
            .to_string();
        Self {
            log_view: LogView::default(),
            framing_draft: FramingDraft::default(),
            framing_error: None,
            scroll_to: None,
            capture_path,
            capture: None,
            capture_error: None,
            rates: RateHistory::default(),
            peer_rates: HashMap::new(),
            export_form: ExportForm {
                format: ExportFormat::Text,
                filtered_only: false,
                path: std::env::temp_dir()
                    .join("sockdbg-export.txt")
                    .display()
                    .to_string(),
            },
            export: None,
            export_result: None,
            picking: None,
        }
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
}

/// Sets a restored session's framing from its saved text (`len:u32le`, ...); an unreadable
/// one is reported as a notice and the session shows raw reads.
pub fn restore_framing(app: &mut App, id: SessionId, saved: &str) {
    if saved.trim().is_empty() {
        return;
    }
    match saved.parse::<Framing>() {
        Ok(framing) => {
            let state = app.traffic.entry(id).or_default();
            state.framing_draft = FramingDraft::from_framing(&framing);
            state.log_view.set_framing(framing);
        }
        Err(e) => app.notices.push(format!("Saved framing was not used: {e}")),
    }
}

/// Carries out a [`TrafficAction`] on session `id`.
pub fn perform(app: &mut App, id: SessionId, action: TrafficAction) {
    let Some(session) = app.sessions.get(id) else {
        return;
    };
    let state = app.traffic.entry(id).or_default();
    match action {
        TrafficAction::StartCapture(path) => {
            let local = match &session.state {
                crate::model::SessionState::Running { local_addr } => Some(*local_addr),
                _ => None,
            };
            match CaptureThread::start(&path, Some(id), &[(id, session.spec.clone(), local)]) {
                Ok(capture) => {
                    // Connections already open get a handshake so Wireshark follows them.
                    for peer in session.connected_peers() {
                        capture.feed_peer(id, peer.id, peer.addr);
                    }
                    state.capture = Some(capture);
                    state.capture_error = None;
                }
                Err(e) => state.capture_error = Some(e.to_string()),
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
            match ExportJob::start(
                &path,
                state.export_form.format,
                app.view.log_encoding,
                session.spec.to_string(),
                rows.len(),
            ) {
                Ok(job) => {
                    state.export = Some((job, rows));
                    state.export_result = None;
                }
                Err(e) => state.export_result = Some(Err(e.to_string())),
            }
        }
        TrafficAction::Browse(field) => {
            let current = match field {
                PathField::Capture => &state.capture_path,
                PathField::Export => &state.export_form.path,
            };
            let current = PathBuf::from(current.trim());
            let (tx, rx) = std::sync::mpsc::channel();
            // The dialog blocks until closed: it runs on a thread of its own.
            let spawned = std::thread::Builder::new()
                .name("sockdbg-save-dialog".into())
                .spawn(move || {
                    let mut dialog = rfd::FileDialog::new().set_title("Save as");
                    if let Some(name) = current.file_name() {
                        dialog = dialog.set_file_name(name.to_string_lossy());
                    }
                    if let Some(dir) = current.parent().filter(|d| d.is_dir()) {
                        dialog = dialog.set_directory(dir);
                    }
                    tx.send(dialog.save_file()).ok(); // the window closed meanwhile
                });
            match spawned {
                Ok(_) => state.picking = Some((field, rx)),
                Err(e) => {
                    let message = format!("cannot open a file dialog ({e}); type the path");
                    match field {
                        PathField::Capture => state.capture_error = Some(message),
                        PathField::Export => state.export_result = Some(Err(message)),
                    }
                }
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
                state.capture_error = Some(e.to_string());
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
fn steady_seconds() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Draws the log of session `id` (toolbars, rows, statistics, detail pane).
pub fn traffic_view_ui(ui: &mut egui::Ui, app: &mut App, id: SessionId, actions: &mut Vec<Action>) {
    let Some(session) = app.sessions.get(id) else {
        return;
    };
    let view = &mut app.view;
    let prefs = &mut app.log_prefs;
    let session_view = app.views.entry(id).or_default();
    let state = app.traffic.entry(id).or_default();
    let busy = state
        .log_view
        .update(&session.log, view.log_encoding, now_micros());
    sample_rates(state, session);
    feed_export(state, session);
    poll_dialog(state);
    if state.picking.is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    if state.export.is_some() {
        ui.ctx().request_repaint();
    }
    if busy {
        ui.ctx().request_repaint();
    } else if let Some(framed) = state.log_view.framed()
        && matches!(framed.framing(), Framing::Idle { .. })
        && framed.pending_bytes() > 0
    {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(20));
    }
    if state.capture.is_some() || prefs.show_stats {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }
    header_ui(ui, session, state);
    toolbar_ui(ui, view, prefs, session, state, id, actions);
    framing_ui(ui, state, &mut session_view.selected_entry);
    filter_bar_ui(ui, session, state, &mut session_view.selected_entry);
    save_ui(ui, state, id, actions);
    ui.separator();
    if prefs.show_stats {
        // A window of its own: the log keeps its width.
        egui::Window::new(format!("Statistics: {}", session.title()))
            .id(egui::Id::unique(("traffic_stats", id.0)))
            .open(&mut prefs.show_stats)
            .default_width(300.0)
            .resizable(true)
            .show(ui.ctx(), |ui| stats_ui(ui, session, state));
    }
    let selected = session_view
        .selected_entry
        .and_then(|row| state.log_view.row(&session.log, row, DETAIL_MAX_BYTES));
    if let Some(row) = selected {
        // The log keeps at least about half of the height for its rows.
        let room = ui.available_height();
        egui::Panel::bottom("entry_detail")
            .resizable(true)
            .default_size((room * 0.45).clamp(60.0, 220.0))
            .min_size(60.0)
            .max_size((room * 0.6).max(60.0))
            .show(ui, |ui| detail_ui(ui, session, &row, view));
    }
    let clicked = rows_ui(ui, session, view, prefs, state, session_view.selected_entry);
    if let Some(row) = clicked {
        session_view.selected_entry = if session_view.selected_entry == Some(row) {
            None
        } else {
            Some(row)
        };
    }
}

/// Fills a path field when its file dialog has closed.
fn poll_dialog(state: &mut TrafficState) {
    let Some((field, rx)) = &state.picking else {
        return;
    };
    let picked = match rx.try_recv() {
        Ok(picked) => picked,
        Err(std::sync::mpsc::TryRecvError::Empty) => return,
        Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
    };
    if let Some(path) = picked {
        let path = path.display().to_string();
        match field {
            PathField::Capture => state.capture_path = path,
            PathField::Export => state.export_form.path = path,
        }
    }
    state.picking = None;
}

/// Hands the running export its next rows (a bounded amount per frame) and collects its end.
fn feed_export(state: &mut TrafficState, session: &Session) {
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
        let path = job.path().display().to_string();
        state.export_result = Some(outcome.map(|rows| format!("exported {rows} rows to {path}")));
        state.export = None;
    }
}

fn sample_rates(state: &mut TrafficState, session: &Session) {
    let t = steady_seconds();
    state
        .rates
        .sample(t, session.counters.rx_bytes, session.counters.tx_bytes);
    for (index, peer) in session.peers.iter().enumerate() {
        let Ok(index) = u32::try_from(index) else {
            continue;
        };
        if peer.connected || state.peer_rates.contains_key(&index) {
            state
                .peer_rates
                .entry(index)
                .or_default()
                .sample(t, peer.rx_bytes, peer.tx_bytes);
        }
    }
}

fn header_ui(ui: &mut egui::Ui, session: &Session, state: &TrafficState) {
    ui.horizontal(|ui| {
        let language = crate::ui::language(ui.ctx());
        ui.heading(format!(
            "{} {}",
            crate::ui::session_list::kind_name(language, session.spec.kind),
            session.spec.address()
        ));
        // Long failure reasons must not widen the panel: they are cut, and shown whole in
        // the session list.
        ui.add(egui::Label::new(crate::ui::session_list::state_text(language, session)).truncate());
        if let Some(capture) = &state.capture {
            ui.label(
                egui::RichText::new(format!(
                    "capturing to {} ({} packets)",
                    capture.path().display(),
                    capture.packets()
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
    });
}

fn toolbar_ui(
    ui: &mut egui::Ui,
    view: &mut ViewSettings,
    prefs: &mut LogPrefs,
    session: &Session,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t(ui, Text::LogLabel));
        ui.selectable_value(&mut view.log_hex, false, t(ui, Text::TextMode));
        ui.selectable_value(&mut view.log_hex, true, t(ui, Text::HexMode));
        encoding_ui(ui, t(ui, Text::DecodeAs), &mut view.log_encoding, "log");
        let label = ui.label(t(ui, Text::Time));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(match prefs.timestamps {
                TimestampMode::Off => t(ui, Text::TimeOff),
                TimestampMode::Absolute => t(ui, Text::TimeAbsolute),
                TimestampMode::Relative => t(ui, Text::TimeRelative),
            })
            .width(80.0)
            .show_ui(ui, |ui| {
                for (mode, key) in [
                    (TimestampMode::Off, Text::TimeOff),
                    (TimestampMode::Absolute, Text::TimeAbsolute),
                    (TimestampMode::Relative, Text::TimeRelative),
                ] {
                    ui.selectable_value(&mut prefs.timestamps, mode, t(ui, key));
                }
            })
            .response
            .labelled_by(label.id);
        ui.checkbox(&mut view.auto_scroll, t(ui, Text::AutoScroll));
        let log = &session.log;
        let paused = state.log_view.paused_at.is_some();
        let pause_text = if paused {
            t(ui, Text::Resume)
        } else {
            t(ui, Text::Pause)
        };
        if ui
            .selectable_label(paused, pause_text)
            .on_hover_text(t(ui, Text::PauseTip))
            .clicked()
        {
            state.log_view.set_paused(log, !paused);
        }
        if paused {
            ui.label(
                egui::RichText::new(format!("{} new", state.log_view.new_while_paused(log)))
                    .color(ui.visuals().warn_fg_color),
            );
        }
        if ui
            .button(t(ui, Text::Clear))
            .on_hover_text(t(ui, Text::ClearLogTip))
            .clicked()
        {
            actions.push(Action::ClearLog(id));
        }
        ui.toggle_value(&mut prefs.show_stats, t(ui, Text::Statistics));
        let dropped = log.evicted_entries();
        let count = if dropped > 0 {
            crate::ui::tf(ui, Text::EntriesDropped, &[&log.len(), &dropped])
        } else {
            crate::ui::tf(ui, Text::Entries, &[&log.len()])
        };
        ui.add(egui::Label::new(egui::RichText::new(count).weak()).extend());
    });
}

/// A label and the text field it names.
fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32) -> bool {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).desired_width(width))
        .labelled_by(label.id)
        .changed()
}

fn framing_ui(ui: &mut egui::Ui, state: &mut TrafficState, selected: &mut Option<u64>) {
    let draft = &mut state.framing_draft;
    let before = draft.clone();
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t(ui, Text::Framing));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(draft.mode.label())
            .width(110.0)
            .show_ui(ui, |ui| {
                for mode in FramingMode::ALL {
                    ui.selectable_value(&mut draft.mode, mode, mode.label());
                }
            })
            .response
            .labelled_by(label.id);
        match draft.mode {
            FramingMode::Raw => {
                ui.label(egui::RichText::new("each read as it came").weak());
            }
            FramingMode::Idle => {
                labelled_field(ui, "Gap ms", &mut draft.gap_ms, 50.0);
            }
            FramingMode::Delimiter => {
                labelled_field(ui, "Delimiter hex", &mut draft.delimiter, 80.0);
                ui.checkbox(&mut draft.keep, "Keep delimiter");
                labelled_field(ui, "Max", &mut draft.max_frame, 70.0);
            }
            FramingMode::Fixed => {
                labelled_field(ui, "Bytes", &mut draft.fixed_len, 50.0);
            }
            FramingMode::Length => {
                let label = ui.label("Field");
                egui::ComboBox::from_id_salt(label.id)
                    .selected_text(draft.width.name())
                    .width(70.0)
                    .show_ui(ui, |ui| {
                        for width in LengthWidth::ALL {
                            ui.selectable_value(&mut draft.width, width, width.name());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                labelled_field(ui, "Offset", &mut draft.offset, 30.0);
                ui.checkbox(&mut draft.include_header, "Length includes header");
                labelled_field(ui, "Max", &mut draft.max_frame, 70.0);
            }
        }
        if let Some(framed) = state.log_view.framed() {
            let pending = framed.pending_bytes();
            if pending > 0 {
                ui.label(egui::RichText::new(format!("{pending} B pending")).weak())
                    .on_hover_text("Bytes received that do not complete a frame yet");
            }
        }
        if let Some(error) = &state.framing_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
    if *draft != before {
        match draft.framing() {
            Ok(framing) => {
                state.framing_error = None;
                if framing != state.log_view.framing() {
                    state.log_view.set_framing(framing);
                    *selected = None;
                }
            }
            Err(e) => state.framing_error = Some(e),
        }
    }
}

fn filter_bar_ui(
    ui: &mut egui::Ui,
    session: &Session,
    state: &mut TrafficState,
    selected: &mut Option<u64>,
) {
    let log = &session.log;
    let lv = &mut state.log_view;
    ui.horizontal_wrapped(|ui| {
        labelled_field(ui, t(ui, Text::Filter), &mut lv.filter.pattern.text, 120.0);
        ui.checkbox(&mut lv.filter.pattern.hex, t(ui, Text::FilterAsHex));
        let dir = &mut lv.filter.direction;
        ui.selectable_value(dir, DirectionFilter::All, t(ui, Text::DirAll));
        ui.selectable_value(dir, DirectionFilter::Rx, t(ui, Text::RxOnly));
        ui.selectable_value(dir, DirectionFilter::Tx, t(ui, Text::TxOnly));
        let all_peers = t(ui, Text::AllPeers);
        let peer_text = |index: Option<u32>| match index.and_then(|i| session.peer_addr(i)) {
            Some(addr) => addr.to_string(),
            None => all_peers.to_string(),
        };
        let label = ui.label(t(ui, Text::Peer));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(peer_text(lv.filter.peer))
            .width(150.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut lv.filter.peer, None, all_peers);
                for (index, peer) in session.peers.iter().enumerate() {
                    let Ok(index) = u32::try_from(index) else {
                        continue;
                    };
                    ui.selectable_value(&mut lv.filter.peer, Some(index), peer.addr.to_string());
                }
            })
            .response
            .labelled_by(label.id);
        if !lv.filter.is_empty() {
            ui.label(egui::RichText::new(format!("{} rows shown", lv.shown_count(log))).weak());
        }
    });
    ui.horizontal_wrapped(|ui| {
        // Ctrl+F focuses this field (see `ui::log_search_id`).
        let label = ui.label(t(ui, Text::Search));
        ui.add(
            egui::TextEdit::singleline(&mut lv.search.text)
                .id(crate::ui::log_search_id())
                .desired_width(120.0),
        )
        .labelled_by(label.id)
        .on_hover_text(t(ui, Text::SearchTip));
        ui.checkbox(&mut lv.search.hex, t(ui, Text::SearchAsHex));
        let mut step = None;
        if ui.button(t(ui, Text::Previous)).clicked() {
            step = Some(false);
        }
        if ui.button(t(ui, Text::Next)).clicked() {
            step = Some(true);
        }
        if let Some(forward) = step
            && let Some(hit) = lv.next_hit(log, *selected, forward)
        {
            *selected = Some(hit);
            state.scroll_to = Some(hit);
        }
        if lv.searching() {
            let total = lv.hit_count(log);
            let position = selected.and_then(|s| lv.hit_position(s));
            let text = match position {
                Some(p) => format!("{p} of {total} matches"),
                None => format!("{total} matches"),
            };
            ui.label(text);
        }
        if lv.matching_behind(log) {
            ui.spinner();
        }
        if let Some(error) = &lv.pattern_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
}

fn save_ui(ui: &mut egui::Ui, state: &mut TrafficState, id: SessionId, actions: &mut Vec<Action>) {
    egui::CollapsingHeader::new(t(ui, Text::CaptureAndExport))
        .id_salt("save_section")
        .default_open(false)
        .show(ui, |ui| {
            capture_ui(ui, state, id, actions);
            export_ui(ui, state, id, actions);
        });
}

fn export_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        let form = &mut state.export_form;
        let label = ui.label("Export as");
        let before = form.format;
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(form.format.label())
            .width(150.0)
            .show_ui(ui, |ui| {
                for format in ExportFormat::ALL {
                    ui.selectable_value(&mut form.format, format, format.label());
                }
            })
            .response
            .labelled_by(label.id);
        if form.format != before {
            // Follow the format with the file's extension, when it still has a known one.
            let known = ExportFormat::ALL
                .iter()
                .find(|f| form.path.ends_with(&format!(".{}", f.extension())));
            if let Some(old) = known {
                let stem = form.path.len() - old.extension().len();
                form.path.replace_range(stem.., form.format.extension());
            }
        }
        ui.checkbox(&mut form.filtered_only, "Filtered rows only");
        labelled_field(ui, "Export file", &mut form.path, 260.0);
        if ui
            .add_enabled(
                state.picking.is_none(),
                egui::Button::new("Choose export file…"),
            )
            .clicked()
        {
            actions.push(Action::Traffic(
                id,
                TrafficAction::Browse(PathField::Export),
            ));
        }
        match &mut state.export {
            Some((job, _)) => {
                let progress = job.progress();
                ui.add(
                    egui::ProgressBar::new(progress)
                        .desired_width(160.0)
                        .show_percentage(),
                );
                if ui.button("Cancel export").clicked() {
                    actions.push(Action::Traffic(id, TrafficAction::CancelExport));
                }
            }
            None => {
                if ui.button("Export log").clicked() {
                    actions.push(Action::Traffic(id, TrafficAction::Export));
                }
            }
        }
        match &state.export_result {
            Some(Ok(message)) => {
                ui.label(message);
            }
            Some(Err(message)) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
            None => {}
        }
    });
}

fn capture_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        let capturing = state.capture.is_some();
        ui.add_enabled_ui(!capturing, |ui| {
            labelled_field(ui, "Capture file", &mut state.capture_path, 260.0);
            if ui
                .add_enabled(
                    state.picking.is_none(),
                    egui::Button::new("Choose capture file…"),
                )
                .clicked()
            {
                actions.push(Action::Traffic(
                    id,
                    TrafficAction::Browse(PathField::Capture),
                ));
            }
        });
        if capturing {
            if ui.button(t(ui, Text::StopCapture)).clicked() {
                actions.push(Action::Traffic(id, TrafficAction::StopCapture));
            }
        } else if ui
            .button(t(ui, Text::StartCapture))
            .on_hover_text("Write every byte, both ways, to a pcapng file for Wireshark")
            .clicked()
        {
            actions.push(Action::Traffic(
                id,
                TrafficAction::StartCapture(PathBuf::from(state.capture_path.trim())),
            ));
        }
        let error = state
            .capture_error
            .clone()
            .or_else(|| state.capture.as_ref().and_then(CaptureThread::error));
        if let Some(error) = error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
}

/// Draws the visible rows; returns the id of a clicked row.
fn rows_ui(
    ui: &mut egui::Ui,
    session: &Session,
    view: &ViewSettings,
    prefs: &LogPrefs,
    state: &mut TrafficState,
    selected: Option<u64>,
) -> Option<u64> {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    let log = &session.log;
    let lv = &state.log_view;
    let count = lv.shown_count(log);
    let mut clicked = None;
    let mut area = egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .min_scrolled_height(2.0 * row_height)
        .stick_to_bottom(view.auto_scroll && lv.paused_at.is_none());
    if let Some(target) = state.scroll_to.take()
        && let Some(index) = lv.shown_index(log, target)
    {
        let spacing = ui.spacing().item_spacing.y;
        let offset = (index as f32 * (row_height + spacing) - 3.0 * row_height).max(0.0);
        area = area.vertical_scroll_offset(offset).stick_to_bottom(false);
    }
    let framed = lv.framed().is_some();
    area.show_rows(ui, row_height, count, |ui, rows| {
        let mut previous_at = rows
            .start
            .checked_sub(1)
            .and_then(|i| lv.shown_id(log, i))
            .and_then(|id| lv.row(log, id, 0))
            .map(|r| r.at_micros);
        for index in rows {
            let Some(row) = lv
                .shown_id(log, index)
                .and_then(|id| lv.row(log, id, ROW_TEXT_BYTES.max(ROW_HEX_BYTES)))
            else {
                continue;
            };
            let job = row_job(
                session,
                &row,
                view,
                prefs,
                previous_at,
                framed,
                ui.visuals(),
                &font,
            );
            previous_at = Some(row.at_micros);
            let label = egui::Label::new(job).truncate().sense(egui::Sense::click());
            let response = ui.add(label);
            let fill = if selected == Some(row.id) {
                Some(ui.visuals().selection.bg_fill.gamma_multiply(0.4))
            } else if lv.is_hit(row.id) {
                Some(ui.visuals().warn_fg_color.gamma_multiply(0.25))
            } else {
                None
            };
            if let Some(fill) = fill {
                ui.painter().rect_filled(response.rect, 2.0, fill);
            }
            if response.clicked() {
                clicked = Some(row.id);
            }
        }
    });
    clicked
}

fn peer_text(session: &Session, peer: u32) -> String {
    if peer == NO_PEER {
        return "-".to_string();
    }
    session
        .peer_addr(peer)
        .map_or_else(|| "-".to_string(), |a| a.to_string())
}

/// The peer as its row shows it: only `:port` when every peer of the session has the same
/// IP (the usual case on a bench), so the content keeps the room.
fn short_peer_text(session: &Session, peer: u32, same_ip: bool) -> String {
    match session.peer_addr(peer) {
        Some(addr) if same_ip => format!(":{}", addr.port()),
        _ => peer_text(session, peer),
    }
}

/// Whether all the session's peers share one IP address.
fn peers_share_ip(session: &Session) -> bool {
    let mut ips = session.peers.iter().map(|p| p.addr.ip());
    let first = ips.next();
    first.is_some() && ips.all(|ip| Some(ip) == first)
}

/// The one-line text of an entry's content, as shown in its row.
pub fn row_content(entry: &LogEntry<'_>, hex: bool, encoding: TextEncoding) -> String {
    content_text(
        entry.kind,
        entry.bytes,
        entry.bytes.len() as u64,
        entry.context,
        entry.has_successor,
        hex,
        encoding,
    )
}

fn content_text(
    kind: EntryKind,
    bytes: &[u8],
    len: u64,
    context: &[u8],
    has_successor: bool,
    hex: bool,
    encoding: TextEncoding,
) -> String {
    if !kind.is_traffic() {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    if hex {
        let shown = &bytes[..bytes.len().min(ROW_HEX_BYTES)];
        let mut text = String::new();
        push_hex_spaced(&mut text, shown);
        if (shown.len() as u64) < len {
            text.push_str(" …");
        }
        return text;
    }
    let shown = &bytes[..bytes.len().min(ROW_TEXT_BYTES)];
    let truncated = (shown.len() as u64) < len;
    let complete = !has_successor && !truncated;
    let decoded = decode_for_display(context, shown, complete, encoding);
    let mut text = escape_controls(&decoded).into_owned();
    if truncated {
        text.push_str(" …");
    }
    text
}

#[allow(clippy::too_many_arguments)] // one row's inputs, all read-only
fn row_job(
    session: &Session,
    row: &Row<'_>,
    view: &ViewSettings,
    prefs: &LogPrefs,
    previous_at: Option<i64>,
    framed: bool,
    visuals: &egui::Visuals,
    font: &FontId,
) -> LayoutJob {
    let weak = visuals.weak_text_color();
    let strong = visuals.text_color();
    let color = kind_color(row.kind, visuals);
    let mut job = LayoutJob::default();
    let mut add = |text: &str, color: egui::Color32| {
        job.append(text, 0.0, TextFormat::simple(font.clone(), color));
    };
    match prefs.timestamps {
        TimestampMode::Off => {}
        TimestampMode::Absolute => add(&format!("{}  ", clock_time(row.at_micros)), weak),
        TimestampMode::Relative => {
            let delta = previous_at.map_or(0, |p| row.at_micros.saturating_sub(p));
            add(&format!("{:>+11.6}  ", delta as f64 / 1e6), weak);
        }
    }
    add(&format!("{}  ", kind_label(row.kind)), color);
    // The peer column is as wide as the longest address of the session, not more.
    let same_ip = peers_share_ip(session);
    let peer_width = (0..session.peers.len())
        .map(|i| short_peer_text(session, u32::try_from(i).unwrap_or(NO_PEER), same_ip).len())
        .max()
        .unwrap_or(1)
        .min(47);
    add(
        &format!(
            "{:<width$}  ",
            short_peer_text(session, row.peer, same_ip),
            width = peer_width
        ),
        weak,
    );
    if row.kind.is_traffic() {
        add(&format!("{:>7}  ", format!("{} B", row.len)), weak);
    } else {
        add("         ", weak);
    }
    if row.invalid.is_some() {
        // Skipped while resynchronizing; the detail pane says why.
        add("[invalid] ", visuals.error_fg_color);
    }
    if framed && row.reads > 1 {
        // Frame boundaries: this frame was assembled from several reads.
        add(&format!("[{} reads] ", row.reads), weak);
    }
    let content_color = if row.kind.is_traffic() { strong } else { color };
    add(
        &content_text(
            row.kind,
            &row.bytes,
            row.len,
            row.context,
            row.has_successor,
            view.log_hex,
            view.log_encoding,
        ),
        content_color,
    );
    job
}

fn detail_ui(ui: &mut egui::Ui, session: &Session, row: &Row<'_>, view: &ViewSettings) {
    let direction = match row.kind {
        EntryKind::Rx => "received from",
        EntryKind::Tx => "sent to",
        EntryKind::Info | EntryKind::Error => "note about",
    };
    let bytes: &[u8] = &row.bytes;
    ui.horizontal_wrapped(|ui| {
        let reads = if row.reads > 1 {
            format!("  ·  {} reads", row.reads)
        } else {
            String::new()
        };
        ui.strong(format!(
            "#{}  {} {}  ·  {}  ·  {}{reads}",
            row.id,
            direction,
            peer_text(session, row.peer),
            byte_count(row.len),
            clock_time(row.at_micros)
        ));
        if let Some(reason) = &row.invalid {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("skipped while resynchronizing: {reason}"),
            );
        }
        if ui.small_button(t(ui, Text::CopyHex)).clicked() {
            ui.ctx().copy_text(to_hex_spaced(bytes));
        }
        if ui.small_button(t(ui, Text::CopyText)).clicked() {
            let text = decode_for_display(row.context, bytes, true, view.log_encoding);
            ui.ctx().copy_text(text);
        }
        if ui.small_button("Copy C").clicked() {
            ui.ctx().copy_text(c_literal(bytes));
        }
        if ui.small_button("Copy Python").clicked() {
            ui.ctx().copy_text(python_literal(bytes));
        }
    });
    let truncated = (bytes.len() as u64) < row.len;
    let font = FontId::monospace(13.0);
    if row.kind.is_traffic() && view.log_hex {
        let dump = dump_rows(bytes, view.log_encoding);
        let row_height = ui.fonts_mut(|f| f.row_height(&font));
        egui::ScrollArea::both()
            .id_salt("hex_dump")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, dump.len(), |ui, range| {
                for line in dump.get(range).unwrap_or_default() {
                    let mut job = LayoutJob::default();
                    let weak = ui.visuals().weak_text_color();
                    let strong = ui.visuals().text_color();
                    let offset = format!("{:08X}  ", line.offset);
                    job.append(&offset, 0.0, TextFormat::simple(font.clone(), weak));
                    job.append(&line.hex, 0.0, TextFormat::simple(font.clone(), strong));
                    let text = format!(" {}", line.text);
                    let color = kind_color(row.kind, ui.visuals());
                    job.append(&text, 0.0, TextFormat::simple(font.clone(), color));
                    // One dump row per line; the area scrolls sideways when narrow.
                    ui.add(egui::Label::new(job).extend());
                }
                if truncated {
                    ui.label(format!("… first {} shown", byte_count(bytes.len() as u64)));
                }
            });
        return;
    }
    let mut text = if row.kind.is_traffic() {
        let decoded = decode_for_display(row.context, bytes, !truncated, view.log_encoding);
        escape_controls_keep_lines(&decoded).into_owned()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    if truncated {
        text.push_str(&format!(
            "\n… first {} of {} shown",
            byte_count(bytes.len() as u64),
            byte_count(row.len)
        ));
    }
    egui::ScrollArea::both()
        .id_salt("detail_text")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut text.as_str())
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
        });
}

fn rate_text(bytes_per_s: f64) -> String {
    format!("{}/s", byte_count(bytes_per_s.max(0.0) as u64))
}

fn stats_ui(ui: &mut egui::Ui, session: &Session, state: &TrafficState) {
    ui.heading("Statistics");
    let c = &session.counters;
    let (rx_rate, tx_rate) = state.rates.current();
    egui::Grid::new("session_stats")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label("");
            ui.strong("RX");
            ui.strong("TX");
            ui.end_row();
            ui.label("Bytes");
            ui.label(byte_count(c.rx_bytes));
            ui.label(byte_count(c.tx_bytes));
            ui.end_row();
            ui.label("Packets");
            ui.label(c.rx_packets.to_string());
            ui.label(c.tx_packets.to_string());
            ui.end_row();
            ui.label("Rate");
            ui.label(rate_text(rx_rate));
            ui.label(rate_text(tx_rate));
            ui.end_row();
        });
    let now = steady_seconds();
    let (rx, tx) = state.rates.points(now);
    let rx_color = kind_color(EntryKind::Rx, ui.visuals());
    let tx_color = kind_color(EntryKind::Tx, ui.visuals());
    egui_plot::Plot::new("rate_plot")
        .height(120.0)
        .include_x(-crate::model::stats::HISTORY_S)
        .include_x(0.0)
        .include_y(0.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .x_axis_label("seconds")
        .y_axis_label("bytes/s")
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new("RX", rx).color(rx_color));
            plot.line(egui_plot::Line::new("TX", tx).color(tx_color));
        });
    ui.separator();
    ui.strong("Per peer");
    egui::ScrollArea::vertical()
        .id_salt("peer_stats")
        .show(ui, |ui| {
            egui::Grid::new("peer_stats_grid")
                .striped(true)
                .num_columns(3)
                .show(ui, |ui| {
                    ui.strong("Peer");
                    ui.strong("RX");
                    ui.strong("TX");
                    ui.end_row();
                    for (index, peer) in session.peers.iter().enumerate() {
                        let rates = u32::try_from(index)
                            .ok()
                            .and_then(|i| state.peer_rates.get(&i))
                            .map_or((0.0, 0.0), RateHistory::current);
                        let name = if peer.connected {
                            peer.addr.to_string()
                        } else {
                            format!("{} (gone)", peer.addr)
                        };
                        ui.label(name);
                        ui.label(format!(
                            "{} in {} · {}",
                            byte_count(peer.rx_bytes),
                            peer.rx_packets,
                            rate_text(rates.0)
                        ));
                        ui.label(format!(
                            "{} in {} · {}",
                            byte_count(peer.tx_bytes),
                            peer.tx_packets,
                            rate_text(rates.1)
                        ));
                        ui.end_row();
                    }
                });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_form_round_trips_every_mode() {
        for text in [
            "raw",
            "idle:50",
            "delim:0d0a",
            "delim:0a,keep,max=10",
            "fixed:8",
            "len:u32le",
            "len:u16be,offset=2,include-header,max=100",
        ] {
            let framing: Framing = text.parse().expect("valid");
            let draft = FramingDraft::from_framing(&framing);
            assert_eq!(draft.framing(), Ok(framing), "{text}");
        }
        let bad = FramingDraft {
            mode: FramingMode::Fixed,
            fixed_len: "0".into(),
            ..FramingDraft::default()
        };
        assert!(bad.framing().is_err());
    }
}
