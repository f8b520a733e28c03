//! The framing form of a session's log: the mode and its fields (the draft and its checks are
//! [`crate::app::framing_form`]'s).

use super::*;

/// A framing mode's name in `language`.
pub fn framing_mode_label(language: Language, mode: FramingMode) -> &'static str {
    let key = match mode {
        FramingMode::Raw => Text::FramingRaw,
        FramingMode::Idle => Text::FramingIdle,
        FramingMode::Delimiter => Text::FramingDelimiter,
        FramingMode::Fixed => Text::FramingFixed,
        FramingMode::Length => Text::FramingLength,
    };
    tr(language, key)
}

pub(super) fn framing_ui(ui: &mut egui::Ui, state: &mut TrafficState) {
    let draft = &mut state.framing_draft;
    let before = draft.clone();
    let language = crate::ui::language(ui.ctx());
    ui.horizontal(|ui| {
        // The section's title names its combo.
        let label = ui.label(egui::RichText::new(t(ui, Text::Framing)).strong());
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(framing_mode_label(language, draft.mode))
            .show_ui(ui, |ui| {
                for mode in FramingMode::ALL {
                    ui.selectable_value(&mut draft.mode, mode, framing_mode_label(language, mode));
                }
            })
            .response
            .labelled_by(label.id);
    });
    let field = |ui: &mut egui::Ui, label: Text, text: &mut String| {
        let label = ui.label(t(ui, label));
        ui.add(egui::TextEdit::singleline(text).desired_width(90.0))
            .labelled_by(label.id);
        ui.end_row();
    };
    egui::Grid::new("framing_fields")
        .num_columns(2)
        .show(ui, |ui| match draft.mode {
            FramingMode::Raw => {
                ui.label(egui::RichText::new(t(ui, Text::RawReadsHint)).weak());
                ui.end_row();
            }
            FramingMode::Idle => field(ui, Text::GapMs, &mut draft.gap_ms),
            FramingMode::Delimiter => {
                field(ui, Text::DelimiterHex, &mut draft.delimiter);
                ui.checkbox(&mut draft.keep, t(ui, Text::KeepDelimiter));
                ui.end_row();
                field(ui, Text::MaxFrame, &mut draft.max_frame);
            }
            FramingMode::Fixed => field(ui, Text::FixedBytes, &mut draft.fixed_len),
            FramingMode::Length => {
                let label = ui.label(t(ui, Text::LengthField));
                egui::ComboBox::from_id_salt(label.id)
                    .selected_text(draft.width.name())
                    .width(90.0)
                    .show_ui(ui, |ui| {
                        for width in LengthWidth::ALL {
                            ui.selectable_value(&mut draft.width, width, width.name());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                field(ui, Text::Offset, &mut draft.offset);
                ui.checkbox(&mut draft.include_header, t(ui, Text::IncludesHeader));
                ui.end_row();
                field(ui, Text::MaxFrame, &mut draft.max_frame);
            }
        });
    if let Some(framed) = state.log_view.framed() {
        let pending = framed.pending_bytes();
        if pending > 0 {
            let text = crate::ui::tf(ui, Text::Pending, &[&pending]);
            ui.label(egui::RichText::new(text).weak())
                .on_hover_text(t(ui, Text::PendingTip));
        }
    }
    if let Some(error) = &state.framing_error {
        crate::ui::problem_ui(ui, error);
    }
    if *draft != before {
        match draft.framing() {
            Ok(framing) => {
                state.framing_error = None;
                if framing != state.log_view.framing() {
                    state.log_view.set_framing(framing);
                    state.selected_entry = None;
                    state.selection_extent = None;
                }
            }
            Err(e) => state.framing_error = Some(crate::app::Problem::Framing(e)),
        }
    }
}
