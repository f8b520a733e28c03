//! The settings column of a session, in tabs: Log (display, encoding, framing, filter),
//! Sending (send options, periodic and file sends, on-connect payload), Commands (quick
//! commands), Auto-reply (rules), Save (capture and export), Scenarios (edit, run, step list),
//! Load test (options, live figures and plots, summary),
//! and for a relay, Relay (hold, step, faults). Beside the log in a wide
//! window; in a narrow one a popup over the log's right side, opened from the toolbar, so
//! the log keeps its width.

use crate::app::{Action, SessionParts};
use crate::config::ColumnTab;
use crate::i18n::Text;
use crate::ui::load::LoadTab;
use crate::ui::quick_commands::{AutoReplyTab, CommandsTab};
use crate::ui::relay::RelayTab;
use crate::ui::scenarios::ScenariosTab;
use crate::ui::send_box::SendingTab;
use crate::ui::traffic_view::{LogTab, SaveTab};
use crate::ui::{Panel, t};

/// A tab's name in the window's language.
fn tab_name(ui: &egui::Ui, tab: ColumnTab) -> &'static str {
    if tab == ColumnTab::Load {
        return crate::i18n::load::ld(crate::ui::language(ui.ctx()), crate::i18n::load::Ld::Tab);
    }
    t(
        ui,
        match tab {
            ColumnTab::Log => Text::TabLog,
            ColumnTab::Sending => Text::TabSending,
            ColumnTab::Commands => Text::TabCommands,
            ColumnTab::AutoReply => Text::TabAutoReply,
            ColumnTab::Save => Text::TabSave,
            ColumnTab::Relay => Text::TabRelay,
            ColumnTab::Scenarios | ColumnTab::Load => Text::TabScenarios,
        },
    )
}

/// The tabs and the chosen tab's content (scrolled vertically; every row fits the width),
/// each tab drawn by the state it edits.
pub fn settings_column_ui(ui: &mut egui::Ui, parts: SessionParts<'_>) -> Vec<Action> {
    let SessionParts {
        id,
        session,
        view,
        session_view,
        traffic,
        quick_commands,
        scenarios,
        load,
    } = parts;
    let relay = session.spec.kind.is_relay();
    if view.tools_tab == ColumnTab::Relay && !relay {
        view.tools_tab = ColumnTab::Log;
    }
    ui.add_space(2.0);
    // Wrapped as whole tabs if the column is narrow, never a tab's name.
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        // The Relay tab is a relay's only.
        for tab in ColumnTab::ALL
            .into_iter()
            .filter(|tab| *tab != ColumnTab::Relay || relay)
        {
            if ui
                .selectable_label(view.tools_tab == tab, tab_name(ui, tab))
                .clicked()
            {
                view.tools_tab = tab;
            }
        }
    });
    ui.separator();
    let tab = view.tools_tab;
    egui::ScrollArea::vertical()
        .id_salt(("settings_column", tab))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Nothing in the column may push it wider than the user made it.
            ui.set_max_width(ui.available_width());
            match tab {
                ColumnTab::Log => {
                    let encoding = session_view.settings.encoding;
                    traffic.ui(
                        ui,
                        LogTab {
                            session,
                            view,
                            encoding,
                        },
                    )
                }
                ColumnTab::Sending => session_view.ui(ui, SendingTab { id, session }),
                ColumnTab::Commands => {
                    let active = session.is_active();
                    let values = scenarios.var_values();
                    let tab = CommandsTab {
                        id,
                        active,
                        global: quick_commands,
                        values: &values,
                    };
                    session_view.tools.ui(ui, tab)
                }
                ColumnTab::AutoReply => session_view.tools.ui(ui, AutoReplyTab { id }),
                ColumnTab::Save => traffic.ui(ui, SaveTab { id }),
                ColumnTab::Relay => {
                    let target = session_view.target;
                    session_view.relay.ui(
                        ui,
                        RelayTab {
                            id,
                            session,
                            target,
                        },
                    )
                }
                ColumnTab::Scenarios => scenarios.ui(
                    ui,
                    ScenariosTab {
                        selected: Some((id, session)),
                    },
                ),
                ColumnTab::Load => load.ui(ui, LoadTab),
            }
        })
        .inner
}

/// The column as a popup (a narrow window): over the right side of the log, below the
/// toolbar, closed by its button, the toolbar's toggle or Escape.
pub fn settings_popup_ui(ui: &mut egui::Ui, parts: SessionParts<'_>) -> Vec<Action> {
    let area = ui.max_rect();
    let width = (area.width() * 0.6).clamp(260.0, 380.0);
    let top = area.top() + 2.0 * ui.spacing().interact_size.y + 16.0;
    let height = (area.bottom() - top - 8.0).max(120.0);
    let mut close = ui.input(|i| i.key_pressed(egui::Key::Escape));
    let mut actions = Vec::new();
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
            actions = settings_column_ui(ui, parts);
        });
    if close {
        actions.push(Action::ToggleColumn);
    }
    actions
}
