//! OpenVPN's compression framing, without compression: the header bytes a peer configured with
//! `comp-lzo`, `compress` or `compress stub-v2` puts in front of (or swaps into) every data-channel
//! payload, pings included. We always send uncompressed, framed as the peer expects, and take the
//! peer's uncompressed framing off; a payload the peer really compressed is refused, naming the
//! setting (RouterOS never compresses, and OpenVPN 2.6 refuses real compression by default).
//!
//! Framings (`OV comp.h`, `OV compstub.c`, `OV comp.c compv2_escape_data_ifneeded`):
//!
//! | framing | uncompressed on the wire | compressed (refused) |
//! |---|---|---|
//! | LZO (`comp-lzo`, `compress lzo`) | `0xFA` ‖ payload | `0x66` ‖ … |
//! | swap (`compress`, `compress stub`, `compress lz4`) | `0xFB` ‖ payload[1..] ‖ payload[0] | `0x69` ‖ … |
//! | v2 (`compress stub-v2`, `compress lz4-v2`) | payload, or `0x50 0x00` ‖ payload when it starts with `0x50` | `0x50` ‖ algorithm ≠ 0 ‖ … |

use std::ops::Range;

/// `NO_COMPRESS_BYTE` (comp.h).
const NO_COMPRESS: u8 = 0xFA;
/// `NO_COMPRESS_BYTE_SWAP` (comp.h).
const NO_COMPRESS_SWAP: u8 = 0xFB;
/// `LZO_COMPRESS_BYTE` (comp.h).
const LZO_COMPRESSED: u8 = 0x66;
/// `LZ4_COMPRESS_BYTE` (comp.h).
const LZ4_COMPRESSED: u8 = 0x69;
/// `COMP_ALGV2_INDICATOR_BYTE` (comp.h).
const V2_INDICATOR: u8 = 0x50;
/// `COMP_ALGV2_UNCOMPRESSED` (comp.h).
const V2_UNCOMPRESSED: u8 = 0x00;

/// The bytes framing adds before a payload at most (`0x50 0x00`).
pub(crate) const FRAMING_HEAD: usize = 2;

/// How data-channel payloads are framed for compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Framing {
    /// No framing (no compression option on either side; RouterOS).
    #[default]
    None,
    /// LZO framing: `comp-lzo` (any argument) or `compress lzo`.
    Lzo,
    /// Swap framing: `compress`, `compress stub` or `compress lz4`.
    Swap,
    /// V2 framing: `compress stub-v2` or `compress lz4-v2`.
    V2,
}

/// A payload the peer really compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Compressed(pub(crate) &'static str);

impl Framing {
    /// The framing a pushed (or configured) `comp-lzo ...` or `compress ...` option asks for;
    /// `None` for another option.
    pub fn from_option(option: &str) -> Option<Self> {
        let mut words = option.split_whitespace();
        match (words.next()?, words.next()) {
            ("comp-lzo", _) => Some(Self::Lzo),
            ("compress", None | Some("stub" | "lz4")) => Some(Self::Swap),
            ("compress", Some("lzo")) => Some(Self::Lzo),
            ("compress", Some("stub-v2" | "lz4-v2")) => Some(Self::V2),
            _ => None,
        }
    }

