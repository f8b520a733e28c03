//! The window's power-send state of one session and what its actions do: send history,
//! several selected clients, periodic and file sends (timed and streamed by the engine; the
//! window only shows their progress), quick commands (per session, plus the global ones in
//! [`App::quick_commands`]), on-connect payload and auto-reply rules (evaluated by the
//! engine; the window edits them and hands them over with `Command::SetReactions`, and the
//! log's framing, which auto-reply matches frames by, with `Command::SetReplyFraming`).
//!
//! Every payload goes through the same pipeline as the send box preview and the headless
//! mode ([`build_payload`]); the send box, quick commands and periodic sends expand their
//! `${seq}` and the Scenarios tab's Variables first ([`crate::scenario::sending`]), each
//! counting its own sends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use bytes::Bytes;

use crate::app::quick_files::QuickFileJob;
use crate::app::{App, Problem, SessionView};
use crate::codec::framing::Framing;
use crate::codec::reply::{ReplyRule, RuleSet};
use crate::codec::send::{SendOptions, build_payload};
use crate::config::{OnConnect, QuickCommand, SavedSession};
use crate::i18n::{Text, tr};
use crate::protocol::{
    Command, Event, JobId, JobOutcome, PeerId, Reactions, SendTarget, SessionId,
};
use crate::scenario::sending::{PayloadError, SendPayload, expand};

/// Most send-box entries remembered for Up/Down.
pub const HISTORY_LEN: usize = 100;

/// Progress of one background send (one job per target).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobView {
    /// Each job's `(done, total, outcome once ended)`.
    pub jobs: BTreeMap<JobId, (u64, Option<u64>, Option<JobOutcome>)>,
}

impl JobView {
    /// Whether any job still runs.
    pub fn running(&self) -> bool {
        self.jobs.values().any(|(_, _, end)| end.is_none())
    }

    /// Sum of done and of totals (`None` when any total is unknown).
    pub fn progress(&self) -> (u64, Option<u64>) {
        let done = self.jobs.values().map(|(d, _, _)| d).sum();
        let total = self.jobs.values().map(|(_, t, _)| *t).sum::<Option<u64>>();
        (done, total)
    }

    /// How the jobs ended, once every one has: the first failure, else stopped (any was
    /// cancelled) or done.
    pub fn ended(&self) -> Option<JobEnd> {
        if self.running() || self.jobs.is_empty() {
            return None;
        }
        let failed = self.jobs.values().find_map(|(_, _, end)| match end {
            Some(JobOutcome::Failed(why)) => Some(JobEnd::Failed(why.clone())),
            Some(JobOutcome::FileFailed(why)) => Some(JobEnd::FileFailed(why.clone())),
            _ => None,
        });
        let cancelled = self
            .jobs
            .values()
            .any(|(_, _, end)| *end == Some(JobOutcome::Cancelled));
        Some(match (failed, cancelled) {
            (Some(failed), _) => failed,
            (None, true) => JobEnd::Stopped,
            (None, false) => JobEnd::Done,
        })
    }
}

/// How a background send ended, over all its targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobEnd {
    /// Every job sent all there was.
    Done,
    /// The user stopped it.
    Stopped,
    /// A job could not go on.
    Failed(crate::protocol::JobFailure),
    /// A file send's file could not be opened or read.
    FileFailed(crate::protocol::FileError),
}

/// A quick command as a send source of its own: global or the session's, its name and
/// payload.
pub type QuickKey = (bool, String, String);

/// The key a quick command's `${seq}` is counted under.
pub fn quick_key(global: bool, command: &QuickCommand) -> QuickKey {
    (global, command.name.clone(), command.payload.clone())
}

