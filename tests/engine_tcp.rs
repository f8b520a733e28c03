//! Engine tests for the TCP session kinds, over real loopback sockets, driven only through
//! `Command`/`Event`: a multi-client server with targeted and broadcast sends, disconnects
//! and resets, restart on the same port, port in use, the TCP client (refused, reset,
//! closed, reconnect), GBK round trip, characters split across reads, IPv6 and shutdown,
//! and a read nothing answers handed over without a second holder.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    DEADLINE, Engine, accept, assert_tcp_closed, assert_tcp_silent, free_tcp_port,
    ipv6_loopback_available, read_exactly, reset, tcp_connect,
};
use sockdbg::codec::text::{
    FOLLOWING_BYTES, Following, TextEncoding, decode_for_display, encode_strict,
};
use sockdbg::engine::{EngineHandle, EngineSettings, EventSink};
use sockdbg::model::{EntryKind, Sessions};
use sockdbg::protocol::{Command, Direction, Event, Reactions, SendTarget, SessionId};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// Runs the multi-client server scenario on `host` (`127.0.0.1` or `[::1]`).
fn server_with_two_clients(host: &str) {
    let mut engine = Engine::spawn();
    engine.start(SERVER, &format!("tcp-server:{host}:0"));
    let server_addr = engine.started(SERVER);
    assert_ne!(server_addr.port(), 0, "Started gives the real port");
    assert_eq!(server_addr.ip().to_string(), host.trim_matches(['[', ']']));

    let mut a = tcp_connect(server_addr);
    let peer_a = engine.peer_connected(SERVER, a.local_addr().expect("local addr"));
    let mut b = tcp_connect(server_addr);
    let peer_b = engine.peer_connected(SERVER, b.local_addr().expect("local addr"));
    assert_ne!(peer_a, peer_b);

    // Each client's bytes arrive exactly, tagged with its own peer id.
    a.write_all(b"hello from a\x00\xff").expect("a writes");
    let (rx, _) = engine.traffic_bytes(SERVER, peer_a, Direction::Rx, 14);
    assert_eq!(rx, b"hello from a\x00\xff");
    b.write_all(b"hi from b").expect("b writes");
    let (rx, _) = engine.traffic_bytes(SERVER, peer_b, Direction::Rx, 9);
    assert_eq!(rx, b"hi from b");

    // A targeted send reaches only its peer, and a Tx event follows.
    engine.send_bytes(SERVER, SendTarget::Peer(peer_b), b"only b");
    assert_eq!(read_exactly(&mut b, 6), b"only b");
    assert_eq!(
        engine.traffic(SERVER, peer_b, Direction::Tx),
        &b"only b"[..]
    );
    assert_tcp_silent(&mut a);
    engine.assert_no(
        "Tx to a",
        Duration::ZERO,
        |e| matches!(e, Event::Traffic { peer, dir: Direction::Tx, .. } if *peer == peer_a),
    );

    // A broadcast reaches both.
    engine.send_bytes(SERVER, SendTarget::All, b"to all");
    assert_eq!(read_exactly(&mut a, 6), b"to all");
    assert_eq!(read_exactly(&mut b, 6), b"to all");
    assert_eq!(
        engine.traffic(SERVER, peer_a, Direction::Tx),
        &b"to all"[..]
    );
    assert_eq!(
        engine.traffic(SERVER, peer_b, Direction::Tx),
        &b"to all"[..]
    );

    // Disconnecting a peer closes its connection.
    engine.send(Command::DisconnectPeer {
        id: SERVER,
        peer: peer_a,
    });
    assert_tcp_closed(&mut a);
    assert_eq!(
        engine.peer_disconnected(SERVER, peer_a),
        "disconnected by user"
    );

    // Sending to a peer that is gone is reported, not silently dropped.
    engine.send_bytes(SERVER, SendTarget::Peer(peer_a), b"late");
    let warning = engine.warning(SERVER);
    assert!(warning.contains("no longer connected"), "{warning}");

    // A client that closes is reported as such.
    drop(b);
    assert_eq!(engine.peer_disconnected(SERVER, peer_b), "closed by peer");

    // A client that resets is reported as a reset.
    let c = tcp_connect(server_addr);
    let peer_c = engine.peer_connected(SERVER, c.local_addr().expect("local addr"));
    assert!(
        ![peer_a, peer_b].contains(&peer_c),
        "peer ids are not reused"
    );
    reset(c);
    let reason = engine.peer_disconnected(SERVER, peer_c);
    assert!(reason.contains("reset"), "{reason}");

    // Broadcast with nobody connected says so.
    engine.send_bytes(SERVER, SendTarget::All, b"nobody");
    let warning = engine.warning(SERVER);
    assert!(warning.contains("no client"), "{warning}");

    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    engine.shutdown();
}

