//! The one way engine events come in, for the window and headless alike.
//!
//! [`Intake::start`] starts the engine with its event channel, the gauge of traffic bytes not
//! yet taken in (flow control: the engine's readers and sends pause while the taker is behind
//! by the budget) and, for the window, a waker that turns a flood of events into one wake-up
//! until [`Intake::rearm`]. Every event taken out of the intake is then either
//! [`apply`](Intake::apply)'d (counted back to the gauge, fed to the capture recording it,
//! applied to the model) or [`skip`](Intake::skip)'d (counted back only), so the engine never
//! waits for bytes nobody will apply.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryIter};

use crate::capture::CaptureThread;
use crate::engine::sink::Waker;
use crate::engine::{EngineError, EngineHandle, EngineSettings, EventSink, InFlight};
use crate::model::Sessions;
use crate::protocol::{Event, SessionId};

/// Events [`Intake::frame_events`] takes between two looks at the clock.
pub const CLOCK_EVERY: usize = 16;

/// The taker's end of the engine's events: the channel, the flow-control gauge and the
/// waker's re-arm flag.
pub struct Intake {
    events: Receiver<Event>,
    in_flight: InFlight,
    /// Set once the waker has been called; cleared by [`Intake::rearm`].
    wake_pending: Arc<AtomicBool>,
}

impl Intake {
    /// Starts an engine with `settings` whose events come in here. `wake` (the window's
    /// repaint request) is called after an event once, then not again until
    /// [`Intake::rearm`]; without it the taker waits on [`Intake::receiver`] itself.
    ///
    /// # Errors
    /// [`EngineError`] when the engine cannot start.
    pub fn start(
        settings: EngineSettings,
        wake: Option<Waker>,
    ) -> Result<(Self, EngineHandle), EngineError> {
        let (intake, mut engine) = Self::on_demand(settings, wake);
        engine.start()?;
        Ok((intake, engine))
    }

    /// As [`Intake::start`], but the engine starts only when [`EngineHandle::start`] is
    /// called (the channels exist from now on).
    pub fn on_demand(settings: EngineSettings, wake: Option<Waker>) -> (Self, EngineHandle) {
        let (event_tx, events) = crossbeam_channel::unbounded();
        let wake_pending = Arc::new(AtomicBool::new(false));
        let sink = match wake {
            Some(wake) => {
                let pending = Arc::clone(&wake_pending);
                let once: Waker = Arc::new(move || {
                    if !pending.swap(true, Ordering::AcqRel) {
                        wake();
                    }
                });
                EventSink::new(event_tx, once)
            }
            None => EventSink::without_waker(event_tx),
        };
        let in_flight = InFlight::default();
        let engine = EngineHandle::on_demand(sink.with_in_flight(in_flight.clone()), settings);
        let intake = Self {
            events,
            in_flight,
            wake_pending,
        };
        (intake, engine)
    }

    /// An intake over a channel someone else feeds (tests that play the engine).
    pub fn from_channel(events: Receiver<Event>) -> Self {
        Self {
            events,
            in_flight: InFlight::default(),
            wake_pending: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The channel, to wait on beside other channels (`crossbeam_channel::select!`). What
    /// comes out must be applied or skipped like what [`Intake::try_iter`] gives.
    pub fn receiver(&self) -> &Receiver<Event> {
        &self.events
    }

    /// The events waiting now, without blocking.
    pub fn try_iter(&self) -> TryIter<'_, Event> {
        self.events.try_iter()
    }

    /// The events one frame takes in: those waiting, at most `max`, and no more once
    /// `budget` has passed since the first was taken (the clock is read every
    /// [`CLOCK_EVERY`] events, so a flood of small ones pays little for it). What is left
    /// waits for the next frame; meanwhile the flow control holds the engine's readers, so a
    /// flood the model takes in slowly (a log writing to disk) slows the peer instead of
    /// freezing the window.
    pub fn frame_events(&self, max: usize, budget: Duration) -> impl Iterator<Item = Event> + '_ {
        let started = Instant::now();
        let mut taken = 0usize;
        std::iter::from_fn(move || {
            let spent =
                taken > 0 && taken.is_multiple_of(CLOCK_EVERY) && started.elapsed() >= budget;
            if taken >= max || spent {
                return None;
            }
            let event = self.events.try_recv().ok()?;
            taken += 1;
            Some(event)
        })
    }

