//! `sockdbg test` and `--headless --scenario` end to end: the real binary, scenario files
//! written by the test, real loopback peers (std sockets, and the seeds' own Python programs
//! in `tests/seeds/`), and a serial device on a socat pseudo-terminal pair. Exit codes, step lines, `FILE:LINE:COL` errors, JSON lines, and JUnit
//! XML parsed back with quick-xml. Every wait has a deadline.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{accept, bound_unlistened, free_tcp_port, skip, tcp_connect};

const BIN: &str = env!("CARGO_BIN_EXE_sockdbg");
/// How long one sockdbg run may take.
const LIMIT: Duration = Duration::from_secs(20);

/// A folder of its own for a test's files, removed at the end (also when the test fails).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new(name: &str) -> Self {
        Self(common::temp_dir(name))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

/// What a finished process left.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Collects a child's output on threads and waits (bounded) for its exit.
fn finish(mut child: Child) -> Ended {
    // Either may have been taken (and read) by the caller already.
    let out = child.stdout.take();
    let err = child.stderr.take();
    let stdout = thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = out {
            out.read_to_string(&mut text).ok();
        }
        text
    });
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut err) = err {
            err.read_to_string(&mut text).ok();
        }
        text
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            None => {
                child.kill().ok();
                child.wait().ok();
                panic!(
                    "did not exit in time: {}",
                    stdout.join().unwrap_or_default()
                );
            }
        }
    };
    Ended {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn sockdbg(args: &[&str]) -> Child {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    common::interruptible(&mut command);
    command.spawn().expect("start sockdbg")
}

fn test_files(files: &[&Path], extra: &[&str]) -> Ended {
    let mut args = vec!["test"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    args.extend_from_slice(extra);
    finish(sockdbg(&args))
}

/// A loopback peer that answers each line with its upper case (like the seeds' server).
fn upper_peer() -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = thread::spawn(move || {
        let (stream, _) = accept(&listener);
        let mut writer = stream.try_clone().expect("clone");
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if writer
                .write_all(format!("{}\r\n", line.to_uppercase()).as_bytes())
                .is_err()
            {
                break;
            }
        }
    });
    (addr, peer)
}

/// The failing case waits 2 s (in full: `abc` never comes) so that the peer's `ABC` surely
/// arrives within it, however loaded the machine: the failure reports what arrived.
#[test]
fn passing_and_failing_cases_exit_codes_and_junit_parsed_back() {
    let dir = Dir::new("cli-junit");
    let (addr, peer) = upper_peer();
    let file = dir.file(
        "upper.sdbg",
        &format!(
            "session tcp-client:127.0.0.1:${{port}}   # {addr}
case shout
  send text:hello ${{who}}\\n
  expect text:HELLO WORLD within 3000
case wrong
  send text:abc\\n
  expect text:abc within 2000
"
        ),
    );
    let junit = dir.path().join("out.xml");
    let port = addr.port().to_string();
    let ended = test_files(
        &[&file],
        &[
            "--var",
            &format!("port={port}"),
            "--var",
            "who=world",
            "--junit",
            junit.to_str().expect("utf-8"),
        ],
    );
    peer.join().ok();
    assert_eq!(ended.code, Some(1), "{}{}", ended.stdout, ended.stderr);
    let out = &ended.stdout;
    assert!(out.contains("case shout passed"), "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("expected text:abc within 2000 ms"), "{out}");
    assert!(out.contains("received 5 bytes: ABC\\r\\n"), "{out}");
    assert!(out.contains("41 42 43 0D 0A"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
    // The JUnit file, read back with an XML parser.
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut suites) = (Vec::new(), Vec::new(), 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .ok()
                        .flatten()
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                };
                match e.name().as_ref() {
                    b"testsuite" => {
                        suites += 1;
                        assert_eq!(attr("tests").as_deref(), Some("2"));
                        assert_eq!(attr("failures").as_deref(), Some("1"));
                    }
                    b"testcase" => cases.push(attr("name").unwrap_or_default()),
                    b"failure" => failures.push(attr("message").unwrap_or_default()),
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, 1);
    assert_eq!(cases, ["shout", "wrong"]);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("7:3 expect text:abc within 2000"),
        "{failures:?}"
    );
    assert!(
        xml.contains("41 42 43 0D 0A"),
        "received bytes as hex in the failure"
    );
}

#[test]
fn every_passing_file_exits_0_and_jsonl_has_one_object_a_step() {
    let dir = Dir::new("cli-jsonl");
    let (addr, peer) = upper_peer();
    let file = dir.file(
        "ok.sdbg",
        &format!(
            "session tcp-client:{addr}
send text:temp=21.5\\n
expect regex:TEMP=(?P<t>[0-9.]+)\\r\\n within 3000
close
"
        ),
    );
    let ended = test_files(&[&file], &["--format", "jsonl"]);
    peer.join().ok();
    assert_eq!(ended.code, Some(0), "{}{}", ended.stdout, ended.stderr);
    let objects: Vec<serde_json::Value> = ended
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let steps: Vec<&serde_json::Value> = objects.iter().filter(|o| o["event"] == "step").collect();
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[1]["line"], 3);
    assert_eq!(steps[1]["captures"]["t"], "21.5");
    assert!(steps.iter().all(|s| s["status"] == "passed"));
    let last = objects.last().expect("summary");
    assert_eq!(
        (last["event"].as_str(), last["passed"].as_u64()),
        (Some("summary"), Some(1))
    );
}

