//! One client's session on the server: its control channel, then authentication, addressing and
//! the push. The endpoint (`mod.rs`) owns the peers and moves datagrams, timers and events between
//! them and the driver; a peer tells it what to do next with a [`Step`].

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ovpn_pool::{Lease, PoolSet};
use ovpn_ppp::{AuthError, AuthRequest, Grant};
use ovpn_wire::KeyId;

use super::config::{AuthMode, ServerConfig};
use super::event::{ServerEvent, SessionInfo};
use super::limits::{Limits, Refusal};
use super::shared::Shared;
use super::slots::PeerHandle;
use crate::channel::{Channel, ChannelEvent, DataParams};
use crate::compress::Framing;
use crate::config::Mode;
use crate::config::keepalive;
use crate::control::{ControlMessage, push_reply_messages};
use crate::error::{DisconnectReason, DropReason, EncapError};
use crate::km2::KeyMethod2;
use crate::negotiate::{self, encoding};
use crate::peer_info::{PeerInfo, iv_proto};
use crate::push::{PushOptions, Route, Topology};

/// After refusing a client (AUTH_FAILED), keep its session this long so the message arrives
/// (push.c: the instance exits 5 s after AUTH_FAILED).
pub(super) const REFUSED_LINGER: Duration = Duration::from_secs(5);

/// Where a session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PeerState {
    /// TLS and the key exchange.
    Handshake,
    /// Waiting for the credentials' verdict.
    Authenticating,
    /// Logged in, data flows.
    Connected,
    /// Refused: lingers until then to deliver AUTH_FAILED.
    Refused { until: Instant },
}

/// What the endpoint must do after a peer handled something.
#[derive(Debug)]
pub(super) enum Step {
    /// Nothing more.
    Idle,
    /// The session logged in and has its keys: name it, announce it, then call again.
    Connected,
    /// The session is over.
    Remove {
        /// Why.
        reason: DisconnectReason,
        /// Log the end even if it never logged in.
        log: bool,
    },
}

/// What a peer may use of the endpoint while it handles something.
pub(super) struct Cx<'a> {
    pub(super) config: &'a ServerConfig,
    /// The tables shared with other servers, locked only when a login needs them.
    pub(super) shared: &'a Shared,
    pub(super) events: &'a mut VecDeque<ServerEvent>,
    /// Failed session starts are logged at most once per source per interval.
    pub(super) log_gate: &'a mut super::log_gate::LogGate,
}

#[derive(Debug)]
pub(super) struct Peer {
    pub(super) handle: PeerHandle,
    /// The `N` of `ovpn-incomingN`, from login on.
    pub(super) number: Option<u32>,
    /// `ovpn-incomingN` from login on; before it, the client's address, for logs.
    pub(super) name: String,
    pub(super) remote: SocketAddr,
    pub(super) mtu: u16,
    pub(super) channel: Channel,
    pub(super) state: PeerState,
    peer_info: PeerInfo,
    params: Option<DataParams>,
    pub(super) user: Option<String>,
    /// Logged in against the shared secrets ([`AuthMode::Local`]): it ends if its secret goes.
    pub(super) local_auth: bool,
    /// The client has a compression framing configured (`comp-lzo` in its options string).
    client_frames: bool,
    /// Logged in by its certificate alone (`require-user-password=no`).
    certificate_only: bool,
    password: Option<ovpn_ppp::Password>,
    pub(super) lease: Option<Lease>,
    pub(super) local_lease: Option<Lease>,
    local_address: Option<Ipv4Addr>,
    pub(super) grant: Option<Grant>,
    push: Option<Vec<String>>,
    push_sent: bool,
    wants_push: bool,
    keys_ready: bool,
    pub(super) connected_at: Option<Instant>,
    /// The common name of its verified certificate.
    common_name: Option<String>,
    /// `/ppp active`'s session-id, from login on.
    pub(super) session_id: Option<u32>,
    /// The networks of its secret's `routes` and `ipv6-routes`, and an IPv6 prefix delegated to
    /// it (besides its addresses, what it may send from).
    pub(super) routes: Vec<IpNet>,
    /// Its IPv6 lease from an `/ipv6 pool` (IPv6 inside the tunnel).
    pub(super) lease6: Option<Lease>,
    /// Its IPv6 tunnel address.
    pub(super) address6: Option<Ipv6Addr>,
    /// What its login's settings enforce, from login on.
    pub(super) limits: Option<Limits>,
    /// In the endpoint's ready queue.
    pub(super) queued: bool,
    /// Its entry in the endpoint's timer set.
    pub(super) deadline: Option<Instant>,
    /// The metadata of its tls-crypt-v2 key, handed to the authenticator.
    pub(super) client_key_metadata: Option<ovpn_crypto::Metadata>,
}