/// Per-session power-send state of the window.
#[derive(Debug)]
pub struct SendTools {
    /// Previous sends, oldest first.
    pub history: Vec<String>,
    /// Where Up/Down is in `history` (`None`: editing a new entry).
    pub history_pos: Option<usize>,
    /// Several clients chosen at once (servers); two or more override the single target.
    pub multi_peers: BTreeSet<PeerId>,
    /// Periodic send interval field.
    pub periodic_interval_ms: String,
    /// Periodic send count field (0 or empty: until stopped).
    pub periodic_count: String,
    /// The periodic send, once started.
    pub periodic: JobView,
    /// The file to send.
    pub file_path: String,
    /// The file send, once started.
    pub file: JobView,
    /// A file dialog running on its own thread.
    pub picking: Option<crate::file_dialog::PendingDialog>,
    /// Quick commands being read from or written to a file.
    pub quick_file_job: Option<QuickFileJob>,
    /// This session's own quick commands.
    pub quick_commands: Vec<QuickCommand>,
    /// Index of the quick command being edited (`(global, index)`).
    pub editing: Option<(bool, usize)>,
    /// Auto-reply rules, in order.
    pub rules: Vec<ReplyRule>,
    /// Payload sent on connect.
    pub on_connect: OnConnect,
    /// Why the rules or on-connect payload cannot be used (shown inline, not sent).
    pub reactions_error: Option<Problem>,
    /// Why the last tool action failed (periodic/file/quick command), shown inline.
    pub tools_error: Option<Problem>,
    /// Path field for quick command import/export.
    pub quick_file_path: String,
    /// Sends made from the send box: its next send's `${seq}` is one more.
    pub send_box_sent: u64,
    /// Sends made by each quick command (known by list, name and payload: editing the
    /// payload starts it again at 1), for its `${seq}`.
    pub quick_sent: HashMap<QuickKey, u64>,
    /// The framing last handed to the engine for auto-reply (the log's framing).
    reply_framing: Framing,
    next_job: u64,
}

impl Default for SendTools {
    fn default() -> Self {
        Self {
            history: Vec::new(),
            history_pos: None,
            multi_peers: BTreeSet::new(),
            periodic_interval_ms: "1000".to_string(),
            periodic_count: "0".to_string(),
            periodic: JobView::default(),
            file_path: String::new(),
            file: JobView::default(),
            picking: None,
            quick_file_job: None,
            quick_commands: Vec::new(),
            editing: None,
            rules: Vec::new(),
            on_connect: OnConnect::default(),
            reactions_error: None,
            tools_error: None,
            quick_file_path: String::new(),
            send_box_sent: 0,
            quick_sent: HashMap::new(),
            reply_framing: Framing::Raw,
            next_job: 0,
        }
    }
}

impl SendTools {
    /// State restored from a saved session.
    pub fn from_saved(saved: &SavedSession) -> Self {
        Self {
            quick_commands: saved.quick_commands.clone(),
            rules: saved.auto_reply.clone(),
            on_connect: saved.on_connect.clone(),
            ..Self::default()
        }
    }

    /// Remembers a sent entry (not twice in a row) and leaves history browsing.
    pub fn remember(&mut self, text: &str) {
        self.history_pos = None;
        if text.is_empty() || self.history.last().is_some_and(|last| last == text) {
            return;
        }
        self.history.push(text.to_string());
        if self.history.len() > HISTORY_LEN {
            self.history.remove(0);
        }
    }

    /// Up (`older`) or Down through history; returns the text to show, if it changes.
    pub fn recall(&mut self, older: bool) -> Option<String> {
        let len = self.history.len();
        let pos = match (self.history_pos, older) {
            (_, _) if len == 0 => return None,
            (None, true) => len - 1,
            (None, false) => return None,
            (Some(0), true) => 0,
            (Some(p), true) => p - 1,
            (Some(p), false) if p + 1 >= len => {
                self.history_pos = None;
                return Some(String::new());
            }
            (Some(p), false) => p + 1,
        };
        self.history_pos = Some(pos);
        self.history.get(pos).cloned()
    }

    fn next_job(&mut self) -> JobId {
        self.next_job += 1;
        JobId(self.next_job)
    }

    /// The reactions to hand to the engine, or why they cannot be used.
    ///
    /// # Errors
    /// [`Problem::Rule`] naming the bad rule, or [`Problem::OnConnect`].
    pub fn reactions(&self) -> Result<Reactions, Problem> {
        RuleSet::compile(&self.rules).map_err(Problem::Rule)?;
        let on_connect = if self.on_connect.enabled {
            let bytes = build_payload(&self.on_connect.payload, &self.on_connect.options)
                .map_err(Problem::OnConnect)?;
            Some(Bytes::from(bytes))
        } else {
            None
        };
        Ok(Reactions {
            on_connect,
            rules: self.rules.clone(),
            echo: false,
        })
    }
}

