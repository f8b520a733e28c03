//! Scenario jobs in the engine against real loopback peers: every statement, replies split
//! across reads and glued into one, timeouts with what arrived, captures, nested repeats,
//! frames, per-client runs on servers, UDP, TLS and WebSocket, several sessions, send-file.
//! Peers are std sockets in threads (or the engine's own sessions); every wait has a deadline.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{Engine, accept, read_exactly, tcp_connect, udp_socket};
use sockdbg::protocol::{
    Command, Event, FileError, Gone, JobFailure, JobId, ScenarioClients, ScenarioRun,
    ScenarioUpdate, SessionId, StartFailure, StepFailure, StepOutcome,
};
use sockdbg::scenario::{Scenario, parse};

fn scenario(text: &str) -> Arc<Scenario> {
    let known = [("who".to_string(), "tester".to_string())];
    Arc::new(parse(text, &known).unwrap_or_else(|e| panic!("{text}\n{e:?}")))
}

fn start_job(
    engine: &Engine,
    id: SessionId,
    job: JobId,
    text: &str,
    others: Vec<SessionId>,
    clients: ScenarioClients,
) {
    start_job_in(engine, id, job, text, others, clients, PathBuf::from("."));
}

fn start_job_in(
    engine: &Engine,
    id: SessionId,
    job: JobId,
    text: &str,
    others: Vec<SessionId>,
    clients: ScenarioClients,
    base_dir: PathBuf,
) {
    engine.send(Command::StartScenario {
        id,
        job,
        run: Box::new(ScenarioRun {
            scenario: scenario(text),
            others,
            start: Vec::new(),
            vars: vec![("who".to_string(), "tester".to_string())],
            clients,
            base_dir,
        }),
    });
}

/// A fresh engine with a TCP client session to `addr` running `text` as `job`.
fn client_job(addr: SocketAddr, job: JobId, text: &str) -> (Engine, SessionId, JobId) {
    let engine = Engine::spawn();
    let id = SessionId(1);
    engine.start(id, &format!("tcp-client:{addr}"));
    start_job(&engine, id, job, text, Vec::new(), ScenarioClients::First);
    (engine, id, job)
}

/// Starts a server session `spec` as `id`, then `text` as `job` on it; returns the address
/// it listens on once the job watches it.
fn server_job(
    engine: &mut Engine,
    (id, spec): (SessionId, &str),
    job: JobId,
    text: &str,
    clients: ScenarioClients,
) -> SocketAddr {
    engine.start(id, spec);
    let addr = engine.started(id);
    start_job(engine, id, job, text, Vec::new(), clients);
    attached(engine, job);
    addr
}

/// Waits until `job` watches its sessions (before a peer talks to an already running one).
fn attached(engine: &mut Engine, job: JobId) {
    engine.wait_for("the job attached", |e| {
        matches!(e, Event::Scenario { job: j, update: ScenarioUpdate::Attached, .. } if *j == job)
    });
}

/// Every update of `job` until its `Ended`.
fn until_ended(engine: &mut Engine, job: JobId) -> Vec<ScenarioUpdate> {
    let mut updates = Vec::new();
    loop {
        let event = engine.wait_for(
            "a scenario update",
            |e| matches!(e, Event::Scenario { job: j, .. } if *j == job),
        );
        let Event::Scenario { update, .. } = event else {
            unreachable!("matched a scenario update");
        };
        let ended = matches!(update, ScenarioUpdate::Ended { .. });
        updates.push(update);
        if ended {
            return updates;
        }
    }
}

/// `(line, outcome)` of every step that ended, in order.
fn steps(updates: &[ScenarioUpdate]) -> Vec<(u32, StepOutcome)> {
    updates
        .iter()
        .filter_map(|u| match u {
            ScenarioUpdate::StepEnded { at, outcome, .. } => Some((at.line, outcome.clone())),
            _ => None,
        })
        .collect()
}

/// `(passed, failed)` cases over every run.
fn cases(updates: &[ScenarioUpdate]) -> (usize, usize) {
    updates.iter().fold((0, 0), |(p, f), u| match u {
        ScenarioUpdate::RunEnded { passed, failed, .. } => (p + passed, f + failed),
        _ => (p, f),
    })
}

