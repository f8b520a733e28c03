//! The window's application state and the glue between it and the engine:
//! [`App::logic`](eframe::App::logic) drains engine events into the model, the `*_ui`
//! functions in [`crate::ui`] draw it and return [`Action`]s, and [`App::perform`] turns
//! those into commands and state changes. Settings are saved whenever they change.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{Config, ConfigStore, QuickCommand, SavedSession, ThemeChoice, ViewSettings};
use crate::engine::{EngineError, EngineHandle, EngineSettings, EventSink, InFlight};
use crate::i18n::Language;
use crate::model::Sessions;
use crate::protocol::{Command, Event, PeerId, SendTarget, SessionId};
use crate::send_tools::{SendTools, ToolAction};
use crate::spec::{SessionKind, SessionSpec};
use crate::ui;

/// Most events applied per frame, so a flood cannot stall a frame; the rest wait for the next.
pub const MAX_EVENTS_PER_FRAME: usize = 100_000;

/// Shortest time between two repaints caused by traffic (about 60 Hz).
const REPAINT_INTERVAL: Duration = Duration::from_millis(15);

/// The UI's two channel ends, and the engine thread if this link owns it.
pub struct EngineLink {
    /// Commands to the engine (never blocks).
    pub commands: mpsc::UnboundedSender<Command>,
    /// Events from the engine (drained with `try_recv`).
    pub events: crossbeam_channel::Receiver<Event>,
    /// Set by the engine's waker once it has asked for a repaint; cleared before each drain.
    wake_pending: Arc<AtomicBool>,
    /// Received bytes not yet applied: told back so the engine's readers pause when the
    /// window falls behind instead of piling bytes up in the channel.
    in_flight: InFlight,
    /// Owned so that dropping the link (the app) shuts the engine down.
    _engine: Option<EngineHandle>,
}

impl EngineLink {
    /// Starts an engine whose events wake `ctx`.
    ///
    /// # Errors
    /// [`EngineError`] when the runtime cannot start.
    pub fn spawn(ctx: &egui::Context, settings: EngineSettings) -> Result<Self, EngineError> {
        let (event_tx, events) = crossbeam_channel::unbounded();
        let ctx = ctx.clone();
        let wake_pending = Arc::new(AtomicBool::new(false));
        let pending = Arc::clone(&wake_pending);
        // One wake-up per frame at most: a flood of events becomes one repaint, at most
        // one every REPAINT_INTERVAL, instead of a repaint request per packet.
        let wake = Arc::new(move || {
            if !pending.swap(true, Ordering::AcqRel) {
                ctx.request_repaint_after(REPAINT_INTERVAL);
            }
        });
        let in_flight = InFlight::default();
        let sink = EventSink::new(event_tx, wake).with_in_flight(in_flight.clone());
        let engine = EngineHandle::spawn_with(sink, settings)?;
        Ok(Self {
            commands: engine.sender(),
            events,
            wake_pending,
            in_flight,
            _engine: Some(engine),
        })
    }

    /// A link over channels someone else serves (tests that watch the commands).
    pub fn from_channels(
        commands: mpsc::UnboundedSender<Command>,
        events: crossbeam_channel::Receiver<Event>,
    ) -> Self {
        Self {
            commands,
            events,
            wake_pending: Arc::new(AtomicBool::new(false)),
            in_flight: InFlight::default(),
            _engine: None,
        }
    }

    fn send(&self, command: Command) {
        self.commands.send(command).ok(); // engine is gone; the window shows sessions as they were
    }
}

/// What the user asked for in one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the create form for a kind.
    OpenCreateForm(SessionKind),
    /// Close the create form.
    CancelCreateForm,
    /// Create a session and start it.
    CreateSession(SessionSpec),
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
    Traffic(SessionId, ui::traffic_view::TrafficAction),
    /// A send-tools action (quick commands, periodic/file send, auto-reply) of a session.
    Tool(SessionId, ToolAction),
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
    /// Switch the UI language.
    SetLanguage(Language),
}

/// The create-session form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateForm {
    /// The kind being created.
    pub kind: SessionKind,
    /// Host field.
    pub host: String,
    /// Port field.
    pub port: String,
    /// Options field, written as in a spec (`insecure,timeout=3000`); shown only for kinds
    /// that take options.
    pub options: String,
    /// Why the last submit was refused.
    pub error: Option<String>,
}

impl CreateForm {
    /// A form with the kind's defaults (servers 0.0.0.0:6001, clients 127.0.0.1:6001).
    pub fn new(kind: SessionKind) -> Self {
        Self {
            kind,
            host: kind.default_host().to_string(),
            port: "6001".to_string(),
            options: String::new(),
            error: None,
        }
    }
}

