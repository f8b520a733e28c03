//! Scenario jobs: a scenario file run against a session, in the engine, so a 1 ms `sleep`
//! and a 10 ms `within` hold whatever the window does. A job is attached to the session of
//! the file's first `session` line (and taps the others it names): it watches their events
//! through the sink's taps ([`super::taps`]), sends through their command channels like any
//! send (so its traffic is in the log), and reports typed [`ScenarioUpdate`]s.
//!
//! On a client session the job makes one run. On a server session each connecting client
//! (and each already connected when the job starts) gets a run of its own, with its own
//! variables, as [`ScenarioClients`] says: only the first (`sockdbg test`), or every client
//! until the job is cancelled (a device simulator). This module routes each session's events
//! to the runs ([`router`]); [`run`] executes the statements, [`inbox`] keeps what each run
//! received; [`job`] holds what the dispatcher gives a job and what its runs share.

mod inbox;
mod job;
mod router;
mod run;

pub(super) use job::{Attached, ScenarioJob};
pub(super) use router::run;
