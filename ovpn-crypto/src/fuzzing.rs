//! Entry points for the fuzz targets in `fuzz/fuzz_targets/` (not a stable API).
//!
//! Each function feeds arbitrary bytes to a parser or verifier of this crate with fixed keys and
//! must never panic; the crate's own tests run them over a few inputs.

use std::time::{Duration, Instant};

use crate::{Cipher, DataKeys, Digest, KeyBlock, Role, StaticKey, TlsAuth, TlsCrypt};

/// The harness's one clock read: a base instant, to which only input-derived offsets are added.
#[allow(
    clippy::disallowed_methods,
    reason = "fuzz harness: the library takes `now` from its caller, this is that caller"
)]
fn base_instant() -> Instant {
    Instant::now()
}

fn block() -> KeyBlock {
    KeyBlock::from_bytes(core::array::from_fn(|i| {
        (i as u8).wrapping_mul(29).wrapping_add(1)
    }))
}

/// Every cipher/digest pair the crate supports, as `(cipher, digest)`.
pub fn suites() -> impl Iterator<Item = (Cipher, Digest)> {
    Cipher::ALL.into_iter().flat_map(|c| {
        let digests: &'static [Digest] = if c.is_aead() {
            &[Digest::None]
        } else {
            &Digest::ALL
        };
        digests.iter().map(move |&d| (c, d))
    })
}

/// Arbitrary bytes into [`DataKeys::open`]. Byte 0 picks the suite (every suite of
/// [`suites`] is reachable), byte 1 the header length (0, 1 or 4: `% 3`) and whether to flip
/// one bit (`& 0x80`, at a position taken from byte 0); the rest is the packet. The packet is
/// opened as received, then a packet sealed by the peer with it as payload (tampered with if
/// asked) is opened too, so the code behind the authentication runs.
pub fn data_open(data: &[u8]) {
    let [sel, flags, packet @ ..] = data else {
        return;
    };
    let all: Vec<(Cipher, Digest)> = suites().collect();
    let Some(&(cipher, digest)) = all.get(usize::from(*sel) % all.len()) else {
        return;
    };
    let header_len = [0, 1, 4][usize::from(flags % 3)];
    let tamper = flags & 0x80 != 0;
    let now = base_instant();
    let block = block();
    let mut buf = [0u8; 2048];
    let Ok(mut rx) = DataKeys::new(cipher, digest, &block, Role::Server, [0; 32]) else {
        return;
    };
    // 1. The raw input.
    let n = packet.len().min(buf.len());
    buf[..n].copy_from_slice(&packet[..n]);
    if let Ok(range) = rx.open(now, &mut buf[..n], header_len) {
        assert!(range.start <= range.end && range.end <= n);
    }
    // 2. A valid packet carrying the input, with one bit flipped if asked, to a fresh receiver
    //    (step 1 may have used up packet id 1 in an unauthenticated suite).
    let (Ok(mut tx), Ok(mut rx)) = (
        DataKeys::new(cipher, digest, &block, Role::Client, [1; 32]),
        DataKeys::new(cipher, digest, &block, Role::Server, [0; 32]),
    ) else {
        return;
    };
    let head = header_len + tx.overhead().head;
    let len = packet.len().min(1500);
    buf[head..head + len].copy_from_slice(&packet[..len]);
    let Ok(total) = tx.seal(&mut buf, header_len, len) else {
        return;
    };
    if tamper && total > 0 {
        let at = (usize::from(*sel) * 7 + usize::from(*flags)) % total;
        buf[at] ^= 1 << (sel % 8);
    }
    let result = rx.open(now + Duration::from_secs(1), &mut buf[..total], header_len);
    match result {
        Ok(range) => {
            assert!(range.end <= total);
            if !tamper {
                assert_eq!(&buf[range], &packet[..len]);
            }
        }
        // An untouched packet from the peer always opens.
        Err(e) => assert!(tamper, "{cipher}/{digest}: {e}"),
    }
}

/// The static key of OpenVPN's `tests/unit_tests/openvpn/test_pkt.c`, so that the packets of
/// that test (used as seeds) authenticate and the fuzzer reaches the code behind the tag.
const TEST_PKT_KEY: &str = "-----BEGIN OpenVPN Static key V1-----
37268ea8f95d7f71f9fb8fc03770c460daf714a483d815c013ce0a537efc18f2
8f4f172669d9e6a413bac6741d8ea05400f49b7fd6326470f23798c606bf53d4
de63ebc64ec59d57ce5d04d5b62e68b53ca6e5354351097fa370446c4d269f18
7bb6ae54af2dc70ff7317fe2f8754b8282aad4202f9fa42c8640245d883e2c54
a0c1c489a036cf3a8964d8d289c1583b9447c262b1da5fd167a5d27bd5ac5143
17bc2343a31a2efc38dd920d910375f51c2e27f3afd36c49269da079f7ce466e
bb0f9ad13e9bbb4665974e6bc24b513c5700393bf4a3e7f967e2f384069ac8a8
e78b18b15604993fd16515cce9c0f3e42b4126b999005ade802797b0eeb8b9e6
-----END OpenVPN Static key V1-----
";

