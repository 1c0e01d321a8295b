//! The OpenVPN client (RouterOS `/interface ovpn-client`), sans-IO.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ovpn_crypto::{Cipher, Digest};
use ovpn_wire::{PeerId, TcpFrameDecoder};
use zeroize::Zeroizing;

use crate::channel::{Channel, ChannelEvent, DataParams, LocalInfo, Side, Timings, TlsFactory};
use crate::compress::Framing;
use crate::config::{Mode, Transmit, Transport, keepalive};
use crate::control::ControlMessage;
use crate::error::{DisconnectReason, DropReason, EncapError};
use crate::negotiate::{self, encoding};
use crate::peer_info::{PeerInfo, iv_proto};
use crate::push::{PushOptions, Route, Topology};
use crate::random::{Random, SystemRandom};
use crate::stream::{Frames, frame_tcp, max_frame_len};
use crate::tls_config::{Identity, SessionClock, TlsConfigError, TlsVersion, client_config};
use crate::verify::PeerCheck;
use crate::wrap::ControlProtection;

/// How often PUSH_REQUEST is repeated until a PUSH_REPLY arrives (`PUSH_REQUEST_INTERVAL`,
/// common.h).
const PUSH_REQUEST_INTERVAL: Duration = Duration::from_secs(5);

/// How long an attempt waits for any answer before [`ClientEvent::NoReply`] (well inside
/// OpenVPN's 60 s hand-window).
const NO_REPLY_AFTER: Duration = Duration::from_secs(5);

/// A client's configuration (RouterOS `/interface ovpn-client` properties).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The interface name (`ovpn-out1`), used in logs and events.
    pub name: String,
    /// The server (`connect-to` and `port`).
    pub server: SocketAddr,
    /// `protocol`.
    pub transport: Transport,
    /// `mode`.
    pub mode: Mode,
    /// `user`.
    pub user: String,
    /// `password`.
    pub password: Zeroizing<String>,
    /// `cipher`: the one data cipher this client uses.
    pub cipher: Cipher,
    /// `auth`: the HMAC digest for CBC ciphers.
    pub auth: Digest,
    /// Speak OpenVPN 2.4+ cipher negotiation and tls-ekm (peer-info `IV_CIPHERS`, `IV_PROTO` with
    /// the tls-ekm and cc-exit bits). Off: a RouterOS client's peer-info (`IV_PROTO=2` only), the
    /// cipher from the options string and the legacy PRF.
    pub negotiate: bool,
    /// `certificate`: our certificate chain and key, if any.
    pub identity: Option<Identity>,
    /// How the server's certificate is checked (`ca-certificate`, and the tls-server role).
    pub check: Arc<dyn PeerCheck>,
    /// `tls-auth`/`tls-crypt` (not in RouterOS; for OpenVPN servers that require it).
    pub protection: ControlProtection,
    /// `tls-version`.
    pub tls_version: TlsVersion,
    /// `keepalive-timeout` (None: `disabled`). A pushed `ping`/`ping-restart` takes precedence.
    pub keepalive_timeout: Option<Duration>,
    /// `max-mtu`.
    pub max_mtu: u16,
    /// `add-default-route`: the only thing that installs a default route through the tunnel, as
    /// on RouterOS (a pushed `redirect-gateway` alone does not; it is logged as ignored).
    pub add_default_route: bool,
    /// `route-nopull`: ignore pushed routes (each is logged as ignored).
    pub route_nopull: bool,
    /// `disconnect-notify`: tell the server when we close (EXIT or OCC EXIT).
    pub disconnect_notify: bool,
    /// Wait before reconnecting after a failure.
    pub reconnect_delay: Duration,
    /// `reneg-sec` (None: never by time).
    pub reneg: Option<Duration>,
    /// Further servers (an OpenVPN profile's later `remote` lines): after an attempt that gets
    /// no tunnel up, the next one is tried, in turn, `server` first.
    pub fallback_servers: Vec<SocketAddr>,
    /// `data-ciphers` (an OpenVPN profile's; not RouterOS): the ciphers offered when negotiating,
    /// in order. None: `cipher` first, then the rest of the supported set (AES-GCM, ChaCha20,
    /// AES-CBC). Without negotiation only `cipher` is used.
    pub data_ciphers: Option<Vec<Cipher>>,
    /// The compression framing configured here (an OpenVPN profile's `comp-lzo no`, `compress`
    /// or `compress stub-v2`; RouterOS has none): nothing is compressed, but packets carry the
    /// framing the server expects. A framing the server pushes replaces it.
    pub compression: Framing,
    /// Randomness (the system's by default).
    pub random: Arc<dyn Random>,
}

