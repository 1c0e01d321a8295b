//! Control-channel packets in their three wire layouts: plain, tls-auth and tls-crypt.

use crate::cursor::{Reader, Writer};
use crate::{
    AckList, KeyId, Opcode, PacketId, SessionId, WireError, header_byte, split_header_byte,
};

/// Length of the long-form replay packet id used by tls-auth and tls-crypt: `u32` counter then
/// `u32` Unix time. (`packet_id.c: packet_id_write` with `long_form`; `ssl_pkt.c: swap_hmac`
/// uses `packet_id_size(true)`)
pub const REPLAY_ID_LEN: usize = 8;
/// Largest tls-auth HMAC (SHA-512). (`crypto_backend.h: OPENVPN_MAX_HMAC_SIZE`)
pub const MAX_HMAC_LEN: usize = 64;
/// Offset of the tls-auth HMAC: right after opcode and session id. (`ssl_pkt.c: swap_hmac`,
/// `osid_size = 1 + SID_SIZE`)
pub const TLS_AUTH_HMAC_OFFSET: usize = HEADER_LEN;
/// Length of the tls-crypt authentication tag (HMAC-SHA256). (`tls_crypt.h: TLS_CRYPT_TAG_SIZE`)
pub const TLS_CRYPT_TAG_LEN: usize = 32;
/// Offset of the tls-crypt replay packet id. (`tls_crypt.h: TLS_CRYPT_OFF_PID`)
pub const TLS_CRYPT_REPLAY_ID_OFFSET: usize = HEADER_LEN;
/// Offset of the tls-crypt tag; the bytes before it (opcode, session id, replay id, time) are
/// authenticated in clear. (`tls_crypt.h: TLS_CRYPT_OFF_TAG`)
pub const TLS_CRYPT_TAG_OFFSET: usize = TLS_CRYPT_REPLAY_ID_OFFSET + REPLAY_ID_LEN;
/// Offset of the tls-crypt ciphertext. (`tls_crypt.h: TLS_CRYPT_OFF_CT`)
pub const TLS_CRYPT_CIPHERTEXT_OFFSET: usize = TLS_CRYPT_TAG_OFFSET + TLS_CRYPT_TAG_LEN;
/// Largest WKc OpenVPN produces or accepts (`tls_crypt.h: TLS_CRYPT_V2_MAX_WKC_LEN`). This crate
/// does not enforce it (the key unwrap in ovpn-crypto does); it is here for buffer sizing.
pub const TLS_CRYPT_V2_MAX_WKC_LEN: usize = 1024;
/// Opcode byte plus session id: the common start of every control packet.
const HEADER_LEN: usize = 1 + SessionId::LEN;

/// How control packets are protected on the wire, which decides their layout. This is layout
/// only: computing and checking HMACs, encrypting and decrypting is ovpn-crypto's job.
///
/// tls-crypt-v2 and dynamic tls-crypt use the [`TlsCrypt`](Self::TlsCrypt) layout (with the WKc
/// appended to `P_CONTROL_HARD_RESET_CLIENT_V3` and `P_CONTROL_WKC_V1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ControlProtection {
    /// No tls-auth/tls-crypt: `op/kid | session id | acks | [remote sid] | [msg id] | payload`.
    #[default]
    None,
    /// `--tls-auth`: `op/kid | session id | HMAC | replay id | time | acks | ... | payload`,
    /// the rest as in the plain layout and in clear (`ssl_pkt.c: swap_hmac`).
    TlsAuth {
        /// Digest size of `--auth` in bytes: 16 (MD5), 20 (SHA1, OpenVPN's default), 28
        /// (SHA224), 32 (SHA256), 48 (SHA384), 64 (SHA512). Must be 1..=64.
        hmac_len: usize,
    },
    /// `--tls-crypt` / `--tls-crypt-v2`: `op/kid | session id | replay id | time | tag(32) |
    /// AES-256-CTR(acks | ... | payload) [| WKc]` (`tls_crypt.h`).
    TlsCrypt,
}

