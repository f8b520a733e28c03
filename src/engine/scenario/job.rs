//! What the dispatcher gives a scenario job ([`ScenarioJob`], one [`Attached`] per session
//! it acts on) and what every run of the job shares ([`Shared`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::session::SessionCommand;
use crate::engine::sink::EventSink;
use crate::engine::taps::SessionState;
use crate::protocol::{Event, JobId, ScenarioRun, ScenarioUpdate, SessionId};
use crate::scenario::Scenario;
use crate::spec::SessionKind;

/// One session a job acts on.
pub(in crate::engine) struct Attached {
    pub id: SessionId,
    pub kind: SessionKind,
    /// How long a step waits for a `reconnect` session's connection: its connect timeout.
    pub connect_limit: Duration,
    pub commands: mpsc::UnboundedSender<SessionCommand>,
    /// The session's own token (to tell its stop from the job's cancel).
    pub session_cancel: CancellationToken,
}

/// Everything a scenario job is given by the dispatcher.
pub(in crate::engine) struct ScenarioJob {
    pub id: SessionId,
    pub job: JobId,
    pub sink: EventSink,
    /// Cancelled by the user's cancel or the session's stop.
    pub cancel: CancellationToken,
    /// The file's sessions, in order; the first is `id`.
    pub sessions: Vec<Attached>,
    pub run: ScenarioRun,
    /// The sessions' events, from the taps.
    pub events: mpsc::UnboundedReceiver<Event>,
    /// Each session's state when the taps were set.
    pub states: Vec<SessionState>,
}

/// What every run of a job shares.
pub(super) struct Shared {
    pub(super) id: SessionId,
    pub(super) job: JobId,
    pub(super) sink: EventSink,
    pub(super) cancel: CancellationToken,
    pub(super) sessions: Vec<Attached>,
    pub(super) scenario: Arc<Scenario>,
    pub(super) vars: Vec<(String, String)>,
    pub(super) base_dir: PathBuf,
}

impl Shared {
    pub(super) fn update(&self, update: ScenarioUpdate) {
        self.sink.send(Event::Scenario {
            id: self.id,
            job: self.job,
            update,
        });
    }

    pub(super) fn index_of(&self, id: SessionId) -> Option<usize> {
        self.sessions.iter().position(|s| s.id == id)
    }
}
