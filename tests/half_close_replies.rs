//! Issue 14, item 1: a reply to bytes that arrived before the peer finished sending (its
//! FIN, or a TLS close_notify) is sent before we close, as socat and ncat echo servers do.
//! Real clients send a request, shut their write side and read to the end (`printf abc |
//! nc -N`, python's `shutdown(SHUT_WR)`), over TCP and TLS, against headless `--echo` (the
//! real binary) and the window's auto-reply rule (the real `App` and engine in a kittest
//! harness). Before the fix, headless echoed from its driver after the event round trip, so
//! the connection had closed by then and the client read nothing.

mod common;
mod ui_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use common::tls::{pem_path, rustls_client};
use common::{DEADLINE, tcp_connect};
use egui_kittest::kittest::Queryable;
use sockdbg::app::ToolAction;
use sockdbg::app::{Action, App};
use sockdbg::codec::reply::MatchKind;
use sockdbg::model::SessionState;
use ui_support::{AppHarness, harness, only_session, step_until, temp_config};

/// What the clients send before their FIN, and what the rule answers.
const REQUEST: &[u8] = b"ping";
const REPLY: &[u8] = b"pong";

/// Sends `request`, shuts the write side (FIN) and reads until the server closes.
fn tcp_half_close_exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut client = tcp_connect(addr);
    client.write_all(request).expect("write");
    client.shutdown(Shutdown::Write).expect("half-close");
    let mut got = Vec::new();
    client.read_to_end(&mut got).expect("read to the end");
    got
}

/// Sends `request` over TLS (trusting `pem`), then close_notify (TLS 1.3's half-close), and
/// reads until the server closes.
fn tls_half_close_exchange(addr: SocketAddr, pem: &Path, request: &[u8]) -> Vec<u8> {
    let mut tls = rustls_client(addr, pem);
    tls.write_all(request).expect("write");
    tls.conn.send_close_notify();
    tls.flush().expect("flush the request and close_notify");
    let mut got = Vec::new();
    tls.read_to_end(&mut got).expect("read to a clean end");
    got
}

// ---------------------------------------------------------------------------------------------
// Headless --echo.

/// A `sockdbg --headless` run whose stdout lines arrive on a channel.
struct Headless {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Headless {
    fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sockdbg"))
            .arg("--headless")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sockdbg");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text` and returns it.
    fn line_with(&mut self, text: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => {
                    self.seen.push(line.clone());
                    return line;
                }
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {text:?}; stdout so far: {:#?}", self.seen),
            }
        }
    }

    /// The address the session listens on.
    fn listening(&mut self) -> SocketAddr {
        let line = self.line_with("listening on ");
        let after = line.split("listening on ").nth(1).unwrap_or_default();
        after
            .split_whitespace()
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        self.child.kill().ok(); // it may have ended
        self.child.wait().ok();
    }
}

#[test]
fn headless_echo_answers_a_tcp_client_that_half_closed() {
    let mut run = Headless::spawn(&["tcp-server:127.0.0.1:0", "--echo"]);
    let addr = run.listening();
    assert_eq!(tcp_half_close_exchange(addr, b"abc"), b"abc");
    run.line_with("disconnected: closed by peer");
    // The echo is in the log before the close.
    assert!(
        run.seen
            .iter()
            .any(|l| l.contains(" tx ") && l.ends_with(" 3 abc")),
        "{:#?}",
        run.seen
    );
}

#[test]
fn headless_echo_answers_a_tls_client_that_sent_close_notify() {
    let config = tempfile::tempdir().expect("temp dir");
    let config_dir = config.path().display().to_string();
    let mut run = Headless::spawn(&[
        "tls-server:127.0.0.1:0",
        "--echo",
        "--config-dir",
        &config_dir,
    ]);
    let addr = run.listening();
    let pem = pem_path(&run.line_with("its PEM is at "));
    assert_eq!(tls_half_close_exchange(addr, &pem, b"abc"), b"abc");
    run.line_with("disconnected: closed by peer (TLS close_notify)");
}

// ---------------------------------------------------------------------------------------------
// The window's auto-reply rule.

/// The port the app's only session listens on, once it runs.
fn running_port(harness: &mut egui_kittest::Harness<'_, App>) -> u16 {
    step_until(harness, "the session runs", |app| {
        matches!(only_session(app).state, SessionState::Running { .. })
    });
    match only_session(harness.state()).state {
        SessionState::Running { local_addr } => local_addr.port(),
        _ => unreachable!("waited for Running"),
    }
}

/// Starts the real app with one server session of `spec`, adds the auto-reply rule
/// "ping => pong" the way the rule editor does, and restarts the session so the engine has
/// the rule before any client (commands reach the engine in order). Returns the harness
/// (which holds the settings directory, [`AppHarness::store`]) and the port.
fn window_with_ping_rule(name: &str, spec: &str) -> (AppHarness, u16) {
    let store = temp_config(name);
    let mut harness = harness(store, vec![spec.parse().expect("spec")]);
    running_port(&mut harness);
    // The rule editor is the settings column's Auto-reply tab.
    harness.get_by_label("Auto-reply").click();
    harness.run_steps(2);
    harness.get_by_label("Add rule").click();
    harness.run_steps(2);
    let id = only_session(harness.state()).id;
    {
        let app = harness.state_mut();
        let rules = &mut app
            .views
            .get_mut(&id)
            .expect("the session's view")
            .tools
            .rules;
        rules[0].match_kind = MatchKind::Exact;
        rules[0].pattern = "ping".into();
        rules[0].reply = "pong".into();
        app.perform(Action::Tool(id, ToolAction::ApplyReactions));
    }
    harness.get_by_label("Stop").click();
    step_until(&mut harness, "stopped", |app| {
        only_session(app).state == SessionState::Stopped
    });
    harness.get_by_label("Start").click();
    let port = running_port(&mut harness);
    (harness, port)
}

#[test]
fn the_windows_auto_reply_answers_a_tcp_client_that_half_closed() {
    let (mut harness, port) = window_with_ping_rule("half-close-tcp", "tcp-server:127.0.0.1:0");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(tcp_half_close_exchange(addr, REQUEST), REPLY);
    step_until(&mut harness, "the reply logged", |app| {
        only_session(app).counters.tx_bytes == REPLY.len() as u64
    });
}

#[test]
fn the_windows_auto_reply_answers_a_tls_client_that_sent_close_notify() {
    let (mut harness, port) = window_with_ping_rule("half-close-tls", "tls-server:127.0.0.1:0");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let pem = harness
        .store()
        .path()
        .join("certs")
        .join(format!("sockdbg-{port}-cert.pem"));
    assert_eq!(tls_half_close_exchange(addr, &pem, REQUEST), REPLY);
    step_until(&mut harness, "the reply logged", |app| {
        only_session(app).counters.tx_bytes == REPLY.len() as u64
    });
}
