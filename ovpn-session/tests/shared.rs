//! Several servers over one set of PPP tables and pools (RouterOS 7.17's several OpenVPN
//! servers), changes to those tables and to a server's configuration while it runs, and the
//! admission hook.

mod common;

use std::time::Duration;

use common::*;
use ovpn_crypto::Cipher;
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{
    Admission, ClientState, DisconnectReason, Server, ServerConfigError, ServerEvent, Shared,
    Transport,
};

const LIMIT: Duration = Duration::from_secs(60);

/// A simulation whose server uses `shared` (and `server`'s other settings).
fn sim_on(seed: u64, shared: &Shared, server: ovpn_session::ServerConfig, tcp: bool) -> Sim {
    let (mut c, mut s) = (client_config(seed), server);
    if tcp {
        (c, s) = common::tcp(c, s);
    }
    let epoch = start();
    let server = Server::new(s, shared.clone(), epoch, unix_epoch()).unwrap();
    let client = ovpn_session::Client::new(c, epoch, unix_epoch()).unwrap();
    Sim::new(seed, epoch, client, server, LinkConfig::default())
}

fn session(sim: &Sim) -> ovpn_session::SessionInfo {
    sim.server.sessions(sim.now).remove(0)
}

fn used(shared: &Shared) -> usize {
    shared.view(|_, pools| pools.used().count())
}

#[test]
fn a_udp_and_a_tcp_server_share_one_pool_and_one_set_of_secrets() {
    let seed = seed_from_env(60);
    let shared = shared();
    let mut udp = sim_on(seed, &shared, server_config(seed), false);
    let mut tcp = sim_on(seed + 1, &shared, server_config(seed + 1), true);
    assert_eq!(tcp.server.config().transport, Transport::Tcp);
    // client1 on UDP, client2 on TCP.
    tcp.client = ovpn_session::Client::new(
        {
            let mut c = client_config(seed + 1);
            c.transport = Transport::Tcp;
            c.user = "client2".into();
            c.password = zeroize::Zeroizing::new("pw2".into());
            c
        },
        tcp.now,
        unix_epoch(),
    )
    .unwrap();
    assert!(udp.run_until(LIMIT, connected), "{}", udp.dump());
    assert!(tcp.run_until(LIMIT, connected), "{}", tcp.dump());
    let (a, b) = (session(&udp), session(&tcp));
    assert_ne!(a.address, b.address, "one pool: addresses stay unique");
    assert_eq!(a.name.as_deref(), Some("ovpn-incoming1"));
    assert_eq!(
        b.name.as_deref(),
        Some("ovpn-incoming2"),
        "names are unique across the servers"
    );
    assert_ne!(a.session_id, b.session_id);
    assert_eq!(used(&shared), 2);
    assert_eq!(shared.active_sessions(), 2);
    // The UDP session ends: its address and number are free for the other server.
    udp.client.close(udp.now);
    assert!(udp.run_until(LIMIT, |s| server_end(s).is_some()));
    assert_eq!(used(&shared), 1);
    assert_eq!(shared.active_sessions(), 1);
}

#[test]
fn only_one_holds_across_servers() {
    let seed = seed_from_env(61);
    let mut ppp = ppp();
    ppp.set_profile("ovpn-profile", [("only-one", "yes")])
        .unwrap();
    let shared = Shared::new(ppp, pools());
    let mut udp = sim_on(seed, &shared, server_config(seed), false);
    let mut tcp = sim_on(seed + 1, &shared, server_config(seed + 1), true);
    assert!(udp.run_until(LIMIT, connected), "{}", udp.dump());
    // The same user on the other server is refused.
    assert!(
        tcp.run_until(LIMIT, |s| server_end(s).is_some()),
        "{}",
        tcp.dump()
    );
    assert_eq!(
        server_end(&tcp),
        Some(DisconnectReason::Auth(ovpn_ppp::AuthError::OnlyOne))
    );
    assert_eq!(used(&shared), 1);
}

