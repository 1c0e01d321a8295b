//! Property tests: seal/open round trips for every suite, tamper detection, and the replay
//! window against a set model.

use std::collections::BTreeSet;
use std::time::Instant;

use ovpn_crypto::{
    Cipher, CryptoError, DataKeys, Digest, KeyBlock, PacketId, ReplayError, ReplayWindow, Role,
};
use proptest::prelude::*;

/// The tests' one clock read; everything else is this instant plus durations.
#[allow(
    clippy::disallowed_methods,
    reason = "test harness: a base instant for `now` arguments"
)]
fn now() -> Instant {
    Instant::now()
}

fn all_suites() -> Vec<(Cipher, Digest)> {
    ovpn_crypto::fuzzing::suites().collect()
}

/// Suites whose packets are authenticated (the others cannot detect tampering).
fn authenticated(cipher: Cipher, digest: Digest) -> bool {
    cipher.is_aead() || digest != Digest::None
}

fn pair(cipher: Cipher, digest: Digest, key: &[u8; 256]) -> (DataKeys, DataKeys) {
    let block = KeyBlock::from_bytes(*key);
    let tx = DataKeys::new(cipher, digest, &block, Role::Client, [7; 32]).unwrap();
    let rx = DataKeys::new(cipher, digest, &block, Role::Server, [9; 32]).unwrap();
    (tx, rx)
}

fn suite_strategy() -> impl Strategy<Value = (Cipher, Digest)> {
    proptest::sample::select(all_suites())
}

fn key_strategy() -> impl Strategy<Value = [u8; 256]> {
    proptest::array::uniform32(1u8..).prop_map(|a| core::array::from_fn(|i| a[i % 32] ^ (i as u8)))
}

