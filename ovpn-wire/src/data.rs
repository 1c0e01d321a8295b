//! Data-channel packets: the `P_DATA_V1` / `P_DATA_V2` headers and the (still encrypted)
//! payload.

use crate::cursor::{Reader, Writer};
use crate::{KeyId, Opcode, PeerId, WireError, header_byte, split_header_byte};

/// The header of a data-channel packet.
///
/// ```text
/// P_DATA_V1: op/kid(1)                     | crypto payload
/// P_DATA_V2: op/kid(1) | peer_id u24 (BE)  | crypto payload
/// ```
///
/// For AEAD ciphers the whole 4-byte `P_DATA_V2` header is part of the associated data; the
/// 1-byte `P_DATA_V1` header is not (`ssl.c: tls_prepend_opcode_v1/v2`,
/// `crypto.c: openvpn_encrypt_aead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataHeader {
    /// `P_DATA_V1`: opcode and key id only.
    V1 {
        /// Key id of the data-channel key.
        key_id: KeyId,
    },
    /// `P_DATA_V2`: opcode, key id and the 24-bit peer id.
    V2 {
        /// Key id of the data-channel key.
        key_id: KeyId,
        /// The peer id the server assigned ([`PeerId::UNSET`] when none).
        peer_id: PeerId,
    },
}

impl DataHeader {
    /// Length of a `P_DATA_V1` header.
    pub const V1_LEN: usize = 1;
    /// Length of a `P_DATA_V2` header.
    pub const V2_LEN: usize = 4;

    /// Parses the header at the start of a datagram.
    ///
    /// Errors: [`WireError::Truncated`], [`WireError::UnknownOpcode`], [`WireError::NotData`]
    /// (control opcodes).
    pub fn parse(datagram: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(datagram);
        let (opcode, key_id) = split_header_byte(r.u8("opcode")?)?;
        match opcode {
            Opcode::DataV1 => Ok(DataHeader::V1 { key_id }),
            Opcode::DataV2 => {
                let id = r.array::<3>("peer id")?;
                let peer_id = PeerId::from_u24(u32::from_be_bytes([0, id[0], id[1], id[2]]));
                Ok(DataHeader::V2 { key_id, peer_id })
            }
            other => Err(WireError::NotData(other)),
        }
    }

    /// `Opcode::DataV1` or `Opcode::DataV2`.
    pub const fn opcode(self) -> Opcode {
        match self {
            DataHeader::V1 { .. } => Opcode::DataV1,
            DataHeader::V2 { .. } => Opcode::DataV2,
        }
    }

    /// The key id.
    pub const fn key_id(self) -> KeyId {
        match self {
            DataHeader::V1 { key_id } | DataHeader::V2 { key_id, .. } => key_id,
        }
    }

    /// The peer id (`None` for `P_DATA_V1`).
    pub const fn peer_id(self) -> Option<PeerId> {
        match self {
            DataHeader::V1 { .. } => None,
            DataHeader::V2 { peer_id, .. } => Some(peer_id),
        }
    }

    /// Header length: 1 or 4.
    pub const fn encoded_len(self) -> usize {
        match self {
            DataHeader::V1 { .. } => Self::V1_LEN,
            DataHeader::V2 { .. } => Self::V2_LEN,
        }
    }

    /// The header bytes (the first [`encoded_len`](Self::encoded_len) bytes of the returned array are valid).
    pub const fn to_bytes(self) -> [u8; 4] {
        match self {
            DataHeader::V1 { key_id } => [header_byte(Opcode::DataV1, key_id), 0, 0, 0],
            DataHeader::V2 { key_id, peer_id } => {
                // ssl.c: tls_prepend_opcode_v2 -- ((P_DATA_V2 << 3 | key_id) << 24) | peer_id
                let id = peer_id.get().to_be_bytes();
                [header_byte(Opcode::DataV2, key_id), id[1], id[2], id[3]]
            }
        }
    }