/// Per-session state of the right panel.
#[derive(Debug)]
pub struct SessionView {
    /// The send box's text.
    pub send_text: String,
    /// Where Send goes.
    pub target: SendTarget,
    /// The log entry shown in the detail pane (the anchor of a range selection).
    pub selected_entry: Option<u64>,
    /// The other end of a Shift+click range selection; `None` when one entry is selected.
    pub selection_extent: Option<u64>,
    /// Why the send box's content cannot be sent (shown inline).
    pub send_error: Option<String>,
    /// History, periodic/file sends, quick commands, auto-reply.
    pub tools: SendTools,
    /// The name shown in the session list instead of the address; empty means none.
    pub name: String,
}

impl Default for SessionView {
    fn default() -> Self {
        Self {
            send_text: String::new(),
            target: SendTarget::All,
            selected_entry: None,
            selection_extent: None,
            send_error: None,
            tools: SendTools::default(),
            name: String::new(),
        }
    }
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
    /// The create form, when open.
    pub create_form: Option<CreateForm>,
    /// Per-session right-panel state.
    pub views: HashMap<SessionId, SessionView>,
    /// Messages for the user (settings problems), shown until dismissed.
    pub notices: Vec<String>,
    /// Per-session log view state: framing, filter, search, pause, capture, rates.
    pub traffic: HashMap<SessionId, ui::traffic_view::TrafficState>,
    /// Quick commands shown for every session.
    pub quick_commands: Vec<QuickCommand>,
    /// The session whose deletion waits for a confirmation.
    pub confirm_delete: Option<SessionId>,
    /// The session being renamed and the name typed so far.
    pub renaming: Option<(SessionId, String)>,
    /// This machine's addresses (no loopback), shown in the first-run hint; read once.
    pub local_addresses: Vec<std::net::IpAddr>,
    /// Total receive/send rates shown in the status bar.
    pub rates: ui::status_bar::RateMeter,
    store: Option<ConfigStore>,
    saved: Option<Config>,
    /// When the config was last written, to space out saves while a window or panel is
    /// being dragged to a new size.
    last_save: Option<std::time::Instant>,
}

impl App {
    /// Starts an engine for `ctx`, loads settings from `store`, and creates `startup`
    /// sessions (started) after the saved ones.
    ///
    /// # Errors
    /// [`EngineError`] when the engine cannot start.
    pub fn start(
        ctx: &egui::Context,
        store: Option<ConfigStore>,
        startup: Vec<SessionSpec>,
    ) -> Result<Self, EngineError> {
        // Generated files (a TLS server's certificate) go next to the settings.
        let settings = EngineSettings {
            files_dir: crate::private_files::generated_dir(store.as_ref()),
        };
        Ok(Self::new(EngineLink::spawn(ctx, settings)?, store, startup))
    }