/// Seals `payload` with a `header_len`-byte header; returns the packet.
fn seal(tx: &mut DataKeys, header_len: usize, payload: &[u8]) -> Vec<u8> {
    let o = tx.overhead();
    let mut buf = vec![0u8; header_len + o.head + payload.len() + o.tail];
    for (i, b) in buf[..header_len].iter_mut().enumerate() {
        *b = 0x48 + i as u8;
    }
    buf[header_len + o.head..][..payload.len()].copy_from_slice(payload);
    let n = tx.seal(&mut buf, header_len, payload.len()).unwrap();
    assert_eq!(n, tx.sealed_len(header_len, payload.len()));
    buf.truncate(n);
    buf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Seal then open gives back the plaintext, for every suite, V1 and V2 headers and every
    /// size 0..=1600, over several packets.
    #[test]
    fn seal_open_identity(
        (cipher, digest) in suite_strategy(),
        key in key_strategy(),
        v2 in any::<bool>(),
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..=1600), 1..4),
    ) {
        let header_len = if v2 { 4 } else { 1 };
        let (mut tx, mut rx) = pair(cipher, digest, &key);
        let now = now();
        for payload in &payloads {
            let mut packet = seal(&mut tx, header_len, payload);
            let header = packet[..header_len].to_vec();
            let range = rx.open(now, &mut packet, header_len).unwrap();
            prop_assert_eq!(&packet[range], &payload[..]);
            prop_assert_eq!(&packet[..header_len], &header[..]);
        }
        prop_assert_eq!(tx.stats().sealed, payloads.len() as u64);
        prop_assert_eq!(rx.stats().opened, payloads.len() as u64);
    }

    /// Any flipped bit is refused by authenticated suites: in the V2 header (AEAD), the tag or
    /// HMAC, the IV, the packet id and the ciphertext. The refused packet does not use up its id.
    #[test]
    fn flipped_bit_is_rejected(
        (cipher, digest) in suite_strategy().prop_filter("authenticated", |&(c, d)| authenticated(c, d)),
        key in key_strategy(),
        v2 in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..=1600),
        position in any::<proptest::sample::Index>(),
        bit in 0u8..8,
    ) {
        let header_len = if v2 { 4 } else { 1 };
        let (mut tx, mut rx) = pair(cipher, digest, &key);
        let packet = seal(&mut tx, header_len, &payload);
        // The header is authenticated only as AEAD associated data of a V2 packet.
        let first = if cipher.is_aead() && v2 { 0 } else { header_len };
        let at = first + position.index(packet.len() - first);
        let mut bad = packet.clone();
        bad[at] ^= 1 << bit;
        let now = now();
        let err = rx.open(now, &mut bad, header_len).unwrap_err();
        prop_assert!(
            matches!(err, CryptoError::AuthFailed | CryptoError::Replay(ReplayError::Zero)),
            "byte {} of {}: {:?}", at, packet.len(), err
        );
        // The genuine packet still opens afterwards.
        let mut good = packet.clone();
        let range = rx.open(now, &mut good, header_len).unwrap();
        prop_assert_eq!(&good[range], &payload[..]);
    }

    /// The replay window accepts each id exactly once, in any order, within the window, and
    /// agrees with a model: an id is accepted iff it is non-zero, unseen, and greater than
    /// `max_seen - window`.
    #[test]
    fn replay_window_matches_model(
        window in prop_oneof![Just(64u32), 1u32..200],
        ids in proptest::collection::vec(0u32..400, 1..600),
    ) {
        let now = now();
        let mut w = ReplayWindow::with_config(window, std::time::Duration::from_secs(15)).unwrap();
        let mut seen = BTreeSet::new();
        let mut max = 0u32;
        for id in ids {
            let expected = id != 0 && !seen.contains(&id) && (id > max || max - id < window);
            let got = w.accept(now, PacketId::short(id));
            prop_assert_eq!(got.is_ok(), expected, "id {} max {} window {}: {:?}", id, max, window, got);
            if expected {
                seen.insert(id);
                max = max.max(id);
            }
        }
    }

    /// Every permutation of ids inside one window is accepted once and then refused.
    #[test]
    fn replay_window_any_order(
        ids in Just((1u32..=64).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let now = now();
        let mut w = ReplayWindow::new();
        for &id in &ids {
            prop_assert_eq!(w.accept(now, PacketId::short(id)), Ok(()));
        }
        for &id in &ids {
            prop_assert!(w.accept(now, PacketId::short(id)).is_err());
        }
    }

    /// A static key file round-trips through any reformatting OpenVPN's parser tolerates:
    /// comments before the header, white space anywhere in the body, upper-case hex, CRLF, and
    /// text after the footer; arbitrary text never panics the parser.
    #[test]
    fn static_key_file_round_trip(
        key in key_strategy(),
        breaks in proptest::collection::vec((0usize..512, prop_oneof![Just(" "), Just("\t"), Just("\r\n"), Just("\n")]), 0..40),
        upper in any::<bool>(),
        junk in "[ -~]{0,40}",
    ) {
        let key = ovpn_crypto::StaticKey::generate(key);
        let text = key.to_file_string();
        let (head, rest) = text.split_at(text.find("-----BEGIN").unwrap());
        let body_start = rest.find('\n').unwrap() + 1;
        let body_end = rest.find("-----END").unwrap();
        let mut hexdigits: String = rest[body_start..body_end].chars().filter(|c| !c.is_whitespace()).collect();
        if upper {
            hexdigits = hexdigits.to_uppercase();
        }
        // Insert white space at the chosen digit positions (a line never starts with '-').
        let mut body = String::new();
        let mut sorted = breaks.clone();
        sorted.sort();
        let mut it = sorted.iter().peekable();
        for (i, c) in hexdigits.chars().enumerate() {
            while let Some((_, ws)) = it.next_if(|(p, _)| *p == i) {
                body.push_str(ws);
            }
            body.push(c);
        }
        let messy = format!("{head}# {junk}\n{}{body}\n{}{junk}\n", &rest[..body_start], &rest[body_end..]);
        prop_assert_eq!(ovpn_crypto::StaticKey::parse(&messy), Ok(key));
        let _ = ovpn_crypto::StaticKey::parse(&junk);
    }

    /// Opening arbitrary bytes never panics and never succeeds for authenticated suites.
    #[test]
    fn open_garbage(
        (cipher, digest) in suite_strategy(),
        header_len in prop_oneof![Just(1usize), Just(4usize)],
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let (_, mut rx) = pair(cipher, digest, &[0x11; 256]);
        let mut buf = data.clone();
        let r = rx.open(now(), &mut buf, header_len);
        if authenticated(cipher, digest) {
            prop_assert!(r.is_err());
        }
    }
}

