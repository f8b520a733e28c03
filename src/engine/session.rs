//! What every session kind and every engine job shares with the dispatcher: the context a
//! session task is given ([`SessionContext`]), the commands it takes while it runs
//! ([`SessionCommand`], with a relay's own [`RelayCommand`] and a serial port's
//! [`SerialControl`]), how it ends ([`Outcome`]), and the ack a job's send carries
//! ([`SendAck`]). The kinds and jobs depend on this module, the dispatcher depends on them,
//! and this module on neither: the engine's imports run one way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::reactor::ReactorWatch;
use super::sink::EventSink;
use crate::protocol::{CloseReason, PeerId, Refusal, SendTarget, SessionId, StartFailure};
use crate::relay::{Leg, RelayFaults};
use crate::serial::SerialControl;

/// What the dispatcher forwards to a running session.
#[derive(Debug)]
pub(super) enum SessionCommand {
    Send {
        target: SendTarget,
        data: bytes::Bytes,
        /// Held until the bytes are written everywhere (background sends pace themselves
        /// with it); `None` for a plain send.
        ack: Option<SendAck>,
    },
    DisconnectPeer(PeerId),
    /// A relay's own commands; the dispatcher sends these to relay sessions only.
    Relay(RelayCommand),
    /// A serial port's control lines; the dispatcher sends these to serial sessions only.
    Serial(SerialControl),
}

/// What only a relay session does: inject, step, and change its faults.
#[derive(Debug)]
pub(super) enum RelayCommand {
    /// Write `data` into a pair (or every pair) toward the target or the client.
    Inject {
        target: SendTarget,
        leg: Leg,
        data: bytes::Bytes,
    },
    /// Forward one held chunk of a pair (or of every pair) in one direction.
    Step { target: SendTarget, leg: Leg },
    /// Replace the faults of both directions.
    SetFaults(RelayFaults),
}

/// How a session task ended.
pub(super) enum Outcome {
    /// The user stopped it.
    Stopped,
    /// Bind or connect failed; nothing ran.
    StartFailed(StartFailure),
    /// It ran and then ended by itself (peer closed, socket error).
    Ended(CloseReason),
}

/// What a session task is given.
pub(super) struct SessionContext {
    pub id: SessionId,
    pub sink: EventSink,
    pub cancel: CancellationToken,
    /// On-connect payload and auto-reply rules, updated while the session runs.
    pub reactions: ReactorWatch,
}

/// Held by a queued send; dropping the last clone tells the job the send is done.
#[derive(Clone, Debug)]
pub(super) struct SendAck {
    _permit: Arc<OwnedSemaphorePermit>,
    refusals: Arc<Refusals>,
    /// Set when a connection closed with the bytes still queued (only a scenario's send
    /// waits for this; a periodic send to all clients goes on when one of them leaves).
    lost: Arc<OnceLock<PeerId>>,
}

impl SendAck {
    /// An ack holding `permit` until the last clone is dropped; a refusal is recorded in
    /// `refusals`, a connection that closed with the bytes unwritten in `lost`.
    pub(super) fn new(
        permit: OwnedSemaphorePermit,
        refusals: Arc<Refusals>,
        lost: Arc<OnceLock<PeerId>>,
    ) -> Self {
        Self {
            _permit: Arc::new(permit),
            refusals,
            lost,
        }
    }

    /// Records why a job's send went nowhere (no client connected, client gone). The job
    /// ends with this reason at its next step, instead of the session logging one warning
    /// per tick: a 1 ms periodic send to nobody would flood the log.
    pub(super) fn refuse(&self, why: Refusal) {
        self.refusals.first.get_or_init(|| why);
        self.refusals.count.fetch_add(1, Ordering::AcqRel);
    }

    /// Records that `peer`'s connection closed before these bytes were written to it.
    pub(super) fn lost_by(&self, peer: PeerId) {
        self.lost.get_or_init(|| peer);
    }
}

/// What the session said of a job's sends that went nowhere: the first reason, and how many
/// were refused (a periodic send that waits for a reconnecting client counts what it skipped).
#[derive(Debug, Default)]
pub(super) struct Refusals {
    first: OnceLock<Refusal>,
    count: AtomicU64,
}

impl Refusals {
    /// Why the first refused send went nowhere, if one was refused.
    pub(super) fn first(&self) -> Option<&Refusal> {
        self.first.get()
    }

    /// How many sends were refused.
    pub(super) fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }
}
