//! The UDP relay session (`udp-relay:PORT,to=HOST:PORT`): one socket faces the clients, and
//! each client address gets a mapping, listed as a pair: its own socket connected to the
//! target, so the target's replies come back to that client alone. Each direction is a
//! [`super::pump`] whose chunks are datagrams (an empty datagram included). A mapping that
//! sees no datagram either way for `idle-timeout=MS` expires; with `max-clients=N`, new
//! clients past N are refused (their datagrams dropped) until one expires.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use socket2::Type;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::pairs::{PairEnds, Pairs};
use super::pump::{Destination, PumpEnd, PumpLink, Source, both_ways};
use crate::engine::net::{bind_socket, millis, read_shared, resolve};
use crate::engine::session::{Outcome, SessionCommand, SessionContext};
use crate::engine::sink::EventSink;
use crate::engine::tcp_server::ClientCap;
use crate::engine::udp::{bind, report_started};
use crate::engine::udp_peers::DEFAULT_MAX_PEERS;
use crate::protocol::{CloseReason, Note, OsError, PeerId, SessionId, StartFailure, Warning};
use crate::relay::Leg;
use crate::spec::{DEFAULT_RELAY_IDLE_TIMEOUT_MS, SessionKind, SessionSpec};

/// Most datagrams read per wake-up before the loop looks at commands again.
const DATAGRAMS_PER_WAKEUP: usize = 256;
/// Datagrams from a client waiting for its mapping to take them; past it they are dropped
/// (the mapping's own queue is full: its direction is held or the target is slow).
const WAITING_DATAGRAMS: usize = 1024;

/// A client's mapping, as the session routes datagrams to it.
struct Mapping {
    peer: PeerId,
    up: mpsc::Sender<Bytes>,
}

pub(in crate::engine) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    // A serial target is refused by the spec's parser (a UDP relay has none).
    let Some(target) = spec
        .options
        .to
        .as_ref()
        .and_then(|to| to.client_spec(SessionKind::UdpClient, &spec.options))
    else {
        let host = "to=HOST:PORT".to_string();
        return Outcome::StartFailed(StartFailure::NoAddress { host });
    };
    let socket = match bind(spec).await {
        Ok(socket) => Arc::new(socket),
        Err(reason) => return Outcome::StartFailed(reason),
    };
    report_started(context, &socket, spec);
    let idle_ms = spec
        .options
        .idle_timeout_ms
        .unwrap_or(DEFAULT_RELAY_IDLE_TIMEOUT_MS);
    let idle = Duration::from_millis(idle_ms);
    let (mut pairs, mut closed) = Pairs::new(*spec.options.faults);
    let mut cap = ClientCap::new(Some(spec.options.max_clients.unwrap_or(DEFAULT_MAX_PEERS)));
    let mut mappings: HashMap<SocketAddr, Mapping> = HashMap::new();
    let mut clients = HashMap::new();
    let outcome = loop {
        tokio::select! {
            () = context.cancel.cancelled() => break Outcome::Stopped,
            ready = socket.readable() => {
                if let Err(e) = ready {
                    break Outcome::Ended(CloseReason::Io(OsError::of(&e)));
                }
                for _ in 0..DATAGRAMS_PER_WAKEUP {
                    let (data, from) = match read_shared(|buf| socket.try_recv_from(buf)) {
                        Ok(received) => received,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            let cause = OsError::of(&e);
                            context.sink.warning(context.id, Warning::ReceiveFailed { cause });
                            break;
                        }
                    };
                    if let Some(mapping) = mappings.get(&from) {
                        mapping.up.try_send(data).ok(); // full: dropped, as UDP may
                        continue;
                    }
                    if cap.refuses(context, mappings.len(), from) {
                        continue;
                    }
                    let (up, waiting) = mpsc::channel(WAITING_DATAGRAMS);
                    up.try_send(data).ok(); // the channel is empty
                    let link = (Arc::clone(&socket), target.clone(), idle);
                    let peer =
                        pairs.start(context, from, move |ends| run_mapping(ends, from, link, waiting));
                    mappings.insert(from, Mapping { peer, up });
                    clients.insert(peer, from);
                }
            }
            command = commands.recv() => {
                if !pairs.command(context, command) {
                    break Outcome::Stopped;
                }
            }
            Some(peer) = closed.recv() => {
                pairs.forget(peer);
                if let Some(client) = clients.remove(&peer)
                    && mappings.get(&client).is_some_and(|m| m.peer == peer)
                {
                    mappings.remove(&client);
                }
                cap.settle(context, mappings.len());
            }
        }
    };
    cap.settle(context, 0);
    context.cancel.cancel();
    drop(mappings);
    pairs.close_all().await;
    outcome
}

