//! The TCP server session: listens, accepts clients (each listed as a peer), and sends to
//! one client or all of them. Its accept loop ([`accept_loop`]) serves the TLS and WebSocket
//! servers too, each saying what becomes of an accepted connection ([`Admit`]). With
//! `max-clients=N` a connection past N clients (handshakes under way count) is closed at
//! once: the first refusal is noted, further ones are counted and noted when a client leaves
//! or the session stops ([`ClientCap`]).

use std::net::SocketAddr;
use std::time::Duration;

use socket2::Type;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::net::{bind_socket, resolve};
use super::peers::{self, AfterFin, Stream};
use super::registry::Registry;
use super::session::{Outcome, SessionCommand, SessionContext};
use crate::protocol::{Note, OsError, StartFailure, Warning};
use crate::spec::SessionSpec;

/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let admit = PlainTcp(AfterFin::of(spec, false));
    serve(context, spec, commands, |_| Ok((admit, None))).await
}

/// Runs a server session: listens on the spec's address, makes what admits its connections
/// with `prepare` (given the address bound; it may fail, or add a note on the session),
/// reports `Started`, then runs the [`accept_loop`] until the session stops.
pub(super) async fn serve<A: Admit>(
    context: &SessionContext,
    spec: &SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    prepare: impl FnOnce(SocketAddr) -> Result<(A, Option<Note>), StartFailure>,
) -> Outcome {
    let (listener, local_addr) = match listen(spec).await {
        Ok(listening) => listening,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    let (admit, note) = match prepare(local_addr) {
        Ok(prepared) => prepared,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    context.sink.started(context.id, local_addr);
    if let Some(note) = note {
        context.sink.note(context.id, None, note);
    }
    let cap = ClientCap::new(spec.options.max_clients);
    accept_loop(context, listener, commands, (admit, cap)).await
}

/// `max-clients=N`: whether a new connection is refused, and what was said about it.
pub(super) struct ClientCap {
    limit: Option<usize>,
    /// While refusing: the refusals after the first (which was noted).
    refusing: Option<u64>,
}

impl ClientCap {
    pub(super) fn new(limit: Option<usize>) -> Self {
        Self {
            limit,
            refusing: None,
        }
    }

    /// Whether a connection from `addr` is refused, `clients` being connected or in their
    /// handshake; notes the first refusal of a run of them.
    pub(super) fn refuses(
        &mut self,
        context: &SessionContext,
        clients: usize,
        addr: SocketAddr,
    ) -> bool {
        let Some(limit) = self.limit.filter(|limit| clients >= *limit) else {
            self.settle(context, clients);
            return false;
        };
        match &mut self.refusing {
            Some(more) => *more += 1,
            None => {
                context
                    .sink
                    .note(context.id, None, Note::ClientRefused { limit, addr });
                self.refusing = Some(0);
            }
        }
        true
    }

    /// Ends a run of refusals once `clients` is below the limit again (or the session
    /// stops, `clients` 0): notes how many more were refused.
    pub(super) fn settle(&mut self, context: &SessionContext, clients: usize) {
        let Some(limit) = self.limit else {
            return;
        };
        if clients < limit
            && let Some(count) = self.refusing.take()
            && count > 0
        {
            let note = Note::ClientsRefused { limit, count };
            context.sink.note(context.id, None, note);
        }
    }
}

/// Each accepted client is a peer at once.
struct PlainTcp(AfterFin);

impl Admit for PlainTcp {
    type Ready = std::convert::Infallible;

    fn accepted(
        &self,
        context: &SessionContext,
        registry: &mut Registry,
        (stream, addr): (TcpStream, SocketAddr),
        _: Handshakes<'_, Self::Ready>,
    ) {
        peers::add(registry, context, (Stream::Tcp(stream), addr), None, self.0);
    }

    fn admit(&self, _: &SessionContext, _: &mut Registry, ready: Self::Ready) {
        match ready {}
    }
}

/// Where a server's handshakes run, and where each hands its connection once done.
pub(super) struct Handshakes<'a, R> {
    pub(super) tasks: &'a TaskTracker,
    pub(super) ready: &'a mpsc::UnboundedSender<R>,
}

/// What a server does with each connection it accepts.
pub(super) trait Admit {
    /// A connection ready to become a peer, after whatever handshake the kind runs.
    type Ready: Send + 'static;

    /// Takes a freshly accepted connection: lists it as a peer in `registry` at once, or
    /// starts its handshake in `handshakes`, which hands it on when done.
    fn accepted(
        &self,
        context: &SessionContext,
        registry: &mut Registry,
        accepted: (TcpStream, SocketAddr),
        handshakes: Handshakes<'_, Self::Ready>,
    );

    /// Lists a connection whose handshake is done as a peer of the session.
    fn admit(&self, context: &SessionContext, registry: &mut Registry, ready: Self::Ready);
}

/// Accepts connections on `listener` (a failed accept is reported, then retried after a
/// pause), hands each to `admit`, carries out the session's sends and disconnects, and when
/// the session stops closes the listener, the handshakes under way and every connection.
async fn accept_loop<A: Admit>(
    context: &SessionContext,
    listener: TcpListener,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
    (admit, mut cap): (A, ClientCap),
) -> Outcome {
    let (mut registry, mut closed) = Registry::new();
    let tasks = TaskTracker::new();
    let (ready_tx, mut ready) = mpsc::unbounded_channel::<A::Ready>();
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((_, addr)) if cap.refuses(context, registry.len() + tasks.len(), addr) => {
                    // Dropped: closed at once, never listed.
                }
                Ok(accepted) => {
                    let handshakes = Handshakes { tasks: &tasks, ready: &ready_tx };
                    admit.accepted(context, &mut registry, accepted, handshakes);
                }
                Err(e) => {
                    let cause = OsError::of(&e);
                    context.sink.warning(context.id, Warning::AcceptFailed { cause });
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                }
            },
            Some(done) = ready.recv() => admit.admit(context, &mut registry, done),
            command = commands.recv() => {
                if !registry.command(context, command, false) {
                    break;
                }
            }
            Some((peer, _)) = closed.recv() => {
                registry.forget(peer);
                cap.settle(context, registry.len() + tasks.len());
            }
        }
    }
    cap.settle(context, 0);
    drop(listener);
    context.cancel.cancel();
    tasks.close();
    tasks.wait().await;
    drop(ready); // handshaken but not yet a peer: closed with the session
    registry.close_all().await;
    Outcome::Stopped
}

/// A listening socket on the spec's address (SO_REUSEADDR, a deep backlog), and the address
/// it is bound to.
///
/// # Errors
/// The resolve, bind or listen error.
pub(super) async fn listen(spec: &SessionSpec) -> Result<(TcpListener, SocketAddr), StartFailure> {
    let addr = resolve(spec).await?;
    let socket = bind_socket(addr, Type::STREAM)?;
    let listener = TcpListener::from_std(socket.into()).map_err(|e| StartFailure::Listen {
        addr,
        cause: OsError::of(&e),
    })?;
    let local_addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], spec.port)));
    Ok((listener, local_addr))
}
