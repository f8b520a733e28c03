//! End-to-end tests of `sockdbg --headless`: the real binary against real loopback peers made
//! with std::net in the test. Every wait has a deadline (socket read timeouts, a child that is
//! killed when it does not exit in time), so a bug fails fast instead of hanging.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sockdbg");
/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(10);

/// A running `sockdbg --headless`, its stdout read line by line on a thread.
struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

/// How a run ended.
#[derive(Debug)]
struct Finished {
    code: Option<i32>,
    stdout: Vec<String>,
    stderr: String,
}

impl Finished {
    fn stats(&self) -> Stats {
        let line = self
            .stderr
            .lines()
            .find(|l| l.starts_with("stats "))
            .unwrap_or_else(|| panic!("no stats line in stderr: {self:#?}"));
        Stats::parse(line)
    }

    fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}\n{self:#?}"))
            })
            .collect()
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Stats {
    rx_bytes: u64,
    rx_packets: u64,
    tx_bytes: u64,
    tx_packets: u64,
    elapsed_ms: u64,
}

impl Stats {
    fn parse(line: &str) -> Self {
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        };
        assert!(line.starts_with("stats rx_bytes="), "{line:?}");
        Self {
            rx_bytes: field("rx_bytes"),
            rx_packets: field("rx_packets"),
            tx_bytes: field("tx_bytes"),
            tx_packets: field("tx_packets"),
            elapsed_ms: field("elapsed_ms"),
        }
    }
}

fn spawn(args: &[&str]) -> Run {
    let mut command = Command::new(BIN);
    command
        .arg("--headless")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    common::interruptible(&mut command);
    let mut child = command.spawn().expect("start sockdbg");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).ok();
        text
    });
    Run {
        child,
        lines,
        seen: Vec::new(),
        stderr: Some(stderr),
    }
}

/// Runs sockdbg to its end (it must end by itself within [`STEP`]).
fn run_to_end(args: &[&str]) -> Finished {
    spawn(args).wait_exit()
}

impl Run {
    /// Waits for a stdout line that satisfies `wanted` and returns it.
    fn wait_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => {
                    self.child.kill().ok();
                    panic!(
                        "no line with {what} in time; stdout so far: {:#?}",
                        self.seen
                    );
                }
            }
        }
    }

    /// Waits for the line saying the session is up and returns its local address.
    fn wait_local_addr(&mut self) -> SocketAddr {
        let line = self.wait_line("local address", |l| {
            l.contains("listening on ") || l.contains("bound to ")
        });
        let after = line
            .split_once("listening on ")
            .or_else(|| line.split_once("bound to "))
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let addr: String = after
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"')
            .collect();
        addr.parse()
            .unwrap_or_else(|e| panic!("bad address {addr:?} in {line:?}: {e}"))
    }

    /// Sends SIG`name` (Windows: a console's interrupt, see [`common::interrupt`]).
    fn signal(&self, name: &str) {
        common::interrupt(&self.child, name);
    }

    /// Waits for the process to exit by itself; kills it and fails if it does not.
    fn wait_exit(mut self) -> Finished {
        let deadline = Instant::now() + STEP;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    self.child.kill().ok();
                    self.child.wait().ok();
                    panic!("sockdbg did not exit in time; stdout: {:#?}", self.seen);
                }
            }
        };
        // The reader threads end at EOF, which follows the exit.
        while let Ok(line) = self.lines.recv_timeout(STEP) {
            self.seen.push(line);
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Finished {
            code: status.code(),
            stdout: std::mem::take(&mut self.seen),
            stderr,
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, STEP).expect("connect to sockdbg");
    stream.set_read_timeout(Some(STEP)).expect("timeout");
    stream
}

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).expect("read from sockdbg");
    buf
}

/// Accepts one connection on `listener`, or fails after [`STEP`].
fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + STEP;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking");
                stream.set_read_timeout(Some(STEP)).expect("timeout");
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("no connection from sockdbg: {e}"),
        }
    }
}

fn udp_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    socket.set_read_timeout(Some(STEP)).expect("timeout");
    socket
}

/// A loopback TCP port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

const GBK_ZHONGWEN: [u8; 4] = [0xd6, 0xd0, 0xce, 0xc4];

#[test]
fn tcp_server_text_sends_on_connect_echoes_and_ends_once() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send",
        "hi ",
        "--echo",
        "--once",
        "--stats",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    let me = client.local_addr().expect("addr");
    assert_eq!(read_exact(&mut client, 3), b"hi ");
    client.write_all(b"ping\r\n").expect("write");
    assert_eq!(read_exact(&mut client, 6), b"ping\r\n");
    run.wait_line("the echo", |l| l.contains(" tx ") && l.contains("ping"));
    drop(client);
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let out = end.stdout.join("\n");
    assert!(out.contains(&format!(" -- {me} connected")), "{out}");
    assert!(out.contains(&format!(" tx {me} 3 hi ")), "{out}");
    assert!(out.contains(&format!(" rx {me} 6 ping\\r\\n")), "{out}");
    assert!(out.contains(&format!(" tx {me} 6 ping\\r\\n")), "{out}");
    assert!(out.contains("disconnected: closed by peer"), "{out}");
    let first = &end.stdout[0];
    assert!(
        first.len() > 27 && first.as_bytes()[26] == b'Z' && first.as_bytes()[10] == b'T',
        "time is RFC 3339 UTC with microseconds: {first}"
    );
    let stats = end.stats();
    assert_eq!((stats.rx_bytes, stats.tx_bytes), (6, 9), "{end:#?}");
    assert!(stats.rx_packets >= 1 && stats.tx_packets >= 2, "{stats:?}");
}

