//! Sessions as the user sees them: what each is, its state, its peers with their counters,
//! and its traffic log, updated by [`Sessions::apply`] from engine events.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::model::log::{EntryKind, NO_PEER, TrafficLog};
use crate::model::note::{LogNote, PeerRole};
use crate::protocol::{CloseReason, Direction, Event, PeerId, SessionId, StartFailure};
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
    /// Every peer seen, in order of arrival; log entries refer to peers by index here.
    pub peers: Vec<PeerInfo>,
    current_peers: HashMap<PeerId, u32>,
    /// Everything that went in and out.
    pub log: TrafficLog,
    /// Totals.
    pub counters: Counters,
}

impl Session {
    /// A stopped session with an empty log bounded by `log_max_bytes`.
    pub fn new(id: SessionId, spec: SessionSpec, log_max_bytes: usize) -> Self {
        Self {
            id,
            spec,
            state: SessionState::Stopped,
            peers: Vec::new(),
            current_peers: HashMap::new(),
            log: TrafficLog::new(log_max_bytes),
            counters: Counters::default(),
        }
    }

    /// `TCP Server 0.0.0.0:6001`.
    pub fn title(&self) -> String {
        format!("{} {}", self.spec.kind.label(), self.spec.address())
    }

    /// Whether it is starting or up.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            SessionState::Starting | SessionState::Running { .. }
        )
    }

    /// The peers connected now.
    pub fn connected_peers(&self) -> impl Iterator<Item = &PeerInfo> {
        self.peers.iter().filter(|p| p.connected)
    }

    /// The index into [`Session::peers`] of a current peer.
    pub fn peer_index(&self, peer: PeerId) -> Option<u32> {
        self.current_peers.get(&peer).copied()
    }

    /// The address of a log entry's peer, if it has one.
    pub fn peer_addr(&self, peer_index: u32) -> Option<SocketAddr> {
        self.peers.get(peer_index as usize).map(|p| p.addr)
    }

    /// Marks the session as starting (the UI sent `Start`).
    pub fn mark_starting(&mut self) {
        self.state = SessionState::Starting;
    }

    fn note(&mut self, peer: u32, at: SystemTime, note: &LogNote) {
        self.log.push_note(peer, at, note);
    }

    /// A note after which no bytes come on the peer's streams (all, for [`NO_PEER`]).
    fn stream_end_note(&mut self, peer: u32, at: SystemTime, note: &LogNote) {
        self.log.push_stream_end(peer, at, note);
    }

    fn apply(&mut self, event: Event) {
        let now = SystemTime::now();
        match event {
            Event::Started { local_addr, at, .. } => {
                self.state = SessionState::Running { local_addr };
                self.current_peers.clear();
                let kind = self.spec.kind;
                self.note(NO_PEER, at, &LogNote::Started { kind, local_addr });
            }
            Event::StartFailed { reason, .. } => {
                self.note(NO_PEER, now, &LogNote::StartFailed(reason.clone()));
                self.state = SessionState::Failed(reason);
            }
            Event::PeerConnected { peer, addr, at, .. } => {
                let index = u32::try_from(self.peers.len()).unwrap_or(NO_PEER - 1);
                self.peers.push(PeerInfo {
                    id: peer,
                    addr,
                    connected: true,
                    disconnect_reason: None,
                    rx_bytes: 0,
                    tx_bytes: 0,
                    rx_packets: 0,
                    tx_packets: 0,
                });
                self.current_peers.insert(peer, index);
                // A UDP client's or group's first peer is what it sends to; every later one
                // is a source heard from (a broadcast responder, a group member).
                let first = self.current_peers.len() == 1;
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
                let Some(index) = self.current_peers.remove(&peer) else {
                    return;
                };
                if let Some(info) = self.peers.get_mut(index as usize) {
                    info.connected = false;
                    info.disconnect_reason = Some(reason.clone());
                }
                self.stream_end_note(index, at, &LogNote::PeerDisconnected(reason));
            }
            Event::Traffic {
                peer,
                dir,
                data,
                at,
                ..
            } => {
                let index = self.current_peers.get(&peer).copied().unwrap_or(NO_PEER);
                let len = data.len() as u64;
                let info = self.peers.get_mut(index as usize);
                let kind = match dir {
                    Direction::Rx => {
                        self.counters.rx_bytes += len;
                        self.counters.rx_packets += 1;
                        if let Some(info) = info {
                            info.rx_bytes += len;
                            info.rx_packets += 1;
                        }
                        EntryKind::Rx
                    }
                    Direction::Tx => {
                        self.counters.tx_bytes += len;
                        self.counters.tx_packets += 1;
                        if let Some(info) = info {
                            info.tx_bytes += len;
                            info.tx_packets += 1;
                        }
                        EntryKind::Tx
                    }
                };
                self.log.push(kind, index, at, &data);
            }
            Event::Warning { warning, at, .. } => {
                self.note(NO_PEER, at, &LogNote::Warning(warning));
            }
            Event::Note { peer, note, at, .. } => {
                let index = peer
                    .and_then(|p| self.current_peers.get(&p).copied())
                    .unwrap_or(NO_PEER);
                self.note(index, at, &LogNote::Note(note));
            }
            // Progress is the window's business (see `app`); the log gets a `Note`. An
            // acknowledgement changes nothing the user sees.
            Event::JobProgress { .. } | Event::JobEnded { .. } | Event::ReactionsApplied { .. } => {
            }
            Event::Stopped { reason, .. } => {
                for index in self.current_peers.drain().map(|(_, i)| i) {
                    if let Some(info) = self.peers.get_mut(index as usize) {
                        info.connected = false;
                    }
                }
                match reason {
                    None => {
                        self.state = SessionState::Stopped;
                        self.stream_end_note(NO_PEER, now, &LogNote::Stopped);
                    }
                    Some(reason) => {
                        self.stream_end_note(NO_PEER, now, &LogNote::Ended(reason.clone()));
                        self.state = SessionState::Ended(reason);
                    }
                }
            }
        }
    }
}

/// All sessions, in the order they were created.
pub struct Sessions {
    sessions: Vec<Session>,
    next_id: u64,
    log_max_bytes: usize,
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
        }
    }

    /// Adds a stopped session; returns its id.
    pub fn create(&mut self, spec: SessionSpec) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id += 1;
        self.sessions
            .push(Session::new(id, spec, self.log_max_bytes));
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

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
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
            at,
        });
        sessions.apply(Event::Traffic {
            id,
            peer: PeerId(1),
            dir: Direction::Tx,
            data: Bytes::from_static(b"12"),
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
            s.peers[0].disconnect_reason,
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
        assert_eq!(s.peers[1].rx_bytes, 5);
        assert_eq!((s.peers[1].rx_packets, s.peers[0].tx_packets), (1, 1));
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
            at,
        });
        let s = sessions.get(id).expect("exists");
        assert_eq!(s.peers.len(), 2);
        assert_eq!(s.peers[0].rx_bytes, 0);
        assert_eq!(s.peers[1].rx_bytes, 1);
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
