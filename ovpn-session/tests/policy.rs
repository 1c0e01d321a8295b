//! The PPP settings a login resolves to take effect on the session: session-timeout, idle-timeout,
//! rate-limit, limit-bytes-in/out, only-one, use-encryption=required and change-tcp-mss, each on
//! our client and server on the simulated network.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{AuthMode, ClientState, DisconnectReason, DropReason, EncapError, ServerConfig};

const LIMIT: Duration = Duration::from_secs(60);

/// The page's server with `profile` and `secret` properties added to its profile and secret.
fn server_with(seed: u64, profile: &str, secret: &str) -> ServerConfig {
    let mut ppp = ovpn_ppp::PppConfig::new();
    ppp.add_profile_text(&format!(
        "name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool {profile}"
    ))
    .unwrap();
    ppp.add_secret_text(&format!(
        "name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn {secret}"
    ))
    .unwrap();
    let mut s = server_config(seed);
    s.auth = AuthMode::Inline(Arc::new(ppp));
    s
}

fn connected_sim(seed: u64, s: ServerConfig) -> Sim {
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    sim
}

fn from_client(sim: &Sim, n: u32, len: usize) -> Vec<u8> {
    let own = sim.client.tun().unwrap().address.unwrap().octets();
    ip_packet(own, [10, 8, 0, 1], n, len)
}

#[test]
fn session_timeout_ends_the_session_on_time_whatever_the_traffic() {
    let seed = seed_from_env(31);
    let mut sim = connected_sim(seed, server_with(seed, "session-timeout=8s", ""));
    let up = sim.now;
    // Traffic all along does not keep it up.
    let mut n = 0;
    while sim.now - up < Duration::from_millis(7500) {
        let p = from_client(&sim, n, 100);
        sim.client_send(&p).unwrap();
        n += 1;
        sim.advance(Duration::from_millis(500));
    }
    assert_eq!(server_end(&sim), None, "still up at 7.5 s");
    assert!(
        sim.run_until(Duration::from_secs(2), |s| server_end(s).is_some()),
        "{}",
        sim.dump()
    );
    assert_eq!(server_end(&sim), Some(DisconnectReason::SessionTimeout));
    // 8 s after login, which was just before `up`.
    let after = sim.now - up;
    assert!(
        after >= Duration::from_millis(7900) && after <= Duration::from_secs(8),
        "{after:?}"
    );
    assert_eq!(
        sim.server.shared().view(|_, p| p.used().count()),
        0,
        "its address is free"
    );
}

#[test]
fn idle_timeout_ends_a_silent_session_and_traffic_keeps_it() {
    let seed = seed_from_env(32);
    let mut sim = connected_sim(seed, server_with(seed, "idle-timeout=5s", ""));
    // Data every 3 s keeps it up for 20 s (keepalive pings do not count as traffic).
    for n in 0..7 {
        sim.advance(Duration::from_secs(3));
        let p = from_client(&sim, n, 100);
        sim.client_send(&p).unwrap();
    }
    assert_eq!(server_end(&sim), None, "{}", sim.dump());
    let last = sim.now;
    assert!(sim.run_until(Duration::from_secs(10), |s| server_end(s).is_some()));
    assert_eq!(server_end(&sim), Some(DisconnectReason::IdleTimeout));
    let idle = sim.now - last;
    assert!(
        idle >= Duration::from_secs(5) && idle < Duration::from_millis(5100),
        "{idle:?}"
    );
}

