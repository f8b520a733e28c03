//! UI tests of the settings that belong to a session (issue 13): send options and the
//! encoding are each session's own and saved with it, a new session starts from the last used
//! one, one encoding applies both ways unless split, a session's address can be edited (and it
//! restarts), the create form proposes a port none of our servers holds, a new session is
//! selected and scrolled into view, and a client is named the same way in the client list,
//! the `To:` list and the log.

use std::time::SystemTime;

use bytes::Bytes;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use sockdbg::app::{Action, App};
use sockdbg::codec::checksum::Checksum;
use sockdbg::codec::text::TextEncoding;
use sockdbg::protocol::{Command, Direction, Event, PeerId, SessionId};
use tokio::sync::mpsc;

mod ui_support;

type Fixture = ui_support::Channels;

fn fixture(name: &str) -> Fixture {
    ui_support::Channels::new(ui_support::temp_config(&format!("session-settings-{name}")))
}

impl Fixture {
    /// Clicks a session's title in the list (the list comes before the log's heading).
    fn select(&mut self, title: &str) {
        self.harness
            .get_all_by_label(title)
            .next()
            .unwrap_or_else(|| panic!("no session {title:?}"))
            .click();
        self.harness.run_steps(2);
    }

    /// Answers the engine's start of the newest session: it runs on `local`.
    fn started(&mut self, local: &str) -> SessionId {
        let id = match self
            .drain_commands()
            .into_iter()
            .rev()
            .find_map(|c| match c {
                Command::Start { id, .. } => Some(id),
                _ => None,
            }) {
            Some(id) => id,
            None => panic!("no session was started"),
        };
        self.event(Event::Started {
            id,
            local_addr: local.parse().expect("addr"),
            at: SystemTime::now(),
        });
        id
    }

    /// Opens the create form for `button`, checks the port it proposes, creates the session.
    fn create(&mut self, button: &str, proposed_port: &str) {
        self.click(button);
        let form = self.harness.state().list.create_form.as_ref();
        assert_eq!(form.map(|f| f.port.as_str()), Some(proposed_port));
        self.click("Create");
    }
}

#[test]
fn send_options_belong_to_their_session_and_are_saved_with_it() {
    let mut f = fixture("per-session");
    // A second server: the form does not propose 6001, which the first one holds.
    f.create("Create TCP Server", "6002");
    let second = f.started("0.0.0.0:6002");
    assert_eq!(
        f.harness.state().selected,
        Some(second),
        "the new one is shown"
    );

    // On the second session: Modbus hex with a CRC.
    f.click("Hex send");
    f.click("Sending");
    f.pick("Checksum", "CRC-16/MODBUS (LE)");
    f.type_in_send_box("01 03 00 00 00 0A");
    f.click("Send");
    assert_eq!(
        f.sent_bytes(),
        vec![vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]]
    );

    // The first session keeps its own: text, escapes, no checksum (the issue: a CRC set on
    // one session appended `D5 1A` on another, and hex send made `AT+GMR\r\n` invalid hex).
    f.select("TCP Server 127.0.0.1:6001");
    assert_eq!(f.harness.state().selected, Some(f.id));
    f.type_in_send_box("AT+GMR\\r\\n");
    assert!(!f.label_contains("invalid hex"));
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![b"AT+GMR\r\n".to_vec()]);

    let saved = f.store.load().config;
    assert_eq!(saved.sessions[0].settings.checksum, Checksum::None);
    assert!(!saved.sessions[0].settings.send_hex);
    assert_eq!(saved.sessions[1].settings.checksum, Checksum::Crc16Modbus);
    assert!(saved.sessions[1].settings.send_hex);

    // A new session starts from the last used one (the second, with its CRC and hex).
    f.select("TCP Server 0.0.0.0:6002");
    f.create("Create UDP Server", "6001");
    let third = f.started("0.0.0.0:6001");
    let settings = f.harness.state().settings_of(third);
    assert_eq!(settings.checksum, Checksum::Crc16Modbus);
    assert!(settings.send_hex);

    // The next run restores each session's own settings.
    drop(f.harness);
    let restored = App::new(
        sockdbg::app::EngineLink::from_channels(
            mpsc::unbounded_channel().0,
            crossbeam_channel::unbounded().1,
        ),
        Some(f.store.clone()),
        vec![],
    );
    let ids: Vec<SessionId> = restored.sessions.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(restored.settings_of(ids[0]).checksum, Checksum::None);
    assert_eq!(restored.settings_of(ids[1]).checksum, Checksum::Crc16Modbus);
    assert_eq!(restored.settings_of(ids[2]).checksum, Checksum::Crc16Modbus);
}

#[test]
fn one_encoding_applies_both_ways_unless_split() {
    let mut f = fixture("encoding");
    let (id, peer) = (f.id, PeerId(1));
    f.event(Event::PeerConnected {
        id,
        peer,
        addr: "127.0.0.1:50001".parse().expect("addr"),
        at: SystemTime::now(),
    });
    f.event(Event::Traffic {
        id,
        peer,
        dir: Direction::Rx,
        data: Bytes::from_static(&[0xd6, 0xd0, 0xce, 0xc4]),
        injected: false,
        at: SystemTime::now(),
    });
    f.pick("Encoding", "GBK");
    assert!(f.label_contains("中文"), "the log decodes GBK");
    f.type_in_send_box("中文");
    f.click("Send");
    assert_eq!(
        f.sent_bytes(),
        vec![vec![0xd6, 0xd0, 0xce, 0xc4]],
        "sent as GBK"
    );

    // The rare split (in the Sending tab): sends in UTF-8, the log stays GBK.
    f.click("Sending");
    f.click("Own send encoding");
    f.pick("Send as", "UTF-8");
    f.click("Send");
    assert_eq!(
        f.sent_bytes(),
        vec!["中文".as_bytes().to_vec()],
        "sent as UTF-8"
    );
    assert!(f.label_contains("中文"), "the log still decodes GBK");
    let saved = f.store.load().config.sessions[0].settings;
    assert_eq!(saved.encoding, TextEncoding::Gbk);
    assert_eq!(saved.send_encoding, Some(TextEncoding::Utf8));
    // Unsplit again: one encoding both ways.
    f.click("Own send encoding");
    f.click("Send");
    assert_eq!(f.sent_bytes(), vec![vec![0xd6, 0xd0, 0xce, 0xc4]]);
}

