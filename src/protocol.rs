//! The only types that cross between the UI thread and the engine thread: [`Command`]s go
//! to the engine, [`Event`]s come back. Everything here is owned data: ids, addresses,
//! [`Bytes`] payloads, timestamps, and what the engine tells the user as typed values (notes,
//! warnings, close reasons, start failures, with their causes), which the i18n table turns
//! into words.

mod fault;
mod load_run;
mod message;

pub use fault::{
    CertProblem, CertSummary, OsError, SerialFault, TlsAlert, TlsFault, TlsRejection, TlsSession,
    WsClose, WsFault,
};
pub use load_run::{LoadEnd, LoadUpdate};
pub use message::{
    CloseReason, DirRefusal, Disconnected, FileError, Interface, JobFailure, JoinCause,
    JoinProblem, NotRun, Note, PeerList, PemProblem, PemWrite, Refusal, SocketStep, StartFailure,
    TlsSetupError, Warning, WsSubprotocol,
};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::codec::framing::Framing;
use crate::codec::reply::ReplyRule;
use crate::relay::{Leg, RelayFaults};
use crate::scenario::sending::SendPayload;
use crate::scenario::{Pos, Scenario};
use crate::serial::{ModemLines, SerialControl};
use crate::spec::SessionSpec;

/// Identifies one session for its whole life, across stops and restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// Identifies one peer of a session: a TCP connection, or a UDP source address.
/// Unique within its session, never reused while the session runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PeerId(pub u64);

/// Identifies one background send (periodic or file) of a session; chosen by the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

/// What a session does by itself when peers connect or send: evaluated in the engine so
/// replies are immediate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reactions {
    /// Sent to each new TCP connection, UDP client target or new UDP server peer.
    pub on_connect: Option<Bytes>,
    /// Auto-reply rules, in order; the first enabled match answers.
    pub rules: Vec<ReplyRule>,
    /// Every read (datagram, WebSocket message) goes back to its sender as it came, before
    /// any auto-reply (headless `--echo` on a server). Answered where bytes are read, like
    /// the rules, so the echo of a peer's last bytes goes out before its FIN closes it.
    pub echo: bool,
}

/// How a background send ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobOutcome {
    /// Everything was sent.
    Completed,
    /// The user cancelled it (or stopped the session).
    Cancelled,
    /// It could not go on (session not running, peer gone).
    Failed(JobFailure),
    /// A file send's file could not be opened or read.
    FileFailed(FileError),
}

/// Where a send goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendTarget {
    /// Every connected client (servers) or the one remote end (clients).
    All,
    /// One peer of the session.
    Peer(PeerId),
}

/// Which clients of a server session a scenario runs against (a client session has one
/// connection, and one run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioClients {
    /// The first client (already connected or next to connect); the job ends after its run
    /// (`sockdbg test`).
    First,
    /// Every client, each in its own run, until the job is cancelled (a device simulator).
    Each,
}

/// A scenario to run as an engine job: the parsed file and what it runs with.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    /// The parsed file.
    pub scenario: Arc<Scenario>,
    /// The sessions of the file's `session` lines after the first (which is the job's own
    /// session), in order: running, or in `start`.
    pub others: Vec<SessionId>,
    /// Sessions the engine starts for the job (the job's own and `others`, with their
    /// specs), tapped before they start so the job sees everything they do; the others must
    /// be running already (a job attached to a running session sees what comes after).
    pub start: Vec<(SessionId, SessionSpec)>,
    /// `--var NAME=VALUE` values.
    pub vars: Vec<(String, String)>,
    /// Who a server session runs it against.
    pub clients: ScenarioClients,
    /// The folder `send-file` paths are relative to (the file's own).
    pub base_dir: PathBuf,
}

impl ScenarioRun {
    /// The job's sessions: `id` (its own), then `others`.
    pub fn session_ids(&self, id: SessionId) -> Vec<SessionId> {
        std::iter::once(id)
            .chain(self.others.iter().copied())
            .collect()
    }
}

