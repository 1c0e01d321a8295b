//! OpenVPN client profiles (`.ovpn`) into our client: `ovpn-client run PROFILE.ovpn` runs one as
//! `openvpn --config` would. Every directive takes effect, is noted as having no effect here, or
//! is refused with its line; a security-relevant directive this client does not implement is an
//! error, never ignored.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

use ipnet::Ipv4Net;
use ovpn_crypto::{Cipher, Digest, KeyDirection, StaticKey};
use ovpn_pki::{ImportOptions, PeerRole, Store};
use ovpn_session::tls_config::Identity;
use ovpn_session::verify::PeerCheck;
use ovpn_session::{ClientConfig, ControlProtection, Framing, Mode, Transport};

use crate::script::{Failure, Problem};

/// A profile read: the session configuration, the routes it adds, and its notes.
#[derive(Debug)]
pub struct ClientProfileSetup {
    /// The session configuration (interface `ovpn-out1`).
    pub config: ClientConfig,
    /// `route` lines: installed through the tunnel once it is up.
    pub routes: Vec<Ipv4Net>,
    /// Directives without effect here, each with its line.
    pub warnings: Vec<Problem>,
    /// The certificates and keys it carried, as given (`ca`, `cert`, `key`, `pkcs12`), for a
    /// certificate store to import.
    pub credentials: Vec<(&'static str, Vec<u8>)>,
}

/// Credentials from outside the profile (`ovpn-client run --user --password-file`). The
/// password and the passphrase are zeroed on drop.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The user name and password, when given.
    pub user_pass: Option<(String, Zeroizing<String>)>,
    /// The passphrase of an encrypted key in the profile.
    pub key_passphrase: Zeroizing<String>,
}

#[derive(Default)]
struct Reader {
    remotes: Vec<(String, Option<u16>, Option<Transport>)>,
    port: u16,
    transport: Transport,
    mode: Mode,
    ca: Option<Vec<u8>>,
    cert: Option<Vec<u8>>,
    key: Option<Vec<u8>>,
    pkcs12: Option<Vec<u8>>,
    tls_auth: Option<(String, Option<KeyDirection>)>,
    tls_crypt: Option<String>,
    tls_crypt_v2: Option<String>,
    key_direction: Option<KeyDirection>,
    user_pass_file: Option<Option<String>>,
    cipher: Option<Cipher>,
    data_ciphers: Option<Vec<Cipher>>,
    auth: Option<Digest>,
    mtu: Option<u16>,
    keepalive: Option<Duration>,
    exit_notify: bool,
    route_nopull: bool,
    redirect_gateway: bool,
    routes: Vec<Ipv4Net>,
    compression: Framing,
    expected_name: Option<String>,
    reneg: Option<Option<Duration>>,
    remote_cert_tls: bool,
    remote_random: bool,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

/// Directives this client follows by its nature: it is a pulling TLS client, binds no fixed
/// port, keeps its keys and tunnel across restarts, retries name resolution, sends its
/// peer-info, and has Blowfish without OpenSSL's legacy provider.
const BEHAVES_SO: &[&str] = &[
    "client",
    "pull",
    "tls-client",
    "nobind",
    "persist-key",
    "persist-tun",
    "resolv-retry",
    "push-peer-info",
    "providers",
];

/// Directives that tune what this client does not have: accepted, each with a warning that it
/// has no effect here.
const NO_EFFECT: &[&str] = &[
    "verb",
    "mute",
    "mute-replay-warnings",
    "auth-nocache",
    "auth-retry",
    "float",
    "connect-retry",
    "connect-retry-max",
    "server-poll-timeout",
    "hand-window",
    "mssfix",
    "sndbuf",
    "rcvbuf",
    "txqueuelen",
    "fast-io",
    "allow-compression",
    "tun-mtu-extra",
    "link-mtu",
    "setenv",
    "ignore-unknown-option",
    "block-outside-dns",
    "dhcp-option",
    "register-dns",
    "route-method",
    "route-delay",
];

fn cipher_of(v: &str) -> Option<Cipher> {
    v.parse().ok()
}

impl Reader {
    fn err(&mut self, line: usize, m: impl Into<String>) {
        self.errors.push(Problem {
            line: Some(line),
            message: m.into(),
        });
    }

