//! Load jobs in the engine against real loopback servers: pingpong, stream and connect over
//! TCP, TLS, WebSocket (plain and over TLS) and UDP, the engine's own echo servers on the
//! other side; a server that resets every tenth connection, one that answers late, one
//! that answers wrongly; a stop at full speed that ends the run at once; the sample. Runs
//! are short and rate-limited, every wait has a deadline, and the checks are counts (never
//! times: performance is in BENCHMARKS.md).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use common::{Engine, reset};
use sockdbg::codec::send::SendOptions;
use sockdbg::load::{LoadErrorKind, LoadPayload, LoadPlan, Mode, SecondRecord, Summary};
use sockdbg::protocol::{
    Command, Direction, Event, JobId, LoadEnd, LoadUpdate, Reactions, SessionId,
};

const SERVER: SessionId = SessionId(1);
const LOAD: SessionId = SessionId(2);
const JOB: JobId = JobId(7);

/// What a run reported.
struct Ran {
    seconds: Vec<SecondRecord>,
    samples: Vec<(u64, Direction, Vec<u8>)>,
    end: LoadEnd,
    summary: Summary,
}

fn plan(spec: &str, send: &str) -> LoadPlan {
    let spec = spec.parse().expect("spec");
    let payload = LoadPayload::parse(send, &SendOptions::default()).expect("payload");
    let mut plan = LoadPlan::new(spec, payload).expect("client spec");
    plan.duration = Duration::from_millis(1200);
    plan.rate = 300;
    plan
}

/// Starts `plan` as the load session and waits for its end (the run lasts less than the
/// wait's deadline).
fn run(engine: &mut Engine, plan: LoadPlan) -> Ran {
    engine.send(Command::StartLoad {
        id: LOAD,
        job: JOB,
        plan: Box::new(plan),
    });
    finish(engine)
}

/// Collects the run's updates until it ends.
fn finish(engine: &mut Engine) -> Ran {
    let mut seconds = Vec::new();
    let mut samples = Vec::new();
    loop {
        let event = engine.wait_for(
            "a load update",
            |e| matches!(e, Event::Load { id, job, .. } if *id == LOAD && *job == JOB),
        );
        let Event::Load { update, .. } = event else {
            unreachable!("matched a load update")
        };
        match update {
            LoadUpdate::Second(record) => seconds.push(*record),
            LoadUpdate::Sample { conn, dir, data } => samples.push((conn, dir, data.to_vec())),
            LoadUpdate::Ended { end, summary } => {
                eprintln!("{end:?} {summary:?}"); // shown when a check fails
                return Ran {
                    seconds,
                    samples,
                    end,
                    summary: *summary,
                };
            }
        }
    }
}

/// An engine with an echo server of `spec` (e.g. `tcp-server:127.0.0.1:0`); its address.
fn echo_server(spec: &str) -> (Engine, SocketAddr) {
    let mut engine = Engine::spawn();
    engine.set_reactions(
        SERVER,
        Reactions {
            echo: true,
            ..Reactions::default()
        },
    );
    engine.start(SERVER, spec);
    let addr = engine.started(SERVER);
    (engine, addr)
}

fn assert_clean(ran: &Ran, what: &str) {
    assert_eq!(ran.end, LoadEnd::Completed, "{what}");
    assert_eq!(ran.summary.errors.total(), 0, "{what}: {:?}", ran.summary);
    assert_eq!(ran.summary.connect_errors, 0, "{what}");
}