/// What the send tools ask for (carried by `Action::Tool`).
#[derive(Debug, Clone, PartialEq)]
pub enum ToolAction {
    /// Send a quick command (`global` list or the session's own).
    SendQuick {
        /// From the global list.
        global: bool,
        /// Its index.
        index: usize,
    },
    /// Add the send box's content (and its options) as a quick command.
    AddQuick {
        /// To the global list.
        global: bool,
    },
    /// Remove a quick command.
    DeleteQuick {
        /// From the global list.
        global: bool,
        /// Its index.
        index: usize,
    },
    /// Move a quick command one place up or down.
    MoveQuick {
        /// In the global list.
        global: bool,
        /// Its index.
        index: usize,
        /// Up (towards the top) or down.
        up: bool,
    },
    /// Open (`Some((global, index))`) or close the editor of a quick command.
    EditQuick(Option<(bool, usize)>),
    /// Write the session's and global quick commands to a RON file.
    ExportQuick(PathBuf),
    /// Append quick commands from a RON file to the session's list.
    ImportQuick(PathBuf),
    /// Start sending the send box's content periodically.
    StartPeriodic,
    /// Stop the periodic send.
    StopPeriodic,
    /// Open a native file dialog (on its own thread) for the file to send.
    PickFile,
    /// Stream the file in the path field.
    SendFile,
    /// Cancel the file send.
    CancelFile,
    /// Hand the edited rules and on-connect payload to the engine.
    ApplyReactions,
}

/// Where the session's sends go: each selected client, or the single target.
pub fn targets(view: &SessionView) -> Vec<SendTarget> {
    if view.tools.multi_peers.len() > 1 {
        view.tools
            .multi_peers
            .iter()
            .map(|p| SendTarget::Peer(*p))
            .collect()
    } else {
        vec![view.target]
    }
}

/// Applies job progress to the window's state; other events are not its business.
pub fn track(views: &mut HashMap<SessionId, SessionView>, event: &Event) {
    let (id, job, update) = match event {
        Event::JobProgress {
            id,
            job,
            done,
            total,
        } => (*id, *job, (*done, *total, None)),
        Event::JobEnded {
            id,
            job,
            done,
            outcome,
        } => {
            // A completed job sent all there was, even if it ended before any progress.
            let total = (*outcome == JobOutcome::Completed).then_some(*done);
            (*id, *job, (*done, total, Some(outcome.clone())))
        }
        _ => return,
    };
    let Some(view) = views.get_mut(&id) else {
        return;
    };
    for jobs in [&mut view.tools.periodic, &mut view.tools.file] {
        if let Some(entry) = jobs.jobs.get_mut(&job) {
            entry.0 = update.0;
            entry.1 = update.1.or(entry.1);
            entry.2 = update.2.clone();
        }
    }
}

impl App {
    /// Hands the session's reactions to the engine, or shows why they cannot be used.
    pub(crate) fn apply_reactions(&mut self, id: SessionId) {
        let tools = &mut self.view_of(id).tools;
        match tools.reactions() {
            Ok(reactions) => {
                tools.reactions_error = None;
                self.command(Command::SetReactions { id, reactions });
            }
            Err(e) => tools.reactions_error = Some(e),
        }
    }

    /// Hands each session's log framing to the engine for auto-reply when it changed (set
    /// in the framing form or restored), so rules match the messages the log shows.
    pub(crate) fn sync_reply_framing(&mut self) {
        let mut changed = Vec::new();
        for (id, state) in &self.traffic {
            let framing = state.log_view.framing();
            let Some(view) = self.views.get_mut(id) else {
                continue;
            };
            if view.tools.reply_framing != framing {
                view.tools.reply_framing = framing.clone();
                changed.push((*id, framing));
            }
        }
        for (id, framing) in changed {
            self.command(Command::SetReplyFraming { id, framing });
        }
    }

