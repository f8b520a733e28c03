//! UI tests of the send tools (issue 5) on the real `App`, over fake engine channels so the
//! test sees exactly which commands the window sends: the live byte preview and its inline
//! errors, history on Up/Down, quick commands (add, edit, send, reorder, delete, saved),
//! periodic send commands and their progress, auto-reply rules handed to the engine.

use std::net::SocketAddr;

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::protocol::{Command, Event, JobOutcome, SendTarget};

mod ui_support;

type Fixture = ui_support::Channels;

/// A window with one running TCP server, over channels the test holds.
fn fixture(name: &str) -> Fixture {
    ui_support::Channels::new(ui_support::temp_config(&format!("send-{name}")))
}

impl Fixture {
    /// Where each send since the last drain went.
    fn sent_targets(&mut self) -> Vec<SendTarget> {
        self.drain_commands()
            .into_iter()
            .filter_map(|c| match c {
                Command::Send { target, .. } => Some(target),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn preview_shows_exact_bytes_and_errors_inline() {
    let mut f = fixture("preview");
    f.type_in_send_box("AT\\x01");
    assert!(
        f.label_contains("3 bytes: 41 54 01"),
        "escapes are on by default"
    );
    f.pick("Line end", "CRLF (\\r\\n)");
    assert!(f.label_contains("5 bytes: 41 54 01 0D 0A"));
    // The checksum is in the settings column's Sending tab (the send box has the rest).
    f.click("Sending");
    f.pick("Checksum", "SUM8");
    // 0x41 + 0x54 + 0x01 + 0x0D + 0x0A = 0xAD
    assert!(f.label_contains("6 bytes: 41 54 01 0D 0A AD"));
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"AT\x01\r\n\xAD".to_vec()]);

    f.type_in_send_box("bad \\q");
    assert!(f.label_contains("bad escape: unknown escape '\\q' at column 5"));
    f.click("Send");
    assert!(f.sent_bytes().is_empty(), "an invalid payload is not sent");

    f.click("Hex send");
    f.type_in_send_box("01 03 00 00 00 0A");
    // The line ending applies to hex too (the preview says so): take it off.
    assert!(f.label_contains("9 bytes: 01 03 00 00 00 0A 0D 0A"));
    f.pick("Line end", "No line ending");
    f.pick("Checksum", "CRC-16/MODBUS (LE)");
    assert!(f.label_contains("8 bytes: 01 03 00 00 00 0A C5 CD"));
    f.type_in_send_box("01 0G");
    assert!(f.label_contains("invalid hex: 'G' at column 5"));
}

impl Fixture {
    fn send_text(&self) -> &str {
        self.harness
            .state()
            .views
            .get(&self.id)
            .map_or("", |v| v.send_text.as_str())
    }

    fn paste(&mut self, text: String) {
        self.harness.event(egui::Event::Paste(text));
        self.harness.run_steps(3);
    }

    fn select_all(&mut self) {
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.run_steps(2);
    }
}

#[test]
fn a_paste_after_select_all_replaces_the_text_and_its_error() {
    let mut f = fixture("paste");
    f.pick("Encoding", "Windows-1252");
    f.type_in_send_box("AT 中");
    let error = "'中' (U+4E2D) at position 4 cannot be encoded as Windows-1252";
    assert!(f.label_contains(error), "the error of the text typed");

    // The issue: Ctrl+A then Ctrl+V of 1 MB appended and kept the old error.
    let pasted = "B".repeat(1024 * 1024);
    f.harness.get_by_role(Role::MultilineTextInput).focus();
    f.select_all();
    f.paste(pasted.clone());
    assert!(
        f.send_text() == pasted,
        "the paste replaced the selected text"
    );
    assert!(
        !f.label_contains("cannot be encoded"),
        "the error went with its text"
    );
    assert!(f.label_contains("1048576 bytes: 42 42 42"));

    // A large text has no editor: Ctrl+A selects it, and a paste replaces it again ...
    let again = "C".repeat(700 * 1024);
    f.select_all();
    assert!(f.label_contains("all selected"));
    f.paste(again.clone());
    assert!(f.send_text() == again, "replaced, not appended");
    assert!(f.label_contains("716800 bytes: 43 43"));
    // ... while without a selection it appends (as the summary says).
    f.paste("D".repeat(10));
    assert_eq!(f.send_text().len(), 700 * 1024 + 10);
    assert!(f.send_text().ends_with("CDDDDDDDDDD"));
    // An error in a pasted text shows; another select-all paste takes it away.
    f.select_all();
    f.paste(format!("{}中", "E".repeat(100 * 1024)));
    assert!(f.label_contains("cannot be encoded as Windows-1252"));
    f.select_all();
    f.paste("F".repeat(100 * 1024));
    assert!(!f.label_contains("cannot be encoded"));
    // Clear brings the editor back, and its select-all paste replaces again.
    f.click("Clear text");
    assert!(f.send_text().is_empty());
    assert!(f.harness.query_by_role(Role::MultilineTextInput).is_some());
}

#[test]
fn history_recalls_previous_sends_with_up_and_down() {
    let mut f = fixture("history");
    for text in ["first", "second"] {
        f.type_in_send_box(text);
        f.click("Send");
    }
    f.type_in_send_box("");
    f.harness.get_by_role(Role::MultilineTextInput).focus();
    f.harness.run_steps(1);
    f.harness.key_press(egui::Key::ArrowUp);
    f.harness.run_steps(2);
    let view = |f: &Fixture| {
        f.harness
            .state()
            .views
            .get(&f.id)
            .map(|v| v.send_text.clone())
    };
    assert_eq!(view(&f).as_deref(), Some("second"));
    f.harness.key_press(egui::Key::ArrowUp);
    f.harness.run_steps(2);
    assert_eq!(view(&f).as_deref(), Some("first"));
    f.harness.key_press(egui::Key::ArrowDown);
    f.harness.run_steps(2);
    assert_eq!(view(&f).as_deref(), Some("second"));
}

#[test]
fn quick_commands_add_edit_send_reorder_delete_and_persist() {
    let mut f = fixture("quick");
    f.click("Commands");
    f.type_in_send_box("PING");
    f.click("Add to session");
    // The new command opens in its editor, named after its text.
    assert!(f.label_contains("Done"));
    f.click("Done");
    f.type_in_send_box("");
    f.click("PING");
    assert_eq!(f.sent_bytes(), vec![b"PING".to_vec()]);

    f.click("Hex send");
    f.type_in_send_box("01 03 00 00 00 0A");
    f.click("Sending");
    f.pick("Checksum", "CRC-16/MODBUS (LE)");
    f.click("Commands");
    f.click("Add global");
    f.click("Done");
    let global = f.harness.state().quick_commands.clone();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].name, "01 03 00 00 00 0A");
    f.click("01 03 00 00 00 0A");
    assert_eq!(
        f.sent_bytes(),
        vec![vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]]
    );

    // A second session command, then reorder and delete.
    f.click("Hex send");
    f.type_in_send_box("QUIT");
    f.click("Add to session");
    f.click("Done");
    let names = |f: &Fixture| -> Vec<String> {
        f.harness.state().views[&f.id]
            .tools
            .quick_commands
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(names(&f), ["PING", "QUIT"]);
    let up_buttons: Vec<_> = f.harness.query_all_by_label("Up").collect();
    // The last "Up" among quick commands belongs to QUIT (global list has one, disabled).
    up_buttons.last().expect("an Up button").click();
    f.harness.run_steps(2);
    assert_eq!(names(&f), ["QUIT", "PING"]);
    // Settings are saved as they change: a new window finds them.
    f.harness.run_steps(2);
    let f2 = f.reopen();
    assert_eq!(names(&f2), ["QUIT", "PING"]);
    assert_eq!(f2.harness.state().quick_commands.len(), 1);
}

