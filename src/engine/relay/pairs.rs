//! A relay's pairs (each a client with its own link to the target, listed as one peer): the
//! table of open pairs with a control channel per direction and a close signal each, the
//! routing of the session's commands to them (inject, step, disconnect), and the relay's
//! faults, which every pair follows through a watch.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::pump::Control;
use crate::engine::registry::refuse;
use crate::engine::session::{RelayCommand, SessionCommand, SessionContext};
use crate::engine::sink::EventSink;
use crate::protocol::{CloseReason, Event, Note, PeerId, Refusal, SendTarget, SessionId, Warning};
use crate::relay::{Leg, RelayFaults};

/// The index of a leg's control channel.
fn slot(leg: Leg) -> usize {
    match leg {
        Leg::Up => 0,
        Leg::Down => 1,
    }
}

struct PairHandle {
    controls: [mpsc::UnboundedSender<Control>; 2],
    close: CancellationToken,
}

/// Everything a new pair's task takes over.
pub(super) struct PairEnds {
    pub(super) peer: PeerId,
    /// Injections and steps for the up and down directions.
    pub(super) controls: [mpsc::UnboundedReceiver<Control>; 2],
    /// Cancelled when the user closes this pair.
    pub(super) close: CancellationToken,
    /// Cancelled when the session stops.
    pub(super) cancel: CancellationToken,
    /// The relay's faults, as they change.
    pub(super) faults: watch::Receiver<RelayFaults>,
    /// How the pair reports its end.
    pub(super) done: PairDone,
}

/// How a pair's task reports its end: hand the reason to [`PairDone::report`].
pub(super) struct PairDone {
    id: SessionId,
    peer: PeerId,
    sink: EventSink,
    closed_tx: mpsc::UnboundedSender<PeerId>,
}

impl PairDone {
    /// The sink the pair reports through.
    pub(super) fn sink(&self) -> &EventSink {
        &self.sink
    }

    /// The session the pair belongs to.
    pub(super) fn id(&self) -> SessionId {
        self.id
    }

    /// Reports the pair gone with `reason` and hands it to the session to forget.
    pub(super) fn report(self, reason: CloseReason) {
        self.sink.send(Event::PeerDisconnected {
            id: self.id,
            peer: self.peer,
            reason,
            at: SystemTime::now(),
        });
        self.closed_tx.send(self.peer).ok(); // the session is gone, nothing to tell
    }
}

/// A relay session's open pairs and its faults.
pub(super) struct Pairs {
    pairs: BTreeMap<PeerId, PairHandle>,
    next_peer: u64,
    tracker: TaskTracker,
    closed_tx: mpsc::UnboundedSender<PeerId>,
    faults: watch::Sender<RelayFaults>,
}

impl Pairs {
    /// No pairs yet, the faults as the spec set them; the receiver gets each pair that ended
    /// (hand it to [`Pairs::forget`]).
    pub(super) fn new(faults: RelayFaults) -> (Self, mpsc::UnboundedReceiver<PeerId>) {
        let (closed_tx, closed) = mpsc::unbounded_channel();
        let pairs = Self {
            pairs: BTreeMap::new(),
            next_peer: 1,
            tracker: TaskTracker::new(),
            closed_tx,
            faults: watch::Sender::new(faults),
        };
        (pairs, closed)
    }

    /// Lists a new pair for the client at `addr` (reported connected now) and runs the task
    /// `driver` makes for it, which ends by reporting through [`PairEnds::done`].
    pub(super) fn start<D, F>(
        &mut self,
        context: &SessionContext,
        addr: SocketAddr,
        driver: D,
    ) -> PeerId
    where
        D: FnOnce(PairEnds) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let (down_tx, down_rx) = mpsc::unbounded_channel();
        let close = CancellationToken::new();
        self.pairs.insert(
            peer,
            PairHandle {
                controls: [up_tx, down_tx],
                close: close.clone(),
            },
        );
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        let ends = PairEnds {
            peer,
            controls: [up_rx, down_rx],
            close,
            cancel: context.cancel.child_token(),
            faults: self.faults.subscribe(),
            done: PairDone {
                id: context.id,
                peer,
                sink: context.sink.clone(),
                closed_tx: self.closed_tx.clone(),
            },
        };
        self.tracker.spawn(driver(ends));
        peer
    }

    /// Carries out a command from the user; false when the session's command channel has
    /// closed (`None`).
    pub(super) fn command(
        &self,
        context: &SessionContext,
        command: Option<SessionCommand>,
    ) -> bool {
        match command {
            Some(SessionCommand::Send { ack, .. }) => {
                refuse(context, ack.as_ref(), Refusal::RelayNeedsLeg);
            }
            Some(SessionCommand::DisconnectPeer(peer)) => {
                if let Some(pair) = self.pairs.get(&peer) {
                    pair.close.cancel();
                }
            }
            Some(SessionCommand::Relay(RelayCommand::Inject { target, leg, data })) => {
                self.to_pairs(context, target, leg, |_| {
                    Control::Inject(Bytes::clone(&data))
                });
            }
            Some(SessionCommand::Relay(RelayCommand::Step { target, leg })) => {
                self.to_pairs(context, target, leg, |_| Control::Step);
            }
            Some(SessionCommand::Relay(RelayCommand::SetFaults(faults))) => {
                self.set_faults(context, faults);
            }
            // Only serial sessions get these (the dispatcher sees to it).
            Some(SessionCommand::Serial(_)) => {}
            None => return false,
        }
        true
    }

    /// Hands `control` to one pair's direction (or every pair's); says when none is there.
    fn to_pairs(
        &self,
        context: &SessionContext,
        target: SendTarget,
        leg: Leg,
        control: impl Fn(PeerId) -> Control,
    ) {
        let delivered = match target {
            SendTarget::All => self
                .pairs
                .iter()
                .filter(|(peer, pair)| pair.controls[slot(leg)].send(control(**peer)).is_ok())
                .count(),
            SendTarget::Peer(peer) => self
                .pairs
                .get(&peer)
                .filter(|pair| pair.controls[slot(leg)].send(control(peer)).is_ok())
                .map_or(0, |_| 1),
        };
        if delivered == 0 {
            let refusal = match target {
                SendTarget::All => Refusal::NoClient,
                SendTarget::Peer(peer) => Refusal::PeerGone { peer },
            };
            context.sink.warning(context.id, Warning::NotSent(refusal));
        }
    }

    /// Replaces the faults every pair follows, and says what changed.
    fn set_faults(&self, context: &SessionContext, faults: RelayFaults) {
        let before = self.faults.send_replace(faults);
        let (id, sink) = (context.id, &context.sink);
        let unheld = |f: &RelayFaults| RelayFaults {
            up: crate::relay::LegFaults {
                hold: false,
                ..f.up
            },
            down: crate::relay::LegFaults {
                hold: false,
                ..f.down
            },
        };
        if unheld(&before) != unheld(&faults) {
            sink.note(id, None, Note::FaultsChanged { faults });
        }
        for leg in Leg::BOTH {
            let held = faults.leg(leg).hold;
            if before.leg(leg).hold != held {
                sink.note(id, None, Note::Hold { leg, held });
            }
        }
        sink.send(Event::FaultsApplied { id, faults });
    }

    /// Drops a pair whose task has ended.
    pub(super) fn forget(&mut self, peer: PeerId) {
        self.pairs.remove(&peer);
    }

    /// Pairs open now.
    pub(super) fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Waits until every pair's task has ended (after the session's token was cancelled).
    pub(super) async fn close_all(self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}
