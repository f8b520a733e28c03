//! The send box, drawn by the session's [`SessionView`]: what to send (text or hex) and how
//! (encoding, escapes, line ending, checksum), where it goes (servers: all clients, one, or
//! several), a live preview of the exact bytes Send will emit (or the error, inline), and
//! history on Up/Down; Ctrl+Enter sends. The same state draws the Sending tab
//! ([`SendingTab`]: the other send options, periodic and file sends, on-connect payload).

use egui::RichText;

use crate::app::send_tools::{JobView, SendTools, ToolAction};
use crate::app::{Action, SessionView};
use crate::codec::checksum::Checksum;
use crate::codec::hex::to_hex_spaced;
use crate::codec::send::{LineEnding, SendOptions, build_payload};
use crate::codec::text::TextEncoding;
use crate::config::SessionSettings;
use crate::i18n::errors::send_error_text;
use crate::i18n::scenario::payload_error_text;
use crate::i18n::{Language, Text, tr, trf};
use crate::model::Session;
use crate::protocol::{PeerId, SendTarget, SessionId};
use crate::relay::Leg;
use crate::scenario::sending::{PayloadError, SendPayload};
use crate::spec::SessionKind;
use crate::ui::choice::choice_ui;
use crate::ui::{Panel, t};

/// Most bytes shown in a preview line; the count always covers them all.
const PREVIEW_BYTES: usize = 48;

/// Send text longer than this is not put in the editor (laying out megabytes of text takes
/// about a second per frame): it is summarized, can be cleared or replaced, and its preview
/// is computed once instead of every frame.
pub const LARGE_SEND_TEXT_BYTES: usize = 64 * 1024;

/// The preview of a large send text, computed once per text, options and next send.
#[derive(Clone)]
struct LargePreview {
    text_ptr: usize,
    text_len: usize,
    options: SendOptions,
    language: Language,
    values: Vec<(String, String)>,
    seq: u64,
    preview: Result<String, String>,
}

/// What the `${…}` of a send source stand for on its next send: the user's values (the
/// Scenarios tab's Variables) and its next `${seq}`.
#[derive(Clone, Copy, Debug)]
pub struct NextSend<'a> {
    /// `NAME=VALUE` pairs besides `seq`.
    pub values: &'a [(String, String)],
    /// The `${seq}` of the next send (1 before the first).
    pub seq: u64,
}

/// The send box: what it reads besides the session's send state.
pub struct SendBox<'a> {
    /// The session's id.
    pub id: SessionId,
    /// The session (its kind, state and peers).
    pub session: &'a Session,
    /// The user's values for `${NAME}` (the Scenarios tab's Variables).
    pub values: &'a [(String, String)],
}

impl Panel<SendBox<'_>> for SessionView {
    fn ui(&mut self, ui: &mut egui::Ui, input: SendBox<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        send_box_ui(ui, self, input, &mut actions);
        actions
    }
}

/// The Sending tab: what it reads besides the session's send state.
pub struct SendingTab<'a> {
    /// The session's id.
    pub id: SessionId,
    /// The session (whether it runs).
    pub session: &'a Session,
}

impl Panel<SendingTab<'_>> for SessionView {
    fn ui(&mut self, ui: &mut egui::Ui, input: SendingTab<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        sending_tab_ui(ui, self, input, &mut actions);
        actions
    }
}

