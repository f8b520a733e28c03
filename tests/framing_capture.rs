//! Framing and capture end to end: a python-style client writes three `struct.pack('i')`
//! length-prefixed messages in one write, and the model's framed view shows three frames;
//! `--headless --framing len:u32le --capture` prints one jsonl record per frame and writes a
//! pcapng whose payloads, read back with a pcapng parser, are the bytes sent, byte for byte
//! (and, when tshark is installed, tshark lists the packets). Loopback only; every wait has a
//! deadline.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{DEADLINE, Engine, free_tcp_port, tcp_connect};
use pcap_file::pcapng::{Block, PcapNgReader};
use sockdbg::model::framed::FramedView;
use sockdbg::model::{EntryKind, Sessions};
use sockdbg::protocol::{Direction, Event, SessionId};

const BIN: &str = env!("CARGO_BIN_EXE_sockdbg");

/// `struct.pack('i', len(m)) + m` for each message, concatenated.
fn packed(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        out.extend_from_slice(&(m.len() as i32).to_le_bytes());
        out.extend_from_slice(m);
    }
    out
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

#[test]
fn three_length_prefixed_messages_in_one_write_are_three_frames() {
    let gbk = [0xce, 0xc2, 0xb6, 0xc8]; // 温度
    let messages: [&[u8]; 3] = [b"first", &gbk, b"third!"];
    let mut engine = Engine::spawn();
    let mut sessions = Sessions::default();
    let id = sessions.create("tcp-server:127.0.0.1:0".parse().expect("spec"));
    assert_eq!(id, SessionId(1));
    engine.start(id, "tcp-server:127.0.0.1:0");
    let local = engine.started(id);
    sessions.apply(Event::Started {
        id,
        local_addr: local,
        at: std::time::SystemTime::now(),
    });
    let mut client = tcp_connect(local);
    client.write_all(&packed(&messages)).expect("one write");
    let client_addr = client.local_addr().expect("addr");
    let peer = engine.peer_connected(id, client_addr);
    let total = packed(&messages).len();
    let (bytes, _) = engine.traffic_bytes(id, peer, Direction::Rx, total);
    assert_eq!(bytes, packed(&messages));
    for event in engine.history().to_vec() {
        if !matches!(event, Event::Started { .. }) {
            sessions.apply(event);
        }
    }
    let session = sessions.get(id).expect("session");
    let mut view = FramedView::new("len:u32le".parse().expect("framing"));
    assert!(view.sync(&session.log, now_micros(), usize::MAX));
    let frames: Vec<Vec<u8>> = (view.first_row()..view.first_row() + view.len() as u64)
        .filter_map(|row| view.get(row))
        .filter(|row| row.kind == EntryKind::Rx)
        .map(|row| view.row_bytes(&session.log, row, usize::MAX))
        .collect();
    assert_eq!(frames.len(), 3, "{frames:02x?}");
    for (frame, message) in frames.iter().zip(messages) {
        assert_eq!(&frame[4..], message);
    }
    assert_eq!(view.pending_bytes(), 0);
    engine.shutdown();
}

/// Packets of a pcapng file: (source port, destination port, TCP payload).
fn tcp_payloads(path: &std::path::Path) -> Vec<(u16, u16, Vec<u8>)> {
    let file = std::fs::read(path).expect("capture file");
    let mut reader = PcapNgReader::new(&file[..]).expect("a pcapng file");
    let mut out = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(packet) = block.expect("a valid block") {
            let sliced =
                etherparse::SlicedPacket::from_ethernet(&packet.data).expect("Ethernet/IP/TCP");
            if let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport {
                out.push((
                    tcp.source_port(),
                    tcp.destination_port(),
                    tcp.payload().to_vec(),
                ));
            }
        }
    }
    out
}

/// Connects to the headless server on `port`, retrying until it listens (killing it and
/// failing after the deadline).
fn connect_when_up(child: &mut std::process::Child, port: u16) -> TcpStream {
    let deadline = Instant::now() + DEADLINE;
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                child.kill().ok();
                panic!("server did not come up: {e}");
            }
        }
    };
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    stream
}

