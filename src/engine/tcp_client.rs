//! The TCP client session: connects (with a timeout), then runs the one connection until
//! the peer closes it, it fails, or the user stops the session.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::dispatch::{Outcome, SessionCommand, SessionContext};
use super::net::{describe, resolve};
use super::peers::Peers;
use crate::protocol::Event;
use crate::spec::SessionSpec;

/// How long a connect may take before it is reported as timed out, unless the spec says.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let connecting = connect(spec);
    let stream = tokio::select! {
        () = context.cancel.cancelled() => return Outcome::Stopped,
        result = connecting => match result {
            Ok(stream) => stream,
            Err(reason) => return Outcome::StartFailed(reason),
        },
    };
    let (Ok(local_addr), Ok(peer_addr)) = (stream.local_addr(), stream.peer_addr()) else {
        return Outcome::StartFailed("connection closed while opening".to_string());
    };
    context.sink.send(Event::Started {
        id: context.id,
        local_addr,
    });
    let (mut peers, mut closed) = Peers::new();
    peers.add(context, stream, peer_addr);
    let outcome = loop {
        tokio::select! {
            // Cancellation first: a stop also ends the connection, and that end must not be
            // mistaken for the server closing it.
            biased;
            () = context.cancel.cancelled() => break Outcome::Stopped,
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target: _, data, ack }) => {
                    peers.send(context, crate::protocol::SendTarget::All, data, ack);
                }
                Some(SessionCommand::DisconnectPeer(peer)) => peers.disconnect(peer),
                None => break Outcome::Stopped,
            },
            Some((peer, reason)) = closed.recv() => {
                peers.forget(peer);
                if peers.len() == 0 {
                    break Outcome::Ended(reason);
                }
            }
        }
    };
    context.cancel.cancel();
    peers.close_all().await;
    outcome
}

async fn connect(spec: &SessionSpec) -> Result<TcpStream, String> {
    let addr = resolve(spec).await?;
    let limit = spec
        .options
        .connect_timeout_ms
        .map_or(CONNECT_TIMEOUT, Duration::from_millis);
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!("cannot connect to {addr}: {}", describe(&e))),
        Err(_) => Err(format!(
            "cannot connect to {addr}: timed out after {} ms (no answer; the host may be \
             down or a firewall drops the connection)",
            limit.as_millis()
        )),
    }
}
