//! The driver of one headless run: it starts the sessions (and `--scenario`'s job), applies
//! each engine event to [`Sessions`] and has the [`Printer`] print what it added, sends what
//! an event calls for (`--send` when a connection opens, `--send-file` jobs, `--repeat`),
//! and decides when the run is over (`--once`, `--duration-ms`, a signal, a session that
//! cannot start).

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, select};

use super::frames;
use super::output::{Formatter, Lifecycle};
use super::plan::{Payload, Plan, sends_to_one_address};
use super::printer::{Printer, lifecycle_of, next_seq};
use super::scenario;
use crate::engine::EngineHandle;
use crate::intake::Intake;
use crate::model::Sessions;
use crate::protocol::{
    Command, Direction, Event, FileError, JobId, JobOutcome, PeerId, Reactions, SendTarget,
    SessionId,
};
use crate::scenario::sending::SendPayload;
use crate::spec::{SessionKind, SessionSpec};

/// Memory bound of one session's log in headless mode without `--framing`: each entry is
/// printed as soon as it is added, so only the entry before it (decoding context for a
/// character split across two reads) must stay. Three 4 MiB arena chunks at most.
pub const HEADLESS_LOG_MAX_BYTES: usize = 12 * 1024 * 1024;

/// How long a udp-client with `--once` listens for replies after its send when no
/// `--duration-ms` is given.
pub const DEFAULT_UDP_LISTEN_MS: u64 = 1000;

/// One `--send-file` send to one target.
#[derive(Debug, Clone)]
struct FileSend {
    id: SessionId,
    /// The client, connection or UDP target it goes to.
    peer: crate::protocol::PeerId,
    path: PathBuf,
    /// `--repeat`: sends left after this one; `None` until the run ends.
    left: Option<u64>,
}

/// Why the run ended.
#[derive(Debug)]
pub(super) enum End {
    /// `--once`, `--duration-ms`, a signal, or every session ended by itself.
    Normal,
    /// A session could not start; the reason was already printed to stderr.
    SessionFailed,
    /// stdout was closed (e.g. `| head -1`): nobody reads any more.
    OutputClosed,
    /// Writing to stdout failed for another reason.
    OutputFailed(io::Error),
    /// The engine thread is gone (it panicked).
    EngineGone,
    /// `--send-file` could not be opened or read part-way; the reason was already printed.
    SendFileFailed,
    /// `--scenario` ended with a failed case.
    ScenarioFailed,
}

impl End {
    /// The end a failed write to stdout means.
    fn output(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            End::OutputClosed
        } else {
            End::OutputFailed(error)
        }
    }
}

/// Reacts to engine events for one headless run.
pub(super) struct Driver<W: Write> {
    plan: Plan,
    /// Taken by [`Driver::finish`] to shut the engine down.
    engine: Option<EngineHandle>,
    model: Sessions,
    /// Prints what each event added to the log.
    printer: Printer<W>,
    started_at: Instant,
    /// `--duration-ms` counted from the start.
    deadline: Option<Instant>,
    /// `--once` for a udp-client: the end of its listen window after the send.
    listen_deadline: Option<Instant>,
    /// `--once`: UDP sessions whose first exchange happened (a udp-client has its target, a
    /// udp-server got its first datagram); they end (or start listening) once their sends
    /// have gone out.
    udp_exchanged: HashSet<SessionId>,
    /// `--once`: sends queued on UDP sessions whose outcome has not been reported yet.
    udp_pending_sends: HashMap<SessionId, u32>,
    /// `--send-file` jobs still running (a UDP session with `--once` settles only when its
    /// file jobs have ended and no repeat is scheduled).
    file_jobs: HashMap<JobId, FileSend>,
    /// `--send-file --repeat`: file sends waiting for their interval, and when they start.
    file_repeats: Vec<(Instant, FileSend)>,
    /// Sessions that have announced their first peer (for a udp-client or udp-group, its
    /// target or group).
    peers_seen: HashSet<SessionId>,
    /// The last `--repeat` job id handed out.
    next_job: u64,
    /// `--repeat` jobs by the connection they send to, cancelled when it closes: the repeat is
    /// per connection, and a `reconnect` client's next connection starts its own.
    repeat_jobs: HashMap<(SessionId, PeerId), JobId>,
    /// The engine's events, taken in as the window takes them (flow control, capture, model).
    intake: Intake,
    /// `--capture`: the pcapng writer thread, fed every event.
    capture: Option<crate::capture::CaptureThread>,
    /// `--scenario`: its job and how its steps are printed.
    scenario: Option<(JobId, scenario::ScenarioOutput)>,
}