#[test]
fn server_serves_two_clients_with_targeted_and_broadcast_sends() {
    server_with_two_clients("127.0.0.1");
}

#[test]
fn server_on_ipv6_loopback() {
    if ipv6_loopback_available() {
        server_with_two_clients("[::1]");
    }
}

#[test]
fn server_restarts_on_the_same_port() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let spec = format!("tcp-server:127.0.0.1:{}", addr.port());

    // Stop with a client connected, then start again on the same port at once.
    let mut first = tcp_connect(addr);
    let first_peer = engine.peer_connected(SERVER, first.local_addr().expect("local addr"));
    first.write_all(b"x").expect("write");
    assert_eq!(engine.traffic(SERVER, first_peer, Direction::Rx), &b"x"[..]);
    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    assert_tcp_closed(&mut first);
    engine.start(SERVER, &spec);
    assert_eq!(engine.started(SERVER), addr, "restarted on the same port");

    // Start again while running (no Stop): the old run stops first, then the new one binds,
    // even though a client of the old run has not closed its end yet.
    let mut second = tcp_connect(addr);
    let second_peer = engine.peer_connected(SERVER, second.local_addr().expect("local addr"));
    engine.start(SERVER, &spec);
    assert_eq!(
        engine.peer_disconnected(SERVER, second_peer),
        "session stopped"
    );
    assert_eq!(engine.stopped(SERVER), None);
    assert_eq!(engine.started(SERVER), addr, "restarted without Stop");
    assert_tcp_closed(&mut second);
    let lifecycle: Vec<&str> = engine
        .history()
        .iter()
        .filter_map(|e| match e {
            Event::Started { .. } => Some("started"),
            Event::Stopped { .. } => Some("stopped"),
            Event::StartFailed { .. } => Some("failed"),
            _ => None,
        })
        .collect();
    assert_eq!(
        lifecycle,
        ["started", "stopped", "started", "stopped", "started"]
    );

    // The restarted server works.
    let mut third = tcp_connect(addr);
    let third_peer = engine.peer_connected(SERVER, third.local_addr().expect("local addr"));
    engine.send_bytes(SERVER, SendTarget::Peer(third_peer), b"back");
    assert_eq!(read_exactly(&mut third, 4), b"back");
    engine.shutdown();
}

/// A deleted session is forgotten: its sockets close, and its rules go with it, so a session
/// started later under the same id answers nothing (a stopped one keeps its rules).
#[test]
fn a_forgotten_session_closes_and_keeps_no_rules() {
    let mut engine = Engine::spawn();
    let echo = || Reactions {
        on_connect: None,
        rules: Vec::new(),
        echo: true,
    };
    engine.set_reactions(SERVER, echo());
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let mut client = tcp_connect(engine.started(SERVER));
    client.write_all(b"echo me").expect("write");
    assert_eq!(read_exactly(&mut client, 7), b"echo me");

    // Stopped and started again: the rules stay.
    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    assert_tcp_closed(&mut client);
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let mut client = tcp_connect(engine.started(SERVER));
    client.write_all(b"again").expect("write");
    assert_eq!(read_exactly(&mut client, 5), b"again");

    // Forgotten while running: closed; started again under that id: no rules.
    engine.send(Command::Forget { id: SERVER });
    assert_eq!(engine.stopped(SERVER), None);
    assert_tcp_closed(&mut client);
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let mut client = tcp_connect(engine.started(SERVER));
    client.write_all(b"echo me").expect("write");
    assert_tcp_silent(&mut client);
    engine.shutdown();
}

#[test]
fn server_on_a_port_in_use_fails_to_start_with_a_clear_reason() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("local addr").port();
    let mut engine = Engine::spawn();
    engine.start(SERVER, &format!("tcp-server:127.0.0.1:{port}"));
    let reason = engine.start_failed(SERVER);
    assert!(reason.contains("in use"), "{reason}");
    // The failed session takes no commands, and says so.
    engine.send_bytes(SERVER, SendTarget::All, b"x");
    let warning = engine.warning(SERVER);
    assert!(warning.contains("not running"), "{warning}");
    engine.shutdown();
}

