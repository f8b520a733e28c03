//! `sockdbg load` end to end: the real binary against real loopback servers (std sockets in
//! threads): the summary's fields in their documented order, the per-second lines and CSV,
//! each mode, the exit thresholds (exceeded and not), and bad arguments. Every wait has a
//! deadline; runs are short and rate-limited.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::free_tcp_port;

const BIN: &str = env!("CARGO_BIN_EXE_sockdbg");
/// How long one sockdbg run may take.
const LIMIT: Duration = Duration::from_secs(20);

/// What a finished run left.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `sockdbg load ARGS` to its end (bounded).
fn load(args: &[&str]) -> Ended {
    let mut child = Command::new(BIN)
        .arg("load")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockdbg starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let stdout = thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).ok();
        text
    });
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).ok();
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
                panic!("sockdbg load {args:?} did not exit in time");
            }
        }
    };
    Ended {
        code: status.code(),
        stdout: stdout.join().expect("stdout thread"),
        stderr: stderr.join().expect("stderr thread"),
    }
}

/// A TCP server in threads that answers each read with the same bytes after `delay`.
fn tcp_echo(delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            thread::spawn(move || {
                stream.set_read_timeout(Some(LIMIT)).ok();
                let mut buf = [0u8; 4096];
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

/// A UDP server in a thread that sends each datagram back.
fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(LIMIT)).ok();
    let addr = socket.local_addr().expect("addr");
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            socket.send_to(&buf[..n], from).ok();
        }
    });
    addr
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn jsonl_prints_seconds_then_the_summary_with_its_fields_in_order() {
    let addr = tcp_echo(Duration::ZERO);
    let dir = common::temp_dir("load");
    let csv = dir.path().join("series.csv");
    let target = format!("tcp-client:{addr}");
    let csv_arg = csv.display().to_string();
    let ran = load(&[
        &target,
        "--connections",
        "2",
        "--rate",
        "100",
        "--duration-ms",
        "2200",
        "--send",
        "text:ping ${conn}/${seq}",
        "--format",
        "jsonl",
        "--csv",
        &csv_arg,
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let lines = json_lines(&ran.stdout);
    let (summary, seconds) = lines.split_last().expect("lines");
    assert!(seconds.len() >= 2, "{}", ran.stdout);
    assert!(seconds.iter().all(|l| l["kind"] == "second"));
    assert_eq!(seconds[0]["second"], 1);
    // The summary's keys, in the documented order.
    let summary_line = ran.stdout.lines().last().expect("summary line");
    let keys: Vec<&str> = [
        "kind",
        "connections",
        "connect_errors",
        "messages_sent",
        "answers",
        "errors",
        "rx_bytes",
        "tx_bytes",
        "rtt_us",
        "elapsed_ms",
    ]
    .to_vec();
    let mut at = 0;
    for key in &keys {
        let found = summary_line[at..]
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} after {at} in {summary_line}"));
        at += found;
    }
    let object = summary.as_object().expect("object");
    assert_eq!(object.len(), keys.len(), "{summary_line}");
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["connections"], 2);
    assert_eq!(summary["connect_errors"], 0);
    let sent = summary["messages_sent"].as_u64().expect("number");
    // 440 at 100/s on two connections for 2.2 s on a quiet machine; the rate is a ceiling,
    // and a loaded one sends fewer. Enough to show the run kept sending; the
    // exact checks (answers, the CSV's rows adding up to it) hold for any count.
    assert!(sent >= 20, "{summary_line}");
    let answers = summary["answers"].as_u64().expect("number");
    assert!(answers + 2 >= sent, "{summary_line}");
    let rtt = summary["rtt_us"].as_object().expect("rtt");
    let rtt_keys: Vec<&str> = rtt.keys().map(String::as_str).collect();
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(rtt_keys.contains(&key), "{summary_line}");
    }
    assert!(summary["rtt_us"]["p50"].as_u64().expect("p50") > 0);
    assert_eq!(summary["errors"]["reset"], 0);
    let elapsed = summary["elapsed_ms"].as_u64().expect("elapsed");
    assert!(elapsed >= 2200, "{summary_line}");
    // The CSV: a header and a row per second printed.
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("second,elapsed_ms,open,"), "{text}");
    assert_eq!(rows.len(), seconds.len() + 1, "{text}");
    let sent_in_rows: u64 = rows[1..]
        .iter()
        .map(|r| {
            r.split(',')
                .nth(5)
                .and_then(|c| c.parse::<u64>().ok())
                .expect("cell")
        })
        .sum();
    assert_eq!(sent_in_rows, sent, "{text}");
}

