//! Serial port sessions over pseudo-terminal pairs (socat): the session opens one end, the
//! test plays the device on the other. Bytes both ways exact at 115200 and 9600 settings,
//! idle framing of the device's bursts in the log, auto-reply, a periodic send, the device
//! going away mid-stream (and, with `reconnect`, coming back), ports that cannot be opened,
//! a capture tshark reads with each packet's direction, the control lines (a
//! pseudo-terminal has none: reported as such, a DTR change refused, a break taken), and a
//! TCP relay to a serial port (a TCP client on one side, the pty on the other). Driven only through
//! `Command`/`Event`; every wait has a deadline.
#![cfg(unix)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::pty::{Device, PtyPair};
use common::{Engine, skip};
use sockdbg::capture::PcapngCapture;
use sockdbg::codec::framing::Framing;
use sockdbg::codec::reply::{MatchKind, ReplyRule};
use sockdbg::model::framed::FramedView;
use sockdbg::model::session::Sessions;
use sockdbg::protocol::{
    Command, Direction, Event, JobId, JobOutcome, PeerId, Reactions, SendTarget, SessionId,
};
use sockdbg::serial::{ModemLines, SerialControl};
use sockdbg::spec::SessionSpec;

/// Every byte value, four times: control characters, XON/XOFF, NUL and 0xFF included.
fn all_bytes() -> Vec<u8> {
    (0..4).flat_map(|_| 0..=255u8).collect()
}

/// Starts `spec` on session `id` and waits for its device to be listed: the peer.
fn open_session(engine: &mut Engine, id: SessionId, spec: &str) -> PeerId {
    engine.start(id, spec);
    engine.started(id);
    engine.note_with(id, "opened");
    engine.any_peer(id).0
}

/// A session `serial:NEAR` running on a fresh pair, the test holding the far end.
struct Opened {
    /// Kept for the session's life: dropping it hangs the device up.
    pair: PtyPair,
    engine: Engine,
    spec: SessionSpec,
    peer: PeerId,
    device: Device,
}

/// Opens [`Opened`] as session `id`; `None` when socat is missing (see `skip`).
fn opened(id: SessionId) -> Option<Opened> {
    let pair = PtyPair::open()?;
    let mut engine = Engine::spawn();
    let spec: SessionSpec = format!("serial:{}", pair.near).parse().expect("spec");
    let peer = open_session(&mut engine, id, &spec.to_string());
    let device = pair.device();
    Some(Opened {
        pair,
        engine,
        spec,
        peer,
        device,
    })
}

#[test]
fn bytes_go_both_ways_exactly_at_115200_and_9600() {
    for settings in ["", ",baud=9600,data=8,parity=none,stop=1,flow=none"] {
        let Some(pair) = PtyPair::open() else { return };
        let mut engine = Engine::spawn();
        let id = SessionId(1);
        let spec = format!("serial:{}{settings}", pair.near);
        let peer = open_session(&mut engine, id, &spec);
        let mut device = pair.device();

        let sent = all_bytes();
        device.write(&sent);
        let (received, _) = engine.traffic_bytes(id, peer, Direction::Rx, sent.len());
        assert_eq!(received, sent, "{spec}: device to session");

        engine.send_bytes(id, SendTarget::All, &sent);
        assert_eq!(
            device.read_exactly(sent.len()),
            sent,
            "{spec}: session to device"
        );
        let (logged, _) = engine.traffic_bytes(id, peer, Direction::Tx, sent.len());
        assert_eq!(logged, sent, "{spec}: what the log says was sent");
        device.assert_silent();
        engine.stop(id);
        assert_eq!(engine.stopped(id), None);
        engine.shutdown();
    }
}

#[test]
fn the_opened_note_names_the_port_and_its_settings() {
    let Some(pair) = PtyPair::open() else { return };
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    engine.start(
        id,
        &format!("serial:{},baud=9600,parity=even,stop=2", pair.near),
    );
    engine.started(id);
    let (_, note) = engine.note_with(id, "opened");
    assert_eq!(note, format!("opened {} at 9600 8E2", pair.near));
    engine.shutdown();
}