#[test]
fn replayed_packet_is_refused_and_window_untouched_by_forgeries() {
    for (cipher, digest) in all_suites() {
        let (mut tx, mut rx) = pair(cipher, digest, &[0x33; 256]);
        let now = now();
        let p1 = seal(&mut tx, 1, b"one");
        let p2 = seal(&mut tx, 1, b"two");
        let r = rx.open(now, &mut p2.clone(), 1);
        assert!(r.is_ok(), "{cipher}/{digest}");
        assert_eq!(
            rx.open(now, &mut p2.clone(), 1),
            Err(CryptoError::Replay(ReplayError::Duplicate)),
            "{cipher}/{digest}"
        );
        // Reordered but within the window.
        assert!(
            rx.open(now, &mut p1.clone(), 1).is_ok(),
            "{cipher}/{digest}"
        );
        assert_eq!(rx.stats().opened, 2);
        assert_eq!(rx.stats().rejected, 1);
    }
}

#[test]
fn buffer_too_small_leaves_everything_untouched() {
    for (cipher, digest) in all_suites() {
        let (mut tx, _) = pair(cipher, digest, &[0x44; 256]);
        let need = tx.sealed_len(4, 100);
        let mut buf = vec![0xEE; need - 1];
        assert_eq!(
            tx.seal(&mut buf, 4, 100),
            Err(CryptoError::BufferTooSmall { needed: need })
        );
        assert!(buf.iter().all(|&b| b == 0xEE));
        assert_eq!(tx.send_packet_id().last_id(), 0);
    }
}

#[test]
fn truncated_packets_are_typed_errors() {
    for (cipher, digest) in all_suites() {
        let (mut tx, mut rx) = pair(cipher, digest, &[0x55; 256]);
        let packet = seal(&mut tx, 4, b"payload");
        for len in 0..packet.len() {
            let mut short = packet[..len].to_vec();
            let r = rx.open(now(), &mut short, 4);
            if authenticated(cipher, digest) || cipher.is_cbc() {
                assert!(r.is_err(), "{cipher}/{digest} len {len}");
            }
        }
    }
}

#[test]
fn weak_key_and_wrap_signal() {
    let zero = KeyBlock::from_bytes([0; 256]);
    assert_eq!(
        DataKeys::new(
            Cipher::Aes128Gcm,
            Digest::None,
            &zero,
            Role::Client,
            [0; 32]
        )
        .err(),
        Some(CryptoError::WeakKey)
    );
    // cipher none has no cipher key to check.
    assert!(DataKeys::new(Cipher::None, Digest::Sha1, &zero, Role::Client, [0; 32]).is_ok());
    let (tx, _) = pair(Cipher::Aes256Gcm, Digest::None, &[1; 256]);
    assert!(!tx.needs_renegotiation());
}

#[test]
fn overheads_match_protocol_facts() {
    // protocol-facts.md section 12 (V1 header counted there): GCM 21 = 1 + 4 + 16.
    let block = KeyBlock::from_bytes([1; 256]);
    let over = |c, d| {
        DataKeys::new(c, d, &block, Role::Client, [0; 32])
            .unwrap()
            .overhead()
    };
    assert_eq!(over(Cipher::Aes256Gcm, Digest::Sha1).head, 20);
    assert_eq!(over(Cipher::Chacha20Poly1305, Digest::None).head, 20);
    // CBC + SHA1: HMAC 20 + IV 16 + pid 4, padding up to a block.
    let o = over(Cipher::Aes256Cbc, Digest::Sha1);
    assert_eq!((o.head, o.tail), (40, 16));
    let o = over(Cipher::BfCbc, Digest::Sha1);
    assert_eq!((o.head, o.tail), (32, 8));
    let o = over(Cipher::None, Digest::Sha1);
    assert_eq!((o.head, o.tail), (24, 0));
}

#[test]
fn keys_can_move_between_threads() {
    fn check<T: Send + Sync + 'static>() {}
    check::<DataKeys>();
    check::<ovpn_crypto::TlsAuth>();
    check::<ovpn_crypto::TlsCrypt>();
    check::<ReplayWindow>();
    check::<KeyBlock>();
    check::<CryptoError>();
}