#[test]
fn an_invalid_file_exits_2_naming_line_and_column_and_runs_nothing() {
    let dir = Dir::new("cli-invalid");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let good = dir.file(
        "good.sdbg",
        &format!("session tcp-client:{addr}\nsend text:x\n"),
    );
    let bad = dir.file(
        "bad.sdbg",
        "session tcp-client:127.0.0.1:9\nsend txt:x\nexpect regex:a(b\nrepeat 2\n",
    );
    let ended = test_files(&[&good, &bad], &[]);
    assert_eq!(ended.code, Some(2), "{}", ended.stderr);
    let name = bad.display().to_string();
    for want in [
        format!("{name}:2:6: payload 'txt:x' must start with text: or hex:"),
        format!("{name}:3:15: invalid regex: unclosed group"),
        format!("{name}:4:1: repeat without its end"),
    ] {
        assert!(ended.stderr.contains(&want), "{want}\n{}", ended.stderr);
    }
    // Nothing ran: the good file's peer saw no connection.
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(
        listener.accept().is_err(),
        "no file runs when one is invalid"
    );
    let missing = test_files(&[&dir.path().join("nope.sdbg")], &[]);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing
            .stderr
            .contains("nope.sdbg:1:1: cannot read the file"),
        "{}",
        missing.stderr
    );
    let no_session = dir.file("nosession.sdbg", "send text:x\n");
    let ended = test_files(&[&no_session], &[]);
    assert_eq!(ended.code, Some(2));
    assert!(
        ended.stderr.contains("1:1: no session to run on"),
        "{}",
        ended.stderr
    );
}

/// A case whose session cannot start never runs: the text output still says why.
#[test]
fn a_session_that_cannot_start_says_why_in_text() {
    let dir = Dir::new("cli-in-use");
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let file = dir.file(
        "in_use.sdbg",
        &format!("session tcp-server:127.0.0.1:{port}\nexpect text:x within 1000\n"),
    );
    let ended = test_files(&[&file], &[]);
    assert_eq!(ended.code, Some(1), "{}", ended.stdout);
    assert!(ended.stdout.contains("FAILED"), "{}", ended.stdout);
    assert!(ended.stdout.contains("not run: "), "{}", ended.stdout);
    drop(holder);
}