#[test]
fn tcp_client_jsonl_decodes_and_encodes_gbk() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = listener.local_addr().expect("addr");
    let spec = format!("tcp-client:{server}");
    let mut run = spawn(&[
        &spec,
        "--format",
        "jsonl",
        "--encoding",
        "gbk",
        "--send",
        "中文",
        "--stats",
    ]);
    let mut peer = accept(&listener);
    assert_eq!(
        read_exact(&mut peer, 4),
        GBK_ZHONGWEN,
        "--send encoded as GBK"
    );
    let mut reply = GBK_ZHONGWEN.to_vec();
    reply.extend_from_slice(&[b'!', 0x81, b'\n']);
    peer.write_all(&reply).expect("write");
    run.wait_line("the reply received", |l| l.contains(r#""dir":"rx""#));
    drop(peer);
    // The server closed the one connection: the session ended, so the run ends by itself.
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let records = end.json();
    for r in &records {
        assert_eq!(r["session"], spec.as_str(), "{r}");
        let time = r["time"].as_str().expect("time");
        assert!(time.ends_with('Z') && time.len() == 27, "{time}");
    }
    let tx = records
        .iter()
        .find(|r| r["dir"] == "tx")
        .expect("tx record");
    assert_eq!(tx["text"], "中文");
    assert_eq!(tx["hex"], "d6d0cec4");
    assert_eq!(tx["len"], 4);
    assert_eq!(tx["peer"], server.to_string());
    let rx: Vec<_> = records.iter().filter(|r| r["dir"] == "rx").collect();
    let rx_text: String = rx
        .iter()
        .map(|r| r["text"].as_str().unwrap_or(""))
        .collect();
    let rx_hex: String = rx.iter().map(|r| r["hex"].as_str().unwrap_or("")).collect();
    assert_eq!(rx_hex, "d6d0cec421810a");
    assert!(rx_text.starts_with("中文!"), "{rx_text:?}");
    assert!(
        rx_text.contains('\u{fffd}'),
        "invalid GBK is U+FFFD: {rx_text:?}"
    );
    let events: Vec<&str> = records
        .iter()
        .filter(|r| r["dir"] == "event")
        .filter_map(|r| r["event"].as_str())
        .collect();
    for wanted in ["listening", "connected", "disconnected"] {
        assert!(events.contains(&wanted), "{wanted} missing from {events:?}");
    }
    for r in records.iter().filter(|r| r["dir"] == "event") {
        assert!(r["detail"].is_string(), "{r}");
    }
    let stats = end.stats();
    assert_eq!(
        stats.rx_bytes,
        reply.len() as u64,
        "equal to what the peer sent"
    );
    assert_eq!((stats.tx_bytes, stats.tx_packets), (4, 1));
}

#[test]
fn udp_server_hex_echoes_each_datagram_until_sigterm() {
    let mut run = spawn(&[
        "udp-server:127.0.0.1:0",
        "--format",
        "hex",
        "--echo",
        "--stats",
    ]);
    let server = run.wait_local_addr();
    let peer = udp_socket();
    let me = peer.local_addr().expect("addr");
    let datagrams: [&[u8]; 2] = [b"hello\x00\xff", &GBK_ZHONGWEN];
    for datagram in datagrams {
        peer.send_to(datagram, server).expect("send");
        let mut buf = [0u8; 64];
        let (n, from) = peer.recv_from(&mut buf).expect("echo");
        assert_eq!((&buf[..n], from), (datagram, server));
    }
    run.wait_line("the second echo", |l| l.contains(&format!(" tx {me} 4 ")));
    run.signal("TERM");
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "SIGTERM is a normal end: {end:#?}");
    let out = end.stdout.join("\n");
    assert!(out.contains(&format!(" -- {me} new peer")), "{out}");
    assert!(out.contains(&format!(" rx {me} 7 hello\\0\\xFF")), "{out}");
    assert!(
        out.contains("  00000000  68 65 6C 6C 6F 00 FF") && out.contains("hello.."),
        "{out}"
    );
    assert!(out.contains("  00000000  D6 D0 CE C4"), "{out}");
    let stats = end.stats();
    assert_eq!(
        (
            stats.rx_bytes,
            stats.rx_packets,
            stats.tx_bytes,
            stats.tx_packets
        ),
        (11, 2, 11, 2),
        "{end:#?}"
    );
}

