//! The detail pane: the selected entries as a hex dump (offset, 16 bytes per row, text column
//! in the chosen encoding) or as text, with copy buttons.

use std::sync::Arc;

use super::rows::{note_text, peer_text};
use super::*;

/// A note's heading in the detail pane: what it is and whom it is about, and when; no byte
/// count (its words are not bytes that moved).
fn note_heading(language: Language, session: &Session, row: &Row<'_>) -> String {
    let problem = row.kind == EntryKind::Error;
    let what = if row.peer == NO_PEER {
        let key = if problem {
            Text::DetailProblem
        } else {
            Text::DetailNote
        };
        tr(language, key).to_string()
    } else {
        let key = if problem {
            Text::DetailProblemAbout
        } else {
            Text::DetailNoteAbout
        };
        trf(language, key, &[&peer_text(session, row.peer)])
    };
    format!("#{}  {what}  ·  {}", row.id, clock_time(row.at_micros))
}

/// The detail pane's text: monospace, selectable, scrolling both ways.
fn detail_text_ui(ui: &mut egui::Ui, text: &str) {
    // A `&str` buffer: the text can be selected and copied, not edited.
    let mut text = text;
    egui::ScrollArea::both()
        .id_salt("detail_text")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut text)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
        });
}

/// The Save as scenario button; whether it was clicked.
fn save_as_scenario_ui(ui: &mut egui::Ui) -> bool {
    ui.small_button(t(ui, Text::SaveAsScenario))
        .on_hover_text(t(ui, Text::SaveAsScenarioTip))
        .clicked()
}

/// The detail pane for a note: its heading and its words in the window's language.
fn note_detail_ui(ui: &mut egui::Ui, session: &Session, row: &Row<'_>) {
    let language = crate::ui::language(ui.ctx());
    let text = note_text(&session.log, row.first_seq, language);
    ui.horizontal_wrapped(|ui| {
        ui.strong(note_heading(language, session, row));
        if ui.small_button(t(ui, Text::CopyText)).clicked() {
            ui.ctx().copy_text(text.clone());
        }
    });
    detail_text_ui(ui, &text);
}

pub(super) fn detail_ui(
    ui: &mut egui::Ui,
    session: &Session,
    lv: &LogView,
    row: &Row<'_>,
    look: Look,
) -> bool {
    if !row.kind.is_traffic() {
        note_detail_ui(ui, session, row);
        return false;
    }
    let mut save_as_scenario = false;
    let language = crate::ui::language(ui.ctx());
    let direction = match row.kind.leg() {
        // A relay's: which way, client → target or back.
        Some(leg) if session.spec.kind.is_relay() => crate::i18n::messages::leg_text(language, leg),
        _ if row.kind == EntryKind::Rx => t(ui, Text::ReceivedFrom),
        _ => t(ui, Text::SentTo),
    };
    let bytes: &[u8] = &row.bytes;
    ui.horizontal_wrapped(|ui| {
        let reads = if row.reads > 1 {
            crate::ui::tf(ui, Text::ReadsSuffix, &[&row.reads])
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
            let language = crate::ui::language(ui.ctx());
            let reason = crate::i18n::errors::framing_error_text(language, reason);
            ui.colored_label(
                ui.visuals().error_fg_color,
                crate::ui::tf(ui, Text::SkippedResync, &[&reason]),
            );
        }
        if row.incomplete {
            ui.colored_label(ui.visuals().warn_fg_color, t(ui, Text::IncompleteDetail));
        }
        if ui.small_button(t(ui, Text::CopyHex)).clicked() {
            ui.ctx().copy_text(to_hex_spaced(bytes));
        }
        if ui.small_button(t(ui, Text::CopyText)).clicked() {
            let text = lv.row_text(&session.log, row, bytes.len(), look.encoding);
            ui.ctx().copy_text(text.text);
        }
        if ui.small_button(t(ui, Text::CopyC)).clicked() {
            ui.ctx().copy_text(c_literal(bytes));
        }
        if ui.small_button(t(ui, Text::CopyPython)).clicked() {
            ui.ctx().copy_text(python_literal(bytes));
        }
        save_as_scenario = save_as_scenario_ui(ui);
    });
    let truncated = (bytes.len() as u64) < row.len;
    let font = FontId::monospace(13.0);
    if look.hex {
        let dump = dump_rows(bytes, look.encoding);
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
                    let shown = byte_count(bytes.len() as u64);
                    ui.label(crate::ui::tf(ui, Text::FirstShown, &[&shown]));
                }
            });
        return save_as_scenario;
    }
    let decoded = lv.row_text(&session.log, row, bytes.len(), look.encoding);
    if decoded.continues {
        ui.weak(t(ui, Text::ContinuesDetail));
    }
    let mut text = escape_controls_keep_lines(&decoded.text).into_owned();
    if truncated {
        text.push('\n');
        text.push_str(&crate::ui::tf(
            ui,
            Text::FirstOfShown,
            &[&byte_count(bytes.len() as u64), &byte_count(row.len)],
        ));
    }
    detail_text_ui(ui, &text);
    save_as_scenario
}

