//! Control-channel protection: tls-auth (`ssl_pkt.c` `tls_wrap_control`, `read_control_auth`,
//! `swap_hmac`) and tls-crypt (`tls_crypt.c` `tls_crypt_wrap`, `tls_crypt_unwrap`).
//!
//! Both convert between the plain control packet `op ‖ session_id(8) ‖ rest` (as `ovpn-wire`
//! writes it, `rest` being the ACK block, message id and payload) and the wrapped bytes sent on
//! the wire. They work on byte slices and know only the first 9 bytes (`ssl_pkt.c`: opcode byte
//! plus `SID_SIZE` = 8).

use std::time::Instant;

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use subtle::ConstantTimeEq;

use crate::mac::HmacKey;
use crate::packet_id::{PacketId, PacketIdSend, ReplayWindow};
use crate::{CryptoError, Digest, KeyBlock, KeyDirection, Role, StaticKey};

/// Opcode byte plus session id (`ssl_pkt.c` `swap_hmac`: `1 + SID_SIZE`).
const OP_SID_LEN: usize = 9;
/// Long-form packet id: counter and time (`packet_id.h` `packet_id_size(true)`).
const PID_LONG: usize = 8;
/// tls-crypt tag length (`tls_crypt.h` `TLS_CRYPT_TAG_SIZE`).
const TLS_CRYPT_TAG_LEN: usize = 32;
/// Offset of the packet id in a tls-crypt packet (`tls_crypt.h` `TLS_CRYPT_OFF_PID`).
const TLS_CRYPT_OFF_PID: usize = OP_SID_LEN;
/// Offset of the tag (`TLS_CRYPT_OFF_TAG`).
const TLS_CRYPT_OFF_TAG: usize = TLS_CRYPT_OFF_PID + PID_LONG;
/// Offset of the ciphertext (`TLS_CRYPT_OFF_CT`).
const TLS_CRYPT_OFF_CT: usize = TLS_CRYPT_OFF_TAG + TLS_CRYPT_TAG_LEN;
/// AES-256 key length used by tls-crypt (`tls_crypt.c` `tls_crypt_kt`: AES-256-CTR, SHA256).
const TLS_CRYPT_KEY_LEN: usize = 32;

fn pid_bytes(pid: PacketId) -> [u8; PID_LONG] {
    let mut b = [0u8; PID_LONG];
    b[..4].copy_from_slice(&pid.id.to_be_bytes());
    b[4..].copy_from_slice(&pid.time.to_be_bytes());
    b
}

fn read_pid(b: &[u8]) -> PacketId {
    let mut id = [0u8; 4];
    let mut time = [0u8; 4];
    for (d, s) in id.iter_mut().chain(time.iter_mut()).zip(b) {
        *d = *s;
    }
    PacketId {
        id: u32::from_be_bytes(id),
        time: u32::from_be_bytes(time),
    }
}

/// tls-auth: an HMAC and a long-form packet id on every control packet (`--tls-auth FILE [dir]`
/// with `--auth DIGEST`, default SHA1).
///
/// ```text
/// plain:   op ‖ sid(8) ‖ rest
/// wrapped: op ‖ sid(8) ‖ HMAC(L) ‖ pid(4) ‖ time(4) ‖ rest
/// HMAC over pid ‖ time ‖ op ‖ sid ‖ rest
/// ```
///
/// The HMAC key is the first `L` bytes of the HMAC slot of the send/receive half chosen by the
/// key direction (`crypto.c` `init_key_ctx_bi`); the cipher slots are unused.
///
/// ```
/// use std::time::Instant;
/// use ovpn_crypto::{Digest, KeyDirection, StaticKey, TlsAuth};
/// let key = StaticKey::generate([9; 256]);
/// let mut server = TlsAuth::new(&key, KeyDirection::Normal, Digest::Sha1)?;
/// let mut client = TlsAuth::new(&key, KeyDirection::Inverse, Digest::Sha1)?;
/// let reset = [0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0];
/// let mut wire = [0u8; 64];
/// let n = client.wrap(1_700_000_000, &reset, &mut wire)?;
/// assert_eq!(n, reset.len() + client.overhead());
/// let mut plain = [0u8; 64];
/// let m = server.unwrap(Instant::now(), &wire[..n], &mut plain)?;
/// assert_eq!(&plain[..m], &reset);
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
#[derive(Clone)]
pub struct TlsAuth {
    send_key: HmacKey,
    recv_key: HmacKey,
    send: PacketIdSend,
    replay: ReplayWindow,
}

