//! Where engine events go: a crossbeam channel to the UI (or headless driver) plus a
//! callback that wakes the receiver, e.g. `egui::Context::request_repaint`, and an optional
//! [`InFlight`] gauge through which a slow receiver slows the engine down (flow control)
//! instead of letting traffic pile up in the channel: TCP, TLS and WebSocket reads pause,
//! and so do their writes and the background sends (periodic, file), whose sent bytes are
//! reported too (a headless run printing to a slow pipe holds at most the budget).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use super::taps::Taps;
use crate::protocol::{Direction, Event, PeerId, SessionId, Warning};
use crate::relay::Leg;

/// A callback that wakes whoever drains the events.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Most traffic bytes (received or sent) that may wait in the channel before readers,
/// writers and background sends pause.
pub const IN_FLIGHT_BUDGET_BYTES: usize = 64 * 1024 * 1024;

/// How often a paused reader looks again.
const IN_FLIGHT_RECHECK: Duration = Duration::from_millis(1);

/// Traffic bytes reported to the receiver and not yet taken in by it. The receiver calls
/// [`InFlight::taken`] with [`Event::traffic_len`] of each event it has applied. Cheap to
/// clone.
#[derive(Clone, Debug, Default)]
pub struct InFlight {
    bytes: Arc<AtomicUsize>,
}

impl InFlight {
    /// The receiver has taken in `len` traffic bytes.
    pub fn taken(&self, len: usize) {
        self.bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(len))
            })
            .ok(); // the closure never refuses
    }

    /// Bytes waiting now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }

    fn add(&self, len: usize) {
        self.bytes.fetch_add(len, Ordering::AcqRel);
    }
}

/// The engine's end of the event channel. Cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    events: crossbeam_channel::Sender<Event>,
    wake: Waker,
    in_flight: Option<InFlight>,
    /// Jobs watching sessions' events (see [`super::taps`]).
    taps: Arc<Taps>,
}

impl EventSink {
    /// Events go to `events`; `wake` is called after each one.
    pub fn new(events: crossbeam_channel::Sender<Event>, wake: Waker) -> Self {
        Self {
            events,
            wake,
            in_flight: None,
            taps: Arc::default(),
        }
    }

    /// Counts traffic bytes in `in_flight`; readers, writers and background sends pause
    /// while more than [`IN_FLIGHT_BUDGET_BYTES`] wait there. The receiver must call
    /// [`InFlight::taken`].
    pub fn with_in_flight(mut self, in_flight: InFlight) -> Self {
        self.in_flight = Some(in_flight);
        self
    }

    /// Waits while the receiver is behind by more than the budget (no-op without a gauge).
    pub async fn wait_for_room(&self) {
        if let Some(in_flight) = &self.in_flight {
            while in_flight.bytes() > IN_FLIGHT_BUDGET_BYTES {
                tokio::time::sleep(IN_FLIGHT_RECHECK).await;
            }
        }
    }

    /// A sink whose receiver polls by itself and needs no wake-up (tests, headless).
    pub fn without_waker(events: crossbeam_channel::Sender<Event>) -> Self {
        Self::new(events, Arc::new(|| {}))
    }

    /// The taps jobs watch sessions through.
    pub(crate) fn taps(&self) -> &Taps {
        &self.taps
    }

    /// Delivers one event and wakes the receiver.
    pub fn send(&self, event: Event) {
        self.taps.observe(&event);
        if self.events.send(event).is_ok() {
            (self.wake)();
        } // else: the receiver is gone, nothing to tell
    }

    /// Reports bytes that moved.
    pub fn traffic(&self, id: SessionId, peer: PeerId, dir: Direction, data: Bytes) {
        self.moved(id, peer, dir, data, false);
    }

    /// Reports datagrams received in one go, in the order they came, as one
    /// [`Event::Datagrams`].
    pub fn datagrams(&self, id: SessionId, datagrams: Vec<(PeerId, Bytes)>) {
        if datagrams.is_empty() {
            return;
        }
        let event = Event::Datagrams {
            id,
            datagrams,
            at: SystemTime::now(),
        };
        if let Some(in_flight) = &self.in_flight {
            in_flight.add(event.traffic_len());
        }
        self.send(event);
    }

    /// Reports bytes a relay wrote to one side of a pair: forwarded from the other side, or
    /// `injected` by the user.
    pub fn relayed(&self, id: SessionId, peer: PeerId, leg: Leg, data: Bytes, injected: bool) {
        self.moved(id, peer, Direction::of_leg(leg), data, injected);
    }

    fn moved(&self, id: SessionId, peer: PeerId, dir: Direction, data: Bytes, injected: bool) {
        if let Some(in_flight) = &self.in_flight {
            in_flight.add(data.len());
        }
        self.send(Event::Traffic {
            id,
            peer,
            dir,
            data,
            injected,
            at: SystemTime::now(),
        });
    }

    /// Reports the session up on `local_addr`, stamped now (so it sorts before its peers).
    pub fn started(&self, id: SessionId, local_addr: std::net::SocketAddr) {
        self.send(Event::Started {
            id,
            local_addr,
            at: SystemTime::now(),
        });
    }

    /// Reports a problem that does not end the session.
    pub fn warning(&self, id: SessionId, warning: Warning) {
        self.send(Event::Warning {
            id,
            warning,
            at: SystemTime::now(),
        });
    }

    /// Reports something the session did by itself, on the session or on one of its peers.
    pub fn note(&self, id: SessionId, peer: Option<PeerId>, note: crate::protocol::Note) {
        self.send(Event::Note {
            id,
            peer,
            note,
            at: SystemTime::now(),
        });
    }
}
