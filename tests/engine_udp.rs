//! Engine tests for the UDP session kinds, over real loopback sockets, driven only through
//! `Command`/`Event`: the server lists each source once and replies to one or all, takes a
//! maximal datagram whole, keeps peer ids unique after a peer is forgotten; the client
//! sends, receives replies, and survives "port unreachable"; IPv6 loopback; port in use; a
//! burst of datagrams of many sizes from two sources reaches the log exactly, batched or not.

mod common;

use std::net::UdpSocket;
use std::time::Instant;

use common::{
    Engine, assert_udp_silent, free_udp_port, ipv6_loopback_available, recv_datagram, udp_socket,
};
use sockdbg::engine::EngineSettings;
use sockdbg::intake::Intake;
use sockdbg::model::{EntryKind, Sessions};
use sockdbg::protocol::{Command, Direction, Event, Reactions, SendTarget, SessionId, Warning};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// Largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// Runs the UDP server scenario on `ip` (`127.0.0.1` or `[::1]`).
fn server_lists_sources_and_replies(ip: &str) {
    let mut engine = Engine::spawn();
    engine.start(SERVER, &format!("udp-server:{ip}:0"));
    let server_addr = engine.started(SERVER);
    assert_ne!(server_addr.port(), 0, "Started gives the real port");

    let s1 = udp_socket(ip);
    let s2 = udp_socket(ip);
    let s1_addr = s1.local_addr().expect("local addr");
    let s2_addr = s2.local_addr().expect("local addr");

    s1.send_to(b"one", server_addr).expect("send");
    let p1 = engine.peer_connected(SERVER, s1_addr);
    assert_eq!(engine.traffic(SERVER, p1, Direction::Rx), &b"one"[..]);
    s1.send_to(b"again\x00", server_addr).expect("send");
    assert_eq!(engine.traffic(SERVER, p1, Direction::Rx), &b"again\x00"[..]);
    s2.send_to(b"two", server_addr).expect("send");
    let p2 = engine.peer_connected(SERVER, s2_addr);
    assert_eq!(engine.traffic(SERVER, p2, Direction::Rx), &b"two"[..]);
    assert_ne!(p1, p2);
    let connects_from_s1 = engine
        .history()
        .iter()
        .filter(|e| matches!(e, Event::PeerConnected { addr, .. } if *addr == s1_addr))
        .count();
    assert_eq!(connects_from_s1, 1, "one PeerConnected per source");

    // A reply to one peer reaches only that peer, from the server's port.
    engine.send_bytes(SERVER, SendTarget::Peer(p1), b"reply");
    assert_eq!(recv_datagram(&s1), (b"reply".to_vec(), server_addr));
    assert_eq!(engine.traffic(SERVER, p1, Direction::Tx), &b"reply"[..]);
    assert_udp_silent(&s2);

    // A reply to all reaches every source.
    engine.send_bytes(SERVER, SendTarget::All, b"all");
    assert_eq!(recv_datagram(&s1).0, b"all");
    assert_eq!(recv_datagram(&s2).0, b"all");
    assert_eq!(engine.traffic(SERVER, p1, Direction::Tx), &b"all"[..]);
    assert_eq!(engine.traffic(SERVER, p2, Direction::Tx), &b"all"[..]);

    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    engine.shutdown();
}

#[test]
fn server_lists_each_source_once_and_replies_to_one_or_all() {
    server_lists_sources_and_replies("127.0.0.1");
}

#[test]
fn server_on_ipv6_loopback() {
    if ipv6_loopback_available() {
        server_lists_sources_and_replies("[::1]");
    }
}

#[test]
fn server_receives_a_maximal_datagram_whole() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "udp-server:127.0.0.1:0");
    let server_addr = engine.started(SERVER);
    let source = udp_socket("127.0.0.1");
    let payload: Vec<u8> = (0..MAX_DATAGRAM).map(|i| (i % 251) as u8).collect();
    source.send_to(&payload, server_addr).expect("send");
    let peer = engine.peer_connected(SERVER, source.local_addr().expect("local addr"));
    let data = engine.traffic(SERVER, peer, Direction::Rx);
    assert_eq!(data.len(), MAX_DATAGRAM);
    assert!(data == payload, "payload differs");

    // And sends one whole; one byte more is refused with a clear warning.
    engine.send_bytes(SERVER, SendTarget::Peer(peer), &payload);
    assert!(recv_datagram(&source).0 == payload, "payload differs");
    engine.traffic(SERVER, peer, Direction::Tx);
    engine.send_bytes(SERVER, SendTarget::Peer(peer), &[0; MAX_DATAGRAM + 1]);
    // Not the first warning of any kind: the server may have warned at its start that the
    // kernel capped its receive buffer (a stock net.core.rmem_max does).
    let warning = engine.warning_where(SERVER, "DatagramTooBig", |w| {
        matches!(w, Warning::DatagramTooBig { .. })
    });
    assert!(warning.contains("65,507"), "{warning}");
    engine.shutdown();
}

