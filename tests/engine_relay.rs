//! Engine tests for the relays (`relay:` and `udp-relay:`), over real loopback sockets and
//! driven only through `Command`/`Event`: both directions logged exactly, injection both ways,
//! hold and step, each fault as the far side sees it (slices, delay, close, reset, drop), an
//! unreachable target, a thousand pairs without leaking descriptors, TLS on either side
//! against `openssl s_client`/`s_server`, and a UDP relay with two clients.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{
    DEADLINE, Engine, accept, assert_tcp_closed, assert_tcp_silent, assert_udp_silent,
    free_tcp_port, read_exactly, recv_datagram, tcp_connect, udp_socket,
};
use sockdbg::protocol::{Command, Direction, Event, PeerId, SendTarget, SessionId};
use sockdbg::relay::{Leg, RelayFaults};

const RELAY: SessionId = SessionId(1);

/// A relay in front of a fresh target listener, one client connected through it: the
/// client's stream, the target's end of the pair's link, and the pair's peer id.
struct Pair {
    client: TcpStream,
    target: TcpStream,
    peer: PeerId,
}

/// Starts `relay:127.0.0.1:0,to=TARGET[,options]` in front of `target` and returns its
/// address.
fn start_relay(engine: &mut Engine, target: &TcpListener, options: &str) -> SocketAddr {
    let to = target.local_addr().expect("target address");
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(",{options}")
    };
    engine.start(RELAY, &format!("relay:127.0.0.1:0,to={to}{options}"));
    engine.started(RELAY)
}

/// Connects a client through the relay at `relay` and accepts its link at `target`.
fn connect_pair(engine: &mut Engine, relay: SocketAddr, target: &TcpListener) -> Pair {
    let client = tcp_connect(relay);
    let peer = engine.peer_connected(RELAY, client.local_addr().expect("local addr"));
    let (target, _) = accept(target);
    engine.note_with(RELAY, "linked to target");
    Pair {
        client,
        target,
        peer,
    }
}

/// A relay with `options` and one pair through it.
fn relay_pair(options: &str) -> (Engine, TcpListener, Pair) {
    let mut engine = Engine::spawn();
    let target = TcpListener::bind("127.0.0.1:0").expect("bind the target");
    let relay = start_relay(&mut engine, &target, options);
    let pair = connect_pair(&mut engine, relay, &target);
    (engine, target, pair)
}

/// Waits for `Traffic` of the pair in direction `leg` until `len` bytes came; returns them
/// with whether any was marked injected.
fn relayed(engine: &mut Engine, peer: PeerId, leg: Leg, len: usize) -> (Vec<u8>, bool) {
    let dir = Direction::of_leg(leg);
    let mut bytes = Vec::new();
    let mut injected = false;
    while bytes.len() < len {
        let event = engine.wait_for("relayed bytes", |e| {
            matches!(e, Event::Traffic { id, peer: p, dir: d, .. } if *id == RELAY && *p == peer && *d == dir)
        });
        if let Event::Traffic {
            data, injected: i, ..
        } = event
        {
            bytes.extend_from_slice(&data);
            injected |= i;
        }
    }
    (bytes, injected)
}

/// Bytes that are not the same pattern twice, so a lost or doubled chunk shows.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn both_directions_are_relayed_and_logged_exactly() {
    let (mut engine, _target, mut pair) = relay_pair("");
    pair.client
        .write_all(b"hello\x00\xff up")
        .expect("client writes");
    assert_eq!(read_exactly(&mut pair.target, 10), b"hello\x00\xff up");
    let (up, injected) = relayed(&mut engine, pair.peer, Leg::Up, 10);
    assert_eq!(up, b"hello\x00\xff up");
    assert!(!injected, "forwarded bytes are not injected");

    pair.target
        .write_all("你好 down".as_bytes())
        .expect("target writes");
    assert_eq!(read_exactly(&mut pair.client, 11), "你好 down".as_bytes());
    assert_eq!(
        relayed(&mut engine, pair.peer, Leg::Down, 11).0,
        "你好 down".as_bytes()
    );

    // A megabyte each way at once, exact at each end and in the log.
    let up_bytes = pattern(1 << 20, 1);
    let down_bytes = pattern(1 << 20, 2);
    let mut client_reader = pair.client.try_clone().expect("clone");
    let mut target_reader = pair.target.try_clone().expect("clone");
    let read_client = std::thread::spawn(move || read_exactly(&mut client_reader, 1 << 20));
    let read_target = std::thread::spawn(move || read_exactly(&mut target_reader, 1 << 20));
    let (mut client, mut target) = (pair.client, pair.target);
    let sent = up_bytes.clone();
    let write_client = std::thread::spawn(move || client.write_all(&sent).map(|()| client));
    target.write_all(&down_bytes).expect("target writes");
    let client = write_client.join().expect("writer").expect("client writes");
    assert!(read_target.join().expect("reader") == up_bytes, "up exact");
    assert!(
        read_client.join().expect("reader") == down_bytes,
        "down exact"
    );
    assert!(relayed(&mut engine, pair.peer, Leg::Up, 1 << 20).0 == up_bytes);
    assert!(relayed(&mut engine, pair.peer, Leg::Down, 1 << 20).0 == down_bytes);

    // The client's FIN reaches the target; the target's then ends the pair.
    client
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    assert_tcp_closed(&mut target);
    drop(target);
    let reason = engine.peer_disconnected(RELAY, pair.peer);
    assert_eq!(reason, "closed by peer");
}

