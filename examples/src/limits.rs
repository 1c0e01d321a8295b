//! The server's bounds on new clients, as properties of `/interface ovpn-server server` (OpenVPN's
//! `max-clients`, `connect-freq-initial` and `connect-freq`, and our own per-source and TCP
//! bounds; RouterOS has none of them):
//!
//! - `max-clients=1024`: sessions at once, in their handshake or logged in;
//! - `connect-freq-initial=100/10s`: session starts answered (UDP), over all sources, and
//!   `connect-reply-share=90`: beyond it, answers while their bytes stay within that percentage
//!   of what the starts brought (0: as OpenVPN 2.6);
//! - `connect-freq=unlimited`, `connect-freq-per-source=unlimited`: sessions made, over all
//!   sources and per source address;
//! - `max-handshakes-per-source=32`: sessions in their handshake from one address;
//! - `tcp-first-packet-timeout=10s`, `tcp-partial-frame-timeout=30s`,
//!   `max-connections-per-source=32`, `max-connections` (as `max-clients` unless set): TCP
//!   connections.
//!
//! A rate is `COUNT/DURATION` (a RouterOS duration: `10s`, `1m`) or `unlimited`.

use std::time::Duration;

use ovpn_session::{RateLimit, ServerConfig, TcpLimits, Transport};

/// The limit properties, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `max-clients`.
    pub max_clients: usize,
    /// `connect-freq-initial`.
    pub connect_freq_initial: Option<RateLimit>,
    /// `connect-reply-share` (percent).
    pub connect_reply_share: u8,
    /// `connect-freq`.
    pub connect_freq: Option<RateLimit>,
    /// `connect-freq-per-source`.
    pub connect_freq_per_source: Option<RateLimit>,
    /// `max-handshakes-per-source`.
    pub max_handshakes_per_source: Option<usize>,
    /// `tcp-first-packet-timeout`, `tcp-partial-frame-timeout`, `max-connections-per-source`,
    /// `max-connections`.
    pub tcp: TcpLimits,
    /// Whether `max-connections` was set; if not, it follows `max-clients`.
    pub max_connections_set: bool,
}

impl Default for Limits {
    /// The library's defaults ([`ServerConfig::new`]).
    fn default() -> Self {
        Self {
            max_clients: 1024,
            connect_freq_initial: Some(RateLimit::new(100, Duration::from_secs(10))),
            connect_reply_share: 90,
            connect_freq: None,
            connect_freq_per_source: None,
            max_handshakes_per_source: Some(32),
            tcp: TcpLimits::default(),
            max_connections_set: false,
        }
    }
}

/// The most of anything counted here (sessions, connections): the peer-id space is 24 bits.
const MAX_COUNT: usize = 0x00ff_ffff;

fn count(v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .ok_or_else(|| format!("expected 1..{MAX_COUNT}"))
}

fn count_or_unlimited(v: &str) -> Result<Option<usize>, String> {
    if v == "unlimited" {
        return Ok(None);
    }
    count(v).map(Some).map_err(|e| format!("{e} or unlimited"))
}

/// `COUNT/DURATION` or `unlimited`.
pub fn rate(v: &str) -> Result<Option<RateLimit>, String> {
    if v == "unlimited" {
        return Ok(None);
    }
    let bad = || "expected COUNT/DURATION (such as 100/10s) or unlimited".to_owned();
    let (n, per) = v.split_once('/').ok_or_else(bad)?;
    let n: u32 = n.parse().map_err(|_| bad())?;
    let per = ovpn_rsc::parse_duration(per)
        .filter(|d| !d.is_zero() && d.as_secs() <= u64::from(u32::MAX))
        .ok_or_else(bad)?;
    Ok(Some(RateLimit::new(n, per)))
}

fn timeout(v: &str) -> Result<Duration, String> {
    ovpn_rsc::parse_duration(v)
        .filter(|d| (1..=86_400).contains(&d.as_secs()))
        .ok_or_else(|| "expected a duration from 1s to 1d".into())
}

