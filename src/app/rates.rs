//! Receive and send rates over all sessions, shown in the status bar.

use std::time::{Duration, Instant};

use crate::model::Sessions;

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

/// Bytes received and sent over all sessions.
pub fn totals(sessions: &Sessions) -> (u64, u64) {
    sessions.iter().fold((0, 0), |(rx, tx), s| {
        (rx + s.counters.rx_bytes, tx + s.counters.tx_bytes)
    })
}
