//! A load run's figures, pure: counters, errors by kind, and round-trip times in HDR
//! histograms (the `hdrhistogram` crate: 3 significant digits, 1 µs to an hour), one for
//! the current second and one for the whole run. [`Stats::second`] closes a second into a
//! [`SecondRecord`]; [`Stats::summary`] gives the run's [`Summary`]. The engine feeds them;
//! the window plots the records, headless prints them ([`super::report`]).

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde::ser::SerializeMap;

/// The longest round trip a histogram holds, in microseconds (an hour); longer ones count
/// as this.
const MAX_RTT_US: u64 = 3_600_000_000;

/// Significant decimal digits the histograms keep (values within 0.1 %).
const SIGNIFICANT_DIGITS: u8 = 3;

/// What went wrong, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadErrorKind {
    /// The connection was refused (nothing listens).
    Refused,
    /// The connection was reset (RST) or broke.
    Reset,
    /// The peer closed the connection while a message waited for its answer (or in the
    /// middle of a run).
    Closed,
    /// No answer (or no connection) within the timeout.
    Timeout,
    /// An answer arrived that `--expect` or the framing does not accept.
    Unexpected,
    /// The TLS handshake or the WebSocket upgrade failed.
    Handshake,
    /// Anything else (a name that does not resolve, a payload that cannot be built, ...).
    Other,
}

impl LoadErrorKind {
    /// Every kind, in the order records list them.
    pub const ALL: [LoadErrorKind; 7] = [
        LoadErrorKind::Refused,
        LoadErrorKind::Reset,
        LoadErrorKind::Closed,
        LoadErrorKind::Timeout,
        LoadErrorKind::Unexpected,
        LoadErrorKind::Handshake,
        LoadErrorKind::Other,
    ];

    /// The kind's key in jsonl and CSV (stable English).
    pub fn key(self) -> &'static str {
        match self {
            LoadErrorKind::Refused => "refused",
            LoadErrorKind::Reset => "reset",
            LoadErrorKind::Closed => "closed",
            LoadErrorKind::Timeout => "timeout",
            LoadErrorKind::Unexpected => "unexpected",
            LoadErrorKind::Handshake => "handshake",
            LoadErrorKind::Other => "other",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// Errors counted by kind; serialized as `{"refused":N,"reset":N,...}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; LoadErrorKind::ALL.len()]);

impl ErrorCounts {
    /// Errors of `kind`.
    pub fn get(&self, kind: LoadErrorKind) -> u64 {
        self.0[kind.index()]
    }

    /// Counts one error of `kind`.
    pub fn add(&mut self, kind: LoadErrorKind) {
        self.0[kind.index()] += 1;
    }

    /// Every error.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// These and `other`'s together.
    pub fn plus(&self, other: &ErrorCounts) -> ErrorCounts {
        let mut out = *self;
        for (sum, more) in out.0.iter_mut().zip(other.0) {
            *sum += more;
        }
        out
    }

    fn minus(&self, earlier: &ErrorCounts) -> ErrorCounts {
        let mut out = *self;
        for (now, before) in out.0.iter_mut().zip(earlier.0) {
            *now -= before;
        }
        out
    }
}

impl Serialize for ErrorCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(LoadErrorKind::ALL.len()))?;
        for kind in LoadErrorKind::ALL {
            map.serialize_entry(kind.key(), &self.get(kind))?;
        }
        map.end()
    }
}

/// Round-trip (or, in `connect` mode, connect) times in microseconds: percentiles from an
/// HDR histogram (within 0.1 %), and the largest. All 0 when nothing was measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rtt {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// The largest.
    pub max: u64,
}

impl Rtt {
    /// The percentiles of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        }
    }
}

/// Counters that only grow during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Connections opened (reconnections included).
    pub connections: u64,
    /// Connection attempts that failed (each also counted in `errors` by its kind).
    pub connect_errors: u64,
    /// Messages sent (none in `connect` mode, which opens and closes connections).
    pub messages_sent: u64,
    /// Answers that count: matched ones in `pingpong`, messages or frames back in `stream`.
    pub answers: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Errors by kind.
    pub errors: ErrorCounts,
}

impl Totals {
    /// These and `other` together (a run's seconds added up).
    pub fn plus(&self, other: &Totals) -> Totals {
        Totals {
            connections: self.connections + other.connections,
            connect_errors: self.connect_errors + other.connect_errors,
            messages_sent: self.messages_sent + other.messages_sent,
            answers: self.answers + other.answers,
            rx_bytes: self.rx_bytes + other.rx_bytes,
            tx_bytes: self.tx_bytes + other.tx_bytes,
            errors: self.errors.plus(&other.errors),
        }
    }