impl Peer {
    pub(super) fn new(handle: PeerHandle, remote: SocketAddr, mtu: u16, channel: Channel) -> Self {
        Self {
            handle,
            number: None,
            name: format!("<{remote}>"),
            remote,
            mtu,
            channel,
            state: PeerState::Handshake,
            peer_info: PeerInfo::default(),
            params: None,
            user: None,
            local_auth: false,
            client_frames: false,
            certificate_only: false,
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
            common_name: None,
            session_id: None,
            routes: Vec::new(),
            lease6: None,
            address6: None,
            limits: None,
            queued: false,
            deadline: None,
            client_key_metadata: None,
        }
    }

    /// The tunnel address given to the client.
    pub(super) fn address(&self) -> Option<Ipv4Addr> {
        match self.lease.as_ref()?.address {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// When the endpoint should next wake this session.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            PeerState::Refused { until } => Some(until),
            _ => {
                let limits = self.limits.as_ref().and_then(Limits::deadline);
                [self.channel.poll_timeout(), limits]
                    .into_iter()
                    .flatten()
                    .min()
            }
        }
    }

    /// A data packet from the client opened: what the policy says before it is delivered (its
    /// source, its rate and byte limits), and its MSS clamped if it is a TCP SYN.
    pub(super) fn admit_rx(
        &mut self,
        now: Instant,
        mode: Mode,
        packet: &mut [u8],
    ) -> Result<(), DropReason> {
        if mode == Mode::Ethernet {
            let valid = crate::ether::source(packet).is_some_and(|s| !s.is_group() && !s.is_zero());
            if !valid {
                return Err(DropReason::BadFrame);
            }
        } else if !self.source_allowed(packet) {
            return Err(DropReason::SourceNotAllowed);
        }
        if let Some(l) = &mut self.limits {
            l.on_rx(now, packet.len(), self.channel.traffic.bytes_in)
                .map_err(|r| match r {
                    Refusal::RateLimited => DropReason::RateLimited,
                    Refusal::LimitReached => DropReason::LimitReached,
                })?;
            if let Some(mtu) = l.clamp_mss {
                clamp_mss(mode, packet, mtu);
            }
        }
        Ok(())
    }

    /// A packet for the client, before it is sealed: its rate and byte limits, and its MSS.
    pub(super) fn admit_tx(
        &mut self,
        now: Instant,
        mode: Mode,
        packet: &mut [u8],
    ) -> Result<(), EncapError> {
        if let Some(l) = &mut self.limits {
            l.on_tx(now, packet.len(), self.channel.traffic.bytes_out)
                .map_err(|r| match r {
                    Refusal::RateLimited => EncapError::RateLimited,
                    Refusal::LimitReached => EncapError::LimitReached,
                })?;
            if let Some(mtu) = l.clamp_mss {
                clamp_mss(mode, packet, mtu);
            }
        }
        Ok(())
    }

    /// Why the session must end now by its login's limits, if it must.
    pub(super) fn expired(&self, now: Instant) -> Option<DisconnectReason> {
        self.limits.as_ref()?.expired(now)
    }

