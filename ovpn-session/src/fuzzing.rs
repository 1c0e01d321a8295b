//! Fuzz entry points (not a stable API). Built with the `sim` feature; the fuzz targets in `fuzz/`
//! and this crate's tests call them.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::random::SeededRandom;
use crate::sim::{LinkConfig, Sim};
use crate::tls_config::Identity;
use crate::{Client, ClientConfig, ClientState, Server, ServerConfig};

// The committed test PKI (testdata/pki): test keys only.
const CA: &[u8] = include_bytes!("../../testdata/pki/ca.crt");
const SERVER_CRT: &[u8] = include_bytes!("../../testdata/pki/server.crt");
const SERVER_KEY: &[u8] = include_bytes!("../../testdata/pki/server.key");
const CLIENT_CRT: &[u8] = include_bytes!("../../testdata/pki/client1.crt");
const CLIENT_KEY: &[u8] = include_bytes!("../../testdata/pki/client1.key");

fn identity(crt: &[u8], key: &[u8]) -> Option<Identity> {
    Some(Identity {
        chain: vec![CertificateDer::from_pem_slice(crt).ok()?],
        key: PrivateKeyDer::from_pem_slice(key).ok()?,
    })
}

/// The fixture's server and client configurations in `mode`, its tables, and its start.
struct Fixture {
    server: ServerConfig,
    shared: crate::Shared,
    client: ClientConfig,
    epoch: Instant,
    unix: SystemTime,
}

fn fixture(mode: crate::Mode) -> Option<Fixture> {
    let ca = CertificateDer::from_pem_slice(CA).ok()?;
    let mut ppp = ovpn_ppp::PppConfig::new();
    ppp.add_profile_text("name=p local-address=10.8.0.1 remote-address=pool")
        .ok()?;
    ppp.add_secret_text("name=client1 password=pw profile=p service=ovpn")
        .ok()?;
    let mut pools = ovpn_pool::PoolSet::new(ovpn_pool::Family::Ipv4);
    pools
        .add(ovpn_pool::Pool::ipv4("pool", "10.8.0.2-10.8.0.254".parse().ok()?).ok()?)
        .ok()?;
    let mut sc = ServerConfig::new(identity(SERVER_CRT, SERVER_KEY)?);
    sc.client_check = Some(Arc::new(
        ovpn_pki::PeerVerifier::new(std::slice::from_ref(&ca), ovpn_pki::PeerRole::TlsClient)
            .ok()?,
    ));
    sc.random = Arc::new(SeededRandom::new(1));
    sc.mode = mode;
    let mut cc = ClientConfig::new(
        "ovpn-out1",
        crate::sim::SERVER_ADDR.parse().ok()?,
        "client1",
        "pw",
        Arc::new(ovpn_pki::PeerVerifier::new(&[ca], ovpn_pki::PeerRole::TlsServer).ok()?),
    );
    cc.identity = identity(CLIENT_CRT, CLIENT_KEY);
    cc.random = Arc::new(SeededRandom::new(2));
    cc.mode = mode;
    #[expect(
        clippy::disallowed_methods,
        reason = "the simulation needs one Instant to start from"
    )]
    let epoch = Instant::now();
    let unix = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_737_600);
    Some(Fixture {
        server: sc,
        shared: crate::Shared::new(ppp, pools),
        client: cc,
        epoch,
        unix,
    })
}

/// A server with one client connected through it, on the simulated network (over UDP, or
/// over TCP when `tcp`).
fn connected_sim(tcp: bool) -> Option<Sim> {
    let mut f = fixture(crate::Mode::Ip)?;
    if tcp {
        f.server.transport = crate::Transport::Tcp;
        f.client.transport = crate::Transport::Tcp;
    }
    let server = Server::new(f.server, f.shared, f.epoch, f.unix).ok()?;
    let client = Client::new(f.client, f.epoch, f.unix).ok()?;
    let mut sim = Sim::new(1, f.epoch, client, server, LinkConfig::default());
    let up = sim.run_until(Duration::from_secs(60), |s| {
        s.client.state() == &ClientState::Connected
    });
    up.then_some(sim)
}