/// What happened to a scenario job: typed, drawn by the window and printed by `sockdbg test`.
/// Steps are named by their statement's position in the file ([`Pos`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ScenarioUpdate {
    /// The job watches its sessions from now on: what they receive from here on is seen
    /// (what came before is not). Runs follow.
    Attached,
    /// A run began: against a server's client (`peer`), or on a client session.
    RunStarted {
        /// Numbers the job's runs from 1.
        run: u64,
        /// The client it runs against, on a server session.
        peer: Option<PeerId>,
    },
    /// A case of a run began.
    CaseStarted {
        /// The run.
        run: u64,
        /// Index in [`Scenario::cases`].
        case: usize,
    },
    /// A statement began.
    StepStarted {
        /// The run.
        run: u64,
        /// The statement.
        at: Pos,
    },
    /// A statement ended.
    StepEnded {
        /// The run.
        run: u64,
        /// The statement.
        at: Pos,
        /// How long it took.
        elapsed: Duration,
        /// How it ended.
        outcome: StepOutcome,
    },
    /// A case of a run ended.
    CaseEnded {
        /// The run.
        run: u64,
        /// Index in [`Scenario::cases`].
        case: usize,
        /// Whether every step passed.
        passed: bool,
        /// How long it took.
        elapsed: Duration,
    },
    /// A run ended.
    RunEnded {
        /// The run.
        run: u64,
        /// Cases that passed.
        passed: usize,
        /// Cases that failed.
        failed: usize,
    },
    /// The job ended; no more updates follow.
    Ended {
        /// Runs it made.
        runs: u64,
        /// Why it could not run at all, if so (a session not running).
        refused: Option<JobFailure>,
    },
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq)]
pub enum StepOutcome {
    /// It did what it says; `captures` holds the variables it set (regex groups, `set`).
    Passed {
        /// `(name, value)` in order.
        captures: Vec<(String, String)>,
    },
    /// It failed; the case stops here.
    Failed(StepFailure),
    /// A `repeat` whose body failed (the failure is the inner step's).
    Aborted,
    /// The connection closed inside `repeat forever`, which ends the loop without failing.
    Interrupted,
}

/// Why a scenario's session or connection is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gone {
    /// The session could not start.
    StartFailed(StartFailure),
    /// The connection (or the session) ended by itself.
    Closed(CloseReason),
    /// The user stopped the session.
    Stopped,
}

/// Why a session that waits for its peer (`reconnect`) is not connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// A client: why its last connect failed, or its connection ended.
    Reconnect(Disconnected),
    /// A serial port: its device is away.
    Device {
        /// The port's path.
        path: String,
    },
}

impl Waiting {
    /// What `note` says a session waits for, if it says so.
    #[must_use]
    pub fn of(note: &Note) -> Option<Self> {
        match note {
            Note::Reconnecting { why, .. } => Some(Self::Reconnect(why.clone())),
            Note::SerialWaiting { path } => Some(Self::Device { path: path.clone() }),
            _ => None,
        }
    }
}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq)]
pub enum StepFailure {
    /// The expected bytes did not arrive in time; `received` is what arrived and was not
    /// matched (the pending stream, or the frames passed over).
    Timeout {
        /// The match as written.
        expected: String,
        /// The time it had.
        within: Duration,
        /// What arrived instead.
        received: Bytes,
    },
    /// The connection closed before the match.
    Closed {
        /// The match as written.
        expected: String,
        /// Why the connection ended.
        reason: Gone,
        /// What arrived and was not matched.
        received: Bytes,
    },
    /// `expect nothing` saw bytes.
    Unexpected {
        /// What arrived.
        received: Bytes,
    },
    /// `expect closed` ran out of time (or `close` did not see the connection go).
    NotClosed {
        /// The time it had.
        within: Duration,
    },
    /// A send or a close could not be carried out.
    NotSent(JobFailure),
    /// A payload, pattern or value could not be built from the variables.
    Expand(crate::scenario::vars::ExpandError),
    /// `send-file` could not read its file.
    File(FileError),
    /// The session is not running (it could not start, or stopped).
    SessionDown(Gone),
    /// A session that waits for its peer (`reconnect`) had no connection yet within its
    /// connect timeout.
    NotConnected {
        /// What it waits for, as it last said.
        why: Waiting,
        /// How long the step waited.
        waited: Duration,
    },
    /// The job was cancelled.
    Cancelled,
}