    /// How OpenVPN names it, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "no compression",
            Self::Lzo => "comp-lzo",
            Self::Swap => "compress",
            Self::V2 => "compress stub-v2",
        }
    }

    /// Frames `buf[start..start + len]` in place: a header byte (or two) goes before `start`, or
    /// the first byte moves to the end (swap, which needs one byte after the payload). Returns
    /// the framed range.
    pub(crate) fn frame(self, buf: &mut [u8], start: usize, len: usize) -> Option<Range<usize>> {
        let end = start + len;
        match self {
            Self::None => Some(start..end),
            Self::Lzo => {
                *buf.get_mut(start.checked_sub(1)?)? = NO_COMPRESS;
                Some(start - 1..end)
            }
            Self::Swap => {
                if len == 0 {
                    *buf.get_mut(start.checked_sub(1)?)? = NO_COMPRESS_SWAP;
                    return Some(start - 1..end);
                }
                let first = *buf.get(start)?;
                *buf.get_mut(end)? = first;
                buf[start] = NO_COMPRESS_SWAP;
                Some(start..end + 1)
            }
            Self::V2 if buf.get(start) == Some(&V2_INDICATOR) => {
                let s = start.checked_sub(2)?;
                buf[s] = V2_INDICATOR;
                buf[s + 1] = V2_UNCOMPRESSED;
                Some(s..end)
            }
            Self::V2 => Some(start..end),
        }
    }

    /// Takes the framing off the payload at `r` in place; the range of what is left. Only a
    /// payload marked as compressed is an error.
    pub(crate) fn unframe(
        self,
        buf: &mut [u8],
        r: Range<usize>,
    ) -> Result<Range<usize>, Compressed> {
        let first = buf.get(r.start).copied();
        match (self, first) {
            (Self::None, _) | (_, None) => Ok(r),
            (Self::Lzo, Some(NO_COMPRESS)) => Ok(r.start + 1..r.end),
            (Self::Lzo, Some(LZO_COMPRESSED)) => Err(Compressed("LZO (comp-lzo)")),
            (Self::Swap, Some(NO_COMPRESS_SWAP)) => {
                let last = r.end - 1;
                if last > r.start {
                    buf[r.start] = buf[last];
                    Ok(r.start..last)
                } else {
                    Ok(r.start + 1..r.end)
                }
            }
            (Self::Swap, Some(LZ4_COMPRESSED)) => Err(Compressed("LZ4 (compress lz4)")),
            // Not framed at all (a peer without framing: a ping, or a packet before the
            // framing was recognised): as it is.
            (Self::Lzo | Self::Swap, Some(_)) => Ok(r),
            (Self::V2, Some(V2_INDICATOR)) => match buf.get(r.start + 1) {
                Some(&V2_UNCOMPRESSED) => Ok(r.start + 2..r.end),
                Some(1) => Err(Compressed("LZ4 (compress lz4-v2)")),
                Some(2) => Err(Compressed("LZO (compress lzo-v2)")),
                _ => Err(Compressed("an unknown algorithm (compress v2)")),
            },
            (Self::V2, Some(_)) => Ok(r),
        }
    }

    /// In ip mode, what a payload's first byte says about the peer's framing when it is not
    /// ours: no IP packet starts with `0xFA`, `0xFB` or `0x50` (versions 15 and 5), so those name
    /// the peer's framing; with LZO or swap framing agreed, an IPv4 packet (or an IPv6 one that
    /// is not the compressed marker) shows a peer that does not frame at all. Never used in
    /// ethernet mode, where a frame starts with a MAC address.
    pub(crate) fn recognise(self, first: u8) -> Option<Self> {
        let unframed = match first >> 4 {
            4 => true,
            6 => !matches!(
                (self, first),
                (Self::Lzo, LZO_COMPRESSED) | (Self::Swap, LZ4_COMPRESSED)
            ),
            _ => false,
        };
        let seen = match first {
            NO_COMPRESS => Self::Lzo,
            NO_COMPRESS_SWAP => Self::Swap,
            V2_INDICATOR => Self::V2,
            _ if unframed && matches!(self, Self::Lzo | Self::Swap) => Self::None,
            _ => return None,
        };
        (seen != self && !(self == Self::V2 && seen == Self::None)).then_some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn options_name_their_framing() {
        for (o, f) in [
            ("comp-lzo", Framing::Lzo),
            ("comp-lzo no", Framing::Lzo),
            ("comp-lzo adaptive", Framing::Lzo),
            ("compress", Framing::Swap),
            ("compress stub", Framing::Swap),
            ("compress lz4", Framing::Swap),
            ("compress lzo", Framing::Lzo),
            ("compress stub-v2", Framing::V2),
            ("compress lz4-v2", Framing::V2),
        ] {
            assert_eq!(Framing::from_option(o), Some(f), "{o}");
        }
        assert_eq!(Framing::from_option("compress zstd"), None);
        assert_eq!(Framing::from_option("route 10.0.0.0"), None);
    }

    #[test]
    fn the_wire_forms() {
        let mut b = [0u8; 8];
        b[2..5].copy_from_slice(&[0x45, 1, 2]);
        let r = Framing::Lzo.frame(&mut b, 2, 3).unwrap();
        assert_eq!(&b[r], &[0xFA, 0x45, 1, 2]);
        let mut b = [0u8; 8];
        b[2..5].copy_from_slice(&[0x45, 1, 2]);
        let r = Framing::Swap.frame(&mut b, 2, 3).unwrap();
        assert_eq!(&b[r], &[0xFB, 1, 2, 0x45]);
        let mut b = [0u8; 8];
        b[2..5].copy_from_slice(&[0x50, 1, 2]);
        let r = Framing::V2.frame(&mut b, 2, 3).unwrap();
        assert_eq!(&b[r], &[0x50, 0x00, 0x50, 1, 2]);
        let mut b = [0x45u8, 1, 2];
        assert_eq!(Framing::V2.frame(&mut b, 0, 3), Some(0..3));
        // Compressed payloads are refused, naming what the peer does.
        assert_eq!(
            Framing::V2.unframe(&mut [0x50, 1, 9], 0..3),
            Err(Compressed("LZ4 (compress lz4-v2)"))
        );
        assert!(Framing::Lzo.unframe(&mut [0x66, 9], 0..2).is_err());
        assert!(Framing::Swap.unframe(&mut [0x69, 9], 0..2).is_err());
        // What the first byte says about a peer whose framing is not ours.
        assert_eq!(Framing::None.recognise(0x45), None);
        assert_eq!(Framing::None.recognise(0x66), None, "an IPv6 packet");
        assert_eq!(Framing::None.recognise(0xFB), Some(Framing::Swap));
        assert_eq!(Framing::None.recognise(0x50), Some(Framing::V2));
        assert_eq!(Framing::Lzo.recognise(0xFA), None, "agreed");
        assert_eq!(Framing::Lzo.recognise(0x45), Some(Framing::None));
        assert_eq!(
            Framing::Lzo.recognise(0x66),
            None,
            "LZO-compressed: refused later"
        );
        assert_eq!(Framing::Swap.recognise(0x60), Some(Framing::None));
        assert_eq!(Framing::V2.recognise(0x45), None, "v2 leaves IP alone");
    }

    proptest! {
        #[test]
        fn frame_then_unframe_is_the_payload(
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            which in 0usize..4,
        ) {
            let f = [Framing::None, Framing::Lzo, Framing::Swap, Framing::V2][which];
            let mut buf = vec![0u8; payload.len() + 4];
            buf[2..2 + payload.len()].copy_from_slice(&payload);
            let framed = f.frame(&mut buf, 2, payload.len()).unwrap();
            let back = f.unframe(&mut buf, framed).unwrap();
            prop_assert_eq!(&buf[back], &payload[..]);
        }

        #[test]
        fn unframe_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..16), which in 0usize..4) {
            let f = [Framing::None, Framing::Lzo, Framing::Swap, Framing::V2][which];
            let mut b = bytes.clone();
            let n = b.len();
            let _ = f.unframe(&mut b, 0..n);
        }
    }
}
