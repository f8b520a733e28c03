//! Sessions as the user sees them: what each is, its state, its peers with their counters,
//! and its traffic log, updated by [`Sessions::apply`] from engine events.

use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;

use crate::model::log::{EntryKind, NO_PEER, SpillConfig, SpillProblem, TrafficLog};
use crate::model::note::{LogNote, PeerRole};
use crate::model::peers::PeerTable;
use crate::protocol::{
    CloseReason, Direction, Event, PeerId, SessionId, StartFailure, Waiting, Warning,
};
use crate::relay::{Leg, RelayFaults};
use crate::serial::ModemLines;
use crate::spec::{SessionKind, SessionSpec};

/// Where a session is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Not running (never started, or stopped by the user).
    Stopped,
    /// Start was asked; binding or connecting.
    Starting,
    /// Up: listening, bound, or connected.
    Running {
        /// The local address in use.
        local_addr: SocketAddr,
    },
    /// Could not start (bind or connect failed).
    Failed(StartFailure),
    /// Ran, then ended by itself (e.g. the server closed the connection).
    Ended(CloseReason),
}

/// One peer of a session: a TCP connection or a UDP source.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The engine's id for it (unique within one run of the session).
    pub id: PeerId,
    /// Its address.
    pub addr: SocketAddr,
    /// Whether it is connected now.
    pub connected: bool,
    /// Why it went away, once it has.
    pub disconnect_reason: Option<CloseReason>,
    /// Bytes received from it.
    pub rx_bytes: u64,
    /// Bytes sent to it.
    pub tx_bytes: u64,
    /// Reads or datagrams received from it.
    pub rx_packets: u64,
    /// Sends to it completed.
    pub tx_packets: u64,
    /// A relay pair: what each direction (up, down) holds back, as last reported.
    pub held: [HeldBack; 2],
}

impl PeerInfo {
    /// What a relay pair holds back in one direction.
    pub fn held(&self, leg: Leg) -> HeldBack {
        self.held[leg_slot(leg)]
    }
}

/// Chunks a relay pair read in one direction and has not forwarded (it is held).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldBack {
    /// Chunks waiting.
    pub chunks: u64,
    /// Their bytes.
    pub bytes: u64,
}

fn leg_slot(leg: Leg) -> usize {
    match leg {
        Leg::Up => 0,
        Leg::Down => 1,
    }
}

/// Totals of one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Reads or datagrams received.
    pub rx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Sends completed.
    pub tx_packets: u64,
}

/// One session.
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// What it opens.
    pub spec: SessionSpec,
    /// Where it is in its life.
    pub state: SessionState,
    /// The peers connected now and those gone that the log still names (bounded); log
    /// entries refer to peers by their index here.
    pub peers: PeerTable,
    /// Everything that went in and out.
    pub log: TrafficLog,
    /// Totals.
    pub counters: Counters,
    /// How many times the engine confirmed that new auto-reply rules or reply framing are in
    /// effect ([`Event::ReactionsApplied`]): what was sent after the count moved is answered
    /// by the new rules.
    pub reactions_applied: u64,
    /// A relay: the faults in force, as the engine last confirmed them (the spec's until it
    /// runs), and how many times it confirmed a change ([`Event::FaultsApplied`]).
    pub faults: RelayFaults,
    /// How many [`Event::FaultsApplied`] came in.
    pub faults_applied: u64,
    /// A serial port's control lines while it is open ([`Event::SerialLines`]); `None` when
    /// it is not open.
    pub serial_lines: Option<ModemLines>,
}

impl Session {
    /// A stopped session with an empty log bounded by `log_max_bytes` in memory, spilling
    /// to disk as `spill` says.
    pub fn new(
        id: SessionId,
        spec: SessionSpec,
        log_max_bytes: usize,
        spill: Option<SpillConfig>,
    ) -> Self {
        let faults = *spec.options.faults;
        Self {
            id,
            spec,
            state: SessionState::Stopped,
            peers: PeerTable::default(),
            log: TrafficLog::with_spill(log_max_bytes, spill),
            counters: Counters::default(),
            reactions_applied: 0,
            faults,
            faults_applied: 0,
            serial_lines: None,
        }
    }

