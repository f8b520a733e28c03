//! The right panel's log: a toolbar (hex/text, encoding, auto-scroll, clear), one row per
//! entry drawn only for the rows on screen, and a detail pane with the whole selected entry.
//! Bytes are decoded here, when drawn, so switching hex/text or the encoding re-renders the
//! whole history.

use egui::text::LayoutJob;
use egui::{FontId, TextFormat};

use crate::app::{Action, App};
use crate::codec::display::{escape_controls, escape_controls_keep_lines};
use crate::codec::hex::{hex_dump, push_hex_spaced};
use crate::codec::text::{TextEncoding, decode_for_display};
use crate::config::ViewSettings;
use crate::model::{EntryKind, LogEntry, Session};
use crate::protocol::SessionId;
use crate::ui::format::{byte_count, clock_time, kind_color, kind_label};

/// Bytes of an entry shown in its row as hex (the detail pane shows all).
const ROW_HEX_BYTES: usize = 128;
/// Bytes of an entry decoded for its row as text.
const ROW_TEXT_BYTES: usize = 512;
/// Bytes of an entry shown in the detail pane.
const DETAIL_MAX_BYTES: usize = 256 * 1024;

/// Draws the log of session `id` (toolbar, rows, detail pane).
pub fn traffic_view_ui(ui: &mut egui::Ui, app: &mut App, id: SessionId, actions: &mut Vec<Action>) {
    let Some(session) = app.sessions.get(id) else {
        return;
    };
    let view = &mut app.view;
    let session_view = app.views.entry(id).or_default();
    header_ui(ui, session);
    toolbar_ui(ui, view, session, id, actions);
    ui.separator();
    let selected = session_view
        .selected_entry
        .and_then(|seq| session.log.get(seq));
    if let Some(entry) = selected {
        egui::Panel::bottom("entry_detail")
            .resizable(true)
            .default_size(160.0)
            .min_size(60.0)
            .show(ui, |ui| detail_ui(ui, session, entry, view));
    }
    let clicked = rows_ui(ui, session, view, session_view.selected_entry);
    if let Some(seq) = clicked {
        session_view.selected_entry = if session_view.selected_entry == Some(seq) {
            None
        } else {
            Some(seq)
        };
    }
}

fn header_ui(ui: &mut egui::Ui, session: &Session) {
    ui.horizontal(|ui| {
        ui.heading(session.title());
        ui.label(session.state_text());
    });
}

fn toolbar_ui(
    ui: &mut egui::Ui,
    view: &mut ViewSettings,
    session: &Session,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.label("Log:");
        ui.selectable_value(&mut view.log_hex, false, "Text");
        ui.selectable_value(&mut view.log_hex, true, "Hex");
        encoding_combo_ui(ui, "Decode as", &mut view.log_encoding);
        ui.checkbox(&mut view.auto_scroll, "Auto-scroll");
        if ui.button("Clear").clicked() {
            actions.push(Action::ClearLog(id));
        }
        let log = &session.log;
        let dropped = log.evicted_entries();
        let count = if dropped > 0 {
            format!("{} entries ({dropped} dropped)", log.len())
        } else {
            format!("{} entries", log.len())
        };
        ui.label(egui::RichText::new(count).weak());
    });
}

/// A label and a combo box (named by the label) choosing a text encoding.
pub fn encoding_combo_ui(ui: &mut egui::Ui, label: &str, encoding: &mut TextEncoding) {
    let label = ui.label(label);
    egui::ComboBox::from_id_salt(label.id)
        .selected_text(encoding.label())
        .width(100.0)
        .show_ui(ui, |ui| {
            for candidate in TextEncoding::ALL {
                ui.selectable_value(encoding, candidate, candidate.label());
            }
        })
        .response
        .labelled_by(label.id);
}

/// Draws the visible rows; returns the sequence number of a clicked row.
fn rows_ui(
    ui: &mut egui::Ui,
    session: &Session,
    view: &ViewSettings,
    selected: Option<u64>,
) -> Option<u64> {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    let log = &session.log;
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .stick_to_bottom(view.auto_scroll)
        .show_rows(ui, row_height, log.len(), |ui, rows| {
            for index in rows {
                let Some(entry) = log.get_by_index(index) else {
                    continue;
                };
                let job = row_job(session, entry, view, ui.visuals(), &font);
                let label = egui::Label::new(job).truncate().sense(egui::Sense::click());
                let is_selected = selected == Some(entry.seq);
                let response = ui.add(label);
                if is_selected {
                    let fill = ui.visuals().selection.bg_fill.gamma_multiply(0.4);
                    ui.painter().rect_filled(response.rect, 2.0, fill);
                }
                if response.clicked() {
                    clicked = Some(entry.seq);
                }
            }
        });
    clicked
}

