//! Headless mode: `sockdbg --headless [OPTIONS] SESSION...` runs the very same engine, model
//! and codec as the window, without a window. Every engine event is applied to
//! [`Sessions`] exactly as the window applies it, and each new log entry is printed to
//! stdout (see [`output`]), flushed per line. The driver here reacts to events: it sends the
//! `--send` payload when a connection opens and decides when the run is
//! over (`--once`, `--duration-ms`, SIGINT/SIGTERM, a session that cannot start).
//!
//! `--send-file` is streamed, never read whole: each target (each new client of a server, a
//! client's connection, a UDP target) gets its own engine file job ([`Command::SendFile`]),
//! paced by acks like the window's "Send file", so memory stays at a few chunks whatever the
//! file's size. The log kept for printing is bounded too ([`HEADLESS_LOG_MAX_BYTES`]): an
//! entry is printed when it is added and not needed after.
//!
//! Exit codes: [`EXIT_OK`] for a normal end, [`EXIT_FAILED`] when a session cannot run,
//! [`EXIT_USAGE`] for bad arguments.

pub mod frames;
pub mod output;
pub mod scenario;

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::CommandFactory;
use crossbeam_channel::{Receiver, select};

use crate::cli::{Cli, OutputFormat};
use crate::codec::escape::EscapeError;
use crate::codec::hex::HexError;
use crate::codec::reply::ReplyRule;
use crate::codec::send::{SendError, SendOptions, build_payload};
use crate::codec::text::{EncodeError, TextEncoding};
use crate::engine::{EngineHandle, EngineSettings, EventSink, InFlight};
use crate::model::{Session, Sessions};
use crate::protocol::{
    Command, Direction, Event, FileError, JobId, JobOutcome, Reactions, SendTarget, SessionId,
};
use crate::spec::{SessionKind, SessionSpec};
use output::{Formatter, Lifecycle, Record};

/// Exit code of a normal end: a signal, `--once`, `--duration-ms`, or every session ended.
pub const EXIT_OK: u8 = 0;
/// Exit code when a session cannot run (port in use, connection refused, bad host).
pub const EXIT_FAILED: u8 = 1;
/// Exit code for bad arguments.
pub const EXIT_USAGE: u8 = 2;

/// Memory bound of one session's log in headless mode without `--framing`: each entry is
/// printed as soon as it is added, so only the entry before it (decoding context for a
/// character split across two reads) must stay. Three 4 MiB arena chunks at most.
pub const HEADLESS_LOG_MAX_BYTES: usize = 12 * 1024 * 1024;

/// How long a udp-client with `--once` listens for replies after its send when no
/// `--duration-ms` is given.
pub const DEFAULT_UDP_LISTEN_MS: u64 = 1000;

/// A headless argument that clap cannot check by itself.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// `--headless` without any SESSION.
    #[error(
        "--headless needs at least one SESSION (tcp-server:[HOST:]PORT, tcp-client:HOST:PORT, udp-server:[HOST:]PORT, udp-client:HOST:PORT, udp-group:GROUP:PORT, tls-server:[HOST:]PORT, tls-client:HOST:PORT, ws-server:[HOST:]PORT[/PATH] or ws://HOST:PORT/PATH)"
    )]
    NoSession,
    /// `--send-hex` is not valid hex.
    #[error("invalid --send-hex: {0}")]
    SendHex(#[from] HexError),
    /// `--send-file` cannot be opened for reading (or is a directory).
    #[error("cannot read --send-file '{path}': {source}")]
    SendFile {
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be read.
        source: io::Error,
    },
    /// `--send` holds a character the chosen `--encoding` cannot represent.
    #[error("invalid --send: {0}")]
    SendText(#[from] EncodeError),
    /// `--send` has a bad escape (with `--escapes`).
    #[error("invalid --send: {0}")]
    SendEscape(EscapeError),
    /// `--repeat` without anything to repeat.
    #[error("--repeat needs a payload: --send, --send-hex or --send-file")]
    Repeat,
    /// A `--reply` rule cannot be used.
    #[error("invalid --reply: {0}")]
    Reply(String),
    /// The `--scenario` file is invalid: its errors, one `FILE:LINE:COL: what` a line.
    #[error("invalid --scenario:\n{0}")]
    Scenario(String),
    /// The `--scenario` file names more sessions than the command line gives.
    #[error("the scenario names {named} sessions; give as many SESSIONs (or none, to use its own)")]
    ScenarioSessions {
        /// Sessions the file names.
        named: usize,
    },
}

impl From<SendError> for UsageError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Hex(e) => UsageError::SendHex(e),
            SendError::Encode(e) => UsageError::SendText(e),
            SendError::Escape(e) => UsageError::SendEscape(e),
            // Callers turn an empty payload into "nothing to send" before this.
            SendError::Empty => UsageError::Reply("nothing to send".to_string()),
        }
    }
}

