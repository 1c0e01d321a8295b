//! OpenVPN 2.6 packet formats, parsed into borrowed views and written into caller buffers.
//!
//! This crate knows the bytes of every packet OpenVPN 2.6 puts on the wire: the opcode/key-id
//! byte, control packets in their plain, tls-auth and tls-crypt(-v2) layouts (session ids, the
//! ack array, message ids, the tls-auth HMAC slot and replay id, the tls-crypt tag and the
//! tls-crypt-v2 wrapped client key), `P_DATA_V1`/`P_DATA_V2` data packets with the 24-bit peer
//! id, the 2-byte length framing of the TCP transport, and the well-known payloads (keepalive
//! ping, OCC messages, compression framing). It does **no I/O** and reads no clock; it does not
//! encrypt or authenticate (that is ovpn-crypto). Parsing borrows from the input, writing goes
//! into a caller-supplied `&mut [u8]` and returns the length written, nothing allocates per
//! packet, and no input can make it panic: malformed, hostile or truncated input is a
//! [`WireError`].
//!
//! Every layout was checked against OpenVPN 2.6's sources; the comments name the file each
//! constant comes from.
//!
//! # Example
//!
//! A server's hard reset, acknowledging the client's reset, written and parsed back; then a
//! `P_DATA_V2` header and a TCP frame:
//!
//! ```
//! use ovpn_wire::{
//!     AckList, ControlPacket, DataHeader, KeyId, Opcode, PeerId, SessionId, TcpFrameDecoder,
//!     Decoded, write_tcp_frame,
//! };
//!
//! let client = SessionId([1, 2, 3, 4, 5, 6, 7, 8]);
//! let server = SessionId([0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8]);
//! let reset = ControlPacket::new(Opcode::HardResetServerV2, KeyId::ZERO, server, 0, &[])
//!     .with_acks(AckList::from_slice(&[0])?, client);
//!
//! let mut buf = [0u8; 1500];
//! let n = reset.write(&mut buf)?;
//! assert_eq!(n, 26);
//! assert_eq!(buf[0], 0x40); // P_CONTROL_HARD_RESET_SERVER_V2 << 3 | key id 0
//! assert_eq!(ControlPacket::parse(&buf[..n])?, reset);
//!
//! let header = DataHeader::V2 { key_id: KeyId::new(2).unwrap(), peer_id: PeerId::new(5).unwrap() };
//! assert_eq!(header.write(&mut buf)?, 4);
//! assert_eq!(buf[..4], [0x4a, 0x00, 0x00, 0x05]);
//!
//! let mut stream = [0u8; 64];
//! let len = write_tcp_frame(&buf[..4], &mut stream)?;
//! let mut decoder = TcpFrameDecoder::new();
//! let Decoded::Frame { frame, .. } = decoder.decode(&stream[..len])? else { unreachable!() };
//! assert_eq!(frame, &[0x4a, 0x00, 0x00, 0x05]);
//! # Ok::<(), ovpn_wire::WireError>(())
//! ```
//!
//! # Map
//!
//! - First byte: [`Opcode`], [`KeyId`], [`peek`], [`header_byte`].
//! - Control packets: [`ControlPacket`] (plain layout, also what ovpn-crypto unwraps to),
//!   [`TlsAuthPacket`], [`TlsCryptPacket`], chosen by [`ControlProtection`]; acks in
//!   [`AckList`]; ids [`SessionId`], [`PacketId`].
//! - Data packets: [`DataHeader`], [`DataPacket`], [`DataPacketMut`], [`PeerId`].
//! - Any packet: [`Packet::parse`].
//! - TCP: [`parse_tcp_frame`], [`TcpFrameDecoder`], [`write_tcp_frame`], [`tcp_prefix`].
//! - Payloads: [`PING_MAGIC`], [`OccMessage`], [`CompressionFraming`].

mod acks;
mod control;
mod cursor;
mod data;
mod error;
mod ids;
mod opcode;
mod packet;
mod payload;
mod tcp;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use acks::AckList;
pub use control::{
    ControlPacket, ControlProtection, MAX_HMAC_LEN, REPLAY_ID_LEN, TLS_AUTH_HMAC_OFFSET,
    TLS_CRYPT_CIPHERTEXT_OFFSET, TLS_CRYPT_REPLAY_ID_OFFSET, TLS_CRYPT_TAG_LEN,
    TLS_CRYPT_TAG_OFFSET, TLS_CRYPT_V2_MAX_WKC_LEN, TlsAuthPacket, TlsCryptPacket,
};
pub use data::{DataHeader, DataPacket, DataPacketMut};
pub use error::WireError;
pub use ids::{PacketId, PeerId, SessionId};
pub use opcode::{KEY_ID_MASK, KeyId, OPCODE_SHIFT, Opcode, header_byte, peek, split_header_byte};
pub use packet::Packet;
pub use payload::{
    COMP_V2_INDICATOR_BYTE, COMP_V2_UNCOMPRESSED_BYTE, CompressionFraming, NO_COMPRESS_BYTE,
    NO_COMPRESS_BYTE_SWAP, OCC_MAGIC, OccMessage, OccOpcode, PING_MAGIC, is_occ, is_ping,
};
pub use tcp::{
    DEFAULT_MAX_FRAME_LEN, Decoded, FrameAt, Framed, TCP_MAX_FRAME_LEN, TCP_PREFIX_LEN,
    TcpFrameDecoder, parse_tcp_frame, tcp_prefix, write_tcp_frame,
};
