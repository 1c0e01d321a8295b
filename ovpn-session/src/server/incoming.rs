//! A new client waiting for the driver's decision ([`Admission::Ask`](crate::Admission::Ask)).

use std::net::SocketAddr;

/// A client asking for a new session, before the server keeps anything for it: its session start
/// authenticated (tls-auth/tls-crypt, when configured) and the server has room. Answer it with
/// [`Server::accept`](crate::Server::accept), [`Server::refuse`](crate::Server::refuse) or
/// [`Server::ignore`](crate::Server::ignore), in the shape of quinn's `Incoming`. It holds a copy
/// of the client's first packet (at most one MTU), so it may wait while the driver decides.
#[derive(Debug)]
#[must_use = "accept, refuse or ignore the new client"]
pub struct Incoming {
    from: SocketAddr,
    packet: Vec<u8>,
    restart: bool,
}

impl Incoming {
    pub(super) fn new(from: SocketAddr, packet: &[u8], restart: bool) -> Self {
        Self {
            from,
            packet: packet.to_vec(),
            restart,
        }
    }

    /// Where the client is.
    pub fn remote(&self) -> SocketAddr {
        self.from
    }

    /// Whether a session already lives at that address (a client that restarted, or a forged
    /// session start). Accepted, the new session replaces the live one only once it logs in.
    pub fn is_restart(&self) -> bool {
        self.restart
    }

    pub(super) fn into_parts(self) -> (SocketAddr, Vec<u8>) {
        (self.from, self.packet)
    }
}
