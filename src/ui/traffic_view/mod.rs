//! The log of the selected session, drawn by its [`TrafficState`]: a header line, the
//! toolbar, one row per read or frame drawn only for the rows on screen, a statistics
//! window, and a detail pane with the selected rows as a hex dump or text, with copy
//! buttons. The same state draws the settings column's Log tab ([`LogTab`]: display,
//! framing, filter) and Save tab ([`SaveTab`]: capture and export).
//!
//! Bytes are decoded when drawn, so switching hex/text, the encoding or the framing
//! re-renders the whole history. Framing, filtering and search run incrementally in
//! [`LogView::update`] (a bounded amount of work per frame), and only visible rows are laid
//! out, so a frame costs about the same with a hundred entries or ten million.

use egui::text::LayoutJob;
use egui::{FontId, TextFormat};

use crate::app::framing_form::FramingMode;
use crate::app::saving::PathField;
use crate::app::traffic::steady_seconds;
use crate::app::{Action, TrafficAction, TrafficState};
use crate::codec::display::{escape_controls, escape_controls_keep_lines};
use crate::codec::dump::{c_literal, dump_rows, python_literal};
use crate::codec::framing::{Framing, LengthWidth};
use crate::codec::hex::{parse_hex, push_hex_spaced, to_hex_spaced};
use crate::codec::text::TextEncoding;
use crate::config::{SessionSettings, TimestampMode, ViewSettings};
use crate::export::ExportFormat;
use crate::i18n::{Language, Text, tr, trf};
use crate::model::log::{NO_PEER, TrafficLog};
use crate::model::stats::RateHistory;
use crate::model::view::{DirectionFilter, LogView, Row};
use crate::model::{EntryKind, Session};
use crate::protocol::SessionId;
use crate::ui::format::{byte_count, clock_time, entry_label, kind_color, session_peer_name};
use crate::ui::{Panel, t};

mod detail;
mod framing_form;
mod rows;
mod saving;
mod stats;

pub use detail::{Marked, Selection};
use detail::{detail_ui, selection_detail_ui};
pub use framing_form::framing_mode_label;
use framing_form::framing_ui;
use rows::rows_ui;
pub use saving::SaveTab;
use stats::stats_ui;

/// Bytes of a row shown in it as hex (the detail pane shows more).
const ROW_HEX_BYTES: usize = 128;
/// Bytes of a row decoded for it as text.
const ROW_TEXT_BYTES: usize = 512;
/// Bytes of a row shown in the detail pane.
const DETAIL_MAX_BYTES: usize = 256 * 1024;

/// How the log shows its rows: the window's view settings and the session's encoding.
#[derive(Clone, Copy, Debug)]
pub(super) struct Look {
    /// Hex (true) or decoded text.
    pub hex: bool,
    /// The session's encoding.
    pub encoding: TextEncoding,
    /// How row times show.
    pub timestamps: TimestampMode,
    /// The log follows new rows.
    pub auto_scroll: bool,
    /// Long rows wrap instead of ending in `…`.
    pub wrap: bool,
}

/// What the log reads besides its state: the session, and the settings its toolbar edits.
pub struct LogInput<'a> {
    /// The session's id.
    pub id: SessionId,
    /// The session (its log and peers).
    pub session: &'a Session,
    /// Text/hex, times, wrapping, auto-scroll, statistics.
    pub view: &'a mut ViewSettings,
    /// The session's settings (its encoding is in the toolbar).
    pub settings: &'a mut SessionSettings,
    /// Whether the settings column (or its popup) is shown (the toolbar's toggle).
    pub column_shown: bool,
}