fn send_box_ui(
    ui: &mut egui::Ui,
    session_view: &mut SessionView,
    input: SendBox<'_>,
    actions: &mut Vec<Action>,
) {
    let SendBox {
        id,
        session,
        values,
    } = input;
    let next = NextSend {
        values,
        seq: session_view.tools.send_box_sent + 1,
    };
    let send_shortcut = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Enter);
    if ui.input_mut(|i| i.consume_shortcut(&send_shortcut)) {
        actions.push(Action::Send(id));
    }
    ui.add_space(4.0);
    // One row: where it goes and the main options (the rest are in the Sending tab), wrapped
    // when the box is narrower than they are (a relay's has its Inject choice too).
    let settings = &mut session_view.settings;
    ui.horizontal_wrapped(|ui| {
        if session.spec.kind.is_server() || heard_from_several(session) {
            target_ui(
                ui,
                session,
                &mut session_view.target,
                &mut session_view.tools,
            );
        }
        if session.spec.kind.is_relay() {
            // A relay's Send injects into its pairs, one way or the other.
            let leg_name = |ui: &egui::Ui, leg: Leg| match leg {
                Leg::Up => t(ui, Text::InjectUp),
                Leg::Down => t(ui, Text::InjectDown),
            };
            let relay = &mut session_view.relay;
            ui.scope(|ui| {
                let label = t(ui, Text::InjectLabel);
                choice_ui(
                    ui,
                    label,
                    &mut relay.leg,
                    &Leg::BOTH,
                    leg_name,
                    110.0,
                    ("inject", id),
                );
            })
            .response
            .on_hover_text(t(ui, Text::InjectTip));
        }
        ui.checkbox(&mut settings.send_hex, t(ui, Text::HexSend))
            .on_hover_text(t(ui, Text::HexSendTip));
        ui.add_enabled_ui(!settings.send_hex, |ui| {
            ui.checkbox(&mut settings.send_escapes, t(ui, Text::Escapes))
                .on_hover_text(t(ui, Text::EscapesTip));
        });
        line_ending_ui(
            ui,
            t(ui, Text::LineEnd),
            &mut settings.line_ending,
            "send_line_ending",
        );
    });
    let hint = if session_view.settings.send_hex {
        t(ui, Text::HexHint)
    } else {
        t(ui, Text::TextHint)
    };
    let edit_id = ui.make_persistent_id(("send_text", id));
    history_keys_ui(
        ui,
        edit_id,
        &mut session_view.send_text,
        &mut session_view.tools,
    );
    if take_large_paste(ui, edit_id, &mut session_view.send_text) {
        session_view.send_error = None;
    }
    let options = session_view.settings.send_options();
    let active = session.is_active();
    let large = session_view.send_text.len() > LARGE_SEND_TEXT_BYTES;
    // The text and, right of it, Send: as tall as the room the send box has.
    let text_height = (ui.available_height() - ui.spacing().interact_size.y - 8.0).max(24.0);
    ui.horizontal_top(|ui| {
        let send_width = 72.0;
        let text_width =
            (ui.available_width() - send_width - ui.spacing().item_spacing.x).max(60.0);
        ui.allocate_ui_with_layout(
            egui::vec2(text_width, text_height),
            egui::Layout::top_down(egui::Align::Min),
            |ui| {
                if large {
                    large_text_ui(ui, edit_id, session_view, &options, next);
                    return;
                }
                let rows = ((text_height - 8.0) / ui.text_style_height(&egui::TextStyle::Monospace))
                    .floor()
                    .max(1.0) as usize;
                let edit = egui::TextEdit::multiline(&mut session_view.send_text)
                    .id(edit_id)
                    .hint_text(hint)
                    .font(egui::TextStyle::Monospace)
                    .desired_rows(rows)
                    .desired_width(text_width);
                let response = egui::ScrollArea::vertical()
                    .id_salt("send_text_scroll")
                    .max_height(text_height)
                    .show(ui, |ui| ui.add(edit))
                    .inner;
                if response.changed() {
                    session_view.send_error = None;
                    session_view.tools.history_pos = None;
                }
            },
        );
        let send = ui
            .add_enabled(
                active,
                egui::Button::new(t(ui, Text::Send)).min_size(egui::vec2(send_width, 32.0)),
            )
            .on_hover_text(t(ui, Text::SendTip))
            .on_disabled_hover_text(t(ui, Text::StartToSend));
        if send.clicked() {
            actions.push(Action::Send(id));
        }
    });
    if !large {
        match &session_view.send_error {
            Some(error) => crate::ui::problem_ui(ui, error),
            None => preview_ui(ui, &session_view.send_text, &options, Some(next)),
        }
    }
}

