//! Engine jobs that watch a session's events (a scenario waits for what its peer sends):
//! the [`EventSink`](super::EventSink) shows each event to the taps of its session right
//! before delivering it, so a job sees received bytes and connects in the order the log
//! does. The taps also keep each session's state (up or not, its peers), so a job attached
//! to a session that is already running knows where it stands (a `reconnect` session
//! waiting for its peer included).
//!
//! Cost when nothing watches: one atomic load per traffic event; lifecycle events (start,
//! stop, connect, disconnect) take a lock to keep the state.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::mpsc;

use crate::protocol::{Direction, Event, Gone, JobId, PeerId, SessionId, Waiting};

/// What a session is, as its events told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionState {
    /// `Started` came and no `Stopped` since.
    pub up: bool,
    /// Why it ended (could not start, or stopped), if it has since it was last started.
    pub ended: Option<Gone>,
    /// Connected peers (a client session's connection, a server's clients).
    pub peers: BTreeSet<PeerId>,
    /// What a `reconnect` session waits for, since it said so and until it starts again.
    pub waiting: Option<Waiting>,
}

impl SessionState {
    /// Follows a lifecycle event of the session (other events change nothing).
    pub(crate) fn follow(&mut self, event: &Event) {
        match event {
            Event::Started { .. } => {
                self.up = true;
                self.ended = None;
                self.waiting = None;
            }
            Event::StartFailed { reason, .. } => {
                self.up = false;
                self.peers.clear();
                self.ended = Some(Gone::StartFailed(reason.clone()));
                self.waiting = None;
            }
            Event::Note { note, .. } => {
                if let Some(waiting) = Waiting::of(note) {
                    self.waiting = Some(waiting);
                }
            }
            Event::Stopped { reason, .. } => {
                self.up = false;
                self.peers.clear();
                self.ended = Some(reason.clone().map_or(Gone::Stopped, Gone::Closed));
                self.waiting = None;
            }
            Event::PeerConnected { peer, .. } => {
                self.peers.insert(*peer);
            }
            Event::PeerDisconnected { peer, .. } => {
                self.peers.remove(peer);
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Watched {
    state: SessionState,
    taps: Vec<(JobId, mpsc::UnboundedSender<Event>)>,
}

/// The taps of every session, shared by every clone of the sink.
#[derive(Default)]
pub(crate) struct Taps {
    /// Taps registered, over all sessions: traffic skips the lock when 0.
    active: AtomicUsize,
    sessions: Mutex<HashMap<SessionId, Watched>>,
}

impl std::fmt::Debug for Taps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Taps")
            .field("active", &self.active.load(Ordering::Relaxed))
            .finish()
    }
}

impl Taps {
    /// Notes `event` in its session's state and hands it to the session's taps: received
    /// traffic and lifecycle events (sent traffic, notes and warnings are not needed).
    pub(crate) fn observe(&self, event: &Event) {
        let lifecycle = match event {
            Event::Started { .. }
            | Event::StartFailed { .. }
            | Event::Stopped { .. }
            | Event::PeerConnected { .. }
            | Event::PeerDisconnected { .. } => true,
            Event::Note { note, .. } => Waiting::of(note).is_some(),
            _ => false,
        };
        let received = matches!(
            event,
            Event::Traffic {
                dir: Direction::Rx,
                ..
            } | Event::Datagrams { .. }
        );
        let watched = received && self.active.load(Ordering::Acquire) > 0;
        if !lifecycle && !watched {
            return;
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let id = event.session();
        if lifecycle {
            let watched = sessions.entry(id).or_default();
            watched.state.follow(event);
        }
        if let Some(watched) = sessions.get_mut(&id)
            && !watched.taps.is_empty()
        {
            // A job sees each datagram of a batch as its own event.
            let events = event.clone().unbatched();
            watched
                .taps
                .retain(|(_, tap)| events.iter().all(|e| tap.send(e.clone()).is_ok()));
        }
    }

    /// Forgets what session `id` was: it is being started again.
    pub(crate) fn restart(&self, id: SessionId) {
        let mut map = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(watched) = map.get_mut(&id) {
            watched.state = SessionState::default();
        }
    }

    /// Taps `sessions` for `job`: their events go to `tap` from now on; returns each
    /// session's state as of now (so no event falls between the state and the tap).
    pub(crate) fn subscribe(
        &self,
        job: JobId,
        sessions: &[SessionId],
        tap: &mpsc::UnboundedSender<Event>,
    ) -> Vec<SessionState> {
        let mut map = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .iter()
            .map(|id| {
                let watched = map.entry(*id).or_default();
                watched.taps.push((job, tap.clone()));
                self.active.fetch_add(1, Ordering::AcqRel);
                watched.state.clone()
            })
            .collect()
    }

    /// Removes the taps of `job`.
    pub(crate) fn unsubscribe(&self, job: JobId) {
        let mut map = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        for watched in map.values_mut() {
            let before = watched.taps.len();
            watched.taps.retain(|(j, _)| *j != job);
            let removed = before - watched.taps.len();
            self.active.fetch_sub(removed, Ordering::AcqRel);
        }
    }
}
