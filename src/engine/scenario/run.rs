//! One run of a scenario: its cases in order, each statement a step reported as it starts
//! and ends. A failed step ends its case; the next case starts without what the previous one
//! left unmatched; a cancelled job ends the run. Every wait takes in the sessions'
//! events, so what arrives during a `sleep` or a send is there for the next `expect`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::inbox::{Inbox, Link};
use super::job::Shared;
use crate::engine::jobs::{self, JobContext, TCP_FILE_CHUNK_BYTES, UDP_FILE_CHUNK_BYTES};
use crate::engine::session::SessionCommand;
use crate::engine::taps::SessionState;
use crate::protocol::{
    Event, Gone, JobFailure, JobOutcome, PeerId, Refusal, ScenarioUpdate, SendTarget, StepFailure,
    StepOutcome, Waiting,
};
use crate::scenario::{Action, ExpectSpec, Statement, Times, Vars, Wait};

/// How long `close` waits for the connection to be gone.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// What the statements after a step do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Go on.
    Continue,
    /// A step failed: the case ends.
    Failed,
    /// The connection closed inside `repeat forever`: the loop ends, without failing.
    Interrupted,
    /// The job was cancelled: the run ends.
    Cancelled,
}

/// What woke a wait.
enum Woke {
    Event,
    Deadline,
    Cancelled,
}

/// One run: against a server's client (`peer`), or on client sessions.
pub(super) struct Run {
    shared: Arc<Shared>,
    number: u64,
    peer: Option<PeerId>,
    events: mpsc::UnboundedReceiver<Event>,
    inboxes: Vec<Inbox>,
    vars: Vars,
    /// `repeat forever` loops the current step is inside.
    forever: u32,
}

type StepFuture<'a> = Pin<Box<dyn Future<Output = Flow> + Send + 'a>>;

impl Run {
    pub(super) fn new(
        shared: Arc<Shared>,
        number: u64,
        peer: Option<PeerId>,
        events: mpsc::UnboundedReceiver<Event>,
        states: &[SessionState],
    ) -> Self {
        let framing = &shared.scenario.framing;
        let inboxes = shared
            .sessions
            .iter()
            .enumerate()
            .map(|(index, session)| {
                let messages = session.kind.is_udp() || session.kind.is_websocket();
                let mut inbox = Inbox::new(framing, messages);
                let state = states.get(index).cloned().unwrap_or_default();
                // A server run's own client is connected: that is its link.
                if state.up || (index == 0 && peer.is_some()) {
                    inbox.link = Link::Up;
                } else if let Some(reason) = &state.ended {
                    inbox.link = Link::Down(reason.clone());
                }
                inbox.waiting = state.waiting;
                inbox.peer = if index == 0 && peer.is_some() {
                    peer
                } else if session.kind.is_server() {
                    None
                } else {
                    state.peers.iter().next().copied()
                };
                inbox
            })
            .collect();
        let vars = Vars::with(shared.vars.iter().cloned());
        Self {
            shared,
            number,
            peer,
            events,
            inboxes,
            vars,
            forever: 0,
        }
    }

    fn update(&self, update: ScenarioUpdate) {
        self.shared.update(update);
    }

    /// Runs every case, then reports the run's end.
    pub(super) async fn execute(mut self) {
        let run = self.number;
        self.update(ScenarioUpdate::RunStarted {
            run,
            peer: self.peer,
        });
        let scenario = Arc::clone(&self.shared.scenario);
        let (mut passed, mut failed) = (0, 0);
        for (case, body) in scenario.cases.iter().enumerate() {
            self.update(ScenarioUpdate::CaseStarted { run, case });
            let started = Instant::now();
            if case > 0 {
                // Cases stand alone: what the previous one left unmatched (it is in the log)
                // would only confuse this one.
                self.take_ready();
                for inbox in &mut self.inboxes {
                    inbox.clear();
                }
            }
            self.vars.reset(self.shared.vars.iter().cloned());
            let mut flow = self.block(&scenario.prelude).await;
            if flow == Flow::Continue {
                flow = self.block(&body.body).await;
            }
            let ok = matches!(flow, Flow::Continue | Flow::Interrupted);
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            self.update(ScenarioUpdate::CaseEnded {
                run,
                case,
                passed: ok,
                elapsed: started.elapsed(),
            });
            if flow == Flow::Cancelled {
                break;
            }
        }
        self.update(ScenarioUpdate::RunEnded {
            run,
            passed,
            failed,
        });
    }

