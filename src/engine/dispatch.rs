//! Routes commands to session tasks. One task per session; a restart waits for the old task
//! to release its sockets before the new one binds, so stop/start on one port always works.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::jobs::{self, JobContext};
use super::load::{self, LoadJob};
use super::reactor::Reactor;
use super::scenario::{self, Attached, ScenarioJob};
use super::session::{Outcome, RelayCommand, SessionCommand, SessionContext};
use super::settings::EngineSettings;
use super::sink::EventSink;
use super::taps::SessionState;
use super::{relay, serial, tcp_client, tcp_server, tls_client, tls_server, udp, udp_group, ws};
use crate::load::LoadPlan;
use crate::protocol::{
    CloseReason, Command, Event, JobFailure, JobId, JobOutcome, Refusal, ScenarioRun,
    ScenarioUpdate, SendTarget, SessionId, Warning,
};
use crate::serial::SerialControl;
use crate::spec::{SessionKind, SessionSpec};

/// How long shutdown waits for sessions to close before giving up on them.
const SESSION_CLOSE_GRACE: Duration = Duration::from_secs(2);

struct RunningSession {
    commands: mpsc::UnboundedSender<SessionCommand>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
    kind: SessionKind,
    /// Its connect timeout: how long a scenario's step waits for a `reconnect` session.
    connect_limit: Duration,
    /// Background sends, by id; a finished job's token is simply never used again.
    jobs: HashMap<JobId, CancellationToken>,
}

/// Runs until [`Command::Shutdown`] or until every command sender is gone.
pub(super) async fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    sink: EventSink,
    settings: Arc<EngineSettings>,
) {
    let mut sessions: HashMap<SessionId, RunningSession> = HashMap::new();
    // Kept across stops and restarts, so reactions set on a stopped session apply later;
    // dropped when the session is forgotten.
    let mut reactions: HashMap<SessionId, watch::Sender<Arc<Reactor>>> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Start { id, spec } => {
                sink.taps().restart(id);
                start_session(&mut sessions, &mut reactions, (&sink, &settings), id, spec);
            }
            Command::Stop { id } => {
                if let Some(session) = sessions.get(&id) {
                    session.cancel.cancel();
                }
            }
            Command::Forget { id } => {
                if let Some(session) = sessions.remove(&id) {
                    session.cancel.cancel();
                    for job in session.jobs.values() {
                        job.cancel();
                    }
                }
                reactions.remove(&id);
            }
            Command::Send { id, target, data } => {
                let command = SessionCommand::Send {
                    target,
                    data,
                    ack: None,
                };
                forward(&sessions, &sink, id, command);
            }
            Command::Inject {
                id,
                target,
                leg,
                data,
            } => {
                let command = RelayCommand::Inject { target, leg, data };
                forward_relay(&sessions, &sink, id, command);
            }
            Command::Step { id, target, leg } => {
                forward_relay(&sessions, &sink, id, RelayCommand::Step { target, leg });
            }
            Command::SerialControl { id, control } => {
                forward_serial(&sessions, &sink, id, control);
            }
            Command::SetFaults { id, faults } => {
                forward_relay(&sessions, &sink, id, RelayCommand::SetFaults(faults));
            }
            Command::StartPeriodic {
                id,
                job,
                target,
                payload,
                interval_ms,
                count,
            } => {
                if let Some(context) = job_context(&mut sessions, &sink, id, job, target) {
                    tokio::spawn(jobs::periodic(context, payload, interval_ms, count));
                }
            }
            Command::SendFile {
                id,
                job,
                target,
                path,
            } => {
                let chunk_bytes = match sessions.get(&id).map(|s| s.kind.is_tcp()) {
                    Some(false) => jobs::UDP_FILE_CHUNK_BYTES,
                    _ => jobs::TCP_FILE_CHUNK_BYTES,
                };
                if let Some(context) = job_context(&mut sessions, &sink, id, job, target) {
                    tokio::spawn(jobs::send_file(context, path, chunk_bytes));
                }
            }
            Command::StartScenario { id, job, run } => {
                // Sessions the job starts itself are tapped before they start, so not even
                // their first bytes can slip by.
                let tapped = (!run.start.is_empty()).then(|| {
                    for (session, _) in &run.start {
                        sink.taps().restart(*session);
                    }
                    let tapped = tap(&sink, job, &run.session_ids(id));
                    for (session, spec) in run.start.clone() {
                        let engine = (&sink, &settings);
                        start_session(&mut sessions, &mut reactions, engine, session, spec);
                    }
                    tapped
                });
                start_scenario(&mut sessions, &sink, (id, job), *run, tapped);
            }
            Command::StartLoad { id, job, plan } => {
                let previous = sessions.remove(&id);
                sessions.insert(id, start_load(&sink, previous, (id, job), *plan));
            }
            Command::CancelJob { id, job } => {
                if let Some(token) = sessions.get(&id).and_then(|s| s.jobs.get(&job)) {
                    token.cancel();
                }
            }
            Command::SetReactions { id, reactions: new } => match Reactor::build(new) {
                Ok(reactor) => {
                    let sender = reactions
                        .entry(id)
                        .or_insert_with(|| watch::channel(Arc::default()).0);
                    let framing = sender.borrow().framing().clone();
                    sender.send_replace(Arc::new(reactor.with_framing(framing)));
                    sink.send(Event::ReactionsApplied { id });
                }
                Err(e) => sink.warning(id, Warning::RulesRejected(e)),
            },
            Command::SetReplyFraming { id, framing } => {
                let sender = reactions
                    .entry(id)
                    .or_insert_with(|| watch::channel(Arc::default()).0);
                let reactor = Reactor::clone(&sender.borrow()).with_framing(framing);
                sender.send_replace(Arc::new(reactor));
                sink.send(Event::ReactionsApplied { id });
            }
            Command::DisconnectPeer { id, peer } => {
                forward(&sessions, &sink, id, SessionCommand::DisconnectPeer(peer));
            }
            Command::Shutdown => break,
        }
    }
    for session in sessions.values() {
        session.cancel.cancel();
    }
    let tasks = sessions.into_values().map(|s| s.task);
    let all_closed = futures_join_all(tasks);
    tokio::time::timeout(SESSION_CLOSE_GRACE, all_closed)
        .await
        .ok(); // late ones are dropped with the runtime
}