#[test]
fn pingpong_over_every_transport_measures_each_round_trip() {
    let cases = [
        ("tcp-server:127.0.0.1:0", "tcp-client:{addr}"),
        ("tls-server:127.0.0.1:0", "tls-client:{addr},insecure"),
        ("ws-server:127.0.0.1:0", "ws://{addr}/"),
        ("ws-server:127.0.0.1:0,tls", "wss://{addr}/,insecure"),
        ("udp-server:127.0.0.1:0", "udp-client:{addr}"),
    ];
    for (server, client) in cases {
        let (mut engine, addr) = echo_server(server);
        let client = client.replace("{addr}", &addr.to_string());
        let mut plan = plan(&client, "text:ping ${conn}.${seq}");
        plan.connections = 3;
        let ran = run(&mut engine, plan);
        assert_clean(&ran, &client);
        let s = &ran.summary;
        assert_eq!(s.connections, 3, "{client}");
        assert!(s.messages_sent >= 10, "{client}: {s:?}");
        // Each message is answered before the next goes (one may be cut by the end).
        assert!(s.answers + 3 >= s.messages_sent, "{client}: {s:?}");
        assert!(s.answers <= s.messages_sent, "{client}: {s:?}");
        assert!(
            s.rtt_us.p50 > 0 && s.rtt_us.max >= s.rtt_us.p99,
            "{client}: {s:?}"
        );
        assert!(
            s.rx_bytes > 0 && s.rx_bytes <= s.tx_bytes,
            "{client}: {s:?}"
        );
        assert!(!ran.seconds.is_empty(), "{client}: a record each second");
        // The sample: the first two messages each way of each connection.
        let first: Vec<_> = ran.samples.iter().filter(|(c, _, _)| *c == 1).collect();
        assert_eq!(first.len(), 4, "{client}: {first:?}");
        assert!(
            first.contains(&&(1, Direction::Tx, b"ping 1.1".to_vec()))
                && first.contains(&&(1, Direction::Rx, b"ping 1.2".to_vec())),
            "{client}: {first:?}"
        );
    }
}

#[test]
fn stream_sends_at_the_rate_and_counts_what_comes_back() {
    let (mut engine, addr) = echo_server("tcp-server:127.0.0.1:0");
    let mut plan = plan(&format!("tcp-client:{addr}"), "text:x\\n");
    plan.payload = LoadPayload::parse(
        "text:x\\n",
        &SendOptions {
            escapes: true,
            ..SendOptions::default()
        },
    )
    .expect("payload");
    plan.mode = Mode::Stream;
    plan.connections = 2;
    plan.rate = 200;
    plan.answer = sockdbg::load::AnswerRule::new(
        "delim:0a".parse().expect("framing"),
        Some("text:x"),
        sockdbg::codec::text::TextEncoding::Utf8,
    )
    .expect("rule");
    let ran = run(&mut engine, plan);
    assert_clean(&ran, "stream");
    let s = &ran.summary;
    // 200/s with a bucket of a tenth of a second: at most 20 + 200 a second (the run may
    // end late on a loaded machine: its elapsed time says by how much).
    let most = 20 + 200 * s.elapsed_ms / 1000 + 2;
    assert!(s.messages_sent >= 100 && s.messages_sent <= most, "{s:?}");
    assert_eq!(s.tx_bytes, s.messages_sent * 2);
    // Echoed frames, each "x\n" one answer (the last may still be on its way: on a loaded
    // machine under Wine 82 of 259 were).
    assert!(
        s.answers * 2 >= s.messages_sent && s.answers <= s.messages_sent,
        "{s:?}"
    );
    assert_eq!(
        s.rtt_us,
        sockdbg::load::Rtt::default(),
        "no round trips in a stream"
    );
}

#[test]
fn connect_mode_times_each_connect_and_handshake() {
    for (server, client) in [
        ("tcp-server:127.0.0.1:0", "tcp-client:{addr}"),
        ("tls-server:127.0.0.1:0", "tls-client:{addr},insecure"),
        ("ws-server:127.0.0.1:0", "ws://{addr}/"),
    ] {
        let (mut engine, addr) = echo_server(server);
        let client = client.replace("{addr}", &addr.to_string());
        let mut plan = plan(&client, "text:unused");
        plan.mode = Mode::Connect;
        plan.connections = 4;
        plan.rate = 50;
        let ran = run(&mut engine, plan);
        assert_clean(&ran, &client);
        let s = &ran.summary;
        // 50/s with a bucket of 5 (the run may end late on a loaded machine).
        let most = 5 + 50 * s.elapsed_ms / 1000 + 2;
        assert!(
            s.connections >= 20 && s.connections <= most,
            "{client}: {s:?}"
        );
        assert_eq!(s.messages_sent, 0, "{client}");
        assert!(s.rtt_us.p50 > 0, "{client}: connects are timed");
        let up: u64 = ran.seconds.iter().map(|r| r.during.connections).sum();
        assert!(up <= s.connections, "{client}");
    }
}

