//! UDP sessions. The server binds a port, lists each source address as a peer the first time
//! it sends, and replies to one peer or all. The client sends to one target and logs its
//! replies. A unicast target gets a connected socket (replies from elsewhere are filtered by
//! the kernel, and ICMP "port unreachable" is reported but never ends the session); a
//! broadcast or multicast target is not connected, so every responder's reply is logged,
//! each responder listed as a peer with its source address. The pieces shared with the
//! multicast group session (`udp_group`) live here too.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;
use socket2::Type;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::net::{bind_socket, resolve};
use super::reactions;
use super::registry::refuse;
use super::session::{Outcome, SessionCommand, SessionContext};
use super::udp_batch::{DATAGRAMS_PER_CALL, Datagram, receive_batch};
use super::udp_drops::{DROP_POLL_INTERVAL, DropMonitor};
use super::udp_peers::UdpPeers;
use crate::protocol::{
    CloseReason, Direction, OsError, PeerId, Refusal, SendTarget, StartFailure, Warning,
};
use crate::spec::SessionSpec;

/// Most datagrams read per wake-up before the loop looks at commands again (a few batches).
const DATAGRAMS_PER_WAKEUP: usize = 4 * DATAGRAMS_PER_CALL;

/// The peer id of a UDP client's one target (the first address it announces).
const TARGET_PEER: PeerId = PeerId(1);

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
    let mut peers = UdpPeers::new(spec);
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            ready = socket.readable() => {
                if let Err(e) = ready {
                    return Outcome::Ended(CloseReason::Io(OsError::of(&e)));
                }
                let answers = (Greet::NewSources, ReplyPath::ToSource);
                receive_burst(context, &socket, &mut peers, answers).await;
            }
            _ = drop_poll.tick() => drops.check(context, &socket),
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target, data, ack }) => {
                    let targets: Vec<(PeerId, SocketAddr)> = match target {
                        SendTarget::All => peers.all(),
                        SendTarget::Peer(peer) => peers.addr_of(peer).map(|a| (peer, a)).into_iter().collect(),
                    };
                    if targets.is_empty() {
                        refuse(context, ack.as_ref(), Refusal::NoUdpPeer);
                    }
                    for (peer, addr) in targets {
                        send_datagram(context, peer, socket.send_to(&data, addr).await, &data);
                    }
                }
                Some(SessionCommand::DisconnectPeer(peer)) => peers.forget(context, peer),
                // Only relays get these (the dispatcher sees to it).
                Some(SessionCommand::Relay(_) | SessionCommand::Serial(_)) => {}
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
    let socket = match client_socket(target) {
        Ok(socket) => socket,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    // Replies to a broadcast or multicast come from the responders' own addresses, which a
    // connected socket would drop; only a unicast target is connected.
    let connected = !reaches_many(target.ip());
    if connected && let Err(e) = socket.connect(target).await {
        return Outcome::StartFailed(StartFailure::Unreachable {
            target,
            cause: OsError::of(&e),
        });
    }
    report_started(context, &socket, spec);
    let mut peers = UdpPeers::new(spec);
    // Unconnected, the target's peer is still the target's address (its replies' source).
    let reply_path = if connected {
        ReplyPath::Connected
    } else {
        ReplyPath::ToSource
    };
    let target_peer = peers.pinned_peer_for(context, target);
    debug_assert_eq!(target_peer, TARGET_PEER);
    let send_to_target = async |data: &Bytes| {
        if connected {
            socket.send(data).await
        } else {
            socket.send_to(data, target).await
        }
    };
    if let Some(welcome) = reactions::on_connect(context) {
        send_datagram(
            context,
            TARGET_PEER,
            send_to_target(&welcome).await,
            &welcome,
        );
    }
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            ready = socket.ready(Interest::READABLE | Interest::ERROR) => {
                let ready = match ready {
                    Ok(ready) => ready,
                    Err(e) => return Outcome::Ended(CloseReason::Io(OsError::of(&e))),
                };
                if ready.is_error() {
                    report_pending_error(context, &socket);
                }
                if ready.is_readable() {
                    // The target was greeted at the start; responders are not.
                    let answers = (Greet::Nobody, reply_path);
                    receive_burst(context, &socket, &mut peers, answers).await;
                }
            }
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target: SendTarget::Peer(peer), data, ack })
                    if peer != TARGET_PEER && !connected =>
                {
                    // A reply to one responder of a broadcast goes to it alone.
                    match peers.addr_of(peer) {
                        Some(addr) => send_datagram(context, peer, socket.send_to(&data, addr).await, &data),
                        None => refuse(context, ack.as_ref(), Refusal::ResponderForgotten),
                    }
                }
                Some(SessionCommand::Send { data, .. }) => {
                    send_datagram(context, TARGET_PEER, send_to_target(&data).await, &data);
                }
                Some(SessionCommand::DisconnectPeer(peer)) => {
                    if peer != TARGET_PEER {
                        peers.forget(context, peer);
                    }
                }
                // Only relays get these (the dispatcher sees to it).
                Some(SessionCommand::Relay(_) | SessionCommand::Serial(_)) => {}
                None => return Outcome::Stopped,
            },
        }
    }
}

