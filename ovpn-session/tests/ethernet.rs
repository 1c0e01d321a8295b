//! Ethernet mode (`mode=ethernet`, TAP) on the simulated network: what is pushed, the server's
//! switch (MAC learning, flooding, client to client, ageing, stolen and excess addresses), frame
//! sizes, and a bridged client without an address.

mod common;

use std::time::Duration;

use common::*;
use ovpn_session::sim::{Crowd, LinkConfig, seed_from_env};
use ovpn_session::{
    Client, ClientConfig, EncapError, FrameRoute, Mode, Server, ServerConfig, Switching,
};

const A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];
const C: [u8; 6] = [2, 0, 0, 0, 0, 0xc];
const HOST: [u8; 6] = [2, 0, 0, 0, 0, 0x11];
const BCAST: [u8; 6] = [0xff; 6];

/// A frame `dst <- src` with a numbered payload of `len` bytes in all.
fn frame(dst: [u8; 6], src: [u8; 6], n: u8, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend(dst);
    f.extend(src);
    f.extend([0x88, 0xb5]); // the local experimental EtherType
    f.resize(len.max(15), 0);
    f[14] = n;
    f
}

fn tap_server(seed: u64) -> ServerConfig {
    let mut s = server_config(seed);
    s.mode = Mode::Ethernet;
    s
}

fn tap_client(seed: u64) -> ClientConfig {
    let mut c = client_config(seed);
    c.mode = Mode::Ethernet;
    c
}

fn tap_crowd(seed: u64, server: ServerConfig, n: u64) -> Crowd {
    tap_crowd_on(seed, server, n, LinkConfig::default())
}

fn tap_crowd_on(seed: u64, server: ServerConfig, n: u64, link: LinkConfig) -> Crowd {
    let epoch = start();
    let server = Server::new(server, shared(), epoch, unix_epoch()).unwrap();
    let clients = (0..n)
        .map(|i| Client::new(tap_client(seed + i), epoch, unix_epoch()).unwrap())
        .collect();
    let mut crowd = Crowd::new(seed, epoch, server, clients, link);
    assert!(
        crowd.run_until(Duration::from_secs(60), Crowd::all_connected),
        "{}",
        crowd.transcript()
    );
    crowd
}

/// Sends, lets the network deliver, and says who got frame number `n`: the interface, and which
/// clients.
fn deliveries(crowd: &mut Crowd, n: u8) -> (bool, Vec<usize>) {
    crowd.run_until(Duration::from_millis(200), |_| false);
    let interface = crowd
        .server_tun
        .drain(..)
        .any(|(_, f)| f.get(14) == Some(&n));
    let clients = (0..crowd.members.len())
        .filter(|&i| {
            let got = crowd.members[i].tun.iter().any(|f| f.get(14) == Some(&n));
            crowd.members[i].tun.clear();
            got
        })
        .collect();
    (interface, clients)
}

/// A TAP client gets `ifconfig ADDR NETMASK`, `route-gateway` and `topology subnet`, as 2.6's
/// `server-bridge` pushes them, and takes them as an address with a prefix on its interface.
#[test]
fn a_tap_client_gets_an_address_and_netmask() {
    let seed = seed_from_env(61);
    let crowd = tap_crowd(seed, tap_server(seed), 1);
    let tun = crowd.members[0].client.tun().unwrap();
    assert_eq!(tun.address, Some("10.8.0.2".parse().unwrap()));
    assert_eq!(tun.prefix_len, 24);
    assert_eq!(tun.peer, Some("10.8.0.1".parse().unwrap()), "route-gateway");
    assert_eq!(
        tun.pushed.ifconfig,
        Some((
            "10.8.0.2".parse().unwrap(),
            "255.255.255.0".parse().unwrap()
        ))
    );
}

