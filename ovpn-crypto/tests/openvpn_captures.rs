//! Known-answer tests against packets captured from the real OpenVPN 2.6 (Debian package) by
//! `testdata/crypto/capture.sh`: tls-auth and tls-crypt control packets (unwrapped, and
//! re-wrapped byte for byte), data keys from the key-method-2 PRF (compared with the keys
//! OpenVPN logged), and data packets of every cipher family opened with those keys (their
//! plaintext is OpenVPN's ping payload). Reads only the committed files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ovpn_crypto::{
    Cipher, DataKeys, Digest, KeyBlock, KeyDirection, Role, StaticKey, TlsAuth, TlsCrypt,
};

/// The tests' one clock read; everything else is this instant plus durations.
#[allow(
    clippy::disallowed_methods,
    reason = "test harness: a base instant for `now` arguments"
)]
fn now() -> Instant {
    Instant::now()
}

/// `ping.c` `ping_string`: the payload of a keepalive ping.
const PING: [u8; 16] = [
    0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb, 0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48,
];
/// `occ.c` `occ_magic`: the prefix of an options-consistency message (static-key mode).
const OCC_MAGIC: [u8; 16] = [
    0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81, 0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c,
];
const P_DATA_V1: u8 = 6;
const P_DATA_V2: u8 = 9;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/crypto")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

struct Case {
    name: String,
    keys: BTreeMap<String, String>,
    /// (client to server?, datagram)
    packets: Vec<(bool, Vec<u8>)>,
}

impl Case {
    fn load(name: &str) -> Case {
        let keys = std::fs::read_to_string(dir().join(format!("{name}.keys"))).unwrap();
        let keys = keys
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let packets = std::fs::read_to_string(dir().join(format!("{name}.packets"))).unwrap();
        let packets = packets
            .lines()
            .map(|l| {
                let (d, h) = l.split_once(' ').unwrap();
                (d == "c2s", unhex(h))
            })
            .collect();
        Case {
            name: name.to_string(),
            keys,
            packets,
        }
    }

    fn get(&self, k: &str) -> &str {
        self.keys
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{}: no {k}", self.name))
    }

    fn cipher(&self) -> Cipher {
        self.get("cipher").parse().unwrap()
    }

    fn digest(&self) -> Digest {
        self.get("auth").parse().unwrap()
    }

    fn direction(&self, k: &str) -> KeyDirection {
        match self.get(k) {
            "0" => KeyDirection::Normal,
            "1" => KeyDirection::Inverse,
            "" => KeyDirection::Bidirectional,
            other => panic!("direction {other}"),
        }
    }

    fn bytes<const N: usize>(&self, k: &str) -> [u8; N] {
        unhex(self.get(k)).try_into().unwrap()
    }
}

fn static_key() -> StaticKey {
    StaticKey::parse(&std::fs::read_to_string(dir().join("static.key")).unwrap()).unwrap()
}

enum Wrap {
    None,
    Auth(Box<TlsAuth>),
    Crypt(Box<TlsCrypt>),
}

impl Wrap {
    fn new(case: &Case, role: Role) -> Wrap {
        let key = static_key();
        match case.get("control") {
            "tls-auth" => {
                let d = case.direction(match role {
                    Role::Server => "server_key_direction",
                    Role::Client => "client_key_direction",
                });
                Wrap::Auth(Box::new(TlsAuth::new(&key, d, case.digest()).unwrap()))
            }
            "tls-crypt" => Wrap::Crypt(Box::new(TlsCrypt::new(&key, role).unwrap())),
            _ => Wrap::None,
        }
    }

    /// Unwraps; returns the plain packet and its packet id.
    fn unwrap(&mut self, packet: &[u8]) -> (Vec<u8>, Option<ovpn_crypto::PacketId>) {
        let mut out = vec![0u8; packet.len()];
        match self {
            Wrap::None => (packet.to_vec(), None),
            Wrap::Auth(a) => {
                let (_, pid) = a.unwrap_stateless(packet, &mut out).unwrap();
                let n = a.unwrap(now(), packet, &mut out).unwrap();
                out.truncate(n);
                (out, Some(pid))
            }
            Wrap::Crypt(c) => {
                let (_, pid) = c.unwrap_stateless(packet, &mut out).unwrap();
                let n = c.unwrap(now(), packet, &mut out).unwrap();
                out.truncate(n);
                (out, Some(pid))
            }
        }
    }