fn passed(captures: &[(&str, &str)]) -> StepOutcome {
    StepOutcome::Passed {
        captures: captures
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn ok() -> StepOutcome {
    passed(&[])
}

/// Reads until `stream` has given `len` bytes or closed.
fn read_len(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    read_exactly(stream, len)
}

fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read to the end");
    out
}

fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

#[test]
fn split_and_glued_replies_captures_nested_repeats_and_close() {
    let (listener, addr) = listener();
    let peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        assert_eq!(read_len(&mut stream, 6), b"READ\r\n");
        // One reply split across two writes, far enough apart to be two reads.
        stream.write_all(b"TEM").expect("write");
        thread::sleep(Duration::from_millis(50));
        stream.write_all(b"P=21.5\r\n").expect("write");
        let ack = read_len(&mut stream, 10);
        // Two replies glued into one write.
        stream.write_all(b"OK\r\nOK\r\n").expect("write");
        let rest = read_to_end(&mut stream);
        (ack, rest)
    });
    let (mut engine, _, job) = client_job(
        addr,
        JobId(7),
        "send text:READ\\r\\n
expect regex:TEMP=(?P<t>[0-9.]+)\\r\\n within 3000
send text:ACK ${t}\\r\\n
expect text:OK within 3000
expect text:OK within 3000
repeat 2
  repeat 3
    send text:n${seq};
  end
end
close
",
    );
    let updates = until_ended(&mut engine, job);
    let (ack, rest) = peer.join().expect("peer");
    assert_eq!(ack, b"ACK 21.5\r\n");
    assert_eq!(
        rest, b"n3;n4;n5;n6;n7;n8;",
        "seq counts every send of the run"
    );
    let got = steps(&updates);
    assert_eq!(got[1], (2, passed(&[("t", "21.5")])));
    assert!(
        got.iter()
            .all(|(_, o)| matches!(o, StepOutcome::Passed { .. })),
        "{got:#?}"
    );
    assert_eq!(
        got.len(),
        3 + 2 + 6 + 2 + 1 + 1,
        "sends and repeats all reported"
    );
    assert_eq!(cases(&updates), (1, 0));
    assert!(matches!(
        updates.last(),
        Some(ScenarioUpdate::Ended {
            runs: 1,
            refused: None
        })
    ));
}

/// The first case's window is long (2 s, spent in full since OK never comes) so that the
/// peer's ERR is sure to arrive within it however late the peer thread runs: the timeout
/// reports all of it, and the second case's `expect nothing` cannot catch late bytes, since
/// everything the peer sends before `done` was received (and reported) by then.
#[test]
fn a_timeout_reports_what_arrived_and_the_next_case_starts_clean() {
    let (listener, addr) = listener();
    let peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        stream.write_all(b"ERR\r\n").expect("write");
        // Quiet until the second case's `expect nothing` has passed, then close.
        let mut buf = [0; 4];
        assert_eq!(stream.read(&mut buf).expect("read"), 4);
        assert_eq!(&buf, b"done");
    });
    let (mut engine, _, job) = client_job(
        addr,
        JobId(1),
        "case first
  expect text:OK within 2000
case second
  expect nothing within 50
  send text:done
  expect closed within 3000
",
    );
    let updates = until_ended(&mut engine, job);
    peer.join().expect("peer");
    let got = steps(&updates);
    let (
        line,
        StepOutcome::Failed(StepFailure::Timeout {
            expected,
            within,
            received,
        }),
    ) = &got[0]
    else {
        panic!("a timeout: {got:#?}");
    };
    assert_eq!((*line, expected.as_str()), (2, "text:OK"));
    assert_eq!(*within, Duration::from_millis(2000));
    assert_eq!(&received[..], b"ERR\r\n");
    let elapsed = updates.iter().find_map(|u| match u {
        ScenarioUpdate::StepEnded { at, elapsed, .. } if at.line == 2 => Some(*elapsed),
        _ => None,
    });
    assert!(
        elapsed.is_some_and(|e| e >= Duration::from_millis(2000)),
        "{elapsed:?}"
    );
    assert_eq!(&got[1..], &[(4, ok()), (5, ok()), (6, ok())]);
    assert_eq!(cases(&updates), (1, 1));
}

