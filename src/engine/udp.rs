//! UDP sessions. The server binds a port, lists each source address as a peer the first time
//! it sends, and replies to one peer or all. The client sends to one target (a connected
//! socket) and logs its replies; ICMP "port unreachable" is reported but never ends it.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::SystemTime;

use bytes::Bytes;
use socket2::Type;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::dispatch::{Outcome, SessionCommand, SessionContext};
use super::net::{bind_socket, describe, read_shared, resolve};
use super::reactions;
use super::udp_drops::{DROP_POLL_INTERVAL, DropMonitor};
use crate::protocol::{Direction, Event, PeerId, SendTarget};
use crate::spec::SessionSpec;

/// Most datagrams read per wake-up before the loop looks at commands again.
const DATAGRAMS_PER_WAKEUP: usize = 256;

/// The peer id of a UDP client's one target.
const TARGET_PEER: PeerId = PeerId(1);

/// Source addresses seen by a UDP server, each given a peer id on first sight.
#[derive(Default)]
struct UdpPeers {
    by_addr: HashMap<SocketAddr, PeerId>,
    by_id: HashMap<PeerId, SocketAddr>,
    /// Ids handed out so far; a forgotten peer's id is never given again.
    issued: u64,
}

impl UdpPeers {
    fn peer_for(&mut self, context: &SessionContext, addr: SocketAddr) -> PeerId {
        if let Some(peer) = self.by_addr.get(&addr) {
            return *peer;
        }
        self.issued += 1;
        let peer = PeerId(self.issued);
        self.by_addr.insert(addr, peer);
        self.by_id.insert(peer, addr);
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        peer
    }

    fn forget(&mut self, context: &SessionContext, peer: PeerId) {
        if let Some(addr) = self.by_id.remove(&peer) {
            self.by_addr.remove(&addr);
            context.sink.send(Event::PeerDisconnected {
                id: context.id,
                peer,
                reason: "forgotten by user".to_string(),
                at: SystemTime::now(),
            });
        }
    }
}

pub(super) async fn run_server(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let socket = match bind(spec).await {
        Ok(socket) => socket,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    report_started(context, &socket, spec);
    let mut drops = DropMonitor::new(context, &socket);
    let mut drop_poll = tokio::time::interval(DROP_POLL_INTERVAL);
    drop_poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut peers = UdpPeers::default();
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            ready = socket.readable() => {
                if let Err(e) = ready {
                    return Outcome::Ended(describe(&e));
                }
                // Drain what is queued (bounded, so commands still get their turn).
                for _ in 0..DATAGRAMS_PER_WAKEUP {
                    match read_shared(|buf| socket.try_recv_from(buf)) {
                        Ok((data, from)) => {
                            let known = peers.by_addr.contains_key(&from);
                            let peer = peers.peer_for(context, from);
                            let welcome = if known { None } else { reactions::on_connect(context) };
                            context.sink.traffic(context.id, peer, Direction::Rx, data.clone());
                            let reply = reactions::auto_reply(context, peer, &data);
                            for out in welcome.into_iter().chain(reply) {
                                send_datagram(context, peer, socket.send_to(&out, from).await, &out);
                            }
                        }
                        Err(e) => {
                            report_recv_error(context, &e);
                            break;
                        }
                    }
                }
            }
            _ = drop_poll.tick() => drops.check(context),
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target, data, ack }) => {
                    let targets: Vec<(PeerId, SocketAddr)> = match target {
                        SendTarget::All => peers.by_id.iter().map(|(p, a)| (*p, *a)).collect(),
                        SendTarget::Peer(peer) => peers.by_id.get(&peer).map(|a| (peer, *a)).into_iter().collect(),
                    };
                    if targets.is_empty() {
                        let why = "not sent: no peer has sent a datagram to this server yet";
                        match &ack {
                            Some(ack) => ack.refuse(why),
                            None => context.sink.warning(context.id, why),
                        }
                    }
                    for (peer, addr) in targets {
                        send_datagram(context, peer, socket.send_to(&data, addr).await, &data);
                    }
                }
                Some(SessionCommand::DisconnectPeer(peer)) => peers.forget(context, peer),
                None => return Outcome::Stopped,
            },
        }
    }
}

