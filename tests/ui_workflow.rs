//! UI tests of the everyday workflow: the real `App` driven through egui_kittest (click by
//! label, type), its real engine, and real loopback peers made with `std::net`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::model::{EntryKind, Session, SessionState};
use sockdbg::protocol::{Command, Event, SessionId};
use ui_support::{DEADLINE, harness, harness_in, only_session, step_until, temp_config};

mod ui_support;

fn local_port(session: &Session) -> Option<u16> {
    match session.state {
        SessionState::Running { local_addr } => Some(local_addr.port()),
        _ => None,
    }
}

fn has_entry(session: &Session, kind: EntryKind, bytes: &[u8]) -> bool {
    (0..session.log.len())
        .filter_map(|i| session.log.get_by_index(i))
        .any(|e| e.kind == kind && e.bytes == bytes)
}

/// The first node of `role` whose label contains `text`.
fn node_with<'h>(harness: &'h Harness<'_, App>, role: Role, text: &str) -> egui_kittest::Node<'h> {
    harness
        .get_all_by_role(role)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l.contains(text)))
        .unwrap_or_else(|| panic!("no {role:?} labelled with {text:?}"))
}

fn any_label_contains(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Steps the window until some label shows `text` (a real engine's answer, so in real time);
/// fails saying `never` after [`DEADLINE`].
fn step_until_shown(harness: &mut Harness<'_, App>, text: &str, never: &str) {
    let deadline = std::time::Instant::now() + DEADLINE;
    while !any_label_contains(harness, text) {
        assert!(std::time::Instant::now() < deadline, "{never}");
        harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn replace_text(harness: &Harness<'_, App>, current_value: &str, new_text: &str) {
    let field = harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some(current_value))
        .unwrap_or_else(|| panic!("no text field holding {current_value:?}"));
    field.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    field.type_text(new_text);
}

fn read_exactly(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf).expect("bytes arrive");
    buf
}

fn assert_nothing_arrives(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected nothing, got {other:?}"),
    }
}

fn type_in_send_box(harness: &Harness<'_, App>, text: &str) {
    let send_box = harness.get_by_role(Role::MultilineTextInput);
    send_box.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    send_box.type_text(text);
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Creates a TCP server on 127.0.0.1 through the form, on a free port; returns the port.
fn create_tcp_server(harness: &mut Harness<'_, App>) -> u16 {
    let wanted = free_port();
    harness.get_by_label("Create TCP Server").click();
    harness.run_steps(2);
    replace_text(harness, "0.0.0.0", "127.0.0.1");
    harness.run_steps(1);
    replace_text(harness, "6001", &wanted.to_string());
    harness.run_steps(1);
    harness.get_by_label("Create").click();
    let mut port = 0;
    step_until(harness, "server listening", |app| {
        app.sessions
            .iter()
            .next()
            .and_then(local_port)
            .map(|p| port = p)
            .is_some()
    });
    port
}

#[test]
fn first_workflow_server_telnet_hex_send_gbk() {
    let mut harness = harness(temp_config("workflow"), vec![]);
    harness.run_steps(2);
    let port = create_tcp_server(&mut harness);
    assert_eq!(harness.state().sessions.len(), 1);

    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    peer.write_all(b"hello").expect("write");
    step_until(&mut harness, "rx entry", |app| {
        has_entry(only_session(app), EntryKind::Rx, b"hello")
    });
    harness.run_steps(2);
    assert!(
        any_label_contains(&harness, "hello"),
        "text row shows hello"
    );
    assert!(
        any_label_contains(&harness, &peer.local_addr().expect("addr").to_string()),
        "client listed"
    );

    harness.get_by_label("Hex").click();
    harness.run_steps(2);
    assert!(harness.state().view.log_hex);
    assert!(any_label_contains(&harness, "68 65 6C 6C 6F"), "hex row");

    type_in_send_box(&harness, "1234567890");
    harness.run_steps(1);
    harness.get_by_label("Send").click();
    harness.run_steps(1);
    assert_eq!(read_exactly(&mut peer, 10), b"1234567890");
    step_until(&mut harness, "tx entry", |app| {
        has_entry(only_session(app), EntryKind::Tx, b"1234567890")
    });

    // GBK text: pick GBK as the session's encoding (it applies both ways).
    node_with(&harness, Role::ComboBox, "Encoding").click();
    harness.run_steps(2);
    harness.get_by_label("GBK").click();
    harness.run_steps(2);
    type_in_send_box(&harness, "中文");
    harness.run_steps(1);
    assert!(any_label_contains(&harness, "4 bytes: D6 D0 CE C4"));
    harness.get_by_label("Send").click();
    harness.run_steps(1);
    assert_eq!(read_exactly(&mut peer, 4), [0xd6, 0xd0, 0xce, 0xc4]);

    // Unencodable in GBK: reported, nothing sent.
    type_in_send_box(&harness, "okő");
    harness.run_steps(1);
    harness.get_by_label("Send").click();
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "cannot be encoded as GBK"));
    assert_nothing_arrives(&mut peer);

    // Hex input: accepted forms are sent, invalid hex shows an inline error and sends nothing.
    harness.get_by_label("Hex send").click();
    harness.run_steps(1);
    for (input, expected) in [
        ("31 32 33", &b"123"[..]),
        ("0x31 0x32", b"12"),
        ("414243", b"ABC"),
    ] {
        type_in_send_box(&harness, input);
        harness.run_steps(1);
        harness.get_by_label("Send").click();
        harness.run_steps(1);
        assert_eq!(read_exactly(&mut peer, expected.len()), expected, "{input}");
    }
    for bad in ["3G", "313"] {
        type_in_send_box(&harness, bad);
        harness.run_steps(1);
        harness.get_by_label("Send").click();
        harness.run_steps(2);
        assert!(any_label_contains(&harness, "invalid hex"), "{bad}");
        assert_nothing_arrives(&mut peer);
    }
}

