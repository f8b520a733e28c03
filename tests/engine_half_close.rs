//! Engine tests for the `half-open` option over real loopback sockets, driven only through
//! `Command`/`Event`: after the peer finishes sending (its FIN), a TCP server's client and a
//! TCP client's server stay open for our sends, which arrive whole; the connection then ends
//! when the user disconnects it, the session stops, or a send fails because the peer has
//! gone, with that reason. Without the option, the FIN still ends the connection (see `reliability_peers`).

mod common;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::{Engine, QUIET, accept, assert_tcp_closed, read_exactly, tcp_connect};
use sockdbg::protocol::{Command, Direction, Event, PeerId, SendTarget, SessionId, Warning};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// The note on a peer whose client finished sending under `half-open`.
const CLIENT_HALF_CLOSED: &str =
    "client finished sending (half-closed); still open for sending until you disconnect it";
/// The same, on a client session whose server finished sending.
const SERVER_HALF_CLOSED: &str =
    "server finished sending (half-closed); still open for sending until you disconnect it";
/// How many sends a test makes after the peer has gone, at most, before the failure shows:
/// the first write after a close is usually taken by the kernel, and answered with a reset.
const SENDS_UNTIL_GONE: usize = 20;

/// Waits for a `Note` on `peer` of session `id` and returns its text.
fn peer_note(engine: &mut Engine, id: SessionId, peer: PeerId) -> String {
    match engine.wait_for(
        "a note on the peer",
        |e| matches!(e, Event::Note { id: i, peer: Some(p), .. } if *i == id && *p == peer),
    ) {
        Event::Note { note, .. } => note.to_string(),
        _ => unreachable!("matched Note"),
    }
}

/// True once `peer` of session `id` has been reported disconnected.
fn disconnected(engine: &Engine, id: SessionId, peer: PeerId) -> Option<String> {
    engine.history().iter().find_map(|e| match e {
        Event::PeerDisconnected {
            id: i,
            peer: p,
            reason,
            ..
        } if *i == id && *p == peer => Some(reason.to_string()),
        _ => None,
    })
}

/// Sends three pieces to `target` of session `id` and checks each went out whole.
fn send_three(engine: &mut Engine, id: SessionId, peer: PeerId, target: SendTarget) {
    for piece in [&b"one,"[..], b"two,", b"three"] {
        engine.send_bytes(id, target, piece);
        assert_eq!(engine.traffic(id, peer, Direction::Tx), piece);
    }
}

/// Sends to `target` until the peer is reported gone (bounded); returns the reason.
fn send_until_gone(engine: &mut Engine, id: SessionId, peer: PeerId, target: SendTarget) -> String {
    for _ in 0..SENDS_UNTIL_GONE {
        engine.send_bytes(id, target, b"anyone there?");
        engine.collect_for(Duration::from_millis(100));
        if let Some(reason) = disconnected(engine, id, peer) {
            return reason;
        }
    }
    panic!("{SENDS_UNTIL_GONE} sends to a closed peer did not end its connection");
}

/// Starts server session [`SERVER`] with `half-open` and connects a client: the server's
/// address, the client, and its peer id.
fn half_open_server(engine: &mut Engine) -> (SocketAddr, TcpStream, PeerId) {
    engine.start(SERVER, "tcp-server:127.0.0.1:0,half-open");
    let addr = engine.started(SERVER);
    let client = tcp_connect(addr);
    let peer = engine.peer_connected(SERVER, client.local_addr().expect("client address"));
    (addr, client, peer)
}

/// A client of a `half-open` server that has shut its write side, once the server noted it.
fn half_closed_client(engine: &mut Engine) -> (TcpStream, PeerId) {
    let (_, client, peer) = half_open_server(engine);
    client.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(peer_note(engine, SERVER, peer), CLIENT_HALF_CLOSED);
    (client, peer)
}

/// Starts client session [`CLIENT`] with `options` to a listener of the test's: the server
/// side of its connection and the engine's peer id for it.
fn client_session(engine: &mut Engine, options: &str) -> (TcpStream, PeerId) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    engine.start(CLIENT, &format!("tcp-client:{addr}{options}"));
    engine.started(CLIENT);
    let (server, _) = accept(&listener);
    (server, engine.peer_connected(CLIENT, addr))
}

