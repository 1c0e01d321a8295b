//! tls-crypt-v2 between our client and our server: the stateless start with early negotiation
//! and `P_CONTROL_WKC_V1`, clients before 2.6, TCP, loss, refusals that keep no state, the key's
//! metadata at the authenticator, and mixed protection on one port without a downgrade.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use ovpn_crypto::{Metadata, TlsCryptV2ClientKey, TlsCryptV2ServerKey};
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{
    AuthMode, Client, ClientConfig, ControlProtection, DropReason, Server, ServerConfig,
    ServerReceived, TlsCryptV2Server,
};
use ovpn_wire::Opcode;

const LIMIT: Duration = Duration::from_secs(120);

fn server_key(seed: u8) -> TlsCryptV2ServerKey {
    TlsCryptV2ServerKey::from_bytes(&[seed | 1; 128]).unwrap()
}

/// A client key made by `server` on the tests' first day.
fn client_key(server: &TlsCryptV2ServerKey, seed: u8) -> TlsCryptV2ClientKey {
    let made = unix_epoch()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    server
        .make_client_key([seed | 1; 256], &Metadata::timestamp_of(made))
        .unwrap()
}

fn v2_server(seed: u64, key: &TlsCryptV2ServerKey) -> ServerConfig {
    let mut s = server_config(seed);
    s.tls_crypt_v2 = Some(TlsCryptV2Server::new(key.clone()));
    s
}

fn v2_client(seed: u64, key: TlsCryptV2ClientKey) -> ClientConfig {
    let mut c = client_config(seed);
    c.protection = ControlProtection::TlsCryptV2 { key };
    c
}

fn drain_server(server: &mut Server, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(t) = server.poll_transmit(now, &mut buf) {
        out.push(buf[..t.len].to_vec());
    }
    out
}

fn drain_client(client: &mut Client, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while let Some(t) = client.poll_transmit(now, &mut buf) {
        out.push(buf[..t.len].to_vec());
    }
    out
}

fn opcode(p: &[u8]) -> Opcode {
    ovpn_wire::peek(p).unwrap().0
}

/// The exchange step by step: a V3 reset with the early-negotiation packet id is answered once,
/// with nothing kept, by a reset asking for WKc again; the client's next packet is a
/// `P_CONTROL_WKC_V1` carrying its ClientHello and WKc, and only that makes a session.
#[test]
fn the_stateless_start_asks_for_the_wrapped_key_again() {
    let seed = seed_from_env(71);
    let key = server_key(3);
    let ck = client_key(&key, 4);
    let t0 = start();
    let mut server = Server::new(v2_server(seed, &key), shared(), t0, unix_epoch()).unwrap();
    let mut client = Client::new(v2_client(seed, ck.clone()), t0, unix_epoch()).unwrap();
    let from: SocketAddr = "192.0.2.9:40000".parse().unwrap();

    let first = drain_client(&mut client, t0);
    assert_eq!(first.len(), 1);
    assert_eq!(opcode(&first[0]), Opcode::HardResetClientV3);
    assert!(first[0].ends_with(ck.wkc()), "the reset carries WKc");
    // The tls-crypt packet id is EARLY_NEG_START + 1.
    assert_eq!(&first[0][9..13], &[0x0f, 0, 0, 1]);

    let mut p = first[0].clone();
    let r = server.handle_datagram(t0, from, &mut p);
    assert!(matches!(r, Ok(ServerReceived::Consumed)), "{r:?}");
    assert!(server.sessions(t0).is_empty(), "state kept for a reset");
    assert_eq!(server.poll_timeout(), None);
    let answer = drain_server(&mut server, t0);
    assert_eq!(answer.len(), 1);
    assert_eq!(opcode(&answer[0]), Opcode::HardResetServerV2);
    // Protected with the client's key (tls-crypt: 40 bytes more), packet id 1.
    assert_eq!(&answer[0][9..13], &[0, 0, 0, 1]);
    assert_eq!(
        answer[0].len(),
        26 + 6 + 40,
        "an ack, the TLV and tls-crypt"
    );

    let mut a = answer[0].clone();
    client.handle_datagram(t0, &mut a).unwrap();
    let third = drain_client(&mut client, t0);
    assert!(!third.is_empty());
    assert_eq!(opcode(&third[0]), Opcode::ControlWkcV1);
    assert!(third[0].ends_with(ck.wkc()), "the third packet carries WKc");
    assert!(
        third[0].len() <= 1250 + 40 + ck.wkc().len(),
        "{}",
        third[0].len()
    );
    assert!(
        third[1..].iter().all(|p| opcode(p) == Opcode::ControlV1),
        "later packets are plain P_CONTROL_V1"
    );
    let mut p = third[0].clone();
    server.handle_datagram(t0, from, &mut p).unwrap();
    assert_eq!(
        server.sessions(t0).len(),
        1,
        "the third packet made the session"
    );
}

