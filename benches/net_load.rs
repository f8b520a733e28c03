//! Network load benchmarks of the real engine on loopback, each against its anchor in the
//! same run:
//! - `udp`: 64-byte datagrams at 100k packets/s for 2 s into a UDP server session, against a
//!   plain blocking std socket receiving the same flood; counts what arrived and what the
//!   kernel says it dropped.
//! - `clients`: one TCP server session accepts 10,000 concurrent clients (opened by a child
//!   process); counts accept errors and the RSS growth of this process.
//!
//! Run: `cargo bench --bench net_load` (or `-- udp` / `-- clients`). Loopback only, bounded in
//! count and time.

use std::io::Read;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use sockdbg::engine::{EngineHandle, EventSink};
use sockdbg::model::Sessions;
use sockdbg::protocol::{Command, Event, SessionId};

const UDP_RATE_PPS: u64 = 100_000;
const UDP_SECONDS: u64 = 2;
const UDP_PAYLOAD: usize = 64;
const CLIENTS: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-clients") {
        open_clients(&args[i + 1..]);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench targets too: this one floods loopback and
        // opens 10k sockets, so it runs only under `cargo bench`.
        println!("net_load: skipped (run it with `cargo bench --bench net_load`)");
        return;
    }
    let only: Vec<&str> = args[1..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let wants = |name: &str| only.is_empty() || only.contains(&name);
    rlimit::increase_nofile_limit(u64::MAX).ok();
    if wants("udp") {
        udp_flood();
    }
    if wants("clients") {
        many_clients();
    }
}

fn engine() -> (EngineHandle, Receiver<Event>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let engine = EngineHandle::spawn(EventSink::without_waker(tx)).expect("engine starts");
    (engine, rx)
}

fn wait_started(rx: &Receiver<Event>, sessions: &mut Sessions) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(event) = rx.recv_timeout(Duration::from_millis(100)) {
            let started = match &event {
                Event::Started { local_addr, .. } => Some(*local_addr),
                Event::StartFailed { reason, .. } => panic!("session failed: {reason}"),
                _ => None,
            };
            sessions.apply(event);
            if let Some(addr) = started {
                return addr;
            }
        }
    }
    panic!("session did not start");
}

/// Sends `count` datagrams paced at `rate` per second; returns how many were sent.
fn paced_sender(target: SocketAddr, rate: u64, seconds: u64) -> u64 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let payload = [0xA5u8; UDP_PAYLOAD];
    let total = rate * seconds;
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        if sent >= due {
            std::hint::spin_loop();
            continue;
        }
        if socket.send_to(&payload, target).is_ok() {
            sent += 1;
        }
    }
    sent
}

fn udp_flood() {
    // Anchor: a blocking std socket with the same 4 MiB receive buffer, on its own thread.
    let anchor = UdpSocket::bind("127.0.0.1:0").expect("bind anchor");
    socket2::SockRef::from(&anchor)
        .set_recv_buffer_size(4 * 1024 * 1024)
        .ok();
    anchor
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let anchor_addr = anchor.local_addr().expect("addr");
    let counter = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let mut received = 0u64;
        while anchor.recv(&mut buf).is_ok() {
            received += 1;
        }
        received
    });
    let anchor_sent = paced_sender(anchor_addr, UDP_RATE_PPS, UDP_SECONDS);
    let anchor_received = counter.join().expect("anchor thread");

    // sockdbg: a UDP server session; every datagram applied to the model as the window does.
    let (engine, rx) = engine();
    let mut sessions = Sessions::default();
    let id = sessions.create("udp-server:127.0.0.1:0".parse().expect("spec"));
    engine.send(Command::Start {
        id,
        spec: sessions.get(id).expect("session").spec.clone(),
    });
    let addr = wait_started(&rx, &mut sessions);
    let started = Instant::now();
    let sender = std::thread::spawn(move || paced_sender(addr, UDP_RATE_PPS, UDP_SECONDS));
    let mut warnings = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(1500)) {
            Ok(event) => {
                if let Event::Warning { warning, .. } = &event {
                    warnings.push(warning.to_string());
                }
                sessions.apply(event);
            }
            Err(_) if sender.is_finished() => break,
            Err(_) => {}
        }
    }
    let sent = sender.join().expect("sender thread");
    let elapsed = started.elapsed();
    let session = sessions.get(id).expect("session");
    let received = session.counters.rx_packets;
    println!(
        "udp flood: {UDP_RATE_PPS} pkt/s x {UDP_SECONDS} s of {UDP_PAYLOAD} B: \
         anchor std socket received {anchor_received}/{anchor_sent} (lost {}); \
         sockdbg udp-server received {received}/{sent} (lost {}), {} log entries, {:.2} s",
        anchor_sent - anchor_received,
        sent.saturating_sub(received),
        session.log.len(),
        elapsed.as_secs_f64()
    );
    for warning in warnings {
        println!("  sockdbg warned: {warning}");
    }
    engine.send(Command::Stop { id });
    engine.shutdown();
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn many_clients() {
    let (engine, rx) = engine();
    let mut sessions = Sessions::default();
    let id: SessionId = sessions.create("tcp-server:127.0.0.1:0".parse().expect("spec"));
    engine.send(Command::Start {
        id,
        spec: sessions.get(id).expect("session").spec.clone(),
    });
    let addr = wait_started(&rx, &mut sessions);
    let rss_before = rss_bytes();
    let exe = std::env::current_exe().expect("own path");
    let mut child = Process::new(exe)
        .args(["--open-clients", &addr.to_string(), &CLIENTS.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("client process");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let mut warnings = 0usize;
    while Instant::now() < deadline {
        let connected = sessions.get(id).map_or(0, |s| s.connected_peers().count());
        if connected >= CLIENTS {
            break;
        }
        if let Ok(event) = rx.recv_timeout(Duration::from_millis(200)) {
            if matches!(event, Event::Warning { .. }) {
                warnings += 1;
            }
            sessions.apply(event);
        }
    }
    let accept_time = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    while let Ok(event) = rx.try_recv() {
        sessions.apply(event);
    }
    let connected = sessions.get(id).map_or(0, |s| s.connected_peers().count());
    let rss_after = rss_bytes();
    let mut report = String::new();
    if let Some(out) = child.stdout.as_mut() {
        out.read_to_string(&mut report).ok();
    }
    child.wait().ok();
    println!(
        "clients: {connected}/{CLIENTS} connected in {:.2} s, {warnings} warnings; \
         RSS grew by {:.1} MiB ({:.0} bytes per client); client side: {}",
        accept_time.as_secs_f64(),
        (rss_after.saturating_sub(rss_before)) as f64 / (1024.0 * 1024.0),
        rss_after.saturating_sub(rss_before) as f64 / CLIENTS as f64,
        report.trim()
    );
    engine.shutdown();
}

/// Child mode: open N connections to ADDR, hold them until the parent has counted them.
fn open_clients(args: &[String]) {
    rlimit::increase_nofile_limit(u64::MAX).ok();
    let (Some(addr), Some(count)) = (args.first(), args.get(1)) else {
        return;
    };
    let addr: SocketAddr = addr.parse().expect("addr");
    let count: usize = count.parse().expect("count");
    let mut streams = Vec::with_capacity(count);
    let mut errors = 0usize;
    for _ in 0..count {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => streams.push(s),
            Err(_) => errors += 1,
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    println!("{} opened, {errors} connect errors", streams.len());
}