#[test]
fn udp_client_sends_at_start_and_listens_for_replies_once() {
    let target = udp_socket();
    let target_addr = target.local_addr().expect("addr");
    let spec = format!("udp-client:{target_addr}");
    let run = spawn(&[
        &spec,
        "--send-hex",
        "70 69 6e 67",
        "--once",
        // The listen window after the send, spent in full: long enough for this thread to
        // get the ping and reply within it on a loaded machine (700 ms was not always).
        "--duration-ms",
        "2000",
        "--format",
        "jsonl",
        "--stats",
    ]);
    let mut buf = [0u8; 64];
    let (n, from) = target.recv_from(&mut buf).expect("datagram from sockdbg");
    assert_eq!(&buf[..n], b"ping");
    target.send_to(&GBK_ZHONGWEN, from).expect("reply");
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let records = end.json();
    let rx = records
        .iter()
        .find(|r| r["dir"] == "rx")
        .unwrap_or_else(|| panic!("reply not logged: {records:#?}"));
    assert_eq!(rx["hex"], "d6d0cec4");
    assert_eq!(rx["text"], "\u{fffd}".repeat(4), "UTF-8 is the default");
    assert_eq!(rx["peer"], target_addr.to_string());
    let stats = end.stats();
    assert_eq!((stats.rx_bytes, stats.tx_bytes), (4, 4), "{end:#?}");
    assert!(
        stats.elapsed_ms >= 2000,
        "listened --duration-ms after the send"
    );
}

#[test]
fn tcp_server_once_sends_a_file_and_quiet_prints_nothing() {
    let dir = common::temp_dir("send");
    let path = dir.path().join("payload.bin");
    let payload: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(&path, &payload).expect("write payload file");
    let port = closed_port();
    let spec = format!("tcp-server:127.0.0.1:{port}");
    let path_arg = path.to_string_lossy().into_owned();
    let run = spawn(&[
        &spec,
        "--send-file",
        &path_arg,
        "--once",
        "--quiet",
        "--stats",
    ]);
    let deadline = Instant::now() + STEP;
    let mut client = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("sockdbg never listened: {e}"),
        }
    };
    client.set_read_timeout(Some(STEP)).expect("timeout");
    assert_eq!(read_exact(&mut client, payload.len()), payload);
    // Its bytes then its FIN: both are read before the connection ends (no wait needed).
    client.write_all(b"abc").expect("write");
    drop(client);
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    assert!(end.stdout.is_empty(), "--quiet: {:#?}", end.stdout);
    let stats = end.stats();
    assert_eq!(stats.rx_bytes, 3);
    assert_eq!(stats.tx_bytes, payload.len() as u64);
}

#[test]
fn duration_ms_ends_a_server_that_nobody_talks_to() {
    let started = Instant::now();
    // Counted from the run's start and spent in full: long enough for the engine to start
    // and say it listens first on a loaded machine (300 ms was not always).
    let end = run_to_end(&["tcp-server:127.0.0.1:0", "--duration-ms", "1500", "--stats"]);
    assert_eq!(end.code, Some(0), "{end:#?}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(
        end.stdout[0].contains("listening on 127.0.0.1:"),
        "{end:#?}"
    );
    let stats = end.stats();
    assert_eq!((stats.rx_bytes, stats.tx_bytes), (0, 0));
    assert!(stats.elapsed_ms >= 1500, "{stats:?}");
}

#[test]
fn sigint_ends_cleanly_with_stats() {
    let mut run = spawn(&["udp-server:127.0.0.1:0", "--stats"]);
    let server = run.wait_local_addr();
    let peer = udp_socket();
    peer.send_to(b"12345", server).expect("send");
    run.wait_line("the datagram", |l| {
        l.contains(" rx ") && l.ends_with(" 5 12345")
    });
    run.signal("INT");
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    assert_eq!(end.stats().rx_bytes, 5);
}

#[test]
fn two_sessions_at_once_name_their_session_in_text() {
    let target = udp_socket();
    let client_spec = format!("udp-client:{}", target.local_addr().expect("addr"));
    let mut run = spawn(&["tcp-server:127.0.0.1:0", &client_spec, "--send", "x"]);
    let server = run.wait_local_addr();
    let mut buf = [0u8; 8];
    let (n, _) = target
        .recv_from(&mut buf)
        .expect("udp-client sent at start");
    assert_eq!(&buf[..n], b"x");
    let mut client = connect(server);
    assert_eq!(read_exact(&mut client, 1), b"x", "server sent on connect");
    run.wait_line("the server's send", |l| {
        l.contains(" tcp-server:127.0.0.1:0 tx ")
    });
    run.signal("TERM");
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let out = end.stdout.join("\n");
    assert!(out.contains(&format!(" {client_spec} tx ")), "{out}");
}

#[test]
fn ipv6_loopback_works_when_the_host_has_it() {
    if !common::ipv6_loopback_available() {
        return;
    }
    let target = UdpSocket::bind("[::1]:0").expect("bind [::1]");
    target.set_read_timeout(Some(STEP)).expect("timeout");
    let spec = format!("udp-client:{}", target.local_addr().expect("addr"));
    let run = spawn(&[&spec, "--send", "v6", "--once", "--duration-ms", "200"]);
    let mut buf = [0u8; 8];
    let (n, from) = target.recv_from(&mut buf).expect("datagram over ::1");
    assert_eq!(&buf[..n], b"v6");
    assert!(from.is_ipv6());
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
}