/// What is sent when a connection opens.
#[derive(Debug, Clone)]
pub enum Payload {
    /// `--send` or `--send-hex`, after the send pipeline.
    Bytes(Bytes),
    /// `--send-file`: streamed by an engine file job per target, in chunks. With `--repeat`
    /// the next job starts `--interval-ms` after the previous one completed.
    File(PathBuf),
}

/// What a headless run was asked to do, checked before anything is opened.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The sessions to start, in order.
    pub sessions: Vec<SessionSpec>,
    /// What is sent when a connection opens, if anything.
    pub payload: Option<Payload>,
    /// How entries are printed.
    pub format: OutputFormat,
    /// How text is decoded (and how `--send` was encoded).
    pub encoding: TextEncoding,
    /// Servers send every received chunk back to its sender.
    pub echo: bool,
    /// End after the first connection closes (udp-client: after the send and a listen window).
    pub once: bool,
    /// `--duration-ms`.
    pub duration: Option<Duration>,
    /// No per-entry output.
    pub quiet: bool,
    /// Print totals to stderr on exit.
    pub stats: bool,
    /// `--framing`: frames instead of reads.
    pub framing: crate::codec::framing::Framing,
    /// `--capture`: the pcapng file.
    pub capture: Option<PathBuf>,
    /// `--repeat N --interval-ms MS`: the payload is sent N times (`None`: forever) this far
    /// apart, timed by the engine.
    pub repeat: Option<(Option<u64>, u64)>,
    /// `--reply` rules, given to the engine for every session.
    pub rules: Vec<ReplyRule>,
    /// `--scenario`: run on the first session.
    pub scenario: Option<scenario::HeadlessScenario>,
}

impl Plan {
    /// Checks the headless arguments and prepares the payload.
    ///
    /// # Errors
    /// [`UsageError`] when no session is given, `--send-hex` or `--send` cannot become
    /// bytes, or `--send-file` cannot be opened for reading. The file itself is not read here:
    /// it is streamed per target.
    pub fn from_cli(cli: &Cli) -> Result<Self, UsageError> {
        let scenario = match &cli.scenario {
            Some(path) => Some(
                scenario::HeadlessScenario::load(path, &cli.vars).map_err(UsageError::Scenario)?,
            ),
            None => None,
        };
        let mut sessions = cli.sessions.clone();
        if let Some(loaded) = &scenario {
            let named = loaded.scenario.sessions.len();
            if sessions.is_empty() {
                sessions = loaded
                    .scenario
                    .sessions
                    .iter()
                    .map(|d| d.spec.clone())
                    .collect();
            } else if sessions.len() < named {
                return Err(UsageError::ScenarioSessions { named });
            }
        }
        if sessions.is_empty() {
            return Err(UsageError::NoSession);
        }
        // The window's send pipeline, in the window's order: escapes, encoding, line
        // ending, checksum.
        let options = SendOptions {
            hex: false,
            encoding: cli.encoding,
            escapes: cli.escapes,
            line_ending: cli.line_ending,
            checksum: cli.checksum,
        };
        let pipeline =
            |input: &str, hex: bool| match build_payload(input, &SendOptions { hex, ..options }) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(SendError::Empty) => Ok(None),
                Err(e) => Err(UsageError::from(e)),
            };
        let rules = cli
            .reply
            .iter()
            .map(|spec| ReplyRule::parse_cli(spec, options).map_err(UsageError::Reply))
            .collect::<Result<Vec<_>, _>>()?;
        if cli.repeat.is_some()
            && cli.send.is_none()
            && cli.send_hex.is_none()
            && cli.send_file.is_none()
        {
            return Err(UsageError::Repeat);
        }
        let payload = if let Some(text) = &cli.send {
            pipeline(text, false)?.map(|b| Payload::Bytes(Bytes::from(b)))
        } else if let Some(hex) = &cli.send_hex {
            pipeline(hex, true)?.map(|b| Payload::Bytes(Bytes::from(b)))
        } else if let Some(path) = &cli.send_file {
            let usage = |source| UsageError::SendFile {
                path: path.clone(),
                source,
            };
            check_readable(path).map_err(usage)?;
            Some(Payload::File(path.clone()))
        } else {
            None
        };
        Ok(Self {
            sessions,
            payload,
            format: cli.format,
            encoding: cli.encoding,
            echo: cli.echo,
            once: cli.once,
            duration: cli.duration_ms.map(Duration::from_millis),
            quiet: cli.quiet,
            stats: cli.stats,
            framing: cli.framing.clone(),
            capture: cli.capture.clone(),
            repeat: cli.repeat.map(|n| {
                let count = (n > 0).then_some(n);
                (count, cli.interval_ms.unwrap_or(1000).max(1))
            }),
            rules,
            scenario,
        })
    }

    fn has_udp_client(&self) -> bool {
        self.sessions.iter().any(|s| sends_to_one_address(s.kind))
    }
}

