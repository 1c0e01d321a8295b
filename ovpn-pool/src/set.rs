//! A set of pools with their addresses in use: RouterOS `/ip pool` plus `/ip pool used`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::used::Used;
use crate::{Family, Pool, PoolError, quote};

/// An address (IPv4) or prefix (IPv6) handed to an owner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Lease {
    /// The address, or the first address of the IPv6 prefix.
    pub address: IpAddr,
    /// 32 for an IPv4 address; the pool's `prefix-length` for an IPv6 prefix (128 for a fixed IPv6
    /// address outside every pool).
    pub prefix_len: u8,
    /// The pool it came from, or `None` for a fixed address outside every pool (see
    /// [`PoolSet::acquire_address`]).
    pub pool: Option<String>,
    /// Who holds it (RouterOS shows the PPP user name).
    pub owner: String,
}

impl Lease {
    /// The lease as a network: `10.8.0.2/32`, `2001:db8:0:1::/64`.
    pub fn network(&self) -> IpNet {
        // prefix_len never exceeds the family's width, so this cannot fail; fall back to the host.
        IpNet::new(self.address, self.prefix_len).unwrap_or_else(|_| IpNet::from(self.address))
    }
}

impl fmt::Display for Lease {
    /// One `/ip pool used` row: `pool=ovpn-pool address=10.8.0.2 owner=client1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pool {
            Some(pool) => write!(f, "pool={} ", quote(pool))?,
            None => f.write_str("pool=none ")?,
        }
        match (self.address, self.prefix_len) {
            (IpAddr::V4(a), _) => write!(f, "address={a}")?,
            (IpAddr::V6(a), len) => write!(f, "address={a}/{len}")?,
        }
        write!(f, " owner={}", quote(&self.owner))
    }
}

/// Counts for one pool, as `/ip pool print` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolStats {
    /// Addresses (IPv4) or prefixes (IPv6) in the pool.
    pub total: u128,
    /// How many are in use.
    pub used: u128,
    /// How many are free (`available` in RouterOS): always `total - used`.
    pub free: u128,
}

#[derive(Clone, Debug)]
struct Entry {
    pool: Pool,
    used: Used,
}

/// The owners' previous addresses, for sticky re-acquire; bounded, oldest forgotten first.
#[derive(Clone, Debug)]
struct Recent {
    capacity: usize,
    by_owner: BTreeMap<Box<str>, (IpAddr, u64)>,
    by_age: BTreeMap<u64, Box<str>>,
    seq: u64,
}

impl Recent {
    fn remember(&mut self, owner: &str, address: IpAddr) {
        if self.capacity == 0 {
            return;
        }
        self.seq += 1;
        if let Some((_, old)) = self.by_owner.remove(owner) {
            self.by_age.remove(&old);
        }
        self.by_owner.insert(owner.into(), (address, self.seq));
        self.by_age.insert(self.seq, owner.into());
        while self.by_owner.len() > self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.by_owner.remove(&oldest);
        }
    }

    fn get(&self, owner: &str) -> Option<IpAddr> {
        self.by_owner.get(owner).map(|(a, _)| *a)
    }
}

/// A set of pools of one address family, with the addresses in use: RouterOS `/ip pool` (or
/// `/ipv6 pool`) with `/ip pool used`.
///
/// - Pools are found by name; `next-pool` must name a pool of the set and must not loop.
/// - Pools of a set never share addresses, so each address has at most one owner.
/// - Addresses are handed out lowest first, in the order the ranges were written; an owner
///   (the user name) gets back the address it last released when that address is still free
///   (sticky re-acquire: the set remembers the last address of up to
///   [`DEFAULT_STICKY_CAPACITY`](Self::DEFAULT_STICKY_CAPACITY) owners, see
///   [`set_sticky_capacity`](Self::set_sticky_capacity)).
/// - Memory is proportional to the addresses in use (and the remembered owners), not to the pool
///   sizes: a /8 costs nothing until addresses are taken. Acquire and release take O(log n) in
///   the addresses in use (times the number of ranges and chained pools, which are few).
/// - A failed call changes nothing.
///
/// ```
/// use ovpn_pool::{Family, Pool, PoolSet};
///
/// let mut pools = PoolSet::new(Family::Ipv4);
/// pools.add(Pool::from_properties(Family::Ipv4, [("name", "ovpn-pool"), ("ranges", "10.8.0.2-10.8.0.3")])?)?;
/// let lease = pools.acquire("ovpn-pool", "client1")?;
/// assert_eq!(lease.address.to_string(), "10.8.0.2");
/// assert_eq!(pools.acquire("ovpn-pool", "client2")?.address.to_string(), "10.8.0.3");
/// assert_eq!(
///     pools.acquire("ovpn-pool", "client3").unwrap_err().to_string(),
///     "no free address in pool(s) ovpn-pool"
/// );
/// pools.release(lease.address)?;
/// assert!(pools.release(lease.address).is_err()); // double release
/// # Ok::<(), ovpn_pool::PoolError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PoolSet {
    family: Family,
    pools: BTreeMap<String, Entry>,
    /// Fixed addresses in use that lie outside every pool.
    fixed: BTreeMap<IpAddr, Box<str>>,
    recent: Recent,
}