/// The Sending tab of the settings column: the send options the send box does not show
/// (a separate send encoding, the checksum), the periodic and file sends, and the
/// on-connect payload.
fn sending_tab_ui(
    ui: &mut egui::Ui,
    session_view: &mut SessionView,
    input: SendingTab<'_>,
    actions: &mut Vec<Action>,
) {
    let SendingTab { id, session } = input;
    let active = session.is_active();
    let settings = &mut session_view.settings;
    // Hex send, escapes and the line ending are in the send box; here the rest.
    crate::ui::traffic_view::section(ui, t(ui, Text::SendOptions));
    ui.add_enabled_ui(!settings.send_hex, |ui| {
        send_encoding_ui(ui, settings);
    });
    ui.horizontal(|ui| {
        checksum_ui(
            ui,
            t(ui, Text::Checksum),
            &mut settings.checksum,
            "send_checksum",
        );
    });
    crate::ui::traffic_view::section(ui, t(ui, Text::PeriodicSend));
    periodic_ui(ui, id, active, &mut session_view.tools, actions);
    crate::ui::traffic_view::section(ui, t(ui, Text::FileSend));
    file_ui(ui, id, active, &mut session_view.tools, actions);
    if let Some(error) = &session_view.tools.tools_error {
        crate::ui::problem_ui(ui, error);
    }
    crate::ui::quick_commands::on_connect_ui(ui, &mut session_view.tools, id, actions);
}

/// Takes a paste into the send box that would make its text large, before the editor lays
/// it out (laying out megabytes of text takes seconds); returns whether it took one. As in
/// the editor, the paste replaces what is selected (all of it after Ctrl+A); a large text,
/// shown without an editor, takes it at its end unless Ctrl+A selected all of it.
fn take_large_paste(ui: &mut egui::Ui, edit_id: egui::Id, text: &mut String) -> bool {
    let focused = ui.memory(|m| m.has_focus(edit_id));
    let large = text.len() > LARGE_SEND_TEXT_BYTES;
    // A large text has no editor to hold the focus: it takes a paste no other field takes.
    let takes = focused || (large && !focus_elsewhere(ui, edit_id));
    if !takes {
        return false;
    }
    let replaced = if large {
        large_all_selected(ui, edit_id).then_some(0..text.len())
    } else {
        selected_bytes(ui.ctx(), edit_id, text)
    }
    .unwrap_or(text.len()..text.len());
    let kept = text.len() - replaced.len();
    let mut taken = None;
    ui.input_mut(|input| {
        input.events.retain(|event| match event {
            egui::Event::Paste(pasted)
                if taken.is_none() && kept + pasted.len() > LARGE_SEND_TEXT_BYTES =>
            {
                taken = Some(pasted.clone());
                false
            }
            _ => true,
        });
    });
    let Some(pasted) = taken else {
        return false;
    };
    // A new string rather than an edit in place: the large preview's cache knows a text by
    // its address and length.
    let mut pasted_into = String::with_capacity(kept + pasted.len());
    pasted_into.push_str(text.get(..replaced.start).unwrap_or_default());
    pasted_into.push_str(&pasted);
    pasted_into.push_str(text.get(replaced.end..).unwrap_or_default());
    let cursor = text
        .get(..replaced.start)
        .unwrap_or_default()
        .chars()
        .count()
        + pasted.chars().count();
    *text = pasted_into;
    set_large_all_selected(ui, edit_id, false);
    if let Some(mut state) = egui::TextEdit::load_state(ui.ctx(), edit_id) {
        let end = egui::text::CCursor::new(cursor);
        state
            .cursor
            .set_char_range(Some(egui::text::CCursorRange::one(end)));
        state.store(ui.ctx(), edit_id);
    }
    true
}

/// Whether a widget other than the send box has the keyboard (a paste is then its own).
fn focus_elsewhere(ui: &egui::Ui, edit_id: egui::Id) -> bool {
    ui.memory(|m| m.focused().is_some_and(|f| f != edit_id))
}

/// The bytes of `text` selected in the send box's editor, if it has a selection.
fn selected_bytes(
    ctx: &egui::Context,
    edit_id: egui::Id,
    text: &str,
) -> Option<std::ops::Range<usize>> {
    let range = egui::TextEdit::load_state(ctx, edit_id)?
        .cursor
        .char_range()?;
    let [first, last] = range.sorted_cursors();
    let byte = |c: egui::text::CCursor| {
        text.char_indices()
            .nth(c.index.0)
            .map_or(text.len(), |(at, _)| at)
    };
    Some(byte(first)..byte(last))
}

