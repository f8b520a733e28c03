//! Engine tests for UDP broadcast and multicast group sessions. Broadcast and multicast must
//! never leave this machine, so every test that sends them runs inside a network namespace of
//! its own: the outer test re-runs this test binary under `unshare --net` with
//! [`NETNS_ENV`] set and `--exact <inner test> --ignored`, and the inner (ignored) test sets up
//! its interfaces with `ip` (loopback, or a veth pair that exists only in the namespace) and
//! drives a real engine. Where namespaces or `ip` are not available, the outer test prints
//! "skipped: <reason>" and passes, except under `CI=true`, where it fails (CI installs `ip`
//! and `unshare` and runs as root; see `.ci/run`).
//!
//! Covered: an IPv4 group on loopback (no multicast route refused with a clear reason, two
//! sessions on one port both receive a plain sender's datagram and a session's own send, leave
//! on stop, restart on the same port, `sockdbg --headless` in a group); the `loop=` option on a
//! veth interface (off: the sender does not hear itself, on: it does); rejoin after the
//! interface's addresses change and after it lost its carrier and came back; an IPv6 group
//! `[ff15::1234]` on a veth interface joined by name and by index, and a link-local
//! `[ff02::1234]` (lo cannot carry IPv6 multicast: the kernel drops it on input); a broadcast
//! client (subnet and limited broadcast) that lists the replies of two responders and answers
//! one of them alone, in the engine and in `sockdbg --headless`.

mod common;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{DEADLINE, Engine, QUIET, assert_udp_silent, free_udp_port, recv_datagram};
use sockdbg::protocol::{Direction, Event, PeerId, SendTarget, SessionId, Warning};
use sockdbg::spec::{SessionSpec, SpecError};

/// Set (to "1") in the environment of the copy of this binary that runs inside a namespace.
const NETNS_ENV: &str = "SOCKDBG_TEST_NETNS";

/// How long one inner test may take, namespace setup included.
const INNER_DEADLINE: Duration = Duration::from_secs(60);

const A: SessionId = SessionId(1);
const B: SessionId = SessionId(2);
const CLIENT: SessionId = SessionId(3);

const GROUP_V4: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);

// ---------------------------------------------------------------------------------------------
// Outer tests: each runs one inner test in a namespace of its own.

#[test]
fn ipv4_group_on_loopback() {
    in_private_network("inner_ipv4_group_on_loopback");
}

#[test]
fn ipv4_group_loop_option_and_rejoin() {
    in_private_network("inner_ipv4_group_loop_option_and_rejoin");
}

#[test]
fn ipv6_group_on_a_veth_interface() {
    in_private_network("inner_ipv6_group_on_a_veth_interface");
}

#[test]
fn broadcast_client_lists_every_responder() {
    in_private_network("inner_broadcast_client_lists_every_responder");
}

