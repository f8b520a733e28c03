//! The live connections of one session, whatever they carry: TCP and TLS byte streams
//! ([`super::peers`]) and WebSocket message streams ([`super::ws`]) alike. The registry owns
//! each connection's bounded send queue, its close signal and its task; a kind only supplies
//! the task that drives its connection.
//!
//! Each connection's send queue is bounded by bytes ([`SEND_QUEUE_LIMIT_BYTES`]): a peer that
//! stops reading makes further sends refused with a warning instead of growing memory. The
//! user's disconnect is a signal beside the queue, so it works even while a write is stuck.
//! A session between connections refuses sends with a reason ([`refusing_sends`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::reactions;
use super::session::SendAck;
use super::session::{SessionCommand, SessionContext};
use super::sink::EventSink;
use crate::protocol::{
    CloseReason, Event, Note, PeerId, PeerList, Refusal, SendTarget, SessionId, Warning,
};

/// Bytes queued for one connection but not yet written (the peer is slow or not reading),
/// beyond which a plain send is refused. A single send larger than this still goes when
/// nothing else is queued. Background sends are not refused: their job already bounds its
/// sends in flight and waits for them, so the queue stays within this plus a few chunks.
pub(super) const SEND_QUEUE_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Bytes to write (one message, for a WebSocket); the ack (if any) is dropped once they are
/// written or refused.
pub(super) struct Outgoing(pub(super) Bytes, pub(super) Option<SendAck>);

/// The receiving end of a connection's send queue, owned by its task.
pub(super) type Commands = mpsc::UnboundedReceiver<Outgoing>;

/// The sending end of one connection's queue, with the bytes it holds.
#[derive(Clone)]
pub(super) struct SendQueue {
    outgoing: mpsc::UnboundedSender<Outgoing>,
    queued_bytes: Arc<AtomicUsize>,
}

/// Why a send was not queued.
pub(super) enum Refused {
    /// The connection is closing or closed.
    Closed,
    /// The peer is not reading fast enough: this many bytes already wait.
    Full(usize),
}

impl SendQueue {
    fn new() -> (Self, Commands) {
        let (outgoing, receiver) = mpsc::unbounded_channel();
        let queue = Self {
            outgoing,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
        };
        (queue, receiver)
    }

    /// Queues `data`, unless the queue is over [`SEND_QUEUE_LIMIT_BYTES`] (plain sends only)
    /// or the connection is closing.
    pub(super) fn push(&self, data: Bytes, ack: Option<SendAck>) -> Result<(), Refused> {
        let len = data.len();
        let queued = self.queued_bytes.load(Ordering::Relaxed);
        if ack.is_none() && queued > 0 && queued.saturating_add(len) > SEND_QUEUE_LIMIT_BYTES {
            return Err(Refused::Full(queued));
        }
        self.queued_bytes.fetch_add(len, Ordering::Relaxed);
        self.outgoing.send(Outgoing(data, ack)).map_err(|_| {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            Refused::Closed
        })
    }

    /// The count of bytes queued, which the writer lowers as it writes.
    pub(super) fn queued_bytes(&self) -> &AtomicUsize {
        &self.queued_bytes
    }
}

/// The warning for sends (or an auto-reply) refused because `queued` bytes already wait for
/// `peers`.
fn queue_full(peers: &[PeerId], queued: usize, auto_reply: bool) -> Warning {
    Warning::QueueFull {
        peers: PeerList::of(peers),
        queued_kib: queued / 1024,
        limit_kib: SEND_QUEUE_LIMIT_BYTES / 1024,
        auto_reply,
    }
}

/// What a connection's reader needs to answer auto-reply rules: the session's reactions
/// and its own connection's send queue, so a reply is written in order with other sends.
pub(super) struct Replies {
    pub(super) context: SessionContext,
    pub(super) queue: SendQueue,
    /// The connection's frame cutter for auto-reply (see [`reactions::StreamFrames`]).
    pub(super) frames: reactions::StreamFrames,
}

