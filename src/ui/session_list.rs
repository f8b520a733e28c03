//! The left panel ([`SessionList`] draws it): the settings menu, the four create buttons, the
//! create form, and the list of sessions with their name, state, counters and connection
//! counts (a context menu on each starts, stops, duplicates, renames or deletes it); a
//! server's peers are listed under it. In a narrow window it is a strip of buttons. The
//! delete confirmation is its modal.

use std::collections::HashMap;

use crate::app::{Action, CreateForm, SerialPorts, SessionList, SessionView};
use crate::config::ViewSettings;
use crate::i18n::messages::{Render, running_text};
use crate::i18n::{Language, Text, tr, trf};
use crate::model::{PeerInfo, Session, SessionState, Sessions};
use crate::protocol::{SendTarget, SessionId};
use crate::spec::{OptionKey, SessionKind};
use crate::ui::format::byte_count;
use crate::ui::{Panel, t, tf};

/// What the session list reads besides its own state.
pub struct SessionsShown<'a> {
    /// Every session, in order.
    pub sessions: &'a Sessions,
    /// Per-session names and send targets.
    pub views: &'a HashMap<SessionId, SessionView>,
    /// The session shown on the right.
    pub selected: Option<SessionId>,
    /// Theme, language and text size (the settings menu).
    pub view: &'a ViewSettings,
    /// Drawn as the narrow strip of buttons instead of the full list.
    pub strip: bool,
}

impl Panel<SessionsShown<'_>> for SessionList {
    fn ui(&mut self, ui: &mut egui::Ui, input: SessionsShown<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        if input.strip {
            session_strip_ui(ui, &input, &mut actions);
        } else {
            self.list_ui(ui, &input, &mut actions);
        }
        self.confirm_delete_ui(ui.ctx(), &input, &mut actions);
        actions
    }
}

/// How many of [`SessionKind::ALL`] get a button of their own; the rest are in a menu.
const BASIC_KINDS: usize = 4;

/// A session kind's name in `language` (`TCP Server`, `TCP 服务器`).
pub fn kind_name(language: Language, kind: SessionKind) -> &'static str {
    let key = match kind {
        SessionKind::TcpServer => Text::KindTcpServer,
        SessionKind::TcpClient => Text::KindTcpClient,
        SessionKind::UdpServer => Text::KindUdpServer,
        SessionKind::UdpClient => Text::KindUdpClient,
        SessionKind::UdpGroup => Text::KindUdpGroup,
        SessionKind::TlsServer => Text::KindTlsServer,
        SessionKind::TlsClient => Text::KindTlsClient,
        SessionKind::WsServer => Text::KindWsServer,
        SessionKind::WsClient => Text::KindWsClient,
        SessionKind::Relay => Text::KindRelay,
        SessionKind::UdpRelay => Text::KindUdpRelay,
        SessionKind::Serial => Text::KindSerial,
    };
    tr(language, key)
}

/// A session's kind and address in `language` (`TCP 服务器 0.0.0.0:6001`).
pub fn session_title(language: Language, session: &Session) -> String {
    format!(
        "{} {}",
        kind_name(language, session.spec.kind),
        session.spec.address()
    )
}

/// A session's state in `language` (`listening on 0.0.0.0:6001`).
pub fn state_text(language: Language, session: &Session) -> String {
    let tf = |key, arg: &dyn std::fmt::Display| trf(language, key, &[arg]);
    match &session.state {
        SessionState::Stopped => tr(language, Text::StateStopped).to_string(),
        SessionState::Starting if session.spec.kind.is_tcp() && !session.spec.kind.is_server() => {
            tr(language, Text::StateConnecting).to_string()
        }
        SessionState::Starting if session.spec.kind == SessionKind::Serial => {
            tr(language, Text::StateOpeningPort).to_string()
        }
        SessionState::Starting => tr(language, Text::StateStarting).to_string(),
        SessionState::Running { local_addr } => {
            running_text(language, session.spec.kind, local_addr)
        }
        SessionState::Failed(reason) => tf(Text::StateFailed, &reason.render(language)),
        SessionState::Ended(reason) => tf(Text::StateEnded, &reason.render(language)),
    }
}