#[test]
fn traffic_shows_without_input_events_and_ctrl_enter_sends() {
    let mut harness = harness(
        temp_config("ctrlenter"),
        vec!["tcp-server:127.0.0.1:0".parse().expect("spec")],
    );
    let mut port = 0;
    step_until(&mut harness, "listening", |app| {
        matches!(
            only_session(app).state,
            sockdbg::model::SessionState::Running { .. }
        ) && {
            port = local_port(only_session(app)).unwrap_or(0);
            true
        }
    });
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    step_until(&mut harness, "client listed", |app| {
        only_session(app).connected_peers().count() == 1
    });
    type_in_send_box(&harness, "ping");
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    harness.run_steps(1);
    assert_eq!(read_exactly(&mut peer, 4), b"ping");
    assert_eq!(
        harness
            .state()
            .views
            .values()
            .next()
            .map(|v| v.send_text.as_str()),
        Some("ping"),
        "Ctrl+Enter adds no newline"
    );
}

#[test]
fn targeted_send_and_disconnect_from_the_client_list() {
    let mut harness = harness(
        temp_config("targets"),
        vec!["tcp-server:127.0.0.1:0".parse().expect("spec")],
    );
    let mut port = 0;
    step_until(&mut harness, "listening", |app| {
        port = local_port(only_session(app)).unwrap_or(0);
        port != 0
    });
    let mut first = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut second = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    step_until(&mut harness, "two clients", |app| {
        only_session(app).connected_peers().count() == 2
    });
    harness.run_steps(2);
    let second_addr: SocketAddr = second.local_addr().expect("addr");
    node_with(&harness, Role::Button, &second_addr.to_string()).click();
    harness.run_steps(2);
    type_in_send_box(&harness, "only you");
    harness.run_steps(1);
    harness.get_by_label("Send").click();
    harness.run_steps(1);
    assert_eq!(read_exactly(&mut second, 8), b"only you");
    assert_nothing_arrives(&mut first);

    // Back to all clients through the target combo.
    node_with(&harness, Role::ComboBox, "To:").click();
    harness.run_steps(2);
    harness.get_by_label("All clients").click();
    harness.run_steps(2);
    type_in_send_box(&harness, "all");
    harness.run_steps(1);
    harness.get_by_label("Send").click();
    harness.run_steps(1);
    assert_eq!(read_exactly(&mut first, 3), b"all");
    assert_eq!(read_exactly(&mut second, 3), b"all");

    // Disconnect the first client from the list: its read sees end of stream.
    let closes = harness.get_all_by_label("Close").count();
    assert_eq!(closes, 2);
    harness
        .get_all_by_label("Close")
        .next()
        .expect("close button")
        .click();
    harness.run_steps(1);
    first.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut buf = [0u8; 8];
    assert_eq!(first.read(&mut buf).expect("eof"), 0);
    step_until(&mut harness, "one client left", |app| {
        only_session(app).connected_peers().count() == 1
    });
}

#[test]
fn invalid_form_input_is_refused_inline() {
    let mut harness = harness(temp_config("form"), vec![]);
    harness.get_by_label("Create TCP Client").click();
    harness.run_steps(2);
    replace_text(&harness, "6001", "70000");
    harness.run_steps(1);
    harness.get_by_label("Create").click();
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "invalid port '70000'"));
    assert!(harness.state().sessions.is_empty());
}