/// The `n`th datagram of source `source` in the burst test: 0 bytes, then the largest, then
/// sizes that differ from each other and from the other source's, each payload its own.
fn burst_payload(source: usize, n: usize) -> Vec<u8> {
    let len = match n {
        0 => 0,
        1 => MAX_DATAGRAM,
        n => (n * 37 + source * 1500) % 3000,
    };
    (0..len).map(|i| (i + n * 7 + source * 13) as u8).collect()
}

/// Two sources send datagrams of many sizes (0 and 65,507 bytes among them) as fast as they
/// can, interleaved, a chunk at a time, so the server takes several per system call: taken in
/// as the window does (intake, model), every datagram is in the log whole and alone, in the
/// order its source sent it, filed under that source, and the counters are exact.
#[test]
fn a_burst_from_two_sources_reaches_the_log_datagram_by_datagram() {
    const EACH: usize = 300;
    // Rounds (one datagram of each source) sent back to back before the test waits for the
    // engine to take them in. Unread, all 600 datagrams are more than the receive buffer a
    // stock net.core.rmem_max (212,992: the kernel grants twice that) holds, and the kernel
    // drops the rest. 20 datagrams, the two of 65,507 bytes included, take about a quarter
    // of a MiB of it at most; still a burst that a server reads several at a time.
    const ROUNDS_PER_CHUNK: usize = 10;
    let settings = EngineSettings { files_dir: None };
    let (intake, engine) = Intake::start(settings, None).expect("engine starts");
    let mut sessions = Sessions::default();
    let (id, server_addr) =
        common::start_through_intake(&intake, &engine, &mut sessions, "udp-server:127.0.0.1:0");
    let sources = [udp_socket("127.0.0.1"), udp_socket("127.0.0.1")];
    let mut largest_batch = 0;
    let received = |sessions: &Sessions| sessions.get(id).expect("session").counters.rx_packets;
    for start in (0..EACH).step_by(ROUNDS_PER_CHUNK) {
        let end = (start + ROUNDS_PER_CHUNK).min(EACH);
        for n in start..end {
            for (source, socket) in sources.iter().enumerate() {
                socket
                    .send_to(&burst_payload(source, n), server_addr)
                    .expect("send");
            }
        }
        let deadline = Instant::now() + common::DEADLINE;
        while received(&sessions) < 2 * end as u64 {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = intake.receiver().recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "the datagrams of rounds ..{end} not taken in within {:?}: {} of {}",
                    common::DEADLINE,
                    received(&sessions),
                    2 * end
                )
            });
            if let Event::Datagrams { datagrams, .. } = &event {
                largest_batch = largest_batch.max(datagrams.len());
            }
            intake.apply(event, &mut sessions, None);
        }
    }
    println!("largest batch: {largest_batch} datagrams");

    let session = sessions.get(id).expect("session");
    let source_addrs: Vec<_> = sources
        .iter()
        .map(|s| s.local_addr().expect("local addr"))
        .collect();
    let mut next_of = [0usize; 2];
    for entry in (0..session.log.len()).filter_map(|i| session.log.get_by_index(i)) {
        if entry.kind != EntryKind::Rx {
            continue;
        }
        let addr = session.peers.get(entry.peer).expect("a known peer").addr;
        let source = source_addrs
            .iter()
            .position(|a| *a == addr)
            .unwrap_or_else(|| panic!("filed under {addr}, not a source"));
        let n = next_of[source];
        assert!(
            entry.bytes == burst_payload(source, n),
            "datagram {n} of source {source}: {} bytes, expected {}",
            entry.bytes.len(),
            burst_payload(source, n).len()
        );
        next_of[source] += 1;
    }
    assert_eq!(next_of, [EACH, EACH], "every datagram once");
    let expected_bytes: usize = (0..EACH)
        .flat_map(|n| [0, 1].map(|source| burst_payload(source, n).len()))
        .sum();
    assert_eq!(session.counters.rx_bytes, expected_bytes as u64);
    assert_eq!(session.peers.connected_count(), 2, "two peers");
    engine.shutdown();
}

