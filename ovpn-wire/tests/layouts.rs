//! Byte-exact tests for every packet kind, written from the documented layouts (OpenVPN 2.6
//! `ssl_pkt.c`, `reliable.c`, `tls_crypt.h`, `ssl.c`), with client session id `01..08` and server
//! session id `a1..a8`.

use ovpn_wire::{
    AckList, CompressionFraming, ControlPacket, ControlProtection, DataHeader, DataPacket,
    DataPacketMut, Decoded, Framed, KeyId, OCC_MAGIC, OccMessage, Opcode, PING_MAGIC, Packet,
    PeerId, SessionId, TcpFrameDecoder, TlsAuthPacket, TlsCryptPacket, WireError, header_byte,
    is_ping, parse_tcp_frame, peek, tcp_prefix, write_tcp_frame,
};

const CLIENT: SessionId = SessionId([1, 2, 3, 4, 5, 6, 7, 8]);
const SERVER: SessionId = SessionId([0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8]);

/// Decodes a hex string with optional spaces.
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn kid(k: u8) -> KeyId {
    KeyId::new(k).unwrap()
}

/// Writes `packet`, compares with `expected`, parses back and compares with `packet`.
fn assert_plain(packet: ControlPacket<'_>, expected: &[u8]) {
    let mut buf = [0u8; 2048];
    let n = packet.write(&mut buf).unwrap();
    assert_eq!(&buf[..n], expected, "written bytes");
    assert_eq!(packet.encoded_len(), expected.len());
    assert_eq!(
        ControlPacket::parse(expected).unwrap(),
        packet,
        "parsed back"
    );
}

#[test]
fn first_byte_is_opcode_shifted_by_three_plus_key_id() {
    for op in Opcode::ALL {
        for k in 0..=7 {
            let byte = header_byte(op, kid(k));
            assert_eq!(byte, op.to_u8() * 8 + k);
            assert_eq!(peek(&[byte]), Ok((op, kid(k))));
        }
    }
    assert_eq!(header_byte(Opcode::ControlV1, KeyId::ZERO), 0x20);
    assert_eq!(header_byte(Opcode::DataV2, kid(2)), 0x4a);
    assert_eq!(header_byte(Opcode::SoftResetV1, kid(1)), 0x19);
    assert_eq!(peek(&[0x00]), Err(WireError::UnknownOpcode(0)));
    assert_eq!(peek(&[0x60]), Err(WireError::UnknownOpcode(12)));
    assert_eq!(peek(&[0xff]), Err(WireError::UnknownOpcode(31)));
    assert!(matches!(
        peek(&[]),
        Err(WireError::Truncated {
            needed: 1,
            had: 0,
            ..
        })
    ));
}

#[test]
fn opcode_classes() {
    let control: Vec<_> = Opcode::ALL.iter().filter(|o| o.is_control()).collect();
    assert_eq!(control.len(), 9);
    assert!(Opcode::DataV1.is_data() && Opcode::DataV2.is_data());
    assert!(!Opcode::AckV1.has_message_id() && !Opcode::DataV2.has_message_id());
    assert!(Opcode::ControlV1.has_message_id() && Opcode::HardResetClientV2.has_message_id());
    let resets: Vec<_> = Opcode::ALL
        .into_iter()
        .filter(|o| o.is_hard_reset())
        .collect();
    assert_eq!(
        resets,
        [
            Opcode::HardResetClientV1,
            Opcode::HardResetServerV1,
            Opcode::HardResetClientV2,
            Opcode::HardResetServerV2,
            Opcode::HardResetClientV3
        ]
    );
    let unsupported: Vec<_> = Opcode::ALL
        .into_iter()
        .filter(|o| !o.is_supported())
        .collect();
    assert_eq!(
        unsupported,
        [Opcode::HardResetClientV1, Opcode::HardResetServerV1]
    );
    assert_eq!(Opcode::ControlWkcV1.to_string(), "P_CONTROL_WKC_V1");
    assert_eq!(Opcode::try_from(13), Err(WireError::UnknownOpcode(13)));
    for op in Opcode::ALL {
        assert_eq!(Opcode::from_u8(op.to_u8()), Some(op));
    }
}

