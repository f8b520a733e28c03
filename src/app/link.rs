//! The window's end of the engine: the command sender, the event receiver, the wake-up that
//! coalesces a flood of events into one repaint, and the back-pressure count of received bytes
//! not yet applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::{EngineError, EngineHandle, EngineSettings, EventSink, InFlight};
use crate::protocol::{Command, Event};

/// Shortest time between two repaints caused by traffic (about 60 Hz).
pub const REPAINT_INTERVAL: Duration = Duration::from_millis(15);

/// The window's two channel ends, and the engine thread if this link owns it.
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

    pub(crate) fn send(&self, command: Command) {
        self.commands.send(command).ok(); // engine is gone; the window shows sessions as they were
    }

    /// Re-arms the waker: an event sent after this wakes the UI again.
    pub(crate) fn rearm(&self) {
        self.wake_pending.store(false, Ordering::Release);
    }

    /// Counts applied received bytes back to the engine's readers.
    pub(crate) fn taken(&self, bytes: usize) {
        self.in_flight.taken(bytes);
    }
}