impl ClientConfig {
    /// The library's defaults, chosen for OpenVPN 2.6 servers: UDP, AES-256-GCM with cipher
    /// negotiation and tls-ekm, keepalive 60 s, max-mtu 1500, disconnect-notify, a reconnect after
    /// 5 s, no renegotiation by time (the server decides).
    ///
    /// These are not the RouterOS page's defaults (TCP, aes128-cbc, sha1, no negotiation): for
    /// those, start from [`ClientConfig::routeros`].
    pub fn new(
        name: impl Into<String>,
        server: SocketAddr,
        user: impl Into<String>,
        password: impl Into<String>,
        check: Arc<dyn PeerCheck>,
    ) -> Self {
        Self {
            name: name.into(),
            server,
            transport: Transport::Udp,
            mode: Mode::Ip,
            user: user.into(),
            password: Zeroizing::new(password.into()),
            cipher: Cipher::Aes256Gcm,
            auth: Digest::Sha1,
            negotiate: true,
            identity: None,
            check,
            protection: ControlProtection::None,
            tls_version: TlsVersion::Any,
            keepalive_timeout: Some(Duration::from_secs(60)),
            max_mtu: 1500,
            add_default_route: false,
            route_nopull: false,
            disconnect_notify: true,
            reconnect_delay: Duration::from_secs(5),
            reneg: None,
            compression: Framing::None,
            data_ciphers: None,
            fallback_servers: Vec::new(),
            random: Arc::new(SystemRandom),
        }
    }
}

impl ClientConfig {
    /// The RouterOS page's defaults for `/interface ovpn-client`: `protocol=tcp`,
    /// `cipher=aes128-cbc`, `auth=sha1`, no cipher negotiation (a RouterOS client's peer-info),
    /// `add-default-route=no`, `route-nopull=no`; everything else as [`ClientConfig::new`].
    pub fn routeros(
        name: impl Into<String>,
        server: SocketAddr,
        user: impl Into<String>,
        password: impl Into<String>,
        check: Arc<dyn PeerCheck>,
    ) -> Self {
        Self {
            transport: Transport::Tcp,
            cipher: Cipher::Aes128Cbc,
            auth: Digest::Sha1,
            negotiate: false,
            ..Self::new(name, server, user, password, check)
        }
    }
}

/// The client's status, as RouterOS's `status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientState {
    /// Attempting to reach the server.
    Connecting,
    /// The tunnel is established.
    Connected,
    /// Not connected, no retry (closed locally).
    Disconnected,
    /// The last attempt failed (with why); a retry is scheduled.
    Error(DisconnectReason),
}

/// What the tunnel interface should look like, from PUSH_REPLY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunSettings {
    /// Our address in the tunnel (None: ethernet mode, and the server pushed none; a bridged
    /// client may take one by DHCP over the bridge).
    pub address: Option<Ipv4Addr>,
    /// The prefix length (subnet topology), or 32 with `peer` for point-to-point.
    pub prefix_len: u8,
    /// Our IPv6 address in the tunnel with its prefix length (a pushed `ifconfig-ipv6`), and
    /// the server's end.
    pub ipv6: Option<(std::net::Ipv6Addr, u8, std::net::Ipv6Addr)>,
    /// The server's end (point-to-point topologies) or the route gateway (subnet).
    pub peer: Option<Ipv4Addr>,
    /// The tunnel MTU.
    pub mtu: u16,
    /// Routes to add through the tunnel (empty with `route-nopull`).
    pub routes: Vec<Route>,
    /// Install a default route through the tunnel: `add-default-route=yes`, whatever was pushed.
    pub default_route: bool,
    /// DNS servers offered.
    pub dns: Vec<Ipv4Addr>,
    /// Everything that was pushed.
    pub pushed: PushOptions,
}

