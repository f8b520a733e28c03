//! The TCP client session: connects (with a timeout), then runs the one connection until
//! the peer closes it, it fails, or the user stops the session. With `reconnect`, a failed
//! connect or an ended connection is followed by another connect every
//! [`RECONNECT_INTERVAL`] (a note says why once, sends meanwhile are refused) until the user
//! stops the session. The TLS client shares all but its connect ([`run_client`]).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::net::{millis, resolve};
use super::peers::{self, AfterFin, Stream};
use super::registry::{ClosedReceiver, Registry, refuse};
use super::session::{Outcome, SessionCommand, SessionContext};
use crate::protocol::{Disconnected, Note, OsError, Refusal, StartFailure};
use crate::spec::SessionSpec;

/// How long a connect may take before it is reported as timed out, unless the spec says.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a `reconnect` client waits before it connects again.
pub const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);

/// A client's open connection: the stream and its peer, the local address, and a note to
/// show on the peer (what TLS negotiated).
pub(super) type Opened = (Stream, SocketAddr, SocketAddr, Option<Note>);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    run_client(context, spec, commands, || async {
        let addr = resolve(spec).await?;
        let stream = connect(addr, connect_limit(spec)).await?;
        let (Ok(local_addr), Ok(peer_addr)) = (stream.local_addr(), stream.peer_addr()) else {
            return Err(StartFailure::ClosedWhileOpening);
        };
        Ok((Stream::Tcp(stream), peer_addr, local_addr, None))
    })
    .await
}

/// Runs a client session whose connection `open` makes: serves it until it ends; with the
/// spec's `reconnect`, opens another after a failed open or an ended connection, every
/// [`RECONNECT_INTERVAL`], until the user stops the session.
pub(super) async fn run_client<F, Fut>(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    open: F,
) -> Outcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Opened, StartFailure>>,
{
    let outcome = connect_and_serve(context, spec, commands, open).await;
    // The session's end (its jobs watch this token), as when its one connection ends.
    context.cancel.cancel();
    outcome
}

async fn connect_and_serve<F, Fut>(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
    mut open: F,
) -> Outcome
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Opened, StartFailure>>,
{
    // What the last note said, so a server that stays away is told once, not every second.
    let mut told: Option<Disconnected> = None;
    loop {
        let opened = tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            result = open() => result,
        };
        let why = match opened {
            Ok((stream, peer_addr, local_addr, note)) => {
                told = None;
                // This connection's own token: its end must not stop the session.
                let connection = SessionContext {
                    id: context.id,
                    sink: context.sink.clone(),
                    cancel: context.cancel.child_token(),
                    reactions: context.reactions.clone(),
                };
                let stream = (stream, peer_addr);
                match serve(&connection, spec, &mut commands, stream, local_addr, note).await {
                    Outcome::Ended(reason) if spec.options.reconnect => Disconnected::Ended(reason),
                    other => return other,
                }
            }
            Err(reason) if spec.options.reconnect => Disconnected::Connect(reason),
            Err(reason) => return Outcome::StartFailed(reason),
        };
        if told.as_ref() != Some(&why) {
            let note = Note::Reconnecting {
                why: why.clone(),
                every_ms: millis(RECONNECT_INTERVAL),
            };
            context.sink.note(context.id, None, note);
            told = Some(why);
        }
        if !wait_to_reconnect(context, &mut commands).await {
            return Outcome::Stopped;
        }
    }
}

/// Waits [`RECONNECT_INTERVAL`], refusing sends meanwhile; false when the user stopped the
/// session.
async fn wait_to_reconnect(
    context: &SessionContext,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
) -> bool {
    let again = tokio::time::sleep(RECONNECT_INTERVAL);
    tokio::pin!(again);
    loop {
        tokio::select! {
            biased;
            () = context.cancel.cancelled() => return false,
            command = commands.recv() => match command {
                None => return false,
                Some(SessionCommand::Send { ack, .. }) => {
                    refuse(context, ack.as_ref(), Refusal::Reconnecting);
                }
                Some(_) => {}
            },
            () = &mut again => return true,
        }
    }
}

/// Runs a client's one open connection: reports `Started`, lists the server as its peer (with
/// `note` on it), and forwards sends until the connection ends or the user stops the session.
pub(super) async fn serve(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    connection: (Stream, SocketAddr),
    local_addr: SocketAddr,
    note: Option<Note>,
) -> Outcome {
    context.sink.started(context.id, local_addr);
    let (mut registry, closed) = Registry::new();
    let after_fin = AfterFin::of(spec, true);
    peers::add(&mut registry, context, connection, note, after_fin);
    serve_one(context, commands, registry, closed).await
}

/// Forwards a client session's sends to its one connection (in `registry`) until the
/// connection ends (the session ends with its reason) or the user stops the session.
pub(super) async fn serve_one(
    context: &SessionContext,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    mut registry: Registry,
    mut closed: ClosedReceiver,
) -> Outcome {
    let outcome = loop {
        tokio::select! {
            // Cancellation first: a stop also ends the connection, and that end must not be
            // mistaken for the server closing it.
            biased;
            () = context.cancel.cancelled() => break Outcome::Stopped,
            command = commands.recv() => {
                if !registry.command(context, command, true) {
                    break Outcome::Stopped;
                }
            }
            Some((peer, reason)) = closed.recv() => {
                registry.forget(peer);
                if registry.len() == 0 {
                    break Outcome::Ended(reason);
                }
            }
        }
    };
    context.cancel.cancel();
    registry.close_all().await;
    outcome
}

/// The connect timeout the spec asks for, or [`CONNECT_TIMEOUT`].
pub(super) fn connect_limit(spec: &SessionSpec) -> Duration {
    spec.options
        .connect_timeout_ms
        .map_or(CONNECT_TIMEOUT, Duration::from_millis)
}

/// Opens a TCP connection to `addr` (Nagle off) unless `limit` passes first.
///
/// # Errors
/// [`StartFailure::Connect`] with the OS's cause, or [`StartFailure::ConnectTimeout`].
pub(super) async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, StartFailure> {
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            stream.set_nodelay(true).ok(); // only latency is at stake
            Ok(stream)
        }
        Ok(Err(e)) => Err(StartFailure::Connect {
            addr,
            cause: OsError::of(&e),
        }),
        Err(_) => Err(StartFailure::ConnectTimeout {
            addr,
            ms: millis(limit),
        }),
    }
}
