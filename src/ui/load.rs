//! The Load test tab ([`LoadPanel`]): the form with the options of `sockdbg load`, Start and
//! Stop, why a field cannot be used (under the buttons, in the window's language), the live
//! figures of the last second and of the run so far, plots of messages a second and of the
//! round-trip percentiles over time, the summary with the thresholds, Save CSV, and the first
//! messages of the run.

use std::path::PathBuf;

use crate::app::load::{LoadAction, LoadPanel, LoadRun};
use crate::app::{Action, Problem};
use crate::codec::hex::to_hex_spaced;
use crate::i18n::load::{
    Ld, error_kind_text, exceeded_text, ld, ldf, load_arg_error_text, load_end_text, mode_text,
};
use crate::load::report::micros_text;
use crate::load::stats::ErrorCounts;
use crate::load::{LoadErrorKind, Mode, Rtt, Summary, Totals};
use crate::protocol::Direction;
use crate::ui::choice::choice_ui;
use crate::ui::format::{byte_count, kind_color};
use crate::ui::{Panel, language, problem_ui};

/// Height of each plot, in points.
const PLOT_HEIGHT: f32 = 130.0;

/// What the Load test tab reads besides its state (nothing yet: the runs are its own).
pub struct LoadTab;

fn l(ui: &egui::Ui, key: Ld) -> &'static str {
    ld(language(ui.ctx()), key)
}

impl Panel<LoadTab> for LoadPanel {
    fn ui(&mut self, ui: &mut egui::Ui, _input: LoadTab) -> Vec<Action> {
        let mut actions = Vec::new();
        ui.label(egui::RichText::new(l(ui, Ld::Intro)).weak());
        ui.add_space(4.0);
        let running = self.running();
        ui.add_enabled_ui(!running, |ui| self.form_ui(ui));
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new(l(ui, Ld::Start)))
                .clicked()
            {
                actions.push(Action::Load(LoadAction::Start));
            }
            if ui
                .add_enabled(running, egui::Button::new(l(ui, Ld::Stop)))
                .clicked()
            {
                actions.push(Action::Load(LoadAction::Stop));
            }
            if let Some(run) = &self.run {
                ui.label(status_text(ui, run));
            }
        });
        if let Some(error) = &self.error {
            let text = load_arg_error_text(language(ui.ctx()), error);
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        let saving = self.saving();
        if let Some(run) = &self.run {
            ui.separator();
            live_ui(ui, run);
            plots_ui(ui, run);
            if let Some((_, summary)) = &run.ended {
                ui.separator();
                summary_ui(ui, run, summary);
            }
            if !run.records.is_empty() {
                csv_ui(
                    ui,
                    &mut self.csv_path,
                    saving,
                    &self.csv_result,
                    &mut actions,
                );
            }
            samples_ui(ui, run);
        }
        actions
    }
}

impl LoadPanel {
    fn form_ui(&mut self, ui: &mut egui::Ui) {
        let lang = language(ui.ctx());
        let form = &mut self.form;
        egui::Grid::new("load_form")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                let field =
                    |ui: &mut egui::Ui, key: Ld, text: &mut String, hint: &str, tip: Option<Ld>| {
                        let label = ui.label(ld(lang, key));
                        let mut response = ui
                            .add(
                                egui::TextEdit::singleline(text)
                                    .hint_text(hint)
                                    .desired_width(ui.available_width().max(60.0)),
                            )
                            .labelled_by(label.id);
                        if let Some(tip) = tip {
                            response = response.on_hover_text(ld(lang, tip));
                        }
                        drop(response);
                        ui.end_row();
                    };
                field(
                    ui,
                    Ld::Target,
                    &mut form.spec,
                    "tcp-client:127.0.0.1:7000",
                    None,
                );
                choice_ui(
                    ui,
                    ld(lang, Ld::Mode),
                    &mut form.mode,
                    &Mode::ALL,
                    |ui, mode| mode_text(language(ui.ctx()), mode),
                    ui.available_width().max(60.0),
                    "load_mode",
                );
                ui.end_row();
                field(ui, Ld::Connections, &mut form.connections, "1", None);
                field(
                    ui,
                    Ld::ConnectRate,
                    &mut form.connect_rate,
                    "0",
                    Some(Ld::ConnectRateTip),
                );
                field(ui, Ld::Duration, &mut form.duration_ms, "10000", None);
                field(ui, Ld::Rate, &mut form.rate, "0", Some(Ld::RateTip));
                field(
                    ui,
                    Ld::Payload,
                    &mut form.send,
                    "text:ping",
                    Some(Ld::PayloadTip),
                );
                ui.label("");
                ui.checkbox(&mut form.escapes, ld(lang, Ld::Escapes));
                ui.end_row();
                field(
                    ui,
                    Ld::Framing,
                    &mut form.framing,
                    "raw",
                    Some(Ld::FramingTip),
                );
                let optional = ld(lang, Ld::Optional);
                field(
                    ui,
                    Ld::Expect,
                    &mut form.expect,
                    optional,
                    Some(Ld::ExpectTip),
                );
                field(ui, Ld::Timeout, &mut form.timeout_ms, "5000", None);
                field(
                    ui,
                    Ld::MaxErrorRate,
                    &mut form.max_error_rate,
                    optional,
                    None,
                );
                field(ui, Ld::MaxP99, &mut form.max_p99_ms, optional, None);
            });
    }
}

