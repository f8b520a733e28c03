//! The window's drawing code: it only draws. Each `*_ui` function (or a panel state's `ui`
//! method, implemented here for the state types of [`crate::app`]) takes the `Ui` first, then
//! the state it draws, never blocks or touches a socket or a file, and returns what the user
//! asked for as [`Action`]s for [`App::perform`](crate::app::App::perform). The
//! [`eframe::App`] implementation is here too: its `logic` runs [`App::run_logic`], its `ui`
//! lays out the window.
//!
//! - [`session_list`]: the left panel (create buttons, form, sessions and their peers), or
//!   its strip in a narrow window.
//! - [`traffic_view`]: the log of the selected session, the entry detail, and the log's
//!   forms (framing, filter, capture and export) the settings column shows.
//! - [`log_toolbar`]: the one-row toolbar above the log.
//! - [`send_box`]: the send box under the log (target, text, Send, the main options) and
//!   the send options, periodic and file sends of the settings column.
//! - [`settings_column`]: the settings column with its tabs, beside the log or a popup.
//! - [`quick_commands`]: quick commands, on-connect payload and auto-reply rules.
//! - [`status_bar`]: totals at the bottom of the window.
//! - [`choice`]: the labelled combo box for a fixed set of values.
//! - [`format`]: shared text formatting (times, sizes, colors).

pub mod choice;
pub mod format;
pub mod log_toolbar;
pub mod quick_commands;
pub mod send_box;
pub mod session_list;
pub mod settings_column;
pub mod status_bar;
pub mod traffic_view;

use crate::app::{Action, App, Notice, Problem};
use crate::config::ThemeChoice;
use crate::i18n::{Language, Text, tr, trf};

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.run_logic(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let size = ui
            .ctx()
            .input(|i| i.viewport().inner_rect.map(|r| r.size()));
        if let Some(size) = size.filter(|s| s.x >= 1.0 && s.y >= 1.0) {
            self.view.window_size = Some((size.x.round() as u32, size.y.round() as u32));
        }
        for action in window_ui(ui, self) {
            self.perform(action);
        }
    }
}

fn language_id() -> egui::Id {
    egui::Id::unique("sockdbg_language")
}

/// The language the window shows now (kept in the context, so every `*_ui` finds it).
pub fn language(ctx: &egui::Context) -> Language {
    ctx.data(|d| d.get_temp(language_id())).unwrap_or_default()
}

/// `key` in the window's language.
pub fn t(ui: &egui::Ui, key: Text) -> &'static str {
    tr(language(ui.ctx()), key)
}

/// `key` in the window's language with its placeholders filled.
pub fn tf(ui: &egui::Ui, key: Text, args: &[&dyn std::fmt::Display]) -> String {
    trf(language(ui.ctx()), key, args)
}

/// A problem in the window's language.
pub fn problem_text(ui: &egui::Ui, problem: &Problem) -> String {
    crate::i18n::errors::problem_text(language(ui.ctx()), problem)
}

/// A problem in the error color, in the window's language.
pub fn problem_ui(ui: &mut egui::Ui, problem: &Problem) {
    let text = problem_text(ui, problem);
    ui.colored_label(ui.visuals().error_fg_color, text);
}

/// egui's preference for a theme choice.
pub fn theme_preference(theme: ThemeChoice) -> egui::ThemePreference {
    match theme {
        ThemeChoice::System => egui::ThemePreference::System,
        ThemeChoice::Light => egui::ThemePreference::Light,
        ThemeChoice::Dark => egui::ThemePreference::Dark,
    }
}

/// The search field of the log view; Ctrl+F focuses it.
pub fn log_search_id() -> egui::Id {
    egui::Id::unique("log_search")
}

/// At least this wide (points), the settings column sits beside the log; narrower, it is a
/// popup over the log's right side (the log keeps its width).
pub const COLUMN_BESIDE_LOG_MIN_WIDTH: f32 = 1100.0;
/// At least this wide, the session list shows in full; narrower, it is a strip of session
/// buttons unless expanded.
pub const FULL_SESSION_LIST_MIN_WIDTH: f32 = 900.0;