#[test]
fn key_id_wraps_from_seven_to_one() {
    let mut k = KeyId::ZERO;
    let mut seen = Vec::new();
    for _ in 0..9 {
        k = k.next();
        seen.push(k.get());
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7, 1, 2]);
    assert_eq!(KeyId::new(8), None);
    assert_eq!(KeyId::from_header_byte(0x4f), kid(7));
}

#[test]
fn peer_id_is_24_bits() {
    assert_eq!(PeerId::new(0x0100_0000), None);
    assert!(!PeerId::UNSET.is_set());
    assert_eq!(PeerId::UNSET.get(), 0xFF_FFFF);
    assert!(PeerId::new(0).unwrap().is_set());
    assert_eq!(PeerId::from_u24(0xAB12_3456).get(), 0x12_3456);
}

#[test]
fn session_id_defined_and_display() {
    assert!(!SessionId::default().is_defined());
    assert!(CLIENT.is_defined());
    assert_eq!(SERVER.to_string(), "a1a2a3a4a5a6a7a8");
}

#[test]
fn client_hard_reset_v2_plain() {
    let p = ControlPacket::new(Opcode::HardResetClientV2, KeyId::ZERO, CLIENT, 0, &[]);
    assert_plain(p, &hex("38 0102030405060708 00 00000000"));
    assert_eq!(p.encoded_len(), 14);
}

#[test]
fn server_hard_reset_v2_plain_acks_client_reset() {
    let p = ControlPacket::new(Opcode::HardResetServerV2, KeyId::ZERO, SERVER, 0, &[])
        .with_acks(AckList::from_slice(&[0]).unwrap(), CLIENT);
    assert_plain(
        p,
        &hex("40 a1a2a3a4a5a6a7a8 01 00000000 0102030405060708 00000000"),
    );
    assert_eq!(p.encoded_len(), 26);
}

#[test]
fn ack_v1_has_no_message_id() {
    let p = ControlPacket::ack(
        KeyId::ZERO,
        CLIENT,
        AckList::from_slice(&[0]).unwrap(),
        SERVER,
    );
    assert_eq!(p.message_id, None);
    assert_plain(p, &hex("28 0102030405060708 01 00000000 a1a2a3a4a5a6a7a8"));
    assert_eq!(p.encoded_len(), 22);

    let eight = AckList::from_slice(&[1, 2, 3, 4, 5, 6, 7, 0xdead_beef]).unwrap();
    let p = ControlPacket::ack(kid(3), SERVER, eight, CLIENT);
    assert_plain(
        p,
        &hex(
            "2b a1a2a3a4a5a6a7a8 08 00000001 00000002 00000003 00000004 00000005 00000006 \
             00000007 deadbeef 0102030405060708",
        ),
    );
}

#[test]
fn control_v1_with_client_hello() {
    let hello = hex("16 03 01 00 05 01 00 00 01 00");
    let p = ControlPacket::new(Opcode::ControlV1, KeyId::ZERO, CLIENT, 1, &hello)
        .with_acks(AckList::from_slice(&[0]).unwrap(), SERVER);
    assert_plain(
        p,
        &hex("20 0102030405060708 01 00000000 a1a2a3a4a5a6a7a8 00000001 16030100050100000100"),
    );
}

#[test]
fn soft_reset_and_wkc_and_v3_plain() {
    let p = ControlPacket::new(Opcode::SoftResetV1, kid(1), CLIENT, 0, &[]);
    assert_plain(p, &hex("19 0102030405060708 00 00000000"));
    let p = ControlPacket::new(Opcode::ControlWkcV1, KeyId::ZERO, CLIENT, 1, &[])
        .with_acks(AckList::from_slice(&[0]).unwrap(), SERVER);
    assert_plain(
        p,
        &hex("58 0102030405060708 01 00000000 a1a2a3a4a5a6a7a8 00000001"),
    );
    let p = ControlPacket::new(Opcode::HardResetClientV3, KeyId::ZERO, CLIENT, 0, &[]);
    assert_plain(p, &hex("50 0102030405060708 00 00000000"));
}