    /// Wraps `plain` with packet id `pid`.
    fn wrap(&mut self, plain: &[u8], pid: ovpn_crypto::PacketId) -> Vec<u8> {
        let mut out = vec![0u8; plain.len() + 100];
        let n = match self {
            Wrap::None => return plain.to_vec(),
            Wrap::Auth(a) => {
                a.send_packet_id().set(pid.id - 1, pid.time);
                a.wrap(0, plain, &mut out).unwrap()
            }
            Wrap::Crypt(c) => {
                c.send_packet_id().set(pid.id - 1, pid.time);
                c.wrap(0, plain, &mut out).unwrap()
            }
        };
        out.truncate(n);
        out
    }
}

fn is_data(packet: &[u8]) -> bool {
    matches!(packet[0] >> 3, P_DATA_V1 | P_DATA_V2)
}

fn check_tls_case(name: &str) {
    let case = Case::load(name);
    let cipher = case.cipher();
    let digest = case.digest();

    // 1. Control channel: the receiving side unwraps, the sending side re-wraps identically.
    let mut server_rx = Wrap::new(&case, Role::Server);
    let mut client_rx = Wrap::new(&case, Role::Client);
    let mut server_tx = Wrap::new(&case, Role::Server);
    let mut client_tx = Wrap::new(&case, Role::Client);
    let mut client_sid = None;
    let mut server_sid = None;
    let mut control = 0;
    for (c2s, packet) in case.packets.iter().filter(|(_, p)| !is_data(p)) {
        let (rx, tx) = if *c2s {
            (&mut server_rx, &mut client_tx)
        } else {
            (&mut client_rx, &mut server_tx)
        };
        let (plain, pid) = rx.unwrap(packet);
        assert_eq!(plain[0], packet[0], "{name}: opcode");
        let sid: [u8; 8] = plain[1..9].try_into().unwrap();
        let slot = if *c2s {
            &mut client_sid
        } else {
            &mut server_sid
        };
        assert_eq!(*slot.get_or_insert(sid), sid, "{name}: session id changed");
        if let Some(pid) = pid {
            assert_eq!(&tx.wrap(&plain, pid), packet, "{name}: re-wrap differs");
        }
        control += 1;
    }
    assert!(control >= 4, "{name}: {control} control packets");

    // 2. Key block from the PRF, compared with what OpenVPN logged.
    let block = KeyBlock::from_prf(
        &case.bytes("client_pre_master"),
        &case.bytes("client_random1"),
        &case.bytes("server_random1"),
        &case.bytes("client_random2"),
        &case.bytes("server_random2"),
        &client_sid.unwrap(),
        &server_sid.unwrap(),
    );
    let b = block.as_bytes();
    for (k, at) in [
        ("key0_cipher", 0),
        ("key0_hmac", 64),
        ("key1_cipher", 128),
        ("key1_hmac", 192),
    ] {
        let logged = unhex(case.get(k));
        assert_eq!(&b[at..at + logged.len()], &logged[..], "{name}: {k}");
    }
    assert_eq!(
        unhex(case.get("key0_cipher")).len(),
        cipher.key_len(),
        "{name}"
    );

    // 3. Data packets: each side opens the other's pings.
    let mut server = DataKeys::new(cipher, digest, &block, Role::Server, [0; 32]).unwrap();
    let mut client = DataKeys::new(cipher, digest, &block, Role::Client, [0; 32]).unwrap();
    let mut opened = [0, 0];
    for (c2s, packet) in case.packets.iter().filter(|(_, p)| is_data(p)) {
        let header_len = if packet[0] >> 3 == P_DATA_V2 { 4 } else { 1 };
        let keys = if *c2s { &mut server } else { &mut client };
        let mut buf = packet.clone();
        let range = keys.open(now(), &mut buf, header_len).unwrap();
        assert_eq!(&buf[range], &PING, "{name}: payload");
        opened[usize::from(*c2s)] += 1;
    }
    assert!(
        opened[0] >= 2 && opened[1] >= 2,
        "{name}: opened {opened:?}"
    );

    // 4. AEAD has no random IV: sealing the client's first ping reproduces its packet.
    if cipher.is_aead() {
        let (_, first) = case
            .packets
            .iter()
            .find(|(c2s, p)| *c2s && is_data(p))
            .unwrap();
        let header_len = if first[0] >> 3 == P_DATA_V2 { 4 } else { 1 };
        assert_eq!(
            &first[header_len..header_len + 4],
            &[0, 0, 0, 1],
            "{name}: first id"
        );
        let mut fresh = DataKeys::new(cipher, digest, &block, Role::Client, [0; 32]).unwrap();
        let mut buf = vec![0u8; first.len()];
        buf[..header_len].copy_from_slice(&first[..header_len]);
        let head = header_len + fresh.overhead().head;
        buf[head..head + PING.len()].copy_from_slice(&PING);
        let n = fresh.seal(&mut buf, header_len, PING.len()).unwrap();
        assert_eq!(&buf[..n], &first[..], "{name}: sealed packet differs");
    }
}