impl Replies {
    /// Answers `data` that came from `peer` if an auto-reply rule matches; call it right
    /// after logging `data`, so the log reads: what came in, which rule matched, what went out.
    /// With the session's framing, rules match once per complete frame of the stream.
    pub(super) fn answer(&self, peer: PeerId, data: &Bytes) {
        let replies = reactions::auto_replies_stream(&self.context, peer, &self.frames, data);
        self.queue_replies(peer, replies);
    }

    /// Whether the session answers what it reads (it echoes, or has rules). When it does
    /// not, a read needs no look and the engine keeps no clone of it, so the event holds
    /// the read's buffer alone and the log can keep it without a copy
    /// (`TrafficLog::push_shared`); call [`Replies::pass`] for such a read.
    pub(super) fn reacts(&self) -> bool {
        reactions::reacts(&self.context)
    }

    /// What [`Replies::answer`] does with a stream's read when nothing answers: the partial
    /// frame held for the rules is dropped, so rules set later start at the next read.
    pub(super) fn pass(&self) {
        self.frames.forget();
    }

    /// With idle framing and rules, the silence that ends a device's burst (see
    /// [`reactions::idle_gap`]).
    pub(super) fn idle_gap(&self) -> Option<std::time::Duration> {
        reactions::idle_gap(&self.context)
    }

    /// Echoes one read of a device whose rules match bursts, if the session echoes.
    pub(super) fn echo_read(&self, peer: PeerId, data: &Bytes) {
        let replies = reactions::echo_read(&self.context, data);
        self.queue_replies(peer, replies);
    }

    /// Answers a device's burst (what came between two silences) if a rule matches it.
    pub(super) fn answer_burst(&self, peer: PeerId, burst: &Bytes) {
        let replies = reactions::auto_replies_burst(&self.context, peer, burst);
        self.queue_replies(peer, replies);
    }

    /// Answers one whole message (a WebSocket message) that came from `peer`: cut by the
    /// session's framing on its own, never joined with the next message.
    pub(super) fn answer_message(&self, peer: PeerId, data: &Bytes) {
        let replies = reactions::auto_replies_message(&self.context, peer, data);
        self.queue_replies(peer, replies);
    }

    fn queue_replies(&self, peer: PeerId, replies: Vec<Bytes>) {
        for reply in replies {
            // Refused::Closed: closing, the reply is moot.
            if let Err(Refused::Full(queued)) = self.queue.push(reply, None) {
                let warning = queue_full(&[peer], queued, true);
                self.context.sink.warning(self.context.id, warning);
                break;
            }
        }
    }
}

/// What ends a connection from outside: the session's stop, or the user's disconnect.
pub(super) struct Signals {
    pub(super) cancel: CancellationToken,
    pub(super) close: CancellationToken,
}

/// Everything a new connection's task takes over.
pub(super) struct Opened {
    pub(super) peer: PeerId,
    pub(super) commands: Commands,
    pub(super) signals: Signals,
    pub(super) replies: Replies,
    pub(super) end: End,
}

/// How a connection's task reports its end: hand the reason to [`End::report`].
pub(super) struct End {
    id: SessionId,
    peer: PeerId,
    sink: EventSink,
    closed_tx: mpsc::UnboundedSender<(PeerId, CloseReason)>,
}

impl End {
    /// The sink the connection reports through.
    pub(super) fn sink(&self) -> &EventSink {
        &self.sink
    }

    /// Reports the peer disconnected with `reason` and hands it to the session's
    /// [`ClosedReceiver`].
    pub(super) fn report(self, reason: CloseReason) {
        self.sink.send(Event::PeerDisconnected {
            id: self.id,
            peer: self.peer,
            reason: reason.clone(),
            at: SystemTime::now(),
        });
        self.closed_tx.send((self.peer, reason)).ok(); // the session is gone, nothing to tell
    }
}

struct Connection {
    queue: SendQueue,
    /// Cancelled when the user disconnects this peer.
    close: CancellationToken,
}

/// Receives `(peer, reason)` each time a connection task ends; hand it to
/// [`Registry::forget`].
pub(super) type ClosedReceiver = mpsc::UnboundedReceiver<(PeerId, CloseReason)>;

