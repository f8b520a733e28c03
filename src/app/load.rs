//! The Load test tab's state ([`LoadPanel`]): the form with the options of `sockdbg load`
//! as typed (turned into a plan by the command line's own parsers, [`crate::load::options`]
//! and [`crate::load_command::plan`]), the run in the engine (a load job on a session id of
//! its own, reused run after run with a new job id), its per-second records and summary as
//! they arrive, and saving the records as CSV on a thread of its own. What its actions do is
//! [`App::perform_load`].

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;

use crate::app::worker::Worker;
use crate::app::{App, Problem};
use crate::cli::{LoadArgs, LoadFormat};
use crate::codec::checksum::Checksum;
use crate::codec::send::LineEnding;
use crate::codec::text::TextEncoding;
use crate::load::options::{self, LoadArgError, LoadOption};
use crate::load::report::{csv_header, csv_row};
use crate::load::{Mode, Rtt, SecondRecord, Summary, Totals};
use crate::load_command::{Exceeded, Thresholds};
use crate::protocol::{Command, Direction, JobId, LoadEnd, LoadUpdate, SessionId};
use crate::spec::{SessionKind, SessionSpec};

/// Most seconds a run keeps for its plots and CSV (a day); later ones replace the oldest.
pub const MAX_RECORDS: usize = 86_400;

/// Most sampled messages a run keeps for inspection.
pub const MAX_SAMPLES: usize = 16;

/// The form's fields, as typed (the command line's defaults until changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadForm {
    /// The target, a client spec (`tcp-client:HOST:PORT`, `ws://…`, …).
    pub spec: String,
    /// What each connection does.
    pub mode: Mode,
    /// `--connections`.
    pub connections: String,
    /// `--connect-rate`.
    pub connect_rate: String,
    /// `--duration-ms`.
    pub duration_ms: String,
    /// `--rate`.
    pub rate: String,
    /// `--send`.
    pub send: String,
    /// `--escapes`: `\r \n \t \\ \0 \xNN` in the payload's text.
    pub escapes: bool,
    /// `--framing`.
    pub framing: String,
    /// `--expect` (empty: any answer).
    pub expect: String,
    /// `--timeout-ms`.
    pub timeout_ms: String,
    /// `--max-error-rate` (empty: none).
    pub max_error_rate: String,
    /// `--max-p99-ms` (empty: none).
    pub max_p99_ms: String,
}

impl Default for LoadForm {
    /// The command line's defaults (a test checks they agree).
    fn default() -> Self {
        Self {
            spec: String::new(),
            mode: Mode::Pingpong,
            connections: "1".into(),
            connect_rate: "0".into(),
            duration_ms: "10000".into(),
            rate: "0".into(),
            send: "text:ping".into(),
            escapes: false,
            framing: "raw".into(),
            expect: String::new(),
            timeout_ms: "5000".into(),
            max_error_rate: String::new(),
            max_p99_ms: String::new(),
        }
    }
}

impl LoadForm {
    /// The arguments the fields make, parsed by the command line's own parsers; text is
    /// encoded with `encoding`.
    ///
    /// # Errors
    /// The first field that cannot be used, and why.
    pub fn args(&self, encoding: TextEncoding) -> Result<LoadArgs, LoadArgError> {
        let at = |option| move |error| LoadArgError { option, error };
        Ok(LoadArgs {
            spec: options::spec(&self.spec).map_err(at(LoadOption::Spec))?,
            mode: self.mode,
            connections: options::connections(&self.connections)
                .map_err(at(LoadOption::Connections))?,
            connect_rate: options::rate(&self.connect_rate).map_err(at(LoadOption::ConnectRate))?,
            duration_ms: options::millis(&self.duration_ms).map_err(at(LoadOption::Duration))?,
            rate: options::rate(&self.rate).map_err(at(LoadOption::Rate))?,
            send: self.send.clone(),
            framing: options::framing(&self.framing).map_err(at(LoadOption::Framing))?,
            expect: optional(&self.expect).map(str::to_string),
            timeout_ms: options::millis(&self.timeout_ms).map_err(at(LoadOption::Timeout))?,
            sample: crate::load::DEFAULT_SAMPLE_MESSAGES,
            format: LoadFormat::Text,
            csv: None,
            max_error_rate: optional(&self.max_error_rate)
                .map(options::error_rate)
                .transpose()
                .map_err(at(LoadOption::MaxErrorRate))?,
            max_p99_ms: optional(&self.max_p99_ms)
                .map(options::threshold_ms)
                .transpose()
                .map_err(at(LoadOption::MaxP99))?,
            encoding,
            escapes: self.escapes,
            line_ending: LineEnding::None,
            checksum: Checksum::None,
        })
    }
}

