//! The OpenVPN server (RouterOS `/interface ovpn-server server`), sans-IO: one endpoint, one session
//! per client, each named `ovpn-incomingN`.
//!
//! - `mod.rs`, the endpoint: which session a datagram belongs to (by address, by a restarted
//!   client's new session id, by peer-id when a client roams), the session slots and names, and
//!   the scheduling (a ready queue for transmits and an ordered set of deadlines).
//! - [`peer`]: one client's session: authentication, addressing and the push.
//! - [`shared`]: what several servers share (PPP tables, pools, numbers, session ids).
//! - `incoming`: a new client waiting for the driver's admission.
//! - `config` and `event`: what the driver configures and what it is told.

mod config;
mod conns;
mod cookie;
mod event;
mod incoming;
mod limits;
mod log_gate;
mod peer;
mod rate;
mod routes;
mod shared;
mod slots;
mod switch;
mod v2;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_ppp::{AuthError, Grant};
use ovpn_wire::{AckList, ControlPacket, DataHeader, KeyId, Opcode, SessionId, TcpFrameDecoder};

pub use config::{
    Admission, AuthMode, ServerConfig, ServerConfigError, SharedAuthenticator, TlsCryptV2Server,
    TunIpv6,
};
use conns::Conns;
pub use conns::{CloseReason, SESSION_END_GRACE, TcpLimits};
use cookie::{Cookies, NotThird};
pub use event::{ServerEvent, ServerReceived, SessionInfo};
pub use incoming::Incoming;
use peer::{Cx, Peer, PeerState, Step};
pub use rate::RateLimit;
use rate::{PerSource, ReplyBudget, Verdict, Window};
use routes::RouteTable;
pub use shared::{NoSuchSession, Shared};
pub use slots::PeerHandle;
use slots::Slots;
pub use switch::{FrameRoute, Switching};
use switch::{MacTable, NotLearned};

use crate::channel::{Channel, LocalInfo, Side, Timings, TlsFactory};
use crate::config::{Transmit, Transport, keepalive};
use crate::error::{DisconnectReason, DropReason, EncapError, SessionError};
use crate::stream::{Frames, frame_tcp, max_frame_len};
use crate::tls_config::{SessionClock, server_config};

