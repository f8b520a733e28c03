//! The TCP connections of one session: one task per connection that reads into the shared
//! buffer and writes what the session sends, reporting every byte both ways. A connection is
//! plain TCP (read straight from the socket, the fast path) or TLS (read through tokio-rustls,
//! so the log holds the decrypted application bytes).
//!
//! Each connection's send queue is bounded by bytes ([`SEND_QUEUE_LIMIT_BYTES`]): a peer that
//! stops reading makes further sends refused with a warning instead of growing memory. The
//! user's disconnect is a signal beside the queue, so it works even while a write is stuck.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::SessionContext;
use super::jobs::SendAck;
use super::net::{READ_BUFFER_BYTES, describe, read_fresh, read_shared};
use super::reactions;
use crate::protocol::{Direction, Event, PeerId, SendTarget, SessionId};

/// Why a connection ended when the user disconnected it.
pub(super) const DISCONNECTED_BY_USER: &str = "disconnected by user";
/// Why a connection ended when the peer closed it (its FIN arrived).
const CLOSED_BY_PEER: &str = "closed by peer";
/// Why a TLS connection ended when the peer closed it properly (close_notify, then FIN).
const CLOSED_BY_PEER_TLS: &str = "closed by peer (TLS close_notify)";
/// Why a TLS connection ended when the TCP connection closed without a close_notify first.
const CLOSED_WITHOUT_CLOSE_NOTIFY: &str =
    "peer closed without close_notify (the connection was cut, or the peer skips the TLS close)";
/// The largest TLS record's plaintext: a read this big suggests more is already decrypted,
/// and it is gathered into one entry of up to [`READ_BUFFER_BYTES`].
const TLS_READ_BYTES: usize = 16 * 1024;
/// How long queued sends may take to drain after the peer's FIN or the user's disconnect.
const FLUSH_AFTER_FIN: Duration = Duration::from_secs(2);
/// Bytes queued for one connection but not yet written (the peer is slow or not reading),
/// beyond which a plain send is refused. A single send larger than this still goes when
/// nothing else is queued. Background sends are not refused: their job already bounds its
/// sends in flight and waits for them, so the queue stays within this plus a few chunks.
pub(super) const SEND_QUEUE_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// How long closing the write side may take (a TLS close_notify behind unread data).
const SHUTDOWN_WRITE_LIMIT: Duration = Duration::from_millis(500);
/// Why a connection ended when its session stopped.
const SESSION_STOPPED: &str = "session stopped";

/// What a connection runs over.
pub(super) enum Stream {
    /// Plain TCP, read with `try_read` into a buffer allocated only when data is there.
    Tcp(TcpStream),
    /// A TLS stream whose handshake is done; read and written through tokio-rustls.
    Tls(Box<dyn ByteStream>),
}

/// A bidirectional byte stream a connection task can own.
pub(super) trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ByteStream for T {}

/// Bytes to write; the ack (if any) is dropped once they are written or refused.
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

    /// Queues `data`, unless the queue is over [`SEND_QUEUE_LIMIT_BYTES`] (plain sends only)
    /// or the connection is closing.
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

struct Connection {
    queue: SendQueue,
    /// Cancelled when the user disconnects this peer.
    close: CancellationToken,
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

    /// Takes over a freshly opened TCP connection: reports it and starts its task.
    pub(super) fn add(
        &mut self,
        context: &SessionContext,
        stream: TcpStream,
        addr: SocketAddr,
    ) -> PeerId {
        stream.set_nodelay(true).ok(); // only latency is at stake
        self.add_stream(context, Stream::Tcp(stream), addr, None)
    }

    /// Takes over a connection of any kind: reports it, then `note` (e.g. the TLS handshake's
    /// outcome) on it, then starts its task, so the note comes before any of its traffic.
    pub(super) fn add_stream(
        &mut self,
        context: &SessionContext,
        stream: Stream,
        addr: SocketAddr,
        note: Option<String>,
    ) -> PeerId {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        let (queue, command_rx) = SendQueue::new();
        if let Some(welcome) = reactions::on_connect(context) {
            queue.push(welcome, None).ok(); // the queue is empty and its receiver right here
        }
        let own_queue = queue.clone();
        let reactions = context.reactions.clone();
        let close = CancellationToken::new();
        self.connections.insert(
            peer,
            Connection {
                queue,
                close: close.clone(),
            },
        );
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        if let Some(message) = note {
            context.sink.send(Event::Note {
                id: context.id,
                peer: Some(peer),
                message,
                at: SystemTime::now(),
            });
        }
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
            queue: own_queue,
        };
        self.tracker.spawn(async move {
            let signals = Signals { cancel, close };
            let link = Link {
                id,
                peer,
                sink: &sink,
            };
            let reason = match stream {
                Stream::Tcp(stream) => {
                    let halves = stream.into_split();
                    run_connection(link, halves, command_rx, signals, replies).await
                }
                // Boxed, so a plain TCP connection's task is no larger for TLS's sake.
                Stream::Tls(stream) => {
                    let halves = tokio::io::split(stream);
                    Box::pin(run_connection(link, halves, command_rx, signals, replies)).await
                }
            };
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

/// Which side of a connection ended it first.
enum Ended {
    /// The reader: the peer's FIN or a read error.
    Reading(String),
    /// The writer: a write error.
    Writing(String),
    /// The user disconnected the peer.
    Closed,
    /// The session stopped.
    Stopped,
}

/// Who a connection task reports as.
#[derive(Clone, Copy)]
struct Link<'a> {
    id: SessionId,
    peer: PeerId,
    sink: &'a super::EventSink,
}

/// The read side of a connection: runs the read loop that suits it.
trait ReadSide {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = String> + Send + 'a;
}

impl ReadSide for OwnedReadHalf {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = String> + Send + 'a {
        read_loop(link.id, link.peer, self, link.sink, replies)
    }
}

impl<S: AsyncRead + Send + Unpin> ReadSide for tokio::io::ReadHalf<S> {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = String> + Send + 'a {
        read_stream_loop(link, self, replies)
    }
}

