//! Data-channel packet protection (`crypto.c` `openvpn_encrypt_aead`, `openvpn_encrypt_v1`,
//! `openvpn_decrypt_aead`, `openvpn_decrypt_v1`).

use core::ops::Range;
use std::time::Instant;

use aes::cipher::{
    BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, InnerIvInit,
    KeyInit, block_padding::Pkcs7,
};
use aes_gcm::AeadInPlace;

use crate::keys::KeyIndex;
use crate::mac::HmacKey;
use crate::packet_id::{PacketId, PacketIdSend, ReplayWindow};
use crate::{Cipher, CryptoError, Digest, KeyBlock, KeyDirection, Role, StaticKey};

/// Header length of a `P_DATA_V1` packet: the opcode/key-id byte (`ssl_pkt.h`).
pub const HEADER_LEN_V1: usize = 1;
/// Header length of a `P_DATA_V2` packet: opcode/key-id byte and 24-bit peer id (`ssl_pkt.h`).
pub const HEADER_LEN_V2: usize = 4;
/// AEAD tag length (`crypto_backend.h` `OPENVPN_AEAD_TAG_LENGTH`).
pub const AEAD_TAG_LEN: usize = 16;
/// Largest plaintext [`DataKeys::seal`] accepts (no OpenVPN packet comes near it).
pub const MAX_PLAINTEXT_LEN: usize = 65536;

/// Short-form packet id length (`packet_id.h` `packet_id_size(false)`).
const PID_SHORT: usize = 4;
/// Long-form packet id length (`packet_id_size(true)`).
const PID_LONG: usize = 8;
/// AEAD implicit IV length: IV length 12 minus the packet id (`ssl.c`
/// `key_ctx_update_implicit_iv`).
const IMPLICIT_IV_LEN: usize = 8;

type Aes192Gcm = aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

/// Bytes a suite adds around the plaintext, not counting the caller's 1- or 4-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overhead {
    /// Bytes between the header and the plaintext (HMAC, IV, packet id, AEAD tag).
    pub head: usize,
    /// Most bytes after the plaintext (CBC padding: 1 to one block; 0 for the others).
    pub tail: usize,
}

/// Packets counted by a [`DataKeys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataStats {
    /// Packets sealed.
    pub sealed: u64,
    /// Packets opened (authenticated, decrypted and not replayed).
    pub opened: u64,
    /// Packets refused by [`DataKeys::open`].
    pub rejected: u64,
}

#[allow(
    clippy::large_enum_variant,
    reason = "always boxed whole (CipherKey::Cbc): each session allocates its own suite's size"
)]
enum CbcKey {
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
    Bf(blowfish::Blowfish),
}

/// Held inline only for ring's suites, the common ones (544 bytes); the rest is boxed, so that a
/// session pays for its own suite's key schedule and not for the largest one (a server holds
/// one of these per direction and key for every client).
#[allow(
    clippy::large_enum_variant,
    reason = "ring's key stays inline on purpose: no pointer chase per packet for the common suites"
)]
enum AeadKey {
    Ring(ring::aead::LessSafeKey),
    Aes192Gcm(Box<Aes192Gcm>),
}

#[allow(
    clippy::large_enum_variant,
    reason = "the AEAD key stays inline on purpose: no pointer chase per packet for the common suites"
)]
enum CipherKey {
    None,
    /// Boxed: AES key schedules for both directions of CBC are 0.7-1 KiB, Blowfish's 4 KiB.
    Cbc(Box<CbcKey>),
    Aead(AeadKey, [u8; IMPLICIT_IV_LEN]),
}

/// The keys for one direction.
struct DirectionKey {
    cipher: CipherKey,
    /// Boxed: only CBC suites have one.
    hmac: Option<Box<HmacKey>>,
}

