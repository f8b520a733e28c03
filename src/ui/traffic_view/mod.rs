//! The right panel's log: toolbars (display, framing, filter and search, capture), one row
//! per read or frame drawn only for the rows on screen, a statistics side panel, and a detail
//! pane with the selected row as a hex dump or text, with copy buttons.
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
use crate::app::{Action, App, SessionView, TrafficAction, TrafficState};
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
use crate::ui::format::{byte_count, clock_time, kind_color, kind_label, peer_name};
use crate::ui::send_box::encoding_ui;
use crate::ui::t;

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
use saving::save_ui;
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
}

/// Draws the log of session `id` (toolbars, rows, statistics, detail pane).
pub fn traffic_view_ui(ui: &mut egui::Ui, app: &mut App, id: SessionId, actions: &mut Vec<Action>) {
    let Some(session) = app.sessions.get(id) else {
        return;
    };
    let view = &mut app.view;
    let session_view = app.views.entry(id).or_default();
    let files_dir = app.files_dir.as_deref();
    let state = app
        .traffic
        .entry(id)
        .or_insert_with(|| TrafficState::new(files_dir));
    if view.show_stats {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }
    header_ui(ui, session, state);
    toolbar_ui(
        ui,
        view,
        &mut session_view.settings,
        session,
        state,
        id,
        actions,
    );
    let look = Look {
        hex: view.log_hex,
        encoding: session_view.settings.encoding,
        timestamps: view.timestamps,
        auto_scroll: view.auto_scroll,
    };
    framing_ui(ui, state, &mut session_view.selected_entry);
    filter_bar_ui(
        ui,
        session,
        state,
        &mut session_view.selected_entry,
        look.encoding,
    );
    save_ui(ui, state, id, actions);
    ui.separator();
    if view.show_stats {
        // A window of its own: the log keeps its width.
        let title = crate::ui::session_list::session_title(crate::ui::language(ui.ctx()), session);
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
        session_view.selected_entry,
        session_view.selection_extent,
    );
    let single = match range {
        Some(_) => None,
        None => session_view
            .selected_entry
            .and_then(|row| state.log_view.row(&session.log, row, DETAIL_MAX_BYTES)),
    };
    if range.is_some() || single.is_some() {
        // The log keeps at least about half of the height for its rows.
        let room = ui.available_height();
        egui::Panel::bottom("entry_detail")
            .resizable(true)
            .default_size((room * 0.45).clamp(60.0, 220.0))
            .min_size(60.0)
            .max_size((room * 0.6).max(60.0))
            .show(ui, |ui| match (&single, range) {
                (Some(row), _) => detail_ui(ui, session, &state.log_view, row, look),
                (None, Some(range)) => selection_detail_ui(ui, session, state, range, look),
                (None, None) => {}
            });
    }
    let marked = Marked {
        anchor: session_view.selected_entry,
        range,
    };
    let clicked = rows_ui(ui, session, look, state, marked);
    if let Some((row, extend)) = clicked {
        select_row(session_view, row, extend);
    }
}

/// A click on a log row: a plain click selects it (or clears the selection when it was the
/// only selected row); a Shift+click extends the selection from the anchor to it.
fn select_row(view: &mut SessionView, row: u64, extend: bool) {
    if extend && view.selected_entry.is_some() {
        view.selection_extent = Some(row).filter(|r| Some(*r) != view.selected_entry);
    } else if view.selected_entry == Some(row) && view.selection_extent.is_none() {
        view.selected_entry = None;
    } else {
        view.selected_entry = Some(row);
        view.selection_extent = None;
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
                egui::RichText::new(crate::ui::tf(
                    ui,
                    Text::Capturing,
                    &[&capture.path().display(), &capture.packets()],
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
    });
}

fn toolbar_ui(
    ui: &mut egui::Ui,
    view: &mut ViewSettings,
    settings: &mut SessionSettings,
    session: &Session,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(t(ui, Text::LogLabel));
        ui.selectable_value(&mut view.log_hex, false, t(ui, Text::TextMode));
        ui.selectable_value(&mut view.log_hex, true, t(ui, Text::HexMode));
        encoding_ui(ui, t(ui, Text::Encoding), &mut settings.encoding, "log");
        let label = ui.label(t(ui, Text::Time));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(match view.timestamps {
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
                    ui.selectable_value(&mut view.timestamps, mode, t(ui, key));
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
                egui::RichText::new(crate::ui::tf(
                    ui,
                    Text::NewWhilePaused,
                    &[&state.log_view.new_while_paused(log)],
                ))
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
        ui.toggle_value(&mut view.show_stats, t(ui, Text::Statistics));
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

fn filter_bar_ui(
    ui: &mut egui::Ui,
    session: &Session,
    state: &mut TrafficState,
    selected: &mut Option<u64>,
    encoding: TextEncoding,
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
            Some(addr) => peer_name(addr),
            None => all_peers.to_string(),
        };
        let label = ui.label(t(ui, Text::Peer));
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(peer_text(lv.filter.peer))
            .width(150.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut lv.filter.peer, None, all_peers);
                for (index, peer) in session.peers.iter() {
                    ui.selectable_value(&mut lv.filter.peer, Some(index), peer_name(peer.addr));
                }
            })
            .response
            .labelled_by(label.id);
        if !lv.filter.is_empty() {
            let shown = crate::ui::tf(ui, Text::RowsShown, &[&lv.shown_count(log)]);
            ui.label(egui::RichText::new(shown).weak());
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
                Some(p) => crate::ui::tf(ui, Text::MatchPosition, &[&p, &total]),
                None => crate::ui::tf(ui, Text::Matches, &[&total]),
            };
            ui.label(text);
        }
        if lv.matching_behind(log) {
            ui.spinner();
        }
        if let Some(error) = &lv.pattern_error {
            let language = crate::ui::language(ui.ctx());
            let error = pattern_error_text(language, lv, encoding)
                .unwrap_or_else(|| trf(language, Text::PatternError, &[error]));
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    });
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
