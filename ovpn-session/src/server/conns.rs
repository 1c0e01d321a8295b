//! A TCP server's connections: each one's reassembly state, and the bounds that keep idle,
//! stalled or too many connections from holding the server's sockets (a connection costs the
//! host a file descriptor whether or not a session ever comes of it).
//!
//! - The first valid packet must arrive within [`TcpLimits::first_packet`] of the connection
//!   opening; after that the session's own hand-window bounds its handshake.
//! - A packet begun (part of its length prefix or body read) must be complete within
//!   [`TcpLimits::partial_frame`] (a client that sends a byte at a time stays within it; one
//!   that stalls does not).
//! - At most [`TcpLimits::max_per_source`] connections from one address, and
//!   [`TcpLimits::max_total`] in all.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ovpn_wire::TcpFrameDecoder;

use super::rate::{RateLimit, Verdict, Window};
use crate::error::DropReason;

/// The bounds on a TCP server's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    /// The first valid packet must arrive within this of the connection opening (10 s).
    pub first_packet: Duration,
    /// A packet begun must be complete within this (30 s).
    pub partial_frame: Duration,
    /// The most connections from one source address (32).
    pub max_per_source: usize,
    /// The most connections at once (1024, the default `max-clients`).
    pub max_total: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        Self {
            first_packet: Duration::from_secs(10),
            partial_frame: Duration::from_secs(30),
            max_per_source: 32,
            max_total: 1024,
        }
    }
}

/// Why the server asks its driver to close a connection
/// ([`ServerEvent::CloseConnection`](crate::ServerEvent::CloseConnection)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseReason {
    /// No valid packet within [`TcpLimits::first_packet`] of opening.
    #[error("no valid packet within {0:?} of connecting")]
    NoValidPacket(Duration),
    /// A packet begun was not complete within [`TcpLimits::partial_frame`].
    #[error("a packet stalled half-sent for {0:?}")]
    StalledFrame(Duration),
    /// The connection's session ended (what it was told has had [`SESSION_END_GRACE`] to go
    /// out) and no new one started on it.
    #[error("its session ended")]
    SessionEnded,
}

/// How long a connection outlives its session, so that the last words (`AUTH_FAILED`,
/// `RESTART`) leave before the driver closes it.
pub const SESSION_END_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Conn {
    /// The reassembly state; `None` while a read is being handled.
    decoder: Option<TcpFrameDecoder>,
    /// A valid packet arrived on it.
    valid: bool,
    /// Its deadline and why, if one runs.
    deadline: Option<(Instant, CloseReason)>,
}

/// The connections of one TCP server.
#[derive(Debug)]
pub(crate) struct Conns {
    pub(crate) limits: TcpLimits,
    map: HashMap<SocketAddr, Conn>,
    per_source: HashMap<IpAddr, usize>,
    deadlines: BTreeSet<(Instant, SocketAddr)>,
    /// The lines saying a connection was refused: one per 10 s.
    refusal_log: Window,
}

impl Conns {
    pub(crate) fn new(limits: TcpLimits) -> Self {
        Self {
            limits,
            map: HashMap::new(),
            per_source: HashMap::new(),
            deadlines: BTreeSet::new(),
            refusal_log: Window::new(RateLimit::new(1, super::log_gate::INTERVAL)),
        }
    }

