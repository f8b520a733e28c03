//! Network load benchmarks of the real engine on loopback, each against its anchor in the
//! same run:
//! - `udp`: UDP overload on the window's path. Two C senders (`benches/c/udp_flood_send.c`),
//!   each 300,000 datagrams of 64 B at 300k/s, into a UDP server session of the real engine
//!   whose events are taken in as the window does (intake, model); against the C recvmmsg
//!   receiver (`benches/c/udp_recvmmsg.c`) taking the same flood, alternating, 5 runs (`RUNS`).
//!   Counts what arrived, checked against what the kernel says it dropped.
//! - `clients`: one TCP server session accepts 10,000 concurrent clients (opened by a child
//!   process); counts accept errors and the RSS growth of this process.
//!
//! - `tcp-spill`: a log larger than memory, on the window's path (issue 19, item 4). A sender
//!   process writes 4 GiB (`SPILL_GIB`) of 64 KiB writes into a TCP server session of the real
//!   engine, its events taken in as the window does (intake, model, a frame 15 ms after each
//!   wake-up); the session's log once in memory only (512 MiB, the oldest evicted) and once
//!   spilling to disk (the window's default), alternating, 5 runs (`RUNS`). Time from the
//!   sender's start until the model counted every byte. The sender's bytes
//!   (`SPILL_PAYLOAD`): `text` (default: lines of a device's readings), `zeros` or `noise`
//!   (bytes that do not compress). The anchor of what this machine's disk allows, in the
//!   same run: a plain receiver (read 64 KiB, `write(2)` it to a file in the same directory,
//!   no sync, as the spill does not sync) keeping the same flood on disk. Each flood starts
//!   after `sync`, so none pays for the one before's dirty pages.
//!
//! Run: `cargo bench --bench net_load` (or `-- udp` / `-- clients` / `-- tcp-spill`). Loopback
//! only, bounded in count and time.

#[path = "support/payload.rs"]
mod payload;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use sockdbg::app::{Backlog, REPAINT_INTERVAL};
use sockdbg::engine::sink::Waker;
use sockdbg::engine::{EngineHandle, EngineSettings, EventSink};
use sockdbg::intake::Intake;
use sockdbg::model::Sessions;
use sockdbg::model::log::{SpillConfig, SpillDir};
use sockdbg::protocol::{Command, Event, SessionId};

/// Datagrams each of the two senders sends.
const UDP_COUNT: u64 = 300_000;
/// Each sender's rate (datagrams a second): about 600k/s together for one second.
const UDP_RATE_PPS: u64 = 300_000;
const UDP_PAYLOAD: u64 = 64;
const CLIENTS: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-clients") {
        open_clients(&args[i + 1..]);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--send-tcp") {
        send_tcp(&args[i + 1..]);
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
    if wants("tcp-spill") {
        tcp_spill();
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

/// One UDP overload run's figures.
struct FloodRun {
    sent: u64,
    received: u64,
    bytes: u64,
    /// What the kernel dropped at the receiver's socket (its buffer was full).
    kernel_drops: u64,
}

/// A C program of `benches/c/`: the path in `env` (scripts/bench.sh builds them), else
/// compiled now into `target/bench-c/` with `cc`.
fn c_program(env: &str, name: &str) -> std::path::PathBuf {
    if let Ok(path) = std::env::var(env) {
        return path.into();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/bench-c");
    std::fs::create_dir_all(&out).expect("target/bench-c");
    let exe = out.join(name);
    let status = Process::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(root.join(format!("benches/c/{name}.c")))
        .status()
        .expect("a C compiler (cc) for benches/c/");
    assert!(status.success(), "compiling benches/c/{name}.c failed");
    exe
}

/// Both C senders at once into `port`; returns what they sent together.
fn flood(sender: &std::path::Path, port: u16) -> u64 {
    let spawn = || {
        Process::new(sender)
            .args(["127.0.0.1", &port.to_string()])
            .args([UDP_COUNT, UDP_RATE_PPS, UDP_PAYLOAD].map(|n| n.to_string()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("udp_flood_send")
    };
    let senders = [spawn(), spawn()];
    senders
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("sender output");
            let out = String::from_utf8_lossy(&out.stdout).into_owned();
            field(&out, "sent=").expect("sent=N")
        })
        .sum()
}

/// The number after `key` in `text`.
fn field(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// (receive queue bytes, drops) of the UDP socket bound to 127.0.0.1:`port`.
fn udp_socket_state(port: u16) -> (u64, u64) {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let want = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&want.as_str())).then(|| {
                let queue = fields
                    .get(4)
                    .and_then(|q| q.split(':').nth(1))
                    .and_then(|q| u64::from_str_radix(q, 16).ok());
                let drops = fields.last().and_then(|d| d.parse().ok());
                (queue.unwrap_or(0), drops.unwrap_or(0))
            })
        })
        .unwrap_or((0, 0))
}