/// A field's text, unless it is empty (an option not given).
fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// A load run started from the tab: what it reported so far.
#[derive(Clone, Debug)]
pub struct LoadRun {
    /// Its job in the engine.
    pub job: JobId,
    /// What it does (for the heading).
    pub mode: Mode,
    /// Connections it holds.
    pub connections: u32,
    /// How long it lasts.
    pub duration: Duration,
    /// What its summary is held to.
    pub thresholds: Thresholds,
    /// A record per second, oldest first (at most [`MAX_RECORDS`]).
    pub records: Vec<SecondRecord>,
    /// Every second's counts added up (the run so far).
    pub totals: Totals,
    /// The first messages of its first connections, both ways.
    pub samples: Vec<(u64, Direction, Bytes)>,
    /// Stop was pressed.
    pub stopping: bool,
    /// How it ended and its summary, once it has.
    pub ended: Option<(LoadEnd, Summary)>,
}

impl LoadRun {
    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.ended.is_none()
    }

    /// The thresholds its summary exceeded (empty while it runs).
    pub fn exceeded(&self) -> Vec<Exceeded> {
        self.ended
            .as_ref()
            .map(|(_, summary)| self.thresholds.exceeded(summary))
            .unwrap_or_default()
    }
}

/// A run's figures over time, for the plots: `[seconds since the start, value]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Messages sent a second.
    pub sent: Vec<[f64; 2]>,
    /// Answers a second.
    pub answers: Vec<[f64; 2]>,
    /// RTT percentiles of each second, in milliseconds: p50, p90, p99, p99.9.
    pub rtt_ms: [Vec<[f64; 2]>; 4],
}

/// The last second of a run as rates (the last record may cover less than a second).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LastSecond {
    /// Connections open at its end.
    pub open: u64,
    /// Its counts.
    pub during: Totals,
    /// Messages sent a second.
    pub sent_per_s: f64,
    /// Answers a second.
    pub answers_per_s: f64,
    /// Bytes received a second.
    pub rx_per_s: f64,
    /// Bytes sent a second.
    pub tx_per_s: f64,
    /// The run so far, a second: messages sent, answers, bytes received, bytes sent.
    pub overall_per_s: [f64; 4],
    /// Its round trips.
    pub rtt_us: Rtt,
    /// The run's round trips so far.
    pub overall_rtt_us: Rtt,
}

impl LoadRun {
    /// The last second, as rates.
    pub fn last_second(&self) -> Option<LastSecond> {
        let (last, earlier) = self.records.split_last()?;
        let span_ms = last
            .elapsed_ms
            .saturating_sub(earlier.last().map_or(0, |r| r.elapsed_ms));
        let seconds = (span_ms as f64 / 1000.0).max(0.001);
        let d = &last.during;
        let run_s = (last.elapsed_ms as f64 / 1000.0).max(0.001);
        let t = &self.totals;
        let overall = [t.messages_sent, t.answers, t.rx_bytes, t.tx_bytes];
        Some(LastSecond {
            overall_per_s: overall.map(|n| n as f64 / run_s),
            open: last.open,
            during: *d,
            sent_per_s: d.messages_sent as f64 / seconds,
            answers_per_s: d.answers as f64 / seconds,
            rx_per_s: d.rx_bytes as f64 / seconds,
            tx_per_s: d.tx_bytes as f64 / seconds,
            rtt_us: last.rtt_us,
            overall_rtt_us: last.overall_rtt_us,
        })
    }

    /// The plots' points.
    pub fn series(&self) -> Series {
        let mut series = Series::default();
        let mut before_ms = 0;
        for record in &self.records {
            let x = record.elapsed_ms as f64 / 1000.0;
            let seconds = (record.elapsed_ms.saturating_sub(before_ms) as f64 / 1000.0).max(0.001);
            before_ms = record.elapsed_ms;
            let d = &record.during;
            series.sent.push([x, d.messages_sent as f64 / seconds]);
            series.answers.push([x, d.answers as f64 / seconds]);
            let r = &record.rtt_us;
            for (line, micros) in series.rtt_ms.iter_mut().zip([r.p50, r.p90, r.p99, r.p999]) {
                line.push([x, micros as f64 / 1000.0]);
            }
        }
        series
    }
}