fn check_static_case(name: &str) {
    let case = Case::load(name);
    let key = static_key();
    let new = |d| {
        DataKeys::new_static(
            case.cipher(),
            case.digest(),
            &key,
            case.direction(d),
            [0; 32],
            0,
        )
        .unwrap()
    };
    let mut server = new("server_key_direction");
    let mut client = new("client_key_direction");
    let mut pings = 0;
    for (c2s, packet) in &case.packets {
        let keys = if *c2s { &mut server } else { &mut client };
        let mut buf = packet.clone();
        let range = keys.open(now(), &mut buf, 0).unwrap();
        let plain = &buf[range];
        if plain == PING {
            pings += 1;
        } else {
            assert!(
                plain.starts_with(&OCC_MAGIC),
                "{name}: unexpected payload {plain:02x?}"
            );
        }
    }
    assert!(pings >= 4, "{name}: {pings} pings");
    // The other direction's keys cannot open a packet.
    if !case.get("server_key_direction").is_empty() {
        let (_, p) = case.packets.iter().find(|(c2s, _)| *c2s).unwrap();
        let mut wrong = new("client_key_direction");
        assert!(wrong.open(now(), &mut p.clone(), 0).is_err(), "{name}");
    }
}

#[test]
fn tls_aes256gcm_tlsauth_sha1() {
    check_tls_case("tls-aes256gcm-tlsauth-sha1");
}

#[test]
fn tls_aes128gcm_tlscrypt_v1() {
    check_tls_case("tls-aes128gcm-tlscrypt-v1");
}

#[test]
fn tls_aes192gcm_tlsauth_sha256() {
    check_tls_case("tls-aes192gcm-tlsauth-sha256");
}

#[test]
fn tls_chacha20poly1305_tlscrypt() {
    check_tls_case("tls-chacha20poly1305-tlscrypt");
}

#[test]
fn tls_aes256cbc_sha256_tlsauth() {
    check_tls_case("tls-aes256cbc-sha256-tlsauth");
}

#[test]
fn tls_aes128cbc_sha1_v1() {
    check_tls_case("tls-aes128cbc-sha1-v1");
}

#[test]
fn tls_aes192cbc_sha512_tlsauth() {
    check_tls_case("tls-aes192cbc-sha512-tlsauth");
}

#[test]
fn tls_bfcbc_md5_tlsauth() {
    check_tls_case("tls-bfcbc-md5-tlsauth");
}

#[test]
fn tls_aes256cbc_sha384_tlscrypt() {
    check_tls_case("tls-aes256cbc-sha384-tlscrypt");
}

#[test]
fn static_aes256cbc_sha256() {
    check_static_case("static-aes256cbc-sha256");
}

#[test]
fn static_aes128cbc_sha1_bidirectional() {
    check_static_case("static-aes128cbc-sha1-bidir");
}

#[test]
fn static_bfcbc_md5() {
    check_static_case("static-bfcbc-md5");
}

#[test]
fn static_none_sha512() {
    check_static_case("static-none-sha512");
}

#[test]
fn static_key_file_is_what_openvpn_genkey_writes() {
    let text = std::fs::read_to_string(dir().join("static.key")).unwrap();
    assert_eq!(static_key().to_file_string(), text);
}
