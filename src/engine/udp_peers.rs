//! The source addresses a UDP session has heard from, each a peer with an id given on first
//! sight, in a table whose size is capped (`max-peers=N`, default [`DEFAULT_MAX_PEERS`]): a
//! scan or a flood from 100,000 source ports keeps it, and the window's lists, at the cap.
//! When a new source arrives at a full table, the peer idle longest (no datagram from it for
//! the longest time) is forgotten: `PeerDisconnected` with [`CloseReason::EvictedIdle`],
//! which counts the evictions so far, and the first time a note says the table is full.
//!
//! Finding the longest idle costs nothing per datagram but a counter: sources wait in a
//! queue in the order they were last queued; the front one is evicted only if it has not
//! been heard from since, else it goes to the back (each source is requeued at most once per
//! eviction that meets it).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::SystemTime;

use super::session::SessionContext;
use crate::protocol::{CloseReason, Event, Note, PeerId};
use crate::spec::SessionSpec;

/// Peers a UDP session lists at most, unless its spec says `max-peers=N`.
pub const DEFAULT_MAX_PEERS: usize = 10_000;

/// One known source.
struct Known {
    peer: PeerId,
    /// When it was last heard from (the table's datagram counter).
    last_heard: u64,
}

/// Source addresses seen by a UDP session, each given a peer id on first sight.
pub(super) struct UdpPeers {
    by_addr: HashMap<SocketAddr, Known>,
    by_id: HashMap<PeerId, SocketAddr>,
    /// Sources in the order they were queued, with the count when: the longest idle is at
    /// the front once the stale entries (heard from since) are requeued.
    idle_order: VecDeque<(SocketAddr, u64)>,
    /// Datagrams (and first sights) counted so far: the table's clock.
    heard: u64,
    /// Ids handed out so far; a forgotten peer's id is never given again.
    issued: u64,
    /// The cap.
    max_peers: usize,
    /// Peers forgotten to make room.
    evicted: u64,
    /// Never evicted: a UDP client's target.
    pinned: Option<SocketAddr>,
}

impl UdpPeers {
    /// An empty table capped as `spec` says (`max-peers=N`, else [`DEFAULT_MAX_PEERS`]).
    pub(super) fn new(spec: &SessionSpec) -> Self {
        Self {
            by_addr: HashMap::new(),
            by_id: HashMap::new(),
            idle_order: VecDeque::new(),
            heard: 0,
            issued: 0,
            max_peers: spec.options.max_peers.unwrap_or(DEFAULT_MAX_PEERS).max(1),
            evicted: 0,
            pinned: None,
        }
    }

    /// The peer id of `addr`, which was just heard from; announced with `PeerConnected` the
    /// first time it is seen (after making room in a full table).
    pub(super) fn peer_for(&mut self, context: &SessionContext, addr: SocketAddr) -> PeerId {
        self.heard += 1;
        if let Some(known) = self.by_addr.get_mut(&addr) {
            known.last_heard = self.heard;
            return known.peer;
        }
        if self.by_addr.len() >= self.max_peers {
            self.evict_longest_idle(context);
        }
        self.issued += 1;
        let peer = PeerId(self.issued);
        let last_heard = self.heard;
        self.by_addr.insert(addr, Known { peer, last_heard });
        self.by_id.insert(peer, addr);
        self.idle_order.push_back((addr, last_heard));
        context.sink.send(Event::PeerConnected {
            id: context.id,
            peer,
            addr,
            at: SystemTime::now(),
        });
        peer
    }

    /// Like [`UdpPeers::peer_for`], and the peer is never evicted (a client's target).
    pub(super) fn pinned_peer_for(&mut self, context: &SessionContext, addr: SocketAddr) -> PeerId {
        self.pinned = Some(addr);
        self.peer_for(context, addr)
    }

    /// Forgets the source heard from longest ago, and says so.
    fn evict_longest_idle(&mut self, context: &SessionContext) {
        // Each entry is looked at once at most: a requeued one is current, so it would be
        // met again only after every other.
        for _ in 0..self.idle_order.len() {
            let Some((addr, queued)) = self.idle_order.pop_front() else {
                return;
            };
            let Some(known) = self.by_addr.get(&addr) else {
                continue; // forgotten by the user: a stale entry
            };
            if known.last_heard != queued || self.pinned == Some(addr) {
                // Heard from since it was queued (or never to go): not the longest idle.
                self.idle_order.push_back((addr, known.last_heard));
                continue;
            }
            let peer = known.peer;
            self.by_addr.remove(&addr);
            self.by_id.remove(&peer);
            self.evicted += 1;
            if self.evicted == 1 {
                let note = Note::PeerTableFull {
                    limit: self.max_peers,
                };
                context.sink.note(context.id, None, note);
            }
            context.sink.send(Event::PeerDisconnected {
                id: context.id,
                peer,
                reason: CloseReason::EvictedIdle {
                    limit: self.max_peers,
                    evicted: self.evicted,
                },
                at: SystemTime::now(),
            });
            return;
        }
    }

