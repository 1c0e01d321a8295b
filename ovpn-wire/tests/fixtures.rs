//! Packets captured from the real OpenVPN 2.6 (by `testdata/wire/capture.sh`) parse to the
//! expected fields and write back to the same bytes.

use std::collections::BTreeSet;

use ovpn_wire::{
    ControlPacket, ControlProtection, Decoded, KeyId, Opcode, Packet, PacketId, PeerId, SessionId,
    TcpFrameDecoder, TlsCryptPacket, tcp_prefix,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    C2s,
    S2c,
}

struct Fixture {
    name: &'static str,
    protection: ControlProtection,
    tcp: bool,
    /// (direction, bytes, comment) per line: a datagram, or a TCP segment payload.
    lines: Vec<(Dir, Vec<u8>, String)>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn load(name: &'static str, text: &str) -> Fixture {
    let mut protection = None;
    let mut tcp = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(p) = comment.strip_prefix("protection:") {
                protection = Some(match p.trim() {
                    "none" => ControlProtection::None,
                    "tls-crypt" => ControlProtection::TlsCrypt,
                    other => ControlProtection::TlsAuth {
                        hmac_len: other
                            .strip_prefix("tls-auth:")
                            .and_then(|n| n.parse().ok())
                            .expect("tls-auth:N"),
                    },
                });
            }
            if let Some(t) = comment.strip_prefix("transport:") {
                tcp = Some(t.trim() == "tcp");
            }
            continue;
        }
        let (data, comment) = line.split_once('#').unwrap_or((line, ""));
        let mut words = data.split_whitespace();
        let dir = match words.next() {
            Some("c2s") => Dir::C2s,
            Some("s2c") => Dir::S2c,
            None => continue,
            Some(other) => panic!("{name}: bad direction {other}"),
        };
        lines.push((
            dir,
            hex(words.next().expect("hex")),
            comment.trim().to_owned(),
        ));
    }
    Fixture {
        name,
        protection: protection.expect("protection header"),
        tcp: tcp.expect("transport header"),
        lines,
    }
}

macro_rules! fixture {
    ($name:literal) => {
        load(
            $name,
            include_str!(concat!("../../testdata/wire/", $name, ".hex")),
        )
    };
}

fn all() -> Vec<Fixture> {
    vec![
        fixture!("udp-plain"),
        fixture!("udp-tls-auth"),
        fixture!("udp-tls-crypt"),
        fixture!("udp-tls-crypt-v2"),
        fixture!("tcp-plain"),
        fixture!("tcp-tls-auth"),
    ]
}

/// The OpenVPN packets of a fixture in capture order: the lines themselves for UDP, the
/// deframed packets of each direction's stream for TCP.
fn packets(fx: &Fixture) -> Vec<(Dir, Vec<u8>)> {
    if !fx.tcp {
        return fx.lines.iter().map(|(d, b, _)| (*d, b.clone())).collect();
    }
    let mut c2s = TcpFrameDecoder::new();
    let mut s2c = TcpFrameDecoder::new();
    let mut out = Vec::new();
    for (dir, segment, _) in &fx.lines {
        let decoder = if *dir == Dir::C2s { &mut c2s } else { &mut s2c };
        let mut input = &segment[..];
        while let Decoded::Frame { frame, consumed } = decoder.decode(input).unwrap() {
            out.push((*dir, frame.to_vec()));
            input = &input[consumed..];
        }
    }
    assert_eq!(
        c2s.buffered(),
        0,
        "{}: c2s stream ends inside a frame",
        fx.name
    );
    assert_eq!(
        s2c.buffered(),
        0,
        "{}: s2c stream ends inside a frame",
        fx.name
    );
    out
}

/// The in-clear body of a control packet: acks, remote session id, message id, payload.
type Body = (Vec<PacketId>, Option<SessionId>, Option<PacketId>, Vec<u8>);

