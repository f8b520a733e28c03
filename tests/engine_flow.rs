//! Flow control over a real loopback connection: while the receiver (the window or the
//! headless driver) has not taken in more than the budget of received bytes, TCP readers
//! pause, so the peer is slowed by TCP itself and memory stays bounded; once the receiver
//! catches up, everything arrives, byte for byte.

mod common;

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

/// A client that connects to `addr` and writes `total` bytes of 0x5A, on a thread.
fn write_in_thread(addr: std::net::SocketAddr, total: usize) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_write_timeout(Some(DEADLINE))
            .expect("write timeout");
        let chunk = vec![0x5Au8; CHUNK];
        for _ in 0..total / CHUNK {
            stream.write_all(&chunk).expect("write");
        }
    })
}

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
    let writer = write_in_thread(addr, TOTAL);

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

/// A capture that cannot write (its file is a FIFO nobody reads yet) holds what it was fed
/// counted in the gauge, so the engine pauses at the budget as it does for a slow receiver
/// instead of queueing traffic for the capture without bound; once the FIFO is read, every
/// byte arrives, in the model and in the capture.
#[cfg(unix)]
#[test]
fn a_capture_that_falls_behind_holds_the_peer_back_too() {
    use sockdbg::capture::CaptureThread;
    use sockdbg::engine::EngineSettings;
    use sockdbg::intake::Intake;
    use sockdbg::model::Sessions;

    const CAPTURED_TOTAL: usize = 128 * 1024 * 1024;
    // "Writes nothing" holds once the FIFO's buffer (64 KiB on Linux) is full: what the
    // capture wrote into it was counted back, and the engine may read that much more.
    const FIFO_BUFFER: usize = 64 * 1024;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("capture.pcapng");
    let fifo_name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: mkfifo reads the NUL-terminated path and creates a FIFO; nothing else is shared.
    assert_eq!(
        unsafe { libc::mkfifo(fifo_name.as_ptr(), 0o600) },
        0,
        "mkfifo"
    );

    let (intake, engine) =
        Intake::start(EngineSettings { files_dir: None }, None).expect("engine starts");
    let mut sessions = Sessions::default();
    let (id, addr) =
        common::start_through_intake(&intake, &engine, &mut sessions, "tcp-server:127.0.0.1:0");
    let spec = sessions.get(id).expect("created").spec.clone();

    // The FIFO's reader opens it (so the capture can), then reads nothing until told to;
    // then it reads the capture to its end and counts the TCP payload in it.
    let (go, wait_for_go) = crossbeam_channel::bounded::<()>(1);
    let reader_path = fifo.clone();
    let reader = thread::spawn(move || {
        let file = std::fs::File::open(&reader_path).expect("the FIFO opens");
        wait_for_go.recv_timeout(DEADLINE).ok();
        let mut capture = pcap_file::pcapng::PcapNgReader::new(std::io::BufReader::new(file))
            .expect("a pcapng stream");
        let mut payload = 0usize;
        while let Some(block) = capture.next_block() {
            if let pcap_file::pcapng::Block::EnhancedPacket(packet) = block.expect("a block")
                && let Ok(sliced) = etherparse::SlicedPacket::from_ethernet(&packet.data)
                && let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport
            {
                payload += tcp.payload().len();
            }
        }
        payload
    });
    let capture =
        CaptureThread::start(&fifo, None, &[(id, spec, Some(addr))]).expect("capture starts");

    let writer = write_in_thread(addr, CAPTURED_TOTAL);
    let received =
        |sessions: &Sessions| sessions.get(id).map_or(0, |s| s.counters.rx_bytes as usize);

    // Everything is taken in at once, but the capture writes nothing: the engine stops at
    // the budget and the writer is held back by TCP.
    let watch_until = Instant::now() + Duration::from_millis(1500);
    let bound = IN_FLIGHT_BUDGET_BYTES + ONE_READ + FIFO_BUFFER;
    while Instant::now() < watch_until && received(&sessions) <= bound {
        if let Ok(event) = intake.receiver().recv_timeout(Duration::from_millis(10)) {
            intake.apply(event, &mut sessions, Some(&capture));
        }
    }
    let held = received(&sessions);
    assert!(
        held <= bound,
        "{held} bytes queued for a capture that writes nothing, budget {IN_FLIGHT_BUDGET_BYTES}"
    );
    assert!(
        held >= IN_FLIGHT_BUDGET_BYTES / 2,
        "only {held} bytes arrived"
    );
    assert!(!writer.is_finished(), "the peer was never slowed down");

    // The capture is read: every byte arrives, in the model and in the capture.
    go.send(()).expect("the reader waits");
    let deadline = Instant::now() + DEADLINE;
    while received(&sessions) < CAPTURED_TOTAL {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = intake.receiver().recv_timeout(left).unwrap_or_else(|e| {
            panic!(
                "stalled at {} of {CAPTURED_TOTAL} bytes: {e}",
                received(&sessions)
            )
        });
        intake.apply(event, &mut sessions, Some(&capture));
    }
    writer.join().expect("writer thread");
    capture.finish().expect("the capture is written");
    assert_eq!(reader.join().expect("reader thread"), CAPTURED_TOTAL);
    engine.shutdown();
}
