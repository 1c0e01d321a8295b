//! Well-known data-channel payloads (after decryption): the keepalive ping, OCC messages and the
//! compression framing byte(s).

use core::ops::Range;

use crate::WireError;
use crate::cursor::{Reader, Writer};

/// The keepalive ping: a data packet whose decrypted payload is exactly these 16 bytes. The
/// receiver drops it (it only resets the ping-restart timer). (`ping.c: ping_string`,
/// `ping.h: PING_STRING_SIZE`)
pub const PING_MAGIC: [u8; 16] = [
    0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb, 0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48,
];

/// True when a decrypted (and de-framed) data payload is the keepalive ping
/// (`ping.h: is_ping_msg` compares the whole buffer).
pub fn is_ping(payload: &[u8]) -> bool {
    payload == PING_MAGIC
}

/// The OCC (options consistency check) magic that starts an OCC message in the data channel.
/// (`occ.c: occ_magic`, `occ.h: OCC_STRING_SIZE`)
pub const OCC_MAGIC: [u8; 16] = [
    0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81, 0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c,
];

/// True when a decrypted data payload starts with the OCC magic (`occ.h: is_occ_msg`). OpenVPN
/// consumes such packets and never passes them to the TUN device.
pub fn is_occ(payload: &[u8]) -> bool {
    payload.starts_with(&OCC_MAGIC)
}

/// The OCC message types (`occ.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OccOpcode {
    /// `OCC_REQUEST` (0): asks for the peer's options string.
    Request = 0,
    /// `OCC_REPLY` (1): the options string.
    Reply = 1,
    /// `OCC_MTU_LOAD_REQUEST` (2): asks the peer to send a load packet of a given size.
    MtuLoadRequest = 2,
    /// `OCC_MTU_LOAD` (3): a load-test packet.
    MtuLoad = 3,
    /// `OCC_MTU_REQUEST` (4): asks for the largest packet sizes seen.
    MtuRequest = 4,
    /// `OCC_MTU_REPLY` (5): the largest packet sizes seen.
    MtuReply = 5,
    /// `OCC_EXIT` (6): the peer is exiting (explicit-exit-notify without cc-exit); the receiver
    /// restarts.
    Exit = 6,
}

impl OccOpcode {
    /// The type with this value, or `None`.
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0 => OccOpcode::Request,
            1 => OccOpcode::Reply,
            2 => OccOpcode::MtuLoadRequest,
            3 => OccOpcode::MtuLoad,
            4 => OccOpcode::MtuRequest,
            5 => OccOpcode::MtuReply,
            6 => OccOpcode::Exit,
            _ => return None,
        })
    }
}

/// An OCC message: `OCC_MAGIC | type u8 | arguments` (`occ.c: check_send_occ_msg_dowork,
/// process_received_occ_msg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OccMessage<'a> {
    /// `OCC_REQUEST`.
    Request,
    /// `OCC_REPLY`: the options string, written NUL-terminated. On parse one trailing NUL is
    /// removed.
    Reply {
        /// The options string (e.g. `V4,dev-type tun,...`) without its trailing NUL.
        options: &'a [u8],
    },
    /// `OCC_MTU_LOAD_REQUEST` with the requested size.
    MtuLoadRequest {
        /// Requested load packet size.
        size: u16,
    },
    /// `OCC_MTU_LOAD` with its random filler.
    MtuLoad {
        /// The filler bytes.
        filler: &'a [u8],
    },
    /// `OCC_MTU_REQUEST`.
    MtuRequest,
    /// `OCC_MTU_REPLY`.
    MtuReply {
        /// Largest packet received from the peer.
        max_recv: u16,
        /// Largest packet sent to the peer.
        max_send: u16,
    },
    /// `OCC_EXIT`.
    Exit,
}

