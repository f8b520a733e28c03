//! The settings column of a session, in tabs: Log (display, encoding, framing, filter),
//! Sending (send options, periodic and file sends, on-connect payload), Commands (quick
//! commands), Auto-reply (rules) and Save (capture and export). Beside the log in a wide
//! window; in a narrow one a popup over the log's right side, opened from the toolbar, so
//! the log keeps its width.

use crate::app::{Action, App};
use crate::config::ColumnTab;
use crate::i18n::Text;
use crate::protocol::SessionId;
use crate::ui::t;

/// A tab's name in the window's language.
fn tab_name(ui: &egui::Ui, tab: ColumnTab) -> &'static str {
    t(
        ui,
        match tab {
            ColumnTab::Log => Text::TabLog,
            ColumnTab::Sending => Text::TabSending,
            ColumnTab::Commands => Text::TabCommands,
            ColumnTab::AutoReply => Text::TabAutoReply,
            ColumnTab::Save => Text::TabSave,
        },
    )
}

/// The tabs and the chosen tab's content (scrolled vertically; every row fits the width).
pub fn settings_column_ui(
    ui: &mut egui::Ui,
    app: &mut App,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    ui.add_space(2.0);
    // Wrapped as whole tabs if the column is narrow, never a tab's name.
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        for tab in ColumnTab::ALL {
            if ui
                .selectable_label(app.view.tools_tab == tab, tab_name(ui, tab))
                .clicked()
            {
                app.view.tools_tab = tab;
            }
        }
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt(("settings_column", app.view.tools_tab))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Nothing in the column may push it wider than the user made it.
            ui.set_max_width(ui.available_width());
            match app.view.tools_tab {
                ColumnTab::Log => crate::ui::traffic_view::log_tab_ui(ui, app, id),
                ColumnTab::Sending => crate::ui::send_box::sending_tab_ui(ui, app, id, actions),
                ColumnTab::Commands => {
                    crate::ui::quick_commands::commands_tab_ui(ui, app, id, actions);
                }
                ColumnTab::AutoReply => {
                    crate::ui::quick_commands::auto_reply_tab_ui(ui, app, id, actions);
                }
                ColumnTab::Save => crate::ui::traffic_view::save_tab_ui(ui, app, id, actions),
            }
        });
}

/// The column as a popup (a narrow window): over the right side of the log, below the
/// toolbar, closed by its button, the toolbar's toggle or Escape.
pub fn settings_popup_ui(
    ui: &mut egui::Ui,
    app: &mut App,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    let area = ui.max_rect();
    let width = (area.width() * 0.6).clamp(260.0, 380.0);
    let top = area.top() + 2.0 * ui.spacing().interact_size.y + 16.0;
    let height = (area.bottom() - top - 8.0).max(120.0);
    let mut close = ui.input(|i| i.key_pressed(egui::Key::Escape));
    egui::Window::new(t(ui, Text::Tools))
        .id(egui::Id::unique("settings_popup"))
        .title_bar(false)
        .collapsible(false)
        .resizable(false)
        .fixed_pos(egui::pos2(area.right() - width - 4.0, top))
        .fixed_size(egui::vec2(width - 16.0, height - 16.0))
        .show(ui.ctx(), |ui| {
            ui.horizontal(|ui| {
                ui.strong(t(ui, Text::Tools));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    close |= ui.button(t(ui, Text::ClosePanel)).clicked();
                });
            });
            settings_column_ui(ui, app, id, actions);
        });
    if close {
        actions.push(Action::ToggleColumn);
    }
}
