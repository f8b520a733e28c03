//! `sockdbg load SPEC [options]`: a load run from the command line. The options become a
//! [`LoadPlan`] (each parsed by the code that parses it elsewhere); the engine runs it as a
//! load job; each second is printed as it comes (a text line, or a `{"kind":"second",…}`
//! object with `--format jsonl`) and written to `--csv FILE`, then the summary. Ctrl+C
//! stops the run and still prints the summary.
//!
//! Exit codes: [`EXIT_PASSED`] when the run ended within its thresholds, [`EXIT_FAILED`]
//! when `--max-error-rate` or `--max-p99-ms` was exceeded (or the target could not be
//! reached at all), [`EXIT_INVALID`] for bad arguments.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel::select;

use crate::cli::{LoadArgs, LoadFormat};
use crate::codec::send::SendOptions;
use crate::engine::{EngineHandle, EventSink};
use crate::headless::SignalWatch;
use crate::load::answer::AnswerError;
use crate::load::options::{LoadArgError, LoadOption};
use crate::load::report::{
    csv_header, csv_row, second_json, second_text, summary_json, summary_text,
};
use crate::load::{AnswerRule, LoadPayload, LoadPlan, PlanError, Summary};
use crate::protocol::{Command, Direction, Event, JobId, LoadEnd, LoadUpdate, SessionId};

/// The run ended within its thresholds.
pub const EXIT_PASSED: u8 = 0;
/// A threshold was exceeded, or the target could not be reached at all.
pub const EXIT_FAILED: u8 = 1;
/// The arguments are invalid; nothing ran.
pub const EXIT_INVALID: u8 = 2;

/// The run's session and job (the engine runs nothing else).
const LOAD_SESSION: SessionId = SessionId(1);
const LOAD_JOB: JobId = JobId(1);

/// How long after its end the run may take to report it before we give up on it.
const END_GRACE: Duration = Duration::from_secs(10);

/// The plan `args` describe (the window's Load test form builds its [`LoadArgs`] with the
/// same parsers, [`crate::load::options`], and comes here too).
///
/// # Errors
/// The first option that cannot be used, and why.
pub fn plan(args: &LoadArgs) -> Result<LoadPlan, LoadArgError> {
    let options = SendOptions {
        escapes: args.escapes,
        encoding: args.encoding,
        line_ending: args.line_ending,
        checksum: args.checksum,
        ..SendOptions::default()
    };
    let payload = LoadPayload::parse(&args.send, &options)
        .map_err(|e| LoadArgError::new(LoadOption::Send, e))?;
    let mut plan = LoadPlan::new(args.spec.clone(), payload)
        .map_err(|e| LoadArgError::new(LoadOption::Spec, e))?;
    plan.mode = args.mode;
    plan.connections = args.connections;
    plan.connect_rate = args.connect_rate;
    plan.duration = Duration::from_millis(args.duration_ms);
    plan.rate = args.rate;
    plan.answer = AnswerRule::new(args.framing.clone(), args.expect.as_deref(), args.encoding)
        .map_err(|e| {
            let option = match e {
                AnswerError::IdleFraming => LoadOption::Framing,
                _ => LoadOption::Expect,
            };
            LoadArgError::new(option, e)
        })?;
    plan.timeout = Duration::from_millis(args.timeout_ms);
    plan.sample_messages = args.sample;
    plan.check().map_err(|e| {
        let option = match e {
            PlanError::NotAClient(_) => LoadOption::Spec,
            PlanError::NoConnections => LoadOption::Connections,
            PlanError::NoDuration => LoadOption::Duration,
            PlanError::NoTimeout => LoadOption::Timeout,
        };
        LoadArgError::new(option, e)
    })?;
    Ok(plan)
}

/// A threshold a run exceeded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exceeded {
    /// Errors per attempt above `--max-error-rate`.
    ErrorRate {
        /// The run's.
        rate: f64,
        /// The threshold.
        max: f64,
    },
    /// The run's RTT p99 above `--max-p99-ms`.
    P99 {
        /// The run's, in milliseconds.
        p99_ms: f64,
        /// The threshold, in milliseconds.
        max_ms: f64,
    },
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::ErrorRate { rate, max } => {
                write!(f, "error rate {rate:.4} exceeds --max-error-rate {max}")
            }
            Exceeded::P99 { p99_ms, max_ms } => {
                write!(f, "p99 {p99_ms:.3} ms exceeds --max-p99-ms {max_ms}")
            }
        }
    }
}

/// The thresholds a run is held to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Thresholds {
    /// `--max-error-rate`, a fraction.
    pub max_error_rate: Option<f64>,
    /// `--max-p99-ms`.
    pub max_p99_ms: Option<f64>,
}

impl Thresholds {
    /// The thresholds of `args`.
    pub fn of(args: &LoadArgs) -> Self {
        Self {
            max_error_rate: args.max_error_rate,
            max_p99_ms: args.max_p99_ms,
        }
    }

