//! The engine: a tokio runtime on its own thread that owns every socket. It takes
//! [`Command`]s from a non-blocking channel, runs one task per session, and reports
//! [`Event`](crate::protocol::Event)s over a crossbeam channel, waking the UI after each.
//!
//! - [`sink`]: the event channel plus the wake-up callback.
//! - `settings`: what the engine is told once, when it starts.
//! - `session`: what the kinds and jobs share with the dispatcher (context, commands,
//!   outcome, a job's send ack); it depends on neither.
//! - `dispatch`: routes commands to session tasks and jobs, restarts in order.
//! - `tcp_server`, `tcp_client`, `udp`: one task per session kind.
//! - `peers`: TCP connections of a session, one task each.
//! - `net`: binding, resolving and describing socket errors.
//! - `jobs`: periodic and file sends, paced in the engine.
//! - `load`: load runs, a session whose one job opens many connections and measures them.
//! - `reactor`: a session's on-connect payload, echo and auto-reply rules, compiled.
//! - `reactions`: those reactions, evaluated where bytes are read.
//! - `reply_frames`: auto-reply's cut of received bytes into the session's frames.
//! - `tls`: TLS acceptors and connectors (given or generated certificates), handshake notes.
//! - `tls_server`, `tls_client`: TLS sessions; their connections run in `peers` like TCP.
//! - `udp_drops`: the kernel's word on UDP receive buffers and dropped datagrams.
//! - `udp_group`: multicast group sessions: join, rejoin on interface changes, send to the group.
//! - `udp_peers`: a UDP session's sources, capped (`max-peers=N`), the idle longest evicted.
//! - `scenario`: scenario jobs: a scenario file run against a session's peers.
//! - `taps`: jobs watching a session's events (and its state) as the sink delivers them.
//! - `ws`: WebSocket server and client sessions (one message per log entry).
//! - `relay`: TCP and UDP relays: each client paired with its own link to a target, both
//!   directions logged, shaped by faults, held, stepped and injected into.
//! - `serial`: serial port sessions; the device is the one peer, its bytes go through `peers`;
//!   its control lines (DTR, RTS, break, the inputs read a few times a second); the OS's ports.
//!
//! The imports run one way: kinds and jobs use `session`, `sink` and the shared pieces
//! (`net`, `registry`, `peers`, `reactions`, `udp_peers`, `taps`, `jobs`); `dispatch` uses the
//! kinds and jobs; nothing uses `dispatch`. A directory's `mod.rs` only declares and
//! re-exports (what its children share goes in a file of its own). `tests/engine_layers.rs`
//! fails on any circle.
//!
//! # Adding a session kind
//! 1. A [`SessionKind`](crate::spec::SessionKind) variant and its spec syntax in
//!    [`crate::spec`]; the compiler's exhaustive matches name the other places (its state
//!    words in `i18n`, its button in `ui/session_list.rs`, the arm in step 5).
//! 2. One module here (a directory with a facade `mod.rs` once it grows, like `ws/`) with
//!    `pub(super) async fn run(context: &SessionContext, spec: &SessionSpec, commands:
//!    mpsc::UnboundedReceiver<SessionCommand>) -> Outcome`, or one per side
//!    (`udp::run_server`, `udp::run_client`); `tls_server` also takes `files_dir`.
//! 3. Bind or connect (`net::bind_socket`, `net::resolve`); on failure return
//!    `Outcome::StartFailed(StartFailure::..)`, else call `context.sink.started(id, addr)`.
//! 4. Loop in `tokio::select!` until `context.cancel.cancelled()` or `commands.recv()` gives
//!    `None` (both `Outcome::Stopped`), or the socket ends it (`Outcome::Ended(CloseReason)`).
//!    What is read goes out as `sink.traffic(id, peer, Direction::Rx, data)`, then through
//!    `reactions` (on-connect payload, echo, auto-reply). `SessionCommand::Send { target,
//!    data, ack }` is written and reported as `Direction::Tx` traffic; a send that reaches no
//!    one goes to `registry::refuse(context, ack.as_ref(), Refusal::..)` (a job's ack records
//!    it, a plain send warns). Peers: a listener through `tcp_server::serve`, connections
//!    through `Registry` and `peers` (whose reads wait on `sink.wait_for_room()`: flow
//!    control), datagram sources through `UdpPeers`; these send `PeerConnected` and
//!    `PeerDisconnected`. Whatever else the user reads is a typed `Note` or `Warning`
//!    (`crate::protocol`), worded in `i18n`.
//! 5. One arm in `dispatch::run_session`'s match. The dispatcher turns the `Outcome` into
//!    `Stopped` or `StartFailed`; a kind never sends those itself. Commands only this kind
//!    takes: a `Command` variant, and in `session.rs` a `SessionCommand` variant holding the
//!    kind's own enum (like `SessionCommand::Relay(RelayCommand)`), which the dispatcher
//!    forwards to sessions of that kind only (`forward_relay`) and other kinds ignore.
//! 6. Tests in `tests/engine_<kind>.rs` through `tests/common`'s `Engine` (a real engine:
//!    `Command`s in, `Event`s awaited with a deadline), against real peers on 127.0.0.1 or
//!    ::1, port 0.
//!
//! # Adding an engine job
//! 1. A [`Command`] variant in [`crate::protocol`] (like `StartPeriodic`, `SendFile`,
//!    `StartScenario`) with the session `id` and a `job: JobId` the caller picks.
//!    `Command::CancelJob { id, job }` cancels any job; nothing new is needed for it.
//! 2. The job's task in a module of its own (`jobs.rs` holds the sends, `scenario/` a job
//!    that watches), spawned by one arm in `dispatch::run`. A send job takes the
//!    `JobContext` that `dispatch::job_context` makes: the session's command sender, a
//!    `cancel` token that is a child of the session's and is registered in its `jobs` for
//!    `CancelJob`, and `session_cancel` to tell a stop from a cancel. When the session is
//!    not running, `job_context` has already reported `JobEnded` with
//!    `JobFailure::NotRunning` and nothing is spawned.
//! 3. Send as the user does: `SessionCommand::Send` with a `SendAck` holding a semaphore
//!    permit (`JobContext::slot` also waits for `sink.wait_for_room()`), so a job has a
//!    bounded number of sends in flight; `jobs::send_and_wait` sends one and waits until it
//!    is written or refused.
//! 4. Progress: `Event::JobProgress { done, total }` at most every 100 ms, then exactly one
//!    `Event::JobEnded { done, outcome }` (`Completed`, `Cancelled`, `Failed(JobFailure)`,
//!    `FileFailed`). The window (`app/send_tools.rs`) and headless follow those by job id.
//!    A job with steps of its own reports typed updates instead (`Event::Scenario`, ending
//!    with `ScenarioUpdate::Ended`).
//! 5. A job that reacts to what sessions receive gets a tap (`dispatch::tap`, set before it
//!    starts): their events in log order and each session's `SessionState`; it calls
//!    `sink.taps().unsubscribe(job)` when it ends. Its `cancel` is a token of its own (still
//!    registered for `CancelJob`), not the session's child, so when the session stops the
//!    job reads why from the events and says so.
//! 6. Tests like `tests/engine_send.rs` and `tests/engine_scenario.rs`: start a real session,
//!    send the command, wait with a deadline for the progress and the one end event, and
//!    check what the real peer received.

