//! The faults a relay applies, per direction: what the spec's fault words mean
//! (`delay=MS`, `jitter=MS`, `slice=N`, `slice-delay=MS`, `rate=BYTES_PER_S`,
//! `close-after=BYTES`, `reset-after=BYTES`, `drop-after=BYTES`, `hold`), each for one leg
//! with an `up.` or `down.` prefix or for both without one. The spec parser
//! (`crate::spec`) reads them with its own errors; this module knows the words and values.

use serde::{Deserialize, Serialize};

use super::Leg;

/// The longest delay, jitter or slice delay a fault may ask for (one hour).
pub const MAX_DELAY_MS: u64 = 3_600_000;

/// One fault word, without its leg prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKey {
    /// `delay=MS`: each chunk is forwarded this long after it was read.
    Delay,
    /// `jitter=MS`: plus a random 0..=MS more (the order of the bytes is kept).
    Jitter,
    /// `slice=N`: forwarded in pieces of at most N bytes.
    Slice,
    /// `slice-delay=MS`: the pause between two pieces of a sliced chunk.
    SliceDelay,
    /// `rate=BYTES_PER_S`: at most this many bytes a second (a token bucket).
    Rate,
    /// `close-after=BYTES`: after this many bytes in the direction, both sides get a FIN.
    CloseAfter,
    /// `reset-after=BYTES`: after this many bytes, both sides get a RST.
    ResetAfter,
    /// `drop-after=BYTES`: after this many bytes, reading goes on but nothing more is
    /// forwarded.
    DropAfter,
    /// `hold`: nothing is forwarded (it queues, bounded) until released or stepped.
    Hold,
}

impl FaultKey {
    /// Every fault word, in the order a spec writes them.
    pub const ALL: [FaultKey; 9] = [
        FaultKey::Delay,
        FaultKey::Jitter,
        FaultKey::Slice,
        FaultKey::SliceDelay,
        FaultKey::Rate,
        FaultKey::CloseAfter,
        FaultKey::ResetAfter,
        FaultKey::DropAfter,
        FaultKey::Hold,
    ];

    /// The word written in a spec, e.g. `slice-delay`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKey::Delay => "delay",
            FaultKey::Jitter => "jitter",
            FaultKey::Slice => "slice",
            FaultKey::SliceDelay => "slice-delay",
            FaultKey::Rate => "rate",
            FaultKey::CloseAfter => "close-after",
            FaultKey::ResetAfter => "reset-after",
            FaultKey::DropAfter => "drop-after",
            FaultKey::Hold => "hold",
        }
    }

    /// How it is written, e.g. `delay=MS`.
    pub fn syntax(self) -> &'static str {
        match self {
            FaultKey::Delay => "delay=MS",
            FaultKey::Jitter => "jitter=MS",
            FaultKey::Slice => "slice=N",
            FaultKey::SliceDelay => "slice-delay=MS",
            FaultKey::Rate => "rate=BYTES_PER_S",
            FaultKey::CloseAfter => "close-after=BYTES",
            FaultKey::ResetAfter => "reset-after=BYTES",
            FaultKey::DropAfter => "drop-after=BYTES",
            FaultKey::Hold => "hold",
        }
    }

    /// Flags take no value.
    pub fn is_flag(self) -> bool {
        self == FaultKey::Hold
    }

    /// Reads a spec word's name: `delay` (both legs), `up.delay` or `down.delay`; `None` when
    /// it is no fault word.
    pub fn parse(name: &str) -> Option<(Option<Leg>, FaultKey)> {
        let (leg, bare) = match name.split_once('.') {
            Some(("up", bare)) => (Some(Leg::Up), bare),
            Some(("down", bare)) => (Some(Leg::Down), bare),
            Some(_) => return None,
            None => (None, name),
        };
        let key = Self::ALL.into_iter().find(|k| k.name() == bare)?;
        Some((leg, key))
    }

    /// The accepted fault words as a hint: `[up.|down.]delay=MS, ...`.
    pub fn hint() -> String {
        let words: Vec<&str> = Self::ALL.iter().map(|k| k.syntax()).collect();
        format!("[up.|down.]{}", words.join(", [up.|down.]"))
    }
}