impl DirectionKey {
    fn new(
        cipher: Cipher,
        digest: Digest,
        cipher_slot: &[u8],
        hmac_slot: &[u8],
    ) -> Result<Self, CryptoError> {
        let key = cipher_slot
            .get(..cipher.key_len())
            .ok_or(CryptoError::WeakKey)?;
        let bad = |_| CryptoError::WeakKey;
        let cipher_key = match cipher {
            Cipher::None => CipherKey::None,
            Cipher::Aes128Cbc => CipherKey::Cbc(Box::new(CbcKey::Aes128(
                aes::Aes128::new_from_slice(key).map_err(bad)?,
            ))),
            Cipher::Aes192Cbc => CipherKey::Cbc(Box::new(CbcKey::Aes192(
                aes::Aes192::new_from_slice(key).map_err(bad)?,
            ))),
            Cipher::Aes256Cbc => CipherKey::Cbc(Box::new(CbcKey::Aes256(
                aes::Aes256::new_from_slice(key).map_err(bad)?,
            ))),
            Cipher::BfCbc => CipherKey::Cbc(Box::new(CbcKey::Bf(
                blowfish::Blowfish::new_from_slice(key).map_err(bad)?,
            ))),
            Cipher::Aes128Gcm
            | Cipher::Aes256Gcm
            | Cipher::Chacha20Poly1305
            | Cipher::Aes192Gcm => {
                let mut iv = [0u8; IMPLICIT_IV_LEN];
                iv.copy_from_slice(
                    hmac_slot
                        .get(..IMPLICIT_IV_LEN)
                        .ok_or(CryptoError::WeakKey)?,
                );
                let aead = match cipher {
                    Cipher::Aes192Gcm => {
                        AeadKey::Aes192Gcm(Box::new(Aes192Gcm::new_from_slice(key).map_err(bad)?))
                    }
                    _ => {
                        let alg = match cipher {
                            Cipher::Aes128Gcm => &ring::aead::AES_128_GCM,
                            Cipher::Aes256Gcm => &ring::aead::AES_256_GCM,
                            _ => &ring::aead::CHACHA20_POLY1305,
                        };
                        let unbound = ring::aead::UnboundKey::new(alg, key)
                            .map_err(|_| CryptoError::WeakKey)?;
                        AeadKey::Ring(ring::aead::LessSafeKey::new(unbound))
                    }
                };
                CipherKey::Aead(aead, iv)
            }
        };
        let hmac = if cipher.is_aead() {
            None
        } else {
            HmacKey::new(digest, hmac_slot).map(Box::new)
        };
        Ok(DirectionKey {
            cipher: cipher_key,
            hmac,
        })
    }
}

/// Unpredictable CBC IVs without a system call per packet: AES-256 under a key from the
/// caller's seed, applied to a counter (the "encrypt a nonce" method of NIST SP 800-38A
/// appendix C). OpenVPN itself takes each IV from its PRNG (`crypto.c` `prng_bytes`).
struct IvGen {
    aes: aes::Aes256,
    counter: u128,
}

impl IvGen {
    fn new(seed: &[u8; 32]) -> Self {
        IvGen {
            aes: aes::Aes256::new(seed.into()),
            counter: 0,
        }
    }

    fn fill(&mut self, out: &mut [u8]) {
        let mut block = self.counter.to_be_bytes().into();
        self.aes.encrypt_block(&mut block);
        self.counter = self.counter.wrapping_add(1);
        for (o, b) in out.iter_mut().zip(block.iter()) {
            *o = *b;
        }
    }
}

/// Which packet-id form the data channel uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PidForm {
    /// TLS mode: 4-byte ids (`ssl.c` `tls_session_update_crypto_params_do_work`).
    Short,
    /// `--secret` mode: 8-byte id and time (`init.c` `do_init_crypto_static`).
    Long { unix_time: u32 },
}

