//! Saving a session's traffic: the export form and its background job, the pcapng capture
//! form, and the file dialogs that fill their path fields.

use super::*;
use crate::file_dialog::Answer;

/// A path field a file dialog can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathField {
    /// The capture file.
    Capture,
    /// The export file.
    Export,
}

/// The export form's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportForm {
    /// What the file holds.
    pub format: ExportFormat,
    /// Only the rows the filter shows (else every row).
    pub filtered_only: bool,
    /// Where it goes.
    pub path: String,
}

/// The rows an export covers, fixed when it starts.
#[derive(Clone, Debug)]
pub enum ExportRows {
    /// Row ids `first..end`.
    Range(u64, u64),
    /// These row ids (the filtered view when the export started).
    List(Vec<u64>),
}

impl ExportRows {
    pub(super) fn len(&self) -> u64 {
        match self {
            ExportRows::Range(first, end) => end - first,
            ExportRows::List(ids) => ids.len() as u64,
        }
    }

    fn id(&self, index: u64) -> Option<u64> {
        match self {
            ExportRows::Range(first, end) => Some(first + index).filter(|id| id < end),
            ExportRows::List(ids) => ids.get(usize::try_from(index).ok()?).copied(),
        }
    }
}

/// Fills a path field when its file dialog has closed.
pub(super) fn poll_dialog(state: &mut TrafficState, language: Language) {
    let Some((field, dialog)) = &state.picking else {
        return;
    };
    let Some(answer) = dialog.poll() else {
        return;
    };
    let field = *field;
    state.picking = None;
    match answer {
        Answer::Picked(path) => {
            let path = path.display().to_string();
            match field {
                PathField::Capture => state.capture_path = path,
                PathField::Export => state.export_form.path = path,
            }
        }
        Answer::Cancelled => {}
        Answer::Unavailable(message) => {
            let message = crate::i18n::errors::dialog_error_text(language, &message);
            match field {
                PathField::Capture => state.capture_error = Some(message),
                PathField::Export => state.export_result = Some(Err(message)),
            }
        }
    }
}

/// Hands the running export its next rows (a bounded amount per frame) and collects its end.
pub(super) fn feed_export(state: &mut TrafficState, session: &Session, language: Language) {
    let Some((job, rows)) = &mut state.export else {
        return;
    };
    let lv = &state.log_view;
    job.feed(|index| {
        let row = lv.row(&session.log, rows.id(index)?, usize::MAX)?;
        Some(ExportRow {
            kind: row.kind,
            peer_addr: session.peer_addr(row.peer),
            at_micros: row.at_micros,
            bytes: row.bytes.into_owned(),
        })
    });
    let outcome = job.poll().cloned();
    if let Some(outcome) = outcome {
        let path = job.path();
        state.export_result = Some(
            outcome
                .map(|rows| trf(language, Text::Exported, &[&rows, &path.display()]))
                .map_err(|e| crate::i18n::errors::export_error_text(language, &e)),
        );
        state.export = None;
    }
}

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
            Some(Ok(message)) => {
                ui.label(message);
            }
            Some(Err(message)) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
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
            let error = capture.error()?;
            let language = crate::ui::language(ui.ctx());
            Some(crate::i18n::errors::capture_error_text(language, &error))
        });
        if let Some(error) = error {
            ui.colored_label(ui.visuals().error_fg_color, error);
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