#[test]
fn injection_goes_either_way_and_is_marked() {
    let (mut engine, _target, mut pair) = relay_pair("");
    for (leg, data) in [(Leg::Up, &b"to target"[..]), (Leg::Down, &b"to client"[..])] {
        engine.send(Command::Inject {
            id: RELAY,
            target: SendTarget::Peer(pair.peer),
            leg,
            data: Bytes::copy_from_slice(data),
        });
        let side = match leg {
            Leg::Up => &mut pair.target,
            Leg::Down => &mut pair.client,
        };
        assert_eq!(read_exactly(side, data.len()), data);
        let (logged, injected) = relayed(&mut engine, pair.peer, leg, data.len());
        assert_eq!(logged, data);
        assert!(injected, "{leg:?}: marked injected");
    }
    // A plain send names what a relay wants instead.
    engine.send_bytes(RELAY, SendTarget::All, b"x");
    assert!(engine.warning(RELAY).contains("injecting"));
    // So does an injection into a session that is no relay.
    engine.start(SessionId(2), "tcp-server:127.0.0.1:0");
    engine.started(SessionId(2));
    engine.send(Command::Inject {
        id: SessionId(2),
        target: SendTarget::All,
        leg: Leg::Up,
        data: Bytes::from_static(b"x"),
    });
    assert!(engine.warning(SessionId(2)).contains("not a relay"));
}

/// Waits until the pair's `leg` holds `bytes` bytes back.
fn holding(engine: &mut Engine, peer: PeerId, leg: Leg, bytes: u64) {
    engine.wait_for("the queue of held bytes", |e| {
        matches!(e, Event::RelayQueue { id, peer: p, leg: l, bytes: b, .. }
            if *id == RELAY && *p == peer && *l == leg && *b == bytes)
    });
}

#[test]
fn a_held_direction_queues_steps_one_chunk_and_releases() {
    let (mut engine, _target, mut pair) = relay_pair("up.hold");
    pair.client.write_all(b"one").expect("writes");
    holding(&mut engine, pair.peer, Leg::Up, 3);
    pair.client.write_all(b"two!").expect("writes");
    holding(&mut engine, pair.peer, Leg::Up, 7);
    assert_tcp_silent(&mut pair.target);
    // Down is not held.
    pair.target.write_all(b"down").expect("writes");
    assert_eq!(read_exactly(&mut pair.client, 4), b"down");

    let step = || Command::Step {
        id: RELAY,
        target: SendTarget::Peer(pair.peer),
        leg: Leg::Up,
    };
    engine.send(step());
    assert_eq!(read_exactly(&mut pair.target, 3), b"one");
    engine.note_with(RELAY, "stepped: 3 bytes");
    assert_tcp_silent(&mut pair.target);
    engine.send(step());
    assert_eq!(read_exactly(&mut pair.target, 4), b"two!");
    holding(&mut engine, pair.peer, Leg::Up, 0);

    pair.client.write_all(b"three").expect("writes");
    holding(&mut engine, pair.peer, Leg::Up, 5);
    engine.send(Command::SetFaults {
        id: RELAY,
        faults: RelayFaults::default(),
    });
    engine.note_with(RELAY, "released");
    assert_eq!(read_exactly(&mut pair.target, 5), b"three");
    pair.client.write_all(b"four").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 4), b"four");
}

