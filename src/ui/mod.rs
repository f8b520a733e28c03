//! The window's drawing code: it only draws. The [`eframe::App`] implementation is here: its
//! `logic` runs [`App::run_logic`], its `ui` lays out the window ([`window_ui`]).
//!
//! # How a panel is made
//! A panel's state is a struct in [`crate::app`] (egui's demo apps do the same): it holds
//! what the panel keeps between frames (form fields, the chosen row, a running job's
//! progress) and knows nothing of egui. Here it gets [`Panel::ui`], once for each place it
//! is drawn, with an *input* struct named after that place:
//!
//! ```ignore
//! // app/scenarios.rs: the state, and what its actions do (`App::perform_scenario`).
//! pub struct ScenarioPanel { pub text: String, pub errors: Vec<ScenarioError>, ... }
//!
//! // ui/scenarios.rs: what the panel reads besides its state, then how it draws.
//! pub struct ScenarioTab<'a> { pub id: SessionId, pub session: &'a Session }
//! impl Panel<ScenarioTab<'_>> for ScenarioPanel {
//!     fn ui(&mut self, ui: &mut egui::Ui, input: ScenarioTab<'_>) -> Vec<Action> { ... }
//! }
//!
//! // window_ui (or the settings column) lends the parts and performs what comes back:
//! actions.extend(panel.ui(ui, ScenarioTab { id, session }));
//! ```
//!
//! The rules:
//! - `ui` takes only what it needs: its own state (`&mut self`), read-only views of the model
//!   (`&Session`, `&Sessions`), and the few settings it edits in place (`&mut ViewSettings`
//!   for the display switches). Never the whole [`App`]: only [`window_ui`] and the layout
//!   functions it calls see that, to split it into disjoint borrows ([`App::session_parts`]).
//! - It edits its own fields directly (typing, ticking, choosing a tab). Everything else
//!   (starting a session, sending, opening a file, starting a job in the engine) comes back
//!   as an [`Action`] that [`App::perform`] carries out. It never blocks, awaits, locks,
//!   touches a socket or a file.
//! - The words are drawn in the window's language, which [`window_ui`] puts in the egui
//!   context once a frame: [`t`] and [`tf`] read it, [`language`] returns it.
//! - A state drawn in two places has two inputs (`TrafficState` draws the log with
//!   [`traffic_view::LogInput`], its Log tab with [`traffic_view::LogTab`] and its Save tab
//!   with [`traffic_view::SaveTab`]).
//!
//! # Modules
//! - [`session_list`]: the left panel (create buttons, form, sessions and their peers), or
//!   its strip in a narrow window, and the delete confirmation ([`crate::app::SessionList`]).
//! - [`traffic_view`]: the log of the selected session, its toolbar and entry detail, and the
//!   Log and Save tabs ([`crate::app::TrafficState`]).
//! - [`log_toolbar`]: the one-row toolbar above the log.
//! - [`send_box`]: the send box under the log and the Sending tab
//!   ([`crate::app::SessionView`]).
//! - [`quick_commands`]: the Commands and Auto-reply tabs and the on-connect payload
//!   ([`crate::app::SendTools`]).
//! - [`relay`]: a relay's tab: hold, release and step each direction, change the faults
//!   ([`crate::app::RelayControls`]).
//! - [`scenarios`]: the Scenarios tab: editor, inline errors, run and stop, step list
//!   ([`crate::app::scenarios::ScenarioPanel`]).
//! - [`load`]: the Load test tab: the options of `sockdbg load`, Start and Stop, live
//!   figures and plots, the summary, Save CSV ([`crate::app::load::LoadPanel`]).
//! - [`serial`]: a serial port's fields in the create form and its control lines above the
//!   log (DTR, RTS, the inputs, Send break).
//! - [`settings_column`]: the settings column with its tabs, beside the log or a popup.
//! - [`status_bar`]: totals at the bottom of the window ([`crate::app::rates::RateMeter`]).
//! - [`choice`]: the labelled combo box for a fixed set of values.
//! - [`format`]: shared text formatting (times, sizes, colors).

