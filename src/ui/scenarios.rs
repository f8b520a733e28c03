//! The Scenarios tab ([`ScenarioPanel`]): the file field with Open and Save, the editor with
//! its errors under it as the parser reports them (`LINE:COL: what`, in the window's
//! language, while typing), where to run, Run and Stop, and the step list of the run, ticked
//! live with each step's time, the variables it captured and, for a failed one, why and what
//! arrived instead. The run's traffic is in the session's log as any other.

use std::path::PathBuf;

use crate::app::Action;
use crate::app::scenarios::{RunOn, RunView, ScenarioAction, ScenarioPanel, StepState};
use crate::codec::hex::to_hex_spaced;
use crate::codec::text::{TextEncoding, decode_lossy};
use crate::i18n::Text;
use crate::i18n::scenario::{failure_received, scenario_error_text, step_failure_text};
use crate::protocol::{SessionId, StepOutcome};
use crate::ui::format::peer_name;
use crate::ui::{Panel, language, problem_ui, t, tf};

/// Errors listed under the editor; more are counted.
const ERRORS_SHOWN: usize = 8;

/// Bytes of a failed step's received data shown.
const RECEIVED_SHOWN: usize = 64;

/// What the Scenarios tab reads besides its state.
pub struct ScenariosTab<'a> {
    /// The session selected in the window, and its model.
    pub selected: Option<(SessionId, &'a crate::model::Session)>,
}

impl Panel<ScenariosTab<'_>> for ScenarioPanel {
    fn ui(&mut self, ui: &mut egui::Ui, input: ScenariosTab<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        self.file_ui(ui, &mut actions);
        let editor = ui.add(
            egui::TextEdit::multiline(&mut self.text)
                .id_salt("scenario_editor")
                .code_editor()
                .desired_rows(10)
                .desired_width(f32::INFINITY)
                .hint_text(t(ui, Text::ScenarioEditorHint)),
        );
        if editor.changed() {
            self.edited = true;
            self.saved_to = None;
        }
        ui.horizontal(|ui| {
            let label = ui.label(t(ui, Text::ScenarioVars));
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.vars)
                        .hint_text("port=1502")
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id)
                .on_hover_text(t(ui, Text::ScenarioVarsTip));
            if field.changed() {
                self.edited = true;
            }
        });
        self.errors_ui(ui);
        self.run_controls_ui(ui, input.selected.map(|(id, _)| id), &mut actions);
        if let Some(problem) = &self.problem {
            problem_ui(ui, problem);
        }
        if let Some(path) = &self.saved_to {
            ui.weak(tf(ui, Text::ScenarioSavedTo, &[&path.display()]));
        }
        if let Some(run) = &self.run {
            let session = input
                .selected
                .filter(|(id, _)| *id == run.session)
                .map(|(_, s)| s);
            run_ui(ui, run, session);
        }
        actions
    }
}

impl ScenarioPanel {
    fn file_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let label = ui.label(t(ui, Text::ScenarioFile));
        ui.horizontal(|ui| {
            let browse = ui.button("…").on_hover_text(t(ui, Text::ScenarioBrowseTip));
            if browse.clicked() {
                actions.push(Action::Scenario(ScenarioAction::Browse { save: false }));
            }
            ui.add(
                egui::TextEdit::singleline(&mut self.path)
                    .hint_text("device.sdbg")
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let path = PathBuf::from(self.path.trim());
            let has_path = !self.path.trim().is_empty();
            if ui
                .add_enabled(has_path, egui::Button::new(t(ui, Text::ScenarioOpen)))
                .clicked()
            {
                actions.push(Action::Scenario(ScenarioAction::Open(path.clone())));
            }
            if ui.button(t(ui, Text::ScenarioSave)).clicked() {
                actions.push(Action::Scenario(if has_path {
                    ScenarioAction::Save(path)
                } else {
                    ScenarioAction::Browse { save: true }
                }));
            }
        });
    }

    fn errors_ui(&self, ui: &mut egui::Ui) {
        let errors = self.errors();
        let language = language(ui.ctx());
        let color = ui.visuals().error_fg_color;
        for error in errors.iter().take(ERRORS_SHOWN) {
            let text = format!(
                "{}:{}: {}",
                error.pos.line,
                error.pos.column,
                scenario_error_text(language, &error.kind)
            );
            ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap());
        }
        if errors.len() > ERRORS_SHOWN {
            ui.colored_label(
                color,
                tf(
                    ui,
                    Text::ScenarioMoreErrors,
                    &[&(errors.len() - ERRORS_SHOWN)],
                ),
            );
        }
    }

    fn run_controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<SessionId>,
        actions: &mut Vec<Action>,
    ) {
        ui.radio_value(
            &mut self.run_on,
            RunOn::Selected,
            t(ui, Text::ScenarioOnSelected),
        );
        ui.radio_value(&mut self.run_on, RunOn::New, t(ui, Text::ScenarioOnNew));
        let parsed = matches!(self.parsed, Some(Ok(_)));
        let running = self.running();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    parsed && !running,
                    egui::Button::new(t(ui, Text::ScenarioRun)),
                )
                .clicked()
            {
                actions.push(Action::Scenario(ScenarioAction::Run {
                    on: self.run_on,
                    selected,
                }));
            }
            if ui
                .add_enabled(running, egui::Button::new(t(ui, Text::ScenarioStop)))
                .clicked()
            {
                actions.push(Action::Scenario(ScenarioAction::Stop));
            }
        });
    }
}

