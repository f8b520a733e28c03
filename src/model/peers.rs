//! The peers a session has seen, in a table whose memory is bounded. Log entries name their
//! peer by an index into it, handed out in order of arrival. A peer that has left is kept
//! while the log still holds an entry about it (its disconnect note is its last), and at most
//! [`MAX_GONE_PEERS`] of them; older ones are forgotten and counted. So a UDP scan from
//! 100,000 source ports, or a day of clients connecting and leaving, keeps the table (and the
//! window's lists built from it) at the size of what is connected plus what the log shows.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use crate::model::log::NO_PEER;
use crate::model::session::{HeldBack, PeerInfo};
use crate::protocol::PeerId;

/// Most peers that have left kept for the log's sake; beyond it the oldest are forgotten
/// even if old log lines still name them (those lines then show no address).
pub const MAX_GONE_PEERS: usize = 10_000;

/// The peers of one session: those connected now, and those gone that the log still names.
#[derive(Debug, Default)]
pub struct PeerTable {
    /// Kept peers by index, in order of arrival.
    kept: BTreeMap<u32, PeerInfo>,
    /// The index of each peer connected now.
    current: HashMap<PeerId, u32>,
    /// Peers that left, in the order they left, with the sequence number of their last log
    /// entry.
    gone: VecDeque<(u32, u64)>,
    /// Peers ever seen (the next index).
    seen: u32,
    /// Peers that left and were dropped from the table.
    forgotten: u64,
}

impl PeerTable {
    /// Lists a peer that just connected (or was first heard from) and returns its index.
    pub fn arrive(&mut self, id: PeerId, addr: SocketAddr) -> u32 {
        // Four billion peers in one session is beyond any run; the last index is shared then.
        let index = self.seen.min(NO_PEER - 1);
        self.seen = self.seen.saturating_add(1);
        self.kept.insert(
            index,
            PeerInfo {
                id,
                addr,
                connected: true,
                disconnect_reason: None,
                rx_bytes: 0,
                tx_bytes: 0,
                rx_packets: 0,
                tx_packets: 0,
                held: [HeldBack::default(); 2],
            },
        );
        self.current.insert(id, index);
        index
    }

    /// The index of a peer connected now.
    pub fn index_of(&self, id: PeerId) -> Option<u32> {
        self.current.get(&id).copied()
    }

    /// How many peers are connected now.
    pub fn connected_count(&self) -> usize {
        self.current.len()
    }

    /// Marks a connected peer as gone (it is no longer anyone's index for new events) and
    /// returns its index; hand the sequence number of its last log entry to
    /// [`PeerTable::left_at`].
    pub fn leave(&mut self, id: PeerId) -> Option<u32> {
        let index = self.current.remove(&id)?;
        if let Some(info) = self.kept.get_mut(&index) {
            info.connected = false;
        }
        Some(index)
    }

    /// Records that the peer at `index` left and its last log entry is `last_seq`.
    pub fn left_at(&mut self, index: u32, last_seq: u64) {
        self.gone.push_back((index, last_seq));
    }

    /// Every connected peer leaves at once (the session stopped or restarted); `last_seq`
    /// is the last log entry that may name them.
    pub fn all_leave(&mut self, last_seq: u64) {
        let mut indices: Vec<u32> = self.current.drain().map(|(_, index)| index).collect();
        indices.sort_unstable();
        for index in indices {
            if let Some(info) = self.kept.get_mut(&index) {
                info.connected = false;
            }
            self.gone.push_back((index, last_seq));
        }
    }

    /// Forgets the peers that left whose last log entry is gone from the log (the log's
    /// first entry is now `first_seq`), and the oldest beyond [`MAX_GONE_PEERS`].
    pub fn prune(&mut self, first_seq: u64) {
        while let Some(&(index, last_seq)) = self.gone.front() {
            if last_seq >= first_seq && self.gone.len() <= MAX_GONE_PEERS {
                break;
            }
            self.gone.pop_front();
            if self.kept.remove(&index).is_some() {
                self.forgotten += 1;
            }
        }
    }

    /// The kept peer at `index`.
    pub fn get(&self, index: u32) -> Option<&PeerInfo> {
        self.kept.get(&index)
    }

    /// The kept peer at `index`, mutable.
    pub fn get_mut(&mut self, index: u32) -> Option<&mut PeerInfo> {
        self.kept.get_mut(&index)
    }

    /// Every kept peer with its index, in order of arrival.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &PeerInfo)> {
        self.kept.iter().map(|(index, info)| (*index, info))
    }

    /// How many peers are kept (connected, or gone and still named by the log).
    pub fn kept_count(&self) -> usize {
        self.kept.len()
    }

    /// Peers ever seen by the session (connected, kept or forgotten).
    pub fn ever_seen(&self) -> u64 {
        u64::from(self.seen)
    }

    /// Peers that left and were dropped from the table.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: [u8; 4], port: u16) -> SocketAddr {
        SocketAddr::from((ip, port))
    }

    #[test]
    fn gone_peers_are_kept_while_the_log_names_them() {
        let mut table = PeerTable::default();
        let a = table.arrive(PeerId(1), addr([127, 0, 0, 1], 5000));
        let b = table.arrive(PeerId(2), addr([127, 0, 0, 1], 5001));
        assert_eq!((a, b), (0, 1));
        assert_eq!(table.leave(PeerId(1)), Some(a));
        table.left_at(a, 10);
        assert_eq!(table.index_of(PeerId(1)), None);
        assert_eq!(table.index_of(PeerId(2)), Some(1));
        // The log still starts at or before its last entry: kept.
        table.prune(10);
        assert_eq!(table.get(a).map(|p| p.connected), Some(false));
        // Evicted past it: forgotten.
        table.prune(11);
        assert!(table.get(a).is_none());
        assert_eq!(
            (table.kept_count(), table.forgotten(), table.ever_seen()),
            (1, 1, 2)
        );
        // A session stop: everyone leaves.
        table.all_leave(20);
        assert_eq!(table.connected_count(), 0);
        table.prune(21);
        assert_eq!(table.kept_count(), 0);
    }

    #[test]
    fn at_most_so_many_gone_peers_are_kept() {
        let mut table = PeerTable::default();
        for n in 0..(MAX_GONE_PEERS as u64 + 500) {
            let index = table.arrive(PeerId(n), addr([10, 0, 0, 1], 1));
            table.leave(PeerId(n));
            table.left_at(index, n);
            table.prune(0); // the log still holds everything
        }
        assert_eq!(table.kept_count(), MAX_GONE_PEERS);
        assert_eq!(table.forgotten(), 500);
        // The oldest went first.
        assert!(table.get(499).is_none());
        assert!(table.get(500).is_some());
    }
}