fn connect(sim: &mut Sim) {
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
}

/// UDP and TCP, without and with loss: our client and server connect over tls-crypt-v2, and the
/// key's metadata (its time of making) reaches the authenticator.
#[test]
fn our_client_and_server_connect_with_tls_crypt_v2_and_the_metadata_reaches_auth() {
    let seed = seed_from_env(72);
    let key = server_key(5);
    for tcp_mode in [false, true] {
        for link in [LinkConfig::default(), LinkConfig::lossy(0.2)] {
            for s in 0..3u64 {
                let seed = seed + s;
                let mut sc = v2_server(seed, &key);
                sc.auth = AuthMode::Deferred;
                let mut cc = v2_client(seed, client_key(&key, 6));
                if tcp_mode {
                    (cc, sc) = tcp(cc, sc);
                }
                let mut sim = sim(seed, sc, cc, link.clone());
                assert!(
                    sim.run_until(LIMIT, |s| nth_auth_request(s, 0).is_some()),
                    "tcp {tcp_mode} {link:?}\n{}",
                    sim.dump()
                );
                let (peer, request) = nth_auth_request(&sim, 0).unwrap();
                let meta = request.client_key_metadata.clone().expect("metadata");
                assert_eq!(
                    Metadata::from_bytes(&meta).unwrap().timestamp(),
                    Some(1_795_737_600)
                );
                let grant = ovpn_ppp::Authenticator::authenticate(&ppp(), &request);
                sim.server.auth_verdict(sim.now, peer, grant).unwrap();
                connect(&mut sim);
                if link.loss == 0.0 {
                    break;
                }
            }
        }
    }
}

/// A client before 2.6 (no early negotiation) gets a stateful start, or none with
/// `force-cookie`.
#[test]
fn a_client_without_early_negotiation_starts_statefully_unless_force_cookie() {
    let seed = seed_from_env(73);
    let key = server_key(7);
    let mut sim = sim(
        seed,
        v2_server(seed, &key),
        v2_client(seed, client_key(&key, 8)),
        LinkConfig::default(),
    );
    ovpn_session::fuzzing::without_early_negotiation(&mut sim.client);
    assert!(
        sim.run_until(Duration::from_millis(10), |s| !s
            .server
            .sessions(s.now)
            .is_empty()),
        "the old client's reset made no session\n{}",
        sim.dump()
    );
    connect(&mut sim);

    let mut sc = v2_server(seed, &key);
    if let Some(v2) = &mut sc.tls_crypt_v2 {
        v2.force_cookie = true;
    }
    let t0 = start();
    let mut server = Server::new(sc, shared(), t0, unix_epoch()).unwrap();
    let mut client = Client::new(v2_client(seed, client_key(&key, 8)), t0, unix_epoch()).unwrap();
    ovpn_session::fuzzing::without_early_negotiation(&mut client);
    let mut reset = drain_client(&mut client, t0).remove(0);
    assert_eq!(&reset[9..13], &[0, 0, 0, 1]);
    assert_eq!(
        server
            .handle_datagram(t0, "192.0.2.1:1".parse().unwrap(), &mut reset)
            .unwrap_err(),
        DropReason::CookieRequired
    );
    assert!(server.sessions(t0).is_empty());
    assert!(drain_server(&mut server, t0).is_empty());
}

