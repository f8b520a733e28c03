//! The WebSocket connections of one session, one task each: it reads messages (each data
//! message one `Traffic` event with its exact payload; ping, pong and close as notes) and
//! writes what the session sends, one message per send. The send queue (bounded by bytes,
//! background sends carrying a [`SendAck`](super::super::session::SendAck) released once their
//! message is written), the user's disconnect and the list of connections are the
//! [`Registry`]'s, as for TCP. A connection we end (disconnect, session stop) sends a close
//! 1000 and waits briefly for the peer's answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

use super::super::registry::{
    Commands, Opened, Outgoing, Registry, Replies, Signals, next_outgoing, refuse_unsent,
};
use super::super::session::SessionContext;
use super::super::sink::EventSink;
use super::message::{close_of, fault, message_for};
use crate::protocol::{CloseReason, Direction, Note, PeerId, SessionId, Warning};

/// Any byte stream a WebSocket runs over: plain TCP or TLS.
pub(in crate::engine) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket, whatever it runs over.
pub(in crate::engine) type WsStream = WebSocketStream<Box<dyn Io>>;

/// How long queued sends may take to go out after the user's disconnect.
const FLUSH_BEFORE_CLOSE: Duration = Duration::from_secs(2);
/// How long our close frame may take to go out, and then the peer's answer to come back.
const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(1);

/// Takes over an open WebSocket: lists it as a peer, notes `opened` (how the upgrade went, a
/// line each) and starts its task; `binary` sends every message as Binary.
pub(super) fn add(
    registry: &mut Registry,
    context: &SessionContext,
    (ws, addr): (WsStream, SocketAddr),
    opened: Vec<Note>,
    binary: bool,
) -> PeerId {
    registry.start(context, addr, opened, move |opened: Opened| {
        let Opened {
            peer,
            commands,
            signals,
            replies,
            end,
        } = opened;
        let link = Link {
            id: context.id,
            peer,
            sink: end.sink().clone(),
            binary,
        };
        async move {
            let reason = run_connection(&link, ws, commands, signals, replies).await;
            end.report(reason);
        }
    })
}

/// What a connection's task reports through: its session, its peer id and the sink.
struct Link {
    id: SessionId,
    peer: PeerId,
    sink: EventSink,
    binary: bool,
}

impl Link {
    fn note(&self, note: Note) {
        self.sink.note(self.id, Some(self.peer), note);
    }
}

/// How the reading side ended.
enum ReadEnd {
    /// The peer closed: its close frame, then the end of the stream.
    PeerClosed(CloseReason),
    /// A message over the size limit: we answer with a close 1009.
    TooBig(CloseReason),
    /// The stream ended without a close handshake, or failed.
    Failed(CloseReason),
}

/// Which side of a connection ended it first.
enum Ended {
    Reading(ReadEnd),
    Writing(CloseReason),
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
    mut commands: Commands,
    signals: Signals,
    replies: Replies,
) -> CloseReason {
    let (mut writer, mut reader) = ws.split();
    let queued_bytes = replies.queue.queued_bytes();
    // Set when no more sends are coming: the writer then ends once the queue is empty.
    let finish = CancellationToken::new();
    let ended = {
        let reading = read_loop(link, &mut reader, &replies);
        let writing = write_loop(link, &mut writer, &mut commands, &finish, queued_bytes);
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
    // From here on a send is refused (and reported by `Registry::send`).
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
            let why = CloseReason::ByUser;
            close_ours(link, &mut writer, &mut reader, &replies, &why).await;
            why
        }
        Ended::Stopped => {
            let why = CloseReason::SessionStopped;
            close_ours(link, &mut writer, &mut reader, &replies, &why).await;
            why
        }
    };
    let link_id = (&link.sink, link.id, link.peer);
    refuse_unsent(&mut commands, link_id, true, &reason);
    reason
}

