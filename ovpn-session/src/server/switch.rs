//! Ethernet mode's switch: which session a MAC address is behind, learned from the source
//! addresses of the frames each client sends, forgotten after the ageing time or when the
//! session ends (OpenVPN's TAP `client-to-client`, a learning bridge's table).
//!
//! The table is bounded: each session holds at most `max_per_session` addresses (OpenVPN's
//! `max-routes-per-client`), so a client cannot grow it without limit, and an address another
//! live session holds is not taken over before it ages out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ether::MacAddr;

/// How frames are switched in ethernet mode ([`ServerConfig::switching`](crate::ServerConfig)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Switching {
    /// The server is the switch: it learns each client's MAC addresses, and
    /// [`Server::route_frame`](crate::Server::route_frame) sends a frame to the client behind
    /// its destination, floods broadcast, multicast and unknown destinations, and forwards from
    /// client to client (OpenVPN's `client-to-client` with `dev tap`). For one interface shared
    /// by every client.
    #[default]
    ClientToClient,
    /// As `ClientToClient`, except that a client's frames always go to the interface only
    /// (OpenVPN's TAP server without `client-to-client`): the host decides what reaches other
    /// clients.
    ViaInterface,
    /// No learning: every client has its own interface, and the kernel's bridge switches
    /// (RouterOS's model, a profile's `bridge=`). `route_frame` sends a client's frames to the
    /// interface, and an interface's frames to every client.
    Off,
}

/// Where an Ethernet frame goes, from [`Server::route_frame`](crate::Server::route_frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRoute {
    /// To the interface (the host, or the bridge it is a port of).
    Interface,
    /// To this client only.
    Peer(crate::PeerHandle),
    /// To every logged-in client but the one it came from
    /// ([`Server::flood_peers`](crate::Server::flood_peers)), and also to the interface when
    /// `interface` is true.
    Flood {
        /// Whether the interface gets it too.
        interface: bool,
    },
    /// Nowhere: it is for the client it came from, or it is not an Ethernet frame.
    Drop,
}

/// Why a source address was not learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotLearned {
    /// Another live session has it.
    Taken,
    /// The session holds `max_per_session` addresses already.
    Full,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    slot: usize,
    seen: Instant,
}

/// MAC address to session slot.
#[derive(Debug)]
pub(super) struct MacTable {
    entries: HashMap<MacAddr, Entry>,
    /// Each slot's addresses, so that a session's end frees them.
    by_slot: HashMap<usize, Vec<MacAddr>>,
    pub(super) ageing: Duration,
    pub(super) max_per_session: usize,
}

impl MacTable {
    pub(super) fn new(ageing: Duration, max_per_session: usize) -> Self {
        Self {
            entries: HashMap::new(),
            by_slot: HashMap::new(),
            ageing,
            max_per_session,
        }
    }

    fn fresh(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.seen) < self.ageing
    }

    /// `mac` was seen as the source of a frame from `slot`. Allocates only for a new address.
    pub(super) fn learn(
        &mut self,
        mac: MacAddr,
        slot: usize,
        now: Instant,
    ) -> Result<(), NotLearned> {
        let ageing = self.ageing;
        if let Some(e) = self.entries.get_mut(&mac) {
            // The common case, once per frame: one lookup, no allocation.
            if e.slot == slot {
                e.seen = now;
                return Ok(());
            }
            if now.saturating_duration_since(e.seen) < ageing {
                return Err(NotLearned::Taken);
            }
            // It aged out behind another session: it moves.
            let old = e.slot;
            self.unlink(mac, old);
        }
        let mine = self.by_slot.entry(slot).or_default();
        if mine.len() >= self.max_per_session {
            // Its own oldest address that aged out makes room; else it is full.
            let entries = &self.entries;
            let ageing = self.ageing;
            let stale = mine.iter().position(|m| {
                entries
                    .get(m)
                    .is_none_or(|e| now.saturating_duration_since(e.seen) >= ageing)
            });
            match stale {
                Some(i) => {
                    let old = mine.swap_remove(i);
                    self.entries.remove(&old);
                }
                None => return Err(NotLearned::Full),
            }
        }
        mine.push(mac);
        self.entries.insert(mac, Entry { slot, seen: now });
        Ok(())
    }

    fn unlink(&mut self, mac: MacAddr, slot: usize) {
        if let Some(list) = self.by_slot.get_mut(&slot) {
            list.retain(|m| *m != mac);
        }
        self.entries.remove(&mac);
    }

    /// The session behind `mac`, unless it aged out.
    pub(super) fn lookup(&self, mac: MacAddr, now: Instant) -> Option<usize> {
        self.entries
            .get(&mac)
            .filter(|e| self.fresh(e, now))
            .map(|e| e.slot)
    }

    /// A session ended: its addresses are free.
    pub(super) fn forget(&mut self, slot: usize) {
        for mac in self.by_slot.remove(&slot).unwrap_or_default() {
            self.entries.remove(&mac);
        }
    }

    /// How many addresses `slot` holds (aged or not).
    #[cfg(test)]
    pub(super) fn count(&self, slot: usize) -> usize {
        self.by_slot.get(&slot).map_or(0, Vec::len)
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "a test's one clock read: the start instant"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mac(n: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn learns_ages_bounds_and_forgets() {
        let t0 = Instant::now();
        let mut t = MacTable::new(Duration::from_secs(300), 2);
        t.learn(mac(1), 7, t0).unwrap();
        assert_eq!(t.lookup(mac(1), t0), Some(7));
        assert_eq!(
            t.learn(mac(1), 8, t0 + Duration::from_secs(10)),
            Err(NotLearned::Taken),
            "a live session keeps its address"
        );
        let later = t0 + Duration::from_secs(301);
        assert_eq!(t.lookup(mac(1), later), None, "aged out");
        t.learn(mac(1), 8, later).unwrap();
        assert_eq!(t.lookup(mac(1), later), Some(8), "moved once aged");
        assert_eq!(t.count(7), 0);
        t.learn(mac(2), 8, later).unwrap();
        assert_eq!(t.learn(mac(3), 8, later), Err(NotLearned::Full));
        let much_later = later + Duration::from_secs(400);
        t.learn(mac(2), 8, much_later).unwrap();
        t.learn(mac(3), 8, much_later).unwrap();
        assert_eq!(t.count(8), 2, "an aged address of its own made room");
        assert_eq!(t.lookup(mac(1), much_later), None);
        t.forget(8);
        assert_eq!(t.lookup(mac(3), much_later), None);
        assert_eq!(t.count(8), 0);
    }

    proptest! {
        /// Whatever is learned, no session holds more than the bound, and every address found
        /// is listed under the session it is found for.
        #[test]
        fn bounded_and_consistent(
            ops in proptest::collection::vec((0u8..12, 0usize..4, 0u64..700, any::<bool>()), 0..200),
        ) {
            let t0 = Instant::now();
            let mut t = MacTable::new(Duration::from_secs(300), 3);
            let mut now = t0;
            for (m, slot, dt, forget) in ops {
                now += Duration::from_secs(dt / 7);
                if forget {
                    t.forget(slot);
                } else {
                    let _ = t.learn(mac(m), slot, now);
                }
                for s in 0..4 {
                    prop_assert!(t.count(s) <= 3);
                }
                for m in 0..12 {
                    if let Some(s) = t.lookup(mac(m), now) {
                        prop_assert!(t.by_slot[&s].contains(&mac(m)));
                    }
                }
            }
            prop_assert_eq!(t.entries.len(), t.by_slot.values().map(Vec::len).sum::<usize>());
        }
    }
}