impl ControlProtection {
    /// tls-auth with SHA1 (20-byte HMAC), OpenVPN's default `--auth`.
    pub const TLS_AUTH_SHA1: ControlProtection = ControlProtection::TlsAuth { hmac_len: 20 };
    /// tls-auth with SHA256 (32-byte HMAC).
    pub const TLS_AUTH_SHA256: ControlProtection = ControlProtection::TlsAuth { hmac_len: 32 };

    /// Bytes this protection adds to a plain control packet (not counting a tls-crypt-v2 WKc):
    /// 0, `hmac_len + 8`, or 40.
    pub const fn overhead(self) -> usize {
        match self {
            ControlProtection::None => 0,
            ControlProtection::TlsAuth { hmac_len } => hmac_len + REPLAY_ID_LEN,
            ControlProtection::TlsCrypt => REPLAY_ID_LEN + TLS_CRYPT_TAG_LEN,
        }
    }

    /// Checks the configuration: a tls-auth HMAC length must be 1..=64
    /// ([`WireError::InvalidHmacLen`]).
    pub const fn validate(self) -> Result<(), WireError> {
        match self {
            ControlProtection::TlsAuth { hmac_len } => check_hmac_len(hmac_len),
            ControlProtection::None | ControlProtection::TlsCrypt => Ok(()),
        }
    }
}

const fn check_hmac_len(len: usize) -> Result<(), WireError> {
    if len >= 1 && len <= MAX_HMAC_LEN {
        Ok(())
    } else {
        Err(WireError::InvalidHmacLen { len })
    }
}

/// Reads the first byte and accepts only supported control opcodes.
fn control_header(r: &mut Reader<'_>) -> Result<(Opcode, KeyId), WireError> {
    let (opcode, key_id) = split_header_byte(r.u8("opcode")?)?;
    check_control(opcode)?;
    Ok((opcode, key_id))
}

const fn check_control(opcode: Opcode) -> Result<(), WireError> {
    if opcode.is_data() {
        Err(WireError::NotControl(opcode))
    } else if !opcode.is_supported() {
        Err(WireError::UnsupportedOpcode(opcode))
    } else {
        Ok(())
    }
}

/// A control-channel packet in its plain (unprotected, or already unwrapped) form, borrowing its
/// payload from the datagram.
///
/// Wire layout (`ssl_pkt.c: write_control_auth`, `reliable.c: reliable_ack_write`,
/// `reliable.h: ACK_SIZE`):
///
/// ```text
/// op/kid(1) | session_id(8) | n(1) | n x ack u32 | remote_session_id(8) if n > 0
///           | message_id u32 (not in P_ACK_V1) | payload (TLS records; empty in resets/acks)
/// ```
///
/// The fields are public: build a value (directly or with [`ControlPacket::new`],
/// [`ControlPacket::ack`] and [`ControlPacket::with_acks`]) and [`write`](Self::write) it.
/// Two invariants are checked when writing: `remote_session_id` is `Some` exactly when `acks` is
/// non-empty, and `message_id` is `Some` exactly when [`Opcode::has_message_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlPacket<'a> {
    /// A supported control opcode (not data, not a key-method 1 reset).
    pub opcode: Opcode,
    /// Key id of the key state this packet belongs to.
    pub key_id: KeyId,
    /// The **sender's** session id.
    pub session_id: SessionId,
    /// Message ids the sender acknowledges (at most 8).
    pub acks: AckList,
    /// The **receiver's** session id, present exactly when `acks` is non-empty.
    pub remote_session_id: Option<SessionId>,
    /// The reliability-layer message id; `None` exactly for `P_ACK_V1`.
    pub message_id: Option<PacketId>,
    /// What follows the message id: TLS records for `P_CONTROL_V1`, early-negotiation TLVs or
    /// nothing for resets. Normally empty for `P_ACK_V1` (bytes after its ack block end up here).
    pub payload: &'a [u8],
}