/// Refused before any state: a key wrapped by another server, a flipped bit anywhere, a key
/// older than `max_age`, a truncated packet. Nothing is answered and nothing kept.
#[test]
fn bad_wrapped_keys_are_refused_statelessly() {
    let seed = seed_from_env(74);
    let key = server_key(9);
    let t0 = start();
    let mut sc = v2_server(seed, &key);
    let mut server = Server::new(sc.clone(), shared(), t0, unix_epoch()).unwrap();
    let foreign = client_key(&server_key(11), 12);
    let mut client = Client::new(v2_client(seed, foreign), t0, unix_epoch()).unwrap();
    let mut reset = drain_client(&mut client, t0).remove(0);
    let from: SocketAddr = "192.0.2.2:2".parse().unwrap();
    assert_eq!(
        server.handle_datagram(t0, from, &mut reset).unwrap_err(),
        DropReason::BadClientKey
    );
    let mut client = Client::new(v2_client(seed, client_key(&key, 12)), t0, unix_epoch()).unwrap();
    let good = drain_client(&mut client, t0).remove(0);
    for i in 0..good.len() {
        let mut p = good.clone();
        p[i] ^= 0x04;
        let r = server.handle_datagram(t0, from, &mut p);
        assert!(r.is_err(), "byte {i}: {r:?}");
        let mut p = good[..i].to_vec();
        assert!(server.handle_datagram(t0, from, &mut p).is_err(), "{i}");
    }
    assert!(server.sessions(t0).is_empty());
    assert!(
        drain_server(&mut server, t0).is_empty(),
        "something answered"
    );
    assert_eq!(server.poll_timeout(), None);
    // The good one is answered.
    let mut p = good.clone();
    server.handle_datagram(t0, from, &mut p).unwrap();
    assert_eq!(drain_server(&mut server, t0).len(), 1);

    // tls-crypt-v2-max-age: a key made 31 days before now is too old for 30 days.
    if let Some(v2) = &mut sc.tls_crypt_v2 {
        v2.max_age = Some(Duration::from_secs(30 * 86_400));
    }
    let later = unix_epoch() + Duration::from_secs(31 * 86_400);
    let mut server = Server::new(sc, shared(), t0, later).unwrap();
    let mut p = good.clone();
    assert_eq!(
        server.handle_datagram(t0, from, &mut p).unwrap_err(),
        DropReason::BadClientKey
    );
    assert!(drain_server(&mut server, t0).is_empty());
}

/// A server with tls-crypt-v2 alone refuses plain clients; with `others` it serves plain
/// clients and tls-crypt-v2 clients on one port, and a wrapped key that does not unwrap is
/// never read as a plain client.
#[test]
fn mixed_protection_on_one_port_never_downgrades() {
    let seed = seed_from_env(75);
    let key = server_key(13);
    // tls-crypt-v2 only: a plain client is not answered.
    let mut sim_plain = sim(
        seed,
        v2_server(seed, &key),
        client_config(seed),
        LinkConfig::default(),
    );
    assert!(!sim_plain.run_until(Duration::from_secs(10), connected));
    assert!(
        sim_plain
            .drops
            .iter()
            .any(|(side, r)| *side == "server" && *r == DropReason::BadControlAuth),
        "{}",
        sim_plain.dump()
    );
    assert!(sim_plain.server.sessions(sim_plain.now).is_empty());

    // none,tls-crypt-v2: both kinds connect to one server.
    let mut sc = v2_server(seed, &key);
    if let Some(v2) = &mut sc.tls_crypt_v2 {
        v2.others = true;
    }
    let mut sim = sim(seed, sc, client_config(seed), LinkConfig::default());
    connect(&mut sim);
    let plain_addr = sim.client_addr;
    let cc = v2_client(seed ^ 1, client_key(&key, 14));
    sim.client = Client::new(cc, sim.now, unix_epoch()).unwrap();
    sim.client_addr = "192.0.2.77:5000".parse().unwrap();
    connect(&mut sim);
    let sessions = sim.server.sessions(sim.now);
    assert_eq!(sessions.iter().filter(|s| s.connected).count(), 2);
    assert!(sessions.iter().any(|s| s.remote == plain_addr));

    // A V3 reset whose WKc does not unwrap is dropped: not answered as plain, nothing kept.
    let before = sim.server.sessions(sim.now).len();
    let foreign = client_key(&server_key(15), 16);
    let mut c = Client::new(v2_client(seed, foreign), sim.now, unix_epoch()).unwrap();
    let mut reset = drain_client(&mut c, sim.now).remove(0);
    let r = sim
        .server
        .handle_datagram(sim.now, "192.0.2.99:9".parse().unwrap(), &mut reset);
    assert_eq!(r.unwrap_err(), DropReason::BadClientKey);
    assert_eq!(sim.server.sessions(sim.now).len(), before);
    assert!(drain_server(&mut sim.server, sim.now).is_empty());
    // A plain reset sent with the V3 opcode: the opcode decides, and a V3 opcode always needs a
    // wrapped key that unwraps.
    let mut forged = vec![0x50];
    forged.extend_from_slice(&[1; 8]);
    forged.extend_from_slice(&[0, 0, 0, 0, 0]);
    let r = sim
        .server
        .handle_datagram(sim.now, "192.0.2.98:9".parse().unwrap(), &mut forged);
    assert_eq!(r.unwrap_err(), DropReason::BadClientKey);
}

