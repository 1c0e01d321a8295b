//! IPv6 inside the tunnel (RouterOS 7's `enable-tun-ipv6`) on the simulated network: the
//! client's address from an `/ipv6 pool`, the push (`ifconfig-ipv6`, `route-ipv6`,
//! `redirect-gateway ipv6`), the source check and routing for IPv6, dual stack, and the lease
//! given back.

mod common;

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use common::*;
use ovpn_pool::{Family, Pool, PoolSet};
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{DropReason, Server, ServerConfig, Shared, TunIpv6};

const SERVER6: &str = "fd00:8::1";

fn v6_server(seed: u64) -> ServerConfig {
    let mut s = server_config(seed);
    s.ipv6 = Some(TunIpv6 {
        server: SERVER6.parse().unwrap(),
        prefix_len: 64,
    });
    s.push_routes_ipv6 = vec!["fd00:99::/64".parse().unwrap()];
    s.redirect_gateway_ipv6 = true;
    s
}

/// The page's tables plus `/ipv6 pool add name=v6pool prefix=fd00:8::/64 prefix-length=128`,
/// the profile giving `remote-ipv6-prefix-pool=v6pool` when `with_pool`.
fn v6_shared(with_pool: bool) -> Shared {
    let mut pools6 = PoolSet::new(Family::Ipv6);
    pools6
        .add(Pool::ipv6("v6pool", "fd00:8::/64".parse().unwrap(), 128).unwrap())
        .unwrap();
    let shared = shared().with_ipv6_pools(pools6);
    if with_pool {
        shared.change(|ppp, _| {
            ppp.set_profile("ovpn-profile", [("remote-ipv6-prefix-pool", "v6pool")])
                .unwrap()
        });
    }
    shared
}

fn v6_sim(seed: u64, with_pool: bool) -> Sim {
    v6_sim_over(seed, v6_shared(with_pool))
}

/// The client connected to an IPv6 server over `shared`.
fn v6_sim_over(seed: u64, shared: Shared) -> Sim {
    let epoch = start();
    let server = Server::new(v6_server(seed), shared, epoch, unix_epoch()).unwrap();
    let client = ovpn_session::Client::new(client_config(seed), epoch, unix_epoch()).unwrap();
    let mut sim = Sim::new(seed, epoch, client, server, LinkConfig::default());
    assert!(
        sim.run_until(Duration::from_secs(60), connected),
        "{}",
        sim.dump()
    );
    sim
}

/// An IPv6 UDP packet `src -> dst` numbered `n`.
fn ip6_packet(src: Ipv6Addr, dst: Ipv6Addr, n: u32) -> Vec<u8> {
    let mut p = vec![0u8; 60];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&20u16.to_be_bytes());
    p[6] = 17;
    p[7] = 64;
    p[8..24].copy_from_slice(&src.octets());
    p[24..40].copy_from_slice(&dst.octets());
    p[44..48].copy_from_slice(&n.to_be_bytes());
    p
}

#[test]
fn a_client_gets_an_ipv6_address_routes_and_a_default_route() {
    let seed = seed_from_env(71);
    let sim = v6_sim(seed, true);
    let tun = sim.client.tun().unwrap();
    let server6: Ipv6Addr = SERVER6.parse().unwrap();
    let (a6, len, peer6) = tun.ipv6.expect("ifconfig-ipv6 pushed");
    assert_eq!(
        (a6, len, peer6),
        ("fd00:8::2".parse().unwrap(), 64, server6),
        "neither the subnet-router anycast fd00:8:: nor our fd00:8::1"
    );
    assert_eq!(tun.address, Some("10.8.0.2".parse().unwrap()), "dual stack");
    assert!(
        tun.pushed
            .routes
            .iter()
            .any(|r| r.dst == "fd00:99::/64".parse::<ipnet::IpNet>().unwrap()),
        "{:?}",
        tun.pushed.routes
    );
    assert_eq!(
        tun.pushed.redirect_gateway.as_deref(),
        Some(&["ipv6".to_owned(), "!ipv4".to_owned()][..])
    );
    let session = &sim.server.sessions(sim.now)[0];
    assert_eq!(session.address_ipv6, Some(a6));
    assert_eq!(sim.server.route(IpAddr::V6(a6)), Some(session.peer));
    assert_eq!(
        sim.server.route_packet(&ip6_packet(server6, a6, 0)),
        Some(session.peer)
    );
    assert_eq!(sim.server.route("fd00:8::77".parse().unwrap()), None);
}

