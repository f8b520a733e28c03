//! UDP multicast group sessions (`udp-group:GROUP:PORT`). The session binds the group's port on
//! the wildcard address, shared with other programs and sessions (SO_REUSEADDR, and
//! SO_REUSEPORT where the OS has it), joins the group on the chosen interface, logs every
//! datagram with its source address (each source a peer, as on a UDP server) and sends to the
//! group. It watches the interface list and joins again when the joined interface's addresses
//! or state change (a cable plugged back, a new DHCP lease). Dropping the socket leaves the
//! group, so a stop releases the membership and a restart on the same port works.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::net::enlarge_recv_buffer;
use super::reactions;
use super::registry::refuse;
use super::session::{Outcome, SessionCommand, SessionContext};
use super::udp::{Greet, ReplyPath, receive_burst, report_started, send_datagram};
use super::udp_drops::{DROP_POLL_INTERVAL, DropMonitor};
use super::udp_peers::UdpPeers;
use crate::protocol::{
    CloseReason, Interface, JoinCause, JoinProblem, Note, OsError, Refusal, SendTarget, SocketStep,
    StartFailure, Warning,
};
use crate::spec::SessionSpec;

/// How often the interface list is read to notice that the joined interface changed.
const INTERFACE_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// `ENODEV` on Linux: no interface to join on (no multicast route, or the interface is gone).
const NO_SUCH_DEVICE: i32 = 19;

/// Where the group is joined and sent from, as resolved from `iface=`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct JoinPoint {
    /// The interface's name, for notes and for watching it; `None` when the OS chooses.
    name: Option<String>,
    /// IPv4: the interface's address (`0.0.0.0` lets the OS choose).
    v4_addr: Ipv4Addr,
    /// IPv6: the interface's index (0 lets the OS choose).
    index: u32,
}

impl JoinPoint {
    /// The OS chooses the interface (by its multicast route).
    fn os_choice() -> Self {
        Self {
            name: None,
            v4_addr: Ipv4Addr::UNSPECIFIED,
            index: 0,
        }
    }

    /// How the interface is named in notes: `eth0`, `interface 3`, or the default one.
    fn label(&self) -> Interface {
        match &self.name {
            Some(name) => Interface::Named(name.clone()),
            None if self.index != 0 => Interface::Index(self.index),
            None => Interface::Default,
        }
    }

    /// Whether `interface` is the one this join point watches (every one when the OS chooses).
    fn watches(&self, interface: &if_addrs::Interface) -> bool {
        match &self.name {
            Some(name) => interface.name == *name,
            None if self.index != 0 => interface.index == Some(self.index),
            None => true,
        }
    }
}