/// What the Load test tab asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadAction {
    /// Start a run with the form's options.
    Start,
    /// Stop the run now.
    Stop,
    /// Write the run's per-second records to this CSV file.
    SaveCsv(PathBuf),
}

/// The Load test tab.
#[derive(Debug, Default)]
pub struct LoadPanel {
    /// The form.
    pub form: LoadForm,
    /// Why the form cannot start a run (shown under it until the next Start).
    pub error: Option<LoadArgError>,
    /// The last run, running or ended.
    pub run: Option<LoadRun>,
    /// Where Save CSV writes.
    pub csv_path: String,
    /// What the last Save CSV did: the rows written and where, or why not.
    pub csv_result: Option<Result<(usize, PathBuf), Problem>>,
    csv_job: Option<Worker<Result<(usize, PathBuf), String>>>,
    /// The session id the runs use (reserved in the model the first time).
    session: Option<SessionId>,
    next_job: u64,
    /// The target last proposed from the selected session (replaced while untouched).
    proposed: Option<String>,
    /// The session the last proposal was made for.
    proposed_for: Option<SessionId>,
}

impl LoadPanel {
    /// Whether a run is going on.
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(LoadRun::running)
    }

    /// Whether a CSV file is being written.
    pub fn saving(&self) -> bool {
        self.csv_job.is_some()
    }

    /// The session id of the runs, if one was started.
    pub fn session(&self) -> Option<SessionId> {
        self.session
    }

    /// Takes in what a load job reported, if it is this tab's run.
    pub fn track(&mut self, id: SessionId, job: JobId, update: &LoadUpdate) {
        if self.session != Some(id) {
            return;
        }
        let Some(run) = self.run.as_mut().filter(|r| r.job == job) else {
            return;
        };
        match update {
            LoadUpdate::Second(record) => {
                if run.records.len() >= MAX_RECORDS {
                    run.records.remove(0);
                }
                run.totals = run.totals.plus(&record.during);
                run.records.push((**record).clone());
            }
            LoadUpdate::Sample { conn, dir, data } => {
                if run.samples.len() < MAX_SAMPLES {
                    run.samples.push((*conn, *dir, data.clone()));
                }
            }
            LoadUpdate::Ended { end, summary } => {
                run.ended = Some((end.clone(), (**summary).clone()));
            }
        }
    }

    /// Proposes a target when another session is selected, if the field is empty or still
    /// holds the last proposal: a client's own spec, or a client of a TCP or UDP server.
    pub fn propose_target(&mut self, selected: Option<(SessionId, &SessionSpec)>) {
        let id = selected.map(|(id, _)| id);
        if self.proposed_for == id {
            return;
        }
        self.proposed_for = id;
        let untouched = self.form.spec.trim().is_empty()
            || self.proposed.as_deref() == Some(self.form.spec.as_str());
        if !untouched || self.running() {
            return;
        }
        if let Some(target) = selected.and_then(|(_, spec)| target_for(spec)) {
            self.form.spec.clone_from(&target);
            self.proposed = Some(target);
        }
    }

    /// Picks up the CSV writer's answer.
    pub fn poll_csv(&mut self) {
        let Some(job) = &self.csv_job else {
            return;
        };
        let Some(answer) = job.poll() else {
            return;
        };
        self.csv_job = None;
        self.csv_result = Some(match answer {
            Ok(Ok(written)) => Ok(written),
            Ok(Err(reason)) => Err(Problem::LoadCsv {
                path: PathBuf::from(self.csv_path.trim()),
                reason,
            }),
            Err(problem) => Err(problem),
        });
    }
}

/// A load target for a session: a client's own spec, or a client of a TCP or UDP server
/// (on loopback when it listens on every address).
pub fn target_for(spec: &SessionSpec) -> Option<String> {
    let host = match spec.host.as_str() {
        "" | "0.0.0.0" => "127.0.0.1".to_string(),
        "::" => "[::1]".to_string(),
        host if host.contains(':') => format!("[{host}]"),
        host => host.to_string(),
    };
    match spec.kind {
        SessionKind::TcpClient
        | SessionKind::TlsClient
        | SessionKind::WsClient
        | SessionKind::UdpClient => Some(spec.to_string()),
        SessionKind::TcpServer => Some(format!("tcp-client:{host}:{}", spec.port)),
        SessionKind::UdpServer => Some(format!("udp-client:{host}:{}", spec.port)),
        _ => None,
    }
    .filter(|_| spec.port != 0)
}

