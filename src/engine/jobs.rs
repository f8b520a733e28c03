//! Background sends: periodic sends and file sends, one task each, timed and paced in the
//! engine so they keep their rate whatever the window does. Each job hands its bytes to the
//! session like any send, with a [`SendAck`]: a permit of the job's semaphore that is
//! released once every connection has written (or dropped) the bytes. So a job never has
//! more than a few sends in flight: a slow peer slows the job down instead of piling the
//! file up in memory.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::session::{Refusals, SendAck, SessionCommand};
use super::sink::EventSink;
use crate::protocol::{
    Event, FileError, JobFailure, JobId, JobOutcome, Note, OsError, PeerId, Refusal, SendTarget,
    SessionId,
};
use crate::scenario::sending::SendPayload;

/// Periodic sends queued but not yet written, at most.
const PERIODIC_IN_FLIGHT: u32 = 16;
/// File chunks queued but not yet written, at most (so memory stays at a few chunks).
const FILE_IN_FLIGHT: u32 = 8;
/// Chunk size of a file sent over TCP.
pub(super) const TCP_FILE_CHUNK_BYTES: usize = 64 * 1024;
/// Chunk size (one datagram) of a file sent over UDP: fits a common MTU, so nothing is
/// fragmented on a real network.
pub(super) const UDP_FILE_CHUNK_BYTES: usize = 1024;
/// Shortest time between two progress events of one job.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Queues `data` for `target` on a session, and waits until it is written everywhere
/// (`Ok`) or refused (the reason): one send of a scenario, timed like the log shows it.
///
/// # Errors
/// Why the bytes went nowhere: no client, the peer gone, the session stopped.
pub(super) async fn send_and_wait(
    commands: &mpsc::UnboundedSender<SessionCommand>,
    target: SendTarget,
    data: Bytes,
) -> Result<(), JobFailure> {
    let written = Arc::new(Semaphore::new(1));
    let Ok(permit) = Arc::clone(&written).try_acquire_owned() else {
        return Err(JobFailure::NotRunning); // a new semaphore always has its permit
    };
    let refusals: Arc<Refusals> = Arc::default();
    let lost: Arc<OnceLock<PeerId>> = Arc::default();
    let ack = SendAck::new(permit, Arc::clone(&refusals), Arc::clone(&lost));
    let command = SessionCommand::Send {
        target,
        data,
        ack: Some(ack),
    };
    if commands.send(command).is_err() {
        return Err(JobFailure::SessionStopped);
    }
    // The permit comes back when the last holder of the ack drops it: written or refused.
    written.acquire().await.ok(); // the semaphore is never closed
    if let Some(peer) = lost.get() {
        return Err(JobFailure::Refused(Refusal::PeerGone { peer: *peer }));
    }
    match refusals.first() {
        Some(why) => Err(JobFailure::Refused(why.clone())),
        // Dropped unread with the session's queue.
        None if commands.is_closed() => Err(JobFailure::SessionStopped),
        None => Ok(()),
    }
}

/// What every job is given.
pub(super) struct JobContext {
    pub id: SessionId,
    pub job: JobId,
    pub sink: EventSink,
    pub commands: mpsc::UnboundedSender<SessionCommand>,
    /// Cancelled by the user's cancel or the session's stop.
    pub cancel: CancellationToken,
    /// The session's own token, to tell a stopped session from a user's cancel.
    pub session_cancel: CancellationToken,
    pub target: SendTarget,
    /// Set by the session when a send of this job reached no one.
    pub refusals: Arc<Refusals>,
}

impl JobContext {
    /// Why the job must stop because its sends reach no one, if they do not.
    fn refused(&self) -> Option<JobOutcome> {
        self.refusals
            .first()
            .map(|why| JobOutcome::Failed(JobFailure::Refused(why.clone())))
    }

    pub(super) fn note(&self, note: Note) {
        self.sink.note(self.id, None, note);
    }

    fn cancelled(&self) -> JobOutcome {
        if self.session_cancel.is_cancelled() {
            JobOutcome::Failed(JobFailure::SessionStopped)
        } else {
            JobOutcome::Cancelled
        }
    }

