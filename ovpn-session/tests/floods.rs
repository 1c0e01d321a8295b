//! Hostile input at scale against one server: spoofed session starts, garbage datagrams,
//! replayed and tampered data packets. Each test says what it measured (`--nocapture`); the
//! README's figures come from here. (What a flood leaves on the heap is `flood_heap.rs`, alone
//! in its binary so that nothing else allocates meanwhile.)

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use ovpn_session::sim::{LinkConfig, Sim, SimRng, seed_from_env};
use ovpn_session::{Client, DropReason, HEADROOM, TAILROOM};

/// Source `i` of 10,000: 100 addresses times 100 ports.
fn spoofed(i: u32) -> SocketAddr {
    let a = i % 100;
    SocketAddr::from(([203, 0, 113, a as u8], 20_000 + (i / 100) as u16))
}

fn reset(sid: u64) -> [u8; 14] {
    let mut p = [0u8; 14];
    p[0] = 0x38;
    p[1..9].copy_from_slice(&(sid | 1).to_be_bytes());
    p
}

/// 100,000 spoofed resets from 10,000 address:port pairs over 20 s, while a real client starts
/// 2 s in: no session comes of them, fewer bytes go back than came, and the real client gets in
/// during the flood.
#[test]
fn a_spoofed_reset_flood_keeps_nothing_and_a_real_client_gets_in_during_it() {
    let seed = seed_from_env(41);
    let mut sim = sim(
        seed,
        server_config(seed),
        client_config(seed),
        LinkConfig::default(),
    );
    // The real client starts later; until then the simulation's client talks to nobody.
    let start_at = sim.now + Duration::from_secs(2);
    let mut pending = Some(Client::new(client_config(seed), start_at, unix_epoch()).unwrap());
    let mut nobody = client_config(seed ^ 9);
    nobody.server = "192.0.2.99:1194".parse().unwrap();
    sim.client = Client::new(nobody, sim.now, unix_epoch()).unwrap();
    sim.client_addr = "192.0.2.200:1".parse().unwrap();
    let real_addr: SocketAddr = "192.0.2.2:40000".parse().unwrap();
    let flood_end = sim.now + Duration::from_secs(20);
    let (mut bytes_in, mut sent) = (0u64, 0u32);
    let mut connected_at = None;
    let t0 = sim.now;
    while sent < 100_000 {
        for _ in 0..500 {
            let mut p = reset(u64::from(sent).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            bytes_in += p.len() as u64;
            let r = sim
                .server
                .handle_datagram(sim.now, spoofed(sent % 10_000), &mut p);
            assert!(
                matches!(r, Ok(_) | Err(DropReason::StartLimited)),
                "{sent}: {r:?}"
            );
            sent += 1;
        }
        sim.advance(Duration::from_millis(100));
        if let Some(c) = pending.take_if(|_| sim.now >= start_at) {
            sim.client = c;
            sim.client_addr = real_addr;
        }
        if connected_at.is_none() && connected(&sim) {
            connected_at = Some(sim.now);
        }
    }
    assert!(sim.now <= flood_end + Duration::from_millis(200));
    let connected_at =
        connected_at.unwrap_or_else(|| panic!("no connection during the flood\n{}", sim.dump()));
    let sessions = sim.server.sessions(sim.now);
    assert_eq!(sessions.len(), 1, "only the real client has a session");
    assert_eq!(sessions[0].remote, real_addr);
    let (answers, bytes_out) = sim.sent_elsewhere;
    // On the wire, with each datagram's IPv4 and UDP headers.
    let wire_in = bytes_in + 28 * u64::from(sent);
    let wire_out = bytes_out + 28 * answers;
    assert!(wire_out < wire_in, "{wire_out} bytes answered {wire_in}");
    println!(
        "flood: 100000 spoofed resets ({wire_in} B on the wire) from 10000 sources over {:?}: {answers} answers ({wire_out} B, {:.2}x), 0 sessions kept; the real client connected {:?} after it started",
        sim.now - t0,
        wire_out as f64 / wire_in as f64,
        connected_at - start_at,
    );
}

fn established(seed: u64) -> Sim {
    let mut sim = sim(
        seed,
        server_config(seed),
        client_config(seed),
        LinkConfig::default(),
    );
    assert!(
        sim.run_until(Duration::from_secs(60), connected),
        "{}",
        sim.dump()
    );
    sim
}

/// One packet each way through the tunnel; true if both arrived.
fn still_carries(sim: &mut Sim) -> bool {
    let addr = sim.client.tun().unwrap().address.unwrap().octets();
    let peer = sim.server.sessions(sim.now)[0].peer;
    sim.client_tun.clear();
    sim.server_tun.clear();
    sim.client_send(&ip_packet(addr, [10, 8, 0, 1], 7, 200))
        .unwrap();
    sim.server_send(peer, &ip_packet([10, 8, 0, 1], addr, 8, 200))
        .unwrap();
    sim.advance(Duration::from_secs(1));
    sim.client_tun.len() == 1 && sim.server_tun.len() == 1
}

/// 200,000 datagrams of random bytes and sizes (from the client's own address and from
/// elsewhere, some with a real opcode byte): no panic, the session lives and carries data,
/// and each costs a bounded time (the mean and the worst are printed).
#[test]
fn garbage_datagrams_leave_a_live_session_alone() {
    let seed = seed_from_env(42);
    let mut sim = established(seed);
    let mut rng = SimRng::new(seed);
    let mut buf = vec![0u8; 2048];
    let mut worst = Duration::ZERO;
    #[allow(
        clippy::disallowed_methods,
        reason = "measuring the CPU time per datagram"
    )]
    let started = Instant::now();
    for i in 0..200_000u32 {
        let len = (rng.next_u64() % 1600) as usize;
        rng.fill(&mut buf[..len]);
        if len > 0 && i % 2 == 0 {
            // A plausible opcode (key 0): control, ack, data V1 or V2.
            buf[0] = [0x38, 0x20, 0x28, 0x30, 0x48][(i as usize / 2) % 5];
        }
        let from = if i % 3 == 0 {
            sim.client_addr
        } else {
            SocketAddr::from(([198, 18, (i >> 8) as u8, i as u8], 5000))
        };
        #[allow(
            clippy::disallowed_methods,
            reason = "measuring the CPU time per datagram"
        )]
        let t = Instant::now();
        let _ = sim.server.handle_datagram(sim.now, from, &mut buf[..len]);
        worst = worst.max(t.elapsed());
        if i % 10_000 == 0 {
            sim.advance(Duration::from_millis(50));
        }
    }
    #[allow(
        clippy::disallowed_methods,
        reason = "measuring the CPU time per datagram"
    )]
    let mean = started.elapsed() / 200_000;
    sim.advance(Duration::from_secs(1));
    let s = &sim.server.sessions(sim.now);
    assert_eq!(s.len(), 1);
    assert!(s[0].connected);
    assert!(still_carries(&mut sim), "{}", sim.dump());
    println!(
        "garbage: 200000 random datagrams: mean {mean:?}, worst {worst:?} each; the session carries data"
    );
}