/// What happened, for the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A new attempt begins (for status; a TCP caller opens the connection at the attempt's
    /// first transmit, which has [`Transmit::connect`] set).
    Connecting,
    /// The tunnel is up: configure the interface.
    Connected {
        /// The interface settings.
        tun: Box<TunSettings>,
        /// The cipher and digest in use (`AES-256-GCM` or `AES-256-CBC/SHA256`).
        encoding: crate::Encoding,
    },
    /// New data keys are in use.
    KeysRotated,
    /// The server has not answered this attempt at all for a while (it is down or
    /// unreachable, or it uses a control-channel protection, tls-auth or tls-crypt, or a key
    /// that this client does not). Once per attempt; the attempt goes on.
    NoReply {
        /// How long since the attempt began.
        after: Duration,
    },
    /// The tunnel went down.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
        /// When the client tries again (None after [`Client::close`]).
        will_retry_at: Option<Instant>,
    },
}

/// What a received packet gave.
#[derive(Debug)]
pub enum Received<'a> {
    /// An IP packet (or Ethernet frame) for the tunnel interface, in the caller's buffer.
    Packet(&'a mut [u8]),
    /// Nothing for the tunnel (control traffic, keepalive).
    Consumed,
}

/// An OpenVPN client session, sans-IO.
///
/// # Driving it
///
/// As every session of this crate (the [crate docs](crate#driving-a-session) give the order):
///
/// ```text
/// loop {
///     loop {  // until neither gives anything
///         while let Some(t) = client.poll_transmit(now, &mut buf) {
///             if t.connect { open a new TCP connection (UDP: make sure the socket exists) }
///             send &buf[..t.len]
///         }
///         while let Some(e) = client.poll_event() { /* Connected: configure the TUN */ }
///     }
///     wait for: socket readable | tun readable | client.poll_timeout()
///     UDP datagram -> client.handle_datagram(now, &mut pkt) -> Received::Packet(ip) -> tun.send(ip)
///     TCP read -> client.handle_stream(now, &mut bytes) -> .next() until None, each as above
///     tun -> buf[HEADROOM..] -> client.encapsulate(now, &mut buf, HEADROOM, n) -> send
///     timeout -> client.handle_timeout(now)
/// }
/// ```
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    tls: Arc<rustls::ClientConfig>,
    clock: SessionClock,
    pub(crate) channel: Option<Channel>,
    state: ClientState,
    push: PushOptions,
    server_occ: Option<String>,
    push_request_at: Option<Instant>,
    retry_at: Option<Instant>,
    tun: Option<TunSettings>,
    events: VecDeque<ClientEvent>,
    closing: bool,
    /// The TCP connection's framing state (a packet split across reads).
    stream: TcpFrameDecoder,
    /// The next transmit is the first of a new attempt (see [`Transmit::connect`]).
    fresh: bool,
    /// Which server this attempt uses: 0 is `server`, then `fallback_servers`.
    remote_index: usize,
    /// When the current attempt began, and whether its silence was reported.
    attempt_at: Instant,
    silence_reported: bool,
    /// Test hook: see [`crate::fuzzing::hold_key_method`].
    #[cfg(feature = "fuzzing")]
    pub(crate) hold_key_method: bool,
}

/// Why a client could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// The TLS configuration was refused (a bad certificate or key).
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}

impl Client {
    /// A client that starts connecting at once. `unix_now` is the wall-clock time at `now` (for
    /// certificate validity and tls-auth timestamps); later times are derived from `now`.
    pub fn new(
        config: ClientConfig,
        now: Instant,
        unix_now: SystemTime,
    ) -> Result<Self, ClientConfigError> {
        let clock = SessionClock::new(now, unix_now);
        let tls = client_config(
            config.check.clone(),
            config.identity.as_ref(),
            config.tls_version,
            clock.clone(),
        )?;
        let mut c = Self {
            config,
            tls,
            clock,
            channel: None,
            state: ClientState::Connecting,
            push: PushOptions::default(),
            server_occ: None,
            push_request_at: None,
            retry_at: None,
            tun: None,
            events: VecDeque::new(),
            closing: false,
            stream: TcpFrameDecoder::new(),
            fresh: false,
            attempt_at: now,
            silence_reported: false,
            remote_index: 0,
            #[cfg(feature = "fuzzing")]
            hold_key_method: false,
        };
        c.start(now);
        Ok(c)
    }

    fn occ(&self) -> String {
        let local = negotiate::Local {
            mode: self.config.mode,
            transport: self.config.transport,
            max_mtu: self.config.max_mtu,
            server: false,
            framing: self.config.compression != Framing::None,
        };
        negotiate::occ(local, self.config.cipher, Some(self.config.auth))
    }

