//! The TCP relay session (`relay:PORT,to=HOST:PORT`): listens, and for each client (after
//! its TLS handshake, with `tls`) opens its own connection to the target (TLS with
//! `to-tls`), then runs the pair's two directions ([`super::pump`]) until both sides have
//! finished, one fails, a fault's limit fires, or the user closes it. A target that cannot be
//! reached closes the client with the reason. A FIN passes through as a FIN (a half-close);
//! `reset-after` ends both sides with a RST.
//!
//! With `to=serial:PATH` the target is a serial port, opened with the relay's line settings
//! for each client while it is connected (like ser2net; one client at a time unless
//! `max-clients=N` says otherwise: a second is refused as `max-clients=1` refuses it). The device going away ends the pair with
//! [`CloseReason::DeviceGone`] on the target's side.

use std::future::poll_fn;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};
use tokio_serial::SerialStream;
use tokio_util::either::Either;

use super::pairs::{PairEnds, Pairs};
use super::pump::{Destination, PumpEnd, PumpLink, Source, both_ways};
use crate::engine::net::{client_handshake_limit, millis, resolve, server_handshake_limit};
use crate::engine::peers::{device_end, poll_read_shared, stream_read_error};
use crate::engine::serial;
use crate::engine::session::{Outcome, SessionCommand, SessionContext};
use crate::engine::tcp_client::{connect, connect_limit};
use crate::engine::tcp_server::{ClientCap, listen};
use crate::engine::tls;
use crate::engine::tls_server;
use crate::protocol::{CloseReason, Note, OsError, StartFailure, TlsRejection, Warning};
use crate::relay::{Fired, Leg};
use crate::serial::SerialLine;
use crate::spec::{RelayTarget, SessionKind, SessionSpec};

/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);
/// How long passing a FIN on (or a TLS close_notify) may take.
const SHUTDOWN_WRITE_LIMIT: Duration = Duration::from_millis(500);
/// How long a serial pair goes on forwarding the device's answer after its client's end: a
/// serial port has no half-close, and a pair left open would hold the port from the next
/// client (`printf 'AT\r' | nc -N` still gets an answer given within this time).
const SERIAL_LINGER: Duration = Duration::from_secs(1);

/// One side of a pair: plain TCP, or TLS over it.
type Conn = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// The target's side of a pair: a connection, or a serial port.
type Far = Either<Conn, SerialStream>;

/// What every pair of the session needs to open its sides.
struct Sides {
    /// TLS for the clients (`tls`), with the time each handshake may take.
    acceptor: Option<(TlsAcceptor, Duration)>,
    /// Where each pair's target side goes.
    target: Target,
}

