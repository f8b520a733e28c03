//! Load jobs: a [`LoadPlan`](crate::load::LoadPlan) run as session `id`'s one job
//! ([`job`]: set up, a record each second, the end). The job opens the plan's connections
//! itself ([`link`], with the engine's connectors) and runs one slot per connection
//! ([`conn`]: pingpong, stream or connect) with what they share ([`shared`]: the relay's
//! token buckets pace messages and connects, one [`Stats`](crate::load::Stats) counts
//! everything). It reports a `LoadUpdate::Second` each second, the first messages of each
//! connection as samples (never every byte: that would measure the log), and
//! `LoadUpdate::Ended` with the summary. The session's stop or the job's cancel ends every
//! slot at once: each wait is a `select!` on the cancel, and the slots' tasks are aborted
//! when the job ends.
mod conn;
mod job;
mod link;
mod shared;

pub(super) use job::{LoadJob, run};