impl Panel<LogInput<'_>> for TrafficState {
    /// The log column: a one-line header, the toolbar, the detail pane at the bottom when a
    /// row is selected, and the rows (the rest).
    fn ui(&mut self, ui: &mut egui::Ui, input: LogInput<'_>) -> Vec<Action> {
        let LogInput {
            id,
            session,
            view,
            settings,
            column_shown,
        } = input;
        let state = self;
        if view.show_stats {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
        header_ui(ui, session, state);
        let toolbar = crate::ui::log_toolbar::Toolbar {
            view,
            settings,
            session,
            id,
            column_shown,
        };
        let mut actions = state.ui(ui, toolbar);
        let look = Look {
            hex: view.log_hex,
            encoding: settings.encoding,
            timestamps: view.timestamps,
            auto_scroll: view.auto_scroll,
            wrap: view.wrap_rows,
        };
        if view.show_stats {
            // A window of its own: the log keeps its width.
            let title =
                crate::ui::session_list::session_title(crate::ui::language(ui.ctx()), session);
            egui::Window::new(crate::ui::tf(ui, Text::StatisticsOf, &[&title]))
                .id(egui::Id::unique(("traffic_stats", id.0)))
                .open(&mut view.show_stats)
                .default_width(300.0)
                .resizable(true)
                .show(ui.ctx(), |ui| stats_ui(ui, session, state));
        }
        let range = Selection::range(
            &state.log_view,
            &session.log,
            state.selected_entry,
            state.selection_extent,
        );
        let single = match range {
            Some(_) => None,
            None => state
                .selected_entry
                .and_then(|row| state.log_view.row(&session.log, row, DETAIL_MAX_BYTES)),
        };
        if range.is_some() || single.is_some() {
            // The log keeps most of the height for its rows.
            let room = ui.available_height();
            let detail = egui::Panel::bottom("entry_detail")
                .resizable(true)
                .default_size((room * 0.35).clamp(60.0, 200.0))
                .min_size(60.0)
                .max_size((room * 0.6).max(60.0))
                .show(ui, |ui| match (&single, range) {
                    (Some(row), _) => detail_ui(ui, session, &state.log_view, row, look),
                    (None, Some(range)) => selection_detail_ui(ui, session, state, range, look),
                    (None, None) => false,
                });
            if detail.inner {
                actions.push(Action::Traffic(id, TrafficAction::SaveAsScenario));
            }
        }
        let marked = Marked {
            anchor: state.selected_entry,
            range,
        };
        let clicked = rows_ui(ui, session, look, state, marked);
        if let Some((row, extend)) = clicked {
            select_row(state, row, extend);
        }
        actions
    }
}

/// A click on a log row: a plain click selects it (or clears the selection when it was the
/// only selected row); a Shift+click extends the selection from the anchor to it.
fn select_row(state: &mut TrafficState, row: u64, extend: bool) {
    if extend && state.selected_entry.is_some() {
        state.selection_extent = Some(row).filter(|r| Some(*r) != state.selected_entry);
    } else if state.selected_entry == Some(row) && state.selection_extent.is_none() {
        state.selected_entry = None;
    } else {
        state.selected_entry = Some(row);
        state.selection_extent = None;
    }
}

/// One line: the session's kind and address, its state, and a running capture; cut at the
/// column's width (the session list shows a long failure reason whole).
fn header_ui(ui: &mut egui::Ui, session: &Session, state: &TrafficState) {
    let language = crate::ui::language(ui.ctx());
    let mut job = LayoutJob::default();
    let style = ui.style();
    let strong = TextFormat::simple(
        egui::TextStyle::Body.resolve(style),
        ui.visuals().strong_text_color(),
    );
    let weak = TextFormat::simple(
        egui::TextStyle::Body.resolve(style),
        ui.visuals().weak_text_color(),
    );
    job.append(
        &crate::ui::session_list::session_title(language, session),
        0.0,
        strong,
    );
    job.append("  ·  ", 0.0, weak.clone());
    job.append(
        &crate::ui::session_list::state_text(language, session),
        0.0,
        weak,
    );
    if let Some(capture) = &state.capture {
        let capturing = crate::ui::tf(
            ui,
            Text::Capturing,
            &[&capture.path().display(), &capture.packets()],
        );
        let format = TextFormat::simple(
            egui::TextStyle::Body.resolve(ui.style()),
            ui.visuals().warn_fg_color,
        );
        job.append("  ·  ", 0.0, format.clone());
        job.append(&capturing, 0.0, format);
    }
    ui.add(egui::Label::new(job).truncate());
}

/// The settings column's Log tab: what it reads besides the log's state.
pub struct LogTab<'a> {
    /// The session (its peers, for the peer filter).
    pub session: &'a Session,
    /// Times, auto-scroll, wrapping, statistics.
    pub view: &'a mut ViewSettings,
    /// The session's encoding (a text pattern is encoded with it).
    pub encoding: TextEncoding,
}

