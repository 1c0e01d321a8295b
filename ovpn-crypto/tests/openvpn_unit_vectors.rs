//! Known-answer tests carried from OpenVPN's own unit tests (OpenVPN/openvpn, tag v2.6.14
//! unless noted). Each constant names the file and the C identifier it was taken from.

use std::time::Instant;

use ovpn_crypto::{
    Cipher, CryptoError, DataKeys, Digest, KeyBlock, KeyDirection, PacketId, Role, StaticKey,
    TlsAuth, TlsCrypt,
};

/// The tests' one clock read; everything else is this instant plus durations.
#[allow(
    clippy::disallowed_methods,
    reason = "test harness: a base instant for `now` arguments"
)]
fn now() -> Instant {
    Instant::now()
}

/// `tests/unit_tests/openvpn/test_pkt.c` `static_key` (an inline `<tls-auth>` block).
const TEST_PKT_STATIC_KEY: &str = "<tls-auth>\n\
-----BEGIN OpenVPN Static key V1-----\n\
37268ea8f95d7f71f9fb8fc03770c460\n\
daf714a483d815c013ce0a537efc18f2\n\
8f4f172669d9e6a413bac6741d8ea054\n\
00f49b7fd6326470f23798c606bf53d4\n\
de63ebc64ec59d57ce5d04d5b62e68b5\n\
3ca6e5354351097fa370446c4d269f18\n\
7bb6ae54af2dc70ff7317fe2f8754b82\n\
82aad4202f9fa42c8640245d883e2c54\n\
a0c1c489a036cf3a8964d8d289c1583b\n\
9447c262b1da5fd167a5d27bd5ac5143\n\
17bc2343a31a2efc38dd920d910375f5\n\
1c2e27f3afd36c49269da079f7ce466e\n\
bb0f9ad13e9bbb4665974e6bc24b513c\n\
5700393bf4a3e7f967e2f384069ac8a8\n\
e78b18b15604993fd16515cce9c0f3e4\n\
2b4126b999005ade802797b0eeb8b9e6\n\
-----END OpenVPN Static key V1-----\n\
</tls-auth>\n";

/// `test_pkt.c` `client_reset_v2_tls_auth`: a client's HARD_RESET_CLIENT_V2 with tls-auth
/// (SHA1), valid for the server side (`init_tas_auth(KEY_DIRECTION_NORMAL)`).
const CLIENT_RESET_V2_TLS_AUTH: &str = "38de694c5c7bfba27493537c1ded4e781529ae7cfe4b8c6d6b2b51f05a\
00000001 61d3bf6c 0000000000";

/// `test_pkt.c` `client_reset_v2_tls_crypt`: the same kind of packet with tls-crypt, valid for
/// the server (`init_tas_crypt(true)`).
const CLIENT_RESET_V2_TLS_CRYPT: &str = "38f419cb12d1f9e48f0000000161d3f8e1330206f56802be44fbed90\
5064e3db43416bec5e526719462b7eb90c96defc9b05c44879f7";

/// `test_pkt.c` `client_ack_tls_auth_randomid`: a tls-auth P_CONTROL_V1 carrying a TLS
/// ClientHello, packet id 3.
const CLIENT_CONTROL_TLS_AUTH: &str = "\
2014014ebc80c6142b7bc876fbc52e27b1c507355bb6006bae71ba4e380000000361d3ff530000000001160301010c01\
00010803038caaac3a1a07bde7b750069b940c344b5a35cac479bdc909b07bd9eebb7de725203938e2183336149f34f0\
4459968d0ed24776648859e9380397969845fbf5ff230032130213031301c02cc030009fcca9cca8ccaac02bc02f009e\
c024c028006bc023c0270067c00ac0140039c009c013003300ff0100008d000b000403000102000a000c000a001d0017\
001e001900180016000000170000000d0030002e040305030603080708080809080a080b080408050806040105010601\
030302030301020103020202040205020602002b00050403040303002d00020101003300260024001d00200ec97aff58\
db56f640d1eddb9181d6ef83868ab23d88923fd8519cd62656336b";

