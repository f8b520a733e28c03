//! Fault shaping, pure: given a chunk read at some instant, when and in which pieces it is
//! forwarded ([`Shaper::plan`]). The delay and jitter move the chunk later (never before the
//! previous one: order is kept), `slice` cuts it into pieces `slice-delay` apart, `rate` is a
//! token bucket ([`TokenBucket`]) that spaces pieces of at most a tenth of a second's worth,
//! and the close, reset and drop limits cut the chunk where the direction's count reaches
//! them and say which one fired. The engine sleeps until each piece is due and writes it;
//! the jitter's randomness is passed in, so the tables below are exact.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::faults::LegFaults;

/// Nanoseconds in a second: a token bucket counts bytes in byte-nanoseconds, so refills are
/// exact integers.
const NANOS: u128 = 1_000_000_000;

/// A rate's bucket holds at most this many bytes (so no piece is larger).
const MAX_BURST_BYTES: u64 = 64 * 1024;

/// What to write: `len` bytes of the chunk (after the previous pieces), not before `due`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Bytes in this piece.
    pub len: usize,
    /// When it may be written.
    pub due: Instant,
}

/// Which limit fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fired {
    /// `close-after`: both sides get a FIN after the pieces.
    Close {
        /// The limit, in bytes.
        after: u64,
    },
    /// `reset-after`: both sides get a RST after the pieces.
    Reset {
        /// The limit, in bytes.
        after: u64,
    },
    /// `drop-after`: from now on nothing more is forwarded.
    Drop {
        /// The limit, in bytes.
        after: u64,
    },
}

/// How one chunk is forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The pieces, in order; their lengths add up to the bytes forwarded.
    pub pieces: Vec<Piece>,
    /// Bytes of the chunk not forwarded (a limit was reached, or the direction drops).
    pub dropped: usize,
    /// The limit this chunk reached, if one did (only ever once per direction).
    pub fired: Option<Fired>,
}

/// A token bucket: `rate` bytes a second, holding at most a tenth of a second's worth
/// (at least one byte, at most [`MAX_BURST_BYTES`]), full at first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: u64,
    capacity: u64,
    /// Tokens held, in byte-nanoseconds.
    tokens: u128,
    /// The bucket's clock: when `tokens` was counted.
    at: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket for `rate` bytes a second (at least 1).
    pub fn new(rate: u64) -> Self {
        let rate = rate.max(1);
        let capacity = (rate / 10).clamp(1, MAX_BURST_BYTES);
        Self {
            rate,
            capacity,
            tokens: u128::from(capacity) * NANOS,
            at: None,
        }
    }

    /// The largest piece it lets through at once.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Takes `len` bytes (at most [`Self::capacity`]) at `at` or as soon after as the
    /// bucket allows; returns when.
    pub fn take(&mut self, len: u64, at: Instant) -> Instant {
        let at = self.at.map_or(at, |clock| clock.max(at));
        if let Some(clock) = self.at {
            let refill = (at - clock)
                .as_nanos()
                .saturating_mul(u128::from(self.rate));
            let full = u128::from(self.capacity) * NANOS;
            self.tokens = self.tokens.saturating_add(refill).min(full);
        }
        let need = u128::from(len.min(self.capacity)) * NANOS;
        if self.tokens >= need {
            self.tokens -= need;
            self.at = Some(at);
            return at;
        }
        let rate = u128::from(self.rate);
        let wait_nanos = (need - self.tokens).div_ceil(rate);
        let due = at + Duration::from_nanos(u64::try_from(wait_nanos).unwrap_or(u64::MAX));
        self.tokens = self.tokens + wait_nanos * rate - need;
        self.at = Some(due);
        due
    }
}

/// One direction's shaping: its faults, its rate's bucket, and what it has forwarded.
#[derive(Clone, Debug)]
pub struct Shaper {
    faults: LegFaults,
    bucket: Option<TokenBucket>,
    /// Bytes forwarded in this direction (injected bytes are not the shaper's).
    forwarded: u64,
    /// When the last piece was due: a later chunk is never due before it.
    last_due: Option<Instant>,
    /// A limit has fired: `drop-after` drops everything from now on.
    dropping: bool,
}

