//! The Scenarios panel's state: the scenario being edited (parsed again when it changes, its
//! errors shown inline), its file (read and written on a thread of its own), and the run in
//! the engine with a step list that follows its progress ([`ScenarioUpdate`]). What its
//! actions do is [`App::perform_scenario`]; it is drawn by `ui::scenarios`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::app::worker::Worker;
use crate::app::{App, Problem};
use crate::file_dialog::{Answer, DialogKind, PendingDialog};
use crate::model::EntryKind;
use crate::protocol::{
    Command, JobFailure, JobId, NotRun, PeerId, ScenarioClients, ScenarioRun, ScenarioUpdate,
    SessionId, StartFailure, StepFailure, StepOutcome,
};
use crate::scenario::record::{Recorded, scenario_text};
use crate::scenario::{Action as Statement, Pos, Scenario, ScenarioError, parse};

/// Most log rows Save as scenario writes.
const MAX_RECORDED_ROWS: usize = 10_000;

/// Scenario jobs are numbered from here, apart from the send tools' jobs of a session.
const FIRST_JOB: u64 = 1 << 40;

/// Where a scenario runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunOn {
    /// On the session selected in the window (the file's first `session` line is replaced
    /// by it).
    #[default]
    Selected,
    /// On new sessions, opened from the file's `session` lines.
    New,
}

/// What the user asked of the Scenarios panel.
#[derive(Clone, Debug, PartialEq)]
pub enum ScenarioAction {
    /// Run the scenario in the editor, on `on` (the selected session is `selected`).
    Run {
        /// Where.
        on: RunOn,
        /// The session selected in the window.
        selected: Option<SessionId>,
    },
    /// Stop the run.
    Stop,
    /// Read the file at the path into the editor.
    Open(PathBuf),
    /// Write the editor to the file at the path.
    Save(PathBuf),
    /// Choose the file in a dialog (`save`: where to write).
    Browse {
        /// A save dialog rather than an open one.
        save: bool,
    },
    /// Put `text` in the editor (Save as scenario).
    Replace(String),
}

/// How a step of the run stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StepState {
    /// Not reached yet in this run.
    #[default]
    Waiting,
    /// Running now.
    Running,
    /// It ended; how.
    Ended {
        /// How long it took (its last pass).
        elapsed: Duration,
        /// How it ended.
        outcome: StepOutcome,
    },
}

/// One statement of the scenario in the step list.
#[derive(Clone, Debug, PartialEq)]
pub struct StepView {
    /// Where it is in the file.
    pub pos: Pos,
    /// The line as written.
    pub source: String,
    /// How deep in `repeat`s it is.
    pub depth: usize,
    /// How it stands in the current run.
    pub state: StepState,
    /// How many times it passed in the current run (a `repeat` body runs many times).
    pub passes: u64,
}

/// A scenario job in the engine, and what it reported.
#[derive(Clone, Debug)]
pub struct RunView {
    /// The session it runs on.
    pub session: SessionId,
    /// Its job.
    pub job: JobId,
    /// The file that runs.
    pub scenario: Arc<Scenario>,
    /// Every statement, in file order.
    pub steps: Vec<StepView>,
    index: HashMap<Pos, usize>,
    /// The latest run (a server runs once per client), from 1; 0 before the first.
    pub run: u64,
    /// The client the latest run is against, on a server.
    pub peer: Option<PeerId>,
    /// Cases passed and failed over every run.
    pub passed: usize,
    /// Cases failed over every run.
    pub failed: usize,
    /// The job watches its sessions (what they receive from now on is seen).
    pub attached: bool,
    /// The job ended (no more updates).
    pub ended: bool,
    /// Why it could not run at all.
    pub refused: Option<JobFailure>,
    /// The sessions it started and watches (the first is `session`): empty when it runs on
    /// a session the user started.
    pub started: Vec<SessionId>,
    /// Why one of the sessions it started could not start (a refused connect, a port in
    /// use): the reason it did not run, rather than "not running".
    pub start_failure: Option<StartFailure>,
}

impl RunView {
    fn new(
        session: SessionId,
        job: JobId,
        scenario: Arc<Scenario>,
        started: Vec<SessionId>,
    ) -> Self {
        fn walk(list: &[crate::scenario::Statement], depth: usize, out: &mut Vec<StepView>) {
            for statement in list {
                out.push(StepView {
                    pos: statement.pos,
                    source: statement.source.trim().to_string(),
                    depth,
                    state: StepState::Waiting,
                    passes: 0,
                });
                if let Statement::Repeat { body, .. } = &statement.action {
                    walk(body, depth + 1, out);
                }
            }
        }
        let mut steps = Vec::new();
        walk(&scenario.prelude, 0, &mut steps);
        for case in &scenario.cases {
            walk(&case.body, 0, &mut steps);
        }
        let index = steps.iter().enumerate().map(|(i, s)| (s.pos, i)).collect();
        Self {
            session,
            job,
            scenario,
            steps,
            index,
            run: 0,
            peer: None,
            passed: 0,
            failed: 0,
            attached: false,
            ended: false,
            refused: None,
            started,
            start_failure: None,
        }
    }