thread_local! {
    static SIM: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

/// Arbitrary datagrams into a server that has a live session: nothing may panic, and the live
/// session must still carry data both ways afterwards.
///
/// Input: a sequence of records `[flags u8][len u8][len bytes]`; flag bit 0 sends from the live
/// client's address (else from another), bits 1..=3 advance time by that many 100 ms first.
pub fn server_input(data: &[u8]) {
    SIM.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = connected_sim(false);
        }
        let Some(sim) = slot.as_mut() else {
            panic!("the fuzz fixture could not connect");
        };
        let other: SocketAddr = SocketAddr::from(([198, 51, 100, 7], 5555));
        let mut rest = data;
        while let [flags, len, tail @ ..] = rest {
            let n = usize::from(*len).min(tail.len());
            let (dgram, next) = tail.split_at(n);
            rest = next;
            sim.advance(Duration::from_millis(100 * u64::from((flags >> 1) & 7)));
            let from = if flags & 1 == 1 {
                sim.client_addr
            } else {
                other
            };
            let mut d = dgram.to_vec();
            let now = sim.now;
            let _ = sim.server.handle_datagram(now, from, &mut d);
        }
        // The live session is undisturbed: a packet each way still arrives.
        probe_live_session(sim);
    });
}

thread_local! {
    static TCP_SIM: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

/// Arbitrary byte streams on other TCP connections of a server that has a live TCP session:
/// nothing may panic, the connections stay within the server's limits, and the live session
/// still carries data both ways afterwards.
///
/// Input: records `[flags u8][len u8][len bytes]`: flag bits 0..=1 pick one of four other
/// connections (opened as the record first names it), bit 2 closes it after the bytes, bits
/// 3..=5 advance time by that many seconds first.
pub fn server_stream(data: &[u8]) {
    TCP_SIM.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = connected_sim(true);
        }
        let Some(sim) = slot.as_mut() else {
            panic!("the fuzz fixture could not connect");
        };
        let mut rest = data;
        let mut open = [false; 4];
        while let [flags, len, tail @ ..] = rest {
            let n = usize::from(*len).min(tail.len());
            let (bytes, next) = tail.split_at(n);
            rest = next;
            sim.advance(Duration::from_secs(u64::from((flags >> 3) & 7)));
            let which = usize::from(flags & 3);
            let from = SocketAddr::from(([198, 51, 100, 1 + which as u8], 6000));
            let now = sim.now;
            if !open[which] {
                open[which] = sim.server.connection_opened(now, from).is_ok();
            }
            let mut b = bytes.to_vec();
            let mut stream = sim.server.handle_stream(now, from, &mut b);
            while stream.next().is_some() {}
            drop(stream);
            if flags & 4 != 0 {
                sim.server.connection_closed(now, from);
                open[which] = false;
            }
            let limits = sim.server.config().tcp_limits;
            assert!(sim.server.connections() <= limits.max_total + 1);
        }
        for (which, o) in open.iter().enumerate() {
            if *o {
                let from = SocketAddr::from(([198, 51, 100, 1 + which as u8], 6000));
                sim.server.connection_closed(sim.now, from);
            }
        }
        probe_live_session(sim);
    });
}