impl Limits {
    /// Applies one property; `Ok(false)` when `key` is not one of them.
    pub fn set(&mut self, key: &str, v: &str) -> Result<bool, String> {
        match key {
            "max-clients" => self.max_clients = count(v)?,
            "connect-freq-initial" => self.connect_freq_initial = rate(v)?,
            "connect-reply-share" => {
                self.connect_reply_share = v
                    .trim_end_matches('%')
                    .parse()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or("expected a percentage 0..100")?;
            }
            "connect-freq" => self.connect_freq = rate(v)?,
            "connect-freq-per-source" => self.connect_freq_per_source = rate(v)?,
            "max-handshakes-per-source" => {
                self.max_handshakes_per_source = count_or_unlimited(v)?;
            }
            "tcp-first-packet-timeout" => self.tcp.first_packet = timeout(v)?,
            "tcp-partial-frame-timeout" => self.tcp.partial_frame = timeout(v)?,
            "max-connections-per-source" => self.tcp.max_per_source = count(v)?,
            "max-connections" => {
                self.tcp.max_total = count(v)?;
                self.max_connections_set = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The properties among these that have no effect on a server over `transport`, with why
    /// (the script warns about those it set).
    pub fn without_effect(&self, transport: Transport) -> Vec<(&'static str, &'static str)> {
        const UDP_ONLY: &str = "only UDP session starts are answered statelessly; protocol=tcp";
        const TCP_ONLY: &str = "it bounds TCP connections; protocol=udp";
        let mut out = match transport {
            Transport::Tcp => vec![
                ("connect-freq-initial", UDP_ONLY),
                ("connect-reply-share", UDP_ONLY),
            ],
            Transport::Udp => vec![
                ("tcp-first-packet-timeout", TCP_ONLY),
                ("tcp-partial-frame-timeout", TCP_ONLY),
                ("max-connections-per-source", TCP_ONLY),
                ("max-connections", TCP_ONLY),
            ],
        };
        if transport == Transport::Udp && self.connect_freq_initial.is_none() {
            out.push((
                "connect-reply-share",
                "it applies beyond connect-freq-initial, which is unlimited",
            ));
        }
        out
    }

    /// Puts them into a session configuration.
    pub fn apply(&self, c: &mut ServerConfig) {
        c.max_clients = self.max_clients;
        c.connect_freq_initial = self.connect_freq_initial;
        c.connect_reply_share = self.connect_reply_share;
        c.connect_freq = self.connect_freq;
        c.connect_freq_per_source = self.connect_freq_per_source;
        c.max_handshakes_per_source = self.max_handshakes_per_source;
        c.tcp_limits = self.tcp;
        if !self.max_connections_set {
            c.tcp_limits.max_total = self.max_clients;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library_config() -> ServerConfig {
        ServerConfig::new(ovpn_session::tls_config::Identity {
            chain: Vec::new(),
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(Vec::new().into()),
        })
    }

    #[test]
    fn the_defaults_are_the_librarys() {
        let (mut ours, lib) = (library_config(), library_config());
        Limits::default().apply(&mut ours);
        assert_eq!(ours.max_clients, lib.max_clients);
        assert_eq!(ours.connect_freq_initial, lib.connect_freq_initial);
        assert_eq!(ours.connect_reply_share, lib.connect_reply_share);
        assert_eq!(ours.connect_freq, lib.connect_freq);
        assert_eq!(ours.connect_freq_per_source, lib.connect_freq_per_source);
        assert_eq!(
            ours.max_handshakes_per_source,
            lib.max_handshakes_per_source
        );
        assert_eq!(ours.tcp_limits, lib.tcp_limits);
    }

    #[test]
    fn properties_for_the_other_transport_are_named_as_without_effect() {
        let mut l = Limits::default();
        let udp: Vec<&str> = l
            .without_effect(Transport::Udp)
            .iter()
            .map(|p| p.0)
            .collect();
        assert!(udp.contains(&"max-connections") && !udp.contains(&"connect-reply-share"));
        let tcp: Vec<&str> = l
            .without_effect(Transport::Tcp)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(tcp, ["connect-freq-initial", "connect-reply-share"]);
        l.set("connect-freq-initial", "unlimited").unwrap();
        let udp: Vec<&str> = l
            .without_effect(Transport::Udp)
            .iter()
            .map(|p| p.0)
            .collect();
        assert!(udp.contains(&"connect-reply-share"));
    }

    #[test]
    fn every_property_takes_effect_or_is_refused_with_what_was_expected() {
        let mut l = Limits::default();
        assert_eq!(l.max_clients, 1024);
        assert_eq!(
            l.connect_freq_initial,
            Some(RateLimit::new(100, Duration::from_secs(10)))
        );
        for (k, v) in [
            ("max-clients", "5"),
            ("connect-freq-initial", "20/1m"),
            ("connect-reply-share", "0"),
            ("connect-freq", "10/1s"),
            ("connect-freq-per-source", "3/10s"),
            ("max-handshakes-per-source", "unlimited"),
            ("tcp-first-packet-timeout", "5s"),
            ("tcp-partial-frame-timeout", "1m"),
            ("max-connections-per-source", "4"),
            ("max-connections", "100"),
        ] {
            assert_eq!(l.set(k, v), Ok(true), "{k}={v}");
        }
        let mut c = library_config();
        l.apply(&mut c);
        assert_eq!(c.max_clients, 5);
        assert_eq!(
            c.connect_freq_initial,
            Some(RateLimit::new(20, Duration::from_secs(60)))
        );
        assert_eq!(
            c.connect_freq,
            Some(RateLimit::new(10, Duration::from_secs(1)))
        );
        assert_eq!(
            c.connect_freq_per_source,
            Some(RateLimit::new(3, Duration::from_secs(10)))
        );
        assert_eq!(c.max_handshakes_per_source, None);
        assert_eq!(c.tcp_limits.first_packet, Duration::from_secs(5));
        assert_eq!(c.tcp_limits.partial_frame, Duration::from_secs(60));
        assert_eq!(c.tcp_limits.max_per_source, 4);
        assert_eq!(c.tcp_limits.max_total, 100);
        let mut only_clients = Limits::default();
        only_clients.set("max-clients", "3000").unwrap();
        only_clients.apply(&mut c);
        assert_eq!(
            c.tcp_limits.max_total, 3000,
            "max-connections follows max-clients"
        );
        assert_eq!(l.set("connect-freq-initial", "unlimited"), Ok(true));
        assert_eq!(l.connect_freq_initial, None);
        for (k, v) in [
            ("max-clients", "0"),
            ("max-clients", "many"),
            ("connect-freq", "10"),
            ("connect-freq", "x/10s"),
            ("connect-freq", "10/0s"),
            ("connect-freq-initial", "10/forever"),
            ("connect-reply-share", "101"),
            ("tcp-first-packet-timeout", "0s"),
            ("max-connections", "16777216"),
        ] {
            assert!(l.set(k, v).is_err(), "{k}={v}");
        }
        assert_eq!(l.set("mtu", "1"), Ok(false));
    }
}
