//! The one-row toolbar above the log: Text/Hex, the session's encoding, a summary of the
//! framing (its form is in the settings column), a filter note when one is set, the search
//! field with previous/next and the match count, and on the right Pause, Clear and the
//! settings column's toggle. It never wraps: what does not fit is cut (the framing summary
//! first, then the search field narrows), never pushed onto a second line.

use crate::app::{Action, TrafficState};
use crate::codec::framing::Framing;
use crate::config::{ColumnTab, SessionSettings, ViewSettings};
use crate::i18n::Text;
use crate::model::Session;
use crate::protocol::SessionId;
use crate::ui::traffic_view::framing_mode_label;
use crate::ui::{Panel, set_accessible_name, t, tf};

/// What the toolbar reads and changes besides the log's state (whose search, pause and
/// selection it drives).
pub struct Toolbar<'a> {
    /// Text/hex, times, auto-scroll.
    pub view: &'a mut ViewSettings,
    /// The session's encoding.
    pub settings: &'a mut SessionSettings,
    /// The session shown.
    pub session: &'a Session,
    /// Its id.
    pub id: SessionId,
    /// Whether the settings column (or its popup) is shown.
    pub column_shown: bool,
}

/// Points kept between the toolbar's groups.
const GAP: f32 = 8.0;

impl Panel<Toolbar<'_>> for TrafficState {
    fn ui(&mut self, ui: &mut egui::Ui, input: Toolbar<'_>) -> Vec<Action> {
        let Toolbar {
            view,
            settings,
            session,
            id,
            column_shown,
        } = input;
        let state = self;
        let mut actions = Vec::new();
        let right_id = egui::Id::unique("log_toolbar_right");
        // The right group's width as measured last frame (the first frame guesses).
        let right_width: f32 = ui.data(|d| d.get_temp(right_id)).unwrap_or(220.0);
        ui.horizontal(|ui| {
            let left_room = (ui.available_width() - right_width - GAP).max(0.0);
            let height = ui.spacing().interact_size.y;
            ui.allocate_ui_with_layout(
                egui::vec2(left_room, height),
                egui::Layout::left_to_right(egui::Align::Center),
                |ui| {
                    ui.set_max_width(left_room);
                    left_group(ui, view, settings, session, state, &mut actions);
                },
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let start = ui.cursor().max.x;
                right_group(ui, session, state, id, column_shown, &mut actions);
                let used = start - ui.min_rect().left();
                ui.data_mut(|d| d.insert_temp(right_id, used.max(0.0)));
            });
        });
        actions
    }
}