impl<'a> ControlPacket<'a> {
    /// A message-carrying control packet (reset, soft reset, `P_CONTROL_V1`, WKC) without acks;
    /// add acks with [`with_acks`](Self::with_acks).
    pub const fn new(
        opcode: Opcode,
        key_id: KeyId,
        session_id: SessionId,
        message_id: PacketId,
        payload: &'a [u8],
    ) -> Self {
        ControlPacket {
            opcode,
            key_id,
            session_id,
            acks: AckList::new(),
            remote_session_id: None,
            message_id: Some(message_id),
            payload,
        }
    }

    /// A `P_ACK_V1` acknowledging `acks` (which should be non-empty) of the peer whose session id
    /// is `remote_session_id`.
    pub fn ack(
        key_id: KeyId,
        session_id: SessionId,
        acks: AckList,
        remote_session_id: SessionId,
    ) -> Self {
        ControlPacket {
            opcode: Opcode::AckV1,
            key_id,
            session_id,
            acks: AckList::new(),
            remote_session_id: None,
            message_id: None,
            payload: &[],
        }
        .with_acks(acks, remote_session_id)
    }

    /// Sets the ack list and, when it is non-empty, the remote session id (keeping the
    /// invariant: an empty list clears it).
    #[must_use]
    pub fn with_acks(mut self, acks: AckList, remote_session_id: SessionId) -> Self {
        self.remote_session_id = (!acks.is_empty()).then_some(remote_session_id);
        self.acks = acks;
        self
    }

    /// Parses the plain layout.
    ///
    /// Errors: [`WireError::Truncated`], [`WireError::UnknownOpcode`],
    /// [`WireError::UnsupportedOpcode`] (V1 resets), [`WireError::NotControl`] (data opcodes),
    /// [`WireError::AckArrayTooLong`] (more than 8 acks).
    pub fn parse(packet: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(packet);
        let (opcode, key_id) = control_header(&mut r)?;
        let session_id = SessionId(*r.array("session id")?);
        parse_body(opcode, key_id, session_id, r)
    }

    /// Length of everything after opcode and session id (the part tls-crypt encrypts).
    pub fn body_len(&self) -> usize {
        let acks = self.acks.len();
        1 + 4 * acks
            + if acks > 0 { SessionId::LEN } else { 0 }
            + if self.message_id.is_some() { 4 } else { 0 }
            + self.payload.len()
    }

    /// Length of the plain layout.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body_len()
    }

    /// Writes the plain layout to the start of `out` and returns its length.
    ///
    /// Errors (nothing is written): [`WireError::BufferTooSmall`], [`WireError::NotControl`],
    /// [`WireError::UnsupportedOpcode`], [`WireError::RemoteSessionIdMismatch`],
    /// [`WireError::MessageIdMismatch`].
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        self.validate()?;
        let mut w = Writer::new(out, self.encoded_len())?;
        w.u8(header_byte(self.opcode, self.key_id))?;
        w.put(&self.session_id.0)?;
        self.write_body(&mut w)?;
        Ok(w.finish())
    }

    /// Writes the tls-auth layout with the given HMAC bytes (which may be zeros, to be filled in
    /// afterwards at [`TLS_AUTH_HMAC_OFFSET`]), replay packet id and time.
    ///
    /// Errors as [`write`](Self::write), plus [`WireError::InvalidHmacLen`] when `hmac` is not
    /// 1..=64 bytes long.
    pub fn write_tls_auth(
        &self,
        hmac: &[u8],
        replay_id: PacketId,
        time: u32,
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        self.validate()?;
        check_hmac_len(hmac.len())?;
        let needed = self.encoded_len() + hmac.len() + REPLAY_ID_LEN;
        let mut w = Writer::new(out, needed)?;
        w.u8(header_byte(self.opcode, self.key_id))?;
        w.put(&self.session_id.0)?;
        w.put(hmac)?;
        w.u32(replay_id)?;
        w.u32(time)?;
        self.write_body(&mut w)?;
        Ok(w.finish())
    }

    fn validate(&self) -> Result<(), WireError> {
        check_control(self.opcode)?;
        if self.acks.is_empty() == self.remote_session_id.is_some() {
            return Err(WireError::RemoteSessionIdMismatch {
                ack_count: self.acks.len(),
            });
        }
        if self.opcode.has_message_id() != self.message_id.is_some() {
            return Err(WireError::MessageIdMismatch {
                opcode: self.opcode,
            });
        }
        Ok(())
    }

    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        // `acks.len() <= 8` by construction of AckList
        w.u8(self.acks.len() as u8)?;
        for &id in &self.acks {
            w.u32(id)?;
        }
        if let Some(remote) = self.remote_session_id {
            w.put(&remote.0)?;
        }
        if let Some(id) = self.message_id {
            w.u32(id)?;
        }
        w.put(self.payload)
    }
}

