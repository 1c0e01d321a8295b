//! The properties of `/interface ovpn-server server` and `/interface ovpn-client`, parsed from a
//! script, with RouterOS's defaults, and turned into `ovpn-session` configurations.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use ipnet::{IpNet, Ipv4Net};
use std::sync::Arc;
use std::time::Duration;

use ovpn_crypto::{Cipher, Digest};
use ovpn_pki::{PeerRole, Store};
use ovpn_ppp::Profile;

use crate::protection::Protection;
use ovpn_session::tls_config::{Identity, TlsVersion};
use ovpn_session::verify::PeerCheck;
use ovpn_session::{AuthMode, ClientConfig, Mode, ServerConfig, Transport};
use ovpn_session::{Route, Topology};

/// `yes`/`no` (also `true`/`false`).
pub fn yes_no(v: &str) -> Result<bool, String> {
    ovpn_rsc::yes_no(v).ok_or_else(|| "expected yes or no".into())
}

fn port(v: &str) -> Result<u16, String> {
    v.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| "expected a port 1..65535".into())
}

fn mtu(v: &str) -> Result<u16, String> {
    v.parse::<u16>()
        .ok()
        .filter(|m| *m >= 64)
        .ok_or_else(|| "expected 64..65535".into())
}

fn transport(v: &str) -> Result<Transport, String> {
    match v {
        "udp" => Ok(Transport::Udp),
        "tcp" => Ok(Transport::Tcp),
        _ => Err("expected tcp or udp".into()),
    }
}

fn mode(v: &str) -> Result<Mode, String> {
    match v {
        "ip" => Ok(Mode::Ip),
        "ethernet" => Ok(Mode::Ethernet),
        _ => Err("expected ip or ethernet".into()),
    }
}

fn tls_version(v: &str) -> Result<TlsVersion, String> {
    match v {
        "any" => Ok(TlsVersion::Any),
        "only-1.2" => Ok(TlsVersion::Only12),
        _ => Err("expected any or only-1.2".into()),
    }
}

/// The longest `keepalive-timeout` and `reneg-sec`: OpenVPN's `ping-restart` and `reneg-sec`
/// are C ints of seconds (options.c), and the server pushes the former.
const MAX_SECONDS: u64 = i32::MAX as u64;

/// `keepalive-timeout`: seconds (or a RouterOS duration) from 1 to 2147483647, or `disabled`.
fn keepalive(v: &str) -> Result<Option<Duration>, String> {
    if v == "disabled" {
        return Ok(None);
    }
    let range = || format!("expected 1..{MAX_SECONDS} seconds or disabled");
    match ovpn_rsc::parse_duration(v) {
        Some(d) if d.is_zero() => Ok(None),
        Some(d) if (1..=MAX_SECONDS).contains(&d.as_secs()) => Ok(Some(d)),
        _ => Err(range()),
    }
}

/// `reneg-sec`: seconds from 0 (never) to 2147483647.
fn reneg(v: &str) -> Result<Option<Duration>, String> {
    let s: u64 = v
        .parse()
        .ok()
        .filter(|s| *s <= MAX_SECONDS)
        .ok_or_else(|| format!("expected 0..{MAX_SECONDS} seconds"))?;
    Ok((s > 0).then(|| Duration::from_secs(s)))
}

fn cipher(v: &str) -> Result<Cipher, String> {
    v.parse::<Cipher>().map_err(|_| {
        format!(
            "unknown cipher {v:?} (blowfish128, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes192-gcm, aes256-gcm, null)"
        )
    })
}

fn digest(v: &str) -> Result<Digest, String> {
    v.parse::<Digest>()
        .map_err(|_| format!("unknown auth {v:?} (md5, sha1, sha256, sha384, sha512, null)"))
}

/// A RouterOS set: comma-separated, each parsed, duplicates dropped, order kept.
fn set_of<T: PartialEq>(
    v: &str,
    one: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let x = one(item)?;
        if !out.contains(&x) {
            out.push(x);
        }
    }
    if out.is_empty() {
        return Err("expected at least one value".into());
    }
    Ok(out)
}