/// The server is a learning switch: broadcast reaches every other client and the interface, a
/// reply goes to its client alone, the interface reaches a learned address directly and floods
/// an unknown one, and a session's end forgets its addresses.
#[test]
fn frames_are_switched_by_learned_mac_addresses() {
    let seed = seed_from_env(62);
    let mut crowd = tap_crowd(seed, tap_server(seed), 3);
    // A broadcast (an ARP request, say) from client 0.
    crowd.client_send(0, &frame(BCAST, A, 1, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![1, 2]));
    // Client 1 answers A: to client 0 alone.
    crowd.client_send(1, &frame(A, B, 2, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 2), (false, vec![0]));
    // The host reaches B (learned) directly, and floods what nobody has.
    crowd.interface_send(&frame(B, HOST, 3, 60));
    assert_eq!(deliveries(&mut crowd, 3), (false, vec![1]));
    crowd.interface_send(&frame(C, HOST, 4, 60));
    assert_eq!(deliveries(&mut crowd, 4), (false, vec![0, 1, 2]));
    // A frame from a client to an address nobody has goes to the interface.
    crowd.client_send(2, &frame(HOST, C, 5, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 5), (true, vec![]));
    // Multicast floods like broadcast.
    let mut mcast = BCAST;
    mcast[..3].copy_from_slice(&[0x01, 0x00, 0x5e]);
    crowd.interface_send(&frame(mcast, HOST, 6, 60));
    assert_eq!(deliveries(&mut crowd, 6), (false, vec![0, 1, 2]));
    // A frame to the sender's own address goes nowhere.
    let peer0 = crowd.members[0].client.tun().map(|_| ()).and(
        crowd
            .server
            .sessions(crowd.now)
            .into_iter()
            .find(|s| s.remote == crowd.members[0].addr)
            .map(|s| s.peer),
    );
    let peer0 = peer0.unwrap();
    assert_eq!(
        crowd
            .server
            .route_frame(crowd.now, Some(peer0), &frame(A, A, 7, 60)),
        FrameRoute::Drop
    );
    assert_eq!(
        crowd.server.route_frame(crowd.now, None, &[0; 13]),
        FrameRoute::Drop
    );
    // Client 0 leaves: A is forgotten, and the interface floods it again.
    let now = crowd.now;
    crowd
        .server
        .disconnect(now, peer0, ovpn_session::DisconnectReason::LocallyClosed)
        .unwrap();
    assert_eq!(
        crowd
            .server
            .route_frame(crowd.now, None, &frame(A, HOST, 8, 60)),
        FrameRoute::Flood { interface: false }
    );
}

/// A client cannot take over an address another live session has, nor learn more than
/// `max_macs_per_client`; an address that aged out moves.
#[test]
fn stolen_and_excess_addresses_are_refused() {
    let seed = seed_from_env(63);
    let mut s = tap_server(seed);
    s.max_macs_per_client = 2;
    // (Each delivery below may take the simulation to the next keepalive, 10 s on.)
    s.mac_ageing = Duration::from_secs(200);
    let mut crowd = tap_crowd(seed, s, 2);
    crowd.client_send(0, &frame(BCAST, A, 1, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![1]));
    // Client 1 claims A: dropped, and A stays with client 0.
    crowd.client_send(1, &frame(BCAST, A, 2, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 2), (false, vec![]));
    crowd.interface_send(&frame(A, HOST, 3, 60));
    assert_eq!(deliveries(&mut crowd, 3), (false, vec![0]));
    // Client 0 has room for one more address, not two.
    crowd.client_send(0, &frame(BCAST, B, 4, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 4), (true, vec![1]));
    crowd.client_send(0, &frame(BCAST, C, 5, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 5), (false, vec![]));
    // Once A has aged out (nothing from it for 200 s), client 1 may have it.
    crowd.run_until(Duration::from_secs(201), |_| false);
    for m in &mut crowd.members {
        m.tun.clear();
    }
    crowd.server_tun.clear();
    crowd.client_send(1, &frame(BCAST, A, 6, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 6), (true, vec![0]));
    crowd.interface_send(&frame(A, HOST, 7, 60));
    assert_eq!(deliveries(&mut crowd, 7), (false, vec![1]));
}

/// Hostile frames: too short for an Ethernet header, or from a group or zero address.
#[test]
fn malformed_frames_are_dropped_with_a_reason() {
    let seed = seed_from_env(64);
    let mut crowd = tap_crowd(seed, tap_server(seed), 1);
    for (n, f) in [
        (1u8, frame(BCAST, BCAST, 1, 60)),
        (2, frame(BCAST, [0; 6], 2, 60)),
    ] {
        crowd.client_send(0, &f).unwrap();
        assert_eq!(deliveries(&mut crowd, n), (false, vec![]));
    }
    crowd.client_send(0, &[0xff; 10]).unwrap();
    crowd.run_until(Duration::from_millis(200), |_| false);
    assert!(crowd.server_tun.is_empty());
    let drops = crowd
        .trace
        .iter()
        .filter(|l| l.what.contains("not a valid Ethernet frame"))
        .count();
    assert_eq!(drops, 3, "{}", crowd.transcript());
}