/// `test_pkt.c` `client_reset_v2_none`: the plain reset (too short for tls-auth or tls-crypt).
const CLIENT_RESET_V2_NONE: &str = "386891923fa310343700000000 00";

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn key() -> StaticKey {
    StaticKey::parse(TEST_PKT_STATIC_KEY).expect("test_pkt.c static key parses")
}

#[test]
fn tls_auth_reset_verifies_and_rewraps() {
    let wire = hex(CLIENT_RESET_V2_TLS_AUTH);
    assert_eq!(wire.len(), 42);
    let server = TlsAuth::new(&key(), KeyDirection::Normal, Digest::Sha1).unwrap();
    let mut plain = [0u8; 64];
    let (n, pid) = server.unwrap_stateless(&wire, &mut plain).unwrap();
    assert_eq!(
        pid,
        PacketId {
            id: 1,
            time: 0x61d3_bf6c
        }
    );
    assert_eq!(&plain[..n], &hex("38de694c5c7bfba274 00 00000000")[..]);

    // The client side (direction 1) reproduces the packet from the plain bytes.
    let mut client = TlsAuth::new(&key(), KeyDirection::Inverse, Digest::Sha1).unwrap();
    client.send_packet_id().set(0, 0x61d3_bf6c);
    let mut out = [0u8; 64];
    let m = client.wrap(0x7777_7777, &plain[..n], &mut out).unwrap();
    assert_eq!(&out[..m], &wire[..]);

    // test_tls_decrypt_lite_auth: the wrong key direction does not validate ...
    let wrong = TlsAuth::new(&key(), KeyDirection::Inverse, Digest::Sha1).unwrap();
    assert_eq!(
        wrong.unwrap_stateless(&wire, &mut plain),
        Err(CryptoError::AuthFailed)
    );
    // ... nor does the plain reset (too short to hold an HMAC).
    assert!(matches!(
        server.unwrap_stateless(&hex(CLIENT_RESET_V2_NONE), &mut plain),
        Err(CryptoError::Truncated { .. })
    ));
}

#[test]
fn tls_auth_control_packet_verifies_and_rewraps() {
    let wire = hex(CLIENT_CONTROL_TLS_AUTH);
    assert_eq!(wire.len(), 315);
    let mut server = TlsAuth::new(&key(), KeyDirection::Normal, Digest::Sha1).unwrap();
    let mut plain = [0u8; 512];
    let n = server.unwrap(now(), &wire, &mut plain).unwrap();
    assert_eq!(n, wire.len() - 28);
    // op, sid, no ACKs, message id 1, a TLS ClientHello record.
    assert_eq!(plain[0], 0x20);
    assert_eq!(plain[9], 0);
    assert_eq!(&plain[10..14], &[0, 0, 0, 1]);
    assert_eq!(&plain[14..17], &[0x16, 0x03, 0x01]);
    // A second copy is a replay.
    assert!(matches!(
        server.unwrap(now(), &wire, &mut plain),
        Err(CryptoError::Replay(_))
    ));

    let mut client = TlsAuth::new(&key(), KeyDirection::Inverse, Digest::Sha1).unwrap();
    client.send_packet_id().set(2, 0x61d3_ff53);
    let mut out = [0u8; 512];
    let m = client.wrap(0, &plain[..n], &mut out).unwrap();
    assert_eq!(&out[..m], &wire[..]);

    // test_tls_decrypt_lite_auth: "flip a byte in the hmac".
    let mut bad = wire.clone();
    bad[20] = 0x23;
    assert_eq!(
        TlsAuth::new(&key(), KeyDirection::Normal, Digest::Sha1)
            .unwrap()
            .unwrap_stateless(&bad, &mut plain),
        Err(CryptoError::AuthFailed)
    );
}

