//! The TCP and TLS connections of a session: the task of each one, which reads into the
//! shared buffer and writes what the session sends, reporting every byte both ways. A
//! connection is plain TCP (read straight from the socket, the fast path) or TLS (read
//! through tokio-rustls, so the log holds the decrypted application bytes) or a device (a
//! serial port, whose end is the device going away). The send queue,
//! the disconnect signal and the list of connections are the [`Registry`]'s.
//!
//! When the peer finishes sending (its FIN, or a TLS close_notify), what was queued is
//! flushed and the connection closes, unless the session has `half-open`: then it stays open
//! for our sends until the user disconnects it, the session stops or a write fails.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio_util::sync::CancellationToken;

use super::net::{READ_BUFFER_BYTES, read_fresh, read_shared};
use super::registry::{
    Commands, Opened, Outgoing, Registry, Replies, Signals, next_outgoing, refuse_unsent,
};
use super::session::SessionContext;
use super::sink::EventSink;
use crate::protocol::{CloseReason, Direction, Note, OsError, PeerId, SessionId, Warning};
use crate::spec::SessionSpec;
/// The largest TLS record's plaintext: a read this big suggests more is already decrypted,
/// and it is gathered into one entry of up to [`READ_BUFFER_BYTES`].
const TLS_READ_BYTES: usize = 16 * 1024;
/// How long queued sends may take to drain after the peer's FIN or the user's disconnect.
const FLUSH_AFTER_FIN: Duration = Duration::from_secs(2);
/// How long closing the write side may take (a TLS close_notify behind unread data).
const SHUTDOWN_WRITE_LIMIT: Duration = Duration::from_millis(500);

/// What a connection runs over.
pub(super) enum Stream {
    /// Plain TCP, read with `try_read` into a buffer allocated only when data is there.
    Tcp(TcpStream),
    /// A TLS stream whose handshake is done; read and written through tokio-rustls.
    Tls(Box<dyn ByteStream>),
    /// A device (a serial port) at `path`: its end of stream or read error is the device
    /// going away.
    Device {
        /// The open device.
        stream: Box<dyn ByteStream>,
        /// Its path, for the close reason.
        path: String,
    },
}

/// A bidirectional byte stream a connection task can own.
pub(super) trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ByteStream for T {}

/// What a connection does once its peer has finished sending (two bytes: every connection's
/// task holds it).
#[derive(Clone, Copy)]
pub(super) struct AfterFin {
    /// Stay open for our sends (the spec's `half-open`) instead of flushing and closing.
    keep_open: bool,
    /// The peer is a server (we are a client session), for the note.
    peer_is_server: bool,
}

impl AfterFin {
    /// As `spec` says, for connections whose peers are clients (in a server session) or
    /// servers (in a client session).
    pub(super) fn of(spec: &SessionSpec, peer_is_server: bool) -> Self {
        Self {
            keep_open: spec.options.keep_half_open,
            peer_is_server,
        }
    }
}

/// Takes over an open connection: lists it as a peer, then `note` (e.g. the TLS handshake's
/// outcome) on it, then starts its task, so the note comes before any of its traffic.
pub(super) fn add(
    registry: &mut Registry,
    context: &SessionContext,
    (stream, addr): (Stream, SocketAddr),
    note: Option<Note>,
    after_fin: AfterFin,
) -> PeerId {
    if let Stream::Tcp(tcp) = &stream {
        tcp.set_nodelay(true).ok(); // only latency is at stake
    }
    // Taken apart here, not in the task: the task then holds each part once. A plain TCP
    // task is about 1.4 KiB, in a task cell aligned to 128 bytes: a few bytes more can cost
    // 128 per client (see the `clients` bench).
    let driver = move |Opened {
                           peer,
                           commands,
                           signals,
                           replies,
                           end,
                       }| {
        async move {
            let link = Link {
                id: replies.context.id,
                peer,
                sink: end.sink(),
            };
            let reason = match stream {
                Stream::Tcp(stream) => {
                    let halves = stream.into_split();
                    run_connection(link, halves, commands, (signals, after_fin), replies).await
                }
                // Boxed, so a plain TCP connection's task is no larger for TLS's sake.
                Stream::Tls(stream) => {
                    let halves = tokio::io::split(stream);
                    let connection =
                        run_connection(link, halves, commands, (signals, after_fin), replies);
                    Box::pin(connection).await
                }
                Stream::Device { stream, path } => {
                    let (half, writer) = tokio::io::split(stream);
                    let reader = DeviceReader { half, path };
                    let halves = (reader, writer);
                    let connection =
                        run_connection(link, halves, commands, (signals, after_fin), replies);
                    Box::pin(connection).await
                }
            };
            end.report(reason);
        }
    };
    registry.start(context, addr, note, driver)
}

