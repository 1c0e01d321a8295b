//! The crate's error type.

/// Why a packet or a key was refused.
///
/// Every variant is cheap (`Copy`, no heap data) so that a per-packet error can be counted and
/// dropped. Unless a variant says otherwise, the error concerns one packet only: drop the packet
/// and carry on; the key or wrapper it came from is unchanged (a failed [`open`] or [`unwrap`] never
/// updates the replay window, a failed [`seal`] or [`wrap`] never consumes a packet id).
///
/// [`open`]: crate::DataKeys::open
/// [`seal`]: crate::DataKeys::seal
/// [`unwrap`]: crate::TlsCrypt::unwrap
/// [`wrap`]: crate::TlsCrypt::wrap
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The caller's buffer is too small; nothing was written. `needed` is the total length the
    /// buffer must have.
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Minimum buffer length for this operation.
        needed: usize,
    },
    /// The packet is shorter than the suite's fixed fields (header, HMAC or tag, IV, packet id),
    /// or a CBC ciphertext is not a whole number of blocks.
    #[error("packet truncated or malformed: {len} bytes")]
    Truncated {
        /// Length of what was received.
        len: usize,
    },
    /// The HMAC or the AEAD tag did not verify: the packet was forged, corrupted or made with
    /// another key.
    #[error("authentication failed (bad HMAC or AEAD tag)")]
    AuthFailed,
    /// CBC padding is not valid PKCS#7 (only reachable when the suite has no HMAC, or with a
    /// valid HMAC from a broken peer).
    #[error("bad CBC padding")]
    BadPadding,
    /// The packet id was refused by the replay window.
    #[error("replayed packet: {0}")]
    Replay(#[from] ReplayError),
    /// The 32-bit send packet id is used up (`0xFFFFFFFF` was sent): renegotiate keys. Terminal
    /// for this key; OpenVPN logs "packet ID roll over" and drops the packet (`packet_id.c`).
    #[error("send packet id exhausted: renegotiate")]
    PacketIdExhausted,
    /// The key material is unusable: the cipher key is all zeros (OpenVPN `check_key`), or a
    /// key slice was too short for the suite.
    #[error("weak or unusable key")]
    WeakKey,
    /// A plaintext longer than the crate handles (see
    /// [`MAX_PLAINTEXT_LEN`](crate::MAX_PLAINTEXT_LEN)); nothing was written.
    #[error("packet too large: at most {max} bytes")]
    PacketTooLarge {
        /// Largest accepted length.
        max: usize,
    },
    /// The suite cannot be used in this mode (AEAD ciphers need TLS mode; OpenVPN's
    /// `crypto.c` `init_key_type` refuses them with `--secret`).
    #[error("cipher not usable in this mode (AEAD needs TLS mode)")]
    UnsupportedSuite,
    /// The digest `none` was given where an HMAC is required (tls-auth).
    #[error("an HMAC digest is required here, not `none`")]
    DigestRequired,
    /// A replay-window size or time is out of OpenVPN's range (`packet_id.h`: window 0..=65536,
    /// time 0..=600 s).
    #[error("replay window out of range: window 0..=65536 packets, time 0..=600 s")]
    BadReplayWindow,
    /// An unknown cipher name. The message lists the names that parse.
    #[error(
        "unknown cipher; known: aes128-cbc aes192-cbc aes256-cbc blowfish128 aes128-gcm \
         aes192-gcm aes256-gcm null (RouterOS), AES-128-CBC AES-192-CBC AES-256-CBC BF-CBC \
         AES-128-GCM AES-192-GCM AES-256-GCM CHACHA20-POLY1305 none (OpenVPN), any case"
    )]
    UnknownCipher,
    /// An unknown digest name. The message lists the names that parse.
    #[error("unknown digest; known: null none md5 sha1 sha256 sha384 sha512, any case")]
    UnknownDigest,
    /// A static key file has no `-----BEGIN OpenVPN Static key V1-----` line.
    #[error("static key: header line `-----BEGIN OpenVPN Static key V1-----` not found")]
    StaticKeyNoHeader,
    /// A static key file has no `-----END OpenVPN Static key V1-----` line after the key.
    #[error("static key: footer line `-----END OpenVPN Static key V1-----` not found")]
    StaticKeyNoFooter,
    /// A character that is neither a hex digit nor white space inside the key body.
    #[error("static key: invalid character on line {line}")]
    StaticKeyBadChar {
        /// 1-based line number.
        line: u32,
    },
    /// The key body does not hold exactly 256 bytes (OpenVPN reads at most 256 and needs 256
    /// for directional use; this crate always needs 256).
    #[error("static key: {found} key bytes found, 256 needed")]
    StaticKeyLength {
        /// Number of whole bytes read before the footer.
        found: usize,
    },
}

/// Why the replay window refused a packet id (`packet_id.c` `packet_id_test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Packet id 0 is never valid; senders start at 1.
    #[error("packet id 0")]
    Zero,
    /// This id was already received.
    #[error("duplicate packet id")]
    Duplicate,
    /// The id is older than the window (more than `window - 1` below the highest id seen).
    #[error("packet id older than the replay window")]
    TooOld,
    /// The id is inside the window but a newer packet arrived more than the window's time limit
    /// ago, so older ids are no longer accepted (`--replay-window n t`, the `t` rule).
    #[error("packet id expired by the replay window's time limit")]
    Expired,
    /// Long-form ids only: the packet's timestamp is older than the newest one seen.
    #[error("packet timestamp older than the newest seen")]
    OldTimestamp,
    /// Window size 0 (strict sequence, `--replay-window 0`): the id is not the next one.
    #[error("packet id out of sequence")]
    OutOfSequence,
}
