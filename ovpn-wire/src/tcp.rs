//! TCP transport framing: each packet is preceded by its length as a big-endian `u16`
//! (`socket.c: stream_buf_added`; `proto.h: packet_size_type = uint16_t`).

use core::ops::Range;

use crate::WireError;
use crate::cursor::Writer;

/// Length of the length prefix.
pub const TCP_PREFIX_LEN: usize = 2;
/// The largest length the 16-bit prefix can express.
pub const TCP_MAX_FRAME_LEN: usize = u16::MAX as usize;
/// Default limit on an incoming frame's length.
///
/// OpenVPN rejects a prefix of 0 or above its socket buffer size and restarts the connection
/// (`socket.c: stream_buf_added`, `sb->len < 1 || sb->len > sb->maxlen`). That buffer is sized
/// from `max(tun-mtu, tun-max-mtu 1600)` plus headroom (`init.c`, `ssl.c:
/// tls_init_control_channel_frame_parameters` uses 1500 + 100 for control frames), so with
/// default settings no legitimate peer sends more than about 2 KiB. 4096 leaves room for a
/// larger `tun-mtu`; set your own limit for jumbo MTUs with
/// [`TcpFrameDecoder::with_max_frame_len`].
pub const DEFAULT_MAX_FRAME_LEN: usize = 4096;

/// Result of [`parse_tcp_frame`], in the style of `httparse::Status`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Framed {
    /// A whole frame is at the start of the input.
    Complete {
        /// Where the packet is inside the input (after the prefix).
        frame: Range<usize>,
        /// Bytes to drop from the front of the input to get past this frame.
        consumed: usize,
    },
    /// The input holds only the start of a frame.
    Partial {
        /// At least this many more bytes are needed (exact once the prefix is complete).
        needed: usize,
    },
}

/// Looks for one length-prefixed frame at the start of `input`, without copying.
///
/// Errors: [`WireError::EmptyFrame`] for a zero prefix, [`WireError::FrameTooLarge`] for a
/// prefix above `max_frame_len`; both mean the stream is broken.
///
/// ```
/// use ovpn_wire::{parse_tcp_frame, Framed, DEFAULT_MAX_FRAME_LEN};
/// let stream = [0x00, 0x02, 0xaa, 0xbb, 0x00];
/// assert_eq!(
///     parse_tcp_frame(&stream, DEFAULT_MAX_FRAME_LEN),
///     Ok(Framed::Complete { frame: 2..4, consumed: 4 })
/// );
/// assert_eq!(parse_tcp_frame(&stream[4..], DEFAULT_MAX_FRAME_LEN), Ok(Framed::Partial { needed: 1 }));
/// ```
pub fn parse_tcp_frame(input: &[u8], max_frame_len: usize) -> Result<Framed, WireError> {
    let Some(prefix) = input.get(..TCP_PREFIX_LEN) else {
        return Ok(Framed::Partial {
            needed: TCP_PREFIX_LEN - input.len(),
        });
    };
    let len = frame_len(prefix, max_frame_len)?;
    let total = TCP_PREFIX_LEN + len;
    if input.len() < total {
        Ok(Framed::Partial {
            needed: total - input.len(),
        })
    } else {
        Ok(Framed::Complete {
            frame: TCP_PREFIX_LEN..total,
            consumed: total,
        })
    }
}

/// Decodes and checks a 2-byte prefix.
fn frame_len(prefix: &[u8], max_frame_len: usize) -> Result<usize, WireError> {
    let bytes: [u8; 2] = prefix.try_into().map_err(|_| WireError::Truncated {
        field: "tcp length prefix",
        needed: TCP_PREFIX_LEN,
        had: prefix.len(),
    })?;
    let len = usize::from(u16::from_be_bytes(bytes));
    if len == 0 {
        Err(WireError::EmptyFrame)
    } else if len > max_frame_len {
        Err(WireError::FrameTooLarge {
            len,
            max: max_frame_len,
        })
    } else {
        Ok(len)
    }
}