#[test]
fn a_per_user_session_timeout_from_the_authenticator_applies() {
    // An external check (RADIUS's Session-Timeout) gives this user 4 s.
    let seed = seed_from_env(33);
    let mut s = server_config(seed);
    s.auth = AuthMode::Deferred;
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    assert!(sim.run_until(LIMIT, |s| nth_auth_request(s, 0).is_some()));
    let (peer, request) = nth_auth_request(&sim, 0).unwrap();
    let mut grant = ovpn_ppp::Authenticator::authenticate(&ppp(), &request).unwrap();
    grant.session_timeout = Some(Duration::from_secs(4));
    let now = sim.now;
    sim.server.auth_verdict(now, peer, Ok(grant)).unwrap();
    assert!(sim.run_until(LIMIT, connected));
    let up = sim.now;
    assert!(sim.run_until(Duration::from_secs(6), |s| server_end(s).is_some()));
    assert_eq!(server_end(&sim), Some(DisconnectReason::SessionTimeout));
    assert!(sim.now - up < Duration::from_millis(4100));
}

#[test]
fn rate_limit_polices_each_direction_at_its_rate() {
    let seed = seed_from_env(34);
    // rx (from the client) 800 kbit/s = 100 kB/s, tx (to the client) 400 kbit/s = 50 kB/s.
    let mut sim = connected_sim(seed, server_with(seed, "rate-limit=800k/400k", ""));
    let peer = sim.server.sessions(sim.now)[0].peer;
    sim.server_tun.clear();
    sim.client_tun.clear();
    let (mut up_refused, mut down_refused) = (0, 0);
    // 1000-byte packets each way, one per millisecond (1 MB/s offered) for 2 s.
    for n in 0..2000u32 {
        let p = from_client(&sim, n, 1000);
        sim.client_send(&p).unwrap();
        match sim.server_send(peer, &ip_packet([10, 8, 0, 1], [10, 8, 0, 2], n, 1000)) {
            Ok(()) => {}
            Err(EncapError::RateLimited) => down_refused += 1,
            Err(e) => panic!("{e}"),
        }
        sim.advance(Duration::from_millis(1));
    }
    sim.advance(Duration::from_millis(50));
    up_refused += sim
        .drops
        .iter()
        .filter(|(side, e)| *side == "server" && *e == DropReason::RateLimited)
        .count();
    let up = sim.server_tun.len();
    let down = sim.client_tun.len();
    // 2 s at the rate plus the bucket's depth (100 ms at the rate), within a few packets.
    assert!((205..=215).contains(&up), "up {up}");
    assert!((100..=110).contains(&down), "down {down}");
    assert_eq!(up + up_refused, 2000);
    assert_eq!(down + down_refused, 2000);
    assert_eq!(server_end(&sim), None, "policing does not end the session");
}

#[test]
fn limit_bytes_in_and_out_end_the_session() {
    let seed = seed_from_env(35);
    let mut sim = connected_sim(seed, server_with(seed, "", "limit-bytes-in=20000"));
    let own = sim.client.tun().unwrap().address.unwrap().octets();
    for n in 0..40 {
        // The client may have been told to go by now: its tunnel is gone, packets are dropped.
        let _ = sim.client_send(&ip_packet(own, [10, 8, 0, 1], n, 1000));
        sim.advance(Duration::from_millis(5));
    }
    assert!(sim.run_until(Duration::from_secs(1), |s| server_end(s).is_some()));
    assert_eq!(
        server_end(&sim),
        Some(DisconnectReason::LimitReached("limit-bytes-in"))
    );
    assert_eq!(
        sim.server_tun.len(),
        20,
        "only what fits the limit was delivered"
    );

    let seed = seed + 100;
    let mut sim = connected_sim(seed, server_with(seed, "", "limit-bytes-out=10000"));
    let peer = sim.server.sessions(sim.now)[0].peer;
    let sent: Vec<_> = (0..15)
        .map(|n| sim.server_send(peer, &ip_packet([10, 8, 0, 1], [10, 8, 0, 2], n, 1000)))
        .collect();
    assert_eq!(sent.iter().filter(|r| r.is_ok()).count(), 10);
    assert_eq!(sent[10], Err(EncapError::LimitReached));
    assert!(sim.run_until(Duration::from_secs(1), |s| server_end(s).is_some()));
    assert_eq!(
        server_end(&sim),
        Some(DisconnectReason::LimitReached("limit-bytes-out"))
    );
}