impl core::fmt::Debug for TlsAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsAuth")
            .field("hmac_len", &self.send_key.len())
            .field("send", &self.send)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

impl TlsAuth {
    /// tls-auth with `key`, `direction` (server conventionally [`KeyDirection::Normal`], client
    /// [`KeyDirection::Inverse`]) and `digest` (`--auth`; not `none`).
    pub fn new(
        key: &StaticKey,
        direction: KeyDirection,
        digest: Digest,
    ) -> Result<Self, CryptoError> {
        let block = key.key_block();
        let (out, inn) = direction.indexes();
        let send_key =
            HmacKey::new(digest, block.hmac_slot(out)).ok_or(CryptoError::DigestRequired)?;
        let recv_key =
            HmacKey::new(digest, block.hmac_slot(inn)).ok_or(CryptoError::DigestRequired)?;
        Ok(TlsAuth {
            send_key,
            recv_key,
            send: PacketIdSend::new(),
            replay: ReplayWindow::new(),
        })
    }

    /// Replaces the default replay window (64 packets, 15 s; `--replay-window` applies to
    /// tls-auth too, `ssl.c` `tls_session_init`).
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.replay = window;
        self
    }

    /// Bytes added by wrapping: HMAC length plus 8 (packet id and time).
    pub fn overhead(&self) -> usize {
        self.send_key.len() + PID_LONG
    }

    /// The send counter, to read it or to restart it ([`PacketIdSend::set`]).
    pub fn send_packet_id(&mut self) -> &mut PacketIdSend {
        &mut self.send
    }

    /// Wraps `plain` (`op ‖ sid ‖ rest`, at least 9 bytes) into `out`; returns the length
    /// written. `unix_time` is latched into the send counter on its first use (OpenVPN sends
    /// the same time in every packet of a session). Each call uses a new packet id.
    pub fn wrap(
        &mut self,
        unix_time: u32,
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let (op_sid, rest) = split_op_sid(plain)?;
        let mac_len = self.send_key.len();
        let total = plain.len() + mac_len + PID_LONG;
        if out.len() < total {
            return Err(CryptoError::BufferTooSmall { needed: total });
        }
        let pid = pid_bytes(self.send.next_long(unix_time)?);
        let out = &mut out[..total];
        out[..OP_SID_LEN].copy_from_slice(op_sid);
        let pid_at = OP_SID_LEN + mac_len;
        out[pid_at..pid_at + PID_LONG].copy_from_slice(&pid);
        out[pid_at + PID_LONG..].copy_from_slice(rest);
        self.send_key
            .sign(&[&pid, op_sid, rest], &mut out[OP_SID_LEN..pid_at]);
        Ok(total)
    }

    /// Authenticates `wrapped` without touching the replay window; writes the plain packet to
    /// `out` and returns its length and the packet's id (for a stateless server's first look
    /// at a packet, OpenVPN's `tls_pre_decrypt_lite` with `CO_IGNORE_PACKET_ID`).
    pub fn unwrap_stateless(
        &self,
        wrapped: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, PacketId), CryptoError> {
        let mac_len = self.recv_key.len();
        let rest_at = OP_SID_LEN + mac_len + PID_LONG;
        if wrapped.len() < rest_at {
            return Err(CryptoError::Truncated { len: wrapped.len() });
        }
        let op_sid = &wrapped[..OP_SID_LEN];
        let tag = &wrapped[OP_SID_LEN..OP_SID_LEN + mac_len];
        let pid = &wrapped[OP_SID_LEN + mac_len..rest_at];
        let rest = &wrapped[rest_at..];
        if !self.recv_key.verify(&[pid, op_sid, rest], tag) {
            return Err(CryptoError::AuthFailed);
        }
        let total = OP_SID_LEN + rest.len();
        let out = out
            .get_mut(..total)
            .ok_or(CryptoError::BufferTooSmall { needed: total })?;
        out[..OP_SID_LEN].copy_from_slice(op_sid);
        out[OP_SID_LEN..].copy_from_slice(rest);
        Ok((total, read_pid(pid)))
    }

    /// Unwraps `wrapped` into `out` (`op ‖ sid ‖ rest`) and returns the length: the HMAC is
    /// checked first (constant time), then the packet id against the replay window.
    pub fn unwrap(
        &mut self,
        now: Instant,
        wrapped: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let result = self
            .unwrap_stateless(wrapped, out)
            .and_then(|(len, pid)| Ok(self.replay.accept(now, pid).map(|()| len)?));
        if let Err(e) = &result {
            tracing::debug!(error = %e, len = wrapped.len(), "tls-auth packet dropped");
        }
        result
    }
}