#[test]
fn idle_framing_cuts_the_device_s_bursts_at_the_silences() {
    let id = SessionId(1);
    let Some(Opened {
        pair: _pair,
        mut engine,
        spec,
        peer,
        mut device,
    }) = opened(id)
    else {
        return;
    };
    // A UART has no packets: each burst may arrive in several reads, and only the silence
    // between bursts says where a message ends.
    // The gap is wide so that a loaded machine (socat relaying the pty) cannot hold the two
    // writes of one burst apart for as long; the silences between bursts outlast it, and
    // they are timed after the engine got each burst, so they are never shorter at the
    // engine.
    const GAP_MS: u64 = 500;
    let bursts: [&[u8]; 3] = [b"$GPGGA,1*4A\r\n", b"$GPRMC,2*3B\r\n", b"OK\r\n"];
    for (n, burst) in bursts.into_iter().enumerate() {
        if n > 0 {
            // The silence that ends the previous burst: longer than the gap.
            std::thread::sleep(Duration::from_millis(GAP_MS + 100));
        }
        let (head, tail) = burst.split_at(3);
        device.write(head);
        device.write(tail);
        engine.traffic_bytes(id, peer, Direction::Rx, burst.len());
    }
    let mut sessions = Sessions::default();
    let model_id = sessions.create(spec);
    assert_eq!(
        model_id, id,
        "the model numbers sessions from 1 as the test does"
    );
    for event in engine.history().to_vec() {
        sessions.apply(event);
    }
    let log = &sessions.get(id).expect("session").log;
    let mut view = FramedView::new(Framing::Idle { gap_ms: GAP_MS });
    view.sync(log, i64::MAX, 1000);
    let frames: Vec<Vec<u8>> = (view.first_row()..view.first_row() + view.len() as u64)
        .filter_map(|row| view.get(row))
        .filter(|row| row.kind == sockdbg::model::log::EntryKind::Rx)
        .map(|row| view.row_bytes(log, row, usize::MAX))
        .collect();
    let expected: Vec<Vec<u8>> = bursts.iter().map(|b| b.to_vec()).collect();
    assert_eq!(frames, expected);
    engine.shutdown();
}

/// Sets session `id`'s one auto-reply rule: what contains `pattern` is answered `OK\r\n`.
fn answer_ok_to(engine: &mut Engine, id: SessionId, pattern: &str) {
    let rule = ReplyRule {
        match_kind: MatchKind::Contains,
        pattern: pattern.into(),
        reply: "OK\\r\\n".into(),
        ..ReplyRule::default()
    };
    let reactions = Reactions {
        on_connect: None,
        rules: vec![rule],
        echo: false,
    };
    engine.set_reactions(id, reactions);
}

#[test]
fn auto_reply_answers_the_device() {
    let Some(pair) = PtyPair::open() else { return };
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    answer_ok_to(&mut engine, id, "AT");
    engine.set_reply_framing(id, "delim:crlf");
    let peer = open_session(&mut engine, id, &format!("serial:{}", pair.near));
    let mut device = pair.device();
    // One command cut in two writes gets one answer, once its line is complete.
    device.write(b"A");
    engine.traffic_bytes(id, peer, Direction::Rx, 1);
    device.assert_silent();
    device.write(b"T\r\nAT\r\n");
    assert_eq!(device.read_exactly(8), b"OK\r\nOK\r\n");
    device.assert_silent();
    engine.note_with(id, "rule 1");
    engine.shutdown();
}

