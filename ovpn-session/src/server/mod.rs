//! The OpenVPN server (RouterOS `/interface ovpn-server server`), sans-IO: one endpoint, one session
//! per client, each named `ovpn-incomingN`.
//!
//! - `mod.rs`, the endpoint: which session a datagram belongs to (by address, by a restarted
//!   client's new session id, by peer-id when a client roams), the session slots and names, and
//!   the scheduling (a ready queue for transmits and an ordered set of deadlines).
//! - [`peer`]: one client's session: authentication, addressing and the push.
//! - `config` and `event`: what the driver configures and what it is told.

mod config;
mod event;
mod peer;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_pool::PoolSet;
use ovpn_ppp::{AuthError, Grant};
use ovpn_wire::{DataHeader, KeyId, Opcode, PeerId};

pub use config::{AuthMode, ServerConfig, ServerConfigError, SharedAuthenticator};
pub use event::{ServerEvent, ServerReceived, SessionInfo};
use peer::{Cx, Peer, PeerState, Step};

use crate::channel::{Channel, LocalInfo, Side, Timings, TlsFactory};
use crate::client::frame_tcp;
use crate::config::{Transmit, Transport, keepalive};
use crate::error::{DisconnectReason, DropReason, EncapError};
use crate::tls_config::{SessionClock, server_config};

/// An OpenVPN server endpoint, sans-IO: every client's session behind one socket (UDP) or one
/// listening socket's connections (TCP, each keyed by its remote address).
///
/// # Driving it
///
/// After any `handle_*` call or command, drain [`Server::poll_transmit`] until `None`, then
/// [`Server::poll_event`] until `None`, then read [`Server::poll_timeout`] and call
/// [`Server::handle_timeout`] when it has passed. `now` must not go backwards.
///
/// ```text
/// loop {
///     while let Some(t) = server.poll_transmit(now, &mut buf) { socket.send_to(&buf[..t.len], t.destination) }
///     while let Some(e) = server.poll_event() { /* Connected: create ovpn-incomingN, route the address */ }
///     socket -> server.handle_datagram(now, from, &mut pkt) -> Packet { peer, packet } -> tun.send(packet)
///     tun of peer -> buf[HEADROOM..] -> server.encapsulate(now, peer, &mut buf, HEADROOM, n) -> socket
///     timeout -> server.handle_timeout(now)
/// }
/// ```
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    tls: Arc<rustls::ServerConfig>,
    clock: SessionClock,
    peers: Vec<Option<Peer>>,
    /// Slots of `peers` that are empty, reused lowest first.
    free_slots: BTreeSet<usize>,
    /// How many slots are in use.
    live: usize,
    /// `ovpn-incomingN` numbers below `next_number` that are free again.
    free_numbers: BTreeSet<u32>,
    next_number: u32,
    /// Connected sessions per PPP user.
    users: HashMap<String, usize>,
    by_addr: HashMap<SocketAddr, usize>,
    /// A new session from the address of a live one (a restarted client, or a forged reset): it
    /// replaces the live one only once it has authenticated.
    candidates: HashMap<SocketAddr, usize>,
    by_address: HashMap<Ipv4Addr, usize>,
    pools: PoolSet,
    /// Checks that a session start is authentic (tls-auth/tls-crypt) before any state is made.
    gate: crate::wrap::Wrap,
    events: VecDeque<ServerEvent>,
    out: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Sessions that may have packets to send, visited in turn by `poll_transmit` (so an idle
    /// session costs nothing per call).
    ready: VecDeque<usize>,
    /// Each session's next deadline as last computed. Data packets only move deadlines later, so
    /// they leave this alone: a stale entry means an early wakeup, which recomputes it.
    timers: BTreeSet<(Instant, usize)>,
}

