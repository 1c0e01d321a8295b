//! Sealing and opening a data packet allocates nothing: a counting global allocator around
//! the calls, for every suite.

use std::alloc::System;
use std::time::Instant;

use ovpn_crypto::{DataKeys, KeyBlock, Role};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

/// The tests' one clock read; everything else is this instant plus durations.
#[allow(
    clippy::disallowed_methods,
    reason = "test harness: a base instant for `now` arguments"
)]
fn now() -> Instant {
    Instant::now()
}

// Counts every allocation of this test binary (stats_alloc: a counting wrapper around the
// system allocator, so this file needs no unsafe code of its own).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn seal_and_open_do_not_allocate() {
    let block = KeyBlock::from_bytes(core::array::from_fn(|i| i as u8 ^ 0x5c));
    let now = now();
    let mut buf = vec![0u8; 2048];
    for (cipher, digest) in ovpn_crypto::fuzzing::suites() {
        let mut tx = DataKeys::new(cipher, digest, &block, Role::Client, [3; 32]).unwrap();
        let mut rx = DataKeys::new(cipher, digest, &block, Role::Server, [4; 32]).unwrap();
        // Warm up (first use of CPU feature detection and the like).
        let head = 4 + tx.overhead().head;
        let n = tx.seal(&mut buf, 4, 1400).unwrap();
        rx.open(now, &mut buf[..n], 4).unwrap();

        // The counter is the whole process's: the test harness's own threads may allocate
        // meanwhile (seen once on a loaded machine). A per-packet allocation shows in every
        // attempt, a stray one of another thread does not: one clean attempt of three passes.
        let mut change = (0, 0);
        for _attempt in 0..3 {
            let region = Region::new(GLOBAL);
            for size in [0usize, 1, 64, 512, 1400] {
                buf[head..head + size].fill(0xA5);
                let n = tx.seal(&mut buf, 4, size).unwrap();
                let range = rx.open(now, &mut buf[..n], 4).unwrap();
                assert_eq!(range.len(), size);
                // A refused packet does not allocate either (replay).
                let n = tx.seal(&mut buf, 1, size).unwrap();
                let mut copy = [0u8; 2048];
                copy[..n].copy_from_slice(&buf[..n]);
                rx.open(now, &mut buf[..n], 1).unwrap();
                assert!(rx.open(now, &mut copy[..n], 1).is_err());
            }
            let c = region.change();
            change = (c.allocations, c.reallocations);
            if change == (0, 0) {
                break;
            }
        }
        assert_eq!(change, (0, 0), "{cipher}/{digest} allocated");
    }
}