impl PoolSet {
    /// How many owners' previous addresses a new set remembers for sticky re-acquire.
    pub const DEFAULT_STICKY_CAPACITY: usize = 65_536;

    /// An empty set for pools of `family`.
    pub fn new(family: Family) -> Self {
        PoolSet {
            family,
            pools: BTreeMap::new(),
            fixed: BTreeMap::new(),
            recent: Recent {
                capacity: Self::DEFAULT_STICKY_CAPACITY,
                by_owner: BTreeMap::new(),
                by_age: BTreeMap::new(),
                seq: 0,
            },
        }
    }

    /// The address family of the set's pools.
    pub fn family(&self) -> Family {
        self.family
    }

    /// How many owners' previous addresses to remember for sticky re-acquire (0 turns it off).
    /// The oldest are forgotten first.
    pub fn set_sticky_capacity(&mut self, capacity: usize) {
        self.recent.capacity = capacity;
        while self.recent.by_owner.len() > capacity {
            let Some((_, oldest)) = self.recent.by_age.pop_first() else {
                break;
            };
            self.recent.by_owner.remove(&oldest);
        }
    }

    /// Adds a pool (`/ip pool add`).
    ///
    /// Fails if the name is taken, the pool is of the other family, it overlaps a pool of the set,
    /// or its `next-pool` is unknown or leads back to it. Fixed addresses in use inside the new
    /// pool's addresses become used addresses of the pool.
    pub fn add(&mut self, pool: Pool) -> Result<(), PoolError> {
        if pool.family() != self.family {
            return Err(PoolError::WrongFamily {
                what: pool.name().to_owned(),
            });
        }
        if self.pools.contains_key(pool.name()) {
            return Err(PoolError::DuplicatePool(pool.name().to_owned()));
        }
        if let Some(other) = self.pools.values().find(|e| e.pool.overlaps(&pool)) {
            return Err(PoolError::OverlappingPools {
                pool: pool.name().to_owned(),
                other: other.pool.name().to_owned(),
            });
        }
        self.check_next_pool(pool.name(), pool.next_pool())?;
        let used = self.take_fixed_inside(&pool);
        self.pools
            .insert(pool.name().to_owned(), Entry { pool, used });
        Ok(())
    }

    /// Removes a pool (`/ip pool remove`). Fails if it is unknown, has addresses in use, or is
    /// another pool's `next-pool`.
    pub fn remove(&mut self, name: &str) -> Result<Pool, PoolError> {
        let entry = self.entry(name)?;
        if entry.used.len() > 0 {
            return Err(PoolError::PoolInUse {
                pool: name.to_owned(),
                used: entry.used.len(),
            });
        }
        if let Some(by) = self
            .pools
            .values()
            .find(|e| e.pool.next_pool() == Some(name))
        {
            return Err(PoolError::PoolReferenced {
                pool: name.to_owned(),
                by: by.pool.name().to_owned(),
            });
        }
        let entry = self
            .pools
            .remove(name)
            .ok_or_else(|| PoolError::UnknownPool(name.to_owned()))?;
        Ok(entry.pool)
    }

    /// Replaces a pool by a new one of the same name (`/ip pool set NAME ranges=...
    /// comment=...`), keeping its place as other pools' `next-pool`; returns the old one.
    ///
    /// Fails if the name is unknown, the pool has addresses in use (they would change pool),
    /// the new pool is of the other family, overlaps another pool, or its `next-pool` is unknown
    /// or leads back to it. On an error nothing changes.
    pub fn replace(&mut self, pool: Pool) -> Result<Pool, PoolError> {
        if pool.family() != self.family {
            return Err(PoolError::WrongFamily {
                what: pool.name().to_owned(),
            });
        }
        let name = pool.name().to_owned();
        let entry = self.entry(&name)?;
        if entry.used.len() > 0 {
            return Err(PoolError::PoolInUse {
                pool: name,
                used: entry.used.len(),
            });
        }
        if let Some(other) = self
            .pools
            .values()
            .find(|e| e.pool.name() != name && e.pool.overlaps(&pool))
        {
            return Err(PoolError::OverlappingPools {
                pool: name,
                other: other.pool.name().to_owned(),
            });
        }
        self.check_next_pool(&name, pool.next_pool())?;
        let used = self.take_fixed_inside(&pool);
        let old = self.pools.insert(name.clone(), Entry { pool, used });
        old.map(|e| e.pool).ok_or(PoolError::UnknownPool(name))
    }