/// Our side of the close handshake: a close 1000, then the peer's answer (messages it sent
/// before answering are still logged), each step bounded by [`CLOSE_REPLY_WAIT`].
async fn close_ours(
    link: &Link,
    writer: &mut Writer,
    reader: &mut Reader,
    replies: &Replies,
    why: &CloseReason,
) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    match tokio::time::timeout(CLOSE_REPLY_WAIT, writer.send(Message::Close(Some(frame)))).await {
        Ok(Ok(())) => link.note(Note::WsCloseSent { why: why.clone() }),
        Ok(Err(e)) => {
            link.note(Note::WsCloseFailed {
                why: why.clone(),
                fault: fault(&e),
            });
            return;
        }
        Err(_) => {
            link.note(Note::WsCloseStuck { why: why.clone() });
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
                link.note(Note::WsCloseAnswered {
                    close: close_of(frame.as_ref()),
                });
            }
            Ok(Some(Ok(message))) => received(link, replies, message),
            Ok(Some(Err(_)) | None) if answered => break,
            Ok(Some(Err(_)) | None) => {
                link.note(Note::WsCloseUnanswered);
                break;
            }
            Err(_) if answered => break,
            Err(_) => {
                let ms = u64::try_from(CLOSE_REPLY_WAIT.as_millis()).unwrap_or(u64::MAX);
                link.note(Note::WsCloseTimeout { ms });
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
            link.note(Note::WsPing {
                bytes: payload.len(),
            });
            return;
        }
        Message::Pong(payload) => {
            link.note(Note::WsPong {
                bytes: payload.len(),
            });
            return;
        }
        Message::Close(frame) => {
            link.note(Note::WsPeerClosed {
                close: close_of(frame.as_ref()),
            });
            return;
        }
        Message::Frame(_) => return, // only seen when writing raw frames
    };
    if !replies.reacts() {
        // Nothing answers: the event is the message's only holder, not a clone dropped later.
        link.sink.traffic(link.id, link.peer, Direction::Rx, data);
        return;
    }
    // Logged in order: what came in, which rule matched, what went out.
    link.sink
        .traffic(link.id, link.peer, Direction::Rx, data.clone());
    replies.answer_message(link.peer, &data);
}

async fn read_loop(link: &Link, reader: &mut Reader, replies: &Replies) -> ReadEnd {
    // Set once the peer's close frame came: the stream should end right after.
    let mut peer_closed: Option<CloseReason> = None;
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
                let close = close_of(frame.as_ref());
                link.note(Note::WsPeerClosed {
                    close: close.clone(),
                });
                peer_closed = Some(CloseReason::WsClosedByPeer { close });
            }
            Some(Ok(message)) => received(link, replies, message),
            None => {
                return ReadEnd::PeerClosed(peer_closed.unwrap_or(CloseReason::ClosedByPeer));
            }
            Some(Err(e @ WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                return ReadEnd::TooBig(CloseReason::Ws(fault(&e)));
            }
            Some(Err(e)) => {
                return match peer_closed {
                    // The handshake was done; only the TCP goodbye went wrong.
                    Some(reason) => ReadEnd::PeerClosed(reason),
                    None => ReadEnd::Failed(CloseReason::Ws(fault(&e))),
                };
            }
        }
    }
}

async fn write_loop(
    link: &Link,
    writer: &mut Writer,
    commands: &mut Commands,
    finish: &CancellationToken,
    queued_bytes: &AtomicUsize,
) -> CloseReason {
    loop {
        let Some(Outgoing(data, _ack)) = next_outgoing(commands, finish).await else {
            return CloseReason::SessionStopped;
        };
        // A receiver behind on what was sent holds the writes back.
        link.sink.wait_for_room().await;
        let written = writer.send(message_for(data.clone(), link.binary)).await;
        queued_bytes.fetch_sub(data.len(), Ordering::Relaxed);
        if let Err(e) = written {
            let reason = CloseReason::Ws(fault(&e));
            let warning = Warning::SendFailed {
                peer: link.peer,
                cause: reason.clone(),
            };
            link.sink.warning(link.id, warning);
            return reason;
        }
        link.sink.traffic(link.id, link.peer, Direction::Tx, data);
    }
}
