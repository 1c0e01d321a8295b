//! Key material: the 256-byte key block, its derivation, directions and static key files.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::CryptoError;
use crate::prf::tls1_prf;

/// Length of a key block: OpenVPN's `struct key2` holds two `struct key { cipher[64]; hmac[64] }`
/// (`crypto.h`: `MAX_CIPHER_KEY_LENGTH` = `MAX_HMAC_KEY_LENGTH` = 64).
pub const KEY_BLOCK_LEN: usize = 256;
/// Length of one key slot (cipher or HMAC) inside a key.
const SLOT_LEN: usize = 64;

/// TLS keying-material exporter label for the data-channel key block (`ssl_backend.h`
/// `EXPORT_KEY_DATA_LABEL`). OpenVPN 2.6 calls the exporter with this label, no context, and
/// 256 bytes out (`ssl.c` `generate_key_expansion_tls_export`); feed the result to
/// [`KeyBlock::from_ekm`].
pub const EKM_LABEL: &str = "EXPORTER-OpenVPN-datakeys";

/// Exporter label for dynamic tls-crypt keys (`ssl_backend.h` `EXPORT_DYNAMIC_TLS_CRYPT_LABEL`,
/// 256 bytes, no context); see [`TlsCrypt::dynamic`](crate::TlsCrypt::dynamic).
pub const DYNAMIC_TLS_CRYPT_EKM_LABEL: &str = "EXPORTER-OpenVPN-dynamic-tls-crypt";

/// The 256 bytes from which a data channel's keys are cut (OpenVPN's `struct key2`).
///
/// | bytes | slot |
/// |---|---|
/// | 0..64 | `keys[0].cipher` (client to server cipher key) |
/// | 64..128 | `keys[0].hmac` (client to server HMAC key, or AEAD implicit IV) |
/// | 128..192 | `keys[1].cipher` (server to client) |
/// | 192..256 | `keys[1].hmac` (server to client) |
///
/// A suite takes the first `key_len` bytes of a cipher slot and the first `digest_len` bytes of
/// an HMAC slot; an AEAD takes its 8-byte implicit IV from the start of the HMAC slot.
///
/// Zeroed on drop; `Debug` does not print the key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyBlock {
    bytes: [u8; KEY_BLOCK_LEN],
}

/// Constant-time comparison (no early exit on the first differing key byte).
impl PartialEq for KeyBlock {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for KeyBlock {}

impl KeyBlock {
    /// Wraps 256 bytes exported from TLS with [`EKM_LABEL`] (OpenVPN 2.6 `tls-ekm`, used when
    /// the client set `IV_PROTO` bit 3 and the server pushed `key-derivation tls-ekm`).
    pub fn from_ekm(bytes: [u8; KEY_BLOCK_LEN]) -> Self {
        KeyBlock { bytes }
    }

    /// Wraps 256 raw bytes (for example from a test or another derivation).
    pub fn from_bytes(bytes: [u8; KEY_BLOCK_LEN]) -> Self {
        KeyBlock { bytes }
    }

    /// The legacy key-method-2 derivation (peers without tls-ekm: OpenVPN before 2.6, RouterOS),
    /// `ssl.c` `generate_key_expansion_openvpn_prf`:
    ///
    /// ```text
    /// master   = PRF(pre_master, "OpenVPN master secret" ‖ client_random1 ‖ server_random1, 48)
    /// keyblock = PRF(master, "OpenVPN key expansion" ‖ client_random2 ‖ server_random2
    ///                        ‖ client_sid ‖ server_sid, 256)
    /// ```
    ///
    /// with PRF the TLS 1.0 PRF over MD5 and SHA1 and the labels without a trailing NUL
    /// (`ssl.h` `KEY_EXPANSION_ID` = "OpenVPN"). `pre_master` and the `random1`/`random2`
    /// values come from the key-method-2 records (the server sends no pre-master);
    /// `client_sid`/`server_sid` are the control-channel session ids each side chose for itself.
    pub fn from_prf(
        pre_master: &[u8; 48],
        client_random1: &[u8; 32],
        server_random1: &[u8; 32],
        client_random2: &[u8; 32],
        server_random2: &[u8; 32],
        client_sid: &[u8; 8],
        server_sid: &[u8; 8],
    ) -> Self {
        let mut master = [0u8; 48];
        tls1_prf(
            pre_master,
            &[b"OpenVPN master secret", client_random1, server_random1],
            &mut master,
        );
        let mut bytes = [0u8; KEY_BLOCK_LEN];
        tls1_prf(
            &master,
            &[
                b"OpenVPN key expansion",
                client_random2,
                server_random2,
                client_sid,
                server_sid,
            ],
            &mut bytes,
        );
        master.zeroize();
        KeyBlock { bytes }
    }