    /// Whether it is starting or up.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            SessionState::Starting | SessionState::Running { .. }
        )
    }

    /// The peers connected now, in order of arrival.
    pub fn connected_peers(&self) -> impl Iterator<Item = &PeerInfo> {
        self.peers.iter().map(|(_, p)| p).filter(|p| p.connected)
    }

    /// The index into [`Session::peers`] of a current peer.
    pub fn peer_index(&self, peer: PeerId) -> Option<u32> {
        self.peers.index_of(peer)
    }

    /// The address of a log entry's peer, if it has one (and it is still kept).
    pub fn peer_addr(&self, peer_index: u32) -> Option<SocketAddr> {
        self.peers.get(peer_index).map(|p| p.addr)
    }

    /// A serial session's port path, which names its one peer (the device has no address).
    pub fn device_path(&self) -> Option<&str> {
        (self.spec.kind == SessionKind::Serial).then_some(self.spec.host.as_str())
    }

    /// Marks the session as starting (the UI sent `Start`).
    pub fn mark_starting(&mut self) {
        self.state = SessionState::Starting;
    }

    fn note(&mut self, peer: u32, at: SystemTime, note: &LogNote) {
        self.log.push_note(peer, at, note);
    }

    fn apply(&mut self, event: Event) {
        self.apply_event(event);
        self.note_spill_problem();
        // Peers gone whose last entry the log has evicted are forgotten.
        self.peers.prune(self.log.first_seq());
    }

    /// Tells, in the log, of a failed write of its older part to disk, or of a full disk.
    fn note_spill_problem(&mut self) {
        let warning = match self.log.take_spill_problem() {
            None => return,
            Some(SpillProblem::DiskFull { cause }) => Warning::LogDiskFull { cause },
            Some(SpillProblem::WriteFailed {
                cause,
                lost_entries,
            }) => Warning::LogSpillFailed {
                cause,
                lost_entries,
            },
        };
        self.note(NO_PEER, SystemTime::now(), &LogNote::Warning(warning));
    }

    /// Between frames: the log's disk upkeep (see [`TrafficLog::maintain`]), and a note
    /// when writing to disk failed.
    pub fn maintain(&mut self) {
        self.log.maintain();
        self.note_spill_problem();
    }

    /// Files bytes that moved (one read, datagram or completed send) in the log and counts
    /// them.
    fn traffic(
        &mut self,
        peer: PeerId,
        dir: Direction,
        data: Bytes,
        injected: bool,
        at: SystemTime,
    ) {
        let index = self.peers.index_of(peer).unwrap_or(NO_PEER);
        let len = data.len() as u64;
        let info = self.peers.get_mut(index);
        // A relay's up chunks count (and are filed) as received from its client, its
        // down chunks as sent to it (see `EntryKind`).
        let kind = match dir {
            Direction::Rx | Direction::Up => {
                self.counters.rx_bytes += len;
                self.counters.rx_packets += 1;
                if let Some(info) = info {
                    info.rx_bytes += len;
                    info.rx_packets += 1;
                }
                EntryKind::Rx
            }
            Direction::Tx | Direction::Down => {
                self.counters.tx_bytes += len;
                self.counters.tx_packets += 1;
                if let Some(info) = info {
                    info.tx_bytes += len;
                    info.tx_packets += 1;
                }
                EntryKind::Tx
            }
        };
        let seq = self.log.push_shared(kind, index, at, data);
        if dir.leg().is_some() {
            self.log.mark_relayed(seq, injected);
        }
    }

    fn apply_event(&mut self, event: Event) {
        let now = SystemTime::now();
        match event {
            Event::Started { local_addr, at, .. } => {
                self.state = SessionState::Running { local_addr };
                let kind = self.spec.kind;
                let seq = self
                    .log
                    .push_note(NO_PEER, at, &LogNote::Started { kind, local_addr });
                // Left over from a run that ended without a word: gone now.
                self.peers.all_leave(seq);
            }
            Event::StartFailed { reason, .. } => {
                self.note(NO_PEER, now, &LogNote::StartFailed(reason.clone()));
                self.state = SessionState::Failed(reason);
            }
            Event::PeerConnected { peer, addr, at, .. } => {
                let index = self.peers.arrive(peer, addr);
                // A UDP client's or group's first peer is what it sends to; every later one
                // is a source heard from (a broadcast responder, a group member).
                let first = self.peers.connected_count() == 1;
                let role = match self.spec.kind {
                    kind if kind.is_tcp() => PeerRole::Connected,
                    SessionKind::UdpClient if first => PeerRole::Target,
                    SessionKind::UdpGroup if first => PeerRole::Group,
                    _ => PeerRole::NewPeer,
                };
                self.note(index, at, &LogNote::PeerConnected(role));
            }
            Event::PeerDisconnected {
                peer, reason, at, ..
            } => {
                // A serial port's one peer is its device: gone, its lines are unknown.
                self.serial_lines = None;
                let Some(index) = self.peers.leave(peer) else {
                    return;
                };
                if let Some(info) = self.peers.get_mut(index) {
                    info.disconnect_reason = Some(reason.clone());
                }
                let seq = self
                    .log
                    .push_stream_end(index, at, &LogNote::PeerDisconnected(reason));
                self.peers.left_at(index, seq);
            }
            Event::Traffic {
                peer,
                dir,
                data,
                injected,
                at,
                ..
            } => self.traffic(peer, dir, data, injected, at),
            Event::Datagrams { datagrams, at, .. } => {
                for (peer, data) in datagrams {
                    self.traffic(peer, Direction::Rx, data, false, at);
                }
            }
            Event::SerialLines { lines, .. } => self.serial_lines = Some(lines),
            Event::FaultsApplied { faults, .. } => {
                self.faults = faults;
                self.faults_applied += 1;
            }
            Event::RelayQueue {
                peer,
                leg,
                chunks,
                bytes,
                ..
            } => {
                let index = self.peers.index_of(peer).unwrap_or(NO_PEER);
                if let Some(info) = self.peers.get_mut(index) {
                    info.held[leg_slot(leg)] = HeldBack { chunks, bytes };
                }
            }
            Event::Warning { warning, at, .. } => {
                self.note(NO_PEER, at, &LogNote::Warning(warning));
            }
            Event::Note { peer, note, at, .. } => {
                if Waiting::of(&note).is_some() {
                    // Not connected (a serial device away) until the next `Started`: the
                    // list says "connecting…", not the connection that ended.
                    self.state = SessionState::Starting;
                }
                let index = peer.and_then(|p| self.peers.index_of(p)).unwrap_or(NO_PEER);
                self.note(index, at, &LogNote::Note(note));
            }
            Event::ReactionsApplied { .. } => self.reactions_applied += 1,
            // Progress is the window's business (see `app`); the log gets a `Note`.
            Event::JobProgress { .. }
            | Event::JobEnded { .. }
            | Event::Scenario { .. }
            | Event::Load { .. } => {}
            Event::Stopped { reason, .. } => {
                self.serial_lines = None;
                let seq = match reason {
                    None => {
                        self.state = SessionState::Stopped;
                        self.log.push_stream_end(NO_PEER, now, &LogNote::Stopped)
                    }
                    Some(reason) => {
                        let note = LogNote::Ended(reason.clone());
                        self.state = SessionState::Ended(reason);
                        self.log.push_stream_end(NO_PEER, now, &note)
                    }
                };
                self.peers.all_leave(seq);
            }
        }
    }
}

