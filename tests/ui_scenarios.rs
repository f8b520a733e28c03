//! UI tests of the Scenarios tab: errors shown while typing (in both languages), a scenario
//! run on new sessions against a real loopback device that passes with its captured
//! variable, one that fails with what arrived instead, Stop, and Save as scenario from the
//! log. The real `App` through egui_kittest, its real engine, and a real peer.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::app::scenarios::{RunOn, StepState};
use sockdbg::config::ColumnTab;
use sockdbg::i18n::Language;
use sockdbg::model::EntryKind;
use sockdbg::protocol::StepOutcome;
use ui_support::{AppHarness, step_until, temp_config};

mod ui_support;

/// A device on loopback: answers each `PING` line with `PONG 42`, anything else with
/// `ERR`, until its client closes. Takes `clients` connections, each served on its own
/// thread.
fn device(clients: usize) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        for _ in 0..clients {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            std::thread::spawn(move || serve(stream));
        }
    });
    (port, handle)
}

fn serve(stream: TcpStream) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let answer: &[u8] = if line.trim_end() == "PING" {
            b"PONG 42\r\n"
        } else {
            b"ERR\r\n"
        };
        if writer.write_all(answer).is_err() {
            break;
        }
    }
}

/// The app with one TCP server (so the settings column shows), on the Scenarios tab.
fn harness(name: &str) -> AppHarness {
    let startup = vec!["tcp-server:127.0.0.1:0".parse().expect("spec")];
    let mut harness = ui_support::harness(temp_config(&format!("scenarios-{name}")), startup);
    harness.run_steps(2);
    click(&mut harness, "Scenarios");
    assert_eq!(harness.state().view.tools_tab, ColumnTab::Scenarios);
    harness
}

fn click(harness: &mut Harness<'_, App>, label: &str) {
    harness.get_by_label(label).click();
    harness.run_steps(3);
}

fn any_label_contains(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// The log row showing `text` (the step list names the same bytes in its `send`/`expect`
/// lines).
fn row<'a>(harness: &'a Harness<'_, App>, text: &'a str) -> egui_kittest::Node<'a> {
    harness
        .query_all_by_label_contains(text)
        .find(|n| {
            let node = n.accesskit_node();
            let shown = node.label().or_else(|| node.value()).unwrap_or_default();
            !shown.contains("text:")
        })
        .unwrap_or_else(|| panic!("a log row with {text}"))
}

/// Types `text` into the scenario editor, replacing what it holds.
fn type_scenario(harness: &mut Harness<'_, App>, text: &str) {
    let editor = harness
        .get_all_by_role(Role::MultilineTextInput)
        .next()
        .expect("the scenario editor");
    editor.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    harness
        .get_all_by_role(Role::MultilineTextInput)
        .next()
        .expect("the scenario editor")
        .type_text(text);
    harness.run_steps(3);
}

/// Runs what the editor holds on new sessions and waits for the job to end.
fn run_on_new(harness: &mut Harness<'_, App>) {
    harness.state_mut().scenarios.run_on = RunOn::New;
    harness.run_steps(2);
    click(harness, "Run");
    step_until(harness, "the scenario ends", |app| {
        app.scenarios.run.as_ref().is_some_and(|r| r.ended)
    });
    harness.run_steps(3);
}

#[test]
fn errors_show_while_typing_with_line_and_column_in_both_languages() {
    let mut harness = harness("errors");
    type_scenario(&mut harness, "send txt:x\nrepeat 2\n");
    assert!(
        any_label_contains(
            &harness,
            "1:6: payload 'txt:x' must start with text: or hex:"
        ),
        "the parser's error, where it says"
    );
    assert!(any_label_contains(&harness, ": repeat without its end"));
    assert!(
        harness.get_by_label("Run").accesskit_node().is_disabled(),
        "an invalid scenario cannot run"
    );
    harness.state_mut().view.language = Some(Language::Chinese);
    harness.run_steps(3);
    assert!(any_label_contains(
        &harness,
        "1:6: 负载“txt:x”必须以 text: 或 hex: 开头"
    ));
    assert!(any_label_contains(&harness, "repeat 缺少对应的 end"));
    harness.state_mut().view.language = Some(Language::English);
    harness.run_steps(2);
    // Fixing the text clears the errors as it is typed.
    type_scenario(&mut harness, "send text:x\n");
    assert!(!any_label_contains(&harness, "must start with"));
    assert!(harness.state().scenarios.errors().is_empty());
}

