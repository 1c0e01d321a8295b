//! A TCP server's connections are bounded: silent, stalled and broken connections are closed on
//! time, past the per-source and total limits they are refused, and a real client is served
//! through all of it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{CloseReason, DropReason, SESSION_END_GRACE, ServerEvent, TcpLimits};

const LIMIT: Duration = Duration::from_secs(120);

fn tcp_sim(seed: u64, limits: TcpLimits) -> Sim {
    let (c, mut s) = tcp(client_config(seed), server_config(seed));
    s.tcp_limits = limits;
    sim(seed, s, c, LinkConfig::default())
}

fn closed(sim: &Sim, remote: SocketAddr) -> Option<CloseReason> {
    sim.server_events.iter().find_map(|e| match e {
        ServerEvent::CloseConnection { remote: r, reason } if *r == remote => Some(*reason),
        _ => None,
    })
}

fn attacker(i: u32) -> SocketAddr {
    SocketAddr::from(([198, 51, 100, (i % 200) as u8], 30_000 + (i / 200) as u16))
}

#[test]
fn silent_stalled_and_broken_connections_end_and_a_real_client_is_served_meanwhile() {
    let seed = seed_from_env(51);
    // Room for all of them, to see each closed on time (the default total, max-clients, would
    // refuse most at once).
    let limits = TcpLimits {
        max_total: 4100,
        ..TcpLimits::default()
    };
    let mut sim = tcp_sim(seed, limits);
    let now = sim.now;
    // 2,000 connections that send nothing, from 200 addresses (10 each), and 2,000 that send
    // a length prefix (or half of one) and stall.
    for i in 0..4000 {
        let r = sim.server.connection_opened(now, attacker(i));
        assert!(r.is_ok(), "{i}: {r:?}");
        if i >= 2000 {
            let mut prefix = if i % 2 == 0 {
                vec![0x00, 0x40]
            } else {
                vec![0x00]
            };
            let mut s = sim.server.handle_stream(now, attacker(i), &mut prefix);
            assert!(s.next().is_none(), "nothing complete");
        }
    }
    assert_eq!(sim.server.connections(), 4000);
    // A zero length prefix breaks the stream at once.
    let broken = SocketAddr::from(([198, 51, 100, 250], 1));
    sim.server.connection_opened(now, broken).unwrap();
    let mut zero = [0u8, 0, 1, 2];
    let mut s = sim.server.handle_stream(now, broken, &mut zero);
    assert!(matches!(s.next(), Some(Err(DropReason::BrokenStream(_)))));
    assert!(s.next().is_none());
    drop(s);
    sim.server.connection_closed(now, broken);
    // The real client gets in meanwhile.
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    // Within the first-packet bound every attacker's connection is closed, and says why.
    let deadline = now + limits.first_packet;
    sim.run_until(LIMIT, |s| s.now >= deadline);
    sim.advance(Duration::from_millis(10));
    for i in [0, 1999, 2000, 2001, 3999] {
        assert_eq!(
            closed(&sim, attacker(i)),
            Some(CloseReason::NoValidPacket(limits.first_packet)),
            "{i}"
        );
    }
    assert_eq!(sim.server.connections(), 1, "only the real client's");
    let s = sim.server.sessions(sim.now);
    assert_eq!(s.len(), 1);
    assert!(s[0].connected);
}

#[test]
fn per_source_and_total_limits_refuse_new_connections() {
    let seed = seed_from_env(52);
    let limits = TcpLimits {
        max_per_source: 3,
        max_total: 5,
        ..TcpLimits::default()
    };
    let mut sim = tcp_sim(seed, limits);
    let now = sim.now;
    let one = |port| SocketAddr::from(([198, 51, 100, 1], port));
    for port in 1..=3 {
        sim.server.connection_opened(now, one(port)).unwrap();
    }
    assert_eq!(
        sim.server.connection_opened(now, one(4)),
        Err(DropReason::TooManyConnections)
    );
    sim.server.connection_opened(now, attacker(7)).unwrap();
    // One place left: the real client takes it, and the next is refused.
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    assert_eq!(sim.server.connections(), 5);
    assert_eq!(
        sim.server.connection_opened(sim.now, attacker(8)),
        Err(DropReason::TooManyConnections)
    );
    sim.server.connection_closed(sim.now, one(1));
    assert!(sim.server.connection_opened(sim.now, one(4)).is_ok());
}

#[test]
fn a_packet_that_stalls_half_sent_ends_its_session() {
    let seed = seed_from_env(53);
    let limits = TcpLimits::default();
    let mut sim = tcp_sim(seed, limits);
    // A connection whose first packet is a valid session start, followed by half of a length
    // prefix and nothing more.
    let from = attacker(1);
    let now = sim.now;
    sim.server.connection_opened(now, from).unwrap();
    let mut bytes = vec![0x00, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0x00];
    let mut s = sim.server.handle_stream(now, from, &mut bytes);
    assert!(matches!(s.next(), Some(Ok(_))));
    assert!(s.next().is_none());
    drop(s);
    assert_eq!(sim.server.sessions(now).len(), 1);
    assert!(
        sim.run_until(LIMIT, |s| closed(s, from).is_some()),
        "{}",
        sim.dump()
    );
    assert_eq!(
        closed(&sim, from),
        Some(CloseReason::StalledFrame(limits.partial_frame))
    );
    let took = sim.now - now;
    assert!(took >= limits.partial_frame && took < limits.partial_frame + Duration::from_secs(1));
    // Its session ended with it, told to the driver before the close.
    assert!(sim.server_events.iter().any(|e| matches!(e,
        ServerEvent::Disconnected { session, .. } if session.remote == from)));
    assert_eq!(
        sim.server.connections(),
        1,
        "the real client's is still open"
    );
}

#[test]
fn a_connection_whose_login_is_refused_is_closed_after_its_last_words() {
    let seed = seed_from_env(54);
    let (mut c, s) = tcp(client_config(seed), server_config(seed));
    c.password = "wrong".to_owned().into();
    let mut sim = sim(seed, s, c, LinkConfig::default());
    let from = sim.client_addr;
    assert!(sim.run_until(LIMIT, |s| {
        s.client_events
            .iter()
            .any(|e| format!("{e:?}").contains("login incorrect"))
    }));
    let refused_at = sim.now;
    // The client does not try again (a real one would on a new connection anyway).
    let mut nobody = client_config(seed ^ 3);
    nobody.server = "192.0.2.99:1194".parse().unwrap();
    sim.client = ovpn_session::Client::new(nobody, sim.now, unix_epoch()).unwrap();
    assert!(
        sim.run_until(LIMIT, |s| closed(s, from).is_some()),
        "{}",
        sim.dump()
    );
    assert_eq!(closed(&sim, from), Some(CloseReason::SessionEnded));
    // Not before the refused session ended and its grace passed.
    assert!(
        sim.now - refused_at >= SESSION_END_GRACE,
        "{:?}",
        sim.now - refused_at
    );
    assert_eq!(sim.server.connections(), 0);
}