    /// Why it did not run, if it did not: a session it started could not start, or the
    /// engine refused the run for the reason it gave.
    pub fn not_run(&self) -> Option<NotRun> {
        NotRun::of(self.refused.as_ref(), self.start_failure.as_ref())
    }

    /// Follows one update of the job.
    pub fn apply(&mut self, update: ScenarioUpdate) {
        match update {
            ScenarioUpdate::Attached => self.attached = true,
            ScenarioUpdate::CaseStarted { .. } => {}
            ScenarioUpdate::RunStarted { run, peer } => {
                self.run = run;
                self.peer = peer;
                for step in &mut self.steps {
                    step.state = StepState::Waiting;
                    step.passes = 0;
                }
            }
            ScenarioUpdate::StepStarted { run, at } => {
                if let Some(step) = self.step_mut(run, at) {
                    step.state = StepState::Running;
                }
            }
            ScenarioUpdate::StepEnded {
                run,
                at,
                elapsed,
                outcome,
            } => {
                if let Some(step) = self.step_mut(run, at) {
                    if matches!(outcome, StepOutcome::Passed { .. }) {
                        step.passes += 1;
                    }
                    step.state = StepState::Ended { elapsed, outcome };
                }
            }
            ScenarioUpdate::CaseEnded { passed, .. } => {
                if passed {
                    self.passed += 1;
                } else {
                    self.failed += 1;
                }
            }
            ScenarioUpdate::RunEnded { .. } => {}
            ScenarioUpdate::Ended { refused, .. } => {
                self.ended = true;
                self.refused = refused;
            }
        }
    }

    /// The step at `at` of the latest run (updates of an older run, a server's earlier
    /// client still going, leave the list alone).
    fn step_mut(&mut self, run: u64, at: Pos) -> Option<&mut StepView> {
        if run != self.run {
            return None;
        }
        let index = *self.index.get(&at)?;
        self.steps.get_mut(index)
    }

    /// The first failure of the latest run, if a step failed.
    pub fn failure(&self) -> Option<(&StepView, &StepFailure)> {
        self.steps.iter().find_map(|s| match &s.state {
            StepState::Ended {
                outcome: StepOutcome::Failed(failure),
                ..
            } => Some((s, failure)),
            _ => None,
        })
    }
}

/// A scenario file being read or written on a thread of its own.
#[derive(Debug)]
pub struct FileJob(Worker<FileOutcome>);

/// How a file job ended.
#[derive(Debug)]
enum FileOutcome {
    /// The file's text.
    Read(PathBuf, String),
    /// The file was written.
    Written(PathBuf),
    /// Why it failed.
    Failed(Problem),
}

impl FileJob {
    fn spawn(work: impl FnOnce() -> FileOutcome + Send + 'static) -> Result<Self, Problem> {
        Worker::spawn("sockdbg-scenario-file", work).map(Self)
    }

    fn read(path: PathBuf) -> Result<Self, Problem> {
        Self::spawn(move || match std::fs::read_to_string(&path) {
            Ok(text) => FileOutcome::Read(path, text),
            Err(e) => FileOutcome::Failed(Problem::ScenarioFile {
                path,
                reason: e.to_string(),
            }),
        })
    }

    fn write(path: PathBuf, text: String) -> Result<Self, Problem> {
        Self::spawn(move || match std::fs::write(&path, text) {
            Ok(()) => FileOutcome::Written(path),
            Err(e) => FileOutcome::Failed(Problem::ScenarioFile {
                path,
                reason: e.to_string(),
            }),
        })
    }

    fn poll(&self) -> Option<FileOutcome> {
        self.0
            .poll()
            .map(|answer| answer.unwrap_or_else(FileOutcome::Failed))
    }
}

/// The Scenarios panel's state.
#[derive(Debug, Default)]
pub struct ScenarioPanel {
    /// The scenario being edited.
    pub text: String,
    /// The file field.
    pub path: String,
    /// Values for `${NAME}` in the file and in sends, as `NAME=VALUE` words (`--var` on the
    /// command line).
    pub vars: String,
    /// Where the next run goes.
    pub run_on: RunOn,
    /// The editor changed since it was last parsed.
    pub edited: bool,
    /// The editor parsed: the scenario, or every error with its line and column.
    pub parsed: Option<Result<Arc<Scenario>, Vec<ScenarioError>>>,
    /// The run going on or last made.
    pub run: Option<RunView>,
    /// What went wrong with a file, a dialog or a run that could not start.
    pub problem: Option<Problem>,
    /// The file was written (shown until the editor changes).
    pub saved_to: Option<PathBuf>,
    file_job: Option<FileJob>,
    picking: Option<(PendingDialog, bool)>,
    next_job: u64,
}