/// An OpenVPN server endpoint, sans-IO: every client's session behind one socket (UDP) or one
/// listening socket's connections (TCP, each keyed by its remote address).
///
/// # Driving it
///
/// As every session of this crate (the [crate docs](crate#driving-a-session) give the order):
///
/// ```text
/// loop {
///     loop {  // until neither gives anything
///         while let Some(t) = server.poll_transmit(now, &mut buf) { send &buf[..t.len] to t.destination }
///         while let Some(e) = server.poll_event() {
///             /* AuthRequested: auth_verdict; Connected: create ovpn-incomingN;
///                Disconnected: remove it (TCP: close the connection) */
///         }
///     }
///     wait for: socket readable | a tun readable | server.poll_timeout()
///     UDP datagram -> server.handle_datagram(now, from, &mut pkt) -> Packet { peer, packet } -> tun.send(packet)
///     TCP read -> server.handle_stream(now, from, &mut bytes) -> .next() until None, each as above
///     tun of peer -> buf[HEADROOM..] -> server.encapsulate(now, peer, &mut buf, HEADROOM, n) -> send
///     timeout -> server.handle_timeout(now)
/// }
/// ```
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    tls: Arc<rustls::ServerConfig>,
    clock: SessionClock,
    peers: Slots<Peer>,
    /// PPP tables, pools, session numbers and ids, shared with other servers.
    shared: Shared,
    /// The revision of `shared` this server has acted on.
    seen_revision: u64,
    /// The latest `now` given.
    last_now: Instant,
    by_addr: HashMap<SocketAddr, usize>,
    /// TCP: each connection's framing state (a packet split across reads) and bounds.
    conns: Conns,
    /// A new session from the address of a live one (a restarted client, or a forged reset): it
    /// replaces the live one only once it has authenticated.
    candidates: HashMap<SocketAddr, usize>,
    /// Inner destinations to sessions: addresses and secrets' `routes`.
    routes: RouteTable,
    /// Ethernet mode: MAC addresses to sessions.
    macs: MacTable,
    /// One log line per source per interval about failed session starts.
    log_gate: log_gate::LogGate,
    /// Checks that a session start is authentic (tls-auth/tls-crypt) before any state is made,
    /// and protects the stateless answers.
    gate: crate::wrap::Wrap,
    /// The stateless session start's cookies (UDP).
    cookies: Cookies,
    /// How often session starts may be answered and sessions made.
    limits: StartLimits,
    /// Sessions in their handshake, per source address (`max_handshakes_per_source`).
    handshakes: HashMap<IpAddr, u32>,
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
    /// A server over the `shared` tables (PPP secrets and profiles, IP pools), which other
    /// servers may share. `unix_now` is the wall-clock time at `now`.
    pub fn new(
        config: ServerConfig,
        shared: Shared,
        now: Instant,
        unix_now: SystemTime,
    ) -> Result<Self, ServerConfigError> {
        let clock = SessionClock::new(now, unix_now);
        let (gate, tls) = Self::prepare(&config, &clock)?;
        let macs = MacTable::new(config.mac_ageing, config.max_macs_per_client);
        let cookies = Cookies::new(config.random.as_ref(), Timings::default().hand_window);
        let limits = StartLimits::new(&config);
        let conns = Conns::new(config.tcp_limits);
        Ok(Self {
            config,
            tls,
            clock,
            peers: Slots::new(),
            seen_revision: shared.revision(),
            shared,
            last_now: now,
            by_addr: HashMap::new(),
            conns,
            candidates: HashMap::new(),
            routes: RouteTable::new(),
            macs,
            log_gate: log_gate::LogGate::new(),
            gate,
            cookies,
            limits,
            handshakes: HashMap::new(),
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

    /// The tables this server shares with others (PPP secrets and profiles, IP pools).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// What a configuration needs checked and built before sessions can use it.
    fn prepare(
        config: &ServerConfig,
        clock: &SessionClock,
    ) -> Result<(crate::wrap::Wrap, Arc<rustls::ServerConfig>), ServerConfigError> {
        if config.ciphers.is_empty() {
            return Err(ServerConfigError::NoCipher);
        }
        if matches!(
            config.protection,
            crate::wrap::ControlProtection::TlsCryptV2 { .. }
        ) {
            return Err(ServerConfigError::ControlKey(
                "a tls-crypt-v2 client key is a client's: a server takes its server key (tls_crypt_v2)".into(),
            ));
        }
        let gate = crate::wrap::Wrap::new(&config.protection, true)
            .map_err(|e| ServerConfigError::ControlKey(e.to_string()))?;
        let tls = server_config(
            config.client_check.clone(),
            &config.identity,
            config.tls_version,
            clock.clone(),
        )?;
        Ok((gate, tls))
    }

    /// Changes the configuration without a restart (`/interface ovpn-server server set`). New
    /// sessions get the new settings (cipher set, keepalive, certificate, pushed routes, ...);
    /// sessions already up keep what they started with. `protocol` and `mode` cannot change
    /// ([`ServerConfigError::NeedsRestart`]); on any error nothing changes.
    pub fn reconfigure(&mut self, config: ServerConfig) -> Result<(), ServerConfigError> {
        if config.transport != self.config.transport {
            return Err(ServerConfigError::NeedsRestart("protocol"));
        }
        if config.mode != self.config.mode {
            return Err(ServerConfigError::NeedsRestart("mode"));
        }
        let (gate, tls) = Self::prepare(&config, &self.clock)?;
        self.conns.limits = config.tcp_limits;
        self.macs.ageing = config.mac_ageing;
        self.macs.max_per_session = config.max_macs_per_client;
        if (
            config.connect_freq_initial,
            config.connect_reply_share,
            config.connect_freq,
            config.connect_freq_per_source,
        ) != (
            self.config.connect_freq_initial,
            self.config.connect_reply_share,
            self.config.connect_freq,
            self.config.connect_freq_per_source,
        ) {
            self.limits = StartLimits::new(&config);
        }
        self.gate = gate;
        self.tls = tls;
        self.config = config;
        Ok(())
    }

    /// Replaces the check of client certificates (new CRLs, another set of CAs) without a
    /// restart, and checks every live session's certificate again with it at `now`: a session
    /// whose certificate the new check refuses (a revoked one) ends at once with
    /// [`DisconnectReason::CertificateRefused`], its client told to restart (and refused at its
    /// next handshake). New sessions use the new check. Returns the sessions ended; on an error
    /// nothing changes.
    pub fn set_client_check(
        &mut self,
        now: Instant,
        check: Option<Arc<dyn crate::verify::PeerCheck>>,
    ) -> Result<Vec<PeerHandle>, ServerConfigError> {
        self.enter(now);
        let mut config = self.config.clone();
        config.client_check = check.clone();
        let (gate, tls) = Self::prepare(&config, &self.clock)?;
        self.gate = gate;
        self.tls = tls;
        self.config = config;
        let Some(check) = check else {
            return Ok(Vec::new());
        };
        let at = rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
            self.clock.unix_at(now),
        ));
        let refused: Vec<(PeerHandle, String, String)> = self
            .peers
            .iter()
            .filter_map(|p| {
                let chain = p.channel.peer_chain()?;
                let (ee, rest) = chain.split_first()?;
                let why = check.check(ee, rest, at).err()?;
                Some((p.handle, p.name.clone(), why.to_string()))
            })
            .collect();
        let mut ended = Vec::with_capacity(refused.len());
        for (peer, name, why) in refused {
            tracing::warn!(target: "ovpn", "{name}: {why}: disconnected");
            if self
                .disconnect(now, peer, DisconnectReason::CertificateRefused(why))
                .is_ok()
            {
                ended.push(peer);
            }
        }
        Ok(ended)
    }

    /// Acts on what changed in the shared tables since last time: a session whose secret was
    /// removed, or that was removed itself, ends. Rare, so it may look at every session.
    fn apply_shared_changes(&mut self, now: Instant) {
        let revision = self.shared.revision();
        if revision == self.seen_revision {
            return;
        }
        self.seen_revision = revision;
        let ending: Vec<(PeerHandle, DisconnectReason)> = {
            let shared = self.shared.lock();
            self.peers
                .iter()
                .filter_map(|p| {
                    if p.session_id.is_some_and(|id| shared.removed.contains(&id)) {
                        return Some((p.handle, DisconnectReason::Removed));
                    }
                    // Removed or disabled (`/ppp secret remove|disable`): the session ends.
                    let secret_gone = p.local_auth
                        && p.grant.is_some()
                        && p.user
                            .as_ref()
                            .is_some_and(|u| shared.ppp.secret(u).is_none_or(|s| s.disabled));
                    secret_gone.then_some((p.handle, DisconnectReason::SecretRemoved))
                })
                .collect()
        };
        for (peer, reason) in ending {
            let _ = self.disconnect(now, peer, reason);
        }
    }

    /// The start of every input: the time, and what changed in the shared tables.
    fn enter(&mut self, now: Instant) {
        self.clock.tick(now);
        self.last_now = self.last_now.max(now);
        self.apply_shared_changes(now);
    }

    /// Whether a datagram from `from` would be handled: a known client, a session start (over
    /// UDP also the packet that completes a stateless one), or a data packet of a client that
    /// moved.
    pub fn accepts(&self, from: SocketAddr, datagram: &[u8]) -> bool {
        let udp = !self.is_tcp();
        self.by_addr.contains_key(&from)
            || ovpn_wire::peek(datagram).is_ok_and(|(op, _)| {
                matches!(op, Opcode::HardResetClientV2 | Opcode::HardResetClientV3)
                    || op == Opcode::DataV2
                    || (udp
                        && matches!(op, Opcode::AckV1 | Opcode::ControlV1 | Opcode::ControlWkcV1))
            })
    }

    /// Takes the bytes one read from the TCP connection of `from` gave, cut anywhere: the library
    /// finds the packets in them (keeping a packet split across reads for the next call) and
    /// handles each as [`Server::handle_datagram`] does, in place in `bytes`. Call
    /// [`ServerStream::next`] until `None`.
    ///
    /// ```text
    /// let n = conn.read(&mut rx)?;
    /// let mut packets = server.handle_stream(now, remote, &mut rx[..n]);
    /// while let Some(r) = packets.next() {
    ///     match r {
    ///         Ok(ServerReceived::Packet { peer, packet }) => tun_of(peer).send(packet),
    ///         Ok(ServerReceived::Consumed) => {}
    ///         Err(DropReason::BrokenStream(_)) => close the connection,
    ///         Err(e) => log it,
    ///     }
    /// }
    /// ```
    pub fn handle_stream<'a>(
        &'a mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a mut [u8],
    ) -> ServerStream<'a> {
        let max = max_frame_len(self.config.max_mtu);
        let decoder = if self.is_tcp() {
            self.conns.take_decoder(now, from, max)
        } else {
            // Refused by the stream (WrongTransport): nothing is kept for it.
            TcpFrameDecoder::with_max_frame_len(max)
        };
        ServerStream::new(self, now, from, Frames::new(bytes, decoder))
    }

    /// TCP: a connection from `remote` was accepted. Past [`TcpLimits`] (connections from that
    /// address, or in all) it is refused ([`DropReason::TooManyConnections`], logged once per
    /// 10 s): close it at once. Its first valid packet must come within
    /// [`TcpLimits::first_packet`], or [`ServerEvent::CloseConnection`] asks to close it.
    pub fn connection_opened(
        &mut self,
        now: Instant,
        remote: SocketAddr,
    ) -> Result<(), DropReason> {
        self.enter(now);
        self.conns.open(now, remote)
    }

    /// TCP: how many connections the server follows.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    pub(crate) fn is_tcp(&self) -> bool {
        self.config.transport == Transport::Tcp
    }

    /// The framing state of `from`'s connection, until its next read; `valid` when the read
    /// held a packet that was taken.
    pub(crate) fn keep_stream(
        &mut self,
        now: Instant,
        from: SocketAddr,
        decoder: TcpFrameDecoder,
        valid: bool,
    ) {
        self.conns.put_decoder(now, from, decoder, valid);
    }

    /// Takes one received datagram from `from` (over TCP, one packet without its length prefix;
    /// [`Server::handle_stream`] finds them in the stream). Decrypts data packets in place.
    pub fn handle_datagram<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
    ) -> Result<ServerReceived<'b>, DropReason> {
        self.enter(now);
        self.receive(now, from, packet, false)
    }

    /// [`Server::handle_datagram`], with `admitted` true when the driver has accepted a new
    /// client ([`Server::accept`]).
    fn receive<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
        admitted: bool,
    ) -> Result<ServerReceived<'b>, DropReason> {
        let (opcode, key_id) = ovpn_wire::peek(packet)?;
        if let Some(idx) = self.session_of(from, opcode, packet) {
            let r = self.handle_for(now, idx, packet, opcode);
            self.process(now, idx);
            if !opcode.is_data() {
                self.touch(idx);
            }
            return r;
        }
        if opcode == Opcode::DataV2 && !self.is_tcp() {
            return self.handle_roaming(now, from, packet);
        }
        if !opcode.is_control() || key_id != KeyId::ZERO {
            return Err(DropReason::UnknownPeer);
        }
        if v2::carries_wkc(opcode) {
            return self.receive_v2(now, from, packet, opcode, admitted);
        }
        let is_reset = opcode == Opcode::HardResetClientV2;
        // With tls-crypt-v2, other clients are served only where configured (`others`).
        if self.config.tls_crypt_v2.as_ref().is_some_and(|c| !c.others) {
            return Err(if is_reset {
                DropReason::BadControlAuth
            } else {
                DropReason::UnknownPeer
            });
        }
        let start = if self.is_tcp() {
            // Over TCP the connection itself proves the address: a stateful start (as 2.6).
            if !is_reset {
                return Err(DropReason::UnknownPeer);
            }
            if !self.gate.authenticates(packet) {
                return Err(DropReason::BadControlAuth);
            }
            Start::Reset
        } else {
            // No state for a session start that does not authenticate (tls-auth/tls-crypt).
            let Some(plain) = self.gate.open_stateless(packet) else {
                return Err(if is_reset {
                    DropReason::BadControlAuth
                } else {
                    DropReason::UnknownPeer
                });
            };
            let unix = self.clock.unix_at(now);
            if is_reset {
                return self.answer_start(now, from, &plain, packet.len(), None);
            }
            match self.cookies.check_third(unix, from, &plain) {
                Ok((client_sid, cookie)) => Start::Cookie { client_sid, cookie },
                Err(NotThird::NotAStart) => return Err(DropReason::UnknownPeer),
                Err(NotThird::BadCookie) => return Err(DropReason::BadCookie),
            }
        };
        self.start(now, from, packet, opcode, admitted, start, None)
    }

    /// A tls-crypt-v2 client's first packet: a `P_CONTROL_HARD_RESET_CLIENT_V3`, or over UDP
    /// the `P_CONTROL_WKC_V1` that completes its stateless start. Nothing is kept, and nothing
    /// answered, unless its wrapped key unwraps under our server key and the packet
    /// authenticates under the client's key; such a client is never read another way.
    fn receive_v2<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
        opcode: Opcode,
        admitted: bool,
    ) -> Result<ServerReceived<'b>, DropReason> {
        let Some(config) = &self.config.tls_crypt_v2 else {
            // As a 2.6 server without `tls-crypt-v2`: such a client cannot be read.
            return Err(DropReason::BadControlAuth);
        };
        let unix = self.clock.unix_at(now);
        let opened = match v2::open(config, unix, packet) {
            Ok(o) => o,
            Err(e) => {
                if let Some(held) = self.log_gate.admit(from.ip(), now) {
                    tracing::warn!(target: "ovpn", "<{from}>: {e}; not answered{}", log_gate::held_note(held));
                }
                return Err(DropReason::BadClientKey);
            }
        };
        let is_reset = opcode == Opcode::HardResetClientV3;
        let start = if self.is_tcp() {
            if !is_reset {
                return Err(DropReason::UnknownPeer);
            }
            Start::Reset
        } else if is_reset && opened.early_neg {
            // Stateless: answer with a cookie and ask for WKc again with the third packet.
            let v2::V2Start {
                mut wrap, plain, ..
            } = opened;
            return self.answer_start(now, from, &plain, packet.len(), Some(&mut wrap));
        } else if is_reset {
            // A client that cannot resend WKc (before 2.6): a stateful start, unless
            // force-cookie refuses it (`mudp.c` `do_pre_decrypt_check`).
            if config.force_cookie {
                if let Some(held) = self.log_gate.admit(from.ip(), now) {
                    tracing::info!(target: "ovpn", "<{from}>: tls-crypt-v2 client without early negotiation refused (force-cookie){}", log_gate::held_note(held));
                }
                return Err(DropReason::CookieRequired);
            }
            Start::Reset
        } else {
            match self.cookies.check_third(unix, from, &opened.plain) {
                Ok((client_sid, cookie)) => Start::Cookie { client_sid, cookie },
                Err(NotThird::NotAStart) => return Err(DropReason::UnknownPeer),
                Err(NotThird::BadCookie) => return Err(DropReason::BadCookie),
            }
        };
        let key = (opened.wrap, opened.metadata);
        self.start(now, from, packet, opcode, admitted, start, Some(key))
    }

    /// The session a packet from `from` belongs to: by address, then by the sender's session id
    /// (a client that restarted, from the same address, starts a new session next to its live
    /// one). `None` for a packet that starts a new session, or comes from an unknown address.
    fn session_of(&self, from: SocketAddr, opcode: Opcode, packet: &[u8]) -> Option<usize> {
        let primary = self.by_addr.get(&from).copied();
        if opcode.is_data() {
            return primary;
        }
        // Too short to name a session: its session drops it.
        let Some(sid) = packet.get(1..9) else {
            return primary;
        };
        let sid_of = |i: usize| {
            self.peers
                .get(i)
                .and_then(|p| p.channel.remote_session_id())
                .map(|r| r.0)
        };
        if let Some(c) = self.candidates.get(&from).copied()
            && sid_of(c).is_some_and(|r| r == sid)
        {
            return Some(c);
        }
        let i = primary?;
        if sid_of(i).is_none_or(|r| r == sid) {
            return Some(i);
        }
        // Another session id from a known address: a new session's start (a reset, or over UDP
        // the packet that completes a stateless start), else the session drops it.
        let starts = matches!(
            opcode,
            Opcode::HardResetClientV2 | Opcode::HardResetClientV3
        ) || (!self.is_tcp()
            && matches!(
                opcode,
                Opcode::AckV1 | Opcode::ControlV1 | Opcode::ControlWkcV1
            ));
        (!starts).then_some(i)
    }

    /// Answers a valid session start (UDP) without keeping anything: a reset whose session id
    /// is a cookie ([`cookie`]), sent once and never retransmitted (`mudp.c`).
    /// `wire_len` is the start's length as received (protection included).
    /// `v2`: a tls-crypt-v2 client's key, which protects the answer, and whose answer asks
    /// for WKc again (early negotiation).
    fn answer_start<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        plain: &[u8],
        wire_len: usize,
        v2: Option<&mut crate::wrap::Wrap>,
    ) -> Result<ServerReceived<'b>, DropReason> {
        if self.peers.live() >= self.config.max_clients {
            self.limits.full(now, self.config.max_clients);
            return Err(DropReason::TooManySessions);
        }
        let client = ControlPacket::parse(plain)?;
        let unix = self.clock.unix_at(now);
        let cookie = self.cookies.issue(unix, from, client.session_id);
        let acks = AckList::from_slice(&[0])?;
        let tlv: &[u8] = if v2.is_some() {
            &crate::early_neg::RESEND_WKC_TLV
        } else {
            &[]
        };
        let reply = ControlPacket::new(Opcode::HardResetServerV2, KeyId::ZERO, cookie, 0, tlv)
            .with_acks(acks, client.session_id);
        // One ack: 26 bytes, and 6 of early negotiation.
        let mut plain_reply = [0u8; 40];
        let n = reply.write(&mut plain_reply)?;
        let plain_reply = &plain_reply[..n];
        let wrap = match v2 {
            Some(w) => w,
            None => &mut self.gate,
        };
        // Counted on the wire: IP and UDP headers too.
        let headers = if from.is_ipv4() { 20 + 8 } else { 40 + 8 };
        let reply_len = n + wrap.overhead() + headers;
        if let Some(b) = &mut self.limits.initial
            && !b.allow(now, wire_len + headers, reply_len)
        {
            return Err(DropReason::StartLimited);
        }
        if let Some(wrapped) = wrap.wrap_standalone(plain_reply, unix as u32) {
            self.out.push_back((from, wrapped));
        }
        Ok(ServerReceived::Consumed)
    }

    /// Whether a new session may start from `from` now (`max-clients`, `connect-freq`, the
    /// per-source limits). Counts it when it may.
    fn may_start(&mut self, now: Instant, from: SocketAddr) -> Result<(), DropReason> {
        if self.peers.live() >= self.config.max_clients {
            self.limits.full(now, self.config.max_clients);
            return Err(DropReason::TooManySessions);
        }
        if let Some(max) = self.config.max_handshakes_per_source
            && self
                .handshakes
                .get(&from.ip())
                .is_some_and(|&n| n as usize >= max)
        {
            if self.log_gate.admit(from.ip(), now).is_some() {
                tracing::warn!(target: "ovpn", "<{from}>: new session refused: {max} handshakes from this address already (max-handshakes-per-source)");
            }
            return Err(DropReason::StartLimited);
        }
        if let Some(p) = &mut self.limits.per_source
            && p.allow(from.ip(), now).0 != Verdict::Pass
        {
            if self.log_gate.admit(from.ip(), now).is_some() {
                tracing::warn!(target: "ovpn", "<{from}>: new session refused: connect-freq-per-source reached");
            }
            return Err(DropReason::StartLimited);
        }
        if let Some(w) = &mut self.limits.made {
            let (verdict, ended) = w.allow(now);
            if let Some(n) = ended {
                tracing::info!(target: "ovpn", "connect-freq: {n} new sessions were refused in the last window");
            }
            if verdict == Verdict::FirstRefusal {
                tracing::warn!(target: "ovpn", "connect-freq reached ({}): new sessions are refused until the window ends", w.limit());
            }
            if verdict != Verdict::Pass {
                return Err(DropReason::StartLimited);
            }
        }
        Ok(())
    }

    /// Makes the session of a session start that passed its checks (or asks the driver first).
    #[allow(clippy::too_many_arguments)]
    fn start<'b>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &'b mut [u8],
        opcode: Opcode,
        admitted: bool,
        start: Start,
        v2: Option<(crate::wrap::Wrap, ovpn_crypto::Metadata)>,
    ) -> Result<ServerReceived<'b>, DropReason> {
        let primary = self.by_addr.get(&from).copied();
        if !admitted {
            self.may_start(now, from)?;
            if self.config.admission == Admission::Ask {
                return Ok(ServerReceived::Incoming(Incoming::new(
                    from,
                    packet,
                    primary.is_some(),
                )));
            }
        }
        let idx = match primary {
            // A new session from the address of a known one: a client that restarted. A live
            // session stays until the new one authenticates (so a forged start cannot end it);
            // a session still in its handshake is simply replaced.
            Some(i) => {
                let live = self
                    .peers
                    .get(i)
                    .is_some_and(|p| p.state == PeerState::Connected);
                if let Some(c) = self.candidates.get(&from).copied() {
                    let why = DisconnectReason::ClosedByPeer(Some("superseded".into()));
                    self.remove_peer(now, c, why, false);
                }
                if live {
                    let c = self.new_peer(now, from, true, start, v2)?;
                    self.candidates.insert(from, c);
                    c
                } else {
                    let why = DisconnectReason::ClosedByPeer(Some("client restarted".into()));
                    self.remove_peer(now, i, why, false);
                    self.new_peer(now, from, false, start, v2)?
                }
            }
            None => self.new_peer(now, from, false, start, v2)?,
        };
        let r = self.handle_for(now, idx, packet, opcode);
        if r.is_err() {
            // A malformed session start leaves nothing behind.
            self.discard(idx);
            return r;
        }
        if matches!(start, Start::Cookie { .. })
            && let Some(w) = &mut self.limits.initial
        {
            // A start that became a session does not count against connect-freq-initial.
            w.give_back();
        }
        self.process(now, idx);
        self.touch(idx);
        r
    }

    /// Admits a new client ([`Admission::Ask`]): its session starts as if its first packet had
    /// just arrived (the client may have retransmitted it meanwhile; that is harmless).
    pub fn accept(&mut self, now: Instant, incoming: Incoming) -> Result<PeerHandle, DropReason> {
        self.enter(now);
        let (from, mut packet) = incoming.into_parts();
        self.receive(now, from, &mut packet, true)?;
        let idx = self
            .candidates
            .get(&from)
            .or_else(|| self.by_addr.get(&from))
            .copied()
            .ok_or(DropReason::UnknownPeer)?;
        self.peers
            .get(idx)
            .map(|p| p.handle)
            .ok_or(DropReason::UnknownPeer)
    }

    /// Refuses a new client ([`Admission::Ask`]): nothing is sent (OpenVPN has no refusal before
    /// TLS), it is logged, and over TCP what its connection sent is forgotten. Close a TCP
    /// connection after this.
    pub fn refuse(&mut self, incoming: Incoming) {
        let from = incoming.remote();
        tracing::info!(target: "ovpn", "<{from}>: new session refused");
        self.conns.forget_decoder(from);
    }

    /// Ignores a new client ([`Admission::Ask`]): as if its packet had never arrived (a UDP
    /// client retransmits it, and asks again).
    pub fn ignore(&mut self, incoming: Incoming) {
        tracing::debug!(target: "ovpn", "<{}>: new session ignored", incoming.remote());
    }

    /// After something happened to session `idx`: it may have packets to send, and its next
    /// deadline may have moved.
    fn touch(&mut self, idx: usize) {
        let Some(p) = self.peers.get_mut(idx) else {
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
        let mode = self.config.mode;
        let peer = self.peers.get_mut(idx).ok_or(DropReason::UnknownPeer)?;
        if opcode.is_data() {
            if peer.state != PeerState::Connected {
                return Err(DropReason::NotReady);
            }
            let Some(r) = peer.channel.open(now, packet)? else {
                return Ok(ServerReceived::Consumed);
            };
            let handle = peer.handle;
            let packet = &mut packet[r];
            return match peer.admit_rx(now, mode, packet) {
                Ok(()) => {
                    self.learn_source(now, idx, packet)?;
                    Ok(ServerReceived::Packet {
                        peer: handle,
                        packet,
                    })
                }
                Err(e) => {
                    if e == DropReason::LimitReached {
                        // The session ends at once: its deadline moved.
                        self.touch(idx);
                    }
                    Err(e)
                }
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
        let Some(peer) = self.peers.get_mut(idx) else {
            return Err(DropReason::UnknownPeer);
        };
        if peer.state != PeerState::Connected || self.config.transport != Transport::Udp {
            return Err(DropReason::UnknownPeer);
        }
        let r = peer.channel.open(now, packet)?;
        let admitted = match &r {
            Some(r) => peer.admit_rx(now, self.config.mode, &mut packet[r.clone()]),
            None => Ok(()),
        };
        let admitted = match (&r, admitted) {
            (Some(r), Ok(())) => self.learn_source(now, idx, &packet[r.clone()]),
            (_, a) => a,
        };
        let Some(peer) = self.peers.get_mut(idx) else {
            return Err(DropReason::UnknownPeer);
        };
        let old = core::mem::replace(&mut peer.remote, from);
        let id = peer.handle;
        self.by_addr.remove(&old);
        self.by_addr.insert(from, idx);
        tracing::info!(target: "ovpn", "{}: client moved from {old} to {from}", peer.name);
        self.events.push_back(ServerEvent::Roamed {
            peer: id,
            from: old,
            to: from,
        });
        // It authenticated, so it moved; what it carried is still checked.
        match r {
            Some(_) if admitted.is_err() => {
                if admitted == Err(DropReason::LimitReached) {
                    self.touch(idx);
                }
                admitted.map(|()| ServerReceived::Consumed)
            }
            Some(r) => Ok(ServerReceived::Packet {
                peer: id,
                packet: &mut packet[r],
            }),
            None => Ok(ServerReceived::Consumed),
        }
    }

    fn new_peer(
        &mut self,
        now: Instant,
        from: SocketAddr,
        candidate: bool,
        start: Start,
        v2: Option<(crate::wrap::Wrap, ovpn_crypto::Metadata)>,
    ) -> Result<usize, DropReason> {
        if self.peers.live() >= self.config.max_clients {
            return Err(DropReason::TooManySessions);
        }
        let Some((idx, handle)) = self.peers.vacant() else {
            return Err(DropReason::TooManySessions);
        };
        let (ping, restart) = match self.config.keepalive_timeout {
            Some(t) => {
                let (p, r) = keepalive(t);
                (Some(p), Some(r))
            }
            None => (None, None),
        };
        let (wrap, metadata) = match v2 {
            Some((wrap, metadata)) => (wrap, Some(metadata)),
            None => (
                crate::wrap::Wrap::new(&self.config.protection, true)
                    .map_err(|_| DropReason::NotReady)?,
                None,
            ),
        };
        let channel = Channel::new(
            now,
            self.clock.clone(),
            Side::Server,
            wrap,
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
        if let Start::Cookie { client_sid, cookie } = start {
            channel
                .resume_from_cookie(now, cookie, client_sid)
                .map_err(|_| DropReason::NotReady)?;
        }
        channel.ping_interval = ping;
        // Until keepalive applies, the handshake itself is bounded by hand-window.
        channel.ping_timeout = restart.map(|r| r.max(Duration::from_secs(60)));
        let mut peer = Peer::new(handle, from, self.config.max_mtu, channel);
        peer.client_key_metadata = metadata;
        tracing::debug!(target: "ovpn", "{}: new session", peer.name);
        self.peers.fill(idx, peer);
        if !candidate {
            self.by_addr.insert(from, idx);
        }
        *self.handshakes.entry(from.ip()).or_default() += 1;
        if self.is_tcp() {
            self.conns.session_started(from);
        }
        Ok(idx)
    }

    /// The answer to [`ServerEvent::AuthRequested`]. A verdict for a session that has ended, or
    /// that is not waiting for one, is an error and changes nothing.
    pub fn auth_verdict(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        verdict: Result<Grant, AuthError>,
    ) -> Result<(), SessionError> {
        self.enter(now);
        let idx = self.peers.find(peer).ok_or(SessionError::Gone)?;
        let Some(p) = self.peers.get_mut(idx) else {
            return Err(SessionError::Gone);
        };
        if p.state != PeerState::Authenticating {
            return Err(SessionError::NotAuthenticating);
        }
        let mut cx = Cx {
            config: &self.config,
            shared: &self.shared,
            events: &mut self.events,
            log_gate: &mut self.log_gate,
        };
        p.finish_auth(now, verdict, &mut cx);
        self.process(now, idx);
        self.touch(idx);
        Ok(())
    }

    /// Seals the packet at `buf[start..start + len]` for `peer` in place (header and crypto
    /// overhead go into the `HEADROOM` bytes before it and the `TAILROOM` after); returns where to
    /// send it and the range to send.
    pub fn encapsulate(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<(SocketAddr, Range<usize>), EncapError> {
        let tcp = self.config.transport == Transport::Tcp;
        let idx = self.peers.find(peer).ok_or(EncapError::UnknownPeer)?;
        let Some(p) = self.peers.get_mut(idx) else {
            return Err(EncapError::UnknownPeer);
        };
        let mtu = self.config.mode.max_packet(p.mtu);
        if len > mtu {
            return Err(EncapError::PacketTooLarge { len, mtu });
        }
        if p.state != PeerState::Connected {
            return Err(EncapError::NotConnected);
        }
        let packet = buf
            .get_mut(start..start + len)
            .ok_or(EncapError::BufferTooSmall { needed: len })?;
        if let Err(e) = p.admit_tx(now, self.config.mode, packet) {
            if e == EncapError::LimitReached {
                self.touch(idx);
            }
            return Err(e);
        }
        let Some(p) = self.peers.get_mut(idx) else {
            return Err(EncapError::UnknownPeer);
        };
        let r = p.channel.seal(now, buf, start, len)?;
        p.channel.traffic.packets_out += 1;
        p.channel.traffic.bytes_out += len as u64;
        let r = if tcp { frame_tcp(buf, r)? } else { r };
        let remote = p.remote;
        // Near packet-id exhaustion the renegotiation is due at once (rare).
        if p.channel.reneg_due() && p.deadline.is_none_or(|d| d > now) {
            self.touch(idx);
        }
        Ok((remote, r))
    }

    /// Which session an inner packet for `destination` goes to: the longest prefix among the
    /// logged-in clients' addresses and their secrets' `routes` (a driver with one shared TUN
    /// calls this for every packet; with one interface per client, the kernel has routed it).
    pub fn route(&self, destination: IpAddr) -> Option<PeerHandle> {
        let idx = self.routes.lookup(destination)?;
        self.peers.get(idx).map(|p| p.handle)
    }

    /// [`Server::route`] for the destination of an inner IPv4 or IPv6 packet (None for
    /// anything else).
    pub fn route_packet(&self, packet: &[u8]) -> Option<PeerHandle> {
        let d = match packet.first()? >> 4 {
            4 => IpAddr::from(<[u8; 4]>::try_from(packet.get(16..20)?).ok()?),
            6 => IpAddr::from(<[u8; 16]>::try_from(packet.get(24..40)?).ok()?),
            _ => return None,
        };
        self.route(d)
    }

    /// Ethernet mode: the source address of a frame from session `idx` is learned (unless
    /// [`Switching::Off`]); a frame from an address another session holds, or beyond
    /// `max_macs_per_client`, is refused.
    fn learn_source(&mut self, now: Instant, idx: usize, frame: &[u8]) -> Result<(), DropReason> {
        if self.config.mode != crate::Mode::Ethernet || self.config.switching == Switching::Off {
            return Ok(());
        }
        let Some(mac) = crate::ether::source(frame) else {
            return Err(DropReason::BadFrame);
        };
        self.macs.learn(mac, idx, now).map_err(|why| {
            let name = self.peers.get(idx).map_or("?", |p| p.name.as_str());
            match why {
                NotLearned::Taken => {
                    tracing::debug!(target: "ovpn", "{name}: frame from {mac}, which another session has");
                }
                NotLearned::Full => {
                    tracing::debug!(target: "ovpn", "{name}: frame from {mac}: max-macs-per-client reached");
                }
            }
            DropReason::MacRefused
        })
    }

    /// Ethernet mode: where a frame goes, by its destination MAC address, coming from a client
    /// (`from`, as [`ServerReceived::Packet`] named it) or from the interface (`None`). With
    /// [`Switching::ClientToClient`]:
    ///
    /// | destination | from a client | from the interface |
    /// |---|---|---|
    /// | broadcast, multicast | `Flood { interface: true }` | `Flood { interface: false }` |
    /// | another client's address | `Peer(it)` | `Peer(it)` |
    /// | the sender's own address | `Drop` | - |
    /// | unknown (or aged out) | `Interface` | `Flood { interface: false }` |
    ///
    /// [`Switching::ViaInterface`] sends every client frame to the `Interface`;
    /// [`Switching::Off`] does too, and floods every frame from the interface. Anything shorter
    /// than an Ethernet header is `Drop`.
    pub fn route_frame(&self, now: Instant, from: Option<PeerHandle>, frame: &[u8]) -> FrameRoute {
        let Some(dst) = crate::ether::destination(frame) else {
            return FrameRoute::Drop;
        };
        let switching = self.config.switching;
        let known = || {
            self.macs
                .lookup(dst, now)
                .and_then(|i| self.peers.get(i))
                .filter(|p| p.state == PeerState::Connected)
                .map(|p| p.handle)
        };
        match from {
            Some(_) if switching != Switching::ClientToClient => FrameRoute::Interface,
            Some(_) if dst.is_group() => FrameRoute::Flood { interface: true },
            Some(sender) => match known() {
                Some(p) if p == sender => FrameRoute::Drop,
                Some(p) => FrameRoute::Peer(p),
                None => FrameRoute::Interface,
            },
            None if switching == Switching::Off || dst.is_group() => {
                FrameRoute::Flood { interface: false }
            }
            None => known().map_or(FrameRoute::Flood { interface: false }, FrameRoute::Peer),
        }
    }

    /// The logged-in clients a flooded frame goes to: all but `except` (the sender).
    pub fn flood_peers(&self, except: Option<PeerHandle>) -> impl Iterator<Item = PeerHandle> + '_ {
        self.peers
            .iter()
            .filter(|p| p.state == PeerState::Connected && p.number.is_some())
            .map(|p| p.handle)
            .filter(move |h| Some(*h) != except)
    }

    /// Timers of the sessions whose deadline has come, and of TCP connections.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.enter(now);
        for (remote, reason) in self.conns.expired(now) {
            tracing::info!(target: "ovpn", "<{remote}>: TCP connection closed: {reason}");
            if let Some(&idx) = self.by_addr.get(&remote)
                && let Some(p) = self.peers.get(idx)
            {
                let id = p.handle;
                let why = DisconnectReason::Protocol(format!("TCP connection closed: {reason}"));
                let _ = self.disconnect(now, id, why);
            }
            self.events
                .push_back(ServerEvent::CloseConnection { remote, reason });
        }
        let due: Vec<usize> = self
            .timers
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, i)| *i)
            .collect();
        for idx in due {
            let Some(p) = self.peers.get_mut(idx) else {
                continue;
            };
            if let PeerState::Refused { until } = p.state {
                if now >= until {
                    let reason = DisconnectReason::AuthFailed("refused".into());
                    self.remove_peer(now, idx, reason, false);
                }
                continue;
            }
            // session-timeout, idle-timeout, a byte limit reached.
            if let Some(reason) = p.expired(now) {
                let handle = p.handle;
                let _ = self.disconnect(now, handle, reason);
                continue;
            }
            p.channel.handle_timeout(now);
            self.process(now, idx);
            self.touch(idx);
        }
    }

    /// The next packet to send, written into `buf` (framed for TCP).
    #[must_use = "a transmit is taken from the queue: send it"]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.enter(now);
        let (destination, p) = match self.out.pop_front() {
            Some(x) => x,
            None => {
                // Round robin over the sessions with something to send, one packet each, so one
                // busy client does not starve the others.
                loop {
                    let &i = self.ready.front()?;
                    let Some(peer) = self.peers.get_mut(i) else {
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
            connect: false,
        })
    }

    /// The next event.
    #[must_use = "an event is taken from the queue: act on it"]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Server::handle_timeout`] should next be called: at once (the latest `now` given)
    /// when the [`Shared`] tables changed since this server last looked.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shared.revision() != self.seen_revision {
            return Some(self.last_now);
        }
        let session = self.timers.first().map(|(t, _)| *t);
        match (session, self.conns.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ends a session (`/interface ovpn-server remove`, or a TCP connection that closed). A
    /// session that has already ended is an error and changes nothing.
    pub fn disconnect(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        reason: DisconnectReason,
    ) -> Result<(), SessionError> {
        let idx = self.peers.find(peer).ok_or(SessionError::Gone)?;
        let Some(p) = self.peers.get_mut(idx) else {
            return Err(SessionError::Gone);
        };
        // Every OpenVPN 2.x client acts on RESTART (push.c `server_pushed_signal`).
        if p.state == PeerState::Connected {
            p.channel.send_message("RESTART");
            while let Some(pkt) = p.channel.poll_transmit(now) {
                self.out.push_back((p.remote, pkt));
            }
        }
        self.remove_peer(now, idx, reason, true);
        Ok(())
    }

    /// Stops the server: every client is told (RESTART, so it reconnects later) and every session
    /// ends. Drain [`Server::poll_transmit`] afterwards to send the notices.
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<PeerHandle> = self.peers.iter().map(|p| p.handle).collect();
        for id in ids {
            let _ = self.disconnect(now, id, DisconnectReason::LocallyClosed);
        }
    }

    /// A TCP connection from `from` ended: its session ends, and what was left of its stream is
    /// forgotten.
    pub fn connection_closed(&mut self, now: Instant, from: SocketAddr) {
        self.conns.close(from);
        if let Some(&idx) = self.by_addr.get(&from)
            && let Some(p) = self.peers.get(idx)
        {
            let id = p.handle;
            let _ = self.disconnect(now, id, DisconnectReason::ClosedByPeer(None));
        }
    }

    /// The session table.
    pub fn sessions(&self, now: Instant) -> Vec<SessionInfo> {
        self.peers.iter().map(|p| p.info(now)).collect()
    }

    /// Lets session `idx` handle what its channel reported, and does what it asks.
    fn process(&mut self, now: Instant, idx: usize) {
        loop {
            let Some(p) = self.peers.get_mut(idx) else {
                return;
            };
            let mut cx = Cx {
                config: &self.config,
                shared: &self.shared,
                events: &mut self.events,
                log_gate: &mut self.log_gate,
            };
            match p.process(now, &mut cx) {
                Step::Idle => return,
                Step::Remove { reason, log } => {
                    self.remove_peer(now, idx, reason, log);
                    return;
                }
                Step::Connected => self.connected(now, idx),
            }
        }
    }

    /// Session `idx` logged in: it replaces the session it was built next to, gets its
    /// `ovpn-incomingN` (only now, so that sessions that never log in use no name), its address
    /// routes to it, and the driver hears of it.
    fn connected(&mut self, now: Instant, idx: usize) {
        let Some(p) = self.peers.get_mut(idx) else {
            return;
        };
        p.start_keepalive(&self.config);
        let remote = p.remote;
        self.handshake_done(remote);
        // A replacement session authenticated: the one it replaces ends now (and its number is
        // free for the new one).
        if self.candidates.get(&remote) == Some(&idx) {
            self.candidates.remove(&remote);
            if let Some(old) = self.by_addr.insert(remote, idx)
                && old != idx
            {
                self.remove_peer(
                    now,
                    old,
                    DisconnectReason::ClosedByPeer(Some("replaced by a new session".into())),
                    true,
                );
            }
        }
        let Some(p) = self.peers.get_mut(idx) else {
            return;
        };
        let (number, session_id) = self
            .shared
            .lock()
            .open_session(p.user.as_deref().unwrap_or_default());
        p.set_number(number, session_id);
        let Some(p) = self.peers.get(idx) else {
            return;
        };
        for net in p.nets() {
            if let Err(owner) = self.routes.insert(net, idx) {
                let other = self.peers.get(owner).map_or("?", |o| o.name.as_str());
                tracing::warn!(target: "ovpn", "{}: {net} is routed to {other} already", p.name);
            }
        }
        self.events.push_back(p.connected_event(now));
    }

    /// Forgets a session that never got going (a malformed start), without an event.
    fn discard(&mut self, idx: usize) {
        if let Some(p) = self.peers.remove(idx) {
            if self.by_addr.get(&p.remote) == Some(&idx) {
                self.by_addr.remove(&p.remote);
            }
            if self.candidates.get(&p.remote) == Some(&idx) {
                self.candidates.remove(&p.remote);
            }
            self.handshake_done(p.remote);
        }
    }

    /// A session from `remote` left its handshake (logged in, or ended before).
    fn handshake_done(&mut self, remote: SocketAddr) {
        if let Some(n) = self.handshakes.get_mut(&remote.ip()) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.handshakes.remove(&remote.ip());
            }
        }
    }

    fn remove_peer(&mut self, now: Instant, idx: usize, reason: DisconnectReason, log: bool) {
        let Some(p) = self.peers.remove(idx) else {
            return;
        };
        let mut shared = self.shared.lock();
        if let (Some(n), Some(id)) = (p.number, p.session_id) {
            shared.close_session(p.user.as_deref().unwrap_or_default(), n, id);
        }
        for lease in [&p.lease, &p.local_lease].into_iter().flatten() {
            if let Err(e) = shared.pools.release(lease.address) {
                tracing::warn!(target: "ovpn", "{}: releasing {}: {e}", p.name, lease.address);
            }
        }
        if let Some(lease) = &p.lease6
            && let Err(e) = shared.pools6.release(lease.address)
        {
            tracing::warn!(target: "ovpn", "{}: releasing {}: {e}", p.name, lease.address);
        }
        drop(shared);
        if let Some(d) = p.deadline {
            self.timers.remove(&(d, idx));
        }
        if p.connected_at.is_none() {
            self.handshake_done(p.remote);
        }
        if self.by_addr.get(&p.remote) == Some(&idx) {
            self.by_addr.remove(&p.remote);
        }
        if self.candidates.get(&p.remote) == Some(&idx) {
            self.candidates.remove(&p.remote);
        }
        if self.is_tcp()
            && !self.by_addr.contains_key(&p.remote)
            && !self.candidates.contains_key(&p.remote)
        {
            self.conns.session_ended(now, p.remote);
        }
        self.macs.forget(idx);
        if p.number.is_some() {
            for net in p.nets() {
                self.routes.remove(net, idx);
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
            peer: p.handle,
            session: Box::new(p.info(now)),
            reason,
        });
    }
}

