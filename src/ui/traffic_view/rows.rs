//! The log rows: only the rows on screen are laid out, each as time, direction, peer and
//! content (hex or decoded text), coloured by direction.
//!
//! Virtualized by row index: the scroll area is one "slot" (a line) tall per row, the first
//! row drawn is the one whose slot is at the top of the view, and rows are drawn down from
//! there until the view is full. Unwrapped, every row is one slot, which is classic
//! virtualization; wrapped (a view option), a row may take several lines, and scrolling moves
//! a row at a time. At the end of the log (and while following it) the last rows are drawn
//! up from the bottom instead, so the newest row is always whole on screen. Either way a
//! frame lays out only the rows it shows, whatever the log holds.

use super::*;
use crate::i18n::messages::Render;

/// Bytes of a wrapped row shown as hex (a 200-byte frame reads whole without opening it).
const WRAPPED_HEX_BYTES: usize = 1024;
/// Bytes of a wrapped row decoded as text.
const WRAPPED_TEXT_BYTES: usize = 4096;

/// Draws the visible rows; returns the id of a clicked row and whether Shift was held.
pub(super) fn rows_ui(
    ui: &mut egui::Ui,
    session: &Session,
    look: Look,
    state: &mut TrafficState,
    marked: Marked,
) -> Option<(u64, bool)> {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let line_height = ui.fonts_mut(|f| f.row_height(&font));
    let spacing = ui.spacing().item_spacing.y;
    let slot = line_height + spacing;
    let log = &session.log;
    let lv = &state.log_view;
    let count = lv.shown_count(log);
    let mut clicked = None;
    let mut area = egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .stick_to_bottom(look.auto_scroll && lv.paused_at.is_none());
    if let Some(target) = state.scroll_to.take()
        && let Some(index) = lv.shown_index(log, target)
    {
        // A few rows of context above it; wrapped rows are tall, so then none.
        let context = if look.wrap { 0.0 } else { 3.0 };
        let offset = ((index as f32 - context) * slot).max(0.0);
        area = area.vertical_scroll_offset(offset).stick_to_bottom(false);
    }
    let language = crate::ui::language(ui.ctx());
    let limit = if look.wrap {
        WRAPPED_TEXT_BYTES.max(WRAPPED_HEX_BYTES)
    } else {
        ROW_TEXT_BYTES.max(ROW_HEX_BYTES)
    };
    area.show_viewport(ui, |ui, viewport| {
        let total = count as f32 * slot;
        ui.set_height(total);
        let width = ui.available_width();
        let origin = ui.max_rect().min;
        let visuals = ui.visuals().clone();
        let row_at = |index: usize| {
            lv.shown_id(log, index)
                .and_then(|id| lv.row(log, id, limit))
        };
        // The rows on screen, with their laid-out text: down from the top slot, or up from
        // the end when the view is at the end of the log.
        let at_end = count > 0 && viewport.max.y >= total - 0.5;
        let mut shown: Vec<(usize, Row<'_>)> = Vec::new();
        let mut height = 0.0;
        let budget_rows = |index: usize, height: &mut f32| -> Option<(usize, Row<'_>)> {
            let row = row_at(index)?;
            // A first estimate: one line, or as many as its content needs when wrapped.
            *height += slot * estimated_lines(&row, look, width, &font, ui);
            Some((index, row))
        };
        if at_end {
            let mut index = count;
            while index > 0 && height < viewport.height() {
                index -= 1;
                if let Some(row) = budget_rows(index, &mut height) {
                    shown.push(row);
                }
            }
            shown.reverse();
        } else {
            let mut index = (viewport.min.y / slot).floor().max(0.0) as usize;
            let start = index as f32 * slot;
            while index < count && start + height < viewport.max.y {
                if let Some(row) = budget_rows(index, &mut height) {
                    shown.push(row);
                }
                index += 1;
            }
        }
        // The peer column is as wide as the widest address on screen, found once a frame
        // from the rows drawn (a server may have thousands of peers; only these count).
        let peers: Vec<String> = shown
            .iter()
            .map(|(_, row)| peer_text(session, row.peer))
            .collect();
        let peer_width = peers.iter().map(|p| p.chars().count()).max().unwrap_or(1);
        let mut previous_at = shown
            .first()
            .and_then(|(index, _)| index.checked_sub(1))
            .and_then(|i| lv.shown_id(log, i))
            .and_then(|id| lv.row(log, id, 0))
            .map(|r| r.at_micros);
        let galleys: Vec<std::sync::Arc<egui::Galley>> = shown
            .iter()
            .zip(&peers)
            .map(|((_, row), peer)| {
                let columns = RowColumns {
                    previous_at,
                    peer,
                    peer_width,
                };
                previous_at = Some(row.at_micros);
                let style = RowStyle {
                    session,
                    lv,
                    look,
                    visuals: &visuals,
                    font: &font,
                    language,
                };
                row_galley(ui, &style, row, &columns, width)
            })
            .collect();
        let heights: Vec<f32> = galleys
            .iter()
            .map(|g| g.size().y.max(line_height) + spacing)
            .collect();
        let drawn: f32 = heights.iter().sum();
        let mut y = if at_end {
            total - drawn
        } else {
            (viewport.min.y / slot).floor().max(0.0) * slot
        };
        for (((index, row), galley), height) in shown.iter().zip(galleys).zip(heights) {
            let rect = egui::Rect::from_min_size(
                origin + egui::vec2(0.0, y),
                egui::vec2(width, height - spacing),
            );
            y += height;
            let fill = if marked.contains(row.id, *index) {
                Some(visuals.selection.bg_fill.gamma_multiply(0.4))
            } else if lv.is_hit(row.id) {
                Some(visuals.warn_fg_color.gamma_multiply(0.25))
            } else {
                None
            };
            if let Some(fill) = fill {
                ui.painter().rect_filled(rect, 2.0, fill);
            }
            let layout = egui::Layout::left_to_right(egui::Align::Min);
            ui.scope_builder(egui::UiBuilder::new().max_rect(rect).layout(layout), |ui| {
                ui.add(egui::Label::new(galley).selectable(false));
            });
            // The whole width of the row takes the click, not only its text (a short row's
            // text ends long before the panel does), and it is made after the label so it is
            // on top. The label is not text-selectable, so a Shift+click extends the row
            // selection.
            let response = ui.interact(
                rect,
                ui.scope_id().with(("log_row", row.id)),
                egui::Sense::click(),
            );
            if response.clicked() {
                clicked = Some((row.id, ui.input(|i| i.modifiers.shift)));
            }
        }
    });
    clicked
}

/// How many lines a row takes: one unless wrapped, then what its content needs at `width`
/// (an estimate from the monospace advance; the laid-out row decides what is drawn).
fn estimated_lines(row: &Row<'_>, look: Look, width: f32, font: &FontId, ui: &egui::Ui) -> f32 {
    if !look.wrap {
        return 1.0;
    }
    let advance = ui.fonts_mut(|f| f.glyph_width(font, '0')).max(1.0);
    let per_line = (width / advance).max(8.0);
    let chars = if look.hex {
        row.bytes.len().min(WRAPPED_HEX_BYTES) as f32 * 3.0
    } else {
        row.bytes.len().min(WRAPPED_TEXT_BYTES) as f32
    };
    // The columns before the content take about 40 characters of the first line.
    ((chars + 40.0) / per_line).ceil().max(1.0)
}

pub(super) fn peer_text(session: &Session, peer: u32) -> String {
    if peer == NO_PEER {
        return "-".to_string();
    }
    session
        .peer_addr(peer)
        .map_or_else(|| "-".to_string(), |addr| session_peer_name(session, addr))
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

/// The text of a row of traffic: its first bytes as hex, or decoded as text (more of them
/// when the row wraps), and whether it is dimmed (bytes of a character a later row shows).
fn content_text(session: &Session, lv: &LogView, row: &Row<'_>, look: Look) -> (String, bool) {
    let (hex_bytes, text_bytes) = if look.wrap {
        (WRAPPED_HEX_BYTES, WRAPPED_TEXT_BYTES)
    } else {
        (ROW_HEX_BYTES, ROW_TEXT_BYTES)
    };
    if look.hex {
        let shown = &row.bytes[..row.bytes.len().min(hex_bytes)];
        let mut text = String::new();
        push_hex_spaced(&mut text, shown);
        if (shown.len() as u64) < row.len {
            text.push_str(" …");
        }
        return (text, false);
    }
    let shown = row.bytes.len().min(text_bytes);
    let decoded = lv.row_text(&session.log, row, shown, look.encoding);
    let mut text = escape_controls(&decoded.text).into_owned();
    if (shown as u64) < row.len {
        text.push_str(" …");
    }
    (text, decoded.continues)
}

/// A row laid out for drawing: its columns, then its content cut at `width` with `…`, or,
/// wrapped, continued on more lines under the content's first line (a hanging indent; hex
/// breaks between bytes).
fn row_galley(
    ui: &egui::Ui,
    style: &RowStyle<'_>,
    row: &Row<'_>,
    columns: &RowColumns<'_>,
    width: f32,
) -> std::sync::Arc<egui::Galley> {
    let (look, font) = (style.look, style.font);
    let (mut job, content, color) = row_job(style, row, columns);
    let format = TextFormat::simple(font.clone(), color);
    if !look.wrap {
        job.append(&content, 0.0, format);
        job.wrap = egui::text::TextWrapping::truncate_at_width(width);
        return ui.fonts_mut(|f| f.layout_job(job));
    }
    let prefix_width = ui.fonts_mut(|f| f.layout_job(job.clone())).size().x;
    // The content's first line goes beside the columns; the next ones under it, indented by
    // a little (a full hanging indent would leave a narrow strip for a long frame).
    let advance = ui.fonts_mut(|f| f.glyph_width(font, '0')).max(1.0);
    let indent = (4.0 * advance).min(prefix_width);
    let lines_of = |ui: &egui::Ui, text: &str, width: f32| {
        let mut alone = LayoutJob::single_section(text.to_string(), format.clone());
        alone.wrap.max_width = width.max(80.0);
        alone.wrap.break_anywhere = !look.hex;
        let galley = ui.fonts_mut(|f| f.layout_job(alone));
        galley
            .rows
            .iter()
            .map(|row| row.char_count_excluding_newline().0)
            .collect::<Vec<usize>>()
    };
    let first = lines_of(ui, &content, width - prefix_width)
        .first()
        .copied()
        .unwrap_or(0);
    let split_at = |text: &str, chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(at, _)| at)
    };
    let (head, mut rest) = content.split_at(split_at(&content, first));
    job.append(head, 0.0, format.clone());
    let rest_owned = rest.trim_start_matches(' ').to_string();
    rest = &rest_owned;
    for chars in lines_of(ui, rest, width - indent) {
        if rest.is_empty() {
            break;
        }
        let (line, after) = rest.split_at(split_at(rest, chars));
        job.append("\n", 0.0, format.clone());
        job.append(line.trim_start_matches(' '), indent, format.clone());
        rest = after;
    }
    if !rest.is_empty() {
        job.append(rest, 0.0, format);
    }
    ui.fonts_mut(|f| f.layout_job(job))
}

