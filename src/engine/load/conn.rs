//! What one connection slot of a load run does, per mode: `pingpong` (send, wait for the
//! answer, measure the round trip, again), `stream` (send at the rate while counting what
//! comes back) and `connect` (open and close, measuring each open). A connection that
//! fails is counted by kind and replaced by a new one (connects paced by `--connect-rate`);
//! the run's cancel ends every wait at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::link::{Rx, Tx};
use super::shared::Shared;
use crate::load::{AnswerReader, LoadErrorKind, MessageVars, Mode};
use crate::protocol::Direction;
use crate::scenario::Expectation;

/// After a failed connect, how long a `pingpong` or `stream` slot waits before the next
/// try (so a refused target is not hammered by a busy loop).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// How a connection ended.
enum End {
    /// The run is over.
    Cancelled,
    /// It failed; a new one takes its place.
    Failed(LoadErrorKind),
}

/// Runs one slot until the run is cancelled.
pub(super) async fn slot(shared: Arc<Shared>) {
    if shared.plan.mode == Mode::Connect {
        return connect_slot(&shared).await;
    }
    loop {
        if !shared.wait_connect_token().await {
            return;
        }
        let opened = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => return,
            opened = shared.connector.open() => opened,
        };
        let (tx, rx) = match opened {
            Ok(link) => link,
            Err(kind) => {
                shared.stats(|s| s.connect_failed(kind));
                if !shared.pause(RETRY_PAUSE).await {
                    return;
                }
                continue;
            }
        };
        shared.stats(|s| s.connected());
        let conn = shared.next_conn();
        let end = match shared.plan.mode {
            Mode::Stream => stream(&shared, tx, rx, conn).await,
            _ => pingpong(&shared, tx, rx, conn).await,
        };
        shared.stats(|s| s.closed());
        match end {
            End::Cancelled => return,
            End::Failed(kind) => shared.stats(|s| s.error(kind)),
        }
    }
}

/// `connect` mode: open (timed), close, at the rate.
async fn connect_slot(shared: &Shared) {
    loop {
        if !shared.wait_rate_token().await || !shared.wait_connect_token().await {
            return;
        }
        let started = Instant::now();
        let opened = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => return,
            opened = shared.connector.open() => opened,
        };
        match opened {
            Ok(link) => {
                let took = started.elapsed();
                shared.stats(|s| {
                    s.connected();
                    s.rtt(took);
                    s.closed();
                });
                drop(link);
            }
            Err(kind) => shared.stats(|s| s.connect_failed(kind)),
        }
    }
}

/// Keeps the first messages of a connection, each way.
struct Sampler {
    conn: u64,
    tx_left: usize,
    rx_left: usize,
}

impl Sampler {
    fn new(shared: &Shared, conn: u64) -> Self {
        let n = shared.plan.sample_messages;
        Self {
            conn,
            tx_left: n,
            rx_left: n,
        }
    }

    fn keep(&mut self, shared: &Shared, dir: Direction, data: &Bytes) {
        let left = match dir {
            Direction::Rx => &mut self.rx_left,
            // A load connection only sends (Tx) and receives (Rx): relay legs are not its.
            Direction::Tx | Direction::Up | Direction::Down => &mut self.tx_left,
        };
        if *left > 0 {
            *left -= 1;
            shared.sample(self.conn, dir, data.clone());
        }
    }
}

/// The expectation of every message when it has no variables.
fn fixed_expectation(shared: &Shared) -> Option<Expectation> {
    shared.plan.answer.expect.as_ref()?.compiled.clone()
}

