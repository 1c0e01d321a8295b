//! The OpenVPN server (RouterOS `/interface ovpn-server server`), sans-IO: one endpoint, one session
//! per client, each named `ovpn-incomingN`.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_crypto::{Cipher, Digest};
use ovpn_pool::{Lease, PoolSet};
use ovpn_ppp::{AuthError, AuthRequest, Authenticator, Grant};
use ovpn_wire::{DataHeader, KeyId, Opcode, PeerId};

use crate::channel::{Channel, ChannelEvent, DataParams, LocalInfo, Side, Timings, TlsFactory};
use crate::client::{encoding, frame_tcp};
use crate::config::{Mode, Transmit, Transport, keepalive};
use crate::control::{ControlMessage, push_reply_messages};
use crate::error::{DisconnectReason, DropReason, EncapError};
use crate::km2::KeyMethod2;
use crate::peer_info::{Occ, OccProto, PeerInfo, iv_proto, occ_option};
use crate::push::{PushOptions, Route, Topology};
use crate::random::{Random, SystemRandom};
use crate::tls_config::{Identity, SessionClock, TlsConfigError, TlsVersion, server_config};
use crate::verify::PeerCheck;
use crate::wrap::ControlProtection;

/// After refusing a client (AUTH_FAILED), keep its session this long so the message arrives
/// (push.c: the instance exits 5 s after AUTH_FAILED).
const REFUSED_LINGER: Duration = Duration::from_secs(5);

/// An authenticator the server can share.
pub type SharedAuthenticator = Arc<dyn Authenticator + Send + Sync>;

/// How usernames and passwords are checked.
#[derive(Clone)]
pub enum AuthMode {
    /// The server asks the authenticator itself, at once.
    Inline(SharedAuthenticator),
    /// The server emits [`ServerEvent::AuthRequested`] and waits for [`Server::auth_verdict`] (how a
    /// RADIUS or other external check plugs in).
    Deferred,
}

/// A server's configuration (RouterOS `/interface ovpn-server server` properties).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `protocol`.
    pub transport: Transport,
    /// `mode`.
    pub mode: Mode,
    /// `certificate`: our chain and key.
    pub identity: Identity,
    /// `require-client-certificate=yes`: how client certificates are checked (None: not asked).
    pub client_check: Option<Arc<dyn PeerCheck>>,
    /// `cipher`: the accepted data ciphers, in order of preference.
    pub ciphers: Vec<Cipher>,
    /// `auth`: the accepted HMAC digests (for CBC ciphers).
    pub auths: Vec<Digest>,
    /// `max-mtu`: the tunnel MTU.
    pub max_mtu: u16,
    /// `keepalive-timeout` (None: `disabled`).
    pub keepalive_timeout: Option<Duration>,
    /// `redirect-gateway=def1`: push a default route to clients.
    pub redirect_gateway: bool,
    /// `push-routes`: routes pushed to every client.
    pub push_routes: Vec<Route>,
    /// `netmask`: the prefix length pushed with the client's address (topology subnet).
    pub netmask: u8,
    /// How the client's address is pushed. RouterOS pushes `topology subnet`; `net30` is the
    /// point-to-point form (`ifconfig client server`).
    pub topology: Topology,
    /// `reneg-sec` (None: never by time).
    pub reneg: Option<Duration>,
    /// `tls-version`.
    pub tls_version: TlsVersion,
    /// `tls-auth`/`tls-crypt` (not in RouterOS; for OpenVPN clients that require it).
    pub protection: ControlProtection,
    /// How credentials are checked.
    pub auth: AuthMode,
    /// The most sessions at once (new clients beyond are not answered).
    pub max_clients: usize,
    /// Randomness (the system's by default).
    pub random: Arc<dyn Random>,
}

impl core::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Inline(_) => "Inline",
            Self::Deferred => "Deferred",
        })
    }
}

impl ServerConfig {
    /// A configuration with RouterOS's defaults for everything but the essentials.
    pub fn new(identity: Identity, authenticator: SharedAuthenticator) -> Self {
        Self {
            transport: Transport::Udp,
            mode: Mode::Ip,
            identity,
            client_check: None,
            ciphers: vec![Cipher::Aes256Gcm, Cipher::Aes128Gcm, Cipher::Aes256Cbc],
            auths: vec![Digest::Sha1, Digest::Sha256, Digest::Sha512],
            max_mtu: 1500,
            keepalive_timeout: Some(Duration::from_secs(60)),
            redirect_gateway: false,
            push_routes: Vec::new(),
            netmask: 24,
            topology: Topology::Subnet,
            reneg: Some(Duration::from_secs(3600)),
            tls_version: TlsVersion::Any,
            protection: ControlProtection::None,
            auth: AuthMode::Inline(authenticator),
            max_clients: 1024,
            random: Arc::new(SystemRandom),
        }
    }
}

