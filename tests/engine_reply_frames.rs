//! Engine tests of frame-aware auto-reply over real loopback sockets: with a session's
//! framing set (`Command::SetReplyFraming`), rules match once per complete frame, whatever
//! the reads were (TCP's 粘包/拆包); with raw framing, once per read as before; a UDP
//! datagram is cut on its own. Driven only through `Command`/`Event`; every wait has a
//! deadline.

mod common;

use std::io::Write;

use common::{
    Engine, assert_tcp_silent, assert_udp_silent, read_exactly, recv_datagram, tcp_connect,
    udp_socket,
};
use sockdbg::codec::reply::{MatchKind, ReplyRule};
use sockdbg::protocol::{Direction, Event, Reactions, SessionId};

/// One `len:u32le` message carrying "ping".
const PING: &[u8] = b"\x04\x00\x00\x00ping";

/// The rule "contains ping → pong", nothing else.
fn ping_rule() -> Reactions {
    let rule = ReplyRule {
        match_kind: MatchKind::Contains,
        pattern: "ping".into(),
        reply: "pong".into(),
        ..ReplyRule::default()
    };
    Reactions {
        on_connect: None,
        rules: vec![rule],
        echo: false,
    }
}

/// A session with the rule "contains ping → pong", framed by `framing` (None: never set).
fn engine_with_ping_rule(id: SessionId, framing: Option<&str>) -> Engine {
    let mut engine = Engine::spawn();
    engine.set_reactions(id, ping_rule());
    if let Some(framing) = framing {
        engine.set_reply_framing(id, framing);
    }
    engine
}

/// Waits until the engine logged `total` received bytes in all.
fn wait_received(engine: &mut Engine, total: usize) {
    let mut seen = 0;
    engine.wait_for("the bytes received", |e| {
        if let Event::Traffic {
            dir: Direction::Rx,
            data,
            ..
        } = e
        {
            seen += data.len();
        }
        seen >= total
    });
}

#[test]
fn three_messages_in_one_write_get_three_replies() {
    let id = SessionId(1);
    let mut engine = engine_with_ping_rule(id, Some("len:u32le"));
    engine.start(id, "tcp-server:127.0.0.1:0");
    let addr = engine.started(id);
    let mut client = tcp_connect(addr);
    client.write_all(&PING.repeat(3)).expect("write");
    assert_eq!(read_exactly(&mut client, 12), b"pongpongpong");
    assert_tcp_silent(&mut client);
    engine.shutdown();
}

#[test]
fn a_message_split_across_writes_gets_one_reply_after_the_second_part() {
    let id = SessionId(1);
    let mut engine = engine_with_ping_rule(id, Some("len:u32le"));
    engine.start(id, "tcp-server:127.0.0.1:0");
    let addr = engine.started(id);
    let mut client = tcp_connect(addr);
    let (first, second) = PING.split_at(6);
    client.write_all(first).expect("write");
    wait_received(&mut engine, first.len());
    assert_tcp_silent(&mut client);
    client.write_all(second).expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"pong");
    assert_tcp_silent(&mut client);
    engine.shutdown();
}

#[test]
fn a_partial_message_is_forgotten_by_a_read_without_rules() {
    let id = SessionId(1);
    let mut engine = engine_with_ping_rule(id, Some("len:u32le"));
    engine.start(id, "tcp-server:127.0.0.1:0");
    let addr = engine.started(id);
    let mut client = tcp_connect(addr);
    let (first, _) = PING.split_at(6);
    client.write_all(first).expect("write");
    wait_received(&mut engine, first.len());
    // The rules go, a read comes, the rules come back: the next message is matched whole,
    // not after the half message that came before the read.
    engine.set_reactions(id, Reactions::default());
    client.write_all(b"unmatched").expect("write");
    wait_received(&mut engine, b"unmatched".len());
    engine.set_reactions(id, ping_rule());
    client.write_all(PING).expect("write");
    assert_eq!(read_exactly(&mut client, 4), b"pong");
    assert_tcp_silent(&mut client);
    engine.shutdown();
}

#[test]
fn raw_framing_keeps_one_reply_per_read() {
    let id = SessionId(1);
    // Never set, then set back to raw after a length framing: both match per read.
    for framing in [None, Some("raw")] {
        let mut engine = engine_with_ping_rule(id, framing.and(Some("len:u32le")));
        if framing.is_some() {
            engine.set_reply_framing(id, "raw");
        }
        engine.start(id, "tcp-server:127.0.0.1:0");
        let addr = engine.started(id);
        let mut client = tcp_connect(addr);
        client.write_all(&PING.repeat(3)).expect("write");
        wait_received(&mut engine, 3 * PING.len());
        assert_eq!(read_exactly(&mut client, 4), b"pong", "{framing:?}");
        assert_tcp_silent(&mut client);
        engine.shutdown();
    }
}

#[test]
fn framing_set_while_running_applies_to_the_next_reads() {
    let id = SessionId(1);
    let mut engine = engine_with_ping_rule(id, None);
    engine.start(id, "tcp-server:127.0.0.1:0");
    let addr = engine.started(id);
    let mut client = tcp_connect(addr);
    engine.set_reply_framing(id, "delim:0a");
    client.write_all(b"ping\nping\nwait").expect("write");
    assert_eq!(read_exactly(&mut client, 8), b"pongpong");
    assert_tcp_silent(&mut client);
    engine.shutdown();
}

#[test]
fn a_udp_datagram_is_cut_on_its_own() {
    let id = SessionId(1);
    let mut engine = engine_with_ping_rule(id, Some("len:u32le"));
    engine.start(id, "udp-server:127.0.0.1:0");
    let addr = engine.started(id);
    let client = udp_socket("127.0.0.1");
    // Two messages in one datagram: two replies.
    client.send_to(&PING.repeat(2), addr).expect("send");
    assert_eq!(recv_datagram(&client).0, b"pong");
    assert_eq!(recv_datagram(&client).0, b"pong");
    // Half a message is not completed by the next datagram.
    client.send_to(&PING[..6], addr).expect("send");
    client.send_to(&PING[6..], addr).expect("send");
    wait_received(&mut engine, 2 * PING.len() + PING.len());
    assert_udp_silent(&client);
    engine.shutdown();
}