impl SessionList {
    /// The full list.
    fn list_ui(&mut self, ui: &mut egui::Ui, input: &SessionsShown<'_>, actions: &mut Vec<Action>) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading("sockdbg");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let collapse = ui.button("«").on_hover_text(t(ui, Text::HideSessions));
                crate::ui::set_accessible_name(ui, &collapse, t(ui, Text::HideSessions));
                if collapse.clicked() {
                    actions.push(Action::ToggleSessions);
                }
                crate::ui::settings_menu_ui(ui, input.view, actions, false);
            });
        });
        ui.add_space(4.0);
        let language = crate::ui::language(ui.ctx());
        let (basic, more) = SessionKind::ALL.split_at(BASIC_KINDS);
        let height = ui.spacing().interact_size.y;
        for &kind in basic {
            let label = trf(language, Text::CreateKind, &[&kind_name(language, kind)]);
            let button = egui::Button::new(label).truncate();
            if ui
                .add_sized([ui.available_width(), height], button)
                .on_hover_text(t(ui, Text::NewSessionTip))
                .clicked()
            {
                actions.push(Action::OpenCreateForm(kind));
            }
        }
        ui.menu_button(t(ui, Text::MoreKinds), |ui| {
            for &kind in more {
                let label = trf(language, Text::CreateKind, &[&kind_name(language, kind)]);
                if ui.button(label).clicked() {
                    actions.push(Action::OpenCreateForm(kind));
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text(t(ui, Text::MoreKindsTip));
        if let Some(form) = &mut self.create_form {
            ui.add_space(4.0);
            create_form_ui(ui, form, &self.serial_ports, actions);
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let scroll_to = self.scroll_to.take();
                for session in input.sessions.iter() {
                    let view = input.views.get(&session.id);
                    let row = Row {
                        selected: input.selected == Some(session.id),
                        target: view.map(|v| v.target),
                        name: view.map_or("", |v| v.name.as_str()),
                    };
                    let renaming = match &mut self.renaming {
                        Some((id, text)) if *id == session.id => Some(text),
                        _ => None,
                    };
                    let top = ui.cursor().min;
                    session_row_ui(ui, session, &row, renaming, actions);
                    if scroll_to == Some(session.id) {
                        let rect = egui::Rect::from_min_max(top, ui.cursor().min);
                        ui.scroll_to_rect(rect, None);
                    }
                }
            });
    }

    /// The small modal that asks before a session is deleted.
    fn confirm_delete_ui(
        &self,
        ctx: &egui::Context,
        input: &SessionsShown<'_>,
        actions: &mut Vec<Action>,
    ) {
        let Some(id) = self.confirm_delete else {
            return;
        };
        let Some(session) = input.sessions.get(id) else {
            actions.push(Action::CancelDelete);
            return;
        };
        let language = crate::ui::language(ctx);
        let name = input
            .views
            .get(&id)
            .map(|v| v.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| session_title(language, session));
        let modal = egui::Modal::new(egui::Id::unique("confirm_delete")).show(ctx, |ui| {
            ui.set_max_width(360.0);
            ui.heading(t(ui, Text::ConfirmDeleteTitle));
            ui.label(tf(ui, Text::ConfirmDeleteBody, &[&name]));
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let delete = ui.button(t(ui, Text::DeleteSession));
                if delete.clicked() || ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    actions.push(Action::Delete(id));
                }
                if ui.button(t(ui, Text::Cancel)).clicked() {
                    actions.push(Action::CancelDelete);
                }
            });
        });
        // Escape cancels; a click beside the dialog does not (the click that opened it could
        // land there).
        let escape = ctx.input(|i| i.key_pressed(egui::Key::Escape));
        if escape && modal.is_top_modal && !actions.contains(&Action::Delete(id)) {
            actions.push(Action::CancelDelete);
        }
    }
}

