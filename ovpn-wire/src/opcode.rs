//! The first byte of every packet: opcode and key id.

use core::fmt;

use crate::WireError;

/// The opcode occupies the high 5 bits of the first byte. (`ssl_pkt.h: P_OPCODE_SHIFT`)
pub const OPCODE_SHIFT: u8 = 3;
/// The key id occupies the low 3 bits of the first byte. (`ssl_pkt.h: P_KEY_ID_MASK`)
pub const KEY_ID_MASK: u8 = 0x07;

/// An OpenVPN packet opcode (`ssl_pkt.h`: `P_CONTROL_HARD_RESET_CLIENT_V1` ..
/// `P_CONTROL_WKC_V1`).
///
/// All eleven opcodes are recognised. The two key-method 1 hard resets
/// ([`HardResetClientV1`](Self::HardResetClientV1), [`HardResetServerV1`](Self::HardResetServerV1))
/// are rejected by OpenVPN 2.6 (`ssl_pkt.h: P_FIRST_OPCODE = 3`), and the packet parsers of this
/// crate report them as [`WireError::UnsupportedOpcode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Opcode {
    /// `P_CONTROL_HARD_RESET_CLIENT_V1` (1): key-method 1 client reset; unsupported.
    HardResetClientV1 = 1,
    /// `P_CONTROL_HARD_RESET_SERVER_V1` (2): key-method 1 server reset; unsupported.
    HardResetServerV1 = 2,
    /// `P_CONTROL_SOFT_RESET_V1` (3): starts a renegotiation under a new key id.
    SoftResetV1 = 3,
    /// `P_CONTROL_V1` (4): carries TLS records (the control channel proper).
    ControlV1 = 4,
    /// `P_ACK_V1` (5): acknowledgements only; no message packet id, no payload.
    AckV1 = 5,
    /// `P_DATA_V1` (6): data packet with a 1-byte header.
    DataV1 = 6,
    /// `P_CONTROL_HARD_RESET_CLIENT_V2` (7): the client starts a session.
    HardResetClientV2 = 7,
    /// `P_CONTROL_HARD_RESET_SERVER_V2` (8): the server answers a client reset.
    HardResetServerV2 = 8,
    /// `P_DATA_V2` (9): data packet with a 4-byte header carrying a 24-bit peer id.
    DataV2 = 9,
    /// `P_CONTROL_HARD_RESET_CLIENT_V3` (10): client reset under tls-crypt-v2 (WKc appended).
    HardResetClientV3 = 10,
    /// `P_CONTROL_WKC_V1` (11): a `P_CONTROL_V1` with the tls-crypt-v2 WKc appended.
    ControlWkcV1 = 11,
}

impl Opcode {
    /// Every opcode, in numeric order.
    pub const ALL: [Opcode; 11] = [
        Opcode::HardResetClientV1,
        Opcode::HardResetServerV1,
        Opcode::SoftResetV1,
        Opcode::ControlV1,
        Opcode::AckV1,
        Opcode::DataV1,
        Opcode::HardResetClientV2,
        Opcode::HardResetServerV2,
        Opcode::DataV2,
        Opcode::HardResetClientV3,
        Opcode::ControlWkcV1,
    ];

    /// The opcode with this 5-bit value, or `None` for 0 and 12..=31 (and anything wider).
    pub const fn from_u8(value: u8) -> Option<Self> {
        // values: ssl_pkt.h (P_CONTROL_HARD_RESET_CLIENT_V1 = 1 .. P_CONTROL_WKC_V1 = 11)
        Some(match value {
            1 => Opcode::HardResetClientV1,
            2 => Opcode::HardResetServerV1,
            3 => Opcode::SoftResetV1,
            4 => Opcode::ControlV1,
            5 => Opcode::AckV1,
            6 => Opcode::DataV1,
            7 => Opcode::HardResetClientV2,
            8 => Opcode::HardResetServerV2,
            9 => Opcode::DataV2,
            10 => Opcode::HardResetClientV3,
            11 => Opcode::ControlWkcV1,
            _ => return None,
        })
    }

    /// The numeric opcode (1..=11).
    pub const fn to_u8(self) -> u8 {
        self as u8
    }

    /// True for the control-channel opcodes (everything except `P_DATA_V1`/`P_DATA_V2`).
    pub const fn is_control(self) -> bool {
        !self.is_data()
    }

    /// True for `P_DATA_V1` and `P_DATA_V2`.
    pub const fn is_data(self) -> bool {
        matches!(self, Opcode::DataV1 | Opcode::DataV2)
    }

    /// True for the hard resets that start a session: client V1/V2/V3 and server V1/V2.
    /// (OpenVPN 2.6 only accepts V2/V3: `ssl.c: is_hard_reset_method2`.)
    pub const fn is_hard_reset(self) -> bool {
        matches!(
            self,
            Opcode::HardResetClientV1
                | Opcode::HardResetServerV1
                | Opcode::HardResetClientV2
                | Opcode::HardResetServerV2
                | Opcode::HardResetClientV3
        )
    }

    /// False only for the key-method 1 hard resets, which OpenVPN 2.6 drops
    /// (`ssl_pkt.h: P_FIRST_OPCODE = 3`).
    pub const fn is_supported(self) -> bool {
        !matches!(self, Opcode::HardResetClientV1 | Opcode::HardResetServerV1)
    }