    /// Waits for a free in-flight slot, and for the receiver of the events to catch up when
    /// it is behind (flow control); `None` when the job is cancelled meanwhile.
    async fn slot(&self, in_flight: &Arc<Semaphore>) -> Option<SendAck> {
        let room = async {
            self.sink.wait_for_room().await;
            Arc::clone(in_flight).acquire_owned().await
        };
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => None,
            permit = room => permit
                .ok()
                .map(|p| SendAck::new(p, Arc::clone(&self.refusals), Arc::default())),
        }
    }

    fn send(&self, data: Bytes, ack: SendAck) -> Result<(), JobOutcome> {
        let command = SessionCommand::Send {
            target: self.target,
            data,
            ack: Some(ack),
        };
        self.commands
            .send(command)
            .map_err(|_| JobOutcome::Failed(JobFailure::SessionStopped))
    }

    /// Waits until every queued send is written, so the end is reported after the last
    /// bytes show in the log.
    async fn drain(&self, in_flight: &Semaphore, slots: u32) {
        tokio::select! {
            () = self.cancel.cancelled() => {}
            _ = in_flight.acquire_many(slots) => {}
        }
    }

    fn end(&self, done: u64, outcome: JobOutcome) {
        self.sink.send(Event::JobEnded {
            id: self.id,
            job: self.job,
            done,
            outcome,
        });
    }
}

/// Sends progress at most every [`PROGRESS_INTERVAL`].
struct Progress {
    last: Instant,
    total: Option<u64>,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        Self {
            last: Instant::now(),
            total,
        }
    }

    fn report(&mut self, context: &JobContext, done: u64) {
        if self.last.elapsed() < PROGRESS_INTERVAL {
            return;
        }
        self.last = Instant::now();
        context.sink.send(Event::JobProgress {
            id: context.id,
            job: context.job,
            done,
            total: self.total,
        });
    }
}

