//! The window's state and everything it does besides drawing: [`App::run_logic`] (called
//! from `eframe::App::logic`) drains engine events into the model, advances every session's
//! log view, rates, exports, captures and file jobs, hands framings to the engine and saves
//! the settings; [`App::perform`] carries out the [`Action`]s the drawing code in
//! [`ui`](../ui/index.html) returns. Nothing here draws, and nothing here imports the `ui`
//! module: each panel's state is a struct of its own here, drawn by a `ui` method there.
//!
//! - [`link`]: the channels to the engine thread, which the first command starts.
//! - [`session_list`]: the left panel's state (create form, rename, delete confirmation).
//! - [`send_tools`]: per-session send state (history, periodic/file sends, quick commands,
//!   on-connect and auto-reply) and what its actions do.
//! - [`traffic`]: per-session log view state (framing, filter, capture, export, rates).
//! - [`framing_form`], [`saving`], [`rates`]: parts of the log view's state.
//! - [`scenarios`]: the Scenarios tab's state (the scenario edited, its file, its run in the
//!   engine and its step list) and what its actions do.
//! - [`load`]: the Load test tab's state (the form, the run in the engine, its records and
//!   summary, Save CSV) and what its actions do.
//! - [`worker`]: file work on a thread of its own (quick-command and scenario files).
//! - [`problem`]: what went wrong, typed until drawn.

pub mod framing_form;
pub mod link;
pub mod load;
pub mod problem;
mod quick_files;
pub mod rates;
pub mod relay;
pub mod saving;
pub mod scenarios;
pub mod send_tools;
pub mod session_list;
pub mod traffic;
pub mod worker;

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use link::{EngineLink, REPAINT_INTERVAL};
pub use problem::{FramingFormError, Notice, Problem};
pub use relay::{RelayAction, RelayControls};
pub use send_tools::{SendTools, ToolAction};
pub use session_list::{CreateForm, SerialFields, SerialPorts, SessionList};
pub use traffic::{TrafficAction, TrafficState};

use crate::config::{
    ColumnTab, Config, ConfigStore, QuickCommand, SavedSession, SessionSettings, ThemeChoice,
    ViewSettings,
};
use crate::engine::EngineSettings;
use crate::i18n::Language;
use crate::model::Sessions;
use crate::protocol::{Command, Event, PeerId, SendTarget, SessionId};
use crate::scenario::sending::expand;
use crate::serial::SerialControl;
use crate::spec::{SessionKind, SessionSpec};

pub use crate::intake::{Backlog, FRAME_INTAKE_BUDGET, MAX_EVENTS_PER_FRAME};

/// What the user asked for in one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the create form for a kind.
    OpenCreateForm(SessionKind),
    /// Open the form that edits a session's address, port and options.
    OpenEditForm(SessionId),
    /// Close the create form.
    CancelCreateForm,
    /// Create a session and start it.
    CreateSession(Box<SessionSpec>),
    /// Give a session a new spec (from the edit form) and restart it unless it was stopped.
    EditSession(SessionId, Box<SessionSpec>),
    /// Start (or restart) a session.
    Start(SessionId),
    /// Stop a session.
    Stop(SessionId),
    /// Remove a session.
    Delete(SessionId),
    /// Show a session in the right panel.
    Select(SessionId),
    /// Select a session and make one of its peers the send target.
    SelectPeer(SessionId, PeerId),
    /// Close one client connection.
    Disconnect(SessionId, PeerId),
    /// Send what is in the session's send box.
    Send(SessionId),
    /// Empty the session's log.
    ClearLog(SessionId),
    /// Hide a notice.
    DismissNotice(usize),
    /// Something in a session's log view: capture, ...
    Traffic(SessionId, TrafficAction),
    /// A send-tools action (quick commands, periodic/file send, auto-reply) of a session.
    Tool(SessionId, ToolAction),
    /// Hold, release, step or change the faults of a relay.
    Relay(SessionId, RelayAction),
    /// Set a serial port's DTR or RTS, or send a break.
    Serial(SessionId, SerialControl),
    /// List the serial ports again (the create form's Refresh).
    RefreshSerialPorts,
    /// Ask before deleting a session (the Delete key, the context menu).
    ConfirmDelete(SessionId),
    /// Close the delete confirmation without deleting.
    CancelDelete,
    /// Create a stopped copy of a session at the end of the list.
    Duplicate(SessionId),
    /// Open the rename field of a session.
    BeginRename(SessionId),
    /// Close the rename field, keeping the old name.
    CancelRename,
    /// Give a session a display name (empty: show its address).
    Rename(SessionId, String),
    /// Switch the theme.
    SetTheme(ThemeChoice),
    /// Keep (or not) on disk what a log's memory bound evicts.
    SetLogSpill(bool),
    /// Set the disk quota of one session's log (GiB, within
    /// [`crate::config::SPILL_QUOTAS_GIB`]).
    SetSpillQuota(u32),
    /// Something in the Scenarios tab.
    Scenario(scenarios::ScenarioAction),
    /// Something in the Load test tab.
    Load(load::LoadAction),
    /// Switch the UI language.
    SetLanguage(Language),
    /// Set the body text size (points, within [`crate::config::FONT_SIZES`]).
    SetFontSize(u8),
    /// Show a tab of the settings column (opening the column, or its popup in a narrow
    /// window).
    ShowTab(ColumnTab),
    /// Open or close the settings column (its popup in a narrow window).
    ToggleColumn,
    /// Show the session list in full or as a strip.
    ToggleSessions,
}