fn create_form_ui(
    ui: &mut egui::Ui,
    form: &mut CreateForm,
    ports: &SerialPorts,
    actions: &mut Vec<Action>,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        let language = crate::ui::language(ui.ctx());
        let title = if form.editing.is_some() {
            Text::EditKind
        } else {
            Text::NewKind
        };
        ui.strong(trf(language, title, &[&kind_name(language, form.kind)]));
        let mut submit = if form.kind == SessionKind::Serial {
            crate::ui::serial::serial_form_ui(ui, form, ports, actions)
        } else {
            address_fields_ui(ui, form)
        };
        if let Some(error) = &form.error {
            crate::ui::problem_ui(ui, error);
        }
        ui.add_space(2.0);
        ui.horizontal(|ui| {
            let submit_text = if form.editing.is_some() {
                t(ui, Text::Apply)
            } else {
                t(ui, Text::Create)
            };
            submit |= ui.button(submit_text).clicked();
            if ui.button(t(ui, Text::Cancel)).clicked() {
                actions.push(Action::CancelCreateForm);
            }
        });
        if submit {
            match (form.spec(), form.editing) {
                (Ok(spec), Some(id)) => actions.push(Action::EditSession(id, Box::new(spec))),
                (Ok(spec), None) => actions.push(Action::CreateSession(Box::new(spec))),
                (Err(problem), _) => form.error = Some(problem),
            }
        }
    });
}

