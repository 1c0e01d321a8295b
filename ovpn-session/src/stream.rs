//! TCP input: the bytes a connection delivered, cut into OpenVPN packets by the library.
//!
//! [`Server::handle_stream`](crate::Server::handle_stream) and
//! [`Client::handle_stream`](crate::Client::handle_stream) take what a socket read gave, in
//! whatever pieces it came, and return a [`ServerStream`] / [`ClientStream`] that hands out the
//! result of each complete packet in turn, as `handle_datagram` would. A packet lying whole in the
//! caller's buffer is handled (and a data packet decrypted) where it lies; only a packet split
//! across reads is copied, once, into the connection's reassembly buffer (OpenVPN's 2-byte big-endian length prefix, `socket.c: stream_buf_added`).

use std::ops::Range;

use ovpn_wire::{FrameAt, TcpFrameDecoder};

use crate::error::{DropReason, EncapError};

/// The largest TCP frame accepted from a peer with this MTU: OpenVPN's own bound (the TUN MTU
/// plus room for headers, at least `ovpn_wire::DEFAULT_MAX_FRAME_LEN`).
pub(crate) fn max_frame_len(mtu: u16) -> usize {
    ovpn_wire::DEFAULT_MAX_FRAME_LEN.max(usize::from(mtu) + 256)
}

/// The frames of one read: the unread part of the caller's bytes and the connection's decoder.
#[derive(Debug)]
pub(crate) struct Frames<'a> {
    input: &'a mut [u8],
    decoder: TcpFrameDecoder,
    done: bool,
}

impl<'a> Frames<'a> {
    pub(crate) fn new(input: &'a mut [u8], decoder: TcpFrameDecoder) -> Self {
        Self {
            input,
            decoder,
            done: false,
        }
    }

    /// Hands the next complete packet (without its prefix, in the input or in the decoder's
    /// buffer) to `handle`, and returns what it said. On a UDP endpoint (`tcp` false) it is
    /// [`DropReason::WrongTransport`] once; a broken stream (a zero or over-long length) is
    /// [`DropReason::BrokenStream`] once; nothing follows either.
    pub(crate) fn next_with<'s, R>(
        &'s mut self,
        tcp: bool,
        handle: impl FnOnce(&'s mut [u8]) -> Result<R, DropReason>,
    ) -> Option<Result<R, DropReason>> {
        if self.done {
            return None;
        }
        if !tcp {
            self.done = true;
            return Some(Err(DropReason::WrongTransport));
        }
        let input = core::mem::take(&mut self.input);
        let at = match self.decoder.locate(input) {
            Ok(at) => at,
            Err(e) => {
                self.done = true;
                return Some(Err(DropReason::BrokenStream(e)));
            }
        };
        let frame = match at {
            FrameAt::Input { frame, consumed } => {
                let (head, rest) = input.split_at_mut(consumed.min(input.len()));
                self.input = rest;
                head.get_mut(frame)?
            }
            FrameAt::Buffered { consumed } => {
                let (_, rest) = input.split_at_mut(consumed.min(input.len()));
                self.input = rest;
                self.decoder.buffered_frame_mut()
            }
            FrameAt::NeedMore => {
                self.done = true;
                return None;
            }
        };
        Some(handle(frame))
    }

    pub(crate) fn take_decoder(&mut self) -> TcpFrameDecoder {
        core::mem::take(&mut self.decoder)
    }
}

/// Prepends the TCP length prefix in the two bytes before `r`.
pub(crate) fn frame_tcp(buf: &mut [u8], r: Range<usize>) -> Result<Range<usize>, EncapError> {
    if r.start < 2 {
        return Err(EncapError::BufferTooSmall { needed: 2 });
    }
    let prefix = ovpn_wire::tcp_prefix(r.len()).map_err(|_| EncapError::PacketTooLarge {
        len: r.len(),
        mtu: usize::from(u16::MAX),
    })?;
    buf[r.start - 2..r.start].copy_from_slice(&prefix);
    Ok(r.start - 2..r.end)
}