    /// Whether `addr` has been seen (and not forgotten).
    pub(super) fn knows(&self, addr: SocketAddr) -> bool {
        self.by_addr.contains_key(&addr)
    }

    /// The address of `peer`, if it is known.
    pub(super) fn addr_of(&self, peer: PeerId) -> Option<SocketAddr> {
        self.by_id.get(&peer).copied()
    }

    /// Every known peer with its address.
    pub(super) fn all(&self) -> Vec<(PeerId, SocketAddr)> {
        self.by_id.iter().map(|(p, a)| (*p, *a)).collect()
    }

    /// How many peers are listed now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// Forgets `peer` (its id is never given again) and says so with `PeerDisconnected`.
    pub(super) fn forget(&mut self, context: &SessionContext, peer: PeerId) {
        if let Some(addr) = self.by_id.remove(&peer) {
            self.by_addr.remove(&addr);
            context.sink.send(Event::PeerDisconnected {
                id: context.id,
                peer,
                reason: CloseReason::ForgottenByUser,
                at: SystemTime::now(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::watch;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::engine::sink::EventSink;
    use crate::protocol::SessionId;

    fn context() -> (SessionContext, crossbeam_channel::Receiver<Event>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let context = SessionContext {
            id: SessionId(1),
            sink: EventSink::without_waker(tx),
            cancel: CancellationToken::new(),
            reactions: watch::channel(Arc::default()).1,
        };
        (context, rx)
    }

    fn source(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn evicted(events: &crossbeam_channel::Receiver<Event>) -> Vec<(PeerId, u64)> {
        events
            .try_iter()
            .filter_map(|e| match e {
                Event::PeerDisconnected {
                    peer,
                    reason: CloseReason::EvictedIdle { evicted, .. },
                    ..
                } => Some((peer, evicted)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_full_table_forgets_the_source_idle_longest() {
        let (context, events) = context();
        let spec = "udp-server:0,max-peers=3".parse().expect("spec");
        let mut peers = UdpPeers::new(&spec);
        let a = peers.peer_for(&context, source(1));
        let b = peers.peer_for(&context, source(2));
        let c = peers.peer_for(&context, source(3));
        // a speaks again: b is now the longest idle.
        assert_eq!(peers.peer_for(&context, source(1)), a);
        events.try_iter().count();
        peers.peer_for(&context, source(4));
        assert_eq!(evicted(&events), [(b, 1)]);
        peers.peer_for(&context, source(5));
        assert_eq!(evicted(&events), [(c, 2)]);
        peers.peer_for(&context, source(6));
        assert_eq!(evicted(&events), [(a, 3)]);
        assert_eq!(peers.len(), 3);
        assert!(!peers.knows(source(1)));
    }

    #[test]
    fn the_table_stays_capped_whatever_the_flood_and_says_so_once() {
        let (context, events) = context();
        let spec = "udp-server:0,max-peers=100".parse().expect("spec");
        let mut peers = UdpPeers::new(&spec);
        let lasting = source(1);
        for port in 2..20_000 {
            peers.peer_for(&context, source(port));
            peers.peer_for(&context, lasting); // a peer that keeps talking stays
        }
        assert_eq!(peers.len(), 100);
        assert!(peers.knows(lasting));
        assert!(
            peers.idle_order.len() <= 2 * 100,
            "{}",
            peers.idle_order.len()
        );
        let notes = events
            .try_iter()
            .filter(|e| matches!(e, Event::Note { .. }))
            .count();
        assert_eq!(notes, 1, "the table being full is said once");
    }

    #[test]
    fn a_clients_target_is_never_evicted() {
        let (context, events) = context();
        let spec = "udp-client:127.0.0.1:9,max-peers=2".parse().expect("spec");
        let mut peers = UdpPeers::new(&spec);
        let target = peers.pinned_peer_for(&context, source(9));
        for port in 100..200 {
            peers.peer_for(&context, source(port));
        }
        assert!(peers.knows(source(9)));
        assert!(evicted(&events).iter().all(|(peer, _)| *peer != target));
    }
}