#[test]
fn only_one_refuses_a_second_login_of_the_same_user() {
    let seed = seed_from_env(36);
    let mut sim = connected_sim(seed, server_with(seed, "only-one=yes", ""));
    // The same user from a second client, while the first is logged in.
    let first = sim.server.sessions(sim.now)[0].peer;
    new_client_elsewhere(&mut sim, seed + 1);
    let failed = |s: &Sim| matches!(s.client.state(), ClientState::Error(_));
    assert!(sim.run_until(LIMIT, failed), "{}", sim.dump());
    let ClientState::Error(reason) = sim.client.state().clone() else {
        unreachable!()
    };
    assert!(reason.to_string().contains("only-one"), "{reason}");
    let live: Vec<_> = sim
        .server
        .sessions(sim.now)
        .into_iter()
        .filter(|s| s.connected)
        .map(|s| s.peer)
        .collect();
    assert_eq!(live, [first], "the first session is untouched");
}

#[test]
fn use_encryption_required_refuses_the_null_cipher() {
    let seed = seed_from_env(37);
    let null = |mut s: ServerConfig| {
        s.ciphers = vec![ovpn_crypto::Cipher::None];
        s
    };
    let mut c = client_config(seed);
    c.cipher = ovpn_crypto::Cipher::None;
    let s = null(server_with(seed, "use-encryption=required", ""));
    let mut sim = sim(seed, s, c.clone(), LinkConfig::default());
    let failed = |s: &Sim| matches!(s.client.state(), ClientState::Error(_));
    assert!(sim.run_until(LIMIT, failed), "{}", sim.dump());
    let reason = server_end(&sim).unwrap();
    assert!(
        matches!(&reason, DisconnectReason::NoEncryption(r) if r.contains("use-encryption=required")),
        "{reason}"
    );
    // Without the requirement the same client logs in (the null cipher is allowed).
    let s = null(server_with(seed, "use-encryption=yes", ""));
    let mut sim2 = common::sim(seed, s, c, LinkConfig::default());
    assert!(sim2.run_until(LIMIT, connected), "{}", sim2.dump());
}

/// An IPv4 TCP SYN from `src` to `dst` carrying MSS `mss`, with a valid checksum.
fn tcp_syn(src: [u8; 4], dst: [u8; 4], mss: u16) -> Vec<u8> {
    let mut p = vec![0u8; 44];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&44u16.to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[32] = 6 << 4; // 24-byte TCP header
    p[33] = 0x02; // SYN
    p[40..44].copy_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]);
    let c = tcp_checksum(&p);
    p[36..38].copy_from_slice(&c.to_be_bytes());
    p
}