/// Data-channel keys for one key state (one `key_id`) of one peer: seals outgoing packets and
/// opens incoming ones in place, with OpenVPN 2.6's packet formats.
///
/// Packet layouts after the caller's header (`hdr`, 1 byte for `P_DATA_V1`, 4 for `P_DATA_V2`,
/// none in `--secret` mode):
///
/// | suite | layout | authenticated |
/// |---|---|---|
/// | AEAD (GCM, ChaCha20-Poly1305) | `hdr ‖ pid(4) ‖ tag(16) ‖ ciphertext` | AAD = `hdr ‖ pid` for V2, `pid` for V1; nonce = `pid ‖ implicit IV(8)` |
/// | CBC + HMAC | `hdr ‖ HMAC ‖ IV ‖ E(pid ‖ plaintext ‖ PKCS#7 pad)` | HMAC over `IV ‖ ciphertext` (the header is not covered) |
/// | `none` + HMAC | `hdr ‖ HMAC ‖ pid ‖ plaintext` | HMAC over `pid ‖ plaintext` |
/// | `none` + `none` | `hdr ‖ pid ‖ plaintext` | nothing |
///
/// (`crypto.c` `openvpn_encrypt_aead`/`_v1`; `forward.c` `encrypt_sign` puts the V2 header in the
/// AEAD's associated data; `ssl.c` `handle_data_channel_packet` sets the decrypt AAD start.)
/// In `--secret` mode the packet id is 8 bytes (id and time). CBC without an HMAC
/// (`--auth none`) and `none`/`none` are unauthenticated: OpenVPN warns about both.
///
/// ```
/// use std::time::Instant;
/// use ovpn_crypto::{Cipher, DataKeys, Digest, KeyBlock, Role, HEADER_LEN_V2};
///
/// let block = KeyBlock::from_ekm([0x42; 256]);
/// let mut client = DataKeys::new(Cipher::Aes256Gcm, Digest::None, &block, Role::Client, [1; 32])?;
/// let mut server = DataKeys::new(Cipher::Aes256Gcm, Digest::None, &block, Role::Server, [2; 32])?;
///
/// let payload = b"an IP packet";
/// let over = client.overhead();
/// let mut buf = [0u8; 100];
/// buf[..4].copy_from_slice(&[0x48, 0, 0, 5]); // P_DATA_V2, key id 0, peer id 5
/// let start = HEADER_LEN_V2 + over.head;
/// buf[start..start + payload.len()].copy_from_slice(payload);
/// let len = client.seal(&mut buf, HEADER_LEN_V2, payload.len())?;
///
/// let plain = server.open(Instant::now(), &mut buf[..len], HEADER_LEN_V2)?;
/// assert_eq!(&buf[plain], payload);
/// # Ok::<(), ovpn_crypto::CryptoError>(())
/// ```
pub struct DataKeys {
    cipher: Cipher,
    digest: Digest,
    tx: DirectionKey,
    rx: DirectionKey,
    pid_form: PidForm,
    send: PacketIdSend,
    replay: ReplayWindow,
    /// CBC only (boxed: an AES-256 key schedule).
    iv: Option<Box<IvGen>>,
    stats: DataStats,
}

impl core::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataKeys")
            .field("cipher", &self.cipher)
            .field("digest", &self.digest)
            .field("send", &self.send)
            .field("replay", &self.replay)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

impl DataKeys {
    /// Keys for a TLS-mode data channel: `role` picks the halves of `keys` (the client sends
    /// with `keys[0]`), `digest` is ignored for AEAD ciphers (`crypto.c` `init_key_type`), and
    /// `iv_seed` is 32 random bytes from the caller, used for CBC IVs.
    ///
    /// Fails with [`CryptoError::WeakKey`] if either cipher key is all zeros (`crypto.c`
    /// `check_key`, which OpenVPN applies to both halves of a new key block).
    pub fn new(
        cipher: Cipher,
        digest: Digest,
        keys: &KeyBlock,
        role: Role,
        iv_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        let weak = |i| is_zero(&keys.cipher_slot(i)[..cipher.key_len()]);
        if cipher != Cipher::None && (weak(KeyIndex::Zero) || weak(KeyIndex::One)) {
            return Err(CryptoError::WeakKey);
        }
        Self::build(
            cipher,
            digest,
            keys,
            role.data_channel_direction(),
            iv_seed,
            PidForm::Short,
        )
    }

