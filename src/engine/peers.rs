//! The TCP connections of one session: one task per connection that reads into the shared
//! buffer and writes what the session sends, reporting every byte both ways.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::SessionContext;
use super::jobs::SendAck;
use super::net::{describe, read_shared};
use super::reactions;
use crate::protocol::{Direction, Event, PeerId, SendTarget, SessionId};

/// Why a connection ended when the user disconnected it.
pub(super) const DISCONNECTED_BY_USER: &str = "disconnected by user";
/// Why a connection ended when the peer closed it (its FIN arrived).
const CLOSED_BY_PEER: &str = "closed by peer";
/// How long queued sends may take to drain after the peer's FIN.
const FLUSH_AFTER_FIN: Duration = Duration::from_secs(2);
/// Why a connection ended when its session stopped.
const SESSION_STOPPED: &str = "session stopped";

enum ConnectionCommand {
    /// Bytes to write; the ack (if any) is dropped once they are written or refused.
    Send(Bytes, Option<SendAck>),
    Close,
}

struct Connection {
    commands: mpsc::UnboundedSender<ConnectionCommand>,
}

/// A session's live connections.
pub(super) struct Peers {
    connections: BTreeMap<PeerId, Connection>,
    next_peer: u64,
    tracker: TaskTracker,
    closed_tx: mpsc::UnboundedSender<(PeerId, String)>,
}

/// Receives `(peer, reason)` each time a connection task ends; hand it to [`Peers::forget`].
pub(super) type ClosedReceiver = mpsc::UnboundedReceiver<(PeerId, String)>;

impl Peers {
    pub(super) fn new() -> (Self, ClosedReceiver) {
        let (closed_tx, closed_rx) = mpsc::unbounded_channel();
        let peers = Self {
            connections: BTreeMap::new(),
            next_peer: 1,
            tracker: TaskTracker::new(),
            closed_tx,
        };
        (peers, closed_rx)
    }