/// All sessions, in the order they were created.
pub struct Sessions {
    sessions: Vec<Session>,
    next_id: u64,
    log_max_bytes: usize,
    spill: Option<SpillConfig>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new(crate::model::log::DEFAULT_MAX_BYTES)
    }
}

impl Sessions {
    /// No sessions yet; each log will be bounded by `log_max_bytes`.
    pub fn new(log_max_bytes: usize) -> Self {
        Self {
            sessions: Vec::new(),
            next_id: 1,
            log_max_bytes,
            spill: None,
        }
    }

    /// Spills the logs past their memory bound to disk as `spill` says (`None`: no more;
    /// what the disk held is dropped), for the sessions there are and those to come.
    pub fn set_spill(&mut self, spill: Option<SpillConfig>) {
        for session in &mut self.sessions {
            session.log.set_spill(spill.clone());
        }
        self.spill = spill;
    }

    /// How the logs spill to disk, if they do.
    pub fn spill(&self) -> Option<&SpillConfig> {
        self.spill.as_ref()
    }

    /// Between frames: every log's disk upkeep (see [`Session::maintain`]).
    pub fn maintain(&mut self) {
        for session in &mut self.sessions {
            session.maintain();
        }
    }

    /// Adds a stopped session; returns its id.
    pub fn create(&mut self, spec: SessionSpec) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        self.sessions.push(Session::new(
            id,
            spec,
            self.log_max_bytes,
            self.spill.clone(),
        ));
        id
    }

    /// A session id no session of the list will have, for a run that is not a session of
    /// the list (the Load test tab's); its events are ignored by the list.
    pub fn reserve_id(&mut self) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Removes a session (its late events are then ignored).
    pub fn remove(&mut self, id: SessionId) -> Option<Session> {
        let index = self.sessions.iter().position(|s| s.id == id)?;
        Some(self.sessions.remove(index))
    }

    /// The session with this id.
    pub fn get(&self, id: SessionId) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The session with this id, mutable.
    pub fn get_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    /// Whether session `id`'s log is waiting for its disk (see [`TrafficLog::spill_behind`]).
    pub fn spill_behind(&mut self, id: SessionId) -> bool {
        self.get_mut(id).is_some_and(|s| s.log.spill_behind())
    }

    /// Whether any session's log is waiting for its disk.
    pub fn any_spill_behind(&mut self) -> bool {
        self.sessions.iter_mut().any(|s| s.log.spill_behind())
    }

    /// All sessions, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.iter()
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Updates the session an event concerns; events of removed sessions are ignored.
    pub fn apply(&mut self, event: Event) {
        if let Some(session) = self.get_mut(event.session()) {
            session.apply(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    use crate::protocol::Note;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A client that waits to connect again (or a serial port whose device is away) is
    /// `Starting` from its note until the next `Started`, not running on the connection that
    /// ended; the note is in its log.
    #[test]
    fn a_reconnect_note_makes_the_session_connecting_until_it_starts_again() {
        let mut sessions = Sessions::default();
        let id = sessions.create(
            "tcp-client:127.0.0.1:6001,reconnect"
                .parse()
                .expect("valid"),
        );
        let at = SystemTime::now();
        let started = |sessions: &mut Sessions, port| {
            sessions.apply(Event::Started {
                id,
                local_addr: addr(port),
                at,
            });
        };
        let state = |sessions: &Sessions| sessions.get(id).expect("session").state.clone();
        started(&mut sessions, 50000);
        let why = crate::protocol::Disconnected::Ended(CloseReason::ClosedByPeer);
        sessions.apply(Event::Note {
            id,
            peer: None,
            note: Note::Reconnecting {
                why,
                every_ms: 1000,
            },
            at,
        });
        assert_eq!(state(&sessions), SessionState::Starting);
        started(&mut sessions, 50001);
        assert_eq!(
            state(&sessions),
            SessionState::Running {
                local_addr: addr(50001)
            }
        );
        let path = "/dev/ttyUSB0".to_string();
        sessions.apply(Event::Note {
            id,
            peer: None,
            note: Note::SerialWaiting { path },
            at,
        });
        assert_eq!(state(&sessions), SessionState::Starting);
        let log = &sessions.get(id).expect("session").log;
        assert_eq!(log.len(), 4, "two starts and two notes logged");
    }

    #[test]
    fn applies_a_server_lifecycle() {
        let mut sessions = Sessions::default();
        let spec: SessionSpec = "tcp-server:6001".parse().expect("valid");
        let id = sessions.create(spec);
        let at = SystemTime::now();
        sessions.apply(Event::Started {
            id,
            local_addr: addr(6001),
            at: std::time::SystemTime::now(),
        });
        sessions.apply(Event::PeerConnected {
            id,
            peer: PeerId(1),
            addr: addr(5000),
            at,
        });
        sessions.apply(Event::PeerConnected {
            id,
            peer: PeerId(2),
            addr: addr(5001),
            at,
        });
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(2),
            dir: Direction::Rx,
            data: Bytes::from_static(b"hello"),
            injected: false,
            at,
        });
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Tx,
            data: Bytes::from_static(b"12"),
            injected: false,
            at,
        });
        sessions.apply(Event::PeerDisconnected {
            id,
            peer: PeerId(1),
            reason: CloseReason::ClosedByPeer,
            at,
        });
        let s = sessions.get(id).expect("exists");
        assert_eq!(
            s.state,
            SessionState::Running {
                local_addr: addr(6001)
            }
        );
        assert_eq!(
            s.peers.get(0).expect("peer").disconnect_reason,
            Some(CloseReason::ClosedByPeer)
        );
        assert_eq!(
            s.counters,
            Counters {
                rx_bytes: 5,
                rx_packets: 1,
                tx_bytes: 2,
                tx_packets: 1
            }
        );
        assert_eq!(
            s.connected_peers().map(|p| p.addr).collect::<Vec<_>>(),
            vec![addr(5001)]
        );
        let peer = |i| s.peers.get(i).expect("peer");
        assert_eq!(peer(1).rx_bytes, 5);
        assert_eq!((peer(1).rx_packets, peer(0).tx_packets), (1, 1));
        let rx = (0..s.log.len())
            .filter_map(|i| s.log.get_by_index(i))
            .find(|e| e.kind == EntryKind::Rx)
            .expect("rx entry");
        assert_eq!(rx.bytes, b"hello");
        assert_eq!(s.peer_addr(rx.peer), Some(addr(5001)));

        sessions.apply(Event::Stopped { id, reason: None });
        let s = sessions.get(id).expect("exists");
        assert_eq!(s.state, SessionState::Stopped);
        assert_eq!(s.connected_peers().count(), 0);
    }

    #[test]
    fn a_udp_clients_target_and_responders_are_told_apart() {
        for (spec, first) in [
            ("udp-client:255.255.255.255:9", PeerRole::Target),
            ("udp-group:239.1.2.3:5000", PeerRole::Group),
        ] {
            let mut sessions = Sessions::default();
            let id = sessions.create(spec.parse().expect("valid"));
            let at = SystemTime::now();
            sessions.apply(Event::Started {
                id,
                local_addr: addr(0),
                at: std::time::SystemTime::now(),
            });
            for (peer, port) in [(1, 9), (2, 5001), (3, 5002)] {
                sessions.apply(Event::PeerConnected {
                    id,
                    peer: PeerId(peer),
                    addr: addr(port),
                    at,
                });
            }
            let s = sessions.get(id).expect("exists");
            let notes: Vec<LogNote> = (0..s.log.len())
                .filter_map(|i| s.log.get_by_index(i))
                .filter(|e| e.peer != NO_PEER)
                .filter_map(|e| e.note())
                .collect();
            let new_peer = LogNote::PeerConnected(PeerRole::NewPeer);
            assert_eq!(
                notes,
                [LogNote::PeerConnected(first), new_peer.clone(), new_peer],
                "{spec}"
            );
        }
    }

    #[test]
    fn restart_reuses_peer_ids_without_confusing_history() {
        let mut sessions = Sessions::default();
        let id = sessions.create("tcp-server:6001".parse().expect("valid"));
        let at = SystemTime::now();
        sessions.apply(Event::Started {
            id,
            local_addr: addr(6001),
            at: std::time::SystemTime::now(),
        });
        sessions.apply(Event::PeerConnected {
            id,
            peer: PeerId(1),
            addr: addr(5000),
            at,
        });
        sessions.apply(Event::Stopped { id, reason: None });
        sessions.apply(Event::Started {
            id,
            local_addr: addr(6001),
            at: std::time::SystemTime::now(),
        });
        sessions.apply(Event::PeerConnected {
            id,
            peer: PeerId(1),
            addr: addr(6000),
            at,
        });
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Rx,
            data: Bytes::from_static(b"x"),
            injected: false,
            at,
        });
        let s = sessions.get(id).expect("exists");
        assert_eq!(s.peers.ever_seen(), 2);
        let peer = |i| s.peers.get(i).expect("peer");
        assert_eq!(peer(0).rx_bytes, 0);
        assert_eq!(peer(1).rx_bytes, 1);
    }

    #[test]
    fn peers_that_left_are_forgotten_once_the_log_no_longer_names_them() {
        // A small log (two arena chunks), and far more peers coming and going than it holds.
        let mut sessions = Sessions::new(8 * 1024 * 1024);
        let id = sessions.create("udp-server:7000".parse().expect("valid"));
        let at = SystemTime::now();
        sessions.apply(Event::Started {
            id,
            local_addr: addr(7000),
            at,
        });
        let lasting = PeerId(u64::MAX);
        sessions.apply(Event::PeerConnected {
            id,
            peer: lasting,
            addr: addr(9),
            at,
        });
        for n in 0..30_000u16 {
            let peer = PeerId(u64::from(n));
            sessions.apply(Event::PeerConnected {
                id,
                peer,
                addr: addr(10_000 + n),
                at,
            });
            sessions.apply(Event::Traffic {
                id,
                peer,
                dir: Direction::Rx,
                data: Bytes::from(vec![0; 1024]),
                injected: false,
                at,
            });
            sessions.apply(Event::PeerDisconnected {
                id,
                peer,
                reason: CloseReason::ForgottenByUser,
                at,
            });
        }
        let s = sessions.get(id).expect("exists");
        assert_eq!(s.peers.ever_seen(), 30_001);
        let kept = s.peers.kept_count();
        assert!(kept < crate::model::peers::MAX_GONE_PEERS, "{kept} kept");
        assert!(s.peers.forgotten() > 20_000, "{}", s.peers.forgotten());
        // The peer that stayed is still there, with its address, and so is every peer an
        // entry of the log still names.
        assert_eq!(
            s.connected_peers().map(|p| p.id).collect::<Vec<_>>(),
            [lasting]
        );
        for seq in s.log.first_seq()..s.log.first_seq() + s.log.len() as u64 {
            let entry = s.log.get(seq).expect("entry");
            if entry.peer != NO_PEER {
                assert!(
                    s.peer_addr(entry.peer).is_some(),
                    "entry {seq} names a kept peer"
                );
            }
        }
        assert_eq!(s.counters.rx_packets, 30_000);
    }

    #[test]
    fn failures_are_visible_in_state_and_log() {
        let mut sessions = Sessions::default();
        let id = sessions.create("tcp-client:127.0.0.1:1".parse().expect("valid"));
        sessions.get_mut(id).expect("exists").mark_starting();
        assert_eq!(
            sessions.get(id).expect("exists").state,
            SessionState::Starting
        );
        let refused = StartFailure::Connect {
            addr: addr(1),
            cause: crate::protocol::OsError::ConnectionRefused,
        };
        sessions.apply(Event::StartFailed {
            id,
            reason: refused.clone(),
        });
        let s = sessions.get(id).expect("exists");
        assert_eq!(s.state, SessionState::Failed(refused.clone()));
        let last = s.log.get_by_index(s.log.len() - 1).expect("entry");
        assert_eq!(
            (last.kind, last.note()),
            (EntryKind::Error, Some(LogNote::StartFailed(refused)))
        );
        // Events for a removed session are ignored.
        sessions.remove(id);
        sessions.apply(Event::Stopped { id, reason: None });
        assert!(sessions.is_empty());
    }
}
