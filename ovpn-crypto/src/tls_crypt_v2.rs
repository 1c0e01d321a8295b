//! tls-crypt-v2 keys (`--tls-crypt-v2`, OpenVPN 2.5+): the server key, client keys with their
//! wrapped form WKc and metadata, and finding WKc at the end of a packet (`tls_crypt.c`
//! `tls_crypt_v2_wrap_client_key`, `tls_crypt_v2_unwrap_client_key`,
//! `tls_crypt_v2_extract_client_key`; `doc/tls-crypt-v2.txt`).
//!
//! ```text
//! server key file:  PEM "OpenVPN tls-crypt-v2 server key" of 128 bytes (`struct key`):
//!                   Ke = bytes 0..32 (AES-256-CTR), Ka = bytes 64..96 (HMAC-SHA256)
//! client key file:  PEM "OpenVPN tls-crypt-v2 client key" of Kc (256 bytes) ‖ WKc
//! WKc = T ‖ AES-256-CTR(Ke, IV = T[..16], Kc ‖ metadata) ‖ len     (len = |WKc|, u16 BE)
//! T   = HMAC-SHA256(Ka, len ‖ Kc ‖ metadata)
//! metadata = type(1) ‖ data:  0x00 user data, 0x01 u64 BE unix time of the key's making
//! ```
//!
//! A client uses Kc exactly as a tls-crypt key ([`TlsCrypt`](crate::TlsCrypt), client role) and
//! appends WKc, in clear, to its `P_CONTROL_HARD_RESET_CLIENT_V3` (and to a `P_CONTROL_WKC_V1`
//! when the server asks it to resend). The server finds WKc by its trailing length
//! ([`split_wkc`]), unwraps it with its server key, and checks the rest of the packet with Kc.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::tls::TlsCryptKey;
use crate::{KEY_BLOCK_LEN, StaticKey};

/// The PEM label of a server key file (`tls_crypt.c` `tls_crypt_v2_srv_pem_name`).
pub const SERVER_KEY_LABEL: &str = "OpenVPN tls-crypt-v2 server key";
/// The PEM label of a client key file (`tls_crypt.c` `tls_crypt_v2_cli_pem_name`).
pub const CLIENT_KEY_LABEL: &str = "OpenVPN tls-crypt-v2 client key";
/// The server key's length: one `struct key`, a 64-byte cipher and a 64-byte HMAC slot
/// (`tls_crypt.h` `TLS_CRYPT_V2_SERVER_KEY_LEN`).
pub const SERVER_KEY_LEN: usize = 128;
/// The longest WKc (`tls_crypt.h` `TLS_CRYPT_V2_MAX_WKC_LEN`).
pub const MAX_WKC_LEN: usize = 1024;
/// The longest metadata, its type byte included (`TLS_CRYPT_V2_MAX_METADATA_LEN`: 1024 less
/// the key, the tag and the length).
pub const MAX_METADATA_LEN: usize = MAX_WKC_LEN - (KEY_BLOCK_LEN + TAG_LEN + 2);
const TAG_LEN: usize = 32;
/// Metadata type: user data (`tls_crypt.c` `TLS_CRYPT_METADATA_TYPE_USER`).
pub const METADATA_USER: u8 = 0x00;
/// Metadata type: the key's making time (`TLS_CRYPT_METADATA_TYPE_TIMESTAMP`).
pub const METADATA_TIMESTAMP: u8 = 0x01;

/// Why a tls-crypt-v2 key or wrapped key was refused. Says what is wrong, never what the key
/// holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsCryptV2Error {
    /// No PEM block with the expected label.
    #[error("not a tls-crypt-v2 {0} key: no `-----BEGIN {1}-----` block")]
    NotAKeyFile(&'static str, &'static str),
    /// The PEM block is malformed (framing or base64).
    #[error("tls-crypt-v2 {0} key: malformed PEM (framing or base64)")]
    BadPem(&'static str),
    /// A server key file that does not hold exactly 128 bytes.
    #[error("tls-crypt-v2 server key: {0} bytes where 128 are needed")]
    ServerKeyLength(usize),
    /// A client key file too short for a key and a wrapped key, or too long.
    #[error("tls-crypt-v2 client key: {0} bytes, not a 256-byte key and a wrapped key")]
    ClientKeyLength(usize),
    /// A wrapped key too short, too long (over 1024 bytes), or whose length field disagrees.
    #[error("wrapped client key: malformed length ({0} bytes)")]
    WkcLength(usize),
    /// A wrapped key that does not authenticate: made with another server key, or corrupted.
    #[error("wrapped client key does not authenticate (another server key, or corrupted)")]
    WkcAuth,
    /// Metadata longer than a wrapped key can hold.
    #[error("tls-crypt-v2 metadata too long: {0} bytes, at most 733 after its type byte")]
    MetadataTooLong(usize),
}