async fn pingpong(shared: &Shared, mut tx: Tx, mut rx: Rx, conn: u64) -> End {
    let plan = &shared.plan;
    let mut vars = MessageVars::new(conn);
    let mut reader = AnswerReader::new(&plan.answer, plan.messages());
    let mut sampler = Sampler::new(shared, conn);
    let fixed = fixed_expectation(shared);
    loop {
        if !shared.wait_rate_token().await {
            return End::Cancelled;
        }
        let Ok(data) = plan.payload.bytes(&mut vars) else {
            return End::Failed(LoadErrorKind::Other);
        };
        let expect = match (&fixed, &plan.answer.expect) {
            (Some(fixed), _) => Some(fixed.clone()),
            (None, Some(_)) => match plan.answer.expectation(vars.vars()) {
                Ok(expect) => expect,
                Err(_) => return End::Failed(LoadErrorKind::Other),
            },
            (None, None) => None,
        };
        let len = data.len();
        sampler.keep(shared, Direction::Tx, &data);
        let sent_at = Instant::now();
        let sent = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => return End::Cancelled,
            sent = tx.send(data) => sent,
        };
        if let Err(kind) = sent {
            return End::Failed(kind);
        }
        shared.stats(|s| s.sent(len));
        let deadline = tokio::time::Instant::from_std(sent_at + plan.timeout);
        loop {
            let read = tokio::select! {
                biased;
                () = shared.cancel.cancelled() => return End::Cancelled,
                () = tokio::time::sleep_until(deadline) => {
                    let kind = if reader.pending() > 0 {
                        LoadErrorKind::Unexpected
                    } else {
                        LoadErrorKind::Timeout
                    };
                    return End::Failed(kind);
                }
                read = rx.recv() => read,
            };
            let data = match read {
                Ok(Some(data)) => data,
                Ok(None) => return End::Failed(LoadErrorKind::Closed),
                Err(kind) => return End::Failed(kind),
            };
            sampler.keep(shared, Direction::Rx, &data);
            let answers = reader.push(&data, expect.as_ref());
            let rtt = sent_at.elapsed();
            shared.stats(|s| {
                s.received(data.len());
                for _ in 0..answers.unexpected {
                    s.error(LoadErrorKind::Unexpected);
                }
                if answers.matched > 0 {
                    s.rtt(rtt);
                    s.answered(answers.matched);
                }
            });
            if answers.matched > 0 || answers.unexpected > 0 {
                break;
            }
        }
    }
}

async fn stream(shared: &Shared, mut tx: Tx, mut rx: Rx, conn: u64) -> End {
    let plan = &shared.plan;
    let sampler = std::sync::Mutex::new(Sampler::new(shared, conn));
    let keep = |dir, data: &Bytes| {
        if let Ok(mut sampler) = sampler.lock() {
            sampler.keep(shared, dir, data);
        }
    };
    let writing = async {
        let mut vars = MessageVars::new(conn);
        loop {
            if !shared.wait_rate_token().await {
                return End::Cancelled;
            }
            let Ok(data) = plan.payload.bytes(&mut vars) else {
                return End::Failed(LoadErrorKind::Other);
            };
            let len = data.len();
            keep(Direction::Tx, &data);
            if let Err(kind) = tx.send(data).await {
                return End::Failed(kind);
            }
            shared.stats(|s| s.sent(len));
        }
    };
    let reading = async {
        let mut reader = AnswerReader::new(&plan.answer, plan.messages());
        // Answers are not matched to messages in a stream: an --expect with variables is
        // compared with the first message's values.
        let expect = match plan.answer.expectation(MessageVars::first(conn).vars()) {
            Ok(expect) => expect,
            Err(_) => return End::Failed(LoadErrorKind::Other),
        };
        loop {
            let data = match rx.recv().await {
                Ok(Some(data)) => data,
                Ok(None) => return End::Failed(LoadErrorKind::Closed),
                Err(kind) => return End::Failed(kind),
            };
            keep(Direction::Rx, &data);
            let answers = reader.push(&data, expect.as_ref());
            shared.stats(|s| {
                s.received(data.len());
                s.answered(answers.matched);
                for _ in 0..answers.unexpected {
                    s.error(LoadErrorKind::Unexpected);
                }
            });
        }
    };
    tokio::select! {
        biased;
        () = shared.cancel.cancelled() => End::Cancelled,
        end = writing => end,
        end = reading => end,
    }
}
