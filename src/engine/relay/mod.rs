//! Relay sessions: `relay:` (TCP, optionally TLS on either side) and `udp-relay:`. Each
//! client is paired with its own link to the target and listed as one peer; both directions
//! are logged as they are written (`up` to the target, `down` to the client), shaped by the
//! relay's faults (`crate::relay`), held and stepped, and injected into.
//!
//! - `pump`: one direction of a pair: a bounded queue between a reader and a writer that
//!   forwards as the faults plan; hold, step and injection.
//! - `pairs`: the session's pairs, the routing of its commands, and its faults.
//! - `tcp`: the TCP relay: accept, TLS, connect to the target, the pair's end.
//! - `udp`: the UDP relay: a mapping per client address, idle mappings expire.

mod pairs;
mod pump;
mod tcp;
mod udp;

pub(super) use tcp::run as run_tcp;
pub(super) use udp::run as run_udp;