/// The CSV of `records`: the header, then a row a second (as `sockdbg load --csv`).
pub fn csv_text(records: &[SecondRecord]) -> String {
    let mut text = csv_header();
    text.push('\n');
    for record in records {
        text.push_str(&csv_row(record));
        text.push('\n');
    }
    text
}

impl App {
    /// Carries out what the Load test tab asked for.
    pub(crate) fn perform_load(&mut self, action: LoadAction) {
        match action {
            LoadAction::Start => self.start_load(),
            LoadAction::Stop => {
                let panel = &mut self.load;
                if let (Some(id), Some(run)) = (panel.session, panel.run.as_mut())
                    && run.running()
                {
                    run.stopping = true;
                    let job = run.job;
                    self.command(Command::CancelJob { id, job });
                }
            }
            LoadAction::SaveCsv(path) => {
                let panel = &mut self.load;
                let Some(run) = &panel.run else {
                    return;
                };
                if panel.csv_job.is_some() {
                    return;
                }
                let text = csv_text(&run.records);
                let rows = run.records.len();
                let target = path.clone();
                let work = move || {
                    std::fs::write(&target, text)
                        .map(|()| (rows, target))
                        .map_err(|e| e.to_string())
                };
                panel.csv_result = None;
                match Worker::spawn("load-csv", work) {
                    Ok(job) => panel.csv_job = Some(job),
                    Err(problem) => panel.csv_result = Some(Err(problem)),
                }
            }
        }
    }

