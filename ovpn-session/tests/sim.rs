//! Our client against our server on the simulated network: handshake, push, data both ways,
//! keepalive, renegotiation, reconnection, loss/duplication/reordering, TCP stream cuts, refusals.
//! Every failure prints the seed (`OVPN_SIM_SEED=N` replays it) and the trace.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use ovpn_session::sim::{Crowd, LinkConfig, Sim, seed_from_env};
use ovpn_session::{
    ClientEvent, ClientState, DisconnectReason, DropReason, EncapError, ServerEvent, SessionError,
};

const LIMIT: Duration = Duration::from_secs(120);

fn connect(sim: &mut Sim) {
    assert!(
        sim.run_until(LIMIT, connected),
        "did not connect\n{}",
        sim.dump()
    );
}

/// The RouterOS page's setup on a perfect link, connected.
fn default_sim(seed: u64) -> Sim {
    let mut sim = sim(
        seed,
        server_config(seed),
        client_config(seed),
        LinkConfig::default(),
    );
    connect(&mut sim);
    sim
}

/// Runs until the client gives up its attempt, and says why.
fn client_error(sim: &mut Sim) -> DisconnectReason {
    assert!(
        sim.run_until(LIMIT, |s| matches!(s.client.state(), ClientState::Error(_))),
        "the client did not fail\n{}",
        sim.dump()
    );
    match sim.client.state() {
        ClientState::Error(reason) => reason.clone(),
        other => panic!("{other:?}"),
    }
}

/// Sends `n` numbered packets each way and checks that each arrives exactly once (lossy links
/// may drop some: the data channel is unreliable, but never duplicates).
fn exchange(sim: &mut Sim, n: u32, expect_all: bool) {
    let peer = sim.server.sessions(sim.now)[0].peer;
    let addr = sim.client.tun().unwrap().address.unwrap().octets();
    sim.client_tun.clear();
    sim.server_tun.clear();
    for i in 0..n {
        sim.client_send(&ip_packet(addr, [10, 8, 0, 1], i, 100 + i as usize % 1300))
            .unwrap();
        sim.server_send(
            peer,
            &ip_packet([10, 8, 0, 1], addr, i, 60 + i as usize % 1400),
        )
        .unwrap();
        sim.advance(Duration::from_millis(5));
    }
    sim.advance(Duration::from_secs(2));
    for (side, got) in [
        (
            "server",
            sim.server_tun
                .iter()
                .map(|(_, p)| packet_number(p))
                .collect::<Vec<_>>(),
        ),
        (
            "client",
            sim.client_tun.iter().map(|p| packet_number(p)).collect(),
        ),
    ] {
        let unique: BTreeSet<u32> = got.iter().copied().collect();
        assert_eq!(
            unique.len(),
            got.len(),
            "{side} got a packet twice\n{}",
            sim.dump()
        );
        assert!(unique.iter().all(|&i| i < n));
        if expect_all {
            assert_eq!(got.len() as u32, n, "{side} lost packets\n{}", sim.dump());
        } else {
            assert!(!got.is_empty(), "{side} got nothing\n{}", sim.dump());
        }
    }
}

#[test]
fn handshake_push_and_data_both_ways() {
    let seed = seed_from_env(1);
    let mut sim = default_sim(seed);
    let tun = sim.client.tun().unwrap().clone();
    assert_eq!(
        tun.address.unwrap().octets(),
        [10, 8, 0, 2],
        "first address of the pool"
    );
    assert_eq!(tun.prefix_len, 24);
    assert_eq!(
        tun.peer.map(|p| p.octets()),
        Some([10, 8, 0, 1]),
        "local-address"
    );
    assert_eq!(tun.dns.len(), 1, "the profile's dns-server");
    let s = &sim.server.sessions(sim.now)[0];
    assert_eq!(s.name.as_deref(), Some("ovpn-incoming1"));
    assert_eq!(s.user.as_deref(), Some("client1"));
    assert_eq!(
        s.encoding.map(|e| e.to_string()).as_deref(),
        Some("AES-256-GCM")
    );
    assert_eq!(
        s.common_name.as_deref(),
        Some("client1"),
        "the verified certificate"
    );
    assert_eq!(s.local_address.map(|a| a.octets()), Some([10, 8, 0, 1]));
    assert_eq!(s.profile.as_deref(), Some("ovpn-profile"));
    assert_eq!(s.mtu, 1500);
    assert!(s.session_id.is_some());
    assert!(sim.server_events.iter().any(|e| matches!(e,
        ServerEvent::Connected { session, .. }
            if session.name.as_deref() == Some("ovpn-incoming1")
                && session.user.as_deref() == Some("client1")
                && session.address.map(|a| a.octets()) == Some([10, 8, 0, 2]))));
    exchange(&mut sim, 200, true);
}