impl Shaper {
    /// A shaper with `faults` and nothing forwarded yet.
    pub fn new(faults: LegFaults) -> Self {
        Self {
            bucket: faults.rate_bytes_per_s.map(TokenBucket::new),
            faults,
            forwarded: 0,
            last_due: None,
            dropping: false,
        }
    }

    /// Changes the faults while running: the count of bytes forwarded stays (limits count
    /// from the pair's start); a new rate starts with a full bucket.
    pub fn set_faults(&mut self, faults: LegFaults) {
        if faults.rate_bytes_per_s != self.faults.rate_bytes_per_s {
            self.bucket = faults.rate_bytes_per_s.map(TokenBucket::new);
        }
        self.faults = faults;
    }

    /// The faults in force.
    pub fn faults(&self) -> &LegFaults {
        &self.faults
    }

    /// Bytes forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }

    /// Plans a chunk of `len` bytes read at `read_at`. `jitter(max)` gives a random number
    /// of milliseconds in `0..=max` (called only when the faults have a jitter).
    pub fn plan(&mut self, len: usize, read_at: Instant, jitter: impl FnOnce(u64) -> u64) -> Plan {
        if self.dropping {
            return Plan {
                pieces: Vec::new(),
                dropped: len,
                fired: None,
            };
        }
        let (allowed, fired) = self.limit(len);
        let mut pieces = Vec::with_capacity(1);
        // An empty chunk (an empty datagram) is one empty piece, timed like any other.
        let empty = len == 0 && fired.is_none();
        if allowed > 0 || empty {
            let jitter_ms = match self.faults.jitter_ms {
                0 => 0,
                max => jitter(max).min(max),
            };
            let base = read_at + Duration::from_millis(self.faults.delay_ms + jitter_ms);
            let mut due = self.last_due.map_or(base, |last| last.max(base));
            let slice = self.faults.slice_bytes.unwrap_or(usize::MAX).max(1);
            let slice_delay = Duration::from_millis(self.faults.slice_delay_ms);
            let mut left = allowed;
            loop {
                let slice_len = left.min(slice);
                if left < allowed {
                    due += slice_delay;
                }
                self.rated(slice_len, &mut due, &mut pieces);
                left -= slice_len;
                if left == 0 {
                    break;
                }
            }
            self.last_due = Some(due);
            self.forwarded += allowed as u64;
        }
        if matches!(fired, Some(Fired::Drop { .. })) {
            self.dropping = true;
        }
        Plan {
            pieces,
            dropped: len - allowed,
            fired,
        }
    }

    /// Pushes `len` bytes due at `due` as pieces the rate allows, moving `due` along.
    fn rated(&mut self, len: usize, due: &mut Instant, pieces: &mut Vec<Piece>) {
        let Some(bucket) = self.bucket.as_mut().filter(|_| len > 0) else {
            pieces.push(Piece { len, due: *due });
            return;
        };
        let most = usize::try_from(bucket.capacity()).unwrap_or(usize::MAX);
        let mut left = len;
        while left > 0 {
            let piece = left.min(most);
            *due = bucket.take(piece as u64, *due);
            pieces.push(Piece {
                len: piece,
                due: *due,
            });
            left -= piece;
        }
    }