    fn warn(&mut self, line: usize, m: impl Into<String>) {
        self.warnings.push(Problem {
            line: Some(line),
            message: m.into(),
        });
    }

    fn directive(
        &mut self,
        line: usize,
        words: &[&str],
        inline: Option<&str>,
        read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    ) {
        let Some((&name, args)) = words.split_first() else {
            return;
        };
        let arg = |i: usize| args.get(i).copied();
        // A file argument, or the inline block (`[inline]` or none).
        let file_or_inline = |this: &mut Self| -> Option<Vec<u8>> {
            match (inline, arg(0)) {
                (Some(text), _) => Some(text.as_bytes().to_vec()),
                (None, Some(f)) if f != "[inline]" => match read(f) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        this.err(line, format!("{name} {f}: {e}"));
                        None
                    }
                },
                _ => {
                    this.err(
                        line,
                        format!("{name}: a file name or an inline <{name}> block"),
                    );
                    None
                }
            }
        };
        match name {
            n if BEHAVES_SO.contains(&n) => {}
            n if NO_EFFECT.contains(&n) => self.warn(line, format!("{n}: no effect here")),
            "ncp-disable" => self.warn(line, "ncp-disable: OpenVPN 2.6 refuses it; this client ignores it (its data-ciphers decide)"),
            "ns-cert-type" => self.warn(line, "ns-cert-type: the server's certificate is checked by its extended key usage (remote-cert-tls server) instead"),
            "dev" => match arg(0) {
                Some(d) if d.starts_with("tun") => self.mode = Mode::Ip,
                Some(d) if d.starts_with("tap") => self.mode = Mode::Ethernet,
                _ => self.err(line, "dev: expected tun or tap"),
            },
            "dev-type" => match arg(0) {
                Some("tun") => self.mode = Mode::Ip,
                Some("tap") => self.mode = Mode::Ethernet,
                _ => self.err(line, "dev-type: expected tun or tap"),
            },
            "proto" => match arg(0).map(proto) {
                Some(Some(t)) => self.transport = t,
                _ => self.err(line, "proto: expected udp, tcp, tcp-client, udp4, tcp4, udp6 or tcp6"),
            },
            "remote" => match arg(0) {
                Some(host) => {
                    let port = arg(1).and_then(|p| p.parse().ok());
                    let t = arg(2).and_then(proto);
                    self.remotes.push((host.to_owned(), port, t));
                }
                None => self.err(line, "remote: expected a host"),
            },
            "remote-random" => self.remote_random = true,
            "port" | "rport" => match arg(0).and_then(|p| p.parse().ok()) {
                Some(p) => self.port = p,
                None => self.err(line, format!("{name}: expected a port")),
            },
            "ca" => self.ca = file_or_inline(self),
            "cert" => self.cert = file_or_inline(self),
            "key" => self.key = file_or_inline(self),
            "pkcs12" => {
                self.pkcs12 = match (inline, arg(0)) {
                    // Inline PKCS#12 is base64 (OpenVPN's `<pkcs12>`).
                    (Some(text), _) => match base64_decode(text) {
                        Some(d) => Some(d),
                        None => {
                            self.err(line, "<pkcs12>: not base64");
                            None
                        }
                    },
                    _ => file_or_inline(self),
                }
            }
            "tls-auth" => {
                let dir = if inline.is_some() { arg(0) } else { arg(1) };
                let dir = match dir {
                    None => None,
                    Some("0") => Some(KeyDirection::Normal),
                    Some("1") => Some(KeyDirection::Inverse),
                    Some(_) => {
                        self.err(line, "tls-auth: the direction is 0 or 1");
                        None
                    }
                };
                if let Some(k) = file_or_inline(self) {
                    self.tls_auth = Some((String::from_utf8_lossy(&k).into_owned(), dir));
                }
            }
            "key-direction" => {
                self.key_direction = match arg(0) {
                    Some("0") => Some(KeyDirection::Normal),
                    Some("1") => Some(KeyDirection::Inverse),
                    _ => {
                        self.err(line, "key-direction: 0 or 1");
                        None
                    }
                }
            }
            "tls-crypt" => {
                if let Some(k) = file_or_inline(self) {
                    self.tls_crypt = Some(String::from_utf8_lossy(&k).into_owned());
                }
            }
            "tls-crypt-v2" => {
                if let Some(k) = file_or_inline(self) {
                    self.tls_crypt_v2 = Some(String::from_utf8_lossy(&k).into_owned());
                }
            }
            "auth-user-pass" => self.user_pass_file = Some(match inline {
                Some(text) => Some(text.to_owned()),
                None => arg(0).map(str::to_owned),
            }),
            "remote-cert-tls" => match arg(0) {
                Some("server") => self.remote_cert_tls = true,
                _ => self.err(line, "remote-cert-tls: only `server` makes sense for a client"),
            },
            "verify-x509-name" => match (arg(0), arg(1).unwrap_or("subject")) {
                (Some(n), "name") => self.expected_name = Some(n.to_owned()),
                (Some(_), t) => self.err(line, format!("verify-x509-name ... {t}: only the `name` type (the common name) is implemented; refusing rather than not checking")),
                (None, _) => self.err(line, "verify-x509-name: expected a name"),
            },
            "cipher" | "data-ciphers-fallback" => match arg(0).and_then(cipher_of) {
                Some(c) => {
                    if name == "cipher" || self.cipher.is_none() {
                        self.cipher = Some(c);
                    }
                }
                None => self.err(line, format!("{name}: unknown cipher")),
            },
            "data-ciphers" | "ncp-ciphers" => {
                let list: Option<Vec<Cipher>> =
                    arg(0).map(|l| l.split(':').filter_map(cipher_of).collect());
                match list {
                    Some(l) if !l.is_empty() => self.data_ciphers = Some(l),
                    _ => self.err(line, format!("{name}: no cipher this client knows")),
                }
            }
            "auth" => match arg(0).and_then(|a| a.parse().ok()) {
                Some(d) => self.auth = Some(d),
                None => self.err(line, "auth: unknown digest"),
            },
            "tls-version-min" => match arg(0) {
                Some("1.2") => {}
                Some("1.3") => self.err(line, "tls-version-min 1.3: not implemented (TLS 1.2 would be allowed); refusing rather than weakening"),
                _ => self.err(line, "tls-version-min: 1.2 or 1.3"),
            },
            "tun-mtu" => match arg(0).and_then(|m| m.parse().ok()) {
                Some(m) => self.mtu = Some(m),
                None => self.err(line, "tun-mtu: expected a number"),
            },
            "keepalive" => match arg(1).and_then(|t| t.parse().ok()) {
                Some(t) => self.keepalive = Some(Duration::from_secs(t)),
                None => self.err(line, "keepalive: expected INTERVAL TIMEOUT"),
            },
            "ping" | "ping-restart" => {
                self.warn(line, format!("{name}: the server's pushed keepalive applies"))
            }
            "explicit-exit-notify" => self.exit_notify = true,
            "route-nopull" => self.route_nopull = true,
            "redirect-gateway" => self.redirect_gateway = true,
            "route" => match (arg(0), arg(1)) {
                (Some(net), mask) => {
                    let r = match mask {
                        Some(m) => format!("{net}/{m}"),
                        None => format!("{net}/32"),
                    };
                    let parsed = r
                        .parse::<Ipv4Net>()
                        .ok()
                        .or_else(|| {
                            let (n, m) = (net.parse().ok()?, mask?.parse().ok()?);
                            Ipv4Net::with_netmask(n, m).ok()
                        });
                    match parsed {
                        Some(n) => self.routes.push(n.trunc()),
                        None => self.err(line, "route: expected NETWORK [NETMASK]"),
                    }
                }
                _ => self.err(line, "route: expected NETWORK [NETMASK]"),
            },
            "pull-filter" => self.warn(line, "pull-filter: not applied (every pushed option is considered)"),
            "reneg-sec" => match arg(0).and_then(|s| s.parse::<u64>().ok()) {
                Some(0) => self.reneg = Some(None),
                Some(s) => self.reneg = Some(Some(Duration::from_secs(s))),
                None => self.err(line, "reneg-sec: expected seconds"),
            },
            "comp-lzo" | "compress" => {
                let text = words.join(" ");
                let real = match name {
                    "comp-lzo" => arg(0) != Some("no"),
                    _ => !matches!(arg(0), None | Some("stub" | "stub-v2")),
                };
                if real {
                    self.err(line, format!("{text}: asks for real compression, which this client does not do (use comp-lzo no, compress or compress stub-v2)"));
                } else if let Some(f) = Framing::from_option(&text) {
                    self.compression = f;
                }
            }
            "up" | "down" | "route-up" | "script-security" | "auth-user-pass-verify" | "plugin" => {
                self.warn(line, format!("{name}: scripts and plugins are not run"))
            }
            _ => self.warn(line, format!("{name}: unknown directive, no effect here")),
        }
    }
}