/// Runs the TCP client scenario against a std listener on `host`.
fn client_sends_and_receives(host: &str) {
    let listener = TcpListener::bind(format!("{host}:0")).expect("listen");
    let listener_addr = listener.local_addr().expect("local addr");
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{listener_addr}"));
    let (mut server_side, client_addr) = accept(&listener);
    assert_eq!(engine.started(CLIENT), client_addr);
    let peer = engine.peer_connected(CLIENT, listener_addr);

    engine.send_bytes(CLIENT, SendTarget::All, b"ping\r\n\x01");
    assert_eq!(read_exactly(&mut server_side, 7), b"ping\r\n\x01");
    assert_eq!(
        engine.traffic(CLIENT, peer, Direction::Tx),
        &b"ping\r\n\x01"[..]
    );
    server_side.write_all(b"pong\xfe").expect("write");
    let (rx, _) = engine.traffic_bytes(CLIENT, peer, Direction::Rx, 5);
    assert_eq!(rx, b"pong\xfe");

    // The server closing ends the session with a reason.
    drop(server_side);
    assert_eq!(engine.peer_disconnected(CLIENT, peer), "closed by peer");
    assert_eq!(engine.stopped(CLIENT), Some("closed by peer".to_string()));

    // Reconnect: the same session starts again.
    engine.start(CLIENT, &format!("tcp-client:{listener_addr}"));
    let (mut server_side, client_addr) = accept(&listener);
    assert_eq!(engine.started(CLIENT), client_addr);
    let peer = engine.peer_connected(CLIENT, listener_addr);
    server_side.write_all(b"again").expect("write");
    let (rx, _) = engine.traffic_bytes(CLIENT, peer, Direction::Rx, 5);
    assert_eq!(rx, b"again");

    // The user stopping it closes the connection.
    engine.stop(CLIENT);
    assert_eq!(engine.stopped(CLIENT), None);
    assert_tcp_closed(&mut server_side);
    engine.shutdown();
}

#[test]
fn client_sends_receives_and_sees_the_server_close() {
    client_sends_and_receives("127.0.0.1");
}

#[test]
fn client_on_ipv6_loopback() {
    if ipv6_loopback_available() {
        client_sends_and_receives("[::1]");
    }
}

#[test]
fn client_to_a_closed_port_is_refused() {
    let port = free_tcp_port();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:127.0.0.1:{port}"));
    let reason = engine.start_failed(CLIENT);
    assert!(reason.contains("refused"), "{reason}");
    engine.shutdown();
}

#[test]
fn client_sees_a_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let listener_addr = listener.local_addr().expect("local addr");
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{listener_addr}"));
    let (server_side, _) = accept(&listener);
    engine.started(CLIENT);
    let peer = engine.peer_connected(CLIENT, listener_addr);
    reset(server_side);
    let reason = engine.peer_disconnected(CLIENT, peer);
    assert!(reason.contains("reset"), "{reason}");
    let reason = engine
        .stopped(CLIENT)
        .expect("ended by itself, with a reason");
    assert!(reason.contains("reset"), "{reason}");
    engine.shutdown();
}

/// Applies every event seen so far to a fresh model holding session `id` (created first).
fn model_of(engine: &Engine, spec: &str) -> Sessions {
    let mut sessions = Sessions::default();
    let id = sessions.create(spec.parse().expect("valid spec"));
    assert_eq!(id, SERVER, "the model's first id is the one the tests use");
    for event in engine.history() {
        sessions.apply(event.clone());
    }
    sessions
}

/// The Rx entries of the model's server session, decoded for display as the view does.
fn decoded_rx(sessions: &Sessions, encoding: TextEncoding) -> Vec<String> {
    let session = sessions.get(SERVER).expect("session exists");
    (0..session.log.len())
        .filter_map(|i| session.log.get_by_index(i))
        .filter(|e| e.kind == EntryKind::Rx)
        .map(|e| {
            let after = session.log.stream_after(e.seq, FOLLOWING_BYTES);
            let following = if after.is_empty() {
                Following::Nothing
            } else {
                Following::Bytes(&after)
            };
            let before = session.log.stream_before(e.seq, 64);
            decode_for_display(&before, e.bytes, following, encoding)
        })
        .collect()
}