#[test]
fn a_periodic_send_reaches_the_device() {
    let Some(pair) = PtyPair::open() else { return };
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    open_session(&mut engine, id, &format!("serial:{},baud=9600", pair.near));
    let mut device = pair.device();
    let job = JobId(3);
    engine.send(Command::StartPeriodic {
        id,
        job,
        target: SendTarget::All,
        payload: Bytes::from_static(b"\x01\x03\x00\x00\x00\x01\x84\x0a").into(),
        interval_ms: 10,
        count: Some(5),
    });
    assert_eq!(
        device.read_exactly(40),
        b"\x01\x03\x00\x00\x00\x01\x84\x0a".repeat(5)
    );
    assert_eq!(engine.job_ended(job), (5, JobOutcome::Completed));
    engine.shutdown();
}

#[test]
fn the_device_going_away_mid_stream_ends_the_session_with_its_reason() {
    let Some(mut pair) = PtyPair::open() else {
        return;
    };
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    let peer = open_session(&mut engine, id, &format!("serial:{}", pair.near));
    let mut device = pair.device();
    device.write(b"last words");
    let (received, _) = engine.traffic_bytes(id, peer, Direction::Rx, 10);
    assert_eq!(received, b"last words");
    pair.close();
    let reason = engine.peer_disconnected(id, peer);
    assert_eq!(
        reason,
        format!(
            "device gone: {} (unplugged, or the other end closed)",
            pair.near
        )
    );
    assert_eq!(engine.stopped(id), Some(reason));
    engine.shutdown();
}

#[test]
fn a_missing_or_busy_port_fails_to_start_with_a_clear_reason() {
    let mut engine = Engine::spawn();
    let missing = SessionId(1);
    engine.start(missing, "serial:/dev/sockdbg-no-such-port");
    assert_eq!(
        engine.start_failed(missing),
        "cannot open /dev/sockdbg-no-such-port: no such port (is the device plugged in?)"
    );
    let Some(pair) = PtyPair::open() else { return };
    let first = SessionId(2);
    open_session(&mut engine, first, &format!("serial:{}", pair.near));
    let second = SessionId(3);
    engine.start(second, &format!("serial:{}", pair.near));
    let reason = engine.start_failed(second);
    assert!(reason.contains("in use"), "{reason}");
    engine.shutdown();
}

/// Where a pty pair's ends are linked (in a temporary directory), so that after the pair is
/// closed another can be made at the same paths: the device a `reconnect` serial session waits
/// for comes back.
struct LinkedPaths {
    _dir: tempfile::TempDir,
    near: std::path::PathBuf,
    far: std::path::PathBuf,
}

impl LinkedPaths {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (near, far) = (dir.path().join("ttyNEAR"), dir.path().join("ttyFAR"));
        Self {
            _dir: dir,
            near,
            far,
        }
    }

    /// A pty pair at these paths (`None`, having said why, where there are none).
    fn open(&self) -> Option<PtyPair> {
        PtyPair::open_linked(&self.near, &self.far)
    }
}

/// A `serial:…,reconnect` session `id` open on a linked pair: the paths, the pair, and the
/// device's peer id.
fn reconnecting_serial(
    engine: &mut Engine,
    id: SessionId,
) -> Option<(LinkedPaths, PtyPair, PeerId)> {
    let paths = LinkedPaths::new();
    let pair = paths.open()?;
    let spec = format!("serial:{},reconnect", paths.near.display());
    let peer = open_session(engine, id, &spec);
    Some((paths, pair, peer))
}