impl<W: Write> Driver<W> {
    /// A driver for `plan` on `engine`, taking its events from `intake`, printing to `out`.
    pub(super) fn new(plan: Plan, engine: EngineHandle, intake: Intake, out: W) -> Self {
        let started_at = Instant::now();
        // With --once, a udp-client's --duration-ms is its listen window after the send.
        let deadline = if plan.once && plan.has_udp_client() {
            None
        } else {
            plan.duration.and_then(|d| started_at.checked_add(d))
        };
        let framed = (plan.framing != crate::codec::framing::Framing::Raw)
            .then(|| frames::FramedOutput::new(plan.framing.clone()));
        // Raw output prints each entry as it is added, so a small log does. Framing cuts
        // frames out of the log, and a frame must still be there when it completes.
        let model = if framed.is_some() {
            Sessions::default()
        } else {
            Sessions::new(HEADLESS_LOG_MAX_BYTES)
        };
        let formatter = Formatter {
            format: plan.format,
            encoding: plan.encoding,
            show_session: plan.sessions.len() > 1,
        };
        let printer = Printer::new(formatter, out, plan.quiet, framed);
        Self {
            plan,
            engine: Some(engine),
            intake,
            model,
            printer,
            started_at,
            deadline,
            listen_deadline: None,
            udp_exchanged: HashSet::new(),
            udp_pending_sends: HashMap::new(),
            file_jobs: HashMap::new(),
            file_repeats: Vec::new(),
            peers_seen: HashSet::new(),
            next_job: 0,
            repeat_jobs: HashMap::new(),
            capture: None,
            scenario: None,
        }
    }

    /// Creates the sessions, opens `--capture` (before any socket, so it sees every byte),
    /// then starts them.
    pub(super) fn start_sessions(&mut self) -> Result<(), crate::capture::CaptureError> {
        let mut created = Vec::new();
        for spec in self.plan.sessions.clone() {
            let id = self.model.create(spec.clone());
            if let Some(session) = self.model.get_mut(id) {
                session.mark_starting();
            }
            self.printer.name(id, spec.to_string());
            created.push((id, spec));
        }
        if let Some(path) = &self.plan.capture {
            let sessions: Vec<_> = created
                .iter()
                .map(|(id, spec)| (*id, spec.clone(), None))
                .collect();
            self.capture = Some(crate::capture::CaptureThread::start(path, None, &sessions)?);
        }
        // The scenario's sessions are started by its job, which watches them from the start.
        let scenario_sessions = self
            .plan
            .scenario
            .as_ref()
            .map_or(0, |s| s.scenario.sessions.len().max(1).min(created.len()));
        let mut scenario_start = Vec::new();
        for (index, (id, spec)) in created.into_iter().enumerate() {
            // --echo is the engine's: a read is echoed where it is read, so the echo of a
            // client's last bytes goes out before its FIN closes the connection.
            let echo = self.plan.echo && spec.kind.is_server();
            if !self.plan.rules.is_empty() || echo {
                let reactions = Reactions {
                    on_connect: None,
                    rules: self.plan.rules.clone(),
                    echo,
                };
                self.send(Command::SetReactions { id, reactions });
                // --auto-reply with --framing matches each frame, as the window does.
                let framing = self.plan.framing.clone();
                self.send(Command::SetReplyFraming { id, framing });
            }
            if index < scenario_sessions {
                scenario_start.push((id, spec));
            } else {
                self.send(Command::Start { id, spec });
            }
        }
        self.start_scenario(scenario_start);
        Ok(())
    }