    /// Which of them `summary` exceeds (empty when none).
    pub fn exceeded(&self, summary: &Summary) -> Vec<Exceeded> {
        let mut out = Vec::new();
        if let Some(max) = self.max_error_rate
            && summary.error_rate() > max
        {
            out.push(Exceeded::ErrorRate {
                rate: summary.error_rate(),
                max,
            });
        }
        if let Some(max_ms) = self.max_p99_ms {
            let p99_ms = summary.rtt_us.p99 as f64 / 1000.0;
            if p99_ms > max_ms {
                out.push(Exceeded::P99 { p99_ms, max_ms });
            }
        }
        out
    }
}

/// A sample as jsonl prints it.
#[derive(serde::Serialize)]
struct SampleLine {
    kind: &'static str,
    conn: u64,
    dir: &'static str,
    hex: String,
}

/// Where records go.
struct Output {
    format: LoadFormat,
    stdout: std::io::StdoutLock<'static>,
    csv: Option<BufWriter<File>>,
}

impl Output {
    fn line(&mut self, line: &str) {
        writeln!(self.stdout, "{line}").ok(); // stdout is gone: the exit code still tells
        self.stdout.flush().ok();
    }

    fn update(&mut self, update: &LoadUpdate) {
        match update {
            LoadUpdate::Second(record) => {
                let line = match self.format {
                    LoadFormat::Text => second_text(record),
                    LoadFormat::Jsonl => second_json(record),
                };
                self.line(&line);
                if let Some(csv) = &mut self.csv {
                    writeln!(csv, "{}", csv_row(record)).ok(); // reported at the end
                }
            }
            LoadUpdate::Sample { conn, dir, data } if self.format == LoadFormat::Jsonl => {
                let dir = match dir {
                    Direction::Rx => "rx",
                    // A load connection only sends (Tx) and receives (Rx).
                    Direction::Tx | Direction::Up | Direction::Down => "tx",
                };
                let line = SampleLine {
                    kind: "sample",
                    conn: *conn,
                    dir,
                    hex: hex::encode(data),
                };
                self.line(&serde_json::to_string(&line).unwrap_or_default());
            }
            LoadUpdate::Sample { .. } | LoadUpdate::Ended { .. } => {}
        }
    }
}

/// Runs `sockdbg load` to its end; returns the exit code.
pub fn run(args: &LoadArgs) -> ExitCode {
    let plan = match plan(args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("sockdbg load: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let csv = match &args.csv {
        None => None,
        Some(path) => match File::create(path) {
            Ok(file) => {
                let mut csv = BufWriter::new(file);
                writeln!(csv, "{}", csv_header()).ok(); // a failed write shows at the flush
                Some(csv)
            }
            Err(e) => {
                eprintln!("sockdbg load: cannot write {}: {e}", path.display());
                return ExitCode::from(EXIT_INVALID);
            }
        },
    };
    let signals = match SignalWatch::install() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("sockdbg load: cannot watch for signals: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let (event_tx, events) = crossbeam_channel::unbounded();
    let engine = match EngineHandle::spawn(EventSink::without_waker(event_tx)) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("sockdbg load: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let duration = plan.duration;
    engine.send(Command::StartLoad {
        id: LOAD_SESSION,
        job: LOAD_JOB,
        plan: Box::new(plan),
    });
    let mut output = Output {
        format: args.format,
        stdout: std::io::stdout().lock(),
        csv,
    };
    let deadline = crossbeam_channel::after(duration + END_GRACE);
    let ended = loop {
        select! {
            recv(events) -> event => match event {
                Ok(Event::Load { update: LoadUpdate::Ended { end, summary }, .. }) => {
                    break Some((end, summary));
                }
                Ok(Event::Load { update, .. }) => output.update(&update),
                Ok(_) => {}
                Err(_) => break None,
            },
            recv(signals.received) -> _ => engine.send(Command::Stop { id: LOAD_SESSION }),
            recv(deadline) -> _ => break None,
        }
    };
    signals.close();
    engine.shutdown();
    if let Some(mut csv) = output.csv.take()
        && let Err(e) = csv.flush()
        && let Some(path) = &args.csv
    {
        eprintln!("sockdbg load: cannot write {}: {e}", path.display());
    }
    let Some((end, summary)) = ended else {
        eprintln!("sockdbg load: the run did not report its end");
        return ExitCode::from(EXIT_FAILED);
    };
    let line = match args.format {
        LoadFormat::Text => summary_text(&summary),
        LoadFormat::Jsonl => summary_json(&summary),
    };
    output.line(&line);
    if let LoadEnd::Failed(reason) = &end {
        eprintln!("sockdbg load: {reason}");
        return ExitCode::from(EXIT_FAILED);
    }
    if end == LoadEnd::NoFigures {
        eprintln!("sockdbg load: the run's figures could not be kept");
        return ExitCode::from(EXIT_FAILED);
    }
    let exceeded = Thresholds::of(args).exceeded(&summary);
    for reason in &exceeded {
        eprintln!("sockdbg load: {reason}");
    }
    if exceeded.is_empty() {
        ExitCode::from(EXIT_PASSED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}
