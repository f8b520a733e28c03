//! Transfer rates over time, sampled from running byte counters: the current rate each way
//! and a short history for a plot. Pure data; the window samples a session's counters once
//! per frame and this keeps at most one sample per [`SAMPLE_EVERY_S`] for [`HISTORY_S`].

use std::collections::VecDeque;

/// Shortest time between two kept samples, in seconds.
pub const SAMPLE_EVERY_S: f64 = 0.25;
/// How much history is kept, in seconds.
pub const HISTORY_S: f64 = 60.0;
/// The window the current rate is measured over, in seconds.
const RATE_WINDOW_S: f64 = 1.0;

/// Byte counters sampled over time.
#[derive(Clone, Debug, Default)]
pub struct RateHistory {
    /// (time in seconds, rx bytes, tx bytes), oldest first.
    samples: VecDeque<(f64, u64, u64)>,
}

impl RateHistory {
    /// Records the counters at time `t_s` (seconds on any steady clock); returns false when
    /// the last sample is too recent and nothing was recorded.
    pub fn sample(&mut self, t_s: f64, rx_bytes: u64, tx_bytes: u64) -> bool {
        if self
            .samples
            .back()
            .is_some_and(|(last, _, _)| t_s - last < SAMPLE_EVERY_S)
        {
            return false;
        }
        self.samples.push_back((t_s, rx_bytes, tx_bytes));
        while self
            .samples
            .front()
            .is_some_and(|(first, _, _)| t_s - first > HISTORY_S)
        {
            self.samples.pop_front();
        }
        true
    }

    /// Bytes per second received and sent over about the last second.
    pub fn current(&self) -> (f64, f64) {
        let Some(&(t, rx, tx)) = self.samples.back() else {
            return (0.0, 0.0);
        };
        let Some(&(t0, rx0, tx0)) = self
            .samples
            .iter()
            .rev()
            .find(|(s, _, _)| t - s >= RATE_WINDOW_S)
            .or(self.samples.front())
        else {
            return (0.0, 0.0);
        };
        let dt = t - t0;
        if dt <= 0.0 {
            return (0.0, 0.0);
        }
        (
            rx.saturating_sub(rx0) as f64 / dt,
            tx.saturating_sub(tx0) as f64 / dt,
        )
    }

    /// Rates between consecutive samples, as plot points `[seconds before now, bytes/s]`,
    /// for rx and tx.
    pub fn points(&self, now_s: f64) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
        let mut rx = Vec::with_capacity(self.samples.len());
        let mut tx = Vec::with_capacity(self.samples.len());
        for (a, b) in self.samples.iter().zip(self.samples.iter().skip(1)) {
            let dt = b.0 - a.0;
            if dt <= 0.0 {
                continue;
            }
            let x = b.0 - now_s;
            rx.push([x, b.1.saturating_sub(a.1) as f64 / dt]);
            tx.push([x, b.2.saturating_sub(a.2) as f64 / dt]);
        }
        (rx, tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_from_counters() {
        let mut h = RateHistory::default();
        assert_eq!(h.current(), (0.0, 0.0));
        assert!(h.sample(0.0, 0, 0));
        assert!(!h.sample(0.1, 50, 0), "too soon: skipped");
        h.sample(0.5, 500, 100);
        h.sample(1.0, 1000, 200);
        assert_eq!(h.current(), (1000.0, 200.0));
        let (rx, tx) = h.points(1.0);
        assert_eq!(rx, vec![[-0.5, 1000.0], [0.0, 1000.0]]);
        assert_eq!(tx[1], [0.0, 200.0]);
        h.sample(100.0, 1000, 200);
        assert_eq!(h.points(100.0).0.len(), 0, "old samples dropped");
        assert_eq!(h.current(), (0.0, 0.0));
    }
}
