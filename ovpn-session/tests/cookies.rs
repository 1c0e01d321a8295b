//! The stateless session start over UDP (OpenVPN 2.6's HMAC cookie): a reset is answered once,
//! with nothing kept, and only a third packet that echoes a valid cookie makes a session.
//! Amplification is bounded by `connect-freq-initial`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use ovpn_session::sim::{LinkConfig, seed_from_env};
use ovpn_session::{DropReason, RateLimit, Server, ServerReceived, Transmit};
use ovpn_wire::{AckList, ControlPacket, KeyId, Opcode, SessionId};

const LIMIT: Duration = Duration::from_secs(120);

/// A client's first packet: `P_CONTROL_HARD_RESET_CLIENT_V2`, key 0, no acks, message 0.
fn reset(sid: [u8; 8]) -> Vec<u8> {
    let mut p = vec![0x38];
    p.extend_from_slice(&sid);
    p.extend_from_slice(&[0, 0, 0, 0, 0]);
    p
}

/// A client's third packet: a `P_ACK_V1` acknowledging message 0 of the server session `cookie`.
fn third(sid: [u8; 8], cookie: SessionId) -> Vec<u8> {
    let pkt = ControlPacket::ack(
        KeyId::ZERO,
        SessionId(sid),
        AckList::from_slice(&[0]).unwrap(),
        cookie,
    );
    let mut v = vec![0; pkt.encoded_len()];
    let n = pkt.write(&mut v).unwrap();
    v.truncate(n);
    v
}

fn drain(server: &mut Server, now: std::time::Instant) -> Vec<(Transmit, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(t) = server.poll_transmit(now, &mut buf) {
        out.push((t, buf[..t.len].to_vec()));
    }
    out
}

fn new_server(seed: u64) -> (Server, std::time::Instant) {
    let epoch = start();
    let s = Server::new(server_config(seed), shared(), epoch, unix_epoch()).unwrap();
    (s, epoch)
}

fn spoofed(i: u32) -> SocketAddr {
    SocketAddr::from(([198, 51, (i >> 8) as u8, i as u8], 1024 + (i % 100) as u16))
}

#[test]
fn a_reset_is_answered_once_with_a_cookie_and_nothing_kept() {
    let (mut server, t0) = new_server(1);
    let from = spoofed(7);
    let sid = [7; 8];
    let mut first = reset(sid);
    let r = server.handle_datagram(t0, from, &mut first);
    assert!(matches!(r, Ok(ServerReceived::Consumed)), "{r:?}");
    let out = drain(&mut server, t0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.destination, from);
    let reply = ControlPacket::parse(&out[0].1).unwrap();
    assert_eq!(reply.opcode, Opcode::HardResetServerV2);
    assert_eq!(reply.acks.as_slice(), [0]);
    assert_eq!(reply.remote_session_id, Some(SessionId(sid)));
    assert_eq!(reply.message_id, Some(0));
    assert!(reply.payload.is_empty());
    // Nothing kept: no session, no timer, and no retransmission however long we wait.
    assert!(server.sessions(t0).is_empty());
    assert_eq!(server.poll_timeout(), None);
    for s in [2, 4, 8, 16, 60, 120] {
        let now = t0 + Duration::from_secs(s);
        server.handle_timeout(now);
        assert!(
            drain(&mut server, now).is_empty(),
            "a retransmission after {s} s"
        );
    }
    // The same client retransmitting its reset gets the same cookie again.
    server
        .handle_datagram(t0 + Duration::from_secs(2), from, &mut reset(sid))
        .unwrap();
    let again = drain(&mut server, t0 + Duration::from_secs(2));
    assert_eq!(
        ControlPacket::parse(&again[0].1).unwrap().session_id,
        reply.session_id
    );
}

