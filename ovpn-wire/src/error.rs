//! The crate's one error type.

use crate::Opcode;

/// Everything that can be wrong with a packet, a frame or an output buffer.
///
/// Every variant is **per packet and non-fatal**: drop the packet (or, for the TCP framing
/// variants, the connection: OpenVPN restarts a TCP link whose framing is broken) and carry on.
/// The type is `Copy` and holds no strings, so it is cheap to return and usable as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended inside `field`: the packet needs at least `needed` bytes up to the end of
    /// that field, and only `had` were there.
    #[error("truncated {field}: needed {needed} bytes, had {had}")]
    Truncated {
        /// The field that did not fit (e.g. `"session id"`, `"ack packet id"`).
        field: &'static str,
        /// Bytes needed from the start of the packet to the end of `field`.
        needed: usize,
        /// Bytes that were there.
        had: usize,
    },
    /// The opcode (the high 5 bits of the first byte) is not one of 1..=11.
    #[error("unknown opcode {0}")]
    UnknownOpcode(u8),
    /// The opcode exists but OpenVPN 2.6 rejects it: the key-method 1 hard resets
    /// (`P_CONTROL_HARD_RESET_CLIENT_V1`, `P_CONTROL_HARD_RESET_SERVER_V1`).
    #[error("{0} is not supported (key-method 1 was removed in OpenVPN 2.5)")]
    UnsupportedOpcode(Opcode),
    /// A data-channel opcode was given where a control packet was expected.
    #[error("{0} is not a control-channel opcode")]
    NotControl(Opcode),
    /// A control-channel opcode was given where a data packet was expected.
    #[error("{0} is not a data-channel opcode")]
    NotData(Opcode),
    /// The ack array announces more than [`AckList::CAPACITY`](crate::AckList::CAPACITY) (8)
    /// packet ids; OpenVPN drops such packets.
    #[error("ack array too long: {count} packet ids, at most 8 allowed")]
    AckArrayTooLong {
        /// The announced (or requested) number of ids.
        count: usize,
    },
    /// Writer misuse: the remote session id must be present exactly when the ack list is
    /// non-empty.
    #[error("remote session id must be present exactly when acks are (ack count {ack_count})")]
    RemoteSessionIdMismatch {
        /// Number of acks in the packet.
        ack_count: usize,
    },
    /// Writer misuse: the message packet id must be present exactly when the opcode carries one
    /// (every control opcode except `P_ACK_V1`).
    #[error("message packet id must be present exactly when the opcode carries one ({opcode})")]
    MessageIdMismatch {
        /// The packet's opcode.
        opcode: Opcode,
    },
    /// A tls-auth HMAC length outside `1..=64` (`OPENVPN_MAX_HMAC_SIZE`) was configured, or the
    /// HMAC slice given to a writer does not have the configured length.
    #[error("invalid tls-auth HMAC length {len} (must be 1..=64)")]
    InvalidHmacLen {
        /// The offending length.
        len: usize,
    },
    /// The trailing u16 length of a tls-crypt-v2 wrapped client key (WKc) is smaller than the
    /// length field itself or larger than the bytes available after the tls-crypt header and tag.
    #[error("bad tls-crypt-v2 WKc length {len}: {available} bytes available")]
    BadWkcLength {
        /// The length read from (or implied by) the WKc trailer.
        len: usize,
        /// Bytes available for the WKc.
        available: usize,
    },
    /// Writer misuse: a WKc must be given exactly for `P_CONTROL_HARD_RESET_CLIENT_V3` and
    /// `P_CONTROL_WKC_V1`.
    #[error("a WKc must be present exactly for the V3 hard reset and P_CONTROL_WKC_V1 ({opcode})")]
    WkcMismatch {
        /// The packet's opcode.
        opcode: Opcode,
    },
    /// A TCP length prefix of zero. OpenVPN treats this as a broken stream and restarts.
    #[error("empty TCP frame (length prefix 0)")]
    EmptyFrame,
    /// A TCP length prefix above the configured maximum (or a packet too long for the 16-bit
    /// prefix). OpenVPN treats this as a broken stream and restarts.
    #[error("TCP frame too large: {len} bytes, at most {max} allowed")]
    FrameTooLarge {
        /// The frame length.
        len: usize,
        /// The maximum in force.
        max: usize,
    },
    /// The caller's output buffer cannot hold what is to be written; nothing was written.
    #[error("output buffer too small: needed {needed} bytes, had {had}")]
    BufferTooSmall {
        /// Bytes required.
        needed: usize,
        /// Bytes available.
        had: usize,
    },
    /// A data-channel payload handed to the OCC parser does not start with the OCC magic.
    #[error("not an OCC message (magic mismatch)")]
    NotOcc,
    /// An OCC message with an opcode other than 0..=6.
    #[error("unknown OCC opcode {0}")]
    UnknownOccOpcode(u8),
    /// A data-channel payload whose compression framing byte does not match the configured
    /// framing (OpenVPN drops the packet).
    #[error("bad compression framing byte {byte:#04x}")]
    BadCompressionByte {
        /// The byte found.
        byte: u8,
    },
}