/// UI (or headless driver) -> engine.
#[derive(Debug)]
pub enum Command {
    /// Start (or restart) a session. A running session with the same id is stopped first,
    /// and the new one binds only after the old one has released its sockets.
    Start {
        /// The session's id.
        id: SessionId,
        /// What to open.
        spec: SessionSpec,
    },
    /// Stop a session: close its sockets and end its tasks. What it was told to react with
    /// (auto-reply rules, reply framing) is kept for its next start.
    Stop {
        /// The session to stop.
        id: SessionId,
    },
    /// The session is deleted: stop it if it runs, cancel its jobs, and drop everything the
    /// engine keeps of it (its rules too).
    Forget {
        /// The deleted session.
        id: SessionId,
    },
    /// Send bytes.
    Send {
        /// The session that sends.
        id: SessionId,
        /// Which peer(s) get the bytes.
        target: SendTarget,
        /// The exact bytes to send.
        data: Bytes,
    },
    /// Close one TCP connection of a server (or forget one UDP peer).
    DisconnectPeer {
        /// The session owning the peer.
        id: SessionId,
        /// The peer to drop.
        peer: PeerId,
    },
    /// Send `payload` every `interval_ms` (at least 1), `count` times or until cancelled.
    /// Timing runs in the engine, and so does the expansion of a payload's `${seq}` (1 on
    /// the job's first send, one more per tick); progress comes back as
    /// [`Event::JobProgress`].
    StartPeriodic {
        /// The session that sends.
        id: SessionId,
        /// Names the job for progress and cancel.
        job: JobId,
        /// Which peer(s) get the bytes.
        target: SendTarget,
        /// The exact bytes of each send, or the template each send expands.
        payload: SendPayload,
        /// Time between two sends.
        interval_ms: u64,
        /// How many sends; `None` for until cancelled.
        count: Option<u64>,
    },
    /// Stream a file in chunks, never holding more than a few chunks in memory.
    SendFile {
        /// The session that sends.
        id: SessionId,
        /// Names the job for progress and cancel.
        job: JobId,
        /// Which peer(s) get the bytes.
        target: SendTarget,
        /// The file.
        path: PathBuf,
    },
    /// Run a scenario on a running session (and the others its file names) as an engine
    /// job: progress comes back as [`Event::Scenario`]; [`Command::CancelJob`] stops it.
    StartScenario {
        /// The session of the file's first `session` line.
        id: SessionId,
        /// Names the job for progress and cancel.
        job: JobId,
        /// What to run.
        run: Box<ScenarioRun>,
    },
    /// Run a load test as session `id` (its own session: it opens the plan's connections
    /// itself): a record each second comes back as [`Event::Load`]; [`Command::Stop`] or
    /// [`Command::CancelJob`] ends it at once.
    StartLoad {
        /// The load session.
        id: SessionId,
        /// Names the job for progress and cancel.
        job: JobId,
        /// What to run.
        plan: Box<crate::load::LoadPlan>,
    },
    /// Stop a periodic, file, scenario or load job.
    CancelJob {
        /// The session running it.
        id: SessionId,
        /// The job.
        job: JobId,
    },
    /// Write bytes into a relay's pair (or every pair), toward the target ([`Leg::Up`]) or
    /// the client ([`Leg::Down`]), as if that side had sent them: they pass neither hold nor
    /// faults, and are logged as injected.
    Inject {
        /// The relay session.
        id: SessionId,
        /// The pair (a peer of the relay), or all of them.
        target: SendTarget,
        /// Toward the target or the client.
        leg: Leg,
        /// The exact bytes.
        data: Bytes,
    },
    /// Replace a relay's faults (delays, slices, rate, limits, hold) while it runs; applied
    /// to every pair from its next chunk on, and acknowledged by [`Event::FaultsApplied`].
    SetFaults {
        /// The relay session.
        id: SessionId,
        /// The faults of both directions.
        faults: RelayFaults,
    },
    /// Forward one chunk held in a relay's direction (while it is held).
    Step {
        /// The relay session.
        id: SessionId,
        /// The pair, or every pair (one chunk each).
        target: SendTarget,
        /// Which direction's queue.
        leg: Leg,
    },
    /// Change a serial port's control lines (DTR, RTS) or send a break; the lines as they
    /// then stand come back as [`Event::SerialLines`], a failure as a [`Warning`].
    SerialControl {
        /// The serial session.
        id: SessionId,
        /// What to do.
        control: SerialControl,
    },
    /// Replace the session's on-connect payload and auto-reply rules (kept across restarts).
    SetReactions {
        /// The session.
        id: SessionId,
        /// The new reactions.
        reactions: Reactions,
    },
    /// Set how a session's auto-reply cuts received bytes into messages (the framing of its
    /// log, `len:u32le`, ...): rules then match once per complete frame. Kept, like the
    /// reactions, across stops and restarts.
    SetReplyFraming {
        /// The session.
        id: SessionId,
        /// The framing; [`Framing::Raw`] matches each read.
        framing: Framing,
    },
    /// Stop every session and end the engine thread.
    Shutdown,
}