#[test]
fn port_in_use_exits_1_with_the_reason() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let spec = format!("tcp-server:{}", taken.local_addr().expect("addr"));
    let end = run_to_end(&[&spec, "--format", "jsonl"]);
    assert_eq!(end.code, Some(1), "{end:#?}");
    assert!(end.stderr.contains("in use"), "{end:#?}");
    let records = end.json();
    assert!(
        records.iter().any(|r| r["event"] == "error"),
        "the failure is also a record: {records:#?}"
    );
}

#[test]
fn refused_connection_and_bad_host_exit_1() {
    let spec = format!("tcp-client:127.0.0.1:{}", closed_port());
    let end = run_to_end(&[&spec]);
    assert_eq!(end.code, Some(1), "{end:#?}");
    assert!(end.stderr.contains("refused"), "{end:#?}");

    let end = run_to_end(&["tcp-client:no-such-host.invalid:80"]);
    assert_eq!(end.code, Some(1), "{end:#?}");
    assert!(end.stderr.contains("no-such-host.invalid"), "{end:#?}");
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let cases: [&[&str]; 6] = [
        &[],
        &["tcp-serv:6001"],
        &["tcp-client:6001"],
        &["tcp-server:0", "--format", "xml"],
        &["tcp-server:0", "--encoding", "latin9"],
        &["tcp-server:0", "--duration-ms", "soon"],
    ];
    for args in cases {
        let end = run_to_end(args);
        assert_eq!(end.code, Some(2), "{args:?}: {end:#?}");
        assert!(end.stderr.contains("Usage"), "{args:?}: {end:#?}");
        assert!(end.stdout.is_empty(), "{args:?}: {end:#?}");
    }
}

#[test]
fn unusable_send_payloads_exit_2_and_send_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let spec = format!("tcp-client:{}", listener.local_addr().expect("addr"));
    let cases: [(&[&str], &str); 4] = [
        (&["--send-hex", "31 3G"], "--send-hex"),
        (&["--send-hex", "313"], "--send-hex"),
        (&["--send", "😀", "--encoding", "gbk"], "GBK"),
        (
            &["--send-file", "/nonexistent/sockdbg-payload"],
            "--send-file",
        ),
    ];
    for (extra, mentions) in cases {
        let mut args = vec![spec.as_str()];
        args.extend_from_slice(extra);
        let end = run_to_end(&args);
        assert_eq!(end.code, Some(2), "{args:?}: {end:#?}");
        assert!(end.stderr.contains(mentions), "{args:?}: {end:#?}");
        assert!(end.stderr.contains("Usage"), "{args:?}: {end:#?}");
    }
    // The path is named, and a directory is refused up front too.
    for path in ["/nonexistent/sockdbg-payload", "/"] {
        let end = run_to_end(&[&spec, "--send-file", path]);
        assert_eq!(end.code, Some(2), "{path}: {end:#?}");
        assert!(
            end.stderr.contains(&format!("'{path}'")),
            "{path}: {end:#?}"
        );
    }
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(
        listener.accept().is_err(),
        "nothing connected, so nothing was sent"
    );
}

#[test]
fn udp_server_once_ends_after_the_first_datagram_and_its_echo() {
    let mut run = spawn(&["udp-server:127.0.0.1:0", "--echo", "--once", "--stats"]);
    let server = run.wait_local_addr();
    let peer = udp_socket();
    peer.send_to(b"one", server).expect("send");
    let mut buf = [0u8; 8];
    let (n, _) = peer.recv_from(&mut buf).expect("echo");
    assert_eq!(&buf[..n], b"one");
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let stats = end.stats();
    assert_eq!((stats.rx_bytes, stats.tx_bytes), (3, 3), "{end:#?}");
}

// ---- issue 5: the send pipeline flags, --repeat and --reply ----

#[test]
fn send_pipeline_flags_apply_in_the_windows_order() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send",
        "AT\\x01",
        "--escapes",
        "--line-ending",
        "crlf",
        "--checksum",
        "sum8",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    // A T 01 CR LF, then their sum: 0x41 + 0x54 + 0x01 + 0x0D + 0x0A = 0xAD.
    assert_eq!(read_exact(&mut client, 6), b"AT\x01\r\n\xAD");
    drop(client);
    assert_eq!(run.wait_exit().code, Some(0));
}

#[test]
fn send_hex_gets_a_modbus_crc() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send-hex",
        "01 03 00 00 00 0A",
        "--checksum",
        "crc16-modbus",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    assert_eq!(
        read_exact(&mut client, 8),
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]
    );
    drop(client);
    assert_eq!(run.wait_exit().code, Some(0));
}

#[test]
fn repeat_sends_n_times_spaced_by_the_interval() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send",
        "t",
        "--repeat",
        "5",
        "--interval-ms",
        "30",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let begun = Instant::now();
    let mut client = connect(server);
    assert_eq!(read_exact(&mut client, 5), b"ttttt");
    let elapsed = begun.elapsed();
    assert!(
        elapsed >= Duration::from_millis(110),
        "too fast: {elapsed:?}"
    );
    run.wait_line("the end note", |l| {
        l.contains("periodic send finished: 5 sent")
    });
    drop(client);
    assert_eq!(run.wait_exit().code, Some(0));
}