pub mod choice;
pub mod format;
pub mod load;
pub mod log_toolbar;
pub mod quick_commands;
pub mod relay;
pub mod scenarios;
pub mod send_box;
pub mod serial;
pub mod session_list;
pub mod settings_column;
pub mod status_bar;
pub mod traffic_view;

use crate::app::{Action, App, Notice, Problem};
use crate::config::{ThemeChoice, ViewSettings};
use crate::i18n::{Language, Text, tr, trf};

/// A part of the window drawn from its own state (see the module's doc): `Input` is what it
/// reads (and the few settings it edits) besides its state, a struct named after the place
/// it is drawn.
pub trait Panel<Input> {
    /// Draws the panel: edits its own state in place and returns what else the user asked
    /// for, for [`App::perform`].
    fn ui(&mut self, ui: &mut egui::Ui, input: Input) -> Vec<Action>;
}

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
        let input = status_bar::StatusBar {
            sessions: &app.sessions,
            selected: app.selected,
            disk_wait: app.disk_wait(),
        };
        actions.extend(app.rates.ui(ui, input));
    });
    let full_list = if app.layout.sessions_narrow {
        app.layout.sessions_expanded
    } else {
        app.view.sessions_open
    };
    let shown = |strip| session_list::SessionsShown {
        sessions: &app.sessions,
        views: &app.views,
        selected: app.selected,
        view: &app.view,
        strip,
    };
    if full_list {
        let sessions_panel = egui::Panel::left("sessions")
            .resizable(true)
            .default_size(app.view.panels.sessions_width as f32)
            .min_size(180.0)
            .max_size((width * 0.4).max(180.0))
            .show(ui, |ui| app.list.ui(ui, shown(false)));
        actions.extend(sessions_panel.inner);
        app.view.panels.sessions_width = panel_extent(sessions_panel.response.rect.width());
    } else {
        let strip = egui::Panel::left("sessions_strip")
            .resizable(false)
            .exact_size(52.0)
            .show(ui, |ui| app.list.ui(ui, shown(true)));
        actions.extend(strip.inner);
    }
    egui::CentralPanel::default_margins().show(ui, |ui| {
        notices_ui(ui, &app.notices, &mut actions);
        match app.selected.filter(|id| app.sessions.get(*id).is_some()) {
            Some(id) => session_panel_ui(ui, app, id, &mut actions),
            None => empty_state_ui(ui, &app.local_addresses),
        }
    });
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

/// The settings menu: theme, language and text size, applied at once and saved. `compact`
/// draws its button as a symbol (the session strip), still named "Settings".
pub fn settings_menu_ui(
    ui: &mut egui::Ui,
    view: &ViewSettings,
    actions: &mut Vec<Action>,
    compact: bool,
) {
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
            if ui.radio(view.theme == theme, t(ui, key)).clicked() {
                actions.push(Action::SetTheme(theme));
            }
        }
        ui.separator();
        ui.label(egui::RichText::new(t(ui, Text::LanguageLabel)).strong());
        for language in Language::ALL {
            if ui
                .radio(
                    view.language.unwrap_or_default() == language,
                    language.native_name(),
                )
                .clicked()
            {
                actions.push(Action::SetLanguage(language));
            }
        }
        ui.separator();
        ui.label(egui::RichText::new(t(ui, Text::TextSize)).strong());
        let size = view.font_size;
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
        ui.separator();
        log_spill_ui(ui, view, actions);
    });
    set_accessible_name(ui, &response.response, t(ui, Text::Settings));
}