/// A packet each way through the fixture's live session must arrive. The fixture lives across
/// inputs: its trace and drops are cleared, so they do not grow without bound.
fn probe_live_session(sim: &mut Sim) {
    sim.client_tun.clear();
    sim.server_tun.clear();
    let peer = sim
        .server
        .sessions(sim.now)
        .into_iter()
        .find(|s| s.connected && s.remote == sim.client_addr)
        .map(|s| s.peer);
    let Some(peer) = peer else {
        panic!("the live session is gone\n{}", sim.dump());
    };
    let mut probe = [0x45u8; 40];
    if let Some(a) = sim.client.tun().and_then(|t| t.address) {
        probe[12..16].copy_from_slice(&a.octets());
    }
    assert!(sim.client_send(&probe).is_ok(), "client cannot send");
    assert!(sim.server_send(peer, &probe).is_ok(), "server cannot send");
    sim.advance(Duration::from_millis(50));
    assert_eq!(
        sim.server_tun.len(),
        1,
        "server lost the probe\n{}",
        sim.dump()
    );
    assert_eq!(
        sim.client_tun.len(),
        1,
        "client lost the probe\n{}",
        sim.dump()
    );
    sim.trace.clear();
    sim.drops.clear();
}

/// The stateless session start (UDP): a reset is answered with a cookie, and a third packet
/// built from the input makes a session exactly when it echoes that cookie unchanged, within
/// its window, acknowledging only messages 0 and 1 and being message 0 or 1 itself
/// (CVE-2025-13086: a wrong cookie must never pass). Raw datagrams from unknown addresses never
/// make a session.
///
/// Input: `[op u8][n_acks u8][acks u32 x n][msg_id u32][mask 8][secs u8][raw...]`.
pub fn cookie_start(data: &[u8]) {
    use ovpn_wire::{AckList, ControlPacket, KeyId, Opcode, SessionId};
    let Some(f) = fixture(crate::Mode::Ip) else {
        panic!("no fixture");
    };
    let Ok(mut server) = Server::new(f.server, f.shared, f.epoch, f.unix) else {
        panic!("no server");
    };
    let from = SocketAddr::from(([192, 0, 2, 9], 40_000));
    let client_sid = SessionId([7; 8]);
    let mut reset = [0u8; 14];
    reset[0] = 0x38;
    reset[1..9].copy_from_slice(&client_sid.0);
    let now = f.epoch;
    if server.handle_datagram(now, from, &mut reset).is_err() {
        panic!("the reset was not answered");
    }
    let mut buf = Vec::new();
    let Some(t) = server.poll_transmit(now, &mut buf) else {
        panic!("no answer");
    };
    let Ok(answer) = ControlPacket::parse(&buf[..t.len]) else {
        panic!("the answer does not parse");
    };
    let cookie = answer.session_id;
    let mut r = data;
    let mut take = |n: usize| -> Option<Vec<u8>> {
        let (h, t) = r.split_at_checked(n)?;
        r = t;
        Some(h.to_vec())
    };
    let third = (|| {
        let op = take(1)?[0];
        let n = usize::from(take(1)?[0] % 9);
        let mut acks = Vec::new();
        for _ in 0..n {
            acks.push(u32::from_be_bytes(take(4)?.try_into().ok()?));
        }
        let msg_id = u32::from_be_bytes(take(4)?.try_into().ok()?);
        let mask: [u8; 8] = take(8)?.try_into().ok()?;
        let secs = take(1)?[0];
        Some((op, acks, msg_id, mask, secs))
    })();
    if let Some((op, acks, msg_id, mask, secs)) = third {
        let opcode = [Opcode::AckV1, Opcode::ControlV1, Opcode::SoftResetV1][usize::from(op % 3)];
        let mut echoed = cookie;
        for (c, m) in echoed.0.iter_mut().zip(mask) {
            *c ^= m;
        }
        let list = AckList::from_slice(&acks).unwrap_or_default();
        let pkt = if opcode == Opcode::AckV1 {
            ControlPacket::ack(KeyId::ZERO, client_sid, list, echoed)
        } else {
            ControlPacket::new(opcode, KeyId::ZERO, client_sid, msg_id, b"").with_acks(list, echoed)
        };
        let mut p = vec![0u8; pkt.encoded_len()];
        if let Ok(n) = pkt.write(&mut p) {
            p.truncate(n);
            // Up to 255 s later; the cookie's slot began at most 30 s before `now`.
            let later = now + Duration::from_secs(u64::from(secs));
            let made = server.handle_datagram(later, from, &mut p).is_ok()
                && !server.sessions(later).is_empty();
            let valid = mask == [0; 8]
                && !list.is_empty()
                && list.as_slice().iter().all(|&a| a <= 1)
                && (opcode == Opcode::AckV1 || msg_id <= 1)
                && opcode != Opcode::SoftResetV1;
            if made {
                assert!(valid && secs < 90, "a session from an invalid third packet");
            }
            if valid && secs < 60 {
                assert!(made, "a valid third packet within 60 s was refused");
            }
        }
    }
    // Whatever is left, as raw datagrams from an unknown address: never a session.
    let other = SocketAddr::from(([198, 51, 100, 9], 1));
    let before = server.sessions(now).len();
    for chunk in r.chunks(64) {
        let mut d = chunk.to_vec();
        let _ = server.handle_datagram(now, other, &mut d);
    }
    assert!(server.sessions(now).iter().all(|s| s.remote != other));
    assert!(server.sessions(now).len() <= before);
}

