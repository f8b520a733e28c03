//! The window's drawing code. Each `*_ui` function takes the `Ui` first, then the state it
//! draws, never blocks or touches a socket, and returns what the user asked for as
//! [`Action`]s for [`App::perform`](crate::app::App::perform).
//!
//! - [`session_list`]: the left panel (create buttons, form, sessions and their peers).
//! - [`traffic_view`]: the log of the selected session and the entry detail.
//! - [`send_box`]: the send box: pipeline choices, targets, byte preview, history,
//!   periodic and file sends.
//! - [`quick_commands`]: quick commands, on-connect payload and auto-reply rules.
//! - [`status_bar`]: totals at the bottom of the window.
//! - [`format`]: shared text formatting (times, sizes, colors).

pub mod format;
pub mod quick_commands;
pub mod send_box;
pub mod session_list;
pub mod status_bar;
pub mod traffic_view;

use crate::app::{Action, App};

/// Lays out the whole window.
pub fn window_ui(ui: &mut egui::Ui, app: &mut App) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        status_bar::status_bar_ui(ui, app);
    });
    egui::Panel::left("sessions")
        .resizable(true)
        .default_size(280.0)
        .min_size(200.0)
        .show(ui, |ui| {
            session_list::session_list_ui(ui, app, &mut actions);
        });
    egui::CentralPanel::default_margins().show(ui, |ui| {
        notices_ui(ui, &app.notices, &mut actions);
        match app.selected.filter(|id| app.sessions.get(*id).is_some()) {
            Some(id) => session_panel_ui(ui, app, id, &mut actions),
            None => empty_state_ui(ui),
        }
    });
    actions
}

fn notices_ui(ui: &mut egui::Ui, notices: &[String], actions: &mut Vec<Action>) {
    for (index, notice) in notices.iter().enumerate() {
        egui::Frame::group(ui.style())
            .fill(ui.visuals().warn_fg_color.gamma_multiply(0.15))
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(egui::RichText::new(notice).color(ui.visuals().warn_fg_color));
                    if ui.button("Dismiss").clicked() {
                        actions.push(Action::DismissNotice(index));
                    }
                });
            });
    }
}

fn session_panel_ui(
    ui: &mut egui::Ui,
    app: &mut App,
    id: crate::protocol::SessionId,
    actions: &mut Vec<Action>,
) {
    // The log is the heart of the window: the tools panel stays narrow and can be closed
    // (the Tools toggle beside Send, or dragging its edge).
    let mut tools_open = app.view.send_tools_open;
    egui::Panel::right("send_tools")
        .resizable(true)
        .default_size(270.0)
        .min_size(220.0)
        .max_size(520.0)
        .show_collapsible(ui, &mut tools_open, |ui| {
            quick_commands::send_tools_ui(ui, app, id, actions);
        });
    app.view.send_tools_open = tools_open;
    egui::Panel::bottom("send_box")
        .resizable(true)
        .default_size(215.0)
        .min_size(100.0)
        .show(ui, |ui| {
            send_box::send_box_ui(ui, app, id, actions);
        });
    traffic_view::traffic_view_ui(ui, app, id, actions);
}

fn empty_state_ui(ui: &mut egui::Ui) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.3);
        ui.heading("No session selected");
        ui.label("Create one on the left: a TCP Server on port 6001, then connect to it with");
        ui.monospace("telnet 127.0.0.1 6001");
        ui.label("or  nc 127.0.0.1 6001  and type: every byte shows up here.");
    });
}