/// The most rows a range selection shows in the detail pane (its bytes are capped too).
const SELECTION_MAX_ROWS: usize = 10_000;

/// A Shift+click range of rows, as positions in the rows shown (first ≤ last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Position of the first selected row among the shown rows.
    pub first: usize,
    /// Position of the last selected row among the shown rows.
    pub last: usize,
}

impl Selection {
    /// The range between `anchor` and `extent` when both rows are shown; `None` for a single
    /// row or when either end is hidden by the filter or gone from the log.
    pub fn range(
        lv: &LogView,
        log: &crate::model::log::TrafficLog,
        anchor: Option<u64>,
        extent: Option<u64>,
    ) -> Option<Self> {
        let a = lv.shown_index(log, anchor?)?;
        let b = lv.shown_index(log, extent?)?;
        Some(Self {
            first: a.min(b),
            last: a.max(b),
        })
    }

    /// How many rows the range covers (at least one).
    pub fn rows(self) -> usize {
        self.last - self.first + 1
    }
}

/// What the rows highlight as selected.
#[derive(Clone, Copy, Debug)]
pub struct Marked {
    /// The selected (or anchor) row id.
    pub anchor: Option<u64>,
    /// The range selection, if any.
    pub range: Option<Selection>,
}

impl Marked {
    /// Whether the row `id` at shown position `index` is selected.
    pub fn contains(&self, id: u64, index: usize) -> bool {
        match self.range {
            Some(range) => (range.first..=range.last).contains(&index),
            None => self.anchor == Some(id),
        }
    }
}

/// One line of a range selection's detail.
pub(super) enum DetailLine {
    /// An entry's heading: its number, direction, peer, size and time.
    Heading(String, EntryKind),
    /// A hex dump row of the entry above.
    Dump(crate::codec::dump::DumpRow, EntryKind),
    /// The entry above as text (one line of it).
    Text(String, EntryKind),
}

/// What a range selection's detail is made from: the rows between its two ends as the
/// filter and framing show them, and how they are displayed.
#[derive(Clone, Debug, PartialEq)]
struct DetailKey {
    first_id: Option<u64>,
    last_id: Option<u64>,
    rows: usize,
    filter: crate::model::view::RowFilter,
    framing: Framing,
    hex: bool,
    encoding: TextEncoding,
    language: Language,
}

/// The detail of a range selection, built once per selection and display settings.
pub(super) struct SelectionDetail {
    key: DetailKey,
    lines: Vec<DetailLine>,
    summary: String,
    /// Hex of each entry, one per line (for Copy hex).
    hex: String,
    /// Text of each entry, one per line (for Copy text).
    text: String,
    /// The whole detail as plain text (for Copy dump).
    dump: String,
}

fn selection_detail(
    session: &Session,
    lv: &LogView,
    range: Selection,
    look: Look,
    key: DetailKey,
) -> SelectionDetail {
    let language = key.language;
    let log = &session.log;
    let mut lines = Vec::new();
    let (mut hex, mut text, mut dump) = (String::new(), String::new(), String::new());
    let (mut rx, mut tx, mut shown_bytes, mut rows) = (0u64, 0u64, 0usize, 0usize);
    for index in range.first..=range.last {
        if rows >= SELECTION_MAX_ROWS || shown_bytes >= DETAIL_MAX_BYTES {
            break;
        }
        let budget = DETAIL_MAX_BYTES - shown_bytes;
        let Some(row) = lv
            .shown_id(log, index)
            .and_then(|id| lv.row(log, id, budget))
        else {
            continue;
        };
        rows += 1;
        if !row.kind.is_traffic() {
            let heading = note_heading(language, session, &row);
            let note = note_text(log, row.first_seq, language);
            for line in [&heading, &note] {
                dump.push_str(line);
                dump.push('\n');
            }
            lines.push(DetailLine::Heading(heading, row.kind));
            lines.push(DetailLine::Text(note, row.kind));
            continue;
        }
        if row.kind == EntryKind::Rx {
            rx += row.len;
        } else {
            tx += row.len;
        }
        let bytes: &[u8] = &row.bytes;
        shown_bytes += bytes.len();
        let heading = format!(
            "#{}  {} {}  ·  {}  ·  {}",
            row.id,
            entry_label(language, row.kind, session.spec.kind.is_relay()),
            peer_text(session, row.peer),
            byte_count(row.len),
            clock_time(row.at_micros)
        );
        dump.push_str(&heading);
        dump.push('\n');
        lines.push(DetailLine::Heading(heading, row.kind));
        hex.push_str(&to_hex_spaced(bytes));
        hex.push('\n');
        let decoded = lv.row_text(log, &row, bytes.len(), look.encoding).text;
        text.push_str(&escape_controls(&decoded));
        text.push('\n');
        if look.hex {
            for line in dump_rows(bytes, look.encoding) {
                dump.push_str(&format!(
                    "{:08X}  {} {}\n",
                    line.offset, line.hex, line.text
                ));
                lines.push(DetailLine::Dump(line, row.kind));
            }
        } else {
            for line in escape_controls_keep_lines(&decoded).lines() {
                dump.push_str(line);
                dump.push('\n');
                lines.push(DetailLine::Text(line.to_string(), row.kind));
            }
        }
    }
    let mut summary = trf(
        language,
        Text::SelectionSummary,
        &[&range.rows(), &byte_count(rx), &byte_count(tx)],
    );
    if rows < range.rows() {
        summary.push_str(&trf(
            language,
            Text::SelectionLimited,
            &[&rows, &byte_count(DETAIL_MAX_BYTES as u64)],
        ));
    }
    SelectionDetail {
        key,
        lines,
        summary,
        hex,
        text,
        dump,
    }
}