/// Runs one connection until it ends; returns why. Each kind of stream gets its own task
/// type, so a plain TCP connection's task (memory per client) is no larger for TLS's sake.
async fn run_connection<R: ReadSide, W: AsyncWrite + Unpin>(
    link: Link<'_>,
    (mut reader, mut writer): (R, W),
    mut commands: mpsc::UnboundedReceiver<Outgoing>,
    signals: Signals,
    replies: Replies,
) -> String {
    let Link { id, peer, sink } = link;
    let queued_bytes = Arc::clone(&replies.queue.queued_bytes);
    // Set when no more sends are coming: the writer then ends once the queue is empty.
    let finish = CancellationToken::new();
    let reason = {
        let reading = reader.read_loop(link, &replies);
        let writing = write_loop(
            id,
            peer,
            &mut writer,
            &mut commands,
            sink,
            &finish,
            &queued_bytes,
        );
        tokio::pin!(reading, writing);
        let ended = tokio::select! {
            reason = &mut reading => Ended::Reading(reason),
            reason = &mut writing => Ended::Writing(reason),
            () = signals.close.cancelled() => Ended::Closed,
            () = signals.cancel.cancelled() => Ended::Stopped,
        };
        let flush = match &ended {
            // The peer only said it has finished sending (it may still read, as `nc -N` or
            // a request/response client does): what was queued before its FIN, such as an
            // echo or an auto-reply to its last bytes, still goes out before we close.
            // Likewise a send the user made just before disconnecting. The writer is not
            // interrupted mid-write, so the peer never gets the head of one send followed
            // by another.
            Ended::Reading(reason) => peer_finished_sending(reason),
            Ended::Closed => true,
            Ended::Writing(_) | Ended::Stopped => false,
        };
        if flush {
            finish.cancel();
            tokio::select! {
                _ = tokio::time::timeout(FLUSH_AFTER_FIN, &mut writing) => {}
                () = signals.cancel.cancelled() => {}
            }
        }
        match ended {
            Ended::Reading(reason) | Ended::Writing(reason) => reason,
            Ended::Closed => DISCONNECTED_BY_USER.to_string(),
            Ended::Stopped => SESSION_STOPPED.to_string(),
        }
    };
    // From here on a send is refused (and reported by `Peers::send`).
    commands.close();
    // Whatever is left could not be sent: reported rather than lost without a word.
    let (mut unsent, mut unsent_bytes) = (0usize, 0usize);
    while let Ok(Outgoing(data, _ack)) = commands.try_recv() {
        unsent += 1;
        unsent_bytes += data.len();
    }
    if unsent > 0 {
        sink.warning(
            id,
            format!(
                "{unsent} send(s) ({unsent_bytes} bytes) to client #{} not sent: {reason}",
                peer.0
            ),
        );
    }
    // TCP shuts down at once; TLS first writes what it holds and its close_notify, which
    // waits on a peer that reads nothing, so it gets a bounded time. The peer may be gone.
    tokio::time::timeout(SHUTDOWN_WRITE_LIMIT, writer.shutdown())
        .await
        .ok();
    reason
}

/// The peer closed its side in order (FIN, with or without a TLS close_notify), so it may still
/// read what is queued for it.
fn peer_finished_sending(reason: &str) -> bool {
    reason == CLOSED_BY_PEER
        || reason == CLOSED_BY_PEER_TLS
        || reason == CLOSED_WITHOUT_CLOSE_NOTIFY
}

async fn read_loop(
    id: SessionId,
    peer: PeerId,
    reader: &OwnedReadHalf,
    sink: &super::EventSink,
    replies: &Replies,
) -> String {
    loop {
        sink.wait_for_room().await;
        if let Err(e) = reader.readable().await {
            return describe(&e);
        }
        match read_fresh(|buf| reader.try_read_buf(buf)) {
            Ok(data) if data.is_empty() => return CLOSED_BY_PEER.to_string(),
            Ok(data) => received(Link { id, peer, sink }, replies, data),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return describe(&e),
        }
    }
}