/// Resolves `iface=` for `group` against the host's interfaces: an IPv4 group needs an
/// interface address (given, or the first IPv4 address of the named or numbered interface);
/// an IPv6 group needs an interface index (given, or that of the named interface or of the
/// interface holding the given address).
///
/// # Errors
/// Why, when no such interface exists or it lacks what the group's family needs.
fn resolve_join_point(
    group: IpAddr,
    iface: Option<&str>,
    interfaces: &[if_addrs::Interface],
) -> Result<JoinPoint, JoinProblem> {
    let Some(text) = iface.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(JoinPoint::os_choice());
    };
    let first_v4 = |name: &str| {
        interfaces.iter().find_map(|i| match &i.addr {
            if_addrs::IfAddr::V4(a) if i.name == name => Some(a.ip),
            _ => None,
        })
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        let holder = interfaces.iter().find(|i| i.addr.ip() == ip);
        return match (group, ip) {
            (IpAddr::V4(_), IpAddr::V4(v4)) => {
                let holder = holder.ok_or(JoinProblem::NoInterfaceWithAddress { addr: ip })?;
                Ok(JoinPoint {
                    name: Some(holder.name.clone()),
                    v4_addr: v4,
                    index: holder.index.unwrap_or(0),
                })
            }
            (IpAddr::V6(_), IpAddr::V6(_)) => {
                let holder = holder.ok_or(JoinProblem::NoInterfaceWithAddress { addr: ip })?;
                let index = holder.index.ok_or_else(|| JoinProblem::NoIndex {
                    interface: holder.name.clone(),
                })?;
                Ok(JoinPoint {
                    name: Some(holder.name.clone()),
                    v4_addr: Ipv4Addr::UNSPECIFIED,
                    index,
                })
            }
            _ => Err(JoinProblem::WrongFamily {
                iface: text.to_string(),
                group_ipv4: group.is_ipv4(),
            }),
        };
    }
    let named = if let Ok(index) = text.parse::<u32>() {
        let found = interfaces.iter().find(|i| i.index == Some(index));
        match (found, group) {
            (Some(i), _) => i.name.clone(),
            // An IPv6 interface without addresses can still join by its index.
            (None, IpAddr::V6(_)) if index > 0 => {
                return Ok(JoinPoint {
                    name: None,
                    v4_addr: Ipv4Addr::UNSPECIFIED,
                    index,
                });
            }
            (None, _) => return Err(JoinProblem::NoInterfaceWithIndex { index }),
        }
    } else {
        let found = interfaces.iter().any(|i| i.name == text);
        if !found {
            return Err(JoinProblem::NoInterfaceNamed {
                name: text.to_string(),
            });
        }
        text.to_string()
    };
    let index = interfaces
        .iter()
        .find(|i| i.name == named)
        .and_then(|i| i.index)
        .unwrap_or(0);
    match group {
        IpAddr::V4(_) => {
            let v4_addr = first_v4(&named).ok_or_else(|| JoinProblem::NoIpv4 {
                interface: named.clone(),
            })?;
            Ok(JoinPoint {
                name: Some(named),
                v4_addr,
                index,
            })
        }
        IpAddr::V6(_) if index == 0 => Err(JoinProblem::NoIndex { interface: named }),
        IpAddr::V6(_) => Ok(JoinPoint {
            name: Some(named),
            v4_addr: Ipv4Addr::UNSPECIFIED,
            index,
        }),
    }
}

/// What is watched of the joined interface(s): each address with whether it is up, sorted.
fn interface_state(
    point: &JoinPoint,
    interfaces: &[if_addrs::Interface],
) -> Vec<(String, IpAddr, bool)> {
    let mut state: Vec<_> = interfaces
        .iter()
        .filter(|i| point.watches(i))
        .map(|i| (i.name.clone(), i.addr.ip(), i.is_oper_up()))
        .collect();
    state.sort();
    state
}

/// The host's interfaces; an empty list when the OS will not tell (nothing to resolve or watch).
fn host_interfaces() -> Vec<if_addrs::Interface> {
    if_addrs::get_if_addrs().unwrap_or_default()
}

/// Why a join failed.
fn join_failure(group: IpAddr, point: &JoinPoint, error: &std::io::Error) -> JoinProblem {
    let cause = if error.raw_os_error() == Some(NO_SUCH_DEVICE) {
        match point.name {
            None if point.index == 0 => JoinCause::NoMulticastRoute,
            _ => JoinCause::NoSuchDevice,
        }
    } else {
        JoinCause::Os(OsError::of(error))
    };
    JoinProblem::JoinFailed {
        group,
        interface: point.label(),
        cause,
    }
}