/// What the checks below need from a control packet, whatever its protection.
#[derive(Debug)]
struct Seen {
    dir: Dir,
    opcode: Opcode,
    key_id: KeyId,
    session_id: SessionId,
    /// Present when the body is in clear (plain and tls-auth).
    control: Option<Body>,
    /// tls-auth / tls-crypt replay id.
    replay_id: Option<PacketId>,
    wkc: Option<Vec<u8>>,
}

fn control_fields(c: &ControlPacket<'_>) -> Body {
    (
        c.acks.to_vec(),
        c.remote_session_id,
        c.message_id,
        c.payload.to_vec(),
    )
}

#[test]
fn every_fixture_packet_parses_and_writes_back_identically() {
    for fx in all() {
        for (i, (dir, bytes)) in packets(&fx).iter().enumerate() {
            let packet = Packet::parse(bytes, fx.protection)
                .unwrap_or_else(|e| panic!("{} packet {i} ({dir:?}): {e}", fx.name));
            let mut out = vec![0u8; packet.encoded_len()];
            let n = packet.write(&mut out).unwrap();
            assert_eq!(
                &out[..n],
                &bytes[..],
                "{} packet {i}: rewrite differs",
                fx.name
            );
            if let Packet::TlsAuth(auth) = packet {
                let control = auth.control().unwrap();
                let mut out = vec![0u8; bytes.len()];
                let n = control
                    .write_tls_auth(auth.hmac, auth.replay_id, auth.time, &mut out)
                    .unwrap();
                assert_eq!(
                    &out[..n],
                    &bytes[..],
                    "{} packet {i}: tls-auth rewrite",
                    fx.name
                );
            }
        }
    }
}

#[test]
fn udp_comments_name_the_opcode_and_key_id() {
    for fx in all().into_iter().filter(|f| !f.tcp) {
        for (_, bytes, comment) in &fx.lines {
            let (opcode, key_id) = ovpn_wire::peek(bytes).unwrap();
            assert_eq!(comment, &format!("{opcode} kid {key_id}"), "{}", fx.name);
        }
    }
}

#[test]
fn tcp_streams_reframe_identically_and_decode_the_same_for_every_cut() {
    for fx in all().into_iter().filter(|f| f.tcp) {
        let packets = packets(&fx);
        for dir in [Dir::C2s, Dir::S2c] {
            let stream: Vec<u8> = fx
                .lines
                .iter()
                .filter(|(d, _, _)| *d == dir)
                .flat_map(|(_, b, _)| b.clone())
                .collect();
            let expected: Vec<&Vec<u8>> = packets
                .iter()
                .filter(|(d, _)| *d == dir)
                .map(|(_, p)| p)
                .collect();
            let mut reframed = Vec::new();
            for p in &expected {
                reframed.extend_from_slice(&tcp_prefix(p.len()).unwrap());
                reframed.extend_from_slice(p);
            }
            assert_eq!(reframed, stream, "{} {dir:?}: reframing", fx.name);

            for cut in (0..=stream.len()).step_by(7) {
                let mut decoder = TcpFrameDecoder::new();
                let mut got = Vec::new();
                for part in [&stream[..cut], &stream[cut..]] {
                    let mut input = part;
                    while let Decoded::Frame { frame, consumed } = decoder.decode(input).unwrap() {
                        got.push(frame.to_vec());
                        input = &input[consumed..];
                    }
                }
                assert_eq!(got.len(), expected.len(), "{} cut {cut}", fx.name);
                assert!(got.iter().zip(&expected).all(|(a, b)| a == *b));
            }
        }
    }
}

