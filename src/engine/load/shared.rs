//! What every slot of a load run shares: the plan, the connector, the figures (one
//! [`Stats`] behind a mutex, held only to count), the rates' token buckets (the relay's
//! [`TokenBucket`]), the run's cancel and the way to report.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::link::Connector;
use crate::engine::sink::EventSink;
use crate::load::{LoadPlan, Stats};
use crate::protocol::{Direction, Event, JobId, LoadUpdate, SessionId};
use crate::relay::shaping::TokenBucket;

/// What every slot of a run shares.
pub(super) struct Shared {
    pub(super) plan: LoadPlan,
    pub(super) connector: Connector,
    pub(super) stats: Mutex<Stats>,
    pub(super) rate: Option<Mutex<TokenBucket>>,
    pub(super) connect_rate: Option<Mutex<TokenBucket>>,
    /// Ends the slots: the job's cancel, or the run's end.
    pub(super) cancel: CancellationToken,
    pub(super) conns: AtomicU64,
    pub(super) id: SessionId,
    pub(super) job: JobId,
    pub(super) sink: EventSink,
}

impl Shared {
    pub(super) fn stats(&self, update: impl FnOnce(&mut Stats)) {
        if let Ok(mut stats) = self.stats.lock() {
            update(&mut stats);
        }
    }

    /// The next connection's number (1 for the first).
    pub(super) fn next_conn(&self) -> u64 {
        self.conns.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(super) fn sample(&self, conn: u64, dir: Direction, data: Bytes) {
        self.send(LoadUpdate::Sample { conn, dir, data });
    }

    pub(super) fn send(&self, update: LoadUpdate) {
        self.sink.send(Event::Load {
            id: self.id,
            job: self.job,
            update,
        });
    }

    /// Waits for `bucket`'s next token; `false` when the run was cancelled first.
    pub(super) async fn wait_token(&self, bucket: Option<&Mutex<TokenBucket>>) -> bool {
        let Some(bucket) = bucket else {
            return !self.cancel.is_cancelled();
        };
        let now = Instant::now();
        let due = match bucket.lock() {
            Ok(mut bucket) => bucket.take(1, now),
            Err(_) => now,
        };
        if due <= now {
            return !self.cancel.is_cancelled();
        }
        self.pause(due - now).await
    }

    pub(super) async fn wait_rate_token(&self) -> bool {
        self.wait_token(self.rate.as_ref()).await
    }

    pub(super) async fn wait_connect_token(&self) -> bool {
        self.wait_token(self.connect_rate.as_ref()).await
    }

    /// Sleeps `time`; `false` when the run was cancelled first.
    pub(super) async fn pause(&self, time: Duration) -> bool {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => false,
            () = tokio::time::sleep(time) => true,
        }
    }
}

pub(super) fn bucket(rate: u64) -> Option<Mutex<TokenBucket>> {
    (rate > 0).then(|| Mutex::new(TokenBucket::new(rate)))
}