#[test]
fn repeat_is_per_connection_of_a_reconnecting_client() {
    // Each connection gets its own --repeat from ${seq} = 1; the one before ends with its
    // connection instead of going on into the next.
    // (The reconnect waits 2 s: the driver cancels the old repeat when it sees the close,
    // well before the next connection, however loaded the machine.)
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let spec = format!("tcp-client:{addr},reconnect=2000");
    let mut run = spawn(&[
        &spec,
        "--send",
        "N=${seq};",
        "--repeat",
        "0",
        "--interval-ms",
        "100",
    ]);
    let mut first = accept(&listener);
    assert_eq!(read_exact(&mut first, 8), b"N=1;N=2;");
    drop(first);
    run.wait_line("the first repeat's end", |l| {
        l.contains("periodic send stopped after")
    });
    let mut second = accept(&listener);
    assert_eq!(read_exact(&mut second, 12), b"N=1;N=2;N=3;");
}

#[test]
fn reply_rules_answer_in_order_and_are_logged() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--escapes",
        "--reply",
        "text:ping=>text:pong\\n",
        "--reply",
        "hex:01 03=>hex:06",
        "--reply",
        "*=>text:Hello, {data}!",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    client.write_all(b"ping\r\n").expect("write");
    assert_eq!(read_exact(&mut client, 5), b"pong\n");
    client.write_all(&[0x01, 0x03]).expect("write");
    assert_eq!(read_exact(&mut client, 1), [0x06]);
    client.write_all(b"bob").expect("write");
    assert_eq!(read_exact(&mut client, 11), b"Hello, bob!");
    run.wait_line("a note on rule 3", |l| l.contains("auto-reply rule 3"));
    drop(client);
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0));
    let out = end.stdout.join("\n");
    assert!(out.contains("auto-reply rule 1"), "{out}");
}

#[test]
fn reply_rules_with_framing_answer_each_message_of_a_sticky_write() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--framing",
        "delim:0a",
        "--reply",
        "text:ping=>text:pong;",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    // Three requests in one write (粘包), then one split across two writes.
    client.write_all(b"ping\nping\nping\npi").expect("write");
    assert_eq!(read_exact(&mut client, 15), b"pong;pong;pong;");
    client.write_all(b"ng\n").expect("write");
    assert_eq!(read_exact(&mut client, 5), b"pong;");
    drop(client);
    assert_eq!(run.wait_exit().code, Some(0));
}

#[test]
fn framing_shows_text_as_invalid_and_a_closed_streams_leftover_as_incomplete() {
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--framing",
        "len:u32be",
        "--format",
        "jsonl",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    // Text never forms a u32be length under 64 KiB; then one frame; then half of one.
    client
        .write_all(b"hello device\r\n\x00\x00\x00\x02hi\x00\x00\x00\x05ab")
        .expect("write");
    drop(client);
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let rx: Vec<serde_json::Value> = end
        .stdout
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["dir"] == "rx")
        .collect();
    let hex: Vec<&str> = rx.iter().filter_map(|r| r["hex"].as_str()).collect();
    assert_eq!(
        hex.concat(),
        "68656c6c6f206465766963650d0a0000000268690000000561 62".replace(' ', ""),
        "every byte, once: {rx:#?}"
    );
    let first = rx.first().expect("records");
    assert!(first["invalid"].is_string(), "{first}");
    let frame = rx
        .iter()
        .find(|r| r["hex"] == "000000026869")
        .expect("the frame");
    assert!(frame["invalid"].is_null() && frame["incomplete"].is_null());
    let last = rx.last().expect("records");
    assert_eq!(last["hex"], "000000056162");
    assert_eq!(last["incomplete"], true, "{last}");
    assert!(!end.stderr.contains("did not complete"), "{}", end.stderr);
}

#[test]
fn send_variables_count_per_send_like_the_windows() {
    // --repeat is a periodic send: `${seq}` counts its ticks; --var values are known.
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send",
        "u${unit}:${seq};",
        "--var",
        "unit=7",
        "--repeat",
        "3",
        "--interval-ms",
        "5",
        "--once",
    ]);
    let server = run.wait_local_addr();
    let mut client = connect(server);
    assert_eq!(read_exact(&mut client, 15), b"u7:1;u7:2;u7:3;");
    run.wait_line("the end note", |l| {
        l.contains("periodic send finished: 3 sent")
    });
    drop(client);
    assert_eq!(run.wait_exit().code, Some(0));
    // One send per connection is its first; `$${` is a literal `${`.
    let cases: [(&[&str], &[u8]); 2] = [
        (&["--send-hex", "01 ${seq:u16be}"], &[1, 0, 1]),
        (&["--send", "$${seq}=${seq}"], b"${seq}=1"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["tcp-server:127.0.0.1:0", "--once"];
        args.extend_from_slice(extra);
        let mut run = spawn(&args);
        let mut client = connect(run.wait_local_addr());
        assert_eq!(read_exact(&mut client, want.len()), want, "{extra:?}");
        drop(client);
        assert_eq!(run.wait_exit().code, Some(0), "{extra:?}");
    }
}

