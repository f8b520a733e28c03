//! The detail pane: the selected entries as a hex dump (offset, 16 bytes per row, text column
//! in the chosen encoding) or as text, with copy buttons.

use super::rows::peer_text;
use super::*;

pub(super) fn detail_ui(ui: &mut egui::Ui, session: &Session, row: &Row<'_>, view: &ViewSettings) {
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