/// Where a relay's pairs go.
enum Target {
    /// A host, reached as a client session would reach it.
    Net {
        /// The target as a client session's spec (boxed: the serial variant is small).
        spec: Box<SessionSpec>,
        /// TLS to the target (`to-tls`).
        connector: Option<(TlsConnector, ServerName<'static>)>,
    },
    /// A serial port, opened for each pair with these settings.
    Serial {
        /// The port's path.
        path: String,
        /// Its line settings.
        line: SerialLine,
    },
}

pub(in crate::engine) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
    files_dir: Option<&Path>,
) -> Outcome {
    let target = match &spec.options.to {
        None => {
            let host = "to=HOST:PORT".to_string();
            return Outcome::StartFailed(StartFailure::NoAddress { host });
        }
        Some(RelayTarget::Serial { path }) => Target::Serial {
            path: path.clone(),
            line: spec.options.serial_line(),
        },
        Some(to) => {
            let Some(target) = to.client_spec(SessionKind::TlsClient, &spec.options) else {
                let host = to.to_string();
                return Outcome::StartFailed(StartFailure::NoAddress { host });
            };
            let connector = match spec.options.to_tls.then(|| tls::connector(&target)) {
                None => None,
                Some(Ok(connector)) => Some(connector),
                Some(Err(e)) => return Outcome::StartFailed(StartFailure::TlsSetup(e)),
            };
            Target::Net {
                spec: Box::new(target),
                connector,
            }
        }
    };
    let (listener, local_addr) = match listen(spec).await {
        Ok(listening) => listening,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    let (acceptor, certificate) = if spec.options.tls {
        // Named by the port actually bound, so a generated certificate's file says which relay.
        let mut bound = spec.clone();
        bound.port = local_addr.port();
        match tls::acceptor(&bound, files_dir) {
            Ok((acceptor, note)) => (Some((acceptor, server_handshake_limit(spec))), Some(note)),
            Err(e) => return Outcome::StartFailed(StartFailure::TlsSetup(e)),
        }
    } else {
        (None, None)
    };
    context.sink.started(context.id, local_addr);
    if let Some(note) = certificate {
        context.sink.note(context.id, None, note);
    }
    let sides = Arc::new(Sides { acceptor, target });
    let (mut pairs, mut closed) = Pairs::new(*spec.options.faults);
    // A serial port takes one client at a time (its bytes would go to whichever read first).
    let one_at_a_time = matches!(sides.target, Target::Serial { .. }).then_some(1);
    let mut cap = ClientCap::new(spec.options.max_clients.or(one_at_a_time));
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((_, addr)) if cap.refuses(context, pairs.len(), addr) => {
                    // Dropped: closed at once, never listed.
                }
                Ok((stream, addr)) => {
                    let sides = Arc::clone(&sides);
                    pairs.start(context, addr, move |ends| run_pair(ends, stream, sides));
                }
                Err(e) => {
                    let cause = OsError::of(&e);
                    context.sink.warning(context.id, Warning::AcceptFailed { cause });
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                }
            },
            command = commands.recv() => {
                if !pairs.command(context, command) {
                    break;
                }
            }
            Some(peer) = closed.recv() => {
                pairs.forget(peer);
                cap.settle(context, pairs.len());
            }
        }
    }
    cap.settle(context, 0);
    drop(listener);
    context.cancel.cancel();
    pairs.close_all().await;
    Outcome::Stopped
}

/// One pair, from the client's accepted connection to its end, which it reports.
async fn run_pair(ends: PairEnds, stream: TcpStream, sides: Arc<Sides>) {
    let PairEnds {
        peer,
        controls: [mut up_controls, mut down_controls],
        close,
        cancel,
        faults,
        done,
    } = ends;
    let sink = done.sink().clone();
    let id = done.id();
    let id_of = |link: Leg| PumpLink {
        id,
        peer,
        leg: link,
        sink: &sink,
    };
    let opened = tokio::select! {
        () = cancel.cancelled() => Err(CloseReason::SessionStopped),
        () = close.cancelled() => Err(CloseReason::ByUser),
        opened = open(&sides, stream) => opened,
    };
    let (client, target) = match opened {
        Ok((client, target, notes)) => {
            for note in notes {
                sink.note(id, Some(peer), note);
            }
            (client, target)
        }
        Err(reason) => {
            done.report(reason);
            return;
        }
    };
    let client_kind = match client {
        Either::Left(_) => SideKind::Plain,
        Either::Right(_) => SideKind::Tls,
    };
    let target_kind = match (&target, &sides.target) {
        (Either::Right(_), Target::Serial { path, .. }) => SideKind::Device(path.clone()),
        (Either::Left(Either::Right(_)), _) => SideKind::Tls,
        _ => SideKind::Plain,
    };
    let (client_r, client_w) = tokio::io::split(client);
    let (target_r, target_w) = tokio::io::split(target);
    let mut client_r = Reading {
        reader: client_r,
        kind: client_kind,
    };
    let mut target_r = Reading {
        reader: target_r,
        kind: target_kind,
    };
    let mut client_w = Writing(client_w);
    let mut target_w = Writing(target_w);
    let ending = {
        let (up, down) = both_ways(
            id_of,
            (&mut client_r, &mut target_w),
            (&mut target_r, &mut client_w),
            [&mut up_controls, &mut down_controls],
            faults,
        );
        tokio::pin!(up, down);
        let mut finished: Option<Leg> = None;
        let serial_target = matches!(sides.target, Target::Serial { .. });
        let linger = tokio::time::sleep(Duration::MAX);
        tokio::pin!(linger);
        let mut lingering = false;
        loop {
            tokio::select! {
                () = cancel.cancelled() => break Ending::Reason(CloseReason::SessionStopped),
                () = close.cancelled() => break Ending::Reason(CloseReason::ByUser),
                () = &mut linger, if lingering => break Ending::Reason(CloseReason::ClosedByPeer),
                end = &mut up, if finished != Some(Leg::Up) => {
                    match ended(Leg::Up, end, &mut finished) {
                        Some(ending) => break ending,
                        None if serial_target => {
                            linger.as_mut().reset(tokio::time::Instant::now() + SERIAL_LINGER);
                            lingering = true;
                        }
                        None => continue,
                    }
                }
                end = &mut down, if finished != Some(Leg::Down) => {
                    match ended(Leg::Down, end, &mut finished) {
                        Some(ending) => break ending,
                        None => continue,
                    }
                }
            }
        }
    };
    let reason = match ending {
        Ending::Reason(reason) => reason,
        Ending::Fault(leg, fired) => {
            let client = client_r.reader.unsplit(client_w.0);
            let target = target_r.reader.unsplit(target_w.0);
            end_by_fault(client, target, fired).await;
            CloseReason::Fault { leg, fired }
        }
    };
    done.report(reason);
}