/// The run's state and its step list.
fn run_ui(ui: &mut egui::Ui, run: &RunView, session: Option<&crate::model::Session>) {
    let language = language(ui.ctx());
    ui.separator();
    let mut status = if run.ended {
        t(ui, Text::ScenarioEnded).to_string()
    } else {
        tf(ui, Text::ScenarioRunning, &[&run.run])
    };
    if let Some(addr) = run
        .peer
        .zip(session)
        .and_then(|(peer, s)| s.peer_index(peer).and_then(|i| s.peer_addr(i)))
    {
        status.push_str(&tf(ui, Text::ScenarioAgainst, &[&peer_name(addr)]));
    }
    ui.strong(status);
    if run.passed + run.failed > 0 {
        let summary = tf(ui, Text::ScenarioSummary, &[&run.passed, &run.failed]);
        let color = if run.failed > 0 {
            ui.visuals().error_fg_color
        } else {
            ui.visuals().text_color()
        };
        ui.colored_label(color, summary);
    }
    if let Some(not_run) = run.not_run() {
        use crate::i18n::messages::Render;
        ui.colored_label(
            ui.visuals().error_fg_color,
            tf(ui, Text::ScenarioRefused, &[&not_run.render(language)]),
        );
    }
    let ok = egui::Color32::from_rgb(0x4c, 0xaf, 0x50);
    let bad = ui.visuals().error_fg_color;
    let weak = ui.visuals().weak_text_color();
    for step in &run.steps {
        let (mark, color, elapsed) = match &step.state {
            StepState::Waiting => ("·", weak, None),
            StepState::Running => ("▶", ui.visuals().text_color(), None),
            StepState::Ended { elapsed, outcome } => match outcome {
                StepOutcome::Passed { .. } => ("✔", ok, Some(*elapsed)),
                StepOutcome::Failed(_) => ("✖", bad, Some(*elapsed)),
                StepOutcome::Aborted => ("✖", weak, Some(*elapsed)),
                StepOutcome::Interrupted => ("■", weak, Some(*elapsed)),
            },
        };
        let time = elapsed.map_or_else(String::new, |e| {
            format!("{:.1} ms", e.as_secs_f64() * 1000.0)
        });
        // A repeat's body: how many times it passed (before the source, which may be cut).
        let times = if step.passes > 1 {
            format!("×{}", step.passes)
        } else {
            String::new()
        };
        let indent = "  ".repeat(step.depth);
        let line = format!(
            "{mark} {time:>9} {times:>4}  {}:{}  {indent}{}",
            step.pos.line, step.pos.column, step.source
        );
        ui.add(egui::Label::new(egui::RichText::new(line).monospace().color(color)).truncate())
            .on_hover_text(step.source.as_str());
        let StepState::Ended { outcome, .. } = &step.state else {
            continue;
        };
        match outcome {
            StepOutcome::Passed { captures } => {
                for (name, value) in captures {
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(format!("      {name} = {value}"))
                                .monospace()
                                .color(weak),
                        )
                        .truncate(),
                    );
                }
            }
            StepOutcome::Failed(failure) => {
                let why = step_failure_text(language, failure);
                ui.add(egui::Label::new(egui::RichText::new(why).color(bad)).wrap());
                if let Some(received) = failure_received(failure) {
                    received_ui(ui, received);
                }
            }
            StepOutcome::Aborted | StepOutcome::Interrupted => {}
        }
    }
}

/// What a failed step received instead: its size, text and hex.
fn received_ui(ui: &mut egui::Ui, received: &[u8]) {
    let shown = &received[..received.len().min(RECEIVED_SHOWN)];
    let more = if received.len() > shown.len() {
        " …"
    } else {
        ""
    };
    let text = crate::codec::display::escape_controls(&decode_lossy(shown, TextEncoding::Utf8))
        .into_owned();
    let size = crate::ui::format::byte_count(received.len() as u64);
    ui.label(tf(ui, Text::ScenarioReceived, &[&size]));
    for line in [
        format!("{text}{more}"),
        format!("{}{more}", to_hex_spaced(shown)),
    ] {
        ui.add(egui::Label::new(egui::RichText::new(line).monospace()).wrap());
    }
}