#[test]
fn an_unknown_send_variable_is_a_usage_error() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--send", "T=${temp}"],
            "invalid --send: column 3: unknown variable 'temp'",
        ),
        (
            &["--send-hex", "01 ${seq"],
            "invalid --send-hex: column 4: '${' without",
        ),
        (
            &["--send-hex", "${big}", "--var", "big=300"],
            "does not fit u8",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["tcp-server:0"];
        args.extend_from_slice(extra);
        let end = run_to_end(&args);
        assert_eq!(end.code, Some(2), "{args:?}: {end:#?}");
        assert!(end.stderr.contains(message), "{args:?}: {}", end.stderr);
    }
}

#[test]
fn bad_pipeline_flags_are_usage_errors() {
    for args in [
        &["tcp-server:0", "--reply", "nope"][..],
        &["tcp-server:0", "--reply", "regex:(=>echo"][..],
        &["tcp-server:0", "--checksum", "md5"][..],
        &["tcp-server:0", "--line-ending", "lfcr"][..],
        &["tcp-server:0", "--send", "a\\q", "--escapes"][..],
        &["tcp-server:0", "--repeat", "3"][..],
    ] {
        let end = run_to_end(args);
        assert_eq!(end.code, Some(2), "{args:?}: {end:#?}");
        assert!(end.stderr.contains("Usage"), "{args:?}: {}", end.stderr);
    }
}

/// Deterministic pseudo-random bytes (xorshift64), so a file can be written and checked in
/// pieces without holding it whole in the test.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, buf: &mut [u8]) {
        for byte in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *byte = (self.0 >> 24) as u8;
        }
    }
}

/// FNV-1a 64, to compare what was sent with what arrived.
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The child's memory in KiB: resident now, or its peak (Linux: `/proc/PID/status`'s VmRSS
/// and VmHWM; Windows: the working set and its peak).
fn memory_kib(child: &Child, peak: bool) -> u64 {
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawHandle;
        use windows_sys::Win32::System::ProcessStatus::{
            K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
        };
        // SAFETY: an all-zero PROCESS_MEMORY_COUNTERS is valid; the call fills it for the
        // child's handle, which lives as long as `child`.
        let counters = unsafe {
            let mut counters: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
            let size = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
            counters.cb = size;
            let ok = K32GetProcessMemoryInfo(child.as_raw_handle(), &raw mut counters, size);
            assert_ne!(ok, 0, "{}", std::io::Error::last_os_error());
            counters
        };
        let bytes = if peak {
            counters.PeakWorkingSetSize
        } else {
            counters.WorkingSetSize
        };
        (bytes / 1024) as u64
    }
    #[cfg(not(windows))]
    {
        let field = if peak { "VmHWM" } else { "VmRSS" };
        let pid = child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
    }
}

/// Waits until something listens on 127.0.0.1:`port` (read from /proc/net/tcp, so no probe
/// connection is made: a headless server would send its file to it).
fn wait_listening(port: u16) {
    let local = SocketAddr::from(([127, 0, 0, 1], port));
    common::wait_for_tcp(&format!("a listener on {local}"), |row| {
        row.local == local && row.state == common::TCP_LISTEN
    });
}

/// A tcp-server with `--send-file FILE --once --quiet --stats` on a free port, started once
/// it listens.
fn spawn_file_server(path: &str) -> (Run, u16) {
    let port = closed_port();
    let spec = format!("tcp-server:127.0.0.1:{port}");
    let run = spawn(&[&spec, "--send-file", path, "--once", "--quiet", "--stats"]);
    wait_listening(port);
    (run, port)
}

#[test]
fn send_file_streams_32_mib_byte_exact_in_bounded_memory() {
    const SIZE: usize = 32 * 1024 * 1024;
    const PIECE: usize = 64 * 1024;
    // Above what a 32 MiB file costs when read whole (the file itself, before the log's copy
    // of it, is already 32 MiB), and roomy for what streaming holds: the headless log's
    // 12 MiB bound plus a few 64 KiB chunks in flight.
    const BOUND_KIB: u64 = 24 * 1024;
    let dir = common::temp_dir("send-big");
    let big = dir.path().join("big.bin");
    let tiny = dir.path().join("tiny.bin");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut sent_hash = FNV_START;
    {
        let mut file = std::fs::File::create(&big).expect("create big file");
        let mut piece = vec![0u8; PIECE];
        for _ in 0..SIZE / PIECE {
            noise.fill(&mut piece);
            fnv1a(&mut sent_hash, &piece);
            file.write_all(&piece).expect("write big file");
        }
    }
    std::fs::write(&tiny, b"x").expect("write tiny file");

    // The same server with a 1-byte file: the memory a run needs without the file.
    let (reference, _) = spawn_file_server(&tiny.to_string_lossy());
    let baseline_kib = memory_kib(&reference.child, false);
    drop(reference);

    let (run, port) = spawn_file_server(&big.to_string_lossy());
    let listening_kib = memory_kib(&run.child, false);
    let mut client = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    let mut check = Noise(0x9e37_79b9_7f4a_7c15);
    let mut got_hash = FNV_START;
    let (mut got, mut buf, mut want) = (0usize, vec![0u8; PIECE], vec![0u8; PIECE]);
    let mut first_difference = None;
    while got < SIZE {
        let n = client.read(&mut buf).expect("read the file from sockdbg");
        assert!(n > 0, "sockdbg closed after {got} of {SIZE} bytes");
        let n = n.min(SIZE - got);
        check.fill(&mut want[..n]);
        if first_difference.is_none() && buf[..n] != want[..n] {
            first_difference = Some(got);
        }
        fnv1a(&mut got_hash, &buf[..n]);
        got += n;
    }
    // Still running (--once waits for the client's close): its peak so far is the send's.
    let peak_kib = memory_kib(&run.child, true);
    drop(client);
    let end = run.wait_exit();
    eprintln!(
        "32 MiB --send-file: reference VmRSS {baseline_kib} KiB, at listening {listening_kib} KiB, \
         peak VmHWM {peak_kib} KiB (+{} KiB)",
        peak_kib.saturating_sub(baseline_kib)
    );
    assert_eq!(first_difference, None, "bytes differ from offset");
    assert_eq!(got_hash, sent_hash);
    assert_eq!(end.code, Some(0), "{end:#?}");
    assert_eq!(end.stats().tx_bytes, SIZE as u64, "{end:#?}");
    assert!(
        peak_kib < baseline_kib + BOUND_KIB,
        "peak {peak_kib} KiB, more than {BOUND_KIB} KiB above the {baseline_kib} KiB baseline"
    );
}