/// A TCP client made with the form's Reconnect box: its server is away, so the log says it
/// tries again (in English and Chinese) and the session waits instead of failing; when the
/// server listens, it connects on its own; after the server closes, a periodic send started
/// meanwhile waits for the connection.
#[test]
fn a_client_with_reconnect_waits_for_its_server_and_connects_when_it_comes() {
    let holder =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    holder.bind(&any.into()).expect("bind");
    let port = holder
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("bound")
        .port();
    let mut harness = harness(temp_config("reconnect"), vec![]);
    harness.get_by_label("Create TCP Client").click();
    harness.run_steps(2);
    replace_text(&harness, "6001", &port.to_string());
    harness.get_by_label("Reconnect automatically").click();
    harness.run_steps(2);
    assert_eq!(
        harness
            .state()
            .list
            .create_form
            .as_ref()
            .map(|f| f.options.as_str()),
        Some("reconnect"),
        "the box writes the option"
    );
    harness.get_by_label("Create").click();
    step_until_shown(
        &mut harness,
        "trying again every 1000 ms",
        "the log never said it tries again",
    );
    assert!(only_session(harness.state()).spec.options.reconnect);
    assert!(any_label_contains(&harness, "connection refused"));
    assert_eq!(only_session(harness.state()).state, SessionState::Starting);
    harness.state_mut().view.language = Some(sockdbg::i18n::Language::Chinese);
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "每 1000 毫秒重试一次"));

    holder.listen(4).expect("listen");
    let listener: std::net::TcpListener = holder.into();
    step_until(&mut harness, "connected", |app| {
        only_session(app).connected_peers().count() == 1
    });
    let (mut server_side, _) = listener.accept().expect("accept");
    server_side.write_all(b"up").expect("write");
    step_until(&mut harness, "the server's bytes", |app| {
        has_entry(only_session(app), EntryKind::Rx, b"up")
    });
    assert!(matches!(
        only_session(harness.state()).state,
        SessionState::Running { .. }
    ));

    // The server closes the connection (and stops listening): the list says the client is
    // connecting again, not the connection that ended.
    drop(server_side);
    drop(listener);
    step_until(&mut harness, "connecting again", |app| {
        only_session(app).state == SessionState::Starting
    });
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "连接中…"));

    // A periodic send started meanwhile waits for the connection instead of failing.
    let send_box = harness.get_by_role(egui::accesskit::Role::MultilineTextInput);
    send_box.focus();
    harness
        .get_by_role(egui::accesskit::Role::MultilineTextInput)
        .type_text("tick");
    harness.run_steps(2);
    harness.get_by_label("发送选项").click();
    harness.run_steps(2);
    harness.get_by_label("开始定时发送").click();
    step_until_shown(
        &mut harness,
        "定时发送等待重新连接",
        "the log never said the periodic send waits",
    );
    assert!(
        !any_label_contains(&harness, "定时发送在"),
        "it did not end"
    );
}

#[test]
fn port_in_use_and_connection_refused_show_on_the_session() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = holder.local_addr().expect("addr").port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let specs = vec![
        format!("tcp-server:127.0.0.1:{busy}")
            .parse()
            .expect("spec"),
        format!("tcp-client:127.0.0.1:{closed}")
            .parse()
            .expect("spec"),
    ];
    let mut harness = harness(temp_config("failures"), specs);
    step_until(&mut harness, "both failed", |app| {
        app.sessions
            .iter()
            .all(|s| matches!(s.state, SessionState::Failed(_)))
    });
    harness.run_steps(2);
    assert!(any_label_contains(&harness, "address already in use"));
    assert!(any_label_contains(&harness, "connection refused"));
}

#[test]
fn stop_restart_delete_and_sessions_come_back_on_next_start() {
    let store = temp_config("persist");
    let port = {
        let mut harness = harness_in(&store, vec![]);
        let port = create_tcp_server(&mut harness);
        harness.get_by_label("Stop").click();
        step_until(&mut harness, "stopped", |app| {
            only_session(app).state == SessionState::Stopped
        });
        harness.get_by_label("Start").click();
        step_until(&mut harness, "restarted on the same port", |app| {
            local_port(only_session(app)) == Some(port)
        });
        TcpStream::connect(("127.0.0.1", port)).expect("restarted server accepts");
        harness.get_by_label("Hex").click();
        harness.run_steps(2);
        port
    };
    // The app (and its engine) is gone: the port is free again, and the next start restores
    // the session running and the hex view.
    let mut harness = harness_in(&store, vec![]);
    step_until(&mut harness, "restored and running", |app| {
        app.sessions.len() == 1 && local_port(only_session(app)) == Some(port)
    });
    assert!(harness.state().view.log_hex);
    harness.get_by_label("Delete").click();
    // The click lands on the second frame; the dialog shows from the next one.
    harness.run_steps(4);
    assert_eq!(harness.state().sessions.len(), 1, "Delete asks first");
    harness.get_by_label("Delete session").click();
    harness.run_steps(2);
    assert!(harness.state().sessions.is_empty());
    let saved = store.load().config;
    assert!(saved.sessions.is_empty(), "{saved:?}");
}