    /// The 256 key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_BLOCK_LEN] {
        &self.bytes
    }

    /// Cipher slot of `keys[index]` (64 bytes).
    pub(crate) fn cipher_slot(&self, index: KeyIndex) -> &[u8] {
        let start = index as usize * 2 * SLOT_LEN;
        &self.bytes[start..start + SLOT_LEN]
    }

    /// HMAC slot of `keys[index]` (64 bytes).
    pub(crate) fn hmac_slot(&self, index: KeyIndex) -> &[u8] {
        let start = index as usize * 2 * SLOT_LEN + SLOT_LEN;
        &self.bytes[start..start + SLOT_LEN]
    }

    /// XOR with another block (dynamic tls-crypt, `tls_crypt.c` `xor_key2`).
    pub(crate) fn xor(&mut self, other: &KeyBlock) {
        for (a, b) in self.bytes.iter_mut().zip(other.bytes.iter()) {
            *a ^= b;
        }
    }
}

impl fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyBlock([REDACTED; 256])")
    }
}

/// Which of the two keys of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyIndex {
    Zero = 0,
    One = 1,
}

/// A peer's role in the TLS handshake (OpenVPN's `--tls-client` / `--tls-server`).
///
/// For the data channel the client encrypts with `keys[0]` and decrypts with `keys[1]`, the
/// server the reverse (`ssl.c` `init_key_contexts`: client `KEY_DIRECTION_NORMAL`, server
/// `KEY_DIRECTION_INVERSE`). tls-crypt uses the opposite assignment: server NORMAL, client
/// INVERSE (`tls_crypt.c` `tls_crypt_init_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The TLS client (OpenVPN `--client` / `--tls-client`).
    Client,
    /// The TLS server (OpenVPN `--server` / `--tls-server`).
    Server,
}

impl Role {
    /// The key direction of this role's data channel.
    pub const fn data_channel_direction(self) -> KeyDirection {
        match self {
            Role::Client => KeyDirection::Normal,
            Role::Server => KeyDirection::Inverse,
        }
    }

    /// The key direction of this role's tls-crypt keys.
    pub const fn tls_crypt_direction(self) -> KeyDirection {
        match self {
            Role::Client => KeyDirection::Inverse,
            Role::Server => KeyDirection::Normal,
        }
    }
}

/// Which half of a key block a peer sends with and which it receives with (`crypto.h`
/// `KEY_DIRECTION_*`, `crypto.c` `key_direction_state_init`). In configuration files this is
/// `key-direction 0|1` or the second argument of `--tls-auth`/`--secret`; absent means
/// bidirectional (`crypto.c` `ascii2keydirection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyDirection {
    /// `0`: send with `keys[0]`, receive with `keys[1]` (conventionally the server for tls-auth).
    Normal,
    /// `1`: send with `keys[1]`, receive with `keys[0]` (conventionally the client).
    Inverse,
    /// No direction: both ways use `keys[0]`.
    Bidirectional,
}

impl KeyDirection {
    /// The configuration value: `Some(0)`, `Some(1)` or `None` for bidirectional.
    pub const fn as_option(self) -> Option<u8> {
        match self {
            KeyDirection::Normal => Some(0),
            KeyDirection::Inverse => Some(1),
            KeyDirection::Bidirectional => None,
        }
    }

    /// From the configuration value: 0, 1, or absent; other numbers are `None`.
    pub const fn from_option(value: Option<u8>) -> Option<Self> {
        match value {
            Some(0) => Some(KeyDirection::Normal),
            Some(1) => Some(KeyDirection::Inverse),
            None => Some(KeyDirection::Bidirectional),
            Some(_) => None,
        }
    }