/// Checks up front that `path` opens for reading and is not a directory, so a missing or
/// unreadable `--send-file` is a usage error before any session starts. Reads nothing.
fn check_readable(path: &std::path::Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    Ok(())
}

/// Kinds that send to one address (a udp-client's target, which may be a broadcast, or a
/// udp-group's group) and hear from any: with `--once` they send, then listen for a while.
fn sends_to_one_address(kind: SessionKind) -> bool {
    matches!(kind, SessionKind::UdpClient | SessionKind::UdpGroup)
}

/// Runs `--headless` to its end and returns the process exit code.
pub fn run(cli: &Cli) -> ExitCode {
    let plan = match Plan::from_cli(cli) {
        Ok(plan) => plan,
        Err(e) => {
            let kind = match e {
                UsageError::NoSession => clap::error::ErrorKind::MissingRequiredArgument,
                _ => clap::error::ErrorKind::InvalidValue,
            };
            Cli::command().error(kind, e).print().ok(); // stderr is gone, nothing to tell
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Signals are caught before any socket opens, so an early SIGTERM still ends cleanly.
    let signals = match SignalWatch::install() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("sockdbg: cannot watch for signals: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let (event_tx, events) = crossbeam_channel::unbounded();
    let in_flight = InFlight::default();
    let sink = EventSink::without_waker(event_tx).with_in_flight(in_flight.clone());
    // Generated files (a TLS server's certificate) go where the window puts them.
    let store = cli
        .config_dir
        .clone()
        .map(crate::config::ConfigStore::at)
        .or_else(crate::config::ConfigStore::default_location);
    let settings = EngineSettings {
        files_dir: crate::private_files::generated_dir(store.as_ref()),
    };
    let engine = match EngineHandle::spawn_with(sink, settings) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("sockdbg: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let stdout = io::stdout().lock();
    let mut driver = Driver::new(plan, engine, stdout);
    driver.in_flight = in_flight;
    if let Err(e) = driver.start_sessions() {
        eprintln!("sockdbg: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    let end = driver.run_until_end(&events, &signals.received);
    signals.close();
    let code = driver.finish(end, &events);
    ExitCode::from(code)
}

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
enum End {
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

/// Reacts to engine events for one headless run.
struct Driver<W: Write> {
    plan: Plan,
    /// Taken by [`Driver::finish`] to shut the engine down.
    engine: Option<EngineHandle>,
    model: Sessions,
    labels: HashMap<SessionId, String>,
    formatter: Formatter,
    out: W,
    output_open: bool,
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
    /// `--framing` other than raw: the frames printed instead of reads.
    framed: Option<frames::FramedOutput>,
    /// Received bytes not yet applied, told back to the engine (flow control).
    in_flight: InFlight,
    /// `--capture`: the pcapng writer thread, fed every event.
    capture: Option<crate::capture::CaptureThread>,
    /// `--scenario`: its job and how its steps are printed.
    scenario: Option<(JobId, scenario::ScenarioOutput)>,
}

impl<W: Write> Driver<W> {
    fn new(plan: Plan, engine: EngineHandle, out: W) -> Self {
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
        Self {
            plan,
            engine: Some(engine),
            in_flight: InFlight::default(),
            model,
            labels: HashMap::new(),
            formatter,
            out,
            output_open: true,
            started_at,
            deadline,
            listen_deadline: None,
            udp_exchanged: HashSet::new(),
            udp_pending_sends: HashMap::new(),
            file_jobs: HashMap::new(),
            file_repeats: Vec::new(),
            peers_seen: HashSet::new(),
            next_job: 0,
            framed,
            capture: None,
            scenario: None,
        }
    }

    /// Creates the sessions, opens `--capture` (before any socket, so it sees every byte),
    /// then starts them.
    fn start_sessions(&mut self) -> Result<(), crate::capture::CaptureError> {
        let mut created = Vec::new();
        for spec in self.plan.sessions.clone() {
            let id = self.model.create(spec.clone());
            if let Some(session) = self.model.get_mut(id) {
                session.mark_starting();
            }
            self.labels.insert(id, spec.to_string());
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
        if !self.plan.quiet && self.output_open {
            for line in lines {
                if let Err(end) = self.write_line(line) {
                    return Some(end);
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

    fn run_until_end(&mut self, events: &Receiver<Event>, signals: &Receiver<()>) -> End {
        loop {
            let timer = match self.next_deadline() {
                Some(at) => crossbeam_channel::at(at),
                None => crossbeam_channel::never(),
            };
            // Idle framing ends frames on silence: wake up to notice it.
            let idle_tick = match &self.framed {
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
            let label = self.labels.get(&id).map_or("session", String::as_str);
            eprintln!("sockdbg: {label}: {reason}");
            return Some(End::SessionFailed);
        }
        if let Some(why) = file_failure {
            let label = self.labels.get(&id).map_or("session", String::as_str);
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
                    Some(Payload::Bytes(data)) => {
                        self.repeat_to_peer(kind, id, SendTarget::Peer(*peer), data);
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
            } if once && kind == SessionKind::UdpServer => {
                self.udp_exchanged.insert(id);
                if self.plan.echo {
                    // The engine echoes it: the run ends once that send is reported.
                    *self.udp_pending_sends.entry(id).or_default() += 1;
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
            }
            Event::PeerDisconnected { peer, .. } => {
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
        data: Bytes,
    ) {
        let Some((count, interval_ms)) = self.plan.repeat else {
            return self.send_to_peer(kind, id, target, data);
        };
        self.next_job += 1;
        let job = JobId(self.next_job);
        self.send(Command::StartPeriodic {
            id,
            job,
            target,
            data,
            interval_ms,
            count,
        });
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
        self.in_flight.taken(event.traffic_len());
        let id = event.session();
        let lifecycle = lifecycle_of(&event);
        let Some(before) = self.model.get(id).map(next_seq) else {
            return Ok(());
        };
        if let Some(capture) = &self.capture {
            capture.feed(&event);
        }
        self.model.apply(event);
        if self.plan.quiet || !self.output_open {
            return Ok(());
        }
        if self.framed.is_some() {
            return self.print_frames(id, lifecycle, now_micros());
        }
        let Some(session) = self.model.get(id) else {
            return Ok(());
        };
        let Some(label) = self.labels.get(&id) else {
            return Ok(());
        };
        let lines: Vec<String> = (before..next_seq(session))
            .filter_map(|seq| session.log.get(seq))
            .map(|entry| {
                self.formatter.format(&Record {
                    session: label,
                    entry,
                    peer_addr: session.peer_addr(entry.peer),
                    lifecycle,
                })
            })
            .collect();
        for line in lines {
            self.write_line(line)?;
        }
        Ok(())
    }

    /// `--framing`: prints the frames (and notes) the session's log completed.
    fn print_frames(
        &mut self,
        id: SessionId,
        lifecycle: Option<Lifecycle>,
        now_micros: i64,
    ) -> Result<(), End> {
        let (Some(framed), Some(session), Some(label)) = (
            self.framed.as_mut(),
            self.model.get(id),
            self.labels.get(&id),
        ) else {
            return Ok(());
        };
        let lines: Vec<String> = framed
            .new_rows(id, session, now_micros)
            .iter()
            .map(|(row, bytes)| {
                frames::frame_record(&self.formatter, label, session, row, bytes, lifecycle)
            })
            .collect();
        for line in lines {
            self.write_line(line)?;
        }
        Ok(())
    }

    /// `--framing idle:MS`: prints frames whose silence has passed, for every session.
    fn print_idle_frames(&mut self, now_micros: i64) -> Result<(), End> {
        if self.plan.quiet || !self.output_open {
            return Ok(());
        }
        let ids: Vec<SessionId> = self.model.iter().map(|s| s.id).collect();
        for id in ids {
            self.print_frames(id, None, now_micros)?;
        }
        Ok(())
    }

    fn write_line(&mut self, mut text: String) -> Result<(), End> {
        text.push('\n');
        let written = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        if let Err(e) = written {
            self.output_open = false;
            return Err(if e.kind() == io::ErrorKind::BrokenPipe {
                End::OutputClosed
            } else {
                End::OutputFailed(e)
            });
        }
        Ok(())
    }

    /// Stops the engine, prints what it reported while closing, then the stats.
    fn finish(mut self, end: End, events: &Receiver<Event>) -> u8 {
        // Shutdown joins the engine thread, so every closing event is in the channel after.
        if let Some(engine) = self.engine.take() {
            engine.shutdown();
        }
        while let Ok(event) = events.try_recv() {
            if self.apply_and_print(event).is_err() {
                break;
            }
        }
        // The run is over: an idle frame in progress is complete now.
        if self.print_idle_frames(i64::MAX).is_ok()
            && let Some(framed) = &self.framed
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
        match end {
            End::Normal | End::OutputClosed => EXIT_OK,
            End::SessionFailed | End::SendFileFailed | End::ScenarioFailed => EXIT_FAILED,
            End::OutputFailed(e) => {
                eprintln!("sockdbg: cannot write to stdout: {e}");
                EXIT_FAILED
            }
            End::EngineGone => {
                eprintln!("sockdbg: the network engine stopped unexpectedly");
                EXIT_FAILED
            }
        }
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

/// The sequence number the next entry of this session's log will get.
fn next_seq(session: &Session) -> u64 {
    session.log.first_seq() + session.log.len() as u64
}

/// What a lifecycle event is called in the output; `None` for traffic.
fn lifecycle_of(event: &Event) -> Option<Lifecycle> {
    match event {
        Event::Started { .. } => Some(Lifecycle::Listening),
        Event::PeerConnected { .. } => Some(Lifecycle::Connected),
        Event::PeerDisconnected { .. } | Event::Stopped { .. } => Some(Lifecycle::Disconnected),
        Event::StartFailed { .. } | Event::Warning { .. } => Some(Lifecycle::Error),
        Event::Note { .. }
        | Event::JobProgress { .. }
        | Event::JobEnded { .. }
        | Event::Scenario { .. } => Some(Lifecycle::Note),
        Event::Traffic { .. } | Event::ReactionsApplied { .. } => None,
    }
}

/// SIGINT and SIGTERM, caught and turned into messages on a channel, so the main loop can
/// wait on them beside engine events and end cleanly.
pub(crate) struct SignalWatch {
    pub(crate) received: Receiver<()>,
    #[cfg(unix)]
    handle: signal_hook::iterator::Handle,
}

impl SignalWatch {
    #[cfg(unix)]
    pub(crate) fn install() -> io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let handle = signals.handle();
        let (tx, received) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("sockdbg-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    tx.try_send(()).ok(); // one pending signal is enough to end the run
                }
            })?;
        Ok(Self { received, handle })
    }

    #[cfg(not(unix))]
    pub(crate) fn install() -> io::Result<Self> {
        // Ctrl-C ends the process the default way where signal-hook's iterator is missing.
        Ok(Self {
            received: crossbeam_channel::never(),
        })
    }

    pub(crate) fn close(self) {
        #[cfg(unix)]
        self.handle.close();
    }
}