#[test]
fn gbk_round_trip() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let mut client = tcp_connect(addr);
    let peer = engine.peer_connected(SERVER, client.local_addr().expect("local addr"));

    let encoded = encode_strict("中文", TextEncoding::Gbk).expect("GBK has 中文");
    engine.send_bytes(SERVER, SendTarget::Peer(peer), &encoded);
    assert_eq!(read_exactly(&mut client, 4), [0xd6, 0xd0, 0xce, 0xc4]);
    assert_eq!(
        engine.traffic(SERVER, peer, Direction::Tx),
        &[0xd6, 0xd0, 0xce, 0xc4][..]
    );

    client.write_all(&[0xd6, 0xd0, 0xce, 0xc4]).expect("write");
    let (rx, _) = engine.traffic_bytes(SERVER, peer, Direction::Rx, 4);
    assert_eq!(rx, [0xd6, 0xd0, 0xce, 0xc4]);
    let sessions = model_of(&engine, "tcp-server:127.0.0.1:0");
    assert_eq!(decoded_rx(&sessions, TextEncoding::Gbk).concat(), "中文");
    engine.shutdown();
}

/// Sends `text` in `encoding` as two TCP writes split at byte `split` (inside a character)
/// and checks the two log entries decode to the whole text.
fn split_character_displays_whole(encoding: TextEncoding, text: &str, split: usize) {
    let bytes = encode_strict(text, encoding).expect("encodable");
    let (first, second) = bytes.split_at(split);
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let mut client = tcp_connect(addr);
    client.set_nodelay(true).expect("TCP_NODELAY");
    let peer = engine.peer_connected(SERVER, client.local_addr().expect("local addr"));

    client.write_all(first).expect("first write");
    // The first read is logged before the second write: two reads.
    assert_eq!(engine.traffic(SERVER, peer, Direction::Rx), first);
    client.write_all(second).expect("second write");
    assert_eq!(engine.traffic(SERVER, peer, Direction::Rx), second);

    let sessions = model_of(&engine, "tcp-server:127.0.0.1:0");
    let shown = decoded_rx(&sessions, encoding);
    assert_eq!(shown.len(), 2, "two reads, two entries: {shown:?}");
    assert_eq!(
        shown.concat(),
        text,
        "{encoding:?} split at {split}: {shown:?}"
    );
    assert!(
        shown.iter().all(|s| !s.contains("\\x")),
        "no escapes: {shown:?}"
    );
    engine.shutdown();
}

#[test]
fn utf8_character_split_across_two_reads_displays_whole() {
    // 中文 is e4 b8 ad e6 96 87: split inside 文.
    split_character_displays_whole(TextEncoding::Utf8, "a中文", 5);
}

#[test]
fn gbk_character_split_across_two_reads_displays_whole() {
    // 中文 is d6 d0 ce c4: split inside 中.
    split_character_displays_whole(TextEncoding::Gbk, "中文!", 1);
}

#[test]
fn shutdown_is_prompt_and_releases_ports() {
    let mut engine = Engine::spawn();
    engine.start(SERVER, "tcp-server:127.0.0.1:0");
    let addr = engine.started(SERVER);
    let mut client = tcp_connect(addr);
    engine.peer_connected(SERVER, client.local_addr().expect("local addr"));
    // Prompt: the session closed its sockets itself when told to and said so, instead of
    // being dropped once the shutdown's 2 s grace ran out.
    engine.shutdown_with_stopped(SERVER);
    assert_tcp_closed(&mut client);
    // std's TcpListener sets SO_REUSEADDR, like the engine, so TIME_WAIT does not count.
    let rebound = TcpListener::bind(addr);
    assert!(rebound.is_ok(), "port {addr} still held: {rebound:?}");
}

#[test]
fn a_client_is_started_before_its_connection_is_listed_in_time_too() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{addr}"));
    let _accepted = accept(&listener);
    engine.started(CLIENT);
    engine.wait_for(
        "the client's connection listed",
        |e| matches!(e, Event::PeerConnected { id, .. } if *id == CLIENT),
    );
    let started_at = engine.history().iter().find_map(|e| match e {
        Event::Started { id, at, .. } if *id == CLIENT => Some(*at),
        _ => None,
    });
    let connected_at = engine.history().iter().find_map(|e| match e {
        Event::PeerConnected { id, at, .. } if *id == CLIENT => Some(*at),
        _ => None,
    });
    let (Some(started_at), Some(connected_at)) = (started_at, connected_at) else {
        panic!("both events are in the history");
    };
    // The log shows "connected from ..." above the server's "connected", and so must the times.
    assert!(
        started_at <= connected_at,
        "{started_at:?} > {connected_at:?}"
    );
    let mut sessions = Sessions::default();
    let id = sessions.create(format!("tcp-client:{addr}").parse().expect("spec"));
    for event in engine.history().iter().filter(|e| e.session() == CLIENT) {
        let mut event = event.clone();
        if let Event::Started { id: i, .. } | Event::PeerConnected { id: i, .. } = &mut event {
            *i = id;
        }
        sessions.apply(event);
    }
    let log = &sessions.get(id).expect("session").log;
    let times: Vec<i64> = (0..log.len())
        .filter_map(|i| log.get_by_index(i))
        .map(|e| e.at_micros)
        .collect();
    assert!(times.len() >= 2 && times.is_sorted(), "{times:?}");
}

