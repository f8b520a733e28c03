//! Flow control over a real loopback connection: while the receiver (the window or the
//! headless driver) has not taken in more than the budget of received bytes, TCP readers
//! pause, so the peer is slowed by TCP itself and memory stays bounded; once the receiver
//! catches up, everything arrives, byte for byte.

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use sockdbg::engine::sink::IN_FLIGHT_BUDGET_BYTES;
use sockdbg::engine::{EngineHandle, EventSink, InFlight};
use sockdbg::protocol::{Command, Event, SessionId};

const TOTAL: usize = 256 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;
/// One read may land after the check: the engine reads at most 256 KiB at a time.
const ONE_READ: usize = 256 * 1024;
const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn readers_pause_while_the_receiver_is_behind_and_resume_when_it_catches_up() {
    let (tx, events) = crossbeam_channel::unbounded();
    let in_flight = InFlight::default();
    let sink = EventSink::without_waker(tx).with_in_flight(in_flight.clone());
    let engine = EngineHandle::spawn(sink).expect("engine starts");
    let id = SessionId(1);
    engine.send(Command::Start {
        id,
        spec: "tcp-server:127.0.0.1:0".parse().expect("spec"),
    });
    let addr = loop {
        match events.recv_timeout(DEADLINE) {
            Ok(Event::Started { local_addr, .. }) => break local_addr,
            Ok(Event::StartFailed { reason, .. }) => panic!("{reason}"),
            Ok(_) => {}
            Err(e) => panic!("no Started: {e}"),
        }
    };
    let writer = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_write_timeout(Some(DEADLINE))
            .expect("write timeout");
        let chunk = vec![0x5Au8; CHUNK];
        for _ in 0..TOTAL / CHUNK {
            stream.write_all(&chunk).expect("write");
        }
    });

    // The receiver takes nothing in: the gauge climbs to the budget and stops there, and the
    // writer is held back by TCP.
    let watch_until = Instant::now() + Duration::from_millis(1500);
    let mut peak = 0;
    while Instant::now() < watch_until {
        peak = peak.max(in_flight.bytes());
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        peak <= IN_FLIGHT_BUDGET_BYTES + ONE_READ,
        "{peak} bytes waiting, budget {IN_FLIGHT_BUDGET_BYTES}"
    );
    assert!(
        peak >= IN_FLIGHT_BUDGET_BYTES / 2,
        "only {peak} bytes arrived"
    );
    assert!(!writer.is_finished(), "the peer was never slowed down");

    // The receiver catches up: every byte arrives, exactly once.
    let deadline = Instant::now() + DEADLINE;
    let mut received = 0usize;
    while received < TOTAL {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("stalled at {received} of {TOTAL} bytes: {e}"));
        in_flight.taken(event.traffic_len());
        if let Event::Traffic { data, .. } = &event {
            assert!(data.iter().all(|&b| b == 0x5A), "bytes altered");
            received += event.received_len();
        }
    }
    assert_eq!(received, TOTAL);
    writer.join().expect("writer thread");
    engine.shutdown();
}