    /// The fixed addresses in use inside `pool`'s addresses, taken out of the fixed ones as its
    /// used addresses (a pool added or replaced over them).
    fn take_fixed_inside(&mut self, pool: &Pool) -> Used {
        let mut used = Used::default();
        let inside: Vec<IpAddr> = self
            .fixed
            .keys()
            .filter(|a| pool.contains(**a))
            .copied()
            .collect();
        for address in inside {
            if let (Some(owner), Some(unit)) = (self.fixed.remove(&address), pool.unit_of(address))
            {
                used.insert(unit, &owner);
            }
        }
        used
    }

    /// Changes a pool's `next-pool` (`/ip pool set NAME next-pool=...`), refusing unknown pools
    /// and cycles.
    pub fn set_next_pool(&mut self, name: &str, next_pool: Option<&str>) -> Result<(), PoolError> {
        self.entry(name)?;
        self.check_next_pool(name, next_pool)?;
        if let Some(entry) = self.pools.get_mut(name) {
            entry.pool = entry.pool.clone().with_next_pool(next_pool);
        }
        Ok(())
    }

    /// Checks that `pool` may have `next` as its next-pool.
    fn check_next_pool(&self, pool: &str, next: Option<&str>) -> Result<(), PoolError> {
        let Some(next) = next else { return Ok(()) };
        let mut chain = vec![pool.to_owned()];
        let mut current = next;
        loop {
            chain.push(current.to_owned());
            if current == pool {
                return Err(PoolError::NextPoolCycle { chain });
            }
            let entry = self.pools.get(current).ok_or_else(|| {
                if chain.len() == 2 {
                    PoolError::UnknownNextPool {
                        pool: pool.to_owned(),
                        next: current.to_owned(),
                    }
                } else {
                    // The set never holds a dangling next-pool, so this is unreachable; report
                    // it truthfully anyway.
                    PoolError::UnknownPool(current.to_owned())
                }
            })?;
            match entry.pool.next_pool() {
                Some(n) => current = n,
                None => return Ok(()),
            }
        }
    }

    /// The pool named `name`.
    pub fn get(&self, name: &str) -> Option<&Pool> {
        self.pools.get(name).map(|e| &e.pool)
    }

