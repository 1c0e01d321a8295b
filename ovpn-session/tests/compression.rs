//! Compression framing without compression: a client configured with `compress` or `comp-lzo no`
//! gets a framing pushed that it understands, data and keepalive flow framed, and a peer that
//! really compresses is refused, naming the algorithm.

mod common;

use std::time::Duration;

use common::*;
use ovpn_session::sim::{LinkConfig, Sim, seed_from_env};
use ovpn_session::{DisconnectReason, Framing};

const LIMIT: Duration = Duration::from_secs(60);

fn framed_sim(seed: u64, framing: Framing, negotiate: bool) -> Sim {
    let mut c = client_config(seed);
    c.compression = framing;
    c.negotiate = negotiate;
    if !negotiate {
        c.cipher = ovpn_crypto::Cipher::Aes256Gcm;
    }
    let mut sim = sim(seed, server_config(seed), c, LinkConfig::default());
    assert!(sim.run_until(LIMIT, connected), "{}", sim.dump());
    sim
}

/// Data both ways; the server-to-client packet starts with `first` (0x50 is the byte v2 framing
/// escapes: it cannot start an IP packet, so it is sent only where a framing is agreed).
fn exchange(sim: &mut Sim, first: u8) {
    let own = sim.client.tun().unwrap().address.unwrap().octets();
    let up = ip_packet(own, [10, 8, 0, 1], 1, 120);
    sim.client_send(&up).unwrap();
    sim.advance(Duration::from_millis(50));
    let (peer, got) = sim
        .server_tun
        .pop_front()
        .expect("the packet reached the server");
    assert_eq!(got, up);
    let mut down = ip_packet([10, 8, 0, 1], own, 2, 120);
    down[0] = first;
    sim.server_send(peer, &down).unwrap();
    sim.advance(Duration::from_millis(50));
    assert_eq!(sim.client_tun.pop_front(), Some(down), "{}", sim.dump());
}

#[test]
fn a_client_with_compress_gets_stub_v2_pushed_and_traffic_flows() {
    let seed = seed_from_env(70);
    let mut sim = framed_sim(seed, Framing::Swap, true);
    let pushed = sim.client.tun().unwrap().pushed.compression.clone();
    assert_eq!(
        pushed.as_deref(),
        Some("compress stub-v2"),
        "2.6 says IV_COMP_STUBv2"
    );
    exchange(&mut sim, 0x50);
    // Keepalive pings are framed too: the session outlives several keepalive timeouts.
    sim.advance(Duration::from_secs(200));
    assert_eq!(server_end(&sim), None, "{}", sim.dump());
    exchange(&mut sim, 0x50);
}

#[test]
fn a_client_without_stub_v2_gets_comp_lzo_no() {
    let seed = seed_from_env(71);
    // No negotiation: a RouterOS-style peer-info, without IV_COMP_STUBv2.
    let mut sim = framed_sim(seed, Framing::Lzo, false);
    let pushed = sim.client.tun().unwrap().pushed.compression.clone();
    assert_eq!(pushed.as_deref(), Some("comp-lzo no"));
    exchange(&mut sim, 0x50);
    sim.advance(Duration::from_secs(200));
    assert_eq!(server_end(&sim), None, "{}", sim.dump());
}

#[test]
fn no_framing_is_pushed_to_a_client_that_has_none() {
    let seed = seed_from_env(72);
    let mut sim = framed_sim(seed, Framing::None, true);
    assert_eq!(sim.client.tun().unwrap().pushed.compression, None);
    exchange(&mut sim, 0x45);
}

#[test]
fn a_peer_that_really_compresses_is_refused_naming_the_algorithm() {
    let seed = seed_from_env(73);
    let mut sim = framed_sim(seed, Framing::None, true);
    // An LZ4 payload in v2 framing (0x50 0x01 ...), as a 2.6 with `compress lz4-v2` and
    // `allow-compression yes` sends when the data compresses.
    let mut compressed = vec![0x50, 0x01];
    compressed.extend_from_slice(&[0x1f; 60]);
    sim.client_send(&compressed).unwrap();
    assert!(
        sim.run_until(Duration::from_secs(5), |s| server_end(s).is_some()),
        "{}",
        sim.dump()
    );
    let reason = server_end(&sim).unwrap();
    assert_eq!(
        reason,
        DisconnectReason::Compressed("LZ4 (compress lz4-v2)".into())
    );
    assert!(reason.to_string().contains("compression is not supported"));
}