fn large_all_selected(ui: &egui::Ui, edit_id: egui::Id) -> bool {
    ui.data(|d| d.get_temp::<bool>(edit_id.with("all_selected")))
        .unwrap_or(false)
}

fn set_large_all_selected(ui: &egui::Ui, edit_id: egui::Id, selected: bool) {
    ui.data_mut(|d| d.insert_temp(edit_id.with("all_selected"), selected));
}

/// A large send text: its size, its (cached) preview and a way to clear it.
fn large_text_ui(
    ui: &mut egui::Ui,
    edit_id: egui::Id,
    session_view: &mut SessionView,
    options: &SendOptions,
    next: NextSend<'_>,
) {
    // No editor here: Ctrl+A selects the whole text, so that a paste replaces it as it
    // would in the editor (Delete stays the window's: it deletes the session).
    if !focus_elsewhere(ui, edit_id)
        && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::A))
    {
        set_large_all_selected(ui, edit_id, true);
    }
    let all_selected = large_all_selected(ui, edit_id);
    let summary = crate::ui::tf(ui, Text::LargeText, &[&session_view.send_text.len()]);
    ui.horizontal(|ui| {
        if all_selected {
            let fill = ui.visuals().selection.bg_fill;
            ui.label(RichText::new(summary).background_color(fill));
            ui.label(t(ui, Text::LargeAllSelected));
        } else {
            ui.label(summary);
        }
        if ui.button(t(ui, Text::ClearText)).clicked() {
            session_view.send_text.clear();
            session_view.send_error = None;
            set_large_all_selected(ui, edit_id, false);
        }
    });
    let text = &session_view.send_text;
    if text.len() <= LARGE_SEND_TEXT_BYTES {
        return;
    }
    let cache_id = edit_id.with("large_preview");
    let language = crate::ui::language(ui.ctx());
    let cached: Option<LargePreview> = ui.data(|d| d.get_temp(cache_id));
    let fresh = cached.filter(|c| {
        c.text_ptr == text.as_ptr() as usize
            && c.text_len == text.len()
            && c.options == *options
            && c.language == language
            && c.seq == next.seq
            && c.values == next.values
    });
    let preview = match fresh {
        Some(cached) => cached.preview,
        None => {
            let preview = preview_text(language, text, options, Some(next));
            let entry = LargePreview {
                text_ptr: text.as_ptr() as usize,
                text_len: text.len(),
                options: *options,
                language,
                values: next.values.to_vec(),
                seq: next.seq,
                preview: preview.clone(),
            };
            ui.data_mut(|d| d.insert_temp(cache_id, entry));
            preview
        }
    };
    let error = session_view
        .send_error
        .as_ref()
        .map(|problem| crate::ui::problem_text(ui, problem));
    match (error, preview) {
        (Some(error), _) | (None, Err(error)) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        (None, Ok(text)) => {
            ui.label(RichText::new(text).monospace().weak());
        }
    }
}

/// Up/Down in a send box that holds one line walk through the history (in a multi-line
/// text they move the cursor as usual).
fn history_keys_ui(ui: &mut egui::Ui, edit_id: egui::Id, text: &mut String, tools: &mut SendTools) {
    let focused = ui.memory(|m| m.has_focus(edit_id));
    if !focused || text.contains('\n') {
        return;
    }
    for (key, older) in [(egui::Key::ArrowUp, true), (egui::Key::ArrowDown, false)] {
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, key))
            && let Some(recalled) = tools.recall(older)
        {
            *text = recalled;
            let mut state = egui::TextEdit::load_state(ui.ctx(), edit_id).unwrap_or_default();
            let end = egui::text::CCursor::new(text.chars().count());
            state
                .cursor
                .set_char_range(Some(egui::text::CCursorRange::one(end)));
            state.store(ui.ctx(), edit_id);
        }
    }
}