#[test]
fn periodic_send_goes_to_the_engine_and_shows_progress() {
    let mut f = fixture("periodic");
    f.click("Sending");
    f.type_in_send_box("tick");
    let field = f
        .harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("1000"))
        .expect("interval field");
    field.focus();
    f.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    f.harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("1000"))
        .expect("interval field")
        .type_text("5");
    f.harness.run_steps(1);
    let count = f
        .harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("0"))
        .expect("count field");
    count.focus();
    f.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    f.harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("0"))
        .expect("count field")
        .type_text("20");
    f.harness.run_steps(1);
    f.click("Start periodic");
    let started = f.drain_commands().into_iter().find_map(|c| match c {
        Command::StartPeriodic {
            job,
            target,
            payload,
            interval_ms,
            count,
            ..
        } => Some((
            job,
            target,
            payload.bytes(1).expect("bytes").to_vec(),
            interval_ms,
            count,
        )),
        _ => None,
    });
    let (job, target, data, interval_ms, count) = started.expect("a StartPeriodic command");
    assert_eq!(
        (target, data.as_slice(), interval_ms, count),
        (SendTarget::All, &b"tick"[..], 5, Some(20))
    );
    let id = f.id;
    f.events
        .send(Event::JobProgress {
            id,
            job,
            done: 7,
            total: Some(20),
        })
        .expect("event");
    f.harness.run_steps(2);
    assert!(f.label_contains("7 / 20 sent (running)"));
    f.click("Stop periodic");
    assert!(
        f.drain_commands()
            .iter()
            .any(|c| matches!(c, Command::CancelJob { job: j, .. } if *j == job))
    );
    f.events
        .send(Event::JobEnded {
            id,
            job,
            done: 9,
            outcome: JobOutcome::Cancelled,
        })
        .expect("event");
    f.harness.run_steps(2);
    assert!(f.label_contains("9 / 20 sent (stopped)"));
    assert!(f.label_contains("Start periodic"));
}

