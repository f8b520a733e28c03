//! UI tests of serial ports (issue 20) on the real `App`: a session created from the create
//! form (path typed, a baud rate typed, parity chosen) on one end of a socat pseudo-terminal
//! pair, with its real engine: what the send box sends, the far end reads, and what the far
//! end writes, the log shows. Then, over channels the test holds, the control-line strip:
//! toggling DTR and RTS and Send break each send their command, the inputs the engine
//! reports are shown, and a port that reports none says so.
#![cfg(unix)]

mod common;
mod ui_support;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::App;
use sockdbg::model::{EntryKind, SessionState};
use sockdbg::protocol::{Command, Event};
use sockdbg::serial::{ModemInputs, ModemLines, Parity, SerialControl};
use sockdbg::spec::SessionKind;

use common::pty::PtyPair;
use ui_support::{Channels, harness, logged, only_session, step_until, temp_config};

/// Replaces the text of the field labelled `label` by typing `text`.
fn type_in_field(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == label))
        .unwrap_or_else(|| panic!("no text field {label:?}"));
    field.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == label))
        .unwrap_or_else(|| panic!("no text field {label:?}"))
        .type_text(text);
    harness.run_steps(2);
}

#[test]
fn a_serial_session_made_in_the_form_talks_to_the_far_end_of_a_pty_pair() {
    let Some(pair) = PtyPair::open() else { return };
    let mut harness = harness(temp_config("serial-form"), vec![]);
    harness.run_steps(2);
    harness.get_by_label("More transports…").click();
    harness.run_steps(2);
    harness.get_by_label("Create Serial Port").click();
    harness.run_steps(2);
    // The form lists the OS's ports (what this machine has varies) and takes any path.
    assert!(harness.query_by_label("Refresh").is_some());
    type_in_field(&mut harness, "Serial port", &pair.near);
    type_in_field(&mut harness, "Baud rate", "9600");
    ui_support::pick(&mut harness, "Parity", "Even");
    harness.get_by_label("Create").click();
    step_until(&mut harness, "the port open, its device a peer", |app| {
        let session = only_session(app);
        matches!(session.state, SessionState::Running { .. })
            && session.connected_peers().count() == 1
            && session.serial_lines.is_some()
    });
    let spec = &only_session(harness.state()).spec;
    assert_eq!(spec.kind, SessionKind::Serial);
    assert_eq!(spec.host, pair.near);
    let line = spec.options.serial_line();
    assert_eq!((line.baud, line.parity), (9600, Parity::Even));
    // The session is named by its path, and the strip of control lines is there.
    assert!(
        harness
            .query_all_by_label_contains(&pair.near)
            .next()
            .is_some()
    );
    assert!(harness.query_by_label("Send break").is_some());

    let mut device = pair.device();
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("AT+GMR");
    harness.run_steps(2);
    harness.get_by_label("Send").click();
    harness.run_steps(2);
    assert_eq!(device.read_exactly(6), b"AT+GMR");
    device.write(b"OK\r\n");
    step_until(&mut harness, "the answer in the log", |app| {
        logged(app, EntryKind::Rx) == b"OK\r\n"
    });
    assert_eq!(logged(harness.state(), EntryKind::Tx), b"AT+GMR");
}

#[test]
fn the_control_line_strip_sends_dtr_rts_and_break_and_shows_the_inputs() {
    let mut ui = Channels::with_spec(temp_config("serial-lines"), "serial:/dev/ttyS9");
    let id = ui.id;
    // Not open yet: nothing to toggle.
    ui.click("DTR");
    assert!(ui.drain_commands().is_empty());

    ui.event(Event::SerialLines {
        id,
        lines: ModemLines::default(),
    });
    assert!(ui.label_contains("CTS DSR CD RI: none"));
    ui.click("DTR");
    ui.click("RTS");
    ui.click("Send break");
    let controls: Vec<SerialControl> = ui
        .drain_commands()
        .into_iter()
        .filter_map(|c| match c {
            Command::SerialControl { id: i, control } if i == id => Some(control),
            _ => None,
        })
        .collect();
    assert_eq!(
        controls,
        [
            SerialControl::Dtr(false),
            SerialControl::Rts(false),
            SerialControl::Break
        ]
    );

    // The engine says how the lines stand: DTR dropped, CTS and CD on.
    let inputs = ModemInputs {
        cts: true,
        dsr: false,
        cd: true,
        ri: false,
    };
    ui.event(Event::SerialLines {
        id,
        lines: ModemLines {
            dtr: false,
            rts: true,
            inputs: Some(inputs),
        },
    });
    for lamp in ["CTS is on", "DSR is off", "CD is on", "RI is off"] {
        assert!(
            ui.harness.query_all_by_label(lamp).next().is_some(),
            "{lamp}"
        );
    }
    let dtr = ui
        .harness
        .get_all_by_role(Role::CheckBox)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == "DTR"))
        .expect("the DTR box");
    assert_eq!(
        dtr.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::False)
    );
    ui.click("DTR");
    let raised = ui.drain_commands();
    assert!(
        raised.iter().any(|c| matches!(
            c,
            Command::SerialControl {
                control: SerialControl::Dtr(true),
                ..
            }
        )),
        "{raised:?}"
    );
}
