//! What a flood of spoofed session starts leaves on the server's heap: nothing but a small
//! constant. Alone in its test binary, so that the counting allocator sees only this.

mod common;

use std::alloc::System;
use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use ovpn_session::{DropReason, Server};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed since `region` began (reallocations included).
fn heap_growth(region: &Region<'_, System>) -> isize {
    let c = region.change();
    c.bytes_allocated as isize - c.bytes_deallocated as isize + c.bytes_reallocated
}

#[test]
fn a_hundred_thousand_spoofed_resets_leave_the_heap_as_it_was() {
    let epoch = start();
    let mut server = Server::new(server_config(5), shared(), epoch, unix_epoch()).unwrap();
    let mut buf = Vec::with_capacity(2048);
    let mut now = epoch;
    let mut flood = |server: &mut Server, now: std::time::Instant, n: u32, from: u32| {
        let mut answers = 0;
        for i in from..from + n {
            let mut p = [0u8; 14];
            p[0] = 0x38;
            p[1..9].copy_from_slice(&((u64::from(i) * 0x9e37_79b9) | 1).to_be_bytes());
            let src = SocketAddr::from((
                [203, 0, 113, (i % 100) as u8],
                20_000 + (i / 100 % 100) as u16,
            ));
            let r = server.handle_datagram(now, src, &mut p);
            assert!(matches!(r, Ok(_) | Err(DropReason::StartLimited)), "{r:?}");
            while server.poll_transmit(now, &mut buf).is_some() {
                answers += 1;
            }
        }
        answers
    };
    // The first flood sizes what the server keeps whatever comes (its queues, the log gate).
    flood(&mut server, now, 10_000, 0);
    let region = Region::new(GLOBAL);
    let mut answers = 0;
    for round in 0..10 {
        now += Duration::from_secs(2);
        server.handle_timeout(now);
        answers += flood(&mut server, now, 10_000, 10_000 * (round + 1));
    }
    let growth = heap_growth(&region);
    assert!(server.sessions(now).is_empty());
    assert_eq!(server.poll_timeout(), None, "no timer: nothing is kept");
    assert!(answers > 0);
    assert!(growth.abs() < 4096, "the heap changed by {growth} bytes");
    println!(
        "flood heap: 100000 spoofed resets from 10000 sources over 20 s: {answers} answered, heap change {growth} B, no session, no timer"
    );
}