/// Logs what came in, then answers it if an auto-reply rule matches.
fn received(link: Link<'_>, replies: &Replies, data: Bytes) {
    let Link { id, peer, sink } = link;
    // Logged in order: what came in, which rule matched, what went out.
    sink.traffic(id, peer, Direction::Rx, data.clone());
    let reply = reactions::auto_reply(&replies.context, peer, &data);
    // Refused::Closed: closing, the reply is moot.
    if let Some(reply) = reply
        && let Err(Refused::Full(queued)) = replies.queue.push(reply, None)
    {
        let message = queue_full_message(&describe_peers(&[peer]), queued);
        sink.warning(id, format!("auto-reply {message}"));
    }
}

/// The read loop of a TLS connection: reads decrypted bytes through `AsyncRead` into the IO
/// thread's shared buffer (an idle connection holds no buffer of its own), and gathers what
/// is already decrypted into one entry of up to [`READ_BUFFER_BYTES`] during a flood.
async fn read_stream_loop<R: AsyncRead + Unpin>(
    link: Link<'_>,
    reader: &mut R,
    replies: &Replies,
) -> String {
    loop {
        link.sink.wait_for_room().await;
        let first = match std::future::poll_fn(|cx| poll_read_shared(reader, cx, usize::MAX)).await
        {
            Ok(data) if data.is_empty() => return CLOSED_BY_PEER_TLS.to_string(),
            Ok(data) => data,
            Err(e) => return stream_read_error(&e),
        };
        if first.len() < TLS_READ_BYTES {
            received(link, replies, first);
            continue;
        }
        // A full record or more: more may be decrypted already. Take it now, without waiting.
        let mut gathered = BytesMut::with_capacity(READ_BUFFER_BYTES);
        gathered.extend_from_slice(&first);
        let mut ended = None;
        while gathered.len() < READ_BUFFER_BYTES {
            let room = READ_BUFFER_BYTES - gathered.len();
            let now = std::future::poll_fn(|cx| {
                Poll::Ready(match poll_read_shared(reader, cx, room) {
                    Poll::Ready(result) => Some(result),
                    Poll::Pending => None,
                })
            })
            .await;
            match now {
                None => break,
                Some(Ok(data)) if data.is_empty() => {
                    ended = Some(CLOSED_BY_PEER_TLS.to_string());
                    break;
                }
                Some(Ok(data)) => gathered.extend_from_slice(&data),
                Some(Err(e)) => {
                    ended = Some(stream_read_error(&e));
                    break;
                }
            }
        }
        let data = if gathered.len() * 2 < gathered.capacity() {
            Bytes::copy_from_slice(&gathered)
        } else {
            gathered.freeze()
        };
        received(link, replies, data);
        if let Some(reason) = ended {
            return reason;
        }
    }
}

/// Polls `reader` once into this thread's shared buffer (at most `max` bytes) and copies out
/// what it read; empty at the end of the stream.
fn poll_read_shared<R: AsyncRead + Unpin>(
    reader: &mut R,
    cx: &mut std::task::Context<'_>,
    max: usize,
) -> Poll<io::Result<Bytes>> {
    let polled = read_shared(|buf| {
        let limit = max.min(buf.len());
        let mut read_buf = ReadBuf::new(&mut buf[..limit]);
        match Pin::new(&mut *reader).poll_read(cx, &mut read_buf) {
            Poll::Ready(Ok(())) => Ok((read_buf.filled().len(), true)),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok((0, false)),
        }
    });
    match polled {
        Ok((data, true)) => Poll::Ready(Ok(data)),
        Ok((_, false)) => Poll::Pending,
        Err(e) => Poll::Ready(Err(e)),
    }
}

/// Why a TLS read failed: tokio-rustls reports a TCP close without close_notify as
/// `UnexpectedEof`; a TLS error (a bad record, an alert) is described as such.
fn stream_read_error(error: &io::Error) -> String {
    let tls_error = error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>());
    if error.kind() == io::ErrorKind::UnexpectedEof && !tls_error {
        return CLOSED_WITHOUT_CLOSE_NOTIFY.to_string();
    }
    super::tls::describe_error(error)
}

async fn write_loop<W: AsyncWrite + Unpin>(
    id: SessionId,
    peer: PeerId,
    writer: &mut W,
    commands: &mut mpsc::UnboundedReceiver<Outgoing>,
    sink: &super::EventSink,
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
        // A no-op for TCP; TLS may hold the last record until flushed.
        let written = match writer.write_all(&data).await {
            Ok(()) => writer.flush().await,
            Err(e) => Err(e),
        };
        queued_bytes.fetch_sub(data.len(), Ordering::Relaxed);
        if let Err(e) = written {
            sink.warning(
                id,
                format!("send to client #{} failed: {}", peer.0, describe(&e)),
            );
            return describe(&e);
        }
        sink.traffic(id, peer, Direction::Tx, data);
    }
}