#[test]
fn ipv6_and_ipv4_pass_and_a_foreign_ipv6_source_is_dropped() {
    let seed = seed_from_env(72);
    let mut sim = v6_sim(seed, true);
    let server6: Ipv6Addr = SERVER6.parse().unwrap();
    let (a6, _, _) = sim.client.tun().unwrap().ipv6.unwrap();
    let peer = sim.server.sessions(sim.now)[0].peer;
    sim.client_send(&ip6_packet(a6, server6, 1)).unwrap();
    sim.client_send(&ip_packet([10, 8, 0, 2], [10, 8, 0, 1], 2, 60))
        .unwrap();
    sim.client_send(&ip6_packet("fd00:8::66".parse().unwrap(), server6, 3))
        .unwrap();
    sim.server_send(peer, &ip6_packet(server6, a6, 4)).unwrap();
    sim.advance(Duration::from_millis(200));
    let got: Vec<u8> = sim.server_tun.iter().map(|(_, p)| p[0] >> 4).collect();
    assert_eq!(
        got,
        [6, 4],
        "the IPv6 and the IPv4 packet, not the forged one"
    );
    assert!(
        sim.drops
            .iter()
            .any(|(side, e)| *side == "server" && *e == DropReason::SourceNotAllowed),
        "{:?}",
        sim.drops
    );
    assert_eq!(sim.client_tun.len(), 1);
    assert_eq!(sim.client_tun[0][0] >> 4, 6);
}

#[test]
fn the_ipv6_lease_is_given_back_and_a_login_without_a_pool_stays_ipv4() {
    let seed = seed_from_env(73);
    let mut sim = v6_sim(seed, true);
    let used = |sim: &Sim| {
        sim.server
            .shared()
            .view_ipv6(|p| p.stats("v6pool").unwrap().used)
    };
    assert_eq!(used(&sim), 3, "the client's, and the two the server holds");
    let peer = sim.server.sessions(sim.now)[0].peer;
    let now = sim.now;
    sim.server
        .disconnect(now, peer, ovpn_session::DisconnectReason::LocallyClosed)
        .unwrap();
    assert_eq!(used(&sim), 2);

    let plain = v6_sim(seed, false);
    let tun = plain.client.tun().unwrap();
    assert_eq!(tun.ipv6, None);
    assert_eq!(tun.pushed.ifconfig_ipv6, None);
    assert_eq!(
        tun.pushed.redirect_gateway, None,
        "no IPv6, no ipv6 default"
    );
    assert_eq!(plain.server.sessions(plain.now)[0].address_ipv6, None);
}

/// A secret's fixed `remote-ipv6-prefix` (a /64 delegated to the client: it gets the first
/// address, and the whole prefix is routed to it) and its `ipv6-routes`, which it may send
/// from and which route to it.
#[test]
fn a_fixed_prefix_and_ipv6_routes_belong_to_their_client() {
    let seed = seed_from_env(74);
    let shared = v6_shared(false);
    shared.change(|ppp, _| {
        ppp.set_secret(
            "client1",
            [
                ("remote-ipv6-prefix", "fd00:77::/64"),
                ("ipv6-routes", "fd00:88::/48"),
            ],
        )
        .unwrap()
    });
    let mut sim = v6_sim_over(seed, shared);
    let (a6, _, _) = sim.client.tun().unwrap().ipv6.unwrap();
    assert_eq!(a6, "fd00:77::1".parse::<Ipv6Addr>().unwrap());
    let peer = sim.server.sessions(sim.now)[0].peer;
    for inside in ["fd00:77::99", "fd00:88:0:5::1"] {
        assert_eq!(
            sim.server.route(inside.parse().unwrap()),
            Some(peer),
            "{inside}"
        );
    }
    let server6: Ipv6Addr = SERVER6.parse().unwrap();
    sim.client_send(&ip6_packet("fd00:88:0:5::1".parse().unwrap(), server6, 1))
        .unwrap();
    sim.client_send(&ip6_packet("fd00:89::1".parse().unwrap(), server6, 2))
        .unwrap();
    sim.advance(Duration::from_millis(200));
    assert_eq!(sim.server_tun.len(), 1, "from its ipv6-routes only");
}