impl ScenarioPanel {
    /// Parses the editor again if it changed (pure and fast: once per keystroke).
    pub fn refresh(&mut self) {
        if !self.edited && self.parsed.is_some() {
            return;
        }
        self.edited = false;
        self.parsed = Some(parse(&self.text, &self.var_values()).map(Arc::new));
    }

    /// The variables field as `(NAME, VALUE)` pairs (words without `=` are left out).
    pub fn var_values(&self) -> Vec<(String, String)> {
        self.vars
            .split_whitespace()
            .filter_map(|word| word.split_once('='))
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// The errors of the editor's text (none while it parses).
    pub fn errors(&self) -> &[ScenarioError] {
        match &self.parsed {
            Some(Err(errors)) => errors,
            _ => &[],
        }
    }

    /// Whether a run is going on.
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| !r.ended)
    }

    fn next_job(&mut self) -> JobId {
        self.next_job += 1;
        JobId(FIRST_JOB + self.next_job)
    }

    /// Notes that session `id` could not start, when the run started it.
    pub fn track_start_failure(&mut self, id: SessionId, reason: &StartFailure) {
        if let Some(run) = self.run.as_mut().filter(|r| r.started.contains(&id)) {
            run.start_failure.get_or_insert_with(|| reason.clone());
        }
    }

    /// Follows a scenario job's update (of this panel's run; others are not its own).
    pub fn track(&mut self, id: SessionId, job: JobId, update: ScenarioUpdate) {
        if let Some(run) = self
            .run
            .as_mut()
            .filter(|r| r.session == id && r.job == job)
        {
            run.apply(update);
        }
    }

    fn base_dir(&self) -> PathBuf {
        let path = self.path.trim();
        if path.is_empty() {
            PathBuf::from(".")
        } else {
            crate::testing::base_dir(Path::new(path))
        }
    }
}

impl App {
    /// Carries out a Scenarios panel action.
    pub(crate) fn perform_scenario(&mut self, action: ScenarioAction) {
        match action {
            ScenarioAction::Run { on, selected } => self.run_scenario(on, selected),
            ScenarioAction::Stop => {
                if let Some(run) = self.scenarios.run.as_ref().filter(|r| !r.ended) {
                    let (id, job) = (run.session, run.job);
                    self.command(Command::CancelJob { id, job });
                }
            }
            ScenarioAction::Open(path) => {
                let panel = &mut self.scenarios;
                match FileJob::read(path) {
                    Ok(job) => panel.file_job = Some(job),
                    Err(problem) => panel.problem = Some(problem),
                }
            }
            ScenarioAction::Save(path) => {
                let panel = &mut self.scenarios;
                match FileJob::write(path, panel.text.clone()) {
                    Ok(job) => panel.file_job = Some(job),
                    Err(problem) => panel.problem = Some(problem),
                }
            }
            ScenarioAction::Browse { save } => {
                let title = "sockdbg".to_string();
                let kind = if save {
                    DialogKind::Save {
                        title,
                        current: PathBuf::from(self.scenarios.path.trim()),
                    }
                } else {
                    DialogKind::Open { title }
                };
                match PendingDialog::spawn(kind) {
                    Ok(dialog) => self.scenarios.picking = Some((dialog, save)),
                    Err(e) => self.scenarios.problem = Some(Problem::Dialog(e)),
                }
            }
            ScenarioAction::Replace(text) => {
                let panel = &mut self.scenarios;
                panel.text = text;
                panel.edited = true;
                panel.saved_to = None;
            }
        }
    }