#[test]
fn every_cipher_suite_carries_data() {
    for (i, (cipher, auth, negotiate)) in [
        ("aes256-gcm", "sha1", true),
        ("aes128-gcm", "sha1", true),
        ("aes256-cbc", "sha256", true),
        ("aes128-cbc", "sha1", false),
        ("blowfish128", "sha1", false),
        ("aes256-cbc", "sha512", false),
        ("aes128-cbc", "md5", false),
        ("CHACHA20-POLY1305", "sha1", true),
    ]
    .into_iter()
    .enumerate()
    {
        let seed = seed_from_env(100 + i as u64);
        let mut s = server_config(seed);
        s.ciphers = [
            "aes256-gcm",
            "aes128-gcm",
            "aes256-cbc",
            "aes128-cbc",
            "blowfish128",
            "CHACHA20-POLY1305",
        ]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
        s.auths = ["md5", "sha1", "sha256", "sha512"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let mut c = client_config(seed);
        c.cipher = cipher.parse().unwrap();
        c.auth = auth.parse().unwrap();
        c.negotiate = negotiate;
        // This suite alone, so that each one is the one used.
        c.data_ciphers = Some(vec![c.cipher]);
        let mut sim = sim(seed, s, c, LinkConfig::default());
        connect(&mut sim);
        let enc = sim.server.sessions(sim.now)[0].encoding.unwrap();
        assert_eq!(
            enc.cipher,
            cipher.parse::<ovpn_crypto::Cipher>().unwrap(),
            "{cipher}: {enc}"
        );
        exchange(&mut sim, 20, true);
    }
}

#[test]
fn lossy_links_still_connect_and_never_duplicate_data() {
    for seed in 0..8 {
        let seed = seed_from_env(1000 + seed);
        let mut sim = sim(
            seed,
            server_config(seed),
            client_config(seed),
            LinkConfig::lossy(0.2),
        );
        connect(&mut sim);
        exchange(&mut sim, 100, false);
        let stats = sim.c2s.stats();
        assert!(
            stats.lost > 0 && stats.duplicated > 0 && stats.reordered > 0,
            "{stats:?}"
        );
    }
}

/// Every way of cutting both TCP streams into reads gives the same tunnel: `handle_stream`
/// finds the packets, in place, whatever the pieces, and drops none.
#[test]
fn tcp_stream_cut_anywhere() {
    for seed in 0..4 {
        let seed = seed_from_env(2000 + seed);
        let (c, s) = tcp(client_config(seed), server_config(seed));
        let mut sim = sim(seed, s, c, LinkConfig::default());
        connect(&mut sim);
        exchange(&mut sim, 50, true);
        assert!(sim.drops.is_empty(), "{:?}\n{}", sim.drops, sim.dump());
    }
}

#[test]
fn renegotiation_keeps_traffic_flowing() {
    let seed = seed_from_env(3);
    let mut s = server_config(seed);
    s.reneg = Some(Duration::from_secs(30));
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    connect(&mut sim);
    for round in 0..3 {
        sim.advance(Duration::from_secs(31));
        exchange(&mut sim, 20, true);
        let rotations = sim
            .client_events
            .iter()
            .filter(|e| matches!(e, ClientEvent::KeysRotated))
            .count();
        assert!(
            rotations > round,
            "no key rotation by round {round}\n{}",
            sim.dump()
        );
    }
    // Traffic right across a client-initiated renegotiation.
    sim.client.renegotiate(sim.now);
    exchange(&mut sim, 50, true);
    assert!(connected(&sim));
}

#[test]
fn keepalive_timeout_drops_the_session_and_frees_the_address() {
    let seed = seed_from_env(4);
    let mut s = server_config(seed);
    s.keepalive_timeout = Some(Duration::from_secs(30));
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    connect(&mut sim);
    // Idle but alive: pings keep it up.
    sim.advance(Duration::from_secs(100));
    assert!(
        connected(&sim),
        "pings keep an idle tunnel up\n{}",
        sim.dump()
    );
    // The client vanishes (cable cut): the server drops it within keepalive-timeout.
    let cut = sim.now;
    sim.c2s.set_config(LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    });
    assert!(
        sim.run_until(Duration::from_secs(31), |s| s
            .server
            .sessions(s.now)
            .is_empty()),
        "session still there\n{}",
        sim.dump()
    );
    assert!(
        sim.now - cut <= Duration::from_secs(31),
        "{:?}\n{}",
        sim.now - cut,
        sim.dump()
    );
    assert!(sim.server_events.iter().any(|e| matches!(
        e,
        ServerEvent::Disconnected {
            reason: DisconnectReason::PingRestart,
            ..
        }
    )));
    assert_eq!(
        sim.server.shared().view(|_, p| p.used().count()),
        0,
        "address released"
    );
}

#[test]
fn client_reconnects_after_server_restart() {
    let seed = seed_from_env(5);
    let mut sim = default_sim(seed);
    // The server restarts: a new endpoint that knows nothing of the old session.
    sim.server =
        ovpn_session::Server::new(server_config(seed + 1), shared(), sim.now, unix_epoch())
            .unwrap();
    sim.c2s.clear();
    sim.s2c.clear();
    assert!(
        sim.run_until(Duration::from_secs(300), |s| {
            connected(s)
                && s.client_events
                    .iter()
                    .filter(|e| matches!(e, ClientEvent::Connected { .. }))
                    .count()
                    == 2
        }),
        "no reconnection\n{}",
        sim.dump()
    );
    exchange(&mut sim, 20, true);
}

#[test]
fn wrong_password_is_login_incorrect_on_both_sides() {
    let seed = seed_from_env(6);
    let mut c = client_config(seed);
    c.password = "nope".to_string().into();
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    let reason = client_error(&mut sim);
    assert!(reason.to_string().contains("login incorrect"), "{reason}");
    // The server's event carries the PPP error itself, not its text.
    assert!(sim.server_events.iter().any(|e| matches!(
        e,
        ServerEvent::Disconnected {
            reason: DisconnectReason::Auth(ovpn_ppp::AuthError::LoginIncorrect),
            ..
        }
    )));
    assert_eq!(sim.server.shared().view(|_, p| p.used().count()), 0);
}