#[test]
fn fixtures_tell_a_consistent_handshake() {
    for fx in all() {
        let name = fx.name;
        let mut seen = Vec::new();
        let mut peer_ids = BTreeSet::new();
        let mut data = [0usize; 2];
        for (dir, bytes) in packets(&fx) {
            match Packet::parse(&bytes, fx.protection).unwrap() {
                Packet::Data(d) => {
                    assert_eq!(
                        d.header.opcode(),
                        Opcode::DataV2,
                        "{name}: 2.6 peers use DATA_V2"
                    );
                    assert_eq!(d.header.key_id(), KeyId::ZERO);
                    peer_ids.insert(d.header.peer_id());
                    data[dir as usize] += 1;
                }
                Packet::Control(c) => seen.push(Seen {
                    dir,
                    opcode: c.opcode,
                    key_id: c.key_id,
                    session_id: c.session_id,
                    control: Some(control_fields(&c)),
                    replay_id: None,
                    wkc: None,
                }),
                Packet::TlsAuth(a) => {
                    assert_eq!(a.hmac.len(), 20, "{name}: SHA1 HMAC");
                    assert_ne!(a.time, 0);
                    seen.push(Seen {
                        dir,
                        opcode: a.opcode,
                        key_id: a.key_id,
                        session_id: a.session_id,
                        control: Some(control_fields(&a.control().unwrap())),
                        replay_id: Some(a.replay_id),
                        wkc: None,
                    });
                }
                Packet::TlsCrypt(t) => {
                    assert_ne!(t.time, 0);
                    seen.push(Seen {
                        dir,
                        opcode: t.opcode,
                        key_id: t.key_id,
                        session_id: t.session_id,
                        control: None,
                        replay_id: Some(t.replay_id),
                        wkc: t.wkc.map(<[u8]>::to_vec),
                    });
                }
            }
        }

        // data flows both ways, all with the one pushed peer id
        assert!(
            data[0] > 0 && data[1] > 0,
            "{name}: data in both directions"
        );
        assert_eq!(peer_ids.len(), 1, "{name}: one peer id");
        let peer = peer_ids
            .first()
            .copied()
            .flatten()
            .expect("DATA_V2 peer id");
        assert!(peer.is_set());
        assert_eq!(
            peer,
            PeerId::new(0).unwrap(),
            "{name}: first client gets peer-id 0"
        );

        // the handshake opens with the hard resets, key id 0 throughout
        let v2 = name.ends_with("tls-crypt-v2");
        let first_c2s = seen.iter().find(|s| s.dir == Dir::C2s).unwrap();
        let first_s2c = seen.iter().find(|s| s.dir == Dir::S2c).unwrap();
        let client_reset = if v2 {
            Opcode::HardResetClientV3
        } else {
            Opcode::HardResetClientV2
        };
        assert_eq!(first_c2s.opcode, client_reset, "{name}");
        assert_eq!(first_s2c.opcode, Opcode::HardResetServerV2, "{name}");
        assert!(seen.iter().all(|s| s.key_id == KeyId::ZERO));
        for needed in [Opcode::AckV1, Opcode::ControlV1] {
            assert!(
                seen.iter().any(|s| s.opcode == needed),
                "{name}: has {needed}"
            );
        }

        // each side keeps its session id; they differ
        let client = first_c2s.session_id;
        let server = first_s2c.session_id;
        assert!(client.is_defined() && server.is_defined() && client != server);
        for s in &seen {
            let own = if s.dir == Dir::C2s { client } else { server };
            assert_eq!(s.session_id, own, "{name}: {s:?}");
        }

        // replay ids (tls-auth / tls-crypt) strictly increase per direction
        for dir in [Dir::C2s, Dir::S2c] {
            let ids: Vec<PacketId> = seen
                .iter()
                .filter(|s| s.dir == dir)
                .filter_map(|s| s.replay_id)
                .collect();
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "{name} {dir:?}: {ids:?}"
            );
            if let (Some(&first), Dir::C2s) = (ids.first(), dir) {
                // tls-crypt-v2 clients announce early negotiation (ssl_pkt.h: EARLY_NEG_START)
                assert_eq!(first, if v2 { 0x0f00_0001 } else { 1 }, "{name}");
            }
        }

        // tls-crypt-v2: the V3 reset and the WKC_V1 carry the same WKc, ending in its length
        if v2 {
            let wkcs: Vec<&Vec<u8>> = seen.iter().filter_map(|s| s.wkc.as_ref()).collect();
            assert_eq!(wkcs.len(), 2, "{name}: V3 reset and WKC_V1");
            assert_eq!(wkcs[0], wkcs[1]);
            let len = u16::from_be_bytes([wkcs[0][wkcs[0].len() - 2], wkcs[0][wkcs[0].len() - 1]]);
            assert_eq!(usize::from(len), wkcs[0].len());
            assert!(seen.iter().any(|s| s.opcode == Opcode::ControlWkcV1));
        }

        // in-clear bodies: remote session ids, message ids 0,1,2,..., acks of what was sent
        if seen.iter().all(|s| s.control.is_some()) {
            check_reliability(name, &seen, client, server);
        }
    }
}

