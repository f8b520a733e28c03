//! The engine: a tokio runtime on its own thread that owns every socket. It takes
//! [`Command`]s from a non-blocking channel, runs one task per session, and reports
//! [`Event`]s over a crossbeam channel, waking the UI after each.
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

mod dispatch;
mod jobs;
mod net;
mod peers;
mod reactions;
mod reactor;
mod registry;
mod relay;
mod reply_frames;
mod scenario;
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
mod udp_drops;
mod udp_group;
mod udp_peers;
mod ws;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::protocol::Command;
pub use settings::EngineSettings;
pub use sink::{EventSink, InFlight};

/// How long [`EngineHandle::shutdown`] lets sessions close their sockets.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The UI's handle on the engine thread. Dropping it shuts the engine down.
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sockdbg-io")
            .enable_all()
            .build()?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("sockdbg-engine".into())
            .spawn(move || {
                runtime.block_on(dispatch::run(command_rx, sink, Arc::new(settings)));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        Ok(Self {
            commands,
            thread: Some(thread),
        })
    }

    /// Queues a command. Never blocks.
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
        self.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            thread.join().ok(); // a panicked engine has nothing more to clean up
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
