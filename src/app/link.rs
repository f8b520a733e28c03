//! The window's end of the engine: the command sender and the shared [`Intake`] of events,
//! whose wake-up turns a flood of events into one repaint and whose gauge holds the engine's
//! readers back while the window has not applied what they read.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::{EngineError, EngineHandle, EngineSettings};
use crate::intake::Intake;
use crate::protocol::{Command, Event};

/// Shortest time between two repaints caused by traffic (about 60 Hz).
pub const REPAINT_INTERVAL: Duration = Duration::from_millis(15);

/// The window's two channel ends, and the engine thread if this link owns it.
pub struct EngineLink {
    /// Commands to the engine (never blocks).
    pub commands: mpsc::UnboundedSender<Command>,
    /// Events from the engine, taken in once per frame.
    pub(crate) intake: Intake,
    /// Owned so that dropping the link (the app) shuts the engine down.
    _engine: Option<EngineHandle>,
}

impl EngineLink {
    /// Starts an engine whose events wake `ctx`.
    ///
    /// # Errors
    /// [`EngineError`] when the runtime cannot start.
    pub fn spawn(ctx: &egui::Context, settings: EngineSettings) -> Result<Self, EngineError> {
        let ctx = ctx.clone();
        // One wake-up per frame at most: a flood of events becomes one repaint, at most
        // one every REPAINT_INTERVAL, instead of a repaint request per packet.
        let wake = Arc::new(move || ctx.request_repaint_after(REPAINT_INTERVAL));
        let (intake, engine) = Intake::start(settings, Some(wake))?;
        Ok(Self {
            commands: engine.sender(),
            intake,
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
            intake: Intake::from_channel(events),
            _engine: None,
        }
    }

    pub(crate) fn send(&self, command: Command) {
        self.commands.send(command).ok(); // engine is gone; the window shows sessions as they were
    }
}