/// Why a server could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The TLS configuration was refused (a bad certificate or key).
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
    /// No cipher configured.
    #[error("the cipher set is empty")]
    NoCipher,
    /// The tls-auth/tls-crypt key cannot be used.
    #[error("control channel key: {0}")]
    ControlKey(String),
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
enum PeerState {
    Handshake,
    Authenticating,
    Connected,
    Refused { until: Instant },
}

#[derive(Debug)]
struct Peer {
    id: PeerId,
    number: u32,
    name: String,
    remote: SocketAddr,
    channel: Channel,
    state: PeerState,
    peer_info: PeerInfo,
    km2: Option<Box<KeyMethod2>>,
    params: Option<DataParams>,
    user: Option<String>,
    password: Option<ovpn_ppp::Password>,
    lease: Option<Lease>,
    local_lease: Option<Lease>,
    local_address: Option<Ipv4Addr>,
    grant: Option<Grant>,
    push: Option<Vec<String>>,
    push_sent: bool,
    wants_push: bool,
    keys_ready: bool,
    connected_at: Option<Instant>,
    /// In `Server::ready`.
    queued: bool,
    /// Its entry in `Server::timers`.
    deadline: Option<Instant>,
}

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
            if let Some(p) = self.peers.get_mut(idx).and_then(Option::take) {
                self.by_addr.remove(&p.remote);
            }
            return r;
        }
        self.process_events(now, idx);
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
        let next = match p.state {
            PeerState::Refused { until } => Some(until),
            _ => p.channel.poll_timeout(),
        };
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
        let active = self.peers.iter().flatten().count();
        if active >= self.config.max_clients {
            return Err(DropReason::TooManySessions);
        }
        let idx = match self.peers.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.peers.len() < PeerId::MAX_VALUE as usize => {
                self.peers.push(None);
                self.peers.len() - 1
            }
            None => return Err(DropReason::TooManySessions),
        };
        let Some(id) = PeerId::new(idx as u32) else {
            return Err(DropReason::TooManySessions);
        };
        // ovpn-incomingN: the lowest N not in use.
        let mut number = 1;
        while self.peers.iter().flatten().any(|p| p.number == number) {
            number += 1;
        }
        let (ping, restart) = match self.config.keepalive_timeout {
            Some(t) => {
                let (p, r) = keepalive(t);
                (Some(p), Some(r))
            }
            None => (None, None),
        };
        let mut channel = Channel::new(
            now,
            self.clock.clone(),
            Side::Server,
            &self.config.protection,
            TlsFactory::Server(self.tls.clone()),
            LocalInfo {
                options: self.occ(None),
                ..LocalInfo::default()
            },
            Timings {
                reneg: self.config.reneg,
                ..Timings::default()
            },
            self.config.random.clone(),
        )
        .map_err(|_| DropReason::NotReady)?;
        channel.ping_interval = ping;
        // Until keepalive applies, the handshake itself is bounded by hand-window.
        channel.ping_timeout = restart.map(|r| r.max(Duration::from_secs(60)));
        let name = format!("ovpn-incoming{number}");
        tracing::debug!(target: "ovpn", "{name}: new session from {from}");
        self.peers[idx] = Some(Peer {
            id,
            number,
            name,
            remote: from,
            channel,
            state: PeerState::Handshake,
            peer_info: PeerInfo::default(),
            km2: None,
            params: None,
            user: None,
            password: None,
            lease: None,
            local_lease: None,
            local_address: None,
            grant: None,
            push: None,
            push_sent: false,
            wants_push: false,
            keys_ready: false,
            connected_at: None,
            queued: false,
            deadline: None,
        });
        if !candidate {
            self.by_addr.insert(from, idx);
        }
        Ok(idx)
    }

    /// Our options string; with the data channel chosen for a client it names that cipher (what a
    /// client without negotiation checks), else our first.
    fn occ(&self, params: Option<DataParams>) -> String {
        let c = params.map_or(self.config.ciphers[0], |p| p.cipher);
        let auth = match params {
            Some(p) if p.cipher.is_aead() => "[null-digest]",
            Some(p) => p.digest.openvpn_name(),
            None => self
                .config
                .auths
                .first()
                .map_or("SHA1", |d| d.openvpn_name()),
        };
        Occ {
            tap: self.config.mode == Mode::Ethernet,
            link_mtu: u32::from(self.config.max_mtu) + 49,
            tun_mtu: u32::from(self.config.max_mtu),
            proto: match self.config.transport {
                Transport::Udp => OccProto::Udp,
                Transport::Tcp => OccProto::TcpServer,
            },
            cipher: Some(c.openvpn_name()),
            auth,
            keysize_bits: (c.key_len() * 8) as u32,
            server: true,
        }
        .to_string()
    }

    /// The answer to [`ServerEvent::AuthRequested`].
    pub fn auth_verdict(&mut self, now: Instant, peer: PeerId, verdict: Result<Grant, AuthError>) {
        let idx = peer.get() as usize;
        let Some(Some(p)) = self.peers.get(idx) else {
            return;
        };
        if p.state != PeerState::Authenticating {
            return;
        }
        self.finish_auth(now, idx, verdict);
        self.process_events(now, idx);
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
            self.process_events(now, idx);
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
        self.peers
            .iter()
            .flatten()
            .map(|p| SessionInfo {
                peer: p.id,
                name: p.name.clone(),
                user: p.user.clone(),
                remote: p.remote,
                address: p.lease.as_ref().and_then(|l| match l.address {
                    IpAddr::V4(a) => Some(a),
                    IpAddr::V6(_) => None,
                }),
                encoding: p.params.map(encoding),
                uptime: p.connected_at.map(|t| now.saturating_duration_since(t)),
                connected: p.state == PeerState::Connected,
                traffic: p.channel.traffic,
            })
            .collect()
    }

    fn remove_peer(&mut self, idx: usize, reason: DisconnectReason, log: bool) {
        let Some(p) = self.peers.get_mut(idx).and_then(Option::take) else {
            return;
        };
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
        if let Some(IpAddr::V4(a)) = p.lease.as_ref().map(|l| l.address)
            && self.by_address.get(&a) == Some(&idx)
        {
            self.by_address.remove(&a);
        }
        if log || p.connected_at.is_some() {
            tracing::info!(target: "ovpn", "{}: disconnected ({reason})", p.name);
        }
        self.events.push_back(ServerEvent::Disconnected {
            peer: p.id,
            name: p.name,
            user: p.user,
            reason,
        });
    }

    fn process_events(&mut self, now: Instant, idx: usize) {
        loop {
            let Some(p) = self.peers.get_mut(idx).and_then(Option::as_mut) else {
                return;
            };
            let Some(ev) = p.channel.poll_event() else {
                break;
            };
            match ev {
                ChannelEvent::TlsEstablished {
                    key_id,
                    description,
                } => {
                    tracing::debug!(target: "ovpn", "{}: control channel (key {}) {description}", p.name, key_id.get());
                }
                ChannelEvent::PeerKeyMethod { key_id, km2 } => {
                    if key_id == KeyId::ZERO {
                        self.first_key_method(now, idx, km2);
                    } else if let Some(reason) = renegotiation_refusal(p, &km2) {
                        tracing::warn!(target: "ovpn", "{}: {reason}", p.name);
                        self.remove_peer(idx, DisconnectReason::AuthFailed(reason), true);
                        return;
                    } else {
                        let params = p.params;
                        let options = self.occ(params);
                        if let Some(p) = self.peers[idx].as_mut() {
                            p.channel.send_key_method(now, key_id, &options);
                        }
                    }
                }
                ChannelEvent::Message(m) => self.handle_message(now, idx, &m),
                ChannelEvent::KeysInstalled { key_id } => {
                    if key_id == KeyId::ZERO {
                        p.keys_ready = true;
                        self.maybe_connected(now, idx);
                    }
                }
                ChannelEvent::OccExit => {
                    self.remove_peer(idx, DisconnectReason::ClosedByPeer(None), true);
                    return;
                }
                ChannelEvent::Failed(reason) => {
                    tracing::info!(target: "ovpn", "{}: {reason}", p.name);
                    self.remove_peer(idx, reason, false);
                    return;
                }
            }
        }
    }

    /// The client's first key-method-2 record: negotiate the cipher, then authenticate.
    fn first_key_method(&mut self, now: Instant, idx: usize, km2: Box<KeyMethod2>) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        p.peer_info = PeerInfo::parse(&km2.peer_info);
        // A client that speaks P_DATA_V2 gets it from us too, with its peer-id (multi.c).
        if p.peer_info.has(iv_proto::DATA_V2) {
            p.channel.tx_peer_id = Some(p.id);
        }
        if !p.peer_info.all.is_empty() {
            tracing::debug!(target: "ovpn", "{}: peer info {:?}", p.name, p.peer_info.all);
        }
        let negotiated = negotiate(&self.config, &p.peer_info, &km2.options);
        let options = self.occ(negotiated.as_ref().ok().copied());
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        // Our record goes out whatever the outcome, as OpenVPN's does: a refusal follows as
        // AUTH_FAILED.
        p.channel.send_key_method(now, KeyId::ZERO, &options);
        match negotiated {
            Ok(params) => p.params = Some(params),
            Err(reason) => {
                tracing::warn!(target: "ovpn", "{}: {reason}", p.name);
                self.refuse(now, idx, DisconnectReason::NoEncryption(reason));
                return;
            }
        }
        let user = km2.username.clone();
        let active = self
            .peers
            .iter()
            .flatten()
            .filter(|q| q.state == PeerState::Connected && q.user.as_deref() == Some(user.as_str()))
            .count();
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        let request = AuthRequest::new(
            user,
            km2.password.as_str(),
            ovpn_ppp::Service::Ovpn,
            p.remote.ip().to_string(),
        )
        .with_active_sessions(active);
        p.user = Some(km2.username.clone());
        p.password = Some(ovpn_ppp::Password::new(km2.password.as_str()));
        p.km2 = Some(km2);
        p.state = PeerState::Authenticating;
        match &self.config.auth {
            AuthMode::Inline(a) => {
                let verdict = a.authenticate(&request);
                self.finish_auth(now, idx, verdict);
            }
            AuthMode::Deferred => self.events.push_back(ServerEvent::AuthRequested {
                peer: p.id,
                request,
            }),
        }
    }

    fn refuse(&mut self, now: Instant, idx: usize, reason: DisconnectReason) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        p.channel.send_message(&format!("AUTH_FAILED,{reason}"));
        p.state = PeerState::Refused {
            until: now + REFUSED_LINGER,
        };
        tracing::info!(target: "ppp", "{}: login failed: {reason}", p.user.as_deref().unwrap_or("?"));
        let (id, name, user) = (p.id, p.name.clone(), p.user.clone());
        // Release what it held at once; the session lingers only to deliver AUTH_FAILED.
        for lease in [p.lease.take(), p.local_lease.take()].into_iter().flatten() {
            let _ = self.pools.release(lease.address);
        }
        self.events.push_back(ServerEvent::Disconnected {
            peer: id,
            name,
            user,
            reason,
        });
    }

    fn finish_auth(&mut self, now: Instant, idx: usize, verdict: Result<Grant, AuthError>) {
        let grant = match verdict {
            Ok(g) => g,
            Err(e) => {
                self.refuse(now, idx, DisconnectReason::AuthFailed(e.to_string()));
                return;
            }
        };
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        let user = p.user.clone().unwrap_or_default();
        // Addresses: the client's from its remote-address (pool or fixed), ours from local-address.
        let lease = match acquire(&mut self.pools, grant.remote_address.as_ref(), &user) {
            Ok(l) => l,
            Err(e) => {
                self.refuse(now, idx, DisconnectReason::PoolExhausted(e));
                return;
            }
        };
        // A fixed local-address is shared by every session (RouterOS); a pool gives each its own.
        let local = match grant.local_address.as_ref() {
            Some(spec @ ovpn_ppp::AddressSpec::Pool(_)) => {
                match acquire(&mut self.pools, Some(spec), &user) {
                    Ok(l) => l,
                    Err(e) => {
                        if let Some(l) = &lease {
                            let _ = self.pools.release(l.address);
                        }
                        self.refuse(now, idx, DisconnectReason::PoolExhausted(e));
                        return;
                    }
                }
            }
            _ => None,
        };
        let fixed_local = match grant.local_address {
            Some(ovpn_ppp::AddressSpec::Address(a)) => Some(a),
            _ => None,
        };
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        let Some(IpAddr::V4(address)) = lease.as_ref().map(|l| l.address) else {
            self.refuse(
                now,
                idx,
                DisconnectReason::PoolExhausted("no IPv4 remote-address for this user".into()),
            );
            return;
        };
        let local_address = match local.as_ref().map(|l| l.address) {
            Some(IpAddr::V4(a)) => a,
            _ if fixed_local.is_some() => fixed_local.unwrap_or(Ipv4Addr::UNSPECIFIED),
            // Without a local-address, the first address of the client's /netmask subnet.
            _ => subnet_gateway(address, self.config.netmask),
        };
        p.lease = lease;
        p.local_lease = local;
        p.local_address = Some(local_address);
        self.by_address.insert(address, idx);
        p.push = Some(push_options(
            &self.config,
            p,
            &grant,
            address,
            local_address,
        ));
        p.grant = Some(grant);
        if let Some(params) = p.params {
            p.channel.set_data_params(now, params);
        }
        // A 2.6 client (IV_PROTO bit 2) takes the reply without asking.
        if p.peer_info.has(iv_proto::REQUEST_PUSH) {
            p.wants_push = true;
        }
        self.send_push(idx);
    }

    fn send_push(&mut self, idx: usize) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        if !p.wants_push || p.push_sent {
            return;
        }
        let Some(items) = &p.push else { return };
        for m in push_reply_messages(items) {
            p.channel.send_message(&m);
        }
        p.push_sent = true;
    }

    fn maybe_connected(&mut self, now: Instant, idx: usize) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        if p.state == PeerState::Connected || !p.keys_ready || p.grant.is_none() {
            return;
        }
        p.state = PeerState::Connected;
        p.connected_at = Some(now);
        let remote = p.remote;
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
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        // Keepalive applies from now on.
        if let Some(t) = self.config.keepalive_timeout {
            let (_, restart) = keepalive(t);
            p.channel.ping_timeout = Some(restart);
        }
        let user = p.user.clone().unwrap_or_default();
        let address = match p.lease.as_ref().map(|l| l.address) {
            Some(IpAddr::V4(a)) => a,
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let encoding = p.params.map(encoding).unwrap_or_default();
        tracing::info!(target: "ppp", "{user} logged in, {address} from {}", p.remote.ip());
        tracing::info!(target: "ovpn", "{}: connected", p.name);
        self.events.push_back(ServerEvent::Connected {
            peer: p.id,
            name: p.name.clone(),
            user,
            remote: p.remote,
            address,
            local_address: p.local_address.unwrap_or(Ipv4Addr::UNSPECIFIED),
            encoding,
            routes: p
                .grant
                .as_ref()
                .map(|g| g.routes.clone())
                .unwrap_or_default(),
        });
    }

    fn handle_message(&mut self, now: Instant, idx: usize, text: &str) {
        let Some(p) = self.peers[idx].as_mut() else {
            return;
        };
        match ControlMessage::parse(text) {
            ControlMessage::PushRequest => {
                p.wants_push = true;
                self.send_push(idx);
            }
            ControlMessage::Exit => {
                self.remove_peer(idx, DisconnectReason::ClosedByPeer(None), true);
            }
            other => {
                tracing::debug!(target: "ovpn", "{}: ignored control message {other}", p.name);
            }
        }
        let _ = now;
    }
}