pub(super) async fn run_client(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let target = match resolve(spec).await {
        Ok(addr) => addr,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    let local: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match bind_socket(local, Type::DGRAM).and_then(|s| {
        UdpSocket::from_std(s.into())
            .map_err(|e| format!("cannot open a UDP socket: {}", describe(&e)))
    }) {
        Ok(socket) => socket,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    if let Err(e) = socket.connect(target).await {
        return Outcome::StartFailed(format!("cannot reach {target}: {}", describe(&e)));
    }
    report_started(context, &socket, spec);
    context.sink.send(Event::PeerConnected {
        id: context.id,
        peer: TARGET_PEER,
        addr: target,
        at: SystemTime::now(),
    });
    if let Some(welcome) = reactions::on_connect(context) {
        send_datagram(context, TARGET_PEER, socket.send(&welcome).await, &welcome);
    }
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            ready = socket.ready(Interest::READABLE | Interest::ERROR) => {
                let ready = match ready {
                    Ok(ready) => ready,
                    Err(e) => return Outcome::Ended(describe(&e)),
                };
                if ready.is_error() {
                    report_pending_error(context, &socket);
                }
                if ready.is_readable() {
                    match read_shared(|buf| socket.try_recv(buf).map(|n| (n, ()))) {
                        Ok((data, ())) => {
                            context.sink.traffic(context.id, TARGET_PEER, Direction::Rx, data.clone());
                            let reply = reactions::auto_reply(context, TARGET_PEER, &data);
                            if let Some(reply) = reply {
                                send_datagram(context, TARGET_PEER, socket.send(&reply).await, &reply);
                            }
                        }
                        Err(e) => report_recv_error(context, &e),
                    }
                }
            }
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target: _, data, .. }) => {
                    send_datagram(context, TARGET_PEER, socket.send(&data).await, &data);
                }
                Some(SessionCommand::DisconnectPeer(_)) => {}
                None => return Outcome::Stopped,
            },
        }
    }
}

async fn bind(spec: &SessionSpec) -> Result<UdpSocket, String> {
    let addr = resolve(spec).await?;
    let socket = bind_socket(addr, Type::DGRAM)?;
    UdpSocket::from_std(socket.into()).map_err(|e| format!("cannot bind {addr}: {}", describe(&e)))
}

fn report_started(context: &SessionContext, socket: &UdpSocket, spec: &SessionSpec) {
    let local_addr = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], spec.port)));
    context.sink.send(Event::Started {
        id: context.id,
        local_addr,
    });
}

fn send_datagram(context: &SessionContext, peer: PeerId, result: io::Result<usize>, data: &Bytes) {
    match result {
        Ok(n) if n == data.len() => {
            context
                .sink
                .traffic(context.id, peer, Direction::Tx, data.clone())
        }
        Ok(n) => context.sink.warning(
            context.id,
            format!("datagram truncated: sent {n} of {} bytes", data.len()),
        ),
        Err(e) if e.raw_os_error() == Some(90) || data.len() > 65_507 => context.sink.warning(
            context.id,
            format!(
                "not sent: {} bytes is more than one UDP datagram holds (65,507)",
                data.len()
            ),
        ),
        Err(e) => context
            .sink
            .warning(context.id, format!("send failed: {}", describe(&e))),
    }
}

/// An ICMP error (e.g. port unreachable) on a connected UDP socket makes it ready for
/// ERROR only, not READABLE. Taking the pending error reports it now; left pending, it would
/// instead fail (and lose) the next send.
fn report_pending_error(context: &SessionContext, socket: &UdpSocket) {
    let taken = socket.try_io(Interest::ERROR, || match socket.take_error() {
        Ok(Some(error)) | Err(error) => Ok(error),
        // Nothing pending: tell tokio this readiness is used up, so the loop waits again.
        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
    });
    if let Ok(error) = taken {
        report_recv_error(context, &error);
    }
}

fn report_recv_error(context: &SessionContext, error: &io::Error) {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {}
        io::ErrorKind::ConnectionRefused => context.sink.warning(
            context.id,
            "port unreachable: nothing is listening at the target (ICMP); still sending",
        ),
        _ => context
            .sink
            .warning(context.id, format!("receive failed: {}", describe(error))),
    }
}