#[test]
fn only_a_valid_fresh_cookie_of_this_server_makes_a_session() {
    let (mut server, t0) = new_server(2);
    let (mut other, _) = new_server(3);
    let from = spoofed(9);
    let sid = [9; 8];
    server.handle_datagram(t0, from, &mut reset(sid)).unwrap();
    let cookie = ControlPacket::parse(&drain(&mut server, t0)[0].1)
        .unwrap()
        .session_id;
    other.handle_datagram(t0, from, &mut reset(sid)).unwrap();
    let foreign = ControlPacket::parse(&drain(&mut other, t0)[0].1)
        .unwrap()
        .session_id;
    assert_ne!(cookie, foreign, "each server has its own key");
    let mut wrong = cookie;
    wrong.0[7] ^= 1;
    let refused = [
        (wrong, from, t0),
        (foreign, from, t0),
        (SessionId([0; 8]), from, t0),
        // Someone else's address, or the right cookie once it is stale (90 s or more).
        (cookie, spoofed(10), t0),
        (cookie, from, t0 + Duration::from_secs(91)),
    ];
    for (c, addr, now) in refused {
        let mut p = third(sid, c);
        let r = server.handle_datagram(now, addr, &mut p);
        assert_eq!(r.err(), Some(DropReason::BadCookie), "{c:?} from {addr}");
        assert!(server.sessions(now).is_empty());
        assert!(
            drain(&mut server, now).is_empty(),
            "a bad cookie is not answered"
        );
    }
    // The right one, within its window, makes the session, which goes on from message 1.
    let now = t0 + Duration::from_secs(45);
    let mut p = third(sid, cookie);
    let r = server.handle_datagram(now, from, &mut p);
    assert!(matches!(r, Ok(ServerReceived::Consumed)), "{r:?}");
    let sessions = server.sessions(now);
    assert_eq!(sessions.len(), 1);
    assert!(!sessions[0].connected);
    assert!(server.poll_timeout().is_some(), "its hand-window runs");
}

#[test]
fn our_client_connects_through_the_cookie_and_when_the_answer_is_lost() {
    let seed = seed_from_env(31);
    let mut first = sim(
        seed,
        server_config(seed),
        client_config(seed),
        LinkConfig::default(),
    );
    let sim_of = common::sim;
    let sim = &mut first;
    // The server's first answer is lost: the client resends its reset and still gets in.
    assert!(sim.run_until(LIMIT, |s| s.s2c.next_delivery().is_some()));
    sim.s2c.clear();
    assert!(
        sim.run_until(LIMIT, connected),
        "did not connect\n{}",
        sim.dump()
    );
    assert!(sim.c2s.stats().sent >= 3, "{:?}", sim.c2s.stats());
    // Every seed of a lossy link gets in too (the hello that carries the cookie's ack may be
    // lost: its retransmission carries the ack again).
    for seed in seed..seed + 8 {
        let mut sim = sim_of(
            seed,
            server_config(seed),
            client_config(seed),
            LinkConfig::lossy(0.3),
        );
        assert!(
            sim.run_until(Duration::from_secs(300), connected),
            "seed {seed} did not connect\n{}",
            sim.dump()
        );
    }
}

#[test]
fn spoofed_resets_get_at_most_connect_freq_initial_answers_and_fewer_bytes_than_they_sent() {
    let seed = seed_from_env(32);
    let mut sc = server_config(seed);
    sc.connect_freq_initial = Some(RateLimit::new(100, Duration::from_secs(10)));
    // Exactly 2.6's limit, with no share beyond it.
    sc.connect_reply_share = 0;
    let mut sim = sim(seed, sc, client_config(seed), LinkConfig::default());
    let t0 = sim.now;
    let mut bytes_in = 0u64;
    for i in 0..500u32 {
        let mut p = reset(i.to_be_bytes().repeat(2).try_into().unwrap());
        bytes_in += p.len() as u64;
        let r = sim.server.handle_datagram(t0, spoofed(i), &mut p);
        if i < 100 {
            assert!(r.is_ok(), "{i}: {r:?}");
        } else {
            assert_eq!(r.err(), Some(DropReason::StartLimited), "{i}");
        }
    }
    sim.advance(Duration::from_secs(9));
    let (packets, bytes_out) = sim.sent_elsewhere;
    assert_eq!(packets, 100, "one answer each, and only 100");
    assert!(
        bytes_out < bytes_in,
        "{bytes_out} bytes sent for {bytes_in} received"
    );
    assert!(sim.server.sessions(sim.now).is_empty());
    // Minutes later nothing more was sent: answers are never retransmitted.
    sim.advance(Duration::from_secs(120));
    assert_eq!(sim.sent_elsewhere.0, 100);
    // A new window answers again, and a real client gets in.
    assert!(
        sim.run_until(LIMIT, connected),
        "did not connect\n{}",
        sim.dump()
    );
}