/// The detail pane for a range selection: every selected entry under its heading, as a hex
/// dump (each entry's text column decoded on its own, so characters stay whole) or as text.
pub(super) fn selection_detail_ui(
    ui: &mut egui::Ui,
    session: &Session,
    state: &TrafficState,
    range: Selection,
    look: Look,
) -> bool {
    let lv = &state.log_view;
    let mut save_as_scenario = false;
    let key = DetailKey {
        first_id: lv.shown_id(&session.log, range.first),
        last_id: lv.shown_id(&session.log, range.last),
        rows: range.rows(),
        filter: lv.filter.clone(),
        framing: lv.framing(),
        hex: look.hex,
        encoding: look.encoding,
        language: crate::ui::language(ui.ctx()),
    };
    // Built once per selection and display settings, kept in egui's memory between frames.
    let cache_id = egui::Id::unique(("selection_detail", session.id.0));
    let cached: Option<Arc<SelectionDetail>> = ui.data(|d| d.get_temp(cache_id));
    let detail = match cached.filter(|d| d.key == key) {
        Some(detail) => detail,
        None => {
            let detail = Arc::new(selection_detail(session, lv, range, look, key));
            ui.data_mut(|d| d.insert_temp(cache_id, Arc::clone(&detail)));
            detail
        }
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong(&detail.summary);
        if ui.small_button(t(ui, Text::CopyHex)).clicked() {
            ui.ctx().copy_text(detail.hex.clone());
        }
        if ui.small_button(t(ui, Text::CopyText)).clicked() {
            ui.ctx().copy_text(detail.text.clone());
        }
        if ui.small_button(t(ui, Text::CopyDump)).clicked() {
            ui.ctx().copy_text(detail.dump.clone());
        }
        save_as_scenario = save_as_scenario_ui(ui);
    });
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    egui::ScrollArea::both()
        .id_salt("selection_dump")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, detail.lines.len(), |ui, rows| {
            let weak = ui.visuals().weak_text_color();
            let strong = ui.visuals().text_color();
            for line in detail.lines.get(rows).unwrap_or_default() {
                let mut job = LayoutJob::default();
                match line {
                    DetailLine::Heading(text, kind) => {
                        let color = kind_color(*kind, ui.visuals());
                        job.append(text, 0.0, TextFormat::simple(font.clone(), color));
                    }
                    DetailLine::Dump(dump, kind) => {
                        let offset = format!("{:08X}  ", dump.offset);
                        job.append(&offset, 0.0, TextFormat::simple(font.clone(), weak));
                        job.append(&dump.hex, 0.0, TextFormat::simple(font.clone(), strong));
                        let color = kind_color(*kind, ui.visuals());
                        let text = format!(" {}", dump.text);
                        job.append(&text, 0.0, TextFormat::simple(font.clone(), color));
                    }
                    DetailLine::Text(text, kind) => {
                        let color = if kind.is_traffic() {
                            strong
                        } else {
                            kind_color(*kind, ui.visuals())
                        };
                        job.append(text, 0.0, TextFormat::simple(font.clone(), color));
                    }
                }
                ui.add(egui::Label::new(job).extend());
            }
        });
    save_as_scenario
}