    /// An app over an existing link.
    pub fn new(link: EngineLink, store: Option<ConfigStore>, startup: Vec<SessionSpec>) -> Self {
        let mut app = Self {
            link,
            sessions: Sessions::default(),
            selected: None,
            view: ViewSettings::default(),
            create_form: None,
            views: HashMap::new(),
            notices: Vec::new(),
            traffic: HashMap::new(),
            quick_commands: Vec::new(),
            confirm_delete: None,
            renaming: None,
            local_addresses: local_addresses(),
            rates: ui::status_bar::RateMeter::default(),
            store,
            saved: None,
            last_save: None,
        };
        let loaded = app.store.as_ref().map(ConfigStore::load);
        if let Some(loaded) = loaded {
            app.notices.extend(loaded.notice);
            app.restore(&loaded.config);
            app.saved = Some(loaded.config);
        }
        for spec in startup {
            let existing = app.sessions.iter().find(|s| s.spec == spec).map(|s| s.id);
            let id = existing.unwrap_or_else(|| app.sessions.create(spec));
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

    fn restore(&mut self, config: &Config) {
        self.view = config.view;
        self.quick_commands = config.quick_commands.clone();
        for saved in &config.sessions {
            match saved.spec.parse::<SessionSpec>() {
                Ok(spec) => {
                    let id = self.sessions.create(spec);
                    self.view_of(id).tools = SendTools::from_saved(saved);
                    self.view_of(id).name.clone_from(&saved.name);
                    ui::traffic_view::restore_framing(self, id, &saved.framing);
                    self.apply_reactions(id);
                    if saved.running {
                        self.start_session(id);
                    }
                }
                Err(e) => {
                    let notice = crate::i18n::trf(
                        self.language(),
                        crate::i18n::Text::SavedSessionSkipped,
                        &[
                            &saved.spec,
                            &crate::i18n::errors::spec_error_text(self.language(), &e),
                        ],
                    );
                    self.notices.push(notice);
                }
            }
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
            let notice =
                crate::i18n::trf(self.language(), crate::i18n::Text::ConfigSaveFailed, &[&e]);
            self.notices.push(notice);
        }
        self.saved = Some(current);
        self.last_save = Some(std::time::Instant::now());
    }

    /// Applies pending engine events to the model (at most [`MAX_EVENTS_PER_FRAME`]);
    /// returns whether more are waiting.
    pub fn drain_events(&mut self) -> bool {
        // Re-arm the waker first: an event sent after this point wakes the UI again.
        self.link.wake_pending.store(false, Ordering::Release);
        for event in self.link.events.try_iter().take(MAX_EVENTS_PER_FRAME) {
            self.link.in_flight.taken(event.received_len());
            crate::send_tools::track(&mut self.views, &event);
            // Capture is fed from the event stream, so it keeps what the log may evict.
            if let Some(capture) = self
                .traffic
                .get(&event.session())
                .and_then(|t| t.capture.as_ref())
            {
                capture.feed(&event);
            }
            self.sessions.apply(event);
        }
        !self.link.events.is_empty()
    }

    /// The right-panel state of a session.
    pub fn view_of(&mut self, id: SessionId) -> &mut SessionView {
        self.views.entry(id).or_default()
    }

    /// Queues a command for the engine.
    pub(crate) fn command(&self, command: Command) {
        self.link.send(command);
    }

    fn start_session(&mut self, id: SessionId) {
        let Some(session) = self.sessions.get_mut(id) else {
            return;
        };
        session.mark_starting();
        let spec = session.spec.clone();
        self.link.send(Command::Start { id, spec });
    }

    /// Carries out what the user asked for.
    pub fn perform(&mut self, action: Action) {
        match action {
            Action::OpenCreateForm(kind) => self.create_form = Some(CreateForm::new(kind)),
            Action::CancelCreateForm => self.create_form = None,
            Action::CreateSession(spec) => {
                self.create_form = None;
                let id = self.sessions.create(spec);
                self.start_session(id);
                self.selected = Some(id);
            }
            Action::Start(id) => self.start_session(id),
            Action::Stop(id) => self.link.send(Command::Stop { id }),
            Action::Delete(id) => {
                self.confirm_delete = None;
                self.link.send(Command::Stop { id });
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
            Action::Disconnect(id, peer) => self.link.send(Command::DisconnectPeer { id, peer }),
            Action::Send(id) => self.send_from_box(id),
            Action::ClearLog(id) => {
                if let Some(session) = self.sessions.get_mut(id) {
                    session.log.clear();
                }
                if let Some(traffic) = self.traffic.get_mut(&id) {
                    traffic.log_view.log_cleared();
                }
                let view = self.view_of(id);
                view.selected_entry = None;
                view.selection_extent = None;
            }
            Action::DismissNotice(index) => {
                if index < self.notices.len() {
                    self.notices.remove(index);
                }
            }
            Action::Tool(id, action) => self.perform_tool(id, action),
            Action::ConfirmDelete(id) => self.confirm_delete = Some(id),
            Action::CancelDelete => self.confirm_delete = None,
            Action::Duplicate(id) => self.duplicate(id),
            Action::BeginRename(id) => {
                let name = self.views.get(&id).map(|v| v.name.clone());
                self.renaming = Some((id, name.unwrap_or_default()));
            }
            Action::CancelRename => self.renaming = None,
            Action::Rename(id, name) => {
                self.view_of(id).name = name.trim().to_string();
                self.renaming = None;
            }
            Action::SetTheme(theme) => self.view.theme = theme,
            Action::SetLanguage(language) => self.view.language = Some(language),
            Action::Traffic(id, action) => ui::traffic_view::perform(self, id, action),
        }
    }

    /// A stopped copy of a session with its send tools, framing and name ("name (copy)").
    fn duplicate(&mut self, id: SessionId) {
        let Some(spec) = self.sessions.get(id).map(|s| s.spec.clone()) else {
            return;
        };
        let copy = self.sessions.create(spec);
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
        if let Some(framing) = self
            .traffic
            .get(&id)
            .map(|t| t.log_view.framing().to_string())
        {
            ui::traffic_view::restore_framing(self, copy, &framing);
        }
        self.selected = Some(copy);
    }

    /// The language of the window (English until one is chosen).
    pub fn language(&self) -> Language {
        self.view.language.unwrap_or_default()
    }

    fn send_from_box(&mut self, id: SessionId) {
        self.send_box_payload(id);
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

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.drain_events() {
            ctx.request_repaint_after(REPAINT_INTERVAL);
        }
        self.poll_file_dialogs();
        self.save_if_changed(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let size = ui
            .ctx()
            .input(|i| i.viewport().inner_rect.map(|r| r.size()));
        if let Some(size) = size.filter(|s| s.x >= 1.0 && s.y >= 1.0) {
            self.view.window_size = Some((size.x.round() as u32, size.y.round() as u32));
        }
        let actions = ui::window_ui(ui, self);
        for action in actions {
            self.perform(action);
        }
        self.sync_reply_framing();
    }
}