/// tls-crypt-v2 session starts: a valid `P_CONTROL_HARD_RESET_CLIENT_V3` (early negotiation,
/// WKc appended) XORed with the input is answered exactly when the mask is all zero, and never
/// makes a session (the start is stateless); the rest of the input, sent as V3 resets and
/// `P_CONTROL_WKC_V1` packets from another address (raw, and with the valid WKc appended),
/// is never answered and never makes a session.
///
/// Input: `[mask: as long as the reset][raw...]`.
pub fn wkc_start(data: &[u8]) {
    let Some(mut f) = fixture(crate::Mode::Ip) else {
        panic!("no fixture");
    };
    let Ok(key) = ovpn_crypto::TlsCryptV2ServerKey::from_bytes(&[0x5a; 128]) else {
        panic!("no server key");
    };
    let Ok(client_key) = key.make_client_key(
        [0x3c; 256],
        &ovpn_crypto::Metadata::timestamp_of(1_795_000_000),
    ) else {
        panic!("no client key");
    };
    f.server.tls_crypt_v2 = Some(crate::TlsCryptV2Server::new(key));
    f.client.protection = crate::ControlProtection::TlsCryptV2 {
        key: client_key.clone(),
    };
    let Ok(mut server) = Server::new(f.server, f.shared, f.epoch, f.unix) else {
        panic!("no server");
    };
    let Ok(mut client) = Client::new(f.client, f.epoch, f.unix) else {
        panic!("no client");
    };
    let now = f.epoch;
    let mut buf = Vec::new();
    let Some(t) = client.poll_transmit(now, &mut buf) else {
        panic!("no reset");
    };
    let mut reset = buf[..t.len].to_vec();
    let n = reset.len().min(data.len());
    let (mask, rest) = data.split_at(n);
    for (b, m) in reset.iter_mut().zip(mask) {
        *b ^= m;
    }
    let from = SocketAddr::from(([192, 0, 2, 9], 40_000));
    let r = server.handle_datagram(now, from, &mut reset);
    let answered = server.poll_transmit(now, &mut buf).is_some();
    let clean = mask.iter().all(|m| *m == 0);
    assert_eq!(
        answered, clean,
        "answered {answered} for mask zero {clean}: {r:?}"
    );
    assert!(server.sessions(now).is_empty(), "a reset made a session");
    // Hostile V3 and WKC_V1 packets from another address.
    let other = SocketAddr::from(([198, 51, 100, 9], 1));
    for (i, chunk) in rest.chunks(96).enumerate() {
        let mut d = chunk.to_vec();
        if let Some(op) = d.first_mut() {
            *op = if i % 2 == 0 { 0x50 } else { 0x58 };
        }
        if i % 4 >= 2 {
            d.extend_from_slice(client_key.wkc());
        }
        let _ = server.handle_datagram(now, other, &mut d);
        assert!(
            server.poll_transmit(now, &mut buf).is_none(),
            "a hostile packet was answered"
        );
    }
    assert!(server.sessions(now).is_empty());
}