#[test]
fn tls_crypt_reset_verifies_and_rewraps() {
    let wire = hex(CLIENT_RESET_V2_TLS_CRYPT);
    assert_eq!(wire.len(), 54);
    let mut server = TlsCrypt::new(&key(), Role::Server).unwrap();
    let mut plain = [0u8; 64];
    let n = server.unwrap(now(), &wire, &mut plain).unwrap();
    assert_eq!(&plain[..n], &hex("38f419cb12d1f9e48f 00 00000000")[..]);

    let mut client = TlsCrypt::new(&key(), Role::Client).unwrap();
    client.send_packet_id().set(0, 0x61d3_f8e1);
    let mut out = [0u8; 64];
    let m = client.wrap(1, &plain[..n], &mut out).unwrap();
    assert_eq!(&out[..m], &wire[..]);

    // test_tls_decrypt_lite_crypt: any byte set to 0x23 invalidates the packet; the tls-auth
    // and plain resets do not validate either.
    let fresh = TlsCrypt::new(&key(), Role::Server).unwrap();
    for i in 0..wire.len() {
        let mut bad = wire.clone();
        if bad[i] == 0x23 {
            continue;
        }
        bad[i] = 0x23;
        assert!(
            fresh.unwrap_stateless(&bad, &mut plain).is_err(),
            "byte {i}"
        );
    }
    assert!(
        fresh
            .unwrap_stateless(&hex(CLIENT_RESET_V2_TLS_AUTH), &mut plain)
            .is_err()
    );
    assert!(
        fresh
            .unwrap_stateless(&hex(CLIENT_RESET_V2_NONE), &mut plain)
            .is_err()
    );
    // The client's own key direction cannot read a client packet.
    assert_eq!(
        TlsCrypt::new(&key(), Role::Client)
            .unwrap()
            .unwrap_stateless(&wire, &mut plain),
        Err(CryptoError::AuthFailed)
    );
}

/// OpenVPN master `tests/unit_tests/openvpn/test_ssl.c` `test_data_channel_known_vectors_run`
/// (non-epoch case, `test_data_channel_known_vectors_shortpktid`): AES-256-GCM with the 2.6
/// tag-first format, key block from `create_key()`, key direction bidirectional (keys[0] both
/// ways, which is what a client sends with), a 4-byte header `07 00 00 17` as associated data,
/// packet id 1. Expected: packet id, tag, and 6 ciphertext bytes at offset 30 after the header.
#[test]
fn aead_known_vector_from_test_ssl() {
    let key = b"abcdefgh01234567ABCDEFGHjkuchenl";
    let block: [u8; 256] = core::array::from_fn(|i| key[i % 32] ^ (i as u8));
    let block = KeyBlock::from_bytes(block);
    let mut tx = DataKeys::new(
        Cipher::Aes256Gcm,
        Digest::None,
        &block,
        Role::Client,
        [0; 32],
    )
    .unwrap();
    let plaintext = b"The quick little fox jumps over the bureaucratic hurdles";
    let mut buf = [0u8; 128];
    buf[..4].copy_from_slice(&[7, 0, 0, 23]);
    let at = 4 + tx.overhead().head;
    buf[at..at + plaintext.len()].copy_from_slice(plaintext);
    let n = tx.seal(&mut buf, 4, plaintext.len()).unwrap();
    assert_eq!(n, 4 + 4 + 16 + plaintext.len());
    let body = &buf[4..n];
    assert_eq!(&body[..4], &[0, 0, 0, 1]);
    assert_eq!(&body[4..20], &hex("1fdd908f0e9dc25e79d832020d58e73f")[..]);
    assert_eq!(&body[30..36], &hex("a82e6b1706d9")[..]);

    // The receiving side of the same direction (a server decrypts with keys[0]) opens it.
    let mut rx = DataKeys::new(
        Cipher::Aes256Gcm,
        Digest::None,
        &block,
        Role::Server,
        [0; 32],
    )
    .unwrap();
    let range = rx.open(now(), &mut buf[..n], 4).unwrap();
    assert_eq!(&buf[range], plaintext);
}