/// A direction with no fault forwards on its plain path; a hold set later takes it to the
/// queue without losing or reordering a byte, and a limit set later counts what the plain
/// path forwarded.
#[test]
fn a_hold_set_mid_pair_queues_what_follows_and_limits_count_what_went_before() {
    let (mut engine, _target, mut pair) = relay_pair("");
    pair.client.write_all(b"plain").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 5), b"plain");
    let faults = RelayFaults::parse_words("up.hold").expect("fault words");
    engine.send(Command::SetFaults { id: RELAY, faults });
    engine.wait_for(
        "FaultsApplied",
        |e| matches!(e, Event::FaultsApplied { faults: f, .. } if *f == faults),
    );
    pair.client.write_all(b"held").expect("writes");
    holding(&mut engine, pair.peer, Leg::Up, 4);
    assert_tcp_silent(&mut pair.target);
    // Released with a limit of 12 bytes: 5 went before, 4 are held, 3 more may pass.
    let faults = RelayFaults::parse_words("up.close-after=12").expect("fault words");
    engine.send(Command::SetFaults { id: RELAY, faults });
    assert_eq!(read_exactly(&mut pair.target, 4), b"held");
    pair.client.write_all(b"endXYZ").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 3), b"end");
    let mut rest = Vec::new();
    pair.target
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("sets a timeout");
    pair.target
        .read_to_end(&mut rest)
        .expect("the relay closes with a FIN");
    assert!(rest.is_empty(), "nothing past the limit: {rest:?}");
}

#[test]
fn slices_reach_the_client_in_pieces_with_their_pauses() {
    let (mut engine, _target, mut pair) = relay_pair("down.slice=2,down.slice-delay=100");
    // Timed from before the write: the relay cannot send the third slice sooner than two
    // pauses after it got the bytes, however late this thread reads. (Timed from reading the
    // first slice, a reader that got to it late saw the rest come sooner than 200 ms.)
    let written = Instant::now();
    pair.target.write_all(b"abcdef").expect("writes");
    assert_eq!(read_exactly(&mut pair.client, 6), b"abcdef");
    assert!(
        written.elapsed() >= Duration::from_millis(200),
        "two pauses of 100 ms between three slices: {:?}",
        written.elapsed()
    );
    for piece in [&b"ab"[..], b"cd", b"ef"] {
        let logged = engine.traffic(RELAY, pair.peer, Direction::Down);
        assert_eq!(logged, piece, "one log entry per slice");
    }
    // Up is not sliced.
    pair.client.write_all(b"whole").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 5), b"whole");
}

#[test]
fn a_delay_holds_each_chunk_at_least_that_long() {
    let (_engine, _target, mut pair) = relay_pair("up.delay=200");
    let sent = Instant::now();
    pair.client.write_all(b"late").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 4), b"late");
    assert!(sent.elapsed() >= Duration::from_millis(200));
}

#[test]
fn faults_change_while_the_relay_runs() {
    let (mut engine, _target, mut pair) = relay_pair("");
    let faults = RelayFaults::parse_words("up.delay=200").expect("fault words");
    engine.send(Command::SetFaults { id: RELAY, faults });
    engine.wait_for(
        "FaultsApplied",
        |e| matches!(e, Event::FaultsApplied { faults: f, .. } if *f == faults),
    );
    engine.note_with(RELAY, "faults now: up.delay=200");
    let sent = Instant::now();
    pair.client.write_all(b"late").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 4), b"late");
    assert!(sent.elapsed() >= Duration::from_millis(200));
}

#[test]
fn close_after_ends_both_sides_with_a_fin() {
    let (mut engine, _target, mut pair) = relay_pair("down.close-after=5");
    pair.target.write_all(b"0123456789").expect("writes");
    assert_eq!(read_exactly(&mut pair.client, 5), b"01234");
    assert_tcp_closed(&mut pair.client);
    assert_tcp_closed(&mut pair.target);
    let reason = engine.peer_disconnected(RELAY, pair.peer);
    assert!(reason.contains("down.close-after=5"), "{reason}");
}

/// Reads until the stream fails; panics if it ends cleanly first.
fn read_error(stream: &mut TcpStream) -> io::Error {
    let mut buf = [0; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!("expected a reset, got an orderly end"),
            Ok(_) => {}
            Err(e) => return e,
        }
    }
}