/// An idle window runs no engine (issue 19: its threads and their memory): the first session
/// started starts it, and a session restored running starts it with the window.
#[test]
fn the_engine_starts_with_the_first_session_not_with_the_window() {
    let store = temp_config("on-demand");
    {
        let mut harness = harness_in(&store, vec![]);
        harness.run_steps(4);
        assert!(
            !harness.state().engine_started(),
            "the idle window started the engine"
        );
        create_tcp_server(&mut harness);
        assert!(harness.state().engine_started());
    }
    let mut harness = harness(store, vec![]);
    assert!(
        harness.state().engine_started(),
        "a session restored running starts the engine at once"
    );
    step_until(&mut harness, "restored and running", |app| {
        local_port(only_session(app)).is_some()
    });
}

/// Over channels the test holds: deleting a session, running or stopped, tells the engine to
/// forget it (stop it if it runs, drop its rules), and nothing else.
#[test]
fn delete_tells_the_engine_to_forget_the_session() {
    let mut ui = ui_support::Channels::new(temp_config("delete-running"));
    let id = ui.id;
    delete_the_session(&mut ui.harness);
    let sent = ui.drain_commands();
    assert!(
        matches!(sent.as_slice(), [Command::Forget { id: forgotten }] if *forgotten == id),
        "{sent:?}"
    );

    let mut ui = ui_support::Channels::new(temp_config("delete-stopped-channels"));
    let id = ui.id;
    ui.click("Stop");
    let sent = ui.drain_commands();
    assert!(only_stop(&sent, id), "{sent:?}");
    ui.event(Event::Stopped { id, reason: None });
    assert_eq!(
        only_session(ui.harness.state()).state,
        SessionState::Stopped
    );
    delete_the_session(&mut ui.harness);
    assert!(ui.harness.state().sessions.is_empty(), "deleted");
    let sent = ui.drain_commands();
    assert!(
        matches!(sent.as_slice(), [Command::Forget { id: forgotten }] if *forgotten == id),
        "a stopped session's delete: {sent:?}"
    );
}

/// Whether `sent` is one `Stop` of session `id`.
fn only_stop(sent: &[Command], id: SessionId) -> bool {
    matches!(sent, [Command::Stop { id: stopped }] if *stopped == id)
}

/// Deletes the only session the way the user does: Delete, then the dialog's confirmation.
fn delete_the_session(harness: &mut Harness<'_, App>) {
    harness.get_by_label("Delete").click();
    // The click lands on the second frame; the dialog shows from the next one.
    harness.run_steps(4);
    harness.get_by_label("Delete session").click();
    harness.run_steps(2);
}

/// A window that restores one saved stopped session with an auto-reply rule (`ping` ->
/// `pong\r\n`); restoring it starts no engine: the session's rules wait for the engine.
fn window_restoring_a_stopped_session(name: &str) -> ui_support::AppHarness {
    use sockdbg::codec::reply::{MatchKind, ReplyRule};
    let store = temp_config(name);
    let config = sockdbg::config::Config {
        sessions: vec![sockdbg::config::SavedSession {
            spec: "tcp-server:127.0.0.1:0".into(),
            running: false,
            auto_reply: vec![ReplyRule {
                match_kind: MatchKind::Contains,
                pattern: "ping".into(),
                reply: "pong\\r\\n".into(),
                ..ReplyRule::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    store.save(&config).expect("saved");
    let mut harness = harness(store, vec![]);
    harness.run_steps(2);
    assert_eq!(only_session(harness.state()).state, SessionState::Stopped);
    assert!(
        !harness.state().engine_started(),
        "restoring a stopped session started the engine"
    );
    harness
}

/// Deleting a restored stopped session starts no engine (its Forget waits in the queue).
#[test]
fn deleting_a_restored_stopped_session_does_not_start_the_engine() {
    let mut harness = window_restoring_a_stopped_session("delete-stopped");
    delete_the_session(&mut harness);
    assert!(harness.state().sessions.is_empty(), "deleted");
    assert!(
        !harness.state().engine_started(),
        "deleting a stopped session started the engine"
    );
}

/// The rules of a restored stopped session, held back until the engine starts, answer once
/// the session is started.
#[test]
fn a_restored_stopped_sessions_rules_answer_once_it_starts() {
    let mut harness = window_restoring_a_stopped_session("rules-wait");
    harness.get_by_label("Start").click();
    let mut port = None;
    step_until(&mut harness, "started", |app| {
        port = local_port(only_session(app));
        port.is_some()
    });
    let port = port.expect("waited for it");
    let mut peer = TcpStream::connect(("127.0.0.1", port)).expect("peer connects");
    peer.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    peer.write_all(b"ping\n").expect("peer writes");
    assert_eq!(ui_support::read_exactly(&mut peer, 6), b"pong\r\n");
}