fn split_op_sid(plain: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    if plain.len() < OP_SID_LEN {
        return Err(CryptoError::Truncated { len: plain.len() });
    }
    Ok(plain.split_at(OP_SID_LEN))
}

/// One direction of tls-crypt (also tls-crypt-v2's server key): AES-256-CTR key Ke and
/// HMAC-SHA256 key Ka.
pub(crate) struct TlsCryptKey {
    aes: aes::Aes256,
    mac: HmacKey,
}

impl TlsCryptKey {
    fn new(block: &KeyBlock, index: crate::keys::KeyIndex) -> Result<Self, CryptoError> {
        Self::from_slices(
            &block.cipher_slot(index)[..TLS_CRYPT_KEY_LEN],
            &block.hmac_slot(index)[..TLS_CRYPT_KEY_LEN],
        )
    }

    /// From the first 32 bytes of a cipher slot (`ke`) and of an HMAC slot (`ka`).
    pub(crate) fn from_slices(ke: &[u8], ka: &[u8]) -> Result<Self, CryptoError> {
        Ok(TlsCryptKey {
            aes: aes::Aes256::new_from_slice(ke).map_err(|_| CryptoError::WeakKey)?,
            mac: HmacKey::new(Digest::Sha256, ka).ok_or(CryptoError::WeakKey)?,
        })
    }

    pub(crate) fn tag(&self, parts: &[&[u8]]) -> [u8; TLS_CRYPT_TAG_LEN] {
        let mut tag = [0u8; TLS_CRYPT_TAG_LEN];
        self.mac.sign(parts, &mut tag);
        tag
    }

    /// AES-256-CTR from `input` to `output` (same length) with the tag's first 16 bytes as
    /// the initial counter block (`tls_crypt.c`: "the 128 most significant bits of the tag").
    pub(crate) fn ctr(
        &self,
        tag: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(), CryptoError> {
        let iv = tag.get(..16).ok_or(CryptoError::AuthFailed)?;
        let core = ctr::CtrCore::<&aes::Aes256, ctr::flavors::Ctr128BE>::inner_iv_slice_init(
            &self.aes, iv,
        )
        .map_err(|_| CryptoError::AuthFailed)?;
        let mut ctr = ctr::Ctr128BE::<&aes::Aes256>::from_core(core);
        ctr.apply_keystream_b2b(input, output)
            .map_err(|_| CryptoError::BufferTooSmall {
                needed: input.len(),
            })
    }
}

/// tls-crypt: every control packet encrypted with AES-256-CTR and authenticated with
/// HMAC-SHA256 under a pre-shared static key (`--tls-crypt FILE`).
///
/// ```text
/// plain:   op ‖ sid(8) ‖ rest
/// wrapped: op ‖ sid(8) ‖ pid(4) ‖ time(4) ‖ tag(32) ‖ AES-256-CTR(Ke, IV = tag[..16], rest)
/// tag = HMAC-SHA256(Ka, op ‖ sid ‖ pid ‖ time ‖ rest)
/// ```
///
/// The server uses the key in direction NORMAL, the client INVERSE (`tls_crypt.c`
/// `tls_crypt_init_key`); Ke is the first 32 bytes of the cipher slot, Ka of the HMAC slot.
/// Since the tag is over the plaintext (SIV style), unwrapping decrypts into the caller's
/// output before it can check the tag; nothing else (replay window, caller) sees the packet
/// before the tag verified, and the output is wiped on failure.
///
/// ```
/// use std::time::Instant;
/// use ovpn_crypto::{Role, StaticKey, TlsCrypt};
/// let key = StaticKey::generate([3; 256]);
/// let mut client = TlsCrypt::new(&key, Role::Client)?;
/// let mut server = TlsCrypt::new(&key, Role::Server)?;
/// let reset = [0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0];
/// let mut wire = [0u8; 64];
/// let n = client.wrap(1_700_000_000, &reset, &mut wire)?;
/// assert_eq!(n, 54); // protocol-facts 2.7: RESET_CLIENT_V2 + tls-crypt is 54 bytes
/// let mut plain = [0u8; 64];
/// let m = server.unwrap(Instant::now(), &wire[..n], &mut plain)?;
/// assert_eq!(&plain[..m], &reset);
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
pub struct TlsCrypt {
    send_key: TlsCryptKey,
    recv_key: TlsCryptKey,
    send: PacketIdSend,
    replay: ReplayWindow,
}

impl core::fmt::Debug for TlsCrypt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsCrypt")
            .field("send", &self.send)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

impl TlsCrypt {
    /// Bytes added by wrapping: 8 (packet id and time) + 32 (tag).
    pub const OVERHEAD: usize = PID_LONG + TLS_CRYPT_TAG_LEN;