/// The 2-byte prefix for a packet of `len` bytes. Fails with [`WireError::EmptyFrame`] for 0 and
/// [`WireError::FrameTooLarge`] above 65535.
///
/// Use it when the packet is already in place after two bytes of headroom; otherwise
/// [`write_tcp_frame`] copies.
pub fn tcp_prefix(len: usize) -> Result<[u8; TCP_PREFIX_LEN], WireError> {
    if len == 0 {
        return Err(WireError::EmptyFrame);
    }
    u16::try_from(len)
        .map(u16::to_be_bytes)
        .map_err(|_| WireError::FrameTooLarge {
            len,
            max: TCP_MAX_FRAME_LEN,
        })
}

/// Writes `prefix | packet` to the start of `out` and returns the length. Errors as
/// [`tcp_prefix`], and [`WireError::BufferTooSmall`] (nothing written).
pub fn write_tcp_frame(packet: &[u8], out: &mut [u8]) -> Result<usize, WireError> {
    let prefix = tcp_prefix(packet.len())?;
    let mut w = Writer::new(out, TCP_PREFIX_LEN + packet.len())?;
    w.put(&prefix)?;
    w.put(packet)?;
    Ok(w.finish())
}

/// One step of [`TcpFrameDecoder::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoded<'a> {
    /// A complete packet (without its prefix), borrowed from the input when it lay there whole,
    /// otherwise from the decoder's buffer.
    Frame {
        /// The packet.
        frame: &'a [u8],
        /// Bytes of this call's input used; call again with the rest.
        consumed: usize,
    },
    /// All of the input was consumed (buffered) and no frame is complete yet.
    NeedMore,
}

/// Where [`TcpFrameDecoder::locate`] found the next frame: [`decode`](TcpFrameDecoder::decode)
/// for a caller that works on the frame in place (an OpenVPN data packet is decrypted where it
/// lies) and so must keep the frame and the rest of its input apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FrameAt {
    /// The frame lies whole in the input, at `frame`; `consumed` bytes of the input are used.
    Input {
        /// Where the packet is inside the input (after the prefix).
        frame: Range<usize>,
        /// Bytes of the input used; call again with the rest.
        consumed: usize,
    },
    /// The frame was completed in the decoder's buffer
    /// ([`buffered_frame_mut`](TcpFrameDecoder::buffered_frame_mut)) with `consumed` bytes of the
    /// input.
    Buffered {
        /// Bytes of the input used; call again with the rest.
        consumed: usize,
    },
    /// All of the input was consumed (buffered) and no frame is complete yet.
    NeedMore,
}

/// Incremental decoder for the TCP byte stream: accepts the stream cut at any points (partial
/// prefixes, several packets per read), hands out whole packets.
///
/// Frames lying whole in the input are returned without copying; only a frame split across
/// reads is copied into an internal buffer, which is allocated once, at the first such frame,
/// with room for the largest allowed frame (so an idle connection holds none). There is no allocation per packet.
///
/// A zero-length or over-long frame is an error ([`WireError::EmptyFrame`],
/// [`WireError::FrameTooLarge`]) and it is sticky: the stream cannot be resynchronised, so every
/// later call returns the same error until [`reset`](Self::reset) (OpenVPN restarts the
/// connection).
///
/// ```
/// use ovpn_wire::{Decoded, TcpFrameDecoder};
/// let mut decoder = TcpFrameDecoder::new();
/// let mut packets = Vec::new();
/// // two packets, cut after 3 bytes and after 5 bytes
/// for read in [&[0x00, 0x02, 0xaa][..], &[0xbb, 0x00], &[0x01, 0xcc]] {
///     let mut input = read;
///     while let Decoded::Frame { frame, consumed } = decoder.decode(input)? {
///         packets.push(frame.to_vec());
///         input = &input[consumed..];
///     }
/// }
/// assert_eq!(packets, [vec![0xaa, 0xbb], vec![0xcc]]);
/// # Ok::<(), ovpn_wire::WireError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TcpFrameDecoder {
    /// Bytes of an incomplete frame, prefix included; never longer than `2 + max_frame_len`.
    buf: Vec<u8>,
    max_frame_len: usize,
    /// The buffered frame was handed out; drop it at the next call.
    delivered: bool,
    error: Option<WireError>,
}