#[test]
fn a_server_keeps_sending_to_a_half_closed_client_until_it_is_gone() {
    let mut engine = Engine::spawn();
    let (addr, mut client, peer) = half_open_server(&mut engine);
    // A python-seed-style client: its request, then shutdown(SHUT_WR).
    client.write_all(b"request").expect("write");
    client.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(engine.traffic(SERVER, peer, Direction::Rx), &b"request"[..]);
    assert_eq!(peer_note(&mut engine, SERVER, peer), CLIENT_HALF_CLOSED);
    engine.assert_no("a disconnect after the FIN", QUIET, |e| {
        matches!(e, Event::PeerDisconnected { .. })
    });
    send_three(&mut engine, SERVER, peer, SendTarget::Peer(peer));
    assert_eq!(read_exactly(&mut client, 13), b"one,two,three");

    drop(client);
    let reason = send_until_gone(&mut engine, SERVER, peer, SendTarget::Peer(peer));
    assert!(
        reason.starts_with("client gone after its half-close: "),
        "{reason}"
    );
    let failed = engine.history().iter().any(|e| {
        matches!(e, Event::Warning { id, warning: Warning::SendFailed { peer: p, .. }, .. }
            if *id == SERVER && *p == peer)
    });
    assert!(failed, "the failed send is reported");
    // The session serves on.
    let next_client = tcp_connect(addr);
    let next = engine.peer_connected(SERVER, next_client.local_addr().expect("address"));
    assert_ne!(next, peer);
    engine.stop(SERVER);
    assert_eq!(engine.stopped(SERVER), None);
    engine.shutdown();
}

#[test]
fn a_half_closed_client_is_closed_when_the_user_disconnects_it() {
    let mut engine = Engine::spawn();
    let (mut client, peer) = half_closed_client(&mut engine);
    engine.send_bytes(SERVER, SendTarget::All, b"last words");
    engine.send(Command::DisconnectPeer { id: SERVER, peer });
    assert_eq!(
        engine.peer_disconnected(SERVER, peer),
        "disconnected by user"
    );
    assert_eq!(read_exactly(&mut client, 10), b"last words");
    assert_tcp_closed(&mut client);
    engine.shutdown();
}

#[test]
fn a_client_session_keeps_sending_to_a_half_closed_server_until_it_is_gone() {
    let mut engine = Engine::spawn();
    let (mut server, peer) = client_session(&mut engine, ",half-open");
    server.write_all(b"banner").expect("write");
    server.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(engine.traffic(CLIENT, peer, Direction::Rx), &b"banner"[..]);
    assert_eq!(peer_note(&mut engine, CLIENT, peer), SERVER_HALF_CLOSED);
    send_three(&mut engine, CLIENT, peer, SendTarget::All);
    assert_eq!(read_exactly(&mut server, 13), b"one,two,three");

    drop(server);
    let reason = send_until_gone(&mut engine, CLIENT, peer, SendTarget::All);
    assert!(
        reason.starts_with("server gone after its half-close: "),
        "{reason}"
    );
    assert_eq!(engine.stopped(CLIENT), Some(reason));
    engine.shutdown();
}

#[test]
fn without_the_option_a_client_session_ends_at_the_servers_fin() {
    let mut engine = Engine::spawn();
    let (server, peer) = client_session(&mut engine, "");
    server.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(engine.peer_disconnected(CLIENT, peer), "closed by peer");
    assert_eq!(engine.stopped(CLIENT), Some("closed by peer".to_string()));
    engine.shutdown();
}

#[test]
fn stopping_the_session_closes_a_half_closed_client() {
    let mut engine = Engine::spawn();
    let (mut client, peer) = half_closed_client(&mut engine);
    engine.stop(SERVER);
    assert_eq!(engine.peer_disconnected(SERVER, peer), "session stopped");
    assert_eq!(engine.stopped(SERVER), None);
    assert_tcp_closed(&mut client);
    engine.shutdown();
}