    /// Carries out a send-tools action for session `id`.
    pub(crate) fn perform_tool(&mut self, id: SessionId, action: ToolAction) {
        let language = self.language();
        self.view_of(id).tools.tools_error = None;
        match action {
            ToolAction::SendQuick { global, index } => {
                let command = if global {
                    self.quick_commands.get(index).cloned()
                } else {
                    self.view_of(id).tools.quick_commands.get(index).cloned()
                };
                let Some(command) = command else {
                    return;
                };
                let values = self.scenarios.var_values();
                let key = quick_key(global, &command);
                let seq = self
                    .view_of(id)
                    .tools
                    .quick_sent
                    .get(&key)
                    .map_or(1, |n| n + 1);
                match expand(&command.payload, &command.options, &values, seq) {
                    Ok(data) => {
                        self.view_of(id).tools.quick_sent.insert(key, seq);
                        for target in targets(self.view_of(id)) {
                            let data = data.clone();
                            self.command(Command::Send { id, target, data });
                        }
                    }
                    Err(error) => {
                        self.view_of(id).tools.tools_error = Some(Problem::QuickCommand {
                            name: command.name,
                            error,
                        });
                    }
                }
            }
            ToolAction::AddQuick { global } => {
                let options = self.settings_of(id).send_options();
                let view = self.view_of(id);
                let payload = view.send_text.clone();
                let name: String = payload
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(20)
                    .collect();
                let command = QuickCommand {
                    name: if name.is_empty() {
                        tr(language, Text::DefaultCommandName).to_string()
                    } else {
                        name
                    },
                    payload,
                    options,
                };
                let list = if global {
                    &mut self.quick_commands
                } else {
                    &mut self.view_of(id).tools.quick_commands
                };
                list.push(command);
                let index = list.len() - 1;
                self.view_of(id).tools.editing = Some((global, index));
            }
            ToolAction::DeleteQuick { global, index } => {
                let list = self.quick_list(id, global);
                if index < list.len() {
                    list.remove(index);
                }
                self.view_of(id).tools.editing = None;
            }
            ToolAction::MoveQuick { global, index, up } => {
                let list = self.quick_list(id, global);
                let other = if up {
                    index.checked_sub(1)
                } else {
                    Some(index + 1)
                };
                if let Some(other) = other.filter(|o| *o < list.len() && index < list.len()) {
                    list.swap(index, other);
                }
            }
            ToolAction::EditQuick(editing) => self.view_of(id).tools.editing = editing,
            ToolAction::ExportQuick(path) => self.export_quick(id, path),
            ToolAction::ImportQuick(path) => self.import_quick(id, path),
            ToolAction::StartPeriodic => self.start_periodic(id),
            ToolAction::StopPeriodic => {
                let jobs: Vec<JobId> = self
                    .view_of(id)
                    .tools
                    .periodic
                    .jobs
                    .keys()
                    .copied()
                    .collect();
                for job in jobs {
                    self.command(Command::CancelJob { id, job });
                }
            }
            ToolAction::PickFile => {
                let kind = crate::file_dialog::DialogKind::Open {
                    title: tr(language, Text::FileToSend).to_string(),
                };
                match crate::file_dialog::PendingDialog::spawn(kind) {
                    Ok(dialog) => self.view_of(id).tools.picking = Some(dialog),
                    Err(e) => self.view_of(id).tools.tools_error = Some(Problem::Dialog(e)),
                }
            }
            ToolAction::SendFile => {
                let view = self.view_of(id);
                let path = PathBuf::from(view.tools.file_path.trim());
                if view.tools.file_path.trim().is_empty() {
                    view.tools.tools_error = Some(Problem::ChooseFileFirst);
                    return;
                }
                view.tools.file = JobView::default();
                let mut commands = Vec::new();
                for target in targets(view) {
                    let job = view.tools.next_job();
                    view.tools.file.jobs.insert(job, (0, None, None));
                    commands.push(Command::SendFile {
                        id,
                        job,
                        target,
                        path: path.clone(),
                    });
                }
                for command in commands {
                    self.command(command);
                }
            }
            ToolAction::CancelFile => {
                let jobs: Vec<JobId> = self.view_of(id).tools.file.jobs.keys().copied().collect();
                for job in jobs {
                    self.command(Command::CancelJob { id, job });
                }
            }
            ToolAction::ApplyReactions => self.apply_reactions(id),
        }
    }

