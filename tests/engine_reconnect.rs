//! A TCP or TLS client with `reconnect`, over real loopback sockets: while its server is away
//! it says why once (not every second), refuses sends, and connects when the server comes;
//! when the server closes the connection it connects again (a new connection, a new run of
//! the session); a stop while it
//! waits ends it at once. Without `reconnect` a refused connect still fails the start. TLS and
//! WebSocket clients reconnect to their restarted server the same way. A periodic send waits
//! while its client reconnects, and goes on once it is connected.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use common::{Engine, QUIET, accept, bound_unlistened, read_exactly};
use sockdbg::codec::send::SendOptions;
use sockdbg::protocol::{
    Command, Direction, Event, JobId, JobOutcome, Note, Refusal, SendTarget, SessionId, Warning,
};
use sockdbg::scenario::sending::SendPayload;

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// The `Reconnecting` notes of session `id` among the events received so far.
fn reconnect_notes(engine: &Engine, id: SessionId) -> Vec<String> {
    engine
        .history()
        .iter()
        .filter_map(|e| match e {
            Event::Note {
                id: i,
                note: note @ Note::Reconnecting { .. },
                ..
            } if *i == id => Some(note.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reconnect_client_waits_for_its_server_and_connects_again_after_a_close() {
    let (holder, addr) = bound_unlistened();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{addr},reconnect"));

    // The server is away: one note says why and how often it tries; no failed start.
    let (_, note) = engine.note_with(CLIENT, "trying again every 1000 ms");
    assert!(note.contains("connection refused"), "{note}");
    // Two more tries pass (one a second) without another note.
    engine.collect_for(std::time::Duration::from_millis(2500));
    assert_eq!(reconnect_notes(&engine, CLIENT).len(), 1, "told once");
    assert!(
        !engine
            .history()
            .iter()
            .any(|e| matches!(e, Event::StartFailed { .. } | Event::Stopped { .. })),
        "the session waits: {:#?}",
        engine.history()
    );
    // A send meanwhile is refused, saying why.
    engine.send_bytes(CLIENT, SendTarget::All, b"early");
    let refused = engine.warning_where(CLIENT, "not sent: reconnecting", |w| {
        matches!(w, Warning::NotSent(Refusal::Reconnecting))
    });
    assert!(refused.contains("not connected"), "{refused}");

    // The server comes: the client connects within a try or two, and its sends arrive.
    holder.listen(8).expect("listen");
    let listener: TcpListener = holder.into();
    let (mut first, _) = accept(&listener);
    let local = engine.started(CLIENT);
    let first_peer = engine.peer_connected(CLIENT, addr);
    assert_eq!(local, first.peer_addr().expect("peer"));
    engine.send_bytes(CLIENT, SendTarget::All, b"hello");
    assert_eq!(read_exactly(&mut first, 5), b"hello");
    first.write_all(b"hi").expect("write");
    assert_eq!(
        engine.traffic_bytes(CLIENT, first_peer, Direction::Rx, 2).0,
        b"hi"
    );

    // The server closes the connection: the client says so and connects again, a new peer.
    drop(first);
    engine.peer_disconnected(CLIENT, first_peer);
    let (_, note) = engine.note_with(CLIENT, "closed by");
    assert!(note.contains("trying again"), "{note}");
    let (mut second, _) = accept(&listener);
    let second_local = engine.started(CLIENT);
    assert_ne!(second_local, local, "a new connection");
    assert_eq!(second_local, second.peer_addr().expect("peer"));
    engine.peer_connected(CLIENT, addr);
    engine.send_bytes(CLIENT, SendTarget::All, b"again");
    assert_eq!(read_exactly(&mut second, 5), b"again");

    // Away again, then stopped while it waits: it stops at once, with no reason.
    drop(second);
    drop(listener);
    engine.note_with(CLIENT, "closed by");
    engine.stop(CLIENT);
    assert_eq!(engine.stopped(CLIENT), None);
    engine.shutdown();
}

#[test]
fn without_reconnect_a_refused_connect_fails_the_start() {
    let (_holder, addr) = bound_unlistened();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{addr}"));
    let reason = engine.start_failed(CLIENT);
    assert!(reason.contains("connection refused"), "{reason}");
    engine.assert_no("a reconnect note", QUIET, |e| {
        matches!(
            e,
            Event::Note {
                note: Note::Reconnecting { .. },
                ..
            }
        )
    });
    engine.shutdown();
}

/// A client with `reconnect` against the engine's own server of its protocol: stopping the
/// server ends the connection, the client waits, and connects again (a new connection, with
/// its handshake) when the server is started again on the same port; the new connection
/// carries bytes. `server` and `client` give each spec from the server's address (port 0
/// first).
fn reconnects_to_a_restarted_server(
    server: impl Fn(&str) -> String,
    client: impl Fn(SocketAddr) -> String,
) {
    let mut engine = Engine::spawn();
    engine.start(SERVER, &server("127.0.0.1:0"));
    let addr = engine.started(SERVER);
    engine.start(CLIENT, &client(addr));
    let first_local = engine.started(CLIENT);
    let first = engine.peer_connected(CLIENT, addr);
    engine.any_peer(SERVER);
    engine.stop(SERVER);
    engine.stopped(SERVER);
    engine.peer_disconnected(CLIENT, first);
    engine.note_with(CLIENT, "trying again every 1000 ms");
    engine.start(SERVER, &server(&addr.to_string()));
    engine.started(SERVER);
    let second_local = engine.started(CLIENT);
    assert_ne!(second_local, first_local, "a new connection");
    engine.peer_connected(CLIENT, addr);
    // The new connection carries bytes: the server sees the client's.
    engine.send_bytes(CLIENT, SendTarget::All, b"after");
    let (peer, _) = engine.any_peer(SERVER);
    let (got, _) = engine.traffic_bytes(SERVER, peer, Direction::Rx, 5);
    assert_eq!(got, b"after");
    engine.shutdown();
}

#[test]
fn a_tls_client_reconnects_to_a_restarted_server() {
    reconnects_to_a_restarted_server(
        |addr| format!("tls-server:{addr}"),
        |addr| format!("tls-client:{addr},insecure,reconnect"),
    );
}

#[test]
fn a_websocket_client_reconnects_to_a_restarted_server() {
    reconnects_to_a_restarted_server(
        |addr| format!("ws-server:{addr}/ws"),
        |addr| format!("ws://{addr}/ws,reconnect"),
    );
}

/// `reconnect=MS` sets how often the client tries, and its note says so.
#[test]
fn reconnect_ms_sets_how_often_it_tries() {
    let (holder, addr) = bound_unlistened();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{addr},reconnect=200"));
    let (_, note) = engine.note_with(CLIENT, "trying again every 200 ms");
    assert!(note.contains("connection refused"), "{note}");
    holder.listen(1).expect("listen");
    let listener: TcpListener = holder.into();
    let (_server_side, _) = accept(&listener);
    engine.started(CLIENT);
    engine.peer_connected(CLIENT, addr);
    engine.shutdown();
}

#[test]
fn a_periodic_send_waits_for_a_reconnecting_client_and_counts_only_what_was_written() {
    let (holder, addr) = bound_unlistened();
    let mut engine = Engine::spawn();
    engine.start(CLIENT, &format!("tcp-client:{addr},reconnect=100"));
    engine.note_with(CLIENT, "trying again every 100 ms");

    // Started while the server is away: the job waits (said once) instead of failing.
    let job = JobId(4);
    let options = SendOptions::default();
    let payload = SendPayload::parse("N=${seq};", &options, &[]).expect("a template");
    engine.send(Command::StartPeriodic {
        id: CLIENT,
        job,
        target: SendTarget::All,
        payload,
        interval_ms: 50,
        count: Some(5),
    });
    let (_, waits) = engine.note_with(CLIENT, "periodic send waits for the connection");
    assert!(
        waits.contains("goes on when a send goes through"),
        "{waits}"
    );
    // A few ticks pass, each refused, none counted and no more notes.
    engine.collect_for(std::time::Duration::from_millis(300));
    let ended_early = engine
        .history()
        .iter()
        .any(|e| matches!(e, Event::JobEnded { job: j, .. } if *j == job));
    assert!(!ended_early, "the job waits: {:#?}", engine.history());

    // The server comes: the job goes on, says how many ticks it skipped, and sends all five,
    // `${seq}` from 1: the refused ticks used no number.
    holder.listen(8).expect("listen");
    let listener: TcpListener = holder.into();
    let (mut server, _) = accept(&listener);
    assert_eq!(read_exactly(&mut server, 20), b"N=1;N=2;N=3;N=4;N=5;");
    let (_, resumed) = engine.note_with(CLIENT, "periodic send goes on");
    let skipped: u64 = resumed
        .trim_start_matches("periodic send goes on (")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count of skipped ticks in {resumed:?}"));
    // At least the tick that made it wait (how many more passed depends on the machine).
    assert!(skipped >= 1, "the refused ticks are counted: {resumed}");
    assert_eq!(engine.job_ended(job), (5, JobOutcome::Completed));
    common::assert_tcp_silent(&mut server);
    let paused = engine
        .history()
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Note {
                    note: Note::PeriodicPaused { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(paused, 1, "the wait is told once");
    engine.shutdown();
}