    /// All pools, by name.
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.values().map(|e| &e.pool)
    }

    /// Total, used and free counts of a pool (its own addresses, not its `next-pool`'s).
    pub fn stats(&self, name: &str) -> Option<PoolStats> {
        self.pools.get(name).map(|e| {
            let total = e.pool.total();
            let used = e.used.len();
            PoolStats {
                total,
                used,
                free: total - used,
            }
        })
    }

    fn entry(&self, name: &str) -> Result<&Entry, PoolError> {
        self.pools
            .get(name)
            .ok_or_else(|| PoolError::UnknownPool(name.to_owned()))
    }

    /// The pool followed by its `next-pool` chain.
    fn chain(&self, name: &str) -> Result<Vec<&Entry>, PoolError> {
        let mut chain = vec![self.entry(name)?];
        while let Some(next) = chain.last().and_then(|e| e.pool.next_pool()) {
            // add() and set_next_pool() keep chains acyclic; stop anyway if one ever loops.
            if chain.len() > self.pools.len() {
                break;
            }
            chain.push(self.entry(next)?);
        }
        Ok(chain)
    }

    /// Acquires a free address for `owner` from the pool `pool`, trying its `next-pool` chain when
    /// it is exhausted.
    ///
    /// The owner's previous address comes back when it is still free and lies in the chain
    /// (sticky by owner name); otherwise the lowest free address of the first pool that has one.
    /// Fails with [`PoolError::Exhausted`] naming every pool tried.
    pub fn acquire(&mut self, pool: &str, owner: &str) -> Result<Lease, PoolError> {
        let previous = self.recent.get(owner);
        self.acquire_inner(pool, owner, [previous, None])
    }

    /// Like [`acquire`](Self::acquire), but tries `preferred` first (for instance the address a
    /// server remembered for this client), then the owner's previous address, then any.
    pub fn acquire_preferred(
        &mut self,
        pool: &str,
        owner: &str,
        preferred: IpAddr,
    ) -> Result<Lease, PoolError> {
        let previous = self.recent.get(owner);
        self.acquire_inner(pool, owner, [Some(preferred), previous])
    }

    fn acquire_inner(
        &mut self,
        pool: &str,
        owner: &str,
        wishes: [Option<IpAddr>; 2],
    ) -> Result<Lease, PoolError> {
        let chain = self.chain(pool)?;
        let mut found = None;
        'wishes: for wish in wishes.into_iter().flatten() {
            for entry in &chain {
                if let Some(unit) = entry.pool.unit_of(wish) {
                    if entry.used.owner(unit).is_none() {
                        found = Some((entry.pool.name().to_owned(), unit));
                        break 'wishes;
                    }
                }
            }
        }
        if found.is_none() {
            found = chain.iter().find_map(|entry| {
                entry
                    .pool
                    .intervals()
                    .find_map(|(first, last)| entry.used.first_free(first, last))
                    .map(|unit| (entry.pool.name().to_owned(), unit))
            });
        }
        let Some((name, unit)) = found else {
            return Err(PoolError::Exhausted {
                tried: chain.iter().map(|e| e.pool.name().to_owned()).collect(),
            });
        };
        let entry = self
            .pools
            .get_mut(&name)
            .ok_or_else(|| PoolError::UnknownPool(name.clone()))?;
        entry.used.insert(unit, owner);
        Ok(Lease {
            address: entry.pool.address_of(unit),
            prefix_len: entry.pool.lease_prefix_len(),
            pool: Some(name),
            owner: owner.to_owned(),
        })
    }

    /// Acquires exactly `address` for `owner`: a fixed address, such as a PPP secret's
    /// `remote-address=10.8.0.50`.
    ///
    /// If the address lies in one of the set's pools it becomes used there (for an IPv6 pool, the
    /// prefix containing it); otherwise the set records it as a fixed lease with no pool, so that
    /// it is not handed to a second owner either. Fails with [`PoolError::AddressInUse`] if it is
    /// taken.
    pub fn acquire_address(&mut self, address: IpAddr, owner: &str) -> Result<Lease, PoolError> {
        self.check_family(address)?;
        if let Some(entry) = self.pools.values_mut().find(|e| e.pool.contains(address)) {
            let unit = entry.pool.unit_of(address).unwrap_or_default();
            if let Some(holder) = entry.used.owner(unit) {
                return Err(PoolError::AddressInUse {
                    address: entry.pool.address_of(unit),
                    owner: holder.to_owned(),
                });
            }
            entry.used.insert(unit, owner);
            return Ok(Lease {
                address: entry.pool.address_of(unit),
                prefix_len: entry.pool.lease_prefix_len(),
                pool: Some(entry.pool.name().to_owned()),
                owner: owner.to_owned(),
            });
        }
        if let Some(holder) = self.fixed.get(&address) {
            return Err(PoolError::AddressInUse {
                address,
                owner: holder.to_string(),
            });
        }
        self.fixed.insert(address, owner.into());
        Ok(fixed_lease(address, owner))
    }

    /// Acquires `address` from the pool `pool` (or its `next-pool` chain) for `owner`; fails if
    /// the address is not in the chain ([`PoolError::NotInPool`]) or is taken.
    pub fn acquire_in(
        &mut self,
        pool: &str,
        address: IpAddr,
        owner: &str,
    ) -> Result<Lease, PoolError> {
        self.check_family(address)?;
        if !self.chain(pool)?.iter().any(|e| e.pool.contains(address)) {
            return Err(PoolError::NotInPool {
                address,
                pool: pool.to_owned(),
            });
        }
        self.acquire_address(address, owner)
    }

    /// Releases the address (or the IPv6 prefix containing `address`), returning the lease it
    /// ended. Fails with [`PoolError::NotAcquired`] if it is not in use: a second release of the
    /// same address, or an address never acquired.
    pub fn release(&mut self, address: IpAddr) -> Result<Lease, PoolError> {
        self.check_family(address)?;
        let lease = if let Some(entry) = self.pools.values_mut().find(|e| e.pool.contains(address))
        {
            let unit = entry.pool.unit_of(address).unwrap_or_default();
            let owner = entry
                .used
                .remove(unit)
                .ok_or(PoolError::NotAcquired(address))?;
            Lease {
                address: entry.pool.address_of(unit),
                prefix_len: entry.pool.lease_prefix_len(),
                pool: Some(entry.pool.name().to_owned()),
                owner: owner.into(),
            }
        } else {
            let owner = self
                .fixed
                .remove(&address)
                .ok_or(PoolError::NotAcquired(address))?;
            fixed_lease(address, &owner)
        };
        self.recent.remember(&lease.owner, lease.address);
        Ok(lease)
    }

    /// The lease holding `address` (or the IPv6 prefix containing it), if any.
    pub fn lease(&self, address: IpAddr) -> Option<Lease> {
        if let Some(entry) = self.pools.values().find(|e| e.pool.contains(address)) {
            let unit = entry.pool.unit_of(address)?;
            let owner = entry.used.owner(unit)?;
            return Some(Lease {
                address: entry.pool.address_of(unit),
                prefix_len: entry.pool.lease_prefix_len(),
                pool: Some(entry.pool.name().to_owned()),
                owner: owner.to_owned(),
            });
        }
        self.fixed.get(&address).map(|o| fixed_lease(address, o))
    }

    /// Every lease (`/ip pool used`): pools by name and addresses in ascending order, then the
    /// fixed addresses outside every pool.
    pub fn used(&self) -> impl Iterator<Item = Lease> + '_ {
        self.pools
            .values()
            .flat_map(|e| {
                e.used.iter().map(move |(unit, owner)| Lease {
                    address: e.pool.address_of(unit),
                    prefix_len: e.pool.lease_prefix_len(),
                    pool: Some(e.pool.name().to_owned()),
                    owner: owner.to_owned(),
                })
            })
            .chain(self.fixed.iter().map(|(a, o)| fixed_lease(*a, o)))
    }

    fn check_family(&self, address: IpAddr) -> Result<(), PoolError> {
        let family = match address {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        };
        if family == self.family {
            Ok(())
        } else {
            Err(PoolError::WrongFamily {
                what: address.to_string(),
            })
        }
    }
}