/// How a pair ends.
enum Ending {
    /// For this reason; the sides close as they are dropped.
    Reason(CloseReason),
    /// A close or reset limit fired in `leg`.
    Fault(Leg, Fired),
}

/// What one direction's end means for the pair: `None` while the other direction goes on
/// (this one finished first: its FIN was passed on). `finished` holds the one that did.
fn ended(leg: Leg, end: PumpEnd, finished: &mut Option<Leg>) -> Option<Ending> {
    // Up reads the client and writes the target; down the other way round.
    let (reading_target, writing_target) = (leg == Leg::Down, leg == Leg::Up);
    let side = |target: bool, reason: CloseReason| {
        if target {
            CloseReason::ByTarget(Box::new(reason))
        } else {
            reason
        }
    };
    match end {
        // Both have finished: who finished first says why.
        PumpEnd::Finished => finished
            .replace(leg)
            .map(|first| Ending::Reason(side(first == Leg::Down, CloseReason::ClosedByPeer))),
        PumpEnd::ReadFailed(reason) => Some(Ending::Reason(side(reading_target, reason))),
        PumpEnd::WriteFailed(reason) => Some(Ending::Reason(side(writing_target, reason))),
        PumpEnd::Fault(fired) => Some(Ending::Fault(leg, fired)),
    }
}

/// A close limit passes a FIN to both sides; a reset limit a RST (SO_LINGER 0, then close).
/// A serial target has neither: it is closed as it is dropped.
async fn end_by_fault(client: Conn, target: Far, fired: Fired) {
    let mut sides = vec![client];
    if let Either::Left(conn) = target {
        sides.push(conn);
    }
    match fired {
        Fired::Reset { .. } => {
            for side in &sides {
                socket2::SockRef::from(tcp_of(side))
                    .set_linger(Some(Duration::ZERO))
                    .ok(); // a socket already gone is closed either way
            }
        }
        Fired::Close { .. } | Fired::Drop { .. } => {
            for side in &mut sides {
                tokio::time::timeout(SHUTDOWN_WRITE_LIMIT, side.shutdown())
                    .await
                    .ok(); // the peer may be gone
            }
        }
    }
}

/// The TCP connection under a side.
fn tcp_of(conn: &Conn) -> &TcpStream {
    match conn {
        Either::Left(tcp) => tcp,
        Either::Right(tls) => tls.get_ref().0,
    }
}