    /// Takes over a freshly opened connection: reports it and starts its task.
    pub(super) fn add(
        &mut self,
        context: &SessionContext,
        stream: TcpStream,
        addr: SocketAddr,
    ) -> PeerId {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        stream.set_nodelay(true).ok(); // only latency is at stake
        let (commands, command_rx) = mpsc::unbounded_channel();
        if let Some(welcome) = reactions::on_connect(context) {
            commands.send(ConnectionCommand::Send(welcome, None)).ok(); // the receiver is right here
        }
        let own_commands = commands.clone();
        let reactions = context.reactions.clone();
        self.connections.insert(peer, Connection { commands });
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        let id = context.id;
        let sink = context.sink.clone();
        let cancel = context.cancel.child_token();
        let closed_tx = self.closed_tx.clone();
        let replies = Replies {
            context: SessionContext {
                id,
                sink: sink.clone(),
                cancel: cancel.clone(),
                reactions,
            },
            commands: own_commands,
        };
        self.tracker.spawn(async move {
            let reason = run_connection(id, peer, stream, command_rx, &sink, cancel, replies).await;
            sink.send(Event::PeerDisconnected {
                id,
                peer,
                reason: reason.clone(),
                at: SystemTime::now(),
            });
            closed_tx.send((peer, reason)).ok(); // the session is gone, nothing to tell
        });
        peer
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
                for connection in self.connections.values() {
                    let command = ConnectionCommand::Send(data.clone(), ack.clone());
                    if connection.commands.send(command).is_ok() {
                        queued += 1;
                    }
                }
                if queued == 0 {
                    context
                        .sink
                        .warning(context.id, "not sent: no client is connected");
                }
            }
            SendTarget::Peer(peer) => {
                let queued = self.connections.get(&peer).is_some_and(|connection| {
                    connection
                        .commands
                        .send(ConnectionCommand::Send(data, ack))
                        .is_ok()
                });
                if !queued {
                    context.sink.warning(
                        context.id,
                        format!("not sent: client #{} is no longer connected", peer.0),
                    );
                }
            }
        }
    }

    /// Closes one connection at the user's request.
    pub(super) fn disconnect(&self, peer: PeerId) {
        if let Some(connection) = self.connections.get(&peer) {
            connection.commands.send(ConnectionCommand::Close).ok(); // already closing
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

/// What a connection's reader needs to answer auto-reply rules: the session's reactions
/// and its own connection's command queue, so a reply is written in order with other sends.
struct Replies {
    context: SessionContext,
    commands: mpsc::UnboundedSender<ConnectionCommand>,
}

async fn run_connection(
    id: SessionId,
    peer: PeerId,
    stream: TcpStream,
    mut commands: mpsc::UnboundedReceiver<ConnectionCommand>,
    sink: &super::EventSink,
    cancel: CancellationToken,
    replies: Replies,
) -> String {
    let (reader, mut writer) = stream.into_split();
    let reading = read_loop(id, peer, &reader, sink, &replies);
    let writing = write_loop(id, peer, &mut writer, &mut commands, sink);
    let reason = tokio::select! {
        reason = reading => reason,
        reason = writing => reason,
        () = cancel.cancelled() => SESSION_STOPPED.to_string(),
    };
    // From here on a send is refused (and reported by `Peers::send`).
    commands.close();
    if reason == CLOSED_BY_PEER {
        // The peer only said it has finished sending (it may still read, as `nc -N` or a
        // request/response client does): what was queued before its FIN, such as an echo
        // or an auto-reply to its last bytes, still goes out before we close.
        flush_queued(id, peer, &mut writer, &mut commands, sink).await;
    }
    // Whatever is left could not be sent: reported rather than lost without a word.
    let unsent = std::iter::from_fn(|| commands.try_recv().ok())
        .filter(|command| matches!(command, ConnectionCommand::Send(..)))
        .count();
    if unsent > 0 {
        sink.warning(
            id,
            format!("{unsent} send(s) to client #{} not sent: {reason}", peer.0),
        );
    }
    writer.shutdown().await.ok(); // the peer may already be gone
    reason
}

/// Writes the sends already queued, within [`FLUSH_AFTER_FIN`].
async fn flush_queued(
    id: SessionId,
    peer: PeerId,
    writer: &mut OwnedWriteHalf,
    commands: &mut mpsc::UnboundedReceiver<ConnectionCommand>,
    sink: &super::EventSink,
) {
    let flushing = async {
        while let Ok(ConnectionCommand::Send(data, _ack)) = commands.try_recv() {
            if writer.write_all(&data).await.is_err() {
                return;
            }
            sink.traffic(id, peer, Direction::Tx, data);
        }
    };
    tokio::time::timeout(FLUSH_AFTER_FIN, flushing).await.ok(); // leftovers are reported
}

async fn read_loop(
    id: SessionId,
    peer: PeerId,
    reader: &OwnedReadHalf,
    sink: &super::EventSink,
    replies: &Replies,
) -> String {
    loop {
        if let Err(e) = reader.readable().await {
            return describe(&e);
        }
        match read_shared(|buf| reader.try_read(buf).map(|n| (n, ()))) {
            Ok((data, ())) if data.is_empty() => return CLOSED_BY_PEER.to_string(),
            Ok((data, ())) => {
                let reply = reactions::auto_reply(&replies.context, peer, &data);
                sink.traffic(id, peer, Direction::Rx, data);
                if let Some(reply) = reply {
                    let command = ConnectionCommand::Send(reply, None);
                    replies.commands.send(command).ok(); // closing: the reply is moot
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return describe(&e),
        }
    }
}

async fn write_loop(
    id: SessionId,
    peer: PeerId,
    writer: &mut OwnedWriteHalf,
    commands: &mut mpsc::UnboundedReceiver<ConnectionCommand>,
    sink: &super::EventSink,
) -> String {
    while let Some(command) = commands.recv().await {
        match command {
            ConnectionCommand::Send(data, _ack) => {
                if let Err(e) = writer.write_all(&data).await {
                    sink.warning(
                        id,
                        format!("send to client #{} failed: {}", peer.0, describe(&e)),
                    );
                    return describe(&e);
                }
                sink.traffic(id, peer, Direction::Tx, data);
            }
            ConnectionCommand::Close => return DISCONNECTED_BY_USER.to_string(),
        }
    }
    SESSION_STOPPED.to_string()
}
