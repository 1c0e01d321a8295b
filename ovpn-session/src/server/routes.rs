//! Which session an inner destination belongs to: longest-prefix match over every logged-in
//! session's tunnel address (a /32) and its secret's `routes` (OpenVPN's `iroute`). A lookup costs
//! at most one hash probe per prefix length in use, whatever the number of sessions.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// IPv4 prefixes owned by sessions (by slot).
#[derive(Debug)]
pub(super) struct RouteTable {
    /// Index: the prefix length. Key: the masked network.
    by_len: [HashMap<u32, usize>; 33],
}

/// The bits of a prefix length, for the lookup's hash keys.
fn mask(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

impl RouteTable {
    pub(super) fn new() -> Self {
        Self {
            by_len: std::array::from_fn(|_| HashMap::new()),
        }
    }

    /// Routes `net` to `owner`. When another session has it already, it keeps it and its
    /// slot is returned.
    pub(super) fn insert(&mut self, net: Ipv4Net, owner: usize) -> Result<(), usize> {
        let len = net.prefix_len();
        let key = u32::from(net.network());
        match self.by_len[usize::from(len)].entry(key) {
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != owner => Err(*e.get()),
            e => {
                e.insert_entry(owner);
                Ok(())
            }
        }
    }

    /// Removes `net` if `owner` has it.
    pub(super) fn remove(&mut self, net: Ipv4Net, owner: usize) {
        let len = net.prefix_len();
        let key = u32::from(net.network());
        let table = &mut self.by_len[usize::from(len)];
        if table.get(&key) == Some(&owner) {
            table.remove(&key);
        }
    }

    /// The session owning the longest prefix that contains `destination`.
    pub(super) fn lookup(&self, destination: Ipv4Addr) -> Option<usize> {
        let d = u32::from(destination);
        (0..=32u8).rev().find_map(|len| {
            let t = &self.by_len[usize::from(len)];
            if t.is_empty() {
                None
            } else {
                t.get(&(d & mask(len))).copied()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn the_longest_prefix_wins() {
        let mut t = RouteTable::new();
        t.insert(n("10.8.0.2/32"), 1).unwrap();
        t.insert(n("192.168.0.0/16"), 2).unwrap();
        t.insert(n("192.168.1.0/24"), 3).unwrap();
        assert_eq!(t.lookup(a("10.8.0.2")), Some(1));
        assert_eq!(t.lookup(a("10.8.0.3")), None);
        assert_eq!(t.lookup(a("192.168.1.77")), Some(3));
        assert_eq!(t.lookup(a("192.168.2.77")), Some(2));
        assert_eq!(
            t.insert(n("192.168.1.9/24"), 4),
            Err(3),
            "first owner keeps it"
        );
        t.remove(n("192.168.1.0/24"), 4);
        assert_eq!(
            t.lookup(a("192.168.1.77")),
            Some(3),
            "only the owner removes"
        );
        t.remove(n("192.168.1.0/24"), 3);
        assert_eq!(t.lookup(a("192.168.1.77")), Some(2));
    }

    proptest! {
        /// The table agrees with a linear scan for the longest matching prefix.
        #[test]
        fn agrees_with_a_linear_scan(
            routes in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..40),
            probes in proptest::collection::vec(any::<u32>(), 1..40),
        ) {
            let mut t = RouteTable::new();
            let mut kept: Vec<(u32, u8, usize)> = Vec::new();
            for (i, &(n, len)) in routes.iter().enumerate() {
                if t.insert(Ipv4Net::new(Ipv4Addr::from(n), len).unwrap(), i).is_ok() {
                    kept.push((n & mask(len), len, i));
                }
            }
            for p in probes {
                let want = kept
                    .iter()
                    .filter(|(n, len, _)| p & mask(*len) == *n)
                    .max_by_key(|(_, len, _)| *len)
                    .map(|(_, _, i)| *i);
                prop_assert_eq!(t.lookup(Ipv4Addr::from(p)), want);
            }
        }
    }
}