    /// `--scenario`: a job on the first session (and the others the file names), run
    /// against every client of a server.
    fn start_scenario(&mut self, start: Vec<(SessionId, SessionSpec)>) {
        let Some(loaded) = self.plan.scenario.clone() else {
            return;
        };
        let Some(&(first, _)) = start.first() else {
            return;
        };
        let others = start.iter().skip(1).map(|(id, _)| *id).collect();
        self.next_job += 1;
        let job = JobId(self.next_job);
        self.send(Command::StartScenario {
            id: first,
            job,
            run: Box::new(crate::protocol::ScenarioRun {
                scenario: std::sync::Arc::clone(&loaded.scenario),
                others,
                start,
                vars: loaded.vars.clone(),
                clients: crate::protocol::ScenarioClients::Each,
                base_dir: loaded.base_dir.clone(),
            }),
        });
        self.scenario = Some((
            job,
            scenario::ScenarioOutput::new(&loaded, self.plan.format),
        ));
    }

    /// Prints a scenario update; the run ends when a client session's scenario has.
    fn scenario_update(&mut self, update: &crate::protocol::ScenarioUpdate) -> Option<End> {
        let (_, output) = self.scenario.as_mut()?;
        let lines = output.lines(update);
        let failed = output.failed;
        if self.printer.printing() {
            for line in lines {
                if let Err(e) = self.printer.line(line) {
                    return Some(End::output(e));
                }
            }
        }
        if let crate::protocol::ScenarioUpdate::Ended { .. } = update {
            return Some(if failed {
                End::ScenarioFailed
            } else {
                End::Normal
            });
        }
        None
    }

    fn send(&self, command: Command) {
        if let Some(engine) = &self.engine {
            engine.send(command);
        }
    }

