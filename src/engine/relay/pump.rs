//! One direction of a relay pair, TCP or UDP alike. Without faults it reads a chunk from one
//! side and writes it to the other in one loop (the plain path). Once a fault is set, a
//! reader takes chunks from one side
//! ([`Source`]) into a queue bounded by bytes ([`QUEUE_BYTES`]: a slow side slows the other,
//! through the reader's wait and then the kernel's buffers), and a writer forwards them to the
//! other side ([`Destination`]) as the direction's [`Shaper`] plans them: one log entry per
//! piece written. While the direction is held the writer takes nothing (the queue fills and
//! is reported), except one chunk per step; injected bytes go out at once, passing neither
//! hold nor faults.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::engine::sink::EventSink;
use crate::protocol::{CloseReason, Event, Note, PeerId, SessionId};
use crate::relay::{Fired, Leg, RelayFaults, Shaper};

/// Bytes one direction of a pair may hold read and not yet forwarded (a held direction's
/// queue included); past it the reader waits.
pub(super) const QUEUE_BYTES: usize = 1024 * 1024;

/// Where a direction reads from.
pub(super) trait Source {
    /// The next chunk (an empty one is an empty datagram); `None` at the end (a TCP FIN).
    ///
    /// # Errors
    /// Why reading failed, as the pair's close reason.
    fn next(&mut self) -> impl Future<Output = Result<Option<Bytes>, CloseReason>> + Send;
}

/// Where a direction writes to.
pub(super) trait Destination {
    /// Writes `data` whole (one datagram for UDP).
    ///
    /// # Errors
    /// Why writing failed, as the pair's close reason.
    fn write(&mut self, data: &Bytes) -> impl Future<Output = Result<(), CloseReason>> + Send;

    /// The source has ended and everything is forwarded: pass the end on (a TCP FIN).
    fn finish(&mut self) -> impl Future<Output = ()> + Send;
}

/// What the pair's owner tells one direction's writer.
#[derive(Debug)]
pub(super) enum Control {
    /// Write these bytes now, marked as injected.
    Inject(Bytes),
    /// Forward one held chunk.
    Step,
}

/// How one direction ended.
#[derive(Debug)]
pub(super) enum PumpEnd {
    /// Its source ended, everything read was forwarded, and the end was passed on.
    Finished,
    /// Reading failed.
    ReadFailed(CloseReason),
    /// Writing failed.
    WriteFailed(CloseReason),
    /// A `close-after` or `reset-after` limit was reached, after its bytes went out.
    Fault(Fired),
}

/// Who a direction reports as.
#[derive(Clone, Copy)]
pub(super) struct PumpLink<'a> {
    pub(super) id: SessionId,
    pub(super) peer: PeerId,
    pub(super) leg: Leg,
    pub(super) sink: &'a EventSink,
}

/// A chunk read and not yet forwarded, holding its room in the queue.
struct Chunk {
    data: Bytes,
    read_at: Instant,
    _room: OwnedSemaphorePermit,
}

/// What a direction holds back: shared by its reader and writer, reported while held.
#[derive(Default)]
struct Queued {
    held: AtomicBool,
    chunks: AtomicU64,
    bytes: AtomicU64,
    /// A count other than zero was reported: zero is reported once the queue empties.
    reported: AtomicBool,
}

impl Queued {
    fn added(&self, len: usize) {
        self.chunks.fetch_add(1, Ordering::AcqRel);
        self.bytes.fetch_add(len as u64, Ordering::AcqRel);
    }

    fn taken(&self, len: usize) {
        self.chunks.fetch_sub(1, Ordering::AcqRel);
        self.bytes.fetch_sub(len as u64, Ordering::AcqRel);
    }

    fn report(&self, link: PumpLink<'_>) {
        let chunks = self.chunks.load(Ordering::Acquire);
        let bytes = self.bytes.load(Ordering::Acquire);
        self.reported.store(chunks > 0, Ordering::Release);
        link.sink.send(Event::RelayQueue {
            id: link.id,
            peer: link.peer,
            leg: link.leg,
            chunks,
            bytes,
        });
    }
}

/// Runs one direction until its source ends and everything is forwarded, or it fails, or a
/// limit fires. `faults` are the session's, followed while running; `controls` carries
/// injections and steps.
///
/// While the direction has no fault at all it reads and forwards in one loop ([`plain`]): a
/// chunk crossing the queue would wake the pair's own task once more, and tokio answers a
/// task that wakes itself by waking the other worker thread, which cost a ping-pong through
/// the relay about half again socat's added latency. Once a fault is set the direction
/// queues ([`queued`]) until the pair ends.
pub(super) async fn pump<S: Source, D: Destination>(
    link: PumpLink<'_>,
    (source, destination): (&mut S, &mut D),
    controls: &mut mpsc::UnboundedReceiver<Control>,
    mut faults: watch::Receiver<RelayFaults>,
) -> PumpEnd {
    let mut shaper = Shaper::new(*faults.borrow_and_update().leg(link.leg));
    if let Some(end) = plain(
        link,
        (source, destination),
        controls,
        &mut faults,
        &mut shaper,
    )
    .await
    {
        return end;
    }
    queued(link, (source, destination), controls, faults, shaper).await
}