/// Waits for the child to exit (killing it and failing after the deadline, saying `why`).
fn wait_exit(child: &mut std::process::Child, why: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + 2 * DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("sockdbg did not exit {why}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Payload bytes of the capture's TCP packets going to (`to_port`) or from the port.
fn stream_bytes(packets: &[(u16, u16, Vec<u8>)], port: u16, to_port: bool) -> Vec<u8> {
    packets
        .iter()
        .filter(|(src, dst, _)| if to_port { *dst == port } else { *src == port })
        .flat_map(|(_, _, p)| p.clone())
        .collect()
}

#[test]
fn headless_frames_as_jsonl_and_captures_every_byte_to_pcapng() {
    let port = free_tcp_port();
    let dir = common::temp_dir("capture");
    let pcap = dir.path().join("run.pcapng");
    let mut child = Command::new(BIN)
        .args([
            "--headless",
            &format!("tcp-server:127.0.0.1:{port}"),
            "--framing",
            // A tight maximum makes resynchronization quick: see the test's garbage.
            "len:u32le,max=64",
            "--format",
            "jsonl",
            "--echo",
            "--once",
            "--capture",
        ])
        .arg(&pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockdbg runs");
    let mut client = connect_when_up(&mut child, port);
    let sent = packed(&[b"one", b"\x00\xff binary", b"three"]);
    let mut garbage_then_frame = b"\xff\xff\xff\xff".to_vec();
    garbage_then_frame.extend(packed(&[b"ok"]));
    client.write_all(&sent).expect("write");
    let mut echoed = vec![0; sent.len()];
    client.read_exact(&mut echoed).expect("echo");
    assert_eq!(echoed, sent);
    client.write_all(&garbage_then_frame).expect("write");
    let mut echoed = vec![0; garbage_then_frame.len()];
    client.read_exact(&mut echoed).expect("echo");
    drop(client);
    let finished = wait_exit(&mut child, "after the connection closed");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert!(finished.success(), "{stderr}");
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let rx: Vec<&serde_json::Value> = records.iter().filter(|r| r["dir"] == "rx").collect();
    let hex: Vec<&str> = rx.iter().filter_map(|r| r["hex"].as_str()).collect();
    assert_eq!(
        hex,
        [
            "030000006f6e65",
            "0900000000ff2062696e617279",
            "050000007468726565",
            "ffffffff",
            "020000006f6b"
        ],
        "{stdout}"
    );
    assert!(
        rx[3]["invalid"]
            .as_str()
            .is_some_and(|r| r.contains("exceeds"))
    );
    assert!(rx[4]["invalid"].is_null());

    // The capture: every byte both ways, in order, byte for byte.
    let packets = tcp_payloads(&pcap);
    let mut all = sent.clone();
    all.extend(&garbage_then_frame);
    assert_eq!(stream_bytes(&packets, port, true), all);
    assert_eq!(stream_bytes(&packets, port, false), all);

    match Command::new("tshark")
        .args(["-r"])
        .arg(&pcap)
        .args(["-T", "fields", "-e", "tcp.len"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let lens: usize = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.trim().parse::<usize>().ok())
                .sum();
            assert_eq!(lens, 2 * all.len(), "tshark sees every payload byte");
        }
        Ok(out) => panic!(
            "tshark cannot read the capture: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("skipped the tshark check: tshark is not installed ({e})"),
    }
}

#[test]
fn sigterm_with_a_connection_open_still_flushes_every_byte_to_the_capture() {
    let port = free_tcp_port();
    let dir = common::temp_dir("sigterm");
    let pcap = dir.path().join("sigterm.pcapng");
    let mut command = Command::new(BIN);
    command
        .args([
            "--headless",
            &format!("tcp-server:127.0.0.1:{port}"),
            "--echo",
            "--quiet",
            "--capture",
        ])
        .arg(&pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    common::interruptible(&mut command);
    let mut child = command.spawn().expect("sockdbg runs");
    let mut client = connect_when_up(&mut child, port);
    let sent = b"captured before SIGTERM \x00\xff";
    client.write_all(sent).expect("write");
    // The echo proves the engine read it; the capture must hold it after the signal.
    let mut echoed = vec![0; sent.len()];
    client.read_exact(&mut echoed).expect("echo");
    common::interrupt(&child, "TERM");
    let finished = wait_exit(&mut child, "on SIGTERM");
    assert_eq!(finished.code(), Some(0), "SIGTERM is a normal end");
    let packets = tcp_payloads(&pcap);
    assert_eq!(stream_bytes(&packets, port, true), sent);
    assert_eq!(stream_bytes(&packets, port, false), sent);
    drop(client);
}