#[test]
fn until_loops_set_sleep_and_expect_nothing_catching_bytes() {
    let (listener, addr) = listener();
    let peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        for answer in [&b"BUSY\r\n"[..], b"BUSY\r\n", b"READY\r\n"] {
            assert_eq!(read_len(&mut stream, 7), b"STATUS?");
            stream.write_all(answer).expect("write");
        }
        // A READY that reached the engine after the third 200 ms sleep ended is seen one poll
        // later: such polls go unanswered (an answer could reach `expect nothing` instead of
        // `late`). Only polls may come before the go.
        let mut polls = 0;
        let go = loop {
            let next = read_len(&mut stream, 7);
            if next != b"STATUS?" {
                break next;
            }
            polls += 1;
        };
        assert_eq!(
            [go, read_len(&mut stream, 4)].concat(),
            b"go tester 5",
            "after {polls} more polls"
        );
        stream.write_all(b"late").expect("write");
        read_to_end(&mut stream)
    });
    let (mut engine, id, job) = client_job(
        addr,
        JobId(1),
        "set n = 5
repeat until contains:READY within 5000
  send text:STATUS?
  sleep 200
end
send text:go ${who} ${n}
expect nothing within 3000
",
    );
    let updates = until_ended(&mut engine, job);
    let got = steps(&updates);
    assert_eq!(got[0], (1, passed(&[("n", "5")])));
    // Two BUSY answers did not end the loop: three polls at least (one more when the READY
    // came after a sleep had ended, on a slow machine).
    assert!(
        got.iter().filter(|(line, _)| *line == 3).count() >= 3,
        "three polls: {got:#?}"
    );
    assert!(got.contains(&(2, ok())), "the loop ended on READY");
    let last = got.last().expect("steps");
    assert_eq!(
        last,
        &(
            7,
            StepOutcome::Failed(StepFailure::Unexpected {
                received: "late".into()
            })
        )
    );
    engine.stop(id);
    peer.join().expect("peer");
}

#[test]
fn frames_are_matched_whole_and_others_passed_over() {
    let (listener, addr) = listener();
    let peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        // Two frames glued, then a third split inside its header.
        stream
            .write_all(b"\x01\x00\x00\x00a\x02\x00\x00\x00bb\x03")
            .expect("write");
        thread::sleep(Duration::from_millis(50));
        stream.write_all(b"\x00\x00\x00ccc").expect("write");
        read_to_end(&mut stream)
    });
    let (mut engine, id, job) = client_job(
        addr,
        JobId(1),
        "framing len:u32le
expect hex-starts-with:02 00 within 3000
expect contains:ccc within 3000
expect hex:01 within 100
",
    );
    let updates = until_ended(&mut engine, job);
    let got = steps(&updates);
    assert_eq!(&got[..2], &[(2, ok()), (3, ok())]);
    assert!(
        matches!(&got[2], (4, StepOutcome::Failed(StepFailure::Timeout { received, .. })) if received.is_empty()),
        "the first frame was passed over for good: {got:#?}"
    );
    engine.stop(id);
    peer.join().expect("peer");
}

