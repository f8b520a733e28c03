//! The left panel: the four create buttons, the create form, and the list of sessions with
//! their state and counters; a server's peers are listed under it.

use crate::app::{Action, App, CreateForm};
use crate::model::{PeerInfo, Session, SessionState};
use crate::protocol::SendTarget;
use crate::spec::{SessionKind, SessionSpec};
use crate::ui::format::byte_count;

/// Draws the left panel.
pub fn session_list_ui(ui: &mut egui::Ui, app: &mut App, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.heading("sockdbg");
    ui.add_space(4.0);
    for kind in SessionKind::ALL {
        let button = egui::Button::new(format!("Create {}", kind.label()));
        if ui.add_sized([ui.available_width(), 22.0], button).clicked() {
            actions.push(Action::OpenCreateForm(kind));
        }
    }
    if let Some(form) = &mut app.create_form {
        ui.add_space(4.0);
        create_form_ui(ui, form, actions);
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for session in app.sessions.iter() {
                let target = app.views.get(&session.id).map(|v| v.target);
                session_row_ui(
                    ui,
                    session,
                    app.selected == Some(session.id),
                    target,
                    actions,
                );
            }
        });
}

fn create_form_ui(ui: &mut egui::Ui, form: &mut CreateForm, actions: &mut Vec<Action>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong(format!("New {}", form.kind.label()));
        let host_label = if form.kind.is_server() {
            "Local IP"
        } else {
            "Remote host"
        };
        let mut submit = false;
        egui::Grid::new("create_form")
            .num_columns(2)
            .show(ui, |ui| {
                ui.label(host_label);
                let host = ui.add(egui::TextEdit::singleline(&mut form.host).desired_width(140.0));
                ui.end_row();
                ui.label("Port");
                let port = ui.add(egui::TextEdit::singleline(&mut form.port).desired_width(70.0));
                ui.end_row();
                let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
                submit |= (host.lost_focus() || port.lost_focus()) && enter;
            });
        if let Some(error) = &form.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.horizontal(|ui| {
            submit |= ui.button("Create").clicked();
            if ui.button("Cancel").clicked() {
                actions.push(Action::CancelCreateForm);
            }
        });
        if submit {
            match SessionSpec::from_form(form.kind, &form.host, &form.port) {
                Ok(spec) => actions.push(Action::CreateSession(spec)),
                Err(e) => form.error = Some(e.to_string()),
            }
        }
    });
}

fn state_color(session: &Session, visuals: &egui::Visuals) -> egui::Color32 {
    match session.state {
        SessionState::Running { .. } => {
            crate::ui::format::kind_color(crate::model::EntryKind::Rx, visuals)
        }
        SessionState::Starting => visuals.warn_fg_color,
        SessionState::Failed(_) | SessionState::Ended(_) => visuals.error_fg_color,
        SessionState::Stopped => visuals.weak_text_color(),
    }
}

fn session_row_ui(
    ui: &mut egui::Ui,
    session: &Session,
    selected: bool,
    target: Option<SendTarget>,
    actions: &mut Vec<Action>,
) {
    let id = session.id;
    ui.push_id(id.0, |ui| {
        let title = ui.add(egui::Button::selectable(
            selected,
            egui::RichText::new(session.title()).strong(),
        ));
        if title.clicked() {
            actions.push(Action::Select(id));
        }
        ui.indent("state", |ui| {
            ui.colored_label(state_color(session, ui.visuals()), session.state_text());
            ui.label(
                egui::RichText::new(format!(
                    "RX {}  TX {}",
                    byte_count(session.counters.rx_bytes),
                    byte_count(session.counters.tx_bytes)
                ))
                .small(),
            );
            ui.horizontal(|ui| {
                let (start, stop) = if session.spec.kind == SessionKind::TcpClient {
                    ("Connect", "Disconnect")
                } else {
                    ("Start", "Stop")
                };
                if session.is_active() {
                    if ui.small_button(stop).clicked() {
                        actions.push(Action::Stop(id));
                    }
                } else if ui.small_button(start).clicked() {
                    actions.push(Action::Start(id));
                }
                if ui.small_button("Delete").clicked() {
                    actions.push(Action::Delete(id));
                }
            });
            if session.spec.kind.is_server() {
                peers_ui(ui, session, target, actions);
            }
        });
        ui.add_space(6.0);
    });
}

/// Peers listed without a scroll bar; more go in a scrolled list that lays out only the
/// rows on screen, so ten thousand clients cost the same per frame as ten.
const PEERS_SHOWN_INLINE: usize = 8;

fn peers_ui(
    ui: &mut egui::Ui,
    session: &Session,
    target: Option<SendTarget>,
    actions: &mut Vec<Action>,
) {
    let noun = if session.spec.kind.is_tcp() {
        "clients"
    } else {
        "peers"
    };
    let peers: Vec<&PeerInfo> = session.connected_peers().collect();
    ui.label(egui::RichText::new(format!("{} {noun}", peers.len())).small());
    if peers.len() <= PEERS_SHOWN_INLINE {
        for peer in peers {
            peer_row_ui(ui, session, peer, target, actions);
        }
        return;
    }
    let row_height = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical()
        .id_salt(("peers", session.id.0))
        .max_height(row_height * PEERS_SHOWN_INLINE as f32)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, peers.len(), |ui, rows| {
            for peer in &peers[rows] {
                peer_row_ui(ui, session, peer, target, actions);
            }
        });
}

fn peer_row_ui(
    ui: &mut egui::Ui,
    session: &Session,
    peer: &PeerInfo,
    target: Option<SendTarget>,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        let chosen = target == Some(SendTarget::Peer(peer.id));
        let text = format!(
            "{}  RX {} TX {}",
            peer.addr,
            byte_count(peer.rx_bytes),
            byte_count(peer.tx_bytes)
        );
        let label = ui.add(egui::Button::selectable(
            chosen,
            egui::RichText::new(text).monospace().small(),
        ));
        if label.clicked() {
            actions.push(Action::SelectPeer(session.id, peer.id));
        }
        let (button, tip) = if session.spec.kind.is_tcp() {
            ("Close", "Disconnect this client")
        } else {
            ("Forget", "Forget this peer")
        };
        if ui.small_button(button).on_hover_text(tip).clicked() {
            actions.push(Action::Disconnect(session.id, peer.id));
        }
    });
}