/// Applies the font size (points) to every text style, so no text is drawn smaller than the
/// body (egui's small style included), and gives the keyboard's zoom keys to the font size.
fn apply_font_size(ctx: &egui::Context, size: u8) {
    let applied_id = egui::Id::unique("sockdbg_font_size");
    if ctx.data(|d| d.get_temp::<u8>(applied_id)) == Some(size) {
        return;
    }
    ctx.data_mut(|d| d.insert_temp(applied_id, size));
    let body = f32::from(size);
    ctx.options_mut(|o| o.zoom_with_keyboard = false);
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(body, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(body, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(body, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(body, FontFamily::Monospace),
            ),
            (
                TextStyle::Heading,
                FontId::new(body + 4.0, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.interact_size.y = style.spacing.interact_size.y.max(body + 6.0);
    });
}

/// Lays out the whole window: the status bar at the bottom, the session list on the left (a
/// strip when the window is narrow), and the selected session's log in the middle with its
/// toolbar, detail pane and send box, beside the settings column (a popup when narrow).
pub fn window_ui(ui: &mut egui::Ui, app: &mut App) -> Vec<Action> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    ctx.data_mut(|d| d.insert_temp(language_id(), app.language()));
    let theme = theme_preference(app.view.theme);
    if ctx.options(|o| o.theme_preference) != theme {
        ctx.set_theme(theme);
    }
    apply_font_size(&ctx, app.view.font_size);
    shortcuts(&ctx, app, &mut actions);
    let width = ui.available_width();
    app.layout.column_narrow = width < COLUMN_BESIDE_LOG_MIN_WIDTH;
    app.layout.sessions_narrow = width < FULL_SESSION_LIST_MIN_WIDTH;
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        status_bar::status_bar_ui(ui, app);
    });
    let full_list = if app.layout.sessions_narrow {
        app.layout.sessions_expanded
    } else {
        app.view.sessions_open
    };
    if full_list {
        let sessions_panel = egui::Panel::left("sessions")
            .resizable(true)
            .default_size(app.view.panels.sessions_width as f32)
            .min_size(180.0)
            .max_size((width * 0.4).max(180.0))
            .show(ui, |ui| {
                session_list::session_list_ui(ui, app, &mut actions);
            });
        app.view.panels.sessions_width = panel_extent(sessions_panel.response.rect.width());
    } else {
        egui::Panel::left("sessions_strip")
            .resizable(false)
            .exact_size(52.0)
            .show(ui, |ui| {
                session_list::session_strip_ui(ui, app, &mut actions)
            });
    }
    egui::CentralPanel::default_margins().show(ui, |ui| {
        notices_ui(ui, &app.notices, &mut actions);
        match app.selected.filter(|id| app.sessions.get(*id).is_some()) {
            Some(id) => session_panel_ui(ui, app, id, &mut actions),
            None => empty_state_ui(ui, &app.local_addresses),
        }
    });
    confirm_delete_ui(&ctx, app, &mut actions);
    actions
}

/// Ctrl+N new session, Ctrl+L clear log, Ctrl+F search, Delete remove (after confirming),
/// Ctrl+Plus / Ctrl+Minus / Ctrl+0 text size. Taken before the panels draw, so text fields
/// do not see them.
fn shortcuts(ctx: &egui::Context, app: &App, actions: &mut Vec<Action>) {
    use egui::{Key, KeyboardShortcut, Modifiers};
    let new = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
    let clear = KeyboardShortcut::new(Modifiers::COMMAND, Key::L);
    let search = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
    let selected = app.selected.filter(|id| app.sessions.get(*id).is_some());
    if ctx.input_mut(|i| i.consume_shortcut(&new)) {
        let kind = app
            .list
            .create_form
            .as_ref()
            .map_or(crate::spec::SessionKind::TcpServer, |f| f.kind);
        actions.push(Action::OpenCreateForm(kind));
    }
    if ctx.input_mut(|i| i.consume_shortcut(&clear))
        && let Some(id) = selected
    {
        actions.push(Action::ClearLog(id));
    }
    if ctx.input_mut(|i| i.consume_shortcut(&search)) {
        ctx.memory_mut(|m| m.request_focus(log_search_id()));
    }
    let size = app.view.font_size;
    // Ctrl+Plus is Ctrl+= on most keyboards; both are taken.
    let bigger = [Key::Plus, Key::Equals]
        .into_iter()
        .any(|key| ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, key)));
    if bigger {
        actions.push(Action::SetFontSize(size.saturating_add(1)));
    }
    if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Minus)) {
        actions.push(Action::SetFontSize(size.saturating_sub(1)));
    }
    if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Num0)) {
        actions.push(Action::SetFontSize(crate::config::DEFAULT_FONT_SIZE));
    }
    // Delete edits text while a field has the keyboard; only otherwise does it delete.
    let typing = ctx.memory(|m| m.focused().is_some()) && ctx.egui_wants_keyboard_input();
    if !typing
        && app.list.confirm_delete.is_none()
        && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Delete))
        && let Some(id) = selected
    {
        actions.push(Action::ConfirmDelete(id));
    }
}

