//! Where engine events go: a crossbeam channel to the UI (or headless driver) plus a
//! callback that wakes the receiver, e.g. `egui::Context::request_repaint`.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::protocol::{Direction, Event, PeerId, SessionId};

/// A callback that wakes whoever drains the events.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The engine's end of the event channel. Cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    events: crossbeam_channel::Sender<Event>,
    wake: Waker,
}

impl EventSink {
    /// Events go to `events`; `wake` is called after each one.
    pub fn new(events: crossbeam_channel::Sender<Event>, wake: Waker) -> Self {
        Self { events, wake }
    }

    /// A sink whose receiver polls by itself and needs no wake-up (tests, headless).
    pub fn without_waker(events: crossbeam_channel::Sender<Event>) -> Self {
        Self::new(events, Arc::new(|| {}))
    }

    /// Delivers one event and wakes the receiver.
    pub fn send(&self, event: Event) {
        if self.events.send(event).is_ok() {
            (self.wake)();
        } // else: the receiver is gone, nothing to tell
    }

    /// Reports bytes that moved.
    pub fn traffic(&self, id: SessionId, peer: PeerId, dir: Direction, data: Bytes) {
        self.send(Event::Traffic {
            id,
            peer,
            dir,
            data,
            at: SystemTime::now(),
        });
    }

    /// Reports a problem that does not end the session.
    pub fn warning(&self, id: SessionId, message: impl Into<String>) {
        self.send(Event::Warning {
            id,
            message: message.into(),
            at: SystemTime::now(),
        });
    }
}