/// What the window's layout keeps for this run only (not saved).
#[derive(Debug, Default)]
pub struct LayoutState {
    /// In a narrow window, the settings column shows as a popup: whether it is open.
    pub column_popup: bool,
    /// In a narrow window, the session list is a strip unless expanded.
    pub sessions_expanded: bool,
    /// The window was too narrow for the column beside the log on the last frame (the
    /// toggles act on what is shown).
    pub column_narrow: bool,
    /// The window was too narrow for the full session list on the last frame.
    pub sessions_narrow: bool,
}

/// Per-session state of the send box, its tools and settings.
#[derive(Debug)]
pub struct SessionView {
    /// The send box's text.
    pub send_text: String,
    /// Where Send goes.
    pub target: SendTarget,
    /// Why the send box's content cannot be sent (shown inline).
    pub send_error: Option<Problem>,
    /// History, periodic/file sends, quick commands, auto-reply.
    pub tools: SendTools,
    /// The name shown in the session list instead of the address; empty means none.
    pub name: String,
    /// Its encoding and send options (saved with it).
    pub settings: SessionSettings,
    /// A relay's controls: which way Send injects, the fault words being edited.
    pub relay: RelayControls,
}

impl Default for SessionView {
    fn default() -> Self {
        Self {
            send_text: String::new(),
            target: SendTarget::All,
            send_error: None,
            tools: SendTools::default(),
            name: String::new(),
            settings: SessionSettings::default(),
            relay: RelayControls::default(),
        }
    }
}

/// Disjoint borrows of what one session's panels draw ([`App::session_parts`]).
pub struct SessionParts<'a> {
    /// The session's id.
    pub id: SessionId,
    /// The session (model).
    pub session: &'a crate::model::Session,
    /// The window's view settings.
    pub view: &'a mut ViewSettings,
    /// Its send box state, tools and settings.
    pub session_view: &'a mut SessionView,
    /// Its log view state and selection.
    pub traffic: &'a mut TrafficState,
    /// The quick commands shown for every session.
    pub quick_commands: &'a mut Vec<QuickCommand>,
    /// The Scenarios tab.
    pub scenarios: &'a mut scenarios::ScenarioPanel,
    /// The Load test tab.
    pub load: &'a mut load::LoadPanel,
}