    /// Runs statements in order until one does not let the rest go on.
    fn block<'a>(&'a mut self, statements: &'a [Statement]) -> StepFuture<'a> {
        Box::pin(async move {
            for statement in statements {
                let flow = self.step(statement).await;
                if flow != Flow::Continue {
                    return flow;
                }
            }
            Flow::Continue
        })
    }

    /// One statement, reported as a step.
    async fn step(&mut self, statement: &Statement) -> Flow {
        let run = self.number;
        let at = statement.pos;
        self.update(ScenarioUpdate::StepStarted { run, at });
        let started = Instant::now();
        let (mut outcome, inner) = self.act(statement).await;
        let mut flow = match &outcome {
            StepOutcome::Passed { .. } => Flow::Continue,
            StepOutcome::Failed(StepFailure::Cancelled) => Flow::Cancelled,
            StepOutcome::Failed(_) => Flow::Failed,
            StepOutcome::Aborted => Flow::Failed,
            StepOutcome::Interrupted => Flow::Interrupted,
        };
        let gone = matches!(
            outcome,
            StepOutcome::Failed(StepFailure::Closed { .. } | StepFailure::SessionDown(_))
        );
        if gone && self.forever > 0 {
            outcome = StepOutcome::Interrupted;
            flow = Flow::Interrupted;
        }
        // A repeat ends as its body did (failed, cancelled).
        if let Some(inner) = inner {
            flow = inner;
        }
        self.update(ScenarioUpdate::StepEnded {
            run,
            at,
            elapsed: started.elapsed(),
            outcome,
        });
        flow
    }

    /// Carries out a statement; a `repeat` also says how its body ended.
    async fn act(&mut self, statement: &Statement) -> (StepOutcome, Option<Flow>) {
        let session = statement.session;
        let needs_link = !matches!(
            statement.action,
            Action::Set { .. } | Action::Sleep { .. } | Action::Repeat { .. }
        );
        if needs_link && let Err(failure) = self.ensure_up(session).await {
            return (StepOutcome::Failed(failure), None);
        }
        let result = match &statement.action {
            Action::Send { payload, options } => {
                self.vars.next_seq();
                match self.vars.payload(payload, options) {
                    Ok(bytes) => self.send(session, Bytes::from(bytes)).await,
                    Err(e) => Err(StepFailure::Expand(e)),
                }
            }
            Action::SendFile { path } => self.send_file(session, path).await,
            Action::Expect { expect, within } => self.expect(session, expect, *within).await,
            Action::ExpectNothing { within } => self.expect_nothing(session, *within).await,
            Action::ExpectClosed { within } => self.expect_closed(session, *within).await,
            Action::Set { name, value } => match self.vars.text(value) {
                Ok(value) => {
                    self.vars.set(name, value.clone());
                    Ok(vec![(name.clone(), value)])
                }
                Err(e) => Err(StepFailure::Expand(e)),
            },
            Action::Sleep { duration } => self.sleep(*duration).await,
            Action::Close => self.close(session).await,
            Action::Repeat { times, body } => return self.repeat(session, times, body).await,
        };
        let outcome = match result {
            Ok(captures) => StepOutcome::Passed { captures },
            Err(failure) => StepOutcome::Failed(failure),
        };
        (outcome, None)
    }

