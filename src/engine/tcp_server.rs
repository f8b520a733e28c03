//! The TCP server session: listens, accepts clients (each listed as a peer), and sends to
//! one client or all of them.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::Type;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::dispatch::{Outcome, SessionCommand, SessionContext};
use super::net::{bind_socket, describe, resolve};
use super::peers::Peers;
use crate::protocol::Event;
use crate::spec::SessionSpec;

/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
pub(super) const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let listener = match listen(spec).await {
        Ok(listener) => listener,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    let local_addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], spec.port)));
    context.sink.send(Event::Started {
        id: context.id,
        local_addr,
    });
    let (mut peers, mut closed) = Peers::new();
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    peers.add(context, stream, addr);
                }
                Err(e) => {
                    context.sink.warning(context.id, format!("accept failed: {}", describe(&e)));
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                }
            },
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target, data, ack }) => {
                    peers.send(context, target, data, ack);
                }
                Some(SessionCommand::DisconnectPeer(peer)) => peers.disconnect(peer),
                None => break,
            },
            Some((peer, _)) = closed.recv() => peers.forget(peer),
        }
    }
    drop(listener);
    context.cancel.cancel();
    peers.close_all().await;
    Outcome::Stopped
}

/// A listening socket on the spec's address (SO_REUSEADDR, a deep backlog).
///
/// # Errors
/// The resolve, bind or listen error, described for the user.
pub(super) async fn listen(spec: &SessionSpec) -> Result<TcpListener, String> {
    let addr = resolve(spec).await?;
    let socket = bind_socket(addr, Type::STREAM)?;
    TcpListener::from_std(socket.into())
        .map_err(|e| format!("cannot listen on {addr}: {}", describe(&e)))
}