    /// The next event waiting now, if any.
    pub fn try_next(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// Whether events are waiting.
    pub fn pending(&self) -> bool {
        !self.events.is_empty()
    }

    /// Re-arms the waker: an event sent after this wakes the taker again. Call it before
    /// taking events out, so none slips between the last take and the re-arm.
    pub fn rearm(&self) {
        self.wake_pending.store(false, Ordering::Release);
    }

    /// Takes `event` in: feeds it to `capture`, applies it to `sessions`, and counts its
    /// traffic back to the engine; with a capture, once the capture has written it (a
    /// capture that falls behind holds the engine back instead of queueing without bound).
    pub fn apply(&self, event: Event, sessions: &mut Sessions, capture: Option<&CaptureThread>) {
        match capture {
            Some(capture) => capture.feed_counted(&event, &self.in_flight),
            None => self.in_flight.taken(event.traffic_len()),
        }
        sessions.apply(event);
    }

    /// Lets `event` go unapplied, counting its traffic back to the engine.
    pub fn skip(&self, event: &Event) {
        self.in_flight.taken(event.traffic_len());
    }

    /// Takes one frame's events in, as the window does: re-arms the waker, then, for each of
    /// [`Intake::frame_events`] (at most [`MAX_EVENTS_PER_FRAME`], for at most
    /// [`FRAME_INTAKE_BUDGET`]), shows it to `look`, then [`apply`](Intake::apply)s it with the
    /// capture `capture_of` names for its session. Takes none while a log's disk is behind,
    /// and stops, leaving the rest for the next frame, when traffic puts one behind: the
    /// engine's flow control then holds the peers, and the frame never waits for the disk.
    /// Tells what is left.
    pub fn take_frame<'c>(
        &self,
        sessions: &mut Sessions,
        capture_of: impl Fn(SessionId) -> Option<&'c CaptureThread>,
        mut look: impl FnMut(&Event),
    ) -> Backlog {
        let started = Instant::now();
        // Re-arm the waker first: an event sent after this point wakes the taker again.
        self.rearm();
        if sessions.any_spill_behind() {
            return Backlog::for_disk(self.pending());
        }
        for event in self.frame_events(MAX_EVENTS_PER_FRAME, FRAME_INTAKE_BUDGET) {
            look(&event);
            let id = event.session();
            // Only traffic can put a log behind its disk.
            let traffic = event.traffic_len() > 0;
            self.apply(event, sessions, capture_of(id));
            if traffic && sessions.spill_behind(id) {
                // The log's disk is behind: the rest waits a frame, as the engine does.
                return Backlog::for_disk(self.pending());
            }
        }
        Backlog::after(self.pending(), started.elapsed())
    }
}

/// Most events a frame takes in, so a flood cannot stall a frame; the rest wait for the next.
pub const MAX_EVENTS_PER_FRAME: usize = 100_000;

/// Most time a frame spends taking events in (half a frame at 60 Hz); the rest wait for the
/// next. Without it a flood into a log that spills to disk (the model waiting for the disk)
/// kept one frame applying events for seconds while the engine kept reading more.
pub const FRAME_INTAKE_BUDGET: Duration = Duration::from_millis(8);

/// What waits after a frame took engine events in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backlog {
    /// Nothing.
    Empty,
    /// Events: the next frame takes them a repaint interval later, with what comes
    /// meanwhile (one frame for a burst, not one per event).
    Waiting,
    /// Events, and the frame spent its [`FRAME_INTAKE_BUDGET`] on those before: the next
    /// frame comes at once, so the window keeps drawing and still takes in all it can.
    Behind,
    /// Events, held while a log's disk writer is behind: the next frame looks again a
    /// repaint interval later (the engine's flow control holds the peers meanwhile).
    ForDisk,
}

impl Backlog {
    /// What waits when `pending` after taking events in for `spent`.
    pub fn after(pending: bool, spent: Duration) -> Self {
        match (pending, spent >= FRAME_INTAKE_BUDGET) {
            (false, _) => Self::Empty,
            (true, false) => Self::Waiting,
            (true, true) => Self::Behind,
        }
    }

    /// What waits when a log's disk is behind and `pending` tells whether events wait.
    pub fn for_disk(pending: bool) -> Self {
        if pending { Self::ForDisk } else { Self::Empty }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::protocol::{Command, SessionId};

    const DEADLINE: Duration = Duration::from_secs(10);

    /// A real engine and a real client: the waker fires once until re-armed, however many
    /// events come, and applying the events puts the bytes in the model and brings the gauge
    /// back to zero.
    #[test]
    fn events_wake_once_until_rearmed_and_applying_them_counts_their_bytes_back() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&wakes);
        let wake: Waker = Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let settings = EngineSettings { files_dir: None };
        let (intake, engine) = Intake::start(settings, Some(wake)).expect("engine starts");
        let mut sessions = Sessions::default();
        let id: SessionId = sessions.create("tcp-server:127.0.0.1:0".parse().expect("spec"));
        let spec = sessions.get(id).expect("created").spec.clone();
        engine.send(Command::Start { id, spec });

