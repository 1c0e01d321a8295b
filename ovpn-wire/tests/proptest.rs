//! Property tests: for every packet kind write-then-parse is the identity; parsing arbitrary
//! bytes never panics (and whatever parses writes back to the same bytes); the TCP decoder gives
//! the same packets for every way of cutting the stream.

use ovpn_wire::{
    AckList, CompressionFraming, ControlPacket, ControlProtection, DataHeader, DataPacket, Decoded,
    FrameAt, KeyId, OccMessage, Opcode, Packet, PacketId, PeerId, SessionId, TcpFrameDecoder,
    TlsAuthPacket, TlsCryptPacket, fuzzing, tcp_prefix,
};
use proptest::prelude::*;

fn key_id() -> impl Strategy<Value = KeyId> {
    (0u8..=7).prop_map(|k| KeyId::new(k).unwrap())
}

fn session_id() -> impl Strategy<Value = SessionId> {
    any::<[u8; 8]>().prop_map(SessionId)
}

fn supported_control_opcode() -> impl Strategy<Value = Opcode> {
    prop::sample::select(
        Opcode::ALL
            .into_iter()
            .filter(|o| o.is_control() && o.is_supported())
            .collect::<Vec<_>>(),
    )
}

fn acks() -> impl Strategy<Value = AckList> {
    prop::collection::vec(any::<PacketId>(), 0..=8).prop_map(|v| AckList::from_slice(&v).unwrap())
}

/// The owned parts of a valid control packet (the payload lives in the Vec).
#[derive(Debug, Clone)]
struct ControlParts {
    opcode: Opcode,
    key_id: KeyId,
    session_id: SessionId,
    acks: AckList,
    remote: SessionId,
    message_id: PacketId,
    payload: Vec<u8>,
}

impl ControlParts {
    fn packet(&self) -> ControlPacket<'_> {
        let mut p = ControlPacket::new(
            self.opcode,
            self.key_id,
            self.session_id,
            self.message_id,
            &self.payload,
        )
        .with_acks(self.acks, self.remote);
        if !self.opcode.has_message_id() {
            p.message_id = None;
        }
        p
    }
}

