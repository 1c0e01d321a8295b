//! Session ids, peer ids and packet ids.

use core::fmt;

/// A packet id: the 32-bit counter used for control-channel message ids, acks, the tls-auth /
/// tls-crypt replay id and the data-channel replay id (`packet_id.h: packet_id_type = uint32_t`).
pub type PacketId = u32;

/// An 8-byte session id (`session_id.h: SID_SIZE = 8`).
///
/// Each side picks its own random, non-zero session id when a session starts and keeps it across
/// renegotiations. Control packets carry the sender's own id, and (when they carry acks) the
/// receiver's id as "remote session id".
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(pub [u8; SessionId::LEN]);

impl SessionId {
    /// Length of a session id on the wire. (`session_id.h: SID_SIZE`)
    pub const LEN: usize = 8;

    /// True unless all bytes are zero. OpenVPN treats an all-zero id as "not defined" and drops
    /// packets carrying one (`session_id.h: session_id_defined`).
    pub const fn is_defined(&self) -> bool {
        u64::from_ne_bytes(self.0) != 0
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; SessionId::LEN] {
        &self.0
    }
}

impl From<[u8; SessionId::LEN]> for SessionId {
    fn from(bytes: [u8; SessionId::LEN]) -> Self {
        SessionId(bytes)
    }
}

impl fmt::Display for SessionId {
    /// Lower-case hex, 16 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// The 24-bit peer id carried by `P_DATA_V2` packets.
///
/// A server assigns it per client and pushes it (`peer-id N`); the client echoes it in every
/// `P_DATA_V2` it sends. `0xFFFFFF` ([`PeerId::UNSET`]) means "not set"
/// (`openvpn.h: MAX_PEER_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(u32);

impl PeerId {
    /// The largest value that fits in 24 bits; as a peer id it means "unset".
    pub const MAX_VALUE: u32 = 0x00FF_FFFF;
    /// The "no peer id" marker, `0xFFFFFF`. (`openvpn.h: MAX_PEER_ID`)
    pub const UNSET: PeerId = PeerId(Self::MAX_VALUE);

    /// The peer id `value`, or `None` if it does not fit in 24 bits.
    pub const fn new(value: u32) -> Option<Self> {
        if value <= Self::MAX_VALUE {
            Some(PeerId(value))
        } else {
            None
        }
    }

    /// The peer id in the low 24 bits of `value` (the high 8 bits are ignored).
    pub const fn from_u24(value: u32) -> Self {
        PeerId(value & Self::MAX_VALUE)
    }

    /// The numeric value, 0..=0xFFFFFF.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// False for [`PeerId::UNSET`].
    pub const fn is_set(self) -> bool {
        self.0 != Self::MAX_VALUE
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