/// Whether datagrams to `ip` may be answered from other addresses: a multicast group, the
/// limited broadcast `255.255.255.255`, or the broadcast address of a local IPv4 subnet
/// (given by the interface, or its address with every host bit set).
pub(super) fn reaches_many(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => v6.is_multicast(),
        IpAddr::V4(v4) if v4.is_multicast() || v4.is_broadcast() => true,
        IpAddr::V4(v4) => if_addrs::get_if_addrs()
            .unwrap_or_default()
            .iter()
            .any(|interface| match &interface.addr {
                if_addrs::IfAddr::V4(addr) => {
                    addr.broadcast == Some(v4)
                        || subnet_broadcast(addr.ip, addr.prefixlen) == Some(v4)
                }
                if_addrs::IfAddr::V6(_) => false,
            }),
    }
}

/// The broadcast address of `ip`'s subnet of `prefix_len` bits; none for /31 and /32, which
/// have no broadcast address.
fn subnet_broadcast(ip: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    if prefix_len >= 31 {
        return None;
    }
    let host_bits = u32::MAX >> prefix_len;
    Some(Ipv4Addr::from(u32::from(ip) | host_bits))
}

/// A client's socket for `target`: bound to any address of its family, port chosen by the
/// OS, not yet connected.
///
/// # Errors
/// [`StartFailure::Bind`] or [`StartFailure::UdpSocket`] with the OS's cause.
pub(super) fn client_socket(target: SocketAddr) -> Result<UdpSocket, StartFailure> {
    let local: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    bind_socket(local, Type::DGRAM).and_then(|s| {
        UdpSocket::from_std(s.into()).map_err(|e| StartFailure::UdpSocket {
            cause: OsError::of(&e),
        })
    })
}

pub(super) async fn bind(spec: &SessionSpec) -> Result<UdpSocket, StartFailure> {
    let addr = resolve(spec).await?;
    let socket = bind_socket(addr, Type::DGRAM)?;
    UdpSocket::from_std(socket.into()).map_err(|e| StartFailure::Bind {
        addr,
        cause: OsError::of(&e),
    })
}

/// Whether a source heard from for the first time gets the on-connect payload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Greet {
    /// Yes (a UDP server greets each new client).
    NewSources,
    /// No (a group was greeted once, at the start).
    Nobody,
}

/// How answers to a datagram leave the socket.
#[derive(Clone, Copy)]
pub(super) enum ReplyPath {
    /// Sent to the datagram's source (`send_to`): the socket is not connected.
    ToSource,
    /// Sent on the connection (`send`): the socket is connected to the only address it
    /// hears from (a sendto with an address fails on a connected socket on some systems).
    Connected,
}

/// Takes in what is queued on `socket` (at most [`DATAGRAMS_PER_WAKEUP`], so commands still
/// get their turn), a batch per system call where the OS has one: logs the datagrams with
/// their sources, a batch as one event, and answers each source alone with the on-connect
/// payload (per `greet`) and the auto-replies, sent as `path` says.
pub(super) async fn receive_burst(
    context: &SessionContext,
    socket: &UdpSocket,
    peers: &mut UdpPeers,
    (greet, path): (Greet, ReplyPath),
) {
    let mut batch = Vec::with_capacity(DATAGRAMS_PER_CALL);
    let mut taken = 0;
    while next_batch(context, socket, &mut batch, &mut taken) {
        let reacting = reactions::reacts(context);
        let mut unreported = Vec::with_capacity(batch.len());
        for Datagram { data, from } in batch.drain(..) {
            let new = !peers.knows(from);
            if new {
                // Its datagram comes after its arrival, and after what came before it.
                report(context, &mut unreported);
            }
            let peer = peers.peer_for(context, from);
            let welcome = (new && greet == Greet::NewSources)
                .then(|| reactions::on_connect(context))
                .flatten();
            if welcome.is_none() && !reacting {
                unreported.push((peer, data));
                continue;
            }
            // Answers (and the notes saying why) come after what they answer.
            unreported.push((peer, data.clone()));
            report(context, &mut unreported);
            let reply = if reacting {
                reactions::auto_replies_message(context, peer, &data)
            } else {
                Vec::new()
            };
            for out in welcome.into_iter().chain(reply) {
                let sent = match path {
                    ReplyPath::ToSource => socket.send_to(&out, from).await,
                    ReplyPath::Connected => socket.send(&out).await,
                };
                send_datagram(context, peer, sent, &out);
            }
        }
        report(context, &mut unreported);
    }
}