/// Without switching (every client on its own interface, bridged by the host), a client's
/// frames all go to the interface, and the interface's to every client.
#[test]
fn switching_off_leaves_it_to_the_host() {
    let seed = seed_from_env(65);
    let mut s = tap_server(seed);
    s.switching = Switching::Off;
    let mut crowd = tap_crowd(seed, s, 2);
    crowd.client_send(0, &frame(BCAST, A, 1, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![]));
    crowd.interface_send(&frame(A, HOST, 2, 60));
    assert_eq!(deliveries(&mut crowd, 2), (false, vec![0, 1]));
}

/// `via-interface`: learning for the interface's frames, but no client to client.
#[test]
fn via_interface_learns_but_does_not_forward_between_clients() {
    let seed = seed_from_env(66);
    let mut s = tap_server(seed);
    s.switching = Switching::ViaInterface;
    let mut crowd = tap_crowd(seed, s, 2);
    crowd.client_send(0, &frame(BCAST, A, 1, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![]));
    crowd.interface_send(&frame(A, HOST, 2, 60));
    assert_eq!(deliveries(&mut crowd, 2), (false, vec![0]));
}

/// A 1500-byte inner MTU carries full 1514-byte frames (and VLAN-tagged ones) both ways; what
/// exceeds OpenVPN's TAP allowance is refused before it is sealed.
#[test]
fn full_size_frames_pass_at_a_1500_byte_mtu() {
    let seed = seed_from_env(67);
    let mut s = tap_server(seed);
    s.max_mtu = 1500;
    // The outer datagrams exceed 1500 bytes: the host's IP layer fragments them, as for
    // OpenVPN's own TAP tunnels at this MTU.
    let link = LinkConfig {
        mtu: 9000,
        ..LinkConfig::default()
    };
    let mut crowd = tap_crowd_on(seed, s, 1, link);
    crowd.client_send(0, &frame(HOST, A, 1, 1514)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![]));
    crowd.client_send(0, &frame(HOST, A, 2, 1518)).unwrap();
    assert_eq!(deliveries(&mut crowd, 2), (true, vec![]));
    crowd.interface_send(&frame(A, HOST, 3, 1514));
    assert_eq!(deliveries(&mut crowd, 3), (false, vec![0]));
    assert_eq!(
        crowd.client_send(0, &frame(HOST, A, 4, 1533)),
        Err(EncapError::PacketTooLarge {
            len: 1533,
            mtu: 1532
        })
    );
}

/// A bridged profile without a remote-address: the client logs in, nothing is pushed for its
/// interface, and frames still pass.
#[test]
fn a_bridged_client_without_an_address_logs_in() {
    let seed = seed_from_env(68);
    let epoch = start();
    let shared = shared();
    shared.change(|ppp, _| {
        ppp.add_profile_text("name=bridged bridge=br-lan").unwrap();
        ppp.set_secret("client1", [("profile", "bridged")]).unwrap();
    });
    let server = Server::new(tap_server(seed), shared, epoch, unix_epoch()).unwrap();
    let client = Client::new(tap_client(seed), epoch, unix_epoch()).unwrap();
    let mut crowd = Crowd::new(seed, epoch, server, vec![client], LinkConfig::default());
    assert!(
        crowd.run_until(Duration::from_secs(60), Crowd::all_connected),
        "{}",
        crowd.transcript()
    );
    let tun = crowd.members[0].client.tun().unwrap();
    assert_eq!(tun.address, None);
    assert_eq!(tun.pushed.ifconfig, None);
    let session = &crowd.server.sessions(crowd.now)[0];
    assert_eq!(session.address, None);
    crowd.client_send(0, &frame(BCAST, A, 1, 60)).unwrap();
    assert_eq!(deliveries(&mut crowd, 1), (true, vec![]));
}