/// A pool with nothing left refuses the login with the pool's own error, which the event carries.
#[test]
fn an_exhausted_pool_refuses_with_the_pool_error() {
    let seed = seed_from_env(9);
    let mut pools = pools();
    while pools.acquire("ovpn-pool", "someone-else").is_ok() {}
    let epoch = start();
    let server = ovpn_session::Server::new(
        server_config(seed),
        ovpn_session::Shared::new(ppp(), pools),
        epoch,
        unix_epoch(),
    )
    .unwrap();
    let client = ovpn_session::Client::new(client_config(seed), epoch, unix_epoch()).unwrap();
    let mut sim = Sim::new(seed, epoch, client, server, LinkConfig::default());
    let reason = client_error(&mut sim);
    assert!(
        reason.to_string().contains("no address available"),
        "{reason}"
    );
    assert!(sim.server_events.iter().any(|e| matches!(e,
        ServerEvent::Disconnected { reason: DisconnectReason::Address(ovpn_pool::PoolError::Exhausted { tried }), .. }
            if tried == &["ovpn-pool"])), "{:?}", sim.server_events);
}

#[test]
fn other_service_is_unknown_service() {
    let seed = seed_from_env(7);
    let mut c = client_config(seed);
    c.user = "pptp-user".into();
    c.password = "pw3".to_string().into();
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    assert!(sim.run_until(LIMIT, |s| matches!(s.client.state(), ClientState::Error(_))));
    assert!(
        sim.client.state()
            == &ClientState::Error(DisconnectReason::AuthFailed("unknown service".into())),
        "{:?}",
        sim.client.state()
    );
}

#[test]
fn cipher_mismatch_is_no_encryption_naming_both_sides() {
    let seed = seed_from_env(8);
    let mut s = server_config(seed);
    s.ciphers = vec!["aes256-cbc".parse().unwrap()];
    let mut c = client_config(seed);
    c.cipher = "aes128-gcm".parse().unwrap();
    c.data_ciphers = Some(vec![c.cipher]);
    let mut sim = sim(seed, s, c, LinkConfig::default());
    let reason = client_error(&mut sim);
    let text = reason.to_string();
    assert!(text.contains("no encryption"), "{text}");
    assert!(
        text.contains("AES-256-CBC") && text.contains("AES-128-GCM"),
        "{text}"
    );
}