/// The group's socket: bound to the wildcard address and the port, shared, with the
/// session's TTL, loopback and sending interface.
fn open_socket(
    group: IpAddr,
    spec: &SessionSpec,
    point: &JoinPoint,
) -> Result<Socket, StartFailure> {
    let bind_addr: SocketAddr = match group {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, spec.port).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, spec.port).into(),
    };
    let failed = |step: SocketStep| {
        move |e: std::io::Error| StartFailure::GroupSocket {
            step,
            cause: OsError::of(&e),
        }
    };
    let socket = Socket::new(
        Domain::for_address(bind_addr),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(failed(SocketStep::OpenUdp))?;
    socket
        .set_reuse_address(true)
        .map_err(failed(SocketStep::ShareAddress))?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket
        .set_reuse_port(true)
        .map_err(failed(SocketStep::SharePort))?;
    socket
        .set_nonblocking(true)
        .map_err(failed(SocketStep::OpenUdp))?;
    enlarge_recv_buffer(&socket);
    match group {
        IpAddr::V4(_) => {
            // Linux delivers every group joined by anyone on this port unless told otherwise.
            #[cfg(target_os = "linux")]
            socket.set_multicast_all_v4(false).ok();
            if let Some(ttl) = spec.options.ttl {
                socket
                    .set_multicast_ttl_v4(ttl)
                    .map_err(failed(SocketStep::SetTtl { ttl }))?;
            }
            if let Some(on) = spec.options.loopback {
                socket
                    .set_multicast_loop_v4(on)
                    .map_err(failed(SocketStep::SetLoopback))?;
            }
            if !point.v4_addr.is_unspecified() {
                socket.set_multicast_if_v4(&point.v4_addr).map_err(failed(
                    SocketStep::SendFrom {
                        addr: point.v4_addr,
                    },
                ))?;
            }
        }
        IpAddr::V6(_) => {
            socket.set_only_v6(true).ok(); // the IPv4 side of the port stays free
            #[cfg(target_os = "linux")]
            socket.set_multicast_all_v6(false).ok();
            if let Some(hops) = spec.options.ttl {
                socket
                    .set_multicast_hops_v6(hops)
                    .map_err(failed(SocketStep::SetHops { hops }))?;
            }
            if let Some(on) = spec.options.loopback {
                socket
                    .set_multicast_loop_v6(on)
                    .map_err(failed(SocketStep::SetLoopback))?;
            }
            if point.index != 0 {
                socket
                    .set_multicast_if_v6(point.index)
                    .map_err(failed(SocketStep::SendOn {
                        interface: point.label(),
                    }))?;
            }
        }
    }
    socket
        .bind(&bind_addr.into())
        .map_err(|e| StartFailure::Bind {
            addr: bind_addr,
            cause: OsError::of(&e),
        })?;
    Ok(socket)
}

/// Joins `group` on `point`. Already being a member there (a leave that failed because the
/// interface was gone, then came back) counts as joined.
fn join(socket: &UdpSocket, group: IpAddr, point: &JoinPoint) -> Result<(), JoinProblem> {
    let socket = socket2::SockRef::from(socket);
    let joined = match group {
        IpAddr::V4(g) => socket.join_multicast_v4(&g, &point.v4_addr),
        IpAddr::V6(g) => socket.join_multicast_v6(&g, point.index),
    };
    match joined {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(()),
        other => other.map_err(|e| join_failure(group, point, &e)),
    }
}

/// Leaves `group` on `point`; the membership may already be gone with its interface.
fn leave(socket: &UdpSocket, group: IpAddr, point: &JoinPoint) {
    let socket = socket2::SockRef::from(socket);
    match group {
        IpAddr::V4(g) => socket.leave_multicast_v4(&g, &point.v4_addr).ok(),
        IpAddr::V6(g) => socket.leave_multicast_v6(&g, point.index).ok(),
    };
}

/// Points the socket's sends at a (re)resolved interface.
fn send_from(socket: &UdpSocket, point: &JoinPoint) {
    let socket = socket2::SockRef::from(socket);
    if !point.v4_addr.is_unspecified() {
        socket.set_multicast_if_v4(&point.v4_addr).ok();
    } else if point.index != 0 {
        socket.set_multicast_if_v6(point.index).ok();
    }
}

/// The membership as it stands, and what is needed to notice its interface change.
struct Membership {
    group: IpAddr,
    iface: Option<String>,
    point: JoinPoint,
    joined: bool,
    /// The watched interfaces' state at the last check.
    seen: Vec<(String, IpAddr, bool)>,
    /// The last rejoin failure reported, so a lasting one is said once.
    failure: Option<JoinProblem>,
}

impl Membership {
    /// Reads the interface list; when the joined interface changed (or the group is not
    /// joined), leaves and joins again, and says so. A named interface that went down is
    /// left (with a warning) and joined again when it is back up.
    fn check(&mut self, context: &SessionContext, socket: &UdpSocket) {
        let interfaces = host_interfaces();
        let now = interface_state(&self.point, &interfaces);
        if self.joined && now == self.seen {
            return;
        }
        self.seen = now;
        if self.joined {
            leave(socket, self.group, &self.point);
            self.joined = false;
        }
        let rejoined =
            resolve_join_point(self.group, self.iface.as_deref(), &interfaces).and_then(|point| {
                // A named interface that is down (no carrier) is joined when it is back up.
                let state = interface_state(&point, &interfaces);
                if point.name.is_some() && !state.iter().any(|(_, _, up)| *up) {
                    return Err(JoinProblem::Down {
                        interface: point.label(),
                    });
                }
                join(socket, self.group, &point).map(|()| point)
            });
        match rejoined {
            Ok(point) => {
                send_from(socket, &point);
                self.seen = interface_state(&point, &interfaces);
                self.point = point;
                self.joined = true;
                self.failure = None;
                let note = Note::Rejoined {
                    group: self.group,
                    interface: self.point.label(),
                };
                context.sink.note(context.id, None, note);
            }
            Err(problem) => {
                if self.failure.as_ref() != Some(&problem) {
                    let warning = Warning::GroupLeft {
                        group: self.group,
                        problem: problem.clone(),
                    };
                    context.sink.warning(context.id, warning);
                    self.failure = Some(problem);
                }
            }
        }
    }
}