/// Which side of a connection ended it first.
enum Ended {
    /// The reader: the peer's FIN or a read error.
    Reading(CloseReason),
    /// The writer: a write error.
    Writing(CloseReason),
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
    sink: &'a EventSink,
}

/// The read side of a connection: runs the read loop that suits it.
trait ReadSide {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = CloseReason> + Send + 'a;
}

impl ReadSide for OwnedReadHalf {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = CloseReason> + Send + 'a {
        read_loop(link, self, replies)
    }
}

impl<S: AsyncRead + Send + Unpin> ReadSide for tokio::io::ReadHalf<S> {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = CloseReason> + Send + 'a {
        read_stream_loop(link, self, replies, tls_end)
    }
}

/// The read half of a device, with its path for the close reason.
struct DeviceReader<S> {
    half: tokio::io::ReadHalf<S>,
    path: String,
}

impl<S: AsyncRead + Send + Unpin> ReadSide for DeviceReader<S> {
    fn read_loop<'a>(
        &'a mut self,
        link: Link<'a>,
        replies: &'a Replies,
    ) -> impl Future<Output = CloseReason> + Send + 'a {
        read_device_loop(link, &mut self.half, replies, &self.path)
    }
}

/// How a TLS stream ended: a close_notify (`None`: end of stream) or an error.
fn tls_end(error: Option<&io::Error>) -> CloseReason {
    match error {
        None => CloseReason::ClosedByPeerTls,
        Some(e) => stream_read_error(e),
    }
}

/// How a device's stream ended: its end of stream, a hang-up (`EIO`, a pseudo-terminal whose
/// other side closed) or its path gone all mean the device went away; other errors are the
/// OS's.
pub(in crate::engine) fn device_end(path: &str, error: Option<&io::Error>) -> CloseReason {
    const HUNG_UP: i32 = 5; // EIO
    let gone = match error {
        None => true,
        Some(e) => {
            (cfg!(unix) && e.raw_os_error() == Some(HUNG_UP))
                || !std::path::Path::new(path).exists()
        }
    };
    match error {
        Some(e) if !gone => CloseReason::Io(OsError::of(e)),
        _ => CloseReason::DeviceGone {
            path: path.to_string(),
        },
    }
}