/// The exact bytes `input` becomes with `options` (on the `next` send, when its `${…}` are
/// expanded; `None`: taken as written), or why it cannot be sent, in `language`.
pub fn preview_text(
    language: Language,
    input: &str,
    options: &SendOptions,
    next: Option<NextSend<'_>>,
) -> Result<String, String> {
    if input.is_empty() && options.line_ending == LineEnding::None {
        return Ok(String::new());
    }
    let (bytes, seq) = match next {
        Some(next) => {
            let payload = SendPayload::parse(input, options, next.values)
                .map_err(|e| payload_error_text(language, &e))?;
            let bytes = payload
                .bytes(next.seq)
                .map_err(|e| payload_error_text(language, &PayloadError::from(e)))?;
            (bytes, payload.uses_seq().then_some(next.seq))
        }
        None => {
            let bytes = build_payload(input, options).map_err(|e| send_error_text(language, &e))?;
            (bytes.into(), None)
        }
    };
    let shown = &bytes[..bytes.len().min(PREVIEW_BYTES)];
    let more = if bytes.len() > PREVIEW_BYTES {
        " …"
    } else {
        ""
    };
    let key = if bytes.len() == 1 {
        Text::PreviewByte
    } else {
        Text::PreviewBytes
    };
    let hex = format!("{}{more}", to_hex_spaced(shown));
    let preview = trf(language, key, &[&bytes.len(), &hex]);
    Ok(match seq {
        Some(seq) => format!("{preview}{}", trf(language, Text::PreviewNextSeq, &[&seq])),
        None => preview,
    })
}

/// One line under an input: the bytes it makes (on the `next` send), or its error in the
/// error color.
pub fn preview_ui(
    ui: &mut egui::Ui,
    input: &str,
    options: &SendOptions,
    next: Option<NextSend<'_>>,
) {
    match preview_text(crate::ui::language(ui.ctx()), input, options, next) {
        Ok(text) => ui.label(RichText::new(text).monospace().weak()),
        Err(error) => ui.colored_label(ui.visuals().error_fg_color, error),
    };
}

/// The send encoding: the session's one encoding unless split, with the split switch.
pub fn send_encoding_ui(ui: &mut egui::Ui, settings: &mut SessionSettings) {
    let mut split = settings.send_encoding.is_some();
    if ui
        .checkbox(&mut split, t(ui, Text::SplitEncoding))
        .on_hover_text(t(ui, Text::SplitEncodingTip))
        .changed()
    {
        settings.send_encoding = split.then_some(settings.encoding);
    }
    if let Some(encoding) = &mut settings.send_encoding {
        ui.horizontal(|ui| {
            encoding_ui(ui, t(ui, Text::EncodeAs), encoding, "send_encoding");
        });
    }
}

/// An encoding combo without a label of its own (name it with `labelled_by` or
/// [`crate::ui::set_accessible_name`]); returns its response.
pub fn encoding_combo(
    ui: &mut egui::Ui,
    encoding: &mut TextEncoding,
    salt: impl std::hash::Hash + std::fmt::Debug,
    width: f32,
) -> egui::Response {
    egui::ComboBox::from_id_salt(("encoding_combo", salt))
        .selected_text(encoding.label())
        .width(width)
        .show_ui(ui, |ui| {
            for candidate in TextEncoding::ALL {
                ui.selectable_value(encoding, candidate, candidate.label());
            }
        })
        .response
}

/// A labelled encoding choice; returns whether it changed.
pub fn encoding_ui(
    ui: &mut egui::Ui,
    label: &str,
    encoding: &mut TextEncoding,
    salt: impl std::hash::Hash + std::fmt::Debug,
) -> bool {
    let all = TextEncoding::ALL;
    choice_ui(
        ui,
        label,
        encoding,
        &all,
        |_, e| e.label(),
        90.0,
        ("encoding", salt),
    )
}

/// A line ending's name; "none" is translated, the rest are the same in every language.
fn line_ending_label(ui: &egui::Ui, ending: LineEnding) -> &'static str {
    match ending {
        LineEnding::None => t(ui, Text::NoLineEnding),
        other => other.label(),
    }
}

/// A checksum's name; "none" is translated, the algorithm names are the same everywhere.
fn checksum_label(ui: &egui::Ui, checksum: Checksum) -> &'static str {
    match checksum {
        Checksum::None => t(ui, Text::NoChecksum),
        other => other.label(),
    }
}

/// A line-ending choice; returns whether it changed.
pub fn line_ending_ui(
    ui: &mut egui::Ui,
    label: &str,
    ending: &mut LineEnding,
    salt: impl std::hash::Hash + std::fmt::Debug,
) -> bool {
    let all = LineEnding::ALL;
    choice_ui(
        ui,
        label,
        ending,
        &all,
        line_ending_label,
        100.0,
        ("line_ending", salt),
    )
}

