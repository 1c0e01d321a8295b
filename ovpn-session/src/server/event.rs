//! What the server tells its driver: events, received packets and the session table.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use ovpn_ppp::AuthRequest;

use super::slots::PeerHandle;
use crate::error::DisconnectReason;
use crate::negotiate::Encoding;

/// What happened, for the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client's credentials need a verdict ([`crate::AuthMode::Deferred`]): answer with
    /// [`crate::Server::auth_verdict`].
    AuthRequested {
        /// The session.
        peer: PeerHandle,
        /// What to check.
        request: AuthRequest,
    },
    /// A client logged in and its tunnel is up: create its interface (`session.name`), with our
    /// `session.local_address` and its `session.address`, and route its `session.routes` to it.
    Connected {
        /// The session.
        peer: PeerHandle,
        /// Its line of the session table at login.
        session: Box<SessionInfo>,
    },
    /// A session ended: its address is free again, and its handle is stale from now on.
    Disconnected {
        /// The session.
        peer: PeerHandle,
        /// Its last line of the session table (its `name` is None if it never logged in).
        session: Box<SessionInfo>,
        /// Why.
        reason: DisconnectReason,
    },
    /// TCP: close the connection of `remote` (it broke a bound of
    /// [`TcpLimits`](crate::TcpLimits): no valid packet in time, or a packet stalled half-sent).
    /// Any session on it has ended (a [`ServerEvent::Disconnected`] came first); the server has
    /// forgotten the connection, so do not call `connection_closed` for it.
    CloseConnection {
        /// The connection's remote address.
        remote: SocketAddr,
        /// Why.
        reason: super::CloseReason,
    },
    /// A client's address changed (NAT rebinding) and it proved itself with a valid data packet.
    Roamed {
        /// The session.
        peer: PeerHandle,
        /// The old address.
        from: SocketAddr,
        /// The new address.
        to: SocketAddr,
    },
}

/// What a received packet gave.
#[derive(Debug)]
pub enum ServerReceived<'a> {
    /// An IP packet (or frame) from a client, for the tunnel, in the caller's buffer. Its source
    /// address was checked: it is the client's own, or inside its secret's `routes` (any in
    /// ethernet mode).
    Packet {
        /// The client it came from.
        peer: PeerHandle,
        /// The packet.
        packet: &'a mut [u8],
    },
    /// Nothing for the tunnel.
    Consumed,
    /// A new client asks for a session ([`Admission::Ask`](crate::Admission::Ask)): accept,
    /// refuse or ignore it.
    Incoming(super::Incoming),
}

/// A line of the session table: what `/interface ovpn-server print` and `monitor`, and
/// `/ppp active print`, show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session.
    pub peer: PeerHandle,
    /// `name`: `ovpn-incomingN`, from login on.
    pub name: Option<String>,
    /// `user`: the PPP user, once it sent its credentials.
    pub user: Option<String>,
    /// The PPP profile the login resolved to.
    pub profile: Option<String>,
    /// `caller-id`: the client's outer address.
    pub remote: SocketAddr,
    /// `remote-address`: the client's tunnel address.
    pub address: Option<Ipv4Addr>,
    /// The client's IPv6 tunnel address (IPv6 inside the tunnel).
    pub address_ipv6: Option<std::net::Ipv6Addr>,
    /// `local-address`: our end of the tunnel.
    pub local_address: Option<Ipv4Addr>,
    /// The secret's `routes` and `ipv6-routes`, routed to this session.
    pub routes: Vec<ovpn_ppp::Route>,
    /// `encoding`: cipher and digest.
    pub encoding: Option<Encoding>,
    /// `mtu`.
    pub mtu: u16,
    /// The common name of the client's verified certificate (None without one).
    pub common_name: Option<String>,
    /// `session-id` of `/ppp active`, from login on (unique while the server runs).
    pub session_id: Option<u32>,
    /// The profile's `address-list`: the firewall list a host puts the client's address in.
    pub address_list: Option<String>,
    /// Ethernet mode: the profile's `bridge` and port settings, for the client's interface.
    pub bridge: ovpn_ppp::BridgePort,
    /// `uptime`: time since login.
    pub uptime: Option<Duration>,
    /// Whether the tunnel is up.
    pub connected: bool,
    /// Data-channel traffic.
    pub traffic: crate::Traffic,
}