/// The application.
pub struct App {
    link: EngineLink,
    /// All sessions and their logs.
    pub sessions: Sessions,
    /// The session shown on the right.
    pub selected: Option<SessionId>,
    /// Log and send settings.
    pub view: ViewSettings,
    /// The session list's own state: create form, rename field, delete confirmation.
    pub list: SessionList,
    /// What the layout keeps for this run: the settings popup, the expanded session strip.
    pub layout: LayoutState,
    /// This process's directory for logs spilled to disk (see [`App::use_spill_dir`]);
    /// `None`: logs stay in memory.
    pub spill_dir: Option<std::sync::Arc<crate::model::log::SpillDir>>,
    /// Per-session send box and tools state.
    pub views: HashMap<SessionId, SessionView>,
    /// Messages for the user (settings problems), shown until dismissed.
    pub notices: Vec<Notice>,
    /// Per-session log view state: framing, filter, search, pause, capture, rates.
    pub traffic: HashMap<SessionId, TrafficState>,
    /// Quick commands shown for every session.
    pub quick_commands: Vec<QuickCommand>,
    /// This machine's addresses (no loopback), shown in the first-run hint; read once.
    pub local_addresses: Vec<std::net::IpAddr>,
    /// Total receive/send rates shown in the status bar.
    pub rates: rates::RateMeter,
    /// The Scenarios tab: the scenario edited, its file, its run.
    pub scenarios: scenarios::ScenarioPanel,
    /// The Load test tab: its form, its run.
    pub load: load::LoadPanel,
    /// Where proposed capture and export files go (made owner-only when first used); `None`
    /// without a home directory.
    pub files_dir: Option<std::path::PathBuf>,
    store: Option<ConfigStore>,
    saved: Option<Config>,
    /// When the config was last written, to space out saves while a window or panel is
    /// being dragged to a new size.
    last_save: Option<std::time::Instant>,
    /// Since when the frames have held engine events back for a log's disk (see
    /// [`Backlog::ForDisk`]); `None` while they take them.
    disk_wait_since: Option<std::time::Instant>,
}

impl App {
    /// An app for `ctx` with settings from `store` and `startup` sessions (started) after the
    /// saved ones. Its engine starts with the first session started (restored running, or
    /// given) or job, so an idle window without sessions runs no engine threads.
    pub fn start(
        ctx: &egui::Context,
        store: Option<ConfigStore>,
        startup: Vec<SessionSpec>,
    ) -> Self {
        let spill_base = crate::platform::cache_dir().map(|dir| dir.join("spill"));
        Self::start_spilling_in(ctx, store, startup, spill_base)
    }

    /// [`App::start`] with logs spilling into `spill_base` rather than the user's cache
    /// directory (tests give a temporary directory of their own; `None`: in memory only).
    pub fn start_spilling_in(
        ctx: &egui::Context,
        store: Option<ConfigStore>,
        startup: Vec<SessionSpec>,
        spill_base: Option<std::path::PathBuf>,
    ) -> Self {
        // Generated files (a TLS server's certificate) go next to the settings.
        let settings = EngineSettings {
            files_dir: crate::private_files::generated_dir(store.as_ref()),
        };
        let mut app = Self::new(EngineLink::on_demand(ctx, settings), store, startup);
        app.use_spill_dir(spill_base);
        app
    }

    /// Spills logs past their memory bound into a directory of this process's in `base`
    /// (those of processes that are gone are removed in the background), as the settings
    /// say. Without a base, or when the directory cannot be made, logs stay in memory and a
    /// notice says why.
    pub fn use_spill_dir(&mut self, base: Option<std::path::PathBuf>) {
        let Some(base) = base else {
            return;
        };
        match crate::model::log::SpillDir::open(&base) {
            Ok(dir) => {
                self.spill_dir = Some(std::sync::Arc::new(dir));
                // Started after the open: this process's directory is locked, never swept.
                // Without a thread the leftovers wait for the next start.
                crate::model::spill_dir::sweep_stale(base).ok();
            }
            Err(e) => self.notices.push(Notice::SpillUnavailable {
                path: base,
                reason: e.to_string(),
            }),
        }
        self.apply_spill();
    }

    /// Hands the spill settings to every log.
    fn apply_spill(&mut self) {
        let spill = self
            .spill_dir
            .as_ref()
            .filter(|_| self.view.log_spill)
            .map(|dir| crate::model::log::SpillConfig {
                dir: std::sync::Arc::clone(dir),
                quota_bytes: u64::from(self.view.log_spill_quota_gib) << 30,
            });
        self.sessions.set_spill(spill);
    }

