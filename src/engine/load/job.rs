//! The load job itself: sets the run up (figures, connector), starts one slot per
//! connection, reports a record each second (the last one for the part of a second left,
//! so the records add up to the summary), and ends the run (its duration, or the cancel)
//! with the summary.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::conn;
use super::link::Connector;
use super::shared::{Shared, bucket};
use crate::engine::sink::EventSink;
use crate::load::{LoadPlan, Stats};
use crate::protocol::{Event, JobId, LoadEnd, LoadUpdate, SessionId};

/// What the dispatcher gives a load job.
pub(in crate::engine) struct LoadJob {
    pub id: SessionId,
    pub job: JobId,
    pub sink: EventSink,
    /// Cancelled by the session's stop or the job's cancel.
    pub cancel: CancellationToken,
    pub plan: LoadPlan,
}

/// Runs a load job to its end (after `previous`, the session's last task, has released its
/// sockets).
pub(in crate::engine) async fn run(job: LoadJob, previous: Option<JoinHandle<()>>) {
    if let Some(previous) = previous {
        previous.await.ok(); // only its sockets matter, and they are closed either way
    }
    let LoadJob {
        id,
        job,
        sink,
        cancel,
        plan,
    } = job;
    let report = |update| sink.send(Event::Load { id, job, update });
    let stats = match Stats::new() {
        Ok(stats) => stats,
        Err(_) => {
            return report(LoadUpdate::Ended {
                end: LoadEnd::NoFigures,
                summary: Box::default(),
            });
        }
    };
    let setup = tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        connector = Connector::new(&plan.spec, plan.timeout) => Some(connector),
    };
    let connector = match setup {
        None => {
            return report(LoadUpdate::Ended {
                end: LoadEnd::Stopped,
                summary: Box::new(stats.summary(Duration::ZERO)),
            });
        }
        Some(Err(failure)) => {
            return report(LoadUpdate::Ended {
                end: LoadEnd::Failed(failure),
                summary: Box::new(stats.summary(Duration::ZERO)),
            });
        }
        Some(Ok(connector)) => connector,
    };
    let shared = Arc::new(Shared {
        rate: bucket(plan.rate),
        connect_rate: bucket(plan.connect_rate),
        connector,
        stats: Mutex::new(stats),
        cancel: cancel.child_token(),
        conns: AtomicU64::new(0),
        id,
        job,
        sink: sink.clone(),
        plan,
    });
    let started = Instant::now();
    let mut slots = JoinSet::new();
    for _ in 0..shared.plan.connections {
        slots.spawn(conn::slot(Arc::clone(&shared)));
    }
    let end_at = tokio::time::Instant::from_std(started + shared.plan.duration);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::from_std(started + Duration::from_secs(1)),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_tick = started;
    let end = loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break LoadEnd::Stopped,
            () = tokio::time::sleep_until(end_at) => break LoadEnd::Completed,
            at = tick.tick() => {
                last_tick = at.into_std();
                second(&shared, started, last_tick);
            }
        }
    };
    shared.cancel.cancel();
    slots.abort_all();
    // Every slot has stopped counting before the last record and the summary are taken, so
    // the records add up to the summary (an aborted task may still be running on another
    // worker until it is joined). The slots' sockets close as their tasks are dropped.
    while slots.join_next().await.is_some() {}
    let now = Instant::now();
    if now > last_tick {
        second(&shared, started, now);
    }
    let elapsed = now.duration_since(started);
    let summary = match shared.stats.lock() {
        Ok(stats) => stats.summary(elapsed),
        Err(_) => crate::load::Summary::default(),
    };
    shared.send(LoadUpdate::Ended {
        end,
        summary: Box::new(summary),
    });
}

fn second(shared: &Shared, started: Instant, at: Instant) {
    let record = match shared.stats.lock() {
        Ok(mut stats) => stats.second(at.duration_since(started)),
        Err(_) => return,
    };
    shared.send(LoadUpdate::Second(Box::new(record)));
}
