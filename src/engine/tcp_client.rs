//! The TCP client session: connects (with a timeout), then runs the one connection until
//! the peer closes it, it fails, or the user stops the session. The TLS client shares the
//! part after the connect ([`serve`]).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::net::{millis, resolve};
use super::peers::{self, AfterFin, Stream};
use super::registry::{ClosedReceiver, Registry};
use super::session::{Outcome, SessionCommand, SessionContext};
use crate::protocol::{Note, OsError, StartFailure};
use crate::spec::SessionSpec;

/// How long a connect may take before it is reported as timed out, unless the spec says.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let connecting = async {
        let addr = resolve(spec).await?;
        connect(addr, connect_limit(spec)).await
    };
    let stream = tokio::select! {
        () = context.cancel.cancelled() => return Outcome::Stopped,
        result = connecting => match result {
            Ok(stream) => stream,
            Err(reason) => return Outcome::StartFailed(reason),
        },
    };
    let (Ok(local_addr), Ok(peer_addr)) = (stream.local_addr(), stream.peer_addr()) else {
        return Outcome::StartFailed(StartFailure::ClosedWhileOpening);
    };
    let connection = (Stream::Tcp(stream), peer_addr);
    serve(context, spec, commands, connection, local_addr, None).await
}

/// Runs a client's one open connection: reports `Started`, lists the server as its peer (with
/// `note` on it), and forwards sends until the connection ends or the user stops the session.
pub(super) async fn serve(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    connection: (Stream, SocketAddr),
    local_addr: SocketAddr,
    note: Option<Note>,
) -> Outcome {
    context.sink.started(context.id, local_addr);
    let (mut registry, closed) = Registry::new();
    let after_fin = AfterFin::of(spec, true);
    peers::add(&mut registry, context, connection, note, after_fin);
    let mut commands = commands;
    serve_one(context, &mut commands, registry, closed).await
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