    /// Keys for OpenVPN's static-key mode (`--secret FILE [direction]`, point to point, no
    /// TLS, deprecated in OpenVPN 2.6): no opcode header (pass `header_len` 0), long-form
    /// packet ids carrying `unix_time` (OpenVPN puts the time of its first packet there), keys
    /// picked by `direction`. AEAD ciphers are not allowed in this mode (`crypto.c`
    /// `init_key_type`): [`CryptoError::UnsupportedSuite`].
    pub fn new_static(
        cipher: Cipher,
        digest: Digest,
        key: &StaticKey,
        direction: KeyDirection,
        iv_seed: [u8; 32],
        unix_time: u32,
    ) -> Result<Self, CryptoError> {
        if cipher.is_aead() {
            return Err(CryptoError::UnsupportedSuite);
        }
        Self::build(
            cipher,
            digest,
            key.key_block(),
            direction,
            iv_seed,
            PidForm::Long { unix_time },
        )
    }

    fn build(
        cipher: Cipher,
        digest: Digest,
        keys: &KeyBlock,
        direction: KeyDirection,
        iv_seed: [u8; 32],
        pid_form: PidForm,
    ) -> Result<Self, CryptoError> {
        let digest = if cipher.is_aead() {
            Digest::None
        } else {
            digest
        };
        let (out, inn) = direction.indexes();
        let tx = DirectionKey::new(cipher, digest, keys.cipher_slot(out), keys.hmac_slot(out))?;
        let rx = DirectionKey::new(cipher, digest, keys.cipher_slot(inn), keys.hmac_slot(inn))?;
        Ok(DataKeys {
            cipher,
            digest,
            tx,
            rx,
            pid_form,
            send: PacketIdSend::new(),
            replay: ReplayWindow::new(),
            iv: cipher.is_cbc().then(|| Box::new(IvGen::new(&iv_seed))),
            stats: DataStats::default(),
        })
    }

