//! Shared helpers for the kittest UI tests: a fresh settings directory, the real `App`
//! (with its real engine) in a harness with the bundled CJK font, and a bounded wait that
//! steps the harness until a condition holds.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::{App, EngineLink};
use sockdbg::config::ConfigStore;
use sockdbg::model::Session;
use sockdbg::protocol::{Command, Event, SessionId};
use sockdbg::spec::SessionSpec;

/// How long any wait may take before the test fails. Only ever an upper bound on a wait
/// that ends as soon as what it waits for happens: it costs nothing when the test passes, so
/// it is generous enough for a slow, loaded CI machine (5 s was not), and a bug still fails
/// the test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// An empty settings directory of one test's own (`sockdbg-ui-{name}-…` in the system's
/// temp directory), removed with everything in it when dropped, also when the test fails.
/// Its [`ConfigStore`] is reached through `Deref` (`config.load()`).
pub struct TempConfig {
    store: ConfigStore,
    dir: tempfile::TempDir,
}

impl TempConfig {
    /// A store over the directory, for an app (the directory stays with `self`).
    pub fn store(&self) -> ConfigStore {
        self.store.clone()
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the apps of this test spill their logs ([`App::start_spilling_in`]): inside
    /// the directory, so it goes with it.
    pub fn spill_base(&self) -> PathBuf {
        self.path().join("spill")
    }
}

impl Deref for TempConfig {
    type Target = ConfigStore;

    fn deref(&self) -> &ConfigStore {
        &self.store
    }
}

/// A fresh [`TempConfig`] named after `name`.
pub fn temp_config(name: &str) -> TempConfig {
    let dir = tempfile::Builder::new()
        .prefix(&format!("sockdbg-ui-{name}-"))
        .tempdir()
        .expect("a temporary directory");
    TempConfig {
        store: ConfigStore::at(dir.path()),
        dir,
    }
}

/// The real app in a harness, with the settings directory it uses when the harness owns it
/// (dropped after the app, so nothing the app writes there outlives the test). Derefs to
/// the harness.
pub struct AppHarness {
    /// The harness over the app.
    pub harness: Harness<'static, App>,
    /// The settings directory, when the harness owns it ([`harness`]).
    pub config: Option<TempConfig>,
}

impl AppHarness {
    /// The settings directory the harness owns ([`harness`]).
    pub fn store(&self) -> &TempConfig {
        self.config
            .as_ref()
            .expect("a harness made by `harness`, which owns its settings")
    }
}

impl Deref for AppHarness {
    type Target = Harness<'static, App>;

    fn deref(&self) -> &Self::Target {
        &self.harness
    }
}

impl DerefMut for AppHarness {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.harness
    }
}

/// The real app at the window's default size, with `startup` sessions created and started,
/// its settings and spilled logs in `config` (which the harness keeps).
pub fn harness(config: TempConfig, startup: Vec<SessionSpec>) -> AppHarness {
    let harness = harness_in(&config, startup).harness;
    AppHarness {
        harness,
        config: Some(config),
    }
}

/// [`harness`] over a settings directory the test keeps (to open it again, or to read what
/// was saved after the app is gone).
pub fn harness_in(config: &TempConfig, startup: Vec<SessionSpec>) -> AppHarness {
    let store = config.store();
    let spill_base = config.spill_base();
    let harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(move |cc| {
            sockdbg::fonts::install_cjk_font(&cc.egui_ctx);
            App::start_spilling_in(&cc.egui_ctx, Some(store), startup, Some(spill_base))
        });
    AppHarness {
        harness,
        config: None,
    }
}