async fn futures_join_all(tasks: impl Iterator<Item = JoinHandle<()>>) {
    for task in tasks {
        task.await.ok(); // a panicked session already reported nothing more
    }
}

fn forward(
    sessions: &HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    id: SessionId,
    command: SessionCommand,
) {
    let delivered = sessions
        .get(&id)
        .is_some_and(|s| !s.task.is_finished() && s.commands.send(command).is_ok());
    if !delivered {
        sink.warning(id, Warning::NotSent(Refusal::SessionNotRunning));
    }
}

/// Forwards a relay's own command; any other kind of session refuses it.
fn forward_relay(
    sessions: &HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    id: SessionId,
    command: RelayCommand,
) {
    let only = (
        SessionKind::is_relay as fn(SessionKind) -> bool,
        Refusal::NotARelay,
    );
    forward_to_kind(sessions, sink, id, only, SessionCommand::Relay(command));
}

/// Forwards a serial port's control; any other kind of session refuses it.
fn forward_serial(
    sessions: &HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    id: SessionId,
    control: SerialControl,
) {
    let serial = |kind| kind == SessionKind::Serial;
    let only = (serial as fn(SessionKind) -> bool, Refusal::NotASerialPort);
    forward_to_kind(sessions, sink, id, only, SessionCommand::Serial(control));
}

/// Forwards a command only some kinds take (`only.0`); a running session of another kind
/// refuses it with `only.1`.
fn forward_to_kind(
    sessions: &HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    id: SessionId,
    only: (fn(SessionKind) -> bool, Refusal),
    command: SessionCommand,
) {
    let (takes, refusal) = only;
    match sessions.get(&id) {
        Some(session) if !takes(session.kind) => sink.warning(id, Warning::NotSent(refusal)),
        _ => forward(sessions, sink, id, command),
    }
}