/// Parses what follows opcode and session id in the plain layout.
fn parse_body<'a>(
    opcode: Opcode,
    key_id: KeyId,
    session_id: SessionId,
    mut r: Reader<'a>,
) -> Result<ControlPacket<'a>, WireError> {
    // reliable.c: reliable_ack_parse -- u8 count, count x u32, remote session id if count > 0
    let count = r.u8("ack count")?;
    if usize::from(count) > AckList::CAPACITY {
        return Err(WireError::AckArrayTooLong {
            count: usize::from(count),
        });
    }
    let mut acks = AckList::new();
    for _ in 0..count {
        acks.push(r.u32("ack packet id")?)?;
    }
    let remote_session_id = if count > 0 {
        Some(SessionId(*r.array("remote session id")?))
    } else {
        None
    };
    // reliable.c: reliable_ack_read_packet_id -- absent in P_ACK_V1 (ssl.c: tls_pre_decrypt)
    let message_id = if opcode.has_message_id() {
        Some(r.u32("message packet id")?)
    } else {
        None
    };
    Ok(ControlPacket {
        opcode,
        key_id,
        session_id,
        acks,
        remote_session_id,
        message_id,
        payload: r.rest(),
    })
}

/// A tls-auth protected control packet, as on the wire.
///
/// ```text
/// op/kid(1) | session_id(8) | HMAC(hmac_len) | replay_id u32 | time u32 | body (plain layout, in clear)
/// ```
///
/// OpenVPN computes the HMAC over `replay_id | time | op/kid | session_id | body` and then moves
/// HMAC and replay id behind the session id (`ssl_pkt.c: swap_hmac, tls_wrap_control,
/// read_control_auth`). Verifying it is ovpn-crypto's job; [`control`](Self::control) parses the
/// body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlsAuthPacket<'a> {
    /// A supported control opcode.
    pub opcode: Opcode,
    /// Key id.
    pub key_id: KeyId,
    /// The sender's session id.
    pub session_id: SessionId,
    /// The HMAC slot (`hmac_len` bytes).
    pub hmac: &'a [u8],
    /// The tls-auth replay packet id (starts at 1, a fresh one per transmission).
    pub replay_id: PacketId,
    /// The replay time (Unix seconds, as the sender's clock saw it).
    pub time: u32,
    /// Everything after the time: the plain layout without opcode and session id
    /// (`n | acks | remote sid | message id | payload`).
    pub body: &'a [u8],
}

impl<'a> TlsAuthPacket<'a> {
    /// Splits a tls-auth datagram into its fields. The body is not parsed: call
    /// [`control`](Self::control) (after verifying the HMAC).
    ///
    /// Errors: [`WireError::InvalidHmacLen`], [`WireError::Truncated`] and the opcode errors of
    /// [`ControlPacket::parse`].
    pub fn parse(datagram: &'a [u8], hmac_len: usize) -> Result<Self, WireError> {
        check_hmac_len(hmac_len)?;
        let mut r = Reader::new(datagram);
        let (opcode, key_id) = control_header(&mut r)?;
        let session_id = SessionId(*r.array("session id")?);
        let hmac = r.take(hmac_len, "tls-auth hmac")?;
        let replay_id = r.u32("tls-auth replay packet id")?;
        let time = r.u32("tls-auth replay time")?;
        Ok(TlsAuthPacket {
            opcode,
            key_id,
            session_id,
            hmac,
            replay_id,
            time,
            body: r.rest(),
        })
    }

