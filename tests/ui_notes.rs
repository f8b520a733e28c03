//! UI test of the log's notes in the detail pane (issue 13, bug 4): a selected note says what
//! it is and whom it is about, without a byte count (its words are no bytes that moved), and
//! an auto-reply note shows the reply as the user typed it, quoted once (it showed
//! `"pong\\r\\n"`). The real app, a real server session and a loopback peer.

use egui_kittest::Harness;
use egui_kittest::kittest::NodeT;
use sockdbg::app::{Action, App};
use sockdbg::i18n::Language;
use sockdbg::model::{LogNote, SessionState};
use sockdbg::protocol::Note;
use ui_support::{answered_ping, harness, only_session, step_until, temp_config};

mod ui_support;

/// Every label and value the window shows now.
fn texts(harness: &Harness<'_, App>) -> Vec<String> {
    harness
        .root()
        .children_recursive()
        .flat_map(|node| {
            let node = node.accesskit_node();
            [node.label(), node.value()].into_iter().flatten()
        })
        .collect()
}

/// The first text shown that starts with `prefix`.
fn shown_starting_with(harness: &Harness<'_, App>, prefix: &str) -> String {
    let all = texts(harness);
    all.iter()
        .find(|t| t.starts_with(prefix))
        .cloned()
        .unwrap_or_else(|| panic!("nothing starts with {prefix:?}; the window shows {all:#?}"))
}

#[test]
fn a_notes_detail_says_what_it_is_and_shows_the_reply_once_escaped() {
    let spec = "tcp-server:127.0.0.1:0".parse().expect("spec");
    let mut harness = harness(temp_config("notes-detail"), vec![spec]);
    step_until(&mut harness, "server running", |app| {
        matches!(only_session(app).state, SessionState::Running { .. })
    });
    let id = only_session(harness.state()).id;
    let SessionState::Running { local_addr } = only_session(harness.state()).state else {
        unreachable!("waited for it")
    };
    let peer = answered_ping(&mut harness, id, local_addr);
    let mut note = None;
    step_until(&mut harness, "the auto-reply noted", |app| {
        let log = &only_session(app).log;
        note = (0..log.len())
            .filter_map(|i| log.get_by_index(i))
            .find(|e| matches!(e.note(), Some(LogNote::Note(Note::AutoReply { .. }))))
            .map(|e| e.seq);
        note.is_some()
    });
    let seq = note.expect("found");
    let peer_addr = peer.local_addr().expect("address");

    harness.state_mut().traffic_of(id).selected_entry = Some(seq);
    harness.run_steps(3);
    let heading = shown_starting_with(&harness, &format!("#{seq}  "));
    assert!(
        heading.starts_with(&format!("#{seq}  note about {peer_addr}  ·  ")),
        "{heading}"
    );
    assert!(!heading.contains(" B  ·"), "no byte count: {heading}");
    let detail = shown_starting_with(&harness, "auto-reply rule 1 (");
    assert!(
        detail.contains(r#"(contains "ping" => "pong\r\n") matched; replying 6 bytes"#),
        "the reply once-escaped, as typed: {detail}"
    );

    // The same note in Chinese: reworded, still without a byte count.
    harness
        .state_mut()
        .perform(Action::SetLanguage(Language::Chinese));
    harness.run_steps(3);
    let heading = shown_starting_with(&harness, &format!("#{seq}  "));
    assert!(
        heading.starts_with(&format!("#{seq}  关于 {peer_addr} 的提示  ·  ")),
        "{heading}"
    );
    shown_starting_with(
        &harness,
        "自动回复规则 1（包含 \"ping\" => \"pong\\r\\n\"）已匹配",
    );
}