/// A job's context on a running session, or `None` (reported as a failed job) when the
/// session is not running.
fn job_context(
    sessions: &mut HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    id: SessionId,
    job: JobId,
    target: SendTarget,
) -> Option<JobContext> {
    let Some(session) = sessions.get_mut(&id).filter(|s| !s.task.is_finished()) else {
        sink.send(Event::JobEnded {
            id,
            job,
            done: 0,
            outcome: JobOutcome::Failed(JobFailure::NotRunning),
        });
        return None;
    };
    let cancel = session.cancel.child_token();
    session.jobs.insert(job, cancel.clone());
    Some(JobContext {
        id,
        job,
        sink: sink.clone(),
        commands: session.commands.clone(),
        cancel,
        session_cancel: session.cancel.clone(),
        target,
        refusals: Arc::default(),
    })
}

/// Starts (or restarts) session `id` with `spec`, after the previous one of that id has
/// released its sockets.
fn start_session(
    sessions: &mut HashMap<SessionId, RunningSession>,
    reactions: &mut HashMap<SessionId, watch::Sender<Arc<Reactor>>>,
    (sink, settings): (&EventSink, &Arc<EngineSettings>),
    id: SessionId,
    spec: SessionSpec,
) {
    let previous = sessions.remove(&id);
    let watch = reactions
        .entry(id)
        .or_insert_with(|| watch::channel(Arc::default()).0)
        .subscribe();
    let context = SessionContext {
        id,
        sink: sink.clone(),
        cancel: CancellationToken::new(),
        reactions: watch,
    };
    sessions.insert(id, start(context, spec, previous, Arc::clone(settings)));
}

/// A job's tap on `ids`: the events from now on, and each session's state now.
type Tapped = (mpsc::UnboundedReceiver<Event>, Vec<SessionState>);

fn tap(sink: &EventSink, job: JobId, ids: &[SessionId]) -> Tapped {
    let (tap, events) = mpsc::unbounded_channel();
    let states = sink.taps().subscribe(job, ids, &tap);
    // The taps hold their own senders; the channel ends when they are removed.
    (events, states)
}

/// Starts a scenario job on `id` and the other sessions its file names, all running; or
/// reports that it cannot run. `tapped`: the job's tap, already set (sessions it started).
fn start_scenario(
    sessions: &mut HashMap<SessionId, RunningSession>,
    sink: &EventSink,
    (id, job): (SessionId, JobId),
    run: ScenarioRun,
    tapped: Option<Tapped>,
) {
    let ids = run.session_ids(id);
    let mut attached = Vec::with_capacity(ids.len());
    for session_id in &ids {
        let Some(session) = sessions.get(session_id).filter(|s| !s.task.is_finished()) else {
            sink.taps().unsubscribe(job);
            sink.send(Event::Scenario {
                id,
                job,
                update: ScenarioUpdate::Ended {
                    runs: 0,
                    refused: Some(JobFailure::NotRunning),
                },
            });
            return;
        };
        attached.push(Attached {
            id: *session_id,
            kind: session.kind,
            connect_limit: session.connect_limit,
            commands: session.commands.clone(),
            session_cancel: session.cancel.clone(),
        });
    }
    let Some(primary) = sessions.get_mut(&id) else {
        return; // checked above
    };
    // Not the session's child: when the session ends, the job still reads why (the peer
    // closed, it stopped) from the events and reports it, instead of just vanishing.
    let cancel = CancellationToken::new();
    primary.jobs.insert(job, cancel.clone());
    // Tapped before the job runs: no event falls between the state and the tap.
    let (events, states) = tapped.unwrap_or_else(|| tap(sink, job, &ids));
    tokio::spawn(scenario::run(ScenarioJob {
        id,
        job,
        sink: sink.clone(),
        cancel,
        sessions: attached,
        run,
        events,
        states,
    }));
}