#[test]
fn certificate_refusals_have_their_own_words() {
    for (name, want) in [
        ("foreign-client1", "could not verify peer certificate"),
        ("expired-client1", "expired"),
        ("revoked-client1", "revoked"),
    ] {
        let seed = seed_from_env(9);
        let mut c = client_config(seed);
        c.identity = Some(identity(name));
        let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
        assert!(
            sim.run_until(LIMIT, |s| s
                .server_events
                .iter()
                .any(|e| matches!(e, ServerEvent::Disconnected { .. }))),
            "{name}\n{}",
            sim.dump()
        );
        let reason = sim
            .server_events
            .iter()
            .find_map(|e| match e {
                ServerEvent::Disconnected { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .unwrap();
        // The rustls error itself, shown in RouterOS's words.
        assert!(
            matches!(
                reason,
                DisconnectReason::Tls(rustls::Error::InvalidCertificate(_))
            ),
            "{name}: {reason:?}"
        );
        let reason = reason.to_string();
        assert!(reason.contains(want), "{name}: {reason}");
        assert!(!connected(&sim));
    }
}

#[test]
fn without_client_certificates_password_alone_logs_in() {
    let seed = seed_from_env(10);
    let mut s = server_config(seed);
    s.client_check = None; // require-client-certificate=no
    let mut c = client_config(seed);
    c.identity = None;
    let mut sim = sim(seed, s, c, LinkConfig::default());
    connect(&mut sim);
    exchange(&mut sim, 10, true);
}

#[test]
fn two_clients_get_their_own_names_and_addresses() {
    let seed = seed_from_env(11);
    let mut sim = default_sim(seed);
    // A second client from another address: drive it by hand against the same server.
    let mut c2 = client_config(seed + 7);
    c2.user = "client2".into();
    c2.password = "pw2".to_string().into();
    c2.identity = Some(identity("client2"));
    let mut client2 = ovpn_session::Client::new(c2, sim.now, unix_epoch()).unwrap();
    let from2: std::net::SocketAddr = "192.0.2.3:40001".parse().unwrap();
    let mut buf = Vec::new();
    for _ in 0..200 {
        let now = sim.now;
        while let Some(t) = client2.poll_transmit(now, &mut buf) {
            let mut d = buf[..t.len].to_vec();
            let _ = sim.server.handle_datagram(now, from2, &mut d);
        }
        while let Some(t) = sim.server.poll_transmit(now, &mut buf) {
            let mut d = buf[..t.len].to_vec();
            if t.destination == from2 {
                let _ = client2.handle_datagram(now, &mut d);
            }
        }
        while client2.poll_event().is_some() {}
        client2.handle_timeout(now);
        sim.server.handle_timeout(now);
        if client2.state() == &ClientState::Connected {
            break;
        }
        sim.now += Duration::from_millis(10);
    }
    assert_eq!(client2.state(), &ClientState::Connected);
    let mut names: Vec<_> = sim
        .server
        .sessions(sim.now)
        .into_iter()
        .map(|s| (s.name, s.address))
        .collect();
    names.sort();
    assert_eq!(names[0].0.as_deref(), Some("ovpn-incoming1"));
    assert_eq!(names[1].0.as_deref(), Some("ovpn-incoming2"));
    assert_ne!(names[0].1, names[1].1);
}

#[test]
fn a_forged_reset_from_the_clients_address_does_not_end_its_session() {
    let seed = seed_from_env(12);
    let mut sim = default_sim(seed);
    // Someone spoofing the client's address sends a fresh hard reset (new session id).
    let mut forged = vec![0x38, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0];
    let from = sim.client_addr;
    let now = sim.now;
    assert!(sim.server.handle_datagram(now, from, &mut forged).is_ok());
    // The forger never completes a handshake; the real session carries on, and outlives the
    // forged attempt's handshake window.
    exchange(&mut sim, 20, true);
    sim.advance(Duration::from_secs(70));
    exchange(&mut sim, 20, true);
    let sessions = sim.server.sessions(sim.now);
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert!(sessions[0].connected);
    // A real restart from the same address does replace it (once it has logged in).
    let restarted =
        ovpn_session::Client::new(client_config(seed + 99), sim.now, unix_epoch()).unwrap();
    sim.client = restarted;
    assert!(
        sim.run_until(LIMIT, |s| connected(s)
            && s.server_events.iter().any(|e| matches!(e,
                ServerEvent::Disconnected { reason: DisconnectReason::ClosedByPeer(Some(r)), .. } if r.contains("replaced")))),
        "{}",
        sim.dump()
    );
    assert_eq!(sim.server.sessions(sim.now).len(), 1);
    exchange(&mut sim, 20, true);
}

#[test]
fn deferred_authentication_waits_for_the_verdict() {
    let seed = seed_from_env(13);
    let mut s = server_config(seed);
    s.auth = ovpn_session::AuthMode::Deferred;
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    let asked = |s: &Sim| {
        s.server_events.iter().find_map(|e| match e {
            ServerEvent::AuthRequested { peer, request } => Some((*peer, request.clone())),
            _ => None,
        })
    };
    assert!(
        sim.run_until(LIMIT, |s| asked(s).is_some()),
        "{}",
        sim.dump()
    );
    let (peer, request) = asked(&sim).unwrap();
    assert_eq!(request.user, "client1");
    // Nothing happens while the application thinks (an external check taking 3 s).
    sim.advance(Duration::from_secs(3));
    assert!(!connected(&sim));
    // The application asks the PPP secrets itself, as a RADIUS client would ask its server.
    let verdict = ovpn_ppp::Authenticator::authenticate(&ppp(), &request);
    let now = sim.now;
    sim.server.auth_verdict(now, peer, verdict).unwrap();
    connect(&mut sim);
    exchange(&mut sim, 10, true);
    let t = sim.server.sessions(sim.now)[0].traffic;
    assert_eq!(t.packets_in, 10, "{t:?}");
    assert_eq!(t.packets_out, 10, "{t:?}");
    assert!(t.bytes_in > 1000 && t.bytes_out > 600, "{t:?}");
}

#[test]
fn a_late_verdict_never_reaches_the_session_now_in_its_slot() {
    let seed = seed_from_env(23);
    let mut s = server_config(seed);
    s.auth = ovpn_session::AuthMode::Deferred;
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    assert!(
        sim.run_until(LIMIT, |s| nth_auth_request(s, 0).is_some()),
        "{}",
        sim.dump()
    );
    let (first, request) = nth_auth_request(&sim, 0).unwrap();
    // The first client goes away while its check runs, and another takes its slot.
    let now = sim.now;
    sim.server
        .disconnect(now, first, DisconnectReason::LocallyClosed)
        .unwrap();
    new_client_elsewhere(&mut sim, seed + 1);
    assert!(
        sim.run_until(LIMIT, |s| nth_auth_request(s, 1).is_some()),
        "{}",
        sim.dump()
    );
    let (second, request2) = nth_auth_request(&sim, 1).unwrap();
    // It never logged in, so it had no name.
    assert!(sim.server_events.iter().any(|e| matches!(e,
        ServerEvent::Disconnected { peer, session, .. } if *peer == first && session.name.is_none())));
    assert_eq!(second.peer_id(), first.peer_id(), "the slot is reused");
    assert_ne!(second, first);
    // The first check's late verdict, and any command for the first session, change nothing.
    let now = sim.now;
    let verdict = ovpn_ppp::Authenticator::authenticate(&ppp(), &request);
    assert_eq!(
        sim.server.auth_verdict(now, first, verdict),
        Err(SessionError::Gone)
    );
    assert_eq!(
        sim.server
            .disconnect(now, first, DisconnectReason::LocallyClosed),
        Err(SessionError::Gone)
    );
    assert_eq!(
        sim.server_send(first, &ip_packet([10, 8, 0, 1], [10, 8, 0, 2], 1, 60)),
        Err(EncapError::UnknownPeer)
    );
    sim.advance(Duration::from_secs(2));
    assert!(
        !connected(&sim),
        "the second session still waits for its own verdict"
    );
    let verdict = ovpn_ppp::Authenticator::authenticate(&ppp(), &request2);
    let now = sim.now;
    sim.server
        .auth_verdict(now, second, verdict.clone())
        .unwrap();
    assert_eq!(
        sim.server.auth_verdict(now, second, verdict),
        Err(SessionError::NotAuthenticating)
    );
    connect(&mut sim);
    let s = &sim.server.sessions(sim.now)[0];
    assert_eq!(
        (s.peer, s.name.as_deref()),
        (second, Some("ovpn-incoming1"))
    );
}

#[test]
fn a_refused_client_takes_no_interface_number() {
    let seed = seed_from_env(24);
    let mut c = client_config(seed);
    c.password = "wrong".to_string().into();
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    let reason = client_error(&mut sim);
    assert!(reason.to_string().contains("login incorrect"), "{reason}");
    // Right away, while the refused session still lingers to deliver AUTH_FAILED, the next
    // client logs in as ovpn-incoming1.
    new_client_elsewhere(&mut sim, seed + 1);
    connect(&mut sim);
    let names: Vec<_> = sim
        .server
        .sessions(sim.now)
        .into_iter()
        .filter(|s| s.connected)
        .map(|s| s.name)
        .collect();
    assert_eq!(names, [Some("ovpn-incoming1".to_owned())]);
}

#[test]
fn the_server_checks_inner_sources_and_routes_by_longest_prefix() {
    let seed = seed_from_env(25);
    let mut ppp = ovpn_ppp::PppConfig::new();
    ppp.add_profile_text("name=ovpn-profile local-address=10.8.0.1 remote-address=ovpn-pool")
        .unwrap();
    ppp.add_secret_text(
        "name=client1 password=StrongPassword1 profile=ovpn-profile service=ovpn routes=192.168.77.0/24",
    )
    .unwrap();
    let mut s = server_config(seed);
    s.auth = ovpn_session::AuthMode::Inline(std::sync::Arc::new(ppp));
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    connect(&mut sim);
    let session = sim.server.sessions(sim.now)[0].clone();
    assert_eq!(session.routes.len(), 1);
    let own = sim.client.tun().unwrap().address.unwrap().octets();
    // From its address and from inside its routes: delivered. From anywhere else: dropped.
    for (i, src) in [own, [192, 168, 77, 5], [10, 8, 0, 99], [192, 168, 78, 5]]
        .into_iter()
        .enumerate()
    {
        sim.client_send(&ip_packet(src, [10, 8, 0, 1], i as u32, 80))
            .unwrap();
    }
    sim.advance(Duration::from_millis(100));
    let got: Vec<u32> = sim
        .server_tun
        .iter()
        .map(|(_, p)| packet_number(p))
        .collect();
    assert_eq!(got, [0, 1], "{}", sim.dump());
    let spoofed = sim
        .drops
        .iter()
        .filter(|(side, e)| *side == "server" && *e == ovpn_session::DropReason::SourceNotAllowed)
        .count();
    assert_eq!(spoofed, 2);
    // Routing towards the clients: the longest prefix among addresses and routes.
    let route = |s: &Sim, a: [u8; 4]| s.server.route(std::net::Ipv4Addr::from(a).into());
    assert_eq!(route(&sim, own), Some(session.peer));
    assert_eq!(route(&sim, [192, 168, 77, 200]), Some(session.peer));
    assert_eq!(route(&sim, [192, 168, 78, 1]), None);
    assert_eq!(route(&sim, [10, 8, 0, 3]), None);
    assert_eq!(
        sim.server
            .route_packet(&ip_packet([10, 8, 0, 1], [192, 168, 77, 9], 0, 40)),
        Some(session.peer)
    );
    assert_eq!(sim.server.route_packet(&[0x60; 40]), None, "not IPv4");
    // Once it leaves, nothing routes to it.
    let now = sim.now;
    sim.server
        .disconnect(now, session.peer, DisconnectReason::LocallyClosed)
        .unwrap();
    assert_eq!(route(&sim, own), None);
    assert_eq!(route(&sim, [192, 168, 77, 200]), None);
}

#[test]
fn durations_too_large_for_an_instant_never_panic() {
    // keepalive-timeout=18446744073709551615 and reneg-sec likewise, on both sides.
    let seed = seed_from_env(26);
    let mut s = server_config(seed);
    s.keepalive_timeout = Some(Duration::MAX);
    s.reneg = Some(Duration::MAX);
    let mut c = client_config(seed);
    c.keepalive_timeout = Some(Duration::MAX);
    c.reneg = Some(Duration::MAX);
    c.reconnect_delay = Duration::MAX;
    let mut sim = sim(seed, s, c, LinkConfig::default());
    connect(&mut sim);
    exchange(&mut sim, 10, true);
    sim.advance(Duration::from_secs(600));
    assert!(connected(&sim), "{}", sim.dump());
    // A failure with a reconnect delay past any Instant: the client just does not retry.
    let now = sim.now;
    let peer = sim.server.sessions(now)[0].peer;
    sim.server
        .disconnect(now, peer, DisconnectReason::LocallyClosed)
        .unwrap();
    sim.advance(Duration::from_secs(5));
    assert!(!connected(&sim));
}

#[test]
fn only_add_default_route_installs_a_default_route_and_route_nopull_drops_pushed_routes() {
    let seed = seed_from_env(27);
    let route = ovpn_session::Route::to("192.168.50.0/24".parse::<ipnet::IpNet>().unwrap());
    for (add_default, nopull) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut s = server_config(seed);
        s.redirect_gateway = true;
        s.push_routes = vec![route];
        let mut c = client_config(seed);
        c.add_default_route = add_default;
        c.route_nopull = nopull;
        let mut sim = sim(seed, s, c, LinkConfig::default());
        connect(&mut sim);
        let tun = sim.client.tun().unwrap();
        assert!(
            tun.pushed.redirect_gateway.is_some(),
            "the server pushed it"
        );
        assert_eq!(
            tun.default_route, add_default,
            "add-default-route={add_default}"
        );
        let has_route = tun.routes.contains(&route);
        assert_eq!(has_route, !nopull, "route-nopull={nopull}");
    }
}

#[test]
fn server_shutdown_tells_the_client_which_reconnects_later() {
    let seed = seed_from_env(14);
    let mut sim = default_sim(seed);
    let now = sim.now;
    sim.server.shutdown(now);
    assert!(
        sim.run_until(Duration::from_secs(5), |s| s.client_events.iter().any(
            |e| matches!(
                e,
                ClientEvent::Disconnected {
                    reason: DisconnectReason::ClosedByPeer(_),
                    will_retry_at: Some(_)
                }
            )
        )),
        "{}",
        sim.dump()
    );
    assert!(sim.server.sessions(sim.now).is_empty());
    // The server comes back (same endpoint object here): the client reconnects on its own.
    connect(&mut sim);
}

#[test]
fn tls_auth_and_tls_crypt_protect_the_control_channel() {
    use ovpn_crypto::{KeyDirection, StaticKey};
    use ovpn_session::ControlProtection;
    let key = StaticKey::generate(core::array::from_fn(|i| (i * 31 + 7) as u8));
    let other = StaticKey::generate(core::array::from_fn(|i| (i * 17 + 3) as u8));
    for (name, server, client, works) in [
        (
            "tls-auth",
            ControlProtection::TlsAuth {
                key: key.clone(),
                direction: KeyDirection::Normal,
                digest: "sha256".parse().unwrap(),
            },
            ControlProtection::TlsAuth {
                key: key.clone(),
                direction: KeyDirection::Inverse,
                digest: "sha256".parse().unwrap(),
            },
            true,
        ),
        (
            "tls-crypt",
            ControlProtection::TlsCrypt { key: key.clone() },
            ControlProtection::TlsCrypt { key: key.clone() },
            true,
        ),
        (
            "tls-crypt wrong key",
            ControlProtection::TlsCrypt { key: key.clone() },
            ControlProtection::TlsCrypt { key: other.clone() },
            false,
        ),
        (
            "tls-auth vs none",
            ControlProtection::TlsAuth {
                key: key.clone(),
                direction: KeyDirection::Normal,
                digest: "sha1".parse().unwrap(),
            },
            ControlProtection::None,
            false,
        ),
    ] {
        let seed = seed_from_env(15);
        let mut s = server_config(seed);
        s.protection = server;
        let mut c = client_config(seed);
        c.protection = client;
        let mut sim = sim(seed, s, c, LinkConfig::default());
        if works {
            connect(&mut sim);
            exchange(&mut sim, 10, true);
        } else {
            sim.advance(Duration::from_secs(30));
            assert!(!connected(&sim), "{name}");
            assert!(
                sim.server.sessions(sim.now).is_empty(),
                "{name}: no session for unauthenticated packets"
            );
            assert!(
                sim.drops.iter().any(|(side, e)| *side == "server"
                    && matches!(e, ovpn_session::DropReason::BadControlAuth)),
                "{name}"
            );
        }
    }
}

#[test]
fn a_tcp_clients_first_transmit_of_each_attempt_says_to_open_a_connection() {
    let seed = seed_from_env(16);
    let (c, _) = tcp(client_config(seed), server_config(seed));
    let now = start();
    let mut client = ovpn_session::Client::new(c, now, unix_epoch()).unwrap();
    let mut buf = Vec::new();
    // Nothing is held back behind the event: the reset comes first, marked.
    let t = client.poll_transmit(now, &mut buf).expect("the reset");
    assert!(
        t.connect,
        "the first packet of an attempt opens its connection"
    );
    assert_eq!(u16::from_be_bytes([buf[0], buf[1]]) as usize, buf.len() - 2);
    assert!(matches!(client.poll_event(), Some(ClientEvent::Connecting)));
    client.connection_closed(now);
    let Some(ClientEvent::Disconnected {
        will_retry_at: Some(at),
        ..
    }) = client.poll_event()
    else {
        panic!("no disconnect event");
    };
    client.handle_timeout(at);
    let t = client
        .poll_transmit(at, &mut buf)
        .expect("the new attempt's reset");
    assert!(t.connect);
    // Retransmissions of that reset go on the same connection.
    let later = client.poll_timeout().expect("a retransmission timer");
    client.handle_timeout(later);
    let t = client
        .poll_transmit(later, &mut buf)
        .expect("the reset is retransmitted");
    assert!(!t.connect, "a retransmission opens nothing");
}

/// A broken length prefix ends the stream: reported once as `BrokenStream`, and nothing after it
/// reaches the session.
#[test]
fn a_broken_tcp_stream_is_reported_once_and_reads_nothing_more() {
    let seed = seed_from_env(18);
    let (c, s) = tcp(client_config(seed), server_config(seed));
    let sim = sim(seed, s, c, LinkConfig::default());
    let mut server = sim.server;
    let now = sim.now;
    let from: std::net::SocketAddr = "198.51.100.7:5000".parse().unwrap();
    let mut bytes = [0x00, 0x00, 0x38, 1, 2, 3];
    let mut packets = server.handle_stream(now, from, &mut bytes);
    assert!(matches!(
        packets.next(),
        Some(Err(DropReason::BrokenStream(_)))
    ));
    assert!(packets.next().is_none());
    drop(packets);
    let mut more = [0x00, 0x02, 0x38, 0x00];
    let mut packets = server.handle_stream(now, from, &mut more);
    assert!(
        matches!(packets.next(), Some(Err(DropReason::BrokenStream(_)))),
        "the stream stays broken until the connection closes"
    );
    drop(packets);
    server.connection_closed(now, from);
    assert!(server.sessions(now).is_empty());
    // A new connection from that address starts with clean framing: half a prefix waits.
    let mut half = [0x00];
    let mut packets = server.handle_stream(now, from, &mut half);
    assert!(
        packets.next().is_none(),
        "the old connection's error is forgotten"
    );
}

/// `handle_stream` on a UDP server is a clear error, not a misparse.
#[test]
fn stream_input_on_udp_is_refused() {
    let seed = seed_from_env(19);
    let mut sim = default_sim(seed);
    let now = sim.now;
    let from = sim.client_addr;
    let mut bytes = [0x00, 0x02, 0x38, 0x00];
    let mut packets = sim.server.handle_stream(now, from, &mut bytes);
    assert!(matches!(
        packets.next(),
        Some(Err(DropReason::WrongTransport))
    ));
    assert!(packets.next().is_none());
}

#[test]
fn a_client_whose_address_changes_keeps_its_session() {
    let seed = seed_from_env(17);
    let mut sim = default_sim(seed);
    exchange(&mut sim, 5, true);
    // NAT rebinding: the client's packets now come from another address and port.
    let old = sim.client_addr;
    sim.client_addr = "198.51.100.9:61000".parse().unwrap();
    exchange(&mut sim, 20, true);
    assert!(sim.server_events.iter().any(|e| matches!(e,
        ServerEvent::Roamed { from, to, .. } if *from == old && *to == sim.client_addr)));
    let s = &sim.server.sessions(sim.now)[0];
    assert_eq!(s.remote, sim.client_addr);
    assert_eq!(s.name.as_deref(), Some("ovpn-incoming1"));
    // A data packet with the client's peer-id from elsewhere that does not decrypt moves nothing.
    let mut forged = vec![
        0x48, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
    ];
    let spoofer: std::net::SocketAddr = "203.0.113.5:1".parse().unwrap();
    let now = sim.now;
    assert!(
        sim.server
            .handle_datagram(now, spoofer, &mut forged)
            .is_err()
    );
    assert_eq!(sim.server.sessions(sim.now)[0].remote, sim.client_addr);
}

#[test]
fn a_closing_client_tells_the_server_with_exit_or_occ_exit() {
    for negotiate in [true, false] {
        let seed = seed_from_env(18);
        let mut c = client_config(seed);
        c.negotiate = negotiate; // without negotiation there is no cc-exit: OCC EXIT instead
        c.cipher = "aes256-cbc".parse().unwrap();
        let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
        connect(&mut sim);
        let now = sim.now;
        sim.client.close(now);
        assert!(
            sim.run_until(Duration::from_secs(2), |s| s
                .server
                .sessions(s.now)
                .is_empty()),
            "negotiate={negotiate}: the server did not hear the client leave\n{}",
            sim.dump()
        );
        assert!(sim.server_events.iter().any(|e| matches!(
            e,
            ServerEvent::Disconnected {
                reason: DisconnectReason::ClosedByPeer(_),
                ..
            }
        )));
        assert_eq!(sim.server.shared().view(|_, p| p.used().count()), 0);
    }
}

#[test]
fn packet_id_exhaustion_renegotiates_before_any_id_is_reused() {
    let seed = seed_from_env(19);
    let mut sim = default_sim(seed);
    // The client's send counter just below OpenVPN's wrap trigger (packet_id.h, 0xFF000000).
    sim.client.advance_send_packet_id(0xFF00_0000 - 5);
    exchange(&mut sim, 20, true);
    assert!(
        sim.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::KeysRotated)),
        "no renegotiation near packet-id exhaustion\n{}",
        sim.dump()
    );
    // The new key starts its counter afresh; traffic goes on.
    exchange(&mut sim, 20, true);
}