/// Safe on the host: these fail before anything is joined or sent.
#[test]
fn group_spec_and_interface_mistakes_are_refused_with_a_reason() {
    assert_eq!(
        "udp-group:10.0.0.1:5000".parse::<SessionSpec>(),
        Err(SpecError::NotMulticast("10.0.0.1".into()))
    );
    let mut engine = Engine::spawn();
    let port = free_udp_port();
    engine.start(A, &format!("udp-group:239.1.2.3:{port},iface=nosuch0"));
    let reason = engine.start_failed(A);
    assert!(reason.contains("no interface named 'nosuch0'"), "{reason}");
    engine.start(B, &format!("udp-group:[ff15::1234]:{port},iface=127.0.0.1"));
    let reason = engine.start_failed(B);
    assert!(reason.contains("address family"), "{reason}");
    engine.start(A, &format!("udp-group:239.1.2.3:{port},iface=192.0.2.77"));
    let reason = engine.start_failed(A);
    assert!(
        reason.contains("no interface has the address 192.0.2.77"),
        "{reason}"
    );
    engine.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Inner tests (ignored: run only by their outer test, inside the namespace).

#[test]
#[ignore = "runs inside its own network namespace, started by ipv4_group_on_loopback"]
fn inner_ipv4_group_on_loopback() {
    if !inside_private_network() {
        return;
    }
    ip("link set lo multicast on");
    ip("link set lo up");
    let port = free_udp_port();
    let group = SocketAddr::from((GROUP_V4, port));
    let mut engine = Engine::spawn();

    // Without a multicast route and without iface=, the OS has no interface to join on.
    engine.start(A, &format!("udp-group:239.1.2.3:{port}"));
    let reason = engine.start_failed(A);
    assert!(reason.contains("cannot join 239.1.2.3"), "{reason}");
    assert!(reason.contains("multicast route"), "{reason}");

    // With a route the OS chooses lo; the second session names the interface by address.
    ip("route add 224.0.0.0/4 dev lo src 127.0.0.1");
    engine.start(A, &format!("udp-group:239.1.2.3:{port}"));
    engine.start(
        B,
        &format!("udp-group:239.1.2.3:{port},iface=127.0.0.1,ttl=3"),
    );
    for id in [A, B] {
        let local = engine.started(id);
        assert_eq!(local, SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
        assert_eq!(
            engine.peer_connected(id, group),
            PeerId(1),
            "the group is peer 1"
        );
    }
    assert!(igmp_joined("lo", GROUP_V4), "lo lists 239.1.2.3");

    // A plain sender's datagram reaches both sessions, with its source address.
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let sender_addr = sender.local_addr().expect("local addr");
    sender.send_to(b"from std\x00\xff", group).expect("send");
    for id in [A, B] {
        let peer = engine.peer_connected(id, sender_addr);
        assert_eq!(
            engine.traffic(id, peer, Direction::Rx),
            &b"from std\x00\xff"[..]
        );
    }

    // A session's send goes to the group: both sessions (the sender too: lo loops) get it.
    engine.send_bytes(A, SendTarget::All, b"from A");
    assert_eq!(engine.traffic(A, PeerId(1), Direction::Tx), &b"from A"[..]);
    let a_source = SocketAddr::from(([127, 0, 0, 1], port));
    for id in [A, B] {
        let peer = engine.peer_connected(id, a_source);
        assert_eq!(engine.traffic(id, peer, Direction::Rx), &b"from A"[..]);
    }

    // Stop leaves the group; a restart on the same port joins again and receives.
    engine.stop(A);
    engine.stop(B);
    assert_eq!(engine.stopped(A), None);
    assert_eq!(engine.stopped(B), None);
    assert!(!igmp_joined("lo", GROUP_V4), "left 239.1.2.3 after stop");
    engine.clear_history();
    engine.start(A, &format!("udp-group:239.1.2.3:{port},iface=127.0.0.1"));
    engine.started(A);
    engine.peer_connected(A, group);
    assert!(igmp_joined("lo", GROUP_V4), "joined again after restart");
    sender.send_to(b"again", group).expect("send");
    let peer = engine.peer_connected(A, sender_addr);
    assert_eq!(engine.traffic(A, peer, Direction::Rx), &b"again"[..]);
    engine.shutdown();

    // Headless: a group session sends its payload to the group once, and prints what the
    // group carries (here its own datagram, which lo loops back) with the source.
    let member = group_member(port, Ipv4Addr::LOCALHOST);
    let spec = format!("udp-group:239.1.2.3:{port},iface=127.0.0.1");
    let records = headless(
        &[
            &spec,
            "--send",
            "hello group",
            "--once",
            "--duration-ms",
            "500",
        ],
        || {
            let (data, _) = recv_datagram(&member);
            assert_eq!(data, b"hello group");
        },
    );
    let tx = records_in(&records, "tx");
    assert_eq!(tx.len(), 1, "{records:#?}");
    assert_eq!(tx[0]["peer"], group.to_string());
    let rx = records_in(&records, "rx");
    assert_eq!(rx.len(), 1, "{records:#?}");
    assert_eq!(rx[0]["peer"], format!("127.0.0.1:{port}"));
    assert_eq!(rx[0]["text"], "hello group");
    assert_udp_silent(&member);
}

#[test]
#[ignore = "runs inside its own network namespace, started by ipv4_group_loop_option_and_rejoin"]
fn inner_ipv4_group_loop_option_and_rejoin() {
    if !inside_private_network() {
        return;
    }
    // A veth pair: what is sent on va leaves (to vb, where nobody listens), so only the
    // loopback option decides whether this host's sessions hear it.
    // No IPv6 on it, so its address set changes only when this test changes it.
    std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1").expect("no IPv6");
    ip("link add va type veth peer name vb");
    ip("addr add 10.1.1.1/24 dev va");
    ip("link set va up");
    ip("link set vb up");
    wait_link_up("va");
    let port = free_udp_port();
    let group = SocketAddr::from((GROUP_V4, port));
    let mut engine = Engine::spawn();
    engine.start(A, &format!("udp-group:239.1.2.3:{port},iface=va,loop=off"));
    engine.start(
        B,
        &format!("udp-group:239.1.2.3:{port},iface=10.1.1.1,loop=on"),
    );
    for id in [A, B] {
        engine.started(id);
        engine.peer_connected(id, group);
    }
    let source = SocketAddr::from(([10, 1, 1, 1], port));

    // loop=off: the datagram leaves, and nobody on this host hears it, A included.
    engine.send_bytes(A, SendTarget::All, b"quiet");
    assert_eq!(engine.traffic(A, PeerId(1), Direction::Tx), &b"quiet"[..]);
    engine.assert_no("a looped datagram", QUIET, |e| {
        matches!(
            e,
            Event::Traffic {
                dir: Direction::Rx,
                ..
            }
        )
    });

    // loop=on: B hears itself, and A (same host, same group) hears it too.
    engine.send_bytes(B, SendTarget::All, b"loud");
    assert_eq!(engine.traffic(B, PeerId(1), Direction::Tx), &b"loud"[..]);
    let peers = [A, B].map(|id| {
        let peer = engine.peer_connected(id, source);
        assert_eq!(engine.traffic(id, peer, Direction::Rx), &b"loud"[..]);
        peer
    });

    // The joined interface changes (a new address): both sessions join again and say so.
    ip("addr add 10.1.1.9/24 dev va");
    for id in [A, B] {
        assert_eq!(note(&mut engine, id), "rejoined 239.1.2.3 on va");
    }
    // The interface loses its carrier (its peer goes down): both sessions leave and say
    // why; when it is back up they join again.
    ip("link set vb down");
    for id in [A, B] {
        // Not the first warning of any kind: a group may have warned at its start that the
        // kernel capped its receive buffer (a stock net.core.rmem_max does).
        let warning =
            engine.warning_where(id, "GroupLeft", |w| matches!(w, Warning::GroupLeft { .. }));
        assert_eq!(
            warning,
            "left 239.1.2.3: va is down; joins again when it can"
        );
    }
    ip("link set vb up");
    for id in [A, B] {
        assert_eq!(note(&mut engine, id), "rejoined 239.1.2.3 on va");
    }
    engine.send_bytes(B, SendTarget::All, b"still here");
    for (id, peer) in [A, B].into_iter().zip(peers) {
        assert_eq!(engine.traffic(id, peer, Direction::Rx), &b"still here"[..]);
    }
    engine.assert_no(
        "a membership warning",
        QUIET,
        |e| matches!(e, Event::Warning { warning, .. } if warning.to_string().contains("239.1.2.3")),
    );
    engine.shutdown();
}

#[test]
#[ignore = "runs inside its own network namespace, started by ipv6_group_on_a_veth_interface"]
fn inner_ipv6_group_on_a_veth_interface() {
    if !inside_private_network() {
        return;
    }
    // lo drops IPv6 multicast on input, so a veth pair carries it; no DAD, so link-local
    // addresses are usable at once.
    std::fs::write("/proc/sys/net/ipv6/conf/default/accept_dad", "0").expect("disable DAD");
    ip("link add va type veth peer name vb");
    ip("link set va up");
    ip("link set vb up");
    wait_link_up("va");
    // A name is resolved among interfaces with an address: wait for va's link-local one.
    let deadline = Instant::now() + DEADLINE;
    while !ip_output("-6 -o addr show dev va").contains("fe80::") {
        assert!(Instant::now() < deadline, "va got no link-local address");
        std::thread::sleep(Duration::from_millis(10));
    }
    let index = interface_index("va");
    let port = free_udp_port();
    let group_ip: std::net::Ipv6Addr = "ff15::1234".parse().expect("group");
    let group = SocketAddr::from((group_ip, port));
    let mut engine = Engine::spawn();
    engine.start(A, &format!("udp-group:[ff15::1234]:{port},iface=va"));
    engine.start(
        B,
        &format!("udp-group:[ff15::1234]:{port},iface={index},ttl=2"),
    );
    for id in [A, B] {
        let local = engine.started(id);
        assert_eq!(local.ip(), IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED));
        assert_eq!(local.port(), port);
        engine.peer_connected(id, group);
    }

    // A plain sender on va reaches both.
    let sender = socket2::Socket::new(
        socket2::Domain::IPV6,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    sender.set_multicast_if_v6(index).expect("multicast if");
    sender
        .bind(&SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)).into())
        .expect("bind");
    let sender: UdpSocket = sender.into();
    sender.send_to(b"v6 hello", group).expect("send");
    for id in [A, B] {
        let peer = wait_rx_from_port(&mut engine, id, sender.local_addr().expect("addr").port());
        assert_eq!(peer.1, &b"v6 hello"[..]);
    }

    // A session's own send reaches both (loop is on by default).
    engine.send_bytes(A, SendTarget::All, b"from A");
    assert_eq!(engine.traffic(A, PeerId(1), Direction::Tx), &b"from A"[..]);
    for id in [A, B] {
        let (_, data) = wait_rx_from_port(&mut engine, id, port);
        assert_eq!(data, &b"from A"[..]);
    }

    // A link-local group (ff02::) works the same on the named interface.
    let link_port = free_udp_port();
    let link_group: std::net::Ipv6Addr = "ff02::1234".parse().expect("group");
    engine.start(
        CLIENT,
        &format!("udp-group:[ff02::1234]:{link_port},iface=va"),
    );
    engine.started(CLIENT);
    engine.peer_connected(CLIENT, SocketAddr::from((link_group, link_port)));
    engine.send_bytes(CLIENT, SendTarget::All, b"link-local");
    let (_, data) = wait_rx_from_port(&mut engine, CLIENT, link_port);
    assert_eq!(data, &b"link-local"[..]);
    engine.shutdown();
}

