//! `sockdbg test FILE...`: runs scenario files from the command line, each on sessions of its
//! own in one engine, and reports every step ([`report`]) and, with `--junit`, JUnit XML
//! ([`junit`]). Every file is read and checked first: one invalid file runs nothing.
//!
//! Exit codes: [`EXIT_PASSED`] when every case passed, [`EXIT_FAILED`] when one failed (a
//! peer that cannot be reached fails its cases), [`EXIT_INVALID`] when a file is invalid.
//! A server session runs the scenario against its first client, then the file ends.

pub mod junit;
pub mod report;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, select};

use crate::cli::TestArgs;
use crate::engine::{EngineHandle, EventSink};
use crate::headless::SignalWatch;
use crate::protocol::{
    Command, Event, JobId, NotRun, PeerId, ScenarioClients, ScenarioRun, ScenarioUpdate, SessionId,
    StepOutcome,
};
use crate::scenario::{Action, ErrorKind, Pos, Scenario, ScenarioError, Statement, parse};
use junit::{CaseResult, FileResult};
use report::{Reporter, StepReport, describe, encoding_of, received_lines};

/// Every case passed.
pub const EXIT_PASSED: u8 = 0;
/// A case failed, or a peer could not be reached.
pub const EXIT_FAILED: u8 = 1;
/// A file is invalid (or cannot be read); nothing ran.
pub const EXIT_INVALID: u8 = 2;

/// How long stopping a file's sessions may take before the next file starts.
const STOP_LIMIT: Duration = Duration::from_secs(3);

/// Reads and checks a scenario file: its syntax, its variables (`vars` are given from
/// outside), and that each `send-file` can be opened. `need_session`: the file must name its
/// sessions (`sockdbg test`); without it the runner supplies them (`--headless --scenario`).
///
/// # Errors
/// Every error of the file, each with its line and column.
pub fn load(
    path: &Path,
    vars: &[(String, String)],
    need_session: bool,
) -> Result<Scenario, Vec<ScenarioError>> {
    let at_start = |kind| ScenarioError {
        pos: Pos { line: 1, column: 1 },
        kind,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![at_start(ErrorKind::Unreadable(e.to_string()))])?;
    let scenario = parse(&text, vars)?;
    if need_session && scenario.sessions.is_empty() {
        return Err(vec![at_start(ErrorKind::NoSession)]);
    }
    let base = base_dir(path);
    let mut errors = Vec::new();
    for statement in scenario.statements() {
        let Action::SendFile { path: file } = &statement.action else {
            continue;
        };
        let full = base.join(file);
        let readable = std::fs::File::open(&full).and_then(|f| f.metadata());
        let reason = match readable {
            Ok(meta) if meta.is_dir() => Some("it is a folder".to_string()),
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        };
        if let Some(reason) = reason {
            let offset = statement.source.find(file.as_str()).unwrap_or(0);
            let column = statement.pos.column
                + u32::try_from(statement.source[..offset].chars().count()).unwrap_or(0);
            errors.push(ScenarioError {
                pos: Pos {
                    line: statement.pos.line,
                    column,
                },
                kind: ErrorKind::File {
                    path: file.clone(),
                    reason,
                },
            });
        }
    }
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(errors)
    }
}

