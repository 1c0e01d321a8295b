//! Any packet: dispatch on the opcode and the configured control protection.

use crate::{
    ControlPacket, ControlProtection, DataPacket, KeyId, Opcode, TlsAuthPacket, TlsCryptPacket,
    WireError, peek,
};

/// Any OpenVPN packet as it arrives in a datagram (or a deframed TCP packet), in the layout the
/// configured [`ControlProtection`] gives control packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Packet<'a> {
    /// A control packet without tls-auth/tls-crypt.
    Control(ControlPacket<'a>),
    /// A tls-auth protected control packet.
    TlsAuth(TlsAuthPacket<'a>),
    /// A tls-crypt protected control packet.
    TlsCrypt(TlsCryptPacket<'a>),
    /// A data-channel packet (`P_DATA_V1`/`P_DATA_V2`; the same under every protection).
    Data(DataPacket<'a>),
}

impl<'a> Packet<'a> {
    /// Parses a datagram: data packets by their header, control packets in the layout of
    /// `protection`.
    ///
    /// ```
    /// use ovpn_wire::{ControlProtection, Opcode, Packet};
    /// let reset = [0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0];
    /// let Packet::Control(p) = Packet::parse(&reset, ControlProtection::None)? else { panic!() };
    /// assert_eq!((p.opcode, p.message_id), (Opcode::HardResetClientV2, Some(0)));
    /// # Ok::<(), ovpn_wire::WireError>(())
    /// ```
    pub fn parse(datagram: &'a [u8], protection: ControlProtection) -> Result<Self, WireError> {
        let (opcode, _) = peek(datagram)?;
        if opcode.is_data() {
            return DataPacket::parse(datagram).map(Packet::Data);
        }
        match protection {
            ControlProtection::None => ControlPacket::parse(datagram).map(Packet::Control),
            ControlProtection::TlsAuth { hmac_len } => {
                TlsAuthPacket::parse(datagram, hmac_len).map(Packet::TlsAuth)
            }
            ControlProtection::TlsCrypt => TlsCryptPacket::parse(datagram).map(Packet::TlsCrypt),
        }
    }

    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        match self {
            Packet::Control(p) => p.opcode,
            Packet::TlsAuth(p) => p.opcode,
            Packet::TlsCrypt(p) => p.opcode,
            Packet::Data(p) => p.header.opcode(),
        }
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        match self {
            Packet::Control(p) => p.key_id,
            Packet::TlsAuth(p) => p.key_id,
            Packet::TlsCrypt(p) => p.key_id,
            Packet::Data(p) => p.header.key_id(),
        }
    }

    /// Length on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Packet::Control(p) => p.encoded_len(),
            Packet::TlsAuth(p) => p.encoded_len(),
            Packet::TlsCrypt(p) => p.encoded_len(),
            Packet::Data(p) => p.encoded_len(),
        }
    }

    /// Writes the packet to the start of `out` and returns its length; errors as the
    /// variant's own `write`.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        match self {
            Packet::Control(p) => p.write(out),
            Packet::TlsAuth(p) => p.write(out),
            Packet::TlsCrypt(p) => p.write(out),
            Packet::Data(p) => p.write(out),
        }
    }
}