thread_local! {
    static CROWD: RefCell<Option<crate::sim::Crowd>> = const { RefCell::new(None) };
}

/// Two clients of an ethernet-mode server with one shared interface (the server switches).
fn ethernet_crowd() -> Option<crate::sim::Crowd> {
    let f = fixture(crate::Mode::Ethernet)?;
    let server = Server::new(f.server, f.shared, f.epoch, f.unix).ok()?;
    let clients = [1u64, 2]
        .iter()
        .map(|seed| {
            let mut c = f.client.clone();
            c.random = Arc::new(SeededRandom::new(*seed + 10));
            Client::new(c, f.epoch, f.unix).ok()
        })
        .collect::<Option<Vec<_>>>()?;
    let mut crowd = crate::sim::Crowd::new(1, f.epoch, server, clients, LinkConfig::default());
    crowd
        .run_until(Duration::from_secs(60), crate::sim::Crowd::all_connected)
        .then_some(crowd)
}

/// Arbitrary frames into an ethernet-mode server's switch, from its clients and from its
/// interface: nothing may panic, and both sessions stay up.
///
/// Input: records `[flags u8][len u8][len bytes]`; flag bit 0 sends from the interface, else
/// bit 1 picks the client.
pub fn ethernet_frames(data: &[u8]) {
    CROWD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = ethernet_crowd();
        }
        let Some(crowd) = slot.as_mut() else {
            panic!("the fuzz fixture could not connect");
        };
        let mut rest = data;
        while let [flags, len, tail @ ..] = rest {
            let n = usize::from(*len).min(tail.len());
            let (frame, next) = tail.split_at(n);
            rest = next;
            if flags & 1 == 1 {
                crowd.interface_send(frame);
            } else {
                let _ = crowd.client_send(usize::from(flags >> 1 & 1), frame);
            }
        }
        crowd.run_until(Duration::from_millis(100), |_| false);
        crowd.server_tun.clear();
        for m in &mut crowd.members {
            m.tun.clear();
        }
        assert!(crowd.all_connected(), "{}", crowd.transcript());
        // The fixture lives across inputs: its trace must not grow without bound.
        crowd.trace.clear();
    });
}