mod dispatch;
mod jobs;
mod load;
mod net;
mod peers;
mod reactions;
mod reactor;
mod registry;
mod relay;
mod reply_frames;
mod scenario;
mod serial;
mod session;
mod settings;
pub mod sink;
mod taps;
mod tcp_client;
mod tcp_server;
mod tls;
mod tls_client;
mod tls_server;
mod udp;
mod udp_batch;
mod udp_drops;
mod udp_group;
mod udp_peers;
mod ws;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::protocol::Command;
pub use serial::list_ports as list_serial_ports;
pub use settings::EngineSettings;
pub use sink::{EventSink, InFlight};

/// How long [`EngineHandle::shutdown`] lets sessions close their sockets.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The UI's handle on the engine thread, which starts when asked to ([`EngineHandle::start`]):
/// at once ([`EngineHandle::spawn`]) or on demand ([`EngineHandle::on_demand`], the window's,
/// so an idle window holds no runtime, worker threads or their memory). Commands sent before
/// the start wait in the channel and are served in order once it starts. Dropping the handle
/// shuts a started engine down.
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    state: EngineState,
}

/// Whether the engine thread runs yet.
enum EngineState {
    /// Not started: what it will start with.
    Waiting(Box<StartWith>),
    /// Started: its thread, until joined.
    Running(Option<JoinHandle<()>>),
}