/// What a client key says about itself, wrapped with it: a type byte and data. Read by the
/// server once the wrapped key authenticated; a policy (key expiry, a revoked user) can use it.
#[derive(Clone, PartialEq, Eq)]
pub struct Metadata(Vec<u8>);

impl core::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.kind(), self.timestamp()) {
            (Some(METADATA_TIMESTAMP), Some(t)) => write!(f, "Metadata(timestamp {t})"),
            (Some(k), _) => write!(f, "Metadata(type {k}, {} bytes)", self.0.len() - 1),
            (None, _) => f.write_str("Metadata(empty)"),
        }
    }
}

impl Metadata {
    /// The metadata `openvpn --genkey tls-crypt-v2-client` writes without a metadata argument:
    /// the time of making, in seconds since 1970.
    pub fn timestamp_of(unix_seconds: u64) -> Self {
        let mut m = vec![METADATA_TIMESTAMP];
        m.extend_from_slice(&unix_seconds.to_be_bytes());
        Self(m)
    }

    /// User metadata (type 0), as `openvpn --genkey tls-crypt-v2-client FILE BASE64` writes.
    pub fn user(data: &[u8]) -> Result<Self, TlsCryptV2Error> {
        if data.len() > MAX_METADATA_LEN - 1 {
            return Err(TlsCryptV2Error::MetadataTooLong(data.len()));
        }
        let mut m = vec![METADATA_USER];
        m.extend_from_slice(data);
        Ok(Self(m))
    }

    /// Metadata as unwrapped, type byte first (any type; empty is possible from other
    /// implementations).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TlsCryptV2Error> {
        if bytes.len() > MAX_METADATA_LEN {
            return Err(TlsCryptV2Error::MetadataTooLong(
                bytes.len().saturating_sub(1),
            ));
        }
        Ok(Self(bytes.to_vec()))
    }

    /// All of it, type byte first (what 2.6 hands a `--tls-crypt-v2-verify` script).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The type byte ([`METADATA_USER`], [`METADATA_TIMESTAMP`], or another).
    pub fn kind(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// For a timestamp, the key's making time (seconds since 1970), as 2.6's
    /// `--tls-crypt-v2-max-age` reads it (`tls_crypt_v2_check_client_key_age`).
    pub fn timestamp(&self) -> Option<u64> {
        if self.kind() != Some(METADATA_TIMESTAMP) {
            return None;
        }
        let b: [u8; 8] = self.0.get(1..9)?.try_into().ok()?;
        Some(u64::from_be_bytes(b))
    }

    /// For user metadata, its data.
    pub fn user_data(&self) -> Option<&[u8]> {
        (self.kind() == Some(METADATA_USER)).then(|| &self.0[1..])
    }
}

/// The server's tls-crypt-v2 key: it wraps client keys (key generation) and unwraps the WKc
/// every tls-crypt-v2 client sends.
///
/// ```
/// use ovpn_crypto::{Metadata, TlsCryptV2ServerKey};
/// let server = TlsCryptV2ServerKey::from_bytes(&[7; 128])?;
/// let client = server.make_client_key([9; 256], &Metadata::timestamp_of(1_700_000_000))?;
/// let (kc, meta) = server.unwrap_client_key(client.wkc())?;
/// assert_eq!(&kc, client.key());
/// assert_eq!(meta.timestamp(), Some(1_700_000_000));
/// // The files are those of `openvpn --genkey tls-crypt-v2-server/-client`.
/// let text = server.to_pem();
/// assert!(text.starts_with("-----BEGIN OpenVPN tls-crypt-v2 server key-----"));
/// assert_eq!(TlsCryptV2ServerKey::parse(&text)?.to_pem(), text);
/// # Ok::<(), ovpn_crypto::TlsCryptV2Error>(())
/// ```
pub struct TlsCryptV2ServerKey {
    raw: Zeroizing<[u8; SERVER_KEY_LEN]>,
    key: TlsCryptKey,
}