/// `remote-random`: the remotes in a random order (Fisher-Yates, from the system's generator).
fn shuffle<T>(items: &mut [T]) {
    use ovpn_session::random::Random as _;
    for i in (1..items.len()).rev() {
        let mut b = [0u8; 8];
        ovpn_session::random::SystemRandom.fill(&mut b);
        let j = (u64::from_le_bytes(b) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn proto(p: &str) -> Option<Transport> {
    match p {
        "udp" | "udp4" | "udp6" => Some(Transport::Udp),
        "tcp" | "tcp-client" | "tcp4" | "tcp4-client" | "tcp6" | "tcp6-client" => {
            Some(Transport::Tcp)
        }
        _ => None,
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64ct::Encoding as _;
    let compact: String = text.split_whitespace().collect();
    base64ct::Base64::decode_vec(&compact).ok()
}

/// A way to turn a `remote` host and port into an address.
pub type Resolve<'a> = &'a dyn Fn(&str, u16) -> Option<SocketAddr>;

/// The system's resolver (DNS for host names).
pub fn system_resolve(host: &str, port: u16) -> Option<SocketAddr> {
    (host, port).to_socket_addrs().ok()?.next()
}

/// Address literals only (no lookup leaves the host): for tests and fuzzing.
pub fn literal_resolve(host: &str, port: u16) -> Option<SocketAddr> {
    host.parse().ok().map(|ip| SocketAddr::new(ip, port))
}

/// Reads `text` (a client profile; `dir` is where its relative file names are) with the
/// credentials given outside it, resolving its `remote` with the system's resolver. Every
/// problem is reported, each with its line.
pub fn read_profile(
    text: &str,
    dir: &Path,
    creds: &Credentials,
) -> Result<ClientProfileSetup, Failure> {
    read_profile_with(text, dir, creds, &system_resolve)
}

/// [`read_profile`] with another resolver.
pub fn read_profile_with(
    text: &str,
    dir: &Path,
    creds: &Credentials,
    resolve: Resolve<'_>,
) -> Result<ClientProfileSetup, Failure> {
    let read = |f: &str| -> Result<Vec<u8>, String> {
        let p = Path::new(f);
        let p = if p.is_absolute() {
            p.to_owned()
        } else {
            dir.join(p)
        };
        std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut r = Reader {
        port: 1194,
        ..Reader::default()
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    while let Some((n, raw)) = lines.next() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(tag) = l.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
            let end = format!("</{tag}>");
            let mut body = String::new();
            let mut closed = false;
            for (_, inner) in lines.by_ref() {
                if inner.trim() == end {
                    closed = true;
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            if !closed {
                r.err(n, format!("<{tag}> is not closed"));
                break;
            }
            r.directive(n, &[tag], Some(&body), &read);
            continue;
        }
        let words: Vec<&str> = l.trim_start_matches("--").split_whitespace().collect();
        r.directive(n, &words, None, &read);
    }
    finish(r, creds, &read, resolve)
}

fn finish(
    mut r: Reader,
    creds: &Credentials,
    read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    resolve: Resolve<'_>,
) -> Result<ClientProfileSetup, Failure> {
    let whole = |m: String| Problem {
        line: None,
        message: m,
    };
    if !r.remote_cert_tls {
        r.warnings.push(whole(
            "no remote-cert-tls server: the server's certificate is checked for it anyway".into(),
        ));
    }

    // The certificates and keys, through the CA store (any format it reads).
    let mut store = Store::new();
    let opts = ImportOptions {
        passphrase: &creds.key_passphrase,
        ..ImportOptions::default()
    };
    let mut client_name = None;
    for (what, data) in [
        ("ca", &r.ca),
        ("cert", &r.cert),
        ("key", &r.key),
        ("pkcs12", &r.pkcs12),
    ] {
        let Some(data) = data else { continue };
        match store.import(&format!("{what}.pem"), data, &opts) {
            Ok(sum) => {
                if what != "ca" {
                    client_name = client_name.or(sum.names.first().cloned());
                }
            }
            Err(e) => r.errors.push(whole(format!("{what}: {e}"))),
        }
    }
    if store.trusted_cas().is_empty() {
        r.errors.push(whole(
            "no CA (`ca` or a pkcs12 with its CA): the server cannot be checked".into(),
        ));
    }
    let identity = client_name
        .or_else(|| {
            store
                .certificates()
                .find(|c| c.has_private_key())
                .map(|c| c.name().to_owned())
        })
        .and_then(|n| store.identity(&n).ok())
        .map(|(chain, key)| Identity { chain, key });
    let check: Option<Arc<dyn PeerCheck>> = match store.peer_verifier(PeerRole::TlsServer) {
        Ok(v) => Some(match r.expected_name.clone() {
            Some(n) => Arc::new(v.with_expected_name(n)),
            None => Arc::new(v),
        }),
        Err(e) => {
            r.errors.push(whole(format!("ca: {e}")));
            None
        }
    };
    let (user, password) = match (&r.user_pass_file, &creds.user_pass) {
        (_, Some((u, p))) => (u.clone(), p.clone()),
        (Some(Some(f)), None) => {
            let text = if f.contains('\n') {
                Ok(f.clone().into_bytes())
            } else {
                read(f)
            };
            match text {
                Ok(t) => {
                    let t = Zeroizing::new(String::from_utf8_lossy(&t).into_owned());
                    let mut l = t.lines();
                    (
                        l.next().unwrap_or_default().to_owned(),
                        Zeroizing::new(l.next().unwrap_or_default().to_owned()),
                    )
                }
                Err(e) => {
                    r.errors.push(whole(format!("auth-user-pass: {e}")));
                    Default::default()
                }
            }
        }
        (Some(None), None) => {
            r.errors.push(whole(
                "auth-user-pass without a file: give the user name and password (--auth-user-pass FILE, or ovpn-user= and ovpn-password= of import-ovpn-configuration)".into(),
            ));
            Default::default()
        }
        (None, None) => Default::default(),
    };
    if r.key_direction.is_some() && r.tls_auth.is_none() {
        r.warnings.push(whole(
            "key-direction: no effect here without tls-auth (tls-crypt has no direction)".into(),
        ));
    }
    let given = [
        r.tls_auth.is_some(),
        r.tls_crypt.is_some(),
        r.tls_crypt_v2.is_some(),
    ];
    let protection = match (&r.tls_auth, &r.tls_crypt) {
        _ if given.iter().filter(|g| **g).count() > 1 => {
            r.errors.push(whole(
                "more than one of tls-auth, tls-crypt and tls-crypt-v2".into(),
            ));
            ControlProtection::None
        }
        (None, None) if r.tls_crypt_v2.is_some() => {
            match ovpn_crypto::TlsCryptV2ClientKey::parse(r.tls_crypt_v2.as_deref().unwrap_or("")) {
                Ok(key) => ControlProtection::TlsCryptV2 { key },
                Err(e) => {
                    r.errors.push(whole(format!("tls-crypt-v2: {e}")));
                    ControlProtection::None
                }
            }
        }
        (Some(_), Some(_)) => ControlProtection::None,
        (Some((key, dir)), None) => match StaticKey::parse(key) {
            Ok(key) => ControlProtection::TlsAuth {
                key,
                direction: dir
                    .or(r.key_direction)
                    .unwrap_or(KeyDirection::Bidirectional),
                digest: r.auth.unwrap_or(Digest::Sha1),
            },
            Err(e) => {
                r.errors.push(whole(format!("tls-auth: {e}")));
                ControlProtection::None
            }
        },
        (None, Some(key)) => match StaticKey::parse(key) {
            Ok(key) => ControlProtection::TlsCrypt { key },
            Err(e) => {
                r.errors.push(whole(format!("tls-crypt: {e}")));
                ControlProtection::None
            }
        },
        (None, None) => ControlProtection::None,
    };
    // The remotes in order, each tried after the one before gets no tunnel up. One that does
    // not resolve is skipped with a warning; none at all is an error.
    if let Some(t) = r.remotes.first().and_then(|(_, _, t)| *t) {
        r.transport = t;
    }
    let mut servers = Vec::new();
    for (host, port, t) in r.remotes.clone() {
        if t.is_some_and(|t| t != r.transport) {
            r.warnings.push(whole(format!(
                "remote {host}: its protocol differs from the first remote's; skipped"
            )));
            continue;
        }
        match resolve(&host, port.unwrap_or(r.port)) {
            Some(a) => servers.push(a),
            None => r
                .warnings
                .push(whole(format!("remote {host}: cannot resolve it; skipped"))),
        }
    }
    if r.remotes.is_empty() {
        r.errors.push(whole("no remote".into()));
    } else if servers.is_empty() {
        r.errors.push(whole("no remote resolves".into()));
    }
    if r.remote_random {
        shuffle(&mut servers);
    }
    let server = servers.first().copied();
    let (Some(server), Some(check), true) = (server, check, r.errors.is_empty()) else {
        return Err(Failure {
            errors: r.errors,
            warnings: r.warnings,
        });
    };
    let server: SocketAddr = server;
    let mut c = ClientConfig::new("ovpn-out1", server, user, password.as_str(), check);
    c.transport = r.transport;
    c.mode = r.mode;
    c.identity = identity;
    c.protection = protection;
    c.cipher = r
        .cipher
        .or_else(|| r.data_ciphers.as_ref().and_then(|l| l.first().copied()))
        .unwrap_or(Cipher::Aes256Gcm);
    c.data_ciphers = r.data_ciphers;
    c.fallback_servers = servers.into_iter().skip(1).collect();
    if let Some(a) = r.auth {
        c.auth = a;
    }
    if let Some(m) = r.mtu {
        c.max_mtu = m;
    }
    if r.keepalive.is_some() {
        c.keepalive_timeout = r.keepalive;
    }
    c.disconnect_notify = r.exit_notify || c.transport == Transport::Tcp;
    c.route_nopull = r.route_nopull;
    c.add_default_route = r.redirect_gateway;
    c.compression = r.compression;
    if let Some(reneg) = r.reneg {
        c.reneg = reneg;
    }
    let credentials = [
        ("ca", r.ca),
        ("cert", r.cert),
        ("key", r.key),
        ("pkcs12", r.pkcs12),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    Ok(ClientProfileSetup {
        config: c,
        routes: r.routes,
        warnings: r.warnings,
        credentials,
    })
}