#[test]
fn reset_after_resets_both_sides() {
    let (mut engine, _target, mut pair) = relay_pair("up.reset-after=4");
    pair.client.write_all(b"abcdefgh").expect("writes");
    let mut got = [0; 4];
    pair.target
        .read_exact(&mut got)
        .expect("the bytes before the limit");
    assert_eq!(&got, b"abcd");
    assert_eq!(
        read_error(&mut pair.target).kind(),
        io::ErrorKind::ConnectionReset
    );
    assert_eq!(
        read_error(&mut pair.client).kind(),
        io::ErrorKind::ConnectionReset
    );
    let reason = engine.peer_disconnected(RELAY, pair.peer);
    assert!(reason.contains("up.reset-after=4"), "{reason}");
}

#[test]
fn drop_after_keeps_reading_and_forwards_nothing_more() {
    let (mut engine, _target, mut pair) = relay_pair("up.drop-after=3");
    pair.client.write_all(b"abcdef").expect("writes");
    assert_eq!(read_exactly(&mut pair.target, 3), b"abc");
    engine.note_with(RELAY, "up.drop-after=3 reached");
    pair.client.write_all(b"more").expect("still read");
    assert_tcp_silent(&mut pair.target);
    // The other direction goes on.
    pair.target.write_all(b"back").expect("writes");
    assert_eq!(read_exactly(&mut pair.client, 4), b"back");
}

#[test]
fn an_unreachable_target_closes_the_client_and_says_why() {
    let mut engine = Engine::spawn();
    let port = free_tcp_port();
    engine.start(RELAY, &format!("relay:127.0.0.1:0,to=127.0.0.1:{port}"));
    let relay = engine.started(RELAY);
    let mut client = tcp_connect(relay);
    let peer = engine.peer_connected(RELAY, client.local_addr().expect("local addr"));
    let reason = engine.peer_disconnected(RELAY, peer);
    assert!(reason.contains("target unreachable"), "{reason}");
    assert!(reason.contains("connection refused"), "{reason}");
    assert_tcp_closed(&mut client);
}

/// Descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

#[test]
fn a_thousand_pairs_open_and_close_without_leaking() {
    let mut engine = Engine::spawn();
    let target = TcpListener::bind("127.0.0.1:0").expect("bind the target");
    let relay = start_relay(&mut engine, &target, "");
    // One pair first, so whatever the runtime opens once is in the baseline.
    let mut warm = connect_pair(&mut engine, relay, &target);
    drop(warm.client);
    assert_tcp_closed(&mut warm.target);
    drop(warm.target);
    engine.peer_disconnected(RELAY, warm.peer);
    let baseline = open_fds();
    for round in 0..1_000u32 {
        let mut pair = connect_pair(&mut engine, relay, &target);
        let byte = [round.to_le_bytes()[0]];
        pair.client.write_all(&byte).expect("writes");
        assert_eq!(read_exactly(&mut pair.target, 1), byte);
        drop(pair.client);
        assert_tcp_closed(&mut pair.target);
        drop(pair.target);
        engine.peer_disconnected(RELAY, pair.peer);
        if round % 100 == 0 {
            engine.clear_history();
        }
    }
    let deadline = Instant::now() + DEADLINE;
    while open_fds() > baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        open_fds() <= baseline,
        "descriptors back to {baseline}, now {}",
        open_fds()
    );
}

#[test]
fn a_udp_relay_keeps_a_mapping_per_client() {
    let mut engine = Engine::spawn();
    let target = udp_socket("127.0.0.1");
    let to = target.local_addr().expect("target address");
    engine.start(RELAY, &format!("udp-relay:127.0.0.1:0,to={to}"));
    let relay = engine.started(RELAY);
    let a = udp_socket("127.0.0.1");
    let b = udp_socket("127.0.0.1");
    a.send_to(b"from a", relay).expect("a sends");
    let (data, link_a) = recv_datagram(&target);
    assert_eq!(data, b"from a");
    b.send_to(b"from b", relay).expect("b sends");
    let (data, link_b) = recv_datagram(&target);
    assert_eq!(data, b"from b");
    assert_ne!(link_a, link_b, "each client has its own link");
    let peer_a = engine.peer_connected(RELAY, a.local_addr().expect("a"));
    let peer_b = engine.peer_connected(RELAY, b.local_addr().expect("b"));

    target.send_to(b"to b", link_b).expect("target answers b");
    let (data, from) = recv_datagram(&b);
    assert_eq!((data.as_slice(), from), (&b"to b"[..], relay));
    assert_udp_silent(&a);
    target.send_to(b"to a", link_a).expect("target answers a");
    assert_eq!(recv_datagram(&a).0, b"to a");
    assert_eq!(engine.traffic(RELAY, peer_a, Direction::Up), &b"from a"[..]);
    assert_eq!(engine.traffic(RELAY, peer_b, Direction::Down), &b"to b"[..]);

    // An empty datagram is relayed as one.
    a.send_to(b"", relay).expect("a sends nothing");
    let (data, from) = recv_datagram(&target);
    assert_eq!((data.len(), from), (0, link_a));
}