    /// How many connections are open.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    fn set_deadline(&mut self, remote: SocketAddr, deadline: Option<(Instant, CloseReason)>) {
        let Some(c) = self.map.get_mut(&remote) else {
            return;
        };
        if c.deadline.map(|d| d.0) == deadline.map(|d| d.0) {
            c.deadline = deadline;
            return;
        }
        if let Some((t, _)) = c.deadline {
            self.deadlines.remove(&(t, remote));
        }
        if let Some((t, _)) = deadline {
            self.deadlines.insert((t, remote));
        }
        c.deadline = deadline;
    }

    /// A new connection from `remote`: counted, with its first-packet deadline; refused (and
    /// logged, once per 10 s) past the limits.
    pub(crate) fn open(&mut self, now: Instant, remote: SocketAddr) -> Result<(), DropReason> {
        if self.map.contains_key(&remote) {
            return Ok(());
        }
        let from_source = self.per_source.get(&remote.ip()).copied().unwrap_or(0);
        let full = self.map.len() >= self.limits.max_total;
        if full || from_source >= self.limits.max_per_source {
            if let (Verdict::Pass, held) = self.refusal_log.allow(now) {
                let why = if full {
                    format!("{} connections open (the most at once)", self.map.len())
                } else {
                    format!("{from_source} connections from this address already")
                };
                let more = held.map_or(String::new(), |n| {
                    format!(" ({n} more refused since the last line)")
                });
                tracing::warn!(target: "ovpn", "<{remote}>: TCP connection refused: {why}{more}");
            }
            return Err(DropReason::TooManyConnections);
        }
        self.insert(now, remote);
        Ok(())
    }

    /// Follows a new connection, with its first-packet deadline.
    fn insert(&mut self, now: Instant, remote: SocketAddr) {
        let std::collections::hash_map::Entry::Vacant(e) = self.map.entry(remote) else {
            return;
        };
        e.insert(Conn {
            decoder: None,
            valid: false,
            deadline: None,
        });
        *self.per_source.entry(remote.ip()).or_default() += 1;
        let first = self.limits.first_packet;
        self.set_deadline(
            remote,
            Some((
                crate::config::later(now, first).unwrap_or(now),
                CloseReason::NoValidPacket(first),
            )),
        );
    }

    /// The reassembly state of `remote`'s connection for a read (opening it if the driver did
    /// not say it opened).
    pub(crate) fn take_decoder(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        max_frame: usize,
    ) -> TcpFrameDecoder {
        // A driver that never calls `connection_opened`: counted, not refused.
        self.insert(now, remote);
        self.map
            .get_mut(&remote)
            .and_then(|c| c.decoder.take())
            .unwrap_or_else(|| TcpFrameDecoder::with_max_frame_len(max_frame))
    }

    /// After a read: the reassembly state back, and the deadlines it calls for.
    pub(crate) fn put_decoder(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        decoder: TcpFrameDecoder,
        valid: bool,
    ) {
        let partial = decoder.buffered() > 0;
        let Some(c) = self.map.get_mut(&remote) else {
            return;
        };
        c.decoder = Some(decoder);
        c.valid |= valid;
        let deadline = match (c.valid, partial, c.deadline) {
            // Closing: nothing it sends keeps it open.
            (_, _, d @ Some((_, CloseReason::SessionEnded))) => d,
            // Not proven yet: the first-packet deadline keeps running.
            (false, _, d) => d,
            // A packet begun: its deadline starts with the first read that left it partial.
            (true, true, Some(d @ (_, CloseReason::StalledFrame(_)))) => Some(d),
            (true, true, _) => {
                let p = self.limits.partial_frame;
                Some((
                    crate::config::later(now, p).unwrap_or(now),
                    CloseReason::StalledFrame(p),
                ))
            }
            (true, false, _) => None,
        };
        self.set_deadline(remote, deadline);
    }

    /// The session on `remote`'s connection ended: the connection closes after
    /// [`SESSION_END_GRACE`] unless a new session starts on it.
    pub(crate) fn session_ended(&mut self, now: Instant, remote: SocketAddr) {
        if self.map.contains_key(&remote) {
            let at = crate::config::later(now, SESSION_END_GRACE).unwrap_or(now);
            self.set_deadline(remote, Some((at, CloseReason::SessionEnded)));
        }
    }

    /// A session started on `remote`'s connection: a pending close for an earlier one is off.
    pub(crate) fn session_started(&mut self, remote: SocketAddr) {
        let ended = self
            .map
            .get(&remote)
            .and_then(|c| c.deadline)
            .is_some_and(|(_, why)| why == CloseReason::SessionEnded);
        if ended {
            self.set_deadline(remote, None);
        }
    }

    /// The connection's reassembly state is forgotten (a new client over the same connection).
    pub(crate) fn forget_decoder(&mut self, remote: SocketAddr) {
        if let Some(c) = self.map.get_mut(&remote) {
            c.decoder = None;
        }
    }

    /// The connection closed.
    pub(crate) fn close(&mut self, remote: SocketAddr) {
        self.set_deadline(remote, None);
        if self.map.remove(&remote).is_some()
            && let Some(n) = self.per_source.get_mut(&remote.ip())
        {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&remote.ip());
            }
        }
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// The connections whose deadline has come, with why; each is closed here.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<(SocketAddr, CloseReason)> {
        let due: Vec<SocketAddr> = self
            .deadlines
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, r)| *r)
            .collect();
        due.into_iter()
            .filter_map(|r| {
                let why = self.map.get(&r)?.deadline?.1;
                self.close(r);
                Some((r, why))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "a test's one clock read: the start instant"
)]
mod tests {
    use super::*;

    fn addr(i: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, i], port))
    }

    #[test]
    fn limits_per_source_and_in_all() {
        let t0 = Instant::now();
        let mut c = Conns::new(TcpLimits {
            max_per_source: 2,
            max_total: 3,
            ..TcpLimits::default()
        });
        assert!(c.open(t0, addr(1, 1)).is_ok());
        assert!(c.open(t0, addr(1, 2)).is_ok());
        assert_eq!(c.open(t0, addr(1, 3)), Err(DropReason::TooManyConnections));
        assert!(c.open(t0, addr(2, 1)).is_ok());
        assert_eq!(c.open(t0, addr(3, 1)), Err(DropReason::TooManyConnections));
        c.close(addr(1, 1));
        assert!(c.open(t0, addr(1, 3)).is_ok(), "a closed one makes room");
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn a_silent_connection_expires_and_a_proven_one_only_when_it_stalls() {
        let t0 = Instant::now();
        let limits = TcpLimits::default();
        let mut c = Conns::new(limits);
        c.open(t0, addr(1, 1)).unwrap();
        c.open(t0, addr(1, 2)).unwrap();
        assert_eq!(c.next_deadline(), Some(t0 + limits.first_packet));
        // The second sends a valid packet, then half of the next one.
        let mut d = c.take_decoder(t0, addr(1, 2), 1600);
        assert!(d.locate(&[0, 5, 1]).is_ok());
        c.put_decoder(t0 + Duration::from_secs(1), addr(1, 2), d, true);
        let expired = c.expired(t0 + limits.first_packet);
        assert_eq!(
            expired,
            [(addr(1, 1), CloseReason::NoValidPacket(limits.first_packet))]
        );
        // Bytes that do not complete the packet do not move its deadline.
        let d = c.take_decoder(t0, addr(1, 2), 1600);
        c.put_decoder(t0 + Duration::from_secs(20), addr(1, 2), d, true);
        let at = t0 + Duration::from_secs(1) + limits.partial_frame;
        assert_eq!(c.next_deadline(), Some(at));
        assert_eq!(
            c.expired(at),
            [(addr(1, 2), CloseReason::StalledFrame(limits.partial_frame))]
        );
        assert_eq!(c.len(), 0);
        assert_eq!(c.next_deadline(), None);
    }
}
