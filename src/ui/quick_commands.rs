//! Three parts of the settings column drawn by a session's [`SendTools`]: the Commands tab
//! ([`CommandsTab`]: quick commands, the session's own and the global ones: one click
//! sends, edit, reorder, delete, import/export as RON), the on-connect payload (in the
//! Sending tab), and the Auto-reply tab ([`AutoReplyTab`]: rules, ordered, each can be
//! disabled; evaluated by the engine, which logs every match).

use egui::RichText;

use std::collections::HashMap;

use crate::app::send_tools::{QuickKey, quick_key};
use crate::app::{Action, SendTools, ToolAction};
use crate::codec::reply::{MatchKind, ReplyKind, ReplyRule};
use crate::config::QuickCommand;
use crate::i18n::Text;
use crate::protocol::SessionId;
use crate::ui::send_box::{NextSend, preview_ui, send_options_ui};
use crate::ui::{Panel, t};

/// The Commands tab: what it reads and edits besides the session's tools.
pub struct CommandsTab<'a> {
    /// The session's id.
    pub id: SessionId,
    /// Whether the session runs (a command can be sent).
    pub active: bool,
    /// The quick commands shown for every session.
    pub global: &'a mut Vec<QuickCommand>,
    /// The user's values for `${NAME}` (the Scenarios tab's Variables).
    pub values: &'a [(String, String)],
}

impl Panel<CommandsTab<'_>> for SendTools {
    /// The global quick commands and the session's own, adding, and importing or exporting
    /// them as a RON file.
    fn ui(&mut self, ui: &mut egui::Ui, input: CommandsTab<'_>) -> Vec<Action> {
        let CommandsTab {
            id,
            active,
            global,
            values,
        } = input;
        let mut actions = Vec::new();
        let list = QuickList {
            id,
            active,
            editing: self.editing,
            sent: &self.quick_sent,
            values,
        };
        quick_list_ui(ui, &list, false, global, &mut actions);
        let own = &mut self.quick_commands;
        quick_list_ui(ui, &list, true, own, &mut actions);
        ui.add_space(4.0);
        quick_buttons_ui(ui, id, &mut self.quick_file_path, &mut actions);
        if let Some(error) = &self.tools_error {
            crate::ui::problem_ui(ui, error);
        }
        actions
    }
}

/// The Auto-reply tab: what it reads besides the session's tools.
pub struct AutoReplyTab {
    /// The session's id.
    pub id: SessionId,
}

impl Panel<AutoReplyTab> for SendTools {
    /// How replies are written, the rules in order, and adding one.
    fn ui(&mut self, ui: &mut egui::Ui, input: AutoReplyTab) -> Vec<Action> {
        let id = input.id;
        let tools = self;
        ui.label(RichText::new(t(ui, Text::PlaceholderHelp)).weak());
        let mut changed = rules_ui(ui, id, &mut tools.rules);
        if ui.button(t(ui, Text::AddRule)).clicked() {
            tools.rules.push(ReplyRule::default());
            changed = true;
        }
        if let Some(error) = &tools.reactions_error {
            crate::ui::problem_ui(ui, error);
        }
        if changed {
            vec![Action::Tool(id, ToolAction::ApplyReactions)]
        } else {
            Vec::new()
        }
    }
}

/// The on-connect payload (in the Sending tab): sent to each new client, or on connect.
pub fn on_connect_ui(
    ui: &mut egui::Ui,
    tools: &mut SendTools,
    id: SessionId,
    actions: &mut Vec<Action>,
) {
    crate::ui::traffic_view::section(ui, t(ui, Text::OnConnect));
    let mut changed = ui
        .checkbox(&mut tools.on_connect.enabled, t(ui, Text::SendOnConnect))
        .changed();
    let label = ui.label(t(ui, Text::Payload));
    changed |= ui
        .add(
            egui::TextEdit::singleline(&mut tools.on_connect.payload)
                .desired_width(ui.available_width()),
        )
        .labelled_by(label.id)
        .changed();
    changed |= send_options_ui(ui, &mut tools.on_connect.options, ("on_connect", id));
    if tools.on_connect.enabled {
        // Sent as written: the on-connect payload has no variables.
        preview_ui(
            ui,
            &tools.on_connect.payload,
            &tools.on_connect.options,
            None,
        );
    }
    if changed {
        actions.push(Action::Tool(id, ToolAction::ApplyReactions));
    }
    // The on-connect payload's problem is shown with the rules' (one reactions error).
    if let Some(error) = &tools.reactions_error {
        crate::ui::problem_ui(ui, error);
    }
}