/// The parsers of what travels inside the TLS tunnel (key-method-2 records, control messages,
/// PUSH_REPLY options, peer-info, options strings): arbitrary bytes never panic, and whatever parses
/// writes back to something that parses the same.
pub fn session_text(data: &[u8]) {
    use crate::km2::{KeyMethod2, Parsed};
    for from_client in [true, false] {
        if let Ok(Parsed::Complete(m, used)) = KeyMethod2::parse(data, from_client) {
            assert!(used <= data.len());
            let mut out = Vec::new();
            if m.write(&mut out).is_ok() {
                match KeyMethod2::parse(&out, from_client) {
                    Ok(Parsed::Complete(back, _)) => assert_eq!(back, m),
                    other => panic!("a written record did not parse back: {other:?}"),
                }
            }
        }
    }
    let mut splitter = crate::control::MessageSplitter::default();
    splitter.push(data);
    while let Some(m) = splitter.next_message() {
        let msg = crate::control::ControlMessage::parse(&m);
        if let crate::control::ControlMessage::PushReply(opts) = msg {
            let mut p = crate::push::PushOptions::default();
            if p.merge(&opts).is_ok() {
                let mut back = crate::push::PushOptions::default();
                assert!(back.merge(&p.to_items().join(",")).is_ok());
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let info = crate::peer_info::PeerInfo::parse(&text);
    let _ = info.ncp_ciphers();
    let _ = crate::peer_info::occ_option(&text, "cipher");
}

/// Makes `client` a peer that completes TLS but never sends its key-method-2 record, in this
/// attempt and every later one: the half-done login of the hardening tests.
pub fn hold_key_method(client: &mut Client) {
    client.hold_key_method = true;
    if let Some(ch) = client.channel.as_mut() {
        ch.local.hold_key_method = true;
    }
}

/// Makes a tls-crypt-v2 `client` that has not sent anything yet start like one before OpenVPN
/// 2.6 (no early negotiation: its reset's packet id is 1), for this attempt.
pub fn without_early_negotiation(client: &mut Client) {
    if let Some(ch) = client.channel.as_mut() {
        ch.restart_wrap_counter();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_input_survives_garbage_and_replays() {
        super::server_input(&[]);
        super::server_input(&[1, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0]);
        super::server_input(&[0, 5, 0x48, 0, 0, 0, 1, 3, 4, 0x30, 1, 2, 3]);
        super::server_input(&[7, 200]);
        let noise: Vec<u8> = (0..2000u32).map(|i| (i * 7 + 3) as u8).collect();
        super::server_input(&noise);
    }

    #[test]
    fn server_stream_survives_hostile_connections() {
        super::server_stream(&[]);
        // A zero prefix, half a prefix left for 40 s, a reset byte by byte, then noise.
        super::server_stream(&[0, 4, 0, 0, 1, 2]);
        super::server_stream(&[1, 1, 0, (5 << 3) | 1, 0]);
        let mut dribble = Vec::new();
        for b in [0u8, 14, 0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0] {
            dribble.extend([2 | (1 << 3), 1, b]);
        }
        super::server_stream(&dribble);
        let noise: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
        super::server_stream(&noise);
    }

    #[test]
    fn cookie_start_accepts_only_the_echoed_cookie() {
        // A valid P_ACK_V1 (ack 0, no mask, now), then the same with one bit of the cookie
        // flipped, then message 2, then 95 s late.
        let valid = [0u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        super::cookie_start(&valid);
        let mut flipped = valid;
        flipped[10] = 0x80;
        super::cookie_start(&flipped);
        super::cookie_start(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut late = valid;
        late[18] = 95;
        super::cookie_start(&late);
        super::cookie_start(&[]);
        let noise: Vec<u8> = (0..500u32).map(|i| (i * 31 + 7) as u8).collect();
        super::cookie_start(&noise);
    }

    #[test]
    fn wkc_start_oracle_holds() {
        super::wkc_start(&[]);
        super::wkc_start(&[0; 700]);
        let mut m = vec![0u8; 700];
        m[3] = 1;
        super::wkc_start(&m);
        let noise: Vec<u8> = (0..3000u32).map(|i| (i * 29 + 3) as u8).collect();
        super::wkc_start(&noise);
    }

    #[test]
    fn ethernet_frames_survive_garbage() {
        super::ethernet_frames(&[]);
        // A broadcast from each side, a runt, a group source, then noise.
        let mut f = vec![0u8, 20];
        f.extend([0xff; 6]);
        f.extend([2, 0, 0, 0, 0, 1, 0x88, 0xb5, 0, 0, 0, 0, 0, 0]);
        f.extend([1, 3, 1, 2, 3, 2, 14]);
        f.extend([0xff; 14]);
        super::ethernet_frames(&f);
        let noise: Vec<u8> = (0..3000u32).map(|i| (i * 11 + 1) as u8).collect();
        super::ethernet_frames(&noise);
    }

    #[test]
    fn session_text_survives_garbage_and_real_messages() {
        super::session_text(b"");
        super::session_text(
            b"PUSH_REPLY,route 10.8.0.1,topology net30,ping 10,ifconfig 10.8.0.6 10.8.0.5\0",
        );
        super::session_text(b"IV_VER=2.6.14\nIV_PROTO=990\nIV_CIPHERS=AES-256-GCM\n");
        let noise: Vec<u8> = (0..3000u32).map(|i| (i * 13 + 5) as u8).collect();
        super::session_text(&noise);
        super::session_text(&[0, 0, 0, 0, 2, 0, 0]);
    }
}