/// What a waiting engine starts with.
struct StartWith {
    command_rx: mpsc::UnboundedReceiver<Command>,
    sink: EventSink,
    settings: EngineSettings,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The tokio runtime or its thread could not be created.
    #[error("cannot start the network engine: {0}")]
    Start(#[from] std::io::Error),
}

impl EngineHandle {
    /// Starts the runtime on its own thread with [`EngineSettings::from_environment`].
    /// Events go to `sink`.
    ///
    /// # Errors
    /// [`EngineError::Start`] when the runtime or thread cannot be created.
    pub fn spawn(sink: EventSink) -> Result<Self, EngineError> {
        Self::spawn_with(sink, EngineSettings::from_environment())
    }

    /// Starts the runtime on its own thread with `settings`. Events go to `sink`.
    ///
    /// # Errors
    /// [`EngineError::Start`] when the runtime or thread cannot be created.
    pub fn spawn_with(sink: EventSink, settings: EngineSettings) -> Result<Self, EngineError> {
        let mut handle = Self::on_demand(sink, settings);
        handle.start()?;
        Ok(handle)
    }

    /// A handle whose engine starts with `settings` at the first [`EngineHandle::start`];
    /// until then no thread runs. Events go to `sink`.
    pub fn on_demand(sink: EventSink, settings: EngineSettings) -> Self {
        let (commands, command_rx) = mpsc::unbounded_channel();
        Self {
            commands,
            state: EngineState::Waiting(Box::new(StartWith {
                command_rx,
                sink,
                settings,
            })),
        }
    }

    /// Starts the runtime on its own thread, unless it has started already; it then serves
    /// the commands sent so far. Only creates threads: never waits for the engine.
    ///
    /// # Errors
    /// [`EngineError::Start`] when the runtime or thread cannot be created (the handle stays
    /// waiting, its commands kept, so a later call may start it).
    pub fn start(&mut self) -> Result<(), EngineError> {
        let EngineState::Waiting(_) = self.state else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sockdbg-io")
            .enable_all()
            .build()?;
        // What the engine starts with is handed over once its thread runs, so a thread that
        // cannot be created leaves the handle waiting with its commands.
        let (start_tx, start_rx) = std::sync::mpsc::sync_channel::<Box<StartWith>>(1);
        let thread = std::thread::Builder::new()
            .name("sockdbg-engine".into())
            .spawn(move || {
                let Ok(start_with) = start_rx.recv() else {
                    return; // the handle was dropped before handing it over
                };
                let StartWith {
                    command_rx,
                    sink,
                    settings,
                } = *start_with;
                runtime.block_on(dispatch::run(command_rx, sink, Arc::new(settings)));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        let state = std::mem::replace(&mut self.state, EngineState::Running(Some(thread)));
        if let EngineState::Waiting(start_with) = state {
            start_tx.send(start_with).ok(); // the thread is waiting for it
        }
        Ok(())
    }

    /// Whether the engine thread has been started.
    pub fn started(&self) -> bool {
        matches!(self.state, EngineState::Running(_))
    }

    /// Queues a command (served once the engine has started). Never blocks.
    pub fn send(&self, command: Command) {
        self.commands.send(command).ok(); // engine is gone, nothing to tell
    }

    /// A sender for commands, for code that outlives a borrow of the handle.
    pub fn sender(&self) -> mpsc::UnboundedSender<Command> {
        self.commands.clone()
    }

    /// Stops every session and waits for the engine thread to end.
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        if let EngineState::Running(thread) = &mut self.state
            && let Some(thread) = thread.take()
        {
            self.commands.send(Command::Shutdown).ok(); // engine is gone, nothing to tell
            thread.join().ok(); // a panicked engine has nothing more to clean up
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
