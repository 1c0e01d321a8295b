//! What the server tells its driver: events, received packets and the session table.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ovpn_ppp::AuthRequest;
use ovpn_wire::PeerId;

use crate::error::DisconnectReason;

/// What happened, for the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client's credentials need a verdict ([`AuthMode::Deferred`]): answer with
    /// [`Server::auth_verdict`].
    AuthRequested {
        /// The session.
        peer: PeerId,
        /// What to check.
        request: AuthRequest,
    },
    /// A client logged in and its tunnel is up: create its interface.
    Connected {
        /// The session.
        peer: PeerId,
        /// Its interface name (`ovpn-incoming1`).
        name: String,
        /// The PPP user.
        user: String,
        /// The client's outer address.
        remote: SocketAddr,
        /// The client's tunnel address.
        address: Ipv4Addr,
        /// Our end of the tunnel (the profile's `local-address`).
        local_address: Ipv4Addr,
        /// Cipher and digest (`AES-256-GCM`, `AES-256-CBC/SHA256`).
        encoding: String,
        /// Routes towards the client from its secret (`routes`).
        routes: Vec<ovpn_ppp::Route>,
    },
    /// A session ended (its address is free again).
    Disconnected {
        /// The session.
        peer: PeerId,
        /// Its interface name.
        name: String,
        /// The PPP user, if it got that far.
        user: Option<String>,
        /// Why.
        reason: DisconnectReason,
    },
    /// A client's address changed (NAT rebinding) and it proved itself with a valid data packet.
    Roamed {
        /// The session.
        peer: PeerId,
        /// The old address.
        from: SocketAddr,
        /// The new address.
        to: SocketAddr,
    },
}

/// What a received packet gave.
#[derive(Debug)]
pub enum ServerReceived<'a> {
    /// An IP packet (or frame) from a client, for the tunnel, in the caller's buffer.
    Packet {
        /// The client it came from.
        peer: PeerId,
        /// The packet.
        packet: &'a mut [u8],
    },
    /// Nothing for the tunnel.
    Consumed,
}

/// A line of the session table (`/interface ovpn-server print`, `/ppp active print`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session.
    pub peer: PeerId,
    /// `ovpn-incomingN`.
    pub name: String,
    /// The PPP user (once known).
    pub user: Option<String>,
    /// The client's outer address (`caller-id`).
    pub remote: SocketAddr,
    /// The client's tunnel address (`remote-address`).
    pub address: Option<Ipv4Addr>,
    /// Cipher and digest.
    pub encoding: Option<String>,
    /// Time since login.
    pub uptime: Option<Duration>,
    /// Whether the tunnel is up.
    pub connected: bool,
    /// Data-channel traffic.
    pub traffic: crate::Traffic,
}