fn check_reliability(name: &str, seen: &[Seen], client: SessionId, server: SessionId) {
    let mut sent = [Vec::new(), Vec::new()];
    for s in seen {
        let (acks, remote, message_id, payload) = s.control.as_ref().unwrap();
        let peer = if s.dir == Dir::C2s { server } else { client };
        assert_eq!(remote.is_some(), !acks.is_empty(), "{name}");
        if let Some(remote) = remote {
            assert_eq!(*remote, peer, "{name}: remote session id is the peer's");
        }
        assert_eq!(message_id.is_some(), s.opcode != Opcode::AckV1);
        if s.opcode == Opcode::AckV1 {
            assert!(payload.is_empty(), "{name}: P_ACK_V1 carries no payload");
        }
        if let Some(id) = message_id {
            let ids: &mut Vec<PacketId> = &mut sent[s.dir as usize];
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
    }
    for (dir, ids) in sent.iter().enumerate() {
        let expected: Vec<PacketId> = (0..ids.len() as PacketId).collect();
        assert_eq!(
            ids, &expected,
            "{name}: message ids of direction {dir} are 0,1,2,..."
        );
    }
    // every ack names a message id the other side sent
    for s in seen {
        let other = &sent[1 - s.dir as usize];
        for ack in &s.control.as_ref().unwrap().0 {
            assert!(other.contains(ack), "{name}: ack {ack} of nothing sent");
        }
    }
    // the resets: the client's acks nothing and carries message id 0; the server's acks it
    let client_reset = seen.iter().find(|s| s.dir == Dir::C2s).unwrap();
    let (acks, _, id, payload) = client_reset.control.as_ref().unwrap();
    assert!(
        acks.is_empty() && *id == Some(0) && payload.is_empty(),
        "{name}"
    );
    let server_reset = seen.iter().find(|s| s.dir == Dir::S2c).unwrap();
    let (acks, remote, id, _) = server_reset.control.as_ref().unwrap();
    assert_eq!(
        (acks.as_slice(), *remote, *id),
        (&[0][..], Some(client), Some(0)),
        "{name}"
    );
    // the first client P_CONTROL_V1 is message 1 and carries the TLS ClientHello
    let hello = seen
        .iter()
        .find(|s| s.dir == Dir::C2s && s.opcode == Opcode::ControlV1)
        .unwrap();
    let (acks, _, id, payload) = hello.control.as_ref().unwrap();
    assert_eq!(*id, Some(1), "{name}");
    assert!(acks.contains(&0), "{name}: acks the server reset");
    assert_eq!(payload[0], 0x16, "{name}: TLS handshake record");
    assert_eq!(payload[5], 0x01, "{name}: ClientHello");
}

#[test]
fn tls_crypt_v2_reset_exposes_replay_id_and_wkc() {
    let fx = fixture!("udp-tls-crypt-v2");
    let (_, reset, _) = &fx.lines[0];
    let view = TlsCryptPacket::parse(reset).unwrap();
    assert_eq!(view.opcode, Opcode::HardResetClientV3);
    let wkc = view.wkc.unwrap();
    // WKc = tag(32) | encrypted client key (256) and metadata | u16 length
    assert!(wkc.len() >= 32 + 256 + 2 && wkc.len() <= ovpn_wire::TLS_CRYPT_V2_MAX_WKC_LEN);
    // the encrypted body of a reset: ack count + message id = 5 bytes
    assert_eq!(view.ciphertext.len(), 5);
}