/// Opens both sides of a pair: the client's TLS handshake (`tls`), then the target's
/// connection (and its handshake, `to-tls`); returns them with notes about the handshakes
/// and the link.
///
/// # Errors
/// Why the pair cannot be: the client's handshake failed, or the target is unreachable.
async fn open(sides: &Sides, stream: TcpStream) -> Result<(Conn, Far, Vec<Note>), CloseReason> {
    stream.set_nodelay(true).ok(); // only latency is at stake
    let mut notes = Vec::new();
    let client = match &sides.acceptor {
        None => Either::Left(stream),
        Some((acceptor, limit)) => {
            let accepting = tokio::time::timeout(*limit, tls_server::accept(acceptor, stream));
            let tls = match accepting.await {
                Ok(Ok(tls)) => tls,
                Ok(Err(rejection)) => return Err(CloseReason::ClientTls(rejection)),
                Err(_) => {
                    let ms = millis(*limit);
                    return Err(CloseReason::ClientTls(TlsRejection::TimedOut { ms }));
                }
            };
            notes.push(tls::client_established(tls.get_ref().1));
            Either::Right(Box::new(TlsStream::Server(tls)))
        }
    };
    let unreachable = |failure: StartFailure| CloseReason::TargetUnreachable(Box::new(failure));
    let (target, connector) = match &sides.target {
        Target::Net { spec, connector } => (spec, connector),
        Target::Serial { path, line } => {
            let port = serial::open_stream(path, *line).map_err(|fault| {
                let path = path.clone();
                unreachable(StartFailure::SerialOpen { path, fault })
            })?;
            notes.push(Note::SerialOpened {
                path: path.clone(),
                line: *line,
            });
            return Ok((client, Either::Right(port), notes));
        }
    };
    let limit = connect_limit(target);
    let addr = resolve(target).await.map_err(unreachable)?;
    let tcp = connect(addr, limit).await.map_err(unreachable)?;
    let (Ok(local), Ok(target_addr)) = (tcp.local_addr(), tcp.peer_addr()) else {
        return Err(unreachable(StartFailure::ClosedWhileOpening));
    };
    notes.push(Note::RelayLinked {
        local,
        target: target_addr,
    });
    let target = match connector {
        None => Either::Left(tcp),
        Some((connector, name)) => {
            let limit = client_handshake_limit(target, limit);
            let handshake = connector.connect(name.clone(), tcp);
            let tls = match tokio::time::timeout(limit, handshake).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    let addr = addr.to_string();
                    let fault = tls::fault(&e);
                    return Err(unreachable(StartFailure::TlsHandshake { addr, fault }));
                }
                Err(_) => {
                    let ms = millis(limit);
                    return Err(unreachable(StartFailure::TlsHandshakeTimeout { addr, ms }));
                }
            };
            notes.push(tls::established(tls.get_ref().1));
            Either::Right(Box::new(TlsStream::Client(tls)))
        }
    };
    Ok((client, Either::Left(target), notes))
}

/// What a side is read from, for how its end is described.
enum SideKind {
    /// Plain TCP.
    Plain,
    /// TLS (its errors are described as such).
    Tls,
    /// A serial port (its end of stream or hang-up is the device gone).
    Device(String),
}

/// A side's read half as a pump's source.
struct Reading<R> {
    reader: R,
    kind: SideKind,
}

impl<R: AsyncRead + Unpin + Send> Source for Reading<R> {
    async fn next(&mut self) -> Result<Option<Bytes>, CloseReason> {
        let read = poll_fn(|cx| poll_read_shared(&mut self.reader, cx, usize::MAX)).await;
        match (read, &self.kind) {
            (Ok(data), SideKind::Device(path)) if data.is_empty() => Err(device_end(path, None)),
            (Ok(data), _) if data.is_empty() => Ok(None),
            (Ok(data), _) => Ok(Some(data)),
            (Err(e), SideKind::Tls) => Err(stream_read_error(&e)),
            (Err(e), SideKind::Device(path)) => Err(device_end(path, Some(&e))),
            (Err(e), SideKind::Plain) => Err(CloseReason::Io(OsError::of(&e))),
        }
    }
}

/// A side's write half as a pump's destination.
struct Writing<W>(W);

impl<W: AsyncWrite + Unpin + Send> Destination for Writing<W> {
    async fn write(&mut self, data: &Bytes) -> Result<(), CloseReason> {
        // A no-op flush for TCP; TLS may hold the last record until flushed.
        let written = match self.0.write_all(data).await {
            Ok(()) => self.0.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|e| CloseReason::Io(OsError::of(&e)))
    }

    async fn finish(&mut self) {
        tokio::time::timeout(SHUTDOWN_WRITE_LIMIT, self.0.shutdown())
            .await
            .ok(); // the peer may be gone
    }
}
