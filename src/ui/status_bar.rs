//! The status bar: session count, totals and current rates over all sessions, and the
//! selected session's log size (entries held and dropped).

use std::time::{Duration, Instant};

use crate::app::App;
use crate::i18n::Text;
use crate::model::Sessions;
use crate::ui::format::byte_count;
use crate::ui::tf;

/// How often the rates are recomputed.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// Bytes per second over all sessions, measured over about a second.
#[derive(Debug, Default)]
pub struct RateMeter {
    last: Option<(Instant, u64, u64)>,
    /// Received bytes per second.
    pub rx_per_s: u64,
    /// Sent bytes per second.
    pub tx_per_s: u64,
}

impl RateMeter {
    /// Takes a sample of the totals; the rates change once a window has passed.
    pub fn sample(&mut self, sessions: &Sessions) {
        let (rx, tx) = totals(sessions);
        let now = Instant::now();
        match self.last {
            Some((at, last_rx, last_tx)) => {
                let elapsed = now.duration_since(at);
                if elapsed >= RATE_WINDOW {
                    let secs = elapsed.as_secs_f64();
                    self.rx_per_s = (rx.saturating_sub(last_rx) as f64 / secs) as u64;
                    self.tx_per_s = (tx.saturating_sub(last_tx) as f64 / secs) as u64;
                    self.last = Some((now, rx, tx));
                }
            }
            None => self.last = Some((now, rx, tx)),
        }
    }

    /// Whether bytes are moving (the bar then repaints each second to show the rates fall).
    pub fn running(&self) -> bool {
        self.rx_per_s > 0 || self.tx_per_s > 0
    }
}

fn totals(sessions: &Sessions) -> (u64, u64) {
    sessions.iter().fold((0, 0), |(rx, tx), s| {
        (rx + s.counters.rx_bytes, tx + s.counters.tx_bytes)
    })
}

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