/// A checksum choice; returns whether it changed.
pub fn checksum_ui(
    ui: &mut egui::Ui,
    label: &str,
    checksum: &mut Checksum,
    salt: impl std::hash::Hash + std::fmt::Debug,
) -> bool {
    let all = Checksum::ALL;
    choice_ui(
        ui,
        label,
        checksum,
        &all,
        checksum_label,
        125.0,
        ("checksum", salt),
    )
}

/// Every pipeline setting of a stored payload (quick command, on-connect, reply); returns
/// whether any changed.
pub fn send_options_ui(
    ui: &mut egui::Ui,
    options: &mut SendOptions,
    salt: impl std::hash::Hash + std::fmt::Debug + Copy,
) -> bool {
    let mut changed = false;
    // One choice a row where the column is narrow: a label never wraps away from its combo.
    ui.horizontal(|ui| {
        changed |= ui
            .checkbox(&mut options.hex, t(ui, Text::HexBytes))
            .changed();
        ui.add_enabled_ui(!options.hex, |ui| {
            changed |= ui
                .checkbox(&mut options.escapes, t(ui, Text::Escapes))
                .changed();
        });
    });
    ui.add_enabled_ui(!options.hex, |ui| {
        ui.horizontal(|ui| {
            changed |= encoding_ui(ui, t(ui, Text::TextAs), &mut options.encoding, salt);
        });
    });
    ui.horizontal(|ui| {
        changed |= line_ending_ui(ui, t(ui, Text::EndsWith), &mut options.line_ending, salt);
    });
    ui.horizontal(|ui| {
        changed |= checksum_ui(ui, t(ui, Text::Check), &mut options.checksum, salt);
    });
    changed
}

/// `3 / 10 sent (running)` for a periodic send, `512 / 1024 bytes (done)` for a file.
fn progress_text(language: Language, jobs: &JobView, file: bool) -> String {
    let (done, total) = jobs.progress();
    let state = jobs.ended().map_or_else(
        || tr(language, Text::JobRunning).to_string(),
        |end| crate::i18n::errors::job_end_text(language, &end),
    );
    let (key, open_key) = if file {
        (Text::FileProgress, Text::FileProgressOpen)
    } else {
        (Text::PeriodicProgress, Text::PeriodicProgressOpen)
    };
    match total {
        Some(total) => trf(language, key, &[&done, &total, &state]),
        None => trf(language, open_key, &[&done, &state]),
    }
}

fn periodic_ui(
    ui: &mut egui::Ui,
    id: SessionId,
    active: bool,
    tools: &mut SendTools,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        let label = ui.label(t(ui, Text::Every));
        ui.add(egui::TextEdit::singleline(&mut tools.periodic_interval_ms).desired_width(50.0))
            .labelled_by(label.id)
            .on_hover_text(t(ui, Text::IntervalTip));
        let label = ui.label(t(ui, Text::MsTimes));
        ui.add(egui::TextEdit::singleline(&mut tools.periodic_count).desired_width(50.0))
            .labelled_by(label.id)
            .on_hover_text(t(ui, Text::TimesTip));
    });
    ui.horizontal(|ui| {
        if tools.periodic.running() {
            if ui.button(t(ui, Text::StopPeriodic)).clicked() {
                actions.push(Action::Tool(id, ToolAction::StopPeriodic));
            }
        } else if ui
            .add_enabled(active, egui::Button::new(t(ui, Text::StartPeriodic)))
            .on_hover_text(t(ui, Text::PeriodicTip))
            .on_disabled_hover_text(t(ui, Text::StartFirst))
            .clicked()
        {
            actions.push(Action::Tool(id, ToolAction::StartPeriodic));
        }
        if !tools.periodic.jobs.is_empty() {
            let text = progress_text(crate::ui::language(ui.ctx()), &tools.periodic, false);
            ui.add(egui::Label::new(RichText::new(text).weak()).truncate());
        }
    });
}