impl<'a> OccMessage<'a> {
    /// Parses a decrypted data payload that starts with [`OCC_MAGIC`]. Bytes after the fixed
    /// arguments of `Request`, `MtuRequest`, `Exit`, `MtuLoadRequest` and `MtuReply` are ignored,
    /// as OpenVPN does.
    ///
    /// Errors: [`WireError::NotOcc`], [`WireError::Truncated`], [`WireError::UnknownOccOpcode`].
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        if !is_occ(payload) {
            return Err(WireError::NotOcc);
        }
        let mut r = Reader::with_base(payload.get(OCC_MAGIC.len()..).unwrap_or_default(), 16);
        let op = r.u8("occ opcode")?;
        Ok(
            match OccOpcode::from_u8(op).ok_or(WireError::UnknownOccOpcode(op))? {
                OccOpcode::Request => OccMessage::Request,
                OccOpcode::Reply => {
                    let rest = r.rest();
                    OccMessage::Reply {
                        options: rest.strip_suffix(&[0]).unwrap_or(rest),
                    }
                }
                OccOpcode::MtuLoadRequest => OccMessage::MtuLoadRequest {
                    size: r.u16("occ mtu load size")?,
                },
                OccOpcode::MtuLoad => OccMessage::MtuLoad { filler: r.rest() },
                OccOpcode::MtuRequest => OccMessage::MtuRequest,
                OccOpcode::MtuReply => OccMessage::MtuReply {
                    max_recv: r.u16("occ mtu max_recv")?,
                    max_send: r.u16("occ mtu max_send")?,
                },
                OccOpcode::Exit => OccMessage::Exit,
            },
        )
    }

    /// The message type.
    pub const fn opcode(&self) -> OccOpcode {
        match self {
            OccMessage::Request => OccOpcode::Request,
            OccMessage::Reply { .. } => OccOpcode::Reply,
            OccMessage::MtuLoadRequest { .. } => OccOpcode::MtuLoadRequest,
            OccMessage::MtuLoad { .. } => OccOpcode::MtuLoad,
            OccMessage::MtuRequest => OccOpcode::MtuRequest,
            OccMessage::MtuReply { .. } => OccOpcode::MtuReply,
            OccMessage::Exit => OccOpcode::Exit,
        }
    }

    /// Length when written.
    pub fn encoded_len(&self) -> usize {
        OCC_MAGIC.len()
            + 1
            + match self {
                OccMessage::Request | OccMessage::MtuRequest | OccMessage::Exit => 0,
                OccMessage::Reply { options } => options.len() + 1,
                OccMessage::MtuLoadRequest { .. } => 2,
                OccMessage::MtuLoad { filler } => filler.len(),
                OccMessage::MtuReply { .. } => 4,
            }
    }

    /// Writes the message (the plaintext of a data packet) to the start of `out` and returns its
    /// length; fails with [`WireError::BufferTooSmall`] without writing.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let mut w = Writer::new(out, self.encoded_len())?;
        w.put(&OCC_MAGIC)?;
        w.u8(self.opcode() as u8)?;
        match *self {
            OccMessage::Request | OccMessage::MtuRequest | OccMessage::Exit => {}
            OccMessage::Reply { options } => {
                w.put(options)?;
                w.u8(0)?;
            }
            OccMessage::MtuLoadRequest { size } => w.u16(size)?,
            OccMessage::MtuLoad { filler } => w.put(filler)?,
            OccMessage::MtuReply { max_recv, max_send } => {
                w.u16(max_recv)?;
                w.u16(max_send)?;
            }
        }
        Ok(w.finish())
    }
}

/// `comp-lzo no` / `compress lzo` stub: uncompressed packets are prefixed with this byte.
/// (`comp.h: NO_COMPRESS_BYTE`)
pub const NO_COMPRESS_BYTE: u8 = 0xFA;
/// `compress` / `compress stub` / `compress lz4`: uncompressed packets have their first byte
/// moved to the end and replaced by this byte. (`comp.h: NO_COMPRESS_BYTE_SWAP`)
pub const NO_COMPRESS_BYTE_SWAP: u8 = 0xFB;
/// Compression v2 (`compress stub-v2`, `lz4-v2`) escape byte. (`comp.h:
/// COMP_ALGV2_INDICATOR_BYTE`)
pub const COMP_V2_INDICATOR_BYTE: u8 = 0x50;
/// Compression v2 "uncompressed" algorithm byte. (`comp.h: COMP_ALGV2_UNCOMPRESSED_BYTE`)
pub const COMP_V2_UNCOMPRESSED_BYTE: u8 = 0x00;

/// The compression framing of data-channel plaintext (ping and OCC included), as configured or
/// pushed. Real compression is not supported (OpenVPN 2.6 refuses it by default,
/// `allow-compression no`); these are the framings OpenVPN still speaks without compressing
/// (`compstub.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompressionFraming {
    /// No compression option: the plaintext is the IP packet.
    #[default]
    None,
    /// `comp-lzo no` (or `compress lzo` with `allow-compression no`): `0xFA | packet`.
    Stub,
    /// `compress` / `compress stub`: `0xFB | packet[1..] | packet[0]`, keeping the payload
    /// aligned.
    StubSwap,
    /// `compress stub-v2`: the packet unchanged, unless it starts with `0x50`, then
    /// `0x50 0x00 | packet`.
    StubV2,
}