#[test]
fn send_file_that_vanishes_before_a_client_exits_1_naming_it() {
    let dir = common::temp_dir("vanish");
    let path = dir.path().join("payload.bin");
    std::fs::write(&path, b"soon gone").expect("write payload file");
    let path_arg = path.to_string_lossy().into_owned();
    let (run, port) = spawn_file_server(&path_arg);
    std::fs::remove_file(&path).expect("remove payload file");
    let _client = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    let end = run.wait_exit();
    assert_eq!(end.code, Some(1), "{end:#?}");
    let errors: Vec<&str> = end
        .stderr
        .lines()
        .filter(|l| l.starts_with("sockdbg:"))
        .collect();
    assert_eq!(errors.len(), 1, "{end:#?}");
    assert!(errors[0].contains("--send-file"), "{end:#?}");
    assert!(errors[0].contains(&path_arg), "{end:#?}");
    assert_eq!(end.stats().tx_bytes, 0, "{end:#?}");
}

#[test]
fn send_file_over_udp_goes_as_1024_byte_datagrams() {
    let dir = common::temp_dir("udp");
    let path = dir.path().join("payload.bin");
    let payload: Vec<u8> = (0..=255u8).cycle().take(2500).collect();
    std::fs::write(&path, &payload).expect("write payload file");
    let target = udp_socket();
    let spec = format!("udp-client:{}", target.local_addr().expect("addr"));
    let path_arg = path.to_string_lossy().into_owned();
    let run = spawn(&[
        &spec,
        "--send-file",
        &path_arg,
        "--once",
        "--duration-ms",
        "300",
        "--quiet",
        "--stats",
    ]);
    let mut received = Vec::new();
    let mut sizes = Vec::new();
    let mut buf = [0u8; 4096];
    while received.len() < payload.len() {
        let (n, _) = target.recv_from(&mut buf).expect("datagram from sockdbg");
        sizes.push(n);
        received.extend_from_slice(&buf[..n]);
    }
    let end = run.wait_exit();
    assert_eq!(sizes, [1024, 1024, 452]);
    assert_eq!(received, payload);
    assert_eq!(end.code, Some(0), "{end:#?}");
    let stats = end.stats();
    assert_eq!((stats.tx_bytes, stats.tx_packets), (2500, 3), "{end:#?}");
}

#[test]
fn send_file_read_error_exits_1_with_one_line_naming_the_file() {
    // /proc/self/mem opens (sockdbg's own memory) but reading offset 0 fails with EIO: a
    // read error after the up-front check, as a failing disk would give part-way.
    let (run, port) = spawn_file_server("/proc/self/mem");
    let _client = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    let end = run.wait_exit();
    assert_eq!(end.code, Some(1), "{end:#?}");
    let errors: Vec<&str> = end
        .stderr
        .lines()
        .filter(|l| l.starts_with("sockdbg:"))
        .collect();
    assert_eq!(errors.len(), 1, "{end:#?}");
    assert!(
        errors[0].contains("--send-file: cannot read /proc/self/mem"),
        "{end:#?}"
    );
}