#[test]
fn a_server_runs_the_scenario_for_each_client_with_its_own_variables() {
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    let job = JobId(3);
    let addr = server_job(
        &mut engine,
        (id, "tcp-server:127.0.0.1:0"),
        job,
        "expect regex:HELLO (?P<name>\\w+)\\r\\n within 5000
send text:HI ${name} ${seq}\\r\\n
expect closed within 5000
",
        ScenarioClients::Each,
    );
    let clients: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|name| {
            thread::spawn(move || {
                let mut stream = tcp_connect(addr);
                stream
                    .write_all(format!("HELLO {name}\r\n").as_bytes())
                    .expect("write");
                let want = format!("HI {name} 1\r\n");
                let got = read_len(&mut stream, want.len());
                assert_eq!(String::from_utf8_lossy(&got), want);
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
    let mut ended = 0;
    let mut passed_cases = 0;
    while ended < 2 {
        let event = engine.wait_for("a run's end", |e| {
            matches!(
                e,
                Event::Scenario {
                    update: ScenarioUpdate::RunEnded { .. },
                    ..
                }
            )
        });
        if let Event::Scenario {
            update: ScenarioUpdate::RunEnded { passed, .. },
            ..
        } = event
        {
            passed_cases += passed;
        }
        ended += 1;
    }
    assert_eq!(passed_cases, 2);
    engine.send(Command::CancelJob { id, job });
    let updates = until_ended(&mut engine, job);
    assert!(matches!(
        updates.last(),
        Some(ScenarioUpdate::Ended { runs: 2, .. })
    ));
}

#[test]
fn udp_server_and_client_scenarios_and_a_second_session() {
    let mut engine = Engine::spawn();
    // A UDP server simulating a device, run per source.
    let server = SessionId(1);
    let job = JobId(1);
    let server_addr = server_job(
        &mut engine,
        (server, "udp-server:127.0.0.1:0"),
        job,
        "expect text:ping within 5000\nsend text:pong\n",
        ScenarioClients::First,
    );
    let client = udp_socket("127.0.0.1");
    client.send_to(b"ping", server_addr).expect("send");
    let mut buf = [0; 16];
    let (n, _) = client.recv_from(&mut buf).expect("pong");
    assert_eq!(&buf[..n], b"pong");
    let updates = until_ended(&mut engine, job);
    assert_eq!(cases(&updates), (1, 0));
    // A UDP client and a second session (a TCP client) in one scenario.
    let device = udp_socket("127.0.0.1");
    let device_addr = device.local_addr().expect("addr");
    let (listener, log_addr) = listener();
    let log_peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        read_to_end(&mut stream)
    });
    let udp = SessionId(2);
    let log = SessionId(3);
    engine.start(udp, &format!("udp-client:{device_addr}"));
    engine.start(log, &format!("tcp-client:{log_addr}"));
    engine.started(log);
    let job = JobId(2);
    start_job(
        &engine,
        udp,
        job,
        "session dev udp-client:127.0.0.1:9
session log tcp-client:127.0.0.1:9
send hex:01 ${seq}
expect hex:02 ${seq} within 5000
use log
send text:seen ${seq}
close
",
        vec![log],
        ScenarioClients::First,
    );
    let (n, from) = device.recv_from(&mut buf).expect("request");
    assert_eq!(&buf[..n], &[1, 1]);
    device.send_to(&[2, 1], from).expect("reply");
    let updates = until_ended(&mut engine, job);
    assert_eq!(cases(&updates), (1, 0), "{updates:#?}");
    assert_eq!(log_peer.join().expect("log"), b"seen 2");
}

#[test]
fn websocket_and_tls_sessions_run_scenarios_on_both_ends() {
    let mut engine = Engine::spawn();
    for (n, server_spec, client_spec) in [
        (1, "ws-server:127.0.0.1:0", "ws://{addr}/"),
        (3, "tls-server:127.0.0.1:0", "tls-client:{addr},insecure"),
    ] {
        let server = SessionId(n);
        let client = SessionId(n + 1);
        let server_job_id = JobId(n);
        let addr = server_job(
            &mut engine,
            (server, server_spec),
            server_job_id,
            "expect text:hello within 5000\nsend text:HELLO\\n\n",
            ScenarioClients::First,
        );
        engine.start(client, &client_spec.replace("{addr}", &addr.to_string()));
        let client_job = JobId(n + 1);
        start_job(
            &engine,
            client,
            client_job,
            "send text:hello\nexpect text:HELLO within 5000\n",
            Vec::new(),
            ScenarioClients::First,
        );
        let client_updates = until_ended(&mut engine, client_job);
        let server_updates = until_ended(&mut engine, server_job_id);
        assert_eq!(
            cases(&client_updates),
            (1, 0),
            "{server_spec}: {client_updates:#?}"
        );
        assert_eq!(
            cases(&server_updates),
            (1, 0),
            "{server_spec}: {server_updates:#?}"
        );
    }
}

#[test]
fn send_file_streams_the_file_relative_to_the_scenario() {
    let dir = common::temp_dir("scenario");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("blob.bin"), &data).expect("write");
    let (listener, addr) = listener();
    let len = data.len();
    let peer = thread::spawn(move || {
        let (mut stream, _) = accept(&listener);
        let got = read_len(&mut stream, len);
        stream.write_all(b"got it").expect("write");
        // Open until the scenario closes it, after its last step.
        assert!(read_to_end(&mut stream).is_empty());
        got
    });
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    engine.start(id, &format!("tcp-client:{addr}"));
    let job = JobId(1);
    start_job_in(
        &engine,
        id,
        job,
        "send-file blob.bin\nexpect text:got it within 5000\nsend-file missing.bin\n",
        Vec::new(),
        ScenarioClients::First,
        dir.path().to_path_buf(),
    );
    let updates = until_ended(&mut engine, job);
    // The case ended at the failed send-file; stopping the session closes the connection.
    engine.stop(id);
    assert_eq!(peer.join().expect("peer"), data);
    let got = steps(&updates);
    assert_eq!(&got[..2], &[(1, ok()), (2, ok())]);
    assert!(
        matches!(&got[2], (3, StepOutcome::Failed(StepFailure::File(FileError::Open { name, .. }))) if name.ends_with("missing.bin"))
    );
}