#[test]
fn auto_reply_rules_are_handed_to_the_engine_and_errors_shown() {
    let mut f = fixture("rules");
    f.click("Auto-reply");
    f.click("Add rule");
    let reactions = f.drain_commands().into_iter().find_map(|c| match c {
        Command::SetReactions { reactions, .. } => Some(reactions),
        _ => None,
    });
    assert_eq!(reactions.expect("SetReactions").rules.len(), 1);
    // A bad regex is shown inline and not sent to the engine.
    f.harness
        .state_mut()
        .views
        .get_mut(&f.id)
        .expect("view")
        .tools
        .rules[0]
        .match_kind = sockdbg::codec::reply::MatchKind::Regex;
    f.harness
        .state_mut()
        .views
        .get_mut(&f.id)
        .expect("view")
        .tools
        .rules[0]
        .pattern = "(".into();
    let id = f.id;
    f.harness.state_mut().perform(sockdbg::app::Action::Tool(
        id,
        sockdbg::app::send_tools::ToolAction::ApplyReactions,
    ));
    f.harness.run_steps(2);
    assert!(f.label_contains("auto-reply rule 1: invalid regex"));
    assert!(
        !f.drain_commands()
            .iter()
            .any(|c| matches!(c, Command::SetReactions { .. }))
    );
}

#[test]
fn changing_the_framing_hands_it_to_the_engine_for_auto_reply() {
    let mut f = fixture("reply-framing");
    let framing_sent = |commands: Vec<Command>| {
        commands.into_iter().find_map(|c| match c {
            Command::SetReplyFraming { id, framing } => Some((id, framing.to_string())),
            _ => None,
        })
    };
    // Nothing is sent while the framing stays raw.
    f.harness.run_steps(2);
    assert_eq!(framing_sent(f.drain_commands()), None);
    f.harness
        .get_all_by_role(Role::ComboBox)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == "Framing"))
        .expect("the framing choice")
        .click();
    f.harness.run_steps(2);
    f.harness.get_by_label("Length prefix").click();
    f.harness.run_steps(3);
    let id = f.id;
    let sent = framing_sent(f.drain_commands()).expect("SetReplyFraming");
    assert_eq!(sent.0, id);
    assert!(sent.1.starts_with("len:"), "{}", sent.1);
    // Sent once per change, not every frame.
    f.harness.run_steps(3);
    assert_eq!(framing_sent(f.drain_commands()), None);
}

#[test]
fn quick_commands_export_and_import_as_ron() {
    use sockdbg::app::Action;
    use sockdbg::app::send_tools::ToolAction;
    use sockdbg::i18n::{Language, errors::problem_text};
    let mut f = fixture("export");
    f.click("Commands");
    f.type_in_send_box("AT\\r\\n");
    f.click("Add to session");
    f.click("Done");
    let file = f.store.path().join("commands.ron");
    let id = f.id;
    // The file is written and read off the UI thread: frames go on until the job is done.
    let job_done = |app: &App| app.views[&id].tools.quick_file_job.is_none();
    f.harness
        .state_mut()
        .perform(Action::Tool(id, ToolAction::ExportQuick(file.clone())));
    ui_support::step_until(&mut f.harness, "export written", job_done);
    let text = std::fs::read_to_string(&file).expect("exported");
    assert!(
        text.contains("quick_commands") && text.contains("AT\\\\r\\\\n"),
        "{text}"
    );
    let state = f.harness.state_mut();
    state.perform(Action::Tool(
        id,
        ToolAction::DeleteQuick {
            global: false,
            index: 0,
        },
    ));
    assert!(state.views[&id].tools.quick_commands.is_empty());
    state.perform(Action::Tool(id, ToolAction::ImportQuick(file.clone())));
    ui_support::step_until(&mut f.harness, "import read", job_done);
    let imported = &f.harness.state().views[&id].tools.quick_commands;
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].payload, "AT\\r\\n");
    assert!(imported[0].options.escapes);
    // A broken file is reported inline, not imported.
    std::fs::write(&file, "(quick_commands: [ nope").expect("write");
    f.harness
        .state_mut()
        .perform(Action::Tool(id, ToolAction::ImportQuick(file)));
    ui_support::step_until(&mut f.harness, "broken import read", job_done);
    let tools = &f.harness.state().views[&id].tools;
    assert_eq!(tools.quick_commands.len(), 1);
    let error = tools.tools_error.as_ref().expect("an error");
    assert!(
        problem_text(Language::English, error).contains("cannot import"),
        "{error:?}"
    );
    f.harness.run_steps(1);
    assert!(
        f.harness.query_by_label_contains("cannot import").is_some(),
        "the error shows where the user looks"
    );
}