fn file_ui(
    ui: &mut egui::Ui,
    id: SessionId,
    active: bool,
    tools: &mut SendTools,
    actions: &mut Vec<Action>,
) {
    let label = ui.label(t(ui, Text::FileLabel));
    ui.add(
        egui::TextEdit::singleline(&mut tools.file_path)
            .hint_text(t(ui, Text::FileHint))
            .desired_width(ui.available_width()),
    )
    .labelled_by(label.id);
    ui.horizontal(|ui| {
        let browse = ui
            .add_enabled(
                tools.picking.is_none(),
                egui::Button::new(t(ui, Text::Browse)),
            )
            .on_hover_text(t(ui, Text::BrowseTip));
        if browse.clicked() {
            actions.push(Action::Tool(id, ToolAction::PickFile));
        }
        if tools.file.running() {
            if ui.button(t(ui, Text::CancelFile)).clicked() {
                actions.push(Action::Tool(id, ToolAction::CancelFile));
            }
        } else {
            let send = ui
                .add_enabled(active, egui::Button::new(t(ui, Text::SendFile)))
                .on_hover_text(t(ui, Text::FileTip))
                .on_disabled_hover_text(t(ui, Text::StartFirst));
            if send.clicked() {
                actions.push(Action::Tool(id, ToolAction::SendFile));
            }
        }
    });
    if tools.file.running() {
        let (done, total) = tools.file.progress();
        let fraction = total
            .filter(|t| *t > 0)
            .map_or(0.0, |t| done as f32 / t as f32);
        let text = progress_text(crate::ui::language(ui.ctx()), &tools.file, true);
        ui.add(egui::ProgressBar::new(fraction).text(text));
    } else if !tools.file.jobs.is_empty() {
        let text = progress_text(crate::ui::language(ui.ctx()), &tools.file, true);
        ui.add(egui::Label::new(RichText::new(text).weak()).truncate());
    }
}

/// Whether a UDP client or group has heard from sources besides its target (broadcast
/// responders, group members), so the user may answer one of them alone.
fn heard_from_several(session: &Session) -> bool {
    matches!(
        session.spec.kind,
        SessionKind::UdpClient | SessionKind::UdpGroup
    ) && session.connected_peers().nth(1).is_some()
}