#[test]
fn an_unreachable_peer_exits_1() {
    let dir = Dir::new("cli-refused");
    // Bound but not listening: a connect is refused.
    let (_holder, addr) = bound_unlistened();
    let port = addr.port();
    let file = dir.file(
        "refused.sdbg",
        &format!("session tcp-client:127.0.0.1:{port}\nsend text:x\n"),
    );
    let ended = test_files(&[&file], &[]);
    assert_eq!(ended.code, Some(1), "{}", ended.stdout);
    assert!(
        ended.stdout.contains("connection refused"),
        "{}",
        ended.stdout
    );
    assert!(
        ended.stdout.trim_end().ends_with("0 passed, 1 failed"),
        "{}",
        ended.stdout
    );
}

/// A `reconnect` client whose server never comes: its first step waits the connect timeout
/// (not forever), then fails saying why; one whose server comes within it passes.
#[test]
fn a_reconnect_client_waits_its_connect_timeout_for_the_server() {
    let dir = Dir::new("cli-reconnect");
    let (holder, addr) = bound_unlistened();
    let never = dir.file(
        "never.sdbg",
        &format!("session tcp-client:{addr},reconnect=100,timeout=500\nsend text:x\n"),
    );
    let ended = test_files(&[&never], &[]);
    assert_eq!(ended.code, Some(1), "{}", ended.stdout);
    assert!(
        ended
            .stdout
            .contains("not connected within 500 ms (its connect timeout): cannot connect to")
            && ended.stdout.contains("connection refused"),
        "{}",
        ended.stdout
    );

    // The server comes while the first step waits.
    let later = dir.file(
        "later.sdbg",
        &format!(
            "session tcp-client:{addr},reconnect=100\ntimeout 5000\nsend text:ping\\n\n\
             expect text:PING\\r\\n\n"
        ),
    );
    let child = sockdbg(&["test", &later.display().to_string()]);
    thread::sleep(Duration::from_millis(300));
    holder.listen(1).expect("listen");
    let listener: TcpListener = holder.into();
    let (stream, _) = accept(&listener);
    let mut writer = stream.try_clone().expect("clone");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("read");
    writer
        .write_all(format!("{}\r\n", line.trim_end().to_uppercase()).as_bytes())
        .expect("write");
    let ended = finish(child);
    assert_eq!(ended.code, Some(0), "{}", ended.stdout);
}

#[test]
fn headless_scenario_keeps_serving_every_client_as_a_device_simulator() {
    let dir = Dir::new("cli-sim");
    let file = dir.file(
        "device.sdbg",
        "# answers each READ n with the register's value, per client
repeat forever
  expect regex:READ (?P<reg>\\d+)\\r\\n within forever
  send text:VALUE ${reg}=42 \\x23${seq}\\r\\n   # \\x23 is a #: after a space, # starts a comment
end
",
    );
    let mut child = sockdbg(&[
        "--headless",
        "tcp-server:127.0.0.1:0",
        "--scenario",
        file.to_str().expect("utf-8"),
    ]);
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + LIMIT;
    let addr: SocketAddr = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a listening line");
        if let Some((_, rest)) = line.split_once("listening on ") {
            break rest.trim().parse().expect("address");
        }
    };
    for (client, register) in [(1, 7), (2, 9)] {
        let mut stream = tcp_connect(addr);
        for n in 1..=2 {
            stream
                .write_all(format!("READ {register}\r\n").as_bytes())
                .expect("write");
            let want = format!("VALUE {register}=42 #{n}\r\n");
            let got = common::read_exactly(&mut stream, want.len());
            assert_eq!(String::from_utf8_lossy(&got), want, "client {client}");
        }
    }
    common::interrupt(&child, "TERM");
    let ended = finish(child);
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}

/// `python3` if this machine has it (CI installs it: see `.ci/run`).
fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip("python3 is not installed (the seeds' programs are Python)");
    }
    found.then_some("python3")
}