/// How a new session starts.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// From the client's reset, kept as state at once (TCP).
    Reset,
    /// From the third packet of a stateless start (UDP): the client echoed our `cookie`.
    Cookie {
        client_sid: SessionId,
        cookie: SessionId,
    },
}

/// The limits on answering session starts and making sessions, with their windows.
#[derive(Debug)]
struct StartLimits {
    /// `connect-freq-initial` and `connect-reply-share`.
    initial: Option<ReplyBudget>,
    /// `connect-freq`.
    made: Option<Window>,
    /// `connect-freq-per-source`.
    per_source: Option<PerSource>,
    /// The lines saying `max-clients` refused a start: one per 10 s.
    full_log: Window,
}

impl StartLimits {
    fn new(config: &ServerConfig) -> Self {
        Self {
            initial: config
                .connect_freq_initial
                .map(|f| ReplyBudget::new(f, config.connect_reply_share)),
            made: config.connect_freq.map(Window::new),
            per_source: config.connect_freq_per_source.map(PerSource::new),
            full_log: Window::new(RateLimit::new(1, log_gate::INTERVAL)),
        }
    }

    /// A start refused because `max-clients` sessions exist: logged once per interval, with
    /// how many were refused since.
    fn full(&mut self, now: Instant, max: usize) {
        if let (Verdict::Pass, held) = self.full_log.allow(now) {
            let more = held.map_or(String::new(), |n| {
                format!(" ({n} more since the last line)")
            });
            tracing::warn!(target: "ovpn", "new session refused: max-clients ({max}) reached{more}");
        }
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
    /// A packet of this read was taken (the connection proved itself).
    valid: bool,
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
            valid: false,
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
        let valid = &mut self.valid;
        self.frames.next_with(server.is_tcp(), |f| {
            let r = server.handle_datagram(now, from, f);
            *valid |= r.is_ok();
            r
        })
    }
}

impl Drop for ServerStream<'_> {
    fn drop(&mut self) {
        while self.next().is_some() {}
        if self.server.is_tcp() {
            let decoder = self.frames.take_decoder();
            self.server
                .keep_stream(self.now, self.from, decoder, self.valid);
        }
    }
}