    /// Offset of the body inside the datagram.
    pub fn body_offset(&self) -> usize {
        HEADER_LEN + self.hmac.len() + REPLAY_ID_LEN
    }

    /// Parses the body into the plain control packet it carries. Truncation errors count
    /// offsets from the start of the datagram.
    pub fn control(&self) -> Result<ControlPacket<'a>, WireError> {
        let r = Reader::with_base(self.body, self.body_offset());
        parse_body(self.opcode, self.key_id, self.session_id, r)
    }

    /// Length on the wire.
    pub fn encoded_len(&self) -> usize {
        self.body_offset() + self.body.len()
    }

    /// Writes the datagram to the start of `out` and returns its length.
    ///
    /// Errors (nothing is written): [`WireError::BufferTooSmall`], [`WireError::InvalidHmacLen`],
    /// [`WireError::NotControl`], [`WireError::UnsupportedOpcode`].
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        check_control(self.opcode)?;
        check_hmac_len(self.hmac.len())?;
        let mut w = Writer::new(out, self.encoded_len())?;
        w.u8(header_byte(self.opcode, self.key_id))?;
        w.put(&self.session_id.0)?;
        w.put(self.hmac)?;
        w.u32(self.replay_id)?;
        w.u32(self.time)?;
        w.put(self.body)?;
        Ok(w.finish())
    }
}

/// A tls-crypt (or tls-crypt-v2) protected control packet, as on the wire.
///
/// ```text
/// op/kid(1) | session_id(8) | replay_id u32 | time u32 | tag(32) | ciphertext [| WKc]
/// ```
///
/// The tag is HMAC-SHA256 over the first 17 bytes and the plaintext; the ciphertext is
/// AES-256-CTR of the plain body (`n | acks | remote sid | message id | payload`), with the tag
/// as IV (`tls_crypt.h`, `tls_crypt.c: tls_crypt_wrap`). For
/// `P_CONTROL_HARD_RESET_CLIENT_V3` and `P_CONTROL_WKC_V1` the client's wrapped key (WKc) follows
/// in clear; its last two bytes are its own total length, big-endian
/// (`tls_crypt.c: tls_crypt_v2_extract_client_key, tls_crypt_v2_wrap_client_key`).
///
/// After ovpn-crypto has verified and decrypted it, parse the plain bytes
/// `op/kid | session_id | plaintext` with [`ControlPacket::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TlsCryptPacket<'a> {
    /// A supported control opcode.
    pub opcode: Opcode,
    /// Key id.
    pub key_id: KeyId,
    /// The sender's session id.
    pub session_id: SessionId,
    /// The tls-crypt replay packet id (0x0f000001 for an early-negotiation V3 reset).
    pub replay_id: PacketId,
    /// The replay time (Unix seconds).
    pub time: u32,
    /// The authentication tag, also the CTR IV source.
    pub tag: &'a [u8; TLS_CRYPT_TAG_LEN],
    /// The encrypted body.
    pub ciphertext: &'a [u8],
    /// The tls-crypt-v2 wrapped client key including its trailing u16 length; `Some` exactly
    /// when [`Opcode::carries_wkc`].
    pub wkc: Option<&'a [u8]>,
}