impl core::fmt::Debug for TlsCryptV2ServerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TlsCryptV2ServerKey(..)")
    }
}

impl Clone for TlsCryptV2ServerKey {
    fn clone(&self) -> Self {
        // The bytes made a key once; they make it again.
        Self::from_raw(*self.raw).unwrap_or_else(|_| unreachable!("a key made from these bytes"))
    }
}

impl PartialEq for TlsCryptV2ServerKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.raw[..].ct_eq(&other.raw[..]))
    }
}

impl Eq for TlsCryptV2ServerKey {}

impl TlsCryptV2ServerKey {
    /// A key from its 128 bytes (random ones for a new key: this crate reads no RNG).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TlsCryptV2Error> {
        let raw: [u8; SERVER_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| TlsCryptV2Error::ServerKeyLength(bytes.len()))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: [u8; SERVER_KEY_LEN]) -> Result<Self, TlsCryptV2Error> {
        let raw = Zeroizing::new(raw);
        let key = TlsCryptKey::from_slices(&raw[..32], &raw[64..96])
            .map_err(|_| TlsCryptV2Error::ServerKeyLength(SERVER_KEY_LEN))?;
        Ok(Self { raw, key })
    }

    /// Parses a server key file (text before the PEM block is ignored, as OpenSSL does).
    pub fn parse(text: &str) -> Result<Self, TlsCryptV2Error> {
        let bytes = pem_decode(text, "server", SERVER_KEY_LABEL)?;
        Self::from_bytes(&bytes)
    }

    /// The key file's text (64 columns of base64, as OpenVPN writes it).
    pub fn to_pem(&self) -> String {
        pem_encode(SERVER_KEY_LABEL, &self.raw[..])
    }

    /// WKc for the client key `kc` with `metadata`.
    pub fn wrap_client_key(
        &self,
        kc: &StaticKey,
        metadata: &Metadata,
    ) -> Result<Vec<u8>, TlsCryptV2Error> {
        let meta = metadata.as_bytes();
        let total = TAG_LEN + KEY_BLOCK_LEN + meta.len() + 2;
        if total > MAX_WKC_LEN {
            return Err(TlsCryptV2Error::MetadataTooLong(
                meta.len().saturating_sub(1),
            ));
        }
        let len = (total as u16).to_be_bytes();
        let kc = kc.key_block().as_bytes();
        let tag = self.key.tag(&[&len, kc, meta]);
        let mut plain = Zeroizing::new(Vec::with_capacity(KEY_BLOCK_LEN + meta.len()));
        plain.extend_from_slice(kc);
        plain.extend_from_slice(meta);
        let mut wkc = vec![0u8; total];
        wkc[..TAG_LEN].copy_from_slice(&tag);
        self.key
            .ctr(&tag, &plain, &mut wkc[TAG_LEN..total - 2])
            .map_err(|_| TlsCryptV2Error::WkcAuth)?;
        wkc[total - 2..].copy_from_slice(&len);
        Ok(wkc)
    }

    /// A new client key from 256 random bytes: Kc and its WKc (`--genkey tls-crypt-v2-client`).
    pub fn make_client_key(
        &self,
        random: [u8; KEY_BLOCK_LEN],
        metadata: &Metadata,
    ) -> Result<TlsCryptV2ClientKey, TlsCryptV2Error> {
        let key = StaticKey::generate(random);
        let wkc = self.wrap_client_key(&key, metadata)?;
        Ok(TlsCryptV2ClientKey { key, wkc })
    }

    /// Unwraps a WKc: the client's key and its metadata, if it authenticates under this server
    /// key (checked in constant time; nothing is returned otherwise).
    pub fn unwrap_client_key(&self, wkc: &[u8]) -> Result<(StaticKey, Metadata), TlsCryptV2Error> {
        let n = wkc.len();
        if !(TAG_LEN + KEY_BLOCK_LEN + 2..=MAX_WKC_LEN).contains(&n) {
            return Err(TlsCryptV2Error::WkcLength(n));
        }
        let len = [wkc[n - 2], wkc[n - 1]];
        if usize::from(u16::from_be_bytes(len)) != n {
            return Err(TlsCryptV2Error::WkcLength(n));
        }
        let (tag, ct) = (&wkc[..TAG_LEN], &wkc[TAG_LEN..n - 2]);
        let mut plain = Zeroizing::new([0u8; MAX_WKC_LEN]);
        let plain = &mut plain[..ct.len()];
        self.key
            .ctr(tag, ct, plain)
            .map_err(|_| TlsCryptV2Error::WkcAuth)?;
        let check = self.key.tag(&[&len, plain]);
        if !bool::from(check[..].ct_eq(tag)) {
            return Err(TlsCryptV2Error::WkcAuth);
        }
        let mut kc = [0u8; KEY_BLOCK_LEN];
        kc.copy_from_slice(&plain[..KEY_BLOCK_LEN]);
        let key = StaticKey::generate(kc);
        zeroize::Zeroize::zeroize(&mut kc);
        Ok((key, Metadata::from_bytes(&plain[KEY_BLOCK_LEN..])?))
    }
}

