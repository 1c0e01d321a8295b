//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).
//!
//! They are compiled in every build so that the crate's own tests run them over a few inputs.
#![doc(hidden)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::{Family, Pool, PoolError, PoolSet, Ranges};

/// `pool_ranges`: parses arbitrary text as a `ranges=` value (and, with a `/N` suffix trick, as an
/// IPv6 pool prefix). What parses must print back to the same value, and a pool built from it
/// must hand out distinct addresses inside the ranges, then take them all back exactly once.
pub fn pool_ranges(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ranges) = text.parse::<Ranges>() {
        let printed = ranges.to_string();
        assert_eq!(printed.parse::<Ranges>().as_ref(), Ok(&ranges), "{printed}");
        assert_eq!(ranges.len(), ranges.iter().map(|r| r.len()).sum::<u64>());
        if let Ok(pool) = Pool::ipv4("fuzz", ranges.clone()) {
            exercise(pool, |a| match a {
                IpAddr::V4(a) => ranges.contains(a),
                IpAddr::V6(_) => false,
            });
        }
    }
    // "PREFIX LEN": an /ipv6 pool.
    if let Some((prefix, len)) = text.rsplit_once(' ') {
        let props = [("name", "fuzz"), ("prefix", prefix), ("prefix-length", len)];
        if let Ok(pool) = Pool::from_properties(Family::Ipv6, props) {
            let net = pool.prefix();
            let printed = pool.to_string();
            let again = printed.split(' ').filter_map(|kv| kv.split_once('='));
            assert_eq!(
                Pool::from_properties(Family::Ipv6, again).as_ref(),
                Ok(&pool),
                "{printed}"
            );
            exercise(pool, |a| {
                net.is_some_and(|n| ipnet::IpNet::from(n).contains(&a))
            });
        }
    }
}

fn exercise(pool: Pool, inside: impl Fn(IpAddr) -> bool) {
    let total = pool.total();
    let name = pool.name().to_owned();
    let mut set = PoolSet::new(pool.family());
    if set.add(pool).is_err() {
        return;
    }
    let mut got = BTreeSet::new();
    for i in 0..total.min(8) {
        match set.acquire(&name, &format!("o{i}")) {
            Ok(lease) => {
                assert!(inside(lease.address), "{lease}");
                assert!(got.insert(lease.address), "handed out twice: {lease}");
            }
            Err(e) => panic!("pool of {total} exhausted after {i}: {e}"),
        }
    }
    if total <= 8 {
        assert!(matches!(
            set.acquire(&name, "x"),
            Err(PoolError::Exhausted { .. })
        ));
    }
    let stats = set.stats(&name);
    assert_eq!(stats.map(|s| s.used + s.free), Some(total));
    for address in &got {
        assert!(set.release(*address).is_ok());
        assert_eq!(set.release(*address), Err(PoolError::NotAcquired(*address)));
    }
    assert_eq!(set.stats(&name).map(|s| s.used), Some(0));
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_entry_runs() {
        for input in [
            &b"10.8.0.2-10.8.0.254"[..],
            b"10.0.0.0/8,192.168.0.1",
            b"1.1.1.1-1.1.1.2,1.1.1.3",
            b"10.8.0.9-10.8.0.1",
            b"2001:db8::/48 64",
            b"2001:db8::/126 128",
            b"\xff\xfe",
            b"",
        ] {
            super::pool_ranges(input);
        }
    }
}