/// Many clients on one server, with a lossy network: everyone connects, gets its own name and
/// address, and carries data; no session's timers or packets are forgotten.
#[test]
fn fifty_clients_on_one_server() {
    let seed = seed_from_env(20);
    let n = 50u32;
    let mut crowd = crowd(seed, n, LinkConfig::lossy(0.05));
    assert!(
        crowd.run_until(Duration::from_secs(600), Crowd::all_connected),
        "not all connected in 10 simulated minutes (seed {seed})"
    );
    let (now, server) = (crowd.now, &mut crowd.server);
    let mut clients: Vec<(std::net::SocketAddr, &mut ovpn_session::Client)> = crowd
        .members
        .iter_mut()
        .map(|m| (m.addr, &mut m.client))
        .collect();
    let sessions = server.sessions(now);
    assert_eq!(sessions.iter().filter(|s| s.connected).count(), n as usize);
    let names: BTreeSet<_> = sessions.iter().filter_map(|s| s.name.clone()).collect();
    let addresses: BTreeSet<_> = sessions.iter().map(|s| s.address).collect();
    assert_eq!(
        names.len(),
        n as usize,
        "every session has its own ovpn-incomingN"
    );
    assert_eq!(
        addresses.len(),
        n as usize,
        "every session has its own address"
    );
    assert!(names.contains("ovpn-incoming1") && names.contains(&format!("ovpn-incoming{n}")));
    // Data from every client reaches the server, attributed to the right session.
    for (i, (addr, c)) in clients.iter_mut().enumerate() {
        let mut b = vec![0u8; ovpn_session::HEADROOM + 64 + ovpn_session::TAILROOM];
        let src = c.tun().unwrap().address.unwrap().octets();
        let packet = ip_packet(src, [10, 8, 0, 1], i as u32, 64);
        b[ovpn_session::HEADROOM..ovpn_session::HEADROOM + 64].copy_from_slice(&packet);
        let r = c
            .encapsulate(now, &mut b, ovpn_session::HEADROOM, 64)
            .unwrap();
        match server.handle_datagram(now, *addr, &mut b[r]).unwrap() {
            ovpn_session::ServerReceived::Packet { peer, .. } => {
                let s = sessions.iter().find(|s| s.peer == peer).unwrap();
                assert_eq!(s.remote, *addr, "client {i}");
            }
            other => panic!("client {i}: {other:?}"),
        }
    }
}

