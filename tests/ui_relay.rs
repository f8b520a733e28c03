//! UI test of a relay (issue 16) on the real `App` with its real engine, between a real
//! client and a real target on loopback: the pair is listed with its counters, the log shows
//! both directions, the send box injects either way, the Relay tab holds, steps and
//! releases a direction, and faults applied while it runs take effect.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::model::{EntryKind, SessionState};
use sockdbg::relay::Leg;

mod ui_support;

use ui_support::{harness, logged, only_session, pick, read_exactly, step_until, temp_config};

/// The relay's listening address, once it runs.
fn relay_addr(app: &App) -> Option<SocketAddr> {
    match only_session(app).state {
        SessionState::Running { local_addr } => Some(local_addr),
        _ => None,
    }
}

/// Replaces the send box's text by typing `text`.
fn type_in_send_box(harness: &mut Harness<'_, App>, text: &str) {
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text(text);
    harness.run_steps(2);
}

/// Clicks the first widget labelled `label` (both directions have a Hold).
fn click_first(harness: &mut Harness<'_, App>, label: &str) {
    harness
        .get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no {label:?}"))
        .click();
    harness.run_steps(2);
}

/// The Relay tab's field of fault words.
fn faults_field<'a>(harness: &'a Harness<'_, App>) -> egui_kittest::Node<'a> {
    harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == "Faults"))
        .expect("the faults field")
}

/// Reads for a while and asserts nothing came (the read times out).
fn silent(stream: &mut TcpStream) {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = [0; 16];
    match stream.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
}

#[test]
fn a_relay_in_the_window_logs_injects_holds_and_takes_faults_while_running() {
    let target = TcpListener::bind("127.0.0.1:0").expect("bind the target");
    let to = target.local_addr().expect("target address");
    let spec = format!("relay:127.0.0.1:0,to={to}").parse().expect("spec");
    let mut harness = harness(temp_config("relay"), vec![spec]);
    step_until(&mut harness, "the relay listens", |app| {
        relay_addr(app).is_some()
    });
    let relay = relay_addr(harness.state()).expect("running");
    let mut client = TcpStream::connect(relay).expect("connect through the relay");
    client
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let (mut server, _) = target.accept().expect("the relay links to the target");
    server
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    step_until(&mut harness, "the pair is listed", |app| {
        only_session(app).connected_peers().count() == 1
    });

    // Both directions, logged as up and down.
    client.write_all(b"hello up").expect("client writes");
    assert_eq!(read_exactly(&mut server, 8), b"hello up");
    server.write_all(b"hello down").expect("target writes");
    assert_eq!(read_exactly(&mut client, 10), b"hello down");
    step_until(&mut harness, "both logged", |app| {
        logged(app, EntryKind::Rx) == b"hello up" && logged(app, EntryKind::Tx) == b"hello down"
    });
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("-> 8 B · <- 10 B")
            .is_some(),
        "the pair's counters, up and down"
    );

    // The send box injects toward the target, then toward the client.
    type_in_send_box(&mut harness, "to the target");
    harness.get_by_label("Send").click();
    harness.run_steps(2);
    assert_eq!(read_exactly(&mut server, 13), b"to the target");
    pick(&mut harness, "Inject", "<- to client");
    type_in_send_box(&mut harness, "to the client");
    harness.get_by_label("Send").click();
    harness.run_steps(2);
    assert_eq!(read_exactly(&mut client, 13), b"to the client");
    step_until(&mut harness, "injections logged as such", |app| {
        let log = &only_session(app).log;
        (log.first_seq()..log.first_seq() + log.len() as u64)
            .filter_map(|seq| log.get(seq))
            .filter(|e| e.injected)
            .count()
            == 2
    });

    // Hold up: the client's bytes wait, a step forwards them, release lets the rest go.
    harness.get_by_label("Relay").click();
    harness.run_steps(2);
    click_first(&mut harness, "Hold");
    step_until(&mut harness, "up is held", |app| {
        only_session(app).faults.leg(Leg::Up).hold
    });
    client.write_all(b"held").expect("client writes");
    step_until(&mut harness, "the queue is shown", |app| {
        let session = only_session(app);
        session
            .connected_peers()
            .any(|p| p.held(Leg::Up).bytes == 4)
    });
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("held: 1 chunk").is_some());
    silent(&mut server);
    click_first(&mut harness, "Step");
    assert_eq!(read_exactly(&mut server, 4), b"held");
    click_first(&mut harness, "Release");
    step_until(&mut harness, "up is released", |app| {
        !only_session(app).faults.leg(Leg::Up).hold
    });

    // A fault applied while it runs: a bad word is refused with the spec's words, then a
    // delay holds the next chunk at least that long.
    faults_field(&harness).focus();
    faults_field(&harness).type_text("up.delay=soon");
    harness.run_steps(2);
    harness.get_by_label("Apply").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("invalid option 'up.delay=soon'")
            .is_some()
    );
    faults_field(&harness).focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    faults_field(&harness).type_text("up.delay=200");
    harness.run_steps(2);
    harness.get_by_label("Apply").click();
    step_until(&mut harness, "the engine applied the delay", |app| {
        only_session(app).faults.up.delay_ms == 200 && only_session(app).faults_applied > 0
    });
    let sent = Instant::now();
    client.write_all(b"late").expect("client writes");
    assert_eq!(read_exactly(&mut server, 4), b"late");
    assert!(sent.elapsed() >= Duration::from_millis(200));
}
