//! The TCP client session: connects (with a timeout), then runs the one connection until
//! the peer closes it, it fails, or the user stops the session. With `reconnect`, a failed
//! connect or an ended connection is followed by another connect every
//! [`RECONNECT_INTERVAL`] (a note says why once, sends meanwhile are refused) until the user
//! stops the session. The TLS and WebSocket clients share that loop ([`run_client`], each a
//! [`Client`]).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::net::{millis, resolve};
use super::peers::{self, AfterFin, Stream};
use super::registry::{ClosedReceiver, Registry, refusing_sends};
use super::session::{Outcome, SessionCommand, SessionContext};
use crate::protocol::{Disconnected, Note, OsError, Refusal, StartFailure};
use crate::spec::SessionSpec;

/// How long a connect may take before it is reported as timed out, unless the spec says.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a `reconnect` client waits before it connects again, unless `reconnect=MS` says.
pub const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);

/// How long a `reconnect` client of `spec` waits before it connects again.
fn reconnect_interval(spec: &SessionSpec) -> Duration {
    spec.options
        .reconnect_ms
        .map_or(RECONNECT_INTERVAL, Duration::from_millis)
}

/// A kind of client session: how it opens its connection and how it serves one; the
/// reconnect loop ([`run_client`]) is theirs in common.
pub(super) trait Client {
    /// An open connection and what the session reports about it.
    type Connection: Send;

    /// Opens a connection (resolve, connect, handshakes).
    fn open(&self) -> impl Future<Output = Result<Self::Connection, StartFailure>> + Send;

    /// Runs `connection` until it ends or the user stops the session (`context`'s token).
    fn serve(
        &self,
        connection: Self::Connection,
        context: &SessionContext,
        commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A TCP or TLS client's open connection: the stream and its peer, the local address, and a
/// note to show on the peer (what TLS negotiated).
pub(super) type Opened = (Stream, SocketAddr, SocketAddr, Option<Note>);

/// The TCP client.
struct TcpClient<'a> {
    spec: &'a SessionSpec,
}

impl Client for TcpClient<'_> {
    type Connection = Opened;

    async fn open(&self) -> Result<Opened, StartFailure> {
        let addr = resolve(self.spec).await?;
        let stream = connect(addr, connect_limit(self.spec)).await?;
        let (Ok(local_addr), Ok(peer_addr)) = (stream.local_addr(), stream.peer_addr()) else {
            return Err(StartFailure::ClosedWhileOpening);
        };
        Ok((Stream::Tcp(stream), peer_addr, local_addr, None))
    }

    async fn serve(
        &self,
        connection: Opened,
        context: &SessionContext,
        commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    ) -> Outcome {
        serve(context, self.spec, commands, connection).await
    }
}

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    run_client(context, spec, commands, TcpClient { spec }).await
}

/// Runs a client session: `client` opens its connection and serves it until it ends; with
/// the spec's `reconnect`, another is opened after a failed open or an ended connection,
/// every [`RECONNECT_INTERVAL`] (or `reconnect=MS`), until the user stops the session.
pub(super) async fn run_client(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    client: impl Client,
) -> Outcome {
    let outcome = connect_and_serve(context, spec, commands, client).await;
    // The session's end (its jobs watch this token), as when its one connection ends.
    context.cancel.cancel();
    outcome
}

async fn connect_and_serve(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
    client: impl Client,
) -> Outcome {
    // What the last note said, so a server that stays away is told once, not every second.
    let mut told: Option<Disconnected> = None;
    loop {
        let opened = tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            result = client.open() => result,
        };
        let why = match opened {
            Ok(opened) => {
                told = None;
                // This connection's own token: its end must not stop the session.
                let connection = SessionContext {
                    id: context.id,
                    sink: context.sink.clone(),
                    cancel: context.cancel.child_token(),
                    reactions: context.reactions.clone(),
                };
                match client.serve(opened, &connection, &mut commands).await {
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
                every_ms: millis(reconnect_interval(spec)),
            };
            context.sink.note(context.id, None, note);
            told = Some(why);
        }
        let again = tokio::time::sleep(reconnect_interval(spec));
        if refusing_sends(context, &mut commands, Refusal::Reconnecting, again)
            .await
            .is_none()
        {
            return Outcome::Stopped;
        }
    }
}

/// Runs a TCP or TLS client's one open connection: reports `Started`, lists the server as its
/// peer (with the connection's note on it), and forwards sends until the connection ends or
/// the user stops the session.
pub(super) async fn serve(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: &mut mpsc::UnboundedReceiver<SessionCommand>,
    (stream, peer_addr, local_addr, note): Opened,
) -> Outcome {
    context.sink.started(context.id, local_addr);
    let (mut registry, closed) = Registry::new();
    let after_fin = AfterFin::of(spec, true);
    peers::add(&mut registry, context, (stream, peer_addr), note, after_fin);
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
