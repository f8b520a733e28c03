//! The `handshake-timeout=MS` option of the TLS and WebSocket sessions, over real loopback
//! sockets against peers that connect and then say nothing: a server drops such a client
//! once its handshake (TLS) or upgrade (WebSocket, with or without TLS) has taken that long,
//! says so, and goes on serving; a client gives up on such a server after that long, even
//! when its connect timeout is longer. Each limit is short, so a run takes well under the
//! 10 s default, which is what shows the option took effect.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Engine, QUIET, accept, assert_tcp_closed, tcp_connect};
use sockdbg::protocol::{Event, SessionId};

const SERVER: SessionId = SessionId(1);
const CLIENT: SessionId = SessionId(2);

/// The handshake timeout the tests set.
const LIMIT: Duration = Duration::from_millis(200);

/// Starts server `spec` (which sets a 200 ms handshake timeout), connects a client that says
/// nothing, and checks it is dropped with a warning containing `expected` no sooner than the
/// limit, and that the server keeps running and no peer was listed.
fn a_silent_client_is_dropped(spec: &str, expected: &str) {
    let mut engine = Engine::spawn();
    engine.start(SERVER, spec);
    let addr = engine.started(SERVER);
    let begun = Instant::now();
    let mut silent = tcp_connect(addr);
    let warning = engine.warning_with(SERVER, expected);
    assert!(begun.elapsed() >= LIMIT, "dropped early: {warning}");
    assert!(warning.contains("200 ms"), "{warning}");
    assert_tcp_closed(&mut silent);
    engine.assert_no("a peer or an end", QUIET, |e| {
        matches!(
            e,
            Event::PeerConnected { .. } | Event::Stopped { .. } | Event::StartFailed { .. }
        )
    });
    // Still serving: the next silent client gets the same treatment.
    let mut next = tcp_connect(addr);
    engine.warning_with(SERVER, expected);
    assert_tcp_closed(&mut next);
    engine.shutdown();
}

#[test]
fn a_tls_server_drops_a_client_that_sends_no_handshake() {
    a_silent_client_is_dropped(
        "tls-server:127.0.0.1:0,handshake-timeout=200",
        "TLS handshake with",
    );
}

#[test]
fn a_ws_server_drops_a_client_that_sends_no_upgrade() {
    a_silent_client_is_dropped(
        "ws-server:127.0.0.1:0,handshake-timeout=200",
        "did not finish its upgrade within",
    );
    a_silent_client_is_dropped(
        "ws-server:127.0.0.1:0,tls,handshake-timeout=200",
        "did not finish its upgrade within",
    );
}

/// Starts client `spec` (a 200 ms handshake timeout, a 60 s connect timeout) against a
/// listener that accepts and says nothing; checks it fails naming the handshake timeout,
/// no sooner than the handshake limit and long before the connect timeout: a client that
/// waited for the connect timeout fails the test when the wait for its end passes
/// [`common::DEADLINE`] (20 s), a third of it. (No timed upper bound: a slow machine only delays.)
fn a_silent_server_is_given_up(spec: impl Fn(std::net::SocketAddr) -> String, expected: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut engine = Engine::spawn();
    let begun = Instant::now();
    engine.start(CLIENT, &spec(addr));
    let (_held, _) = accept(&listener);
    let reason = engine.start_failed(CLIENT);
    let took = begun.elapsed();
    assert!(reason.contains(expected), "{reason}");
    assert!(reason.contains("timed out after 200 ms"), "{reason}");
    assert!(took >= LIMIT, "gave up early ({took:?}): {reason}");
    engine.shutdown();
}

#[test]
fn a_tls_client_gives_up_on_a_server_that_answers_no_hello() {
    a_silent_server_is_given_up(
        |addr| format!("tls-client:{addr},insecure,timeout=60000,handshake-timeout=200"),
        "TLS handshake with",
    );
}

#[test]
fn a_ws_client_gives_up_on_a_server_that_does_not_upgrade() {
    a_silent_server_is_given_up(
        |addr| format!("ws://{addr}/,timeout=60000,handshake-timeout=200"),
        "WebSocket upgrade with",
    );
    a_silent_server_is_given_up(
        |addr| format!("wss://{addr}/,insecure,timeout=60000,handshake-timeout=200"),
        "WebSocket upgrade with",
    );
}