    /// Handles what the control channel reported, until it has nothing more or the endpoint must
    /// act.
    pub(super) fn process(&mut self, now: Instant, cx: &mut Cx<'_>) -> Step {
        if self.keys_ready && self.grant.is_some() && self.state == PeerState::Authenticating {
            return self.logged_in(now);
        }
        while let Some(ev) = self.channel.poll_event() {
            match ev {
                ChannelEvent::TlsEstablished {
                    key_id,
                    description,
                    common_name,
                } => {
                    tracing::debug!(target: "ovpn", "{}: control channel (key {}) {description}", self.name, key_id.get());
                    if key_id == KeyId::ZERO {
                        self.common_name = common_name;
                    }
                }
                ChannelEvent::PeerKeyMethod { key_id, km2 } => {
                    if key_id == KeyId::ZERO {
                        self.first_key_method(now, km2, cx);
                    } else if let Some(reason) = self.renegotiation_refusal(&km2) {
                        tracing::warn!(target: "ovpn", "{}: {reason}", self.name);
                        return Step::Remove {
                            reason: DisconnectReason::AuthFailed(reason),
                            log: true,
                        };
                    } else {
                        let options = occ(cx.config, self.params);
                        self.channel.send_key_method(now, key_id, &options);
                    }
                }
                ChannelEvent::Message(m) => match ControlMessage::parse(&m) {
                    ControlMessage::PushRequest => {
                        self.wants_push = true;
                        self.send_push();
                    }
                    ControlMessage::Exit => {
                        return Step::Remove {
                            reason: DisconnectReason::ClosedByPeer(None),
                            log: true,
                        };
                    }
                    other => {
                        tracing::debug!(target: "ovpn", "{}: ignored control message {other}", self.name);
                    }
                },
                ChannelEvent::KeysInstalled { key_id } => {
                    if key_id == KeyId::ZERO {
                        self.keys_ready = true;
                        if self.grant.is_some() && self.state == PeerState::Authenticating {
                            return self.logged_in(now);
                        }
                    }
                }
                ChannelEvent::OccExit => {
                    return Step::Remove {
                        reason: DisconnectReason::ClosedByPeer(None),
                        log: true,
                    };
                }
                ChannelEvent::Failed(reason) => {
                    // Before login, a flood of failing starts logs once per source and interval.
                    let held = if self.state == PeerState::Connected {
                        Some(0)
                    } else {
                        cx.log_gate.admit(self.remote.ip(), now)
                    };
                    if let Some(held) = held {
                        tracing::info!(target: "ovpn", "{}: {reason}{}", self.name, super::log_gate::held_note(held));
                    }
                    return Step::Remove { reason, log: false };
                }
            }
        }
        Step::Idle
    }

    fn logged_in(&mut self, now: Instant) -> Step {
        self.state = PeerState::Connected;
        self.connected_at = Some(now);
        self.limits = self.grant.as_ref().map(|g| Limits::new(now, g, self.mtu));
        Step::Connected
    }

    /// On a renegotiation the client must present the same credentials it logged in with.
    fn renegotiation_refusal(&self, km2: &KeyMethod2) -> Option<String> {
        if self.certificate_only {
            // It logged in without a password: it must not bring one now.
            let same = km2.username.is_empty() && km2.password.is_empty();
            return (!same).then(|| "login incorrect (renegotiation)".to_owned());
        }
        let same_user = self.user.as_deref() == Some(km2.username.as_str());
        let same_pass = self
            .password
            .as_ref()
            .is_some_and(|pw| pw.ct_eq(&ovpn_ppp::Password::new(km2.password.as_str())));
        (!(same_user && same_pass)).then(|| "login incorrect (renegotiation)".to_owned())
    }

