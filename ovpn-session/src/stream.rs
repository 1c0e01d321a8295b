//! TCP input: the bytes a connection delivered, cut into OpenVPN packets by the library.
//!
//! [`Server::handle_stream`](crate::Server::handle_stream) and
//! [`Client::handle_stream`](crate::Client::handle_stream) take what a socket read gave, in
//! whatever pieces it came, and return a [`ServerStream`] / [`ClientStream`] that hands out the
//! result of each complete packet in turn, as `handle_datagram` would. A packet lying whole in the
//! caller's buffer is handled (and a data packet decrypted) where it lies; only a packet split
//! across reads is copied, once, into the connection's reassembly buffer (OpenVPN's 2-byte big-endian length prefix, `socket.c: stream_buf_added`).

use std::net::SocketAddr;
use std::time::Instant;

use ovpn_wire::{FrameAt, TcpFrameDecoder};

use crate::client::{Client, Received};
use crate::error::DropReason;
use crate::server::{Server, ServerReceived};

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
    fn next_with<'s, R>(
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

    fn take_decoder(&mut self) -> TcpFrameDecoder {
        core::mem::take(&mut self.decoder)
    }
}

/// The packets of one read from a server's TCP connection, from [`Server::handle_stream`].
///
/// Call [`ServerStream::next`] until `None`. Dropping it early still hands every remaining
/// packet to the server (control packets are never lost), but throws away the decrypted data
/// packets among them.
#[derive(Debug)]
#[must_use = "the packets are handled as `next` is called"]
pub struct ServerStream<'a> {
    server: &'a mut Server,
    now: Instant,
    from: SocketAddr,
    frames: Frames<'a>,
}

impl<'a> ServerStream<'a> {
    pub(crate) fn new(
        server: &'a mut Server,
        now: Instant,
        from: SocketAddr,
        frames: Frames<'a>,
    ) -> Self {
        Self {
            server,
            now,
            from,
            frames,
        }
    }

    /// What the next complete packet was, as [`Server::handle_datagram`] says it, or `None` when
    /// the bytes so far hold no further whole packet.
    ///
    /// [`DropReason::BrokenStream`] means the connection's framing is broken for good: close the
    /// connection and call [`Server::connection_closed`].
    #[allow(
        clippy::should_implement_trait,
        reason = "a lending iterator: each packet borrows the stream"
    )]
    pub fn next(&mut self) -> Option<Result<ServerReceived<'_>, DropReason>> {
        let (server, now, from) = (&mut *self.server, self.now, self.from);
        self.frames
            .next_with(server.is_tcp(), |f| server.handle_datagram(now, from, f))
    }
}

impl Drop for ServerStream<'_> {
    fn drop(&mut self) {
        while self.next().is_some() {}
        if self.server.is_tcp() {
            let decoder = self.frames.take_decoder();
            self.server.keep_stream(self.from, decoder);
        }
    }
}

/// The packets of one read from a client's TCP connection, from [`Client::handle_stream`]. Used
/// as [`ServerStream`].
#[derive(Debug)]
#[must_use = "the packets are handled as `next` is called"]
pub struct ClientStream<'a> {
    client: &'a mut Client,
    now: Instant,
    frames: Frames<'a>,
}

impl<'a> ClientStream<'a> {
    pub(crate) fn new(client: &'a mut Client, now: Instant, frames: Frames<'a>) -> Self {
        Self {
            client,
            now,
            frames,
        }
    }

    /// What the next complete packet was, as [`Client::handle_datagram`] says it, or `None`.
    ///
    /// [`DropReason::BrokenStream`] means the connection's framing is broken for good: close the
    /// connection and call [`Client::connection_closed`].
    #[allow(
        clippy::should_implement_trait,
        reason = "a lending iterator: each packet borrows the stream"
    )]
    pub fn next(&mut self) -> Option<Result<Received<'_>, DropReason>> {
        let (client, now) = (&mut *self.client, self.now);
        self.frames
            .next_with(client.is_tcp(), |f| client.handle_datagram(now, f))
    }
}

impl Drop for ClientStream<'_> {
    fn drop(&mut self) {
        while self.next().is_some() {}
        let decoder = self.frames.take_decoder();
        self.client.keep_stream(decoder);
    }
}
