//! A relay's tab in the settings column, drawn by the session's [`RelayControls`]: for each
//! direction whether it forwards or holds (with what it holds back), Hold/Release and Step;
//! then the faults in force and a field to change them while the relay runs.

use crate::app::{Action, RelayAction, RelayControls};
use crate::i18n::Text;
use crate::i18n::errors::problem_text;
use crate::i18n::messages::leg_text;
use crate::model::{HeldBack, Session};
use crate::protocol::{SendTarget, SessionId};
use crate::relay::{FaultKey, Leg};
use crate::ui::format::byte_count;
use crate::ui::{Panel, language, t, tf};

/// The Relay tab: what it reads besides the relay's controls.
pub struct RelayTab<'a> {
    /// The session's id.
    pub id: SessionId,
    /// The relay (its faults in force, its pairs and what they hold).
    pub session: &'a Session,
    /// The pair Step acts on (the send box's choice), or every pair.
    pub target: SendTarget,
}

impl Panel<RelayTab<'_>> for RelayControls {
    fn ui(&mut self, ui: &mut egui::Ui, input: RelayTab<'_>) -> Vec<Action> {
        let RelayTab {
            id,
            session,
            target,
        } = input;
        let mut actions = Vec::new();
        if let Some(to) = &session.spec.options.to {
            ui.label(tf(ui, Text::RelayTo, &[to]));
        }
        let active = session.is_active();
        for leg in Leg::BOTH {
            ui.add_space(4.0);
            let held = session.faults.leg(leg).hold;
            ui.label(egui::RichText::new(leg_text(language(ui.ctx()), leg)).strong());
            ui.horizontal_wrapped(|ui| {
                let (text, tip) = if held {
                    (Text::RelayRelease, Text::RelayReleaseTip)
                } else {
                    (Text::RelayHold, Text::RelayHoldTip)
                };
                if ui.button(t(ui, text)).on_hover_text(t(ui, tip)).clicked() {
                    actions.push(Action::Relay(id, RelayAction::Hold(leg, !held)));
                }
                let step = ui
                    .add_enabled(held && active, egui::Button::new(t(ui, Text::RelayStep)))
                    .on_hover_text(t(ui, Text::RelayStepTip));
                if step.clicked() {
                    actions.push(Action::Relay(id, RelayAction::Step(leg)));
                }
                let state = if held {
                    let queued = held_back(session, target, leg);
                    tf(
                        ui,
                        Text::RelayHeld,
                        &[&queued.chunks, &byte_count(queued.bytes)],
                    )
                } else {
                    t(ui, Text::RelayFlowing).to_string()
                };
                ui.label(egui::RichText::new(state).weak());
            });
        }
        ui.separator();
        let label = ui.label(egui::RichText::new(t(ui, Text::RelayFaults)).strong());
        let words: Vec<String> = session
            .faults
            .words()
            .into_iter()
            .filter(|w| !w.ends_with(FaultKey::Hold.name()))
            .collect();
        let in_force = if words.is_empty() {
            t(ui, Text::RelayNoFaults).to_string()
        } else {
            words.join(",")
        };
        ui.add(egui::Label::new(tf(ui, Text::RelayFaultsInForce, &[&in_force])).wrap());
        let tip = tf(ui, Text::RelayFaultsTip, &[&FaultKey::hint()]);
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut self.faults_text)
                    .hint_text("up.delay=100, slice=4")
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id)
            .on_hover_text(tip);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(t(ui, Text::RelayApply)).clicked() || entered {
            actions.push(Action::Relay(id, RelayAction::ApplyFaults));
        }
        if let Some(problem) = &self.faults_error {
            let text = problem_text(language(ui.ctx()), problem);
            ui.add(
                egui::Label::new(egui::RichText::new(text).color(ui.visuals().error_fg_color))
                    .wrap(),
            );
        }
        actions
    }
}

/// What the chosen pair (or every pair, added up) holds back in `leg`.
fn held_back(session: &Session, target: SendTarget, leg: Leg) -> HeldBack {
    let mut total = HeldBack::default();
    for peer in session.connected_peers() {
        if target == SendTarget::All || target == SendTarget::Peer(peer.id) {
            let held = peer.held(leg);
            total.chunks += held.chunks;
            total.bytes += held.bytes;
        }
    }
    total
}