#[test]
fn with_reconnect_the_session_waits_for_the_device_and_opens_it_again() {
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    let Some((paths, mut pair, first)) = reconnecting_serial(&mut engine, id) else {
        return;
    };
    let near = &paths.near;
    let mut device = pair.device();
    device.write(b"before");
    engine.traffic_bytes(id, first, Direction::Rx, 6);

    pair.close();
    let reason = engine.peer_disconnected(id, first);
    assert!(reason.starts_with("device gone"), "{reason}");
    let (_, waiting) = engine.note_with(id, "waiting for");
    assert_eq!(
        waiting,
        format!("waiting for {} to come back (reconnect)", near.display())
    );
    // While it is away, a send says so instead of vanishing.
    engine.send_bytes(id, SendTarget::All, b"lost?");
    let warning = engine.warning_with(id, "not sent");
    assert!(warning.contains("the device is away"), "{warning}");

    let Some(again) = paths.open() else {
        return;
    };
    engine.started(id);
    engine.note_with(id, "opened");
    // A new start: the device is listed anew (peer ids count from 1 again, as after a
    // restart).
    let (second, _) = engine.any_peer(id);
    let mut device = again.device();
    device.write(b"after");
    let (received, _) = engine.traffic_bytes(id, second, Direction::Rx, 5);
    assert_eq!(received, b"after");
    engine.send_bytes(id, SendTarget::All, b"welcome back");
    assert_eq!(device.read_exactly(12), b"welcome back");
    engine.assert_no("Stopped", Duration::from_millis(100), |e| {
        matches!(e, Event::Stopped { .. })
    });
    engine.stop(id);
    assert_eq!(engine.stopped(id), None);
    engine.shutdown();
}

#[test]
fn a_periodic_send_waits_while_the_device_is_away() {
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    let Some((paths, mut pair, first)) = reconnecting_serial(&mut engine, id) else {
        return;
    };
    pair.close();
    engine.peer_disconnected(id, first);
    engine.note_with(id, "waiting for");

    // Started while the device is away: it waits, and sends all three once it is back.
    let job = JobId(5);
    engine.send(Command::StartPeriodic {
        id,
        job,
        target: SendTarget::All,
        payload: Bytes::from_static(b"P").into(),
        interval_ms: 50,
        count: Some(3),
    });
    engine.note_with(id, "periodic send waits for the device to come back");
    let Some(again) = paths.open() else {
        return;
    };
    let mut device = again.device();
    assert_eq!(device.read_exactly(3), b"PPP");
    assert_eq!(engine.job_ended(job), (3, JobOutcome::Completed));
    engine.note_with(id, "periodic send goes on");
    device.assert_silent();
    engine.shutdown();
}

#[test]
fn a_capture_holds_the_serial_bytes_with_their_direction_for_tshark() {
    let id = SessionId(1);
    let Some(Opened {
        pair: _pair,
        mut engine,
        spec,
        peer,
        mut device,
    }) = opened(id)
    else {
        return;
    };
    device.write(b"ping\r\n");
    engine.traffic_bytes(id, peer, Direction::Rx, 6);
    engine.send_bytes(id, SendTarget::All, b"\x00pong\xff");
    assert_eq!(device.read_exactly(6), b"\x00pong\xff");
    engine.traffic_bytes(id, peer, Direction::Tx, 6);

    let mut capture = PcapngCapture::new(Vec::new(), None).expect("headers");
    capture.add_session(id, &spec, None);
    for event in engine.history() {
        capture.record(event).expect("written");
    }
    assert_eq!(capture.packets(), 2);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("serial.pcapng");
    std::fs::write(&file, capture.into_inner()).expect("write the capture");
    let fields = [
        "frame.packet_flags_direction",
        "rtacser.eventtype",
        "data.data",
    ];
    let mut tshark = std::process::Command::new("tshark");
    tshark.arg("-r").arg(&file).args(["-T", "fields"]);
    for field in fields {
        tshark.args(["-e", field]);
    }
    let out = match tshark.output() {
        Ok(out) => out,
        Err(e) => return skip(&format!("tshark is not installed ({e})")),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark cannot read it: {stderr}");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "0x00000001\t0x02\t70696e670d0a", // inbound, DATA_RX_START, ping\r\n
            "0x00000002\t0x01\t00706f6e67ff", // outbound, DATA_TX_START
        ],
        "{stderr}"
    );
    engine.shutdown();
}