/// Runs one connection until it ends; returns why. Each kind of stream gets its own task
/// type, so a plain TCP connection's task (memory per client) is no larger for TLS's sake.
async fn run_connection<R: ReadSide, W: AsyncWrite + Unpin>(
    link: Link<'_>,
    (mut reader, mut writer): (R, W),
    mut commands: Commands,
    (signals, after_fin): (Signals, AfterFin),
    replies: Replies,
) -> CloseReason {
    let Link { id, peer, sink } = link;
    // Set when no more sends are coming: the writer then ends once the queue is empty.
    let finish = CancellationToken::new();
    let reason = {
        let reading = reader.read_loop(link, &replies);
        let queued_bytes = replies.queue.queued_bytes();
        let writing = write_loop(link, &mut writer, &mut commands, &finish, queued_bytes);
        tokio::pin!(reading, writing);
        let mut ended = tokio::select! {
            reason = &mut reading => Ended::Reading(reason),
            reason = &mut writing => Ended::Writing(reason),
            () = signals.close.cancelled() => Ended::Closed,
            () = signals.cancel.cancelled() => Ended::Stopped,
        };
        if let Ended::Reading(reason) = &ended
            && after_fin.keep_open
            && reason.peer_finished_sending()
        {
            // `half-open`: the peer only said it has finished sending; we keep sending
            // until the user disconnects it, the session stops or a write fails.
            let peer_is_server = after_fin.peer_is_server;
            sink.note(id, Some(peer), Note::HalfClosed { peer_is_server });
            ended = tokio::select! {
                reason = &mut writing => Ended::Writing(CloseReason::GoneAfterHalfClose {
                    peer_is_server,
                    cause: Box::new(reason),
                }),
                () = signals.close.cancelled() => Ended::Closed,
                () = signals.cancel.cancelled() => Ended::Stopped,
            };
        }
        let flush = match &ended {
            // The peer only said it has finished sending (it may still read, as `nc -N` or
            // a request/response client does): what was queued before its FIN, such as an
            // echo or an auto-reply to its last bytes, still goes out before we close.
            // Likewise a send the user made just before disconnecting. The writer is not
            // interrupted mid-write, so the peer never gets the head of one send followed
            // by another.
            Ended::Reading(reason) => reason.peer_finished_sending(),
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
            Ended::Closed => CloseReason::ByUser,
            Ended::Stopped => CloseReason::SessionStopped,
        }
    };
    refuse_unsent(&mut commands, (sink, id, peer), false, &reason);
    // TCP shuts down at once; TLS first writes what it holds and its close_notify, which
    // waits on a peer that reads nothing, so it gets a bounded time. The peer may be gone.
    tokio::time::timeout(SHUTDOWN_WRITE_LIMIT, writer.shutdown())
        .await
        .ok();
    reason
}

async fn read_loop(link: Link<'_>, reader: &OwnedReadHalf, replies: &Replies) -> CloseReason {
    let sink = link.sink;
    loop {
        sink.wait_for_room().await;
        if let Err(e) = reader.readable().await {
            return CloseReason::Io(OsError::of(&e));
        }
        match read_fresh(|buf| reader.try_read_buf(buf)) {
            Ok(data) if data.is_empty() => return CloseReason::ClosedByPeer,
            Ok(data) => received(link, replies, data),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return CloseReason::Io(OsError::of(&e)),
        }
    }
}

/// Logs what came in, then answers it if the session echoes or an auto-reply rule matches.
fn received(link: Link<'_>, replies: &Replies, data: Bytes) {
    if !replies.reacts() {
        // Nothing answers: the event is the read's only holder, not a clone dropped later.
        replies.pass();
        link.sink.traffic(link.id, link.peer, Direction::Rx, data);
        return;
    }
    // Logged in order: what came in, which rule matched, what went out.
    link.sink
        .traffic(link.id, link.peer, Direction::Rx, data.clone());
    replies.answer(link.peer, &data);
}