impl Server {
    /// A server with its IP pools. `unix_now` is the wall-clock time at `now`.
    pub fn new(
        config: ServerConfig,
        pools: PoolSet,
        now: Instant,
        unix_now: SystemTime,
    ) -> Result<Self, ServerConfigError> {
        if config.ciphers.is_empty() {
            return Err(ServerConfigError::NoCipher);
        }
        let clock = SessionClock::new(now, unix_now);
        let gate = crate::wrap::Wrap::new(&config.protection, true)
            .map_err(|e| ServerConfigError::ControlKey(e.to_string()))?;
        let tls = server_config(
            config.client_check.clone(),
            &config.identity,
            config.tls_version,
            clock.clone(),
        )?;
        Ok(Self {
            config,
            tls,
            clock,
            peers: Vec::new(),
            free_slots: BTreeSet::new(),
            live: 0,
            free_numbers: BTreeSet::new(),
            next_number: 1,
            users: HashMap::new(),
            by_addr: HashMap::new(),
            candidates: HashMap::new(),
            by_address: HashMap::new(),
            pools,
            gate,
            events: VecDeque::new(),
            out: VecDeque::new(),
            ready: VecDeque::new(),
            timers: BTreeSet::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The IP pools (for `/ip pool used`).
    pub fn pools(&self) -> &PoolSet {
        &self.pools
    }

    /// Whether a datagram from `from` would be handled: a known client, or a session start.
    pub fn accepts(&self, from: SocketAddr, datagram: &[u8]) -> bool {
        self.by_addr.contains_key(&from)
            || ovpn_wire::peek(datagram).is_ok_and(|(op, _)| {
                matches!(op, Opcode::HardResetClientV2 | Opcode::HardResetClientV3)
                    || op == Opcode::DataV2
            })
    }

    /// Takes one received packet (a datagram, or one frame of a TCP connection's stream without its
    /// length prefix) from `from`. Decrypts data packets in place.
    pub fn handle_datagram<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
    ) -> Result<ServerReceived<'b>, DropReason> {
        self.clock.tick(now);
        let (opcode, key_id) = ovpn_wire::peek(packet)?;
        let is_reset = matches!(
            opcode,
            Opcode::HardResetClientV2 | Opcode::HardResetClientV3
        ) && key_id == KeyId::ZERO;
        // No state for a session start that does not authenticate (tls-auth/tls-crypt).
        if is_reset && !self.gate.authenticates(packet) {
            return Err(DropReason::BadControlAuth);
        }
        let mut created = false;
        let sid = packet.get(1..9).filter(|_| opcode.is_control());
        let remote_sid = |p: &Peer| p.channel.remote_session_id().map(|r| r.0);
        let primary = self.by_addr.get(&from).copied();
        let candidate = self.candidates.get(&from).copied();
        let sid_of = |i: usize| self.peers[i].as_ref().and_then(remote_sid);
        let idx = match (primary, candidate) {
            // Control packets of the session being built next to a live one go to it.
            (_, Some(c)) if sid.is_some_and(|s| sid_of(c).is_some_and(|r| r == s)) => c,
            // A new reset (new session id) from the address of a known session: a client that
            // restarted. A live session stays until the new one authenticates (so a forged reset
            // cannot end it); a session still in its handshake is simply replaced.
            (Some(i), _) if is_reset && sid.is_some_and(|s| sid_of(i).is_some_and(|r| r != s)) => {
                let live = self.peers[i]
                    .as_ref()
                    .is_some_and(|p| p.state == PeerState::Connected);
                if let Some(c) = candidate {
                    let why = DisconnectReason::ClosedByPeer(Some("superseded".into()));
                    self.remove_peer(c, why, false);
                }
                if live {
                    let c = self.new_peer(now, from, true)?;
                    self.candidates.insert(from, c);
                    c
                } else {
                    let why = DisconnectReason::ClosedByPeer(Some("client restarted".into()));
                    self.remove_peer(i, why, false);
                    self.new_peer(now, from, false)?
                }
            }
            (Some(i), _) => i,
            (None, _) if opcode == Opcode::DataV2 && self.config.transport == Transport::Udp => {
                return self.handle_roaming(now, from, packet);
            }
            (None, _) if is_reset => {
                created = true;
                self.new_peer(now, from, false)?
            }
            (None, _) => return Err(DropReason::UnknownPeer),
        };
        let r = self.handle_for(now, idx, packet, opcode);
        if created && r.is_err() {
            // A malformed session start leaves nothing behind.
            self.discard(idx);
            return r;
        }
        self.process(now, idx);
        if !opcode.is_data() {
            self.touch(idx);
        }
        r
    }

    /// After something happened to session `idx`: it may have packets to send, and its next
    /// deadline may have moved.
    fn touch(&mut self, idx: usize) {
        let Some(p) = self.peers.get_mut(idx).and_then(Option::as_mut) else {
            return;
        };
        if !p.queued {
            p.queued = true;
            self.ready.push_back(idx);
        }
        let next = p.next_deadline();
        if next != p.deadline {
            if let Some(d) = p.deadline {
                self.timers.remove(&(d, idx));
            }
            if let Some(n) = next {
                self.timers.insert((n, idx));
            }
            p.deadline = next;
        }
    }

    fn handle_for<'b>(
        &mut self,
        now: Instant,
        idx: usize,
        packet: &'b mut [u8],
        opcode: Opcode,
    ) -> Result<ServerReceived<'b>, DropReason> {
        let peer = self.peers[idx].as_mut().ok_or(DropReason::UnknownPeer)?;
        if opcode.is_data() {
            if peer.state != PeerState::Connected {
                return Err(DropReason::NotReady);
            }
            let id = peer.id;
            return match peer.channel.open(now, packet)? {
                Some(r) => Ok(ServerReceived::Packet {
                    peer: id,
                    packet: &mut packet[r],
                }),
                None => Ok(ServerReceived::Consumed),
            };
        }
        peer.channel.handle_control(now, packet)?;
        Ok(ServerReceived::Consumed)
    }

    /// A DATA_V2 packet from an unknown address: the client may have moved (NAT rebinding). It is
    /// accepted, and the session moves, only if it decrypts under that peer's keys.
    fn handle_roaming<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
    ) -> Result<ServerReceived<'b>, DropReason> {
        let DataHeader::V2 { peer_id, .. } = DataHeader::parse(packet)? else {
            return Err(DropReason::UnknownPeer);
        };
        let idx = peer_id.get() as usize;
        let Some(Some(peer)) = self.peers.get_mut(idx) else {
            return Err(DropReason::UnknownPeer);
        };
        if peer.state != PeerState::Connected || self.config.transport != Transport::Udp {
            return Err(DropReason::UnknownPeer);
        }
        let r = peer.channel.open(now, packet)?;
        let old = core::mem::replace(&mut peer.remote, from);
        let id = peer.id;
        self.by_addr.remove(&old);
        self.by_addr.insert(from, idx);
        tracing::info!(target: "ovpn", "{}: client moved from {old} to {from}", peer.name);
        self.events.push_back(ServerEvent::Roamed {
            peer: id,
            from: old,
            to: from,
        });
        Ok(match r {
            Some(r) => ServerReceived::Packet {
                peer: id,
                packet: &mut packet[r],
            },
            None => ServerReceived::Consumed,
        })
    }

    fn new_peer(
        &mut self,
        now: Instant,
        from: SocketAddr,
        candidate: bool,
    ) -> Result<usize, DropReason> {
        if self.live >= self.config.max_clients {
            return Err(DropReason::TooManySessions);
        }
        let idx = match self.free_slots.first() {
            Some(&i) => i,
            None if self.peers.len() < PeerId::MAX_VALUE as usize => self.peers.len(),
            None => return Err(DropReason::TooManySessions),
        };
        let Some(id) = PeerId::new(idx as u32) else {
            return Err(DropReason::TooManySessions);
        };
        let (ping, restart) = match self.config.keepalive_timeout {
            Some(t) => {
                let (p, r) = keepalive(t);
                (Some(p), Some(r))
            }
            None => (None, None),
        };
        let channel = Channel::new(
            now,
            self.clock.clone(),
            Side::Server,
            &self.config.protection,
            TlsFactory::Server(self.tls.clone()),
            LocalInfo {
                options: peer::occ(&self.config, None),
                ..LocalInfo::default()
            },
            Timings {
                reneg: self.config.reneg,
                ..Timings::default()
            },
            self.config.random.clone(),
        );
        let mut channel = channel.map_err(|_| DropReason::NotReady)?;
        channel.ping_interval = ping;
        // Until keepalive applies, the handshake itself is bounded by hand-window.
        channel.ping_timeout = restart.map(|r| r.max(Duration::from_secs(60)));
        // ovpn-incomingN: the lowest N not in use.
        let number = match self.free_numbers.pop_first() {
            Some(n) => n,
            None => {
                self.next_number += 1;
                self.next_number - 1
            }
        };
        let name = format!("ovpn-incoming{number}");
        tracing::debug!(target: "ovpn", "{name}: new session from {from}");
        if idx == self.peers.len() {
            self.peers.push(None);
        }
        self.free_slots.remove(&idx);
        self.live += 1;
        self.peers[idx] = Some(Peer::new(id, number, name, from, channel));
        if !candidate {
            self.by_addr.insert(from, idx);
        }
        Ok(idx)
    }

    /// The answer to [`ServerEvent::AuthRequested`].
    pub fn auth_verdict(&mut self, now: Instant, peer: PeerId, verdict: Result<Grant, AuthError>) {
        let idx = peer.get() as usize;
        let Some(Some(p)) = self.peers.get_mut(idx) else {
            return;
        };
        if p.state != PeerState::Authenticating {
            return;
        }
        let mut cx = Cx {
            config: &self.config,
            pools: &mut self.pools,
            events: &mut self.events,
            users: &self.users,
        };
        p.finish_auth(now, verdict, &mut cx);
        self.process(now, idx);
        self.touch(idx);
    }

    /// Seals the packet at `buf[start..start + len]` for `peer` in place (header and crypto
    /// overhead go into the `HEADROOM` bytes before it and the `TAILROOM` after); returns where to
    /// send it and the range to send.
    pub fn encapsulate(
        &mut self,
        now: Instant,
        peer: PeerId,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<(SocketAddr, Range<usize>), EncapError> {
        let mtu = usize::from(self.config.max_mtu);
        if len > mtu {
            return Err(EncapError::PacketTooLarge { len, mtu });
        }
        let tcp = self.config.transport == Transport::Tcp;
        let Some(Some(p)) = self.peers.get_mut(peer.get() as usize) else {
            return Err(EncapError::UnknownPeer);
        };
        if p.state != PeerState::Connected {
            return Err(EncapError::NotConnected);
        }
        let r = p.channel.seal(now, buf, start, len)?;
        p.channel.traffic.packets_out += 1;
        p.channel.traffic.bytes_out += len as u64;
        let r = if tcp { frame_tcp(buf, r)? } else { r };
        let remote = p.remote;
        // Near packet-id exhaustion the renegotiation is due at once (rare).
        if p.channel.reneg_due() && p.deadline.is_none_or(|d| d > now) {
            self.touch(peer.get() as usize);
        }
        Ok((remote, r))
    }

    /// Which client owns a tunnel address (for a shared TUN: where to send a packet).
    pub fn route(&self, destination: IpAddr) -> Option<PeerId> {
        let IpAddr::V4(v4) = destination else {
            return None;
        };
        let idx = *self.by_address.get(&v4)?;
        self.peers.get(idx)?.as_ref().map(|p| p.id)
    }

    /// Timers of the sessions whose deadline has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock.tick(now);
        let due: Vec<usize> = self
            .timers
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, i)| *i)
            .collect();
        for idx in due {
            let Some(p) = self.peers[idx].as_mut() else {
                continue;
            };
            if let PeerState::Refused { until } = p.state {
                if now >= until {
                    let reason = DisconnectReason::AuthFailed("refused".into());
                    self.remove_peer(idx, reason, false);
                }
                continue;
            }
            p.channel.handle_timeout(now);
            self.process(now, idx);
            self.touch(idx);
        }
    }

    /// The next packet to send, written into `buf` (framed for TCP).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (destination, p) = match self.out.pop_front() {
            Some(x) => x,
            None => {
                // Round robin over the sessions with something to send, one packet each, so one
                // busy client does not starve the others.
                loop {
                    let &i = self.ready.front()?;
                    let Some(peer) = self.peers.get_mut(i).and_then(Option::as_mut) else {
                        self.ready.pop_front();
                        continue;
                    };
                    match peer.channel.poll_transmit(now) {
                        Some(p) => {
                            let remote = peer.remote;
                            self.ready.rotate_left(1);
                            // Sending starts retransmission timers: the deadline may be earlier.
                            self.touch(i);
                            break (remote, p);
                        }
                        None => {
                            peer.queued = false;
                            self.ready.pop_front();
                        }
                    }
                }
            }
        };
        buf.clear();
        if self.config.transport == Transport::Tcp {
            // Control packets are far below the 64 KiB frame limit.
            buf.extend_from_slice(&ovpn_wire::tcp_prefix(p.len()).unwrap_or_default());
        }
        buf.extend_from_slice(&p);
        Some(Transmit {
            destination,
            len: buf.len(),
        })
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Server::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// Ends a session (`/interface ovpn-server remove`, or a TCP connection that closed).
    pub fn disconnect(&mut self, now: Instant, peer: PeerId, reason: DisconnectReason) {
        let idx = peer.get() as usize;
        if let Some(Some(p)) = self.peers.get_mut(idx) {
            // Every OpenVPN 2.x client acts on RESTART (push.c `server_pushed_signal`).
            if p.state == PeerState::Connected {
                p.channel.send_message("RESTART");
                while let Some(pkt) = p.channel.poll_transmit(now) {
                    self.out.push_back((p.remote, pkt));
                }
            }
            self.remove_peer(idx, reason, true);
        }
    }

    /// Stops the server: every client is told (RESTART, so it reconnects later) and every session
    /// ends. Drain [`Server::poll_transmit`] afterwards to send the notices.
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<PeerId> = self.peers.iter().flatten().map(|p| p.id).collect();
        for id in ids {
            self.disconnect(now, id, DisconnectReason::LocallyClosed);
        }
    }

    /// A TCP connection from `from` ended.
    pub fn connection_closed(&mut self, now: Instant, from: SocketAddr) {
        if let Some(&idx) = self.by_addr.get(&from)
            && let Some(Some(p)) = self.peers.get(idx)
        {
            let id = p.id;
            self.disconnect(now, id, DisconnectReason::ClosedByPeer(None));
        }
    }

    /// The session table.
    pub fn sessions(&self, now: Instant) -> Vec<SessionInfo> {
        self.peers.iter().flatten().map(|p| p.info(now)).collect()
    }

    /// Lets session `idx` handle what its channel reported, and does what it asks.
    fn process(&mut self, now: Instant, idx: usize) {
        loop {
            let Some(p) = self.peers.get_mut(idx).and_then(Option::as_mut) else {
                return;
            };
            let mut cx = Cx {
                config: &self.config,
                pools: &mut self.pools,
                events: &mut self.events,
                users: &self.users,
            };
            match p.process(now, &mut cx) {
                Step::Idle => return,
                Step::Remove { reason, log } => {
                    self.remove_peer(idx, reason, log);
                    return;
                }
                Step::Connected => self.connected(idx),
            }
        }
    }

    /// Session `idx` logged in: it replaces the session it was built next to, its address routes
    /// to it, and the driver hears of it.
    fn connected(&mut self, idx: usize) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        p.start_keepalive(&self.config);
        let remote = p.remote;
        let address = p.address();
        let user = p.user.clone().unwrap_or_default();
        // A replacement session authenticated: the one it replaces ends now.
        if self.candidates.get(&remote) == Some(&idx) {
            self.candidates.remove(&remote);
            if let Some(old) = self.by_addr.insert(remote, idx)
                && old != idx
            {
                self.remove_peer(
                    old,
                    DisconnectReason::ClosedByPeer(Some("replaced by a new session".into())),
                    true,
                );
            }
        }
        if let Some(a) = address {
            self.by_address.insert(a, idx);
        }
        *self.users.entry(user).or_default() += 1;
        if let Some(p) = self.peers[idx].as_ref() {
            self.events.push_back(p.connected_event());
        }
    }

    /// Forgets a session that never got going (a malformed start), without an event.
    fn discard(&mut self, idx: usize) {
        if let Some(p) = self.peers.get_mut(idx).and_then(Option::take) {
            self.by_addr.remove(&p.remote);
            self.release_slot(idx, p.number);
        }
    }

    fn release_slot(&mut self, idx: usize, number: u32) {
        self.live -= 1;
        self.free_slots.insert(idx);
        self.free_numbers.insert(number);
    }

    fn remove_peer(&mut self, idx: usize, reason: DisconnectReason, log: bool) {
        let Some(p) = self.peers.get_mut(idx).and_then(Option::take) else {
            return;
        };
        self.release_slot(idx, p.number);
        if let Some(d) = p.deadline {
            self.timers.remove(&(d, idx));
        }
        if self.by_addr.get(&p.remote) == Some(&idx) {
            self.by_addr.remove(&p.remote);
        }
        if self.candidates.get(&p.remote) == Some(&idx) {
            self.candidates.remove(&p.remote);
        }
        for lease in [&p.lease, &p.local_lease].into_iter().flatten() {
            if let Err(e) = self.pools.release(lease.address) {
                tracing::warn!(target: "ovpn", "{}: releasing {}: {e}", p.name, lease.address);
            }
        }
        if let Some(a) = p.address()
            && self.by_address.get(&a) == Some(&idx)
        {
            self.by_address.remove(&a);
        }
        if p.state == PeerState::Connected
            && let Some(user) = &p.user
            && let Some(n) = self.users.get_mut(user)
        {
            *n -= 1;
            if *n == 0 {
                self.users.remove(user);
            }
        }
        if log || p.connected_at.is_some() {
            tracing::info!(target: "ovpn", "{}: disconnected ({reason})", p.name);
        }
        if matches!(p.state, PeerState::Refused { .. }) {
            // Its end was announced when it was refused.
            return;
        }
        self.events.push_back(ServerEvent::Disconnected {
            peer: p.id,
            name: p.name,
            user: p.user,
            reason,
        });
    }
}