    /// `(send, receive)` key indexes.
    pub(crate) const fn indexes(self) -> (KeyIndex, KeyIndex) {
        match self {
            KeyDirection::Normal => (KeyIndex::Zero, KeyIndex::One),
            KeyDirection::Inverse => (KeyIndex::One, KeyIndex::Zero),
            KeyDirection::Bidirectional => (KeyIndex::Zero, KeyIndex::Zero),
        }
    }
}

const STATIC_KEY_HEAD: &[u8] = b"-----BEGIN OpenVPN Static key V1-----"; // crypto.c static_key_head
const STATIC_KEY_FOOT: &[u8] = b"-----END OpenVPN Static key V1-----"; // crypto.c static_key_foot

/// An OpenVPN static key file (`openvpn --genkey secret`): 256 bytes in hex between
/// `-----BEGIN OpenVPN Static key V1-----` and `-----END OpenVPN Static key V1-----`, used by
/// tls-auth, tls-crypt and `--secret`. Same layout as a [`KeyBlock`].
///
/// Zeroed on drop; `Debug` does not print the key.
///
/// ```
/// use ovpn_crypto::StaticKey;
/// let key = StaticKey::generate([7u8; 256]);
/// let text = key.to_file_string();
/// assert!(text.contains("-----BEGIN OpenVPN Static key V1-----"));
/// assert_eq!(StaticKey::parse(&text)?, key);
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StaticKey {
    block: KeyBlock,
}

impl StaticKey {
    /// A new key from 256 random bytes supplied by the caller (this crate reads no RNG).
    pub fn generate(random: [u8; KEY_BLOCK_LEN]) -> Self {
        StaticKey {
            block: KeyBlock::from_bytes(random),
        }
    }

    /// Parses a key file exactly as OpenVPN's `crypto.c` `read_key_file` does: everything
    /// before a line that starts with the header is ignored (comments); after it, hex digits are
    /// read two by two and white space is skipped anywhere; any other character is an error;
    /// bytes after the 256th are ignored; a line starting with `-` ends the key and must begin
    /// with the footer (text after the footer is ignored). Unlike OpenVPN, which accepts a
    /// 128-byte key for bidirectional use, this needs all 256 bytes.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        #[derive(PartialEq, Clone, Copy)]
        enum State {
            Initial,
            Head,
            Data,
            DataComplete,
            Foot,
            Finished,
        }
        let mut state = State::Initial;
        let mut bytes = [0u8; KEY_BLOCK_LEN];
        let mut count = 0usize;
        let mut nibble: Option<u8> = None;
        let mut line_index = 0usize;
        let mut matched = 0usize;
        let mut line_num: u32 = 1;

        for &c in text.as_bytes() {
            if c == b'\n' {
                line_index = 0;
                matched = 0;
                line_num = line_num.saturating_add(1);
                continue;
            }
            if line_index == 0 {
                if state == State::Head {
                    state = State::Data;
                }
                if matches!(state, State::Data | State::DataComplete) && c == b'-' {
                    state = State::Foot;
                }
            }
            match state {
                State::Initial => {
                    if STATIC_KEY_HEAD.get(line_index) == Some(&c) {
                        matched += 1;
                        if matched == STATIC_KEY_HEAD.len() {
                            state = State::Head;
                        }
                    }
                }
                State::Foot => {
                    if STATIC_KEY_FOOT.get(line_index) == Some(&c) {
                        matched += 1;
                        if matched == STATIC_KEY_FOOT.len() {
                            state = State::Finished;
                        }
                    }
                }
                State::Data => {
                    if let Some(v) = hex_value(c) {
                        match nibble.take() {
                            None => nibble = Some(v),
                            Some(hi) => {
                                if let Some(slot) = bytes.get_mut(count) {
                                    *slot = (hi << 4) | v;
                                }
                                count += 1;
                                if count == KEY_BLOCK_LEN {
                                    state = State::DataComplete;
                                }
                            }
                        }
                    } else if !is_c_space(c) {
                        bytes.zeroize();
                        return Err(CryptoError::StaticKeyBadChar { line: line_num });
                    }
                }
                State::Head | State::DataComplete | State::Finished => {}
            }
            line_index += 1;
        }