/// A session's live connections.
pub(super) struct Registry {
    connections: BTreeMap<PeerId, Connection>,
    next_peer: u64,
    tracker: TaskTracker,
    closed_tx: mpsc::UnboundedSender<(PeerId, CloseReason)>,
}

impl Registry {
    pub(super) fn new() -> (Self, ClosedReceiver) {
        let (closed_tx, closed_rx) = mpsc::unbounded_channel();
        let registry = Self {
            connections: BTreeMap::new(),
            next_peer: 1,
            tracker: TaskTracker::new(),
            closed_tx,
        };
        (registry, closed_rx)
    }

    /// Lists a new connection: reports it, then `notes` on it (e.g. the TLS handshake's
    /// outcome), queues the session's welcome message, and runs the task `driver` makes for
    /// it, which ends by reporting why through [`Opened::end`]. The task is spawned as the
    /// driver made it, not wrapped: a future awaited inside another is stored twice, and a
    /// plain TCP connection's memory counts (10,000 clients).
    pub(super) fn start<D, F>(
        &mut self,
        context: &SessionContext,
        addr: SocketAddr,
        notes: impl IntoIterator<Item = Note>,
        driver: D,
    ) -> PeerId
    where
        D: FnOnce(Opened) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let opened = self.open(context, addr, notes);
        let peer = opened.peer;
        self.tracker.spawn(driver(opened));
        peer
    }

    fn open(
        &mut self,
        context: &SessionContext,
        addr: SocketAddr,
        notes: impl IntoIterator<Item = Note>,
    ) -> Opened {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        let (queue, commands) = SendQueue::new();
        if let Some(welcome) = reactions::on_connect(context) {
            queue.push(welcome, None).ok(); // the queue is empty and its receiver right here
        }
        let close = CancellationToken::new();
        self.connections.insert(
            peer,
            Connection {
                queue: queue.clone(),
                close: close.clone(),
            },
        );
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        for note in notes {
            context.sink.note(context.id, Some(peer), note);
        }
        let cancel = context.cancel.child_token();
        let replies = Replies {
            context: SessionContext {
                id: context.id,
                sink: context.sink.clone(),
                cancel: cancel.clone(),
                reactions: context.reactions.clone(),
            },
            queue,
            frames: reactions::StreamFrames::default(),
        };
        let end = End {
            id: context.id,
            peer,
            sink: context.sink.clone(),
            closed_tx: self.closed_tx.clone(),
        };
        Opened {
            peer,
            commands,
            signals: Signals { cancel, close },
            replies,
            end,
        }
    }

    /// Carries out a send or a disconnect from the user; a client session (`to_all`) sends
    /// to its one connection whatever the target. Returns false when the session's command
    /// channel has closed (`None`).
    pub(super) fn command(
        &self,
        context: &SessionContext,
        command: Option<SessionCommand>,
        to_all: bool,
    ) -> bool {
        match command {
            Some(SessionCommand::Send { target, data, ack }) => {
                let target = if to_all { SendTarget::All } else { target };
                self.send(context, target, data, ack);
                true
            }
            Some(SessionCommand::DisconnectPeer(peer)) => {
                self.disconnect(peer);
                true
            }
            // Only relays and serial ports get these (the dispatcher sees to it); a serial
            // session takes its own before they come here.
            Some(SessionCommand::Relay(_) | SessionCommand::Serial(_)) => true,
            None => false,
        }
    }

    /// Sends to one peer or to all; reports a target that is gone. A connection whose task
    /// has ended but is not yet forgotten refuses the bytes, and counts as gone.
    pub(super) fn send(
        &self,
        context: &SessionContext,
        target: SendTarget,
        data: Bytes,
        ack: Option<SendAck>,
    ) {
        match target {
            SendTarget::All => {
                let mut queued = 0;
                let mut full: Vec<PeerId> = Vec::new();
                let mut most_queued = 0;
                for (peer, connection) in &self.connections {
                    match connection.queue.push(data.clone(), ack.clone()) {
                        Ok(()) => queued += 1,
                        Err(Refused::Full(bytes)) => {
                            full.push(*peer);
                            most_queued = most_queued.max(bytes);
                        }
                        Err(Refused::Closed) => {}
                    }
                }
                if !full.is_empty() {
                    let warning = queue_full(&full, most_queued, false);
                    context.sink.warning(context.id, warning);
                } else if queued == 0 {
                    refuse(context, ack.as_ref(), Refusal::NoClient);
                }
            }
            SendTarget::Peer(peer) => {
                let pushed = self
                    .connections
                    .get(&peer)
                    .map_or(Err(Refused::Closed), |c| c.queue.push(data, ack.clone()));
                match pushed {
                    Ok(()) => {}
                    Err(Refused::Full(bytes)) => {
                        let warning = queue_full(&[peer], bytes, false);
                        context.sink.warning(context.id, warning);
                    }
                    Err(Refused::Closed) => {
                        refuse(context, ack.as_ref(), Refusal::PeerGone { peer });
                    }
                }
            }
        }
    }

    /// Closes one connection at the user's request.
    pub(super) fn disconnect(&self, peer: PeerId) {
        if let Some(connection) = self.connections.get(&peer) {
            connection.close.cancel();
        }
    }

    /// Drops a connection whose task has ended.
    pub(super) fn forget(&mut self, peer: PeerId) {
        self.connections.remove(&peer);
    }

    /// Number of live connections.
    pub(super) fn len(&self) -> usize {
        self.connections.len()
    }

    /// Waits until every connection task has ended (after the session's token was cancelled).
    pub(super) async fn close_all(self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Says why a send went nowhere: to its job (which ends with it, instead of a warning per
/// tick), or as a warning for a plain send.
pub(super) fn refuse(context: &SessionContext, ack: Option<&SendAck>, refusal: Refusal) {
    match ack {
        Some(ack) => ack.refuse(refusal),
        None => context.sink.warning(context.id, Warning::NotSent(refusal)),
    }
}

/// Runs `until` while a session has nothing to send to (a client between connections, a
/// serial port whose device is away): sends are refused with `refusal`, other commands
/// dropped. `None` when the user stops the session first.
pub(super) async fn refusing_sends<T>(
    context: &SessionContext,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    refusal: Refusal,
    until: impl Future<Output = T>,
) -> Option<T> {
    tokio::pin!(until);
    loop {
        tokio::select! {
            biased;
            () = context.cancel.cancelled() => return None,
            command = commands.recv() => match command {
                None => return None,
                Some(SessionCommand::Send { ack, .. }) => {
                    refuse(context, ack.as_ref(), refusal.clone());
                }
                Some(_) => {}
            },
            done = &mut until => return Some(done),
        }
    }
}

/// Closes a connection's queue once its task is done writing (a later send is refused and
/// reported by [`Registry::send`]) and reports what was left in it, rather than losing it
/// without a word; `messages` says the unit is WebSocket messages (else sends).
pub(super) fn refuse_unsent(
    commands: &mut Commands,
    (sink, id, peer): (&EventSink, SessionId, PeerId),
    messages: bool,
    reason: &CloseReason,
) {
    commands.close();
    let (mut unsent, mut unsent_bytes) = (0usize, 0usize);
    while let Ok(Outgoing(data, ack)) = commands.try_recv() {
        if let Some(ack) = ack {
            ack.lost_by(peer); // a scenario's send learns it was not written
        }
        unsent += 1;
        unsent_bytes += data.len();
    }
    if unsent > 0 {
        let warning = Warning::Unsent {
            count: unsent,
            messages,
            bytes: unsent_bytes,
            peer,
            reason: reason.clone(),
        };
        sink.warning(id, warning);
    }
}

/// The next send for a connection's writer: waits for one, or once `finish` is set takes
/// only what is already queued. `None` when there is nothing more to write.
pub(super) async fn next_outgoing(
    commands: &mut Commands,
    finish: &CancellationToken,
) -> Option<Outgoing> {
    tokio::select! {
        biased;
        next = commands.recv() => next,
        // Only what is already queued; then the loop ends.
        () = finish.cancelled() => commands.try_recv().ok(),
    }
}