/// Reads and forwards chunk by chunk while the direction has no fault; `None` once one is
/// set (nothing read is left unforwarded then), `Some` when the direction ended.
async fn plain<S: Source, D: Destination>(
    link: PumpLink<'_>,
    (source, destination): (&mut S, &mut D),
    controls: &mut mpsc::UnboundedReceiver<Control>,
    faults: &mut watch::Receiver<RelayFaults>,
    shaper: &mut Shaper,
) -> Option<PumpEnd> {
    let mut faults_open = true;
    while shaper.faults().is_empty() {
        link.sink.wait_for_room().await;
        // Each branch's future is cancel-safe: a source's `next` reads in one poll.
        tokio::select! {
            biased;
            Some(control) = controls.recv() => match control {
                Control::Inject(data) => {
                    if let Err(end) = inject(link, destination, data).await {
                        return Some(end);
                    }
                }
                Control::Step => {} // nothing is held
            },
            changed = faults.changed(), if faults_open => match changed {
                Ok(()) => shaper.set_faults(*faults.borrow_and_update().leg(link.leg)),
                Err(_) => faults_open = false, // the session is ending
            },
            next = source.next() => match next {
                Ok(Some(data)) => {
                    if let Some(end) = forward(link, destination, shaper, data, Instant::now()).await {
                        return Some(end);
                    }
                }
                Ok(None) => {
                    destination.finish().await;
                    return Some(PumpEnd::Finished);
                }
                Err(reason) => return Some(PumpEnd::ReadFailed(reason)),
            },
        }
    }
    None
}

/// Runs one direction through its queue: a reader and a writer polled together.
async fn queued<S: Source, D: Destination>(
    link: PumpLink<'_>,
    (source, destination): (&mut S, &mut D),
    controls: &mut mpsc::UnboundedReceiver<Control>,
    faults: watch::Receiver<RelayFaults>,
    shaper: Shaper,
) -> PumpEnd {
    let queued = Queued::default();
    // Held from the start: known before the reader can take a chunk, so that chunk is
    // reported (the two loops start in either order).
    queued.held.store(shaper.faults().hold, Ordering::Release);
    let (queue_tx, mut queue) = mpsc::unbounded_channel();
    let reading = read_loop(link, source, queue_tx, &queued);
    let writing = write_loop(
        link,
        destination,
        (&mut queue, controls),
        (faults, shaper),
        &queued,
    );
    tokio::pin!(reading, writing);
    let mut read_done = false;
    loop {
        tokio::select! {
            // The reader's end drops its sender; the writer ends once it has taken the rest.
            end = &mut reading, if !read_done => match end {
                Ok(()) => read_done = true,
                Err(reason) => return PumpEnd::ReadFailed(reason),
            },
            end = &mut writing => return end,
        }
    }
}

/// Both directions of a pair, to be polled together: up from the client's `up.0` to the
/// target's `up.1`, down from the target's `down.0` to the client's `down.1`, each with its
/// controls (`[up, down]`) and the session's faults.
pub(super) fn both_ways<'a, S1, D1, S2, D2>(
    link: impl Fn(Leg) -> PumpLink<'a>,
    up: (&'a mut S1, &'a mut D1),
    down: (&'a mut S2, &'a mut D2),
    [up_controls, down_controls]: [&'a mut mpsc::UnboundedReceiver<Control>; 2],
    faults: watch::Receiver<RelayFaults>,
) -> (
    impl Future<Output = PumpEnd> + 'a,
    impl Future<Output = PumpEnd> + 'a,
)
where
    S1: Source,
    D1: Destination,
    S2: Source,
    D2: Destination,
{
    let up = pump(link(Leg::Up), up, up_controls, faults.clone());
    let down = pump(link(Leg::Down), down, down_controls, faults);
    (up, down)
}