#[test]
fn removing_a_secret_ends_its_session_and_frees_its_address() {
    let seed = seed_from_env(62);
    let shared = shared();
    let mut sim = sim_on(seed, &shared, server_config(seed), false);
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    assert_eq!(used(&shared), 1);
    // Changing the secret leaves the session alone (RouterOS applies it at the next login).
    shared
        .change(|ppp, _| ppp.set_secret("client1", [("password", "new")]))
        .unwrap();
    sim.advance(Duration::from_secs(1));
    assert_eq!(server_end(&sim), None);
    shared
        .change(|ppp, _| ppp.remove_secret("client1"))
        .unwrap();
    // The change makes the server due at once.
    assert!(sim.server.poll_timeout().is_some_and(|t| t <= sim.now));
    assert!(sim.run_until(Duration::from_secs(1), |s| server_end(s).is_some()));
    assert_eq!(server_end(&sim), Some(DisconnectReason::SecretRemoved));
    assert_eq!(used(&shared), 0, "its address is free");
    assert!(sim.server.sessions(sim.now).is_empty());
    // The client was told (RESTART) and tries again, and is now refused.
    assert!(
        sim.run_until(LIMIT, |s| s.server_events.iter().any(|e| matches!(
            e,
            ServerEvent::Disconnected {
                reason: DisconnectReason::Auth(ovpn_ppp::AuthError::LoginIncorrect),
                ..
            }
        ))),
        "{}",
        sim.dump()
    );
}

#[test]
fn removing_an_active_session_ends_it_on_its_server() {
    let seed = seed_from_env(63);
    let shared = shared();
    let mut sim = sim_on(seed, &shared, server_config(seed), false);
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let id = session(&sim).session_id.unwrap();
    assert_eq!(
        shared.remove_session(id + 1),
        Err(ovpn_session::NoSuchSession(id + 1))
    );
    shared.remove_session(id).unwrap();
    assert!(sim.run_until(Duration::from_secs(1), |s| server_end(s).is_some()));
    assert_eq!(server_end(&sim), Some(DisconnectReason::Removed));
    assert_eq!(used(&shared), 0);
    assert_eq!(shared.active_sessions(), 0);
    // The secret is still there: the client reconnects.
    sim.server_events.clear();
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
}

#[test]
fn secrets_profiles_and_pools_added_while_running_serve_the_next_login() {
    let seed = seed_from_env(64);
    let shared = shared();
    let mut sim = sim_on(seed, &shared, server_config(seed), false);
    shared
        .change(|ppp, pools| -> Result<(), Box<dyn std::error::Error>> {
            pools.add(ovpn_pool::Pool::ipv4(
                "late-pool",
                "10.77.0.10-10.77.0.20".parse()?,
            )?)?;
            ppp.add_profile_text("name=late local-address=10.77.0.1 remote-address=late-pool")?;
            ppp.add_secret_text("name=late-user password=late-pw profile=late service=ovpn")?;
            Ok(())
        })
        .unwrap();
    sim.client = ovpn_session::Client::new(
        {
            let mut c = client_config(seed);
            c.user = "late-user".into();
            c.password = zeroize::Zeroizing::new("late-pw".into());
            c
        },
        sim.now,
        unix_epoch(),
    )
    .unwrap();
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let s = session(&sim);
    assert_eq!(s.profile.as_deref(), Some("late"));
    assert_eq!(s.address, Some("10.77.0.10".parse().unwrap()));
}

#[test]
fn reconfigure_applies_to_new_sessions_and_refuses_what_needs_a_restart() {
    let seed = seed_from_env(65);
    let shared = shared();
    let mut sim = sim_on(seed, &shared, server_config(seed), false);
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    assert_eq!(sim.client.tun().unwrap().pushed.ping_restart, Some(60));
    let first = session(&sim).encoding.unwrap().cipher;
    assert_eq!(first, Cipher::Aes256Gcm, "the library default's first");
    // Only AES-128-GCM from now on, and a shorter keepalive.
    let mut c = server_config(seed);
    c.ciphers = vec![Cipher::Aes128Gcm];
    c.keepalive_timeout = Some(Duration::from_secs(20));
    sim.server.reconfigure(c.clone()).unwrap();
    let mut bad = c.clone();
    bad.transport = Transport::Tcp;
    assert!(matches!(
        sim.server.reconfigure(bad),
        Err(ServerConfigError::NeedsRestart("protocol"))
    ));
    let mut empty = c.clone();
    empty.ciphers.clear();
    assert!(matches!(
        sim.server.reconfigure(empty),
        Err(ServerConfigError::NoCipher)
    ));
    assert_eq!(sim.server.config().ciphers, [Cipher::Aes128Gcm], "kept");
    // The live session keeps its cipher.
    sim.advance(Duration::from_secs(1));
    assert_eq!(session(&sim).encoding.unwrap().cipher, Cipher::Aes256Gcm);
    assert_eq!(server_end(&sim), None);
    // A new client offering only AES-256-GCM is now refused ...
    new_client_elsewhere(&mut sim, seed + 7);
    let mut only_256 = client_config(seed + 7);
    only_256.data_ciphers = Some(vec![Cipher::Aes256Gcm]);
    sim.client = ovpn_session::Client::new(only_256, sim.now, unix_epoch()).unwrap();
    assert!(
        sim.run_until(LIMIT, |s| server_end(s).is_some()),
        "{}",
        sim.dump()
    );
    assert!(
        matches!(server_end(&sim), Some(DisconnectReason::NoEncryption(_))),
        "{:?}",
        server_end(&sim)
    );
    // ... and one offering AES-128-GCM gets it, with the new keepalive.
    let mut c = client_config(seed + 8);
    c.cipher = Cipher::Aes128Gcm;
    sim.client = ovpn_session::Client::new(c, sim.now, unix_epoch()).unwrap();
    assert!(
        sim.run_until(LIMIT, |s| s.client.state() == &ClientState::Connected),
        "{}",
        sim.dump()
    );
    let sessions = sim.server.sessions(sim.now);
    let newest = sessions
        .iter()
        .find(|s| s.remote == sim.client_addr && s.connected)
        .unwrap();
    assert_eq!(newest.encoding.unwrap().cipher, Cipher::Aes128Gcm);
    assert_eq!(
        sim.client.tun().unwrap().pushed.ping_restart,
        Some(20),
        "the new keepalive is pushed"
    );
}