    /// The client's first key-method-2 record: negotiate the cipher, then authenticate.
    fn first_key_method(&mut self, now: Instant, km2: Box<KeyMethod2>, cx: &mut Cx<'_>) {
        self.peer_info = PeerInfo::parse(&km2.peer_info);
        self.client_frames = km2.options.split(',').any(|o| o == "comp-lzo");
        // A client that speaks P_DATA_V2 gets it from us too, with its peer-id (multi.c).
        if self.peer_info.has(iv_proto::DATA_V2) {
            self.channel.tx_peer_id = Some(self.handle.peer_id());
        }
        if !self.peer_info.all.is_empty() {
            tracing::debug!(target: "ovpn", "{}: peer info {:?}", self.name, self.peer_info.all);
        }
        // What the session needs of it is parsed; the raw lines were for the log.
        self.peer_info.all = Vec::new();
        let negotiated = negotiate::server_choice(
            &cx.config.ciphers,
            &cx.config.auths,
            &self.peer_info,
            &km2.options,
        );
        // Our record goes out whatever the outcome, as OpenVPN's does: a refusal follows as
        // AUTH_FAILED.
        let options = occ(cx.config, negotiated.as_ref().ok().copied());
        self.channel.send_key_method(now, KeyId::ZERO, &options);
        if let Err(reason) = negotiate::check_mode(cx.config.mode, &km2.options) {
            tracing::warn!(target: "ovpn", "{}: {reason}", self.name);
            self.refuse(now, reason, cx);
            return;
        }
        match negotiated {
            Ok(params) => self.params = Some(params),
            Err(reason) => {
                tracing::warn!(target: "ovpn", "{}: {reason}", self.name);
                self.refuse(now, DisconnectReason::NoEncryption(reason), cx);
                return;
            }
        }
        let caller = self.remote.ip().to_string();
        let no_password = km2.username.is_empty() && km2.password.is_empty();
        let request = if no_password && !cx.config.require_user_password {
            // require-user-password=no: the verified certificate's common name is the user.
            let Some(cn) = self.common_name.clone() else {
                let why = "login incorrect: no user name and no client certificate";
                self.refuse(now, DisconnectReason::AuthFailed(why.into()), cx);
                return;
            };
            self.certificate_only = true;
            AuthRequest::certificate(cn, ovpn_ppp::Service::Ovpn, caller)
        } else {
            if no_password {
                tracing::info!(target: "ovpn", "{}: the client sent no user name and password (require-user-password=yes)", self.name);
            }
            self.password = Some(ovpn_ppp::Password::new(km2.password.as_str()));
            AuthRequest::new(
                km2.username.clone(),
                km2.password.as_str(),
                ovpn_ppp::Service::Ovpn,
                caller,
            )
        };
        let user = request.user.clone();
        let active = cx.shared.lock().users.get(&user).copied().unwrap_or(0);
        let request = request
            .with_active_sessions(active)
            .with_client_key_metadata(
                self.client_key_metadata
                    .as_ref()
                    .map(|m| m.as_bytes().to_vec()),
            );
        self.user = Some(user);
        self.state = PeerState::Authenticating;
        match &cx.config.auth {
            AuthMode::Local => {
                self.local_auth = true;
                let verdict = cx
                    .shared
                    .lock()
                    .ppp
                    .authenticate_under(&request, &cx.config.default_profile);
                self.finish_auth(now, verdict, cx);
            }
            AuthMode::Inline(a) => {
                let verdict = a.authenticate(&request);
                self.finish_auth(now, verdict, cx);
            }
            AuthMode::Deferred => cx.events.push_back(ServerEvent::AuthRequested {
                peer: self.handle,
                request,
            }),
        }
    }

    /// Refuses the client: AUTH_FAILED goes out, what it held is released at once, and the
    /// session lingers only to deliver the message.
    fn refuse(&mut self, now: Instant, reason: DisconnectReason, cx: &mut Cx<'_>) {
        self.channel.send_message(&format!("AUTH_FAILED,{reason}"));
        self.state = PeerState::Refused {
            until: now + REFUSED_LINGER,
        };
        if let Some(held) = cx.log_gate.admit(self.remote.ip(), now) {
            let more = super::log_gate::held_note(held);
            match self.user.as_deref() {
                Some(u) if !u.is_empty() => {
                    tracing::info!(target: "ppp", "{u}: login failed: {reason}{more}");
                }
                _ => {
                    tracing::info!(target: "ppp", "{}: login failed: {reason} (the client sent no user name){more}", self.name);
                }
            }
        }
        let mut shared = cx.shared.lock();
        for lease in [self.lease.take(), self.local_lease.take()]
            .into_iter()
            .flatten()
        {
            let _ = shared.pools.release(lease.address);
        }
        if let Some(lease) = self.lease6.take() {
            let _ = shared.pools6.release(lease.address);
        }
        drop(shared);
        cx.events.push_back(ServerEvent::Disconnected {
            peer: self.handle,
            session: Box::new(self.info(now)),
            reason,
        });
    }

