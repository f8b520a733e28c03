//! UI tests of variables in sends (issue 15) on the real `App`: `${seq}` in the send box,
//! quick commands and periodic sends counts each source's sends, the preview shows the next
//! expansion, an unknown variable is an error where the user looks (never a literal), the
//! Scenarios tab's Variables are known, and `$${` still sends a literal `${`. Over the test's
//! channels (what crossed them) and over a real engine to a real loopback peer.

use std::net::TcpStream;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use sockdbg::app::App;
use sockdbg::protocol::{Command, SendTarget};

mod ui_support;

use ui_support::{Channels, only_session, read_exactly, step_until, temp_config};

fn fixture(name: &str) -> Channels {
    Channels::new(temp_config(&format!("vars-{name}")))
}

#[test]
fn send_box_seq_counts_up_and_the_preview_shows_the_next() {
    let mut f = fixture("sendbox");
    f.type_in_send_box("N=${seq}");
    assert!(
        f.label_contains("3 bytes: 4E 3D 31  (next send: ${seq} = 1)"),
        "the first send is 1"
    );
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"N=1".to_vec()]);
    assert!(f.label_contains("3 bytes: 4E 3D 32  (next send: ${seq} = 2)"));
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"N=2".to_vec()]);

    // Hex follows the scenario rule: `${seq}` alone is one byte. The count is the send
    // box's, whatever its text.
    f.click("Hex send");
    f.type_in_send_box("01 ${seq}");
    assert!(f.label_contains("2 bytes: 01 03  (next send: ${seq} = 3)"));
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![vec![0x01, 0x03]]);
    f.type_in_send_box("01 ${seq:u16be}");
    assert!(f.label_contains("3 bytes: 01 00 04"));
}

#[test]
fn an_unknown_variable_is_an_error_not_a_literal() {
    let mut f = fixture("unknown");
    f.type_in_send_box("T=${temp}");
    let message = "unknown variable 'temp' at column 3";
    assert!(f.label_contains(message), "the preview says so");
    f.click("Send");
    assert!(f.sent_bytes().is_empty(), "nothing is sent");
    assert!(f.label_contains(message), "and the send says why");
    let id = f.id;
    assert!(f.harness.state().views[&id].send_error.is_some());

    // The Scenarios tab's Variables are known to sends too.
    f.harness.state_mut().scenarios.vars = "temp=21.5".to_string();
    f.type_in_send_box("T=${temp}");
    assert!(f.label_contains("6 bytes: 54 3D 32 31 2E 35"));
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"T=21.5".to_vec()]);
}

#[test]
fn a_literal_dollar_brace_still_sends() {
    let mut f = fixture("literal");
    f.type_in_send_box("$${seq} costs $5");
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"${seq} costs $5".to_vec()]);
    // With escapes on (the default), `\x24` is a `$` too, as in scenario files.
    f.type_in_send_box("\\x24{x}");
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"${x}".to_vec()]);
}

#[test]
fn quick_commands_count_their_own_seq() {
    let mut f = fixture("quick");
    f.click("Commands");
    f.type_in_send_box("Q${seq}");
    f.click("Add to session");
    assert!(
        f.label_contains("(next send: ${seq} = 1)"),
        "the editor previews the next send"
    );
    f.click("Done");
    // The send box counts apart from the command.
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"Q1".to_vec()]);
    f.click("Q${seq}");
    assert_eq!(f.sent_bytes(), vec![b"Q1".to_vec()]);
    f.click("Q${seq}");
    assert_eq!(f.sent_bytes(), vec![b"Q2".to_vec()]);
    f.harness
        .get_all_by_label("Edit")
        .last()
        .expect("the command's Edit")
        .click();
    f.harness.run_steps(2);
    assert!(f.label_contains("2 bytes: 51 33  (next send: ${seq} = 3)"));
}

#[test]
fn a_periodic_send_hands_its_template_to_the_engine() {
    let mut f = fixture("periodic");
    f.click("Sending");
    // An unknown variable starts nothing and says why under the send box.
    f.type_in_send_box("P${nope}");
    f.click("Start periodic");
    assert!(
        !f.drain_commands()
            .iter()
            .any(|c| matches!(c, Command::StartPeriodic { .. })),
        "nothing starts"
    );
    assert!(f.label_contains("unknown variable 'nope'"));

    f.type_in_send_box("P${seq}");
    f.click("Start periodic");
    let payload = f
        .drain_commands()
        .into_iter()
        .find_map(|c| match c {
            Command::StartPeriodic {
                payload, target, ..
            } => Some((payload, target)),
            _ => None,
        })
        .map(|(payload, target)| {
            assert_eq!(target, SendTarget::All);
            payload
        })
        .expect("a StartPeriodic command");
    // The engine expands it per tick: 1, 2, 3 (engine_send tests the real ticks).
    let ticks: Vec<Vec<u8>> = (1..=3)
        .map(|seq| payload.bytes(seq).expect("expands").to_vec())
        .collect();
    assert_eq!(ticks, [b"P1".to_vec(), b"P2".to_vec(), b"P3".to_vec()]);
}

#[test]
fn the_chinese_window_words_the_variable_errors() {
    let mut f = fixture("chinese");
    f.harness
        .state_mut()
        .perform(sockdbg::app::Action::SetLanguage(
            sockdbg::i18n::Language::Chinese,
        ));
    f.harness.run_steps(2);
    f.type_in_send_box("${nope}");
    assert!(f.label_contains("第 1 列的变量“nope”未知"));
    f.type_in_send_box("N=${seq}");
    assert!(f.label_contains("（下次发送：${seq} = 1）"));
}

#[test]
fn seq_arrives_at_a_real_peer_in_order() {
    let mut harness = ui_support::harness(
        temp_config("vars-real"),
        vec!["tcp-server:127.0.0.1:0".parse().expect("spec")],
    );
    let mut port = 0;
    step_until(&mut harness, "listening", |app: &App| {
        if let sockdbg::model::SessionState::Running { local_addr } = &only_session(app).state {
            port = local_addr.port();
        }
        port != 0
    });
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    step_until(&mut harness, "client listed", |app| {
        only_session(app).connected_peers().count() == 1
    });
    let send_box = harness.get_by_role(Role::MultilineTextInput);
    send_box.focus();
    send_box.type_text("N=${seq};");
    harness.run_steps(2);
    for _ in 0..3 {
        harness.get_by_label("Send").click();
        harness.run_steps(2);
    }
    assert_eq!(read_exactly(&mut peer, 12), b"N=1;N=2;N=3;");
}