/// Which way bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from a peer.
    Rx,
    /// Sent to a peer.
    Tx,
    /// A relay's pair: written to the target (from the client, or injected).
    Up,
    /// A relay's pair: written to the client (from the target, or injected).
    Down,
}

impl Direction {
    /// A relay leg's direction.
    pub fn of_leg(leg: Leg) -> Self {
        match leg {
            Leg::Up => Self::Up,
            Leg::Down => Self::Down,
        }
    }

    /// The relay leg, for [`Direction::Up`] and [`Direction::Down`].
    pub fn leg(self) -> Option<Leg> {
        match self {
            Self::Up => Some(Leg::Up),
            Self::Down => Some(Leg::Down),
            Self::Rx | Self::Tx => None,
        }
    }
}

/// Engine -> UI. Each names the session it concerns.
#[derive(Debug, Clone)]
pub enum Event {
    /// The session is up: listening (servers), bound (UDP) or connecting (TCP client).
    Started {
        /// The session.
        id: SessionId,
        /// The address actually bound (port 0 resolved).
        local_addr: SocketAddr,
        /// When it came up (before any peer of it connects).
        at: SystemTime,
    },
    /// The session could not start: bind or connect failed.
    StartFailed {
        /// The session.
        id: SessionId,
        /// Why.
        reason: StartFailure,
    },
    /// A TCP connection opened, or a UDP source was seen for the first time.
    PeerConnected {
        /// The session.
        id: SessionId,
        /// The new peer.
        peer: PeerId,
        /// Its address.
        addr: SocketAddr,
        /// When.
        at: SystemTime,
    },
    /// A TCP connection closed (or a UDP peer was forgotten).
    PeerDisconnected {
        /// The session.
        id: SessionId,
        /// The peer that went away.
        peer: PeerId,
        /// Why: closed by peer, reset by peer, disconnected by the user, ...
        reason: CloseReason,
        /// When.
        at: SystemTime,
    },
    /// Bytes moved (one read, one datagram, or one completed send).
    Traffic {
        /// The session.
        id: SessionId,
        /// The peer.
        peer: PeerId,
        /// Received or sent (relays: up or down).
        dir: Direction,
        /// The exact bytes.
        data: Bytes,
        /// A relay's bytes the user injected (not forwarded from the other side).
        injected: bool,
        /// When.
        at: SystemTime,
    },
    /// Datagrams a UDP session took from its socket in one go, in the order they came: what
    /// as many [`Event::Traffic`] (received, not injected, all at `at`) would say, in one
    /// event, so a flood costs the channel and the window one event per batch rather than
    /// per datagram. [`Event::unbatched`] gives the single events.
    Datagrams {
        /// The session.
        id: SessionId,
        /// Each datagram's source and exact bytes.
        datagrams: Vec<(PeerId, Bytes)>,
        /// When they were taken in.
        at: SystemTime,
    },
    /// Something went wrong that does not end the session (a send failed, an ICMP error, ...).
    Warning {
        /// The session.
        id: SessionId,
        /// What went wrong.
        warning: Warning,
        /// When.
        at: SystemTime,
    },
    /// Something the session did by itself, for the log (an auto-reply rule matched, a
    /// background send started or ended).
    Note {
        /// The session.
        id: SessionId,
        /// The peer it concerns, if one.
        peer: Option<PeerId>,
        /// What it did.
        note: Note,
        /// When.
        at: SystemTime,
    },
    /// A background send made progress (sent at most every ~100 ms).
    JobProgress {
        /// The session.
        id: SessionId,
        /// The job.
        job: JobId,
        /// Sends done (periodic) or bytes sent (file).
        done: u64,
        /// The count or file size; `None` for a periodic send that runs until cancelled.
        total: Option<u64>,
    },
    /// A background send ended; no more progress follows.
    JobEnded {
        /// The session.
        id: SessionId,
        /// The job.
        job: JobId,
        /// Sends done or bytes sent, in the end.
        done: u64,
        /// Why it ended.
        outcome: JobOutcome,
    },
    /// A [`Command::SetReactions`] or [`Command::SetReplyFraming`] took effect: every read
    /// of the session from now on is answered by the new rules. (Rules that cannot be used
    /// give a [`Event::Warning`] instead, and the previous ones stay.)
    ReactionsApplied {
        /// The session.
        id: SessionId,
    },
    /// A [`Command::SetFaults`] took effect (or a relay started with its spec's faults):
    /// every pair's next chunk is shaped by these.
    FaultsApplied {
        /// The relay session.
        id: SessionId,
        /// The faults now in force.
        faults: RelayFaults,
    },
    /// What a relay pair holds back in one direction changed (it is held, or stepped or
    /// released): chunks and bytes read and not yet forwarded.
    RelayQueue {
        /// The relay session.
        id: SessionId,
        /// The pair.
        peer: PeerId,
        /// The direction.
        leg: Leg,
        /// Chunks waiting.
        chunks: u64,
        /// Their bytes.
        bytes: u64,
    },
    /// A serial port's control lines as they stand now: sent when it opens, when an input
    /// line changes (the engine reads them a few times a second) and after each
    /// [`Command::SerialControl`].
    SerialLines {
        /// The serial session.
        id: SessionId,
        /// The lines.
        lines: ModemLines,
    },
    /// A scenario job made progress.
    Scenario {
        /// The job's session.
        id: SessionId,
        /// The job.
        job: JobId,
        /// What happened.
        update: ScenarioUpdate,
    },
    /// A load job made progress.
    Load {
        /// The load session.
        id: SessionId,
        /// The job.
        job: JobId,
        /// What happened.
        update: LoadUpdate,
    },
    /// The session ended. `reason` is `None` when the user asked for it.
    Stopped {
        /// The session.
        id: SessionId,
        /// Why it ended, when the user did not ask for it.
        reason: Option<CloseReason>,
    },
}