    /// Replaces the default replay window (64 packets, 15 s) with `window`
    /// (`--replay-window n t`).
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.replay = window;
        self
    }

    /// The cipher.
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The HMAC digest (always [`Digest::None`] for AEAD ciphers).
    pub fn digest(&self) -> Digest {
        self.digest
    }

    fn pid_len(&self) -> usize {
        match self.pid_form {
            PidForm::Short => PID_SHORT,
            PidForm::Long { .. } => PID_LONG,
        }
    }

    /// Bytes the suite needs before and after the plaintext, excluding the caller's header.
    /// Write the plaintext at `buf[header_len + head..]` and leave `tail` bytes free after it.
    pub fn overhead(&self) -> Overhead {
        let pid = self.pid_len();
        if self.cipher.is_aead() {
            Overhead {
                head: pid + AEAD_TAG_LEN,
                tail: 0,
            }
        } else {
            Overhead {
                head: self.digest.len() + self.cipher.iv_len() + pid,
                tail: if self.cipher.is_cbc() {
                    self.cipher.block_size()
                } else {
                    0
                },
            }
        }
    }

    /// Length of the sealed packet for a plaintext of `plaintext_len` bytes.
    pub fn sealed_len(&self, header_len: usize, plaintext_len: usize) -> usize {
        let head = header_len.saturating_add(self.overhead().head);
        if self.cipher.is_cbc() {
            let block = self.cipher.block_size();
            let enc = self.pid_len() + plaintext_len;
            let padded = (enc / block + 1) * block;
            head.saturating_sub(self.pid_len()).saturating_add(padded)
        } else {
            head.saturating_add(plaintext_len)
        }
    }

    /// True once the send counter reached [`PACKET_ID_WRAP_TRIGGER`](crate::PACKET_ID_WRAP_TRIGGER)
    /// (0xFF000000): start a renegotiation (`ssl.c` `tls_process`). Sealing keeps working
    /// until the ids run out ([`CryptoError::PacketIdExhausted`]).
    pub fn needs_renegotiation(&self) -> bool {
        self.send.near_wrap()
    }

    /// The send counter (last packet id used, and the time in `--secret` mode).
    pub fn send_packet_id(&self) -> PacketIdSend {
        self.send
    }

    /// Moves the send counter forward to `last_id` (never back, so no id is ever reused); for
    /// exercising what happens near packet-id exhaustion without sending four billion packets.
    pub fn advance_send_packet_id(&mut self, last_id: u32) {
        if last_id > self.send.last_id() {
            self.send.set(last_id, self.send.time());
        }
    }

    /// The receive replay window.
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.replay
    }

    /// Packet counters.
    pub fn stats(&self) -> DataStats {
        self.stats
    }

    /// Seals a packet in place.
    ///
    /// The caller has written the header at `buf[..header_len]` (1 byte for `P_DATA_V1`, 4 for
    /// `P_DATA_V2`, 0 in `--secret` mode) and the plaintext at
    /// `buf[header_len + overhead().head..][..plaintext_len]`. The packet id comes from the
    /// send counter. Returns the packet length: the packet is `buf[..len]`.
    ///
    /// A `header_len` of 4 makes the header AEAD associated data (`P_DATA_V2`); other lengths
    /// leave it unauthenticated, as OpenVPN does for `P_DATA_V1` and for CBC.
    ///
    /// Errors, with `buf` and the counter untouched: [`CryptoError::BufferTooSmall`],
    /// [`CryptoError::PacketTooLarge`], [`CryptoError::PacketIdExhausted`].
    pub fn seal(
        &mut self,
        buf: &mut [u8],
        header_len: usize,
        plaintext_len: usize,
    ) -> Result<usize, CryptoError> {
        if plaintext_len > MAX_PLAINTEXT_LEN || header_len > MAX_PLAINTEXT_LEN {
            return Err(CryptoError::PacketTooLarge {
                max: MAX_PLAINTEXT_LEN,
            });
        }
        let total = self.sealed_len(header_len, plaintext_len);
        if buf.len() < total {
            return Err(CryptoError::BufferTooSmall { needed: total });
        }
        let buf = &mut buf[..total];
        let mac_len = self.digest.len();
        let pid_len = self.pid_len();
        let pid = match self.pid_form {
            PidForm::Short => PacketId::short(self.send.next_short()?),
            PidForm::Long { unix_time } => self.send.next_long(unix_time)?,
        };
        let mut pid_bytes = [0u8; PID_LONG];
        pid_bytes[..4].copy_from_slice(&pid.id.to_be_bytes());
        pid_bytes[4..].copy_from_slice(&pid.time.to_be_bytes());
        let pid_bytes = &pid_bytes[..pid_len];

        match &self.tx.cipher {
            CipherKey::Aead(key, implicit_iv) => {
                let pid_at = header_len;
                buf[pid_at..pid_at + PID_SHORT].copy_from_slice(pid_bytes);
                let nonce = aead_nonce(pid_bytes, implicit_iv);
                let aad_start = if header_len == HEADER_LEN_V2 {
                    0
                } else {
                    header_len
                };
                let (front, body) = buf.split_at_mut(header_len + PID_SHORT + AEAD_TAG_LEN);
                let (aad_part, tag_out) = front.split_at_mut(header_len + PID_SHORT);
                let aad = &aad_part[aad_start..];
                match key {
                    AeadKey::Ring(key) => {
                        let tag = key
                            .seal_in_place_separate_tag(
                                ring::aead::Nonce::assume_unique_for_key(nonce),
                                ring::aead::Aad::from(aad),
                                body,
                            )
                            .map_err(|_| CryptoError::PacketTooLarge {
                                max: MAX_PLAINTEXT_LEN,
                            })?;
                        tag_out.copy_from_slice(tag.as_ref());
                    }
                    AeadKey::Aes192Gcm(key) => {
                        let tag = key
                            .encrypt_in_place_detached(&nonce.into(), aad, body)
                            .map_err(|_| CryptoError::PacketTooLarge {
                                max: MAX_PLAINTEXT_LEN,
                            })?;
                        tag_out.copy_from_slice(&tag);
                    }
                }
            }
            CipherKey::Cbc(key) => {
                let block = self.cipher.block_size();
                let iv_at = header_len + mac_len;
                let enc_at = iv_at + block;
                buf[enc_at..enc_at + pid_len].copy_from_slice(pid_bytes);
                let mut iv = [0u8; 16];
                let iv = &mut iv[..block];
                if let Some(gen_) = self.iv.as_mut() {
                    gen_.fill(iv);
                }
                buf[iv_at..enc_at].copy_from_slice(iv);
                let msg_len = pid_len + plaintext_len;
                let region = &mut buf[enc_at..];
                let ok = match &**key {
                    CbcKey::Aes128(c) => cbc_encrypt(c, iv, region, msg_len),
                    CbcKey::Aes192(c) => cbc_encrypt(c, iv, region, msg_len),
                    CbcKey::Aes256(c) => cbc_encrypt(c, iv, region, msg_len),
                    CbcKey::Bf(c) => cbc_encrypt(c, iv, region, msg_len),
                };
                if !ok {
                    // Unreachable: the region was sized by sealed_len.
                    return Err(CryptoError::BufferTooSmall { needed: total });
                }
                if let Some(mac) = &self.tx.hmac {
                    let (head, authed) = buf.split_at_mut(iv_at);
                    mac.sign(&[authed], &mut head[header_len..]);
                }
            }
            CipherKey::None => {
                let pid_at = header_len + mac_len;
                buf[pid_at..pid_at + pid_len].copy_from_slice(pid_bytes);
                if let Some(mac) = &self.tx.hmac {
                    let (head, authed) = buf.split_at_mut(pid_at);
                    mac.sign(&[authed], &mut head[header_len..]);
                }
            }
        }
        self.stats.sealed += 1;
        Ok(total)
    }

    /// Opens a received packet in place: `buf` is exactly the packet, starting with its
    /// `header_len`-byte header (1 for `P_DATA_V1`, 4 for `P_DATA_V2`, 0 in `--secret` mode).
    /// Returns where the plaintext now is inside `buf`.
    ///
    /// Order of checks: lengths; the packet id against the replay window where it is sent in
    /// the clear (AEAD, `none`) as a cheap early reject; the tag or HMAC (constant time);
    /// decryption and padding; then the packet id is recorded in the window (only for packets
    /// that authenticated). On error the window is unchanged and `buf`'s contents are
    /// unspecified. `now` drives the replay window's time limit.
    ///
    /// Unlike OpenVPN, an AEAD packet with an empty payload is accepted (it authenticated);
    /// OpenVPN never sends one.
    pub fn open(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        header_len: usize,
    ) -> Result<Range<usize>, CryptoError> {
        let result = self.open_inner(now, buf, header_len);
        match result {
            Ok(_) => self.stats.opened += 1,
            Err(e) => {
                self.stats.rejected += 1;
                tracing::debug!(error = %e, len = buf.len(), "data packet dropped");
            }
        }
        result
    }

    fn open_inner(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        header_len: usize,
    ) -> Result<Range<usize>, CryptoError> {
        let len = buf.len();
        let truncated = CryptoError::Truncated { len };
        let mac_len = self.digest.len();
        let pid_len = self.pid_len();
        match &self.rx.cipher {
            CipherKey::Aead(key, implicit_iv) => {
                let body_at = header_len
                    .checked_add(PID_SHORT + AEAD_TAG_LEN)
                    .filter(|&b| b <= len)
                    .ok_or(truncated)?;
                let pid_bytes = &buf[header_len..header_len + PID_SHORT];
                let pid = PacketId::short(be32(pid_bytes));
                self.replay.check(pid)?;
                let nonce = aead_nonce(pid_bytes, implicit_iv);
                let aad_start = if header_len == HEADER_LEN_V2 {
                    0
                } else {
                    header_len
                };
                let (front, body) = buf.split_at_mut(body_at);
                let aad = &front[aad_start..header_len + PID_SHORT];
                let tag = &front[header_len + PID_SHORT..];
                let ok = match key {
                    AeadKey::Ring(key) => {
                        let tag = ring::aead::Tag::try_from(tag).map_err(|_| truncated)?;
                        key.open_in_place_separate_tag(
                            ring::aead::Nonce::assume_unique_for_key(nonce),
                            ring::aead::Aad::from(aad),
                            tag,
                            body,
                            0..,
                        )
                        .is_ok()
                    }
                    AeadKey::Aes192Gcm(key) => key
                        .decrypt_in_place_detached(&nonce.into(), aad, body, tag.into())
                        .is_ok(),
                };
                if !ok {
                    return Err(CryptoError::AuthFailed);
                }
                self.replay.accept(now, pid)?;
                Ok(body_at..len)
            }
            CipherKey::Cbc(key) => {
                let block = self.cipher.block_size();
                let iv_at = header_len.checked_add(mac_len).ok_or(truncated)?;
                let enc_at = iv_at + block;
                let ct_len = len.checked_sub(enc_at).ok_or(truncated)?;
                if ct_len == 0 || ct_len % block != 0 {
                    return Err(truncated);
                }
                if let Some(mac) = &self.rx.hmac {
                    if !mac.verify(&[&buf[iv_at..]], &buf[header_len..iv_at]) {
                        return Err(CryptoError::AuthFailed);
                    }
                }
                let mut iv = [0u8; 16];
                let iv = &mut iv[..block];
                iv.copy_from_slice(&buf[iv_at..enc_at]);
                let region = &mut buf[enc_at..];
                let plain_len = match &**key {
                    CbcKey::Aes128(c) => cbc_decrypt(c, iv, region),
                    CbcKey::Aes192(c) => cbc_decrypt(c, iv, region),
                    CbcKey::Aes256(c) => cbc_decrypt(c, iv, region),
                    CbcKey::Bf(c) => cbc_decrypt(c, iv, region),
                }
                .ok_or(CryptoError::BadPadding)?;
                if plain_len < pid_len {
                    return Err(truncated);
                }
                let pid = read_pid(&buf[enc_at..enc_at + pid_len]);
                self.replay.accept(now, pid)?;
                Ok(enc_at + pid_len..enc_at + plain_len)
            }
            CipherKey::None => {
                let pid_at = header_len.checked_add(mac_len).ok_or(truncated)?;
                let body_at = pid_at
                    .checked_add(pid_len)
                    .filter(|&b| b <= len)
                    .ok_or(truncated)?;
                let pid = read_pid(&buf[pid_at..body_at]);
                self.replay.check(pid)?;
                if let Some(mac) = &self.rx.hmac {
                    if !mac.verify(&[&buf[pid_at..]], &buf[header_len..pid_at]) {
                        return Err(CryptoError::AuthFailed);
                    }
                }
                self.replay.accept(now, pid)?;
                Ok(body_at..len)
            }
        }
    }
}