/// Takes the next batch of a burst that has taken `taken` datagrams so far into `batch`;
/// false when the burst is over: [`DATAGRAMS_PER_WAKEUP`] taken, nothing queued, or an error
/// (reported).
fn next_batch(
    context: &SessionContext,
    socket: &UdpSocket,
    batch: &mut Vec<Datagram>,
    taken: &mut usize,
) -> bool {
    if *taken >= DATAGRAMS_PER_WAKEUP {
        return false;
    }
    if let Err(e) = receive_batch(socket, batch) {
        report_recv_error(context, &e);
        return false;
    }
    *taken += batch.len();
    true
}

/// Reports the datagrams taken in and not yet reported, as one event. Called before the
/// session reports anything else (a new peer, a reply, a note), so the log keeps the order
/// things happened in.
fn report(context: &SessionContext, unreported: &mut Vec<(PeerId, Bytes)>) {
    context
        .sink
        .datagrams(context.id, std::mem::take(unreported));
}

pub(super) fn report_started(context: &SessionContext, socket: &UdpSocket, spec: &SessionSpec) {
    let local_addr = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], spec.port)));
    context.sink.started(context.id, local_addr);
}

pub(super) fn send_datagram(
    context: &SessionContext,
    peer: PeerId,
    result: io::Result<usize>,
    data: &Bytes,
) {
    match result {
        Ok(n) if n == data.len() => {
            context
                .sink
                .traffic(context.id, peer, Direction::Tx, data.clone())
        }
        Ok(sent) => context.sink.warning(
            context.id,
            Warning::DatagramTruncated {
                sent,
                len: data.len(),
            },
        ),
        Err(e) if e.raw_os_error() == Some(90) || data.len() > 65_507 => context
            .sink
            .warning(context.id, Warning::DatagramTooBig { len: data.len() }),
        Err(e) => context.sink.warning(
            context.id,
            Warning::UdpSendFailed {
                cause: OsError::of(&e),
            },
        ),
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
        io::ErrorKind::ConnectionRefused => {
            context.sink.warning(context.id, Warning::PortUnreachable);
        }
        _ => context.sink.warning(
            context.id,
            Warning::ReceiveFailed {
                cause: OsError::of(error),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_broadcast_sets_every_host_bit() {
        let table = [
            ([192, 168, 1, 20], 24, Some([192, 168, 1, 255])),
            ([10, 1, 2, 3], 8, Some([10, 255, 255, 255])),
            ([172, 16, 5, 1], 20, Some([172, 16, 15, 255])),
            ([127, 0, 0, 1], 8, Some([127, 255, 255, 255])),
            ([0, 0, 0, 0], 0, Some([255, 255, 255, 255])),
            ([10, 0, 0, 1], 31, None),
            ([10, 0, 0, 1], 32, None),
        ];
        for (ip, prefix, expected) in table {
            assert_eq!(
                subnet_broadcast(Ipv4Addr::from(ip), prefix),
                expected.map(Ipv4Addr::from),
                "{ip:?}/{prefix}"
            );
        }
    }

    #[test]
    fn only_one_to_many_targets_stay_unconnected() {
        assert!(reaches_many(Ipv4Addr::BROADCAST.into()));
        assert!(reaches_many(Ipv4Addr::new(239, 1, 2, 3).into()));
        assert!(reaches_many("ff02::1".parse().expect("v6")));
        // The loopback interface (127.0.0.1/8) has a subnet broadcast address.
        assert!(reaches_many(Ipv4Addr::new(127, 255, 255, 255).into()));
        assert!(!reaches_many(Ipv4Addr::LOCALHOST.into()));
        assert!(!reaches_many(Ipv6Addr::LOCALHOST.into()));
        assert!(!reaches_many(Ipv4Addr::new(192, 0, 2, 7).into()));
    }
}
