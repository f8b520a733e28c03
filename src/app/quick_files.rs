//! Quick commands to and from their own RON file, read and written on a thread of their own
//! (a slow or hung disk never stalls a frame); [`App::poll_quick_files`] picks up the answer.

use std::path::PathBuf;

use crate::app::worker::Worker;
use crate::app::{App, Problem};
use crate::config::{CONFIG_VERSION, QuickCommand, QuickCommandFile};
use crate::protocol::SessionId;

/// A quick-command file being read or written.
#[derive(Debug)]
pub struct QuickFileJob(Worker<QuickFileOutcome>);

/// How a quick-command file job ended.
#[derive(Debug)]
enum QuickFileOutcome {
    /// The file was written.
    Exported,
    /// The commands read from the file.
    Imported(Vec<QuickCommand>),
    /// Why it failed.
    Failed(Problem),
}

impl QuickFileJob {
    /// Writes `commands` to `path` as a [`QuickCommandFile`].
    pub fn export(path: PathBuf, commands: Vec<QuickCommand>) -> Result<Self, Problem> {
        Self::spawn(move || {
            let file = QuickCommandFile {
                version: CONFIG_VERSION,
                quick_commands: commands,
            };
            let written = ron::ser::to_string_pretty(&file, ron::ser::PrettyConfig::default())
                .map_err(|e| e.to_string())
                .and_then(|text| std::fs::write(&path, text).map_err(|e| e.to_string()));
            match written {
                Ok(()) => QuickFileOutcome::Exported,
                Err(reason) => QuickFileOutcome::Failed(Problem::QuickExport { path, reason }),
            }
        })
    }

    /// Reads the commands of the [`QuickCommandFile`] at `path`.
    pub fn import(path: PathBuf) -> Result<Self, Problem> {
        Self::spawn(move || {
            let read = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    ron::from_str::<QuickCommandFile>(&text).map_err(|e| e.to_string())
                });
            match read {
                Ok(file) => QuickFileOutcome::Imported(file.quick_commands),
                Err(reason) => QuickFileOutcome::Failed(Problem::QuickImport { path, reason }),
            }
        })
    }

    fn spawn(work: impl FnOnce() -> QuickFileOutcome + Send + 'static) -> Result<Self, Problem> {
        Worker::spawn("sockdbg-quick-file", work).map(Self)
    }

    fn poll(&self) -> Option<QuickFileOutcome> {
        self.0
            .poll()
            .map(|answer| answer.unwrap_or_else(QuickFileOutcome::Failed))
    }
}

impl App {
    /// Starts writing the global and session `id`'s quick commands to `path`.
    pub(crate) fn export_quick(&mut self, id: SessionId, path: PathBuf) {
        let mut commands = self.quick_commands.clone();
        commands.extend(self.view_of(id).tools.quick_commands.iter().cloned());
        let tools = &mut self.view_of(id).tools;
        match QuickFileJob::export(path, commands) {
            Ok(job) => tools.quick_file_job = Some(job),
            Err(problem) => tools.tools_error = Some(problem),
        }
    }

    /// Starts reading quick commands from `path` for session `id`'s list.
    pub(crate) fn import_quick(&mut self, id: SessionId, path: PathBuf) {
        let tools = &mut self.view_of(id).tools;
        match QuickFileJob::import(path) {
            Ok(job) => tools.quick_file_job = Some(job),
            Err(problem) => tools.tools_error = Some(problem),
        }
    }

    /// Picks up finished quick-command file jobs: imported commands join their session's
    /// list, failures show in its tools.
    pub(crate) fn poll_quick_files(&mut self, ctx: &egui::Context) {
        for view in self.views.values_mut() {
            let tools = &mut view.tools;
            let Some(job) = &tools.quick_file_job else {
                continue;
            };
            let Some(outcome) = job.poll() else {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
                continue;
            };
            tools.quick_file_job = None;
            match outcome {
                QuickFileOutcome::Exported => {}
                QuickFileOutcome::Imported(commands) => tools.quick_commands.extend(commands),
                QuickFileOutcome::Failed(problem) => tools.tools_error = Some(problem),
            }
        }
    }
}