/// Steps the harness until `done` holds, failing after [`DEADLINE`].
pub fn step_until(harness: &mut Harness<'_, App>, what: &str, mut done: impl FnMut(&App) -> bool) {
    let start = Instant::now();
    loop {
        harness.step();
        if done(harness.state()) {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The traffic entries of the only session's log in direction `kind`, their bytes joined.
pub fn logged(app: &App, kind: sockdbg::model::EntryKind) -> Vec<u8> {
    let log = &only_session(app).log;
    (log.first_seq()..log.first_seq() + log.len() as u64)
        .filter_map(|seq| log.get(seq))
        .filter(|e| e.kind == kind)
        .flat_map(|e| e.bytes.to_vec())
        .collect()
}

/// The app's only (first) session.
pub fn only_session(app: &App) -> &Session {
    app.sessions.iter().next().expect("a session exists")
}

/// What [`app_over_channels`] returns: the harness, the commands the app sends, the sender
/// of events to it, and the session's id.
pub type OverChannels = (
    Harness<'static, App>,
    tokio::sync::mpsc::UnboundedReceiver<Command>,
    crossbeam_channel::Sender<Event>,
    SessionId,
);

/// The real app over channels the test holds instead of an engine: one TCP server session
/// (`tcp-server:127.0.0.1:6001`), told by a fake `Started` that it listens.
pub fn app_over_channels(store: ConfigStore) -> OverChannels {
    app_over_channels_with(store, "tcp-server:127.0.0.1:6001")
}

/// [`app_over_channels`] with one session of `spec`, started on 127.0.0.1:6001.
#[allow(dead_code)] // not every test binary uses every helper
pub fn app_over_channels_with(store: ConfigStore, spec: &str) -> OverChannels {
    let (command_tx, commands) = tokio::sync::mpsc::unbounded_channel();
    let (events, event_rx) = crossbeam_channel::unbounded();
    let spec: SessionSpec = spec.parse().expect("spec");
    let mut harness = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_eframe(move |cc| {
            sockdbg::fonts::install_cjk_font(&cc.egui_ctx);
            App::new(
                EngineLink::from_channels(command_tx, event_rx),
                Some(store),
                vec![spec],
            )
        });
    let id = only_session(harness.state()).id;
    let local_addr = "127.0.0.1:6001".parse().expect("addr");
    events
        .send(Event::Started {
            id,
            local_addr,
            at: std::time::SystemTime::now(),
        })
        .expect("send event");
    harness.run_steps(3);
    (harness, commands, events, id)
}

/// The real app over channels the test holds ([`app_over_channels`]), with what UI tests do
/// to it: click by label, pick in a combo, type in the send box, read the commands it sent.
pub struct Channels {
    /// The window.
    pub harness: Harness<'static, App>,
    /// Commands the app sent.
    pub commands: tokio::sync::mpsc::UnboundedReceiver<Command>,
    /// Events to the app, as the engine would send them.
    pub events: crossbeam_channel::Sender<Event>,
    /// The running session (`tcp-server:127.0.0.1:6001`).
    pub id: SessionId,
    /// Where the app saves its settings (removed after the app).
    pub store: TempConfig,
}

impl Channels {
    /// A window with one running TCP server; the commands of its start are drained.
    pub fn new(store: TempConfig) -> Self {
        Self::with_spec(store, "tcp-server:127.0.0.1:6001")
    }

    /// A window with one running session of `spec` ([`app_over_channels_with`]); the
    /// commands of its start are drained.
    pub fn with_spec(store: TempConfig, spec: &str) -> Self {
        let (harness, commands, events, id) = app_over_channels_with(store.store(), spec);
        let mut channels = Self {
            harness,
            commands,
            events,
            id,
            store,
        };
        channels.drain_commands();
        channels
    }

    /// Closes the window and opens a new one (one TCP server) over the same settings
    /// directory: what the next start finds.
    pub fn reopen(self) -> Self {
        let Self { harness, store, .. } = self;
        drop(harness);
        Self::new(store)
    }

    /// The commands sent since the last drain.
    pub fn drain_commands(&mut self) -> Vec<Command> {
        std::iter::from_fn(|| self.commands.try_recv().ok()).collect()
    }

    /// The bytes of each send since the last drain.
    pub fn sent_bytes(&mut self) -> Vec<Vec<u8>> {
        self.drain_commands()
            .into_iter()
            .filter_map(|c| match c {
                Command::Send { data, .. } => Some(data.to_vec()),
                _ => None,
            })
            .collect()
    }

    /// Replaces the send box's text by typing `text`.
    pub fn type_in_send_box(&mut self, text: &str) {
        use egui::accesskit::Role;
        let send_box = self.harness.get_by_role(Role::MultilineTextInput);
        send_box.focus();
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness
            .get_by_role(Role::MultilineTextInput)
            .type_text(text);
        self.harness.run_steps(2);
    }

    /// Whether some label shows `text`.
    pub fn label_contains(&self, text: &str) -> bool {
        self.harness
            .query_all_by_label_contains(text)
            .next()
            .is_some()
    }

    /// Clicks the widget labelled `label`.
    pub fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_steps(2);
    }

    /// Opens the combo whose label contains `combo` and picks `choice`.
    pub fn pick(&mut self, combo: &str, choice: &str) {
        pick(&mut self.harness, combo, choice);
    }

    /// Sends `event` to the app as the engine would, and lets it apply.
    pub fn event(&mut self, event: Event) {
        self.events.send(event).expect("the app listens");
        self.harness.run_steps(3);
    }
}

/// Opens the combo box whose label contains `combo` and picks `choice`.
pub fn pick(harness: &mut Harness<'_, App>, combo: &str, choice: &str) {
    harness
        .get_all_by_role(egui::accesskit::Role::ComboBox)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.contains(combo))
        })
        .unwrap_or_else(|| panic!("no combo {combo:?}"))
        .click();
    harness.run_steps(3);
    harness.get_by_label(choice).click();
    harness.run_steps(3);
}