        let key = StaticKey::generate(bytes);
        bytes.zeroize();
        match state {
            State::Initial => Err(CryptoError::StaticKeyNoHeader),
            State::Finished if count == KEY_BLOCK_LEN => Ok(key),
            State::Finished | State::Foot => Err(CryptoError::StaticKeyLength { found: count }),
            State::DataComplete => Err(CryptoError::StaticKeyNoFooter),
            State::Head | State::Data => Err(if count == 0 {
                CryptoError::StaticKeyLength { found: 0 }
            } else {
                CryptoError::StaticKeyNoFooter
            }),
        }
    }

    /// The key file text, formatted like `openvpn --genkey secret` writes it (`crypto.c`
    /// `write_key_file`): a three-line comment, the header, 16 lines of 32 lowercase hex
    /// digits, the footer, each line ending in `\n`. The returned string holds the key; the
    /// caller should zeroize it when done (`zeroize::Zeroize` is implemented for `String`).
    pub fn to_file_string(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(700);
        s.push_str("#\n# 2048 bit OpenVPN static key\n#\n");
        s.push_str("-----BEGIN OpenVPN Static key V1-----\n");
        for line in self.block.as_bytes().chunks(16) {
            for &b in line {
                s.push(char::from(HEX[usize::from(b >> 4)]));
                s.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
            s.push('\n');
        }
        s.push_str("-----END OpenVPN Static key V1-----\n");
        s
    }

    /// The key as a key block (same layout).
    pub fn key_block(&self) -> &KeyBlock {
        &self.block
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// C `isspace` in the "C" locale (space, \t, \n, \v, \f, \r).
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; 256] {
        core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
    }

    #[test]
    fn debug_is_redacted() {
        let k = KeyBlock::from_bytes([0xAB; 256]);
        let s = format!("{k:?} {:?}", StaticKey::generate([0xAB; 256]));
        assert!(
            !s.to_lowercase().contains("ab, ") && !s.contains("171"),
            "{s}"
        );
        assert!(s.contains("REDACTED"));
    }

    #[test]
    fn slots() {
        let k = KeyBlock::from_bytes(sample());
        assert_eq!(k.cipher_slot(KeyIndex::Zero), &sample()[0..64]);
        assert_eq!(k.hmac_slot(KeyIndex::Zero), &sample()[64..128]);
        assert_eq!(k.cipher_slot(KeyIndex::One), &sample()[128..192]);
        assert_eq!(k.hmac_slot(KeyIndex::One), &sample()[192..256]);
    }

    #[test]
    fn file_round_trip_and_tolerance() {
        let key = StaticKey::generate(sample());
        let text = key.to_file_string();
        assert_eq!(text.lines().count(), 3 + 1 + 16 + 1);
        assert_eq!(StaticKey::parse(&text), Ok(key.clone()));
        // CRLF, upper case, odd spacing, text after the footer, comments before the header.
        let messy = text
            .replace('\n', "\r\n")
            .to_uppercase()
            .replace(
                "-----BEGIN OPENVPN STATIC KEY V1-----",
                "-----BEGIN OpenVPN Static key V1-----",
            )
            .replace(
                "-----END OPENVPN STATIC KEY V1-----",
                "-----END OpenVPN Static key V1----- trailing",
            );
        let messy = format!(
            "<tls-auth>\r\n# note\n{}</tls-auth>\n",
            messy.replacen("\r\n", " \t\r\n", 5)
        );
        assert_eq!(StaticKey::parse(&messy), Ok(key));
    }

    #[test]
    fn file_errors() {
        let text = StaticKey::generate(sample()).to_file_string();
        assert_eq!(
            StaticKey::parse("nothing here"),
            Err(CryptoError::StaticKeyNoHeader)
        );
        let no_footer: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            StaticKey::parse(&no_footer),
            Err(CryptoError::StaticKeyNoFooter)
        );
        let short: String = text
            .lines()
            .enumerate()
            .filter(|&(i, _)| i != 10)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        assert_eq!(
            StaticKey::parse(&short),
            Err(CryptoError::StaticKeyLength { found: 240 })
        );
        let bad = text.replacen("-----\n", "-----\nxyz\n", 1);
        assert_eq!(
            StaticKey::parse(&bad),
            Err(CryptoError::StaticKeyBadChar { line: 5 })
        );
    }
}
