//! The server's configuration (RouterOS `/interface ovpn-server server` properties) and how it
//! checks credentials.

use std::sync::Arc;
use std::time::Duration;

use ovpn_crypto::{Cipher, Digest};
use ovpn_ppp::Authenticator;

use super::conns::TcpLimits;
use super::rate::RateLimit;
use super::switch::Switching;
use crate::config::{Mode, Transport};
use crate::push::{Route, Topology};
use crate::random::{Random, SystemRandom};
use crate::tls_config::{Identity, TlsConfigError, TlsVersion};
use crate::verify::PeerCheck;
use crate::wrap::ControlProtection;

/// A server's tls-crypt-v2 setup (`tls-crypt-v2 FILE [force-cookie]`, `tls-crypt-v2-max-age`).
#[derive(Debug, Clone)]
pub struct TlsCryptV2Server {
    /// The server key (`openvpn --genkey tls-crypt-v2-server`), which unwraps every client's
    /// WKc.
    pub key: ovpn_crypto::TlsCryptV2ServerKey,
    /// Whether clients without tls-crypt-v2 are served too, read with
    /// [`ServerConfig::protection`]: tls-auth or tls-crypt clients beside tls-crypt-v2 ones, as
    /// 2.6 allows, or (beyond 2.6, which refuses it) plain clients on the same port, for a
    /// migration. A client that starts with a wrapped key is only ever served with its own key:
    /// a wrapped key that does not unwrap is dropped, never read another way.
    pub others: bool,
    /// 2.6's `force-cookie`: a tls-crypt-v2 client that cannot resend its wrapped key (no early
    /// negotiation, before 2.6) is not answered over UDP, so that no state is ever kept before
    /// a client proves its address. Off: such clients get a stateful start, as 2.6's default.
    pub force_cookie: bool,
    /// `tls-crypt-v2-max-age`: client keys made longer ago than this are refused, and so are
    /// keys whose metadata holds no time of making (as 2.6). None: no limit.
    pub max_age: Option<Duration>,
}

impl TlsCryptV2Server {
    /// tls-crypt-v2 clients only, old clients answered statefully, no age limit (2.6's
    /// defaults).
    pub fn new(key: ovpn_crypto::TlsCryptV2ServerKey) -> Self {
        Self {
            key,
            others: false,
            force_cookie: false,
            max_age: None,
        }
    }
}

/// An authenticator the server can share.
pub type SharedAuthenticator = Arc<dyn Authenticator + Send + Sync>;

/// How usernames and passwords are checked.
#[derive(Clone, Default)]
pub enum AuthMode {
    /// Against the PPP secrets of the server's [`Shared`](crate::Shared) tables, at once, with the
    /// server's `default-profile` rule ([`ovpn_ppp::PppConfig::authenticate_under`]). A session
    /// whose secret is removed ends.
    #[default]
    Local,
    /// The server asks this authenticator (a product's own user store), at once.
    Inline(SharedAuthenticator),
    /// The server emits [`ServerEvent::AuthRequested`](crate::ServerEvent::AuthRequested) and waits for [`Server::auth_verdict`](crate::Server::auth_verdict) (how a
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
    /// `enable-tun-ipv6=yes`, with `tun-server-ipv6` and `ipv6-prefix-len`: IPv6 inside the
    /// tunnel for clients whose login gives them an IPv6 address (None: IPv4 only).
    pub ipv6: Option<TunIpv6>,
    /// `push-routes-ipv6`: IPv6 routes pushed to every client (`route-ipv6`).
    pub push_routes_ipv6: Vec<ipnet::Ipv6Net>,
    /// `redirect-gateway` containing `ipv6`: push an IPv6 default route to clients.
    pub redirect_gateway_ipv6: bool,
    /// How the client's address is pushed. RouterOS pushes `topology subnet`; `net30` is the
    /// point-to-point form (`ifconfig client server`).
    pub topology: Topology,
    /// `reneg-sec` (None: never by time).
    pub reneg: Option<Duration>,
    /// `tls-version`.
    pub tls_version: TlsVersion,
    /// `tls-auth`/`tls-crypt` (not in RouterOS; for OpenVPN clients that require it): how
    /// clients that start with `P_CONTROL_HARD_RESET_CLIENT_V2` are read. With
    /// [`ServerConfig::tls_crypt_v2`] set, such clients are served only if its `others` says so.
    pub protection: ControlProtection,
    /// `tls-crypt-v2`: clients with their own tls-crypt keys, wrapped with this server's key
    /// (they start with `P_CONTROL_HARD_RESET_CLIENT_V3`). None: such clients are not read.
    pub tls_crypt_v2: Option<TlsCryptV2Server>,
    /// How credentials are checked.
    pub auth: AuthMode,
    /// `default-profile`: the profile a secret left on `default` gets ([`AuthMode::Local`]).
    pub default_profile: String,
    /// `require-user-password` (an extension; RouterOS always requires one): with `false`, a
    /// client that sends no user name and password logs in by its verified certificate, as
    /// the user its common name names ([`ovpn_ppp::AuthRequest::certificate`]).
    pub require_user_password: bool,
    /// Whether the driver decides about each new client before the server keeps any state for
    /// it ([`crate::Server::accept`]).
    pub admission: Admission,
    /// `max-clients`: the most sessions at once, in their handshake or logged in (new clients
    /// beyond are not answered).
    pub max_clients: usize,
    /// `connect-freq-initial`: how many session starts are answered per window, over all
    /// sources (UDP; 2.6's default, 100 per 10 s). The answer is stateless and never
    /// retransmitted; this bounds what spoofed starts can make the server send to their
    /// victims. A start that becomes a session is given back. None: every start is answered.
    pub connect_freq_initial: Option<RateLimit>,
    /// Beyond `connect_freq_initial`, session starts are still answered while the answers'
    /// bytes stay within this percentage of the bytes the starts brought in the same window
    /// (90; at most 100; counted with IP and UDP headers). A flood then draws less than it
    /// sends, and a real client still gets an answer during it (about 70% of its tries, for
    /// IPv4 without tls-auth). 0 answers only within `connect_freq_initial`, as OpenVPN 2.6.
    pub connect_reply_share: u8,
    /// `connect-freq`: how many sessions may be made per window, over all sources (None: no
    /// limit, as OpenVPN's default).
    pub connect_freq: Option<RateLimit>,
    /// How many sessions one source address may make per window (None: no limit).
    pub connect_freq_per_source: Option<RateLimit>,
    /// The most sessions one source address may have in their handshake at once (None: no
    /// limit): one address cannot fill `max_clients` with handshakes it never finishes.
    pub max_handshakes_per_source: Option<usize>,
    /// TCP: the bounds on connections (time to the first valid packet, to complete a packet,
    /// connections per source and in all).
    pub tcp_limits: TcpLimits,
    /// Ethernet mode: whether the server switches frames by MAC address between its clients and
    /// one shared interface, or each client has its own interface and the host bridges.
    pub switching: Switching,
    /// Ethernet mode: how long a learned MAC address stays behind its session without a frame
    /// from it (300 s, as a Linux bridge's `ageing_time`).
    pub mac_ageing: Duration,
    /// Ethernet mode: the most MAC addresses one session may have learned at once (OpenVPN's
    /// `max-routes-per-client`, 256); frames from further addresses are dropped.
    pub max_macs_per_client: usize,
    /// Randomness (the system's by default).
    pub random: Arc<dyn Random>,
}