fn seed(name: &str) -> String {
    format!("{}/tests/seeds/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn seeds_upper_server_passes_its_scenario() {
    let Some(python) = python() else { return };
    let mut server = Command::new(python)
        .args([&seed("upper_server.py"), "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the seed server");
    let mut line = String::new();
    let stdout = server.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("its port");
    let port = line.trim().to_string();
    let ended = test_files(
        &[Path::new(&seed("upper_server.sdbg"))],
        &["--var", &format!("port={port}")],
    );
    server.kill().ok();
    server.wait().ok();
    assert_eq!(ended.code, Some(0), "{}{}", ended.stdout, ended.stderr);
    assert!(
        ended.stdout.trim_end().ends_with("3 passed, 0 failed"),
        "{}",
        ended.stdout
    );
}

#[test]
fn seeds_length_header_client_is_served_by_a_scenario() {
    let Some(python) = python() else { return };
    let port = free_tcp_port().to_string();
    let tester = sockdbg(&[
        "test",
        &seed("length_server.sdbg"),
        "--var",
        &format!("port={port}"),
    ]);
    // The seed client connects once sockdbg listens: retry while it is refused.
    let deadline = Instant::now() + LIMIT;
    let printed = loop {
        let mut client = Command::new(python)
            .args([&seed("length_client.py"), &port])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the seed client");
        client
            .stdin
            .take()
            .expect("stdin")
            .write_all("hello\n中文\n".as_bytes())
            .expect("type two lines");
        let ended = finish(client);
        if ended.code == Some(0) {
            break ended.stdout;
        }
        assert!(
            ended.stderr.contains("ConnectionRefused") && Instant::now() < deadline,
            "{}",
            ended.stderr
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(printed, ">>>:HELLO\n>>>:中文!\n>>>:");
    let ended = finish(tester);
    assert_eq!(ended.code, Some(0), "{}{}", ended.stdout, ended.stderr);
    assert!(
        ended.stdout.trim_end().ends_with("1 passed, 0 failed"),
        "{}",
        ended.stdout
    );
}

#[cfg(unix)]
#[test]
fn a_scenario_runs_against_a_serial_device() {
    let Some(pair) = common::pty::PtyPair::open() else {
        return;
    };
    let mut device = pair.device();
    // The device: answers each `AT...\r\n` line with `OK\r\n`, and `ATI` with its name
    // first, as a modem does; however the reads cut the lines.
    let answering = thread::spawn(move || {
        let mut line = Vec::new();
        while let Some(chunk) = device.next_chunk(LIMIT) {
            for byte in chunk {
                line.push(byte);
                if line.ends_with(b"\r\n") {
                    let answer: &[u8] = if line.starts_with(b"ATI") {
                        b"SOCKDBG-PTY 1.0\r\nOK\r\n"
                    } else {
                        b"OK\r\n"
                    };
                    device.write(answer);
                    line.clear();
                }
            }
        }
    });
    let dir = Dir::new("cli-serial");
    let file = dir.file(
        "modem.sdbg",
        "session serial:${dev},baud=9600
timeout 3000

case the modem answers AT
  send text:AT\\r\\n
  expect text:OK\\r\\n

case it names itself
  send text:ATI\\r\\n
  expect regex:(?P<name>[A-Z-]+) 1\\.0\\r\\n
  expect text:OK
",
    );
    let dev = format!("dev={}", pair.near);
    let ended = test_files(&[&file], &["--var", &dev]);
    let out = format!("{}{}", ended.stdout, ended.stderr);
    assert_eq!(ended.code, Some(0), "{out}");
    assert!(out.contains("case the modem answers AT passed"), "{out}");
    assert!(out.contains("case it names itself passed"), "{out}");
    assert!(
        ended.stdout.trim_end().ends_with("2 passed, 0 failed"),
        "{out}"
    );
    drop(pair); // hangs up the device, which ends its thread
    answering.join().ok();
}