/// The CSV file's field, Save CSV, and what the last save did.
fn csv_ui(
    ui: &mut egui::Ui,
    csv_path: &mut String,
    saving: bool,
    result: &Option<Result<(usize, PathBuf), Problem>>,
    actions: &mut Vec<Action>,
) {
    ui.separator();
    let label = ui.label(l(ui, Ld::CsvFile));
    ui.add(
        egui::TextEdit::singleline(csv_path)
            .hint_text("load.csv")
            .desired_width(ui.available_width()),
    )
    .labelled_by(label.id);
    let path = csv_path.trim();
    let enabled = !path.is_empty() && !saving;
    if ui
        .add_enabled(enabled, egui::Button::new(l(ui, Ld::SaveCsv)))
        .clicked()
    {
        actions.push(Action::Load(LoadAction::SaveCsv(PathBuf::from(path))));
    }
    match result {
        Some(Ok((rows, path))) => {
            let text = ldf(language(ui.ctx()), Ld::CsvSaved, &[rows, &path.display()]);
            ui.label(egui::RichText::new(text).weak());
        }
        Some(Err(problem)) => problem_ui(ui, problem),
        None => {}
    }
}

/// Running (how far), stopping, or how the run ended.
fn status_text(ui: &egui::Ui, run: &LoadRun) -> String {
    let lang = language(ui.ctx());
    match &run.ended {
        Some((end, _)) => load_end_text(lang, end),
        None if run.stopping => ld(lang, Ld::Stopping).to_string(),
        None => {
            let done = run.records.last().map_or(0, |r| r.elapsed_ms / 1000);
            ldf(lang, Ld::Running, &[&done, &run.duration.as_secs()])
        }
    }
}

fn rate_text(per_second: f64) -> String {
    format!("{per_second:.0}")
}

fn byte_rate_text(per_second: f64) -> String {
    format!("{}/s", byte_count(per_second.max(0.0) as u64))
}