/// Reads chunks into the queue until the source ends (`Ok`) or fails.
async fn read_loop<S: Source>(
    link: PumpLink<'_>,
    source: &mut S,
    queue: mpsc::UnboundedSender<Chunk>,
    queued: &Queued,
) -> Result<(), CloseReason> {
    let room = Arc::new(Semaphore::new(QUEUE_BYTES));
    loop {
        link.sink.wait_for_room().await;
        let Some(data) = source.next().await? else {
            return Ok(());
        };
        let read_at = Instant::now();
        let len = data.len();
        let permits = u32::try_from(len.clamp(1, QUEUE_BYTES)).unwrap_or(u32::MAX);
        let Ok(permit) = Arc::clone(&room).acquire_many_owned(permits).await else {
            return Ok(()); // never closed
        };
        queued.added(len);
        let chunk = Chunk {
            data,
            read_at,
            _room: permit,
        };
        if queue.send(chunk).is_err() {
            return Ok(()); // the writer has ended the direction
        }
        if queued.held.load(Ordering::Acquire) {
            queued.report(link);
        }
    }
}

/// Forwards what the queue holds, as the faults say (`shaper` follows them), until the queue ends (then passes the
/// end on) or a write fails or a limit fires.
async fn write_loop<D: Destination>(
    link: PumpLink<'_>,
    destination: &mut D,
    (queue, controls): (
        &mut mpsc::UnboundedReceiver<Chunk>,
        &mut mpsc::UnboundedReceiver<Control>,
    ),
    (mut faults, mut shaper): (watch::Receiver<RelayFaults>, Shaper),
    queued: &Queued,
) -> PumpEnd {
    queued.held.store(shaper.faults().hold, Ordering::Release);
    let mut faults_open = true;
    loop {
        let holding = shaper.faults().hold;
        tokio::select! {
            biased;
            Some(control) = controls.recv() => match control {
                Control::Inject(data) => {
                    if let Err(end) = inject(link, destination, data).await {
                        return end;
                    }
                }
                Control::Step => {
                    // Nothing held (or not held at all): a step does nothing.
                    let Ok(chunk) = queue.try_recv() else { continue };
                    queued.taken(chunk.data.len());
                    let bytes = chunk.data.len();
                    link.sink.note(link.id, Some(link.peer), Note::Stepped { leg: link.leg, bytes });
                    let end = forward(link, destination, &mut shaper, chunk.data, chunk.read_at).await;
                    queued.report(link);
                    if let Some(end) = end {
                        return end;
                    }
                }
            },
            changed = faults.changed(), if faults_open => {
                if changed.is_err() {
                    faults_open = false; // the session is ending
                    continue;
                }
                shaper.set_faults(*faults.borrow_and_update().leg(link.leg));
                queued.held.store(shaper.faults().hold, Ordering::Release);
                if shaper.faults().hold {
                    queued.report(link);
                }
            }
            chunk = queue.recv(), if !holding => {
                let Some(chunk) = chunk else {
                    destination.finish().await;
                    return PumpEnd::Finished;
                };
                queued.taken(chunk.data.len());
                if let Some(end) = forward(link, destination, &mut shaper, chunk.data, chunk.read_at).await {
                    return end;
                }
                if queued.reported.load(Ordering::Acquire) && queue.is_empty() {
                    queued.report(link);
                }
            }
            // Held, with no control or fault change left to come: only the pair's end.
            else => std::future::pending::<()>().await,
        }
    }
}

/// Writes injected bytes now and reports them as injected.
///
/// # Errors
/// The direction's end when the write failed.
async fn inject<D: Destination>(
    link: PumpLink<'_>,
    destination: &mut D,
    data: Bytes,
) -> Result<(), PumpEnd> {
    if let Err(reason) = destination.write(&data).await {
        return Err(PumpEnd::WriteFailed(reason));
    }
    link.sink.relayed(link.id, link.peer, link.leg, data, true);
    Ok(())
}

/// Writes one chunk `data`, read at `read_at`, as the shaper plans it, each piece when it is
/// due and logged as it goes; `Some` when the direction ends here (a failed write, a close
/// or reset limit).
async fn forward<D: Destination>(
    link: PumpLink<'_>,
    destination: &mut D,
    shaper: &mut Shaper,
    data: Bytes,
    read_at: Instant,
) -> Option<PumpEnd> {
    let plan = shaper.plan(data.len(), read_at, |max| fastrand::u64(0..=max));
    let mut offset = 0;
    for piece in &plan.pieces {
        if piece.due > Instant::now() {
            tokio::time::sleep_until(piece.due.into()).await;
        }
        let bytes = data.slice(offset..offset + piece.len);
        offset += piece.len;
        link.sink.wait_for_room().await;
        if let Err(reason) = destination.write(&bytes).await {
            return Some(PumpEnd::WriteFailed(reason));
        }
        link.sink
            .relayed(link.id, link.peer, link.leg, bytes, false);
    }
    match plan.fired {
        Some(Fired::Drop { after }) => {
            let note = Note::Dropping {
                leg: link.leg,
                after,
            };
            link.sink.note(link.id, Some(link.peer), note);
            None
        }
        Some(fired) => Some(PumpEnd::Fault(fired)),
        None => None,
    }
}
