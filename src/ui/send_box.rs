//! The send box: what to send (text or hex), how to encode it, where it goes (for servers:
//! all clients or one), and an inline line saying how many bytes Send will emit or why it
//! cannot. Ctrl+Enter sends.

use crate::app::{Action, App};
use crate::codec::send::encode_payload;
use crate::model::Session;
use crate::protocol::{SendTarget, SessionId};
use crate::ui::traffic_view::encoding_combo_ui;

/// Draws the send box of session `id`.
pub fn send_box_ui(ui: &mut egui::Ui, app: &mut App, id: SessionId, actions: &mut Vec<Action>) {
    let send_shortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Enter);
    if ui.input_mut(|i| i.consume_shortcut(&send_shortcut)) {
        actions.push(Action::Send(id));
    }
    let Some(session) = app.sessions.get(id) else {
        return;
    };
    let view = &mut app.view;
    let session_view = app.views.entry(id).or_default();
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.checkbox(&mut view.send_hex, "Hex send")
            .on_hover_text("Type bytes as hex (31 32 33) instead of text");
        ui.add_enabled_ui(!view.send_hex, |ui| {
            encoding_combo_ui(ui, "Encode as", &mut view.send_encoding);
        });
        if session.spec.kind.is_server() {
            target_combo_ui(ui, session, &mut session_view.target);
        }
        let send = ui
            .add_enabled(session.is_active(), egui::Button::new("Send"))
            .on_hover_text("Send (Ctrl+Enter)")
            .on_disabled_hover_text("Start the session to send");
        if send.clicked() {
            actions.push(Action::Send(id));
        }
    });
    let hint = if view.send_hex {
        "hex bytes, e.g. 31 32 33 or 0x31 0x32"
    } else {
        "text to send"
    };
    let edit = egui::TextEdit::multiline(&mut session_view.send_text)
        .hint_text(hint)
        .font(egui::TextStyle::Monospace)
        .desired_rows(3)
        .desired_width(f32::INFINITY);
    let response = ui.add(edit);
    if response.changed() {
        session_view.send_error = None;
    }
    let text = &session_view.send_text;
    let payload =
        (!text.is_empty()).then(|| encode_payload(text, view.send_hex, view.send_encoding));
    let status = match (&session_view.send_error, payload) {
        (Some(error), _) => Err(error.clone()),
        (None, Some(Err(error))) => Err(error),
        (None, Some(Ok(bytes))) => Ok(format!("{} bytes will be sent", bytes.len())),
        (None, None) => Ok(String::new()),
    };
    match status {
        Ok(text) => ui.label(egui::RichText::new(text).weak()),
        Err(error) => ui.colored_label(ui.visuals().error_fg_color, error),
    };
}

fn target_combo_ui(ui: &mut egui::Ui, session: &Session, target: &mut SendTarget) {
    let noun = if session.spec.kind.is_tcp() {
        "clients"
    } else {
        "peers"
    };
    let describe = |target: SendTarget| match target {
        SendTarget::All => format!("All {noun}"),
        SendTarget::Peer(peer) => match session
            .peers
            .iter()
            .rev()
            .find(|p| p.id == peer && p.connected)
        {
            Some(info) => info.addr.to_string(),
            None => format!("#{} (gone)", peer.0),
        },
    };
    let label = ui.label("To:");
    egui::ComboBox::from_id_salt("send_target")
        .selected_text(describe(*target))
        .width(180.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(target, SendTarget::All, describe(SendTarget::All));
            for peer in session.connected_peers() {
                ui.selectable_value(target, SendTarget::Peer(peer.id), peer.addr.to_string());
            }
        })
        .response
        .labelled_by(label.id);
}