#[test]
fn edit_changes_the_address_and_restarts_the_session() {
    let mut f = fixture("edit");
    f.harness
        .get_all_by_label("TCP Server 127.0.0.1:6001")
        .next()
        .expect("in the list")
        .click_secondary();
    f.harness.run_steps(2);
    f.click("Edit…");
    assert!(f.label_contains("Edit TCP Server"));
    let form = f.harness.state().list.create_form.clone().expect("open");
    assert_eq!(
        (form.host.as_str(), form.port.as_str()),
        ("127.0.0.1", "6001")
    );
    assert_eq!(form.editing, Some(f.id));
    let port = f
        .harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("6001"))
        .expect("port field");
    port.focus();
    f.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    f.harness
        .get_all_by_role(Role::TextInput)
        .find(|n| n.value().as_deref() == Some("6001"))
        .expect("port field")
        .type_text("60010");
    f.harness.run_steps(1);
    f.click("Apply");
    let restarted = f.drain_commands().into_iter().find_map(|c| match c {
        Command::Start { id, spec } => Some((id, spec.to_string())),
        _ => None,
    });
    assert_eq!(
        restarted,
        Some((f.id, "tcp-server:127.0.0.1:60010".to_string())),
        "the same session, restarted on its new port"
    );
    assert_eq!(f.harness.state().sessions.len(), 1);
    assert!(f.harness.state().list.create_form.is_none());
    assert_eq!(
        f.store.load().config.sessions[0].spec,
        "tcp-server:127.0.0.1:60010"
    );

    // A stopped session is edited but stays stopped.
    f.harness.state_mut().perform(Action::Stop(f.id));
    f.event(Event::Stopped {
        id: f.id,
        reason: None,
    });
    f.drain_commands();
    f.harness.state_mut().perform(Action::OpenEditForm(f.id));
    f.harness.run_steps(2);
    f.click("Apply");
    assert!(
        !f.drain_commands()
            .iter()
            .any(|c| matches!(c, Command::Start { .. })),
        "not started"
    );
}

#[test]
fn a_new_session_is_selected_and_scrolled_into_view() {
    let mut f = fixture("scroll");
    for port in 7000..7030u16 {
        let spec = format!("udp-client:127.0.0.1:{port}")
            .parse()
            .expect("spec");
        f.harness
            .state_mut()
            .perform(Action::CreateSession(Box::new(spec)));
    }
    f.harness.run_steps(4);
    let last = f.harness.state().sessions.iter().last().map(|s| s.id);
    assert_eq!(f.harness.state().selected, last);
    let title = f
        .harness
        .get_all_by_label("UDP Client 127.0.0.1:7029")
        .next()
        .expect("the new session in the list");
    let bottom = title.rect().max.y;
    assert!(
        bottom <= 800.0,
        "the new session is scrolled into view (its title ends at y={bottom})"
    );
}

#[test]
fn a_client_is_named_alike_in_the_client_list_the_to_list_and_the_log() {
    let mut f = fixture("names");
    let id = f.id;
    for (n, addr) in [(1, "127.0.0.1:50001"), (2, "[0:0:0:0:0:0:0:1]:50002")] {
        f.event(Event::PeerConnected {
            id,
            peer: PeerId(n),
            addr: addr.parse().expect("addr"),
            at: SystemTime::now(),
        });
        f.event(Event::Traffic {
            id,
            peer: PeerId(n),
            dir: Direction::Rx,
            data: Bytes::from_static(b"hi"),
            injected: false,
            at: SystemTime::now(),
        });
    }
    // A label's text is its value (kittest matches labels by it) or its name.
    let texts = |f: &Fixture, name: &str| -> Vec<String> {
        f.harness
            .query_all_by_label_contains(name)
            .filter_map(|n| n.value().or_else(|| n.accesskit_node().label()))
            .collect()
    };
    for name in ["127.0.0.1:50001", "[::1]:50002"] {
        let shown = texts(&f, name);
        assert!(
            shown.iter().any(|t| t.as_str() == name),
            "{name} in the client list: {shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|t| t.contains(&format!("RX  {name}")) && t.ends_with("hi")),
            "{name} names the log row: {shown:?}"
        );
    }
    // The To: list offers the client by the same name (the list's entry is the last one found).
    f.harness
        .get_all_by_role(Role::ComboBox)
        .find(|n| n.accesskit_node().label().is_some_and(|l| l == "To:"))
        .expect("the To: list")
        .click();
    f.harness.run_steps(2);
    let offered: Vec<_> = f.harness.get_all_by_label("[::1]:50002").collect();
    assert_eq!(offered.len(), 2, "in the client list and in the To: list");
    offered.last().expect("in the To: list").click();
    f.harness.run_steps(2);
    assert_eq!(
        f.harness.state().views[&id].target,
        sockdbg::protocol::SendTarget::Peer(PeerId(2))
    );
}