/// On a renegotiation the client must present the same credentials it logged in with.
fn renegotiation_refusal(p: &Peer, km2: &KeyMethod2) -> Option<String> {
    let same_user = p.user.as_deref() == Some(km2.username.as_str());
    let same_pass = p
        .password
        .as_ref()
        .is_some_and(|pw| pw.ct_eq(&ovpn_ppp::Password::new(km2.password.as_str())));
    (!(same_user && same_pass)).then(|| "login incorrect (renegotiation)".to_owned())
}

/// Picks the data channel for a client (ssl_ncp.c `ncp_get_best_cipher`, extended with RouterOS's
/// cipher and auth sets).
fn negotiate(config: &ServerConfig, info: &PeerInfo, occ: &str) -> Result<DataParams, String> {
    let ours = || {
        config
            .ciphers
            .iter()
            .map(|c| c.openvpn_name())
            .collect::<Vec<_>>()
            .join(":")
    };
    let offered = info.ncp_ciphers();
    let occ_cipher = occ_option(occ, "cipher");
    let cipher = if !offered.is_empty() {
        config
            .ciphers
            .iter()
            .copied()
            .find(|c| offered.iter().any(|o| o.parse::<Cipher>().ok() == Some(*c)))
            .ok_or_else(|| {
                let mut s = format!(
                    "no encryption: we accept {}, the client offers {} (IV_CIPHERS)",
                    ours(),
                    offered.join(":")
                );
                if let Some(c) = occ_cipher {
                    s += &format!(
                        "; its profile says `cipher {c}`, which OpenVPN 2.6 does not offer: add `data-ciphers {c}` to it"
                    );
                }
                s
            })?
    } else {
        // No negotiation (a RouterOS client): the cipher of its options string.
        let c = occ_cipher.ok_or_else(|| {
            format!(
                "no encryption: the client offers no cipher, we accept {}",
                ours()
            )
        })?;
        c.parse::<Cipher>()
            .ok()
            .filter(|c| config.ciphers.contains(c))
            .ok_or_else(|| format!("no encryption: the client uses {c}, we accept {}", ours()))?
    };
    let digest = if cipher.is_aead() {
        Digest::None
    } else {
        let auth = occ_option(occ, "auth").unwrap_or("SHA1");
        auth.parse::<Digest>()
            .ok()
            .filter(|d| config.auths.contains(d))
            .ok_or_else(|| {
                format!(
                    "no encryption: the client authenticates with {auth}, we accept {}",
                    config
                        .auths
                        .iter()
                        .map(|d| d.openvpn_name())
                        .collect::<Vec<_>>()
                        .join(":")
                )
            })?
    };
    Ok(DataParams {
        cipher,
        digest,
        ekm: info.has(iv_proto::TLS_KEY_EXPORT),
    })
}