    fn start_load(&mut self) {
        if self.load.running() {
            return;
        }
        let encoding = self
            .selected
            .map_or(self.view.new_session, |id| self.settings_of(id))
            .encoding;
        let form = &self.load.form;
        let parsed = form
            .args(encoding)
            .and_then(|args| Ok((crate::load_command::plan(&args)?, args)));
        let (plan, args) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.load.error = Some(error);
                return;
            }
        };
        let id = match self.load.session {
            Some(id) => id,
            None => {
                let id = self.sessions.reserve_id();
                self.load.session = Some(id);
                id
            }
        };
        self.load.next_job += 1;
        let job = JobId(self.load.next_job);
        self.load.error = None;
        self.load.csv_result = None;
        self.load.run = Some(LoadRun {
            job,
            mode: plan.mode,
            connections: plan.connections,
            duration: plan.duration,
            thresholds: Thresholds::of(&args),
            records: Vec::new(),
            totals: Totals::default(),
            samples: Vec::new(),
            stopping: false,
            ended: None,
        });
        self.command(Command::StartLoad {
            id,
            job,
            plan: Box::new(plan),
        });
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `sockdbg load`'s own arguments, parsed as the command line parses them.
    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        args: LoadArgs,
    }

    fn form(spec: &str) -> LoadForm {
        LoadForm {
            spec: spec.into(),
            ..LoadForm::default()
        }
    }

    #[test]
    fn the_form_defaults_are_the_command_lines() {
        let line = Line::try_parse_from(["load", "tcp-client:127.0.0.1:7"]).expect("parses");
        let args = form("tcp-client:127.0.0.1:7")
            .args(line.args.encoding)
            .expect("the defaults parse");
        let cli = &line.args;
        assert_eq!(args.spec, cli.spec);
        assert_eq!(args.mode, cli.mode);
        assert_eq!(args.connections, cli.connections);
        assert_eq!(args.connect_rate, cli.connect_rate);
        assert_eq!(args.duration_ms, cli.duration_ms);
        assert_eq!(args.rate, cli.rate);
        assert_eq!(args.send, cli.send);
        assert_eq!(args.escapes, cli.escapes);
        assert_eq!(args.framing, cli.framing);
        assert_eq!(args.expect, cli.expect);
        assert_eq!(args.timeout_ms, cli.timeout_ms);
        assert_eq!(args.max_error_rate, cli.max_error_rate);
        assert_eq!(args.max_p99_ms, cli.max_p99_ms);
    }

    #[test]
    fn a_field_that_cannot_be_used_is_named_with_the_command_lines_error() {
        type Change = fn(&mut LoadForm);
        let table: [(Change, LoadOption, &str); 6] = [
            (
                |f| f.connections = "0".into(),
                LoadOption::Connections,
                "--connections",
            ),
            (|f| f.spec = "nope:1".into(), LoadOption::Spec, "nope:1"),
            (
                |f| f.framing = "len:u24".into(),
                LoadOption::Framing,
                "--framing",
            ),
            (|f| f.send = "ping".into(), LoadOption::Send, "--send"),
            (|f| f.expect = "pong".into(), LoadOption::Expect, "--expect"),
            (
                |f| f.max_error_rate = "2".into(),
                LoadOption::MaxErrorRate,
                "--max-error-rate",
            ),
        ];
        for (change, option, flag) in table {
            let mut form = form("tcp-client:127.0.0.1:7");
            change(&mut form);
            let error = form
                .args(TextEncoding::Utf8)
                .and_then(|args| crate::load_command::plan(&args).map(|_| ()))
                .expect_err(flag);
            assert_eq!(error.option, option, "{flag}");
            // The command line says the same about the same text.
            let mut argv = vec!["load".to_string(), form.spec.clone()];
            for (name, value) in [
                ("--connections", &form.connections),
                ("--framing", &form.framing),
                ("--send", &form.send),
                ("--expect", &form.expect),
                ("--max-error-rate", &form.max_error_rate),
            ] {
                if !value.is_empty() {
                    argv.extend([name.to_string(), value.clone()]);
                }
            }
            let message = match Line::try_parse_from(&argv) {
                Err(e) => e.to_string(),
                Ok(line) => crate::load_command::plan(&line.args)
                    .map(|_| String::new())
                    .unwrap_or_else(|e| e.to_string()),
            };
            assert!(message.contains(&error.error.to_string()), "{message}");
        }
    }

    #[test]
    fn the_last_second_and_the_run_so_far_are_rates() {
        let mut stats = crate::load::Stats::new().expect("histograms");
        let mut run = LoadRun {
            job: JobId(1),
            mode: Mode::Pingpong,
            connections: 1,
            duration: Duration::from_secs(2),
            thresholds: Thresholds::default(),
            records: Vec::new(),
            totals: Totals::default(),
            samples: Vec::new(),
            stopping: false,
            ended: None,
        };
        let take = |stats: &mut crate::load::Stats, run: &mut LoadRun, ms| {
            let record = stats.second(Duration::from_millis(ms));
            let update = LoadUpdate::Second(Box::new(record));
            let mut panel = LoadPanel {
                session: Some(SessionId(9)),
                run: Some(run.clone()),
                ..LoadPanel::default()
            };
            panel.track(SessionId(9), JobId(1), &update);
            *run = panel.run.take().expect("the run");
        };
        stats.sent(10);
        take(&mut stats, &mut run, 1000);
        for _ in 0..3 {
            stats.sent(10);
        }
        // The last part of a run is half a second.
        take(&mut stats, &mut run, 1500);
        let last = run.last_second().expect("a second");
        assert_eq!(last.sent_per_s, 6.0);
        assert_eq!(last.tx_per_s, 60.0);
        let [sent, _, _, tx] = last.overall_per_s;
        assert!((sent - 4.0 / 1.5).abs() < 1e-9, "{sent}");
        assert!((tx - 40.0 / 1.5).abs() < 1e-9, "{tx}");
        assert_eq!(run.totals.messages_sent, 4);
        assert_eq!(run.series().sent, vec![[1.0, 1.0], [1.5, 6.0]]);
    }

    #[test]
    fn a_server_proposes_a_client_of_it() {
        let spec = |s: &str| s.parse::<SessionSpec>().expect(s);
        assert_eq!(
            target_for(&spec("tcp-server:7000")).as_deref(),
            Some("tcp-client:127.0.0.1:7000")
        );
        assert_eq!(
            target_for(&spec("udp-server:[::1]:7")).as_deref(),
            Some("udp-client:[::1]:7")
        );
        assert_eq!(
            target_for(&spec("tcp-client:10.0.0.2:502")).as_deref(),
            Some("tcp-client:10.0.0.2:502")
        );
        assert_eq!(target_for(&spec("tcp-server:0")), None);
        let mut panel = LoadPanel::default();
        let (one, two, three) = (SessionId(1), SessionId(2), SessionId(3));
        panel.propose_target(Some((one, &spec("tcp-server:7000"))));
        assert_eq!(panel.form.spec, "tcp-client:127.0.0.1:7000");
        panel.propose_target(Some((two, &spec("tcp-server:7001"))));
        assert_eq!(panel.form.spec, "tcp-client:127.0.0.1:7001");
        panel.form.spec.clear();
        panel.propose_target(Some((two, &spec("tcp-server:7001"))));
        assert_eq!(
            panel.form.spec, "",
            "cleared: stays empty for the same session"
        );
        panel.form.spec = "tcp-client:10.0.0.9:1".into();
        panel.propose_target(Some((three, &spec("tcp-server:7002"))));
        assert_eq!(panel.form.spec, "tcp-client:10.0.0.9:1", "typed: kept");
    }
}