        let deadline = Instant::now() + DEADLINE;
        let mut take_in = |event: Event| {
            let received = event.received_len();
            intake.apply(event, &mut sessions, None);
            received
        };
        let next = || {
            let left = deadline.saturating_duration_since(Instant::now());
            intake.receiver().recv_timeout(left).expect("an event")
        };
        let addr = loop {
            let event = next();
            let started = match &event {
                Event::Started { local_addr, .. } => Some(*local_addr),
                Event::StartFailed { reason, .. } => panic!("{reason}"),
                _ => None,
            };
            take_in(event);
            if let Some(addr) = started {
                break addr;
            }
        };
        // A connection and its bytes: several events, still the one wake-up.
        let mut client = std::net::TcpStream::connect(addr).expect("connect");
        client.write_all(b"hello").expect("write");
        let mut received = 0;
        let mut events = 0;
        while received < 5 {
            received += take_in(next());
            events += 1;
        }
        assert!(events >= 2, "a connection and its bytes");
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            1,
            "one wake-up until re-armed"
        );
        // Re-armed: the next events wake once more.
        intake.rearm();
        client.write_all(b" intake").expect("write");
        while received < 12 {
            received += take_in(next());
        }
        // The engine wakes right after it sends, so the taker may see the event first.
        while wakes.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            wakes.load(Ordering::SeqCst),
            2,
            "one more wake-up after the re-arm"
        );
        assert_eq!(intake.in_flight.bytes(), 0, "every byte counted back");
        assert_eq!(sessions.get(id).expect("session").counters.rx_bytes, 12);
        engine.shutdown();
    }

    /// A frame takes what waits, up to its count, and stops at the first look at the clock
    /// once its time is spent; what is left stays for the next frame, in order.
    #[test]
    fn a_frame_takes_events_until_its_count_or_its_time_is_spent() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let intake = Intake::from_channel(rx);
        let failed = |n: u64| Event::StartFailed {
            id: SessionId(n),
            reason: crate::protocol::StartFailure::ClosedWhileOpening,
        };
        for n in 0..100 {
            tx.send(failed(n)).unwrap();
        }
        let ids =
            |events: Vec<Event>| -> Vec<u64> { events.iter().map(|e| e.session().0).collect() };
        let first = ids(intake.frame_events(30, Duration::from_secs(3600)).collect());
        assert_eq!(first, (0..30).collect::<Vec<_>>(), "the count");
        let second = ids(intake.frame_events(1000, Duration::ZERO).collect());
        assert_eq!(
            second,
            (30..30 + CLOCK_EVERY as u64).collect::<Vec<_>>(),
            "the time"
        );
        let rest = ids(intake
            .frame_events(1000, Duration::from_secs(3600))
            .collect());
        assert_eq!(
            rest,
            (30 + CLOCK_EVERY as u64..100).collect::<Vec<_>>(),
            "what waits"
        );
    }

    /// A frame shows each event to its look before applying it, feeds the model in order,
    /// counts the traffic back, and tells that nothing waits; events of a session the model
    /// does not have are shown and dropped.
    #[test]
    fn a_frame_shows_each_event_then_applies_it_in_order() {
        use crate::protocol::{Direction, PeerId};
        let (tx, rx) = crossbeam_channel::unbounded();
        let intake = Intake::from_channel(rx);
        let mut sessions = Sessions::default();
        let id = sessions.create("udp-server:127.0.0.1:0".parse().expect("spec"));
        let at = std::time::SystemTime::now();
        let local_addr = std::net::SocketAddr::from(([127, 0, 0, 1], 6001));
        tx.send(Event::Started { id, local_addr, at }).unwrap();
        for byte in [b'a', b'b', b'c'] {
            tx.send(Event::Traffic {
                id,
                peer: PeerId(1),
                dir: Direction::Rx,
                data: bytes::Bytes::from(vec![byte]),
                injected: false,
                at,
            })
            .unwrap();
        }
        tx.send(Event::Stopped {
            id: SessionId(id.0 + 1),
            reason: None,
        })
        .unwrap();
        let mut seen = Vec::new();
        let backlog = intake.take_frame(
            &mut sessions,
            |_| None,
            |event| seen.push((event.session(), event.traffic_len())),
        );
        assert_eq!(backlog, Backlog::Empty);
        let other = SessionId(id.0 + 1);
        assert_eq!(seen, [(id, 0), (id, 1), (id, 1), (id, 1), (other, 0)]);
        let session = sessions.get(id).expect("session");
        assert_eq!(session.counters.rx_bytes, 3);
        let log = &session.log;
        let logged: Vec<u8> = (log.first_seq()..log.first_seq() + log.len() as u64)
            .filter_map(|seq| log.get(seq))
            .filter(|entry| entry.kind == crate::model::log::EntryKind::Rx)
            .flat_map(|entry| entry.bytes.to_vec())
            .collect();
        assert_eq!(logged, b"abc");
        assert_eq!(intake.in_flight.bytes(), 0, "every byte counted back");
    }
}