#[test]
fn a_scenario_passes_on_a_new_session_and_one_fails_with_what_arrived() {
    let (port, device) = device(2);
    let mut harness = harness("run");
    type_scenario(
        &mut harness,
        &format!(
            "session tcp-client:127.0.0.1:{port}\nsend text:PING\\n\nexpect regex:PONG (?P<n>[0-9]+)\\r\\n within 2000\nsend text:PING ${{n}}\\n\nexpect contains:ERR within 2000\n"
        ),
    );
    assert!(
        harness.state().scenarios.errors().is_empty(),
        "{:?}",
        harness.state().scenarios.errors()
    );
    let sessions_before = harness.state().sessions.iter().count();
    run_on_new(&mut harness);
    let app = harness.state();
    assert_eq!(
        app.sessions.iter().count(),
        sessions_before + 1,
        "a new session"
    );
    let run = app.scenarios.run.as_ref().expect("a run");
    assert_eq!((run.passed, run.failed), (1, 0));
    assert!(run.steps.iter().all(|s| matches!(
        s.state,
        StepState::Ended {
            outcome: StepOutcome::Passed { .. },
            ..
        }
    )));
    // The step list shows the ticks, the capture, and the run's traffic is in the log.
    assert!(any_label_contains(&harness, "✔"));
    assert!(any_label_contains(&harness, "n = 42"));
    assert!(any_label_contains(&harness, "1 passed, 0 failed"));
    let session = app.sessions.get(run.session).expect("the new session");
    let texts: Vec<Vec<u8>> = (0..session.log.len())
        .filter_map(|i| session.log.get_by_index(i))
        .filter(|e| e.kind == EntryKind::Rx)
        .map(|e| e.bytes.to_vec())
        .collect();
    assert!(texts.concat().starts_with(b"PONG 42\r\n"), "{texts:?}");

    // A scenario that fails: the step is crossed, with why and what came instead. It waits
    // 2 s in full (NOPE never comes) so that the device's PONG surely arrives within it,
    // however loaded the machine, and is shown as what came.
    type_scenario(
        &mut harness,
        &format!(
            "session tcp-client:127.0.0.1:{port}\nsend text:PING\\n\nexpect contains:NOPE within 2000\n"
        ),
    );
    run_on_new(&mut harness);
    let run = harness.state().scenarios.run.as_ref().expect("a run");
    assert_eq!((run.passed, run.failed), (0, 1));
    assert!(any_label_contains(&harness, "✖"));
    assert!(any_label_contains(
        &harness,
        "expected contains:NOPE within 2000 ms"
    ));
    assert!(
        any_label_contains(&harness, "50 4F 4E 47 20 34 32 0D 0A"),
        "the hex of what came: {:?}",
        harness.state().scenarios.run
    );
    harness.state_mut().view.language = Some(Language::Chinese);
    harness.run_steps(3);
    assert!(any_label_contains(
        &harness,
        "在 2000 ms 内没有等到 contains:NOPE"
    ));
    drop(harness);
    device.join().expect("device thread");
}