/// The folder a file's relative `send-file` paths start from.
pub fn base_dir(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `sockdbg test` to its end; returns the exit code.
pub fn run(args: &TestArgs) -> ExitCode {
    let stdout = std::io::stdout().lock();
    let mut reporter = Reporter::new(args.format, stdout);
    let mut loaded = Vec::new();
    let mut invalid = false;
    for path in &args.files {
        let name = path.display().to_string();
        match load(path, &args.vars, true) {
            Ok(scenario) => loaded.push((path.clone(), name, Arc::new(scenario))),
            Err(errors) => {
                invalid = true;
                for error in &errors {
                    reporter.invalid(&name, error).ok(); // nowhere else to say it
                }
            }
        }
    }
    if invalid {
        return ExitCode::from(EXIT_INVALID);
    }
    let signals = match SignalWatch::install() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("sockdbg: cannot watch for signals: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let (event_tx, events) = crossbeam_channel::unbounded();
    let engine = match EngineHandle::spawn(EventSink::without_waker(event_tx)) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("sockdbg: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mut tester = Tester {
        engine: &engine,
        events: &events,
        signals: &signals.received,
        vars: args.vars.clone(),
        next_id: 0,
        interrupted: false,
    };
    let mut results = Vec::new();
    let mut output_ok = true;
    for (path, name, scenario) in loaded {
        match tester.file(&mut reporter, &path, &name, scenario) {
            Ok(result) => results.push(result),
            Err(e) => {
                eprintln!("sockdbg: cannot write the results: {e}");
                output_ok = false;
                break;
            }
        }
        if tester.interrupted {
            break;
        }
    }
    let interrupted = tester.interrupted;
    signals.close();
    engine.shutdown();
    let cases = results.iter().flat_map(|f| f.cases.iter());
    let failed = cases.clone().filter(|c| c.failure.is_some()).count();
    let passed = cases.count() - failed;
    reporter.summary(passed, failed).ok(); // stdout is gone, the exit code still tells
    if let Some(path) = &args.junit {
        let written = std::fs::File::create(path)
            .and_then(|file| junit::write(std::io::BufWriter::new(file), &results));
        if let Err(e) = written {
            eprintln!("sockdbg: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    if failed == 0 && output_ok && !interrupted {
        ExitCode::from(EXIT_PASSED)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

/// Runs files one after the other on one engine.
struct Tester<'a> {
    engine: &'a EngineHandle,
    events: &'a Receiver<Event>,
    signals: &'a Receiver<()>,
    vars: Vec<(String, String)>,
    next_id: u64,
    interrupted: bool,
}

/// A case under way.
struct Current {
    index: usize,
    output: Vec<String>,
    failure: Option<(String, String)>,
}

impl Tester<'_> {
    fn file<W: std::io::Write>(
        &mut self,
        reporter: &mut Reporter<W>,
        path: &Path,
        name: &str,
        scenario: Arc<Scenario>,
    ) -> std::io::Result<FileResult> {
        let started = Instant::now();
        reporter.file_started(name)?;
        let stem = path
            .file_stem()
            .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
        let case_name = |index: usize| {
            scenario
                .cases
                .get(index)
                .and_then(|c| c.name.clone())
                .unwrap_or_else(|| stem.clone())
        };
        let statements: HashMap<Pos, &Statement> = scenario
            .statements()
            .into_iter()
            .map(|s| (s.pos, s))
            .collect();
        let ids: Vec<SessionId> = scenario
            .sessions
            .iter()
            .map(|_| {
                self.next_id += 1;
                SessionId(self.next_id)
            })
            .collect();
        let Some(&primary) = ids.first() else {
            return Ok(FileResult::default());
        };
        // The job starts the sessions itself, watching them from their first event.
        let start = ids
            .iter()
            .copied()
            .zip(scenario.sessions.iter().map(|d| d.spec.clone()))
            .collect();
        let job = JobId(primary.0);
        self.engine.send(Command::StartScenario {
            id: primary,
            job,
            run: Box::new(ScenarioRun {
                scenario: Arc::clone(&scenario),
                others: ids[1..].to_vec(),
                start,
                vars: self.vars.clone(),
                clients: ScenarioClients::First,
                base_dir: base_dir(path),
            }),
        });
        let mut peers: HashMap<PeerId, SocketAddr> = HashMap::new();
        let mut start_failure: Option<crate::protocol::StartFailure> = None;
        let mut results: Vec<CaseResult> = Vec::new();
        let mut current: Option<Current> = None;
        let mut case_started = Instant::now();
        loop {
            let event = select! {
                recv(self.events) -> event => match event {
                    Ok(event) => event,
                    Err(_) => break,
                },
                recv(self.signals) -> _ => {
                    self.interrupted = true;
                    self.engine.send(Command::CancelJob { id: primary, job });
                    continue;
                }
            };
            match event {
                Event::PeerConnected { id, peer, addr, .. } if id == primary => {
                    peers.insert(peer, addr);
                }
                Event::StartFailed { id, reason, .. } if ids.contains(&id) => {
                    start_failure.get_or_insert(reason);
                }
                Event::Scenario { job: j, update, .. } if j == job => match update {
                    ScenarioUpdate::RunStarted { peer, .. } => {
                        let addr = peer.and_then(|p| peers.get(&p)).map(ToString::to_string);
                        reporter.run_started(name, addr.as_deref())?;
                    }
                    ScenarioUpdate::CaseStarted { case, .. } => {
                        reporter.case_started(&case_name(case))?;
                        case_started = Instant::now();
                        current = Some(Current {
                            index: case,
                            output: Vec::new(),
                            failure: None,
                        });
                    }
                    ScenarioUpdate::StepEnded {
                        at,
                        elapsed,
                        outcome,
                        ..
                    } => {
                        let statement = statements.get(&at).copied();
                        let case = current.as_ref().map_or(0, |c| c.index);
                        let lines = reporter.step(&StepReport {
                            file: name,
                            case: &case_name(case),
                            at,
                            statement,
                            elapsed,
                            outcome: &outcome,
                        })?;
                        if let Some(current) = &mut current {
                            current.output.extend(lines);
                            if let StepOutcome::Failed(failure) = &outcome {
                                current.failure = Some(failure_text(at, statement, failure));
                            }
                        }
                    }
                    ScenarioUpdate::CaseEnded { case, elapsed, .. } => {
                        let done = current.take().unwrap_or(Current {
                            index: case,
                            output: Vec::new(),
                            failure: None,
                        });
                        let (failure, detail) = match done.failure {
                            Some((message, detail)) => (Some(message), detail),
                            None => (None, String::new()),
                        };
                        reporter.case_ended(name, &case_name(case), failure.as_deref(), elapsed)?;
                        results.push(CaseResult {
                            name: case_name(case),
                            elapsed,
                            failure,
                            detail,
                            output: done.output,
                        });
                    }
                    ScenarioUpdate::Attached
                    | ScenarioUpdate::RunEnded { .. }
                    | ScenarioUpdate::StepStarted { .. } => {}
                    ScenarioUpdate::Ended { refused, .. } => {
                        // Cases that never ran (the session could not start, the run was
                        // refused or stopped) fail with the reason. A session that could not
                        // start is why, also when the run found it already ended (a refused
                        // connect can end it before the run attaches).
                        let reason = NotRun::of(refused.as_ref(), start_failure.as_ref())
                            .map_or_else(
                                || "the scenario did not run".to_string(),
                                |why| why.to_string(),
                            );
                        for index in results.len()..scenario.cases.len() {
                            let message = format!("not run: {reason}");
                            reporter.case_started(&case_name(index))?;
                            reporter.case_not_run(
                                name,
                                &case_name(index),
                                &message,
                                case_started.elapsed(),
                            )?;
                            results.push(CaseResult {
                                name: case_name(index),
                                failure: Some(message),
                                ..CaseResult::default()
                            });
                        }
                        break;
                    }
                },
                _ => {}
            }
        }
        self.stop(&ids);
        Ok(FileResult {
            name: name.to_string(),
            cases: results,
            elapsed: started.elapsed(),
        })
    }

    /// Stops the file's sessions and waits (bounded) until they have.
    fn stop(&self, ids: &[SessionId]) {
        for id in ids {
            self.engine.send(Command::Stop { id: *id });
        }
        let deadline = Instant::now() + STOP_LIMIT;
        let mut running: Vec<SessionId> = ids.to_vec();
        while !running.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Stopped { id, .. } | Event::StartFailed { id, .. }) => {
                    running.retain(|r| *r != id);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
}

/// The one-line failure message of a case (`12:3 expect …: expected … within …`) and the
/// received bytes as text and hex.
fn failure_text(
    at: Pos,
    statement: Option<&Statement>,
    failure: &crate::protocol::StepFailure,
) -> (String, String) {
    let text = describe(failure);
    let source = statement.map_or("", |s| s.source.as_str());
    let message = format!("{}:{} {source}: {}", at.line, at.column, text.reason);
    let detail = match &text.received {
        Some(bytes) if !bytes.is_empty() => {
            let (text, hex) = received_lines(bytes, encoding_of(statement));
            format!("received {text}\n{hex}")
        }
        Some(_) => "received nothing".to_string(),
        None => String::new(),
    };
    (message, detail)
}