impl Event {
    /// Bytes this event brings in from a peer (`Rx` traffic), else 0.
    pub fn received_len(&self) -> usize {
        match self {
            Event::Traffic {
                dir: Direction::Rx,
                data,
                ..
            } => data.len(),
            Event::Datagrams { datagrams, .. } => datagrams_len(datagrams),
            _ => 0,
        }
    }

    /// Bytes this event moved either way (traffic), else 0: what a receiver hands to
    /// `InFlight::taken` once it has applied the event.
    pub fn traffic_len(&self) -> usize {
        match self {
            Event::Traffic { data, .. } => data.len(),
            Event::Datagrams { datagrams, .. } => datagrams_len(datagrams),
            _ => 0,
        }
    }

    /// The event as single events: an [`Event::Datagrams`] as one received
    /// [`Event::Traffic`] per datagram, in order; any other event as itself.
    pub fn unbatched(self) -> Vec<Event> {
        match self {
            Event::Datagrams { id, datagrams, at } => datagrams
                .into_iter()
                .map(|(peer, data)| Event::Traffic {
                    id,
                    peer,
                    dir: Direction::Rx,
                    data,
                    injected: false,
                    at,
                })
                .collect(),
            event => vec![event],
        }
    }

    /// The session this event concerns.
    pub fn session(&self) -> SessionId {
        match self {
            Event::Started { id, .. }
            | Event::StartFailed { id, .. }
            | Event::PeerConnected { id, .. }
            | Event::PeerDisconnected { id, .. }
            | Event::Traffic { id, .. }
            | Event::Datagrams { id, .. }
            | Event::Warning { id, .. }
            | Event::Stopped { id, .. }
            | Event::Note { id, .. }
            | Event::JobProgress { id, .. }
            | Event::JobEnded { id, .. }
            | Event::ReactionsApplied { id }
            | Event::FaultsApplied { id, .. }
            | Event::RelayQueue { id, .. }
            | Event::SerialLines { id, .. }
            | Event::Scenario { id, .. }
            | Event::Load { id, .. } => *id,
        }
    }
}

/// The bytes of a batch of datagrams.
fn datagrams_len(datagrams: &[(PeerId, Bytes)]) -> usize {
    datagrams.iter().map(|(_, data)| data.len()).sum()
}