#[test]
fn several_selected_clients_each_get_the_send_and_their_own_jobs() {
    use sockdbg::app::Action;
    use sockdbg::app::send_tools::ToolAction;
    use sockdbg::protocol::PeerId;
    let mut f = fixture("several");
    let id = f.id;
    for (peer, port) in [(1, 50001), (2, 50002), (3, 50003)] {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        f.events
            .send(Event::PeerConnected {
                id,
                peer: PeerId(peer),
                addr,
                at: std::time::SystemTime::now(),
            })
            .expect("event");
    }
    f.harness.run_steps(2);
    f.type_in_send_box("hi");
    {
        let view = f.harness.state_mut().views.get_mut(&id).expect("view");
        view.tools.multi_peers = [PeerId(1), PeerId(3)].into_iter().collect();
        view.target = SendTarget::Peer(PeerId(1));
    }
    f.harness.run_steps(2);
    let named = f.harness.get_all_by_role(Role::ComboBox).any(|n| {
        let node = n.accesskit_node();
        [node.label(), node.value()]
            .into_iter()
            .flatten()
            .any(|t| t.contains("2 clients"))
    });
    let combos: Vec<String> = f
        .harness
        .get_all_by_role(Role::ComboBox)
        .map(|n| {
            format!(
                "{:?}/{:?}",
                n.accesskit_node().label(),
                n.accesskit_node().value()
            )
        })
        .collect();
    assert!(
        named || f.label_contains("2 clients"),
        "the To: list names the selection: {combos:?}"
    );
    f.click("Send");
    let targets = f.sent_targets();
    assert_eq!(
        targets,
        [SendTarget::Peer(PeerId(1)), SendTarget::Peer(PeerId(3))]
    );
    f.harness
        .state_mut()
        .perform(Action::Tool(id, ToolAction::StartPeriodic));
    let jobs: Vec<_> = f
        .drain_commands()
        .into_iter()
        .filter_map(|c| match c {
            Command::StartPeriodic { job, target, .. } => Some((job, target)),
            _ => None,
        })
        .collect();
    assert_eq!(jobs.len(), 2);
    assert_ne!(jobs[0].0, jobs[1].0, "one job per client");
}

#[test]
fn a_broadcast_client_can_answer_one_responder_or_send_to_its_target() {
    use sockdbg::protocol::PeerId;
    let mut f = ui_support::Channels::with_spec(
        ui_support::temp_config("send-broadcast"),
        "udp-client:255.255.255.255:9",
    );
    let id = f.id;
    // The engine lists the target first, then each responder heard from.
    for (peer, addr) in [(1, "255.255.255.255:9"), (2, "10.0.0.7:9")] {
        f.events
            .send(Event::PeerConnected {
                id,
                peer: PeerId(peer),
                addr: addr.parse().expect("addr"),
                at: std::time::SystemTime::now(),
            })
            .expect("event");
    }
    f.harness.run_steps(2);
    f.drain_commands();
    f.type_in_send_box("who");
    f.click("Send");
    f.pick("To", "10.0.0.7:9");
    f.type_in_send_box("you");
    f.click("Send");
    f.pick("To", "255.255.255.255:9 (target)");
    f.click("Send");
    let targets = f.sent_targets();
    assert_eq!(
        targets,
        [
            SendTarget::All,
            SendTarget::Peer(PeerId(2)),
            SendTarget::All
        ]
    );
}