    /// Starts the editor's scenario as an engine job.
    fn run_scenario(&mut self, on: RunOn, selected: Option<SessionId>) {
        self.scenarios.refresh();
        self.scenarios.problem = None;
        let Some(Ok(scenario)) = self.scenarios.parsed.clone() else {
            return; // its errors show under the editor
        };
        if self.scenarios.running() {
            return;
        }
        let (id, others, start) = match on {
            RunOn::Selected => {
                let Some(id) = selected.filter(|id| self.sessions.get(*id).is_some()) else {
                    self.scenarios.problem = Some(Problem::ScenarioNoSession);
                    return;
                };
                if scenario.sessions.len() > 1 {
                    self.scenarios.problem =
                        Some(Problem::ScenarioManySessions(scenario.sessions.len()));
                    return;
                }
                (id, Vec::new(), Vec::new())
            }
            RunOn::New => {
                if scenario.sessions.is_empty() {
                    self.scenarios.problem = Some(Problem::ScenarioNoSessionLine);
                    return;
                }
                let mut start = Vec::new();
                for decl in &scenario.sessions {
                    let id = self.create_session(decl.spec.clone());
                    if let Some(session) = self.sessions.get_mut(id) {
                        session.mark_starting();
                    }
                    start.push((id, decl.spec.clone()));
                }
                let first = start.first().map(|(id, _)| *id);
                let Some(first) = first else {
                    return;
                };
                let others = start.iter().skip(1).map(|(id, _)| *id).collect();
                (first, others, start)
            }
        };
        let server = self
            .sessions
            .get(id)
            .is_some_and(|s| s.spec.kind.is_server());
        let job = self.scenarios.next_job();
        let started = start.iter().map(|(id, _)| *id).collect();
        let run = ScenarioRun {
            scenario: Arc::clone(&scenario),
            others,
            start,
            vars: self.scenarios.var_values(),
            clients: if server {
                ScenarioClients::Each
            } else {
                ScenarioClients::First
            },
            base_dir: self.scenarios.base_dir(),
        };
        self.scenarios.run = Some(RunView::new(id, job, scenario, started));
        self.selected = Some(id);
        self.list.scroll_to = Some(id);
        self.command(Command::StartScenario {
            id,
            job,
            run: Box::new(run),
        });
    }

    /// Puts session `id`'s selected log entries (one, or a Shift+click range as the log
    /// shows it) in the editor as `send` and `expect` lines, and shows the Scenarios tab.
    pub(crate) fn save_as_scenario(&mut self, id: SessionId) {
        let encoding = self.settings_of(id).encoding;
        let (Some(session), Some(state)) = (self.sessions.get(id), self.traffic.get(&id)) else {
            return;
        };
        let (lv, log) = (&state.log_view, &session.log);
        let ids: Vec<u64> = match (state.selected_entry, state.selection_extent) {
            (Some(anchor), Some(extent)) => {
                let (Some(a), Some(b)) = (lv.shown_index(log, anchor), lv.shown_index(log, extent))
                else {
                    return;
                };
                let (first, last) = (a.min(b), a.max(b).min(a.min(b) + MAX_RECORDED_ROWS));
                (first..=last).filter_map(|i| lv.shown_id(log, i)).collect()
            }
            (Some(anchor), None) => vec![anchor],
            _ => return,
        };
        let rows: Vec<(Recorded, Vec<u8>)> = ids
            .into_iter()
            .filter_map(|row| lv.row(log, row, usize::MAX))
            .filter_map(|row| {
                let direction = match row.kind {
                    EntryKind::Tx => Recorded::Sent,
                    EntryKind::Rx => Recorded::Received,
                    _ => return None,
                };
                Some((direction, row.bytes.into_owned()))
            })
            .collect();
        let entries: Vec<(Recorded, &[u8])> =
            rows.iter().map(|(d, b)| (*d, b.as_slice())).collect();
        let text = scenario_text(Some(&session.spec.to_string()), encoding, &entries);
        self.perform_scenario(ScenarioAction::Replace(text));
        self.perform(crate::app::Action::ShowTab(
            crate::config::ColumnTab::Scenarios,
        ));
    }

    /// Picks up the Scenarios panel's finished file jobs and dialogs.
    pub(crate) fn poll_scenario_files(&mut self, ctx: &egui::Context) {
        let panel = &mut self.scenarios;
        if let Some((dialog, save)) = &panel.picking
            && let Some(answer) = dialog.poll()
        {
            let save = *save;
            panel.picking = None;
            match answer {
                Answer::Picked(path) => {
                    panel.path = path.display().to_string();
                    let action = if save {
                        ScenarioAction::Save(path)
                    } else {
                        ScenarioAction::Open(path)
                    };
                    self.perform_scenario(action);
                    return;
                }
                Answer::Cancelled => {}
                Answer::Unavailable(e) => panel.problem = Some(Problem::Dialog(e)),
            }
        }
        let panel = &mut self.scenarios;
        let Some(job) = &panel.file_job else {
            return;
        };
        let Some(outcome) = job.poll() else {
            ctx.request_repaint_after(Duration::from_millis(50));
            return;
        };
        panel.file_job = None;
        match outcome {
            FileOutcome::Read(path, text) => {
                panel.text = text;
                panel.path = path.display().to_string();
                panel.edited = true;
                panel.problem = None;
                panel.saved_to = None;
            }
            FileOutcome::Written(path) => {
                panel.problem = None;
                panel.saved_to = Some(path);
            }
            FileOutcome::Failed(problem) => panel.problem = Some(problem),
        }
    }
}