impl core::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Local => "Local",
            Self::Inline(_) => "Inline",
            Self::Deferred => "Deferred",
        })
    }
}

impl ServerConfig {
    /// The library's defaults, chosen for OpenVPN 2.6 clients: UDP, cipher negotiation over
    /// AES-256-GCM, AES-128-GCM and AES-256-CBC, HMAC SHA1/SHA256/SHA512 for CBC, keepalive 60 s,
    /// max-mtu 1500, renegotiation every hour, at most 1024 sessions; session starts answered
    /// statelessly over UDP, at most 100 per 10 s (`connect-freq-initial`), and at most 32
    /// handshakes at once from one address.
    ///
    /// These are not the RouterOS page's defaults (TCP, aes128-cbc, sha1): for those, start from
    /// [`ServerConfig::routeros`].
    ///
    /// Logins are checked against the secrets of the server's [`Shared`](crate::Shared) tables
    /// ([`AuthMode::Local`]), and every new client is admitted.
    pub fn new(identity: Identity) -> Self {
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
            ipv6: None,
            push_routes_ipv6: Vec::new(),
            redirect_gateway_ipv6: false,
            topology: Topology::Subnet,
            reneg: Some(Duration::from_secs(3600)),
            tls_version: TlsVersion::Any,
            protection: ControlProtection::None,
            tls_crypt_v2: None,
            auth: AuthMode::Local,
            default_profile: ovpn_ppp::Profile::DEFAULT.to_owned(),
            require_user_password: true,
            admission: Admission::AcceptAll,
            max_clients: 1024,
            connect_freq_initial: Some(RateLimit::new(100, Duration::from_secs(10))),
            connect_reply_share: 90,
            connect_freq: None,
            connect_freq_per_source: None,
            max_handshakes_per_source: Some(32),
            tcp_limits: TcpLimits::default(),
            switching: Switching::ClientToClient,
            mac_ageing: Duration::from_secs(300),
            max_macs_per_client: 256,
            random: Arc::new(SystemRandom),
        }
    }
}

impl ServerConfig {
    /// The RouterOS page's defaults for `/interface ovpn-server server`: `protocol=tcp`,
    /// `cipher=aes128-cbc`, `auth=sha1`, `mode=ip`, `max-mtu=1500`, `keepalive-timeout=60`,
    /// `redirect-gateway=no`, `netmask=24`; everything else as [`ServerConfig::new`].
    pub fn routeros(identity: Identity) -> Self {
        Self {
            transport: Transport::Tcp,
            ciphers: vec![Cipher::Aes128Cbc],
            auths: vec![Digest::Sha1],
            ..Self::new(identity)
        }
    }
}

/// The server's IPv6 inside the tunnel (RouterOS 7: `enable-tun-ipv6=yes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunIpv6 {
    /// `tun-server-ipv6`: our address, the client's peer and gateway.
    pub server: std::net::Ipv6Addr,
    /// `ipv6-prefix-len` (64): the prefix length pushed with the client's address.
    pub prefix_len: u8,
}

/// Who admits a new client (a valid session start from an address with no session, or a
/// restarted client's new session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Admission {
    /// Every new client, up to `max_clients`.
    #[default]
    AcceptAll,
    /// The driver: each new client arrives as
    /// [`ServerReceived::Incoming`](crate::ServerReceived::Incoming), with no state kept, and is
    /// answered by [`Server::accept`](crate::Server::accept),
    /// [`Server::refuse`](crate::Server::refuse) or [`Server::ignore`](crate::Server::ignore)
    /// (quinn's `Incoming`).
    Ask,
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
    /// A running server cannot change this property (`protocol`, `mode`): make a new server.
    #[error("{0} cannot change while the server runs")]
    NeedsRestart(&'static str),
}
