//! Which session an inner destination belongs to: longest-prefix match over every logged-in
//! session's tunnel addresses (a /32, a /128) and its secret's `routes` and `ipv6-routes`
//! (OpenVPN's `iroute` and `iroute-ipv6`). A lookup costs at most one hash probe per prefix
//! length in use, whatever the number of sessions.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

/// Prefixes of one address family owned by sessions (by slot).
#[derive(Debug)]
struct Family {
    /// Index: the prefix length. Key: the masked network, as bits.
    by_len: Vec<HashMap<u128, usize>>,
}

/// IPv4 and IPv6 prefixes owned by sessions (by slot).
#[derive(Debug)]
pub(super) struct RouteTable {
    v4: Family,
    v6: Family,
}

/// The bits of a prefix length, for the lookup's hash keys, in an address of `bits` bits.
fn mask(len: u8, bits: u8) -> u128 {
    let all = if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    all & !all.checked_shr(u32::from(len.min(bits))).unwrap_or(0)
}

/// An address as its bits, with their count.
fn bits_of(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

impl Family {
    fn new(bits: u8) -> Self {
        Self {
            by_len: (0..=bits).map(|_| HashMap::new()).collect(),
        }
    }
}

impl RouteTable {
    pub(super) fn new() -> Self {
        Self {
            v4: Family::new(32),
            v6: Family::new(128),
        }
    }

    fn family(&mut self, bits: u8) -> &mut Family {
        if bits == 32 {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }

    /// Routes `net` to `owner`. When another session has it already, it keeps it and its
    /// slot is returned.
    pub(super) fn insert(&mut self, net: IpNet, owner: usize) -> Result<(), usize> {
        let (addr, bits) = bits_of(net.network());
        let len = net.prefix_len();
        let key = addr & mask(len, bits);
        match self.family(bits).by_len[usize::from(len)].entry(key) {
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != owner => Err(*e.get()),
            e => {
                e.insert_entry(owner);
                Ok(())
            }
        }
    }

    /// Removes `net` if `owner` has it.
    pub(super) fn remove(&mut self, net: IpNet, owner: usize) {
        let (addr, bits) = bits_of(net.network());
        let len = net.prefix_len();
        let key = addr & mask(len, bits);
        let table = &mut self.family(bits).by_len[usize::from(len)];
        if table.get(&key) == Some(&owner) {
            table.remove(&key);
        }
    }

    /// The session owning the longest prefix that contains `destination`.
    pub(super) fn lookup(&self, destination: IpAddr) -> Option<usize> {
        let (d, bits) = bits_of(destination);
        let family = if bits == 32 { &self.v4 } else { &self.v6 };
        (0..=bits).rev().find_map(|len| {
            let t = &family.by_len[usize::from(len)];
            if t.is_empty() {
                None
            } else {
                t.get(&(d & mask(len, bits))).copied()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn n(s: &str) -> IpNet {
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
                let net = IpNet::from(ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(n), len).unwrap());
                if t.insert(net, i).is_ok() {
                    kept.push((n & mask(len, 32) as u32, len, i));
                }
            }
            for p in probes {
                let want = kept
                    .iter()
                    .filter(|(n, len, _)| p & mask(*len, 32) as u32 == *n)
                    .max_by_key(|(_, len, _)| *len)
                    .map(|(_, _, i)| *i);
                prop_assert_eq!(t.lookup(IpAddr::from(std::net::Ipv4Addr::from(p))), want);
            }
        }
    }
}