/// A socket session's fields: its host, port and options, each under its label (the list
/// may be narrow); returns whether Enter was pressed in one (the form submits).
fn address_fields_ui(ui: &mut egui::Ui, form: &mut CreateForm) -> bool {
    let host_label = if form.kind.is_server() {
        t(ui, Text::LocalIp)
    } else if form.kind == SessionKind::UdpGroup {
        t(ui, Text::GroupAddress)
    } else {
        t(ui, Text::RemoteHost)
    };
    let accepted = form.kind.options();
    let mut submit = false;
    let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut field = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str| {
        let label = ui.label(label);
        let response = ui
            .add(
                egui::TextEdit::singleline(text)
                    .hint_text(hint)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        submit |= response.lost_focus() && enter;
        response
    };
    field(ui, host_label, &mut form.host, "");
    field(ui, t(ui, Text::Port), &mut form.port, "");
    if !accepted.is_empty() {
        let syntax: Vec<&str> = accepted.iter().map(|k| k.syntax()).collect();
        let syntax = syntax.join(", ");
        field(ui, t(ui, Text::Options), &mut form.options, &syntax).on_hover_text(tf(
            ui,
            Text::OptionsTip,
            &[&syntax],
        ));
    }
    if form.offers_reconnect() {
        let mut reconnect = form.has_flag(OptionKey::Reconnect);
        if ui
            .checkbox(&mut reconnect, t(ui, Text::ClientReconnect))
            .on_hover_text(t(ui, Text::ClientReconnectTip))
            .changed()
        {
            form.set_flag(OptionKey::Reconnect, reconnect);
        }
    }
    submit
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

/// What the list knows of a session beside the model.
struct Row<'a> {
    selected: bool,
    target: Option<SendTarget>,
    name: &'a str,
}

fn session_row_ui(
    ui: &mut egui::Ui,
    session: &Session,
    row: &Row<'_>,
    renaming: Option<&mut String>,
    actions: &mut Vec<Action>,
) {
    let id = session.id;
    let language = crate::ui::language(ui.ctx());
    ui.push_id(id.0, |ui| {
        let address_title = format!(
            "{} {}",
            kind_name(language, session.spec.kind),
            session.spec.address()
        );
        if let Some(text) = renaming {
            rename_ui(ui, id, text, actions);
        } else {
            let title_text = if row.name.is_empty() {
                address_title.clone()
            } else {
                row.name.to_string()
            };
            // Cut at the list's width (a long name or IPv6 address), whole in the tooltip.
            let title = ui
                .add(
                    egui::Button::selectable(
                        row.selected,
                        egui::RichText::new(title_text).strong(),
                    )
                    .truncate(),
                )
                .on_hover_text(format!("{address_title}\n{}", t(ui, Text::RenameTip)));
            if title.clicked() {
                actions.push(Action::Select(id));
            }
            if title.double_clicked() {
                actions.push(Action::BeginRename(id));
            }
            title.context_menu(|ui| session_menu_ui(ui, session, actions));
        }
        ui.indent("state", |ui| {
            if !row.name.is_empty() {
                ui.add(egui::Label::new(egui::RichText::new(&address_title).weak()).truncate());
            }
            ui.colored_label(
                state_color(session, ui.visuals()),
                state_text(language, session),
            );
            ui.add(
                egui::Label::new(tf(
                    ui,
                    Text::Totals,
                    &[
                        &byte_count(session.counters.rx_bytes),
                        &byte_count(session.counters.tx_bytes),
                    ],
                ))
                .truncate(),
            );
            ui.horizontal(|ui| {
                let (start, stop) = start_stop_labels(session);
                if session.is_active() {
                    if ui.button(t(ui, stop)).clicked() {
                        actions.push(Action::Stop(id));
                    }
                } else if ui.button(t(ui, start)).clicked() {
                    actions.push(Action::Start(id));
                }
                if ui
                    .button(t(ui, Text::Delete))
                    .on_hover_text(t(ui, Text::DeleteTip))
                    .clicked()
                {
                    actions.push(Action::ConfirmDelete(id));
                }
            });
            if session.spec.kind.is_server() {
                peers_ui(ui, session, row.target, actions);
            }
        });
        ui.add_space(6.0);
    });
}

fn start_stop_labels(session: &Session) -> (Text, Text) {
    if session.spec.kind == SessionKind::TcpClient {
        (Text::Connect, Text::Disconnect)
    } else {
        (Text::Start, Text::Stop)
    }
}

/// The session's context menu: start/stop, duplicate, rename, delete.
fn session_menu_ui(ui: &mut egui::Ui, session: &Session, actions: &mut Vec<Action>) {
    let id = session.id;
    let (start, stop) = start_stop_labels(session);
    if session.is_active() {
        if ui.button(t(ui, stop)).clicked() {
            actions.push(Action::Stop(id));
        }
    } else if ui.button(t(ui, start)).clicked() {
        actions.push(Action::Start(id));
    }
    if ui.button(t(ui, Text::EditSession)).clicked() {
        actions.push(Action::OpenEditForm(id));
    }
    if ui.button(t(ui, Text::Duplicate)).clicked() {
        actions.push(Action::Duplicate(id));
    }
    if ui.button(t(ui, Text::Rename)).clicked() {
        actions.push(Action::BeginRename(id));
    }
    ui.separator();
    if ui.button(t(ui, Text::Delete)).clicked() {
        actions.push(Action::ConfirmDelete(id));
    }
}

/// The name field shown in place of the title while renaming: Enter or OK keeps the name,
/// Escape keeps the old one.
fn rename_ui(ui: &mut egui::Ui, id: SessionId, text: &mut String, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(text)
                .hint_text(t(ui, Text::NameHint))
                .desired_width(ui.available_width() - 40.0),
        );
        let field_id = field.id;
        if !field.has_focus() && !field.lost_focus() {
            ui.memory_mut(|m| m.request_focus(field_id));
        }
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
        if ui.button(t(ui, Text::RenameDone)).clicked() || enter {
            actions.push(Action::Rename(id, text.clone()));
        } else if escape {
            actions.push(Action::CancelRename);
        }
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
        Text::ClientsCount
    } else {
        Text::PeersCount
    };
    // Counted, never collected: a server may have ten thousand clients, and only the rows
    // on screen are looked at each frame.
    let connected = session.peers.connected_count();
    let mut count = tf(ui, noun, &[&connected]);
    let ever = session.peers.ever_seen();
    if ever > connected as u64 {
        count.push_str(&tf(ui, Text::EverConnected, &[&ever]));
    }
    ui.add(egui::Label::new(count).truncate()).on_hover_text(tf(
        ui,
        Text::ConnectionsTotal,
        &[&connected, &ever],
    ));
    if connected <= PEERS_SHOWN_INLINE {
        for peer in session.connected_peers() {
            peer_row_ui(ui, session, peer, target, actions);
        }
        return;
    }
    // Two lines a peer: its address (and Close), then its counters.
    let row_height = 2.0 * ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
    egui::ScrollArea::vertical()
        .id_salt(("peers", session.id.0))
        .max_height(row_height * PEERS_SHOWN_INLINE as f32)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, connected, |ui, rows| {
            let shown = session.connected_peers().skip(rows.start).take(rows.len());
            for peer in shown {
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
    let name = crate::ui::format::session_peer_name(session, peer.addr);
    let (button, tip) = if session.spec.kind.is_tcp() {
        (Text::Close, Text::CloseTip)
    } else {
        (Text::Forget, Text::ForgetTip)
    };
    ui.push_id(peer.id.0, |ui| {
        // Its address on a line of its own (the list is narrow); counters and Close under it.
        let chosen = target == Some(SendTarget::Peer(peer.id));
        let label = ui
            .add(egui::Button::selectable(chosen, &name).truncate())
            .on_hover_text(t(ui, Text::ChoosePeerTip));
        if label.clicked() {
            actions.push(Action::SelectPeer(session.id, peer.id));
        }
        // A relay's pair: up (client → target) and down.
        let key = if session.spec.kind.is_relay() {
            Text::PairCounters
        } else {
            Text::PeerCounters
        };
        let counters = tf(
            ui,
            key,
            &[&byte_count(peer.rx_bytes), &byte_count(peer.tx_bytes)],
        );
        ui.horizontal(|ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(t(ui, button)).on_hover_text(t(ui, tip)).clicked() {
                    actions.push(Action::Disconnect(session.id, peer.id));
                }
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    ui.add_space(ui.spacing().indent);
                    ui.add(egui::Label::new(egui::RichText::new(counters).weak()).truncate());
                });
            });
        });
    });
}