#[test]
fn admission_asks_before_any_state_and_accept_refuse_ignore_do_what_they_say() {
    let seed = seed_from_env(66);
    let shared = shared();
    let mut s = server_config(seed);
    s.admission = Admission::Ask;
    let mut sim = sim_on(seed, &shared, s, false);
    assert!(sim.run_until(LIMIT, |s| !s.incoming.is_empty()));
    assert!(sim.server.sessions(sim.now).is_empty(), "no state kept");
    assert_eq!(sim.server.poll_timeout(), None, "no timer either");
    let first = sim.incoming.remove(0);
    assert_eq!(first.remote(), sim.client_addr);
    assert!(!first.is_restart());
    // Ignored: the client retransmits and is asked about again.
    sim.server.ignore(first);
    assert!(sim.run_until(LIMIT, |s| !s.incoming.is_empty()));
    assert!(sim.server.sessions(sim.now).is_empty());
    // Refused: still nothing kept.
    let again = sim.incoming.remove(0);
    sim.server.refuse(again);
    assert!(sim.server.sessions(sim.now).is_empty());
    assert!(sim.run_until(LIMIT, |s| !s.incoming.is_empty()));
    // Accepted: the session starts from that packet and the client connects.
    let third = sim.incoming.remove(0);
    let peer = sim.server.accept(sim.now, third).unwrap();
    assert_eq!(sim.server.sessions(sim.now)[0].peer, peer);
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    assert!(
        sim.incoming.is_empty(),
        "a known client's packets are never asked about"
    );
}

#[test]
fn admission_over_tcp_and_for_a_restarted_client() {
    let seed = seed_from_env(67);
    let shared = shared();
    let mut s = server_config(seed);
    s.admission = Admission::Ask;
    let mut sim = sim_on(seed, &shared, s, true);
    assert!(sim.run_until(LIMIT, |s| !s.incoming.is_empty()));
    let i = sim.incoming.remove(0);
    sim.server.accept(sim.now, i).unwrap();
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    let old = session(&sim).peer;
    // The client restarts from the same address: a new session start, asked about again, and
    // marked as a restart. The live session stays until the new one logs in.
    sim.client = ovpn_session::Client::new(
        common::tcp(client_config(seed + 3), server_config(seed)).0,
        sim.now,
        unix_epoch(),
    )
    .unwrap();
    assert!(
        sim.run_until(LIMIT, |s| !s.incoming.is_empty()),
        "{}",
        sim.dump()
    );
    let restart = sim.incoming.remove(0);
    assert!(restart.is_restart());
    assert_eq!(session(&sim).peer, old, "the live session is untouched");
    let new = sim.server.accept(sim.now, restart).unwrap();
    assert_ne!(new, old);
    assert!(
        sim.run_until(LIMIT, |s| s
            .server
            .sessions(s.now)
            .iter()
            .any(|x| x.peer == new && x.connected)),
        "{}",
        sim.dump()
    );
    assert_eq!(
        sim.server.sessions(sim.now).len(),
        1,
        "it replaced the old one"
    );
}

#[test]
fn disabling_a_secret_ends_its_session() {
    let seed = seed_from_env(63);
    let shared = shared();
    let mut sim = sim_on(seed, &shared, server_config(seed), false);
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    shared
        .change(|ppp, _| ppp.set_secret("client1", [("disabled", "yes")]))
        .unwrap();
    assert!(sim.run_until(Duration::from_secs(1), |s| server_end(s).is_some()));
    assert_eq!(server_end(&sim), Some(DisconnectReason::SecretRemoved));
    assert_eq!(used(&shared), 0, "its address is free");
}