/// One `push-routes` item: `192.168.1.0/24`, `192.168.1.0 255.255.255.0`, each optionally
/// followed by a gateway and a metric (OpenVPN's `route` syntax).
pub fn push_route(item: &str) -> Result<Route, String> {
    let words: Vec<&str> = item.split_whitespace().collect();
    let bad = || {
        format!(
            "bad route {item:?}: expected NETWORK/PREFIX or NETWORK NETMASK, then an optional gateway and metric"
        )
    };
    let addr = |s: &str| s.parse::<Ipv4Addr>().map_err(|_| bad());
    let (dst, rest) = match words.as_slice() {
        [] => return Err(bad()),
        [first, rest @ ..] if first.contains('/') => {
            (first.parse::<Ipv4Net>().map_err(|_| bad())?, rest)
        }
        [first, mask, rest @ ..] if mask.contains('.') => (
            Ipv4Net::with_netmask(addr(first)?, addr(mask)?).map_err(|_| bad())?,
            rest,
        ),
        [first, rest @ ..] => (Ipv4Net::from(addr(first)?), rest),
    };
    let (gateway, metric) = match rest {
        [] => (None, None),
        [g] => (Some(addr(g)?), None),
        [g, m] => (Some(addr(g)?), Some(m.parse().map_err(|_| bad())?)),
        _ => return Err(bad()),
    };
    Ok(Route {
        dst: IpNet::V4(dst.trunc()),
        gateway: gateway.map(IpAddr::V4),
        metric,
    })
}

/// One entry of `/interface ovpn-server server`: the one server of RouterOS before 7.17, changed
/// with `set`, or one of several added with `add` (7.17 and later).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `name` (7.17; `ovpn-server1`, `ovpn-server2`, ... when not given).
    pub name: String,
    /// The line of its `add`, or of the first `set` of the one server.
    pub line: usize,
    /// `enabled` (`no` for the one server of `set`; an entry made with `add` starts enabled, as
    /// its `disabled` defaults to `no`).
    pub enabled: bool,
    /// `port` (1194).
    pub port: u16,
    /// `mode`: `ip` (TUN) or `ethernet` (TAP).
    pub mode: Mode,
    /// `protocol` (`tcp`, RouterOS's default).
    pub transport: Transport,
    /// `certificate` (`none`).
    pub certificate: Option<String>,
    /// `require-client-certificate` (`no`).
    pub require_client_certificate: bool,
    /// `require-user-password` (an extension, `yes` as RouterOS always does): `no` lets a client
    /// with a verified certificate and no user name log in as its certificate's common name.
    pub require_user_password: bool,
    /// `control-channel-protection`, `tls-key-file`, `key-direction`, `tls-crypt-v2-*` (an
    /// extension).
    pub protection: Protection,
    /// `auth` (`sha1`).
    pub auths: Vec<Digest>,
    /// `cipher` (`aes128-cbc`).
    pub ciphers: Vec<Cipher>,
    /// `max-mtu` (1500).
    pub max_mtu: u16,
    /// `keepalive-timeout` (60 s; `disabled` is `None`).
    pub keepalive_timeout: Option<Duration>,
    /// `default-profile` (`default`).
    pub default_profile: String,
    /// `redirect-gateway` (`disabled`; `def1` pushes a default route).
    pub redirect_gateway: bool,
    /// `netmask` (24).
    pub netmask: u8,
    /// `topology` (an extension: `subnet`, RouterOS's form, or `net30`, OpenVPN's point-to-point
    /// form with `ifconfig client server`).
    pub topology: Topology,
    /// `reneg-sec` (3600).
    pub reneg: Option<Duration>,
    /// `tls-version` (`any`).
    pub tls_version: TlsVersion,
    /// `push-routes` (none).
    pub push_routes: Vec<Route>,
    /// `enable-tun-ipv6` (`no`): IPv6 inside the tunnel.
    pub enable_tun_ipv6: bool,
    /// `tun-server-ipv6` (`::`, unset): our IPv6 address in the tunnel.
    pub tun_server_ipv6: Option<std::net::Ipv6Addr>,
    /// `ipv6-prefix-len` (64): pushed with the client's IPv6 address.
    pub ipv6_prefix_len: u8,
    /// `push-routes-ipv6` (none).
    pub push_routes_ipv6: Vec<ipnet::Ipv6Net>,
    /// `redirect-gateway` containing `ipv6`.
    pub redirect_gateway_ipv6: bool,
    /// `max-clients`, `connect-freq*`, the per-source and TCP bounds (extensions).
    pub limits: crate::limits::Limits,
    /// The line where each property was last set (for errors found later).
    pub lines: BTreeMap<String, usize>,
    /// Each property as it was last set, in its text form (for print and export).
    pub values: BTreeMap<String, String>,
}