#[test]
fn an_unreachable_peer_or_a_stopped_session_fails_the_steps() {
    let mut engine = Engine::spawn();
    let closed = {
        let (listener, addr) = listener();
        drop(listener);
        addr
    };
    let id = SessionId(1);
    engine.start(id, &format!("tcp-client:{closed}"));
    let job = JobId(1);
    start_job(
        &engine,
        id,
        job,
        "send text:x\n",
        Vec::new(),
        ScenarioClients::First,
    );
    let updates = until_ended(&mut engine, job);
    let got = steps(&updates);
    match &got[..] {
        [(1, StepOutcome::Failed(StepFailure::SessionDown(why)))] => {
            assert!(
                matches!(why, Gone::StartFailed(StartFailure::Connect { .. })),
                "{why:?}"
            );
        }
        // The session ended before the job could attach to it.
        [] => assert!(matches!(
            updates.last(),
            Some(ScenarioUpdate::Ended {
                refused: Some(_),
                ..
            })
        )),
        other => panic!("{other:#?}"),
    }
    // A job on a session that does not exist is refused at once.
    start_job(
        &engine,
        SessionId(9),
        JobId(2),
        "send text:x\n",
        Vec::new(),
        ScenarioClients::First,
    );
    let updates = until_ended(&mut engine, JobId(2));
    assert!(
        matches!(
            &updates[..],
            [ScenarioUpdate::Ended {
                runs: 0,
                refused: Some(JobFailure::NotRunning)
            }]
        ),
        "{updates:#?}"
    );
}

#[test]
fn a_job_that_starts_its_sessions_sees_their_first_bytes() {
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    let job = JobId(1);
    engine.send(Command::StartScenario {
        id,
        job,
        run: Box::new(ScenarioRun {
            scenario: scenario("expect text:first\nsend text:second\n"),
            others: Vec::new(),
            start: vec![(id, "tcp-server:127.0.0.1:0".parse().expect("spec"))],
            vars: Vec::new(),
            clients: ScenarioClients::First,
            base_dir: PathBuf::from("."),
        }),
    });
    // No wait for the job: the client talks the moment the server listens.
    let addr = engine.started(id);
    let mut stream = tcp_connect(addr);
    stream.write_all(b"first").expect("write");
    assert_eq!(read_len(&mut stream, 6), b"second");
    let updates = until_ended(&mut engine, job);
    assert_eq!(cases(&updates), (1, 0));
}
