//! The console companion (`sockdbg-console`, shipped as `sockdbg.com` on Windows): it starts
//! the sockdbg beside it with the same arguments and standard handles, waits for a terminal
//! mode to end and passes its exit code on. Run on Linux and, in CI, under Wine, where the
//! sockdbg it starts is the windowed `sockdbg.exe`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const COMPANION: &str = env!("CARGO_BIN_EXE_sockdbg-console");
const BIN: &str = env!("CARGO_BIN_EXE_sockdbg");
/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(20);

/// Runs `program` with `args` to its end (bounded) and returns (code, stdout, stderr).
fn run(program: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()).ok());
    let output = rx
        .recv_timeout(STEP)
        .unwrap_or_else(|_| panic!("{program} {args:?} did not end in {STEP:?}"))
        .expect("waits");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_argument_says_the_same_and_exits_2_through_the_companion() {
    let args = ["--headless", "tcp-nonsense:1"];
    let direct = run(BIN, &args);
    let through = run(COMPANION, &args);
    assert_eq!(direct.0, Some(2), "sockdbg itself: {direct:?}");
    assert!(direct.2.contains("tcp-nonsense"), "{direct:?}");
    assert_eq!(through, direct, "the companion passes output and code on");
}

#[test]
fn help_reaches_the_companions_standard_output() {
    let (code, stdout, _) = run(COMPANION, &["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("--headless"), "{stdout}");
}

/// A headless run through the companion: its output arrives on the companion's stdout while
/// it runs, and the companion ends only when the run has (`--once`), with its code.
#[test]
fn a_headless_run_is_waited_for_and_its_output_passed_on() {
    let mut child = Command::new(COMPANION)
        .args(["--headless", "tcp-server:127.0.0.1:0", "--once"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = || match lines.recv_timeout(STEP) {
        Ok(line) => line,
        Err(e) => panic!("no line in {STEP:?}: {e}"),
    };
    let listening = next_line();
    let addr: SocketAddr = listening
        .split_once("listening on ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {listening:?}"));
    let mut peer = TcpStream::connect_timeout(&addr, STEP).expect("connects");
    peer.write_all(b"through the companion").expect("writes");
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("through the companion"))
    {
        seen.push(next_line());
    }
    // The run is still going, and so is the companion.
    assert!(
        child.try_wait().expect("polls").is_none(),
        "ended early: {seen:?}"
    );
    drop(peer);
    peer_closed_wait(&mut child);
}

/// Waits (bounded) for the companion to end after the run's only client left; exit 0.
fn peer_closed_wait(child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        if let Some(status) = child.try_wait().expect("polls") {
            assert_eq!(status.code(), Some(0), "the run's code is passed on");
            return;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            let mut rest = String::new();
            if let Some(mut out) = child.stdout.take() {
                out.read_to_string(&mut rest).ok();
            }
            panic!("the companion did not end after the run: {rest}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
