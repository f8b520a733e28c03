//! The WebSocket connections of one session, one task each: it reads messages (each data
//! message one `Traffic` event with its exact payload; ping, pong and close as notes) and
//! writes what the session sends, one message per send. Like the TCP `peers`, each
//! connection's send queue is bounded by bytes, background sends carry a [`SendAck`] that
//! is released once their message is written, and the user's disconnect is a signal beside
//! the queue. A connection we end (disconnect, session stop) sends a close 1000 and waits
//! briefly for the peer's answer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::super::dispatch::SessionContext;
use super::super::jobs::SendAck;
use super::super::peers::{DISCONNECTED_BY_USER, SEND_QUEUE_LIMIT_BYTES};
use super::super::reactions;
use super::super::sink::EventSink;
use super::{describe_close, describe_error, message_for};
use crate::protocol::{Direction, Event, PeerId, SendTarget, SessionId};

/// Any byte stream a WebSocket runs over: plain TCP or TLS.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket, whatever it runs over.
pub(super) type WsStream = WebSocketStream<Box<dyn Io>>;

/// How long queued sends may take to go out after the user's disconnect.
const FLUSH_BEFORE_CLOSE: Duration = Duration::from_secs(2);
/// How long our close frame may take to go out, and then the peer's answer to come back.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(1);
/// Why a connection ended when its session stopped.
const SESSION_STOPPED: &str = "session stopped";

/// One message to write; the ack (if any) is dropped once it is written or refused.
struct Outgoing(Bytes, Option<SendAck>);

/// The sending end of one connection's queue, with the bytes it holds.
#[derive(Clone)]
struct SendQueue {
    outgoing: mpsc::UnboundedSender<Outgoing>,
    queued_bytes: Arc<AtomicUsize>,
}

/// Why a send was not queued.
enum Refused {
    /// The connection is closing or closed.
    Closed,
    /// The peer is not reading fast enough: this many bytes already wait.
    Full(usize),
}

impl SendQueue {
    fn new() -> (Self, mpsc::UnboundedReceiver<Outgoing>) {
        let (outgoing, receiver) = mpsc::unbounded_channel();
        let queue = Self {
            outgoing,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
        };
        (queue, receiver)
    }

    /// Queues `data`, unless the queue is over [`SEND_QUEUE_LIMIT_BYTES`] (plain sends only:
    /// a background job bounds its own sends in flight) or the connection is closing.
    fn push(&self, data: Bytes, ack: Option<SendAck>) -> Result<(), Refused> {
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
}

/// One line for sends refused because `queued` bytes already wait for a peer.
fn queue_full_message(peers: &str, queued: usize) -> String {
    format!(
        "not sent to {peers}: {} KiB already queued because it is not reading \
         (limit {} KiB); send again once it reads",
        queued / 1024,
        SEND_QUEUE_LIMIT_BYTES / 1024
    )
}

/// `client #1`, or `3 clients (#1, #2, #5)` with at most a few ids.
fn describe_peers(peers: &[PeerId]) -> String {
    const SHOWN: usize = 5;
    match peers {
        [one] => format!("client #{}", one.0),
        _ => {
            let ids: Vec<String> = peers
                .iter()
                .take(SHOWN)
                .map(|p| format!("#{}", p.0))
                .collect();
            let more = if peers.len() > SHOWN { ", ..." } else { "" };
            format!("{} clients ({}{more})", peers.len(), ids.join(", "))
        }
    }
}

struct Connection {
    queue: SendQueue,
    /// Cancelled when the user disconnects this peer.
    close: CancellationToken,
}

/// Receives `(peer, reason)` each time a connection task ends; hand it to
/// [`WsPeers::forget`].
pub(super) type ClosedReceiver = mpsc::UnboundedReceiver<(PeerId, String)>;

/// A session's live WebSocket connections.
pub(super) struct WsPeers {
    connections: BTreeMap<PeerId, Connection>,
    next_peer: u64,
    tracker: TaskTracker,
    closed_tx: mpsc::UnboundedSender<(PeerId, String)>,
    /// Every send goes as a Binary message (the spec's `binary`).
    binary: bool,
}

impl WsPeers {
    /// No connections yet; `binary` forces Binary messages for every send.
    pub(super) fn new(binary: bool) -> (Self, ClosedReceiver) {
        let (closed_tx, closed_rx) = mpsc::unbounded_channel();
        let peers = Self {
            connections: BTreeMap::new(),
            next_peer: 1,
            tracker: TaskTracker::new(),
            closed_tx,
            binary,
        };
        (peers, closed_rx)
    }