/// Runs a group session until it is stopped.
pub(super) async fn run(
    context: &SessionContext,
    spec: &SessionSpec,
    mut commands: mpsc::UnboundedReceiver<SessionCommand>,
) -> Outcome {
    let group = match spec.host.parse::<IpAddr>() {
        Ok(ip) if ip.is_multicast() => ip,
        _ => {
            return Outcome::StartFailed(StartFailure::NotMulticast {
                host: spec.host.clone(),
            });
        }
    };
    let interfaces = host_interfaces();
    let point = match resolve_join_point(group, spec.options.iface.as_deref(), &interfaces) {
        Ok(point) => point,
        Err(problem) => return Outcome::StartFailed(StartFailure::JoinPoint { group, problem }),
    };
    let socket = match open_socket(group, spec, &point).and_then(|s| {
        UdpSocket::from_std(s.into()).map_err(|e| StartFailure::UdpSocket {
            cause: OsError::of(&e),
        })
    }) {
        Ok(socket) => socket,
        Err(reason) => return Outcome::StartFailed(reason),
    };
    if let Err(problem) = join(&socket, group, &point) {
        return Outcome::StartFailed(StartFailure::Join(problem));
    }
    let mut membership = Membership {
        group,
        iface: spec.options.iface.clone(),
        seen: interface_state(&point, &interfaces),
        point,
        joined: true,
        failure: None,
    };
    report_started(context, &socket, spec);
    let group_addr = SocketAddr::new(group, spec.port);
    let mut peers = UdpPeers::new(spec);
    let group_peer = peers.peer_for(context, group_addr);
    if let Some(welcome) = reactions::on_connect(context) {
        send_datagram(
            context,
            group_peer,
            socket.send_to(&welcome, group_addr).await,
            &welcome,
        );
    }
    let mut drops = DropMonitor::new(context, &socket);
    let mut drop_poll = tokio::time::interval(DROP_POLL_INTERVAL);
    drop_poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut interface_poll = tokio::time::interval(INTERFACE_POLL_INTERVAL);
    interface_poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interface_poll.reset(); // the first check is one interval from now, not at once
    loop {
        tokio::select! {
            () = context.cancel.cancelled() => return Outcome::Stopped,
            ready = socket.readable() => {
                if let Err(e) = ready {
                    return Outcome::Ended(CloseReason::Io(OsError::of(&e)));
                }
                // An auto-reply answers the source, not the whole group.
                let answers = (Greet::Nobody, ReplyPath::ToSource);
                receive_burst(context, &socket, &mut peers, answers).await;
            }
            _ = drop_poll.tick() => drops.check(context, &socket),
            _ = interface_poll.tick() => membership.check(context, &socket),
            command = commands.recv() => match command {
                Some(SessionCommand::Send { target, data, ack }) => {
                    let (peer, to) = match target {
                        SendTarget::Peer(peer) if peer != group_peer => match peers.addr_of(peer) {
                            Some(addr) => (peer, addr),
                            None => {
                                refuse(context, ack.as_ref(), Refusal::SourceForgotten);
                                continue;
                            }
                        },
                        _ => (group_peer, group_addr),
                    };
                    send_datagram(context, peer, socket.send_to(&data, to).await, &data);
                }
                Some(SessionCommand::DisconnectPeer(peer)) => {
                    if peer != group_peer {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(name: &str, index: u32, ip: &str) -> if_addrs::Interface {
        let addr = match ip.parse::<IpAddr>().expect("test address") {
            IpAddr::V4(ip) => if_addrs::IfAddr::V4(if_addrs::Ifv4Addr {
                ip,
                netmask: Ipv4Addr::new(255, 255, 255, 0),
                prefixlen: 24,
                broadcast: None,
            }),
            IpAddr::V6(ip) => if_addrs::IfAddr::V6(if_addrs::Ifv6Addr {
                ip,
                netmask: Ipv6Addr::UNSPECIFIED,
                prefixlen: 64,
                broadcast: None,
            }),
        };
        if_addrs::Interface {
            name: name.to_string(),
            addr,
            index: Some(index),
            oper_status: if_addrs::IfOperStatus::Up,
            is_p2p: false,
            #[cfg(windows)]
            adapter_name: String::new(),
        }
    }

    #[test]
    fn resolves_iface_by_address_name_or_index() {
        let host = [
            interface("lo", 1, "127.0.0.1"),
            interface("eth0", 2, "192.168.1.20"),
            interface("eth0", 2, "fe80::1"),
            interface("wg0", 5, "fd00::5"),
        ];
        let v4: IpAddr = "239.1.2.3".parse().expect("group");
        let v6: IpAddr = "ff02::1234".parse().expect("group");
        let point = |name: &str, v4_addr: [u8; 4], index| JoinPoint {
            name: Some(name.to_string()),
            v4_addr: Ipv4Addr::from(v4_addr),
            index,
        };
        let ok = [
            (v4, None, JoinPoint::os_choice()),
            (
                v4,
                Some("192.168.1.20"),
                point("eth0", [192, 168, 1, 20], 2),
            ),
            (v4, Some("eth0"), point("eth0", [192, 168, 1, 20], 2)),
            (v4, Some("1"), point("lo", [127, 0, 0, 1], 1)),
            (v6, Some("eth0"), point("eth0", [0, 0, 0, 0], 2)),
            (v6, Some("2"), point("eth0", [0, 0, 0, 0], 2)),
            (v6, Some("fd00::5"), point("wg0", [0, 0, 0, 0], 5)),
            (
                v6,
                Some("9"),
                JoinPoint {
                    name: None,
                    v4_addr: Ipv4Addr::UNSPECIFIED,
                    index: 9,
                },
            ),
        ];
        for (group, iface, expected) in ok {
            assert_eq!(
                resolve_join_point(group, iface, &host),
                Ok(expected),
                "{group} {iface:?}"
            );
        }
        let refused = [
            (v4, "10.9.9.9", "no interface has the address 10.9.9.9"),
            (v4, "nosuch0", "no interface named 'nosuch0'"),
            (v4, "wg0", "wg0 has no IPv4 address"),
            (v4, "9", "no interface with index 9"),
            (v4, "fe80::1", "not of the group's address family"),
            (v6, "127.0.0.1", "not of the group's address family"),
        ];
        for (group, iface, expected) in refused {
            let reason = resolve_join_point(group, Some(iface), &host)
                .expect_err(iface)
                .to_string();
            assert!(reason.contains(expected), "{iface}: {reason}");
            assert!(!reason.contains('\n'), "{reason}");
        }
    }

    #[test]
    fn watches_only_the_joined_interface() {
        let before = [
            interface("lo", 1, "127.0.0.1"),
            interface("eth0", 2, "192.168.1.20"),
        ];
        let after = [
            interface("lo", 1, "127.0.0.1"),
            interface("eth0", 2, "192.168.1.20"),
            interface("eth1", 3, "10.0.0.2"),
        ];
        let eth0 = resolve_join_point("239.1.2.3".parse().expect("group"), Some("eth0"), &before)
            .expect("eth0 resolves");
        assert_eq!(
            interface_state(&eth0, &before),
            interface_state(&eth0, &after)
        );
        let mut eth0_down = after.clone();
        eth0_down[1].oper_status = if_addrs::IfOperStatus::Down;
        assert_ne!(
            interface_state(&eth0, &after),
            interface_state(&eth0, &eth0_down)
        );
        let any = JoinPoint::os_choice();
        assert_ne!(
            interface_state(&any, &before),
            interface_state(&any, &after)
        );
    }

    #[test]
    fn join_failures_are_one_line() {
        let group: IpAddr = "239.1.2.3".parse().expect("group");
        let no_route = std::io::Error::from_raw_os_error(NO_SUCH_DEVICE);
        let text = join_failure(group, &JoinPoint::os_choice(), &no_route).to_string();
        assert!(
            text.contains("cannot join 239.1.2.3 on the default interface"),
            "{text}"
        );
        assert!(text.contains("multicast route"), "{text}");
    }
}