/// The next [`Event::SerialLines`] of session `id`.
fn lines_of(engine: &mut Engine, id: SessionId) -> ModemLines {
    match engine.wait_for(
        "serial lines",
        |e| matches!(e, Event::SerialLines { id: i, .. } if *i == id),
    ) {
        Event::SerialLines { lines, .. } => lines,
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn control_lines_are_reported_set_and_refused_where_the_port_has_none() {
    let id = SessionId(1);
    let Some(Opened {
        pair: _pair,
        mut engine,
        peer,
        mut device,
        ..
    }) = opened(id)
    else {
        return;
    };
    // A pseudo-terminal reports no modem lines; DTR and RTS stand as the OS left them.
    let opened = lines_of(&mut engine, id);
    assert_eq!(opened, ModemLines::default());
    assert_eq!(opened.inputs, None);

    // It has no DTR to drop: the warning says so and the lines stay as they were.
    engine.send(Command::SerialControl {
        id,
        control: SerialControl::Dtr(false),
    });
    let warning = engine.warning_with(id, "DTR off failed");
    assert!(warning.contains("the port has no modem lines"), "{warning}");
    assert!(lines_of(&mut engine, id).dtr);

    // A break it takes (the line discipline has nothing to hold at space): noted.
    engine.send(Command::SerialControl {
        id,
        control: SerialControl::Break,
    });
    let (_, note) = engine.note_with(id, "break");
    assert_eq!(note, "break (250 ms)");
    // The bytes go on after it, both ways.
    engine.send_bytes(id, SendTarget::All, b"after");
    assert_eq!(device.read_exactly(5), b"after");
    device.write(b"ok");
    let (got, _) = engine.traffic_bytes(id, peer, Direction::Rx, 2);
    assert_eq!(got, b"ok");

    // Another kind of session refuses control lines.
    let server = SessionId(2);
    engine.start(server, "tcp-server:127.0.0.1:0");
    engine.started(server);
    engine.send(Command::SerialControl {
        id: server,
        control: SerialControl::Rts(false),
    });
    let refused = engine.warning_with(server, "not a serial port");
    assert!(refused.contains("DTR, RTS and break"), "{refused}");
    engine.shutdown();
}

#[test]
fn the_os_lists_its_ports_without_failing() {
    // What the machine has varies (often nothing in a container); the listing must answer
    // and name each port once.
    let ports = sockdbg::engine::list_serial_ports().expect("the OS lists its ports");
    let mut paths: Vec<&str> = ports.iter().map(|p| p.path.as_str()).collect();
    paths.dedup();
    assert_eq!(paths.len(), ports.len(), "{ports:?}");
}

#[test]
fn a_relay_to_a_serial_port_carries_a_tcp_client_to_the_uart_both_ways() {
    use std::io::Write;
    let Some(mut pair) = PtyPair::open() else {
        return;
    };
    let mut engine = Engine::spawn();
    let relay = SessionId(1);
    let spec = format!("relay:127.0.0.1:0,to=serial:{},baud=9600", pair.near);
    engine.start(relay, &spec);
    let addr = engine.started(relay);
    let mut client = common::tcp_connect(addr);
    let peer = engine.peer_connected(relay, client.local_addr().expect("local address"));
    let (_, note) = engine.note_with(relay, "opened");
    assert_eq!(note, format!("opened {} at 9600 8N1", pair.near));
    let mut device = pair.device();

    // Up: the client to the UART; down: the UART to the client; both logged exactly.
    let sent = all_bytes();
    client.write_all(&sent).expect("the client writes");
    assert_eq!(device.read_exactly(sent.len()), sent, "client to device");
    let (up, _) = engine.traffic_bytes(relay, peer, Direction::Up, sent.len());
    assert_eq!(up, sent, "the log's up direction");
    let answer: Vec<u8> = sent.iter().rev().copied().collect();
    device.write(&answer);
    assert_eq!(
        common::read_exactly(&mut client, answer.len()),
        answer,
        "device to client"
    );
    let (down, _) = engine.traffic_bytes(relay, peer, Direction::Down, answer.len());
    assert_eq!(down, answer, "the log's down direction");

    // One client at a time: a second one is refused while the first holds the port.
    let mut second = common::tcp_connect(addr);
    engine.note_with(relay, "max-clients=1 reached");
    common::assert_tcp_closed(&mut second);

    // The device goes away mid-stream: the pair ends with the device gone, on the target's
    // side, and the client is closed; the relay goes on listening.
    device.write(b"half a li");
    assert_eq!(common::read_exactly(&mut client, 9), b"half a li");
    pair.close();
    let reason = engine.peer_disconnected(relay, peer);
    assert_eq!(
        reason,
        format!(
            "target side: device gone: {} (unplugged, or the other end closed)",
            pair.near
        )
    );
    common::assert_tcp_closed(&mut client);
    engine.stop(relay);
    assert_eq!(engine.stopped(relay), None);
    engine.shutdown();
}

/// A serial port has no half-close: a client's end ends its pair once the device has had a
/// moment to answer, so the port is free for the next client.
#[test]
fn a_serial_relay_serves_the_next_client_after_one_leaves() {
    use std::io::Write;
    let Some(pair) = PtyPair::open() else {
        return;
    };
    let mut engine = Engine::spawn();
    let relay = SessionId(1);
    let spec = format!("relay:127.0.0.1:0,to=serial:{}", pair.near);
    engine.start(relay, &spec);
    let addr = engine.started(relay);
    let mut device = pair.device();

    // The first client sends a command and half-closes (`nc -N`): the answer still reaches it.
    let mut first = common::tcp_connect(addr);
    let peer = engine.peer_connected(relay, first.local_addr().expect("local address"));
    first.write_all(b"AT\r").expect("the client writes");
    first
        .shutdown(std::net::Shutdown::Write)
        .expect("half-closes");
    assert_eq!(device.read_exactly(3), b"AT\r");
    device.write(b"OK\r\n");
    assert_eq!(common::read_exactly(&mut first, 4), b"OK\r\n");
    assert_eq!(engine.peer_disconnected(relay, peer), "closed by peer");
    common::assert_tcp_closed(&mut first);

    // The next client gets the port.
    let mut second = common::tcp_connect(addr);
    engine.peer_connected(relay, second.local_addr().expect("local address"));
    second.write_all(b"second").expect("the client writes");
    assert_eq!(device.read_exactly(6), b"second");
    engine.stop(relay);
    assert_eq!(engine.stopped(relay), None);
    engine.shutdown();
}

#[test]
fn with_idle_framing_a_rule_matches_the_device_s_burst_not_each_read() {
    let Some(pair) = PtyPair::open() else { return };
    let mut engine = Engine::spawn();
    let id = SessionId(1);
    answer_ok_to(&mut engine, id, "AT+GMR");
    // The gap must outlast the wait between the two halves below: the engine's Traffic event
    // reaching this thread, which a loaded machine may delay by far more than the 200 ms the
    // test had, splitting the command into two bursts.
    const GAP: Duration = Duration::from_millis(1000);
    engine.set_reply_framing(id, "idle:1000");
    let peer = open_session(&mut engine, id, &format!("serial:{}", pair.near));
    let mut device = pair.device();
    // A command in two reads (this thread saw the first before writing the second), within
    // the gap: no read holds it, the burst does.
    device.write(b"AT+");
    engine.traffic_bytes(id, peer, Direction::Rx, 3);
    device.write(b"GMR\r\n");
    engine.traffic_bytes(id, peer, Direction::Rx, 5);
    assert_eq!(device.read_exactly(4), b"OK\r\n");
    device.assert_silent();
    engine.note_with(id, "rule 1");
    // The next burst, after a silence (the OK came only once the gap had passed), is matched
    // on its own: it holds no command. Nothing comes, also once its gap has passed.
    device.write(b"GMR\r\n");
    engine.traffic_bytes(id, peer, Direction::Rx, 5);
    let late = device.next_chunk(GAP + common::QUIET);
    assert_eq!(late, None, "a reply to the burst that holds no command");
    engine.shutdown();
}
