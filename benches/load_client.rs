//! `sockdbg load` measured against what it measures with, in the same run and on the same
//! echo server (a child process: tokio, 2 worker threads, echoing each read):
//! - `pingpong`: the load job (`Command::StartLoad`, pingpong, rate unlimited) against a
//!   minimal ping-pong client of our own (tokio sockets, 2 worker threads like the engine,
//!   round trips kept in a plain vector, no histogram) at 1, 100 and 1,000 connections;
//!   several alternating runs, min / median / max of messages per second and RTT p50. Both
//!   count 3 s of steady traffic: the plain client after its connects, the load job over its
//!   whole seconds after the first.
//! - `hold`: 10,000 connections opened at 5,000 a second and held with a ping each second
//!   (10,000 messages/s over all of them); errors counted, connections open each second.
//!
//! The descriptor limit is raised to the hard limit at start (10,000 connections need
//! 10,000 descriptors here and 10,000 in the echo server's process).
//!
//! Run: `cargo bench --bench load_client` (or `-- pingpong` / `-- hold`; numbers after
//! `pingpong` choose its connection counts, e.g. `-- pingpong 1`). Loopback only, bounded in
//! count and time.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use sockdbg::codec::send::SendOptions;
use sockdbg::engine::{EngineHandle, EventSink};
use sockdbg::load::{LoadPayload, LoadPlan, SecondRecord, Summary};
use sockdbg::protocol::{Command, Event, JobId, LoadEnd, LoadUpdate, SessionId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAYLOAD: &[u8] = b"ping";
const RUN: Duration = Duration::from_secs(3);
const RUNS: usize = 3;
const HOLD_CONNECTIONS: u32 = 10_000;
const HOLD_SECONDS: u64 = 12;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--echo-server") {
        echo_server();
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench targets too: this one opens 10k sockets.
        println!("load_client: skipped (run it with `cargo bench --bench load_client`)");
        return;
    }
    let only: Vec<&str> = args[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let counts: Vec<u32> = only.iter().filter_map(|a| a.parse().ok()).collect();
    let only: Vec<&str> = only
        .into_iter()
        .filter(|a| a.parse::<u32>().is_err())
        .collect();
    let wanted = |name: &str| only.is_empty() || only.contains(&name);
    let raised = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    println!("descriptor limit raised to {raised}");
    let (mut server, addr) = start_echo_server();
    println!("echo server (child process) on {addr}");
    if wanted("pingpong") {
        pingpong(
            addr,
            if counts.is_empty() {
                &[1, 100, 1_000]
            } else {
                &counts
            },
        );
    }
    if wanted("hold") {
        hold(addr);
    }
    server.kill().ok();
    server.wait().ok();
}

/// Starts this binary as the echo server; returns it and its address.
fn start_echo_server() -> (Child, SocketAddr) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Process::new(exe)
        .arg("--echo-server")
        .stdout(Stdio::piped())
        .spawn()
        .expect("echo server starts");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("address line");
    let addr = line.trim().parse().expect("an address");
    (child, addr)
}

/// The echo server: every read goes back as it came.
fn echo_server() {
    rlimit::increase_nofile_limit(u64::MAX).ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .expect("socket");
        socket.set_reuse_address(true).expect("reuse");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        socket.bind(&any.into()).expect("bind");
        socket.listen(8192).expect("listen");
        socket.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(socket.into()).expect("listener");
        println!("{}", listener.local_addr().expect("addr"));
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            stream.set_nodelay(true).ok();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
}

/// One run's figures.
#[derive(Clone, Copy)]
struct Figures {
    msgs_per_s: f64,
    p50_us: u64,
}

/// The minimal client: each connection sends, reads the whole echo, again; round trips in
/// a plain vector.
fn plain(addr: SocketAddr, connections: u32) -> Figures {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..connections {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            streams.push(stream);
        }
        let started = Instant::now();
        let end = started + RUN;
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let mut rtts: Vec<u32> = Vec::new();
                    let mut buf = [0u8; 64];
                    while Instant::now() < end {
                        let sent = Instant::now();
                        if stream.write_all(PAYLOAD).await.is_err() {
                            break;
                        }
                        let mut got = 0;
                        while got < PAYLOAD.len() {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return rtts,
                                Ok(n) => got += n,
                            }
                        }
                        rtts.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    rtts
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("task"));
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        Figures {
            msgs_per_s: all.len() as f64 / elapsed,
            p50_us: all.get(all.len() / 2).copied().map_or(0, u64::from),
        }
    })
}

/// Runs `plan` in a fresh engine; the seconds and the summary.
fn sockdbg_run(plan: LoadPlan) -> (Vec<SecondRecord>, LoadEnd, Summary) {
    let (tx, events) = crossbeam_channel::unbounded();
    let engine = EngineHandle::spawn(EventSink::without_waker(tx)).expect("engine");
    engine.send(Command::StartLoad {
        id: SessionId(1),
        job: JobId(1),
        plan: Box::new(plan),
    });
    let mut seconds = Vec::new();
    loop {
        match events.recv_timeout(Duration::from_secs(60)) {
            Ok(Event::Load {
                update: LoadUpdate::Ended { end, summary },
                ..
            }) => {
                engine.shutdown();
                return (seconds, end, *summary);
            }
            Ok(Event::Load {
                update: LoadUpdate::Second(record),
                ..
            }) => seconds.push(*record),
            Ok(_) => {}
            Err(e) => panic!("the load run did not end: {e}"),
        }
    }
}

