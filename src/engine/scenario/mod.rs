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
//! to the runs; [`run`] executes the statements, [`inbox`] keeps what each run received.

mod inbox;
mod run;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::dispatch::SessionCommand;
use super::sink::EventSink;
use super::taps::SessionState;
use crate::protocol::{
    Event, JobId, PeerId, ScenarioClients, ScenarioRun, ScenarioUpdate, SessionId,
};
use crate::scenario::Scenario;
use crate::spec::SessionKind;

/// One session a job acts on.
pub(super) struct Attached {
    pub id: SessionId,
    pub kind: SessionKind,
    pub commands: mpsc::UnboundedSender<SessionCommand>,
    /// The session's own token (to tell its stop from the job's cancel).
    pub session_cancel: CancellationToken,
}

/// Everything a scenario job is given by the dispatcher.
pub(super) struct ScenarioJob {
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
struct Shared {
    id: SessionId,
    job: JobId,
    sink: EventSink,
    cancel: CancellationToken,
    sessions: Vec<Attached>,
    scenario: Arc<Scenario>,
    vars: Vec<(String, String)>,
    base_dir: PathBuf,
}

impl Shared {
    fn update(&self, update: ScenarioUpdate) {
        self.sink.send(Event::Scenario {
            id: self.id,
            job: self.job,
            update,
        });
    }

    fn index_of(&self, id: SessionId) -> Option<usize> {
        self.sessions.iter().position(|s| s.id == id)
    }
}

/// The runs of a job under way, and whether more may start.
struct Runs {
    shared: Arc<Shared>,
    clients: ScenarioClients,
    states: Vec<SessionState>,
    routes: HashMap<Option<PeerId>, mpsc::UnboundedSender<Event>>,
    tasks: JoinSet<()>,
    started: u64,
    accepting: bool,
}

impl Runs {
    fn start(&mut self, peer: Option<PeerId>) {
        if !self.accepting {
            return;
        }
        if self.clients == ScenarioClients::First || peer.is_none() {
            self.accepting = false;
        }
        self.started += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let run = run::Run::new(
            Arc::clone(&self.shared),
            self.started,
            peer,
            rx,
            &self.states,
        );
        self.tasks.spawn(run.execute());
        self.routes.insert(peer, tx);
    }

    /// Hands an event to the runs it concerns; a new client starts a run. The sessions'
    /// states follow, so a run started later knows where they stand.
    fn route(&mut self, event: Event, primary_is_server: bool) {
        let index = self.shared.index_of(event.session());
        if let Some(state) = index.and_then(|i| self.states.get_mut(i)) {
            state.follow(&event);
        }
        if index != Some(0) || !primary_is_server {
            self.broadcast(&event);
            return;
        }
        match &event {
            Event::PeerConnected { peer, .. } => self.start(Some(*peer)),
            Event::Traffic { peer, .. } | Event::PeerDisconnected { peer, .. } => {
                if let Some(route) = self.routes.get(&Some(*peer)) {
                    route.send(event).ok(); // the run has ended, nothing to tell
                }
            }
            Event::StartFailed { .. } | Event::Stopped { .. } => {
                self.accepting = false;
                self.broadcast(&event);
            }
            _ => self.broadcast(&event),
        }
    }

    fn broadcast(&self, event: &Event) {
        for route in self.routes.values() {
            route.send(event.clone()).ok(); // the run has ended, nothing to tell
        }
    }
}

/// Runs the job until its runs are over (or it is cancelled), then reports `Ended`.
pub(super) async fn run(job: ScenarioJob) {
    let ScenarioJob {
        id,
        job,
        sink,
        cancel,
        sessions,
        run,
        mut events,
        states,
    } = job;
    let primary_is_server = sessions.first().is_some_and(|s| s.kind.is_server());
    let shared = Arc::new(Shared {
        id,
        job,
        sink: sink.clone(),
        cancel: cancel.clone(),
        sessions,
        scenario: run.scenario,
        vars: run.vars,
        base_dir: run.base_dir,
    });
    shared.update(ScenarioUpdate::Attached);
    let existing: Vec<PeerId> = states
        .first()
        .map(|s| s.peers.iter().copied().collect())
        .unwrap_or_default();
    let mut runs = Runs {
        shared: Arc::clone(&shared),
        clients: run.clients,
        states,
        routes: HashMap::new(),
        tasks: JoinSet::new(),
        started: 0,
        accepting: true,
    };
    if primary_is_server {
        for peer in existing {
            runs.start(Some(peer));
        }
    } else {
        runs.start(None);
    }
    loop {
        if !runs.accepting && runs.tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            Some(_) = runs.tasks.join_next() => {}
            event = events.recv() => match event {
                Some(event) => runs.route(event, primary_is_server),
                None => break,
            },
            () = cancel.cancelled(), if runs.tasks.is_empty() => break,
        }
    }
    // Cancelled runs end at their next wait.
    while runs.tasks.join_next().await.is_some() {}
    sink.taps().unsubscribe(job);
    shared.update(ScenarioUpdate::Ended {
        runs: runs.started,
        refused: None,
    });
}