/// The small modal that asks before a session is deleted.
fn confirm_delete_ui(ctx: &egui::Context, app: &App, actions: &mut Vec<Action>) {
    let Some(id) = app.list.confirm_delete else {
        return;
    };
    let Some(session) = app.sessions.get(id) else {
        actions.push(Action::CancelDelete);
        return;
    };
    let name = app
        .views
        .get(&id)
        .map(|v| v.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| session_list::session_title(app.language(), session));
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

/// The settings menu: theme, language and text size, applied at once and saved. `compact`
/// draws its button as a symbol (the session strip), still named "Settings".
pub fn settings_menu_ui(ui: &mut egui::Ui, app: &App, actions: &mut Vec<Action>, compact: bool) {
    let title = if compact {
        "⚙"
    } else {
        t(ui, Text::Settings)
    };
    let response = ui.menu_button(title, |ui| {
        ui.label(egui::RichText::new(t(ui, Text::Theme)).strong());
        for (theme, key) in
            ThemeChoice::ALL
                .into_iter()
                .zip([Text::ThemeSystem, Text::ThemeLight, Text::ThemeDark])
        {
            if ui.radio(app.view.theme == theme, t(ui, key)).clicked() {
                actions.push(Action::SetTheme(theme));
            }
        }
        ui.separator();
        ui.label(egui::RichText::new(t(ui, Text::LanguageLabel)).strong());
        for language in Language::ALL {
            if ui
                .radio(app.language() == language, language.native_name())
                .clicked()
            {
                actions.push(Action::SetLanguage(language));
            }
        }
        ui.separator();
        ui.label(egui::RichText::new(t(ui, Text::TextSize)).strong());
        let size = app.view.font_size;
        ui.horizontal(|ui| {
            let range = crate::config::FONT_SIZES;
            let smaller = ui
                .add_enabled(size > *range.start(), egui::Button::new("−"))
                .on_hover_text(t(ui, Text::SmallerTip));
            set_accessible_name(ui, &smaller, t(ui, Text::Smaller));
            if smaller.clicked() {
                actions.push(Action::SetFontSize(size - 1));
            }
            ui.label(tf(ui, Text::PointSize, &[&size]));
            let bigger = ui
                .add_enabled(size < *range.end(), egui::Button::new("+"))
                .on_hover_text(t(ui, Text::BiggerTip));
            set_accessible_name(ui, &bigger, t(ui, Text::Bigger));
            if bigger.clicked() {
                actions.push(Action::SetFontSize(size + 1));
            }
            if ui
                .add_enabled(
                    size != crate::config::DEFAULT_FONT_SIZE,
                    egui::Button::new(t(ui, Text::DefaultSize)),
                )
                .clicked()
            {
                actions.push(Action::SetFontSize(crate::config::DEFAULT_FONT_SIZE));
            }
        });
        ui.label(t(ui, Text::TextSizeKeys));
    });
    set_accessible_name(ui, &response.response, t(ui, Text::Settings));
}

/// Gives a widget drawn as a symbol (`−`, `⏶`) the name a screen reader (and a UI test)
/// finds it by.
pub fn set_accessible_name(ui: &egui::Ui, response: &egui::Response, name: &str) {
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_label(name));
}

fn notices_ui(ui: &mut egui::Ui, notices: &[Notice], actions: &mut Vec<Action>) {
    for (index, notice) in notices.iter().enumerate() {
        let notice = crate::i18n::errors::notice_text(language(ui.ctx()), notice);
        egui::Frame::group(ui.style())
            .fill(ui.visuals().warn_fg_color.gamma_multiply(0.15))
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(egui::RichText::new(notice).color(ui.visuals().warn_fg_color));
                    if ui.button(t(ui, Text::Dismiss)).clicked() {
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
    // The log is the largest thing on screen: beside it the settings column (when the window
    // is wide enough; else it is a popup over the log's right side, see below).
    if !app.layout.column_narrow {
        let mut open = app.view.send_tools_open;
        let panel = egui::Panel::right("settings_column")
            .resizable(true)
            .default_size(app.view.panels.tools_width as f32)
            .min_size(300.0)
            .max_size((ui.available_width() * 0.45).max(300.0))
            .show_collapsible(ui, &mut open, |ui| {
                settings_column::settings_column_ui(ui, app, id, actions);
            });
        // Only a fully open panel has its real width (it animates while opening and closing).
        if open
            && app.view.send_tools_open
            && let Some(panel) = panel
        {
            app.view.panels.tools_width = panel_extent(panel.response.rect.width());
        }
        app.view.send_tools_open = open;
    }
    traffic_view::traffic_view_ui(ui, app, id, actions);
    if app.layout.column_narrow && app.layout.column_popup {
        settings_column::settings_popup_ui(ui, app, id, actions);
    }
}

/// A panel's size as saved: whole points, never zero.
fn panel_extent(points: f32) -> u32 {
    points.round().max(50.0) as u32
}

fn empty_state_ui(ui: &mut egui::Ui, addresses: &[std::net::IpAddr]) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() * 0.2);
        ui.heading(t(ui, Text::NoSession));
        ui.label(t(ui, Text::FirstRunHint));
        ui.monospace("telnet 127.0.0.1 6001");
        ui.label(t(ui, Text::FirstRunHint2));
        ui.add_space(12.0);
        ui.label(t(ui, Text::FromDevice));
        if addresses.is_empty() {
            ui.label(egui::RichText::new(t(ui, Text::NoAddresses)).weak());
        }
        for address in addresses {
            ui.monospace(address.to_string());
        }
        ui.add_space(12.0);
        ui.label(egui::RichText::new(t(ui, Text::Shortcuts)).weak());
    });
}