fn left_group(
    ui: &mut egui::Ui,
    view: &mut ViewSettings,
    settings: &mut SessionSettings,
    session: &Session,
    state: &mut TrafficState,
    actions: &mut Vec<Action>,
) {
    let start = ui.cursor().min.x;
    let room = ui.max_rect().width();
    ui.selectable_value(&mut view.log_hex, false, t(ui, Text::TextMode));
    ui.selectable_value(&mut view.log_hex, true, t(ui, Text::HexMode));
    let encoding = crate::ui::send_box::encoding_combo(ui, &mut settings.encoding, "toolbar", 70.0)
        .on_hover_text(t(ui, Text::EncodingTip));
    set_accessible_name(ui, &encoding, t(ui, Text::Encoding));
    let lv = &mut state.log_view;
    let log = &session.log;
    // What is left, shared by the framing summary, a filter note and the search.
    let spacing = ui.spacing().item_spacing.x;
    let left = room - (ui.cursor().min.x - start);
    let count_text = lv.searching().then(|| {
        let total = lv.hit_count(log);
        match state.selected_entry.and_then(|s| lv.hit_position(s)) {
            Some(p) => tf(ui, Text::MatchPosition, &[&p, &total]),
            None => tf(ui, Text::Matches, &[&total]),
        }
    });
    let text_width = |ui: &egui::Ui, text: &str| {
        let font = egui::TextStyle::Body.resolve(ui.style());
        ui.fonts_mut(|f| {
            f.layout_no_wrap(text.to_string(), font, egui::Color32::WHITE)
                .size()
                .x
        }) + 2.0 * ui.spacing().button_padding.x
    };
    let count_width = count_text
        .as_deref()
        .map_or(0.0, |text| text_width(ui, text) + spacing);
    let arrows = 2.0 * (ui.spacing().interact_size.y + spacing);
    let filter_note =
        (!lv.filter.is_empty()).then(|| tf(ui, Text::FilterOn, &[&lv.shown_count(log)]));
    let filter_width = filter_note
        .as_deref()
        .map_or(0.0, |text| text_width(ui, text).min(160.0) + spacing);
    let framing_text = framing_summary(ui, state);
    let framing_wanted = text_width(ui, &framing_text).min(260.0);
    let flexible = (left - count_width - arrows - filter_width - 2.0 * spacing).max(0.0);
    let search_width = (flexible * 0.35).clamp(90.0, 200.0).min(flexible);
    let framing_width = (flexible - search_width - spacing).clamp(0.0, framing_wanted);
    // Parts that come and go get ids of their own, so the widgets after them keep theirs
    // from one frame to the next (a click is matched to a widget by its id).
    if framing_width >= 40.0 {
        let framing = ui
            .push_id("framing_summary", |ui| {
                ui.add_sized(
                    [framing_width, ui.spacing().interact_size.y],
                    egui::Button::new(framing_text).truncate(),
                )
            })
            .inner
            .on_hover_text(t(ui, Text::FramingTip));
        if framing.clicked() {
            actions.push(Action::ShowTab(ColumnTab::Log));
        }
    }
    if let Some(note) = filter_note {
        let width = filter_width - spacing;
        let response = ui
            .push_id("filter_note", |ui| {
                ui.add_sized(
                    [width, ui.spacing().interact_size.y],
                    egui::Button::selectable(true, note).truncate(),
                )
            })
            .inner
            .on_hover_text(t(ui, Text::FilterOnTip));
        if response.clicked() {
            actions.push(Action::ShowTab(ColumnTab::Log));
        }
    }
    let lv = &mut state.log_view;
    // Ctrl+F focuses this field (see `ui::log_search_id`); Enter steps to the next hit,
    // Shift+Enter to the previous one.
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut lv.search.text)
                .id(crate::ui::log_search_id())
                .hint_text(t(ui, Text::SearchHint))
                .desired_width((search_width - 2.0 * ui.spacing().button_padding.x).max(20.0)),
        )
        .on_hover_text(t(ui, Text::SearchTip));
    set_accessible_name(ui, &field, t(ui, Text::Search));
    let mut step = None;
    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        step = Some(!ui.input(|i| i.modifiers.shift));
        field.request_focus();
    }
    let previous = ui
        .push_id("search_previous", |ui| ui.button("⏶"))
        .inner
        .on_hover_text(t(ui, Text::Previous));
    set_accessible_name(ui, &previous, t(ui, Text::Previous));
    if previous.clicked() {
        step = Some(false);
    }
    let next = ui
        .push_id("search_next", |ui| ui.button("⏷"))
        .inner
        .on_hover_text(t(ui, Text::Next));
    set_accessible_name(ui, &next, t(ui, Text::Next));
    if next.clicked() {
        step = Some(true);
    }
    if let Some(forward) = step
        && let Some(hit) = lv.next_hit(log, state.selected_entry, forward)
    {
        state.selected_entry = Some(hit);
        state.scroll_to = Some(hit);
    }
    if let Some(text) = count_text {
        ui.add(egui::Label::new(text).truncate());
    } else if lv.matching_behind(log) {
        ui.spinner();
    }
}

/// `Framing: Delimiter 0d 0a · 13 B pending`, what the toolbar's framing button says.
fn framing_summary(ui: &egui::Ui, state: &TrafficState) -> String {
    let language = crate::ui::language(ui.ctx());
    let framing = state.log_view.framing();
    let mode = framing_mode_label(language, state.framing_draft.mode);
    let detail = match &framing {
        Framing::Raw => String::new(),
        Framing::Idle { gap_ms } => format!(" {gap_ms} ms"),
        Framing::Delimiter { delimiter, .. } => {
            format!(" {}", crate::codec::hex::to_hex_spaced(delimiter))
        }
        Framing::Fixed { len } => format!(" {len}"),
        Framing::Length(prefix) => format!(" {}", prefix.width.name()),
    };
    let mut text = tf(ui, Text::FramingSummary, &[&format!("{mode}{detail}")]);
    if let Some(framed) = state.log_view.framed() {
        let pending = framed.pending_bytes();
        if pending > 0 {
            text.push_str("  ·  ");
            text.push_str(&tf(ui, Text::Pending, &[&pending]));
        }
    }
    text
}

/// Right to left: the column's toggle, Clear, Pause (and how many rows came while paused).
fn right_group(
    ui: &mut egui::Ui,
    session: &Session,
    state: &mut TrafficState,
    id: SessionId,
    column_shown: bool,
    actions: &mut Vec<Action>,
) {
    if ui
        .selectable_label(column_shown, t(ui, Text::Tools))
        .on_hover_text(t(ui, Text::ToolsTip))
        .clicked()
    {
        actions.push(Action::ToggleColumn);
    }
    if ui
        .button(t(ui, Text::Clear))
        .on_hover_text(t(ui, Text::ClearLogTip))
        .clicked()
    {
        actions.push(Action::ClearLog(id));
    }
    let log = &session.log;
    let paused = state.log_view.paused_at.is_some();
    let pause_text = if paused {
        t(ui, Text::Resume)
    } else {
        t(ui, Text::Pause)
    };
    if ui
        .selectable_label(paused, pause_text)
        .on_hover_text(t(ui, Text::PauseTip))
        .clicked()
    {
        state.log_view.set_paused(log, !paused);
    }
    if paused {
        let new = tf(
            ui,
            Text::NewWhilePaused,
            &[&state.log_view.new_while_paused(log)],
        );
        ui.label(egui::RichText::new(new).color(ui.visuals().warn_fg_color));
    }
}