#[test]
fn server_never_reuses_the_id_of_a_forgotten_peer() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "udp-server:127.0.0.1:0");
    let server_addr = engine.started(SERVER);
    let s1 = udp_socket("127.0.0.1");
    let s2 = udp_socket("127.0.0.1");
    let s3 = udp_socket("127.0.0.1");
    s1.send_to(b"1", server_addr).expect("send");
    let p1 = engine.peer_connected(SERVER, s1.local_addr().expect("local addr"));
    s2.send_to(b"2", server_addr).expect("send");
    let p2 = engine.peer_connected(SERVER, s2.local_addr().expect("local addr"));

    engine.send(Command::DisconnectPeer {
        id: SERVER,
        peer: p1,
    });
    assert_eq!(engine.peer_disconnected(SERVER, p1), "forgotten by user");

    s3.send_to(b"3", server_addr).expect("send");
    let p3 = engine.peer_connected(SERVER, s3.local_addr().expect("local addr"));
    assert!(p3 != p1 && p3 != p2, "fresh id: {p3:?} vs {p1:?}, {p2:?}");

    // Peer 2 is still peer 2: a reply to it reaches s2, not s3.
    engine.send_bytes(SERVER, SendTarget::Peer(p2), b"to two");
    assert_eq!(recv_datagram(&s2).0, b"to two");
    assert_udp_silent(&s3);

    // A forgotten source that comes back is a new peer.
    s1.send_to(b"back", server_addr).expect("send");
    let p1_again = engine.peer_connected(SERVER, s1.local_addr().expect("local addr"));
    assert!(![p1, p2, p3].contains(&p1_again), "{p1_again:?}");
    engine.shutdown();
}

#[test]
fn server_on_a_port_in_use_fails_to_start_with_a_clear_reason() {
    let holder = UdpSocket::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("local addr").port();
    let mut engine = Engine::spawn();
    engine.start(SERVER, &format!("udp-server:127.0.0.1:{port}"));
    let reason = engine.start_failed(SERVER);
    assert!(reason.contains("in use"), "{reason}");
    engine.shutdown();
}

/// Runs the UDP client scenario against a std socket on `ip`.
fn client_scenario(ip: &str) {
    let target = udp_socket(ip);
    let target_addr = target.local_addr().expect("local addr");
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("udp-client:{target_addr}"));
    let local_addr = engine.started(CLIENT);
    let peer = engine.peer_connected(CLIENT, target_addr);

    engine.send_bytes(CLIENT, SendTarget::All, b"ping\xff");
    let (data, from) = recv_datagram(&target);
    assert_eq!(data, b"ping\xff");
    assert_eq!(from.port(), local_addr.port());
    assert_eq!(
        engine.traffic(CLIENT, peer, Direction::Tx),
        &b"ping\xff"[..]
    );

    target.send_to(b"pong", from).expect("reply");
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Rx), &b"pong"[..]);

    engine.stop(CLIENT);
    assert_eq!(engine.stopped(CLIENT), None);
    engine.shutdown();
}

#[test]
fn client_sends_and_sees_replies() {
    client_scenario("127.0.0.1");
}

#[test]
fn client_on_ipv6_loopback() {
    if ipv6_loopback_available() {
        client_scenario("[::1]");
    }
}

/// A client whose session echoes answers its (connected) target on the connection.
#[test]
fn client_echoes_to_its_target() {
    let target = udp_socket("127.0.0.1");
    let target_addr = target.local_addr().expect("local addr");
    let mut engine = Engine::spawn();
    engine.set_reactions(
        CLIENT,
        Reactions {
            echo: true,
            ..Reactions::default()
        },
    );
    engine.start(CLIENT, &format!("udp-client:{target_addr}"));
    let local_addr = engine.started(CLIENT);
    let peer = engine.peer_connected(CLIENT, target_addr);
    target.send_to(b"again", local_addr).expect("send");
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Rx), &b"again"[..]);
    assert_eq!(recv_datagram(&target), (b"again".to_vec(), local_addr));
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Tx), &b"again"[..]);
    assert_udp_silent(&target);
    engine.shutdown();
}

#[test]
fn client_to_a_closed_port_warns_and_keeps_running() {
    let port = free_udp_port();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("udp-client:127.0.0.1:{port}"));
    engine.started(CLIENT);
    let peer = engine.peer_connected(CLIENT, ([127, 0, 0, 1], port).into());

    // The datagram leaves; the ICMP "port unreachable" that comes back is reported.
    engine.send_bytes(CLIENT, SendTarget::All, b"anyone?");
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Tx), &b"anyone?"[..]);
    let warning = engine.warning(CLIENT);
    assert!(warning.contains("unreachable"), "{warning}");

    // The session keeps running: once something listens, the next send arrives.
    let late = UdpSocket::bind(("127.0.0.1", port)).expect("bind the port now");
    late.set_read_timeout(Some(common::DEADLINE))
        .expect("read timeout");
    engine.send_bytes(CLIENT, SendTarget::All, b"now?");
    assert_eq!(recv_datagram(&late).0, b"now?");
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Tx), &b"now?"[..]);
    engine.assert_no("Stopped", common::QUIET, |e| {
        matches!(e, Event::Stopped { .. })
    });
    engine.shutdown();
}

#[test]
fn shutdown_is_prompt_and_releases_ports() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "udp-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    // Prompt: the session closed its sockets itself when told to and said so, instead of
    // being dropped once the shutdown's 2 s grace ran out.
    engine.shutdown_with_stopped(SERVER);
    // std does not set SO_REUSEADDR on UDP: this bind fails if the engine still holds it.
    let rebound = UdpSocket::bind(addr);
    assert!(rebound.is_ok(), "port {addr} still held: {rebound:?}");
}