    /// The ciphers we accept, ours first: with negotiation, `data_ciphers` or our cipher and
    /// then the rest of the supported set; without, our cipher alone (a RouterOS client).
    fn offered_ciphers(&self) -> Vec<Cipher> {
        if !self.config.negotiate {
            return vec![self.config.cipher];
        }
        if let Some(list) = self.config.data_ciphers.as_ref().filter(|l| !l.is_empty()) {
            return list.clone();
        }
        let mut v = vec![self.config.cipher];
        v.extend(
            negotiate::CLIENT_NCP_SET
                .iter()
                .copied()
                .filter(|c| *c != self.config.cipher),
        );
        v
    }

    fn peer_info(&self) -> String {
        let mtu = self.config.max_mtu.max(1600).to_string();
        if self.config.negotiate {
            let proto = iv_proto::DATA_V2
                | iv_proto::REQUEST_PUSH
                | iv_proto::TLS_KEY_EXPORT
                | iv_proto::CC_EXIT_NOTIFY;
            let mut pairs = vec![
                ("IV_VER", format!("ovpn-rs-{}", env!("CARGO_PKG_VERSION"))),
                ("IV_PLAT", "linux".to_owned()),
                ("IV_TCPNL", "1".to_owned()),
                ("IV_MTU", mtu),
                (
                    "IV_CIPHERS",
                    self.offered_ciphers()
                        .iter()
                        .map(|c| c.openvpn_name())
                        .collect::<Vec<_>>()
                        .join(":"),
                ),
                ("IV_PROTO", proto.to_string()),
                // The compression framings understood (without compression), as 2.6 says
                // with `allow-compression no` (comp.c `comp_generate_peer_info_string`).
                ("IV_LZO_STUB", "1".to_owned()),
                ("IV_COMP_STUB", "1".to_owned()),
                ("IV_COMP_STUBv2", "1".to_owned()),
            ];
            if self
                .offered_ciphers()
                .iter()
                .any(|c| matches!(c, Cipher::Aes256Gcm | Cipher::Aes128Gcm))
            {
                pairs.push(("IV_NCP", "2".to_owned()));
            }
            PeerInfo::render(&pairs)
        } else {
            // What a RouterOS 7 client sends (OpenVPN/openvpn#1097).
            PeerInfo::render(&[("IV_PROTO", iv_proto::DATA_V2.to_string())])
        }
    }

    fn start(&mut self, now: Instant) {
        self.push = PushOptions::default();
        self.server_occ = None;
        self.tun = None;
        self.push_request_at = None;
        self.retry_at = None;
        self.state = ClientState::Connecting;
        self.fresh = true;
        self.attempt_at = now;
        self.silence_reported = false;
        self.stream = TcpFrameDecoder::with_max_frame_len(max_frame_len(self.config.max_mtu));
        let local = LocalInfo {
            options: self.occ(),
            username: self.config.user.clone(),
            password: self.config.password.clone(),
            peer_info: self.peer_info(),
            #[cfg(feature = "fuzzing")]
            hold_key_method: self.hold_key_method,
        };
        let timings = Timings {
            reneg: self.config.reneg,
            ..Timings::default()
        };
        let wrap = match crate::wrap::Wrap::new(&self.config.protection, false) {
            Ok(w) => w,
            Err(e) => {
                let reason = DisconnectReason::Protocol(format!("control channel key: {e}"));
                return self.disconnected(now, reason);
            }
        };
        match Channel::new(
            now,
            self.clock.clone(),
            Side::Client,
            wrap,
            TlsFactory::Client(self.tls.clone()),
            local,
            timings,
            self.config.random.clone(),
        ) {
            Ok(mut ch) => {
                // Until the server says otherwise, our own keepalive-timeout decides.
                if let Some(t) = self.config.keepalive_timeout {
                    let (_, restart) = keepalive(t);
                    ch.ping_timeout = Some(restart.max(Duration::from_secs(60)));
                }
                self.channel = Some(ch);
                self.events.push_back(ClientEvent::Connecting);
                tracing::info!(target: "ovpn", "{}: connecting to {}", self.config.name, self.remote());
            }
            Err(reason) => self.disconnected(now, reason),
        }
    }