/// The faults of one direction. Zero and `None` mean none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct LegFaults {
    /// Added to each chunk's time, from when it was read.
    pub delay_ms: u64,
    /// A random extra delay of up to this much per chunk.
    pub jitter_ms: u64,
    /// Forward in pieces of at most this many bytes.
    pub slice_bytes: Option<usize>,
    /// Pause between two pieces of a sliced chunk.
    pub slice_delay_ms: u64,
    /// At most this many bytes a second.
    pub rate_bytes_per_s: Option<u64>,
    /// After this many bytes, close both sides (FIN).
    pub close_after: Option<u64>,
    /// After this many bytes, reset both sides (RST).
    pub reset_after: Option<u64>,
    /// After this many bytes, forward nothing more (reading goes on).
    pub drop_after: Option<u64>,
    /// Forward nothing until released (or stepped one chunk at a time).
    pub hold: bool,
}

/// Why a fault's value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadFault;

impl LegFaults {
    /// Whether no fault is set (forwarding is plain).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the shaper has nothing to do: no delay, slices, rate or limit (hold is the
    /// pump's, not the shaper's).
    pub fn shapes_nothing(&self) -> bool {
        Self {
            hold: false,
            ..*self
        }
        .is_empty()
    }

    /// Sets `key` from its text (`None` for a bare flag).
    ///
    /// # Errors
    /// [`BadFault`] when the value is missing, malformed or out of range, or given to a flag.
    pub fn set(&mut self, key: FaultKey, value: Option<&str>) -> Result<(), BadFault> {
        if key.is_flag() {
            if value.is_some() {
                return Err(BadFault);
            }
            self.hold = true;
            return Ok(());
        }
        let text = value.map(str::trim).ok_or(BadFault)?;
        let number = text.parse::<u64>().map_err(|_| BadFault)?;
        let ms = || {
            Some(number)
                .filter(|ms| *ms <= MAX_DELAY_MS)
                .ok_or(BadFault)
        };
        let positive = || Some(number).filter(|n| *n > 0).ok_or(BadFault);
        match key {
            FaultKey::Delay => self.delay_ms = ms()?,
            FaultKey::Jitter => self.jitter_ms = ms()?,
            FaultKey::SliceDelay => self.slice_delay_ms = ms()?,
            FaultKey::Slice => {
                let n = usize::try_from(positive()?).map_err(|_| BadFault)?;
                self.slice_bytes = Some(n);
            }
            FaultKey::Rate => self.rate_bytes_per_s = Some(positive()?),
            FaultKey::CloseAfter => self.close_after = Some(number),
            FaultKey::ResetAfter => self.reset_after = Some(number),
            FaultKey::DropAfter => self.drop_after = Some(number),
            FaultKey::Hold => {} // a flag, handled above
        }
        Ok(())
    }

    /// `key`'s value as a spec writes it: `Some("")` for a set flag, `None` when unset.
    fn value(&self, key: FaultKey) -> Option<String> {
        let ms = |ms: u64| (ms > 0).then(|| ms.to_string());
        match key {
            FaultKey::Delay => ms(self.delay_ms),
            FaultKey::Jitter => ms(self.jitter_ms),
            FaultKey::SliceDelay => ms(self.slice_delay_ms),
            FaultKey::Slice => self.slice_bytes.map(|n| n.to_string()),
            FaultKey::Rate => self.rate_bytes_per_s.map(|n| n.to_string()),
            FaultKey::CloseAfter => self.close_after.map(|n| n.to_string()),
            FaultKey::ResetAfter => self.reset_after.map(|n| n.to_string()),
            FaultKey::DropAfter => self.drop_after.map(|n| n.to_string()),
            FaultKey::Hold => self.hold.then(String::new),
        }
    }
}

/// The faults of a relay: one set per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RelayFaults {
    /// Client to target.
    pub up: LegFaults,
    /// Target to client.
    pub down: LegFaults,
}

impl RelayFaults {
    /// Whether no fault is set in either direction.
    pub fn is_empty(&self) -> bool {
        self.up.is_empty() && self.down.is_empty()
    }

    /// One leg's faults.
    pub fn leg(&self, leg: Leg) -> &LegFaults {
        match leg {
            Leg::Up => &self.up,
            Leg::Down => &self.down,
        }
    }

    /// One leg's faults, to change.
    pub fn leg_mut(&mut self, leg: Leg) -> &mut LegFaults {
        match leg {
            Leg::Up => &mut self.up,
            Leg::Down => &mut self.down,
        }
    }

    /// Sets `key` on `leg`, or on both legs when `leg` is `None`.
    ///
    /// # Errors
    /// As [`LegFaults::set`].
    pub fn set(
        &mut self,
        leg: Option<Leg>,
        key: FaultKey,
        value: Option<&str>,
    ) -> Result<(), BadFault> {
        match leg {
            Some(leg) => self.leg_mut(leg).set(key, value),
            None => {
                self.up.set(key, value)?;
                self.down.set(key, value)
            }
        }
    }