    fn quick_list(&mut self, id: SessionId, global: bool) -> &mut Vec<QuickCommand> {
        if global {
            &mut self.quick_commands
        } else {
            &mut self.view_of(id).tools.quick_commands
        }
    }

    fn start_periodic(&mut self, id: SessionId) {
        let options: SendOptions = self.settings_of(id).send_options();
        let values = self.scenarios.var_values();
        let view = self.view_of(id);
        let interval_ms = match view.tools.periodic_interval_ms.trim().parse::<u64>() {
            Ok(ms) if ms >= 1 => ms,
            _ => {
                view.tools.tools_error = Some(Problem::BadInterval);
                return;
            }
        };
        let count = match view.tools.periodic_count.trim() {
            "" => None,
            text => match text.parse::<u64>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => {
                    view.tools.tools_error = Some(Problem::BadCount);
                    return;
                }
            },
        };
        // Checked here, with its first expansion, so a mistake shows under the send box
        // instead of ending the job.
        let payload = SendPayload::parse(&view.send_text, &options, &values).and_then(|payload| {
            payload
                .bytes(1)
                .map(|_| payload)
                .map_err(PayloadError::from)
        });
        let payload = match payload {
            Ok(payload) => payload,
            Err(e) => {
                view.send_error = Some(Problem::Send(e));
                return;
            }
        };
        let text = view.send_text.clone();
        view.tools.remember(&text);
        view.tools.periodic = JobView::default();
        let mut commands = Vec::new();
        for target in targets(view) {
            let job = view.tools.next_job();
            view.tools.periodic.jobs.insert(job, (0, count, None));
            commands.push(Command::StartPeriodic {
                id,
                job,
                target,
                payload: payload.clone(),
                interval_ms,
                count,
            });
        }
        for command in commands {
            self.command(command);
        }
    }

    /// Picks up a file dialog's answer, if it has come.
    pub(crate) fn poll_file_dialogs(&mut self) {
        for view in self.views.values_mut() {
            let Some(answer) = view.tools.picking.as_ref().and_then(|d| d.poll()) else {
                continue;
            };
            view.tools.picking = None;
            match answer {
                crate::file_dialog::Answer::Picked(path) => {
                    view.tools.file_path = path.display().to_string();
                }
                crate::file_dialog::Answer::Cancelled => {}
                crate::file_dialog::Answer::Unavailable(e) => {
                    view.tools.tools_error = Some(Problem::Dialog(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_walks_up_and_down() {
        let mut tools = SendTools::default();
        assert_eq!(tools.recall(true), None);
        for text in ["a", "b", "b", "c"] {
            tools.remember(text);
        }
        assert_eq!(tools.history, ["a", "b", "c"]);
        assert_eq!(tools.recall(true).as_deref(), Some("c"));
        assert_eq!(tools.recall(true).as_deref(), Some("b"));
        assert_eq!(tools.recall(true).as_deref(), Some("a"));
        assert_eq!(tools.recall(true).as_deref(), Some("a"));
        assert_eq!(tools.recall(false).as_deref(), Some("b"));
        assert_eq!(tools.recall(false).as_deref(), Some("c"));
        assert_eq!(tools.recall(false).as_deref(), Some(""));
        assert_eq!(tools.recall(false), None);
    }

    #[test]
    fn job_view_sums_and_ends() {
        let mut view = JobView::default();
        view.jobs.insert(JobId(1), (5, Some(10), None));
        view.jobs
            .insert(JobId(2), (10, Some(10), Some(JobOutcome::Completed)));
        assert!(view.running());
        assert_eq!(view.progress(), (15, Some(20)));
        assert_eq!(view.ended(), None);
        view.jobs
            .insert(JobId(1), (5, Some(10), Some(JobOutcome::Cancelled)));
        assert_eq!(view.ended(), Some(JobEnd::Stopped));
    }
}