/// Sends `payload` every `interval_ms`, `count` times (or until cancelled); a template is
/// expanded here, per tick, with the job's own `${seq}` (1 on its first send), so the count
/// does not depend on the window.
///
/// A session that waits for its peer (a `reconnect` client between connections, a serial
/// port whose device is away) refuses sends meanwhile: the job then waits too, trying one
/// send per tick, and goes on once one goes through. Only sends written count, and `${seq}`
/// goes on from the last one written. Any other refusal ends it.
pub(super) async fn periodic(
    mut context: JobContext,
    payload: SendPayload,
    interval_ms: u64,
    count: Option<u64>,
) {
    let interval_ms = interval_ms.max(1);
    let mut interval = tokio::time::interval(Duration::from_millis(interval_ms));
    // Delay, not Burst: after a stall (a busy machine, a suspended laptop, a peer that
    // stopped reading) the next send waits a full interval again instead of firing the
    // missed ones back to back, which would flood a device with sends closer than it was
    // promised. The count, not the clock, decides the end, so no send is lost either way.
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The size of the first send (a template's may grow as `${seq}` does).
    let first_len = payload.bytes(1).map_or(0, |b| b.len());
    context.note(Note::PeriodicStarted {
        bytes: first_len,
        interval_ms,
        count,
    });
    let in_flight = Arc::new(Semaphore::new(PERIODIC_IN_FLIGHT as usize));
    let mut progress = Progress::new(count);
    let mut sends = PeriodicSends::default();
    let outcome = loop {
        // What the session said of the sends before: refused for good ends the job; refused
        // while the session waits for its peer makes the job wait too.
        if let Some(why) = context.refusals.first().cloned() {
            if !why.waits() {
                break JobOutcome::Failed(JobFailure::Refused(why));
            }
            context.drain(&in_flight, PERIODIC_IN_FLIGHT).await;
            if sends.skip(context.refusals.count()) {
                context.note(Note::PeriodicPaused { why });
            }
            context.refusals = Arc::default();
        }
        if count.is_some_and(|c| sends.written() >= c) {
            context.drain(&in_flight, PERIODIC_IN_FLIGHT).await;
            if context.cancel.is_cancelled() {
                break context.cancelled();
            }
            if context.refusals.first().is_some() {
                continue; // the last ones were refused: they are tried again
            }
            break JobOutcome::Completed;
        }
        tokio::select! {
            biased;
            () = context.cancel.cancelled() => break context.cancelled(),
            _ = interval.tick() => {}
        }
        if context.refusals.first().is_some() {
            continue; // refused meanwhile: settled above before anything more is sent
        }
        let Some(ack) = context.slot(&in_flight).await else {
            break context.cancelled();
        };
        let data = match payload.bytes(sends.written() + 1) {
            Ok(data) => data,
            Err(error) => break JobOutcome::Failed(JobFailure::Expand(error)),
        };
        if let Err(outcome) = context.send(data, ack) {
            break outcome;
        }
        sends.tried += 1;
        progress.report(&context, sends.written());
        // The first send, and each while waiting, is waited for: a target that refuses it
        // (no client connected, the peer gone) ends the job after that one attempt, not
        // after a pipeline's worth of sends that were in flight before the refusal came
        // back; a waiting job learns at once that its peer is back.
        if sends.tried == 1 || sends.waiting {
            context.drain(&in_flight, PERIODIC_IN_FLIGHT).await;
            if sends.waiting && context.refusals.first().is_none() && !context.cancel.is_cancelled()
            {
                sends.waiting = false;
                context.note(Note::PeriodicResumed {
                    skipped: sends.skipped_while_waiting,
                });
            }
        }
    };
    let sent = sends.written();
    context.note(Note::PeriodicEnded {
        sent,
        outcome: outcome.clone(),
    });
    context.end(sent, outcome);
}

/// How a periodic send's ticks went: tried, refused, and whether it waits for its peer.
#[derive(Debug, Default)]
struct PeriodicSends {
    /// Sends handed to the session.
    tried: u64,
    /// Of those, refused while the session waited for its peer (so not written).
    skipped: u64,
    /// Refused since the job began to wait, for the note when it goes on.
    skipped_while_waiting: u64,
    /// The session refused the last send because it waits for its peer.
    waiting: bool,
}

impl PeriodicSends {
    /// Sends written (or queued to be).
    fn written(&self) -> u64 {
        self.tried - self.skipped
    }

    /// Counts `refused` more sends as skipped; `true` when the job only now begins to wait.
    fn skip(&mut self, refused: u64) -> bool {
        self.skipped += refused;
        let began = !self.waiting;
        if began {
            self.skipped_while_waiting = 0;
            self.waiting = true;
        }
        self.skipped_while_waiting += refused;
        began
    }
}

/// Streams the file at `path` in chunks of `chunk_bytes`.
pub(super) async fn send_file(context: JobContext, path: PathBuf, chunk_bytes: usize) {
    let name = path.display().to_string();
    let (done, outcome) = stream_file(&context, &path, &name, chunk_bytes).await;
    context.note(Note::FileEnded {
        name,
        bytes: done,
        outcome: outcome.clone(),
    });
    context.end(done, outcome);
}

pub(super) async fn stream_file(
    context: &JobContext,
    path: &PathBuf,
    name: &str,
    chunk_bytes: usize,
) -> (u64, JobOutcome) {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) => {
            let error = FileError::Open {
                name: name.to_string(),
                cause: OsError::of(&e),
            };
            return (0, JobOutcome::FileFailed(error));
        }
    };
    let total = file.metadata().await.map(|m| m.len()).ok();
    context.note(Note::SendingFile {
        name: name.to_string(),
        size: total,
    });
    let in_flight = Arc::new(Semaphore::new(FILE_IN_FLIGHT as usize));
    let mut progress = Progress::new(total);
    let mut done = 0u64;
    loop {
        let Some(ack) = context.slot(&in_flight).await else {
            return (done, context.cancelled());
        };
        let mut chunk = BytesMut::with_capacity(chunk_bytes);
        // Fill whole chunks (a read may return less), so TCP sends full-size writes and UDP
        // full-size datagrams.
        while chunk.len() < chunk_bytes {
            let read = tokio::select! {
                biased;
                () = context.cancel.cancelled() => return (done, context.cancelled()),
                read = file.read_buf(&mut chunk) => read,
            };
            match read {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let error = FileError::Read {
                        name: name.to_string(),
                        cause: OsError::of(&e),
                    };
                    return (done, JobOutcome::FileFailed(error));
                }
            }
        }
        if chunk.is_empty() {
            drop(ack); // the drain below waits for every slot, this one included
            context.drain(&in_flight, FILE_IN_FLIGHT).await;
            if context.cancel.is_cancelled() {
                return (done, context.cancelled());
            }
            if let Some(outcome) = context.refused() {
                return (done, outcome);
            }
            return (done, JobOutcome::Completed);
        }
        if let Some(outcome) = context.refused() {
            return (done, outcome);
        }
        let len = chunk.len() as u64;
        if let Err(outcome) = context.send(chunk.freeze(), ack) {
            return (done, outcome);
        }
        done += len;
        progress.report(context, done);
    }
}