#[test]
fn stop_ends_a_run_that_waits_and_save_as_scenario_writes_the_log() {
    let mut harness = harness("stop");
    // A server session waits for its clients: the run waits until stopped.
    let mut port = 0;
    step_until(&mut harness, "listening", |app| {
        if let sockdbg::model::SessionState::Running { local_addr } =
            ui_support::only_session(app).state
        {
            port = local_addr.port();
        }
        port != 0
    });
    type_scenario(
        &mut harness,
        "expect contains:hello within forever\nsend text:world\\r\\n\n",
    );
    harness.state_mut().scenarios.run_on = RunOn::Selected;
    harness.run_steps(2);
    click(&mut harness, "Run");
    step_until(&mut harness, "the job watches the session", |app| {
        app.scenarios.run.as_ref().is_some_and(|r| r.attached)
    });
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    peer.write_all(b"hello\r\n").expect("write");
    let mut answer = [0u8; 7];
    peer.set_read_timeout(Some(ui_support::DEADLINE))
        .expect("timeout");
    std::io::Read::read_exact(&mut peer, &mut answer).expect("the scenario answers");
    assert_eq!(&answer, b"world\r\n");
    step_until(&mut harness, "the run passed", |app| {
        app.scenarios.run.as_ref().is_some_and(|r| r.passed == 1)
    });
    // A server keeps serving each client until stopped.
    assert!(harness.state().scenarios.running());
    harness.run_steps(3);
    assert!(any_label_contains(&harness, "1 passed, 0 failed"));
    click(&mut harness, "Stop run");
    step_until(&mut harness, "stopped", |app| !app.scenarios.running());

    // Save as scenario: the received line and the answer, as expect and send lines.
    step_until(&mut harness, "both logged", |app| {
        let log = &ui_support::only_session(app).log;
        (0..log.len())
            .filter_map(|i| log.get_by_index(i))
            .filter(|e| e.kind.is_traffic())
            .count()
            == 2
    });
    harness.state_mut().view.log_hex = false;
    harness.run_steps(3);
    row(&harness, "hello\\r\\n").click();
    harness.run_steps(3);
    let extend = row(&harness, "world\\r\\n");
    extend.click_modifiers(egui::Modifiers::SHIFT);
    harness.run_steps(3);
    click(&mut harness, "Save as scenario");
    let text = harness.state().scenarios.text.clone();
    assert!(
        text.ends_with("expect contains:hello\\r\\nsend text:world\\r\\n\n")
            || text.ends_with("expect contains:hello\\r\\n\nsend text:world\\r\\n\n"),
        "{text}"
    );
    assert!(
        text.starts_with("session tcp-server:127.0.0.1:0\n"),
        "{text}"
    );
    assert_eq!(harness.state().view.tools_tab, ColumnTab::Scenarios);
    assert!(harness.state().scenarios.errors().is_empty());
}

/// A run on new sessions whose session cannot start (a refused connect) says why: the
/// engine may refuse the run as "not running" when the session ended before the run
/// attached, and the window then names the start failure, in both languages. Over the
/// app's channels, so the order (the failure first, then the refusal) is the one a fast
/// refusal gives.
#[test]
fn a_run_whose_session_cannot_start_names_the_start_failure() {
    use sockdbg::protocol::{Command, Event, JobFailure, OsError, ScenarioUpdate, StartFailure};
    let config = temp_config("scenarios-refused");
    let mut channels = ui_support::Channels::new(config);
    channels.click("Scenarios");
    let app = channels.harness.state_mut();
    app.scenarios.text = "session tcp-client:127.0.0.1:9\nsend text:x\n".to_string();
    app.scenarios.edited = true;
    app.scenarios.run_on = RunOn::New;
    channels.harness.run_steps(2);
    channels.click("Run");
    let (id, job) = channels
        .drain_commands()
        .into_iter()
        .find_map(|c| match c {
            Command::StartScenario { id, job, .. } => Some((id, job)),
            _ => None,
        })
        .expect("the run was asked for");
    let addr = "127.0.0.1:9".parse().expect("addr");
    channels.event(Event::StartFailed {
        id,
        reason: StartFailure::Connect {
            addr,
            cause: OsError::ConnectionRefused,
        },
    });
    channels.event(Event::Scenario {
        id,
        job,
        update: ScenarioUpdate::Ended {
            runs: 0,
            refused: Some(JobFailure::NotRunning),
        },
    });
    let run = channels
        .harness
        .state()
        .scenarios
        .run
        .as_ref()
        .expect("a run");
    assert!(run.ended);
    assert!(
        channels.label_contains("could not run: "),
        "the run says it could not run"
    );
    assert!(
        channels.label_contains("refused"),
        "and why: {:?}",
        run.not_run()
    );
    assert!(!channels.label_contains("start it first"));
    channels.harness.state_mut().view.language = Some(Language::Chinese);
    channels.harness.run_steps(3);
    assert!(channels.label_contains("无法运行："));
    assert!(channels.label_contains("连接被拒绝"));
    assert!(!channels.label_contains("请先启动"));
}