/// One client's mapping: connects its socket to the target, relays both ways until it
/// expires, fails, a limit fires, the user closes it or the session stops; reports why.
async fn run_mapping(
    ends: PairEnds,
    client: SocketAddr,
    (listen, target, idle): (Arc<UdpSocket>, SessionSpec, Duration),
    waiting: mpsc::Receiver<Bytes>,
) {
    let PairEnds {
        peer,
        controls: [mut up_controls, mut down_controls],
        close,
        cancel,
        faults,
        done,
    } = ends;
    let (id, sink) = (done.id(), done.sink().clone());
    let socket = tokio::select! {
        () = cancel.cancelled() => Err(CloseReason::SessionStopped),
        connected = connect_target(&target) => {
            connected.map_err(|failure| CloseReason::TargetUnreachable(Box::new(failure)))
        }
    };
    let (socket, local, target_addr) = match socket {
        Ok(connected) => connected,
        Err(reason) => {
            done.report(reason);
            return;
        }
    };
    sink.note(
        id,
        Some(peer),
        Note::RelayLinked {
            local,
            target: target_addr,
        },
    );
    let activity = Activity::new();
    let link = |leg| PumpLink {
        id,
        peer,
        leg,
        sink: &sink,
    };
    let mut from_client = FromClient {
        waiting,
        activity: &activity,
    };
    let mut to_target = Datagrams {
        socket: &socket,
        to: None,
        warn: (id, &sink),
    };
    let mut from_target = FromTarget {
        socket: &socket,
        activity: &activity,
        warn: (id, &sink),
    };
    let mut to_client = Datagrams {
        socket: &listen,
        to: Some(client),
        warn: (id, &sink),
    };
    let (up, down) = both_ways(
        link,
        (&mut from_client, &mut to_target),
        (&mut from_target, &mut to_client),
        [&mut up_controls, &mut down_controls],
        faults,
    );
    tokio::pin!(up, down);
    let mut check = tokio::time::interval((idle / 4).max(Duration::from_millis(10)));
    let reason = loop {
        tokio::select! {
            () = cancel.cancelled() => break CloseReason::SessionStopped,
            () = close.cancelled() => break CloseReason::ByUser,
            end = &mut up => break ended(Leg::Up, end),
            end = &mut down => break ended(Leg::Down, end),
            _ = check.tick() => {
                if activity.idle_for() >= idle {
                    break CloseReason::Idle { ms: millis(idle) };
                }
            }
        }
    };
    done.report(reason);
}

/// Why a mapping ended when one of its directions did.
fn ended(leg: Leg, end: PumpEnd) -> CloseReason {
    let by_target = |reason| CloseReason::ByTarget(Box::new(reason));
    match (leg, end) {
        // The session let go of the mapping: it is stopping.
        (_, PumpEnd::Finished) => CloseReason::SessionStopped,
        (Leg::Up, PumpEnd::ReadFailed(reason)) | (Leg::Down, PumpEnd::WriteFailed(reason)) => {
            reason
        }
        (Leg::Up, PumpEnd::WriteFailed(reason)) | (Leg::Down, PumpEnd::ReadFailed(reason)) => {
            by_target(reason)
        }
        (leg, PumpEnd::Fault(fired)) => CloseReason::Fault { leg, fired },
    }
}

/// A socket of its own for a mapping, connected to the target (so only the target's
/// datagrams reach it), with its local address and the target's.
///
/// # Errors
/// Why the target cannot be reached.
async fn connect_target(
    target: &SessionSpec,
) -> Result<(UdpSocket, SocketAddr, SocketAddr), StartFailure> {
    let addr = resolve(target).await?;
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = bind_socket(local, Type::DGRAM)?;
    let socket = UdpSocket::from_std(socket.into()).map_err(|e| StartFailure::UdpSocket {
        cause: OsError::of(&e),
    })?;
    let unreachable = |e: std::io::Error| StartFailure::Unreachable {
        target: addr,
        cause: OsError::of(&e),
    };
    socket.connect(addr).await.map_err(unreachable)?;
    let local = socket.local_addr().map_err(unreachable)?;
    Ok((socket, local, addr))
}

/// When a mapping last saw a datagram, either way.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn seen(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Release);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Acquire));
        self.start.elapsed().saturating_sub(last)
    }
}

/// The client's datagrams, as the session hands them to the mapping.
struct FromClient<'a> {
    waiting: mpsc::Receiver<Bytes>,
    activity: &'a Activity,
}

impl Source for FromClient<'_> {
    async fn next(&mut self) -> Result<Option<Bytes>, CloseReason> {
        let data = self.waiting.recv().await;
        self.activity.seen();
        Ok(data)
    }
}

/// The target's datagrams, on the mapping's connected socket.
struct FromTarget<'a> {
    socket: &'a UdpSocket,
    activity: &'a Activity,
    warn: (SessionId, &'a EventSink),
}

impl Source for FromTarget<'_> {
    async fn next(&mut self) -> Result<Option<Bytes>, CloseReason> {
        loop {
            if let Err(e) = self.socket.readable().await {
                return Err(CloseReason::Io(OsError::of(&e)));
            }
            match read_shared(|buf| self.socket.try_recv(buf).map(|n| (n, ()))) {
                Ok((data, ())) => {
                    self.activity.seen();
                    return Ok(Some(data));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // ICMP port unreachable from the target: said, and the mapping goes on.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    let (id, sink) = self.warn;
                    sink.warning(id, Warning::PortUnreachable);
                }
                Err(e) => return Err(CloseReason::Io(OsError::of(&e))),
            }
        }
    }
}

/// Datagrams out: to the target on the mapping's connected socket (`to` is `None`), or to
/// the client from the session's socket.
struct Datagrams<'a> {
    socket: &'a UdpSocket,
    to: Option<SocketAddr>,
    warn: (SessionId, &'a EventSink),
}

impl Destination for Datagrams<'_> {
    async fn write(&mut self, data: &Bytes) -> Result<(), CloseReason> {
        let sent = match self.to {
            Some(to) => self.socket.send_to(data, to).await,
            None => self.socket.send(data).await,
        };
        let (id, sink) = self.warn;
        match sent {
            Ok(n) if n == data.len() => Ok(()),
            Ok(sent) => {
                let len = data.len();
                sink.warning(id, Warning::DatagramTruncated { sent, len });
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                sink.warning(id, Warning::PortUnreachable);
                Ok(())
            }
            Err(e) => {
                let cause = OsError::of(&e);
                sink.warning(id, Warning::UdpSendFailed { cause });
                Ok(())
            }
        }
    }

    async fn finish(&mut self) {}
}