fn fixed_lease(address: IpAddr, owner: &str) -> Lease {
    Lease {
        address,
        prefix_len: match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        },
        pool: None,
        owner: owner.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn v4(name: &str, ranges: &str, next: Option<&str>) -> Pool {
        Pool::ipv4(name, ranges.parse().unwrap())
            .unwrap()
            .with_next_pool(next)
    }

    fn set(pools: &[Pool]) -> PoolSet {
        let mut s = PoolSet::new(Family::Ipv4);
        for p in pools {
            s.add(p.clone()).unwrap();
        }
        s
    }

    #[test]
    fn replace_keeps_references_and_refuses_what_would_break() {
        let mut s = set(&[
            v4("b", "10.0.1.1-10.0.1.2", None),
            v4("a", "10.0.0.1-10.0.0.2", Some("b")),
        ]);
        // b, a's next-pool, gets other ranges; a still chains to it.
        let old = s.replace(v4("b", "10.0.2.1-10.0.2.4", None)).unwrap();
        assert_eq!(old.ranges().unwrap().to_string(), "10.0.1.1-10.0.1.2");
        assert_eq!(s.stats("b").unwrap().total, 4);
        s.acquire("a", "u1").unwrap();
        s.acquire("a", "u2").unwrap();
        assert_eq!(s.acquire("a", "u3").unwrap().address, ip("10.0.2.1"));
        let before = format!("{s:?}");
        // b has an address in use, a would overlap a, c is unknown, b -> a -> b loops.
        for (p, e) in [
            (v4("b", "10.0.3.1", None), "in use"),
            (v4("c", "10.0.4.1", None), "c"),
        ] {
            assert!(s.replace(p).unwrap_err().to_string().contains(e));
        }
        let mut t = set(&[
            v4("b", "10.0.1.1-10.0.1.2", None),
            v4("a", "10.0.0.1-10.0.0.2", Some("b")),
        ]);
        assert!(matches!(
            t.replace(v4("b", "10.0.0.2-10.0.0.3", None)),
            Err(PoolError::OverlappingPools { .. })
        ));
        assert!(t.replace(v4("b", "10.0.1.1", Some("a"))).is_err());
        assert!(
            PoolSet::new(Family::Ipv6)
                .replace(v4("b", "10.0.1.1", None))
                .is_err()
        );
        assert_eq!(format!("{s:?}"), before, "a refusal changes nothing");
    }

    #[test]
    fn lowest_first_in_written_order() {
        let mut s = set(&[v4("p", "10.0.0.10-10.0.0.11,10.0.0.1", None)]);
        let got: Vec<_> = (0..3)
            .map(|i| s.acquire("p", &format!("u{i}")).unwrap().address)
            .collect();
        assert_eq!(got, [ip("10.0.0.10"), ip("10.0.0.11"), ip("10.0.0.1")]);
        assert_eq!(
            s.stats("p"),
            Some(PoolStats {
                total: 3,
                used: 3,
                free: 0
            })
        );
    }

    #[test]
    fn exhaustion_follows_next_pool_and_names_the_pools_tried() {
        let mut s = set(&[
            v4("c", "10.2.0.1", None),
            v4("b", "10.1.0.1", Some("c")),
            v4("a", "10.0.0.1", Some("b")),
        ]);
        let leases: Vec<_> = (0..3)
            .map(|i| s.acquire("a", &format!("u{i}")).unwrap())
            .collect();
        assert_eq!(
            leases
                .iter()
                .map(|l| (l.pool.as_deref().unwrap(), l.address))
                .collect::<Vec<_>>(),
            [
                ("a", ip("10.0.0.1")),
                ("b", ip("10.1.0.1")),
                ("c", ip("10.2.0.1"))
            ]
        );
        let err = s.acquire("a", "u3").unwrap_err();
        assert_eq!(
            err,
            PoolError::Exhausted {
                tried: vec!["a".into(), "b".into(), "c".into()]
            }
        );
        assert_eq!(err.to_string(), "no free address in pool(s) a, b, c");
        assert_eq!(
            s.acquire("b", "u3").unwrap_err(),
            PoolError::Exhausted {
                tried: vec!["b".into(), "c".into()]
            }
        );
        // Freeing in a later pool of the chain makes room there.
        s.release(ip("10.1.0.1")).unwrap();
        assert_eq!(s.acquire("a", "u4").unwrap().pool.as_deref(), Some("b"));
    }

    #[test]
    fn next_pool_must_exist_and_not_loop() {
        let mut s = PoolSet::new(Family::Ipv4);
        assert_eq!(
            s.add(v4("a", "10.0.0.1", Some("b"))),
            Err(PoolError::UnknownNextPool {
                pool: "a".into(),
                next: "b".into()
            })
        );
        assert_eq!(
            s.add(v4("a", "10.0.0.1", Some("a"))),
            Err(PoolError::NextPoolCycle {
                chain: vec!["a".into(), "a".into()]
            })
        );
        s.add(v4("a", "10.0.0.1", None)).unwrap();
        s.add(v4("b", "10.0.0.2", Some("a"))).unwrap();
        s.add(v4("c", "10.0.0.3", Some("b"))).unwrap();
        let err = s.set_next_pool("a", Some("c")).unwrap_err();
        assert_eq!(
            err,
            PoolError::NextPoolCycle {
                chain: vec!["a".into(), "c".into(), "b".into(), "a".into()]
            }
        );
        assert_eq!(err.to_string(), "next-pool cycle: a -> c -> b -> a");
        assert_eq!(
            s.get("a").unwrap().next_pool(),
            None,
            "a failed set changes nothing"
        );
        assert_eq!(
            s.set_next_pool("a", Some("zz")),
            Err(PoolError::UnknownNextPool {
                pool: "a".into(),
                next: "zz".into()
            })
        );
        assert_eq!(
            s.set_next_pool("zz", None),
            Err(PoolError::UnknownPool("zz".into()))
        );
        s.set_next_pool("c", None).unwrap();
        s.set_next_pool("a", Some("c")).unwrap();
        assert_eq!(s.get("a").unwrap().next_pool(), Some("c"));
    }

    #[test]
    fn add_and_remove_rules() {
        let mut s = set(&[v4("a", "10.0.0.0/24", None), v4("b", "10.0.1.1", Some("a"))]);
        assert_eq!(
            s.add(v4("a", "10.9.0.1", None)),
            Err(PoolError::DuplicatePool("a".into()))
        );
        assert_eq!(
            s.add(v4("c", "10.0.0.200-10.0.0.210", None)),
            Err(PoolError::OverlappingPools {
                pool: "c".into(),
                other: "a".into()
            })
        );
        let v6 = Pool::ipv6("v6", "2001:db8::/48".parse().unwrap(), 64).unwrap();
        assert_eq!(s.add(v6), Err(PoolError::WrongFamily { what: "v6".into() }));
        assert_eq!(
            s.remove("a"),
            Err(PoolError::PoolReferenced {
                pool: "a".into(),
                by: "b".into()
            })
        );
        assert_eq!(s.remove("x"), Err(PoolError::UnknownPool("x".into())));
        let lease = s.acquire("b", "u").unwrap();
        assert_eq!(
            s.remove("b"),
            Err(PoolError::PoolInUse {
                pool: "b".into(),
                used: 1
            })
        );
        s.release(lease.address).unwrap();
        assert_eq!(s.remove("b").unwrap().name(), "b");
        assert!(s.remove("a").is_ok());
        assert_eq!(s.pools().count(), 0);
        assert_eq!(s.acquire("a", "u"), Err(PoolError::UnknownPool("a".into())));
    }

    #[test]
    fn sticky_by_owner() {
        let mut s = set(&[v4("p", "10.0.0.1-10.0.0.9", None)]);
        let a = s.acquire("p", "alice").unwrap();
        let b = s.acquire("p", "bob").unwrap();
        assert_eq!((a.address, b.address), (ip("10.0.0.1"), ip("10.0.0.2")));
        s.release(b.address).unwrap();
        s.release(a.address).unwrap();
        // bob comes back first: he gets his previous .2 although .1 is lower.
        assert_eq!(s.acquire("p", "bob").unwrap().address, ip("10.0.0.2"));
        // carol took alice's address meanwhile; alice gets the lowest free.
        assert_eq!(s.acquire("p", "carol").unwrap().address, ip("10.0.0.1"));
        assert_eq!(s.acquire("p", "alice").unwrap().address, ip("10.0.0.3"));
    }

    #[test]
    fn sticky_memory_is_bounded() {
        let mut s = set(&[v4("p", "10.0.0.1-10.0.0.9", None)]);
        s.set_sticky_capacity(1);
        let a = s.acquire("p", "alice").unwrap();
        let b = s.acquire("p", "bob").unwrap();
        s.release(b.address).unwrap();
        s.release(a.address).unwrap(); // alice is remembered, bob forgotten
        assert_eq!(s.acquire("p", "bob").unwrap().address, ip("10.0.0.1"));
        s.set_sticky_capacity(0);
        assert_eq!(s.acquire("p", "alice").unwrap().address, ip("10.0.0.2"));
    }

    #[test]
    fn preferred_then_sticky_then_any() {
        let mut s = set(&[
            v4("b", "10.1.0.1-10.1.0.5", None),
            v4("a", "10.0.0.1-10.0.0.5", Some("b")),
        ]);
        let l = s.acquire_preferred("a", "u", ip("10.1.0.3")).unwrap();
        assert_eq!((l.address, l.pool.as_deref()), (ip("10.1.0.3"), Some("b")));
        // Preferred taken: any.
        assert_eq!(
            s.acquire_preferred("a", "v", ip("10.1.0.3"))
                .unwrap()
                .address,
            ip("10.0.0.1")
        );
        // Preferred outside the chain is ignored.
        assert_eq!(
            s.acquire_preferred("b", "w", ip("10.0.0.4"))
                .unwrap()
                .address,
            ip("10.1.0.1")
        );
    }

    #[test]
    fn specific_and_fixed_addresses() {
        let mut s = set(&[v4("p", "10.0.0.1-10.0.0.9", None)]);
        let l = s.acquire_address(ip("10.0.0.5"), "alice").unwrap();
        assert_eq!(l.pool.as_deref(), Some("p"));
        assert_eq!(
            s.acquire_address(ip("10.0.0.5"), "bob"),
            Err(PoolError::AddressInUse {
                address: ip("10.0.0.5"),
                owner: "alice".into()
            })
        );
        assert_eq!(
            s.acquire_in("p", ip("10.0.0.5"), "bob")
                .unwrap_err()
                .to_string(),
            "address 10.0.0.5 is in use by alice"
        );
        assert_eq!(
            s.acquire_in("p", ip("10.0.0.50"), "bob"),
            Err(PoolError::NotInPool {
                address: ip("10.0.0.50"),
                pool: "p".into()
            })
        );
        assert_eq!(
            s.acquire_in("p", ip("10.0.0.6"), "bob").unwrap().address,
            ip("10.0.0.6")
        );
        // Outside every pool: a fixed lease, still exclusive.
        let f = s.acquire_address(ip("192.168.5.5"), "carol").unwrap();
        assert_eq!((f.pool.clone(), f.prefix_len), (None, 32));
        assert!(matches!(
            s.acquire_address(ip("192.168.5.5"), "dave"),
            Err(PoolError::AddressInUse { .. })
        ));
        assert_eq!(s.lease(ip("192.168.5.5")).unwrap().owner, "carol");
        assert_eq!(s.lease(ip("10.0.0.6")).unwrap().owner, "bob");
        assert_eq!(s.lease(ip("10.0.0.7")), None);
        assert_eq!(
            s.acquire_address(ip("2001:db8::1"), "x"),
            Err(PoolError::WrongFamily {
                what: "2001:db8::1".into()
            })
        );
        // The any-address path skips the taken ones.
        assert_eq!(s.acquire("p", "erin").unwrap().address, ip("10.0.0.1"));
        let used: Vec<String> = s.used().map(|l| l.to_string()).collect();
        assert_eq!(
            used,
            [
                "pool=p address=10.0.0.1 owner=erin",
                "pool=p address=10.0.0.5 owner=alice",
                "pool=p address=10.0.0.6 owner=bob",
                "pool=none address=192.168.5.5 owner=carol",
            ]
        );
        assert_eq!(s.release(ip("192.168.5.5")).unwrap().owner, "carol");
        assert_eq!(
            s.release(ip("192.168.5.5")),
            Err(PoolError::NotAcquired(ip("192.168.5.5")))
        );
    }

    #[test]
    fn a_new_pool_takes_over_fixed_leases_inside_it() {
        let mut s = PoolSet::new(Family::Ipv4);
        s.acquire_address(ip("10.0.0.2"), "alice").unwrap();
        s.add(v4("p", "10.0.0.1-10.0.0.3", None)).unwrap();
        assert_eq!(s.stats("p").unwrap().used, 1);
        assert_eq!(s.acquire("p", "bob").unwrap().address, ip("10.0.0.1"));
        assert_eq!(s.acquire("p", "carol").unwrap().address, ip("10.0.0.3"));
        assert_eq!(
            s.release(ip("10.0.0.2")).unwrap().pool.as_deref(),
            Some("p")
        );
    }

    #[test]
    fn release_errors() {
        let mut s = set(&[v4("p", "10.0.0.1-10.0.0.9", None)]);
        assert_eq!(
            s.release(ip("10.0.0.1")),
            Err(PoolError::NotAcquired(ip("10.0.0.1")))
        );
        let l = s.acquire("p", "u").unwrap();
        let ended = s.release(l.address).unwrap();
        assert_eq!(ended, l);
        let err = s.release(l.address).unwrap_err();
        assert_eq!(err.to_string(), "address 10.0.0.1 is not in use");
        assert_eq!(
            s.release(ip("8.8.8.8")),
            Err(PoolError::NotAcquired(ip("8.8.8.8")))
        );
        assert!(matches!(
            s.release(ip("::1")),
            Err(PoolError::WrongFamily { .. })
        ));
        assert_eq!(s.stats("p").unwrap().used, 0);
    }

    #[test]
    fn ipv6_prefixes_per_client() {
        let mut s = PoolSet::new(Family::Ipv6);
        s.add(Pool::ipv6("v6", "2001:db8::/62".parse().unwrap(), 64).unwrap())
            .unwrap();
        s.add(Pool::ipv6("v6b", "2001:db8:1::/64".parse().unwrap(), 64).unwrap())
            .unwrap();
        assert_eq!(
            s.add(Pool::ipv6("v6c", "2001:db8::/48".parse().unwrap(), 64).unwrap()),
            Err(PoolError::OverlappingPools {
                pool: "v6c".into(),
                other: "v6".into()
            })
        );
        let l = s.acquire("v6", "alice").unwrap();
        assert_eq!(l.network().to_string(), "2001:db8::/64");
        assert_eq!(l.to_string(), "pool=v6 address=2001:db8::/64 owner=alice");
        let l2 = s.acquire("v6", "bob").unwrap();
        assert_eq!(l2.network().to_string(), "2001:db8:0:1::/64");
        // Any address inside a handed-out prefix finds its lease.
        assert_eq!(s.lease(ip("2001:db8:0:1::99")).unwrap().owner, "bob");
        assert!(matches!(
            s.acquire_address(ip("2001:db8::7"), "x"),
            Err(PoolError::AddressInUse { .. })
        ));
        assert_eq!(
            s.acquire_address(ip("2001:db8:0:3::7"), "x")
                .unwrap()
                .address,
            ip("2001:db8:0:3::")
        );
        assert_eq!(s.acquire("v6", "y").unwrap().address, ip("2001:db8:0:2::"));
        assert!(matches!(
            s.acquire("v6", "z"),
            Err(PoolError::Exhausted { .. })
        ));
        assert_eq!(s.release(ip("2001:db8::1")).unwrap().owner, "alice");
        assert_eq!(
            s.stats("v6"),
            Some(PoolStats {
                total: 4,
                used: 3,
                free: 1
            })
        );
        let fixed = s.acquire_address(ip("2001:db8:99::1"), "f").unwrap();
        assert_eq!(fixed.network().to_string(), "2001:db8:99::1/128");
    }

    #[test]
    fn a_slash8_costs_nothing_until_used() {
        let mut s = set(&[v4("big", "10.0.0.0/8", None)]);
        assert_eq!(s.stats("big").unwrap().free, 16_777_214);
        for i in 0..1000 {
            s.acquire("big", &format!("u{i}")).unwrap();
        }
        let last = s.acquire("big", "x").unwrap();
        assert_eq!(last.address, ip("10.0.3.233"));
        assert_eq!(s.stats("big").unwrap().used, 1001);
    }
}