    /// An app over an existing link.
    pub fn new(link: EngineLink, store: Option<ConfigStore>, startup: Vec<SessionSpec>) -> Self {
        let files_dir = crate::private_files::saved_files_dir(store.as_ref());
        let mut app = Self {
            link,
            sessions: Sessions::default(),
            selected: None,
            view: ViewSettings::default(),
            list: SessionList::default(),
            layout: LayoutState::default(),
            spill_dir: None,
            views: HashMap::new(),
            notices: Vec::new(),
            traffic: HashMap::new(),
            quick_commands: Vec::new(),
            local_addresses: local_addresses(),
            rates: rates::RateMeter::default(),
            disk_wait_since: None,
            scenarios: scenarios::ScenarioPanel::default(),
            load: load::LoadPanel::default(),
            files_dir,
            store,
            saved: None,
            last_save: None,
        };
        let loaded = app.store.as_ref().map(ConfigStore::load);
        if let Some(loaded) = loaded {
            app.notices.extend(loaded.notice.map(Notice::Config));
            app.restore(&loaded.config);
            app.saved = Some(loaded.config);
        }
        for spec in startup {
            let existing = app.sessions.iter().find(|s| s.spec == spec).map(|s| s.id);
            let id = existing.unwrap_or_else(|| app.create_session(spec));
            if app.sessions.get(id).is_some_and(|s| !s.is_active()) {
                app.start_session(id);
            }
            app.selected = app.selected.or(Some(id));
        }
        if app.selected.is_none() {
            app.selected = app.sessions.iter().next().map(|s| s.id);
        }
        app
    }

    /// A new session in the model with its log view state; its settings are those of the
    /// last used session.
    fn create_session(&mut self, spec: SessionSpec) -> SessionId {
        let id = self.sessions.create(spec);
        self.traffic
            .insert(id, TrafficState::new(self.files_dir.as_deref()));
        self.view_of(id).settings = self.view.new_session;
        id
    }

    /// The encoding and send options of session `id`.
    pub fn settings_of(&self, id: SessionId) -> SessionSettings {
        self.views
            .get(&id)
            .map_or(self.view.new_session, |v| v.settings)
    }

    /// Lists the serial ports when the form just opened is a serial port's and none are
    /// listed yet (Refresh lists them again).
    fn list_serial_ports_for_form(&mut self) {
        let serial = self
            .list
            .create_form
            .as_ref()
            .is_some_and(|f| f.kind == SessionKind::Serial);
        if serial && !self.list.serial_ports.answered {
            self.list.serial_ports.refresh();
        }
    }