/// The properties `/interface ovpn-server server print` always shows, with RouterOS's defaults
/// (RouterOS 7's order).
const SERVER_PRINT: &[(&str, &str)] = &[
    ("port", "1194"),
    ("mode", "ip"),
    ("protocol", "tcp"),
    ("netmask", "24"),
    ("max-mtu", "1500"),
    ("keepalive-timeout", "60"),
    ("default-profile", "default"),
    ("certificate", "none"),
    ("require-client-certificate", "no"),
    ("auth", "sha1"),
    ("cipher", "aes128-cbc"),
    ("tls-version", "any"),
    ("user-auth-method", "pap"),
    ("redirect-gateway", "disabled"),
    ("push-routes", ""),
    ("reneg-sec", "3600"),
    ("enable-tun-ipv6", "no"),
    ("ipv6-prefix-len", "64"),
    ("tun-server-ipv6", "::"),
];

/// The properties that need the server to listen anew (its sessions end, as RouterOS's
/// restart of the server).
pub const RESTARTING: &[&str] = &["port", "protocol", "mode"];

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            name: "ovpn-server1".to_owned(),
            line: 0,
            enabled: false,
            port: 1194,
            mode: Mode::Ip,
            transport: Transport::Tcp,
            certificate: None,
            require_client_certificate: false,
            require_user_password: true,
            protection: Protection::default(),
            auths: vec![Digest::Sha1],
            ciphers: vec![Cipher::Aes128Cbc],
            max_mtu: 1500,
            keepalive_timeout: Some(Duration::from_secs(60)),
            default_profile: Profile::DEFAULT.to_owned(),
            redirect_gateway: false,
            netmask: 24,
            topology: Topology::Subnet,
            reneg: Some(Duration::from_secs(3600)),
            tls_version: TlsVersion::Any,
            push_routes: Vec::new(),
            enable_tun_ipv6: false,
            tun_server_ipv6: None,
            ipv6_prefix_len: 64,
            push_routes_ipv6: Vec::new(),
            redirect_gateway_ipv6: false,
            limits: crate::limits::Limits::default(),
            lines: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }
}

/// What a property did that deserves a warning (accepted, but without effect here).
pub type Note = Option<String>;