/// Waits for the first of `seen`'s events matching `matches`, with whether it held its bytes
/// alone when taken; panics after [`DEADLINE`].
fn next_seen(
    seen: &crossbeam_channel::Receiver<(Event, bool)>,
    what: &str,
    matches: impl Fn(&Event) -> bool,
) -> (Event, bool) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok((event, alone)) if matches(&event) => return (event, alone),
            Ok(_) => {}
            Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
        }
    }
}

/// Whether each of the `Rx` events that carry the next `len` received bytes held its bytes
/// alone when it was taken.
fn rx_alone(seen: &crossbeam_channel::Receiver<(Event, bool)>, len: usize) -> Vec<bool> {
    let mut got = 0;
    let mut alone = Vec::new();
    while got < len {
        let (event, held_alone) = next_seen(
            seen,
            "the bytes received",
            |e| matches!(e, Event::Traffic { id, dir: Direction::Rx, .. } if *id == SERVER),
        );
        if let Event::Traffic { data, .. } = event {
            got += data.len();
        }
        alone.push(held_alone);
    }
    alone
}

/// When nothing answers (no echo, no rules), the engine keeps no clone of a read: a receiver
/// that takes the event at once, before the engine goes on, holds the read's buffer alone,
/// so the log keeps it without a copy (`TrafficLog::push_shared`). A read the session echoes
/// is shared at that moment (which shows the check can see a second holder), and echoed.
#[test]
fn a_read_nothing_answers_reaches_the_receiver_as_its_only_holder() {
    // The waker runs on the engine's thread right after each event is sent, before the
    // sender goes on: it takes the events then, as a UI draining right away would.
    let (events_tx, events) = crossbeam_channel::unbounded::<Event>();
    let (seen_tx, seen) = crossbeam_channel::unbounded::<(Event, bool)>();
    let take_now = move || {
        while let Ok(event) = events.try_recv() {
            let alone = matches!(&event, Event::Traffic { data, .. } if data.is_unique());
            seen_tx.send((event, alone)).ok(); // the test has failed already
        }
    };
    let sink = EventSink::new(events_tx, Arc::new(take_now));
    let engine =
        EngineHandle::spawn_with(sink, EngineSettings { files_dir: None }).expect("engine starts");
    let spec = "tcp-server:127.0.0.1:0".parse().expect("spec");
    engine.send(Command::Start { id: SERVER, spec });
    let addr = match next_seen(&seen, "Started", |e| {
        matches!(e, Event::Started { .. } | Event::StartFailed { .. })
    }) {
        (Event::Started { local_addr, .. }, _) => local_addr,
        (other, _) => panic!("{other:?}"),
    };
    let mut client = tcp_connect(addr);

    // Large reads (those the log would adopt) and a small one.
    let large = vec![0x5a; 256 * 1024];
    client.write_all(&large).expect("write");
    let alone = rx_alone(&seen, large.len());
    assert!(alone.iter().all(|a| *a), "held alone: {alone:?}");
    client.write_all(b"small").expect("write");
    assert_eq!(rx_alone(&seen, 5), [true]);

    let reactions = Reactions {
        on_connect: None,
        rules: Vec::new(),
        echo: true,
    };
    engine.send(Command::SetReactions {
        id: SERVER,
        reactions,
    });
    next_seen(
        &seen,
        "ReactionsApplied",
        |e| matches!(e, Event::ReactionsApplied { id } if *id == SERVER),
    );
    client.write_all(b"echo me").expect("write");
    let alone = rx_alone(&seen, 7);
    assert!(alone.iter().all(|a| !*a), "held alone: {alone:?}");
    assert_eq!(read_exactly(&mut client, 7), b"echo me");
    engine.shutdown();
}