/// `n` clients (client1's settings, seeds from `seed`) against the test server.
fn crowd(seed: u64, n: u32, link: LinkConfig) -> Crowd {
    crowd_at(start(), seed, n, link)
}

fn crowd_at(epoch: std::time::Instant, seed: u64, n: u32, link: LinkConfig) -> Crowd {
    let server =
        ovpn_session::Server::new(server_config(seed), shared(), epoch, unix_epoch()).unwrap();
    let clients = (0..n)
        .map(|i| {
            // One secret, many sessions (no only-one in the profile).
            let c = client_config(seed + u64::from(i));
            ovpn_session::Client::new(c, epoch, unix_epoch()).unwrap()
        })
        .collect();
    Crowd::new(seed, epoch, server, clients, link)
}

/// The simulation is a function of its seed: the same seed (and start) gives the same
/// transcript, event for event and byte count for byte count; another seed, on a lossy link,
/// another one.
#[test]
fn the_same_seed_gives_the_same_transcript() {
    let seed = seed_from_env(21);
    let epoch = start();
    let run = |seed: u64| {
        let mut c = crowd_at(epoch, seed, 3, LinkConfig::lossy(0.2));
        assert!(c.run_until(Duration::from_secs(300), Crowd::all_connected));
        c.transcript()
    };
    let (a, b) = (run(seed), run(seed));
    assert!(a.lines().count() > 50, "{a}");
    assert_eq!(a, b, "seed {seed}: two runs differ");
    assert_ne!(run(seed + 1), a, "another seed, another network");
}