fn errors_text(ui: &egui::Ui, errors: &ErrorCounts) -> String {
    let lang = language(ui.ctx());
    if errors.total() == 0 {
        return ld(lang, Ld::NoErrors).to_string();
    }
    LoadErrorKind::ALL
        .into_iter()
        .filter(|k| errors.get(*k) > 0)
        .map(|k| format!("{} {}", error_kind_text(lang, k), errors.get(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The RTT rows of a grid: each percentile, the second's and the overall's.
fn rtt_rows(ui: &mut egui::Ui, second: Option<&Rtt>, overall: &Rtt) {
    let values = |r: &Rtt| [r.p50, r.p90, r.p99, r.p999, r.max];
    let names = ["RTT p50", "RTT p90", "RTT p99", "RTT p99.9", "RTT max"];
    let second = second.map(values);
    for (index, name) in names.into_iter().enumerate() {
        ui.label(name);
        if let Some(second) = second {
            ui.monospace(micros_text(second[index]));
        }
        ui.monospace(micros_text(values(overall)[index]));
        ui.end_row();
    }
}

/// The last second beside the run so far.
fn live_ui(ui: &mut egui::Ui, run: &LoadRun) {
    let Some(last) = run.last_second() else {
        return;
    };
    let totals: &Totals = &run.totals;
    egui::Grid::new("load_live")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.label("");
            ui.strong(l(ui, Ld::LastSecond));
            ui.strong(l(ui, Ld::Overall));
            ui.end_row();
            ui.label(l(ui, Ld::Open));
            ui.monospace(last.open.to_string());
            ui.label("");
            ui.end_row();
            ui.label(l(ui, Ld::Opened));
            ui.monospace(last.during.connections.to_string());
            ui.monospace(totals.connections.to_string());
            ui.end_row();
            ui.label(l(ui, Ld::ConnectFailed));
            ui.monospace(last.during.connect_errors.to_string());
            ui.monospace(totals.connect_errors.to_string());
            ui.end_row();
            ui.label(l(ui, Ld::SentPerSecond));
            let [sent, answers, rx, tx] = last.overall_per_s;
            ui.monospace(rate_text(last.sent_per_s));
            ui.monospace(rate_text(sent));
            ui.end_row();
            ui.label(l(ui, Ld::AnswersPerSecond));
            ui.monospace(rate_text(last.answers_per_s));
            ui.monospace(rate_text(answers));
            ui.end_row();
            ui.label(l(ui, Ld::RxPerSecond));
            ui.monospace(byte_rate_text(last.rx_per_s));
            ui.monospace(byte_rate_text(rx));
            ui.end_row();
            ui.label(l(ui, Ld::TxPerSecond));
            ui.monospace(byte_rate_text(last.tx_per_s));
            ui.monospace(byte_rate_text(tx));
            ui.end_row();
            rtt_rows(ui, Some(&last.rtt_us), &last.overall_rtt_us);
            ui.label(l(ui, Ld::Errors));
            ui.label(errors_text(ui, &last.during.errors));
            ui.label(errors_text(ui, &totals.errors));
            ui.end_row();
        });
}

/// A plot over the run's time (0 to `end_s` seconds, from 0 up), fixed: the run moves it.
fn plot(id: &str, end_s: f64) -> egui_plot::Plot<'_> {
    egui_plot::Plot::new(id)
        .height(PLOT_HEIGHT)
        .include_x(0.0)
        .include_x(end_s)
        .include_y(0.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
}

/// Messages a second and the RTT percentiles of each second, over the run's time.
fn plots_ui(ui: &mut egui::Ui, run: &LoadRun) {
    if run.records.is_empty() {
        return;
    }
    let lang = language(ui.ctx());
    let series = run.series();
    let end_s = run.duration.as_secs_f64();
    let sent_color = kind_color(crate::model::EntryKind::Tx, ui.visuals());
    let answers_color = kind_color(crate::model::EntryKind::Rx, ui.visuals());
    ui.strong(ld(lang, Ld::PlotMessages));
    plot("load_messages_plot", end_s)
        .y_axis_label(ld(lang, Ld::MsgsPerSecond))
        .show(ui, |plot| {
            plot.line(
                egui_plot::Line::new(ld(lang, Ld::SentPerSecond), series.sent).color(sent_color),
            );
            plot.line(
                egui_plot::Line::new(ld(lang, Ld::AnswersPerSecond), series.answers)
                    .color(answers_color),
            );
        });
    if run.mode == Mode::Stream {
        return; // stream mode measures no round trips
    }
    ui.strong(ld(lang, Ld::PlotRtt));
    plot("load_rtt_plot", end_s)
        .y_axis_label(ld(lang, Ld::Milliseconds))
        .show(ui, |plot| {
            let [p50, p90, p99, p999] = series.rtt_ms;
            for (name, points) in [("p50", p50), ("p90", p90), ("p99", p99), ("p99.9", p999)] {
                plot.line(egui_plot::Line::new(name, points));
            }
        });
}

/// The whole run: counts, rates, RTT, errors, and the thresholds it was held to.
fn summary_ui(ui: &mut egui::Ui, run: &LoadRun, summary: &Summary) {
    let lang = language(ui.ctx());
    ui.strong(ld(lang, Ld::Summary));
    let seconds = summary.elapsed_ms as f64 / 1000.0;
    let per_second = |n: u64| summary.per_second(n);
    egui::Grid::new("load_summary")
        .striped(true)
        .num_columns(2)
        .show(ui, |ui| {
            ui.label(ld(lang, Ld::Elapsed));
            ui.monospace(format!("{seconds:.1} s"));
            ui.end_row();
            ui.label(ld(lang, Ld::Opened));
            ui.monospace(summary.connections.to_string());
            ui.end_row();
            ui.label(ld(lang, Ld::ConnectFailed));
            ui.monospace(summary.connect_errors.to_string());
            ui.end_row();
            ui.label(ld(lang, Ld::Sent));
            ui.monospace(format!(
                "{} ({}/s)",
                summary.messages_sent,
                rate_text(per_second(summary.messages_sent))
            ));
            ui.end_row();
            ui.label(ld(lang, Ld::Answers));
            ui.monospace(format!(
                "{} ({}/s)",
                summary.answers,
                rate_text(per_second(summary.answers))
            ));
            ui.end_row();
            ui.label(ld(lang, Ld::RxBytes));
            ui.monospace(byte_count(summary.rx_bytes));
            ui.end_row();
            ui.label(ld(lang, Ld::TxBytes));
            ui.monospace(byte_count(summary.tx_bytes));
            ui.end_row();
            rtt_rows(ui, None, &summary.rtt_us);
            ui.label(ld(lang, Ld::Errors));
            ui.label(errors_text(ui, &summary.errors));
            ui.end_row();
            ui.label(ld(lang, Ld::ErrorRate));
            ui.monospace(format!("{:.4}", summary.error_rate()));
            ui.end_row();
        });
    let exceeded = run.exceeded();
    for reason in &exceeded {
        ui.colored_label(ui.visuals().error_fg_color, exceeded_text(lang, reason));
    }
    let held = run.thresholds.max_error_rate.is_some() || run.thresholds.max_p99_ms.is_some();
    if held && exceeded.is_empty() {
        ui.label(ld(lang, Ld::WithinThresholds));
    }
}

/// The first messages of the run, as hex.
fn samples_ui(ui: &mut egui::Ui, run: &LoadRun) {
    if run.samples.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(l(ui, Ld::Samples))
        .id_salt("load_samples")
        .show(ui, |ui| {
            for (conn, dir, data) in &run.samples {
                let arrow = match dir {
                    Direction::Rx => "←",
                    Direction::Tx | Direction::Up | Direction::Down => "→",
                };
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(format!("#{conn} {arrow} {}", to_hex_spaced(data)))
                            .monospace(),
                    )
                    .truncate(),
                );
            }
        });
}