/// The anchor: the C recvmmsg receiver (benches/c/udp_recvmmsg.c) takes the flood.
fn anchor_run(sender: &std::path::Path, receiver: &std::path::Path) -> FloodRun {
    let probe = UdpSocket::bind("127.0.0.1:0").expect("free port");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let expected = 2 * UDP_COUNT;
    let mut child = Process::new(receiver)
        .args([port.to_string(), expected.to_string(), "1000".into()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("udp_recvmmsg");
    // It says "ready" once bound.
    let mut ready = [0u8; 6];
    child
        .stderr
        .as_mut()
        .expect("stderr")
        .read_exact(&mut ready)
        .expect("ready");
    let sent = flood(sender, port);
    let out = child.wait_with_output().expect("anchor output");
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    let received = field(&out, "received=").expect("received=N");
    FloodRun {
        sent,
        received,
        bytes: field(&out, "bytes=").expect("bytes=N"),
        kernel_drops: sent - received,
    }
}

/// The window's path: a UDP server session of the real engine, its events taken in through
/// the window's [`Intake`] (flow-control gauge, wake-up) and applied to the model by
/// [`Intake::take_frame`], as `App::drain_events` does (tcp-spill: the next frame at once
/// when a frame spent its intake budget), a frame
/// `REPAINT_INTERVAL` after a wake-up while events keep coming (drawing itself is
/// `frame_cost`'s).
fn window_run(sender: &std::path::Path) -> (FloodRun, usize, Vec<String>) {
    let (woken, intake, engine) = window_intake();
    let mut sessions = Sessions::default();
    let id = sessions.create("udp-server:127.0.0.1:0".parse().expect("spec"));
    engine.send(Command::Start {
        id,
        spec: sessions.get(id).expect("session").spec.clone(),
    });
    let mut warnings = Vec::new();
    let mut port = None;
    let frame = |sessions: &mut Sessions, warnings: &mut Vec<String>| {
        let mut started = None;
        intake.take_frame(
            sessions,
            |_| None,
            |event| match event {
                Event::Warning { warning, .. } => warnings.push(warning.to_string()),
                Event::Started { local_addr, .. } => started = Some(local_addr.port()),
                Event::StartFailed { reason, .. } => panic!("session failed: {reason}"),
                _ => {}
            },
        );
        started
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while port.is_none() && Instant::now() < deadline {
        std::thread::park_timeout(REPAINT_INTERVAL);
        port = frame(&mut sessions, &mut warnings);
    }
    let port = port.expect("session started");
    let flooding = std::thread::spawn({
        let sender = sender.to_path_buf();
        move || flood(&sender, port)
    });
    // Frames while the flood lasts, then until the kernel's queue is empty and nothing came
    // for a while. As in the window, a wake-up asks for a frame REPAINT_INTERVAL later (the
    // waker's `request_repaint_after`), and the frame re-arms the waker.
    let mut quiet_since = Instant::now();
    loop {
        if woken.swap(false, Ordering::AcqRel) || intake.pending() {
            std::thread::sleep(REPAINT_INTERVAL);
            frame(&mut sessions, &mut warnings);
            quiet_since = Instant::now();
        } else {
            std::thread::park_timeout(REPAINT_INTERVAL);
        }
        if flooding.is_finished()
            && udp_socket_state(port).0 == 0
            && !intake.pending()
            && quiet_since.elapsed() > Duration::from_millis(300)
        {
            break;
        }
    }
    let sent = flooding.join().expect("flood thread");
    let (_, kernel_drops) = udp_socket_state(port);
    let session = sessions.get(id).expect("session");
    let run = FloodRun {
        sent,
        received: session.counters.rx_packets,
        bytes: session.counters.rx_bytes,
        kernel_drops,
    };
    let entries = session.log.len();
    engine.send(Command::Stop { id });
    engine.shutdown();
    (run, entries, warnings)
}

/// The engine with the window's intake, its waker unparking this thread and raising the
/// returned flag, as the window's waker asks for a frame.
fn window_intake() -> (Arc<AtomicBool>, Intake, EngineHandle) {
    let woken = Arc::new(AtomicBool::new(false));
    let ui = std::thread::current();
    let flag = Arc::clone(&woken);
    let wake: Waker = Arc::new(move || {
        flag.store(true, Ordering::Release);
        ui.unpark();
    });
    let settings = EngineSettings { files_dir: None };
    let (intake, engine) = Intake::start(settings, Some(wake)).expect("engine starts");
    (woken, intake, engine)
}

/// min, median and max of `values`.
fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return (0.0, 0.0, 0.0);
    };
    (*first, values[(values.len() - 1) / 2], *last)
}

fn udp_flood() {
    let sender = c_program("UDP_SENDER", "udp_flood_send");
    let receiver = c_program("UDP_ANCHOR", "udp_recvmmsg");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    println!(
        "udp overload, window path: 2 senders x {UDP_COUNT} datagrams of {UDP_PAYLOAD} B at \
         {UDP_RATE_PPS}/s each, {runs} runs; anchor = C recvmmsg receiver"
    );
    let mut ratios = Vec::new();
    for run in 1..=runs {
        let anchor = anchor_run(&sender, &receiver);
        let (window, entries, warnings) = window_run(&sender);
        let ratio = window.received as f64 / anchor.received.max(1) as f64;
        ratios.push(ratio);
        let exact = window.received == window.sent - window.kernel_drops
            && window.bytes == window.received * UDP_PAYLOAD;
        println!(
            "udp window run {run}: anchor {}/{} ({} B); sockdbg {}/{} ({} B, kernel dropped {}, \
             {entries} log entries); ratio {ratio:.3}x {}",
            anchor.received,
            anchor.sent,
            anchor.bytes,
            window.received,
            window.sent,
            window.bytes,
            window.kernel_drops,
            if exact {
                "(exact: every datagram the kernel kept is in the model)"
            } else {
                "(MISMATCH)"
            }
        );
        for warning in warnings {
            println!("  sockdbg warned: {warning}");
        }
    }
    let (min, median, max) = spread(ratios);
    println!("udp window ratio: min {min:.3} median {median:.3} max {max:.3}");
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

/// A TCP flood into the window's path, the log in memory only against spilling to disk.
fn tcp_spill() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let gib: u64 = std::env::var("SPILL_GIB")
        .ok()
        .and_then(|g| g.parse().ok())
        .unwrap_or(4);
    let payload = std::env::var("SPILL_PAYLOAD").unwrap_or_else(|_| "text".into());
    let bytes = gib << 30;
    println!(
        "tcp-spill, window path: {gib} GiB of 64 KiB writes of {payload} from a sender process, \
         {runs} runs; log in memory only (512 MiB) against spilling to disk"
    );
    let base = std::env::temp_dir().join("sockdbg-net-load-spill");
    let dir = Arc::new(SpillDir::open(&base).expect("spill directory"));
    let mut rows = Vec::new();
    for run in 0..runs {
        let spill_config = || SpillConfig {
            dir: Arc::clone(&dir),
            quota_bytes: 8 << 30,
        };
        let memory = || tcp_spill_run(bytes, &payload, None);
        let spill = || tcp_spill_run(bytes, &payload, Some(spill_config()));
        let plain = || plain_to_disk_run(bytes, &payload, &base);
        let floods: [(&str, &dyn Fn() -> SpillRun); 3] =
            [("memory", &memory), ("spill", &spill), ("plain", &plain)];
        // Each run starts one further along, so none always meets the page cache the one
        // before left.
        let mut figures = [None, None, None];
        for k in 0..floods.len() {
            let slot = (run + k) % floods.len();
            let (name, flood) = floods[slot];
            settle_disk();
            let run_figures = flood();
            println!(
                "run {run} {name:<6}: {:.3} GB/s in {:.2} s, {} MiB held, {} MiB on disk",
                run_figures.gb_per_s,
                run_figures.seconds,
                run_figures.held_bytes >> 20,
                run_figures.disk_bytes >> 20,
            );
            figures[slot] = Some(run_figures);
        }
        let [Some(memory), Some(spill), Some(plain)] = figures else {
            unreachable!("every flood ran");
        };
        rows.push((memory, spill, plain));
    }
    let show = |name: &str, values: Vec<f64>, unit: &str| {
        let (min, median, max) = spread(values);
        println!("{name}: min {min:.3} / median {median:.3} / max {max:.3} {unit}");
    };
    show(
        "in memory",
        rows.iter().map(|r| r.0.gb_per_s).collect(),
        "GB/s",
    );
    show(
        "spilling",
        rows.iter().map(|r| r.1.gb_per_s).collect(),
        "GB/s",
    );
    show(
        "plain receiver to a file",
        rows.iter().map(|r| r.2.gb_per_s).collect(),
        "GB/s",
    );
    show(
        "spilling / in memory (same run)",
        rows.iter().map(|r| r.1.gb_per_s / r.0.gb_per_s).collect(),
        "x",
    );
    show(
        "spilling / plain receiver to a file (same run)",
        rows.iter().map(|r| r.1.gb_per_s / r.2.gb_per_s).collect(),
        "x",
    );
}

/// Lets the disk write back what earlier floods left in the page cache (`sync`), so each
/// flood starts from the same clean state.
fn settle_disk() {
    let synced = Process::new("sync").status();
    if !synced.is_ok_and(|s| s.success()) {
        eprintln!("sync failed: floods may pay for the ones before");
    }
}

/// The anchor of `tcp-spill`: a plain receiver keeps the same flood on disk (64 KiB reads,
/// each written to a file in `dir`, no sync); the file is removed after.
fn plain_to_disk_run(bytes: u64, payload: &str, dir: &std::path::Path) -> SpillRun {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local address").port();
    let path = dir.join(format!("plain-receiver-{}", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("anchor file");
    let started = Instant::now();
    let mut sender = spawn_sender(port, bytes, payload);
    let (mut stream, _) = listener.accept().expect("accept");
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    while received < bytes {
        let n = stream.read(&mut buffer).expect("read");
        assert!(n > 0, "the sender closed early");
        file.write_all(&buffer[..n])
            .expect("write to the anchor file");
        received += n as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    assert!(sender.wait().expect("sender").success(), "sender failed");
    let disk_bytes = file.metadata().map_or(0, |m| m.len());
    drop(file);
    std::fs::remove_file(&path).ok();
    SpillRun {
        gb_per_s: bytes as f64 / seconds / 1e9,
        seconds,
        held_bytes: received,
        disk_bytes,
    }
}

/// One tcp-spill run's figures.
struct SpillRun {
    gb_per_s: f64,
    seconds: f64,
    held_bytes: u64,
    disk_bytes: u64,
}

fn tcp_spill_run(bytes: u64, payload: &str, spill: Option<SpillConfig>) -> SpillRun {
    let (woken, intake, engine) = window_intake();
    let mut sessions = Sessions::default();
    sessions.set_spill(spill);
    let id = sessions.create("tcp-server:127.0.0.1:0".parse().expect("spec"));
    engine.send(Command::Start {
        id,
        spec: sessions.get(id).expect("session").spec.clone(),
    });
    let frame = |sessions: &mut Sessions| {
        let mut started = None;
        let backlog = intake.take_frame(
            sessions,
            |_| None,
            |event| match event {
                Event::Started { local_addr, .. } => started = Some(local_addr.port()),
                Event::StartFailed { reason, .. } => panic!("session failed: {reason}"),
                _ => {}
            },
        );
        // As the window does after drawing.
        sessions.maintain();
        (started, backlog)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut port = None;
    while port.is_none() && Instant::now() < deadline {
        std::thread::park_timeout(REPAINT_INTERVAL);
        port = frame(&mut sessions).0;
    }
    let port = port.expect("session started");
    let started = Instant::now();
    let mut sender = spawn_sender(port, bytes, payload);
    // As in the window: a wake-up asks for a frame REPAINT_INTERVAL later, and the frame
    // re-arms the waker.
    let limit = Instant::now() + Duration::from_secs(600);
    let rx_bytes = |sessions: &Sessions| sessions.get(id).map_or(0, |s| s.counters.rx_bytes);
    let mut frames_ms = Vec::new();
    let mut backlog = Backlog::Empty;
    while rx_bytes(&sessions) < bytes {
        assert!(Instant::now() < limit, "the flood did not arrive in time");
        if backlog == Backlog::Behind || woken.swap(false, Ordering::AcqRel) || intake.pending() {
            if backlog != Backlog::Behind {
                std::thread::sleep(REPAINT_INTERVAL);
            }
            let took = Instant::now();
            backlog = frame(&mut sessions).1;
            frames_ms.push(took.elapsed().as_secs_f64() * 1e3);
        } else {
            std::thread::park_timeout(REPAINT_INTERVAL);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    frames_ms.sort_by(f64::total_cmp);
    let frame_ms = |q: f64| {
        frames_ms
            .get(((frames_ms.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "  taking events in, per frame: median {:.1} ms, 99th {:.1} ms, longest {:.1} ms ({} frames)",
        frame_ms(0.5),
        frame_ms(0.99),
        frame_ms(1.0),
        frames_ms.len()
    );
    assert!(sender.wait().expect("sender").success(), "sender failed");
    assert_eq!(rx_bytes(&sessions), bytes, "every byte counted");
    let session = sessions.get_mut(id).expect("session");
    session.log.flush_spill();
    let disk_bytes = session.log.spill_status().map_or(0, |s| s.disk_bytes);
    let held_bytes = bytes - session.log.evicted_bytes();
    engine.send(Command::Stop { id });
    engine.shutdown();
    SpillRun {
        gb_per_s: bytes as f64 / seconds / 1e9,
        seconds,
        held_bytes,
        disk_bytes,
    }
}

/// Starts the sender process of `tcp-spill` (this binary with `--send-tcp`).
fn spawn_sender(port: u16, bytes: u64, payload: &str) -> std::process::Child {
    Process::new(std::env::current_exe().expect("this binary"))
        .args(["--send-tcp", &port.to_string(), &bytes.to_string(), payload])
        .stdout(Stdio::null())
        .spawn()
        .expect("sender")
}

/// The sender process of `tcp-spill`: connects to 127.0.0.1:PORT and writes BYTES of
/// PAYLOAD in 64 KiB writes (64 distinct buffers in turn).
fn send_tcp(args: &[String]) {
    let (Some(port), Some(bytes), Some(payload)) = (args.first(), args.get(1), args.get(2)) else {
        return;
    };
    let port: u16 = port.parse().expect("port");
    let bytes: u64 = bytes.parse().expect("bytes");
    const WRITE: usize = 64 * 1024;
    let buffers: Vec<Vec<u8>> = (0..64u64)
        .map(|n| match payload.as_str() {
            "zeros" => vec![0; WRITE],
            "noise" => payload::noise(n, WRITE),
            _ => payload::text(n, WRITE),
        })
        .collect();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut left = bytes;
    let mut n = 0;
    while left > 0 {
        let take = left.min(WRITE as u64) as usize;
        stream.write_all(&buffers[n % 64][..take]).expect("write");
        left -= take as u64;
        n += 1;
    }
}