/// With negotiation the client offers its cipher first and then the rest of the supported set,
/// so a server whose set lacks the client's cipher still finds one; without, only its own.
#[test]
fn a_negotiating_client_offers_its_cipher_then_the_rest() {
    use ovpn_crypto::Cipher;
    let seed = seed_from_env(28);
    let mut s = server_config(seed);
    s.ciphers = vec![Cipher::Aes128Gcm, Cipher::Aes256Cbc];
    let mut c = client_config(seed);
    c.cipher = Cipher::Aes192Cbc;
    let mut negotiating = sim(seed, s.clone(), c.clone(), LinkConfig::default());
    connect(&mut negotiating);
    let session = negotiating.server.sessions(negotiating.now).remove(0);
    assert_eq!(session.encoding.unwrap().cipher, Cipher::Aes128Gcm);
    // A RouterOS client (no negotiation) offers its cipher alone: refused here.
    c.negotiate = false;
    let mut fixed = sim(seed, s, c, LinkConfig::default());
    assert!(
        fixed
            .run_until(Duration::from_secs(30), |s| s.server_events.iter().any(
                |e| matches!(e, ovpn_session::ServerEvent::Disconnected { .. })
            )),
        "{}",
        fixed.dump()
    );
}

/// A TAP server and a TUN client (or the reverse) cannot carry each other's packets: both ends
/// say so at once, from the other's options string, instead of "connecting" to pass nothing.
#[test]
fn a_device_type_mismatch_is_refused_on_both_ends() {
    use ovpn_session::{ClientEvent, DisconnectReason, Mode, ServerEvent};
    let seed = seed_from_env(29);
    let mut s = server_config(seed);
    s.mode = Mode::Ethernet;
    let mut sim = sim(seed, s, client_config(seed), LinkConfig::default());
    let want = DisconnectReason::DeviceTypeMismatch {
        ours: Mode::Ip,
        peer: Mode::Ethernet,
    };
    assert!(
        sim.run_until(Duration::from_secs(30), |s| s.client_events.iter().any(
            |e| matches!(
                e,
                ClientEvent::Disconnected { reason, .. } if *reason == want
            )
        )),
        "{}",
        sim.dump()
    );
    assert!(
        want.to_string().contains("dev tap (mode=ethernet)"),
        "{want}"
    );
    assert!(
        sim.server_events.iter().any(|e| matches!(
            e,
            ServerEvent::Disconnected {
                reason: DisconnectReason::DeviceTypeMismatch {
                    ours: Mode::Ethernet,
                    peer: Mode::Ip
                },
                ..
            }
        )),
        "{}",
        sim.dump()
    );
    assert_ne!(sim.client.state(), &ClientState::Connected);
}