/// Replayed, bit-flipped and truncated data packets of a live session are dropped and counted;
/// the session goes on.
#[test]
fn replayed_tampered_and_truncated_data_packets_are_dropped_and_counted() {
    let seed = seed_from_env(43);
    let mut sim = established(seed);
    let from = sim.client_addr;
    let source = sim.client.tun().unwrap().address.unwrap().octets();
    let now = sim.now;
    let before = sim.server.sessions(now)[0].traffic.dropped_in;
    let mut buf = vec![0u8; HEADROOM + 1400 + TAILROOM];
    let len = 200;
    buf[HEADROOM..HEADROOM + 4].copy_from_slice(&[0x45, 0, 0, len as u8]);
    buf[HEADROOM + 12..HEADROOM + 16].copy_from_slice(&source);
    let r = sim
        .client
        .encapsulate(now, &mut buf, HEADROOM, len)
        .unwrap();
    let sealed = buf[r].to_vec();
    assert!(
        sim.server
            .handle_datagram(now, from, &mut sealed.clone())
            .is_ok()
    );
    let mut dropped = 0;
    // The same packet again.
    assert_eq!(
        sim.server
            .handle_datagram(now, from, &mut sealed.clone())
            .err(),
        Some(DropReason::Replay)
    );
    dropped += 1;
    // A bit flipped anywhere past the header (the header's key id and peer id choose the
    // key; a flip there is another drop).
    for bit in (8 * 4..8 * sealed.len()).step_by(97) {
        let mut p = sealed.clone();
        p[bit / 8] ^= 1 << (bit % 8);
        assert!(
            sim.server.handle_datagram(now, from, &mut p).is_err(),
            "bit {bit}"
        );
        dropped += 1;
    }
    // Cut short anywhere.
    for cut in [0, 1, 3, 4, 10, sealed.len() / 2, sealed.len() - 1] {
        let mut p = sealed[..cut].to_vec();
        // An empty datagram names no session (not even an opcode).
        assert!(
            sim.server.handle_datagram(now, from, &mut p).is_err(),
            "cut at {cut}"
        );
        dropped += u64::from(cut > 0);
    }
    let after = sim.server.sessions(now)[0].traffic.dropped_in;
    assert_eq!(
        after - before,
        dropped,
        "every drop of a packet that named the session is counted"
    );
    assert!(still_carries(&mut sim), "{}", sim.dump());
}