/// Arbitrary bytes into [`TlsCrypt::unwrap`] (and [`TlsAuth::unwrap`], SHA1/SHA256/MD5) with
/// `test_pkt.c`'s key, server side; then the input is wrapped and unwrapped as a plain packet,
/// and parsed as a static key file ([`StaticKey::parse`]).
pub fn tls_crypt_unwrap(data: &[u8]) {
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(key) = StaticKey::parse(text) {
            assert_eq!(StaticKey::parse(&key.to_file_string()), Ok(key));
        }
    }
    let Ok(key) = StaticKey::parse(TEST_PKT_KEY) else {
        return;
    };
    let now = base_instant();
    let mut out = [0u8; 2048];
    if let Ok(mut server) = TlsCrypt::new(&key, Role::Server) {
        if let Ok(n) = server.unwrap(now, data, &mut out) {
            assert_eq!(n + TlsCrypt::OVERHEAD, data.len());
        }
    }
    for digest in [Digest::Sha1, Digest::Sha256, Digest::Md5] {
        if let Ok(mut auth) = TlsAuth::new(&key, crate::KeyDirection::Normal, digest) {
            if let Ok(n) = auth.unwrap(now, data, &mut out) {
                assert!(n <= data.len());
            }
        }
    }
    // Round trip with the input as the plain packet.
    if let (Ok(mut c), Ok(mut s)) = (
        TlsCrypt::new(&key, Role::Client),
        TlsCrypt::new(&key, Role::Server),
    ) {
        let mut wire = [0u8; 4096];
        let data = &data[..data.len().min(2000)];
        if let Ok(n) = c.wrap(1, data, &mut wire) {
            let m = s.unwrap(now, &wire[..n], &mut out);
            assert_eq!(m, Ok(data.len()));
            assert_eq!(&out[..data.len()], data);
        }
    }
}

/// Arbitrary bytes as tls-crypt-v2 input: key files (server and client, round-tripped when
/// they parse), a WKc to unwrap (it never authenticates by chance; one made here always does),
/// and a packet whose WKc is looked for at its end.
pub fn tls_crypt_v2_keys(data: &[u8]) {
    use crate::{Metadata, TlsCryptV2ClientKey, TlsCryptV2ServerKey};
    let text = String::from_utf8_lossy(data);
    if let Ok(k) = TlsCryptV2ServerKey::parse(&text) {
        assert_eq!(TlsCryptV2ServerKey::parse(&k.to_pem()), Ok(k));
    }
    if let Ok(k) = TlsCryptV2ClientKey::parse(&text) {
        assert_eq!(TlsCryptV2ClientKey::parse(&k.to_pem()), Ok(k));
    }
    let Ok(server) = TlsCryptV2ServerKey::from_bytes(&[0x42; 128]) else {
        return;
    };
    assert!(
        server.unwrap_client_key(data).is_err(),
        "a WKc forged by chance"
    );
    if let Ok((packet, wkc)) = crate::split_wkc(data) {
        assert_eq!(packet.len() + wkc.len(), data.len());
        assert!(!packet.is_empty());
    }
    // The input as metadata: what is wrapped comes back.
    let meta = &data[..data.len().min(crate::MAX_METADATA_LEN - 1)];
    if let Ok(m) = Metadata::user(meta)
        && let Ok(client) = server.make_client_key([0x17; 256], &m)
    {
        let Ok((kc, back)) = server.unwrap_client_key(client.wkc()) else {
            panic!("our own WKc did not unwrap");
        };
        assert_eq!(&kc, client.key());
        assert_eq!(back, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_entry_points_run() {
        let inputs: [&[u8]; 6] = [
            b"",
            b"\x00",
            b"\x01\x30\x00\x00\x00\x01",
            b"\x82\x48\x00\x00\x05\x00\x00\x00\x01hello world, a longer payload of some bytes",
            &[0xff; 300],
            &[0x38; 54],
        ];
        for input in inputs {
            for sel in 0..=suites().count() as u8 {
                let mut data = vec![sel];
                data.extend_from_slice(input);
                data_open(&data);
            }
            tls_crypt_unwrap(input);
        }
        assert!(StaticKey::parse(TEST_PKT_KEY).is_ok());
    }

    #[test]
    fn tls_crypt_v2_keys_survive_garbage_and_real_keys() {
        super::tls_crypt_v2_keys(b"");
        super::tls_crypt_v2_keys(include_bytes!(
            "../../testdata/crypto/tls-crypt-v2-server.key"
        ));
        super::tls_crypt_v2_keys(include_bytes!(
            "../../testdata/crypto/tls-crypt-v2-client.key"
        ));
        let noise: Vec<u8> = (0..2000u32).map(|i| (i * 7 + 1) as u8).collect();
        super::tls_crypt_v2_keys(&noise);
    }
}