/// Reads from `peer` until `want` bytes came, within [`DEADLINE`].
pub fn read_exactly(peer: &mut TcpStream, want: usize) -> Vec<u8> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < want {
        assert!(start.elapsed() < DEADLINE, "peer read timed out: {got:?}");
        match peer.read(&mut buf) {
            Ok(0) => panic!("server closed the connection"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("peer read: {e}"),
        }
    }
    got
}

/// Hands session `id`'s edited rules to the engine and waits until the engine says they are
/// in effect, so bytes a peer sends next are answered by them.
pub fn apply_reactions(harness: &mut Harness<'_, App>, id: SessionId) {
    let applied = |app: &App| app.sessions.get(id).map_or(0, |s| s.reactions_applied);
    let before = applied(harness.state());
    harness.state_mut().perform(sockdbg::app::Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));
    step_until(harness, "the engine applied the rules", |app| {
        applied(app) > before
    });
}

/// Gives server session `id` (listening on `server`) the auto-reply rule
/// `contains "ping" => "pong\r\n"` (typed with escapes, as in the rule editor), then a peer
/// sends `ping` and gets `pong\r\n`; returns the connected peer.
pub fn answered_ping(
    harness: &mut Harness<'_, App>,
    id: SessionId,
    server: SocketAddr,
) -> TcpStream {
    use sockdbg::codec::reply::{MatchKind, ReplyKind, ReplyRule};
    harness
        .state_mut()
        .views
        .entry(id)
        .or_default()
        .tools
        .rules
        .push(ReplyRule {
            match_kind: MatchKind::Contains,
            pattern: "ping".to_string(),
            reply_kind: ReplyKind::Send,
            reply: "pong\\r\\n".to_string(),
            ..ReplyRule::default()
        });
    apply_reactions(harness, id);
    let mut peer = TcpStream::connect_timeout(&server, DEADLINE).expect("peer connects");
    peer.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    peer.write_all(b"ping\n").expect("peer writes");
    assert_eq!(read_exactly(&mut peer, 6), b"pong\r\n");
    peer
}