    /// The verdict on the credentials: addresses, then the push.
    pub(super) fn finish_auth(
        &mut self,
        now: Instant,
        verdict: Result<Grant, AuthError>,
        cx: &mut Cx<'_>,
    ) {
        let grant = match verdict {
            Ok(g) => g,
            Err(e) => {
                self.refuse(now, DisconnectReason::Auth(e), cx);
                return;
            }
        };
        // use-encryption=required refuses the null cipher (ppp: `no encryption`).
        if grant.use_encryption == ovpn_ppp::UseEncryption::Required
            && self
                .params
                .is_some_and(|p| p.cipher == ovpn_crypto::Cipher::None)
        {
            let why = "no encryption: the profile says use-encryption=required and the data cipher is none";
            tracing::warn!(target: "ovpn", "{}: {why}", self.name);
            self.refuse(now, DisconnectReason::NoEncryption(why.into()), cx);
            return;
        }
        let fixed_local = match grant.local_address {
            Some(ovpn_ppp::AddressSpec::Address(a)) => Some(a),
            _ => None,
        };
        // In ethernet mode a client may come without an address (a bridged one takes its own,
        // by DHCP over the bridge, say): nothing is pushed for it.
        let bridged_only = cx.config.mode == Mode::Ethernet && grant.remote_address.is_none();
        let mut v4 = None;
        if bridged_only {
            self.local_address = fixed_local;
        } else {
            let (lease, address, local) = match self.acquire_addresses(&grant, cx.shared) {
                Ok(l) => l,
                Err(reason) => {
                    self.refuse(now, reason, cx);
                    return;
                }
            };
            let local_address = match local.as_ref().map(|l| l.address) {
                Some(IpAddr::V4(a)) => a,
                _ if fixed_local.is_some() => fixed_local.unwrap_or(Ipv4Addr::UNSPECIFIED),
                // Without a local-address, the first address of the client's /netmask subnet.
                _ => subnet_gateway(address, cx.config.netmask),
            };
            self.lease = Some(lease);
            self.local_lease = local;
            self.local_address = Some(local_address);
            v4 = Some((address, local_address));
        }
        let delegated = match self.acquire_ipv6(&grant, cx) {
            Ok(d) => d,
            Err(reason) => {
                self.refuse(now, reason, cx);
                return;
            }
        };
        self.push = Some(self.push_options(cx.config, &grant, v4));
        self.routes = grant
            .routes
            .iter()
            .chain(&grant.ipv6_routes)
            .map(|r| r.dst.trunc())
            .chain(delegated.map(IpNet::V6))
            .collect();
        self.grant = Some(grant);
        // A client with compression framing configured gets one pushed that it understands
        // (stub-v2 where it can, else comp-lzo's): nothing is compressed either way.
        let framing = match (self.client_frames, self.peer_info.comp_stub_v2) {
            (false, _) => Framing::None,
            (true, true) => Framing::V2,
            (true, false) => Framing::Lzo,
        };
        if framing != Framing::None {
            tracing::info!(target: "ovpn", "{}: the client frames for compression: pushing {}", self.name, framing.name());
        }
        self.channel.framing = framing;
        self.channel.recognise_framing = cx.config.mode == Mode::Ip;
        if let Some(params) = self.params {
            self.channel.set_data_params(now, params);
        }
        // A 2.6 client (IV_PROTO bit 2) takes the reply without asking.
        if self.peer_info.has(iv_proto::REQUEST_PUSH) {
            self.wants_push = true;
        }
        self.send_push();
    }