    fn minus(&self, earlier: &Totals) -> Totals {
        Totals {
            connections: self.connections - earlier.connections,
            connect_errors: self.connect_errors - earlier.connect_errors,
            messages_sent: self.messages_sent - earlier.messages_sent,
            answers: self.answers - earlier.answers,
            rx_bytes: self.rx_bytes - earlier.rx_bytes,
            tx_bytes: self.tx_bytes - earlier.tx_bytes,
            errors: self.errors.minus(&earlier.errors),
        }
    }
}

/// One second of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SecondRecord {
    /// 1 for the first second.
    pub second: u64,
    /// Time since the run started, at the end of this second.
    pub elapsed_ms: u64,
    /// Connections open at the end of the second.
    pub open: u64,
    /// What happened during the second (per second, as the counts are per one second).
    pub during: Totals,
    /// Round trips completed during the second.
    pub rtt_us: Rtt,
    /// Round trips of the whole run so far.
    pub overall_rtt_us: Rtt,
}

/// A whole run, as `--format jsonl` prints it (field names and order as documented).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Connections opened (reconnections included).
    pub connections: u64,
    /// Connection attempts that failed.
    pub connect_errors: u64,
    /// Messages sent.
    pub messages_sent: u64,
    /// Answers that count.
    pub answers: u64,
    /// Errors by kind (connect errors included).
    pub errors: ErrorCounts,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Round trips of the whole run, in microseconds.
    pub rtt_us: Rtt,
    /// How long the run took.
    pub elapsed_ms: u64,
}

impl Summary {
    /// `count` over the run's time, a second (0 for a run of no time).
    pub fn per_second(&self, count: u64) -> f64 {
        let seconds = self.elapsed_ms as f64 / 1000.0;
        if seconds > 0.0 {
            count as f64 / seconds
        } else {
            0.0
        }
    }

    /// Errors per attempt: every error over messages sent plus connection attempts (0 when
    /// nothing was tried).
    pub fn error_rate(&self) -> f64 {
        let attempts = self.messages_sent + self.connections + self.connect_errors;
        if attempts == 0 {
            return 0.0;
        }
        self.errors.total() as f64 / attempts as f64
    }
}

/// The figures of a running load test.
#[derive(Clone, Debug)]
pub struct Stats {
    second: Histogram<u64>,
    overall: Histogram<u64>,
    totals: Totals,
    at_last_second: Totals,
    open: u64,
    seconds: u64,
}

fn histogram() -> Result<Histogram<u64>, hdrhistogram::CreationError> {
    Histogram::new_with_bounds(1, MAX_RTT_US, SIGNIFICANT_DIGITS)
}

impl Stats {
    /// Nothing counted yet.
    ///
    /// # Errors
    /// hdrhistogram's, if it refused the histograms' bounds (it accepts these constants).
    pub fn new() -> Result<Self, hdrhistogram::CreationError> {
        Ok(Self {
            second: histogram()?,
            overall: histogram()?,
            totals: Totals::default(),
            at_last_second: Totals::default(),
            open: 0,
            seconds: 0,
        })
    }