impl<'a> TlsCryptPacket<'a> {
    /// Splits a tls-crypt datagram into its fields (nothing is decrypted).
    ///
    /// Errors: [`WireError::Truncated`], [`WireError::BadWkcLength`] and the opcode errors of
    /// [`ControlPacket::parse`].
    pub fn parse(datagram: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(datagram);
        let (opcode, key_id) = control_header(&mut r)?;
        let session_id = SessionId(*r.array("session id")?);
        let replay_id = r.u32("tls-crypt replay packet id")?;
        let time = r.u32("tls-crypt replay time")?;
        let tag = r.array("tls-crypt tag")?;
        let rest = r.rest();
        let (ciphertext, wkc) = if opcode.carries_wkc() {
            let (ct, wkc) = split_wkc(rest)?;
            (ct, Some(wkc))
        } else {
            (rest, None)
        };
        Ok(TlsCryptPacket {
            opcode,
            key_id,
            session_id,
            replay_id,
            time,
            tag,
            ciphertext,
            wkc,
        })
    }

    /// The authenticated clear header, `op/kid | session_id | replay_id | time` (17 bytes), as it
    /// appears at the start of the datagram.
    pub fn header_bytes(&self) -> [u8; TLS_CRYPT_TAG_OFFSET] {
        let mut out = [0u8; TLS_CRYPT_TAG_OFFSET];
        out[0] = header_byte(self.opcode, self.key_id);
        out[1..HEADER_LEN].copy_from_slice(&self.session_id.0);
        out[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&self.replay_id.to_be_bytes());
        out[HEADER_LEN + 4..].copy_from_slice(&self.time.to_be_bytes());
        out
    }

    /// Length on the wire.
    pub fn encoded_len(&self) -> usize {
        TLS_CRYPT_CIPHERTEXT_OFFSET + self.ciphertext.len() + self.wkc.map_or(0, <[u8]>::len)
    }

    /// Writes the datagram to the start of `out` and returns its length.
    ///
    /// Errors (nothing is written): [`WireError::BufferTooSmall`], [`WireError::NotControl`],
    /// [`WireError::UnsupportedOpcode`], [`WireError::WkcMismatch`], [`WireError::BadWkcLength`]
    /// (the WKc's trailing length must equal its length).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        check_control(self.opcode)?;
        if self.opcode.carries_wkc() != self.wkc.is_some() {
            return Err(WireError::WkcMismatch {
                opcode: self.opcode,
            });
        }
        if let Some(wkc) = self.wkc {
            check_wkc(wkc)?;
        }
        let mut w = Writer::new(out, self.encoded_len())?;
        w.put(&self.header_bytes())?;
        w.put(self.tag)?;
        w.put(self.ciphertext)?;
        if let Some(wkc) = self.wkc {
            w.put(wkc)?;
        }
        Ok(w.finish())
    }
}

/// Splits `ciphertext | WKc` using the WKc's trailing length.
fn split_wkc(rest: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let len_field = rest
        .len()
        .checked_sub(2)
        .and_then(|at| rest.get(at..))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .ok_or(WireError::Truncated {
            field: "tls-crypt-v2 WKc length",
            needed: TLS_CRYPT_CIPHERTEXT_OFFSET + 2,
            had: TLS_CRYPT_CIPHERTEXT_OFFSET + rest.len(),
        })?;
    let len = usize::from(u16::from_be_bytes(len_field));
    let bad = WireError::BadWkcLength {
        len,
        available: rest.len(),
    };
    if len < 2 {
        return Err(bad);
    }
    let at = rest.len().checked_sub(len).ok_or(bad)?;
    rest.split_at_checked(at).ok_or(bad)
}

/// Checks that a WKc ends with its own total length.
fn check_wkc(wkc: &[u8]) -> Result<(), WireError> {
    let trailer = wkc
        .len()
        .checked_sub(2)
        .and_then(|at| wkc.get(at..))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .ok_or(WireError::BadWkcLength {
            len: wkc.len(),
            available: wkc.len(),
        })?;
    let len = usize::from(u16::from_be_bytes(trailer));
    if len == wkc.len() {
        Ok(())
    } else {
        Err(WireError::BadWkcLength {
            len,
            available: wkc.len(),
        })
    }
}