/// The read loop of a TLS connection or a device: reads (decrypted) bytes through `AsyncRead`
/// into the IO thread's shared buffer (an idle connection holds no buffer of its own), and
/// gathers what is already decrypted into one entry of up to [`READ_BUFFER_BYTES`] during a
/// flood. `end` says why the stream ended: at its end (`None`) or on an error.
async fn read_stream_loop<R: AsyncRead + Unpin>(
    link: Link<'_>,
    reader: &mut R,
    replies: &Replies,
    end: impl Fn(Option<&io::Error>) -> CloseReason + Send,
) -> CloseReason {
    loop {
        link.sink.wait_for_room().await;
        let first = match std::future::poll_fn(|cx| poll_read_shared(reader, cx, usize::MAX)).await
        {
            Ok(data) if data.is_empty() => return end(None),
            Ok(data) => data,
            Err(e) => return end(Some(&e)),
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
                    ended = Some(end(None));
                    break;
                }
                Some(Ok(data)) => gathered.extend_from_slice(&data),
                Some(Err(e)) => {
                    ended = Some(end(Some(&e)));
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

/// The read loop of a device (a serial port): each read is logged as it comes. With idle
/// framing (`idle:MS`) and rules, the rules match what came between two silences of the line
/// once it has been quiet for MS (a UART has no packets: a command often arrives in several
/// reads, and a rule matching each read would miss it); otherwise as [`read_stream_loop`]
/// (each read, or the frames the session's framing cuts). A burst keeps at most
/// [`MAX_BURST_BYTES`]; what comes after that in the same burst is not matched.
async fn read_device_loop<R: AsyncRead + Unpin>(
    link: Link<'_>,
    reader: &mut R,
    replies: &Replies,
    path: &str,
) -> CloseReason {
    let mut burst = BytesMut::new();
    let mut quiet_at: Option<tokio::time::Instant> = None;
    loop {
        link.sink.wait_for_room().await;
        let gap = replies.idle_gap();
        if gap.is_none() && quiet_at.take().is_some() {
            // The framing changed under a burst: match what came so far.
            replies.answer_burst(link.peer, &burst.split().freeze());
        }
        let quiet = tokio::time::sleep_until(quiet_at.unwrap_or_else(tokio::time::Instant::now));
        tokio::select! {
            read = std::future::poll_fn(|cx| poll_read_shared(reader, cx, usize::MAX)) => {
                let data = match read {
                    Ok(data) if data.is_empty() => return device_end(path, None),
                    Ok(data) => data,
                    Err(e) => return device_end(path, Some(&e)),
                };
                let Some(gap) = gap else {
                    received(link, replies, data);
                    continue;
                };
                link.sink.traffic(link.id, link.peer, Direction::Rx, data.clone());
                replies.echo_read(link.peer, &data);
                let room = MAX_BURST_BYTES.saturating_sub(burst.len());
                burst.extend_from_slice(&data[..data.len().min(room)]);
                quiet_at = Some(tokio::time::Instant::now() + gap);
            }
            () = quiet, if quiet_at.is_some() => {
                quiet_at = None;
                replies.answer_burst(link.peer, &burst.split().freeze());
            }
        }
    }
}

/// Most bytes of one device burst the rules see (idle framing): 1 MiB.
const MAX_BURST_BYTES: usize = 1024 * 1024;

/// Polls `reader` once into this thread's shared buffer (at most `max` bytes) and copies out
/// what it read; empty at the end of the stream.
pub(super) fn poll_read_shared<R: AsyncRead + Unpin>(
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
pub(super) fn stream_read_error(error: &io::Error) -> CloseReason {
    let tls_error = error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>());
    if error.kind() == io::ErrorKind::UnexpectedEof && !tls_error {
        return CloseReason::ClosedWithoutCloseNotify;
    }
    CloseReason::Tls(super::tls::fault(error))
}

async fn write_loop<W: AsyncWrite + Unpin>(
    link: Link<'_>,
    writer: &mut W,
    commands: &mut Commands,
    finish: &CancellationToken,
    queued_bytes: &AtomicUsize,
) -> CloseReason {
    let Link { id, peer, sink } = link;
    loop {
        let Some(Outgoing(data, _ack)) = next_outgoing(commands, finish).await else {
            return CloseReason::SessionStopped;
        };
        // A receiver behind on what was sent (a headless run printing to a slow pipe)
        // holds the writes back, as it holds back reads.
        sink.wait_for_room().await;
        // A no-op for TCP; TLS may hold the last record until flushed.
        let written = match writer.write_all(&data).await {
            Ok(()) => writer.flush().await,
            Err(e) => Err(e),
        };
        queued_bytes.fetch_sub(data.len(), Ordering::Relaxed);
        if let Err(e) = written {
            let cause = CloseReason::Io(OsError::of(&e));
            let warning = Warning::SendFailed {
                peer,
                cause: cause.clone(),
            };
            sink.warning(id, warning);
            return cause;
        }
        sink.traffic(id, peer, Direction::Tx, data);
    }
}