/// What every row of a frame is drawn with.
pub(super) struct RowStyle<'a> {
    /// The session.
    pub session: &'a Session,
    /// Its log view.
    pub lv: &'a LogView,
    /// How rows show.
    pub look: Look,
    /// Colors.
    pub visuals: &'a egui::Visuals,
    /// The rows' font.
    pub font: &'a FontId,
    /// The window's language.
    pub language: Language,
}

/// A row's columns (time, direction, peer, size, tags) as a layout job, and its content and
/// the content's color.
pub(super) fn row_job(
    style: &RowStyle<'_>,
    row: &Row<'_>,
    columns: &RowColumns<'_>,
) -> (LayoutJob, String, egui::Color32) {
    let RowStyle {
        session,
        lv,
        look,
        visuals,
        font,
        language,
    } = *style;
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
    let relay = session.spec.kind.is_relay();
    add(
        &format!("{}  ", entry_label(language, row.kind, relay)),
        color,
    );
    add(
        &format!("{:<width$}  ", columns.peer, width = columns.peer_width),
        weak,
    );
    if row.kind.is_traffic() {
        add(&format!("{:>7}  ", format!("{} B", row.len)), weak);
    } else {
        add("         ", weak);
    }
    if relay && row.reads == 1 && session.log.get(row.first_seq).is_some_and(|e| e.injected) {
        // Written by the user, not forwarded from the other side.
        add(tr(language, Text::InjectedTag), visuals.warn_fg_color);
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
        let (text, continues) = content_text(session, lv, row, look);
        (job, text, if continues { weak } else { strong })
    } else {
        (job, note_text(&session.log, row.first_seq, language), color)
    }
}