#[test]
fn each_mode_runs_from_the_command_line() {
    let tcp = format!("tcp-client:{}", tcp_echo(Duration::ZERO));
    let udp = format!("udp-client:{}", udp_echo());
    let common = [
        "--duration-ms",
        "1200",
        "--rate",
        "100",
        "--format",
        "jsonl",
    ];
    let runs: [(&str, &[&str]); 4] = [
        (
            &tcp,
            &[
                "--mode",
                "stream",
                "--send",
                "hex:00 01",
                "--framing",
                "fixed:2",
            ],
        ),
        (&tcp, &["--mode", "connect", "--connections", "3"]),
        (&udp, &["--mode", "pingpong", "--expect", "text:ping"]),
        (
            &tcp,
            &[
                "--mode",
                "pingpong",
                "--expect",
                "contains:ng",
                "--sample",
                "1",
            ],
        ),
    ];
    for (target, extra) in runs {
        let mut args = vec![target];
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        let ran = load(&args);
        assert_eq!(ran.code, Some(0), "{args:?}: {}", ran.stderr);
        let lines = json_lines(&ran.stdout);
        let summary = lines.last().expect("summary");
        assert_eq!(summary["kind"], "summary", "{args:?}");
        assert_eq!(
            summary["errors"]["unexpected"], 0,
            "{args:?}: {}",
            ran.stdout
        );
        let key = if extra.contains(&"connect") {
            "connections"
        } else {
            "answers"
        };
        // 120 at 100/s for 1.2 s on a quiet machine; pingpong waits for each answer, and
        // under Wine on a loaded machine got 43. Enough to show the mode repeats.
        assert!(
            summary[key].as_u64().expect(key) >= 20,
            "{args:?}: {summary}"
        );
        if extra.contains(&"--sample") {
            let samples: Vec<_> = lines.iter().filter(|l| l["kind"] == "sample").collect();
            assert_eq!(samples.len(), 2, "one each way: {}", ran.stdout);
            assert_eq!(samples[0]["hex"], "70696e67");
        }
    }
}

#[test]
fn text_prints_a_line_a_second_and_a_summary() {
    let addr = tcp_echo(Duration::ZERO);
    let target = format!("tcp-client:{addr}");
    let ran = load(&[&target, "--duration-ms", "1500", "--rate", "50"]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let first = ran.stdout.lines().next().expect("a line");
    assert!(
        first.trim_start().starts_with("1s  open 1"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("\nsummary: "), "{}", ran.stdout);
    assert!(ran.stdout.contains("rtt: p50 "), "{}", ran.stdout);
}

#[test]
fn thresholds_set_the_exit_code() {
    let slow = format!("tcp-client:{}", tcp_echo(Duration::from_millis(30)));
    let base = ["--duration-ms", "1000", "--rate", "50"];
    let run = |target: &str, extra: &[&str]| {
        let mut args = vec![target];
        args.extend_from_slice(&base);
        args.extend_from_slice(extra);
        load(&args)
    };
    // Every answer takes at least 30 ms.
    let ran = run(&slow, &["--max-p99-ms", "5"]);
    assert_eq!(ran.code, Some(1), "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("exceeds --max-p99-ms 5"),
        "{}",
        ran.stderr
    );
    let ran = run(&slow, &["--max-p99-ms", "20000", "--max-error-rate", "0"]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    // Nothing listens: every connect is refused.
    let refused = format!("tcp-client:127.0.0.1:{}", free_tcp_port());
    let ran = run(&refused, &["--max-error-rate", "0.5"]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("exceeds --max-error-rate 0.5"),
        "{}",
        ran.stderr
    );
    let ran = run(&refused, &[]);
    assert_eq!(ran.code, Some(0), "no threshold given: {}", ran.stderr);
}

#[test]
fn bad_arguments_exit_2_with_the_parsers_own_messages() {
    let table: [(&[&str], &str); 8] = [
        (
            &["tcp-client:127.0.0.1:9", "--send", "ping"],
            "must start with text: or hex:",
        ),
        (&["tcp-client:127.0.0.1:9", "--send", "hex:0G"], "--send"),
        (&["tcp-server:9"], "load needs a client"),
        (
            &["tcp-client:127.0.0.1:9", "--expect", "pong"],
            "needs a prefix",
        ),
        (&["tcp-client:127.0.0.1:9", "--framing", "len:u24"], "u24"),
        (
            &["tcp-client:127.0.0.1:9", "--mode", "fast"],
            "pingpong, stream or connect",
        ),
        (
            &["tcp-client:127.0.0.1:9", "--connections", "0"],
            "--connections",
        ),
        (&["nope:1"], "unknown session kind"),
    ];
    for (args, message) in table {
        let ran = load(args);
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(message), "{args:?}: {}", ran.stderr);
    }
}