/// Renegotiation (key ids above 0) keeps the client's own key, both ways.
#[test]
fn renegotiation_keeps_the_clients_key() {
    let seed = seed_from_env(76);
    let key = server_key(17);
    let mut sim = sim(
        seed,
        v2_server(seed, &key),
        v2_client(seed, client_key(&key, 18)),
        LinkConfig::default(),
    );
    connect(&mut sim);
    let rotated = |s: &Sim| {
        s.client_events
            .iter()
            .filter(|e| matches!(e, ovpn_session::ClientEvent::KeysRotated))
            .count()
    };
    for round in 1..=2 {
        sim.client.renegotiate(sim.now);
        assert!(
            sim.run_until(LIMIT, |s| rotated(s) >= round),
            "no rotation in round {round}\n{}",
            sim.dump()
        );
    }
    assert!(connected(&sim));
    assert!(
        !sim.drops
            .iter()
            .any(|(_, r)| *r == DropReason::BadControlAuth),
        "{:?}",
        sim.drops
    );
}

/// With `Admission::Ask`, the tls-crypt-v2 client's third packet (`P_CONTROL_WKC_V1`) is what
/// the driver is asked about; accepted, it makes the session with the client's own key.
#[test]
fn admission_asks_about_the_wkc_packet_and_accept_keeps_the_key() {
    let seed = seed_from_env(77);
    let key = server_key(19);
    let mut sc = v2_server(seed, &key);
    sc.admission = ovpn_session::Admission::Ask;
    let mut sim = sim(
        seed,
        sc,
        v2_client(seed, client_key(&key, 20)),
        LinkConfig::default(),
    );
    assert!(
        sim.run_until(LIMIT, |s| !s.incoming.is_empty()),
        "{}",
        sim.dump()
    );
    assert!(sim.server.sessions(sim.now).is_empty(), "no state kept");
    let incoming = sim.incoming.remove(0);
    let now = sim.now;
    let peer = sim.server.accept(now, incoming).unwrap();
    assert_eq!(sim.server.sessions(sim.now)[0].peer, peer);
    connect(&mut sim);
}

/// The largest wrapped key (1024 bytes: 733 bytes of metadata) still fits: the `P_CONTROL_WKC_V1`
/// carries a shorter first piece of the ClientHello, over UDP with loss and over TCP.
#[test]
fn the_largest_wrapped_key_connects() {
    let seed = seed_from_env(78);
    let key = server_key(21);
    let big = key
        .make_client_key([22; 256], &Metadata::user(&[b'm'; 733]).unwrap())
        .unwrap();
    assert_eq!(big.wkc().len(), ovpn_crypto::MAX_WKC_LEN);
    for (tcp_mode, link) in [
        (false, LinkConfig::lossy(0.2)),
        (true, LinkConfig::default()),
    ] {
        let mut sc = v2_server(seed, &key);
        sc.auth = AuthMode::Deferred;
        let mut cc = v2_client(seed, big.clone());
        if tcp_mode {
            (cc, sc) = tcp(cc, sc);
        }
        let mut sim = sim(seed, sc, cc, link);
        assert!(
            sim.run_until(LIMIT, |s| nth_auth_request(s, 0).is_some()),
            "tcp {tcp_mode}\n{}",
            sim.dump()
        );
        let (peer, request) = nth_auth_request(&sim, 0).unwrap();
        let meta = Metadata::from_bytes(&request.client_key_metadata.clone().unwrap()).unwrap();
        assert_eq!(meta.user_data().map(<[u8]>::len), Some(733));
        let grant = ovpn_ppp::Authenticator::authenticate(&ppp(), &request);
        sim.server.auth_verdict(sim.now, peer, grant).unwrap();
        connect(&mut sim);
    }
}