/// Acquires an address per a profile or secret address property: a pool's name or an address.
fn acquire(
    pools: &mut PoolSet,
    spec: Option<&ovpn_ppp::AddressSpec>,
    owner: &str,
) -> Result<Option<Lease>, String> {
    match spec {
        None => Ok(None),
        Some(ovpn_ppp::AddressSpec::Pool(name)) => pools
            .acquire(name, owner)
            .map(Some)
            .map_err(|e| e.to_string()),
        Some(ovpn_ppp::AddressSpec::Address(a)) => pools
            .acquire_address(IpAddr::V4(*a), owner)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

fn subnet_gateway(address: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from((u32::from(address) & mask) | 1)
}

fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(
        u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0),
    )
}

/// The PUSH_REPLY items for a client, in OpenVPN's order.
fn push_options(
    config: &ServerConfig,
    p: &Peer,
    grant: &Grant,
    address: Ipv4Addr,
    local: Ipv4Addr,
) -> Vec<String> {
    let mut o = PushOptions {
        routes: config.push_routes.clone(),
        redirect_gateway: config.redirect_gateway.then(|| vec!["def1".to_owned()]),
        ..PushOptions::default()
    };
    o.dns = grant
        .dns_servers
        .iter()
        .filter_map(|d| match d {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    match config.topology {
        Topology::Subnet => {
            o.route_gateway = Some(local);
            o.topology = Some(Topology::Subnet);
            o.ifconfig = Some((address, netmask(config.netmask)));
        }
        t @ (Topology::Net30 | Topology::P2p) => {
            o.topology = Some(t);
            o.routes.insert(
                0,
                Route {
                    network: local,
                    netmask: Ipv4Addr::BROADCAST,
                    gateway: None,
                    metric: None,
                },
            );
            o.ifconfig = Some((address, local));
        }
    }
    if let Some(t) = config.keepalive_timeout {
        let (ping, restart) = keepalive(t);
        o.ping = Some(ping.as_secs() as u32);
        o.ping_restart = Some(restart.as_secs() as u32);
    }
    let info = &p.peer_info;
    if info.has(iv_proto::DATA_V2) {
        o.peer_id = Some(p.id.get());
    }
    if let Some(params) = p.params {
        // Only clients that negotiate take a pushed cipher (push.c `prepare_push_reply`).
        if !info.ciphers.is_empty() || info.ncp >= 2 {
            o.cipher = Some(params.cipher.openvpn_name().to_owned());
        }
        if params.ekm {
            if info.has(iv_proto::CC_EXIT_NOTIFY) {
                o.protocol_flags = vec!["cc-exit".into(), "tls-ekm".into()];
            } else {
                o.key_derivation = Some("tls-ekm".into());
            }
        } else if info.has(iv_proto::CC_EXIT_NOTIFY) {
            o.protocol_flags = vec!["cc-exit".into()];
        }
    }
    if info.mtu.is_some() {
        o.tun_mtu = Some(u32::from(config.max_mtu));
    }
    o.to_items()
}