/// The settings menu's part on logs kept on disk: on or off, and the disk quota a session's
/// log may take.
fn log_spill_ui(ui: &mut egui::Ui, view: &ViewSettings, actions: &mut Vec<Action>) {
    ui.label(egui::RichText::new(t(ui, Text::LogOnDisk)).strong());
    let mut on = view.log_spill;
    if ui
        .checkbox(&mut on, t(ui, Text::LogSpillOn))
        .on_hover_text(t(ui, Text::LogSpillOnTip))
        .changed()
    {
        actions.push(Action::SetLogSpill(on));
    }
    ui.add_enabled_ui(view.log_spill, |ui| {
        ui.horizontal(|ui| {
            ui.label(t(ui, Text::SpillQuota));
            let mut gib = view.log_spill_quota_gib;
            let range = crate::config::SPILL_QUOTAS_GIB;
            // A unit symbol, the same in every language.
            let response = ui.add(egui::DragValue::new(&mut gib).range(range).suffix(" GiB"));
            set_accessible_name(ui, &response, t(ui, Text::SpillQuota));
            if response.changed() && gib != view.log_spill_quota_gib {
                actions.push(Action::SetSpillQuota(gib));
            }
        });
    });
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

/// The selected session: the settings column on the right (a popup when the window is
/// narrow), the send box at the bottom, and the log in what is left.
fn session_panel_ui(
    ui: &mut egui::Ui,
    app: &mut App,
    id: crate::protocol::SessionId,
    actions: &mut Vec<Action>,
) {
    let narrow = app.layout.column_narrow;
    let popup = app.layout.column_popup;
    // The log is the largest thing on screen: beside it the settings column (when the window
    // is wide enough; else it is a popup over the log's right side, see below).
    if !narrow {
        let mut open = app.view.send_tools_open;
        let default_width = app.view.panels.tools_width as f32;
        let max_width = (ui.available_width() * 0.45).max(300.0);
        let Some(parts) = app.session_parts(id) else {
            return;
        };
        let panel = egui::Panel::right("settings_column")
            .resizable(true)
            .default_size(default_width)
            .min_size(300.0)
            .max_size(max_width)
            .show_collapsible(ui, &mut open, |ui| {
                settings_column::settings_column_ui(ui, parts)
            });
        // Only a fully open panel has its real width (it animates while opening and closing).
        if let Some(panel) = panel {
            actions.extend(panel.inner);
            if open && app.view.send_tools_open {
                app.view.panels.tools_width = panel_extent(panel.response.rect.width());
            }
        }
        app.view.send_tools_open = open;
    }
    let send_box_height = app.view.panels.send_box_height as f32;
    let Some(parts) = app.session_parts(id) else {
        return;
    };
    let session = parts.session;
    if session.spec.kind == crate::spec::SessionKind::Serial {
        let lines = egui::Panel::top("serial_lines")
            .show(ui, |ui| serial::serial_lines_ui(ui, id, session));
        actions.extend(lines.inner);
    }
    let send_panel = egui::Panel::bottom("send_box")
        .resizable(true)
        .default_size(send_box_height)
        .min_size(80.0)
        .max_size((ui.available_height() * 0.5).max(80.0))
        .show(ui, |ui| {
            let values = parts.scenarios.var_values();
            let send_box = send_box::SendBox {
                id,
                session,
                values: &values,
            };
            parts.session_view.ui(ui, send_box)
        });
    actions.extend(send_panel.inner);
    parts.view.panels.send_box_height = panel_extent(send_panel.response.rect.height());
    let column_shown = if narrow {
        popup
    } else {
        parts.view.send_tools_open
    };
    let log = traffic_view::LogInput {
        id,
        session,
        view: parts.view,
        settings: &mut parts.session_view.settings,
        column_shown,
    };
    actions.extend(parts.traffic.ui(ui, log));
    if narrow
        && popup
        && let Some(parts) = app.session_parts(id)
    {
        actions.extend(settings_column::settings_popup_ui(ui, parts));
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
        // One shortcut a line: a narrow window wraps between them, not inside one.
        ui.label(egui::RichText::new(t(ui, Text::Shortcuts)).weak());
        for (keys, action) in [
            ("Ctrl+N", Text::ShortcutNewSession),
            ("Ctrl+Enter", Text::ShortcutSend),
            ("Ctrl+L", Text::ShortcutClearLog),
            ("Ctrl+F", Text::ShortcutSearch),
            ("Delete", Text::ShortcutRemoveSession),
        ] {
            ui.label(egui::RichText::new(format!("{keys}  {}", t(ui, action))).weak());
        }
    });
}