    /// Takes over an open WebSocket: reports it, notes `opened` (how the upgrade went, a
    /// line each) and starts its task.
    pub(super) fn add(
        &mut self,
        context: &SessionContext,
        ws: WsStream,
        addr: SocketAddr,
        opened: Vec<String>,
    ) -> PeerId {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        let (queue, command_rx) = SendQueue::new();
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
        let cancel = context.cancel.child_token();
        let link = Link {
            id: context.id,
            peer,
            sink: context.sink.clone(),
            binary: self.binary,
        };
        for line in opened {
            link.note(line);
        }
        let replies = Replies {
            context: SessionContext {
                id: context.id,
                sink: context.sink.clone(),
                cancel: cancel.clone(),
                reactions: context.reactions.clone(),
            },
            queue,
        };
        let closed_tx = self.closed_tx.clone();
        self.tracker.spawn(async move {
            let signals = Signals { cancel, close };
            let reason = run_connection(&link, ws, command_rx, signals, replies).await;
            link.sink.send(Event::PeerDisconnected {
                id: link.id,
                peer,
                reason: reason.clone(),
                at: SystemTime::now(),
            });
            closed_tx.send((peer, reason)).ok(); // the session is gone, nothing to tell
        });
        peer
    }

    /// Sends one message to one peer or to all; reports a target that is gone.
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
                    context.sink.warning(
                        context.id,
                        queue_full_message(&describe_peers(&full), most_queued),
                    );
                } else if queued == 0 {
                    let why = "not sent: no client is connected";
                    match &ack {
                        Some(ack) => ack.refuse(why),
                        None => context.sink.warning(context.id, why),
                    }
                }
            }
            SendTarget::Peer(peer) => {
                let pushed = self
                    .connections
                    .get(&peer)
                    .map_or(Err(Refused::Closed), |c| c.queue.push(data, ack.clone()));
                match pushed {
                    Ok(()) => {}
                    Err(Refused::Full(bytes)) => context.sink.warning(
                        context.id,
                        queue_full_message(&describe_peers(&[peer]), bytes),
                    ),
                    Err(Refused::Closed) => {
                        let why = format!("not sent: client #{} is no longer connected", peer.0);
                        match &ack {
                            Some(ack) => ack.refuse(&why),
                            None => context.sink.warning(context.id, why),
                        }
                    }
                }
            }
        }
    }

    /// Closes one connection at the user's request (with a close 1000).
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

    /// Waits until every connection task has ended (after the session's token was
    /// cancelled): each sends its close and waits briefly for the answer.
    pub(super) async fn close_all(self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// What a connection's task reports through: its session, its peer id and the sink.
struct Link {
    id: SessionId,
    peer: PeerId,
    sink: EventSink,
    binary: bool,
}

impl Link {
    fn note(&self, message: String) {
        self.sink.send(Event::Note {
            id: self.id,
            peer: Some(self.peer),
            message,
            at: SystemTime::now(),
        });
    }
}

/// What a connection's reader needs to answer auto-reply rules: the session's reactions
/// and its own connection's send queue, so a reply is written in order with other sends.
struct Replies {
    context: SessionContext,
    queue: SendQueue,
}

/// What ends a connection from outside: the session's stop, or the user's disconnect.
struct Signals {
    cancel: CancellationToken,
    close: CancellationToken,
}

/// How the reading side ended.
enum ReadEnd {
    /// The peer closed: its close frame (described), then the end of the stream.
    PeerClosed(String),
    /// A message over the size limit: we answer with a close 1009.
    TooBig(String),
    /// The stream ended without a close handshake, or failed.
    Failed(String),
}

/// Which side of a connection ended it first.
enum Ended {
    Reading(ReadEnd),
    Writing(String),
    /// The user disconnected the peer.
    Closed,
    /// The session stopped.
    Stopped,
}

type Writer = SplitSink<WsStream, Message>;
type Reader = SplitStream<WsStream>;

async fn run_connection(
    link: &Link,
    ws: WsStream,
    mut commands: mpsc::UnboundedReceiver<Outgoing>,
    signals: Signals,
    replies: Replies,
) -> String {
    let (mut writer, mut reader) = ws.split();
    let queued_bytes = Arc::clone(&replies.queue.queued_bytes);
    // Set when no more sends are coming: the writer then ends once the queue is empty.
    let finish = CancellationToken::new();
    let ended = {
        let reading = read_loop(link, &mut reader, &replies);
        let writing = write_loop(link, &mut writer, &mut commands, &finish, &queued_bytes);
        tokio::pin!(reading, writing);
        let ended = tokio::select! {
            end = &mut reading => Ended::Reading(end),
            reason = &mut writing => Ended::Writing(reason),
            () = signals.close.cancelled() => Ended::Closed,
            () = signals.cancel.cancelled() => Ended::Stopped,
        };
        if matches!(ended, Ended::Closed) {
            // A send the user made just before disconnecting still goes out first; the
            // writer is not interrupted mid-message.
            finish.cancel();
            tokio::select! {
                _ = tokio::time::timeout(FLUSH_BEFORE_CLOSE, &mut writing) => {}
                () = signals.cancel.cancelled() => {}
            }
        }
        ended
    };
    // From here on a send is refused (and reported by `WsPeers::send`).
    commands.close();
    let reason = match ended {
        Ended::Reading(ReadEnd::PeerClosed(reason) | ReadEnd::Failed(reason)) => reason,
        Ended::Reading(ReadEnd::TooBig(reason)) => {
            let frame = CloseFrame {
                code: CloseCode::Size,
                reason: "message too big".into(),
            };
            // Best effort: the peer learns why, if it still listens.
            tokio::time::timeout(CLOSE_REPLY_WAIT, writer.send(Message::Close(Some(frame))))
                .await
                .ok();
            reason
        }
        Ended::Writing(reason) => reason,
        Ended::Closed => {
            close_ours(
                link,
                &mut writer,
                &mut reader,
                &replies,
                "disconnected by user",
            )
            .await;
            DISCONNECTED_BY_USER.to_string()
        }
        Ended::Stopped => {
            close_ours(link, &mut writer, &mut reader, &replies, SESSION_STOPPED).await;
            SESSION_STOPPED.to_string()
        }
    };
    // Whatever is left could not be sent: reported rather than lost without a word.
    let (mut unsent, mut unsent_bytes) = (0usize, 0usize);
    while let Ok(Outgoing(data, _ack)) = commands.try_recv() {
        unsent += 1;
        unsent_bytes += data.len();
    }
    if unsent > 0 {
        link.sink.warning(
            link.id,
            format!(
                "{unsent} message(s) ({unsent_bytes} bytes) to client #{} not sent: {reason}",
                link.peer.0
            ),
        );
    }
    reason
}

/// Our side of the close handshake: a close 1000, then the peer's answer (messages it sent
/// before answering are still logged), each step bounded by [`CLOSE_REPLY_WAIT`].
async fn close_ours(
    link: &Link,
    writer: &mut Writer,
    reader: &mut Reader,
    replies: &Replies,
    why: &str,
) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    match tokio::time::timeout(CLOSE_REPLY_WAIT, writer.send(Message::Close(Some(frame)))).await {
        Ok(Ok(())) => link.note(format!("sent close: 1000 normal ({why})")),
        Ok(Err(e)) => {
            link.note(format!(
                "could not send close ({why}): {}",
                describe_error(&e)
            ));
            return;
        }
        Err(_) => {
            link.note(format!(
                "could not send close ({why}): the peer is not reading; connection dropped"
            ));
            return;
        }
    }
    // The answer is noted as soon as it comes; then the peer should end the connection
    // (a server does at once, a client may linger), which is waited for in the same time.
    let deadline = tokio::time::Instant::now() + CLOSE_REPLY_WAIT;
    let mut answered = false;
    loop {
        match tokio::time::timeout_at(deadline, reader.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => {
                answered = true;
                link.note(format!(
                    "peer answered close: {}",
                    describe_close(frame.as_ref())
                ));
            }
            Ok(Some(Ok(message))) => received(link, replies, message),
            Ok(Some(Err(_)) | None) if answered => break,
            Ok(Some(Err(_)) | None) => {
                link.note("peer closed the connection without answering our close".into());
                break;
            }
            Err(_) if answered => break,
            Err(_) => {
                link.note(format!(
                    "no answer to our close within {} ms; connection dropped",
                    CLOSE_REPLY_WAIT.as_millis()
                ));
                break;
            }
        }
    }
}

