//! The status bar: session count and totals over all sessions, and the selected session's
//! log size (entries held and dropped).

use crate::app::App;
use crate::ui::format::byte_count;

/// Draws the status bar.
pub fn status_bar_ui(ui: &mut egui::Ui, app: &App) {
    let (rx, tx) = app.sessions.iter().fold((0, 0), |(rx, tx), s| {
        (rx + s.counters.rx_bytes, tx + s.counters.tx_bytes)
    });
    ui.horizontal(|ui| {
        ui.label(format!("{} sessions", app.sessions.len()));
        ui.separator();
        ui.label(format!("RX {}  TX {}", byte_count(rx), byte_count(tx)));
        if let Some(session) = app.selected.and_then(|id| app.sessions.get(id)) {
            ui.separator();
            let log = &session.log;
            ui.label(format!(
                "log: {} entries held ({}), {} dropped",
                log.len(),
                byte_count(log.memory_bytes() as u64),
                log.evicted_entries()
            ));
        }
    });
}
