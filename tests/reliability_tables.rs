//! Issue 14, item 3: every table a peer can grow is bounded. Over real loopback sockets: a
//! UDP server hearing from many more source ports than its `max-peers=N` keeps N peers
//! (evicting the one idle longest, counting the evictions, saying so once) and keeps serving;
//! the window's model of it stays bounded too; a TCP (and TLS) server with `max-clients=N`
//! closes connections past N at once, notes the first refusal and counts the rest. The
//! 100,000-source case is measured in RELIABILITY.md.

mod common;

use std::io::Read;
use std::net::UdpSocket;

use common::{DEADLINE, Engine, QUIET, recv_datagram, tcp_connect, udp_socket};
use sockdbg::model::Sessions;
use sockdbg::protocol::{CloseReason, Event, Note, Reactions, SendTarget, SessionId};

const SERVER: SessionId = SessionId(1);

/// Sources a test sends from, and the cap.
const SOURCES: usize = 500;
const MAX_PEERS: usize = 50;

#[test]
fn a_udp_server_keeps_at_most_max_peers_evicting_the_longest_idle() {
    let mut engine = Engine::spawn();
    let reactions = Reactions {
        echo: true,
        ..Reactions::default()
    };
    engine.set_reactions(SERVER, reactions);
    let spec = format!("udp-server:127.0.0.1:0,max-peers={MAX_PEERS}");
    engine.start(SERVER, &spec);
    let addr = engine.started(SERVER);
    // One source that keeps talking, and a scan from many others.
    let lasting = udp_socket("127.0.0.1");
    // Kept open, so no port is reused: each is a new source.
    let mut scan = Vec::with_capacity(SOURCES);
    for n in 0..SOURCES {
        let source = UdpSocket::bind("127.0.0.1:0").expect("a source port");
        source.send_to(b"scan", addr).expect("send");
        scan.push(source);
        if n % 10 == 0 {
            lasting.send_to(b"still here", addr).expect("send");
            assert_eq!(recv_datagram(&lasting).0, b"still here", "echoed at once");
        }
    }
    // Every source announced, every one past the cap evicted, counted in order.
    let mut model = Sessions::default();
    model.create(spec.parse().expect("spec"));
    let sources = SOURCES + 1;
    let (mut connected, mut evicted, mut notes) = (0, Vec::new(), 0);
    while connected < sources || evicted.len() < sources - MAX_PEERS {
        let event = engine.wait_for("the scan's peers and evictions", |e| {
            matches!(
                e,
                Event::PeerConnected { .. }
                    | Event::PeerDisconnected { .. }
                    | Event::Note { .. }
                    | Event::Traffic { .. }
            )
        });
        match &event {
            Event::PeerConnected { .. } => connected += 1,
            Event::PeerDisconnected {
                reason: CloseReason::EvictedIdle { limit, evicted: n },
                ..
            } => {
                assert_eq!(*limit, MAX_PEERS);
                evicted.push(*n);
            }
            Event::PeerDisconnected { reason, .. } => panic!("unexpected disconnect: {reason}"),
            Event::Note {
                note: Note::PeerTableFull { limit },
                ..
            } => {
                assert_eq!(*limit, MAX_PEERS);
                notes += 1;
            }
            _ => {}
        }
        model.apply(event);
    }
    let expected: Vec<u64> = (1..=(sources - MAX_PEERS) as u64).collect();
    assert_eq!(evicted, expected, "each eviction counts the ones before");
    engine.assert_no("another eviction or note", QUIET, |e| {
        matches!(e, Event::PeerDisconnected { .. } | Event::Note { .. })
    });
    assert_eq!(notes, 1, "the full table is said once");
    // The window's model lists the cap, and the source that kept talking is among them.
    let session = model.iter().next().expect("the session");
    assert_eq!(session.connected_peers().count(), MAX_PEERS);
    let lasting_addr = lasting.local_addr().expect("address");
    assert!(session.connected_peers().any(|p| p.addr == lasting_addr));
    // Still serving: a send to every peer reaches the one that stayed.
    engine.send_bytes(SERVER, SendTarget::All, b"to all");
    assert_eq!(recv_datagram(&lasting).0, b"to all");
    engine.shutdown();
}

/// Checks that a connection to `addr` is closed at once, without a byte.
fn assert_refused(addr: std::net::SocketAddr) {
    let mut refused = tcp_connect(addr);
    let mut buf = [0; 16];
    match refused.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the connection closed at once, got {other:?}"),
    }
}

#[test]
fn a_tcp_server_with_max_clients_closes_connections_past_it_and_counts_them() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tcp-server:127.0.0.1:0,max-clients=2");
    let addr = engine.started(SERVER);
    let first = tcp_connect(addr);
    let (first_peer, _) = engine.any_peer(SERVER);
    let _second = tcp_connect(addr);
    engine.any_peer(SERVER);
    // The third is refused, noted with its address; the next two are only counted.
    assert_refused(addr);
    let (_, note) = engine.note_with(SERVER, "max-clients=2 reached");
    assert!(
        note.contains("refused a connection from 127.0.0.1:"),
        "{note}"
    );
    assert_refused(addr);
    assert_refused(addr);
    engine.assert_no("a peer or another note", QUIET, |e| {
        matches!(e, Event::PeerConnected { .. } | Event::Note { .. })
    });
    // A client leaves: the count is told, and a new client gets in.
    drop(first);
    engine.peer_disconnected(SERVER, first_peer);
    let (_, count) = engine.note_with(SERVER, "more connection(s) refused");
    assert_eq!(
        count,
        "2 more connection(s) refused while max-clients=2 was reached"
    );
    let _third = tcp_connect(addr);
    engine.any_peer(SERVER);
    engine.shutdown();
}

#[test]
fn a_tls_servers_handshakes_under_way_count_toward_max_clients() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tls-server:127.0.0.1:0,max-clients=1");
    let addr = engine.started(SERVER);
    // A client that connects and says nothing holds the one place while its handshake runs.
    let _silent = tcp_connect(addr);
    common::wait_for_tcp("the silent client accepted", |row| {
        row.local == addr && row.state == common::TCP_ESTABLISHED
    });
    // Accepted by the kernel at once; give the engine its turn before the next one.
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let mut next = tcp_connect(addr);
        let mut buf = [0; 1];
        next.set_read_timeout(Some(QUIET)).expect("timeout");
        match next.read(&mut buf) {
            Ok(0) => break,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            _ => assert!(
                std::time::Instant::now() < deadline,
                "a second connection was never refused"
            ),
        }
    }
    engine.note_with(SERVER, "max-clients=1 reached");
    engine.shutdown();
}
