//! The data path allocates nothing: encapsulate and handle_datagram work in the caller's buffer.

mod common;

use std::alloc::System;

use common::*;
use ovpn_session::sim::LinkConfig;
use ovpn_session::{HEADROOM, Received, ServerReceived, TAILROOM};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

// Counts every allocation of this test binary (stats_alloc wraps the system allocator).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn sealing_and_opening_data_packets_allocates_nothing() {
    for (cipher, auth) in [
        ("aes256-gcm", "sha1"),
        ("aes256-cbc", "sha256"),
        ("blowfish128", "sha1"),
    ] {
        let seed = 77;
        let mut s = server_config(seed);
        s.ciphers = vec![cipher.parse().unwrap()];
        s.auths = vec![auth.parse().unwrap()];
        let mut c = client_config(seed);
        c.cipher = cipher.parse().unwrap();
        c.auth = auth.parse().unwrap();
        let mut sim = sim(seed, s, c, LinkConfig::default());
        assert!(sim.run_until(std::time::Duration::from_secs(60), connected));
        let peer = sim.server.sessions(sim.now)[0].peer;
        let from = sim.client_addr;
        let source = sim.client.tun().unwrap().address.unwrap().octets();
        let now = sim.now;
        let mut buf = vec![0u8; HEADROOM + 1400 + TAILROOM];
        // The counter is the whole process's: the test harness's own threads may allocate
        // meanwhile. A per-packet allocation shows in every attempt, a stray one of another
        // thread does not: one clean attempt of three passes.
        let mut allocations = 0;
        for _attempt in 0..3 {
            let region = Region::new(GLOBAL);
            for i in 0..1000u32 {
                let len = 40 + (i as usize * 13) % 1360;
                // An IPv4 header from the client's address (the server checks the source).
                buf[HEADROOM..HEADROOM + 4].copy_from_slice(&[
                    0x45,
                    0,
                    (len >> 8) as u8,
                    len as u8,
                ]);
                buf[HEADROOM + 4..HEADROOM + 8].copy_from_slice(&i.to_be_bytes());
                buf[HEADROOM + 12..HEADROOM + 16].copy_from_slice(&source);
                let r = sim
                    .client
                    .encapsulate(now, &mut buf, HEADROOM, len)
                    .unwrap();
                let got = match sim.server.handle_datagram(now, from, &mut buf[r]).unwrap() {
                    ServerReceived::Packet { packet, .. } => packet.len(),
                    _ => 0,
                };
                assert_eq!(got, len);
                let (_, r) = sim
                    .server
                    .encapsulate(now, peer, &mut buf, HEADROOM, len)
                    .unwrap();
                let got = match sim.client.handle_datagram(now, &mut buf[r]).unwrap() {
                    Received::Packet(p) => p.len(),
                    Received::Consumed => 0,
                };
                assert_eq!(got, len);
            }
            allocations = region.change().allocations;
            if allocations == 0 {
                break;
            }
        }
        assert_eq!(
            allocations, 0,
            "{cipher}: {allocations} allocations for 4000 packet operations"
        );
    }
}