    /// Takes the serial port listing's answer; a new serial form still showing the default
    /// path proposes the first port listed.
    fn poll_serial_ports(&mut self, ctx: &egui::Context) {
        let ports = &mut self.list.serial_ports;
        if !ports.listing() {
            return;
        }
        if !ports.poll() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
            return;
        }
        let first = ports.listed.first().map(|p| p.path.clone());
        if let Some(form) = &mut self.list.create_form
            && form.kind == SessionKind::Serial
            && form.editing.is_none()
            && form.host == form.kind.default_host()
            && let Some(first) = first
        {
            form.host = first;
        }
    }

    /// The create form for `kind`, proposing a port none of our sessions holds.
    pub fn create_form(&self, kind: SessionKind) -> CreateForm {
        let mut form = CreateForm::new(kind);
        form.port = self.proposed_port(kind).to_string();
        form
    }

    /// The port the create form proposes: for a server, the first from 6001 up that none of
    /// our servers of the same transport (TCP or UDP) holds; for a client, the port of our
    /// newest server it could talk to, else 6001.
    pub fn proposed_port(&self, kind: SessionKind) -> u16 {
        let same_transport = |other: SessionKind| other.is_udp() == kind.is_udp();
        let servers = || {
            self.sessions
                .iter()
                .filter(|s| s.spec.kind.is_server() && same_transport(s.spec.kind))
        };
        if !kind.is_server() {
            let newest = servers().last().map(|s| s.spec.port);
            return newest.filter(|p| *p != 0).unwrap_or(FIRST_PROPOSED_PORT);
        }
        let held: std::collections::HashSet<u16> = servers().map(|s| s.spec.port).collect();
        (FIRST_PROPOSED_PORT..=u16::MAX)
            .find(|p| !held.contains(p))
            .unwrap_or(0)
    }

    /// The log view state of session `id`.
    pub fn traffic_of(&mut self, id: SessionId) -> &mut TrafficState {
        let files_dir = self.files_dir.as_deref();
        self.traffic
            .entry(id)
            .or_insert_with(|| TrafficState::new(files_dir))
    }

    fn restore(&mut self, config: &Config) {
        self.view = config.view;
        self.quick_commands = config.quick_commands.clone();
        for saved in &config.sessions {
            match saved.spec.parse::<SessionSpec>() {
                Ok(spec) => {
                    let id = self.create_session(spec);
                    self.view_of(id).tools = SendTools::from_saved(saved);
                    self.view_of(id).name.clone_from(&saved.name);
                    self.view_of(id).settings = saved.settings;
                    self.restore_framing(id, &saved.framing);
                    self.apply_reactions(id);
                    if saved.running {
                        self.start_session(id);
                    }
                }
                Err(error) => self.notices.push(Notice::SavedSessionSkipped {
                    spec: saved.spec.clone(),
                    error,
                }),
            }
        }
    }

    /// Sets a restored session's framing from its saved text (`len:u32le`, ...); an
    /// unreadable one is reported as a notice and the session shows raw reads.
    pub fn restore_framing(&mut self, id: SessionId, saved: &str) {
        if saved.trim().is_empty() {
            return;
        }
        match saved.parse() {
            Ok(framing) => self.traffic_of(id).set_framing(framing),
            Err(e) => self.notices.push(Notice::SavedFramingUnused(e)),
        }
    }

    /// The settings as they are now.
    pub fn config(&self) -> Config {
        Config {
            sessions: self
                .sessions
                .iter()
                .map(|s| {
                    let tools = self.views.get(&s.id).map(|v| &v.tools);
                    SavedSession {
                        spec: s.spec.to_string(),
                        running: s.is_active(),
                        quick_commands: tools.map(|t| t.quick_commands.clone()).unwrap_or_default(),
                        auto_reply: tools.map(|t| t.rules.clone()).unwrap_or_default(),
                        on_connect: tools.map(|t| t.on_connect.clone()).unwrap_or_default(),
                        framing: self
                            .traffic
                            .get(&s.id)
                            .map(|t| t.log_view.framing().to_string())
                            .unwrap_or_default(),
                        name: self
                            .views
                            .get(&s.id)
                            .map(|v| v.name.clone())
                            .unwrap_or_default(),
                        settings: self.settings_of(s.id),
                    }
                })
                .collect(),
            view: self.view,
            quick_commands: self.quick_commands.clone(),
            ..Config::default()
        }
    }

    fn save_if_changed(&mut self, ctx: &egui::Context) {
        let Some(store) = &self.store else {
            return;
        };
        let current = self.config();
        if self.saved.as_ref() == Some(&current) {
            return;
        }
        // A drag resizes the window or a panel on every frame: a size change alone is
        // written at most every SIZE_SAVE_INTERVAL (the last size always lands).
        let since = self.last_save.map(|at| at.elapsed());
        if let Some(since) = since.filter(|s| *s < SIZE_SAVE_INTERVAL)
            && let Some(saved) = &self.saved
            && only_sizes_differ(saved, &current)
        {
            ctx.request_repaint_after(SIZE_SAVE_INTERVAL - since);
            return;
        }
        if let Err(e) = store.save(&current) {
            let reason = match e {
                crate::config::ConfigError::Write { source, .. } => source.to_string(),
                crate::config::ConfigError::Encode(e) => e.to_string(),
            };
            self.notices.push(Notice::SaveFailed {
                path: store.path(),
                reason,
            });
        }
        self.saved = Some(current);
        self.last_save = Some(std::time::Instant::now());
    }

    /// Everything the window does each frame besides drawing: applies engine events, advances
    /// every session's log view, rates, exports, captures and file jobs, hands changed
    /// framings to the engine and saves changed settings. Asks `ctx` for another frame when
    /// some of it has more to do.
    pub fn run_logic(&mut self, ctx: &egui::Context) {
        let backlog = self.drain_events();
        match backlog {
            Backlog::Behind => ctx.request_repaint(),
            Backlog::Waiting | Backlog::ForDisk => ctx.request_repaint_after(REPAINT_INTERVAL),
            Backlog::Empty => {}
        }
        self.disk_wait_since = match backlog {
            Backlog::ForDisk => self.disk_wait_since.or_else(|| Some(Instant::now())),
            _ => None,
        };
        self.poll_file_dialogs();
        self.poll_serial_ports(ctx);
        self.poll_quick_files(ctx);
        self.poll_scenario_files(ctx);
        self.scenarios.refresh();
        self.load.poll_csv();
        let selected = self.selected.and_then(|id| self.sessions.get(id));
        self.load.propose_target(selected.map(|s| (s.id, &s.spec)));
        // What the session in use is set to, a new session starts from.
        if let Some(settings) = self.selected.and_then(|id| self.views.get(&id)) {
            self.view.new_session = settings.settings;
        }
        self.rates.sample(&self.sessions);
        if self.rates.running() {
            ctx.request_repaint_after(std::time::Duration::from_secs(1));
        }
        traffic::background(ctx, self);
        // After the views' scans: unmaps the spilled segments they read least recently.
        self.sessions.maintain();
        self.sync_reply_framing();
        self.save_if_changed(ctx);
    }

    /// How long the frames have held engine events back for a log's disk that is behind (a
    /// stuck or slow disk), once that is [`DISK_WAIT_SHOWN_AFTER`] or more: the status bar
    /// says so. A flood into a log spilling to a sound disk waits for it only briefly.
    pub fn disk_wait(&self) -> Option<Duration> {
        self.disk_wait_since
            .map(|since| since.elapsed())
            .filter(|waited| *waited >= DISK_WAIT_SHOWN_AFTER)
    }

    /// Applies pending engine events to the model (at most [`MAX_EVENTS_PER_FRAME`], for
    /// at most [`FRAME_INTAKE_BUDGET`]); tells what is left.
    pub fn drain_events(&mut self) -> Backlog {
        let traffic = &self.traffic;
        let (views, scenarios, load) = (&mut self.views, &mut self.scenarios, &mut self.load);
        self.link.intake.take_frame(
            &mut self.sessions,
            // Capture is fed from the event stream, so it keeps what the log may evict.
            |id| traffic.get(&id).and_then(|t| t.capture.as_ref()),
            |event| {
                send_tools::track(views, event);
                if let Event::Scenario { id, job, update } = event {
                    scenarios.track(*id, *job, update.clone());
                }
                if let Event::StartFailed { id, reason, .. } = event {
                    scenarios.track_start_failure(*id, reason);
                }
                if let Event::Load { id, job, update } = event {
                    load.track(*id, *job, update);
                }
            },
        )
    }

    /// What session `id`'s panels draw, borrowed apart: the session, the window's view
    /// settings, its send box state, its log view state and the global quick commands.
    pub fn session_parts(&mut self, id: SessionId) -> Option<SessionParts<'_>> {
        let session = self.sessions.get(id)?;
        let files_dir = self.files_dir.as_deref();
        Some(SessionParts {
            id,
            session,
            view: &mut self.view,
            session_view: self.views.entry(id).or_default(),
            traffic: self
                .traffic
                .entry(id)
                .or_insert_with(|| TrafficState::new(files_dir)),
            quick_commands: &mut self.quick_commands,
            scenarios: &mut self.scenarios,
            load: &mut self.load,
        })
    }

    /// The send box state of a session.
    pub fn view_of(&mut self, id: SessionId) -> &mut SessionView {
        self.views.entry(id).or_default()
    }

    /// Queues a command for the engine, starting the engine if it has not started (a
    /// notice says when it cannot).
    pub(crate) fn command(&mut self, command: Command) {
        if let Err(crate::engine::EngineError::Start(e)) = self.link.send(command) {
            self.notices.push(Notice::EngineUnavailable {
                reason: e.to_string(),
            });
        }
    }

    /// Whether the engine has been started: by the first command that needs it (a session
    /// started, restored running, or a job), not by opening the window.
    pub fn engine_started(&self) -> bool {
        self.link.engine_started()
    }

    fn start_session(&mut self, id: SessionId) {
        let Some(session) = self.sessions.get_mut(id) else {
            return;
        };
        session.mark_starting();
        let spec = session.spec.clone();
        self.command(Command::Start { id, spec });
    }

    /// Carries out what the user asked for.
    pub fn perform(&mut self, action: Action) {
        match action {
            Action::OpenCreateForm(kind) => {
                self.list.create_form = Some(self.create_form(kind));
                self.list_serial_ports_for_form();
            }
            Action::OpenEditForm(id) => {
                self.list.create_form =
                    self.sessions.get(id).map(|s| CreateForm::edit(id, &s.spec));
                self.list_serial_ports_for_form();
            }
            Action::RefreshSerialPorts => self.list.serial_ports.refresh(),
            Action::Serial(id, control) => self.command(Command::SerialControl { id, control }),
            Action::CancelCreateForm => self.list.create_form = None,
            Action::CreateSession(spec) => {
                self.list.create_form = None;
                let id = self.create_session(*spec);
                self.start_session(id);
                self.select_and_show(id);
            }
            Action::EditSession(id, spec) => {
                self.list.create_form = None;
                let Some(session) = self.sessions.get_mut(id) else {
                    return;
                };
                let stopped = session.state == crate::model::SessionState::Stopped;
                session.spec = *spec;
                // Starting again stops the old task first (the engine waits for its sockets).
                if !stopped {
                    self.start_session(id);
                }
                self.select_and_show(id);
            }
            Action::Start(id) => self.start_session(id),
            Action::Stop(id) => self.command(Command::Stop { id }),
            Action::Delete(id) => {
                self.list.confirm_delete = None;
                // Stops it if it runs and drops its rules in the engine; it starts no engine
                // that is not running (the command waits for its start).
                self.command(Command::Forget { id });
                self.sessions.remove(id);
                self.views.remove(&id);
                self.traffic.remove(&id);
                if self.selected == Some(id) {
                    self.selected = self.sessions.iter().next().map(|s| s.id);
                }
            }
            Action::Select(id) => self.selected = Some(id),
            Action::SelectPeer(id, peer) => {
                self.selected = Some(id);
                self.view_of(id).target = SendTarget::Peer(peer);
            }
            Action::Disconnect(id, peer) => self.command(Command::DisconnectPeer { id, peer }),
            Action::Send(id) => self.send_box_payload(id),
            Action::ClearLog(id) => {
                if let Some(session) = self.sessions.get_mut(id) {
                    session.log.clear();
                }
                if let Some(traffic) = self.traffic.get_mut(&id) {
                    traffic.log_view.log_cleared();
                    traffic.selected_entry = None;
                    traffic.selection_extent = None;
                }
            }
            Action::DismissNotice(index) => {
                if index < self.notices.len() {
                    self.notices.remove(index);
                }
            }
            Action::Tool(id, action) => self.perform_tool(id, action),
            Action::Relay(id, action) => self.perform_relay(id, action),
            Action::ConfirmDelete(id) => self.list.confirm_delete = Some(id),
            Action::CancelDelete => self.list.confirm_delete = None,
            Action::Duplicate(id) => self.duplicate(id),
            Action::BeginRename(id) => {
                let name = self.views.get(&id).map(|v| v.name.clone());
                self.list.renaming = Some((id, name.unwrap_or_default()));
            }
            Action::CancelRename => self.list.renaming = None,
            Action::Rename(id, name) => {
                self.view_of(id).name = name.trim().to_string();
                self.list.renaming = None;
            }
            Action::SetTheme(theme) => self.view.theme = theme,
            Action::SetLogSpill(on) => {
                self.view.log_spill = on;
                self.apply_spill();
            }
            Action::SetSpillQuota(gib) => {
                let range = crate::config::SPILL_QUOTAS_GIB;
                self.view.log_spill_quota_gib = gib.clamp(*range.start(), *range.end());
                self.apply_spill();
            }
            Action::SetLanguage(language) => self.view.language = Some(language),
            Action::SetFontSize(size) => {
                let range = crate::config::FONT_SIZES;
                self.view.font_size = size.clamp(*range.start(), *range.end());
            }
            Action::ShowTab(tab) => {
                self.view.tools_tab = tab;
                if self.layout.column_narrow {
                    self.layout.column_popup = true;
                } else {
                    self.view.send_tools_open = true;
                }
            }
            Action::ToggleColumn => {
                if self.layout.column_narrow {
                    self.layout.column_popup = !self.layout.column_popup;
                } else {
                    self.view.send_tools_open = !self.view.send_tools_open;
                }
            }
            Action::ToggleSessions => {
                if self.layout.sessions_narrow {
                    self.layout.sessions_expanded = !self.layout.sessions_expanded;
                } else {
                    self.view.sessions_open = !self.view.sessions_open;
                }
            }
            Action::Traffic(id, action) => self.perform_traffic(id, action),
            Action::Scenario(action) => self.perform_scenario(action),
            Action::Load(action) => self.perform_load(action),
        }
    }

    /// A stopped copy of a session with its send tools, framing and name ("name (copy)").
    fn duplicate(&mut self, id: SessionId) {
        let Some(spec) = self.sessions.get(id).map(|s| s.spec.clone()) else {
            return;
        };
        let copy = self.create_session(spec);
        if let Some(view) = self.views.get(&id) {
            let saved = SavedSession {
                quick_commands: view.tools.quick_commands.clone(),
                auto_reply: view.tools.rules.clone(),
                on_connect: view.tools.on_connect.clone(),
                ..SavedSession::default()
            };
            let name = if view.name.is_empty() {
                String::new()
            } else {
                format!("{} (2)", view.name)
            };
            let copy_view = self.view_of(copy);
            copy_view.tools = SendTools::from_saved(&saved);
            copy_view.name = name;
            self.apply_reactions(copy);
        }
        if let Some(framing) = self.traffic.get(&id).map(|t| t.log_view.framing()) {
            self.traffic_of(copy).set_framing(framing);
        }
        self.view_of(copy).settings = self.settings_of(id);
        self.select_and_show(copy);
    }

    /// Selects session `id` and has the list scroll it into view.
    fn select_and_show(&mut self, id: SessionId) {
        self.selected = Some(id);
        self.list.scroll_to = Some(id);
    }

    /// The language of the window (English until one is chosen).
    pub fn language(&self) -> Language {
        self.view.language.unwrap_or_default()
    }

    /// Sends the send box's content through the pipeline to every target and remembers it.
    fn send_box_payload(&mut self, id: SessionId) {
        let options = self.settings_of(id).send_options();
        let values = self.scenarios.var_values();
        let view = self.view_of(id);
        let text = view.send_text.clone();
        let seq = view.tools.send_box_sent + 1;
        match expand(&text, &options, &values, seq) {
            Ok(data) => {
                view.send_error = None;
                view.tools.remember(&text);
                view.tools.send_box_sent = seq;
                let targets = send_tools::targets(view);
                // A relay's send box injects, toward the target or the client.
                let leg = view.relay.leg;
                let relay = self
                    .sessions
                    .get(id)
                    .is_some_and(|s| s.spec.kind.is_relay());
                for target in targets {
                    let data = data.clone();
                    if relay {
                        self.command(Command::Inject {
                            id,
                            target,
                            leg,
                            data,
                        });
                    } else {
                        self.command(Command::Send { id, target, data });
                    }
                }
            }
            Err(e) => view.send_error = Some(Problem::Send(e)),
        }
    }
}