    /// The server this attempt uses (`server`, or one of `fallback_servers`).
    pub fn remote(&self) -> SocketAddr {
        match self.remote_index.checked_sub(1) {
            None => self.config.server,
            Some(i) => self
                .config
                .fallback_servers
                .get(i)
                .copied()
                .unwrap_or(self.config.server),
        }
    }

    /// The client's status.
    pub fn state(&self) -> &ClientState {
        &self.state
    }

    /// The interface settings once connected.
    pub fn tun(&self) -> Option<&TunSettings> {
        self.tun.as_ref()
    }

    /// Data-channel traffic of the current connection.
    pub fn traffic(&self) -> crate::Traffic {
        self.channel.as_ref().map(|c| c.traffic).unwrap_or_default()
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Takes the bytes one read from the TCP connection gave, cut anywhere, and handles each
    /// packet in them as [`Client::handle_datagram`] does, in place (a packet split across reads
    /// waits for the next call). Call [`ClientStream::next`] until `None`; see
    /// [`Server::handle_stream`](crate::Server::handle_stream).
    pub fn handle_stream<'a>(&'a mut self, now: Instant, bytes: &'a mut [u8]) -> ClientStream<'a> {
        let decoder = core::mem::take(&mut self.stream);
        ClientStream::new(self, now, Frames::new(bytes, decoder))
    }

    pub(crate) fn is_tcp(&self) -> bool {
        self.config.transport == Transport::Tcp
    }

    /// The connection's framing state, until the next read.
    pub(crate) fn keep_stream(&mut self, decoder: TcpFrameDecoder) {
        self.stream = decoder;
    }

    /// Takes one received datagram (over TCP, one packet without its length prefix;
    /// [`Client::handle_stream`] finds them in the stream). Decrypts data packets in place.
    pub fn handle_datagram<'b>(
        &mut self,
        now: Instant,
        packet: &'b mut [u8],
    ) -> Result<Received<'b>, DropReason> {
        self.clock.tick(now);
        let (opcode, _) = ovpn_wire::peek(packet)?;
        let Some(ch) = self.channel.as_mut() else {
            return Err(DropReason::NotReady);
        };
        if opcode.is_data() {
            let r = ch.open(now, packet);
            self.process_events(now);
            return match r? {
                Some(range) => Ok(Received::Packet(&mut packet[range])),
                None => Ok(Received::Consumed),
            };
        }
        let r = ch.handle_control(now, packet);
        self.process_events(now);
        r.map(|()| Received::Consumed)
    }

    /// Seals the packet at `buf[start..start + len]` in place (header and crypto overhead go into
    /// the `HEADROOM` bytes before it and the `TAILROOM` after), and returns the range to send.
    pub fn encapsulate(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        start: usize,
        len: usize,
    ) -> Result<Range<usize>, EncapError> {
        if self.state != ClientState::Connected {
            return Err(EncapError::NotConnected);
        }
        let mtu = self
            .config
            .mode
            .max_packet(self.tun.as_ref().map_or(1500, |t| t.mtu));
        if len > mtu {
            return Err(EncapError::PacketTooLarge { len, mtu });
        }
        let ch = self.channel.as_mut().ok_or(EncapError::NotConnected)?;
        let tcp = self.config.transport == Transport::Tcp;
        let r = ch.seal(now, buf, start, len)?;
        ch.traffic.packets_out += 1;
        ch.traffic.bytes_out += len as u64;
        if tcp { frame_tcp(buf, r) } else { Ok(r) }
    }

    /// Timers: retransmission, keepalive, push request, reconnection.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock.tick(now);
        if let Some(at) = self.retry_at
            && now >= at
            && !self.closing
        {
            self.start(now);
            return;
        }
        if let Some(at) = self.push_request_at
            && now >= at
            && let Some(ch) = self.channel.as_mut()
        {
            ch.send_message("PUSH_REQUEST");
            self.push_request_at = Some(now + PUSH_REQUEST_INTERVAL);
        }
        if let Some(ch) = self.channel.as_mut() {
            ch.handle_timeout(now);
        }
        self.report_silence(now);
        self.process_events(now);
    }

    /// Whether this attempt has heard nothing from the server and has not said so yet.
    fn silence_pending(&self) -> bool {
        !self.silence_reported
            && self
                .channel
                .as_ref()
                .is_some_and(|c| c.remote_session_id().is_none())
    }

    /// Says once per attempt that the server has not answered at all (a silent server is often
    /// a control-channel protection or key mismatch: it drops what it cannot authenticate).
    fn report_silence(&mut self, now: Instant) {
        let waited = now.saturating_duration_since(self.attempt_at);
        if !self.silence_pending() || waited < NO_REPLY_AFTER {
            return;
        }
        self.silence_reported = true;
        let ours = match self.config.protection {
            ControlProtection::None => "none",
            ControlProtection::TlsAuth { .. } => "tls-auth",
            ControlProtection::TlsCrypt { .. } => "tls-crypt",
            ControlProtection::TlsCryptV2 { .. } => "tls-crypt-v2",
        };
        tracing::warn!(target: "ovpn", "{}: no reply from {} after {} s: is it up and reachable, and is its control-channel protection (tls-auth, tls-crypt, tls-crypt-v2) and key ours ({ours})?", self.config.name, self.remote(), waited.as_secs());
        self.events
            .push_back(ClientEvent::NoReply { after: waited });
    }

    /// The next packet to send, written into `buf` (framed for TCP).
    ///
    /// The first packet of each attempt has [`Transmit::connect`] set: over TCP, open a new
    /// connection to [`Transmit::destination`] (closing any old one) and send it there.
    #[must_use = "a transmit is taken from the queue: send it"]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let ch = self.channel.as_mut()?;
        let p = ch.poll_transmit(now)?;
        buf.clear();
        if self.config.transport == Transport::Tcp {
            // Control packets are far below the 64 KiB frame limit.
            buf.extend_from_slice(&ovpn_wire::tcp_prefix(p.len()).unwrap_or_default());
        }
        buf.extend_from_slice(&p);
        Some(Transmit {
            destination: self.remote(),
            len: buf.len(),
            connect: core::mem::take(&mut self.fresh),
        })
    }

    /// The next event.
    #[must_use = "an event is taken from the queue: act on it"]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.channel.as_ref().and_then(Channel::poll_timeout);
        let silence = self
            .silence_pending()
            .then(|| self.attempt_at.checked_add(NO_REPLY_AFTER))
            .flatten();
        for x in [self.push_request_at, self.retry_at, silence]
            .into_iter()
            .flatten()
        {
            t = Some(t.map_or(x, |t| t.min(x)));
        }
        t
    }

    /// The TCP connection closed or failed: this attempt is over, and the client tries again after
    /// its reconnect delay (its first transmit has [`Transmit::connect`] set: open a new connection then).
    pub fn connection_closed(&mut self, now: Instant) {
        self.stream.reset();
        if self.channel.is_some() {
            self.fail(
                now,
                DisconnectReason::ClosedByPeer(Some("connection closed".into())),
            );
        }
    }

    /// Moves the data channel's send counter forward to `last_id` (simulation hook: to exercise
    /// renegotiation at packet-id exhaustion without sending four billion packets).
    #[cfg(feature = "sim")]
    pub fn advance_send_packet_id(&mut self, last_id: u32) {
        if let Some(ch) = self.channel.as_mut() {
            ch.advance_send_packet_id(last_id);
        }
    }

    /// Starts a key renegotiation now.
    pub fn renegotiate(&mut self, now: Instant) {
        if let Some(ch) = self.channel.as_mut() {
            ch.renegotiate(now);
        }
    }

    /// Closes the tunnel (telling the server when `disconnect-notify` is on) and does not retry.
    pub fn close(&mut self, now: Instant) {
        self.closing = true;
        if let Some(ch) = self.channel.as_mut()
            && self.state == ClientState::Connected
            && self.config.disconnect_notify
        {
            if self.push.cc_exit() {
                ch.send_message("EXIT");
            } else if self.config.transport == Transport::Udp {
                ch.send_occ_exit(now);
            }
        }
        self.retry_at = None;
        self.push_request_at = None;
        if self.state != ClientState::Disconnected {
            self.state = ClientState::Disconnected;
            self.events.push_back(ClientEvent::Disconnected {
                reason: DisconnectReason::LocallyClosed,
                will_retry_at: None,
            });
        }
    }

    fn disconnected(&mut self, now: Instant, reason: DisconnectReason) {
        tracing::info!(target: "ovpn", "{}: terminating... - {reason}", self.config.name);
        // An attempt that got no tunnel up moves on to the next server, if there are several.
        let servers = 1 + self.config.fallback_servers.len();
        if self.state != ClientState::Connected && servers > 1 {
            self.remote_index = (self.remote_index + 1) % servers;
            tracing::info!(target: "ovpn", "{}: next, {}", self.config.name, self.remote());
        }
        // A delay too large for an Instant: no retry.
        let retry = (!self.closing)
            .then(|| crate::config::later(now, self.config.reconnect_delay))
            .flatten();
        self.retry_at = retry;
        self.push_request_at = None;
        self.tun = None;
        self.state = ClientState::Error(reason.clone());
        self.events.push_back(ClientEvent::Disconnected {
            reason,
            will_retry_at: retry,
        });
    }

    fn process_events(&mut self, now: Instant) {
        while let Some(ev) = self.channel.as_mut().and_then(Channel::poll_event) {
            match ev {
                ChannelEvent::TlsEstablished {
                    key_id,
                    description,
                    ..
                } => {
                    tracing::debug!(target: "ovpn", "{}: control channel (key {}) {description}", self.config.name, key_id.get());
                }
                ChannelEvent::PeerKeyMethod { key_id, km2 } => {
                    if key_id.get() == 0 {
                        if let Err(reason) = negotiate::check_mode(self.config.mode, &km2.options) {
                            tracing::warn!(target: "ovpn", "{}: {reason}", self.config.name);
                            self.fail(now, reason);
                            return;
                        }
                        self.server_occ = Some(km2.options.clone());
                        // Ask for the configuration now, and again every 5 s until it comes.
                        if let Some(ch) = self.channel.as_mut() {
                            ch.send_message("PUSH_REQUEST");
                        }
                        self.push_request_at = Some(now + PUSH_REQUEST_INTERVAL);
                    }
                }
                ChannelEvent::Message(m) => self.handle_message(now, &m),
                ChannelEvent::KeysInstalled { key_id } => {
                    if key_id.get() == 0 {
                        self.connected(now);
                    } else {
                        self.events.push_back(ClientEvent::KeysRotated);
                    }
                }
                ChannelEvent::OccExit => {
                    self.fail(now, DisconnectReason::ClosedByPeer(Some("OCC EXIT".into())))
                }
                ChannelEvent::Failed(reason) => self.fail(now, reason),
            }
        }
    }

    fn fail(&mut self, now: Instant, reason: DisconnectReason) {
        self.channel = None;
        self.disconnected(now, reason);
    }

    fn handle_message(&mut self, now: Instant, text: &str) {
        match ControlMessage::parse(text) {
            ControlMessage::PushReply(opts) => {
                if self.push_request_at.is_none() {
                    return; // a repeated reply after we applied one
                }
                if let Err(e) = self.push.merge(&opts) {
                    tracing::warn!(target: "ovpn", "{}: {e}", self.config.name);
                }
                if self.push.continuation == Some(2) {
                    return;
                }
                self.push_request_at = None;
                self.apply_push(now);
            }
            ControlMessage::AuthFailed(reason) => {
                let reason = reason
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "login incorrect".into());
                self.fail(now, DisconnectReason::AuthFailed(reason));
            }
            ControlMessage::Restart(r) | ControlMessage::Halt(r) => {
                self.fail(now, DisconnectReason::ClosedByPeer(r));
            }
            ControlMessage::Exit => self.fail(now, DisconnectReason::ClosedByPeer(None)),
            ControlMessage::Info(t) => {
                tracing::info!(target: "ovpn", "{}: server info: {t}", self.config.name)
            }
            other => {
                tracing::debug!(target: "ovpn", "{}: ignored control message {other}", self.config.name)
            }
        }
    }

    /// Decides the data channel from what was pushed (ssl_ncp.c `check_pull_client_ncp`).
    fn apply_push(&mut self, now: Instant) {
        let cipher = negotiate::client_choice(
            &self.offered_ciphers(),
            self.push.cipher.as_deref(),
            self.server_occ.as_deref(),
        );
        let cipher = match cipher {
            Ok(c) => c,
            Err(e) => {
                self.fail(now, DisconnectReason::NoEncryption(e));
                return;
            }
        };
        let digest = self
            .push
            .auth
            .as_deref()
            .and_then(|a| a.parse().ok())
            .unwrap_or(self.config.auth);
        let framing = match self.push.compression.as_deref() {
            Some(o) => Framing::from_option(o).unwrap_or(self.config.compression),
            None => self.config.compression,
        };
        if framing != Framing::None {
            tracing::info!(target: "ovpn", "{}: compression framing {} (nothing is compressed)", self.config.name, framing.name());
        }
        let Some(ch) = self.channel.as_mut() else {
            return;
        };
        ch.framing = framing;
        ch.recognise_framing = self.config.mode == Mode::Ip;
        ch.tx_peer_id = self.push.peer_id.and_then(PeerId::new);
        match (self.push.ping, self.push.ping_restart) {
            (Some(p), Some(r)) => {
                ch.ping_interval = Some(Duration::from_secs(p.into()));
                ch.ping_timeout = Some(Duration::from_secs(r.into()));
            }
            _ => {
                if let Some(t) = self.config.keepalive_timeout {
                    let (p, r) = keepalive(t);
                    ch.ping_interval = Some(p);
                    ch.ping_timeout = Some(r);
                }
            }
        }
        ch.set_data_params(
            now,
            DataParams {
                cipher,
                digest,
                ekm: self.config.negotiate && self.push.tls_ekm(),
            },
        );
        self.process_events(now);
    }

    fn connected(&mut self, now: Instant) {
        let p = &self.push;
        let mtu = p
            .tun_mtu
            .and_then(|m| u16::try_from(m).ok())
            .unwrap_or(self.config.max_mtu)
            .min(self.config.max_mtu);
        // On a TAP interface `ifconfig` always gives an address and netmask (2.6's
        // `server-bridge`, which pushes no topology), and a bridge may give none.
        let ethernet = self.config.mode == Mode::Ethernet;
        let topology = if ethernet {
            Topology::Subnet
        } else {
            p.topology.unwrap_or_default()
        };
        let (address, prefix_len, peer) = match (p.ifconfig, topology) {
            (None, _) if ethernet => (None, 0, p.route_gateway),
            (None, _) => {
                let reason = DisconnectReason::Protocol("the server pushed no ifconfig".into());
                self.channel = None;
                self.disconnected(now, reason);
                return;
            }
            (Some((a, mask)), Topology::Subnet) => (
                Some(a),
                u32::from(mask).leading_ones() as u8,
                p.route_gateway,
            ),
            (Some((a, peer)), Topology::Net30 | Topology::P2p) => (Some(a), 32, Some(peer)),
        };
        let name = &self.config.name;
        if self.config.route_nopull && !p.routes.is_empty() {
            tracing::warn!(target: "ovpn", "{name}: {} pushed route(s) ignored: route-nopull=yes", p.routes.len());
        }
        if p.redirect_gateway.is_some() && !self.config.add_default_route {
            tracing::warn!(target: "ovpn", "{name}: pushed redirect-gateway ignored: add-default-route=no");
        }
        // Nothing pushed is dropped in silence.
        let mut unused: Vec<String> = p.other.clone();
        unused.extend(
            p.dhcp_options
                .iter()
                .map(|(k, v)| format!("dhcp-option {k} {v}")),
        );
        if !unused.is_empty() {
            tracing::warn!(target: "ovpn", "{name}: pushed option(s) not applied: {}", unused.join(", "));
        }
        let tun = TunSettings {
            address,
            prefix_len,
            ipv6: p.ifconfig_ipv6,
            peer,
            mtu,
            routes: if self.config.route_nopull {
                Vec::new()
            } else {
                p.routes.clone()
            },
            default_route: self.config.add_default_route,
            dns: p.dns.clone(),
            pushed: p.clone(),
        };
        let encoding = self
            .channel
            .as_ref()
            .and_then(Channel::data_params)
            .map(encoding)
            .unwrap_or(crate::Encoding {
                cipher: self.config.cipher,
                digest: self.config.auth,
            });
        tracing::info!(target: "ovpn", "{}: connected ({encoding})", self.config.name);
        self.state = ClientState::Connected;
        self.tun = Some(tun.clone());
        self.events.push_back(ClientEvent::Connected {
            tun: Box::new(tun),
            encoding,
        });
    }
}

/// The packets of one read from a client's TCP connection, from [`Client::handle_stream`]. Used
/// as [`ServerStream`](crate::ServerStream).
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
