//! The window's end of the engine: the command sender, the engine started by the first
//! command (an idle window runs no engine threads), and the shared [`Intake`] of events, whose
//! wake-up turns a flood of events into one repaint and whose gauge holds the engine's readers
//! back while the window has not applied what they read.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::{EngineError, EngineHandle, EngineSettings};
use crate::intake::Intake;
use crate::protocol::{Command, Event};

/// Shortest time between two repaints caused by traffic (about 60 Hz).
pub const REPAINT_INTERVAL: Duration = Duration::from_millis(15);

/// The window's two channel ends, and the engine if this link owns it.
pub struct EngineLink {
    /// Commands to the engine (never blocks).
    commands: mpsc::UnboundedSender<Command>,
    /// Events from the engine, taken in once per frame.
    pub(crate) intake: Intake,
    /// Started by the first command; dropping the link (the app) shuts it down.
    engine: Option<EngineHandle>,
}

impl EngineLink {
    /// A link to an engine whose events wake `ctx`, started by the first command
    /// ([`EngineLink::send`]); until then only the channels exist.
    pub fn on_demand(ctx: &egui::Context, settings: EngineSettings) -> Self {
        let ctx = ctx.clone();
        // One wake-up per frame at most: a flood of events becomes one repaint, at most
        // one every REPAINT_INTERVAL, instead of a repaint request per packet.
        let wake = Arc::new(move || ctx.request_repaint_after(REPAINT_INTERVAL));
        let (intake, engine) = Intake::on_demand(settings, Some(wake));
        Self {
            commands: engine.sender(),
            intake,
            engine: Some(engine),
        }
    }

    /// A link over channels someone else serves (tests that watch the commands).
    pub fn from_channels(
        commands: mpsc::UnboundedSender<Command>,
        events: crossbeam_channel::Receiver<Event>,
    ) -> Self {
        Self {
            commands,
            intake: Intake::from_channel(events),
            engine: None,
        }
    }

    /// Whether this link's engine has been started (a link over channels has none).
    pub fn engine_started(&self) -> bool {
        self.engine.as_ref().is_some_and(EngineHandle::started)
    }

    /// Queues `command`, starting the engine first if it has not started and the command
    /// needs it ([`needs_engine`]). Never blocks.
    ///
    /// # Errors
    /// [`EngineError`] when the engine cannot start; the command stays queued for a later
    /// start.
    pub(crate) fn send(&mut self, command: Command) -> Result<(), EngineError> {
        let start = needs_engine(&command);
        self.commands.send(command).ok(); // engine is gone; the window shows sessions as they were
        match &mut self.engine {
            Some(engine) if start => engine.start(),
            _ => Ok(()),
        }
    }
}

/// Whether `command` needs a running engine. A session's settings (its auto-reply rules,
/// the framing they match by) and a deleted session's [`Command::Forget`] do not: they wait
/// in the queue, and the engine, once a command that needs it starts it, takes them in
/// before that command. So a window that restores stopped sessions (and deletes some) runs
/// no engine until one starts.
fn needs_engine(command: &Command) -> bool {
    !matches!(
        command,
        Command::SetReactions { .. } | Command::SetReplyFraming { .. } | Command::Forget { .. }
    )
}
