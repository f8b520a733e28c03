//! The status bar: a warning while traffic waits for a log's disk, session count, totals
//! and current rates over all sessions, and the selected session's log size (entries held
//! and dropped).

use crate::app::Action;
use crate::app::rates::{RateMeter, totals};
use crate::i18n::Text;
use crate::model::Sessions;
use crate::protocol::SessionId;
use crate::ui::format::byte_count;
use crate::ui::{Panel, t, tf};

/// What the status bar reads besides the rates.
pub struct StatusBar<'a> {
    /// Every session (totals, count).
    pub sessions: &'a Sessions,
    /// The session whose log size shows.
    pub selected: Option<SessionId>,
    /// How long traffic has been held back for a log's disk, when the user should know
    /// ([`crate::app::App::disk_wait`]).
    pub disk_wait: Option<std::time::Duration>,
}

impl Panel<StatusBar<'_>> for RateMeter {
    fn ui(&mut self, ui: &mut egui::Ui, input: StatusBar<'_>) -> Vec<Action> {
        let StatusBar {
            sessions,
            selected,
            disk_wait,
        } = input;
        let (rx, tx) = totals(sessions);
        ui.horizontal(|ui| {
            if let Some(waited) = disk_wait {
                let text = tf(ui, Text::DiskWait, &[&waited.as_secs()]);
                ui.colored_label(ui.visuals().warn_fg_color, text)
                    .on_hover_text(t(ui, Text::DiskWaitHint));
                ui.separator();
            }
            ui.label(tf(ui, Text::SessionsCount, &[&sessions.len()]));
            ui.separator();
            ui.label(tf(ui, Text::Totals, &[&byte_count(rx), &byte_count(tx)]));
            ui.separator();
            ui.label(tf(
                ui,
                Text::Rates,
                &[&byte_count(self.rx_per_s), &byte_count(self.tx_per_s)],
            ));
            if let Some(session) = selected.and_then(|id| sessions.get(id)) {
                ui.separator();
                let log = &session.log;
                let held = log.len();
                let memory = byte_count(log.memory_bytes() as u64);
                let dropped = log.evicted_entries();
                let spill = log.spill_status();
                if spill.as_ref().is_some_and(|s| s.disk_full) {
                    ui.colored_label(ui.visuals().warn_fg_color, t(ui, Text::LogDiskFull))
                        .on_hover_text(t(ui, Text::LogDiskFullHint));
                }
                let text = match spill.filter(|s| s.disk_bytes > 0) {
                    Some(status) => tf(
                        ui,
                        Text::LogHeldSpilled,
                        &[
                            &held,
                            &memory,
                            &dropped,
                            &byte_count(status.payload_bytes),
                            &byte_count(status.disk_bytes),
                        ],
                    ),
                    None => tf(ui, Text::LogHeld, &[&held, &memory, &dropped]),
                };
                // The last part: on a narrow window it ends in "…" and shows whole on hover.
                ui.add(egui::Label::new(text).truncate());
            }
        });
        Vec::new()
    }
}