impl ServerSettings {
    /// Applies one property of `set`. Errors say what was expected.
    pub fn set(&mut self, key: &str, v: &str, line: usize) -> Result<Note, String> {
        let mut note = None;
        match key {
            "enabled" => self.enabled = yes_no(v)?,
            "disabled" => self.enabled = !yes_no(v)?,
            "port" => self.port = port(v)?,
            "mode" => self.mode = mode(v)?,
            "protocol" => self.transport = transport(v)?,
            "certificate" => {
                self.certificate = (v != "none" && !v.is_empty()).then(|| v.to_owned())
            }
            "require-client-certificate" => self.require_client_certificate = yes_no(v)?,
            "require-user-password" => self.require_user_password = yes_no(v)?,
            "auth" => self.auths = set_of(v, digest)?,
            "cipher" => self.ciphers = set_of(v, cipher)?,
            "max-mtu" => self.max_mtu = mtu(v)?,
            "keepalive-timeout" => self.keepalive_timeout = keepalive(v)?,
            "default-profile" => self.default_profile = v.to_owned(),
            "redirect-gateway" => {
                let items = set_of(v, |s| match s {
                    "disabled" | "no" => Ok(None),
                    "def1" | "yes" => Ok(Some("def1")),
                    "ipv6" => Ok(Some("ipv6")),
                    _ => Err("expected disabled, def1 or ipv6".into()),
                })?;
                self.redirect_gateway = items.contains(&Some("def1"));
                self.redirect_gateway_ipv6 = items.contains(&Some("ipv6"));
            }
            "netmask" => {
                self.netmask = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= 32)
                    .ok_or("expected 0..32")?;
            }
            "reneg-sec" => self.reneg = reneg(v)?,
            "topology" => {
                self.topology = match v {
                    "subnet" => Topology::Subnet,
                    "net30" => Topology::Net30,
                    "p2p" => Topology::P2p,
                    _ => return Err("expected subnet, net30 or p2p".into()),
                }
            }
            "tls-version" => self.tls_version = tls_version(v)?,
            "push-routes" => {
                self.push_routes = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(push_route)
                    .collect::<Result<_, _>>()?;
            }
            "enable-tun-ipv6" => self.enable_tun_ipv6 = yes_no(v)?,
            "tun-server-ipv6" => {
                let a: std::net::Ipv6Addr = v.parse().map_err(|_| "expected an IPv6 address")?;
                self.tun_server_ipv6 = (!a.is_unspecified()).then_some(a);
            }
            "ipv6-prefix-len" => {
                self.ipv6_prefix_len = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=128).contains(n))
                    .ok_or("expected 1..128")?;
            }
            "push-routes-ipv6" => {
                self.push_routes_ipv6 = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse()
                            .map_err(|_| format!("{s}: expected an IPv6 prefix"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "user-auth-method" => match v {
                "pap" | "mschap2" => {}
                _ => return Err("expected pap or mschap2".into()),
            },
            "name" => {
                if v.is_empty() || v.contains(['/', '\0']) {
                    return Err("expected a name".into());
                }
                v.clone_into(&mut self.name);
            }
            "mac-address" | "comment" => {
                note = Some(format!("{key} has no effect here"));
            }
            "vrf" if v == "main" => {}
            _ if self.protection.set(key, v, true)? => {}
            _ if self.limits.set(key, v)? => {}
            _ => return Err(format!("unknown property {key:?}")),
        }
        self.lines.insert(key.to_owned(), line);
        if key == "disabled" {
            self.values.remove("disabled");
            self.values.insert(
                "enabled".into(),
                if self.enabled { "yes" } else { "no" }.into(),
            );
        } else if key != "name" {
            self.values.insert(key.to_owned(), v.to_owned());
        }
        Ok(note)
    }

    /// The properties as `/interface ovpn-server server print` shows them: `name` and
    /// `enabled`, RouterOS's properties (as set, or their defaults), then the extensions that
    /// were set.
    pub fn print_rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![
            ("name".to_owned(), self.name.clone()),
            (
                "enabled".to_owned(),
                if self.enabled { "yes" } else { "no" }.to_owned(),
            ),
        ];
        for (k, default) in SERVER_PRINT {
            let v = self.values.get(*k).map_or(*default, String::as_str);
            rows.push(((*k).to_owned(), v.to_owned()));
        }
        for (k, v) in &self.values {
            if k != "enabled" && !SERVER_PRINT.iter().any(|(p, _)| p == k) {
                rows.push((k.clone(), v.clone()));
            }
        }
        rows
    }

    /// The properties that were set, as `key=value` words for `/export` (in the order of
    /// [`Self::print_rows`]).
    pub fn export_words(&self) -> String {
        self.print_rows()
            .into_iter()
            .filter(|(k, _)| k == "enabled" || self.values.contains_key(k))
            .map(|(k, v)| format!("{k}={}", crate::rsc::quote(&v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The line a property was set on.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }

    /// The session configuration: certificate and key from the store, client certificate checks
    /// against the store's trusted CAs, logins against the PPP secrets the server shares
    /// ([`AuthMode::Local`], with this server's `default-profile`).
    pub fn session_config(&self, store: &Store) -> Result<ServerConfig, String> {
        let name = self
            .certificate
            .as_deref()
            .ok_or("the server needs a certificate: set certificate=NAME")?;
        let (chain, key) = store
            .identity(name)
            .map_err(|e| format!("certificate={name}: {e}"))?;
        let mut c = ServerConfig::routeros(Identity { chain, key });
        c.auth = AuthMode::Local;
        c.default_profile.clone_from(&self.default_profile);
        c.transport = self.transport;
        c.mode = self.mode;
        if self.require_client_certificate {
            if store.trusted_cas().is_empty() {
                return Err(
                    "require-client-certificate=yes, but no trusted CA certificate is in /certificate"
                        .into(),
                );
            }
            let v = store
                .peer_verifier(PeerRole::TlsClient)
                .map_err(|e| format!("require-client-certificate=yes: {e}"))?;
            c.client_check = Some(Arc::new(v));
        }
        if !self.require_user_password && !self.require_client_certificate {
            return Err(
                "require-user-password=no needs require-client-certificate=yes: a client must prove itself somehow"
                    .into(),
            );
        }
        c.require_user_password = self.require_user_password;
        c.ciphers = self.ciphers.clone();
        c.auths = self.auths.clone();
        c.max_mtu = self.max_mtu;
        c.keepalive_timeout = self.keepalive_timeout;
        c.redirect_gateway = self.redirect_gateway;
        c.push_routes = self.push_routes.clone();
        c.netmask = self.netmask;
        if self.enable_tun_ipv6 {
            let Some(server) = self.tun_server_ipv6 else {
                return Err(
                    "enable-tun-ipv6=yes needs tun-server-ipv6 (our IPv6 address in the tunnel)"
                        .into(),
                );
            };
            c.ipv6 = Some(ovpn_session::TunIpv6 {
                server,
                prefix_len: self.ipv6_prefix_len,
            });
            c.push_routes_ipv6 = self.push_routes_ipv6.clone();
            c.redirect_gateway_ipv6 = self.redirect_gateway_ipv6;
        }
        c.topology = self.topology;
        c.reneg = self.reneg;
        c.tls_version = self.tls_version;
        self.limits.apply(&mut c);
        Ok(c)
    }
}

/// `/interface ovpn-client` (one entry), with RouterOS's defaults.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The line of its `add`.
    pub line: usize,
    /// `name` (`ovpn-out1`).
    pub name: String,
    /// `connect-to` (required).
    pub connect_to: String,
    /// `port` (1194).
    pub port: u16,
    /// `protocol` (`tcp`).
    pub transport: Transport,
    /// `mode` (`ip`).
    pub mode: Mode,
    /// `user` (required).
    pub user: String,
    /// `password` (zeroed on drop).
    pub password: zeroize::Zeroizing<String>,
    /// `certificate` (`none`).
    pub certificate: Option<String>,
    /// `ca-certificate` (`none`: the store's trusted CAs).
    pub ca_certificate: Option<String>,
    /// `cipher` (`aes128-cbc`).
    pub cipher: Cipher,
    /// `auth` (`sha1`).
    pub auth: Digest,
    /// `add-default-route` (`no`).
    pub add_default_route: bool,
    /// `route-nopull` (`no`).
    pub route_nopull: bool,
    /// `keepalive-timeout` (60 s).
    pub keepalive_timeout: Option<Duration>,
    /// `max-mtu` (1500).
    pub max_mtu: u16,
    /// `tls-version` (`any`).
    pub tls_version: TlsVersion,
    /// `disabled` (`yes`, RouterOS's default on the page: an interface connects only once
    /// `disabled=no`).
    pub disabled: bool,
    /// `verify-server-certificate` (`no`): also check that the server certificate's common name
    /// is `connect-to`.
    pub verify_server_certificate: bool,
    /// `disconnect-notify` (`yes`).
    pub disconnect_notify: bool,
    /// Not RouterOS: `ncp=no` makes the client act exactly like a RouterOS client (no cipher
    /// negotiation, the cipher of its options string, the legacy key derivation). Default `yes`.
    pub ncp: bool,
    /// Not RouterOS: `reneg-sec` (default: the server decides).
    pub reneg: Option<Duration>,
    /// Routes through this interface from `/ip route add dst-address=... gateway=NAME`.
    pub routes: Vec<Ipv4Net>,
    /// `control-channel-protection`, `tls-key-file`, `key-direction`, `tls-crypt-v2-*` (an
    /// extension).
    pub protection: Protection,
    /// Each property as it was last set, in its text form (for `/export`).
    pub values: BTreeMap<String, String>,
}

impl ClientSettings {
    /// The properties a session configuration shows (for `print` and the start-up line of an
    /// interface made from an OpenVPN profile).
    pub fn from_config(line: usize, c: &ClientConfig) -> Self {
        let mut s = Self::new(line);
        s.name.clone_from(&c.name);
        s.connect_to = c.server.ip().to_string();
        s.port = c.server.port();
        s.transport = c.transport;
        s.mode = c.mode;
        s.user.clone_from(&c.user);
        s.cipher = c.cipher;
        s.auth = c.auth;
        s.add_default_route = c.add_default_route;
        s.route_nopull = c.route_nopull;
        s.keepalive_timeout = c.keepalive_timeout;
        s.max_mtu = c.max_mtu;
        s.tls_version = c.tls_version;
        s.disabled = false;
        s.disconnect_notify = c.disconnect_notify;
        s.ncp = c.negotiate;
        s.reneg = c.reneg;
        s
    }

    /// RouterOS's defaults for an `add` on `line`.
    pub fn new(line: usize) -> Self {
        Self {
            line,
            name: "ovpn-out1".into(),
            connect_to: String::new(),
            port: 1194,
            transport: Transport::Tcp,
            mode: Mode::Ip,
            user: String::new(),
            password: zeroize::Zeroizing::new(String::new()),
            certificate: None,
            ca_certificate: None,
            cipher: Cipher::Aes128Cbc,
            auth: Digest::Sha1,
            add_default_route: false,
            route_nopull: false,
            keepalive_timeout: Some(Duration::from_secs(60)),
            max_mtu: 1500,
            tls_version: TlsVersion::Any,
            disabled: true,
            verify_server_certificate: false,
            disconnect_notify: true,
            ncp: true,
            reneg: None,
            routes: Vec::new(),
            protection: Protection::default(),
            values: BTreeMap::new(),
        }
    }

    /// Applies one property of `add` or `set`.
    pub fn set(&mut self, key: &str, v: &str) -> Result<Note, String> {
        let mut note = None;
        match key {
            "name" => {
                if v.is_empty() || v.len() > 15 || v.contains(['/', ' ', ':']) {
                    return Err(
                        "an interface name: 1 to 15 characters, no '/', ':' or space".into(),
                    );
                }
                self.name = v.to_owned();
            }
            "connect-to" => self.connect_to = v.to_owned(),
            "port" => self.port = port(v)?,
            "protocol" => self.transport = transport(v)?,
            "mode" => self.mode = mode(v)?,
            "user" => self.user = v.to_owned(),
            "password" => self.password = zeroize::Zeroizing::new(v.to_owned()),
            "certificate" => {
                self.certificate = (v != "none" && !v.is_empty()).then(|| v.to_owned())
            }
            "ca-certificate" => {
                self.ca_certificate = (v != "none" && !v.is_empty()).then(|| v.to_owned());
            }
            "cipher" => {
                if v.contains(',') {
                    return Err("a client uses one cipher".into());
                }
                self.cipher = cipher(v)?;
            }
            "auth" => {
                if v.contains(',') {
                    return Err("a client uses one auth".into());
                }
                self.auth = digest(v)?;
            }
            "add-default-route" => self.add_default_route = yes_no(v)?,
            "route-nopull" => self.route_nopull = yes_no(v)?,
            "keepalive-timeout" => self.keepalive_timeout = keepalive(v)?,
            "max-mtu" => self.max_mtu = mtu(v)?,
            "tls-version" => self.tls_version = tls_version(v)?,
            "disabled" => self.disabled = yes_no(v)?,
            "verify-server-certificate" => self.verify_server_certificate = yes_no(v)?,
            "disconnect-notify" => self.disconnect_notify = yes_no(v)?,
            "ncp" => self.ncp = yes_no(v)?,
            "reneg-sec" => self.reneg = reneg(v)?,
            "use-peer-dns" => match v {
                "no" => {}
                "yes" | "exclusively" => {
                    note = Some(
                        "use-peer-dns: the DNS servers offered are logged, not applied".into(),
                    );
                }
                _ => return Err("expected yes, no or exclusively".into()),
            },
            "profile" if v == Profile::DEFAULT => {}
            "mac-address" | "comment" => note = Some(format!("{key} has no effect here")),
            _ if self.protection.set(key, v, false)? => {}
            _ => return Err(format!("unknown property {key:?}")),
        }
        if !matches!(key, "name" | "disabled") {
            self.values.insert(key.to_owned(), v.to_owned());
        }
        Ok(note)
    }

    /// The properties that were set, as `key=value` words for `/export` (name first, then as
    /// set; the password only when `show_sensitive`).
    pub fn export_words(&self, show_sensitive: bool) -> String {
        let mut words = vec![format!("name={}", crate::rsc::quote(&self.name))];
        for (k, v) in &self.values {
            if k == "password" && !show_sensitive {
                continue;
            }
            words.push(format!("{k}={}", crate::rsc::quote(v)));
        }
        words.push(format!(
            "disabled={}",
            if self.disabled { "yes" } else { "no" }
        ));
        words.join(" ")
    }

    /// The server's address: `connect-to` resolved, with `port`.
    pub fn server_address(&self) -> Result<SocketAddr, String> {
        if self.connect_to.is_empty() {
            return Err("connect-to is required".into());
        }
        let addrs: Vec<SocketAddr> = (self.connect_to.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("connect-to={}: {e}", self.connect_to))?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| format!("connect-to={}: no address", self.connect_to))
    }

    /// The session configuration, with the certificate, key and CA from the store.
    pub fn session_config(&self, store: &Store) -> Result<ClientConfig, Vec<String>> {
        let mut errors = Vec::new();
        let server = self.server_address().map_err(|e| errors.push(e)).ok();
        if self.user.is_empty() {
            errors.push("user is required (RouterOS always logs in with a PPP user)".into());
        }
        let verifier = match &self.ca_certificate {
            Some(ca) => store
                .peer_verifier_for_ca(ca, PeerRole::TlsServer)
                .map_err(|e| format!("ca-certificate={ca}: {e}")),
            None if store.trusted_cas().is_empty() => Err(
                "ca-certificate: none given and no trusted CA certificate imported; the server's certificate cannot be checked"
                    .into(),
            ),
            None => store
                .peer_verifier(PeerRole::TlsServer)
                .map_err(|e| format!("ca-certificate: {e}")),
        };
        let verifier = verifier.map_err(|e| errors.push(e)).ok();
        let identity = match &self.certificate {
            None => None,
            Some(name) => store
                .identity(name)
                .map(|(chain, key)| Identity { chain, key })
                .map_err(|e| errors.push(format!("certificate={name}: {e}")))
                .ok(),
        };
        let (Some(server), Some(verifier), true) = (server, verifier, errors.is_empty()) else {
            return Err(errors);
        };
        let check: Arc<dyn PeerCheck> = if self.verify_server_certificate {
            Arc::new(verifier.with_expected_name(self.connect_to.clone()))
        } else {
            Arc::new(verifier)
        };
        let mut c = ClientConfig::routeros(
            self.name.clone(),
            server,
            self.user.clone(),
            (*self.password).clone(),
            check,
        );
        c.transport = self.transport;
        c.mode = self.mode;
        c.cipher = self.cipher;
        c.auth = self.auth;
        c.negotiate = self.ncp;
        c.identity = identity;
        c.tls_version = self.tls_version;
        c.keepalive_timeout = self.keepalive_timeout;
        c.max_mtu = self.max_mtu;
        c.add_default_route = self.add_default_route;
        c.route_nopull = self.route_nopull;
        c.disconnect_notify = self.disconnect_notify;
        c.reneg = self.reneg;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_properties() {
        let mut s = ServerSettings::default();
        assert_eq!(s.transport, Transport::Tcp, "RouterOS's default");
        s.set("cipher", "aes256-gcm,aes256-cbc,aes256-gcm", 3)
            .unwrap();
        assert_eq!(s.ciphers, [Cipher::Aes256Gcm, Cipher::Aes256Cbc]);
        s.set("auth", "sha256,sha1", 3).unwrap();
        assert_eq!(s.auths, [Digest::Sha256, Digest::Sha1]);
        s.set("keepalive-timeout", "disabled", 4).unwrap();
        assert_eq!(s.keepalive_timeout, None);
        s.set("keepalive-timeout", "30", 5).unwrap();
        assert_eq!(s.keepalive_timeout, Some(Duration::from_secs(30)));
        assert_eq!(s.line("keepalive-timeout"), Some(5));
        s.set("redirect-gateway", "def1", 6).unwrap();
        assert!(s.redirect_gateway);
        assert!(s.require_user_password, "RouterOS always wants one");
        s.set("require-user-password", "no", 7).unwrap();
        assert!(!s.require_user_password);
        assert!(s.set("require-user-password", "maybe", 7).is_err());
        s.set("reneg-sec", "0", 6).unwrap();
        assert_eq!(s.reneg, None);
        // Ranges: what check accepts, run never panics on.
        for (k, v) in [
            ("keepalive-timeout", "18446744073709551615"),
            ("keepalive-timeout", "2147483648"),
            ("reneg-sec", "18446744073709551615"),
            ("reneg-sec", "2147483648"),
        ] {
            let e = s.set(k, v, 7).unwrap_err();
            assert!(e.contains("2147483647"), "{k}={v}: {e}");
        }
        s.set("keepalive-timeout", "2147483647", 7).unwrap();
        s.set("reneg-sec", "2147483647", 7).unwrap();
        assert!(
            s.set("cipher", "des", 1)
                .unwrap_err()
                .contains("unknown cipher")
        );
        assert!(s.set("port", "0", 1).is_err());
        s.set("mode", "ethernet", 1).unwrap();
        assert_eq!(s.mode, Mode::Ethernet);
        assert!(s.set("mode", "bridge", 1).is_err());
        assert!(
            s.set("colour", "blue", 1)
                .unwrap_err()
                .contains("unknown property")
        );
        assert!(
            s.set("mac-address", "02:00:00:00:00:01", 1)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn push_routes() {
        let r = push_route("192.168.1.0/24").unwrap();
        assert_eq!(r.dst, "192.168.1.0/24".parse::<IpNet>().unwrap());
        let r = push_route("10.1.2.3 255.255.0.0 10.8.0.1 5").unwrap();
        assert_eq!(r.dst, "10.1.0.0/16".parse::<IpNet>().unwrap());
        assert_eq!(r.gateway, Some(IpAddr::from([10, 8, 0, 1])));
        assert_eq!(r.metric, Some(5));
        assert!(push_route("10.0.0.0 255.0.255.0").is_err());
        assert!(push_route("nowhere").is_err());
        let mut s = ServerSettings::default();
        s.set(
            "push-routes",
            "192.168.1.0/24, 192.168.2.0 255.255.255.0",
            1,
        )
        .unwrap();
        assert_eq!(s.push_routes.len(), 2);
        assert_eq!(push_route("10.0.0.1").unwrap().dst.prefix_len(), 32);
    }

    /// RouterOS 7's IPv6 server properties, each checked.
    #[test]
    fn ipv6_inside_the_tunnel_properties() {
        let mut s = ServerSettings::default();
        s.set("enable-tun-ipv6", "yes", 1).unwrap();
        s.set("tun-server-ipv6", "fd00:8::1", 1).unwrap();
        s.set("ipv6-prefix-len", "64", 1).unwrap();
        s.set("push-routes-ipv6", "fd00:99::/64,fd00:98::/48", 1)
            .unwrap();
        s.set("redirect-gateway", "def1,ipv6", 1).unwrap();
        assert!(s.enable_tun_ipv6 && s.redirect_gateway && s.redirect_gateway_ipv6);
        assert_eq!(s.tun_server_ipv6, Some("fd00:8::1".parse().unwrap()));
        assert_eq!(s.push_routes_ipv6.len(), 2);
        for (k, v) in [
            ("tun-server-ipv6", "10.0.0.1"),
            ("ipv6-prefix-len", "129"),
            ("ipv6-prefix-len", "0"),
            ("push-routes-ipv6", "10.0.0.0/8"),
            ("enable-tun-ipv6", "maybe"),
        ] {
            assert!(s.set(k, v, 1).is_err(), "{k}={v}");
        }
        s.set("tun-server-ipv6", "::", 1).unwrap();
        assert_eq!(
            s.tun_server_ipv6, None,
            ":: is unset, as RouterOS prints it"
        );
    }

    /// `connect-to` takes an IPv6 address as well as a name (IPv4 preferred when a name has
    /// both).
    #[test]
    fn connect_to_an_ipv6_address() {
        let mut c = ClientSettings::new(1);
        c.set("connect-to", "fd00:5ea::1").unwrap();
        c.set("port", "1194").unwrap();
        assert_eq!(
            c.server_address().unwrap(),
            "[fd00:5ea::1]:1194".parse().unwrap()
        );
        c.set("connect-to", "127.0.0.1").unwrap();
        assert!(c.server_address().unwrap().is_ipv4());
    }

    #[test]
    fn client_properties() {
        let mut c = ClientSettings::new(1);
        c.set("cipher", "aes256-gcm").unwrap();
        assert_eq!(c.cipher, Cipher::Aes256Gcm);
        assert!(c.set("cipher", "aes256-gcm,aes256-cbc").is_err());
        assert!(c.set("name", "a-very-long-interface-name").is_err());
        c.set("connect-to", "127.0.0.1").unwrap();
        c.set("port", "1195").unwrap();
        assert_eq!(
            c.server_address().unwrap(),
            "127.0.0.1:1195".parse().unwrap()
        );
        c.set("ncp", "no").unwrap();
        assert!(!c.ncp);
    }
}
