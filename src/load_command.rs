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
use crate::load::report::{
    csv_header, csv_row, second_json, second_text, summary_json, summary_text,
};
use crate::load::{AnswerRule, LoadPayload, LoadPlan, Summary};
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

/// The plan `args` describe.
///
/// # Errors
/// The message of the first option that cannot be used.
pub fn plan(args: &LoadArgs) -> Result<LoadPlan, String> {
    let options = SendOptions {
        escapes: args.escapes,
        encoding: args.encoding,
        line_ending: args.line_ending,
        checksum: args.checksum,
        ..SendOptions::default()
    };
    let payload = LoadPayload::parse(&args.send, &options).map_err(|e| e.to_string())?;
    let mut plan = LoadPlan::new(args.spec.clone(), payload).map_err(|e| e.to_string())?;
    plan.mode = args.mode;
    plan.connections = args.connections;
    plan.connect_rate = args.connect_rate;
    plan.duration = Duration::from_millis(args.duration_ms);
    plan.rate = args.rate;
    plan.answer = AnswerRule::new(args.framing.clone(), args.expect.as_deref(), args.encoding)
        .map_err(|e| e.to_string())?;
    plan.timeout = Duration::from_millis(args.timeout_ms);
    plan.sample_messages = args.sample;
    plan.check().map_err(|e| e.to_string())?;
    Ok(plan)
}

/// Which thresholds a summary exceeds, in words (empty when none).
pub fn exceeded(args: &LoadArgs, summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = args.max_error_rate
        && summary.error_rate() > max
    {
        out.push(format!(
            "error rate {:.4} exceeds --max-error-rate {max}",
            summary.error_rate()
        ));
    }
    if let Some(max_ms) = args.max_p99_ms {
        let p99_ms = summary.rtt_us.p99 as f64 / 1000.0;
        if p99_ms > max_ms {
            out.push(format!("p99 {p99_ms:.3} ms exceeds --max-p99-ms {max_ms}"));
        }
    }
    out
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
    let exceeded = exceeded(args, &summary);
    for reason in &exceeded {
        eprintln!("sockdbg load: {reason}");
    }
    if exceeded.is_empty() {
        ExitCode::from(EXIT_PASSED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}
