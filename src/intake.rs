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
use crate::protocol::Event;

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
}