#[test]
fn early_negotiation_tlv_payload_of_server_reset() {
    // ssl_pkt.c: tls_reset_standalone -- TLV type 1 (EARLY_NEG_FLAGS), len 2, flags RESEND_WKC
    let tlv = hex("0001 0002 0001");
    let p = ControlPacket::new(Opcode::HardResetServerV2, KeyId::ZERO, SERVER, 0, &tlv)
        .with_acks(AckList::from_slice(&[0]).unwrap(), CLIENT);
    assert_plain(
        p,
        &hex("40 a1a2a3a4a5a6a7a8 01 00000000 0102030405060708 00000000 000100020001"),
    );
}

#[test]
fn plain_parse_errors_say_what_and_where() {
    let full = hex("40 a1a2a3a4a5a6a7a8 01 00000000 0102030405060708 00000000");
    let cases = [
        (1, "session id", 9),
        (9, "ack count", 10),
        (12, "ack packet id", 14),
        (16, "remote session id", 22),
        (24, "message packet id", 26),
    ];
    for (len, field, needed) in cases {
        assert_eq!(
            ControlPacket::parse(&full[..len]),
            Err(WireError::Truncated {
                field,
                needed,
                had: len
            }),
            "cut at {len}"
        );
    }
    // 9 acks: one more than RELIABLE_ACK_SIZE
    let mut nine = hex("20 0102030405060708 09");
    nine.extend(std::iter::repeat_n(0, 9 * 4 + 8 + 4));
    assert_eq!(
        ControlPacket::parse(&nine),
        Err(WireError::AckArrayTooLong { count: 9 })
    );
    assert_eq!(
        ControlPacket::parse(&hex("08 0102030405060708 00 00000000")),
        Err(WireError::UnsupportedOpcode(Opcode::HardResetClientV1))
    );
    assert_eq!(
        ControlPacket::parse(&hex("10 0102030405060708 00 00000000")),
        Err(WireError::UnsupportedOpcode(Opcode::HardResetServerV1))
    );
    assert_eq!(
        ControlPacket::parse(&hex("48 000005 00")),
        Err(WireError::NotControl(Opcode::DataV2))
    );
    assert_eq!(
        ControlPacket::parse(&hex("60 0102030405060708 00")),
        Err(WireError::UnknownOpcode(12))
    );
}

#[test]
fn writer_refuses_inconsistent_packets_and_small_buffers() {
    let mut p = ControlPacket::new(Opcode::ControlV1, KeyId::ZERO, CLIENT, 1, b"x");
    let mut buf = [0xEEu8; 64];
    p.acks = AckList::from_slice(&[0]).unwrap();
    assert_eq!(
        p.write(&mut buf),
        Err(WireError::RemoteSessionIdMismatch { ack_count: 1 })
    );
    p.acks.clear();
    p.remote_session_id = Some(SERVER);
    assert_eq!(
        p.write(&mut buf),
        Err(WireError::RemoteSessionIdMismatch { ack_count: 0 })
    );
    p.remote_session_id = None;
    p.message_id = None;
    assert_eq!(
        p.write(&mut buf),
        Err(WireError::MessageIdMismatch {
            opcode: Opcode::ControlV1
        })
    );
    let mut ack = ControlPacket::ack(
        KeyId::ZERO,
        CLIENT,
        AckList::from_slice(&[1]).unwrap(),
        SERVER,
    );
    ack.message_id = Some(3);
    assert_eq!(
        ack.write(&mut buf),
        Err(WireError::MessageIdMismatch {
            opcode: Opcode::AckV1
        })
    );
    let p = ControlPacket::new(Opcode::DataV1, KeyId::ZERO, CLIENT, 1, b"");
    assert_eq!(
        p.write(&mut buf),
        Err(WireError::NotControl(Opcode::DataV1))
    );
    let p = ControlPacket::new(Opcode::HardResetClientV1, KeyId::ZERO, CLIENT, 0, b"");
    assert_eq!(
        p.write(&mut buf),
        Err(WireError::UnsupportedOpcode(Opcode::HardResetClientV1))
    );
    assert!(
        buf.iter().all(|&b| b == 0xEE),
        "failed writes must not touch the buffer"
    );

    let p = ControlPacket::new(Opcode::HardResetClientV2, KeyId::ZERO, CLIENT, 0, &[]);
    let mut small = [0xEEu8; 13];
    assert_eq!(
        p.write(&mut small),
        Err(WireError::BufferTooSmall {
            needed: 14,
            had: 13
        })
    );
    assert!(small.iter().all(|&b| b == 0xEE));
}