/// A TCP echo server in threads that resets every `nth` connection right after accepting it
/// and answers each read after `delay`; it stops after `accepts` connections.
fn odd_server(nth: u64, delay: Duration, accepts: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for n in 1..=accepts {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            if n % nth == 0 {
                reset(stream);
                continue;
            }
            thread::spawn(move || {
                let mut stream = stream;
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    thread::sleep(delay);
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn a_server_that_resets_every_tenth_connection_is_counted() {
    let addr = odd_server(10, Duration::ZERO, 200);
    let mut engine = Engine::spawn();
    let mut plan = plan(&format!("tcp-client:{addr}"), "text:ping");
    plan.connections = 30;
    plan.rate = 200;
    let ran = run(&mut engine, plan);
    assert_eq!(ran.end, LoadEnd::Completed);
    let s = &ran.summary;
    // Connections 10, 20 and 30 are reset: at the connect, or at the first message.
    let resets = s.errors.get(LoadErrorKind::Reset) + s.errors.get(LoadErrorKind::Closed);
    assert!(resets >= 3, "{s:?}");
    assert_eq!(resets, s.errors.total(), "{s:?}");
    // Each reset connection is replaced (a reset can also hit the connect itself); the
    // others keep going.
    assert!(s.connections + s.connect_errors >= 33, "{s:?}");
    assert!(s.answers > 50, "{s:?}");
}

#[test]
fn late_answers_are_timeouts() {
    let addr = odd_server(u64::MAX, Duration::from_millis(400), 50);
    let mut engine = Engine::spawn();
    let mut plan = plan(&format!("tcp-client:{addr}"), "text:ping");
    plan.connections = 2;
    plan.timeout = Duration::from_millis(100);
    let ran = run(&mut engine, plan);
    let s = &ran.summary;
    assert!(s.errors.get(LoadErrorKind::Timeout) >= 2, "{s:?}");
    assert_eq!(s.answers, 0, "{s:?}");
    assert_eq!(s.rtt_us.max, 0, "no round trip completed: {s:?}");
}

#[test]
fn answers_that_do_not_match_are_unexpected() {
    let (mut engine, addr) = echo_server("tcp-server:127.0.0.1:0");
    let mut plan = plan(&format!("tcp-client:{addr}"), "text:ping");
    plan.answer = sockdbg::load::AnswerRule::new(
        sockdbg::codec::framing::Framing::Raw,
        Some("hex:70 6f 6e 67"),
        sockdbg::codec::text::TextEncoding::Utf8,
    )
    .expect("rule");
    plan.rate = 100;
    plan.timeout = Duration::from_millis(200);
    let ran = run(&mut engine, plan);
    let s = &ran.summary;
    // The echo never says "pong": each wait ends in an unexpected answer.
    assert!(s.errors.get(LoadErrorKind::Unexpected) >= 1, "{s:?}");
    assert_eq!(s.answers, 0, "{s:?}");
}

#[test]
fn a_refused_target_counts_connect_errors() {
    let port = common::free_tcp_port();
    let mut engine = Engine::spawn();
    let mut plan = plan(&format!("tcp-client:127.0.0.1:{port}"), "text:ping");
    plan.connections = 2;
    plan.duration = Duration::from_millis(500);
    let ran = run(&mut engine, plan);
    let s = &ran.summary;
    assert!(s.connect_errors >= 2, "{s:?}");
    assert_eq!(
        s.errors.get(LoadErrorKind::Refused),
        s.connect_errors,
        "{s:?}"
    );
    assert_eq!(s.connections, 0);
}

#[test]
fn stop_ends_a_full_speed_run_at_once() {
    let (mut engine, addr) = echo_server("tcp-server:127.0.0.1:0");
    let mut plan = plan(&format!("tcp-client:{addr}"), "text:ping");
    plan.connections = 50;
    plan.rate = 0;
    plan.duration = Duration::from_secs(600);
    plan.sample_messages = 0;
    engine.send(Command::StartLoad {
        id: LOAD,
        job: JOB,
        plan: Box::new(plan),
    });
    // Running at full speed: its first second is reported.
    engine.wait_for("the first second", |e| {
        matches!(
            e,
            Event::Load {
                update: LoadUpdate::Second(r),
                ..
            } if r.during.messages_sent > 0
        )
    });
    engine.stop(LOAD);
    // Ends within the wait's deadline, not after the 600 s it was given.
    let ran = finish(&mut engine);
    assert_eq!(ran.end, LoadEnd::Stopped);
    assert!(ran.summary.elapsed_ms < 600_000);
    assert!(ran.summary.answers > 0);
}

#[test]
fn an_unresolvable_target_ends_the_run_with_why() {
    let mut engine = Engine::spawn();
    let plan = plan("tcp-client:no-such-host.invalid:7", "text:ping");
    let ran = run(&mut engine, plan);
    assert!(matches!(ran.end, LoadEnd::Failed(_)), "{:?}", ran.end);
}
