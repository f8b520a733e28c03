//! The capture and export forms of a session's log (their state and jobs are
//! [`crate::app::traffic`]'s).

use std::path::PathBuf;

use super::*;

/// The settings column's Save tab: what it reads besides the log's state.
pub struct SaveTab {
    /// The session's id (its actions name it).
    pub id: SessionId,
}

impl Panel<SaveTab> for TrafficState {
    /// The pcapng capture, then the export.
    fn ui(&mut self, ui: &mut egui::Ui, input: SaveTab) -> Vec<Action> {
        let mut actions = Vec::new();
        capture_ui(ui, self, input.id, &mut actions);
        ui.add_space(6.0);
        export_ui(ui, self, input.id, &mut actions);
        actions
    }
}

/// A path field filling the width, with its label above and a browse button.
fn path_field_ui(
    ui: &mut egui::Ui,
    label: Text,
    path: &mut String,
    browse: Option<(Text, Action)>,
    actions: &mut Vec<Action>,
) {
    let label = ui.label(egui::RichText::new(t(ui, label)).strong());
    ui.add(egui::TextEdit::singleline(path).desired_width(ui.available_width()))
        .labelled_by(label.id);
    if let Some((text, action)) = browse
        && ui.button(t(ui, text)).clicked()
    {
        actions.push(action);
    }
}

pub(super) fn export_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    let form = &mut state.export_form;
    ui.horizontal(|ui| {
        let label = ui.label(t(ui, Text::ExportAs));
        let before = form.format;
        egui::ComboBox::from_id_salt(label.id)
            .selected_text(export_format_label(ui, form.format))
            .width(ui.available_width().min(200.0))
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
    });
    ui.checkbox(&mut form.filtered_only, t(ui, Text::FilteredOnly));
    let browse = (state.picking.is_none()).then_some((
        Text::ChooseExportFile,
        Action::Traffic(id, TrafficAction::Browse(PathField::Export)),
    ));
    path_field_ui(ui, Text::ExportFile, &mut form.path, browse, actions);
    match &mut state.export {
        Some((job, _)) => {
            let progress = job.progress();
            ui.add(egui::ProgressBar::new(progress).show_percentage());
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
}

pub(super) fn capture_ui(
    ui: &mut egui::Ui,
    state: &mut TrafficState,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    let capturing = state.capture.is_some();
    let browse = (state.picking.is_none() && !capturing).then_some((
        Text::ChooseCaptureFile,
        Action::Traffic(id, TrafficAction::Browse(PathField::Capture)),
    ));
    ui.add_enabled_ui(!capturing, |ui| {
        path_field_ui(
            ui,
            Text::CaptureFile,
            &mut state.capture_path,
            browse,
            actions,
        );
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