    /// True when a control packet with this opcode carries a message packet id (and may carry a
    /// payload): every control opcode except `P_ACK_V1`.
    pub const fn has_message_id(self) -> bool {
        self.is_control() && !matches!(self, Opcode::AckV1)
    }

    /// True for the opcodes that carry the tls-crypt-v2 wrapped client key (WKc) after the
    /// tls-crypt wrapped part: `P_CONTROL_HARD_RESET_CLIENT_V3` and `P_CONTROL_WKC_V1`
    /// (`ssl_pkt.c: tls_wrap_control`).
    pub const fn carries_wkc(self) -> bool {
        matches!(self, Opcode::HardResetClientV3 | Opcode::ControlWkcV1)
    }

    /// OpenVPN's name for the opcode, e.g. `"P_CONTROL_V1"` (`ssl_pkt.h: packet_opcode_name`).
    pub const fn name(self) -> &'static str {
        match self {
            Opcode::HardResetClientV1 => "P_CONTROL_HARD_RESET_CLIENT_V1",
            Opcode::HardResetServerV1 => "P_CONTROL_HARD_RESET_SERVER_V1",
            Opcode::SoftResetV1 => "P_CONTROL_SOFT_RESET_V1",
            Opcode::ControlV1 => "P_CONTROL_V1",
            Opcode::AckV1 => "P_ACK_V1",
            Opcode::DataV1 => "P_DATA_V1",
            Opcode::HardResetClientV2 => "P_CONTROL_HARD_RESET_CLIENT_V2",
            Opcode::HardResetServerV2 => "P_CONTROL_HARD_RESET_SERVER_V2",
            Opcode::DataV2 => "P_DATA_V2",
            Opcode::HardResetClientV3 => "P_CONTROL_HARD_RESET_CLIENT_V3",
            Opcode::ControlWkcV1 => "P_CONTROL_WKC_V1",
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u8> for Opcode {
    type Error = WireError;

    /// Converts a 5-bit opcode value; fails with [`WireError::UnknownOpcode`].
    fn try_from(value: u8) -> Result<Self, WireError> {
        Opcode::from_u8(value).ok_or(WireError::UnknownOpcode(value))
    }
}

/// A 3-bit key id (0..=7) naming one data-channel key of a session.
///
/// Key id 0 is the session's first key; renegotiations use 1..=7 and then wrap around to **1**,
/// never back to 0 (`ssl.c: key_state_init`, `ssl_pkt.h: tls_session_get_tls_wrap`). Use
/// [`KeyId::next`] to step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct KeyId(u8);

impl KeyId {
    /// Key id 0, the first key of a session.
    pub const ZERO: KeyId = KeyId(0);
    /// Key id 7, the highest.
    pub const MAX: KeyId = KeyId(KEY_ID_MASK);

    /// The key id `value`, or `None` if it does not fit in 3 bits.
    pub const fn new(value: u8) -> Option<Self> {
        if value <= KEY_ID_MASK {
            Some(KeyId(value))
        } else {
            None
        }
    }

    /// The key id of a packet's first byte (its low 3 bits).
    pub const fn from_header_byte(byte: u8) -> Self {
        KeyId(byte & KEY_ID_MASK)
    }

    /// The numeric value, 0..=7.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The key id the next renegotiation uses: `self + 1`, except that 7 wraps to 1 (never 0).
    pub const fn next(self) -> Self {
        if self.0 >= KEY_ID_MASK {
            KeyId(1)
        } else {
            KeyId(self.0 + 1)
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The first byte of a packet: `opcode << 3 | key_id`.
pub const fn header_byte(opcode: Opcode, key_id: KeyId) -> u8 {
    (opcode.to_u8() << OPCODE_SHIFT) | key_id.get()
}

/// Splits a first byte into its opcode and key id.
///
/// Fails with [`WireError::UnknownOpcode`] for opcodes outside 1..=11. The key-method 1 hard
/// resets are returned as they are (this function classifies; the parsers reject them).
pub const fn split_header_byte(byte: u8) -> Result<(Opcode, KeyId), WireError> {
    let raw = byte >> OPCODE_SHIFT;
    match Opcode::from_u8(raw) {
        Some(op) => Ok((op, KeyId::from_header_byte(byte))),
        None => Err(WireError::UnknownOpcode(raw)),
    }
}

/// Classifies a datagram by its first byte, for demultiplexing before any parsing: returns its
/// opcode and key id.
///
/// Fails with [`WireError::Truncated`] on an empty datagram and [`WireError::UnknownOpcode`] for
/// opcodes outside 1..=11.
///
/// ```
/// use ovpn_wire::{peek, KeyId, Opcode};
/// assert_eq!(peek(&[0x4a, 0, 0, 5]), Ok((Opcode::DataV2, KeyId::new(2).unwrap())));
/// ```
pub fn peek(datagram: &[u8]) -> Result<(Opcode, KeyId), WireError> {
    match datagram.first() {
        Some(&byte) => split_header_byte(byte),
        None => Err(WireError::Truncated {
            field: "opcode",
            needed: 1,
            had: 0,
        }),
    }
}