/// The session list as a strip (a narrow window): a button that shows the whole list, and
/// one button a session (its kind's initials, in its state's color; the title on hover).
fn session_strip_ui(ui: &mut egui::Ui, input: &SessionsShown<'_>, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    let expand = ui.button("»").on_hover_text(t(ui, Text::ShowSessions));
    crate::ui::set_accessible_name(ui, &expand, t(ui, Text::ShowSessions));
    if expand.clicked() {
        actions.push(Action::ToggleSessions);
    }
    crate::ui::settings_menu_ui(ui, input.view, actions, true);
    let new = ui.button("+").on_hover_text(t(ui, Text::NewSessionTip));
    crate::ui::set_accessible_name(ui, &new, t(ui, Text::NewSessionTip));
    if new.clicked() {
        actions.push(Action::OpenCreateForm(SessionKind::TcpServer));
        actions.push(Action::ToggleSessions);
    }
    ui.separator();
    let language = crate::ui::language(ui.ctx());
    egui::ScrollArea::vertical()
        .auto_shrink([true, false])
        .show(ui, |ui| {
            for session in input.sessions.iter() {
                let name = input
                    .views
                    .get(&session.id)
                    .map(|v| v.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| session_title(language, session));
                let initials = kind_initials(session.spec.kind);
                let text = egui::RichText::new(initials)
                    .monospace()
                    .color(state_color(session, ui.visuals()));
                let selected = input.selected == Some(session.id);
                let button = ui
                    .add(
                        egui::Button::selectable(selected, text)
                            .wrap_mode(egui::TextWrapMode::Extend),
                    )
                    .on_hover_text(format!("{name}\n{}", state_text(language, session)));
                crate::ui::set_accessible_name(ui, &button, &name);
                if button.clicked() {
                    actions.push(Action::Select(session.id));
                }
                button.context_menu(|ui| session_menu_ui(ui, session, actions));
            }
        });
}

/// Two letters for a session kind in the strip (`TS` TCP server, `UC` UDP client, ...).
fn kind_initials(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::TcpServer => "TS",
        SessionKind::TcpClient => "TC",
        SessionKind::UdpServer => "US",
        SessionKind::UdpClient => "UC",
        SessionKind::UdpGroup => "UG",
        SessionKind::TlsServer => "LS",
        SessionKind::TlsClient => "LC",
        SessionKind::WsServer => "WS",
        SessionKind::WsClient => "WC",
        SessionKind::Relay => "TR",
        SessionKind::UdpRelay => "UR",
        SessionKind::Serial => "SP",
    }
}