    /// How much of `len` more bytes may go, and the limit reached doing so: the smallest
    /// limit wins (a reset before a close before a drop at the same count).
    fn limit(&self, len: usize) -> (usize, Option<Fired>) {
        let limits = [
            self.faults.reset_after.map(|after| Fired::Reset { after }),
            self.faults.close_after.map(|after| Fired::Close { after }),
            self.faults.drop_after.map(|after| Fired::Drop { after }),
        ];
        let after = |fired: &Fired| match *fired {
            Fired::Close { after } | Fired::Reset { after } | Fired::Drop { after } => after,
        };
        let nearest = limits.into_iter().flatten().min_by_key(after);
        match nearest {
            Some(fired) if self.forwarded + len as u64 >= after(&fired) => {
                let room = after(&fired).saturating_sub(self.forwarded);
                let allowed = usize::try_from(room).unwrap_or(usize::MAX).min(len);
                (allowed, Some(fired))
            }
            _ => (len, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn faults(text: &str) -> LegFaults {
        crate::relay::RelayFaults::parse_words(text)
            .expect("valid faults")
            .up
    }

    /// `(len, offset from t0 in ms)` of each piece.
    fn shape(plan: &Plan, t0: Instant) -> Vec<(usize, u128)> {
        plan.pieces
            .iter()
            .map(|p| (p.len, (p.due - t0).as_millis()))
            .collect()
    }

    #[test]
    fn plain_forwarding_is_one_piece_now() {
        let t0 = Instant::now();
        let mut shaper = Shaper::new(LegFaults::default());
        let plan = shaper.plan(1000, t0, |_| unreachable!("no jitter"));
        assert_eq!(shape(&plan, t0), [(1000, 0)]);
        assert_eq!((plan.dropped, plan.fired), (0, None));
        assert_eq!(shaper.forwarded(), 1000);
    }

    #[test]
    fn delay_slices_and_jitter() {
        let t0 = Instant::now();
        // (faults, chunk len, jitter drawn, pieces as (len, ms after t0))
        type Row<'a> = (&'a str, usize, u64, &'a [(usize, u128)]);
        let table: [Row; 6] = [
            ("delay=100", 10, 0, &[(10, 100)]),
            ("slice=4", 10, 0, &[(4, 0), (4, 0), (2, 0)]),
            (
                "slice=4,slice-delay=50",
                10,
                0,
                &[(4, 0), (4, 50), (2, 100)],
            ),
            (
                "delay=20,slice=5,slice-delay=10",
                10,
                0,
                &[(5, 20), (5, 30)],
            ),
            ("delay=10,jitter=30", 3, 7, &[(3, 17)]),
            // Drawn past its maximum: held to it.
            ("jitter=30", 3, 99, &[(3, 30)]),
        ];
        for (text, len, drawn, expected) in table {
            let mut shaper = Shaper::new(faults(text));
            let plan = shaper.plan(len, t0, |max| {
                assert_eq!(max, 30, "{text}");
                drawn
            });
            assert_eq!(shape(&plan, t0), expected, "{text}");
        }
    }

    #[test]
    fn an_empty_chunk_is_one_empty_piece() {
        let t0 = Instant::now();
        for text in ["delay=5", "rate=10,slice=2"] {
            let mut shaper = Shaper::new(faults(text));
            let plan = shaper.plan(0, t0, |_| 0);
            let due = if text == "delay=5" { 5 } else { 0 };
            assert_eq!(shape(&plan, t0), [(0, due)], "{text}");
        }
    }

    #[test]
    fn order_is_kept_when_jitter_would_swap_chunks() {
        let t0 = Instant::now();
        let mut shaper = Shaper::new(faults("jitter=100"));
        let first = shaper.plan(1, t0, |_| 90);
        let second = shaper.plan(1, t0 + ms(10), |_| 0);
        assert_eq!(shape(&first, t0), [(1, 90)]);
        assert_eq!(shape(&second, t0), [(1, 90)], "never before the first");
    }

    #[test]
    fn delay_counts_from_the_read() {
        let t0 = Instant::now();
        let mut shaper = Shaper::new(faults("delay=100"));
        // Read at t0, planned later (it waited in a hold): due at t0 + 100 all the same.
        let plan = shaper.plan(5, t0, |_| 0);
        assert_eq!(shape(&plan, t0), [(5, 100)]);
        // A chunk read long after is due 100 ms after its own read.
        let plan = shaper.plan(5, t0 + ms(1000), |_| 0);
        assert_eq!(shape(&plan, t0), [(5, 1100)]);
    }

    #[test]
    fn rate_is_a_token_bucket() {
        let t0 = Instant::now();
        // 1000 B/s: the bucket holds 100 bytes (a tenth of a second), full at first.
        let mut shaper = Shaper::new(faults("rate=1000"));
        let plan = shaper.plan(350, t0, |_| 0);
        assert_eq!(
            shape(&plan, t0),
            [(100, 0), (100, 100), (100, 200), (50, 250)]
        );
        // Idle for a second: the bucket is full again (100), not 1000.
        let plan = shaper.plan(150, t0 + ms(1250), |_| 0);
        assert_eq!(shape(&plan, t0), [(100, 1250), (50, 1300)]);
        // Slow rates go byte by byte.
        let mut slow = Shaper::new(faults("rate=5"));
        let plan = slow.plan(3, t0, |_| 0);
        assert_eq!(shape(&plan, t0), [(1, 0), (1, 200), (1, 400)]);
    }

    #[test]
    fn bucket_counts_exactly() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3);
        assert_eq!(bucket.capacity(), 1);
        let times: Vec<u128> = (0..4)
            .map(|_| (bucket.take(1, t0) - t0).as_nanos())
            .collect();
        // A third of a second apart, rounded up to the nanosecond.
        assert_eq!(times, [0, 333_333_334, 666_666_667, 1_000_000_000]);
        assert_eq!(TokenBucket::new(10_000_000).capacity(), MAX_BURST_BYTES);
    }

    #[test]
    fn rate_and_slices_combine() {
        let t0 = Instant::now();
        let mut shaper = Shaper::new(faults("rate=100,slice=20,slice-delay=5"));
        // Bucket of 10: each slice of 20 is two pieces of 10, 100 ms apart; the slice delay
        // passes while the bucket refills.
        let plan = shaper.plan(40, t0, |_| 0);
        assert_eq!(shape(&plan, t0), [(10, 0), (10, 100), (10, 200), (10, 300)]);
    }

    #[test]
    fn limits_cut_the_chunk_and_fire_once() {
        let t0 = Instant::now();
        // (faults, chunk lens, per chunk: (bytes forwarded, dropped, fired))
        type Step = (usize, usize, Option<Fired>);
        let table: [(&str, &[usize], &[Step]); 6] = [
            (
                "close-after=5",
                &[3, 4],
                &[(3, 0, None), (2, 2, Some(Fired::Close { after: 5 }))],
            ),
            (
                "close-after=4",
                &[2, 2],
                &[(2, 0, None), (2, 0, Some(Fired::Close { after: 4 }))],
            ),
            (
                "reset-after=0",
                &[9],
                &[(0, 9, Some(Fired::Reset { after: 0 }))],
            ),
            (
                "drop-after=3",
                &[2, 2, 5],
                &[
                    (2, 0, None),
                    (1, 1, Some(Fired::Drop { after: 3 })),
                    (0, 5, None),
                ],
            ),
            // The nearest limit wins.
            (
                "drop-after=10,close-after=4",
                &[6],
                &[(4, 2, Some(Fired::Close { after: 4 }))],
            ),
            (
                "close-after=4,reset-after=4",
                &[6],
                &[(4, 2, Some(Fired::Reset { after: 4 }))],
            ),
        ];
        for (text, chunks, expected) in table {
            let mut shaper = Shaper::new(faults(text));
            for (len, (sent, dropped, fired)) in chunks.iter().zip(expected) {
                let plan = shaper.plan(*len, t0, |_| 0);
                let forwarded: usize = plan.pieces.iter().map(|p| p.len).sum();
                assert_eq!(
                    (forwarded, plan.dropped, plan.fired),
                    (*sent, *dropped, *fired),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn faults_change_while_running() {
        let t0 = Instant::now();
        let mut shaper = Shaper::new(LegFaults::default());
        shaper.plan(10, t0, |_| 0);
        // A limit set later counts what was already forwarded.
        shaper.set_faults(faults("close-after=12"));
        let plan = shaper.plan(5, t0, |_| 0);
        assert_eq!(plan.fired, Some(Fired::Close { after: 12 }));
        assert_eq!((plan.pieces.len(), plan.dropped), (1, 3));
        // Below what was forwarded: fires at the next byte, forwarding none.
        let mut shaper = Shaper::new(LegFaults::default());
        shaper.plan(10, t0, |_| 0);
        shaper.set_faults(faults("reset-after=4"));
        let plan = shaper.plan(1, t0, |_| 0);
        assert_eq!((plan.pieces.len(), plan.dropped), (0, 1));
        assert_eq!(plan.fired, Some(Fired::Reset { after: 4 }));
        // Removing a delay: the next chunk goes at once.
        let mut shaper = Shaper::new(faults("delay=100"));
        shaper.plan(1, t0, |_| 0);
        shaper.set_faults(LegFaults::default());
        let plan = shaper.plan(1, t0 + ms(200), |_| 0);
        assert_eq!(shape(&plan, t0), [(1, 200)]);
    }
}