/// A client's tls-crypt-v2 key: Kc, its tls-crypt key, and WKc, which it sends to the server.
///
/// ```
/// use ovpn_crypto::{Metadata, TlsCryptV2ClientKey, TlsCryptV2ServerKey};
/// let server = TlsCryptV2ServerKey::from_bytes(&[7; 128])?;
/// let client = server.make_client_key([9; 256], &Metadata::user(b"serial=1234")?)?;
/// let again = TlsCryptV2ClientKey::parse(&client.to_pem())?;
/// assert_eq!(again.wkc(), client.wkc());
/// # Ok::<(), ovpn_crypto::TlsCryptV2Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TlsCryptV2ClientKey {
    key: StaticKey,
    wkc: Vec<u8>,
}

impl core::fmt::Debug for TlsCryptV2ClientKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TlsCryptV2ClientKey(wkc {} bytes)", self.wkc.len())
    }
}

impl TlsCryptV2ClientKey {
    /// Parses a client key file, or a profile's inline `<tls-crypt-v2>` block.
    pub fn parse(text: &str) -> Result<Self, TlsCryptV2Error> {
        let bytes = Zeroizing::new(pem_decode(text, "client", CLIENT_KEY_LABEL)?);
        let n = bytes.len();
        if !(KEY_BLOCK_LEN + TAG_LEN + KEY_BLOCK_LEN + 2..=KEY_BLOCK_LEN + MAX_WKC_LEN).contains(&n)
        {
            return Err(TlsCryptV2Error::ClientKeyLength(n));
        }
        let mut kc = [0u8; KEY_BLOCK_LEN];
        kc.copy_from_slice(&bytes[..KEY_BLOCK_LEN]);
        let key = StaticKey::generate(kc);
        zeroize::Zeroize::zeroize(&mut kc);
        let wkc = bytes[KEY_BLOCK_LEN..].to_vec();
        let field = usize::from(u16::from_be_bytes([wkc[wkc.len() - 2], wkc[wkc.len() - 1]]));
        if field != wkc.len() {
            return Err(TlsCryptV2Error::WkcLength(wkc.len()));
        }
        Ok(Self { key, wkc })
    }

    /// The key file's text.
    pub fn to_pem(&self) -> String {
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_BLOCK_LEN + self.wkc.len()));
        bytes.extend_from_slice(self.key.key_block().as_bytes());
        bytes.extend_from_slice(&self.wkc);
        pem_encode(CLIENT_KEY_LABEL, &bytes)
    }

    /// Kc: the client's tls-crypt key.
    pub fn key(&self) -> &StaticKey {
        &self.key
    }

    /// WKc, sent in clear after the client's first packet.
    pub fn wkc(&self) -> &[u8] {
        &self.wkc
    }
}

