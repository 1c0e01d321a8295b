//! Property tests: acquire/release sequences against a simple model, and range text round trips.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use ovpn_pool::{Family, Lease, Pool, PoolError, PoolSet, Range, Ranges};
use proptest::prelude::*;

/// (name, ranges in hand-out order, next-pool).
type PoolDef = (&'static str, &'static [(u8, u8)], Option<&'static str>);

const POOLS: &[PoolDef] = &[
    ("c", &[(40, 40)], None),
    ("b", &[(21, 22)], Some("c")),
    ("a", &[(5, 8), (1, 2)], Some("b")),
];
const OWNERS: &[&str] = &["alice", "bob", "carol", "dave"];

fn addr(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn ranges_text(ranges: &[(u8, u8)]) -> String {
    ranges
        .iter()
        .map(|(a, b)| format!("10.0.0.{a}-10.0.0.{b}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Clone, Debug)]
enum Op {
    Acquire { pool: usize, owner: usize },
    Preferred { pool: usize, owner: usize, want: u8 },
    Address { owner: usize, want: u8 },
    Release { at: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..POOLS.len(), 0..OWNERS.len()).prop_map(|(pool, owner)| Op::Acquire { pool, owner }),
        1 => (0..POOLS.len(), 0..OWNERS.len(), 0u8..48)
            .prop_map(|(pool, owner, want)| Op::Preferred { pool, owner, want }),
        1 => (0..OWNERS.len(), 0u8..48).prop_map(|(owner, want)| Op::Address { owner, want }),
        3 => (0u8..48).prop_map(|at| Op::Release { at }),
    ]
}

/// The obvious, slow implementation.
#[derive(Default)]
struct Model {
    used: BTreeMap<u8, String>,
    previous: BTreeMap<String, u8>,
}

impl Model {
    fn pool_of(at: u8) -> Option<&'static str> {
        POOLS
            .iter()
            .find(|(_, ranges, _)| ranges.iter().any(|(a, b)| (*a..=*b).contains(&at)))
            .map(|(name, _, _)| *name)
    }

    fn chain(pool: &str) -> Vec<&'static PoolDef> {
        let mut chain = vec![];
        let mut next = Some(pool);
        while let Some(name) = next {
            let p = POOLS.iter().find(|p| p.0 == name).unwrap();
            chain.push(p);
            next = p.2;
        }
        chain
    }

    fn take(&mut self, at: u8, owner: &str) -> Lease {
        self.used.insert(at, owner.to_owned());
        lease(at, Self::pool_of(at), owner)
    }

    fn acquire(&mut self, pool: &str, owner: &str, wish: Option<u8>) -> Result<Lease, PoolError> {
        let chain = Self::chain(pool);
        let in_chain = |at: u8| {
            chain
                .iter()
                .any(|p| p.1.iter().any(|(a, b)| (*a..=*b).contains(&at)))
        };
        let wishes = [wish, self.previous.get(owner).copied()];
        for at in wishes.into_iter().flatten() {
            if in_chain(at) && !self.used.contains_key(&at) {
                return Ok(self.take(at, owner));
            }
        }
        for p in &chain {
            for (a, b) in p.1 {
                if let Some(at) = (*a..=*b).find(|at| !self.used.contains_key(at)) {
                    return Ok(self.take(at, owner));
                }
            }
        }
        Err(PoolError::Exhausted {
            tried: chain.iter().map(|p| p.0.to_owned()).collect(),
        })
    }
}

fn lease(at: u8, pool: Option<&str>, owner: &str) -> Lease {
    // Lease is non-exhaustive: build the expected value through a real set.
    let mut s = PoolSet::new(Family::Ipv4);
    if let Some(p) = pool {
        s.add(Pool::ipv4(p, format!("10.0.0.{at}").parse().unwrap()).unwrap())
            .unwrap();
    }
    s.acquire_address(addr(at), owner).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn acquire_release_sequences_match_the_model(ops in proptest::collection::vec(op(), 0..120)) {
        let mut set = PoolSet::new(Family::Ipv4);
        for (name, ranges, next) in POOLS {
            let pool = Pool::ipv4(*name, ranges_text(ranges).parse().unwrap()).unwrap().with_next_pool(*next);
            set.add(pool).unwrap();
        }
        let mut model = Model::default();
        for op in ops {
            let (got, want) = match op {
                Op::Acquire { pool, owner } => {
                    let (p, o) = (POOLS[pool].0, OWNERS[owner]);
                    (set.acquire(p, o), model.acquire(p, o, None))
                }
                Op::Preferred { pool, owner, want } => {
                    let (p, o) = (POOLS[pool].0, OWNERS[owner]);
                    (set.acquire_preferred(p, o, addr(want)), model.acquire(p, o, Some(want)))
                }
                Op::Address { owner, want } => {
                    let o = OWNERS[owner];
                    let expected = match model.used.get(&want) {
                        Some(holder) => Err(PoolError::AddressInUse { address: addr(want), owner: holder.clone() }),
                        None => Ok(model.take(want, o)),
                    };
                    (set.acquire_address(addr(want), o), expected)
                }
                Op::Release { at } => {
                    let expected = match model.used.remove(&at) {
                        Some(owner) => {
                            model.previous.insert(owner.clone(), at);
                            Ok(lease(at, Model::pool_of(at), &owner))
                        }
                        None => Err(PoolError::NotAcquired(addr(at))),
                    };
                    (set.release(addr(at)), expected)
                }
            };
            prop_assert_eq!(got, want);

            // Invariants: used + free = total per pool, counts agree with the model, and no
            // address has two owners.
            for (name, ranges, _) in POOLS {
                let s = set.stats(name).unwrap();
                let total: u128 = ranges.iter().map(|(a, b)| u128::from(b - a + 1)).sum();
                prop_assert_eq!(s.total, total);
                prop_assert_eq!(s.used + s.free, s.total);
                let in_model = model.used.keys().filter(|at| Model::pool_of(**at) == Some(name)).count();
                prop_assert_eq!(s.used, in_model as u128);
            }
            let leases: Vec<Lease> = set.used().collect();
            let addresses: BTreeSet<IpAddr> = leases.iter().map(|l| l.address).collect();
            prop_assert_eq!(addresses.len(), leases.len());
            let model_view: BTreeMap<IpAddr, String> =
                model.used.iter().map(|(at, o)| (addr(*at), o.clone())).collect();
            let set_view: BTreeMap<IpAddr, String> =
                leases.into_iter().map(|l| (l.address, l.owner)).collect();
            prop_assert_eq!(set_view, model_view);
        }
    }

    #[test]
    fn range_text_round_trips(range in any_range()) {
        let text = range.to_string();
        if unusable(&range) {
            let refused = matches!(text.parse::<Range>(), Err(PoolError::UnusableRange { .. }));
            prop_assert!(refused, "{}", text);
            return Ok(());
        }
        prop_assert_eq!(text.parse::<Range>(), Ok(range));
        prop_assert!(range.first() <= range.last());
        prop_assert_eq!(range.len(), u64::from(u32::from(range.last())) - u64::from(u32::from(range.first())) + 1);
    }

    #[test]
    fn range_lists_round_trip_or_report_overlap(list in proptest::collection::vec(any_range(), 1..6)) {
        let text = list.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(",");
        match text.parse::<Ranges>() {
            Ok(ranges) => {
                prop_assert_eq!(ranges.to_string(), text);
                prop_assert_eq!(ranges.iter().copied().collect::<Vec<_>>(), list);
            }
            Err(PoolError::OverlappingRanges { .. }) => {
                let overlap = list.iter().enumerate().any(|(i, a)| {
                    list.iter().skip(i + 1).any(|b| a.first() <= b.last() && b.first() <= a.last())
                });
                prop_assert!(overlap);
            }
            Err(PoolError::UnusableRange { .. }) => prop_assert!(list.iter().any(unusable)),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[0-9./,-]{0,40}") {
        if let Ok(ranges) = text.parse::<Ranges>() {
            prop_assert_eq!(ranges.to_string().parse::<Ranges>(), Ok(ranges));
        }
    }
}

/// Whether a range reaches into 0.0.0.0/8, 127.0.0.0/8 or 224.0.0.0/3 (no client can use them).
fn unusable(r: &Range) -> bool {
    let (first, last) = (u32::from(r.first()), u32::from(r.last()));
    [
        (0x0000_0000u32, 0x00ff_ffffu32),
        (0x7f00_0000, 0x7fff_ffff),
        (0xe000_0000, 0xffff_ffff),
    ]
    .iter()
    .any(|&(a, b)| first <= b && a <= last)
}

fn any_range() -> impl Strategy<Value = Range> {
    prop_oneof![
        any::<u32>().prop_map(|a| Range::Single(Ipv4Addr::from(a))),
        (any::<u32>(), any::<u32>())
            .prop_map(|(a, b)| { Range::Span(Ipv4Addr::from(a.min(b)), Ipv4Addr::from(a.max(b))) }),
        (any::<u32>(), 0u8..=32).prop_map(|(a, len)| {
            Range::Prefix(ipnet::Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc())
        }),
    ]
}