fn target_ui(ui: &mut egui::Ui, session: &Session, target: &mut SendTarget, tools: &mut SendTools) {
    let language = crate::ui::language(ui.ctx());
    let (count_key, all_key) = if session.spec.kind.is_tcp() {
        (Text::ClientsCount, Text::AllClients)
    } else {
        (Text::PeersCount, Text::AllPeers)
    };
    // A UDP client's or group's "all" is its target or group (its first peer); the others
    // are sources it heard from, each of which can be answered alone.
    let to_target = match session.spec.kind {
        SessionKind::UdpClient => Some(Text::SendToTarget),
        SessionKind::UdpGroup => Some(Text::SendToGroup),
        _ => None,
    };
    // The peers it can answer alone: listed only while the list is open (a server may have
    // thousands; each frame only looks up the chosen ones).
    let skipped = usize::from(to_target.is_some());
    let first = session.connected_peers().next().map(|p| p.id);
    let answerable = |peer: PeerId| {
        session
            .peer_index(peer)
            .and_then(|i| session.peers.get(i))
            .filter(|p| p.connected && (skipped == 0 || Some(p.id) != first))
    };
    let connected = || {
        session
            .connected_peers()
            .skip(skipped)
            .map(|p| (p.id, crate::ui::format::session_peer_name(session, p.addr)))
    };
    let all_text = match to_target {
        Some(key) => trf(language, key, &[&session.spec.address()]),
        None => tr(language, all_key).to_string(),
    };
    tools.multi_peers.retain(|p| answerable(*p).is_some());
    let describe = |target: SendTarget, multi: usize| match target {
        _ if multi > 1 => trf(language, count_key, &[&multi]),
        SendTarget::All => all_text.clone(),
        SendTarget::Peer(peer) => match answerable(peer) {
            Some(info) => crate::ui::format::session_peer_name(session, info.addr),
            None => trf(language, Text::TargetGone, &[&peer.0]),
        },
    };
    let label = ui.label(t(ui, Text::To));
    let selected_text = describe(*target, tools.multi_peers.len());
    egui::ComboBox::from_id_salt("send_target")
        .selected_text(selected_text)
        .width(150.0)
        .truncate()
        .show_ui(ui, |ui| {
            let connected: Vec<(PeerId, String)> = connected().collect();
            if ui
                .selectable_label(
                    *target == SendTarget::All && tools.multi_peers.len() < 2,
                    describe(SendTarget::All, 0),
                )
                .clicked()
            {
                *target = SendTarget::All;
                tools.multi_peers.clear();
            }
            for (peer, addr) in &connected {
                let only = *target == SendTarget::Peer(*peer) && tools.multi_peers.len() < 2;
                if ui.selectable_label(only, addr).clicked() {
                    *target = SendTarget::Peer(*peer);
                    tools.multi_peers.clear();
                }
            }
            if connected.len() > 1 {
                ui.separator();
                ui.label(RichText::new(t(ui, Text::Several)).weak());
                for (peer, addr) in &connected {
                    let mut checked = tools.multi_peers.contains(peer);
                    if ui
                        .checkbox(&mut checked, trf(language, Text::AlsoPeer, &[addr]))
                        .changed()
                    {
                        if checked {
                            if let SendTarget::Peer(current) = *target {
                                tools.multi_peers.insert(current);
                            }
                            tools.multi_peers.insert(*peer);
                        } else {
                            tools.multi_peers.remove(peer);
                        }
                        *target = match tools.multi_peers.iter().next() {
                            Some(first) => SendTarget::Peer(*first),
                            None => SendTarget::All,
                        };
                    }
                }
            }
        })
        .response
        .labelled_by(label.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_shows_bytes_or_the_error() {
        let crlf = SendOptions {
            escapes: true,
            line_ending: LineEnding::CrLf,
            ..SendOptions::default()
        };
        assert_eq!(
            preview_text(Language::English, "AT", &crlf, None).as_deref(),
            Ok("4 bytes: 41 54 0D 0A")
        );
        assert_eq!(
            preview_text(Language::English, "", &SendOptions::default(), None).as_deref(),
            Ok("")
        );
        assert_eq!(
            preview_text(Language::English, "\\x01", &crlf, None).as_deref(),
            Ok("3 bytes: 01 0D 0A")
        );
        let long = "a".repeat(100);
        let text =
            preview_text(Language::English, &long, &SendOptions::default(), None).expect("valid");
        assert!(
            text.starts_with("100 bytes: 61 61") && text.ends_with(" …"),
            "{text}"
        );
        let error = preview_text(Language::English, "\\q", &crlf, None).expect_err("bad escape");
        assert!(error.contains("column 1"), "{error}");
        let zh = preview_text(Language::Chinese, "AT", &crlf, None).expect("valid");
        assert_eq!(zh, "4 字节：41 54 0D 0A");
    }

    #[test]
    fn preview_shows_the_next_expansion() {
        let hex = SendOptions {
            hex: true,
            ..SendOptions::default()
        };
        let values = [("unit".to_string(), "7".to_string())];
        let next = |seq| {
            Some(NextSend {
                values: &values,
                seq,
            })
        };
        let preview = |input, seq| preview_text(Language::English, input, &hex, next(seq));
        assert_eq!(
            preview("01 ${seq}", 3).as_deref(),
            Ok("2 bytes: 01 03  (next send: ${seq} = 3)")
        );
        assert_eq!(preview("${unit} 01", 3).as_deref(), Ok("2 bytes: 07 01"));
        // Nothing to expand: the preview is as before.
        assert_eq!(preview("01", 3).as_deref(), Ok("1 byte: 01"));
        let unknown = preview("01 ${nope}", 1).expect_err("unknown");
        assert!(
            unknown.contains("unknown variable 'nope' at column 4"),
            "{unknown}"
        );
        let too_big = preview("${seq}", 256).expect_err("does not fit");
        assert!(too_big.contains("does not fit u8"), "{too_big}");
        let zh = preview_text(Language::Chinese, "${nope}", &hex, next(1)).expect_err("unknown");
        assert!(zh.contains("未知"), "{zh}");
        // Taken as written (the on-connect payload): no expansion.
        let literal = SendOptions::default();
        assert_eq!(
            preview_text(Language::English, "${x}", &literal, None).as_deref(),
            Ok("4 bytes: 24 7B 78 7D")
        );
    }
}