#[test]
fn send_file_with_repeat_streams_it_n_times_spaced_by_the_interval() {
    let dir = common::temp_dir("repeat");
    let path = dir.path().join("payload.bin");
    let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    std::fs::write(&path, &payload).expect("write payload file");
    let path_arg = path.to_string_lossy().into_owned();
    let mut run = spawn(&[
        "tcp-server:127.0.0.1:0",
        "--send-file",
        &path_arg,
        "--repeat",
        "3",
        "--interval-ms",
        "80",
        "--once",
        "--stats",
    ]);
    let server = run.wait_local_addr();
    let begun = Instant::now();
    let mut client = connect(server);
    for copy in 0..3 {
        assert_eq!(
            read_exact(&mut client, payload.len()),
            payload,
            "copy {copy}"
        );
    }
    let elapsed = begun.elapsed();
    assert!(
        elapsed >= Duration::from_millis(160),
        "too fast: {elapsed:?}"
    );
    // No fourth copy follows.
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut extra = [0u8; 1];
    assert!(
        client.read(&mut extra).is_err(),
        "a fourth copy started (or the server closed)"
    );
    drop(client);
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let sent_notes = end
        .stdout
        .iter()
        .filter(|l| l.contains("file sent: "))
        .count();
    assert_eq!(sent_notes, 3, "{end:#?}");
    assert_eq!(end.stats().tx_bytes, 3 * payload.len() as u64, "{end:#?}");
}

/// Issue 14: headless printed every sent chunk as it printed received ones, but only
/// received bytes were held back when output fell behind; sent chunks queued without limit.
/// A 256 MiB file (sparse: no disk used) sent to a peer that reads everything, while nobody
/// reads sockdbg's stdout: the engine now stops sending once the in-flight budget (64 MiB)
/// waits to be printed, so memory stays near that budget instead of holding the file.
#[test]
fn a_stalled_stdout_holds_a_file_send_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    const FILE_BYTES: u64 = 256 * 1024 * 1024;
    /// Above the 64 MiB budget plus the run's own memory, below the file's size.
    const BOUND_KIB: u64 = 200 * 1024;
    /// Sent at most while stdout is stalled: the budget plus what the sockets hold.
    const SENT_BOUND: u64 = 128 * 1024 * 1024;
    const WATCH: Duration = Duration::from_secs(4);
    let dir = common::temp_dir("stall");
    let path = dir.path().join("payload.bin");
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(FILE_BYTES))
        .expect("a sparse file");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let spec = format!("tcp-client:{}", listener.local_addr().expect("addr"));
    let path_arg = path.to_string_lossy().into_owned();
    // stdout is a pipe nobody reads: it fills at once and the driver blocks on it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockdbg"))
        .args(["--headless", &spec, "--send-file", &path_arg])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sockdbg");
    let mut peer = accept(&listener);
    let received = Arc::new(AtomicU64::new(0));
    let reader = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            peer.set_read_timeout(Some(Duration::from_millis(200))).ok();
            let until = Instant::now() + WATCH;
            while Instant::now() < until {
                if let Ok(n) = peer.read(&mut buf) {
                    received.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let mut most_kib = 0;
    let until = Instant::now() + WATCH;
    while Instant::now() < until && most_kib < BOUND_KIB {
        most_kib = most_kib.max(memory_kib(&child, false));
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    reader.join().expect("reader");
    let received = received.load(Ordering::Relaxed);
    eprintln!("stalled stdout: {received} bytes sent, VmRSS at most {most_kib} KiB");
    assert!(received > 0, "the file was being sent");
    assert!(
        most_kib < BOUND_KIB && received < SENT_BOUND,
        "{received} bytes sent and memory at {most_kib} KiB while stdout was stalled"
    );
}

#[cfg(unix)]
#[test]
fn a_serial_session_names_its_port_and_captures_its_bytes() {
    let Some(mut pair) = common::pty::PtyPair::open() else {
        return;
    };
    let mut device = pair.device();
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("serial.pcapng");
    let spec = format!("serial:{},baud=9600", pair.near);
    let mut run = spawn(&[
        &spec,
        "--format",
        "jsonl",
        "--send",
        "AT\\r\\n",
        "--escapes",
        "--capture",
        pcap.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(device.read_exactly(4), b"AT\r\n");
    device.write(b"OK\r\n");
    run.wait_line("the answer received", |l| l.contains(r#""dir":"rx""#));
    // Unplugged: the session ends, and so does the run.
    pair.close();
    let end = run.wait_exit();
    assert_eq!(end.code, Some(0), "{end:#?}");
    let records = end.json();
    let traffic: Vec<(String, String, String)> = records
        .iter()
        .filter(|r| r["dir"] == "rx" || r["dir"] == "tx")
        .map(|r| {
            let field = |name: &str| r[name].as_str().unwrap_or_default().to_string();
            (field("dir"), field("peer"), field("hex"))
        })
        .collect();
    let near = pair.near.clone();
    assert_eq!(
        traffic,
        [
            ("tx".into(), near.clone(), "41540d0a".into()),
            ("rx".into(), near.clone(), "4f4b0d0a".into())
        ],
        "{end:#?}"
    );
    let gone = format!("device gone: {near}");
    assert!(
        records
            .iter()
            .any(|r| r["detail"].as_str().is_some_and(|d| d.contains(&gone))),
        "{end:#?}"
    );
    // The capture: the same bytes, with their directions.
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.packet_flags_direction",
            "-e",
            "data.data",
        ])
        .output();
    match out {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(
                lines,
                ["0x00000002\t41540d0a", "0x00000001\t4f4b0d0a"],
                "{out:?}"
            );
        }
        Err(e) => common::skip(&format!("tshark is not installed ({e})")),
    }
}