fn peer_text(session: &Session, entry: &LogEntry<'_>) -> String {
    session
        .peer_addr(entry.peer)
        .map_or_else(|| "-".to_string(), |a| a.to_string())
}

/// The one-line text of an entry's content, as shown in its row.
pub fn row_content(entry: &LogEntry<'_>, hex: bool, encoding: TextEncoding) -> String {
    if !entry.kind.is_traffic() {
        return String::from_utf8_lossy(entry.bytes).into_owned();
    }
    if hex {
        let shown = &entry.bytes[..entry.bytes.len().min(ROW_HEX_BYTES)];
        let mut text = String::new();
        push_hex_spaced(&mut text, shown);
        if shown.len() < entry.bytes.len() {
            text.push_str(" …");
        }
        return text;
    }
    let truncated = entry.bytes.len() > ROW_TEXT_BYTES;
    let shown = &entry.bytes[..entry.bytes.len().min(ROW_TEXT_BYTES)];
    let complete = !entry.has_successor && !truncated;
    let decoded = decode_for_display(entry.context, shown, complete, encoding);
    let mut text = escape_controls(&decoded).into_owned();
    if truncated {
        text.push_str(" …");
    }
    text
}

fn row_job(
    session: &Session,
    entry: LogEntry<'_>,
    view: &ViewSettings,
    visuals: &egui::Visuals,
    font: &FontId,
) -> LayoutJob {
    let weak = visuals.weak_text_color();
    let strong = visuals.text_color();
    let color = kind_color(entry.kind, visuals);
    let mut job = LayoutJob::default();
    let mut add = |text: &str, color: egui::Color32| {
        job.append(text, 0.0, TextFormat::simple(font.clone(), color));
    };
    add(&clock_time(entry.at_micros), weak);
    add(&format!("  {}  ", kind_label(entry.kind)), color);
    add(&format!("{:<22}", peer_text(session, &entry)), weak);
    if entry.kind.is_traffic() {
        add(
            &format!("{:>7}  ", format!("{} B", entry.bytes.len())),
            weak,
        );
    } else {
        add("         ", weak);
    }
    let content_color = if entry.kind.is_traffic() {
        strong
    } else {
        color
    };
    add(
        &row_content(&entry, view.log_hex, view.log_encoding),
        content_color,
    );
    job
}

fn detail_ui(ui: &mut egui::Ui, session: &Session, entry: LogEntry<'_>, view: &ViewSettings) {
    let direction = match entry.kind {
        EntryKind::Rx => "received from",
        EntryKind::Tx => "sent to",
        EntryKind::Info | EntryKind::Error => "note about",
    };
    ui.horizontal(|ui| {
        ui.strong(format!(
            "#{}  {} {}  ·  {}  ·  {}",
            entry.seq,
            direction,
            peer_text(session, &entry),
            byte_count(entry.bytes.len() as u64),
            clock_time(entry.at_micros)
        ));
        let hex_text = crate::codec::hex::to_hex_spaced(entry.bytes);
        if ui.small_button("Copy hex").clicked() {
            ui.ctx().copy_text(hex_text);
        }
    });
    let shown = &entry.bytes[..entry.bytes.len().min(DETAIL_MAX_BYTES)];
    let mut text = if !entry.kind.is_traffic() {
        String::from_utf8_lossy(shown).into_owned()
    } else if view.log_hex {
        hex_dump(shown)
    } else {
        let complete = !entry.has_successor && shown.len() == entry.bytes.len();
        let decoded = decode_for_display(entry.context, shown, complete, view.log_encoding);
        escape_controls_keep_lines(&decoded).into_owned()
    };
    if shown.len() < entry.bytes.len() {
        text.push_str(&format!(
            "\n… first {} of {} shown",
            byte_count(shown.len() as u64),
            byte_count(entry.bytes.len() as u64)
        ));
    }
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut text.as_str())
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
        });
}
