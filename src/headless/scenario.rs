//! `--headless SESSION... --scenario FILE`: the scenario runs as an engine job on the first
//! session (on a server, against every client that connects: a device simulator that keeps
//! serving), and each step is printed among the log's lines, as `sockdbg test` prints it
//! (text) or as a `"event":"step"` object (jsonl). On a client session the run ends when the
//! scenario does, with exit code 1 if a case failed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::{OutputFormat, TestFormat};
use crate::protocol::{ScenarioUpdate, StepOutcome};
use crate::scenario::{Pos, Scenario, Statement};
use crate::testing::report::{StepReport, step_json, step_lines};

/// A scenario file checked for a headless run.
#[derive(Debug, Clone)]
pub struct HeadlessScenario {
    /// The file's name without its extension (the name of an unnamed case).
    pub name: String,
    /// The parsed file.
    pub scenario: Arc<Scenario>,
    /// The folder its `send-file` paths start from.
    pub base_dir: PathBuf,
    /// `--var` values.
    pub vars: Vec<(String, String)>,
}

impl HeadlessScenario {
    /// Reads and checks `path`.
    ///
    /// # Errors
    /// Every error of the file, as `FILE:LINE:COL: what` lines.
    pub fn load(path: &Path, vars: &[(String, String)]) -> Result<Self, String> {
        let file = path.display().to_string();
        let scenario = crate::testing::load(path, vars, false).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| format!("{file}:{e}")).collect();
            lines.join("\n")
        })?;
        // Reports name an unnamed case after the file, as `sockdbg test` does.
        let name = path
            .file_stem()
            .map_or(file, |stem| stem.to_string_lossy().into_owned());
        Ok(Self {
            name,
            scenario: Arc::new(scenario),
            base_dir: crate::testing::base_dir(path),
            vars: vars.to_vec(),
        })
    }
}

/// Prints a scenario job's updates.
pub(super) struct ScenarioOutput {
    name: String,
    scenario: Arc<Scenario>,
    statements: HashMap<Pos, Statement>,
    format: TestFormat,
    /// The case each run is in.
    cases: HashMap<u64, usize>,
    /// A case failed.
    pub(super) failed: bool,
}

impl ScenarioOutput {
    pub(super) fn new(loaded: &HeadlessScenario, format: OutputFormat) -> Self {
        let statements = loaded
            .scenario
            .statements()
            .into_iter()
            .map(|s| (s.pos, s.clone()))
            .collect();
        Self {
            name: loaded.name.clone(),
            scenario: Arc::clone(&loaded.scenario),
            statements,
            format: match format {
                OutputFormat::Jsonl => TestFormat::Jsonl,
                OutputFormat::Text | OutputFormat::Hex => TestFormat::Text,
            },
            cases: HashMap::new(),
            failed: false,
        }
    }

    fn case_name(&self, case: usize) -> String {
        self.scenario
            .cases
            .get(case)
            .and_then(|c| c.name.clone())
            .unwrap_or_else(|| self.name.clone())
    }

    /// The lines an update prints.
    pub(super) fn lines(&mut self, update: &ScenarioUpdate) -> Vec<String> {
        match update {
            ScenarioUpdate::CaseStarted { run, case } => {
                self.cases.insert(*run, *case);
                match self.format {
                    TestFormat::Text => {
                        vec![format!("-- scenario run {run}: case {}", self.case_name(*case))]
                    }
                    TestFormat::Jsonl => Vec::new(),
                }
            }
            ScenarioUpdate::StepEnded {
                run,
                at,
                elapsed,
                outcome,
            } => {
                if matches!(outcome, StepOutcome::Failed(_)) {
                    self.failed = true;
                }
                let case = self.case_name(self.cases.get(run).copied().unwrap_or(0));
                let step = StepReport {
                    file: &self.name,
                    case: &case,
                    at: *at,
                    statement: self.statements.get(at),
                    elapsed: *elapsed,
                    outcome,
                };
                match self.format {
                    TestFormat::Text => step_lines(&step),
                    TestFormat::Jsonl => step_json(&step)
                        .map(|mut value| {
                            value["run"] = serde_json::json!(run);
                            vec![value.to_string()]
                        })
                        .unwrap_or_default(),
                }
            }
            ScenarioUpdate::RunEnded {
                run,
                passed,
                failed,
            } => match self.format {
                TestFormat::Text => vec![format!(
                    "-- scenario run {run} ended: {passed} passed, {failed} failed"
                )],
                TestFormat::Jsonl => vec![
                    serde_json::json!({"event": "run", "run": run, "passed": passed, "failed": failed})
                        .to_string(),
                ],
            },
            ScenarioUpdate::Ended {
                refused: Some(reason),
                ..
            } => {
                self.failed = true;
                vec![format!("-- scenario not run: {reason}")]
            }
            _ => Vec::new(),
        }
    }
}