#[test]
fn an_idle_udp_mapping_expires() {
    let mut engine = Engine::spawn();
    let target = udp_socket("127.0.0.1");
    let to = target.local_addr().expect("target address");
    engine.start(
        RELAY,
        &format!("udp-relay:127.0.0.1:0,to={to},idle-timeout=100"),
    );
    let relay = engine.started(RELAY);
    let a = udp_socket("127.0.0.1");
    a.send_to(b"x", relay).expect("a sends");
    recv_datagram(&target);
    let peer = engine.peer_connected(RELAY, a.local_addr().expect("a"));
    let reason = engine.peer_disconnected(RELAY, peer);
    assert!(reason.contains("idle-timeout"), "{reason}");
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Whether `openssl` runs here.
fn openssl_available() -> bool {
    Process::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Lines a child writes to stdout, read on a thread of their own.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    rx
}

/// Waits for a line containing `text`.
fn line_with(lines: &mpsc::Receiver<String>, text: &str) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return line,
            Ok(_) => {}
            Err(_) => panic!("no line containing {text:?} within {DEADLINE:?}"),
        }
    }
}

#[test]
fn tls_toward_the_client_against_openssl_s_client() {
    if !openssl_available() {
        common::skip("openssl is not installed");
        return;
    }
    let (mut engine, target, _) = {
        let mut engine = Engine::spawn();
        let target = TcpListener::bind("127.0.0.1:0").expect("bind the target");
        let relay = start_relay(&mut engine, &target, "tls");
        (engine, target, relay)
    };
    let relay = engine
        .history()
        .iter()
        .find_map(|e| match e {
            Event::Started { local_addr, .. } => Some(*local_addr),
            _ => None,
        })
        .expect("started");
    let mut client = Killed(
        Process::new("openssl")
            .args(["s_client", "-quiet", "-connect", &relay.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("s_client runs"),
    );
    let lines = lines_of(&mut client.0);
    let (mut target_side, _) = accept(&target);
    let (peer, _) = engine.any_peer(RELAY);
    engine.note_with(RELAY, "TLS");
    if let Some(stdin) = client.0.stdin.as_mut() {
        stdin.write_all(b"over tls\n").expect("s_client's stdin");
        stdin.flush().expect("flush");
    }
    assert_eq!(read_exactly(&mut target_side, 9), b"over tls\n");
    assert_eq!(relayed(&mut engine, peer, Leg::Up, 9).0, b"over tls\n");
    target_side.write_all(b"in clear\n").expect("writes");
    line_with(&lines, "in clear");
}

#[test]
fn tls_toward_the_target_against_openssl_s_server() {
    if !openssl_available() {
        common::skip("openssl is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Process::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl req runs");
    assert!(made.success(), "a certificate for s_server");
    let port = free_tcp_port();
    let mut server = Killed(
        Process::new("openssl")
            .args(["s_server", "-accept"])
            .arg(port.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("s_server runs"),
    );
    let lines = lines_of(&mut server.0);
    // s_server says ACCEPT once it listens.
    line_with(&lines, "ACCEPT");
    let mut engine = Engine::spawn();
    engine.start(
        RELAY,
        &format!("relay:127.0.0.1:0,to=127.0.0.1:{port},to-tls,insecure"),
    );
    let relay = engine.started(RELAY);
    let mut client = tcp_connect(relay);
    let peer = engine.peer_connected(RELAY, client.local_addr().expect("local"));
    engine.note_with(RELAY, "linked to target");
    client.write_all(b"hello server\n").expect("writes");
    line_with(&lines, "hello server");
    if let Some(stdin) = server.0.stdin.as_mut() {
        stdin
            .write_all(b"hello client\n")
            .expect("s_server's stdin");
        stdin.flush().expect("flush");
    }
    assert_eq!(read_exactly(&mut client, 13), b"hello client\n");
    assert_eq!(
        relayed(&mut engine, peer, Leg::Down, 13).0,
        b"hello client\n"
    );
}