    /// Records one round trip (at least 1 µs, at most an hour).
    pub fn rtt(&mut self, rtt: Duration) {
        let micros = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX).max(1);
        let micros = micros.min(MAX_RTT_US);
        self.second.saturating_record(micros);
        self.overall.saturating_record(micros);
    }

    /// A connection opened.
    pub fn connected(&mut self) {
        self.totals.connections += 1;
        self.open += 1;
    }

    /// An open connection closed (for any reason).
    pub fn closed(&mut self) {
        self.open = self.open.saturating_sub(1);
    }

    /// A connection attempt failed with `kind`.
    pub fn connect_failed(&mut self, kind: LoadErrorKind) {
        self.totals.connect_errors += 1;
        self.totals.errors.add(kind);
    }

    /// A message of `bytes` went out.
    pub fn sent(&mut self, bytes: usize) {
        self.totals.messages_sent += 1;
        self.totals.tx_bytes += bytes as u64;
    }

    /// `bytes` came in.
    pub fn received(&mut self, bytes: usize) {
        self.totals.rx_bytes += bytes as u64;
    }

    /// `count` answers that count came in.
    pub fn answered(&mut self, count: u64) {
        self.totals.answers += count;
    }

    /// An error of `kind` on an open connection.
    pub fn error(&mut self, kind: LoadErrorKind) {
        self.totals.errors.add(kind);
    }

    /// Everything counted so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Closes the current second at `elapsed` since the start.
    pub fn second(&mut self, elapsed: Duration) -> SecondRecord {
        self.seconds += 1;
        let during = self.totals.minus(&self.at_last_second);
        self.at_last_second = self.totals;
        let record = SecondRecord {
            second: self.seconds,
            elapsed_ms: millis(elapsed),
            open: self.open,
            during,
            rtt_us: Rtt::of(&self.second),
            overall_rtt_us: Rtt::of(&self.overall),
        };
        self.second.reset();
        record
    }

    /// The run so far, at `elapsed` since the start.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let t = &self.totals;
        Summary {
            connections: t.connections,
            connect_errors: t.connect_errors,
            messages_sent: t.messages_sent,
            answers: t.answers,
            errors: t.errors,
            rx_bytes: t.rx_bytes,
            tx_bytes: t.tx_bytes,
            rtt_us: Rtt::of(&self.overall),
            elapsed_ms: millis(elapsed),
        }
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value at quantile `q` of every sample, sorted: the smallest value with at least
    /// `q` of the samples at or below it (hdrhistogram's definition).
    fn reference(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    /// A small deterministic generator (xorshift), so the test needs no crate and repeats.
    fn samples(count: usize, mut state: u64) -> Vec<u64> {
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly 50-500 µs, a tail up to ~2 s: the shape of a loaded server.
                let base = 50 + state % 450;
                if state.is_multiple_of(100) {
                    base * (1 + (state >> 20) % 4000)
                } else {
                    base
                }
            })
            .collect()
    }

    #[test]
    fn reported_percentiles_match_a_reference_from_every_raw_sample() {
        for (count, seed) in [(1, 7), (10, 3), (1_000, 11), (200_000, 42)] {
            let raw = samples(count, seed);
            let mut stats = Stats::new().expect("histograms");
            for micros in &raw {
                stats.rtt(Duration::from_micros(*micros));
            }
            let mut sorted = raw.clone();
            sorted.sort_unstable();
            let summary = stats.summary(Duration::from_secs(1));
            let got = summary.rtt_us;
            let quantiles = [
                (got.p50, 0.50),
                (got.p90, 0.90),
                (got.p99, 0.99),
                (got.p999, 0.999),
            ];
            for (reported, q) in quantiles {
                let exact = reference(&sorted, q);
                // 3 significant digits: within 0.1 % (and never below the exact value's
                // bucket).
                let tolerance = exact / 1000 + 1;
                assert!(
                    reported.abs_diff(exact) <= tolerance,
                    "{count} samples, q {q}: reported {reported}, exact {exact}"
                );
            }
            let max = *sorted.last().expect("samples");
            assert!(
                got.max.abs_diff(max) <= max / 1000 + 1,
                "max {} vs {max}",
                got.max
            );
        }
    }

    #[test]
    fn seconds_hold_their_own_counts_and_round_trips() {
        let mut stats = Stats::new().expect("histograms");
        stats.connected();
        stats.connected();
        stats.connect_failed(LoadErrorKind::Refused);
        for _ in 0..3 {
            stats.sent(10);
        }
        stats.received(20);
        stats.answered(2);
        stats.rtt(Duration::from_micros(100));
        stats.rtt(Duration::from_millis(2));
        let first = stats.second(Duration::from_millis(1000));
        assert_eq!(first.second, 1);
        assert_eq!(first.open, 2);
        assert_eq!(first.during.messages_sent, 3);
        assert_eq!(first.during.tx_bytes, 30);
        assert_eq!(first.during.errors.get(LoadErrorKind::Refused), 1);
        assert_eq!(first.rtt_us.max, 2000);
        stats.closed();
        stats.error(LoadErrorKind::Timeout);
        stats.rtt(Duration::from_micros(50));
        let second = stats.second(Duration::from_millis(2000));
        assert_eq!(second.second, 2);
        assert_eq!(second.open, 1);
        assert_eq!(second.during.messages_sent, 0);
        assert_eq!(second.during.errors.total(), 1);
        assert_eq!(second.rtt_us.max, 50, "the second's own round trips");
        assert_eq!(second.overall_rtt_us.max, 2000, "the run's");
        let summary = stats.summary(Duration::from_millis(2500));
        assert_eq!(summary.connections, 2);
        assert_eq!(summary.connect_errors, 1);
        assert_eq!(summary.elapsed_ms, 2500);
        // 2 errors over 3 messages + 2 connections + 1 failed attempt.
        assert!((summary.error_rate() - 2.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn nothing_measured_is_all_zero() {
        let summary = Stats::new().expect("histograms").summary(Duration::ZERO);
        assert_eq!(summary.rtt_us, Rtt::default());
        assert_eq!(summary.error_rate(), 0.0);
    }
}