    /// With IPv6 inside the tunnel (`enable-tun-ipv6`), the client's IPv6 address: from its
    /// secret's `remote-ipv6-prefix`, else from its profile's `remote-ipv6-prefix-pool`. A lease
    /// of a whole prefix (shorter than /128) gives the client its first address, and the prefix
    /// is returned to be routed to it. A login that names neither stays IPv4 only.
    fn acquire_ipv6(
        &mut self,
        grant: &Grant,
        cx: &mut Cx<'_>,
    ) -> Result<Option<Ipv6Net>, DisconnectReason> {
        if cx.config.ipv6.is_none() {
            return Ok(None);
        }
        let net = match (&grant.remote_ipv6_prefix, &grant.remote_ipv6_prefix_pool) {
            (Some(fixed), _) => *fixed,
            (None, Some(pool)) => {
                let user = self.user.as_deref().unwrap_or_default();
                let mut shared = cx.shared.lock();
                // Our own `tun-server-ipv6` and the subnet-router anycast address of its
                // prefix (RFC 4291 2.6.1) are never a client's: the server holds them in any
                // pool that has them (it stays so; an address in no pool is left alone).
                if let Some(v6) = cx.config.ipv6 {
                    let anycast = Ipv6Net::new(v6.server, v6.prefix_len)
                        .map(|n| n.network())
                        .unwrap_or(v6.server);
                    for a in [v6.server, anycast] {
                        let _ = shared
                            .pools6
                            .acquire_address(IpAddr::V6(a), "tun-server-ipv6");
                    }
                }
                let lease = shared
                    .pools6
                    .acquire(pool, user)
                    .map_err(DisconnectReason::Address)?;
                drop(shared);
                let IpNet::V6(net) = lease.network() else {
                    return Err(DisconnectReason::Protocol(format!(
                        "/ipv6 pool {pool} gave an IPv4 lease"
                    )));
                };
                self.lease6 = Some(lease);
                net
            }
            (None, None) => {
                tracing::info!(target: "ovpn", "{}: no remote-ipv6-prefix-pool or remote-ipv6-prefix: IPv4 only", self.name);
                return Ok(None);
            }
        };
        let net = net.trunc();
        if net.prefix_len() == 128 {
            self.address6 = Some(net.addr());
            Ok(None)
        } else {
            self.address6 = Some(Ipv6Addr::from(u128::from(net.addr()) | 1));
            Ok(Some(net))
        }
    }

    /// The client's address from its remote-address (pool or fixed), and ours from a pooled
    /// local-address (a fixed local-address is shared by every session, as on RouterOS). All or
    /// nothing: on an error nothing stays taken.
    fn acquire_addresses(
        &self,
        grant: &Grant,
        shared: &Shared,
    ) -> Result<(Lease, Ipv4Addr, Option<Lease>), DisconnectReason> {
        let user = self.user.as_deref().unwrap_or_default();
        let mut shared = shared.lock();
        let pools = &mut shared.pools;
        let lease = acquire(pools, grant.remote_address.as_ref(), user)
            .map_err(DisconnectReason::Address)?;
        let local = match grant.local_address.as_ref() {
            Some(spec @ ovpn_ppp::AddressSpec::Pool(_)) => acquire(pools, Some(spec), user),
            _ => Ok(None),
        };
        let why = match (&lease, &local) {
            (Some(l), Ok(_)) if l.address.is_ipv4() => None,
            (_, Err(e)) => Some(DisconnectReason::Address(e.clone())),
            _ => Some(DisconnectReason::NoRemoteAddress),
        };
        let local = local.ok().flatten();
        match (why, lease) {
            (
                None,
                Some(
                    lease @ Lease {
                        address: IpAddr::V4(a),
                        ..
                    },
                ),
            ) => Ok((lease, a, local)),
            (why, lease) => {
                for l in [lease, local].into_iter().flatten() {
                    let _ = pools.release(l.address);
                }
                Err(why.unwrap_or(DisconnectReason::NoRemoteAddress))
            }
        }
    }

    fn send_push(&mut self) {
        if !self.wants_push || self.push_sent {
            return;
        }
        // Sent once: the items are not kept.
        let Some(items) = self.push.take() else {
            return;
        };
        for m in push_reply_messages(&items) {
            self.channel.send_message(&m);
        }
        self.push_sent = true;
    }