/// A server that never answers (here: it does not use the tls-auth the client does, so it drops
/// every packet) is reported within seconds, once per attempt, not after a silent 60 s.
#[test]
fn a_silent_server_is_reported_early() {
    use ovpn_session::{ClientEvent, ControlProtection};
    let seed = seed_from_env(30);
    let mut c = client_config(seed);
    c.protection = ControlProtection::TlsAuth {
        key: ovpn_crypto::StaticKey::generate([7; ovpn_crypto::KEY_BLOCK_LEN]),
        direction: ovpn_crypto::KeyDirection::Inverse,
        digest: ovpn_crypto::Digest::Sha1,
    };
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    let no_reply = |s: &Sim| {
        s.client_events
            .iter()
            .filter(|e| matches!(e, ClientEvent::NoReply { .. }))
            .count()
    };
    assert!(
        sim.run_until(Duration::from_secs(10), |s| no_reply(s) > 0),
        "{}",
        sim.dump()
    );
    let waited = sim.now - sim.epoch;
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    sim.advance(Duration::from_secs(20));
    assert_eq!(no_reply(&sim), 1, "once per attempt");
    assert!(sim.server.sessions(sim.now).is_empty());
}

/// Several servers (a profile's `remote` lines): an attempt that gets no tunnel up moves on to
/// the next, and the one that answers is used.
#[test]
fn a_dead_first_server_fails_over_to_the_next() {
    let seed = seed_from_env(31);
    let mut c = client_config(seed);
    let live = c.server;
    c.server = "192.0.2.77:1194".parse().unwrap(); // nobody there
    c.fallback_servers = vec![live];
    c.reconnect_delay = Duration::from_secs(1);
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    assert_eq!(sim.client.remote(), "192.0.2.77:1194".parse().unwrap());
    assert!(
        sim.run_until(Duration::from_secs(180), connected),
        "{}",
        sim.dump()
    );
    assert_eq!(sim.client.remote(), live);
}