/// Splits a received `P_CONTROL_HARD_RESET_CLIENT_V3` or `P_CONTROL_WKC_V1` into the
/// tls-crypt packet and the WKc after it, found by WKc's trailing length
/// (`tls_crypt_v2_extract_client_key`). Checks the lengths only.
pub fn split_wkc(packet: &[u8]) -> Result<(&[u8], &[u8]), TlsCryptV2Error> {
    let n = packet.len();
    // The opcode byte, then at least the length field.
    if n < 3 {
        return Err(TlsCryptV2Error::WkcLength(n));
    }
    let field = usize::from(u16::from_be_bytes([packet[n - 2], packet[n - 1]]));
    if field > n - 1 || !(TAG_LEN + KEY_BLOCK_LEN + 2..=MAX_WKC_LEN).contains(&field) {
        return Err(TlsCryptV2Error::WkcLength(field));
    }
    Ok(packet.split_at(n - field))
}

fn pem_decode(
    text: &str,
    kind: &'static str,
    label: &'static str,
) -> Result<Vec<u8>, TlsCryptV2Error> {
    use base64ct::Encoding as _;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or(TlsCryptV2Error::NotAKeyFile(kind, label))?
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .map(|i| start + i)
        .ok_or(TlsCryptV2Error::BadPem(kind))?;
    // Base64 on lines of any width (OpenSSL writes 64 columns), CRLF or LF.
    let b64 = Zeroizing::new(
        text[start..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect::<String>(),
    );
    base64ct::Base64::decode_vec(&b64).map_err(|_| TlsCryptV2Error::BadPem(kind))
}

fn pem_encode(label: &str, bytes: &[u8]) -> String {
    use base64ct::Encoding as _;
    let b64 = Zeroizing::new(base64ct::Base64::encode_string(bytes));
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(core::str::from_utf8(line).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by `openvpn --genkey tls-crypt-v2-server` and `--tls-crypt-v2 SERVER --genkey
    // tls-crypt-v2-client` (OpenVPN 2.6.14), the second with the metadata `serial=1234`.
    const SERVER: &str = include_str!("../../testdata/crypto/tls-crypt-v2-server.key");
    const CLIENT: &str = include_str!("../../testdata/crypto/tls-crypt-v2-client.key");
    const CLIENT_USER: &str = include_str!("../../testdata/crypto/tls-crypt-v2-client-user.key");

    #[test]
    fn openvpns_keys_unwrap_with_their_metadata() {
        let server = TlsCryptV2ServerKey::parse(SERVER).unwrap();
        let client = TlsCryptV2ClientKey::parse(CLIENT).unwrap();
        let (kc, meta) = server.unwrap_client_key(client.wkc()).unwrap();
        assert_eq!(&kc, client.key());
        assert_eq!(meta.kind(), Some(METADATA_TIMESTAMP));
        // Made in 2026.
        let t = meta.timestamp().unwrap();
        assert!((1_767_225_600..1_798_761_600).contains(&t), "{t}");
        let user = TlsCryptV2ClientKey::parse(CLIENT_USER).unwrap();
        let (kc, meta) = server.unwrap_client_key(user.wkc()).unwrap();
        assert_eq!(&kc, user.key());
        assert_eq!(meta.user_data(), Some(&b"serial=1234"[..]));
        assert_eq!(meta.timestamp(), None);
        // Our wrapping of OpenVPN's key and metadata is OpenVPN's WKc, byte for byte.
        assert_eq!(server.wrap_client_key(&kc, &meta).unwrap(), user.wkc());
        // And the files come back as they were written.
        assert_eq!(server.to_pem(), SERVER);
        assert_eq!(user.to_pem(), CLIENT_USER);
    }

    #[test]
    fn a_wrong_server_key_or_a_flipped_bit_is_refused() {
        let server = TlsCryptV2ServerKey::parse(SERVER).unwrap();
        let client = TlsCryptV2ClientKey::parse(CLIENT).unwrap();
        let other = TlsCryptV2ServerKey::from_bytes(&[1; 128]).unwrap();
        assert_eq!(
            other.unwrap_client_key(client.wkc()).unwrap_err(),
            TlsCryptV2Error::WkcAuth
        );
        for i in 0..client.wkc().len() - 2 {
            let mut w = client.wkc().to_vec();
            w[i] ^= 0x10;
            assert_eq!(
                server.unwrap_client_key(&w).unwrap_err(),
                TlsCryptV2Error::WkcAuth,
                "byte {i}"
            );
        }
        let mut w = client.wkc().to_vec();
        let n = w.len();
        w[n - 1] ^= 1;
        assert!(matches!(
            server.unwrap_client_key(&w),
            Err(TlsCryptV2Error::WkcLength(_))
        ));
        assert!(server.unwrap_client_key(&w[..100]).is_err());
        assert!(server.unwrap_client_key(&[]).is_err());
    }

    #[test]
    fn key_files_of_the_wrong_kind_are_named() {
        assert_eq!(
            TlsCryptV2ServerKey::parse(CLIENT).unwrap_err(),
            TlsCryptV2Error::NotAKeyFile("server", SERVER_KEY_LABEL)
        );
        assert_eq!(
            TlsCryptV2ClientKey::parse(SERVER).unwrap_err(),
            TlsCryptV2Error::NotAKeyFile("client", CLIENT_KEY_LABEL)
        );
        let broken = SERVER.replace('o', "!");
        assert_eq!(
            TlsCryptV2ServerKey::parse(&broken).unwrap_err(),
            TlsCryptV2Error::BadPem("server")
        );
        // CRLF line ends and a comment before the block are fine.
        let crlf = format!("# made for tests\r\n{}", SERVER.replace('\n', "\r\n"));
        assert!(TlsCryptV2ServerKey::parse(&crlf).is_ok());
        // The error says nothing of the key.
        let e = TlsCryptV2ServerKey::parse(&broken).unwrap_err().to_string();
        assert!(!e.contains("o5Or"), "{e}");
    }

    #[test]
    fn metadata_bounds() {
        assert!(Metadata::user(&[0; 733]).is_ok());
        assert_eq!(
            Metadata::user(&[0; 734]).unwrap_err(),
            TlsCryptV2Error::MetadataTooLong(734)
        );
        let server = TlsCryptV2ServerKey::from_bytes(&[3; 128]).unwrap();
        let big = server
            .make_client_key([4; 256], &Metadata::user(&[5; 733]).unwrap())
            .unwrap();
        assert_eq!(big.wkc().len(), MAX_WKC_LEN);
        assert_eq!(
            TlsCryptV2ClientKey::parse(&big.to_pem()).unwrap().wkc(),
            big.wkc()
        );
    }

    #[test]
    fn wkc_is_found_at_the_end_of_a_packet() {
        let server = TlsCryptV2ServerKey::from_bytes(&[3; 128]).unwrap();
        let client = server
            .make_client_key([4; 256], &Metadata::timestamp_of(5))
            .unwrap();
        let mut packet = vec![0x50; 54];
        packet.extend_from_slice(client.wkc());
        let (p, w) = split_wkc(&packet).unwrap();
        assert_eq!((p.len(), w), (54, client.wkc()));
        assert!(split_wkc(&packet[..packet.len() - 1]).is_err());
        assert!(split_wkc(&[0x50, 0, 3]).is_err());
        // WKc alone is no packet: the opcode byte at least comes first.
        assert!(split_wkc(client.wkc()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn hostile_wkc_and_key_files_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1400)) {
            let server = TlsCryptV2ServerKey::from_bytes(&[3; 128]).unwrap();
            let _ = server.unwrap_client_key(&bytes);
            let _ = split_wkc(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = TlsCryptV2ClientKey::parse(&text);
            let _ = TlsCryptV2ServerKey::parse(&text);
        }

        #[test]
        fn wrap_then_unwrap_gives_the_key_back(seed in proptest::num::u8::ANY, meta in proptest::collection::vec(proptest::num::u8::ANY, 0..733)) {
            let server = TlsCryptV2ServerKey::from_bytes(&[seed; 128]).unwrap();
            let m = Metadata::user(&meta).unwrap();
            let client = server.make_client_key([seed ^ 0x55; 256], &m).unwrap();
            let (kc, back) = server.unwrap_client_key(client.wkc()).unwrap();
            proptest::prop_assert_eq!(&kc, client.key());
            proptest::prop_assert_eq!(back, m);
            let mut packet = vec![0x50; 60];
            packet.extend_from_slice(client.wkc());
            let (p, w) = split_wkc(&packet).unwrap();
            proptest::prop_assert_eq!(p.len(), 60);
            proptest::prop_assert_eq!(w, client.wkc());
        }
    }
}