impl CompressionFraming {
    /// Every framing.
    pub const ALL: [CompressionFraming; 4] = [
        CompressionFraming::None,
        CompressionFraming::Stub,
        CompressionFraming::StubSwap,
        CompressionFraming::StubV2,
    ];

    /// The most bytes [`frame`](Self::frame) adds: 0, 1, 1, 2.
    pub const fn max_overhead(self) -> usize {
        match self {
            CompressionFraming::None => 0,
            CompressionFraming::Stub | CompressionFraming::StubSwap => 1,
            CompressionFraming::StubV2 => 2,
        }
    }

    /// Adds the framing in place: the packet is `buf[..len]`; returns the framed length. An
    /// empty packet stays empty (`compstub.c`). Fails with [`WireError::BufferTooSmall`] when
    /// `buf` is shorter than `len` or than the framed packet (nothing is changed).
    ///
    /// ```
    /// use ovpn_wire::CompressionFraming;
    /// let mut buf = [0x45, 0x00, 0x00];
    /// assert_eq!(CompressionFraming::StubSwap.frame(&mut buf, 2)?, 3);
    /// assert_eq!(buf, [0xfb, 0x00, 0x45]);
    /// let packet = CompressionFraming::StubSwap.unframe(&mut buf)?;
    /// assert_eq!(&buf[packet], &[0x45, 0x00]);
    /// # Ok::<(), ovpn_wire::WireError>(())
    /// ```
    pub fn frame(self, buf: &mut [u8], len: usize) -> Result<usize, WireError> {
        let had = buf.len();
        let too_small = |needed| WireError::BufferTooSmall { needed, had };
        let packet = buf.get(..len).ok_or(too_small(len))?;
        let Some(&first) = packet.first() else {
            return Ok(0);
        };
        let prefix: &[u8] = match self {
            CompressionFraming::None => return Ok(len),
            CompressionFraming::Stub => &[NO_COMPRESS_BYTE],
            CompressionFraming::StubSwap => {
                // compstub.c: stub_compress (COMP_F_SWAP): head byte moves to the tail
                let tail = buf.get_mut(len).ok_or(too_small(len + 1))?;
                *tail = first;
                if let Some(head) = buf.first_mut() {
                    *head = NO_COMPRESS_BYTE_SWAP;
                }
                return Ok(len + 1);
            }
            CompressionFraming::StubV2 if first == COMP_V2_INDICATOR_BYTE => {
                // comp.c: compv2_escape_data_ifneeded
                &[COMP_V2_INDICATOR_BYTE, COMP_V2_UNCOMPRESSED_BYTE]
            }
            CompressionFraming::StubV2 => return Ok(len),
        };
        let framed = len + prefix.len();
        let out = buf.get_mut(..framed).ok_or(too_small(framed))?;
        out.copy_within(..len, prefix.len());
        if let Some(head) = out.get_mut(..prefix.len()) {
            head.copy_from_slice(prefix);
        }
        Ok(framed)
    }

    /// Removes the framing in place and returns where the packet now is inside `payload`. An
    /// empty payload is an empty packet. Fails with [`WireError::BadCompressionByte`] when the
    /// framing byte is wrong (OpenVPN drops the packet); `payload` is then unchanged.
    pub fn unframe(self, payload: &mut [u8]) -> Result<Range<usize>, WireError> {
        let len = payload.len();
        let Some(&first) = payload.first() else {
            return Ok(0..0);
        };
        match self {
            CompressionFraming::None => Ok(0..len),
            CompressionFraming::Stub => {
                // compstub.c: stub_decompress
                if first == NO_COMPRESS_BYTE {
                    Ok(1..len)
                } else {
                    Err(WireError::BadCompressionByte { byte: first })
                }
            }
            CompressionFraming::StubSwap => {
                if first != NO_COMPRESS_BYTE_SWAP {
                    return Err(WireError::BadCompressionByte { byte: first });
                }
                // the tail byte goes back to the head
                let last = payload.last().copied().unwrap_or(first);
                if let Some(head) = payload.first_mut() {
                    *head = last;
                }
                Ok(0..len - 1)
            }
            CompressionFraming::StubV2 => {
                // compstub.c: stubv2_decompress
                if first != COMP_V2_INDICATOR_BYTE {
                    return Ok(0..len);
                }
                match payload.get(1) {
                    None => Ok(1..1),
                    Some(&COMP_V2_UNCOMPRESSED_BYTE) => Ok(2..len),
                    Some(&byte) => Err(WireError::BadCompressionByte { byte }),
                }
            }
        }
    }
}
