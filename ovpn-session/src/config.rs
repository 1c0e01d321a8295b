//! Configuration shared by clients and servers, in RouterOS terms.

use std::time::{Duration, Instant};

/// The transport (`protocol=udp|tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// One OpenVPN packet per datagram.
    #[default]
    Udp,
    /// A byte stream of packets with 2-byte length prefixes. The caller hands what it reads to
    /// `handle_stream`, which finds the packets; everything the session gives back to send is
    /// already framed.
    Tcp,
}

/// The tunnel mode (`mode=ip|ethernet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Layer 3: IP packets (TUN).
    #[default]
    Ip,
    /// Layer 2: Ethernet frames (TAP).
    Ethernet,
}

impl Mode {
    /// The largest packet (`ip`) or frame (`ethernet`: the MTU plus
    /// [`TAP_MTU_EXTRA`](crate::ether::TAP_MTU_EXTRA) for the Ethernet header and VLAN tags) a
    /// tunnel with this MTU carries.
    pub fn max_packet(self, mtu: u16) -> usize {
        match self {
            Mode::Ip => usize::from(mtu),
            Mode::Ethernet => usize::from(mtu) + crate::ether::TAP_MTU_EXTRA,
        }
    }
}

/// Room a caller keeps before a packet handed to `encapsulate` (header, HMAC, IV, packet id and the
/// TCP length prefix of the largest suite).
pub const HEADROOM: usize = 96;
/// Room a caller keeps after a packet handed to `encapsulate` (CBC padding).
pub const TAILROOM: usize = 32;

/// What a transmit is: the bytes are in the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transmit {
    /// Where to send it.
    pub destination: std::net::SocketAddr,
    /// How many bytes of the buffer to send.
    pub len: usize,
    /// The first packet of a client's new connection attempt. Over TCP, open a new connection to
    /// `destination` (closing any old one) and send this on it; over UDP nothing changes. Always
    /// false from a server.
    pub connect: bool,
}

/// `now + d`, or never (None) when that is past what an `Instant` can hold: configured durations
/// can be as large as a `Duration` (`keepalive-timeout=18446744073709551615`), and time arithmetic
/// must never panic.
pub(crate) fn later(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// Whether `d` has passed since `since` (never, when `since + d` is past what an `Instant` holds).
pub(crate) fn elapsed(now: Instant, since: Instant, d: Duration) -> bool {
    later(since, d).is_some_and(|t| now >= t)
}

/// RouterOS's `keepalive-timeout`, turned into OpenVPN's ping and ping-restart: a ping after
/// `timeout / 6` of silence from us (10 s for the default 60 s, as OpenVPN's `keepalive 10 60`),
/// and the peer is declared dead after `timeout` of silence from it.
pub fn keepalive(timeout: Duration) -> (Duration, Duration) {
    let ping = (timeout / 6).max(Duration::from_secs(1));
    (ping, timeout)
}