    /// Names the session `ovpn-incomingN` and gives it its session-id (at login).
    pub(super) fn set_number(&mut self, number: u32, session_id: u32) {
        self.number = Some(number);
        self.name = format!("ovpn-incoming{number}");
        self.session_id = Some(session_id);
    }

    /// Whether the client may send this IP packet (ip mode): from one of its own addresses, or
    /// from inside its secret's `routes` or `ipv6-routes` or its delegated prefix (OpenVPN's
    /// `iroute` check). In ethernet mode the server's switch checks source MAC addresses
    /// instead.
    pub(super) fn source_allowed(&self, packet: &[u8]) -> bool {
        let src = match packet.first().map(|b| b >> 4) {
            Some(4) => packet
                .get(12..16)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(IpAddr::from),
            Some(6) => packet
                .get(8..24)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
                .map(IpAddr::from),
            _ => None,
        };
        let Some(src) = src else {
            return false;
        };
        let own = match src {
            IpAddr::V4(a) => self.address() == Some(a),
            IpAddr::V6(a) => self.address6 == Some(a),
        };
        own || self.routes.iter().any(|n| n.contains(&src))
    }

    /// Every network routed to this session: its addresses (/32, /128) and its routes.
    pub(super) fn nets(&self) -> impl Iterator<Item = IpNet> + '_ {
        let v4 = self.address().map(|a| IpNet::from(IpAddr::V4(a)));
        let v6 = self.address6.map(|a| IpNet::from(IpAddr::V6(a)));
        v4.into_iter().chain(v6).chain(self.routes.iter().copied())
    }

    /// Keepalive applies from login on; before it, hand-window bounds the handshake.
    pub(super) fn start_keepalive(&mut self, config: &ServerConfig) {
        if let Some(t) = config.keepalive_timeout {
            let (_, restart) = keepalive(t);
            self.channel.ping_timeout = Some(restart);
        }
    }

    /// The event that announces the login.
    pub(super) fn connected_event(&self, now: Instant) -> ServerEvent {
        let user = self.user.as_deref().unwrap_or_default();
        let address = self.address().unwrap_or(Ipv4Addr::UNSPECIFIED);
        tracing::info!(target: "ppp", "{user} logged in, {address} from {}", self.remote.ip());
        tracing::info!(target: "ovpn", "{}: connected", self.name);
        ServerEvent::Connected {
            peer: self.handle,
            session: Box::new(self.info(now)),
        }
    }

    /// Its line of the session table.
    pub(super) fn info(&self, now: Instant) -> SessionInfo {
        let grant = self.grant.as_ref();
        SessionInfo {
            peer: self.handle,
            name: self.number.map(|_| self.name.clone()),
            user: self.user.clone(),
            profile: grant.map(|g| g.profile.clone()),
            remote: self.remote,
            address: self.address(),
            address_ipv6: self.address6,
            local_address: self.local_address,
            routes: grant
                .map(|g| g.routes.iter().chain(&g.ipv6_routes).cloned().collect())
                .unwrap_or_default(),
            encoding: self.params.map(encoding),
            mtu: self.mtu,
            common_name: self.common_name.clone(),
            session_id: self.session_id,
            address_list: grant.and_then(|g| g.address_list.clone()),
            bridge: grant.map(|g| g.bridge.clone()).unwrap_or_default(),
            uptime: self.connected_at.map(|t| now.saturating_duration_since(t)),
            connected: self.state == PeerState::Connected,
            traffic: self.channel.traffic,
        }
    }

    /// The PUSH_REPLY items for the client, in OpenVPN's order.
    fn push_options(
        &self,
        config: &ServerConfig,
        grant: &Grant,
        addresses: Option<(Ipv4Addr, Ipv4Addr)>,
    ) -> Vec<String> {
        let mut o = PushOptions {
            compression: self.client_frames.then(|| {
                if self.peer_info.comp_stub_v2 {
                    "compress stub-v2"
                } else {
                    "comp-lzo no"
                }
                .to_owned()
            }),
            routes: config.push_routes.clone(),
            ..PushOptions::default()
        };
        // redirect-gateway: `def1` for IPv4, `ipv6` for IPv6 (`!ipv4` when only IPv6 goes).
        let v6 = config.ipv6.filter(|_| self.address6.is_some());
        let redirect6 = config.redirect_gateway_ipv6 && v6.is_some();
        o.redirect_gateway = match (config.redirect_gateway, redirect6) {
            (true, true) => Some(vec!["def1".into(), "ipv6".into()]),
            (true, false) => Some(vec!["def1".into()]),
            (false, true) => Some(vec!["ipv6".into(), "!ipv4".into()]),
            (false, false) => None,
        };
        if let (Some(v6), Some(a)) = (v6, self.address6) {
            o.ifconfig_ipv6 = Some((a, v6.prefix_len, v6.server));
            o.routes.extend(
                config
                    .push_routes_ipv6
                    .iter()
                    .map(|n| Route::to(IpNet::V6(*n))),
            );
        }
        o.dns = grant
            .dns_servers
            .iter()
            .filter_map(|d| match d {
                IpAddr::V4(a) => Some(*a),
                IpAddr::V6(_) => None,
            })
            .collect();
        match (addresses, config.topology) {
            (None, _) => {}
            // A TAP client always takes an address and netmask on its Ethernet interface, as
            // 2.6's `server-bridge` (or `server` with `dev tap`) pushes them (helper.c).
            (Some((address, local)), t)
                if t == Topology::Subnet || config.mode == Mode::Ethernet =>
            {
                o.route_gateway = Some(local);
                o.topology = Some(Topology::Subnet);
                o.ifconfig = Some((address, prefix_netmask(config.netmask)));
            }
            (Some((address, local)), t) => {
                o.topology = Some(t);
                o.routes.insert(0, Route::to(Ipv4Net::from(local)));
                o.ifconfig = Some((address, local));
            }
        }
        if let Some(t) = config.keepalive_timeout {
            let (ping, restart) = keepalive(t);
            let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
            o.ping = Some(secs(ping));
            o.ping_restart = Some(secs(restart));
        }
        let info = &self.peer_info;
        if info.has(iv_proto::DATA_V2) {
            o.peer_id = Some(self.handle.peer_id().get());
        }
        if let Some(params) = self.params {
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
}

/// The server's options string; with the data channel chosen for a client it names that cipher
/// (what a client without negotiation checks), else our first.
pub(super) fn occ(config: &ServerConfig, params: Option<DataParams>) -> String {
    let local = negotiate::Local {
        mode: config.mode,
        transport: config.transport,
        max_mtu: config.max_mtu,
        server: true,
        framing: false,
    };
    match params {
        Some(p) => negotiate::occ(local, p.cipher, Some(p.digest)),
        None => negotiate::occ(local, config.ciphers[0], config.auths.first().copied()),
    }
}

/// Acquires an address per a profile or secret address property: a pool's name or an address.
fn acquire(
    pools: &mut PoolSet,
    spec: Option<&ovpn_ppp::AddressSpec>,
    owner: &str,
) -> Result<Option<Lease>, ovpn_pool::PoolError> {
    match spec {
        None => Ok(None),
        Some(ovpn_ppp::AddressSpec::Pool(name)) => pools.acquire(name, owner).map(Some),
        Some(ovpn_ppp::AddressSpec::Address(a)) => {
            pools.acquire_address(IpAddr::V4(*a), owner).map(Some)
        }
    }
}

/// `change-tcp-mss` on an IP packet, or on the IP packet inside a frame.
fn clamp_mss(mode: Mode, packet: &mut [u8], mtu: u16) {
    let ip = match mode {
        Mode::Ip => Some(packet),
        Mode::Ethernet => crate::ether::ip_payload_mut(packet),
    };
    if let Some(ip) = ip {
        crate::mss::clamp(ip, mtu);
    }
}

fn subnet_gateway(address: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(address) & u32::from(prefix_netmask(prefix)) | 1)
}

/// The netmask of a prefix length (ipnet's; a length above 32 counts as 32).
fn prefix_netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Net::new_assert(Ipv4Addr::UNSPECIFIED, prefix.min(32)).netmask()
}
