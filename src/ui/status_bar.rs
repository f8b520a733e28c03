//! The status bar: session count, totals and current rates over all sessions, and the
//! selected session's log size (entries held and dropped).

use crate::app::App;
use crate::app::rates::totals;
use crate::i18n::Text;
use crate::ui::format::byte_count;
use crate::ui::tf;

/// Draws the status bar.
pub fn status_bar_ui(ui: &mut egui::Ui, app: &App) {
    let (rx, tx) = totals(&app.sessions);
    ui.horizontal(|ui| {
        ui.label(tf(ui, Text::SessionsCount, &[&app.sessions.len()]));
        ui.separator();
        ui.label(tf(ui, Text::Totals, &[&byte_count(rx), &byte_count(tx)]));
        ui.separator();
        ui.label(tf(
            ui,
            Text::Rates,
            &[
                &byte_count(app.rates.rx_per_s),
                &byte_count(app.rates.tx_per_s),
            ],
        ));
        if let Some(session) = app.selected.and_then(|id| app.sessions.get(id)) {
            ui.separator();
            let log = &session.log;
            ui.label(tf(
                ui,
                Text::LogHeld,
                &[
                    &log.len(),
                    &byte_count(log.memory_bytes() as u64),
                    &log.evicted_entries(),
                ],
            ));
        }
    });
}