fn be32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    u32::from_be_bytes(a)
}

/// A 4-byte (short) or 8-byte (long: id then time) packet id (`packet_id.c` `packet_id_read`).
fn read_pid(b: &[u8]) -> PacketId {
    PacketId {
        id: be32(b.get(..4).unwrap_or(b)),
        time: b.get(4..8).map_or(0, be32),
    }
}

/// AEAD nonce: packet id then implicit IV (`crypto.c` `openvpn_encrypt_aead` "Prepare IV").
fn aead_nonce(pid: &[u8], implicit_iv: &[u8; IMPLICIT_IV_LEN]) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    if let (Some(dst), Some(src)) = (nonce.get_mut(..PID_SHORT), pid.get(..PID_SHORT)) {
        dst.copy_from_slice(src);
    }
    nonce[PID_SHORT..].copy_from_slice(implicit_iv);
    nonce
}

/// CBC-encrypts `region[..msg_len]` with PKCS#7 padding in place; false if `region` is short.
fn cbc_encrypt<C: BlockEncrypt + BlockCipher>(
    c: &C,
    iv: &[u8],
    region: &mut [u8],
    msg_len: usize,
) -> bool {
    match cbc::Encryptor::<&C>::inner_iv_slice_init(c, iv) {
        Ok(enc) => enc.encrypt_padded_mut::<Pkcs7>(region, msg_len).is_ok(),
        Err(_) => false,
    }
}

/// CBC-decrypts `region` in place and checks PKCS#7 padding; the unpadded length, or `None`.
fn cbc_decrypt<C: BlockDecrypt + BlockCipher>(
    c: &C,
    iv: &[u8],
    region: &mut [u8],
) -> Option<usize> {
    let dec = cbc::Decryptor::<&C>::inner_iv_slice_init(c, iv).ok()?;
    dec.decrypt_padded_mut::<Pkcs7>(region)
        .ok()
        .map(|p| p.len())
}