    /// tls-crypt with `key` for `role`.
    pub fn new(key: &StaticKey, role: Role) -> Result<Self, CryptoError> {
        Self::from_block(key.key_block(), role)
    }

    /// Dynamic tls-crypt (OpenVPN 2.6.1+, `dyn-tls-crypt` pushed; used for control packets of
    /// key ids above 0): the key is 256 bytes exported from TLS with
    /// [`DYNAMIC_TLS_CRYPT_EKM_LABEL`](crate::DYNAMIC_TLS_CRYPT_EKM_LABEL), XORed with the
    /// configured tls-auth or tls-crypt key file if there is one (`tls_crypt.c`
    /// `tls_session_generate_dynamic_tls_crypt_key`). Starts with a fresh counter and window.
    pub fn dynamic(
        ekm: &[u8; 256],
        original: Option<&StaticKey>,
        role: Role,
    ) -> Result<Self, CryptoError> {
        let mut block = KeyBlock::from_bytes(*ekm);
        if let Some(original) = original {
            block.xor(original.key_block());
        }
        Self::from_block(&block, role)
    }

    fn from_block(block: &KeyBlock, role: Role) -> Result<Self, CryptoError> {
        let (out, inn) = role.tls_crypt_direction().indexes();
        Ok(TlsCrypt {
            send_key: TlsCryptKey::new(block, out)?,
            recv_key: TlsCryptKey::new(block, inn)?,
            send: PacketIdSend::new(),
            replay: ReplayWindow::new(),
        })
    }

    /// Replaces the default replay window (64 packets, 15 s).
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.replay = window;
        self
    }

    /// Bytes added by wrapping (40).
    pub fn overhead(&self) -> usize {
        Self::OVERHEAD
    }

    /// The send counter, to read it or to restart it ([`PacketIdSend::set`]): a 2.6 stateless
    /// server answers a client reset with packet id 1 and continues at 2.
    pub fn send_packet_id(&mut self) -> &mut PacketIdSend {
        &mut self.send
    }

    /// Wraps `plain` (`op ‖ sid ‖ rest`, at least 9 bytes) into `out`; returns the length
    /// written (`plain.len() + 40`). `unix_time` is latched on first use, as for tls-auth.
    pub fn wrap(
        &mut self,
        unix_time: u32,
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let (op_sid, rest) = split_op_sid(plain)?;
        let total = plain.len() + Self::OVERHEAD;
        if out.len() < total {
            return Err(CryptoError::BufferTooSmall { needed: total });
        }
        let pid = self.send.next_long(unix_time)?;
        self.wrap_parts(op_sid, pid, rest, &mut out[..total])?;
        Ok(total)
    }

    /// `header ‖ pid ‖ tag ‖ CTR(rest)` into `out` (exactly that long). `header` is the
    /// associated prefix (`op ‖ sid` on the wire; OpenVPN's unit test uses an empty one).
    fn wrap_parts(
        &self,
        header: &[u8],
        pid: PacketId,
        rest: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let pid = pid_bytes(pid);
        let tag = self.send_key.tag(&[header, &pid, rest]);
        let tag = &tag[..];
        let pid_at = header.len();
        let tag_at = pid_at + PID_LONG;
        let ct_at = tag_at + TLS_CRYPT_TAG_LEN;
        out[..pid_at].copy_from_slice(header);
        out[pid_at..tag_at].copy_from_slice(&pid);
        out[tag_at..ct_at].copy_from_slice(tag);
        self.send_key.ctr(tag, rest, &mut out[ct_at..])
    }