    /// When the run ends by time (`--duration-ms`, a udp-client's listen window).
    fn end_deadline(&self) -> Option<Instant> {
        match (self.deadline, self.listen_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next time the driver must wake up: the end, or a file send's repeat.
    fn next_deadline(&self) -> Option<Instant> {
        let repeat = self.file_repeats.iter().map(|(at, _)| *at).min();
        match (self.end_deadline(), repeat) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Starts the `--send-file --repeat` sends whose interval has passed.
    fn start_due_repeats(&mut self, now: Instant) {
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.file_repeats)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.file_repeats = waiting;
        for (_, send) in due {
            self.start_file_job(send);
        }
    }

    pub(super) fn run_until_end(&mut self, signals: &Receiver<()>) -> End {
        let events = self.intake.receiver().clone();
        loop {
            let timer = match self.next_deadline() {
                Some(at) => crossbeam_channel::at(at),
                None => crossbeam_channel::never(),
            };
            // Idle framing ends frames on silence: wake up to notice it.
            let idle_tick = match self.printer.framed() {
                Some(framed) if framed.is_idle() => crossbeam_channel::after(IDLE_TICK),
                _ => crossbeam_channel::never(),
            };
            select! {
                recv(events) -> event => match event {
                    Ok(event) => {
                        if let Some(end) = self.handle(event) {
                            return end;
                        }
                    }
                    Err(_) => return End::EngineGone,
                },
                recv(signals) -> _ => return End::Normal,
                recv(timer) -> _ => {
                    let now = Instant::now();
                    if self.end_deadline().is_some_and(|at| at <= now) {
                        return End::Normal;
                    }
                    self.start_due_repeats(now);
                }
                recv(idle_tick) -> _ => {
                    if let Err(end) = self.print_idle_frames(now_micros()) {
                        return end;
                    }
                }
            }
        }
    }

    fn kind_of(&self, id: SessionId) -> Option<SessionKind> {
        self.model.get(id).map(|s| s.spec.kind)
    }

    /// Applies one event, prints what it added to the log, and reacts to it. Returns how
    /// the run ends, if this event ends it.
    fn handle(&mut self, event: Event) -> Option<End> {
        if let Event::Scenario { job, update, .. } = &event
            && self.scenario.as_ref().is_some_and(|(j, _)| j == job)
        {
            return self.scenario_update(update);
        }
        let id = event.session();
        let kind = self.kind_of(id)?;
        // Before `react`, which forgets an ended file job.
        let file_failure = self.file_failure(&event);
        let reaction = self.react(kind, &event);
        let failure = match &event {
            Event::StartFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        if let Err(end) = self.apply_and_print(event) {
            return Some(end);
        }
        if let Some(reason) = failure {
            let label = self.printer.label(id).unwrap_or("session");
            eprintln!("sockdbg: {label}: {reason}");
            return Some(End::SessionFailed);
        }
        if let Some(why) = file_failure {
            let label = self.printer.label(id).unwrap_or("session");
            eprintln!("sockdbg: {label}: --send-file: {why}");
            return Some(End::SendFileFailed);
        }
        if reaction.is_some() {
            return reaction;
        }
        let all_ended = self.model.iter().all(|s| !s.is_active());
        all_ended.then_some(End::Normal)
    }

    /// Sends what an event calls for (`--send`) and tracks `--once`. (`--echo` and `--reply`
    /// are the engine's own reactions, set before the sessions start.)
    fn react(&mut self, kind: SessionKind, event: &Event) -> Option<End> {
        let once = self.plan.once;
        let id = event.session();
        match event {
            Event::PeerConnected { peer, .. } => {
                // A udp-client's or udp-group's first peer is its target (or group); the
                // others are responders, which get no copy of the payload.
                let first = self.peers_seen.insert(id);
                let is_target = first || !sends_to_one_address(kind);
                match self.plan.payload.clone().filter(|_| is_target) {
                    Some(Payload::Bytes(payload)) => {
                        self.repeat_to_peer(kind, id, SendTarget::Peer(*peer), payload);
                    }
                    Some(Payload::File(path)) => {
                        // --repeat N sends the file N times (0: until the run ends).
                        let left = match self.plan.repeat {
                            Some((count, _)) => count.map(|n| n.saturating_sub(1)),
                            None => Some(0),
                        };
                        self.start_file_job(FileSend {
                            id,
                            peer: *peer,
                            path,
                            left,
                        });
                    }
                    None => {}
                }
                if once && sends_to_one_address(kind) {
                    self.udp_exchanged.insert(id);
                }
            }
            Event::Traffic {
                dir: Direction::Rx, ..
            }
            | Event::Datagrams { .. }
                if once && kind == SessionKind::UdpServer =>
            {
                self.udp_exchanged.insert(id);
                if self.plan.echo {
                    // The engine echoes each datagram: the run ends once those sends are
                    // reported.
                    let datagrams = match event {
                        Event::Datagrams { datagrams, .. } => datagrams.len(),
                        _ => 1,
                    };
                    *self.udp_pending_sends.entry(id).or_default() +=
                        u32::try_from(datagrams).unwrap_or(u32::MAX);
                }
            }
            Event::Traffic {
                dir: Direction::Tx, ..
            }
            | Event::Warning { .. } => {
                // A send ends with either its traffic or a warning saying why it failed.
                if let Some(pending) = self.udp_pending_sends.get_mut(&id) {
                    *pending = pending.saturating_sub(1);
                }
            }
            Event::JobEnded { job, outcome, .. } => {
                if let Some(send) = self.file_jobs.remove(job) {
                    self.repeat_file(send, outcome);
                }
                self.repeat_jobs.retain(|_, j| j != job);
            }
            Event::PeerDisconnected { peer, .. } => {
                if let Some(job) = self.repeat_jobs.remove(&(id, *peer)) {
                    self.send(Command::CancelJob { id, job });
                }
                self.file_repeats
                    .retain(|(_, send)| (send.id, send.peer) != (id, *peer));
                if once && kind.is_tcp() {
                    return Some(End::Normal);
                }
            }
            _ => {}
        }
        let settled = self.udp_exchanged.contains(&id)
            && self.udp_pending_sends.get(&id).copied().unwrap_or(0) == 0
            && !self.file_jobs.values().any(|send| send.id == id)
            && !self.file_repeats.iter().any(|(_, send)| send.id == id);
        if !settled {
            return None;
        }
        if sends_to_one_address(kind) {
            self.open_listen_window();
            return None;
        }
        Some(End::Normal)
    }

    /// Queues a send; with `--once`, a UDP session's end waits until it has gone out.
    fn send_to_peer(&mut self, kind: SessionKind, id: SessionId, target: SendTarget, data: Bytes) {
        self.send(Command::Send { id, target, data });
        if self.plan.once && !kind.is_tcp() {
            *self.udp_pending_sends.entry(id).or_default() += 1;
        }
    }

    /// `--send-file`: one engine file job for this target, streaming the file in chunks
    /// (64 KiB writes over TCP, one 1024-byte datagram per chunk over UDP).
    fn start_file_job(&mut self, send: FileSend) {
        self.next_job += 1;
        let job = JobId(self.next_job);
        self.send(Command::SendFile {
            id: send.id,
            job,
            target: SendTarget::Peer(send.peer),
            path: send.path.clone(),
        });
        self.file_jobs.insert(job, send);
    }

    /// `--send-file --repeat`: schedules the next send of a file job that completed, if
    /// repeats are left. A job that failed or was cancelled is not repeated.
    fn repeat_file(&mut self, send: FileSend, outcome: &JobOutcome) {
        let Some((_, interval_ms)) = self.plan.repeat else {
            return;
        };
        if *outcome != JobOutcome::Completed || send.left == Some(0) {
            return;
        }
        let Some(at) = Instant::now().checked_add(Duration::from_millis(interval_ms)) else {
            return;
        };
        let left = send.left.map(|n| n.saturating_sub(1));
        self.file_repeats.push((at, FileSend { left, ..send }));
    }

    /// Why a `--send-file` job failed because of the file (it vanished, or a read failed
    /// part-way), if this event says so. A job that failed because its peer went away or the
    /// session stopped is not a file problem: the run goes on as after any closed connection.
    fn file_failure(&self, event: &Event) -> Option<FileError> {
        let Event::JobEnded {
            job,
            outcome: JobOutcome::FileFailed(why),
            ..
        } = event
        else {
            return None;
        };
        self.file_jobs.contains_key(job).then(|| why.clone())
    }

    /// `--repeat`: the payload N times, timed by the engine like the window's periodic send.
    fn repeat_to_peer(
        &mut self,
        kind: SessionKind,
        id: SessionId,
        target: SendTarget,
        payload: SendPayload,
    ) {
        let Some((count, interval_ms)) = self.plan.repeat else {
            // One send per connection: its first, `${seq}` = 1 (checked by the plan).
            let Ok(data) = payload.bytes(1) else {
                return;
            };
            return self.send_to_peer(kind, id, target, data);
        };
        self.next_job += 1;
        let job = JobId(self.next_job);
        self.send(Command::StartPeriodic {
            id,
            job,
            target,
            payload,
            interval_ms,
            count,
        });
        if let SendTarget::Peer(peer) = target {
            self.repeat_jobs.insert((id, peer), job);
        }
        if self.plan.once && !kind.is_tcp() {
            // Forever never settles; --duration-ms ends such a run.
            *self.udp_pending_sends.entry(id).or_default() +=
                u32::try_from(count.unwrap_or(u64::from(u32::MAX))).unwrap_or(u32::MAX);
        }
    }

    fn open_listen_window(&mut self) {
        if self.listen_deadline.is_none() {
            let window = self
                .plan
                .duration
                .unwrap_or(Duration::from_millis(DEFAULT_UDP_LISTEN_MS));
            self.listen_deadline = Instant::now().checked_add(window);
        }
    }

    /// Applies the event to the model and prints the entry it added, if any.
    fn apply_and_print(&mut self, event: Event) -> Result<(), End> {
        let id = event.session();
        let lifecycle = lifecycle_of(&event);
        let Some(before) = self.model.get(id).map(next_seq) else {
            self.intake.skip(&event);
            return Ok(());
        };
        self.intake
            .apply(event, &mut self.model, self.capture.as_ref());
        if !self.printer.printing() {
            return Ok(());
        }
        if self.printer.framed().is_some() {
            return self.print_frames(id, lifecycle, now_micros());
        }
        let Some(session) = self.model.get(id) else {
            return Ok(());
        };
        self.printer
            .entries(session, before, lifecycle)
            .map_err(End::output)
    }

    /// `--framing`: prints the frames (and notes) the session's log completed.
    fn print_frames(
        &mut self,
        id: SessionId,
        lifecycle: Option<Lifecycle>,
        now_micros: i64,
    ) -> Result<(), End> {
        let Some(session) = self.model.get(id) else {
            return Ok(());
        };
        self.printer
            .frames(session, lifecycle, now_micros)
            .map_err(End::output)
    }

    /// `--framing idle:MS`: prints frames whose silence has passed, for every session.
    fn print_idle_frames(&mut self, now_micros: i64) -> Result<(), End> {
        if !self.printer.printing() {
            return Ok(());
        }
        let ids: Vec<SessionId> = self.model.iter().map(|s| s.id).collect();
        for id in ids {
            self.print_frames(id, None, now_micros)?;
        }
        Ok(())
    }

    /// Stops the engine, prints what it reported while closing, then the stats; returns
    /// `end` for the exit code.
    pub(super) fn finish(mut self, end: End) -> End {
        // Shutdown joins the engine thread, so every closing event is in the channel after.
        if let Some(engine) = self.engine.take() {
            engine.shutdown();
        }
        while let Some(event) = self.intake.try_next() {
            if self.apply_and_print(event).is_err() {
                break;
            }
        }
        // The run is over: an idle frame in progress is complete now.
        if self.print_idle_frames(i64::MAX).is_ok()
            && let Some(framed) = self.printer.framed()
            && framed.pending_bytes() > 0
        {
            eprintln!(
                "sockdbg: {} byte(s) at the end of the run did not complete a frame",
                framed.pending_bytes()
            );
        }
        if let Some(capture) = self.capture.take() {
            match capture.finish() {
                Ok(packets) if self.plan.stats => eprintln!("capture packets={packets}"),
                Ok(_) => {}
                Err(e) => eprintln!("sockdbg: {e}"),
            }
        }
        if self.plan.stats {
            eprintln!("{}", self.stats_line());
        }
        end
    }

    /// `stats rx_bytes=N rx_packets=N tx_bytes=N tx_packets=N elapsed_ms=N`, summed over
    /// every session from the model's counters.
    fn stats_line(&self) -> String {
        let (mut rx_bytes, mut rx_packets, mut tx_bytes, mut tx_packets) = (0u64, 0u64, 0u64, 0u64);
        for session in self.model.iter() {
            rx_bytes += session.counters.rx_bytes;
            rx_packets += session.counters.rx_packets;
            tx_bytes += session.counters.tx_bytes;
            tx_packets += session.counters.tx_packets;
        }
        let elapsed_ms = self.started_at.elapsed().as_millis();
        format!(
            "stats rx_bytes={rx_bytes} rx_packets={rx_packets} tx_bytes={tx_bytes} tx_packets={tx_packets} elapsed_ms={elapsed_ms}"
        )
    }
}

/// How often `--framing idle:MS` checks for frames whose silence has passed.
const IDLE_TICK: Duration = Duration::from_millis(5);

/// Now, in microseconds since the Unix epoch (the log's clock).
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