/// The machine's non-loopback interface addresses, IPv4 first; empty when they cannot be
/// read. Only read, never used to send anything.
fn local_addresses() -> Vec<std::net::IpAddr> {
    let mut addresses: Vec<std::net::IpAddr> = if_addrs::get_if_addrs()
        .map(|list| {
            list.into_iter()
                .filter(|i| !i.is_loopback())
                .map(|i| i.ip())
                // fe80:: addresses need an interface scope to be reached: not one to give out.
                .filter(|ip| !matches!(ip, std::net::IpAddr::V6(v6) if v6.is_unicast_link_local()))
                .collect()
        })
        .unwrap_or_default();
    addresses.sort_by_key(|a| (a.is_ipv6(), *a));
    addresses.dedup();
    addresses
}

/// The first port the create form proposes.
const FIRST_PROPOSED_PORT: u16 = 6001;

/// How long the frames hold events back for a log's disk before the status bar says so:
/// longer than the short waits a flood into a log spilling to a sound disk makes.
pub const DISK_WAIT_SHOWN_AFTER: Duration = Duration::from_secs(1);

/// How often a change of window or panel size alone is written to the config.
const SIZE_SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether two configs differ only in the window size and panel sizes.
fn only_sizes_differ(a: &Config, b: &Config) -> bool {
    let without_sizes = |c: &Config| {
        let mut c = c.clone();
        c.view.window_size = None;
        c.view.panels = crate::config::PanelSizes::default();
        c
    };
    without_sizes(a) == without_sizes(b)
}
