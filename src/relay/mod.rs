//! Relays, the pure part: which way a relayed chunk goes ([`Leg`]), the faults a relay
//! applies to each direction ([`RelayFaults`], written in the session spec as
//! `up.delay=100,slice=4`) and the shaping that turns a chunk into timed pieces
//! ([`shaping::Shaper`]: delay, jitter, slices, a token-bucket rate, and the close, reset and
//! drop limits). No tokio, no egui: the engine's relay sessions (`engine::relay`) sleep and
//! write as the shaper plans, and the tests here are tables of instants.

pub mod faults;
pub mod shaping;

use serde::{Deserialize, Serialize};

pub use faults::{FaultKey, LegFaults, RelayFaults};
pub use shaping::{Fired, Piece, Plan, Shaper};

/// One direction of a relay pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Leg {
    /// From the client to the target.
    Up,
    /// From the target to the client.
    Down,
}

impl Leg {
    /// Both legs, up first.
    pub const BOTH: [Leg; 2] = [Leg::Up, Leg::Down];

    /// The spec's prefix for this leg's faults (`up` in `up.delay=100`), also the word
    /// headless jsonl writes in `dir`.
    pub fn word(self) -> &'static str {
        match self {
            Leg::Up => "up",
            Leg::Down => "down",
        }
    }

    /// The arrow drawn for it, two characters wide like `RX`/`TX` and in every font: up goes
    /// right (client -> target), down goes left.
    pub fn arrow(self) -> &'static str {
        match self {
            Leg::Up => "->",
            Leg::Down => "<-",
        }
    }

    /// The other leg.
    pub fn other(self) -> Leg {
        match self {
            Leg::Up => Leg::Down,
            Leg::Down => Leg::Up,
        }
    }
}