fn quick_buttons_ui(
    ui: &mut egui::Ui,
    id: SessionId,
    quick_file_path: &mut String,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        if ui
            .button(t(ui, Text::AddToSession))
            .on_hover_text(t(ui, Text::AddToSessionTip))
            .clicked()
        {
            actions.push(Action::Tool(id, ToolAction::AddQuick { global: false }));
        }
        if ui
            .button(t(ui, Text::AddGlobal))
            .on_hover_text(t(ui, Text::AddGlobalTip))
            .clicked()
        {
            actions.push(Action::Tool(id, ToolAction::AddQuick { global: true }));
        }
    });
    ui.add_space(4.0);
    let label = ui.label(t(ui, Text::RonFile));
    ui.add(
        egui::TextEdit::singleline(quick_file_path)
            .hint_text("commands.ron")
            .desired_width(ui.available_width()),
    )
    .labelled_by(label.id);
    ui.horizontal(|ui| {
        let path = std::path::PathBuf::from(quick_file_path.trim());
        let has_path = !quick_file_path.trim().is_empty();
        if ui
            .add_enabled(has_path, egui::Button::new(t(ui, Text::Import)))
            .clicked()
        {
            actions.push(Action::Tool(id, ToolAction::ImportQuick(path.clone())));
        }
        if ui
            .add_enabled(has_path, egui::Button::new(t(ui, Text::Export)))
            .clicked()
        {
            actions.push(Action::Tool(id, ToolAction::ExportQuick(path)));
        }
    });
}

/// What both quick-command lists are drawn with.
struct QuickList<'a> {
    id: SessionId,
    active: bool,
    editing: Option<(bool, usize)>,
    /// Sends made by each command, for the preview's next `${seq}`.
    sent: &'a HashMap<QuickKey, u64>,
    values: &'a [(String, String)],
}

fn quick_list_ui(
    ui: &mut egui::Ui,
    list: &QuickList<'_>,
    session_list: bool,
    commands: &mut [QuickCommand],
    actions: &mut Vec<Action>,
) {
    let QuickList {
        id,
        active,
        editing,
        ..
    } = *list;
    let global = !session_list;
    let title = if global {
        t(ui, Text::Global)
    } else {
        t(ui, Text::ThisSession)
    };
    ui.label(RichText::new(title).strong());
    if commands.is_empty() {
        ui.label(RichText::new(t(ui, Text::NoneYet)).weak());
    }
    let count = commands.len();
    for (index, command) in commands.iter_mut().enumerate() {
        ui.push_id(("quick", global, index), |ui| {
            ui.horizontal(|ui| {
                // Right to left: the buttons keep their room; the name is cut to what is left.
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button(t(ui, Text::Delete)).clicked() {
                        actions.push(Action::Tool(id, ToolAction::DeleteQuick { global, index }));
                    }
                    let down =
                        ui.add_enabled(index + 1 < count, egui::Button::new(t(ui, Text::Down)));
                    if down.clicked() {
                        let up = false;
                        actions.push(Action::Tool(
                            id,
                            ToolAction::MoveQuick { global, index, up },
                        ));
                    }
                    let up = ui.add_enabled(index > 0, egui::Button::new(t(ui, Text::Up)));
                    if up.clicked() {
                        let up = true;
                        actions.push(Action::Tool(
                            id,
                            ToolAction::MoveQuick { global, index, up },
                        ));
                    }
                    if ui.button(t(ui, Text::Edit)).clicked() {
                        edit_toggle(actions, id, global, index, editing);
                    }
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        let name = if command.name.is_empty() {
                            t(ui, Text::Unnamed)
                        } else {
                            command.name.as_str()
                        };
                        let send = ui
                            .add_enabled(active, egui::Button::new(name).truncate())
                            .on_hover_text(crate::ui::tf(
                                ui,
                                Text::SendPayloadTip,
                                &[&command.payload],
                            ))
                            .on_disabled_hover_text(t(ui, Text::StartToSend));
                        if send.clicked() {
                            actions.push(Action::Tool(id, ToolAction::SendQuick { global, index }));
                        }
                    });
                });
            });
            if editing == Some((global, index)) {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    let label = ui.label(t(ui, Text::Name));
                    ui.add(
                        egui::TextEdit::singleline(&mut command.name)
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(label.id);
                    let label = ui.label(t(ui, Text::Payload));
                    ui.add(
                        egui::TextEdit::singleline(&mut command.payload)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(label.id);
                    send_options_ui(ui, &mut command.options, ("quick_options", global, index));
                    let seq = list
                        .sent
                        .get(&quick_key(global, command))
                        .map_or(1, |n| n + 1);
                    let next = NextSend {
                        values: list.values,
                        seq,
                    };
                    preview_ui(ui, &command.payload, &command.options, Some(next));
                    if ui.button(t(ui, Text::Done)).clicked() {
                        edit_toggle(actions, id, global, index, editing);
                    }
                });
            }
        });
    }
}