#[test]
fn ack_list_capacity_is_eight() {
    let mut acks = AckList::new();
    for i in 0..8 {
        acks.push(i).unwrap();
    }
    assert!(acks.is_full());
    assert_eq!(acks.push(8), Err(WireError::AckArrayTooLong { count: 9 }));
    assert_eq!(&acks[..], &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        AckList::from_slice(&[0; 9]),
        Err(WireError::AckArrayTooLong { count: 9 })
    );
    // equality only looks at the live ids
    let mut a = AckList::from_slice(&[1, 2]).unwrap();
    a.clear();
    assert_eq!(a, AckList::new());
}

#[test]
fn client_hard_reset_with_tls_auth_sha1() {
    let hmac: Vec<u8> = (0x10..0x24).collect();
    let wire = hex(&format!(
        "38 0102030405060708 {} 00000001 5f5e0f00 00 00000000",
        hmac.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    assert_eq!(wire.len(), 42);
    let view = TlsAuthPacket::parse(&wire, 20).unwrap();
    assert_eq!(view.opcode, Opcode::HardResetClientV2);
    assert_eq!(view.session_id, CLIENT);
    assert_eq!(view.hmac, &hmac[..]);
    assert_eq!(view.replay_id, 1);
    assert_eq!(view.time, 0x5f5e_0f00);
    assert_eq!(view.body, &hex("00 00000000")[..]);
    assert_eq!(view.body_offset(), 37);
    let control = view.control().unwrap();
    assert_eq!(
        control,
        ControlPacket::new(Opcode::HardResetClientV2, KeyId::ZERO, CLIENT, 0, &[])
    );

    let mut buf = [0u8; 64];
    let n = view.write(&mut buf).unwrap();
    assert_eq!(&buf[..n], &wire[..]);
    let n = control
        .write_tls_auth(&hmac, 1, 0x5f5e_0f00, &mut buf)
        .unwrap();
    assert_eq!(&buf[..n], &wire[..]);

    // the same bytes under the wrong HMAC length do not line up
    assert!(TlsAuthPacket::parse(&wire, 32).is_err());
    assert_eq!(
        TlsAuthPacket::parse(&wire, 0),
        Err(WireError::InvalidHmacLen { len: 0 })
    );
    assert_eq!(
        TlsAuthPacket::parse(&wire, 65),
        Err(WireError::InvalidHmacLen { len: 65 })
    );
    assert!(matches!(
        TlsAuthPacket::parse(&wire[..30], 20),
        Err(WireError::Truncated {
            field: "tls-auth hmac",
            needed: 29,
            had: 30
        }) | Err(WireError::Truncated {
            field: "tls-auth replay packet id",
            needed: 33,
            had: 30
        })
    ));
    assert_eq!(
        TlsAuthPacket::parse(&wire[..40], 20).unwrap().control(),
        Err(WireError::Truncated {
            field: "message packet id",
            needed: 42,
            had: 40
        })
    );
}

#[test]
fn server_reset_with_tls_auth_sha256_carries_ack() {
    let p = ControlPacket::new(Opcode::HardResetServerV2, KeyId::ZERO, SERVER, 0, &[])
        .with_acks(AckList::from_slice(&[0]).unwrap(), CLIENT);
    let hmac = [0x77u8; 32];
    let mut buf = [0u8; 128];
    let n = p.write_tls_auth(&hmac, 1, 0x6500_0000, &mut buf).unwrap();
    let expected = hex(&format!(
        "40 a1a2a3a4a5a6a7a8 {} 00000001 65000000 01 00000000 0102030405060708 00000000",
        "77".repeat(32)
    ));
    assert_eq!(&buf[..n], &expected[..]);
    let Packet::TlsAuth(view) =
        Packet::parse(&expected, ControlProtection::TLS_AUTH_SHA256).unwrap()
    else {
        panic!("not tls-auth")
    };
    assert_eq!(view.control().unwrap(), p);
    assert_eq!(ControlProtection::TLS_AUTH_SHA256.overhead(), 40);
}

#[test]
fn client_hard_reset_with_tls_crypt() {
    let tag: Vec<u8> = (0..32).collect();
    let wire = hex(&format!(
        "38 0102030405060708 00000001 65000000 {} 1122334455",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    assert_eq!(wire.len(), 54);
    let view = TlsCryptPacket::parse(&wire).unwrap();
    assert_eq!(view.opcode, Opcode::HardResetClientV2);
    assert_eq!(view.session_id, CLIENT);
    assert_eq!(view.replay_id, 1);
    assert_eq!(view.time, 0x6500_0000);
    assert_eq!(&view.tag[..], &tag[..]);
    assert_eq!(view.ciphertext, &hex("1122334455")[..]);
    assert_eq!(view.wkc, None);
    assert_eq!(view.header_bytes()[..], wire[..17]);
    let mut buf = [0u8; 64];
    let n = view.write(&mut buf).unwrap();
    assert_eq!(&buf[..n], &wire[..]);
    assert_eq!(
        TlsCryptPacket::parse(&wire[..40]),
        Err(WireError::Truncated {
            field: "tls-crypt tag",
            needed: 49,
            had: 40
        })
    );
}

#[test]
fn client_hard_reset_v3_carries_wkc_with_trailing_length() {
    // early-negotiation client: replay id 0x0f000001 (ssl_pkt.h: EARLY_NEG_START + 1)
    let wkc_body = [0x5a; 20];
    let mut wkc = wkc_body.to_vec();
    wkc.extend_from_slice(&22u16.to_be_bytes());
    let wire = hex(&format!(
        "50 0102030405060708 0f000001 65000000 {} 1122334455 {}",
        "ab".repeat(32),
        wkc.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let view = TlsCryptPacket::parse(&wire).unwrap();
    assert_eq!(view.opcode, Opcode::HardResetClientV3);
    assert_eq!(view.replay_id, 0x0f00_0001);
    assert_eq!(view.ciphertext, &hex("1122334455")[..]);
    assert_eq!(view.wkc, Some(&wkc[..]));
    let mut buf = [0u8; 128];
    let n = view.write(&mut buf).unwrap();
    assert_eq!(&buf[..n], &wire[..]);

    // WKC_V1 with an empty ciphertext is structurally fine
    let mut wkc_only = wire.clone();
    wkc_only[0] = 0x58;
    wkc_only.drain(49..54);
    let view = TlsCryptPacket::parse(&wkc_only).unwrap();
    assert_eq!(
        (view.opcode, view.ciphertext.len()),
        (Opcode::ControlWkcV1, 0)
    );

    // length larger than what is there / smaller than the length field
    let mut bad = wire.clone();
    let at = bad.len() - 2;
    bad[at..].copy_from_slice(&1000u16.to_be_bytes());
    assert_eq!(
        TlsCryptPacket::parse(&bad),
        Err(WireError::BadWkcLength {
            len: 1000,
            available: 27
        })
    );
    bad[at..].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(
        TlsCryptPacket::parse(&bad),
        Err(WireError::BadWkcLength {
            len: 1,
            available: 27
        })
    );

    // writer checks WKc presence and its trailer
    let mut view = TlsCryptPacket::parse(&wire).unwrap();
    let bad_wkc = [0u8; 4];
    view.wkc = Some(&bad_wkc);
    assert_eq!(
        view.write(&mut buf),
        Err(WireError::BadWkcLength {
            len: 0,
            available: 4
        })
    );
    view.wkc = None;
    assert_eq!(
        view.write(&mut buf),
        Err(WireError::WkcMismatch {
            opcode: Opcode::HardResetClientV3
        })
    );
}

#[test]
fn data_v2_header_kid_and_peer_id() {
    let wire = hex("48 000005 deadbeef");
    let p = DataPacket::parse(&wire).unwrap();
    assert_eq!(
        p.header,
        DataHeader::V2 {
            key_id: KeyId::ZERO,
            peer_id: PeerId::new(5).unwrap()
        }
    );
    assert_eq!(p.header_bytes, &hex("48000005")[..]);
    assert_eq!(p.payload, &hex("deadbeef")[..]);

    let header = DataHeader::V2 {
        key_id: kid(2),
        peer_id: PeerId::new(5).unwrap(),
    };
    let mut buf = [0u8; 4];
    assert_eq!(header.write(&mut buf), Ok(4));
    assert_eq!(buf, [0x4a, 0x00, 0x00, 0x05]);
    let header = DataHeader::V2 {
        key_id: kid(7),
        peer_id: PeerId::UNSET,
    };
    assert_eq!(header.write(&mut buf), Ok(4));
    assert_eq!(buf, [0x4f, 0xff, 0xff, 0xff]);
    assert_eq!(
        header.write(&mut buf[..3]),
        Err(WireError::BufferTooSmall { needed: 4, had: 3 })
    );

    assert_eq!(
        DataPacket::parse(&hex("48 0000")),
        Err(WireError::Truncated {
            field: "peer id",
            needed: 4,
            had: 3
        })
    );
    assert_eq!(
        DataPacket::parse(&hex("20 0102030405060708")),
        Err(WireError::NotData(Opcode::ControlV1))
    );
}

#[test]
fn data_v1_header_is_one_byte() {
    let wire = hex("31 aabbcc");
    let p = DataPacket::parse(&wire).unwrap();
    assert_eq!(p.header, DataHeader::V1 { key_id: kid(1) });
    assert_eq!(p.header.peer_id(), None);
    assert_eq!(p.header_bytes, &[0x31]);
    assert_eq!(p.payload, &[0xaa, 0xbb, 0xcc]);
    let mut buf = [0u8; 8];
    assert_eq!(p.write(&mut buf), Ok(4));
    assert_eq!(&buf[..4], &wire[..]);
}

#[test]
fn data_packet_mut_splits_for_in_place_decryption() {
    let mut wire = hex("49 000007 0102030405");
    let p = DataPacketMut::parse(&mut wire).unwrap();
    assert_eq!(p.header.key_id(), kid(1));
    let (aad, payload) = p.into_parts();
    assert_eq!(aad, &[0x49, 0, 0, 7]);
    payload.reverse();
    assert_eq!(wire, hex("49 000007 0504030201"));
}

#[test]
fn packet_dispatch_uses_protection_for_control_only() {
    let data = hex("48 000005 00");
    for protection in [
        ControlProtection::None,
        ControlProtection::TLS_AUTH_SHA1,
        ControlProtection::TlsCrypt,
    ] {
        assert!(matches!(
            Packet::parse(&data, protection),
            Ok(Packet::Data(_))
        ));
    }
    let reset = hex("38 0102030405060708 00 00000000");
    let parsed = Packet::parse(&reset, ControlProtection::None).unwrap();
    assert_eq!(parsed.opcode(), Opcode::HardResetClientV2);
    let mut buf = [0u8; 32];
    assert_eq!(parsed.write(&mut buf), Ok(14));
    assert!(Packet::parse(&reset, ControlProtection::TlsCrypt).is_err());
}

#[test]
fn tcp_framing_of_client_reset() {
    let reset = hex("38 0102030405060708 00 00000000");
    let mut buf = [0u8; 32];
    let n = write_tcp_frame(&reset, &mut buf).unwrap();
    assert_eq!(&buf[..n], &hex("000e 38 0102030405060708 00 00000000")[..]);
    assert_eq!(
        parse_tcp_frame(&buf[..n], 4096),
        Ok(Framed::Complete {
            frame: 2..16,
            consumed: 16
        })
    );
    assert_eq!(
        parse_tcp_frame(&buf[..1], 4096),
        Ok(Framed::Partial { needed: 1 })
    );
    assert_eq!(
        parse_tcp_frame(&buf[..10], 4096),
        Ok(Framed::Partial { needed: 6 })
    );
    assert_eq!(
        parse_tcp_frame(&[0, 0, 1], 4096),
        Err(WireError::EmptyFrame)
    );
    assert_eq!(
        parse_tcp_frame(&[0x10, 0x01], 4096),
        Err(WireError::FrameTooLarge {
            len: 4097,
            max: 4096
        })
    );
    assert_eq!(tcp_prefix(0), Err(WireError::EmptyFrame));
    assert_eq!(
        tcp_prefix(65536),
        Err(WireError::FrameTooLarge {
            len: 65536,
            max: 65535
        })
    );
    assert_eq!(tcp_prefix(65535), Ok([0xff, 0xff]));
    assert_eq!(
        write_tcp_frame(&reset, &mut buf[..15]),
        Err(WireError::BufferTooSmall {
            needed: 16,
            had: 15
        })
    );
}

#[test]
fn tcp_decoder_handles_any_split_and_sticky_errors() {
    let mut stream = Vec::new();
    let packets: [&[u8]; 3] = [b"first", b"2", b"third packet"];
    for p in packets {
        stream.extend_from_slice(&tcp_prefix(p.len()).unwrap());
        stream.extend_from_slice(p);
    }
    for cut in 0..=stream.len() {
        let mut decoder = TcpFrameDecoder::new();
        let mut got: Vec<Vec<u8>> = Vec::new();
        for part in [&stream[..cut], &stream[cut..]] {
            let mut input = part;
            while let Decoded::Frame { frame, consumed } = decoder.decode(input).unwrap() {
                got.push(frame.to_vec());
                input = &input[consumed..];
            }
        }
        assert_eq!(got, packets.map(<[u8]>::to_vec), "cut at {cut}");
        assert_eq!(decoder.buffered(), 0);
    }

    let mut decoder = TcpFrameDecoder::with_max_frame_len(4);
    assert_eq!(decoder.decode(&[0x00]), Ok(Decoded::NeedMore));
    assert_eq!(decoder.buffered(), 1);
    assert_eq!(
        decoder.decode(&[0x05, 1, 2, 3, 4, 5]),
        Err(WireError::FrameTooLarge { len: 5, max: 4 })
    );
    assert_eq!(
        decoder.decode(&[0x00, 0x01, 9]),
        Err(WireError::FrameTooLarge { len: 5, max: 4 }),
        "errors are sticky"
    );
    decoder.reset();
    assert_eq!(
        decoder.decode(&[0x00, 0x01, 9]),
        Ok(Decoded::Frame {
            frame: &[9],
            consumed: 3
        })
    );
    let mut decoder = TcpFrameDecoder::new();
    assert_eq!(decoder.decode(&[0x00, 0x00]), Err(WireError::EmptyFrame));
}

#[test]
fn ping_and_occ_payloads() {
    assert_eq!(PING_MAGIC, hex("2a187bf3641eb4cb07ed2d0a981fc748")[..]);
    assert!(is_ping(&PING_MAGIC));
    assert!(!is_ping(&PING_MAGIC[..15]));
    assert_eq!(OCC_MAGIC, hex("287f346bd4ef7a812d56b8d3afc5459c")[..]);

    let cases: [(OccMessage<'_>, &str); 7] = [
        (OccMessage::Request, "00"),
        (
            OccMessage::Reply {
                options: b"V4,dev-type tun",
            },
            "01 56342c6465762d747970652074756e 00",
        ),
        (OccMessage::MtuLoadRequest { size: 1400 }, "02 0578"),
        (OccMessage::MtuLoad { filler: &[1, 2, 3] }, "03 010203"),
        (OccMessage::MtuRequest, "04"),
        (
            OccMessage::MtuReply {
                max_recv: 1500,
                max_send: 1450,
            },
            "05 05dc 05aa",
        ),
        (OccMessage::Exit, "06"),
    ];
    for (message, args) in cases {
        let mut expected = OCC_MAGIC.to_vec();
        expected.extend(hex(args));
        let mut buf = [0u8; 64];
        let n = message.write(&mut buf).unwrap();
        assert_eq!(&buf[..n], &expected[..], "{message:?}");
        assert_eq!(OccMessage::parse(&expected), Ok(message));
    }
    let mut unknown = OCC_MAGIC.to_vec();
    unknown.push(7);
    assert_eq!(
        OccMessage::parse(&unknown),
        Err(WireError::UnknownOccOpcode(7))
    );
    assert_eq!(OccMessage::parse(&PING_MAGIC), Err(WireError::NotOcc));
    assert_eq!(
        OccMessage::parse(&OCC_MAGIC),
        Err(WireError::Truncated {
            field: "occ opcode",
            needed: 17,
            had: 16
        })
    );
}

#[test]
fn compression_framing_bytes() {
    let ip = hex("45 00 00 14");
    let mut buf = [0u8; 8];

    // comp-lzo no: 0xFA prefix
    buf[..4].copy_from_slice(&ip);
    let n = CompressionFraming::Stub.frame(&mut buf, 4).unwrap();
    assert_eq!(&buf[..n], &hex("fa 45000014")[..]);
    let r = CompressionFraming::Stub.unframe(&mut buf[..n]).unwrap();
    assert_eq!(&buf[r], &ip[..]);

    // compress (stub, swap): 0xFB, first byte moved to the end
    buf[..4].copy_from_slice(&ip);
    let n = CompressionFraming::StubSwap.frame(&mut buf, 4).unwrap();
    assert_eq!(&buf[..n], &hex("fb 000014 45")[..]);
    let r = CompressionFraming::StubSwap.unframe(&mut buf[..n]).unwrap();
    assert_eq!(&buf[r], &ip[..]);

    // stub-v2: unchanged unless it starts with 0x50
    buf[..4].copy_from_slice(&ip);
    assert_eq!(CompressionFraming::StubV2.frame(&mut buf, 4), Ok(4));
    assert_eq!(&buf[..4], &ip[..]);
    buf[..2].copy_from_slice(&[0x50, 0x01]);
    let n = CompressionFraming::StubV2.frame(&mut buf, 2).unwrap();
    assert_eq!(&buf[..n], &hex("50 00 50 01")[..]);
    let r = CompressionFraming::StubV2.unframe(&mut buf[..n]).unwrap();
    assert_eq!(&buf[r], &[0x50, 0x01]);

    // wrong framing byte: dropped, payload untouched
    let mut wrong = hex("45 000014");
    for framing in [CompressionFraming::Stub, CompressionFraming::StubSwap] {
        assert_eq!(
            framing.unframe(&mut wrong),
            Err(WireError::BadCompressionByte { byte: 0x45 })
        );
        assert_eq!(wrong, hex("45 000014"));
    }
    assert_eq!(
        CompressionFraming::StubV2.unframe(&mut hex("50 01 45")),
        Err(WireError::BadCompressionByte { byte: 0x01 })
    );
    // empty stays empty; no room is an error
    assert_eq!(CompressionFraming::Stub.frame(&mut buf, 0), Ok(0));
    assert_eq!(CompressionFraming::Stub.unframe(&mut []), Ok(0..0));
    assert_eq!(
        CompressionFraming::Stub.frame(&mut buf[..4], 4),
        Err(WireError::BufferTooSmall { needed: 5, had: 4 })
    );
    assert_eq!(
        CompressionFraming::None.frame(&mut buf[..4], 5),
        Err(WireError::BufferTooSmall { needed: 5, had: 4 })
    );
}
