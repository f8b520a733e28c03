//! What the user sees, as plain data: sessions, their peers and counters, and the bounded
//! traffic log, all fed by engine [`Event`](crate::protocol::Event)s. No egui, no tokio, so
//! the window and the headless mode share it.

pub mod framed;
pub mod log;
pub mod note;
pub mod peers;
pub mod session;
pub mod spill_dir;
pub mod stats;
pub mod view;

pub use log::{EntryKind, LogEntry, TrafficLog};
pub use note::{LogNote, PeerRole};
pub use peers::PeerTable;
pub use session::{HeldBack, PeerInfo, Session, SessionState, Sessions};