impl Panel<LogTab<'_>> for TrafficState {
    /// How rows show (times, auto-scroll, wrapping, statistics; text or hex and the encoding
    /// are in the toolbar), the framing form, the filter, and search options (the search
    /// field itself is in the toolbar).
    fn ui(&mut self, ui: &mut egui::Ui, input: LogTab<'_>) -> Vec<Action> {
        let LogTab {
            session,
            view,
            encoding,
        } = input;
        section(ui, t(ui, Text::Display));
        egui::Grid::new("log_display")
            .num_columns(2)
            .show(ui, |ui| {
                let label = ui.label(t(ui, Text::Time));
                egui::ComboBox::from_id_salt(label.id)
                    .selected_text(match view.timestamps {
                        TimestampMode::Off => t(ui, Text::TimeOff),
                        TimestampMode::Absolute => t(ui, Text::TimeAbsolute),
                        TimestampMode::Relative => t(ui, Text::TimeRelative),
                    })
                    .show_ui(ui, |ui| {
                        for (mode, key) in [
                            (TimestampMode::Off, Text::TimeOff),
                            (TimestampMode::Absolute, Text::TimeAbsolute),
                            (TimestampMode::Relative, Text::TimeRelative),
                        ] {
                            ui.selectable_value(&mut view.timestamps, mode, t(ui, key));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
            });
        ui.checkbox(&mut view.auto_scroll, t(ui, Text::AutoScroll));
        ui.checkbox(&mut view.wrap_rows, t(ui, Text::WrapRows))
            .on_hover_text(t(ui, Text::WrapRowsTip));
        ui.toggle_value(&mut view.show_stats, t(ui, Text::Statistics));
        ui.add_space(6.0);
        framing_ui(ui, self);
        ui.add_space(6.0);
        filter_ui(ui, session, self, encoding);
        Vec::new()
    }
}

/// A section's title in the settings column.
pub fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(6.0);
    ui.label(egui::RichText::new(title).strong());
}

/// The filter: text or hex, direction, peer; how many rows it shows; and whether search
/// patterns are hex.
fn filter_ui(
    ui: &mut egui::Ui,
    session: &Session,
    state: &mut TrafficState,
    encoding: TextEncoding,
) {
    let log = &session.log;
    let lv = &mut state.log_view;
    // The section's title names its field.
    let label = ui.label(egui::RichText::new(t(ui, Text::Filter)).strong());
    ui.add(
        egui::TextEdit::singleline(&mut lv.filter.pattern.text).desired_width(ui.available_width()),
    )
    .labelled_by(label.id);
    ui.checkbox(&mut lv.filter.pattern.hex, t(ui, Text::FilterAsHex));
    ui.horizontal(|ui| {
        let dir = &mut lv.filter.direction;
        // A relay's directions are up (filed as Rx) and down (Tx).
        let (rx, tx) = if session.spec.kind.is_relay() {
            (Text::UpOnly, Text::DownOnly)
        } else {
            (Text::RxOnly, Text::TxOnly)
        };
        ui.selectable_value(dir, DirectionFilter::All, t(ui, Text::DirAll));
        ui.selectable_value(dir, DirectionFilter::Rx, t(ui, rx));
        ui.selectable_value(dir, DirectionFilter::Tx, t(ui, tx));
    });
    let all_peers = t(ui, Text::AllPeers);
    let peer_text = |index: Option<u32>| match index.and_then(|i| session.peer_addr(i)) {
        Some(addr) => session_peer_name(session, addr),
        None => all_peers.to_string(),
    };
    ui.horizontal(|ui| {
        let label = ui.label(t(ui, Text::Peer));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(peer_text(lv.filter.peer))
            .width(ui.available_width().min(220.0))
            .truncate()
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut lv.filter.peer, None, all_peers);
                for (index, peer) in session.peers.iter() {
                    ui.selectable_value(
                        &mut lv.filter.peer,
                        Some(index),
                        session_peer_name(session, peer.addr),
                    );
                }
            })
            .response
            .labelled_by(label.id);
    });
    if !lv.filter.is_empty() {
        let shown = crate::ui::tf(ui, Text::RowsShown, &[&lv.shown_count(log)]);
        ui.label(egui::RichText::new(shown).weak());
    }
    ui.checkbox(&mut lv.search.hex, t(ui, Text::SearchAsHex));
    if let Some(error) = &lv.pattern_error {
        let language = crate::ui::language(ui.ctx());
        let error = pattern_error_text(language, lv, encoding)
            .unwrap_or_else(|| trf(language, Text::PatternError, &[error]));
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
}

/// Why the filter or search pattern cannot be used, in `language` (the log view's own
/// message is English, for the headless mode).
fn pattern_error_text(language: Language, lv: &LogView, encoding: TextEncoding) -> Option<String> {
    use crate::codec::send::SendError;
    [&lv.filter.pattern, &lv.search]
        .into_iter()
        .filter(|p| !p.text.is_empty())
        .find_map(|pattern| {
            let error = if pattern.hex {
                SendError::Hex(parse_hex(&pattern.text).err()?)
            } else {
                let text = crate::codec::text::encode_strict(&pattern.text, encoding);
                SendError::Encode(text.err()?)
            };
            let why = crate::i18n::errors::send_error_text(language, &error);
            Some(trf(language, Text::PatternError, &[&why]))
        })
}