impl Default for TcpFrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpFrameDecoder {
    /// A decoder accepting frames up to [`DEFAULT_MAX_FRAME_LEN`].
    pub fn new() -> Self {
        Self::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A decoder accepting frames up to `max_frame_len` bytes (clamped to 1..=65535).
    pub fn with_max_frame_len(max_frame_len: usize) -> Self {
        let max_frame_len = max_frame_len.clamp(1, TCP_MAX_FRAME_LEN);
        TcpFrameDecoder {
            buf: Vec::new(),
            max_frame_len,
            delivered: false,
            error: None,
        }
    }

    /// The largest frame accepted.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Bytes of an incomplete frame held from earlier calls.
    pub fn buffered(&self) -> usize {
        if self.delivered { 0 } else { self.buf.len() }
    }

    /// Forgets any buffered bytes and a previous error (for a new connection).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.delivered = false;
        self.error = None;
    }

    /// Feeds the next bytes of the stream. Returns a complete frame and how much of `input` it
    /// used (call again with the rest), or [`Decoded::NeedMore`] when all of `input` was
    /// buffered.
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> Result<Decoded<'a>, WireError> {
        Ok(match self.locate(input)? {
            FrameAt::Input { frame, consumed } => Decoded::Frame {
                frame: input.get(frame).unwrap_or_default(),
                consumed,
            },
            FrameAt::Buffered { consumed } => Decoded::Frame {
                frame: self.buf.get(TCP_PREFIX_LEN..).unwrap_or_default(),
                consumed,
            },
            FrameAt::NeedMore => Decoded::NeedMore,
        })
    }

    /// The packet completed in the decoder's buffer by the last [`FrameAt::Buffered`] (empty
    /// otherwise). It stays there until the next call.
    pub fn buffered_frame_mut(&mut self) -> &mut [u8] {
        if self.delivered {
            self.buf.get_mut(TCP_PREFIX_LEN..).unwrap_or_default()
        } else {
            &mut []
        }
    }

    /// One step of the decoder: where the next frame is, if it is complete. Errors as
    /// [`decode`](Self::decode).
    pub fn locate(&mut self, input: &[u8]) -> Result<FrameAt, WireError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.delivered {
            self.buf.clear();
            self.delivered = false;
        }
        if self.buf.is_empty() {
            return match parse_tcp_frame(input, self.max_frame_len) {
                Ok(Framed::Complete { frame, consumed }) => Ok(FrameAt::Input { frame, consumed }),
                Ok(Framed::Partial { .. }) => {
                    // The buffer is allocated once, at the first frame split across reads.
                    if self.buf.capacity() == 0 {
                        self.buf.reserve_exact(TCP_PREFIX_LEN + self.max_frame_len);
                    }
                    // fits: a partial frame is shorter than 2 + max_frame_len
                    self.buf.extend_from_slice(input);
                    Ok(FrameAt::NeedMore)
                }
                Err(e) => Err(self.fail(e)),
            };
        }

        // Continue the buffered frame: first complete the prefix, then the packet.
        let mut input = input;
        let mut consumed = 0;
        if self.buf.len() < TCP_PREFIX_LEN {
            let take = (TCP_PREFIX_LEN - self.buf.len()).min(input.len());
            let (head, rest) = input.split_at_checked(take).unwrap_or((input, &[]));
            self.buf.extend_from_slice(head);
            input = rest;
            consumed += take;
            if self.buf.len() < TCP_PREFIX_LEN {
                return Ok(FrameAt::NeedMore);
            }
        }
        let prefix = self.buf.get(..TCP_PREFIX_LEN).unwrap_or_default();
        let len = match frame_len(prefix, self.max_frame_len) {
            Ok(len) => len,
            Err(e) => return Err(self.fail(e)),
        };
        let total = TCP_PREFIX_LEN + len;
        let take = total.saturating_sub(self.buf.len()).min(input.len());
        self.buf
            .extend_from_slice(input.get(..take).unwrap_or_default());
        consumed += take;
        if self.buf.len() < total {
            return Ok(FrameAt::NeedMore);
        }
        self.delivered = true;
        Ok(FrameAt::Buffered { consumed })
    }

    fn fail(&mut self, e: WireError) -> WireError {
        tracing::debug!(error = %e, "TCP stream framing broken; the connection must be restarted");
        self.buf.clear();
        self.error = Some(e);
        e
    }
}