    /// Writes the header to the start of `out` and returns its length (1 or 4); fails with
    /// [`WireError::BufferTooSmall`] without writing.
    pub fn write(self, out: &mut [u8]) -> Result<usize, WireError> {
        let mut w = Writer::new(out, self.encoded_len())?;
        w.put(
            self.to_bytes()
                .get(..self.encoded_len())
                .unwrap_or_default(),
        )?;
        Ok(w.finish())
    }
}

/// A data-channel packet borrowed from a datagram: header and the encrypted payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataPacket<'a> {
    /// The parsed header.
    pub header: DataHeader,
    /// The header as on the wire (1 or 4 bytes); AEAD associated data for `P_DATA_V2`.
    pub header_bytes: &'a [u8],
    /// Everything after the header: packet id, tag/HMAC/IV and ciphertext, as the cipher lays
    /// them out.
    pub payload: &'a [u8],
}

impl<'a> DataPacket<'a> {
    /// Parses a data-channel datagram. Errors as [`DataHeader::parse`].
    pub fn parse(datagram: &'a [u8]) -> Result<Self, WireError> {
        let header = DataHeader::parse(datagram)?;
        let (header_bytes, payload) =
            datagram
                .split_at_checked(header.encoded_len())
                .ok_or(WireError::Truncated {
                    field: "data header",
                    needed: header.encoded_len(),
                    had: datagram.len(),
                })?;
        Ok(DataPacket {
            header,
            header_bytes,
            payload,
        })
    }

    /// Length on the wire.
    pub fn encoded_len(&self) -> usize {
        self.header.encoded_len() + self.payload.len()
    }

    /// Writes header and payload to the start of `out` and returns the length
    /// (`header_bytes` is ignored; the header is written from `header`).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let mut w = Writer::new(out, self.encoded_len())?;
        w.put(
            self.header
                .to_bytes()
                .get(..self.header.encoded_len())
                .unwrap_or_default(),
        )?;
        w.put(self.payload)?;
        Ok(w.finish())
    }
}

/// A data-channel packet over a mutable datagram, split into the header (read-only) and the
/// payload (mutable), so the payload can be decrypted in place while the header serves as
/// associated data.
///
/// ```
/// use ovpn_wire::{DataPacketMut, PeerId};
/// let mut datagram = [0x48, 0x00, 0x00, 0x05, 0xaa, 0xbb];
/// let packet = DataPacketMut::parse(&mut datagram)?;
/// assert_eq!(packet.header.peer_id(), PeerId::new(5));
/// assert_eq!(packet.header_bytes, &[0x48, 0, 0, 5]);
/// packet.payload.copy_from_slice(&[1, 2]); // e.g. decrypt in place
/// assert_eq!(datagram, [0x48, 0, 0, 5, 1, 2]);
/// # Ok::<(), ovpn_wire::WireError>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DataPacketMut<'a> {
    /// The parsed header.
    pub header: DataHeader,
    /// The header as on the wire (1 or 4 bytes).
    pub header_bytes: &'a [u8],
    /// Everything after the header, mutable.
    pub payload: &'a mut [u8],
}

impl<'a> DataPacketMut<'a> {
    /// Parses a data-channel datagram. Errors as [`DataHeader::parse`].
    pub fn parse(datagram: &'a mut [u8]) -> Result<Self, WireError> {
        let header = DataHeader::parse(datagram)?;
        let had = datagram.len();
        let (header_bytes, payload) =
            datagram
                .split_at_mut_checked(header.encoded_len())
                .ok_or(WireError::Truncated {
                    field: "data header",
                    needed: header.encoded_len(),
                    had,
                })?;
        Ok(DataPacketMut {
            header,
            header_bytes,
            payload,
        })
    }

    /// `(header_bytes, payload)`.
    pub fn into_parts(self) -> (&'a [u8], &'a mut [u8]) {
        (self.header_bytes, self.payload)
    }
}
