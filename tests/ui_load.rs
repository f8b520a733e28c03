//! UI tests of the Load test tab: the form filled by typing, a run against a real loopback
//! echo server with its live figures and summary (answers, no errors), a field that cannot
//! be used shows its error (in both languages) and starts nothing, and Stop ends a long run
//! at once. The real `App` through egui_kittest, its real engine (or channels the test holds,
//! to see that nothing was started), and a real peer.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use sockdbg::app::App;
use sockdbg::config::ColumnTab;
use sockdbg::i18n::Language;
use sockdbg::load::LoadErrorKind;
use sockdbg::protocol::{Command, LoadEnd};
use ui_support::{AppHarness, Channels, step_until, temp_config};

mod ui_support;

/// How long a load run in these tests may take to report its end.
const RUN_DEADLINE: Duration = Duration::from_secs(30);

/// An echo server on loopback: each connection gets back what it sends, until it closes.
fn echo_server() -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else {
                return;
            };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, handle)
}

/// The app with one TCP server (so the settings column shows), on the Load test tab.
fn harness(name: &str) -> AppHarness {
    let startup = vec!["tcp-server:127.0.0.1:0".parse().expect("spec")];
    let mut harness = ui_support::harness(temp_config(&format!("load-{name}")), startup);
    harness.run_steps(2);
    harness.get_by_label("Load test").click();
    harness.run_steps(3);
    assert_eq!(harness.state().view.tools_tab, ColumnTab::Load);
    harness
}

/// Replaces the text of the field labelled `label` by typing `text`.
fn set_field(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    harness.get_by_label(label).scroll_to_me();
    harness.run_steps(2);
    let node = harness.get_by_label(label);
    let old = node.value().unwrap_or_default().chars().count();
    node.focus();
    harness.run_steps(2);
    harness.key_press(egui::Key::End);
    for _ in 0..old {
        harness.key_press(egui::Key::Backspace);
    }
    harness.get_by_label(label).type_text(text);
    harness.run_steps(2);
}

/// Clicks the widget labelled `label` (a real pointer click: scrolled into view first).
fn click(harness: &mut Harness<'_, App>, label: &str) {
    harness.get_by_label(label).scroll_to_me();
    // Scrolling is animated: let it end before the pointer goes to the widget.
    harness.run_steps(20);
    harness.get_by_label(label).click();
    harness.run_steps(2);
}

