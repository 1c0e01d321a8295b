//! The event loops allocate nothing per data packet: ten times the packets through the demo's
//! loops (server and client, stand-in interfaces, real UDP and TCP sockets) cost no more
//! allocations than the same run with a tenth of them, beyond a small allowance for the
//! handshake's variations.

use std::alloc::System;

use ovpn_examples::demo::{self, DemoOptions};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

// Counts every allocation of this test binary, in every thread.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn allocations(packets: u32, tcp: bool) -> usize {
    let o = DemoOptions {
        packets,
        tcp,
        ..DemoOptions::default()
    };
    let region = Region::new(GLOBAL);
    demo::run(&o).expect("the demo runs");
    region.change().allocations
}

#[test]
fn the_loops_allocate_nothing_per_packet() {
    for tcp in [false, true] {
        // A first run warms up what is allocated once per process.
        allocations(50, tcp);
        let few = allocations(200, tcp);
        let many = allocations(2000, tcp);
        eprintln!("tcp={tcp}: {few} allocations with 200 packets each way, {many} with 2000");
        // 3600 more packets through each loop (1800 each way): a per-packet allocation anywhere
        // would add thousands.
        assert!(
            many < few + 300,
            "tcp={tcp}: {few} allocations for 200 packets each way, {many} for 2000"
        );
    }
}