fn tcp_checksum(p: &[u8]) -> u16 {
    let mut s: u32 = 6 + (p.len() as u32 - 20);
    let add = |s: &mut u32, b: &[u8]| {
        for c in b.chunks(2) {
            *s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    add(&mut s, &p[12..20]);
    let mut t = p[20..].to_vec();
    t[16] = 0;
    t[17] = 0;
    add(&mut s, &t);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[test]
fn change_tcp_mss_clamps_syns_both_ways_to_the_tunnel_mtu() {
    let seed = seed_from_env(38);
    let mut s = server_with(seed, "change-tcp-mss=yes", "");
    s.max_mtu = 1400;
    let mut c = client_config(seed);
    c.max_mtu = 1400;
    let mut sim = sim(seed, s, c, LinkConfig::default());
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let own = sim.client.tun().unwrap().address.unwrap().octets();
    let peer = sim.server.sessions(sim.now)[0].peer;
    sim.client_send(&tcp_syn(own, [192, 0, 2, 80], 1460))
        .unwrap();
    sim.server_send(peer, &tcp_syn([192, 0, 2, 80], own, 1460))
        .unwrap();
    sim.advance(Duration::from_millis(50));
    let up = &sim.server_tun[0].1;
    let down = &sim.client_tun[0];
    for p in [up, down] {
        assert_eq!(u16::from_be_bytes([p[42], p[43]]), 1360, "1400 - 40");
        assert_eq!(u16::from_be_bytes([p[36], p[37]]), tcp_checksum(p));
    }
    // With change-tcp-mss=no the SYN passes as sent.
    let seed = seed + 1;
    let mut s = server_with(seed, "change-tcp-mss=no", "");
    s.max_mtu = 1400;
    let mut sim2 = common::sim(seed, s, client_config(seed), LinkConfig::default());
    assert!(sim2.run_until(LIMIT, connected));
    let own = sim2.client.tun().unwrap().address.unwrap().octets();
    sim2.client_send(&tcp_syn(own, [192, 0, 2, 80], 1460))
        .unwrap();
    sim2.advance(Duration::from_millis(50));
    let up = &sim2.server_tun[0].1;
    assert_eq!(u16::from_be_bytes([up[42], up[43]]), 1460);
}

fn cert_only_client(seed: u64, cert: &str) -> ovpn_session::ClientConfig {
    let mut c = client_config(seed);
    c.user = String::new();
    c.password = zeroize::Zeroizing::new(String::new());
    c.identity = Some(identity(cert));
    c
}

#[test]
fn require_user_password_no_logs_a_certificate_in_as_its_common_name() {
    let seed = seed_from_env(40);
    let mut s = server_config(seed);
    s.require_user_password = false;
    let mut sim = sim(
        seed,
        s,
        cert_only_client(seed, "client1"),
        LinkConfig::default(),
    );
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let session = sim.server.sessions(sim.now).remove(0);
    assert_eq!(session.user.as_deref(), Some("client1"), "the common name");
    assert_eq!(
        session.profile.as_deref(),
        Some("ovpn-profile"),
        "its secret's"
    );
    assert_eq!(session.common_name.as_deref(), Some("client1"));
    // Renegotiation keeps it up (it brings no password then either).
    sim.client.renegotiate(sim.now);
    sim.advance(Duration::from_secs(5));
    assert_eq!(server_end(&sim), None, "{}", sim.dump());
}

#[test]
fn a_certificate_without_a_secret_gets_the_default_profile() {
    let seed = seed_from_env(41);
    let mut ppp = ovpn_ppp::PppConfig::new();
    ppp.add_profile_text("name=by-cert local-address=10.8.0.1 remote-address=ovpn-pool")
        .unwrap();
    let mut s = server_config(seed);
    s.require_user_password = false;
    s.default_profile = "by-cert".into();
    let epoch = start();
    let server = ovpn_session::Server::new(
        s,
        ovpn_session::Shared::new(ppp, pools()),
        epoch,
        unix_epoch(),
    )
    .unwrap();
    let client =
        ovpn_session::Client::new(cert_only_client(seed, "client2"), epoch, unix_epoch()).unwrap();
    let mut sim = Sim::new(seed, epoch, client, server, LinkConfig::default());
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let session = sim.server.sessions(sim.now).remove(0);
    assert_eq!(session.user.as_deref(), Some("client2"));
    assert_eq!(session.profile.as_deref(), Some("by-cert"));
}

#[test]
fn without_a_password_the_default_still_refuses() {
    let seed = seed_from_env(42);
    let mut sim = sim(
        seed,
        server_config(seed),
        cert_only_client(seed, "client1"),
        LinkConfig::default(),
    );
    assert!(
        sim.run_until(LIMIT, |s| server_end(s).is_some()),
        "{}",
        sim.dump()
    );
    assert_eq!(
        server_end(&sim),
        Some(DisconnectReason::Auth(ovpn_ppp::AuthError::LoginIncorrect))
    );
}