/// Steps the harness until `done` holds, failing after [`RUN_DEADLINE`].
fn wait_long(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(
            start.elapsed() < RUN_DEADLINE,
            "timed out waiting for: {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

fn label_contains(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

#[test]
fn a_run_against_an_echo_server_shows_its_figures_and_summary() {
    let (port, _server) = echo_server();
    let mut harness = harness("echo");
    set_field(
        &mut harness,
        "Target",
        &format!("tcp-client:127.0.0.1:{port}"),
    );
    set_field(&mut harness, "Connections", "2");
    set_field(&mut harness, "Duration (ms)", "1500");
    set_field(&mut harness, "Messages/s", "200");
    set_field(&mut harness, "Payload", "text:ping ${conn} ${seq}");
    set_field(&mut harness, "Max error rate", "0");
    click(&mut harness, "Start test");
    assert!(
        harness.state().load.running(),
        "{:?}",
        harness.state().load.error
    );
    wait_long(&mut harness, "a second's record", |app| {
        app.load.run.as_ref().is_some_and(|r| !r.records.is_empty())
    });
    assert!(label_contains(&harness, "Last second"));
    wait_long(&mut harness, "the run's summary", |app| {
        app.load.run.as_ref().is_some_and(|r| r.ended.is_some())
    });
    let run = harness.state().load.run.clone().expect("a run");
    let (end, summary) = run.ended.clone().expect("ended");
    assert_eq!(end, LoadEnd::Completed);
    assert_eq!(summary.connections, 2);
    assert!(summary.answers > 0, "{summary:?}");
    assert_eq!(summary.errors.total(), 0, "{summary:?}");
    assert_eq!(summary.errors.get(LoadErrorKind::Timeout), 0);
    assert!(summary.rtt_us.p50 > 0, "{summary:?}");
    // The per-second records add up to the summary.
    assert_eq!(run.totals.answers, summary.answers);
    assert!(run.exceeded().is_empty());
    assert!(label_contains(&harness, "Summary"));
    assert!(label_contains(&harness, "Completed"));
    assert!(label_contains(&harness, "Within the thresholds"));
    // Each connection sent its own numbered messages, as the samples show.
    assert!(
        run.samples
            .iter()
            .any(|(conn, _, data)| *conn == 2 && data.starts_with(b"ping 2 "))
    );

    // Save CSV writes the records (off the UI thread).
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("run.csv");
    set_field(&mut harness, "CSV file", &csv.display().to_string());
    click(&mut harness, "Save CSV");
    assert_eq!(harness.state().load.csv_path, csv.display().to_string());
    assert!(
        harness.state().load.saving() || harness.state().load.csv_result.is_some(),
        "Save CSV was pressed"
    );
    wait_long(&mut harness, "the CSV written", |app| {
        app.load.csv_result.is_some()
    });
    assert!(matches!(harness.state().load.csv_result, Some(Ok(_))));
    let text = std::fs::read_to_string(&csv).expect("the CSV");
    assert!(text.starts_with("second,elapsed_ms,open,"), "{text}");
    assert_eq!(text.lines().count(), run.records.len() + 1, "{text}");
}

#[test]
fn a_bad_option_shows_its_error_in_both_languages_and_starts_nothing() {
    let mut f = Channels::new(temp_config("load-bad"));
    f.click("Load test");
    set_field(&mut f.harness, "Target", "tcp-client:127.0.0.1:9");
    set_field(&mut f.harness, "Connections", "0");
    click(&mut f.harness, "Start test");
    let message = "Connections: '0' is not a whole number from 1 to 4294967295";
    assert!(
        f.label_contains(message),
        "the error shows under the form: {:?} {:?}",
        f.harness.state().load.error,
        f.harness.state().load.form
    );
    assert!(f.harness.state().load.run.is_none());
    let started = f
        .drain_commands()
        .into_iter()
        .any(|c| matches!(c, Command::StartLoad { .. }));
    assert!(!started, "nothing was started");
    f.harness.state_mut().view.language = Some(Language::Chinese);
    f.harness.run_steps(3);
    assert!(f.label_contains("连接数：“0”不是 1 到 4294967295 之间的整数"));
    f.harness.state_mut().view.language = Some(Language::English);
    f.harness.run_steps(3);

    // A target that is not a client, through the command line's plan check.
    set_field(&mut f.harness, "Connections", "1");
    set_field(&mut f.harness, "Target", "tcp-server:9");
    click(&mut f.harness, "Start test");
    assert!(f.label_contains("Target: a load test needs a client"));
    // A good form starts a run: the error goes, the engine is asked.
    set_field(&mut f.harness, "Target", "tcp-client:127.0.0.1:9");
    click(&mut f.harness, "Start test");
    assert!(!f.label_contains("Target:"));
    let started = f
        .drain_commands()
        .into_iter()
        .filter(|c| matches!(c, Command::StartLoad { .. }))
        .count();
    assert_eq!(started, 1);
}

#[test]
fn stop_ends_a_long_run_at_once() {
    let (port, _server) = echo_server();
    let mut harness = harness("stop");
    set_field(
        &mut harness,
        "Target",
        &format!("tcp-client:127.0.0.1:{port}"),
    );
    set_field(&mut harness, "Duration (ms)", "600000");
    click(&mut harness, "Start test");
    wait_long(&mut harness, "a second's record", |app| {
        app.load.run.as_ref().is_some_and(|r| !r.records.is_empty())
    });
    click(&mut harness, "Stop test");
    // Bounded by the ordinary UI deadline, far below the run's ten minutes.
    step_until(&mut harness, "the run's end after Stop", |app| {
        app.load.run.as_ref().is_some_and(|r| r.ended.is_some())
    });
    let (end, summary) = harness
        .state()
        .load
        .run
        .clone()
        .and_then(|r| r.ended)
        .expect("ended");
    assert_eq!(end, LoadEnd::Stopped);
    assert!(summary.answers > 0, "{summary:?}");
    harness.run_steps(3);
    assert!(label_contains(&harness, "Stopped"));
}