#[test]
#[ignore = "runs inside its own network namespace, started by broadcast_client_lists_every_responder"]
fn inner_broadcast_client_lists_every_responder() {
    if !inside_private_network() {
        return;
    }
    ip("link set lo up");
    ip("addr add 10.255.0.1/24 brd 10.255.0.255 dev lo");
    // On a real host the default route carries the limited broadcast; here lo does.
    ip("route add 255.255.255.255/32 dev lo");
    let port = free_udp_port();
    // Two "devices": each listens on the shared port and answers from an address of its own.
    let responders = [responder(port, "127.0.0.2"), responder(port, "127.0.0.3")];
    let mut engine = Engine::spawn();
    for (round, target) in ["10.255.0.255", "255.255.255.255"].into_iter().enumerate() {
        let id = SessionId(CLIENT.0 + round as u64);
        let target_addr: SocketAddr = format!("{target}:{port}").parse().expect("target");
        engine.start(id, &format!("udp-client:{target}:{port}"));
        engine.started(id);
        assert_eq!(engine.peer_connected(id, target_addr), PeerId(1));
        engine.send_bytes(id, SendTarget::All, b"who is there?");
        assert_eq!(
            engine.traffic(id, PeerId(1), Direction::Tx),
            &b"who is there?"[..]
        );
        let mut peers = Vec::new();
        for (listen, reply) in &responders {
            let (data, from) = recv_datagram(listen);
            assert_eq!(data, b"who is there?");
            reply.send_to(b"me", from).expect("reply");
            let reply_addr = reply.local_addr().expect("addr");
            let peer = engine.peer_connected(id, reply_addr);
            assert_eq!(engine.traffic(id, peer, Direction::Rx), &b"me"[..]);
            peers.push(peer);
        }
        assert!(
            peers[0] != peers[1] && !peers.contains(&PeerId(1)),
            "{peers:?}"
        );

        // A send to one responder goes to it alone.
        engine.send_bytes(id, SendTarget::Peer(peers[1]), b"just you");
        assert_eq!(recv_datagram(&responders[1].1).0, b"just you");
        assert_eq!(
            engine.traffic(id, peers[1], Direction::Tx),
            &b"just you"[..]
        );
        assert_udp_silent(&responders[0].1);
        assert_udp_silent(&responders[0].0);
        engine.stop(id);
        assert_eq!(engine.stopped(id), None);
    }
    engine.shutdown();

    // Headless: the payload goes to the broadcast once (responders get no copies of their
    // own), and both replies are printed with their sources.
    let spec = format!("udp-client:10.255.0.255:{port}");
    let records = headless(
        &[&spec, "--send", "ping", "--once", "--duration-ms", "500"],
        || {
            for (listen, reply) in &responders {
                let (data, from) = recv_datagram(listen);
                assert_eq!(data, b"ping");
                reply.send_to(b"pong", from).expect("reply");
            }
        },
    );
    assert_eq!(records_in(&records, "tx").len(), 1, "{records:#?}");
    let mut sources: Vec<String> = records_in(&records, "rx")
        .iter()
        .map(|r| r["peer"].as_str().expect("peer").to_string())
        .collect();
    sources.sort();
    let mut expected: Vec<String> = responders
        .iter()
        .map(|(_, reply)| reply.local_addr().expect("addr").to_string())
        .collect();
    expected.sort();
    assert_eq!(sources, expected, "{records:#?}");
    for (listen, reply) in &responders {
        assert_udp_silent(listen);
        assert_udp_silent(reply);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Runs the ignored test `name` of this binary inside a new network namespace and fails when
/// it fails; prints "skipped: <reason>" and returns when no namespace can be made here (fails
/// under `CI=true`, see [`common::skip`]).
fn in_private_network(name: &str) {
    if std::env::var_os(NETNS_ENV).is_some() {
        return; // already inside: only the inner tests run here
    }
    let Some(unshare) = unshare_command() else {
        return;
    };
    let mut command = Command::new(unshare[0]);
    command.args(&unshare[1..]);
    common::this_test_alone(&mut command, name).env(NETNS_ENV, "1");
    let (status, stdout, stderr) = Running::spawn(command).finish(INNER_DEADLINE);
    let output = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let Some(status) = status else {
        panic!("{name} did not end within {INNER_DEADLINE:?}\n{output}");
    };
    assert!(status.success(), "{name} failed ({status})\n{output}");
    assert!(
        stdout.contains(&format!("test {name} ... ok")),
        "{name} did not run\n{output}"
    );
}

/// A child process whose stdout and stderr are read on threads (so it never blocks on a
/// full pipe).
struct Running {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Running {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the child process");
        Self {
            stdout: read_all(child.stdout.take().expect("stdout")),
            stderr: read_all(child.stderr.take().expect("stderr")),
            child,
        }
    }

    /// Waits for the exit (`None` when it had to be killed after `within`) and returns the
    /// output.
    fn finish(mut self, within: Duration) -> (Option<std::process::ExitStatus>, String, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                break Some(status);
            }
            if Instant::now() > deadline {
                self.child.kill().ok(); // it may have ended just now
                self.child.wait().ok();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.join().expect("stdout reader");
        let stderr = self.stderr.join().expect("stderr reader");
        (status, stdout, stderr)
    }
}

/// Runs `sockdbg --headless ARGS` to its end (within [`DEADLINE`]) while `meanwhile` plays
/// the other side; returns the JSON lines it printed (`--format jsonl` is added).
fn headless(args: &[&str], meanwhile: impl FnOnce()) -> Vec<serde_json::Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockdbg"));
    command
        .arg("--headless")
        .args(args)
        .args(["--format", "jsonl"]);
    let running = Running::spawn(command);
    meanwhile();
    let (status, stdout, stderr) = running.finish(DEADLINE);
    let output = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(
        status.is_some_and(|s| s.success()),
        "sockdbg --headless {args:?}: {status:?}\n{output}"
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The records of `records` in direction `dir` (`rx` or `tx`).
fn records_in<'a>(records: &'a [serde_json::Value], dir: &str) -> Vec<&'a serde_json::Value> {
    records.iter().filter(|r| r["dir"] == dir).collect()
}

/// The `unshare` command line that makes a new network namespace here, or `None` (with a
/// printed reason) when there is none or `ip` is missing.
fn unshare_command() -> Option<Vec<&'static str>> {
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => {}
        Ok(_) | Err(_) => {
            common::skip("the `ip` command (iproute2) is not available");
            return None;
        }
    }
    let candidates: [&[&'static str]; 2] = [
        &["unshare", "--net", "--map-root-user"],
        &["unshare", "--net"],
    ];
    let mut reasons = Vec::new();
    for candidate in candidates {
        let probe = Command::new(candidate[0])
            .args(&candidate[1..])
            .args(["ip", "link", "set", "lo", "up"])
            .output();
        match probe {
            Ok(out) if out.status.success() => return Some(candidate.to_vec()),
            Ok(out) => reasons.push(format!(
                "`{}` failed: {}",
                candidate.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => reasons.push(format!("`{}`: {e}", candidate[0])),
        }
    }
    common::skip(&format!(
        "cannot make a network namespace ({})",
        reasons.join("; ")
    ));
    None
}

fn read_all(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        from.read_to_end(&mut bytes).ok(); // what was read is still shown
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// True inside the namespace made by [`in_private_network`]; false (with a note) when an
/// inner test is run by hand on the host, where it must not send broadcast or multicast.
fn inside_private_network() -> bool {
    if std::env::var_os(NETNS_ENV).is_none() {
        eprintln!("not run: this test runs only inside its own network namespace");
        return false;
    }
    let links = ip_output("-o link show");
    let names: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(names, ["lo"], "a fresh network namespace has only lo");
    ip("link set lo up");
    true
}

/// Waits (bounded) until `ip -o link show dev NAME` says the link is up.
fn wait_link_up(name: &str) {
    let deadline = Instant::now() + DEADLINE;
    while !ip_output(&format!("-o link show dev {name}")).contains("LOWER_UP") {
        assert!(Instant::now() < deadline, "{name} did not come up");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `ip ARGS` and fails the test when it fails.
fn ip(args: &str) {
    ip_output(args);
}

fn ip_output(args: &str) -> String {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The index of interface `name` (from `ip -o link show dev NAME`: "3: va@vb: ...").
fn interface_index(name: &str) -> u32 {
    let line = ip_output(&format!("-o link show dev {name}"));
    line.split(':')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .expect("an interface index")
}

/// Whether `/proc/net/igmp` lists `group` on `interface` (its rows hold the group as the
/// hex of the address's bytes in memory order).
fn igmp_joined(interface: &str, group: Ipv4Addr) -> bool {
    let table = std::fs::read_to_string("/proc/net/igmp").expect("read /proc/net/igmp");
    let hex = format!("{:08X}", u32::from_ne_bytes(group.octets()));
    let mut current = "";
    for line in table.lines().skip(1) {
        if !line.starts_with(char::is_whitespace) {
            current = line.split_whitespace().nth(1).unwrap_or("");
        } else if current == interface && line.split_whitespace().next() == Some(&hex) {
            return true;
        }
    }
    false
}

/// A responder: a socket on the shared `port` (SO_REUSEADDR, so both get each broadcast)
/// and a socket on `reply_ip` it answers from.
fn responder(port: u16, reply_ip: &str) -> (UdpSocket, UdpSocket) {
    let listen = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    listen.set_reuse_address(true).expect("reuse");
    listen
        .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())
        .expect("bind the shared port");
    let listen: UdpSocket = listen.into();
    listen.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let reply = common::udp_socket(reply_ip);
    (listen, reply)
}

/// Waits for a `Note` on session `id` and returns its message.
fn note(engine: &mut Engine, id: SessionId) -> String {
    match engine.wait_for(
        "a note",
        |e| matches!(e, Event::Note { id: i, .. } if *i == id),
    ) {
        Event::Note { note, .. } => note.to_string(),
        _ => unreachable!("matched Note"),
    }
}

/// A plain socket that shares `port` and is a member of 239.1.2.3 on `iface`.
fn group_member(port: u16, iface: Ipv4Addr) -> UdpSocket {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    socket.set_reuse_address(true).expect("reuse");
    socket
        .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())
        .expect("bind the group port");
    socket.join_multicast_v4(&GROUP_V4, &iface).expect("join");
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(DEADLINE)).expect("timeout");
    socket
}

/// Waits for a datagram on session `id` from any address with source port `port`; returns
/// its peer and bytes.
fn wait_rx_from_port(engine: &mut Engine, id: SessionId, port: u16) -> (PeerId, bytes::Bytes) {
    let connected = engine.wait_for("PeerConnected from the sender", |e| {
        matches!(e, Event::PeerConnected { id: i, addr, .. } if *i == id && addr.port() == port)
    });
    let Event::PeerConnected { peer, .. } = connected else {
        unreachable!("matched PeerConnected")
    };
    (peer, engine.traffic(id, peer, Direction::Rx))
}