    async fn repeat(
        &mut self,
        session: usize,
        times: &Times,
        body: &[Statement],
    ) -> (StepOutcome, Option<Flow>) {
        let ended = |flow: Flow| match flow {
            Flow::Continue => (
                StepOutcome::Passed {
                    captures: Vec::new(),
                },
                None,
            ),
            Flow::Interrupted => (StepOutcome::Interrupted, Some(Flow::Interrupted)),
            other => (StepOutcome::Aborted, Some(other)),
        };
        match times {
            Times::Count(count) => {
                for _ in 0..*count {
                    let flow = self.block(body).await;
                    if flow != Flow::Continue {
                        return ended(flow);
                    }
                }
                ended(Flow::Continue)
            }
            Times::Forever => {
                self.forever += 1;
                let flow = loop {
                    if self.gone(session).is_some() {
                        break Flow::Continue;
                    }
                    match self.block(body).await {
                        Flow::Continue => tokio::task::yield_now().await,
                        Flow::Interrupted => break Flow::Continue,
                        other => break other,
                    }
                    if self.shared.cancel.is_cancelled() {
                        break Flow::Cancelled;
                    }
                };
                self.forever -= 1;
                ended(flow)
            }
            Times::Until { expect, within } => {
                let deadline = deadline(*within);
                let mut passed_over = Vec::new();
                loop {
                    let flow = self.block(body).await;
                    if flow != Flow::Continue {
                        return ended(flow);
                    }
                    self.take_ready();
                    let expectation = match expect.compile(&self.vars) {
                        Ok(e) => e,
                        Err(e) => {
                            let failure = StepFailure::Expand(e);
                            return (StepOutcome::Failed(failure), None);
                        }
                    };
                    let inbox = &mut self.inboxes[session];
                    if let Some(captures) = inbox.take_match(&expectation, &mut passed_over) {
                        self.capture(&captures);
                        return (StepOutcome::Passed { captures }, None);
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        let failure = self.timeout(session, expect, *within, passed_over);
                        return (StepOutcome::Failed(failure), None);
                    }
                }
            }
        }
    }

