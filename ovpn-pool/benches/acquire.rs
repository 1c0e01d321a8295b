//! Acquire + release on a /8 pool (16,777,214 addresses) with 100,000 addresses in use.
//!
//! Run: `cargo bench -p ovpn-pool --bench acquire`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_main};
use ovpn_pool::{Family, Pool, PoolSet};

const IN_USE: u32 = 100_000;

fn slash8() -> PoolSet {
    let mut set = PoolSet::new(Family::Ipv4);
    let pool = Pool::ipv4("big", "10.0.0.0/8".parse().expect("range")).expect("pool");
    set.add(pool).expect("add");
    set
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool /8, 100k in use");

    // 100,000 addresses taken from the bottom: the next free one sits after a run of 100,000.
    let mut packed = slash8();
    for i in 0..IN_USE {
        packed.acquire("big", &format!("user{i}")).expect("acquire");
    }
    group.bench_function("acquire+release (lowest free)", |b| {
        b.iter(|| {
            let lease = packed
                .acquire(black_box("big"), black_box("newcomer"))
                .expect("acquire");
            packed.release(black_box(lease.address)).expect("release")
        })
    });

    // 100,000 addresses spread over the whole /8; acquire and release one specific address.
    let mut spread = slash8();
    let step = (1u32 << 24) / IN_USE;
    for i in 0..IN_USE {
        let a = IpAddr::V4(Ipv4Addr::from(0x0a00_0001 + i * step));
        spread
            .acquire_address(a, &format!("user{i}"))
            .expect("acquire");
    }
    let target = IpAddr::V4(Ipv4Addr::from(0x0a00_0002 + (IN_USE / 2) * step));
    group.bench_function("acquire_address+release (spread)", |b| {
        b.iter(|| {
            spread
                .acquire_address(black_box(target), black_box("newcomer"))
                .expect("acquire");
            spread.release(black_box(target)).expect("release")
        })
    });
    group.finish();
}

#[allow(missing_docs, reason = "criterion_group! defines an undocumented fn")]
mod group {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
