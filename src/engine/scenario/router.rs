//! Routes the events of a job's sessions to its runs: on a server, each connecting client
//! starts a run of its own (as [`ScenarioClients`] says) and gets its own traffic; anything
//! else goes to every run. The job ends when its runs are over or it is cancelled.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::job::{ScenarioJob, Shared};
use super::run::Run;
use crate::engine::taps::SessionState;
use crate::protocol::{Event, PeerId, ScenarioClients, ScenarioUpdate};

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
        let run = Run::new(
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
pub(in crate::engine) async fn run(job: ScenarioJob) {
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
