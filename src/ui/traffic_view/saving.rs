//! The capture and export forms of a session's log (their state and jobs are
//! [`crate::app::traffic`]'s).

use std::path::PathBuf;

use super::*;

pub(super) fn save_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    egui::CollapsingHeader::new(t(ui, Text::CaptureAndExport))
        .id_salt("save_section")
        .default_open(false)
        .show(ui, |ui| {
            capture_ui(ui, state, id, actions);
            export_ui(ui, state, id, actions);
        });
}

pub(super) fn export_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        let form = &mut state.export_form;
        let label = ui.label(t(ui, Text::ExportAs));
        let before = form.format;
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(export_format_label(ui, form.format))
            .width(150.0)
            .show_ui(ui, |ui| {
                for format in ExportFormat::ALL {
                    let text = export_format_label(ui, format);
                    ui.selectable_value(&mut form.format, format, text);
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
        ui.checkbox(&mut form.filtered_only, t(ui, Text::FilteredOnly));
        labelled_field(ui, t(ui, Text::ExportFile), &mut form.path, 260.0);
        if ui
            .add_enabled(
                state.picking.is_none(),
                egui::Button::new(t(ui, Text::ChooseExportFile)),
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
                if ui.button(t(ui, Text::CancelExport)).clicked() {
                    actions.push(Action::Traffic(id, TrafficAction::CancelExport));
                }
            }
            None => {
                if ui.button(t(ui, Text::ExportLog)).clicked() {
                    actions.push(Action::Traffic(id, TrafficAction::Export));
                }
            }
        }
        match &state.export_result {
            Some(Ok((rows, path))) => {
                ui.label(crate::ui::tf(ui, Text::Exported, &[rows, &path.display()]));
            }
            Some(Err(problem)) => crate::ui::problem_ui(ui, problem),
            None => {}
        }
    });
}

pub(super) fn capture_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        let capturing = state.capture.is_some();
        ui.add_enabled_ui(!capturing, |ui| {
            labelled_field(ui, t(ui, Text::CaptureFile), &mut state.capture_path, 260.0);
            if ui
                .add_enabled(
                    state.picking.is_none(),
                    egui::Button::new(t(ui, Text::ChooseCaptureFile)),
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
            .on_hover_text(t(ui, Text::CaptureTip))
            .clicked()
        {
            actions.push(Action::Traffic(
                id,
                TrafficAction::StartCapture(PathBuf::from(state.capture_path.trim())),
            ));
        }
        let error = state.capture_error.clone().or_else(|| {
            let capture = state.capture.as_ref()?;
            Some(crate::app::Problem::Capture(capture.error()?))
        });
        if let Some(error) = error {
            crate::ui::problem_ui(ui, &error);
        }
    });
}

/// An export format's name in the window's language ([`ExportFormat::label`] is the
/// English one, used by the headless mode).
fn export_format_label(ui: &egui::Ui, format: ExportFormat) -> &'static str {
    let key = match format {
        ExportFormat::Text => Text::FormatText,
        ExportFormat::HexDump => Text::FormatHexDump,
        ExportFormat::Jsonl => Text::FormatJsonl,
        ExportFormat::RawRx => Text::FormatRawRx,
        ExportFormat::RawTx => Text::FormatRawTx,
    };
    t(ui, key)
}