    /// Waits until `session` is known to be up; fails when it is down, or when it waits for
    /// its peer (`reconnect`) longer than its connect timeout.
    async fn ensure_up(&mut self, session: usize) -> Result<(), StepFailure> {
        self.take_ready();
        let limit = self.shared.sessions[session].connect_limit;
        let mut waiting_since: Option<Instant> = None;
        loop {
            let inbox = &self.inboxes[session];
            match &inbox.link {
                Link::Up => return Ok(()),
                Link::Down(reason) => return Err(StepFailure::SessionDown(reason.clone())),
                Link::Unknown => {}
            }
            let deadline = inbox.waiting.as_ref().and_then(|_| {
                let since = *waiting_since.get_or_insert_with(Instant::now);
                since.checked_add(limit)
            });
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => {
                    let why = self.inboxes[session].waiting.clone();
                    let Some(why) = why else { continue }; // it started meanwhile
                    return Err(StepFailure::NotConnected { why, waited: limit });
                }
            }
        }
    }

    /// Why `session`'s connection is gone, if it is.
    fn gone(&self, session: usize) -> Option<Gone> {
        let inbox = &self.inboxes[session];
        match (&inbox.closed, &inbox.link) {
            (Some(reason), _) | (None, Link::Down(reason)) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Where a send on `session` goes: this run's client on the first session of a server,
    /// else the session's connection (or every client of another server).
    fn target(&self, session: usize) -> SendTarget {
        match (session, self.peer) {
            (0, Some(peer)) => SendTarget::Peer(peer),
            _ => SendTarget::All,
        }
    }

    async fn send(
        &mut self,
        session: usize,
        data: Bytes,
    ) -> Result<Vec<(String, String)>, StepFailure> {
        let commands = self.shared.sessions[session].commands.clone();
        let target = self.target(session);
        let sent = jobs::send_and_wait(&commands, target, data);
        tokio::pin!(sent);
        loop {
            let event = tokio::select! {
                biased;
                () = self.shared.cancel.cancelled() => return Err(StepFailure::Cancelled),
                result = &mut sent => {
                    return result.map(|()| Vec::new()).map_err(StepFailure::NotSent);
                }
                event = self.events.recv() => event,
            };
            match event {
                Some(event) => self.absorb(event),
                None => return Err(StepFailure::Cancelled),
            }
        }
    }

    async fn send_file(
        &mut self,
        session: usize,
        path: &str,
    ) -> Result<Vec<(String, String)>, StepFailure> {
        let attached = &self.shared.sessions[session];
        let chunk = if attached.kind.is_udp() {
            UDP_FILE_CHUNK_BYTES
        } else {
            TCP_FILE_CHUNK_BYTES
        };
        let context = JobContext {
            id: attached.id,
            job: self.shared.job,
            sink: self.shared.sink.clone(),
            commands: attached.commands.clone(),
            cancel: self.shared.cancel.clone(),
            session_cancel: attached.session_cancel.clone(),
            target: self.target(session),
            refusals: Arc::default(),
        };
        let path = self.shared.base_dir.join(path);
        let name = path.display().to_string();
        let (_, outcome) = jobs::stream_file(&context, &path, &name, chunk).await;
        match outcome {
            JobOutcome::Completed => Ok(Vec::new()),
            JobOutcome::Cancelled => Err(StepFailure::Cancelled),
            JobOutcome::Failed(why) => Err(StepFailure::NotSent(why)),
            JobOutcome::FileFailed(why) => Err(StepFailure::File(why)),
        }
    }

    async fn expect(
        &mut self,
        session: usize,
        expect: &ExpectSpec,
        within: Wait,
    ) -> Result<Vec<(String, String)>, StepFailure> {
        let expectation = expect.compile(&self.vars).map_err(StepFailure::Expand)?;
        let deadline = deadline(within);
        let mut passed_over = Vec::new();
        self.take_ready();
        loop {
            let inbox = &mut self.inboxes[session];
            if let Some(captures) = inbox.take_match(&expectation, &mut passed_over) {
                self.capture(&captures);
                return Ok(captures);
            }
            if let Some(reason) = self.gone(session) {
                let mut received = passed_over;
                received.extend(self.inboxes[session].pending());
                return Err(StepFailure::Closed {
                    expected: expect.written.clone(),
                    reason,
                    received: Bytes::from(received),
                });
            }
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => return Err(self.timeout(session, expect, within, passed_over)),
            }
        }
    }

    fn timeout(
        &self,
        session: usize,
        expect: &ExpectSpec,
        within: Wait,
        mut passed_over: Vec<u8>,
    ) -> StepFailure {
        passed_over.extend(self.inboxes[session].pending());
        StepFailure::Timeout {
            expected: expect.written.clone(),
            within: match within {
                Wait::Limit(limit) => limit,
                Wait::Forever => Duration::MAX,
            },
            received: Bytes::from(passed_over),
        }
    }

    async fn expect_nothing(
        &mut self,
        session: usize,
        within: Duration,
    ) -> Result<Vec<(String, String)>, StepFailure> {
        let before = self.inboxes[session].received;
        let deadline = Instant::now().checked_add(within);
        loop {
            let inbox = &self.inboxes[session];
            let new = inbox.received.saturating_sub(before);
            if new > 0 {
                let pending = inbox.pending();
                let tail = if inbox.framed() {
                    pending
                } else {
                    let new = usize::try_from(new).unwrap_or(usize::MAX);
                    pending[pending.len().saturating_sub(new)..].to_vec()
                };
                return Err(StepFailure::Unexpected {
                    received: Bytes::from(tail),
                });
            }
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => return Ok(Vec::new()),
            }
        }
    }

    async fn expect_closed(
        &mut self,
        session: usize,
        within: Wait,
    ) -> Result<Vec<(String, String)>, StepFailure> {
        let deadline = deadline(within);
        self.take_ready();
        loop {
            if self.gone(session).is_some() {
                return Ok(Vec::new());
            }
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => {
                    return Err(StepFailure::NotClosed {
                        within: match within {
                            Wait::Limit(limit) => limit,
                            Wait::Forever => Duration::MAX,
                        },
                    });
                }
            }
        }
    }

    async fn sleep(&mut self, duration: Duration) -> Result<Vec<(String, String)>, StepFailure> {
        let deadline = Instant::now().checked_add(duration);
        loop {
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => return Ok(Vec::new()),
            }
        }
    }

    async fn close(&mut self, session: usize) -> Result<Vec<(String, String)>, StepFailure> {
        let attached = &self.shared.sessions[session];
        let Some(peer) = self.inboxes[session].peer else {
            return Err(StepFailure::NotSent(JobFailure::Refused(Refusal::NoClient)));
        };
        if self.gone(session).is_some() {
            return Ok(Vec::new());
        }
        let udp = attached.kind.is_udp();
        if attached
            .commands
            .send(SessionCommand::DisconnectPeer(peer))
            .is_err()
        {
            return Err(StepFailure::SessionDown(Gone::Stopped));
        }
        if udp {
            // A UDP peer is only forgotten; there is no connection to wait for.
            return Ok(Vec::new());
        }
        let deadline = Instant::now().checked_add(CLOSE_LIMIT);
        while self.gone(session).is_none() {
            match self.wait(deadline).await {
                Woke::Event => {}
                Woke::Cancelled => return Err(StepFailure::Cancelled),
                Woke::Deadline => {
                    return Err(StepFailure::NotClosed {
                        within: CLOSE_LIMIT,
                    });
                }
            }
        }
        Ok(Vec::new())
    }

    fn capture(&mut self, captures: &[(String, String)]) {
        for (name, value) in captures {
            self.vars.set(name, value.clone());
        }
    }

    /// Takes in every event already queued, without waiting.
    fn take_ready(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.absorb(event);
        }
    }

    /// Waits for the next event (taken in), the deadline, or the job's cancel.
    async fn wait(&mut self, deadline: Option<Instant>) -> Woke {
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            biased;
            () = self.shared.cancel.cancelled() => return Woke::Cancelled,
            event = self.events.recv() => event,
            () = sleep => return Woke::Deadline,
        };
        match event {
            Some(event) => {
                self.absorb(event);
                Woke::Event
            }
            None => Woke::Cancelled,
        }
    }

    /// Files an event in the inbox of its session.
    fn absorb(&mut self, event: Event) {
        let Some(index) = self.shared.index_of(event.session()) else {
            return;
        };
        let is_server = self.shared.sessions[index].kind.is_server();
        let own_client = index == 0 && self.peer.is_some();
        let inbox = &mut self.inboxes[index];
        match event {
            Event::Started { .. } => {
                inbox.link = Link::Up;
                inbox.waiting = None;
            }
            Event::Note { note, .. } => {
                if let Some(waiting) = Waiting::of(&note) {
                    inbox.waiting = Some(waiting);
                }
            }
            Event::StartFailed { reason, .. } => inbox.link = Link::Down(Gone::StartFailed(reason)),
            Event::Stopped { reason, .. } => {
                let gone = reason.map_or(Gone::Stopped, Gone::Closed);
                inbox.closed.get_or_insert_with(|| gone.clone());
                inbox.link = Link::Down(gone);
            }
            Event::PeerConnected { peer, .. } if !is_server && !own_client => {
                inbox.peer = Some(peer);
                inbox.closed = None;
            }
            Event::PeerDisconnected { peer, reason, .. } if inbox.peer == Some(peer) => {
                inbox.closed = Some(Gone::Closed(reason));
            }
            Event::Traffic { data, .. } => inbox.push(&data),
            _ => {}
        }
    }
}

/// When a wait of `within` from now ends (`None`: never).
fn deadline(within: Wait) -> Option<Instant> {
    match within {
        Wait::Limit(limit) => Instant::now().checked_add(limit),
        Wait::Forever => None,
    }
}