/// Starts a load run as session `id` (after the previous one of that id has released its
/// sockets): the session is its one job, which takes no sends.
fn start_load(
    sink: &EventSink,
    previous: Option<RunningSession>,
    (id, job): (SessionId, JobId),
    plan: LoadPlan,
) -> RunningSession {
    let previous_task = previous.map(|old| {
        old.cancel.cancel();
        old.task
    });
    let cancel = CancellationToken::new();
    let kind = plan.spec.kind;
    let connect_limit = tcp_client::connect_limit(&plan.spec);
    let load_job = LoadJob {
        id,
        job,
        sink: sink.clone(),
        cancel: cancel.clone(),
        plan,
    };
    let task = tokio::spawn(load::run(load_job, previous_task));
    // Sends to a load session find no receiver and are reported as not sent.
    let (commands, _) = mpsc::unbounded_channel();
    RunningSession {
        commands,
        cancel: cancel.clone(),
        task,
        kind,
        connect_limit,
        jobs: HashMap::from([(job, cancel)]),
    }
}

fn start(
    context: SessionContext,
    spec: SessionSpec,
    previous: Option<RunningSession>,
    settings: Arc<EngineSettings>,
) -> RunningSession {
    let previous_task = previous.map(|old| {
        old.cancel.cancel();
        old.task
    });
    let (commands, command_rx) = mpsc::unbounded_channel();
    let cancel = context.cancel.clone();
    let kind = spec.kind;
    let connect_limit = tcp_client::connect_limit(&spec);
    let task = tokio::spawn(async move {
        if let Some(old) = previous_task {
            old.await.ok(); // only its sockets matter, and they are closed either way
        }
        run_session(context, spec, command_rx, settings).await;
    });
    RunningSession {
        commands,
        cancel,
        task,
        kind,
        connect_limit,
        jobs: HashMap::new(),
    }
}

async fn run_session(
    context: SessionContext,
    spec: SessionSpec,
    commands: mpsc::UnboundedReceiver<SessionCommand>,
    settings: Arc<EngineSettings>,
) {
    let id = context.id;
    let sink = context.sink.clone();
    // A panic inside a session must not take the engine down: run it as its own task and
    // turn a panic into an event on this session.
    let task = tokio::spawn(async move {
        let files_dir = settings.files_dir.as_deref();
        match spec.kind {
            SessionKind::TcpServer => tcp_server::run(&context, &spec, commands).await,
            SessionKind::TcpClient => tcp_client::run(&context, &spec, commands).await,
            SessionKind::UdpServer => udp::run_server(&context, &spec, commands).await,
            SessionKind::UdpClient => udp::run_client(&context, &spec, commands).await,
            SessionKind::WsServer => ws::run_server(&context, &spec, commands, files_dir).await,
            SessionKind::WsClient => ws::run_client(&context, &spec, commands).await,
            SessionKind::UdpGroup => udp_group::run(&context, &spec, commands).await,
            SessionKind::TlsServer => tls_server::run(&context, &spec, commands, files_dir).await,
            SessionKind::TlsClient => tls_client::run(&context, &spec, commands).await,
            SessionKind::Relay => relay::run_tcp(&context, &spec, commands, files_dir).await,
            SessionKind::UdpRelay => relay::run_udp(&context, &spec, commands).await,
            SessionKind::Serial => serial::run(&context, &spec, commands).await,
        }
    });
    let outcome = match task.await {
        Ok(outcome) => outcome,
        Err(join_error) => Outcome::Ended(CloseReason::Internal {
            detail: join_error.to_string(),
        }),
    };
    let event = match outcome {
        Outcome::Stopped => Event::Stopped { id, reason: None },
        Outcome::StartFailed(reason) => Event::StartFailed { id, reason },
        Outcome::Ended(reason) => Event::Stopped {
            id,
            reason: Some(reason),
        },
    };
    sink.send(event);
}