    /// Decrypts and authenticates `wrapped` without touching the replay window; writes the
    /// plain packet to `out` and returns its length and the packet's id (a stateless server's
    /// first look, OpenVPN's `tls_pre_decrypt_lite` with `CO_IGNORE_PACKET_ID`).
    pub fn unwrap_stateless(
        &self,
        wrapped: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, PacketId), CryptoError> {
        if wrapped.len() < TLS_CRYPT_OFF_CT {
            return Err(CryptoError::Truncated { len: wrapped.len() });
        }
        let total = wrapped.len() - Self::OVERHEAD;
        let out = out
            .get_mut(..total)
            .ok_or(CryptoError::BufferTooSmall { needed: total })?;
        let header = &wrapped[..TLS_CRYPT_OFF_PID];
        let pid = &wrapped[TLS_CRYPT_OFF_PID..TLS_CRYPT_OFF_TAG];
        let tag = &wrapped[TLS_CRYPT_OFF_TAG..TLS_CRYPT_OFF_CT];
        let (out_head, out_rest) = out.split_at_mut(OP_SID_LEN);
        self.recv_key
            .ctr(tag, &wrapped[TLS_CRYPT_OFF_CT..], out_rest)?;
        let computed = self.recv_key.tag(&[header, pid, out_rest]);
        if !bool::from(computed[..].ct_eq(tag)) {
            out_rest.fill(0);
            return Err(CryptoError::AuthFailed);
        }
        out_head.copy_from_slice(header);
        Ok((total, read_pid(pid)))
    }