/// Logs one message that arrived: data as traffic (and auto-reply), control frames as notes.
fn received(link: &Link, replies: &Replies, message: Message) {
    let data = match message {
        Message::Text(text) => Bytes::from(text),
        Message::Binary(data) => data,
        Message::Ping(payload) => {
            link.note(format!(
                "ping ({} bytes), answered with pong",
                payload.len()
            ));
            return;
        }
        Message::Pong(payload) => {
            link.note(format!("pong ({} bytes)", payload.len()));
            return;
        }
        Message::Close(frame) => {
            link.note(format!("peer closed: {}", describe_close(frame.as_ref())));
            return;
        }
        Message::Frame(_) => return, // only seen when writing raw frames
    };
    // Logged in order: what came in, which rule matched, what went out.
    link.sink
        .traffic(link.id, link.peer, Direction::Rx, data.clone());
    let reply = reactions::auto_reply(&replies.context, link.peer, &data);
    // Refused::Closed: closing, the reply is moot.
    if let Some(reply) = reply
        && let Err(Refused::Full(queued)) = replies.queue.push(reply, None)
    {
        let message = queue_full_message(&describe_peers(&[link.peer]), queued);
        link.sink.warning(link.id, format!("auto-reply {message}"));
    }
}

async fn read_loop(link: &Link, reader: &mut Reader, replies: &Replies) -> ReadEnd {
    // Set once the peer's close frame came: the stream should end right after.
    let mut peer_closed: Option<String> = None;
    loop {
        link.sink.wait_for_room().await;
        let next = match &peer_closed {
            None => reader.next().await,
            // A peer that closes but keeps the connection open is not waited for long.
            Some(_) => tokio::time::timeout(CLOSE_REPLY_WAIT, reader.next())
                .await
                .unwrap_or(None),
        };
        match next {
            Some(Ok(Message::Close(frame))) => {
                let description = describe_close(frame.as_ref());
                link.note(format!("peer closed: {description}"));
                peer_closed = Some(format!("closed by peer: {description}"));
            }
            Some(Ok(message)) => received(link, replies, message),
            None => {
                return ReadEnd::PeerClosed(
                    peer_closed.unwrap_or_else(|| "closed by peer".to_string()),
                );
            }
            Some(Err(e @ WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                return ReadEnd::TooBig(describe_error(&e));
            }
            Some(Err(e)) => {
                return match peer_closed {
                    // The handshake was done; only the TCP goodbye went wrong.
                    Some(reason) => ReadEnd::PeerClosed(reason),
                    None => ReadEnd::Failed(describe_error(&e)),
                };
            }
        }
    }
}

async fn write_loop(
    link: &Link,
    writer: &mut Writer,
    commands: &mut mpsc::UnboundedReceiver<Outgoing>,
    finish: &CancellationToken,
    queued_bytes: &AtomicUsize,
) -> String {
    loop {
        let next = tokio::select! {
            biased;
            next = commands.recv() => next,
            // Only what is already queued; then the loop ends.
            () = finish.cancelled() => commands.try_recv().ok(),
        };
        let Some(Outgoing(data, _ack)) = next else {
            return SESSION_STOPPED.to_string();
        };
        let written = writer.send(message_for(data.clone(), link.binary)).await;
        queued_bytes.fetch_sub(data.len(), Ordering::Relaxed);
        if let Err(e) = written {
            let reason = describe_error(&e);
            link.sink.warning(
                link.id,
                format!("send to client #{} failed: {reason}", link.peer.0),
            );
            return reason;
        }
        link.sink.traffic(link.id, link.peer, Direction::Tx, data);
    }
}