    /// The faults as spec words, in [`FaultKey::ALL`] order: a value both legs share is
    /// written once without a prefix, others with `up.` and `down.`.
    pub fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        let word = |prefix: &str, key: FaultKey, value: &str| {
            if key.is_flag() {
                format!("{prefix}{}", key.name())
            } else {
                format!("{prefix}{}={value}", key.name())
            }
        };
        for key in FaultKey::ALL {
            match (self.up.value(key), self.down.value(key)) {
                (Some(up), Some(down)) if up == down => words.push(word("", key, &up)),
                (up, down) => {
                    if let Some(up) = up {
                        words.push(word("up.", key, &up));
                    }
                    if let Some(down) = down {
                        words.push(word("down.", key, &down));
                    }
                }
            }
        }
        words
    }

    /// Reads fault words written as in a spec (`up.delay=100, slice=4`), alone: what the
    /// window's fault field holds. Words that are not faults are refused.
    ///
    /// # Errors
    /// The first word that is no fault word or has a bad value.
    pub fn parse_words(text: &str) -> Result<Self, String> {
        let mut faults = Self::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (name, value) = match word.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value)),
                None => (word, None),
            };
            let (leg, key) = FaultKey::parse(name).ok_or_else(|| word.to_string())?;
            faults
                .set(leg, key, value)
                .map_err(|BadFault| word.to_string())?;
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_per_leg_or_both() {
        let table: [(&str, RelayFaults); 4] = [
            (
                "delay=100",
                RelayFaults {
                    up: LegFaults {
                        delay_ms: 100,
                        ..LegFaults::default()
                    },
                    down: LegFaults {
                        delay_ms: 100,
                        ..LegFaults::default()
                    },
                },
            ),
            (
                "up.slice=4,up.slice-delay=50",
                RelayFaults {
                    up: LegFaults {
                        slice_bytes: Some(4),
                        slice_delay_ms: 50,
                        ..LegFaults::default()
                    },
                    down: LegFaults::default(),
                },
            ),
            (
                "down.reset-after=0, up.hold",
                RelayFaults {
                    up: LegFaults {
                        hold: true,
                        ..LegFaults::default()
                    },
                    down: LegFaults {
                        reset_after: Some(0),
                        ..LegFaults::default()
                    },
                },
            ),
            (
                "rate=1000,down.rate=10,close-after=5,drop-after=7,jitter=3",
                RelayFaults {
                    up: LegFaults {
                        rate_bytes_per_s: Some(1000),
                        close_after: Some(5),
                        drop_after: Some(7),
                        jitter_ms: 3,
                        ..LegFaults::default()
                    },
                    down: LegFaults {
                        rate_bytes_per_s: Some(10),
                        close_after: Some(5),
                        drop_after: Some(7),
                        jitter_ms: 3,
                        ..LegFaults::default()
                    },
                },
            ),
        ];
        for (text, expected) in table {
            assert_eq!(RelayFaults::parse_words(text), Ok(expected), "{text}");
            let again = RelayFaults::parse_words(&expected.words().join(","));
            assert_eq!(again, Ok(expected), "{text} round trip");
        }
    }

    #[test]
    fn canonical_words_share_what_both_legs_have() {
        let faults =
            RelayFaults::parse_words("down.delay=5,up.delay=5,up.rate=9,hold").expect("valid");
        assert_eq!(faults.words(), ["delay=5", "up.rate=9", "hold"]);
        assert_eq!(
            RelayFaults::parse_words("delay=0"),
            Ok(RelayFaults::default())
        );
        assert!(RelayFaults::default().words().is_empty());
    }

    #[test]
    fn bad_words_are_named() {
        for bad in [
            "delay",
            "delay=x",
            "delay=-1",
            "delay=3600001",
            "slice=0",
            "rate=0",
            "hold=yes",
            "sideways.delay=5",
            "up.bogus=1",
            "close-after=",
            "timeout=5",
        ] {
            assert_eq!(RelayFaults::parse_words(bad), Err(bad.to_string()), "{bad}");
        }
    }

    #[test]
    fn hint_lists_every_word() {
        let hint = FaultKey::hint();
        for key in FaultKey::ALL {
            assert!(hint.contains(key.syntax()), "{hint}");
        }
        assert!(hint.starts_with("[up.|down.]delay=MS"));
    }

    #[test]
    fn hold_alone_shapes_nothing() {
        let held = LegFaults {
            hold: true,
            ..LegFaults::default()
        };
        assert!(held.shapes_nothing());
        assert!(!held.is_empty());
        let delayed = LegFaults {
            delay_ms: 1,
            ..LegFaults::default()
        };
        assert!(!delayed.shapes_nothing());
    }
}