fn control_parts() -> impl Strategy<Value = ControlParts> {
    (
        supported_control_opcode(),
        key_id(),
        session_id(),
        acks(),
        session_id(),
        any::<PacketId>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(
            |(opcode, key_id, session_id, acks, remote, message_id, payload)| ControlParts {
                opcode,
                key_id,
                session_id,
                acks,
                remote,
                message_id,
                payload,
            },
        )
}

fn write_vec(
    len: usize,
    write: impl FnOnce(&mut [u8]) -> Result<usize, ovpn_wire::WireError>,
) -> Vec<u8> {
    let mut out = vec![0u8; len + 7];
    let n = write(&mut out).unwrap();
    assert_eq!(n, len, "written length equals encoded_len");
    out.truncate(n);
    out
}

/// `packets`, each behind its 2-byte length prefix, as one TCP stream.
fn framed(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut stream = Vec::new();
    for p in packets {
        stream.extend_from_slice(&tcp_prefix(p.len()).unwrap());
        stream.extend_from_slice(p);
    }
    stream
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn plain_control_write_then_parse(parts in control_parts()) {
        let packet = parts.packet();
        let wire = write_vec(packet.encoded_len(), |out| packet.write(out));
        prop_assert_eq!(ControlPacket::parse(&wire).unwrap(), packet);
        prop_assert_eq!(Packet::parse(&wire, ControlProtection::None).unwrap(), Packet::Control(packet));
    }

    #[test]
    fn tls_auth_write_then_parse(
        parts in control_parts(),
        hmac in prop::collection::vec(any::<u8>(), 1..=64),
        replay_id in any::<PacketId>(),
        time in any::<u32>(),
    ) {
        let packet = parts.packet();
        let len = packet.encoded_len() + hmac.len() + 8;
        let wire = write_vec(len, |out| packet.write_tls_auth(&hmac, replay_id, time, out));
        let view = TlsAuthPacket::parse(&wire, hmac.len()).unwrap();
        prop_assert_eq!(view.hmac, &hmac[..]);
        prop_assert_eq!((view.replay_id, view.time), (replay_id, time));
        prop_assert_eq!(view.control().unwrap(), packet);
        let again = write_vec(view.encoded_len(), |out| view.write(out));
        prop_assert_eq!(again, wire);
    }

    #[test]
    fn tls_crypt_write_then_parse(
        opcode in supported_control_opcode(),
        key_id in key_id(),
        session_id in session_id(),
        replay_id in any::<PacketId>(),
        time in any::<u32>(),
        tag in any::<[u8; 32]>(),
        ciphertext in prop::collection::vec(any::<u8>(), 0..200),
        wkc_body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut wkc = wkc_body;
        let total = u16::try_from(wkc.len() + 2).unwrap();
        wkc.extend_from_slice(&total.to_be_bytes());
        let packet = TlsCryptPacket {
            opcode,
            key_id,
            session_id,
            replay_id,
            time,
            tag: &tag,
            ciphertext: &ciphertext,
            wkc: opcode.carries_wkc().then_some(&wkc[..]),
        };
        let wire = write_vec(packet.encoded_len(), |out| packet.write(out));
        prop_assert_eq!(TlsCryptPacket::parse(&wire).unwrap(), packet);
        prop_assert_eq!(Packet::parse(&wire, ControlProtection::TlsCrypt).unwrap(), Packet::TlsCrypt(packet));
    }

    #[test]
    fn data_write_then_parse(
        v2 in any::<bool>(),
        key_id in key_id(),
        peer in 0u32..=0xFF_FFFF,
        payload in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let header = if v2 {
            DataHeader::V2 { key_id, peer_id: PeerId::new(peer).unwrap() }
        } else {
            DataHeader::V1 { key_id }
        };
        let mut wire = write_vec(header.encoded_len(), |out| header.write(out));
        wire.extend_from_slice(&payload);
        let parsed = DataPacket::parse(&wire).unwrap();
        prop_assert_eq!(parsed.header, header);
        prop_assert_eq!(parsed.payload, &payload[..]);
        let again = write_vec(parsed.encoded_len(), |out| parsed.write(out));
        prop_assert_eq!(again, wire);
    }

    #[test]
    fn occ_write_then_parse(which in 0u8..7, a in any::<u16>(), b in any::<u16>(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let message = match which {
            0 => OccMessage::Request,
            1 => OccMessage::Reply { options: &bytes },
            2 => OccMessage::MtuLoadRequest { size: a },
            3 => OccMessage::MtuLoad { filler: &bytes },
            4 => OccMessage::MtuRequest,
            5 => OccMessage::MtuReply { max_recv: a, max_send: b },
            _ => OccMessage::Exit,
        };
        let wire = write_vec(message.encoded_len(), |out| message.write(out));
        prop_assert_eq!(OccMessage::parse(&wire).unwrap(), message);
    }

    #[test]
    fn compression_frame_then_unframe(packet in prop::collection::vec(any::<u8>(), 0..100)) {
        for framing in CompressionFraming::ALL {
            let mut buf = packet.clone();
            buf.resize(packet.len() + framing.max_overhead(), 0);
            let n = framing.frame(&mut buf, packet.len()).unwrap();
            let range = framing.unframe(&mut buf[..n]).unwrap();
            prop_assert_eq!(&buf[range], &packet[..]);
        }
    }

    /// Arbitrary bytes: never a panic; whatever parses under any layout writes back identically
    /// (the fuzz target body asserts that).
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzzing::wire_packet(&data);
    }

    /// Arbitrary bytes that start like a control packet, so the deeper fields get exercised.
    #[test]
    fn arbitrary_control_like_bytes(first in prop::sample::select(vec![0x20u8, 0x28, 0x38, 0x40, 0x50, 0x58, 0x19]), count in 0u8..10, rest in prop::collection::vec(any::<u8>(), 0..120)) {
        let mut data = vec![first, 1, 2, 3, 4, 5, 6, 7, 8, count];
        data.extend(rest);
        fuzzing::wire_packet(&data);
    }

    /// The TCP decoder gives the same frames for every way of cutting the stream.
    #[test]
    fn tcp_decoder_any_split(
        packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..8),
        cuts in prop::collection::vec(1usize..64, 1..16),
    ) {
        let stream = framed(&packets);
        let mut decoder = TcpFrameDecoder::new();
        let mut got = Vec::new();
        let mut rest = &stream[..];
        let mut i = 0;
        while !rest.is_empty() {
            let (mut chunk, after) = rest.split_at(cuts[i % cuts.len()].min(rest.len()));
            rest = after;
            i += 1;
            while let Decoded::Frame { frame, consumed } = decoder.decode(chunk).unwrap() {
                got.push(frame.to_vec());
                chunk = &chunk[consumed..];
            }
        }
        prop_assert_eq!(got, packets);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    /// `locate` finds the same frames as `decode`, for every way of cutting the stream, and a
    /// frame written in place (in the input or in the decoder's buffer) keeps what was written.
    #[test]
    fn tcp_decoder_mut_any_split(
        packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..8),
        cuts in prop::collection::vec(1usize..64, 1..16),
    ) {
        let mut stream = framed(&packets);
        let mut decoder = TcpFrameDecoder::new();
        let mut got = Vec::new();
        let mut rest = &mut stream[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts[i % cuts.len()].min(rest.len());
            let (mut chunk, after) = std::mem::take(&mut rest).split_at_mut(n);
            rest = after;
            i += 1;
            loop {
                let (frame, consumed) = match decoder.locate(chunk).unwrap() {
                    FrameAt::Input { frame, consumed } => (&mut chunk[frame], consumed),
                    FrameAt::Buffered { consumed } => (decoder.buffered_frame_mut(), consumed),
                    FrameAt::NeedMore => break,
                };
                frame[0] ^= 0xff;
                got.push(frame.to_vec());
                chunk = &mut std::mem::take(&mut chunk)[consumed..];
            }
        }
        let flipped: Vec<Vec<u8>> = packets.iter().map(|p| {
            let mut p = p.clone();
            p[0] ^= 0xff;
            p
        }).collect();
        prop_assert_eq!(got, flipped);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    /// The fuzz body of the TCP target over arbitrary input (including broken streams).
    #[test]
    fn tcp_framing_fuzz_body(data in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzzing::tcp_framing(&data);
    }
}