fn plan(addr: SocketAddr, connections: u32) -> LoadPlan {
    let spec = format!("tcp-client:{addr}").parse().expect("spec");
    let payload = LoadPayload::parse("text:ping", &SendOptions::default()).expect("payload");
    let mut plan = LoadPlan::new(spec, payload).expect("plan");
    plan.connections = connections;
    plan.duration = RUN;
    plan.sample_messages = 0;
    plan
}

/// The load job's figures: messages a second over its whole seconds after the first (the
/// first holds the connects, which the plain client makes before its clock starts), and the
/// run's RTT p50.
fn with_sockdbg(addr: SocketAddr, connections: u32) -> Figures {
    let mut plan = plan(addr, connections);
    plan.duration = RUN + Duration::from_secs(1);
    let (seconds, end, summary) = sockdbg_run(plan);
    assert_eq!(end, LoadEnd::Completed);
    assert_eq!(summary.errors.total(), 0, "{summary:?}");
    let steady: Vec<&SecondRecord> = seconds
        .iter()
        .filter(|r| r.second >= 2 && r.second <= RUN.as_secs() + 1)
        .collect();
    let answers: u64 = steady.iter().map(|r| r.during.answers).sum();
    Figures {
        msgs_per_s: answers as f64 / steady.len().max(1) as f64,
        p50_us: summary.rtt_us.p50,
    }
}

fn spread<T: Copy + PartialOrd>(values: &mut [T]) -> (T, T, T) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    (
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    )
}

fn pingpong(addr: SocketAddr, counts: &[u32]) {
    println!(
        "\n| connections | client | msgs/s min / median / max | RTT p50 µs min / median / max |"
    );
    println!("|---|---|---|---|");
    for &connections in counts {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..RUNS {
            theirs.push(plain(addr, connections));
            ours.push(with_sockdbg(addr, connections));
        }
        let mut ratio_msgs: Vec<f64> = ours
            .iter()
            .zip(&theirs)
            .map(|(o, t)| o.msgs_per_s / t.msgs_per_s)
            .collect();
        let mut ratio_p50: Vec<f64> = ours
            .iter()
            .zip(&theirs)
            .map(|(o, t)| o.p50_us as f64 / t.p50_us.max(1) as f64)
            .collect();
        for (name, runs) in [("plain", &theirs), ("sockdbg load", &ours)] {
            let mut msgs: Vec<f64> = runs.iter().map(|f| f.msgs_per_s).collect();
            let mut p50: Vec<u64> = runs.iter().map(|f| f.p50_us).collect();
            let (m0, m1, m2) = spread(&mut msgs);
            let (p0, p1, p2) = spread(&mut p50);
            println!(
                "| {connections} | {name} | {m0:.0} / {m1:.0} / {m2:.0} | {p0} / {p1} / {p2} |"
            );
        }
        let (r0, r1, r2) = spread(&mut ratio_msgs);
        let (q0, q1, q2) = spread(&mut ratio_p50);
        println!(
            "| {connections} | ratio (run by run) | {r0:.2} / {r1:.2} / {r2:.2} x | {q0:.2} / {q1:.2} / {q2:.2} x |"
        );
    }
}

fn hold(addr: SocketAddr) {
    let mut plan = plan(addr, HOLD_CONNECTIONS);
    plan.connect_rate = 5_000;
    plan.rate = u64::from(HOLD_CONNECTIONS);
    plan.duration = Duration::from_secs(HOLD_SECONDS);
    plan.timeout = Duration::from_secs(10);
    let started = Instant::now();
    let (seconds, end, summary) = sockdbg_run(plan);
    println!(
        "\nhold: {HOLD_CONNECTIONS} connections, a ping each second each, {HOLD_SECONDS} s ({:.1} s wall)",
        started.elapsed().as_secs_f64()
    );
    println!("| second | at ms | open | sent | answers | errors | RTT p50 µs | p99 µs |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in &seconds {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.second,
            r.elapsed_ms,
            r.open,
            r.during.messages_sent,
            r.during.answers,
            r.during.errors.total(),
            r.rtt_us.p50,
            r.rtt_us.p99
        );
    }
    let held = seconds
        .iter()
        .filter(|r| r.open == u64::from(HOLD_CONNECTIONS))
        .count();
    println!(
        "end {end:?}; {} connections, {} connect errors, {} errors, {} sent, {} answers; {held} seconds with all {HOLD_CONNECTIONS} open",
        summary.connections,
        summary.connect_errors,
        summary.errors.total(),
        summary.messages_sent,
        summary.answers
    );
}