    /// Unwraps `wrapped` into `out` (`op ‖ sid ‖ rest`) and returns the length: decrypt,
    /// check the tag (constant time), then the packet id against the replay window
    /// (`tls_crypt.c` `tls_crypt_unwrap`).
    pub fn unwrap(
        &mut self,
        now: Instant,
        wrapped: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let result = self
            .unwrap_stateless(wrapped, out)
            .and_then(|(len, pid)| Ok(self.replay.accept(now, pid).map(|()| len)?));
        if let Err(e) = &result {
            tracing::debug!(error = %e, len = wrapped.len(), "tls-crypt packet dropped");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/unit_tests/openvpn/test_tls_crypt.c` (OpenVPN 2.6) `test_tls_crypt_secure_reneg_key`:
    /// dynamic tls-crypt key from an EKM mocked as 256 bytes of 0xba, client side, no original
    /// key, packet id 1 at time 0, plaintext "1234567890" with no header, expected output.
    #[test]
    fn openvpn_dynamic_tls_crypt_vector() {
        let expected: [u8; 50] = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xe3, 0x19, 0x27, 0x7f, 0x1c, 0x8d,
            0x6e, 0x6a, 0x77, 0x96, 0xa8, 0x55, 0x33, 0x7b, 0x9c, 0xfb, 0x56, 0xe1, 0xf1, 0x3a,
            0x87, 0x0e, 0x66, 0x47, 0xdf, 0xa1, 0x95, 0xc9, 0x2c, 0x17, 0xa0, 0x15, 0xba, 0x49,
            0x67, 0xa1, 0x1d, 0x55, 0xea, 0x1a, 0x06, 0xa7,
        ];
        let ekm = [0xba; 256];
        for original in [None, Some(StaticKey::generate([0; 256]))] {
            let mut c = TlsCrypt::dynamic(&ekm, original.as_ref(), Role::Client).unwrap();
            let pid = c.send.next_long(0).unwrap();
            let mut out = [0u8; 50];
            c.wrap_parts(&[], pid, b"1234567890", &mut out).unwrap();
            assert_eq!(out, expected);
        }
        // XOR with a non-zero original key changes the key (same test, 0x42 key data).
        let mut c =
            TlsCrypt::dynamic(&ekm, Some(&StaticKey::generate([0x42; 256])), Role::Client).unwrap();
        let pid = c.send.next_long(0).unwrap();
        let mut out = [0u8; 50];
        c.wrap_parts(&[], pid, b"1234567890", &mut out).unwrap();
        assert_eq!(out[..8], expected[..8]);
        assert_ne!(out[8..], expected[8..]);
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[allow(clippy::disallowed_methods, reason = "test harness: a base instant")]
    fn now() -> Instant {
        Instant::now()
    }

    fn key() -> StaticKey {
        StaticKey::generate(core::array::from_fn(|i| (i as u8).wrapping_mul(7) ^ 0x11))
    }

    #[test]
    fn errors_are_typed_and_leave_state_alone() {
        let mut c = TlsCrypt::new(&key(), Role::Client).unwrap();
        let mut s = TlsCrypt::new(&key(), Role::Server).unwrap();
        let mut out = [0u8; 128];
        assert_eq!(
            c.wrap(5, &[0x38; 8], &mut out),
            Err(CryptoError::Truncated { len: 8 })
        );
        assert_eq!(
            c.wrap(5, &[0x38; 20], &mut out[..59]),
            Err(CryptoError::BufferTooSmall { needed: 60 })
        );
        assert_eq!(c.send_packet_id().last_id(), 0);
        let n = c.wrap(5, &[0x38; 20], &mut out).unwrap();
        let wire = out;
        let mut plain = [0u8; 128];
        assert_eq!(
            s.unwrap(now(), &wire[..n], &mut plain[..19]),
            Err(CryptoError::BufferTooSmall { needed: 20 })
        );
        assert_eq!(s.unwrap(now(), &wire[..n], &mut plain), Ok(20));
        assert_eq!(
            s.unwrap(now(), &wire[..n], &mut plain),
            Err(CryptoError::Replay(crate::ReplayError::Duplicate))
        );
        assert_eq!(
            s.unwrap(now(), &wire[..48], &mut plain),
            Err(CryptoError::Truncated { len: 48 })
        );
        // A forged packet leaves no plaintext behind.
        let mut forged = wire;
        forged[n - 1] ^= 0x80;
        plain.fill(0xEE);
        assert_eq!(
            s.unwrap(now(), &forged[..n], &mut plain),
            Err(CryptoError::AuthFailed)
        );
        assert!(plain[9..20].iter().all(|&b| b == 0));

        assert_eq!(
            TlsAuth::new(&key(), KeyDirection::Normal, Digest::None).err(),
            Some(CryptoError::DigestRequired)
        );
    }

    #[test]
    fn tls_auth_every_digest_and_direction() {
        for digest in [
            Digest::Md5,
            Digest::Sha1,
            Digest::Sha256,
            Digest::Sha384,
            Digest::Sha512,
        ] {
            for (a, b) in [
                (KeyDirection::Normal, KeyDirection::Inverse),
                (KeyDirection::Bidirectional, KeyDirection::Bidirectional),
            ] {
                let mut x = TlsAuth::new(&key(), a, digest).unwrap();
                let mut y = TlsAuth::new(&key(), b, digest).unwrap();
                assert_eq!(x.overhead(), digest.len() + 8);
                let plain = [0x20, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1, 0x16, 3, 1];
                let mut wire = [0u8; 128];
                let n = x.wrap(1000, &plain, &mut wire).unwrap();
                // Layout: op, sid, HMAC, pid 1, time 1000, rest.
                assert_eq!(&wire[..9], &plain[..9]);
                let pid_at = 9 + digest.len();
                assert_eq!(&wire[pid_at..pid_at + 8], &[0, 0, 0, 1, 0, 0, 0x03, 0xe8]);
                assert_eq!(&wire[pid_at + 8..n], &plain[9..]);
                let mut out = [0u8; 128];
                assert_eq!(y.unwrap(now(), &wire[..n], &mut out), Ok(plain.len()));
                assert_eq!(&out[..plain.len()], &plain);
                // Every bit of the packet is covered by the HMAC.
                for i in 0..n {
                    let mut bad = wire;
                    bad[i] ^= 4;
                    assert!(
                        y.unwrap_stateless(&bad[..n], &mut out).is_err(),
                        "{digest} byte {i}"
                    );
                }
            }
        }
    }
}
