//! The log rows: only the rows on screen are laid out, each as time, direction, peer and
//! content (hex or decoded text), coloured by direction.

use super::*;
use crate::i18n::messages::Render;

/// Draws the visible rows; returns the id of a clicked row and whether Shift was held.
pub(super) fn rows_ui(
    ui: &mut egui::Ui,
    session: &Session,
    look: Look,
    state: &mut TrafficState,
    marked: Marked,
) -> Option<(u64, bool)> {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    let log = &session.log;
    let lv = &state.log_view;
    let count = lv.shown_count(log);
    let mut clicked = None;
    let mut area = egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .min_scrolled_height(2.0 * row_height)
        .stick_to_bottom(look.auto_scroll && lv.paused_at.is_none());
    if let Some(target) = state.scroll_to.take()
        && let Some(index) = lv.shown_index(log, target)
    {
        let spacing = ui.spacing().item_spacing.y;
        let offset = (index as f32 * (row_height + spacing) - 3.0 * row_height).max(0.0);
        area = area.vertical_scroll_offset(offset).stick_to_bottom(false);
    }
    let language = crate::ui::language(ui.ctx());
    area.show_rows(ui, row_height, count, |ui, rows| {
        let mut previous_at = rows
            .start
            .checked_sub(1)
            .and_then(|i| lv.shown_id(log, i))
            .and_then(|id| lv.row(log, id, 0))
            .map(|r| r.at_micros);
        let visible: Vec<(usize, Row<'_>)> = rows
            .filter_map(|index| {
                let id = lv.shown_id(log, index)?;
                Some((index, lv.row(log, id, ROW_TEXT_BYTES.max(ROW_HEX_BYTES))?))
            })
            .collect();
        // The peer column is as wide as the widest address on screen, found once a frame
        // from the rows drawn (a server may have thousands of peers; only these count).
        let peers: Vec<String> = visible
            .iter()
            .map(|(_, row)| peer_text(session, row.peer))
            .collect();
        let peer_width = peers.iter().map(|p| p.chars().count()).max().unwrap_or(1);
        for ((index, row), peer) in visible.iter().zip(&peers) {
            let columns = RowColumns {
                previous_at,
                peer,
                peer_width,
            };
            let job = row_job(
                session,
                lv,
                row,
                look,
                &columns,
                ui.visuals(),
                &font,
                language,
            );
            previous_at = Some(row.at_micros);
            // The whole width of the row takes the click, not only its text (a short row's
            // text ends long before the panel does). The label itself is not text-selectable,
            // so a Shift+click extends the row selection rather than a text selection.
            let text = ui.add(egui::Label::new(job).truncate().selectable(false));
            let row_rect = egui::Rect::from_min_max(
                text.rect.min,
                egui::pos2(ui.max_rect().right(), text.rect.max.y),
            );
            let response = ui.interact(
                row_rect,
                ui.scope_id().with(("log_row", row.id)),
                egui::Sense::click(),
            );
            let fill = if marked.contains(row.id, *index) {
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
                clicked = Some((row.id, ui.input(|i| i.modifiers.shift)));
            }
        }
    });
    clicked
}

pub(super) fn peer_text(session: &Session, peer: u32) -> String {
    if peer == NO_PEER {
        return "-".to_string();
    }
    session
        .peer_addr(peer)
        .map_or_else(|| "-".to_string(), peer_name)
}

/// What a row's columns need from the rows around it: the previous row's time (relative
/// timestamps), and the peer column's text and width (the widest address on screen).
pub(super) struct RowColumns<'a> {
    /// When the row above arrived.
    pub previous_at: Option<i64>,
    /// This row's peer address.
    pub peer: &'a str,
    /// Characters the peer column takes.
    pub peer_width: usize,
}

/// A note's words in `language`: the note with log sequence number `seq` (a note row's
/// [`Row::first_seq`]), rendered now, so a language switch re-renders old notes.
pub(super) fn note_text(log: &TrafficLog, seq: u64, language: Language) -> String {
    log.note(seq)
        .map_or_else(String::new, |note| note.render(language))
}

/// The one-line text of a row of traffic: its first bytes as hex, or decoded as text.
fn content_text(
    session: &Session,
    lv: &LogView,
    row: &Row<'_>,
    hex: bool,
    encoding: TextEncoding,
) -> String {
    if hex {
        let shown = &row.bytes[..row.bytes.len().min(ROW_HEX_BYTES)];
        let mut text = String::new();
        push_hex_spaced(&mut text, shown);
        if (shown.len() as u64) < row.len {
            text.push_str(" …");
        }
        return text;
    }
    let shown = row.bytes.len().min(ROW_TEXT_BYTES);
    let decoded = lv.row_text(&session.log, row, shown, encoding);
    let mut text = escape_controls(&decoded).into_owned();
    if (shown as u64) < row.len {
        text.push_str(" …");
    }
    text
}

#[allow(clippy::too_many_arguments)] // one row's inputs, all read-only
pub(super) fn row_job(
    session: &Session,
    lv: &LogView,
    row: &Row<'_>,
    look: Look,
    columns: &RowColumns<'_>,
    visuals: &egui::Visuals,
    font: &FontId,
    language: Language,
) -> LayoutJob {
    let weak = visuals.weak_text_color();
    let strong = visuals.text_color();
    let color = kind_color(row.kind, visuals);
    let mut job = LayoutJob::default();
    let mut add = |text: &str, color: egui::Color32| {
        job.append(text, 0.0, TextFormat::simple(font.clone(), color));
    };
    match look.timestamps {
        TimestampMode::Off => {}
        TimestampMode::Absolute => add(&format!("{}  ", clock_time(row.at_micros)), weak),
        TimestampMode::Relative => {
            let delta = columns
                .previous_at
                .map_or(0, |p| row.at_micros.saturating_sub(p));
            add(&format!("{:>+11.6}  ", delta as f64 / 1e6), weak);
        }
    }
    add(&format!("{}  ", kind_label(language, row.kind)), color);
    add(
        &format!("{:<width$}  ", columns.peer, width = columns.peer_width),
        weak,
    );
    if row.kind.is_traffic() {
        add(&format!("{:>7}  ", format!("{} B", row.len)), weak);
    } else {
        add("         ", weak);
    }
    if row.invalid.is_some() {
        // Skipped while resynchronizing; the detail pane says why.
        add(tr(language, Text::InvalidTag), visuals.error_fg_color);
    }
    if row.incomplete {
        add(tr(language, Text::IncompleteTag), visuals.warn_fg_color);
    }
    if lv.framed().is_some() && row.reads > 1 {
        // Frame boundaries: this frame was assembled from several reads.
        add(&trf(language, Text::ReadsTag, &[&row.reads]), weak);
    }
    if row.kind.is_traffic() {
        let content = content_text(session, lv, row, look.hex, look.encoding);
        add(&content, strong);
    } else {
        add(&note_text(&session.log, row.first_seq, language), color);
    }
    job
}
