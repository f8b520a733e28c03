//! Soak test (issue 7), ignored by default: a mixed load for minutes, then a leak report.
//! Run: `SOCKDBG_SOAK_SECS=300 cargo test --release --test soak -- --ignored --nocapture`
//! (default 120 s). Each round: 50 TCP clients connect, send, get a broadcast, and close
//! (half by FIN, half by RST); a burst of UDP datagrams; a UDP client to a closed port; a
//! never-reading client refused past its send queue. After the rounds, the open file
//! descriptors, threads and connected peers must be back where they started, and memory
//! growth is reported and bounded. Only loopback is used; every wait has a deadline.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{DEADLINE, Engine, free_udp_port, reset, tcp_connect, udp_socket};
use sockdbg::protocol::{Command, Event, SendTarget, SessionId};

const TCP: SessionId = SessionId(1);
const UDP: SessionId = SessionId(2);
const UDP_CLIENT: SessionId = SessionId(3);

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn wait_disconnects(engine: &mut Engine, n: usize) {
    for _ in 0..n {
        engine.wait_for(
            "PeerDisconnected",
            |e| matches!(e, Event::PeerDisconnected { id, .. } if *id == TCP),
        );
    }
}

#[test]
#[ignore = "minutes long; run by hand or in a nightly job"]
fn mixed_load_for_minutes_leaks_nothing() {
    let secs: u64 = std::env::var("SOCKDBG_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let mut engine = Engine::spawn();
    engine.start(TCP, "tcp-server:127.0.0.1:0");
    let tcp_addr = engine.started(TCP);
    engine.start(UDP, "udp-server:127.0.0.1:0");
    let udp_addr = engine.started(UDP);
    engine.start(
        UDP_CLIENT,
        &format!("udp-client:127.0.0.1:{}", free_udp_port()),
    );
    engine.started(UDP_CLIENT);
    let sender = udp_socket("127.0.0.1");
    let (fds, threads, rss) = (count("/proc/self/fd"), count("/proc/self/task"), rss_kib());
    let end = Instant::now() + Duration::from_secs(secs);
    let mut rounds = 0u64;
    while Instant::now() < end && rounds < 1_000_000 {
        rounds += 1;
        let clients: Vec<_> = (0..50).map(|_| tcp_connect(tcp_addr)).collect();
        for _ in 0..50 {
            engine.wait_for(
                "PeerConnected",
                |e| matches!(e, Event::PeerConnected { id, .. } if *id == TCP),
            );
        }
        engine.send(Command::Send {
            id: TCP,
            target: SendTarget::All,
            data: Bytes::from_static(b"broadcast"),
        });
        for (i, mut client) in clients.into_iter().enumerate() {
            client.write_all(b"hello").ok(); // a reset may race it
            if i % 2 == 0 {
                drop(client);
            } else {
                reset(client);
            }
        }
        wait_disconnects(&mut engine, 50);
        for _ in 0..200 {
            sender.send_to(&[0x5A; 1200], udp_addr).ok(); // loss is reported by the engine
        }
        engine.send_bytes(UDP_CLIENT, SendTarget::All, b"to a closed port");
        // A client that never reads: refused past the queue bound, then disconnected.
        let stuck = tcp_connect(tcp_addr);
        let peer = match engine.wait_for(
            "PeerConnected",
            |e| matches!(e, Event::PeerConnected { id, .. } if *id == TCP),
        ) {
            Event::PeerConnected { peer, .. } => peer,
            _ => unreachable!("matched PeerConnected"),
        };
        for _ in 0..16 {
            engine.send(Command::Send {
                id: TCP,
                target: SendTarget::Peer(peer),
                data: Bytes::from(vec![0; 1024 * 1024]),
            });
        }
        engine.send(Command::DisconnectPeer { id: TCP, peer });
        wait_disconnects(&mut engine, 1);
        drop(stuck);
        // Keep the test's own event history from growing without bound.
        engine.collect_for(Duration::from_millis(10));
        engine.clear_history();
    }
    let deadline = Instant::now() + DEADLINE;
    while count("/proc/self/fd") > fds && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (fds_after, threads_after, rss_after) =
        (count("/proc/self/fd"), count("/proc/self/task"), rss_kib());
    eprintln!(
        "soak: {rounds} rounds in {secs} s; fds {fds} -> {fds_after}, threads {threads} -> \
         {threads_after}, RSS {rss} -> {rss_after} KiB"
    );
    assert!(
        fds_after <= fds,
        "file descriptors leaked: {fds} -> {fds_after}"
    );
    assert!(
        threads_after <= threads,
        "threads leaked: {threads} -> {threads_after}"
    );
    assert!(
        rss_after.saturating_sub(rss) < 64 * 1024,
        "memory grew by {} KiB",
        rss_after.saturating_sub(rss)
    );
    engine.shutdown();
}