/// Editing is plain UI state; it travels as an action so the panel's borrows stay simple.
fn edit_toggle(
    actions: &mut Vec<Action>,
    id: SessionId,
    global: bool,
    index: usize,
    editing: Option<(bool, usize)>,
) {
    let next = if editing == Some((global, index)) {
        None
    } else {
        Some((global, index))
    };
    actions.push(Action::Tool(id, ToolAction::EditQuick(next)));
}

fn rules_ui(ui: &mut egui::Ui, id: SessionId, rules: &mut Vec<ReplyRule>) -> bool {
    let mut changed = false;
    let mut remove = None;
    let mut swap = None;
    let count = rules.len();
    for (index, rule) in rules.iter_mut().enumerate() {
        ui.push_id(("rule", id, index), |ui| {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.horizontal(|ui| {
                    changed |= ui
                        .checkbox(
                            &mut rule.enabled,
                            crate::ui::tf(ui, Text::Rule, &[&(index + 1)]),
                        )
                        .changed();
                    let label = ui.label(t(ui, Text::WhenData));
                    let before = rule.match_kind;
                    egui::ComboBox::from_id_salt("match_kind")
                        .selected_text(match_kind_label(ui, rule.match_kind))
                        .width(90.0)
                        .show_ui(ui, |ui| {
                            for kind in MatchKind::ALL {
                                let text = match_kind_label(ui, kind);
                                ui.selectable_value(&mut rule.match_kind, kind, text);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    changed |= before != rule.match_kind;
                });
                if rule.match_kind != MatchKind::Any {
                    ui.horizontal(|ui| {
                        let label = ui.label(t(ui, Text::Pattern));
                        let hex = rule.match_kind != MatchKind::Regex;
                        let field_width = ui.available_width() - if hex { 110.0 } else { 0.0 };
                        changed |= ui
                            .add(
                                egui::TextEdit::singleline(&mut rule.pattern)
                                    .desired_width(field_width.max(60.0)),
                            )
                            .labelled_by(label.id)
                            .changed();
                        if hex {
                            changed |= ui
                                .checkbox(&mut rule.pattern_hex, t(ui, Text::PatternHex))
                                .changed();
                        }
                    });
                }
                ui.horizontal(|ui| {
                    let label = ui.label(t(ui, Text::ReplyLabel));
                    let before = rule.reply_kind;
                    egui::ComboBox::from_id_salt("reply_kind")
                        .selected_text(match rule.reply_kind {
                            ReplyKind::Echo => t(ui, Text::ReplyEcho),
                            ReplyKind::Send => t(ui, Text::ReplySend),
                        })
                        .width(70.0)
                        .show_ui(ui, |ui| {
                            let (send, echo) = (t(ui, Text::ReplySend), t(ui, Text::ReplyEcho));
                            ui.selectable_value(&mut rule.reply_kind, ReplyKind::Send, send);
                            ui.selectable_value(&mut rule.reply_kind, ReplyKind::Echo, echo);
                        })
                        .response
                        .labelled_by(label.id);
                    changed |= before != rule.reply_kind;
                    if rule.reply_kind == ReplyKind::Send {
                        let label = ui.label(t(ui, Text::TextLabel));
                        changed |= ui
                            .add(
                                egui::TextEdit::singleline(&mut rule.reply)
                                    .desired_width(ui.available_width()),
                            )
                            .labelled_by(label.id)
                            .changed();
                    }
                });
                if rule.reply_kind == ReplyKind::Send {
                    changed |= send_options_ui(ui, &mut rule.options, ("rule_options", id, index));
                }
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(index > 0, egui::Button::new(t(ui, Text::Up)))
                        .clicked()
                    {
                        swap = Some((index, index - 1));
                    }
                    if ui
                        .add_enabled(index + 1 < count, egui::Button::new(t(ui, Text::Down)))
                        .clicked()
                    {
                        swap = Some((index, index + 1));
                    }
                    if ui.button(t(ui, Text::Delete)).clicked() {
                        remove = Some(index);
                    }
                });
            });
        });
    }
    if let Some((a, b)) = swap {
        rules.swap(a, b);
        changed = true;
    }
    if let Some(index) = remove {
        rules.remove(index);
        changed = true;
    }
    changed
}

/// A match kind's name in the window's language ([`MatchKind::label`] is the English one).
fn match_kind_label(ui: &egui::Ui, kind: MatchKind) -> &'static str {
    let key = match kind {
        MatchKind::Any => Text::MatchAny,
        MatchKind::Exact => Text::MatchExact,
        MatchKind::Contains => Text::MatchContains,
        MatchKind::StartsWith => Text::MatchStartsWith,
        MatchKind::Regex => Text::MatchRegex,
    };
    t(ui, key)
}
